/*
 * test_fs_follow.c - the parked reads of fs/follow.h against a fake plane
 * and a fake libfuse: every read is answered exactly once (bytes at its
 * offset, EOF, EINTR, ENOTCONN, an errno), parked reads are
 * answered by a wake, interrupts in every state, poll handles, and a
 * thousand readers answered by one wake.
 *
 * The fake fuse_req_interrupt_func() behaves like libfuse's: it calls the
 * callback at once when the request was already interrupted.  Requests
 * are heap objects, so ASan sees a reply to a freed or twice-answered one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/follow.h"

/* A fake request: what was replied, and its interrupt callback. */
struct freq {
	int replies;
	int err;		/* 0: bytes */
	size_t len;
	char data[64];
	bool interrupted;
	fuse_interrupt_func_t fn;
	void *fn_data;
};

/* The fake plane: one stream per serial 1..2, log only. */
struct fake {
	pthread_mutex_t mu;
	uint64_t size[3];
	bool done[3];
	int read_fail;		/* next reads fail with this -errno */
	int stat_calls;
	/* Run from inside intr() when a callback is set (a wake or an
	   interrupt racing the park). */
	void (*on_register)(struct freq *r);
	struct follow *f;
	int polls_notified;
	int polls_destroyed;
};

static struct fake fk;

static char byte_at(uint64_t off)
{
	return (char)('a' + off % 26);
}

static int f_stat(void *ctx, uint64_t serial, int stream, uint64_t *size,
		  bool *done)
{
	pthread_mutex_lock(&fk.mu);
	*size = fk.size[serial];
	*done = fk.done[serial];
	fk.stat_calls++;
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static ssize_t f_read(void *ctx, uint64_t serial, int stream, uint64_t off,
		      size_t size, struct buf *out)
{
	size_t i;
	uint64_t total;

	pthread_mutex_lock(&fk.mu);
	total = fk.size[serial];
	if (fk.read_fail) {
		pthread_mutex_unlock(&fk.mu);
		return fk.read_fail;
	}
	pthread_mutex_unlock(&fk.mu);
	for (i = 0; i < size && off + i < total; i++)
		if (buf_addc(out, byte_at(off + i)) < 0)
			return -ENOMEM;
	return (ssize_t)i;
}

static int f_reply_buf(fuse_req_t req, const char *data, size_t size)
{
	struct freq *r = (struct freq *)req;

	assert_int_equal(r->replies, 0);
	assert_true(size <= sizeof(r->data));
	r->replies++;
	r->len = size;
	if (size)
		memcpy(r->data, data, size);
	return 0;
}

static int f_reply_err(fuse_req_t req, int err)
{
	struct freq *r = (struct freq *)req;

	assert_int_equal(r->replies, 0);
	r->replies++;
	r->err = err;
	return 0;
}

static void f_intr(fuse_req_t req, fuse_interrupt_func_t fn, void *data)
{
	struct freq *r = (struct freq *)req;

	r->fn = fn;
	r->fn_data = data;
	if (fn && fk.on_register)
		fk.on_register(r);
	if (r->interrupted && r->fn)
		r->fn(req, r->fn_data);
}

static int f_poll_notify(struct fuse_pollhandle *ph)
{
	fk.polls_notified++;
	return 0;
}

static void f_poll_destroy(struct fuse_pollhandle *ph)
{
	if (ph) {
		fk.polls_destroyed++;
		free(ph);
	}
}

static const struct follow_env env = {
	.stat = f_stat,
	.read = f_read,
	.reply_buf = f_reply_buf,
	.reply_err = f_reply_err,
	.intr = f_intr,
	.poll_notify = f_poll_notify,
	.poll_destroy = f_poll_destroy,
};

/* libfuse's interrupt path: mark, then call the callback if one is set. */
static void interrupt(struct freq *r)
{
	r->interrupted = true;
	if (r->fn)
		r->fn((fuse_req_t)r, r->fn_data);
}

/* A change of the fake stream, followed by its wake as the plane does;
   the wake is not pumped, so parked reads wait for the test's pump. */
static void grow(uint64_t serial, uint64_t size, bool done)
{
	pthread_mutex_lock(&fk.mu);
	fk.size[serial] = size;
	fk.done[serial] = done;
	pthread_mutex_unlock(&fk.mu);
	follow_wake(fk.f, serial, 0);
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	pthread_mutex_init(&fk.mu, NULL);
	assert_int_equal(follow_new(&fk.f, &env), 0);
	return 0;
}

static int teardown(void **state)
{
	follow_free(fk.f);
	pthread_mutex_destroy(&fk.mu);
	return 0;
}

/* A read of @size at offset @off, as the kernel sends it. */
static struct freq *read_req(struct follow_h *h, uint64_t off, size_t size)
{
	struct freq *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	follow_read(fk.f, h, (fuse_req_t)r, off, size);
	return r;
}

static void assert_bytes(const struct freq *r, uint64_t off, size_t n)
{
	size_t i;

	assert_int_equal(r->replies, 1);
	assert_int_equal(r->err, 0);
	assert_int_equal(r->len, n);
	for (i = 0; i < n; i++)
		assert_int_equal(r->data[i], byte_at(off + i));
}

/* Reads answered at once: from the offset, capped by size, EOF at the end;
   the read under test is at the offset a first read left the file at. */
struct now_case {
	const char *what;
	uint64_t size;		/* stream size */
	bool done;
	size_t first;		/* size of a first read, 0: none */
	size_t read;		/* size of the read under test */
	int parked;		/* 1: it parks */
	uint64_t off;		/* else: bytes from @off ... */
	size_t n;		/* ... this many (0: EOF) */
};

static const struct now_case now_cases[] = {
	{ "all there", 5, false, 0, 10, 0, 0, 5 },
	{ "capped by size", 20, false, 0, 8, 0, 0, 8 },
	{ "continues at offset", 20, false, 8, 8, 0, 8, 8 },
	{ "rest after offset", 10, false, 8, 8, 0, 8, 2 },
	{ "at end, running: parks", 8, false, 8, 8, 1, 0, 0 },
	{ "empty, running: parks", 0, false, 0, 8, 1, 0, 0 },
	{ "at end, done: EOF", 8, true, 8, 8, 0, 8, 0 },
	{ "empty, done: EOF", 0, true, 0, 8, 0, 0, 0 },
	{ "done with bytes left", 12, true, 8, 8, 0, 8, 4 },
};

static void test_answer_now(void **state)
{
	struct follow_h *h;
	struct freq *a = NULL, *b;
	size_t i;

	for (i = 0; i < sizeof(now_cases) / sizeof(now_cases[0]); i++) {
		const struct now_case *c = &now_cases[i];

		grow(1, c->size, c->done);
		assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);
		if (c->first)
			a = read_req(h, 0, c->first);
		b = read_req(h, a ? a->len : 0, c->read);
		if (c->parked) {
			assert_int_equal(b->replies, 0);
			assert_int_equal(follow_parked(fk.f), 1);
			interrupt(b);
			assert_int_equal(b->err, EINTR);
		} else {
			assert_bytes(b, c->off, c->n);
		}
		assert_int_equal(follow_parked(fk.f), 0);
		follow_release(fk.f, h);
		free(a);
		free(b);
		a = NULL;
	}
}

static void test_park_then_wake(void **state)
{
	struct follow_h *h;
	struct freq *r, *r2;

	grow(1, 3, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);
	r = read_req(h, 0, 16);
	assert_bytes(r, 0, 3);
	free(r);
	r = read_req(h, 3, 16);
	assert_int_equal(r->replies, 0);
	/* A wake of another serial answers nothing. */
	follow_wake(fk.f, 2, 0);
	assert_int_equal(follow_pump(fk.f), 0);
	assert_int_equal(r->replies, 0);
	grow(1, 7, false);
	follow_wake(fk.f, 1, 0);
	assert_int_equal(follow_parked(fk.f), 0);
	assert_int_equal(follow_pump(fk.f), 1);
	assert_bytes(r, 3, 4);
	/* The interrupt callback was cleared before the reply. */
	assert_null(r->fn);
	free(r);
	/* The end wakes a parked read with EOF. */
	r2 = read_req(h, 7, 16);
	grow(1, 7, true);
	follow_wake(fk.f, 1, 0);
	follow_pump(fk.f);
	assert_bytes(r2, 7, 0);
	free(r2);
	follow_release(fk.f, h);
}

static void test_interrupt_states(void **state)
{
	struct follow_h *h;
	struct freq *r;

	grow(1, 0, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);

	/* Parked, then interrupted: EINTR; a later wake finds nothing. */
	r = read_req(h, 0, 8);
	interrupt(r);
	assert_int_equal(r->replies, 1);
	assert_int_equal(r->err, EINTR);
	grow(1, 4, false);
	follow_wake(fk.f, 1, 0);
	assert_int_equal(follow_pump(fk.f), 0);
	free(r);
	grow(1, 0, false);

	/* Interrupted before it was read: EINTR once, from the reading
	   thread, not from inside the (fake) fuse_req_interrupt_func. */
	r = calloc(1, sizeof(*r));
	r->interrupted = true;
	follow_read(fk.f, h, (fuse_req_t)r, 0, 8);
	assert_int_equal(r->replies, 1);
	assert_int_equal(r->err, EINTR);
	assert_int_equal(follow_parked(fk.f), 0);
	free(r);

	/* Woken, then interrupted before the waker ran: the waker owns it
	   and answers with the bytes. */
	r = read_req(h, 0, 8);
	grow(1, 2, false);
	follow_wake(fk.f, 1, 0);
	interrupt(r);
	assert_int_equal(r->replies, 0);
	assert_int_equal(follow_pump(fk.f), 1);
	assert_bytes(r, 0, 2);
	free(r);
	follow_release(fk.f, h);
}

/* Races with the park itself, injected from inside intr(). */
static void wake_during_register(struct freq *r)
{
	fk.on_register = NULL;
	grow(1, fk.size[1] + 5, false);
	follow_wake(fk.f, 1, 0);
}

static void intr_during_register(struct freq *r)
{
	fk.on_register = NULL;
	r->interrupted = true;	/* the fake intr() then calls the callback */
}

static void wake_and_intr_during_register(struct freq *r)
{
	wake_during_register(r);
	r->interrupted = true;
}

static void test_park_races(void **state)
{
	struct follow_h *h;
	struct freq *r;

	grow(1, 0, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);

	fk.on_register = wake_during_register;
	r = read_req(h, 0, 8);
	/* The reading thread itself served it again: no pump needed. */
	assert_bytes(r, 0, 5);
	assert_int_equal(follow_pump(fk.f), 0);
	free(r);

	/* At the end of the 5 bytes now there: parks. */
	fk.on_register = intr_during_register;
	r = read_req(h, 5, 8);
	assert_int_equal(r->replies, 1);
	assert_int_equal(r->err, EINTR);
	free(r);

	/* Woken with bytes there, interrupted too: the interrupt came
	   first for the state machine, so EINTR, once. */
	fk.on_register = wake_and_intr_during_register;
	r = read_req(h, 5, 8);
	assert_int_equal(r->replies, 1);
	assert_int_equal(r->err, EINTR);
	assert_int_equal(follow_parked(fk.f), 0);
	free(r);
	follow_release(fk.f, h);
}

/* Reads take nothing from the stream: two at one offset get the same
   bytes; one past the stream's end parks until the stream reaches it. */
static void test_reads_at_offsets(void **state)
{
	struct follow_h *h;
	struct freq *a, *b, *c;

	grow(1, 0, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);
	a = read_req(h, 0, 8);
	b = read_req(h, 0, 8);
	c = read_req(h, 3, 8);
	assert_int_equal(follow_parked(fk.f), 3);
	grow(1, 3, false);
	follow_wake(fk.f, 1, 0);
	assert_int_equal(follow_pump(fk.f), 3);
	assert_bytes(a, 0, 3);
	assert_bytes(b, 0, 3);
	assert_int_equal(c->replies, 0);
	assert_int_equal(follow_parked(fk.f), 1);
	grow(1, 3, true);
	follow_wake(fk.f, 1, 0);
	follow_pump(fk.f);
	assert_bytes(c, 3, 0);
	free(a);
	free(b);
	free(c);
	/* Seeking back (GNU head does) reads the same bytes again; past
	   the end of an ended stream is EOF. */
	grow(1, 20, true);
	a = read_req(h, 5, 4);
	assert_bytes(a, 5, 4);
	b = read_req(h, 2, 4);
	assert_bytes(b, 2, 4);
	c = read_req(h, 30, 4);
	assert_bytes(c, 30, 0);
	free(a);
	free(b);
	free(c);
	follow_release(fk.f, h);
}

/* A read far past the end of a running stream parks until the stream
   gets there; bytes before its offset do not wake it with data. */
static void test_park_past_end(void **state)
{
	struct follow_h *h;
	struct freq *r;

	grow(1, 2, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);
	r = read_req(h, 10, 8);
	assert_int_equal(r->replies, 0);
	grow(1, 6, false);
	follow_wake(fk.f, 1, 0);
	follow_pump(fk.f);
	assert_int_equal(r->replies, 0);
	assert_int_equal(follow_parked(fk.f), 1);
	grow(1, 14, false);
	follow_wake(fk.f, 1, 0);
	follow_pump(fk.f);
	assert_bytes(r, 10, 4);
	free(r);
	follow_release(fk.f, h);
}

static void test_read_error_then_retry(void **state)
{
	struct follow_h *h;
	struct freq *r;

	grow(1, 4, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);
	fk.read_fail = -EIO;
	r = read_req(h, 0, 8);
	assert_int_equal(r->replies, 1);
	assert_int_equal(r->err, EIO);
	free(r);
	fk.read_fail = 0;
	r = read_req(h, 0, 8);
	assert_bytes(r, 0, 4);
	free(r);
	follow_release(fk.f, h);
}

static void test_stop_answers_enotconn(void **state)
{
	struct follow_h *h1, *h2;
	struct freq *a, *b, *c;

	grow(1, 0, false);
	grow(2, 0, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h1), 0);
	assert_int_equal(follow_open(fk.f, 2, 0, &h2), 0);
	assert_int_equal(follow_start(fk.f), 0);
	a = read_req(h1, 0, 8);
	b = read_req(h2, 0, 8);
	follow_stop(fk.f);
	assert_int_equal(a->err, ENOTCONN);
	assert_int_equal(b->err, ENOTCONN);
	/* Not EOF even with bytes there: the daemon is going away. */
	grow(1, 4, false);
	c = read_req(h1, 0, 8);
	assert_int_equal(c->err, ENOTCONN);
	free(a);
	free(b);
	free(c);
	follow_release(fk.f, h1);
	follow_release(fk.f, h2);
}

static void test_thousand_readers(void **state)
{
	enum { N = 1000 };
	struct follow_h **h = calloc(N, sizeof(*h));
	struct freq **r = calloc(N, sizeof(*r));
	size_t i;
	int stats;

	grow(1, 0, false);
	for (i = 0; i < N; i++) {
		assert_int_equal(follow_open(fk.f, 1, 0, &h[i]), 0);
		r[i] = read_req(h[i], 0, 16);
	}
	assert_int_equal(follow_parked(fk.f), N);
	grow(1, 6, false);
	stats = fk.stat_calls;
	follow_wake(fk.f, 1, 0);
	assert_int_equal(follow_pump(fk.f), N);
	/* One question to the plane for the whole wake, not one per
	   reader: its answer is kept until the next wake. */
	assert_int_equal(fk.stat_calls - stats, 1);
	for (i = 0; i < N; i++) {
		assert_bytes(r[i], 0, 6);
		free(r[i]);
		follow_release(fk.f, h[i]);
	}
	free(r);
	free(h);
}

static void test_waker_thread(void **state)
{
	struct follow_h *h;
	struct freq *r;
	struct timespec ts = { 0, 1000000 };
	int i;

	grow(1, 0, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);
	assert_int_equal(follow_start(fk.f), 0);
	r = read_req(h, 0, 8);
	grow(1, 2, false);
	follow_wake(fk.f, 1, 0);
	for (i = 0; i < 5000 && !__atomic_load_n(&r->replies, __ATOMIC_SEQ_CST);
	     i++)
		nanosleep(&ts, NULL);
	assert_bytes(r, 0, 2);
	free(r);
	follow_release(fk.f, h);
}

static struct fuse_pollhandle *new_ph(void)
{
	/* Opaque to the registry: any allocation will do. */
	return (struct fuse_pollhandle *)malloc(16);
}

static void test_poll(void **state)
{
	struct follow_h *h;
	struct freq *r;
	unsigned rev = 99;

	grow(1, 0, false);
	assert_int_equal(follow_open(fk.f, 1, 0, &h), 0);
	assert_int_equal(follow_poll(fk.f, h, new_ph(), &rev), 0);
	assert_int_equal(rev, 0);
	/* A second poll replaces the kept handle. */
	assert_int_equal(follow_poll(fk.f, h, new_ph(), &rev), 0);
	assert_int_equal(fk.polls_destroyed, 1);
	grow(1, 1, false);
	follow_wake(fk.f, 1, 0);
	follow_pump(fk.f);
	assert_int_equal(fk.polls_notified, 1);
	assert_int_equal(fk.polls_destroyed, 2);
	/* Bytes at the position: readable, the handle is not kept. */
	assert_int_equal(follow_poll(fk.f, h, new_ph(), &rev), 0);
	assert_int_equal(rev, POLLIN);
	assert_int_equal(fk.polls_destroyed, 3);
	/* No poll handle given: just the state. */
	assert_int_equal(follow_poll(fk.f, h, NULL, &rev), 0);
	assert_int_equal(rev, POLLIN);
	/* Read to the end of a running stream: not readable. */
	r = read_req(h, 0, 8);
	assert_bytes(r, 0, 1);
	free(r);
	assert_int_equal(follow_poll(fk.f, h, NULL, &rev), 0);
	assert_int_equal(rev, 0);
	/* Done and read to the end: still readable (EOF). */
	grow(1, 1, true);
	assert_int_equal(follow_poll(fk.f, h, NULL, &rev), 0);
	assert_int_equal(rev, POLLIN);
	/* A handle kept at release is destroyed, not notified. */
	grow(1, 1, false);
	assert_int_equal(follow_poll(fk.f, h, new_ph(), &rev), 0);
	follow_release(fk.f, h);
	assert_int_equal(fk.polls_notified, 1);
	assert_int_equal(fk.polls_destroyed, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer_now, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_park_then_wake, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_states, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_park_races, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reads_at_offsets,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_park_past_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_error_then_retry,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_answers_enotconn,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_thousand_readers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_waker_thread, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
