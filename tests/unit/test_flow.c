/*
 * test_flow.c - control flow of runs through plane.h, without a mount: the
 * edges of SWITCH, FOR, FORK, TRY and RUN workflow (no match, empty and
 * bad lists, faults and cuts, error objects, limits that no TRY catches),
 * expression failures, secrets in expression results, and status commits
 * spaced out in a fast loop.  Waits are bounded polls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/plane.h"
#include "core/plane_i.h"
#include "core/yaml.h"
#include "fx_plane.h"
#include "fx_run.h"

#define SECRET "fl0w-secret-VALUE-77"

/* Compact JSON of @path in execution @slug, into rx_last ("" if none). */
static const char *json_at(struct fx_plane *f, const char *slug,
			   const char *path)
{
	struct doc *res = rx_load(f, slug);
	struct buf b = BUF_INIT(sizeof(rx_last) - 1);
	const struct doc *v = doc_get(res, path);

	rx_last[0] = '\0';
	if (v && json_emit(v, &b, 0) == 0)
		snprintf(rx_last, sizeof(rx_last), "%.*s", (int)b.len, b.data);
	buf_release(&b);
	doc_free(res);
	return rx_last;
}

/* The status entry whose id is @id: field @key as JSON. */
static const char *entry(struct fx_plane *f, const char *slug, const char *id,
			 const char *key)
{
	struct doc *res = rx_load(f, slug);
	const struct doc *list = doc_get(res, "status.tasks");
	struct buf b = BUF_INIT(sizeof(rx_last) - 1);
	const char *tid;
	size_t i;

	rx_last[0] = '\0';
	for (i = 0; list && i < list->n; i++) {
		tid = doc_get_str(list->u.items[i], "id");
		if (!tid || strcmp(tid, id) || !doc_get(list->u.items[i], key))
			continue;
		if (json_emit(doc_get(list->u.items[i], key), &b, 0) == 0)
			snprintf(rx_last, sizeof(rx_last), "%.*s", (int)b.len,
				 b.data);
	}
	buf_release(&b);
	doc_free(res);
	return rx_last;
}

static void run_one(struct fx_plane *f, const char *tasks, const char *extra,
		    const char *phase)
{
	rx_workflow(f, "wf", tasks);
	rx_execution(f, "run1", "wf", extra);
	assert_string_equal(rx_wait_end(f, "run1"), phase);
}

static const char sw[] =
	"[{name: pick, kind: SWITCH, taskConfig: {cases: [{name: go, when: "
	"'${ . == \"go\" }', then: target}]}},"
	" {name: mid, kind: SET, taskConfig: {variables: {m: 1}}},"
	" {name: target, kind: SET, taskConfig: {variables: {t: 1}}}]";

/* No case matches: the list goes on; a match jumps over `mid`; either
 * way the SWITCH passes its input on. */
static void switch_no_match(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	run_one(f, sw, "  triggerMessage: stop\n", "COMPLETED");
	assert_string_equal(entry(f, "run1", "pick", "output"), "\"stop\"");
	assert_string_equal(entry(f, "run1", "mid", "status"), "\"COMPLETED\"");
	rx_execution(f, "run2", "wf", "  triggerMessage: go\n");
	assert_string_equal(rx_wait_end(f, "run2"), "COMPLETED");
	assert_string_equal(entry(f, "run2", "mid", "status"), "\"SKIPPED\"");
	assert_string_equal(entry(f, "run2", "target", "status"),
			    "\"COMPLETED\"");
}

/* An empty list runs nothing and passes the input on; `at` names the
 * index; each iteration works on the output of the one before, the last
 * one's is the FOR's; a non-list fails. */
static void for_edges(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	run_one(f, "[{name: e, kind: FOR, taskConfig: {in: '${ [] }', do: "
		"[{name: s, kind: SET, taskConfig: {variables: {a: 1}}}]}},"
		" {name: l, kind: FOR, taskConfig: {each: x, at: i, in: [a, b],"
		" do: [{name: s, kind: SET, taskConfig: {variables: {v: "
		"'${ \"\\(.v // \"\")\\($i)=\\($x) \" }'}}}]}, "
		"export: {as: '${ .v }'}},"
		" {name: after, kind: SET, taskConfig: {variables: {got: "
		"'${ $context.l }'}}}]",
		"  triggerMessage: '{\"n\": 1}'\n", "COMPLETED");
	assert_string_equal(entry(f, "run1", "e", "output"), "{\"n\":1}");
	assert_string_equal(entry(f, "run1", "e/s", "status"), "\"SKIPPED\"");
	assert_string_equal(entry(f, "run1", "l", "output"),
			    "{\"v\":\"0=a 1=b \"}");
	assert_string_equal(json_at(f, "run1", "status.output"),
			    "{\"got\":\"0=a 1=b \"}");
	rx_workflow(f, "bad", "[{name: l, kind: FOR, taskConfig: {in: "
		    "'${ \"text\" }', do: [{name: s, kind: SET, taskConfig: "
		    "{variables: {a: 1}}}]}}]");
	rx_execution(f, "run2", "bad", NULL);
	assert_string_equal(rx_wait_end(f, "run2"), "FAILED");
	assert_non_null(strstr(rx_field(f, "run2", "status.error"),
			       "not a list"));
}

/* A failure inside a loop fails the FOR, naming the nested task. */
static void for_fault(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	run_one(f, "[{name: loop, kind: FOR, taskConfig: {in: [1, 2, 3], do: "
		"[{name: bad, kind: RUN, taskConfig: {shell: {command: "
		"'test $1 -lt 2 || exit 4', arguments: ['${ $item }']}}}]}}]",
		NULL, "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "task loop/bad failed: exit status 4");
	assert_string_equal(entry(f, "run1", "loop/bad", "status"),
			    "\"FAILED\"");
}

/* A failing branch cuts the others: the sleeper is CANCELLED long before
 * its 30 s. */
static void fork_fault_cuts(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: f, kind: FORK, taskConfig: {branches: ["
		    "{name: a, do: [{name: t, kind: RUN, taskConfig: {shell: "
		    "{command: 'sleep 0.2; exit 5'}}}]}, {name: b, do: [{name: "
		    "t, kind: RUN, taskConfig: {shell: {command: 'sleep 30'}}}]}"
		    "]}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end_within(f, "run1", 15), "FAILED");
	assert_string_equal(entry(f, "run1", "f/b/t", "status"),
			    "\"CANCELLED\"");
	assert_string_equal(entry(f, "run1", "f/a/t", "exitCode"), "5");
	assert_non_null(strstr(rx_field(f, "run1", "status.error"),
			       "task f/a/t failed: exit status 5"));
}

/* A caught error without catch.do is swallowed (the TRY passes its input
 * on); catch.do sees the DSL error object as $<as>: RAISE's type and
 * title, the instance a JSON Pointer to the failing task. */
static void try_error_object(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	run_one(f, "[{name: g, kind: TRY, taskConfig: {try: [{name: r, kind: "
		"RAISE, taskConfig: {error: my/err, message: '${ \"bo\" + "
		"\"om\" }'}}], catch: {}}},"
		" {name: h, kind: TRY, taskConfig: {try: [{name: r, kind: "
		"RAISE, taskConfig: {error: my/err, message: boom}}], catch: "
		"{as: e, do: [{name: keep, kind: SET, taskConfig: {variables: "
		"{caught: '${ $e }'}}}]}}}]",
		"  triggerMessage: '{\"in\": 1}'\n", "COMPLETED");
	assert_string_equal(entry(f, "run1", "g", "output"), "{\"in\":1}");
	assert_string_equal(entry(f, "run1", "g/r", "status"), "\"FAILED\"");
	assert_string_equal(json_at(f, "run1", "status.output"),
			    "{\"caught\":{\"type\":\"my/err\",\"status\":500,"
			    "\"title\":\"my/err\",\"detail\":\"boom\","
			    "\"instance\":\"/do/1/h/try/0/r\"}}");
}

/* RAISE of a standard name is that type and status (a filter on both
 * catches it); the map form keeps its own; a map without detail tells its
 * title. */
static void raise_forms(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	run_one(f, "[{name: g, kind: TRY, taskConfig: {try: [{name: r, kind: "
		"RAISE, taskConfig: {error: timeout, message: slow}}], catch: "
		"{errors: {with: {type: 'https://serverlessworkflow.io/spec/"
		"1.0.0/errors/timeout', status: 408}}, do: [{name: c, kind: "
		"SET, taskConfig: {variables: {e: '${ $error }'}}}]}}},"
		" {name: m, kind: RAISE, taskConfig: {error: {type: 'urn:x', "
		"status: 418, title: Teapot}}}]", NULL, "FAILED");
	assert_string_equal(entry(f, "run1", "g/catch/c", "output"),
			    "{\"e\":{\"type\":\"https://serverlessworkflow.io/"
			    "spec/1.0.0/errors/timeout\",\"status\":408,"
			    "\"title\":\"timeout\",\"detail\":\"slow\","
			    "\"instance\":\"/do/0/g/try/0/r\"}}");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "task m failed: Teapot");
}

/* `then: end` in one branch cuts the branches beside it (the sleeper is
 * CANCELLED long before its 30 s) and ends the run COMPLETED with the
 * ending task's output; a retry whose delay would pass the run's deadline
 * is not made: catch.do runs at once. */
static void end_and_late_retry(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: f, kind: FORK, taskConfig: {branches: ["
		    "{name: a, do: [{name: s, kind: SET, taskConfig: {variables:"
		    " {x: 1}}, flow: {then: end}}]}, {name: b, do: [{name: w, "
		    "kind: RUN, taskConfig: {shell: {command: 'sleep 30'}}}]}]}},"
		    " {name: never, kind: SET, taskConfig: {variables: {n: 1}}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end_within(f, "run1", 15), "COMPLETED");
	/* cut while it ran, or before it could start */
	entry(f, "run1", "f/b/w", "status");
	assert_true(!strcmp(rx_last, "\"CANCELLED\"") ||
		    !strcmp(rx_last, "\"SKIPPED\""));
	assert_string_equal(entry(f, "run1", "never", "status"),
			    "\"SKIPPED\"");
	assert_string_equal(json_at(f, "run1", "status.output"), "{\"x\":1}");
	rx_workflow(f, "late", "[{name: t, kind: TRY, taskConfig: {try: [{name:"
		    " r, kind: RAISE, taskConfig: {error: runtime, message: "
		    "boom}}], catch: {retry: {delay: PT1H, limit: {attempt: "
		    "{count: 2}}}, do: [{name: c, kind: SET, taskConfig: "
		    "{variables: {handled: '${ $error.detail }'}}}]}}}]");
	rx_execution(f, "run2", "late", NULL);
	assert_string_equal(rx_wait_end_within(f, "run2", 15), "COMPLETED");
	assert_string_equal(json_at(f, "run2", "status.output"),
			    "{\"handled\":\"boom\"}");
	assert_string_equal(entry(f, "run2", "t", "attempts"), "1");
}

/* A limit inside a TRY fails the run: no TRY catches it. */
static void limit_not_caught(void **state)
{
	struct fx_plane *f = *state;

	f->lim.max_total_operations = 4;
	rx_open(f);
	run_one(f, "[{name: g, kind: TRY, taskConfig: {try: [{name: l, kind: "
		"FOR, taskConfig: {in: [1, 2, 3, 4, 5], do: [{name: s, kind: "
		"SET, taskConfig: {variables: {a: 1}}}]}}], catch: {do: [{name:"
		" c, kind: SET, taskConfig: {variables: {caught: true}}}]}}}]",
		NULL, "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "limit max_total_operations (4) exceeded");
	assert_string_equal(entry(f, "run1", "g/catch/c", "status"),
			    "\"SKIPPED\"");
}

/* jq raising an error fails the task with its message. */
static void expression_fails(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	run_one(f, "[{name: s, kind: SET, taskConfig: {variables: {v: "
		"'${ error(\"no luck\") }'}}}]", NULL, "FAILED");
	assert_non_null(strstr(entry(f, "run1", "s", "error"),
			       "expression failed: no luck"));
}

/* A secret an expression puts in an output is masked in status; the
 * process it is given to sees the value; a sub-workflow input may not
 * carry it. */
static void secret_results(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;

	rx_open(f);
	rx_workflow(f, "child", "[{name: s, kind: SET, taskConfig: "
		    "{variables: {a: 1}}}]");
	rx_workflow(f, "wf", "[{name: s, kind: SET, taskConfig: {variables: "
		    "{v: '${.secrets.TOKEN}', k: '${ {($secrets.TOKEN): 1} }'}},"
		    " export: {as: '${ .v }'}},"
		    " {name: use, kind: RUN, taskConfig: {shell: {command: "
		    "'test \"$X\" = " SECRET " && echo same', environment: {X: "
		    "'${ $context.s }'}}}},"
		    " {name: sub, kind: RUN, taskConfig: {workflow: child, "
		    "input: {t: '${ $secrets.TOKEN }'}}}]");
	r = rx_execution(f, "run1", "wf", "  runtimeEnv:\n    TOKEN: {value: "
			 SECRET ", isSecret: true}\n");
	assert_string_equal(rx_wait_end(f, "run1"), "FAILED");
	assert_string_equal(entry(f, "run1", "s", "output"),
			    "{\"v\":\"***\",\"k\":{\"***\":1}}");
	assert_non_null(strstr(rx_stream(f, &r, PLANE_LOG), "same"));
	assert_non_null(strstr(entry(f, "run1", "sub", "error"),
			       "would carry a value marked isSecret"));
	assert_null(strstr(json_at(f, "run1", "status"), SECRET));
	assert_null(strstr(rx_stream(f, &r, PLANE_EVENTS), SECRET));
}

/* The child runs, is linked, and its output is the task's. */
static void sub_workflow(void **state)
{
	struct fx_plane *f = *state;
	char child[256];

	rx_open(f);
	rx_workflow(f, "child", "[{name: c, kind: SET, taskConfig: {variables:"
		    " {twice: '${ .n * 2 }'}}}]");
	run_one(f, "[{name: sub, kind: RUN, taskConfig: {workflow: child, "
		"input: {n: 21}}},"
		" {name: missing, kind: RUN, taskConfig: {workflow: nosuch}}]",
		NULL, "FAILED");
	assert_string_equal(entry(f, "run1", "sub", "output"),
			    "{\"twice\":42}");
	snprintf(child, sizeof(child), "%s",
		 entry(f, "run1", "sub", "childExecution.slug"));
	assert_true(strlen(child) > 2);
	child[strlen(child) - 1] = '\0';	/* the JSON quotes */
	assert_string_equal(rx_field(f, child + 1, "status.phase"),
			    "COMPLETED");
	assert_string_equal(rx_field(f, child + 1,
				     "spec.triggerMetadata.parentExecution"),
			    "run1");
	assert_non_null(strstr(entry(f, "run1", "missing", "error"),
			       "not found"));
}

/* A limit a child hits fails its parent too: no TRY around the RUN
 * workflow catches it.  A key named like a secret is not one. */
static void child_limit_not_caught(void **state)
{
	struct fx_plane *f = *state;

	f->lim.max_loop_iterations = 3;
	rx_open(f);
	rx_workflow(f, "child", "[{name: l, kind: FOR, taskConfig: {in: [1, 2,"
		    " 3, 4, 5], do: [{name: s, kind: SET, taskConfig: "
		    "{variables: {a: 1}}}]}}]");
	run_one(f, "[{name: g, kind: TRY, taskConfig: {try: [{name: sub, kind: "
		"RUN, taskConfig: {workflow: child, input: {token_count: 3}}}],"
		" catch: {do: [{name: c, kind: SET, taskConfig: {variables: "
		"{caught: true}}}]}}}, {name: after, kind: SET, taskConfig: "
		"{variables: {a: 1}}}]", NULL, "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "limit max_loop_iterations (3) exceeded: FOR loop "
			    "l has 5 items");
	assert_string_equal(entry(f, "run1", "g/catch/c", "status"),
			    "\"SKIPPED\"");
	assert_string_equal(entry(f, "run1", "after", "status"),
			    "\"SKIPPED\"");
}

/* Branches that waited for a slot cannot overshoot
 * max_total_operations. */
static void ops_not_overshot(void **state)
{
	struct fx_plane *f = *state;

	f->lim.max_total_operations = 3;
	f->lim.max_parallel = 1;
	rx_open(f);
	run_one(f, "[{name: f, kind: FORK, taskConfig: {branches: [{name: a, "
		"do: [{name: w, kind: WAIT, taskConfig: {seconds: 1}}]}, {name: "
		"b, do: [{name: w, kind: WAIT, taskConfig: {seconds: 1}}]}, "
		"{name: c, do: [{name: w, kind: WAIT, taskConfig: {seconds: 1}}"
		"]}, {name: d, do: [{name: w, kind: WAIT, taskConfig: {seconds:"
		" 1}}]}]}}]", NULL, "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "limit max_total_operations (3) exceeded");
	assert_string_equal(rx_field(f, "run1", "status.summary.completed"),
			    "2");
}

/* taskConfig.timeout bounds the wait for a child, which is cancelled. */
static void child_timeout(void **state)
{
	struct fx_plane *f = *state;
	char child[256];

	rx_open(f);
	rx_workflow(f, "child", "[{name: w, kind: WAIT, taskConfig: {seconds: "
		    "30}}]");
	rx_workflow(f, "wf", "[{name: sub, kind: RUN, taskConfig: {workflow: "
		    "child, timeout: 1}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end_within(f, "run1", 15), "FAILED");
	assert_string_equal(entry(f, "run1", "sub", "error"),
			    "\"timeout: task exceeded its timeout of 1 s\"");
	snprintf(child, sizeof(child), "%s",
		 entry(f, "run1", "sub", "childExecution.slug"));
	assert_true(strlen(child) > 2);
	child[strlen(child) - 1] = '\0';
	assert_string_equal(rx_field(f, child + 1, "status.phase"),
			    "CANCELLED");
}

/* 300 quick tasks do not mean 600 status commits. */
static void commits_spaced(void **state)
{
	struct fx_plane *f = *state;
	struct store_rec h;
	struct doc *res = NULL;

	f->lim.max_loop_iterations = 300;
	rx_open(f);
	run_one(f, "[{name: l, kind: FOR, taskConfig: {in: '${ [range(300)] }',"
		" do: [{name: s, kind: SET, taskConfig: {variables: {v: "
		"'${ $item }'}}}]}}]", NULL, "COMPLETED");
	assert_int_equal(record_load_slug(f->p, KIND_WORKFLOW_EXECUTION,
					  "run1", &h, &res), 0);
	doc_free(res);
	assert_true(h.gen < 100);
	assert_string_equal(rx_field(f, "run1", "status.summary.completed"),
			    "301");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(switch_no_match, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(for_edges, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(for_fault, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(fork_fault_cuts, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(end_and_late_retry, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(raise_forms, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(try_error_object, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(limit_not_caught, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(expression_fails, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(secret_results, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(sub_workflow, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(commits_spaced, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(child_limit_not_caught,
						rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(ops_not_overshot, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(child_timeout, rx_setup,
						rx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
