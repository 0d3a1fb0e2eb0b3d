/*
 * startlat: how long creating a resource takes on an execfs mount, and how
 * long after an execution's create returns its first task's process runs,
 * for scripts/bench (issue 12). COUNT times, one after the other, it
 *
 *   env_cp      writes a new Environment into ENVDIR (open O_CREAT|O_EXCL,
 *               one write, close: what cp does) and times it;
 *   exec_cp     writes a new WorkflowExecution of WF_PLAIN into EXECDIR the
 *               same way and times it, then
 *   exec_start  times from the return of its close until FIFO is readable:
 *               the workflow's first task is `echo > FIFO`, so that is when
 *               its process (/bin/sh) ran its first command;
 *   expr_cp, expr_start  the same with WF_EXPR, whose first task has a
 *               `${ }` expression;
 *   sh_start    the floor: posix_spawn of /bin/sh -c 'echo > FIFO' from
 *               here, timed from before the spawn until FIFO is readable.
 *
 * It holds FIFO open for reading and writing itself, so a task's open of
 * it never blocks and poll() sees only data. After each step it waits
 * GAP_MS (the run ends, the daemon settles). Times are CLOCK_MONOTONIC.
 * For each way it prints one line like fsbench:
 *
 *   op=exec_start n=N errors=E mean_us= p50_us= p99_us= min_us= max_us=
 *
 * errors counts creates that failed and tasks not heard from in 10 s. It
 * measures and prints; it exits non-zero only for bad usage or a FIFO it
 * cannot open.
 *
 * usage: startlat COUNT GAP_MS FIFO ENVDIR EXECDIR WF_PLAIN WF_EXPR PREFIX
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SL_MAX_COUNT 100000L
#define SL_WAIT_MS 10000
#define SL_DOC_MAX 512

extern char **environ;

enum way { ENV_CP, EXEC_CP, EXEC_START, EXPR_CP, EXPR_START, SH_START, WAYS };
static const char *const way_name[WAYS] = {
    "env_cp", "exec_cp", "exec_start", "expr_cp", "expr_start", "sh_start",
};

struct sample {
	double *v;
	long n, errors;
};

struct ctx {
	int rfd; /* FIFO, read end (and a write end held open) */
	const char *fifo, *envdir, *execdir, *prefix;
	struct sample s[WAYS];
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void add(struct sample *s, double v)
{
	s->v[s->n++] = v;
}

/* Writes @doc as new file @dir/@name.yaml as cp does; the time it took in
 * µs, or a negative value if it failed. */
static double create(const char *dir, const char *name, const char *doc)
{
	char path[4096];
	size_t len = strlen(doc);
	double t0;
	int fd, n, ok;

	n = snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	t0 = now_us();
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, doc, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	return ok ? now_us() - t0 : -1;
}

/* Waits until FIFO has data and drains it; the time then, or -1. */
static double heard(int rfd)
{
	struct pollfd p = {rfd, POLLIN, 0};
	char buf[256];
	double t;
	int rc;

	do
		rc = poll(&p, 1, SL_WAIT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return -1;
	t = now_us();
	while (read(rfd, buf, sizeof(buf)) > 0)
		;
	return t;
}

static void drain(int rfd)
{
	char buf[256];

	while (read(rfd, buf, sizeof(buf)) > 0)
		;
}

/* One execution of @wf: its create time into @cp, the task's start into
 * @start. */
static void one_exec(struct ctx *c, long i, const char *wf, enum way cp,
		     enum way start)
{
	char name[128], doc[SL_DOC_MAX];
	double d, t1, t2;
	int n;

	n = snprintf(name, sizeof(name), "%s-%s-%ld", c->prefix, way_name[cp],
		     i);
	if (n < 0 || (size_t)n >= sizeof(name))
		goto fail;
	n = snprintf(doc, sizeof(doc),
		     "metadata: {name: %s}\nspec: {workflowId: %s}\n", name,
		     wf);
	if (n < 0 || (size_t)n >= sizeof(doc))
		goto fail;
	drain(c->rfd);
	d = create(c->execdir, name, doc);
	t1 = now_us();
	if (d < 0)
		goto fail;
	add(&c->s[cp], d);
	t2 = heard(c->rfd);
	if (t2 < 0) {
		c->s[start].errors++;
		return;
	}
	add(&c->s[start], t2 - t1);
	return;
fail:
	c->s[cp].errors++;
	c->s[start].errors++;
}

static void one_env(struct ctx *c, long i)
{
	char name[128], doc[SL_DOC_MAX];
	double d;
	int n;

	n = snprintf(name, sizeof(name), "%s-env-%ld", c->prefix, i);
	if (n < 0 || (size_t)n >= sizeof(name))
		goto fail;
	n = snprintf(
	    doc, sizeof(doc),
	    "metadata: {name: %s}\nspec:\n  data:\n    A: {value: x}\n", name);
	if (n < 0 || (size_t)n >= sizeof(doc))
		goto fail;
	d = create(c->envdir, name, doc);
	if (d < 0)
		goto fail;
	add(&c->s[ENV_CP], d);
	return;
fail:
	c->s[ENV_CP].errors++;
}

static void one_sh(struct ctx *c)
{
	char cmd[4200];
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	double t0, t2;
	pid_t pid;
	int n, st;

	n = snprintf(cmd, sizeof(cmd), "echo x > '%s'", c->fifo);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		goto fail;
	drain(c->rfd);
	t0 = now_us();
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		goto fail;
	t2 = heard(c->rfd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (t2 < 0)
		goto fail;
	add(&c->s[SH_START], t2 - t0);
	return;
fail:
	c->s[SH_START].errors++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *name, struct sample *s)
{
	double sum = 0;

	printf("op=%s n=%ld errors=%ld", name, s->n, s->errors);
	if (s->n == 0) {
		printf("\n");
		return;
	}
	qsort(s->v, (size_t)s->n, sizeof(double), cmp_double);
	for (long i = 0; i < s->n; i++)
		sum += s->v[i];
	printf(
	    " mean_us=%.1f p50_us=%.1f p99_us=%.1f min_us=%.1f max_us=%.1f\n",
	    sum / (double)s->n, s->v[s->n / 2], s->v[s->n * 99 / 100], s->v[0],
	    s->v[s->n - 1]);
}

int main(int argc, char **argv)
{
	struct ctx c = {.rfd = -1};
	long count, gap;
	char *end;
	int wfd = -1, rc = 1;

	if (argc != 9)
		goto usage;
	count = strtol(argv[1], &end, 10);
	if (*end || count < 1 || count > SL_MAX_COUNT)
		goto usage;
	gap = strtol(argv[2], &end, 10);
	if (*end || gap < 0 || gap > 60000)
		goto usage;
	c.fifo = argv[3], c.envdir = argv[4], c.execdir = argv[5];
	c.prefix = argv[8];
	c.rfd = open(c.fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (c.rfd >= 0)
		wfd = open(c.fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (c.rfd < 0 || wfd < 0) {
		fprintf(stderr, "startlat: %s: %s\n", c.fifo, strerror(errno));
		goto out;
	}
	for (int w = 0; w < WAYS; w++) {
		c.s[w].v = calloc((size_t)count, sizeof(double));
		if (!c.s[w].v)
			goto out;
	}
	for (long i = 0; i < count; i++) {
		one_env(&c, i);
		sleep_ms(gap);
		one_exec(&c, i, argv[6], EXEC_CP, EXEC_START);
		sleep_ms(gap);
		one_exec(&c, i, argv[7], EXPR_CP, EXPR_START);
		sleep_ms(gap);
		one_sh(&c);
		sleep_ms(gap);
	}
	for (int w = 0; w < WAYS; w++)
		report(way_name[w], &c.s[w]);
	rc = 0;
out:
	for (int w = 0; w < WAYS; w++)
		free(c.s[w].v);
	if (wfd >= 0)
		close(wfd);
	if (c.rfd >= 0)
		close(c.rfd);
	return rc;
usage:
	fprintf(stderr, "usage: startlat COUNT GAP_MS FIFO ENVDIR EXECDIR "
			"WF_PLAIN WF_EXPR PREFIX\n");
	return 2;
}
