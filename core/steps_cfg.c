/*
 * steps_cfg.c - ValidateWorkflowSpec for the leaf kinds' task configs:
 * SET, WAIT, RAISE, RUN and HTTP_CALL.  Each config knows exactly its
 * fields (steps_tasks.c refuses any other key of the config itself; the
 * maps inside are checked here), their types and values, and hands the
 * fields the runner evaluates to the expression list (steps_expr.c).
 */
#include "steps_i.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr.h"

/* Whether @s is one of the NULL-ended @words. */
static bool one_of(const char *s, const char *const *words)
{
	for (; s && *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

int tcheck_status(struct tcheck *t, const char *field, const struct doc *v)
{
	if (v->type != DOC_INT || v->i < 100 || v->i > 599)
		return tcheck_fail(t, field, "must be a whole number, 100 to "
				   "599");
	return 0;
}

/* ---- SET, WAIT ------------------------------------------------------ */

int tcheck_set(struct tcheck *t, struct doc *cfg)
{
	const struct doc *v = doc_map_get(cfg, "variables");

	if (!v || v->type != DOC_MAP)
		return tcheck_fail(t, "variables", "required (a map)");
	return tcheck_expr(t, "variables", v, true);
}

int tcheck_wait(struct tcheck *t, struct doc *cfg)
{
	const struct doc *v = doc_map_get(cfg, "seconds");

	if (v && v->type == DOC_INT && v->i >= 1 && v->i <= INT32_MAX)
		return 0;
	return tcheck_fail(t, "seconds", "required (a whole number, at "
			   "least 1)");
}

/* ---- RAISE ---------------------------------------------------------- */

/* The DSL's error map: type and status required; type, title, detail
 * and instance may be expressions. */
static int raise_map(struct tcheck *t, const struct doc *e)
{
	static const char *const keys[] = { "type", "status", "title",
					    "detail", "instance", NULL };
	const struct doc *st = doc_map_get(e, "status");
	char field[FIELD_MAX];
	size_t i;
	int rc = tcheck_known(t, e, "error", keys);

	if (rc == 0 && !tcheck_is_text(doc_map_get(e, "type")))
		return tcheck_fail(t, "error.type", "required (a non-empty "
				   "string)");
	if (rc == 0 && !st)
		return tcheck_fail(t, "error.status", "required (a whole "
				   "number, 100 to 599)");
	if (rc == 0)
		rc = tcheck_status(t, "error.status", st);
	for (i = 0; rc == 0 && i < 5; i++) {
		if (i == 1)
			continue;
		snprintf(field, sizeof(field), "error.%s", keys[i]);
		rc = tcheck_opt_str(t, field, doc_map_get(e, keys[i]));
	}
	return rc;
}

/* error: a string (Stigmer, with message) or a map (the DSL). */
int tcheck_raise(struct tcheck *t, struct doc *cfg)
{
	const struct doc *e = doc_map_get(cfg, "error");
	const struct doc *m = doc_map_get(cfg, "message");
	int rc;

	if (e && e->type == DOC_MAP) {
		rc = raise_map(t, e);
		if (rc == 0 && m && !tcheck_is_text(m))
			return tcheck_fail(t, "message", "must be a non-empty "
					   "string");
		return rc ? rc : tcheck_expr(t, "message", m, false);
	}
	if (!tcheck_is_text(e))
		return tcheck_fail(t, "error", "required (a non-empty string, "
				   "or a map {type, status, title, detail, "
				   "instance})");
	if (!tcheck_is_text(m))
		return tcheck_fail(t, "message", "required (a non-empty "
				   "string) when error is a string");
	rc = tcheck_expr(t, "error", e, false);
	return rc ? rc : tcheck_expr(t, "message", m, false);
}

/* ---- RUN ------------------------------------------------------------ */

/* arguments: a list of scalars; environment: a map of scalars; stdin: a
 * string.  @what is "shell" or "script". */
static int proc_args(struct tcheck *t, const struct doc *m, const char *what)
{
	const struct doc *a = doc_map_get(m, "arguments");
	char field[FIELD_MAX];
	size_t i;
	int rc = 0;

	snprintf(field, sizeof(field), "%s.arguments", what);
	if (a && a->type != DOC_LIST)
		return tcheck_fail(t, field, "must be a list");
	for (i = 0; a && rc == 0 && i < a->n; i++) {
		snprintf(field, sizeof(field), "%s.arguments[%zu]", what, i);
		rc = doc_is_scalar(a->u.items[i]) ?
		     tcheck_expr(t, field, a->u.items[i], false) :
		     tcheck_fail(t, field, "must be a string");
	}
	return rc;
}

static int proc_env(struct tcheck *t, const struct doc *m, const char *what)
{
	const struct doc *env = doc_map_get(m, "environment");
	char field[FIELD_MAX];
	size_t i;
	int rc = 0;

	snprintf(field, sizeof(field), "%s.environment", what);
	if (env && env->type != DOC_MAP)
		return tcheck_fail(t, field, "must be a map");
	for (i = 0; env && rc == 0 && i < env->n; i++) {
		snprintf(field, sizeof(field), "%s.environment.%s", what,
			 env->u.kv[i].key);
		rc = doc_is_scalar(env->u.kv[i].val) ?
		     tcheck_expr(t, field, env->u.kv[i].val, false) :
		     tcheck_fail(t, field, "must be a string");
	}
	return rc;
}

static int proc_common(struct tcheck *t, const struct doc *m,
		       const char *what)
{
	char field[FIELD_MAX];
	int rc = proc_args(t, m, what);

	if (rc == 0)
		rc = proc_env(t, m, what);
	snprintf(field, sizeof(field), "%s.stdin", what);
	return rc ? rc : tcheck_opt_str(t, field, doc_map_get(m, "stdin"));
}

static int run_shell(struct tcheck *t, const struct doc *sh)
{
	static const char *const keys[] = { "command", "arguments",
					    "environment", "stdin", NULL };
	int rc;

	if (sh->type != DOC_MAP)
		return tcheck_fail(t, "shell", "must be a map");
	rc = tcheck_known(t, sh, "shell", keys);
	if (rc == 0 && !tcheck_is_text(doc_map_get(sh, "command")))
		return tcheck_fail(t, "shell.command", "required (a non-empty "
				   "string)");
	return rc ? rc : proc_common(t, sh, "shell");
}

static int run_script(struct tcheck *t, const struct doc *sc)
{
	static const char *const keys[] = { "language", "code", "arguments",
					    "environment", "stdin", NULL };
	static const char *const langs[] = { "sh", "bash", "python",
					     "python3", NULL };
	const struct doc *l;
	int rc;

	if (sc->type != DOC_MAP)
		return tcheck_fail(t, "script", "must be a map");
	rc = tcheck_known(t, sc, "script", keys);
	l = doc_map_get(sc, "language");
	if (rc == 0 && l && (l->type != DOC_STR || !one_of(l->u.s, langs)))
		return tcheck_fail(t, "script.language", "must be sh, bash, "
				   "python or python3");
	if (rc == 0 && !tcheck_is_text(doc_map_get(sc, "code")))
		return tcheck_fail(t, "script.code", "required (a non-empty "
				   "string)");
	return rc ? rc : proc_common(t, sc, "script");
}

/* RUN workflow: a child execution of Workflow @wf (id or slug, maybe an
 * expression), its input (anything) rendered first. */
static int run_sub(struct tcheck *t, const struct doc *cfg,
		   const struct doc *wf)
{
	int rc;

	if (!tcheck_is_text(wf))
		return tcheck_fail(t, "workflow", "required (a non-empty "
				   "string: a Workflow id or slug)");
	if (doc_map_get(cfg, "return"))
		return tcheck_fail(t, "return", "not with workflow (the "
				   "output is the child's status.output)");
	rc = tcheck_expr(t, "workflow", wf, false);
	return rc ? rc : tcheck_expr(t, "input", doc_map_get(cfg, "input"),
				     true);
}

/* return: what a shell or script outputs. */
static int run_return(struct tcheck *t, const struct doc *r)
{
	static const char *const rets[] = { "stdout", "stderr", "code", "all",
					    "none", NULL };

	if (r && (r->type != DOC_STR || !one_of(r->u.s, rets)))
		return tcheck_fail(t, "return", "must be stdout, stderr, code, "
				   "all or none");
	return 0;
}

/* RUN: a shell command, a script or a sub-workflow (DESIGN 1.5). */
int tcheck_run(struct tcheck *t, struct doc *cfg)
{
	const struct doc *sh = doc_map_get(cfg, "shell");
	const struct doc *sc = doc_map_get(cfg, "script");
	const struct doc *wf = doc_map_get(cfg, "workflow");
	int rc;

	if ((sh != NULL) + (sc != NULL) + (wf != NULL) != 1)
		return tcheck_fail(t, "", "needs exactly one of shell, script "
				   "or workflow");
	if (wf)
		return run_sub(t, cfg, wf);
	if (doc_map_get(cfg, "input"))
		return tcheck_fail(t, "input", "only with workflow (a shell or "
				   "script reads stdin)");
	rc = run_return(t, doc_map_get(cfg, "return"));
	if (rc == 0)
		rc = sc ? run_script(t, sc) : run_shell(t, sh);
	return rc;
}

/* ---- HTTP_CALL ------------------------------------------------------ */

/* RFC 9110 token: what a header name may hold. */
static bool header_name_ok(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

/* headers: a map of scalars; a line break would start another header. */
static int http_headers(struct tcheck *t, const struct doc *h)
{
	char field[FIELD_MAX];
	const struct doc *v;
	size_t i;
	int rc = 0;

	if (h && h->type != DOC_MAP)
		return tcheck_fail(t, "headers", "must be a map");
	for (i = 0; h && rc == 0 && i < h->n; i++) {
		snprintf(field, sizeof(field), "headers.%s", h->u.kv[i].key);
		v = h->u.kv[i].val;
		if (!header_name_ok(h->u.kv[i].key))
			return tcheck_fail(t, field, "not a valid header name");
		if (!doc_is_scalar(v))
			return tcheck_fail(t, field, "must be a string");
		if (v->u.s && (memchr(v->u.s, '\r', v->n) ||
			       memchr(v->u.s, '\n', v->n)))
			return tcheck_fail(t, field, "must not hold a line "
					   "break");
		rc = tcheck_expr(t, field, v, false);
	}
	return rc;
}

/* query: a map of scalars (strings or expressions), percent-encoded
 * when the call is made. */
static int http_query(struct tcheck *t, const struct doc *q)
{
	char field[FIELD_MAX];
	size_t i;
	int rc = 0;

	if (q && q->type != DOC_MAP)
		return tcheck_fail(t, "query", "must be a map of strings");
	for (i = 0; q && rc == 0 && i < q->n; i++) {
		snprintf(field, sizeof(field), "query.%s", q->u.kv[i].key);
		rc = doc_is_scalar(q->u.kv[i].val) ?
		     tcheck_expr(t, field, q->u.kv[i].val, false) :
		     tcheck_fail(t, field, "must be a string");
	}
	return rc;
}

/* A literal URI is checked now; one with an expression when it runs. */
static int http_uri(struct tcheck *t, const char *field,
		    const struct doc *uri)
{
	if (!tcheck_is_text(uri))
		return tcheck_fail(t, field, "required (a non-empty string)");
	if (!expr_has(uri->u.s, uri->n) &&
	    strncasecmp(uri->u.s, "http://", 7) &&
	    strncasecmp(uri->u.s, "https://", 8))
		return tcheck_fail(t, field, "must be an http:// or https:// "
				   "URL");
	return tcheck_expr(t, field, uri, false);
}

/* endpoint: a URL, or a map {uri: URL}. */
static int http_endpoint(struct tcheck *t, const struct doc *ep)
{
	static const char *const keys[] = { "uri", NULL };
	int rc;

	if (!ep)
		return tcheck_fail(t, "endpoint", "required (a URL, or a map "
				   "{uri: URL})");
	if (ep->type != DOC_MAP)
		return http_uri(t, "endpoint", ep);
	rc = tcheck_known(t, ep, "endpoint", keys);
	return rc ? rc : http_uri(t, "endpoint.uri", doc_map_get(ep, "uri"));
}

/* method, timeoutSeconds, output and redirect: plain values. */
static int http_values(struct tcheck *t, const struct doc *cfg)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE",
					       "PATCH", NULL };
	static const char *const outputs[] = { "content", "response", "raw",
					       NULL };
	const struct doc *to = tcheck_get(cfg, "timeoutSeconds");
	const struct doc *out = doc_map_get(cfg, "output");
	const struct doc *redir = doc_map_get(cfg, "redirect");

	if (!one_of(doc_get_str(cfg, "method"), methods))
		return tcheck_fail(t, "method", "must be GET, POST, PUT, DELETE "
				   "or PATCH");
	if (to && (to->type != DOC_INT || to->i < 1 || to->i > 300))
		return tcheck_fail(t, "timeoutSeconds", "must be 1 to 300");
	if (out && (out->type != DOC_STR || !one_of(out->u.s, outputs)))
		return tcheck_fail(t, "output", "must be content, response or "
				   "raw");
	if (redir && redir->type != DOC_BOOL)
		return tcheck_fail(t, "redirect", "must be true or false");
	return 0;
}

int tcheck_http(struct tcheck *t, struct doc *cfg)
{
	int rc = http_values(t, cfg);

	if (rc == 0)
		rc = http_endpoint(t, doc_map_get(cfg, "endpoint"));
	if (rc == 0)
		rc = http_headers(t, doc_map_get(cfg, "headers"));
	if (rc == 0)
		rc = http_query(t, doc_map_get(cfg, "query"));
	return rc ? rc : tcheck_expr(t, "body", doc_map_get(cfg, "body"),
				     true);
}
