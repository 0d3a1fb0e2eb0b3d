/*
 * store_writer.c - the one writer thread and its group commit.
 *
 * store_commit() checks a change set's shape on the caller's thread, queues
 * it and sleeps.  The writer takes everything queued, opens one write
 * transaction and applies every change set in it.  Should one fail (a
 * precondition), the batch is aborted and applied again with each change
 * set in a nested transaction of its own: the failed one aborts only its
 * child, and only its caller hears of it.  Nesting is not the first try:
 * each child costs LMDB a 2 MiB and a 1 MiB list, malloc'd and freed
 * (see malloc_tune() in fs/main.c).  One mdb_txn_commit (LMDB's full
 * sync) then makes the whole batch durable, and every caller is woken
 * with its result.  Callers that arrive while a commit is syncing simply
 * form the next batch, so under load the cost of a sync is shared.
 *
 * When the map fills, the batch is aborted, the map doubled (up to the
 * configured maximum) and the batch retried.  LMDB allows resizing only
 * with no transaction open in the process, so readers hold the resize
 * rwlock shared and the writer takes it exclusively for the resize alone.
 * At the maximum a batch of several change sets is retried one by one, so
 * a small change is not refused for sharing a batch with a large one.
 *
 * A full filesystem fails a batch too (store_room.c turns the write error
 * into ENOSPC); the batch is split the same way, and a change set of
 * deletes alone is retried once with the reserve file's room released.
 *
 * A stream append is a chunk put at the stream's current size, checked in
 * the same transaction, so appends in one change set (or batch) see each
 * other, and a stale offset fails only its own change set (once nested).
 */
#include "store_i.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "thread.h"

#define IDLE_TRIM_MS 500L	/* quiet after a batch before memory goes back */

/* One attempt at a batch: its top transaction and what it learned. */
struct batch {
	struct store *st;
	MDB_txn *txn;
	uint64_t max_serial; /* highest serial in the batch so far */
	bool full;	     /* the map is full: abort, grow, retry */
	bool fsfull;	     /* the filesystem is full: abort (see why) */
	bool nest;	     /* each change set in a child transaction */
	struct err why;	     /* the message when fsfull */
};

/* How an attempt at a batch ended. */
enum batch_end {
	BATCH_DONE,	/* committed, or failed for good */
	BATCH_MAP_FULL, /* nothing committed; a larger map may do */
	BATCH_FS_FULL,	/* nothing committed; the filesystem is full */
};

/* A write of LMDB's that failed with the system error @rc. */
static int write_fail(struct batch *b, int rc, struct err *e, const char *what)
{
	int code = store_room_fail(b->st, rc, e, what);

	if (code == -ENOSPC) {
		b->fsfull = true;
		b->why = *e;
	}
	return code;
}

/* An LMDB failure inside a change set, reported as -errno in @e.  A
 * system error here comes from LMDB spilling pages of a large
 * transaction to disk. */
static int lmdb_fail(struct batch *b, int rc, struct err *e, const char *id)
{
	char what[IDS_ID_MAX + 16];

	if (rc == MDB_MAP_FULL)
		b->full = true;
	if (rc > 0) {
		snprintf(what, sizeof(what), "record '%s'", id);
		return write_fail(b, rc, e, what);
	}
	return err_set(e, store_errno(rc), "record '%s': %s", id,
		       mdb_strerror(rc));
}

static MDB_val id_key(const struct store_change *c)
{
	MDB_val k = {strnlen(c->hdr.id, IDS_ID_MAX), (void *)c->hdr.id};

	return k;
}

/* Store the value of record @h with @c's body, reserving it in place. */
static int rec_write(struct batch *b, MDB_txn *txn, const struct store_rec *h,
		     const struct store_change *c, unsigned flags,
		     struct err *e)
{
	MDB_val k = id_key(c), v = {store_rec_size(h, c->len), NULL};
	int rc = mdb_put(txn, b->st->rec, &k, &v, flags | MDB_RESERVE);

	if (rc == MDB_KEYEXIST)
		return err_set(e, -EEXIST, "record '%s' already exists", h->id);
	if (rc)
		return lmdb_fail(b, rc, e, h->id);
	store_rec_encode(v.mv_data, h, c->body, c->len);
	return 0;
}

/* Claim the slug and serial index entries for a new record. */
static int index_claim(struct batch *b, MDB_txn *txn,
		       const struct store_change *c, struct err *e)
{
	const struct store_rec *h = &c->hdr;
	unsigned char sk[STORE_SLUGKEY_MAX], nk[8];
	MDB_val id = id_key(c), k, v = id;
	int rc;

	k.mv_size = store_slug_key(sk, h->kind, h->slug, strlen(h->slug));
	k.mv_data = sk;
	rc = mdb_put(txn, b->st->slug, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return err_set(e, -EEXIST,
			       "slug '%s' is already used by '%.*s'", h->slug,
			       (int)v.mv_size, (const char *)v.mv_data);
	if (rc)
		return lmdb_fail(b, rc, e, h->id);
	store_serial_key(nk, h->serial);
	k.mv_size = sizeof(nk);
	k.mv_data = nk;
	v = id;
	rc = mdb_put(txn, b->st->serial, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return err_set(e, -EEXIST,
			       "record '%s': serial %" PRIu64
			       " is already in use",
			       h->id, h->serial);
	if (rc)
		return lmdb_fail(b, rc, e, h->id);
	return 0;
}

static int put_create(struct batch *b, MDB_txn *txn,
		      const struct store_change *c, uint64_t *max_serial,
		      struct err *e)
{
	struct store_rec h = c->hdr;
	int rc;

	h.gen = 1;
	rc = rec_write(b, txn, &h, c, MDB_NOOVERWRITE, e);
	if (!rc)
		rc = index_claim(b, txn, c, e);
	if (!rc && h.serial > *max_serial)
		*max_serial = h.serial;
	return rc;
}

/* The current header of record @c->hdr.id, checked against expect_gen. */
static int rec_current(struct batch *b, MDB_txn *txn,
		       const struct store_change *c, struct store_rec *old,
		       struct err *e)
{
	MDB_val k = id_key(c), v;
	size_t off;
	int rc = mdb_get(txn, b->st->rec, &k, &v);

	if (rc == MDB_NOTFOUND)
		return err_set(e, -ENOENT, "record '%s' does not exist",
			       c->hdr.id);
	if (rc)
		return lmdb_fail(b, rc, e, c->hdr.id);
	rc = store_rec_decode(&k, &v, old, &off);
	if (rc)
		return err_set(e, rc, "record '%s' is damaged", c->hdr.id);
	if (c->expect_gen && old->gen != c->expect_gen)
		return err_set(e, -ESTALE,
			       "record '%s' has changed (generation "
			       "%" PRIu64 ", expected %" PRIu64 ")",
			       c->hdr.id, old->gen, c->expect_gen);
	return 0;
}

/* Replace an existing record; the store owns gen and ctime. */
static int put_update(struct batch *b, MDB_txn *txn,
		      const struct store_change *c, struct err *e)
{
	struct store_rec old, h = c->hdr;
	int rc = rec_current(b, txn, c, &old, e);

	if (rc)
		return rc;
	if (old.kind != h.kind || old.serial != h.serial ||
	    strcmp(old.slug, h.slug) != 0)
		return err_set(e, -EINVAL,
			       "record '%s': kind, slug and serial "
			       "cannot change",
			       h.id);
	h.gen = old.gen + 1;
	h.ctime_ns = old.ctime_ns;
	return rec_write(b, txn, &h, c, 0, e);
}

/* Remove an index entry; one already missing is not an error. */
static int index_drop(struct batch *b, MDB_txn *txn, MDB_dbi dbi,
		      unsigned char *key, size_t len, struct err *e,
		      const char *id)
{
	MDB_val k = {len, key};
	int rc = mdb_del(txn, dbi, &k, NULL);

	if (rc && rc != MDB_NOTFOUND)
		return lmdb_fail(b, rc, e, id);
	return 0;
}

/* Drop every chunk of every stream of @serial: one key range.  The
 * cursor is put back on the range after each delete rather than trusting
 * its position after mdb_cursor_del. */
static int chunks_drop(struct batch *b, MDB_txn *txn, uint64_t serial,
		       struct err *e, const char *id)
{
	unsigned char pre[STORE_CHUNKKEY_LEN];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, b->st->chunk, &cur);

	store_chunk_key(pre, serial, 0, 0);
	for (; rc == 0; rc = mdb_cursor_del(cur, 0)) {
		k.mv_size = sizeof(pre);
		k.mv_data = pre;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc || k.mv_size != sizeof(pre) ||
		    memcmp(k.mv_data, pre, 8) != 0)
			break;
	}
	if (cur)
		mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return lmdb_fail(b, rc, e, id);
	return 0;
}

static int del_apply(struct batch *b, MDB_txn *txn,
		     const struct store_change *c, struct err *e)
{
	unsigned char sk[STORE_SLUGKEY_MAX], nk[8];
	struct store_rec old;
	MDB_val k = id_key(c);
	int rc = rec_current(b, txn, c, &old, e);

	if (rc)
		return rc;
	rc = mdb_del(txn, b->st->rec, &k, NULL);
	if (rc)
		return lmdb_fail(b, rc, e, c->hdr.id);
	rc =
	    index_drop(b, txn, b->st->slug, sk,
		       store_slug_key(sk, old.kind, old.slug, strlen(old.slug)),
		       e, c->hdr.id);
	if (rc)
		return rc;
	store_serial_key(nk, old.serial);
	rc = index_drop(b, txn, b->st->serial, nk, sizeof(nk), e, c->hdr.id);
	if (rc)
		return rc;
	return chunks_drop(b, txn, old.serial, e, c->hdr.id);
}

/* The value of @c's chunk into @to (reserved in the map): for a coded
 * stream its header first. */
static void chunk_fill(unsigned char *to, const struct store_change *c)
{
	if (c->stream == STORE_CODED) {
		store_serial_key(to, c->vlen);
		to += STORE_CODED_HDR;
	}
	memcpy(to, c->body, c->len);
}

/* Add a chunk at the stream's end; @c->off must be that end. */
static int append_apply(struct batch *b, MDB_txn *txn,
			const struct store_change *c, struct err *e)
{
	unsigned char key[STORE_CHUNKKEY_LEN];
	bool coded = c->stream == STORE_CODED;
	MDB_val k = {sizeof(key), key};
	MDB_val v = {c->len + (coded ? STORE_CODED_HDR : 0), NULL};
	uint64_t size = 0;
	int rc = store_chunk_size(b->st, txn, c->hdr.serial, c->stream, &size);

	if (rc)
		return err_set(e, rc,
			       "stream %u of serial %" PRIu64
			       ": cannot read its size",
			       c->stream, c->hdr.serial);
	if (size != c->off)
		return err_set(e, -ESTALE,
			       "stream %u of serial %" PRIu64 " has %" PRIu64
			       " bytes, an append at offset %" PRIu64
			       " does not follow",
			       c->stream, c->hdr.serial, size, c->off);
	store_chunk_key(key, c->hdr.serial, c->stream, c->off);
	rc = mdb_put(txn, b->st->chunk, &k, &v, MDB_NOOVERWRITE | MDB_RESERVE);
	if (rc == 0)
		chunk_fill(v.mv_data, c);
	if (rc == MDB_MAP_FULL)
		b->full = true;
	if (rc > 0)
		return write_fail(b, rc, e, "stream append");
	if (rc)
		return err_set(e, store_errno(rc),
			       "stream %u of serial %" PRIu64 ": %s", c->stream,
			       c->hdr.serial, mdb_strerror(rc));
	return 0;
}

/* Set a note in the meta database (shape checked in meta_check()). */
static int meta_apply(struct batch *b, MDB_txn *txn,
		      const struct store_change *c, struct err *e)
{
	char key[STORE_NOTE_KEY_MAX];
	MDB_val k = {0, key}, v = {c->len, (void *)c->body};
	int rc;

	k.mv_size = store_note_key(key, sizeof(key), c->hdr.id);
	rc = mdb_put(txn, b->st->meta, &k, &v, 0);
	if (rc)
		return lmdb_fail(b, rc, e, c->hdr.id);
	return 0;
}

/* Add an audit line (shape checked in change_check()). */
static int audit_apply(struct batch *b, MDB_txn *txn,
		       const struct store_change *c, struct err *e)
{
	int rc = store_audit_put(b->st, txn, c->body, c->len);

	if (rc)
		return lmdb_fail(b, rc, e, "audit");
	return 0;
}

static int change_apply(struct batch *b, MDB_txn *txn,
			const struct store_change *c, uint64_t *max_serial,
			struct err *e)
{
	if (c->op == STORE_DEL)
		return del_apply(b, txn, c, e);
	if (c->op == STORE_APPEND)
		return append_apply(b, txn, c, e);
	if (c->op == STORE_META)
		return meta_apply(b, txn, c, e);
	if (c->op == STORE_AUDIT)
		return audit_apply(b, txn, c, e);
	if (c->expect_gen == 0)
		return put_create(b, txn, c, max_serial, e);
	return put_update(b, txn, c, e);
}

/* Apply one change set: in a child of the batch's transaction when
 * b->nest, else in it (a failure then spoils the whole attempt). */
static int set_apply(struct batch *b, struct store_job *j)
{
	uint64_t max_serial = b->max_serial;
	MDB_txn *txn = b->txn;
	int rc = b->nest ? mdb_txn_begin(b->st->env, b->txn, 0, &txn) : 0;

	if (rc)
		return lmdb_fail(b, rc, &j->err, j->c[0].hdr.id);
	for (size_t i = 0; i < j->n && !rc; i++)
		rc = change_apply(b, txn, &j->c[i], &max_serial, &j->err);
	if (rc) {
		if (b->nest)
			mdb_txn_abort(txn);
		return rc;
	}
	rc = b->nest ? mdb_txn_commit(txn) : 0;
	if (rc)
		return lmdb_fail(b, rc, &j->err, j->c[0].hdr.id);
	b->max_serial = max_serial;
	return 0;
}

/* Record the highest serial so the counter never goes back on reopen. */
static int serial_save(struct batch *b)
{
	unsigned char buf[8];
	MDB_val k = {6, (void *)"serial"}, v = {sizeof(buf), buf};

	store_u64_put(buf, b->max_serial);
	return mdb_put(b->txn, b->st->meta, &k, &v, 0);
}

/* Serials committed by callers that did not reserve them still count. */
static void serial_raise(struct store *st, uint64_t hi)
{
	uint_fast64_t cur = atomic_load(&st->next_serial);

	while (cur <= hi &&
	       !atomic_compare_exchange_weak(&st->next_serial, &cur, hi + 1))
		;
}

static int batch_commit(struct batch *b, size_t applied, struct err *e)
{
	struct store *st = b->st;
	int rc = 0;

	if (b->max_serial > st->serial_hi)
		rc = serial_save(b);
	if (rc) {
		mdb_txn_abort(b->txn);
	} else {
		rc = mdb_txn_commit(b->txn);
	}
	if (rc == MDB_MAP_FULL)
		b->full = true;
	/* A write of the commit failed: a full filesystem is ENOSPC. */
	if (rc > 0)
		return write_fail(b, rc, e, "store commit failed");
	if (rc)
		return err_set(e, store_errno(rc), "store commit failed: %s",
			       mdb_strerror(rc));
	st->serial_hi = b->max_serial;
	serial_raise(st, b->max_serial);
	atomic_fetch_add(&st->commits, 1);
	atomic_fetch_add(&st->changesets, applied);
	return 0;
}

/* How a finished attempt @b ended. */
static enum batch_end batch_end_of(const struct batch *b)
{
	if (b->full)
		return BATCH_MAP_FULL;
	return b->fsfull ? BATCH_FS_FULL : BATCH_DONE;
}

/*
 * One attempt at the batch @jobs, unnested unless @nest.  Each job's rc
 * says how its change set fared.  Return: 0, or -errno for every job
 * still at 0 (message in @e); *end says whether the map or the filesystem
 * filled, *spoilt that one of several failed unnested (for either,
 * nothing was committed).
 */
static int batch_attempt(struct store *st, struct store_job *jobs,
			 bool nest, enum batch_end *end, bool *spoilt,
			 struct err *e)
{
	struct batch b = {.st = st, .max_serial = st->serial_hi, .nest = nest};
	size_t applied = 0;
	int rc = mdb_txn_begin(st->env, NULL, 0, &b.txn);

	*end = BATCH_DONE;
	*spoilt = false;
	if (rc)
		return err_set(e, store_errno(rc),
			       "cannot begin a store write: "
			       "%s",
			       mdb_strerror(rc));
	for (struct store_job *j = jobs; j && !b.full && !b.fsfull && !*spoilt;
	     j = j->next) {
		err_clear(&j->err);
		j->rc = set_apply(&b, j);
		applied += j->rc == 0;
		/* unnested, a failure took the others' changes with it */
		*spoilt = j->rc && !nest && jobs->next && !b.full &&
			  !b.fsfull;
	}
	if (*spoilt) {
		mdb_txn_abort(b.txn);
		return 0;
	}
	if (b.full || b.fsfull || applied == 0) {
		mdb_txn_abort(b.txn);
		/* Nothing was applied; a full map or filesystem is
		 * everyone's result. */
		for (struct store_job *j = jobs; j && (b.full || b.fsfull);
		     j = j->next)
			j->rc = 0;
		if (b.fsfull)
			*e = b.why;
		*end = batch_end_of(&b);
		return b.full || b.fsfull ? -ENOSPC : 0;
	}
	rc = batch_commit(&b, applied, e);
	*end = batch_end_of(&b);
	return rc;
}

/* The batch @jobs in one transaction; one of several that fails: again,
 * each in a child transaction. */
static int batch_try(struct store *st, struct store_job *jobs,
		     enum batch_end *end, struct err *e)
{
	bool spoilt;
	int rc = batch_attempt(st, jobs, false, end, &spoilt, e);

	return spoilt ? batch_attempt(st, jobs, true, end, &spoilt, e) : rc;
}

static void jobs_fail(struct store_job *jobs, int rc, const struct err *e)
{
	for (struct store_job *j = jobs; j; j = j->next) {
		if (j->rc)
			continue;
		j->rc = rc;
		j->err = *e;
	}
}

/* Double the map, up to map_max.  Return: 0, -ENOSPC at the maximum. */
static int map_grow(struct store *st, struct err *e)
{
	size_t want =
	    st->map_size > st->map_max / 2 ? st->map_max : st->map_size * 2;
	MDB_envinfo info = {0};
	int rc;

	if (st->map_size >= st->map_max)
		return err_set(e, -ENOSPC, "store is full (map size %zu bytes)",
			       st->map_size);
	pthread_rwlock_wrlock(&st->resize);
	rc = mdb_env_set_mapsize(st->env, want);
	if (!rc)
		rc = mdb_env_info(st->env, &info);
	pthread_rwlock_unlock(&st->resize);
	if (rc)
		return err_set(e, store_errno(rc),
			       "cannot grow the store map to "
			       "%zu bytes: %s",
			       want, mdb_strerror(rc));
	if (info.me_mapsize <= st->map_size)
		return err_set(e, -ENOSPC, "store is full (map size %zu bytes)",
			       st->map_size);
	st->map_size = info.me_mapsize;
	return 0;
}

static void batch_run(struct store *st, struct store_job *jobs);

/* At the map's limit: give each change set its own transaction. */
static void batch_split(struct store *st, struct store_job *jobs)
{
	struct store_job *next;

	for (struct store_job *j = jobs; j; j = next) {
		next = j->next;
		j->next = NULL;
		batch_run(st, j);
		j->next = next;
	}
}

/* A change set that only deletes (with its audit lines) may use the
 * reserve. */
static bool job_frees(const struct store_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->c[i].op != STORE_DEL && j->c[i].op != STORE_AUDIT)
			return false;
	return true;
}

/* Some change set of @jobs that was committed deleted something. */
static bool jobs_deleted(const struct store_job *jobs)
{
	for (const struct store_job *j = jobs; j; j = j->next)
		for (size_t i = 0; j->rc == 0 && i < j->n; i++)
			if (j->c[i].op == STORE_DEL)
				return true;
	return false;
}

/*
 * After a delete on a (nearly) full filesystem: one more small commit (the
 * serial counter, unchanged), because LMDB reuses a page only from the
 * second transaction after the one that freed it, and the next create
 * should find the delete's pages rather than a full filesystem.
 */
static void freed_publish(struct store *st)
{
	unsigned char buf[8];
	MDB_val k = {6, (void *)"serial"}, v = {sizeof(buf), buf};
	MDB_txn *txn = NULL;
	int rc;

	store_u64_put(buf, st->serial_hi);
	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (!rc)
		rc = mdb_put(txn, st->meta, &k, &v, 0);
	if (!rc) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (txn)
		mdb_txn_abort(txn);
	if (rc)
		fprintf(stderr,
			"execfs: store: cannot publish freed pages: %s\n",
			mdb_strerror(rc));
}

static void batch_run(struct store *st, struct store_job *jobs)
{
	enum batch_end end;
	bool released = false;
	struct err e;
	int rc;

	err_clear(&e);
	/* The reserve comes before any write: ordinary writes never eat
	 * the room deletes need. */
	store_room_fill(st, false);
	for (;;) {
		rc = batch_try(st, jobs, &end, &e);
		if (end == BATCH_MAP_FULL) {
			rc = map_grow(st, &e);
			if (rc == 0)
				continue;
		} else if (end == BATCH_FS_FULL && !jobs->next && !released &&
			   job_frees(jobs)) {
			released = store_room_release(st);
			if (released)
				continue;
		}
		if (end != BATCH_DONE && jobs->next) {
			/* At a limit: each change set on its own. */
			batch_split(st, jobs);
			return;
		}
		break;
	}
	if (rc == 0 && end == BATCH_DONE && jobs_deleted(jobs) &&
	    (released || store_room_low(st)))
		freed_publish(st);
	/* Take back what room the delete left. */
	if (released)
		store_room_fill(st, true);
	if (rc)
		jobs_fail(jobs, rc, &e);
}

/* Wake every caller of a finished batch; called with st->mu held. */
static void jobs_wake(struct store_job *jobs)
{
	struct store_job *next;

	for (struct store_job *j = jobs; j; j = next) {
		next = j->next;
		j->done = true;
		pthread_cond_signal(&j->cv);
	}
}

/*
 * Wait for jobs (with st->mu).  Once the writer has been idle for
 * IDLE_TRIM_MS after a batch, the memory freed meanwhile goes back to the
 * system (glibc keeps it in its arenas otherwise): after a burst of
 * changes, deletions too, the daemon's RssAnon returns near where it
 * was.  Under a steady load the wait never times out and costs nothing.
 */
static void wait_jobs(struct store *st, bool *trim)
{
	struct timespec until;

	thread_deadline_ms(&until, IDLE_TRIM_MS);
	while (!st->head && !st->stopping) {
		if (!*trim) {
			pthread_cond_wait(&st->wake, &st->mu);
			continue;
		}
		if (pthread_cond_timedwait(&st->wake, &st->mu, &until) !=
		    ETIMEDOUT || st->head)
			continue;
		*trim = false;
		st->idle_trims++;
		pthread_mutex_unlock(&st->mu);
		malloc_trim(0);
		pthread_mutex_lock(&st->mu);
	}
}

static void *writer_main(void *arg)
{
	struct store *st = arg;
	struct store_job *jobs;
	bool trim = false;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		wait_jobs(st, &trim);
		if (!st->head)
			break;
		jobs = st->head;
		st->head = st->tail = NULL;
		pthread_mutex_unlock(&st->mu);
		batch_run(st, jobs);
		pthread_mutex_lock(&st->mu);
		jobs_wake(jobs);
		trim = true;
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

int store_writer_start(struct store *st, struct err *e)
{
	int rc = thread_start(&st->writer, NULL, writer_main, st);

	if (rc)
		return err_set(e, -rc, "cannot start the store writer: %s",
			       strerror(rc));
	st->writer_started = true;
	return 0;
}

void store_writer_stop(struct store *st)
{
	pthread_mutex_lock(&st->mu);
	st->stopping = true;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
	if (st->writer_started) {
		pthread_join(st->writer, NULL);
		st->writer_started = false;
	}
}

/* The shape of an append: it names a serial and a stream, not an id. */
static int append_check(const struct store_change *c, struct err *e)
{
	if (c->hdr.serial == 0)
		return err_set(e, -EINVAL, "stream append: serial 0");
	if (c->stream >= STORE_STREAMS)
		return err_set(e, -EINVAL,
			       "serial %" PRIu64 ": no stream %u (streams "
			       "are 0..%u)",
			       c->hdr.serial, c->stream, STORE_STREAMS - 1);
	if (c->len == 0 || c->len > STORE_CHUNK_MAX)
		return err_set(e, -EINVAL,
			       "stream %u of serial %" PRIu64 ": append of "
			       "%zu bytes (1..%u allowed)",
			       c->stream, c->hdr.serial, c->len,
			       STORE_CHUNK_MAX);
	if (!c->body)
		return err_set(e, -EINVAL,
			       "stream %u of serial %" PRIu64 ": no bytes",
			       c->stream, c->hdr.serial);
	if (c->stream == STORE_CODED && c->vlen == 0)
		return err_set(e, -EINVAL,
			       "stream %u of serial %" PRIu64 ": a coded "
			       "chunk standing for no bytes",
			       c->stream, c->hdr.serial);
	return 0;
}

/* The shape of a note: a short name and a few bytes. */
static int meta_check(const struct store_change *c, struct err *e)
{
	char key[STORE_NOTE_KEY_MAX];
	size_t n = strnlen(c->hdr.id, IDS_ID_MAX);

	if (n == 0 || n >= IDS_ID_MAX ||
	    store_note_key(key, sizeof(key), c->hdr.id) == 0)
		return err_set(e, -EINVAL, "invalid note name");
	if (c->len == 0 || c->len > STORE_NOTE_MAX || !c->body)
		return err_set(e, -EINVAL, "note '%s': %zu bytes (1..%u "
			       "allowed)", c->hdr.id, c->len, STORE_NOTE_MAX);
	return 0;
}

/* The shape of one change, checked before it is queued. */
static int change_check(const struct store_change *c, struct err *e)
{
	size_t idlen = strnlen(c->hdr.id, IDS_ID_MAX);
	size_t slen = strnlen(c->hdr.slug, SLUG_MAX + 1);

	if (c->op == STORE_APPEND)
		return append_check(c, e);
	if (c->op == STORE_META)
		return meta_check(c, e);
	if (c->op == STORE_AUDIT)
		return c->len && c->len <= STORE_AUDIT_LINE_MAX && c->body ? 0 :
		       err_set(e, -EINVAL, "audit line of %zu bytes (1..%u "
			       "allowed)", c->len, STORE_AUDIT_LINE_MAX);
	if (idlen == 0 || idlen >= IDS_ID_MAX)
		return err_set(e, -EINVAL, "invalid record id");
	if (c->op == STORE_DEL)
		return 0;
	if (c->op != STORE_PUT)
		return err_set(e, -EINVAL, "record '%s': unknown operation %d",
			       c->hdr.id, (int)c->op);
	if (slen == 0 || slen > SLUG_MAX)
		return err_set(e, -EINVAL, "record '%s': invalid slug",
			       c->hdr.id);
	if (c->hdr.serial == 0)
		return err_set(e, -EINVAL, "record '%s': serial 0", c->hdr.id);
	if (c->len > STORE_BODY_MAX)
		return err_set(e, -EFBIG,
			       "record '%s': body of %zu bytes is "
			       "over the limit of %u",
			       c->hdr.id, c->len, STORE_BODY_MAX);
	if (c->len && !c->body)
		return err_set(e, -EINVAL, "record '%s': no body", c->hdr.id);
	return 0;
}

/* Queue @j and sleep until the writer has dealt with it. */
static int job_wait(struct store *st, struct store_job *j, struct err *e)
{
	int rc;

	pthread_mutex_lock(&st->mu);
	if (st->stopping) {
		pthread_mutex_unlock(&st->mu);
		return err_set(e, -EIO, "store is closing");
	}
	if (st->tail)
		st->tail->next = j;
	else
		st->head = j;
	st->tail = j;
	pthread_cond_signal(&st->wake);
	while (!j->done)
		pthread_cond_wait(&j->cv, &st->mu);
	rc = j->rc;
	pthread_mutex_unlock(&st->mu);
	if (rc && e)
		*e = j->err;
	return rc;
}

int store_commit(struct store *st, const struct store_change *c, size_t n,
		 struct err *e)
{
	struct store_job j;
	int rc;

	if (n == 0)
		return 0;
	if (!c)
		return err_set(e, -EINVAL, "no changes given");
	for (size_t i = 0; i < n; i++) {
		rc = change_check(&c[i], e);
		if (rc)
			return rc;
	}
	memset(&j, 0, sizeof(j));
	j.c = c;
	j.n = n;
	rc = pthread_cond_init(&j.cv, NULL);
	if (rc)
		return err_set(e, -rc, "cannot wait for the store writer");
	rc = job_wait(st, &j, e);
	pthread_cond_destroy(&j.cv);
	return rc;
}
