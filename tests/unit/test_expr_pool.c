/*
 * test_expr_pool.c - the pool of idle expression evaluators: it fills,
 * a take gets an evaluator no one else gets, an empty (or no) pool still
 * gives one, idle ones that die are reaped and replaced, the end of the
 * pool ends its idle ones, many takes at once, a pooled evaluator keeps
 * the limits and the clean descriptors of a spawned one; the idle ones
 * are forked by a template that learns the programs runs compile (their
 * variables' names, never values) and is replaced when it dies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* @pid's state and parent from /proc/PID/stat.  Return: whether read. */
static bool stat_of(pid_t pid, char *st, int *ppid)
{
	char path[64], text[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	p = strrchr(text, ')');
	return p && sscanf(p + 1, " %c %d", st, ppid) == 2;
}

/* Up to @cap bytes of /proc/PID/@what, NULs and all.  Return: bytes. */
static size_t proc_file(pid_t pid, const char *what, char *buf, size_t cap)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, cap, f);
		fclose(f);
	}
	return n;
}

/* Whether @pid is an evaluator of ours (ours, or a template's child: its
   environment names us), not dead; *@tpl: it is a template. */
static bool evaluator_of_us(pid_t pid, bool *tpl)
{
	char env[8192], want[64], args[256];
	size_t n = proc_file(pid, "environ", env, sizeof(env) - 1);
	size_t m = proc_file(pid, "cmdline", args, sizeof(args) - 1);
	int len = snprintf(want, sizeof(want), "EXECFS_EXPR_SERVE=%d",
			   (int)getpid());
	char st = '?';
	int ppid;

	if (!stat_of(pid, &st, &ppid) || st == 'Z')
		return false;
	env[n] = '\0';
	args[m] = '\0';
	*tpl = m > 12 && !strcmp(args + 12, EXPR_SERVE_TEMPLATE);
	return memmem(env, n + 1, want, (size_t)len + 1) != NULL;
}

/* Whether @pid has not died yet: its state, not its environment (which
   goes before its descriptors do, as it exits). */
static bool live_child(pid_t pid)
{
	char st = '?';
	int ppid;

	return stat_of(pid, &st, &ppid) && st != 'Z' && st != 'X';
}

/* Our evaluators (templates not counted), and (out) our zombies.
   Return: how many in @out. */
static int kids(pid_t *out, int cap, int *zombies)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0, ppid;
	char st;
	bool tpl;

	*zombies = 0;
	assert_non_null(d);
	while ((e = readdir(d)) && n < cap) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);

		if (pid <= 0)
			continue;
		if (stat_of(pid, &st, &ppid) && st == 'Z' &&
		    ppid == (int)getpid())
			(*zombies)++;
		else if (evaluator_of_us(pid, &tpl) && !tpl)
			out[n++] = pid;
	}
	closedir(d);
	return n;
}

/* Our template's pid, or -1. */
static pid_t template_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;
	bool tpl;

	assert_non_null(d);
	while ((e = readdir(d)) && found < 0) {
		pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);

		if (pid > 0 && evaluator_of_us(pid, &tpl) && tpl)
			found = pid;
	}
	closedir(d);
	return found;
}

/* Until (20 s at most) no evaluator of ours is left but @keep (or -1). */
static void wait_gone_but(pid_t keep)
{
	pid_t pid[KIDS_MAX];
	int k, n, zombies;

	for (k = 0; k < 2000; k++) {
		n = kids(pid, KIDS_MAX, &zombies);
		if (template_pid() < 0 && !zombies &&
		    (n == 0 || (n == 1 && pid[0] == keep)))
			return;
		nap_ms(10);
	}
	fail_msg("evaluators left: %d (zombies %d)", n, zombies);
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
	wait_gone_but(-1);
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
	wait_gone_but(expr_cache_pid(c));
	n = kids(pid, KIDS_MAX, &zombies);
	assert_int_equal(n, 1);
	assert_int_equal(pid[0], expr_cache_pid(c));
	evaluates(c, 5);
	expr_cache_free(c);
	wait_gone_but(-1);
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
	int k, j;

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
	wait_gone_but(-1);
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

/* The idle evaluators are forked by the template: its children, shown
   as "execfs-eval run"; the template is ours. */
static void test_template_forks(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *c = NULL;
	char st, args[64];
	pid_t tpl;
	int ppid;
	size_t n;

	(void)state;
	assert_int_equal(expr_pool_new(1, &p), 0);
	wait_idle(p, 1);
	tpl = template_pid();
	assert_true(tpl > 0);
	assert_true(stat_of(tpl, &st, &ppid));
	assert_int_equal(ppid, (int)getpid());
	assert_int_equal(expr_pool_take(p, &c), 0);
	assert_true(stat_of(expr_cache_pid(c), &st, &ppid));
	assert_int_equal(ppid, (int)tpl);
	n = proc_file(expr_cache_pid(c), "cmdline", args, sizeof(args) - 1);
	assert_true(n > 12);
	assert_string_equal(args + 12, EXPR_SERVE_FORKED);
	evaluates(c, 11);
	expr_cache_free(c);
	expr_pool_free(p);
	wait_gone_but(-1);
}

/* A take from @p whose evaluator starts with at least @nprog programs:
   the lessons are in (20 s at most). */
static struct expr_cache *take_with(struct expr_pool *p, size_t nprog)
{
	struct expr_cache *c = NULL;
	int k;

	for (k = 0; k < 2000; k++) {
		assert_int_equal(expr_pool_take(p, &c), 0);
		if (expr_cache_size(c) >= nprog)
			return c;
		expr_cache_free(c);
		nap_ms(10);
	}
	fail_msg("no evaluator with %zu programs", nprog);
	return NULL;
}

/* `${ .v + $k }` with {k: @k} on @c over input {v: @v} gives v + k. */
static void adds(struct expr_cache *c, long v, long k)
{
	struct doc *in = doc_new(DOC_MAP), *vars = doc_new(DOC_MAP);
	struct doc *out = NULL;
	char msg[256] = "";
	static const char e[] = "${ .v + $k }";

	assert_int_equal(doc_map_set(in, "v", doc_int(v)), 0);
	assert_int_equal(doc_map_set(vars, "k", doc_int(k)), 0);
	assert_int_equal(expr_set_input(c, in), 0);
	expr_set_dot(c, in);
	assert_int_equal(expr_eval(c, e, sizeof(e) - 1, vars, &out, msg,
				   sizeof(msg)), 0);
	assert_int_equal(out->type, DOC_INT);
	assert_int_equal(out->i, v + k);
	expr_set_dot(c, NULL);
	doc_free(out);
	doc_free(vars);
	doc_free(in);
}

/* A program one run's evaluator compiled reaches the template: the next
   run's evaluator starts with it (it compiles nothing more for it), and
   computes on its own input. */
static void test_learned(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(expr_pool_new(2, &p), 0);
	wait_idle(p, 2);
	/* as a run does: its evaluator taken at its first expression */
	assert_int_equal(expr_cache_new_lazy(p, &a), 0);
	adds(a, 1, 2);
	assert_int_equal(expr_cache_size(a), 1);
	/* the idle ones are replaced by ones that have it */
	b = take_with(p, 1);
	assert_int_equal(expr_cache_size(b), 1);
	adds(b, 40, 2);
	assert_int_equal(expr_cache_size(b), 1);
	adds(a, 5, 5);
	expr_cache_free(a);
	expr_cache_free(b);
	expr_pool_free(p);
	wait_gone_but(-1);
}

/* Whether @pid's writable memory holds @s (root, or our own child). */
static bool memory_has(pid_t pid, const char *s)
{
	char path[64], line[512], *chunk;
	unsigned long lo, hi;
	char perms[8];
	bool found = false;
	FILE *maps;
	int fd;
	size_t len = strlen(s);

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_non_null(maps);
	assert_true(fd >= 0);
	while (!found && fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[1] != 'w' || hi - lo > (256ul << 20))
			continue;
		chunk = malloc(hi - lo);
		assert_non_null(chunk);
		if (pread(fd, chunk, hi - lo, (off_t)lo) == (ssize_t)(hi - lo))
			found = memmem(chunk, hi - lo, s, len) != NULL;
		free(chunk);
	}
	fclose(maps);
	close(fd);
	return found;
}

/* What the template is taught holds the variables' names, never their
   values: a run's secret stays in that run's evaluator. */
static void test_learn_no_values(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *a = NULL, *b = NULL;
	struct doc *vars = doc_new(DOC_MAP), *out = NULL;
	char msg[256] = "", secret[64];
	static const char e[] = "${ $tok | length }";
	pid_t tpl;

	(void)state;
	snprintf(secret, sizeof(secret), "s3cr3t-%d-%ld", (int)getpid(),
		 (long)time(NULL));
	assert_int_equal(doc_map_set(vars, "tok", doc_str(secret,
						  strlen(secret))), 0);
	assert_int_equal(expr_pool_new(1, &p), 0);
	wait_idle(p, 1);
	tpl = template_pid();
	assert_int_equal(expr_cache_new_lazy(p, &a), 0);
	assert_int_equal(expr_eval(a, e, sizeof(e) - 1, vars, &out, msg,
				   sizeof(msg)), 0);
	assert_int_equal(out->i, (long)strlen(secret));
	b = take_with(p, 1);
	assert_int_equal(template_pid(), tpl);
	assert_true(memory_has(expr_cache_pid(a), secret));
	assert_false(memory_has(tpl, secret));
	assert_false(memory_has(expr_cache_pid(b), secret));
	doc_free(out);
	doc_free(vars);
	expr_cache_free(a);
	expr_cache_free(b);
	expr_pool_free(p);
	wait_gone_but(-1);
}

/* A template that dies is replaced; a run's evaluator it forked lives on
   (a run may be using it); takes go on giving working evaluators. */
static void test_template_death(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *a = NULL, *b = NULL;
	pid_t tpl, now = -1;
	int k;

	(void)state;
	assert_int_equal(expr_pool_new(1, &p), 0);
	wait_idle(p, 1);
	assert_int_equal(expr_pool_take(p, &a), 0);
	tpl = template_pid();
	assert_true(tpl > 0);
	assert_int_equal(kill(tpl, SIGKILL), 0);
	for (k = 0; k < 2000; k++) {
		now = template_pid();
		if (now > 0 && now != tpl && expr_pool_idle(p) == 1)
			break;
		nap_ms(10);
	}
	assert_true(now > 0 && now != tpl);
	evaluates(a, 3);	/* lives on */
	assert_int_equal(expr_pool_take(p, &b), 0);
	evaluates(b, 4);
	expr_cache_free(a);
	expr_cache_free(b);
	expr_pool_free(p);
	wait_gone_but(-1);
}


/* VmData and the RLIMIT_DATA soft limit of @pid, bytes. */
static void data_of(pid_t pid, unsigned long long *vm, unsigned long long *lim)
{
	char text[8192], *line;
	size_t n = proc_file(pid, "status", text, sizeof(text) - 1);

	text[n] = '\0';
	line = strstr(text, "\nVmData:");
	assert_non_null(line);
	*vm = strtoull(line + 8, NULL, 10) << 10;
	n = proc_file(pid, "limits", text, sizeof(text) - 1);
	text[n] = '\0';
	line = strstr(text, "Max data size");
	assert_non_null(line);
	*lim = strtoull(line + 13, NULL, 10);
}

/* A forked evaluator's data room is its own EXPR_DATA_MAX, not what is
   left of the template's after all it learned. */
static void test_forked_data_room(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *a = NULL, *b = NULL, *s = NULL;
	struct doc *in = doc_new(DOC_MAP), *out = NULL;
	unsigned long long vm, lim, svm, slim;
	char e[128], msg[256];
	int k, n;

	(void)state;
	assert_int_equal(doc_map_set(in, "v", doc_int(1)), 0);
	assert_int_equal(expr_pool_new(1, &p), 0);
	wait_idle(p, 1);
	assert_int_equal(expr_cache_new_lazy(p, &a), 0);
	assert_int_equal(expr_set_input(a, in), 0);
	for (k = 0; k < 100; k++) {
		n = snprintf(e, sizeof(e),
			     "${ [range(%d)] | map(. * 2 + %d) | add }", k + 1,
			     k);
		assert_int_equal(expr_eval(a, e, (size_t)n, NULL, &out, msg,
					   sizeof(msg)), 0);
		doc_free(out);
		if (k % 10 == 9)
			nap_ms(200); /* the lessons' queue holds 16 */
	}
	b = take_with(p, 100);
	evaluates(b, 1);
	data_of(expr_cache_pid(b), &vm, &lim);
	assert_int_equal(expr_cache_new(&s), 0);
	evaluates(s, 1);
	data_of(expr_cache_pid(s), &svm, &slim);
	assert_true(slim - svm >= (unsigned long long)EXPR_DATA_MAX -
				     (16ull << 20));
	assert_true(lim - vm >= (unsigned long long)EXPR_DATA_MAX -
				   (16ull << 20));
	expr_cache_free(s);
	expr_cache_free(a);
	expr_cache_free(b);
	doc_free(in);
	expr_pool_free(p);
}

/* The literal text around a template's expressions (an HTTP endpoint's
   expanded URI template holds the task input's values) is never taught:
   neither the template nor the evaluators it forks for other runs hold
   it. */
static void test_literal_not_taught(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *a = NULL, *b = NULL;
	struct doc *in = doc_new(DOC_MAP), *out = NULL;
	char msg[256] = "", secret[64], e[256];
	pid_t tpl;
	int n;

	(void)state;
	snprintf(secret, sizeof(secret), "lit-s3cr3t-%d-%ld", (int)getpid(),
		 (long)time(NULL));
	n = snprintf(e, sizeof(e), "https://api.example/%s/x?q=${ .v }",
		     secret);
	assert_int_equal(doc_map_set(in, "v", doc_int(1)), 0);
	assert_int_equal(expr_pool_new(1, &p), 0);
	wait_idle(p, 1);
	tpl = template_pid();
	assert_int_equal(expr_cache_new_lazy(p, &a), 0);
	assert_int_equal(expr_set_input(a, in), 0);
	expr_set_dot(a, in);
	assert_int_equal(expr_eval(a, e, (size_t)n, NULL, &out, msg,
				   sizeof(msg)), 0);
	expr_set_dot(a, NULL);
	b = take_with(p, 1);
	assert_false(memory_has(tpl, secret));
	assert_false(memory_has(expr_cache_pid(b), secret));
	doc_free(out);
	doc_free(in);
	expr_cache_free(a);
	expr_cache_free(b);
	expr_pool_free(p);
}

/* A run's evaluator forked by the template, ended by the run, does not
   stay a zombie of the template while the pool has nothing to ask. */
static void test_ended_child_reaped(void **state)
{
	struct expr_pool *p = NULL;
	struct expr_cache *a = NULL;
	char st = '?';
	pid_t pid;
	int ppid, k;

	(void)state;
	assert_int_equal(expr_pool_new(1, &p), 0);
	wait_idle(p, 1);
	assert_int_equal(expr_pool_take(p, &a), 0);
	evaluates(a, 1);
	wait_idle(p, 1);
	pid = expr_cache_pid(a);
	expr_cache_free(a);
	for (k = 0; k < 300; k++) {	/* it reaps each second */
		nap_ms(10);
		if (!stat_of(pid, &st, &ppid) || st != 'Z')
			break;
	}
	assert_false(stat_of(pid, &st, &ppid) && st == 'Z');
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
	    cmocka_unit_test(test_template_forks),
	    cmocka_unit_test(test_learned),
	    cmocka_unit_test(test_learn_no_values),
	    cmocka_unit_test(test_template_death),
	    cmocka_unit_test(test_forked_data_room),
	    cmocka_unit_test(test_literal_not_taught),
	    cmocka_unit_test(test_ended_child_reaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
