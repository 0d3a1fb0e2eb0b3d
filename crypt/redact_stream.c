/*
 * redact_stream.c - the stream filter: literal forms and key-name patterns
 * over a byte stream cut at arbitrary points.
 *
 * The stream keeps the bytes not yet emitted in one buffer that starts at
 * absolute offset base.  It is allocated at the first byte and grows as
 * the bytes held need, up to the fixed size that makes progress certain
 * (the longest form or line held, plus a slice of input): most tasks
 * print little or nothing, and a buffer of that size would be mapped and
 * unmapped for each of their streams.  Input is taken in the same pieces
 * as with the full buffer, so the output does not depend on growth.  Literal matches are looked for at every
 * start position whose longest possible form fits in the buffer; key
 * patterns are looked for in every complete line.  Both produce ranges
 * (two queues, each sorted by start).  Bytes before the first position that
 * a later match could still cover are emitted, each merged run of ranges
 * becoming one REDACT_MASK; a run that reaches past the emitted part is
 * remembered in red_until so its tail is dropped when it is emitted.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redact_i.h"

#define SLICE (64u << 10)	/* input taken per round */
#define FIRST_CAP 4096		/* the buffer's size at the first byte */

struct range {
	uint64_t start;
	uint64_t end;
};

struct rqueue {
	struct range *v;
	size_t head;	/* first range not yet emitted */
	size_t len;
	size_t alloc;
};

struct redact_stream {
	struct redactor *r;
	unsigned char *p;	/* held bytes; wiped on free */
	size_t len;
	size_t cap;		/* 0 until the first byte */
	size_t full;		/* cap at most: the longest hold + SLICE */
	size_t used;		/* bytes of p ever written: what is wiped
				   (most of a large p is never touched) */
	uint64_t base;		/* absolute offset of p[0] */
	uint64_t lit_next;	/* next literal start to look at */
	uint64_t line_start;	/* start of the incomplete line */
	uint64_t line_next;	/* next byte to look at for '\n' */
	bool line_skip;		/* incomplete line is over line_cap */
	bool have_red;		/* a mask was emitted for [.., red_until) */
	uint64_t red_until;
	struct rqueue lit;
	struct rqueue key;
	int err;		/* sticky failure: fail closed */
};

int redactor_stream_new(struct redactor *r, struct redact_stream **out)
{
	struct redact_stream *s = calloc(1, sizeof(*s));
	size_t hold = r->maxlen > r->line_cap ? r->maxlen : r->line_cap;

	if (!s)
		return -ENOMEM;
	s->full = hold + SLICE;
	s->r = r;
	atomic_fetch_add(&r->nstreams, 1);
	*out = s;
	return 0;
}

void redact_stream_free(struct redact_stream *s)
{
	if (!s)
		return;
	if (s->p)
		sodium_memzero(s->p, s->used);
	free(s->p);
	free(s->lit.v);
	free(s->key.v);
	atomic_fetch_sub(&s->r->nstreams, 1);
	free(s);
}

/* Append [start, end), merging with the last range when they touch. */
static int rq_push(struct rqueue *q, uint64_t start, uint64_t end)
{
	int rc;

	if (q->len > q->head && q->v[q->len - 1].end >= start) {
		if (end > q->v[q->len - 1].end)
			q->v[q->len - 1].end = end;
		return 0;
	}
	rc = array_reserve(&q->v, &q->alloc, q->len, sizeof(*q->v));
	if (rc < 0)
		return rc;
	q->v[q->len].start = start;
	q->v[q->len].end = end;
	q->len++;
	return 0;
}

static int push_key(void *q, uint64_t start, uint64_t end)
{
	return rq_push(q, start, end);
}

static void rq_compact(struct rqueue *q)
{
	if (q->head == 0)
		return;
	memmove(q->v, q->v + q->head, (q->len - q->head) * sizeof(*q->v));
	q->len -= q->head;
	q->head = 0;
}

/*
 * The end (index) of the positions a literal match can be decided for.
 * A match may still grow into bytes not yet seen, so the last maxlen - 1
 * bytes wait; but when no form holds a '\n', no match crosses one, and
 * everything up to the last complete line is decided: a line is shown as
 * soon as it ends, not when later output pushes it out.
 */
static size_t decided(const struct redact_stream *s, bool final)
{
	const struct redactor *r = s->r;
	size_t keep = final ? REDACT_HASH_BYTES - 1 : r->maxlen - 1;
	size_t to = s->len > keep ? s->len - keep : 0;
	size_t from = (size_t)(s->lit_next - s->base);
	const unsigned char *nl;

	if (final || r->nl_forms || s->len <= from)
		return to;
	nl = memrchr(s->p + from, '\n', s->len - from);
	if (nl && (size_t)(nl - s->p) + 1 > to)
		to = (size_t)(nl - s->p) + 1;
	return to;
}

/* Look for literal forms at every start position that can be decided. */
static int scan_literals(struct redact_stream *s, bool final)
{
	const struct redactor *r = s->r;
	uint64_t end = s->base + s->len;
	size_t i, to, scan_to;
	int rc;

	if (r->maxlen == 0) {
		s->lit_next = end;
		return 0;
	}
	to = decided(s, final);
	/* The hash reads REDACT_HASH_BYTES; a form (at least that long)
	 * cannot start in the last bytes before a decided line end. */
	scan_to = s->len >= REDACT_HASH_BYTES - 1 ?
		  s->len - (REDACT_HASH_BYTES - 1) : 0;
	if (scan_to > to)
		scan_to = to;
	for (i = (size_t)(s->lit_next - s->base); i < scan_to; i++) {
		size_t n;

		if (!redact_filter_hit(r, redact_hash(s->p + i)))
			continue;
		n = redact_longest(r, s->p + i, s->len - i);
		if (n == 0)
			continue;
		rc = rq_push(&s->lit, s->base + i, s->base + i + n);
		if (rc < 0)
			return rc;
	}
	if (to > s->lit_next - s->base)
		s->lit_next = s->base + to;
	if (final)
		s->lit_next = end;
	return 0;
}

/* Key patterns of the line [start, end) of the buffer, if not too long. */
static int line_keys(struct redact_stream *s, uint64_t start, uint64_t end)
{
	if (s->line_skip || end - start > s->r->line_cap)
		return 0;
	return redact_key_ranges(s->p + (start - s->base),
				 (size_t)(end - start), start, push_key,
				 &s->key);
}

/* Look for key patterns in each line completed since the last call. */
static int scan_lines(struct redact_stream *s, bool final)
{
	uint64_t end = s->base + s->len, nl_at;
	const unsigned char *nl;
	int rc;

	if (s->r->no_keys) {
		s->line_start = s->line_next = end;
		return 0;
	}
	while (s->line_next < end) {
		nl = memchr(s->p + (s->line_next - s->base), '\n',
			    (size_t)(end - s->line_next));
		if (!nl)
			break;
		nl_at = s->base + (uint64_t)(nl - s->p);
		rc = line_keys(s, s->line_start, nl_at);
		if (rc < 0)
			return rc;
		s->line_start = s->line_next = nl_at + 1;
		s->line_skip = false;
	}
	s->line_next = end;
	if (end - s->line_start > s->r->line_cap)
		s->line_skip = true;
	if (final && end > s->line_start) {
		rc = line_keys(s, s->line_start, end);
		if (rc < 0)
			return rc;
		s->line_start = end;
	}
	if (final)
		s->line_skip = false;
	return 0;
}

/* The queue whose next range starts first before @limit, or NULL. */
static struct rqueue *next_queue(struct redact_stream *s, uint64_t limit)
{
	struct rqueue *a = &s->lit, *b = &s->key;
	bool ha = a->head < a->len && a->v[a->head].start < limit;
	bool hb = b->head < b->len && b->v[b->head].start < limit;

	if (ha && hb)
		return a->v[a->head].start <= b->v[b->head].start ? a : b;
	return ha ? a : hb ? b : NULL;
}

/* Emit held bytes from the first not yet emitted up to @to (absolute). */
static int emit_bytes(struct redact_stream *s, uint64_t to, struct buf *out)
{
	uint64_t from = s->base;

	if (s->have_red && s->red_until > from)
		from = s->red_until;
	if (from >= to)
		return 0;
	return buf_add(out, s->p + (from - s->base), (size_t)(to - from));
}

/* Emit every byte before @limit, masking the ranges that start there. */
static int emit(struct redact_stream *s, uint64_t limit, struct buf *out)
{
	struct rqueue *q;
	size_t done;
	int rc;

	while ((q = next_queue(s, limit))) {
		struct range *g = &q->v[q->head++];

		if (s->have_red && g->start <= s->red_until) {
			if (g->end > s->red_until)
				s->red_until = g->end;
			continue;
		}
		rc = emit_bytes(s, g->start, out);
		if (rc == 0)
			rc = buf_addstr(out, REDACT_MASK);
		if (rc < 0)
			return rc;
		s->have_red = true;
		s->red_until = g->end;
	}
	rc = emit_bytes(s, limit, out);
	if (rc < 0)
		return rc;
	done = (size_t)(limit - s->base);
	if (s->len > done)
		memmove(s->p, s->p + done, s->len - done);
	s->len -= done;
	s->base = limit;
	rq_compact(&s->lit);
	rq_compact(&s->key);
	return 0;
}

static int process(struct redact_stream *s, bool final, struct buf *out)
{
	uint64_t limit;
	int rc;

	rc = scan_literals(s, final);
	if (rc == 0)
		rc = scan_lines(s, final);
	if (rc < 0)
		return rc;
	limit = s->lit_next;
	if (!s->line_skip && s->line_start < limit)
		limit = s->line_start;
	return emit(s, limit, out);
}

/* A buffer of at least @want bytes (at most s->full): the held bytes are
 * copied over and the old buffer wiped. */
static int grow(struct redact_stream *s, size_t want)
{
	size_t cap = s->cap ? 2 * s->cap : FIRST_CAP;
	unsigned char *p;

	if (cap < want)
		cap = want;
	if (cap > s->full)
		cap = s->full;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	if (s->len)
		memcpy(p, s->p, s->len);
	if (s->p)
		sodium_memzero(s->p, s->used);
	free(s->p);
	s->p = p;
	s->cap = cap;
	s->used = s->len;
	return 0;
}

/* Record a failure: @out back as it was, the stream closed. */
static int fail(struct redact_stream *s, struct buf *out, size_t len, int rc)
{
	buf_truncate(out, len);
	s->err = rc;
	return rc;
}

int redact_stream_write(struct redact_stream *s, const void *in, size_t n,
			struct buf *out)
{
	const unsigned char *p = in;
	size_t out_len = out->len;
	int rc;

	if (s->err)
		return s->err;
	while (n > 0) {
		size_t take;

		if (s->cap - s->len < n && s->cap < s->full) {
			rc = grow(s, s->len + n);
			if (rc < 0)
				return fail(s, out, out_len, rc);
		}
		take = s->cap - s->len < n ? s->cap - s->len : n;
		memcpy(s->p + s->len, p, take);
		s->len += take;
		if (s->len > s->used)
			s->used = s->len;
		p += take;
		n -= take;
		rc = process(s, false, out);
		if (rc < 0)
			return fail(s, out, out_len, rc);
	}
	return 0;
}

int redact_stream_flush(struct redact_stream *s, struct buf *out)
{
	size_t out_len = out->len;
	int rc;

	if (s->err)
		return s->err;
	rc = process(s, true, out);
	if (rc < 0)
		return fail(s, out, out_len, rc);
	s->have_red = false;
	return 0;
}
