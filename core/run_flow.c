/*
 * run_flow.c - the kinds that decide what runs, with the DSL's data
 * flow: SWITCH (a jump in its list; passes its input on), FOR (its `do`
 * once per item, with $each/$at bound, each iteration on the output of the
 * one before), FORK (each branch on a thread of its own, on the FORK's
 * input; the outputs in branch order, or with `compete` the first to
 * complete).  TRY is run_try.c.
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

/* Whether case @c (which has a `when`) matches: jq's truth. */
static int case_matches(struct run *r, struct run_task *t,
			const struct doc *c, bool *yes)
{
	struct doc *v = NULL;
	int rc = run_eval(r, t, doc_map_get(c, "when"), &v);

	*yes = rc == 0 && expr_truthy(v);
	doc_free(v);
	return rc;
}

/* The first case whose `when` holds, else the one without `when` (the
 * default, wherever it is listed), else none; the SWITCH passes its input
 * on. */
int run_switch(struct run *r, struct run_task *t)
{
	const struct doc *cases = doc_map_get(tcfg(t), "cases");
	const struct doc *c, *hit = NULL, *dflt = NULL;
	const char *name, *then;
	bool yes = false;
	size_t i;
	int rc = 0;

	for (i = 0; cases && rc == 0 && !hit && i < cases->n; i++) {
		c = cases->u.items[i];
		if (!doc_map_get(c, "when"))
			dflt = dflt ? dflt : c;
		else if ((rc = case_matches(r, t, c, &yes)) == 0 && yes)
			hit = c;
	}
	if (rc < 0)
		return rc;
	hit = hit ? hit : dflt;
	t->output = t->input ? doc_clone(t->input) : doc_new(DOC_NULL);
	if (!t->output)
		return -ENOMEM;
	if (!hit) {
		if (r->dry)
			run_trace(r, t, "no case matched");
		return 0;
	}
	name = doc_get_str(hit, "name") ? doc_get_str(hit, "name") : "";
	then = doc_get_str(hit, "then") ? doc_get_str(hit, "then") :
	       "continue";
	snprintf(t->then, sizeof(t->then), "%s", then);
	if (r->dry)
		run_trace(r, t, "case %s: then %s", name, then);
	return 0;
}

/* ---- errors from nested lists ---------------------------------------- */

/* A nested task's failure is the composite's: the same error object, the
 * path and instance of the task that failed. */
int run_fault_up(struct run_task *t, const struct run_fault *f)
{
	snprintf(t->error, sizeof(t->error), "%s", f->detail);
	snprintf(t->err_type, sizeof(t->err_type), "%s", f->type);
	snprintf(t->err_title, sizeof(t->err_title), "%s", f->title);
	t->err_status = f->status;
	snprintf(t->err_instance, sizeof(t->err_instance), "%s", f->instance);
	snprintf(t->err_path, sizeof(t->err_path), "%s", f->path);
	return -1;
}

/* @t's JSON Pointer + @suffix: where a nested list sits. */
static void ref_of(const struct run_task *t, const char *suffix, char *out,
		   size_t cap)
{
	run_fmt(out, cap, "%s%s", t->ref, suffix);
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
		run_task_error(t, "expression", 400, "Not a list", "FOR: `in` "
			       "gave %s, not a list",
			       doc_type_name((*items)->type));
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

/* FOR `while`, before iteration @sc: whether to go on. */
static int for_while(struct run *r, struct run_task *t,
		     const struct run_scope *sc, bool *go)
{
	const struct doc *w = doc_map_get(tcfg(t), "while");
	struct doc *v = NULL;
	int rc;

	*go = true;
	if (!w)
		return 0;
	t->vars = sc->vars;
	rc = run_eval_at(r, t, w, sc->input, NULL, &v);
	t->vars = NULL;
	*go = rc == 0 && expr_truthy(v);
	doc_free(v);
	return rc;
}

/* Iteration @i of a FOR: its `do` in a scope of its own, on the output of
 * the iteration before (*carry; the FOR's input first), which it
 * replaces.  *stop: `while` said no. */
static int for_one(struct run_task *t, const struct doc *item, size_t i,
		   struct doc **carry, bool *stop, struct run_fault *f)
{
	struct run_scope sc;
	char ref[RUN_REF_MAX];
	bool go = true;
	int rc;

	ref_of(t, "/do", ref, sizeof(ref));
	run_scope_init(&sc, t->sc, t->name, ref, *carry ? *carry : t->input);
	sc.depth = t->sc->depth + 1;
	sc.iteration = (long)i;
	sc.vars = iter_vars(t->sc, cfg_name(tcfg(t), "each", "item"),
			    cfg_name(tcfg(t), "at", "index"), item, i);
	rc = sc.vars ? for_while(t->sc->r, t, &sc, &go) : -ENOMEM;
	*stop = !go;
	if (rc == 0 && go)
		rc = run_list(&sc, doc_map_get(tcfg(t), "do"), f);
	if (rc == 0 && go && sc.last) {
		doc_free(*carry);
		*carry = sc.last;
		sc.last = NULL;
	}
	doc_free(sc.vars);
	run_scope_release(&sc);
	return rc;
}

int run_for(struct run *r, struct run_task *t)
{
	const struct plane_limits *l = &r->p->limits;
	struct doc *items = NULL, *carry = NULL;
	struct run_fault f = { 0 };
	bool stop = false;
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
	for (i = 0; rc == 0 && !stop && i < items->n; i++)
		rc = for_one(t, items->u.items[i], i, &carry, &stop, &f);
	doc_free(items);
	if (rc == 0)
		t->output = carry ? carry : t->input ? doc_clone(t->input) :
			    doc_new(DOC_NULL);
	else
		doc_free(carry);
	if (rc == 0 && !t->output)
		return -ENOMEM;
	return rc == -1 && f.path[0] ? run_fault_up(t, &f) : rc;
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
	size_t i;

	for (i = 0; i < fk->n; i++)
		if ((long)i != keep && fk->b[i].sc.cut_fd >= 0)
			run_scope_cut(&fk->b[i].sc);
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
	char name[RUN_PATH_MAX], ref[RUN_REF_MAX], at[RUN_REF_MAX + 4];
	pthread_attr_t a;
	int rc;

	b->fk = fk;
	b->name = doc_get_str(def, "name") ? doc_get_str(def, "name") : "?";
	b->list = doc_map_get(def, "do");
	run_fmt(name, sizeof(name), "%s/%s", fk->t->name, b->name);
	ref_of(fk->t, "/fork/branches", ref, sizeof(ref));
	run_ref_add(ref, sizeof(ref), i, b->name);
	run_fmt(at, sizeof(at), "%s/do", ref);
	run_fmt(ref, sizeof(ref), "%s", at);
	run_scope_init(&b->sc, fk->t->sc, name, ref, fk->t->input);
	b->sc.cut_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->sc.cut_fd < 0)
		return -errno;
	b->sc.bnext = fk->t->sc->r->branches;	/* a `then: end` cuts it */
	fk->t->sc->r->branches = &b->sc;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, RUN_BRANCH_STACK);
	rc = thread_start(&b->thr, &a, branch_main, b);
	pthread_attr_destroy(&a);
	b->started = rc == 0;
	return -rc;
}

/* A branch's output (taken): its last task's, else the FORK's input. */
static struct doc *branch_output(struct fork *fk, struct branch *b)
{
	struct doc *o = b->sc.last;

	b->sc.last = NULL;
	if (o)
		return o;
	return fk->t->input ? doc_clone(fk->t->input) : doc_new(DOC_NULL);
}

/* The FORK's output: its branches' outputs in their order, or the
 * winner's alone. */
static int fork_output(struct fork *fk)
{
	struct run_task *t = fk->t;
	size_t i;
	int rc = 0;

	if (fk->compete) {
		t->output = branch_output(fk, &fk->b[fk->winner]);
		return t->output ? 0 : -ENOMEM;
	}
	t->output = doc_new(DOC_LIST);
	for (i = 0; t->output && rc == 0 && i < fk->n; i++)
		rc = doc_list_add(t->output, branch_output(fk, &fk->b[i]));
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
		return run_fault_up(fk->t, &fk->b[fk->failed].f);
	if (fk->compete) {
		snprintf(fk->t->error, sizeof(fk->t->error), "no branch "
			 "completed");
		return -1;
	}
	return fork_output(fk);
}

/* Wait for the branches, then take them off the run's list. */
static void fork_join(struct run *r, struct fork *fk)
{
	struct run_scope **p;
	size_t i;

	run_unlock(r);
	for (i = 0; i < fk->n; i++)
		if (fk->b[i].started)
			pthread_join(fk->b[i].thr, NULL);
	run_lock(r);
	for (i = 0; i < fk->n; i++)
		for (p = &r->branches; *p; p = &(*p)->bnext)
			if (*p == &fk->b[i].sc) {
				*p = fk->b[i].sc.bnext;
				break;
			}
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
