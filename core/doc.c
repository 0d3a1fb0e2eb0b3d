/*
 * doc.c - the document tree: construction, copying, comparison, map and
 * list editing and dotted-path lookup.  See doc.h for the contract.
 *
 * Scalars always carry their text in u.s (NUL-terminated, n bytes before
 * the NUL), so callers can print any scalar without switching on its type.
 * Containers own their children and grow their arrays by doubling.
 */
#include "doc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copy @n bytes into a fresh NUL-terminated allocation. */
static char *dup_bytes(const void *p, size_t n)
{
	char *s;

	if (n == (size_t)-1)
		return NULL;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static struct doc *doc_alloc(void)
{
	return calloc(1, sizeof(struct doc));
}

/* A scalar node of type @t holding a copy of @s (@n bytes). */
static struct doc *doc_scalar(enum doc_type t, const char *s, size_t n)
{
	struct doc *d = doc_alloc();

	if (!d)
		return NULL;
	d->u.s = dup_bytes(s, n);
	if (!d->u.s) {
		free(d);
		return NULL;
	}
	d->type = t;
	d->n = n;
	return d;
}

struct doc *doc_new(enum doc_type t)
{
	struct doc *d;

	switch (t) {
	case DOC_BOOL:
		return doc_bool(false);
	case DOC_INT:
		return doc_int(0);
	case DOC_FLOAT:
		return doc_float_text("0.0");
	case DOC_LIST:
	case DOC_MAP:
		break;
	default:
		return doc_scalar(t, "", 0);
	}
	d = doc_alloc();
	if (d)
		d->type = t;
	return d;
}

struct doc *doc_str(const char *s, size_t n)
{
	return doc_scalar(DOC_STR, s, n);
}

struct doc *doc_strz(const char *s)
{
	return s ? doc_scalar(DOC_STR, s, strlen(s)) : NULL;
}

struct doc *doc_bool(bool v)
{
	const char *t = v ? "true" : "false";
	struct doc *d = doc_scalar(DOC_BOOL, t, strlen(t));

	if (d)
		d->i = v;
	return d;
}

struct doc *doc_int(int64_t v)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	struct doc *d;

	if (len < 0 || (size_t)len >= sizeof(tmp))
		return NULL;
	d = doc_scalar(DOC_INT, tmp, (size_t)len);
	if (d)
		d->i = v;
	return d;
}

struct doc *doc_float_text(const char *text)
{
	return text ? doc_scalar(DOC_FLOAT, text, strlen(text)) : NULL;
}

struct doc *doc_sealed(const void *blob, size_t n)
{
	return doc_scalar(DOC_SEALED, blob, n);
}

void doc_free(struct doc *d)
{
	size_t k;

	if (!d)
		return;
	if (d->type == DOC_LIST) {
		for (k = 0; k < d->n; k++)
			doc_free(d->u.items[k]);
		free(d->u.items);
	} else if (d->type == DOC_MAP) {
		for (k = 0; k < d->n; k++) {
			free(d->u.kv[k].key);
			doc_free(d->u.kv[k].val);
		}
		free(d->u.kv);
	} else {
		free(d->u.s);
		free(d->raw);
	}
	free(d);
}

/* Make room for one more child in a list or map (doubling). */
static int doc_reserve(struct doc *c)
{
	size_t sz =
	    c->type == DOC_MAP ? sizeof(struct doc_kv) : sizeof(struct doc *);
	size_t want;
	void *p;

	if (c->n < c->alloc)
		return 0;
	want = c->alloc ? c->alloc * 2 : 4;
	if (want > SIZE_MAX / sz)
		return -ENOMEM;
	p = realloc(c->type == DOC_MAP ? (void *)c->u.kv : (void *)c->u.items,
		    want * sz);
	if (!p)
		return -ENOMEM;
	if (c->type == DOC_MAP)
		c->u.kv = p;
	else
		c->u.items = p;
	c->alloc = want;
	return 0;
}

/* Append without looking for @key: the caller knows it is new. */
static int map_append(struct doc *m, const char *key, struct doc *v)
{
	char *kc = v ? dup_bytes(key, strlen(key)) : NULL;
	int rc = kc ? doc_reserve(m) : -ENOMEM;

	if (rc < 0) {
		free(kc);
		doc_free(v);
		return rc;
	}
	m->u.kv[m->n].key = kc;
	m->u.kv[m->n].val = v;
	m->n++;
	return 0;
}

/* Source keys are unique, so map entries are appended without a search
 * (cloning a large map stays linear). */
static struct doc *clone_children(const struct doc *d, struct doc *c)
{
	struct doc *v;
	size_t k;
	int rc;

	for (k = 0; k < d->n; k++) {
		if (d->type == DOC_MAP) {
			v = doc_clone(d->u.kv[k].val);
			rc = map_append(c, d->u.kv[k].key, v);
		} else {
			rc = doc_list_add(c, doc_clone(d->u.items[k]));
		}
		if (rc < 0) {
			doc_free(c);
			return NULL;
		}
	}
	return c;
}

struct doc *doc_clone(const struct doc *d)
{
	struct doc *c;

	if (!d)
		return NULL;
	if (d->type == DOC_LIST || d->type == DOC_MAP)
		c = doc_new(d->type);
	else
		c = doc_scalar(d->type, d->u.s, d->n);
	if (!c)
		return NULL;
	if (d->raw && !(c->raw = strdup(d->raw))) {
		doc_free(c);
		return NULL;
	}
	c->flags = d->flags;
	c->i = d->i;
	c->line = d->line;
	c->col = d->col;
	c->off = d->off;
	c->end = d->end;
	if (d->type == DOC_LIST || d->type == DOC_MAP)
		return clone_children(d, c);
	return c;
}

static bool map_equal(const struct doc *a, const struct doc *b)
{
	const struct doc *v;
	size_t k;

	for (k = 0; k < a->n; k++) {
		/* Same order is the common case; search only when it differs.
		 */
		if (!strcmp(a->u.kv[k].key, b->u.kv[k].key))
			v = b->u.kv[k].val;
		else
			v = doc_map_get(b, a->u.kv[k].key);
		if (!v || !doc_equal(a->u.kv[k].val, v))
			return false;
	}
	return true;
}

bool doc_equal(const struct doc *a, const struct doc *b)
{
	size_t k;

	if (!a || !b)
		return a == b;
	if (a->type != b->type || a->n != b->n)
		return false;
	switch (a->type) {
	case DOC_LIST:
		for (k = 0; k < a->n; k++)
			if (!doc_equal(a->u.items[k], b->u.items[k]))
				return false;
		return true;
	case DOC_MAP:
		return map_equal(a, b);
	case DOC_INT:
	case DOC_BOOL:
		if (a->i != b->i)
			return false;
		/* fall through */
	default:
		return memcmp(a->u.s, b->u.s, a->n) == 0;
	}
}

/* Index of @key in map @m, or -1. */
static ptrdiff_t map_find(const struct doc *m, const char *key)
{
	size_t k;

	if (!m || m->type != DOC_MAP || !key)
		return -1;
	for (k = 0; k < m->n; k++)
		if (strcmp(m->u.kv[k].key, key) == 0)
			return (ptrdiff_t)k;
	return -1;
}

struct doc *doc_map_get(const struct doc *m, const char *key)
{
	ptrdiff_t k = map_find(m, key);

	return k < 0 ? NULL : m->u.kv[k].val;
}

int doc_map_set(struct doc *m, const char *key, struct doc *v)
{
	ptrdiff_t k = map_find(m, key);

	if (!m || m->type != DOC_MAP || !key) {
		doc_free(v);
		return -EINVAL;
	}
	if (!v)
		return -ENOMEM;
	if (k < 0)
		return map_append(m, key, v);
	doc_free(m->u.kv[k].val);
	m->u.kv[k].val = v;
	return 0;
}

int doc_map_setstr(struct doc *m, const char *key, const char *s)
{
	return doc_map_set(m, key, doc_strz(s));
}

struct doc *doc_map_take(struct doc *m, const char *key)
{
	ptrdiff_t k = map_find(m, key);
	struct doc *v;

	if (k < 0)
		return NULL;
	v = m->u.kv[k].val;
	free(m->u.kv[k].key);
	memmove(&m->u.kv[k], &m->u.kv[k + 1],
		(m->n - (size_t)k - 1) * sizeof(struct doc_kv));
	m->n--;
	return v;
}

int doc_map_del(struct doc *m, const char *key)
{
	struct doc *v;

	if (map_find(m, key) < 0)
		return -ENOENT;
	v = doc_map_take(m, key);
	doc_free(v);
	return 0;
}

struct doc *doc_map_child(struct doc *m, const char *key)
{
	struct doc *c = doc_map_get(m, key);

	if (c)
		return c->type == DOC_MAP ? c : NULL;
	if (doc_map_set(m, key, doc_new(DOC_MAP)) < 0)
		return NULL;
	return doc_map_get(m, key);
}

int doc_list_add(struct doc *l, struct doc *v)
{
	int rc;

	if (!l || l->type != DOC_LIST) {
		doc_free(v);
		return -EINVAL;
	}
	if (!v)
		return -ENOMEM;
	rc = doc_reserve(l);
	if (rc < 0) {
		doc_free(v);
		return rc;
	}
	l->u.items[l->n++] = v;
	return 0;
}

struct doc *doc_get(const struct doc *d, const char *path)
{
	char key[256];
	const char *dot;
	size_t len;

	if (!d || !path)
		return NULL;
	if (!*path)
		return (struct doc *)d;
	for (;;) {
		dot = strchr(path, '.');
		len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		d = doc_map_get(d, key);
		if (!d || !dot)
			return (struct doc *)d;
		path = dot + 1;
	}
}

const char *doc_get_str(const struct doc *d, const char *path)
{
	const struct doc *v = doc_get(d, path);

	if (!v)
		return NULL;
	switch (v->type) {
	case DOC_STR:
	case DOC_INT:
	case DOC_FLOAT:
	case DOC_BOOL:
		return v->u.s;
	default:
		return NULL;
	}
}

bool doc_is_scalar(const struct doc *d)
{
	return d && d->type <= DOC_STR;
}

const char *doc_type_name(enum doc_type t)
{
	switch (t) {
	case DOC_NULL:
		return "null";
	case DOC_BOOL:
		return "bool";
	case DOC_INT:
		return "int";
	case DOC_FLOAT:
		return "float";
	case DOC_STR:
		return "string";
	case DOC_SEALED:
		return "sealed";
	case DOC_LIST:
		return "list";
	case DOC_MAP:
		return "map";
	}
	return "unknown";
}
