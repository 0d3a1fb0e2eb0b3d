/*
 * ops_name.c - FUSE adapters that change names: unlink, rename, symlink,
 * link, mknod, and readlink for the by-id links.
 *
 * Views and spec.yaml are not files one can remove: unlinking one does
 * nothing and succeeds, so `rm -r` reaches the directory (DESIGN 1.4);
 * renaming one away is refused (EPERM) so editors back up by copying.
 * An unlinked spec.yaml is hidden for a moment from the process that
 * unlinked it, so that creating it again (install, cp
 * --remove-destination) is an update (gone.h).  Scratch files behave like
 * files.  Renaming a scratch or pending file onto a spec name is a commit
 * point.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commit.h"
#include "gone.h"
#include "obj.h"
#include "ops.h"
#include "perm.h"

/* spec.yaml: nothing is removed; its unlinker sees it gone a moment. */
static int unlink_spec(struct fs *fs, fuse_req_t req, const struct fs_obj *o)
{
	struct timespec now;
	pid_t pid = fs_caller(req).pid;

	/* pid 0: a caller in another pid namespace, which names no one. */
	if (pid == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	gone_add(fs->gone, o->ino, pid, &now);
	return 0;
}

/* A document being written is its writer's (or an operator's). */
static int remove_ok(struct fs *fs, fuse_req_t req, const struct fs_obj *o)
{
	struct plane_caller c = fs_caller(req);

	return fs_perm(fs, &c, o, ACT_REMOVE);
}

static int unlink_obj(struct fs *fs, fuse_req_t req, const struct fs_obj *o)
{
	if (fs_obj_is_spec(o))
		return unlink_spec(fs, req, o);
	switch (o->what) {
	case W_VIEW:
	case W_STREAM:
	case W_FOLLOW:
	case W_CTL:
	case W_RUN:
		return 0;	/* a view: nothing to remove */
	case W_MEM:
		if (o->ntype == NODE_DRAFT)
			return -EISDIR;
		if (remove_ok(fs, req, o) < 0)
			return -EACCES;
		tree_unlink(fs->tree, o->node, NULL, NULL);
		return 0;
	case W_README:
	case W_ERRORS:
	case W_AUDIT:
	case W_LINK:
		return -EPERM;
	default:
		return -EISDIR;
	}
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -fs_obj_apply(fs_of(req), req, parent, name,
					  unlink_obj));
}

/* A rename request, decoded. */
struct move {
	struct fs_obj src;	/* the file being renamed */
	struct fs_obj dst_dir;
	const char *newname;
	fuse_ino_t parent;
	fuse_ino_t newparent;
	bool noreplace;
};

static bool name_taken(struct fs *fs, fuse_ino_t dir, const char *name)
{
	struct node *n = tree_find(fs->tree, dir, name);

	tree_put(fs->tree, n);
	return n != NULL;
}

/*
 * Whether renaming onto @m->newname is a commit, and where to.
 * Return: 1 and *t (a commit), 0 (a plain rename), -errno.
 */
static int commit_target(struct fs *fs, const struct move *m,
			 struct fs_target *t)
{
	const struct fs_obj *d = &m->dst_dir;
	bool spec = strcmp(m->newname, "spec.yaml") == 0;
	int rc;

	if (d->what == W_RESDIR && spec)
		rc = fs_target_set(t, PLANE_WRITE_SPEC, d->kind, d->res.slug, 0);
	else if (d->what == W_MEM && d->ntype == NODE_DRAFT && spec)
		/* A draft's name never changes: rename of a draft is EPERM. */
		rc = fs_target_set(t, PLANE_WRITE_DRAFT, d->kind, d->node->name,
				   d->ino);
	else if (d->what == W_KINDDIR && fs_is_doc_name(m->newname))
		rc = fs_target_set(t, PLANE_WRITE_NEW, d->kind, m->newname, 0);
	else if (d->what == W_RESDIR &&
		 fs_slot_by_name(d->kind, SLOT_DIR, m->newname) >= 0)
		return -EPERM;
	else
		return 0;
	if (rc < 0)
		return rc;
	if (m->noreplace && (spec || name_taken(fs, d->ino, m->newname)))
		return -EEXIST;
	return 1;
}

static int commit_move(struct fs *fs, fuse_req_t req, const struct move *m,
		       const struct fs_target *t)
{
	struct plane_res r;
	struct node *old;
	struct plane_caller c = fs_caller(req);
	int rc = fs_commit_node(fs, &c, t, m->src.node, &r);

	if (rc < 0)
		return rc;
	if (t->mode == PLANE_WRITE_NEW) {
		/* Applied: the file disappears, as a pending one would. */
		tree_unlink(fs->tree, m->src.node, NULL, NULL);
		old = tree_find(fs->tree, m->newparent, m->newname);
		if (old)
			tree_unlink(fs->tree, old, NULL, NULL);
		tree_put(fs->tree, old);
	} else {
		/* The kernel now shows our inode as spec.yaml: keep it
		   answering as the real one until it is forgotten, and to
		   everyone (an editor that unlinked it renames back). */
		tree_alias(fs->tree, m->src.node,
			   fs_res_ino(r.serial, SLOT_SPEC));
		gone_clear(fs->gone, fs_res_ino(r.serial, SLOT_SPEC));
	}
	/* The kernel moved our scratch inode to @newname; its entry timeout
	   is 0, so the next lookup finds what is there now. */
	return 0;
}

/* A rename that is not a commit: between scratch names of one directory. */
static int plain_move(struct fs *fs, const struct move *m)
{
	struct fs_obj o;
	uint64_t gone;
	int rc;

	if (m->parent != m->newparent)
		return -EXDEV;
	memset(&o, 0, sizeof(o));
	if (fs_obj_child(fs, &m->dst_dir, m->newname, &o) == 0) {
		rc = o.what == W_MEM ? 0 : -EISDIR;
		if (rc == 0 && o.ntype == NODE_DRAFT)
			rc = -EISDIR;
		fs_obj_put(fs, &o);
		if (rc < 0)
			return rc;
	}
	return tree_rename(fs->tree, m->src.node, m->newparent, m->newname,
			   NODE_SCRATCH, m->noreplace, &gone);
}

/* A rename onto another's document being written would throw it away
 * (or commit ours in its place): only its writer, or an operator. */
static int replaces_other(struct fs *fs, const struct plane_caller *c,
			  const struct move *m)
{
	struct fs_obj t;
	int rc = 0;

	if (fs_obj_is_dir(&m->dst_dir) &&
	    fs_obj_child(fs, &m->dst_dir, m->newname, &t) == 0 &&
	    t.what == W_MEM)
		rc = fs_perm(fs, c, &t, ACT_REMOVE);
	fs_obj_put(fs, &t);
	return rc;
}

static int do_move(struct fs *fs, fuse_req_t req, struct move *m)
{
	struct plane_caller c;
	struct fs_target t;
	int rc;

	/* Views, spec.yaml, drafts and directories stay where they are. */
	if (m->src.what != W_MEM || (m->src.ntype != NODE_SCRATCH &&
				     m->src.ntype != NODE_PENDING))
		return -EPERM;
	c = fs_caller(req);
	if (fs_perm(fs, &c, &m->src, ACT_REMOVE) < 0 ||
	    (fs_obj_is_dir(&m->dst_dir) &&
	     fs_perm(fs, &c, &m->dst_dir, ACT_CREATE) < 0) ||
	    replaces_other(fs, &c, m) < 0)
		return -EACCES;
	rc = commit_target(fs, m, &t);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return commit_move(fs, req, m, &t);
	return plain_move(fs, m);
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
	       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	struct fs_obj dir;
	struct move m;
	int rc;

	memset(&m, 0, sizeof(m));
	memset(&dir, 0, sizeof(dir));
	m.newname = newname;
	m.parent = parent;
	m.newparent = newparent;
	m.noreplace = (flags & RENAME_NOREPLACE) != 0;
	rc = (flags & ~(unsigned)RENAME_NOREPLACE) ? -EINVAL : 0;
	if (rc == 0)
		rc = fs_name_check(newname);
	if (rc == 0)
		rc = fs_obj_get(fs, parent, &dir);
	if (rc == 0)
		rc = fs_obj_child(fs, &dir, name, &m.src);
	if (rc == 0)
		rc = fs_obj_get(fs, newparent, &m.dst_dir);
	if (rc == 0)
		rc = do_move(fs, req, &m);
	fs_obj_put(fs, &m.dst_dir);
	fs_obj_put(fs, &m.src);
	fs_obj_put(fs, &dir);
	fuse_reply_err(req, -rc);
}

void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		const char *name)
{
	/* Emacs' lock files: refused, emacs carries on without. */
	fuse_reply_err(req, EPERM);
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
	     const char *newname)
{
	fuse_reply_err(req, EPERM);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, EPERM);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	char target[NAME_MAX * 2 + 8];
	struct fs_obj o;
	struct plane_caller c = fs_caller(req);
	int rc = fs_obj_get(fs, ino, &o);

	if (rc == 0 && o.what == W_LINK)
		rc = fs_perm(fs, &c, &o, ACT_READ);
	if (rc == 0)
		rc = o.what == W_LINK ? fs_link_target(&o, target,
						       sizeof(target))
				      : -EINVAL;
	fs_obj_put(fs, &o);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
}
