/*
 * fsbench: the timing driver of scripts/bench. Each subcommand runs one phase
 * against any directory (the execfs mount, tmpfs, the null FUSE fs), times
 * every call with CLOCK_MONOTONIC and prints one line of key=value pairs that
 * the script parses. It measures and prints; it never judges a timing, and
 * exits non-zero only when it could not run (bad usage, or every operation
 * failed).
 *
 *   stat N PATH       N warm stat() calls of PATH
 *   cat N PATH        N warm open + read to EOF + close of PATH
 *   open N PATH       N warm open + close of PATH (no read)
 *   create DIR COUNT THREADS PREFIX
 *                     COUNT creates spread over THREADS threads, each an
 *                     open(O_CREAT|O_WRONLY) of DIR/<name>.yaml, a write of a
 *                     ~200 byte Environment document named <name>, and a
 *                     close() that must return 0
 *   mkdir DIR COUNT PREFIX
 *                     COUNT mkdir() of DIR/<PREFIX>-<i>
 *   lsl DIR ROUNDS    readdir + lstat of every entry, best of ROUNDS passes
 *   fsync N DIR       N pwrite(200 B) + fdatasync() of one file in DIR (the
 *                     cost of one durable write)
 *   pingpong N        N one-byte round trips between two threads over pipes
 *                     (the machine's wake-up cost)
 *
 * Output keys: op, path, n, errors, total_s, ops_per_s, mean_us, p50_us,
 * p99_us, max_us, and after a failure first_errno and first_error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FSB_MAX_N 10000000L
#define FSB_MAX_THREADS 64
#define FSB_DOC_MAX 512
#define FSB_WARMUP 200

struct lat {
	double *us; /* one sample per operation, microseconds */
	long n;
	long cap;
};

struct stats {
	long n;
	double total_s;
	double mean_us;
	double p50_us;
	double p99_us;
	double max_us;
};

struct failure {
	long count;
	int first_errno;
	char what[64];
};

struct writer {
	pthread_t tid;
	const char *dir;
	const char *prefix;
	int index;
	long count;
	struct lat lat;
	struct failure fail;
	pthread_barrier_t *start;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int lat_init(struct lat *l, long cap)
{
	l->us = calloc((size_t)(cap > 0 ? cap : 1), sizeof(*l->us));
	l->n = 0;
	l->cap = cap;
	return l->us ? 0 : -ENOMEM;
}

static void lat_add(struct lat *l, double us)
{
	if (l->n < l->cap)
		l->us[l->n++] = us;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts l and computes its statistics; total_s is the wall time given. */
static void lat_stats(struct lat *l, double total_s, struct stats *st)
{
	double sum = 0;
	long i;

	memset(st, 0, sizeof(*st));
	st->n = l->n;
	st->total_s = total_s;
	if (l->n == 0)
		return;
	qsort(l->us, (size_t)l->n, sizeof(*l->us), cmp_double);
	for (i = 0; i < l->n; i++)
		sum += l->us[i];
	st->mean_us = sum / (double)l->n;
	st->p50_us = l->us[l->n / 2];
	st->p99_us = l->us[(l->n * 99) / 100];
	st->max_us = l->us[l->n - 1];
}

static void fail_note(struct failure *f, int errnum, const char *what)
{
	if (f->count++ == 0) {
		f->first_errno = errnum;
		snprintf(f->what, sizeof(f->what), "%s", what);
	}
}

static void print_result(const char *op, const char *subject,
			 const struct stats *st, const struct failure *f)
{
	double rate = st->total_s > 0 ? (double)st->n / st->total_s : 0;

	printf("op=%s path=%s n=%ld errors=%ld total_s=%.4f ops_per_s=%.1f "
	       "mean_us=%.3f p50_us=%.3f p99_us=%.3f max_us=%.3f",
	       op, subject, st->n, f->count, st->total_s, rate, st->mean_us,
	       st->p50_us, st->p99_us, st->max_us);
	if (f->count)
		printf(" first_errno=%d first_error=%s:%s", f->first_errno,
		       f->what, strerror(f->first_errno));
	printf("\n");
	fflush(stdout);
}

static long parse_count(const char *s, long max)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -1;
	return v;
}

enum repeat_op { OP_STAT, OP_CAT, OP_OPEN };

/* One stat(), open+read+close or open+close of path; returns 0 or -errno. */
static int one_op(const char *path, enum repeat_op op, char *buf, size_t bufsz)
{
	struct stat st;
	ssize_t r = 0;
	int fd, rc = 0;

	if (op == OP_STAT)
		return stat(path, &st) == 0 ? 0 : -errno;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (op == OP_CAT)
		do
			r = read(fd, buf, bufsz);
		while (r > 0);
	if (r < 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static int cmd_repeat(const char *op, long n, const char *path)
{
	static char buf[65536];
	enum repeat_op kind = !strcmp(op, "cat")    ? OP_CAT
			      : !strcmp(op, "open") ? OP_OPEN
						    : OP_STAT;
	struct failure f = {0};
	struct stats st;
	struct lat l;
	double t0, t, start;
	long i;
	int rc;

	if (lat_init(&l, n) < 0)
		return 1;
	for (i = 0; i < FSB_WARMUP; i++)
		one_op(path, kind, buf, sizeof(buf));
	start = now_s();
	for (i = 0; i < n; i++) {
		t0 = now_s();
		rc = one_op(path, kind, buf, sizeof(buf));
		t = now_s();
		if (rc < 0)
			fail_note(&f, -rc, op);
		else
			lat_add(&l, (t - t0) * 1e6);
	}
	lat_stats(&l, now_s() - start, &st);
	print_result(op, path, &st, &f);
	free(l.us);
	return st.n ? 0 : 1;
}

/*
 * Writes the benchmark Environment document for name into buf (about 200
 * bytes). Returns its length, or -ENAMETOOLONG if it does not fit.
 */
static int make_doc(char *buf, size_t size, const char *name)
{
	int len = snprintf(
	    buf, size,
	    "metadata:\n"
	    "  name: %s\n"
	    "spec:\n"
	    "  description: environment written by fsbench for scripts/bench\n"
	    "  data:\n"
	    "    A: {value: x}\n"
	    "    DB_HOST: {value: db.internal.example}\n"
	    "    DB_PORT: {value: \"5432\"}\n",
	    name);

	if (len < 0 || (size_t)len >= size)
		return -ENAMETOOLONG;
	return len;
}

/* Writes all of buf to fd; returns 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* One create: open(O_CREAT|O_WRONLY) + write + close. Records failures. */
static int create_one(struct writer *w, long i, char *doc)
{
	char name[128], path[PATH_MAX];
	int fd, len, rc;

	snprintf(name, sizeof(name), "%s-w%d-%07ld", w->prefix, w->index, i);
	len = make_doc(doc, FSB_DOC_MAX, name);
	if (len < 0 || snprintf(path, sizeof(path), "%s/%s.yaml", w->dir,
				name) >= (int)sizeof(path)) {
		fail_note(&w->fail, ENAMETOOLONG, "name");
		return -ENAMETOOLONG;
	}
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		fail_note(&w->fail, -rc, "open");
		return rc;
	}
	rc = write_all(fd, doc, (size_t)len);
	if (rc < 0)
		fail_note(&w->fail, -rc, "write");
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
		fail_note(&w->fail, -rc, "close");
	}
	return rc;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char doc[FSB_DOC_MAX];
	double t0;
	long i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < w->count; i++) {
		t0 = now_s();
		if (create_one(w, i, doc) == 0)
			lat_add(&w->lat, (now_s() - t0) * 1e6);
	}
	return NULL;
}

/* Gathers every writer's samples and failures into all and f. */
static int merge_writers(struct writer *ws, int threads, long count,
			 struct lat *all, struct failure *f)
{
	int t;

	if (lat_init(all, count) < 0)
		return -ENOMEM;
	for (t = 0; t < threads; t++) {
		memcpy(all->us + all->n, ws[t].lat.us,
		       (size_t)ws[t].lat.n * sizeof(double));
		all->n += ws[t].lat.n;
		if (ws[t].fail.count && f->count == 0)
			*f = ws[t].fail;
		else
			f->count += ws[t].fail.count;
	}
	return 0;
}

static int run_writers(struct writer *ws, int threads, pthread_barrier_t *b,
		       double *elapsed)
{
	double start;
	int t, started = 0, rc = 0;

	for (t = 0; t < threads; t++) {
		if (pthread_create(&ws[t].tid, NULL, writer_main, &ws[t]) !=
		    0) {
			rc = -EAGAIN;
			break;
		}
		started++;
	}
	if (rc < 0) {
		/* The barrier can never complete: bail out hard. */
		fprintf(stderr, "fsbench: cannot start threads\n");
		exit(1);
	}
	pthread_barrier_wait(b);
	start = now_s();
	for (t = 0; t < started; t++)
		pthread_join(ws[t].tid, NULL);
	*elapsed = now_s() - start;
	return rc;
}

static int cmd_create(const char *dir, long count, int threads,
		      const char *prefix)
{
	struct writer ws[FSB_MAX_THREADS];
	struct failure f = {0};
	pthread_barrier_t b;
	struct lat all = {0};
	struct stats st;
	double elapsed = 0;
	int t, rc = 1;
	char subject[PATH_MAX + 32];

	memset(ws, 0, sizeof(ws));
	pthread_barrier_init(&b, NULL, (unsigned)threads + 1);
	for (t = 0; t < threads; t++) {
		ws[t].dir = dir;
		ws[t].prefix = prefix;
		ws[t].index = t;
		ws[t].count = count / threads + (t < count % threads);
		ws[t].start = &b;
		if (lat_init(&ws[t].lat, ws[t].count) < 0)
			goto out;
	}
	run_writers(ws, threads, &b, &elapsed);
	if (merge_writers(ws, threads, count, &all, &f) < 0)
		goto out;
	lat_stats(&all, elapsed, &st);
	snprintf(subject, sizeof(subject), "%s threads=%d", dir, threads);
	print_result("create", subject, &st, &f);
	rc = st.n ? 0 : 1;
out:
	for (t = 0; t < threads; t++)
		free(ws[t].lat.us);
	free(all.us);
	pthread_barrier_destroy(&b);
	return rc;
}

static int cmd_mkdir(const char *dir, long count, const char *prefix)
{
	char path[PATH_MAX];
	struct failure f = {0};
	struct stats st;
	struct lat l;
	double t0, start;
	long i;

	if (lat_init(&l, count) < 0)
		return 1;
	start = now_s();
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s-%07ld", dir, prefix, i);
		t0 = now_s();
		if (mkdir(path, 0755) != 0)
			fail_note(&f, errno, "mkdir");
		else
			lat_add(&l, (now_s() - t0) * 1e6);
	}
	lat_stats(&l, now_s() - start, &st);
	print_result("mkdir", dir, &st, &f);
	free(l.us);
	return st.n ? 0 : 1;
}

/* One pass of readdir + lstat over dir; returns entries seen or -errno. */
static long lsl_pass(const char *dir, struct failure *f)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	long n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0)
			fail_note(f, errno, "lstat");
		n++;
	}
	closedir(d);
	return n;
}

/* Reports the best of rounds passes; per-entry figures are pass time / n. */
static int cmd_lsl(const char *dir, long rounds)
{
	struct failure f = {0};
	struct stats st = {0};
	double t0, t, best = 0;
	long r, n = 0;

	for (r = 0; r < rounds; r++) {
		t0 = now_s();
		n = lsl_pass(dir, &f);
		t = now_s() - t0;
		if (n < 0) {
			fail_note(&f, (int)-n, "opendir");
			break;
		}
		if (r == 0 || t < best)
			best = t;
	}
	if (n > 0) {
		st.n = n;
		st.total_s = best;
		st.mean_us = best * 1e6 / (double)n;
	}
	print_result("lsl", dir, &st, &f);
	return n > 0 ? 0 : 1;
}

/* Times n pwrite+fdatasync of 200 bytes to a scratch file in dir. */
static int cmd_fsync(long n, const char *dir)
{
	char path[PATH_MAX], buf[200];
	struct failure f = {0};
	struct stats st;
	struct lat l;
	double t0, start;
	long i;
	int fd;

	snprintf(path, sizeof(path), "%s/fsbench-fsync.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0 || lat_init(&l, n) < 0) {
		perror(path);
		return 1;
	}
	unlink(path);
	memset(buf, 'x', sizeof(buf));
	start = now_s();
	for (i = 0; i < n; i++) {
		t0 = now_s();
		if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
		    fdatasync(fd) != 0)
			fail_note(&f, errno, "fdatasync");
		else
			lat_add(&l, (now_s() - t0) * 1e6);
	}
	lat_stats(&l, now_s() - start, &st);
	close(fd);
	print_result("fsync", dir, &st, &f);
	free(l.us);
	return st.n ? 0 : 1;
}

struct pingpong {
	int in;	 /* read end this side waits on */
	int out; /* write end this side answers on */
	long n;
};

static void *pong_main(void *arg)
{
	struct pingpong *p = arg;
	char c;
	long i;

	for (i = 0; i < p->n; i++)
		if (read(p->in, &c, 1) != 1 || write(p->out, &c, 1) != 1)
			break;
	return NULL;
}

/* Times n round trips of one byte between this thread and another. */
static int cmd_pingpong(long n)
{
	int a[2], b[2];
	struct pingpong p;
	struct failure f = {0};
	struct stats st;
	struct lat l;
	pthread_t tid;
	double t0, start;
	char c = 'p';
	long i;

	if (pipe(a) != 0 || pipe(b) != 0 || lat_init(&l, n) < 0)
		return 1;
	p.in = a[0];
	p.out = b[1];
	p.n = n;
	if (pthread_create(&tid, NULL, pong_main, &p) != 0)
		return 1;
	start = now_s();
	for (i = 0; i < n; i++) {
		t0 = now_s();
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) {
			fail_note(&f, errno, "pipe");
			break;
		}
		lat_add(&l, (now_s() - t0) * 1e6);
	}
	close(a[1]);
	pthread_join(tid, NULL);
	lat_stats(&l, now_s() - start, &st);
	print_result("pingpong", "pipe", &st, &f);
	close(a[0]);
	close(b[0]);
	close(b[1]);
	free(l.us);
	return st.n ? 0 : 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: fsbench stat N PATH | cat N PATH | open N PATH |\n"
		"       create DIR COUNT THREADS PREFIX | mkdir DIR "
		"COUNT PREFIX |\n"
		"       lsl DIR ROUNDS | fsync N DIR | pingpong N\n");
	return 2;
}

int main(int argc, char *argv[])
{
	long n, t;

	if (argc == 4 && (!strcmp(argv[1], "stat") || !strcmp(argv[1], "cat") ||
			  !strcmp(argv[1], "open"))) {
		n = parse_count(argv[2], FSB_MAX_N);
		return n < 0 ? usage() : cmd_repeat(argv[1], n, argv[3]);
	}
	if (argc == 6 && !strcmp(argv[1], "create")) {
		n = parse_count(argv[3], FSB_MAX_N);
		t = parse_count(argv[4], FSB_MAX_THREADS);
		if (n < 0 || t < 0)
			return usage();
		return cmd_create(argv[2], n, (int)t, argv[5]);
	}
	if (argc == 5 && !strcmp(argv[1], "mkdir")) {
		n = parse_count(argv[3], FSB_MAX_N);
		return n < 0 ? usage() : cmd_mkdir(argv[2], n, argv[4]);
	}
	if (argc == 4 && !strcmp(argv[1], "lsl")) {
		n = parse_count(argv[3], 1000);
		return n < 0 ? usage() : cmd_lsl(argv[2], n);
	}
	if (argc == 4 && !strcmp(argv[1], "fsync")) {
		n = parse_count(argv[2], FSB_MAX_N);
		return n < 0 ? usage() : cmd_fsync(n, argv[3]);
	}
	if (argc == 3 && !strcmp(argv[1], "pingpong")) {
		n = parse_count(argv[2], FSB_MAX_N);
		return n < 0 ? usage() : cmd_pingpong(n);
	}
	return usage();
}
