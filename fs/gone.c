/*
 * gone.c - the spec files hidden from the process that unlinked them
 * (gone.h): a small fixed table, scanned linearly, under one lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "gone.h"

struct gone_entry {
	uint64_t ino;		/* 0: a free slot */
	pid_t pid;
	struct timespec until;
};

struct gone {
	pthread_mutex_t mu;
	struct gone_entry e[GONE_MAX];	/* protected by mu */
};

int gone_new(struct gone **out)
{
	struct gone *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->mu, NULL);
	*out = g;
	return 0;
}

void gone_free(struct gone *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mu);
	free(g);
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The live entry for @ino and @pid at @now, or NULL; expired ones go. */
static struct gone_entry *find(struct gone *g, uint64_t ino, pid_t pid,
			       const struct timespec *now)
{
	struct gone_entry *hit = NULL;
	size_t i;

	for (i = 0; i < GONE_MAX; i++) {
		if (g->e[i].ino && !before(now, &g->e[i].until))
			g->e[i].ino = 0;
		if (g->e[i].ino == ino && ino && g->e[i].pid == pid)
			hit = &g->e[i];
	}
	return hit;
}

/* A slot for a new entry: a free one, else the one that ends first. */
static struct gone_entry *slot(struct gone *g)
{
	struct gone_entry *s = &g->e[0];
	size_t i;

	for (i = 0; i < GONE_MAX; i++) {
		if (!g->e[i].ino)
			return &g->e[i];
		if (before(&g->e[i].until, &s->until))
			s = &g->e[i];
	}
	return s;
}

void gone_add(struct gone *g, uint64_t ino, pid_t pid,
	      const struct timespec *now)
{
	struct gone_entry *e;

	pthread_mutex_lock(&g->mu);
	e = find(g, ino, pid, now);
	if (!e)
		e = slot(g);
	e->ino = ino;
	e->pid = pid;
	e->until = *now;
	e->until.tv_sec += FS_GONE_SECONDS;
	pthread_mutex_unlock(&g->mu);
}

bool gone_has(struct gone *g, uint64_t ino, pid_t pid,
	      const struct timespec *now)
{
	bool hit;

	pthread_mutex_lock(&g->mu);
	hit = find(g, ino, pid, now) != NULL;
	pthread_mutex_unlock(&g->mu);
	return hit;
}

bool gone_take(struct gone *g, uint64_t ino, pid_t pid,
	       const struct timespec *now)
{
	struct gone_entry *e;

	pthread_mutex_lock(&g->mu);
	e = find(g, ino, pid, now);
	if (e)
		e->ino = 0;
	pthread_mutex_unlock(&g->mu);
	return e != NULL;
}

void gone_clear(struct gone *g, uint64_t ino)
{
	size_t i;

	pthread_mutex_lock(&g->mu);
	for (i = 0; i < GONE_MAX; i++)
		if (g->e[i].ino == ino)
			g->e[i].ino = 0;
	pthread_mutex_unlock(&g->mu);
}
