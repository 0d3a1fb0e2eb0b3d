/*
 * handle.c - open-file state and the commit points (handle.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/seal.h"
#include "follow.h"
#include "handle.h"
#include "perm.h"

static struct fh *fh_new(enum fh_type type, bool writable)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->type = type;
	h->writable = writable;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cond, NULL);
	buf_init(&h->buf, FS_DOC_CAP);
	return h;
}

void fh_free(struct fs *fs, struct fh *h)
{
	if (!h)
		return;
	plane_blob_put(h->blob);
	if (h->node)
		tree_put(fs->tree, h->node);
	if (h->buf.data)
		seal_wipe(h->buf.data, h->buf.used);
	buf_release(&h->buf);
	follow_release(fs->follow, h->follow);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static int open_view(struct fs *fs, const struct fs_obj *o, struct fh **out)
{
	struct fh *h = fh_new(FH_VIEW, false);
	int rc;

	if (!h)
		return -ENOMEM;
	h->slot = o->slot;
	rc = plane_view(fs->plane, o->res.serial,
			(enum plane_view)(o->slot - SLOT_SPEC), &h->blob);
	if (rc < 0) {
		fh_free(fs, h);
		return rc;
	}
	*out = h;
	return 0;
}

static int open_errors(struct fs *fs, fuse_req_t req, struct fh **out)
{
	struct fh *h = fh_new(FH_ERRORS, false);
	struct plane_caller c = fs_caller(req);
	int rc;

	if (!h)
		return -ENOMEM;
	buf_init(&h->buf, 1u << 20);
	rc = plane_errors(fs->plane, c.uid, &h->buf);
	if (rc < 0) {
		fh_free(fs, h);
		return rc;
	}
	*out = h;
	return 0;
}

/* spec.yaml of resource @o opened to write: buffer = current spec. */
static int open_spec(struct fs *fs, const struct fs_obj *o, bool trunc,
		     struct fh *h)
{
	struct plane_blob *b = NULL;
	int rc;

	rc = fs_target_set(&h->target, PLANE_WRITE_SPEC, o->kind, o->res.slug,
			   0);
	if (rc < 0 || trunc)
		return rc;
	rc = plane_view(fs->plane, o->res.serial, VIEW_SPEC, &b);
	if (rc == 0)
		rc = buf_add(&h->buf, b->data, b->len);
	plane_blob_put(b);
	return rc;
}

/* A draft's spec.yaml opened to write: buffer = the template as shown. */
static int open_draft_spec(struct fs *fs, const struct fs_obj *o, bool trunc,
			   struct fh *h)
{
	struct node *d = tree_get(fs->tree, o->node->parent);
	enum node_type type;
	char name[NAME_MAX + 1];
	char *text = NULL;
	size_t len = 0;
	int rc = -ENOENT;

	if (!d)
		return rc;
	if (tree_where(fs->tree, d, &type, name) && type == NODE_DRAFT)
		rc = fs_target_set(&h->target, PLANE_WRITE_DRAFT, o->kind,
				   name, d->ino);
	tree_put(fs->tree, d);
	if (rc < 0 || trunc)
		return rc;
	rc = tree_copy(fs->tree, o->node, &text, &len);
	if (rc == 0)
		rc = buf_add(&h->buf, text, len);
	if (text)
		seal_wipe(text, len);
	free(text);
	return rc;
}

static int open_writable_spec(struct fs *fs, const struct fs_obj *o,
			      int flags, struct fh **out)
{
	struct fh *h = fh_new(FH_SPEC, true);
	bool trunc = (flags & O_TRUNC) != 0;
	int rc;

	if (!h)
		return -ENOMEM;
	if (o->what == W_VIEW)
		rc = open_spec(fs, o, trunc, h);
	else
		rc = open_draft_spec(fs, o, trunc, h);
	if (rc < 0) {
		fh_free(fs, h);
		return rc;
	}
	*out = h;
	return 0;
}

static int open_mem(struct fs *fs, const struct fs_obj *o, int flags,
		    struct fh **out)
{
	bool wr = (flags & O_ACCMODE) != O_RDONLY;
	struct fh *h;
	int rc;

	if (o->ntype == NODE_DRAFT_SPEC && wr)
		return open_writable_spec(fs, o, flags, out);
	h = fh_new(FH_MEM, wr);
	if (!h)
		return -ENOMEM;
	h->node = tree_get(fs->tree, o->node->ino);
	if (!h->node) {
		fh_free(fs, h);
		return -ENOENT;
	}
	if (wr && (flags & O_TRUNC)) {
		rc = tree_truncate(fs->tree, h->node, 0);
		if (rc < 0) {
			fh_free(fs, h);
			return rc;
		}
	}
	*out = h;
	return 0;
}

/* An execution's or workflow's own file: log, events, follow/, ctl, run. */
static int open_exec_file(struct fs *fs, const struct fs_obj *o, int flags,
			  struct fh **out)
{
	int acc = flags & O_ACCMODE;
	static const enum fh_type types[] = {
		[W_STREAM] = FH_STREAM, [W_FOLLOW] = FH_FOLLOW,
		[W_CTL] = FH_CTL, [W_RUN] = FH_RUN,
	};
	struct fh *h;
	int rc = 0;

	/* ctl takes commands and reads empty (so grep -r passes it by),
	 * the streams are read-only, run both. */
	if (o->what == W_CTL && acc == O_RDWR)
		return -EACCES;
	if ((o->what == W_STREAM || o->what == W_FOLLOW) && acc != O_RDONLY)
		return -EACCES;
	h = fh_new(types[o->what], acc != O_RDONLY);
	if (!h)
		return -ENOMEM;
	h->serial = o->res.serial;
	h->stream = fs_slot_stream(o->slot);
	if (o->what == W_FOLLOW)
		rc = follow_open(fs->follow, o->res.serial, h->stream,
				 &h->follow);
	else if (o->what == W_CTL || o->what == W_RUN)
		rc = fs_target_set(&h->target, PLANE_WRITE_RUN, o->kind,
				   o->res.slug, 0);
	if (rc < 0) {
		fh_free(fs, h);
		return rc;
	}
	*out = h;
	return 0;
}

static int open_obj(struct fs *fs, fuse_req_t req, const struct fs_obj *o,
		    int flags, struct fh **out)
{
	bool wr = (flags & O_ACCMODE) != O_RDONLY;

	switch (o->what) {
	case W_STREAM:
	case W_FOLLOW:
	case W_CTL:
	case W_RUN:
		return open_exec_file(fs, o, flags, out);
	case W_README:
		if (wr)
			return -EACCES;
		*out = fh_new(FH_README, false);
		return *out ? 0 : -ENOMEM;
	case W_ERRORS:
		return wr ? -EACCES : open_errors(fs, req, out);
	case W_AUDIT:
		if (wr)
			return -EACCES;
		*out = fh_new(FH_AUDIT, false);
		return *out ? 0 : -ENOMEM;
	case W_VIEW:
		if (wr && o->slot == SLOT_SPEC)
			return open_writable_spec(fs, o, flags, out);
		return wr ? -EACCES : open_view(fs, o, out);
	case W_MEM:
		return open_mem(fs, o, flags, out);
	default:
		return -EACCES;
	}
}

/* O_RDWR takes r and w: the handle reads what it may write. */
static int open_perm(struct fs *fs, const struct plane_caller *c,
		     const struct fs_obj *o, int flags)
{
	int acc = flags & O_ACCMODE;

	if (acc != O_WRONLY && fs_perm(fs, c, o, ACT_READ) < 0)
		return -EACCES;
	if (acc != O_RDONLY && fs_perm(fs, c, o, ACT_WRITE) < 0)
		return -EACCES;
	return 0;
}

int fh_open(struct fs *fs, fuse_req_t req, const struct fs_obj *o, int flags,
	    struct fh **out)
{
	struct plane_caller c = fs_caller(req);
	int rc;

	if (fs_obj_is_dir(o))
		return -EISDIR;
	rc = open_perm(fs, &c, o, flags);
	if (rc == 0)
		rc = open_obj(fs, req, o, flags, out);
	if (rc == 0)
		(*out)->who = c;
	return rc;
}

static ssize_t slice(const char *src, size_t len, off_t off, size_t size,
		     const char **data)
{
	if (off < 0 || (size_t)off >= len) {
		*data = NULL;
		return 0;
	}
	*data = src + off;
	return (ssize_t)(len - (size_t)off < size ? len - (size_t)off : size);
}

/* Copies a slice of @src: the copy outlives the handle (see fh_read). */
static ssize_t copy_slice(const char *src, size_t len, off_t off,
			  size_t size, const char **data, char **copy)
{
	const char *p;
	ssize_t n = slice(src, len, off, size, &p);

	if (n > 0) {
		*copy = malloc((size_t)n);
		if (*copy)
			memcpy(*copy, p, (size_t)n);
		else
			n = -ENOMEM;
	}
	*data = n > 0 ? *copy : NULL;
	return n;
}

static ssize_t read_spec(struct fh *h, off_t off, size_t size,
			 const char **data, char **copy)
{
	ssize_t n;

	pthread_mutex_lock(&h->mu);
	n = copy_slice(h->buf.data, h->buf.len, off, size, data, copy);
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* log, events: the stream at the kernel's offset, read now. */
static ssize_t read_stream(struct fs *fs, struct fh *h, off_t off,
			   size_t size, const char **data, char **copy)
{
	struct buf b = BUF_INIT(size);
	ssize_t n;

	if (off < 0)
		return -EINVAL;
	n = plane_stream_read(fs->plane, h->serial,
			      (enum plane_stream)h->stream, (uint64_t)off,
			      size, &b);
	if (n > 0) {
		*copy = buf_detach(&b, NULL);
		if (!*copy)
			n = -ENOMEM;
	}
	*data = n > 0 ? *copy : NULL;
	buf_release(&b);
	return n;
}

/* audit: the kept lines at the kernel's offset, read now. */
static ssize_t read_audit(struct fs *fs, off_t off, size_t size,
			  const char **data, char **copy)
{
	struct buf b = BUF_INIT(size);
	ssize_t n;

	if (off < 0)
		return -EINVAL;
	n = plane_audit_read(fs->plane, (uint64_t)off, size, &b);
	if (n > 0) {
		*copy = buf_detach(&b, NULL);
		if (!*copy)
			n = -ENOMEM;
	}
	*data = n > 0 ? *copy : NULL;
	buf_release(&b);
	return n;
}

ssize_t fh_read(struct fs *fs, struct fh *h, off_t off, size_t size,
		const char **data, char **copy)
{
	const char *readme;
	ssize_t n;

	*copy = NULL;
	switch (h->type) {
	case FH_README:
		readme = plane_readme();
		return slice(readme, strlen(readme), off, size, data);
	case FH_ERRORS:	/* a snapshot: never changes after open */
		return copy_slice(h->buf.data, h->buf.len, off, size, data,
				  copy);
	case FH_VIEW:
		return copy_slice(h->blob->data, h->blob->len, off, size,
				  data, copy);
	case FH_SPEC:
		return read_spec(h, off, size, data, copy);
	case FH_MEM:
		n = tree_read(fs->tree, h->node, off, size, copy);
		*data = *copy;
		return n;
	case FH_STREAM:
		return read_stream(fs, h, off, size, data, copy);
	case FH_AUDIT:
		return read_audit(fs, off, size, data, copy);
	case FH_CTL:
		return 0;
	default:	/* follow/ and run are read by their own paths */
		break;
	}
	return -EBADF;
}

static void mark_dirty(struct fh *h)
{
	h->dirty = true;
	h->version++;
}

/*
 * Records a write's outcome: a document that does not fit is remembered,
 * so the commit fails with EFBIG instead of sending what fitted.
 */
static void wrote(struct fh *h, ssize_t n)
{
	if (n >= 0 || n == -EFBIG)
		mark_dirty(h);
	if (n == -EFBIG)
		h->overflow = true;
}

ssize_t fh_write(struct fs *fs, struct fh *h, const char *data, size_t size,
		 off_t off)
{
	ssize_t n;

	if (!h->writable)
		return -EBADF;
	if (h->type == FH_MEM) {
		n = tree_write(fs->tree, h->node, data, size, off);
		pthread_mutex_lock(&h->mu);
		wrote(h, n);
		pthread_mutex_unlock(&h->mu);
		return n;
	}
	pthread_mutex_lock(&h->mu);
	/* run is a channel, not a file: each write adds to the next
	   document (the offset also counts what was read back). */
	if (h->type == FH_RUN)
		off = (off_t)h->buf.len;
	n = fbuf_pwrite(&h->buf, data, size, off);
	wrote(h, n);
	pthread_mutex_unlock(&h->mu);
	return n;
}

/*
 * Records a truncate's outcome: a size past the cap is remembered like a
 * write that did not fit, so the commit fails with EFBIG and an errors
 * line; a size that fits starts the document afresh.
 */
static void truncated(struct fh *h, int rc)
{
	if (rc == 0) {
		mark_dirty(h);
		h->overflow = false;
	} else {
		wrote(h, rc);
	}
}

int fh_truncate(struct fs *fs, struct fh *h, off_t size)
{
	int rc;

	if (!h->writable)
		return -EBADF;
	if (h->type == FH_CTL)
		return 0;	/* echo cancel > ctl: nothing to truncate */
	if (h->type == FH_MEM) {
		rc = tree_truncate(fs->tree, h->node, size);
		pthread_mutex_lock(&h->mu);
		truncated(h, rc);
		pthread_mutex_unlock(&h->mu);
		return rc;
	}
	pthread_mutex_lock(&h->mu);
	rc = fbuf_resize(&h->buf, size);
	truncated(h, rc);
	pthread_mutex_unlock(&h->mu);
	return rc;
}

bool fh_written(struct fh *h)
{
	bool w;

	pthread_mutex_lock(&h->mu);
	w = h->version > 0;
	pthread_mutex_unlock(&h->mu);
	return w;
}

off_t fh_size(struct fh *h)
{
	off_t size = -1;

	if (h->type != FH_SPEC)
		return -1;
	pthread_mutex_lock(&h->mu);
	size = (off_t)h->buf.len;
	pthread_mutex_unlock(&h->mu);
	return size;
}

/* Records the outcome of committing version @v of @h. */
static void commit_done(struct fh *h, uint64_t v, int rc,
			const struct plane_res *r)
{
	pthread_mutex_lock(&h->mu);
	if (rc < 0) {
		h->failed = v;
		h->failed_rc = rc;
	} else {
		if (h->version == v)
			h->dirty = false;
		if (h->target.mode == PLANE_WRITE_DRAFT)
			fs_target_set(&h->target, PLANE_WRITE_SPEC, r->kind,
				      r->slug, 0);
	}
	pthread_mutex_unlock(&h->mu);
}

/*
 * Whether the handle's content (@len bytes) is due for a commit now.  A
 * document that did not fit is not empty, even when nothing of it fitted
 * (a write or ftruncate far past the cap): its flush reports EFBIG.
 * Return: 1 (commit), 0 (nothing to do), or the -errno of the failed
 * commit of this same content.
 */
static int due(const struct fh *h, size_t len, bool final)
{
	if (!h->dirty)
		return 0;
	if (h->failed == h->version)
		return final ? 0 : h->failed_rc;
	return final || len > 0 || h->overflow;
}

static int commit_spec(struct fs *fs, fuse_req_t req, struct fh *h,
		       bool final)
{
	struct fs_target t;
	struct plane_res r;
	char *text = NULL;
	size_t len = 0;
	uint64_t v;
	int rc = 0;

	pthread_mutex_lock(&h->mu);
	rc = due(h, h->buf.len, final);
	if (rc == 1 && h->overflow) {
		t = h->target;
		rc = 2;
	} else if (rc == 1) {
		len = h->buf.len;
		text = malloc(len + 1);
		if (text && len)
			memcpy(text, h->buf.data, len);
		t = h->target;
		rc = text ? 1 : -ENOMEM;
	}
	v = h->version;
	pthread_mutex_unlock(&h->mu);
	if (rc <= 0)
		return rc;
	if (rc == 2) {
		rc = fs_reject_big(fs, &h->who, &t);
		commit_done(h, v, rc, NULL);
		return rc;
	}
	text[len] = '\0';
	rc = fs_commit(fs, &h->who, &t, text, len, &r);
	seal_wipe(text, len);
	free(text);
	commit_done(h, v, rc, &r);
	return rc;
}

/*
 * A new document that was committed and then written again through the
 * same handle ("{ cat head; echo more; } > x.yaml" flushes when cat
 * exits): what it holds now is an update of the resource it created.
 */
static int commit_mem_again(struct fs *fs, fuse_req_t req, struct fh *h,
			    bool final)
{
	struct fs_target t;
	struct plane_res r;
	struct timespec mtime;
	off_t size;
	mode_t mode;
	uint64_t v;
	bool big;
	int rc;

	tree_stat(fs->tree, h->node, &size, &mode, &mtime);
	pthread_mutex_lock(&h->mu);
	rc = due(h, (size_t)size, final);
	v = h->version;
	big = h->overflow;
	t = h->target;
	pthread_mutex_unlock(&h->mu);
	if (rc <= 0)
		return rc;
	rc = big ? fs_reject_big(fs, &h->who, &t)
		 : fs_commit_node(fs, &h->who, &t, h->node, &r);
	commit_done(h, v, rc, &r);
	return rc;
}

/* The new document is now resource @r: later commits update it. */
static void mem_committed(struct fh *h, const struct plane_res *r)
{
	pthread_mutex_lock(&h->mu);
	h->committed = true;
	fs_target_set(&h->target, PLANE_WRITE_SPEC, r->kind, r->slug, 0);
	pthread_mutex_unlock(&h->mu);
}

static int commit_mem(struct fs *fs, fuse_req_t req, struct fh *h,
		      bool final)
{
	struct fs_target t;
	struct plane_res r;
	enum node_type type;
	char name[NAME_MAX + 1];
	off_t size;
	mode_t mode;
	struct timespec mtime;
	uint64_t v;
	bool big;
	int rc;

	pthread_mutex_lock(&h->mu);
	big = h->committed;
	pthread_mutex_unlock(&h->mu);
	if (big)
		return commit_mem_again(fs, req, h, final);
	if (!tree_where(fs->tree, h->node, &type, name) || type != NODE_PENDING)
		return 0;
	tree_stat(fs->tree, h->node, &size, &mode, &mtime);
	pthread_mutex_lock(&h->mu);
	rc = due(h, (size_t)size, final);
	v = h->version;
	big = h->overflow;
	pthread_mutex_unlock(&h->mu);
	if (rc <= 0)
		return rc;
	rc = fs_target_set(&t, PLANE_WRITE_NEW, h->node->kind, name, 0);
	if (rc == 0 && big)
		rc = fs_reject_big(fs, &h->who, &t);
	else if (rc == 0)
		rc = fs_commit_node(fs, &h->who, &t, h->node, &r);
	commit_done(h, v, rc, &r);
	tree_set_failed(fs->tree, h->node, rc < 0);
	if (rc == 0) {
		mem_committed(h, &r);
		fs_pending_done(fs, h->node);
	}
	return rc;
}

int fh_commit(struct fs *fs, fuse_req_t req, struct fh *h, bool final)
{
	switch (h->type) {
	case FH_SPEC:
		return commit_spec(fs, req, h, final);
	case FH_MEM:
		return commit_mem(fs, req, h, final);
	case FH_RUN:
		return fh_run_commit(fs, req, h, final);
	default:
		return 0;
	}
}
