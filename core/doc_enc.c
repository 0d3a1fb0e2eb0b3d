/*
 * doc_enc.c - the compact binary encoding of a document tree, used as the
 * body of store records.
 *
 * Layout: one version byte (DOC_ENC_VERSION), then the root node.  A node
 * is a type tag byte followed by:
 *   null            nothing
 *   bool            one byte, 0 or 1
 *   int             the value as a zigzag LEB128 varint
 *   float, string,
 *   sealed          varint byte length, then the bytes
 *   list            varint count, then that many nodes
 *   map             varint count, then per pair a varint key length, the
 *                   key bytes (no NUL) and the value node
 * Source positions and flags are not encoded.  The decoder trusts nothing:
 * every length and count is checked against the bytes left (each node
 * takes at least one byte, so a count cannot exceed what remains), depth
 * is capped at DOC_DEPTH_MAX, duplicate map keys are refused, and any
 * violation is -EBADMSG.
 */
#include "doc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- encoding ---- */

static int put_bytes(struct buf *out, const char *p, size_t n)
{
	int rc = buf_addvarint(out, n);

	return rc < 0 ? rc : buf_add(out, p, n);
}

static int encode_node(const struct doc *d, struct buf *out, int depth);

static int encode_children(const struct doc *d, struct buf *out, int depth)
{
	size_t k;
	int rc = buf_addvarint(out, d->n);

	for (k = 0; rc == 0 && k < d->n; k++) {
		if (d->type == DOC_LIST) {
			rc = encode_node(d->u.items[k], out, depth + 1);
			continue;
		}
		rc = put_bytes(out, d->u.kv[k].key, strlen(d->u.kv[k].key));
		if (rc == 0)
			rc = encode_node(d->u.kv[k].val, out, depth + 1);
	}
	return rc;
}

static int encode_node(const struct doc *d, struct buf *out, int depth)
{
	uint64_t z;
	int rc;

	if (!d || (unsigned)d->type > DOC_MAP)
		return -EINVAL;
	if ((d->type == DOC_LIST || d->type == DOC_MAP) &&
	    depth >= DOC_DEPTH_MAX)
		return -EINVAL;
	rc = buf_addc(out, (char)d->type);
	if (rc < 0)
		return rc;
	switch (d->type) {
	case DOC_NULL:
		return 0;
	case DOC_BOOL:
		return buf_addc(out, d->i ? 1 : 0);
	case DOC_INT:
		z = ((uint64_t)d->i << 1) ^ (uint64_t)(d->i < 0 ? -1 : 0);
		return buf_addvarint(out, z);
	case DOC_LIST:
	case DOC_MAP:
		return encode_children(d, out, depth);
	default:
		return put_bytes(out, d->u.s, d->n);
	}
}

/*
 * doc_encode() also fails with -EINVAL for a malformed tree (unknown type)
 * or one nested deeper than DOC_DEPTH_MAX, which could not be decoded.
 * On failure @out may hold a partial encoding past its old length; it is
 * truncated back.
 */
int doc_encode(const struct doc *d, struct buf *out)
{
	size_t start = out->len;
	int rc = buf_addc(out, DOC_ENC_VERSION);

	if (rc == 0)
		rc = encode_node(d, out, 0);
	if (rc < 0)
		buf_truncate(out, start);
	return rc;
}

static int encode_pairs(const char *const *keys,
			const struct doc *const *vals, size_t n,
			struct buf *out)
{
	size_t k;
	int rc = buf_addc(out, (char)DOC_MAP);

	if (rc == 0)
		rc = buf_addvarint(out, n);
	for (k = 0; rc == 0 && k < n; k++) {
		rc = put_bytes(out, keys[k], strlen(keys[k]));
		if (rc == 0)
			rc = encode_node(vals[k], out, 1);
	}
	return rc;
}

int doc_encode_map(const char *const *keys, const struct doc *const *vals,
		   size_t n, struct buf *out)
{
	size_t start = out->len;
	int rc = buf_addc(out, DOC_ENC_VERSION);

	if (rc == 0)
		rc = encode_pairs(keys, vals, n, out);
	if (rc < 0)
		buf_truncate(out, start);
	return rc;
}

/* ---- decoding ---- */

struct rd {
	const unsigned char *p;
	size_t n;   /* total */
	size_t pos; /* next byte */
};

static int get_byte(struct rd *r, unsigned char *c)
{
	if (r->pos >= r->n)
		return -EBADMSG;
	*c = r->p[r->pos++];
	return 0;
}

static int get_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	unsigned char c;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 7) {
		if (get_byte(r, &c) < 0)
			return -EBADMSG;
		/* The tenth byte may only carry the top bit of 64. */
		if (shift == 63 && c > 1)
			return -EBADMSG;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EBADMSG;
}

/* A length or count that must fit in what is left, each unit @unit bytes. */
static int get_len(struct rd *r, size_t unit, size_t *len)
{
	uint64_t v;

	if (get_varint(r, &v) < 0 || v > (r->n - r->pos) / unit)
		return -EBADMSG;
	*len = (size_t)v;
	return 0;
}

static int decode_node(struct rd *r, int depth, struct doc **out);

static int decode_scalar(struct rd *r, enum doc_type t, struct doc **out)
{
	const char *s;
	struct doc *d;
	size_t len;

	if (get_len(r, 1, &len) < 0)
		return -EBADMSG;
	s = (const char *)r->p + r->pos;
	/* Float text is used as a C string; an embedded NUL is corruption. */
	if (t == DOC_FLOAT && (len == 0 || memchr(s, 0, len)))
		return -EBADMSG;
	r->pos += len;
	d = t == DOC_SEALED ? doc_sealed(s, len) : doc_str(s, len);
	if (!d)
		return -ENOMEM;
	d->type = t;
	*out = d;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Maps decoded from untrusted bytes must still have unique keys; large
 * maps are checked by sorting so the check stays O(n log n). */
static int check_unique(const struct doc *m)
{
	char **keys;
	size_t k, j;
	int rc = 0;

	if (m->n < 2)
		return 0;
	if (m->n <= 8) {
		for (k = 1; k < m->n; k++)
			for (j = 0; j < k; j++)
				if (!strcmp(m->u.kv[j].key, m->u.kv[k].key))
					return -EBADMSG;
		return 0;
	}
	keys = malloc(m->n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (k = 0; k < m->n; k++)
		keys[k] = m->u.kv[k].key;
	qsort(keys, m->n, sizeof(*keys), key_cmp);
	for (k = 1; k < m->n && rc == 0; k++)
		if (strcmp(keys[k - 1], keys[k]) == 0)
			rc = -EBADMSG;
	free(keys);
	return rc;
}

static int decode_pair(struct rd *r, int depth, struct doc *m)
{
	struct doc *v = NULL;
	const char *k;
	char *key;
	size_t len;
	int rc;

	if (get_len(r, 1, &len) < 0)
		return -EBADMSG;
	k = (const char *)r->p + r->pos;
	if (memchr(k, 0, len))
		return -EBADMSG;
	r->pos += len;
	rc = decode_node(r, depth + 1, &v);
	if (rc < 0)
		return rc;
	key = malloc(len + 1);
	if (!key) {
		doc_free(v);
		return -ENOMEM;
	}
	memcpy(key, k, len);
	key[len] = '\0';
	/* Appending directly keeps decoding linear; uniqueness is checked
	 * once the whole map is read. */
	m->u.kv[m->n].key = key;
	m->u.kv[m->n].val = v;
	m->n++;
	return 0;
}

static int decode_container(struct rd *r, enum doc_type t, int depth,
			    struct doc **out)
{
	struct doc *c = NULL, *v;
	void *arr;
	size_t count, k, unit = t == DOC_MAP ? 2 : 1;
	int rc;

	if (depth >= DOC_DEPTH_MAX || get_len(r, unit, &count) < 0)
		return -EBADMSG;
	c = doc_new(t);
	if (!c)
		return -ENOMEM;
	/* count <= bytes left, so this allocation is bounded by the input. */
	if (count) {
		arr = calloc(count, t == DOC_MAP ? sizeof(struct doc_kv)
						 : sizeof(struct doc *));
		if (!arr) {
			rc = -ENOMEM;
			goto out;
		}
		if (t == DOC_MAP)
			c->u.kv = arr;
		else
			c->u.items = arr;
		c->alloc = count;
	}
	for (k = 0; k < count; k++) {
		if (t == DOC_MAP) {
			rc = decode_pair(r, depth, c);
		} else {
			rc = decode_node(r, depth + 1, &v);
			if (rc == 0)
				c->u.items[c->n++] = v;
		}
		if (rc < 0)
			goto out;
	}
	rc = t == DOC_MAP ? check_unique(c) : 0;
out:
	if (rc < 0)
		doc_free(c);
	else
		*out = c;
	return rc;
}

static int decode_node(struct rd *r, int depth, struct doc **out)
{
	unsigned char tag, b;
	uint64_t z;

	if (get_byte(r, &tag) < 0)
		return -EBADMSG;
	switch (tag) {
	case DOC_NULL:
		*out = doc_new(DOC_NULL);
		break;
	case DOC_BOOL:
		if (get_byte(r, &b) < 0 || b > 1)
			return -EBADMSG;
		*out = doc_bool(b);
		break;
	case DOC_INT:
		if (get_varint(r, &z) < 0)
			return -EBADMSG;
		*out = doc_int((int64_t)(z >> 1) ^ -(int64_t)(z & 1));
		break;
	case DOC_FLOAT:
	case DOC_STR:
	case DOC_SEALED:
		return decode_scalar(r, (enum doc_type)tag, out);
	case DOC_LIST:
	case DOC_MAP:
		return decode_container(r, (enum doc_type)tag, depth, out);
	default:
		return -EBADMSG;
	}
	return *out ? 0 : -ENOMEM;
}

int doc_decode(const void *p, size_t n, struct doc **out, size_t *used)
{
	struct rd r = {p, n, 0};
	struct doc *d = NULL;
	unsigned char ver;
	int rc;

	if (!p || get_byte(&r, &ver) < 0 || ver != DOC_ENC_VERSION)
		return -EBADMSG;
	rc = decode_node(&r, 0, &d);
	if (rc < 0)
		return rc;
	*out = d;
	if (used)
		*used = r.pos;
	return 0;
}
