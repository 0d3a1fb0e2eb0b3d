/*
 * evcode.c - line events coded as references into the log (evcode.h).
 *
 * The coder and the decoder keep the same heads in the same slots: the
 * coder names the slot it diffed against and the slot the new head goes
 * to, so the decoder needs no rule of its own.  The coder diffs against
 * the slot sharing most bytes with the new head; the new head replaces
 * it when they differ by little (the same task and stream, a later
 * time), else the slot used least recently, so lines of two streams or
 * tasks taking turns keep a slot each.
 */
#include "evcode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "yaml.h"

enum { EVC_LIT = 1, EVC_LINE = 3, EVC_RUN = 4 };

#define SAME_HEAD 16		/* heads this close share a slot */
#define PREFETCH_SLACK (256u << 10) /* log bytes read at once past @size */

/* ---- coding ------------------------------------------------------------ */

void evenc_reset(struct evenc *en)
{
	for (int s = 0; s < EVC_SLOTS; s++)
		free(en->head[s]);
	memset(en, 0, sizeof(*en));
}

int evenc_lit(struct evenc *en, struct buf *code, const char *p, size_t n)
{
	size_t at = code->len;
	int rc;

	(void)en;
	if (n == 0)
		return 0;
	rc = buf_addc(code, EVC_LIT);
	if (!rc)
		rc = buf_addvarint(code, n);
	if (!rc)
		rc = buf_add(code, p, n);
	if (rc)
		buf_truncate(code, at);
	return rc;
}

/* Bytes @a and @b share at their start, and then at their end (not
 * counting those again). */
static void common(const char *a, size_t an, const char *b, size_t bn,
		   size_t *head, size_t *tail)
{
	size_t most = an < bn ? an : bn, h = 0, t = 0;

	while (h < most && a[h] == b[h])
		h++;
	while (t < most - h && a[an - 1 - t] == b[bn - 1 - t])
		t++;
	*head = h;
	*tail = t;
}

/* The slot to diff head @p against, with what it shares, and in *@to
 * the slot the head goes to. */
static int pick(const struct evenc *en, const char *p, size_t n,
		size_t *head, size_t *tail, int *to)
{
	size_t h, t, best = 0;
	int s, bs = 0, lru = 0;

	*head = *tail = 0;
	for (s = 0; s < EVC_SLOTS; s++) {
		if (en->used[s] < en->used[lru])
			lru = s;
		if (!en->head[s])
			continue;
		if (en->hlen[s] == n && !memcmp(en->head[s], p, n)) {
			*head = n;	/* the same head again */
			*tail = 0;
			*to = s;
			return s;
		}
		common(en->head[s], en->hlen[s], p, n, &h, &t);
		if (h + t > best) {
			best = h + t;
			bs = s;
			*head = h;
			*tail = t;
		}
	}
	*to = n - best <= SAME_HEAD ? bs : lru;
	return bs;
}

/* The bytes of @n events of head @hlen over @len bytes of text (and
 * newlines, for a run), @qx more once quoted. */
static uint64_t run_size(uint64_t n, uint64_t hlen, uint64_t len,
			 uint64_t qx)
{
	return n ? n * (hlen + 4) + (len - n) + qx : hlen + len + qx + 4;
}

uint64_t evc_line_size(const struct evc_line *l)
{
	return run_size(l->lines, l->hlen, l->len, l->qx);
}

/* Head, text quoted, end: one event. */
static int one_event(const char *head, size_t hlen, const char *text,
		     size_t len, struct buf *out)
{
	if (buf_add(out, head, hlen) || json_quote(out, text, len) ||
	    buf_add(out, "}\n", 2))
		return -ENOMEM;
	return 0;
}

/* The events of the newline-ended lines in @text (@len bytes), each
 * with @head.  Return: 0; -ENOMEM; -EIO (not @n such lines). */
static int run_events(const char *head, size_t hlen, const char *text,
		      size_t len, uint64_t n, struct buf *out)
{
	const char *p = text, *end = text + len, *nl;
	uint64_t k = 0;

	for (; p < end && k < n; p = nl + 1, k++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return -EIO;
		if (one_event(head, hlen, p, (size_t)(nl - p), out))
			return -ENOMEM;
	}
	return p == end && k == n ? 0 : -EIO;
}

int evc_line_render(const struct evc_line *l, struct buf *out)
{
	size_t at = out->len;
	int rc = l->lines ? run_events(l->head, l->hlen, l->text, l->len,
				       l->lines, out)
			  : one_event(l->head, l->hlen, l->text, l->len, out);

	if (rc)
		buf_truncate(out, at);
	return rc;
}

bool evenc_refers(const struct evenc *en, const struct evc_line *l)
{
	return l->hlen > 0 && l->hlen <= EVC_HEAD_MAX &&
	       l->len <= EVC_TEXT_MAX && l->lines <= l->len &&
	       l->qx <= 5 * (uint64_t)(l->len - l->lines) &&
	       (!l->lines || evc_line_size(l) <= EVC_RUN_MAX) &&
	       l->log_off != EVC_NO_LOG && l->log_off >= en->log_next;
}

/* @l as LIT: its bytes rendered. */
static int line_lit(struct evenc *en, struct buf *code,
		    const struct evc_line *l)
{
	struct buf ev = BUF_INIT(SIZE_MAX);
	int rc = evc_line_render(l, &ev);

	if (!rc)
		rc = evenc_lit(en, code, ev.data, ev.len);
	buf_release(&ev);
	return rc;
}

/* Up to five varints into @p.  Return: bytes written. */
static size_t varints(unsigned char *p, const uint64_t *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t x = v[i];

		while (x >= 0x80) {
			p[k++] = (unsigned char)(x | 0x80);
			x >>= 7;
		}
		p[k++] = (unsigned char)x;
	}
	return k;
}

/* A LINE or RUN record: the head @p (@n bytes) diffed against slot @s as
 * pick() found, then @tail numbers (skip, len[, lines], qx). */
static int put_line(struct buf *code, int type, int s, int to, size_t h,
		    size_t t, const char *p, size_t n, const uint64_t *tail,
		    size_t ntail)
{
	unsigned char a[1 + 4 * 10], b[4 * 10];
	uint64_t v[4] = {(uint64_t)(s * EVC_SLOTS + to), h, t, n - h - t};
	size_t na = 1 + varints(a + 1, v, 4);

	a[0] = (unsigned char)type;
	if (buf_add(code, a, na) || buf_add(code, p + h, n - h - t) ||
	    buf_add(code, b, varints(b, tail, ntail)))
		return -ENOMEM;
	return 0;
}

int evenc_line(struct evenc *en, struct buf *code, const struct evc_line *l)
{
	size_t at = code->len, h, t;
	int s, to, rc;

	if (!evenc_refers(en, l))
		return line_lit(en, code, l);
	s = pick(en, l->head, l->hlen, &h, &t, &to);
	if (!en->head[to] && !(en->head[to] = malloc(EVC_HEAD_MAX)))
		return -ENOMEM;
	if (l->lines) {
		uint64_t tail[4] = {l->log_off - en->log_next, l->len,
				    l->lines, l->qx};

		rc = put_line(code, EVC_RUN, s, to, h, t, l->head, l->hlen,
			      tail, 4);
	} else {
		/* LINE's qx counts the quotes */
		uint64_t tail[3] = {l->log_off - en->log_next, l->len,
				    l->qx + 2};

		rc = put_line(code, EVC_LINE, s, to, h, t, l->head, l->hlen,
			      tail, 3);
	}
	if (rc) {
		buf_truncate(code, at);
		return rc;
	}
	if (h != l->hlen || to != s)
		memcpy(en->head[to], l->head, l->hlen);
	en->hlen[to] = l->hlen;
	en->used[to] = ++en->clock;
	en->log_next = l->log_off + l->len;
	return 0;
}

/* ---- decoding ---------------------------------------------------------- */

struct dec {
	const unsigned char *p, *end;
	uint64_t pos, stop;	/* stream offsets: the next record's, the
				   chunk's end */
	char head[EVC_SLOTS][EVC_HEAD_MAX];
	size_t hlen[EVC_SLOTS];
	uint64_t log_next;
};

/* One decoded record: its bytes in the stream, and what renders them. */
struct rec {
	int type;
	uint64_t len;		/* stream bytes */
	const char *lit;	/* LIT */
	int slot;		/* LINE, RUN: the head is in d->head[slot] */
	uint64_t log_off;	/* LINE, RUN */
	size_t text;		/* LINE, RUN: log bytes */
	uint64_t lines;		/* RUN: its events (lines of the text) */
};

static int get_num(struct dec *d, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (d->p < d->end && shift < 64) {
		unsigned char c = *d->p++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
		shift += 7;
	}
	return -EIO;
}

/* The new head: @h bytes of the one in @from, @m new ones, @t of the
 * old again; it goes to slot @to. */
static int head_next(struct dec *d, uint64_t from, uint64_t to, uint64_t h,
		     uint64_t t, uint64_t m)
{
	char tmp[EVC_HEAD_MAX];
	size_t old = d->hlen[from];

	/* each bound before the sum it guards: varints are 64-bit */
	if (h > old || t > old - h || m > EVC_HEAD_MAX - h - t ||
	    m > (uint64_t)(d->end - d->p))
		return -EIO;
	memcpy(tmp, d->head[from], h);
	memcpy(tmp + h, d->p, m);
	memcpy(tmp + h + m, d->head[from] + old - t, t);
	d->p += m;
	memcpy(d->head[to], tmp, h + m + t);
	d->hlen[to] = h + m + t;
	return 0;
}

/* LINE or RUN (r->type). */
static int next_line(struct dec *d, struct rec *r)
{
	uint64_t s, h, t, m, skip, len, n = 0, qx;
	bool run = r->type == EVC_RUN;

	if (get_num(d, &s) || s >= EVC_SLOTS * EVC_SLOTS || get_num(d, &h) ||
	    get_num(d, &t) || get_num(d, &m) ||
	    head_next(d, s / EVC_SLOTS, s % EVC_SLOTS, h, t, m) ||
	    get_num(d, &skip) || get_num(d, &len) ||
	    (run && get_num(d, &n)) || get_num(d, &qx))
		return -EIO;
	/* a text is at most EVC_TEXT_MAX bytes, quoted at most 6 a byte
	 * (LINE's qx counts its quotes) */
	if (skip > UINT64_MAX - d->log_next - EVC_TEXT_MAX ||
	    len > EVC_TEXT_MAX || (run && (n == 0 || n > len)) ||
	    (!run && qx < 2) || qx > 5 * (len - n) + 2 * !run)
		return -EIO;
	r->slot = (int)(s % EVC_SLOTS);
	r->log_off = d->log_next + skip;
	r->text = (size_t)len;
	r->lines = n;
	r->len = run ? run_size(n, d->hlen[r->slot], len, qx)
		     : d->hlen[r->slot] + len + qx + 2;
	if (run && r->len > EVC_RUN_MAX)
		return -EIO;	/* the coder never makes one: rendered whole */
	d->log_next = r->log_off + len;
	return 0;
}

static int next_lit(struct dec *d, struct rec *r)
{
	uint64_t n;

	if (get_num(d, &n) || n == 0 || n > (uint64_t)(d->end - d->p))
		return -EIO;
	r->lit = (const char *)d->p;
	r->len = n;
	d->p += n;
	return 0;
}

/* Read the next record, which must end within the chunk's bytes.
 * Return: 1; 0 at the end; -EIO. */
static int next_rec(struct dec *d, struct rec *r)
{
	int rc;

	if (d->p == d->end)
		return 0;
	r->type = *d->p++;
	if (r->type == EVC_LINE || r->type == EVC_RUN)
		rc = next_line(d, r);
	else
		rc = r->type == EVC_LIT ? next_lit(d, r) : -EIO;
	if (rc || r->len > d->stop - d->pos)
		return -EIO;
	d->pos += r->len;
	return 1;
}

/* Log bytes read ahead for the lines a render needs. */
struct ahead {
	evc_log_fn log;
	void *ctx;
	struct buf b;
	uint64_t from;		/* log offset of b's first byte */
};

static void dec_init(struct dec *d, const char *code, size_t n,
		     uint64_t start, uint64_t vlen)
{
	d->p = (const unsigned char *)code;
	d->end = d->p + n;
	d->pos = start;
	d->stop = start + vlen;
	memset(d->hlen, 0, sizeof(d->hlen));
	d->log_next = 0;
}

/* The log span of the lines overlapping [off, stop) of the chunk; one
 * read when it is not much larger than the render. */
static int prefetch(struct dec *d, uint64_t start, uint64_t off,
		    uint64_t stop, struct ahead *a)
{
	uint64_t pos = start, lo = UINT64_MAX, hi = 0;
	struct rec r;
	ssize_t got;
	int rc = 0;

	while (pos < stop && (rc = next_rec(d, &r)) == 1) {
		if (r.type != EVC_LIT && pos + r.len > off) {
			lo = lo < r.log_off ? lo : r.log_off;
			hi = r.log_off + r.text;
		}
		pos += r.len;
	}
	if (pos < stop && rc < 0)
		return -EIO;
	if (lo >= hi || (hi - lo > PREFETCH_SLACK &&
			 (hi - lo - PREFETCH_SLACK) / 4 > stop - off))
		return 0;
	a->from = lo;
	got = a->log(a->ctx, lo, (size_t)(hi - lo), &a->b);
	return got < 0 ? (int)got : 0;
}

/* The text of a line: from the read-ahead, else read alone into @tmp. */
static int line_text(struct ahead *a, const struct rec *r, struct buf *tmp,
		     const char **p, size_t *n)
{
	ssize_t got;

	if (r->log_off >= a->from && r->log_off - a->from < a->b.len) {
		uint64_t at = r->log_off - a->from;

		*p = a->b.data + at;
		*n = a->b.len - at < r->text ? (size_t)(a->b.len - at) : r->text;
		return 0;
	}
	buf_reset(tmp);
	got = a->log(a->ctx, r->log_off, r->text, tmp);
	if (got < 0)
		return (int)got;
	*p = tmp->data ? tmp->data : "";
	*n = tmp->len;
	return 0;
}

/* A line (or run) whose text is lost: "" and blanks, the same length. */
static int placeholder(struct buf *ev, size_t hlen, uint64_t len)
{
	buf_truncate(ev, hlen);
	if (len < hlen + 4) {
		while (ev->len + 1 < len)
			if (buf_addc(ev, ' '))
				return -ENOMEM;
		return buf_addc(ev, '\n');
	}
	if (buf_add(ev, "\"\"", 2))
		return -ENOMEM;
	while (ev->len + 2 < len)
		if (buf_addc(ev, ' '))
			return -ENOMEM;
	return buf_add(ev, "}\n", 2);
}

/* The whole event of line @r into @ev. */
static int line_event(const struct dec *d, const struct rec *r,
		      struct ahead *a, struct buf *tmp, struct buf *ev)
{
	size_t hlen = d->hlen[r->slot], n = 0;
	const char *p = NULL;
	int rc;

	buf_reset(ev);
	rc = line_text(a, r, tmp, &p, &n);
	if (rc)
		return rc;
	if (n == r->text) {
		rc = r->lines ? run_events(d->head[r->slot], hlen, p, n,
					   r->lines, ev)
			      : one_event(d->head[r->slot], hlen, p, n, ev);
		if (rc == -ENOMEM)
			return rc;
		if (!rc && ev->len == r->len)
			return 0;
	}
	buf_reset(ev);
	if (buf_add(ev, d->head[r->slot], hlen))
		return -ENOMEM;
	return placeholder(ev, hlen, r->len);
}

/* Append the part of [pos, pos+n) of @p within [off, stop). */
static int clip(struct buf *out, const char *p, uint64_t pos, uint64_t n,
		uint64_t off, uint64_t stop)
{
	uint64_t from = pos < off ? off - pos : 0;
	uint64_t to = pos + n > stop ? stop - pos : n;

	return from < to ? buf_add(out, p + from, (size_t)(to - from)) : 0;
}

static int render_all(struct dec *d, uint64_t start, uint64_t off,
		      uint64_t stop, struct ahead *a, struct buf *out)
{
	struct buf tmp = BUF_INIT(SIZE_MAX), ev = BUF_INIT(SIZE_MAX);
	uint64_t pos = start;
	struct rec r;
	int rc = 0, more = 0;

	while (!rc && pos < stop && (more = next_rec(d, &r)) == 1) {
		if (pos + r.len > off && r.type == EVC_LIT)
			rc = clip(out, r.lit, pos, r.len, off, stop);
		else if (pos + r.len > off &&
			 (rc = line_event(d, &r, a, &tmp, &ev)) == 0)
			rc = clip(out, ev.data, pos, r.len, off, stop);
		pos += r.len;
	}
	if (!rc && pos < stop && more < 0)
		rc = -EIO;
	buf_release(&tmp);
	buf_release(&ev);
	return rc;
}

ssize_t evc_render(const char *code, size_t n, uint64_t start, uint64_t vlen,
		   uint64_t off, size_t size, evc_log_fn log, void *ctx,
		   struct buf *out)
{
	struct ahead a = {log, ctx, BUF_INIT(SIZE_MAX), 0};
	size_t len0 = out->len;
	uint64_t stop;
	struct dec *d;
	int rc;

	if (off < start || size == 0 || vlen > UINT64_MAX - start)
		return 0;
	stop = off + size < off ? UINT64_MAX : off + size;
	d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	dec_init(d, code, n, start, vlen);
	rc = prefetch(d, start, off, stop, &a);
	if (!rc) {
		dec_init(d, code, n, start, vlen);
		rc = render_all(d, start, off, stop, &a, out);
	}
	buf_release(&a.b);
	free(d);
	if (rc) {
		buf_truncate(out, len0);
		return rc;
	}
	return (ssize_t)(out->len - len0);
}
