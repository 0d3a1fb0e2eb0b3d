/*
 * test_fs_known.c - fs/known.c: the resource inodes the kernel may hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fs/known.h"

/* Only what was added is known, slot by slot; a NULL table knows all. */
static void test_add_has(void **state)
{
	struct known *k;

	(void)state;
	assert_int_equal(known_new(&k), 0);
	assert_false(known_has(k, 7, 0));
	assert_true(known_add(k, 7, 4));	/* new: the caller reads again */
	assert_true(known_add(k, 7, 31));
	assert_false(known_add(k, 7, 4));	/* known already */
	assert_true(known_has(k, 7, 4));
	assert_true(known_has(k, 7, 31));
	assert_false(known_has(k, 7, 0));
	assert_false(known_has(k, 8, 4));
	assert_true(known_has(NULL, 8, 4));
	assert_false(known_add(NULL, 8, 4));
	known_free(k);
	known_free(NULL);
}

/* A dropped serial is forgotten, and may be added again. */
static void test_drop(void **state)
{
	struct known *k;

	(void)state;
	assert_int_equal(known_new(&k), 0);
	known_add(k, 3, 1);
	known_add(k, 4, 1);
	known_drop(k, 3);
	known_drop(k, 99);
	assert_false(known_has(k, 3, 1));
	assert_true(known_has(k, 4, 1));
	known_add(k, 3, 2);
	assert_true(known_has(k, 3, 2));
	assert_false(known_has(k, 3, 1));
	known_free(k);
}

/* Growth keeps every entry; adds and drops churning through many serials
 * leave the live ones known and the dropped ones not. */
static void test_growth_and_tombstones(void **state)
{
	struct known *k;
	uint64_t s;

	(void)state;
	assert_int_equal(known_new(&k), 0);
	for (s = 1; s <= 5000; s++)
		known_add(k, s, (unsigned)(s % 32));
	for (s = 1; s <= 5000; s++)
		assert_true(known_has(k, s, (unsigned)(s % 32)));
	for (s = 5001; s <= 200000; s++) {
		known_add(k, s, 0);
		known_drop(k, s);
	}
	for (s = 1; s <= 5000; s++)
		assert_true(known_has(k, s, (unsigned)(s % 32)));
	assert_false(known_has(k, 150000, 0));
	assert_true(known_add(k, 150000, 0));	/* dropped: new again */
	known_free(k);
}

/* Past KNOWN_MAX live serials, every inode counts as known. */
static void test_full_knows_all(void **state)
{
	struct known *k;
	uint64_t s;

	(void)state;
	assert_int_equal(known_new(&k), 0);
	for (s = 1; s <= KNOWN_MAX + 1; s++)
		known_add(k, s, 0);
	assert_true(known_has(k, 1, 0));
	assert_true(known_has(k, KNOWN_MAX + 1000, 5));
	/* every inode was known: no note was skipped */
	assert_false(known_add(k, KNOWN_MAX + 1000, 5));
	known_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_has),
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_growth_and_tombstones),
	    cmocka_unit_test(test_full_knows_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
