/*
 * parkreaders: many concurrent readers of one growing file, for
 * scripts/bench. N threads each open PATH and read it to end of file. The
 * program prints "ready n=N" once every thread has finished its first
 * read (so each is then parked in its next read, on a follow/ file of a
 * running execution), then waits for all of them and prints one line:
 *
 *   op=parkreaders path=P n=N eof=E errors=X bytes_min= bytes_max=
 *     first_end_ns= last_end_ns= first_errno=
 *
 * first_end_ns and last_end_ns are CLOCK_REALTIME stamps of the first and
 * last reader to finish, so the caller can tell how long after it ended
 * the run every reader had its end of file. Threads have small stacks; the
 * descriptor limit is raised to its hard limit. It measures and prints.
 *
 * usage: parkreaders PATH N
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PR_MAX 100000L
#define PR_STACK (64u << 10)

struct reader {
	pthread_t tid;
	const char *path;
	long bytes;
	int err;	/* errno of a failed open or read, 0 at EOF */
	int64_t end_ns;
	atomic_int *first_done;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	char buf[16384];
	int fd = open(r->path, O_RDONLY | O_CLOEXEC), first = 1;
	ssize_t n;

	if (fd < 0)
		r->err = errno;
	while (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		if (first) {
			atomic_fetch_add(r->first_done, 1);
			first = 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->err = n < 0 ? errno : 0;
			break;
		}
		r->bytes += n;
	}
	if (first)
		atomic_fetch_add(r->first_done, 1);
	r->end_ns = now_ns();
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static long start_all(struct reader *rs, long n, const char *path,
		      atomic_int *done)
{
	pthread_attr_t at;
	long i;

	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, PR_STACK);
	for (i = 0; i < n; i++) {
		rs[i].path = path;
		rs[i].first_done = done;
		if (pthread_create(&rs[i].tid, &at, reader_main, &rs[i]))
			break;
	}
	pthread_attr_destroy(&at);
	return i;
}

static void report(const struct reader *rs, long n, const char *path)
{
	long i, eof = 0, errs = 0, bmin = -1, bmax = 0;
	int64_t first = 0, last = 0;
	int first_errno = 0;

	for (i = 0; i < n; i++) {
		if (rs[i].err) {
			errs++;
			if (!first_errno)
				first_errno = rs[i].err;
		} else {
			eof++;
		}
		bmin = bmin < 0 || rs[i].bytes < bmin ? rs[i].bytes : bmin;
		bmax = rs[i].bytes > bmax ? rs[i].bytes : bmax;
		first = !first || rs[i].end_ns < first ? rs[i].end_ns : first;
		last = rs[i].end_ns > last ? rs[i].end_ns : last;
	}
	printf("op=parkreaders path=%s n=%ld eof=%ld errors=%ld bytes_min=%ld "
	       "bytes_max=%ld first_end_ns=%lld last_end_ns=%lld "
	       "first_errno=%d\n", path, n, eof, errs, bmin, bmax,
	       (long long)first, (long long)last, first_errno);
}

int main(int argc, char **argv)
{
	struct reader *rs;
	atomic_int done = 0;
	long n, started, i;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) < 1 || n > PR_MAX) {
		fprintf(stderr, "usage: parkreaders PATH N (1..%ld)\n", PR_MAX);
		return 2;
	}
	raise_nofile();
	rs = calloc((size_t)n, sizeof(*rs));
	if (!rs)
		return 1;
	started = start_all(rs, n, argv[1], &done);
	if (started < n)
		fprintf(stderr, "parkreaders: only %ld threads started\n",
			started);
	while (atomic_load(&done) < started)
		usleep(10000);
	printf("ready n=%ld\n", started);
	fflush(stdout);
	for (i = 0; i < started; i++)
		pthread_join(rs[i].tid, NULL);
	report(rs, started, argv[1]);
	free(rs);
	return 0;
}
