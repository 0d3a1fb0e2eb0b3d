/*
 * run_http.c - HTTP_CALL, as the Serverless Workflow DSL's `call: http`:
 * the URI is the endpoint (a string or {uri}) with its URI template
 * expanded over the task's input, then its expressions evaluated, then
 * the query map appended; headers and body are taken as run_render_cfg()
 * rendered them.  http_call() runs with the run's lock let go.  The
 * output is the form taskConfig.output asks: content (the body, parsed
 * when the response says it is JSON, else its text, else base64),
 * response ({request, statusCode, headers, content}) or raw (base64).
 *
 * Errors are the DSL's: a status outside 2xx (a 3xx too: with redirect
 * false none is followed, with true a final one is an error) is a
 * communication error with the response's status; a transfer that fails
 * is communication 500, one that times out is timeout 408; a URI template
 * or query that cannot be built is an expression error 400.  Details
 * quote the method and URI; run_status.c redacts them, as run_trace()
 * does the dry run's trace.
 *
 * The endpoint and query are read from the definition, not from t->cfg,
 * and evaluated once here: a value that an evaluation produced is never
 * evaluated again, so input data holding "${" stays data.
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define HTTP_DEFAULT_TIMEOUT 30
#define HTTP_B64_MAX ((HTTP_BODY_MAX / 3 + 1) * 4)


struct hreq {
	struct http_req q;
	char *lines[HTTP_HEADERS_MAX + 1];
	size_t n;
	struct doc *sent;		/* the headers as sent (map) */
	struct buf uri;
	struct buf body;
};

static bool stopped(void *ctx)
{
	return run_scope_stopped(ctx);
}

/* A request the task cannot make: configuration error 400. */
static int bad_config(struct run_task *t, const char *what)
{
	run_task_error(t, "configuration", 400, "Bad HTTP call", "%s", what);
	return -1;
}

static int too_many(struct run_task *t)
{
	run_task_error(t, "configuration", 400, "Bad HTTP call",
		       "headers: more than %d", HTTP_HEADERS_MAX);
	return -1;
}

/* A URI template or query that cannot be built from its values: an
 * expression error 400, or configuration when the URI is too long
 * (-ENOMEM passes through). */
static int bad_value(struct run_task *t, int rc, const char *field,
		     const struct err *e)
{
	if (rc == -ENOMEM)
		return rc;
	run_task_error(t, rc == -EFBIG ? "configuration" : "expression", 400,
		       "Bad HTTP call", "%s: %s", field, e->msg);
	return -1;
}

/* ---- the URI ---- */

/* The endpoint as written: a string, or the uri of a map. */
static const struct doc *endpoint_of(const struct run_task *t)
{
	const struct doc *ep = doc_get(t->def, "taskConfig.endpoint");

	if (ep && ep->type == DOC_MAP)
		ep = doc_map_get(ep, "uri");
	return ep && ep->type == DOC_STR ? ep : NULL;
}

/* *out: the endpoint's template expanded over `.`, then evaluated. */
static int endpoint_uri(struct run *r, struct run_task *t, struct doc **out)
{
	const struct doc *ep = endpoint_of(t);
	struct buf b = BUF_INIT(HTTP_URI_MAX);
	struct doc *tpl, *v = NULL;
	struct err e = { 0 };
	int rc;

	if (!ep)
		return bad_config(t, "endpoint: a URI is required (a string, "
				  "or {uri: ...})");
	rc = http_uri_expand(ep->u.s, t->input, &b, &e);
	if (rc < 0)
		return bad_value(t, rc, "endpoint", &e);
	tpl = doc_str(b.data ? b.data : "", b.len);
	buf_release(&b);
	rc = tpl ? run_eval(r, t, tpl, &v) : -ENOMEM;
	doc_free(tpl);
	if (rc < 0)
		return rc;
	if (v->type != DOC_STR) {
		run_task_error(t, "expression", 400, "Bad HTTP call",
			       "endpoint: the expression gave a %s, not a URI",
			       doc_type_name(v->type));
		doc_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* h->uri: the endpoint's URI and the evaluated query map. */
static int build_uri(struct run *r, struct run_task *t, struct hreq *h)
{
	const struct doc *q = doc_get(t->def, "taskConfig.query");
	struct doc *uri = NULL, *qv = NULL;
	struct err e = { 0 };
	int rc = endpoint_uri(r, t, &uri);

	if (rc == 0 && q)
		rc = run_eval(r, t, q, &qv);
	if (rc == 0) {
		rc = http_uri_query(uri->u.s, qv, &h->uri, &e);
		if (rc < 0)
			rc = bad_value(t, rc, "query", &e);
	}
	doc_free(uri);
	doc_free(qv);
	h->q.url = h->uri.data ? h->uri.data : "";
	return rc;
}

/* ---- headers and body ---- */

static int add_line(struct hreq *h, const char *k, const char *v)
{
	size_t len = strlen(k) + strlen(v) + 3;

	if (h->n >= HTTP_HEADERS_MAX)
		return -E2BIG;
	h->lines[h->n] = malloc(len);
	if (!h->lines[h->n])
		return -ENOMEM;
	snprintf(h->lines[h->n++], len, "%s: %s", k, v);
	return doc_map_setstr(h->sent, k, v);
}

/* Headers as "Name: value" lines (a null value: none); *has_ct: a
 * Content-Type was given. */
static int headers(struct run_task *t, struct hreq *h, const struct doc *m,
		   bool *has_ct)
{
	const struct doc_kv *kv;
	size_t i;
	int rc = 0;

	*has_ct = false;
	if (m && m->type != DOC_MAP && m->type != DOC_NULL)
		return bad_config(t, "headers: not a map of names to values");
	for (i = 0; m && m->type == DOC_MAP && rc == 0 && i < m->n; i++) {
		kv = &m->u.kv[i];
		if (kv->val->type == DOC_NULL)
			continue;
		if (!doc_is_scalar(kv->val))
			return bad_config(t, "headers: a value is a map or a "
					  "list, not text");
		if (!strcasecmp(kv->key, "content-type"))
			*has_ct = true;
		rc = add_line(h, kv->key, kv->val->u.s);
	}
	return rc == -E2BIG ? too_many(t) : rc;
}

/* A map or list body is JSON; a string is sent as it is. */
static int body(struct run_task *t, struct hreq *h, const struct doc *b,
		bool has_ct)
{
	int rc = 0;

	if (!b || b->type == DOC_NULL)
		return 0;
	if (b->type == DOC_STR)
		rc = buf_add(&h->body, b->u.s, b->n);
	else
		rc = expr_json_dump(b, &h->body);
	if (rc == 0 && b->type != DOC_STR && !has_ct)
		rc = add_line(h, "Content-Type", "application/json");
	h->q.body = h->body.data ? h->body.data : "";
	h->q.body_len = h->body.len;
	if (rc == -EFBIG)
		return bad_config(t, "body: larger than a document may be");
	return rc == -E2BIG ? too_many(t) : rc;
}

/* Everything but the timeout: method, URI, headers, body, redirect. */
static int build(struct run *r, struct run_task *t, struct hreq *h)
{
	const struct doc *redir = doc_map_get(t->cfg, "redirect");
	bool has_ct;
	int rc;

	h->q.method = doc_get_str(t->cfg, "method");
	h->q.redirect = redir && redir->type == DOC_BOOL && redir->i;
	h->q.cancelled = stopped;
	h->q.ctx = t->sc;
	h->sent = doc_new(DOC_MAP);
	if (!h->sent)
		return -ENOMEM;
	if (!h->q.method)
		return bad_config(t, "method: required");
	rc = build_uri(r, t, h);
	if (rc == 0)
		rc = headers(t, h, doc_map_get(t->cfg, "headers"), &has_ct);
	if (rc == 0)
		rc = body(t, h, doc_map_get(t->cfg, "body"), has_ct);
	h->q.headers = (const char *const *)h->lines;
	h->q.nheaders = h->n;
	return rc;
}

/* ---- the output ---- */

static struct doc *base64_of(const struct buf *b)
{
	struct buf o = BUF_INIT(HTTP_B64_MAX);
	struct doc *v = NULL;

	if (http_base64(b->data ? b->data : "", b->len, &o) == 0)
		v = doc_str(o.data ? o.data : "", o.len);
	buf_release(&o);
	return v;
}

/* The body: parsed when the response says JSON (and it is), else its
 * text when it is UTF-8, else base64. */
static struct doc *content_of(const struct http_resp *rs)
{
	const char *data = rs->body.data ? rs->body.data : "";
	struct doc *v = NULL;

	if (http_type_is_json(doc_get_str(rs->headers, "content-type")) &&
	    expr_json_parse(data, rs->body.len, &v) == 0)
		return v;
	if (http_is_text(data, rs->body.len))
		return doc_str(data, rs->body.len);
	return base64_of(&rs->body);
}

/* {request: {method, uri, headers}, statusCode, headers, content} */
static struct doc *response_of(struct hreq *h, const struct http_resp *rs)
{
	struct doc *o = doc_new(DOC_MAP), *q = doc_new(DOC_MAP);
	int rc = o && q ? doc_map_setstr(q, "method", h->q.method) : -ENOMEM;

	if (rc == 0)
		rc = doc_map_setstr(q, "uri", h->q.url);
	if (rc == 0) {
		rc = doc_map_set(q, "headers", h->sent);
		h->sent = NULL;
	}
	if (rc == 0) {
		rc = doc_map_set(o, "request", q);
		q = NULL;
	}
	if (rc == 0)
		rc = doc_map_set(o, "statusCode", doc_int(rs->status));
	if (rc == 0)
		rc = doc_map_set(o, "headers", doc_clone(rs->headers));
	if (rc == 0)
		rc = doc_map_set(o, "content", content_of(rs));
	doc_free(q);
	if (rc < 0) {
		doc_free(o);
		return NULL;
	}
	return o;
}

static int output(struct run_task *t, struct hreq *h,
		  const struct http_resp *rs)
{
	const char *form = doc_get_str(t->cfg, "output");

	if (form && !strcmp(form, "response"))
		t->output = response_of(h, rs);
	else if (form && !strcmp(form, "raw"))
		t->output = base64_of(&rs->body);
	else
		t->output = content_of(rs);
	return t->output ? 0 : -ENOMEM;
}

/* ---- the call ---- */

/* Seconds the call may take: its timeout, within the task's and run's. */
static unsigned call_timeout(struct run *r, struct run_task *t, bool *run_cap)
{
	const struct doc *to = doc_map_get(t->cfg, "timeoutSeconds");
	int64_t s = HTTP_DEFAULT_TIMEOUT, left;
	bool is_task;

	if (!to)
		to = doc_map_get(t->cfg, "timeout_seconds");
	if (to && to->type == DOC_INT && to->i >= 1 && to->i <= 300)
		s = to->i;
	left = (run_task_deadline(r, t, &is_task) - run_now() + 999999999) /
	       1000000000;
	*run_cap = left < s;
	if (left < s)
		s = left < 1 ? 1 : left;
	return (unsigned)s;
}

static int call_failed(struct run *r, struct run_task *t, int rc,
		       bool run_cap, const struct hreq *h, const struct err *e)
{
	bool is_task;

	if (rc == -ECANCELED || rc == -ENOMEM)
		return rc;
	if (rc == -ETIMEDOUT && run_cap) {
		run_task_deadline(r, t, &is_task);
		return run_deadline_failure(r, t, is_task);
	}
	if (rc == -ETIMEDOUT)
		run_task_error(t, "timeout", 408, "HTTP request timed out",
			       "%s %s: %s", h->q.method, h->q.url, e->msg);
	else
		run_task_error(t, "communication", 500, "HTTP request failed",
			       "%s %s: %s", h->q.method, h->q.url,
			       e->msg[0] ? e->msg : strerror(-rc));
	return -1;
}

/* Any status outside 2xx fails the task, a 3xx included: with redirect
 * false it was not followed, with true it is where the redirects ended. */
static int status_failed(struct run_task *t, const struct hreq *h,
			 const struct http_resp *rs)
{
	if (rs->status >= 200 && rs->status <= 299)
		return 0;
	run_task_error(t, "communication", (int)rs->status,
		       "HTTP request failed", "%s %s answered %ld%s%s",
		       h->q.method, h->q.url, rs->status,
		       rs->reason[0] ? " " : "", rs->reason);
	return -1;
}

static int perform(struct run *r, struct run_task *t, struct hreq *h)
{
	struct http_resp rs = { 0 };
	struct err e = { 0 };
	bool run_cap;
	int rc;

	h->q.timeout_s = call_timeout(r, t, &run_cap);
	run_unlock(r);
	rc = http_call(&h->q, &rs, &e);
	run_lock(r);
	if (rc < 0)
		return call_failed(r, t, rc, run_cap, h, &e);
	rc = output(t, h, &rs);
	if (rc == 0)
		rc = status_failed(t, h, &rs);
	http_resp_release(&rs);
	return rc;
}

int run_http(struct run *r, struct run_task *t)
{
	struct hreq h = { .uri = BUF_INIT(HTTP_URI_MAX),
			  .body = BUF_INIT(PLANE_DOC_MAX) };
	size_t i;
	int rc = build(r, t, &h);

	if (rc == 0 && r->dry) {
		run_trace(r, t, "would call %s %s", h.q.method, h.q.url);
		t->output = run_dry_output("wouldCall", doc_strz(h.q.url));
		rc = t->output ? 0 : -ENOMEM;
	} else if (rc == 0) {
		rc = perform(r, t, &h);
	}
	for (i = 0; i < h.n; i++)
		free(h.lines[i]);
	doc_free(h.sent);
	buf_release(&h.uri);
	buf_release(&h.body);
	return rc;
}
