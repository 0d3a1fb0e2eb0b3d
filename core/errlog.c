/*
 * errlog.c - the "errors" file: each caller's most recent rejected
 * changes, newest last.  Kept in memory (a ring of lines per uid), since
 * it is a side channel for the errno that close() can carry without text.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ERRLOG_LINES 100
#define ERRLOG_UIDS 64

struct ring {
	uid_t uid;
	char *lines[ERRLOG_LINES];
	size_t next;		/* index of the oldest line */
	size_t used;
};

struct errlog {
	pthread_mutex_t mu;
	struct ring rings[ERRLOG_UIDS];	/* protected by mu */
	size_t n;			/* protected by mu */
};

int errlog_new(struct errlog **out)
{
	struct errlog *el = calloc(1, sizeof(*el));

	if (!el)
		return -ENOMEM;
	pthread_mutex_init(&el->mu, NULL);
	*out = el;
	return 0;
}

static void ring_clear(struct ring *r)
{
	size_t i;

	for (i = 0; i < ERRLOG_LINES; i++) {
		free(r->lines[i]);
		r->lines[i] = NULL;
	}
	r->next = r->used = 0;
}

void errlog_free(struct errlog *el)
{
	size_t i;

	if (!el)
		return;
	for (i = 0; i < ERRLOG_UIDS; i++)
		ring_clear(&el->rings[i]);
	pthread_mutex_destroy(&el->mu);
	free(el);
}

/* The ring of @uid; with more callers than rings the last one is shared. */
static struct ring *ring_of(struct errlog *el, uid_t uid, int create)
{
	size_t i;

	for (i = 0; i < el->n; i++)
		if (el->rings[i].uid == uid)
			return &el->rings[i];
	if (!create)
		return NULL;
	if (el->n == ERRLOG_UIDS) {
		ring_clear(&el->rings[ERRLOG_UIDS - 1]);
		el->rings[ERRLOG_UIDS - 1].uid = uid;
		return &el->rings[ERRLOG_UIDS - 1];
	}
	el->rings[el->n].uid = uid;
	return &el->rings[el->n++];
}

void errlog_add(struct errlog *el, uid_t uid, const char *line)
{
	char *copy = strdup(line);
	struct ring *r;
	size_t slot;

	if (!copy)
		return;
	pthread_mutex_lock(&el->mu);
	r = ring_of(el, uid, 1);
	slot = (r->next + r->used) % ERRLOG_LINES;
	if (r->used == ERRLOG_LINES) {
		slot = r->next;
		r->next = (r->next + 1) % ERRLOG_LINES;
	} else {
		r->used++;
	}
	free(r->lines[slot]);
	r->lines[slot] = copy;
	pthread_mutex_unlock(&el->mu);
}

int errlog_read(struct errlog *el, uid_t uid, struct buf *out)
{
	struct ring *r;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&el->mu);
	r = ring_of(el, uid, 0);
	for (i = 0; r && rc == 0 && i < r->used; i++)
		rc = buf_addf(out, "%s\n",
			      r->lines[(r->next + i) % ERRLOG_LINES]);
	pthread_mutex_unlock(&el->mu);
	return rc;
}
