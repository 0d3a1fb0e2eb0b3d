/*
 * tree.c - the in-memory nodes of tree.h: two chained hash tables (by
 * inode, by parent and name) under one mutex, reference-counted nodes and
 * bounded contents.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/seal.h"
#include "fs.h"
#include "tree.h"

#define TREE_BUCKETS 1024

struct tree {
	pthread_mutex_t mu;
	uint64_t next_ino;			/* protected by mu */
	struct node *by_ino[TREE_BUCKETS];	/* protected by mu */
	struct node *by_name[TREE_BUCKETS];	/* protected by mu */
};

static size_t ino_slot(uint64_t ino)
{
	return (size_t)(ino % TREE_BUCKETS);
}

/* FNV-1a over the parent inode and the name. */
static size_t name_slot(uint64_t parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < sizeof(parent); i++) {
		h ^= (parent >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 1099511628211ULL;
	}
	return (size_t)(h % TREE_BUCKETS);
}

int tree_new(struct tree **out)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	t->next_ino = FS_INO_MEM;
	*out = t;
	return 0;
}

static void node_free(struct node *n)
{
	/* Documents may hold secret values in plain text. */
	if (n->data.data)
		seal_wipe(n->data.data, n->data.used);
	buf_release(&n->data);
	free(n->name);
	free(n);
}

void tree_free(struct tree *t)
{
	size_t i;
	struct node *n, *next;

	if (!t)
		return;
	for (i = 0; i < TREE_BUCKETS; i++) {
		for (n = t->by_ino[i]; n; n = next) {
			next = n->ino_next;
			node_free(n);
		}
	}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static struct node *find_locked(struct tree *t, uint64_t parent,
				const char *name)
{
	struct node *n;

	for (n = t->by_name[name_slot(parent, name)]; n; n = n->name_next)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void names_insert(struct tree *t, struct node *n)
{
	size_t s = name_slot(n->parent, n->name);

	n->name_next = t->by_name[s];
	t->by_name[s] = n;
	n->in_names = true;
}

static void names_remove(struct tree *t, struct node *n)
{
	struct node **pp;

	if (!n->in_names)
		return;
	for (pp = &t->by_name[name_slot(n->parent, n->name)]; *pp;
	     pp = &(*pp)->name_next) {
		if (*pp == n) {
			*pp = n->name_next;
			break;
		}
	}
	n->in_names = false;
}

static void inos_remove(struct tree *t, struct node *n)
{
	struct node **pp;

	if (!n->in_inos)
		return;
	for (pp = &t->by_ino[ino_slot(n->ino)]; *pp; pp = &(*pp)->ino_next) {
		if (*pp == n) {
			*pp = n->ino_next;
			break;
		}
	}
	n->in_inos = false;
}

/* Drops one reference with the lock held; true when the node is gone. */
static bool unref_locked(struct node *n)
{
	if (--n->refs > 0)
		return false;
	return true;
}

static struct node *node_new(uint64_t parent, const char *name,
			     enum node_type type, enum kind_id kind,
			     mode_t mode)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->parent = parent;
	n->type = type;
	n->kind = kind;
	n->mode = mode & 07777;
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	buf_init(&n->data, FS_DOC_CAP);
	return n;
}

int tree_add(struct tree *t, uint64_t parent, const char *name,
	     enum node_type type, enum kind_id kind, mode_t mode,
	     struct node **out)
{
	struct node *n = node_new(parent, name, type, kind, mode);
	int rc = 0;

	if (!n)
		return -ENOMEM;
	pthread_mutex_lock(&t->mu);
	if (find_locked(t, parent, name)) {
		rc = -EEXIST;
		goto out;
	}
	n->ino = t->next_ino++;
	n->refs = 2;	/* the table's and the caller's */
	names_insert(t, n);
	n->ino_next = t->by_ino[ino_slot(n->ino)];
	t->by_ino[ino_slot(n->ino)] = n;
	n->in_inos = true;
	*out = n;
	n = NULL;
out:
	pthread_mutex_unlock(&t->mu);
	if (n)
		node_free(n);
	return rc;
}

void tree_own(struct tree *t, struct node *n, uid_t uid, gid_t gid)
{
	pthread_mutex_lock(&t->mu);
	n->uid = uid;
	n->gid = gid;
	pthread_mutex_unlock(&t->mu);
}

void tree_owner(struct tree *t, const struct node *n, uid_t *uid,
		gid_t *gid)
{
	pthread_mutex_lock(&t->mu);
	*uid = n->uid;
	*gid = n->gid;
	pthread_mutex_unlock(&t->mu);
}

struct node *tree_get(struct tree *t, uint64_t ino)
{
	struct node *n;

	pthread_mutex_lock(&t->mu);
	for (n = t->by_ino[ino_slot(ino)]; n; n = n->ino_next)
		if (n->ino == ino)
			break;
	if (n)
		n->refs++;
	pthread_mutex_unlock(&t->mu);
	return n;
}

struct node *tree_find(struct tree *t, uint64_t parent, const char *name)
{
	struct node *n;

	pthread_mutex_lock(&t->mu);
	n = find_locked(t, parent, name);
	if (n)
		n->refs++;
	pthread_mutex_unlock(&t->mu);
	return n;
}

void tree_put(struct tree *t, struct node *n)
{
	bool gone;

	if (!n)
		return;
	pthread_mutex_lock(&t->mu);
	gone = unref_locked(n);
	pthread_mutex_unlock(&t->mu);
	if (gone)
		node_free(n);
}

/* Removes @n from both tables; the caller drops the table's reference. */
static bool detach_locked(struct tree *t, struct node *n)
{
	bool was = n->in_names || n->in_inos;

	names_remove(t, n);
	inos_remove(t, n);
	return was;
}

bool tree_unlink(struct tree *t, struct node *n, uint64_t *parent,
		 char *name)
{
	bool did, gone = false;
	size_t len;

	pthread_mutex_lock(&t->mu);
	if (parent)
		*parent = n->parent;
	if (name) {
		len = strlen(n->name);
		len = len > NAME_MAX ? NAME_MAX : len;
		memcpy(name, n->name, len);
		name[len] = '\0';
	}
	did = detach_locked(t, n);
	if (did)
		gone = unref_locked(n);
	pthread_mutex_unlock(&t->mu);
	if (gone)
		node_free(n);
	return did;
}

void tree_alias(struct tree *t, struct node *n, uint64_t target)
{
	pthread_mutex_lock(&t->mu);
	names_remove(t, n);
	if (n->in_inos) {
		n->type = NODE_ALIAS;
		n->target = target;
	}
	pthread_mutex_unlock(&t->mu);
}

void tree_forget(struct tree *t, uint64_t ino)
{
	struct node *n;
	bool gone = false;

	pthread_mutex_lock(&t->mu);
	for (n = t->by_ino[ino_slot(ino)]; n; n = n->ino_next)
		if (n->ino == ino)
			break;
	if (n && n->type == NODE_ALIAS) {
		inos_remove(t, n);
		gone = unref_locked(n);
	}
	pthread_mutex_unlock(&t->mu);
	if (gone)
		node_free(n);
}

/* Unlinks the node @name under @parent for a rename over it. */
static int replace_locked(struct tree *t, struct node *n, uint64_t parent,
			  const char *name, bool noreplace,
			  uint64_t *gone_ino, struct node **gone)
{
	struct node *old = find_locked(t, parent, name);

	*gone = NULL;
	if (!old || old == n)
		return 0;
	if (noreplace)
		return -EEXIST;
	if (old->type == NODE_DRAFT)
		return -EISDIR;
	detach_locked(t, old);
	*gone_ino = old->ino;
	if (unref_locked(old))
		*gone = old;
	return 0;
}

int tree_rename(struct tree *t, struct node *n, uint64_t parent,
		const char *name, enum node_type type, bool noreplace,
		uint64_t *gone_ino)
{
	char *copy = strdup(name);
	struct node *gone = NULL;
	int rc;

	*gone_ino = 0;
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&t->mu);
	rc = replace_locked(t, n, parent, name, noreplace, gone_ino, &gone);
	if (rc == 0 && n->in_names) {
		names_remove(t, n);
		free(n->name);
		n->name = copy;
		copy = NULL;
		n->parent = parent;
		n->type = type;
		names_insert(t, n);
	} else if (rc == 0) {
		rc = -ENOENT;
	}
	pthread_mutex_unlock(&t->mu);
	free(copy);
	if (gone)
		node_free(gone);
	return rc;
}

int tree_children(struct tree *t, uint64_t parent,
		  int (*fn)(void *ctx, const struct node *n), void *ctx)
{
	size_t i;
	struct node *n;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < TREE_BUCKETS && rc == 0; i++)
		for (n = t->by_name[i]; n && rc == 0; n = n->name_next)
			if (n->parent == parent)
				rc = fn(ctx, n);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/* Unlinks one child of @parent; false when there is none left. */
static bool unlink_one_child(struct tree *t, uint64_t parent)
{
	size_t i;
	struct node *n, *gone = NULL;
	bool found = false;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < TREE_BUCKETS && !found; i++) {
		for (n = t->by_name[i]; n; n = n->name_next) {
			if (n->parent != parent)
				continue;
			detach_locked(t, n);
			if (unref_locked(n))
				gone = n;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&t->mu);
	if (gone)
		node_free(gone);
	return found;
}

void tree_move_children(struct tree *t, uint64_t from, uint64_t to)
{
	size_t i;
	struct node *n, *next, *moved = NULL, *gone = NULL;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < TREE_BUCKETS; i++) {
		for (n = t->by_name[i]; n; n = next) {
			next = n->name_next;
			if (n->parent != from)
				continue;
			names_remove(t, n);
			n->name_next = moved;
			moved = n;
		}
	}
	for (n = moved; n; n = next) {
		next = n->name_next;
		n->parent = to;
		if (!find_locked(t, to, n->name)) {
			names_insert(t, n);
			continue;
		}
		inos_remove(t, n);
		if (unref_locked(n)) {
			n->name_next = gone;
			gone = n;
		}
	}
	pthread_mutex_unlock(&t->mu);
	for (n = gone; n; n = next) {
		next = n->name_next;
		node_free(n);
	}
}

void tree_unlink_children(struct tree *t, uint64_t parent)
{
	while (unlink_one_child(t, parent))
		;
}

void tree_stat(struct tree *t, const struct node *n, off_t *size,
	       mode_t *mode, struct timespec *mtime)
{
	pthread_mutex_lock(&t->mu);
	*size = (off_t)n->data.len;
	*mode = n->mode;
	*mtime = n->mtime;
	pthread_mutex_unlock(&t->mu);
}

ssize_t tree_read(struct tree *t, struct node *n, off_t off, size_t size,
		  char **out)
{
	ssize_t rc = 0;
	size_t len;

	*out = NULL;
	pthread_mutex_lock(&t->mu);
	if (off < 0 || (size_t)off >= n->data.len || size == 0)
		goto out;
	len = n->data.len - (size_t)off;
	if (len > size)
		len = size;
	*out = malloc(len);
	if (!*out) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(*out, n->data.data + off, len);
	rc = (ssize_t)len;
out:
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static void touch_locked(struct node *n)
{
	clock_gettime(CLOCK_REALTIME, &n->mtime);
}

ssize_t tree_write(struct tree *t, struct node *n, const char *data,
		   size_t size, off_t off)
{
	ssize_t rc;

	pthread_mutex_lock(&t->mu);
	rc = fbuf_pwrite(&n->data, data, size, off);
	if (rc >= 0)
		touch_locked(n);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int tree_truncate(struct tree *t, struct node *n, off_t size)
{
	int rc;

	pthread_mutex_lock(&t->mu);
	rc = fbuf_resize(&n->data, size);
	if (rc == 0)
		touch_locked(n);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int tree_set_data(struct tree *t, struct node *n, const char *text,
		  size_t len)
{
	int rc;

	pthread_mutex_lock(&t->mu);
	buf_reset(&n->data);
	rc = buf_add(&n->data, text, len);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int tree_copy(struct tree *t, struct node *n, char **out, size_t *len)
{
	char *p;

	pthread_mutex_lock(&t->mu);
	p = malloc(n->data.len + 1);
	if (p) {
		if (n->data.len)
			memcpy(p, n->data.data, n->data.len);
		p[n->data.len] = '\0';
		*len = n->data.len;
	}
	pthread_mutex_unlock(&t->mu);
	if (!p)
		return -ENOMEM;
	*out = p;
	return 0;
}

void tree_chmod(struct tree *t, struct node *n, const mode_t *mode,
		const struct timespec *mtime)
{
	pthread_mutex_lock(&t->mu);
	if (mode)
		n->mode = *mode & 07777;
	if (mtime)
		n->mtime = *mtime;
	pthread_mutex_unlock(&t->mu);
}

bool tree_where(struct tree *t, struct node *n, enum node_type *type,
		char *name)
{
	size_t len;
	bool named;

	pthread_mutex_lock(&t->mu);
	*type = n->type;
	len = strlen(n->name);
	len = len > NAME_MAX ? NAME_MAX : len;
	memcpy(name, n->name, len);
	name[len] = '\0';
	named = n->in_names;
	pthread_mutex_unlock(&t->mu);
	return named;
}

enum node_type tree_type(struct tree *t, struct node *n, uint64_t *target)
{
	enum node_type type;

	pthread_mutex_lock(&t->mu);
	type = n->type;
	if (target)
		*target = n->target;
	pthread_mutex_unlock(&t->mu);
	return type;
}

void tree_set_failed(struct tree *t, struct node *n, bool failed)
{
	pthread_mutex_lock(&t->mu);
	n->failed = failed;
	pthread_mutex_unlock(&t->mu);
}

bool tree_failed(struct tree *t, struct node *n)
{
	bool f;

	pthread_mutex_lock(&t->mu);
	f = n->failed;
	pthread_mutex_unlock(&t->mu);
	return f;
}

ssize_t fbuf_pwrite(struct buf *b, const char *data, size_t size, off_t off)
{
	size_t o = (size_t)off, inside;
	int rc;

	if (off < 0)
		return -EINVAL;
	if (o > b->cap || size > b->cap - o)
		return -EFBIG;
	if (size == 0)
		return 0;	/* as pwrite(2): an empty write extends nothing */
	if (o > b->len) {
		rc = fbuf_resize(b, off);
		if (rc < 0)
			return rc;
	}
	inside = b->len - o < size ? b->len - o : size;
	if (inside)
		memcpy(b->data + o, data, inside);
	if (size > inside) {
		rc = buf_add(b, data + inside, size - inside);
		if (rc < 0)
			return rc;
	}
	return (ssize_t)size;
}

int fbuf_resize(struct buf *b, off_t size)
{
	static const char zeros[4096];
	size_t want = (size_t)size, n;
	int rc;

	if (size < 0)
		return -EINVAL;
	if (want > b->cap)
		return -EFBIG;
	if (want <= b->len) {
		buf_truncate(b, want);
		return 0;
	}
	while (b->len < want) {
		n = want - b->len < sizeof(zeros) ? want - b->len
						  : sizeof(zeros);
		rc = buf_add(b, zeros, n);
		if (rc < 0)
			return rc;
	}
	return 0;
}
