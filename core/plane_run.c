/*
 * plane_run.c - workflows/<slug>/run: a YAML mapping of execution spec
 * fields becomes a whole WorkflowExecution document (the workflow's id,
 * its owner scope and org, a generated name) that goes through the create
 * pipeline like any written execution.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "yaml.h"

static bool blank(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r')
			return false;
	return true;
}

/* The user's fields, a map (empty when nothing was written). */
static int fields(const char *text, size_t len, struct doc **out,
		  struct err *e)
{
	struct doc *d = NULL;
	int rc;

	if (blank(text, len)) {
		*out = doc_new(DOC_MAP);
		return *out ? 0 : -ENOMEM;
	}
	rc = yaml_parse(text, len, NULL, &d, e);
	if (rc == 0 && d->type == DOC_NULL) {
		doc_free(d);
		d = doc_new(DOC_MAP);
		rc = d ? 0 : -ENOMEM;
	}
	if (rc == 0 && d->type != DOC_MAP)
		rc = err_set(e, -EBADMSG, "expected a mapping of "
			     "WorkflowExecution spec fields");
	if (rc < 0) {
		doc_wipe_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static int copy_str(struct doc *to, const char *key, const struct doc *from,
		    const char *path)
{
	const char *v = doc_get_str(from, path);

	return v && *v ? doc_map_setstr(to, key, v) : 0;
}

/* apiVersion, kind, metadata (the workflow's scope and org), spec. */
static int envelope(const struct doc *wf, const char *wf_id,
		    struct doc *spec, struct doc **out, struct err *e)
{
	struct doc *d = doc_new(DOC_MAP), *meta = doc_new(DOC_MAP);
	const char *given = doc_get_str(spec, "workflowId");
	const char *scope = doc_get_str(wf, "metadata.ownerScope");
	int rc = d && meta ? 0 : -ENOMEM;

	if (rc == 0 && given && *given && strcmp(given, wf_id) &&
	    strcmp(given, doc_get_str(wf, "metadata.slug") ?
		   doc_get_str(wf, "metadata.slug") : ""))
		rc = err_set(e, -EBADMSG, "spec.workflowId: not this workflow");
	if (rc == 0)
		rc = doc_map_setstr(spec, "workflowId", wf_id);
	/* An execution lives in its workflow's org, or its account; a
	 * platform workflow's runs take the execution default. */
	if (rc == 0 && scope && (!strcmp(scope, "ORGANIZATION") ||
				 !strcmp(scope, "IDENTITY_ACCOUNT")))
		rc = doc_map_setstr(meta, "ownerScope", scope);
	if (rc == 0)
		rc = copy_str(meta, "org", wf, "metadata.org");
	if (rc == 0)
		rc = doc_map_setstr(d, "apiVersion", "agentic.stigmer.ai/v1");
	if (rc == 0)
		rc = doc_map_setstr(d, "kind", "WorkflowExecution");
	if (rc == 0) {
		rc = doc_map_set(d, "metadata", meta);
		meta = NULL;
	}
	if (rc == 0)
		rc = doc_map_set(d, "spec", doc_clone(spec));
	doc_free(meta);
	if (rc < 0) {
		doc_wipe_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

/* The execution of @wf (@wf_id) with @spec through the create pipeline;
 * its YAML text is wiped (it may hold runtime secrets). */
static int submit(struct plane *p, const struct plane_caller *c,
		  const struct doc *wf, const char *wf_id, struct doc *spec,
		  enum plane_write_mode mode, struct plane_res *out,
		  struct err *e)
{
	struct buf yaml = BUF_INIT(PLANE_DOC_MAX);
	struct doc *d = NULL;
	int rc = envelope(wf, wf_id, spec, &d, e);

	if (rc == 0)
		rc = yaml_emit(d, &yaml);
	if (rc == 0)
		rc = plane_write(p, c, KIND_WORKFLOW_EXECUTION, mode,
				 "run.yaml", yaml.data, yaml.len, out, e);
	if (yaml.data)
		seal_wipe(yaml.data, yaml.len);
	buf_release(&yaml);
	doc_wipe_free(d);
	return rc;
}

int plane_run(struct plane *p, const struct plane_caller *c,
	      uint64_t wf_serial, const char *text, size_t len,
	      struct plane_res *out, struct err *e)
{
	struct doc *spec = NULL, *wf = NULL;
	struct store_rec h;
	int rc;

	if (len > PLANE_DOC_MAX)
		return err_set(e, -EFBIG, "document larger than %u bytes",
			       PLANE_DOC_MAX);
	rc = store_get_serial(p->st, wf_serial, &h, NULL);
	if (rc == 0 && h.kind != KIND_WORKFLOW)
		rc = -ENOENT;
	if (rc == 0)
		rc = record_load(p, h.id, &h, &wf);
	if (rc < 0)
		return err_set(e, rc, "no such workflow");
	rc = fields(text, len, &spec, e);
	if (rc == 0)
		rc = submit(p, c, wf, h.id, spec, PLANE_WRITE_RUN, out, e);
	doc_wipe_free(spec);
	doc_free(wf);
	return rc;
}

/* spec of a child: triggerMessage and the link to its parent. */
static int child_spec(const char *input_json, const char *parent,
		      const char *task, struct doc **out)
{
	struct doc *spec = doc_new(DOC_MAP);
	struct doc *meta = spec ? doc_map_child(spec, "triggerMetadata") : NULL;
	int rc = meta ? 0 : -ENOMEM;

	if (rc == 0)
		rc = doc_map_setstr(spec, "triggerMessage", input_json);
	if (rc == 0)
		rc = doc_map_setstr(meta, "parentExecution", parent);
	if (rc == 0)
		rc = doc_map_setstr(meta, "parentTask", task);
	if (rc < 0) {
		doc_free(spec);
		return rc;
	}
	*out = spec;
	return 0;
}

/* A refused child has its deny line like any refused change. */
static void child_refused(struct plane *p, const struct plane_caller *c,
			  const char *wf_ref, const char *id,
			  const struct err *e)
{
	char reason[ERR_MSG_MAX];

	snprintf(reason, sizeof(reason), "%s", e->msg);
	plane_one_line(reason);
	plane_audit_event(p, c, "deny", KIND_WORKFLOW, wf_ref, id,
			  e->code < 0 ? e->code : -EIO, reason, NULL, 0);
}

int plane_run_child(struct plane *p, const struct plane_caller *who,
		    const char *wf_ref, const char *input_json,
		    const char *parent, const char *task, struct plane_res *out,
		    struct err *e)
{
	struct plane_caller c = *who;
	struct doc *spec = NULL, *wf = NULL;
	struct store_rec h;
	int rc;

	/* Started by its parent's run: no process asked (pid 0, as for all
	 * the daemon does by itself), for the parent's creator (x on the
	 * workflow, the child's owner). */
	c.pid = 0;
	rc = record_resolve(p, model_kind(KIND_WORKFLOW), wf_ref, &h, &wf, e);
	if (rc == 0)
		rc = child_spec(input_json, parent, task, &spec);
	if (rc == 0)
		rc = submit(p, &c, wf, h.id, spec, PLANE_WRITE_CHILD, out, e);
	if (rc == 0 && out)
		plane_audit_event(p, &c, "run", KIND_WORKFLOW_EXECUTION,
				  out->slug, out->id, 0, NULL, NULL, 0);
	if (rc == -ENOMEM || rc == -EFBIG)
		err_set(e, rc, "the child execution is too large");
	if (rc < 0)
		child_refused(p, &c, wf_ref, rc == -ENOENT ? "" : h.id, e);
	doc_free(spec);
	doc_free(wf);
	return rc;
}
