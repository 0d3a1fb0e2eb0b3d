/*
 * followlat: the latency of a line stream, for scripts/bench. It reads a
 * file (or standard input, "-") with plain read(2) calls, splits what
 * arrives into lines, and for every line that starts with a wall-clock
 * stamp in nanoseconds (what `date +%s%N` prints) records the time the
 * line was received (CLOCK_REALTIME right after the read returned) minus
 * that stamp. It stops after COUNT stamped lines or at end of file and
 * prints one line of key=value pairs, like fsbench:
 *
 *   op=followlat path=P n=N errors=E mean_us= p50_us= p99_us= max_us=
 *
 * Lines without a stamp (other output of the writer) are skipped. Both
 * clocks are the same machine's CLOCK_REALTIME, so the figure is the
 * writer-to-reader delay through whatever sits between them (a pipe, tail
 * -f on tmpfs, the execfs runner and a parked follow/log read). It
 * measures and prints; it never judges a timing.
 *
 * usage: followlat PATH|- COUNT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FL_MAX_COUNT 1000000L
#define FL_LINE_MAX 4096

struct fl {
	double *us;	/* one sample per stamped line */
	long n;
	long want;
	long errors;	/* negative delays (clock steps) */
	char line[FL_LINE_MAX];
	size_t len;	/* bytes of the current line so far */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A complete line arrived at @at: record its delay if it has a stamp. */
static void fl_line(struct fl *f, int64_t at)
{
	char *end;
	long long stamp;

	f->line[f->len < FL_LINE_MAX ? f->len : FL_LINE_MAX - 1] = '\0';
	f->len = 0;
	errno = 0;
	stamp = strtoll(f->line, &end, 10);
	if (end == f->line || errno || stamp < 1000000000000000000LL)
		return;
	if (at < stamp) {
		f->errors++;
		return;
	}
	f->us[f->n++] = (double)(at - stamp) / 1e3;
}

/* Feed @n bytes received at @at; return 1 once enough lines were seen. */
static int fl_feed(struct fl *f, const char *p, size_t n, int64_t at)
{
	size_t i;

	for (i = 0; i < n && f->n < f->want; i++) {
		if (p[i] == '\n')
			fl_line(f, at);
		else if (f->len < FL_LINE_MAX - 1)
			f->line[f->len++] = p[i];
	}
	return f->n >= f->want;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(const double *v, long n, double p)
{
	long i = (long)(p * (double)(n - 1) + 0.5);

	return n ? v[i] : 0;
}

static void report(struct fl *f, const char *path)
{
	double sum = 0;
	long i;

	qsort(f->us, (size_t)f->n, sizeof(double), cmp_double);
	for (i = 0; i < f->n; i++)
		sum += f->us[i];
	printf("op=followlat path=%s n=%ld errors=%ld mean_us=%.1f "
	       "p50_us=%.1f p99_us=%.1f max_us=%.1f\n", path, f->n, f->errors,
	       f->n ? sum / (double)f->n : 0, pct(f->us, f->n, 0.5),
	       pct(f->us, f->n, 0.99), f->n ? f->us[f->n - 1] : 0);
}

int main(int argc, char **argv)
{
	struct fl f = { 0 };
	char buf[65536];
	ssize_t r;
	int fd;

	if (argc != 3 || (f.want = strtol(argv[2], NULL, 10)) < 1 ||
	    f.want > FL_MAX_COUNT) {
		fprintf(stderr, "usage: followlat PATH|- COUNT (1..%ld)\n",
			FL_MAX_COUNT);
		return 2;
	}
	fd = strcmp(argv[1], "-") ? open(argv[1], O_RDONLY | O_CLOEXEC) : 0;
	f.us = calloc((size_t)f.want, sizeof(double));
	if (fd < 0 || !f.us) {
		fprintf(stderr, "followlat: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "followlat: read: %s\n", strerror(errno));
			break;
		}
		if (fl_feed(&f, buf, (size_t)r, now_ns()))
			break;
	}
	report(&f, argv[1]);
	free(f.us);
	return f.n ? 0 : 1;
}
