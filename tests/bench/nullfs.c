/*
 * nullfs: the smallest useful low-level FUSE filesystem, used by scripts/bench
 * as the "null FUSE" baseline. It keeps a tree of directories and small files
 * in memory (nothing is persisted), answers lookups from a hash table, caches
 * entries and attributes in the kernel for `-o timeout=SECS` (default 1 s;
 * negative entries for `-o negative_timeout=SECS`, default the same),
 * implements readdirplus so `ls -l` needs no LOOKUP per entry, and in its
 * default "lean" mode replies ENOSYS to open/opendir and has no flush or
 * release, so a warm open+read+close costs no request at all. `-o nolean`
 * answers open with keep_cache instead. Every request is served under one
 * mutex; the multithreaded libfuse loop is used unless `-s` is given.
 *
 * usage: nullfs [-f] [-s] [-d] [-o OPTIONS] MOUNTPOINT
 * where OPTIONS adds timeout=SECS, negative_timeout=SECS and nolean to the
 * usual libfuse mount options (auto_unmount, ...).
 */
#include <errno.h>
#include <limits.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NULLFS_HASH_BUCKETS (1u << 18)
#define NULLFS_MAX_FILE (1u << 20)
#define NULLFS_MAX_NAME 255

struct nnode {
	fuse_ino_t ino;
	fuse_ino_t parent;
	char *name;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	struct timespec ctime;
	char *data; /* file contents, size bytes used of cap */
	size_t size;
	size_t cap;
	fuse_ino_t *kids; /* directory entries in creation order; 0 = removed */
	size_t nkids;
	size_t kidcap;
	size_t nlinkdirs;    /* subdirectories, for st_nlink */
	struct nnode *hnext; /* chain in the (parent, name) hash */
};

struct nullfs {
	pthread_mutex_t mu;
	struct nnode **nodes; /* protected by mu; index is the inode number */
	size_t nnodes;	      /* protected by mu */
	size_t nodecap;	      /* protected by mu */
	struct nnode **hash;  /* protected by mu */
	double timeout;
	double negative_timeout;
	int nolean;
};

struct nullfs_conf {
	double timeout;
	double negative_timeout;
	int nolean;
};

static uint32_t name_hash(fuse_ino_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ parent;

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 32)) & (NULLFS_HASH_BUCKETS - 1);
}

static struct nullfs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Returns the live node numbered ino, or NULL. Caller holds mu. */
static struct nnode *node_get(struct nullfs *fs, fuse_ino_t ino)
{
	if (ino >= fs->nnodes)
		return NULL;
	return fs->nodes[ino];
}

/* Returns the child of parent called name, or NULL. Caller holds mu. */
static struct nnode *node_find(struct nullfs *fs, fuse_ino_t parent,
			       const char *name)
{
	struct nnode *n = fs->hash[name_hash(parent, name)];

	for (; n; n = n->hnext)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static void node_free(struct nnode *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->data);
	free(n->kids);
	free(n);
}

/*
 * Creates a node called name under dir with mode, owned by the caller.
 * Caller holds mu. Returns 0 and the node in *out, -EEXIST, -ENAMETOOLONG
 * or -ENOMEM.
 */
static int node_add(struct nullfs *fs, struct nnode *dir, const char *name,
		    mode_t mode, const struct fuse_ctx *ctx, struct nnode **out)
{
	struct nnode *n = NULL;
	uint32_t b;
	int rc;

	if (strlen(name) > NULLFS_MAX_NAME)
		return -ENAMETOOLONG;
	if (node_find(fs, dir->ino, name))
		return -EEXIST;
	rc = grow((void **)&fs->nodes, &fs->nodecap, fs->nnodes + 1,
		  sizeof(*fs->nodes));
	if (rc == 0)
		rc = grow((void **)&dir->kids, &dir->kidcap, dir->nkids + 1,
			  sizeof(*dir->kids));
	if (rc < 0)
		return rc;
	n = calloc(1, sizeof(*n));
	if (!n || !(n->name = strdup(name))) {
		node_free(n);
		return -ENOMEM;
	}
	n->ino = fs->nnodes;
	n->parent = dir->ino;
	n->mode = mode;
	n->uid = ctx ? ctx->uid : getuid();
	n->gid = ctx ? ctx->gid : getgid();
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	n->ctime = n->mtime;
	fs->nodes[fs->nnodes++] = n;
	dir->kids[dir->nkids++] = n->ino;
	if (S_ISDIR(mode))
		dir->nlinkdirs++;
	dir->mtime = n->mtime;
	b = name_hash(dir->ino, name);
	n->hnext = fs->hash[b];
	fs->hash[b] = n;
	*out = n;
	return 0;
}

/* Unlinks n from its directory and the hash, and frees it. Caller holds mu. */
static void node_remove(struct nullfs *fs, struct nnode *n)
{
	struct nnode *dir = fs->nodes[n->parent];
	struct nnode **pp = &fs->hash[name_hash(n->parent, n->name)];
	size_t i;

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	for (i = 0; i < dir->nkids; i++)
		if (dir->kids[i] == n->ino)
			dir->kids[i] = 0;
	if (S_ISDIR(n->mode))
		dir->nlinkdirs--;
	clock_gettime(CLOCK_REALTIME, &dir->mtime);
	fs->nodes[n->ino] = NULL;
	node_free(n);
}

static void node_stat(const struct nnode *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = S_ISDIR(n->mode) ? 2 + n->nlinkdirs : 1;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = S_ISDIR(n->mode) ? 4096 : (off_t)n->size;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
	st->st_atim = n->mtime;
}

static void node_entry(struct nullfs *fs, const struct nnode *n,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = n->ino;
	e->generation = 1;
	e->attr_timeout = fs->timeout;
	e->entry_timeout = fs->timeout;
	node_stat(n, &e->attr);
}

static void nfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct nullfs *fs = userdata;

	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (!fs->nolean && (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT))
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
	if (!fs->nolean && (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT))
		conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
}

static void nfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct nullfs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct nnode *n;

	pthread_mutex_lock(&fs->mu);
	n = node_find(fs, parent, name);
	if (n) {
		node_entry(fs, n, &e);
	} else {
		/* A negative entry: ino 0 with a timeout is cached by the
		 * kernel. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = fs->negative_timeout;
	}
	pthread_mutex_unlock(&fs->mu);
	fuse_reply_entry(req, &e);
}

static void nfs_getattr(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct nullfs *fs = fs_of(req);
	struct nnode *n;
	struct stat st;

	pthread_mutex_lock(&fs->mu);
	n = node_get(fs, ino);
	if (n)
		node_stat(n, &st);
	pthread_mutex_unlock(&fs->mu);
	if (!n)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, fs->timeout);
}

/* Applies a SETATTR to n. Caller holds mu. Returns 0, -EFBIG or -ENOMEM. */
static int node_setattr(struct nnode *n, const struct stat *attr, int to_set)
{
	size_t len = (size_t)attr->st_size;

	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0 || len > NULLFS_MAX_FILE)
			return -EFBIG;
		if (grow((void **)&n->data, &n->cap, len, 1) < 0)
			return -ENOMEM;
		if (len > n->size)
			memset(n->data + n->size, 0, len - n->size);
		n->size = len;
		clock_gettime(CLOCK_REALTIME, &n->mtime);
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		n->mode = (n->mode & S_IFMT) | (attr->st_mode & 07777);
	if (to_set & FUSE_SET_ATTR_UID)
		n->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		n->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_MTIME)
		n->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		clock_gettime(CLOCK_REALTIME, &n->mtime);
	clock_gettime(CLOCK_REALTIME, &n->ctime);
	return 0;
}

static void nfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			int to_set, struct fuse_file_info *fi)
{
	struct nullfs *fs = fs_of(req);
	struct nnode *n;
	struct stat st;
	int rc = -ENOENT;

	pthread_mutex_lock(&fs->mu);
	n = node_get(fs, ino);
	if (n)
		rc = node_setattr(n, attr, to_set);
	if (rc == 0)
		node_stat(n, &st);
	pthread_mutex_unlock(&fs->mu);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, fs->timeout);
}

/* Creates name under parent and replies with its entry (or create reply). */
static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct nullfs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct nnode *dir, *n = NULL;
	int rc = -ENOENT;

	pthread_mutex_lock(&fs->mu);
	dir = node_get(fs, parent);
	if (dir && !S_ISDIR(dir->mode))
		rc = -ENOTDIR;
	else if (dir)
		rc = node_add(fs, dir, name, mode, fuse_req_ctx(req), &n);
	if (rc == 0)
		node_entry(fs, n, &e);
	pthread_mutex_unlock(&fs->mu);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fi)
		fuse_reply_create(req, &e, fi);
	else
		fuse_reply_entry(req, &e);
}

static void nfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | (mode & 07777), NULL);
}

static void nfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi)
{
	fi->fh = 0;
	fi->keep_cache = 1;
	make_node(req, parent, name, S_IFREG | (mode & 07777), fi);
}

static void remove_node(fuse_req_t req, fuse_ino_t parent, const char *name,
			int want_dir)
{
	struct nullfs *fs = fs_of(req);
	struct nnode *n;
	int rc = 0;

	pthread_mutex_lock(&fs->mu);
	n = node_find(fs, parent, name);
	if (!n)
		rc = -ENOENT;
	else if (want_dir && !S_ISDIR(n->mode))
		rc = -ENOTDIR;
	else if (!want_dir && S_ISDIR(n->mode))
		rc = -EISDIR;
	if (rc == 0 && want_dir) {
		size_t i;

		for (i = 0; i < n->nkids; i++)
			if (n->kids[i])
				rc = -ENOTEMPTY;
	}
	if (rc == 0)
		node_remove(fs, n);
	pthread_mutex_unlock(&fs->mu);
	fuse_reply_err(req, -rc);
}

static void nfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_node(req, parent, name, 0);
}

static void nfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_node(req, parent, name, 1);
}

static void nfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct nullfs *fs = fs_of(req);

	if (!fs->nolean) {
		/* With FUSE_CAP_NO_OPEN_SUPPORT the kernel stops sending OPEN.
		 */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->fh = 0;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void nfs_opendir(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct nullfs *fs = fs_of(req);

	if (!fs->nolean) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

static void nfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct nullfs *fs = fs_of(req);
	struct nnode *n;
	char *copy = NULL;
	size_t len = 0;
	int rc = 0;

	pthread_mutex_lock(&fs->mu);
	n = node_get(fs, ino);
	if (!n)
		rc = -ENOENT;
	else if (off >= 0 && (size_t)off < n->size) {
		len = n->size - (size_t)off;
		if (len > size)
			len = size;
		copy = malloc(len);
		if (copy)
			memcpy(copy, n->data + off, len);
		else
			rc = -ENOMEM;
	}
	pthread_mutex_unlock(&fs->mu);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, copy, len);
	free(copy);
}

/* Writes len bytes at off into n. Caller holds mu. */
static int node_write(struct nnode *n, const char *buf, size_t len, off_t off)
{
	size_t end;

	if (!S_ISREG(n->mode))
		return -EISDIR;
	if (off < 0 || (size_t)off > NULLFS_MAX_FILE ||
	    len > NULLFS_MAX_FILE - (size_t)off)
		return -EFBIG;
	end = (size_t)off + len;
	if (grow((void **)&n->data, &n->cap, end, 1) < 0)
		return -ENOMEM;
	if ((size_t)off > n->size)
		memset(n->data + n->size, 0, (size_t)off - n->size);
	memcpy(n->data + off, buf, len);
	if (end > n->size)
		n->size = end;
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	return 0;
}

static void nfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		      size_t size, off_t off, struct fuse_file_info *fi)
{
	struct nullfs *fs = fs_of(req);
	struct nnode *n;
	int rc = -ENOENT;

	pthread_mutex_lock(&fs->mu);
	n = node_get(fs, ino);
	if (n)
		rc = node_write(n, buf, size, off);
	pthread_mutex_unlock(&fs->mu);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

/*
 * Adds one directory entry at position pos (0 ".", 1 "..", 2+ children) to
 * buf. Returns the bytes it needs (more than room means it did not fit), or 0
 * if that position holds a removed entry. Caller holds mu.
 */
static size_t add_dirent(fuse_req_t req, struct nullfs *fs,
			 const struct nnode *dir, size_t pos, char *buf,
			 size_t room, int plus)
{
	const struct nnode *n = dir;
	const char *name = pos == 0 ? "." : "..";
	struct fuse_entry_param e;

	if (pos == 1 && node_get(fs, dir->parent))
		n = node_get(fs, dir->parent);
	if (pos >= 2) {
		n = node_get(fs, dir->kids[pos - 2]);
		if (!n)
			return 0;
		name = n->name;
	}
	node_entry(fs, n, &e);
	if (plus)
		return fuse_add_direntry_plus(req, buf, room, name, &e,
					      (off_t)pos + 1);
	return fuse_add_direntry(req, buf, room, name, &e.attr, (off_t)pos + 1);
}

/* Fills buf (size bytes) from offset off; returns the bytes used or -errno. */
static long fill_dir(fuse_req_t req, struct nullfs *fs, fuse_ino_t ino,
		     char *buf, size_t size, off_t off, int plus)
{
	struct nnode *dir = node_get(fs, ino);
	size_t pos, used = 0, need;

	if (!dir)
		return -ENOENT;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	for (pos = off < 0 ? 0 : (size_t)off; pos < dir->nkids + 2; pos++) {
		need = add_dirent(req, fs, dir, pos, buf + used, size - used,
				  plus);
		if (need > size - used)
			break;
		used += need;
	}
	return (long)used;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       int plus)
{
	struct nullfs *fs = fs_of(req);
	char *buf = malloc(size);
	long used;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&fs->mu);
	used = fill_dir(req, fs, ino, buf, size, off, plus);
	pthread_mutex_unlock(&fs->mu);
	if (used < 0)
		fuse_reply_err(req, (int)-used);
	else
		fuse_reply_buf(req, buf, (size_t)used);
	free(buf);
}

static void nfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, 0);
}

static void nfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			    off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, 1);
}

static void nfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = NULLFS_MAX_NAME;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops nullfs_ops = {
    .init = nfs_init,
    .lookup = nfs_lookup,
    .getattr = nfs_getattr,
    .setattr = nfs_setattr,
    .mkdir = nfs_mkdir,
    .create = nfs_create,
    .unlink = nfs_unlink,
    .rmdir = nfs_rmdir,
    .open = nfs_open,
    .opendir = nfs_opendir,
    .read = nfs_read,
    .write = nfs_write,
    .readdir = nfs_readdir,
    .readdirplus = nfs_readdirplus,
    .statfs = nfs_statfs,
};

/* Sets up the root directory (inode 1; inode 0 is never used). */
static int nullfs_init_state(struct nullfs *fs, const struct nullfs_conf *conf)
{
	struct nnode *root;

	memset(fs, 0, sizeof(*fs));
	pthread_mutex_init(&fs->mu, NULL);
	fs->timeout = conf->timeout;
	fs->negative_timeout =
	    conf->negative_timeout < 0 ? conf->timeout : conf->negative_timeout;
	fs->nolean = conf->nolean;
	fs->hash = calloc(NULLFS_HASH_BUCKETS, sizeof(*fs->hash));
	fs->nodecap = 1024;
	fs->nodes = calloc(fs->nodecap, sizeof(*fs->nodes));
	root = calloc(1, sizeof(*root));
	if (!fs->hash || !fs->nodes || !root || !(root->name = strdup("/"))) {
		node_free(root);
		return -ENOMEM;
	}
	root->ino = FUSE_ROOT_ID;
	root->parent = FUSE_ROOT_ID;
	root->mode = S_IFDIR | 0755;
	root->uid = getuid();
	root->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &root->mtime);
	root->ctime = root->mtime;
	fs->nodes[FUSE_ROOT_ID] = root;
	fs->nnodes = FUSE_ROOT_ID + 1;
	return 0;
}

static void nullfs_release_state(struct nullfs *fs)
{
	size_t i;

	for (i = 0; i < fs->nnodes; i++)
		node_free(fs->nodes[i]);
	free(fs->nodes);
	free(fs->hash);
	pthread_mutex_destroy(&fs->mu);
}

static const struct fuse_opt nullfs_opts[] = {
    {"timeout=%lf", offsetof(struct nullfs_conf, timeout), 0},
    {"negative_timeout=%lf", offsetof(struct nullfs_conf, negative_timeout), 0},
    {"nolean", offsetof(struct nullfs_conf, nolean), 1},
    FUSE_OPT_END};

static int run_session(struct fuse_args *args, struct fuse_cmdline_opts *o,
		       struct nullfs *fs)
{
	struct fuse_loop_config lc = {.clone_fd = o->clone_fd,
				      .max_idle_threads = 10};
	struct fuse_session *se;
	int rc = 1;

	/* UINT_MAX means "not given" and makes libfuse log a complaint. */
	if (o->max_idle_threads != UINT_MAX)
		lc.max_idle_threads = o->max_idle_threads;
	se = fuse_session_new(args, &nullfs_ops, sizeof(nullfs_ops), fs);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, o->mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(o->foreground);
	if (o->singlethread)
		rc = fuse_session_loop(se) ? 1 : 0;
	else
		rc = fuse_session_loop_mt(se, &lc) ? 1 : 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return rc;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct nullfs_conf conf = {
	    .timeout = 1.0, .negative_timeout = -1, .nolean = 0};
	struct fuse_cmdline_opts o;
	struct nullfs fs;
	int rc = 1;

	if (fuse_parse_cmdline(&args, &o) != 0)
		return 1;
	if (o.show_help || o.show_version || !o.mountpoint) {
		printf("usage: %s [-f] [-s] [-d] [-o timeout=SECS,"
		       "negative_timeout=SECS,nolean,...] MOUNTPOINT\n",
		       argv[0]);
		fuse_lowlevel_help();
		rc = o.mountpoint ? 0 : 1;
		goto out_opts;
	}
	if (fuse_opt_parse(&args, &conf, nullfs_opts, NULL) != 0)
		goto out_opts;
	if (nullfs_init_state(&fs, &conf) != 0)
		fprintf(stderr, "nullfs: out of memory\n");
	else
		rc = run_session(&args, &o, &fs);
	nullfs_release_state(&fs);
out_opts:
	free(o.mountpoint);
	fuse_opt_free_args(&args);
	return rc;
}
