/*
 * test_run_journal.c - a run's journal of task starts (core/run_journal.c):
 * recovery takes the last whole record that decodes and bears the stored
 * record's stamp (the mtime of the run's last commit); a record cut
 * short, damaged, undecodable or of an older stamp is passed over; a
 * commit empties the file, a full one is replaced whole, the run's end
 * removes it, and a sweep at start removes the journals not asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/plane_i.h"
#include "core/run_i.h"

struct fx {
	struct plane p;
	struct run r;
	char path[PATH_MAX + 64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/execfs-journal.XXXXXX";

	if (!f || !mkdtemp(tmpl) || sodium_init() < 0)
		return -1;
	snprintf(f->p.state_dir, sizeof(f->p.state_dir), "%s", tmpl);
	f->r.p = &f->p;
	f->r.jfd = -1;
	f->r.rec.hdr.mtime_ns = 7;
	snprintf(f->r.id, sizeof(f->r.id), "exec-journal-test");
	snprintf(f->path, sizeof(f->path), "%s/starts/%s", tmpl, f->r.id);
	f->r.status = doc_new(DOC_MAP);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char dir[PATH_MAX + 16];

	run_journal_close(&f->r, true);
	snprintf(dir, sizeof(dir), "%s/starts", f->p.state_dir);
	rmdir(dir);
	rmdir(f->p.state_dir);
	doc_free(f->r.status);
	free(f);
	return 0;
}

/* r->status becomes {"phase": @phase}. */
static void set_phase(struct fx *f, const char *phase)
{
	assert_int_equal(doc_map_setstr(f->r.status, "phase", phase), 0);
}

static void put(struct fx *f, const char *phase)
{
	set_phase(f, phase);
	assert_int_equal(run_journal_put(&f->r), 0);
}

/* Replay on @gen into a fresh status; the phase found, or "" for none. */
static const char *replayed(struct fx *f, int64_t stamp, int want_rc)
{
	doc_free(f->r.status);
	f->r.status = doc_new(DOC_MAP);
	assert_int_equal(run_journal_replay(&f->r, stamp), want_rc);
	return doc_get_str(f->r.status, "phase") ?
	       doc_get_str(f->r.status, "phase") : "";
}

static off_t size_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void test_last_whole_record(void **state)
{
	struct fx *f = *state;

	put(f, "A");
	put(f, "B");
	assert_string_equal(replayed(f, 7, 1), "B");
	assert_true(size_of(f->path) > 0);
	assert_int_equal(size_of(f->path), (off_t)f->r.jsize);
}

static void test_other_stamp_not_taken(void **state)
{
	struct fx *f = *state;

	put(f, "A");
	assert_string_equal(replayed(f, 8, 0), "");
	assert_string_equal(replayed(f, 6, 0), "");
}

/* A kill in the middle of an append leaves part of a record. */
static void test_cut_short_not_taken(void **state)
{
	struct fx *f = *state;
	off_t full;

	put(f, "A");
	put(f, "B");
	full = size_of(f->path);
	assert_int_equal(truncate(f->path, full - 1), 0);
	assert_string_equal(replayed(f, 7, 1), "A");
	assert_int_equal(truncate(f->path, full - 3 - (off_t)sizeof(uint64_t)), 0);
	assert_string_equal(replayed(f, 7, 1), "A");
}

static void test_damaged_not_taken(void **state)
{
	struct fx *f = *state;
	off_t full;
	char c;
	int fd;

	put(f, "A");
	put(f, "B");
	full = size_of(f->path);
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, full - 1), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, full - 1), 1);
	close(fd);
	assert_string_equal(replayed(f, 7, 1), "A");
}

/* A commit empties the file; records of an older stamp left (the
 * emptying failed) are passed over. */
static void test_commit_empties(void **state)
{
	struct fx *f = *state;

	put(f, "A");
	run_journal_reset(&f->r);
	assert_int_equal(size_of(f->path), 0);
	assert_string_equal(replayed(f, 7, 0), "");
	put(f, "B");
	f->r.rec.hdr.mtime_ns = 8;	/* committed, not emptied */
	put(f, "C");
	put(f, "D");
	assert_string_equal(replayed(f, 8, 1), "D");
	assert_string_equal(replayed(f, 7, 1), "B");
}

static void test_end_removes(void **state)
{
	struct fx *f = *state;

	assert_string_equal(replayed(f, 7, 0), "");	/* no file */
	put(f, "A");
	run_journal_close(&f->r, false);		/* the end not stored */
	assert_string_equal(replayed(f, 7, 1), "A");
	run_journal_close(&f->r, true);
	assert_int_equal(size_of(f->path), -1);
	assert_string_equal(replayed(f, 7, 0), "");
}

/* Past its cap the journal is replaced by a file of the last record. */
static void test_full_replaced(void **state)
{
	struct fx *f = *state;
	char *big = malloc(1u << 20), dot[PATH_MAX + 80];
	int i;

	assert_non_null(big);
	memset(big, 'x', (1u << 20) - 1);
	big[(1u << 20) - 1] = '\0';
	assert_int_equal(doc_map_setstr(f->r.status, "big", big), 0);
	for (i = 0; i < 40; i++) {
		snprintf(big, 16, "%d", i);
		put(f, big);
	}
	/* replaced at the 32nd (32 MiB), then 8 more appended */
	assert_true(size_of(f->path) > 8 << 20);
	assert_true(size_of(f->path) < 10 << 20);
	assert_int_equal(size_of(f->path), (off_t)f->r.jsize);
	assert_string_equal(replayed(f, 7, 1), "39");
	snprintf(dot, sizeof(dot), "%s.new", f->path);
	assert_int_equal(size_of(dot), -1);
	free(big);
}

/* A whole record whose body does not decode: the one before it. */
static void test_undecodable_passed_over(void **state)
{
	struct fx *f = *state;
	struct {
		uint32_t magic, len;
		int64_t stamp;
		unsigned char sum[16];
	} h = { 0x314a5845u, 4, 7, { 0 } };
	crypto_generichash_state s;
	const char junk[4] = { 'j', 'u', 'n', 'k' };
	int fd;

	put(f, "A");
	crypto_generichash_init(&s, NULL, 0, sizeof(h.sum));
	crypto_generichash_update(&s, (const void *)&h.stamp, sizeof(h.stamp));
	crypto_generichash_update(&s, (const void *)junk, sizeof(junk));
	crypto_generichash_final(&s, h.sum, sizeof(h.sum));
	fd = open(f->path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, &h, sizeof(h)), sizeof(h));
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	assert_string_equal(replayed(f, 7, 1), "A");
}

static bool keep_a(struct plane *p, const char *id)
{
	(void)p;
	return !strcmp(id, "a");
}

/* At start, the journals of executions not IN_PROGRESS go. */
static void test_sweep(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX + 80];
	const char *names[] = { "a", "b", "c.new" };
	size_t i;
	FILE *fp;

	put(f, "A");		/* makes STATE/starts */
	run_journal_close(&f->r, true);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/starts/%s", f->p.state_dir,
			 names[i]);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fclose(fp);
	}
	assert_int_equal(run_journal_sweep(&f->p, keep_a), 0);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/starts/%s", f->p.state_dir,
			 names[i]);
		assert_int_equal(size_of(path) == 0, i == 0);
		unlink(path);
	}
}

/* A journal that cannot be made: an error, so the caller commits. */
static void test_cannot_open(void **state)
{
	struct fx *f = *state;
	char dir[PATH_MAX];
	size_t n = strlen(f->p.state_dir);

	snprintf(dir, sizeof(dir), "%s", f->p.state_dir);
	snprintf(f->p.state_dir + n, sizeof(f->p.state_dir) - n, "/missing/x");
	set_phase(f, "A");
	assert_int_equal(run_journal_put(&f->r), -ENOENT);
	assert_int_equal(f->r.jfd, -1);
	snprintf(f->p.state_dir, sizeof(f->p.state_dir), "%s", dir);
}

/* Garbage in place of a journal: nothing taken, no crash. */
static void test_garbage(void **state)
{
	struct fx *f = *state;
	char junk[4096];
	FILE *fp;

	put(f, "A");
	run_journal_close(&f->r, false);
	randombytes_buf(junk, sizeof(junk));
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
	assert_string_equal(replayed(f, 7, 0), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_last_whole_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_stamp_not_taken,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_short_not_taken, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_not_taken, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_empties, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_end_removes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_replaced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_undecodable_passed_over,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cannot_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
