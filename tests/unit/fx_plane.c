/*
 * fx_plane.c - a control plane for a unit test: its own state directory
 * and key file in a scratch directory, so every test starts from nothing
 * and leaves nothing behind, and the writes and lookups the plane tests
 * share, failing the test with the plane's own message.
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

#include "fx.h"
#include "fx_plane.h"

int fx_plane_new(struct fx_plane **out, const char *tag)
{
	struct fx_plane *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	rc = tmpdir_make(f->dir, sizeof(f->dir), tag);
	if (rc) {
		free(f);
		return rc;
	}
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key", f->dir);
	plane_limits_default(&f->lim);
	f->hold = true;
	f->who.uid = getuid();
	f->who.gid = getgid();
	f->who.pid = getpid();
	*out = f;
	return 0;
}

int fx_plane_open(struct fx_plane *f)
{
	struct plane_opts o = { 0 };
	struct err e = { 0, "" };
	int rc;

	o.state_dir = f->state;
	o.key_file = f->key;
	o.limits = f->lim;
	o.hold_runs = f->hold;
	o.has_operators = f->has_operators;
	o.operators = f->operators;
	rc = plane_open(&f->p, &o, &e);
	if (rc)
		print_error("plane_open: %s\n", e.msg);
	return rc;
}

void fx_plane_free(struct fx_plane *f)
{
	size_t i;

	plane_close(f->p);
	for (i = 0; i < f->nkeep; i++)
		free(f->keep[i]);
	tmpdir_remove(f->dir);
	free(f);
}

void *fx_keep(struct fx_plane *f, void *p)
{
	assert_non_null(p);
	assert_true(f->nkeep < FX_KEEP_MAX);
	f->keep[f->nkeep++] = p;
	return p;
}

const char *fx_fmt(struct fx_plane *f, const char *format, ...)
{
	struct buf b = BUF_INIT(1 << 20);
	va_list ap;

	va_start(ap, format);
	assert_int_equal(buf_vaddf(&b, format, ap), 0);
	va_end(ap);
	return fx_keep(f, buf_detach(&b, NULL));
}

int fx_put(struct fx_plane *f, enum kind_id k, enum plane_write_mode m,
	   const char *name, const char *text, struct plane_res *r)
{
	err_clear(&f->e);
	return plane_write(f->p, &f->who, k, m, name, text, strlen(text), r,
			   &f->e);
}

void fx_ok_put(struct fx_plane *f, enum kind_id k, enum plane_write_mode m,
	       const char *name, const char *text, struct plane_res *r)
{
	int rc = fx_put(f, k, m, name, text, r);

	if (rc)
		fail_msg("write %s: %d: %s", name, rc, f->e.msg);
}

struct plane_res fx_lookup(struct fx_plane *f, enum kind_id k,
			   const char *slug)
{
	struct plane_res r;

	if (plane_lookup(f->p, k, slug, &r))
		fail_msg("%s not found", slug);
	return r;
}

bool fx_exists(struct fx_plane *f, enum kind_id k, const char *slug)
{
	struct plane_res r;

	return plane_lookup(f->p, k, slug, &r) == 0;
}

bool fx_in_data_file(struct fx_plane *f, const char *needle)
{
	const char *path = fx_fmt(f, "%s/data.mdb", f->state);
	struct stat st;
	char *data;
	ssize_t n;
	bool found;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	data = malloc((size_t)st.st_size + 1);
	assert_non_null(data);
	n = pread(fd, data, (size_t)st.st_size, 0);
	close(fd);
	assert_int_equal(n, st.st_size);
	found = memmem(data, (size_t)n, needle, strlen(needle)) != NULL;
	free(data);
	return found;
}
