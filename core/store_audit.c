/*
 * store_audit.c - the audit log's lines in the store: one entry per line
 * in the "audit" database, keyed by the line's offset in the log as if
 * nothing had ever been dropped (8 bytes, big-endian), so keys sort in
 * the order lines were added and the oldest are dropped as whole entries
 * once more than audit_max bytes are kept.  Readers see the kept lines
 * from offset 0.
 */
#include "store_i.h"

#include <errno.h>
#include <string.h>

static uint64_t key_off(const MDB_val *k)
{
	const unsigned char *p = k->mv_data;
	uint64_t v = 0;

	for (size_t i = 0; i < 8 && i < k->mv_size; i++)
		v = v << 8 | p[i];
	return v;
}

/* The offsets of the first kept byte and of the end, in @cur's txn. */
static int span(MDB_cursor *cur, uint64_t *first, uint64_t *end)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);

	if (rc == MDB_NOTFOUND) {
		*first = *end = 0;
		return 0;
	}
	if (rc)
		return rc;
	*end = key_off(&k) + v.mv_size;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (!rc)
		*first = key_off(&k);
	return rc;
}

/* Drop the oldest lines while more than st->audit_max bytes are kept;
 * the line at @newest stays whatever its size. */
static int trim(struct store *st, MDB_cursor *cur, uint64_t newest,
		uint64_t end)
{
	MDB_val k, v;
	int rc;

	for (;;) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc)
			return rc;
		if (key_off(&k) >= newest || end - key_off(&k) <= st->audit_max)
			return 0;
		rc = mdb_cursor_del(cur, 0);
		if (rc)
			return rc;
	}
}

int store_audit_put(struct store *st, MDB_txn *txn, const void *line,
		    size_t len)
{
	unsigned char key[8];
	MDB_cursor *cur = NULL;
	MDB_val k = {sizeof(key), key}, v = {len, (void *)line};
	uint64_t first, end;
	int rc = mdb_cursor_open(txn, st->audit, &cur);

	if (!rc)
		rc = span(cur, &first, &end);
	if (!rc) {
		store_serial_key(key, end);
		rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
	}
	if (!rc)
		rc = trim(st, cur, end, end + len);
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

/* A read txn and cursor on the audit lines, and their span; close with
 * span_end().  Return: 0 or an LMDB code. */
static int span_begin(struct store *st, MDB_txn **txn, MDB_cursor **cur,
		      uint64_t *first, uint64_t *end)
{
	int rc = store_rd_begin(st, txn);

	*cur = NULL;
	if (rc)
		return rc;
	rc = mdb_cursor_open(*txn, st->audit, cur);
	if (!rc)
		rc = span(*cur, first, end);
	return rc;
}

static void span_end(struct store *st, MDB_txn *txn, MDB_cursor *cur)
{
	if (cur)
		mdb_cursor_close(cur);
	store_rd_end(st, txn);
}

int store_audit_size(struct store *st, uint64_t *size)
{
	MDB_cursor *cur;
	MDB_txn *txn = NULL;
	uint64_t first = 0, end = 0;
	int rc = span_begin(st, &txn, &cur, &first, &end);

	if (txn)
		span_end(st, txn, cur);
	if (rc)
		return rc < 0 ? rc : store_errno(rc);
	*size = end - first;
	return 0;
}

/* Put @cur on the line holding offset @at (absolute), or fail. */
static int seek(MDB_cursor *cur, uint64_t at, MDB_val *k, MDB_val *v)
{
	unsigned char key[8];
	int rc;

	store_serial_key(key, at);
	k->mv_size = sizeof(key);
	k->mv_data = key;
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && key_off(k) == at)
		return 0;
	/* past it, or past every line: the line before holds @at */
	return mdb_cursor_get(cur, k, v, rc == 0 ? MDB_PREV : MDB_LAST);
}

static ssize_t copy_from(MDB_cursor *cur, uint64_t at, size_t max,
			 struct buf *out)
{
	MDB_val k, v;
	size_t done = 0, n;
	uint64_t lo;
	int rc = seek(cur, at, &k, &v);

	while (rc == 0 && done < max) {
		lo = key_off(&k);
		if (at < lo || at - lo >= v.mv_size)
			break;
		n = v.mv_size - (size_t)(at - lo);
		if (n > max - done)
			n = max - done;
		rc = buf_add(out, (const char *)v.mv_data + (at - lo), n);
		if (rc)
			return rc;
		done += n;
		at += n;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc && rc != MDB_NOTFOUND)
		return store_errno(rc);
	return (ssize_t)done;
}

ssize_t store_audit_read(struct store *st, uint64_t off, size_t max,
			 struct buf *out)
{
	MDB_cursor *cur;
	MDB_txn *txn = NULL;
	uint64_t first = 0, end = 0;
	ssize_t n = 0;
	int rc = span_begin(st, &txn, &cur, &first, &end);

	if (rc)
		n = rc < 0 ? rc : store_errno(rc);
	else if (off < end - first)
		n = copy_from(cur, first + off, max, out);
	if (txn)
		span_end(st, txn, cur);
	return n;
}
