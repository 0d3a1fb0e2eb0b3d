/*
 * store_i.h - internals shared by the store's files: the handle, the
 * writer's queue entries, the record and key encodings, and the one place
 * LMDB codes become errnos.  Nothing here is visible outside core/store*.c.
 */
#ifndef EXECFS_STORE_I_H
#define EXECFS_STORE_I_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* Record value: this header, then the slug bytes, then the body. */
#define STORE_REC_FORMAT 2
#define STORE_REC_FIXED 45 /* format, kind, 4 x u64, uid, gid (u32),
			      mode (u16), slug length */
#define STORE_REC_FIXED_V1 35 /* format 1: no uid, gid, mode */
#define STORE_SLUGKEY_MAX (1 + SLUG_MAX)
#define STORE_CHUNKKEY_LEN 17 /* serial (8, BE), stream (1), offset (8, BE) */

/* One change set waiting for the writer; lives on the caller's stack. */
struct store_job {
	const struct store_change *c; /* borrowed: the caller waits */
	size_t n;
	int rc;			/* result, set by the writer */
	struct err err;		/* message when rc < 0 */
	bool done;		/* protected by store.mu */
	pthread_cond_t cv;	/* signalled when done is set */
	struct store_job *next; /* protected by store.mu */
};

struct store {
	MDB_env *env;
	MDB_dbi meta, rec, slug, serial, chunk, audit;
	uint64_t audit_max;
	int lock_fd;
	char dir[4096];

	/* Read txns hold it shared for their whole life; the writer holds
	 * it exclusive only to change the map size, which LMDB allows only
	 * while no transaction is active in the process. */
	pthread_rwlock_t resize;
	bool resize_init;
	size_t map_size; /* owned by the writer thread after open */
	size_t map_max;
	uint64_t serial_hi; /* owned by the writer: meta "serial" */

	/* The reserve for deletes (store_room.c); owned by the writer
	 * thread after open. */
	int reserve_fd;
	off_t reserve_have;
	off_t reserve_want;

	atomic_uint_fast64_t next_serial;
	atomic_uint_fast64_t commits;
	atomic_uint_fast64_t changesets;

	pthread_mutex_t mu;
	pthread_cond_t wake; /* the writer waits here for work (monotonic) */
	bool sync_init;
	struct store_job *head, *tail; /* protected by mu */
	bool stopping;		       /* protected by mu */
	unsigned idle_trims;	       /* memory given back; protected by mu */
	pthread_t writer;
	bool writer_started;
};

/**
 * store_errno() - the one translation of an LMDB result to an errno:
 * MDB_NOTFOUND -ENOENT, MDB_KEYEXIST -EEXIST, MDB_MAP_FULL and
 * MDB_TXN_FULL -ENOSPC, a positive (system) code -code, anything else is
 * logged and becomes -EIO.
 */
int store_errno(int rc);

/* A write that failed with EIO while the filesystem had less than this
 * free was a short write at its end (LMDB's word for it is EIO). */
#define STORE_ROOM_SLACK ((uint64_t)1 << 20)

/**
 * store_room_errno() - the errno of a failed write of the store, given the
 * bytes @avail still free on its filesystem: ENOSPC and EDQUOT, and EIO
 * with less than STORE_ROOM_SLACK free, are -ENOSPC; anything else is
 * store_errno(@rc).
 */
int store_room_errno(int rc, uint64_t avail);

/**
 * store_room_fail() - report the failed write @rc (an LMDB result) in @e:
 * a full filesystem is -ENOSPC with a message naming the state directory;
 * anything else is store_errno(@rc) with "@what: <reason>".
 * Return: the errno set in @e.
 */
int store_room_fail(struct store *st, int rc, struct err *e, const char *what);

/** store_room_low() - less than STORE_ROOM_SLACK free under the store. */
bool store_room_low(const struct store *st);

/**
 * store_room_open() - allocate LMDB's lock file, open the reserve file in
 * @dirfd and make it @want bytes if there is room.  Never fails: without
 * a reserve, deletes on a full filesystem may fail (logged).
 */
void store_room_open(struct store *st, int dirfd, size_t want);

/**
 * store_compact_clean() - remove what a compaction killed before its
 * rename left in the state directory @dirfd (a second copy of the store).
 * Call with the state directory's lock held.  Errors are ignored: the
 * next compaction removes it too.
 */
void store_compact_clean(int dirfd);

/** store_room_close() - close the reserve file (it stays on disk). */
void store_room_close(struct store *st);

/**
 * store_room_fill() - grow the reserve back to its size if there is room;
 * with @partly, to as much of it as fits.  Writer thread (or open).
 */
void store_room_fill(struct store *st, bool partly);

/**
 * store_room_release() - free the reserve's blocks for a delete.
 * Return: true when it held any.  Writer thread.
 */
bool store_room_release(struct store *st);

/** store_rd_begin() - a read-only txn, holding @st->resize shared. */
int store_rd_begin(struct store *st, MDB_txn **txn);

/** store_rd_end() - abort the read txn and release the resize lock. */
void store_rd_end(struct store *st, MDB_txn *txn);

/** store_u64_put() / store_u64_get() - little-endian u64 at @p. */
void store_u64_put(unsigned char *p, uint64_t v);
uint64_t store_u64_get(const unsigned char *p);

/** store_serial_key() - the 8-byte big-endian key of @serial. */
void store_serial_key(unsigned char out[8], uint64_t serial);

/** store_slug_key() - kind byte + slug; returns the key length. */
size_t store_slug_key(unsigned char out[STORE_SLUGKEY_MAX], unsigned kind,
		      const char *slug, size_t slug_len);

/** store_chunk_key() - the key of the chunk at @off of @stream of @serial. */
void store_chunk_key(unsigned char out[STORE_CHUNKKEY_LEN], uint64_t serial,
		     unsigned stream, uint64_t off);

/* A coded chunk's value: the bytes it stands for (8, BE), its payload. */
#define STORE_CODED_HDR 8

/**
 * store_chunk_vlen() - the stream bytes the chunk value @v of @stream
 * stands for: its size, or for STORE_CODED its header's count.
 */
uint64_t store_chunk_vlen(unsigned stream, const MDB_val *v);

/** store_chunk_off() - the offset in a chunk key (STORE_CHUNKKEY_LEN bytes). */
uint64_t store_chunk_off(const unsigned char *key);

/**
 * store_chunk_size() - bytes in stream @stream of @serial as seen by @txn
 * (read-only or write): the offset of its last chunk plus that chunk's
 * length.  Return: 0 and *size, -EIO.
 */
int store_chunk_size(struct store *st, MDB_txn *txn, uint64_t serial,
		     unsigned stream, uint64_t *size);

/**
 * store_rec_encode() - the value of a record (header and @len body bytes)
 * into @out, which must hold STORE_REC_FIXED + slug length + @len.
 * Return: bytes written.
 */
size_t store_rec_encode(unsigned char *out, const struct store_rec *h,
			const void *body, size_t len);

/** store_rec_size() - bytes store_rec_encode() will write. */
size_t store_rec_size(const struct store_rec *h, size_t len);

/**
 * store_rec_decode() - header of the value @v stored under key @k; the
 * body is at @v + *body_off.
 * Return: 0, -EIO when the value is malformed (logged).
 */
int store_rec_decode(const MDB_val *k, const MDB_val *v, struct store_rec *h,
		     size_t *body_off);

/* The meta key of note @name: "note." + name. */
#define STORE_NOTE_KEY_MAX 64

/** store_note_key() - the meta key of note @name; 0 when it is too long. */
size_t store_note_key(char *out, size_t cap, const char *name);

/**
 * store_audit_put() - add the audit line @line (@len bytes) in @txn and
 * drop the oldest lines beyond st->audit_max.  Return: 0 or an LMDB code.
 */
int store_audit_put(struct store *st, MDB_txn *txn, const void *line,
		    size_t len);

/** store_writer_start() - start the writer thread.  Return: 0, -errno. */
int store_writer_start(struct store *st, struct err *e);

/** store_writer_stop() - run what is queued, then join.  Idempotent. */
void store_writer_stop(struct store *st);

#endif
