/*
 * test_evcode.c - line events coded as references into the log, alone
 * (LINE) or a read's lines at once (RUN): every window of a chunk renders
 * the events' own bytes, a lost text keeps the length, bad code never
 * crashes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/evcode.h"
#include "../../core/yaml.h"

/* A log and the events built over it, as a run writes them. */
struct fixture {
	struct buf log, events, code;
	struct evenc en;
	size_t lost_from;	/* the log reads short from here */
};

static struct fixture fx;

static ssize_t log_read(void *ctx, uint64_t off, size_t n, struct buf *out)
{
	struct fixture *f = ctx;
	size_t end = f->log.len < f->lost_from ? f->log.len : f->lost_from;

	if (off >= end)
		return 0;
	if (n > end - off)
		n = end - (size_t)off;
	return buf_add(out, f->log.data + off, n) ? -ENOMEM : (ssize_t)n;
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	buf_init(&fx.log, SIZE_MAX);
	buf_init(&fx.events, SIZE_MAX);
	buf_init(&fx.code, SIZE_MAX);
	fx.lost_from = SIZE_MAX;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	buf_release(&fx.log);
	buf_release(&fx.events);
	buf_release(&fx.code);
	evenc_reset(&fx.en);
	return 0;
}

/* The head of a line event by @task on @stream at @ms into @b. */
static void head(struct buf *b, const char *task, const char *stream,
		 long ms)
{
	buf_addf(b,
		 "{\"type\":\"line\",\"executionId\":\"wex-1\",\"timestamp\":"
		 "\"2026-12-07T11:%02ld:%02ld.%03ldZ\",\"task\":\"%s\","
		 "\"stream\":\"%s\",\"text\":",
		 ms / 60000 % 60, ms / 1000 % 60, ms % 1000, task, stream);
}

/* A line of @text by @task on @stream at @ms: to the log (whole, with a
 * newline) and as an event (its text cut at @cut bytes), coded. */
static void line(const char *task, const char *stream, long ms,
		 const char *text, size_t n, size_t cut)
{
	struct buf h = BUF_INIT(SIZE_MAX);
	size_t len = n < cut ? n : cut, ev0 = fx.events.len;
	struct evc_line l;

	head(&h, task, stream, ms);
	l = (struct evc_line){h.data, text, h.len, len,
			      json_quoted_len(text, len) - len - 2, 0,
			      fx.log.len};
	buf_add(&fx.events, h.data, h.len);
	json_quote(&fx.events, text, len);
	buf_addstr(&fx.events, "}\n");
	buf_add(&fx.log, text, n);
	buf_addc(&fx.log, '\n');
	assert_int_equal(evc_line_size(&l), fx.events.len - ev0);
	assert_int_equal(evenc_line(&fx.en, &fx.code, &l), 0);
	buf_release(&h);
}

/* The @n lines of @text (each ending in a newline) by @task on @stream
 * at @ms: to the log, and their events as one RUN. */
static void run(const char *task, const char *stream, long ms,
		const char *text, size_t lines)
{
	struct buf h = BUF_INIT(SIZE_MAX);
	size_t n = strlen(text), ev0 = fx.events.len;
	struct evc_line l;

	head(&h, task, stream, ms);
	for (const char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		buf_add(&fx.events, h.data, h.len);
		json_quote(&fx.events, p, (size_t)(nl - p));
		buf_addstr(&fx.events, "}\n");
	}
	l = (struct evc_line){h.data, text, h.len, n,
			      json_quoted_len(text, n) - 2 - n - lines, lines,
			      fx.log.len};
	buf_add(&fx.log, text, n);
	assert_int_equal(evc_line_size(&l), fx.events.len - ev0);
	assert_int_equal(evenc_line(&fx.en, &fx.code, &l), 0);
	buf_release(&h);
}

static void lit(const char *s)
{
	buf_addstr(&fx.events, s);
	assert_int_equal(evenc_lit(&fx.en, &fx.code, s, strlen(s)), 0);
}

/* Every window [off, off+size) renders the events' bytes. */
static void check_windows(uint64_t start, size_t step)
{
	static const size_t sizes[] = {1, 2, 7, 100, 4096, SIZE_MAX};
	struct buf got = BUF_INIT(SIZE_MAX);
	size_t all = fx.events.len;

	for (size_t off = 0; off <= all; off += step) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
			size_t size = sizes[i];
			size_t want = all - off < size ? all - off : size;
			ssize_t n;

			buf_reset(&got);
			n = evc_render(fx.code.data, fx.code.len, start,
				       all, start + off, size, log_read, &fx,
				       &got);
			assert_int_equal(n, (ssize_t)want);
			assert_int_equal(got.len, want);
			if (want)
				assert_memory_equal(got.data,
						    fx.events.data + off, want);
		}
	}
	buf_release(&got);
}

static void test_round_trip(void **state)
{
	char big[300];

	(void)state;
	memset(big, 'x', sizeof(big));
	lit("{\"type\":\"state\",\"phase\":\"EXECUTION_IN_PROGRESS\"}\n");
	line("build", "stdout", 1000, "hello", 5, 64);
	line("build", "stdout", 1000, "world", 5, 64);
	line("build", "stderr", 1003, "warn: \"quoted\"\ttab", 18, 64);
	line("build", "stdout", 1004, "", 0, 64);
	line("test/0", "stdout", 2000, "caf\xc3\xa9 \x01", 7, 64);
	lit("{\"type\":\"phase\",\"task\":\"build\"}\n");
	line("build", "stderr", 2500, big, sizeof(big), 64); /* cut */
	line("build", "stdout", 2501, "after the cut", 13, 64);
	line("a", "stdout", 3000, "1", 1, 64);
	line("b", "stdout", 3000, "2", 1, 64);
	line("c", "stdout", 3000, "3", 1, 64);
	line("d", "stdout", 3000, "4", 1, 64);
	line("e", "stdout", 3001, "5", 1, 64);	/* more tasks than slots */
	line("a", "stdout", 3002, "6", 1, 64);
	run("a", "stdout", 3003, "one\ntwo \"2\"\n\nfour\t\x02\xc3\n", 4);
	run("b", "stderr", 3004, "x\n", 1);
	line("a", "stdout", 3005, "between runs", 12, 64);
	run("a", "stdout", 3006, "caf\xc3\xa9\n\xff\xfe\n", 2);
	lit("{\"type\":\"complete\"}\n");
	check_windows(0, 1);
	check_windows(1234567, 13);
}

/* A read's lines cost one record: a few bytes beside their texts. */
static void test_run_compact(void **state)
{
	struct buf text = BUF_INIT(SIZE_MAX);

	(void)state;
	for (int i = 0; i < 800; i++)
		buf_addf(&text, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo%04d\n", i);
	run("make", "stdout", 5000, text.data, 800);
	run("make", "stdout", 5001, text.data, 800);
	assert_true(fx.code.len < 400);
	assert_true(fx.events.len > 800 * 2 * 150);
	check_windows(0, 4999);
	buf_release(&text);
}

/* A task's lines cost a few bytes each beside their text. */
static void test_compact(void **state)
{
	char text[77];
	size_t texts = 0;

	(void)state;
	memset(text, 'Q', 76);
	for (long i = 0; i < 1000; i++) {
		text[0] = (char)('A' + i % 26);
		line("make", i % 10 ? "stdout" : "stderr", 5000 + i / 7, text,
		     76, 65536);
		texts += 76;
	}
	assert_true(fx.code.len < 1000 * 16);
	check_windows(0, 997);
	(void)texts;
}

/* A text the log lost reads as "" and blanks, the event's length kept. */
static void test_lost_text(void **state)
{
	struct buf got = BUF_INIT(SIZE_MAX);
	ssize_t n;

	(void)state;
	line("t", "stdout", 1, "kept", 4, 64);
	line("t", "stdout", 2, "lost line", 9, 64);
	run("t", "stdout", 3, "lost\nrun\n", 2);
	fx.lost_from = 5;	/* "kept\n" */
	n = evc_render(fx.code.data, fx.code.len, 0, fx.events.len, 0,
		       SIZE_MAX, log_read, &fx, &got);
	assert_int_equal(n, (ssize_t)fx.events.len);
	assert_non_null(strstr(got.data, "\"kept\"}\n"));
	assert_non_null(strstr(got.data, "\"text\":\"\"         }\n"));
	/* the run: one event-shaped line as long as its two events */
	assert_memory_equal(got.data + got.len - 3, " }\n", 3);
	assert_null(strstr(strstr(got.data, "\"\"         }\n") + 13, "lost"));
	buf_release(&got);
}

/* What cannot refer to the log is kept as it is. */
static void test_as_lit(void **state)
{
	char head[EVC_HEAD_MAX + 100];
	struct evc_line l = {"{\"text\":", "hello", 8, 5, 0, 0, 0};

	(void)state;
	line("t", "stdout", 1, "later", 5, 64);
	/* a log offset behind the last line's */
	buf_addstr(&fx.events, "{\"text\":\"hello\"}\n");
	assert_int_equal(evenc_line(&fx.en, &fx.code, &l), 0);
	/* a head longer than EVC_HEAD_MAX */
	memset(head, 'h', sizeof(head));
	buf_add(&fx.events, head, sizeof(head));
	buf_addstr(&fx.events, "\"later\"}\n");
	l = (struct evc_line){head, "later", sizeof(head), 5, 0, 0, 0};
	assert_int_equal(evenc_line(&fx.en, &fx.code, &l), 0);
	/* a text the log does not have, alone and a run */
	buf_addstr(&fx.events, "{\"text\":\"gone\"}\n");
	l = (struct evc_line){"{\"text\":", "gone", 8, 4, 0, 0, EVC_NO_LOG};
	assert_int_equal(evenc_line(&fx.en, &fx.code, &l), 0);
	buf_addstr(&fx.events, "{\"text\":\"a\\\"\"}\n{\"text\":\"b\"}\n");
	l = (struct evc_line){"{\"text\":", "a\"\nb\n", 8, 5, 1, 2, EVC_NO_LOG};
	assert_int_equal(evenc_line(&fx.en, &fx.code, &l), 0);
	check_windows(0, 1);
}

/* A run whose events pass EVC_RUN_MAX is kept as its bytes (a reader
 * would render it whole); the run side cuts runs below that. */
static void test_run_too_big(void **state)
{
	struct buf text = BUF_INIT(SIZE_MAX), h = BUF_INIT(SIZE_MAX);
	struct evc_line l;
	size_t code0;

	(void)state;
	for (int i = 0; i < 8000; i++)
		buf_addstr(&text, "x\n");
	head(&h, "a-task-with-a-rather-long-name/and/a/path", "stdout", 1);
	l = (struct evc_line){h.data, text.data, h.len, text.len, 0, 8000,
			      0};
	assert_true(evc_line_size(&l) > EVC_RUN_MAX);
	assert_false(evenc_refers(&fx.en, &l));
	code0 = fx.code.len;
	run("a-task-with-a-rather-long-name/and/a/path", "stdout", 1,
	    text.data, 8000);
	assert_true(fx.code.len - code0 > EVC_RUN_MAX);
	run("t", "stdout", 2, "after\n", 1);	/* referred to again */
	assert_true(evenc_refers(&fx.en, &(struct evc_line){
	    "{", "y\n", 1, 2, 0, 1, fx.log.len}));
	check_windows(0, 99991);
	buf_release(&text);
	buf_release(&h);
}

/* Cut or scrambled code never crashes a reader and never reads past. */
static void test_bad_code(void **state)
{
	struct buf got = BUF_INIT(SIZE_MAX);
	unsigned seed = 7;

	(void)state;
	for (int i = 0; i < 20; i++)
		line("t", i % 2 ? "stdout" : "stderr", i, "some text", 9, 64);
	for (size_t cut = 0; cut < fx.code.len; cut++) {
		buf_reset(&got);
		assert_true(evc_render(fx.code.data, cut, 0, fx.events.len, 0,
				       SIZE_MAX, log_read, &fx, &got) >= -EIO);
	}
	for (int round = 0; round < 2000; round++) {
		char junk[200];

		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (char)(rand_r(&seed) & 0xff);
		junk[0] = (char)(round % 3 ? 2 + round % 3 : 1); /* LINE, RUN */
		buf_reset(&got);
		assert_true(evc_render(junk, sizeof(junk), 0, 1u << 30, 0,
				       1 << 20, log_read, &fx, &got) >= -ENOMEM);
		assert_true(got.len <= 1 << 20);
	}
	/* before the chunk's start, nothing */
	buf_reset(&got);
	assert_int_equal(evc_render(fx.code.data, fx.code.len, 100,
				    fx.events.len, 99, 10, log_read, &fx, &got),
			 0);
	buf_release(&got);
}

/* A LINE of hand-made code: slots, head, tail, new bytes, skip, length
 * and quoting as given. */
static void crafted(struct buf *code, uint64_t h, uint64_t t, uint64_t len,
		    uint64_t qx)
{
	buf_addc(code, 3);
	buf_addvarint(code, 0);
	buf_addvarint(code, h);
	buf_addvarint(code, t);
	buf_addvarint(code, 0);
	buf_addvarint(code, 0);
	buf_addvarint(code, len);
	buf_addvarint(code, qx);
}

/* Numbers made to wrap a sum (head + tail, a record's length past the
 * stream's) are refused, never copied or rendered twice (found by a
 * review: h = 2^64-1, t = 1 passed the bounds). */
static void test_wrapping_numbers(void **state)
{
	struct buf code = BUF_INIT(SIZE_MAX), got = BUF_INIT(SIZE_MAX);
	char lit[5000];

	(void)state;
	crafted(&code, UINT64_MAX, 1, 0, 2);
	assert_int_equal(evc_render(code.data, code.len, 0, 1000, 0, 100,
				    log_read, &fx, &got), -EIO);
	buf_reset(&code);
	crafted(&code, 1, UINT64_MAX, 0, 2);
	assert_int_equal(evc_render(code.data, code.len, 0, 1000, 0, 100,
				    log_read, &fx, &got), -EIO);
	buf_reset(&code);
	memset(lit, 'L', sizeof(lit));
	for (int i = 0; i < 4; i++) {
		buf_addc(&code, 1);
		buf_addvarint(&code, sizeof(lit));
		buf_add(&code, lit, sizeof(lit));
		crafted(&code, 0, 0, 0, (uint64_t)0 - 5000 - 2);
	}
	assert_int_equal(evc_render(code.data, code.len, 0, UINT64_MAX, 0,
				    10000, log_read, &fx, &got), -EIO);
	assert_int_equal(got.len, 0);
	/* a RUN of more lines than bytes, or quoting past 6 a byte */
	buf_reset(&code);
	crafted(&code, 0, 0, 3, 0);
	code.data[0] = 4;
	buf_addvarint(&code, 0);	/* qx after lines = 0 */
	code.data[code.len - 2] = 4;	/* lines 4 > len 3 */
	assert_int_equal(evc_render(code.data, code.len, 0, 1000, 0, 100,
				    log_read, &fx, &got), -EIO);
	buf_reset(&code);
	crafted(&code, 0, 0, 3, 1);	/* lines 1 */
	code.data[0] = 4;
	buf_addvarint(&code, 11);	/* qx: 2 text bytes, 6 each at most */
	assert_int_equal(evc_render(code.data, code.len, 0, 1000, 0, 100,
				    log_read, &fx, &got), -EIO);
	assert_int_equal(got.len, 0);
	/* a RUN of more than EVC_RUN_MAX bytes of events */
	buf_reset(&code);
	crafted(&code, 0, 0, 1u << 20, 1u << 19);	/* lines 2^19 */
	code.data[0] = 4;
	buf_addvarint(&code, 0);
	assert_int_equal(evc_render(code.data, code.len, 0, UINT64_MAX / 2, 0,
				    100, log_read, &fx, &got), -EIO);
	assert_int_equal(got.len, 0);
	/* a record past the bytes the chunk stands for */
	buf_reset(&code);
	buf_addc(&code, 1);
	buf_addvarint(&code, 10);
	buf_add(&code, lit, 10);
	assert_int_equal(evc_render(code.data, code.len, 0, 9, 0, 100,
				    log_read, &fx, &got), -EIO);
	buf_release(&code);
	buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_compact, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lost_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_as_lit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_too_big, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_code, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrapping_numbers, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
