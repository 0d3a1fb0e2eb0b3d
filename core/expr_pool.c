/*
 * expr_pool.c - struct expr_pool: evaluators spawned before a run needs
 * one, so that a run's first expression does not wait for a new process.
 *
 * A thread of the pool keeps up to `size` idle evaluators (warm ones: each
 * has compiled a program, see expr_serve.c).  A run takes one and owns it
 * from then on, like one it spawned itself: an evaluator is never handed
 * to a second run (it will hold the first one's secrets).  An idle
 * evaluator has no input and has been sent nothing; it never writes, so
 * its socket turning readable means it died: the thread reaps it and
 * spawns another.  Only takes and deaths wake the thread: with no runs,
 * the pool does nothing after its first fill.  A take's refill waits
 * POOL_DELAY_MS: the new process (its exec and its warm-up compile) would
 * otherwise take the CPU from the run that just took one, as it starts its
 * first task.  Evaluators that keep dying
 * while idle are replaced up to `size` deaths until the next take, and a
 * spawn that fails stops the refill until then.  An idle evaluator ends
 * with the daemon: its socket reads EOF, or expr_pool_free() kills it.
 */
#include "expr_i.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "thread.h"

#define POOL_DELAY_MS 100 /* from a take to its refill */

struct idle {
	pid_t pid;
	int sock;
};

struct expr_pool {
	pthread_mutex_t mu;
	struct idle idle[EXPR_POOL_MAX]; /* protected by mu */
	unsigned n;			 /* protected by mu: idle ones */
	unsigned deaths;		 /* protected by mu: since a take */
	bool stuck;			 /* protected by mu: a spawn failed */
	bool stopping;			 /* protected by mu */
	int64_t refill_ns;		 /* protected by mu: none before */
	unsigned size;
	int wake_fd; /* eventfd: a take, or the end */
	pthread_t thr;
};

static void wake(struct expr_pool *p)
{
	uint64_t one = 1;

	if (write(p->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the thread will wake */
	}
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* In how many ms the thread should spawn one: 0 now, -1 not until it is
   woken; the caller holds mu. */
static int refill_in_ms(const struct expr_pool *p)
{
	int64_t left;

	if (p->stopping || p->stuck || p->n >= p->size || p->deaths > p->size)
		return -1;
	left = p->refill_ns - now_ns();
	return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* Spawn one idle evaluator into the pool (not under mu: a spawn forks). */
static void refill_one(struct expr_pool *p)
{
	pid_t pid = -1;
	int sock = -1, rc = expr_proc_start(true, &pid, &sock);
	bool kept = false;

	pthread_mutex_lock(&p->mu);
	if (rc < 0)
		p->stuck = true;
	else if (!p->stopping && p->n < p->size) {
		p->idle[p->n++] = (struct idle){pid, sock};
		kept = true;
	}
	pthread_mutex_unlock(&p->mu);
	if (rc < 0)
		fprintf(stderr,
			"execfs: cannot spawn an idle expression "
			"evaluator: %s\n",
			strerror(-rc));
	else if (!kept)
		expr_proc_end(pid, sock);
}

/* Idle evaluator @pid died: out of the pool, reaped.  One a run took in
   the meantime is not ours any more: left alone. */
static void drop_dead(struct expr_pool *p, pid_t pid)
{
	struct idle gone = {-1, -1};
	unsigned k;

	pthread_mutex_lock(&p->mu);
	for (k = 0; k < p->n; k++)
		if (p->idle[k].pid == pid) {
			gone = p->idle[k];
			p->idle[k] = p->idle[--p->n];
			p->deaths++;
			break;
		}
	pthread_mutex_unlock(&p->mu);
	expr_proc_end(gone.pid, gone.sock);
}

/* Sleep until a take, the end, the death of an idle evaluator, or @ms
   (-1: no time) pass. */
static void wait_event(struct expr_pool *p, int ms)
{
	struct pollfd pfd[1 + EXPR_POOL_MAX];
	pid_t pids[1 + EXPR_POOL_MAX];
	uint64_t count;
	unsigned k, n;

	pthread_mutex_lock(&p->mu);
	n = p->n;
	for (k = 0; k < n; k++) {
		pfd[1 + k] =
		    (struct pollfd){.fd = p->idle[k].sock, .events = POLLIN};
		pids[1 + k] = p->idle[k].pid;
	}
	pthread_mutex_unlock(&p->mu);
	pfd[0] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
	if (poll(pfd, 1 + n, ms) <= 0)
		return;
	if (pfd[0].revents && read(p->wake_fd, &count, sizeof(count)) < 0) {
		/* nothing to read: another wake-up took it */
	}
	for (k = 1; k <= n; k++)
		if (pfd[k].revents)
			drop_dead(p, pids[k]);
}

static void *keep(void *arg)
{
	struct expr_pool *p = arg;
	bool stop;
	int ms;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		stop = p->stopping;
		ms = refill_in_ms(p);
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		if (ms == 0)
			refill_one(p);
		else
			wait_event(p, ms);
	}
	return NULL;
}

/* The pool's thread.  Return: 0; -errno. */
static int start_thread(struct expr_pool *p)
{
	return -thread_start(&p->thr, NULL, keep, p);
}

int expr_pool_new(unsigned size, struct expr_pool **out)
{
	struct expr_pool *p;
	int rc;

	if (size < 1 || size > EXPR_POOL_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->size = size;
	pthread_mutex_init(&p->mu, NULL);
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc = p->wake_fd < 0 ? -errno : start_thread(p);
	if (rc < 0) {
		if (p->wake_fd >= 0)
			close(p->wake_fd);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void expr_pool_free(struct expr_pool *p)
{
	unsigned k;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_mutex_unlock(&p->mu);
	wake(p);
	pthread_join(p->thr, NULL);
	for (k = 0; k < p->n; k++)
		expr_proc_end(p->idle[k].pid, p->idle[k].sock);
	close(p->wake_fd);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* The newest idle evaluator out of the pool, its refill asked for.
   Return: whether there was one. */
static bool pop(struct expr_pool *p, struct idle *one)
{
	bool got;

	pthread_mutex_lock(&p->mu);
	got = p->n > 0;
	if (got)
		*one = p->idle[--p->n];
	p->deaths = 0;
	p->stuck = false;
	p->refill_ns = now_ns() + (int64_t)POOL_DELAY_MS * 1000000;
	pthread_mutex_unlock(&p->mu);
	wake(p);
	return got;
}

bool expr_pool_pop(struct expr_pool *p, pid_t *pid, int *sock)
{
	struct idle one;

	if (!p || !pop(p, &one))
		return false;
	*pid = one.pid;
	*sock = one.sock;
	return true;
}

unsigned expr_pool_idle(struct expr_pool *p)
{
	unsigned n;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	n = p->n;
	pthread_mutex_unlock(&p->mu);
	return n;
}
