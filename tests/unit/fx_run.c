/*
 * fx_run.c - helpers of the tests that run WorkflowExecutions through a
 * whole plane (test_runner, test_flow): write workflows and executions,
 * read fields of their status and streams, bounded waits for a phase.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/plane.h"
#include "core/plane_i.h"
#include "fx_run.h"

/* The rx_last status or rx_stream read; one test runs at a time. */
char rx_last[1 << 16];

void rx_open(struct fx_plane *f)
{
	struct err e = { 0, "" };

	assert_int_equal(fx_plane_open(f), 0);
	assert_int_equal(plane_start(f->p, &e), 0);
}

void rx_reopen(struct fx_plane *f)
{
	plane_close(f->p);
	f->p = NULL;
	rx_open(f);
}

int rx_setup(void **state)
{
	struct fx_plane *f;

	if (fx_plane_new(&f, "runner"))
		return -1;
	f->hold = false;	/* runs go, unless a test holds them */
	*state = f;
	return 0;
}

int rx_teardown(void **state)
{
	fx_plane_free(*state);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

void rx_put(struct fx_plane *f, enum kind_id k, const char *name,
	    const char *text, struct plane_res *out)
{
	fx_ok_put(f, k, PLANE_WRITE_NEW, name, text, out);
}

/* A rx_workflow named @name with @tasks (a YAML flow list). */
void rx_workflow(struct fx_plane *f, const char *name, const char *tasks)
{
	char doc[8192];

	snprintf(doc, sizeof(doc), "metadata: {name: %s}\nspec:\n  document: "
		 "{dsl: 1.0.0, namespace: t, name: %s, version: '1'}\n"
		 "  tasks: %s\n", name, name, tasks);
	rx_put(f, KIND_WORKFLOW, "w.yaml", doc, NULL);
}

/* An rx_execution @name of rx_workflow @wf with extra spec lines @extra. */
struct plane_res rx_execution(struct fx_plane *f, const char *name,
			      const char *wf, const char *extra)
{
	struct plane_res r;
	char doc[8192];

	snprintf(doc, sizeof(doc), "metadata: {name: %s}\nspec:\n  "
		 "workflowId: %s\n%s", name, wf, extra ? extra : "");
	rx_put(f, KIND_WORKFLOW_EXECUTION, "x.yaml", doc, &r);
	return r;
}

/* The stored resource of rx_execution @slug (caller frees). */
struct doc *rx_load(struct fx_plane *f, const char *slug)
{
	struct store_rec h;
	struct doc *res = NULL;

	if (record_load_slug(f->p, KIND_WORKFLOW_EXECUTION, slug, &h, &res))
		return NULL;
	return res;
}

const char *rx_field(struct fx_plane *f, const char *slug, const char *path)
{
	struct doc *res = rx_load(f, slug);
	const char *v = doc_get_str(res, path);

	snprintf(rx_last, sizeof(rx_last), "%s", v ? v : "");
	doc_free(res);
	return rx_last;
}

static bool ended(const char *phase)
{
	return !strcmp(phase, "COMPLETED") || !strcmp(phase, "FAILED") ||
	       !strcmp(phase, "CANCELLED");
}

/* Wait (bounded) for @slug to end; return its phase. */
const char *rx_wait_end_within(struct fx_plane *f, const char *slug,
			       int secs)
{
	int i;

	for (i = 0; i < secs * 20; i++) {
		if (ended(rx_field(f, slug, "status.phase")))
			return rx_last;
		usleep(50000);
	}
	fail_msg("%s did not end (phase %s)", slug, rx_last);
	return NULL;
}

const char *rx_wait_end(struct fx_plane *f, const char *slug)
{
	return rx_wait_end_within(f, slug, WAIT_S);
}

void rx_wait_phase(struct fx_plane *f, const char *slug, const char *phase)
{
	int i;

	for (i = 0; i < WAIT_S * 20; i++) {
		if (!strcmp(rx_field(f, slug, "status.phase"), phase))
			return;
		usleep(50000);
	}
	fail_msg("%s never reached %s (%s)", slug, phase, rx_last);
}

/* Stream @s of @r, whole, into rx_last. */
const char *rx_stream(struct fx_plane *f, const struct plane_res *r,
		      enum plane_stream s)
{
	struct buf b = BUF_INIT(sizeof(rx_last) - 1);
	ssize_t n = plane_stream_read(f->p, r->serial, s, 0,
				      sizeof(rx_last) - 1, &b);

	assert_true(n >= 0);
	snprintf(rx_last, sizeof(rx_last), "%.*s", (int)b.len,
		 b.data ? b.data : "");
	buf_release(&b);
	return rx_last;
}

const char *rx_task_field(struct fx_plane *f, const char *slug, size_t i,
			  const char *path)
{
	struct doc *res = rx_load(f, slug);
	const struct doc *list = doc_get(res, "status.tasks");
	const char *v = list && i < list->n ?
			doc_get_str(list->u.items[i], path) : NULL;

	snprintf(rx_last, sizeof(rx_last), "%s", v ? v : "");
	doc_free(res);
	return rx_last;
}

