/*
 * test_expr.c - `${ }` templates over libjq: scanning, whole and
 * interpolated templates, variables, the program cache, validation of a
 * whole workflow's templates, runtime errors, the sandbox, conversions
 * between documents and jq values, JSON, rendering and truth; and the
 * evaluator process: out of memory, deadlines, cancelling, its fds and
 * limits, its cost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/expr.h"
#include "core/expr_i.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The state most tests run on. */
static const char state_json[] =
    "{\"a\":1,\"s\":\"x}y\",\"o\":{\"b\":[1,2]},\"n\":null,"
    "\"f\":1.5,\"t\":true}";

/* A doc from JSON text (which must parse). */
static struct doc *J(const char *json)
{
	struct doc *d = NULL;

	assert_int_equal(expr_json_parse(json, strlen(json), &d), 0);
	return d;
}

/* @d as compact JSON, in a static buffer. */
static const char *dump(const struct doc *d)
{
	static char text[4096];
	struct buf b = BUF_INIT(sizeof(text) - 1);

	assert_int_equal(expr_json_dump(d, &b), 0);
	memcpy(text, b.data, b.len + 1);
	buf_release(&b);
	return text;
}

/*
 * The runner makes a task's input `.` (expr_set_dot()) and keeps its
 * runtime arguments in the state; most cases here only need a `.`, so
 * the state and `.` move together: set_input()/set_key() change both.
 */
static struct doc *g_dot;
static struct doc *g_old[64];	/* earlier dots, still some cache's */
static size_t g_nold;

static void dot_reset(void)
{
	doc_free(g_dot);
	g_dot = NULL;
	while (g_nold)
		doc_free(g_old[--g_nold]);
}

/* A new dot: the old one stays alive (another cache may point at it). */
static void dot_retire(void)
{
	if (g_dot && g_nold == ARRAY_LEN(g_old))
		fail_msg("too many dots in one test");
	if (g_dot)
		g_old[g_nold++] = g_dot;
	g_dot = NULL;
}

static int td(void **state)
{
	(void)state;
	dot_reset();
	return 0;
}

static int set_input(struct expr_cache *c, const struct doc *in)
{
	int rc = expr_set_input(c, in);

	if (rc == 0) {
		dot_retire();
		g_dot = doc_clone(in);
		expr_set_dot(c, g_dot);
	}
	return rc;
}

static int set_key(struct expr_cache *c, const char *key,
		   const struct doc *v)
{
	int rc = expr_set_key(c, key, v);

	/* ... and $context[key], so that the state is seen to survive a new
	   evaluator (still_works()) */
	if (rc == 0)
		rc = expr_set_member(c, "context", key, v);
	if (rc == 0) {
		if (!g_dot)
			g_dot = doc_new(DOC_MAP);
		doc_map_set(g_dot, key, doc_clone(v));
		expr_set_dot(c, g_dot);
	}
	return rc;
}

/* A cache whose input is @json (NULL: state_json). */
static struct expr_cache *cache_on(const char *json)
{
	struct expr_cache *c = NULL;
	struct doc *in = J(json ? json : state_json);

	assert_int_equal(expr_cache_new(&c), 0);
	assert_int_equal(set_input(c, in), 0);
	doc_free(in);
	return c;
}

/* Evaluate @t (a C string) and expect success; the caller frees. */
static struct doc *eval_z(struct expr_cache *c, const char *t,
			  const struct doc *vars)
{
	struct doc *out = NULL;
	char msg[256] = "";
	int rc = expr_eval(c, t, strlen(t), vars, &out, msg, sizeof(msg));

	if (rc != 0)
		fail_msg("%s: rc %d, %s", t, rc, msg);
	return out;
}

/* Evaluate @t and expect failure @rc with a message holding @part. */
static void eval_fails(struct expr_cache *c, const char *t, size_t n,
		       const struct doc *vars, int want, const char *part)
{
	struct doc *out = NULL;
	char msg[256] = "";
	int rc = expr_eval(c, t, n, vars, &out, msg, sizeof(msg));

	if (rc != want || !strstr(msg, part))
		fail_msg("%.60s: rc %d (want %d), msg '%s' (want '%s')", t, rc,
			 want, msg, part);
	assert_null(out);
}

struct case_ok {
	const char *t;
	enum doc_type type;
	const char *json;
};

static void run_ok_cases(const struct case_ok *cases, size_t n,
			 const struct doc *vars)
{
	struct expr_cache *c = cache_on(NULL);
	struct doc *d;
	size_t k;

	for (k = 0; k < n; k++) {
		d = eval_z(c, cases[k].t, vars);
		/* A float's own text, not jq's spelling of it. */
		if (d->type != cases[k].type ||
		    strcmp(d->type == DOC_FLOAT || d->type == DOC_INT ? d->u.s
								      : dump(d),
			   cases[k].json))
			fail_msg("%s: got %s %s, want %s %s", cases[k].t,
				 doc_type_name(d->type), dump(d),
				 doc_type_name(cases[k].type), cases[k].json);
		doc_free(d);
	}
	expr_cache_free(c);
}

/* Whole templates keep the type; anything else is a string. */
static void test_templates(void **state)
{
	static const struct case_ok cases[] = {
	    {"${ .a }", DOC_INT, "1"},
	    {" \n ${.a}\t ", DOC_INT, "1"},
	    {"${ {a: 1} }", DOC_MAP, "{\"a\":1}"},
	    {"${ {a: {b: 2}} | .a.b }", DOC_INT, "2"},
	    {"${ \"}\" }", DOC_STR, "\"}\""},
	    {"${ \"{\" }", DOC_STR, "\"{\""},
	    {"${ \"a\\\"}\" }", DOC_STR, "\"a\\\"}\""},
	    {"${ \"\\\\\" + \"}\" }", DOC_STR, "\"\\\\}\""},
	    {"${ \"v\\(.a)\" }", DOC_STR, "\"v1\""},
	    {"${ \"<\\(\"}\" + \")\")>\" }", DOC_STR, "\"<})>\""},
	    {"${ \"\\( {a: \"(\"} | .a )\" }", DOC_STR, "\"(\""},
	    {"${ .s }", DOC_STR, "\"x}y\""},
	    {"${ .o }", DOC_MAP, "{\"b\":[1,2]}"},
	    {"${ .o.b }", DOC_LIST, "[1,2]"},
	    {"${ .n }", DOC_NULL, "null"},
	    {"${ .t }", DOC_BOOL, "true"},
	    {"${ .f }", DOC_FLOAT, "1.5"},
	    {"${ empty }", DOC_NULL, "null"},
	    {"${ .a, 2 }", DOC_INT, "1"},
	    {"${ 1 # a comment }\n}", DOC_INT, "1"},
	    {"${ [.a] | .[0] }", DOC_INT, "1"},
	    {"x${ .a }y", DOC_STR, "\"x1y\""},
	    {"${.a}${.a}", DOC_STR, "\"11\""},
	    {"${ .a } ${ .a }", DOC_STR, "\"1 1\""},
	    {"${ .o }!", DOC_STR, "\"{\\\"b\\\":[1,2]}!\""},
	    {"a ${ .n } b ${ .t } ${ .f }", DOC_STR, "\"a null b true 1.5\""},
	    {"[${ .s }]", DOC_STR, "\"[x}y]\""},
	    {"${ empty }-", DOC_STR, "\"null-\""},
	    {"$${ .a }", DOC_STR, "\"$1\""},
	    {"$ {.a} and {} and $", DOC_STR, "\"$ {.a} and {} and $\""},
	    {"", DOC_STR, "\"\""},
	};

	(void)state;
	run_ok_cases(cases, ARRAY_LEN(cases), NULL);
}

/* Templates refused before jq sees them. */
static void test_scan_errors(void **state)
{
	static const struct {
		const char *t;
		const char *part;
	} cases[] = {
	    {"${ .a", "unterminated ${"},
	    {"x ${ .a } ${", "unterminated ${"},
	    {"${ \"abc }", "unterminated string"},
	    {"${ \"\\(1 }", "unbalanced"},
	    {"${ \"\\(1", "unterminated ${"},
	    {"${ 1) , (env }", "unbalanced"},
	    {"${ 1 ) | env | ( 1 }", "unbalanced"},
	    {"${ ] }", "unbalanced"},
	    {"${ (1 }", "unbalanced"},
	    {"${ [1 }", "unbalanced"},
	    {"${ [1) }", "unbalanced"},
	    {"${ }", "empty ${ }"},
	    {"${ \n\t }", "empty ${ }"},
	    {"${ 1 # }", "unterminated ${"},
	    {"${ 1 #(\n ) , (env }", "unbalanced"},
	};
	struct expr_cache *c = cache_on(NULL);
	char deep[700];
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++)
		eval_fails(c, cases[k].t, strlen(cases[k].t), NULL, -EINVAL,
			   cases[k].part);
	memcpy(deep, "${ ", 3);
	memset(deep + 3, '(', 300);
	memset(deep + 303, ')', 300);
	memcpy(deep + 603, " }", 3);
	eval_fails(c, deep, strlen(deep), NULL, -EINVAL, "nested too deeply");
	/* Only `.a` of "x ${ .a } ${" was compiled: the scan is lazy. */
	assert_int_equal(expr_cache_size(c), 1);
	expr_cache_free(c);
}

static void test_too_long(void **state)
{
	struct expr_cache *c = cache_on(NULL);
	size_t n = EXPR_TEXT_MAX + 1;
	char *t = malloc(n);
	struct doc *d;

	(void)state;
	assert_non_null(t);
	memset(t, ' ', n);
	memcpy(t, "${ 1 }", 6);
	eval_fails(c, t, n, NULL, -EINVAL, "too long");
	/* One byte less is accepted (a whole template with blanks). */
	d = NULL;
	assert_int_equal(expr_eval(c, t, n - 1, NULL, &d, NULL, 0), 0);
	assert_string_equal(dump(d), "1");
	doc_free(d);
	free(t);
	expr_cache_free(c);
}

/* Compile errors come with jq's message, cut of our program's text. */
static void test_compile_errors(void **state)
{
	static const struct {
		const char *t;
		const char *part;
	} cases[] = {
	    {"${ .a + }", "expression does not compile: syntax error"},
	    {"${ $x }", "expression does not compile: $x is not defined"},
	    {"${ foo }", "expression does not compile: foo/0 is not defined"},
	    {"${ import \"a\" as a; 1 }", "does not compile"},
	    {"${ include \"a\"; 1 }", "does not compile"},
	};
	struct expr_cache *c = cache_on(NULL);
	char msg[256];
	struct doc *d = NULL;
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++)
		eval_fails(c, cases[k].t, strlen(cases[k].t), NULL, -EINVAL,
			   cases[k].part);
	/* The message stops before " at <top-level>" and the program. */
	assert_int_equal(
	    expr_eval(c, "${ foo }", 8, NULL, &d, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(
	    msg, "expression does not compile: foo/0 is not defined");
	assert_int_equal(expr_cache_size(c), 0);
	expr_cache_free(c);
}

/* Errors raised by jq while running. */
static void test_runtime_errors(void **state)
{
	static const struct {
		const char *t;
		const char *part;
	} cases[] = {
	    {"${ error(\"boom\") }", "expression failed: boom"},
	    {"x ${ error(\"boom\") }", "expression failed: boom"},
	    {"${ error({a: 1}) }", "expression failed: {\"a\":1}"},
	    {"${ error(5) }", "expression failed: 5"},
	    {"${ .a.b }",
	     "expression failed: Cannot index number with string \"b\""},
	    {"${ .a + \"x\" }", "expression failed: number (1) and string"},
	    {"${ halt }", "expression failed: halted"},
	    {"${ \"x\" | halt_error }", "expression failed: halted"},
	    {"${ \"(\" | test(\"(\") }", "expression failed: Regex failure"},
	};
	struct expr_cache *c = cache_on(NULL);
	struct doc *d = NULL;
	char small[12];
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++)
		eval_fails(c, cases[k].t, strlen(cases[k].t), NULL, -EINVAL,
			   cases[k].part);
	/* The message is cut to the caller's buffer. */
	assert_int_equal(expr_eval(c, "${ error(\"boom\") }", 18, NULL, &d,
				   small, sizeof(small)),
			 -EINVAL);
	assert_string_equal(small, "expression ");
	/* No buffer at all is fine. */
	assert_int_equal(
	    expr_eval(c, "${ error(\"boom\") }", 18, NULL, &d, NULL, 0),
	    -EINVAL);
	/* A program that halted is compiled again when used again (jq 1.6
	   cannot reset it safely); the cache keeps its place. */
	k = expr_cache_size(c);
	eval_fails(c, "${ if .a == 1 then halt else .a end }", 37, NULL,
		   -EINVAL, "halted");
	eval_fails(c, "${ \"x\" | halt_error }", 21, NULL, -EINVAL, "halted");
	assert_int_equal(expr_cache_size(c), k + 1);
	d = doc_int(2);
	assert_int_equal(set_key(c, "a", d), 0);
	doc_free(d);
	d = eval_z(c, "${ if .a == 1 then halt else .a end }", NULL);
	assert_string_equal(dump(d), "2");
	doc_free(d);
	assert_int_equal(expr_cache_size(c), k + 1);
	expr_cache_free(c);
}

/* Run @fn with stderr sent to a file; return what was written there. */
static size_t stderr_bytes_during(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	long size;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	size = ftell(tmp) >= 0 ? lseek(fileno(tmp), 0, SEEK_END) : -1;
	fclose(tmp);
	assert_true(size >= 0);
	return (size_t)size;
}

static void noisy_evals(void)
{
	static const char *const ts[] = {
	    "${ stderr }",
	    "${ debug }",
	    "${ .a + }",
	    "${ nope }",
	    "${ \"x\" | halt_error }",
	    "${ input }",
	};
	struct expr_cache *c = cache_on(NULL);
	struct doc *d;
	size_t k;

	for (k = 0; k < ARRAY_LEN(ts); k++) {
		d = NULL;
		expr_eval(c, ts[k], strlen(ts[k]), NULL, &d, NULL, 0);
		doc_free(d);
	}
	expr_cache_free(c);
}

/* Nothing reaches outside the run: environment, input, stderr, modules. */
static void test_sandbox(void **state)
{
	static const struct case_ok cases[] = {
	    {"${ env }", DOC_MAP, "{}"},
	    {"${ $ENV }", DOC_MAP, "{}"},
	    {"${ $ENV.EXPR_TEST_SECRET }", DOC_NULL, "null"},
	    {"${ env.EXPR_TEST_SECRET }", DOC_NULL, "null"},
	    {"${ env | length }", DOC_INT, "0"},
	    {"${ [inputs] }", DOC_LIST, "[]"},
	    {"${ input_filename }", DOC_NULL, "null"},
	    {"${ input_line_number }", DOC_NULL, "null"},
	    {"${ get_search_list }", DOC_LIST, "[]"},
	    {"${ .a | debug }", DOC_INT, "1"},
	    {"${ .a | stderr }", DOC_INT, "1"},
	    {"${ try input catch . }", DOC_STR, "\"input is not available\""},
	    {"${ try (\"x\" | modulemeta) catch . }", DOC_STR,
	     "\"modules are not available\""},
	};

	(void)state;
	assert_int_equal(setenv("EXPR_TEST_SECRET", "hunter2", 1), 0);
	run_ok_cases(cases, ARRAY_LEN(cases), NULL);
	assert_int_equal(stderr_bytes_during(noisy_evals), 0);
	unsetenv("EXPR_TEST_SECRET");
}

/* Variables are bound as $name; names are checked. */
static void test_variables(void **state)
{
	static const struct case_ok cases[] = {
	    {"${ $item * 2 }", DOC_INT, "10"},
	    {"${ $index }", DOC_INT, "0"},
	    {"${ \"\\($item)-\\($index)\" }", DOC_STR, "\"5-0\""},
	    {"#${ $index }: ${ $err.type }", DOC_STR, "\"#0: t\""},
	    {"${ [$item, .a] }", DOC_LIST, "[5,1]"},
	    {"${ .item }", DOC_NULL, "null"}, /* `.` is the state */
	};
	struct doc *vars =
	    J("{\"item\":5,\"index\":0,\"err\":{\"type\":\"t\"}}");
	struct doc *bad = J("{\"1x\":1}");
	struct doc *many = doc_new(DOC_MAP);
	struct expr_cache *c = cache_on(NULL);
	char name[16];
	int k;

	(void)state;
	run_ok_cases(cases, ARRAY_LEN(cases), vars);
	eval_fails(c, "${ $other }", 11, vars, -EINVAL,
		   "$other is not defined");
	eval_fails(c, "${ 1 }", 6, bad, -EINVAL, "invalid variable name");
	for (k = 0; k <= EXPR_VARS_MAX; k++) {
		snprintf(name, sizeof(name), "v%d", k);
		assert_int_equal(doc_map_set(many, name, doc_int(k)), 0);
	}
	eval_fails(c, "${ 1 }", 6, many, -EINVAL, "too many variables");
	doc_free(doc_map_take(many, "v0"));
	doc_free(eval_z(c, "${ $v16 }", many));
	doc_free(many);
	doc_free(bad);
	doc_free(vars);
	expr_cache_free(c);
}

static void test_var_ok(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
	    {"item", true}, {"Item_2", true}, {"a", true},    {"", false},
	    {"_a", false},  {"2a", false},    {"a-b", false}, {"a b", false},
	    {"a$", false},  {"é", false},
	};
	char longest[EXPR_VAR_MAX + 2];
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++)
		if (expr_var_ok(cases[k].name) != cases[k].ok)
			fail_msg("%s", cases[k].name);
	assert_false(expr_var_ok(NULL));
	memset(longest, 'a', sizeof(longest));
	longest[EXPR_VAR_MAX] = '\0';
	assert_true(expr_var_ok(longest));
	longest[EXPR_VAR_MAX] = 'a';
	longest[EXPR_VAR_MAX + 1] = '\0';
	assert_false(expr_var_ok(longest));
}

static void test_has(void **state)
{
	(void)state;
	assert_true(expr_has("${", 2));
	assert_true(expr_has("a $${x", 6));
	assert_false(expr_has("${", 1));
	assert_false(expr_has("$ {", 3));
	assert_false(expr_has("$x {}", 5));
	assert_false(expr_has(NULL, 0));
	assert_true(expr_has("a\0${", 4));
}

/* One program per distinct expression and variable names. */
static void test_cache(void **state)
{
	struct expr_cache *c = cache_on(NULL);
	struct doc *vars = J("{\"item\":1}");
	char t[64];
	int k;

	(void)state;
	assert_int_equal(expr_cache_size(c), 0);
	doc_free(eval_z(c, "${ .a }", NULL));
	assert_int_equal(expr_cache_size(c), 1);
	doc_free(eval_z(c, "${ .a }", NULL));
	doc_free(eval_z(c, "  ${ .a }", NULL));
	doc_free(eval_z(c, "x ${ .a } ${ .a }", NULL));
	assert_int_equal(expr_cache_size(c), 1);
	doc_free(eval_z(c, "${ .a }", vars)); /* binds $item: another */
	assert_int_equal(expr_cache_size(c), 2);
	doc_free(eval_z(c, "${.a}", NULL)); /* another text */
	assert_int_equal(expr_cache_size(c), 3);
	/* Past the limit programs still run, compiled for one use. */
	for (k = 0; k < EXPR_CACHE_MAX + 3; k++) {
		struct doc *d;

		snprintf(t, sizeof(t), "${ .a + %d }", k);
		d = eval_z(c, t, NULL);
		assert_int_equal(d->i, 1 + k);
		doc_free(d);
	}
	assert_int_equal(expr_cache_size(c), EXPR_CACHE_MAX);
	doc_free(eval_z(c, "${ .a }", NULL)); /* still kept */
	assert_int_equal(expr_cache_size(c), EXPR_CACHE_MAX);
	assert_int_equal(expr_cache_size(NULL), 0);
	doc_free(vars);
	expr_cache_free(c);
	expr_cache_free(NULL);
}

/* The DSL's runtime arguments come from the state, `.` from the caller;
 * Stigmer's placeholders name the state's __env. */
static void test_runtime_args(void **state)
{
	struct expr_cache *c = NULL;
	struct doc *st = J("{\"context\":{\"t1\":{\"x\":1}},"
			   "\"secrets\":{\"TOKEN\":\"s3\"},"
			   "\"workflow\":{\"id\":\"wex-1\"},"
			   "\"runtime\":{\"name\":\"execfs\"},"
			   "\"__env\":{\"TOKEN\":\"s3\",\"REGION\":\"eu\"}}");
	struct doc *dot = J("{\"secrets\":{\"TOKEN\":\"dot\"},\"n\":5}");
	struct doc *vars = J("{\"input\":{\"i\":1},\"task\":{\"name\":\"t2\"},"
			     "\"item\":7}");
	struct doc *v = J("{\"y\":2}"), *d;
	static const struct {
		const char *t, *want;
	} ok[] = {
		{"${ .n }", "5"},
		{"${ $context.t1.x }", "1"},
		{"${ $context[\"t1\"].x }", "1"},
		{"${ $secrets.TOKEN }", "\"s3\""},
		{"${ $workflow.id }", "\"wex-1\""},
		{"${ $runtime.name }", "\"execfs\""},
		{"${ $input.i }", "1"},
		{"${ $task.name }", "\"t2\""},
		{"${ $output }", "null"},
		{"${ $item }", "7"},
		{"${.secrets.TOKEN}", "\"s3\""},
		{"${ .env_vars.REGION }", "\"eu\""},
		{"${.secrets.REGION}", "\"eu\""},
		{"${ .secrets.token }", "null"},		/* not one: jq */
		{"${ .secrets.TOKEN | length }", "3"},	/* not one: "dot" */
		{"at ${.env_vars.REGION}!", "\"at eu!\""},
	};
	size_t k;

	(void)state;
	assert_int_equal(expr_cache_new(&c), 0);
	assert_int_equal(expr_set_input(c, st), 0);
	expr_set_dot(c, dot);
	for (k = 0; k < ARRAY_LEN(ok); k++) {
		d = eval_z(c, ok[k].t, vars);
		if (strcmp(dump(d), ok[k].want))
			fail_msg("%s: %s, want %s", ok[k].t, dump(d),
				 ok[k].want);
		doc_free(d);
	}
	eval_fails(c, "${.secrets.NOPE}", 16, vars, -EINVAL,
		   "failed to resolve runtime placeholders: secrets.NOPE");
	eval_fails(c, "${ .env_vars.NOPE }", 19, vars, -EINVAL,
		   "env_vars.NOPE");
	/* a member set later, while no evaluator runs too */
	assert_int_equal(expr_set_member(c, "context", "t2", v), 0);
	d = eval_z(c, "${ [$context.t1.x, $context.t2.y] }", NULL);
	assert_string_equal(dump(d), "[1,2]");
	doc_free(d);
	expr_cache_free(c);
	doc_free(st);
	doc_free(dot);
	doc_free(vars);
	doc_free(v);
	assert_true(expr_var_reserved("context"));
	assert_true(expr_var_reserved("task"));
	assert_false(expr_var_reserved("item"));
}

/* The input: set whole, then key by key. */
static void test_input(void **state)
{
	struct expr_cache *c = NULL;
	struct doc *d, *v = J("{\"x\":[1]}"), *list = J("[1]");

	(void)state;
	assert_int_equal(expr_cache_new(&c), 0);
	d = eval_z(c, "${ . }", NULL); /* no `.` set: null */
	assert_string_equal(dump(d), "null");
	doc_free(d);
	assert_int_equal(set_key(c, "a", v), 0);
	d = eval_z(c, "${ .a.x[0] }", NULL);
	assert_string_equal(dump(d), "1");
	doc_free(d);
	doc_free(v);
	v = doc_int(2);
	assert_int_equal(set_key(c, "a", v), 0);
	assert_int_equal(set_key(c, "b", v), 0);
	doc_free(v);
	d = eval_z(c, "${ . }", NULL);
	assert_string_equal(dump(d), "{\"a\":2,\"b\":2}");
	doc_free(d);
	assert_int_equal(set_input(c, list), -EINVAL);
	assert_int_equal(set_input(c, NULL), -EINVAL);
	doc_free(list);
	v = J("{\"z\":true}");
	assert_int_equal(set_input(c, v), 0);
	doc_free(v);
	d = eval_z(c, "${ . }", NULL);
	assert_string_equal(dump(d), "{\"z\":true}");
	doc_free(d);
	expr_cache_free(c);
}

struct check_case {
	const char *texts[4];
	size_t n;
	int rc;
	size_t bad;
	const char *part;
};

static void run_check(const struct check_case *cc, const char *const *vars,
		      size_t nvars)
{
	struct expr_src src[4];
	char msg[256] = "";
	size_t k, bad = 99;
	int rc;

	for (k = 0; k < cc->n; k++) {
		src[k].text = cc->texts[k];
		src[k].len = strlen(cc->texts[k]);
		src[k].vars = vars;
		src[k].nvars = nvars;
	}
	rc = expr_check_all(src, cc->n, &bad, msg, sizeof(msg));
	if (rc != cc->rc || (rc && (bad != cc->bad || !strstr(msg, cc->part))))
		fail_msg("%s...: rc %d bad %zu msg '%s'", cc->texts[0], rc, bad,
			 msg);
	if (!rc)
		assert_int_equal(bad, 99); /* untouched on success */
}

/* A workflow's templates checked together; the first bad one reported. */
static void test_check_all(void **state)
{
	static const struct check_case cases[] = {
	    {{"${ .a }", "x ${ $item } y", "plain", "${ {a: 1} }"},
	     4,
	     0,
	     0,
	     ""},
	    {{"${ .a }", "${ 1 }", "${ .a + }", "${ nope }"},
	     4,
	     -EINVAL,
	     2,
	     "syntax error"},
	    {{"${ .a }", "${ nope }", "${ .a + }"},
	     3,
	     -EINVAL,
	     1,
	     "nope/0 is not defined"},
	    {{"${ 1 }", "${ (1 }", "${ nope }"}, 3, -EINVAL, 1, "unbalanced"},
	    {{"${ nope }", "${ (1 }"}, 2, -EINVAL, 0, "nope/0"},
	    {{"${ 1 }", "${ 2 }", "${ 3 ) , ( 4 }"},
	     3,
	     -EINVAL,
	     2,
	     "unbalanced"},
	    {{"${ $other }"}, 1, -EINVAL, 0, "$other is not defined"},
	    {{"${ 1 # note }\n}", "${ 2 }"}, 2, 0, 0, ""},
	    {{"none", "at all"}, 2, 0, 0, ""},
	    {{"${ env }", "${ $ENV }", "${ input }"}, 3, 0, 0, ""},
	    {{NULL}, 0, 0, 0, ""},
	};
	static const char *const vars[] = {"item", "index"};
	static const char *const badvars[] = {"item", "9"};
	static const struct check_case one = {
	    {"${ 1 }"}, 1, -EINVAL, 0, "invalid variable name"};
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++)
		run_check(&cases[k], vars, 2);
	run_check(&one, badvars, 2);
}

/* The bad template is found among many (by a search over prefixes). */
static void test_check_many(void **state)
{
	static const size_t where[] = {0, 1, 20, 38, 39};
	static char texts[40][48];
	struct expr_src src[40];
	char msg[128];
	size_t k, w, bad;

	(void)state;
	for (w = 0; w < ARRAY_LEN(where); w++) {
		for (k = 0; k < 40; k++) {
			snprintf(texts[k], sizeof(texts[k]),
				 k == where[w] ? "a ${ nope%zu } b"
					       : "a ${ .x + %zu } b",
				 k);
			src[k] = (struct expr_src){texts[k], strlen(texts[k]),
						   NULL, 0};
		}
		bad = 99;
		assert_int_equal(
		    expr_check_all(src, 40, &bad, msg, sizeof(msg)), -EINVAL);
		assert_int_equal(bad, where[w]);
		snprintf(texts[0], sizeof(texts[0]), "nope%zu/0 is not defined",
			 where[w]);
		assert_string_equal(msg, texts[0]);
	}
}

static void test_check_too_long(void **state)
{
	struct expr_src src[2];
	char *t = malloc(EXPR_TEXT_MAX + 1);
	char msg[64];
	size_t bad = 9;

	(void)state;
	assert_non_null(t);
	memset(t, ' ', EXPR_TEXT_MAX + 1);
	memcpy(t, "${ 1 }", 6);
	src[0] = (struct expr_src){"${ 1 }", 6, NULL, 0};
	src[1] = (struct expr_src){t, EXPR_TEXT_MAX + 1, NULL, 0};
	assert_int_equal(expr_check_all(src, 2, &bad, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(bad, 1);
	assert_string_equal(msg, "expression too long");
	free(t);
}

/* Numbers: ints while whole and within int64, else shortest floats. */
static void test_numbers(void **state)
{
	static const struct case_ok cases[] = {
	    {"${ 42 }", DOC_INT, "42"},
	    {"${ -7 }", DOC_INT, "-7"},
	    {"${ 2.0 }", DOC_INT, "2"},
	    {"${ -0 }", DOC_INT, "0"},
	    {"${ 1.5 }", DOC_FLOAT, "1.5"},
	    {"${ 0.1 + 0.2 }", DOC_FLOAT, "0.30000000000000004"},
	    {"${ 1e20 }", DOC_FLOAT, "1e+20"},
	    {"${ 1e300 }", DOC_FLOAT, "1e+300"},
	    {"${ 9223372036854775807 }", DOC_FLOAT, "9.223372036854776e+18"},
	    {"${ -9223372036854775808 }", DOC_FLOAT, "-9.223372036854776e+18"},
	    {"${ 9223372036854774784 }", DOC_INT, "9223372036854774784"},
	    {"${ 9007199254740993 }", DOC_INT, "9007199254740992"},
	    {"${ 1/3 }", DOC_FLOAT, "0.3333333333333333"},
	    {"${ nan }", DOC_NULL, "null"},
	    {"${ infinite }", DOC_NULL, "null"},
	    {"${ -infinite }", DOC_NULL, "null"},
	    {"${ 1e-300 }", DOC_FLOAT, "1e-300"},
	    {"${ -2.5e-7 }", DOC_FLOAT, "-2.5e-07"},
	    {"${ .f * 2 }", DOC_INT, "3"},
	    {"n=${ 1.5 }", DOC_STR, "\"n=1.5\""},
	};

	(void)state;
	run_ok_cases(cases, ARRAY_LEN(cases), NULL);
}

/* Document scalars reach jq with their values. */
static void test_doc_to_jq(void **state)
{
	struct expr_cache *c = NULL;
	struct doc *in = doc_new(DOC_MAP), *d;
	static const struct {
		const char *t;
		const char *json;
	} cases[] = {
	    {"${ .i }", "-9007199254740991"},
	    {"${ .f }", "0.25"},
	    {"${ .inf > 1e308 }", "true"},
	    {"${ .ninf < -1e308 }", "true"},
	    {"${ .nan | isnan }", "true"},
	    {"${ .big }", "1e+30"},
	    {"${ .nul | length }", "3"},
	    {"${ .nul | explode }", "[97,0,98]"},
	    {"${ .sealed }", "\"***\""},
	    {"${ .b }", "false"},
	    {"${ .z }", "null"},
	    {"${ .m | keys_unsorted }", "[\"z\",\"a\"]"},
	    {"${ .nul }", "\"a\\u0000b\""},
	};
	size_t k;

	(void)state;
	assert_int_equal(doc_map_set(in, "i", doc_int(-9007199254740991)), 0);
	assert_int_equal(doc_map_set(in, "f", doc_float_text("0.25")), 0);
	assert_int_equal(doc_map_set(in, "inf", doc_float_text(".inf")), 0);
	assert_int_equal(doc_map_set(in, "ninf", doc_float_text("-.inf")), 0);
	assert_int_equal(doc_map_set(in, "nan", doc_float_text(".nan")), 0);
	assert_int_equal(doc_map_set(in, "big", doc_float_text("1e30")), 0);
	assert_int_equal(doc_map_set(in, "nul", doc_str("a\0b", 3)), 0);
	assert_int_equal(doc_map_set(in, "sealed", doc_sealed("\x01k", 2)), 0);
	assert_int_equal(doc_map_set(in, "b", doc_bool(false)), 0);
	assert_int_equal(doc_map_set(in, "z", doc_new(DOC_NULL)), 0);
	assert_int_equal(doc_map_set(in, "m", J("{\"z\":1,\"a\":2}")), 0);
	assert_int_equal(expr_cache_new(&c), 0);
	assert_int_equal(set_input(c, in), 0);
	for (k = 0; k < ARRAY_LEN(cases); k++) {
		d = eval_z(c, cases[k].t, NULL);
		if (strcmp(dump(d), cases[k].json))
			fail_msg("%s: %s", cases[k].t, dump(d));
		doc_free(d);
	}
	/* A string with NUL comes back whole; in text too. */
	d = eval_z(c, "${ .nul }", NULL);
	assert_int_equal(d->type, DOC_STR);
	assert_int_equal(d->n, 3);
	assert_memory_equal(d->u.s, "a\0b", 3);
	doc_free(d);
	d = eval_z(c, "<${ .nul }>", NULL);
	assert_int_equal(d->n, 5);
	assert_memory_equal(d->u.s, "<a\0b>", 5);
	doc_free(d);
	doc_free(in);
	expr_cache_free(c);
}

/* @levels nested lists around 0. */
static struct doc *nested(int levels)
{
	struct doc *d = doc_int(0), *l;

	while (levels-- > 0) {
		l = doc_new(DOC_LIST);
		assert_int_equal(doc_list_add(l, d), 0);
		d = l;
	}
	return d;
}

/* DOC_DEPTH_MAX containers deep is the most, both ways. */
static void test_depth(void **state)
{
	struct expr_cache *c = cache_on(NULL);
	struct doc *in = doc_new(DOC_MAP), *d = NULL;
	struct buf b = BUF_INIT(1 << 20);
	char t[128];

	(void)state;
	assert_int_equal(doc_map_set(in, "l", nested(DOC_DEPTH_MAX - 1)), 0);
	assert_int_equal(set_input(c, in), 0);
	assert_int_equal(doc_map_set(in, "l", nested(DOC_DEPTH_MAX)), 0);
	assert_int_equal(set_input(c, in), -EFBIG);
	assert_int_equal(set_key(c, "l", doc_map_get(in, "l")), -EFBIG);
	assert_int_equal(expr_json_dump(in, &b), -EFBIG);
	doc_free(in);
	snprintf(t, sizeof(t), "${ reduce range(%d) as $i (0; [.]) }",
		 DOC_DEPTH_MAX);
	d = eval_z(c, t, NULL);
	assert_int_equal(d->type, DOC_LIST);
	doc_free(d);
	snprintf(t, sizeof(t), "${ reduce range(%d) as $i (0; [.]) }",
		 DOC_DEPTH_MAX + 1);
	eval_fails(c, t, strlen(t), NULL, -EFBIG, "too big");
	snprintf(t, sizeof(t), "x${ reduce range(%d) as $i (0; [.]) }",
		 DOC_DEPTH_MAX + 1);
	eval_fails(c, t, strlen(t), NULL, -EFBIG, "too big");
	buf_release(&b);
	expr_cache_free(c);
}

/* Object keys keep jq's order; a key holding NUL cannot be a doc key. */
static void test_keys(void **state)
{
	struct expr_cache *c = cache_on(NULL);
	struct doc *d;
	const char *t = "${ [range(3000)] | map({key: \"k\\(2999 - .)\", "
			"value: .}) | from_entries }";
	char key[16];
	size_t k;

	(void)state;
	d = eval_z(c, t, NULL);
	assert_int_equal(d->type, DOC_MAP);
	assert_int_equal(d->n, 3000);
	for (k = 0; k < d->n; k++) {
		snprintf(key, sizeof(key), "k%zu", 2999 - k);
		assert_string_equal(d->u.kv[k].key, key);
		assert_int_equal(d->u.kv[k].val->i, (int64_t)k);
	}
	doc_free(d);
	eval_fails(c, "${ {\"a\\u0000b\": 1, a: 2} }", 26, NULL, -EINVAL,
		   "key with NUL");
	d = eval_z(c, "${ {\"a\\u0000b\": 1} | keys[0] | length }", NULL);
	assert_int_equal(d->i, 3);
	doc_free(d);
	expr_cache_free(c);
}

/* Results past EXPR_OUT_MAX bytes are refused. */
static void test_too_big(void **state)
{
	struct expr_cache *c = cache_on(NULL);
	char t[128];
	struct doc *d;

	(void)state;
	snprintf(t, sizeof(t), "${ \"x\" * %u }", EXPR_OUT_MAX + 1);
	eval_fails(c, t, strlen(t), NULL, -EFBIG, "too big");
	snprintf(t, sizeof(t), "x${ \"x\" * %u }", EXPR_OUT_MAX);
	eval_fails(c, t, strlen(t), NULL, -EFBIG, "too big");
	snprintf(t, sizeof(t), "${ [range(%u)] }", EXPR_OUT_MAX / 2);
	eval_fails(c, t, strlen(t), NULL, -EFBIG, "too big");
	snprintf(t, sizeof(t), "${ \"x\" * %u | length }", EXPR_OUT_MAX - 100);
	d = eval_z(c, t, NULL);
	assert_int_equal(d->i, EXPR_OUT_MAX - 100);
	doc_free(d);
	expr_cache_free(c);
}

static void test_json(void **state)
{
	static const struct {
		const char *in;
		int rc;
		enum doc_type type;
		const char *out;
	} cases[] = {
	    {"1", 0, DOC_INT, "1"},
	    {" -2 ", 0, DOC_INT, "-2"},
	    {"1.25", 0, DOC_FLOAT, "1.25"},
	    {"1e400", 0, DOC_NULL, "null"}, /* jq reads inf */
	    {"\"a\\u0000\"", 0, DOC_STR, "\"a\\u0000\""},
	    {"[1,{\"a\":null}]", 0, DOC_LIST, "[1,{\"a\":null}]"},
	    {"{\"b\":1,\"a\":[true,false]}", 0, DOC_MAP,
	     "{\"b\":1,\"a\":[true,false]}"},
	    {"{\"a\":1,\"a\":2}", 0, DOC_MAP, "{\"a\":2}"},
	    {"", -EINVAL, DOC_NULL, ""},
	    {"   ", -EINVAL, DOC_NULL, ""},
	    {"1 2", -EINVAL, DOC_NULL, ""},
	    {"{", -EINVAL, DOC_NULL, ""},
	    {"[1,]", -EINVAL, DOC_NULL, ""},
	    {"{a:1}", -EINVAL, DOC_NULL, ""},
	    {"\"abc", -EINVAL, DOC_NULL, ""},
	};
	struct doc *d;
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++) {
		d = NULL;
		if (expr_json_parse(cases[k].in, strlen(cases[k].in), &d) !=
		    cases[k].rc)
			fail_msg("%s", cases[k].in);
		if (cases[k].rc) {
			assert_null(d);
			continue;
		}
		if (d->type != cases[k].type || strcmp(dump(d), cases[k].out))
			fail_msg("%s: %s", cases[k].in, dump(d));
		doc_free(d);
	}
}

static void test_json_limits(void **state)
{
	struct buf b = BUF_INIT(8);
	struct doc *d = doc_new(DOC_MAP);
	char deep[200];
	int k;

	(void)state;
	assert_int_equal(doc_map_set(d, "s", doc_sealed("k", 1)), 0);
	/* {"s":"***"} is 11 bytes: past a cap of 8, the buffer unchanged. */
	assert_int_equal(expr_json_dump(d, &b), -EFBIG);
	assert_int_equal(b.len, 0);
	b.cap = 11;
	assert_int_equal(expr_json_dump(d, &b), 0);
	assert_string_equal(b.data, "{\"s\":\"***\"}");
	b.cap = 12;
	assert_int_equal(expr_json_dump(d, &b), -EFBIG); /* appends */
	assert_int_equal(b.len, 11);
	buf_release(&b);
	doc_free(d);
	/* Deeper than DOC_DEPTH_MAX containers: too big. */
	for (k = 0; k < DOC_DEPTH_MAX + 1; k++)
		deep[k] = '[';
	for (k = 0; k < DOC_DEPTH_MAX + 1; k++)
		deep[DOC_DEPTH_MAX + 1 + k] = ']';
	d = NULL;
	assert_int_equal(expr_json_parse(deep, 2 * (DOC_DEPTH_MAX + 1), &d),
			 -EFBIG);
	assert_int_equal(expr_json_parse(deep + 1, 2 * DOC_DEPTH_MAX, &d), 0);
	doc_free(d);
}

/* Every string holding an expression is replaced; keys stay. */
static void test_render(void **state)
{
	struct expr_cache *c = cache_on(NULL);
	struct doc *tpl = J("{\"v\":\"${ .a }\",\"l\":[\"x${ .a }\","
			    "{\"k\":\"${ [$item] }\"},3,null],"
			    "\"${ .a }\":\"plain\",\"o\":\"${ .o }\"}");
	struct doc *vars = J("{\"item\":\"i\"}");
	struct doc *out = NULL, *bad;
	char msg[128];

	(void)state;
	assert_int_equal(expr_render(c, tpl, vars, &out, msg, sizeof(msg)), 0);
	assert_string_equal(dump(out),
			    "{\"v\":1,\"l\":[\"x1\",{\"k\":[\"i\"]},3,null],"
			    "\"${ .a }\":\"plain\",\"o\":{\"b\":[1,2]}}");
	doc_free(out);
	out = NULL;
	bad = J("{\"a\":[\"ok\",\"${ error(\\\"no\\\") }\"]}");
	assert_int_equal(expr_render(c, bad, vars, &out, msg, sizeof(msg)),
			 -EINVAL);
	assert_null(out);
	assert_string_equal(msg, "expression failed: no");
	doc_free(bad);
	/* A scalar alone, and a document without expressions. */
	bad = doc_strz("${ .a }");
	assert_int_equal(expr_render(c, bad, NULL, &out, msg, sizeof(msg)), 0);
	assert_int_equal(out->type, DOC_INT);
	doc_free(out);
	doc_free(bad);
	bad = J("{\"a\":[1.5,\"$\",{}]}");
	assert_int_equal(expr_render(c, bad, NULL, &out, msg, sizeof(msg)), 0);
	assert_true(doc_equal(out, bad));
	doc_free(out);
	doc_free(bad);
	doc_free(vars);
	doc_free(tpl);
	expr_cache_free(c);
}

static void test_truthy(void **state)
{
	static const struct {
		const char *json;
		bool want;
	} cases[] = {
	    {"null", false}, {"false", false}, {"true", true},
	    {"0", true},     {"\"\"", true},   {"[]", true},
	    {"{}", true},    {"0.0", true},    {"\"false\"", true},
	};
	struct doc *d;
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(cases); k++) {
		d = J(cases[k].json);
		if (expr_truthy(d) != cases[k].want)
			fail_msg("%s", cases[k].json);
		doc_free(d);
	}
	assert_false(expr_truthy(NULL));
}

/* Values cross to the evaluator exactly: ints past 2^53 as jq reads them,
   nan and infinities in variables and keys, NUL in strings, secrets
   masked. */
static void test_wire(void **state)
{
	static const struct {
		const char *t, *want;
	} cases[] = {
	    {"${ $n | isnan }", "true"},
	    {"${ $i | isinfinite and . > 0 }", "true"},
	    {"${ $m | isinfinite and . < 0 }", "true"},
	    {"${ $f }", "0.1"},
	    {"${ $z | length }", "3"},
	    {"${ $s }", "\"***\""},
	    {"${ .k | isnan }", "true"},
	    {"${ $big == 9007199254740993 }", "true"},
	};
	struct expr_cache *c = cache_on(NULL);
	struct doc *vars = doc_new(DOC_MAP), *d;
	size_t k;

	(void)state;
	assert_int_equal(doc_map_set(vars, "n", doc_float_text(".nan")), 0);
	assert_int_equal(doc_map_set(vars, "i", doc_float_text(".inf")), 0);
	assert_int_equal(doc_map_set(vars, "m", doc_float_text("-.inf")), 0);
	assert_int_equal(doc_map_set(vars, "f", doc_float_text("0.1")), 0);
	assert_int_equal(doc_map_set(vars, "z", doc_str("a\0b", 3)), 0);
	d = doc_str("ciphertext", 10);
	d->type = DOC_SEALED;
	assert_int_equal(doc_map_set(vars, "s", d), 0);
	assert_int_equal(doc_map_set(vars, "big", doc_int(9007199254740993)),
			 0);
	d = doc_float_text(".nan");
	assert_int_equal(set_key(c, "k", d), 0);
	doc_free(d);
	for (k = 0; k < ARRAY_LEN(cases); k++) {
		d = eval_z(c, cases[k].t, vars);
		if (strcmp(d->type == DOC_FLOAT ? d->u.s : dump(d),
			   cases[k].want))
			fail_msg("%s: %s", cases[k].t, dump(d));
		doc_free(d);
	}
	doc_free(vars);
	expr_cache_free(c);
}

/* ---- the evaluator process --------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Whether @pid is gone and reaped (not even a zombie of ours). */
static bool reaped(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* `.a` is still 1 and `.k` still @k: a live evaluator with the input. */
static void still_works(struct expr_cache *c, int64_t k)
{
	struct doc *d = eval_z(c, "${ [.a, .k, $context.k] }", NULL);

	assert_int_equal(d->u.items[0]->i, 1);
	assert_int_equal(d->u.items[1]->i, k);
	assert_int_equal(d->u.items[2]->i, k);
	doc_free(d);
	assert_true(expr_cache_pid(c) > 0);
}

/* cache_on(NULL) with .k = 0. */
static struct expr_cache *cache_k(void)
{
	struct expr_cache *c = cache_on(NULL);
	struct doc *v = doc_int(0);

	assert_int_equal(set_key(c, "k", v), 0);
	doc_free(v);
	return c;
}

/* A lazy cache starts no evaluator until a template needs one, and that
   one has the whole input, updates made before it included; a text
   without an expression starts none. */
static void test_lazy(void **state)
{
	struct expr_cache *c = NULL;
	struct doc *in = J("{\"a\": 1}"), *v = doc_int(7), *d;

	(void)state;
	assert_int_equal(expr_cache_new_lazy(NULL, &c), 0);
	assert_int_equal(expr_cache_pid(c), -1);
	assert_int_equal(set_input(c, in), 0);
	assert_int_equal(set_key(c, "k", v), 0);
	d = eval_z(c, "plain text", NULL);
	assert_string_equal(d->u.s, "plain text");
	doc_free(d);
	assert_int_equal(expr_cache_pid(c), -1);
	still_works(c, 7);
	doc_free(in);
	doc_free(v);
	expr_cache_free(c);
}

/* A failed allocation kills the evaluator, not us; the next one has the
   whole input, updates made while none ran included. */
static void test_out_of_memory(void **state)
{
	static const char *const ts[] = {
	    "${ [] | .[1e9] = 1 }",
	    "x ${ [] | .[1e9] = 1 }",
	    "${ [range(1e9)] | length }",
	};
	struct expr_cache *c = cache_on(NULL);
	struct doc *v = doc_int(7);
	pid_t pid;
	size_t k;

	(void)state;
	assert_int_equal(set_key(c, "k", v), 0);
	for (k = 0; k < ARRAY_LEN(ts); k++) {
		pid = expr_cache_pid(c);
		eval_fails(c, ts[k], strlen(ts[k]), NULL, -EINVAL,
			   "expression failed: the evaluator stopped (out of "
			   "memory?)");
		assert_int_equal(expr_cache_pid(c), -1);
		assert_true(reaped(pid));
		assert_int_equal(expr_cache_size(c), 0);
		v->i = (int64_t)k; /* set while no evaluator runs */
		assert_int_equal(set_key(c, "k", v), 0);
		still_works(c, (int64_t)k);
		assert_int_not_equal(expr_cache_pid(c), pid);
	}
	doc_free(v);
	expr_cache_free(c);
}

static void *respawn_in_thread(void *arg)
{
	still_works(arg, 0);
	return NULL;
}

/* An evaluator started by a thread that then ends (a FORK branch after a
   failure) serves the others: it does not die with that thread. */
static void test_outlives_thread(void **state)
{
	struct expr_cache *c = cache_k();
	pthread_t t;
	pid_t pid;

	(void)state;
	still_works(c, 0);
	eval_fails(c, "${ [] | .[1e9] = 1 }", 20, NULL, -EINVAL,
		   "expression failed: the evaluator stopped (out of memory?)");
	assert_int_equal(pthread_create(&t, NULL, respawn_in_thread, c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pid = expr_cache_pid(c);
	assert_true(pid > 0);
	usleep(100000);	/* a death signal would have come by now */
	still_works(c, 0);
	assert_int_equal(expr_cache_pid(c), pid);
	expr_cache_free(c);
}

/* Programs that never end are killed at the deadline. */
static void test_deadline(void **state)
{
	static const char *const ts[] = {
	    "${ last(range(1e15)) }",
	    "${ def f: f; f }",
	    "${ last(repeat(1)) }",
	    "a ${ last(range(1e15)) } b",
	};
	struct expr_cache *c = cache_k();
	struct expr_wait w = {NULL, 0, 0};
	int64_t t0;
	pid_t pid;
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_LEN(ts); k++) {
		pid = expr_cache_pid(c);
		t0 = now_ns();
		w.deadline_ns = t0 + 300 * 1000000LL;
		expr_set_wait(c, &w);
		eval_fails(c, ts[k], strlen(ts[k]), NULL, -ETIME,
			   "expression did not finish before the deadline");
		assert_true(now_ns() - t0 >= 300 * 1000000LL);
		assert_true(now_ns() - t0 < 1000 * 1000000LL);
		assert_true(reaped(pid));
		expr_set_wait(c, NULL);
		still_works(c, 0);
	}
	/* A deadline already passed: refused before the evaluator runs. */
	pid = expr_cache_pid(c);
	w.deadline_ns = now_ns() - 1;
	expr_set_wait(c, &w);
	eval_fails(c, "${ .a }", 7, NULL, -ETIME, "deadline");
	assert_int_equal(expr_cache_pid(c), pid);
	/* Far enough: no effect. */
	w.deadline_ns = now_ns() + 60 * 1000000000LL;
	expr_set_wait(c, &w);
	still_works(c, 0);
	assert_int_equal(expr_cache_pid(c), pid);
	expr_cache_free(c);
}

/* Writes the eventfd after 200 ms. */
static void *cancel_later(void *arg)
{
	uint64_t one = 1;

	usleep(200 * 1000);
	assert_int_equal(write(*(int *)arg, &one, sizeof(one)), sizeof(one));
	return NULL;
}

/* A readable stop fd kills the evaluator; none starts while it stays so. */
static void test_cancel(void **state)
{
	struct expr_cache *c = cache_k();
	struct pollfd fds[2] = {{.fd = -1}, {.fd = eventfd(0, EFD_CLOEXEC)}};
	struct expr_wait w = {fds, 2, 0};
	const char *t = "${ last(range(1e15)) }";
	pthread_t th;
	uint64_t n;
	int64_t t0 = now_ns();
	pid_t pid = expr_cache_pid(c);

	(void)state;
	assert_true(fds[1].fd >= 0);
	expr_set_wait(c, &w);
	still_works(c, 0); /* nothing to stop: normal */
	assert_int_equal(pthread_create(&th, NULL, cancel_later, &fds[1].fd),
			 0);
	eval_fails(c, t, strlen(t), NULL, -ECANCELED, "cancelled");
	assert_true(now_ns() - t0 >= 200 * 1000000LL);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(reaped(pid));
	eval_fails(c, "${ .a }", 7, NULL, -ECANCELED, "cancelled");
	assert_int_equal(expr_cache_pid(c), -1); /* none started */
	assert_int_equal(read(fds[1].fd, &n, sizeof(n)), sizeof(n));
	still_works(c, 0);
	expr_cache_free(c);
	close(fds[1].fd);
}

/* The evaluator holds only its socket, has its limits, and is reaped. */
static void test_process(void **state)
{
	struct expr_cache *c = cache_k();
	char path[64], line[256];
	pid_t pid = expr_cache_pid(c);
	struct dirent *de;
	FILE *f;
	DIR *dir;
	int seen = 0;

	(void)state;
	still_works(c, 0); /* it has set itself up */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	assert_non_null(dir);
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "3"))
			fail_msg("the evaluator holds fd %s", de->d_name);
		else
			seen += !strcmp(de->d_name, "3");
	closedir(dir);
	assert_int_equal(seen, 1);
	seen = 0;
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Max core file size", 18))
			seen += !!strstr(line, " 0 ");
		if (!strncmp(line, "Max data size", 13))
			seen += !strstr(line, "unlimited");
	}
	fclose(f);
	assert_int_equal(seen, 2);
	expr_cache_free(c);
	assert_true(reaped(pid));
}

/* The evaluator is a new image (argv[0] "execfs-eval"), its environment
   the marker and the sanitizers' settings only, in its own group. */
static void test_fresh_image(void **state)
{
	struct expr_cache *c = cache_k();
	pid_t pid = expr_cache_pid(c);
	char path[64], text[4096], *p;
	ssize_t n;
	int fd;

	(void)state;
	still_works(c, 0);
	assert_int_equal(getpgid(pid), pid);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_int_equal(n, sizeof("execfs-eval"));
	assert_string_equal(text, "execfs-eval");
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_true(n > 0);
	text[n] = '\0';
	for (p = text; p < text + n; p += strlen(p) + 1)
		if (strncmp(p, "EXECFS_EXPR_SERVE=", 18) &&
		    strncmp(p, "ASAN_OPTIONS=", 13) &&
		    strncmp(p, "UBSAN_OPTIONS=", 14) &&
		    strncmp(p, "LSAN_OPTIONS=", 13))
			fail_msg("the evaluator has %s", p);
	expr_cache_free(c);
	assert_true(reaped(pid));
}

/* tzset() reads TZ (a FIFO: blocks) under glibc's time-zone lock. */
static void *hold_tz_lock(void *arg)
{
	(void)arg;
	tzset();
	return NULL;
}

/* Whether thread @tid is blocked in openat(). */
static bool in_openat(pid_t tid)
{
	char path[64], text[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	return n > 0 && atol(text) == SYS_openat;
}

static pid_t tid_of_hold;

static void *hold_tz_lock_tid(void *arg)
{
	tid_of_hold = gettid();
	return hold_tz_lock(arg);
}

/* An evaluator started while another thread holds a lock (glibc's time
   zone lock, held while tzset() opens a FIFO named by TZ) still formats
   dates: it is a new image, not a fork of the holder's memory. */
static void test_lock_held_at_spawn(void **state)
{
	char dir[] = "/tmp/test_expr.XXXXXX", fifo[64], tz[80];
	const char *t = "${ 86400 | gmtime | mktime }";
	char msg[256] = "";
	struct expr_wait w = {NULL, 0, 0};
	struct expr_cache *c = NULL;
	struct doc *d = NULL;
	bool held;
	pthread_t th;
	int k, fd, rc = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/tz", dir);
	snprintf(tz, sizeof(tz), ":%s", fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tid_of_hold = 0;
	assert_int_equal(pthread_create(&th, NULL, hold_tz_lock_tid, NULL), 0);
	for (k = 0; k < 500 && !(tid_of_hold && in_openat(tid_of_hold)); k++)
		usleep(10 * 1000);
	held = in_openat(tid_of_hold);
	if (held && expr_cache_new(&c) == 0) {
		w.deadline_ns = now_ns() + 10 * 1000000000LL;
		expr_set_wait(c, &w);
		rc = expr_eval(c, t, strlen(t), NULL, &d, msg, sizeof(msg));
	}
	expr_cache_free(c);
	fd = open(fifo, O_WRONLY | O_NONBLOCK); /* lets the holder go */
	if (fd >= 0)
		close(fd);
	assert_int_equal(pthread_join(th, NULL), 0);
	unsetenv("TZ");
	tzset();
	unlink(fifo);
	rmdir(dir);
	assert_true(held);
	if (rc)
		fail_msg("rc %d: %s", rc, msg);
	assert_int_equal(d->i, 86400);
	doc_free(d);
}

/* In a child in its own mount namespace without /proc: the running
   evaluator works, a new one cannot start and the failure says why.
   Exit status: 0 all seen, 77 no namespace here, else the failed step. */
static int without_proc(void)
{
	const char *t = "${ last(range(1e15)) }";
	struct expr_wait w = {NULL, 0, 0};
	struct expr_cache *c = NULL;
	struct doc *d = NULL;
	char msg[256] = "";

	if (expr_cache_new(&c) < 0)
		return 1;
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    umount2("/proc", MNT_DETACH) < 0)
		return 77;
	if (expr_eval(c, "${ 1 }", 6, NULL, &d, msg, sizeof(msg)) || d->i != 1)
		return 2;
	doc_free(d);
	w.deadline_ns = now_ns() + 100 * 1000000LL; /* kills the evaluator */
	expr_set_wait(c, &w);
	if (expr_eval(c, t, strlen(t), NULL, &d, msg, sizeof(msg)) != -ETIME)
		return 3;
	expr_set_wait(c, NULL);
	if (expr_eval(c, "${ 1 }", 6, NULL, &d, msg, sizeof(msg)) != -ENOENT)
		return 4;
	if (strcmp(msg, "expression failed: cannot start the evaluator: No "
			"such file or directory (is /proc mounted?)"))
		return 5;
	expr_cache_free(c);
	return expr_cache_new(&c) == -ENOENT ? 0 : 6;
}

static void test_no_proc(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(without_proc());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* What one evaluation costs through the process (printed, not judged). */
static void test_cost(void **state)
{
	struct expr_cache *c = cache_on(NULL);
	struct doc *vars = J("{\"item\":0,\"index\":0}"), *d, *v = doc_int(0);
	int64_t t0 = now_ns();
	int k, n = 10000;

	(void)state;
	for (k = 0; k < n; k++) {
		vars->u.kv[0].val->i = k;
		d = eval_z(c, "${ $item + .a }", vars);
		assert_int_equal(d->i, k + 1);
		/* A SET task exports its value. */
		v->i = k;
		assert_int_equal(set_key(c, "last", v), 0);
		doc_free(d);
	}
	print_message("expr: %d evaluations + set_key: %.1f us each\n", n,
		      (double)(now_ns() - t0) / 1000.0 / n);
	t0 = now_ns();
	for (k = 0; k < n; k++)
		doc_free(eval_z(c, "x${ .a }", NULL));
	print_message("expr: %d mixed evaluations: %.1f us each\n", n,
		      (double)(now_ns() - t0) / 1000.0 / n);
	d = eval_z(c, "${ .last }", NULL);
	assert_int_equal(d->i, n - 1);
	doc_free(d);
	doc_free(v);
	doc_free(vars);
	expr_cache_free(c);
	t0 = now_ns();
	for (k = 0; k < 20; k++) {
		c = cache_k();
		still_works(c, 0);
		expr_cache_free(c);
	}
	print_message("expr: evaluator start + first evaluation + stop: "
		      "%.2f ms each\n", (double)(now_ns() - t0) / 1e6 / 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_templates, td),
	    cmocka_unit_test_teardown(test_scan_errors, td),
	    cmocka_unit_test_teardown(test_too_long, td),
	    cmocka_unit_test_teardown(test_compile_errors, td),
	    cmocka_unit_test_teardown(test_runtime_errors, td),
	    cmocka_unit_test_teardown(test_sandbox, td),
	    cmocka_unit_test_teardown(test_variables, td),
	    cmocka_unit_test_teardown(test_var_ok, td),
	    cmocka_unit_test_teardown(test_has, td),
	    cmocka_unit_test_teardown(test_cache, td),
	    cmocka_unit_test_teardown(test_input, td),
	    cmocka_unit_test_teardown(test_runtime_args, td),
	    cmocka_unit_test_teardown(test_check_all, td),
	    cmocka_unit_test_teardown(test_check_many, td),
	    cmocka_unit_test_teardown(test_check_too_long, td),
	    cmocka_unit_test_teardown(test_numbers, td),
	    cmocka_unit_test_teardown(test_doc_to_jq, td),
	    cmocka_unit_test_teardown(test_depth, td),
	    cmocka_unit_test_teardown(test_keys, td),
	    cmocka_unit_test_teardown(test_too_big, td),
	    cmocka_unit_test_teardown(test_json, td),
	    cmocka_unit_test_teardown(test_json_limits, td),
	    cmocka_unit_test_teardown(test_render, td),
	    cmocka_unit_test_teardown(test_truthy, td),
	    cmocka_unit_test_teardown(test_wire, td),
	    cmocka_unit_test_teardown(test_lazy, td),
	    cmocka_unit_test_teardown(test_out_of_memory, td),
	    cmocka_unit_test_teardown(test_outlives_thread, td),
	    cmocka_unit_test_teardown(test_deadline, td),
	    cmocka_unit_test_teardown(test_cancel, td),
	    cmocka_unit_test_teardown(test_process, td),
	    cmocka_unit_test_teardown(test_fresh_image, td),
	    cmocka_unit_test_teardown(test_lock_held_at_spawn, td),
	    cmocka_unit_test_teardown(test_no_proc, td),
	    cmocka_unit_test_teardown(test_cost, td),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
