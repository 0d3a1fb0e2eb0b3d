/*
 * handle.h - open-file state (fuse_file_info.fh): what a read is served
 * from, the write buffer of a spec.yaml, the dirty bit and the commit
 * points of DESIGN 1.4.
 *
 * Read-only opens snapshot their bytes (a view blob, README, this user's
 * errors) so a reader sees one consistent version.  A spec.yaml opened for
 * writing gets its own bounded buffer, initialised with the current spec
 * (empty with O_TRUNC), committed by fh_commit().  Pending documents and
 * scratch files are in-memory nodes shared by all their handles.
 *
 * The files of executions and workflows: log and events read the stream
 * at the kernel's offset; follow/ files too, served by follow.h, which
 * parks a read at the end of a running stream; ctl takes one command per write; run buffers what
 * is written like a spec and starts an execution at its commit point
 * (runfile.c).
 *
 * Thread rules: the kernel may send concurrent requests on one handle;
 * the mutable fields are protected by the handle's mutex, which is never
 * held across a plane call or a reply.
 */
#ifndef EXECFS_HANDLE_H
#define EXECFS_HANDLE_H

#include <pthread.h>

#include "commit.h"
#include "obj.h"

enum fh_type {
	FH_README,	/* static text */
	FH_ERRORS,	/* snapshot of the caller's errors */
	FH_AUDIT,	/* the audit log, read at the kernel's offset */
	FH_VIEW,	/* snapshot of a rendered view */
	FH_SPEC,	/* spec.yaml (of a resource or a draft) opened to write */
	FH_MEM,		/* pending document or scratch file */
	FH_STREAM,	/* log, events */
	FH_FOLLOW,	/* follow/log, follow/events */
	FH_CTL,		/* ctl: each write a command */
	FH_RUN,		/* run: buffered like a spec, starts a run */
};

struct follow_h;

struct fh {
	enum fh_type type;
	bool writable;
	struct plane_caller who;	/* who opened it: its commits are
					   theirs (fs_commit()) */
	int slot;			/* FH_VIEW: which view */
	uint64_t serial;		/* FH_STREAM, FH_CTL, FH_RUN */
	int stream;			/* FH_STREAM: enum plane_stream */
	struct follow_h *follow;	/* FH_FOLLOW */
	pthread_mutex_t mu;
	struct plane_blob *blob;	/* FH_VIEW */
	struct node *node;		/* FH_MEM, a reference */
	struct buf buf;			/* FH_SPEC, FH_ERRORS, FH_RUN;
					   protected by mu */
	struct fs_target target;	/* FH_SPEC, FH_CTL, FH_RUN, and FH_MEM
					   once committed; protected by mu */
	bool committed;			/* FH_MEM: the new document became a
					   resource; protected by mu */
	bool dirty;			/* protected by mu */
	bool overflow;			/* a write did not fit; protected by mu */
	uint64_t version;		/* bumps on each change; protected by mu */
	uint64_t failed;		/* version whose commit failed; protected by mu */
	int failed_rc;			/* and its -errno; protected by mu */
	/* FH_RUN: the execution the last commit started, as read back */
	char result[SLUG_MAX + 2];	/* "<slug>\n"; protected by mu */
	size_t result_len;		/* protected by mu */
	size_t cursor;			/* read position in result; mu */
	bool committing;		/* a commit is in flight; mu */
	pthread_cond_t cond;		/* signalled when it ends */
};

/**
 * fh_open() - a handle for object @o opened with @flags (O_ACCMODE,
 * O_TRUNC honoured here: FUSE_CAP_ATOMIC_O_TRUNC).
 * Return: 0 and *out (free with fh_free()); -EACCES (write to a read-only
 *   file); -EISDIR; -ENOENT; -ENOMEM.
 */
int fh_open(struct fs *fs, fuse_req_t req, const struct fs_obj *o, int flags,
	    struct fh **out);

/** fh_free() - drop the snapshot, the node reference, the buffer, the
 *  follow handle.  NULL-safe. */
void fh_free(struct fs *fs, struct fh *h);

/**
 * fh_read() - up to @size bytes at @off: *@data points into *@copy
 * (caller frees), or into static text.  Never into the handle: once the
 * kernel has our reply it may release the handle before the replying
 * thread returns from fuse_reply_buf().
 * Return: the byte count, -ENOMEM.
 */
ssize_t fh_read(struct fs *fs, struct fh *h, off_t off, size_t size,
		const char **data, char **copy);

/** fh_write() - write at @off.  Return: @size, -EBADF (read-only), -EFBIG, -ENOMEM. */
ssize_t fh_write(struct fs *fs, struct fh *h, const char *data, size_t size,
		 off_t off);

/**
 * fh_truncate() - ftruncate.  A size past the cap is remembered like a
 * write that did not fit: the next commit point fails with EFBIG.
 * Return: 0, -EBADF, -EFBIG, -ENOMEM.
 */
int fh_truncate(struct fs *fs, struct fh *h, off_t size);

/** fh_written() - whether anything was written or truncated through @h. */
bool fh_written(struct fh *h);

/** fh_size() - the current size of a writable spec buffer, or -1. */
off_t fh_size(struct fh *h);

/**
 * fh_commit() - a commit point.  @final is release: the last attempt,
 * made even for an empty buffer.  Content that already failed is not sent
 * again: a later flush returns the same error, release returns 0.  A
 * flush of a clean or empty handle commits nothing.
 * Return: 0 or the plane's -errno (already recorded in errors).
 */
int fh_commit(struct fs *fs, fuse_req_t req, struct fh *h, bool final);

/* runfile.c */

/**
 * fh_run_commit() - a commit point of a run handle: what was written and
 * not yet committed goes to plane_run() once; a failure is recorded with
 * plane_reject() (subject "workflows/<slug>/run").  Content that already
 * failed is not sent again: the same error, or 0 when @final.
 * Return: 0 or the -errno.
 */
int fh_run_commit(struct fs *fs, fuse_req_t req, struct fh *h, bool final);

/**
 * fh_run_read() - a read of a run handle: commits first, then up to @size
 * bytes of "<execution-slug>\n" from the handle's cursor (EOF after it,
 * and when nothing was written).
 * Return: the byte count and *@copy (caller frees; NULL when 0), -errno.
 */
ssize_t fh_run_read(struct fs *fs, fuse_req_t req, struct fh *h, size_t size,
		    char **copy);

#endif
