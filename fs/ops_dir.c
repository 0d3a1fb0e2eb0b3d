/*
 * ops_dir.c - FUSE adapters for names and directories: lookup, forget,
 * getattr, opendir/readdir/readdirplus/releasedir and statfs.
 *
 * opendir snapshots the listing into the directory handle, so offsets
 * (index + 1) stay stable while resources come and go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "handle.h"
#include "obj.h"
#include "ops.h"
#include "perm.h"

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct plane_caller c = fs_caller(req);
	struct fuse_entry_param e;
	struct fs_obj dir, o;
	int rc = fs_obj_get(fs, parent, &dir);

	memset(&o, 0, sizeof(o));
	if (rc == 0 && fs_obj_is_dir(&dir))
		rc = fs_perm_child(fs, &c, &dir, ACT_LOOKUP, name);
	if (rc == 0)
		rc = fs_obj_child(fs, &dir, name, &o);
	/* by-id/<id> of a context takes what executioncontexts/ does. */
	if (rc == 0 && o.what == W_LINK)
		rc = fs_perm(fs, &c, &o, ACT_LOOKUP);
	/* A spec the caller just unlinked looks gone to it (gone.h). */
	if (rc == 0 && fs_obj_gone(fs, &o, c.pid, false))
		rc = -ENOENT;
	if (rc == 0)
		rc = fs_obj_entry(fs, &o, c.uid, &e);
	fs_obj_put(fs, &o);
	fs_obj_put(fs, &dir);
	if (rc == -ENOENT) {
		/* A negative entry, cached for a short while. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = FS_NEGATIVE_TIMEOUT;
		fuse_reply_entry(req, &e);
	} else if (rc < 0) {
		fuse_reply_err(req, -rc);
	} else {
		fuse_reply_entry(req, &e);
	}
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	if (ino >= FS_INO_MEM)
		tree_forget(fs_of(req)->tree, ino);
	fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count,
		     struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		if (forgets[i].ino >= FS_INO_MEM)
			tree_forget(fs->tree, forgets[i].ino);
	fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct plane_caller c = fs_caller(req);
	struct fh *h = fi ? (struct fh *)(uintptr_t)fi->fh : NULL;
	struct stat st;
	struct fs_obj o;
	off_t size = -1;
	double timeout = FS_ATTR_TIMEOUT;
	int rc = fs_obj_get(fs, ino, &o);

	if (rc == 0) {
		rc = fs_obj_stat(fs, &o, c.uid, &st);
		timeout = fs_obj_timeout(&o);
		/* fstat on a spec being written shows the bytes so far. */
		if (h && !fs_obj_is_dir(&o))
			size = fh_size(h);
		fs_obj_put(fs, &o);
	}
	if (size >= 0) {
		st.st_size = size;
		st.st_blocks = (size + 511) / 512;
		timeout = 0;
	}
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, timeout);
}

/* A directory listing, snapshotted at opendir. */
struct dent {
	char *name;
	fuse_ino_t ino;
	mode_t type;	/* S_IFDIR, S_IFREG, S_IFLNK */
};

struct dirh {
	size_t n;
	size_t cap;
	struct dent *e;
};

static void dirh_free(struct dirh *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->e[i].name);
	free(d->e);
	free(d);
}

static int dirh_add(struct dirh *d, const char *name, fuse_ino_t ino,
		    mode_t type)
{
	struct dent *e;
	size_t cap;

	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 16;
		e = realloc(d->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		d->e = e;
		d->cap = cap;
	}
	d->e[d->n].name = strdup(name);
	if (!d->e[d->n].name)
		return -ENOMEM;
	d->e[d->n].ino = ino;
	d->e[d->n].type = type;
	d->n++;
	return 0;
}

static int list_root(struct dirh *d)
{
	const struct kind *k;
	int i, rc;

	rc = dirh_add(d, "README", FS_INO_README, S_IFREG);
	if (rc == 0)
		rc = dirh_add(d, "errors", FS_INO_ERRORS, S_IFREG);
	if (rc == 0)
		rc = dirh_add(d, "audit", FS_INO_AUDIT, S_IFREG);
	for (i = 0; i < KIND_COUNT && rc == 0; i++) {
		k = model_kind((enum kind_id)i);
		if (k)
			rc = dirh_add(d, k->dir, fs_kind_ino((enum kind_id)i),
				      S_IFDIR);
	}
	if (rc == 0)
		rc = dirh_add(d, "by-id", FS_INO_BYID, S_IFDIR);
	return rc;
}

static int add_res(void *ctx, const struct plane_res *r)
{
	return dirh_add(ctx, r->slug, fs_res_ino(r->serial, SLOT_DIR),
			S_IFDIR);
}

static int add_link(void *ctx, const struct plane_res *r)
{
	return dirh_add(ctx, r->id, fs_res_ino(r->serial, SLOT_LINK),
			S_IFLNK);
}

static int add_node(void *ctx, const struct node *n)
{
	return dirh_add(ctx, n->name, n->ino,
			n->type == NODE_DRAFT ? S_IFDIR : S_IFREG);
}

/* ExecutionContexts are for operators' eyes only, their ids too. */
static int list_byid(struct fs *fs, const struct plane_caller *c,
		     struct dirh *d)
{
	bool all = !fs->shared || plane_is_operator(fs->plane, c);
	int i, rc = 0;

	for (i = 0; i < KIND_COUNT && rc == 0; i++)
		if (all || i != KIND_EXECUTION_CONTEXT)
			rc = plane_list(fs->plane, (enum kind_id)i, NULL,
					add_link, d);
	return rc;
}

/* The files of a resource directory (@dir SLOT_DIR) or its follow/. */
static int list_res(const struct fs_obj *o, int dir, struct dirh *d)
{
	int slot, rc = 0;

	for (slot = SLOT_SPEC; slot < SLOT_COUNT && rc == 0; slot++) {
		if (!fs_slot_name(slot) || fs_slot_dir(slot) != dir ||
		    !fs_slot_has(o->kind, slot))
			continue;
		rc = dirh_add(d, fs_slot_name(slot),
			      fs_res_ino(o->res.serial, slot),
			      slot == SLOT_FOLLOW ? S_IFDIR : S_IFREG);
	}
	return rc;
}

/* The inode of ".." of directory @o. */
static fuse_ino_t parent_of(const struct fs_obj *o)
{
	if (o->what == W_FOLLOWDIR)
		return fs_res_ino(o->res.serial, SLOT_DIR);
	if (o->what == W_RESDIR || o->what == W_MEM)
		return fs_kind_ino(o->kind);
	return FS_INO_ROOT;
}

static int list_dir(struct fs *fs, const struct plane_caller *c,
		    const struct fs_obj *o, struct dirh *d)
{
	int rc = dirh_add(d, ".", o->ino, S_IFDIR);

	if (rc == 0)
		rc = dirh_add(d, "..", parent_of(o), S_IFDIR);
	if (rc < 0)
		return rc;
	switch (o->what) {
	case W_ROOT:
		return list_root(d);
	case W_BYID:
		return list_byid(fs, c, d);
	case W_KINDDIR:
		rc = plane_list(fs->plane, o->kind, NULL, add_res, d);
		break;
	case W_RESDIR:
		rc = list_res(o, SLOT_DIR, d);
		break;
	case W_FOLLOWDIR:
		return list_res(o, SLOT_FOLLOW, d);
	case W_MEM:
		break;
	default:
		return -ENOTDIR;
	}
	if (rc == 0)
		rc = tree_children(fs->tree, o->ino, add_node, d);
	return rc;
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct plane_caller c = fs_caller(req);
	struct dirh *d = calloc(1, sizeof(*d));
	struct fs_obj o;
	int rc = d ? fs_obj_get(fs, ino, &o) : -ENOMEM;

	if (rc == 0) {
		rc = fs_obj_is_dir(&o) ? fs_perm(fs, &c, &o, ACT_LIST) :
					 -ENOTDIR;
		if (rc == 0)
			rc = list_dir(fs, &c, &o, d);
		fs_obj_put(fs, &o);
	}
	if (rc < 0) {
		dirh_free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0)
		dirh_free(d);
}

static struct dirh *dirh_of(const struct fuse_file_info *fi)
{
	return (struct dirh *)(uintptr_t)fi->fh;
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct dirh *d = dirh_of(fi);
	char *buf = malloc(size);
	struct stat st;
	size_t pos = 0, len, i;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(&st, 0, sizeof(st));
	for (i = off < 0 ? 0 : (size_t)off; i < d->n; i++) {
		st.st_ino = d->e[i].ino;
		st.st_mode = d->e[i].type;
		len = fuse_add_direntry(req, buf + pos, size - pos,
					d->e[i].name, &st, (off_t)(i + 1));
		if (len > size - pos)
			break;
		pos += len;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

/* The entry of listing item @e: "." and ".." carry no lookup. */
static int plus_entry(struct fs *fs, uid_t uid, const struct dent *e,
		      struct fuse_entry_param *ep)
{
	struct fs_obj o;
	int rc;

	if (strcmp(e->name, ".") == 0 || strcmp(e->name, "..") == 0) {
		memset(ep, 0, sizeof(*ep));
		ep->attr.st_ino = e->ino;
		ep->attr.st_mode = e->type;
		return 0;
	}
	rc = fs_obj_get(fs, e->ino, &o);
	if (rc == 0)
		rc = fs_obj_entry(fs, &o, uid, ep);
	fs_obj_put(fs, &o);
	return rc;
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct plane_caller c = fs_caller(req);
	struct dirh *d = dirh_of(fi);
	struct fuse_entry_param ep;
	char *buf = malloc(size);
	size_t pos = 0, len, i;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (i = off < 0 ? 0 : (size_t)off; i < d->n; i++) {
		if (plus_entry(fs, c.uid, &d->e[i], &ep) < 0)
			continue;	/* gone since opendir */
		len = fuse_add_direntry_plus(req, buf + pos, size - pos,
					     d->e[i].name, &ep, (off_t)(i + 1));
		if (len > size - pos)
			break;
		pos += len;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	dirh_free(dirh_of(fi));
	fuse_reply_err(req, 0);
}

void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = 1u << 20;
	sv.f_bfree = 1u << 19;
	sv.f_bavail = 1u << 19;
	sv.f_files = 1u << 20;
	sv.f_ffree = 1u << 19;
	sv.f_favail = 1u << 19;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}
