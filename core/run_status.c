/*
 * run_status.c - what a run reports: its status document (phase, progress,
 * one entry per task merged in place, summary), committed to the
 * execution's record after each change; and its events, JSON Lines
 * appended to the events stream (DESIGN 1.6).
 *
 * The run owns status while it runs: each commit replaces the record's
 * status with the run's, keeping the record's audit.  Events are capped
 * (2 * log_limit + RUN_EVENTS_EXTRA): line events stop first, with one
 * "dropped" event, so the state, phase and complete events always fit.
 */
#include "run_i.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yaml.h"

static const char *const ended[] = { "COMPLETED", "FAILED", "SKIPPED",
				     "CANCELLED" };

static bool is_ended(const char *st)
{
	size_t i;

	for (i = 0; st && i < sizeof(ended) / sizeof(ended[0]); i++)
		if (!strcmp(st, ended[i]))
			return true;
	return false;
}

static int set_int(struct doc *m, const char *key, int64_t v)
{
	return doc_map_set(m, key, doc_int(v));
}

static struct doc *task_doc(const struct doc *def, const char *path)
{
	struct doc *t = doc_new(DOC_MAP);

	if (!t || doc_map_setstr(t, "id", path) < 0 ||
	    doc_map_setstr(t, "name", doc_get_str(def, "name")) < 0 ||
	    doc_map_setstr(t, "kind", doc_get_str(def, "kind")) < 0 ||
	    doc_map_setstr(t, "status", "PENDING") < 0) {
		doc_free(t);
		return NULL;
	}
	return t;
}

static int plan_list(struct run *r, struct doc *out, const struct doc *list,
		     const char *prefix, int depth);

/* The nested lists of task @def, each with its path prefix. */
static int plan_nested(struct run *r, struct doc *out, const struct doc *def,
		       const char *path, int depth)
{
	const struct doc *cfg = doc_map_get(def, "taskConfig");
	const struct doc *br = doc_map_get(cfg, "branches");
	char pre[RUN_PATH_MAX];
	size_t i;
	int rc = 0;

	run_fmt(pre, sizeof(pre), "%s/", path);
	rc = plan_list(r, out, doc_map_get(cfg, "do"), pre, depth);
	if (rc == 0)
		rc = plan_list(r, out, doc_map_get(cfg, "try"), pre, depth);
	run_fmt(pre, sizeof(pre), "%s/catch/", path);
	if (rc == 0)
		rc = plan_list(r, out, doc_get(cfg, "catch.do"), pre, depth);
	for (i = 0; rc == 0 && br && br->type == DOC_LIST && i < br->n; i++) {
		run_fmt(pre, sizeof(pre), "%s/%s/", path,
			doc_get_str(br->u.items[i], "name") ?
			doc_get_str(br->u.items[i], "name") : "?");
		rc = plan_list(r, out, doc_map_get(br->u.items[i], "do"), pre,
			       depth);
	}
	return rc;
}

/* Entries for every task of @list and what it nests, in order. */
static int plan_list(struct run *r, struct doc *out, const struct doc *list,
		     const char *prefix, int depth)
{
	struct run_plan *np;
	char path[RUN_PATH_MAX];
	const struct doc *def;
	size_t i;
	int rc = 0;

	if (!list || list->type != DOC_LIST || depth > 32)
		return 0;
	for (i = 0; rc == 0 && i < list->n; i++) {
		def = list->u.items[i];
		run_fmt(path, sizeof(path), "%s%s", prefix,
			doc_get_str(def, "name") ? doc_get_str(def, "name") :
			"?");
		np = realloc(r->plan, (r->nplan + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		r->plan = np;
		rc = doc_list_add(out, task_doc(def, path));
		if (rc == 0) {
			np[r->nplan].def = def;
			np[r->nplan].out_bytes = 0;
			np[r->nplan++].entry = out->u.items[out->n - 1];
			rc = plan_nested(r, out, def, path, depth + 1);
		}
	}
	return rc;
}

int run_status_init(struct run *r)
{
	struct doc *st = doc_clone(doc_map_get(r->exec, "status"));
	struct doc *list = doc_new(DOC_LIST);
	char now[40];
	int64_t ns;
	int rc = st && list && st->type == DOC_MAP ? 0 : -ENOMEM;

	plane_now(&ns, now, sizeof(now));
	if (rc == 0)
		rc = plan_list(r, list, r->tasks, "", 0);
	if (rc == 0)
		rc = doc_map_setstr(st, "phase", "IN_PROGRESS");
	if (rc == 0)
		rc = doc_map_set(st, "tasks", list);
	else
		doc_free(list);
	if (rc == 0)
		rc = doc_map_setstr(st, "startedAt", now);
	r->status = st;
	return rc < 0 ? rc : run_status_progress(r);
}

/* A linear scan: a task's start looks its plan up once (t->plan). */
struct run_plan *run_task_plan(struct run *r, const struct doc *def)
{
	size_t i;

	for (i = 0; i < r->nplan; i++)
		if (r->plan[i].def == def)
			return &r->plan[i];
	return NULL;
}

/* progress: top-level tasks that ended, of all top-level tasks. */
int run_status_progress(struct run *r)
{
	struct doc *list = doc_map_get(r->status, "tasks");
	struct doc *pr = doc_map_child(r->status, "progress");
	const char *id;
	int64_t done = 0, total = 0;
	size_t i;

	for (i = 0; list && i < list->n; i++) {
		id = doc_get_str(list->u.items[i], "id");
		if (id && strchr(id, '/'))
			continue;
		total++;
		done += is_ended(doc_get_str(list->u.items[i], "status"));
	}
	if (!pr || set_int(pr, "done", done) < 0)
		return -ENOMEM;
	return set_int(pr, "total", total);
}

static int task_start(struct doc *e)
{
	char now[40];
	int64_t ns;

	plane_now(&ns, now, sizeof(now));
	doc_map_del(e, "completedAt");
	doc_map_del(e, "exitCode");
	doc_map_del(e, "error");
	doc_map_del(e, "output");
	return doc_map_setstr(e, "startedAt", now);
}

/* A stand-in for an output status does not keep, saying why. */
static struct doc *summary_of(const char *why)
{
	struct doc *o = doc_new(DOC_MAP);

	if (o && (doc_map_set(o, "truncated", doc_bool(true)) < 0 ||
		  doc_map_setstr(o, "reason", why) < 0)) {
		doc_free(o);
		return NULL;
	}
	return o;
}

/* What status keeps of an output: redacted, and summarized when its JSON
 * is over RUN_TASK_OUT_MAX, or would bring the outputs kept for the
 * run's task definitions over RUN_OUTPUT_BUDGET together (status is one
 * record, rewritten often).  @slot: the definition's share, NULL for the
 * workflow's output. */
static struct doc *kept_output(struct run *r, const struct doc *out,
			       size_t *slot)
{
	struct buf b = BUF_INIT(RUN_TASK_OUT_MAX);
	int rc = json_emit(out, &b, 0);
	size_t n = b.len, had = slot ? *slot : 0;

	buf_release(&b);
	if (rc < 0)
		n = 0;
	if (slot) {
		r->out_used -= had;
		*slot = rc == 0 && r->out_used + n <= RUN_OUTPUT_BUDGET ? n : 0;
		r->out_used += *slot;
	}
	if (rc < 0)
		return summary_of("output larger than 256 KiB as JSON");
	if (slot && !*slot && n)
		return summary_of("the outputs kept in status would pass "
				  "4 MiB together");
	return run_redacted(r, out);
}

static int task_end(struct run *r, struct doc *e, struct run_task *t)
{
	struct run_plan *pl;
	char now[40];
	int64_t ns;
	int rc;

	plane_now(&ns, now, sizeof(now));
	rc = doc_map_setstr(e, "completedAt", now);
	if (rc == 0 && t->has_exit)
		rc = set_int(e, "exitCode", t->exit_code);
	if (rc == 0 && t->attempts)
		rc = set_int(e, "attempts", (int)t->attempts);
	if (rc == 0 && t->error[0]) {
		run_redact_text(r, t->error, t->error, sizeof(t->error));
		rc = doc_map_setstr(e, "error", t->error);
	}
	pl = t->plan;
	if (rc == 0 && t->output && pl)
		rc = doc_map_set(e, "output", kept_output(r, t->output,
							  &pl->out_bytes));
	return rc;
}

int run_task_set(struct run *r, struct run_task *t, const char *status)
{
	struct doc *e = t->st;
	int rc;

	if (!e)
		return -ENOENT;
	rc = doc_map_setstr(e, "status", status);
	if (rc == 0 && !strcmp(status, "IN_PROGRESS"))
		rc = task_start(e);
	else if (rc == 0)
		rc = task_end(r, e, t);
	return rc < 0 ? rc : run_status_progress(r);
}

/* Tasks that never started are SKIPPED when the run ends. */
static void skip_pending(struct run *r)
{
	struct doc *list = doc_map_get(r->status, "tasks");
	const char *st;
	size_t i;

	for (i = 0; list && i < list->n; i++) {
		st = doc_get_str(list->u.items[i], "status");
		if (st && !strcmp(st, "PENDING"))
			doc_map_setstr(list->u.items[i], "status", "SKIPPED");
	}
}

void run_status_interrupt(struct run *r, const char *msg)
{
	struct doc *list = doc_map_get(r->status, "tasks");
	struct doc *e;
	const char *st;
	size_t i;

	for (i = 0; list && i < list->n; i++) {
		e = list->u.items[i];
		st = doc_get_str(e, "status");
		if (st && !strcmp(st, "IN_PROGRESS")) {
			doc_map_setstr(e, "status", "FAILED");
			doc_map_setstr(e, "error", msg);
		}
	}
}

int run_set_phase(struct run *r, const char *phase)
{
	char now[40];
	int64_t ns;
	int rc;

	plane_now(&ns, now, sizeof(now));
	skip_pending(r);
	rc = doc_map_setstr(r->status, "phase", phase);
	if (rc == 0)
		rc = doc_map_setstr(r->status, "completedAt", now);
	if (rc == 0 && r->error[0]) {
		run_redact_text(r, r->error, r->error, sizeof(r->error));
		rc = doc_map_setstr(r->status, "error", r->error);
	}
	if (rc == 0 && r->output)
		rc = doc_map_set(r->status, "output", kept_output(r,
							r->output, NULL));
	return rc < 0 ? rc : run_status_progress(r);
}

static void count(const struct doc *list, int64_t n[4])
{
	const char *st;
	size_t i, k;

	for (i = 0; list && i < list->n; i++) {
		st = doc_get_str(list->u.items[i], "status");
		for (k = 0; st && k < 4; k++)
			n[k] += !strcmp(st, ended[k]);
	}
}

int run_summary(struct run *r, int64_t end_ns)
{
	static const char *const keys[] = { "completed", "failed", "skipped",
					    "cancelled" };
	const struct doc *list = doc_map_get(r->status, "tasks");
	struct doc *s = doc_new(DOC_MAP);
	int64_t n[4] = { 0 }, all = 0;
	size_t k;
	int rc = s ? 0 : -ENOMEM;

	/* A task in a loop runs more than once: the larger of the runs
	 * counted and the entries (a recovered run counted none). */
	count(list, n);
	for (k = 0; k < 4; k++) {
		n[k] = n[k] > r->counts[k] ? n[k] : r->counts[k];
		all += n[k];
	}
	if (rc == 0 && r->start_ns)
		rc = set_int(s, "durationMs", (end_ns - r->start_ns) / 1000000);
	if (rc == 0)
		rc = set_int(s, "exitCode", r->exit_code);
	if (rc == 0)
		rc = set_int(s, "total", list && (int64_t)list->n > all ?
				       (int64_t)list->n : all);
	for (k = 0; rc == 0 && k < 4; k++)
		rc = set_int(s, keys[k], n[k]);
	if (rc == 0 && r->dry)
		rc = doc_map_set(s, "dryRun", doc_bool(true));
	if (rc < 0) {
		doc_free(s);
		return rc;
	}
	return doc_map_set(r->status, "summary", s);
}

/* ---- events ---------------------------------------------------------- */

static void ev_head_at(struct buf *b, struct run *r, const char *type,
		       int64_t ns)
{
	char now[96];

	plane_fmt_time(ns, now, sizeof(now));
	buf_addf(b, "{\"type\":\"%s\",\"executionId\":\"%s\","
		 "\"timestamp\":\"%s\"", type, r->id, now);
}

static void ev_head(struct buf *b, struct run *r, const char *type)
{
	int64_t ns;

	plane_now(&ns, NULL, 0);
	ev_head_at(b, r, type, ns);
}

static void ev_str(struct buf *b, const char *key, const char *v, size_t n)
{
	buf_addf(b, ",\"%s\":", key);
	json_quote(b, v, n);
}

static void ev_put(struct run *r, struct buf *b);

/* "task": its path, and inside a FOR the innermost "iteration". */
static void ev_task(struct buf *b, const struct run_task *t)
{
	ev_str(b, "task", t->path, strlen(t->path));
	if (t->sc && t->sc->iteration >= 0)
		buf_addf(b, ",\"iteration\":%ld", t->sc->iteration);
	if (t->attempt)
		buf_addf(b, ",\"attempt\":%u", t->attempt);
}

/* The marker that output of @stream is being dropped from now on. */
static void ev_dropped(struct run *r, const char *stream, const char *msg)
{
	struct buf b = BUF_INIT(4096);

	ev_head(&b, r, "dropped");
	ev_str(&b, "stream", stream, strlen(stream));
	ev_str(&b, "message", msg, strlen(msg));
	ev_put(r, &b);
	buf_release(&b);
}

/* Append a finished event (not a line event: those come in batches). */
static void ev_put(struct run *r, struct buf *b)
{
	if (buf_addstr(b, "}\n") < 0 || !r->events)
		return;
	sink_append(r->events, b->data, b->len);
}

void run_event_state(struct run *r, const char *phase)
{
	struct buf b = BUF_INIT(4096);

	ev_head(&b, r, "state");
	ev_str(&b, "phase", phase, strlen(phase));
	ev_put(r, &b);
	buf_release(&b);
}

void run_event_task(struct run *r, const struct run_task *t,
		    const char *status)
{
	const struct doc *pr = doc_map_get(r->status, "progress");
	struct buf b = BUF_INIT(8192);

	ev_head(&b, r, "phase");
	ev_task(&b, t);
	ev_str(&b, "status", status, strlen(status));
	buf_addf(&b, ",\"progress\":%s,\"total\":%s",
		 doc_get_str(pr, "done"), doc_get_str(pr, "total"));
	if (t->has_exit && strcmp(status, "IN_PROGRESS"))
		buf_addf(&b, ",\"exitCode\":%d", t->exit_code);
	if (t->error[0] && strcmp(status, "IN_PROGRESS"))
		ev_str(&b, "error", t->error, strlen(t->error));
	ev_put(r, &b);
	buf_release(&b);
}

void run_lines_init(struct run_lines *b, size_t log_cap)
{
	memset(b, 0, sizeof(*b));
	buf_init(&b->log, log_cap);
	buf_init(&b->heads, 4 * RUN_HEAD_MAX);
}

void run_lines_release(struct run_lines *b)
{
	buf_release(&b->log);
	buf_release(&b->heads);
	free(b->l);
	free(b->ev);
	b->l = NULL;
	b->ev = NULL;
	b->n = b->cap = 0;
}

/* Room for one more line event.  Return: 0; -EFBIG (the batch is full);
 * -ENOMEM. */
static int lines_room(struct run_lines *b)
{
	size_t cap = b->cap ? 2 * b->cap : 64;
	struct run_line *l;
	struct evc_line *ev;

	if (b->n < b->cap)
		return 0;
	if (b->cap == RUN_BATCH_LINES)
		return -EFBIG;
	l = realloc(b->l, cap * sizeof(*l));
	if (l)
		b->l = l;
	ev = l ? realloc(b->ev, cap * sizeof(*ev)) : NULL;
	if (!ev)
		return -ENOMEM;
	b->ev = ev;
	b->cap = cap;
	return 0;
}

/* The head of the next line's event: the last one, unless the batch is
 * new or its stream, task or millisecond differs (so an event's time is
 * that of the read that brought its line, to the millisecond).
 * Return: 0; -EFBIG (no room). */
static int line_head(struct run *r, struct run_lines *b,
		     const struct run_task *t, const char *stream)
{
	size_t at = b->heads.len;
	int64_t ns;

	plane_now(&ns, NULL, 0);
	if (b->n && b->head_stream == stream && b->head_task == t &&
	    b->head_ms == ns / 1000000)
		return 0;
	ev_head_at(&b->heads, r, "line", ns);
	ev_task(&b->heads, t);
	ev_str(&b->heads, "stream", stream, strlen(stream));
	if (buf_addstr(&b->heads, ",\"text\":") < 0 ||
	    b->heads.len - at > RUN_HEAD_MAX) {
		buf_truncate(&b->heads, at);	/* never a head cut short */
		return -EFBIG;
	}
	b->head_at = at;
	b->head_ms = ns / 1000000;
	b->head_stream = stream;
	b->head_task = t;
	return 0;
}

/* Add @text (@n bytes) to the log batch, with a newline after it unless
 * it is a run (@lines), and its event (a run of events) with the head
 * made last.  Return: 0; -EFBIG, -ENOMEM (nothing added). */
static int add_one(struct run *r, struct run_lines *b, const char *text,
		   size_t n, size_t lines, size_t qx)
{
	size_t log0 = b->log.len;
	bool ev = r->events && !r->events_full;
	struct run_line *l;
	int rc = ev ? lines_room(b) : 0;

	if (rc)
		return rc;
	if (buf_add(&b->log, text, n) < 0 ||
	    (!lines && buf_addc(&b->log, '\n') < 0)) {
		buf_truncate(&b->log, log0);
		return -EFBIG;
	}
	if (!ev)
		return 0;
	l = &b->l[b->n++];
	l->text_at = log0;
	l->len = lines || n < RUN_LINE_MAX ? n : RUN_LINE_MAX;
	l->lines = lines;
	l->qx = qx;
	l->head_at = b->head_at;
	l->hlen = b->heads.len - b->head_at;
	b->ev_bytes += evc_line_size(&(struct evc_line){
	    NULL, NULL, l->hlen, l->len, l->qx, lines, 0});
	return 0;
}

/* The newlines in @p (@n bytes). */
static size_t count_lines(const char *p, size_t n)
{
	const char *end = p + n, *nl;
	size_t k = 0;

	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1)
		k++;
	return k;
}

/* As add_one(), a run whose events pass EVC_RUN_MAX cut in two at a line
 * near its middle, again until each fits (the coder refers to the log
 * only for such runs).  May add part of it on failure: add() undoes. */
static int add_split(struct run *r, struct run_lines *b, const char *text,
		     size_t n, size_t lines)
{
	size_t len = lines || n < RUN_LINE_MAX ? n : RUN_LINE_MAX, qx;
	struct evc_line l;
	const char *mid;
	size_t first;
	int rc;

	if (!r->events || r->events_full)
		return add_one(r, b, text, n, lines, 0);
	/* a run quoted whole: its newlines are 2 bytes each, its quotes 2 */
	qx = json_quoted_len(text, len) - 2 - len - lines;
	l = (struct evc_line){NULL, NULL, b->heads.len - b->head_at, len, qx,
			      lines, 0};
	if (lines < 2 || evc_line_size(&l) <= EVC_RUN_MAX)
		return add_one(r, b, text, n, lines, qx);
	mid = memchr(text + n / 2, '\n', n - n / 2);
	if (!mid || mid == text + n - 1)
		mid = memrchr(text, '\n', n / 2);
	first = (size_t)(mid - text) + 1;	/* lines >= 2: mid is one */
	lines -= count_lines(text, first);
	rc = add_split(r, b, text, first, count_lines(text, first));
	return rc ? rc : add_split(r, b, text + first, n - first, lines);
}

static int add(struct run *r, struct run_lines *b, const struct run_task *t,
	       const char *stream, const char *text, size_t n, size_t lines)
{
	size_t log0 = b->log.len, n0 = b->n;
	uint64_t ev0 = b->ev_bytes;
	int rc = r->events && !r->events_full ? line_head(r, b, t, stream) : 0;

	if (!rc)
		rc = add_split(r, b, text, n, lines);
	if (rc) {
		buf_truncate(&b->log, log0);
		b->n = n0;
		b->ev_bytes = ev0;
	}
	return rc;
}

int run_lines_add(struct run *r, struct run_lines *b,
		  const struct run_task *t, const char *stream,
		  const char *text, size_t n)
{
	return add(r, b, t, stream, text, n, 0);
}

int run_lines_add_run(struct run *r, struct run_lines *b,
		      const struct run_task *t, const char *stream,
		      const char *text, size_t n, size_t lines)
{
	return lines ? add(r, b, t, stream, text, n, lines) : 0;
}

/* The batch's events as sent: the log landed from @at on, for @landed
 * bytes; a line whose text is not in it is sent with its text. */
static void lines_landed(struct run_lines *b, uint64_t at, uint64_t landed)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct run_line *l = &b->l[i];

		b->ev[i] = (struct evc_line){
		    b->heads.data + l->head_at, b->log.data + l->text_at,
		    l->hlen, l->len, l->qx, l->lines,
		    l->text_at + l->len > landed ? EVC_NO_LOG
						  : at + l->text_at};
	}
}

static void events_lines(struct run *r, struct run_lines *b)
{
	if (!b->n || !r->events || r->events_full)
		return;
	if (sink_room(r->events) >= RUN_EVENTS_EXTRA + b->ev_bytes &&
	    sink_append_lines(r->events, b->ev, b->n) == 0)
		return;
	r->events_full = true;
	ev_dropped(r, "events", "the events cap was reached: later line "
		   "events are not kept");
}

void run_lines_send(struct run *r, struct run_lines *b)
{
	uint64_t at = r->log ? sink_size(r->log) : 0;
	uint64_t landed;

	run_log(r, b->log.data, b->log.len);
	landed = r->log ? sink_size(r->log) - at : 0;
	lines_landed(b, at, landed);
	events_lines(r, b);
	buf_reset(&b->log);
	buf_reset(&b->heads);
	b->n = 0;
	b->ev_bytes = 0;
}

void run_event_msg(struct run *r, const char *type, const char *task,
		   const char *message)
{
	struct buf b = BUF_INIT(8192);

	ev_head(&b, r, type);
	if (task)
		ev_str(&b, "task", task, strlen(task));
	ev_str(&b, "message", message, strlen(message));
	ev_put(r, &b);
	buf_release(&b);
}

void run_event_complete(struct run *r)
{
	struct buf b = BUF_INIT(16384);
	struct buf sum = BUF_INIT(8192);

	ev_head(&b, r, "complete");
	ev_str(&b, "phase", r->phase, strlen(r->phase));
	if (json_emit(doc_map_get(r->status, "summary"), &sum, 0) == 0 &&
	    sum.len) {
		buf_addstr(&b, ",\"summary\":");
		buf_add(&b, sum.data, sum.len);
	}
	ev_str(&b, "error", r->error, strlen(r->error));
	if (r->dry)
		ev_str(&b, "message", "dry run: nothing was executed", 29);
	ev_put(r, &b);
	buf_release(&b);
	buf_release(&sum);
}

/* ---- log and warnings ------------------------------------------------ */

/* The length of the longest run of whole lines of @data within @room. */
static size_t whole_lines(const char *data, size_t n, uint64_t room)
{
	size_t len = n < room ? n : (size_t)room;

	while (len && data[len - 1] != '\n')
		len--;
	return len;
}

void run_log(struct run *r, const char *data, size_t n)
{
	char msg[160];
	size_t fit;

	if (r->log_full || !r->log || !n)
		return;
	if (sink_append(r->log, data, n) == 0)
		return;
	fit = whole_lines(data, n, sink_room(r->log));
	if (fit)
		sink_append(r->log, data, fit);
	r->log_full = true;
	snprintf(msg, sizeof(msg), "log_limit (%llu bytes) reached: later "
		 "output is not kept",
		 (unsigned long long)r->p->limits.log_limit);
	ev_dropped(r, "log", msg);
}

void run_warn(struct run *r, const char *fmt, ...)
{
	char msg[512], now[40], line[1200];
	va_list ap;
	int64_t ns;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	run_event_msg(r, "warning", NULL, msg);
	plane_now(&ns, now, sizeof(now));
	snprintf(line, sizeof(line), "%s workflowexecutions/%s: warning: %s",
		 now, r->slug, msg);
	errlog_add(r->p->errs, r->who.uid, line);
	fprintf(stderr, "execfs: %s\n", line);
}
