/*
 * store_admin.c - what offline tools need from the store (key rotation):
 * a walk over every record however it is indexed, the store's notes (small
 * named values kept beside the schema version, written with STORE_META),
 * and a compacting rewrite of the data file.
 *
 * LMDB copies pages on write and never clears a freed page, so bytes a
 * record held before an update stay in data.mdb until the page is reused.
 * store_compact() writes a copy with only the live pages and renames it
 * over data.mdb while the state directory's lock is held: a crash leaves
 * either file, and both hold the same records.
 */
#include "store_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMPACT_DIR "compact.tmp"
#define DATA_NAME "data.mdb"

int store_list_all(struct store *st,
		   int (*fn)(void *ctx, const struct store_rec *hdr), void *ctx)
{
	MDB_cursor *cur = NULL;
	struct store_rec h;
	MDB_txn *txn;
	MDB_val k, v;
	size_t off;
	int rc = store_rd_begin(st, &txn);

	if (rc)
		return rc;
	rc = mdb_cursor_open(txn, st->rec, &cur);
	if (rc) {
		rc = store_errno(rc);
		goto out;
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		rc = store_rec_decode(&k, &v, &h, &off);
		if (rc == 0)
			rc = fn(ctx, &h);
		if (rc)
			goto out;
	}
	rc = rc == MDB_NOTFOUND ? 0 : store_errno(rc);
out:
	if (cur)
		mdb_cursor_close(cur);
	store_rd_end(st, txn);
	return rc;
}

size_t store_note_key(char *out, size_t cap, const char *name)
{
	int n = snprintf(out, cap, "note.%s", name);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int store_meta_get(struct store *st, const char *name, struct buf *out)
{
	char key[STORE_NOTE_KEY_MAX];
	MDB_val k = {0, key}, v;
	MDB_txn *txn;
	int rc;

	k.mv_size = store_note_key(key, sizeof(key), name);
	if (k.mv_size == 0)
		return -EINVAL;
	rc = store_rd_begin(st, &txn);
	if (rc)
		return rc;
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0)
		rc = buf_add(out, v.mv_data, v.mv_size);
	else
		rc = store_errno(rc);
	store_rd_end(st, txn);
	return rc;
}

/* Remove what a compaction that stopped half way left in @dirfd. */
void store_compact_clean(int dirfd)
{
	unlinkat(dirfd, COMPACT_DIR "/" DATA_NAME, 0);
	unlinkat(dirfd, COMPACT_DIR "/lock.mdb", 0);
	unlinkat(dirfd, COMPACT_DIR, AT_REMOVEDIR);
}

/* Make the copy's bytes durable and private before it replaces data.mdb. */
static int compact_sync(int dirfd)
{
	int fd = openat(dirfd, COMPACT_DIR "/" DATA_NAME,
			O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 || fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int compact_copy(struct store *st, int dirfd, struct err *e)
{
	char tmp[sizeof(st->dir) + sizeof(COMPACT_DIR) + 1];
	int n, rc;

	n = snprintf(tmp, sizeof(tmp), "%s/%s", st->dir, COMPACT_DIR);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return err_set(e, -ENAMETOOLONG, "state directory path is "
			       "too long");
	store_compact_clean(dirfd);
	if (mkdirat(dirfd, COMPACT_DIR, 0700) < 0) {
		rc = -errno;
		return err_set(e, rc, "cannot create '%s': %s", tmp,
			       strerror(-rc));
	}
	rc = mdb_env_copy2(st->env, tmp, MDB_CP_COMPACT);
	if (rc)
		return err_set(e, store_errno(rc), "cannot write a compacted "
			       "copy of the store to '%s': %s", tmp,
			       mdb_strerror(rc));
	rc = compact_sync(dirfd);
	if (rc)
		return err_set(e, rc, "cannot sync '%s/%s': %s", tmp,
			       DATA_NAME, strerror(-rc));
	return 0;
}

int store_compact(struct store *st, struct err *e)
{
	int dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (dirfd < 0) {
		rc = -errno;
		return err_set(e, rc, "cannot open state directory '%s': %s",
			       st->dir, strerror(-rc));
	}
	rc = compact_copy(st, dirfd, e);
	if (rc == 0 && renameat(dirfd, COMPACT_DIR "/" DATA_NAME, dirfd,
				DATA_NAME) < 0) {
		rc = -errno;
		err_set(e, rc, "cannot replace '%s/%s': %s", st->dir,
			DATA_NAME, strerror(-rc));
	}
	if (rc == 0 && fsync(dirfd) < 0) {
		rc = -errno;
		err_set(e, rc, "cannot sync state directory '%s': %s", st->dir,
			strerror(-rc));
	}
	store_compact_clean(dirfd);
	close(dirfd);
	return rc;
}
