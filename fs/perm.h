/*
 * perm.h - who may do what on the mount (DESIGN 1.8 as issue 10 replaced
 * it): the daemon checks every open, listing, lookup, create and remove
 * against the owner, group and mode bits the files show, with the rules of
 * core/access.c.  Only a shared mount (-o allow_other) checks: otherwise
 * only the daemon's user reaches it, and it may do anything.
 *
 * The kernel's default_permissions is not used: it cannot give operators
 * their rights (it refuses chown to anyone without CAP_CHOWN, and deletes
 * in a sticky directory to anyone but the owner), and it needs x on a
 * directory to read a view in it, where r alone means "view".
 */
#ifndef EXECFS_PERM_H
#define EXECFS_PERM_H

#include "obj.h"

enum fs_act {
	ACT_LOOKUP,	/* resolve a name in directory @o */
	ACT_LIST,	/* list directory @o */
	ACT_READ,	/* open file @o for reading */
	ACT_WRITE,	/* open file @o for writing */
	ACT_CREATE,	/* make a new name in directory @o */
	ACT_REMOVE,	/* remove in-memory node @o */
};

/**
 * fs_perm() - whether @c may do @act on @o.  A refusal is recorded (the
 * caller's errors and the audit log, plane_deny()).
 * Return: 0; -EACCES.
 */
int fs_perm(struct fs *fs, const struct plane_caller *c,
	    const struct fs_obj *o, enum fs_act act);

/**
 * fs_perm_child() - fs_perm() of @act (ACT_LOOKUP or ACT_CREATE) in
 * directory @o for the name @name, which the refusal's message names.
 */
int fs_perm_child(struct fs *fs, const struct plane_caller *c,
		  const struct fs_obj *o, enum fs_act act, const char *name);

/**
 * fs_groups_fill() - the supplementary groups of @c's process (@req),
 * from a cache of one second per process (the kernel reads them from
 * /proc on every miss).
 */
void fs_groups_fill(struct fs *fs, fuse_req_t req, struct plane_caller *c);

/** fs_groups_new(), fs_groups_free() - the cache.  Return: 0, -ENOMEM. */
int fs_groups_new(struct fs *fs);
void fs_groups_free(struct fs *fs);

#endif
