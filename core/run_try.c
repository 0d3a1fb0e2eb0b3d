/*
 * run_try.c - TRY: its `try` list on the TRY's input; a failure in it is
 * caught when it passes catch.errors.with, catch.when and
 * catch.exceptWhen (the error bound as $<as>, default $error).  A caught
 * error is retried under catch.retry while its policy allows (the delay
 * after backoff and jitter, the attempt and duration limits, its own
 * when/exceptWhen), then handed to catch.do, whose output is the TRY's.
 * Without catch.do, an error caught once is swallowed (the output is the
 * TRY's input) and an error that outlived its retries fails the TRY.  A
 * TRY never catches a limit, a cancel or a daemon stop (run_list()
 * returns those as -ETIME and -ECANCELED, never -1).
 */
#include "run_i.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "duration.h"

static const struct doc *katch_of(const struct run_task *t)
{
	return doc_map_get(doc_map_get(t->def, "taskConfig"), "catch");
}

/* The DSL error object of @f, its detail redacted. */
static struct doc *error_doc(struct run *r, const struct run_fault *f)
{
	struct doc *e = doc_new(DOC_MAP);
	char detail[sizeof(f->detail)], title[sizeof(f->title)];
	char type[sizeof(f->type)];

	/* RAISE's fields come from expressions: any may hold a secret */
	run_redact_text(r, f->detail, detail, sizeof(detail));
	run_redact_text(r, f->title, title, sizeof(title));
	run_redact_text(r, f->type, type, sizeof(type));
	if (!e || doc_map_setstr(e, "type", type) < 0 ||
	    doc_map_set(e, "status", doc_int(f->status)) < 0 ||
	    doc_map_setstr(e, "title", title) < 0 ||
	    doc_map_setstr(e, "detail", detail) < 0 ||
	    doc_map_setstr(e, "instance", f->instance) < 0) {
		doc_free(e);
		return NULL;
	}
	return e;
}

/* Whether error type @have is @want: equal, or the CTK's spelling of a
 * standard type (https://serverlessworkflow.io/dsl/errors/types/<name>). */
static bool type_is(const char *have, const char *want)
{
	static const char ctk[] =
		"https://serverlessworkflow.io/dsl/errors/types/";
	size_t n = sizeof(RUN_ERR_BASE) - 1;

	if (!strcmp(have, want))
		return true;
	return !strncmp(want, ctk, sizeof(ctk) - 1) &&
	       !strncmp(have, RUN_ERR_BASE, n) &&
	       !strcmp(have + n, want + sizeof(ctk) - 1);
}

/* catch.errors.with: every field it gives equals the error's. */
static bool filter_passes(const struct doc *with, const struct doc *err)
{
	const struct doc *w, *e;
	const char *key;
	size_t i;

	for (i = 0; with && with->type == DOC_MAP && i < with->n; i++) {
		key = with->u.kv[i].key;
		w = with->u.kv[i].val;
		e = doc_map_get(err, strcmp(key, "details") ? key : "detail");
		if (!e)
			return false;
		if (!strcmp(key, "status")) {
			if (w->type != DOC_INT || w->i != e->i)
				return false;
		} else if (!strcmp(key, "type")) {
			if (!doc_is_scalar(w) || !w->u.s ||
			    !type_is(e->u.s, w->u.s))
				return false;
		} else if (!doc_is_scalar(w) || !w->u.s ||
			   strcmp(w->u.s, e->u.s)) {
			return false;
		}
	}
	return true;
}

/* Evaluate @cond (when, exceptWhen) with the error bound. */
static int cond(struct run *r, struct run_task *t, const struct doc *vars,
		const struct doc *c, bool *yes)
{
	struct doc *v = NULL;
	int rc;

	*yes = false;
	if (!c)
		return 0;
	t->vars = vars;
	rc = run_eval(r, t, c, &v);
	t->vars = NULL;
	*yes = rc == 0 && expr_truthy(v);
	doc_free(v);
	return rc;
}

/* when / exceptWhen of @m (catch or retry): *pass when both allow. */
static int conds_pass(struct run *r, struct run_task *t,
		      const struct doc *vars, const struct doc *m, bool *pass)
{
	const struct doc *w = doc_map_get(m, "when");
	const struct doc *x = doc_map_get(m, "exceptWhen");
	bool yes = true;
	int rc = 0;

	if (!x)
		x = doc_map_get(m, "except_when");
	if (w)
		rc = cond(r, t, vars, w, &yes);
	*pass = yes;
	if (rc == 0 && *pass && x) {
		rc = cond(r, t, vars, x, &yes);
		*pass = !yes;
	}
	return rc;
}

/* The variables of the catch: those around plus $<as>. */
static struct doc *catch_vars(struct run_task *t, const struct doc *err)
{
	const char *as = doc_get_str(katch_of(t), "as");
	struct doc *v = t->sc->vars ? doc_clone(t->sc->vars) :
		        doc_new(DOC_MAP);

	if (v && doc_map_set(v, as && *as ? as : "error",
			     doc_clone(err)) < 0) {
		doc_free(v);
		return NULL;
	}
	return v;
}

/* A duration of the policy in ms (0 when absent; checked at write). */
static int64_t dur(const struct doc *v)
{
	const char *why;
	int64_t ms = 0;

	return v && duration_ms(v, &ms, &why) == 0 ? ms : 0;
}

/* The delay before retry @n (1-based): backoff, then jitter. */
static int64_t retry_delay(const struct doc *pol, unsigned n)
{
	const struct doc *bo = doc_map_get(pol, "backoff");
	const struct doc *j = doc_map_get(pol, "jitter");
	int64_t d = dur(doc_map_get(pol, "delay")), lo, hi;
	uint64_t rnd = 0;
	unsigned k;

	if (doc_map_get(bo, "linear"))
		d *= n;
	for (k = 1; doc_map_get(bo, "exponential") && k < n &&
		    d < DURATION_MAX_MS; k++)
		d *= 2;
	if (j) {
		lo = dur(doc_map_get(j, "from"));
		hi = dur(doc_map_get(j, "to"));
		if (hi > lo && getrandom(&rnd, sizeof(rnd), 0) == sizeof(rnd))
			d += lo + (int64_t)(rnd % (uint64_t)(hi - lo + 1));
		else
			d += lo;
	}
	return d < DURATION_MAX_MS ? d : DURATION_MAX_MS;
}

/* Whether the policy allows retry @n after an attempt that started at
 * @att_ns, the TRY having started at @t->start_ns; *delay_ns. */
static bool retry_allowed(const struct doc *pol, const struct run_task *t,
			  unsigned n, int64_t att_ns, int64_t *delay_ns)
{
	const struct doc *lim = doc_map_get(pol, "limit");
	const struct doc *cnt = doc_get(lim, "attempt.count");
	int64_t per = dur(doc_get(lim, "attempt.duration"));
	int64_t all = dur(doc_map_get(lim, "duration"));
	int64_t now = run_now();

	bool is_task;

	*delay_ns = retry_delay(pol, n) * 1000000;
	if (cnt && cnt->type == DOC_INT && (int64_t)n > cnt->i)
		return false;
	/* a retry that could not start before the deadline is none */
	if (now + *delay_ns >= run_task_deadline(t->sc->r, t, &is_task))
		return false;
	if (per && now - att_ns > per * 1000000)
		return false;
	return !(all && now + *delay_ns - t->start_ns > all * 1000000);
}

/* Sleep @ns before a retry (within the deadline: retry_allowed()),
 * unless the run stops. */
static int retry_sleep(struct run *r, struct run_task *t, int64_t ns)
{
	struct pollfd pf[16];
	int n = run_scope_fds(t->sc, pf, 16);
	int64_t until = run_now() + ns;

	while (!run_scope_stopped(t->sc) && run_now() < until) {
		run_unlock(r);
		poll(pf, n, run_poll_ms(until));
		run_lock(r);
	}
	return run_scope_stopped(t->sc) ? -ECANCELED : 0;
}

/* One pass of the `try` list: 0 and t->output, or its failure in @f. */
static int attempt(struct run *r, struct run_task *t, unsigned n,
		   struct run_fault *f)
{
	struct run_scope sc;
	char ref[RUN_REF_MAX];
	int rc;

	run_fmt(ref, sizeof(ref), "%s/try", t->ref);
	run_scope_init(&sc, t->sc, t->name, ref, t->input);
	sc.attempt = n;
	memset(f, 0, sizeof(*f));
	rc = run_list(&sc, doc_map_get(doc_map_get(t->def, "taskConfig"),
				       "try"), f);
	if (rc == 0)
		t->output = sc.last ? sc.last : t->input ? doc_clone(t->input) :
			    doc_new(DOC_NULL);
	if (rc == 0)
		sc.last = NULL;
	run_scope_release(&sc);
	if (rc == 0 && !t->output)
		return -ENOMEM;
	(void)r;
	return rc;
}

/* catch.do on the TRY's input, $<as> bound: its output is the TRY's. */
static int catch_do(struct run *r, struct run_task *t, struct doc *vars)
{
	const struct doc *list = doc_map_get(katch_of(t), "do");
	struct run_fault f = { 0 };
	struct run_scope sc;
	char name[RUN_PATH_MAX], ref[RUN_REF_MAX];
	int rc;

	if (r->dry)
		run_trace(r, t, "would run catch.do");
	run_fmt(name, sizeof(name), "%s/catch", t->name);
	run_fmt(ref, sizeof(ref), "%s/catch/do", t->ref);
	run_scope_init(&sc, t->sc, name, ref, t->input);
	sc.vars = vars;
	rc = run_list(&sc, list, &f);
	if (rc == 0) {
		t->output = sc.last ? sc.last : t->input ? doc_clone(t->input) :
			    doc_new(DOC_NULL);
		sc.last = NULL;
	}
	run_scope_release(&sc);
	if (rc == 0 && !t->output)
		return -ENOMEM;
	return rc == -1 ? run_fault_up(t, &f) : rc;
}

/* The failure @f was caught: retry (*again), hand it to catch.do, or
 * end the TRY (swallowed, or failed when retries ran out). */
static int caught(struct run *r, struct run_task *t, unsigned n,
		  int64_t att_ns, struct doc *vars, const struct run_fault *f,
		  bool *again)
{
	const struct doc *k = katch_of(t), *pol = doc_map_get(k, "retry");
	int64_t delay = 0;
	bool pass = false;
	int rc = pol ? conds_pass(r, t, vars, pol, &pass) : 0;

	*again = false;
	if (rc < 0)
		return rc;
	pass = pass && retry_allowed(pol, t, n, att_ns, &delay);
	if (pass && r->dry) {
		/* a dry run fails the same way every time: say it, go on */
		run_trace(r, t, "would retry (attempt %u) after %lld ms", n + 1,
			  (long long)(delay / 1000000));
	} else if (pass) {
		rc = retry_sleep(r, t, delay);
		*again = rc == 0;
		return rc;
	}
	if (doc_map_get(k, "do"))
		return catch_do(r, t, vars);
	if (pol)
		return run_fault_up(t, f);
	if (r->dry)
		run_trace(r, t, "would catch the failure of %s", f->path);
	t->output = t->input ? doc_clone(t->input) : doc_new(DOC_NULL);
	return t->output ? 0 : -ENOMEM;
}

/* Whether catch @k takes the failure (error object @err). */
static int catches(struct run *r, struct run_task *t, const struct doc *k,
		   const struct doc *err, const struct doc *vars, bool *yes)
{
	*yes = k && filter_passes(doc_get(k, "errors.with"), err);
	return *yes ? conds_pass(r, t, vars, k, yes) : 0;
}

int run_try(struct run *r, struct run_task *t)
{
	const struct doc *k = katch_of(t);
	bool retries = doc_map_get(k, "retry") != NULL, yes, again = true;
	struct run_fault f;
	struct doc *err = NULL, *vars = NULL;
	unsigned n;
	int64_t att_ns = 0;
	int rc = -1;

	for (n = 1; again; n++) {
		again = false;
		t->attempts = retries ? n : 0;
		t->attempt = retries ? n : t->attempt;
		if (n > 1)
			run_event_task(r, t, "IN_PROGRESS");
		att_ns = run_now();
		rc = attempt(r, t, t->attempt, &f);
		if (rc != -1)
			break;
		doc_free(err);
		doc_free(vars);
		err = error_doc(r, &f);
		vars = err ? catch_vars(t, err) : NULL;
		rc = vars ? catches(r, t, k, err, vars, &yes) : -ENOMEM;
		if (rc == 0 && !yes)
			rc = run_fault_up(t, &f);
		else if (rc == 0)
			rc = caught(r, t, n, att_ns, vars, &f, &again);
	}
	doc_free(err);
	doc_free(vars);
	return rc;
}
