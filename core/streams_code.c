/*
 * streams_code.c - an execution's events stored coded (evcode.h): a line
 * event as a reference to its text in the log, so a byte a task prints is
 * stored once.
 *
 * A coded sink keeps, beside the bytes readers see, the code of what is
 * not persisted yet, cut into segs: each becomes one STORE_CODED chunk,
 * decodable alone, so the coder starts afresh with each seg.  A seg ends
 * when a flush takes it or when it is nearly STORE_CHUNK_MAX bytes of
 * code.  A batch that fails halfway is taken back from the code and the
 * seg is closed there, so the coder's state never outlives what it wrote.
 */
#include "streams_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Code bytes of one seg, at most.  A read of events not persisted yet
 * decodes the seg holding its offset from the seg's start (the coder's
 * heads are per seg): a follower reading each new event would decode up
 * to a whole seg each time, so segs stay small. */
#define SEG_MAX ((16u << 10) - 64)
#define LINE_CODE_MAX (EVC_HEAD_MAX + 128) /* code of one LINE, at most */
#define LIT_MIN 256	/* below this much room a LIT starts a new seg */

/* Close the open seg: the next record starts a new one. */
static void seg_close(struct sink *k)
{
	k->seg_open = false;
	evenc_reset(&k->enc);
}

/* Make sure a seg is open with @room bytes of code left.
   Return: 0; -ENOMEM. */
static int seg_room(struct sink *k, size_t room)
{
	struct seg *last = k->nseg ? &k->segs[k->nseg - 1] : NULL;

	if (k->seg_open && last->clen + room <= SEG_MAX)
		return 0;
	if (k->nseg == k->segcap) {
		size_t cap = k->segcap ? 2 * k->segcap : 4;
		struct seg *s = realloc(k->segs, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		k->segs = s;
		k->segcap = cap;
	}
	seg_close(k);
	k->segs[k->nseg++] = (struct seg){0, 0};
	k->seg_open = true;
	return 0;
}

/* The open seg grew by what the code grew by since @clen0, for @vlen. */
static void seg_grow(struct sink *k, size_t clen0, uint64_t vlen)
{
	struct seg *last = &k->segs[k->nseg - 1];

	last->clen += k->code.len - clen0;
	last->vlen += vlen;
	k->vpend += vlen;
}

static int lit(struct sink *k, const char *p, size_t n)
{
	size_t c0, piece;
	int rc;

	while (n) {
		rc = seg_room(k, LIT_MIN);
		if (rc)
			return rc;
		piece = SEG_MAX - k->segs[k->nseg - 1].clen - 16;
		if (piece > n)
			piece = n;
		c0 = k->code.len;
		rc = evenc_lit(&k->enc, &k->code, p, piece);
		if (rc)
			return rc;
		seg_grow(k, c0, piece);
		p += piece;
		n -= piece;
	}
	return 0;
}

static int line(struct sink *k, const struct evc_line *l)
{
	/* Room for the record: a reference's, or the event's bytes when the
	 * coder keeps it as LIT (evenc_refers()), split if they are more
	 * than a seg holds. */
	uint64_t size = evc_line_size(l);
	size_t c0, room = evenc_refers(&k->enc, l) ? LINE_CODE_MAX
		: size + 32 > LINE_CODE_MAX ? (size_t)size + 32 : LINE_CODE_MAX;
	int rc;

	if (room > SEG_MAX) {
		struct buf ev = BUF_INIT(SIZE_MAX);

		rc = evc_line_render(l, &ev);
		if (!rc)
			rc = lit(k, ev.data, ev.len);
		buf_release(&ev);
		return rc;
	}
	rc = seg_room(k, room);
	if (rc)
		return rc;
	c0 = k->code.len;
	rc = evenc_line(&k->enc, &k->code, l);
	if (!rc)
		seg_grow(k, c0, size);
	return rc;
}

/* Where the code was before a batch, to take it back. */
struct mark {
	size_t clen, nseg;
	uint64_t vpend;
	struct seg last;
};

static struct mark mark_of(const struct sink *k)
{
	struct mark m = {k->code.len, k->nseg, k->vpend, {0, 0}};

	if (k->nseg)
		m.last = k->segs[k->nseg - 1];
	return m;
}

static void mark_back(struct sink *k, const struct mark *m)
{
	buf_truncate(&k->code, m->clen);
	k->nseg = m->nseg;
	k->vpend = m->vpend;
	if (k->nseg)
		k->segs[k->nseg - 1] = m->last;
	seg_close(k);
}

int code_lit(struct sink *k, const char *p, size_t n)
{
	struct mark m = mark_of(k);
	int rc = lit(k, p, n);

	if (rc)
		mark_back(k, &m);
	return rc;
}

int code_lines(struct sink *k, const struct evc_line *l, size_t nl)
{
	struct mark m = mark_of(k);
	int rc = 0;

	for (size_t i = 0; !rc && i < nl; i++)
		rc = line(k, &l[i]);
	if (rc)
		mark_back(k, &m);
	return rc;
}

int code_take(struct pend *p, struct sink *k)
{
	p->bytes = malloc(k->code.len ? k->code.len : 1);
	p->segs = malloc((k->nseg ? k->nseg : 1) * sizeof(*p->segs));
	if (!p->bytes || !p->segs) {
		free(p->bytes);
		free(p->segs);
		p->bytes = NULL;
		p->segs = NULL;
		return -ENOMEM;
	}
	memcpy(p->bytes, k->code.data, k->code.len);
	memcpy(p->segs, k->segs, k->nseg * sizeof(*p->segs));
	p->nseg = k->nseg;
	p->k = k;
	p->from = k->flushed;
	p->to = k->flushed;
	for (size_t i = 0; i < k->nseg; i++)
		p->to += k->segs[i].vlen;
	seg_close(k);
	return 0;
}

void code_done(struct sink *k, const struct pend *p)
{
	size_t clen = 0;

	for (size_t i = 0; i < p->nseg; i++) {
		clen += p->segs[i].clen;
		k->vpend -= p->segs[i].vlen;
	}
	memmove(k->code.data, k->code.data + clen, k->code.len - clen);
	buf_truncate(&k->code, k->code.len - clen);
	memmove(k->segs, k->segs + p->nseg,
		(k->nseg - p->nseg) * sizeof(*k->segs));
	k->nseg -= p->nseg;
}

size_t code_changes(const struct pend *p, struct store_change *c)
{
	uint64_t at = p->from;
	size_t cat = 0, j = 0;

	for (size_t i = 0; i < p->nseg; i++) {
		if (!p->segs[i].clen)
			continue;
		c[j].op = STORE_APPEND;
		c[j].hdr.serial = p->k->serial;
		c[j].stream = STORE_CODED;
		c[j].off = at;
		c[j].vlen = p->segs[i].vlen;
		c[j].body = p->bytes + cat;
		c[j].len = p->segs[i].clen;
		at += p->segs[i].vlen;
		cat += p->segs[i].clen;
		j++;
	}
	return j;
}

void code_free(struct sink *k)
{
	buf_release(&k->code);
	free(k->segs);
	evenc_reset(&k->enc);
}

/* ---- reading ----------------------------------------------------------- */

struct logrd {
	struct streams *ss;
	uint64_t serial;
};

static ssize_t log_read(void *ctx, uint64_t off, size_t n, struct buf *out)
{
	const struct logrd *l = ctx;

	return streams_read(l->ss, l->serial, PLANE_LOG, off, n, out);
}

ssize_t code_read(struct streams *ss, uint64_t serial, uint64_t off,
		  size_t size, struct buf *out)
{
	struct logrd l = {ss, serial};
	struct buf chunk = BUF_INIT(SIZE_MAX);
	size_t len0 = out->len, done = 0;
	uint64_t start, vlen;
	ssize_t n = 0;
	int rc;

	while (done < size) {
		buf_reset(&chunk);
		rc = store_stream_chunk(ss->st, serial, STORE_CODED, off + done,
					&chunk, &start, &vlen);
		if (rc <= 0) {
			n = rc;
			break;
		}
		n = evc_render(chunk.data, chunk.len, start, vlen, off + done,
			       size - done, log_read, &l, out);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	buf_release(&chunk);
	if (n < 0) {
		buf_truncate(out, len0);
		return n;
	}
	return (ssize_t)done;
}

int code_snap(const struct sink *k, uint64_t off, size_t size,
	      struct snap *sn)
{
	uint64_t pos = k->flushed, stop = off + size;
	size_t i = 0, j, cat = 0, cend;

	*sn = (struct snap){BUF_INIT(SIZE_MAX), NULL, 0, 0};
	for (; i < k->nseg && pos + k->segs[i].vlen <= off; i++) {
		pos += k->segs[i].vlen;
		cat += k->segs[i].clen;
	}
	sn->start = pos;
	cend = cat;
	for (j = i; j < k->nseg && pos < stop; j++) {
		pos += k->segs[j].vlen;
		cend += k->segs[j].clen;
	}
	if (j == i)
		return 0;
	sn->segs = malloc((j - i) * sizeof(*sn->segs));
	if (!sn->segs || buf_add(&sn->code, k->code.data + cat, cend - cat)) {
		free(sn->segs);
		buf_release(&sn->code);
		sn->segs = NULL;
		return -ENOMEM;
	}
	memcpy(sn->segs, k->segs + i, (j - i) * sizeof(*sn->segs));
	sn->nseg = j - i;
	return 0;
}

ssize_t code_render(struct streams *ss, uint64_t serial, struct snap *sn,
		    uint64_t off, size_t size, struct buf *out)
{
	struct logrd l = {ss, serial};
	size_t len0 = out->len, done = 0, cat = 0;
	uint64_t pos = sn->start;
	ssize_t n = 0;

	for (size_t i = 0; i < sn->nseg && done < size; i++) {
		const struct seg *g = &sn->segs[i];

		if (g->vlen && off + done < pos + g->vlen) {
			n = evc_render(sn->code.data + cat, g->clen, pos,
				       g->vlen, off + done, size - done,
				       log_read, &l, out);
			if (n <= 0)
				break;
			done += (size_t)n;
			if (off + done < pos + g->vlen)
				break;	/* short: the rest would not join */
		}
		pos += g->vlen;
		cat += g->clen;
	}
	buf_release(&sn->code);
	free(sn->segs);
	if (n < 0) {
		buf_truncate(out, len0);
		return n;
	}
	return (ssize_t)done;
}
