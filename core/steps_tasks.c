/*
 * steps_tasks.c - ValidateWorkflowSpec: what the runner needs of every
 * task of a Workflow, at every level of the task tree, checked when the
 * Workflow is written; nested tasks are then stored in the top-level form.
 */
#include "steps_i.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

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
 * is checked: it knows exactly its fields, at every depth (a key it does
 * not know is refused, as Stigmer's protojson does), their types and
 * values (steps_cfg.c, steps_try.c), the names and jump targets, and every
 * expression is collected with the variables in scope there
 * (steps_expr.c) to be compiled once at the end.  The rewriting only
 * shows when every check passes: a failed write drops c->res.
 */
#define TASK_DEPTH_MAX 8	/* nested task lists, the top level counting */
#define TASK_LIST_MAX 1000	/* tasks in one list, as the schema caps the
				   top level (names are compared pairwise) */
#define BRANCH_NAME_MAX 128	/* characters, as for task names */
#define KNOWN_MAX 256		/* the "known: ..." list of a message */

typedef int (*cfg_fn)(struct tcheck *t, struct doc *cfg);

int tcheck_fail(struct tcheck *t, const char *field, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(t->c->e, -EBADMSG, "%s%s%s: %s", t->path,
		       field[0] ? "." : "", field, what);
}

bool tcheck_is_text(const struct doc *v)
{
	return v && v->type == DOC_STR && v->n > 0;
}

int tcheck_expr(struct tcheck *t, const char *field, const struct doc *v,
		bool deep)
{
	char path[TEXPR_PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s.%s", t->path, field);

	/* A path too long for the buffer is cut: messages only get shorter. */
	if (n < 0)
		return -EINVAL;
	return texpr_add(t->x, v, path, deep, t->c->e);
}

int tcheck_opt_str(struct tcheck *t, const char *field, const struct doc *v)
{
	if (v && v->type != DOC_STR)
		return tcheck_fail(t, field, "must be a string");
	return tcheck_expr(t, field, v, false);
}

/* ---- known fields --------------------------------------------------- */

bool tcheck_key_is(const char *key, const char *camel)
{
	for (; *camel; camel++, key++) {
		if (*key == *camel)
			continue;
		if (!(*camel >= 'A' && *camel <= 'Z') || key[0] != '_' ||
		    key[1] != (*camel | 0x20))
			return false;
		key++;
	}
	return *key == '\0';
}

struct doc *tcheck_get(const struct doc *m, const char *camel)
{
	size_t i;

	for (i = 0; m && m->type == DOC_MAP && i < m->n; i++)
		if (tcheck_key_is(m->u.kv[i].key, camel))
			return m->u.kv[i].val;
	return NULL;
}

/* Which of @keys @key is, or -1. */
static int key_index(const char *key, const char *const *keys)
{
	int k;

	for (k = 0; keys[k]; k++)
		if (tcheck_key_is(key, keys[k]))
			return k;
	return -1;
}

static int unknown_key(struct tcheck *t, const char *field, const char *key,
		       const char *const *keys)
{
	char known[KNOWN_MAX], sub[FIELD_MAX];
	size_t at = 0, k;

	known[0] = '\0';
	for (k = 0; keys[k] && at < sizeof(known); k++)
		at += (size_t)snprintf(known + at, sizeof(known) - at, "%s%s",
				       k ? ", " : "", keys[k]);
	snprintf(sub, sizeof(sub), "%s%s%.64s", field, field[0] ? "." : "",
		 key);
	return tcheck_fail(t, sub, "unknown field (known: %s)", known);
}

int tcheck_known(struct tcheck *t, const struct doc *m, const char *field,
		 const char *const *keys)
{
	char sub[FIELD_MAX];
	size_t i, j;
	int k;

	for (i = 0; i < m->n; i++) {
		k = key_index(m->u.kv[i].key, keys);
		if (k < 0)
			return unknown_key(t, field, m->u.kv[i].key, keys);
		for (j = 0; j < i; j++) {
			if (!tcheck_key_is(m->u.kv[j].key, keys[k]))
				continue;
			snprintf(sub, sizeof(sub), "%s%s%s", field,
				 field[0] ? "." : "", keys[k]);
			return tcheck_fail(t, sub, "given twice (as %s and %s)",
					   m->u.kv[j].key, m->u.kv[i].key);
		}
	}
	return 0;
}

/* ---- variables ------------------------------------------------------ */

int tcheck_var(struct tcheck *t, const struct doc *m, const char *key,
	       const char *field, const char *dflt, const char **out)
{
	const struct doc *v = doc_map_get(m, key);

	if (!v) {
		*out = dflt;
		return 0;
	}
	if (v->type != DOC_STR || strlen(v->u.s) != v->n ||
	    !expr_var_ok(v->u.s))
		return tcheck_fail(t, field, "must be a variable name (a "
				   "letter, then letters, digits or _, at most "
				   "%d bytes)", EXPR_VAR_MAX);
	if (expr_var_reserved(v->u.s))
		return tcheck_fail(t, field, "\"%s\" is reserved (every "
				   "expression binds $context, $secrets, "
				   "$workflow, $runtime, $input, $output, "
				   "$task; jq binds $ENV, $__loc__)", v->u.s);
	*out = v->u.s;
	return 0;
}

int tcheck_push(struct tcheck *t, const char *a, const char *b, size_t *mark)
{
	int rc = 0;

	*mark = texpr_scope(t->x);
	if (a)
		rc = texpr_push(t->x, a, t->path, t->c->e);
	if (rc == 0 && b)
		rc = texpr_push(t->x, b, t->path, t->c->e);
	return rc;
}

/* ---- names and jump targets ----------------------------------------- */

/* Task and branch names: status ids and events are paths of names joined
 * by '/', so a name must not hold one. */
static int name_ok(struct tcheck *t, const char *field, const struct doc *v)
{
	if (!tcheck_is_text(v))
		return tcheck_fail(t, field, "required (a non-empty string)");
	if (strlen(v->u.s) != v->n)
		return tcheck_fail(t, field, "must not hold a NUL byte");
	if (memchr(v->u.s, '/', v->n))
		return tcheck_fail(t, field, "must not hold '/' (task paths "
				   "use it)");
	if (schema_utf8_chars(v->u.s, v->n) > BRANCH_NAME_MAX)
		return tcheck_fail(t, field, "longer than %d characters",
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

/* flow.then and a SWITCH case's then: "continue", "exit", "end" or the
 * name of a task of the list that holds the task (jumping back is a
 * bounded loop). */
static int check_target(struct tcheck *t, const char *field,
			const char *then)
{
	if (!then || !strcmp(then, "end") || !strcmp(then, "exit") ||
	    !strcmp(then, "continue") || in_list(t->list, then))
		return 0;
	return tcheck_fail(t, field, "no task named \"%.128s\" in the same "
			   "list (or continue, exit, end)", then);
}

/* ---- SWITCH --------------------------------------------------------- */

static int cfg_case(struct tcheck *t, const struct doc *cs, size_t i)
{
	static const char *const keys[] = { "name", "when", "then", NULL };
	const struct doc *then = doc_map_get(cs, "then");
	char field[48];
	int rc;

	snprintf(field, sizeof(field), "cases[%zu]", i);
	if (cs->type != DOC_MAP)
		return tcheck_fail(t, field, "must be a map");
	rc = tcheck_known(t, cs, field, keys);
	snprintf(field, sizeof(field), "cases[%zu].name", i);
	if (rc == 0 && !tcheck_is_text(doc_map_get(cs, "name")))
		return tcheck_fail(t, field, "required (a non-empty string)");
	snprintf(field, sizeof(field), "cases[%zu].when", i);
	if (rc == 0)
		rc = tcheck_opt_str(t, field, doc_map_get(cs, "when"));
	snprintf(field, sizeof(field), "cases[%zu].then", i);
	if (rc == 0 && !tcheck_is_text(then))
		return tcheck_fail(t, field, "required (a non-empty string)");
	return rc ? rc : check_target(t, field, then->u.s);
}

/* At most one case without when: the default, wherever it is listed. */
static int one_default(struct tcheck *t, const struct doc *cases)
{
	size_t i, dflt = cases->n;
	char field[48];

	for (i = 0; i < cases->n; i++) {
		if (doc_map_get(cases->u.items[i], "when"))
			continue;
		if (dflt == cases->n) {
			dflt = i;
			continue;
		}
		snprintf(field, sizeof(field), "cases[%zu].when", i);
		return tcheck_fail(t, field, "required: cases[%zu] and "
				   "cases[%zu] both have no when (at most one "
				   "default case)", dflt, i);
	}
	return 0;
}

/* SWITCH: cases jump to tasks of the list that holds the SWITCH. */
static int cfg_switch(struct tcheck *t, struct doc *cfg)
{
	const struct doc *cases = doc_map_get(cfg, "cases");
	size_t i;
	int rc = 0;

	if (!cases || cases->type != DOC_LIST || cases->n == 0)
		return tcheck_fail(t, "cases", "required (a list of at least "
				   "1)");
	for (i = 0; rc == 0 && i < cases->n; i++)
		rc = cfg_case(t, cases->u.items[i], i);
	return rc ? rc : one_default(t, cases);
}

/* ---- FOR, FORK ------------------------------------------------------ */

/* FOR in: an expression giving a list (evaluated outside the loop's own
 * variables), or a list written out. */
static int cfg_in(struct tcheck *t, const struct doc *in)
{
	if (in && in->type == DOC_LIST)
		return 0;
	if (!in || in->type != DOC_STR || !expr_has(in->u.s, in->n))
		return tcheck_fail(t, "in", "required (an expression ${ ... } "
				   "giving a list, or a list)");
	return tcheck_expr(t, "in", in, false);
}

/* FOR: each and at are in scope in while and do. */
static int cfg_for(struct tcheck *t, struct doc *cfg)
{
	const char *each = NULL, *at = NULL;
	size_t mark;
	int rc;

	rc = tcheck_var(t, cfg, "each", "each", "item", &each);
	if (rc == 0)
		rc = tcheck_var(t, cfg, "at", "at", "index", &at);
	if (rc == 0 && !strcmp(each, at))
		return tcheck_fail(t, "at", "must differ from each (\"%s\")",
				   each);
	if (rc == 0)
		rc = cfg_in(t, doc_map_get(cfg, "in"));
	if (rc)
		return rc;
	rc = tcheck_push(t, each, at, &mark);
	if (rc == 0)
		rc = tcheck_opt_str(t, "while", doc_map_get(cfg, "while"));
	if (rc == 0)
		rc = tcheck_list(t, doc_map_get(cfg, "do"), "do", 1);
	texpr_pop(t->x, mark);
	return rc;
}

static int cfg_branch(struct tcheck *t, const struct doc *br, size_t i)
{
	static const char *const keys[] = { "name", "do", NULL };
	const struct doc *b = br->u.items[i];
	char field[48];
	int rc;

	snprintf(field, sizeof(field), "branches[%zu]", i);
	if (b->type != DOC_MAP)
		return tcheck_fail(t, field, "must be a map");
	rc = tcheck_known(t, b, field, keys);
	snprintf(field, sizeof(field), "branches[%zu].name", i);
	if (rc == 0)
		rc = name_ok(t, field, doc_map_get(b, "name"));
	if (rc == 0 && name_seen(br, i))
		return tcheck_fail(t, field, "duplicate branch name \"%s\"",
				   doc_get_str(b, "name"));
	snprintf(field, sizeof(field), "branches[%zu].do", i);
	return rc ? rc : tcheck_list(t, doc_map_get(b, "do"), field, 1);
}

static int cfg_fork(struct tcheck *t, struct doc *cfg)
{
	const struct doc *br = doc_map_get(cfg, "branches");
	const struct doc *compete = doc_map_get(cfg, "compete");
	size_t i;
	int rc = 0;

	if (compete && compete->type != DOC_BOOL)
		return tcheck_fail(t, "compete", "must be true or false");
	if (!br || br->type != DOC_LIST || br->n < 2)
		return tcheck_fail(t, "branches", "required (a list of at least "
				   "2)");
	if (br->n > TASK_LIST_MAX)
		return tcheck_fail(t, "branches", "too many (at most %d)",
				   TASK_LIST_MAX);
	for (i = 0; rc == 0 && i < br->n; i++)
		rc = cfg_branch(t, br, i);
	return rc;
}

/* taskConfig.timeout: whole seconds, on the leaf kinds only. */
static int cfg_timeout(struct tcheck *t, struct doc *cfg, bool leaf)
{
	const struct doc *to = doc_map_get(cfg, "timeout");

	if (to && !leaf)
		return tcheck_fail(t, "timeout", "applies to SET, RUN, WAIT, "
				   "RAISE and HTTP_CALL tasks (put it on the "
				   "tasks inside)");
	if (to && (to->type != DOC_INT || to->i < 1 || to->i > 86400))
		return tcheck_fail(t, "timeout", "must be whole seconds, 1 to "
				   "86400");
	return 0;
}

/* ---- tasks ---------------------------------------------------------- */

/* Each kind's config fields (camelCase; snake_case is accepted too). */
static const char *const set_keys[] = { "variables", "timeout", NULL };
static const char *const wait_keys[] = { "seconds", "timeout", NULL };
static const char *const raise_keys[] = { "error", "message", "timeout",
					  NULL };
static const char *const run_keys[] = { "shell", "script", "workflow",
					"input", "return", "timeout", NULL };
static const char *const http_keys[] = { "method", "endpoint", "headers",
					 "body", "query", "output", "redirect",
					 "timeoutSeconds", "timeout", NULL };
static const char *const switch_keys[] = { "cases", NULL };
static const char *const for_keys[] = { "each", "in", "at", "while", "do",
					NULL };
static const char *const fork_keys[] = { "branches", "compete", NULL };
static const char *const try_keys[] = { "try", "catch", NULL };

static const struct {
	const char *kind;
	cfg_fn fn;	/* NULL: a kind execfs does not run */
	const char *const *keys;
	bool leaf;	/* takes a timeout */
} task_rules[] = {
	{ "SET", tcheck_set, set_keys, true },
	{ "WAIT", tcheck_wait, wait_keys, true },
	{ "RAISE", tcheck_raise, raise_keys, true },
	{ "RUN", tcheck_run, run_keys, true },
	{ "HTTP_CALL", tcheck_http, http_keys, true },
	{ "SWITCH", cfg_switch, switch_keys, false },
	{ "FOR", cfg_for, for_keys, false },
	{ "FORK", cfg_fork, fork_keys, false },
	{ "TRY", tcheck_try, try_keys, false },
	{ "GRPC_CALL", NULL, NULL, false },
	{ "CALL_ACTIVITY", NULL, NULL, false },
	{ "LISTEN", NULL, NULL, false },
	{ "AGENT_CALL", NULL, NULL, false },
};

#define NRULES (sizeof(task_rules) / sizeof(task_rules[0]))

/* The config of a task of kind rule @i, at t->path (…taskConfig). */
static int check_config(struct tcheck *t, size_t i, struct doc *cfg)
{
	int rc = cfg_timeout(t, cfg, task_rules[i].leaf);

	if (rc == 0)
		rc = tcheck_known(t, cfg, "", task_rules[i].keys);
	return rc ? rc : task_rules[i].fn(t, cfg);
}

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
		return tcheck_fail(t, "kind", "required (a task kind)");
	if (!task_rules[i].fn)
		return tcheck_fail(t, "kind", "task kind %s is not supported by "
				   "execfs (supported: SET, RUN, WAIT, RAISE, "
				   "SWITCH, FOR, FORK, TRY, HTTP_CALL)", kind);
	if (!cfg || cfg->type != DOC_MAP)
		return tcheck_fail(t, "taskConfig", "required (a map)");
	snprintf(t->path + at, sizeof(t->path) - at, ".taskConfig");
	rc = check_config(t, i, cfg);
	t->path[at] = '\0';
	return rc;
}

/* export.as: an expression over the task's output, its result stored as
 * $context["<task name>"].  A plain name was the old form: say the new. */
static int check_export(struct tcheck *t, const struct doc *task)
{
	const struct doc *as = doc_get(task, "export.as");
	const char *name = doc_get_str(task, "name");

	if (!as)
		return 0;
	if (!tcheck_is_text(as))
		return tcheck_fail(t, "export.as", "must not be empty");
	if (!expr_has(as->u.s, as->n))
		return tcheck_fail(t, "export.as", "\"%.64s\" is a name; "
				   "export.as is now an expression over the "
				   "task's output, stored as $context[\"%s\"]: "
				   "write export: {as: '${ . }'} and read "
				   "${ $context[\"%s\"] }", as->u.s, name,
				   name);
	return tcheck_expr(t, "export.as", as, false);
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
		return tcheck_fail(t, "name", "duplicate task name \"%s\"",
				   doc_get_str(task, "name"));
	if (rc == 0)
		rc = check_task(t, task);
	if (rc == 0)
		rc = check_export(t, task);
	return rc ? rc : check_target(t, "flow.then",
				      doc_get_str(task, "flow.then"));
}

int tcheck_list(struct tcheck *t, struct doc *list, const char *field,
		size_t min)
{
	struct doc *outer = t->list;
	size_t at = strlen(t->path), i;
	int rc = 0;

	if (!list || list->type != DOC_LIST || list->n < min)
		return tcheck_fail(t, field, "required (a list of tasks)");
	if (list->n > TASK_LIST_MAX)
		return tcheck_fail(t, field, "too many tasks (at most %d)",
				   TASK_LIST_MAX);
	if (t->depth == TASK_DEPTH_MAX)
		return tcheck_fail(t, field, "tasks nested too deep (at most %d "
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
	rc = tcheck_list(&t, doc_get(c->res, "spec.tasks"), "tasks", 1);
	if (rc == 0)
		rc = texpr_check(t.x, c->e);
	texpr_free(t.x);
	return rc;
}
