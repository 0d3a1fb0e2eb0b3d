/*
 * notify.c - a FIFO of kernel cache invalidations served by one thread
 * (notify.h), and the translation of plane changes into invalidations.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "follow.h"
#include "known.h"
#include "notify.h"

#define NOTIFY_QUEUE_MAX 65536
/* Slots of the table of inodes with an attribute note in the queue. */
#define NOTIFY_INODE_SLOTS 1024

enum note_type {
	NOTE_ENTRY,
	NOTE_DELETE,
	NOTE_INODE,
};

struct note {
	enum note_type type;
	fuse_ino_t parent;	/* NOTE_ENTRY, NOTE_DELETE */
	fuse_ino_t ino;		/* NOTE_DELETE child, NOTE_INODE */
	char name[NAME_MAX + 1];
	struct note *next;
};

struct notifier {
	struct fuse_session *se;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct note *head;	/* protected by mu */
	struct note *tail;	/* protected by mu */
	size_t len;		/* protected by mu */
	bool stopping;		/* protected by mu */
	bool detached;		/* the session is gone; protected by mu */
	bool warned;		/* protected by mu */
	/* An inode here has a NOTE_INODE queued, not yet taken by the
	   thread: another one for it would say nothing new (a stream
	   grows line by line).  A collision only costs a duplicate. */
	fuse_ino_t queued[NOTIFY_INODE_SLOTS];	/* protected by mu */
};

static size_t queued_slot(fuse_ino_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 54) %
	       NOTIFY_INODE_SLOTS;
}

static void send_note(struct fuse_session *se, const struct note *n)
{
	switch (n->type) {
	case NOTE_ENTRY:
		fuse_lowlevel_notify_inval_entry(se, n->parent, n->name,
						 strlen(n->name));
		break;
	case NOTE_DELETE:
		fuse_lowlevel_notify_delete(se, n->parent, n->ino, n->name,
					    strlen(n->name));
		break;
	case NOTE_INODE:
		/* Offset -1: attributes only, no page lock to wait for.
		   Views are read with direct_io, so no pages are cached. */
		fuse_lowlevel_notify_inval_inode(se, n->ino, -1, 0);
		break;
	}
}

/* Takes every queued note, oldest first, waiting for one; NULL when
 * stopping and empty.  One wake-up serves a whole change's notes. */
static struct note *next_notes(struct notifier *nf)
{
	struct note *head, *n;

	pthread_mutex_lock(&nf->mu);
	while (!nf->head && !nf->stopping)
		pthread_cond_wait(&nf->cond, &nf->mu);
	head = nf->head;
	nf->head = nf->tail = NULL;
	nf->len = 0;
	/* Taken before they are sent: a change from now on queues notes
	   of its own. */
	for (n = head; n; n = n->next)
		if (n->type == NOTE_INODE &&
		    nf->queued[queued_slot(n->ino)] == n->ino)
			nf->queued[queued_slot(n->ino)] = 0;
	pthread_mutex_unlock(&nf->mu);
	return head;
}

static void *notify_main(void *arg)
{
	struct notifier *nf = arg;
	struct note *n, *next;

	while ((n = next_notes(nf)) != NULL) {
		for (; n; n = next) {
			next = n->next;
			send_note(nf->se, n);
			free(n);
		}
	}
	return NULL;
}

int notify_start(struct notifier **out, struct fuse_session *se)
{
	struct notifier *nf = calloc(1, sizeof(*nf));
	int rc;

	if (!nf)
		return -ENOMEM;
	nf->se = se;
	pthread_mutex_init(&nf->mu, NULL);
	pthread_cond_init(&nf->cond, NULL);
	rc = pthread_create(&nf->thread, NULL, notify_main, nf);
	if (rc != 0) {
		pthread_cond_destroy(&nf->cond);
		pthread_mutex_destroy(&nf->mu);
		free(nf);
		return -rc;
	}
	*out = nf;
	return 0;
}

static void drop_queue(struct notifier *nf);

void notify_detach(struct notifier *nf)
{
	if (!nf)
		return;
	pthread_mutex_lock(&nf->mu);
	nf->detached = true;
	drop_queue(nf);
	pthread_mutex_unlock(&nf->mu);
}

static void drop_queue(struct notifier *nf)
{
	struct note *n, *next;

	for (n = nf->head; n; n = next) {
		next = n->next;
		free(n);
	}
	nf->head = nf->tail = NULL;
	nf->len = 0;
	memset(nf->queued, 0, sizeof(nf->queued));
}

void notify_stop(struct notifier *nf)
{
	struct timespec limit;

	if (!nf)
		return;
	pthread_mutex_lock(&nf->mu);
	nf->stopping = true;
	pthread_cond_broadcast(&nf->cond);
	pthread_mutex_unlock(&nf->mu);
	/* A note may block in the kernel on a directory whose request will
	   never be answered once the loop has ended; do not wait forever. */
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 2;
	if (pthread_timedjoin_np(nf->thread, NULL, &limit) != 0) {
		fs_log("notify thread did not stop; leaving it");
		pthread_detach(nf->thread);
		return;
	}
	drop_queue(nf);
	pthread_cond_destroy(&nf->cond);
	pthread_mutex_destroy(&nf->mu);
	free(nf);
}

/* Whether an attribute note for @n's inode is queued already (with mu). */
static bool queued_already(struct notifier *nf, const struct note *n)
{
	size_t i;

	if (n->type != NOTE_INODE)
		return false;
	i = queued_slot(n->ino);
	if (nf->queued[i] == n->ino)
		return true;
	nf->queued[i] = n->ino;
	return false;
}

/* Queues @n (with mu), or returns false: the caller frees it. */
static bool append_locked(struct notifier *nf, struct note *n, bool *warn)
{
	if (nf->detached || (!nf->stopping && nf->len < NOTIFY_QUEUE_MAX &&
			     queued_already(nf, n)))
		return false;
	if (nf->stopping || nf->len >= NOTIFY_QUEUE_MAX) {
		*warn = *warn || (!nf->stopping && !nf->warned);
		nf->warned = nf->warned || *warn;
		return false;
	}
	if (nf->tail)
		nf->tail->next = n;
	else
		nf->head = n;
	nf->tail = n;
	nf->len++;
	return true;
}

/* Queues the @n notes of one change under one lock and one wake-up;
 * v[i] is set to NULL when it was queued, so the rest are freed here. */
static void enqueue(struct notifier *nf, struct note **v, size_t n)
{
	bool warn = false, any = false;
	size_t i;

	pthread_mutex_lock(&nf->mu);
	for (i = 0; i < n; i++) {
		if (v[i] && append_locked(nf, v[i], &warn)) {
			v[i] = NULL;
			any = true;
		}
	}
	if (any)
		pthread_cond_signal(&nf->cond);
	pthread_mutex_unlock(&nf->mu);
	for (i = 0; i < n; i++)
		free(v[i]);
	if (warn)
		fs_log("notify queue full: dropping invalidations");
}

static struct note *note_new(enum note_type type, fuse_ino_t parent,
			     fuse_ino_t ino, const char *name)
{
	struct note *n = calloc(1, sizeof(*n));
	size_t len = name ? strlen(name) : 0;

	if (!n || len >= sizeof(n->name)) {
		free(n);
		return NULL;
	}
	n->type = type;
	n->parent = parent;
	n->ino = ino;
	if (len)
		memcpy(n->name, name, len);
	return n;
}

void notify_entry(struct notifier *nf, fuse_ino_t parent, const char *name)
{
	struct note *n;

	if (!nf)
		return;
	n = note_new(NOTE_ENTRY, parent, 0, name);
	if (n)
		enqueue(nf, &n, 1);
}

void notify_delete(struct notifier *nf, fuse_ino_t parent, fuse_ino_t child,
		   const char *name)
{
	struct note *n;

	if (!nf)
		return;
	n = note_new(NOTE_DELETE, parent, child, name);
	if (n)
		enqueue(nf, &n, 1);
}

void notify_inodes(struct notifier *nf, const fuse_ino_t *inos, size_t n)
{
	struct note *v[NOTIFY_BATCH_MAX];
	size_t i;

	if (!nf)
		return;
	if (n > NOTIFY_BATCH_MAX)
		n = NOTIFY_BATCH_MAX;	/* as documented: the rest dropped */
	for (i = 0; i < n; i++)
		v[i] = note_new(NOTE_INODE, 0, inos[i], NULL);
	enqueue(nf, v, n);
}

void notify_inode(struct notifier *nf, fuse_ino_t ino)
{
	notify_inodes(nf, &ino, 1);
}

/*
 * The resource the current thread deletes through rmdir.  Per-thread
 * scratch rather than shared state: the plane calls back on the thread
 * that made the change, inside plane_delete().
 */
static _Thread_local uint64_t deleting;

void fs_deleting(uint64_t serial)
{
	deleting = serial;
}

/*
 * Readers parked on an execution's follow/ files look again: a run may
 * end, or an execution go, without another byte in its streams.
 */
static void wake_followers(struct fs *fs, const struct plane_res *r)
{
	if (r->kind != KIND_WORKFLOW_EXECUTION || !fs->follow)
		return;
	follow_wake(fs->follow, r->serial, PLANE_LOG);
	follow_wake(fs->follow, r->serial, PLANE_EVENTS);
}

static void changed_deleted(struct fs *fs, const struct plane_res *r)
{
	if (r->serial != deleting)
		notify_delete(fs->notify, fs_kind_ino(r->kind),
			      fs_res_ino(r->serial, SLOT_DIR), r->slug);
	notify_delete(fs->notify, FS_INO_BYID,
		      fs_res_ino(r->serial, SLOT_LINK), r->id);
	known_drop(fs->known, r->serial);
}

bool fs_ino_known(struct fs *fs, fuse_ino_t ino)
{
	return !fs_ino_is_res(ino) ||
	       known_has(fs->known, ino >> FS_SLOT_BITS,
			 (unsigned)(ino & ((1u << FS_SLOT_BITS) - 1)));
}

void fs_notify_attrs(struct fs *fs, const fuse_ino_t *inos, size_t n)
{
	fuse_ino_t v[NOTIFY_BATCH_MAX];
	size_t i, k = 0;

	for (i = 0; i < n && i < NOTIFY_BATCH_MAX; i++)
		if (fs_ino_known(fs, inos[i]))
			v[k++] = inos[i];
	if (k)
		notify_inodes(fs->notify, v, k);
}

static void changed_updated(struct fs *fs, const struct plane_res *r)
{
	fuse_ino_t inos[SLOT_ID - SLOT_DIR + 3];
	size_t n = 0;
	int slot;

	for (slot = SLOT_DIR; slot <= SLOT_ID; slot++)
		inos[n++] = fs_res_ino(r->serial, slot);
	/* Their mtime is the execution's until the stream has its own. */
	if (r->kind == KIND_WORKFLOW_EXECUTION) {
		inos[n++] = fs_res_ino(r->serial, SLOT_LOG);
		inos[n++] = fs_res_ino(r->serial, SLOT_EVENTS);
	}
	fs_notify_attrs(fs, inos, n);
}

void fs_plane_changed(void *ctx, enum plane_change what,
		      const struct plane_res *r)
{
	struct fs *fs = ctx;

	switch (what) {
	case PLANE_CREATED:
		break;	/* no negative entries to drop */
	case PLANE_DELETED:
		changed_deleted(fs, r);
		wake_followers(fs, r);
		break;
	case PLANE_UPDATED:
		changed_updated(fs, r);
		wake_followers(fs, r);
		break;
	}
}
