/*
 * fx_run.h - helpers of the tests that run WorkflowExecutions through a
 * whole plane (test_runner, test_flow), on top of fx_plane.h: the fixture
 * (setup/teardown with runs going), documents written, fields and streams
 * read, bounded waits (never timing assertions).
 */
#ifndef EXECFS_TESTS_FX_RUN_H
#define EXECFS_TESTS_FX_RUN_H

#include "core/doc.h"
#include "core/plane.h"
#include "fx_plane.h"

#define WAIT_S 20		/* a bounded wait, seconds */

/* The last field or stream read (one test runs at a time). */
extern char rx_last[1 << 16];

/* cmocka setup/teardown: a fixture whose runs go (not held). */
int rx_setup(void **state);
int rx_teardown(void **state);
/* open (and start) the plane; close and open it again */
void rx_open(struct fx_plane *f);
void rx_reopen(struct fx_plane *f);

void rx_put(struct fx_plane *f, enum kind_id k, const char *name,
	    const char *text, struct plane_res *out);
/* a workflow named @name with @tasks (a YAML flow list) */
void rx_workflow(struct fx_plane *f, const char *name, const char *tasks);
/* an execution @name of workflow @wf with extra spec lines @extra */
struct plane_res rx_execution(struct fx_plane *f, const char *name,
			      const char *wf, const char *extra);
/* the stored resource of execution @slug (caller frees), or NULL */
struct doc *rx_load(struct fx_plane *f, const char *slug);
/* a field of execution @slug as text, into rx_last ("" when absent) */
const char *rx_field(struct fx_plane *f, const char *slug, const char *path);
/* wait (bounded) for @slug to end; return its phase */
const char *rx_wait_end_within(struct fx_plane *f, const char *slug,
			       int secs);
const char *rx_wait_end(struct fx_plane *f, const char *slug);
void rx_wait_phase(struct fx_plane *f, const char *slug, const char *phase);
/* stream @s of @r, whole, into rx_last */
const char *rx_stream(struct fx_plane *f, const struct plane_res *r,
		      enum plane_stream s);
/* field @path of status.tasks[@i] of @slug, into rx_last */
const char *rx_task_field(struct fx_plane *f, const char *slug, size_t i,
			  const char *path);

#endif
