/*
 * run_flow.c - the kinds that decide what runs: SWITCH (a jump in its
 * list), FOR (its `do` once per item, with $each/$at bound), FORK (each
 * branch on a thread of its own; `compete`: the first to complete wins)
 * and TRY (a failure in `try` runs `catch.do` with the error bound).
 *
 * Nested lists run through run_list() in a scope of their own, whose path
 * prefixes the paths of their tasks.  A dry run walks all of it: SWITCH
 * and FOR evaluate, and only the leaf kinds refrain from side effects.
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The task's config as written: these kinds evaluate their expressions
 * one at a time, and their nested lists are the definitions status
 * entries were made for. */
static const struct doc *tcfg(const struct run_task *t)
{
	return doc_map_get(t->def, "taskConfig");
}

/* ---- SWITCH --------------------------------------------------------- */

/* Whether @c matches: no `when`, or its value is true for jq. */
static int case_matches(struct run *r, struct run_task *t,
			const struct doc *c, bool *yes)
{
	const struct doc *when = doc_map_get(c, "when");
	struct doc *v = NULL;
	int rc;

	*yes = true;
	if (!when)
		return 0;
	rc = run_eval(r, t, when, &v);
	if (rc == 0)
		*yes = expr_truthy(v);
	doc_free(v);
	return rc;
}

static int switch_output(struct run_task *t, const char *name,
			 const char *then)
{
	t->output = doc_new(DOC_MAP);
	if (!t->output || doc_map_setstr(t->output, "case", name) < 0 ||
	    doc_map_setstr(t->output, "then", then) < 0)
		return -ENOMEM;
	return 0;
}

int run_switch(struct run *r, struct run_task *t)
{
	const struct doc *cases = doc_map_get(tcfg(t), "cases");
	const struct doc *c = NULL;
	const char *name, *then;
	bool yes = false;
	size_t i;
	int rc = 0;

	for (i = 0; cases && rc == 0 && i < cases->n; i++) {
		c = cases->u.items[i];
		rc = case_matches(r, t, c, &yes);
		if (rc == 0 && yes)
			break;
	}
	if (rc < 0)
		return rc;
	if (!cases || i == cases->n) {
		if (r->dry)
			run_trace(r, t, "no case matched: continue");
		return switch_output(t, "", "continue");
	}
	name = doc_get_str(c, "name") ? doc_get_str(c, "name") : "";
	then = doc_get_str(c, "then") ? doc_get_str(c, "then") : "continue";
	snprintf(t->then, sizeof(t->then), "%s", then);
	if (r->dry)
		run_trace(r, t, "case %s: then %s", name, then);
	return switch_output(t, name, then);
}

/* ---- FOR ------------------------------------------------------------ */

/* The items of `in`: an expression's list or a YAML list. */
static int for_items(struct run *r, struct run_task *t, struct doc **items)
{
	const struct doc *in = doc_map_get(tcfg(t), "in");
	int rc = in ? run_eval(r, t, in, items) : -1;

	if (!in)
		snprintf(t->error, sizeof(t->error), "FOR: `in` is missing");
	if (rc == 0 && (*items)->type == DOC_NULL) {
		doc_free(*items);
		*items = doc_new(DOC_LIST);
		rc = *items ? 0 : -ENOMEM;
	}
	if (rc == 0 && (*items)->type != DOC_LIST) {
		snprintf(t->error, sizeof(t->error), "FOR: `in` gave %s, not a "
			 "list", doc_type_name((*items)->type));
		rc = -1;
	}
	return rc;
}

/* The variables of iteration @i: those around plus $each and $at. */
static struct doc *iter_vars(const struct run_scope *sc, const char *each,
			     const char *at, const struct doc *item, size_t i)
{
	struct doc *v = sc->vars ? doc_clone(sc->vars) : doc_new(DOC_MAP);

	if (v && (doc_map_set(v, each, doc_clone(item)) < 0 ||
		  doc_map_set(v, at, doc_int((int64_t)i)) < 0)) {
		doc_free(v);
		return NULL;
	}
	return v;
}

static const char *cfg_name(const struct doc *cfg, const char *key,
			    const char *dflt)
{
	const char *v = doc_get_str(cfg, key);

	return v && *v ? v : dflt;
}

/* Iteration @i of a FOR: its `do` in a scope of its own. */
static int for_one(struct run_task *t, const struct doc *item, size_t i,
		   struct doc *out, struct run_fault *f)
{
	struct run_scope sc;
	int rc;

	run_scope_init(&sc, t->sc, t->name, t->ref, t->input);
	sc.depth = t->sc->depth + 1;
	sc.iteration = (long)i;
	sc.vars = iter_vars(t->sc, cfg_name(tcfg(t), "each", "item"),
			    cfg_name(tcfg(t), "at", "index"), item, i);
	rc = sc.vars ? run_list(&sc, doc_map_get(tcfg(t), "do"), f) : -ENOMEM;
	if (rc == 0) {
		rc = doc_list_add(out, sc.last ? sc.last : doc_new(DOC_NULL));
		sc.last = NULL;
	}
	doc_free(sc.vars);
	run_scope_release(&sc);
	return rc;
}

/* A failure inside the loop is the FOR's: its error names the task. */
static int for_fault(struct run_task *t, const struct run_fault *f)
{
	run_fmt(t->error, sizeof(t->error), "task %s failed: %s", f->path,
		f->detail);
	snprintf(t->err_type, sizeof(t->err_type), "%s", f->type);
	t->err_status = f->status;
	return -1;
}

int run_for(struct run *r, struct run_task *t)
{
	const struct plane_limits *l = &r->p->limits;
	struct doc *items = NULL;
	struct run_fault f = { 0 };
	size_t i;
	int rc;

	if (t->sc->depth + 1 > l->max_loop_depth)
		return run_limit(r, "limit max_loop_depth (%u) exceeded at %s",
				 l->max_loop_depth, t->path);
	rc = for_items(r, t, &items);
	if (rc == 0 && items->n > l->max_loop_iterations)
		rc = run_limit(r, "limit max_loop_iterations (%u) exceeded: "
			       "FOR loop %s has %zu items",
			       l->max_loop_iterations, t->path, items->n);
	if (rc == 0 && r->dry)
		run_trace(r, t, "would iterate %zu times", items->n);
	if (rc == 0)
		t->output = doc_new(DOC_LIST);
	if (rc == 0 && !t->output)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < items->n; i++)
		rc = for_one(t, items->u.items[i], i, t->output, &f);
	doc_free(items);
	return rc == -1 && f.path[0] ? for_fault(t, &f) : rc;
}

/* ---- TRY ------------------------------------------------------------ */

/* The error object a catch sees (CNCF Serverless Workflow's shape). */
static struct doc *error_doc(struct run *r, const struct run_fault *f)
{
	struct doc *e = doc_new(DOC_MAP);
	char detail[sizeof(f->detail)];

	run_redact_text(r, f->detail, detail, sizeof(detail));
	if (!e || doc_map_setstr(e, "type", f->type) < 0 ||
	    doc_map_set(e, "status", doc_int(f->status)) < 0 ||
	    doc_map_setstr(e, "detail", detail) < 0 ||
	    doc_map_setstr(e, "instance", f->path) < 0) {
		doc_free(e);
		return NULL;
	}
	return e;
}

static int catch_run(struct run *r, struct run_task *t,
		     const struct run_fault *f)
{
	const struct doc *katch = doc_map_get(tcfg(t), "catch");
	const struct doc *list = doc_map_get(katch, "do");
	struct doc *err = error_doc(r, f);
	struct run_fault f2 = { 0 };
	struct run_scope sc;
	char name[RUN_PATH_MAX];
	int rc;

	if (!err)
		return -ENOMEM;
	if (!list) {
		t->output = err;
		return 0;
	}
	run_fmt(name, sizeof(name), "%s/catch", t->name);
	run_scope_init(&sc, t->sc, name, t->ref, t->input);
	sc.vars = t->sc->vars ? doc_clone(t->sc->vars) : doc_new(DOC_MAP);
	rc = sc.vars ? doc_map_set(sc.vars, cfg_name(katch, "as", "error"),
				   err) : -ENOMEM;
	if (rc == 0)
		rc = run_list(&sc, list, &f2);
	if (rc == 0) {
		t->output = sc.last;
		sc.last = NULL;
	}
	doc_free(sc.vars);
	run_scope_release(&sc);
	return rc == -1 ? for_fault(t, &f2) : rc;
}

int run_try(struct run *r, struct run_task *t)
{
	struct run_fault f = { 0 };
	struct run_scope sc;
	int rc;

	run_scope_init(&sc, t->sc, t->name, t->ref, t->input);
	rc = run_list(&sc, doc_map_get(tcfg(t), "try"), &f);
	if (rc == 0) {
		t->output = sc.last;
		sc.last = NULL;
	}
	run_scope_release(&sc);
	if (rc != -1)
		return rc;
	if (r->dry)
		run_trace(r, t, "would catch the failure of %s", f.path);
	return catch_run(r, t, &f);
}

/* ---- FORK ----------------------------------------------------------- */

struct fork;

struct branch {
	struct fork *fk;
	struct run_scope sc;
	const struct doc *list;
	const char *name;
	pthread_t thr;
	bool started;
	int rc;
	struct run_fault f;
};

struct fork {
	struct run_task *t;
	bool compete;
	struct branch *b;
	size_t n;
	long winner;		/* compete: the first branch to complete */
	long failed;		/* the first branch that failed */
};

/* Cut every branch but @keep (-1: all): their tasks end CANCELLED; one
 * waiting for a slot wakes to see it.  The caller holds the run's lock. */
static void cut_others(struct fork *fk, long keep)
{
	uint64_t one = 1;
	size_t i;

	pthread_cond_broadcast(&fk->t->sc->r->slot_cv);
	for (i = 0; i < fk->n; i++) {
		if ((long)i == keep || atomic_load(&fk->b[i].sc.cut))
			continue;
		atomic_store(&fk->b[i].sc.cut, true);
		if (write(fk->b[i].sc.cut_fd, &one, sizeof(one)) < 0) {
			/* the counter is already non-zero: it is awake */
		}
	}
}

/* A branch ended (the caller holds the run's lock). */
static void branch_ended(struct branch *b)
{
	struct fork *fk = b->fk;
	long me = (long)(b - fk->b);

	if (b->rc == 0 && fk->compete && fk->winner < 0) {
		fk->winner = me;
		cut_others(fk, me);
	} else if (b->rc != 0 && !atomic_load(&b->sc.cut) && fk->failed < 0 &&
		   !(fk->compete && fk->winner >= 0)) {
		fk->failed = me;
		if (!fk->compete)
			cut_others(fk, me);
	}
}

static void *branch_main(void *arg)
{
	struct branch *b = arg;
	struct run *r = b->sc.r;

	run_lock(r);
	b->rc = run_list(&b->sc, b->list, &b->f);
	branch_ended(b);
	run_unlock(r);
	return NULL;
}

static int branch_start(struct fork *fk, size_t i, const struct doc *def)
{
	struct branch *b = &fk->b[i];
	char name[RUN_PATH_MAX];
	pthread_attr_t a;
	int rc;

	b->fk = fk;
	b->name = doc_get_str(def, "name") ? doc_get_str(def, "name") : "?";
	b->list = doc_map_get(def, "do");
	run_fmt(name, sizeof(name), "%s/%s", fk->t->name, b->name);
	run_scope_init(&b->sc, fk->t->sc, name, fk->t->ref, fk->t->input);
	b->sc.cut_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->sc.cut_fd < 0)
		return -errno;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, RUN_BRANCH_STACK);
	rc = run_thread_create(&b->thr, &a, branch_main, b);
	pthread_attr_destroy(&a);
	b->started = rc == 0;
	return -rc;
}

/* The FORK's output: branch name -> output, the winner's alone. */
static int fork_output(struct fork *fk)
{
	struct run_task *t = fk->t;
	struct branch *b;
	size_t i;
	int rc = 0;

	t->output = doc_new(DOC_MAP);
	for (i = 0; t->output && rc == 0 && i < fk->n; i++) {
		b = &fk->b[i];
		if (fk->compete && (long)i != fk->winner)
			continue;
		rc = doc_map_set(t->output, b->name, b->sc.last ? b->sc.last :
				 doc_new(DOC_NULL));
		b->sc.last = NULL;
	}
	return t->output ? rc : -ENOMEM;
}

/* How the FORK ended, from its branches. */
static int fork_result(struct fork *fk)
{
	size_t i;

	for (i = 0; i < fk->n; i++)
		if (fk->b[i].rc == -ETIME)
			return -ETIME;
	if (run_scope_stopped(fk->t->sc))
		return -ECANCELED;
	if (fk->compete && fk->winner >= 0)
		return fork_output(fk);
	if (fk->failed >= 0)
		return for_fault(fk->t, &fk->b[fk->failed].f);
	if (fk->compete) {
		snprintf(fk->t->error, sizeof(fk->t->error), "no branch "
			 "completed");
		return -1;
	}
	return fork_output(fk);
}

static void fork_join(struct run *r, struct fork *fk)
{
	size_t i;

	run_unlock(r);
	for (i = 0; i < fk->n; i++)
		if (fk->b[i].started)
			pthread_join(fk->b[i].thr, NULL);
	run_lock(r);
}

int run_fork(struct run *r, struct run_task *t)
{
	const struct doc *br = doc_map_get(tcfg(t), "branches");
	const struct doc *cmp = doc_map_get(tcfg(t), "compete");
	struct fork fk = { .t = t, .winner = -1, .failed = -1 };
	size_t i;
	int rc = 0;

	fk.compete = cmp && cmp->type == DOC_BOOL && cmp->i;
	fk.n = br && br->type == DOC_LIST ? br->n : 0;
	fk.b = calloc(fk.n ? fk.n : 1, sizeof(*fk.b));
	if (!fk.b)
		return -ENOMEM;
	for (i = 0; i < fk.n; i++)
		fk.b[i].sc.cut_fd = -1;
	for (i = 0; rc == 0 && i < fk.n; i++)
		rc = branch_start(&fk, i, br->u.items[i]);
	if (rc < 0) {
		snprintf(t->error, sizeof(t->error), "cannot start a branch: "
			 "%s", strerror(-rc));
		cut_others(&fk, -1);
	}
	fork_join(r, &fk);
	if (rc == 0)
		rc = fork_result(&fk);
	else
		rc = -1;
	for (i = 0; i < fk.n; i++) {
		run_scope_release(&fk.b[i].sc);
		if (fk.b[i].sc.cut_fd >= 0)
			close(fk.b[i].sc.cut_fd);
	}
	free(fk.b);
	return rc;
}
