/*
 * run_ctx.c - ephemeral ExecutionContexts (DESIGN 1.5, 1.7): the create
 * step that moves an execution's secret runtimeEnv values out of its
 * record into "<execution-slug>-ctx", and the deletes that end a
 * context's life - every context of an execution when its run ends, and
 * the sweeper's, for contexts older than context_ttl whose execution
 * ended or is gone.
 *
 * Contexts are found by scanning the kind and reading each record's
 * spec.executionId: there are few, and a reference index would be one
 * more thing to keep consistent.
 */
#include "run_env.h"
#include "plane_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ids.h"
#include "yaml.h"

#define CTX_SUFFIX "-ctx"

/* ---- listing --------------------------------------------------------- */

static bool is_of(const struct doc *ctx, const char *exec_id,
		  const char *exec_slug)
{
	const char *v = doc_get_str(ctx, "spec.executionId");

	if (!v || !*v)
		return false;
	if (exec_id && !strcmp(v, exec_id))
		return true;
	/* An execution's id names only that execution: one may be named
	 * (metadata.name) after another's id, and must not get its
	 * contexts. */
	return exec_slug && !strcmp(v, exec_slug) &&
	       !ids_valid(model_kind(KIND_WORKFLOW_EXECUTION)->prefix, v);
}

struct ctx_filter {
	const char *exec_id, *exec_slug;
	int (*fn)(void *arg, const struct store_rec *h, const struct doc *ctx);
	void *arg;
};

static int ctx_filtered(void *arg, const struct store_rec *h,
			const struct doc *ctx)
{
	const struct ctx_filter *f = arg;

	if (f->exec_id && !is_of(ctx, f->exec_id, f->exec_slug))
		return 0;
	return f->fn(f->arg, h, ctx);
}

int ctx_for_each(struct plane *p, const char *exec_id, const char *exec_slug,
		 int (*fn)(void *arg, const struct store_rec *h,
			   const struct doc *ctx),
		 void *arg)
{
	struct ctx_filter f = { exec_id, exec_slug, fn, arg };

	return record_each(p, KIND_EXECUTION_CONTEXT, ctx_filtered, &f);
}

/* ---- deleting -------------------------------------------------------- */

struct deleter {
	struct plane *p;
	struct plane_caller who;	/* the daemon itself */
	struct err *e;
	int64_t older_than_ns;		/* sweep: ctime before this */
	int n;
};

static void deleter_init(struct deleter *d, struct plane *p, struct err *e)
{
	memset(d, 0, sizeof(*d));
	d->p = p;
	d->e = e;
	d->who.uid = getuid();
	d->who.gid = getgid();
	d->who.pid = getpid();
}

static int delete_one(struct deleter *d, const struct store_rec *h)
{
	int rc = plane_delete(d->p, &d->who, KIND_EXECUTION_CONTEXT, h->slug,
			      d->e);

	if (rc == -ENOENT) {
		err_clear(d->e);	/* someone else deleted it first */
		return 0;
	}
	if (rc < 0)
		return rc;
	d->n++;
	return 0;
}

static int delete_cb(void *arg, const struct store_rec *h,
		     const struct doc *ctx)
{
	return delete_one(arg, h);
}

int ctx_delete_for(struct plane *p, const char *exec_id,
		   const char *exec_slug, struct err *e)
{
	struct deleter d;
	int rc;

	deleter_init(&d, p, e);
	rc = ctx_for_each(p, exec_id, exec_slug, delete_cb, &d);
	if (rc < 0 && e && e->code != rc)
		err_set(e, rc, "cannot read the contexts of %s", exec_slug);
	return rc < 0 ? rc : d.n;
}

/* Whether the execution @ref (id or slug) has ended or is gone.  A read
 * error counts as neither: the context stays until the next sweep. */
static bool execution_over(struct plane *p, const char *ref)
{
	static const char *const ended[] = { "COMPLETED", "FAILED",
					     "CANCELLED" };
	struct store_rec h;
	struct doc *wex = NULL;
	const char *phase;
	bool over = false;
	size_t i;
	int rc;

	rc = record_resolve(p, model_kind(KIND_WORKFLOW_EXECUTION),
			    ref ? ref : "", &h, &wex, NULL);
	if (rc == -ENOENT)
		return true;
	phase = rc == 0 ? doc_get_str(wex, "status.phase") : NULL;
	for (i = 0; phase && i < sizeof(ended) / sizeof(ended[0]); i++)
		over = over || !strcmp(phase, ended[i]);
	doc_free(wex);
	return over;
}

static int sweep_cb(void *arg, const struct store_rec *h,
		    const struct doc *ctx)
{
	struct deleter *d = arg;

	if (h->ctime_ns >= d->older_than_ns)
		return 0;
	if (!execution_over(d->p, doc_get_str(ctx, "spec.executionId")))
		return 0;
	return delete_one(d, h);
}

int ctx_sweep(struct plane *p, int64_t now_ns, unsigned ttl_s,
	      struct err *e)
{
	struct deleter d;
	int rc;

	deleter_init(&d, p, e);
	d.older_than_ns = now_ns - (int64_t)ttl_s * 1000000000;
	rc = ctx_for_each(p, NULL, NULL, sweep_cb, &d);
	if (rc < 0 && e && e->code != rc)
		err_set(e, rc, "cannot read the execution contexts");
	return rc < 0 ? rc : d.n;
}

/* ---- MoveRuntimeSecretsToContext ------------------------------------- */

static bool marked_secret(const struct doc *entry)
{
	const struct doc *s = doc_map_get(entry, "isSecret");

	return s && s->type == DOC_BOOL && s->i;
}

static size_t count_secrets(const struct doc *renv)
{
	size_t i, n = 0;

	for (i = 0; renv && renv->type == DOC_MAP && i < renv->n; i++)
		n += marked_secret(renv->u.kv[i].val);
	return n;
}

/* The context document, without its values yet. */
static struct doc *ctx_doc(struct pctx *c, const struct store_rec *h)
{
	const char *scope = schema_enum_name(&model_owner_scope,
					     SCOPE_UNSPECIFIED);
	struct doc *d = doc_new(DOC_MAP), *meta, *spec;

	if (!d || doc_map_setstr(d, "apiVersion", API_VERSION) < 0 ||
	    doc_map_setstr(d, "kind", "ExecutionContext") < 0)
		goto fail;
	meta = doc_map_child(d, "metadata");
	spec = doc_map_child(d, "spec");
	if (!meta || !spec || doc_map_setstr(meta, "name", h->slug) < 0 ||
	    doc_map_setstr(meta, "slug", h->slug) < 0 ||
	    doc_map_setstr(meta, "id", h->id) < 0 ||
	    doc_map_setstr(meta, "ownerScope", scope) < 0 ||
	    doc_map_setstr(spec, "executionId", c->id) < 0 ||
	    !doc_map_child(spec, "data") ||
	    doc_map_set(doc_map_child(d, "status"), "audit",
			res_audit_new(c->actor, c->now, "created")) < 0)
		goto fail;
	return d;
fail:
	doc_free(d);
	return NULL;
}

/* {value: <@n bytes of sealed @blob>, isSecret: true} */
static struct doc *sealed_entry(const char *blob, size_t n)
{
	struct doc *entry = doc_new(DOC_MAP);

	if (entry && (doc_map_set(entry, "value", doc_sealed(blob, n)) < 0 ||
		      doc_map_set(entry, "isSecret", doc_bool(true)) < 0)) {
		doc_free(entry);
		entry = NULL;
	}
	return entry;
}

/* Seal runtimeEnv value @val of @key for the context and add it to @data
 * as {value: <sealed>, isSecret: true}. */
static int seal_into(struct pctx *c, const struct store_rec *h,
		     const char *key, const struct doc *val, struct doc *data)
{
	char path[320];
	struct seal_ad ad = { "ExecutionContext", h->id, path };
	struct buf blob = BUF_INIT(SEAL_VALUE_MAX + 64);
	struct doc *entry;
	int rc;

	if (!val || val->type != DOC_STR)
		return err_set(c->e, -EBADMSG, "spec.runtimeEnv.%s.value: "
			       "required", key);
	/* On create there is no stored secret for "***" to keep. */
	if (seal_is_mask(val->u.s, val->n))
		return err_set(c->e, -EBADMSG, "spec.runtimeEnv.%s.value: "
			       "\"***\" keeps a stored secret, but none is "
			       "stored there", key);
	rc = snprintf(path, sizeof(path), "spec.data.%s.value", key);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return err_set(c->e, -EBADMSG, "spec.runtimeEnv: key too long");
	rc = seal_value(c->p->kr, &ad, val->u.s, val->n, &blob);
	if (rc == -EFBIG)
		rc = err_set(c->e, -EFBIG, "spec.runtimeEnv.%s.value: secret "
			     "value too long", key);
	if (rc == 0) {
		entry = sealed_entry(blob.data, blob.len);
		rc = entry ? doc_map_set(data, key, entry) : -ENOMEM;
	}
	buf_release(&blob);
	return rc;
}

/* spec.yaml of the context: what a person would write, values "***". */
static int ctx_source(const struct doc *ctx, struct buf *src)
{
	struct doc *d = doc_clone(ctx);
	int rc = -ENOMEM;

	if (d) {
		doc_map_del(d, "status");
		doc_map_del(doc_map_get(d, "metadata"), "id");
		doc_map_del(doc_map_get(d, "metadata"), "slug");
		rc = yaml_emit(d, src);
	}
	doc_free(d);
	return rc;
}

/* Add the context holding the secrets of @renv to the change set. */
static int add_ctx(struct pctx *c, const struct store_rec *h,
		   const struct doc *renv)
{
	const struct kind *k = model_kind(KIND_EXECUTION_CONTEXT);
	struct buf src = BUF_INIT(PLANE_DOC_MAX);
	struct doc *ctx = ctx_doc(c, h);
	struct doc *data = doc_get(ctx, "spec.data");
	size_t i;
	int rc = ctx ? 0 : -ENOMEM;

	for (i = 0; rc == 0 && i < renv->n; i++)
		if (marked_secret(renv->u.kv[i].val))
			rc = seal_into(c, h, renv->u.kv[i].key,
				       doc_map_get(renv->u.kv[i].val, "value"),
				       data);
	if (rc == 0)
		rc = res_order(k, ctx);
	if (rc == 0)
		rc = ctx_source(ctx, &src);
	if (rc == 0)
		rc = pctx_add_change(c, STORE_PUT, h, ctx, &src, 0,
				     PLANE_CREATED);
	doc_free(ctx);
	buf_release(&src);
	return rc;
}

/* The new context's header: "<slug>-ctx", a fresh id and serial. */
static int ctx_header(struct pctx *c, struct store_rec *h)
{
	const struct kind *k = model_kind(KIND_EXECUTION_CONTEXT);
	char name[SLUG_MAX + sizeof(CTX_SUFFIX)];
	int rc;

	memset(h, 0, sizeof(*h));
	snprintf(name, sizeof(name), "%s%s", c->slug, CTX_SUFFIX);
	if (slug_from_name(name, h->slug) < 0)
		return err_set(c->e, -EBADMSG, "metadata.name: too long for "
			       "a context name (%s)", name);
	rc = store_get_slug(c->p->st, k->id, h->slug, NULL, NULL);
	if (rc == 0)
		return err_set(c->e, -EEXIST, "ExecutionContext '%s' already "
			       "exists", h->slug);
	if (rc != -ENOENT)
		return err_set(c->e, rc, "cannot read %s", h->slug);
	if (ids_new(k->prefix, h->id) < 0)
		return err_set(c->e, -EIO, "cannot make an id");
	h->kind = (uint8_t)k->id;
	h->serial = store_next_serial(c->p->st);
	h->gen = 1;
	h->ctime_ns = h->mtime_ns = c->now_ns;
	return 0;
}

/* Take the secret entries out of runtimeEnv (and runtimeEnv itself when
 * nothing is left), wiping their plaintext. */
static void drop_secrets(struct doc *spec, struct doc *renv)
{
	size_t i = 0;

	while (i < renv->n) {
		if (marked_secret(renv->u.kv[i].val))
			doc_wipe_free(doc_map_take(renv, renv->u.kv[i].key));
		else
			i++;
	}
	if (renv->n == 0)
		doc_map_del(spec, "runtimeEnv");
}

int ctx_move_secrets(struct pctx *c)
{
	struct doc *spec = doc_map_get(c->res, "spec");
	struct doc *renv = doc_map_get(spec, "runtimeEnv");
	struct store_rec h;
	int rc;

	if (!count_secrets(renv))
		return 0;
	rc = ctx_header(c, &h);
	if (rc < 0)
		return rc;
	/* Mask the text while the secrets are still in c->res (see
	 * run_env.h); MaskSource cannot find them once they are gone. */
	rc = secrets_mask_source(c);
	if (rc == 0)
		rc = add_ctx(c, &h, renv);
	if (rc < 0)
		return rc;
	drop_secrets(spec, renv);
	c->masked_done = true;	/* MaskSource would no longer find them */
	return 0;
}
