/*
 * records.c - the body of a stored record and the loads the steps use.
 *
 * A body is the doc encoding of a map {r: <resource>, s: <source>}: the
 * resource tree (secret values sealed) and, when the resource was written
 * by a person, the document text as written with its secret values
 * replaced by "***" (what spec.yaml shows).
 */
#include "plane_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The map {r, s} encoded from @res and @src themselves: a commit encodes
 * the whole record, and copies of them only to put them in a map cost as
 * much again.  @s borrows src's bytes (the encoder only reads them). */
int record_encode(const struct doc *res, const struct buf *src,
		  struct buf *out)
{
	static const char *const keys[] = { "r", "s" };
	struct doc s = { .type = DOC_STR };
	const struct doc *vals[2] = { res, &s };

	if (src && src->len) {
		s.u.s = src->data;
		s.n = src->len;
	}
	return doc_encode_map(keys, vals, s.n ? 2 : 1, out);
}

int record_decode(const struct buf *body, struct doc **res, char **src,
		  size_t *srclen)
{
	struct doc *m = NULL, *r, *s;
	int rc;

	rc = doc_decode(body->data, body->len, &m, NULL);
	if (rc < 0)
		return rc;
	r = doc_map_take(m, "r");
	if (!r || r->type != DOC_MAP) {
		doc_free(r);
		doc_free(m);
		return -EBADMSG;
	}
	if (src) {
		s = doc_map_get(m, "s");
		*src = NULL;
		*srclen = 0;
		if (s && s->type == DOC_STR) {
			*src = malloc(s->n + 1);
			if (!*src) {
				doc_free(r);
				doc_free(m);
				return -ENOMEM;
			}
			memcpy(*src, s->u.s, s->n + 1);
			*srclen = s->n;
		}
	}
	doc_free(m);
	*res = r;
	return 0;
}

/* Decode a body read by one of the store_get*() calls. */
static int record_finish(int rc, struct buf *body, struct doc **res)
{
	if (rc == 0 && res)
		rc = record_decode(body, res, NULL, NULL);
	buf_release(body);
	return rc;
}

int record_load(struct plane *p, const char *id, struct store_rec *hdr,
		struct doc **res)
{
	struct buf body = BUF_INIT(STORE_BODY_MAX);

	return record_finish(store_get(p->st, id, hdr, res ? &body : NULL),
			     &body, res);
}

int record_load_src(struct plane *p, const char *id, struct store_rec *hdr,
		    struct doc **res, struct buf *src)
{
	struct buf body = BUF_INIT(STORE_BODY_MAX);
	char *text = NULL;
	size_t n = 0;
	int rc;

	rc = store_get(p->st, id, hdr, &body);
	if (rc == 0)
		rc = record_decode(&body, res, &text, &n);
	if (rc == 0 && text && (rc = buf_add(src, text, n)) < 0) {
		doc_free(*res);
		*res = NULL;
	}
	free(text);
	buf_release(&body);
	return rc;
}

int record_load_slug(struct plane *p, unsigned kind, const char *slug,
		     struct store_rec *hdr, struct doc **res)
{
	struct buf body = BUF_INIT(STORE_BODY_MAX);
	int rc;

	rc = store_get_slug(p->st, kind, slug, hdr, res ? &body : NULL);
	return record_finish(rc, &body, res);
}

int record_resolve(struct plane *p, const struct kind *k, const char *ref,
		   struct store_rec *hdr, struct doc **res, struct err *e)
{
	int rc = -ENOENT;

	if (ids_valid(k->prefix, ref))
		rc = record_load(p, ref, hdr, res);
	else if (slug_valid(ref))
		rc = record_load_slug(p, k->id, ref, hdr, res);
	if (rc == -ENOENT)
		return err_set(e, -ENOENT, "%s not found: %s", k->name, ref);
	if (rc < 0)
		return err_set(e, rc, "cannot read %s %s", k->name, ref);
	if (hdr && hdr->kind != k->id)
		return err_set(e, -ENOENT, "%s not found: %s", k->name, ref);
	return 0;
}

void plane_res_from_hdr(struct plane_res *r, const struct store_rec *h)
{
	memset(r, 0, sizeof(*r));
	r->kind = (enum kind_id)h->kind;
	r->serial = h->serial;
	r->gen = h->gen;
	r->ctime.tv_sec = h->ctime_ns / 1000000000;
	r->ctime.tv_nsec = h->ctime_ns % 1000000000;
	r->mtime.tv_sec = h->mtime_ns / 1000000000;
	r->mtime.tv_nsec = h->mtime_ns % 1000000000;
	/* a record from before owners: the daemon's */
	r->uid = h->uid == STORE_OWNER_NONE ? geteuid() : (uid_t)h->uid;
	r->gid = h->gid == STORE_OWNER_NONE ? getegid() : (gid_t)h->gid;
	r->mode = (mode_t)(h->mode & 0777);
	memcpy(r->id, h->id, sizeof(r->id));
	memcpy(r->slug, h->slug, sizeof(r->slug));
}

struct hdrs {
	struct store_rec *v;
	size_t n, alloc;
};

static int keep_hdr(void *ctx, const struct store_rec *h)
{
	struct hdrs *l = ctx;

	if (array_reserve(&l->v, &l->alloc, l->n, sizeof(*l->v)) < 0)
		return -ENOMEM;
	l->v[l->n++] = *h;
	return 0;
}

int record_each(struct plane *p, enum kind_id kind,
		int (*fn)(void *ctx, const struct store_rec *h,
			  const struct doc *res),
		void *ctx)
{
	struct hdrs l = { 0 };
	struct store_rec h;
	struct doc *res;
	size_t i;
	int rc;

	/* Headers first: @fn may then change the store (a delete). */
	rc = store_list(p->st, kind, NULL, keep_hdr, &l);
	for (i = 0; rc == 0 && i < l.n; i++) {
		res = NULL;
		rc = record_load(p, l.v[i].id, &h, &res);
		if (rc == 0)
			rc = fn(ctx, &h, res);
		else if (rc == -ENOENT)
			rc = 0;		/* deleted meanwhile */
		doc_free(res);
	}
	free(l.v);
	return rc;
}
