/*
 * ops_file.c - FUSE adapters for files: create, open, read, write, flush,
 * fsync, release and setattr.  Each decodes its inode, calls handle.c or
 * the tree, and replies exactly once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/seal.h"
#include "follow.h"
#include "handle.h"
#include "notify.h"
#include "ops.h"
#include "perm.h"

static struct fh *fh_of(const struct fuse_file_info *fi)
{
	return fi ? (struct fh *)(uintptr_t)fi->fh : NULL;
}

/* Caching flags of a fresh handle (DESIGN 1.6, performance notes 1.2). */
static void set_open_flags(const struct fh *h, struct fuse_file_info *fi)
{
	fi->fh = (uint64_t)(uintptr_t)h;
	switch (h->type) {
	case FH_VIEW:
		/* Views are read with direct_io: each open reads the current
		   generation from the daemon.  With the page cache, a read
		   answered for an old generation could land after the
		   invalidation for the new one and be served stale to later
		   opens (seen with concurrent updates). */
		fi->direct_io = 1;
		fi->noflush = 1;
		break;
	case FH_README:
		fi->keep_cache = 1;
		fi->noflush = 1;
		break;
	case FH_ERRORS:
		fi->direct_io = 1;
		break;
	case FH_SPEC:
		/* Written bytes stay out of the page cache: a rejected
		   document must not be what the next reader sees. */
		fi->direct_io = 1;
		break;
	case FH_AUDIT:
		/* Grows: every read asks the daemon (tail -f polls). */
		fi->direct_io = 1;
		fi->noflush = 1;
		break;
	case FH_STREAM:
		/* Growing files: every read asks the daemon. */
		fi->direct_io = 1;
		fi->noflush = 1;
		break;
	case FH_FOLLOW:
		/* Read at the kernel's offset and seekable like a regular
		   file: GNU head and grep seek back over what they read past
		   the lines they wanted. */
		fi->direct_io = 1;
		fi->noflush = 1;
		break;
	case FH_CTL:
		fi->direct_io = 1;
		fi->noflush = 1;
		break;
	case FH_RUN:
		fi->direct_io = 1;	/* flush is a commit point: kept */
		break;
	default:
		break;
	}
}

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fs_obj o;
	struct fh *h = NULL;
	int rc = fs_obj_get(fs, ino, &o);

	if (rc == 0)
		rc = fh_open(fs, req, &o, fi->flags, &h);
	fs_obj_put(fs, &o);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	set_open_flags(h, fi);
	if (fuse_reply_open(req, fi) != 0)
		fh_free(fs, h);
}

/* The kind of node a new @name in directory @dir becomes. */
static int new_node_type(struct fs *fs, const struct fs_obj *dir,
			 const char *name, enum node_type *type)
{
	struct plane_res r;

	switch (dir->what) {
	case W_KINDDIR:
		if (slug_valid(name) &&
		    plane_lookup(fs->plane, dir->kind, name, &r) == 0)
			return -EEXIST;
		*type = fs_is_doc_name(name) ? NODE_PENDING : NODE_SCRATCH;
		return 0;
	case W_RESDIR:
		if (fs_slot_by_name(dir->kind, SLOT_DIR, name) >= 0)
			return -EEXIST;
		*type = NODE_SCRATCH;
		return 0;
	case W_MEM:
		if (dir->ntype != NODE_DRAFT)
			return -ENOTDIR;
		*type = NODE_SCRATCH;
		return 0;
	default:
		return -EPERM;
	}
}

/*
 * The caller unlinked spec file @o and creates it again (install, cp
 * --remove-destination): open it to write, empty, like any spec write.
 * Its entry is the spec's own inode; the size is the handle's (0).
 */
static int create_spec(struct fs *fs, fuse_req_t req, const struct fs_obj *o,
		       struct fuse_file_info *fi, struct fuse_entry_param *e,
		       struct fh **h)
{
	struct plane_caller c = fs_caller(req);
	int flags = fi->flags & O_ACCMODE;
	off_t size;
	int rc;

	if (flags != O_RDONLY)
		flags |= O_TRUNC;
	rc = fh_open(fs, req, o, flags, h);
	if (rc == 0)
		rc = fs_obj_entry(fs, o, c.uid, e);
	if (rc < 0) {
		fh_free(fs, *h);
		*h = NULL;
		return rc;
	}
	size = fh_size(*h);
	if (size >= 0) {
		e->attr.st_size = size;
		e->attr.st_blocks = (size + 511) / 512;
		e->attr_timeout = 0;
	}
	return 0;
}

/* Return: 1 and *@h if @name is a spec the caller unlinked, 0, -errno. */
static int recreate(struct fs *fs, fuse_req_t req, const struct fs_obj *dir,
		    const char *name, struct fuse_file_info *fi,
		    struct fuse_entry_param *e, struct fh **h)
{
	struct fs_obj o;
	int rc;

	/* Only a resource or draft directory holds a spec: a create in a
	 * kind directory (the common one) looks nothing up here. */
	if (dir->what != W_RESDIR &&
	    !(dir->what == W_MEM && dir->ntype == NODE_DRAFT))
		return 0;
	rc = fs_obj_child(fs, dir, name, &o);
	if (rc == 0 && fs_obj_gone(fs, &o, fs_caller(req).pid, true)) {
		rc = create_spec(fs, req, &o, fi, e, h);
		if (rc == 0)
			rc = 1;
	} else {
		rc = 0;
	}
	fs_obj_put(fs, &o);
	return rc;
}

static int create_in(struct fs *fs, fuse_req_t req, const struct fs_obj *dir,
		     const char *name, mode_t mode, struct fuse_file_info *fi,
		     struct fuse_entry_param *e, struct fh **h)
{
	struct plane_caller c = fs_caller(req);
	enum node_type type = NODE_SCRATCH;
	struct fs_obj o;
	struct node *n = NULL;
	int rc = fs_name_check(name);

	if (rc == 0)
		rc = recreate(fs, req, dir, name, fi, e, h);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = fs_perm_child(fs, &c, dir, ACT_CREATE, name);
	if (rc == 0)
		rc = new_node_type(fs, dir, name, &type);
	if (rc < 0)
		return rc;
	rc = tree_add(fs->tree, dir->ino, name, type, dir->kind, mode, &n);
	if (rc < 0)
		return rc;
	tree_own(fs->tree, n, c.uid, c.gid);
	memset(&o, 0, sizeof(o));
	o.what = W_MEM;
	o.ino = n->ino;
	o.kind = n->kind;
	o.node = n;
	o.ntype = type;
	rc = fh_open(fs, req, &o, fi->flags & ~O_TRUNC, h);
	if (rc == 0)
		rc = fs_obj_entry(fs, &o, c.uid, e);
	if (rc < 0) {
		fh_free(fs, *h);
		*h = NULL;
		tree_unlink(fs->tree, n, NULL, NULL);
	}
	fs_obj_put(fs, &o);
	return rc;
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct fs_obj dir;
	struct fh *h = NULL;
	int rc = fs_obj_get(fs, parent, &dir);

	if (rc == 0)
		rc = create_in(fs, req, &dir, name, mode, fi, &e, &h);
	fs_obj_put(fs, &dir);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	set_open_flags(h, fi);
	if (fuse_reply_create(req, &e, fi) != 0)
		fh_free(fs, h);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fh *h = fh_of(fi);
	const char *data = NULL;
	char *copy = NULL;
	ssize_t n;

	if (h->type == FH_FOLLOW) {
		/* Answered now or later, by follow.c. */
		follow_read(fs->follow, h->follow, req, (uint64_t)off, size);
		return;
	}
	if (h->type == FH_RUN) {
		n = fh_run_read(fs, req, h, size, &copy);
		data = copy;
	} else {
		n = fh_read(fs, h, off, size, &data, &copy);
	}

	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, data, (size_t)n);
	/* A copy of a spec being written or of an in-memory document may
	   hold secret values in plain text. */
	if (copy)
		seal_wipe(copy, (size_t)n);
	free(copy);
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	      off_t off, struct fuse_file_info *fi)
{
	struct fh *h = fh_of(fi);
	ssize_t n;

	if (h->type == FH_CTL)
		n = fs_ctl_write(fs_of(req), req, h, buf, size);
	else
		n = fh_write(fs_of(req), h, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/*
 * A commit point, answered, then the run it created started (plane.h:
 * the run would compete with the writer's return).  After a failure the
 * kernel may hold the size of what was written: drop it, so readers see
 * the unchanged spec again.
 */
static void commit_point(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct plane_later later;
	int rc;

	plane_defer_runs(&later);
	rc = fh_commit(fs, req, fh_of(fi), false);
	plane_defer_runs(NULL);
	if (rc < 0)
		notify_inode(fs->notify, ino);
	fuse_reply_err(req, -rc);
	plane_start_later(fs->plane, &later);
}

void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	commit_point(req, ino, fi);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi)
{
	commit_point(req, ino, fi);
}

void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct fh *h = fh_of(fi);
	enum node_type type;
	char name[NAME_MAX + 1];

	/* The last attempt: its error can only go to errors. */
	if (fh_commit(fs, req, h, true) < 0 ||
	    (h->type == FH_SPEC && fh_written(h)))
		notify_inode(fs->notify, ino);
	if (h->type == FH_MEM && tree_failed(fs->tree, h->node) &&
	    tree_where(fs->tree, h->node, &type, name) &&
	    type == NODE_PENDING)
		fs_pending_done(fs, h->node);
	fh_free(fs, h);
	fuse_reply_err(req, 0);
}

/* Size change: through the handle, or on an in-memory file by path. */
static int set_size(struct fs *fs, const struct fs_obj *o, struct fh *h,
		    off_t size)
{
	if (h && h->writable)
		return fh_truncate(fs, h, size);
	if (o->what == W_MEM && (o->ntype == NODE_PENDING ||
				 o->ntype == NODE_SCRATCH))
		return tree_truncate(fs->tree, o->node, size);
	if (o->what == W_CTL || o->what == W_RUN)
		return 0;	/* `echo cancel > ctl` without atomic O_TRUNC */
	if (fs_obj_is_dir(o))
		return -EISDIR;
	return -EPERM;
}

/* Mode and times are remembered for in-memory files, ignored elsewhere. */
static void set_meta(struct fs *fs, const struct fs_obj *o,
		     const struct stat *attr, int to_set)
{
	struct timespec now;
	const struct timespec *mt = NULL;
	mode_t mode = attr->st_mode;

	if (o->what != W_MEM || o->ntype == NODE_DRAFT)
		return;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		clock_gettime(CLOCK_REALTIME, &now);
		mt = &now;
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		mt = &attr->st_mtim;
	}
	tree_chmod(fs->tree, o->node,
		   (to_set & FUSE_SET_ATTR_MODE) ? &mode : NULL, mt);
}

#define SET_OWNER (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)

static void attr_of(const struct stat *attr, int to_set, struct plane_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->set_mode = (to_set & FUSE_SET_ATTR_MODE) != 0;
	a->set_uid = (to_set & FUSE_SET_ATTR_UID) != 0;
	a->set_gid = (to_set & FUSE_SET_ATTR_GID) != 0;
	a->mode = attr->st_mode & 07777;
	a->uid = attr->st_uid;
	a->gid = attr->st_gid;
}

/*
 * chmod, chown, chgrp: of a resource (its directory carries the mode; its
 * files show what follows from it and ignore a change) or of a kind
 * directory.  In-memory files keep their mode (set_meta); the root and
 * its files refuse (EPERM).
 */
static int set_owner(struct fs *fs, const struct plane_caller *c,
		     struct fs_obj *o, const struct stat *attr, int to_set)
{
	const struct kind *k = model_kind(o->kind);
	char subject[NAME_MAX * 2 + 8];
	struct plane_attr a;
	struct err e;
	int rc;

	attr_of(attr, to_set, &a);
	err_clear(&e);
	if (o->what == W_MEM)
		return a.set_uid || a.set_gid ||
		       fs_perm(fs, c, o, ACT_REMOVE) < 0 ? -EPERM : 0;
	if (o->what == W_KINDDIR) {
		rc = plane_dir_setattr(fs->plane, c, o->kind, &a, &e);
		snprintf(subject, sizeof(subject), "%s", k ? k->dir : "");
	} else if (o->what == W_RESDIR) {
		rc = plane_setattr(fs->plane, c, o->res.serial, &a, &o->res,
				   &e);
		fs_obj_subject(o, subject, sizeof(subject));
	} else if (fs_ino_is_res(o->ino)) {
		/* the directory carries the mode (install, cp -p set one on
		   spec.yaml): ignored for those who could set it there */
		if (c->uid == o->res.uid || plane_is_operator(fs->plane, c))
			return 0;
		err_set(&e, -EPERM, "only the owner (uid %u) or an operator "
			"may change the mode of a resource's files",
			(unsigned)o->res.uid);
		rc = -EPERM;
		fs_obj_subject(o, subject, sizeof(subject));
	} else {
		return -EPERM;
	}
	if (rc < 0)
		plane_reject(fs->plane, c, subject, &e);
	return rc;
}

static int do_setattr(struct fs *fs, fuse_req_t req, fuse_ino_t ino,
		      const struct stat *attr, int to_set, struct fh *h,
		      struct stat *st, double *timeout)
{
	struct plane_caller c = fs_caller(req);
	struct fs_obj o;
	off_t size;
	int rc = fs_obj_get(fs, ino, &o);

	/* A directory's fh is a listing, not a struct fh. */
	if (rc == 0 && fs_obj_is_dir(&o))
		h = NULL;
	/* By path, a document being written is its writer's alone. */
	if (rc == 0 && o.what == W_MEM && !(h && h->writable) &&
	    fs_perm(fs, &c, &o, ACT_WRITE) < 0)
		rc = -EPERM;
	if (rc == 0 && (to_set & SET_OWNER))
		rc = set_owner(fs, &c, &o, attr, to_set);
	if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE))
		rc = set_size(fs, &o, h, attr->st_size);
	if (rc == 0) {
		set_meta(fs, &o, attr, to_set);
		rc = fs_obj_stat(fs, &o, c.uid, st);
		*timeout = fs_obj_timeout(&o);
	}
	fs_obj_put(fs, &o);
	/* Only a file's fh is a struct fh: when @ino did not decode, @h
	   may be a directory listing. */
	size = rc == 0 && h ? fh_size(h) : -1;
	if (rc == 0 && size >= 0) {
		/* The bytes of this handle, not yet the spec: do not let
		   the kernel keep this size. */
		st->st_size = size;
		st->st_blocks = (size + 511) / 512;
		*timeout = 0;
	}
	return rc;
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		int to_set, struct fuse_file_info *fi)
{
	struct stat st;
	double timeout = 0;
	int rc = do_setattr(fs_of(req), req, ino, attr, to_set, fh_of(fi),
			    &st, &timeout);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, timeout);
}
