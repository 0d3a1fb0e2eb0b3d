/*
 * expr_pool.c - struct expr_pool: evaluators ready before a run needs
 * one, so that a run's first expression neither waits for a new process
 * nor compiles what an earlier run of its workflow compiled.
 *
 * The pool's thread keeps a template evaluator (expr_serve.c) and up to
 * `size` idle evaluators forked from it.  The template is taught every
 * program a run's evaluator compiles (its text and variable names, never
 * a value: expr_pool_learn()), so the evaluators it forks start with
 * them; idle ones forked before a lesson are replaced by ones that have
 * it.  A fork costs a fraction of a spawn, so the pool refills at once.
 * A run takes an idle evaluator and owns it from then on, like one it
 * spawned itself: an evaluator is never handed to a second run (it will
 * hold the first one's secrets).  An idle evaluator has no input and has
 * been sent nothing; it never writes, so its socket turning readable
 * means it died: the thread reaps it and forks another.  The same holds
 * for the template between requests: it is replaced, having forgotten
 * its lessons.  Without a template (it cannot start, or keeps dying) the
 * pool spawns warm evaluators instead, each refill POOL_DELAY_MS after a
 * take: a new process would otherwise take the CPU from the run that just
 * took one.  Evaluators that keep dying while idle are replaced up to
 * `size` deaths until the next take, and a start that fails stops the
 * refill until then.  The template and idle evaluators end with the
 * daemon: their sockets read EOF, or expr_pool_free() kills them.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "thread.h"

#define POOL_DELAY_MS 100 /* from a take to a spawned refill */
#define LESSONS_MAX 16	  /* queued for the template */
#define TEMPLATE_WAIT_MS 5000 /* for its reply, then it is replaced */
#define TEMPLATE_RETRY_MS 1000 /* from its end to a new one, doubled */
#define TEMPLATE_RETRY_MAX_MS 60000 /* while it keeps failing, up to this */

struct lesson {
	char *req; /* a LEARN payload */
	size_t n;
};

struct expr_pool {
	pthread_mutex_t mu;
	struct expr_child idle[EXPR_POOL_MAX]; /* protected by mu */
	unsigned n;			 /* protected by mu: idle ones */
	unsigned deaths;		 /* protected by mu: since a take */
	bool stuck;			 /* protected by mu: a start failed */
	bool stopping;			 /* protected by mu */
	int64_t refill_ns;		 /* protected by mu: none before */
	struct lesson lessons[LESSONS_MAX]; /* protected by mu */
	unsigned nlessons;		 /* protected by mu */
	unsigned size;
	int wake_fd; /* eventfd: a take, a lesson, or the end */
	pthread_t thr;
	/* the thread's own */
	struct expr_child tpl; /* the template; pid -1: none */
	int64_t tpl_retry_ns;  /* no new template before then */
	int tpl_backoff_ms;    /* the next wait after a failure */
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
	left = p->tpl.pid > 0 ? 0 : p->refill_ns - now_ns();
	return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* ---- the template (the pool's thread only) ------------------------------ */

/* No new template for a while, longer each time in a row. */
static void back_off(struct expr_pool *p)
{
	p->tpl_retry_ns = now_ns() + (int64_t)p->tpl_backoff_ms * 1000000;
	p->tpl_backoff_ms = p->tpl_backoff_ms >= TEMPLATE_RETRY_MAX_MS / 2
				? TEMPLATE_RETRY_MAX_MS
				: 2 * p->tpl_backoff_ms;
}

static void end_template(struct expr_pool *p)
{
	expr_proc_end(&p->tpl);
	back_off(p);
}

/* A template runs (started now if there is none and it is time).
   Return: whether one runs. */
static bool template_ready(struct expr_pool *p)
{
	if (p->tpl.pid > 0)
		return true;
	if (now_ns() < p->tpl_retry_ns)
		return false;
	if (expr_proc_start(EXPR_SERVE_TEMPLATE, &p->tpl) < 0) {
		back_off(p);
		return false;
	}
	return true;
}

/* In how many ms a template is to be started: 0 now, -1 none is. */
static int template_due_ms(const struct expr_pool *p)
{
	int64_t left = p->tpl_retry_ns - now_ns();

	if (p->tpl.pid > 0)
		return -1;
	return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* The template's reply to the request just sent: a header, no payload,
   *@fd what came with it.  Return: 0; -errno (it is ended then). */
static int template_reply(struct expr_pool *p, struct expr_hdr *h, int *fd)
{
	struct pollfd one = {.fd = p->tpl.sock, .events = POLLIN};
	int rc, n;

	*fd = -1;
	do
		n = poll(&one, 1, TEMPLATE_WAIT_MS);
	while (n < 0 && errno == EINTR);
	rc = n > 0 ? expr_wire_recv_hdr(p->tpl.sock, h, fd) : -ETIME;
	if (!rc && h->len) {
		if (*fd >= 0)
			close(*fd);
		rc = -EPROTO;
	}
	if (rc < 0)
		end_template(p);
	else
		p->tpl_backoff_ms = TEMPLATE_RETRY_MS;
	return rc;
}

/* An evaluator forked by the template into *@ch.  Return: 0; -errno. */
static int fork_child(struct expr_pool *p, struct expr_child *ch)
{
	struct expr_hdr h = {0, EXPR_OP_FORK, 0, 0};
	int sv[2], pidfd = -1, rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	rc = expr_wire_send_fd(p->tpl.sock, &h, sv[1]);
	close(sv[1]);
	if (rc < 0)
		end_template(p);
	else
		rc = template_reply(p, &h, &pidfd);
	if (!rc && (h.rc <= 0 || pidfd < 0)) {
		rc = h.rc < 0 ? h.rc : -EPROTO;	/* fork failed there */
		if (pidfd >= 0)
			close(pidfd);
	}
	if (rc < 0) {
		close(sv[0]);
		return rc;
	}
	*ch = (struct expr_child){(pid_t)h.rc, pidfd, sv[0], h.nprog};
	return 0;
}

/* Every idle evaluator out and ended: they lack a lesson. */
static void drop_idle(struct expr_pool *p)
{
	struct expr_child old[EXPR_POOL_MAX];
	unsigned k, n;

	pthread_mutex_lock(&p->mu);
	n = p->n;
	memcpy(old, p->idle, n * sizeof(*old));
	p->n = 0;
	pthread_mutex_unlock(&p->mu);
	for (k = 0; k < n; k++)
		expr_proc_end(&old[k]);
}

/* Teach the template lesson @l; the idle evaluators are replaced when it
   kept a new program. */
static void teach(struct expr_pool *p, const struct lesson *l)
{
	struct expr_hdr h = {(uint32_t)l->n, EXPR_OP_LEARN, 0, 0};
	size_t before = p->tpl.nprog;
	int fd;

	if (!template_ready(p))
		return;
	if (expr_wire_send(p->tpl.sock, &h, l->req) < 0) {
		end_template(p);
		return;
	}
	if (template_reply(p, &h, &fd) < 0)
		return;
	if (fd >= 0)
		close(fd);
	p->tpl.nprog = h.nprog;
	if (h.nprog > before)
		drop_idle(p);
}

/* ---- idle evaluators ---------------------------------------------------- */

/* Start one idle evaluator into the pool: forked by the template, else
   spawned (not under mu: either waits for a process). */
static void refill_one(struct expr_pool *p)
{
	struct expr_child ch = EXPR_CHILD_NONE;
	int rc = template_ready(p) ? fork_child(p, &ch) : -EAGAIN;
	bool kept = false;

	if (rc < 0)
		rc = expr_proc_start(EXPR_SERVE_WARM, &ch);
	pthread_mutex_lock(&p->mu);
	if (rc < 0)
		p->stuck = true;
	else if (!p->stopping && p->n < p->size) {
		p->idle[p->n++] = ch;
		kept = true;
	}
	pthread_mutex_unlock(&p->mu);
	if (rc < 0)
		fprintf(stderr,
			"execfs: cannot start an idle expression "
			"evaluator: %s\n",
			strerror(-rc));
	else if (!kept)
		expr_proc_end(&ch);
}

/* Idle evaluator @pid died: out of the pool, reaped.  One a run took in
   the meantime is not ours any more: left alone. */
static void drop_dead(struct expr_pool *p, pid_t pid)
{
	struct expr_child gone = EXPR_CHILD_NONE;
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
	expr_proc_end(&gone);
}

/* Sleep until a take, a lesson, the end, the death of an idle evaluator
   or of the template, or @ms (-1: no time) pass. */
static void wait_event(struct expr_pool *p, int ms)
{
	struct pollfd pfd[2 + EXPR_POOL_MAX];
	pid_t pids[2 + EXPR_POOL_MAX];
	uint64_t count;
	unsigned k, n;

	pthread_mutex_lock(&p->mu);
	n = p->n;
	for (k = 0; k < n; k++) {
		pfd[2 + k] =
		    (struct pollfd){.fd = p->idle[k].sock, .events = POLLIN};
		pids[2 + k] = p->idle[k].pid;
	}
	pthread_mutex_unlock(&p->mu);
	pfd[0] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = p->tpl.sock, .events = POLLIN};
	if (poll(pfd, 2 + n, ms) <= 0)
		return;
	if (pfd[0].revents && read(p->wake_fd, &count, sizeof(count)) < 0) {
		/* nothing to read: another wake-up took it */
	}
	if (pfd[1].revents)	/* it sends nothing unasked: it died */
		end_template(p);
	for (k = 2; k < 2 + n; k++)
		if (pfd[k].revents)
			drop_dead(p, pids[k]);
}

/* The oldest lesson, out of the queue.  Return: whether there was one;
   the caller holds mu. */
static bool next_lesson(struct expr_pool *p, struct lesson *l)
{
	if (!p->nlessons)
		return false;
	*l = p->lessons[0];
	memmove(p->lessons, p->lessons + 1,
		--p->nlessons * sizeof(*p->lessons));
	return true;
}

static void *keep(void *arg)
{
	struct expr_pool *p = arg;
	bool stop;
	int ms;

	struct lesson l;
	bool lesson;
	int tms;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		stop = p->stopping;
		ms = refill_in_ms(p);
		lesson = !stop && next_lesson(p, &l);
		pthread_mutex_unlock(&p->mu);
		tms = template_due_ms(p);
		if (stop)
			break;
		if (lesson) {
			teach(p, &l);
			explicit_bzero(l.req, l.n);
			free(l.req);
		} else if (tms == 0) {
			template_ready(p);
		} else if (ms == 0) {
			refill_one(p);
		} else {
			wait_event(p, ms < 0 || (tms >= 0 && tms < ms) ? tms
								   : ms);
		}
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
	p->tpl = EXPR_CHILD_NONE;
	p->tpl_backoff_ms = TEMPLATE_RETRY_MS;
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
		expr_proc_end(&p->idle[k]);
	for (k = 0; k < p->nlessons; k++)
		free(p->lessons[k].req);
	expr_proc_end(&p->tpl);
	close(p->wake_fd);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* The newest idle evaluator out of the pool, its refill asked for.
   Return: whether there was one. */
static bool pop(struct expr_pool *p, struct expr_child *one)
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

bool expr_pool_pop(struct expr_pool *p, struct expr_child *out)
{
	return p && pop(p, out);
}

/* Whether @p's queue holds lesson @req already; the caller holds mu. */
static bool queued(const struct expr_pool *p, const void *req, size_t n)
{
	unsigned k;

	for (k = 0; k < p->nlessons; k++)
		if (p->lessons[k].n == n && !memcmp(p->lessons[k].req, req, n))
			return true;
	return false;
}

void expr_pool_learn(struct expr_pool *p, const void *req, size_t n)
{
	char *copy;
	bool kept = false;

	if (!p || n > EXPR_LEARN_REQ_MAX || !(copy = malloc(n ? n : 1)))
		return;
	memcpy(copy, req, n);
	pthread_mutex_lock(&p->mu);
	if (!p->stopping && p->nlessons < LESSONS_MAX && !queued(p, req, n)) {
		p->lessons[p->nlessons++] = (struct lesson){copy, n};
		kept = true;
	}
	pthread_mutex_unlock(&p->mu);
	if (kept)
		wake(p);
	else
		free(copy);
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
