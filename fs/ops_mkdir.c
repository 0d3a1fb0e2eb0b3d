/*
 * ops_mkdir.c - FUSE adapters for mkdir and rmdir (DESIGN 1.4): mkdir in a
 * kind directory makes an in-memory draft holding a template spec.yaml;
 * rmdir discards a draft or deletes a resource.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commit.h"
#include "notify.h"
#include "obj.h"
#include "ops.h"
#include "perm.h"

/* Records a refused change in the caller's errors. */
static void reject(struct fs *fs, fuse_req_t req, const char *subject,
		   struct err *e)
{
	struct plane_caller c = fs_caller(req);

	plane_reject(fs->plane, &c, subject, e);
}

static int check_draft_name(struct fs *fs, fuse_req_t req,
			    const struct fs_obj *dir, const char *name)
{
	const struct kind *k = model_kind(dir->kind);
	char subject[NAME_MAX * 2 + 8];
	struct plane_res r;
	struct err e;

	if (!slug_valid(name)) {
		err_set(&e, -EINVAL,
			"mkdir: '%s' is not a valid name (lower-case letters, "
			"digits and single '-' inside)", name);
		snprintf(subject, sizeof(subject), "%s/%s", k ? k->dir : "?",
			 name);
		reject(fs, req, subject, &e);
		return -EINVAL;
	}
	if (plane_lookup(fs->plane, dir->kind, name, &r) == 0)
		return -EEXIST;
	return 0;
}

/* The draft's spec.yaml, holding the kind's commented template. */
static int add_draft_spec(struct fs *fs, struct node *d, const char *name)
{
	struct buf text = BUF_INIT(FS_DOC_CAP);
	struct node *spec = NULL;
	int rc = plane_draft(d->kind, name, &text);

	if (rc == 0)
		rc = tree_add(fs->tree, d->ino, "spec.yaml", NODE_DRAFT_SPEC,
			      d->kind, 0644, &spec);
	if (rc == 0)
		tree_own(fs->tree, spec, d->uid, d->gid);
	if (rc == 0)
		rc = tree_set_data(fs->tree, spec, text.data ? text.data : "",
				   text.len);
	tree_put(fs->tree, spec);
	buf_release(&text);
	return rc;
}

static int make_draft(struct fs *fs, fuse_req_t req, const struct fs_obj *dir,
		      const char *name, struct fuse_entry_param *e)
{
	struct plane_caller c = fs_caller(req);
	struct fs_obj o;
	struct node *d = NULL;
	int rc;

	if (dir->what != W_KINDDIR)
		return -EPERM;
	rc = fs_name_check(name);
	if (rc == 0)
		rc = fs_perm_child(fs, &c, dir, ACT_CREATE, name);
	if (rc == 0)
		rc = check_draft_name(fs, req, dir, name);
	if (rc == 0)
		rc = tree_add(fs->tree, dir->ino, name, NODE_DRAFT, dir->kind,
			      0755, &d);
	if (rc < 0)
		return rc;
	tree_own(fs->tree, d, c.uid, c.gid);
	rc = add_draft_spec(fs, d, name);
	memset(&o, 0, sizeof(o));
	o.what = W_MEM;
	o.ino = d->ino;
	o.kind = d->kind;
	o.node = d;
	o.ntype = NODE_DRAFT;
	if (rc == 0)
		rc = fs_obj_entry(fs, &o, c.uid, e);
	if (rc < 0) {
		tree_unlink_children(fs->tree, d->ino);
		tree_unlink(fs->tree, d, NULL, NULL);
	}
	fs_obj_put(fs, &o);
	return rc;
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
	      mode_t mode)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct fs_obj dir;
	int rc = fs_obj_get(fs, parent, &dir);

	if (rc == 0) {
		rc = make_draft(fs, req, &dir, name, &e);
		fs_obj_put(fs, &dir);
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static int delete_res(struct fs *fs, fuse_req_t req, const struct fs_obj *o)
{
	struct plane_caller c = fs_caller(req);
	char subject[NAME_MAX * 2 + 8];
	struct err e;
	int rc;

	err_clear(&e);
	fs_deleting(o->res.serial);
	rc = plane_delete(fs->plane, &c, o->kind, o->res.slug, &e);
	fs_deleting(0);
	if (rc < 0) {
		if (e.code == 0)
			err_set(&e, rc, "%s", strerror(-rc));
		if (fs_obj_subject(o, subject, sizeof(subject)) == 0)
			reject(fs, req, subject, &e);
		return rc;
	}
	/* Scratch files left in the directory go with it. */
	tree_unlink_children(fs->tree, o->ino);
	return 0;
}

static int remove_mem_ok(struct fs *fs, fuse_req_t req,
			 const struct fs_obj *o)
{
	struct plane_caller c = fs_caller(req);

	return fs_perm(fs, &c, o, ACT_REMOVE);
}

static int remove_dir(struct fs *fs, fuse_req_t req, const struct fs_obj *o)
{
	switch (o->what) {
	case W_RESDIR:
		return delete_res(fs, req, o);
	case W_MEM:
		if (o->ntype != NODE_DRAFT)
			return -ENOTDIR;
		if (remove_mem_ok(fs, req, o) < 0)
			return -EACCES;
		tree_unlink_children(fs->tree, o->ino);
		tree_unlink(fs->tree, o->node, NULL, NULL);
		return 0;
	case W_FOLLOWDIR:
		return 0;	/* a view: nothing to remove (rm -r goes on) */
	case W_ROOT:
	case W_BYID:
	case W_KINDDIR:
		return -EPERM;
	default:
		return -ENOTDIR;
	}
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -fs_obj_apply(fs_of(req), req, parent, name,
					  remove_dir));
}
