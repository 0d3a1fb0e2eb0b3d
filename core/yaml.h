/*
 * yaml.h - YAML (and therefore JSON) text to struct doc and back, on libyaml.
 *
 * Parsing is strict and bounded: one document per stream, no duplicate
 * keys, keys must be scalars, tags other than the core ones rejected,
 * aliases allowed only up to a count and a total node budget (alias bombs
 * fail), and caps on input size, depth, string length and collection size.
 * Plain scalars resolve with the YAML 1.2 core schema (null, true/false,
 * ints, floats); quoted and block scalars are strings.
 */
#ifndef EXECFS_YAML_H
#define EXECFS_YAML_H

#include <stddef.h>

#include "buf.h"
#include "doc.h"
#include "err.h"

struct yaml_limits {
	size_t max_bytes;	/* whole input */
	size_t max_depth;	/* nesting of maps/lists */
	size_t max_str;		/* one scalar's bytes */
	size_t max_items;	/* entries in one map or list */
	size_t max_nodes;	/* nodes in the whole tree, aliases expanded */
	size_t max_aliases;	/* alias references */
};

/* 1 MiB, depth 32, 64 KiB strings, 10000 items, 100000 nodes, 64 aliases */
extern const struct yaml_limits yaml_default_limits;

/**
 * yaml_parse() - parse one document.
 * @lim: NULL for yaml_default_limits.
 * Return: 0 and *out (caller frees with doc_free()); an empty document
 *   (only comments/whitespace) is -EBADMSG "empty document".
 *   -EBADMSG with "line L column C: what" for malformed input, duplicate
 *   keys, bad tags, NUL bytes, non-UTF-8; -EFBIG when a size limit is
 *   exceeded (message names the limit); -ENOMEM.
 */
int yaml_parse(const char *text, size_t len, const struct yaml_limits *lim,
	       struct doc **out, struct err *e);

/**
 * yaml_emit() - block-style YAML of @d, ending in a newline.  Strings that
 * would read back as another type (or need it) are quoted; sealed nodes
 * print as "***".  Return: 0 or as buf_add().
 */
int yaml_emit(const struct doc *d, struct buf *out);

/**
 * json_emit() - JSON of @d (two-space indented when @pretty, else compact),
 * ending in a newline when @pretty.  Sealed nodes print as "***".
 * Return: 0 or as buf_add().
 */
int json_emit(const struct doc *d, struct buf *out, int pretty);

/**
 * json_quote() - append @s (@n bytes) as a JSON string literal, escaping
 * per RFC 8259 (control bytes as \u00XX).  Return: 0 or as buf_add().
 */
int json_quote(struct buf *out, const char *s, size_t n);

/** json_quoted_len() - the bytes json_quote() appends for @s (@n bytes). */
size_t json_quoted_len(const char *s, size_t n);

#endif
