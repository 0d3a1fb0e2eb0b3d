/*
 * tree.h - in-memory nodes: drafts (mkdir'ed resource directories), their
 * spec.yaml, pending new documents and editors' scratch files.
 *
 * Nothing here is persisted.  Each node has an inode number from a counter
 * starting at FS_INO_MEM, a parent directory inode and a name.  Nodes are
 * reference counted: the table holds one reference while the node is
 * reachable, open handles hold their own, so a handle keeps working after
 * its file was unlinked.  An alias is a node that was replaced by a stored
 * resource (a draft that became a resource, a scratch file renamed onto
 * spec.yaml): it has no name any more but its inode still answers, as the
 * resource inode @target, until the kernel forgets it.
 *
 * Thread rules: every function takes the tree lock itself and never calls
 * out while holding it.  Node fields other than data, mode and mtime are
 * fixed while a caller holds a reference; data, mode and mtime must be read
 * and written only through the functions below.
 */
#ifndef EXECFS_TREE_H
#define EXECFS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <limits.h>
#include <time.h>

#include "core/buf.h"
#include "core/model.h"

enum node_type {
	NODE_DRAFT,		/* directory made by mkdir in a kind directory */
	NODE_DRAFT_SPEC,	/* spec.yaml inside a draft */
	NODE_PENDING,		/* new *.yaml|*.yml|*.json in a kind directory */
	NODE_SCRATCH,		/* any other new name: editors' temp files */
	NODE_ALIAS,		/* replaced by the resource inode @target */
};

struct node {
	uint64_t ino;
	uint64_t parent;	/* protected by the tree lock */
	enum node_type type;	/* protected by the tree lock */
	enum kind_id kind;	/* kind directory it lives under */
	char *name;		/* protected by the tree lock */
	uint64_t target;	/* NODE_ALIAS */
	mode_t mode;		/* permission bits; protected by the tree lock */
	uid_t uid;		/* who made it (tree_own()); 0 until then */
	gid_t gid;
	struct timespec mtime;	/* protected by the tree lock */
	struct buf data;	/* file bytes; protected by the tree lock */
	bool failed;		/* PENDING: the last commit failed */
	/* private */
	unsigned refs;
	bool in_names;
	bool in_inos;
	struct node *ino_next;
	struct node *name_next;
};

struct tree;

/** tree_new() - an empty tree.  Return: 0 and *out, -ENOMEM. */
int tree_new(struct tree **out);

/** tree_free() - free every node.  NULL-safe.  No handle may be open. */
void tree_free(struct tree *t);

/**
 * tree_add() - a new node @name under directory @parent.
 * Return: 0 and *out (one reference for the caller, release with
 *   tree_put()); -EEXIST if @parent already has @name; -ENOMEM.
 */
int tree_add(struct tree *t, uint64_t parent, const char *name,
	     enum node_type type, enum kind_id kind, mode_t mode,
	     struct node **out);

/**
 * tree_own() - record who made @n, right after tree_add() (until then it
 * is root's, which only operators pass: a check in between fails closed).
 */
void tree_own(struct tree *t, struct node *n, uid_t uid, gid_t gid);

/** tree_owner() - who made @n. */
void tree_owner(struct tree *t, const struct node *n, uid_t *uid,
		gid_t *gid);

/** tree_get() - the node with inode @ino (aliases too), referenced, or NULL. */
struct node *tree_get(struct tree *t, uint64_t ino);

/** tree_find() - the node @name under @parent, referenced, or NULL. */
struct node *tree_find(struct tree *t, uint64_t parent, const char *name);

/** tree_put() - drop a reference from tree_add/get/find.  NULL-safe. */
void tree_put(struct tree *t, struct node *n);

/**
 * tree_unlink() - make @n unreachable (name and inode); the memory goes
 * with the last reference.  @parent and @name (NAME_MAX + 1 bytes), when
 * not NULL, receive where it was.
 * Return: true if this call unlinked it.
 */
bool tree_unlink(struct tree *t, struct node *n, uint64_t *parent,
		 char *name);

/**
 * tree_move_children() - re-parent every node under @from to @to (a draft
 * became a resource); a name already taken under @to is dropped.
 */
void tree_move_children(struct tree *t, uint64_t from, uint64_t to);

/**
 * tree_alias() - turn @n into an alias of resource inode @target: its name
 * is free again, its inode answers as @target until tree_forget().
 */
void tree_alias(struct tree *t, struct node *n, uint64_t target);

/** tree_forget() - the kernel dropped @ino: free it if it is an alias. */
void tree_forget(struct tree *t, uint64_t ino);

/**
 * tree_rename() - move @n to @name under @parent, replacing a node of that
 * name (unless @noreplace); a replaced node is unlinked and its inode and
 * name are copied to *@gone_ino (0 when none).
 * Return: 0; -EEXIST (@noreplace and the name exists); -EISDIR (the name
 *   is a draft); -ENOMEM.
 */
int tree_rename(struct tree *t, struct node *n, uint64_t parent,
		const char *name, enum node_type type, bool noreplace,
		uint64_t *gone_ino);

/**
 * tree_children() - call @fn for every named node under @parent, with the
 * lock held: @fn must only copy what it needs.  Stops at non-zero.
 * Return: 0 or @fn's value.
 */
int tree_children(struct tree *t, uint64_t parent,
		  int (*fn)(void *ctx, const struct node *n), void *ctx);

/** tree_unlink_children() - unlink every node under @parent. */
void tree_unlink_children(struct tree *t, uint64_t parent);

/* File contents; all bounded by the node's data cap. */

/** tree_stat() - size, mode and mtime of @n. */
void tree_stat(struct tree *t, const struct node *n, off_t *size,
	       mode_t *mode, struct timespec *mtime);

/**
 * tree_read() - copy up to @size bytes at @off.
 * Return: bytes copied into *@out (caller frees; NULL when 0), -ENOMEM.
 */
ssize_t tree_read(struct tree *t, struct node *n, off_t off, size_t size,
		  char **out);

/** tree_write() - write at @off, zero-filling a hole.  Return: @size, -EFBIG, -ENOMEM. */
ssize_t tree_write(struct tree *t, struct node *n, const char *data,
		   size_t size, off_t off);

/** tree_truncate() - set the size.  Return: 0, -EFBIG, -ENOMEM. */
int tree_truncate(struct tree *t, struct node *n, off_t size);

/** tree_set_data() - replace the contents with @len bytes.  Errors as buf_add. */
int tree_set_data(struct tree *t, struct node *n, const char *text,
		  size_t len);

/**
 * tree_copy() - the whole contents.
 * Return: 0, *out (malloc'd, NUL-terminated; caller frees) and *len; -ENOMEM.
 */
int tree_copy(struct tree *t, struct node *n, char **out, size_t *len);

/** tree_chmod() - remember mode bits and/or an mtime (NULL: unchanged). */
void tree_chmod(struct tree *t, struct node *n, const mode_t *mode,
		const struct timespec *mtime);

/**
 * tree_where() - @n's current type and name (NAME_MAX + 1 bytes) and
 * whether it is still reachable by name.
 */
bool tree_where(struct tree *t, struct node *n, enum node_type *type,
		char *name);

/**
 * tree_type() - @n's current type, and for an alias its target (when
 * @target is not NULL).
 */
enum node_type tree_type(struct tree *t, struct node *n, uint64_t *target);

/** tree_set_failed() - record whether @n's last commit failed. */
void tree_set_failed(struct tree *t, struct node *n, bool failed);

/** tree_failed() - whether @n's last commit failed. */
bool tree_failed(struct tree *t, struct node *n);

/* Helpers over byte buffers, shared with the spec write handles. */

/**
 * fbuf_pwrite() - write @size bytes at @off into @b, zero-filling a hole
 * (an empty write changes nothing).  Return: @size, -EINVAL (@off < 0),
 * -EFBIG (past @b's cap; @b unchanged), -ENOMEM.
 */
ssize_t fbuf_pwrite(struct buf *b, const char *data, size_t size, off_t off);

/** fbuf_resize() - truncate or zero-extend @b to @size bytes. */
int fbuf_resize(struct buf *b, off_t size);

#endif
