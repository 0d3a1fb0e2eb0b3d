/*
 * ids.c - resource ids and slugs.
 *
 * An id is "<prefix>-<ULID>": the ULID is 128 bits, a 48-bit millisecond
 * timestamp followed by 80 random bits, written as 26 Crockford base32
 * characters in lower case (the 130-bit field has two leading zero bits,
 * so the first character is at most '7').  Ids are monotonic within the
 * process: an id made in the same millisecond as the previous one (or
 * after the clock stepped back) reuses that millisecond and the previous
 * random part plus one, so they sort in the order they were made.
 *
 * A slug is Stigmer's GenerateSlug of the resource name (see
 * research/stigmer-model.md 3.1), with a length cap.
 */
#include "ids.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define ULID_TIME_BYTES 6
#define ULID_RAND_BYTES 10
#define ULID_BYTES (ULID_TIME_BYTES + ULID_RAND_BYTES)
#define ULID_TIME_CHARS 10
#define ULID_TIME_MAX ((UINT64_C(1) << 48) - 1)

static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

/*
 * The last ULID made by this process.  This is the one piece of mutable
 * state the module keeps: monotonic ids are a property of the process.
 */
static pthread_mutex_t ids_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t ids_last_ms;				/* protected by ids_mu */
static unsigned char ids_last_rand[ULID_RAND_BYTES];	/* protected by ids_mu */

static bool prefix_ok(const char *p, size_t n)
{
	size_t i;

	if (n < 1 || n > IDS_PREFIX_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (p[i] < 'a' || p[i] > 'z')
			return false;
	return true;
}

/* The value of Crockford character @c (lower case only), or -1. */
static int crock_val(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(crockford, c);
	return p ? (int)(p - crockford) : -1;
}

static bool ulid_ok(const char *u)
{
	size_t i;

	if (strnlen(u, ULID_LEN + 1) != ULID_LEN)
		return false;
	for (i = 0; i < ULID_LEN; i++)
		if (crock_val(u[i]) < 0)
			return false;
	/* More than 128 bits: the ULID spec's overflow. */
	return crock_val(u[0]) <= 7;
}

/*
 * The ULID part of @id if it is "<prefix>-<ULID>", else NULL.  @prefix
 * NULL accepts any well-formed prefix.
 */
static const char *id_ulid(const char *prefix, const char *id)
{
	const char *dash;
	size_t n;

	if (!id)
		return NULL;
	dash = memchr(id, '-', strnlen(id, IDS_PREFIX_MAX + 1));
	if (!dash)
		return NULL;
	n = (size_t)(dash - id);
	if (!prefix_ok(id, n))
		return NULL;
	if (prefix && (strnlen(prefix, IDS_PREFIX_MAX + 1) != n ||
		       memcmp(prefix, id, n) != 0))
		return NULL;
	return ulid_ok(dash + 1) ? dash + 1 : NULL;
}

static int fill_random(unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int now_ms(uint64_t *ms)
{
	struct timespec ts;
	uint64_t v;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
		return -EIO;
	v = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (v > ULID_TIME_MAX)
		return -EIO;
	*ms = v;
	return 0;
}

/* Add one to a big-endian number; return true if it wrapped to zero. */
static bool rand_inc(unsigned char *p, size_t n)
{
	while (n-- > 0)
		if (++p[n] != 0)
			return false;
	return true;
}

/*
 * Build the next ULID of this process in @bin from the time @ms and the
 * random bytes @fresh, keeping ids strictly increasing.
 */
static void ulid_next(uint64_t ms, const unsigned char *fresh,
		      unsigned char bin[ULID_BYTES])
{
	int i;

	pthread_mutex_lock(&ids_mu);
	if (ms <= ids_last_ms && !rand_inc(ids_last_rand, ULID_RAND_BYTES)) {
		ms = ids_last_ms;
	} else {
		/* A new millisecond, or 2^80 ids in one: start afresh. */
		if (ms <= ids_last_ms)
			ms = ids_last_ms + 1;
		memcpy(ids_last_rand, fresh, ULID_RAND_BYTES);
	}
	ids_last_ms = ms;
	memcpy(bin + ULID_TIME_BYTES, ids_last_rand, ULID_RAND_BYTES);
	pthread_mutex_unlock(&ids_mu);
	for (i = ULID_TIME_BYTES - 1; i >= 0; i--, ms >>= 8)
		bin[i] = (unsigned char)ms;
}

/* Write the 26 base32 characters of @bin (no NUL). */
static void ulid_encode(const unsigned char bin[ULID_BYTES], char *out)
{
	unsigned v;
	int i, j, bit;

	/* Character i holds bits i*5-2 .. i*5+2, counted from the top. */
	for (i = 0; i < ULID_LEN; i++) {
		v = 0;
		for (j = 0; j < 5; j++) {
			bit = i * 5 + j - 2;
			v <<= 1;
			if (bit >= 0)
				v |= (bin[bit / 8] >> (7 - bit % 8)) & 1u;
		}
		out[i] = crockford[v];
	}
}

int ids_new(const char *prefix, char out[IDS_ID_MAX])
{
	unsigned char fresh[ULID_RAND_BYTES], bin[ULID_BYTES];
	uint64_t ms;
	size_t n;
	int rc;

	if (!prefix)
		return -EINVAL;
	n = strnlen(prefix, IDS_PREFIX_MAX + 1);
	if (!prefix_ok(prefix, n))
		return -EINVAL;
	rc = fill_random(fresh, sizeof(fresh));
	if (rc < 0)
		return rc;
	rc = now_ms(&ms);
	if (rc < 0)
		return rc;
	ulid_next(ms, fresh, bin);
	memcpy(out, prefix, n);
	out[n] = '-';
	ulid_encode(bin, out + n + 1);
	out[n + 1 + ULID_LEN] = '\0';
	return 0;
}

bool ids_valid(const char *prefix, const char *id)
{
	return id_ulid(prefix, id) != NULL;
}

int ids_time_ms(const char *id, uint64_t *ms)
{
	const char *u = id_ulid(NULL, id);
	uint64_t v = 0;
	int i;

	if (!u)
		return -EINVAL;
	/* 10 characters = 50 bits; the first is <= 7, so 48 are used. */
	for (i = 0; i < ULID_TIME_CHARS; i++)
		v = v << 5 | (uint64_t)crock_val(u[i]);
	*ms = v;
	return 0;
}

/*
 * The ASCII letter Go's unicode.ToLower makes of the non-ASCII rune at @s,
 * or 0.  Only two runes lower-case to ASCII: U+0130 'İ' -> 'i' and U+212A
 * (Kelvin sign) -> 'k'.  Go decodes UTF-8 from every non-continuation byte
 * and never swallows ASCII, so matching the byte sequences is exact.
 * *n is set to the bytes consumed.
 */
static char slug_nonascii(const unsigned char *s, size_t *n)
{
	if (s[0] == 0xc4 && s[1] == 0xb0) {
		*n = 2;
		return 'i';
	}
	if (s[0] == 0xe2 && s[1] == 0x84 && s[2] == 0xaa) {
		*n = 3;
		return 'k';
	}
	*n = 1;
	return 0;
}

/* What the name bytes at @s become in a slug: a char, '-' or 0 (dropped). */
static char slug_char(const unsigned char *s, size_t *n)
{
	unsigned char c = s[0];

	*n = 1;
	if (c >= 0x80)
		return slug_nonascii(s, n);
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if (c == ' ')
		return '-';
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
		return (char)c;
	return 0;
}

int slug_from_name(const char *name, char out[SLUG_MAX + 1])
{
	const unsigned char *s = (const unsigned char *)name;
	char tmp[SLUG_MAX + 1];
	size_t len = 0, step;
	bool dash = false;
	char c;

	if (!name)
		return -EINVAL;
	/* A '-' is held back until a character follows it: this collapses
	 * runs and trims both ends in one pass. */
	for (; *s; s += step) {
		c = slug_char(s, &step);
		if (c == '-')
			dash = len > 0;
		if (c == '\0' || c == '-')
			continue;
		if (len + dash + 1 > SLUG_MAX)
			return -ENAMETOOLONG;
		if (dash)
			tmp[len++] = '-';
		dash = false;
		tmp[len++] = c;
	}
	if (len == 0)
		return -EINVAL;
	tmp[len] = '\0';
	memcpy(out, tmp, len + 1);
	return 0;
}

bool slug_valid(const char *s)
{
	size_t n, i;

	if (!s)
		return false;
	n = strnlen(s, SLUG_MAX + 1);
	if (n == 0 || n > SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '-' && s[i + 1] == '-')
			return false;
		if (s[i] != '-' && !(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9'))
			return false;
	}
	return true;
}
