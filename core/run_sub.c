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

/* The input as JSON text, refused when it would carry a secret value of
 * the run: the child keeps it in its spec, stored as written. */
static int input_json(struct run *r, struct run_task *t, struct buf *out)
{
	const struct doc *in = doc_map_get(t->cfg, "input");
	int rc = in ? expr_json_dump(in, out) : buf_addstr(out, "{}");

	if (rc == 0)
		rc = buf_add(out, "", 1);
	if (rc < 0) {
		snprintf(t->error, sizeof(t->error), "the input of the "
			 "sub-workflow is too large");
		return -1;
	}
	if (!run_has_secret(r, out->data))
		return 0;
	snprintf(t->error, sizeof(t->error), "the input of the sub-workflow "
		 "would carry a value marked isSecret; give it to the child "
		 "through an environment instead");
	return -1;
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

/* How a wait for a child ended. */
enum child_wait { CHILD_ENDED, CHILD_STOPPED, CHILD_LATE };

/* Wait for the child's end; a stop, a cut or the task's deadline on our
 * side cancels it, and the wait goes on until it has ended (it writes
 * done_fd then, so the fd must stay open until that). */
static enum child_wait wait_child(struct run *r, struct run_task *t,
				  uint64_t serial, int done_fd)
{
	enum child_wait why = CHILD_ENDED;
	struct pollfd pf[17];
	int n = run_scope_fds(t->sc, pf + 1, 16);
	bool is_task;
	int64_t dl = run_task_deadline(r, t, &is_task);

	pf[0] = (struct pollfd){ .fd = done_fd, .events = POLLIN };
	run_unlock(r);
	for (;;) {
		if (poll(pf, (nfds_t)(n + 1), why == CHILD_ENDED ?
			 run_poll_ms(dl) : -1) > 0 && (pf[0].revents & POLLIN))
			break;
		if (why != CHILD_ENDED)
			continue;
		if (run_scope_stopped(t->sc))
			why = CHILD_STOPPED;
		else if (run_now() >= dl)
			why = CHILD_LATE;
		if (why != CHILD_ENDED) {
			runner_cancel(r->rr, serial);
			n = 0;	/* the wake-ups stay readable */
		}
	}
	run_lock(r);
	return why == CHILD_ENDED && run_scope_stopped(t->sc) ? CHILD_STOPPED :
	       why;
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

/* Create the child and start it; a child created but not started is
 * FAILED at once (else recovery would start it alone). */
static int start_child(struct run *r, struct run_task *t, const char *json,
		       struct plane_res *c, int done_fd)
{
	const char *ref = doc_get_str(t->cfg, "workflow");
	struct run_link link = { r->tree, t->sc->depth + 1, done_fd };
	struct err e = { 0 };
	int rc = plane_run_child(r->p, &r->who, ref ? ref : "", json,
				 r->slug, t->path, c, &e);

	if (rc < 0) {
		run_fmt(t->error, sizeof(t->error), "cannot create the "
			"sub-workflow execution: %s", e.msg[0] ? e.msg :
			strerror(-rc));
		return -1;
	}
	rc = link_entry(r, t, c);
	if (rc == 0)
		rc = runner_launch_child(r->rr, c->id, c->serial,
					 r->who.uid, &link);
	if (rc < 0) {
		run_fmt(t->error, sizeof(t->error), "cannot start the "
			"sub-workflow execution %s", c->slug);
		run_fail_stored(r->p, c->id, "FAILED", t->error, &e);
		return -1;
	}
	return 0;
}

/* The child was waited for: how the task ends.  A limit it hit is the
 * tree's: it fails this run too, and no TRY catches it. */
static int child_done(struct run *r, struct run_task *t,
		      const struct plane_res *c, enum child_wait why)
{
	bool is_task;

	if (atomic_load(&r->tree->limited))
		return run_limit(r, "%s", r->tree->limit);
	if (why == CHILD_STOPPED)
		return -ECANCELED;
	if (why == CHILD_LATE) {
		run_task_deadline(r, t, &is_task);
		return run_deadline_failure(r, t, is_task);
	}
	return child_result(r, t, c);
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
	if (rc == 0)
		rc = child_done(r, t, &c, wait_child(r, t, c.serial, done_fd));
	if (done_fd >= 0)
		close(done_fd);
	buf_release(&json);
	return rc;
}
