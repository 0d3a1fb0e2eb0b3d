/*
 * test_ids.c - ids (prefix + monotonic lower-case ULID) and Stigmer slugs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ids.h"

struct slug_case {
	const char *name;
	int rc;
	const char *slug;
};

static const struct slug_case slug_cases[] = {
	/* Stigmer's own examples (steps/slug_test.go). */
	{ "My Agent", 0, "my-agent" },
	{ "Agent@123!", 0, "agent123" },
	{ "My   Cool   Agent", 0, "my-cool-agent" },
	{ "  My Agent  ", 0, "my-agent" },
	{ "Agent 你好", 0, "agent" },
	{ "my_test_agent", 0, "mytestagent" },
	{ "my.test.agent", 0, "mytestagent" },
	{ "---hyphens---", 0, "hyphens" },
	/* Spaces and hyphens mix into one hyphen; tabs are dropped, not
	 * turned into hyphens. */
	{ "a - b", 0, "a-b" },
	{ "a\tb", 0, "ab" },
	{ "a\nb c", 0, "ab-c" },
	{ "UPPER lower 0123", 0, "upper-lower-0123" },
	{ "Café Crème", 0, "caf-crme" },
	/* The two runes Go lower-cases to ASCII. */
	{ "\xc4\xb0stanbul", 0, "istanbul" },
	{ "\xe2\x84\xaa" "elvin", 0, "kelvin" },
	/* Invalid UTF-8 is dropped byte by byte without eating ASCII. */
	{ "\xc4" "A\xe2\x84" "B", 0, "ab" },
	{ "x", 0, "x" },
	{ "!!!", -EINVAL, NULL },
	{ "", -EINVAL, NULL },
	{ "   ", -EINVAL, NULL },
	{ "- - -", -EINVAL, NULL },
	{ "你好", -EINVAL, NULL },
};

static void test_slug_table(void **state)
{
	char out[SLUG_MAX + 1];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(slug_cases) / sizeof(slug_cases[0]); i++) {
		const struct slug_case *c = &slug_cases[i];

		memcpy(out, "untouched", 10);
		rc = slug_from_name(c->name, out);
		if (rc != c->rc)
			fail_msg("slug(\"%s\") = %d, want %d", c->name, rc,
				 c->rc);
		if (c->slug) {
			assert_string_equal(out, c->slug);
			assert_true(slug_valid(out));
		} else {
			assert_string_equal(out, "untouched");
		}
	}
	assert_int_equal(slug_from_name(NULL, out), -EINVAL);
}

static void test_slug_length(void **state)
{
	char name[400], out[SLUG_MAX + 1];

	(void)state;
	memset(name, 'a', 300);
	name[300] = '\0';
	assert_int_equal(slug_from_name(name, out), -ENAMETOOLONG);

	/* Exactly SLUG_MAX fits; the cap counts the slug, not the name. */
	memset(name, 'a', SLUG_MAX);
	name[SLUG_MAX] = '\0';
	assert_int_equal(slug_from_name(name, out), 0);
	assert_int_equal(strlen(out), SLUG_MAX);

	/* Characters that are dropped or trimmed do not count. */
	memset(name, '!', 50);
	memset(name + 50, 'b', SLUG_MAX);
	memcpy(name + 50 + SLUG_MAX, "  --", 5);
	assert_int_equal(slug_from_name(name, out), 0);
	assert_int_equal(strlen(out), SLUG_MAX);

	/* SLUG_MAX - 1 letters, a space and one more letter: one over. */
	memset(name, 'c', SLUG_MAX - 1);
	memcpy(name + SLUG_MAX - 1, " d", 3);
	assert_int_equal(slug_from_name(name, out), -ENAMETOOLONG);
}

static void test_slug_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "my-agent", true },	{ "a", true },	     { "0-9", true },
		{ "agent123", true },	{ "", false },	     { "-a", false },
		{ "a-", false },	{ "a--b", false },   { "A", false },
		{ "my_agent", false },	{ "my agent", false }, { "é", false },
		{ "-", false },
	};
	char longest[SLUG_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (slug_valid(cases[i].s) != cases[i].ok)
			fail_msg("slug_valid(\"%s\") != %d", cases[i].s,
				 cases[i].ok);
	assert_false(slug_valid(NULL));
	memset(longest, 'z', SLUG_MAX);
	longest[SLUG_MAX] = '\0';
	assert_true(slug_valid(longest));
	longest[SLUG_MAX] = 'z';
	longest[SLUG_MAX + 1] = '\0';
	assert_false(slug_valid(longest));
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_ids_shape_and_time(void **state)
{
	char id[IDS_ID_MAX];
	uint64_t ms, before, after;
	size_t i;

	(void)state;
	before = wall_ms();
	assert_int_equal(ids_new("exec", id), 0);
	after = wall_ms();
	assert_int_equal(strlen(id), 5 + ULID_LEN);
	assert_memory_equal(id, "exec-", 5);
	for (i = 5; i < strlen(id); i++)
		assert_non_null(strchr("0123456789abcdefghjkmnpqrstvwxyz",
				       id[i]));
	assert_true(ids_valid("exec", id));
	assert_true(ids_valid(NULL, id));
	assert_false(ids_valid("wex", id));
	assert_int_equal(ids_time_ms(id, &ms), 0);
	/* Within a second of now (ids of the same ms may run ahead of the
	 * clock only by the monotonic rule, never by a second). */
	assert_true(ms + 1000 >= before && ms <= after + 1000);

	assert_int_equal(ids_new("abcdefgh", id), 0);
	assert_true(ids_valid("abcdefgh", id));
	assert_int_equal(strlen(id) + 1, IDS_ID_MAX);
}

static void test_ids_bad_prefix(void **state)
{
	static const char *bad[] = { "", "Exec", "ex1", "ex-", "abcdefghi",
				     "é" };
	char id[IDS_ID_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(id, "untouched", 10);
		if (ids_new(bad[i], id) != -EINVAL)
			fail_msg("ids_new(\"%s\") accepted", bad[i]);
		assert_string_equal(id, "untouched");
	}
	assert_int_equal(ids_new(NULL, id), -EINVAL);
}

#define N_IDS 10000

static void test_ids_monotonic(void **state)
{
	char (*ids)[IDS_ID_MAX] = calloc(N_IDS, IDS_ID_MAX);
	uint64_t prev_ms = 0, ms;
	size_t i;

	(void)state;
	assert_non_null(ids);
	for (i = 0; i < N_IDS; i++) {
		assert_int_equal(ids_new("wex", ids[i]), 0);
		assert_true(ids_valid("wex", ids[i]));
		assert_int_equal(ids_time_ms(ids[i], &ms), 0);
		assert_true(ms >= prev_ms);
		prev_ms = ms;
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			fail_msg("not increasing: %s then %s", ids[i - 1],
				 ids[i]);
	}
	free(ids);
}

#define N_THREADS 4
#define N_PER_THREAD 2500

static void *make_ids(void *arg)
{
	char (*ids)[IDS_ID_MAX] = arg;
	size_t i;

	for (i = 0; i < N_PER_THREAD; i++)
		if (ids_new("ses", ids[i]) != 0)
			ids[i][0] = '\0';
	return NULL;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Ids from several threads are each increasing and never collide. */
static void test_ids_threads(void **state)
{
	char (*ids)[IDS_ID_MAX] = calloc(N_THREADS * N_PER_THREAD, IDS_ID_MAX);
	pthread_t th[N_THREADS];
	size_t t, i;

	(void)state;
	assert_non_null(ids);
	for (t = 0; t < N_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, make_ids,
						ids + t * N_PER_THREAD), 0);
	for (t = 0; t < N_THREADS; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < N_THREADS; t++)
		for (i = 1; i < N_PER_THREAD; i++) {
			char *a = ids[t * N_PER_THREAD + i - 1];

			assert_true(ids_valid("ses", a));
			assert_true(strcmp(a, a + IDS_ID_MAX) < 0);
		}
	qsort(ids, N_THREADS * N_PER_THREAD, IDS_ID_MAX, cmp_id);
	for (i = 1; i < N_THREADS * N_PER_THREAD; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	free(ids);
}

static void test_ids_valid_rejects(void **state)
{
	static const struct {
		const char *prefix, *id;
		bool ok;
	} cases[] = {
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fav", true },
		{ NULL, "agt-01arz3ndektsv4rrffq69g5fav", true },
		{ "agt", "agt-7zzzzzzzzzzzzzzzzzzzzzzzzz", true },
		{ "wfl", "agt-01arz3ndektsv4rrffq69g5fav", false },
		{ "ag", "agt-01arz3ndektsv4rrffq69g5fav", false },
		{ "agtx", "agt-01arz3ndektsv4rrffq69g5fav", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fa", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fav0", false },
		{ "agt", "agt-01ARZ3NDEKTSV4RRFFQ69G5FAV", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5faV", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fai", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fal", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fao", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fau", false },
		{ "agt", "agt-01arz3ndektsv4rrffq69g5fa-", false },
		{ "agt", "agt_01arz3ndektsv4rrffq69g5fav", false },
		{ "agt", "agt01arz3ndektsv4rrffq69g5fav", false },
		{ "agt", "-01arz3ndektsv4rrffq69g5fav", false },
		{ NULL, "-01arz3ndektsv4rrffq69g5fav", false },
		{ NULL, "AGT-01arz3ndektsv4rrffq69g5fav", false },
		{ NULL, "abcdefghi-01arz3ndektsv4rrffq69g5fav", false },
		/* First character over 7: more than 128 bits. */
		{ "agt", "agt-81arz3ndektsv4rrffq69g5fav", false },
		{ "agt", "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ids_valid(cases[i].prefix, cases[i].id) != cases[i].ok)
			fail_msg("ids_valid(%s, \"%s\") != %d",
				 cases[i].prefix ? cases[i].prefix : "NULL",
				 cases[i].id, cases[i].ok);
	assert_false(ids_valid("agt", NULL));
}

static void test_ids_time_decode(void **state)
{
	uint64_t ms = 42;

	(void)state;
	/* The ULID spec's example: 01ARZ3NDEK is 1469922850259 ms. */
	assert_int_equal(ids_time_ms("agt-01arz3ndektsv4rrffq69g5fav", &ms),
			 0);
	assert_int_equal(ms, UINT64_C(1469922850259));
	assert_int_equal(ids_time_ms("x-7zzzzzzzzz0000000000000000", &ms), 0);
	assert_int_equal(ms, (UINT64_C(1) << 48) - 1);
	assert_int_equal(ids_time_ms("x-00000000000000000000000000", &ms), 0);
	assert_int_equal(ms, 0);
	ms = 42;
	assert_int_equal(ids_time_ms("x-8zzzzzzzzz0000000000000000", &ms),
			 -EINVAL);
	assert_int_equal(ids_time_ms("nodash", &ms), -EINVAL);
	assert_int_equal(ids_time_ms(NULL, &ms), -EINVAL);
	assert_int_equal(ms, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slug_table),
		cmocka_unit_test(test_slug_length),
		cmocka_unit_test(test_slug_valid),
		cmocka_unit_test(test_ids_shape_and_time),
		cmocka_unit_test(test_ids_bad_prefix),
		cmocka_unit_test(test_ids_monotonic),
		cmocka_unit_test(test_ids_threads),
		cmocka_unit_test(test_ids_valid_rejects),
		cmocka_unit_test(test_ids_time_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
