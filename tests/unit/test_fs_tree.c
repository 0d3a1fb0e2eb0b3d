/*
 * test_fs_tree.c - the in-memory nodes of fs/tree.h: bounded file
 * contents (writes at any offset, truncates to any size), names, reference
 * counts, renames, aliases, and wiping of contents when a node is freed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/seal.h"
#include "fs/fs.h"
#include "fs/tree.h"

/*
 * tree.c wipes node contents with seal_wipe() (crypt/, libsodium).  This
 * stand-in zeroes too and counts, so a test can see that a freed node's
 * bytes were wiped and that a node still referenced was not freed.
 */
static size_t wiped_calls;
static size_t wiped_bytes;

void seal_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = 0;
	wiped_calls++;
	wiped_bytes += n;
}

#define KIND ((enum kind_id)0)
#define DIR_INO 16

struct pwrite_case {
	const char *what;
	const char *data;
	size_t size;	/* 0: strlen(data) */
	off_t off;
	ssize_t rc;
	const char *after;	/* contents afterwards, @after_len bytes */
	size_t after_len;
};

/* Each case starts from "hello" in a buffer capped at 16 bytes. */
static const struct pwrite_case pwrite_cases[] = {
	{ "overwrite", "HE", 0, 0, 2, "HEllo", 5 },
	{ "append", "!", 0, 5, 1, "hello!", 6 },
	{ "straddle", "LOOO", 0, 3, 4, "helLOOO", 7 },
	{ "hole", "x", 0, 8, 1, "hello\0\0\0x", 9 },
	{ "exactly to cap", "0123456789a", 0, 5, 11, "hello0123456789a", 16 },
	{ "one past cap", "0123456789ab", 0, 5, -EFBIG, "hello", 5 },
	{ "at cap", "x", 0, 16, -EFBIG, "hello", 5 },
	{ "empty at cap", "", 0, 16, 0, "hello", 5 },
	{ "past cap", "x", 0, 17, -EFBIG, "hello", 5 },
	{ "offset 4G", "x", 0, 1LL << 32, -EFBIG, "hello", 5 },
	{ "offset max", "x", 0, INT64_MAX, -EFBIG, "hello", 5 },
	{ "negative", "x", 0, -1, -EINVAL, "hello", 5 },
	{ "size max", "x", SIZE_MAX, 0, -EFBIG, "hello", 5 },
	{ "size max at 1", "x", SIZE_MAX, 1, -EFBIG, "hello", 5 },
};

static void test_pwrite_table(void **state)
{
	size_t i, size;
	ssize_t rc;

	(void)state;
	for (i = 0; i < sizeof(pwrite_cases) / sizeof(pwrite_cases[0]); i++) {
		const struct pwrite_case *c = &pwrite_cases[i];
		struct buf b = BUF_INIT(16);

		assert_int_equal(buf_add(&b, "hello", 5), 0);
		size = c->size ? c->size : strlen(c->data);
		rc = fbuf_pwrite(&b, c->data, size, c->off);
		if (rc != c->rc)
			fail_msg("%s: rc %zd, want %zd", c->what, rc, c->rc);
		if (b.len != c->after_len ||
		    memcmp(b.data, c->after, c->after_len) != 0)
			fail_msg("%s: contents changed wrongly (len %zu)",
				 c->what, b.len);
		buf_release(&b);
	}
}

struct resize_case {
	off_t size;
	int rc;
	size_t len;
};

static const struct resize_case resize_cases[] = {
	{ 0, 0, 0 },
	{ 2, 0, 2 },
	{ 5, 0, 5 },
	{ 12, 0, 12 },
	{ 16, 0, 16 },
	{ 17, -EFBIG, 5 },
	{ 3LL << 30, -EFBIG, 5 },
	{ INT64_MAX, -EFBIG, 5 },
	{ -1, -EINVAL, 5 },
	{ INT64_MIN, -EINVAL, 5 },
};

static void test_resize_table(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(resize_cases) / sizeof(resize_cases[0]); i++) {
		const struct resize_case *c = &resize_cases[i];
		struct buf b = BUF_INIT(16);

		assert_int_equal(buf_add(&b, "hello", 5), 0);
		if (fbuf_resize(&b, c->size) != c->rc)
			fail_msg("resize to %lld: wrong rc",
				 (long long)c->size);
		assert_int_equal(b.len, c->len);
		for (k = 5; k < b.len; k++)
			assert_int_equal(b.data[k], '\0');
		if (b.len)
			assert_memory_equal(b.data, "hello",
					    b.len < 5 ? b.len : 5);
		buf_release(&b);
	}
}

static void test_node_contents_bounded(void **state)
{
	struct tree *t = NULL;
	struct node *n = NULL;
	char *out = NULL;
	off_t size;
	mode_t mode;
	struct timespec mt;

	(void)state;
	assert_int_equal(tree_new(&t), 0);
	assert_int_equal(tree_add(t, DIR_INO, "a.yaml", NODE_PENDING, KIND,
				  0100644, &n), 0);
	assert_true(n->ino >= FS_INO_MEM);
	assert_int_equal(tree_write(t, n, "abc", 3, 0), 3);
	assert_int_equal(tree_write(t, n, "x", 1, FS_DOC_CAP), -EFBIG);
	assert_int_equal(tree_write(t, n, "x", 1, INT64_MAX), -EFBIG);
	assert_int_equal(tree_truncate(t, n, (off_t)FS_DOC_CAP + 1), -EFBIG);
	assert_int_equal(tree_truncate(t, n, -1), -EINVAL);
	tree_stat(t, n, &size, &mode, &mt);
	assert_int_equal(size, 3);
	assert_int_equal(mode, 0644);
	assert_int_equal(tree_read(t, n, 1, 100, &out), 2);
	assert_memory_equal(out, "bc", 2);
	free(out);
	assert_int_equal(tree_read(t, n, 3, 100, &out), 0);
	assert_null(out);
	assert_int_equal(tree_read(t, n, INT64_MAX, 100, &out), 0);
	assert_int_equal(tree_truncate(t, n, (off_t)FS_DOC_CAP), 0);
	tree_put(t, n);
	tree_free(t);
}

static void test_names_and_refs(void **state)
{
	struct tree *t = NULL;
	struct node *n = NULL, *m = NULL, *f;
	size_t calls;

	(void)state;
	assert_int_equal(tree_new(&t), 0);
	assert_int_equal(tree_add(t, DIR_INO, "4913", NODE_SCRATCH, KIND,
				  0644, &n), 0);
	assert_int_equal(tree_add(t, DIR_INO, "4913", NODE_SCRATCH, KIND,
				  0644, &m), -EEXIST);
	assert_int_equal(tree_add(t, DIR_INO + 1, "4913", NODE_SCRATCH, KIND,
				  0644, &m), 0);
	assert_true(m->ino != n->ino);
	f = tree_find(t, DIR_INO, "4913");
	assert_ptr_equal(f, n);
	tree_put(t, f);
	assert_int_equal(tree_write(t, n, "secret", 6, 0), 6);

	/* Unlinked while referenced (an open handle): still usable. */
	calls = wiped_calls;
	assert_true(tree_unlink(t, n, NULL, NULL));
	assert_false(tree_unlink(t, n, NULL, NULL));
	assert_null(tree_find(t, DIR_INO, "4913"));
	assert_null(tree_get(t, n->ino));
	assert_int_equal(wiped_calls, calls);
	assert_int_equal(tree_write(t, n, "!", 1, 6), 1);
	/* The last reference frees it, and its bytes are wiped. */
	wiped_bytes = 0;
	tree_put(t, n);
	assert_int_equal(wiped_calls, calls + 1);
	assert_true(wiped_bytes >= 7);
	tree_put(t, m);
	tree_free(t);
}

static void test_rename(void **state)
{
	struct tree *t = NULL;
	struct node *a = NULL, *b = NULL, *d = NULL, *f;
	uint64_t gone = 1, b_ino;

	(void)state;
	assert_int_equal(tree_new(&t), 0);
	assert_int_equal(tree_add(t, DIR_INO, "a", NODE_SCRATCH, KIND, 0644,
				  &a), 0);
	assert_int_equal(tree_add(t, DIR_INO, "b", NODE_SCRATCH, KIND, 0644,
				  &b), 0);
	assert_int_equal(tree_add(t, DIR_INO, "dev", NODE_DRAFT, KIND, 0755,
				  &d), 0);
	b_ino = b->ino;
	assert_int_equal(tree_rename(t, a, DIR_INO, "b", NODE_SCRATCH, true,
				     &gone), -EEXIST);
	assert_int_equal(gone, 0);
	assert_int_equal(tree_rename(t, a, DIR_INO, "dev", NODE_SCRATCH,
				     false, &gone), -EISDIR);
	assert_int_equal(tree_rename(t, a, DIR_INO, "b", NODE_PENDING, false,
				     &gone), 0);
	assert_int_equal(gone, b_ino);
	f = tree_find(t, DIR_INO, "b");
	assert_ptr_equal(f, a);
	assert_int_equal(tree_type(t, f, NULL), NODE_PENDING);
	tree_put(t, f);
	assert_null(tree_find(t, DIR_INO, "a"));
	assert_null(tree_get(t, b_ino));
	tree_put(t, b);	/* the replaced node goes with our reference */
	/* A node no longer named cannot be renamed. */
	tree_unlink(t, a, NULL, NULL);
	assert_int_equal(tree_rename(t, a, DIR_INO, "c", NODE_SCRATCH, false,
				     &gone), -ENOENT);
	tree_put(t, a);
	tree_put(t, d);
	tree_free(t);
}

static void test_alias_and_forget(void **state)
{
	struct tree *t = NULL;
	struct node *d = NULL, *s = NULL, *x = NULL, *g;
	uint64_t target = 0, d_ino;
	enum node_type type;
	char name[NAME_MAX + 1];

	(void)state;
	assert_int_equal(tree_new(&t), 0);
	assert_int_equal(tree_add(t, DIR_INO, "dev", NODE_DRAFT, KIND, 0755,
				  &d), 0);
	assert_int_equal(tree_add(t, d->ino, "spec.yaml", NODE_DRAFT_SPEC,
				  KIND, 0644, &s), 0);
	assert_int_equal(tree_add(t, d->ino, "4913", NODE_SCRATCH, KIND, 0644,
				  &x), 0);
	d_ino = d->ino;
	tree_move_children(t, d->ino, 64);
	g = tree_find(t, 64, "4913");
	assert_ptr_equal(g, x);
	tree_put(t, g);
	tree_alias(t, d, 64);
	assert_null(tree_find(t, DIR_INO, "dev"));
	assert_false(tree_where(t, d, &type, name));
	assert_string_equal(name, "dev");
	g = tree_get(t, d_ino);
	assert_ptr_equal(g, d);
	assert_int_equal(tree_type(t, g, &target), NODE_ALIAS);
	assert_int_equal(target, 64);
	tree_put(t, g);
	/* The name is free again. */
	tree_put(t, d);
	assert_int_equal(tree_add(t, DIR_INO, "dev", NODE_DRAFT, KIND, 0755,
				  &d), 0);
	tree_put(t, d);
	/* Forget frees an alias, and only an alias. */
	tree_forget(t, d_ino);
	assert_null(tree_get(t, d_ino));
	tree_forget(t, x->ino);
	g = tree_get(t, x->ino);
	assert_ptr_equal(g, x);
	tree_put(t, g);
	tree_put(t, x);
	tree_put(t, s);
	tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pwrite_table),
		cmocka_unit_test(test_resize_table),
		cmocka_unit_test(test_node_contents_bounded),
		cmocka_unit_test(test_names_and_refs),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_alias_and_forget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
