/*
 * known.c - the table of known.h: serials in an open-addressed hash table
 * (linear probing), each with a bit per slot.  A dropped serial keeps its
 * place with no bits (a tombstone) until the table is rebuilt, which
 * happens when it is half full: tombstones go, and the table doubles if
 * what is left still fills half of it, up to KNOWN_MAX serials.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "known.h"

#define KNOWN_FIRST 256	/* places of a new table */

struct entry {
	uint64_t serial;	/* 0: free */
	uint32_t slots;		/* bit per slot; 0: dropped */
};

struct known {
	pthread_mutex_t mu;
	struct entry *v;	/* protected by mu */
	size_t cap;		/* places, a power of two; protected by mu */
	size_t used;		/* places taken, tombstones too; by mu */
	bool all;		/* full: everything is known; by mu */
};

int known_new(struct known **out)
{
	struct known *k = calloc(1, sizeof(*k));

	if (k)
		k->v = calloc(KNOWN_FIRST, sizeof(*k->v));
	if (!k || !k->v) {
		free(k);
		return -ENOMEM;
	}
	k->cap = KNOWN_FIRST;
	pthread_mutex_init(&k->mu, NULL);
	*out = k;
	return 0;
}

void known_free(struct known *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->mu);
	free(k->v);
	free(k);
}

static size_t place(uint64_t serial, size_t cap)
{
	return (size_t)((serial * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

/* The entry of @serial, or the free place where it would go (with mu). */
static struct entry *find(struct entry *v, size_t cap, uint64_t serial)
{
	size_t i = place(serial, cap);

	while (v[i].serial && v[i].serial != serial)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Rebuild into @cap places, leaving tombstones out (with mu). */
static int rebuild(struct known *k, size_t cap)
{
	struct entry *v = calloc(cap, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	k->used = 0;
	for (i = 0; i < k->cap; i++) {
		if (!k->v[i].slots)
			continue;
		*find(v, cap, k->v[i].serial) = k->v[i];
		k->used++;
	}
	free(k->v);
	k->v = v;
	k->cap = cap;
	return 0;
}

/* Room for one more place, or false (with mu). */
static bool room(struct known *k)
{
	size_t live = 0, i, cap = k->cap;

	if (2 * (k->used + 1) <= k->cap)
		return true;
	for (i = 0; i < k->cap; i++)
		live += k->v[i].slots != 0;
	if (2 * (live + 1) > cap)
		cap *= 2;
	if (cap > 2 * (size_t)KNOWN_MAX || rebuild(k, cap) < 0)
		return false;
	return 2 * (k->used + 1) <= k->cap;
}

/* The entry of @serial, made if need be; NULL when full (with mu). */
static struct entry *entry_for(struct known *k, uint64_t serial)
{
	struct entry *e = find(k->v, k->cap, serial);

	if (e->serial)
		return e;
	if (!room(k))
		return NULL;
	e = find(k->v, k->cap, serial);	/* room() may have rebuilt */
	e->serial = serial;
	k->used++;
	return e;
}

bool known_add(struct known *k, uint64_t serial, unsigned slot)
{
	struct entry *e;
	bool was;

	if (!k)
		return false;
	pthread_mutex_lock(&k->mu);
	was = k->all;
	e = was ? NULL : entry_for(k, serial);
	if (e) {
		was = e->slots & (1u << slot);
		e->slots |= 1u << slot;
	} else {
		k->all = true;
	}
	pthread_mutex_unlock(&k->mu);
	return !was;
}

bool known_has(struct known *k, uint64_t serial, unsigned slot)
{
	bool has;

	if (!k)
		return true;
	pthread_mutex_lock(&k->mu);
	has = k->all || (find(k->v, k->cap, serial)->slots & (1u << slot));
	pthread_mutex_unlock(&k->mu);
	return has;
}

void known_drop(struct known *k, uint64_t serial)
{
	struct entry *e;

	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	e = find(k->v, k->cap, serial);
	if (e->serial)
		e->slots = 0;
	pthread_mutex_unlock(&k->mu);
}
