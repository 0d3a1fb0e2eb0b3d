/*
 * render.c - the files of a resource directory, rendered from the stored
 * record and cached per generation.
 *
 * The cache is direct-mapped on the serial number (a fixed number of
 * slots, so memory stays bounded whatever the number of resources); a slot
 * holds the five views of one generation of one resource.  A lookup reads
 * the record header to learn the current generation (a sub-microsecond
 * LMDB read) and renders all five views on a miss, outside the lock.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "yaml.h"

#define CACHE_SLOTS 4096
#define VIEW_MAX (8u << 20)

struct slot {
	uint64_t serial;
	uint64_t gen;
	struct plane_blob *views[VIEW_COUNT];
};

struct render_cache {
	pthread_mutex_t mu;
	struct slot slots[CACHE_SLOTS];	/* protected by mu */
};

int render_cache_new(struct render_cache **out)
{
	struct render_cache *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return -ENOMEM;
	pthread_mutex_init(&rc->mu, NULL);
	*out = rc;
	return 0;
}

static void slot_clear(struct slot *s)
{
	size_t v;

	for (v = 0; v < VIEW_COUNT; v++) {
		plane_blob_put(s->views[v]);
		s->views[v] = NULL;
	}
	s->serial = s->gen = 0;
}

void render_cache_free(struct render_cache *rc)
{
	size_t i;

	if (!rc)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&rc->slots[i]);
	pthread_mutex_destroy(&rc->mu);
	free(rc);
}

void render_cache_drop(struct render_cache *rc, uint64_t serial)
{
	struct slot *s = &rc->slots[serial % CACHE_SLOTS], old = { 0 };

	pthread_mutex_lock(&rc->mu);
	if (s->serial == serial) {
		old = *s;
		memset(s, 0, sizeof(*s));
	}
	pthread_mutex_unlock(&rc->mu);
	slot_clear(&old);
}

void plane_blob_put(struct plane_blob *b)
{
	if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

static struct plane_blob *blob_get(struct plane_blob *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
	return b;
}

/* A blob owning a copy of @b's bytes, holding one reference. */
static struct plane_blob *blob_new(const struct buf *b,
				   const struct store_rec *h)
{
	struct plane_blob *pb = malloc(sizeof(*pb) + b->len + 1);

	if (!pb)
		return NULL;
	memcpy((char *)(pb + 1), b->data ? b->data : "", b->len + 1);
	pb->data = (const char *)(pb + 1);
	pb->len = b->len;
	pb->gen = h->gen;
	pb->mtime.tv_sec = h->mtime_ns / 1000000000;
	pb->mtime.tv_nsec = h->mtime_ns % 1000000000;
	pb->refs = 1;
	return pb;
}

/* The metadata a person would write: the server's names left out. */
static struct doc *written_metadata(const struct doc *meta)
{
	struct doc *md = doc_clone(meta);

	if (md) {
		doc_map_del(md, "id");
		doc_map_del(md, "slug");
		doc_map_del(md, "version");
	}
	return md;
}

/*
 * spec.yaml of a resource nobody wrote by hand (a default instance):
 * apiVersion, kind, metadata and spec, so that writing it back as read
 * changes nothing - the owner scope and org included.
 */
static int render_spec_doc(const struct doc *res, struct buf *out)
{
	const char *const keys[] = { "apiVersion", "kind", "metadata", "spec" };
	struct doc *d = doc_new(DOC_MAP);
	const struct doc *v;
	size_t i;
	int rc = d ? 0 : -ENOMEM;

	for (i = 0; rc == 0 && i < 4; i++) {
		v = doc_map_get(res, keys[i]);
		if (v)
			rc = doc_map_set(d, keys[i], i == 2 ? written_metadata(v)
							    : doc_clone(v));
	}
	if (rc == 0)
		rc = yaml_emit(d, out);
	doc_free(d);
	return rc;
}

/* status.yaml: the status map (empty when there is none). */
static int render_status(const struct doc *res, struct buf *out)
{
	const struct doc *st = doc_map_get(res, "status");

	return st ? yaml_emit(st, out) : buf_addstr(out, "{}\n");
}

static int render_one(const struct doc *res, const char *src, size_t srclen,
		      enum plane_view v, const struct store_rec *h,
		      struct buf *out)
{
	switch (v) {
	case VIEW_SPEC:
		return src ? buf_add(out, src, srclen)
			   : render_spec_doc(res, out);
	case VIEW_RESOURCE_YAML:
		return yaml_emit(res, out);
	case VIEW_RESOURCE_JSON:
		return json_emit(res, out, 1);
	case VIEW_STATUS_YAML:
		return render_status(res, out);
	case VIEW_ID:
		return buf_addf(out, "%s\n", h->id);
	default:
		return -EINVAL;
	}
}

/* Render all views of one record into @views (one reference each). */
static int render_all(struct plane *p, uint64_t serial, struct store_rec *h,
		      struct plane_blob *views[VIEW_COUNT])
{
	struct buf body = BUF_INIT(STORE_BODY_MAX), out = BUF_INIT(VIEW_MAX);
	struct doc *res = NULL;
	char *src = NULL;
	size_t srclen = 0, v;
	int rc;

	rc = store_get_serial(p->st, serial, h, &body);
	if (rc == 0)
		rc = record_decode(&body, &res, &src, &srclen);
	for (v = 0; rc == 0 && v < VIEW_COUNT; v++) {
		buf_reset(&out);
		rc = render_one(res, src, srclen, (enum plane_view)v, h, &out);
		if (rc == 0 && !(views[v] = blob_new(&out, h)))
			rc = -ENOMEM;
	}
	if (rc < 0)
		while (v-- > 0)
			plane_blob_put(views[v]), views[v] = NULL;
	doc_free(res);
	free(src);
	buf_release(&body);
	buf_release(&out);
	return rc;
}

static struct plane_blob *cache_find(struct render_cache *rc,
				     uint64_t serial, uint64_t gen,
				     enum plane_view v)
{
	struct slot *s = &rc->slots[serial % CACHE_SLOTS];
	struct plane_blob *b = NULL;

	pthread_mutex_lock(&rc->mu);
	if (s->serial == serial && s->gen == gen && s->views[v])
		b = blob_get(s->views[v]);
	pthread_mutex_unlock(&rc->mu);
	return b;
}

/* Keep @views in the cache unless a newer generation is already there. */
static void cache_keep(struct render_cache *rc, uint64_t serial,
		       uint64_t gen, struct plane_blob *views[VIEW_COUNT])
{
	struct slot *s = &rc->slots[serial % CACHE_SLOTS], old;
	size_t v;

	pthread_mutex_lock(&rc->mu);
	if (s->serial == serial && s->gen > gen) {
		pthread_mutex_unlock(&rc->mu);
		return;
	}
	old = *s;
	s->serial = serial;
	s->gen = gen;
	for (v = 0; v < VIEW_COUNT; v++)
		s->views[v] = blob_get(views[v]);
	pthread_mutex_unlock(&rc->mu);
	slot_clear(&old);
}

int render_view(struct plane *p, uint64_t serial, enum plane_view v,
		struct plane_blob **out)
{
	struct plane_blob *views[VIEW_COUNT] = { 0 };
	struct store_rec h;
	size_t i;
	int rc;

	if ((unsigned)v >= VIEW_COUNT)
		return -EINVAL;
	rc = store_get_serial(p->st, serial, &h, NULL);
	if (rc < 0)
		return rc;
	*out = cache_find(p->cache, serial, h.gen, v);
	if (*out)
		return 0;
	rc = render_all(p, serial, &h, views);
	if (rc < 0)
		return rc;
	cache_keep(p->cache, serial, h.gen, views);
	*out = views[v];
	for (i = 0; i < VIEW_COUNT; i++)
		if (i != (size_t)v)
			plane_blob_put(views[i]);
	return 0;
}
