/*
 * test_plane.c - the control plane through plane.h, as fs/ drives it:
 * documents written as new files, as spec.yaml and as drafts; every view;
 * lookups, lists and counts; deletes; rejected changes and the errors
 * file; change notifications; task configs; the e2e suite's bad corpus
 * (tests/corpus/bad) run straight through plane_write(); secrets in every
 * view, the errors, the log and the LMDB file; concurrency.  Each test
 * gets a fresh state directory and key file.  A few checks reach below plane.h (plane_i.h) where the
 * contract cannot be seen from outside: the sealed blob of a secret, and
 * an execution's phase, which only the runner changes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
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
#include "core/yaml.h"
#include "crypt/seal.h"
#include "fx_plane.h"

#define SECRET "s3cr3t-PLANTED-value-77"
#define SECRET2 "n3w-PLANTED-value-88"
#define EVENTS_MAX 64

struct event {
	enum plane_change what;
	enum kind_id kind;
	uint64_t serial;
	char slug[SLUG_MAX + 1];
};

/*
 * The change notifications of the running test.  cmocka runs one test at
 * a time, so one recorder serves them all; setup empties it.
 */
static struct {
	pthread_mutex_t mu;
	struct event ev[EVENTS_MAX];	/* protected by mu */
	size_t nev;			/* protected by mu */
} rec = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* ---- fixture -------------------------------------------------------- */

static void on_change(void *ctx, enum plane_change what,
		      const struct plane_res *r)
{
	(void)ctx;
	pthread_mutex_lock(&rec.mu);
	if (rec.nev < EVENTS_MAX) {
		rec.ev[rec.nev].what = what;
		rec.ev[rec.nev].kind = r->kind;
		rec.ev[rec.nev].serial = r->serial;
		memcpy(rec.ev[rec.nev].slug, r->slug, sizeof(r->slug));
	}
	rec.nev++;
	pthread_mutex_unlock(&rec.mu);
}

static int fx_open(struct fx_plane *f)
{
	int rc = fx_plane_open(f);

	if (!rc)
		plane_set_notify(f->p, on_change, NULL);
	return rc;
}

static void fx_reopen(struct fx_plane *f)
{
	plane_close(f->p);
	f->p = NULL;
	assert_int_equal(fx_open(f), 0);
}

static int setup(void **state)
{
	struct fx_plane *f;

	if (fx_plane_new(&f, "plane"))
		return -1;
	rec.nev = 0;
	*state = f;
	return fx_open(f) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	fx_plane_free(*state);
	return 0;
}

static size_t events(void)
{
	size_t n;

	pthread_mutex_lock(&rec.mu);
	n = rec.nev;
	pthread_mutex_unlock(&rec.mu);
	return n;
}

/* ---- writing ------------------------------------------------------- */

/* A failing write: its errno and a message containing @want. */
static void bad_put(struct fx_plane *f, enum kind_id k, enum plane_write_mode m,
		    const char *name, const char *text, int err,
		    const char *want)
{
	int rc = fx_put(f, k, m, name, text, NULL);

	if (rc != err || !strstr(f->e.msg, want))
		fail_msg("write %s: got %d \"%s\", want %d \"...%s...\"", name,
			 rc, f->e.msg, err, want);
	assert_int_equal(f->e.code, err);
}

static const char env_doc[] =
	"# production settings\n"
	"spec:\n"
	"  description: prod\n"
	"  data:\n"
	"    REGION: {value: eu-west-1}   # where it runs\n"
	"    API_KEY:\n"
	"      value: " SECRET "\n"
	"      isSecret: true\n";

#define WF_DOC(name) \
	"kind: Workflow\n" \
	"metadata:\n" \
	"  name: " name "\n" \
	"spec:\n" \
	"  document: {dsl: 1.0.0, namespace: acme, name: onboard, " \
	"version: 1.0.0}\n" \
	"  tasks:\n" \
	"    - name: hello\n" \
	"      kind: RUN\n" \
	"      taskConfig:\n" \
	"        shell: {command: 'echo hi'}\n"

static void mk_env(struct fx_plane *f, const char *name, struct plane_res *r)
{
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW,
		  fx_fmt(f, "%s.yaml", name), "spec: {description: x}\n", r);
}

static void mk_wf(struct fx_plane *f, const char *name, struct plane_res *r)
{
	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, fx_fmt(f, "%s.yaml", name),
		  fx_fmt(f, WF_DOC("%s"), name), r);
}

static void mk_exec(struct fx_plane *f, const char *name, const char *wf,
		    struct plane_res *r)
{
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW,
		  fx_fmt(f, "%s.yaml", name),
		  fx_fmt(f, "metadata: {name: %s}\nspec: {workflowId: %s}\n",
			 name, wf), r);
}

/* ---- reading ------------------------------------------------------- */

static const char *view(struct fx_plane *f, uint64_t serial, enum plane_view v)
{
	struct plane_blob *b = NULL;
	char *s;

	assert_int_equal(plane_view(f->p, serial, v, &b), 0);
	s = fx_keep(f, malloc(b->len + 1));
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	assert_int_equal(strlen(s), b->len);
	plane_blob_put(b);
	return s;
}

/* resource.json of @serial, parsed. */
static struct doc *res_doc(struct fx_plane *f, uint64_t serial)
{
	const char *json = view(f, serial, VIEW_RESOURCE_JSON);
	struct doc *d = NULL;
	struct err e = { 0, "" };

	if (yaml_parse(json, strlen(json), NULL, &d, &e))
		fail_msg("resource.json does not parse: %s\n%s", e.msg, json);
	return d;
}

/* A field of a resource, as resource.json shows it ("" when absent). */
static const char *field(struct fx_plane *f, uint64_t serial, const char *path)
{
	struct doc *d = res_doc(f, serial);
	const char *v = doc_get_str(d, path);
	char *s = fx_keep(f, strdup(v ? v : ""));

	doc_free(d);
	return s;
}

struct serials {
	uint64_t s[1024];
	size_t n;
};

static int add_serial(void *ctx, const struct plane_res *r)
{
	struct serials *l = ctx;

	if (l->n == 1024)
		return -ENOSPC;
	l->s[l->n++] = r->serial;
	return 0;
}

/* Everything a user can see, as one text: every resource's header and
 * views, kind by kind, and the counts. */
static const char *snapshot(struct fx_plane *f)
{
	struct buf b = BUF_INIT(64u << 20);
	struct serials *l = fx_keep(f, calloc(1, sizeof(*l)));
	struct plane_res r;
	int k, v;
	size_t i;

	for (k = 0; k < KIND_COUNT; k++) {
		l->n = 0;
		assert_int_equal(plane_list(f->p, (enum kind_id)k, NULL,
					    add_serial, l), 0);
		assert_int_equal(plane_count(f->p, (enum kind_id)k), l->n);
		buf_addf(&b, "kind %d: %zu\n", k, l->n);
		for (i = 0; i < l->n; i++) {
			assert_int_equal(plane_lookup_serial(f->p, l->s[i], &r),
					 0);
			buf_addf(&b, "%s %s %llu %llu %lld\n", r.id, r.slug,
				 (unsigned long long)r.serial,
				 (unsigned long long)r.gen,
				 (long long)r.mtime.tv_nsec);
			for (v = 0; v < VIEW_COUNT; v++)
				buf_addstr(&b, view(f, l->s[i],
						    (enum plane_view)v));
		}
	}
	return fx_keep(f, buf_detach(&b, NULL));
}

/* The stored (sealed) node at @path of resource @id. */
static struct doc *stored_node(struct fx_plane *f, const char *id,
				const char *path)
{
	struct store_rec h;
	struct doc *res = NULL, *n;

	assert_int_equal(record_load(f->p, id, &h, &res), 0);
	n = doc_clone(doc_get(res, path));
	doc_free(res);
	return n;
}

/* The plaintext of the secret at @path of resource @id. */
static const char *unseal(struct fx_plane *f, const char *kind, const char *id,
			  const char *path)
{
	struct doc *n = stored_node(f, id, path);
	struct seal_ad ad = { kind, id, path };
	char *plain = NULL, *copy;
	size_t len = 0;

	assert_non_null(n);
	assert_int_equal(n->type, DOC_SEALED);
	assert_int_equal(open_value(f->p->kr, &ad, n->u.s, n->n, &plain, &len),
			 0);
	copy = fx_keep(f, strndup(plain, len));
	seal_free_plain(plain, len);
	doc_free(n);
	return copy;
}

/* The runner's job, done by hand: set an execution's phase. */
static int put_phase(void *ctx, struct doc *res)
{
	return doc_map_setstr(doc_map_child(res, "status"), "phase", ctx);
}

static void set_phase(struct fx_plane *f, const char *slug, const char *phase)
{
	struct plane_res r = fx_lookup(f, KIND_WORKFLOW_EXECUTION, slug);

	assert_int_equal(run_commit_with(f->p, r.id, put_phase, (void *)phase,
					 NULL), 0);
}

static const char *user_name(struct fx_plane *f)
{
	struct passwd *pw = getpwuid(getuid());

	return pw ? pw->pw_name : fx_fmt(f, "uid-%u", (unsigned)getuid());
}

/* ---- opening -------------------------------------------------------- */

static void open_refusals(void **state)
{
	struct fx_plane *f = *state;
	struct plane_opts o = { 0 };
	struct plane *p2 = NULL;
	struct err e = { 0, "" };
	const char *key2 = fx_fmt(f, "%s/key2", f->dir);
	int fd;

	plane_limits_default(&o.limits);
	assert_int_equal(o.limits.workflow_timeout, 300);
	assert_int_equal(o.limits.log_limit, 8u << 20);
	assert_int_equal(o.limits.context_ttl, 86400);

	/* A second plane on the same state directory is refused. */
	o.state_dir = f->state;
	o.key_file = f->key;
	assert_int_equal(plane_open(&p2, &o, &e), -EBUSY);
	assert_null(p2);
	assert_true(e.msg[0] != '\0');

	/* So is a key file others can read. */
	fd = open(key2, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef0123456789abcdef", 32),
			 32);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	o.state_dir = fx_fmt(f, "%s/state2", f->dir);
	o.key_file = key2;
	err_clear(&e);
	assert_int_equal(plane_open(&p2, &o, &e), -EACCES);
	assert_null(p2);
	assert_non_null(strstr(e.msg, "key2"));
}

static void too_large(void **state)
{
	struct fx_plane *f = *state;
	size_t n = PLANE_DOC_MAX + 1;
	char *big = fx_keep(f, malloc(n + 1));
	const char *before = snapshot(f);

	memset(big, '#', n);
	big[0] = '{';
	big[1] = '}';
	big[2] = '\n';
	big[n] = '\0';
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "big.yaml", big, -EFBIG,
		"limit");
	assert_string_equal(snapshot(f), before);
}

/* Odd names and kinds get clean errors. */
static void odd_arguments(void **state)
{
	struct fx_plane *f = *state;
	char longname[400];
	struct plane_res r;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	mk_env(f, "prod", NULL);
	assert_int_equal(plane_lookup(f->p, KIND_ENVIRONMENT, longname, &r),
			 -ENOENT);
	assert_int_equal(plane_lookup(f->p, KIND_ENVIRONMENT, "", &r), -ENOENT);
	assert_int_equal(plane_lookup_id(f->p, "", &r), -ENOENT);
	assert_int_equal(plane_lookup_id(f->p, longname, &r), -ENOENT);
	assert_int_equal(plane_lookup_serial(f->p, 0, &r), -ENOENT);
	assert_int_equal(plane_lookup_serial(f->p, UINT64_MAX, &r), -ENOENT);
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, longname, "{}\n",
		-ENOENT, "not found");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW,
		fx_fmt(f, "%s.yaml", longname), "{}\n", -EBADMSG,
		"metadata.name");
	bad_put(f, KIND_COUNT, PLANE_WRITE_NEW, "x.yaml", "{}\n", -EINVAL,
		"kind");
	assert_int_equal(plane_delete(f->p, &f->who, KIND_COUNT, "prod",
				      &f->e), -EINVAL);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_ENVIRONMENT,
				      longname, &f->e), -ENOENT);
	assert_int_equal(plane_count(f->p, KIND_ENVIRONMENT), 1);
}

/* ---- creating ------------------------------------------------------ */

static void create_every_kind(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res env, wf, wi, wex, ctx, r;

	mk_env(f, "prod", &env);
	mk_wf(f, "onboard", &wf);
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		  "spec: {workflowId: onboard, envRefs: [prod]}\n", &wi);
	mk_exec(f, "run1", "onboard", &wex);
	fx_ok_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "run1-ctx.yaml",
		  "spec:\n  executionId: run1\n  data:\n    TOKEN: {value: t, "
		  "isSecret: true}\n", &ctx);

	assert_int_equal(plane_count(f->p, KIND_ENVIRONMENT), 1);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW), 1);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW_INSTANCE), 2);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW_EXECUTION), 1);
	assert_int_equal(plane_count(f->p, KIND_EXECUTION_CONTEXT), 1);

	/* Each resource answers by slug, id and serial alike. */
	assert_int_equal(wf.kind, KIND_WORKFLOW);
	assert_string_equal(wf.slug, "onboard");
	assert_true(ids_valid("wfl", wf.id));
	assert_true(ids_valid("env", env.id));
	assert_true(ids_valid("win", wi.id));
	assert_true(ids_valid("wex", wex.id));
	assert_true(ids_valid("exec", ctx.id));
	assert_int_equal(wex.gen, 1);
	r = fx_lookup(f, KIND_WORKFLOW_EXECUTION, "run1");
	assert_string_equal(r.id, wex.id);
	assert_int_equal(r.serial, wex.serial);
	assert_int_equal(plane_lookup_id(f->p, ctx.id, &r), 0);
	assert_string_equal(r.slug, "run1-ctx");
	assert_int_equal(r.kind, KIND_EXECUTION_CONTEXT);
	assert_int_equal(plane_lookup_serial(f->p, wi.serial, &r), 0);
	assert_string_equal(r.slug, "blue");
	assert_int_equal(plane_lookup(f->p, KIND_WORKFLOW, "prod", &r),
			 -ENOENT);
	assert_int_equal(plane_lookup_id(f->p, "wfl-nope", &r), -ENOENT);

	/* One event per record: the workflow brought its default instance. */
	assert_int_equal(events(), 6);
	assert_int_equal(rec.ev[0].what, PLANE_CREATED);
	assert_int_equal(rec.ev[0].serial, env.serial);
	assert_int_equal(rec.ev[1].what, PLANE_CREATED);
	assert_int_equal(rec.ev[2].what, PLANE_CREATED);
	assert_true((rec.ev[1].kind == KIND_WORKFLOW &&
		     rec.ev[2].kind == KIND_WORKFLOW_INSTANCE) ||
		    (rec.ev[2].kind == KIND_WORKFLOW &&
		     rec.ev[1].kind == KIND_WORKFLOW_INSTANCE));
	assert_int_equal(rec.ev[5].serial, ctx.serial);
	assert_string_equal(rec.ev[5].slug, "run1-ctx");
}

static void defaults(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res env, wf, wi;

	/* No apiVersion, kind or name: the directory and file say them. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml",
		  "spec: {description: p}\n", &env);
	assert_string_equal(env.slug, "prod");
	assert_string_equal(field(f, env.serial, "apiVersion"),
			    "agentic.stigmer.ai/v1");
	assert_string_equal(field(f, env.serial, "kind"), "Environment");
	assert_string_equal(field(f, env.serial, "metadata.name"), "prod");
	assert_string_equal(field(f, env.serial, "metadata.slug"), "prod");
	assert_string_equal(field(f, env.serial, "metadata.ownerScope"),
			    "ORGANIZATION");

	/* A stem that is not a slug becomes one. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "My Staging.yml",
		  "{}\n", &env);
	assert_string_equal(env.slug, "my-staging");
	assert_string_equal(field(f, env.serial, "metadata.name"),
			    "My Staging");

	/* JSON is YAML; an explicit name wins over the file's. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "x.json",
		  "{\"metadata\": {\"name\": \"qa\", \"owner_scope\": 3}}",
		  &env);
	assert_string_equal(env.slug, "qa");
	assert_string_equal(field(f, env.serial, "metadata.ownerScope"),
			    "IDENTITY_ACCOUNT");

	mk_wf(f, "onboard", &wf);
	assert_string_equal(field(f, wf.serial, "metadata.ownerScope"),
			    "PLATFORM");
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_DRAFT, "blue",
		  "spec: {workflowId: onboard}\n", &wi);
	assert_string_equal(wi.slug, "blue");
	assert_string_equal(field(f, wi.serial, "metadata.name"), "blue");
	assert_string_equal(field(f, wi.serial, "kind"), "WorkflowInstance");
}

/* The template a mkdir shows can be saved as it is, or filled in. */
static void drafts(void **state)
{
	struct fx_plane *f = *state;
	struct buf b = BUF_INIT(1 << 16);
	struct plane_res r;

	assert_int_equal(plane_draft(KIND_ENVIRONMENT, "staging", &b), 0);
	assert_non_null(strstr(b.data, "name: staging\n"));
	assert_null(strstr(b.data, "%s"));
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_DRAFT, "staging", b.data,
		  &r);
	assert_string_equal(r.slug, "staging");
	/* spec.yaml keeps the template's comments. */
	assert_string_equal(view(f, r.serial, VIEW_SPEC), b.data);
	buf_release(&b);

	assert_int_equal(plane_draft(KIND_WORKFLOW, "flow", &b), 0);
	assert_non_null(strstr(b.data, "kind: Workflow\n"));
	buf_release(&b);
	assert_int_equal(plane_draft(KIND_COUNT, "x", &b), -EINVAL);
	assert_non_null(strstr(plane_readme(), "workflows/"));
}

static void views(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res env;
	const char *spec, *yaml, *json, *status;
	struct doc *d;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml", env_doc,
		  &env);

	/* spec.yaml: the text as written, comments kept, secret masked. */
	spec = view(f, env.serial, VIEW_SPEC);
	assert_non_null(strstr(spec, "# production settings\n"));
	assert_non_null(strstr(spec, "# where it runs\n"));
	assert_non_null(strstr(spec, "value: \"***\"\n"));
	assert_null(strstr(spec, SECRET));
	assert_int_equal(strlen(spec), strlen(env_doc) - strlen(SECRET) + 5);

	/* resource.json: identity, audit by the caller, masked spec. */
	d = res_doc(f, env.serial);
	assert_string_equal(doc_get_str(d, "metadata.id"), env.id);
	assert_string_equal(doc_get_str(d, "metadata.slug"), "prod");
	assert_string_equal(doc_get_str(d, "spec.data.REGION.value"),
			    "eu-west-1");
	assert_string_equal(doc_get_str(d, "spec.data.API_KEY.value"), "***");
	assert_string_equal(doc_get_str(d, "status.audit.specAudit.createdBy.id"),
			    user_name(f));
	assert_string_equal(doc_get_str(d, "status.audit.specAudit.event"),
			    "created");
	assert_non_null(doc_get_str(d, "status.audit.specAudit.createdAt"));
	assert_non_null(doc_get_str(d, "status.audit.statusAudit.updatedAt"));
	doc_free(d);

	/* Each caller is named in the audit (a uid without a name as such). */
	{
		struct plane_caller other = { .uid = 4242, .gid = 4242, .pid = 1 };
		struct plane_res qa;

		assert_int_equal(plane_write(f->p, &other, KIND_ENVIRONMENT,
					     PLANE_WRITE_NEW, "qa.yaml", "{}\n",
					     3, &qa, &f->e), 0);
		assert_string_equal(field(f, qa.serial, "status.audit."
					  "specAudit.createdBy.id"), "uid-4242");
		fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "qa", "{}\n", NULL);
		assert_string_equal(field(f, qa.serial, "status.audit."
					  "specAudit.updatedBy.id"),
				    user_name(f));
		assert_string_equal(field(f, qa.serial, "status.audit."
					  "specAudit.createdBy.id"), "uid-4242");
	}

	/* resource.yaml says the same as resource.json. */
	yaml = view(f, env.serial, VIEW_RESOURCE_YAML);
	assert_non_null(strstr(yaml, env.id));
	assert_non_null(strstr(yaml, "kind: Environment\n"));
	assert_non_null(strstr(yaml, "***"));
	assert_null(strstr(yaml, SECRET));
	/* Fields print in their messages' order, the audit last. */
	assert_true(strstr(yaml, "  name: prod\n  slug: prod\n  id: env-") !=
		    NULL);
	assert_true(strstr(yaml, "  ownerScope: ORGANIZATION\nspec:\n") !=
		    NULL);
	json = view(f, env.serial, VIEW_RESOURCE_JSON);
	assert_int_equal(json[strlen(json) - 1], '\n');

	/* status.yaml: status only. */
	status = view(f, env.serial, VIEW_STATUS_YAML);
	assert_non_null(strstr(status, "audit:"));
	assert_null(strstr(status, "spec:"));
	assert_null(strstr(status, "metadata:"));

	assert_string_equal(view(f, env.serial, VIEW_ID),
			    fx_fmt(f, "%s\n", env.id));
	{
		struct plane_blob *b = NULL;

		assert_int_equal(plane_view(f->p, env.serial, VIEW_COUNT, &b),
				 -EINVAL);
		assert_int_equal(plane_view(f->p, 999999, VIEW_ID, &b),
				 -ENOENT);
		assert_int_equal(plane_view(f->p, env.serial, VIEW_ID, &b), 0);
		assert_int_equal(b->gen, 1);
		assert_int_equal(b->mtime.tv_sec, env.mtime.tv_sec);
		plane_blob_put(b);
	}
}

/* ---- updating ------------------------------------------------------ */

static void update_spec(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res a, b;
	const char *created, *text;
	size_t ev;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml",
		  "spec: {description: one}\n", &a);
	created = field(f, a.serial, "status.audit.specAudit.createdAt");
	assert_string_equal(view(f, a.serial, VIEW_SPEC),
			    "spec: {description: one}\n");
	usleep(2000);
	ev = events();
	text = "# now two\nspec: {description: two}\n";
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod", text, &b);
	assert_string_equal(b.id, a.id);
	assert_int_equal(b.serial, a.serial);
	assert_int_equal(b.gen, a.gen + 1);
	assert_true(b.mtime.tv_sec > a.mtime.tv_sec ||
		    (b.mtime.tv_sec == a.mtime.tv_sec &&
		     b.mtime.tv_nsec > a.mtime.tv_nsec));
	assert_int_equal(b.ctime.tv_sec, a.ctime.tv_sec);
	assert_int_equal(b.ctime.tv_nsec, a.ctime.tv_nsec);
	assert_string_equal(view(f, a.serial, VIEW_SPEC), text);
	assert_string_equal(field(f, a.serial, "spec.description"), "two");
	assert_string_equal(field(f, a.serial,
				  "status.audit.specAudit.createdAt"), created);
	assert_string_not_equal(field(f, a.serial,
				      "status.audit.specAudit.updatedAt"),
				created);
	assert_string_equal(field(f, a.serial, "status.audit.specAudit.event"),
			    "updated");
	assert_string_equal(field(f, a.serial, "metadata.name"), "prod");
	assert_int_equal(events(), ev + 1);
	assert_int_equal(rec.ev[ev].what, PLANE_UPDATED);
	assert_int_equal(rec.ev[ev].serial, a.serial);

	/* The view cache follows the generation. */
	assert_string_equal(view(f, a.serial, VIEW_ID),
			    fx_fmt(f, "%s\n", a.id));
	assert_int_equal(plane_count(f->p, KIND_ENVIRONMENT), 1);

	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "nope",
		"spec: {description: x}\n", -ENOENT, "Environment not found");
}

/* A new file naming an existing resource is an apply: an update. */
static void apply_existing(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res a, b, wf, wf2;
	const char *did;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml",
		  "spec: {description: one}\n", &a);
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "other.yaml",
		  "metadata: {name: prod}\nspec: {description: two}\n", &b);
	assert_string_equal(b.id, a.id);
	assert_int_equal(b.gen, 2);
	assert_int_equal(plane_count(f->p, KIND_ENVIRONMENT), 1);
	assert_string_equal(field(f, a.serial, "spec.description"), "two");

	/* A workflow applied again keeps its default instance. */
	mk_wf(f, "onboard", &wf);
	did = field(f, wf.serial, "status.defaultInstanceId");
	mk_wf(f, "onboard", &wf2);
	assert_int_equal(wf2.gen, 2);
	assert_string_equal(field(f, wf.serial, "status.defaultInstanceId"),
			    did);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW_INSTANCE), 1);
}

static void context_create_only(void **state)
{
	struct fx_plane *f = *state;
	const char *ctx = "spec: {executionId: run1}\n";
	const char *before;
	struct plane_res r;

	fx_ok_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "c1.yaml", ctx,
		  &r);
	assert_string_equal(field(f, r.serial, "metadata.ownerScope"),
			    "UNSPECIFIED");
	before = snapshot(f);
	bad_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "c1.yaml", ctx,
		-EEXIST, "ExecutionContext already exists: c1");
	bad_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_SPEC, "c1", ctx, -EPERM,
		"ExecutionContext");
	bad_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_DRAFT, "c1", ctx,
		-EEXIST, "c1");
	bad_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "c2.yaml",
		"metadata: {ownerScope: ORGANIZATION}\nspec: {executionId: x}\n",
		-EBADMSG, "metadata.ownerScope");
	assert_string_equal(snapshot(f), before);
}

/* ---- workflows, instances, executions ------------------------------- */

static void workflow_default_instance(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, wi;

	mk_wf(f, "onboard", &wf);
	wi = fx_lookup(f, KIND_WORKFLOW_INSTANCE, "onboard-default");
	assert_string_equal(field(f, wf.serial, "status.defaultInstanceId"),
			    wi.id);
	assert_string_equal(field(f, wi.serial, "spec.workflowId"), wf.id);
	assert_string_equal(field(f, wi.serial, "metadata.name"),
			    "onboard-default");
	assert_string_equal(field(f, wi.serial, "metadata.ownerScope"),
			    "PLATFORM");
	assert_string_equal(field(f, wi.serial,
				  "status.audit.specAudit.createdBy.id"),
			    user_name(f));
	/* Its spec.yaml is rendered, and can be written back as it is. */
	assert_non_null(strstr(view(f, wi.serial, VIEW_SPEC), wf.id));
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_SPEC,
		  "onboard-default", view(f, wi.serial, VIEW_SPEC), NULL);
	assert_string_equal(field(f, wi.serial, "spec.workflowId"), wf.id);

	/* The rendered spec.yaml keeps the instance's scope and org. */
	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "org.yaml",
		  "metadata: {ownerScope: ORGANIZATION, org: acme}\n"
		  "spec: {document: {dsl: 1.0.0, namespace: a, name: b, "
		  "version: '1'}, tasks: [{name: t, kind: SET, "
		  "taskConfig: {variables: {a: b}}}]}\n", &wf);
	wi = fx_lookup(f, KIND_WORKFLOW_INSTANCE, "org-default");
	assert_string_equal(field(f, wi.serial, "metadata.ownerScope"),
			    "ORGANIZATION");
	assert_string_equal(field(f, wi.serial, "metadata.org"), "acme");
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_SPEC, "org-default",
		  view(f, wi.serial, VIEW_SPEC), NULL);
	assert_string_equal(field(f, wi.serial, "metadata.ownerScope"),
			    "ORGANIZATION");
	assert_string_equal(field(f, wi.serial, "metadata.org"), "acme");

	/* A workflow whose default instance name is taken fails whole. */
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "x-default.yaml",
		  "spec: {workflowId: onboard}\n", NULL);
	bad_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "x.yaml", WF_DOC("x"),
		-EEXIST, "x-default");
	assert_false(fx_exists(f, KIND_WORKFLOW, "x"));
}

static void instance_refs(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, env, qa, wi;
	struct doc *d;
	const char *before;

	mk_wf(f, "onboard", &wf);
	mk_env(f, "prod", &env);
	mk_env(f, "qa", &qa);
	before = snapshot(f);
	bad_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		"spec: {workflowId: nope}\n", -ENOENT,
		"Workflow not found: nope");
	bad_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		"spec: {workflowId: onboard, envRefs: [prod, nope]}\n",
		-ENOENT, "spec.envRefs[1]");
	bad_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		"spec: {envRefs: [prod]}\n", -EBADMSG, "spec.workflowId");
	assert_string_equal(snapshot(f), before);

	/* References by slug or by id; the stored ones keep the id. */
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		  fx_fmt(f, "spec:\n  workflowId: %s\n  envRefs:\n    - prod\n"
			 "    - {id: %s}\n", wf.id, qa.id), &wi);
	d = res_doc(f, wi.serial);
	assert_string_equal(doc_get_str(d, "spec.workflowId"), wf.id);
	assert_int_equal(doc_get(d, "spec.envRefs")->n, 2);
	assert_string_equal(doc_get_str(doc_get(d, "spec.envRefs")->u.items[0],
					"id"), env.id);
	assert_string_equal(doc_get_str(doc_get(d, "spec.envRefs")->u.items[1],
					"id"), qa.id);
	doc_free(d);
	/* spec.yaml is what was written, not the resolved form. */
	assert_non_null(strstr(view(f, wi.serial, VIEW_SPEC), "- prod\n"));
}

static void execution_targets(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, wi, blue, wex;
	const char *before;

	mk_wf(f, "onboard", &wf);
	wi = fx_lookup(f, KIND_WORKFLOW_INSTANCE, "onboard-default");

	/* By workflow slug: the default instance, PENDING. */
	mk_exec(f, "run1", "onboard", &wex);
	assert_string_equal(field(f, wex.serial, "spec.workflowId"), wf.id);
	assert_string_equal(field(f, wex.serial, "spec.workflowInstanceId"),
			    wi.id);
	assert_string_equal(field(f, wex.serial, "status.phase"), "PENDING");
	assert_string_equal(field(f, wex.serial, "metadata.ownerScope"),
			    "ORGANIZATION");

	/* By instance slug: that instance and its workflow. */
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		  "spec: {workflowId: onboard}\n", &blue);
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "x.yaml",
		  "metadata: {name: run2}\nspec: {workflowInstanceId: blue}\n",
		  &wex);
	assert_string_equal(wex.slug, "run2");
	assert_string_equal(field(f, wex.serial, "spec.workflowInstanceId"),
			    blue.id);
	assert_string_equal(field(f, wex.serial, "spec.workflowId"), wf.id);

	before = snapshot(f);
	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "run3.yaml",
		"spec: {triggerMessage: hi}\n", -EBADMSG,
		"either workflowId or workflowInstanceId");
	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "run3.yaml",
		"spec: {workflowId: nope}\n", -ENOENT, "spec.workflowId");
	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "run3.yaml",
		"spec: {workflowInstanceId: nope}\n", -ENOENT,
		"spec.workflowInstanceId");
	assert_string_equal(snapshot(f), before);
}

/* An execution of a workflow whose default instance is gone makes it
 * again, in the same commit, and records it on the workflow. */
static void execution_recreates_default(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, wi, wex;

	mk_wf(f, "onboard", &wf);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW_INSTANCE,
				      "onboard-default", &f->e), 0);
	mk_exec(f, "run1", "onboard", &wex);
	wi = fx_lookup(f, KIND_WORKFLOW_INSTANCE, "onboard-default");
	assert_string_equal(field(f, wex.serial, "spec.workflowInstanceId"),
			    wi.id);
	assert_string_equal(field(f, wf.serial, "status.defaultInstanceId"),
			    wi.id);
	assert_non_null(strstr(view(f, wf.serial, VIEW_SPEC), "name: onboard"));
	assert_true(strncmp(view(f, wf.serial, VIEW_STATUS_YAML),
			    "defaultInstanceId: ", 19) == 0);
	assert_true(strstr(view(f, wex.serial, VIEW_RESOURCE_YAML),
			   "spec:\n  workflowInstanceId: win-") != NULL);
	assert_true(strncmp(view(f, wex.serial, VIEW_STATUS_YAML),
			    "phase: PENDING\naudit:", 21) == 0);
}

/* "<name>-default" made by hand is used when it is the workflow's, and
 * refused when it belongs to another one. */
static void execution_default_by_name(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res a, b, wi, wex;
	const char *before;
	size_t ev;

	mk_wf(f, "a", &a);
	mk_wf(f, "b", &b);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW_INSTANCE,
				      "a-default", &f->e), 0);
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "a-default.yaml",
		  "spec: {workflowId: b}\n", NULL);
	before = snapshot(f);
	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "r.yaml",
		"metadata: {name: r}\nspec: {workflowId: a}\n", -EEXIST,
		"a-default");
	assert_string_equal(snapshot(f), before);

	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW_INSTANCE,
				      "a-default", &f->e), 0);
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "a-default.yaml",
		  "spec: {workflowId: a}\n", &wi);
	ev = events();
	mk_exec(f, "r", "a", &wex);
	assert_string_equal(field(f, wex.serial, "spec.workflowInstanceId"),
			    wi.id);
	assert_string_equal(field(f, a.serial, "status.defaultInstanceId"),
			    wi.id);
	/* The workflow was updated and the execution created, together. */
	assert_int_equal(events(), ev + 2);
	assert_int_equal(rec.ev[ev].what + rec.ev[ev + 1].what,
			 PLANE_UPDATED + PLANE_CREATED);
}

static bool digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "<wf>-yyyymmdd-hhmmss", optionally "-<n>" to make it unique. */
static void check_exec_name(const char *slug, const char *wf)
{
	size_t w = strlen(wf);
	char day[16];
	time_t now = time(NULL);
	struct tm tm;

	assert_memory_equal(slug, wf, w);
	assert_int_equal(slug[w], '-');
	assert_true(digits(slug + w + 1, 8));
	assert_int_equal(slug[w + 9], '-');
	assert_true(digits(slug + w + 10, 6));
	assert_true(slug[w + 16] == '\0' || slug[w + 16] == '-');
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	if (memcmp(slug + w + 1, day, 8) != 0) {
		now -= 60;	/* written just before midnight */
		gmtime_r(&now, &tm);
		strftime(day, sizeof(day), "%Y%m%d", &tm);
		assert_memory_equal(slug + w + 1, day, 8);
	}
}

struct racer {
	struct fx_plane *f;
	uint64_t wf_serial;
	pthread_barrier_t *go;
	int failures;
};

static void *unnamed_main(void *arg)
{
	struct racer *w = arg;
	const char *doc = "{}\n";
	struct err e;

	pthread_barrier_wait(w->go);
	if (plane_run(w->f->p, &w->f->who, w->wf_serial, doc, strlen(doc),
		      NULL, &e) != 0) {
		print_error("run: %d %s\n", e.code, e.msg);
		w->failures++;
	}
	return NULL;
}

static void execution_unnamed(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, a, b;
	struct err e;

	mk_wf(f, "onboard", &wf);
	/* Written as a file, an unnamed execution is named after the file
	 * (DESIGN 1.3); a second write of that file is an apply. */
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "job.yaml",
		  "spec: {workflowId: onboard}\n", &a);
	assert_string_equal(a.slug, "job");
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "job.yaml",
		  "spec: {workflowId: onboard, triggerMessage: hi}\n", &b);
	assert_string_equal(b.id, a.id);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW_EXECUTION), 1);
	/* Started through the workflow's run file, it gets a generated name. */
	assert_int_equal(plane_run(f->p, &f->who, wf.serial, "{}\n", 3, &a,
				   &e), 0);
	assert_int_equal(plane_run(f->p, &f->who, wf.serial, "{}\n", 3, &b,
				   &e), 0);
	check_exec_name(a.slug, "onboard");
	check_exec_name(b.slug, "onboard");
	assert_string_not_equal(a.slug, b.slug);
	assert_string_not_equal(a.id, b.id);
	assert_string_equal(field(f, a.serial, "metadata.name"), a.slug);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW_EXECUTION), 3);
	/* Started at once, unnamed executions still get distinct names. */
	{
		struct racer w[4];
		pthread_barrier_t go;
		pthread_t t[4];
		size_t i;

		pthread_barrier_init(&go, NULL, 4);
		for (i = 0; i < 4; i++) {
			w[i].f = f;
			w[i].wf_serial = wf.serial;
			w[i].go = &go;
			w[i].failures = 0;
			assert_int_equal(pthread_create(&t[i], NULL,
							unnamed_main, &w[i]), 0);
		}
		for (i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		for (i = 0; i < 4; i++)
			assert_int_equal(w[i].failures, 0);
		assert_int_equal(plane_count(f->p, KIND_WORKFLOW_EXECUTION), 7);
	}
	/* A named one, or one written as a draft, keeps its name. */
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_DRAFT, "mine",
		  "spec: {workflowId: onboard}\n", &a);
	assert_string_equal(a.slug, "mine");
}

static void execution_immutable(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, wex;
	const char *before;

	mk_wf(f, "onboard", &wf);
	mk_exec(f, "run1", "onboard", &wex);
	/* While PENDING the spec may change. */
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_SPEC, "run1",
		  "spec: {workflowId: onboard, triggerMessage: hi}\n", NULL);
	assert_string_equal(field(f, wex.serial, "spec.triggerMessage"), "hi");
	assert_string_equal(field(f, wex.serial, "status.phase"), "PENDING");
	set_phase(f, "run1", "IN_PROGRESS");
	before = snapshot(f);
	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_SPEC, "run1",
		"spec: {workflowId: onboard, triggerMessage: ho}\n", -EPERM,
		"(phase IN_PROGRESS)");
	/* A document naming it says how to start a new run instead. */
	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "x.yaml",
		"metadata: {name: run1}\nspec: {workflowId: onboard}\n",
		-EPERM, "execution \"run1\" has already started");
	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "run1.yaml",
		"spec: {workflowId: onboard}\n", -EPERM,
		"write it to workflows/onboard/run");
	assert_string_equal(snapshot(f), before);
}

static void identity_immutable(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res env, other;
	const char *before;

	mk_env(f, "prod", &env);
	mk_env(f, "qa", &other);
	before = snapshot(f);
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		fx_fmt(f, "metadata: {id: %s}\n", other.id), -EPERM,
		"metadata.id");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		"metadata: {id: env-01arz3ndektsv4rrffq69g5fav}\n", -EPERM,
		"metadata.id");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		"metadata: {slug: prod2}\n", -EPERM, "metadata.slug");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		"metadata: {org: acme}\n", -EPERM, "metadata.org");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_DRAFT, "staging",
		"metadata: {name: production}\n", -EBADMSG, "metadata.name");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_DRAFT, "prod", "{}\n",
		-EEXIST, "prod");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "x.yaml",
		fx_fmt(f, "metadata: {name: y, id: %s}\n", env.id), -EEXIST,
		"metadata.id");
	assert_string_equal(snapshot(f), before);
	/* Writing the id and slug as they are is fine. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		  fx_fmt(f, "metadata: {name: prod, slug: prod, id: %s}\n",
			 env.id), NULL);
}

/* Task configs the runner needs, and kinds it does not run. */
struct task_case {
	const char *tasks;	/* the "tasks:" list, flow style */
	const char *want;	/* NULL: accepted; else in the message */
};

static const struct task_case task_cases[] = {
	{ "[{name: a, kind: SET, taskConfig: {variables: {x: '1'}}}]", NULL },
	{ "[{name: a, kind: WAIT, taskConfig: {seconds: 2}}]", NULL },
	{ "[{name: a, kind: RAISE, taskConfig: {error: e, message: m}}]",
	  NULL },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, "
	  "endpoint: {uri: 'http://x'}, timeout_seconds: 30}}]",
	  NULL },
	{ "[{name: a, kind: RUN, taskConfig: {script: {code: x}}}]", NULL },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls, arguments: "
	  "[-l, 2], environment: {A: b}}, timeout: 30}}]", NULL },
	{ "[{name: a, kind: RUN, taskConfig: {script: {language: python, "
	  "code: 'print(1)'}}, flow: {then: b}}, {name: b, kind: SET, "
	  "taskConfig: {variables: {}}, flow: {then: end}}]", NULL },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, "
	  "when: '${ .x }', then: end}]}}]",
	  NULL },
	{ "[{name: a, kind: FOR, taskConfig: {each: i, in: '${ .l }', do: "
	  "[{name: b, kind: run, taskConfig: {shell: {command: ls}}}]}}]",
	  NULL },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: [{name: "
	  "b, kind: 1, task_config: {variables: {}}}]}, {name: y, do: [{name: "
	  "c, kind: WAIT, taskConfig: {seconds: 1}}]}]}}]",
	  NULL },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, kind: RUN, "
	  "taskConfig: {shell: {command: ls}}}], catch: {as: e, do: [{name: c,"
	  " kind: SET, taskConfig: {variables: {}}}]}}}]",
	  NULL },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: {id: x}}}]",
	  "spec.tasks[0].taskConfig.workflow: required (a non-empty string" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls}, script: "
	  "{code: ls}}}]", "spec.tasks[0].taskConfig: needs exactly one of" },
	{ "[{name: a, kind: RUN, taskConfig: {script: {language: ruby, code: "
	  "x}}}]", "spec.tasks[0].taskConfig.script.language" },
	{ "[{name: a, kind: RUN, taskConfig: {script: {language: sh}}}]",
	  "spec.tasks[0].taskConfig.script.code" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls, arguments: "
	  "x}}}]", "spec.tasks[0].taskConfig.shell.arguments: must be a list" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls, environment: "
	  "{A: [1]}}}}]", "spec.tasks[0].taskConfig.shell.environment" },
	{ "[{name: a, kind: WAIT, taskConfig: {seconds: 1, timeout: 0}}]",
	  "spec.tasks[0].taskConfig.timeout: must be whole seconds" },
	{ "[{name: a, kind: SET, taskConfig: {variables: {}}, flow: {then: "
	  "nowhere}}]", "spec.tasks[0].flow.then: no task named \"nowhere\"" },
	{ "[{name: a, kind: GRPC_CALL, taskConfig: {}}]",
	  "spec.tasks[0].kind: task kind GRPC_CALL is not supported" },
	{ "[{name: a, kind: SET, taskConfig: {variables: {}}}, {name: b, "
	  "kind: LISTEN, taskConfig: {}}]",
	  "spec.tasks[1].kind: task kind LISTEN is not supported" },
	{ "[{name: a, kind: WAIT, taskConfig: {seconds: soon}}]",
	  "spec.tasks[0].taskConfig.seconds" },
	{ "[{name: a, kind: WAIT, taskConfig: {seconds: 0}}]",
	  "spec.tasks[0].taskConfig.seconds" },
	{ "[{name: a, kind: SET, taskConfig: {}}]",
	  "spec.tasks[0].taskConfig.variables" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: e}}]",
	  "spec.tasks[0].taskConfig.message" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: FETCH, "
	  "endpoint: {uri: x}}}]", "spec.tasks[0].taskConfig.method" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET}}]",
	  "spec.tasks[0].taskConfig.endpoint: required" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: x}, timeoutSeconds: 301}}]",
	  "spec.tasks[0].taskConfig.timeoutSeconds" },
	{ "[{name: a, kind: RUN, taskConfig: {}}]",
	  "spec.tasks[0].taskConfig: needs exactly one of shell, script or workflow" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {environment: {}}}}]",
	  "spec.tasks[0].taskConfig.shell.command" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c}]}}]",
	  "spec.tasks[0].taskConfig.cases[0].then" },
	{ "[{name: a, kind: FOR, taskConfig: {each: i, in: [1], do: []}}]",
	  "spec.tasks[0].taskConfig.do" },
	{ "[{name: a, kind: FOR, taskConfig: {each: i, in: [1], do: [{name: b, "
	  "kind: AGENT_CALL, taskConfig: {}}]}}]",
	  "spec.tasks[0].taskConfig.do[0].kind: task kind AGENT_CALL is not" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, kind: SET, taskConfig: {variables: {}}}]}]}}]",
	  "spec.tasks[0].taskConfig.branches" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, kind: WAIT, "
	  "taskConfig: {seconds: 1}}], catch: {do: [{kind: SET, "
	  "taskConfig: {variables: {}}}]}}}]",
	  "spec.tasks[0].taskConfig.catch.do[0].name" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, kind: NOPE, "
	  "taskConfig: {}}]}}]", "spec.tasks[0].taskConfig.try[0].kind" },
};

/* plane_utc() agrees with gmtime_r() across eras, leap days and
 * negative times. */
static void utc_breakdown(void **state)
{
	static const int64_t at[] = {
		0, -1, 86399, 86400, 951782400, 951868800, 1709164800,
		4107542399, 4107542400, -2208988800, 253402300799,
		1795437022, -62135596800,
	};
	struct tm a, b;
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		t = (time_t)at[i];
		plane_utc(at[i], &a);
		assert_non_null(gmtime_r(&t, &b));
		if (a.tm_year != b.tm_year || a.tm_mon != b.tm_mon ||
		    a.tm_mday != b.tm_mday || a.tm_hour != b.tm_hour ||
		    a.tm_min != b.tm_min || a.tm_sec != b.tm_sec)
			fail_msg("%lld: %d-%d-%d %d:%d:%d, gmtime %d-%d-%d "
				 "%d:%d:%d", (long long)at[i], a.tm_year,
				 a.tm_mon, a.tm_mday, a.tm_hour, a.tm_min,
				 a.tm_sec, b.tm_year, b.tm_mon, b.tm_mday,
				 b.tm_hour, b.tm_min, b.tm_sec);
	}
}

static void workflow_tasks(void **state)
{
	struct fx_plane *f = *state;
	const char *doc;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(task_cases) / sizeof(task_cases[0]); i++) {
		doc = fx_fmt(f, "metadata: {name: w%zu}\nspec:\n  document: "
			     "{dsl: 1.0.0, namespace: a, name: b, version: "
			     "'1'}\n"
			     "  tasks: %s\n", i, task_cases[i].tasks);
		rc = fx_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "x.yaml", doc, NULL);
		if (!task_cases[i].want && rc != 0)
			fail_msg("task_cases[%zu]: %s", i, f->e.msg);
		if (task_cases[i].want &&
		    (rc != -EBADMSG || !strstr(f->e.msg, task_cases[i].want)))
			fail_msg("task_cases[%zu]: got %d \"%s\"", i, rc,
				 f->e.msg);
	}
	/* Only the good ones, each with its default instance. */
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW), 11);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW_INSTANCE), 11);
}

/* ---- deleting ------------------------------------------------------- */

/* A deleted resource's rendered views leave the cache with it (its
 * serial never comes back): only the reader's reference is left. */
static void delete_drops_views(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res env;
	struct plane_blob *b = NULL;

	mk_env(f, "prod", &env);
	assert_int_equal(plane_view(f->p, env.serial, VIEW_SPEC, &b), 0);
	assert_int_equal(__atomic_load_n(&b->refs, __ATOMIC_ACQUIRE), 2);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_ENVIRONMENT, "prod",
				      &f->e), 0);
	assert_int_equal(__atomic_load_n(&b->refs, __ATOMIC_ACQUIRE), 1);
	plane_blob_put(b);
}

static void delete_cascade(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, wi, env;
	size_t ev;

	mk_wf(f, "onboard", &wf);
	wi = fx_lookup(f, KIND_WORKFLOW_INSTANCE, "onboard-default");
	mk_exec(f, "done1", "onboard", NULL);
	set_phase(f, "done1", "COMPLETED");
	ev = events();
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW, "onboard",
				      &f->e), 0);
	assert_false(fx_exists(f, KIND_WORKFLOW, "onboard"));
	assert_false(fx_exists(f, KIND_WORKFLOW_INSTANCE, "onboard-default"));
	assert_int_equal(plane_lookup_id(f->p, wi.id, &wi), -ENOENT);
	assert_int_equal(events(), ev + 2);
	assert_int_equal(rec.ev[ev].what, PLANE_DELETED);
	assert_int_equal(rec.ev[ev + 1].what, PLANE_DELETED);
	assert_int_equal(rec.ev[ev].serial + rec.ev[ev + 1].serial,
			 wf.serial + wi.serial);
	{
		struct plane_blob *b = NULL;

		assert_int_equal(plane_view(f->p, wf.serial, VIEW_SPEC, &b),
				 -ENOENT);
	}
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW, "onboard",
				      &f->e), -ENOENT);
	assert_non_null(strstr(f->e.msg, "onboard"));

	/* The name is free again, with a new id. */
	mk_wf(f, "onboard", &env);
	assert_string_not_equal(env.id, wf.id);
	mk_env(f, "prod", &env);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_ENVIRONMENT, "prod",
				      &f->e), 0);
	assert_int_equal(plane_count(f->p, KIND_ENVIRONMENT), 0);
}

static void delete_busy(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf;
	const char *before;

	mk_wf(f, "onboard", &wf);
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		  "spec: {workflowId: onboard}\n", NULL);
	before = snapshot(f);
	err_clear(&f->e);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW, "onboard",
				      &f->e), -EBUSY);
	assert_non_null(strstr(f->e.msg, "blue"));
	assert_int_equal(f->e.code, -EBUSY);
	assert_string_equal(snapshot(f), before);

	/* Without the other instance, a running execution still holds it. */
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW_INSTANCE,
				      "blue", &f->e), 0);
	mk_exec(f, "run1", "onboard", NULL);
	set_phase(f, "run1", "IN_PROGRESS");
	before = snapshot(f);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW, "onboard",
				      &f->e), -EBUSY);
	assert_non_null(strstr(f->e.msg, "run1"));
	assert_string_equal(snapshot(f), before);
	set_phase(f, "run1", "COMPLETED");
	assert_int_equal(plane_delete(f->p, &f->who, KIND_WORKFLOW, "onboard",
				      &f->e), 0);
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW_INSTANCE), 0);
}

/* ---- failures ------------------------------------------------------- */

struct bad {
	enum kind_id kind;
	enum plane_write_mode mode;
	const char *name;
	const char *text;
	int err;
	const char *want;	/* in the message: usually the field path */
};

static const struct bad bads[] = {
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml", "spec: {bogus: 1}\n",
	  -EBADMSG, "spec.bogus" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml", "spec: [1, 2\n",
	  -EBADMSG, "line" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml", "", -EBADMSG,
	  "empty" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml", "kind: Workflow\n",
	  -EBADMSG, "kind" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
	  "apiVersion: v2\n", -EBADMSG, "apiVersion" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
	  "spec: {data: {X: {value: [1]}}}\n", -EBADMSG,
	  "spec.data.X.value" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "!!!.yaml", "{}\n", -EBADMSG,
	  "metadata.name" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
	  "metadata: {slug: Not_A_Slug}\n", -EBADMSG, "metadata.slug" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
	  "metadata: {id: wfl-01arz3ndektsv4rrffq69g5fav}\n", -EBADMSG,
	  "metadata.id" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
	  "metadata: {ownerScope: PLATFORM}\n", -EBADMSG,
	  "metadata.ownerScope" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod", "spec: {bogus: 1}\n",
	  -EBADMSG, "spec.bogus" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod", "kind: Workflow\n",
	  -EBADMSG, "kind" },
	{ KIND_WORKFLOW, PLANE_WRITE_NEW, "w.yaml", "spec: {tasks: []}\n",
	  -EBADMSG, "spec.document" },
	{ KIND_WORKFLOW, PLANE_WRITE_SPEC, "onboard",
	  "spec: {document: {dsl: 1.0.0, namespace: a, name: b, "
	  "version: '1'}, tasks: [{name: t, kind: LOOP, taskConfig: {}}]}\n",
	  -EBADMSG, "spec.tasks[0].kind" },
	{ KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "r.yaml",
	  "spec: {workflowId: onboard, runtimeEnv: {K: {value: ''}}}\n",
	  -EBADMSG, "spec.runtimeEnv.K.value" },
	{ KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "r.yaml",
	  "spec: {workflowId: onboard, workflowInstanceId: blue}\n",
	  -EBADMSG, "spec.workflowId" },
	{ KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "c.yaml", "spec: {}\n",
	  -EBADMSG, "spec.executionId" },
	{ KIND_WORKFLOW_INSTANCE, PLANE_WRITE_SPEC, "blue",
	  "spec: {workflowId: nope}\n", -ENOENT, "nope" },
	{ KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
	  "spec: {data: {NEW: {value: '***', isSecret: true}}}\n", -EBADMSG,
	  "spec.data.NEW.value" },
};

/* Every rejected write leaves every view as it was. */
static void failures_change_nothing(void **state)
{
	struct fx_plane *f = *state;
	const char *before;
	size_t i, ev;

	mk_env(f, "prod", NULL);
	mk_wf(f, "onboard", NULL);
	mk_wf(f, "other", NULL);
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "blue.yaml",
		  "spec: {workflowId: other}\n", NULL);
	before = snapshot(f);
	ev = events();
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		bad_put(f, bads[i].kind, bads[i].mode, bads[i].name,
			bads[i].text, bads[i].err, bads[i].want);
		if (strcmp(snapshot(f), before) != 0)
			fail_msg("bads[%zu] changed something", i);
	}
	assert_int_equal(events(), ev);
}

static int saved_stderr = -1;

/* Send stderr (the daemon log) to file @name in the test directory. */
static void stderr_to(struct fx_plane *f, const char *name)
{
	int fd = open(fx_fmt(f, "%s/%s", f->dir, name),
		      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

static void stderr_back(struct fx_plane *f)
{
	(void)f;
	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, 2), 2);
	close(saved_stderr);
	saved_stderr = -1;
}

static const char *file_text(struct fx_plane *f, const char *name)
{
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096];
	ssize_t n;
	int fd = open(fx_fmt(f, "%s/%s", f->dir, name), O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_add(&b, chunk, (size_t)n), 0);
	close(fd);
	assert_int_equal(buf_addstr(&b, ""), 0);
	return fx_keep(f, buf_detach(&b, NULL));
}

static void errors_log(void **state)
{
	struct fx_plane *f = *state;
	struct plane_caller other = f->who;
	struct buf b = BUF_INIT(1 << 20);
	char line[64];
	int i;

	bad_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "run1.yaml",
		"spec: {}\n", -EBADMSG, "either");
	stderr_to(f, "log1");
	plane_reject(f->p, &f->who, "workflowexecutions/run1.yaml", &f->e);
	stderr_back(f);
	assert_int_equal(plane_errors(f->p, f->who.uid, &b), 0);
	/* The same line went to the daemon log. */
	assert_string_equal(file_text(f, "log1"), b.data);
	/* "2026-01-11T14:30:22Z workflowexecutions/run1.yaml: EBADMSG: ..." */
	assert_int_equal(b.data[4], '-');
	assert_int_equal(b.data[10], 'T');
	assert_int_equal(b.data[19], 'Z');
	assert_string_equal(b.data + 21,
			    fx_fmt(f, "workflowexecutions/run1.yaml: "
				   "EBADMSG: %s\n", f->e.msg));
	assert_non_null(strstr(b.data, "spec: either workflowId or "
			       "workflowInstanceId must be set\n"));

	/* A file name cannot add lines. */
	buf_reset(&b);
	err_set(&f->e, -EBADMSG, "bad\tthing");
	stderr_to(f, "log0");
	plane_reject(f->p, &f->who, "environments/a\nb.yaml", &f->e);
	stderr_back(f);
	assert_int_equal(plane_errors(f->p, f->who.uid, &b), 0);
	assert_non_null(strstr(b.data, "environments/a?b.yaml: EBADMSG: "
			       "bad?thing\n"));
	for (i = 0, line[0] = 0; i < (int)b.len; i++)
		line[0] += b.data[i] == '\n';
	assert_int_equal(line[0], 2);
	buf_reset(&b);

	/* Each caller sees only their own; newest last; at most 100. */
	other.uid = f->who.uid + 4242;
	buf_reset(&b);
	assert_int_equal(plane_errors(f->p, other.uid, &b), 0);
	assert_int_equal(b.len, 0);
	stderr_to(f, "log2");
	for (i = 0; i < 150; i++) {
		snprintf(line, sizeof(line), "n%d", i);
		err_set(&f->e, -ENOENT, "%s", line);
		plane_reject(f->p, &other, "environments/x.yaml", &f->e);
	}
	stderr_back(f);
	assert_int_equal(plane_errors(f->p, other.uid, &b), 0);
	assert_null(strstr(b.data, ": n49\n"));
	assert_non_null(strstr(b.data, "environments/x.yaml: ENOENT: n50\n"));
	assert_int_equal(strcmp(b.data + b.len - 6, " n149\n"), 0);
	assert_true(strstr(b.data, ": n50\n") < strstr(b.data, ": n51\n"));
	for (i = 0, line[0] = 0; i < (int)b.len; i++)
		line[0] += b.data[i] == '\n';
	assert_int_equal(line[0], 100);
	buf_release(&b);
}

/* ---- the bad corpus (the e2e suite's, at the plane) ------------------ */

/* tests/corpus/bad of the source tree: this file's path is relative to
 * the build root, which is three levels above the test binary. */
static bool corpus_dir(char *out, size_t cap)
{
	char exe[4096], *cut;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int i, w;

	if (__FILE__[0] == '/') {
		w = snprintf(out, cap, "%s", __FILE__);
	} else {
		if (n <= 0)
			return false;
		exe[n] = '\0';
		for (i = 0; i < 3 && (cut = strrchr(exe, '/')); i++)
			*cut = '\0';
		w = snprintf(out, cap, "%s/%s", exe, __FILE__);
	}
	if (w < 0 || (size_t)w >= cap || !(cut = strrchr(out, '/')))
		return false;
	w = snprintf(cut, cap - (size_t)(cut - out), "/../corpus/bad");
	return w > 0 && access(out, R_OK) == 0;
}

static const char *read_all(struct fx_plane *f, const char *path, size_t *len)
{
	struct buf b = BUF_INIT(16u << 20);
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("cannot open %s", path);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_add(&b, chunk, (size_t)n), 0);
	close(fd);
	*len = b.len;
	assert_int_equal(buf_addc(&b, '\0'), 0);
	return fx_keep(f, buf_detach(&b, NULL));
}

/* The manifest's fragment rule: "a && b" needs both, "a || b" either. */
static bool fragment_ok(const char *msg, char *expr)
{
	char *and_save = NULL, *or_save = NULL, *part, *alt;
	bool any;

	for (part = strtok_r(expr, "&", &and_save); part;
	     part = strtok_r(NULL, "&", &and_save)) {
		any = false;
		for (alt = strtok_r(part, "|", &or_save); alt;
		     alt = strtok_r(NULL, "|", &or_save)) {
			while (*alt == ' ')
				alt++;
			while (*alt && alt[strlen(alt) - 1] == ' ')
				alt[strlen(alt) - 1] = '\0';
			any = any || strstr(msg, alt) != NULL;
		}
		if (!any)
			return false;
	}
	return true;
}

static bool errno_ok(int rc, char *names)
{
	char *save = NULL, *n;

	for (n = strtok_r(names, "|", &save); n; n = strtok_r(NULL, "|", &save))
		if (rc < 0 && strcmp(err_name(rc), n) == 0)
			return true;
	return false;
}

/* One manifest line: "<file> <kinddir> <ERRNO[|ERRNO]> <fragment>". */
static int corpus_case(struct fx_plane *f, const char *dir, char *line)
{
	char file[256], kd[64], en[64];
	const struct kind *k;
	const char *text;
	size_t len;
	int rc, used = 0;

	if (sscanf(line, "%255s %63s %63s %n", file, kd, en, &used) < 3 ||
	    !(k = model_kind_by_dir(kd)))
		fail_msg("bad manifest line: %s", line);
	text = read_all(f, fx_fmt(f, "%s/%s", dir, file), &len);
	err_clear(&f->e);
	rc = plane_write(f->p, &f->who, k->id, PLANE_WRITE_NEW, file, text,
			 len, NULL, &f->e);
	if (!errno_ok(rc, en) || f->e.code != rc ||
	    !fragment_ok(f->e.msg, line + used)) {
		print_error("corpus %s: got %d %s: \"%s\"\n", file, rc,
			    err_name(rc), f->e.msg);
		return 1;
	}
	return 0;
}

static void bad_corpus(void **state)
{
	struct fx_plane *f = *state;
	char dir[4096], line[1024];
	const char *before;
	struct plane_res ex;
	int failed = 0, n = 0;
	FILE *m;

	if (!corpus_dir(dir, sizeof(dir)))
		skip();
	mk_env(f, "goodenv", NULL);
	mk_wf(f, "goodwf", NULL);
	fx_ok_put(f, KIND_WORKFLOW_INSTANCE, PLANE_WRITE_NEW, "goodinst.yaml",
		  "spec: {workflowId: goodwf, envRefs: [goodenv]}\n", NULL);
	mk_exec(f, "goodexec", "goodwf", &ex);
	fx_ok_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "goodctx.yaml",
		  fx_fmt(f, "spec: {executionId: %s}\n", ex.id), NULL);
	before = snapshot(f);
	m = fopen(fx_fmt(f, "%s/MANIFEST", dir), "re");
	assert_non_null(m);
	while (fgets(line, sizeof(line), m)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		failed += corpus_case(f, dir, line);
		n++;
	}
	fclose(m);
	assert_true(n >= 100);
	assert_int_equal(failed, 0);
	assert_string_equal(snapshot(f), before);
}

/* ---- secrets -------------------------------------------------------- */

static const char secret_env[] =
	"spec:\n"
	"  data:\n"
	"    A: {value: " SECRET "-a, isSecret: true}\n"
	"    B:\n"
	"      isSecret: true\n"
	"      value: \"" SECRET "-b\"\n"
	"    C:\n"
	"      value: |\n"
	"        " SECRET "-c\n"
	"      is_secret: true\n"
	"    D: {value: '" SECRET "-d', isSecret: true, description: k}\n"
	"    PLAIN: {value: visible-value, isSecret: false}\n";

static void secrets_masked(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res env, wf, wex, ctx;
	struct buf b = BUF_INIT(1 << 20);
	struct doc *spec;
	const char *all;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml", secret_env,
		  &env);
	mk_wf(f, "onboard", &wf);
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "run1.yaml",
		  "spec:\n  workflowId: onboard\n  runtimeEnv:\n"
		  "    TOKEN: {value: " SECRET "-e, isSecret: true}\n", &wex);
	fx_ok_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "c.yaml",
		  "spec:\n  executionId: run1\n  data:\n    K:\n"
		  "      value: >-\n        " SECRET "-f\n"
		  "      isSecret: true\n", &ctx);
	/* A rejected write carrying a secret. */
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		"spec:\n  data:\n    A: {value: " SECRET "-g, isSecret: true,"
		" bogus: 1}\n", -EBADMSG, "spec.data.A: unknown field");
	stderr_to(f, "log");
	plane_reject(f->p, &f->who, "environments/prod/spec.yaml", &f->e);
	stderr_back(f);
	assert_non_null(strstr(file_text(f, "log"), "spec.data.A: unknown"));
	assert_null(strstr(file_text(f, "log"), "bogus"));
	/* Both spellings with the camelCase one null: the secret is found
	   in the text under the snake_case one, and masked there. */
	fx_ok_put(f, KIND_WORKFLOW_EXECUTION, PLANE_WRITE_NEW, "run2.yaml",
		  "spec:\n  workflowId: onboard\n  runtimeEnv: null\n"
		  "  runtime_env:\n    TOKEN: {value: " SECRET "-i, isSecret: true}\n",
		  NULL);
	/* A secret typed without "value:" reads as a key: never echoed. */
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		"spec:\n  data:\n    T: {" SECRET "-h, isSecret: true}\n",
		-EBADMSG, "spec.data.T: unknown field");
	assert_null(strstr(f->e.msg, SECRET));
	assert_null(strstr(file_text(f, "log"), SECRET));

	all = snapshot(f);
	assert_null(strstr(all, SECRET));
	assert_non_null(strstr(all, "visible-value"));
	assert_int_equal(plane_errors(f->p, f->who.uid, &b), 0);
	assert_null(strstr(b.data, SECRET));
	buf_release(&b);
	fx_reopen(f);	/* everything on disk */
	assert_false(fx_in_data_file(f, SECRET));
	assert_true(fx_in_data_file(f, "visible-value"));

	/* The values are all there, sealed for their place. */
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.A.value"), SECRET "-a");
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.B.value"), SECRET "-b");
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.C.value"), SECRET "-c\n");
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.D.value"), SECRET "-d");
	/* The execution's runtime secret moved to its context. */
	spec = stored_node(f, wex.id, "spec");
	assert_null(doc_get(spec, "runtimeEnv"));
	doc_free(spec);
	assert_string_equal(unseal(f, "ExecutionContext",
				   fx_lookup(f, KIND_EXECUTION_CONTEXT,
					     fx_fmt(f, "%s-ctx", wex.slug)).id,
				   "spec.data.TOKEN.value"), SECRET "-e");
	assert_string_equal(unseal(f, "ExecutionContext", ctx.id,
				   "spec.data.K.value"), SECRET "-f");
	assert_string_equal(field(f, env.serial, "spec.data.PLAIN.value"),
			    "visible-value");
	assert_string_equal(field(f, env.serial, "spec.data.C.value"), "***");
}

static void secrets_keep_replace(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res env;
	struct doc *sealed, *again;
	const char *spec;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml", env_doc,
		  &env);
	sealed = stored_node(f, env.id, "spec.data.API_KEY.value");
	assert_non_null(sealed);

	/* spec.yaml written back as read: "***" keeps the stored blob. */
	spec = view(f, env.serial, VIEW_SPEC);
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		  fx_fmt(f, "%s# edited\n", spec), NULL);
	again = stored_node(f, env.id, "spec.data.API_KEY.value");
	assert_true(doc_equal(sealed, again));
	doc_free(again);
	assert_non_null(strstr(view(f, env.serial, VIEW_SPEC), "# edited\n"));
	fx_reopen(f);
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.API_KEY.value"), SECRET);

	/* Unquoted *** in flow style keeps it too. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "x.yaml",
		  "metadata: {name: prod}\nspec: {data: {API_KEY: "
		  "{value: '***', isSecret: true}}}\n", NULL);
	again = stored_node(f, env.id, "spec.data.API_KEY.value");
	assert_true(doc_equal(sealed, again));
	doc_free(again);

	/* A new value replaces it. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		  "spec: {data: {API_KEY: {value: " SECRET2 ", isSecret: true}}}\n",
		  NULL);
	again = stored_node(f, env.id, "spec.data.API_KEY.value");
	assert_false(doc_equal(sealed, again));
	doc_free(again);
	doc_free(sealed);
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.API_KEY.value"), SECRET2);
	assert_null(strstr(snapshot(f), SECRET2));

	/* Marked not secret, it is plain; "***" then has nothing to keep. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		  "spec: {data: {API_KEY: {value: plain}}}\n", NULL);
	assert_string_equal(field(f, env.serial, "spec.data.API_KEY.value"),
			    "plain");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
		"spec: {data: {API_KEY: {value: '***', isSecret: true}}}\n",
		-EBADMSG, "spec.data.API_KEY.value");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "new.yaml",
		"spec: {data: {K: {value: '***', isSecret: true}}}\n",
		-EBADMSG, "spec.data.K.value");
	assert_false(fx_exists(f, KIND_ENVIRONMENT, "new"));
}

/* Each stored secret of @id at the paths @paths, as sealed nodes. */
static void sealed_all(struct fx_plane *f, const char *id,
		       const char *const *paths, size_t n, struct doc **out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[i] = stored_node(f, id, paths[i]);
		assert_non_null(out[i]);
		assert_int_equal(out[i]->type, DOC_SEALED);
	}
}

/* spec.yaml read and written back unchanged keeps every secret, whatever
 * style the values were written in. */
static void secrets_round_trip(void **state)
{
	struct fx_plane *f = *state;
	const char *const paths[] = {
		"spec.data.A.value", "spec.data.B.value", "spec.data.C.value",
		"spec.data.D.value",
	};
	struct doc *a[4], *b[4];
	struct plane_res env, js;
	const char *spec;
	size_t i;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml", secret_env,
		  &env);
	sealed_all(f, env.id, paths, 4, a);
	spec = view(f, env.serial, VIEW_SPEC);
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod", spec, NULL);
	assert_string_equal(view(f, env.serial, VIEW_SPEC), spec);
	sealed_all(f, env.id, paths, 4, b);
	for (i = 0; i < 4; i++) {
		assert_true(doc_equal(a[i], b[i]));
		doc_free(a[i]);
		doc_free(b[i]);
	}

	/* JSON documents are masked the same way. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "js.json",
		  "{\"spec\": {\"data\": {\"K\": {\"value\": \"" SECRET "\", "
		  "\"isSecret\": true}}}}\n", &js);
	spec = view(f, js.serial, VIEW_SPEC);
	assert_null(strstr(spec, SECRET));
	assert_non_null(strstr(spec, "\"value\": \"***\""));
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "js", spec, NULL);
	assert_string_equal(unseal(f, "Environment", js.id, "spec.data.K.value"),
			    SECRET);
}

/* Odd secrets: empty, in a workflow's envSpec, and very many of them. */
static void secrets_odd(void **state)
{
	struct fx_plane *f = *state;
	struct buf b = BUF_INIT(1 << 20);
	struct plane_res env, wf;
	int i;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "e.yaml",
		  "spec: {data: {E: {value: '', isSecret: true}}}\n", &env);
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.E.value"), "");
	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "wf.yaml",
		  "spec:\n  document: {dsl: 1.0.0, namespace: a, name: b, "
		  "version: '1'}\n  tasks: [{name: t, kind: SET, taskConfig: "
		  "{variables: {a: b}}}]\n  envSpec:\n    data:\n      K: "
		  "{value: " SECRET ", isSecret: true}\n", &wf);
	assert_null(strstr(snapshot(f), SECRET));
	assert_string_equal(unseal(f, "Workflow", wf.id,
				   "spec.envSpec.data.K.value"), SECRET);

	assert_int_equal(buf_addstr(&b, "spec:\n  data:\n"), 0);
	for (i = 0; i < 600; i++)
		assert_int_equal(buf_addf(&b, "    K%d: {value: " SECRET
					  "-%d, isSecret: true}\n", i, i), 0);
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "many.yaml", b.data,
		  &env);
	buf_release(&b);
	assert_null(strstr(view(f, env.serial, VIEW_SPEC), SECRET));
	assert_string_equal(unseal(f, "Environment", env.id,
				   "spec.data.K599.value"), SECRET "-599");
	fx_reopen(f);
	assert_false(fx_in_data_file(f, SECRET));
}

/* A secret value written through an anchor or an alias could not be
 * masked where its text is: such documents are refused. */
static void secrets_aliases(void **state)
{
	struct fx_plane *f = *state;
	const char *before = snapshot(f);

	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
		"spec:\n  description: &k " SECRET "\n  data:\n"
		"    A: {value: *k, isSecret: true}\n", -EBADMSG,
		"spec.data.A.value");
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
		"spec:\n  data:\n    A: {value: &k " SECRET ", isSecret: true}"
		"\n  description: *k\n", -EBADMSG, "spec.data.A.value");
	assert_null(strstr(f->e.msg, SECRET));
	bad_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml",
		"spec:\n  data:\n    A:\n      isSecret: true\n"
		"      value: !!str &k\n        " SECRET "\n"
		"  description: *k\n", -EBADMSG, "spec.data.A.value");
	assert_string_equal(snapshot(f), before);
	/* A tag alone is fine. */
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "b.yaml",
		  "spec: {data: {A: {value: !!str " SECRET ", "
		  "isSecret: true}}}\n",
		  NULL);
	assert_null(strstr(snapshot(f), SECRET));
	fx_reopen(f);
	assert_false(fx_in_data_file(f, SECRET));
}

/* ---- durability, lists, concurrency -------------------------------- */

static void reopen_keeps_all(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res wf, r;
	const char *before;

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml", env_doc,
		  NULL);
	mk_wf(f, "onboard", &wf);
	mk_exec(f, "run1", "onboard", NULL);
	fx_ok_put(f, KIND_EXECUTION_CONTEXT, PLANE_WRITE_NEW, "c.yaml",
		  "spec: {executionId: run1}\n", NULL);
	before = snapshot(f);
	fx_reopen(f);
	assert_string_equal(snapshot(f), before);
	/* Serials are never reused. */
	mk_env(f, "qa", &r);
	assert_true(r.serial > wf.serial);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_ENVIRONMENT, "qa",
				      &f->e), 0);
	fx_reopen(f);
	mk_env(f, "qa2", &wf);
	assert_true(wf.serial > r.serial);
}

struct stop_ctx {
	char seen[8][SLUG_MAX + 1];
	size_t n;
};

static int list_two(void *ctx, const struct plane_res *r)
{
	struct stop_ctx *s = ctx;

	memcpy(s->seen[s->n++], r->slug, sizeof(r->slug));
	return s->n == 2 ? 7 : 0;
}

static void list_order(void **state)
{
	struct fx_plane *f = *state;
	const char *names[] = { "delta", "alpha", "charlie", "bravo" };
	struct stop_ctx s = { .n = 0 };
	size_t i;

	for (i = 0; i < 4; i++)
		mk_env(f, names[i], NULL);
	assert_int_equal(plane_list(f->p, KIND_ENVIRONMENT, NULL, list_two, &s),
			 7);
	assert_string_equal(s.seen[0], "alpha");
	assert_string_equal(s.seen[1], "bravo");
	s.n = 0;
	assert_int_equal(plane_list(f->p, KIND_ENVIRONMENT, "bravo", list_two,
				    &s), 7);
	assert_string_equal(s.seen[0], "charlie");
	assert_string_equal(s.seen[1], "delta");
	s.n = 0;
	assert_int_equal(plane_list(f->p, KIND_WORKFLOW, NULL, list_two, &s), 0);
	assert_int_equal(s.n, 0);
}

#define WRITERS 8
#define PER_WRITER 50

struct writer {
	struct fx_plane *f;
	int n;
	int failures;
	uint64_t serials[PER_WRITER];
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct plane_res r;
	struct err e;
	char name[64], text[128];
	int i, len;

	for (i = 0; i < PER_WRITER; i++) {
		snprintf(name, sizeof(name), "w%d-e%d.yaml", w->n, i);
		len = snprintf(text, sizeof(text),
			       "spec: {description: writer %d}\n", w->n);
		err_clear(&e);
		if (plane_write(w->f->p, &w->f->who, KIND_ENVIRONMENT,
				PLANE_WRITE_NEW, name, text, (size_t)len, &r,
				&e) != 0) {
			w->failures++;
			continue;
		}
		w->serials[i] = r.serial;
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void concurrent_writers(void **state)
{
	struct fx_plane *f = *state;
	struct writer *w = fx_keep(f, calloc(WRITERS, sizeof(*w)));
	uint64_t *all = fx_keep(f, calloc(WRITERS * PER_WRITER, sizeof(*all)));
	pthread_t t[WRITERS];
	size_t i;

	for (i = 0; i < WRITERS; i++) {
		w[i].f = f;
		w[i].n = (int)i;
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]),
				 0);
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(w[i].failures, 0);
		memcpy(all + i * PER_WRITER, w[i].serials, sizeof(w[i].serials));
	}
	qsort(all, WRITERS * PER_WRITER, sizeof(*all), cmp_u64);
	for (i = 1; i < WRITERS * PER_WRITER; i++)
		assert_true(all[i] > all[i - 1]);
	assert_true(all[0] > 0);
	assert_int_equal(plane_count(f->p, KIND_ENVIRONMENT),
			 WRITERS * PER_WRITER);
	assert_int_equal(events(), WRITERS * PER_WRITER);
	assert_string_equal(field(f, fx_lookup(f, KIND_ENVIRONMENT, "w7-e49").serial,
				  "spec.description"), "writer 7");
}

/* Racing writers of one name: one creates, the others apply. */
static void *same_name_main(void *arg)
{
	struct racer *w = arg;
	struct err e;
	int i;

	pthread_barrier_wait(w->go);
	for (i = 0; i < 5; i++)
		if (plane_write(w->f->p, &w->f->who, KIND_ENVIRONMENT,
				PLANE_WRITE_NEW, "same.yaml", "{}\n", 3, NULL,
				&e) != 0) {
			print_error("same.yaml: %d %s\n", e.code, e.msg);
			w->failures++;
		}
	return NULL;
}

static void concurrent_same_name(void **state)
{
	struct fx_plane *f = *state;
	struct racer w[4];
	pthread_barrier_t go;
	pthread_t t[4];
	size_t i;
	int failures = 0;

	pthread_barrier_init(&go, NULL, 4);
	for (i = 0; i < 4; i++) {
		w[i].f = f;
		w[i].go = &go;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, same_name_main,
						&w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		failures += w[i].failures;
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(failures, 0);
	assert_int_equal(plane_count(f->p, KIND_ENVIRONMENT), 1);
	assert_int_equal(fx_lookup(f, KIND_ENVIRONMENT, "same").gen, 20);
	assert_int_equal(events(), 20);
	/* One create and 19 updates; the callbacks run after the commits,
	 * on the writers' threads, so they may come in another order. */
	for (i = 0; i < 20; i++)
		failures += rec.ev[i].what == PLANE_CREATED;
	assert_int_equal(failures, 1);
}

/* Readers of the views while a writer updates: each read is one whole
 * generation, and generations never go back. */
struct reader {
	struct fx_plane *f;
	uint64_t serial;
	atomic_int *stop;
	int bad;
	atomic_uint reads;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct plane_blob *b;
	uint64_t last = 0;
	char want[64];
	int v = 0;

	while (!atomic_load(r->stop)) {
		b = NULL;
		if (plane_view(r->f->p, r->serial, (enum plane_view)v, &b) ||
		    b->gen < last) {
			r->bad++;
		} else if (v == VIEW_RESOURCE_JSON) {
			/* The writer puts the generation in the text. */
			snprintf(want, sizeof(want), "\"description\": \"g%llu\"",
				 (unsigned long long)b->gen);
			if (b->gen > 1 && !memmem(b->data, b->len, want,
						  strlen(want)))
				r->bad++;
		}
		if (b)
			last = b->gen;
		plane_blob_put(b);
		v = (v + 1) % VIEW_COUNT;
		r->reads++;
	}
	return NULL;
}

static void concurrent_readers(void **state)
{
	struct fx_plane *f = *state;
	struct reader r[4];
	atomic_int stop = 0;
	pthread_t t[4];
	struct plane_res env;
	size_t i;
	int g;

	mk_env(f, "prod", &env);
	for (i = 0; i < 4; i++) {
		r[i] = (struct reader){ f, env.serial, &stop, 0, 0 };
		atomic_init(&r[i].reads, 0);
		assert_int_equal(pthread_create(&t[i], NULL, reader_main, &r[i]),
				 0);
	}
	for (g = 2; g <= 40; g++)
		fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_SPEC, "prod",
			  fx_fmt(f, "spec: {description: g%d}\n", g), NULL);
	/* A loaded machine may not have scheduled every reader yet. */
	for (i = 0; i < 4; i++)
		while (atomic_load(&r[i].reads) == 0)
			usleep(1000);
	atomic_store(&stop, 1);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++) {
		assert_int_equal(r[i].bad, 0);
		assert_true(r[i].reads > 0);
	}
	assert_string_equal(field(f, env.serial, "spec.description"), "g40");
}

/*
 * A sealed value copied into another record (or another field of the same
 * record) does not open there: the additional data binds it to its kind,
 * id and field path.  The copy is made below plane.h, as an attacker with
 * write access to the LMDB file would.
 */
static void ciphertext_moved(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res a, b;
	struct doc *blob;
	char *plain = NULL;
	size_t len = 0;
	struct seal_ad ad_b = { "Environment", NULL, "spec.data.API_KEY.value" };
	struct seal_ad ad_field = { "Environment", NULL, "spec.data.OTHER.value" };
	struct seal_ad ad_kind = { "ExecutionContext", NULL,
				   "spec.data.API_KEY.value" };

	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "a.yaml", env_doc, &a);
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "b.yaml", env_doc, &b);
	blob = stored_node(f, a.id, "spec.data.API_KEY.value");
	assert_non_null(blob);
	assert_int_equal(blob->type, DOC_SEALED);
	ad_b.id = b.id;
	ad_field.id = a.id;
	ad_kind.id = a.id;
	assert_int_equal(open_value(f->p->kr, &ad_b, blob->u.s, blob->n,
				    &plain, &len), -EBADMSG);
	assert_int_equal(open_value(f->p->kr, &ad_field, blob->u.s, blob->n,
				    &plain, &len), -EBADMSG);
	assert_int_equal(open_value(f->p->kr, &ad_kind, blob->u.s, blob->n,
				    &plain, &len), -EBADMSG);
	assert_null(plain);
	/* Where it belongs it opens. */
	assert_string_equal(unseal(f, "Environment", a.id,
				   "spec.data.API_KEY.value"), SECRET);
	doc_free(blob);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(open_refusals),
		T(ciphertext_moved),
		T(too_large),
		T(odd_arguments),
		T(create_every_kind),
		T(defaults),
		T(drafts),
		T(views),
		T(update_spec),
		T(apply_existing),
		T(context_create_only),
		T(workflow_default_instance),
		T(instance_refs),
		T(execution_targets),
		T(execution_recreates_default),
		T(execution_default_by_name),
		T(execution_unnamed),
		T(execution_immutable),
		T(identity_immutable),
		T(workflow_tasks),
		T(utc_breakdown),
		T(delete_cascade),
		T(delete_drops_views),
		T(delete_busy),
		T(failures_change_nothing),
		T(errors_log),
		T(bad_corpus),
		T(secrets_masked),
		T(secrets_keep_replace),
		T(secrets_round_trip),
		T(secrets_odd),
		T(secrets_aliases),
		T(reopen_keeps_all),
		T(list_order),
		T(concurrent_writers),
		T(concurrent_same_name),
		T(concurrent_readers),
	};

	if (crypt_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
