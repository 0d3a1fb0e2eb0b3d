/*
 * test_runenv.c - the environment of a run and the ephemeral contexts
 * (core/run_env.h): run_env_set()'s rules, envp building, run_env_build()
 * over a real plane (Workflow envSpec < envRefs environments < contexts <
 * runtimeEnv, secrets opened for the right record), the
 * MoveRuntimeSecretsToContext step as a write shows it (the context, its
 * sealed values, the execution's record and spec.yaml, the LMDB file),
 * ctx_delete_for() and ctx_sweep().
 *
 * The plane holds its runs (plane_opts.hold_runs): executions stay
 * PENDING and keep their contexts; their workflow WAITs an hour anyway,
 * so the checks hold with a runner too.  Executions in a given phase are
 * put straight into the store (plane_i.h).  Each test gets a fresh state
 * directory and key file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/plane.h"
#include "core/plane_i.h"
#include "core/run_i.h"
#include "core/run_env.h"
#include "core/yaml.h"
#include "crypt/seal.h"
#include "fx_plane.h"

#define SEC_NS 1000000000LL

/* ---- fixture -------------------------------------------------------- */

static int setup(void **state)
{
	struct fx_plane *f;

	if (fx_plane_new(&f, "runenv"))
		return -1;
	f->hold = true;	/* this test plays the runner */
	*state = f;
	return fx_plane_open(f) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	fx_plane_free(*state);
	return 0;
}

/* ---- documents ------------------------------------------------------ */

#define BASE_SECRET "BASE-PLANTED-7171"
#define PROD_SECRET "PROD-PLANTED-8282"
#define WF_SECRET "WF-PLANTED-6363"
#define RT_SECRET "RT-PLANTED-5454"
#define Z_SECRET "Z-PLANTED-4545"
#define X_SECRET "X-PLANTED-3636"

static const char base_doc[] =
	"spec:\n"
	"  data:\n"
	"    A: {value: from-base}\n"
	"    B: {value: base-b}\n"
	"    BASE_SECRET: {value: " BASE_SECRET ", isSecret: true}\n";

static const char prod_doc[] =
	"spec:\n"
	"  data:\n"
	"    A: {value: from-prod}\n"
	"    P: {value: prod-only}\n"
	"    EMPTY: {}\n"
	"    PROD_SECRET:\n"
	"      value: " PROD_SECRET "\n"
	"      isSecret: true\n";

/* A workflow whose run lasts longer than any test. */
#define WF_DOC(envspec) \
	"spec:\n" \
	"  document: {dsl: 1.0.0, namespace: t, name: w, version: 1.0.0}\n" \
	"  tasks:\n" \
	"    - {name: hold, kind: WAIT, taskConfig: {seconds: 3600}}\n" \
	envspec

static const char wf_doc[] = WF_DOC(
	"  envSpec:\n"
	"    data:\n"
	"      A: {value: from-wf}\n"
	"      W: {value: wf-only}\n"
	"      WF_SECRET: {value: " WF_SECRET ", isSecret: true}\n");

static const char inst_doc[] =
	"spec:\n"
	"  workflowId: wf\n"
	"  envRefs: [base, prod]\n";

static const char run1_doc[] =
	"metadata: {name: run1}\n"
	"spec:\n"
	"  workflowInstanceId: inst\n"
	"  runtimeEnv:\n"
	"    A: {value: from-runtime}\n"
	"    RT_SECRET: {value: " RT_SECRET ", isSecret: true}\n"
	"    Z:\n"
	"      value: " Z_SECRET "\n"
	"      isSecret: true\n";

/* Written by hand after run1; sorts before "run1-ctx". */
static const char extra_ctx_doc[] =
	"spec:\n"
	"  executionId: run1\n"
	"  data:\n"
	"    B: {value: from-extra}\n"
	"    Z: {value: z-extra}\n"
	"    X_SECRET: {value: " X_SECRET ", isSecret: true}\n";

static int put(struct fx_plane *f, enum kind_id k, const char *name,
	       const char *text)
{
	return fx_put(f, k, PLANE_WRITE_NEW, name, text, NULL);
}

static void ok_put(struct fx_plane *f, enum kind_id k, const char *name,
		   const char *text)
{
	fx_ok_put(f, k, PLANE_WRITE_NEW, name, text, NULL);
}

/* The scene every build test starts from. */
static void scene(struct fx_plane *f)
{
	ok_put(f, KIND_ENVIRONMENT, "base.yaml", base_doc);
	ok_put(f, KIND_ENVIRONMENT, "prod.yaml", prod_doc);
	ok_put(f, KIND_WORKFLOW, "wf.yaml", wf_doc);
	ok_put(f, KIND_WORKFLOW_INSTANCE, "inst.yaml", inst_doc);
	ok_put(f, KIND_WORKFLOW_EXECUTION, "run1.yaml", run1_doc);
	ok_put(f, KIND_EXECUTION_CONTEXT, "extra-ctx.yaml", extra_ctx_doc);
}

/* ---- reading -------------------------------------------------------- */

/* The stored resource @slug of @k (caller frees). */
static struct doc *load(struct fx_plane *f, enum kind_id k, const char *slug)
{
	struct plane_res r = fx_lookup(f, k, slug);
	struct doc *d = NULL;

	assert_int_equal(record_load(f->p, r.id, NULL, &d), 0);
	return d;
}

static const char *view(struct fx_plane *f, enum kind_id k, const char *slug,
			enum plane_view v)
{
	struct plane_res r = fx_lookup(f, k, slug);
	struct plane_blob *b = NULL;
	char *s;

	assert_int_equal(plane_view(f->p, r.serial, v, &b), 0);
	s = fx_keep(f, malloc(b->len + 1));
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	plane_blob_put(b);
	return s;
}

/* Build the environment of execution @slug. */
static int build(struct fx_plane *f, const char *slug, struct run_env *env)
{
	struct plane_res r = fx_lookup(f, KIND_WORKFLOW_EXECUTION, slug);
	struct doc *exec = load(f, KIND_WORKFLOW_EXECUTION, slug);
	const char *wf_id = doc_get_str(exec, "spec.workflowId");
	struct doc *wf = NULL;
	int rc;

	assert_non_null(wf_id);
	assert_int_equal(record_load(f->p, wf_id, NULL, &wf), 0);
	run_env_init(env);
	err_clear(&f->e);
	rc = run_env_build(f->p, NULL, exec, r.id, r.slug, wf, env, &f->e);
	doc_free(exec);
	doc_free(wf);
	return rc;
}

static void want_var(const struct run_env *env, const char *name,
		     const char *value, bool secret, const char *from)
{
	const struct run_var *v = run_env_get(env, name);

	if (!v)
		fail_msg("%s: not defined", name);
	if (v->len != strlen(value) || memcmp(v->value, value, v->len) ||
	    v->value[v->len] != '\0' || v->secret != secret ||
	    strcmp(v->from, from))
		fail_msg("%s: got \"%s\" secret %d from \"%s\", want \"%s\" "
			 "secret %d from \"%s\"", name, v->value, v->secret,
			 v->from, value, secret, from);
}

/* ---- run_env_set and envp ------------------------------------------- */

static void set_rules(void **state)
{
	static const struct {
		const char *name;
		int rc;
	} names[] = {
		{ "A", 0 }, { "_", 0 }, { "a_b9", 0 }, { "PATH", 0 },
		{ "", -EINVAL }, { "9A", -EINVAL }, { "A-B", -EINVAL },
		{ "A B", -EINVAL }, { "A=B", -EINVAL }, { "é", -EINVAL },
	};
	struct run_env env;
	char longname[300];
	size_t i;

	(void)state;
	run_env_init(&env);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (run_env_set(&env, names[i].name, "v", 1, false, "t") !=
		    names[i].rc)
			fail_msg("name \"%s\": want %d", names[i].name,
				 names[i].rc);
	assert_int_equal(run_env_set(&env, NULL, "v", 1, false, "t"), -EINVAL);
	memset(longname, 'N', sizeof(longname));
	longname[256] = '\0';
	assert_int_equal(run_env_set(&env, longname, "v", 1, false, "t"), 0);
	longname[256] = 'N';
	longname[257] = '\0';
	assert_int_equal(run_env_set(&env, longname, "v", 1, false, "t"),
			 -EINVAL);
	/* A NUL inside the value is refused, secret or not. */
	assert_int_equal(run_env_set(&env, "N", "a\0b", 3, false, "t"),
			 -EINVAL);
	assert_int_equal(run_env_set(&env, "N", "a\0b", 3, true, "t"),
			 -EINVAL);
	assert_null(run_env_get(&env, "N"));
	assert_null(run_env_get(&env, "MISSING"));
	/* Redefining replaces in place: the position stays, the rest goes. */
	assert_int_equal(env.n, 5);
	assert_string_equal(env.v[0].name, "A");
	assert_int_equal(run_env_set(&env, "A", "s3cret", 6, true, "later"),
			 0);
	assert_int_equal(env.n, 5);
	assert_string_equal(env.v[0].name, "A");
	assert_string_equal(env.v[0].value, "s3cret");
	assert_true(env.v[0].secret);
	assert_string_equal(env.v[0].from, "later");
	assert_int_equal(run_env_set(&env, "A", "", 0, false, NULL), 0);
	assert_int_equal(env.v[0].len, 0);
	assert_string_equal(env.v[0].value, "");
	assert_false(env.v[0].secret);
	assert_string_equal(env.v[0].from, "");
	run_env_release(&env);
	assert_int_equal(env.n, 0);
	run_env_release(&env);	/* safe to repeat */
}

static void set_cap(void **state)
{
	struct run_env env;
	char name[32];
	int i;

	(void)state;
	run_env_init(&env);
	for (i = 0; i < RUN_ENV_MAX; i++) {
		snprintf(name, sizeof(name), "V%d", i);
		assert_int_equal(run_env_set(&env, name, name, strlen(name),
					     i % 2, "t"), 0);
	}
	assert_int_equal(run_env_set(&env, "ONE_MORE", "x", 1, false, "t"),
			 -E2BIG);
	/* Replacing one still works at the cap. */
	assert_int_equal(run_env_set(&env, "V7", "y", 1, false, "t"), 0);
	assert_int_equal(env.n, RUN_ENV_MAX);
	run_env_release(&env);
}

static size_t envp_len(char **envp)
{
	size_t n = 0;

	while (envp[n])
		n++;
	return n;
}

static void envp_rules(void **state)
{
	struct run_env base, extra;
	char **envp = NULL;

	(void)state;
	run_env_init(&base);
	run_env_init(&extra);
	assert_int_equal(run_env_set(&base, "A", "1", 1, false, "b"), 0);
	assert_int_equal(run_env_set(&base, "S", "hush", 4, true, "b"), 0);
	assert_int_equal(run_env_set(&base, "E", "", 0, false, "b"), 0);
	assert_int_equal(run_env_set(&extra, "B", "3", 1, false, "x"), 0);
	assert_int_equal(run_env_set(&extra, "A", "2", 1, false, "x"), 0);

	/* No PATH anywhere: the default comes first; extra wins. */
	assert_int_equal(run_env_envp(&base, &extra, &envp), 0);
	assert_int_equal(envp_len(envp), 5);
	assert_string_equal(envp[0], "PATH=/usr/local/bin:/usr/bin:/bin");
	assert_string_equal(envp[1], "A=2");
	assert_string_equal(envp[2], "S=hush");
	assert_string_equal(envp[3], "E=");
	assert_string_equal(envp[4], "B=3");
	run_env_envp_free(envp);

	/* No extra at all. */
	assert_int_equal(run_env_envp(&base, NULL, &envp), 0);
	assert_int_equal(envp_len(envp), 4);
	assert_string_equal(envp[1], "A=1");
	run_env_envp_free(envp);

	/* A PATH of either side replaces the default, the later one wins. */
	assert_int_equal(run_env_set(&base, "PATH", "/b", 2, false, "b"), 0);
	assert_int_equal(run_env_envp(&base, NULL, &envp), 0);
	assert_int_equal(envp_len(envp), 4);
	assert_string_equal(envp[3], "PATH=/b");
	run_env_envp_free(envp);
	assert_int_equal(run_env_set(&extra, "PATH", "/x", 2, false, "x"), 0);
	assert_int_equal(run_env_envp(&base, &extra, &envp), 0);
	assert_int_equal(envp_len(envp), 5);
	assert_string_equal(envp[3], "PATH=/x");
	run_env_envp_free(envp);
	run_env_envp_free(NULL);

	/* Empty both: only the default PATH. */
	run_env_release(&base);
	run_env_release(&extra);
	assert_int_equal(run_env_envp(&base, &extra, &envp), 0);
	assert_int_equal(envp_len(envp), 1);
	run_env_envp_free(envp);
}

/* ---- run_env_build -------------------------------------------------- */

static void build_precedence(void **state)
{
	struct fx_plane *f = *state;
	struct run_env env;
	int rc;

	scene(f);
	rc = build(f, "run1", &env);
	if (rc)
		fail_msg("build: %d: %s", rc, f->e.msg);
	want_var(&env, "A", "from-runtime", false, "runtimeEnv");
	want_var(&env, "W", "wf-only", false, "Workflow envSpec");
	want_var(&env, "WF_SECRET", WF_SECRET, true, "Workflow envSpec");
	want_var(&env, "BASE_SECRET", BASE_SECRET, true, "Environment base");
	want_var(&env, "P", "prod-only", false, "Environment prod");
	want_var(&env, "EMPTY", "", false, "Environment prod");
	want_var(&env, "PROD_SECRET", PROD_SECRET, true, "Environment prod");
	want_var(&env, "B", "from-extra", false, "ExecutionContext extra-ctx");
	want_var(&env, "X_SECRET", X_SECRET, true,
		 "ExecutionContext extra-ctx");
	/* Contexts in slug order: run1-ctx comes after extra-ctx. */
	want_var(&env, "Z", Z_SECRET, true, "ExecutionContext run1-ctx");
	want_var(&env, "RT_SECRET", RT_SECRET, true,
		 "ExecutionContext run1-ctx");
	assert_int_equal(env.n, 11);
	/* In order of first definition. */
	assert_string_equal(env.v[0].name, "A");
	assert_string_equal(env.v[1].name, "W");
	assert_string_equal(env.v[3].name, "B");
	assert_string_equal(env.v[env.n - 1].name, "RT_SECRET");
	run_env_release(&env);
}

/* No instance on the execution: the workflow's default instance. */
static void build_via_default(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	struct run_env env;
	struct doc *exec, *wf = NULL;
	const char *did;
	int rc;

	scene(f);
	ok_put(f, KIND_WORKFLOW_EXECUTION, "run2.yaml",
	       "metadata: {name: run2}\nspec: {workflowId: wf}\n");
	/* The default instance learns an environment. */
	assert_int_equal(plane_write(f->p, &f->who, KIND_WORKFLOW_INSTANCE,
				     PLANE_WRITE_SPEC, "wf-default",
				     "spec: {workflowId: wf, envRefs: [prod]}\n",
				     40, NULL, &f->e), 0);
	r = fx_lookup(f, KIND_WORKFLOW_EXECUTION, "run2");
	exec = load(f, KIND_WORKFLOW_EXECUTION, "run2");
	assert_int_equal(record_load(f->p, doc_get_str(exec,
						       "spec.workflowId"),
				     NULL, &wf), 0);
	did = doc_get_str(wf, "status.defaultInstanceId");
	assert_non_null(did);
	assert_string_equal(did, doc_get_str(exec, "spec.workflowInstanceId"));
	assert_int_equal(doc_map_del(doc_map_get(exec, "spec"),
				     "workflowInstanceId"), 0);
	run_env_init(&env);
	rc = run_env_build(f->p, NULL, exec, r.id, r.slug, wf, &env, &f->e);
	if (rc)
		fail_msg("build: %d: %s", rc, f->e.msg);
	want_var(&env, "A", "from-prod", false, "Environment prod");
	want_var(&env, "W", "wf-only", false, "Workflow envSpec");
	assert_null(run_env_get(&env, "BASE_SECRET"));
	assert_null(run_env_get(&env, "RT_SECRET"));	/* run1's */
	run_env_release(&env);
	doc_free(exec);
	doc_free(wf);
}

/* Rewrite the stored record @id with @res (keeping its source). */
static int put_all(void *ctx, struct doc *res)
{
	const struct doc *from = ctx;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < from->n; i++)
		rc = doc_map_set(res, from->u.kv[i].key,
				 doc_clone(from->u.kv[i].val));
	return rc;
}

static void restore(struct fx_plane *f, const char *id, struct doc *res)
{
	assert_int_equal(run_commit_with(f->p, id, put_all, res, NULL), 0);
}

static void build_failures(void **state)
{
	struct fx_plane *f = *state;
	struct run_env env;
	struct doc *base, *prod;

	scene(f);
	/* A secret moved to another record does not open. */
	base = load(f, KIND_ENVIRONMENT, "base");
	prod = load(f, KIND_ENVIRONMENT, "prod");
	assert_int_equal(doc_map_set(doc_get(prod, "spec.data.PROD_SECRET"),
				     "value",
				     doc_clone(doc_get(base, "spec.data."
						       "BASE_SECRET.value"))),
			 0);
	restore(f, fx_lookup(f, KIND_ENVIRONMENT, "prod").id, prod);
	assert_int_equal(build(f, "run1", &env), -EBADMSG);
	assert_non_null(strstr(f->e.msg, "Environment prod"));
	assert_non_null(strstr(f->e.msg, "PROD_SECRET"));
	assert_null(strstr(f->e.msg, "PLANTED"));
	run_env_release(&env);
	doc_free(base);
	doc_free(prod);

	/* An environment of the instance that is gone. */
	assert_int_equal(plane_delete(f->p, &f->who, KIND_ENVIRONMENT, "prod",
				      &f->e), 0);
	assert_int_equal(build(f, "run1", &env), -ENOENT);
	assert_non_null(strstr(f->e.msg, "spec.envRefs[1]"));
	assert_non_null(strstr(f->e.msg, "prod"));
	run_env_release(&env);

	/* Made again under the same name: found by its slug. */
	ok_put(f, KIND_ENVIRONMENT, "prod.yaml", prod_doc);
	assert_int_equal(build(f, "run1", &env), 0);
	want_var(&env, "PROD_SECRET", PROD_SECRET, true, "Environment prod");
	run_env_release(&env);
}

/* ---- MoveRuntimeSecretsToContext ------------------------------------ */

static void move_secrets(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wex;
	struct doc *exec, *ctx, *hand;
	struct store_rec h;
	struct seal_ad ad = { "ExecutionContext", NULL,
			      "spec.data.RT_SECRET.value" };
	const struct doc *n;
	const char *spec, *ctx_spec, *ctx_res;
	char *plain = NULL;
	size_t len = 0;

	scene(f);
	wex = fx_lookup(f, KIND_WORKFLOW_EXECUTION, "run1");
	assert_true(fx_exists(f, KIND_EXECUTION_CONTEXT, "run1-ctx"));

	/* The context: the execution's id, the secrets sealed for it. */
	ctx = load(f, KIND_EXECUTION_CONTEXT, "run1-ctx");
	assert_string_equal(doc_get_str(ctx, "spec.executionId"), wex.id);
	assert_string_equal(doc_get_str(ctx, "metadata.name"), "run1-ctx");
	assert_non_null(doc_get(ctx, "status.audit.specAudit.createdAt"));
	assert_null(doc_get(ctx, "spec.data.A"));
	n = doc_get(ctx, "spec.data.RT_SECRET.value");
	assert_non_null(n);
	assert_int_equal(n->type, DOC_SEALED);
	assert_true(doc_get(ctx, "spec.data.RT_SECRET.isSecret")->i);
	assert_int_equal(store_get_slug(f->p->st, KIND_EXECUTION_CONTEXT,
					"run1-ctx", &h, NULL), 0);
	ad.id = h.id;
	assert_int_equal(open_value(f->p->kr, &ad, n->u.s, n->n, &plain, &len),
			 0);
	assert_int_equal(len, strlen(RT_SECRET));
	assert_memory_equal(plain, RT_SECRET, len);
	seal_free_plain(plain, len);
	/* Sealed for the context, not for the execution. */
	ad.kind = "WorkflowExecution";
	ad.id = wex.id;
	ad.path = "spec.runtimeEnv.RT_SECRET.value";
	assert_int_equal(open_value(f->p->kr, &ad, n->u.s, n->n, &plain, &len),
			 -EBADMSG);
	/* Same owner scope as a context written by hand. */
	hand = load(f, KIND_EXECUTION_CONTEXT, "extra-ctx");
	assert_non_null(doc_get_str(ctx, "metadata.ownerScope"));
	assert_string_equal(doc_get_str(ctx, "metadata.ownerScope"),
			    doc_get_str(hand, "metadata.ownerScope"));
	doc_free(hand);
	doc_free(ctx);

	/* The execution keeps only its plain values. */
	exec = load(f, KIND_WORKFLOW_EXECUTION, "run1");
	assert_null(doc_get(exec, "spec.runtimeEnv.RT_SECRET"));
	assert_null(doc_get(exec, "spec.runtimeEnv.Z"));
	assert_string_equal(doc_get_str(exec, "spec.runtimeEnv.A.value"),
			    "from-runtime");
	doc_free(exec);

	/* Views: spec.yaml as written with "***"; the rest without them. */
	spec = view(f, KIND_WORKFLOW_EXECUTION, "run1", VIEW_SPEC);
	assert_non_null(strstr(spec, "RT_SECRET: {value: \"***\", "
				     "isSecret: true}"));
	assert_non_null(strstr(spec, "      value: \"***\"\n"));
	assert_null(strstr(spec, "PLANTED"));
	assert_null(strstr(view(f, KIND_WORKFLOW_EXECUTION, "run1",
				VIEW_RESOURCE_YAML), "RT_SECRET"));
	ctx_spec = view(f, KIND_EXECUTION_CONTEXT, "run1-ctx", VIEW_SPEC);
	assert_non_null(strstr(ctx_spec, "***"));
	assert_non_null(strstr(ctx_spec, wex.id));
	assert_non_null(strstr(ctx_spec, "RT_SECRET"));
	assert_null(strstr(ctx_spec, "PLANTED"));
	ctx_res = view(f, KIND_EXECUTION_CONTEXT, "run1-ctx",
		       VIEW_RESOURCE_YAML);
	assert_non_null(strstr(ctx_res, "***"));
	assert_null(strstr(ctx_res, "PLANTED"));

	/* No plaintext anywhere in the store. */
	assert_false(fx_in_data_file(f, RT_SECRET));
	assert_false(fx_in_data_file(f, Z_SECRET));
	assert_false(fx_in_data_file(f, WF_SECRET));
	assert_false(fx_in_data_file(f, PROD_SECRET));
	assert_false(fx_in_data_file(f, X_SECRET));
	assert_true(fx_in_data_file(f, "from-runtime"));	/* the check works */
}

static void move_only_secrets(void **state)
{
	struct fx_plane *f = *state;
	struct doc *exec;

	ok_put(f, KIND_WORKFLOW, "wf.yaml", WF_DOC(""));
	ok_put(f, KIND_WORKFLOW_EXECUTION, "s.yaml",
	       "metadata: {name: s}\n"
	       "spec:\n"
	       "  workflowId: wf\n"
	       "  runtimeEnv: {T: {value: " RT_SECRET ", isSecret: true}}\n");
	assert_true(fx_exists(f, KIND_EXECUTION_CONTEXT, "s-ctx"));
	exec = load(f, KIND_WORKFLOW_EXECUTION, "s");
	assert_null(doc_get(exec, "spec.runtimeEnv"));
	doc_free(exec);
	assert_false(fx_in_data_file(f, RT_SECRET));

	/* Plain values only: no context. */
	ok_put(f, KIND_WORKFLOW_EXECUTION, "p.yaml",
	       "metadata: {name: p}\n"
	       "spec: {workflowId: wf, runtimeEnv: {T: {value: x}}}\n");
	assert_false(fx_exists(f, KIND_EXECUTION_CONTEXT, "p-ctx"));
}

static void move_refusals(void **state)
{
	struct fx_plane *f = *state;

	ok_put(f, KIND_WORKFLOW, "wf.yaml", WF_DOC(""));
	/* The context name is taken: nothing is created. */
	ok_put(f, KIND_EXECUTION_CONTEXT, "t-ctx.yaml",
	       "spec: {executionId: someone}\n");
	assert_int_equal(put(f, KIND_WORKFLOW_EXECUTION, "t.yaml",
			     "metadata: {name: t}\n"
			     "spec:\n"
			     "  workflowId: wf\n"
			     "  runtimeEnv: {T: {value: " RT_SECRET
			     ", isSecret: true}}\n"), -EEXIST);
	assert_non_null(strstr(f->e.msg, "t-ctx"));
	assert_false(fx_exists(f, KIND_WORKFLOW_EXECUTION, "t"));
	/* "***" keeps nothing on create. */
	assert_int_equal(put(f, KIND_WORKFLOW_EXECUTION, "u.yaml",
			     "metadata: {name: u}\n"
			     "spec:\n"
			     "  workflowId: wf\n"
			     "  runtimeEnv: {T: {value: '***', isSecret: "
			     "true}}\n"), -EBADMSG);
	assert_false(fx_exists(f, KIND_WORKFLOW_EXECUTION, "u"));
	assert_false(fx_exists(f, KIND_EXECUTION_CONTEXT, "u-ctx"));
	/* A secret written through an alias cannot be masked. */
	assert_int_equal(put(f, KIND_WORKFLOW_EXECUTION, "v.yaml",
			     "metadata: {name: v}\n"
			     "x-anchor: &s " RT_SECRET "\n"
			     "spec:\n"
			     "  workflowId: wf\n"
			     "  runtimeEnv: {T: {value: *s, isSecret: "
			     "true}}\n"), -EBADMSG);
	assert_false(fx_exists(f, KIND_EXECUTION_CONTEXT, "v-ctx"));
	assert_false(fx_in_data_file(f, RT_SECRET));
}

/* ---- deleting and sweeping ------------------------------------------ */

static void delete_for(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wex;
	int n;

	scene(f);
	ok_put(f, KIND_EXECUTION_CONTEXT, "other-ctx.yaml",
	       "spec: {executionId: someone-else, data: {Q: {value: q}}}\n");
	wex = fx_lookup(f, KIND_WORKFLOW_EXECUTION, "run1");
	n = ctx_delete_for(f->p, wex.id, wex.slug, &f->e);
	if (n != 2)
		fail_msg("ctx_delete_for: %d: %s", n, f->e.msg);
	assert_false(fx_exists(f, KIND_EXECUTION_CONTEXT, "run1-ctx"));
	assert_false(fx_exists(f, KIND_EXECUTION_CONTEXT, "extra-ctx"));
	assert_true(fx_exists(f, KIND_EXECUTION_CONTEXT, "other-ctx"));
	assert_int_equal(ctx_delete_for(f->p, wex.id, wex.slug, &f->e), 0);
	assert_true(fx_exists(f, KIND_WORKFLOW_EXECUTION, "run1"));
}

/* An execution in @phase, put straight into the store. */
static const char *stored_execution(struct fx_plane *f, const char *slug,
				    const char *phase)
{
	struct buf body = BUF_INIT(1 << 20);
	struct store_change ch;
	struct doc *d = doc_new(DOC_MAP);
	char *id = fx_keep(f, calloc(1, IDS_ID_MAX));

	memset(&ch, 0, sizeof(ch));
	assert_int_equal(ids_new("wex", id), 0);
	assert_int_equal(doc_map_setstr(d, "kind", "WorkflowExecution"), 0);
	assert_int_equal(doc_map_setstr(doc_map_child(d, "metadata"), "name",
					slug), 0);
	assert_int_equal(doc_map_setstr(doc_map_child(d, "metadata"), "id",
					id), 0);
	assert_int_equal(doc_map_setstr(doc_map_child(d, "status"), "phase",
					phase), 0);
	assert_int_equal(record_encode(d, NULL, &body), 0);
	ch.op = STORE_PUT;
	ch.hdr.kind = KIND_WORKFLOW_EXECUTION;
	ch.hdr.serial = store_next_serial(f->p->st);
	ch.hdr.gen = 1;
	memcpy(ch.hdr.id, id, strlen(id) + 1);
	snprintf(ch.hdr.slug, sizeof(ch.hdr.slug), "%s", slug);
	ch.body = body.data;
	ch.len = body.len;
	assert_int_equal(store_commit(f->p->st, &ch, 1, NULL), 0);
	doc_free(d);
	buf_release(&body);
	return id;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SEC_NS + ts.tv_nsec;
}

static void sweep(void **state)
{
	static const struct {
		const char *exec;
		const char *phase;	/* NULL: no such execution */
		bool by_id;
		bool swept;
	} rows[] = {
		{ "e-pending", "PENDING", false, false },
		{ "e-running", "IN_PROGRESS", true, false },
		{ "e-done", "COMPLETED", false, true },
		{ "e-failed", "FAILED", true, true },
		{ "e-cancelled", "CANCELLED", false, true },
		{ "e-gone", NULL, false, true },
	};
	const size_t nrows = sizeof(rows) / sizeof(rows[0]);
	struct fx_plane *f = *state;
	const char *ref;
	size_t i;
	int64_t t0;
	int n;

	for (i = 0; i < nrows; i++) {
		ref = rows[i].exec;
		if (rows[i].phase) {
			const char *id = stored_execution(f, rows[i].exec,
							  rows[i].phase);

			ref = rows[i].by_id ? id : ref;
		}
		ok_put(f, KIND_EXECUTION_CONTEXT,
		       fx_fmt(f, "%s-ctx.yaml", rows[i].exec),
		       fx_fmt(f, "spec: {executionId: %s}\n", ref));
	}
	t0 = now_ns();
	/* Younger than the ttl: all stay. */
	assert_int_equal(ctx_sweep(f->p, t0, 60, &f->e), 0);
	for (i = 0; i < nrows; i++)
		assert_true(fx_exists(f, KIND_EXECUTION_CONTEXT,
				      fx_fmt(f, "%s-ctx", rows[i].exec)));
	/* Past it: the ones whose execution ended or is gone. */
	n = ctx_sweep(f->p, t0 + 61 * SEC_NS, 60, &f->e);
	if (n != 4)
		fail_msg("ctx_sweep: %d: %s", n, f->e.msg);
	for (i = 0; i < nrows; i++)
		if (fx_exists(f, KIND_EXECUTION_CONTEXT,
			      fx_fmt(f, "%s-ctx", rows[i].exec)) ==
		    rows[i].swept)
			fail_msg("%s-ctx: want swept %d", rows[i].exec,
				 rows[i].swept);
	assert_int_equal(ctx_sweep(f->p, t0 + 61 * SEC_NS, 0, &f->e), 0);
	assert_true(fx_exists(f, KIND_WORKFLOW_EXECUTION, "e-done"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_rules),
		cmocka_unit_test(set_cap),
		cmocka_unit_test(envp_rules),
		T(build_precedence),
		T(build_via_default),
		T(build_failures),
		T(move_secrets),
		T(move_only_secrets),
		T(move_refusals),
		T(delete_for),
		T(sweep),
	};

	if (crypt_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
