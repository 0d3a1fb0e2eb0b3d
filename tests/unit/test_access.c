/*
 * test_access.c - owners, groups and modes (core/access.c,
 * core/plane_attr.c) through plane.h: the class of bits that applies, who
 * is an operator, what a new resource gets, the Authorize steps of every
 * pipeline, the x checks of references, chmod/chown/chgrp and their audit
 * lines, and the kind directories' modes, which persist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/plane.h"
#include "fx.h"
#include "fx_plane.h"

#define OPS_GID 60999	/* the operators' group */
#define G_SHARED 61000	/* a group two users share */

/* Callers: the owner A, B in A's group G_SHARED (a supplementary one),
 * C anybody, D an operator (in OPS_GID). */
static const struct plane_caller A = { .uid = 5001, .gid = 5001, .pid = 1 };
static const struct plane_caller B = { .uid = 5002, .gid = 5002, .pid = 2,
				       .ngroups = 2,
				       .groups = { 7, G_SHARED } };
static const struct plane_caller C = { .uid = 5003, .gid = 5003, .pid = 3 };
static const struct plane_caller D = { .uid = 5004, .gid = 5004, .pid = 4,
				       .ngroups = 1, .groups = { OPS_GID } };

static const char wf_text[] =
	"spec:\n"
	"  document: {dsl: 1.0.0, namespace: t, name: w, version: 1.0.0}\n"
	"  tasks:\n"
	"    - {name: a, kind: SET, taskConfig: {variables: {x: \"1\"}}}\n";

static int setup(void **state)
{
	struct fx_plane *f;

	if (fx_plane_new(&f, "access") < 0)
		return -1;
	f->has_operators = true;
	f->operators = OPS_GID;
	if (fx_plane_open(f) < 0) {
		fx_plane_free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_plane_free(*state);
	return 0;
}

static int put_as(struct fx_plane *f, const struct plane_caller *c,
		  enum kind_id k, const char *name, const char *text,
		  struct plane_res *r)
{
	memset(&f->e, 0, sizeof(f->e));
	return plane_write(f->p, c, k, PLANE_WRITE_NEW, name, text,
			   strlen(text), r, &f->e);
}

static int chmod_as(struct fx_plane *f, const struct plane_caller *c,
		    uint64_t serial, mode_t mode)
{
	struct plane_attr a = { .set_mode = true, .mode = mode };
	struct plane_res r;

	memset(&f->e, 0, sizeof(f->e));
	return plane_setattr(f->p, c, serial, &a, &r, &f->e);
}

/* ---- the bits -------------------------------------------------------- */

static void classes(void **state)
{
	struct fx_plane *f = *state;
	struct plane *p = f->p;

	/* owner bits for the owner, even when others have more */
	assert_true(plane_may(p, &A, 5001, 1, 0700, PLANE_MAY_WRITE));
	assert_false(plane_may(p, &A, 5001, 5001, 0077, PLANE_MAY_READ));
	/* group by primary or supplementary gid */
	assert_true(plane_may(p, &B, 5001, G_SHARED, 0750, PLANE_MAY_USE));
	assert_false(plane_may(p, &B, 5001, G_SHARED, 0750, PLANE_MAY_WRITE));
	assert_true(plane_may(p, &B, 5001, 5002, 0740, PLANE_MAY_READ));
	/* others */
	assert_false(plane_may(p, &C, 5001, G_SHARED, 0750, PLANE_MAY_READ));
	assert_true(plane_may(p, &C, 5001, G_SHARED, 0754, PLANE_MAY_READ));
	assert_false(plane_may(p, &C, 5001, G_SHARED, 0754,
			       PLANE_MAY_READ | PLANE_MAY_USE));
	/* operators: the group member, root, the daemon's user, NULL */
	assert_true(plane_may(p, &D, 5001, 5001, 0, PLANE_MAY_WRITE));
	{
		struct plane_caller root = { .uid = 0, .gid = 0 };
		struct plane_caller self = { .uid = geteuid(), .gid = 1 };

		assert_true(plane_is_operator(p, &root));
		assert_true(plane_is_operator(p, &self));
		assert_true(plane_is_operator(p, NULL));
	}
	assert_false(plane_is_operator(p, &A));
	assert_false(plane_is_operator(p, &B));
	assert_true(plane_is_operator(p, &D));
}

/* Without operators=, a member of gid 0 is no operator. */
static void no_operators_group(void **state)
{
	struct fx_plane *f;
	struct plane_caller g0 = { .uid = 5009, .gid = 0 };

	(void)state;
	assert_int_equal(fx_plane_new(&f, "access"), 0);
	assert_int_equal(fx_plane_open(f), 0);
	assert_false(plane_is_operator(f->p, &g0));
	fx_plane_free(f);
}

/* ---- the pipelines ---------------------------------------------------- */

static void new_resource_owner(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r, again;

	assert_int_equal(put_as(f, &A, KIND_WORKFLOW, "w.yaml", wf_text, &r),
			 0);
	assert_int_equal(r.uid, 5001);
	assert_int_equal(r.gid, 5001);
	assert_int_equal(r.mode, 0750);
	/* its default instance is A's too */
	again = fx_lookup(f, KIND_WORKFLOW_INSTANCE, "w-default");
	assert_int_equal(again.uid, 5001);
	/* an update keeps them */
	assert_int_equal(plane_write(f->p, &A, KIND_WORKFLOW,
				     PLANE_WRITE_SPEC, "w", wf_text,
				     strlen(wf_text), &again, &f->e), 0);
	assert_int_equal(again.uid, 5001);
	assert_int_equal(again.mode, 0750);
	assert_true(again.gen > r.gen);
}

static void update_and_delete(void **state)
{
	struct fx_plane *f = *state;
	struct plane_attr grp = { .set_gid = true, .gid = G_SHARED };
	struct plane_res r, tmp;
	struct err e = { 0 };

	assert_int_equal(put_as(f, &A, KIND_ENVIRONMENT, "env.yaml",
				"spec: {description: one}\n", &r), 0);
	/* C and B may not change it */
	assert_int_equal(put_as(f, &C, KIND_ENVIRONMENT, "env.yaml",
				"spec: {description: two}\n", NULL), -EACCES);
	assert_non_null(strstr(f->e.msg, "changing it takes w"));
	assert_int_equal(plane_delete(f->p, &C, KIND_ENVIRONMENT, "env", &e),
			 -EACCES);
	/* A may chgrp to a group A is not in: no */
	assert_int_equal(plane_setattr(f->p, &A, r.serial, &grp, &tmp, &e),
			 -EPERM);
	/* an operator gives it to G_SHARED, then A opens g+w */
	assert_int_equal(plane_setattr(f->p, &D, r.serial, &grp, &tmp, &e), 0);
	assert_int_equal(tmp.gid, G_SHARED);
	assert_int_equal(put_as(f, &B, KIND_ENVIRONMENT, "env.yaml",
				"spec: {description: two}\n", NULL), -EACCES);
	assert_int_equal(chmod_as(f, &A, r.serial, 0770), 0);
	assert_int_equal(put_as(f, &B, KIND_ENVIRONMENT, "env.yaml",
				"spec: {description: two}\n", NULL), 0);
	/* B changed it; A still owns it */
	tmp = fx_lookup(f, KIND_ENVIRONMENT, "env");
	assert_int_equal(tmp.uid, 5001);
	assert_int_equal(tmp.mode, 0770);
	/* with w, B may delete it (the sticky bit only stops kind-dir w) */
	assert_int_equal(plane_delete(f->p, &B, KIND_ENVIRONMENT, "env", &e),
			 0);
}

static void sticky_bit(void **state)
{
	struct fx_plane *f = *state;
	struct plane_attr nosticky = { .set_mode = true, .mode = 0777 };
	struct plane_res r;
	struct err e = { 0 };

	assert_int_equal(put_as(f, &A, KIND_ENVIRONMENT, "e2.yaml", "{}\n",
				&r), 0);
	assert_int_equal(plane_delete(f->p, &C, KIND_ENVIRONMENT, "e2", &e),
			 -EACCES);
	assert_int_equal(plane_dir_setattr(f->p, &A, KIND_ENVIRONMENT,
					   &nosticky, &e), -EPERM);
	assert_int_equal(plane_dir_setattr(f->p, &D, KIND_ENVIRONMENT,
					   &nosticky, &e), 0);
	assert_int_equal(plane_delete(f->p, &C, KIND_ENVIRONMENT, "e2", &e),
			 0);
}

static void references_take_x(void **state)
{
	struct fx_plane *f = *state;
	const char *run = "spec: {workflowId: w}\n";
	const char *inst = "spec: {workflowId: w}\n";
	struct plane_res w, env, i, r;

	assert_int_equal(put_as(f, &A, KIND_WORKFLOW, "w.yaml", wf_text, &w),
			 0);
	/* C: not by a file, not by run, not through an instance */
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_EXECUTION, "r1.yaml",
				run, NULL), -EACCES);
	assert_non_null(strstr(f->e.msg, "spec.workflowId: permission denied: "
			       "Workflow \"w\""));
	assert_non_null(strstr(f->e.msg, "using it takes x"));
	assert_int_equal(plane_run(f->p, &C, w.serial, "", 0, NULL, &f->e),
			 -EACCES);
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_INSTANCE, "i.yaml", inst,
				NULL), -EACCES);
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_EXECUTION, "r2.yaml",
				"spec: {workflowInstanceId: w-default}\n",
				NULL), -EACCES);
	assert_false(fx_exists(f, KIND_WORKFLOW_EXECUTION, "r1"));
	/* o+x on the workflow: the file, run and its default instance
	 * (which follows its workflow's mode) work */
	assert_int_equal(chmod_as(f, &A, w.serial, 0751), 0);
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_EXECUTION, "r1.yaml",
				run, &r), 0);
	assert_int_equal(r.uid, 5003);
	assert_int_equal(plane_run(f->p, &C, w.serial, "", 0, NULL, &f->e), 0);
	assert_int_equal(fx_lookup(f, KIND_WORKFLOW_INSTANCE,
				   "w-default").mode, 0751);
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_EXECUTION, "r2.yaml",
				"spec: {workflowInstanceId: w-default}\n",
				NULL), 0);
	/* An Environment without x cannot be bound, nor used through an
	 * instance that binds it */
	assert_int_equal(put_as(f, &A, KIND_ENVIRONMENT, "prod.yaml",
				"spec: {description: p}\n", &env), 0);
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_INSTANCE, "ci.yaml",
				"spec: {workflowId: w, envRefs: "
				"[{slug: prod}]}\n", NULL), -EACCES);
	assert_non_null(strstr(f->e.msg, "spec.envRefs[0]"));
	assert_int_equal(put_as(f, &A, KIND_WORKFLOW_INSTANCE, "ai.yaml",
				"spec: {workflowId: w, envRefs: "
				"[{slug: prod}]}\n", &i), 0);
	/* an instance of one's own takes x on it */
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_EXECUTION, "r4.yaml",
				"spec: {workflowInstanceId: ai}\n", NULL),
			 -EACCES);
	assert_non_null(strstr(f->e.msg, "WorkflowInstance \"ai\""));
	assert_int_equal(chmod_as(f, &A, i.serial, 0751), 0);
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_EXECUTION, "r3.yaml",
				"spec: {workflowInstanceId: ai}\n", NULL),
			 -EACCES);
	assert_non_null(strstr(f->e.msg, "Environment \"prod\""));
	assert_int_equal(chmod_as(f, &A, env.serial, 0751), 0);
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW_EXECUTION, "r3.yaml",
				"spec: {workflowInstanceId: ai}\n", NULL), 0);
}

static void cancel_takes_w(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res w, r;

	assert_int_equal(put_as(f, &A, KIND_WORKFLOW, "w.yaml", wf_text, &w),
			 0);
	assert_int_equal(put_as(f, &A, KIND_WORKFLOW_EXECUTION, "r.yaml",
				"spec: {workflowId: w}\n", &r), 0);
	assert_int_equal(plane_ctl(f->p, &C, r.serial, "cancel", 6, &f->e),
			 -EACCES);
	/* A's own: passes the check (the held run is not going: EINVAL) */
	assert_int_equal(plane_ctl(f->p, &A, r.serial, "cancel", 6, &f->e),
			 -EINVAL);
}

/* ---- chmod, chown, chgrp ---------------------------------------------- */

static void attr_rules(void **state)
{
	struct fx_plane *f = *state;
	struct plane_attr to_c = { .set_uid = true, .uid = 5003 };
	struct plane_attr odd = { .set_mode = true, .mode = 04777 };
	struct plane_attr own_grp = { .set_gid = true, .gid = G_SHARED };
	struct plane_res r, out;
	struct buf b = BUF_INIT(1 << 20);
	struct err e = { 0 };

	assert_int_equal(put_as(f, &B, KIND_ENVIRONMENT, "b.yaml", "{}\n", &r),
			 0);
	assert_int_equal(chmod_as(f, &C, r.serial, 0777), -EPERM);
	assert_non_null(strstr(f->e.msg, "only its owner"));
	assert_int_equal(plane_setattr(f->p, &B, r.serial, &to_c, &out, &e),
			 -EPERM);
	assert_int_equal(plane_setattr(f->p, &B, r.serial, &own_grp, &out,
				       &e), 0);
	assert_int_equal(out.gid, G_SHARED);
	assert_int_equal(plane_setattr(f->p, &B, r.serial, &odd, &out, &e), 0);
	assert_int_equal(out.mode, 0777);	/* setuid dropped */
	assert_int_equal(plane_setattr(f->p, &D, r.serial, &to_c, &out, &e),
			 0);
	assert_int_equal(out.uid, 5003);
	/* the audit has both, with the new owner and mode */
	assert_true(plane_audit_read(f->p, 0, 1 << 20, &b) > 0);
	assert_non_null(strstr(b.data, "\"verb\": \"chmod\", \"kind\": "
			       "\"Environment\", \"name\": \"b\""));
	assert_non_null(strstr(b.data, "\"mode\": \"0777\""));
	assert_non_null(strstr(b.data, "\"uid\": 5004, \"user\": \"5004\", "
			       "\"pid\": 4, \"verb\": \"chown\""));
	assert_non_null(strstr(b.data, "\"owner\": \"5003:61000\""));
	buf_release(&b);
}

/* Kind directories: the defaults, and an operator's change survives a
 * restart. */
static void kind_dirs(void **state)
{
	struct fx_plane *f = *state;
	struct plane_attr a = { .set_mode = true, .mode = 0755,
				.set_gid = true, .gid = 4321 };
	struct plane_dir d;
	struct err e = { 0 };

	plane_dir_attr(f->p, KIND_WORKFLOW, &d);
	assert_int_equal(d.mode, 01777);
	assert_int_equal(d.gid, OPS_GID);
	assert_int_equal(d.uid, geteuid());
	plane_dir_attr(f->p, KIND_EXECUTION_CONTEXT, &d);
	assert_int_equal(d.mode, 0770);
	/* a non-operator may not create a context */
	assert_int_equal(put_as(f, &A, KIND_EXECUTION_CONTEXT, "c.yaml",
				"spec: {executionId: x}\n", NULL), -EACCES);
	assert_non_null(strstr(f->e.msg, "creating in executioncontexts/"));
	assert_int_equal(plane_dir_setattr(f->p, &A, KIND_WORKFLOW, &a, &e),
			 -EPERM);
	assert_int_equal(plane_dir_setattr(f->p, &D, KIND_WORKFLOW, &a, &e),
			 0);
	/* now C may not create there */
	assert_int_equal(put_as(f, &C, KIND_WORKFLOW, "w.yaml", wf_text, NULL),
			 -EACCES);
	plane_close(f->p);
	f->p = NULL;
	assert_int_equal(fx_plane_open(f), 0);
	plane_dir_attr(f->p, KIND_WORKFLOW, &d);
	assert_int_equal(d.mode, 0755);
	assert_int_equal(d.gid, 4321);
	plane_dir_attr(f->p, KIND_ENVIRONMENT, &d);
	assert_int_equal(d.mode, 01777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(classes, setup, teardown),
		cmocka_unit_test(no_operators_group),
		cmocka_unit_test_setup_teardown(new_resource_owner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(update_and_delete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(sticky_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(references_take_x, setup,
						teardown),
		cmocka_unit_test_setup_teardown(cancel_takes_w, setup,
						teardown),
		cmocka_unit_test_setup_teardown(attr_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(kind_dirs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
