/*
 * test_store.c - the durable store: round trips through all three indexes,
 * listing order, change-set preconditions and atomicity, reopen, the
 * single-instance lock, group commit under concurrency, map growth up to
 * ENOSPC, the schema check, stream chunks (appends, reads across chunks,
 * dropped with their record, kept across reopen), durability across
 * kill -9, and a full filesystem (the errno of a failed write; creates
 * refused with ENOSPC, deletes and reopen still working, on a small tmpfs
 * when the test may mount one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/store.h"
#include "core/store_i.h"
#include "fx.h"

struct fx {
	char dir[64];
	struct store *st;
};

static int fx_open(struct fx *f, size_t map_init, size_t map_max)
{
	struct store_opts o = {f->dir, map_init, map_max, 0};
	struct err e = {0, ""};
	int rc = store_open(&f->st, &o, &e);

	if (rc)
		print_error("store_open: %s\n", e.msg);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "store") ||
	    fx_open(f, 0, 0) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void mkid(char out[IDS_ID_MAX], unsigned n)
{
	snprintf(out, IDS_ID_MAX, "wf-%026u", n);
}

static struct store_change put_change(unsigned kind, const char *id,
				      const char *slug, uint64_t serial,
				      const char *body)
{
	struct store_change c;

	memset(&c, 0, sizeof(c));
	c.op = STORE_PUT;
	c.hdr.kind = (uint8_t)kind;
	c.hdr.serial = serial;
	c.hdr.gen = 1;
	c.hdr.ctime_ns = 1000;
	c.hdr.mtime_ns = 1000;
	snprintf(c.hdr.id, sizeof(c.hdr.id), "%s", id);
	snprintf(c.hdr.slug, sizeof(c.hdr.slug), "%s", slug);
	c.body = body;
	c.len = strlen(body);
	return c;
}

static int create(struct store *st, unsigned kind, const char *id,
		  const char *slug, const char *body)
{
	struct store_change c =
	    put_change(kind, id, slug, store_next_serial(st), body);

	return store_commit(st, &c, 1, NULL);
}

/* Put, then read back through the id, slug and serial indexes. */
static void roundtrip(void **state)
{
	struct fx *f = *state;
	struct store_change c = put_change(3, "wf-a", "alpha", 0, "hello");
	struct store_rec h, untouched;
	struct buf b = BUF_INIT(1 << 20);
	struct err e = {0, ""};

	c.hdr.serial = store_next_serial(f->st);
	c.hdr.ctime_ns = 11;
	c.hdr.mtime_ns = 12;
	assert_int_equal(store_commit(f->st, &c, 1, &e), 0);

	assert_int_equal(store_get(f->st, "wf-a", &h, &b), 0);
	assert_int_equal(h.kind, 3);
	assert_int_equal(h.serial, c.hdr.serial);
	assert_int_equal(h.gen, 1);
	assert_int_equal(h.ctime_ns, 11);
	assert_int_equal(h.mtime_ns, 12);
	assert_string_equal(h.id, "wf-a");
	assert_string_equal(h.slug, "alpha");
	assert_string_equal(b.data, "hello");

	buf_reset(&b);
	assert_int_equal(store_get_slug(f->st, 3, "alpha", &h, &b), 0);
	assert_string_equal(h.id, "wf-a");
	assert_string_equal(b.data, "hello");
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_get_serial(f->st, c.hdr.serial, &h, NULL), 0);
	assert_string_equal(h.id, "wf-a");

	/* Misses, and the header is left alone on failure. */
	memset(&untouched, 0x5a, sizeof(untouched));
	h = untouched;
	assert_int_equal(store_get(f->st, "wf-b", &h, NULL), -ENOENT);
	assert_int_equal(store_get_slug(f->st, 4, "alpha", &h, NULL), -ENOENT);
	assert_int_equal(store_get_serial(f->st, c.hdr.serial + 1, &h, NULL),
			 -ENOENT);
	assert_memory_equal(&h, &untouched, sizeof(h));

	/* Update: the store advances gen and keeps ctime. */
	c.body = "bye";
	c.len = 3;
	c.hdr.ctime_ns = 99;
	c.hdr.mtime_ns = 13;
	c.expect_gen = 1;
	assert_int_equal(store_commit(f->st, &c, 1, &e), 0);
	buf_reset(&b);
	assert_int_equal(store_get(f->st, "wf-a", &h, &b), 0);
	assert_int_equal(h.gen, 2);
	assert_int_equal(h.ctime_ns, 11);
	assert_int_equal(h.mtime_ns, 13);
	assert_string_equal(b.data, "bye");

	/* Delete clears every index. */
	assert_int_equal(store_count(f->st, -1), 1);
	c.op = STORE_DEL;
	c.expect_gen = 0;
	assert_int_equal(store_commit(f->st, &c, 1, &e), 0);
	assert_int_equal(store_get(f->st, "wf-a", NULL, NULL), -ENOENT);
	assert_int_equal(store_get_slug(f->st, 3, "alpha", NULL, NULL),
			 -ENOENT);
	assert_int_equal(store_get_serial(f->st, c.hdr.serial, NULL, NULL),
			 -ENOENT);
	assert_int_equal(store_count(f->st, -1), 0);
	assert_int_equal(store_count(f->st, 3), 0);
	/* The slug is free again. */
	assert_int_equal(create(f->st, 3, "wf-a2", "alpha", ""), 0);
	buf_release(&b);
	store_close(NULL);
}

struct seen {
	char slugs[8][SLUG_MAX + 1];
	size_t n;
	size_t stop_at; /* 0: never */
};

static int collect(void *ctx, const struct store_rec *h)
{
	struct seen *s = ctx;

	if (s->n < 8)
		snprintf(s->slugs[s->n], sizeof(s->slugs[0]), "%s", h->slug);
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void expect_list(struct store *st, unsigned kind, const char *after,
			const char *want)
{
	struct seen s = {.n = 0};
	char got[256] = "";
	size_t used = 0;

	assert_int_equal(store_list(st, kind, after, collect, &s), 0);
	for (size_t i = 0; i < s.n && i < 8; i++)
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s",
					 i ? "," : "", s.slugs[i]);
	assert_string_equal(got, want);
}

static void list_order(void **state)
{
	static const char *const slugs[] = {"b", "a", "c", "aa", "ab"};
	struct fx *f = *state;
	struct seen s = {.n = 0, .stop_at = 2};
	char id[IDS_ID_MAX];
	unsigned n = 0;

	for (size_t i = 0; i < 5; i++) {
		mkid(id, n++);
		assert_int_equal(create(f->st, 1, id, slugs[i], "x"), 0);
	}
	mkid(id, n++);
	assert_int_equal(create(f->st, 2, id, "a0", "x"), 0);
	mkid(id, n++);
	assert_int_equal(create(f->st, 0, id, "zz", "x"), 0);

	expect_list(f->st, 1, NULL, "a,aa,ab,b,c");
	expect_list(f->st, 1, "aa", "ab,b,c");
	expect_list(f->st, 1, "a1", "aa,ab,b,c");
	expect_list(f->st, 1, "c", "");
	expect_list(f->st, 1, "zz", "");
	expect_list(f->st, 2, NULL, "a0");
	expect_list(f->st, 0, NULL, "zz");
	expect_list(f->st, 9, NULL, "");
	assert_int_equal(store_list(f->st, 1, NULL, collect, &s), 7);
	assert_int_equal(s.n, 2);
	assert_int_equal(store_count(f->st, 1), 5);
	assert_int_equal(store_count(f->st, 2), 1);
	assert_int_equal(store_count(f->st, 0), 1);
	assert_int_equal(store_count(f->st, 7), 0);
	assert_int_equal(store_count(f->st, -1), 7);
}

struct pre_case {
	const char *name;
	struct store_change c[2];
	size_t n;
	int want;
	const char *msg; /* must appear in the message */
};

#define PUT(k, i, s, ser, g)                                                   \
	{                                                                      \
		.op = STORE_PUT,                                               \
		.hdr = {.kind = k, .serial = ser, .id = i, .slug = s},         \
		.body = "b", .len = 1, .expect_gen = g                         \
	}
#define DEL(i, g)                                                              \
	{                                                                      \
		.op = STORE_DEL, .hdr = {.id = i}, .expect_gen = g             \
	}

/* Every case runs against one record: kind 1, "wf-1", "alpha", serial 1. */
static const struct pre_case pre_cases[] = {
    {"create twice", {PUT(1, "wf-1", "beta", 50, 0)}, 1, -EEXIST, "wf-1"},
    {"slug taken", {PUT(1, "wf-2", "alpha", 50, 0)}, 1, -EEXIST, "alpha"},
    {"serial taken", {PUT(1, "wf-2", "beta", 1, 0)}, 1, -EEXIST, "wf-2"},
    {"wrong gen", {PUT(1, "wf-1", "alpha", 1, 5)}, 1, -ESTALE, "wf-1"},
    {"update missing", {PUT(1, "wf-9", "alpha", 1, 1)}, 1, -ENOENT, "wf-9"},
    {"slug change", {PUT(1, "wf-1", "beta", 1, 1)}, 1, -EINVAL, "wf-1"},
    {"kind change", {PUT(2, "wf-1", "alpha", 1, 1)}, 1, -EINVAL, "wf-1"},
    {"serial change", {PUT(1, "wf-1", "alpha", 7, 1)}, 1, -EINVAL, "wf-1"},
    {"delete missing", {DEL("wf-9", 0)}, 1, -ENOENT, "wf-9"},
    {"delete wrong gen", {DEL("wf-1", 3)}, 1, -ESTALE, "wf-1"},
    {"no slug", {PUT(1, "wf-2", "", 50, 0)}, 1, -EINVAL, "wf-2"},
    {"serial 0", {PUT(1, "wf-2", "beta", 0, 0)}, 1, -EINVAL, "wf-2"},
    {"no id", {PUT(1, "", "beta", 50, 0)}, 1, -EINVAL, "id"},
    {"atomic: second fails",
     {PUT(1, "wf-3", "gamma", 60, 0), PUT(1, "wf-4", "alpha", 61, 0)},
     2,
     -EEXIST,
     "alpha"},
    {"atomic: delete then stale",
     {DEL("wf-1", 1), PUT(1, "wf-1", "alpha", 1, 1)},
     2,
     -ENOENT,
     "wf-1"},
};

static void preconditions(void **state)
{
	struct fx *f = *state;
	struct store_change base = put_change(1, "wf-1", "alpha", 1, "v1");
	struct store_change big = put_change(1, "wf-2", "beta", 50, "x");
	struct store_rec h;
	struct err e;

	assert_int_equal(store_commit(f->st, &base, 1, NULL), 0);
	for (size_t i = 0; i < sizeof(pre_cases) / sizeof(pre_cases[0]); i++) {
		const struct pre_case *pc = &pre_cases[i];

		err_clear(&e);
		assert_int_equal(store_commit(f->st, pc->c, pc->n, &e),
				 pc->want);
		assert_int_equal(e.code, pc->want);
		if (!strstr(e.msg, pc->msg))
			fail_msg("%s: message '%s' lacks '%s'", pc->name, e.msg,
				 pc->msg);
	}
	big.len = STORE_BODY_MAX + 1;
	assert_int_equal(store_commit(f->st, &big, 1, NULL), -EFBIG);

	/* Nothing of any failed set was applied. */
	assert_int_equal(store_count(f->st, -1), 1);
	assert_int_equal(store_get(f->st, "wf-3", NULL, NULL), -ENOENT);
	assert_int_equal(store_get_slug(f->st, 1, "gamma", NULL, NULL),
			 -ENOENT);
	assert_int_equal(store_get_serial(f->st, 60, NULL, NULL), -ENOENT);
	assert_int_equal(store_get(f->st, "wf-1", &h, NULL), 0);
	assert_int_equal(h.gen, 1);

	/* The same slug under another kind is fine, and a set sees its own
	 * earlier changes. */
	{
		struct store_change two[2] = {
		    PUT(2, "wf-5", "alpha", 70, 0),
		    PUT(2, "wf-5", "alpha", 70, 1),
		};

		assert_int_equal(store_commit(f->st, two, 2, NULL), 0);
		assert_int_equal(store_get_slug(f->st, 2, "alpha", &h, NULL),
				 0);
		assert_string_equal(h.id, "wf-5");
		assert_int_equal(h.gen, 2);
	}
}

/* Data and the serial counter survive close and reopen. */
static void reopen(void **state)
{
	struct fx *f = *state;
	struct store_change odd = put_change(1, "wf-odd", "odd", 1000, "o");
	char id[IDS_ID_MAX], slug[16];
	uint64_t hi = 0;
	struct store_rec h;

	for (unsigned i = 0; i < 10; i++) {
		mkid(id, i);
		snprintf(slug, sizeof(slug), "s%u", i);
		assert_int_equal(create(f->st, 1, id, slug, slug), 0);
		assert_int_equal(store_get(f->st, id, &h, NULL), 0);
		if (h.serial > hi)
			hi = h.serial;
	}
	/* A serial the caller did not reserve still moves the counter. */
	assert_int_equal(store_commit(f->st, &odd, 1, NULL), 0);
	assert_true(store_next_serial(f->st) > 1000);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(fx_open(f, 0, 0), 0);
	for (unsigned i = 0; i < 10; i++) {
		struct buf b = BUF_INIT(64);

		mkid(id, i);
		snprintf(slug, sizeof(slug), "s%u", i);
		assert_int_equal(store_get(f->st, id, &h, &b), 0);
		assert_string_equal(h.slug, slug);
		assert_string_equal(b.data, slug);
		buf_release(&b);
	}
	assert_true(hi < 1000);
	assert_true(store_next_serial(f->st) > 1000);
	assert_int_equal(store_count(f->st, -1), 11);
}

static void busy_and_dir(void **state)
{
	struct fx *f = *state;
	struct store_opts o = {f->dir, 0, 0, 0};
	struct store *second = NULL;
	struct err e = {0, ""};
	char want[64], sub[128];
	struct stat sb;

	assert_int_equal(store_open(&second, &o, &e), -EBUSY);
	assert_null(second);
	snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
	assert_non_null(strstr(e.msg, want));
	assert_non_null(strstr(e.msg, f->dir));
	/* The failed attempt did not disturb the holder. */
	assert_int_equal(create(f->st, 1, "wf-x", "x", "x"), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(&second, &o, &e), 0);
	assert_int_equal(store_get(second, "wf-x", NULL, NULL), 0);
	store_close(second);

	/* Missing parents are created, the state directory is 0700. */
	snprintf(sub, sizeof(sub), "%s/a/b/state", f->dir);
	o.dir = sub;
	assert_int_equal(store_open(&second, &o, &e), 0);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	store_close(second);
	assert_int_equal(fx_open(f, 0, 0), 0);
}

#define NTHREADS 8
#define PER_THREAD 200

struct worker {
	struct store *st;
	unsigned base;
	int failures;
};

static void *create_many(void *arg)
{
	struct worker *w = arg;
	char id[IDS_ID_MAX], slug[32];

	for (unsigned i = 0; i < PER_THREAD; i++) {
		mkid(id, w->base + i);
		snprintf(slug, sizeof(slug), "t%u", w->base + i);
		if (create(w->st, 1, id, slug, slug) != 0 ||
		    store_get(w->st, id, NULL, NULL) != 0)
			w->failures++;
	}
	return NULL;
}

static void concurrent_group_commit(void **state)
{
	struct fx *f = *state;
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	uint64_t commits = 0, sets = 0;
	char id[IDS_ID_MAX];

	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){f->st, i * 1000, 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, create_many, &w[i]), 0);
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(store_count(f->st, -1), NTHREADS * PER_THREAD);
	assert_int_equal(store_count(f->st, 1), NTHREADS * PER_THREAD);
	for (unsigned i = 0; i < NTHREADS; i++)
		for (unsigned j = 0; j < PER_THREAD; j++) {
			mkid(id, i * 1000 + j);
			assert_int_equal(store_get(f->st, id, NULL, NULL), 0);
		}
	store_stats(f->st, &commits, &sets);
	print_message("group commit: %" PRIu64 " commits for %" PRIu64
		      " change sets\n",
		      commits, sets);
	assert_int_equal(sets, NTHREADS * PER_THREAD);
	assert_true(commits > 0);
	assert_true(commits < sets);
}

/* Odd items race for one slug each with every other thread; even ones
 * have their own. */
static void *create_racing(void *arg)
{
	struct worker *w = arg;
	char id[IDS_ID_MAX], slug[32];

	for (unsigned i = 0; i < PER_THREAD; i++) {
		mkid(id, w->base + i);
		if (i % 2)
			snprintf(slug, sizeof(slug), "shared%u", i);
		else
			snprintf(slug, sizeof(slug), "own%u", w->base + i);
		if (create(w->st, 1, id, slug, slug) != 0)
			w->failures++;
	}
	return NULL;
}

/* Change sets that fail in a batch (a slug taken by another of the same
 * batch) fail alone: the batch is applied again, each change set nested,
 * and every other one is committed, whole. */
static void concurrent_failures_in_batch(void **state)
{
	struct fx *f = *state;
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	char id[IDS_ID_MAX];
	unsigned i, j, failed = 0, won;

	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){f->st, i * 1000, 0};
		assert_int_equal(
		    pthread_create(&t[i], NULL, create_racing, &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		failed += (unsigned)w[i].failures;
	}
	assert_int_equal(failed, (NTHREADS - 1) * (PER_THREAD / 2));
	assert_int_equal(store_count(f->st, 1),
			 NTHREADS * (PER_THREAD / 2) + PER_THREAD / 2);
	for (j = 0; j < PER_THREAD; j++) {
		for (i = 0, won = 0; i < NTHREADS; i++) {
			mkid(id, i * 1000 + j);
			won += store_get(f->st, id, NULL, NULL) == 0;
		}
		assert_int_equal(won, j % 2 ? 1 : NTHREADS);
	}
}

static off_t file_size(const char *dir, const char *name)
{
	char p[128];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &sb) == 0 ? sb.st_size : -1;
}

struct reader {
	struct store *st;
	atomic_bool stop;
	unsigned reads;
	unsigned failures;
};

/* Reads record 0 while the writer grows the map under it. */
static void *read_loop(void *arg)
{
	struct reader *r = arg;
	char id[IDS_ID_MAX];

	mkid(id, 0);
	while (!atomic_load(&r->stop)) {
		struct buf b = BUF_INIT(1 << 20);
		int rc = store_get(r->st, id, NULL, &b);

		if (rc != 0 && rc != -ENOENT)
			r->failures++;
		if (rc == 0 && (b.len != 16 << 10 || b.data[b.len - 1] != 'q'))
			r->failures++;
		r->reads++;
		buf_release(&b);
	}
	return NULL;
}

/* Writes grow the map, then fail with ENOSPC; what was written stays. */
static void map_full(void **state)
{
	enum { BODY = 16 << 10, MAP_INIT = 256 << 10, MAP_MAX = 1 << 20 };
	struct fx *f = *state;
	static char body[BODY + 1];
	char id[IDS_ID_MAX], slug[32];
	struct err e = {0, ""};
	struct reader rd = {.reads = 0};
	unsigned n = 0;
	pthread_t t;
	int rc = 0;

	store_close(f->st);
	f->st = NULL;
	tmpdir_remove(f->dir);
	assert_int_equal(fx_open(f, MAP_INIT, MAP_MAX), 0);
	memset(body, 'q', BODY);
	rd.st = f->st;
	atomic_init(&rd.stop, false);
	assert_int_equal(pthread_create(&t, NULL, read_loop, &rd), 0);
	for (n = 0; n < 1000; n++) {
		struct store_change c;

		mkid(id, n);
		snprintf(slug, sizeof(slug), "big%u", n);
		c = put_change(1, id, slug, store_next_serial(f->st), body);
		rc = store_commit(f->st, &c, 1, &e);
		if (rc)
			break;
	}
	atomic_store(&rd.stop, true);
	pthread_join(t, NULL);
	print_message("map full after %u records: %s (%u reads meanwhile)\n", n,
		      e.msg, rd.reads);
	assert_int_equal(rd.failures, 0);
	assert_int_equal(rc, -ENOSPC);
	assert_non_null(strstr(e.msg, "store is full"));
	assert_non_null(strstr(e.msg, "1048576"));
	/* Growth happened first: more went in than the initial map holds. */
	assert_true((size_t)n * BODY > MAP_INIT);
	assert_true(file_size(f->dir, "data.mdb") > MAP_INIT);
	for (unsigned i = 0; i < n; i++) {
		struct buf b = BUF_INIT(BODY);

		mkid(id, i);
		assert_int_equal(store_get(f->st, id, NULL, &b), 0);
		assert_int_equal(b.len, BODY);
		assert_memory_equal(b.data, body, BODY);
		buf_release(&b);
	}
	mkid(id, n);
	assert_int_equal(store_get(f->st, id, NULL, NULL), -ENOENT);
	assert_int_equal(store_count(f->st, -1), n);
	/* After a reopen with the same limit the data is intact and the map
	 * is full again within a few records: the reader thread above may
	 * have kept pages from being reused, so the very next create can
	 * still fit (seen under load). */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(fx_open(f, MAP_INIT, MAP_MAX), 0);
	assert_int_equal(store_count(f->st, -1), n);
	for (rc = 0; rc == 0 && n < 1000; n++) {
		mkid(id, n);
		snprintf(slug, sizeof(slug), "more%u", n);
		rc = create(f->st, 1, id, slug, body);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_true((size_t)n * BODY < 2 * MAP_MAX);
}

static void raw_schema(const char *dir, const void *val, size_t len)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = {6, "schema"}, v = {len, (void *)val};

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void schema_mismatch(void **state)
{
	struct fx *f = *state;
	const unsigned char v99[4] = {99, 0, 0, 0};
	const unsigned char v1[4] = {STORE_SCHEMA_VERSION, 0, 0, 0};
	struct err e = {0, ""};

	assert_int_equal(create(f->st, 1, "wf-s", "s", "s"), 0);
	store_close(f->st);
	f->st = NULL;

	raw_schema(f->dir, v99, sizeof(v99));
	assert_int_equal(fx_open(f, 0, 0), -EBADMSG);
	{
		struct store_opts o = {f->dir, 0, 0, 0};

		assert_int_equal(store_open(&f->st, &o, &e), -EBADMSG);
		assert_string_equal(e.msg,
				    "store schema version 99 is not supported");
	}
	raw_schema(f->dir, "x", 1);
	assert_int_equal(fx_open(f, 0, 0), -EBADMSG);
	/* Put back, the data is still there: a refused open changes nothing. */
	raw_schema(f->dir, v1, sizeof(v1));
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(store_get(f->st, "wf-s", NULL, NULL), 0);
}

/* A record of format 1 (before owners), written as that version did:
 * format, kind, serial, gen, ctime, mtime, slug length, slug, body. */
static void raw_v1_record(const char *dir, const char *id, const char *slug,
			  uint64_t serial)
{
	unsigned char v[64] = {1, 2};
	size_t slen = strlen(slug);
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = {strlen(id), (void *)id}, val = {35 + slen + 2, v};

	for (int i = 0; i < 8; i++) {
		v[2 + i] = (unsigned char)(serial >> (8 * i));
		v[10 + i] = (unsigned char)((uint64_t)1 >> (8 * i));
	}
	v[34] = (unsigned char)slen;
	memcpy(v + 35, slug, slen);
	memcpy(v + 35 + slen, "{}", 2);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "rec", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Owner, group and mode go through the store; a record written before
 * they existed reads as STORE_OWNER_NONE, 0750, with its body intact. */
static void owner_fields(void **state)
{
	struct fx *f = *state;
	struct store_change c = put_change(1, "wf-own", "own", 0, "body");
	struct store_rec h;
	struct buf b = BUF_INIT(1 << 10);

	c.hdr.serial = store_next_serial(f->st);
	c.hdr.uid = 4242;
	c.hdr.gid = 70000;
	c.hdr.mode = 0751;
	assert_int_equal(store_commit(f->st, &c, 1, NULL), 0);
	assert_int_equal(store_get(f->st, "wf-own", &h, NULL), 0);
	assert_int_equal(h.uid, 4242);
	assert_int_equal(h.gid, 70000);
	assert_int_equal(h.mode, 0751);
	store_close(f->st);
	f->st = NULL;
	raw_v1_record(f->dir, "wf-old", "old", 77);
	assert_int_equal(fx_open(f, 0, 0), 0);
	assert_int_equal(store_get(f->st, "wf-old", &h, &b), 0);
	assert_int_equal(h.uid, STORE_OWNER_NONE);
	assert_int_equal(h.gid, STORE_OWNER_NONE);
	assert_int_equal(h.mode, 0750);
	assert_int_equal(h.serial, 77);
	assert_string_equal(h.slug, "old");
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "{}", 2);
	assert_int_equal(store_get(f->st, "wf-own", &h, NULL), 0);
	assert_int_equal(h.uid, 4242);
	buf_release(&b);
}

/* ---- stream chunks ---- */

/* The byte at @off of stream @stream of @serial in every test. */
static unsigned char pat(uint64_t serial, unsigned stream, uint64_t off)
{
	return (unsigned char)(serial * 31 + stream * 7 + off * 13 + off / 251);
}

static int append(struct store *st, uint64_t serial, unsigned stream,
		  uint64_t off, size_t len, struct err *e)
{
	struct store_change c = {.op = STORE_APPEND};
	unsigned char *p = malloc(len ? len : 1);
	int rc;

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = pat(serial, stream, off + i);
	c.hdr.serial = serial;
	c.stream = stream;
	c.off = off;
	c.body = p;
	c.len = len;
	c.vlen = stream == STORE_CODED ? len : 0;
	rc = store_commit(st, &c, 1, e);
	free(p);
	return rc;
}

/* A coded stream's chunks (standing for as many bytes as they hold,
 * as append() writes them) hold @size pattern bytes. */
static void expect_coded(struct store *st, uint64_t serial, uint64_t size)
{
	struct buf b = BUF_INIT(8u << 20);
	uint64_t off = 0, start = 1, vlen = 0;

	while (store_stream_chunk(st, serial, STORE_CODED, off, &b, &start,
				  &vlen) == 1) {
		assert_int_equal(start, off);
		assert_int_equal(b.len, vlen);
		for (size_t i = 0; i < b.len; i++)
			if ((unsigned char)b.data[i] !=
			    pat(serial, STORE_CODED, off + i))
				fail_msg("coded byte %" PRIu64 " differs",
					 off + i);
		off += vlen;
		buf_reset(&b);
	}
	assert_int_equal(off, size);
	buf_release(&b);
}

/* Stream @stream of @serial holds exactly @size pattern bytes. */
static void expect_stream(struct store *st, uint64_t serial, unsigned stream,
			  uint64_t size)
{
	struct buf b = BUF_INIT(8u << 20);
	uint64_t got = 1234;

	assert_int_equal(store_stream_size(st, serial, stream, &got), 0);
	assert_int_equal(got, size);
	if (stream == STORE_CODED) {
		expect_coded(st, serial, size);
		buf_release(&b);
		return;
	}
	assert_int_equal(
	    store_stream_read(st, serial, stream, 0, size + 10, &b),
	    (ssize_t)size);
	for (size_t i = 0; i < size; i++)
		if ((unsigned char)b.data[i] != pat(serial, stream, i))
			fail_msg("serial %" PRIu64
				 " stream %u: byte %zu differs",
				 serial, stream, i);
	buf_release(&b);
}

struct app_case {
	const char *name;
	uint64_t serial;
	unsigned stream;
	uint64_t off;
	size_t len;
	int want;
	const char *msg; /* in the error message */
};

/* Applied in order: stream (7,0) gets chunks [0,10) [10,15) [15,1015),
 * (7,1) gets [0,3) and one of the largest size, (8,0) [0,4); serial 0x107
 * shares its low byte with 7 and must not mix with it. */
static const struct app_case app_cases[] = {
    {"first", 7, 0, 0, 10, 0, NULL},
    {"second", 7, 0, 10, 5, 0, NULL},
    {"gap", 7, 0, 20, 1, -ESTALE, "offset 20"},
    {"overlap", 7, 0, 10, 1, -ESTALE, "serial 7"},
    {"from 0 again", 7, 0, 0, 1, -ESTALE, "has 15 bytes"},
    {"other stream", 7, 1, 0, 3, 0, NULL},
    {"other serial", 8, 0, 0, 4, 0, NULL},
    {"high serial", 0x107, 0, 0, 2, 0, NULL},
    {"third", 7, 0, 15, 1000, 0, NULL},
    {"largest chunk", 7, 1, 3, STORE_CHUNK_MAX, 0, NULL},
    {"too large", 7, 1, 3 + STORE_CHUNK_MAX, STORE_CHUNK_MAX + 1, -EINVAL,
     "1..1048576"},
    {"empty", 7, 0, 1015, 0, -EINVAL, "0 bytes"},
    {"no stream 3", 7, 3, 0, 1, -EINVAL, "no stream 3"},
    {"serial 0", 0, 0, 0, 1, -EINVAL, "serial 0"},
};

struct read_case {
	uint64_t serial;
	unsigned stream;
	uint64_t off;
	size_t max;
	ssize_t want;
};

static const struct read_case read_cases[] = {
    {7, 0, 0, 5000, 1015}, /* every chunk */
    {7, 0, 3, 9, 9},	   /* across the first boundary */
    {7, 0, 8, 100, 100},   /* across two boundaries */
    {7, 0, 10, 5, 5},	   /* exactly one chunk */
    {7, 0, 12, 1, 1},	   /* inside one chunk */
    {7, 0, 1014, 10, 1},   /* the last byte */
    {7, 0, 1015, 10, 0},   /* at the end */
    {7, 0, 5000, 10, 0},   /* past it */
    {7, 0, 0, 0, 0},	   /* nothing asked */
    {7, 1, 1, 10, 10},	   /* into the large chunk */
    {7, 1, 0, 3 + STORE_CHUNK_MAX, 3 + STORE_CHUNK_MAX},
    {8, 0, 0, 100, 4},
    {8, 1, 0, 100, 0}, /* a stream never written */
    {9, 0, 0, 100, 0}, /* a serial never written */
    {0x107, 0, 0, 100, 2},
};

static void check_reads(struct store *st)
{
	for (size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]);
	     i++) {
		const struct read_case *rc = &read_cases[i];
		struct buf b = BUF_INIT(8u << 20);

		assert_int_equal(buf_add(&b, "x", 1), 0);
		if (store_stream_read(st, rc->serial, rc->stream, rc->off,
				      rc->max, &b) != rc->want)
			fail_msg("read case %zu: wrong length", i);
		assert_int_equal(b.len, 1 + (size_t)rc->want);
		for (ssize_t j = 0; j < rc->want; j++)
			if ((unsigned char)b.data[1 + j] !=
			    pat(rc->serial, rc->stream, rc->off + (size_t)j))
				fail_msg("read case %zu: byte %zd differs", i,
					 j);
		buf_release(&b);
	}
}

/* Appends: preconditions, sizes, and reads across chunk boundaries. */
static void stream_chunks(void **state)
{
	struct fx *f = *state;
	struct buf small = BUF_INIT(4);
	uint64_t size;
	struct err e;

	for (size_t i = 0; i < sizeof(app_cases) / sizeof(app_cases[0]); i++) {
		const struct app_case *ac = &app_cases[i];

		err_clear(&e);
		if (append(f->st, ac->serial, ac->stream, ac->off, ac->len,
			   &e) != ac->want)
			fail_msg("%s: want %d, got '%s'", ac->name, ac->want,
				 e.msg);
		if (ac->msg && !strstr(e.msg, ac->msg))
			fail_msg("%s: message '%s' lacks '%s'", ac->name, e.msg,
				 ac->msg);
	}
	expect_stream(f->st, 7, 0, 1015);
	expect_stream(f->st, 7, 1, 3 + STORE_CHUNK_MAX);
	expect_stream(f->st, 8, 0, 4);
	expect_stream(f->st, 8, 1, 0);
	expect_stream(f->st, 0x107, 0, 2);
	check_reads(f->st);
	assert_int_equal(store_stream_size(f->st, 7, 3, &size), -EINVAL);
	assert_int_equal(store_stream_read(f->st, 7, 3, 0, 1, &small), -EINVAL);
	/* A read that does not fit the buffer adds nothing. */
	assert_int_equal(store_stream_read(f->st, 7, 0, 0, 100, &small),
			 -EFBIG);
	assert_int_equal(small.len, 0);
	assert_int_equal(store_count(f->st, -1), 0);
}

/* Appends of one change set see each other; a stale one fails the set. */
static void stream_sets(void **state)
{
	struct fx *f = *state;
	static const char ab[] = "abcdefgh";
	struct store_change c[3] = {
	    {.op = STORE_APPEND, .hdr = {.serial = 5}, .body = ab, .len = 3},
	    {.op = STORE_APPEND,
	     .hdr = {.serial = 5},
	     .body = ab + 3,
	     .len = 5,
	     .off = 3},
	    {.op = STORE_APPEND,
	     .hdr = {.serial = 6},
	     .body = ab,
	     .len = 1,
	     .off = 1},
	};
	struct buf b = BUF_INIT(64);
	uint64_t size = 1;

	assert_int_equal(store_commit(f->st, c, 2, NULL), 0);
	assert_int_equal(store_stream_read(f->st, 5, 0, 0, 64, &b), 8);
	assert_string_equal(b.data, "abcdefgh");
	/* The first two follow on, the third is stale: the set fails and
	 * neither stream moves. */
	c[0].off = 8;
	c[1].off = 11;
	assert_int_equal(store_commit(f->st, c, 3, NULL), -ESTALE);
	assert_int_equal(store_stream_size(f->st, 5, 0, &size), 0);
	assert_int_equal(size, 8);
	assert_int_equal(store_stream_size(f->st, 6, 0, &size), 0);
	assert_int_equal(size, 0);
	buf_release(&b);
}

/* Deleting a record drops the chunks of its serial, and only those. */
static void stream_delete(void **state)
{
	struct fx *f = *state;
	struct store_change rec = put_change(1, "wex-1", "one", 300, "r");
	struct store_change del = {.op = STORE_DEL, .hdr = {.id = "wex-1"}};
	struct buf b = BUF_INIT(64);

	assert_int_equal(store_commit(f->st, &rec, 1, NULL), 0);
	for (uint64_t s = 299; s <= 301; s++)
		for (unsigned k = 0; k < STORE_STREAMS; k++)
			for (uint64_t off = 0; off < 30; off += 10)
				assert_int_equal(
				    append(f->st, s, k, off, 10, NULL), 0);
	assert_int_equal(store_commit(f->st, &del, 1, NULL), 0);
	for (unsigned k = 0; k < STORE_STREAMS; k++) {
		expect_stream(f->st, 300, k, 0);
		expect_stream(f->st, 299, k, 30);
		expect_stream(f->st, 301, k, 30);
	}
	assert_int_equal(store_stream_read(f->st, 300, 0, 0, 64, &b), 0);
	/* The serial's streams start again from 0 (a run that outlives a
	 * delete); a failed delete drops nothing. */
	assert_int_equal(append(f->st, 300, 1, 0, 5, NULL), 0);
	assert_int_equal(store_commit(f->st, &del, 1, NULL), -ENOENT);
	expect_stream(f->st, 300, 1, 5);
	buf_release(&b);
}

/* Chunks survive a reopen, also in a directory from before streams. */
/* A coded chunk stands for vlen bytes: sizes and offsets count those;
 * its payload is read back whole by any offset inside it. */
static void coded_chunks(void **state)
{
	struct fx *f = *state;
	struct store_change c = {.op = STORE_APPEND, .hdr = {.serial = 9},
				 .stream = STORE_CODED, .body = "0123456789",
				 .len = 10, .vlen = 100};
	struct buf b = BUF_INIT(64);
	uint64_t size = 0, start = 0, vlen = 0;
	struct err e;

	assert_int_equal(store_commit(f->st, &c, 1, NULL), 0);
	assert_int_equal(store_stream_size(f->st, 9, STORE_CODED, &size), 0);
	assert_int_equal(size, 100);
	c.off = 10;	/* a raw size would say 10: it is 100 */
	assert_int_equal(store_commit(f->st, &c, 1, NULL), -ESTALE);
	c.off = 100;
	c.body = "abc";
	c.len = 3;
	c.vlen = 7;
	assert_int_equal(store_commit(f->st, &c, 1, NULL), 0);
	assert_int_equal(store_stream_chunk(f->st, 9, STORE_CODED, 99, &b,
					    &start, &vlen), 1);
	assert_int_equal(start, 0);
	assert_int_equal(vlen, 100);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "0123456789", 10);
	buf_reset(&b);
	assert_int_equal(store_stream_chunk(f->st, 9, STORE_CODED, 106, &b,
					    &start, &vlen), 1);
	assert_int_equal(start, 100);
	assert_int_equal(vlen, 7);
	assert_memory_equal(b.data, "abc", 3);
	buf_reset(&b);
	assert_int_equal(store_stream_chunk(f->st, 9, STORE_CODED, 107, &b,
					    &start, &vlen), 0);
	assert_int_equal(store_stream_chunk(f->st, 8, STORE_CODED, 0, &b,
					    &start, &vlen), 0);
	assert_int_equal(b.len, 0);
	/* not a coded stream; a raw read of a coded one; no bytes stood for */
	assert_int_equal(store_stream_chunk(f->st, 9, 1, 0, &b, &start, &vlen),
			 -EINVAL);
	assert_int_equal(store_stream_read(f->st, 9, STORE_CODED, 0, 10, &b),
			 -EINVAL);
	c.off = 107;
	c.vlen = 0;
	err_clear(&e);
	assert_int_equal(store_commit(f->st, &c, 1, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "standing for no bytes"));
	buf_release(&b);
}

static void stream_reopen(void **state)
{
	struct fx *f = *state;
	const unsigned char v1[4] = {STORE_SCHEMA_VERSION, 0, 0, 0};

	assert_int_equal(append(f->st, 42, 1, 0, 100, NULL), 0);
	assert_int_equal(append(f->st, 42, 1, 100, 50, NULL), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(fx_open(f, 0, 0), 0);
	expect_stream(f->st, 42, 1, 150);
	assert_int_equal(append(f->st, 42, 1, 150, 7, NULL), 0);
	expect_stream(f->st, 42, 1, 157);

	/* An environment holding only "meta" gets the other databases. */
	store_close(f->st);
	f->st = NULL;
	tmpdir_remove(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	raw_schema(f->dir, v1, sizeof(v1));
	assert_int_equal(fx_open(f, 0, 0), 0);
	expect_stream(f->st, 42, 1, 0);
	assert_int_equal(append(f->st, 42, 1, 0, 9, NULL), 0);
	expect_stream(f->st, 42, 1, 9);
}

/* ---- kill -9 durability ---- */

#define ACK_LEN 30 /* "wf-" + 26 digits + '\n' */

struct crash_worker {
	struct store *st;
	int fd;
	unsigned base;
};

static void *crash_loop(void *arg)
{
	struct crash_worker *w = arg;
	char id[IDS_ID_MAX], line[IDS_ID_MAX + 1];

	for (unsigned i = 0;; i++) {
		mkid(id, w->base + i);
		if (create(w->st, 1, id, id, "durable") != 0)
			_exit(3);
		if (snprintf(line, sizeof(line), "%s\n", id) != ACK_LEN)
			_exit(6);
		/* One line per write, under PIPE_BUF: lines never interleave.
		 */
		if (write(w->fd, line, ACK_LEN) != ACK_LEN)
			_exit(4);
	}
	return NULL;
}

static void crash_child(const char *dir, int fd)
{
	struct store_opts o = {dir, 0, 0, 0};
	struct crash_worker w[4];
	struct store *st;
	pthread_t t;

	if (store_open(&st, &o, NULL) != 0)
		_exit(2);
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct crash_worker){st, fd, (i + 1) * 10000000u};
		if (pthread_create(&t, NULL, crash_loop, &w[i]) != 0)
			_exit(5);
	}
	for (;;)
		pause();
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read acknowledgements into @acks until EOF or @deadline (ms). */
static void read_acks(int fd, char **acks, size_t *len, size_t *cap,
		      int64_t deadline)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	for (;;) {
		int64_t left = deadline - now_ms();

		if (deadline && left <= 0)
			return;
		if (poll(&p, 1, deadline ? (int)left : -1) <= 0)
			continue;
		if (*cap - *len < 4096) {
			*cap = *cap * 2 + 8192;
			*acks = realloc(*acks, *cap);
			assert_non_null(*acks);
		}
		n = read(fd, *acks + *len, *cap - *len);
		if (n <= 0)
			return;
		*len += (size_t)n;
	}
}

static void crash_durability(void **state)
{
	struct fx *f = *state;
	size_t len = 0, cap = 0, nack;
	char *acks = NULL, id[IDS_ID_MAX];
	int fds[2], status;
	pid_t pid;

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(f->dir, fds[1]);
	}
	close(fds[1]);
	read_acks(fds[0], &acks, &len, &cap, now_ms() + 300);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	read_acks(fds[0], &acks, &len, &cap, 0);
	close(fds[0]);

	nack = len / ACK_LEN;
	print_message("%zu acknowledged commits before kill -9\n", nack);
	assert_true(nack > 0);
	assert_int_equal(fx_open(f, 0, 0), 0);
	for (size_t i = 0; i < nack; i++) {
		assert_int_equal(acks[i * ACK_LEN + ACK_LEN - 1], '\n');
		memcpy(id, acks + i * ACK_LEN, ACK_LEN - 1);
		id[ACK_LEN - 1] = '\0';
		if (store_get(f->st, id, NULL, NULL) != 0)
			fail_msg("acknowledged record %s was lost", id);
	}
	assert_true(store_count(f->st, -1) >= nack);
	free(acks);
}

/* The errno of a write of the store that failed (store_room_errno()). */
static void room_errno(void **state)
{
	static const struct {
		int rc;
		uint64_t avail;
		int want;
	} cases[] = {
	    {ENOSPC, 1ull << 30, -ENOSPC},
	    {EDQUOT, 1ull << 30, -ENOSPC},
	    /* LMDB's word for a short write at the end of the disk. */
	    {EIO, 0, -ENOSPC},
	    {EIO, STORE_ROOM_SLACK - 1, -ENOSPC},
	    /* A failing disk with room left stays EIO. */
	    {EIO, STORE_ROOM_SLACK, -EIO},
	    {EIO, UINT64_MAX, -EIO},
	    {EROFS, 0, -EROFS},
	    {ENOMEM, 0, -ENOMEM},
	    {MDB_MAP_FULL, 0, -ENOSPC},
	    {MDB_CORRUPTED, 0, -EIO},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu: rc %d, %" PRIu64 " bytes free\n", i,
			      cases[i].rc, cases[i].avail);
		assert_int_equal(store_room_errno(cases[i].rc, cases[i].avail),
				 cases[i].want);
	}
}

static void fs_path(const struct fx *f, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/fs", f->dir);

	assert_true(n > 0 && (size_t)n < cap);
}

/* Leave the tmpfs of full_filesystem (if it was mounted), then tear down. */
static int teardown_fs(void **state)
{
	struct fx *f = *state;
	char fs[sizeof(f->dir) + 8];

	store_close(f->st);
	f->st = NULL;
	fs_path(f, fs, sizeof(fs));
	umount2(fs, MNT_DETACH);
	return teardown(state);
}

/* Every record full0..full<n-1> but @gone reads back with its body. */
static void full_check(struct store *st, unsigned n, unsigned gone,
		       const char *body)
{
	char id[IDS_ID_MAX];

	for (unsigned i = 0; i < n; i++) {
		struct buf b = BUF_INIT(1 << 16);

		mkid(id, i);
		assert_int_equal(store_get(st, id, NULL, &b),
				 i == gone ? -ENOENT : 0);
		if (i != gone)
			assert_string_equal(b.data, body);
		buf_release(&b);
	}
}

static int full_create(struct store *st, unsigned i, const char *body,
		       struct err *e)
{
	char id[IDS_ID_MAX], slug[32];
	struct store_change c;

	mkid(id, i);
	snprintf(slug, sizeof(slug), "full%u", i);
	c = put_change(1, id, slug, store_next_serial(st), body);
	return store_commit(st, &c, 1, e);
}

/*
 * The state directory on a 1 MiB tmpfs (root only; skipped otherwise):
 * creates until the filesystem is full fail with ENOSPC naming the state
 * directory, never EIO; what was acknowledged reads back; a delete works
 * and makes room for a create; the store opens again on the full
 * filesystem.
 */
static void full_filesystem(void **state)
{
	enum { BODY = 3000 };
	struct fx *f = *state;
	struct store_opts o = {NULL, 0, 0, 0};
	struct store_change del;
	char fs[sizeof(f->dir) + 8];
	static char body[BODY + 1];
	struct err e = {0, ""};
	unsigned n;
	int rc = 0;

	store_close(f->st);
	f->st = NULL;
	fs_path(f, fs, sizeof(fs));
	assert_int_equal(mkdir(fs, 0700), 0);
	if (mount("tmpfs", fs, "tmpfs", 0, "size=1m,mode=0700") != 0) {
		print_message("cannot mount a tmpfs (%s): skipped\n",
			      strerror(errno));
		skip();
	}
	o.dir = fs;
	assert_int_equal(store_open(&f->st, &o, &e), 0);
	memset(body, 'f', BODY);
	for (n = 0; n < 2000; n++) {
		rc = full_create(f->st, n, body, &e);
		if (rc)
			break;
	}
	print_message("full after %u records: %s\n", n, e.msg);
	assert_int_equal(rc, -ENOSPC);
	assert_non_null(strstr(e.msg, "filesystem of the state directory"));
	assert_non_null(strstr(e.msg, fs));
	/* More attempts: room a failed commit left may take one more. */
	for (int i = 0; i < 20; i++) {
		rc = full_create(f->st, n, body, &e);
		assert_true(rc == 0 || rc == -ENOSPC);
		n += rc == 0;
	}
	full_check(f->st, n, UINT_MAX, body);
	/* A delete works while full, and makes room for a create. */
	memset(&del, 0, sizeof(del));
	del.op = STORE_DEL;
	mkid(del.hdr.id, 0);
	assert_int_equal(store_commit(f->st, &del, 1, &e), 0);
	assert_int_equal(full_create(f->st, n, body, &e), 0);
	n++;
	full_check(f->st, n, 0, body);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(&f->st, &o, &e), 0);
	full_check(f->st, n, 0, body);
}

static unsigned idle_trims(struct store *st)
{
	unsigned n;

	pthread_mutex_lock(&st->mu);
	n = st->idle_trims;
	pthread_mutex_unlock(&st->mu);
	return n;
}

static void put_n(struct fx *f, int i)
{
	char id[32], slug[32];
	struct store_change c;
	struct err e = {0, ""};

	snprintf(id, sizeof(id), "wf-trim-%d", i);
	snprintf(slug, sizeof(slug), "trim-%d", i);
	c = put_change(3, id, slug, store_next_serial(f->st), "x");
	assert_int_equal(store_commit(f->st, &c, 1, &e), 0);
}

/* Whether the count of idle trims reaches @want within @ms. */
static bool trims_reach(struct store *st, unsigned want, int ms)
{
	for (; ms > 0 && idle_trims(st) < want; ms -= 10)
		usleep(10 * 1000);
	return idle_trims(st) == want;
}

/* Memory goes back once the writer has been idle after a batch (500 ms),
 * once per quiet spell: not while commits keep coming, not again while
 * none come. */
static void idle_trim(void **state)
{
	struct fx *f = *state;
	unsigned n0;
	int i;

	put_n(f, 0);
	assert_true(trims_reach(f->st, idle_trims(f->st) + 1, 5000));
	n0 = idle_trims(f->st);
	for (i = 1; i < 12; i++) {
		put_n(f, i);
		usleep(50 * 1000);
	}
	assert_int_equal(idle_trims(f->st), n0);
	assert_true(trims_reach(f->st, n0 + 1, 5000));
	usleep(1000 * 1000);
	assert_int_equal(idle_trims(f->st), n0 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(idle_trim, setup, teardown),
	    cmocka_unit_test_setup_teardown(list_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(preconditions, setup, teardown),
	    cmocka_unit_test_setup_teardown(reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(busy_and_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(concurrent_failures_in_batch, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(concurrent_group_commit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(map_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(schema_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(owner_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(stream_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(stream_sets, setup, teardown),
	    cmocka_unit_test_setup_teardown(stream_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(stream_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(coded_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(crash_durability, setup, teardown),
	    cmocka_unit_test(room_errno),
	    cmocka_unit_test_setup_teardown(full_filesystem, setup,
					    teardown_fs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
