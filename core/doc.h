/*
 * doc.h - the document tree: what a YAML/JSON document decodes to, what the
 * schema normalizes, what the store keeps (in a compact binary encoding) and
 * what views are rendered from.
 *
 * A node is a scalar (null, bool, int, float, string), a sealed secret
 * (opaque bytes, rendered as the mask "***"), a list, or a map with string
 * keys kept in insertion order.  Every scalar keeps its text: for ints,
 * floats and bools that is the canonical spelling ("42", "1.5", "true"),
 * for null it is "".  Nodes parsed from YAML remember where they were in the
 * source (line/column and byte span) so messages can point at them and
 * secret values can be masked in the source text.
 *
 * Ownership: a container owns its children.  Functions that take a node
 * "into" a container take ownership even when they fail (the node is then
 * freed), so callers never leak on error paths.
 */
#ifndef EXECFS_DOC_H
#define EXECFS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum doc_type {
	DOC_NULL,
	DOC_BOOL,
	DOC_INT,
	DOC_FLOAT,
	DOC_STR,
	DOC_SEALED,	/* ciphertext blob; s holds n raw bytes */
	DOC_LIST,
	DOC_MAP,
};

/* Flags on nodes parsed from YAML. */
#define DOC_F_QUOTED	0x1u	/* scalar was quoted or block style */
#define DOC_F_PLAIN	0x2u	/* scalar was a plain (unquoted) scalar */

struct doc;

struct doc_kv {
	char *key;		/* NUL-terminated, owned */
	struct doc *val;	/* owned */
};

struct doc {
	enum doc_type type;
	unsigned flags;
	size_t n;		/* scalar/sealed: byte length; list/map: count */
	union {
		char *s;		/* scalar text (NUL-terminated) or blob */
		struct doc **items;	/* DOC_LIST: n items */
		struct doc_kv *kv;	/* DOC_MAP: n pairs */
	} u;
	int64_t i;		/* DOC_INT value; DOC_BOOL 0/1 */
	char *raw;		/* DOC_INT/DOC_FLOAT parsed from a plain
				   scalar: the text as written when it differs
				   from the canonical s ("1.10", "0x1F"), so a
				   string field keeps the user's spelling;
				   else NULL */
	size_t alloc;		/* capacity of items/kv */
	/* Source position (YAML only; 0 when built in code). */
	uint32_t line, col;	/* 1-based */
	size_t off, end;	/* byte span [off, end) of the node in the source */
};

/* Construction.  All return NULL when out of memory. */
struct doc *doc_new(enum doc_type t);		/* empty list/map, null scalar */
struct doc *doc_str(const char *s, size_t n);	/* copies; may contain NUL */
struct doc *doc_strz(const char *s);
struct doc *doc_bool(bool v);
struct doc *doc_int(int64_t v);
struct doc *doc_float_text(const char *text);	/* text already validated */
struct doc *doc_sealed(const void *blob, size_t n);

/** doc_free() - free a node and everything below it.  NULL-safe. */
void doc_free(struct doc *d);

/** doc_clone() - deep copy (positions included).  NULL when out of memory. */
struct doc *doc_clone(const struct doc *d);

/**
 * doc_equal() - deep comparison of type, text and structure (map order
 * matters not; positions and flags are ignored).
 */
bool doc_equal(const struct doc *a, const struct doc *b);

/* Maps. */

/** doc_map_get() - the value under @key, or NULL (also when @m is not a map). */
struct doc *doc_map_get(const struct doc *m, const char *key);

/**
 * doc_map_set() - set @key to @v, replacing (and freeing) an old value in
 * place, or appending.  Takes ownership of @v even on failure.
 * Return: 0, -ENOMEM, -EINVAL if @m is not a map.
 */
int doc_map_set(struct doc *m, const char *key, struct doc *v);

/** doc_map_setstr() - doc_map_set(m, key, doc_strz(s)). */
int doc_map_setstr(struct doc *m, const char *key, const char *s);

/**
 * doc_map_take() - remove @key and return its value (caller owns it), or
 * NULL if absent.
 */
struct doc *doc_map_take(struct doc *m, const char *key);

/** doc_map_del() - remove and free @key.  Return: 0 or -ENOENT. */
int doc_map_del(struct doc *m, const char *key);

/**
 * doc_map_child() - the map under @key, created (empty) if absent.
 * Return: the child, or NULL when out of memory or when an existing value
 *         is not a map.
 */
struct doc *doc_map_child(struct doc *m, const char *key);

/* Lists. */

/** doc_list_add() - append; takes ownership of @v.  Return: 0, -ENOMEM, -EINVAL. */
int doc_list_add(struct doc *l, struct doc *v);

/* Paths. */

/**
 * doc_get() - follow a dotted path of map keys ("spec.document.name").
 * Return: the node or NULL.  Keys containing '.' cannot be reached this way.
 */
struct doc *doc_get(const struct doc *d, const char *path);

/**
 * doc_get_str() - text of the scalar at @path, or NULL if absent or not a
 * string-like scalar (DOC_STR, DOC_INT, DOC_FLOAT, DOC_BOOL).
 */
const char *doc_get_str(const struct doc *d, const char *path);

/** doc_is_scalar() - true for null, bool, int, float and string nodes. */
bool doc_is_scalar(const struct doc *d);

/** doc_type_name() - "string", "map", "list", ... for messages. */
const char *doc_type_name(enum doc_type t);

/*
 * Binary encoding (the store's record body).  Versioned and self-delimiting;
 * doc_decode() checks every length against the input and the limits below,
 * so random bytes fail cleanly with -EBADMSG.
 */
#define DOC_ENC_VERSION 1
#define DOC_DEPTH_MAX 64

/** doc_encode() - append the encoding of @d to @out.  Errors as buf_add(). */
int doc_encode(const struct doc *d, struct buf *out);

/**
 * doc_encode_map() - append the encoding of a map of @n pairs, @keys[i]
 * to @vals[i], in that order: the bytes doc_encode() gives for that map,
 * without building it (the values are borrowed, not copied).
 * Errors as doc_encode().
 */
int doc_encode_map(const char *const *keys, const struct doc *const *vals,
		   size_t n, struct buf *out);

/**
 * doc_decode() - decode @n bytes.
 * @used: may be NULL; receives the number of bytes consumed.
 * Return: 0 and *out (caller frees with doc_free()), -EBADMSG, -ENOMEM.
 */
int doc_decode(const void *p, size_t n, struct doc **out, size_t *used);

#endif
