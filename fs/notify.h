/*
 * notify.h - the thread that tells the kernel what changed behind its back.
 *
 * fuse_lowlevel_notify_inval_entry() and _delete() must not run inside a
 * request on the same directory, nor while a lock a request needs is held
 * (fuse_lowlevel.h).  So every invalidation is queued here and sent by one
 * thread that serves no request.  Queueing never blocks and never fails
 * loudly: a dropped invalidation only means the kernel trusts its cache
 * until the entry/attr timeout.
 */
#ifndef EXECFS_NOTIFY_H
#define EXECFS_NOTIFY_H

#include "fs.h"

struct notifier;

/**
 * notify_start() - start the thread sending to @se.
 * Return: 0 and *out; -ENOMEM; -EAGAIN (no thread).
 */
int notify_start(struct notifier **out, struct fuse_session *se);

/**
 * notify_stop() - send what is queued, stop and free.  Later calls to the
 * queue functions of a stopped notifier are dropped.  NULL-safe.
 */
void notify_stop(struct notifier *n);

/**
 * notify_detach() - the session is about to be unmounted: drop what is
 * queued and every note queued later (runs stopping after the unmount
 * still report changes; the channel is closed by then).  NULL-safe.
 */
void notify_detach(struct notifier *n);

/** notify_entry() - forget the name @name in directory @parent. */
void notify_entry(struct notifier *n, fuse_ino_t parent, const char *name);

/** notify_delete() - @name (inode @child) left @parent; tells inotify too. */
void notify_delete(struct notifier *n, fuse_ino_t parent, fuse_ino_t child,
		   const char *name);

/**
 * notify_inode() - drop the cached attributes (size, mtime) of @ino.
 * Only attributes: dropping pages can wait on a page lock held by a read
 * the daemon will never answer if it is being killed, which would wedge
 * the mount; views are read with direct_io instead.
 */
void notify_inode(struct notifier *n, fuse_ino_t ino);

#define NOTIFY_BATCH_MAX 16

/**
 * notify_inodes() - notify_inode() for each of the @n (at most
 * NOTIFY_BATCH_MAX; more are dropped) inodes of @inos, in order, queued
 * together: the sending thread is woken once for them all.
 */
void notify_inodes(struct notifier *n, const fuse_ino_t *inos, size_t n_inos);

/**
 * fs_notify_attrs() - notify_inodes() for those of the @n inodes of @inos
 * the kernel may hold (fs_ino_known()): nothing is queued, and the thread
 * not woken, for files no one has looked up.
 */
void fs_notify_attrs(struct fs *fs, const fuse_ino_t *inos, size_t n);

/**
 * fs_deleting() - mark the resource (serial; 0 clears) that the calling
 * thread is removing with rmdir: the kernel drops that entry itself, so
 * fs_plane_changed() sends no invalidation for it.
 */
void fs_deleting(uint64_t serial);

/**
 * fs_plane_changed() - the plane's notify callback (@ctx is the struct fs):
 * a deleted resource invalidates its names (a created one needs nothing:
 * negative entries are not cached), an updated one the attributes of its
 * directory and files.
 */
void fs_plane_changed(void *ctx, enum plane_change what,
		      const struct plane_res *r);

#endif
