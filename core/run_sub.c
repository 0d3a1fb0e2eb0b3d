/*
 * run_sub.c - RUN workflow: a child WorkflowExecution created through the
 * create pipeline, linked from the task's status entry (childExecution),
 * started by the runner as part of this run's tree (its tasks count
 * against max_total_operations, it shares the workflow_timeout deadline,
 * and it is one level of max_loop_depth), and waited for.  Its
 * status.output is the task's output; a stop or a cut cancels it.
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The input as JSON text, refused when it would carry a secret: the
 * child keeps it in its spec, which is stored as written. */
static int input_json(struct run *r, struct run_task *t, struct buf *out)
{
	const struct doc *in = doc_map_get(t->cfg, "input");
	char *plain;
	int rc = in ? expr_json_dump(in, out) : buf_addstr(out, "{}");

	if (rc == 0)
		rc = buf_add(out, "", 1);
	if (rc < 0) {
		snprintf(t->error, sizeof(t->error), "the input of the "
			 "sub-workflow is too large");
		return -1;
	}
	plain = strdup(out->data);
	if (!plain)
		return -ENOMEM;
	run_redact_text(r, plain, plain, strlen(plain) + 1);
	rc = strcmp(plain, out->data) ? -1 : 0;
	free(plain);
	if (rc)
		snprintf(t->error, sizeof(t->error), "the input of the "
			 "sub-workflow holds a secret: pass secrets through "
			 "environments, not input");
	return rc;
}

static int link_entry(struct run *r, struct run_task *t,
		      const struct plane_res *c)
{
	struct doc *m = t->st ? doc_map_child(t->st, "childExecution") : NULL;

	if (!t->st)
		return 0;
	if (!m || doc_map_setstr(m, "id", c->id) < 0 ||
	    doc_map_setstr(m, "slug", c->slug) < 0)
		return -ENOMEM;
	run_touch(r);
	return 0;
}

/* Wait for the child's end; a stop or cut on our side cancels it. */
static bool wait_child(struct run *r, struct run_task *t, uint64_t serial,
		       int done_fd)
{
	struct pollfd pf[17];
	int n = run_scope_fds(t->sc, pf + 1, 16);
	bool cancelled = false;

	pf[0] = (struct pollfd){ .fd = done_fd, .events = POLLIN };
	run_unlock(r);
	/* Only the child's end leaves: it writes done_fd when it ends, so
	 * the fd must stay open until then. */
	for (;;) {
		if (poll(pf, (nfds_t)(n + 1), -1) > 0 &&
		    (pf[0].revents & POLLIN))
			break;
		if (!cancelled && run_scope_stopped(t->sc)) {
			runner_cancel(r->rr, serial);
			cancelled = true;
			n = 0;	/* the wake-ups stay readable */
		}
	}
	run_lock(r);
	return cancelled;
}

/* The child ended: its output, or why it failed. */
static int child_result(struct run *r, struct run_task *t,
			const struct plane_res *c)
{
	struct store_rec h;
	struct doc *res = NULL;
	const char *phase, *err;
	int rc = record_load(r->p, c->id, &h, &res);

	if (rc < 0) {
		snprintf(t->error, sizeof(t->error), "sub-workflow execution "
			 "%s is gone", c->slug);
		return -1;
	}
	phase = doc_get_str(res, "status.phase");
	if (phase && !strcmp(phase, "COMPLETED")) {
		t->output = doc_clone(doc_get(res, "status.output"));
		rc = t->output || !doc_get(res, "status.output") ? 0 : -ENOMEM;
		if (rc == 0 && !t->output)
			t->output = doc_new(DOC_MAP);
	} else {
		err = doc_get_str(res, "status.error");
		run_fmt(t->error, sizeof(t->error), "sub-workflow execution "
			"%s ended %s: %s", c->slug, phase ? phase : "?",
			err ? err : "");
		rc = -1;
	}
	doc_free(res);
	return rc;
}

static int start_child(struct run *r, struct run_task *t, const char *json,
		       struct plane_res *c, int done_fd)
{
	const char *ref = doc_get_str(t->cfg, "workflow");
	struct run_link link = { r->tree, t->sc->depth + 1, done_fd };
	struct err e = { 0 };
	int rc = plane_run_child(r->p, r->uid, ref ? ref : "", json, r->slug,
				 t->path, c, &e);

	if (rc < 0 && rc != -ENOMEM) {
		run_fmt(t->error, sizeof(t->error), "cannot create the "
			"sub-workflow execution: %s", e.msg);
		return -1;
	}
	if (rc == 0)
		rc = link_entry(r, t, c);
	if (rc == 0)
		rc = runner_launch_child(r->rr, c->id, c->serial, r->uid,
					 &link);
	if (rc < 0 && rc != -ENOMEM) {
		snprintf(t->error, sizeof(t->error), "cannot start the "
			 "sub-workflow execution %s", c->slug);
		run_fail_stored(r->p, c->id, "FAILED", t->error, &e);
		return -1;
	}
	return rc;
}

int run_sub(struct run *r, struct run_task *t)
{
	const struct plane_limits *l = &r->p->limits;
	struct buf json = BUF_INIT(PLANE_DOC_MAX / 2);
	struct plane_res c;
	int done_fd, rc;

	if (r->dry) {
		run_trace(r, t, "would run workflow %s",
			  doc_get_str(t->cfg, "workflow"));
		t->output = run_dry_output("wouldRunWorkflow", doc_strz(
				doc_get_str(t->cfg, "workflow")));
		return t->output ? 0 : -ENOMEM;
	}
	if (t->sc->depth + 1 > l->max_loop_depth)
		return run_limit(r, "limit max_loop_depth (%u) exceeded at %s "
				 "(sub-workflow)", l->max_loop_depth, t->path);
	rc = input_json(r, t, &json);
	done_fd = rc == 0 ? eventfd(0, EFD_CLOEXEC) : -1;
	if (rc == 0 && done_fd < 0)
		rc = -ENOMEM;
	if (rc == 0)
		rc = start_child(r, t, json.data, &c, done_fd);
	if (rc == 0 && wait_child(r, t, c.serial, done_fd))
		rc = -ECANCELED;
	else if (rc == 0)
		rc = child_result(r, t, &c);
	if (done_fd >= 0)
		close(done_fd);
	buf_release(&json);
	return rc;
}
