/*
 * obj.h - what an inode is: decoding inode numbers and names into the
 * objects of the tree (DESIGN 1.2), and their attributes.
 *
 * Every operation starts here: fs_obj_get() turns an inode into a struct
 * fs_obj (following aliases), fs_obj_child() resolves a name in a
 * directory, fs_obj_stat() fills a struct stat.  Stored resources are
 * looked up in the plane each time (an LMDB read is cheaper than a FUSE
 * round trip); in-memory nodes come from tree.h.
 */
#ifndef EXECFS_OBJ_H
#define EXECFS_OBJ_H

#include <sys/stat.h>

#include "fs.h"
#include "tree.h"

enum fs_what {
	W_ROOT,
	W_README,
	W_ERRORS,
	W_AUDIT,	/* the audit log (DESIGN 1.8) */
	W_BYID,
	W_KINDDIR,
	W_RESDIR,	/* <kinddir>/<slug>/ */
	W_VIEW,		/* a rendered view (slots 1..5), spec.yaml included */
	W_LINK,		/* by-id/<id> */
	W_MEM,		/* an in-memory node (never an alias) */
	W_STREAM,	/* log, events of an execution */
	W_FOLLOWDIR,	/* follow/ of an execution */
	W_FOLLOW,	/* follow/log, follow/events */
	W_CTL,		/* ctl of an execution */
	W_RUN,		/* run of a workflow */
};

struct fs_obj {
	enum fs_what what;
	fuse_ino_t ino;		/* after following an alias */
	enum kind_id kind;	/* all but W_ROOT, W_README, W_ERRORS, W_AUDIT, W_BYID */
	int slot;		/* the resource's files and follow/ */
	struct plane_res res;	/* W_RESDIR, W_LINK, the resource's files */
	struct node *node;	/* W_MEM: a reference, dropped by fs_obj_put() */
	enum node_type ntype;	/* W_MEM: node->type when decoded */
};

/*
 * fs_obj_get() and fs_obj_child() always initialise *o, so fs_obj_put()
 * is safe after a failure too.
 */

/** fs_obj_get() - decode @ino.  Return: 0 and *o; -ENOENT when stale. */
int fs_obj_get(struct fs *fs, fuse_ino_t ino, struct fs_obj *o);

/**
 * fs_obj_child() - resolve @name in directory @dir.
 * Return: 0 and *o; -ENOENT; -ENOTDIR when @dir is not a directory;
 *   -ENAMETOOLONG (fs_name_check()).
 */
int fs_obj_child(struct fs *fs, const struct fs_obj *dir, const char *name,
		 struct fs_obj *o);

/**
 * fs_obj_apply() - resolve @name in directory @parent and call @fn on it
 * (the shared body of unlink and rmdir).  Return: @fn's result, or the
 * errno of resolving.
 */
int fs_obj_apply(struct fs *fs, fuse_req_t req, fuse_ino_t parent,
		 const char *name,
		 int (*fn)(struct fs *fs, fuse_req_t req,
			   const struct fs_obj *o));

/**
 * fs_name_check() - a name the kernel sent us: FUSE lets names up to 1024
 * bytes through, but every name here fits NAME_MAX (tree_where() and the
 * notify queue keep NAME_MAX + 1 bytes).
 * Return: 0; -ENAMETOOLONG.
 */
int fs_name_check(const char *name);

/** fs_obj_put() - drop what fs_obj_get/child took.  Safe to repeat. */
void fs_obj_put(struct fs *fs, struct fs_obj *o);

/** fs_obj_is_dir() - true for directories (a draft included). */
bool fs_obj_is_dir(const struct fs_obj *o);

/** fs_obj_is_spec() - true for the spec.yaml of a resource or a draft. */
bool fs_obj_is_spec(const struct fs_obj *o);

/**
 * fs_obj_gone() - whether spec file @o is hidden from the caller @pid
 * because it unlinked it a moment ago (gone.h).  With @take, the caller is
 * creating the name again: it is no longer hidden afterwards.
 */
bool fs_obj_gone(struct fs *fs, const struct fs_obj *o, pid_t pid,
		 bool take);

/**
 * fs_obj_stat() - attributes of @o; @uid is the caller's (errors is per
 * user).  Return: 0, -ENOENT (the view vanished), -ENOMEM, -EIO.
 */
int fs_obj_stat(struct fs *fs, const struct fs_obj *o, uid_t uid,
		struct stat *st);

/** fs_link_target() - "../<kinddir>/<slug>" of a W_LINK.  Return: 0, -ENAMETOOLONG. */
int fs_link_target(const struct fs_obj *o, char *out, size_t size);

/**
 * fs_obj_entry() - a struct fuse_entry_param for @o (attributes and
 * timeouts).  Return: as fs_obj_stat().
 */
int fs_obj_entry(struct fs *fs, const struct fs_obj *o, uid_t uid,
		 struct fuse_entry_param *e);

/**
 * fs_obj_timeout() - how long the kernel may trust @o's attributes:
 * FS_ATTR_TIMEOUT, or 0 for in-memory nodes (they vanish on commit) and
 * errors (it grows).  In-memory names get an entry timeout of 0 too.
 */
double fs_obj_timeout(const struct fs_obj *o);

/** fs_obj_subject() - "<kinddir>/<slug>" of a resource directory or draft. */
int fs_obj_subject(const struct fs_obj *o, char *out, size_t size);

#endif
