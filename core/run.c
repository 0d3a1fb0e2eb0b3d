/*
 * run.c - one run of a WorkflowExecution, on its own thread: load the
 * execution and its workflow, open the streams, move to IN_PROGRESS, build
 * the environment and the redactor, run the tasks in order (flow.then may
 * jump), then end: contexts deleted, the complete event, the final status,
 * the streams closed, the work directory removed.
 *
 * The order at the end is what a script can rely on: once status.yaml
 * shows an ended phase, the execution's contexts are gone and the events
 * hold the complete event; follow readers get their EOF after that.
 */
#include "run_i.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t run_now(void)
{
	int64_t ns;

	plane_now(&ns, NULL, 0);
	return ns;
}

static const char interrupted[] = "interrupted: daemon stopped during the run";

/* ---- preparing ------------------------------------------------------- */

static int load(struct run *r, struct err *e)
{
	const struct doc *dry;
	struct store_rec h;
	const char *phase, *wid;
	int rc;

	rc = record_load(r->p, r->id, &h, &r->exec);
	if (rc < 0)
		return err_set(e, rc, "execution %s: cannot load it", r->id);
	memcpy(r->slug, h.slug, sizeof(r->slug));
	phase = doc_get_str(r->exec, "status.phase");
	if (!phase || strcmp(phase, "PENDING"))
		return -EALREADY;
	wid = doc_get_str(r->exec, "spec.workflowId");
	rc = wid ? record_load(r->p, wid, &h, &r->wf) : -ENOENT;
	if (rc < 0)
		return err_set(e, rc, "Workflow %s: not found", wid ? wid : "");
	r->tasks = doc_get(r->wf, "spec.tasks");
	if (!r->tasks || r->tasks->type != DOC_LIST)
		return err_set(e, -EBADMSG, "Workflow %s has no tasks", h.slug);
	dry = doc_get(r->exec, "spec.dryRun");
	r->dry = dry && dry->type == DOC_BOOL && dry->i;
	return 0;
}

static int open_sinks(struct run *r)
{
	uint64_t lim = r->p->limits.log_limit;
	int rc;

	rc = streams_open(r->p->streams, r->serial, PLANE_LOG, lim, &r->log);
	if (rc == 0)
		rc = streams_open(r->p->streams, r->serial, PLANE_EVENTS,
				  2 * lim + RUN_EVENTS_EXTRA, &r->events);
	return rc;
}

/* Register every secret of the run's scope with the redactor. */
static int arm_redactor(struct run *r, struct err *e)
{
	const struct run_var *v;
	size_t i;
	int rc;

	rc = redactor_new(&r->red, NULL);
	for (i = 0; rc == 0 && i < r->env.n; i++) {
		v = &r->env.v[i];
		if (!v->secret || v->len == 0)
			continue;
		rc = redactor_add_secret(r->red, v->value, v->len);
		if (rc == -ERANGE) {
			run_warn(r, "secret %s from %s is shorter than %d bytes: "
				 "it is not redacted reliably", v->name, v->from,
				 REDACT_MIN_LEN);
			rc = 0;
		}
	}
	if (rc < 0)
		return err_set(e, rc, "cannot prepare the redaction of "
			       "secrets");
	return 0;
}

/* STATE/runs/<execution id>/, shared by the run's tasks. */
static int make_workdir(struct run *r, struct err *e)
{
	char runs[PATH_MAX];
	int n;

	n = snprintf(runs, sizeof(runs), "%s/runs", r->p->state_dir);
	if (n < 0 || (size_t)n >= sizeof(runs))
		return err_set(e, -ENAMETOOLONG, "state directory path too "
			       "long");
	if (mkdir(runs, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "cannot create %s", runs);
	n = snprintf(r->workdir, sizeof(r->workdir), "%s/%s", runs, r->id);
	if (n < 0 || (size_t)n >= sizeof(r->workdir))
		return err_set(e, -ENAMETOOLONG, "work directory path too long");
	if (mkdir(r->workdir, 0700) < 0 && errno != EEXIST)
		return err_set(e, -errno, "cannot create the work directory");
	return 0;
}

static int prepare(struct run *r, struct err *e)
{
	int rc;

	run_env_init(&r->env);
	r->exported = doc_new(DOC_MAP);
	if (!r->exported)
		return err_set(e, -ENOMEM, "out of memory");
	rc = load(r, e);
	if (rc == 0)
		rc = open_sinks(r);
	if (rc == 0)
		rc = run_status_init(r);
	if (rc == 0)
		rc = run_commit(r, e);
	if (rc < 0)
		return rc;
	run_event_state(r, "IN_PROGRESS");
	r->start_ns = run_now();
	r->deadline_ns = r->start_ns +
			 (int64_t)r->p->limits.workflow_timeout * 1000000000;
	rc = run_env_build(r->p, r->exec, r->id, r->slug, r->wf, &r->env, e);
	if (rc == 0)
		rc = arm_redactor(r, e);
	if (rc == 0 && !r->dry)
		rc = make_workdir(r, e);
	return rc == 0 ? 0 : 1;
}

/* ---- the task loop ------------------------------------------------- */

/* The index of the task named @name, or -1. */
static long task_index(const struct doc *tasks, const char *name)
{
	size_t i;

	for (i = 0; i < tasks->n; i++)
		if (!strcmp(doc_get_str(tasks->u.items[i], "name"), name))
			return (long)i;
	return -1;
}

/* Where to go after task @i: its flow.then, else the next one. */
static size_t next_task(const struct run *r, size_t i)
{
	const char *then = doc_get_str(r->tasks->u.items[i], "flow.then");
	long j;

	if (!then || !*then || !strcmp(then, "continue"))
		return i + 1;
	if (!strcmp(then, "end"))
		return r->tasks->n;
	j = task_index(r->tasks, then);
	return j < 0 ? r->tasks->n : (size_t)j;
}

/* The run's error, "task <name> failed: <why>" or a bare @why; the
 * first one set stays. */
static void fail_run(struct run *r, const char *task, const char *why)
{
	if (r->error[0])
		return;
	if (task)
		snprintf(r->error, sizeof(r->error), "task %s failed: %s",
			 task, why);
	else
		snprintf(r->error, sizeof(r->error), "%s", why);
}

/* A limit that stops the run before task @t starts, or NULL. */
static const char *limit_hit(struct run *r, char *msg, size_t cap)
{
	const struct plane_limits *l = &r->p->limits;

	if (r->ops >= l->max_total_operations) {
		snprintf(msg, cap, "limit max_total_operations (%u) exceeded",
			 l->max_total_operations);
		return msg;
	}
	if (run_now() >= r->deadline_ns) {
		snprintf(msg, cap, "limit workflow_timeout (%u s) exceeded",
			 l->workflow_timeout);
		return msg;
	}
	return NULL;
}

static void task_init(struct run *r, struct run_task *t, size_t i)
{
	memset(t, 0, sizeof(*t));
	t->def = r->tasks->u.items[i];
	t->name = doc_get_str(t->def, "name");
	t->kind = doc_get_str(t->def, "kind");
	t->st = run_task_entry(r, i);
}

/* Store a completed task's output under export.as. */
static int export(struct run *r, struct run_task *t)
{
	const char *as = doc_get_str(t->def, "export.as");
	struct doc *v;

	if (!as || !*as || !t->output)
		return 0;
	v = doc_clone(t->output);
	return v ? doc_map_set(r->exported, as, v) : -ENOMEM;
}

/* Record how task @t ended; return whether the run goes on. */
static bool task_ended(struct run *r, struct run_task *t, int rc)
{
	const char *st = rc == 0 ? "COMPLETED" :
			 rc == -ECANCELED ? "CANCELLED" : "FAILED";
	struct err e = { 0 };

	if (rc == 0 && export(r, t) < 0) {
		rc = -ENOMEM;
		st = "FAILED";
		snprintf(t->error, sizeof(t->error), "out of memory");
	}
	if (rc == -ECANCELED)
		r->cut = true;
	if (rc == -ECANCELED && run_stopping(r) == RUN_SHUTDOWN) {
		st = "FAILED";
		snprintf(t->error, sizeof(t->error), "%s", interrupted);
	}
	run_task_set(r, t, st);
	run_event_task(r, t, st);
	if (run_commit(r, &e) < 0)
		fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
	if (rc != 0 && rc != -ECANCELED)
		fail_run(r, t->name, t->error);
	doc_free(t->output);
	t->output = NULL;
	return rc == 0;
}

static bool run_one(struct run *r, size_t i)
{
	struct run_task t;
	struct err e = { 0 };
	int rc;

	task_init(r, &t, i);
	r->ops++;
	t.start_ns = run_now();
	run_task_set(r, &t, "IN_PROGRESS");
	run_event_task(r, &t, "IN_PROGRESS");
	if (run_commit(r, &e) < 0)
		fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
	rc = run_task_exec(r, &t);
	if (rc == -ETIME) {
		fail_run(r, NULL, t.error);
		rc = -1;
	}
	return task_ended(r, &t, rc);
}

static void run_tasks(struct run *r)
{
	char msg[128];
	const char *lim;
	size_t i = 0;

	while (i < r->tasks->n) {
		if (run_stopping(r) != RUN_GO) {
			r->cut = true;
			return;
		}
		lim = limit_hit(r, msg, sizeof(msg));
		if (lim) {
			fail_run(r, NULL, lim);
			return;
		}
		if (!run_one(r, i))
			return;
		i = next_task(r, i);
	}
}

/* ---- the end -------------------------------------------------------- */

/* A stop counts only if it cut the run short: one that came after the
 * last task ended changes nothing. */
static const char *final_phase(struct run *r)
{
	if (!r->cut)
		return r->error[0] ? "FAILED" : "COMPLETED";
	switch (run_stopping(r)) {
	case RUN_SHUTDOWN:
		snprintf(r->error, sizeof(r->error), "%s", interrupted);
		return "FAILED";
	case RUN_CANCEL:
		if (!r->error[0]) {
			snprintf(r->error, sizeof(r->error), "cancelled");
			return "CANCELLED";
		}
		return "FAILED";
	default:
		return r->error[0] ? "FAILED" : "COMPLETED";
	}
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void remove_workdir(struct run *r)
{
	if (r->workdir[0])
		nftw(r->workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void finish(struct run *r)
{
	struct err e = { 0 };

	if (ctx_delete_for(r->p, r->id, r->slug, &e) < 0)
		fprintf(stderr, "execfs: %s: deleting its contexts: %s\n",
			r->slug, e.msg);
	r->phase = final_phase(r);
	run_set_phase(r, r->phase);
	run_summary(r, run_now());
	run_event_complete(r);
	/* The streams are on disk before the ended phase is. */
	if ((r->log && sink_flush(r->log, &e) < 0) ||
	    (r->events && sink_flush(r->events, &e) < 0))
		fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
	/* From here the phase decides whether the streams are done, so no
	 * reader sees them done before the ended phase is stored. */
	if (r->log)
		sink_end(r->log);
	if (r->events)
		sink_end(r->events);
	err_clear(&e);
	if (run_commit(r, &e) == 0)
		return;
	fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
	/* Whatever made the status unstorable, the run must not stay
	 * IN_PROGRESS: store the phase and the error alone. */
	err_clear(&e);
	if (run_fail_stored(r->p, r->id, r->phase, r->error, &e) < 0)
		fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
}

struct ending {
	const char *phase;
	const char *error;
};

static int set_ending(void *ctx, struct doc *res)
{
	const struct ending *x = ctx;
	struct doc *st = doc_map_child(res, "status");
	char now[40];
	int64_t ns;
	int rc;

	plane_now(&ns, now, sizeof(now));
	rc = st ? doc_map_setstr(st, "phase", x->phase) : -ENOMEM;
	if (rc == 0 && x->error && *x->error)
		rc = doc_map_setstr(st, "error", x->error);
	if (rc == 0)
		rc = doc_map_setstr(st, "completedAt", now);
	return rc;
}

int run_fail_stored(struct plane *p, const char *id, const char *phase,
		    const char *error, struct err *e)
{
	struct ending x = { phase, error };

	return run_commit_with(p, id, set_ending, &x, e);
}

static void cleanup(struct run *r)
{
	sink_close(r->log);
	sink_close(r->events);
	remove_workdir(r);
	redactor_free(r->red);
	run_env_release(&r->env);
	doc_free(r->exec);
	doc_free(r->wf);
	doc_free(r->status);
	doc_free(r->exported);
}

void *run_main(void *arg)
{
	struct run *r = arg;
	struct err e = { 0 };
	int rc = prepare(r, &e);

	if (rc < 0 && rc != -EALREADY && r->exec) {
		/* It could not start: it must not stay PENDING. */
		struct err e2 = { 0 };

		fprintf(stderr, "execfs: cannot start %s: %s\n", r->id, e.msg);
		if (run_fail_stored(r->p, r->id, "FAILED", e.msg[0] ? e.msg :
				    "cannot start the run", &e2) < 0)
			fprintf(stderr, "execfs: %s: %s\n", r->id, e2.msg);
	} else if (rc == 0 || rc > 0) {
		if (rc > 0)
			fail_run(r, NULL, e.msg);
		else
			run_tasks(r);
		finish(r);
	}
	cleanup(r);
	return NULL;
}

/* ---- recovery -------------------------------------------------------- */

/* An execution left IN_PROGRESS by a daemon that stopped: end it FAILED
 * as interrupted, with the same final steps as a run. */
int run_interrupt_stored(struct plane *p, const char *id, struct err *e)
{
	struct run r;
	struct store_rec h;
	int rc;

	memset(&r, 0, sizeof(r));
	r.p = p;
	r.wake_fd = -1;
	snprintf(r.id, sizeof(r.id), "%s", id);
	atomic_store(&r.stop, RUN_SHUTDOWN);
	r.cut = true;
	rc = record_load(p, id, &h, &r.exec);
	if (rc == 0) {
		r.serial = h.serial;
		memcpy(r.slug, h.slug, sizeof(r.slug));
		r.status = doc_clone(doc_map_get(r.exec, "status"));
		if (snprintf(r.workdir, sizeof(r.workdir), "%s/runs/%s",
			     p->state_dir, id) >= (int)sizeof(r.workdir))
			r.workdir[0] = '\0';
		rc = r.status ? open_sinks(&r) : -ENOMEM;
	}
	if (rc == 0) {
		run_status_interrupt(&r, interrupted);
		finish(&r);
	}
	cleanup(&r);
	return rc < 0 ? err_set(e, rc, "cannot end execution %s", id) : 0;
}
