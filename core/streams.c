/*
 * streams.c - the registry of live stream sinks and their flusher.
 *
 * A sink holds in memory the bytes appended since it was opened that are
 * not yet persisted, and some persisted ones (up to STREAMS_TRIM), so a
 * reader of a running stream never waits for the disk for new bytes;
 * older ones are read from the store.  The flusher thread wakes every
 * STREAMS_FLUSH_MS, copies the unpersisted tail of every sink under the
 * registry lock, and writes them all in one store_commit() (one sync for
 * all runs), each as STORE_APPEND changes at the offset it was persisted
 * up to.  Flushes are serialized by flush_mu, so the flusher and a run's
 * own sink_flush() never append the same range twice; it is held across
 * the commit on purpose and is taken by nothing else that a reader or an
 * appender waits on.
 *
 * When an append is stale (the execution was deleted, which drops its
 * chunks) the sink is marked broken: it stops persisting, says so once on
 * stderr, and keeps serving its bytes from memory.  A sink closed with
 * bytes the store does not have moves to the closed list and is served
 * from there; the flusher keeps trying the ones that are not broken and
 * drops each once persisted.  The rest go at streams_free().
 */
#include "streams_i.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thread.h"

static const char *stream_name(enum plane_stream s)
{
	return s == PLANE_LOG ? "log" : "events";
}

static void notify(struct streams *ss, uint64_t serial, enum plane_stream s)
{
	if (ss->notify)
		ss->notify(ss->notify_ctx, serial, s);
}

static void sink_free(struct sink *k)
{
	if (!k)
		return;
	buf_release(&k->mem);
	code_free(k);
	free(k);
}

/* Called with ss->mu held. */
static struct sink *sink_find(struct sink *list, uint64_t serial,
			      enum plane_stream s)
{
	for (struct sink *k = list; k; k = k->next)
		if (k->serial == serial && k->s == s)
			return k;
	return NULL;
}

/* The sink serving @serial/@s: the live one, else a closed one. */
static struct sink *sink_lookup(struct streams *ss, uint64_t serial,
				enum plane_stream s)
{
	struct sink *k = sink_find(ss->live, serial, s);

	return k ? k : sink_find(ss->closed, serial, s);
}

/* Take @k out of the list at @head; called with ss->mu held. */
static void sink_unlink(struct sink **head, struct sink *k)
{
	for (struct sink **pp = head; *pp; pp = &(*pp)->next) {
		if (*pp == k) {
			*pp = k->next;
			k->next = NULL;
			return;
		}
	}
}

/* The stream's size: stored and in memory.  Called with ss->mu held. */
static uint64_t sink_end_off(const struct sink *k)
{
	return k->coded ? k->flushed + k->vpend : k->base + k->mem.len;
}

static bool sink_due(const struct sink *k)
{
	return !k->broken && k->flushed < sink_end_off(k);
}

/*
 * Drop the persisted bytes of a live sink from memory once there are
 * STREAMS_TRIM of them: reads below its base are served from the store,
 * and the buffer stays as small as one flush interval of output instead
 * of growing (and being copied) with the whole stream.  Called with
 * ss->mu held.
 */
static void sink_trim(struct sink *k)
{
	size_t done = (size_t)(k->flushed - k->base);

	if (k->done || done < STREAMS_TRIM)
		return;
	memmove(k->mem.data, k->mem.data + done, k->mem.len - done);
	buf_truncate(&k->mem, k->mem.len - done);
	k->mem.cap -= done;
	k->base += done;
}

/* Copy @k's tail into @p: a plain sink's to ss->take, at p->at until
 * pend_collect() points p->data there.  Called with ss->mu held. */
static int pend_take(struct streams *ss, struct pend *p, struct sink *k)
{
	size_t from = (size_t)(k->flushed - k->base);
	size_t len = k->mem.len - from;

	if (k->coded)
		return code_take(p, k);
	p->at = ss->take.len;
	if (buf_add(&ss->take, k->mem.data + from, len))
		return -ENOMEM;
	p->k = k;
	p->from = k->flushed;
	p->to = k->flushed + len;
	return 0;
}

static void pend_free(struct pend *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].bytes);
		free(p[i].segs);
	}
	free(p);
}

/* Count, or with @p copy, the sinks due for a flush: @only when given,
 * else every open and closed one.  Called with ss->mu held. */
static size_t pend_walk(struct streams *ss, struct sink *only, struct pend *p,
			int *rc)
{
	struct sink *lists[2] = {ss->live, ss->closed};
	size_t n = 0;

	if (only) {
		/* coded events go with the log they refer to, in one commit */
		struct sink *both[2] = {
		    only->coded ? sink_lookup(ss, only->serial, PLANE_LOG)
				: NULL,
		    only};

		for (int i = 0; i < 2 && !*rc; i++) {
			if (!both[i] || !sink_due(both[i]))
				continue;
			if (p)
				*rc = pend_take(ss, &p[n], both[i]);
			n += !*rc;
		}
		return n;
	}
	for (int l = 0; l < 2; l++) {
		for (struct sink *k = lists[l]; k && !*rc; k = k->next) {
			if (!sink_due(k))
				continue;
			if (p)
				*rc = pend_take(ss, &p[n], k);
			n += !*rc;
		}
	}
	return n;
}

/* Copy the tails of the due sinks.  Return: 0 and *out, *n; -ENOMEM. */
static int pend_collect(struct streams *ss, struct sink *only,
			struct pend **out, size_t *n)
{
	struct pend *p = NULL;
	int rc = 0;

	pthread_mutex_lock(&ss->mu);
	*n = pend_walk(ss, only, NULL, &rc);
	if (*n)
		p = calloc(*n, sizeof(*p));
	if (*n && !p)
		rc = -ENOMEM;
	else if (*n)
		*n = pend_walk(ss, only, p, &rc);
	pthread_mutex_unlock(&ss->mu);
	for (size_t i = 0; !rc && i < *n; i++)
		if (!p[i].k->coded)
			p[i].data = ss->take.data + p[i].at;
	if (rc) {
		pend_free(p, *n);
		return rc;
	}
	*out = p;
	return 0;
}

/* The changes for @p[0..n), split at STORE_CHUNK_MAX.  NULL: no memory. */
static struct store_change *pend_changes(const struct pend *p, size_t n,
					 size_t *nc)
{
	struct store_change *c;
	size_t m = 0, j = 0;

	for (size_t i = 0; i < n; i++)
		m += p[i].k->coded ? p[i].nseg
				   : (size_t)((p[i].to - p[i].from +
					       STORE_CHUNK_MAX - 1) /
					      STORE_CHUNK_MAX);
	c = calloc(m ? m : 1, sizeof(*c));
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i].k->coded) {
			j += code_changes(&p[i], c + j);
			continue;
		}
		for (uint64_t at = p[i].from; at < p[i].to; at += c[j++].len) {
			c[j].op = STORE_APPEND;
			c[j].hdr.serial = p[i].k->serial;
			c[j].stream = (unsigned)p[i].k->s;
			c[j].off = at;
			c[j].body = p[i].data + (at - p[i].from);
			c[j].len = p[i].to - at > STORE_CHUNK_MAX
				       ? STORE_CHUNK_MAX
				       : (size_t)(p[i].to - at);
		}
	}
	*nc = j;
	return c;
}

/* Drop the closed sinks the store now holds in full; ss->mu held. */
static void closed_reap(struct streams *ss)
{
	struct sink **pp = &ss->closed, *k;

	while ((k = *pp)) {
		if (k->broken || sink_due(k)) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		sink_free(k);
	}
}

/* Persist @p[0..n) in one commit; on success advance the sinks. */
static int pend_commit(struct streams *ss, struct pend *p, size_t n,
		       struct err *e)
{
	struct store_change *c;
	size_t nc = 0;
	int rc;

	c = pend_changes(p, n, &nc);
	if (!c)
		return err_set(e, -ENOMEM, "out of memory flushing streams");
	rc = nc ? store_commit(ss->st, c, nc, e) : 0;
	free(c);
	if (rc)
		return rc;
	pthread_mutex_lock(&ss->mu);
	for (size_t i = 0; i < n; i++) {
		p[i].k->flushed = p[i].to;
		if (p[i].k->coded) {
			code_done(p[i].k, &p[i]);
			p[i].k->base = p[i].to;
		} else {
			sink_trim(p[i].k);
		}
	}
	closed_reap(ss);
	pthread_cond_broadcast(&ss->drained);
	pthread_mutex_unlock(&ss->mu);
	return 0;
}

/* A stale append: the stream's chunks are not what this sink wrote (its
 * execution was deleted).  Keep the bytes in memory only. */
static void sink_break(struct streams *ss, struct sink *k, const char *why)
{
	pthread_mutex_lock(&ss->mu);
	k->broken = true;
	pthread_mutex_unlock(&ss->mu);
	fprintf(stderr,
		"execfs: streams: %s of execution serial %" PRIu64
		" is no longer persisted (kept in memory): %s\n",
		stream_name(k->s), k->serial, why);
}

/* What pend_each() knows of each pend before any commit: a sink
 * persisted in full may be freed by the commit (closed_reap()). */
struct pend_of {
	uint64_t serial;
	bool log, coded;
	int rc;
};

/* Whether the log of @serial failed in this round (events wait for it). */
static bool log_failed(const struct pend_of *o, size_t n, uint64_t serial)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].log && o[i].serial == serial && o[i].rc)
			return true;
	return false;
}

/* Commit @p alone; a stale one breaks its sink.  Return: as pend_commit. */
static int pend_one(struct streams *ss, struct pend *p, struct err *e,
		    int *first)
{
	struct err one;
	int r;

	err_clear(&one);
	r = pend_commit(ss, p, 1, &one);
	if (r == -ESTALE)
		sink_break(ss, p->k, one.msg);
	else if (r && !*first && e)
		*e = one;
	if (r && r != -ESTALE && !*first)
		*first = r;
	return r;
}

/* The batch failed: commit sink by sink, to find the stale ones; the
 * logs first, and coded events only when their log's commit did not
 * fail (they refer to its bytes). */
static int pend_each(struct streams *ss, struct pend *p, size_t n,
		     struct err *e)
{
	struct pend_of *o = calloc(n, sizeof(*o));
	int rc = 0;

	if (!o)
		return err_set(e, -ENOMEM, "out of memory flushing streams");
	for (size_t i = 0; i < n; i++)
		o[i] = (struct pend_of){p[i].k->serial, p[i].k->s == PLANE_LOG,
					p[i].k->coded, 0};
	for (size_t i = 0; i < n; i++)
		if (o[i].log)
			o[i].rc = pend_one(ss, &p[i], e, &rc);
	for (size_t i = 0; i < n; i++) {
		if (o[i].log)
			continue;
		if (o[i].coded && log_failed(o, n, o[i].serial))
			rc = rc ? rc : err_set(e, -EIO, "events of execution "
					       "serial %" PRIu64 " wait for "
					       "its log", o[i].serial);
		else
			pend_one(ss, &p[i], e, &rc);
	}
	free(o);
	return rc;
}

/* One flush of every due sink (or of @only); flush_mu held. */
static int flush_locked(struct streams *ss, struct sink *only, struct err *e)
{
	struct pend *p = NULL;
	size_t n = 0;
	int rc;

	buf_reset(&ss->take);
	rc = pend_collect(ss, only, &p, &n);
	if (rc)
		return err_set(e, rc, "out of memory flushing streams");
	if (n == 0 && !only)
		buf_release(&ss->take);	/* idle: the memory goes back */
	if (n == 0)
		return 0;
	rc = pend_commit(ss, p, n, e);
	if (rc)
		rc = pend_each(ss, p, n, e);
	pend_free(p, n);
	return rc;
}

/* A flusher round; a failure is logged when it starts, not each round. */
static void flush_round(struct streams *ss)
{
	struct err e;
	int rc;

	err_clear(&e);
	pthread_mutex_lock(&ss->flush_mu);
	rc = flush_locked(ss, NULL, &e);
	if (rc && !ss->failing)
		fprintf(stderr, "execfs: streams: flush failed: %s\n", e.msg);
	ss->failing = rc != 0;
	pthread_mutex_lock(&ss->mu);
	ss->stalled = ss->failing;	/* no kicks: the interval paces retries */
	pthread_mutex_unlock(&ss->mu);
	pthread_mutex_unlock(&ss->flush_mu);
}

static void *flusher_main(void *arg)
{
	struct streams *ss = arg;
	struct timespec t;
	int rc;

	pthread_mutex_lock(&ss->mu);
	while (!ss->stopping) {
		thread_deadline_ms(&t, STREAMS_FLUSH_MS);
		rc = 0;
		while (!ss->stopping && !ss->kick && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&ss->wake, &ss->mu, &t);
		if (ss->stopping)
			break;
		ss->kick = false;
		pthread_mutex_unlock(&ss->mu);
		flush_round(ss);
		pthread_mutex_lock(&ss->mu);
	}
	pthread_mutex_unlock(&ss->mu);
	return NULL;
}

static int sync_init(struct streams *ss)
{
	int rc = thread_cond_init_mono(&ss->wake);

	if (rc)
		return -rc;
	if ((rc = thread_cond_init_mono(&ss->drained))) {
		pthread_cond_destroy(&ss->wake);
		return -rc;
	}
	rc = pthread_mutex_init(&ss->mu, NULL);
	if (!rc && (rc = pthread_mutex_init(&ss->flush_mu, NULL)))
		pthread_mutex_destroy(&ss->mu);
	if (rc) {
		pthread_cond_destroy(&ss->wake);
		pthread_cond_destroy(&ss->drained);
	}
	return -rc;
}

static void sync_destroy(struct streams *ss)
{
	pthread_cond_destroy(&ss->wake);
	pthread_cond_destroy(&ss->drained);
	pthread_mutex_destroy(&ss->flush_mu);
	pthread_mutex_destroy(&ss->mu);
}

int streams_new(struct streams **out, struct store *st)
{
	struct streams *ss = calloc(1, sizeof(*ss));
	int rc;

	if (!ss)
		return -ENOMEM;
	ss->st = st;
	buf_init(&ss->take, SIZE_MAX);
	rc = sync_init(ss);
	if (rc) {
		free(ss);
		return rc == -EAGAIN ? -EAGAIN : -ENOMEM;
	}
	rc = thread_start(&ss->flusher, NULL, flusher_main, ss);
	if (rc) {
		sync_destroy(ss);
		free(ss);
		return -EAGAIN;
	}
	ss->started = true;
	*out = ss;
	return 0;
}

void streams_free(struct streams *ss)
{
	struct sink *k;

	if (!ss)
		return;
	pthread_mutex_lock(&ss->mu);
	ss->stopping = true;
	pthread_cond_signal(&ss->wake);
	pthread_mutex_unlock(&ss->mu);
	if (ss->started)
		pthread_join(ss->flusher, NULL);
	/* The runs are stopped by now (header): no other thread is left to
	 * touch the lists, so reading ss->live unlocked here is safe. */
	while (ss->live)
		sink_close(ss->live);
	/* A last try for closed sinks that failed to persist. */
	pthread_mutex_lock(&ss->flush_mu);
	flush_locked(ss, NULL, NULL);
	pthread_mutex_unlock(&ss->flush_mu);
	while ((k = ss->closed)) {
		ss->closed = k->next;
		sink_free(k);
	}
	buf_release(&ss->take);
	sync_destroy(ss);
	free(ss);
}

void streams_set_notify(struct streams *ss, plane_stream_fn fn, void *ctx)
{
	ss->notify = fn;
	ss->notify_ctx = ctx;
}

/* Refuse a second sink; forget a closed one (the new sink supersedes
 * it).  Called with flush_mu held, so the closed one is not in a flush. */
static int open_claim(struct streams *ss, uint64_t serial, enum plane_stream s)
{
	struct sink *old;
	int rc = 0;

	pthread_mutex_lock(&ss->mu);
	if (sink_find(ss->live, serial, s)) {
		rc = -EBUSY;
	} else if ((old = sink_find(ss->closed, serial, s))) {
		sink_unlink(&ss->closed, old);
		sink_free(old);
	}
	pthread_mutex_unlock(&ss->mu);
	return rc;
}

/* The stored size of @s of @serial, and whether it is coded: events are,
 * unless an older version of execfs stored some plainly. */
static int stored_size(struct streams *ss, uint64_t serial,
		       enum plane_stream s, uint64_t *size, bool *coded)
{
	int rc = store_stream_size(ss->st, serial, (unsigned)s, size);

	*coded = false;
	if (rc || s != PLANE_EVENTS || *size)
		return rc;
	*coded = true;
	return store_stream_size(ss->st, serial, STORE_CODED, size);
}

int streams_open(struct streams *ss, uint64_t serial, enum plane_stream s,
		 uint64_t cap, struct sink **out)
{
	struct sink *k;
	uint64_t base = 0;
	int rc;

	if ((unsigned)s >= PLANE_STREAMS)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	/* flush_mu makes the check, the size and the insert one step for
	 * every other open, and keeps flushes of a closed one out. */
	pthread_mutex_lock(&ss->flush_mu);
	rc = open_claim(ss, serial, s);
	if (!rc)
		rc = stored_size(ss, serial, s, &base, &k->coded);
	if (!rc) {
		k->ss = ss;
		k->serial = serial;
		k->s = s;
		k->base = k->flushed = base;
		k->cap = cap;
		cap = cap > base && !k->coded ? cap - base : 0;
		buf_init(&k->mem, cap > SIZE_MAX ? SIZE_MAX : (size_t)cap);
		buf_init(&k->code, SIZE_MAX);	/* bounded by k->cap */
		pthread_mutex_lock(&ss->mu);
		k->next = ss->live;
		ss->live = k;
		pthread_mutex_unlock(&ss->mu);
	}
	pthread_mutex_unlock(&ss->flush_mu);
	if (rc) {
		free(k);
		return rc == -EBUSY || rc == -ENOMEM ? rc : -EIO;
	}
	*out = k;
	return 0;
}

/* Room for @n more bytes; ss->mu held. */
static bool sink_fits(const struct sink *k, uint64_t n)
{
	uint64_t end = sink_end_off(k);

	if (k->coded)
		return end <= k->cap && n <= k->cap - end;
	return n <= k->mem.cap - k->mem.len;
}

/* The events of a plain (older) stream: rendered.  ss->mu held. */
static int plain_lines(struct sink *k, const struct evc_line *l, size_t nl)
{
	size_t len0 = k->mem.len;
	int rc = 0;

	for (size_t i = 0; !rc && i < nl; i++)
		rc = evc_line_render(&l[i], &k->mem);
	if (rc)
		buf_truncate(&k->mem, len0);
	return rc;
}

/* Append: @p (@n bytes) as they are, or the line events @l[0..nl). */
static int append(struct sink *k, const char *p, size_t n,
		  const struct evc_line *l, size_t nl)
{
	struct streams *ss = k->ss;
	uint64_t size = n;
	int rc;

	for (size_t i = 0; i < nl; i++)
		size += evc_line_size(&l[i]);
	if (size == 0)
		return 0;
	pthread_mutex_lock(&ss->mu);
	if (!sink_fits(k, size))
		rc = -EFBIG;
	else if (k->coded)
		rc = nl ? code_lines(k, l, nl) : code_lit(k, p, n);
	else
		rc = nl ? plain_lines(k, l, nl) : buf_add(&k->mem, p, n);
	if (!rc)
		clock_gettime(CLOCK_REALTIME, &k->mtime);
	if (!rc && !ss->kick && !ss->stalled && !k->broken &&
	    sink_end_off(k) - k->flushed >= STREAMS_KICK) {
		ss->kick = true;
		pthread_cond_signal(&ss->wake);
	}
	pthread_mutex_unlock(&ss->mu);
	if (!rc)
		notify(ss, k->serial, k->s);
	return rc;
}

int sink_append_lines(struct sink *k, const struct evc_line *l, size_t nl)
{
	return append(k, NULL, 0, l, nl);
}

int sink_append(struct sink *k, const void *data, size_t n)
{
	return append(k, data, n, NULL, 0);
}

uint64_t sink_size(const struct sink *k)
{
	uint64_t n;

	pthread_mutex_lock(&k->ss->mu);
	n = sink_end_off(k);
	pthread_mutex_unlock(&k->ss->mu);
	return n;
}

uint64_t sink_room(const struct sink *k)
{
	uint64_t n, end;

	pthread_mutex_lock(&k->ss->mu);
	end = sink_end_off(k);
	if (k->coded)
		n = k->cap > end ? k->cap - end : 0;
	else
		n = k->mem.cap - k->mem.len;
	pthread_mutex_unlock(&k->ss->mu);
	return n;
}

uint64_t sink_backlog(const struct sink *k)
{
	uint64_t n;

	pthread_mutex_lock(&k->ss->mu);
	n = k->broken ? 0 : sink_end_off(k) - k->flushed;
	pthread_mutex_unlock(&k->ss->mu);
	return n;
}

void sink_wait_backlog(struct sink *k, uint64_t most, int ms)
{
	struct streams *ss = k->ss;
	struct timespec t;
	int rc = 0;

	thread_deadline_ms(&t, ms);
	pthread_mutex_lock(&ss->mu);
	while (!k->broken && sink_end_off(k) - k->flushed > most &&
	       rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&ss->drained, &ss->mu, &t);
	pthread_mutex_unlock(&ss->mu);
}

int sink_flush(struct sink *k, struct err *e)
{
	struct streams *ss = k->ss;
	bool broken;
	int rc;

	pthread_mutex_lock(&ss->flush_mu);
	rc = flush_locked(ss, k, e);
	pthread_mutex_unlock(&ss->flush_mu);
	if (rc)
		return rc == -ENOSPC ? rc : -EIO;
	pthread_mutex_lock(&ss->mu);
	broken = k->broken;
	pthread_mutex_unlock(&ss->mu);
	if (broken)
		return err_set(e, -EIO,
			       "%s of execution serial %" PRIu64
			       " cannot be persisted (its record was "
			       "deleted): it is kept in memory only",
			       stream_name(k->s), k->serial);
	return 0;
}

void sink_close(struct sink *k)
{
	struct streams *ss;
	uint64_t serial;
	enum plane_stream s;
	struct err e;
	bool keep;
	int rc;

	if (!k)
		return;
	ss = k->ss;
	serial = k->serial;
	s = k->s;
	err_clear(&e);
	pthread_mutex_lock(&ss->flush_mu);
	rc = flush_locked(ss, k, &e);
	pthread_mutex_lock(&ss->mu);
	k->done = true;
	sink_unlink(&ss->live, k);
	keep = k->broken || sink_due(k);
	if (keep) {
		k->next = ss->closed;
		ss->closed = k;
	}
	pthread_mutex_unlock(&ss->mu);
	pthread_mutex_unlock(&ss->flush_mu);
	if (rc)
		fprintf(stderr,
			"execfs: streams: %s of execution serial %" PRIu64
			" not persisted at close (kept in memory): %s\n",
			stream_name(s), serial, e.msg);
	notify(ss, serial, s);
	if (!keep)
		sink_free(k);
}

int streams_stat(struct streams *ss, uint64_t serial, enum plane_stream s,
		 uint64_t *size, struct timespec *mtime, bool *live)
{
	struct timespec zero = {0, 0};
	struct sink *k;
	uint64_t n = 0;
	bool coded;
	int rc;

	if ((unsigned)s >= PLANE_STREAMS)
		return -EINVAL;
	pthread_mutex_lock(&ss->mu);
	k = sink_lookup(ss, serial, s);
	if (k) {
		*size = sink_end_off(k);
		*mtime = k->mtime;
		*live = !k->done;
	}
	pthread_mutex_unlock(&ss->mu);
	if (k)
		return 0;
	rc = stored_size(ss, serial, s, &n, &coded);
	if (rc)
		return -EIO;
	*size = n;
	*mtime = zero;
	*live = false;
	return 0;
}

/* Copy from @k's memory; ss->mu held.  Return: bytes or buf errors. */
static ssize_t mem_copy(const struct sink *k, uint64_t off, size_t size,
			struct buf *out)
{
	uint64_t from = off - k->base;
	size_t n;
	int rc;

	if (from >= k->mem.len)
		return 0;
	n = k->mem.len - (size_t)from;
	if (n > size)
		n = size;
	rc = buf_add(out, k->mem.data + from, n);
	return rc ? rc : (ssize_t)n;
}

/* Read the store's bytes of @s: events plain (an older version's), else
 * coded. */
static ssize_t stored_read(struct streams *ss, uint64_t serial,
			   enum plane_stream s, uint64_t off, size_t size,
			   struct buf *out)
{
	ssize_t n = store_stream_read(ss->st, serial, (unsigned)s, off, size,
				      out);

	if (n != 0 || s != PLANE_EVENTS)
		return n;
	return code_read(ss, serial, off, size, out);
}

ssize_t streams_read(struct streams *ss, uint64_t serial, enum plane_stream s,
		     uint64_t off, size_t size, struct buf *out)
{
	size_t len0 = out->len, want;
	ssize_t n = 0, m;
	struct sink *k;
	uint64_t base = 0;
	struct snap sn;
	bool coded = false;

	if ((unsigned)s >= PLANE_STREAMS)
		return -EINVAL;
	if (size > SSIZE_MAX)
		size = SSIZE_MAX;
	pthread_mutex_lock(&ss->mu);
	k = sink_lookup(ss, serial, s);
	if (k)
		base = k->base;
	coded = k && k->coded && off >= base;
	if (coded)
		n = code_snap(k, off, size, &sn);
	else if (k && off >= base)
		n = mem_copy(k, off, size, out);
	pthread_mutex_unlock(&ss->mu);
	if (!k)
		return stored_read(ss, serial, s, off, size, out);
	if (coded)
		return n ? n : code_render(ss, serial, &sn, off, size, out);
	if (off >= base)
		return n;
	/* Before the sink's base the bytes are in the store only. */
	want = base - off < size ? (size_t)(base - off) : size;
	n = stored_read(ss, serial, s, off, want, out);
	if (n < 0 || (size_t)n < want || want == size)
		return n;
	m = streams_read(ss, serial, s, off + want, size - want, out);
	if (m < 0) {
		buf_truncate(out, len0);
		return m;
	}
	return n + m;
}

void sink_end(struct sink *k)
{
	pthread_mutex_lock(&k->ss->mu);
	k->done = true;
	pthread_mutex_unlock(&k->ss->mu);
}

void streams_end_all(struct streams *ss)
{
	enum plane_stream s = PLANE_LOG;
	uint64_t serial = 0;
	struct sink *k;

	/* One sink at a time, so the notify runs with no lock held. */
	do {
		pthread_mutex_lock(&ss->mu);
		for (k = ss->live; k && k->done; k = k->next)
			;
		if (k) {
			k->done = true;
			serial = k->serial;
			s = k->s;
		}
		pthread_mutex_unlock(&ss->mu);
		if (k)
			notify(ss, serial, s);
	} while (k);
}
