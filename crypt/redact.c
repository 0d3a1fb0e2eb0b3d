/*
 * redact.c - the redactor: the set of registered secret forms and the
 * literal matcher over it.
 *
 * Forms are few (tens to a few thousand) and matches are rare, so the
 * matcher is a filter plus verification: the first four bytes at each
 * position are hashed to 16 bits and looked up in a 8 KiB bit filter that
 * stays in L1; only on a hit is the sorted index searched and the candidate
 * forms compared, longest first: with memcmp, or for a hex form with 'A'-'F'
 * folded to lower case (a hex form is indexed under every spelling of its
 * first four bytes, so upper and mixed case find it too).  Encodings are generated in
 * redact_enc.c, the stream filter is redact_stream.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redact_i.h"

#define ARENA_MIN 4096
#define NO_OFF UINT32_MAX	/* a form's bytes not yet in the arena */

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

/* Order: hash ascending, then length descending, then hex, then bytes. */
static int form_cmp(const struct redactor *r, const struct redact_form *f,
		    uint32_t h, const unsigned char *p, size_t n, bool hex)
{
	if (f->hash != h)
		return f->hash < h ? -1 : 1;
	if (f->len != n)
		return f->len > n ? -1 : 1;
	if (f->hex != hex)
		return f->hex ? -1 : 1;
	return memcmp(r->arena + f->off, p, n);
}

/* Index of the first form not ordered before (h, p, n, hex). */
static size_t form_lower_bound(const struct redactor *r, uint32_t h,
			       const unsigned char *p, size_t n, bool hex)
{
	size_t lo = 0, hi = r->nforms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (form_cmp(r, &r->forms[mid], h, p, n, hex) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Insert the index entry (h, p, n, hex) unless it is there.  Its bytes are
 * copied to the arena unless *@off already names a copy; *@off is then
 * set to it.
 */
static int add_entry(struct redactor *r, uint32_t h, const unsigned char *p,
		     size_t n, bool hex, uint32_t *off)
{
	size_t at = form_lower_bound(r, h, p, n, hex);
	int rc;

	if (at < r->nforms && form_cmp(r, &r->forms[at], h, p, n, hex) == 0)
		return 0;
	rc = array_reserve(&r->forms, &r->aforms, r->nforms,
			   sizeof(*r->forms));
	if (rc == 0 && *off == NO_OFF)
		rc = arena_reserve(r, n);
	if (rc < 0)
		return rc;
	if (*off == NO_OFF) {
		*off = (uint32_t)r->arena_len;
		memcpy(r->arena + r->arena_len, p, n);
		r->arena_len += n;
	}
	memmove(&r->forms[at + 1], &r->forms[at],
		(r->nforms - at) * sizeof(*r->forms));
	r->forms[at].off = *off;
	r->forms[at].len = (uint32_t)n;
	r->forms[at].hash = h;
	r->forms[at].hex = hex;
	r->nforms++;
	r->filter[h >> 6] |= (uint64_t)1 << (h & 63);
	return 0;
}

/*
 * The first bytes of @p with the letters at the set bits of @m in upper
 * case, into @o; false when a set bit falls on a digit (that spelling is
 * the one without the bit).
 */
static bool spelling(const unsigned char *p, unsigned m, unsigned char *o)
{
	size_t k;

	for (k = 0; k < REDACT_HASH_BYTES; k++) {
		bool up = (m >> k) & 1;

		if (up && !(p[k] >= 'a' && p[k] <= 'f'))
			return false;
		o[k] = up ? (unsigned char)(p[k] - 'a' + 'A') : p[k];
	}
	return true;
}

int redact_add_form(struct redactor *r, const unsigned char *p, size_t n,
		    bool hex)
{
	unsigned spellings = hex ? 1u << REDACT_HASH_BYTES : 1u, m;
	unsigned char head[REDACT_HASH_BYTES];
	uint32_t off = NO_OFF;
	int rc = 0;

	if (n < REDACT_HASH_BYTES)
		return 0;
	for (m = 0; m < spellings && rc == 0; m++)
		if (spelling(p, m, head))
			rc = add_entry(r, redact_hash(head), p, n, hex, &off);
	if (rc < 0)
		return rc;
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

/*
 * @p matches the hex form @f (lower-case digits) in any case: 'A'-'F' are
 * folded, nothing else, so "\x10" is not '0' and 'G' is not 'g'.
 */
static bool hex_equal(const unsigned char *f, const unsigned char *p,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c >= 'A' && c <= 'F')
			c |= 0x20;
		if (c != f[i])
			return false;
	}
	return true;
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
		if (f->len > avail)
			continue;
		if (f->hex ? hex_equal(r->arena + f->off, p, f->len) :
			     memcmp(r->arena + f->off, p, f->len) == 0)
			return f->len;
	}
	return 0;
}
