/*
 * steps.c - the write and delete pipelines, after Stigmer's:
 *
 *   create: ValidateProto, [kind front], ResolveSlug, CheckDuplicate,
 *           BuildNewState, [kind create], SealSecrets, MaskSource, Persist
 *   update: LoadExisting, ValidateProto, [kind front], ResolveSlug,
 *           BuildUpdateState, [kind update], SealSecrets, MaskSource, Persist
 *   apply:  ValidateProto, [kind front], ResolveSlug, LoadForApply, then
 *           the rest of create or of update
 *   delete: LoadExistingForDelete, [kind delete], DeleteResource
 *
 * ValidateProto is parsing plus model_normalize().  Each step either
 * succeeds or fails with an errno and a message naming the field path.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "yaml.h"

static int s_parse(struct pctx *c)
{
	if (c->len > PLANE_DOC_MAX)
		return err_set(c->e, -EFBIG, "document is %zu bytes, over the "
			       "limit of %u", c->len, PLANE_DOC_MAX);
	return yaml_parse(c->text, c->len, NULL, &c->parsed, c->e);
}

/* The name a document without metadata.name gets: the file's stem. */
static int default_name(struct pctx *c, char *out, size_t cap)
{
	const char *dot;
	size_t n;

	if (c->mode == PLANE_WRITE_SPEC) {
		const char *old = doc_get_str(c->old, "metadata.name");

		snprintf(out, cap, "%s", old ? old : c->name);
		return 0;
	}
	if (c->mode == PLANE_WRITE_DRAFT) {
		snprintf(out, cap, "%s", c->name);
		return 0;
	}
	dot = strrchr(c->name, '.');
	n = dot ? (size_t)(dot - c->name) : strlen(c->name);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, c->name, n);
	out[n] = '\0';
	return 0;
}

/* Whether the document names itself (metadata.name or metadata.slug). */
static int names_itself(const struct doc *d)
{
	const struct doc *m = doc_map_get(d, "metadata");

	return doc_map_get(m, "name") || doc_map_get(m, "slug");
}

static int s_validate(struct pctx *c)
{
	char name[256];

	default_name(c, name, sizeof(name));
	/* An execution started through a workflow's run file or by a RUN
	 * workflow task without a name is named after its workflow and the
	 * time; a file written into the kind directory is named after the
	 * file, as for every kind (DESIGN 1.3). */
	if (c->k->id == KIND_WORKFLOW_EXECUTION &&
	    (c->mode == PLANE_WRITE_RUN || c->mode == PLANE_WRITE_CHILD) &&
	    !names_itself(c->parsed)) {
		c->gen_name = true;
		snprintf(name, sizeof(name), "execution");
	}
	return model_normalize(c->k, c->parsed, name, &c->res, c->e);
}

static int slug_of_name(struct pctx *c, char *slug)
{
	const char *name = doc_get_str(c->res, "metadata.name");
	int rc;

	if (!name)
		return err_set(c->e, -EBADMSG, "metadata.name: required");
	rc = slug_from_name(name, slug);
	if (rc == -ENAMETOOLONG)
		return err_set(c->e, -EBADMSG, "metadata.name: gives a slug "
			       "longer than %d bytes", SLUG_MAX);
	if (rc < 0)
		return err_set(c->e, -EBADMSG, "metadata.name: \"%.64s\" "
			       "gives an empty slug", name);
	return 0;
}

static int s_resolve_slug(struct pctx *c)
{
	const char *given = doc_get_str(c->res, "metadata.slug");
	char slug[SLUG_MAX + 1];
	int rc;

	if (given && !slug_valid(given))
		return err_set(c->e, -EBADMSG, "metadata.slug: \"%.64s\" is "
			       "not a valid slug", given);
	if (given)
		snprintf(slug, sizeof(slug), "%s", given);
	else if (c->mode == PLANE_WRITE_SPEC)
		snprintf(slug, sizeof(slug), "%s", c->old_hdr.slug);
	else if ((rc = slug_of_name(c, slug)) < 0)
		return rc;
	if (c->mode == PLANE_WRITE_SPEC && strcmp(slug, c->old_hdr.slug))
		return err_set(c->e, -EPERM, "metadata.slug: is immutable "
			       "(\"%s\")", c->old_hdr.slug);
	if (c->mode == PLANE_WRITE_DRAFT && strcmp(slug, c->name))
		return err_set(c->e, -EBADMSG, "metadata.name: gives slug "
			       "\"%s\" but the directory is \"%s\"", slug,
			       c->name);
	memcpy(c->slug, slug, sizeof(c->slug));
	return doc_map_setstr(doc_map_child(c->res, "metadata"), "slug",
			      slug);
}

static int load_old(struct pctx *c, const char *slug)
{
	int rc;

	rc = record_load_slug(c->p, c->k->id, slug, &c->old_hdr, &c->old);
	if (rc == 0)
		c->exists = true;
	return rc;
}

static int s_load_existing(struct pctx *c)
{
	int rc = load_old(c, c->name);

	if (rc == -ENOENT)
		return err_set(c->e, -ENOENT, "%s not found: %s", c->k->name,
			       c->name);
	return rc < 0 ? err_set(c->e, rc, "cannot read %s", c->name) : 0;
}

static int s_load_for_apply(struct pctx *c)
{
	int rc = load_old(c, c->slug);

	if (rc < 0 && rc != -ENOENT)
		return err_set(c->e, rc, "cannot read %s", c->slug);
	if (c->exists && c->k->create_only)
		return err_set(c->e, -EEXIST, "%s already exists: %s",
			       c->k->name, c->slug);
	return 0;
}

static int s_check_duplicate(struct pctx *c)
{
	struct store_rec h;
	int rc = store_get_slug(c->p->st, c->k->id, c->slug, &h, NULL);

	if (rc == 0)
		return err_set(c->e, -EEXIST, "%s with slug '%s' already "
			       "exists (id: %s)", c->k->name, c->slug, h.id);
	return rc == -ENOENT ? 0 : err_set(c->e, rc, "cannot read %s",
					     c->slug);
}

static int new_id(struct pctx *c, struct doc *meta)
{
	const char *given = doc_get_str(meta, "id");

	if (!given)
		return ids_new(c->k->prefix, c->id) < 0 ?
			err_set(c->e, -EIO, "cannot make an id") : 0;
	if (!ids_valid(c->k->prefix, given))
		return err_set(c->e, -EBADMSG, "metadata.id: \"%.64s\" is not "
			       "a %s id (%s-<ulid>)", given, c->k->name,
			       c->k->prefix);
	if (store_get(c->p->st, given, NULL, NULL) == 0)
		return err_set(c->e, -EEXIST, "metadata.id: %s is taken",
			       given);
	snprintf(c->id, sizeof(c->id), "%s", given);
	return 0;
}

static void hdr_fill(struct pctx *c, struct store_rec *h, uint64_t serial,
		     uint64_t gen, int64_t ctime_ns)
{
	memset(h, 0, sizeof(*h));
	h->kind = (uint8_t)c->k->id;
	h->serial = serial;
	h->gen = gen;
	h->ctime_ns = ctime_ns;
	h->mtime_ns = c->now_ns;
	memcpy(h->id, c->id, sizeof(h->id));
	memcpy(h->slug, c->slug, sizeof(h->slug));
}

static int s_build_new_state(struct pctx *c)
{
	struct doc *meta = doc_map_child(c->res, "metadata");
	struct doc *status;
	int rc;

	if (!meta)
		return -ENOMEM;
	rc = new_id(c, meta);
	if (rc < 0)
		return rc;
	status = doc_new(DOC_MAP);
	if (!status || doc_map_set(status, "audit",
				   res_audit_new(c->actor, c->now, "created")) < 0 ||
	    doc_map_setstr(meta, "id", c->id) < 0) {
		doc_free(status);
		return -ENOMEM;
	}
	if (doc_map_set(c->res, "status", status) < 0)
		return -ENOMEM;
	hdr_fill(c, &c->hdr, store_next_serial(c->p->st), 1, c->now_ns);
	plane_owner_of(c->p, c->caller, &c->hdr);
	return 0;
}

/* id and org never change; an absent org keeps the stored one. */
static int keep_identity(struct pctx *c, struct doc *meta)
{
	const char *id = doc_get_str(meta, "id");
	const char *org = doc_get_str(meta, "org");
	const char *old_org = doc_get_str(c->old, "metadata.org");

	if (id && strcmp(id, c->old_hdr.id))
		return err_set(c->e, -EPERM, "metadata.id: is immutable "
			       "(\"%s\")", c->old_hdr.id);
	if (org && (!old_org || strcmp(org, old_org)))
		return err_set(c->e, -EPERM, "metadata.org: is immutable "
			       "(\"%s\")", old_org ? old_org : "");
	if (!org && old_org && doc_map_setstr(meta, "org", old_org) < 0)
		return -ENOMEM;
	memcpy(c->id, c->old_hdr.id, sizeof(c->id));
	return doc_map_setstr(meta, "id", c->id);
}

/* Carry the stored status over and stamp the audit "updated". */
static int update_status(struct pctx *c)
{
	struct doc *status = doc_clone(doc_map_get(c->old, "status"));
	struct doc *audit, *info;
	const char *const parts[] = { "specAudit", "statusAudit" };
	size_t i;

	if (!status || status->type != DOC_MAP) {
		doc_free(status);
		status = doc_new(DOC_MAP);
	}
	audit = doc_map_child(status, "audit");
	for (i = 0; audit && i < 2; i++) {
		info = doc_map_child(audit, parts[i]);
		if (!info || doc_map_set(doc_map_child(info, "updatedBy"), "id",
					 doc_strz(c->actor)) < 0 ||
		    doc_map_setstr(info, "updatedAt", c->now) < 0 ||
		    doc_map_setstr(info, "event", "updated") < 0)
			audit = NULL;
	}
	if (!audit) {
		doc_free(status);
		return -ENOMEM;
	}
	return doc_map_set(c->res, "status", status);
}

static int s_build_update_state(struct pctx *c)
{
	struct doc *meta = doc_map_child(c->res, "metadata");
	int rc;

	if (c->k->create_only)
		return err_set(c->e, -EPERM, "%s is immutable", c->k->name);
	if (!meta)
		return -ENOMEM;
	rc = keep_identity(c, meta);
	if (rc == 0)
		rc = update_status(c);
	if (rc < 0)
		return rc;
	hdr_fill(c, &c->hdr, c->old_hdr.serial, c->old_hdr.gen + 1,
		 c->old_hdr.ctime_ns);
	c->hdr.uid = c->old_hdr.uid;
	c->hdr.gid = c->old_hdr.gid;
	c->hdr.mode = c->old_hdr.mode;
	return 0;
}

/* Who may: w on the kind's directory to create, w on the resource to
 * change it (access.c). */
static int s_authorize_create(struct pctx *c)
{
	return plane_check_create(c->p, c->caller, c->k->id, c->e);
}

static int s_authorize_update(struct pctx *c)
{
	return plane_check(c->p, c->caller, &c->old_hdr, PLANE_MAY_WRITE,
			   c->e);
}

static int s_authorize_delete(struct pctx *c)
{
	return plane_check_delete(c->p, c->caller, &c->old_hdr, c->e);
}

static int s_seal(struct pctx *c)
{
	return secrets_seal(c);
}

static int s_mask(struct pctx *c)
{
	return secrets_mask_source(c);
}

/* Put the fields of map @m in the order of @msg's table (the order
 * Stigmer's messages print in), whatever order the steps added them. */
static int order_like(struct doc *m, const struct schema_msg *msg)
{
	struct doc *v;
	size_t i;
	int rc = 0;

	for (i = 0; m && m->type == DOC_MAP && rc == 0 && i < msg->n; i++) {
		v = doc_map_take(m, msg->fields[i].json);
		if (v)
			rc = doc_map_set(m, msg->fields[i].json, v);
	}
	return rc;
}

int res_order(const struct kind *k, struct doc *res)
{
	int rc = order_like(doc_map_get(res, "metadata"), &model_metadata);

	if (rc == 0)
		rc = order_like(doc_map_get(res, "spec"), k->spec);
	if (rc == 0)
		rc = order_like(doc_map_get(res, "status"), k->status);
	return rc;
}

static int s_persist(struct pctx *c)
{
	int rc = res_order(c->k, c->res);

	if (rc == 0)
		rc = pctx_add_change(c, STORE_PUT, &c->hdr, c->res,
				     &c->masked, c->exists ? c->old_hdr.gen : 0,
				     c->exists ? PLANE_UPDATED : PLANE_CREATED);
	return rc < 0 ? rc : pctx_commit(c);
}

static const struct step front_new[] = {
	{ "ValidateProto", s_parse }, { "ValidateProto", s_validate }, { 0 },
};
static const struct step front_spec[] = {
	{ "LoadExisting", s_load_existing }, { "ValidateProto", s_parse },
	{ "ValidateProto", s_validate }, { 0 },
};
static const struct step slug_new[] = {
	{ "ResolveSlug", s_resolve_slug },
	{ "LoadForApply", s_load_for_apply }, { 0 },
};
static const struct step slug_only[] = {
	{ "ResolveSlug", s_resolve_slug }, { 0 },
};
static const struct step create_head[] = {
	{ "Authorize", s_authorize_create },
	{ "CheckDuplicate", s_check_duplicate },
	{ "BuildNewState", s_build_new_state }, { 0 },
};
static const struct step update_head[] = {
	{ "Authorize", s_authorize_update },
	{ "BuildUpdateState", s_build_update_state }, { 0 },
};
static const struct step tail[] = {
	{ "SealSecrets", s_seal }, { "MaskSource", s_mask },
	{ "Persist", s_persist }, { 0 },
};

static const struct step empty[] = { { 0 } };

static const struct step *or_empty(const struct step *s)
{
	return s ? s : empty;
}

/* Run the pipelines of one write; see the file comment for the order. */
int steps_write(struct pctx *c)
{
	const struct kind_steps *ks = kind_steps(c->k);
	int rc;

	rc = pipeline_run(c, c->mode == PLANE_WRITE_SPEC ? front_spec :
			  front_new);
	if (rc == 0)
		rc = pipeline_run(c, or_empty(ks->front));
	if (rc == 0)
		rc = pipeline_run(c, c->mode == PLANE_WRITE_NEW ? slug_new :
				  slug_only);
	if (rc == 0 && c->exists)
		rc = pipeline_run(c, update_head);
	else if (rc == 0)
		rc = pipeline_run(c, create_head);
	if (rc == 0)
		rc = pipeline_run(c, or_empty(c->exists ? ks->update :
					       ks->create));
	if (rc == 0)
		rc = pipeline_run(c, tail);
	return rc;
}

static int s_delete(struct pctx *c)
{
	int rc = pctx_add_change(c, STORE_DEL, &c->old_hdr, NULL, NULL,
				 c->old_hdr.gen, PLANE_DELETED);

	return rc < 0 ? rc : pctx_commit(c);
}

int steps_delete(struct pctx *c)
{
	static const struct step head[] = {
		{ "LoadExistingForDelete", s_load_existing },
		{ "Authorize", s_authorize_delete }, { 0 },
	};
	static const struct step last[] = {
		{ "DeleteResource", s_delete }, { 0 },
	};
	int rc = pipeline_run(c, head);

	if (rc == 0)
		rc = pipeline_run(c, or_empty(kind_steps(c->k)->del));
	return rc == 0 ? pipeline_run(c, last) : rc;
}
