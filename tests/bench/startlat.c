/*
 * startlat.c - how soon a new execution's first task runs (issue 12).
 *
 *   startlat MNT N DIR      N rounds on the execfs mounted at MNT
 *   startlat stamp FILE     (the task) write CLOCK_MONOTONIC ns to FILE
 *
 * Each round copies (open, write, close: what cp does) a new Environment,
 * then a new execution of a workflow whose first task is
 *   exec startlat stamp DIR/<name>
 * with no expression, then one whose command takes a `${ }` argument.
 * The time from the copy's return to the stamp is the start latency; it
 * includes /bin/sh starting and exec'ing this program, which the
 * "sh+exec" row measures alone (fork+exec of the same command from here).
 * Prints the min, median and p90 of each row, in ms.  Measures and
 * prints; never fails on a timing.  The workflows are named sl-plain and
 * sl-expr; DIR must be writable by the tasks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS_MAX 1000
#define WAIT_NS (20LL * 1000000000) /* a stamp that never comes */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int stamp(const char *file)
{
	char text[32], tmp[PATH_MAX];
	int64_t t = now_ns();
	int n = snprintf(text, sizeof(text), "%lld\n", (long long)t), fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp))
		return 1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n || close(fd) < 0)
		return 1;
	return rename(tmp, file) < 0;
}

/* "cp": create @path with @text.  Return: the ns at its return; -1. */
static int64_t put(const char *path, const char *text)
{
	size_t n = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		fprintf(stderr, "startlat: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "startlat: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return now_ns();
}

/* The stamp in @file, waited for (every 100 us).  Return: ns; -1. */
static int64_t wait_stamp(const char *file)
{
	int64_t end = now_ns() + WAIT_NS;
	char text[32] = "";
	FILE *f;

	while (now_ns() < end) {
		f = fopen(file, "re");
		if (f) {
			if (!fgets(text, sizeof(text), f))
				text[0] = '\0';
			fclose(f);
			if (text[0])
				return strtoll(text, NULL, 10);
		}
		usleep(100);
	}
	fprintf(stderr, "startlat: no stamp in %s\n", file);
	return -1;
}

/* The two workflows: sl-plain stamps DIR/plain, sl-expr DIR/expr (its
   argument an expression). */
static int workflows(const char *mnt, const char *self, const char *dir)
{
	static const char wf[] =
	    "metadata: {name: %s}\n"
	    "spec:\n"
	    "  document: {dsl: 1.0.0, namespace: bench, name: %s, "
	    "version: 1.0.0}\n"
	    "  tasks:\n"
	    "    - name: t\n"
	    "      kind: RUN\n"
	    "      taskConfig:\n"
	    "        shell:\n"
	    "          command: 'exec %s stamp %s/%s'\n"
	    "%s";
	const char *names[2] = {"sl-plain", "sl-expr"};
	const char *files[2] = {"plain", "$1"};
	const char *args[2] = {"", "          arguments: ['${ \"ex\" + "
				   "\"pr\" }']\n"};
	char doc[8192], path[PATH_MAX];
	int k, n;

	for (k = 0; k < 2; k++) {
		n = snprintf(doc, sizeof(doc), wf, names[k], names[k], self,
			     dir, files[k], args[k]);
		if (n < 0 || (size_t)n >= sizeof(doc))
			return -1;
		n = snprintf(path, sizeof(path), "%s/workflows/%s.yaml", mnt,
			     names[k]);
		if (n < 0 || (size_t)n >= sizeof(path) || put(path, doc) < 0)
			return -1;
	}
	return 0;
}

/* sh -c 'exec SELF stamp FILE' from here: the part of a start latency
   that is /bin/sh and exec, not execfs.  Return: ns; -1. */
static int64_t baseline(const char *self, const char *dir, int i)
{
	char cmd[PATH_MAX * 3], file[PATH_MAX];
	int64_t t0;
	pid_t pid;

	snprintf(file, sizeof(file), "%s/b-%d", dir, i);
	snprintf(cmd, sizeof(cmd), "exec %s stamp %s", self, file);
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	waitpid(pid, NULL, 0);
	return wait_stamp(file) - t0;
}

struct row {
	const char *name;
	int n;
	double ms[ROUNDS_MAX];
};

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void print_row(struct row *r)
{
	if (!r->n) {
		printf("  %-34s n/a\n", r->name);
		return;
	}
	qsort(r->ms, (size_t)r->n, sizeof(double), cmp);
	printf("  %-34s min %7.3f  median %7.3f  p90 %7.3f  n=%d\n", r->name,
	       r->ms[0], r->ms[r->n / 2], r->ms[(r->n * 9) / 10], r->n);
}

static void add(struct row *r, int64_t ns)
{
	if (ns >= 0 && r->n < ROUNDS_MAX)
		r->ms[r->n++] = (double)ns / 1e6;
}

/* One execution of @wf named @name: the copy's duration into @cp, the
   start latency (copy's return to stamp @file) into @lat. */
static void one_run(const char *mnt, const char *wf, const char *name,
		    const char *file, struct row *cp, struct row *lat)
{
	char path[PATH_MAX], doc[512];
	int64_t t0, t1, s;

	snprintf(path, sizeof(path), "%s/workflowexecutions/%s.yaml", mnt,
		 name);
	snprintf(doc, sizeof(doc),
		 "metadata: {name: %s}\nspec: {workflowId: "
		 "%s}\n",
		 name, wf);
	t0 = now_ns();
	t1 = put(path, doc);
	if (t1 < 0)
		return;
	add(cp, t1 - t0);
	s = wait_stamp(file);
	if (s >= 0)
		add(lat, s - t1);
}

static void one_env(const char *mnt, int i, struct row *cp)
{
	char path[PATH_MAX], doc[512];
	int64_t t0, t1;

	snprintf(path, sizeof(path), "%s/environments/sl-env-%d.yaml", mnt, i);
	snprintf(doc, sizeof(doc),
		 "apiVersion: agentic.stigmer.ai/v1\nkind: "
		 "Environment\nmetadata: {name: sl-env-%d}\nspec:\n  data:\n"
		 "    A: {value: x}\n",
		 i);
	t0 = now_ns();
	t1 = put(path, doc);
	if (t1 >= 0)
		add(cp, t1 - t0);
}

static struct row rows[6] = {
    {"cp Environment (ms)", 0, {0}},
    {"cp execution, plain (ms)", 0, {0}},
    {"cp execution, ${ } (ms)", 0, {0}},
    {"cp return -> task runs, plain (ms)", 0, {0}},
    {"cp return -> task runs, ${ } (ms)", 0, {0}},
    {"sh+exec alone, from here (ms)", 0, {0}},
};

/* One round: an Environment, then each workflow's execution, 200 ms
   apart (no overlap: the previous run has ended, the pool refilled). */
static void round_of(const char *mnt, const char *self, const char *dir, int i)
{
	char name[64], file[PATH_MAX];

	one_env(mnt, i, &rows[0]);
	usleep(200000);
	snprintf(name, sizeof(name), "sl-p-%d", i);
	snprintf(file, sizeof(file), "%s/plain", dir);
	unlink(file);
	one_run(mnt, "sl-plain", name, file, &rows[1], &rows[3]);
	usleep(200000);
	snprintf(name, sizeof(name), "sl-e-%d", i);
	snprintf(file, sizeof(file), "%s/expr", dir);
	unlink(file);
	one_run(mnt, "sl-expr", name, file, &rows[2], &rows[4]);
	usleep(200000);
	add(&rows[5], baseline(self, dir, i));
}

static int bench(const char *mnt, int n, const char *dir)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int i, k;

	if (len <= 0)
		return 1;
	self[len] = '\0';
	if (workflows(mnt, self, dir) < 0)
		return 1;
	for (i = 0; i < n; i++)
		round_of(mnt, self, dir, i);
	for (k = 0; k < 6; k++)
		print_row(&rows[k]);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc == 4 ? strtol(argv[2], NULL, 10) : 0;

	if (argc == 3 && !strcmp(argv[1], "stamp"))
		return stamp(argv[2]);
	if (n < 1 || n > ROUNDS_MAX) {
		fprintf(stderr, "usage: startlat MNT ROUNDS DIR\n"
				"       startlat stamp FILE\n");
		return 2;
	}
	return bench(argv[1], (int)n, argv[3]);
}
