/*
 * model_msgs.c - the message and enum tables of the resource model, after
 * Stigmer's protobuf messages (research/stigmer-model.md section 2), with
 * their buf.validate rules written as field flags, bounds and checks.
 *
 * Tables are listed leaves first, because each one is referenced by the
 * tables after it.  Every field gives its lowerCamelCase JSON name and its
 * snake_case proto name; the normalizer accepts both.
 */
#include "model.h"
#include "model_i.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Tables are laid out by hand. */
/* clang-format off */

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MSG(nm, arr) { .name = (nm), .fields = (arr), .n = N(arr) }

/* ---- enums ---------------------------------------------------------- */

static const struct schema_enum_value scope_values[] = {
	{ "UNSPECIFIED", SCOPE_UNSPECIFIED },
	{ "PLATFORM", SCOPE_PLATFORM },
	{ "ORGANIZATION", SCOPE_ORGANIZATION },
	{ "IDENTITY_ACCOUNT", SCOPE_IDENTITY_ACCOUNT },
};
/* Stigmer spells the values in lower case ("platform"); the short names
 * match those case-insensitively, only the zero value is irregular. */
static const char *const scope_aliases[] = {
	"API_RESOURCE_OWNER_SCOPE_UNSPECIFIED", NULL
};
const struct schema_enum model_owner_scope = {
	"ApiResourceOwnerScope", NULL, scope_values, N(scope_values),
	scope_aliases
};

static const struct schema_enum_value phase_values[] = {
	{ "UNSPECIFIED", 0 }, { "PENDING", 1 }, { "IN_PROGRESS", 2 },
	{ "COMPLETED", 3 }, { "FAILED", 4 }, { "CANCELLED", 5 },
};
static const char *const phase_aliases[] = {
	"EXECUTION_PHASE_UNSPECIFIED", NULL
};
const struct schema_enum model_execution_phase = {
	"ExecutionPhase", "EXECUTION_", phase_values, N(phase_values),
	phase_aliases
};

static const struct schema_enum_value task_kind_values[] = {
	{ "UNSPECIFIED", 0 }, { "SET", 1 }, { "HTTP_CALL", 2 },
	{ "GRPC_CALL", 3 }, { "CALL_ACTIVITY", 4 }, { "SWITCH", 5 },
	{ "FOR", 6 }, { "FORK", 7 }, { "TRY", 8 }, { "LISTEN", 9 },
	{ "WAIT", 10 }, { "RAISE", 11 }, { "RUN", 12 }, { "AGENT_CALL", 13 },
};
const struct schema_enum model_task_kind = {
	"WorkflowTaskKind", "WORKFLOW_TASK_KIND_", task_kind_values,
	N(task_kind_values), NULL
};

/* CANCELLED (6) is an execfs extension for tasks cut short by a cancel. */
static const struct schema_enum_value task_status_values[] = {
	{ "UNSPECIFIED", 0 }, { "PENDING", 1 }, { "IN_PROGRESS", 2 },
	{ "COMPLETED", 3 }, { "FAILED", 4 }, { "SKIPPED", 5 },
	{ "CANCELLED", 6 },
};
static const char *const task_status_aliases[] = {
	"WORKFLOW_TASK_STATUS_UNSPECIFIED", NULL
};
const struct schema_enum model_task_status = {
	"WorkflowTaskStatus", "WORKFLOW_TASK_", task_status_values,
	N(task_status_values), task_status_aliases
};

/* ApiResourceKind, narrowed to what an envRefs item may name. */
static const struct schema_enum_value ref_kind_values[] = {
	{ "ENVIRONMENT", 53 },
};
static const struct schema_enum ref_kind = {
	"ApiResourceKind", NULL, ref_kind_values, N(ref_kind_values), NULL
};

/* clang-format on */

/* ---- checks --------------------------------------------------------- */

static int check_dsl(const struct doc *v, struct err *e)
{
	if (v->type == DOC_STR && strcmp(v->u.s, "1.0.0") == 0)
		return 0;
	return err_set(e, -EBADMSG, "must be \"1.0.0\"");
}

static bool same_text(const struct doc *a, const struct doc *b)
{
	return a && b && a->type == DOC_STR && b->type == DOC_STR &&
	       a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
}

/* Task names are how flow.then and the status refer to tasks. */
static int check_task_names(const struct doc *v, struct err *e)
{
	const struct doc *name, *prev;
	size_t i, j;

	for (i = 1; i < v->n; i++) {
		name = doc_map_get(v->u.items[i], "name");
		for (j = 0; j < i; j++) {
			prev = doc_map_get(v->u.items[j], "name");
			if (same_text(name, prev))
				return err_set(
				    e, -EBADMSG,
				    "[%zu].name: duplicate task name \"%.64s\"",
				    i, name->u.s);
		}
	}
	return 0;
}

/* [A-Za-z_][A-Za-z0-9_]{0,255}: the keys become environment variables. */
static bool var_name(const char *s)
{
	size_t i;

	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	      *s == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (i > 255 || !((s[i] >= 'A' && s[i] <= 'Z') ||
				 (s[i] >= 'a' && s[i] <= 'z') ||
				 (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int check_var_keys(const struct doc *v, struct err *e)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!var_name(v->u.kv[i].key))
			return err_set(
			    e, -EBADMSG,
			    "key \"%.64s\" is not a valid variable name",
			    v->u.kv[i].key);
	return 0;
}

/* Stigmer's ^$|^latest$|^[a-zA-Z0-9._-]+$|^[a-f0-9]{64}$ reduces to this. */
static int check_ref_version(const struct doc *v, struct err *e)
{
	const char *s = v->u.s;
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return err_set(e, -EBADMSG,
				       "must be \"latest\" or letters, digits, "
				       "'.', '_' and '-'");
	return 0;
}

/* clang-format off */

/* ---- metadata and audit --------------------------------------------- */

static const struct schema_field version_fields[] = {
	{ .json = "id", .proto = "id", .type = ST_STRING },
	{ .json = "message", .proto = "message", .type = ST_STRING },
	{ .json = "previousVersionId", .proto = "previous_version_id",
	  .type = ST_STRING },
};
static const struct schema_msg version_msg =
	MSG("ApiResourceMetadataVersion", version_fields);

static const struct schema_field metadata_fields[] = {
	{ .json = "name", .proto = "name", .type = ST_STRING, .max = 253 },
	{ .json = "slug", .proto = "slug", .type = ST_STRING },
	{ .json = "id", .proto = "id", .type = ST_STRING },
	{ .json = "org", .proto = "org", .type = ST_STRING },
	{ .json = "ownerScope", .proto = "owner_scope", .type = ST_ENUM,
	  .en = &model_owner_scope },
	{ .json = "labels", .proto = "labels", .type = ST_STRING,
	  .flags = SF_MAP, .max = 64 },
	{ .json = "annotations", .proto = "annotations", .type = ST_STRING,
	  .flags = SF_MAP },
	{ .json = "tags", .proto = "tags", .type = ST_STRING,
	  .flags = SF_REPEATED },
	{ .json = "version", .proto = "version", .type = ST_MESSAGE,
	  .msg = &version_msg },
};
const struct schema_msg model_metadata = MSG("ApiResourceMetadata",
					     metadata_fields);

static const struct schema_field actor_fields[] = {
	{ .json = "id", .proto = "id", .type = ST_STRING },
	{ .json = "avatar", .proto = "avatar", .type = ST_STRING },
};
static const struct schema_msg actor_msg =
	MSG("ApiResourceAuditActor", actor_fields);

/* Timestamps are RFC 3339 text, as protobuf JSON writes them. */
static const struct schema_field audit_info_fields[] = {
	{ .json = "createdBy", .proto = "created_by", .type = ST_MESSAGE,
	  .msg = &actor_msg },
	{ .json = "createdAt", .proto = "created_at", .type = ST_STRING },
	{ .json = "updatedBy", .proto = "updated_by", .type = ST_MESSAGE,
	  .msg = &actor_msg },
	{ .json = "updatedAt", .proto = "updated_at", .type = ST_STRING },
	{ .json = "event", .proto = "event", .type = ST_STRING },
};
static const struct schema_msg audit_info_msg =
	MSG("ApiResourceAuditInfo", audit_info_fields);

static const struct schema_field audit_fields[] = {
	{ .json = "specAudit", .proto = "spec_audit", .type = ST_MESSAGE,
	  .msg = &audit_info_msg },
	{ .json = "statusAudit", .proto = "status_audit", .type = ST_MESSAGE,
	  .msg = &audit_info_msg },
};
static const struct schema_msg audit_msg =
	MSG("ApiResourceAudit", audit_fields);

/* ---- environments and execution values ------------------------------ */

/* Stigmer puts no rule on an environment value: "" is allowed. */
static const struct schema_field env_value_fields[] = {
	{ .json = "value", .proto = "value", .type = ST_STRING,
	  .flags = SF_SECRET },
	{ .json = "isSecret", .proto = "is_secret", .type = ST_BOOL },
	{ .json = "description", .proto = "description", .type = ST_STRING },
};
static const struct schema_msg env_value_msg =
	MSG("EnvironmentValue", env_value_fields);

static const struct schema_field env_spec_fields[] = {
	{ .json = "description", .proto = "description", .type = ST_STRING },
	{ .json = "data", .proto = "data", .type = ST_MESSAGE,
	  .flags = SF_MAP, .msg = &env_value_msg, .check = check_var_keys },
};
const struct schema_msg model_environment_spec =
	MSG("EnvironmentSpec", env_spec_fields);

static const struct schema_field exec_value_fields[] = {
	{ .json = "value", .proto = "value", .type = ST_STRING,
	  .flags = SF_SECRET | SF_REQUIRED, .min = 1 },
	{ .json = "isSecret", .proto = "is_secret", .type = ST_BOOL },
};
static const struct schema_msg exec_value_msg =
	MSG("ExecutionValue", exec_value_fields);

/* ---- Workflow ------------------------------------------------------- */

static const struct schema_field document_fields[] = {
	{ .json = "dsl", .proto = "dsl", .type = ST_STRING,
	  .flags = SF_REQUIRED, .check = check_dsl },
	{ .json = "namespace", .proto = "namespace", .type = ST_STRING,
	  .flags = SF_REQUIRED },
	{ .json = "name", .proto = "name", .type = ST_STRING,
	  .flags = SF_REQUIRED },
	{ .json = "version", .proto = "version", .type = ST_STRING,
	  .flags = SF_REQUIRED },
	{ .json = "description", .proto = "description", .type = ST_STRING },
};
static const struct schema_msg document_msg =
	MSG("WorkflowDocument", document_fields);

static const struct schema_field export_fields[] = {
	{ .json = "as", .proto = "as", .type = ST_STRING, .min = 1 },
};
static const struct schema_msg export_msg = MSG("Export", export_fields);

static const struct schema_field flow_fields[] = {
	{ .json = "then", .proto = "then", .type = ST_STRING },
};
static const struct schema_msg flow_msg = MSG("FlowControl", flow_fields);

static const struct schema_field task_fields[] = {
	{ .json = "name", .proto = "name", .type = ST_STRING,
	  .flags = SF_REQUIRED, .max = 128 },
	{ .json = "kind", .proto = "kind", .type = ST_ENUM,
	  .flags = SF_REQUIRED, .en = &model_task_kind },
	{ .json = "taskConfig", .proto = "task_config", .type = ST_STRUCT,
	  .flags = SF_REQUIRED },
	{ .json = "export", .proto = "export", .type = ST_MESSAGE,
	  .msg = &export_msg },
	{ .json = "flow", .proto = "flow", .type = ST_MESSAGE,
	  .msg = &flow_msg },
};
static const struct schema_msg task_msg = MSG("WorkflowTask", task_fields);

/* The task cap keeps the duplicate-name check (quadratic) cheap. */
static const struct schema_field workflow_spec_fields[] = {
	{ .json = "description", .proto = "description", .type = ST_STRING },
	{ .json = "document", .proto = "document", .type = ST_MESSAGE,
	  .flags = SF_REQUIRED, .msg = &document_msg },
	{ .json = "tasks", .proto = "tasks", .type = ST_MESSAGE,
	  .flags = SF_REPEATED | SF_REQUIRED, .msg = &task_msg,
	  .min = 1, .max = 1000, .check = check_task_names },
	{ .json = "envSpec", .proto = "env_spec", .type = ST_MESSAGE,
	  .msg = &model_environment_spec },
};
const struct schema_msg model_workflow_spec =
	MSG("WorkflowSpec", workflow_spec_fields);

/* ---- WorkflowInstance ----------------------------------------------- */

static const struct schema_field ref_fields[] = {
	{ .json = "scope", .proto = "scope", .type = ST_ENUM,
	  .en = &model_owner_scope },
	{ .json = "org", .proto = "org", .type = ST_STRING },
	{ .json = "kind", .proto = "kind", .type = ST_ENUM, .en = &ref_kind },
	{ .json = "slug", .proto = "slug", .type = ST_STRING },
	{ .json = "version", .proto = "version", .type = ST_STRING,
	  .check = check_ref_version },
	{ .json = "id", .proto = "id", .type = ST_STRING },
};
static const struct schema_msg ref_msg =
	MSG("ApiResourceReference", ref_fields);

static const struct schema_field instance_spec_fields[] = {
	{ .json = "workflowId", .proto = "workflow_id", .type = ST_STRING,
	  .flags = SF_REQUIRED },
	{ .json = "description", .proto = "description", .type = ST_STRING },
	{ .json = "envRefs", .proto = "env_refs", .type = ST_MESSAGE,
	  .flags = SF_REPEATED, .msg = &ref_msg },
};
const struct schema_msg model_workflow_instance_spec =
	MSG("WorkflowInstanceSpec", instance_spec_fields);

/* ---- WorkflowExecution and ExecutionContext ------------------------- */

/* dryRun is an execfs extension (DESIGN 1.5). */
static const struct schema_field execution_spec_fields[] = {
	{ .json = "workflowInstanceId", .proto = "workflow_instance_id",
	  .type = ST_STRING },
	{ .json = "workflowId", .proto = "workflow_id", .type = ST_STRING },
	{ .json = "triggerMessage", .proto = "trigger_message",
	  .type = ST_STRING },
	{ .json = "triggerMetadata", .proto = "trigger_metadata",
	  .type = ST_STRING, .flags = SF_MAP },
	{ .json = "runtimeEnv", .proto = "runtime_env", .type = ST_MESSAGE,
	  .flags = SF_MAP, .msg = &exec_value_msg, .check = check_var_keys },
	{ .json = "callbackToken", .proto = "callback_token",
	  .type = ST_BYTES },
	{ .json = "dryRun", .proto = "dry_run", .type = ST_BOOL },
};
const struct schema_msg model_workflow_execution_spec =
	MSG("WorkflowExecutionSpec", execution_spec_fields);

static const struct schema_field context_spec_fields[] = {
	{ .json = "executionId", .proto = "execution_id", .type = ST_STRING,
	  .flags = SF_REQUIRED },
	{ .json = "data", .proto = "data", .type = ST_MESSAGE,
	  .flags = SF_MAP, .msg = &exec_value_msg, .check = check_var_keys },
};
const struct schema_msg model_execution_context_spec =
	MSG("ExecutionContextSpec", context_spec_fields);

/* ---- status (written by execfs, never read from input) -------------- */

static const struct schema_field audit_status_fields[] = {
	{ .json = "audit", .proto = "audit", .type = ST_MESSAGE,
	  .msg = &audit_msg },
};
const struct schema_msg model_audit_status =
	MSG("ApiResourceAuditStatus", audit_status_fields);

static const struct schema_field workflow_status_fields[] = {
	{ .json = "defaultInstanceId", .proto = "default_instance_id",
	  .type = ST_STRING },
	{ .json = "audit", .proto = "audit", .type = ST_MESSAGE,
	  .msg = &audit_msg },
};
const struct schema_msg model_workflow_status =
	MSG("WorkflowStatus", workflow_status_fields);

static const struct schema_field progress_fields[] = {
	{ .json = "done", .proto = "done", .type = ST_INT },
	{ .json = "total", .proto = "total", .type = ST_INT },
};
static const struct schema_msg progress_msg =
	MSG("ExecutionProgress", progress_fields);

static const struct schema_field summary_fields[] = {
	{ .json = "durationMs", .proto = "duration_ms", .type = ST_INT,
	  .min = INT64_MIN, .max = INT64_MAX },
	{ .json = "exitCode", .proto = "exit_code", .type = ST_INT },
	{ .json = "total", .proto = "total", .type = ST_INT },
	{ .json = "completed", .proto = "completed", .type = ST_INT },
	{ .json = "failed", .proto = "failed", .type = ST_INT },
	{ .json = "skipped", .proto = "skipped", .type = ST_INT },
	{ .json = "cancelled", .proto = "cancelled", .type = ST_INT },
	{ .json = "dryRun", .proto = "dry_run", .type = ST_BOOL },
};
static const struct schema_msg summary_msg =
	MSG("ExecutionSummary", summary_fields);

/* The execution-side task record (not the spec's WorkflowTask). */
static const struct schema_field task_run_fields[] = {
	{ .json = "id", .proto = "id", .type = ST_STRING },
	{ .json = "name", .proto = "name", .type = ST_STRING },
	{ .json = "kind", .proto = "kind", .type = ST_ENUM,
	  .en = &model_task_kind },
	{ .json = "status", .proto = "status", .type = ST_ENUM,
	  .en = &model_task_status },
	{ .json = "startedAt", .proto = "started_at", .type = ST_STRING },
	{ .json = "completedAt", .proto = "completed_at", .type = ST_STRING },
	{ .json = "exitCode", .proto = "exit_code", .type = ST_INT },
	{ .json = "error", .proto = "error", .type = ST_STRING },
	{ .json = "output", .proto = "output", .type = ST_VALUE },
};
static const struct schema_msg task_run_msg =
	MSG("WorkflowExecutionTask", task_run_fields);

static const struct schema_field execution_status_fields[] = {
	{ .json = "phase", .proto = "phase", .type = ST_ENUM,
	  .en = &model_execution_phase },
	{ .json = "progress", .proto = "progress", .type = ST_MESSAGE,
	  .msg = &progress_msg },
	{ .json = "tasks", .proto = "tasks", .type = ST_MESSAGE,
	  .flags = SF_REPEATED, .msg = &task_run_msg },
	{ .json = "output", .proto = "output", .type = ST_VALUE },
	{ .json = "error", .proto = "error", .type = ST_STRING },
	{ .json = "startedAt", .proto = "started_at", .type = ST_STRING },
	{ .json = "completedAt", .proto = "completed_at", .type = ST_STRING },
	{ .json = "summary", .proto = "summary", .type = ST_MESSAGE,
	  .msg = &summary_msg },
	{ .json = "audit", .proto = "audit", .type = ST_MESSAGE,
	  .msg = &audit_msg },
};
const struct schema_msg model_workflow_execution_status =
	MSG("WorkflowExecutionStatus", execution_status_fields);

/* clang-format on */
