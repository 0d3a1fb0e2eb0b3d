/*
 * yaml_i.h - internals shared by the YAML module's files (yaml_parse.c,
 * yaml_resolve.c, yaml_keys.c, yaml_emit.c).  Not for use outside the module.
 */
#ifndef EXECFS_YAML_I_H
#define EXECFS_YAML_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doc.h"

#define CORE_TAG "tag:yaml.org,2002:"

/**
 * yaml_resolve_plain() - the node a plain scalar denotes under the core
 * schema: null, bool, int, float or string.
 * @s: NUL-terminated text of @n bytes.
 * Return: a new node (caller frees), NULL when out of memory.
 */
struct doc *yaml_resolve_plain(const char *s, size_t n);

/**
 * yaml_resolve_tagged() - the node for scalar text with an explicit tag.
 * @tag: the full tag, e.g. "tag:yaml.org,2002:int".
 * @why: set to a message fragment (the tag is appended by the caller)
 *       when the text does not match the tag; NULL otherwise.
 * Return: a new node, or NULL (out of memory when *why is NULL).
 */
struct doc *yaml_resolve_tagged(const char *tag, const char *s, size_t n,
				const char **why);

/**
 * yaml_plain_is_str() - true when @s (@n bytes, NUL-terminated) written
 * as a plain scalar would read back as a string.
 */
bool yaml_plain_is_str(const char *s, size_t n);

/**
 * yaml_skip_exponent() - the index just past an optional exponent ("e+12")
 * starting at s[k] (k itself when there is none), or SIZE_MAX when it is
 * malformed.  Shared by the YAML float and JSON number grammars.
 */
size_t yaml_skip_exponent(const char *s, size_t k);

/*
 * Duplicate-key detection for a map under construction (yaml_keys.c).
 * Zero-initialize; call yaml_keyset_add() after each entry is appended to
 * the map and yaml_keyset_release() when done.
 */
struct yaml_keyset {
	uint32_t *slots; /* kv index + 1; 0 is empty */
	size_t nslots;
};

/** yaml_keyset_has() - true when map @m already has @key. */
bool yaml_keyset_has(const struct yaml_keyset *ks, const struct doc *m,
		     const char *key);

/** yaml_keyset_add() - index @m's last entry.  Return: 0 or -ENOMEM. */
int yaml_keyset_add(struct yaml_keyset *ks, const struct doc *m);

/** yaml_keyset_release() - free the index.  The keyset is empty again. */
void yaml_keyset_release(struct yaml_keyset *ks);

#endif
