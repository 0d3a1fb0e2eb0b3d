/*
 * run_http.c - HTTP_CALL: the rendered method, endpoint, headers and body
 * go to http_call() with the run's lock let go; the response (status,
 * headers, body parsed as JSON when it is JSON) is the task's output, and
 * a status of 400 or more fails the task.
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define HTTP_DEFAULT_TIMEOUT 30

struct hreq {
	struct http_req q;
	char *lines[HTTP_HEADERS_MAX + 1];
	size_t n;
	struct buf body;
};

static bool stopped(void *ctx)
{
	return run_scope_stopped(ctx);
}

static int add_line(struct hreq *h, const char *k, const char *v)
{
	size_t len = strlen(k) + strlen(v) + 3;

	if (h->n >= HTTP_HEADERS_MAX)
		return -E2BIG;
	h->lines[h->n] = malloc(len);
	if (!h->lines[h->n])
		return -ENOMEM;
	snprintf(h->lines[h->n++], len, "%s: %s", k, v);
	return 0;
}

/* Headers as "Name: value" lines; *has_ct: a Content-Type was given. */
static int headers(struct hreq *h, const struct doc *m, bool *has_ct)
{
	size_t i;
	int rc = 0;

	*has_ct = false;
	for (i = 0; m && m->type == DOC_MAP && rc == 0 && i < m->n; i++) {
		if (!strcasecmp(m->u.kv[i].key, "content-type"))
			*has_ct = true;
		rc = add_line(h, m->u.kv[i].key, doc_is_scalar(m->u.kv[i].val) &&
			      m->u.kv[i].val->u.s ? m->u.kv[i].val->u.s : "");
	}
	return rc;
}

/* A map or list body is JSON; a string is sent as it is. */
static int body(struct hreq *h, const struct doc *b, bool has_ct)
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
	return rc;
}

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

/* The output: {status, headers, body}. */
static int response(struct run_task *t, struct http_resp *rs)
{
	struct doc *o = doc_new(DOC_MAP), *b = NULL;
	const char *data = rs->body.data ? rs->body.data : "";

	if (expr_json_parse(data, rs->body.len, &b) < 0)
		b = doc_str(data, rs->body.len);
	if (!o || !b || doc_map_set(o, "status", doc_int(rs->status)) < 0 ||
	    doc_map_set(o, "headers", rs->headers ? doc_clone(rs->headers) :
			doc_new(DOC_MAP)) < 0 ||
	    doc_map_set(o, "body", b) < 0) {
		if (!o)
			doc_free(b);
		doc_free(o);
		return -ENOMEM;
	}
	t->output = o;
	return 0;
}

static int call_failed(struct run *r, struct run_task *t, int rc,
		       bool run_cap, const struct err *e)
{
	if (rc == -ECANCELED)
		return rc;
	if (rc == -ETIMEDOUT && run_cap) {
		bool is_task;

		run_task_deadline(r, t, &is_task);
		return run_deadline_failure(r, t, is_task);
	}
	run_fmt(t->error, sizeof(t->error), "HTTP call failed: %s",
		e->msg[0] ? e->msg : strerror(-rc));
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
	if (rc < 0) {
		http_resp_release(&rs);
		return call_failed(r, t, rc, run_cap, &e);
	}
	rc = response(t, &rs);
	if (rc == 0 && rs.status >= 400) {
		t->err_status = (int)rs.status;
		run_fmt(t->error, sizeof(t->error), "HTTP status %ld from %s",
			rs.status, h->q.url);
		rc = -1;
	}
	http_resp_release(&rs);
	return rc;
}

int run_http(struct run *r, struct run_task *t)
{
	struct hreq h = { .body = BUF_INIT(PLANE_DOC_MAX) };
	bool has_ct;
	size_t i;
	int rc;

	h.q.method = doc_get_str(t->cfg, "method");
	h.q.url = doc_get_str(t->cfg, "endpoint.uri");
	h.q.cancelled = stopped;
	h.q.ctx = t->sc;
	rc = h.q.method && h.q.url ? 0 : -EINVAL;
	if (rc == 0)
		rc = headers(&h, doc_map_get(t->cfg, "headers"), &has_ct);
	if (rc == 0)
		rc = body(&h, doc_map_get(t->cfg, "body"), has_ct);
	h.q.headers = (const char *const *)h.lines;
	h.q.nheaders = h.n;
	if (rc < 0 && rc != -ENOMEM) {
		snprintf(t->error, sizeof(t->error), "cannot build the request "
			 "(%s)", rc == -E2BIG ? "too many headers" :
			 "no method or endpoint, or the body is too large");
		rc = -1;
	} else if (rc == 0 && r->dry) {
		run_trace(r, t, "would call %s %s", h.q.method, h.q.url);
		t->output = run_dry_output("wouldCall", doc_strz(h.q.url));
		rc = t->output ? 0 : -ENOMEM;
	} else if (rc == 0) {
		rc = perform(r, t, &h);
	}
	for (i = 0; i < h.n; i++)
		free(h.lines[i]);
	buf_release(&h.body);
	return rc;
}
