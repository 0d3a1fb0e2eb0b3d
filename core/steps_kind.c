/*
 * steps_kind.c - each kind's own pipeline steps (Stigmer's per-controller
 * steps), and the helpers they share: audit stamps and the default
 * WorkflowInstance a Workflow or an execution creates.
 *
 *   Workflow:          ValidateWorkflowSpec (task kinds and configs);
 *                      CreateDefaultInstance (same commit); on delete,
 *                      CheckWorkflowUsers (EBUSY, or the default instance
 *                      goes too)
 *   WorkflowInstance:  LoadParentWorkflow, ResolveEnvRefs
 *   WorkflowExecution: ValidateWorkflowOrInstance (with
 *                      CreateDefaultInstanceIfNeeded), NameExecution;
 *                      SetInitialPhase; on update, CheckPending
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct doc *res_audit_new(const char *actor, const char *now, const char *event)
{
	const char *const parts[] = { "specAudit", "statusAudit" };
	struct doc *audit = doc_new(DOC_MAP), *info;
	size_t i;

	for (i = 0; audit && i < 2; i++) {
		info = doc_map_child(audit, parts[i]);
		if (!info ||
		    doc_map_set(doc_map_child(info, "createdBy"), "id",
				doc_strz(actor)) < 0 ||
		    doc_map_setstr(info, "createdAt", now) < 0 ||
		    doc_map_set(doc_map_child(info, "updatedBy"), "id",
				doc_strz(actor)) < 0 ||
		    doc_map_setstr(info, "updatedAt", now) < 0 ||
		    doc_map_setstr(info, "event", event) < 0) {
			doc_free(audit);
			audit = NULL;
		}
	}
	return audit;
}

/* The instance document Stigmer's CreateDefaultInstance builds. */
static struct doc *default_instance_doc(struct pctx *c, const struct doc *wf,
					const char *wf_id, const char *name,
					const char *slug, const char *id)
{
	const char *scope = doc_get_str(wf, "metadata.ownerScope");
	const char *org = doc_get_str(wf, "metadata.org");
	struct doc *d = doc_new(DOC_MAP), *meta, *spec, *status;

	if (!d || doc_map_setstr(d, "apiVersion", API_VERSION) < 0 ||
	    doc_map_setstr(d, "kind", "WorkflowInstance") < 0) {
		doc_free(d);
		return NULL;
	}
	meta = doc_map_child(d, "metadata");
	spec = doc_map_child(d, "spec");
	status = doc_map_child(d, "status");
	if (!meta || !spec || !status ||
	    doc_map_setstr(meta, "name", name) < 0 ||
	    doc_map_setstr(meta, "slug", slug) < 0 ||
	    doc_map_setstr(meta, "id", id) < 0 ||
	    (scope && doc_map_setstr(meta, "ownerScope", scope) < 0) ||
	    (org && doc_map_setstr(meta, "org", org) < 0) ||
	    doc_map_setstr(spec, "workflowId", wf_id) < 0 ||
	    doc_map_setstr(spec, "description", "Default instance "
			   "(auto-created, no custom configuration)") < 0 ||
	    doc_map_set(status, "audit",
			res_audit_new(c->actor, c->now, "created")) < 0) {
		doc_free(d);
		return NULL;
	}
	return d;
}

/* An existing "<name>-default" is the default instance only if it
 * belongs to the workflow @wf_id. */
static int check_owner(struct pctx *c, const struct store_rec *h,
		       const char *wf_id)
{
	struct doc *inst = NULL;
	const char *owner;
	int rc = record_load(c->p, h->id, NULL, &inst);

	if (rc < 0)
		return err_set(c->e, rc, "cannot read %s", h->slug);
	owner = doc_get_str(inst, "spec.workflowId");
	if (!owner || strcmp(owner, wf_id))
		rc = err_set(c->e, -EEXIST, "WorkflowInstance '%s' already "
			     "exists and belongs to another workflow",
			     h->slug);
	doc_free(inst);
	return rc;
}

/*
 * build_default_instance() - add "<workflow name>-default" to the change
 * set, or find it when it exists (then nothing is added).  *out receives
 * the instance's header.
 */
/* A default instance made for an execution belongs to the workflow's
 * owner, with its mode; made with the workflow, to its creator. */
static void owner_of_workflow(struct pctx *c, const char *wf_id,
			      struct store_rec *h)
{
	struct store_rec wh;

	if (store_get(c->p->st, wf_id, &wh, NULL) < 0)
		return;
	h->uid = wh.uid;
	h->gid = wh.gid;
	h->mode = wh.mode;
}

int build_default_instance(struct pctx *c, const struct doc *wf,
			   const char *wf_id, struct store_rec *out)
{
	const struct kind *k = model_kind(KIND_WORKFLOW_INSTANCE);
	const char *wf_name = doc_get_str(wf, "metadata.name");
	char name[300], slug[SLUG_MAX + 1];
	struct store_rec h;
	struct doc *inst = NULL;
	int rc;

	snprintf(name, sizeof(name), "%s-default", wf_name ? wf_name : "x");
	if (slug_from_name(name, slug) < 0)
		return err_set(c->e, -EBADMSG, "metadata.name: too long for "
			       "a default instance name");
	rc = store_get_slug(c->p->st, k->id, slug, out, NULL);
	if (rc == 0)
		return check_owner(c, out, wf_id);
	if (rc != -ENOENT)
		return err_set(c->e, rc, "cannot read %s", slug);
	memset(&h, 0, sizeof(h));
	if (ids_new(k->prefix, h.id) < 0)
		return err_set(c->e, -EIO, "cannot make an id");
	inst = default_instance_doc(c, wf, wf_id, name, slug, h.id);
	if (!inst || res_order(k, inst) < 0) {
		doc_free(inst);
		return -ENOMEM;
	}
	owner_of_workflow(c, wf_id, &h);
	h.kind = (uint8_t)k->id;
	h.serial = store_next_serial(c->p->st);
	h.gen = 1;
	h.ctime_ns = h.mtime_ns = c->now_ns;
	memcpy(h.slug, slug, sizeof(h.slug));
	rc = pctx_add_change(c, STORE_PUT, &h, inst, NULL, 0, PLANE_CREATED);
	doc_free(inst);
	if (rc == 0)
		*out = h;
	return rc;
}

/* Workflow: CreateDefaultInstance + UpdateWorkflowStatusWithDefaultInstance,
 * in the same atomic commit as the workflow itself. */
static int wf_default_instance(struct pctx *c)
{
	struct store_rec h;
	int rc;

	rc = build_default_instance(c, c->res, c->id, &h);
	if (rc < 0)
		return rc;
	if (c->nchanges == 0)
		return err_set(c->e, -EEXIST, "WorkflowInstance '%s' already "
			       "exists", h.slug);
	return doc_map_setstr(doc_map_child(c->res, "status"),
			      "defaultInstanceId", h.id);
}

/* WorkflowInstance: LoadParentWorkflow; the stored spec keeps the id. */
static int wi_load_parent(struct pctx *c)
{
	struct doc *spec = doc_map_child(c->res, "spec");
	const char *ref = doc_get_str(spec, "workflowId");
	struct store_rec h;
	struct doc *wf = NULL;
	int rc;

	if (!ref)
		return err_set(c->e, -EBADMSG, "spec.workflowId: required");
	rc = record_resolve(c->p, model_kind(KIND_WORKFLOW), ref, &h, &wf,
			    c->e);
	if (rc == 0)
		rc = plane_check(c->p, c->caller, &h, PLANE_MAY_USE, c->e);
	if (rc < 0) {
		doc_free(wf);
		return err_prefix(c->e, "spec.workflowId");
	}
	rc = doc_map_setstr(spec, "workflowId", h.id);
	/* ValidateSameOrgBusinessRule: both org-scoped means same org. */
	if (rc == 0) {
		const char *ws = doc_get_str(wf, "metadata.ownerScope");
		const char *is = doc_get_str(c->res, "metadata.ownerScope");
		const char *wo = doc_get_str(wf, "metadata.org");
		const char *io = doc_get_str(c->res, "metadata.org");

		if (ws && is && !strcmp(ws, "ORGANIZATION") &&
		    !strcmp(is, "ORGANIZATION") && strcmp(wo ? wo : "",
							  io ? io : ""))
			rc = err_set(c->e, -EBADMSG, "Cannot create instance "
				     "of org-scoped workflow in a different "
				     "organization. Workflow belongs to org "
				     "'%s', instance target is org '%s'. "
				     "Create a user-scoped instance instead.",
				     wo ? wo : "", io ? io : "");
	}
	doc_free(wf);
	return rc;
}

/* WorkflowInstance: every envRefs entry must name an Environment; the
 * stored entry keeps its id (and slug, for people reading it). */
static int wi_env_refs(struct pctx *c)
{
	struct doc *refs = doc_get(c->res, "spec.envRefs");
	const struct kind *k = model_kind(KIND_ENVIRONMENT);
	struct store_rec h;
	size_t i;
	int rc;

	for (i = 0; refs && refs->type == DOC_LIST && i < refs->n; i++) {
		struct doc *r = refs->u.items[i];
		const char *ref = doc_get_str(r, "id");

		if (!ref)
			ref = doc_get_str(r, "slug");
		if (!ref)
			return err_set(c->e, -EBADMSG, "spec.envRefs[%zu]: "
				       "needs a slug or an id", i);
		rc = record_resolve(c->p, k, ref, &h, NULL, c->e);
		if (rc == 0)
			rc = plane_check(c->p, c->caller, &h, PLANE_MAY_USE,
					 c->e);
		if (rc < 0)
			return err_prefix(c->e, "spec.envRefs[%zu]", i);
		if (doc_map_setstr(r, "id", h.id) < 0 ||
		    doc_map_setstr(r, "slug", h.slug) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Re-save a workflow with status.defaultInstanceId set, keeping its
 * spec.yaml source. */
static int wf_record_default(struct pctx *c, const struct store_rec *wh,
			     const char *iid)
{
	struct buf src = BUF_INIT(PLANE_DOC_MAX);
	struct store_rec h;
	struct doc *wf = NULL;
	int rc;

	rc = record_load_src(c->p, wh->id, &h, &wf, &src);
	if (rc == 0 && (doc_map_setstr(doc_map_child(wf, "status"),
				       "defaultInstanceId", iid) < 0 ||
			res_order(model_kind(KIND_WORKFLOW), wf) < 0))
		rc = -ENOMEM;
	if (rc == 0) {
		h.gen++;
		h.mtime_ns = c->now_ns;
		rc = pctx_add_change(c, STORE_PUT, &h, wf, &src, wh->gen,
				     PLANE_UPDATED);
	}
	doc_free(wf);
	buf_release(&src);
	return rc < 0 ? err_set(c->e, rc, "cannot update workflow %s",
				 wh->slug) : 0;
}

/* Point an execution at the workflow's default instance, creating it and
 * recording it on the workflow when needed (CreateDefaultInstanceIfNeeded). */
static int wex_default_instance(struct pctx *c, struct doc *wf,
				const struct store_rec *wh)
{
	const char *did = doc_get_str(wf, "status.defaultInstanceId");
	struct store_rec ih;
	size_t before = c->nchanges;
	int rc;

	if (did && store_get(c->p->st, did, &ih, NULL) == 0)
		goto found;
	rc = build_default_instance(c, wf, wh->id, &ih);
	if (rc < 0)
		return rc;
	/* New, or found by name: the workflow's status points at it. */
	if (c->nchanges > before || !did || strcmp(did, ih.id)) {
		rc = wf_record_default(c, wh, ih.id);
		if (rc < 0)
			return rc;
	}
found:
	return doc_map_setstr(doc_map_child(c->res, "spec"),
			      "workflowInstanceId", ih.id);
}

/* An execution given an instance: resolve it and the workflow behind it. */
static int wex_from_instance(struct pctx *c, const char *iref,
			     struct store_rec *wh, struct doc **wf)
{
	struct doc *inst = NULL;
	struct store_rec ih;
	const char *wid;
	int rc;

	rc = record_resolve(c->p, model_kind(KIND_WORKFLOW_INSTANCE), iref,
			    &ih, &inst, c->e);
	if (rc == 0)
		rc = plane_check(c->p, c->caller, &ih, PLANE_MAY_USE, c->e);
	if (rc < 0) {
		doc_free(inst);
		return err_prefix(c->e, "spec.workflowInstanceId");
	}
	wid = doc_get_str(inst, "spec.workflowId");
	rc = record_resolve(c->p, model_kind(KIND_WORKFLOW), wid ? wid : "",
			    wh, wf, c->e);
	if (rc == 0)
		rc = doc_map_setstr(doc_map_child(c->res, "spec"),
				    "workflowInstanceId", ih.id);
	doc_free(inst);
	return rc;
}

/* The Environments the execution's instance binds go into the run: the
 * caller needs x on each (one deleted since is the runner's to report). */
static int wex_check_envs(struct pctx *c, const char *iid)
{
	struct doc *inst = NULL;
	const struct doc *refs;
	const char *id;
	struct store_rec ih, eh;
	int rc = iid ? record_load(c->p, iid, &ih, &inst) : -ENOENT;

	if (rc == -ENOENT)
		return 0;	/* a default instance made in this change */
	refs = doc_get(inst, "spec.envRefs");
	for (size_t i = 0; rc == 0 && refs && refs->type == DOC_LIST &&
			   i < refs->n; i++) {
		id = doc_get_str(refs->u.items[i], "id");
		if (id && store_get(c->p->st, id, &eh, NULL) == 0)
			rc = plane_check(c->p, c->caller, &eh, PLANE_MAY_USE,
					 c->e);
		if (rc < 0)
			rc = err_prefix(c->e, "WorkflowInstance \"%s\" "
					"spec.envRefs[%zu]", ih.slug, i);
	}
	doc_free(inst);
	return rc;
}

/* A string field is set when it is not empty (proto3). */
static const char *set_or_null(const char *s)
{
	return s && *s ? s : NULL;
}

/* ValidateWorkflowOrInstance + CreateDefaultInstanceIfNeeded. */
static int wex_target(struct pctx *c)
{
	struct doc *spec = doc_map_child(c->res, "spec");
	const char *wref = set_or_null(doc_get_str(spec, "workflowId"));
	const char *iref = set_or_null(doc_get_str(spec,
						   "workflowInstanceId"));
	struct store_rec wh;
	struct doc *wf = NULL;
	int rc;

	if (!wref && !iref)
		return err_set(c->e, -EBADMSG, "spec: either workflowId or "
			       "workflowInstanceId must be set");
	if (iref)
		rc = wex_from_instance(c, iref, &wh, &wf);
	else
		rc = record_resolve(c->p, model_kind(KIND_WORKFLOW), wref,
				    &wh, &wf, c->e);
	if (rc == 0)
		rc = plane_check(c->p, c->caller, &wh, PLANE_MAY_USE, c->e);
	if (rc < 0) {
		doc_free(wf);
		return iref ? rc : err_prefix(c->e, "spec.workflowId");
	}
	if (wref && iref && strcmp(wref, wh.id) && strcmp(wref, wh.slug))
		rc = err_set(c->e, -EBADMSG, "spec.workflowId: \"%.64s\" is "
			     "not the workflow of the instance", wref);
	if (rc == 0)
		rc = doc_map_setstr(spec, "workflowId", wh.id);
	if (rc == 0 && !iref)
		rc = wex_default_instance(c, wf, &wh);
	if (rc == 0)
		rc = wex_check_envs(c, doc_get_str(spec, "workflowInstanceId"));
	memcpy(c->wf_slug, wh.slug, sizeof(c->wf_slug));
	doc_free(wf);
	return rc;
}

/* An unnamed execution is "<workflow-slug>-<yyyymmdd-hhmmss>", made
 * unique with a counter. */
static int wex_name(struct pctx *c)
{
	char base[SLUG_MAX + 1], name[SLUG_MAX + 1], stamp[32];
	time_t s = (time_t)(c->now_ns / 1000000000);
	struct tm tm;
	int i, n;

	if (!c->gen_name)
		return 0;
	plane_utc((int64_t)s, &tm);
	snprintf(stamp, sizeof(stamp), "%04d%02d%02d-%02d%02d%02d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	n = snprintf(base, sizeof(base), "%.*s-%s",
		     (int)(SLUG_MAX - strlen(stamp) - 5), c->wf_slug, stamp);
	if (n < 0 || (size_t)n >= sizeof(base))
		return -EIO;
	memcpy(name, base, sizeof(name));
	for (i = 2; store_get_slug(c->p->st, c->k->id, name, NULL, NULL) == 0;
	     i++)
		if (i > 9999 || snprintf(name, sizeof(name), "%s-%d", base,
					 i) >= (int)sizeof(name))
			return err_set(c->e, -EEXIST, "no free name for %s",
				       base);
	return doc_map_setstr(doc_map_child(c->res, "metadata"), "name",
			      name);
}

/* SetInitialPhase. */
static int wex_phase(struct pctx *c)
{
	return doc_map_setstr(doc_map_child(c->res, "status"), "phase",
			      "PENDING");
}

/* A WorkflowExecution's spec is immutable once it has left PENDING: a
 * document naming a started execution is refused with the ways to start
 * a new run. */
static int wex_pending_only(struct pctx *c)
{
	const char *phase = doc_get_str(c->old, "status.phase");
	const char *wid = doc_get_str(c->old, "spec.workflowId");
	struct store_rec wh;

	if (!phase || !strcmp(phase, "PENDING"))
		return 0;
	if (!wid || store_get(c->p->st, wid, &wh, NULL) < 0)
		snprintf(wh.slug, sizeof(wh.slug), "<workflow>");
	return err_set(c->e, -EPERM, "execution \"%s\" has already started "
		       "(phase %s) and cannot be changed; to start a new run, "
		       "write the document under another file name or "
		       "metadata.name, or write it to workflows/%s/run "
		       "(a generated name)", c->old_hdr.slug, phase, wh.slug);
}

struct users {
	struct pctx *c;
	const char *field;
	const char *id;
	int (*fn)(struct pctx *c, const struct store_rec *h,
		  const struct doc *r);
};

static int user_of(void *ctx, const struct store_rec *h, const struct doc *r)
{
	const struct users *u = ctx;
	const char *v = doc_get_str(r, u->field);

	return v && !strcmp(v, u->id) ? u->fn(u->c, h, r) : 0;
}

/*
 * Call @fn on every stored resource of @kind whose @field equals @id.
 * This scans the kind: deletes are rare, and a reference index would be
 * one more thing to keep consistent.
 */
static int for_each_user(struct pctx *c, enum kind_id kind,
			 const char *field, const char *id,
			 int (*fn)(struct pctx *c, const struct store_rec *h,
				   const struct doc *r))
{
	struct users u = { c, field, id, fn };
	int rc = record_each(c->p, kind, user_of, &u);

	return rc < 0 ? rc : 0;
}

static int wf_instance_user(struct pctx *c, const struct store_rec *h,
			    const struct doc *r)
{
	const char *did = doc_get_str(c->old, "status.defaultInstanceId");

	if (did && !strcmp(did, h->id))
		return pctx_add_change(c, STORE_DEL, h, NULL, NULL, h->gen,
				       PLANE_DELETED);
	return err_set(c->e, -EBUSY, "Workflow %s is used by "
		       "WorkflowInstance %s", c->old_hdr.slug, h->slug);
}

static int wf_execution_user(struct pctx *c, const struct store_rec *h,
			     const struct doc *r)
{
	const char *phase = doc_get_str(r, "status.phase");

	if (phase && (!strcmp(phase, "IN_PROGRESS") ||
		      !strcmp(phase, "PENDING")))
		return err_set(c->e, -EBUSY, "Workflow %s is used by the "
			       "%s WorkflowExecution %s", c->old_hdr.slug,
			       phase[0] == 'P' ? "pending" : "running",
			       h->slug);
	return 0;
}

/* Deleting a Workflow takes its default instance along, and is refused
 * while another instance or a running execution uses it. */
static int wf_delete(struct pctx *c)
{
	int rc;

	rc = for_each_user(c, KIND_WORKFLOW_EXECUTION, "spec.workflowId",
			   c->old_hdr.id, wf_execution_user);
	if (rc == 0)
		rc = for_each_user(c, KIND_WORKFLOW_INSTANCE, "spec.workflowId",
				   c->old_hdr.id, wf_instance_user);
	return rc;
}

/* ---- ValidateWorkflowSpec ------------------------------------------- */

static const struct step wf_create[] = {
	{ "CreateDefaultInstance", wf_default_instance }, { 0 },
};
static const struct step wf_front[] = {
	{ "ValidateWorkflowSpec", wf_validate_tasks }, { 0 },
};
static const struct step wf_del[] = {
	{ "CheckWorkflowUsers", wf_delete }, { 0 },
};
static const struct step wi_front[] = {
	{ "LoadParentWorkflow", wi_load_parent },
	{ "ResolveEnvRefs", wi_env_refs }, { 0 },
};
static const struct step wex_front[] = {
	{ "ValidateWorkflowOrInstance", wex_target },
	{ "NameExecution", wex_name }, { 0 },
};
/* Deleting a running execution cancels it first (DESIGN 1.4). */
static int wex_cancel(struct pctx *c)
{
	if (runner_cancel_wait(c->p->runner, c->old_hdr.serial,
			       RUN_GRACE_S + 10) < 0)
		return err_set(c->e, -EBUSY, "WorkflowExecution %s is still "
			       "stopping; try again", c->old_hdr.slug);
	return 0;
}

static const struct step wex_create[] = {
	{ "SetInitialPhase", wex_phase },
	{ "MoveRuntimeSecretsToContext", ctx_move_secrets }, { 0 },
};
static const struct step wex_del[] = {
	{ "CancelRun", wex_cancel }, { 0 },
};
static const struct step wex_update[] = {
	{ "CheckPending", wex_pending_only }, { 0 },
};

static const struct kind_steps table[KIND_COUNT] = {
	[KIND_WORKFLOW] = { wf_front, wf_create, NULL, wf_del },
	[KIND_WORKFLOW_INSTANCE] = { wi_front, NULL, NULL, NULL },
	[KIND_WORKFLOW_EXECUTION] = { wex_front, wex_create, wex_update,
				      wex_del },
	[KIND_EXECUTION_CONTEXT] = { NULL, NULL, NULL, NULL },
	[KIND_ENVIRONMENT] = { NULL, NULL, NULL, NULL },
};

const struct kind_steps *kind_steps(const struct kind *k)
{
	return &table[k->id];
}
