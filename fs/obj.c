/*
 * obj.c - decoding inodes and names into objects (obj.h) and their
 * attributes.  This is the only place that knows which names a directory
 * holds; readdir (ops_dir.c) lists the same names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gone.h"
#include "known.h"
#include "obj.h"

/* The files of a resource directory and of its follow/ directory. */
struct slot_info {
	const char *name;
	enum fs_what what;
	int dir;		/* SLOT_DIR or SLOT_FOLLOW */
	int kind;		/* the only kind that has it, or -1: all */
	mode_t mode;
};

static const struct slot_info slots[SLOT_COUNT] = {
	[SLOT_DIR] = { NULL, W_RESDIR, SLOT_DIR, -1, S_IFDIR | 0755 },
	[SLOT_SPEC] = { "spec.yaml", W_VIEW, SLOT_DIR, -1, S_IFREG | 0644 },
	[SLOT_RES_YAML] = { "resource.yaml", W_VIEW, SLOT_DIR, -1,
			    S_IFREG | 0444 },
	[SLOT_RES_JSON] = { "resource.json", W_VIEW, SLOT_DIR, -1,
			    S_IFREG | 0444 },
	[SLOT_STATUS] = { "status.yaml", W_VIEW, SLOT_DIR, -1,
			  S_IFREG | 0444 },
	[SLOT_ID] = { "id", W_VIEW, SLOT_DIR, -1, S_IFREG | 0444 },
	[SLOT_LINK] = { NULL, W_LINK, SLOT_DIR, -1, S_IFLNK | 0777 },
	[SLOT_LOG] = { "log", W_STREAM, SLOT_DIR, KIND_WORKFLOW_EXECUTION,
		       S_IFREG | 0444 },
	[SLOT_EVENTS] = { "events", W_STREAM, SLOT_DIR,
			  KIND_WORKFLOW_EXECUTION, S_IFREG | 0444 },
	[SLOT_FOLLOW] = { "follow", W_FOLLOWDIR, SLOT_DIR,
			  KIND_WORKFLOW_EXECUTION, S_IFDIR | 0555 },
	[SLOT_FOLLOW_LOG] = { "log", W_FOLLOW, SLOT_FOLLOW,
			      KIND_WORKFLOW_EXECUTION, S_IFREG | 0444 },
	[SLOT_FOLLOW_EVENTS] = { "events", W_FOLLOW, SLOT_FOLLOW,
				 KIND_WORKFLOW_EXECUTION, S_IFREG | 0444 },
	[SLOT_CTL] = { "ctl", W_CTL, SLOT_DIR, KIND_WORKFLOW_EXECUTION,
		       S_IFREG | 0600 },
	[SLOT_RUN] = { "run", W_RUN, SLOT_DIR, KIND_WORKFLOW,
		       S_IFREG | 0600 },
};

const char *fs_slot_name(int slot)
{
	if (slot < 0 || slot >= SLOT_COUNT)
		return NULL;
	return slots[slot].name;
}

bool fs_slot_has(enum kind_id k, int slot)
{
	if (slot < 0 || slot >= SLOT_COUNT)
		return false;
	return slots[slot].kind < 0 || slots[slot].kind == (int)k;
}

int fs_slot_dir(int slot)
{
	return slot > 0 && slot < SLOT_COUNT ? slots[slot].dir : SLOT_DIR;
}

int fs_slot_by_name(enum kind_id k, int dir, const char *name)
{
	int s;

	for (s = SLOT_SPEC; s < SLOT_COUNT; s++)
		if (slots[s].name && slots[s].dir == dir &&
		    fs_slot_has(k, s) && strcmp(slots[s].name, name) == 0)
			return s;
	return -1;
}

int fs_slot_stream(int slot)
{
	switch (slot) {
	case SLOT_LOG:
	case SLOT_FOLLOW_LOG:
		return PLANE_LOG;
	case SLOT_EVENTS:
	case SLOT_FOLLOW_EVENTS:
		return PLANE_EVENTS;
	default:
		return -1;
	}
}

static void obj_static(struct fs_obj *o, enum fs_what what, fuse_ino_t ino)
{
	memset(o, 0, sizeof(*o));
	o->what = what;
	o->ino = ino;
}

static int obj_res(struct fs *fs, fuse_ino_t ino, struct fs_obj *o)
{
	uint64_t serial = ino >> FS_SLOT_BITS;
	int slot = (int)(ino & ((1u << FS_SLOT_BITS) - 1));
	int rc;

	if (slot >= SLOT_COUNT)
		return -ENOENT;
	obj_static(o, slots[slot].what, ino);
	rc = plane_lookup_serial(fs->plane, serial, &o->res);
	if (rc < 0 || !fs_slot_has(o->res.kind, slot))
		return -ENOENT;
	o->kind = o->res.kind;
	o->slot = slot;
	return 0;
}

static int obj_mem(struct fs *fs, fuse_ino_t ino, struct fs_obj *o)
{
	struct node *n = tree_get(fs->tree, ino);
	enum node_type type;
	uint64_t target;

	if (!n)
		return -ENOENT;
	type = tree_type(fs->tree, n, &target);
	if (type == NODE_ALIAS) {
		tree_put(fs->tree, n);
		return obj_res(fs, target, o);
	}
	obj_static(o, W_MEM, ino);
	o->node = n;
	o->ntype = type;
	o->kind = n->kind;
	return 0;
}

int fs_obj_get(struct fs *fs, fuse_ino_t ino, struct fs_obj *o)
{
	int k = fs_ino_kind(ino);

	memset(o, 0, sizeof(*o));
	switch (ino) {
	case FS_INO_ROOT:
		obj_static(o, W_ROOT, ino);
		return 0;
	case FS_INO_README:
		obj_static(o, W_README, ino);
		return 0;
	case FS_INO_ERRORS:
		obj_static(o, W_ERRORS, ino);
		return 0;
	case FS_INO_AUDIT:
		obj_static(o, W_AUDIT, ino);
		return 0;
	case FS_INO_BYID:
		obj_static(o, W_BYID, ino);
		return 0;
	default:
		break;
	}
	if (k >= 0) {
		obj_static(o, W_KINDDIR, ino);
		o->kind = (enum kind_id)k;
		return 0;
	}
	if (fs_ino_is_res(ino))
		return obj_res(fs, ino, o);
	if (ino >= FS_INO_MEM)
		return obj_mem(fs, ino, o);
	return -ENOENT;
}

void fs_obj_put(struct fs *fs, struct fs_obj *o)
{
	if (o->node)
		tree_put(fs->tree, o->node);
	o->node = NULL;
}

bool fs_obj_is_dir(const struct fs_obj *o)
{
	switch (o->what) {
	case W_ROOT:
	case W_BYID:
	case W_KINDDIR:
	case W_RESDIR:
	case W_FOLLOWDIR:
		return true;
	case W_MEM:
		return o->ntype == NODE_DRAFT;
	default:
		return false;
	}
}

bool fs_obj_is_spec(const struct fs_obj *o)
{
	return (o->what == W_VIEW && o->slot == SLOT_SPEC) ||
	       (o->what == W_MEM && o->ntype == NODE_DRAFT_SPEC);
}

bool fs_obj_gone(struct fs *fs, const struct fs_obj *o, pid_t pid,
		 bool take)
{
	struct timespec now;

	if (!fs_obj_is_spec(o))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return take ? gone_take(fs->gone, o->ino, pid, &now)
		    : gone_has(fs->gone, o->ino, pid, &now);
}

static int child_of_root(const char *name, struct fs_obj *o)
{
	const struct kind *k;
	int i;

	if (strcmp(name, "README") == 0)
		obj_static(o, W_README, FS_INO_README);
	else if (strcmp(name, "errors") == 0)
		obj_static(o, W_ERRORS, FS_INO_ERRORS);
	else if (strcmp(name, "audit") == 0)
		obj_static(o, W_AUDIT, FS_INO_AUDIT);
	else if (strcmp(name, "by-id") == 0)
		obj_static(o, W_BYID, FS_INO_BYID);
	else {
		for (i = 0; i < KIND_COUNT; i++) {
			k = model_kind((enum kind_id)i);
			if (k && strcmp(k->dir, name) == 0) {
				obj_static(o, W_KINDDIR,
					   fs_kind_ino((enum kind_id)i));
				o->kind = (enum kind_id)i;
				return 0;
			}
		}
		return -ENOENT;
	}
	return 0;
}

static int child_mem(struct fs *fs, fuse_ino_t dir, const char *name,
		     struct fs_obj *o)
{
	struct node *n = tree_find(fs->tree, dir, name);

	if (!n)
		return -ENOENT;
	obj_static(o, W_MEM, n->ino);
	o->node = n;
	o->kind = n->kind;
	o->ntype = tree_type(fs->tree, n, NULL);
	return 0;
}

static int child_of_kind(struct fs *fs, const struct fs_obj *dir,
			 const char *name, struct fs_obj *o)
{
	struct plane_res r;

	if (slug_valid(name) &&
	    plane_lookup(fs->plane, dir->kind, name, &r) == 0) {
		obj_static(o, W_RESDIR, fs_res_ino(r.serial, SLOT_DIR));
		o->res = r;
		o->kind = r.kind;
		return 0;
	}
	return child_mem(fs, dir->ino, name, o);
}

/* A name in a resource directory (@dir_slot SLOT_DIR) or its follow/. */
static int child_of_res(struct fs *fs, const struct fs_obj *dir,
			int dir_slot, const char *name, struct fs_obj *o)
{
	int slot = fs_slot_by_name(dir->kind, dir_slot, name);

	if (slot < 0 && dir_slot == SLOT_FOLLOW)
		return -ENOENT;
	if (slot < 0)
		return child_mem(fs, dir->ino, name, o);
	obj_static(o, slots[slot].what, fs_res_ino(dir->res.serial, slot));
	o->res = dir->res;
	o->kind = dir->kind;
	o->slot = slot;
	return 0;
}

static int child_of_byid(struct fs *fs, const char *name, struct fs_obj *o)
{
	struct plane_res r;

	if (plane_lookup_id(fs->plane, name, &r) < 0)
		return -ENOENT;
	obj_static(o, W_LINK, fs_res_ino(r.serial, SLOT_LINK));
	o->res = r;
	o->kind = r.kind;
	o->slot = SLOT_LINK;
	return 0;
}

int fs_name_check(const char *name)
{
	return strnlen(name, NAME_MAX + 1) > NAME_MAX ? -ENAMETOOLONG : 0;
}

int fs_obj_child(struct fs *fs, const struct fs_obj *dir, const char *name,
		 struct fs_obj *o)
{
	memset(o, 0, sizeof(*o));
	if (fs_name_check(name) < 0)
		return -ENAMETOOLONG;
	switch (dir->what) {
	case W_ROOT:
		return child_of_root(name, o);
	case W_BYID:
		return child_of_byid(fs, name, o);
	case W_KINDDIR:
		return child_of_kind(fs, dir, name, o);
	case W_RESDIR:
		return child_of_res(fs, dir, SLOT_DIR, name, o);
	case W_FOLLOWDIR:
		return child_of_res(fs, dir, SLOT_FOLLOW, name, o);
	case W_MEM:
		if (dir->ntype != NODE_DRAFT)
			return -ENOTDIR;
		return child_mem(fs, dir->ino, name, o);
	default:
		return -ENOTDIR;
	}
}

int fs_link_target(const struct fs_obj *o, char *out, size_t size)
{
	const struct kind *k = model_kind(o->kind);
	int n;

	if (!k)
		return -ENOENT;
	n = snprintf(out, size, "../%s/%s", k->dir, o->res.slug);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int fs_obj_subject(const struct fs_obj *o, char *out, size_t size)
{
	const struct kind *k = model_kind(o->kind);
	const char *name = o->what == W_MEM ? o->node->name : o->res.slug;
	int n;

	if (!k)
		return -ENOENT;
	n = snprintf(out, size, "%s/%s", k->dir, name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static void stat_base(struct fs *fs, const struct fs_obj *o, mode_t mode,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = o->ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	st->st_mtim = fs->start;
	st->st_ctim = fs->start;
	st->st_atim = fs->start;
}

/*
 * What ls -l shows is what the daemon enforces (perm.c): a resource
 * directory has the resource's owner, group and mode; each file in it
 * shows the bits of the right it stands for: r on the views, logs and
 * follow/, r and w on spec.yaml and ctl, x as rw- on run.
 */
static mode_t slot_perm(int slot, mode_t mode)
{
	mode_t r = mode & 0444, w = mode & 0222, x = mode & 0111;

	switch (slot) {
	case SLOT_DIR:
		return mode & 0777;
	case SLOT_SPEC:
	case SLOT_CTL:
		return r | w;
	case SLOT_FOLLOW:
		return r | r >> 2;
	case SLOT_RUN:
		return x << 2 | x << 1;
	case SLOT_LINK:
		return 0777;
	default:
		return r;
	}
}

static void stat_res(const struct fs_obj *o, struct stat *st)
{
	st->st_mode = (st->st_mode & S_IFMT) | slot_perm(o->slot,
							  o->res.mode);
	st->st_uid = o->res.uid;
	st->st_gid = o->res.gid;
}

static void stat_kinddir(struct fs *fs, const struct fs_obj *o,
			 struct stat *st)
{
	struct plane_dir d;

	plane_dir_attr(fs->plane, o->kind, &d);
	stat_base(fs, o, S_IFDIR | d.mode, st);
	st->st_uid = d.uid;
	st->st_gid = d.gid;
}

static void stat_times(struct stat *st, struct timespec t)
{
	st->st_mtim = t;
	st->st_ctim = t;
	st->st_atim = t;
}

static void stat_size(struct stat *st, off_t size)
{
	st->st_size = size;
	st->st_blocks = (size + 511) / 512;
}

static int stat_errors(struct fs *fs, uid_t uid, struct stat *st)
{
	struct buf b = BUF_INIT(1u << 20);
	int rc = plane_errors(fs->plane, uid, &b);

	if (rc == 0)
		stat_size(st, (off_t)b.len);
	buf_release(&b);
	return rc;
}

static int stat_audit(struct fs *fs, struct stat *st)
{
	uint64_t size = 0;
	int rc = plane_audit_size(fs->plane, &size);

	if (rc == 0)
		stat_size(st, (off_t)size);
	return rc;
}

static int stat_view(struct fs *fs, const struct fs_obj *o, struct stat *st)
{
	struct plane_blob *b = NULL;
	int rc = plane_view(fs->plane, o->res.serial,
			    (enum plane_view)(o->slot - SLOT_SPEC), &b);

	if (rc < 0)
		return rc;
	stat_size(st, (off_t)b->len);
	plane_blob_put(b);
	if (o->slot == SLOT_SPEC)
		st->st_nlink = 2;	/* vim then writes in place */
	stat_times(st, o->res.mtime);
	return 0;
}

static int stat_stream(struct fs *fs, const struct fs_obj *o,
		       struct stat *st)
{
	struct plane_stream_stat ss;
	int rc;

	memset(&ss, 0, sizeof(ss));
	rc = plane_stream_stat(fs->plane, o->res.serial,
			       (enum plane_stream)fs_slot_stream(o->slot), &ss);
	if (rc < 0)
		return rc;
	stat_size(st, (off_t)ss.size);
	stat_times(st, ss.mtime.tv_sec || ss.mtime.tv_nsec ? ss.mtime
							     : o->res.mtime);
	return 0;
}

/* follow/, ctl and run: no size of their own (and the streams' mode). */
static void stat_slot(struct fs *fs, const struct fs_obj *o, struct stat *st)
{
	stat_base(fs, o, slots[o->slot].mode, st);
	stat_times(st, o->res.mtime);
}

static void stat_mem(struct fs *fs, const struct fs_obj *o, struct stat *st)
{
	off_t size;
	mode_t mode;
	struct timespec mtime;

	tree_stat(fs->tree, o->node, &size, &mode, &mtime);
	if (o->ntype == NODE_DRAFT) {
		stat_base(fs, o, S_IFDIR | 0755, st);
		if (fs->shared)
			st->st_mode = S_IFDIR | 0700;
	} else {
		/* A file held in memory is the document as written, secret
		 * values in the clear: on a shared mount only its owner may
		 * read it, whatever mode it was created with. */
		if (fs->shared)
			mode &= ~(mode_t)077;
		stat_base(fs, o, S_IFREG | mode, st);
		stat_size(st, size);
		if (o->ntype == NODE_DRAFT_SPEC)
			st->st_nlink = 2;
	}
	tree_owner(fs->tree, o->node, &st->st_uid, &st->st_gid);
	stat_times(st, mtime);
}

int fs_obj_stat(struct fs *fs, const struct fs_obj *o, uid_t uid,
		struct stat *st)
{
	char target[512];
	int rc = 0;

	switch (o->what) {
	case W_ROOT:
	case W_BYID:
		stat_base(fs, o, S_IFDIR | 0755, st);
		break;
	case W_KINDDIR:
		stat_kinddir(fs, o, st);
		break;
	case W_RESDIR:
		stat_base(fs, o, S_IFDIR | 0755, st);
		stat_times(st, o->res.mtime);
		break;
	case W_README:
		stat_base(fs, o, S_IFREG | 0444, st);
		stat_size(st, (off_t)strlen(plane_readme()));
		break;
	case W_ERRORS:
		stat_base(fs, o, S_IFREG | 0444, st);
		rc = stat_errors(fs, uid, st);
		break;
	case W_AUDIT:
		/* operators only: the daemon's user, the operators' group */
		stat_base(fs, o, S_IFREG | 0640, st);
		st->st_gid = fs->operators;
		rc = stat_audit(fs, st);
		break;
	case W_VIEW:
		stat_base(fs, o, S_IFREG | 0444, st);
		rc = stat_view(fs, o, st);
		break;
	case W_LINK:
		stat_base(fs, o, S_IFLNK | 0777, st);
		rc = fs_link_target(o, target, sizeof(target));
		if (rc == 0)
			stat_size(st, (off_t)strlen(target));
		stat_times(st, o->res.ctime);
		break;
	case W_MEM:
		stat_mem(fs, o, st);
		break;
	case W_STREAM:
	case W_FOLLOW:
		/* follow/ files have the size of their stream too: tail -f
		   takes a size below what it read for a truncation. */
		stat_slot(fs, o, st);
		rc = stat_stream(fs, o, st);
		break;
	case W_FOLLOWDIR:
	case W_CTL:
	case W_RUN:
		stat_slot(fs, o, st);
		break;
	}
	if (rc == 0 && o->what != W_MEM && fs_ino_is_res(o->ino))
		stat_res(o, st);
	return rc;
}

double fs_obj_timeout(const struct fs_obj *o)
{
	/* In-memory files come and go with commits; errors and audit
	   grow. */
	if (o->what == W_MEM || o->what == W_ERRORS || o->what == W_AUDIT)
		return 0.0;
	/* Contexts are for operators only (perm.h): the kernel must ask
	   each time rather than answer another user from its cache. */
	return fs_ino_is_res(o->ino) && o->kind == KIND_EXECUTION_CONTEXT ?
	       0.0 : FS_ATTR_TIMEOUT;
}

int fs_obj_entry(struct fs *fs, const struct fs_obj *o, uid_t uid,
		 struct fuse_entry_param *e)
{
	struct fs_obj fresh;

	memset(e, 0, sizeof(*e));
	/* Recorded, then, the first time, its header read again: a change
	   from then on is invalidated (notify.c skips inodes the kernel was
	   never given), and one the notes skipped before is in this reply
	   (o->res was read when @o was resolved). */
	if (fs_ino_is_res(o->ino) &&
	    known_add(fs->known, o->ino >> FS_SLOT_BITS,
		      (unsigned)(o->ino & ((1u << FS_SLOT_BITS) - 1)))) {
		fresh = *o;
		if (plane_lookup_serial(fs->plane, o->ino >> FS_SLOT_BITS,
					&fresh.res) == 0)
			o = &fresh;
	}
	e->ino = o->ino;
	e->generation = 1;
	e->attr_timeout = fs_obj_timeout(o);
	e->entry_timeout = o->what == W_MEM || (e->attr_timeout == 0.0 &&
			   fs_ino_is_res(o->ino)) ? 0.0 : FS_ENTRY_TIMEOUT;
	return fs_obj_stat(fs, o, uid, &e->attr);
}

int fs_obj_apply(struct fs *fs, fuse_req_t req, fuse_ino_t parent,
		 const char *name,
		 int (*fn)(struct fs *fs, fuse_req_t req,
			   const struct fs_obj *o))
{
	struct fs_obj dir, o;
	int rc = fs_obj_get(fs, parent, &dir);

	memset(&o, 0, sizeof(o));
	if (rc == 0)
		rc = fs_obj_child(fs, &dir, name, &o);
	if (rc == 0)
		rc = fn(fs, req, &o);
	fs_obj_put(fs, &o);
	fs_obj_put(fs, &dir);
	return rc;
}
