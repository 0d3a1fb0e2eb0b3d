/*
 * test_tasks.c - ValidateWorkflowSpec through plane_write(), as fs/ drives
 * it: every check of a task list at the top and nested in FOR, FORK and
 * TRY (names, kinds, each kind's config, jump targets, export names), the
 * expressions compiled with the variables in scope where they sit, the
 * template limit, and nested tasks stored in the top-level form.  Runs
 * are held, so nothing written here runs.
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

#include "core/buf.h"
#include "core/plane.h"
#include "core/plane_i.h"
#include "fx_plane.h"

static int setup(void **state)
{
	struct fx_plane *f;

	if (fx_plane_new(&f, "tasks"))
		return -1;
	*state = f;
	return fx_plane_open(f) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	fx_plane_free(*state);
	return 0;
}

/* A Workflow named @name whose spec.tasks is @tasks (flow style). */
static const char *wf_doc(struct fx_plane *f, const char *name,
			  const char *tasks)
{
	return fx_fmt(f, "metadata: {name: %s}\nspec:\n  document: {dsl: "
		      "1.0.0, namespace: a, name: b, version: '1'}\n"
		      "  tasks: %s\n", name, tasks);
}

/* Write @tasks as a new Workflow: 0, or -errno with the message in f->e. */
static int put_tasks(struct fx_plane *f, const char *name, const char *tasks)
{
	return fx_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "x.yaml",
		      wf_doc(f, name, tasks), NULL);
}

struct tcase {
	const char *tasks;	/* the "tasks:" list, flow style */
	int rc;			/* 0 or the -errno */
	const char *want;	/* refused: a part of the message */
};

static void run_cases(struct fx_plane *f, const char *table,
		      const struct tcase *cs, size_t n)
{
	size_t i, good = 0, before = plane_count(f->p, KIND_WORKFLOW);
	int rc;

	for (i = 0; i < n; i++) {
		rc = put_tasks(f, fx_fmt(f, "w%zu", i), cs[i].tasks);
		if (cs[i].rc == 0 && rc != 0)
			fail_msg("%s[%zu]: refused %d \"%s\"", table, i, rc,
				 f->e.msg);
		if (cs[i].rc != 0 &&
		    (rc != cs[i].rc || !strstr(f->e.msg, cs[i].want)))
			fail_msg("%s[%zu]: got %d \"%s\", want %d \"...%s...\"",
				 table, i, rc, f->e.msg, cs[i].rc, cs[i].want);
		good += cs[i].rc == 0;
	}
	/* The refused ones left nothing behind. */
	assert_int_equal(plane_count(f->p, KIND_WORKFLOW), before + good);
}

#define RUN_CASES(f, t) run_cases(f, #t, t, sizeof(t) / sizeof(t[0]))

#define SET_OK "kind: SET, taskConfig: {variables: {x: '1'}}"
#define BAD -EBADMSG

/* ---- the kinds now supported, and their configs --------------------- */

static const struct tcase kind_cases[] = {
	{ "[{name: a, " SET_OK "}]", 0, NULL },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: big, when: "
	  "'${ .input.n > 10 }', then: large}, {name: other, then: small}]}}, "
	  "{name: large, " SET_OK "}, {name: small, " SET_OK "}]", 0, NULL },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, then: end}, "
	  "{name: d, when: 'x', then: continue}]}}]", 0, NULL },
	{ "[{name: a, kind: FOR, taskConfig: {in: '${ [1,2] }', do: [{name: "
	  "b, kind: SET, taskConfig: {variables: {v: '${ $item * $index }'}}}]"
	  "}}]", 0, NULL },
	{ "[{name: a, kind: FOR, taskConfig: {each: x, at: i, in: [1, 2], do: "
	  "[{name: b, kind: SET, taskConfig: {variables: {v: '${ $x + $i }'}}}"
	  "]}}]", 0, NULL },
	{ "[{name: a, kind: FORK, taskConfig: {compete: true, branches: [{name: "
	  "x, do: [{name: b, " SET_OK "}]}, {name: y, do: [{name: b, kind: "
	  "WAIT, taskConfig: {seconds: 1}}]}]}}]", 0, NULL },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, kind: RAISE, "
	  "taskConfig: {error: e, message: m}}], catch: {as: err, do: [{name: "
	  "c, kind: SET, taskConfig: {variables: {v: '${ $err.detail }'}}}]}}}]",
	  0, NULL },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {do: [{name: c, kind: SET, taskConfig: {variables: {v: "
	  "'${ $error.type }'}}}]}}}]", 0, NULL },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}]}}]",
	  0, NULL },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {as: e}}}]", 0, NULL },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: other-wf, input: {n: "
	  "'${ .input.n }', l: [1, '${ 2 }']}}}]", 0, NULL },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: '${ .input.wf }'}}]", 0,
	  NULL },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: POST, endpoint: "
	  "{uri: 'https://h/x'}, headers: {Accept: application/json, X-N: 1, "
	  "X-T: '${ .input.t }'}, body: {a: ['${ .input }']}, timeout_seconds: "
	  "300}}]", 0, NULL },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: '${ .input.base }/x'}, timeoutSeconds: 1, body: text}}]", 0,
	  NULL },
	{ "[{name: a, kind: RAISE, taskConfig: {error: '${ \"e\" }', message: "
	  "'n is ${ .input.n }'}}]", 0, NULL },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: 'echo ${HOME', "
	  "arguments: ['${ .input }', 2], environment: {A: '${ 1 }', B: 2}}}}]",
	  0, NULL },
	{ "[{name: a, kind: RUN, taskConfig: {script: {code: 'echo ${ x', "
	  "arguments: [x]}}}]", 0, NULL },
	{ "[{name: a, " SET_OK ", export: {as: '${ . }'}}, {name: b, kind: "
	  "SET, taskConfig: {variables: {v: '${ $context.a }'}}}]", 0, NULL },
	/* refused: kinds execfs does not run, at any level */
	{ "[{name: a, kind: GRPC_CALL, taskConfig: {}}]", BAD,
	  "spec.tasks[0].kind: task kind GRPC_CALL is not supported by "
	  "execfs" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, kind: "
	  "CALL_ACTIVITY, taskConfig: {}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].kind: task kind CALL_ACTIVITY is "
	  "not supported by execfs" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, kind: LISTEN, "
	  "taskConfig: {}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.try[0].kind: task kind LISTEN" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {name: y, do: [{name: b, kind: "
	  "AGENT_CALL, taskConfig: {}}]}]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches[1].do[0].kind: task kind "
	  "AGENT_CALL" },
};

static void kinds(void **state)
{
	RUN_CASES(*state, kind_cases);
}

/* ---- names, export, flow -------------------------------------------- */

static const struct tcase name_cases[] = {
	{ "[{name: a/b, " SET_OK "}]", BAD,
	  "spec.tasks[0].name: must not hold '/'" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: 'x/y', "
	  SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].name: must not hold '/'" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{" SET_OK "}]}}]",
	  BAD, "spec.tasks[0].taskConfig.do[0].name: required" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: '', "
	  SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.do[0].name: required" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  "}, {name: c, " SET_OK "}, {name: b, " SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[2].name: duplicate task name \"b\"" },
	/* the same name in another list is fine */
	{ "[{name: b, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  "}]}}]", 0, NULL },
	{ "[{name: a, " SET_OK "}, {name: a, " SET_OK "}]", BAD,
	  "spec.tasks[1].name: duplicate task name \"a\"" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  "}, {name: c, kind: SET, taskConfig: {}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[1].taskConfig.variables: required" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, kind: "
	  "SET}]}}]", BAD, "spec.tasks[0].taskConfig.do[0].taskConfig: "
	  "required" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, kind: "
	  "LOOP, taskConfig: {}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].kind: unknown value \"LOOP\"" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  ", bogus: 1}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].bogus: unknown field" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [5]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0]: expected a map" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  ", task_config: {variables: {}}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0]: field given twice" },
	{ "[{name: a, kind: WAIT, taskConfig: {seconds: 1, timeout: 0}}]", BAD,
	  "spec.tasks[0].taskConfig.timeout: must be whole seconds" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], timeout: 5, do: [{name: "
	  "b, kind: SET, taskConfig: {variables: {}}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.timeout: applies to SET, RUN, WAIT" },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: w, timeout: 5}}]", 0,
	  NULL },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, kind: WAIT, "
	  "taskConfig: {seconds: 1, timeout: 86401}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.try[0].taskConfig.timeout" },
	/* export.as: an expression over the task's output; a plain name is
	 * the old form, refused with the new one spelled out */
	{ "[{name: a, " SET_OK "}, {name: b, kind: SET, taskConfig: {variables: "
	  "{x: '1'}}, export: {as: pings}}]", BAD,
	  "spec.tasks[1].export.as: \"pings\" is a name; export.as is now an "
	  "expression over the task's output, stored as $context[\"b\"]: write "
	  "export: {as: '${ . }'} and read ${ $context[\"b\"] }" },
	{ "[{name: a, " SET_OK ", export: {as: input}}]", BAD,
	  "spec.tasks[0].export.as: \"input\" is a name; export.as is now" },
	{ "[{name: a, " SET_OK ", export: {as: ''}}]", BAD,
	  "spec.tasks[0].export.as: must not be empty" },
	{ "[{name: a, " SET_OK ", export: {as: {x: '${ . }'}}}]", BAD,
	  "spec.tasks[0].export.as" },
	{ "[{name: a, " SET_OK ", export: {as: ['${ . }']}}]", BAD,
	  "spec.tasks[0].export.as" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {do: [{name: c, " SET_OK ", export: {as: secrets}}]}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.do[0].export.as: \"secrets\" is a "
	  "name; export.as is now an expression over the task's output, stored "
	  "as $context[\"c\"]" },
	{ "[{name: a, " SET_OK ", export: {as: '${ {n: ., o: $output, c: "
	  "$context} }'}}]", 0, NULL },
	/* compiled with the others, loop variables in scope */
	{ "[{name: a, " SET_OK ", export: {as: '${ . | }'}}]", BAD,
	  "spec.tasks[0].export.as: expression does not compile" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  ", export: {as: '${ $item }'}}]}}]", 0, NULL },
	{ "[{name: a, " SET_OK ", export: {as: '${ $item }'}}]", BAD,
	  "spec.tasks[0].export.as: expression does not compile: $item is not "
	  "defined" },
	/* flow.then: continue, exit, end or a task of the same list */
	{ "[{name: a, " SET_OK ", flow: {then: b}}, {name: b, " SET_OK ", "
	  "flow: {then: a}}]", 0, NULL },
	{ "[{name: a, " SET_OK ", flow: {then: exit}}, {name: b, " SET_OK ", "
	  "flow: {then: continue}}, {name: c, " SET_OK ", flow: {then: end}}]",
	  0, NULL },
	{ "[{name: a, " SET_OK ", flow: {then: Exit}}]", BAD,
	  "spec.tasks[0].flow.then: no task named \"Exit\" in the same list "
	  "(or continue, exit, end)" },
	{ "[{name: a, " SET_OK ", flow: {then: nowhere}}]", BAD,
	  "spec.tasks[0].flow.then: no task named \"nowhere\" in the same "
	  "list" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  ", flow: {then: c}}, {name: c, " SET_OK ", flow: {then: end}}]}}]",
	  0, NULL },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  ", flow: {then: z}}]}}, {name: z, " SET_OK "}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].flow.then: no task named \"z\"" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {name: y, do: [{name: c, " SET_OK ", "
	  "flow: {then: b}}]}]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches[1].do[0].flow.then: no task "
	  "named \"b\"" },
};

static void names(void **state)
{
	RUN_CASES(*state, name_cases);
}

/* ---- control flow --------------------------------------------------- */

static const struct tcase flow_cases[] = {
	/* FOR */
	{ "[{name: a, kind: FOR, taskConfig: {each: 1x, in: [1], do: [{name: "
	  "b, " SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.each: must be a variable name" },
	{ "[{name: a, kind: FOR, taskConfig: {each: 5, in: [1], do: [{name: "
	  "b, " SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.each: must be" },
	{ "[{name: a, kind: FOR, taskConfig: {at: a-b, in: [1], do: [{name: "
	  "b, " SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.at: must be a variable name" },
	{ "[{name: a, kind: FOR, taskConfig: {at: item, in: [1], do: [{name: "
	  "b, " SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.at: must differ from each" },
	{ "[{name: a, kind: FOR, taskConfig: {each: "
	  "a2345678901234567890123456789012345678901234567890123456789012345, "
	  "in: [1], do: [{name: b, " SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.each: must be a variable name" },
	/* 64 bytes: the longest name */
	{ "[{name: a, kind: FOR, taskConfig: {each: "
	  "a234567890123456789012345678901234567890123456789012345678901234, "
	  "in: [1], do: [{name: b, " SET_OK "}]}}]", 0, NULL },
	{ "[{name: a, kind: FOR, taskConfig: {do: [{name: b, " SET_OK "}]}}]",
	  BAD, "spec.tasks[0].taskConfig.in: required" },
	{ "[{name: a, kind: FOR, taskConfig: {in: '', do: [{name: b, " SET_OK
	  "}]}}]", BAD, "spec.tasks[0].taskConfig.in: required" },
	{ "[{name: a, kind: FOR, taskConfig: {in: x, do: [{name: b, " SET_OK
	  "}]}}]", BAD, "spec.tasks[0].taskConfig.in: required (an expression" },
	{ "[{name: a, kind: FOR, taskConfig: {in: {a: 1}, do: [{name: b, "
	  SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.in: required" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [], do: [{name: b, " SET_OK
	  "}]}}]", 0, NULL },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1]}}]", BAD,
	  "spec.tasks[0].taskConfig.do: required (a list of tasks)" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: []}}]", BAD,
	  "spec.tasks[0].taskConfig.do: required (a list of tasks)" },
	/* FORK */
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches: required (a list of at least 2)" },
	{ "[{name: a, kind: FORK, taskConfig: {}}]", BAD,
	  "spec.tasks[0].taskConfig.branches: required" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, 7]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches[1]: must be a map" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {do: [{name: b, " SET_OK "}]}]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches[1].name: required" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {name: x, do: [{name: b, " SET_OK "}]}]}}]",
	  BAD, "spec.tasks[0].taskConfig.branches[1].name: duplicate branch "
	  "name \"x\"" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x/y, do: "
	  "[{name: b, " SET_OK "}]}, {name: z, do: [{name: b, " SET_OK "}]}]}}]",
	  BAD, "spec.tasks[0].taskConfig.branches[0].name: must not hold '/'" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {name: y}]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches[1].do: required (a list of "
	  "tasks)" },
	{ "[{name: a, kind: FORK, taskConfig: {compete: 'yes', branches: "
	  "[{name: x, do: [{name: b, " SET_OK "}]}, {name: y, do: [{name: b, "
	  SET_OK "}]}]}}]", BAD,
	  "spec.tasks[0].taskConfig.compete: must be true or false" },
	{ "[{name: a, kind: FORK, taskConfig: {compete: false, branches: "
	  "[{name: x, do: [{name: b, " SET_OK "}]}, {name: y, do: [{name: b, "
	  SET_OK "}]}, {name: z, do: [{name: b, " SET_OK "}]}]}}]", 0, NULL },
	/* SWITCH */
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: []}}]", BAD,
	  "spec.tasks[0].taskConfig.cases: required (a list of at least 1)" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [x]}}]", BAD,
	  "spec.tasks[0].taskConfig.cases[0]: must be a map" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{then: end}]}}]", BAD,
	  "spec.tasks[0].taskConfig.cases[0].name: required" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, then: end},"
	  " {name: d, when: true, then: end}]}}]", BAD,
	  "spec.tasks[0].taskConfig.cases[1].when: must be a string" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c}]}}]", BAD,
	  "spec.tasks[0].taskConfig.cases[0].then: required" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, then: b}]}}"
	  "]", BAD, "spec.tasks[0].taskConfig.cases[0].then: no task named "
	  "\"b\" in the same list" },
	/* then-targets inside a nested list: its own tasks only */
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: s, kind: "
	  "SWITCH, taskConfig: {cases: [{name: c, then: t}]}}, {name: t, "
	  SET_OK "}]}}]", 0, NULL },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: s, kind: "
	  "SWITCH, taskConfig: {cases: [{name: c, then: z}]}}]}}, {name: z, "
	  SET_OK "}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].taskConfig.cases[0].then: no task "
	  "named \"z\"" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: s, kind: "
	  "SWITCH, taskConfig: {cases: [{name: c, then: a}]}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].taskConfig.cases[0].then: no task "
	  "named \"a\"" },
	/* TRY */
	{ "[{name: a, kind: TRY, taskConfig: {}}]", BAD,
	  "spec.tasks[0].taskConfig.try: required (a list of tasks)" },
	{ "[{name: a, kind: TRY, taskConfig: {try: []}}]", BAD,
	  "spec.tasks[0].taskConfig.try: required (a list of tasks)" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: [1]}}]", BAD, "spec.tasks[0].taskConfig.catch: must be a map" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {as: $e}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.as: must be a variable name" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {do: []}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.do: required (a list of tasks)" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {do: [{name: c, kind: WAIT, taskConfig: {seconds: 0}}]}}}]",
	  BAD, "spec.tasks[0].taskConfig.catch.do[0].taskConfig.seconds" },
};

static void control_flow(void **state)
{
	RUN_CASES(*state, flow_cases);
}

/* ---- RUN, HTTP_CALL, RAISE ------------------------------------------ */

static const struct tcase leaf_cases[] = {
	{ "[{name: a, kind: RUN, taskConfig: {}}]", BAD,
	  "spec.tasks[0].taskConfig: needs exactly one of shell, script or "
	  "workflow" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls}, workflow: "
	  "w}}]", BAD, "spec.tasks[0].taskConfig: needs exactly one of" },
	{ "[{name: a, kind: RUN, taskConfig: {script: {code: ls}, workflow: "
	  "w}}]", BAD, "spec.tasks[0].taskConfig: needs exactly one of" },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: ''}}]", BAD,
	  "spec.tasks[0].taskConfig.workflow: required (a non-empty string" },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: {id: x}}}]", BAD,
	  "spec.tasks[0].taskConfig.workflow: required" },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: w, input: 5}}]", 0,
	  NULL },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls, arguments: "
	  "[[1]]}}}]", BAD,
	  "spec.tasks[0].taskConfig.shell.arguments[0]: must be a string" },
	{ "[{name: a, kind: RUN, taskConfig: {script: {code: ls, environment: "
	  "{A: {b: 1}}}}}]", BAD,
	  "spec.tasks[0].taskConfig.script.environment.A: must be a string" },
	{ "[{name: a, kind: RUN, taskConfig: {script: {language: ruby, code: "
	  "x}}}]", BAD, "spec.tasks[0].taskConfig.script.language" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: FETCH, endpoint: "
	  "{uri: 'http://x'}}}]", BAD, "spec.tasks[0].taskConfig.method" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET}}]", BAD,
	  "spec.tasks[0].taskConfig.endpoint: required (a URL, or a map {uri: "
	  "URL})" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'ftp://x'}}}]", BAD,
	  "spec.tasks[0].taskConfig.endpoint.uri: must be an http:// or "
	  "https:// URL" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'HTTP://x'}}}]", 0, NULL },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://x'}, timeoutSeconds: 0}}]", BAD,
	  "spec.tasks[0].taskConfig.timeoutSeconds: must be 1 to 300" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://x'}, timeout_seconds: 301}}]", BAD,
	  "spec.tasks[0].taskConfig.timeoutSeconds: must be 1 to 300" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://x'}, timeoutSeconds: '30'}}]", BAD,
	  "spec.tasks[0].taskConfig.timeoutSeconds: must be 1 to 300" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://x'}, headers: [a]}}]", BAD,
	  "spec.tasks[0].taskConfig.headers: must be a map" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://x'}, headers: {A: [1]}}}]", BAD,
	  "spec.tasks[0].taskConfig.headers.A: must be a string" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://x'}, headers: {'A B': c}}}]", BAD,
	  "spec.tasks[0].taskConfig.headers.A B: not a valid header name" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://x'}, headers: {A: \"b\\r\\nEvil: 1\"}}}]", BAD,
	  "spec.tasks[0].taskConfig.headers.A: must not hold a line break" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: e}}]", BAD,
	  "spec.tasks[0].taskConfig.message: required" },
	{ "[{name: a, kind: RAISE, taskConfig: {message: m}}]", BAD,
	  "spec.tasks[0].taskConfig.error: required" },
};

static void leaves(void **state)
{
	RUN_CASES(*state, leaf_cases);
}

/* ---- expressions ---------------------------------------------------- */

#define NOCOMP ": expression does not compile: "

static const struct tcase expr_cases[] = {
	/* one that does not compile, named by its field path, deep */
	{ "[{name: a, kind: SET, taskConfig: {variables: {v: {w: [ok, "
	  "'${ .a | }']}}}}]", BAD,
	  "spec.tasks[0].taskConfig.variables.v.w[1]" NOCOMP },
	{ "[{name: a, kind: SET, taskConfig: {variables: {v: '${ .a '}}}]",
	  BAD, "spec.tasks[0].taskConfig.variables.v" NOCOMP },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, when: "
	  "'${ 1 }', then: end}, {name: d, when: '${ ) }', then: end}]}}]", BAD,
	  "spec.tasks[0].taskConfig.cases[1].when" NOCOMP },
	{ "[{name: a, kind: FOR, taskConfig: {in: '${ [1, }', do: [{name: b, "
	  SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.in" NOCOMP },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls, arguments: "
	  "[x, '-${ .a | }']}}}]", BAD,
	  "spec.tasks[0].taskConfig.shell.arguments[1]" NOCOMP },
	{ "[{name: a, kind: RUN, taskConfig: {script: {code: ls, environment: "
	  "{X: '${ ( }'}}}}]", BAD,
	  "spec.tasks[0].taskConfig.script.environment.X" NOCOMP },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: '${ ] }'}}]", BAD,
	  "spec.tasks[0].taskConfig.workflow" NOCOMP },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: w, input: {n: [1, "
	  "'${ [ }']}}}]", BAD, "spec.tasks[0].taskConfig.input.n[1]" NOCOMP },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://h/${ ( }'}}}]", BAD,
	  "spec.tasks[0].taskConfig.endpoint.uri" NOCOMP },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://h'}, headers: {X: '${ | }'}}}]", BAD,
	  "spec.tasks[0].taskConfig.headers.X" NOCOMP },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: POST, endpoint: "
	  "{uri: 'http://h'}, body: {a: [1, '${ [ }']}}}]", BAD,
	  "spec.tasks[0].taskConfig.body.a[1]" NOCOMP },
	{ "[{name: a, kind: RAISE, taskConfig: {error: '${ { }', message: m}}]",
	  BAD, "spec.tasks[0].taskConfig.error" NOCOMP },
	{ "[{name: a, kind: RAISE, taskConfig: {error: e, message: 'x ${ * }'}}"
	  "]", BAD, "spec.tasks[0].taskConfig.message" NOCOMP },
	{ "[{name: a, kind: SET, taskConfig: {variables: {v: '${ 1 }'}}}, "
	  "{name: b, kind: SET, taskConfig: {variables: {v: '${ 2 }', w: "
	  "'${ nosuchfn }'}}}]", BAD,
	  "spec.tasks[1].taskConfig.variables.w" NOCOMP "nosuchfn/0 is not "
	  "defined" },
	/* fields that are not evaluated are not compiled */
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: 'echo ${ | }'}}},"
	  " {name: b, kind: TRY, taskConfig: {try: [{name: c, " SET_OK "}], "
	  "catch: {errors: {with: {title: '${ | }'}}}}}]", 0, NULL },
	/* the task path inside nested lists */
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  "}, {name: c, kind: SET, taskConfig: {variables: {v: '${ 1 + }'}}}]}}]",
	  BAD, "spec.tasks[0].taskConfig.do[1].taskConfig.variables.v" NOCOMP },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {name: y, do: [{name: b, kind: SET, "
	  "taskConfig: {variables: {v: '${ 1 + }'}}}]}]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches[1].do[0].taskConfig.variables.v"
	  NOCOMP },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {do: [{name: c, kind: SET, taskConfig: {variables: {v: "
	  "'${ 1 + }'}}}]}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.do[0].taskConfig.variables.v"
	  NOCOMP },
	/* FOR variables: inside its do only */
	{ "[{name: a, kind: SET, taskConfig: {variables: {v: '${ $item }'}}}]",
	  BAD, "spec.tasks[0].taskConfig.variables.v" NOCOMP
	  "$item is not defined" },
	{ "[{name: a, kind: FOR, taskConfig: {in: '${ [$item] }', do: [{name: "
	  "b, " SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.in" NOCOMP "$item is not defined" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  "}]}}, {name: c, kind: SET, taskConfig: {variables: {v: "
	  "'${ $index }'}}}]", BAD,
	  "spec.tasks[1].taskConfig.variables.v" NOCOMP "$index is not "
	  "defined" },
	{ "[{name: a, kind: FOR, taskConfig: {each: x, in: [1], do: [{name: b, "
	  "kind: SET, taskConfig: {variables: {v: '${ $item }'}}}]}}]", BAD,
	  "spec.tasks[0].taskConfig.do[0].taskConfig.variables.v" NOCOMP
	  "$item is not defined" },
	/* nested FORs see both loops' variables */
	{ "[{name: a, kind: FOR, taskConfig: {each: o, in: [1], do: [{name: b, "
	  "kind: FOR, taskConfig: {in: '${ [$o] }', do: [{name: c, kind: SET, "
	  "taskConfig: {variables: {v: '${ [$o, $item, $index] }'}}}]}}]}}]", 0,
	  NULL },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, kind: FOR, taskConfig: {in: [1], do: [{name: c, kind: "
	  "SET, taskConfig: {variables: {v: '${ $item }'}}}]}}]}, {name: y, "
	  "do: [{name: d, kind: SET, taskConfig: {variables: {v: '${ $item }'"
	  "}}}]}]}}]", BAD,
	  "spec.tasks[0].taskConfig.branches[1].do[0].taskConfig.variables.v"
	  NOCOMP "$item is not defined" },
	/* the catch variable: inside catch.do only */
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, kind: SET, "
	  "taskConfig: {variables: {v: '${ $err }'}}}], catch: {as: err, do: "
	  "[{name: c, " SET_OK "}]}}}]", BAD,
	  "spec.tasks[0].taskConfig.try[0].taskConfig.variables.v" NOCOMP
	  "$err is not defined" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {as: err, do: [{name: c, " SET_OK "}]}}}, {name: d, kind: "
	  "SET, taskConfig: {variables: {v: '${ $err }'}}}]", BAD,
	  "spec.tasks[1].taskConfig.variables.v" NOCOMP "$err is not defined" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {as: err, do: [{name: c, kind: SET, taskConfig: {variables: "
	  "{v: '${ $error }'}}}]}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.do[0].taskConfig.variables.v" NOCOMP
	  "$error is not defined" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: t, kind: "
	  "TRY, taskConfig: {try: [{name: b, " SET_OK "}], catch: {do: [{name: "
	  "c, kind: SET, taskConfig: {variables: {v: '${ [$item, $error] }'}}}"
	  "]}}}]}}]", 0, NULL },
};

static void expressions(void **state)
{
	RUN_CASES(*state, expr_cases);
}

/* ---- strict configs: every field known, at every depth -------------- */

#define TRY_OK "kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
#define HTTP_OK "kind: HTTP_CALL, taskConfig: {method: GET, endpoint: 'http://h'"
#define RETRY(r) "[{name: a, " TRY_OK "catch: {retry: " r "}}}]"
#define UNKNOWN ": unknown field (known: "

static const struct tcase strict_cases[] = {
	/* the config itself, each kind */
	{ "[{name: a, kind: SET, taskConfig: {variables: {}, vars: {}}}]", BAD,
	  "spec.tasks[0].taskConfig.vars" UNKNOWN "variables, timeout)" },
	{ "[{name: a, kind: WAIT, taskConfig: {seconds: 1, note: x}}]", BAD,
	  "spec.tasks[0].taskConfig.note" UNKNOWN "seconds, timeout)" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: e, message: m, code: 1}}"
	  "]", BAD, "spec.tasks[0].taskConfig.code" UNKNOWN "error, message, "
	  "timeout)" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls}, await: "
	  "true}}]", BAD, "spec.tasks[0].taskConfig.await" UNKNOWN "shell, "
	  "script, workflow, input, return, timeout)" },
	{ "[{name: a, " HTTP_OK ", with: {}}}]", BAD,
	  "spec.tasks[0].taskConfig.with" UNKNOWN "method, endpoint, headers, "
	  "body, query, output, redirect, timeoutSeconds, timeout)" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, then: end}],"
	  " default: end}}]", BAD, "spec.tasks[0].taskConfig.default" UNKNOWN
	  "cases)" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: b, " SET_OK
	  "}], parallel: true}}]", BAD, "spec.tasks[0].taskConfig.parallel"
	  UNKNOWN "each, in, at, while, do)" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {name: y, do: [{name: b, " SET_OK "}]}], "
	  "race: true}}]", BAD, "spec.tasks[0].taskConfig.race" UNKNOWN
	  "branches, compete)" },
	{ "[{name: a, " TRY_OK "finally: []}}]", BAD,
	  "spec.tasks[0].taskConfig.finally" UNKNOWN "try, catch)" },
	/* the maps inside */
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: ls, cwd: /}}}]",
	  BAD, "spec.tasks[0].taskConfig.shell.cwd" UNKNOWN "command, "
	  "arguments, environment, stdin)" },
	{ "[{name: a, kind: RUN, taskConfig: {script: {code: ls, source: x}}}]",
	  BAD, "spec.tasks[0].taskConfig.script.source" UNKNOWN "language, "
	  "code, arguments, environment, stdin)" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{uri: 'http://h', authentication: {}}}}]", BAD,
	  "spec.tasks[0].taskConfig.endpoint.authentication" UNKNOWN "uri)" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, then: end, "
	  "if: x}]}}]", BAD, "spec.tasks[0].taskConfig.cases[0].if" UNKNOWN
	  "name, when, then)" },
	{ "[{name: a, kind: FORK, taskConfig: {branches: [{name: x, do: "
	  "[{name: b, " SET_OK "}]}, {name: y, tasks: [], do: [{name: b, "
	  SET_OK "}]}]}}]", BAD, "spec.tasks[0].taskConfig.branches[1].tasks"
	  UNKNOWN "name, do)" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: t, status: 400, "
	  "code: 1}}}]", BAD, "spec.tasks[0].taskConfig.error.code" UNKNOWN
	  "type, status, title, detail, instance)" },
	{ "[{name: a, " TRY_OK "catch: {errors: {with: {status: 500}, any: "
	  "true}}}}]", BAD, "spec.tasks[0].taskConfig.catch.errors.any" UNKNOWN
	  "with)" },
	{ "[{name: a, " TRY_OK "catch: {errors: {with: {code: 500}}}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.errors.with.code" UNKNOWN "type, "
	  "status, instance, title, detail, details)" },
	{ "[{name: a, " TRY_OK "catch: {handler: []}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.handler" UNKNOWN "as, do, errors, "
	  "when, exceptWhen, retry)" },
	{ RETRY("{limit: {duration: PT1M}, max: 3}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.max" UNKNOWN "when, exceptWhen, "
	  "delay, backoff, limit, jitter)" },
	{ RETRY("{limit: {attemp: {count: 3}}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.limit.attemp" UNKNOWN "attempt, "
	  "duration)" },
	{ RETRY("{limit: {attempt: {count: 3, attemp: 1}}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.limit.attempt.attemp" UNKNOWN
	  "count, duration)" },
	{ RETRY("{limit: {attempt: {count: 3}}, backoff: {fibonacci: {}}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.backoff.fibonacci" UNKNOWN
	  "constant, linear, exponential)" },
	{ RETRY("{limit: {attempt: {count: 3}}, jitter: {from: PT1S, to: PT2S, "
		"by: 1}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.jitter.by" UNKNOWN "from, to)" },
	{ RETRY("{limit: {attempt: {count: 3}}, delay: {secs: 1}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.delay.secs" UNKNOWN "days, "
	  "hours, minutes, seconds, milliseconds)" },
	/* nested lists: the same, with the nested path */
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: t, " TRY_OK
	  "catch: {retry: {limit: {attempt: {count: 1}}, jitter: {from: PT1S}}"
	  ", do: [{name: c, kind: WAIT, taskConfig: {seconds: 1, secs: 2}}]}}}"
	  "]}}]", BAD, "spec.tasks[0].taskConfig.do[0].taskConfig.catch.retry."
	  "jitter.to: required (a duration)" },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], do: [{name: t, " TRY_OK
	  "catch: {do: [{name: c, kind: WAIT, taskConfig: {seconds: 1, secs: "
	  "2}}]}}}]}}]", BAD, "spec.tasks[0].taskConfig.do[0].taskConfig.catch."
	  "do[0].taskConfig.secs" UNKNOWN "seconds, timeout)" },
	/* both spellings of a multi-word field, not both at once */
	{ "[{name: a, " HTTP_OK ", timeout_seconds: 5}}]", 0, NULL },
	{ "[{name: a, " HTTP_OK ", timeoutSeconds: 5, timeout_seconds: 5}}]",
	  BAD, "spec.tasks[0].taskConfig.timeoutSeconds: given twice (as "
	  "timeoutSeconds and timeout_seconds)" },
	{ "[{name: a, " HTTP_OK ", timeOutSeconds: 5}}]", BAD,
	  "spec.tasks[0].taskConfig.timeOutSeconds" UNKNOWN },
	{ "[{name: a, " TRY_OK "catch: {except_when: '${ false }', retry: "
	  "{except_when: '${ false }', limit: {duration: PT1S}}}}}]", 0, NULL },
	{ "[{name: a, " TRY_OK "catch: {exceptWhen: x, except_when: y}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.exceptWhen: given twice" },
	/* free-form maps stay free-form */
	{ "[{name: a, kind: SET, taskConfig: {variables: {any: {deep: [1]}}}}]",
	  0, NULL },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: w, input: {any: {x: "
	  "1}}}}]", 0, NULL },
	{ "[{name: a, " HTTP_OK ", body: {any: {x: 1}}}}]", 0, NULL },
};

static void strict(void **state)
{
	RUN_CASES(*state, strict_cases);
}

/* ---- the new fields' values ----------------------------------------- */

static const struct tcase value_cases[] = {
	/* RUN return, stdin, input */
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: cat, stdin: "
	  "'${ .x }'}, return: all}}, {name: b, kind: RUN, taskConfig: "
	  "{script: {code: x, stdin: ''}, return: none}}, {name: c, kind: RUN, "
	  "taskConfig: {shell: {command: x}, return: code}}, {name: d, kind: "
	  "RUN, taskConfig: {shell: {command: x}, return: stderr}}, {name: e, "
	  "kind: RUN, taskConfig: {shell: {command: x}, return: stdout}}]", 0,
	  NULL },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: x}, return: "
	  "exit}}]", BAD, "spec.tasks[0].taskConfig.return: must be stdout, "
	  "stderr, code, all or none" },
	{ "[{name: a, kind: RUN, taskConfig: {workflow: w, return: stdout}}]",
	  BAD, "spec.tasks[0].taskConfig.return: not with workflow" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: x}, input: {}}}]",
	  BAD, "spec.tasks[0].taskConfig.input: only with workflow" },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: x, stdin: [1]}}}"
	  "]", BAD, "spec.tasks[0].taskConfig.shell.stdin: must be a string" },
	/* HTTP_CALL endpoint, output, redirect, query */
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "'https://h/pet/{petId}', output: response, redirect: true, query: "
	  "{a: x, n: 2, e: '${ .q }'}}}]", 0, NULL },
	{ "[{name: a, " HTTP_OK ", output: raw}}, {name: b, " HTTP_OK ", output:"
	  " content, redirect: false}}]", 0, NULL },
	{ "[{name: a, " HTTP_OK ", output: body}}]", BAD,
	  "spec.tasks[0].taskConfig.output: must be content, response or raw" },
	{ "[{name: a, " HTTP_OK ", redirect: 'yes'}}]", BAD,
	  "spec.tasks[0].taskConfig.redirect: must be true or false" },
	{ "[{name: a, " HTTP_OK ", query: [a]}}]", BAD,
	  "spec.tasks[0].taskConfig.query: must be a map of strings" },
	{ "[{name: a, " HTTP_OK ", query: {a: {b: 1}}}}]", BAD,
	  "spec.tasks[0].taskConfig.query.a: must be a string" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "'ftp://h'}}]", BAD, "spec.tasks[0].taskConfig.endpoint: must be an "
	  "http:// or https:// URL" },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "{}}}]", BAD, "spec.tasks[0].taskConfig.endpoint.uri: required" },
	/* RAISE: a string with message, or the DSL's error map */
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: 'https://x/e', "
	  "status: 400, title: T, detail: '${ .d }', instance: /x}}}, {name: b,"
	  " kind: RAISE, taskConfig: {error: {type: t, status: 503}, message: "
	  "m}}]", 0, NULL },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {status: 400}}}]", BAD,
	  "spec.tasks[0].taskConfig.error.type: required" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: t}}}]", BAD,
	  "spec.tasks[0].taskConfig.error.status: required" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: t, status: "
	  "'400'}}}]", BAD, "spec.tasks[0].taskConfig.error.status: must be a "
	  "whole number, 100 to 599" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: t, status: 99}}}"
	  "]", BAD, "spec.tasks[0].taskConfig.error.status: must be" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: t, status: 400, "
	  "title: [x]}}}]", BAD, "spec.tasks[0].taskConfig.error.title: must be "
	  "a string" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: validation}}]", BAD,
	  "spec.tasks[0].taskConfig.message: required (a non-empty string) "
	  "when error is a string" },
	{ "[{name: a, kind: RAISE, taskConfig: {error: [e], message: m}}]", BAD,
	  "spec.tasks[0].taskConfig.error: required (a non-empty string, or a "
	  "map" },
	/* catch.errors.with */
	{ "[{name: a, " TRY_OK "catch: {errors: {with: {type: t, status: 404, "
	  "instance: /do/0/a, title: x, details: y}}}}}]", 0, NULL },
	{ "[{name: a, " TRY_OK "catch: {errors: {with: {status: '404'}}}}}]",
	  BAD, "spec.tasks[0].taskConfig.catch.errors.with.status: must be a "
	  "whole number" },
	{ "[{name: a, " TRY_OK "catch: {errors: {with: {type: 5}}}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.errors.with.type: must be a "
	  "non-empty string" },
	{ "[{name: a, " TRY_OK "catch: {errors: {with: {detail: x, details: "
	  "y}}}}}]", BAD, "spec.tasks[0].taskConfig.catch.errors.with.details: "
	  "given with detail" },
	{ "[{name: a, " TRY_OK "catch: {errors: [1]}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.errors: must be a map" },
	/* retry: shape, durations, one backoff, a limit, jitter */
	{ RETRY("{delay: {seconds: 3}, backoff: {exponential: {}}, limit: "
		"{attempt: {count: 5, duration: PT10S}, duration: PT1M}, "
		"jitter: {from: {milliseconds: 10}, to: PT0.5S}, when: "
		"'${ $error.status >= 500 }'}"), 0, NULL },
	{ RETRY("{delay: PT1S, backoff: {constant: {}}, limit: {duration: "
		"P1D}}"), 0, NULL },
	{ RETRY("{backoff: {linear: {}}, limit: {attempt: {count: 1}}}"), 0,
	  NULL },
	{ RETRY("default"), BAD, "spec.tasks[0].taskConfig.catch.retry: must be "
	  "a map (named retry policies are not supported)" },
	{ RETRY("{delay: PT1S}"), BAD, "spec.tasks[0].taskConfig.catch.retry."
	  "limit: required (attempt.count or duration" },
	{ RETRY("{limit: {attempt: {duration: PT1S}}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.limit: required" },
	{ RETRY("{limit: {attempt: {count: 0}}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.limit.attempt.count: must be "
	  "a whole number, 1 to 1000" },
	{ RETRY("{limit: {attempt: {count: 2}}, backoff: {constant: {}, linear:"
		" {}}}"), BAD, "spec.tasks[0].taskConfig.catch.retry.backoff: "
	  "needs exactly one of constant, linear or exponential" },
	{ RETRY("{limit: {attempt: {count: 2}}, backoff: {}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.backoff: needs exactly one" },
	{ RETRY("{limit: {attempt: {count: 2}}, backoff: {linear: {x: 1}}}"),
	  BAD, "spec.tasks[0].taskConfig.catch.retry.backoff.linear: must be an "
	  "empty map ({})" },
	{ RETRY("{limit: {attempt: {count: 2}}, backoff: linear}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.backoff: must be a map" },
	{ RETRY("{limit: {attempt: {count: 2}}, delay: 5}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.delay: a duration is an ISO "
	  "8601 text" },
	{ RETRY("{limit: {attempt: {count: 2}}, delay: P1M}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.delay: not an ISO 8601 "
	  "duration" },
	{ RETRY("{limit: {attempt: {count: 2}}, delay: '${ .d }'}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.delay: an ISO 8601 duration "
	  "starts with P" },
	{ RETRY("{limit: {duration: {seconds: -1}}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.limit.duration: a negative "
	  "duration" },
	{ RETRY("{limit: {attempt: {count: 2, duration: {}}}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.limit.attempt.duration: an "
	  "empty duration" },
	{ RETRY("{limit: {attempt: {count: 2}}, jitter: {to: PT1S}}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.jitter.from: required" },
	{ RETRY("{limit: {attempt: {count: 2}}, jitter: {from: PT2S, to: "
		"PT1S}}"), BAD, "spec.tasks[0].taskConfig.catch.retry.jitter.to: "
	  "must not be shorter than from" },
	{ RETRY("{limit: {attempt: {count: 2}}, when: true}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.when: must be a string" },
	/* SWITCH: at most one default case, wherever listed */
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: d, then: end}, "
	  "{name: c, when: '${ true }', then: exit}]}}]", 0, NULL },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: x, then: end}, "
	  "{name: c, when: '${ true }', then: end}, {name: y, then: exit}]}}]",
	  BAD, "spec.tasks[0].taskConfig.cases[2].when: required: cases[0] and "
	  "cases[2] both have no when (at most one default case)" },
	{ "[{name: a, kind: SWITCH, taskConfig: {cases: [{name: c, when: "
	  "'${ true }', then: leave}]}}]", BAD,
	  "spec.tasks[0].taskConfig.cases[0].then: no task named \"leave\" in "
	  "the same list (or continue, exit, end)" },
	/* FOR while */
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], while: '${ $index < 3 "
	  "and $item != null }', do: [{name: b, " SET_OK "}]}}]", 0, NULL },
	{ "[{name: a, kind: FOR, taskConfig: {in: [1], while: false, do: [{name:"
	  " b, " SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.while: must be "
	  "a string" },
	/* loop and catch variables: not a name every expression binds */
	{ "[{name: a, kind: FOR, taskConfig: {each: input, in: [1], do: [{name: "
	  "b, " SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.each: \"input\" "
	  "is reserved" },
	{ "[{name: a, kind: FOR, taskConfig: {at: context, in: [1], do: [{name:"
	  " b, " SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.at: \"context\" "
	  "is reserved" },
	{ "[{name: a, kind: FOR, taskConfig: {each: ENV, in: [1], do: [{name: "
	  "b, " SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.each: \"ENV\" is "
	  "reserved" },
	{ "[{name: a, " TRY_OK "catch: {as: secrets}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.as: \"secrets\" is reserved" },
	{ "[{name: a, " TRY_OK "catch: {as: output}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.as: \"output\" is reserved" },
	{ "[{name: a, " TRY_OK "catch: {as: _e}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.as: must be a variable name" },
	{ "[{name: a, kind: FOR, taskConfig: {at: _i, in: [1], do: [{name: b, "
	  SET_OK "}]}}]", BAD, "spec.tasks[0].taskConfig.at: must be a variable "
	  "name" },
	/* TRY without catch; catch without do */
	{ "[{name: a, " TRY_OK "catch: {errors: {with: {status: 500}}, when: "
	  "'${ $error.status == 500 }'}}}]", 0, NULL },
};

static void values(void **state)
{
	RUN_CASES(*state, value_cases);
}

/* ---- the new expressions, compiled with what is in scope ------------ */

static const struct tcase scope_cases[] = {
	{ "[{name: a, " HTTP_OK ", query: {q: '${ ( }'}}}]", BAD,
	  "spec.tasks[0].taskConfig.query.q" NOCOMP },
	{ "[{name: a, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: "
	  "'${ ( }'}}]", BAD, "spec.tasks[0].taskConfig.endpoint" NOCOMP },
	{ "[{name: a, kind: RUN, taskConfig: {shell: {command: cat, stdin: "
	  "'${ [ }'}}}]", BAD, "spec.tasks[0].taskConfig.shell.stdin" NOCOMP },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: t, status: 500, "
	  "detail: '${ ) }'}}}]", BAD, "spec.tasks[0].taskConfig.error.detail"
	  NOCOMP },
	{ "[{name: a, kind: RAISE, taskConfig: {error: {type: '${ | }', "
	  "status: 500}}}]", BAD, "spec.tasks[0].taskConfig.error.type"
	  NOCOMP },
	{ "[{name: a, kind: FOR, taskConfig: {each: c, at: i, in: [1], while: "
	  "'${ $c | $nope }', do: [{name: b, " SET_OK "}]}}]", BAD,
	  "spec.tasks[0].taskConfig.while" NOCOMP "$nope is not defined" },
	/* the catch variable: in when, exceptWhen, retry's, do; not before */
	{ "[{name: a, " TRY_OK "catch: {as: e, when: '${ $e.status }', "
	  "exceptWhen: '${ $e.type }', retry: {when: '${ $e }', exceptWhen: "
	  "'${ $e }', limit: {duration: PT1S}}, do: [{name: c, kind: SET, "
	  "taskConfig: {variables: {v: '${ $e }'}}}]}}}]", 0, NULL },
	{ "[{name: a, " TRY_OK "catch: {as: e, when: '${ $error }'}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.when" NOCOMP "$error is not "
	  "defined" },
	{ "[{name: a, " TRY_OK "catch: {exceptWhen: '${ $err }'}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.exceptWhen" NOCOMP "$err is not "
	  "defined" },
	{ RETRY("{limit: {duration: PT1S}, exceptWhen: '${ $x }'}"), BAD,
	  "spec.tasks[0].taskConfig.catch.retry.exceptWhen" NOCOMP "$x is not "
	  "defined" },
	{ "[{name: a, " TRY_OK "catch: {when: '${ $error }'}}}, {name: d, kind: "
	  "SET, taskConfig: {variables: {v: '${ $error }'}}}]", BAD,
	  "spec.tasks[1].taskConfig.variables.v" NOCOMP "$error is not "
	  "defined" },
};

static void scopes(void **state)
{
	RUN_CASES(*state, scope_cases);
}

/* A SET task with @n templates "${ <i> }" as its variables. */
static const char *many_templates(struct fx_plane *f, size_t n)
{
	struct buf b = BUF_INIT(1 << 20);
	size_t i;

	assert_int_equal(buf_addstr(&b, "[{name: a, kind: SET, taskConfig: "
				    "{variables: {"), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_addf(&b, "%sv%zu: '${ %zu }'",
					  i ? ", " : "", i, i), 0);
	assert_int_equal(buf_addstr(&b, "}}}]"), 0);
	return fx_keep(f, buf_detach(&b, NULL));
}

/* At most TEXPR_MAX templates in one Workflow, nested ones counted. */
static void template_limit(void **state)
{
	struct fx_plane *f = *state;
	int rc;

	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "x.yaml",
		  wf_doc(f, "full", many_templates(f, TEXPR_MAX)), NULL);
	rc = put_tasks(f, "over", many_templates(f, TEXPR_MAX + 1));
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(f->e.msg, fx_fmt(f, "spec.tasks[0].taskConfig."
				"variables.v%d: too many expressions in one "
				"workflow (at most %d)", TEXPR_MAX, TEXPR_MAX)));
	/* with one more in a nested list */
	rc = put_tasks(f, "over2", fx_fmt(f, "%.*s, {name: b, kind: FOR, "
			 "taskConfig: {in: '${ [1] }', do: [{name: c, " SET_OK
			 "}]}}]", (int)strlen(many_templates(f, TEXPR_MAX)) - 1,
			 many_templates(f, TEXPR_MAX)));
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(f->e.msg, "spec.tasks[1].taskConfig.in: too "
			       "many expressions"));
	assert_false(fx_exists(f, KIND_WORKFLOW, "over"));
}

/* FOR inside FOR ... @levels lists deep, the top one counting. */
static const char *nested(struct fx_plane *f, int levels)
{
	const char *s = "[{name: leaf, " SET_OK "}]";
	int i;

	for (i = 1; i < levels; i++)
		s = fx_fmt(f, "[{name: l%d, kind: FOR, taskConfig: {each: e%d, "
			   "at: i%d, in: [1], do: %s}}]", i, i, i, s);
	return s;
}

static void depth_limit(void **state)
{
	struct fx_plane *f = *state;

	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "x.yaml",
		  wf_doc(f, "deep8", nested(f, 8)), NULL);
	assert_int_equal(put_tasks(f, "deep9", nested(f, 9)), -EBADMSG);
	assert_non_null(strstr(f->e.msg, "taskConfig.do: tasks nested too "
			       "deep (at most 8 levels)"));
}

/* ---- normalization -------------------------------------------------- */

/* The stored Workflow @slug. */
static struct doc *stored(struct fx_plane *f, const char *slug)
{
	struct plane_res r = fx_lookup(f, KIND_WORKFLOW, slug);
	struct doc *d = NULL;

	assert_int_equal(record_load(f->p, r.id, NULL, &d), 0);
	return d;
}

/* The keys of map @m, joined by ','. */
static const char *keys(struct fx_plane *f, const struct doc *m)
{
	struct buf b = BUF_INIT(4096);
	size_t i;

	assert_non_null(m);
	assert_int_equal(m->type, DOC_MAP);
	assert_int_equal(buf_addstr(&b, ""), 0);
	for (i = 0; i < m->n; i++)
		assert_int_equal(buf_addf(&b, "%s%s", i ? "," : "",
					  m->u.kv[i].key), 0);
	return fx_keep(f, buf_detach(&b, NULL));
}

static const char nested_doc[] =
	"metadata: {name: norm}\n"
	"spec:\n"
	"  document: {dsl: 1.0.0, namespace: a, name: b, version: '1'}\n"
	"  tasks:\n"
	"    - {flow: {then: end}, export: {as: '${ . }'}, task_config: {variables:"
	" {x: '1'}}, kind: WORKFLOW_TASK_KIND_SET, name: top}\n"
	"    - name: loop\n"
	"      kind: 6\n"
	"      taskConfig:\n"
	"        in: '${ [1] }'\n"
	"        do:\n"
	"          - flow: {then: end}\n"
	"            export: {as: '${ $item }'}\n"
	"            task_config: {variables: {x: '${ $item }'}}\n"
	"            kind: WORKFLOW_TASK_KIND_SET\n"
	"            name: 7\n"
	"          - {name: r, kind: run, taskConfig: {shell: {command: ls}}}\n"
	"    - name: f\n"
	"      kind: fork\n"
	"      task_config:\n"
	"        branches:\n"
	"          - {name: x, do: [{name: w, kind: 10, task_config: {seconds:"
	" 1}}]}\n"
	"          - name: y\n"
	"            do:\n"
	"              - name: t\n"
	"                kind: WORKFLOW_TASK_KIND_TRY\n"
	"                task_config:\n"
	"                  try: [{name: s, kind: set, task_config: {variables:"
	" {}}, flow: {then: null}}]\n"
	"                  catch:\n"
	"                    as: err\n"
	"                    do: [{name: h, kind: WORKFLOW_TASK_KIND_HTTP_CALL,"
	" task_config: {method: GET, endpoint: {uri: 'http://h'}}}]\n";

/* Nested tasks are stored as the top-level ones are: the same keys in
 * the same order, the kind short, names as text. */
static void normalized(void **state)
{
	struct fx_plane *f = *state;
	struct doc *d;
	const struct doc *tasks, *inner, *br;
	const char *top;

	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "x.yaml", nested_doc,
		  NULL);
	d = stored(f, "norm");
	tasks = doc_get(d, "spec.tasks");
	top = keys(f, tasks->u.items[0]);
	assert_string_equal(top, "name,kind,taskConfig,export,flow");
	assert_string_equal(doc_get_str(tasks->u.items[0], "kind"), "SET");
	assert_string_equal(doc_get_str(tasks->u.items[1], "kind"), "FOR");
	inner = doc_get(tasks->u.items[1], "taskConfig.do");
	assert_string_equal(keys(f, inner->u.items[0]), top);
	assert_string_equal(doc_get_str(inner->u.items[0], "kind"), "SET");
	assert_int_equal(doc_map_get(inner->u.items[0], "name")->type, DOC_STR);
	assert_string_equal(doc_get_str(inner->u.items[0], "name"), "7");
	assert_string_equal(doc_get_str(inner->u.items[0],
					"taskConfig.variables.x"),
			    "${ $item }");
	assert_string_equal(keys(f, inner->u.items[1]), "name,kind,taskConfig");
	assert_string_equal(doc_get_str(inner->u.items[1], "kind"), "RUN");
	br = doc_get(tasks->u.items[2], "taskConfig.branches");
	assert_string_equal(doc_get_str(tasks->u.items[2], "kind"), "FORK");
	inner = doc_map_get(br->u.items[0], "do");
	assert_string_equal(keys(f, inner->u.items[0]), "name,kind,taskConfig");
	assert_string_equal(doc_get_str(inner->u.items[0], "kind"), "WAIT");
	inner = doc_map_get(br->u.items[1], "do");
	assert_string_equal(doc_get_str(inner->u.items[0], "kind"), "TRY");
	inner = doc_get(inner->u.items[0], "taskConfig.try");
	/* an explicit null is absent, as at the top */
	assert_string_equal(keys(f, inner->u.items[0]), "name,kind,taskConfig,"
			    "flow");
	assert_int_equal(doc_get(inner->u.items[0], "flow")->n, 0);
	assert_string_equal(doc_get_str(inner->u.items[0], "kind"), "SET");
	inner = doc_get(doc_map_get(br->u.items[1], "do")->u.items[0],
			"taskConfig.catch.do");
	assert_string_equal(keys(f, inner->u.items[0]), "name,kind,taskConfig");
	assert_string_equal(doc_get_str(inner->u.items[0], "kind"),
			    "HTTP_CALL");
	doc_free(d);
}

/* Writing spec.yaml again (an update) stores the same form. */
static void normalized_on_update(void **state)
{
	struct fx_plane *f = *state;
	struct doc *d;
	const struct doc *inner;

	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_NEW, "x.yaml",
		  wf_doc(f, "upd", "[{name: a, " SET_OK "}]"), NULL);
	fx_ok_put(f, KIND_WORKFLOW, PLANE_WRITE_SPEC, "upd",
		  wf_doc(f, "upd", "[{name: a, kind: TRY, task_config: {try: "
			 "[{name: b, kind: 1, task_config: {variables: {}}}]}}]"),
		  NULL);
	d = stored(f, "upd");
	inner = doc_get(doc_get(d, "spec.tasks")->u.items[0], "taskConfig.try");
	assert_string_equal(keys(f, inner->u.items[0]), "name,kind,taskConfig");
	assert_string_equal(doc_get_str(inner->u.items[0], "kind"), "SET");
	doc_free(d);
	/* and a refused update leaves the stored one as it was */
	assert_int_equal(fx_put(f, KIND_WORKFLOW, PLANE_WRITE_SPEC, "upd",
				wf_doc(f, "upd", "[{name: a, kind: TRY, "
				       "taskConfig: {try: [{name: b, kind: 1, "
				       "taskConfig: {variables: {v: '${ ( }'}}}"
				       "]}}]"), NULL), -EBADMSG);
	d = stored(f, "upd");
	inner = doc_get(doc_get(d, "spec.tasks")->u.items[0], "taskConfig.try");
	assert_null(doc_get(inner->u.items[0], "taskConfig.variables.v"));
	doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(names, setup, teardown),
		cmocka_unit_test_setup_teardown(control_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(expressions, setup, teardown),
		cmocka_unit_test_setup_teardown(strict, setup, teardown),
		cmocka_unit_test_setup_teardown(values, setup, teardown),
		cmocka_unit_test_setup_teardown(scopes, setup, teardown),
		cmocka_unit_test_setup_teardown(template_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(depth_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(normalized, setup, teardown),
		cmocka_unit_test_setup_teardown(normalized_on_update, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
