/*
 * run_task.c - one task: its config rendered (expressions), then its kind:
 * SET, WAIT, RAISE here; RUN (run_shell.c, or run_sub.c for a workflow),
 * SWITCH, FOR, FORK, TRY (run_flow.c) and HTTP_CALL (run_http.c); each
 * with its taskConfig.timeout and the run's workflow_timeout, and their
 * dry-run form: evaluate, report what would happen ("trace" events), do
 * nothing.
 */
#include "run_i.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned run_task_timeout(const struct doc *def)
{
	const struct doc *cfg = doc_map_get(def, "taskConfig");
	const struct doc *to = doc_map_get(cfg, "timeout");

	return to && to->type == DOC_INT && to->i > 0 &&
	       to->i <= RUN_TASK_TIMEOUT_MAX ? (unsigned)to->i : 0;
}

int64_t run_task_deadline(struct run *r, const struct run_task *t,
			  bool *is_task)
{
	unsigned to = run_task_timeout(t->def);
	int64_t d = t->start_ns + (int64_t)to * 1000000000;

	*is_task = to && d < r->deadline_ns;
	return *is_task ? d : r->deadline_ns;
}

void run_task_error(struct run_task *t, const char *type, int status,
		    const char *title, const char *fmt, ...)
{
	va_list ap;

	snprintf(t->err_type, sizeof(t->err_type), "%s%s", RUN_ERR_BASE,
		 type);
	snprintf(t->err_title, sizeof(t->err_title), "%s", title);
	t->err_status = status;
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
}

int run_deadline_failure(struct run *r, struct run_task *t, bool is_task)
{
	if (is_task) {
		run_task_error(t, "timeout", 408, "Task timed out", "timeout: "
			       "task exceeded its timeout of %u s",
			       run_task_timeout(t->def));
		return -1;
	}
	snprintf(t->error, sizeof(t->error), "limit workflow_timeout (%u s) "
		 "exceeded", r->p->limits.workflow_timeout);
	return run_limit(r, "%s", t->error);
}

int run_poll_ms(int64_t until_ns)
{
	int64_t left = until_ns - run_now();

	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > 60000 ? 60000 : (int)left;
}

/* Sleep until @until_ns, a stop or a cut.  Return: 0, -ECANCELED. */
static int sleep_until(struct run *r, struct run_task *t, int64_t until_ns)
{
	struct pollfd pfd[16];
	int n = run_scope_fds(t->sc, pfd, 16);

	while (!run_scope_stopped(t->sc) && run_now() < until_ns) {
		run_unlock(r);
		poll(pfd, n, run_poll_ms(until_ns));
		run_lock(r);
	}
	return run_scope_stopped(t->sc) ? -ECANCELED : 0;
}

void run_trace(struct run *r, struct run_task *t, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	run_redact_text(r, msg, msg, sizeof(msg));
	run_event_msg(r, "trace", t->path, msg);
}

struct doc *run_dry_output(const char *key, struct doc *v)
{
	struct doc *o = doc_new(DOC_MAP);

	if (!o || doc_map_set(o, "dryRun", doc_bool(true)) < 0 ||
	    doc_map_set(o, key, v) < 0) {
		doc_free(o);
		return NULL;
	}
	return o;
}

static int do_set(struct run *r, struct run_task *t)
{
	t->output = doc_clone(doc_map_get(t->cfg, "variables"));
	if (!t->output)
		return -ENOMEM;
	if (r->dry)
		run_trace(r, t, "would set the variables (nothing to execute)");
	return 0;
}

static int do_wait(struct run *r, struct run_task *t)
{
	const struct doc *sec = doc_map_get(t->cfg, "seconds");
	int64_t n = sec && sec->type == DOC_INT ? sec->i : 0;
	int64_t until = t->start_ns + n * 1000000000;
	bool is_task;
	int64_t dl;
	int rc;

	if (r->dry) {
		run_trace(r, t, "would wait %lld s", (long long)n);
		t->output = run_dry_output("wouldWait", doc_int(n));
		return t->output ? 0 : -ENOMEM;
	}
	dl = run_task_deadline(r, t, &is_task);
	rc = sleep_until(r, t, until < dl ? until : dl);
	if (rc == 0 && until > dl)
		return run_deadline_failure(r, t, is_task);
	t->output = doc_new(DOC_MAP);
	if (rc == 0 && (!t->output || doc_map_set(t->output, "seconds",
						  doc_int(n)) < 0))
		return -ENOMEM;
	return rc;
}

/* A scalar config value as text ("" when absent). */
static const char *text_of(const struct doc *cfg, const char *key)
{
	const struct doc *v = doc_map_get(cfg, key);

	return v && doc_is_scalar(v) && v->u.s ? v->u.s : "";
}

/* The status of a standard error type @name, or 0 when it is none. */
static int standard_status(const char *name)
{
	static const struct {
		const char *name;
		int status;
	} std[] = {
		{ "configuration", 400 }, { "validation", 400 },
		{ "expression", 400 }, { "authentication", 401 },
		{ "authorization", 403 }, { "timeout", 408 },
		{ "communication", 500 }, { "runtime", 500 },
	};
	size_t i;

	for (i = 0; i < sizeof(std) / sizeof(std[0]); i++)
		if (!strcmp(name, std[i].name))
			return std[i].status;
	return 0;
}

/* RAISE `error: {type, status, title, detail}` (the DSL's) or `error:
 * NAME, message: TEXT` (Stigmer's: NAME is the title, TEXT the detail; a
 * standard name becomes its type and status, any other is the type as
 * written, status 500). */
static int do_raise(struct run *r, struct run_task *t)
{
	const struct doc *err = doc_map_get(t->cfg, "error");
	const struct doc *st = doc_map_get(err, "status");
	const char *msg = text_of(t->cfg, "message"), *type;
	bool map = err && err->type == DOC_MAP;
	int std;

	type = map ? text_of(err, "type") : text_of(t->cfg, "error");
	std = map ? 0 : standard_status(type);
	t->err_status = map && st && st->type == DOC_INT ? (int)st->i :
			std ? std : 500;
	snprintf(t->err_title, sizeof(t->err_title), "%s",
		 map ? text_of(err, "title") : type);
	snprintf(t->error, sizeof(t->error), "%s",
		 !map ? msg : *text_of(err, "detail") ? text_of(err, "detail") :
		 *msg ? msg : text_of(err, "title"));
	snprintf(t->err_type, sizeof(t->err_type), "%s%s",
		 std || !*type ? RUN_ERR_BASE : "",
		 !*type ? "runtime" : type);
	if (!t->error[0])
		snprintf(t->error, sizeof(t->error), "%s", t->err_type);
	if (r->dry)
		run_trace(r, t, "would raise the error (the run fails as it "
			  "would)");
	return -1;
}

static int dry_run(struct run *r, struct run_task *t, const struct doc *cfg)
{
	char **argv = NULL, *display = NULL;
	int rc = run_shell_argv(cfg, &argv, &display);

	if (rc < 0) {
		snprintf(t->error, sizeof(t->error), "cannot build the "
			 "command");
		return -1;
	}
	run_trace(r, t, "would run: %.1000s", display);
	t->output = run_dry_output("wouldRun", doc_strz(display));
	run_argv_free(argv);
	free(display);
	return t->output ? 0 : -ENOMEM;
}

static int do_run(struct run *r, struct run_task *t)
{
	if (doc_map_get(t->cfg, "workflow"))
		return run_sub(r, t);
	if (r->dry)
		return dry_run(r, t, t->cfg);
	return run_shell(r, t, t->cfg);
}

bool run_task_spawns(const struct run *r, const struct run_task *t)
{
	return t->kind && !strcmp(t->kind, "RUN") && !r->dry &&
	       !doc_map_get(doc_map_get(t->def, "taskConfig"), "workflow");
}

bool run_kind_is_flow(const char *kind)
{
	static const char *const flow[] = { "SWITCH", "FOR", "FORK", "TRY" };
	size_t i;

	for (i = 0; kind && i < 4; i++)
		if (!strcmp(kind, flow[i]))
			return true;
	return false;
}

static const struct {
	const char *kind;
	int (*fn)(struct run *r, struct run_task *t);
} kinds[] = {
	{ "SET", do_set }, { "WAIT", do_wait }, { "RAISE", do_raise },
	{ "RUN", do_run }, { "SWITCH", run_switch }, { "FOR", run_for },
	{ "FORK", run_fork }, { "TRY", run_try }, { "HTTP_CALL", run_http },
};

int run_task_exec(struct run *r, struct run_task *t)
{
	size_t i;
	int rc;

	if (run_scope_stopped(t->sc))
		return -ECANCELED;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (t->kind && !strcmp(t->kind, kinds[i].kind))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		snprintf(t->error, sizeof(t->error), "task kind %s is not "
			 "supported", t->kind ? t->kind : "?");
		return -1;
	}
	rc = run_render_cfg(r, t);
	if (rc == 0)
		rc = kinds[i].fn(r, t);
	if (rc == -ENOMEM)
		snprintf(t->error, sizeof(t->error), "out of memory");
	return rc == -ENOMEM ? -1 : rc;
}
