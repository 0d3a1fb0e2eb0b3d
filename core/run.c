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
#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	run_who_from(r, &h);
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

/* Register every secret of the run's scope with the redactors: the one
 * for what the run shows (key patterns too), and one of the values alone
 * (to tell whether a text holds one). */
static int arm_redactor(struct run *r, struct err *e)
{
	static const struct redact_opts lit = { .no_keys = true };
	const struct run_var *v;
	size_t i;
	int rc;

	rc = redactor_new(&r->red, NULL);
	if (rc == 0)
		rc = redactor_new(&r->red_lit, &lit);
	for (i = 0; rc == 0 && i < r->env.n; i++) {
		v = &r->env.v[i];
		if (!v->secret || v->len == 0)
			continue;
		rc = redactor_add_secret(r->red_lit, v->value, v->len);
		if (rc == 0)
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

/* The resources whose secret values the run now holds, in the audit log
 * (names and ids only).  The run's creator is the user; no process asked. */
static void audit_secrets(struct run *r)
{
	struct audit_src src[RUN_SRC_MAX];
	const struct plane_caller *c = &r->who;

	if (!r->env.nsrc)
		return;
	for (size_t i = 0; i < r->env.nsrc; i++) {
		src[i].kind = r->env.src[i].kind;
		src[i].id = r->env.src[i].id;
		src[i].name = r->env.src[i].slug;
	}
	plane_audit_event(r->p, c, "use-secrets", KIND_WORKFLOW_EXECUTION,
			  r->slug, r->id, 0, NULL, src, r->env.nsrc);
}

/* The creator's groups, for its tasks and its sub-workflows' checks. */
static int creator_groups(struct run *r, struct err *e)
{
	int rc = run_who_groups(r, e);

	if (rc == 0 && r->ngroups_all > PLANE_GROUPS_MAX)
		run_warn(r, "uid %u, who created the execution, is in %d "
			 "groups: its tasks get the first %d",
			 (unsigned)r->who.uid, r->ngroups_all, PLANE_GROUPS_MAX);
	return rc;
}

static int prepare(struct run *r, struct err *e)
{
	int rc;

	run_env_init(&r->env);
	rc = load(r, e);
	if (rc == 0)
		rc = open_sinks(r);
	if (rc == 0)
		rc = run_status_init(r);
	if (rc < 0)
		return rc;
	/* IN_PROGRESS is stored with the first task's start (a process's
	 * while the keeper forks it, any other's by run_touch(), which
	 * commits the first change at once), or at the end: one commit
	 * less before the first task.  A daemon killed before it finds the
	 * run PENDING, with no task started, and runs it again. */
	r->dirty = true;
	run_event_state(r, "IN_PROGRESS");
	r->start_ns = run_now();
	r->tree = r->link.tree ? r->link.tree : &r->own_tree;
	if (!r->link.tree)
		r->own_tree.deadline_ns = r->start_ns +
			(int64_t)r->p->limits.workflow_timeout * 1000000000;
	r->deadline_ns = r->tree->deadline_ns;
	/* the groups first: binding Environments checks x with them */
	rc = creator_groups(r, e);
	if (rc == 0)
		rc = run_env_build(r->p, &r->who, r->exec, r->id, r->slug,
				   r->wf, &r->env, e);
	if (rc == 0)
		audit_secrets(r);
	if (rc == 0)
		rc = arm_redactor(r, e);
	if (rc == 0)
		rc = run_expr_init(r, e);
	if (rc == 0 && !r->dry)
		rc = run_dir_make(r, e);
	return rc == 0 ? 0 : 1;
}

/* ---- the task loop ------------------------------------------------- */

void run_fmt(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

void run_fail(struct run *r, const char *task, const char *why)
{
	if (r->error[0])
		return;
	if (task)
		run_fmt(r->error, sizeof(r->error), "task %s failed: %s",
			task, why);
	else
		snprintf(r->error, sizeof(r->error), "%s", why);
}

/* A limit fails the whole tree: the first message is kept for the other
 * runs of the tree (a parent waiting for its child), and this run's
 * threads wake to see it (run_scope_stopped()). */
static void tree_limit(struct run *r, const char *msg)
{
	uint64_t one = 1;
	bool no = false;

	if (atomic_compare_exchange_strong(&r->tree->claimed, &no, true)) {
		snprintf(r->tree->limit, sizeof(r->tree->limit), "%s", msg);
		atomic_store(&r->tree->limited, true);
	}
	if (write(r->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: the run is awake */
	}
	pthread_cond_broadcast(&r->slot_cv);
}

int run_limit(struct run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	run_fail(r, NULL, msg);
	tree_limit(r, msg);
	return -ETIME;
}

void run_unlock(struct run *r)
{
	run_flush(r);
	pthread_mutex_unlock(&r->mu);
}

void run_lock(struct run *r)
{
	pthread_mutex_lock(&r->mu);
}

void run_scope_init(struct run_scope *sc, struct run_scope *up,
		    const char *path, const char *ref,
		    const struct doc *input)
{
	memset(sc, 0, sizeof(*sc));
	sc->r = up->r;
	sc->up = up;
	sc->vars = up->vars;
	sc->depth = up->depth;
	sc->iteration = up->iteration;
	sc->cut_fd = -1;
	sc->attempt = up->attempt;
	sc->input = input;
	run_fmt(sc->path, sizeof(sc->path), "%s%s/", up->path, path);
	run_fmt(sc->ref, sizeof(sc->ref), "%s", ref);
}

void run_scope_release(struct run_scope *sc)
{
	doc_free(sc->last);
	sc->last = NULL;
}

bool run_scope_stopped(const struct run_scope *sc)
{
	if (run_stopping(sc->r) != RUN_GO ||
	    atomic_load(&sc->r->tree->limited))
		return true;
	for (; sc; sc = sc->up)
		if (atomic_load(&sc->cut))
			return true;
	return false;
}

int run_scope_fds(const struct run_scope *sc, struct pollfd *pf, int max)
{
	int n = 0;

	if (max > 0)
		pf[n++] = (struct pollfd){ .fd = sc->r->wake_fd,
					   .events = POLLIN };
	for (; sc && n < max; sc = sc->up)
		if (sc->cut_fd >= 0)
			pf[n++] = (struct pollfd){ .fd = sc->cut_fd,
						   .events = POLLIN };
	return n;
}

/* The index of the task named @name in @list, or -1. */
static long task_index(const struct doc *list, const char *name)
{
	const char *n;
	size_t i;

	for (i = 0; i < list->n; i++) {
		n = doc_get_str(list->u.items[i], "name");
		if (n && !strcmp(n, name))
			return (long)i;
	}
	return -1;
}

void run_scope_cut(struct run_scope *sc)
{
	uint64_t one = 1;

	pthread_cond_broadcast(&sc->r->slot_cv);
	if (atomic_exchange(&sc->cut, true))
		return;
	if (write(sc->cut_fd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: it is awake */
	}
}

/* `then: end` in @sc: no list starts another task, the FORK branches
 * running beside @sc are cut, and the workflow's output is @sc's last. */
static void run_end(struct run_scope *sc)
{
	struct run *r = sc->r;
	const struct run_scope *up;
	struct run_scope *b;

	atomic_store(&r->ended, true);
	doc_free(r->output);
	r->output = sc->last ? doc_clone(sc->last) : NULL;
	for (b = r->branches; b; b = b->bnext) {
		for (up = sc; up && up != b; up = up->up)
			;
		if (!up)	/* not one @sc is in */
			run_scope_cut(b);
	}
}

/* Where to go after task @i: a SWITCH's choice, its flow.then, else the
 * next one.  `exit` leaves the list, `end` the whole workflow. */
static size_t next_task(struct run_scope *sc, const struct doc *list,
			size_t i, const char *jump)
{
	const char *then = jump && *jump ? jump :
			   doc_get_str(list->u.items[i], "flow.then");
	long j;

	if (!then || !*then || !strcmp(then, "continue"))
		return i + 1;
	if (!strcmp(then, "end"))
		run_end(sc);
	if (!strcmp(then, "exit") || !strcmp(then, "end"))
		return list->n;
	j = task_index(list, then);
	return j < 0 ? list->n : (size_t)j;
}

/* A limit that stops the run before a task starts: -ETIME, else 0.
 * @reserve: count the task (the operation is taken only if within the
 * limit, so tasks that waited for a slot cannot overshoot it). */
static int limit_hit(struct run *r, bool reserve)
{
	const struct plane_limits *l = &r->p->limits;
	unsigned ops = reserve ? atomic_fetch_add(&r->tree->ops, 1) :
			         atomic_load(&r->tree->ops);

	if (ops >= l->max_total_operations)
		return run_limit(r, "limit max_total_operations (%u) exceeded",
				 l->max_total_operations);
	if (run_now() >= r->tree->deadline_ns)
		return run_limit(r, "limit workflow_timeout (%u s) exceeded",
				 l->workflow_timeout);
	return 0;
}

void run_ref_add(char *ref, size_t cap, size_t i, const char *name)
{
	size_t at = strlen(ref);

	at += (size_t)snprintf(ref + at, at < cap ? cap - at : 0, "/%zu/", i);
	for (; name && *name && at + 3 < cap; name++) {
		if (*name == '~' || *name == '/') {
			ref[at++] = '~';
			ref[at++] = *name == '~' ? '0' : '1';
		} else {
			ref[at++] = *name;
		}
	}
	if (at < cap)
		ref[at] = '\0';
}

static void task_init(struct run_scope *sc, struct run_task *t,
		      const struct doc *def, size_t i)
{
	memset(t, 0, sizeof(*t));
	t->sc = sc;
	t->def = def;
	t->name = doc_get_str(def, "name");
	t->kind = doc_get_str(def, "kind");
	t->plan = run_task_plan(sc->r, def);
	t->st = t->plan ? t->plan->entry : NULL;
	t->input = sc->last ? sc->last : sc->input;
	t->attempt = sc->attempt;
	run_fmt(t->path, sizeof(t->path), "%s%s", sc->path,
		t->name ? t->name : "?");
	run_fmt(t->ref, sizeof(t->ref), "%s", sc->ref);
	run_ref_add(t->ref, sizeof(t->ref), i, t->name);
}

static void count_task(struct run *r, const char *st)
{
	static const char *const names[] = { "COMPLETED", "FAILED",
					     "SKIPPED", "CANCELLED" };
	size_t k;

	for (k = 0; k < 4; k++)
		if (!strcmp(st, names[k]))
			r->counts[k]++;
}

/* The fault a failed task leaves for a TRY around it: the DSL's error
 * object (a failure no kind typed is a runtime error). */
static void fault_of(const struct run_task *t, struct run_fault *f)
{
	bool typed = t->err_type[0] != '\0';

	snprintf(f->path, sizeof(f->path), "%s",
		 t->err_path[0] ? t->err_path : t->path);
	snprintf(f->instance, sizeof(f->instance), "%s",
		 t->err_instance[0] ? t->err_instance : t->ref);
	snprintf(f->type, sizeof(f->type), "%s%s", typed ? "" : RUN_ERR_BASE,
		 typed ? t->err_type : "runtime");
	snprintf(f->title, sizeof(f->title), "%s",
		 typed ? t->err_title : "Task failed");
	f->status = typed ? t->err_status : 500;
	snprintf(f->detail, sizeof(f->detail), "%s", t->error);
}

/* Record how task @t ended: its status, event, export, the scope's last
 * output.  Return @rc, or -1 when the export failed. */
static int task_ended(struct run *r, struct run_task *t, int rc)
{
	const char *st;

	if (rc == 0 && !t->output)
		t->output = doc_new(DOC_NULL);
	if (rc == 0 && !t->output) {
		rc = -1;
		snprintf(t->error, sizeof(t->error), "out of memory");
	}
	if (rc == 0 && doc_get(t->def, "export.as"))
		rc = run_export(r, t);
	if (rc == -ECANCELED && run_stopping(r) != RUN_GO)
		r->cut = true;
	if (rc == -ETIME && !t->error[0])	/* a limit the kind hit */
		run_fmt(t->error, sizeof(t->error), "%s", r->error);
	st = rc == 0 ? "COMPLETED" : rc == -ECANCELED ? "CANCELLED" : "FAILED";
	if (rc == -ECANCELED && run_stopping(r) == RUN_SHUTDOWN) {
		st = "FAILED";
		snprintf(t->error, sizeof(t->error), "%s", interrupted);
	}
	run_task_set(r, t, st);
	run_event_task(r, t, st);
	count_task(r, st);
	/* stored with what comes next: the next start (its commit, its
	 * journal record or run_touch()), a wait's commit, or the end */
	r->dirty = true;
	if (rc == 0) {
		doc_free(t->sc->last);
		t->sc->last = t->output;
		t->output = NULL;
	}
	return rc;
}

/* Leaf tasks take one of max_parallel slots while they run. */
static bool is_leaf(const struct run_task *t)
{
	if (run_kind_is_flow(t->kind))
		return false;
	return !(t->kind && !strcmp(t->kind, "RUN") &&
		 doc_map_get(doc_map_get(t->def, "taskConfig"), "workflow"));
}

static int slot_take(struct run *r, struct run_scope *sc)
{
	bool waited = false;

	while (r->running >= r->p->limits.max_parallel &&
	       !run_scope_stopped(sc)) {
		if (!waited)
			run_flush(r);
		waited = true;
		pthread_cond_wait(&r->slot_cv, &r->mu);
	}
	if (run_scope_stopped(sc))
		return -ECANCELED;
	r->running++;
	return 0;
}

/* Every waiter wakes: one that was cut leaves without taking the slot,
 * and must not have taken the only wake-up. */
static void slot_give(struct run *r)
{
	r->running--;
	pthread_cond_broadcast(&r->slot_cv);
}

/* Run task @def of @sc; *then: a SWITCH's jump. */
static int run_one(struct run_scope *sc, const struct doc *list, size_t i,
		   struct run_fault *f, char *then, size_t cap)
{
	struct run *r = sc->r;
	bool leaf;
	struct run_task t;
	int rc;

	task_init(sc, &t, list->u.items[i], i);
	leaf = is_leaf(&t);
	rc = leaf ? slot_take(r, sc) : 0;
	if (rc == 0)
		rc = limit_hit(r, true);
	if (rc < 0) {
		if (leaf)
			slot_give(r);
		return rc;
	}
	t.start_ns = run_now();
	run_task_set(r, &t, "IN_PROGRESS");
	run_event_task(r, &t, "IN_PROGRESS");
	/* a process's start is recorded right before it runs (run_shell.c) */
	if (run_task_spawns(r, &t))
		r->dirty = true;
	else
		run_touch(r);
	rc = run_task_exec(r, &t);
	if (leaf)
		slot_give(r);
	rc = task_ended(r, &t, rc);
	if (rc == -1)
		fault_of(&t, f);
	snprintf(then, cap, "%s", t.then);
	doc_free(t.output);
	doc_free(t.cfg);
	doc_free(t.arg);
	return rc;
}

int run_list(struct run_scope *sc, const struct doc *list,
	     struct run_fault *f)
{
	char then[sizeof(((struct run_task *)0)->then)];
	size_t i = 0;
	int rc;

	while (list && i < list->n && !atomic_load(&sc->r->ended)) {
		if (run_scope_stopped(sc)) {
			if (run_stopping(sc->r) != RUN_GO)
				sc->r->cut = true;
			return -ECANCELED;
		}
		rc = limit_hit(sc->r, false);
		if (rc == 0)
			rc = run_one(sc, list, i, f, then, sizeof(then));
		if (rc)
			return rc;
		i = next_task(sc, list, i, then);
	}
	return 0;
}

static void run_tasks(struct run *r)
{
	struct run_scope top = { .r = r, .iteration = -1, .cut_fd = -1,
				 .depth = r->link.depth, .ref = "/do",
				 .input = r->input };
	struct run_fault f = { 0 };
	int rc;

	run_lock(r);
	rc = run_list(&top, r->tasks, &f);
	if (rc == 0 && !r->output) {	/* the workflow's: its last task's */
		r->output = top.last ? top.last : doc_clone(r->input);
		top.last = NULL;
	}
	if (rc == -1) {
		run_redact_text(r, f.detail, f.detail, sizeof(f.detail));
		run_fail(r, f.path, f.detail);
	}
	/* A limit another run of the tree hit stopped this one too. */
	if (atomic_load(&r->tree->limited))
		run_fail(r, NULL, r->tree->limit);
	run_scope_release(&top);
	pthread_mutex_unlock(&r->mu);
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

/* Return: whether the run's end was stored. */
static bool finish(struct run *r)
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
		return true;
	fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
	/* Whatever made the status unstorable, the run must not stay
	 * IN_PROGRESS: store the phase and the error alone. */
	err_clear(&e);
	if (run_fail_stored(r->p, r->id, r->phase, r->error, &e) == 0)
		return true;
	fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
	return false;
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
	run_dir_remove(r);
	/* kept while the record is IN_PROGRESS: the next start reads it */
	run_journal_close(r, r->jused && r->end_stored);
	redactor_free(r->red);
	redactor_free(r->red_lit);
	run_env_release(&r->env);
	doc_free(r->exec);
	doc_free(r->wf);
	doc_free(r->status);
	run_rec_release(&r->rec);
	doc_free(r->input);
	doc_free(r->output);
	expr_cache_free(r->ex);
	free(r->plan);
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
			run_fail(r, NULL, e.msg);
		else
			run_tasks(r);
		r->end_stored = finish(r);
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
	r.rec = (struct run_rec)RUN_REC_INIT;
	r.wake_fd = -1;
	r.jfd = -1;
	snprintf(r.id, sizeof(r.id), "%s", id);
	atomic_store(&r.stop, RUN_SHUTDOWN);
	r.cut = true;
	rc = record_load(p, id, &h, &r.exec);
	if (rc == 0) {
		r.serial = h.serial;
		memcpy(r.slug, h.slug, sizeof(r.slug));
		run_who_from(&r, &h);	/* its warnings go to its creator */
		r.status = doc_clone(doc_map_get(r.exec, "status"));
		if (snprintf(r.workdir, sizeof(r.workdir), "%s/runs/%s",
			     p->state_dir, id) >= (int)sizeof(r.workdir))
			r.workdir[0] = '\0';
		rc = r.status ? open_sinks(&r) : -ENOMEM;
	}
	/* the starts after its last commit (run_journal.c) */
	if (rc == 0 && run_journal_replay(&r, h.mtime_ns) < 0)
		fprintf(stderr, "execfs: recovering %s: its journal of task "
			"starts cannot be read; the stored status is used\n",
			h.slug);
	if (rc == 0) {
		run_status_interrupt(&r, interrupted);
		run_journal_close(&r, finish(&r));
	}
	cleanup(&r);
	return rc < 0 ? err_set(e, rc, "cannot end execution %s", id) : 0;
}
