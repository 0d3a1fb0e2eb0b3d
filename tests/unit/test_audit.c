/*
 * test_audit.c - the audit log: the text of a line (JSON escaping, the
 * fields of each verb), the bound (the oldest lines dropped, whole), its
 * durability (a change and its line in one commit: a failing commit
 * leaves neither), and that no secret reaches it, through plane.h.
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

#include "core/audit.h"
#include "core/plane.h"
#include "core/store.h"
#include "fx.h"
#include "fx_plane.h"

#define SECRET "s3cr3t-AUDIT-planted-41"

/* ---- the line ------------------------------------------------------- */

static void line_escapes(void **state)
{
	struct buf b = BUF_INIT(STORE_AUDIT_LINE_MAX);
	struct audit_rec r = {
		.time_ns = 1767225600123000000LL,	/* 2026-01-01 */
		.uid = 0, .user = "root", .pid = 42, .verb = "deny",
		.kind = "Environment", .name = "a\"b\\c\nd\x01", .id = "",
		.result = -EBADMSG, .reason = "spec.x: \"bad\"\tvalue",
	};

	(void)state;
	assert_int_equal(audit_line(&b, &r), 0);
	assert_string_equal(b.data,
		"{\"time\": \"2026-01-01T00:00:00.123Z\", \"uid\": 0, "
		"\"user\": \"root\", \"pid\": 42, \"verb\": \"deny\", "
		"\"kind\": \"Environment\", \"name\": \"a\\\"b\\\\c\\u000ad"
		"\\u0001\", \"id\": \"\", \"result\": \"EBADMSG\", "
		"\"errno\": \"EBADMSG\", \"reason\": \"spec.x: \\\"bad\\\""
		"\\u0009value\"}\n");
	buf_release(&b);
}

static void line_secrets_list(void **state)
{
	struct buf b = BUF_INIT(STORE_AUDIT_LINE_MAX);
	struct audit_src src[] = {
		{ "Environment", "env-1", "prod" },
		{ "ExecutionContext", "exec-2", "ctx" },
	};
	struct audit_rec r = {
		.uid = 1000, .user = "ann", .verb = "use-secrets",
		.kind = "WorkflowExecution", .name = "r1", .id = "wex-3",
		.src = src, .nsrc = 2,
	};

	(void)state;
	assert_int_equal(audit_line(&b, &r), 0);
	assert_non_null(strstr(b.data, "\"result\": \"ok\", \"secrets\": "
		"[{\"kind\": \"Environment\", \"id\": \"env-1\", \"name\": "
		"\"prod\"}, {\"kind\": \"ExecutionContext\", \"id\": "
		"\"exec-2\", \"name\": \"ctx\"}]}\n"));
	assert_null(strstr(b.data, "errno"));
	buf_release(&b);
}

/* ---- the store: bound and atomicity ---------------------------------- */

struct sfx {
	char dir[64];
	struct store *st;
};

static int sfx_setup(void **state)
{
	struct sfx *f = calloc(1, sizeof(*f));
	struct store_opts o = { NULL, 0, 0, 4096 };
	struct err e = { 0, "" };

	if (!f || tmpdir_make(f->dir, sizeof(f->dir), "audit") < 0)
		return -1;
	o.dir = f->dir;
	if (store_open(&f->st, &o, &e) < 0) {
		print_error("store_open: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int sfx_teardown(void **state)
{
	struct sfx *f = *state;

	store_close(f->st);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static struct store_change line_change(char *line, size_t cap, int i)
{
	struct store_change c = { .op = STORE_AUDIT };
	int n = snprintf(line, cap, "{\"n\": %03d, \"pad\": \"%080d\"}\n", i, 0);

	c.body = line;
	c.len = (size_t)n;
	return c;
}

static char *read_all(struct store *st)
{
	struct buf b = BUF_INIT(1u << 20);
	ssize_t n;
	uint64_t off = 0;

	/* small reads, to cross line boundaries */
	while ((n = store_audit_read(st, off, 37, &b)) > 0)
		off += (uint64_t)n;
	assert_true(n == 0);
	buf_addstr(&b, "");
	return buf_detach(&b, NULL);
}

static void bound_drops_oldest(void **state)
{
	struct sfx *f = *state;
	struct store_change c;
	struct err e = { 0, "" };
	char line[256], *all, *p;
	uint64_t size = 0;
	size_t len = 0;
	int i;

	for (i = 0; i < 100; i++) {
		c = line_change(line, sizeof(line), i);
		len = c.len;
		assert_int_equal(store_commit(f->st, &c, 1, &e), 0);
	}
	assert_int_equal(store_audit_size(f->st, &size), 0);
	assert_true(size <= 4096 && size > 4096 - len);
	assert_int_equal(size % len, 0);
	all = read_all(f->st);
	assert_int_equal(strlen(all), size);
	/* the newest lines, in order, whole */
	p = all;
	for (i = 100 - (int)(size / len); i < 100; i++) {
		snprintf(line, sizeof(line), "{\"n\": %03d,", i);
		assert_memory_equal(p, line, strlen(line));
		p = strchr(p, '\n') + 1;
	}
	assert_int_equal(*p, '\0');
	free(all);
}

static void change_and_line_atomic(void **state)
{
	struct sfx *f = *state;
	struct store_change c[2] = { { .op = STORE_PUT } };
	struct err e = { 0, "" };
	char line[256], *all;

	snprintf(c[0].hdr.id, sizeof(c[0].hdr.id), "env-x");
	snprintf(c[0].hdr.slug, sizeof(c[0].hdr.slug), "x");
	c[0].hdr.kind = 4;
	c[0].hdr.serial = store_next_serial(f->st);
	c[1] = line_change(line, sizeof(line), 1);
	assert_int_equal(store_commit(f->st, c, 2, &e), 0);
	/* the same create again fails its precondition: no line either */
	c[1] = line_change(line, sizeof(line), 2);
	assert_int_equal(store_commit(f->st, c, 2, &e), -EEXIST);
	all = read_all(f->st);
	assert_non_null(strstr(all, "\"n\": 001"));
	assert_null(strstr(all, "\"n\": 002"));
	assert_int_equal(store_get(f->st, "env-x", NULL, NULL), 0);
	free(all);
}

/* ---- through the plane ------------------------------------------------ */

static int pfx_setup(void **state)
{
	struct fx_plane *f;

	if (fx_plane_new(&f, "auditp") < 0)
		return -1;
	*state = f;
	return 0;
}

static int pfx_teardown(void **state)
{
	fx_plane_free(*state);
	return 0;
}

static char *plane_all(struct plane *p)
{
	struct buf b = BUF_INIT(1u << 24);
	ssize_t n;
	uint64_t off = 0;

	while ((n = plane_audit_read(p, off, 4096, &b)) > 0)
		off += (uint64_t)n;
	assert_true(n == 0);
	buf_addstr(&b, "");
	return buf_detach(&b, NULL);
}

static void plane_change_line_survives(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	char want[256], *all;

	assert_int_equal(fx_plane_open(f), 0);
	fx_ok_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "prod.yaml",
		  "spec: {data: {K: {value: " SECRET ", isSecret: true}}}\n",
		  &r);
	assert_int_equal(plane_delete(f->p, &f->who, KIND_ENVIRONMENT, "prod",
				      &f->e), 0);
	plane_close(f->p);
	f->p = NULL;
	assert_int_equal(fx_plane_open(f), 0);
	all = plane_all(f->p);
	snprintf(want, sizeof(want), "\"pid\": %d, \"verb\": \"create\", "
		 "\"kind\": \"Environment\", \"name\": \"prod\", \"id\": \"%s\", "
		 "\"result\": \"ok\"}\n", (int)f->who.pid, r.id);
	assert_non_null(strstr(all, want));
	assert_non_null(strstr(all, "\"verb\": \"delete\", \"kind\": "
			       "\"Environment\", \"name\": \"prod\""));
	assert_null(strstr(all, SECRET));
	free(all);
}

static void deny_has_reason_not_secret(void **state)
{
	struct fx_plane *f = *state;
	char *all;

	assert_int_equal(fx_plane_open(f), 0);
	assert_int_equal(fx_put(f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "bad.yaml",
				"spec:\n  data: {K: {value: " SECRET
				", isSecret: true}}\n  bogus: " SECRET "\n",
				NULL), -EBADMSG);
	plane_reject(f->p, &f->who, "environments/bad.yaml", &f->e);
	all = plane_all(f->p);
	assert_non_null(strstr(all, "\"verb\": \"deny\", \"kind\": "
			       "\"Environment\", \"name\": \"bad.yaml\", \"id\": "
			       "\"\", \"result\": \"EBADMSG\", \"errno\": "
			       "\"EBADMSG\", \"reason\": \"spec.bogus"));
	assert_null(strstr(all, "\"verb\": \"create\""));
	assert_null(strstr(all, SECRET));
	free(all);
}

static size_t count(const char *all, const char *needle)
{
	size_t n = 0;

	for (const char *at = all; (at = strstr(at, needle)); at++)
		n++;
	return n;
}

/* The sum of the "suppressed" counts of the lines kept. */
static size_t suppressed(const char *all)
{
	static const char key[] = "\"suppressed\": ";
	size_t n = 0;

	for (const char *at = all; (at = strstr(at, key)); at++)
		n += strtoul(at + sizeof(key) - 1, NULL, 10);
	return n;
}

/* One user's refusals cannot flood the log: 100 deny lines at once, then
 * 20 a second; the next line kept counts those dropped.  Another user's
 * lines are their own. */
static void deny_rate_limited(void **state)
{
	struct fx_plane *f = *state;
	struct plane_caller u = { .uid = 4711, .gid = 4711, .pid = 9 };
	struct plane_caller v = { .uid = 4712, .gid = 4712, .pid = 9 };
	char *all, want[64];
	size_t kept;

	assert_int_equal(fx_plane_open(f), 0);
	for (int i = 0; i < 400; i++)
		plane_deny(f->p, &u, "workflows/x", NULL, "test");
	plane_deny(f->p, &v, "workflows/x", NULL, "test");
	all = plane_all(f->p);
	/* 100 at once, plus what 20 a second refilled while the loop's
	 * commits took their time (a line kept after some were dropped
	 * counts them: under a sanitizer the loop takes long enough) */
	kept = count(all, "\"uid\": 4711,");
	assert_true(kept >= 100 && kept < 400);
	assert_int_equal(count(all, "\"uid\": 4712,"), 1);
	if (kept == 100)
		assert_null(strstr(all, "suppressed"));
	free(all);
	usleep(120000);	/* two lines' worth */
	plane_deny(f->p, &u, "workflows/x", NULL, "test");
	all = plane_all(f->p);
	assert_int_equal(count(all, "\"uid\": 4711,"), kept + 1);
	/* every line dropped is counted once, by the next one kept */
	assert_int_equal(suppressed(all), 400 - kept);
	snprintf(want, sizeof(want), "\"suppressed\": ");
	assert_non_null(strstr(all, want));
	free(all);
}

/* A commit that fails (the store is full) leaves neither the change nor
 * its line. */
static void failed_commit_leaves_neither(void **state)
{
	struct fx_plane *f = *state;
	struct buf doc = BUF_INIT(1u << 20);
	char name[32], *all;
	int i, rc = 0;

	f->lim.store_max = 1u << 20;
	assert_int_equal(fx_plane_open(f), 0);
	assert_int_equal(buf_addstr(&doc, "spec:\n  description: \""), 0);
	for (i = 0; i < 900; i++)
		assert_int_equal(buf_addstr(&doc, "0123456789abcdef"
					    "0123456789abcdef"
					    "0123456789abcdef"
					    "0123456789abcdef"), 0);
	assert_int_equal(buf_addstr(&doc, "\"\n"), 0);
	/* fill the store until a change does not fit */
	for (i = 0; i < 200 && rc == 0; i++) {
		snprintf(name, sizeof(name), "big%03d.yaml", i);
		rc = plane_write(f->p, &f->who, KIND_ENVIRONMENT,
				 PLANE_WRITE_NEW, name, doc.data, doc.len,
				 NULL, &f->e);
	}
	assert_int_equal(rc, -ENOSPC);
	snprintf(name, sizeof(name), "big%03d", i - 1);
	assert_false(fx_exists(f, KIND_ENVIRONMENT, name));
	all = plane_all(f->p);
	assert_non_null(strstr(all, "\"name\": \"big000\""));
	snprintf(name, sizeof(name), "\"name\": \"big%03d\"", i - 1);
	assert_null(strstr(all, name));
	free(all);
	buf_release(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_escapes),
		cmocka_unit_test(line_secrets_list),
		cmocka_unit_test_setup_teardown(bound_drops_oldest, sfx_setup,
						sfx_teardown),
		cmocka_unit_test_setup_teardown(change_and_line_atomic,
						sfx_setup, sfx_teardown),
		cmocka_unit_test_setup_teardown(plane_change_line_survives,
						pfx_setup, pfx_teardown),
		cmocka_unit_test_setup_teardown(deny_has_reason_not_secret,
						pfx_setup, pfx_teardown),
		cmocka_unit_test_setup_teardown(failed_commit_leaves_neither,
						pfx_setup, pfx_teardown),
		cmocka_unit_test_setup_teardown(deny_rate_limited,
						pfx_setup, pfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
