/*
 * ops.h - the FUSE low-level adapters, one per operation, gathered into
 * fs_lowlevel_ops by ops.c.  Each decodes its arguments, calls the tree or
 * the plane, and replies exactly once.
 */
#ifndef EXECFS_OPS_H
#define EXECFS_OPS_H

#include "fs.h"

/* ops_dir.c */
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets);
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_statfs(fuse_req_t req, fuse_ino_t ino);

/* ops_mkdir.c */
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);

/* ops_file.c */
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
	       mode_t mode, struct fuse_file_info *fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	     struct fuse_file_info *fi);
void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
	      off_t off, struct fuse_file_info *fi);
void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
	      struct fuse_file_info *fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		int to_set, struct fuse_file_info *fi);

/* ops_name.c */
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode, dev_t rdev);
void op_readlink(fuse_req_t req, fuse_ino_t ino);

/* ops_stream.c */
struct fh;

void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
	     struct fuse_pollhandle *ph);

/**
 * fs_stream_changed() - the plane's stream notify (@ctx is the struct fs):
 * invalidates the attributes of the stream's files and wakes the reads
 * parked on it.
 */
void fs_stream_changed(void *ctx, uint64_t serial, enum plane_stream s);

/**
 * fs_follow_new() - fs->follow over this mount's plane and libfuse, with
 * its waker thread.  Return: 0, -ENOMEM, -EAGAIN.
 */
int fs_follow_new(struct fs *fs);

/**
 * fs_ctl_write() - one command written to ctl handle @h: plane_ctl(); a
 * refusal is recorded with plane_reject() ("<kinddir>/<slug>/ctl").
 * Return: @size, or the plane's -errno.
 */
ssize_t fs_ctl_write(struct fs *fs, fuse_req_t req, struct fh *h,
		     const char *data, size_t size);

#endif
