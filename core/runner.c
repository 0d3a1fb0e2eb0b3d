/*
 * runner.c - the registry of runs going on: one thread per run (run.c),
 * found by execution serial for cancel and delete; recovery of what a
 * stopped daemon left in the store; the pool of expression evaluators
 * that runs take from; and the sweeper thread that deletes expired
 * ExecutionContexts.
 */
#include "run_i.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int runner_new(struct runner **out, struct plane *p)
{
	struct runner *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->p = p;
	pthread_mutex_init(&r->mu, NULL);
	thread_cond_init_mono(&r->ended);
	thread_cond_init_mono(&r->wake);
	*out = r;
	return 0;
}

enum run_stop run_stopping(struct run *r)
{
	return (enum run_stop)atomic_load(&r->stop);
}

/* The run of @serial; the caller holds rr->mu. */
static struct run *find(struct runner *rr, uint64_t serial)
{
	struct run *r;

	for (r = rr->runs; r; r = r->next)
		if (r->serial == serial)
			return r;
	return NULL;
}

static void unlink_run(struct runner *rr, struct run *gone)
{
	struct run **pp;

	for (pp = &rr->runs; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			return;
		}
}

static void run_free(struct run *r)
{
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->ex_mu);
	pthread_cond_destroy(&r->slot_cv);
	free(r);
}

/* The body of a run's thread: the run, then leave the registry. */
static void *run_thread(void *arg)
{
	struct run *r = arg;
	struct runner *rr = r->rr;

	uint64_t one = 1;

	run_main(r);
	pthread_mutex_lock(&rr->mu);
	unlink_run(rr, r);
	pthread_cond_broadcast(&rr->ended);
	pthread_mutex_unlock(&rr->mu);
	/* A parent waiting for this child run: it has ended. */
	if (r->link.done_fd >= 0 &&
	    write(r->link.done_fd, &one, sizeof(one)) < 0)
		fprintf(stderr, "execfs: %s: cannot tell its parent it ended\n",
			r->id);
	/* what a burst of runs took goes back to the system once the
	 * store's writer is idle (store_writer.c) */
	run_free(r);
	return NULL;
}

static struct run *run_alloc(struct runner *rr, const char *id,
			     uint64_t serial, uid_t uid)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->rr = rr;
	r->p = rr->p;
	r->serial = serial;
	r->who.uid = uid;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->link.done_fd = -1;
	r->jfd = -1;
	r->rec = (struct run_rec)RUN_REC_INIT;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->ex_mu, NULL);
	pthread_cond_init(&r->slot_cv, NULL);
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake_fd < 0) {
		run_free(r);
		return NULL;
	}
	return r;
}


/* Start @r's thread detached; the caller holds rr->mu. */
static int spawn(struct runner *rr, struct run *r)
{
	pthread_attr_t a;
	int rc;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	rc = thread_start(&r->thr, &a, run_thread, r);
	pthread_attr_destroy(&a);
	if (rc)
		return -rc;
	r->next = rr->runs;
	rr->runs = r;
	return 0;
}

static int launch(struct runner *rr, const char *id, uint64_t serial,
		  uid_t uid, const struct run_link *link)
{
	struct run *r;
	int rc = 0;

	pthread_mutex_lock(&rr->mu);
	if (rr->stopping)
		rc = -ESHUTDOWN;
	else if (find(rr, serial))
		rc = link ? -EALREADY : 0;
	else {
		r = run_alloc(rr, id, serial, uid);
		if (r && link)
			r->link = *link;
		rc = r ? spawn(rr, r) : -ENOMEM;
		if (rc < 0 && r) {
			r->link.done_fd = -1;
			run_free(r);
		}
	}
	pthread_mutex_unlock(&rr->mu);
	return rc;
}

int runner_launch(struct runner *rr, const char *id, uint64_t serial,
		  uid_t uid)
{
	return launch(rr, id, serial, uid, NULL);
}

int runner_launch_child(struct runner *rr, const char *id, uint64_t serial,
			uid_t uid, const struct run_link *link)
{
	return launch(rr, id, serial, uid, link);
}

/* Ask @r to stop for @why and wake it; the caller holds rr->mu. */
static void stop_one(struct run *r, enum run_stop why)
{
	uint64_t one = 1;
	int expect = RUN_GO;

	if (!atomic_compare_exchange_strong(&r->stop, &expect, (int)why) &&
	    why == RUN_SHUTDOWN)
		atomic_store(&r->stop, (int)why);
	if (write(r->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the run is awake */
	}
}

int runner_cancel(struct runner *rr, uint64_t serial)
{
	struct run *r;

	pthread_mutex_lock(&rr->mu);
	r = find(rr, serial);
	if (r)
		stop_one(r, RUN_CANCEL);
	pthread_mutex_unlock(&rr->mu);
	return r ? 0 : -ESRCH;
}

bool runner_running(struct runner *rr, uint64_t serial)
{
	bool on;

	pthread_mutex_lock(&rr->mu);
	on = find(rr, serial) != NULL;
	pthread_mutex_unlock(&rr->mu);
	return on;
}

int runner_cancel_wait(struct runner *rr, uint64_t serial, unsigned timeout_s)
{
	struct timespec until;
	struct run *r;
	int rc = 0;

	thread_deadline_ms(&until, timeout_s * 1000L);
	pthread_mutex_lock(&rr->mu);
	r = find(rr, serial);
	if (r)
		stop_one(r, RUN_CANCEL);
	while (rc == 0 && find(rr, serial))
		rc = pthread_cond_timedwait(&rr->ended, &rr->mu, &until);
	pthread_mutex_unlock(&rr->mu);
	return rc ? -ETIMEDOUT : 0;
}

/* ---- recovery -------------------------------------------------------- */

/* Start or end one stored execution according to its phase. */
static int recover_one(void *ctx, const struct store_rec *h,
		       const struct doc *res)
{
	struct runner *rr = ctx;
	const char *phase = doc_get_str(res, "status.phase");
	struct err e = { 0 };
	struct plane_res owner;

	/* Its owner created it (the run reads its group when it loads it). */
	plane_res_from_hdr(&owner, h);
	if (phase && !strcmp(phase, "PENDING"))
		runner_launch(rr, h->id, h->serial, owner.uid);
	else if (phase && !strcmp(phase, "IN_PROGRESS") &&
		 run_interrupt_stored(rr->p, h->id, &e) < 0)
		fprintf(stderr, "execfs: recovering %s: %s\n", h->slug, e.msg);
	return 0;
}

/* A journal of task starts is read only for an IN_PROGRESS execution. */
static bool journal_keep(struct plane *p, const char *id)
{
	struct store_rec h;
	struct doc *res = NULL;
	const char *phase;
	bool keep = false;

	if (record_load(p, id, &h, &res) == 0) {
		phase = doc_get_str(res, "status.phase");
		keep = phase && !strcmp(phase, "IN_PROGRESS");
	}
	doc_free(res);
	return keep;
}

static int recover(struct runner *rr)
{
	/* before any run starts, so no journal of a new run goes */
	if (run_journal_sweep(rr->p, journal_keep) < 0)
		fprintf(stderr, "execfs: cannot sweep the journals of task "
			"starts in %s/starts\n", rr->p->state_dir);
	return record_each(rr->p, KIND_WORKFLOW_EXECUTION, recover_one, rr);
}

/* ---- the sweeper ----------------------------------------------------- */

static void *sweeper(void *arg)
{
	struct runner *rr = arg;
	struct timespec until;
	struct err e;

	pthread_mutex_lock(&rr->mu);
	while (!rr->stopping) {
		pthread_mutex_unlock(&rr->mu);
		err_clear(&e);
		if (ctx_sweep(rr->p, run_now(), rr->p->limits.context_ttl,
			      &e) < 0)
			fprintf(stderr, "execfs: context sweeper: %s\n", e.msg);
		pthread_mutex_lock(&rr->mu);
		thread_deadline_ms(&until, RUN_SWEEP_S * 1000L);
		while (!rr->stopping &&
		       pthread_cond_timedwait(&rr->wake, &rr->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&rr->mu);
	return NULL;
}

int runner_start(struct runner *rr, struct err *e)
{
	struct err de = { 0 };
	int rc;

	/* Not fatal: each run says so again when it cannot make its work
	 * directory. */
	if (run_dir_prepare(rr->p, &de) < 0)
		fprintf(stderr, "execfs: %s\n", de.msg);
	/* Not fatal either: without a pool each run spawns its evaluator. */
	rc = expr_pool_new(RUN_EVAL_POOL, &rr->pool);
	if (rc < 0)
		fprintf(stderr, "execfs: no pool of expression evaluators: "
			"%s\n", strerror(-rc));
	rc = recover(rr);
	if (rc < 0)
		return err_set(e, rc, "cannot recover the executions in the "
			       "store");
	rc = thread_start(&rr->sweeper, NULL, sweeper, rr);
	if (rc)
		return err_set(e, -rc, "cannot start the context sweeper");
	rr->started = true;
	return 0;
}

void runner_stop(struct runner *rr)
{
	struct run *r;

	pthread_mutex_lock(&rr->mu);
	rr->stopping = true;
	for (r = rr->runs; r; r = r->next)
		stop_one(r, RUN_SHUTDOWN);
	pthread_cond_broadcast(&rr->wake);
	while (rr->runs)
		pthread_cond_wait(&rr->ended, &rr->mu);
	pthread_mutex_unlock(&rr->mu);
	if (rr->started)
		pthread_join(rr->sweeper, NULL);
	rr->started = false;
	/* No run is left to take from it. */
	expr_pool_free(rr->pool);
	rr->pool = NULL;
}

void runner_free(struct runner *rr)
{
	if (!rr)
		return;
	runner_stop(rr);
	pthread_mutex_destroy(&rr->mu);
	pthread_cond_destroy(&rr->ended);
	pthread_cond_destroy(&rr->wake);
	free(rr);
}
