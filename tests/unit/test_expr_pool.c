/*
 * test_expr_pool.c - the pool of idle expression evaluators: it fills,
 * a take gets an evaluator no one else gets, an empty (or no) pool still
 * gives one, idle ones that die are reaped and replaced, the end of the
 * pool ends its idle ones, many takes at once, and a pooled evaluator
 * keeps the limits and the clean descriptors of a spawned one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/expr.h"
#include "core/expr_i.h"

#define KIDS_MAX 64
#define TAKERS 8

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Whether process @pid is a child of ours, and (out) a zombie. */
static bool child_of_us(pid_t pid, bool *zombie)
{
	char path[64], text[512], *p;
	FILE *f;
	int ppid = -1;
	char st = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	p = strrchr(text, ')');
	if (!p || sscanf(p + 1, " %c %d", &st, &ppid) != 2)
		return false;
	*zombie = st == 'Z';
	return ppid == (int)getpid();
}

/* Whether @pid is a child of ours that has not died. */
static bool live_child(pid_t pid)
{
	bool z = false;

	return child_of_us(pid, &z) && !z;
}

/* Our children: evaluators and zombies.  Return: how many in @out. */
static int kids(pid_t *out, int cap, int *zombies)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	bool z;

	*zombies = 0;
	assert_non_null(d);
	while ((e = readdir(d)) && n < cap) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);

		if (pid <= 0 || !child_of_us(pid, &z))
			continue;
		if (z)
			(*zombies)++;
		else
			out[n++] = pid;
	}
	closedir(d);
	return n;
}

/* Wait (up to 20 s: a warm evaluator compiles first) until @p holds
   @want idle evaluators. */
static void wait_idle(struct expr_pool *p, unsigned want)
{
	int k;

	for (k = 0; k < 2000 && expr_pool_idle(p) != want; k++)
		nap_ms(10);
	assert_int_equal(expr_pool_idle(p), want);
}

/* An evaluation on @c of `.v` over input {v: @v} gives @v. */
static void evaluates(struct expr_cache *c, long v)
{
	struct doc *in = doc_new(DOC_MAP), *out = NULL;
	char msg[256] = "", want[32];
	struct buf b = BUF_INIT(64);

	assert_non_null(in);
	assert_int_equal(doc_map_set(in, "v", doc_int(v)), 0);
	assert_int_equal(expr_set_input(c, in), 0);
	expr_set_dot(c, in); /* `.`: the runner's task input */
	assert_int_equal(
	    expr_eval(c, "${ .v }", 7, NULL, &out, msg, sizeof(msg)), 0);
	assert_non_null(out);
	snprintf(want, sizeof(want), "%ld", v);
	assert_int_equal(expr_json_dump(out, &b), 0);
	assert_string_equal(b.data, want);
	buf_release(&b);
	doc_free(out);
	expr_set_dot(c, NULL);
	doc_free(in);
}

static void test_sizes(void **state)
{
	struct expr_pool *p = NULL;

	(void)state;
	assert_int_equal(expr_pool_new(0, &p), -EINVAL);
	assert_int_equal(expr_pool_new(EXPR_POOL_MAX + 1, &p), -EINVAL);
	assert_null(p);
	expr_pool_free(NULL);
	assert_int_equal(expr_pool_idle(NULL), 0);
}

/* It fills; a take is one of the idle ones, and the pool refills with
   others: no evaluator serves two caches. */
static void test_take_refill(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *a = NULL, *b = NULL, *c = NULL;

	(void)state;
	assert_int_equal(expr_pool_new(2, &p), 0);
	wait_idle(p, 2);
	assert_int_equal(expr_pool_take(p, &a), 0);
	assert_int_equal(expr_pool_take(p, &b), 0);
	wait_idle(p, 2);
	assert_int_equal(expr_pool_take(p, &c), 0);
	assert_true(expr_cache_pid(a) > 0 && expr_cache_pid(b) > 0);
	assert_int_not_equal(expr_cache_pid(a), expr_cache_pid(b));
	assert_int_not_equal(expr_cache_pid(a), expr_cache_pid(c));
	assert_int_not_equal(expr_cache_pid(b), expr_cache_pid(c));
	assert_int_equal(expr_cache_size(a), 0); /* the warm-up is not kept */
	evaluates(a, 1);
	evaluates(b, 2);
	evaluates(c, 3);
	expr_cache_free(a);
	expr_cache_free(b);
	expr_cache_free(c);
	expr_pool_free(p);
}

/* No pool, or a pool emptied faster than it refills: an evaluator is
   spawned at once. */
static void test_empty(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *c[4] = {NULL};
	int k;

	(void)state;
	assert_int_equal(expr_pool_take(NULL, &c[0]), 0);
	evaluates(c[0], 7);
	expr_cache_free(c[0]);
	assert_int_equal(expr_pool_new(1, &p), 0);
	for (k = 0; k < 4; k++) /* the first may find the pool not filled */
		assert_int_equal(expr_pool_take(p, &c[k]), 0);
	for (k = 0; k < 4; k++) {
		evaluates(c[k], k);
		expr_cache_free(c[k]);
	}
	expr_pool_free(p);
}

/* Idle evaluators killed: reaped (no zombie) and replaced; one killed
   just before a take is skipped by the take. */
static void test_idle_death(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *c = NULL;
	pid_t pid[KIDS_MAX], now[KIDS_MAX];
	int n, m, k, j, zombies, tries;

	(void)state;
	assert_int_equal(expr_pool_new(2, &p), 0);
	wait_idle(p, 2);
	n = kids(pid, KIDS_MAX, &zombies);
	assert_int_equal(n, 2);
	for (k = 0; k < n; k++)
		assert_int_equal(kill(pid[k], SIGKILL), 0);
	for (tries = 0; tries < 2000; tries++) {
		m = kids(now, KIDS_MAX, &zombies);
		if (m == 2 && !zombies && now[0] != pid[0] &&
		    now[0] != pid[1] && now[1] != pid[0] && now[1] != pid[1] &&
		    expr_pool_idle(p) == 2)
			break;
		nap_ms(10);
	}
	assert_true(tries < 2000);
	/* Killed (dead: a zombie or reaped), and taken before the pool's
	   thread replaced it. */
	n = kids(pid, KIDS_MAX, &zombies);
	for (k = 0; k < n; k++)
		kill(pid[k], SIGKILL);
	for (k = 0; k < n; k++)
		while (live_child(pid[k]))
			nap_ms(1);
	assert_int_equal(expr_pool_take(p, &c), 0);
	for (j = 0; j < n; j++)
		assert_int_not_equal(expr_cache_pid(c), pid[j]);
	evaluates(c, 42);
	expr_cache_free(c);
	expr_pool_free(p);
	n = kids(pid, KIDS_MAX, &zombies);
	assert_int_equal(n, 0);
	assert_int_equal(zombies, 0);
}

/* The end of the pool ends its idle evaluators: none left, no zombie;
   a cache taken before lives on. */
static void test_shutdown(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *c = NULL;
	pid_t pid[KIDS_MAX];
	int n, zombies;

	(void)state;
	assert_int_equal(expr_pool_new(3, &p), 0);
	wait_idle(p, 3);
	assert_int_equal(expr_pool_take(p, &c), 0);
	expr_pool_free(p);
	n = kids(pid, KIDS_MAX, &zombies);
	assert_int_equal(zombies, 0);
	assert_int_equal(n, 1);
	assert_int_equal(pid[0], expr_cache_pid(c));
	evaluates(c, 5);
	expr_cache_free(c);
	n = kids(pid, KIDS_MAX, &zombies);
	assert_int_equal(n + zombies, 0);
}

struct taker {
	struct expr_pool *p;
	long v;
	pid_t pid;
};

static void *take_one(void *arg)
{
	struct taker *t = arg;
	struct expr_cache *c = NULL;

	if (expr_pool_take(t->p, &c) == 0) {
		t->pid = expr_cache_pid(c);
		evaluates(c, t->v);
		expr_cache_free(c);
	}
	return NULL;
}

/* Many runs at once, more than the pool holds: each gets an evaluator of
   its own, with its own input. */
static void test_many(void **state)
{
	struct taker t[TAKERS];
	pthread_t thr[TAKERS];
	struct expr_pool *p = NULL;
	pid_t pid[KIDS_MAX];
	int k, j, zombies;

	(void)state;
	assert_int_equal(expr_pool_new(2, &p), 0);
	wait_idle(p, 2);
	for (k = 0; k < TAKERS; k++) {
		t[k] = (struct taker){p, 100 + k, -1};
		assert_int_equal(pthread_create(&thr[k], NULL, take_one, &t[k]),
				 0);
	}
	for (k = 0; k < TAKERS; k++)
		pthread_join(thr[k], NULL);
	for (k = 0; k < TAKERS; k++) {
		assert_true(t[k].pid > 0);
		for (j = 0; j < k; j++)
			assert_int_not_equal(t[k].pid, t[j].pid);
	}
	expr_pool_free(p);
	assert_int_equal(kids(pid, KIDS_MAX, &zombies) + zombies, 0);
}

/* A pooled evaluator: RLIMIT_DATA set, fd 3 its only descriptor. */
static void test_limits_fds(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *c = NULL;
	char path[64], text[8192], *line;
	struct dirent *e;
	FILE *f;
	DIR *d;
	size_t n;
	int fds = 0;

	(void)state;
	assert_int_equal(expr_pool_new(1, &p), 0);
	wait_idle(p, 1);
	assert_int_equal(expr_pool_take(p, &c), 0);
	evaluates(c, 9); /* it has set itself up (a slow start: sanitizers) */
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)expr_cache_pid(c));
	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	line = strstr(text, "Max data size");
	assert_non_null(line);
	*strchrnul(line, '\n') = '\0';
	assert_null(strstr(line, "unlimited"));
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)expr_cache_pid(c));
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			assert_string_equal(e->d_name, "3");
			fds++;
		}
	closedir(d);
	assert_int_equal(fds, 1);
	expr_cache_free(c);
	expr_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_take_refill),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_idle_death),
	    cmocka_unit_test(test_shutdown),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_limits_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
