/*
 * test_buf.c - bounded buffers: growth, the cap, formatting, detach.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static void test_add_grows_and_terminates(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[100];
	size_t k;

	(void)state;
	assert_null(b.data);
	memset(chunk, 'x', sizeof(chunk));
	for (k = 0; k < 100; k++)
		assert_int_equal(buf_add(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 10000);
	assert_true(b.alloc > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), 10000);
	assert_int_equal(buf_addstr(&b, "yz"), 0);
	assert_int_equal(buf_addc(&b, '!'), 0);
	assert_string_equal(b.data + 10000, "yz!");
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 1 << 20);
}

/* `used` is the extent ever written (with the NUL): what release and
 * growth zero.  A truncate or reset keeps it; growth starts it again at
 * what was copied; the untouched rest of a large block is never zeroed
 * (it would be faulted in just for that). */
static void test_used_extent(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	char big[300];

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(buf_add(&b, "secret", 6), 0);
	assert_int_equal(b.used, 7);
	assert_true(b.alloc >= b.used);
	assert_int_equal(buf_addf(&b, "%.*s", (int)sizeof(big), big), 0);
	assert_int_equal(b.used, 307);
	buf_truncate(&b, 2);
	buf_reset(&b);
	assert_int_equal(buf_add(&b, "ab", 2), 0);
	assert_int_equal(b.used, 307);
	assert_true(b.used <= b.alloc);
	buf_release(&b);
	assert_int_equal(b.used, 0);
	assert_null(b.data);
}

static void test_cap_exact_and_over(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 5);
	assert_int_equal(buf_addstr(&b, "abc"), 0);
	assert_int_equal(buf_addstr(&b, "xyz"), -EFBIG);
	assert_int_equal(b.len, 3);
	assert_string_equal(b.data, "abc");
	assert_int_equal(buf_addstr(&b, "de"), 0);
	assert_string_equal(b.data, "abcde");
	assert_int_equal(buf_addc(&b, 'f'), -EFBIG);
	assert_int_equal(buf_addf(&b, "%d", 1), -EFBIG);
	assert_string_equal(b.data, "abcde");
	assert_int_equal(buf_add(&b, "", 0), 0);
	buf_release(&b);
}

static void test_cap_zero(void **state)
{
	struct buf b = BUF_INIT(0);

	(void)state;
	assert_int_equal(buf_addc(&b, 'a'), -EFBIG);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_addf_short_and_long(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	char big[1000];

	(void)state;
	assert_int_equal(buf_addf(&b, "%s-%d", "n", 42), 0);
	assert_string_equal(b.data, "n-42");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* Longer than any small stack buffer the implementation may use. */
	assert_int_equal(buf_addf(&b, "[%s]%s", big, big), 0);
	assert_int_equal(b.len, 4 + 2 + 2 * 999);
	assert_int_equal(b.data[4], '[');
	assert_int_equal(b.data[4 + 1 + 999], ']');
	assert_int_equal(b.data[b.len - 1], 'q');
	assert_int_equal(b.data[b.len], '\0');
	buf_release(&b);
}

static void test_addf_long_over_cap_unchanged(void **state)
{
	struct buf b = BUF_INIT(600);
	char big[500];

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_addstr(&b, "keep"), 0);
	assert_int_equal(buf_addf(&b, "%s%s", big, big), -EFBIG);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "keep");
	assert_int_equal(buf_addf(&b, "%s", big), 0);
	assert_int_equal(b.len, 4 + 499);
	buf_release(&b);
}

static void test_truncate_reset(void **state)
{
	struct buf b = BUF_INIT(100);

	(void)state;
	buf_truncate(&b, 3); /* empty and unallocated: no-op */
	assert_null(b.data);
	assert_int_equal(buf_addstr(&b, "hello world"), 0);
	buf_truncate(&b, 50);
	assert_string_equal(b.data, "hello world");
	buf_truncate(&b, 5);
	assert_string_equal(b.data, "hello");
	assert_int_equal(b.len, 5);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_addstr(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	buf_release(&b);
	buf_release(NULL);
}

static void test_detach(void **state)
{
	struct buf b = BUF_INIT(100);
	size_t len = 99;
	char *p;

	(void)state;
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);

	assert_int_equal(buf_addstr(&b, "taken"), 0);
	p = buf_detach(&b, &len);
	assert_string_equal(p, "taken");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 100);
	assert_int_equal(buf_addstr(&b, "new"), 0);
	assert_string_equal(b.data, "new");
	assert_string_equal(p, "taken");
	free(p);
	p = buf_detach(&b, NULL);
	assert_string_equal(p, "new");
	free(p);
}

static void test_binary_bytes(void **state)
{
	struct buf b = BUF_INIT(16);
	const char bin[4] = {'a', '\0', 'b', '\0'};

	(void)state;
	assert_int_equal(buf_add(&b, bin, sizeof(bin)), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, bin, 4);
	assert_int_equal(b.data[4], '\0');
	buf_release(&b);
}

/* LEB128: 7 bits a byte, low first, the high bit on all but the last. */
static void test_varint(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		const char *bytes;
	} cases[] = {
	    {0, 1, "\x00"},
	    {127, 1, "\x7f"},
	    {128, 2, "\x80\x01"},
	    {300, 2, "\xac\x02"},
	    {UINT64_MAX, 10, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
	};
	struct buf b = BUF_INIT(64), small = BUF_INIT(1);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		assert_int_equal(buf_addvarint(&b, cases[i].v), 0);
		assert_int_equal(b.len, cases[i].n);
		assert_memory_equal(b.data, cases[i].bytes, cases[i].n);
	}
	/* all or nothing at the cap */
	assert_int_equal(buf_addvarint(&small, 300), -EFBIG);
	assert_int_equal(small.len, 0);
	buf_release(&b);
	buf_release(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_grows_and_terminates),
	    cmocka_unit_test(test_used_extent),
	    cmocka_unit_test(test_cap_exact_and_over),
	    cmocka_unit_test(test_cap_zero),
	    cmocka_unit_test(test_addf_short_and_long),
	    cmocka_unit_test(test_addf_long_over_cap_unchanged),
	    cmocka_unit_test(test_truncate_reset),
	    cmocka_unit_test(test_detach),
	    cmocka_unit_test(test_binary_bytes),
	    cmocka_unit_test(test_varint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
