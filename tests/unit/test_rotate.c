/*
 * test_rotate.c - key rotation (core/rotate.c): every sealed value re-sealed
 * under the new key, the old key refused afterwards, and a rotation that
 * cannot finish changing nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/plane.h"
#include "core/plane_i.h"
#include "core/rotate.h"
#include "crypt/seal.h"
#include "fx_plane.h"

#define SECRET "r0tate-PLANTED-value-42"

static const char env_doc[] =
	"spec:\n"
	"  data:\n"
	"    REGION: {value: eu}\n"
	"    API_KEY: {value: " SECRET ", isSecret: true}   # kept\n";

struct rt {
	struct fx_plane *f;
	struct plane_res env;
	char old_key[128], new_key[128];
};

static int setup(void **state)
{
	struct rt *t = calloc(1, sizeof(*t));

	if (!t || fx_plane_new(&t->f, "rotate") || fx_plane_open(t->f))
		return -1;
	if (fx_put(t->f, KIND_ENVIRONMENT, PLANE_WRITE_NEW, "vault.yaml",
		   env_doc, &t->env))
		return -1;
	snprintf(t->old_key, sizeof(t->old_key), "%s", t->f->key);
	snprintf(t->new_key, sizeof(t->new_key), "%s/new.key", t->f->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct rt *t = *state;

	fx_plane_free(t->f);
	free(t);
	return 0;
}

static void plane_off(struct rt *t)
{
	plane_close(t->f->p);
	t->f->p = NULL;
}

static int rotate(struct rt *t, const char *old_key, struct rotate_report *r,
		  struct err *e)
{
	struct rotate_opts o = { t->f->state, old_key, t->new_key, 0 };

	err_clear(e);
	return rotate_key(&o, r, e);
}

/* The bytes of STATE/data.mdb, malloc'd. */
static char *data_file(struct rt *t, size_t *n)
{
	char path[256];
	struct stat st;
	char *b;
	int fd;

	snprintf(path, sizeof(path), "%s/data.mdb", t->f->state);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return b;
}

/* The plaintext of the vault's API_KEY as the open plane sees it. */
static void assert_secret(struct rt *t)
{
	struct seal_ad ad = { "Environment", t->env.id,
			      "spec.data.API_KEY.value" };
	struct doc *res = NULL, *n;
	char *plain = NULL;
	size_t len = 0;

	assert_int_equal(record_load(t->f->p, t->env.id, NULL, &res), 0);
	n = doc_get(res, "spec.data.API_KEY.value");
	assert_non_null(n);
	assert_int_equal(n->type, DOC_SEALED);
	assert_int_equal(open_value(t->f->p->kr, &ad, n->u.s, n->n, &plain,
				    &len), 0);
	assert_int_equal(len, strlen(SECRET));
	assert_memory_equal(plain, SECRET, len);
	seal_free_plain(plain, len);
	doc_free(res);
}

/* The stored source text (spec.yaml) of the vault. */
static int plane_read_spec_text(struct rt *t, struct buf *src)
{
	struct doc *res = NULL;
	int rc = record_load_src(t->f->p, t->env.id, NULL, &res, src);

	doc_free(res);
	return rc;
}

static void round_trip(void **state)
{
	struct rt *t = *state;
	struct rotate_report r;
	struct err e;
	struct buf before = BUF_INIT(1 << 20), after = BUF_INIT(1 << 20);

	assert_int_equal(plane_read_spec_text(t, &before), 0);
	plane_off(t);
	assert_int_equal(rotate(t, t->old_key, &r, &e), 0);
	assert_int_equal(r.records, 1);
	assert_int_equal(r.values, 1);
	assert_true(r.old_kid != r.new_kid);
	assert_false(fx_in_data_file(t->f, SECRET));
	/* The new key alone reads everything; spec.yaml is unchanged. */
	snprintf(t->f->key, sizeof(t->f->key), "%s", t->new_key);
	assert_int_equal(fx_plane_open(t->f), 0);
	assert_secret(t);
	assert_int_equal(plane_read_spec_text(t, &after), 0);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	plane_off(t);
	/* The old key is refused at start, naming both ids. */
	snprintf(t->f->key, sizeof(t->f->key), "%s", t->old_key);
	{
		struct plane_opts o = { .state_dir = t->f->state,
					.key_file = t->old_key,
					.limits = t->f->lim,
					.hold_runs = true };
		struct plane *p = NULL;

		err_clear(&e);
		assert_int_equal(plane_open(&p, &o, &e), -ENOKEY);
		assert_null(p);
		assert_non_null(strstr(e.msg, "key id"));
	}
	buf_release(&before);
	buf_release(&after);
}

/* A wrong old key, or a daemon holding the directory: refused, nothing
 * changed, and the right key still reads the secret. */
static void refusals(void **state)
{
	struct rt *t = *state;
	unsigned char junk[32];
	struct rotate_report r;
	char *a, *b, wrong[160];
	size_t na, nb;
	struct err e;
	int fd;

	assert_int_equal(rotate(t, t->old_key, &r, &e), -EBUSY);
	assert_non_null(strstr(e.msg, "unmount"));
	plane_off(t);
	a = data_file(t, &na);
	snprintf(wrong, sizeof(wrong), "%s/wrong.key", t->f->dir);
	fd = open(wrong, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	memset(junk, 7, sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), 32);
	close(fd);
	assert_int_equal(rotate(t, wrong, &r, &e), -ENOKEY);
	assert_non_null(strstr(e.msg, "nothing was changed"));
	assert_non_null(strstr(e.msg, t->env.id));
	b = data_file(t, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_int_equal(fx_plane_open(t->f), 0);
	assert_secret(t);
	free(a);
	free(b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(round_trip),
		T(refusals),
	};

	if (crypt_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
