/*
 * store.h - the durable store: an LMDB environment in the state directory.
 *
 * Records are opaque bodies keyed by resource id, with a small header the
 * store indexes: kind, slug (unique per kind, the slug index), serial (a
 * number that never repeats, used for inode numbers) and generation.  A
 * lock file keeps a second daemon out; a schema version is checked at
 * open.  The map grows by doubling up to a maximum, then writes fail with
 * -ENOSPC.  A full filesystem under the state directory fails writes with
 * -ENOSPC too (naming the directory), and deletes still work there: they
 * may use a reserve file the store keeps for them (execfs.reserve).
 *
 * Writes: store_commit() hands a change set to the one writer thread and
 * waits.  The writer takes every change set queued, applies each in its own
 * nested transaction (so one failing precondition does not fail the
 * others), commits once with a full sync, then wakes each caller with its
 * result.  A change is durable when store_commit() returns 0.
 *
 * Reads run in short read-only transactions on the caller's thread and copy
 * what they return.  All functions are thread-safe.
 */
#ifndef EXECFS_STORE_H
#define EXECFS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"
#include "ids.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_BODY_MAX (16u << 20)	/* one record body */

struct store;

struct store_opts {
	const char *dir;	/* state directory; created 0700 if missing */
	size_t map_init;	/* initial map size in bytes (0: 64 MiB) */
	size_t map_max;		/* growth limit in bytes (0: 64 GiB) */
	uint64_t audit_max;	/* bytes of audit lines kept (0: 16 MiB) */
};

/* Bytes of the state directory's filesystem kept for deletes. */
#define STORE_RESERVE ((size_t)256 << 10)

struct store_rec {
	uint8_t kind;
	uint64_t serial;	/* > 0 */
	uint64_t gen;		/* 1 at create, +1 per update */
	int64_t ctime_ns;	/* created, ns since the epoch */
	int64_t mtime_ns;	/* last update */
	uint32_t uid;		/* owner, group and mode bits (07777) */
	uint32_t gid;
	uint32_t mode;		/* 0 at create: the plane fills them in */
	char id[IDS_ID_MAX];
	char slug[SLUG_MAX + 1];
};

/* Owner and group of a record written before records had them (format
   1): the daemon's user stands in. */
#define STORE_OWNER_NONE UINT32_MAX

/**
 * store_open() - open (creating) the environment in o->dir.
 * Return: 0 and *out; -EBUSY when another daemon holds the lock (message
 *   names the directory and the holder's pid); -EBADMSG when the
 *   schema version is unknown; -EACCES, -ENOENT, -EIO with a message.
 */
int store_open(struct store **out, const struct store_opts *o, struct err *e);

/** store_close() - stop the writer (after draining), close.  NULL-safe. */
void store_close(struct store *st);

/**
 * store_get() - a record by id.
 * @hdr:  may be NULL.
 * @body: may be NULL; else the body is appended to it.
 * Return: 0, -ENOENT, -EIO, or buf errors.
 */
int store_get(struct store *st, const char *id, struct store_rec *hdr,
	      struct buf *body);

/** store_get_slug() - a record by kind and slug.  As store_get(). */
int store_get_slug(struct store *st, unsigned kind, const char *slug,
		   struct store_rec *hdr, struct buf *body);

/** store_get_serial() - a record by serial.  As store_get(). */
int store_get_serial(struct store *st, uint64_t serial,
		     struct store_rec *hdr, struct buf *body);

/**
 * store_list() - call @fn for each record of @kind in slug order, starting
 * after slug @after (NULL: from the start).  Only headers are read.  @fn
 * returns 0 to go on, non-zero to stop (store_list then returns that
 * value).  @fn must not call back into the store.
 * Return: 0, @fn's non-zero value, -EIO.
 */
int store_list(struct store *st, unsigned kind, const char *after,
	       int (*fn)(void *ctx, const struct store_rec *hdr), void *ctx);

/** store_count() - number of records of @kind (-1 for all kinds). */
size_t store_count(struct store *st, int kind);

/** store_next_serial() - reserve a serial number that was never used. */
uint64_t store_next_serial(struct store *st);

enum store_op {
	STORE_PUT,	/* insert or replace the record hdr.id */
	STORE_DEL,	/* delete the record hdr.id and every chunk of
			   its streams */
	STORE_APPEND,	/* add @len bytes of @body to stream @stream of
			   the record whose serial is hdr.serial (to
			   STORE_CODED: a chunk standing for @vlen) */
	STORE_META,	/* set the store's note named hdr.id (a short
			   name) to @len (1..STORE_NOTE_MAX) bytes of
			   @body; no precondition */
	STORE_AUDIT,	/* add @len (1..STORE_AUDIT_LINE_MAX) bytes of
			   @body as the next audit line; the oldest lines
			   are dropped while more than audit_max bytes
			   are kept (the newest line always stays); no
			   precondition */
};

#define STORE_AUDIT_LINE_MAX 8192	/* bytes of one audit line */

#define STORE_NOTE_MAX 256	/* bytes of one note */

#define STORE_STREAMS 3		/* stream numbers are 0, 1 and 2 */
/*
 * Stream STORE_CODED holds coded chunks: each stands for @vlen bytes of
 * the stream (offsets and sizes count those), its @len bytes are what the
 * caller decodes them from (store_stream_chunk()).
 */
#define STORE_CODED 2
#define STORE_CHUNK_MAX (1u << 20)	/* bytes of one STORE_APPEND */

struct store_change {
	enum store_op op;
	struct store_rec hdr;	/* PUT: full header; DEL: id is enough */
	const void *body;	/* PUT */
	size_t len;
	/* Precondition on the current record hdr.id:
	 *   PUT with expect_gen 0: must not exist, and (kind, slug) must be
	 *     free (else -EEXIST);
	 *   PUT with expect_gen g: must exist with gen g (-ENOENT / -ESTALE);
	 *     kind, slug and serial must not change (-EINVAL);
	 *   DEL with expect_gen 0: must exist (-ENOENT);
	 *   DEL with expect_gen g: must exist with gen g (-ESTALE).
	 *   APPEND: @off must equal the stream's stored size (-ESTALE),
	 *     @len must be 1..STORE_CHUNK_MAX, @stream below
	 *     STORE_STREAMS and, for STORE_CODED, @vlen at least 1
	 *     (-EINVAL); the record itself is not checked
	 *     (the run that writes a stream may outlive a delete: its
	 *     chunks are then dropped by the next DEL of that serial or
	 *     never read). */
	uint64_t expect_gen;
	unsigned stream;	/* APPEND */
	uint64_t off;		/* APPEND */
	uint64_t vlen;		/* APPEND to STORE_CODED */
};

/**
 * store_commit() - apply @n changes atomically (all or none) and durably.
 * Blocks until the group commit that carries them is synced.
 * Return: 0; a precondition errno as above (nothing applied, message in
 *   @e names the id/slug); -ENOSPC when the map is at its maximum or the
 *   state directory's filesystem is full (a change set of deletes only
 *   may use the reserve first); -EIO.
 */
int store_commit(struct store *st, const struct store_change *c, size_t n,
		 struct err *e);

/*
 * Streams: per record serial, up to STORE_STREAMS append-only byte streams
 * (an execution's log and events), kept as chunks keyed by (serial,
 * stream, offset) in their own database.  Appends go through
 * store_commit() like every write.
 */

/**
 * store_stream_size() - bytes stored in stream @stream of @serial (0 when
 * it has none).  Return: 0 and *size; -EINVAL (@stream); -EIO.
 */
int store_stream_size(struct store *st, uint64_t serial, unsigned stream,
		      uint64_t *size);

/**
 * store_stream_read() - append to @out up to @max bytes of stream @stream
 * of @serial, from offset @off (a read may span chunks).
 * Return: bytes appended (0 at or past the end); -EINVAL (also for
 *   STORE_CODED); -EIO; buf errors.
 */
ssize_t store_stream_read(struct store *st, uint64_t serial, unsigned stream,
			  uint64_t off, size_t max, struct buf *out);

/**
 * store_stream_chunk() - the chunk of the coded stream @stream of @serial
 * that holds offset @off: its bytes appended to @out, *start the offset
 * it begins at and *vlen the bytes it stands for.
 * Return: 1; 0 when @off is at or past the end (nothing appended);
 *   -EINVAL (@stream is not coded); -EIO; buf errors.
 */
int store_stream_chunk(struct store *st, uint64_t serial, unsigned stream,
		       uint64_t off, struct buf *out, uint64_t *start,
		       uint64_t *vlen);

/*
 * The audit log: lines kept in their own database, each keyed by its
 * offset in the log as if nothing had been dropped (8 bytes, big-endian),
 * so the oldest are dropped as whole entries.  Offsets below are relative
 * to the first line still kept.
 */

/** store_audit_size() - bytes of audit lines kept.  Return: 0, -EIO. */
int store_audit_size(struct store *st, uint64_t *size);

/**
 * store_audit_read() - append to @out up to @max bytes of the kept audit
 * lines from offset @off (relative to the oldest line kept).
 * Return: bytes appended (0 at or past the end); -EIO; buf errors.
 */
ssize_t store_audit_read(struct store *st, uint64_t off, size_t max,
			 struct buf *out);

/*
 * For offline tools (key rotation), with the state directory's lock held
 * by this process and nothing else writing.
 */

/**
 * store_list_all() - call @fn with the header of every record, of every
 * kind, in id order, from the records themselves (not an index).  As
 * store_list() otherwise.
 */
int store_list_all(struct store *st,
		   int (*fn)(void *ctx, const struct store_rec *hdr), void *ctx);

/**
 * store_meta_get() - append the note @name (set by STORE_META) to @out.
 * Return: 0; -ENOENT when it was never set; -EINVAL; -EIO; buf errors.
 */
int store_meta_get(struct store *st, const char *name, struct buf *out);

/**
 * store_compact() - rewrite data.mdb with only its live pages, so no byte
 * of an overwritten or deleted value stays in the file: a copy is written
 * to STATE/compact.tmp, synced, and renamed over data.mdb.  Call with no
 * commit running and close the store right after (the handle still maps
 * the old file).  A crash leaves the old or the new file, whole.
 * Return: 0; -ENOSPC and other -errno from the copy, with a message.
 */
int store_compact(struct store *st, struct err *e);

/** store_stats() - counters for benchmarks: commits and change sets. */
void store_stats(struct store *st, uint64_t *commits, uint64_t *changesets);

#endif
