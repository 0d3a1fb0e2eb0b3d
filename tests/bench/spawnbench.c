/*
 * spawnbench: what starting a program and waiting for it costs on this
 * machine, for scripts/bench (the floor under a RUN task's overhead). It
 * starts PROGRAM [ARG...] COUNT times, one after the other, each time
 * waiting for it to exit, and times every spawn-to-reaped interval with
 * CLOCK_MONOTONIC. Three ways, each after a few untimed warm-up spawns:
 *
 *   fork_exec    fork(), execve() in the child, waitpid()
 *   posix_spawn  posix_spawn(), waitpid() (glibc: clone with CLONE_VFORK)
 *   keeper       fork() a child that forks and execs the program and waits
 *                for it, as execfs's keeper does (core/proc.c): the shape
 *                of one RUN task, without its pipes, environment or status
 *
 * The program inherits this process's environment and descriptors. For each
 * way it prints one line of key=value pairs, like fsbench:
 *
 *   op=fork_exec path=/bin/true n=N errors=E total_s= ops_per_s= mean_us=
 *     p50_us= p99_us= max_us=
 *
 * (on one line). errors counts spawns that failed or a program that did not
 * exit 0. It measures and prints; it never judges a timing, and exits
 * non-zero only for bad usage or when every spawn of every way failed.
 *
 * usage: spawnbench COUNT PROGRAM [ARG...]     e.g. spawnbench 2000 /bin/true
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SB_MAX_COUNT 1000000L
#define SB_WARMUP 20

extern char **environ;

/* One way of starting the program: 0 when it started and exited 0. */
typedef int (*spawn_fn)(char *const argv[]);

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Reaps @pid; 0 if it exited with status 0, else -1. */
static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int way_fork_exec(char *const argv[])
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execve(argv[0], argv, environ);
		_exit(127);
	}
	return reap(pid);
}

static int way_posix_spawn(char *const argv[])
{
	pid_t pid;

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	return reap(pid);
}

/* The keeper's shape: a child that forks the program, waits for it, and
 * exits with its status. */
static int way_keeper(char *const argv[])
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		pid_t prog = fork();

		if (prog < 0)
			_exit(126);
		if (prog == 0) {
			execve(argv[0], argv, environ);
			_exit(127);
		}
		_exit(reap(prog) == 0 ? 0 : 1);
	}
	return reap(pid);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts @us (n > 0) and prints the result line of way @op. */
static void report(const char *op, const char *path, double *us, long n,
		   long errors, double total_s)
{
	double sum = 0;
	long i;

	qsort(us, (size_t)n, sizeof(*us), cmp_double);
	for (i = 0; i < n; i++)
		sum += us[i];
	printf("op=%s path=%s n=%ld errors=%ld total_s=%.4f ops_per_s=%.1f "
	       "mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       op, path, n, errors, total_s,
	       total_s > 0 ? (double)n / total_s : 0, sum / (double)n,
	       us[n / 2], us[(n * 99) / 100], us[n - 1]);
	fflush(stdout);
}

/* Runs one way COUNT times after the warm-up; returns its error count. */
static long run_way(const char *op, spawn_fn fn, char *const argv[], double *us,
		    long count)
{
	double t0, t, start;
	long i, errors = 0;

	for (i = 0; i < SB_WARMUP; i++)
		fn(argv);
	start = now_us();
	for (i = 0; i < count; i++) {
		t0 = now_us();
		if (fn(argv) != 0)
			errors++;
		t = now_us();
		us[i] = t - t0;
	}
	report(op, argv[0], us, count, errors, (now_us() - start) / 1e6);
	return errors;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *op;
		spawn_fn fn;
	} ways[] = {
	    {"fork_exec", way_fork_exec},
	    {"posix_spawn", way_posix_spawn},
	    {"keeper", way_keeper},
	};
#define N_WAYS (sizeof(ways) / sizeof(ways[0]))
	char *const *prog = argv + 2;
	long count = 0, failed = 0;
	char *end = NULL;
	double *us;
	size_t i;

	if (argc >= 3)
		count = strtol(argv[1], &end, 10);
	if (argc < 3 || *end != '\0' || count < 1 || count > SB_MAX_COUNT) {
		fprintf(stderr,
			"usage: spawnbench COUNT (1..%ld) PROGRAM [ARG...]\n",
			SB_MAX_COUNT);
		return 2;
	}
	us = calloc((size_t)count, sizeof(*us));
	if (!us) {
		fprintf(stderr, "spawnbench: out of memory\n");
		return 1;
	}
	for (i = 0; i < N_WAYS; i++)
		if (run_way(ways[i].op, ways[i].fn, prog, us, count) == count)
			failed++;
	free(us);
	return failed == (long)N_WAYS ? 1 : 0;
}
