/*
 * redact_i.h - internals shared by the redact module's files.
 *
 * The registered forms are kept in one sodium_malloc'd arena; the index is
 * an array of (offset, length, hash) sorted by hash, then by length
 * descending, so the longest form at a position is found first.  The hash
 * is taken over a form's first REDACT_HASH_BYTES bytes; a 65536-bit filter
 * on it lets the scanner reject almost every position with one load.  A hex
 * form, matched in any case, is indexed once under each spelling of its
 * first bytes ("a1b2", "A1b2", ... "A1B2": at most 16), all entries naming
 * the same lower-case bytes in the arena, so the scanner hashes the text
 * as it is.
 */
#ifndef EXECFS_REDACT_I_H
#define EXECFS_REDACT_I_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "redact.h"

#define REDACT_HASH_BYTES 4	/* every form is at least this long */
#define REDACT_FILTER_WORDS (65536 / 64)

struct redact_form {
	uint32_t off;	/* into arena */
	uint32_t len;
	uint32_t hash;	/* redact_hash() of the first bytes (for a hex
			   form, of one spelling of them) */
	bool hex;	/* lower-case hex digits, matched in any case */
};

struct redactor {
	size_t min_len;
	size_t line_cap;
	bool no_keys;
	unsigned char *arena;	/* sodium_malloc'd, wiped on free */
	size_t arena_len;
	size_t arena_alloc;
	struct redact_form *forms;	/* sorted: hash, then len descending,
					   then hex, then bytes */
	size_t nforms;
	size_t aforms;
	size_t maxlen;		/* longest form, 0 when none */
	bool nl_forms;		/* some form holds a '\n' (a multi-line
				   value as a whole) */
	atomic_int nstreams;	/* live streams; adding secrets is refused */
	uint64_t filter[REDACT_FILTER_WORDS];
};

/* Hash of the REDACT_HASH_BYTES bytes at @p, 16 bits. */
static inline uint32_t redact_hash(const unsigned char *p)
{
	uint32_t x;

	memcpy(&x, p, sizeof(x));
	return (x * 2654435761u) >> 16;
}

static inline bool redact_filter_hit(const struct redactor *r, uint32_t h)
{
	return (r->filter[h >> 6] >> (h & 63)) & 1;
}

/*
 * redact_add_form() - register one form (copied), skipping duplicates and
 * forms shorter than REDACT_HASH_BYTES.  With @hex, @p is lower-case hex
 * digits and matches in upper and mixed case too; else it matches
 * exactly.  Return: 0 or -ENOMEM.
 */
int redact_add_form(struct redactor *r, const unsigned char *p, size_t n,
		    bool hex);

/*
 * redact_add_encodings() - register @v and all its encoded forms.
 * Return: 0 or -ENOMEM.
 */
int redact_add_encodings(struct redactor *r, const unsigned char *v,
			 size_t n);

/*
 * redact_longest() - length of the longest form starting at @p with at most
 * @avail bytes available (@avail >= REDACT_HASH_BYTES), 0 if none.
 */
size_t redact_longest(const struct redactor *r, const unsigned char *p,
		      size_t avail);

/*
 * redact_key_ranges() - find the values of key-name patterns in the line
 * @l (@n bytes, no '\n') that starts at absolute offset @off, and pass each
 * value's absolute range to @add, in increasing order.
 * Return: 0 or the first negative value @add returned.
 */
int redact_key_ranges(const unsigned char *l, size_t n, uint64_t off,
		      int (*add)(void *ctx, uint64_t start, uint64_t end),
		      void *ctx);

#endif
