/*
 * fx_plane.h - the fixture of the tests that drive a whole control plane
 * (test_plane, test_runenv, test_runner): a plane on a fresh state
 * directory and key file, the caller it writes as, and the helpers every
 * such test writes and looks documents up with.
 */
#ifndef EXECFS_TESTS_FX_PLANE_H
#define EXECFS_TESTS_FX_PLANE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/plane.h"

#define FX_KEEP_MAX 4096

struct fx_plane {
	char dir[64];		/* the scratch directory, removed at the end */
	char state[128];	/* dir/state */
	char key[128];		/* dir/key */
	struct plane *p;	/* NULL until fx_plane_open() */
	struct plane_limits lim;	/* opened with; defaults */
	bool hold;		/* plane_opts.hold_runs; true */
	bool has_operators;	/* plane_opts.has_operators; false */
	gid_t operators;
	struct plane_caller who;	/* this process */
	struct err e;		/* of the last fx_put() */
	void *keep[FX_KEEP_MAX];	/* freed by fx_plane_free() */
	size_t nkeep;
};

/*
 * A fixture on a new scratch directory "/tmp/execfs-@tag-XXXXXX", with
 * default limits and held runs; the plane is not open yet.  Returns 0 or
 * -errno.
 */
int fx_plane_new(struct fx_plane **out, const char *tag);

/* Open f->p with f->lim and f->hold; print why when it fails.  0/-errno. */
int fx_plane_open(struct fx_plane *f);

/* Close the plane, free what was kept, remove the directory, free @f. */
void fx_plane_free(struct fx_plane *f);

/* Keep @p (asserted non-NULL) until fx_plane_free(), so checks can use
 * it inline. */
void *fx_keep(struct fx_plane *f, void *p);

/* A formatted string kept until fx_plane_free(). */
const char *fx_fmt(struct fx_plane *f, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* plane_write() of @text as the fixture's caller; the error in f->e. */
int fx_put(struct fx_plane *f, enum kind_id k, enum plane_write_mode m,
	   const char *name, const char *text, struct plane_res *r);

/* fx_put() that fails the test, with the message, unless it succeeds. */
void fx_ok_put(struct fx_plane *f, enum kind_id k, enum plane_write_mode m,
	       const char *name, const char *text, struct plane_res *r);

/* The resource @slug of @k; fails the test when there is none. */
struct plane_res fx_lookup(struct fx_plane *f, enum kind_id k,
			   const char *slug);

bool fx_exists(struct fx_plane *f, enum kind_id k, const char *slug);

/* Whether @needle is anywhere in the LMDB file, as bytes on disk. */
bool fx_in_data_file(struct fx_plane *f, const char *needle);

#endif
