/*
 * steps_tasks.c - ValidateWorkflowSpec: what the runner needs of every
 * task of a Workflow, at every level of the task tree, checked when the
 * Workflow is written; nested tasks are then stored in the top-level form.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr.h"

/*
 * The task configs are free-form maps (google.protobuf.Struct), so the
 * schema only checks that they are maps, and the task lists nested in FOR,
 * FORK and TRY configs are free-form too.  This step walks the whole tree.
 * Each nested task first goes through the schema's own WorkflowTask
 * message, in place in c->res: `task_config`, `WORKFLOW_TASK_KIND_SET`, a
 * kind given as a number all end up as the top-level tasks hold them
 * (name, kind short, taskConfig, export, flow), so the runner reads one
 * form and unknown keys fail as they do at the top.  Then the kind's config
 * is checked after Stigmer's task config messages, the names and jump
 * targets, and every expression is collected with the variables in scope
 * there (steps_expr.c) to be compiled once at the end.  The rewriting
 * only shows when every check passes: a failed write drops c->res.
 */
#define TASK_DEPTH_MAX 8	/* nested task lists, the top level counting */
#define TASK_LIST_MAX 1000	/* tasks in one list, as the schema caps the
				   top level (names are compared pairwise) */
#define BRANCH_NAME_MAX 128	/* characters, as for task names */
#define FIELD_MAX 128		/* a config field's path, bytes (a longer
				   one is cut in the message) */

struct tcheck {
	struct pctx *c;
	struct texprs *x;
	const struct schema_msg *task_msg;	/* WorkflowTask */
	struct doc *list;	/* the list of the task being checked */
	char path[512];		/* of the task or config being checked */
	int depth;
};

typedef int (*cfg_fn)(struct tcheck *t, struct doc *cfg);

static int tfail(struct tcheck *t, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int tfail(struct tcheck *t, const char *field, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(t->c->e, -EBADMSG, "%s%s%s: %s", t->path,
		       field[0] ? "." : "", field, what);
}

/* A key of a free-form map under either spelling. */
static struct doc *cfg_get(const struct doc *m, const char *camel,
			   const char *snake)
{
	struct doc *v = doc_map_get(m, camel);

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

/* Collect the template(s) of config field @field (steps_expr.c). */
static int tx(struct tcheck *t, const char *field, const struct doc *v,
	      bool deep)
{
	char path[TEXPR_PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s.%s", t->path, field);

	/* A path too long for the buffer is cut: messages only get shorter. */
	if (n < 0)
		return -EINVAL;
	return texpr_add(t->x, v, path, deep, t->c->e);
}

static int check_list(struct tcheck *t, struct doc *list, const char *field,
		      size_t min);

/* ---- names and jump targets ----------------------------------------- */

/* Task and branch names: status ids and events are paths of names joined
 * by '/', so a name must not hold one. */
static int name_ok(struct tcheck *t, const char *field, const struct doc *v)
{
	if (!is_text(v))
		return tfail(t, field, "required (a non-empty string)");
	if (strlen(v->u.s) != v->n)
		return tfail(t, field, "must not hold a NUL byte");
	if (memchr(v->u.s, '/', v->n))
		return tfail(t, field, "must not hold '/' (task paths use it)");
	if (schema_utf8_chars(v->u.s, v->n) > BRANCH_NAME_MAX)
		return tfail(t, field, "longer than %d characters",
			     BRANCH_NAME_MAX);
	return 0;
}

/* Whether item @i of @l has the same "name" as an item before it. */
static bool name_seen(const struct doc *l, size_t i)
{
	const struct doc *a = doc_map_get(l->u.items[i], "name"), *b;
	size_t j;

	for (j = 0; a && a->type == DOC_STR && j < i; j++) {
		b = doc_map_get(l->u.items[j], "name");
		if (b && b->type == DOC_STR && b->n == a->n &&
		    !memcmp(a->u.s, b->u.s, a->n))
			return true;
	}
	return false;
}

static bool in_list(const struct doc *list, const char *name)
{
	const char *n;
	size_t i;

	for (i = 0; list && i < list->n; i++) {
		n = doc_get_str(list->u.items[i], "name");
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

/* flow.then and a SWITCH case's then: "end", "continue" or the name of a
 * task of the list that holds the task (jumping back is a bounded loop). */
static int check_target(struct tcheck *t, const char *field,
			const char *then)
{
	if (!then || !strcmp(then, "end") || !strcmp(then, "continue") ||
	    in_list(t->list, then))
		return 0;
	return tfail(t, field, "no task named \"%.128s\" in the same list (or "
		     "end, continue)", then);
}

/* ---- leaf kinds ----------------------------------------------------- */

static int cfg_set(struct tcheck *t, struct doc *cfg)
{
	const struct doc *v = doc_map_get(cfg, "variables");

	if (!v || v->type != DOC_MAP)
		return tfail(t, "variables", "required (a map)");
	return tx(t, "variables", v, true);
}

static int cfg_wait(struct tcheck *t, struct doc *cfg)
{
	const struct doc *v = doc_map_get(cfg, "seconds");

	return v && v->type == DOC_INT && v->i >= 1 && v->i <= INT32_MAX ? 0 :
	       tfail(t, "seconds", "required (a whole number, at least 1)");
}

static int cfg_raise(struct tcheck *t, struct doc *cfg)
{
	int rc = need_text(t, cfg, "error");

	if (rc == 0)
		rc = need_text(t, cfg, "message");
	if (rc == 0)
		rc = tx(t, "error", doc_map_get(cfg, "error"), false);
	return rc ? rc : tx(t, "message", doc_map_get(cfg, "message"), false);
}

/* arguments: a list of scalars; environment: a map of scalars. */
static int cfg_proc(struct tcheck *t, const struct doc *m, const char *what)
{
	const struct doc *a = doc_map_get(m, "arguments");
	const struct doc *env = doc_map_get(m, "environment");
	char field[FIELD_MAX];
	size_t i;
	int rc = 0;

	snprintf(field, sizeof(field), "%s.arguments", what);
	if (a && a->type != DOC_LIST)
		return tfail(t, field, "must be a list");
	for (i = 0; a && rc == 0 && i < a->n; i++) {
		snprintf(field, sizeof(field), "%s.arguments[%zu]", what, i);
		rc = doc_is_scalar(a->u.items[i]) ?
		     tx(t, field, a->u.items[i], false) :
		     tfail(t, field, "must be a string");
	}
	snprintf(field, sizeof(field), "%s.environment", what);
	if (rc == 0 && env && env->type != DOC_MAP)
		return tfail(t, field, "must be a map");
	for (i = 0; env && rc == 0 && i < env->n; i++) {
		snprintf(field, sizeof(field), "%s.environment.%s", what,
			 env->u.kv[i].key);
		rc = doc_is_scalar(env->u.kv[i].val) ?
		     tx(t, field, env->u.kv[i].val, false) :
		     tfail(t, field, "must be a string");
	}
	return rc;
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

/* RUN workflow: a child execution of Workflow @wf (id or slug, maybe an
 * expression), its input (anything) rendered first. */
static int cfg_sub(struct tcheck *t, const struct doc *cfg,
		   const struct doc *wf)
{
	int rc;

	if (!is_text(wf))
		return tfail(t, "workflow", "required (a non-empty string: a "
			     "Workflow id or slug)");
	rc = tx(t, "workflow", wf, false);
	return rc ? rc : tx(t, "input", doc_map_get(cfg, "input"), true);
}

/* RUN: a shell command, a script or a sub-workflow (DESIGN 1.5). */
static int cfg_run(struct tcheck *t, struct doc *cfg)
{
	const struct doc *sh = doc_map_get(cfg, "shell");
	const struct doc *sc = doc_map_get(cfg, "script");
	const struct doc *wf = doc_map_get(cfg, "workflow");

	if ((sh != NULL) + (sc != NULL) + (wf != NULL) != 1)
		return tfail(t, "", "needs exactly one of shell, script or "
			     "workflow");
	if (wf)
		return cfg_sub(t, cfg, wf);
	if (sc)
		return sc->type == DOC_MAP ? cfg_script(t, sc) :
		       tfail(t, "script", "must be a map");
	if (sh->type != DOC_MAP || !is_text(doc_map_get(sh, "command")))
		return tfail(t, "shell.command", "required (a non-empty string)");
	return cfg_proc(t, sh, "shell");
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
static int cfg_headers(struct tcheck *t, const struct doc *h)
{
	char field[FIELD_MAX];
	const struct doc *v;
	size_t i;
	int rc = 0;

	if (h && h->type != DOC_MAP)
		return tfail(t, "headers", "must be a map");
	for (i = 0; h && rc == 0 && i < h->n; i++) {
		snprintf(field, sizeof(field), "headers.%s", h->u.kv[i].key);
		v = h->u.kv[i].val;
		if (!header_name_ok(h->u.kv[i].key))
			return tfail(t, field, "not a valid header name");
		if (!doc_is_scalar(v))
			return tfail(t, field, "must be a string");
		if (v->u.s && (memchr(v->u.s, '\r', v->n) ||
			       memchr(v->u.s, '\n', v->n)))
			return tfail(t, field, "must not hold a line break");
		rc = tx(t, field, v, false);
	}
	return rc;
}

/* A literal URI is checked now; one with an expression when it runs. */
static int cfg_uri(struct tcheck *t, const struct doc *uri)
{
	if (!is_text(uri))
		return tfail(t, "endpoint.uri", "required (a non-empty string)");
	if (!expr_has(uri->u.s, uri->n) &&
	    strncasecmp(uri->u.s, "http://", 7) &&
	    strncasecmp(uri->u.s, "https://", 8))
		return tfail(t, "endpoint.uri", "must be an http:// or https:// "
			     "URL");
	return tx(t, "endpoint.uri", uri, false);
}

static int cfg_http(struct tcheck *t, struct doc *cfg)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE",
					       "PATCH" };
	const char *m = doc_get_str(cfg, "method");
	const struct doc *to = cfg_get(cfg, "timeoutSeconds",
				       "timeout_seconds");
	size_t i;
	int rc;

	for (i = 0; m && i < 5 && strcmp(m, methods[i]); i++)
		;
	if (!m || i == 5)
		return tfail(t, "method", "must be GET, POST, PUT, DELETE or "
			     "PATCH");
	if (to && (to->type != DOC_INT || to->i < 1 || to->i > 300))
		return tfail(t, "timeoutSeconds", "must be 1 to 300");
	rc = cfg_uri(t, doc_get(cfg, "endpoint.uri"));
	if (rc == 0)
		rc = cfg_headers(t, doc_map_get(cfg, "headers"));
	return rc ? rc : tx(t, "body", doc_map_get(cfg, "body"), true);
}

/* ---- control flow --------------------------------------------------- */

static int cfg_case(struct tcheck *t, const struct doc *cs, size_t i)
{
	const struct doc *when = doc_map_get(cs, "when");
	const struct doc *then = doc_map_get(cs, "then");
	char field[48];
	int rc;

	snprintf(field, sizeof(field), "cases[%zu]", i);
	if (cs->type != DOC_MAP)
		return tfail(t, field, "must be a map");
	snprintf(field, sizeof(field), "cases[%zu].name", i);
	if (!is_text(doc_map_get(cs, "name")))
		return tfail(t, field, "required (a non-empty string)");
	snprintf(field, sizeof(field), "cases[%zu].when", i);
	if (when && when->type != DOC_STR)
		return tfail(t, field, "must be a string (an expression)");
	rc = tx(t, field, when, false);
	snprintf(field, sizeof(field), "cases[%zu].then", i);
	if (rc == 0 && !is_text(then))
		return tfail(t, field, "required (a non-empty string)");
	return rc ? rc : check_target(t, field, then->u.s);
}

/* SWITCH: cases jump to tasks of the list that holds the SWITCH. */
static int cfg_switch(struct tcheck *t, struct doc *cfg)
{
	const struct doc *cases = doc_map_get(cfg, "cases");
	size_t i;
	int rc = 0;

	if (!cases || cases->type != DOC_LIST || cases->n == 0)
		return tfail(t, "cases", "required (a list of at least 1)");
	for (i = 0; rc == 0 && i < cases->n; i++)
		rc = cfg_case(t, cases->u.items[i], i);
	return rc;
}

/* A variable name field of @m (absent: @dflt), into *out. */
static int var_name(struct tcheck *t, const struct doc *m, const char *key,
		    const char *field, const char *dflt, const char **out)
{
	const struct doc *v = doc_map_get(m, key);

	if (!v) {
		*out = dflt;
		return 0;
	}
	if (v->type != DOC_STR || strlen(v->u.s) != v->n ||
	    !expr_var_ok(v->u.s))
		return tfail(t, field, "must be a variable name (a letter, "
			     "then letters, digits or _, at most %d bytes)",
			     EXPR_VAR_MAX);
	*out = v->u.s;
	return 0;
}

/* FOR in: an expression giving a list (evaluated outside the loop's own
 * variables), or a list written out. */
static int cfg_in(struct tcheck *t, const struct doc *in)
{
	if (in && in->type == DOC_LIST)
		return 0;
	if (!in || in->type != DOC_STR || !expr_has(in->u.s, in->n))
		return tfail(t, "in", "required (an expression ${ ... } giving "
			     "a list, or a list)");
	return tx(t, "in", in, false);
}

/* The tasks of @list under @field with variables @a and @b (NULL: none)
 * in scope, as far as they go. */
static int scoped_list(struct tcheck *t, struct doc *list, const char *field,
		       const char *a, const char *b)
{
	size_t mark = texpr_scope(t->x);
	int rc = texpr_push(t->x, a, t->path, t->c->e);

	if (rc == 0 && b)
		rc = texpr_push(t->x, b, t->path, t->c->e);
	if (rc == 0)
		rc = check_list(t, list, field, 1);
	texpr_pop(t->x, mark);
	return rc;
}

static int cfg_for(struct tcheck *t, struct doc *cfg)
{
	const char *each = NULL, *at = NULL;
	int rc;

	rc = var_name(t, cfg, "each", "each", "item", &each);
	if (rc == 0)
		rc = var_name(t, cfg, "at", "at", "index", &at);
	if (rc == 0 && !strcmp(each, at))
		return tfail(t, "at", "must differ from each (\"%s\")", each);
	if (rc == 0)
		rc = cfg_in(t, doc_map_get(cfg, "in"));
	return rc ? rc : scoped_list(t, doc_map_get(cfg, "do"), "do", each,
				     at);
}

static int cfg_branch(struct tcheck *t, const struct doc *br, size_t i)
{
	const struct doc *b = br->u.items[i];
	char field[48];
	int rc;

	snprintf(field, sizeof(field), "branches[%zu]", i);
	if (b->type != DOC_MAP)
		return tfail(t, field, "must be a map");
	snprintf(field, sizeof(field), "branches[%zu].name", i);
	rc = name_ok(t, field, doc_map_get(b, "name"));
	if (rc == 0 && name_seen(br, i))
		return tfail(t, field, "duplicate branch name \"%s\"",
			     doc_get_str(b, "name"));
	snprintf(field, sizeof(field), "branches[%zu].do", i);
	return rc ? rc : check_list(t, doc_map_get(b, "do"), field, 1);
}

static int cfg_fork(struct tcheck *t, struct doc *cfg)
{
	const struct doc *br = doc_map_get(cfg, "branches");
	const struct doc *compete = doc_map_get(cfg, "compete");
	size_t i;
	int rc = 0;

	if (compete && compete->type != DOC_BOOL)
		return tfail(t, "compete", "must be true or false");
	if (!br || br->type != DOC_LIST || br->n < 2)
		return tfail(t, "branches", "required (a list of at least 2)");
	if (br->n > TASK_LIST_MAX)
		return tfail(t, "branches", "too many (at most %d)",
			     TASK_LIST_MAX);
	for (i = 0; rc == 0 && i < br->n; i++)
		rc = cfg_branch(t, br, i);
	return rc;
}

/* TRY: the catch variable is in scope in catch.do only. */
static int cfg_try(struct tcheck *t, struct doc *cfg)
{
	const struct doc *katch = doc_map_get(cfg, "catch");
	const char *as = NULL;
	int rc = check_list(t, doc_map_get(cfg, "try"), "try", 1);

	if (rc || !katch)
		return rc;
	if (katch->type != DOC_MAP)
		return tfail(t, "catch", "must be a map");
	rc = var_name(t, katch, "as", "catch.as", "error", &as);
	if (rc || !doc_map_get(katch, "do"))
		return rc;
	return scoped_list(t, doc_map_get(katch, "do"), "catch.do", as, NULL);
}

/* taskConfig.timeout, any kind: whole seconds. */
static int cfg_timeout(struct tcheck *t, struct doc *cfg, const char *kind)
{
	static const char *const nested[] = { "SWITCH", "FOR", "FORK", "TRY" };
	const struct doc *to = doc_map_get(cfg, "timeout");
	size_t i;

	for (i = 0; to && i < 4; i++)
		if (!strcmp(kind, nested[i]))
			return tfail(t, "timeout", "applies to SET, RUN, WAIT, "
				     "RAISE and HTTP_CALL tasks (put it on the "
				     "tasks inside)");

	if (to && (to->type != DOC_INT || to->i < 1 || to->i > 86400))
		return tfail(t, "timeout", "must be whole seconds, 1 to 86400");
	return 0;
}

/* ---- tasks ---------------------------------------------------------- */

static const struct {
	const char *kind;
	cfg_fn fn;	/* NULL: a kind execfs does not run */
} task_rules[] = {
	{ "SET", cfg_set }, { "WAIT", cfg_wait }, { "RAISE", cfg_raise },
	{ "RUN", cfg_run }, { "HTTP_CALL", cfg_http },
	{ "SWITCH", cfg_switch }, { "FOR", cfg_for }, { "FORK", cfg_fork },
	{ "TRY", cfg_try }, { "GRPC_CALL", NULL }, { "CALL_ACTIVITY", NULL },
	{ "LISTEN", NULL }, { "AGENT_CALL", NULL },
};

#define NRULES (sizeof(task_rules) / sizeof(task_rules[0]))

/* Check task @task (kind short, as the schema leaves it), at t->path. */
static int check_task(struct tcheck *t, struct doc *task)
{
	const char *kind = doc_get_str(task, "kind");
	struct doc *cfg = doc_map_get(task, "taskConfig");
	size_t at = strlen(t->path), i;
	int rc;

	for (i = 0; kind && i < NRULES; i++)
		if (!strcmp(kind, task_rules[i].kind))
			break;
	if (!kind || i == NRULES)
		return tfail(t, "kind", "required (a task kind)");
	if (!task_rules[i].fn)
		return tfail(t, "kind", "task kind %s is not supported by "
			     "execfs (supported: SET, RUN, WAIT, RAISE, "
			     "SWITCH, FOR, FORK, TRY, HTTP_CALL)", kind);
	if (!cfg || cfg->type != DOC_MAP)
		return tfail(t, "taskConfig", "required (a map)");
	snprintf(t->path + at, sizeof(t->path) - at, ".taskConfig");
	rc = task_rules[i].fn(t, cfg);
	if (rc == 0)
		rc = cfg_timeout(t, cfg, kind);
	t->path[at] = '\0';
	return rc;
}

/* export.as names a key of the expressions' input, beside the run's own. */
static int check_export(struct tcheck *t, const struct doc *task)
{
	static const char *const taken[] = { "input", "triggerMessage",
					     "triggerMetadata", "secrets",
					     "env_vars" };
	const struct doc *as = doc_get(task, "export.as");
	size_t i;

	if (!as)
		return 0;
	if (!is_text(as))
		return tfail(t, "export.as", "must not be empty");
	for (i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		if (!strcmp(as->u.s, taken[i]))
			return tfail(t, "export.as", "\"%s\" is reserved "
				     "(input, triggerMessage, triggerMetadata, "
				     "secrets, env_vars)", taken[i]);
	return 0;
}

/* A nested task through the schema's WorkflowTask, replacing it. */
static int normalize_task(struct tcheck *t, struct doc *list, size_t i)
{
	struct doc *out = NULL;
	int rc = schema_normalize(t->task_msg, list->u.items[i], t->path,
				  &out, t->c->e);

	if (rc < 0)
		return rc;
	doc_free(list->u.items[i]);
	list->u.items[i] = out;
	return 0;
}

/* Item @i of @list, whose path is t->path.  The top level went through
 * the schema with the Workflow (duplicates included); nested ones go now. */
static int check_item(struct tcheck *t, struct doc *list, size_t i)
{
	struct doc *task;
	int rc = 0;

	if (t->depth > 1)
		rc = normalize_task(t, list, i);
	task = list->u.items[i];
	if (rc == 0)
		rc = name_ok(t, "name", doc_map_get(task, "name"));
	if (rc == 0 && name_seen(list, i))
		return tfail(t, "name", "duplicate task name \"%s\"",
			     doc_get_str(task, "name"));
	if (rc == 0)
		rc = check_task(t, task);
	if (rc == 0)
		rc = check_export(t, task);
	return rc ? rc : check_target(t, "flow.then",
				      doc_get_str(task, "flow.then"));
}

/* Check the list of tasks under @field of the current config. */
static int check_list(struct tcheck *t, struct doc *list, const char *field,
		      size_t min)
{
	struct doc *outer = t->list;
	size_t at = strlen(t->path), i;
	int rc = 0;

	if (!list || list->type != DOC_LIST || list->n < min)
		return tfail(t, field, "required (a list of tasks)");
	if (list->n > TASK_LIST_MAX)
		return tfail(t, field, "too many tasks (at most %d)",
			     TASK_LIST_MAX);
	if (t->depth == TASK_DEPTH_MAX)
		return tfail(t, field, "tasks nested too deep (at most %d "
			     "levels)", TASK_DEPTH_MAX);
	t->depth++;
	t->list = list;
	for (i = 0; rc == 0 && i < list->n; i++) {
		snprintf(t->path + at, sizeof(t->path) - at, "%s%s[%zu]",
			 at ? "." : "", field, i);
		rc = check_item(t, list, i);
	}
	t->path[at] = '\0';
	t->list = outer;
	t->depth--;
	return rc;
}

/* The schema's WorkflowTask message, reached through the Workflow's spec
 * so nested tasks are normalized by exactly the top level's rules. */
static const struct schema_msg *task_msg(void)
{
	const struct schema_msg *spec = model_kind(KIND_WORKFLOW)->spec;
	size_t i;

	for (i = 0; i < spec->n; i++)
		if (!strcmp(spec->fields[i].json, "tasks"))
			return spec->fields[i].msg;
	return NULL;
}

/* Workflow: ValidateWorkflowSpec.  Runs in the kind's front steps, on
 * c->res, which Persist stores: the nested tasks are stored as rewritten. */
int wf_validate_tasks(struct pctx *c)
{
	struct tcheck t = { .c = c, .task_msg = task_msg() };
	int rc;

	if (!t.task_msg)
		return err_set(c->e, -EIO, "no WorkflowTask message");
	rc = texpr_new(&t.x);
	if (rc < 0)
		return rc;
	memcpy(t.path, "spec", 5);
	rc = check_list(&t, doc_get(c->res, "spec.tasks"), "tasks", 1);
	if (rc == 0)
		rc = texpr_check(t.x, c->e);
	texpr_free(t.x);
	return rc;
}
