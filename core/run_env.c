/*
 * run_env.c - the environment variables of a run: a small ordered table
 * (later definitions replace earlier ones in place), filled from the
 * stored documents in scope - the Workflow's envSpec, the instance's
 * environments, the execution's contexts and its runtimeEnv - with each
 * secret value opened for exactly the (kind, id, path) it was sealed for,
 * and turned into an envp for execve(2).
 *
 * Secret plaintext only ever lives in sodium_malloc'd memory (guarded,
 * locked, wiped by sodium_free); other values are wiped on release too,
 * as a value the user did not mark secret may still be sensitive.
 * Messages name the resource and the key, never a value.
 */
#include "run_env.h"
#include "plane_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VAR_NAME_MAX 256	/* as the model's variable-name rule */
#define DEFAULT_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

void run_env_init(struct run_env *env)
{
	memset(env, 0, sizeof(*env));
}

static void value_free(char *v, size_t len, bool secret)
{
	if (!v)
		return;
	if (secret) {
		seal_free_plain(v, len);
		return;
	}
	seal_wipe(v, len);
	free(v);
}

void run_env_release(struct run_env *env)
{
	size_t i;

	for (i = 0; i < env->n; i++) {
		value_free(env->v[i].value, env->v[i].len, env->v[i].secret);
		free(env->v[i].name);
	}
	free(env->v);
	run_env_init(env);
}

static bool alpha_(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       ch == '_';
}

/* [A-Za-z_][A-Za-z0-9_]*, at most VAR_NAME_MAX bytes. */
static bool var_name_ok(const char *s)
{
	size_t i;

	if (!s || !alpha_(s[0]))
		return false;
	for (i = 1; s[i]; i++)
		if (i >= VAR_NAME_MAX ||
		    !(alpha_(s[i]) || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static ptrdiff_t find(const struct run_env *env, const char *name)
{
	size_t i;

	for (i = 0; i < env->n; i++)
		if (!strcmp(env->v[i].name, name))
			return (ptrdiff_t)i;
	return -1;
}

/* A NUL-terminated copy: a secret into sodium_malloc'd memory. */
static char *value_dup(const char *value, size_t len, bool secret)
{
	char *copy = secret ? seal_secure_alloc(len + 1) : malloc(len + 1);

	if (!copy)
		return NULL;
	if (len)
		memcpy(copy, value, len);
	copy[len] = '\0';
	return copy;
}

/* A new, empty slot for @name at the end of the table. */
static struct run_var *var_add(struct run_env *env, const char *name)
{
	struct run_var *v;

	if (array_reserve(&env->v, &env->alloc, env->n, sizeof(*env->v)) < 0)
		return NULL;
	v = &env->v[env->n];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name)
		return NULL;
	env->n++;
	return v;
}

int run_env_set(struct run_env *env, const char *name, const char *value,
		size_t len, bool secret, const char *from)
{
	ptrdiff_t at;
	struct run_var *v;
	char *copy;

	if (!var_name_ok(name) || (len && !value) || len == SIZE_MAX ||
	    (len && memchr(value, '\0', len)))
		return -EINVAL;
	at = find(env, name);
	if (at < 0 && env->n >= RUN_ENV_MAX)
		return -E2BIG;
	copy = value_dup(value, len, secret);
	if (!copy)
		return -ENOMEM;
	v = at >= 0 ? &env->v[at] : var_add(env, name);
	if (!v) {
		value_free(copy, len, secret);
		return -ENOMEM;
	}
	value_free(v->value, v->len, v->secret);
	v->value = copy;
	v->len = len;
	v->secret = secret;
	snprintf(v->from, sizeof(v->from), "%s", from ? from : "");
	return 0;
}

const struct run_var *run_env_get(const struct run_env *env,
				  const char *name)
{
	ptrdiff_t at = find(env, name);

	return at < 0 ? NULL : &env->v[at];
}

/* ---- envp ------------------------------------------------------------ */

/* The variables of @base, then of @extra, each name once, later wins. */
static int merge(const struct run_env *base, const struct run_env *extra,
		 const struct run_var ***out, size_t *n)
{
	size_t cap = base->n + (extra ? extra->n : 0), i, j, k = 0;
	const struct run_var **m = calloc(cap ? cap : 1, sizeof(*m));
	const struct run_env *src[2] = { base, extra };

	if (!m)
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		for (j = 0; src[i] && j < src[i]->n; j++) {
			const struct run_var *v = &src[i]->v[j];
			size_t at;

			for (at = 0; at < k && strcmp(m[at]->name, v->name);
			     at++)
				;
			m[at] = v;
			k += at == k;
		}
	}
	*out = m;
	*n = k;
	return 0;
}

static bool has_path(const struct run_var **m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i]->name, "PATH"))
			return true;
	return false;
}

/* Bytes of the strings, or SIZE_MAX when it would not fit a size_t. */
static size_t strings_size(const struct run_var **m, size_t n)
{
	size_t total = sizeof(DEFAULT_PATH), one, i;

	for (i = 0; i < n; i++) {
		one = strlen(m[i]->name) + 2;
		if (m[i]->len > SIZE_MAX / 2 - one ||
		    total > SIZE_MAX / 2 - one - m[i]->len)
			return SIZE_MAX;
		total += one + m[i]->len;
	}
	return total;
}

/*
 * The block before an envp: how it was allocated and how large it is.
 * 16 bytes, so the pointer array after it stays aligned.
 */
struct envp_head {
	size_t size;	/* of the whole block, head included */
	size_t secure;	/* 1: seal_secure_alloc()'d */
};

static bool any_secret(const struct run_var **m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i]->secret)
			return true;
	return false;
}

/*
 * One block holds a head, the pointer array and then the strings.  With
 * a secret in it, the block is sodium_malloc'd, so the copy is locked and
 * wiped like its source; without, it is malloc'd like the values it
 * copies (and wiped too): guarded memory costs seven system calls and a
 * TLB shootdown per task.
 */
static struct envp_head *envp_block(size_t size, bool secret)
{
	struct envp_head *h = secret ? seal_secure_alloc(size) : malloc(size);

	if (h) {
		h->size = size;
		h->secure = secret;
	}
	return h;
}

static char **envp_fill(const struct run_var **m, size_t n, bool path)
{
	size_t slots = n + 1 + path, strs = strings_size(m, n), size, i;
	size_t j = 0, nl;
	struct envp_head *h;
	char **envp, *at;

	if (strs == SIZE_MAX || slots > (SIZE_MAX / 4 - strs) / sizeof(char *))
		return NULL;
	/* seal_secure_alloc() puts the block at the end of a page: a size that
	 * is a multiple of 16 keeps the head and the pointer array aligned. */
	size = (sizeof(*h) + slots * sizeof(char *) + strs + 15) & ~(size_t)15;
	h = envp_block(size, any_secret(m, n));
	if (!h)
		return NULL;
	envp = (char **)(h + 1);
	at = (char *)(envp + slots);
	if (path) {
		memcpy(at, DEFAULT_PATH, sizeof(DEFAULT_PATH));
		envp[j++] = at;
		at += sizeof(DEFAULT_PATH);
	}
	for (i = 0; i < n; i++) {
		nl = strlen(m[i]->name);
		envp[j++] = at;
		memcpy(at, m[i]->name, nl);
		at[nl] = '=';
		memcpy(at + nl + 1, m[i]->value, m[i]->len);
		at[nl + 1 + m[i]->len] = '\0';
		at += nl + 2 + m[i]->len;
	}
	envp[j] = NULL;
	return envp;
}

int run_env_envp(const struct run_env *base, const struct run_env *extra,
		 char ***out)
{
	const struct run_var **m = NULL;
	size_t n = 0;
	char **envp;
	int rc;

	rc = merge(base, extra, &m, &n);
	if (rc < 0)
		return rc;
	envp = envp_fill(m, n, !has_path(m, n));
	free(m);
	if (!envp)
		return -ENOMEM;
	*out = envp;
	return 0;
}

void run_env_envp_free(char **envp)
{
	struct envp_head *h;

	if (!envp)
		return;
	h = (struct envp_head *)envp - 1;
	if (h->secure) {
		seal_secure_free(h);	/* zeroes the block, then unmaps */
		return;
	}
	seal_wipe(h, h->size);
	free(h);
}

/* ---- building -------------------------------------------------------- */

struct build {
	struct plane *p;
	const struct plane_caller *who;	/* the run's creator */
	struct run_env *env;
	struct err *e;
	/* the resource whose values are being added */
	const char *kind;	/* "Environment" */
	const char *id;
	const char *at;		/* path of its value map: "spec.data" */
	char from[SLUG_MAX + 32];	/* "Environment prod" */
	const char *slug;	/* of the resource, for the audit log */
};

/* Note that a secret of the current resource went into the run. */
static void src_note(struct build *b)
{
	struct run_src *s;

	for (size_t i = 0; i < b->env->nsrc; i++)
		if (!strcmp(b->env->src[i].id, b->id) &&
		    !strcmp(b->env->src[i].kind, b->kind))
			return;
	if (b->env->nsrc == RUN_SRC_MAX)
		return;
	s = &b->env->src[b->env->nsrc++];
	snprintf(s->kind, sizeof(s->kind), "%s", b->kind);
	snprintf(s->id, sizeof(s->id), "%s", b->id);
	snprintf(s->slug, sizeof(s->slug), "%s", b->slug ? b->slug : "");
}

static int set_checked(struct build *b, const char *key, const char *value,
		       size_t len, bool secret)
{
	int rc = run_env_set(b->env, key, value, len, secret, b->from);

	if (rc == -EINVAL)
		return err_set(b->e, -EBADMSG, "%s: %s.%s: the value holds a "
			       "NUL byte or the name is not a variable name",
			       b->from, b->at, key);
	if (rc == -E2BIG)
		return err_set(b->e, -E2BIG, "%s: %s.%s: more than %d "
			       "variables in one run", b->from, b->at, key,
			       RUN_ENV_MAX);
	return rc < 0 ? err_set(b->e, rc, "out of memory") : 0;
}

/* A blob sealed under a key this daemon was not given: say which. */
static int key_mismatch(struct build *b, const char *path,
			const struct doc *val)
{
	uint32_t kid = 0;

	seal_blob_kid(val->u.s, val->n, &kid);
	return err_set(b->e, -ENOKEY, "%s: %s: the secret is sealed under key "
		       "id %08" PRIx32 ", but this daemon's key file has key "
		       "id %08" PRIx32 " (was the key rotated? start execfs "
		       "with the current key file)", b->from, path, kid,
		       keyring_kid(b->p->kr));
}

/* Open the sealed value of @key and define it, as a secret. */
static int add_sealed(struct build *b, const char *key, const struct doc *val)
{
	char path[VAR_NAME_MAX + 64], *plain = NULL;
	struct seal_ad ad = { b->kind, b->id, path };
	size_t len = 0;
	int n, rc;

	n = snprintf(path, sizeof(path), "%s.%s.value", b->at, key);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(b->e, -EBADMSG, "%s: %s: key too long",
			       b->from, b->at);
	rc = open_value(b->p->kr, &ad, val->u.s, val->n, &plain, &len);
	if (rc == -ENOKEY)
		return key_mismatch(b, path, val);
	if (rc == -EBADMSG)
		return err_set(b->e, -EBADMSG, "%s: %s: the secret value does "
			       "not open (sealed for another record, field "
			       "or key)", b->from, path);
	if (rc < 0)
		return err_set(b->e, rc, "%s: %s: cannot open the secret",
			       b->from, path);
	rc = set_checked(b, key, plain, len, true);
	seal_free_plain(plain, len);
	if (rc == 0)
		src_note(b);
	return rc;
}

/* One {value, isSecret} entry of a value map. */
static int add_one(struct build *b, const char *key, const struct doc *entry)
{
	const struct doc *val = doc_map_get(entry, "value");
	const struct doc *sec = doc_map_get(entry, "isSecret");

	if (val && val->type == DOC_SEALED)
		return add_sealed(b, key, val);
	if (sec && sec->type == DOC_BOOL && sec->i)
		return err_set(b->e, -EBADMSG, "%s: %s.%s: a secret value "
			       "that is not sealed", b->from, b->at, key);
	/* Environment values may be absent or "" (proto3 defaults). */
	if (!val || !doc_is_scalar(val) || val->type == DOC_NULL)
		return set_checked(b, key, "", 0, false);
	return set_checked(b, key, val->u.s, val->n, false);
}

/* Every entry of the value map at @at in @res, resource (@kind, @id). */
static int add_map(struct build *b, const struct doc *res, const char *kind,
		   const char *id, const char *at)
{
	const struct doc *data = doc_get(res, at);
	size_t i;
	int rc = 0;

	if (!data || data->type != DOC_MAP)
		return 0;
	b->kind = kind;
	b->id = id ? id : "";
	b->at = at;
	for (i = 0; rc == 0 && i < data->n; i++)
		rc = add_one(b, data->u.kv[i].key, data->u.kv[i].val);
	return rc;
}

static void set_from(struct build *b, const char *what, const char *name)
{
	snprintf(b->from, sizeof(b->from), "%s%s%s", what, name ? " " : "",
		 name ? name : "");
}

/* An Environment named by an envRefs entry: by its id, or by its slug
 * when the id is absent or names nothing any more (it was deleted and
 * made again under the same name). */
static int load_env(struct build *b, const struct doc *ref,
		    struct store_rec *h, struct doc **env)
{
	const struct kind *k = model_kind(KIND_ENVIRONMENT);
	const char *id = doc_get_str(ref, "id");
	const char *slug = doc_get_str(ref, "slug");
	int rc = -ENOENT;

	if (id && *id)
		rc = record_resolve(b->p, k, id, h, env, b->e);
	if (rc == -ENOENT && slug && *slug)
		rc = record_resolve(b->p, k, slug, h, env, b->e);
	if (rc == -ENOENT && !(id && *id) && !(slug && *slug))
		rc = err_set(b->e, -ENOENT, "needs a slug or an id");
	/* Its values go to the run's creator: x on it, checked again now
	 * (the one found by name may not be the one checked at create). */
	if (rc == 0 && (rc = plane_check(b->p, b->who, h, PLANE_MAY_USE,
					 b->e)) < 0) {
		doc_free(*env);
		*env = NULL;
	}
	return rc;
}

static int add_env_refs(struct build *b, const struct doc *inst,
			const char *inst_slug)
{
	const struct doc *refs = doc_get(inst, "spec.envRefs");
	struct store_rec h;
	struct doc *env;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && refs && refs->type == DOC_LIST && i < refs->n;
	     i++) {
		env = NULL;
		rc = load_env(b, refs->u.items[i], &h, &env);
		if (rc < 0)
			return err_prefix(b->e, "WorkflowInstance %s: "
					  "spec.envRefs[%zu]", inst_slug, i);
		set_from(b, "Environment", h.slug);
		b->slug = h.slug;
		rc = add_map(b, env, "Environment", h.id, "spec.data");
		doc_free(env);
	}
	return rc;
}

/* A string field is set when it is not empty (proto3). */
static const char *set_or_null(const char *s)
{
	return s && *s ? s : NULL;
}

/* The instance the execution runs through, and its environments. */
static int add_instance(struct build *b, const struct doc *exec,
			const struct doc *wf)
{
	const char *iid = set_or_null(doc_get_str(exec,
						  "spec.workflowInstanceId"));
	struct store_rec h;
	struct doc *inst = NULL;
	int rc;

	if (!iid)
		iid = set_or_null(doc_get_str(wf, "status.defaultInstanceId"));
	if (!iid)
		return 0;	/* no instance: no environments */
	rc = record_resolve(b->p, model_kind(KIND_WORKFLOW_INSTANCE), iid, &h,
			    &inst, b->e);
	if (rc == 0)
		rc = add_env_refs(b, inst, h.slug);
	doc_free(inst);
	return rc;
}

static int add_context(void *arg, const struct store_rec *h,
		       const struct doc *ctx)
{
	struct build *b = arg;

	set_from(b, "ExecutionContext", h->slug);
	b->slug = h->slug;
	return add_map(b, ctx, "ExecutionContext", h->id, "spec.data");
}

int run_env_build(struct plane *p, const struct plane_caller *who,
		  const struct doc *exec, const char *exec_id,
		  const char *exec_slug, const struct doc *wf,
		  struct run_env *env, struct err *e)
{
	struct build b = { .p = p, .who = who, .env = env, .e = e };
	int rc;

	set_from(&b, "Workflow envSpec", NULL);
	b.slug = doc_get_str(wf, "metadata.name");
	rc = add_map(&b, wf, "Workflow", doc_get_str(wf, "metadata.id"),
		     "spec.envSpec.data");
	if (rc == 0)
		rc = add_instance(&b, exec, wf);
	if (rc == 0) {
		err_clear(e);
		rc = ctx_for_each(p, exec_id, exec_slug, add_context, &b);
		if (rc < 0 && e && e->code != rc)
			err_set(e, rc, "cannot read the contexts of %s",
				exec_slug);
	}
	if (rc == 0) {
		set_from(&b, "runtimeEnv", NULL);
		b.slug = exec_slug;
		rc = add_map(&b, exec, "WorkflowExecution", exec_id,
			     "spec.runtimeEnv");
	}
	return rc;
}
