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

/* arguments: a list of scalars; environment: a map of scalars. */
static int cfg_proc(struct tcheck *t, const struct doc *m, const char *what)
{
	const struct doc *a = doc_map_get(m, "arguments");
	const struct doc *env = doc_map_get(m, "environment");
	char field[48];
	size_t i;

	snprintf(field, sizeof(field), "%s.arguments", what);
	if (a && a->type != DOC_LIST)
		return tfail(t, field, "must be a list");
	for (i = 0; a && i < a->n; i++)
		if (!doc_is_scalar(a->u.items[i]))
			return tfail(t, field, "items must be strings");
	snprintf(field, sizeof(field), "%s.environment", what);
	if (env && env->type != DOC_MAP)
		return tfail(t, field, "must be a map");
	for (i = 0; env && i < env->n; i++)
		if (!doc_is_scalar(env->u.kv[i].val))
			return tfail(t, field, "values must be strings");
	return 0;
}

static int cfg_script(struct tcheck *t, const struct doc *sc)
{
	static const char *const langs[] = { "sh", "bash", "python",
					     "python3" };
	const char *l = doc_get_str(sc, "language");
	size_t i;

	for (i = 0; l && i < 4 && strcmp(l, langs[i]); i++)
		;
	if (l && i == 4)
		return tfail(t, "script.language", "must be sh, bash, python "
			     "or python3");
	if (!is_text(doc_map_get(sc, "code")))
		return tfail(t, "script.code", "required (a non-empty string)");
	return cfg_proc(t, sc, "script");
}

/* RUN: a shell command or a script (DESIGN 1.5; a sub-workflow comes
 * with the control-flow milestone). */
static int cfg_run(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *sh = doc_map_get(cfg, "shell");
	const struct doc *sc = doc_map_get(cfg, "script");

	if (doc_map_get(cfg, "workflow"))
		return tfail(t, "workflow", "RUN of a sub-workflow is not "
			     "supported yet (use shell or script)");
	if (!sh == !sc)
		return tfail(t, "", "needs exactly one of shell or script");
	if (sc)
		return sc->type == DOC_MAP ? cfg_script(t, sc) :
		       tfail(t, "script", "must be a map");
	if (sh->type != DOC_MAP || !is_text(doc_map_get(sh, "command")))
		return tfail(t, "shell.command", "required (a non-empty string)");
	return cfg_proc(t, sh, "shell");
}

/* taskConfig.timeout, any kind: whole seconds. */
static int cfg_timeout(struct tcheck *t, const struct doc *cfg)
{
	const struct doc *to = doc_map_get(cfg, "timeout");

	if (to && (to->type != DOC_INT || to->i < 1 || to->i > 86400))
		return tfail(t, "timeout", "must be whole seconds, 1 to 86400");
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

/* The checks of the kinds the runner does not run yet are kept for the
 * control-flow milestone; until then those kinds are refused. */
static const struct {
	const char *kind;
	cfg_fn fn;	/* NULL: a kind execfs does not run */
	bool runs;	/* the runner runs it now */
} task_rules[] = {
	{ "SET", cfg_set, true }, { "WAIT", cfg_wait, true },
	{ "RAISE", cfg_raise, true }, { "RUN", cfg_run, true },
	{ "HTTP_CALL", cfg_http, false }, { "SWITCH", cfg_switch, false },
	{ "FOR", cfg_for, false }, { "FORK", cfg_fork, false },
	{ "TRY", cfg_try, false },
	{ "GRPC_CALL", NULL, false }, { "CALL_ACTIVITY", NULL, false },
	{ "LISTEN", NULL, false }, { "AGENT_CALL", NULL, false },
};

static int not_supported(struct tcheck *t, const char *kind, const char *when)
{
	return err_set(t->c->e, -EBADMSG, "%s.kind: task kind %s is not "
		       "supported %s (supported: SET, RUN, WAIT, RAISE)",
		       t->path, kind, when);
}

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
		return not_supported(t, kind, "by execfs");
	if (!cfg || cfg->type != DOC_MAP)
		return tfail(t, "taskConfig", "required (a map)");
	/* A path too long for the buffer is cut: messages only get shorter. */
	snprintf(t->path + at, sizeof(t->path) - at, ".taskConfig");
	rc = task_rules[i].fn(t, cfg);
	if (rc == 0)
		rc = cfg_timeout(t, cfg);
	t->path[at] = '\0';
	if (rc == 0 && !task_rules[i].runs)
		rc = not_supported(t, kind, "yet");
	return rc;
}

/* flow.then: "end", "continue" or a task of the same list. */
static int check_then(struct tcheck *t, const struct doc *list,
		      const struct doc *task)
{
	const char *then = doc_get_str(task, "flow.then");
	size_t i;

	if (!then || !strcmp(then, "end") || !strcmp(then, "continue"))
		return 0;
	for (i = 0; i < list->n; i++)
		if (!strcmp(doc_get_str(list->u.items[i], "name") ?
			    doc_get_str(list->u.items[i], "name") : "", then))
			return 0;
	return err_set(t->c->e, -EBADMSG, "%s.flow.then: no task named "
		       "\"%.128s\" in the same list (or end, continue)",
		       t->path, then);
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
		if (rc == 0)
			rc = check_then(t, list, list->u.items[i]);
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

