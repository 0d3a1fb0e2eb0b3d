/*
 * yaml_keys.c - duplicate-key detection for maps being parsed.
 *
 * Small maps are searched linearly; from KEYSET_MIN entries on, an
 * open-addressed table of entry indexes (at most half full, rebuilt when it
 * doubles) keeps each check constant-time, so a map at the item limit
 * cannot make parsing quadratic.
 */
#include "yaml_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEYSET_MIN 16

static uint32_t key_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void slot_put(struct yaml_keyset *ks, const struct doc *m, size_t idx)
{
	size_t k = key_hash(m->u.kv[idx].key) & (ks->nslots - 1);

	while (ks->slots[k])
		k = (k + 1) & (ks->nslots - 1);
	ks->slots[k] = (uint32_t)idx + 1;
}

int yaml_keyset_add(struct yaml_keyset *ks, const struct doc *m)
{
	uint32_t *s;
	size_t want, k;

	if (m->n < KEYSET_MIN)
		return 0;
	if (m->n * 2 <= ks->nslots) {
		slot_put(ks, m, m->n - 1);
		return 0;
	}
	want = ks->nslots ? ks->nslots * 2 : 64;
	while (want < m->n * 2)
		want *= 2;
	s = calloc(want, sizeof(*s));
	if (!s)
		return -ENOMEM;
	free(ks->slots);
	ks->slots = s;
	ks->nslots = want;
	for (k = 0; k < m->n; k++)
		slot_put(ks, m, k);
	return 0;
}

bool yaml_keyset_has(const struct yaml_keyset *ks, const struct doc *m,
		     const char *key)
{
	size_t k;

	if (!ks->slots) {
		for (k = 0; k < m->n; k++)
			if (!strcmp(m->u.kv[k].key, key))
				return true;
		return false;
	}
	for (k = key_hash(key) & (ks->nslots - 1); ks->slots[k];
	     k = (k + 1) & (ks->nslots - 1))
		if (!strcmp(m->u.kv[ks->slots[k] - 1].key, key))
			return true;
	return false;
}

void yaml_keyset_release(struct yaml_keyset *ks)
{
	free(ks->slots);
	ks->slots = NULL;
	ks->nslots = 0;
}
