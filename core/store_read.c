/*
 * store_read.c - lookups and listings.  Each call runs one short read-only
 * transaction on the caller's thread and copies what it returns before the
 * transaction ends, so nothing handed back points into the LMDB map.
 * Streams are read the same way: a cursor finds the chunk holding an
 * offset and the bytes are copied across the chunks that follow it.
 */
#include "store_i.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Copy the record @k/@v out: body appended to @body, then the header. */
static int rec_copy(const MDB_val *k, const MDB_val *v, struct store_rec *hdr,
		    struct buf *body)
{
	struct store_rec h;
	size_t off;
	int rc = store_rec_decode(k, v, &h, &off);

	if (rc)
		return rc;
	if (body) {
		rc = buf_add(body, (const char *)v->mv_data + off,
			     v->mv_size - off);
		if (rc)
			return rc;
	}
	if (hdr)
		*hdr = h;
	return 0;
}

/* The record whose id is @k, inside @txn. */
static int rec_fetch(struct store *st, MDB_txn *txn, MDB_val *k,
		     struct store_rec *hdr, struct buf *body)
{
	MDB_val v;
	int rc = mdb_get(txn, st->rec, k, &v);

	if (rc)
		return store_errno(rc);
	return rec_copy(k, &v, hdr, body);
}

int store_get(struct store *st, const char *id, struct store_rec *hdr,
	      struct buf *body)
{
	MDB_val k = {0, NULL};
	MDB_txn *txn;
	int rc;

	k.mv_size = id ? strnlen(id, IDS_ID_MAX) : 0;
	if (k.mv_size == 0 || k.mv_size >= IDS_ID_MAX)
		return -ENOENT;
	k.mv_data = (void *)id;
	rc = store_rd_begin(st, &txn);
	if (rc)
		return rc;
	rc = rec_fetch(st, txn, &k, hdr, body);
	store_rd_end(st, txn);
	return rc;
}

/* Follow the index @dbi from key @k to the record it names. */
static int get_indexed(struct store *st, MDB_dbi dbi, MDB_val *k,
		       struct store_rec *hdr, struct buf *body)
{
	MDB_val id;
	MDB_txn *txn;
	int rc = store_rd_begin(st, &txn);

	if (rc)
		return rc;
	rc = mdb_get(txn, dbi, k, &id);
	if (rc)
		rc = store_errno(rc);
	else
		rc = rec_fetch(st, txn, &id, hdr, body);
	store_rd_end(st, txn);
	return rc;
}

int store_get_slug(struct store *st, unsigned kind, const char *slug,
		   struct store_rec *hdr, struct buf *body)
{
	unsigned char key[STORE_SLUGKEY_MAX];
	size_t len = slug ? strnlen(slug, SLUG_MAX + 1) : 0;
	MDB_val k;

	if (kind > 255 || len == 0 || len > SLUG_MAX)
		return -ENOENT;
	k.mv_size = store_slug_key(key, kind, slug, len);
	k.mv_data = key;
	return get_indexed(st, st->slug, &k, hdr, body);
}

int store_get_serial(struct store *st, uint64_t serial, struct store_rec *hdr,
		     struct buf *body)
{
	unsigned char key[8];
	MDB_val k = {sizeof(key), key};

	store_serial_key(key, serial);
	return get_indexed(st, st->serial, &k, hdr, body);
}

/* Hand the header of the record named by the index value @id to @fn. */
static int list_one(struct store *st, MDB_txn *txn, MDB_val *id,
		    int (*fn)(void *ctx, const struct store_rec *hdr),
		    void *ctx)
{
	struct store_rec h;
	int rc = rec_fetch(st, txn, id, &h, NULL);

	/* The index and the records change in one txn: a dangling entry is
	 * damage, not a race. */
	if (rc == -ENOENT)
		rc = -EIO;
	if (rc)
		return rc;
	return fn(ctx, &h);
}

static bool key_is(const MDB_val *k, const unsigned char *key, size_t len)
{
	return k->mv_size == len && memcmp(k->mv_data, key, len) == 0;
}

static bool key_of_kind(const MDB_val *k, unsigned kind)
{
	return k->mv_size > 1 && ((const unsigned char *)k->mv_data)[0] == kind;
}

/* Walk the slug index from @start (skipping it when @skip) over @kind. */
static int list_walk(struct store *st, MDB_txn *txn, MDB_cursor *cur,
		     MDB_val *start, bool skip, unsigned kind,
		     int (*fn)(void *ctx, const struct store_rec *hdr),
		     void *ctx)
{
	MDB_val k = *start, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	int rc;

	for (;; op = MDB_NEXT) {
		rc = mdb_cursor_get(cur, &k, &v, op);
		if (rc)
			return rc == MDB_NOTFOUND ? 0 : store_errno(rc);
		if (!key_of_kind(&k, kind))
			return 0;
		if (skip && key_is(&k, start->mv_data, start->mv_size))
			continue;
		rc = list_one(st, txn, &v, fn, ctx);
		if (rc)
			return rc;
	}
}

int store_list(struct store *st, unsigned kind, const char *after,
	       int (*fn)(void *ctx, const struct store_rec *hdr), void *ctx)
{
	unsigned char key[STORE_SLUGKEY_MAX];
	size_t len = after ? strnlen(after, SLUG_MAX) : 0;
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val start;
	int rc;

	if (kind > 255)
		return 0;
	start.mv_size = store_slug_key(key, kind, after ? after : "", len);
	start.mv_data = key;
	rc = store_rd_begin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, st->slug, &cur);
	if (rc)
		rc = store_errno(rc);
	else
		rc = list_walk(st, txn, cur, &start, len > 0, kind, fn, ctx);
	if (cur)
		mdb_cursor_close(cur);
	store_rd_end(st, txn);
	return rc;
}

/* Entries of the slug index whose kind byte is @kind. */
static int count_kind(struct store *st, MDB_txn *txn, unsigned kind, size_t *n)
{
	unsigned char key = (unsigned char)kind;
	MDB_val k = {1, &key}, v;
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, st->slug, &cur);

	if (rc)
		return store_errno(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && key_of_kind(&k, kind);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		(*n)++;
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_errno(rc);
}

size_t store_count(struct store *st, int kind)
{
	MDB_txn *txn;
	MDB_stat s;
	size_t n = 0;
	int rc;

	if (kind > 255)
		return 0;
	if (store_rd_begin(st, &txn) != 0)
		return 0;
	if (kind >= 0) {
		rc = count_kind(st, txn, (unsigned)kind, &n);
	} else {
		rc = mdb_stat(txn, st->rec, &s);
		n = rc ? 0 : s.ms_entries;
	}
	store_rd_end(st, txn);
	return rc ? 0 : n;
}

/* Whether @k is a chunk key of stream @stream of @serial. */
static bool chunk_of(const MDB_val *k, uint64_t serial, unsigned stream)
{
	unsigned char pre[STORE_CHUNKKEY_LEN];

	store_chunk_key(pre, serial, stream, 0);
	return k->mv_size == STORE_CHUNKKEY_LEN &&
	       memcmp(k->mv_data, pre, 9) == 0;
}

/*
 * Put @cur on the chunk of @serial/@stream at or before offset @off: the
 * first key from (serial, stream, off) on, stepping back one unless it is
 * exactly @off.  Return: 0 with @k/@v set, MDB_NOTFOUND when the stream
 * has no chunk starting at or before @off, or an LMDB code.
 */
static int chunk_seek(MDB_cursor *cur, uint64_t serial, unsigned stream,
		      uint64_t off, MDB_val *k, MDB_val *v)
{
	unsigned char key[STORE_CHUNKKEY_LEN];
	int rc;

	store_chunk_key(key, serial, stream, off);
	k->mv_size = sizeof(key);
	k->mv_data = key;
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && chunk_of(k, serial, stream) &&
	    store_chunk_off(k->mv_data) == off)
		return 0;
	/* Past the last key the cursor has no position to step back from. */
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, k, v, MDB_LAST);
	else if (rc == 0)
		rc = mdb_cursor_get(cur, k, v, MDB_PREV);
	if (rc == 0 && !chunk_of(k, serial, stream))
		rc = MDB_NOTFOUND;
	return rc;
}

int store_chunk_size(struct store *st, MDB_txn *txn, uint64_t serial,
		     unsigned stream, uint64_t *size)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, st->chunk, &cur);

	if (rc)
		return store_errno(rc);
	/* The last chunk of the stream starts before offset UINT64_MAX. */
	rc = chunk_seek(cur, serial, stream, UINT64_MAX, &k, &v);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND) {
		*size = 0;
		return 0;
	}
	if (rc)
		return store_errno(rc);
	*size = store_chunk_off(k.mv_data) + store_chunk_vlen(stream, &v);
	return 0;
}

int store_stream_size(struct store *st, uint64_t serial, unsigned stream,
		      uint64_t *size)
{
	MDB_txn *txn;
	uint64_t n = 0;
	int rc;

	if (stream >= STORE_STREAMS)
		return -EINVAL;
	rc = store_rd_begin(st, &txn);
	if (rc)
		return rc;
	rc = store_chunk_size(st, txn, serial, stream, &n);
	store_rd_end(st, txn);
	if (!rc)
		*size = n;
	return rc;
}

/* Copy from the chunk @k/@v on (at stream offset @off) and the chunks
 * that follow it, up to @max bytes.  Return: bytes copied or -errno. */
static ssize_t chunk_copy(MDB_cursor *cur, MDB_val *k, MDB_val *v,
			  uint64_t serial, unsigned stream, uint64_t off,
			  size_t max, struct buf *out)
{
	uint64_t at = store_chunk_off(k->mv_data);
	size_t done = 0, n;
	int rc = 0;

	while (done < max && rc == 0) {
		if (!chunk_of(k, serial, stream) || at > off ||
		    off - at >= v->mv_size)
			break;
		n = v->mv_size - (size_t)(off - at);
		if (n > max - done)
			n = max - done;
		rc = buf_add(out, (const char *)v->mv_data + (off - at), n);
		if (rc)
			return rc;
		done += n;
		off += n;
		rc = mdb_cursor_get(cur, k, v, MDB_NEXT);
		if (rc == 0)
			at = store_chunk_off(k->mv_data);
	}
	if (rc && rc != MDB_NOTFOUND)
		return store_errno(rc);
	return (ssize_t)done;
}

/* What a read does with the chunk at or before its offset. */
struct at_chunk {
	uint64_t serial, off;
	unsigned stream;
	size_t max;		/* plain reads */
	struct buf *out;
	uint64_t *start, *vlen;	/* coded reads */
};

static ssize_t coded_take(const MDB_val *k, const MDB_val *v,
			  const struct at_chunk *a);

/* Open a read, put a cursor on the chunk of @a at or before its offset,
 * and copy from there (@coded: that chunk's payload alone).
 * Return: as the copy; 0 when there is no such chunk. */
static ssize_t read_at(struct store *st, const struct at_chunk *a,
		       bool coded)
{
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, v;
	ssize_t n;
	int rc = store_rd_begin(st, &txn);

	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, st->chunk, &cur);
	if (!rc)
		rc = chunk_seek(cur, a->serial, a->stream, a->off, &k, &v);
	if (rc == 0 && coded)
		n = coded_take(&k, &v, a);
	else if (rc == 0)
		n = chunk_copy(cur, &k, &v, a->serial, a->stream, a->off,
			       a->max, a->out);
	else
		n = rc == MDB_NOTFOUND ? 0 : store_errno(rc);
	if (cur)
		mdb_cursor_close(cur);
	store_rd_end(st, txn);
	return n;
}

ssize_t store_stream_read(struct store *st, uint64_t serial, unsigned stream,
			  uint64_t off, size_t max, struct buf *out)
{
	struct at_chunk a = {serial, off, stream, max, out, NULL, NULL};
	size_t len0 = out->len;
	ssize_t n;

	if (stream >= STORE_STREAMS || stream == STORE_CODED)
		return -EINVAL;
	if (max > SSIZE_MAX)
		a.max = SSIZE_MAX;
	n = read_at(st, &a, false);
	/* All or nothing: a buf error leaves @out as it was. */
	if (n < 0)
		buf_truncate(out, len0);
	return n;
}

/* Append the payload of the coded chunk @k/@v if it holds the offset. */
static ssize_t coded_take(const MDB_val *k, const MDB_val *v,
			  const struct at_chunk *a)
{
	uint64_t at = store_chunk_off(k->mv_data);
	uint64_t n = store_chunk_vlen(STORE_CODED, v);
	int rc;

	if (v->mv_size <= STORE_CODED_HDR || a->off - at >= n)
		return 0;
	rc = buf_add(a->out, (const char *)v->mv_data + STORE_CODED_HDR,
		     v->mv_size - STORE_CODED_HDR);
	if (rc)
		return rc;
	*a->start = at;
	*a->vlen = n;
	return 1;
}

int store_stream_chunk(struct store *st, uint64_t serial, unsigned stream,
		       uint64_t off, struct buf *out, uint64_t *start,
		       uint64_t *vlen)
{
	struct at_chunk a = {serial, off, stream, 0, out, start, vlen};

	if (stream != STORE_CODED)
		return -EINVAL;
	return (int)read_at(st, &a, true);
}
