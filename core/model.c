/*
 * model.c - the table of resource kinds (after Stigmer's ApiResourceKind:
 * names, directories, id prefixes, owner-scope rules), the drafts shown in
 * a freshly made resource directory, and model_normalize(), which checks a
 * whole resource document: the envelope (apiVersion, kind, status), the
 * metadata with its defaults, and the spec of the kind.
 *
 * The envelope itself is normalized with a small message table, so its
 * unknown keys, doubled spellings and wrong types read like every other
 * field error.
 */
#include "model.h"
#include "model_i.h"

#include <errno.h>
#include <string.h>

#define SC(s) (1u << (s))

/* clang-format off */

/* ---- drafts --------------------------------------------------------- */

/* Each draft has "%s" once, for metadata.name, and no other '%'. */
static const char draft_workflow[] =
	"# A new Workflow: fill in the blanks, add tasks and save.\n"
	"apiVersion: agentic.stigmer.ai/v1\n"
	"kind: Workflow\n"
	"metadata:\n"
	"  name: %s\n"
	"  # ownerScope: ORGANIZATION     # PLATFORM (default) or ORGANIZATION\n"
	"spec:\n"
	"  description: \"\"\n"
	"  document:\n"
	"    dsl: 1.0.0\n"
	"    namespace: default\n"
	"    name:                        # the workflow's name in the DSL\n"
	"    version: 1.0.0\n"
	"  tasks:                         # at least one task\n"
	"    # - name: hello\n"
	"    #   kind: RUN\n"
	"    #   taskConfig:\n"
	"    #     shell: {command: 'echo \"hello $WHO\"', environment: {WHO: world}}\n"
	"    #   export: {as: '${ . }'}   # its stdout, as ${ $context.hello } later\n";

static const char draft_instance[] =
	"# A new WorkflowInstance: a Workflow bound to environments.\n"
	"apiVersion: agentic.stigmer.ai/v1\n"
	"kind: WorkflowInstance\n"
	"metadata:\n"
	"  name: %s\n"
	"  # ownerScope: ORGANIZATION     # PLATFORM (default), ORGANIZATION or IDENTITY_ACCOUNT\n"
	"spec:\n"
	"  workflowId:                    # id or slug of the Workflow\n"
	"  description: \"\"\n"
	"  envRefs:                       # Environments, later ones win\n"
	"    # - prod\n";

static const char draft_execution[] =
	"# A new WorkflowExecution: one run of a Workflow.\n"
	"apiVersion: agentic.stigmer.ai/v1\n"
	"kind: WorkflowExecution\n"
	"metadata:\n"
	"  name: %s\n"
	"  # ownerScope: IDENTITY_ACCOUNT # ORGANIZATION (default) or IDENTITY_ACCOUNT\n"
	"spec:\n"
	"  workflowId:                    # id or slug of the Workflow\n"
	"  # workflowInstanceId:          # or of a WorkflowInstance\n"
	"  # triggerMessage: \"\"\n"
	"  # dryRun: true                 # validate and trace, run nothing\n"
	"  runtimeEnv:\n"
	"    # TOKEN:\n"
	"    #   value: change-me\n"
	"    #   isSecret: true           # kept sealed, shown as ***\n";

static const char draft_context[] =
	"# A new ExecutionContext: values for one WorkflowExecution.\n"
	"apiVersion: agentic.stigmer.ai/v1\n"
	"kind: ExecutionContext\n"
	"metadata:\n"
	"  name: %s\n"
	"spec:\n"
	"  executionId:                   # id or slug of the WorkflowExecution\n"
	"  data:\n"
	"    # API_KEY:\n"
	"    #   value: change-me\n"
	"    #   isSecret: true           # kept sealed, shown as ***\n";

static const char draft_environment[] =
	"# A new Environment: variables for workflow runs.\n"
	"apiVersion: agentic.stigmer.ai/v1\n"
	"kind: Environment\n"
	"metadata:\n"
	"  name: %s\n"
	"  # ownerScope: IDENTITY_ACCOUNT # ORGANIZATION (default) or IDENTITY_ACCOUNT\n"
	"spec:\n"
	"  description: \"\"\n"
	"  data:\n"
	"    # API_URL:\n"
	"    #   value: https://api.example.com\n"
	"    # API_KEY:\n"
	"    #   value: change-me\n"
	"    #   isSecret: true           # kept sealed, shown as ***\n";

/* ---- kinds ---------------------------------------------------------- */

/*
 * Owner scopes follow Stigmer's CEL rules.  WorkflowInstance has no rule
 * there (any defined value); execfs allows the three real scopes.  Its
 * default is, like every kind's, the lowest allowed scope: PLATFORM.  The
 * default instance the pipeline creates copies its Workflow's scope
 * explicitly, so this default only applies to instances users write, and
 * it matches the Workflow default (also PLATFORM).
 */
static const struct kind kinds[KIND_COUNT] = {
	[KIND_WORKFLOW] = {
		KIND_WORKFLOW, "workflows", "Workflow", "wfl",
		SC(SCOPE_PLATFORM) | SC(SCOPE_ORGANIZATION),
		"Workflow owner_scope must be platform or organization",
		false, &model_workflow_spec, &model_workflow_status,
		draft_workflow,
	},
	[KIND_WORKFLOW_INSTANCE] = {
		KIND_WORKFLOW_INSTANCE, "workflowinstances",
		"WorkflowInstance", "win",
		SC(SCOPE_PLATFORM) | SC(SCOPE_ORGANIZATION) |
			SC(SCOPE_IDENTITY_ACCOUNT),
		"WorkflowInstance owner_scope must be platform, organization or identity_account",
		false, &model_workflow_instance_spec, &model_audit_status,
		draft_instance,
	},
	[KIND_WORKFLOW_EXECUTION] = {
		KIND_WORKFLOW_EXECUTION, "workflowexecutions",
		"WorkflowExecution", "wex",
		SC(SCOPE_ORGANIZATION) | SC(SCOPE_IDENTITY_ACCOUNT),
		"WorkflowExecution owner_scope must be organization or identity_account",
		false, &model_workflow_execution_spec,
		&model_workflow_execution_status, draft_execution,
	},
	[KIND_EXECUTION_CONTEXT] = {
		KIND_EXECUTION_CONTEXT, "executioncontexts",
		"ExecutionContext", "exec", SC(SCOPE_UNSPECIFIED),
		"ExecutionContext owner_scope must be unspecified (operator-managed resource)",
		true, &model_execution_context_spec, &model_audit_status,
		draft_context,
	},
	[KIND_ENVIRONMENT] = {
		KIND_ENVIRONMENT, "environments", "Environment", "env",
		SC(SCOPE_ORGANIZATION) | SC(SCOPE_IDENTITY_ACCOUNT),
		"Environment owner_scope must be organization or identity_account",
		false, &model_environment_spec, &model_audit_status,
		draft_environment,
	},
};

/* clang-format on */

const struct kind *model_kind(enum kind_id id)
{
	if ((unsigned)id >= KIND_COUNT)
		return NULL;
	return &kinds[id];
}

const struct kind *model_kind_by_dir(const char *dir)
{
	size_t i;

	for (i = 0; i < KIND_COUNT; i++)
		if (strcmp(dir, kinds[i].dir) == 0)
			return &kinds[i];
	return NULL;
}

const struct kind *model_kind_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < KIND_COUNT; i++)
		if (strcmp(name, kinds[i].name) == 0)
			return &kinds[i];
	return NULL;
}

const struct kind *model_kind_by_prefix(const char *id)
{
	size_t i, pl;

	for (i = 0; i < KIND_COUNT; i++) {
		pl = strlen(kinds[i].prefix);
		if (strncmp(id, kinds[i].prefix, pl) == 0 && id[pl] == '-')
			return &kinds[i];
	}
	return NULL;
}

/* ---- envelope ------------------------------------------------------- */

/* clang-format off */
/* status is server-owned: SF_OUTPUT accepts it on input and drops it. */
static const struct schema_field envelope_fields[] = {
	{ .json = "apiVersion", .proto = "api_version", .type = ST_STRING },
	{ .json = "kind", .proto = "kind", .type = ST_STRING },
	{ .json = "metadata", .proto = "metadata", .type = ST_VALUE },
	{ .json = "spec", .proto = "spec", .type = ST_VALUE },
	{ .json = "status", .proto = "status", .type = ST_VALUE,
	  .flags = SF_OUTPUT },
};
static const struct schema_msg envelope = {
	"Resource", envelope_fields,
	sizeof(envelope_fields) / sizeof(envelope_fields[0])
};

/* clang-format on */

static int check_const(const struct doc *env, const char *key, const char *want,
		       struct err *e)
{
	const struct doc *v = doc_map_get(env, key);

	if (!v || (v->n == strlen(want) && strcmp(v->u.s, want) == 0))
		return 0;
	return err_set(e, -EBADMSG, "%s: expected \"%s\", got \"%.64s%s\"", key,
		       want, v->u.s, v->n > 64 ? "..." : "");
}

/* The value under @key, or NULL when absent or null. */
static const struct doc *present(const struct doc *m, const char *key)
{
	const struct doc *v = doc_map_get(m, key);

	return v && v->type != DOC_NULL ? v : NULL;
}

/* A node taken from @env, or a new empty map; NULL when out of memory. */
static struct doc *take_or_map(struct doc *env, const char *key)
{
	struct doc *v = doc_map_take(env, key);

	if (v && v->type == DOC_NULL) {
		doc_free(v);
		v = NULL;
	}
	return v ? v : doc_new(DOC_MAP);
}

/* ---- metadata ------------------------------------------------------- */

static enum owner_scope lowest_scope(const struct kind *k)
{
	int s;

	for (s = SCOPE_UNSPECIFIED; s <= SCOPE_IDENTITY_ACCOUNT; s++)
		if (k->scopes & SC(s))
			return (enum owner_scope)s;
	return SCOPE_UNSPECIFIED;
}

/* Fill metadata.name and metadata.ownerScope before normalizing, so they
 * land in table order like any written field. */
static int metadata_defaults(const struct kind *k, struct doc *md,
			     const char *default_name)
{
	const struct doc *name = present(md, "name");
	int rc;

	if (default_name &&
	    (!name || (name->type == DOC_STR && name->n == 0))) {
		rc = doc_map_setstr(md, "name", default_name);
		if (rc < 0)
			return rc;
	}
	if (present(md, "ownerScope") || present(md, "owner_scope"))
		return 0;
	doc_map_del(md, "owner_scope");
	return doc_map_setstr(
	    md, "ownerScope",
	    schema_enum_name(&model_owner_scope, lowest_scope(k)));
}

static bool has_text(const struct doc *m, const char *key)
{
	const struct doc *v = doc_map_get(m, key);

	return v && v->type == DOC_STR && v->n > 0;
}

static int metadata_checks(const struct kind *k, const struct doc *md,
			   struct err *e)
{
	const char *scope = doc_get_str(md, "ownerScope");
	int32_t n = -1;

	if (!has_text(md, "name") && !has_text(md, "slug"))
		return err_set(e, -EBADMSG, "metadata.name: required");
	if (scope && schema_enum_parse(&model_owner_scope, scope, &n) == 0 &&
	    n >= 0 && n < 32 && (k->scopes & SC(n)))
		return 0;
	return err_set(e, -EBADMSG, "metadata.ownerScope: %s", k->scope_rule);
}

static int build_metadata(const struct kind *k, struct doc *env,
			  const char *default_name, struct doc **out,
			  struct err *e)
{
	struct doc *md = take_or_map(env, "metadata"), *nmd = NULL;
	int rc;

	if (!md)
		return err_set(e, -ENOMEM, "out of memory");
	/* A non-map is left for schema_normalize() to report. */
	if (md->type == DOC_MAP && metadata_defaults(k, md, default_name) < 0) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	rc = schema_normalize(&model_metadata, md, "metadata", &nmd, e);
	if (rc < 0)
		goto out;
	rc = metadata_checks(k, nmd, e);
	if (rc < 0)
		goto out;
	*out = nmd;
	nmd = NULL;
out:
	doc_free(md);
	doc_free(nmd);
	return rc;
}

/* ---- spec ----------------------------------------------------------- */

/*
 * An envRefs item may be written as plain text (an id or a slug); it
 * stands for {slug: <text>}, and the pipeline resolves either to the id.
 */
static int refs_shorthand(struct doc *spec)
{
	struct doc *refs = doc_map_get(spec, "envRefs"), *m;
	size_t i;

	if (!refs)
		refs = doc_map_get(spec, "env_refs");
	if (!refs || refs->type != DOC_LIST)
		return 0;
	for (i = 0; i < refs->n; i++) {
		if (!doc_is_scalar(refs->u.items[i]) ||
		    refs->u.items[i]->type == DOC_NULL)
			continue;
		m = doc_new(DOC_MAP);
		if (!m)
			return -ENOMEM;
		m->line = refs->u.items[i]->line;
		m->col = refs->u.items[i]->col;
		/* doc_map_set() owns the item from here, even on failure. */
		if (doc_map_set(m, "slug", refs->u.items[i]) < 0) {
			refs->u.items[i] = m;
			return -ENOMEM;
		}
		refs->u.items[i] = m;
	}
	return 0;
}

static int refs_checks(const struct doc *spec, struct err *e)
{
	const struct doc *refs = doc_map_get(spec, "envRefs");
	size_t i;

	for (i = 0; refs && i < refs->n; i++)
		if (!has_text(refs->u.items[i], "slug") &&
		    !has_text(refs->u.items[i], "id"))
			return err_set(e, -EBADMSG,
				       "spec.envRefs[%zu]: slug or id required",
				       i);
	return 0;
}

static int build_spec(const struct kind *k, struct doc *env, struct doc **out,
		      struct err *e)
{
	struct doc *spec = take_or_map(env, "spec"), *nspec = NULL;
	int rc = 0;

	if (!spec)
		return err_set(e, -ENOMEM, "out of memory");
	if (k->id == KIND_WORKFLOW_INSTANCE && spec->type == DOC_MAP &&
	    refs_shorthand(spec) < 0) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	rc = schema_normalize(k->spec, spec, "spec", &nspec, e);
	if (rc < 0)
		goto out;
	if (k->id == KIND_WORKFLOW_INSTANCE)
		rc = refs_checks(nspec, e);
	if (rc < 0)
		goto out;
	*out = nspec;
	nspec = NULL;
out:
	doc_free(spec);
	doc_free(nspec);
	return rc;
}

/* ---- the resource --------------------------------------------------- */

static int assemble(const struct kind *k, struct doc *md, struct doc *spec,
		    struct doc **out, struct err *e)
{
	struct doc *res = doc_new(DOC_MAP);
	int rc = -ENOMEM;

	if (!res || doc_map_setstr(res, "apiVersion", API_VERSION) < 0 ||
	    doc_map_setstr(res, "kind", k->name) < 0)
		goto out;
	rc = doc_map_set(res, "metadata", md);
	md = NULL; /* owned by res (or freed) */
	if (rc == 0)
		rc = doc_map_set(res, "spec", spec);
	spec = NULL;
out:
	doc_free(md);
	doc_free(spec);
	if (rc < 0) {
		doc_free(res);
		return err_set(e, -ENOMEM, "out of memory");
	}
	*out = res;
	return 0;
}

int model_normalize(const struct kind *k, const struct doc *in,
		    const char *default_name, struct doc **out, struct err *e)
{
	struct doc *env = NULL, *md = NULL, *spec = NULL;
	int rc;

	rc = schema_normalize(&envelope, in, "", &env, e);
	if (rc < 0)
		return rc;
	rc = check_const(env, "apiVersion", API_VERSION, e);
	if (rc == 0)
		rc = check_const(env, "kind", k->name, e);
	if (rc == 0)
		rc = build_metadata(k, env, default_name, &md, e);
	if (rc == 0)
		rc = build_spec(k, env, &spec, e);
	doc_free(env);
	if (rc < 0) {
		doc_free(md);
		return rc;
	}
	/* assemble() takes md and spec, even on failure. */
	return assemble(k, md, spec, out, e);
}

int model_for_each_secret(const struct kind *k, struct doc *res,
			  int (*fn)(void *ctx, const char *path,
				    struct doc *node),
			  void *ctx)
{
	return schema_for_each_secret(k->spec, doc_map_get(res, "spec"), "spec",
				      fn, ctx);
}
