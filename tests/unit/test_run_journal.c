/*
 * test_run_journal.c - a run's journal of task starts (core/run_journal.c):
 * recovery takes the last whole record made on the stored generation; a
 * record cut short or damaged, or made on an older generation, is not
 * taken; a commit empties the file, the run's end removes it.
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
	f->r.rec.hdr.gen = 7;
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
static const char *replayed(struct fx *f, uint64_t gen, int want_rc)
{
	doc_free(f->r.status);
	f->r.status = doc_new(DOC_MAP);
	assert_int_equal(run_journal_replay(&f->r, gen), want_rc);
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

static void test_other_generation_not_taken(void **state)
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

/* A commit empties the file; records of an older generation left (the
 * emptying failed) are passed over. */
static void test_commit_empties(void **state)
{
	struct fx *f = *state;

	put(f, "A");
	run_journal_reset(&f->r);
	assert_int_equal(size_of(f->path), 0);
	assert_string_equal(replayed(f, 7, 0), "");
	put(f, "B");
	f->r.rec.hdr.gen = 8;	/* committed, not emptied */
	put(f, "C");
	put(f, "D");
	assert_string_equal(replayed(f, 8, 1), "D");
	assert_string_equal(replayed(f, 7, 1), "B");
}

static void test_end_removes(void **state)
{
	struct fx *f = *state;

	assert_string_equal(replayed(f, 7, 0), "");	/* no file */
	run_journal_close(&f->r, false);		/* never used */
	put(f, "A");
	run_journal_close(&f->r, false);
	assert_int_equal(size_of(f->path), -1);
	assert_string_equal(replayed(f, 7, 0), "");
}

/* A journal that cannot be made: an error, so the caller commits. */
static void test_cannot_open(void **state)
{
	struct fx *f = *state;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", f->p.state_dir);
	strcat(f->p.state_dir, "/missing/x");	/* short: mkdtemp's */
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
		cmocka_unit_test_setup_teardown(test_other_generation_not_taken,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_short_not_taken, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_not_taken, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_empties, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_end_removes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cannot_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
