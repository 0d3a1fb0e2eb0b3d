/*
 * ops.c - the operation table, connection setup and small helpers shared
 * by the adapters.
 *
 * access, getxattr, setxattr and listxattr are left out on purpose: ENOSYS
 * for access keeps rm from seeing views as write-protected, and ENOSYS for
 * getxattr stops the kernel asking for security.capability before every
 * write (research/fs-conventions.md section 2).
 */
#include <string.h>

#include "ops.h"
#include "perm.h"

struct plane_caller fs_caller(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct plane_caller c;

	memset(&c, 0, sizeof(c));
	if (ctx) {
		c.uid = ctx->uid;
		c.gid = ctx->gid;
		c.pid = ctx->pid;
	}
	/* groups matter only where others reach the mount */
	if (ctx && fs_of(req)->shared)
		fs_groups_fill(fs_of(req), req, &c);
	return c;
}

static void want(struct fuse_conn_info *conn, unsigned cap, bool on)
{
	if (on && (conn->capable & cap))
		conn->want |= cap;
	else if (!on)
		conn->want &= ~cap;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	want(conn, FUSE_CAP_READDIRPLUS, true);
	want(conn, FUSE_CAP_READDIRPLUS_AUTO, false);
	want(conn, FUSE_CAP_WRITEBACK_CACHE, false);
	want(conn, FUSE_CAP_ATOMIC_O_TRUNC, true);	/* open() truncates */
	want(conn, FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
		   FUSE_CAP_SPLICE_MOVE, false);
}

const struct fuse_lowlevel_ops fs_lowlevel_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.create = op_create,
	.readdirplus = op_readdirplus,
	.poll = op_poll,
};
