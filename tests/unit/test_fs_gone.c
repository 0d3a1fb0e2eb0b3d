/*
 * test_fs_gone.c - the table of spec files hidden from the process that
 * unlinked them (fs/gone.h): per pid, until the timeout, taken by a
 * create, cleared by a rename onto the name, bounded when full.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fs/gone.h"

/* One step of a scenario: an operation at a time, and what it answers. */
enum op { ADD, HAS, TAKE, CLEAR };

struct step {
	enum op op;
	uint64_t ino;
	pid_t pid;
	long ms;	/* time since the start */
	bool want;	/* HAS, TAKE */
};

struct scenario {
	const char *what;
	struct step steps[8];
	size_t n;
};

#define LATE ((long)FS_GONE_SECONDS * 1000)

static const struct scenario scenarios[] = {
	{ "hidden from its unlinker only",
	  { { ADD, 33, 100, 0, 0 }, { HAS, 33, 100, 1, true },
	    { HAS, 33, 101, 1, false }, { HAS, 65, 100, 1, false } }, 4 },
	{ "visible again after the timeout",
	  { { ADD, 33, 100, 0, 0 }, { HAS, 33, 100, LATE - 1, true },
	    { HAS, 33, 100, LATE, false }, { TAKE, 33, 100, LATE, false } },
	  4 },
	{ "a create takes it once",
	  { { ADD, 33, 100, 0, 0 }, { TAKE, 33, 101, 1, false },
	    { TAKE, 33, 100, 1, true }, { HAS, 33, 100, 2, false },
	    { TAKE, 33, 100, 2, false } }, 5 },
	{ "a second unlink extends the time",
	  { { ADD, 33, 100, 0, 0 }, { ADD, 33, 100, 1000, 0 },
	    { HAS, 33, 100, LATE + 500, true },
	    { HAS, 33, 100, LATE + 1000, false } }, 4 },
	{ "a rename onto the name shows it to all",
	  { { ADD, 33, 100, 0, 0 }, { ADD, 33, 101, 0, 0 },
	    { ADD, 65, 100, 0, 0 }, { CLEAR, 33, 0, 1, 0 },
	    { HAS, 33, 100, 2, false }, { HAS, 33, 101, 2, false },
	    { HAS, 65, 100, 2, true } }, 7 },
};

static struct timespec at(long ms)
{
	struct timespec t = { 1000 + ms / 1000, (ms % 1000) * 1000000L };

	return t;
}

static void run_step(struct gone *g, const struct scenario *s, size_t i)
{
	const struct step *st = &s->steps[i];
	struct timespec now = at(st->ms);
	bool got = false;

	switch (st->op) {
	case ADD:
		gone_add(g, st->ino, st->pid, &now);
		return;
	case CLEAR:
		gone_clear(g, st->ino);
		return;
	case HAS:
		got = gone_has(g, st->ino, st->pid, &now);
		break;
	case TAKE:
		got = gone_take(g, st->ino, st->pid, &now);
		break;
	}
	if (got != st->want)
		fail_msg("%s: step %zu: got %d, want %d", s->what, i, got,
			 st->want);
}

static void test_scenarios(void **state)
{
	struct gone *g;
	size_t i, j;

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		assert_int_equal(gone_new(&g), 0);
		for (j = 0; j < scenarios[i].n; j++)
			run_step(g, &scenarios[i], j);
		gone_free(g);
	}
}

/* A full table drops the entry that ends first, never fails. */
static void test_bounded(void **state)
{
	struct timespec now;
	struct gone *g;
	uint64_t ino;

	assert_int_equal(gone_new(&g), 0);
	for (ino = 1; ino <= GONE_MAX + 1; ino++) {
		now = at((long)ino);
		gone_add(g, ino, 7, &now);
	}
	now = at(GONE_MAX + 2);
	assert_false(gone_has(g, 1, 7, &now));
	assert_true(gone_has(g, 2, 7, &now));
	assert_true(gone_has(g, GONE_MAX + 1, 7, &now));
	gone_free(g);
	gone_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
