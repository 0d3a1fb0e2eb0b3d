/*
 * steps_tasks.c - ValidateWorkflowSpec: what the runner needs of each
 * task kind's config, checked when a Workflow is written.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * The task configs are free-form maps (google.protobuf.Struct), so the
 * schema only checks that they are maps (and the model refuses top-level
 * kinds the runner does not run).  This step checks what the runner needs
 * of each kind's config, after Stigmer's task config messages, and applies
 * the same kind rule to nested task lists (FOR, FORK, TRY), whose tasks
 * are written like the top-level ones, keys in either spelling.
 */
#define TASK_DEPTH_MAX 8

struct tcheck {
	struct pctx *c;
	char path[512];		/* of the task config being checked */
	int depth;
};

typedef int (*cfg_fn)(struct tcheck *t, const struct doc *cfg);

static int tfail(struct tcheck *t, const char *field, const char *what)
{
	return err_set(t->c->e, -EBADMSG, "%s%s%s: %s", t->path,
		       field[0] ? "." : "", field, what);
}

/* A key of a free-form map under either spelling. */
static const struct doc *cfg_get(const struct doc *m, const char *camel,
				 const char *snake)
{
	const struct doc *v = doc_map_get(m, camel);

	return v ? v : doc_map_get(m, snake);
}

static bool is_text(const struct doc *v)
{
	return v && v->type == DOC_STR && v->n > 0;
}

static int need_text(struct tcheck *t, const struct doc *cfg, const char *k)
{
	return is_text(doc_map_get(cfg, k)) ? 0 :
	       tfail(t, k, "required (a non-empty string)");
}

static int check_tasks(struct tcheck *t, const struct doc *list,
		       const char *field, size_t min);

static int cfg_set(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *v = doc_map_get(cfg, "variables");

	return v && v->type == DOC_MAP ? 0 :
	       tfail(t, "variables", "required (a map)");
}

static int cfg_wait(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *v = doc_map_get(cfg, "seconds");

	return v && v->type == DOC_INT && v->i >= 1 && v->i <= INT32_MAX ? 0 :
	       tfail(t, "seconds", "required (a whole number, at least 1)");
}

static int cfg_raise(struct tcheck *t, const struct doc *cfg)
{
	int rc = need_text(t, cfg, "error");

	return rc ? rc : need_text(t, cfg, "message");
}

static int cfg_http(struct tcheck *t, const struct doc *cfg)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE",
					       "PATCH" };
	const char *m = doc_get_str(cfg, "method");
	const struct doc *to = cfg_get(cfg, "timeoutSeconds",
				       "timeout_seconds");
	size_t i;

	for (i = 0; m && i < 5 && strcmp(m, methods[i]); i++)
		;
	if (!m || i == 5)
		return tfail(t, "method", "must be GET, POST, PUT, DELETE or "
			     "PATCH");
	if (!is_text(doc_get(cfg, "endpoint.uri")))
		return tfail(t, "endpoint.uri", "required (a non-empty string)");
	if (to && (to->type != DOC_INT || to->i < 1 || to->i > 300))
		return tfail(t, "timeoutSeconds", "must be 1 to 300");
	return 0;
}

/* RUN: a shell command, a script, or a sub-workflow (DESIGN 1.5). */
static int cfg_run(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *sh = doc_map_get(cfg, "shell");

	if (!sh && !doc_map_get(cfg, "script") &&
	    !doc_map_get(cfg, "workflow"))
		return tfail(t, "", "needs shell, script or workflow");
	if (sh && !is_text(doc_map_get(sh, "command")))
		return tfail(t, "shell.command", "required (a non-empty string)");
	return 0;
}

static int cfg_switch(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *cases = doc_map_get(cfg, "cases");
	size_t i;

	if (!cases || cases->type != DOC_LIST || cases->n == 0)
		return tfail(t, "cases", "required (a list of at least 1)");
	for (i = 0; i < cases->n; i++)
		if (!is_text(doc_map_get(cases->u.items[i], "then")))
			return err_set(t->c->e, -EBADMSG, "%s.cases[%zu].then: "
				       "required (a non-empty string)",
				       t->path, i);
	return 0;
}

static int cfg_for(struct tcheck *t, const struct doc *cfg)
{
	int rc = need_text(t, cfg, "each");

	if (rc == 0)
		rc = need_text(t, cfg, "in");
	return rc ? rc : check_tasks(t, doc_map_get(cfg, "do"), "do", 1);
}

static int cfg_fork(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *br = doc_map_get(cfg, "branches");
	char field[64];
	size_t i;
	int rc = 0;

	if (!br || br->type != DOC_LIST || br->n < 2)
		return tfail(t, "branches", "required (a list of at least 2)");
	for (i = 0; rc == 0 && i < br->n; i++) {
		snprintf(field, sizeof(field), "branches[%zu].do", i);
		rc = check_tasks(t, doc_map_get(br->u.items[i], "do"), field, 1);
	}
	return rc;
}

static int cfg_try(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *katch = doc_map_get(cfg, "catch");
	int rc = check_tasks(t, doc_map_get(cfg, "try"), "try", 1);

	if (rc == 0 && katch && katch->type != DOC_MAP)
		return tfail(t, "catch", "must be a map");
	if (rc == 0 && doc_map_get(katch, "do"))
		rc = check_tasks(t, doc_map_get(katch, "do"), "catch.do", 1);
	return rc;
}

static const struct {
	const char *kind;
	cfg_fn fn;	/* NULL: a kind the runner does not run */
} task_rules[] = {
	{ "SET", cfg_set }, { "HTTP_CALL", cfg_http }, { "SWITCH", cfg_switch },
	{ "FOR", cfg_for }, { "FORK", cfg_fork }, { "TRY", cfg_try },
	{ "WAIT", cfg_wait }, { "RAISE", cfg_raise }, { "RUN", cfg_run },
	{ "GRPC_CALL", NULL }, { "CALL_ACTIVITY", NULL }, { "LISTEN", NULL },
	{ "AGENT_CALL", NULL },
};

/* The short kind name of task @task (normalized, or as written). */
static const char *task_kind(const struct doc *task)
{
	const char *k = doc_get_str(task, "kind");
	int32_t n;

	if (!k || schema_enum_parse(&model_task_kind, k, &n) < 0)
		return NULL;
	return schema_enum_name(&model_task_kind, n);
}

/* Check task @task, whose path is t->path; its config follows. */
static int check_task(struct tcheck *t, const struct doc *task)
{
	const char *kind = task_kind(task);
	const struct doc *cfg = cfg_get(task, "taskConfig", "task_config");
	size_t at = strlen(t->path), i;
	int rc;

	if (!is_text(doc_map_get(task, "name")))
		return tfail(t, "name", "required (a non-empty string)");
	if (!kind || !strcmp(kind, "UNSPECIFIED"))
		return tfail(t, "kind", "required (a task kind)");
	for (i = 0; i < sizeof(task_rules) / sizeof(task_rules[0]); i++)
		if (!strcmp(kind, task_rules[i].kind))
			break;
	if (i == sizeof(task_rules) / sizeof(task_rules[0]) ||
	    !task_rules[i].fn)
		return err_set(t->c->e, -EBADMSG, "%s.kind: task kind %s is "
			       "not supported by execfs (supported: SET, RUN, "
			       "WAIT, RAISE, SWITCH, FOR, FORK, TRY, HTTP_CALL)",
			       t->path, kind);
	if (!cfg || cfg->type != DOC_MAP)
		return tfail(t, "taskConfig", "required (a map)");
	/* A path too long for the buffer is cut: messages only get shorter. */
	snprintf(t->path + at, sizeof(t->path) - at, ".taskConfig");
	rc = task_rules[i].fn(t, cfg);
	t->path[at] = '\0';
	return rc;
}

/* Check the list of tasks under @field of the current config. */
static int check_tasks(struct tcheck *t, const struct doc *list,
		       const char *field, size_t min)
{
	size_t at = strlen(t->path), i;
	int rc = 0;

	if (!list || list->type != DOC_LIST || list->n < min)
		return tfail(t, field, "required (a list of tasks)");
	if (++t->depth > TASK_DEPTH_MAX)
		return tfail(t, field, "tasks nested too deep");
	for (i = 0; rc == 0 && i < list->n; i++) {
		snprintf(t->path + at, sizeof(t->path) - at, "%s%s[%zu]",
			 at ? "." : "", field, i);
		rc = check_task(t, list->u.items[i]);
	}
	t->path[at] = '\0';
	t->depth--;
	return rc;
}

/* Workflow: ValidateWorkflowSpec. */
int wf_validate_tasks(struct pctx *c)
{
	struct tcheck t = { .c = c };

	memcpy(t.path, "spec", 5);
	return check_tasks(&t, doc_get(c->res, "spec.tasks"), "tasks", 1);
}

