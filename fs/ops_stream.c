/*
 * ops_stream.c - the live side of executions (DESIGN 1.6): the plane's
 * stream notify, the follow registry's view of the plane and of libfuse,
 * poll, and the ctl file's commands.
 *
 * The stream notify runs on the thread that appended (a run); it only
 * queues work: attribute invalidations for the notifier thread and ready
 * reads for the follow registry's waker thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "follow.h"
#include "handle.h"
#include "notify.h"
#include "ops.h"

void fs_stream_changed(void *ctx, uint64_t serial, enum plane_stream s)
{
	struct fs *fs = ctx;
	bool log = s == PLANE_LOG;
	fuse_ino_t inos[2] = {
		fs_res_ino(serial, log ? SLOT_LOG : SLOT_EVENTS),
		fs_res_ino(serial, log ? SLOT_FOLLOW_LOG : SLOT_FOLLOW_EVENTS),
	};

	/* tail -f polls fstat: the size it sees must not be a cached one. */
	fs_notify_attrs(fs, inos, 2);
	follow_wake(fs->follow, serial, (int)s);
}

static int env_stat(void *ctx, uint64_t serial, int stream, uint64_t *size,
		    bool *done)
{
	struct fs *fs = ctx;
	struct plane_stream_stat ss;
	int rc;

	memset(&ss, 0, sizeof(ss));
	rc = plane_stream_stat(fs->plane, serial, (enum plane_stream)stream,
			       &ss);
	if (rc < 0)
		return rc;
	*size = ss.size;
	*done = ss.done;
	return 0;
}

static ssize_t env_read(void *ctx, uint64_t serial, int stream, uint64_t off,
			size_t size, struct buf *out)
{
	struct fs *fs = ctx;

	return plane_stream_read(fs->plane, serial, (enum plane_stream)stream,
				 off, size, out);
}

static int env_reply_buf(fuse_req_t req, const char *data, size_t size)
{
	return fuse_reply_buf(req, data, size);
}

int fs_follow_new(struct fs *fs)
{
	struct follow_env env = {
		.ctx = fs,
		.stat = env_stat,
		.read = env_read,
		.reply_buf = env_reply_buf,
		.reply_err = fuse_reply_err,
		.intr = fuse_req_interrupt_func,
		.poll_notify = fuse_lowlevel_notify_poll,
		.poll_destroy = fuse_pollhandle_destroy,
	};
	int rc = follow_new(&fs->follow, &env);

	if (rc == 0)
		rc = follow_start(fs->follow);
	return rc;
}

void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	     struct fuse_pollhandle *ph)
{
	struct fh *h = (struct fh *)(uintptr_t)fi->fh;
	unsigned revents = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
	int rc = 0;

	/* Never ENOSYS: the kernel would stop asking for every file of
	   the mount, follow/ ones included.  Other files are always ready. */
	if (h && h->type == FH_FOLLOW)
		rc = follow_poll(fs_of(req)->follow, h->follow, ph, &revents);
	else
		fuse_pollhandle_destroy(ph);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_poll(req, revents);
}

ssize_t fs_ctl_write(struct fs *fs, fuse_req_t req, struct fh *h,
		     const char *data, size_t size)
{
	const struct plane_caller c = h->who;	/* checked at open */
	const struct kind *k = model_kind(h->target.kind);
	char subject[NAME_MAX * 2 + 16];
	struct err e;
	int rc, n;

	err_clear(&e);
	rc = plane_ctl(fs->plane, &c, h->serial, data, size, &e);
	if (rc == 0)
		return (ssize_t)size;
	if (e.code == 0)
		err_set(&e, rc, "%s", strerror(-rc));
	n = snprintf(subject, sizeof(subject), "%s/%s/ctl", k ? k->dir : "?",
		     h->target.name);
	if (n < 0 || (size_t)n >= sizeof(subject))
		snprintf(subject, sizeof(subject), "%s", k ? k->dir : "?");
	plane_reject(fs->plane, &c, subject, &e);
	return rc;
}
