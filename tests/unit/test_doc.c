/*
 * test_doc.c - the document tree and its binary encoding, including a
 * robustness run of doc_decode() over random, truncated and bit-flipped
 * input (meant for the sanitizer build).
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

#include "core/doc.h"

/* A tree with every node type, nested a few levels. */
static struct doc *sample(void)
{
	struct doc *m = doc_new(DOC_MAP), *l = doc_new(DOC_LIST), *c;

	assert_non_null(m);
	assert_non_null(l);
	assert_int_equal(doc_map_setstr(m, "name", "demo"), 0);
	assert_int_equal(doc_map_set(m, "n", doc_int(-42)), 0);
	assert_int_equal(doc_map_set(m, "big", doc_int(INT64_MIN)), 0);
	assert_int_equal(doc_map_set(m, "f", doc_float_text("1.5")), 0);
	assert_int_equal(doc_map_set(m, "t", doc_bool(true)), 0);
	assert_int_equal(doc_map_set(m, "z", doc_new(DOC_NULL)), 0);
	assert_int_equal(doc_map_set(m, "bin", doc_str("a\0b", 3)), 0);
	assert_int_equal(doc_map_set(m, "s", doc_sealed("\x01\x00\xff", 3)), 0);
	assert_int_equal(doc_list_add(l, doc_strz("x")), 0);
	assert_int_equal(doc_list_add(l, doc_new(DOC_MAP)), 0);
	assert_int_equal(doc_list_add(l, doc_new(DOC_LIST)), 0);
	assert_int_equal(doc_map_set(m, "list", l), 0);
	c = doc_map_child(m, "spec");
	assert_non_null(c);
	c = doc_map_child(c, "document");
	assert_non_null(c);
	assert_int_equal(doc_map_setstr(c, "name", "inner"), 0);
	return m;
}

static void test_constructors(void **state)
{
	static const struct {
		enum doc_type t;
		const char *text;
	} cases[] = {
	    {DOC_NULL, ""},	{DOC_BOOL, "false"}, {DOC_INT, "0"},
	    {DOC_FLOAT, "0.0"}, {DOC_STR, ""},
	};
	struct doc *d;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		d = doc_new(cases[k].t);
		assert_non_null(d);
		assert_int_equal(d->type, cases[k].t);
		assert_string_equal(d->u.s, cases[k].text);
		assert_true(doc_is_scalar(d));
		doc_free(d);
	}
	d = doc_int(INT64_MIN);
	assert_string_equal(d->u.s, "-9223372036854775808");
	assert_true(d->i == INT64_MIN);
	doc_free(d);
	d = doc_bool(true);
	assert_string_equal(d->u.s, "true");
	assert_int_equal(d->i, 1);
	doc_free(d);
	d = doc_str("a\0b", 3);
	assert_int_equal(d->n, 3);
	assert_memory_equal(d->u.s, "a\0b", 4);
	doc_free(d);
	d = doc_sealed("", 0);
	assert_int_equal(d->type, DOC_SEALED);
	assert_false(doc_is_scalar(d));
	doc_free(d);
	d = doc_new(DOC_MAP);
	assert_int_equal(d->n, 0);
	assert_false(doc_is_scalar(d));
	doc_free(d);
	assert_null(doc_strz(NULL));
	doc_free(NULL);
}

static void test_map_order_and_replace(void **state)
{
	struct doc *m = doc_new(DOC_MAP), *v;

	(void)state;
	assert_int_equal(doc_map_setstr(m, "b", "1"), 0);
	assert_int_equal(doc_map_setstr(m, "a", "2"), 0);
	assert_int_equal(doc_map_setstr(m, "c", "3"), 0);
	assert_int_equal(doc_map_setstr(m, "a", "two"), 0);
	assert_int_equal(m->n, 3);
	assert_string_equal(m->u.kv[0].key, "b");
	assert_string_equal(m->u.kv[1].key, "a");
	assert_string_equal(m->u.kv[1].val->u.s, "two");
	assert_string_equal(m->u.kv[2].key, "c");

	v = doc_map_take(m, "b");
	assert_string_equal(v->u.s, "1");
	doc_free(v);
	assert_null(doc_map_take(m, "b"));
	assert_string_equal(m->u.kv[0].key, "a");
	assert_int_equal(doc_map_del(m, "a"), 0);
	assert_int_equal(doc_map_del(m, "a"), -ENOENT);
	assert_int_equal(m->n, 1);
	assert_string_equal(m->u.kv[0].key, "c");
	assert_null(doc_map_get(m, "zz"));
	doc_free(m);
}

static void test_wrong_types_take_ownership(void **state)
{
	struct doc *m = doc_new(DOC_MAP), *l = doc_new(DOC_LIST);

	(void)state;
	/* The value is freed on failure; ASan reports a leak if not. */
	assert_int_equal(doc_list_add(m, doc_strz("x")), -EINVAL);
	assert_int_equal(doc_map_set(l, "k", doc_strz("x")), -EINVAL);
	assert_int_equal(doc_map_set(m, "k", NULL), -ENOMEM);
	assert_int_equal(doc_list_add(l, NULL), -ENOMEM);
	assert_int_equal(doc_map_set(m, NULL, doc_strz("x")), -EINVAL);
	assert_null(doc_map_get(l, "k"));
	assert_int_equal(doc_map_setstr(m, "s", "str"), 0);
	assert_null(doc_map_child(m, "s")); /* exists, not a map */
	assert_int_equal(m->n, 1);
	assert_int_equal(l->n, 0);
	doc_free(m);
	doc_free(l);
}

static void test_growth(void **state)
{
	struct doc *m = doc_new(DOC_MAP), *l = doc_new(DOC_LIST);
	char key[16];
	int k;

	(void)state;
	for (k = 0; k < 1000; k++) {
		snprintf(key, sizeof(key), "k%d", k);
		assert_int_equal(doc_map_set(m, key, doc_int(k)), 0);
		assert_int_equal(doc_list_add(l, doc_int(k)), 0);
	}
	assert_int_equal(m->n, 1000);
	assert_int_equal(l->n, 1000);
	assert_true(m->alloc >= 1000 && m->alloc < 4000);
	assert_int_equal(doc_map_get(m, "k777")->i, 777);
	assert_int_equal(l->u.items[999]->i, 999);
	doc_free(m);
	doc_free(l);
}

static void test_paths(void **state)
{
	static const struct {
		const char *path;
		const char *want; /* NULL: absent or not string-like */
	} cases[] = {
	    {"name", "demo"},
	    {"spec.document.name", "inner"},
	    {"n", "-42"},
	    {"f", "1.5"},
	    {"t", "true"},
	    {"z", NULL},
	    {"s", NULL},
	    {"list", NULL},
	    {"spec.document", NULL},
	    {"spec.nothing.name", NULL},
	    {"name.more", NULL},
	    {"spec..name", NULL},
	    {"spec.document.", NULL},
	    {"missing", NULL},
	};
	struct doc *d = sample();
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const char *got = doc_get_str(d, cases[k].path);

		if (cases[k].want)
			assert_string_equal(got, cases[k].want);
		else
			assert_null(got);
	}
	assert_ptr_equal(doc_get(d, ""), d);
	assert_int_equal(doc_get(d, "spec.document")->type, DOC_MAP);
	assert_int_equal(doc_get(d, "z")->type, DOC_NULL);
	assert_null(doc_get(NULL, "a"));
	doc_free(d);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(doc_type_name(DOC_NULL), "null");
	assert_string_equal(doc_type_name(DOC_BOOL), "bool");
	assert_string_equal(doc_type_name(DOC_INT), "int");
	assert_string_equal(doc_type_name(DOC_FLOAT), "float");
	assert_string_equal(doc_type_name(DOC_STR), "string");
	assert_string_equal(doc_type_name(DOC_SEALED), "sealed");
	assert_string_equal(doc_type_name(DOC_LIST), "list");
	assert_string_equal(doc_type_name(DOC_MAP), "map");
}

static void test_clone_and_equal(void **state)
{
	struct doc *a = sample(), *b, *m1, *m2;

	(void)state;
	a->u.kv[0].val->line = 7;
	a->u.kv[0].val->off = 11;
	a->u.kv[0].val->end = 17;
	b = doc_clone(a);
	assert_true(doc_equal(a, b));
	assert_ptr_not_equal(a->u.kv[0].val, b->u.kv[0].val);
	assert_int_equal(b->u.kv[0].val->line, 7);
	assert_int_equal(b->u.kv[0].val->off, 11);
	assert_int_equal(b->u.kv[0].val->end, 17);

	/* Changing the copy leaves the original alone and breaks equality. */
	assert_int_equal(
	    doc_map_setstr(doc_get(b, "spec.document"), "name", "other"), 0);
	assert_string_equal(doc_get_str(a, "spec.document.name"), "inner");
	assert_false(doc_equal(a, b));
	doc_free(b);

	/* Map order does not matter, positions and flags do not either. */
	m1 = doc_new(DOC_MAP);
	m2 = doc_new(DOC_MAP);
	doc_map_setstr(m1, "x", "1");
	doc_map_setstr(m1, "y", "2");
	doc_map_setstr(m2, "y", "2");
	doc_map_setstr(m2, "x", "1");
	m2->u.kv[0].val->flags = DOC_F_QUOTED;
	m2->u.kv[0].val->line = 3;
	assert_true(doc_equal(m1, m2));
	/* Same text, different type. */
	doc_map_set(m2, "x", doc_int(1));
	assert_false(doc_equal(m1, m2));
	doc_map_set(m2, "x", doc_str("1\0", 2));
	assert_false(doc_equal(m1, m2));
	doc_map_del(m2, "x");
	assert_false(doc_equal(m1, m2));
	assert_false(doc_equal(m1, NULL));
	assert_true(doc_equal(NULL, NULL));
	doc_free(m1);
	doc_free(m2);
	doc_free(a);
}

static void test_list_equal_is_ordered(void **state)
{
	struct doc *a = doc_new(DOC_LIST), *b = doc_new(DOC_LIST);

	(void)state;
	doc_list_add(a, doc_int(1));
	doc_list_add(a, doc_int(2));
	doc_list_add(b, doc_int(2));
	doc_list_add(b, doc_int(1));
	assert_false(doc_equal(a, b));
	doc_free(a);
	doc_free(b);
}

/* ---- encoding ---- */

static struct doc *roundtrip(const struct doc *d)
{
	struct buf b = BUF_INIT(1 << 20);
	struct doc *out = NULL;
	size_t used = 0;

	assert_int_equal(doc_encode(d, &b), 0);
	assert_int_equal(b.data[0], DOC_ENC_VERSION);
	assert_int_equal(doc_decode(b.data, b.len, &out, &used), 0);
	assert_int_equal(used, b.len);
	buf_release(&b);
	return out;
}

static void test_encode_roundtrip(void **state)
{
	struct doc *a = sample(), *b;
	static const int64_t ints[] = {0,  1,	-1,	   63,	     -64,
				       64, 300, INT64_MAX, INT64_MIN};
	size_t k;

	(void)state;
	b = roundtrip(a);
	assert_true(doc_equal(a, b));
	assert_int_equal(doc_get(b, "bin")->n, 3);
	assert_int_equal(doc_get(b, "s")->type, DOC_SEALED);
	assert_memory_equal(doc_get(b, "s")->u.s, "\x01\x00\xff", 3);
	assert_string_equal(b->u.kv[0].key, "name"); /* order kept */
	doc_free(b);
	doc_free(a);
	for (k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
		a = doc_int(ints[k]);
		b = roundtrip(a);
		assert_true(b->i == ints[k]);
		assert_string_equal(a->u.s, b->u.s);
		doc_free(a);
		doc_free(b);
	}
}

static void test_encode_appends_and_trailing(void **state)
{
	struct buf b = BUF_INIT(1024);
	struct doc *d = doc_strz("hi"), *out = NULL;
	size_t used;

	(void)state;
	buf_addstr(&b, "PFX");
	assert_int_equal(doc_encode(d, &b), 0);
	buf_addstr(&b, "TRAILER");
	assert_int_equal(doc_decode(b.data + 3, b.len - 3, &out, &used), 0);
	assert_int_equal(used, b.len - 3 - 7);
	assert_true(doc_equal(d, out));
	doc_free(out);
	buf_release(&b);
	doc_free(d);
}

static void test_encode_errors(void **state)
{
	struct buf b = BUF_INIT(8);
	struct doc *d = doc_strz("longer than eight"), *deep, *c;
	int k;

	(void)state;
	buf_addstr(&b, "ab");
	assert_int_equal(doc_encode(d, &b), -EFBIG);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	buf_release(&b);
	doc_free(d);

	/* DOC_DEPTH_MAX nested lists encode; one more cannot be decoded. */
	deep = doc_new(DOC_LIST);
	c = deep;
	for (k = 1; k < DOC_DEPTH_MAX; k++) {
		doc_list_add(c, doc_new(DOC_LIST));
		c = c->u.items[0];
	}
	b = (struct buf)BUF_INIT(1 << 16);
	assert_int_equal(doc_encode(deep, &b), 0);
	c = NULL;
	assert_int_equal(doc_decode(b.data, b.len, &c, NULL), 0);
	assert_true(doc_equal(deep, c));
	doc_free(c);
	buf_reset(&b);
	c = doc_new(DOC_LIST);
	doc_list_add(c, deep);
	deep = c;
	assert_int_equal(doc_encode(deep, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	doc_free(deep);
}

/* doc_encode_map() writes the bytes of the map it does not build, and
 * keeps a failed append out of @out like doc_encode(). */
static void test_encode_map_borrowed(void **state)
{
	static const char *const keys[] = { "r", "s" };
	struct buf want = BUF_INIT(1 << 16), got = BUF_INIT(1 << 16);
	struct buf small = BUF_INIT(8);
	struct doc *r = sample(), *s = doc_strz("kept: source\n");
	const struct doc *vals[2] = { r, s };
	struct doc *m = doc_new(DOC_MAP);

	(void)state;
	assert_int_equal(doc_map_set(m, "r", doc_clone(r)), 0);
	assert_int_equal(doc_map_set(m, "s", doc_clone(s)), 0);
	assert_int_equal(doc_encode(m, &want), 0);
	assert_int_equal(doc_encode_map(keys, vals, 2, &got), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	buf_addstr(&small, "ab");
	assert_int_equal(doc_encode_map(keys, vals, 2, &small), -EFBIG);
	assert_int_equal(small.len, 2);
	buf_release(&small);
	buf_release(&got);
	buf_release(&want);
	doc_free(m);
	doc_free(s);
	doc_free(r);
}

struct bad_case {
	const char *name;
	const char *bytes;
	size_t n;
};

#define BAD(name, lit)                                                         \
	{                                                                      \
		name, lit, sizeof(lit) - 1                                     \
	}

static void test_decode_malformed(void **state)
{
	static const struct bad_case cases[] = {
	    BAD("empty", ""),
	    BAD("wrong version", "\x02\x00"),
	    BAD("no root", "\x01"),
	    BAD("unknown type", "\x01\x09"),
	    BAD("bool out of range", "\x01\x01\x02"),
	    BAD("truncated varint", "\x01\x02\x80"),
	    BAD("overlong varint",
		"\x01\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
	    BAD("string longer than input", "\x01\x04\x05"
					    "abc"),
	    BAD("huge string length", "\x01\x04\xff\xff\xff\xff\x0f"),
	    BAD("huge list count",
		"\x01\x06\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
	    BAD("list count past input", "\x01\x06\x03\x00\x00"),
	    BAD("map count past input", "\x01\x07\x02\x01"
					"a"
					"\x00"),
	    BAD("NUL in key", "\x01\x07\x01\x02"
			      "a\0"
			      "\x00"),
	    BAD("duplicate keys", "\x01\x07\x02\x01"
				  "a"
				  "\x00\x01"
				  "a"
				  "\x00"),
	    BAD("empty float", "\x01\x03\x00"),
	    BAD("NUL in float", "\x01\x03\x02"
				"1\0"),
	};
	struct doc *out;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		out = (struct doc *)0x1;
		if (doc_decode(cases[k].bytes, cases[k].n, &out, NULL) !=
		    -EBADMSG)
			fail_msg("case \"%s\" did not fail with EBADMSG",
				 cases[k].name);
		assert_ptr_equal(out, (struct doc *)0x1); /* untouched */
	}
}

/* Duplicate keys in a map large enough for the sorted check. */
static void test_decode_duplicate_big_map(void **state)
{
	struct buf b = BUF_INIT(4096);
	struct doc *m = doc_new(DOC_MAP), *out = NULL;
	char key[8], *hit;
	int k;

	(void)state;
	for (k = 0; k < 20; k++) {
		snprintf(key, sizeof(key), "k%02d", k);
		doc_map_set(m, key, doc_int(k));
	}
	assert_int_equal(doc_encode(m, &b), 0);
	assert_int_equal(doc_decode(b.data, b.len, &out, NULL), 0);
	doc_free(out);
	hit = memmem(b.data, b.len, "k17", 3);
	assert_non_null(hit);
	memcpy(hit, "k03", 3);
	assert_int_equal(doc_decode(b.data, b.len, &out, NULL), -EBADMSG);
	buf_release(&b);
	doc_free(m);
}

static void test_decode_depth_cap(void **state)
{
	unsigned char in[2 + 2 * (DOC_DEPTH_MAX + 1)];
	struct doc *out = NULL;
	size_t k, n = 0;

	(void)state;
	/* DOC_DEPTH_MAX + 1 nested one-item lists around a null. */
	in[n++] = DOC_ENC_VERSION;
	for (k = 0; k < DOC_DEPTH_MAX + 1; k++) {
		in[n++] = DOC_LIST;
		in[n++] = 1;
	}
	in[n++] = DOC_NULL;
	assert_int_equal(doc_decode(in, n, &out, NULL), -EBADMSG);
	/* Drop the outermost level: now exactly at the cap. */
	in[2] = DOC_ENC_VERSION;
	assert_int_equal(doc_decode(in + 2, n - 2, &out, NULL), 0);
	doc_free(out);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Whatever decodes must re-encode and decode to an equal tree. */
static void decode_any(const void *p, size_t n)
{
	struct doc *d = NULL, *again;
	size_t used = 0;
	int rc = doc_decode(p, n, &d, &used);

	if (rc == -EBADMSG)
		return;
	assert_int_equal(rc, 0);
	assert_true(used <= n);
	again = roundtrip(d);
	assert_true(doc_equal(d, again));
	doc_free(again);
	doc_free(d);
}

static void test_decode_fuzz(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	unsigned char junk[256], *mut;
	struct doc *d = sample();
	size_t k, j, len;

	(void)state;
	assert_int_equal(doc_encode(d, &b), 0);
	/* Every proper prefix of a valid encoding is incomplete. */
	for (k = 0; k < b.len; k++) {
		struct doc *out = NULL;

		assert_int_equal(doc_decode(b.data, k, &out, NULL), -EBADMSG);
	}
	mut = malloc(b.len);
	assert_non_null(mut);
	for (k = 0; k < 5000; k++) {
		memcpy(mut, b.data, b.len);
		for (j = 0; j <= rnd() % 3; j++)
			mut[rnd() % b.len] ^=
			    (unsigned char)(1u << (rnd() % 8));
		decode_any(mut, 1 + rnd() % b.len);
	}
	for (k = 0; k < 5000; k++) {
		len = rnd() % sizeof(junk);
		for (j = 0; j < len; j++)
			junk[j] = (unsigned char)rnd();
		/* Mostly well-formed headers so the fuzz gets past them. */
		if (len > 1 && k % 2) {
			junk[0] = DOC_ENC_VERSION;
			junk[1] = (unsigned char)(rnd() % 8);
		}
		decode_any(junk, len);
	}
	free(mut);
	buf_release(&b);
	doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constructors),
	    cmocka_unit_test(test_map_order_and_replace),
	    cmocka_unit_test(test_wrong_types_take_ownership),
	    cmocka_unit_test(test_growth),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_type_names),
	    cmocka_unit_test(test_clone_and_equal),
	    cmocka_unit_test(test_list_equal_is_ordered),
	    cmocka_unit_test(test_encode_roundtrip),
	    cmocka_unit_test(test_encode_appends_and_trailing),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_encode_map_borrowed),
	    cmocka_unit_test(test_decode_malformed),
	    cmocka_unit_test(test_decode_duplicate_big_map),
	    cmocka_unit_test(test_decode_depth_cap),
	    cmocka_unit_test(test_decode_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
