/*
 * redact.c - the redactor: the set of registered secret forms and the
 * literal matcher over it.
 *
 * Forms are few (tens to a few thousand) and matches are rare, so the
 * matcher is a filter plus verification: the first four bytes at each
 * position are hashed to 16 bits and looked up in a 8 KiB bit filter that
 * stays in L1; only on a hit is the sorted index searched and the candidate
 * forms compared with memcmp, longest first.  Encodings are generated in
 * redact_enc.c, the stream filter is redact_stream.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redact_i.h"

#define ARENA_MIN 4096

int redactor_new(struct redactor **out, const struct redact_opts *o)
{
	struct redactor *r;

	if (sodium_init() < 0)
		return -EIO;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->min_len = o && o->min_len ? o->min_len : REDACT_MIN_LEN;
	r->line_cap = o && o->line_cap ? o->line_cap : REDACT_LINE_CAP;
	r->no_keys = o ? o->no_keys : false;
	atomic_init(&r->nstreams, 0);
	if (r->min_len < REDACT_HASH_BYTES || r->line_cap < 64) {
		free(r);
		return -EINVAL;
	}
	*out = r;
	return 0;
}

void redactor_free(struct redactor *r)
{
	if (!r)
		return;
	sodium_free(r->arena);	/* wipes */
	if (r->forms)
		sodium_memzero(r->forms, r->aforms * sizeof(*r->forms));
	free(r->forms);
	sodium_memzero(r->filter, sizeof(r->filter));
	free(r);
}

int redactor_add_secret(struct redactor *r, const char *value, size_t n)
{
	if (!value || n == 0)
		return -EINVAL;
	if (n < r->min_len)
		return -ERANGE;
	if (n > REDACT_SECRET_MAX)
		return -E2BIG;
	if (atomic_load(&r->nstreams) > 0)
		return -EBUSY;
	return redact_add_encodings(r, (const unsigned char *)value, n);
}

/* Make room for @n more arena bytes; the old arena is wiped by sodium_free. */
static int arena_reserve(struct redactor *r, size_t n)
{
	size_t want = r->arena_alloc ? r->arena_alloc : ARENA_MIN;
	unsigned char *p;

	if (n <= r->arena_alloc - r->arena_len)
		return 0;
	while (want - r->arena_len < n) {
		if (want > SIZE_MAX / 2 || want >= UINT32_MAX / 2)
			return -ENOMEM;
		want *= 2;
	}
	p = sodium_malloc(want);
	if (!p)
		return -ENOMEM;
	if (r->arena_len)
		memcpy(p, r->arena, r->arena_len);
	sodium_free(r->arena);
	r->arena = p;
	r->arena_alloc = want;
	return 0;
}

/* Order: hash ascending, then length descending, then bytes. */
static int form_cmp(const struct redactor *r, const struct redact_form *f,
		    uint32_t h, const unsigned char *p, size_t n)
{
	if (f->hash != h)
		return f->hash < h ? -1 : 1;
	if (f->len != n)
		return f->len > n ? -1 : 1;
	return memcmp(r->arena + f->off, p, n);
}

/* Index of the first form not ordered before (h, p, n). */
static size_t form_lower_bound(const struct redactor *r, uint32_t h,
			       const unsigned char *p, size_t n)
{
	size_t lo = 0, hi = r->nforms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (form_cmp(r, &r->forms[mid], h, p, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int redact_add_form(struct redactor *r, const unsigned char *p, size_t n)
{
	uint32_t h;
	size_t at;
	int rc;

	if (n < REDACT_HASH_BYTES)
		return 0;
	h = redact_hash(p);
	at = form_lower_bound(r, h, p, n);
	if (at < r->nforms && form_cmp(r, &r->forms[at], h, p, n) == 0)
		return 0;
	rc = array_reserve(&r->forms, &r->aforms, r->nforms,
			   sizeof(*r->forms));
	if (rc == 0)
		rc = arena_reserve(r, n);
	if (rc < 0)
		return rc;
	memmove(&r->forms[at + 1], &r->forms[at],
		(r->nforms - at) * sizeof(*r->forms));
	r->forms[at].off = (uint32_t)r->arena_len;
	r->forms[at].len = (uint32_t)n;
	r->forms[at].hash = h;
	r->nforms++;
	memcpy(r->arena + r->arena_len, p, n);
	r->arena_len += n;
	r->filter[h >> 6] |= (uint64_t)1 << (h & 63);
	if (n > r->maxlen)
		r->maxlen = n;
	if (memchr(p, '\n', n))
		r->nl_forms = true;
	return 0;
}

/* Index of the first form with hash @h (or nforms). */
static size_t hash_lower_bound(const struct redactor *r, uint32_t h)
{
	size_t lo = 0, hi = r->nforms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->forms[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t redact_longest(const struct redactor *r, const unsigned char *p,
		      size_t avail)
{
	uint32_t h = redact_hash(p);
	size_t i;

	if (!redact_filter_hit(r, h))
		return 0;
	for (i = hash_lower_bound(r, h); i < r->nforms; i++) {
		const struct redact_form *f = &r->forms[i];

		if (f->hash != h)
			break;
		if (f->len <= avail &&
		    memcmp(r->arena + f->off, p, f->len) == 0)
			return f->len;
	}
	return 0;
}
