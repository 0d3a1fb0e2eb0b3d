/*
 * test_yaml.c - YAML parsing (resolution, positions, every error class and
 * limit), YAML and JSON emission, and round trips.
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
#include <unistd.h>

#include "core/yaml.h"

static struct doc *parse_ok(const char *text)
{
	struct err e = {0, ""};
	struct doc *d = NULL;
	int rc = yaml_parse(text, strlen(text), NULL, &d, &e);

	if (rc != 0)
		fail_msg("parse of \"%s\" failed: %s", text, e.msg);
	assert_non_null(d);
	return d;
}

/* ---- scalar resolution ---- */

static void test_resolution(void **state)
{
	static const struct {
		const char *in;
		enum doc_type t;
		const char *text;
		unsigned flags;
	} cases[] = {
	    {"~", DOC_NULL, "", DOC_F_PLAIN},
	    {"null", DOC_NULL, "", DOC_F_PLAIN},
	    {"NULL", DOC_NULL, "", DOC_F_PLAIN},
	    {"nULL", DOC_STR, "nULL", DOC_F_PLAIN},
	    {"true", DOC_BOOL, "true", DOC_F_PLAIN},
	    {"False", DOC_BOOL, "false", DOC_F_PLAIN},
	    {"TRUE", DOC_BOOL, "true", DOC_F_PLAIN},
	    {"yes", DOC_STR, "yes", DOC_F_PLAIN},
	    {"42", DOC_INT, "42", DOC_F_PLAIN},
	    {"-17", DOC_INT, "-17", DOC_F_PLAIN},
	    {"+5", DOC_INT, "5", DOC_F_PLAIN},
	    {"007", DOC_INT, "7", DOC_F_PLAIN},
	    {"0o17", DOC_INT, "15", DOC_F_PLAIN},
	    {"0x1F", DOC_INT, "31", DOC_F_PLAIN},
	    {"0x", DOC_STR, "0x", DOC_F_PLAIN},
	    {"0o8", DOC_STR, "0o8", DOC_F_PLAIN},
	    {"9223372036854775807", DOC_INT, "9223372036854775807",
	     DOC_F_PLAIN},
	    {"-9223372036854775808", DOC_INT, "-9223372036854775808",
	     DOC_F_PLAIN},
	    {"9223372036854775808", DOC_FLOAT, "9223372036854775808",
	     DOC_F_PLAIN},
	    {"+000123456789012345678901234567890", DOC_FLOAT,
	     "123456789012345678901234567890", DOC_F_PLAIN},
	    {"0x8000000000000000", DOC_STR, "0x8000000000000000", DOC_F_PLAIN},
	    {"1.5", DOC_FLOAT, "1.5", DOC_F_PLAIN},
	    {"0.1", DOC_FLOAT, "0.1", DOC_F_PLAIN},
	    {"-2.50", DOC_FLOAT, "-2.5", DOC_F_PLAIN},
	    {"1e3", DOC_FLOAT, "1000.0", DOC_F_PLAIN},
	    {"1.", DOC_FLOAT, "1.0", DOC_F_PLAIN},
	    {".5", DOC_FLOAT, "0.5", DOC_F_PLAIN},
	    {"6.02e+23", DOC_FLOAT, "6.02e+23", DOC_F_PLAIN},
	    {"1e999", DOC_FLOAT, ".inf", DOC_F_PLAIN},
	    {".inf", DOC_FLOAT, ".inf", DOC_F_PLAIN},
	    {"-.Inf", DOC_FLOAT, "-.inf", DOC_F_PLAIN},
	    {".NaN", DOC_FLOAT, ".nan", DOC_F_PLAIN},
	    {"-.nan", DOC_STR, "-.nan", DOC_F_PLAIN},
	    {".", DOC_STR, ".", DOC_F_PLAIN},
	    {"1e", DOC_STR, "1e", DOC_F_PLAIN},
	    {"1_000", DOC_STR, "1_000", DOC_F_PLAIN},
	    {"0b101", DOC_STR, "0b101", DOC_F_PLAIN},
	    {"hello world", DOC_STR, "hello world", DOC_F_PLAIN},
	    {"'42'", DOC_STR, "42", DOC_F_QUOTED},
	    {"\"true\"", DOC_STR, "true", DOC_F_QUOTED},
	    {"''", DOC_STR, "", DOC_F_QUOTED},
	    {"|\n  two\n  lines\n", DOC_STR, "two\nlines\n", DOC_F_QUOTED},
	    {"!!str 42", DOC_STR, "42", DOC_F_PLAIN},
	    {"!!int '42'", DOC_INT, "42", DOC_F_QUOTED},
	    {"!!float 1", DOC_FLOAT, "1.0", DOC_F_PLAIN},
	    {"!!bool \"false\"", DOC_BOOL, "false", DOC_F_QUOTED},
	    {"!!null ''", DOC_NULL, "", DOC_F_QUOTED},
	    {"!<tag:yaml.org,2002:str> 5", DOC_STR, "5", DOC_F_PLAIN},
	};
	struct doc *d;
	char in[128];
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		snprintf(in, sizeof(in), "v: %s", cases[k].in);
		d = parse_ok(in);
		d = doc_map_get(d, "v") ? d : d;
		if (doc_map_get(d, "v")->type != cases[k].t ||
		    strcmp(doc_map_get(d, "v")->u.s, cases[k].text) ||
		    doc_map_get(d, "v")->flags != cases[k].flags)
			fail_msg("\"%s\": got %s \"%s\" flags %u", cases[k].in,
				 doc_type_name(doc_map_get(d, "v")->type),
				 doc_map_get(d, "v")->u.s,
				 doc_map_get(d, "v")->flags);
		doc_free(d);
	}
	d = parse_ok("v: -9223372036854775808");
	assert_true(doc_get(d, "v")->i == INT64_MIN);
	doc_free(d);
	d = parse_ok("v: \"a\\0b\"");
	assert_int_equal(doc_get(d, "v")->n, 3);
	assert_memory_equal(doc_get(d, "v")->u.s, "a\0b", 3);
	doc_free(d);
}

static void test_structure(void **state)
{
	struct doc *d = parse_ok("# comment\n"
				 "apiVersion: v1\n"
				 "kind: Job\n"
				 "spec:\n"
				 "  list: [1, two, {x: y}]\n"
				 "  items:\n"
				 "    - a\n"
				 "    - b: 1\n"
				 "      c: ~\n"
				 "  empty: {}\n"
				 "  none: []\n"
				 "  1: numeric key\n"
				 "  true: bool key\n");
	struct doc *l;

	(void)state;
	assert_int_equal(d->type, DOC_MAP);
	assert_string_equal(d->u.kv[0].key, "apiVersion");
	assert_string_equal(d->u.kv[2].key, "spec");
	l = doc_get(d, "spec.list");
	assert_int_equal(l->n, 3);
	assert_int_equal(l->u.items[0]->type, DOC_INT);
	assert_string_equal(doc_get_str(l->u.items[2], "x"), "y");
	l = doc_get(d, "spec.items");
	assert_int_equal(l->n, 2);
	assert_int_equal(doc_get(l->u.items[1], "c")->type, DOC_NULL);
	assert_int_equal(doc_get(d, "spec.empty")->type, DOC_MAP);
	assert_int_equal(doc_get(d, "spec.none")->type, DOC_LIST);
	assert_string_equal(doc_get_str(d, "spec.1"), "numeric key");
	assert_string_equal(doc_get_str(d, "spec.true"), "bool key");
	doc_free(d);

	d = parse_ok("just a scalar\n");
	assert_int_equal(d->type, DOC_STR);
	doc_free(d);
	d = parse_ok("{\"json\": [1, 2.5, null, true, \"s\"]}");
	assert_int_equal(doc_get(d, "json")->u.items[1]->type, DOC_FLOAT);
	doc_free(d);
	d = parse_ok("--- \n~\n...\n");
	assert_int_equal(d->type, DOC_NULL);
	doc_free(d);
}

/* Expanding aliases of a large map stays fast (no quadratic copy). */
static void test_alias_big_map(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	struct doc *d;
	size_t k;

	(void)state;
	buf_addstr(&b, "big: &big\n");
	for (k = 0; k < 6000; k++)
		buf_addf(&b, "  key%zu: %zu\n", k, k);
	buf_addstr(&b, "copies: [");
	for (k = 0; k < 15; k++)
		buf_addstr(&b, k ? ", *big" : "*big");
	buf_addstr(&b, "]\n");
	d = parse_ok(b.data);
	assert_int_equal(doc_get(d, "copies")->n, 15);
	assert_true(
	    doc_equal(doc_get(d, "big"), doc_get(d, "copies")->u.items[14]));
	assert_int_equal(
	    doc_get(doc_get(d, "copies")->u.items[7], "key5999")->i, 5999);
	doc_free(d);
	buf_release(&b);
}

static void test_aliases_expand(void **state)
{
	struct doc *d = parse_ok("base: &b {x: 1, y: [a, b]}\n"
				 "copy: *b\n"
				 "s: &s text\n"
				 "t: *s\n"
				 "*s : as key\n");
	struct doc *b = doc_get(d, "base"), *c = doc_get(d, "copy");

	(void)state;
	assert_true(doc_equal(b, c));
	assert_ptr_not_equal(b, c);
	assert_ptr_not_equal(b->u.kv[1].val, c->u.kv[1].val);
	assert_string_equal(doc_get_str(d, "t"), "text");
	assert_string_equal(doc_get_str(d, "text"), "as key");
	assert_int_equal(c->line, 2); /* the alias's own position */
	doc_free(d);
}

/* ---- positions ---- */

static void expect_span(const char *text, const struct doc *d, const char *want,
			unsigned line, unsigned col)
{
	assert_non_null(d);
	if (d->end < d->off || d->end > strlen(text) ||
	    d->end - d->off != strlen(want) ||
	    memcmp(text + d->off, want, strlen(want)))
		fail_msg("span [%zu,%zu) is \"%.*s\", want \"%s\"", d->off,
			 d->end, (int)(d->end >= d->off ? d->end - d->off : 0),
			 text + d->off, want);
	assert_int_equal(d->line, line);
	assert_int_equal(d->col, col);
}

static void test_positions_bytes(void **state)
{
	const char *t = "a: \"é\"\n"
			"b: ü and ß\n"
			"k: |\n  sec\n  ret\n\n# c\n"
			"z: !!str &x  v\n"
			"q: 'it''s'\n"
			"l: [ 1, \"ö\" ]\n"
			"m:\n  - x\n  - y  # trailing\n"
			"w: plain\n  continued\n"
			"t: !!str\n  # comment\n  &an 'tagged'\n";
	struct doc *d = parse_ok(t);

	(void)state;
	expect_span(t, doc_get(d, "a"), "\"é\"", 1, 4);
	expect_span(t, doc_get(d, "b"), "ü and ß", 2, 4);
	expect_span(t, doc_get(d, "k"), "|\n  sec\n  ret", 3, 4);
	expect_span(t, doc_get(d, "z"), "v", 8, 14); /* after the tag */
	expect_span(t, doc_get(d, "q"), "'it''s'", 9, 4);
	expect_span(t, doc_get(d, "l")->u.items[1], "\"ö\"", 10, 9);
	expect_span(t, doc_get(d, "l"), "[ 1, \"ö\" ]", 10, 4);
	expect_span(t, doc_get(d, "m"), "- x\n  - y", 12, 3);
	expect_span(t, doc_get(d, "m")->u.items[1], "y", 13, 5);
	expect_span(t, doc_get(d, "w"), "plain\n  continued", 14, 4);
	expect_span(t, doc_get(d, "t"), "'tagged'", 18, 7);
	doc_free(d);
}

static void test_positions_bom_crlf(void **state)
{
	const char *t = "\xef\xbb\xbf"
			"k: \"ä\"\r\nv: 'x'\r\n";
	struct doc *d = parse_ok(t);

	(void)state;
	expect_span(t, doc_get(d, "k"), "\"ä\"", 1, 4); /* BOM not counted */
	expect_span(t, doc_get(d, "v"), "'x'", 2, 4);
	doc_free(d);
}

/* The lead masks secrets by splicing into spans; check that works. */
static void test_span_splice(void **state)
{
	const char *t = "data:\n"
			"  user: \"ünïcode\"\n"
			"  password: s3cr€t # keep this comment\n"
			"  token: |\n    multi\n    line\n"
			"other: ok\n";
	const char *keys[] = {"data.password", "data.token", "data.user"};
	struct buf b = BUF_INIT(4096);
	struct doc *d = parse_ok(t), *m;
	size_t k, prev = 0;

	(void)state;
	/* Spans are in order, so splice front to back. */
	for (k = 0; k < 3; k++) {
		const struct doc *v = doc_get(d, keys[(k + 2) % 3]);

		assert_true(v->off >= prev);
		buf_add(&b, t + prev, v->off - prev);
		buf_addstr(&b, "\"***\"");
		prev = v->end;
	}
	buf_addstr(&b, t + prev);
	assert_non_null(strstr(b.data, "# keep this comment"));
	m = parse_ok(b.data);
	for (k = 0; k < 3; k++)
		assert_string_equal(doc_get_str(m, keys[k]), "***");
	assert_string_equal(doc_get_str(m, "other"), "ok");
	doc_free(m);
	doc_free(d);
	buf_release(&b);
}

/* ---- errors ---- */

struct bad {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int err;
	const char *frag;
	const char *frag2;
};

static void expect_fail(const char *name, const char *text, size_t len,
			const struct yaml_limits *lim, int want,
			const char *frag, const char *frag2)
{
	struct err e = {0, ""};
	struct doc *d = (struct doc *)0x1;
	int rc = yaml_parse(text, len, lim, &d, &e);

	if (rc != want)
		fail_msg("%s: rc %d (%s), want %d", name, rc, e.msg, want);
	assert_int_equal(e.code, want);
	if (!strstr(e.msg, frag) || (frag2 && !strstr(e.msg, frag2)))
		fail_msg("%s: message \"%s\" lacks \"%s\"", name, e.msg, frag);
	assert_ptr_equal(d, (struct doc *)0x1);
}

static void test_errors(void **state)
{
	static const struct bad cases[] = {
	    {"unclosed flow", "a: [1, 2\n", 0, -EBADMSG,
	     "line 2 column 1: ", "did not find expected"},
	    {"bad indentation", "a: b: c\n", 0, -EBADMSG,
	     "line 1 column 5: ", "mapping values are not allowed"},
	    {"tab indent", "a:\n\t- b\n", 0, -EBADMSG, "line 2", NULL},
	    {"unterminated quote", "a: \"abc\n", 0, -EBADMSG, "line ",
	     "end of stream"},
	    {"duplicate key", "a: 1\nb: 2\na: 3\n", 0, -EBADMSG,
	     "line 3 column 1: duplicate key \"a\"", NULL},
	    {"duplicate nested", "x:\n  k: 1\n  'k': 2\n", 0, -EBADMSG,
	     "line 3 column 3: duplicate key \"k\"", NULL},
	    {"duplicate flow", "{a: 1, a: 1}", 0, -EBADMSG,
	     "duplicate key \"a\"", NULL},
	    {"complex key", "? [a]\n: 1\n", 0, -EBADMSG,
	     "map keys must be scalars", NULL},
	    {"flow map key", "{[a]: 1}", 0, -EBADMSG,
	     "map keys must be scalars", NULL},
	    {"alias map as key", "a: &m {x: 1}\n*m : 2\n", 0, -EBADMSG,
	     "map keys must be scalars", NULL},
	    {"anchored key", "&k a: 1\n", 0, -EBADMSG, "anchors on map keys",
	     NULL},
	    {"custom tag", "a: !foo x\n", 0, -EBADMSG,
	     "line 1 column 4: unsupported tag \"!foo\"", NULL},
	    {"binary tag", "a: !!binary aGk=\n", 0, -EBADMSG,
	     "unsupported tag \"tag:yaml.org,2002:binary\"", NULL},
	    {"set tag", "!!set {a, b}", 0, -EBADMSG, "unsupported tag", NULL},
	    {"seq tag on map", "!!seq {a: 1}", 0, -EBADMSG,
	     "unsupported tag \"tag:yaml.org,2002:seq\"", NULL},
	    {"map tag on scalar", "a: !!map x", 0, -EBADMSG,
	     "does not match its tag", NULL},
	    {"bad int", "a: !!int abc\n", 0, -EBADMSG,
	     "does not match its tag \"tag:yaml.org,2002:int\"", NULL},
	    {"bad bool", "a: !!bool yes\n", 0, -EBADMSG,
	     "does not match its tag", NULL},
	    {"tag on key", "!foo a: 1\n", 0, -EBADMSG, "unsupported tag", NULL},
	    {"NUL byte", "a: b\0c\n", 7, -EBADMSG,
	     "line 1 column 5: NUL byte at offset 4", NULL},
	    {"NUL on line 2", "a: 1\nb\0", 7, -EBADMSG,
	     "line 2 column 2: NUL byte at offset 6", NULL},
	    {"NUL escape in key", "\"a\\0b\": 1\n", 0, -EBADMSG,
	     "map key contains a NUL byte", NULL},
	    {"invalid UTF-8", "a: \x80\n", 0, -EBADMSG,
	     "line 1 column 4: invalid leading UTF-8 octet", NULL},
	    {"truncated UTF-8", "a: \xc3", 0, -EBADMSG, "UTF-8", NULL},
	    {"control char", "a: \x01\n", 0, -EBADMSG,
	     "control characters are not allowed", NULL},
	    {"UTF-16",
	     "\xff\xfe"
	     "a\0:\0",
	     6, -EBADMSG, "NUL byte", NULL},
	    {"two documents", "a: 1\n---\nb: 2\n", 0, -EBADMSG,
	     "line 2 column 1: multiple documents", NULL},
	    {"two bare docs", "---\na\n---\nb\n", 0, -EBADMSG,
	     "multiple documents", NULL},
	    {"empty", "", 0, -EBADMSG, "empty document", NULL},
	    {"only comments", "# one\n\n   # two\n", 0, -EBADMSG,
	     "empty document", NULL},
	    {"bare marker", "---\n", 0, -EBADMSG, "empty document", NULL},
	    {"undefined alias", "a: *nope\n", 0, -EBADMSG,
	     "line 1 column 4: undefined alias \"*nope\"", NULL},
	    {"recursive alias", "a: &x [1, *x]\n", 0, -EBADMSG,
	     "recursive alias \"*x\"", NULL},
	    {"bare mask", "password: ***\n", 0, -EBADMSG, "line 1", NULL},
	};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		expect_fail(cases[k].name, cases[k].text,
			    cases[k].len ? cases[k].len : strlen(cases[k].text),
			    NULL, cases[k].err, cases[k].frag, cases[k].frag2);
	/* A NULL err is allowed. */
	{
		struct doc *d = NULL;

		assert_int_equal(yaml_parse("a: [", 4, NULL, &d, NULL),
				 -EBADMSG);
		assert_null(d);
	}
}

/* Build text with a repeated piece: pre + piece * n + post. */
static char *repeat(const char *pre, const char *piece, size_t n,
		    const char *post)
{
	struct buf b = BUF_INIT((size_t)64 << 20);
	size_t k;

	buf_addstr(&b, pre);
	for (k = 0; k < n; k++)
		assert_int_equal(buf_addstr(&b, piece), 0);
	buf_addstr(&b, post);
	return buf_detach(&b, NULL);
}

static void test_limits(void **state)
{
	struct buf lines = BUF_INIT(1 << 20);
	char *t;
	size_t k;

	(void)state;
	t = repeat("", "[", 100, "");
	expect_fail("100 deep flow", t, strlen(t), NULL, -EFBIG,
		    "nesting deeper than 32", NULL);
	free(t);
	for (k = 0; k < 40; k++)
		buf_addf(&lines, "%*sk%zu:\n", (int)(2 * k), "", k);
	buf_addf(&lines, "%*sx: 1\n", 80, "");
	expect_fail("40 deep block", lines.data, lines.len, NULL, -EFBIG,
		    "line 33 column 65: nesting deeper than 32", NULL);
	buf_release(&lines);

	t = repeat("a: \"", "x", 2 * 1024 * 1024, "\"\n");
	expect_fail("2 MB input", t, strlen(t), NULL, -EFBIG,
		    "document exceeds 1048576 bytes", NULL);
	free(t);
	t = repeat("a: ", "x", 65537, "\n");
	expect_fail("long string", t, strlen(t), NULL, -EFBIG,
		    "line 1 column 4: string longer than 65536 bytes", NULL);
	free(t);
	t = repeat("a: |\n", "  xxxxxxxxxxxxxxx\n", 5000, "");
	expect_fail("long block string", t, strlen(t), NULL, -EFBIG,
		    "string longer than 65536 bytes", NULL);
	free(t);
	t = repeat("\"", "k", 65537, "\": 1\n");
	expect_fail("long key", t, strlen(t), NULL, -EFBIG,
		    "string longer than 65536 bytes", NULL);
	free(t);
	t = repeat("[", "1,", 10001, "]");
	expect_fail("too many items", t, strlen(t), NULL, -EFBIG,
		    "more than 10000 items in one list", NULL);
	free(t);
	t = repeat("[", "1,", 10000, "]");
	{
		struct doc *d = parse_ok(t);

		assert_int_equal(d->n, 10000);
		doc_free(d);
	}
	free(t);
}

static void test_limits_map_items(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	struct doc *d;
	size_t k;

	(void)state;
	/* Large enough to use the key index. */
	for (k = 0; k < 10000; k++)
		buf_addf(&b, "key%zu: %zu\n", k, k);
	d = parse_ok(b.data);
	assert_int_equal(d->n, 10000);
	assert_int_equal(doc_get(d, "key9999")->i, 9999);
	doc_free(d);
	buf_addstr(&b, "key4242: dup\n");
	expect_fail("duplicate in big map", b.data, b.len, NULL, -EBADMSG,
		    "line 10001 column 1: duplicate key \"key4242\"", NULL);
	buf_truncate(&b, b.len - strlen("key4242: dup\n"));
	buf_addstr(&b, "one: more\n");
	expect_fail("too many map items", b.data, b.len, NULL, -EFBIG,
		    "line 10001 column 1: more than 10000 items in one map",
		    NULL);
	buf_release(&b);
}

static void test_alias_bombs(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	struct yaml_limits lim = yaml_default_limits;
	char name = 'a';
	size_t lvl, k;

	(void)state;
	/* Classic billion laughs: 9 levels of 9 aliases each. */
	buf_addstr(&b, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (lvl = 1; lvl < 10; lvl++, name++) {
		buf_addf(&b, "%c: &%c [", name + 1, name + 1);
		for (k = 0; k < 9; k++)
			buf_addf(&b, "*%c%s", name, k < 8 ? "," : "");
		buf_addstr(&b, "]\n");
	}
	expect_fail("billion laughs", b.data, b.len, NULL, -EFBIG,
		    "more than 100000 nodes", NULL);
	/* Many cheap aliases: the alias count stops them. */
	buf_reset(&b);
	buf_addstr(&b, "a: &a x\nb: [");
	for (k = 0; k < 65; k++)
		buf_addstr(&b, k ? ", *a" : "*a");
	buf_addstr(&b, "]\n");
	expect_fail("65 aliases", b.data, b.len, NULL, -EFBIG,
		    "line 2 column 261: more than 64 aliases", NULL);

	/* Few aliases, exponential size: the node budget stops it. */
	buf_reset(&b);
	buf_addstr(&b, "l0: &l0 [");
	for (k = 0; k < 1000; k++)
		buf_addstr(&b, k ? ",x" : "x");
	buf_addstr(&b, "]\n");
	for (lvl = 1; lvl < 6; lvl++)
		buf_addf(&b,
			 "l%zu: &l%zu "
			 "[*l%zu,*l%zu,*l%zu,*l%zu,*l%zu,*l%zu,*l%zu,*l%zu]\n",
			 lvl, lvl, lvl - 1, lvl - 1, lvl - 1, lvl - 1, lvl - 1,
			 lvl - 1, lvl - 1, lvl - 1);
	expect_fail("node bomb", b.data, b.len, NULL, -EFBIG,
		    "line 4 column 10: document has more than 100000 nodes",
		    NULL);

	/* Aliases keep the depth limit. */
	lim.max_depth = 4;
	expect_fail("deep alias", "a: &a [[[1]]]\nb: [[*a]]\n", 24, &lim,
		    -EFBIG, "line 2 column 6: nesting deeper than 4", NULL);
	lim = yaml_default_limits;
	lim.max_aliases = 2;
	expect_fail("alias count", "a: &a 1\nb: [*a, *a, *a]\n", 24, &lim,
		    -EFBIG, "line 2 column 13: more than 2 aliases", NULL);
	buf_release(&b);
}

static void test_custom_limits(void **state)
{
	struct yaml_limits lim = yaml_default_limits;
	struct doc *d = NULL;

	(void)state;
	lim.max_items = 2;
	expect_fail("items 2", "{a: 1, b: 2, c: 3}", 18, &lim, -EFBIG,
		    "more than 2 items in one map", NULL);
	lim = yaml_default_limits;
	lim.max_nodes = 3;
	expect_fail("nodes 3", "[1, 2, 3]", 9, &lim, -EFBIG,
		    "more than 3 nodes", NULL);
	lim.max_nodes = 4;
	assert_int_equal(yaml_parse("[1, 2, 3]", 9, &lim, &d, NULL), 0);
	doc_free(d);
	lim = yaml_default_limits;
	lim.max_bytes = 8;
	expect_fail("bytes 8", "a: 123456", 9, &lim, -EFBIG,
		    "document exceeds 8 bytes", NULL);
	lim = yaml_default_limits;
	lim.max_str = 3;
	expect_fail("str 3", "a: 'abcd'", 9, &lim, -EFBIG,
		    "string longer than 3 bytes", NULL);
	assert_int_equal(yaml_parse("a: abc", 6, &lim, &d, NULL), 0);
	doc_free(d);
}

/* ---- emission ---- */

static char *emit_yaml(const struct doc *d)
{
	struct buf b = BUF_INIT(1 << 22);

	assert_int_equal(yaml_emit(d, &b), 0);
	return buf_detach(&b, NULL);
}

static char *emit_json(const struct doc *d, int pretty)
{
	struct buf b = BUF_INIT(1 << 22);

	assert_int_equal(json_emit(d, &b, pretty), 0);
	return buf_detach(&b, NULL);
}

static void test_emit_exact(void **state)
{
	struct doc *d = parse_ok("a: 1\n"
				 "b: [x, {c: d, e: []}, [1, 2]]\n"
				 "f: {}\n"
				 "g: {h: {i: true}}\n"
				 "n: ~\n"
				 "fl: 2.50\n");
	char *y = emit_yaml(d), *j = emit_json(d, 0), *p;

	(void)state;
	assert_string_equal(y, "a: 1\n"
			       "b:\n"
			       "  - x\n"
			       "  - c: d\n"
			       "    e: []\n"
			       "  - - 1\n"
			       "    - 2\n"
			       "f: {}\n"
			       "g:\n"
			       "  h:\n"
			       "    i: true\n"
			       "n: null\n"
			       "fl: 2.5\n");
	assert_string_equal(j, "{\"a\":1,\"b\":[\"x\",{\"c\":\"d\",\"e\":[]},"
			       "[1,2]],\"f\":{},\"g\":{\"h\":{\"i\":true}},"
			       "\"n\":null,\"fl\":2.5}");
	p = emit_json(doc_get(d, "b"), 1);
	assert_string_equal(p, "[\n"
			       "  \"x\",\n"
			       "  {\n"
			       "    \"c\": \"d\",\n"
			       "    \"e\": []\n"
			       "  },\n"
			       "  [\n"
			       "    1,\n"
			       "    2\n"
			       "  ]\n"
			       "]\n");
	free(p);
	free(y);
	free(j);
	doc_free(d);

	d = doc_strz("top");
	y = emit_yaml(d);
	assert_string_equal(y, "top\n");
	free(y);
	doc_free(d);
	d = doc_new(DOC_MAP);
	y = emit_yaml(d);
	assert_string_equal(y, "{}\n");
	free(y);
	p = emit_json(d, 1);
	assert_string_equal(p, "{}\n");
	free(p);
	doc_free(d);
}

static void test_emit_sealed_masked(void **state)
{
	struct doc *d = doc_new(DOC_MAP), *back;
	char *y, *j;

	(void)state;
	doc_map_set(d, "password", doc_sealed("SECRETBYTES", 11));
	y = emit_yaml(d);
	j = emit_json(d, 0);
	assert_null(strstr(y, "SECRET"));
	assert_null(strstr(j, "SECRET"));
	assert_string_equal(y, "password: \"***\"\n");
	assert_string_equal(j, "{\"password\":\"***\"}");
	back = parse_ok(y);
	assert_string_equal(doc_get_str(back, "password"), "***");
	doc_free(back);
	free(y);
	free(j);
	doc_free(d);
}

static void test_json_quote(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} cases[] = {
	    {"plain", 5, "\"plain\""},
	    {"q\"b\\s/", 6, "\"q\\\"b\\\\s/\""},
	    {"\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\""},
	    {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
	    {"a\0b", 3, "\"a\\u0000b\""},
	    {"é€😀", 9, "\"é€😀\""},
	    {"bad\xff\xc3", 5, "\"bad\\ufffd\\ufffd\""},
	    {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""},
	    {"", 0, "\"\""},
	};
	struct buf b = BUF_INIT(4);
	size_t k;

	(void)state;
	assert_int_equal(json_quote(&b, "toolong", 7), -EFBIG);
	assert_int_equal(b.len, 0);
	b.cap = 1024;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		buf_reset(&b);
		assert_int_equal(json_quote(&b, cases[k].in, cases[k].n), 0);
		assert_string_equal(b.data, cases[k].want);
		assert_int_equal(json_quoted_len(cases[k].in, cases[k].n),
				 b.len);
	}
	buf_release(&b);
}

/* json_quoted_len() is json_quote()'s length for any bytes: printable
 * runs (read eight at a time) broken at every offset by what must be
 * escaped or decoded, and random bytes. */
static void test_json_quoted_len(void **state)
{
	static const char *odd[] = {"\"", "\\", "\n", "\x01", "\x7f",
				    "\xc3\xa9", "\xe2\x82\xac", "\xff",
				    "\xc3", "\xf0\x9f\x98\x80", "\xed\xa0\x80"};
	struct buf b = BUF_INIT(SIZE_MAX), in = BUF_INIT(SIZE_MAX);
	unsigned seed = 12;

	(void)state;
	for (size_t o = 0; o < sizeof(odd) / sizeof(*odd); o++) {
		for (size_t at = 0; at < 40; at++) {
			buf_reset(&in);
			for (size_t k = 0; k < at; k++)
				buf_addc(&in, (char)('A' + k % 26));
			buf_addstr(&in, odd[o]);
			buf_addstr(&in, "tail of plain text, 8+ bytes");
			buf_reset(&b);
			assert_int_equal(json_quote(&b, in.data, in.len), 0);
			assert_int_equal(json_quoted_len(in.data, in.len),
					 b.len);
		}
	}
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand_r(&seed) % 200);

		buf_reset(&in);
		for (size_t k = 0; k < n; k++) {
			int r = rand_r(&seed);

			buf_addc(&in, (char)(r % 4 ? 0x20 + (r >> 8) % 0x5f
						 : (r >> 8) & 0xff));
		}
		buf_reset(&b);
		assert_int_equal(json_quote(&b, in.data, in.len), 0);
		assert_int_equal(json_quoted_len(in.data, in.len), b.len);
	}
	buf_release(&b);
	buf_release(&in);
}

static void test_json_numbers(void **state)
{
	struct doc *d = parse_ok("[1, -2, 1.5, 1e3, .inf, -.inf, .nan, "
				 "99999999999999999999, '7']");
	char *j = emit_json(d, 0);

	(void)state;
	assert_string_equal(j, "[1,-2,1.5,1000.0,\".inf\",\"-.inf\",\".nan\","
			       "99999999999999999999,\"7\"]");
	free(j);
	doc_free(d);
}

/* The tricky strings: each must come back as the same string. */
static const char *const tricky[] = {
    "true",
    "false",
    "True",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "null",
    "Null",
    "~",
    "",
    " ",
    " x",
    "x ",
    "1.0",
    "1",
    "-1",
    "0x1F",
    "0o7",
    "1e3",
    ".inf",
    ".nan",
    "+1",
    "007",
    "a: b",
    "a:b",
    "a:",
    "#x",
    "x #y",
    "x#y",
    "- x",
    "-x",
    "-",
    "---",
    "...",
    "? x",
    "[x]",
    "{x}",
    "x, y",
    "&a",
    "*a",
    "!tag",
    "|",
    ">",
    "%x",
    "@x",
    "`x",
    "'q'",
    "\"dq\"",
    "it's",
    "back\\slash",
    "tab\there",
    "multi\nline\n",
    "\ntrailing",
    "cr\rlf",
    "bell\a",
    "esc\x1b",
    "del\x7f",
    "é ü ß",
    "日本語",
    "😀",
    "nel\xc2\x85x",
    "ls\xe2\x80\xa8ps\xe2\x80\xa9",
    "bom\xef\xbb\xbf",
    "c1\xc2\x80",
    "nbsp\xc2\xa0",
    "http://example.com/a?b=c#frag",
    "key: value # comment",
    "  indented",
    "***",
};

static void test_yaml_roundtrip_strings(void **state)
{
	struct doc *m = doc_new(DOC_MAP), *l = doc_new(DOC_LIST), *back;
	char key[16], *y;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(tricky) / sizeof(tricky[0]); k++) {
		snprintf(key, sizeof(key), "k%zu", k);
		assert_int_equal(doc_map_setstr(m, key, tricky[k]), 0);
		assert_int_equal(doc_map_set(m, tricky[k], doc_int((int64_t)k)),
				 0);
		assert_int_equal(doc_list_add(l, doc_strz(tricky[k])), 0);
	}
	assert_int_equal(doc_map_set(m, "nul", doc_str("a\0b", 3)), 0);
	assert_int_equal(doc_map_set(m, "list", l), 0);
	y = emit_yaml(m);
	back = parse_ok(y);
	for (k = 0; k < m->n; k++) {
		const struct doc *v = doc_map_get(back, m->u.kv[k].key);

		if (!v || !doc_equal(v, m->u.kv[k].val))
			fail_msg("key \"%s\" did not survive:\n%s",
				 m->u.kv[k].key, y);
	}
	assert_true(doc_equal(m, back));
	free(y);
	doc_free(back);

	/* Each string alone, at the top level too. */
	for (k = 0; k < sizeof(tricky) / sizeof(tricky[0]); k++) {
		struct doc *s = doc_strz(tricky[k]);

		y = emit_yaml(s);
		back = parse_ok(y);
		if (!doc_equal(s, back))
			fail_msg("top-level \"%s\" came back different: %s",
				 tricky[k], y);
		free(y);
		doc_free(back);
		doc_free(s);
	}
	doc_free(m);
}

static void test_yaml_roundtrip_structures(void **state)
{
	const char *in = "a:\n"
			 "  - [1, [2, [3, []]]]\n"
			 "  - {x: {y: {z: {}}}}\n"
			 "  - - - deep\n"
			 "b: 9223372036854775807\n"
			 "c: -0.0\n"
			 "d: 123456789012345678901234567890\n"
			 "e: !!str 12\n"
			 "f: [~, true, 1e-300, .inf]\n"
			 "\"multi\\nline key\": v\n";
	struct doc *d = parse_ok(in), *back, *big;
	char *y, *key;

	(void)state;
	y = emit_yaml(d);
	back = parse_ok(y);
	if (!doc_equal(d, back))
		fail_msg("round trip differs:\n%s", y);
	free(y);
	doc_free(back);

	/* A key longer than libyaml's implicit-key limit. */
	key = repeat("", "k", 3000, "");
	big = doc_new(DOC_MAP);
	assert_int_equal(doc_map_set(big, key, doc_clone(d)), 0);
	y = emit_yaml(big);
	back = parse_ok(y);
	assert_true(doc_equal(big, back));
	free(y);
	doc_free(back);
	doc_free(big);
	free(key);
	doc_free(d);
}

static void test_emit_invalid_utf8_parses(void **state)
{
	struct doc *d = doc_str("bad\xff\xfe"
				"end",
				8),
		   *back;
	char *y = emit_yaml(d);

	(void)state;
	back = parse_ok(y);
	assert_int_equal(back->type, DOC_STR);
	assert_string_equal(back->u.s, "bad\xef\xbf\xbd\xef\xbf\xbd"
				       "end");
	free(y);
	doc_free(back);
	doc_free(d);
}

static void test_emit_cap(void **state)
{
	struct doc *d = parse_ok("a: [1, 2, 3]\nb: text\n");
	struct buf b = BUF_INIT(10);

	(void)state;
	buf_addstr(&b, "pre");
	assert_int_equal(yaml_emit(d, &b), -EFBIG);
	assert_string_equal(b.data, "pre");
	assert_int_equal(json_emit(d, &b, 1), -EFBIG);
	assert_string_equal(b.data, "pre");
	buf_release(&b);
	doc_free(d);
}

/* Run jq over our JSON when jq is installed. */
static int jq_eval(const char *json, const char *filter, char *out, size_t cap)
{
	char path[] = "/tmp/test_yaml_jq_XXXXXX", cmd[256];
	FILE *f;
	size_t n;
	int fd, rc;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	snprintf(cmd, sizeof(cmd), "jq -r '%s' %s 2>&1", filter, path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	rc = pclose(f);
	unlink(path);
	return rc;
}

static void test_json_through_jq(void **state)
{
	const char *in =
	    "name: \"quote \\\" back\\\\ tab\\t nl\\n\"\n"
	    "uni: \"é\\u0001😀\"\n"
	    "nums: [1, -2.5, 1e300, .inf, .nan, 99999999999999999999]\n"
	    "nested: {a: [{}, [], null, true]}\n";
	struct doc *d = parse_ok(in);
	char out[512], *j;
	int pretty;

	(void)state;
	if (system("command -v jq >/dev/null 2>&1") != 0) {
		doc_free(d);
		skip();
	}
	for (pretty = 0; pretty < 2; pretty++) {
		j = emit_json(d, pretty);
		assert_int_equal(jq_eval(j, ".name", out, sizeof(out)), 0);
		assert_string_equal(out, "quote \" back\\ tab\t nl\n\n");
		assert_int_equal(
		    jq_eval(j, ".uni|explode|.[1]", out, sizeof(out)), 0);
		assert_string_equal(out, "1\n");
		assert_int_equal(
		    jq_eval(j, ".nums|map(type)|join(\",\")", out, sizeof(out)),
		    0);
		assert_string_equal(
		    out, "number,number,number,string,string,number\n");
		assert_int_equal(
		    jq_eval(j, ".nested.a|length", out, sizeof(out)), 0);
		assert_string_equal(out, "4\n");
		free(j);
	}
	doc_free(d);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/*
 * Mutated documents must fail cleanly or parse; whatever parses must emit
 * as YAML that parses back equal, and as JSON.
 */
static void test_parse_fuzz(void **state)
{
	static const char seed[] =
	    "a: &x {b: [1, 2.5, \"s\\n\", 'q', ~, true]}\n"
	    "c: *x\n"
	    "d: |\n  block é\n  text\n"
	    "e: !!str 12\n"
	    "f:\n  - g: h\n    i: [j, {k: l}]\n"
	    "\"m n\": 0x1F # c\n";
	static const char alphabet[] = ":-[]{},&*!|>'\"#\n \t?%@`~.0x\xc3\xa9";
	char text[sizeof(seed) + 8];
	struct doc *d, *back;
	struct buf y = BUF_INIT(1 << 20), j = BUF_INIT(1 << 20);
	size_t k, m, n, ok = 0;
	int rc;

	(void)state;
	for (k = 0; k < 4000; k++) {
		memcpy(text, seed, sizeof(seed));
		n = sizeof(seed) - 1;
		for (m = 0; m <= rnd() % 4; m++)
			text[rnd() % n] =
			    alphabet[rnd() % (sizeof(alphabet) - 1)];
		if (k % 3 == 0)
			n = rnd() % n;
		d = NULL;
		rc = yaml_parse(text, n, NULL, &d, NULL);
		if (rc == -EBADMSG || rc == -EFBIG)
			continue;
		assert_int_equal(rc, 0);
		buf_reset(&y);
		buf_reset(&j);
		assert_int_equal(yaml_emit(d, &y), 0);
		assert_int_equal(json_emit(d, &j, k % 2), 0);
		back = NULL;
		if (yaml_parse(y.data, y.len, NULL, &back, NULL) != 0 ||
		    !doc_equal(d, back))
			fail_msg(
			    "re-parse differs for input:\n%.*s\noutput:\n%s",
			    (int)n, text, y.data);
		doc_free(back);
		doc_free(d);
		ok++;
	}
	/* Enough mutants must parse for the round trip to mean something. */
	printf("fuzz: %zu of 4000 mutants parsed\n", ok);
	assert_true(ok > 400);
	buf_release(&y);
	buf_release(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolution),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_aliases_expand),
	    cmocka_unit_test(test_alias_big_map),
	    cmocka_unit_test(test_positions_bytes),
	    cmocka_unit_test(test_positions_bom_crlf),
	    cmocka_unit_test(test_span_splice),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_limits_map_items),
	    cmocka_unit_test(test_alias_bombs),
	    cmocka_unit_test(test_custom_limits),
	    cmocka_unit_test(test_emit_exact),
	    cmocka_unit_test(test_emit_sealed_masked),
	    cmocka_unit_test(test_json_quote),
	    cmocka_unit_test(test_json_quoted_len),
	    cmocka_unit_test(test_json_numbers),
	    cmocka_unit_test(test_yaml_roundtrip_strings),
	    cmocka_unit_test(test_yaml_roundtrip_structures),
	    cmocka_unit_test(test_emit_invalid_utf8_parses),
	    cmocka_unit_test(test_emit_cap),
	    cmocka_unit_test(test_json_through_jq),
	    cmocka_unit_test(test_parse_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
