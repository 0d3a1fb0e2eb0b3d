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
	{ "[{name: a, " SET_OK ", export: {as: out}}, {name: b, kind: SET, "
	  "taskConfig: {variables: {v: '${ .out }'}}}]", 0, NULL },
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
	/* export.as */
	{ "[{name: a, " SET_OK ", export: {as: input}}]", BAD,
	  "spec.tasks[0].export.as: \"input\" is reserved" },
	{ "[{name: a, " SET_OK ", export: {as: triggerMessage}}]", BAD,
	  "spec.tasks[0].export.as: \"triggerMessage\" is reserved" },
	{ "[{name: a, " SET_OK ", export: {as: triggerMetadata}}]", BAD,
	  "spec.tasks[0].export.as: \"triggerMetadata\" is reserved" },
	{ "[{name: a, " SET_OK ", export: {as: secrets}}]", BAD,
	  "spec.tasks[0].export.as: \"secrets\" is reserved" },
	{ "[{name: a, " SET_OK ", export: {as: env_vars}}]", BAD,
	  "spec.tasks[0].export.as: \"env_vars\" is reserved" },
	{ "[{name: a, " SET_OK ", export: {as: ''}}]", BAD,
	  "spec.tasks[0].export.as: must not be empty" },
	{ "[{name: a, kind: TRY, taskConfig: {try: [{name: b, " SET_OK "}], "
	  "catch: {do: [{name: c, " SET_OK ", export: {as: secrets}}]}}}]", BAD,
	  "spec.tasks[0].taskConfig.catch.do[0].export.as: \"secrets\" is "
	  "reserved" },
	{ "[{name: a, " SET_OK ", export: {as: Input}}]", 0, NULL },
	/* flow.then: end, continue or a task of the same list */
	{ "[{name: a, " SET_OK ", flow: {then: b}}, {name: b, " SET_OK ", "
	  "flow: {then: a}}]", 0, NULL },
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
	  "spec.tasks[0].taskConfig.endpoint.uri: required" },
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
	  " {name: b, kind: WAIT, taskConfig: {seconds: 1, note: '${ | }'}}]",
	  0, NULL },
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
	"    - {flow: {then: end}, export: {as: top}, task_config: {variables:"
	" {x: '1'}}, kind: WORKFLOW_TASK_KIND_SET, name: top}\n"
	"    - name: loop\n"
	"      kind: 6\n"
	"      taskConfig:\n"
	"        in: '${ [1] }'\n"
	"        do:\n"
	"          - flow: {then: end}\n"
	"            export: {as: v}\n"
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
		cmocka_unit_test_setup_teardown(template_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(depth_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(normalized, setup, teardown),
		cmocka_unit_test_setup_teardown(normalized_on_update, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
