/*
 * test_streams.c - log and events sinks: appends read back live, the cap,
 * notifications, the flusher persisting on its own, close handing reads
 * over to the store byte for byte, a reopened sink continuing at the
 * stored size, a reader racing a writer, the end of every stream at
 * shutdown, a sink whose execution was deleted under it, and events
 * stored coded (line events referring to the log) or, from an older
 * version, plainly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/streams.h"
#include "core/yaml.h"
#include "fx.h"

#define NSERIAL 8

struct fx {
	char dir[64];
	struct store *st;
	struct streams *ss;
	pthread_mutex_t mu;
	unsigned calls[NSERIAL][PLANE_STREAMS]; /* protected by mu */
};

static void on_notify(void *ctx, uint64_t serial, enum plane_stream s)
{
	struct fx *f = ctx;

	pthread_mutex_lock(&f->mu);
	if (serial < NSERIAL && (unsigned)s < PLANE_STREAMS)
		f->calls[serial][s]++;
	pthread_mutex_unlock(&f->mu);
}

static unsigned calls(struct fx *f, uint64_t serial, enum plane_stream s)
{
	unsigned n;

	pthread_mutex_lock(&f->mu);
	n = f->calls[serial][s];
	pthread_mutex_unlock(&f->mu);
	return n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_opts o = {NULL, 0, 0, 0};

	if (!f)
		return -1;
	o.dir = f->dir;
	if (tmpdir_make(f->dir, sizeof(f->dir), "streams") ||
	    store_open(&f->st, &o, NULL) != 0 ||
	    streams_new(&f->ss, f->st) != 0)
		return -1;
	pthread_mutex_init(&f->mu, NULL);
	streams_set_notify(f->ss, on_notify, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	streams_free(f->ss);
	store_close(f->st);
	pthread_mutex_destroy(&f->mu);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* The byte at @off of every pattern stream of @serial. */
static char pat(uint64_t serial, uint64_t off)
{
	return (char)('a' + (serial * 7 + off * 5 + off / 97) % 26);
}

static void fill(char *p, uint64_t serial, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat(serial, off + i);
}

/* Append @n pattern bytes at the sink's end. */
static int append_pat(struct sink *k, uint64_t serial, size_t n)
{
	char *p = malloc(n ? n : 1);
	int rc;

	assert_non_null(p);
	fill(p, serial, sink_size(k), n);
	rc = sink_append(k, p, n);
	free(p);
	return rc;
}

/* @got holds the pattern of @serial from @off on. */
static void expect_pat(const struct buf *got, uint64_t serial, uint64_t off)
{
	for (size_t i = 0; i < got->len; i++)
		if (got->data[i] != pat(serial, off + i))
			fail_msg("serial %" PRIu64 ": byte %" PRIu64 " differs",
				 serial, off + i);
}

static unsigned store_of(enum plane_stream s)
{
	return s == PLANE_EVENTS ? STORE_CODED : (unsigned)s;
}

/* Stream @s of @serial reads back as @size pattern bytes, through the
 * streams and, when @stored, straight from the store. */
static void expect_stream(struct fx *f, uint64_t serial, enum plane_stream s,
			  uint64_t size, bool stored)
{
	struct buf b = BUF_INIT(16u << 20);
	uint64_t n = 0;

	assert_int_equal(streams_read(f->ss, serial, s, 0, size + 100, &b),
			 (ssize_t)size);
	expect_pat(&b, serial, 0);
	buf_reset(&b);
	if (!stored)
		goto out;
	/* events are stored coded: the store's size counts their bytes */
	assert_int_equal(store_stream_size(f->st, serial, store_of(s), &n), 0);
	assert_int_equal(n, size);
	if (s == PLANE_EVENTS)
		goto out;
	assert_int_equal(store_stream_read(f->st, serial, s, 0, size + 1, &b),
			 (ssize_t)size);
	expect_pat(&b, serial, 0);
out:
	buf_release(&b);
}

struct read_case {
	uint64_t off;
	size_t size;
	const char *want;
};

/* Appends are visible at once, by offset; each one notifies. */
static void live_append_read(void **state)
{
	static const char *parts[] = {"hello ", "world", "\n", ""};
	static const struct read_case reads[] = {
	    {0, 100, "hello world\n"},
	    {3, 4, "lo w"},
	    {11, 5, "\n"},
	    {12, 5, ""},
	    {99, 1, ""},
	    {0, 0, ""},
	};
	struct fx *f = *state;
	struct sink *k = NULL, *again = NULL;
	struct timespec mt;
	uint64_t size;
	bool live;

	assert_int_equal(streams_open(f->ss, 1, PLANE_LOG, 1000, &k), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sink_append(k, parts[i], strlen(parts[i])), 0);
	/* An empty append adds nothing and does not notify. */
	assert_int_equal(calls(f, 1, PLANE_LOG), 3);
	assert_int_equal(calls(f, 1, PLANE_EVENTS), 0);
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		struct buf b = BUF_INIT(64);

		assert_int_equal(streams_read(f->ss, 1, PLANE_LOG, reads[i].off,
					      reads[i].size, &b),
				 (ssize_t)strlen(reads[i].want));
		assert_string_equal(b.data ? b.data : "", reads[i].want);
		buf_release(&b);
	}
	assert_int_equal(sink_size(k), 12);
	assert_int_equal(sink_room(k), 988);
	assert_int_equal(streams_stat(f->ss, 1, PLANE_LOG, &size, &mt, &live),
			 0);
	assert_int_equal(size, 12);
	assert_true(live);
	assert_true(mt.tv_sec > 0);
	/* The other stream of the same run is empty and not live. */
	assert_int_equal(
	    streams_stat(f->ss, 1, PLANE_EVENTS, &size, &mt, &live), 0);
	assert_int_equal(size, 0);
	assert_false(live);
	assert_int_equal(mt.tv_sec, 0);
	assert_int_equal(streams_open(f->ss, 1, PLANE_LOG, 1000, &again),
			 -EBUSY);
	assert_null(again);
	sink_close(k);
	assert_int_equal(calls(f, 1, PLANE_LOG), 4);
}

struct cap_case {
	size_t n;
	int want;
	uint64_t size; /* after it */
};

/* The cap: an append that would pass it adds nothing. */
static void cap_all_or_nothing(void **state)
{
	static const struct cap_case cases[] = {
	    {6, 0, 6}, {5, -EFBIG, 6}, {4, 0, 10}, {1, -EFBIG, 10}, {0, 0, 10},
	};
	struct fx *f = *state;
	struct sink *k = NULL;
	unsigned before;

	assert_int_equal(streams_open(f->ss, 2, PLANE_EVENTS, 10, &k), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		before = calls(f, 2, PLANE_EVENTS);
		assert_int_equal(append_pat(k, 2, cases[i].n), cases[i].want);
		assert_int_equal(sink_size(k), cases[i].size);
		assert_int_equal(calls(f, 2, PLANE_EVENTS),
				 before + (cases[i].want == 0 && cases[i].n));
	}
	assert_int_equal(sink_room(k), 0);
	expect_stream(f, 2, PLANE_EVENTS, 10, false);
	sink_close(k);
	expect_stream(f, 2, PLANE_EVENTS, 10, true);
	/* Reopened with a cap below what is stored: nothing more fits. */
	assert_int_equal(streams_open(f->ss, 2, PLANE_EVENTS, 8, &k), 0);
	assert_int_equal(sink_size(k), 10);
	assert_int_equal(sink_room(k), 0);
	assert_int_equal(append_pat(k, 2, 1), -EFBIG);
	sink_close(k);
}

static uint64_t stored(struct fx *f, uint64_t serial, enum plane_stream s)
{
	uint64_t n = 0;

	assert_int_equal(store_stream_size(f->st, serial, store_of(s), &n), 0);
	return n;
}

/* The flusher persists on its own; sink_flush() at once. */
static void flusher_persists(void **state)
{
	enum { POLL_MS = 5, BOUND_MS = 10000 };
	struct fx *f = *state;
	struct sink *k = NULL, *e = NULL;
	struct err err;
	int waited = 0;

	assert_int_equal(streams_open(f->ss, 3, PLANE_LOG, 1 << 20, &k), 0);
	assert_int_equal(streams_open(f->ss, 3, PLANE_EVENTS, 1 << 20, &e), 0);
	assert_int_equal(append_pat(k, 3, 5000), 0);
	assert_int_equal(append_pat(e, 3, 70), 0);
	while ((stored(f, 3, PLANE_LOG) < 5000 ||
		stored(f, 3, PLANE_EVENTS) < 70) &&
	       waited < BOUND_MS) {
		usleep(POLL_MS * 1000);
		waited += POLL_MS;
	}
	print_message("flusher persisted both streams after ~%d ms\n", waited);
	assert_int_equal(stored(f, 3, PLANE_LOG), 5000);
	assert_int_equal(stored(f, 3, PLANE_EVENTS), 70);
	expect_stream(f, 3, PLANE_LOG, 5000, true);
	err_clear(&err);
	assert_int_equal(append_pat(k, 3, 33), 0);
	assert_int_equal(sink_flush(k, &err), 0);
	assert_int_equal(stored(f, 3, PLANE_LOG), 5033);
	assert_int_equal(sink_flush(k, &err), 0);
	assert_int_equal(stored(f, 3, PLANE_LOG), 5033);
	sink_close(k);
	sink_close(e);
}

/* After close the store serves the stream, byte for byte, including a
 * tail larger than one chunk; a new sink continues at the stored size. */
static void close_then_reopen(void **state)
{
	enum { BIG = 2 * STORE_CHUNK_MAX + 12345 };
	struct fx *f = *state;
	struct sink *k = NULL;
	struct timespec mt;
	uint64_t size;
	bool live;

	assert_int_equal(streams_open(f->ss, 4, PLANE_LOG, 8u << 20, &k), 0);
	assert_int_equal(append_pat(k, 4, 10), 0);
	assert_int_equal(append_pat(k, 4, BIG), 0);
	sink_close(k);
	assert_int_equal(calls(f, 4, PLANE_LOG), 3);
	assert_int_equal(streams_stat(f->ss, 4, PLANE_LOG, &size, &mt, &live),
			 0);
	assert_int_equal(size, 10 + BIG);
	assert_false(live);
	assert_int_equal(mt.tv_sec, 0);
	expect_stream(f, 4, PLANE_LOG, 10 + BIG, true);

	assert_int_equal(streams_open(f->ss, 4, PLANE_LOG, 8u << 20, &k), 0);
	assert_int_equal(sink_size(k), 10 + BIG);
	assert_int_equal(sink_room(k), (8u << 20) - 10 - BIG);
	assert_int_equal(append_pat(k, 4, 777), 0);
	/* A read from before the sink's base runs on into its memory. */
	expect_stream(f, 4, PLANE_LOG, 10 + BIG + 777, false);
	{
		struct buf b = BUF_INIT(64);

		assert_int_equal(
		    streams_read(f->ss, 4, PLANE_LOG, 10 + BIG - 20, 40, &b),
		    40);
		expect_pat(&b, 4, 10 + BIG - 20);
		buf_release(&b);
	}
	sink_close(k);
	expect_stream(f, 4, PLANE_LOG, 10 + BIG + 777, true);
}

enum { RACE_TOTAL = 3u << 20, RACE_BASE = 1000 };

struct race {
	struct fx *f;
	struct sink *k;
	atomic_bool writer_done;
	uint64_t read; /* bytes the reader checked */
	unsigned reads;
	const char *fail;  /* the reader's finding */
	const char *wfail; /* the writer's */
};

/* Appends, and flushes often, so its flushes meet the flusher's: a range
 * appended twice would be stale and make a flush fail. */
static void *race_writer(void *arg)
{
	struct race *r = arg;
	struct err e;
	size_t n = 1;

	for (unsigned i = 1; sink_size(r->k) < RACE_TOTAL; i++) {
		size_t left = RACE_TOTAL - sink_size(r->k);

		n = n * 3 % 4093 + 1;
		if (append_pat(r->k, 5, n < left ? n : left) != 0) {
			r->wfail = "append failed";
			break;
		}
		if (i % 8 == 0 && sink_flush(r->k, &e) != 0) {
			r->wfail = "flush failed";
			break;
		}
	}
	sink_close(r->k);
	atomic_store(&r->writer_done, true);
	return NULL;
}

static int race_stat(struct race *r, uint64_t *size)
{
	struct timespec mt;
	bool live;

	return streams_stat(r->f->ss, 5, PLANE_LOG, size, &mt, &live);
}

/* One reader pass: the size never goes back, a read never returns more
 * than the size says, and what it returns is the pattern. */
static bool race_step(struct race *r, uint64_t *last_size)
{
	struct buf b = BUF_INIT(1 << 20);
	uint64_t before = 0, after = 0;
	ssize_t n;

	if (race_stat(r, &before) || before < *last_size)
		r->fail = "size went back";
	n = streams_read(r->f->ss, 5, PLANE_LOG, r->read, 65536, &b);
	if (race_stat(r, &after) || after < before)
		r->fail = "size went back";
	if (n < 0 || r->read + (uint64_t)n > after)
		r->fail = "read past the size";
	for (ssize_t i = 0; i < n && !r->fail; i++)
		if (b.data[i] != pat(5, r->read + (uint64_t)i))
			r->fail = "bytes differ";
	*last_size = after;
	r->read += n > 0 ? (uint64_t)n : 0;
	r->reads++;
	buf_release(&b);
	return !r->fail;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	uint64_t last = 0;
	unsigned after_end = 0;

	while (r->read < RACE_TOTAL && race_step(r, &last)) {
		/* Once the writer is done everything is there at once. */
		if (atomic_load(&r->writer_done) && ++after_end > 1000) {
			r->fail = "reader never reached the end";
			break;
		}
	}
	return NULL;
}

/* A reader racing the writer sees a growing prefix of the stream, across
 * the store (before the sink's base), memory, flushes and the close. */
static void reader_races_writer(void **state)
{
	struct fx *f = *state;
	struct race r = {.f = f};
	pthread_t w, rd;

	assert_int_equal(streams_open(f->ss, 5, PLANE_LOG, RACE_TOTAL, &r.k),
			 0);
	assert_int_equal(append_pat(r.k, 5, RACE_BASE), 0);
	sink_close(r.k);
	assert_int_equal(streams_open(f->ss, 5, PLANE_LOG, RACE_TOTAL, &r.k),
			 0);
	atomic_init(&r.writer_done, false);
	assert_int_equal(pthread_create(&rd, NULL, race_reader, &r), 0);
	assert_int_equal(pthread_create(&w, NULL, race_writer, &r), 0);
	pthread_join(w, NULL);
	pthread_join(rd, NULL);
	print_message("reader: %u reads\n", r.reads);
	if (r.wfail)
		fail_msg("writer: %s", r.wfail);
	if (r.fail)
		fail_msg("reader: %s at %" PRIu64, r.fail, r.read);
	assert_int_equal(r.read, RACE_TOTAL);
	expect_stream(f, 5, PLANE_LOG, RACE_TOTAL, true);
}

/* Shutdown ends every stream (notify, not live) and the runs still close
 * their sinks; a sink left open is closed and persisted by free. */
static void end_all(void **state)
{
	struct fx *f = *state;
	struct sink *a = NULL, *b = NULL, *c = NULL;
	struct timespec mt;
	uint64_t size;
	bool live = true;

	assert_int_equal(streams_open(f->ss, 6, PLANE_LOG, 100, &a), 0);
	assert_int_equal(streams_open(f->ss, 6, PLANE_EVENTS, 100, &b), 0);
	assert_int_equal(streams_open(f->ss, 7, PLANE_LOG, 100, &c), 0);
	assert_int_equal(append_pat(a, 6, 3), 0);
	streams_end_all(f->ss);
	assert_int_equal(calls(f, 6, PLANE_LOG), 2);
	assert_int_equal(calls(f, 6, PLANE_EVENTS), 1);
	assert_int_equal(calls(f, 7, PLANE_LOG), 1);
	assert_int_equal(streams_stat(f->ss, 6, PLANE_LOG, &size, &mt, &live),
			 0);
	assert_false(live);
	assert_int_equal(size, 3);
	/* Twice is once: nothing more to end. */
	streams_end_all(f->ss);
	assert_int_equal(calls(f, 6, PLANE_EVENTS), 1);
	/* The run can still write its last bytes and close. */
	assert_int_equal(append_pat(a, 6, 2), 0);
	sink_close(a);
	sink_close(b);
	assert_int_equal(calls(f, 6, PLANE_LOG), 4);
	expect_stream(f, 6, PLANE_LOG, 5, true);
	assert_int_equal(append_pat(c, 7, 9), 0);
	streams_free(f->ss);
	f->ss = NULL;
	assert_int_equal(calls(f, 7, PLANE_LOG), 3);
	assert_int_equal(stored(f, 7, PLANE_LOG), 9);
	assert_int_equal(streams_new(&f->ss, f->st), 0);
	expect_stream(f, 7, PLANE_LOG, 9, true);
}

/* The execution is deleted under a live sink (its chunks go): the sink
 * stops persisting but keeps serving its bytes, also after close. */
static void deleted_under_sink(void **state)
{
	struct fx *f = *state;
	struct store_change rec = {
	    .op = STORE_PUT,
	    .hdr = {.kind = 1, .serial = 2, .id = "wex-2", .slug = "two"},
	    .body = "x",
	    .len = 1};
	struct store_change del = {.op = STORE_DEL, .hdr = {.id = "wex-2"}};
	struct sink *k = NULL;
	struct err e;
	uint64_t size;
	struct timespec mt;
	bool live;

	err_clear(&e);
	assert_int_equal(store_commit(f->st, &rec, 1, NULL), 0);
	assert_int_equal(streams_open(f->ss, 2, PLANE_LOG, 1000, &k), 0);
	assert_int_equal(append_pat(k, 2, 100), 0);
	assert_int_equal(sink_flush(k, &e), 0);
	assert_int_equal(store_commit(f->st, &del, 1, NULL), 0);
	assert_int_equal(stored(f, 2, PLANE_LOG), 0);
	assert_int_equal(append_pat(k, 2, 50), 0);
	assert_int_equal(sink_flush(k, &e), -EIO);
	assert_non_null(strstr(e.msg, "kept in memory"));
	assert_int_equal(stored(f, 2, PLANE_LOG), 0);
	expect_stream(f, 2, PLANE_LOG, 150, false);
	sink_close(k);
	assert_int_equal(streams_stat(f->ss, 2, PLANE_LOG, &size, &mt, &live),
			 0);
	assert_int_equal(size, 150);
	assert_false(live);
	expect_stream(f, 2, PLANE_LOG, 150, false);
	/* A new sink for it starts over from what the store has. */
	assert_int_equal(streams_open(f->ss, 2, PLANE_LOG, 1000, &k), 0);
	assert_int_equal(sink_size(k), 0);
	sink_close(k);
}

/* ---- events stored coded: line events refer to the log ------------------ */

/* What a run writes: the log's lines and their events, one batch. */
struct lines_fx {
	struct buf log, ev, want;	/* want: every event so far */
	struct evc_line l[64];
	char head[64][256];
	size_t text_at[64];		/* in @log, until sent */
	size_t n;
	uint64_t log_at;		/* the log sink's size */
};

/* The next line event's head, for @task at @i. */
static struct evc_line *batch_head(struct lines_fx *x, const char *task,
				   int i)
{
	struct evc_line *l = &x->l[x->n];

	l->hlen = (size_t)snprintf(
	    x->head[x->n], sizeof(x->head[0]),
	    "{\"type\":\"line\",\"executionId\":\"wex-x\",\"timestamp\":"
	    "\"2026-12-07T12:00:%02d.%03dZ\",\"task\":\"%s\",\"stream\":"
	    "\"%s\",\"text\":", i / 1000 % 60, i % 1000, task,
	    i % 3 ? "stdout" : "stderr");
	l->head = x->head[x->n];
	x->text_at[x->n++] = x->log.len;
	l->log_off = x->log_at + x->log.len;
	return l;
}

static int line_text(char *text, size_t cap, const char *task, int i)
{
	return snprintf(text, cap, "line %d of %s: \"quoted\"\tand base64 "
			"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=", i, task);
}

static void batch_line(struct lines_fx *x, const char *task, int i)
{
	struct evc_line *l = batch_head(x, task, i);
	char text[96];
	int n = line_text(text, sizeof(text), task, i);

	l->len = (size_t)n;
	l->qx = json_quoted_len(text, l->len) - l->len - 2;
	l->lines = 0;
	buf_add(&x->ev, l->head, l->hlen);
	json_quote(&x->ev, text, (size_t)n);
	buf_addstr(&x->ev, "}\n");
	buf_add(&x->log, text, (size_t)n);
	buf_addc(&x->log, '\n');
}

/* @lines lines by @task from @i, their events one run. */
static void batch_run(struct lines_fx *x, const char *task, int i,
		      int lines)
{
	struct evc_line *l = batch_head(x, task, i);
	size_t at = x->log.len;
	char text[96];

	for (int k = 0; k < lines; k++) {
		int n = line_text(text, sizeof(text), task, i + k);

		buf_add(&x->ev, l->head, l->hlen);
		json_quote(&x->ev, text, (size_t)n);
		buf_addstr(&x->ev, "}\n");
		buf_add(&x->log, text, (size_t)n);
		buf_addc(&x->log, '\n');
	}
	l->len = x->log.len - at;
	l->lines = (size_t)lines;
	l->qx = json_quoted_len(x->log.data + at, l->len) - 2 - l->len -
		l->lines;
}

/* Send the batch: the log first, then the events referring to it. */
static void batch_send(struct lines_fx *x, struct sink *log, struct sink *ev)
{
	for (size_t i = 0; i < x->n; i++)
		x->l[i].text = x->log.data + x->text_at[i];
	assert_int_equal(sink_append(log, x->log.data, x->log.len), 0);
	assert_int_equal(sink_append_lines(ev, x->l, x->n), 0);
	buf_add(&x->want, x->ev.data, x->ev.len);
	x->log_at += x->log.len;
	buf_reset(&x->log);
	buf_reset(&x->ev);
	x->n = 0;
}

/* Every window of the events reads back as @x->want. */
static void expect_events(struct fx *f, uint64_t serial, struct lines_fx *x,
			  size_t step)
{
	static const size_t sizes[] = {1, 5, 333, 4096, 1u << 20};
	struct buf b = BUF_INIT(8u << 20);
	size_t all = x->want.len;

	for (size_t off = 0; off <= all; off += step) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
			size_t want = all - off < sizes[i] ? all - off
							   : sizes[i];

			buf_reset(&b);
			assert_int_equal(streams_read(f->ss, serial,
						      PLANE_EVENTS, off,
						      sizes[i], &b),
					 (ssize_t)want);
			if (want && memcmp(b.data, x->want.data + off, want))
				fail_msg("events differ at %zu (+%zu)", off,
					 sizes[i]);
		}
	}
	buf_release(&b);
}

static void lines_fx_init(struct lines_fx *x)
{
	memset(x, 0, sizeof(*x));
	buf_init(&x->log, SIZE_MAX);
	buf_init(&x->ev, SIZE_MAX);
	buf_init(&x->want, SIZE_MAX);
}

static void lines_fx_release(struct lines_fx *x)
{
	buf_release(&x->log);
	buf_release(&x->ev);
	buf_release(&x->want);
}

/* Live, after close (several chunks) and after a reopen, the events read
 * the same bytes; the store holds a few bytes per line beside the log. */
static void coded_lines_once(void **state)
{
	struct fx *f = *state;
	struct sink *log = NULL, *ev = NULL;
	struct lines_fx x;
	uint64_t coded = 0, stored = 0;
	struct buf chunk = BUF_INIT(8u << 20);
	uint64_t start, vlen;
	struct err e;

	lines_fx_init(&x);
	assert_int_equal(streams_open(f->ss, 4, PLANE_LOG, 64u << 20, &log), 0);
	assert_int_equal(streams_open(f->ss, 4, PLANE_EVENTS, 64u << 20, &ev),
			 0);
	for (int round = 0; round < 40; round++) {
		assert_int_equal(sink_append(ev, "{\"type\":\"phase\"}\n", 17),
				 0);
		buf_addstr(&x.want, "{\"type\":\"phase\"}\n");
		for (int i = 0; i < 50; i++)
			batch_line(&x, round % 2 ? "build" : "test/0",
				   round * 50 + i);
		batch_run(&x, "runs", round * 50, 1 + round % 9);
		batch_send(&x, log, ev);
		if (round % 7 == 0) {	/* more chunks */
			assert_int_equal(sink_flush(log, &e), 0);
			assert_int_equal(sink_flush(ev, &e), 0);
		}
	}
	expect_events(f, 4, &x, 997);
	sink_close(log);
	sink_close(ev);
	expect_events(f, 4, &x, 997);
	/* what the store holds for the events, beside the log */
	while (store_stream_chunk(f->st, 4, STORE_CODED, coded, &chunk, &start,
				  &vlen) == 1) {
		stored += chunk.len;
		coded += vlen;
		buf_reset(&chunk);
	}
	assert_int_equal(coded, x.want.len);
	/* ~10 bytes per line of ~77 (1.3 per byte printed is the goal) */
	assert_true(stored * 4 < x.log_at);
	/* a restart: the sinks continue at the stored sizes */
	assert_int_equal(streams_open(f->ss, 4, PLANE_LOG, 64u << 20, &log), 0);
	assert_int_equal(streams_open(f->ss, 4, PLANE_EVENTS, 64u << 20, &ev),
			 0);
	assert_int_equal(sink_size(ev), x.want.len);
	for (int i = 0; i < 30; i++)
		batch_line(&x, "after", 9000 + i);
	batch_send(&x, log, ev);
	sink_close(log);
	sink_close(ev);
	expect_events(f, 4, &x, 311);
	buf_release(&chunk);
	lines_fx_release(&x);
}

/* A line the log did not take (its cap) is stored as it is. */
static void coded_line_not_in_log(void **state)
{
	struct fx *f = *state;
	struct sink *ev = NULL;
	struct lines_fx x;

	lines_fx_init(&x);
	assert_int_equal(streams_open(f->ss, 5, PLANE_EVENTS, 1u << 20, &ev),
			 0);
	batch_line(&x, "t", 1);
	batch_run(&x, "t", 2, 3);
	/* no log at all: sent with their texts */
	for (size_t i = 0; i < x.n; i++) {
		x.l[i].text = x.log.data + x.text_at[i];
		x.l[i].log_off = EVC_NO_LOG;
	}
	assert_int_equal(sink_append_lines(ev, x.l, x.n), 0);
	buf_add(&x.want, x.ev.data, x.ev.len);
	sink_close(ev);
	expect_events(f, 5, &x, 1);
	lines_fx_release(&x);
}

/* Events an older execfs stored plainly are read, and continued, so. */
static void plain_events_kept(void **state)
{
	struct fx *f = *state;
	struct store_change c = {.op = STORE_APPEND, .hdr = {.serial = 6},
				 .stream = PLANE_EVENTS, .body = "{\"old\":1}\n",
				 .len = 10};
	struct sink *ev = NULL;
	struct buf b = BUF_INIT(1024);
	struct evc_line l[2] = {{"{\"t\":", "a\"b", 5, 3, 1, 0, 0},
				{"{\"r\":", "c\nd\n", 5, 4, 0, 2, 4}};
	static const char want[] = "{\"old\":1}\n{\"new\":2}\n{\"t\":\"a\\\"b\"}\n"
				   "{\"r\":\"c\"}\n{\"r\":\"d\"}\n";
	uint64_t n = 0;

	assert_int_equal(store_commit(f->st, &c, 1, NULL), 0);
	assert_int_equal(streams_open(f->ss, 6, PLANE_EVENTS, 1u << 20, &ev),
			 0);
	assert_int_equal(sink_size(ev), 10);
	assert_int_equal(sink_append(ev, "{\"new\":2}\n", 10), 0);
	/* line events: rendered, as the older version stored them */
	assert_int_equal(sink_append_lines(ev, l, 2), 0);
	sink_close(ev);
	assert_int_equal(store_stream_size(f->st, 6, PLANE_EVENTS, &n), 0);
	assert_int_equal(n, sizeof(want) - 1);
	assert_int_equal(store_stream_size(f->st, 6, STORE_CODED, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(streams_read(f->ss, 6, PLANE_EVENTS, 0, 100, &b),
			 sizeof(want) - 1);
	assert_memory_equal(b.data, want, sizeof(want) - 1);
	buf_release(&b);
}

/* ---- a full store: the events never get ahead of their log -------------- */

#define MIB (1u << 20)

static struct store *small_store(char *dir, size_t cap)
{
	struct store_opts o = {NULL, 4 * MIB, 4 * MIB, 0};
	struct store *st = NULL;

	assert_int_equal(tmpdir_make(dir, cap, "streams-full"), 0);
	o.dir = dir;
	assert_int_equal(store_open(&st, &o, NULL), 0);
	return st;
}

static int append_x(struct sink *k, size_t n)
{
	char *p = malloc(n);
	int rc;

	assert_non_null(p);
	memset(p, 'x', n);
	rc = sink_append(k, p, n);
	free(p);
	return rc;
}

/* The log cannot be stored (the map is full), its events could: they are
 * held back with it, so a new daemon never reads an event whose text is
 * lost (found by a review: sink_close() of the events flushed them
 * alone, and a failed batch went on with the events). */
static void events_wait_for_their_log(void **state)
{
	char dir[64];
	struct store *st = small_store(dir, sizeof(dir));
	struct streams *ss = NULL, *ss2 = NULL;
	struct sink *log = NULL, *ev = NULL;
	struct buf events = BUF_INIT(SIZE_MAX), got = BUF_INIT(SIZE_MAX);
	const char *text = "a line of output";
	struct evc_line l = {"{\"type\":\"line\",\"text\":", text, 22,
			     strlen(text), 0, 0, 0};

	(void)state;
	assert_int_equal(streams_new(&ss, st), 0);
	assert_int_equal(streams_open(ss, 7, PLANE_LOG, 64 * MIB, &log), 0);
	assert_int_equal(streams_open(ss, 7, PLANE_EVENTS, 64 * MIB, &ev), 0);
	assert_int_equal(sink_append(log, text, strlen(text)), 0);
	assert_int_equal(append_x(log, 5 * MIB), 0);	/* never fits */
	buf_addstr(&events, "{\"type\":\"line\",\"text\":");
	json_quote(&events, text, strlen(text));
	buf_addstr(&events, "}\n");
	assert_int_equal(sink_append_lines(ev, &l, 1), 0);
	sink_close(log);
	sink_close(ev);
	usleep(200 * 1000);	/* flusher rounds: the batch fails */
	/* kill -9 now: a new daemon reads what the store has */
	assert_int_equal(streams_new(&ss2, st), 0);
	assert_true(streams_read(ss2, 7, PLANE_EVENTS, 0, 1000, &got) >= 0);
	assert_true(got.len == 0 || (got.len == events.len &&
				     !memcmp(got.data, events.data, got.len)));
	streams_free(ss2);
	/* the first daemon still serves them from memory */
	buf_reset(&got);
	assert_int_equal(streams_read(ss, 7, PLANE_EVENTS, 0, 1000, &got),
			 (ssize_t)events.len);
	streams_free(ss);
	store_close(st);
	tmpdir_remove(dir);
	buf_release(&events);
	buf_release(&got);
}

/* A failed batch retried sink by sink, where a closed sink persisted on
 * the way is freed: the rest must not read it (found by a review; a
 * use-after-free ASan reports). */
static void failed_batch_with_closed_sink(void **state)
{
	char dir[64];
	struct store *st = small_store(dir, sizeof(dir));
	struct store_change rec = {.op = STORE_PUT,
				   .hdr = {.kind = 1, .serial = 2,
					   .id = "wex-2", .slug = "two"},
				   .body = "x", .len = 1};
	struct store_change del = {.op = STORE_DEL, .hdr = {.id = "wex-2"}};
	struct streams *ss = NULL;
	struct sink *k2 = NULL, *k3 = NULL, *k4 = NULL;
	struct buf b = BUF_INIT(100);
	struct timespec mt;
	uint64_t n = 0;
	bool live;
	struct err e;

	(void)state;
	assert_int_equal(streams_new(&ss, st), 0);
	assert_int_equal(store_commit(st, &rec, 1, NULL), 0);
	assert_int_equal(streams_open(ss, 2, PLANE_LOG, 64 * MIB, &k2), 0);
	assert_int_equal(append_x(k2, 5 * MIB / 2), 0);
	err_clear(&e);
	assert_int_equal(sink_flush(k2, &e), 0);
	assert_int_equal(streams_open(ss, 3, PLANE_LOG, 64 * MIB, &k3), 0);
	assert_int_equal(append_x(k3, 16 * MIB / 10), 0);
	sink_close(k3);		/* does not fit: kept, due */
	assert_int_equal(streams_open(ss, 4, PLANE_LOG, 64 * MIB, &k4), 0);
	assert_int_equal(append_x(k4, 5 * MIB), 0);	/* never fits */
	usleep(200 * 1000);
	/* room for serial 3; serial 2's sink goes stale */
	assert_int_equal(store_commit(st, &del, 1, NULL), 0);
	usleep(300 * 1000);	/* rounds that fail and retry sink by sink */
	/* serial 3 reads whole, from the store or from memory */
	assert_int_equal(streams_stat(ss, 3, PLANE_LOG, &n, &mt, &live), 0);
	assert_int_equal(n, 16 * MIB / 10);
	assert_int_equal(streams_read(ss, 3, PLANE_LOG, n - 10, 100, &b), 10);
	sink_close(k2);
	sink_close(k4);
	streams_free(ss);
	store_close(st);
	tmpdir_remove(dir);
	buf_release(&b);
}

/* A writer faster than the disk waits for it: sink_wait_backlog()
 * returns once the flusher (woken by the backlog, not only at its
 * interval) has persisted enough, and returns anyway, after its wait,
 * when nothing can be persisted. */
static void backlog_waits_for_the_disk(void **state)
{
	char dir[64];
	struct store *st = small_store(dir, sizeof(dir));
	struct streams *ss = NULL;
	struct sink *k = NULL, *full = NULL;
	uint64_t n = 0;

	(void)state;
	assert_int_equal(streams_new(&ss, st), 0);
	assert_int_equal(streams_open(ss, 8, PLANE_LOG, 64 * MIB, &k), 0);
	for (int i = 0; i < 6; i++) {
		sink_wait_backlog(k, MIB / 2, 60 * 1000);
		assert_int_equal(store_stream_size(st, 8, PLANE_LOG, &n), 0);
		assert_true(i * (MIB / 4) - n <= MIB / 2);
		assert_int_equal(append_x(k, MIB / 4), 0);
	}
	sink_wait_backlog(k, 0, 60 * 1000);
	assert_int_equal(store_stream_size(st, 8, PLANE_LOG, &n), 0);
	assert_int_equal(n, 6 * (MIB / 4));
	assert_int_equal(sink_backlog(k), 0);
	sink_close(k);
	/* a log the store has no room for: each wait ends at its time (no
	 * timing asserted beyond returning at all) */
	assert_int_equal(streams_open(ss, 9, PLANE_LOG, 64 * MIB, &full), 0);
	assert_int_equal(append_x(full, 5 * MIB), 0);	/* never fits */
	sink_wait_backlog(full, 0, 100);
	sink_wait_backlog(full, 0, 100);
	assert_int_equal(sink_size(full), 5 * MIB);
	assert_int_equal(sink_backlog(full), 5 * MIB);
	sink_close(full);
	streams_free(ss);
	store_close(st);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(live_append_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(cap_all_or_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(flusher_persists, setup, teardown),
	    cmocka_unit_test_setup_teardown(close_then_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(reader_races_writer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(end_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(coded_lines_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(coded_line_not_in_log, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(plain_events_kept, setup,
					    teardown),
	    cmocka_unit_test(events_wait_for_their_log),
	    cmocka_unit_test(failed_batch_with_closed_sink),
	    cmocka_unit_test(backlog_waits_for_the_disk),
	    cmocka_unit_test_setup_teardown(deleted_under_sink, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
