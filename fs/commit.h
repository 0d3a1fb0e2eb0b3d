/*
 * commit.h - sending a written document to the plane (DESIGN 1.4) and
 * what the tree does after it succeeded.
 *
 * A commit is plane_write(); a failure is recorded with plane_reject()
 * under the subject the user wrote to, and its errno goes back to the
 * caller's flush, fsync or rename.  Nothing here holds a lock across the
 * plane call.
 */
#ifndef EXECFS_COMMIT_H
#define EXECFS_COMMIT_H

#include "fs.h"
#include "tree.h"

/* Where a document goes. */
struct fs_target {
	enum plane_write_mode mode;
	enum kind_id kind;
	char name[NAME_MAX + 1];	/* NEW: file name; SPEC/DRAFT: slug */
	uint64_t draft;			/* DRAFT: the draft's inode */
};

/**
 * fs_commit() - write @len bytes of @text to @t as caller @c: the one who
 * opened the handle (struct fh.who), never the request that ended it (a
 * FUSE_RELEASE carries no credentials: it would read as root).
 * On success the tree follows: a committed draft is replaced by the
 * resource (fs_draft_done()).  On failure the error goes to errors.
 * Return: 0 and *@out (may be NULL); the plane's -errno.
 */
int fs_commit(struct fs *fs, const struct plane_caller *c,
	      const struct fs_target *t, const char *text, size_t len,
	      struct plane_res *out);

/**
 * fs_reject_big() - record that a document written to @t did not fit the
 * write buffer (FS_DOC_CAP), without sending a cut-off prefix anywhere.
 * Return: -EFBIG.
 */
int fs_reject_big(struct fs *fs, const struct plane_caller *c,
		  const struct fs_target *t);

/**
 * fs_commit_node() - commit the contents of in-memory file @n to @t.
 * Return: as fs_commit(); -ENOMEM.
 */
int fs_commit_node(struct fs *fs, const struct plane_caller *c,
		   const struct fs_target *t, struct node *n,
		   struct plane_res *out);

/**
 * fs_pending_done() - a pending document was applied or given up:
 * unlink it (its name has entry timeout 0: the kernel asks again).
 */
void fs_pending_done(struct fs *fs, struct node *n);

/**
 * fs_target_subject() - the path a failure at @t is reported under:
 * "<kinddir>/<file>" (NEW), "<kinddir>/<slug>/run" (RUN), else
 * "<kinddir>/<slug>/spec.yaml".  Cut to "<kinddir>" if @size is too small.
 */
void fs_target_subject(const struct fs_target *t, char *out, size_t size);

/** fs_target_set() - fill @t; -ENAMETOOLONG if @name does not fit. */
int fs_target_set(struct fs_target *t, enum plane_write_mode mode,
		  enum kind_id kind, const char *name, uint64_t draft);

/**
 * fs_is_doc_name() - true if a new file @name in a kind directory is a
 * document (*.yaml, *.yml, *.json with a stem, not a dot or '#' file)
 * rather than a scratch file.
 */
bool fs_is_doc_name(const char *name);

#endif
