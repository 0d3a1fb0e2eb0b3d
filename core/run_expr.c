/*
 * run_expr.c - what expressions see of a run, as the Serverless Workflow
 * DSL says: `.` is the task's input (its output in export.as), and the
 * runtime arguments $context (every export, by task name, as Stigmer
 * merges them), $secrets, $workflow, $runtime, $input, $output, $task;
 * then the config fields each kind evaluates, and the redaction of
 * everything a run shows (outputs, errors, traces), since an expression
 * can put a secret anywhere.
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef EXECFS_VERSION
#define EXECFS_VERSION "0.1.0"
#endif

/* The workflow's input: triggerMessage as JSON when it is JSON, else the
 * text (null when there is none). */
static struct doc *input_of(const char *msg)
{
	struct doc *v = NULL;

	if (!msg || !*msg)
		return doc_new(DOC_MAP);
	if (expr_json_parse(msg, strlen(msg), &v) == 0)
		return v;
	return doc_strz(msg);
}

/* $secrets (the secret values of the run's environment) and the
 * placeholders' map (all of them). */
static int env_maps(const struct run_env *env, struct doc *st)
{
	struct doc *sec = doc_map_child(st, "secrets");
	struct doc *all = doc_map_child(st, "__env");
	const struct run_var *v;
	size_t i;
	int rc = sec && all ? 0 : -ENOMEM;

	for (i = 0; rc == 0 && i < env->n; i++) {
		v = &env->v[i];
		rc = doc_map_set(all, v->name, doc_str(v->value, v->len));
		if (rc == 0 && v->secret)
			rc = doc_map_set(sec, v->name,
					 doc_str(v->value, v->len));
	}
	return rc;
}

/* {iso8601, epoch: {seconds, milliseconds}} of @ns. */
static struct doc *time_of(int64_t ns)
{
	struct doc *t = doc_new(DOC_MAP), *ep = doc_new(DOC_MAP);
	char iso[64];
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	int rc = t && ep ? 0 : -ENOMEM;

	gmtime_r(&sec, &tm);
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ns / 1000000 % 1000));
	if (rc == 0)
		rc = doc_map_setstr(t, "iso8601", iso);
	if (rc == 0)
		rc = doc_map_set(ep, "seconds", doc_int(ns / 1000000000));
	if (rc == 0)
		rc = doc_map_set(ep, "milliseconds", doc_int(ns / 1000000));
	if (rc == 0) {
		rc = doc_map_set(t, "epoch", ep);
		ep = NULL;
	}
	doc_free(ep);
	if (rc < 0) {
		doc_free(t);
		return NULL;
	}
	return t;
}

/* $workflow: the execution's id, the Workflow's spec, the input, when it
 * started. */
static struct doc *workflow_arg(struct run *r)
{
	struct doc *w = doc_new(DOC_MAP);
	const struct doc *spec = doc_map_get(r->wf, "spec");
	int rc = w ? doc_map_setstr(w, "id", r->id) : -ENOMEM;

	if (rc == 0)
		rc = doc_map_setstr(w, "name", r->slug);
	if (rc == 0)
		rc = doc_map_set(w, "definition", spec ? doc_clone(spec) :
				 doc_new(DOC_MAP));
	if (rc == 0)
		rc = doc_map_set(w, "input", doc_clone(r->input));
	if (rc == 0)
		rc = doc_map_set(w, "startedAt", time_of(r->start_ns));
	if (rc < 0) {
		doc_free(w);
		return NULL;
	}
	return w;
}

static struct doc *runtime_arg(void)
{
	struct doc *rt = doc_new(DOC_MAP);
	int rc = rt ? doc_map_setstr(rt, "name", "execfs") : -ENOMEM;

	if (rc == 0)
		rc = doc_map_setstr(rt, "version", EXECFS_VERSION);
	if (rc == 0)
		rc = doc_map_set(rt, "metadata", doc_new(DOC_MAP));
	if (rc < 0) {
		doc_free(rt);
		return NULL;
	}
	return rt;
}

int run_expr_init(struct run *r, struct err *e)
{
	const char *msg = doc_get_str(r->exec, "spec.triggerMessage");
	struct doc *st = doc_new(DOC_MAP);
	int rc = st ? expr_cache_new_lazy(r->rr ? r->rr->pool : NULL, &r->ex)
		    : -ENOMEM;

	r->input = rc == 0 ? input_of(msg) : NULL;
	if (rc == 0 && !r->input)
		rc = -ENOMEM;
	if (rc == 0)
		rc = doc_map_set(st, "context", doc_new(DOC_MAP));
	if (rc == 0)
		rc = env_maps(&r->env, st);
	if (rc == 0)
		rc = doc_map_set(st, "workflow", workflow_arg(r));
	if (rc == 0)
		rc = doc_map_set(st, "runtime", runtime_arg());
	if (rc == 0)
		rc = expr_set_input(r->ex, st);
	doc_wipe_free(st);
	return rc < 0 ? err_set(e, rc, "cannot prepare the expressions' "
				"state (%s%s)", strerror(-rc),
				rc == -ENOENT ? "; is /proc mounted?" : "")
		      : 0;
}

/* $task of @t: made once, at its first evaluation. */
static const struct doc *task_arg(struct run_task *t)
{
	struct doc *a;
	int rc;

	if (t->arg)
		return t->arg;
	a = doc_new(DOC_MAP);
	rc = a ? doc_map_setstr(a, "name", t->name ? t->name : "") : -ENOMEM;
	if (rc == 0)
		rc = doc_map_setstr(a, "reference", t->ref);
	if (rc == 0)
		rc = doc_map_set(a, "definition", doc_clone(t->def));
	if (rc == 0)
		rc = doc_map_set(a, "input", t->input ? doc_clone(t->input) :
				 doc_new(DOC_NULL));
	if (rc == 0)
		rc = doc_map_set(a, "startedAt", time_of(t->start_ns));
	if (rc < 0) {
		doc_free(a);
		return NULL;
	}
	return t->arg = a;
}

/* The variables of one evaluation: those in scope, $input, $task and
 * $output (@output, or null). */
static struct doc *vars_of(struct run_task *t, const struct doc *output)
{
	const struct doc *arg = task_arg(t);
	const struct doc *in_scope = t->vars ? t->vars : t->sc->vars;
	struct doc *v = in_scope ? doc_clone(in_scope) : doc_new(DOC_MAP);
	int rc = v && arg ? 0 : -ENOMEM;

	if (rc == 0)
		rc = doc_map_set(v, "input", t->input ? doc_clone(t->input) :
				 doc_new(DOC_NULL));
	if (rc == 0)
		rc = doc_map_set(v, "output", output ? doc_clone(output) :
				 doc_new(DOC_NULL));
	if (rc == 0)
		rc = doc_map_set(v, "task", doc_clone(arg));
	if (rc < 0) {
		doc_free(v);
		return NULL;
	}
	return v;
}

/* export.as of a completed task, evaluated over its output (`.` and
 * $output), merged into $context under the task's name (Stigmer). */
int run_export(struct run *r, struct run_task *t)
{
	const struct doc *as = doc_get(t->def, "export.as");
	struct doc *v = NULL;
	int rc = run_eval_at(r, t, as, t->output, t->output, &v);

	if (rc == -ENOMEM)
		snprintf(t->error, sizeof(t->error), "out of memory");
	if (rc < 0)
		return rc == -ENOMEM ? -1 : rc;
	/* Never wait for the evaluator (a slow expression of another
	 * branch) with the run's lock held; @v is this task's own. */
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_lock(&r->ex_mu);
	rc = expr_set_member(r->ex, "context", t->name ? t->name : "", v);
	pthread_mutex_unlock(&r->ex_mu);
	pthread_mutex_lock(&r->mu);
	doc_free(v);
	if (rc < 0)
		snprintf(t->error, sizeof(t->error), "export failed: %s",
			 strerror(-rc));
	return rc < 0 ? -1 : 0;
}

/* A failed evaluation: the task's error, redacted. */
static int eval_failed(struct run *r, struct run_task *t, int rc,
		       const char *msg)
{
	if (rc == -ENOMEM)
		return rc;
	run_task_error(t, "expression", 400, "Expression failed", "%s",
		       rc == -EFBIG ? "expression failed: its value is too "
		       "large" : msg);
	run_redact_text(r, t->error, t->error, sizeof(t->error));
	return -1;
}

/* The evaluation runs in the run's evaluator process, bounded by the
 * task's deadline and stopped by a cancel or a cut; the run's lock is let
 * go meanwhile (the evaluator has its own), so a slow expression in one
 * FORK branch does not stop the others. */
int run_eval_at(struct run *r, struct run_task *t, const struct doc *v,
		const struct doc *dot, const struct doc *output,
		struct doc **out)
{
	struct pollfd pf[16];
	bool is_task = false;
	struct expr_wait w = {
		.fds = pf, .nfds = run_scope_fds(t->sc, pf, 16),
		.deadline_ns = run_task_deadline(r, t, &is_task),
	};
	struct doc *vars = vars_of(t, output);
	char msg[512] = "";
	int rc = vars ? 0 : -ENOMEM;

	run_flush_due(r);	/* an expression can take long */
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_lock(&r->ex_mu);
	expr_set_wait(r->ex, &w);
	expr_set_dot(r->ex, dot);
	if (rc == 0)
		rc = expr_render(r->ex, v, vars, out, msg, sizeof(msg));
	expr_set_dot(r->ex, NULL);
	expr_set_wait(r->ex, NULL);
	pthread_mutex_unlock(&r->ex_mu);
	pthread_mutex_lock(&r->mu);
	doc_wipe_free(vars);
	if (rc == -ETIME)
		return run_deadline_failure(r, t, is_task);
	if (rc == -ECANCELED)
		return rc;
	return rc < 0 ? eval_failed(r, t, rc, msg) : 0;
}

int run_eval(struct run *r, struct run_task *t, const struct doc *v,
	     struct doc **out)
{
	return run_eval_at(r, t, v, t->input, NULL, out);
}

/* Replace @cfg's @key (a node holding templates) by its value. */
static int render_key(struct run *r, struct run_task *t, struct doc *cfg,
		      const char *key)
{
	struct doc *v = doc_map_get(cfg, key), *out = NULL;
	int rc;

	if (!v)
		return 0;
	rc = run_eval(r, t, v, &out);
	return rc < 0 ? rc : doc_map_set(cfg, key, out);
}

/* The fields of each kind that hold expressions (DESIGN 1.5). */
static int render_fields(struct run *r, struct run_task *t, struct doc *cfg)
{
	static const char *const proc[] = { "arguments", "environment",
					    "stdin" };
	const char *k = t->kind;
	struct doc *sub;
	size_t i;
	int rc = 0;

	if (!strcmp(k, "SET"))
		return render_key(r, t, cfg, "variables");
	if (!strcmp(k, "RAISE")) {
		rc = render_key(r, t, cfg, "error");
		return rc ? rc : render_key(r, t, cfg, "message");
	}
	if (!strcmp(k, "HTTP_CALL")) {	/* endpoint, query: run_http.c */
		rc = render_key(r, t, cfg, "headers");
		return rc ? rc : render_key(r, t, cfg, "body");
	}
	if (strcmp(k, "RUN"))
		return 0;
	if (doc_map_get(cfg, "workflow")) {
		rc = render_key(r, t, cfg, "workflow");
		return rc ? rc : render_key(r, t, cfg, "input");
	}
	sub = doc_map_get(cfg, "shell") ? doc_map_get(cfg, "shell") :
	      doc_map_get(cfg, "script");
	for (i = 0; rc == 0 && i < 3; i++)
		rc = render_key(r, t, sub, proc[i]);
	return rc;
}

int run_render_cfg(struct run *r, struct run_task *t)
{
	const struct doc *cfg = doc_map_get(t->def, "taskConfig");

	if (run_kind_is_flow(t->kind))
		return 0;	/* run_flow.c reads the definition */
	t->cfg = cfg ? doc_clone(cfg) : doc_new(DOC_MAP);
	if (!t->cfg)
		return -ENOMEM;
	return t->kind ? render_fields(r, t, t->cfg) : 0;
}

/* ---- redaction ------------------------------------------------------ */

/* @n bytes of @s, every secret form masked by @red, into @out. */
static int redact_into(struct redactor *red, const char *s, size_t n,
		       struct buf *out)
{
	struct redact_stream *rs = NULL;
	int rc = redactor_stream_new(red, &rs);

	if (rc == 0)
		rc = redact_stream_write(rs, s, n, out);
	if (rc == 0)
		rc = redact_stream_flush(rs, out);
	redact_stream_free(rs);
	return rc;
}

void run_redact_text(struct run *r, const char *s, char *out, size_t cap)
{
	struct buf b = BUF_INIT(cap > 1 ? cap * 4 : 64);
	size_t n;

	if (!cap)
		return;
	if (!r->red) {
		if (out != s)
			snprintf(out, cap, "%s", s);
	} else if (redact_into(r->red, s, strlen(s), &b) < 0) {
		snprintf(out, cap, "(message withheld: it could not be "
			 "redacted)");
	} else {
		n = b.len < cap - 1 ? b.len : cap - 1;
		memmove(out, b.data ? b.data : "", n);
		out[n] = '\0';
	}
	buf_release(&b);
}

static struct doc *redact_str(struct run *r, const struct doc *d)
{
	struct buf b = BUF_INIT(2 * d->n + 4096);
	struct doc *o = NULL;

	if (redact_into(r->red, d->u.s, d->n, &b) == 0)
		o = doc_str(b.data ? b.data : "", b.len);
	buf_release(&b);
	return o;
}

bool run_has_secret(struct run *r, const char *s)
{
	struct buf b = BUF_INIT(2 * strlen(s) + 4096);
	bool yes;

	if (!r->red_lit)
		return false;
	/* masking changed it, or it could not be checked */
	yes = redact_into(r->red_lit, s, strlen(s), &b) < 0 ||
	      b.len != strlen(s) || (b.len && memcmp(b.data, s, b.len));
	buf_release(&b);
	return yes;
}

struct doc *run_redacted(struct run *r, const struct doc *d);

/* Member @kv of a map into @o, its key masked too (an expression can
 * make a secret a key: {($secrets.K): 1}); two keys masked alike stay
 * apart. */
static int redacted_member(struct run *r, struct doc *o,
			   const struct doc_kv *kv)
{
	char key[4096];
	size_t n;

	run_redact_text(r, kv->key, key, sizeof(key));
	if (strcmp(key, kv->key) && doc_map_get(o, key)) {
		n = strlen(key);
		snprintf(key + n, sizeof(key) - n, "#%zu", o->n);
	}
	return doc_map_set(o, key, run_redacted(r, kv->val));
}

struct doc *run_redacted(struct run *r, const struct doc *d)
{
	struct doc *o;
	size_t i;
	int rc = 0;

	if (!d || !r->red)
		return d ? doc_clone(d) : NULL;
	if (d->type == DOC_STR)
		return redact_str(r, d);
	if (d->type != DOC_LIST && d->type != DOC_MAP)
		return doc_clone(d);
	o = doc_new(d->type);
	for (i = 0; o && rc == 0 && i < d->n; i++)
		rc = d->type == DOC_LIST ?
		     doc_list_add(o, run_redacted(r, d->u.items[i])) :
		     redacted_member(r, o, &d->u.kv[i]);
	if (rc < 0) {
		doc_free(o);
		return NULL;
	}
	return o;
}
