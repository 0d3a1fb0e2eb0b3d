/*
 * run_expr.c - what expressions see of a run and what they may change:
 * the state `.` (input, triggerMessage, triggerMetadata, secrets,
 * env_vars, the exported outputs), the config fields each kind evaluates,
 * and the redaction of everything a run shows (outputs, errors, traces),
 * since an expression can put a secret anywhere.
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* `.input`: triggerMessage as JSON when it is JSON, else the text. */
static struct doc *input_of(const char *msg)
{
	struct doc *v = NULL;

	if (msg && *msg && expr_json_parse(msg, strlen(msg), &v) == 0)
		return v;
	return doc_strz(msg ? msg : "");
}

/* .secrets and .env_vars from the run's environment. */
static int env_maps(const struct run_env *env, struct doc *st)
{
	struct doc *sec = doc_map_child(st, "secrets");
	struct doc *vars = doc_map_child(st, "env_vars");
	const struct run_var *v;
	size_t i;
	int rc = sec && vars ? 0 : -ENOMEM;

	for (i = 0; rc == 0 && i < env->n; i++) {
		v = &env->v[i];
		rc = doc_map_set(v->secret ? sec : vars, v->name,
				 doc_str(v->value, v->len));
	}
	return rc;
}

int run_expr_init(struct run *r, struct err *e)
{
	const char *msg = doc_get_str(r->exec, "spec.triggerMessage");
	const struct doc *meta = doc_get(r->exec, "spec.triggerMetadata");
	struct doc *st = doc_new(DOC_MAP);
	int rc = st ? expr_cache_new(&r->ex) : -ENOMEM;

	if (rc == 0)
		rc = doc_map_set(st, "input", input_of(msg));
	if (rc == 0)
		rc = doc_map_setstr(st, "triggerMessage", msg ? msg : "");
	if (rc == 0)
		rc = doc_map_set(st, "triggerMetadata", meta ? doc_clone(meta) :
				 doc_new(DOC_MAP));
	if (rc == 0)
		rc = env_maps(&r->env, st);
	if (rc == 0)
		rc = expr_set_input(r->ex, st);
	doc_wipe_free(st);
	return rc < 0 ? err_set(e, rc, "cannot prepare the expressions' "
				"state (%s%s)", strerror(-rc),
				rc == -ENOENT ? "; is /proc mounted?" : "")
		      : 0;
}

int run_export(struct run *r, const char *as, const struct doc *v)
{
	struct doc *c = doc_clone(v);
	int rc = c ? doc_map_set(r->exported, as, c) : -ENOMEM;

	if (rc < 0)
		return rc;
	/* Never wait for the evaluator (a slow expression of another
	 * branch) with the run's lock held; @v is this task's own output. */
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_lock(&r->ex_mu);
	rc = expr_set_key(r->ex, as, v);
	pthread_mutex_unlock(&r->ex_mu);
	pthread_mutex_lock(&r->mu);
	return rc;
}

/* A failed evaluation: the task's error, redacted. */
static int eval_failed(struct run *r, struct run_task *t, int rc,
		       const char *msg)
{
	if (rc == -ENOMEM)
		return rc;
	snprintf(t->error, sizeof(t->error), "%s", rc == -EFBIG ?
		 "expression failed: its value is too large" : msg);
	run_redact_text(r, t->error, t->error, sizeof(t->error));
	return -1;
}

/* The evaluation runs in the run's evaluator process, bounded by the
 * task's deadline and stopped by a cancel or a cut; the run's lock is let
 * go meanwhile (the evaluator has its own), so a slow expression in one
 * FORK branch does not stop the others. */
int run_eval(struct run *r, struct run_task *t, const struct doc *v,
	     struct doc **out)
{
	struct pollfd pf[16];
	bool is_task = false;
	struct expr_wait w = {
		.fds = pf, .nfds = run_scope_fds(t->sc, pf, 16),
		.deadline_ns = run_task_deadline(r, t, &is_task),
	};
	char msg[512] = "";
	int rc;

	pthread_mutex_unlock(&r->mu);
	pthread_mutex_lock(&r->ex_mu);
	expr_set_wait(r->ex, &w);
	rc = expr_render(r->ex, v, t->sc->vars, out, msg, sizeof(msg));
	expr_set_wait(r->ex, NULL);
	pthread_mutex_unlock(&r->ex_mu);
	pthread_mutex_lock(&r->mu);
	if (rc == -ETIME)
		return run_deadline_failure(r, t, is_task);
	if (rc == -ECANCELED)
		return rc;
	return rc < 0 ? eval_failed(r, t, rc, msg) : 0;
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
	static const char *const proc[] = { "arguments", "environment" };
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
	if (!strcmp(k, "HTTP_CALL")) {
		rc = render_key(r, t, doc_map_get(cfg, "endpoint"), "uri");
		if (rc == 0)
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
	for (i = 0; rc == 0 && i < 2; i++)
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
		     doc_map_set(o, d->u.kv[i].key,
				 run_redacted(r, d->u.kv[i].val));
	if (rc < 0) {
		doc_free(o);
		return NULL;
	}
	return o;
}
