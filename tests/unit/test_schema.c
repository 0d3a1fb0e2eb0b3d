/*
 * test_schema.c - the resource model and the schema normalizer: canonical
 * output of valid documents per kind, exact errors (errno and a message
 * fragment naming the field path) for invalid ones, enum spellings, the
 * generic field rules on a test table, the secret walker, the drafts and
 * the kind lookups.  Documents are written as YAML and parsed with
 * yaml_parse(), as users write them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/doc.h"
#include "core/err.h"
#include "core/model.h"
#include "core/schema.h"
#include "core/yaml.h"

#define AV "apiVersion\":\"agentic.stigmer.ai/v1\""

/* ---- helpers -------------------------------------------------------- */

static struct doc *parse(const char *yaml)
{
	struct err e = {0, ""};
	struct doc *d = NULL;

	if (yaml_parse(yaml, strlen(yaml), NULL, &d, &e) != 0)
		fail_msg("test YAML does not parse: %s\n%s", e.msg, yaml);
	return d;
}

static int normalize(enum kind_id kid, const char *yaml, const char *dname,
		     struct doc **out, struct err *e)
{
	struct doc *in = parse(yaml);
	int rc = model_normalize(model_kind(kid), in, dname, out, e);

	doc_free(in);
	return rc;
}

static char *to_json(const struct doc *d)
{
	struct buf b = BUF_INIT(1 << 20);

	assert_int_equal(json_emit(d, &b, 0), 0);
	return buf_detach(&b, NULL);
}

/* ---- valid documents ------------------------------------------------ */

struct valid_case {
	const char *name;
	enum kind_id kind;
	const char *dname;
	const char *yaml;
	const char *json; /* compact JSON of the canonical resource */
};

/* clang-format off */
#define WF_DOC "document: {dsl: 1.0.0, namespace: acme, name: demo, version: 1.0.0}\n"
#define WF_TASK "  tasks:\n    - {name: a, kind: RUN, taskConfig: {shell: {command: 'echo hi'}}}\n"
#define WF_OK "metadata: {name: demo}\nspec:\n  " WF_DOC WF_TASK
#define WF_DOC_JSON "\"document\":{\"dsl\":\"1.0.0\",\"namespace\":\"acme\"," \
	"\"name\":\"demo\",\"version\":\"1.0.0\"}"
#define WF_TASK_JSON "\"tasks\":[{\"name\":\"a\",\"kind\":\"RUN\"," \
	"\"taskConfig\":{\"shell\":{\"command\":\"echo hi\"}}}]"

static const struct valid_case valid_cases[] = {
	{ "workflow minimal", KIND_WORKFLOW, NULL, WF_OK,
	  "{\"" AV ",\"kind\":\"Workflow\",\"metadata\":{\"name\":\"demo\","
	  "\"ownerScope\":\"PLATFORM\"},\"spec\":{" WF_DOC_JSON ","
	  WF_TASK_JSON "}}" },
	{ "workflow snake_case, numbers and full enum names", KIND_WORKFLOW,
	  NULL,
	  "api_version: agentic.stigmer.ai/v1\n"
	  "kind: Workflow\n"
	  "metadata: {name: demo, owner_scope: organization, org: acme}\n"
	  "spec:\n"
	  "  env_spec:\n"
	  "    data: {TOKEN: {value: t, is_secret: true}}\n"
	  "  tasks:\n"
	  "    - {name: b, kind: WORKFLOW_TASK_KIND_SET, task_config: {x: 1}}\n"
	  "    - name: c\n"
	  "      kind: 12\n"
	  "      task_config: {}\n"
	  "      export: {as: out}\n"
	  "      flow: {then: end}\n"
	  "  document: {dsl: \"1.0.0\", namespace: acme, name: demo, version: 1}\n"
	  "  description: null\n"
	  "status: {defaultInstanceId: win-x}\n",
	  "{\"" AV ",\"kind\":\"Workflow\",\"metadata\":{\"name\":\"demo\","
	  "\"org\":\"acme\",\"ownerScope\":\"ORGANIZATION\"},\"spec\":{"
	  "\"document\":{\"dsl\":\"1.0.0\",\"namespace\":\"acme\","
	  "\"name\":\"demo\",\"version\":\"1\"},\"tasks\":["
	  "{\"name\":\"b\",\"kind\":\"SET\",\"taskConfig\":{\"x\":1}},"
	  "{\"name\":\"c\",\"kind\":\"RUN\",\"taskConfig\":{},"
	  "\"export\":{\"as\":\"out\"},\"flow\":{\"then\":\"end\"}}],"
	  "\"envSpec\":{\"data\":{\"TOKEN\":{\"value\":\"t\","
	  "\"isSecret\":true}}}}}" },
	{ "environment from the directory name", KIND_ENVIRONMENT, "prod",
	  "{}\n",
	  "{\"" AV ",\"kind\":\"Environment\",\"metadata\":{\"name\":\"prod\","
	  "\"ownerScope\":\"ORGANIZATION\"},\"spec\":{}}" },
	{ "environment values, scalars as strings", KIND_ENVIRONMENT, "x",
	  "kind: Environment\n"
	  "metadata: {name: '', ownerScope: identity_account}\n"
	  "spec:\n"
	  "  description: shared\n"
	  "  data:\n"
	  "    PIN: {value: 12345, isSecret: true}\n"
	  "    RATIO: {value: 1.5, description: null}\n"
	  "    _EMPTY: {value: ''}\n",
	  "{\"" AV ",\"kind\":\"Environment\",\"metadata\":{\"name\":\"x\","
	  "\"ownerScope\":\"IDENTITY_ACCOUNT\"},\"spec\":{\"description\":"
	  "\"shared\",\"data\":{\"PIN\":{\"value\":\"12345\",\"isSecret\":true},"
	  "\"RATIO\":{\"value\":\"1.5\"},\"_EMPTY\":{\"value\":\"\"}}}}" },
	{ "metadata in full", KIND_ENVIRONMENT, NULL,
	  "metadata:\n"
	  "  version: {previous_version_id: v1, message: m}\n"
	  "  tags: [a, 2]\n"
	  "  annotations: {note: hi}\n"
	  "  labels: {team: core}\n"
	  "  owner_scope: 2\n"
	  "  org: acme\n"
	  "  id: env-01\n"
	  "  slug: s\n"
	  "  name: N\n",
	  "{\"" AV ",\"kind\":\"Environment\",\"metadata\":{\"name\":\"N\","
	  "\"slug\":\"s\",\"id\":\"env-01\",\"org\":\"acme\","
	  "\"ownerScope\":\"ORGANIZATION\",\"labels\":{\"team\":\"core\"},"
	  "\"annotations\":{\"note\":\"hi\"},\"tags\":[\"a\",\"2\"],"
	  "\"version\":{\"message\":\"m\",\"previousVersionId\":\"v1\"}},"
	  "\"spec\":{}}" },
	{ "instance with references", KIND_WORKFLOW_INSTANCE, "i",
	  "spec:\n"
	  "  workflowId: demo\n"
	  "  env_refs:\n"
	  "    - prod\n"
	  "    - {version: latest, slug: stage, kind: environment, scope: 2}\n"
	  "    - {id: env-1, kind: 53, org: acme}\n",
	  "{\"" AV ",\"kind\":\"WorkflowInstance\",\"metadata\":{\"name\":\"i\","
	  "\"ownerScope\":\"PLATFORM\"},\"spec\":{\"workflowId\":\"demo\","
	  "\"envRefs\":[{\"slug\":\"prod\"},{\"scope\":\"ORGANIZATION\","
	  "\"kind\":\"ENVIRONMENT\",\"slug\":\"stage\",\"version\":\"latest\"},"
	  "{\"org\":\"acme\",\"kind\":\"ENVIRONMENT\",\"id\":\"env-1\"}]}}" },
	{ "execution, slug instead of name", KIND_WORKFLOW_EXECUTION, NULL,
	  "metadata: {slug: run-1}\n"
	  "spec:\n"
	  "  dry_run: true\n"
	  "  callbackToken: aGVsbG8=\n"
	  "  runtime_env: {TOKEN: {value: abc, is_secret: true}, N: {value: '1'}}\n"
	  "  trigger_metadata: {source: cli}\n"
	  "  triggerMessage: go\n"
	  "  workflow_id: demo\n",
	  "{\"" AV ",\"kind\":\"WorkflowExecution\",\"metadata\":{\"slug\":"
	  "\"run-1\",\"ownerScope\":\"ORGANIZATION\"},\"spec\":{\"workflowId\":"
	  "\"demo\",\"triggerMessage\":\"go\",\"triggerMetadata\":{\"source\":"
	  "\"cli\"},\"runtimeEnv\":{\"TOKEN\":{\"value\":\"abc\",\"isSecret\":"
	  "true},\"N\":{\"value\":\"1\"}},\"callbackToken\":\"aGVsbG8=\","
	  "\"dryRun\":true}}" },
	{ "execution context", KIND_EXECUTION_CONTEXT, "c",
	  "metadata: {ownerScope: api_resource_owner_scope_unspecified}\n"
	  "spec: {execution_id: wex-1, data: {K: {value: v, isSecret: false}}}\n",
	  "{\"" AV ",\"kind\":\"ExecutionContext\",\"metadata\":{\"name\":\"c\","
	  "\"ownerScope\":\"UNSPECIFIED\"},\"spec\":{\"executionId\":\"wex-1\","
	  "\"data\":{\"K\":{\"value\":\"v\",\"isSecret\":false}}}}" },
};
/* clang-format on */

static void test_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];
		struct err e = {0, ""};
		struct doc *out = NULL;
		char *json;

		if (normalize(c->kind, c->yaml, c->dname, &out, &e) != 0)
			fail_msg("%s: %s", c->name, e.msg);
		json = to_json(out);
		if (strcmp(json, c->json) != 0)
			fail_msg("%s:\n got  %s\n want %s", c->name, json,
				 c->json);
		free(json);
		doc_free(out);
	}
}

/* A number written into a string field keeps the spelling it was written
 * with, while the same number in a Struct stays a number. */
static void test_number_spelling(void **state)
{
	struct err e = {0, ""};
	struct doc *out = NULL;

	(void)state;
	assert_int_equal(normalize(KIND_WORKFLOW,
		"spec:\n  document: {dsl: 1.0.0, namespace: 0x1F, name: n,"
		" version: 1.10}\n  tasks:\n  - {name: t, kind: SET,"
		" taskConfig: {set: {a: 1.10}}}\n", "w", &out, &e), 0);
	assert_string_equal(doc_get_str(out, "spec.document.version"),
			    "1.10");
	assert_string_equal(doc_get_str(out, "spec.document.namespace"),
			    "0x1F");
	assert_int_equal(doc_get(out, "spec.document.version")->type,
			 DOC_STR);
	assert_int_equal(doc_get(out->u.kv[3].val->u.kv[1].val->u.items[0],
				 "taskConfig.set.a")->type, DOC_FLOAT);
	doc_free(out);
}

/* ---- invalid documents ---------------------------------------------- */

struct bad_case {
	enum kind_id kind;
	const char *dname;
	const char *yaml;
	int rc;
	const char *msg; /* fragment of the message */
};

#define W KIND_WORKFLOW
#define WI KIND_WORKFLOW_INSTANCE
#define WX KIND_WORKFLOW_EXECUTION
#define EC KIND_EXECUTION_CONTEXT
#define EN KIND_ENVIRONMENT
#define WF_SPEC(tasks)                                                         \
	"metadata: {name: d}\nspec:\n  " WF_DOC "  tasks:\n" tasks
#define TASK_A "    - {name: a, kind: RUN, taskConfig: {}}\n"
#define ENV_DATA(x) "metadata: {name: e}\nspec:\n  data: " x "\n"
#define WX_SPEC(x) "metadata: {name: x}\nspec: " x "\n"

/* clang-format off */
static const struct bad_case bad_cases[] = {
	/* envelope */
	{ W, "d", "foo: 1\n", -EBADMSG, "foo: unknown field" },
	{ W, "d", "apiVersion: v2\n", -EBADMSG,
	  "apiVersion: expected \"agentic.stigmer.ai/v1\", got \"v2\"" },
	{ W, "d", "apiVersion: {a: 1}\n", -EBADMSG,
	  "apiVersion: expected a string, got a map" },
	{ W, "d", "kind: Environment\n", -EBADMSG,
	  "kind: expected \"Workflow\", got \"Environment\"" },
	{ W, "d", "kind: workflow\n", -EBADMSG,
	  "kind: expected \"Workflow\", got \"workflow\"" },
	{ EN, "d", "apiVersion: agentic.stigmer.ai/v1\n"
		   "api_version: agentic.stigmer.ai/v1\n", -EBADMSG,
	  "field given twice (apiVersion and api_version)" },
	{ EN, "d", "- a\n", -EBADMSG, "expected a map, got a list" },
	{ EN, "d", "spec: [1]\n", -EBADMSG, "spec: expected a map, got a list" },
	/* metadata */
	{ EN, "d", "metadata: x\n", -EBADMSG,
	  "metadata: expected a map, got a string" },
	{ EN, "d", "metadata: {name: a, colour: red}\n", -EBADMSG,
	  "metadata.colour: unknown field" },
	{ EN, "d", "metadata: {name: {a: 1}}\n", -EBADMSG,
	  "metadata.name: expected a string, got a map" },
	{ EN, NULL, "metadata: {org: acme}\n", -EBADMSG,
	  "metadata.name: required" },
	{ EN, NULL, "spec: {}\n", -EBADMSG, "metadata.name: required" },
	{ EN, "d", "metadata: {labels: {team: [a]}}\n", -EBADMSG,
	  "metadata.labels.team: expected a string, got a list" },
	{ EN, "d", "metadata: {labels: [a]}\n", -EBADMSG,
	  "metadata.labels: expected a map, got a list" },
	{ EN, "d", "metadata: {tags: a}\n", -EBADMSG,
	  "metadata.tags: expected a list, got a string" },
	{ EN, "d", "metadata: {tags: [a, {b: 1}]}\n", -EBADMSG,
	  "metadata.tags[1]: expected a string, got a map" },
	{ EN, "d", "metadata: {ownerScope: GALAXY}\n", -EBADMSG,
	  "metadata.ownerScope: unknown value \"GALAXY\" (expected one of "
	  "UNSPECIFIED, PLATFORM, ORGANIZATION, IDENTITY_ACCOUNT)" },
	{ EN, "d", "metadata: {ownerScope: 7}\n", -EBADMSG,
	  "metadata.ownerScope: unknown value \"7\"" },
	{ EN, "d", "metadata: {ownerScope: true}\n", -EBADMSG,
	  "metadata.ownerScope: expected an enum value (name or number), "
	  "got a boolean" },
	{ EN, "d", "metadata: {ownerScope: 2, owner_scope: 2}\n", -EBADMSG,
	  "metadata: field given twice (ownerScope and owner_scope)" },
	{ EN, "d", "metadata: {ownerScope: null, owner_scope: 1}\n", -EBADMSG,
	  "metadata.ownerScope: Environment owner_scope must be" },
	{ EN, "d", "metadata: {version: {previousVersionId: a, "
		   "previous_version_id: b}}\n", -EBADMSG,
	  "metadata.version: field given twice (previousVersionId and "
	  "previous_version_id)" },
	/* owner scope per kind */
	{ W, "d", "metadata: {ownerScope: IDENTITY_ACCOUNT}\n", -EBADMSG,
	  "metadata.ownerScope: Workflow owner_scope must be platform or "
	  "organization" },
	{ EN, "d", "metadata: {ownerScope: PLATFORM}\n", -EBADMSG,
	  "metadata.ownerScope: Environment owner_scope must be organization "
	  "or identity_account" },
	{ WX, "d", "metadata: {ownerScope: 1}\n", -EBADMSG,
	  "metadata.ownerScope: WorkflowExecution owner_scope must be "
	  "organization or identity_account" },
	{ EC, "d", "metadata: {ownerScope: organization}\n"
		   "spec: {executionId: x}\n", -EBADMSG,
	  "metadata.ownerScope: ExecutionContext owner_scope must be "
	  "unspecified (operator-managed resource)" },
	{ WI, "d", "metadata: {ownerScope: UNSPECIFIED}\n", -EBADMSG,
	  "metadata.ownerScope: WorkflowInstance owner_scope must be platform,"
	  " organization or identity_account" },
	/* Workflow */
	{ W, "d", "metadata: {name: d}\n", -EBADMSG, "spec.document: required" },
	{ W, "d", "spec: {document: {dsl: 0.8, namespace: a, name: b, "
		  "version: c}, tasks: [{name: a, kind: RUN, taskConfig: {}}]}\n",
	  -EBADMSG, "spec.document.dsl: must be \"1.0.0\"" },
	{ W, "d", "spec: {document: {dsl: 1.0.0, name: b, version: c}}\n",
	  -EBADMSG, "spec.document.namespace: required" },
	{ W, "d", "spec: {document: {dsl: 1.0.0, namespace: '', name: b, "
		  "version: c}}\n", -EBADMSG, "spec.document.namespace: required" },
	{ W, "d", "spec: {document: {dsl: 1.0.0, namespace: a, name: b, "
		  "version: c}}\n", -EBADMSG, "spec.tasks: required" },
	{ W, "d", WF_SPEC("    []\n"), -EBADMSG, "spec.tasks: required" },
	{ W, "d", "spec:\n  " WF_DOC "  tasks: {a: 1}\n", -EBADMSG,
	  "spec.tasks: expected a list, got a map" },
	{ W, "d", WF_SPEC(TASK_A "    - {name: b, kind: LOOP, taskConfig: {}}\n"),
	  -EBADMSG, "spec.tasks[1].kind: unknown value \"LOOP\" (expected one "
	  "of UNSPECIFIED, SET, HTTP_CALL, GRPC_CALL, CALL_ACTIVITY, SWITCH, "
	  "FOR, FORK, TRY, LISTEN, WAIT, RAISE, RUN, AGENT_CALL)" },
	{ W, "d", WF_SPEC("    - {name: a, kind: unspecified, taskConfig: {}}\n"),
	  -EBADMSG, "spec.tasks[0].kind: required" },
	{ W, "d", WF_SPEC("    - {name: a, kind: RUN}\n"), -EBADMSG,
	  "spec.tasks[0].taskConfig: required" },
	{ W, "d", WF_SPEC("    - {name: a, kind: RUN, taskConfig: [1]}\n"),
	  -EBADMSG, "spec.tasks[0].taskConfig: expected a map, got a list" },
	{ W, "d", WF_SPEC("    - {kind: RUN, taskConfig: {}}\n"), -EBADMSG,
	  "spec.tasks[0].name: required" },
	{ W, "d", WF_SPEC(TASK_A "    - {name: b, kind: SET, taskConfig: {}}\n"
			  "    - {name: a, kind: SET, taskConfig: {}}\n"),
	  -EBADMSG, "spec.tasks[2].name: duplicate task name \"a\"" },
	{ W, "d", WF_SPEC("    - {name: a, kind: RUN, taskConfig: {}, "
			  "task_config: {}}\n"), -EBADMSG,
	  "spec.tasks[0]: field given twice (taskConfig and task_config)" },
	{ W, "d", WF_SPEC("    - {name: a, kind: RUN, taskConfig: {}, "
			  "export: {as: ''}}\n"), -EBADMSG,
	  "spec.tasks[0].export.as: must not be empty" },
	{ W, "d", WF_SPEC("    - {name: a, kind: RUN, taskConfig: {}, "
			  "loop: true}\n"), -EBADMSG,
	  "spec.tasks[0].loop: unknown field" },
	{ W, "d", WF_SPEC(TASK_A) "  envSpec: {data: {a-b: {value: x}}}\n",
	  -EBADMSG, "spec.envSpec.data: key \"a-b\" is not a valid variable "
	  "name" },
	{ W, "d", WF_SPEC(TASK_A) "  extra: 1\n", -EBADMSG,
	  "spec.extra: unknown field" },
	/* Environment */
	{ EN, "d", ENV_DATA("{K: {value: x, isSecret: 'yes'}}"), -EBADMSG,
	  "spec.data.K.isSecret: expected a boolean, got a string" },
	{ EN, "d", ENV_DATA("{K: [1]}"), -EBADMSG,
	  "spec.data.K: expected a map, got a list" },
	{ EN, "d", ENV_DATA("{K: }"), -EBADMSG,
	  "spec.data.K: expected a map, got null" },
	{ EN, "d", ENV_DATA("[K]"), -EBADMSG,
	  "spec.data: expected a map, got a list" },
	{ EN, "d", ENV_DATA("{1X: {value: x}}"), -EBADMSG,
	  "spec.data: key \"1X\" is not a valid variable name" },
	{ EN, "d", ENV_DATA("{K: {value: {a: 1}}}"), -EBADMSG,
	  "spec.data.K.value: expected a string, got a map" },
	/* WorkflowInstance */
	{ WI, "d", "spec: {description: x}\n", -EBADMSG,
	  "spec.workflowId: required" },
	{ WI, "d", "spec: {workflowId: a, workflow_id: a}\n", -EBADMSG,
	  "spec: field given twice (workflowId and workflow_id)" },
	{ WI, "d", "spec: {workflowId: a, envRefs: [{kind: WORKFLOW, "
		   "slug: x}]}\n", -EBADMSG,
	  "spec.envRefs[0].kind: unknown value \"WORKFLOW\" (expected one of "
	  "ENVIRONMENT)" },
	{ WI, "d", "spec: {workflowId: a, envRefs: [x, {org: acme}]}\n",
	  -EBADMSG, "spec.envRefs[1]: slug or id required" },
	{ WI, "d", "spec: {workflowId: a, envRefs: [[x]]}\n", -EBADMSG,
	  "spec.envRefs[0]: expected a map, got a list" },
	{ WI, "d", "spec: {workflowId: a, envRefs: [{slug: x, "
		   "version: 'a b'}]}\n", -EBADMSG,
	  "spec.envRefs[0].version: must be \"latest\" or" },
	{ WI, "d", "spec: {workflowId: a, envRefs: x}\n", -EBADMSG,
	  "spec.envRefs: expected a list, got a string" },
	/* WorkflowExecution */
	{ WX, "d", WX_SPEC("{runtimeEnv: {K: {value: ''}}}"), -EBADMSG,
	  "spec.runtimeEnv.K.value: required" },
	{ WX, "d", WX_SPEC("{runtimeEnv: {my-key: {value: x}}}"), -EBADMSG,
	  "spec.runtimeEnv: key \"my-key\" is not a valid variable name" },
	{ WX, "d", WX_SPEC("{runtimeEnv: {K: {value: x, description: y}}}"),
	  -EBADMSG, "spec.runtimeEnv.K: unknown field (its name is not shown" },
	{ WX, "d", WX_SPEC("{dryRun: 'true'}"), -EBADMSG,
	  "spec.dryRun: expected a boolean, got a string" },
	{ WX, "d", WX_SPEC("{callbackToken: '***'}"), -EBADMSG,
	  "spec.callbackToken: expected base64 text, got a string" },
	{ WX, "d", WX_SPEC("{triggerMetadata: {src: {a: 1}}}"), -EBADMSG,
	  "spec.triggerMetadata.src: expected a string, got a map" },
	{ WX, "d", WX_SPEC("{triggerMessage: [a]}"), -EBADMSG,
	  "spec.triggerMessage: expected a string, got a list" },
	/* ExecutionContext */
	{ EC, "d", "spec: {data: {K: {value: x}}}\n", -EBADMSG,
	  "spec.executionId: required" },
	{ EC, "d", "spec: {executionId: x, data: {K: {isSecret: true}}}\n",
	  -EBADMSG, "spec.data.K.value: required" },
	{ EC, "d", "{}\n", -EBADMSG, "spec.executionId: required" },
};
/* clang-format on */

static void test_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct err e = {0, ""};
		struct doc *out = NULL;
		int rc = normalize(c->kind, c->yaml, c->dname, &out, &e);

		if (rc != c->rc)
			fail_msg("case %zu: rc %d, want %d (%s)\n%s", i, rc,
				 c->rc, e.msg, c->yaml);
		if (!strstr(e.msg, c->msg))
			fail_msg("case %zu: message \"%s\"\n lacks \"%s\"", i,
				 e.msg, c->msg);
		assert_int_equal(e.code, c->rc);
		assert_null(out);
	}
}

/* Generated documents: long names and many labels. */
static void test_limits(void **state)
{
	struct buf b = BUF_INIT(1 << 16);
	struct err e = {0, ""};
	struct doc *out = NULL;
	int i;

	(void)state;
	assert_int_equal(buf_addstr(&b, "metadata: {name: "), 0);
	for (i = 0; i < 253; i++)
		assert_int_equal(buf_addc(&b, 'n'), 0);
	assert_int_equal(buf_addstr(&b, "}\n"), 0);
	assert_int_equal(normalize(EN, b.data, NULL, &out, &e), 0);
	doc_free(out);
	out = NULL;
	buf_reset(&b);
	/* 253 characters of two bytes each are still 253 characters. */
	assert_int_equal(buf_addstr(&b, "metadata: {name: "), 0);
	for (i = 0; i < 253; i++)
		assert_int_equal(buf_addstr(&b, "\xc3\xa9"), 0);
	assert_int_equal(buf_addstr(&b, "}\n"), 0);
	assert_int_equal(normalize(EN, b.data, NULL, &out, &e), 0);
	doc_free(out);
	out = NULL;
	buf_reset(&b);
	assert_int_equal(buf_addstr(&b, "metadata: {name: x"), 0);
	for (i = 0; i < 253; i++)
		assert_int_equal(buf_addc(&b, 'n'), 0);
	assert_int_equal(buf_addstr(&b, "}\n"), 0);
	assert_int_equal(normalize(EN, b.data, NULL, &out, &e), -EBADMSG);
	assert_string_equal(e.msg, "metadata.name: longer than 253 characters");

	buf_reset(&b);
	assert_int_equal(buf_addstr(&b, "metadata:\n  name: x\n  labels:\n"),
			 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(buf_addf(&b, "    l%d: v\n", i), 0);
	assert_int_equal(normalize(EN, b.data, NULL, &out, &e), 0);
	doc_free(out);
	out = NULL;
	assert_int_equal(buf_addstr(&b, "    l64: v\n"), 0);
	assert_int_equal(normalize(EN, b.data, NULL, &out, &e), -EBADMSG);
	assert_string_equal(e.msg,
			    "metadata.labels: too many entries (at most 64)");
	assert_null(out);

	buf_reset(&b);
	assert_int_equal(buf_addstr(&b, WF_SPEC("    - {name: ")), 0);
	for (i = 0; i < 129; i++)
		assert_int_equal(buf_addc(&b, 't'), 0);
	assert_int_equal(buf_addstr(&b, ", kind: RUN, taskConfig: {}}\n"), 0);
	assert_int_equal(normalize(W, b.data, NULL, &out, &e), -EBADMSG);
	assert_string_equal(e.msg,
			    "spec.tasks[0].name: longer than 128 characters");
	buf_release(&b);
}

/* Control bytes in keys never reach a message: it stays one line. */
static void test_message_one_line(void **state)
{
	struct err e = {0, ""};
	struct doc *out = NULL;

	(void)state;
	assert_int_equal(
	    normalize(EN, "metadata: {\"a\\nb\": 1}\n", "d", &out, &e),
	    -EBADMSG);
	assert_string_equal(e.msg, "metadata.a?b: unknown field");
}

/* ---- enums ---------------------------------------------------------- */

struct enum_case {
	const struct schema_enum *en;
	const char *text;
	int rc;
	int32_t number;
};

static void test_enum_parse(void **state)
{
	/* clang-format off */
	static const struct enum_case cases[] = {
		{ &model_execution_phase, "PENDING", 0, 1 },
		{ &model_execution_phase, "pending", 0, 1 },
		{ &model_execution_phase, "EXECUTION_PENDING", 0, 1 },
		{ &model_execution_phase, "execution_in_progress", 0, 2 },
		{ &model_execution_phase, "EXECUTION_PHASE_UNSPECIFIED", 0, 0 },
		{ &model_execution_phase, "Cancelled", 0, 5 },
		{ &model_execution_phase, "3", 0, 3 },
		{ &model_execution_phase, "9", -EBADMSG, 0 },
		{ &model_execution_phase, "-1", -EBADMSG, 0 },
		{ &model_execution_phase, "3x", -EBADMSG, 0 },
		{ &model_execution_phase, "", -EBADMSG, 0 },
		{ &model_execution_phase, "PHASE_PENDING", -EBADMSG, 0 },
		{ &model_execution_phase, "EXECUTION_", -EBADMSG, 0 },
		{ &model_owner_scope, "platform", 0, 1 },
		{ &model_owner_scope, "Identity_Account", 0, 3 },
		{ &model_owner_scope, "api_resource_owner_scope_unspecified", 0, 0 },
		{ &model_owner_scope, "environment", -EBADMSG, 0 },
		{ &model_task_kind, "WORKFLOW_TASK_KIND_AGENT_CALL", 0, 13 },
		{ &model_task_kind, "http_call", 0, 2 },
		{ &model_task_kind, "13", 0, 13 },
		{ &model_task_kind, "14", -EBADMSG, 0 },
		{ &model_task_status, "WORKFLOW_TASK_STATUS_UNSPECIFIED", 0, 0 },
		{ &model_task_status, "WORKFLOW_TASK_SKIPPED", 0, 5 },
		{ &model_task_status, "cancelled", 0, 6 },
		{ &model_task_status, "WORKFLOW_TASK_KIND_RUN", -EBADMSG, 0 },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t n = -77;
		int rc = schema_enum_parse(cases[i].en, cases[i].text, &n);

		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d", cases[i].text, rc);
		assert_int_equal(n, rc == 0 ? cases[i].number : -77);
	}
	assert_string_equal(schema_enum_name(&model_execution_phase, 2),
			    "IN_PROGRESS");
	assert_string_equal(schema_enum_name(&model_task_kind, 12), "RUN");
	assert_string_equal(schema_enum_name(&model_owner_scope, 3),
			    "IDENTITY_ACCOUNT");
	assert_null(schema_enum_name(&model_task_status, 7));
}

/* ---- generic field rules on a test table ----------------------------- */

static int check_even(const struct doc *v, struct err *e)
{
	return v->i % 2 ? err_set(e, -EBADMSG, "must be even") : 0;
}

/* clang-format off */
static const struct schema_field item_fields[] = {
	{ .json = "value", .proto = "value", .type = ST_STRING,
	  .flags = SF_SECRET },
	{ .json = "isSecret", .proto = "is_secret", .type = ST_BOOL },
};
/* clang-format on */
static const struct schema_msg item_msg = {"Item", item_fields, 2};

/* clang-format off */
static const struct schema_field t_fields[] = {
	{ .json = "count", .proto = "count", .type = ST_INT },
	{ .json = "small", .proto = "small", .type = ST_INT, .min = -5,
	  .max = 5 },
	{ .json = "even", .proto = "even", .type = ST_INT,
	  .check = check_even },
	{ .json = "pair", .proto = "pair", .type = ST_STRING,
	  .flags = SF_REPEATED, .min = 2, .max = 3 },
	{ .json = "any", .proto = "any", .type = ST_VALUE },
	{ .json = "blob", .proto = "blob", .type = ST_BYTES },
	{ .json = "serverSide", .proto = "server_side", .type = ST_STRING,
	  .flags = SF_OUTPUT },
	{ .json = "items", .proto = "items", .type = ST_MESSAGE,
	  .flags = SF_REPEATED, .msg = &item_msg },
	{ .json = "short", .proto = "short", .type = ST_STRING, .min = 2,
	  .max = 3 },
};
/* clang-format on */
static const struct schema_msg t_msg = {"T", t_fields, 9};

struct field_case {
	const char *yaml;
	int rc;
	const char *want; /* JSON on success, message otherwise */
};

static void test_fields(void **state)
{
	/* clang-format off */
	static const struct field_case cases[] = {
		{ "{count: 7, small: '-5', even: 4, pair: [a, b], any: [1, {x: "
		  "null}], blob: 'a-_b', serverSide: ignored, short: ab}", 0,
		  "{\"count\":7,\"small\":-5,\"even\":4,\"pair\":[\"a\",\"b\"],"
		  "\"any\":[1,{\"x\":null}],\"blob\":\"a-_b\",\"short\":\"ab\"}" },
		{ "{blob: 'aGk', count: null}", 0, "{\"blob\":\"aGk\"}" },
		{ "{count: 2147483648}", -EBADMSG,
		  "t.count: 2147483648 is out of range (-2147483648..2147483647)" },
		{ "{count: 1.5}", -EBADMSG,
		  "t.count: expected an integer, got a number" },
		{ "{count: '4x'}", -EBADMSG,
		  "t.count: expected an integer, got a string" },
		{ "{small: 6}", -EBADMSG, "t.small: 6 is out of range (-5..5)" },
		{ "{even: 3}", -EBADMSG, "t.even: must be even" },
		{ "{pair: [a]}", -EBADMSG, "t.pair: too few items (at least 2)" },
		{ "{pair: [a, b, c, d]}", -EBADMSG,
		  "t.pair: too many items (at most 3)" },
		{ "{blob: 'abcde'}", -EBADMSG,
		  "t.blob: expected base64 text, got a string" },
		{ "{blob: 'ab=c'}", -EBADMSG,
		  "t.blob: expected base64 text, got a string" },
		{ "{short: a}", -EBADMSG, "t.short: shorter than 2 characters" },
		{ "{short: abcd}", -EBADMSG, "t.short: longer than 3 characters" },
		{ "{items: [{value: a}, {value: b, isSecret: 1}]}", -EBADMSG,
		  "t.items[1].isSecret: expected a boolean, got an integer" },
		{ "[]", -EBADMSG, "t: expected a map, got a list" },
	};
	/* clang-format on */
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = {0, ""};
		struct doc *in = parse(cases[i].yaml), *out = NULL;
		int rc = schema_normalize(&t_msg, in, "t", &out, &e);

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s)", i, rc, e.msg);
		if (rc == 0) {
			char *json = to_json(out);

			if (strcmp(json, cases[i].want) != 0)
				fail_msg("case %zu: got %s", i, json);
			free(json);
		} else if (strcmp(e.msg, cases[i].want) != 0) {
			fail_msg("case %zu: message \"%s\"", i, e.msg);
		}
		doc_free(in);
		doc_free(out);
	}
}

/* An empty path gives messages without a leading ": ". */
static void test_top_path(void **state)
{
	struct err e = {0, ""};
	struct doc *in = parse("{nope: 1}"), *out = NULL;

	(void)state;
	assert_int_equal(schema_normalize(&t_msg, in, "", &out, &e), -EBADMSG);
	assert_string_equal(e.msg, "nope: unknown field");
	doc_free(in);
	in = doc_strz("x");
	assert_non_null(in);
	assert_int_equal(schema_normalize(&t_msg, in, "", &out, &e), -EBADMSG);
	assert_string_equal(e.msg, "expected a map, got a string");
	assert_null(out);
	doc_free(in);
}

/* ---- secrets -------------------------------------------------------- */

struct seen {
	char paths[8][128];
	char values[8][32];
	size_t n;
	size_t stop_at; /* return 1 at this call (0 = never) */
};

static int collect(void *ctx, const char *path, struct doc *node)
{
	struct seen *s = ctx;

	if (s->n == 8)
		return -E2BIG;
	snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
	snprintf(s->values[s->n], sizeof(s->values[0]), "%s", node->u.s);
	s->n++;
	return s->n == s->stop_at ? 1 : 0;
}

struct secret_case {
	enum kind_id kind;
	const char *yaml;
	size_t n;
	const char *paths[4];
	const char *values[4];
};

static void test_secrets(void **state)
{
	/* clang-format off */
	static const struct secret_case cases[] = {
		{ EN, "spec:\n  data:\n    A: {value: s1, isSecret: true}\n"
		      "    B: {value: p}\n    C: {value: s3, is_secret: true}\n"
		      "    D: {value: p, isSecret: false}\n",
		  2, { "spec.data.A.value", "spec.data.C.value" },
		  { "s1", "s3" } },
		{ W, WF_SPEC(TASK_A) "  envSpec: {data: {K: {value: 42, "
		     "isSecret: true}, L: {value: p}}}\n",
		  1, { "spec.envSpec.data.K.value" }, { "42" } },
		{ WX, WX_SPEC("{runtimeEnv: {T: {value: tok, isSecret: true}, "
			      "U: {value: pub}}, triggerMetadata: {x: y}}"),
		  1, { "spec.runtimeEnv.T.value" }, { "tok" } },
		{ EC, "spec: {executionId: x, data: {API_KEY: {value: k, "
		      "isSecret: true}}}\n",
		  1, { "spec.data.API_KEY.value" }, { "k" } },
		{ WI, "spec: {workflowId: a}\n", 0, { NULL }, { NULL } },
	};
	/* clang-format on */
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = {.n = 0};
		struct err e = {0, ""};
		struct doc *res = NULL;

		if (normalize(cases[i].kind, cases[i].yaml, "d", &res, &e))
			fail_msg("case %zu: %s", i, e.msg);
		assert_int_equal(
		    model_for_each_secret(model_kind(cases[i].kind), res,
					  collect, &s),
		    0);
		assert_int_equal(s.n, cases[i].n);
		for (j = 0; j < s.n; j++) {
			assert_string_equal(s.paths[j], cases[i].paths[j]);
			assert_string_equal(s.values[j], cases[i].values[j]);
		}
		doc_free(res);
	}
}

/* Lists give "[i]" paths; a non-zero return stops the walk. */
static void test_secret_walk(void **state)
{
	/* clang-format off */
	static const struct schema_field f[] = {
		{ .json = "items", .proto = "items", .type = ST_MESSAGE,
		  .flags = SF_REPEATED, .msg = &item_msg },
	};
	/* clang-format on */
	static const struct schema_msg m = {"L", f, 1};
	struct seen s = {.n = 0};
	struct doc *d = parse("items: [{value: a, isSecret: true}, {value: b},"
			      " {value: c, isSecret: true}]");

	(void)state;
	assert_int_equal(schema_for_each_secret(&m, d, "x", collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.paths[0], "x.items[0].value");
	assert_string_equal(s.paths[1], "x.items[2].value");
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	assert_int_equal(schema_for_each_secret(&m, d, "x", collect, &s), 1);
	assert_int_equal(s.n, 1);
	doc_free(d);
}

/* The normalized secret node still points at the text the user wrote. */
static void test_secret_position(void **state)
{
	static const char yaml[] =
	    "spec:\n  data:\n    TOKEN: {value: hunter2, isSecret: true}\n";
	struct seen s = {.n = 0};
	struct err e = {0, ""};
	struct doc *res = NULL, *v;

	(void)state;
	assert_int_equal(normalize(EN, yaml, "d", &res, &e), 0);
	v = doc_get(res, "spec.data.TOKEN.value");
	assert_non_null(v);
	assert_true(v->end > v->off);
	assert_int_equal(v->end - v->off, 7);
	assert_memory_equal(yaml + v->off, "hunter2", 7);
	assert_int_equal(v->line, 3);
	assert_int_equal(
	    model_for_each_secret(model_kind(EN), res, collect, &s), 0);
	assert_int_equal(s.n, 1);
	doc_free(res);
}

/* ---- drafts --------------------------------------------------------- */

/* The draft with "%s" replaced by @name; fails unless "%s" is there once
 * and no other '%' is. */
static char *fill_draft(const char *draft, const char *name)
{
	const char *at = strstr(draft, "%s");
	struct buf b = BUF_INIT(1 << 16);

	assert_non_null(at);
	assert_null(strchr(at + 1, '%'));
	assert_ptr_equal(strchr(draft, '%'), at);
	assert_int_equal(buf_add(&b, draft, (size_t)(at - draft)), 0);
	assert_int_equal(buf_addstr(&b, name), 0);
	assert_int_equal(buf_addstr(&b, at + 2), 0);
	return buf_detach(&b, NULL);
}

static void test_drafts(void **state)
{
	/* What the user still has to fill in, or NULL when valid as-is. */
	/* clang-format off */
	static const char *const blank[KIND_COUNT] = {
		[KIND_WORKFLOW] = "spec.document.name: required",
		[KIND_WORKFLOW_INSTANCE] = "spec.workflowId: required",
		[KIND_WORKFLOW_EXECUTION] = NULL,
		[KIND_EXECUTION_CONTEXT] = "spec.executionId: required",
		[KIND_ENVIRONMENT] = NULL,
	};
	/* clang-format on */
	int id;

	(void)state;
	for (id = 0; id < KIND_COUNT; id++) {
		const struct kind *k = model_kind((enum kind_id)id);
		char *text = fill_draft(k->draft, "demo");
		struct err e = {0, ""};
		struct doc *out = NULL;
		int rc = normalize((enum kind_id)id, text, NULL, &out, &e);

		if (!blank[id] && rc != 0)
			fail_msg("%s draft: %s", k->name, e.msg);
		if (blank[id] && (rc != -EBADMSG || strcmp(e.msg, blank[id])))
			fail_msg("%s draft: rc %d \"%s\"", k->name, rc, e.msg);
		if (out)
			assert_string_equal(doc_get_str(out, "metadata.name"),
					    "demo");
		doc_free(out);
		free(text);
	}
}

/* The Workflow draft with its blanks filled and its example task
 * uncommented is a valid Workflow. */
static void test_workflow_draft_filled(void **state)
{
	char *text = fill_draft(model_kind(W)->draft, "demo");
	struct err e = {0, ""};
	struct doc *out = NULL;
	const struct doc *tasks;
	char *c, *name;

	(void)state;
	name = strstr(text, "    name:  ");
	assert_non_null(name);
	memcpy(name + 10, "x", 1);
	while ((c = strstr(text, "\n    # ")) != NULL)
		memcpy(c + 5, "  ", 2);
	if (normalize(W, text, NULL, &out, &e) != 0)
		fail_msg("%s\n%s", e.msg, text);
	tasks = doc_get(out, "spec.tasks");
	assert_non_null(tasks);
	assert_int_equal(tasks->n, 1);
	assert_string_equal(doc_get_str(tasks->u.items[0], "kind"), "RUN");
	assert_string_equal(doc_get_str(out, "spec.document.name"), "x");
	doc_free(out);
	free(text);
}

/* ---- kinds ---------------------------------------------------------- */

static void test_kinds(void **state)
{
	/* clang-format off */
	static const struct {
		enum kind_id id;
		const char *dir, *name, *prefix;
		bool create_only;
	} want[] = {
		{ KIND_WORKFLOW, "workflows", "Workflow", "wfl", false },
		{ KIND_WORKFLOW_INSTANCE, "workflowinstances",
		  "WorkflowInstance", "win", false },
		{ KIND_WORKFLOW_EXECUTION, "workflowexecutions",
		  "WorkflowExecution", "wex", false },
		{ KIND_EXECUTION_CONTEXT, "executioncontexts",
		  "ExecutionContext", "exec", true },
		{ KIND_ENVIRONMENT, "environments", "Environment", "env",
		  false },
	};
	/* clang-format on */
	char id[64];
	size_t i;

	(void)state;
	for (i = 0; i < KIND_COUNT; i++) {
		const struct kind *k = model_kind(want[i].id);

		assert_non_null(k);
		assert_int_equal(k->id, want[i].id);
		assert_string_equal(k->dir, want[i].dir);
		assert_string_equal(k->name, want[i].name);
		assert_string_equal(k->prefix, want[i].prefix);
		assert_int_equal(k->create_only, want[i].create_only);
		assert_ptr_equal(model_kind_by_dir(want[i].dir), k);
		assert_ptr_equal(model_kind_by_name(want[i].name), k);
		snprintf(id, sizeof(id), "%s-01arz3ndektsv4rrffq69g5fav",
			 want[i].prefix);
		assert_ptr_equal(model_kind_by_prefix(id), k);
		assert_non_null(k->spec);
		assert_non_null(k->status);
	}
	assert_null(model_kind(KIND_COUNT));
	assert_null(model_kind_by_dir("agents"));
	assert_null(model_kind_by_name("workflow"));
	assert_null(model_kind_by_prefix("envx-1"));
	assert_null(model_kind_by_prefix("wfl"));
	assert_null(model_kind_by_prefix(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_message_one_line),
	    cmocka_unit_test(test_enum_parse),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_top_path),
	    cmocka_unit_test(test_secrets),
	    cmocka_unit_test(test_secret_walk),
	    cmocka_unit_test(test_secret_position),
	    cmocka_unit_test(test_drafts),
	    cmocka_unit_test(test_workflow_draft_filled),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_number_spelling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
