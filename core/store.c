/*
 * store.c - the store's life cycle: the state directory, the lock that
 * keeps a second daemon out, the LMDB environment and its named databases,
 * the schema check, and the small shared pieces (error translation, read
 * transactions, counters).
 *
 * The lock is a separate file, execfs.lock, held with flock() and taken
 * before LMDB is opened: LMDB lets two processes share an environment, and
 * must never be opened twice in one process, so it cannot be its own
 * guard.  The environment keeps LMDB's default, fully synchronous commits.
 * MDB_NOTLS ties read slots to transactions rather than threads, so any
 * FUSE worker can run a short read.  Reads live in store_read.c, the
 * byte layout in store_rec.c, writes in store_writer.c, and room on a
 * full filesystem in store_room.c.
 */
#include "store_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "thread.h"

#define MAP_INIT_DEFAULT ((size_t)64 << 20)
#define MAP_MAX_DEFAULT                                                        \
	((size_t)(SIZE_MAX > 0xffffffffu ? 64ull << 30 : 1ull << 30))
#define LOCK_NAME "execfs.lock"

int store_errno(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return -ENOSPC;
	}
	if (rc > 0)
		return -rc;
	fprintf(stderr, "execfs: store: lmdb: %s\n", mdb_strerror(rc));
	return -EIO;
}

int store_rd_begin(struct store *st, MDB_txn **txn)
{
	int rc = pthread_rwlock_rdlock(&st->resize);

	if (rc)
		return -rc;
	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
	if (rc) {
		pthread_rwlock_unlock(&st->resize);
		return store_errno(rc);
	}
	return 0;
}

void store_rd_end(struct store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&st->resize);
}

uint64_t store_next_serial(struct store *st)
{
	return atomic_fetch_add(&st->next_serial, 1);
}

void store_stats(struct store *st, uint64_t *commits, uint64_t *changesets)
{
	if (commits)
		*commits = atomic_load(&st->commits);
	if (changesets)
		*changesets = atomic_load(&st->changesets);
}

/* Create @dir and any missing parents, each 0700. */
static int mkdir_p(const char *dir, struct err *e)
{
	char path[sizeof(((struct store *)0)->dir)];
	size_t len = strlen(dir);

	if (len >= sizeof(path))
		return err_set(e, -ENAMETOOLONG,
			       "state directory path is too long");
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int rc = -errno;

			return err_set(e, rc, "cannot create '%s': %s", path,
				       strerror(-rc));
		}
		path[i] = i < len ? '/' : '\0';
	}
	return 0;
}

/* The pid written by the lock's holder; 0 when unreadable. */
static long lock_holder(int fd)
{
	char buf[32];
	char *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || pid <= 0)
		return 0;
	return pid;
}

/* Record our pid for the message a second daemon prints.  Failing to
 * write it only makes that message less useful, so it is not fatal. */
static void lock_note_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	/* Written over the old pid, then cut: no block is freed and taken
	 * again, so this works on a full filesystem. */
	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) != 0)
		fprintf(stderr, "execfs: store: cannot write pid to %s: %s\n",
			LOCK_NAME, strerror(errno));
}

static int lock_take(struct store *st, int dirfd, struct err *e)
{
	int fd, rc = 0;

	fd = openat(dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0) {
		rc = -errno;
		return err_set(e, rc, "cannot open '%s/%s': %s", st->dir,
			       LOCK_NAME, strerror(-rc));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		lock_note_pid(fd);
		st->lock_fd = fd;
		return 0;
	}
	rc = -errno;
	if (rc == -EWOULDBLOCK)
		rc = err_set(e, -EBUSY,
			     "state directory '%s' is in use by "
			     "another execfs (pid %ld)",
			     st->dir, lock_holder(fd));
	else
		rc = err_set(e, rc, "cannot lock '%s/%s': %s", st->dir,
			     LOCK_NAME, strerror(-rc));
	close(fd);
	return rc;
}

static int env_open(struct store *st, const struct store_opts *o, struct err *e)
{
	size_t init = o->map_init ? o->map_init : MAP_INIT_DEFAULT;
	MDB_envinfo info = {0};
	int rc, dead = 0;

	st->map_max = o->map_max ? o->map_max : MAP_MAX_DEFAULT;
	st->audit_max = o->audit_max ? o->audit_max : (uint64_t)16 << 20;
	if (init > st->map_max)
		init = st->map_max;
	rc = mdb_env_create(&st->env);
	if (rc) {
		st->env = NULL;
		goto out;
	}
	rc = mdb_env_set_maxdbs(st->env, 8);
	if (!rc)
		rc = mdb_env_set_maxreaders(st->env, 126);
	if (!rc)
		rc = mdb_env_set_mapsize(st->env, init);
	if (!rc)
		rc = mdb_env_open(st->env, st->dir, MDB_NOTLS, 0600);
	/* Slots left by a process killed inside a read txn. */
	if (!rc)
		rc = mdb_reader_check(st->env, &dead);
	if (!rc)
		rc = mdb_env_info(st->env, &info);
out:
	if (rc)
		return err_set(e, store_errno(rc),
			       "cannot open store in '%s': %s", st->dir,
			       mdb_strerror(rc));
	/* LMDB raises a too-small map to the size of the data already there. */
	st->map_size = info.me_mapsize;
	return 0;
}

static int schema_check(struct store *st, MDB_txn *txn, struct err *e)
{
	MDB_val k = {6, (void *)"schema"}, v;
	unsigned char buf[4];
	uint32_t ver;
	int rc;

	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		for (int i = 0; i < 4; i++)
			buf[i] =
			    (unsigned char)(STORE_SCHEMA_VERSION >> (8 * i));
		v.mv_size = sizeof(buf);
		v.mv_data = buf;
		rc = mdb_put(txn, st->meta, &k, &v, 0);
	}
	if (rc)
		return err_set(e, store_errno(rc),
			       "cannot read store schema: %s",
			       mdb_strerror(rc));
	if (v.mv_size != 4)
		return err_set(e, -EBADMSG,
			       "store schema version is unreadable");
	ver = 0;
	for (int i = 0; i < 4; i++)
		ver |= (uint32_t)((const unsigned char *)v.mv_data)[i]
		       << (8 * i);
	if (ver != STORE_SCHEMA_VERSION)
		return err_set(e, -EBADMSG,
			       "store schema version %u is not supported", ver);
	return 0;
}

/* The highest serial ever committed: meta "serial", or the last key of the
 * serial index should the two ever disagree. */
static int serial_load(struct store *st, MDB_txn *txn, uint64_t *hi)
{
	MDB_val k = {6, (void *)"serial"}, v;
	MDB_cursor *cur = NULL;
	int rc;

	*hi = 0;
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		*hi = store_u64_get(v.mv_data);
	else if (rc && rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_cursor_open(txn, st->serial, &cur);
	if (rc)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8) {
		uint64_t s = 0;

		for (int i = 0; i < 8; i++)
			s = s << 8 | ((const unsigned char *)k.mv_data)[i];
		if (s > *hi)
			*hi = s;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int dbs_open(struct store *st, MDB_txn *txn)
{
	int rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta);

	if (!rc)
		rc = mdb_dbi_open(txn, "rec", MDB_CREATE, &st->rec);
	if (!rc)
		rc = mdb_dbi_open(txn, "slug", MDB_CREATE, &st->slug);
	if (!rc)
		rc = mdb_dbi_open(txn, "serial", MDB_CREATE, &st->serial);
	/* Created here too in a state directory from before streams: the
	 * schema did not change, a database was only added. */
	if (!rc)
		rc = mdb_dbi_open(txn, "chunk", MDB_CREATE, &st->chunk);
	/* Added with the audit log, the same way. */
	if (!rc)
		rc = mdb_dbi_open(txn, "audit", MDB_CREATE, &st->audit);
	return rc;
}

/* Open the named databases, check the schema, load the serial counter:
 * one write txn, before the writer thread exists. */
static int db_setup(struct store *st, struct err *e)
{
	MDB_txn *txn = NULL;
	uint64_t hi = 0;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (!rc)
		rc = dbs_open(st, txn);
	if (!rc) {
		rc = schema_check(st, txn, e);
		if (rc)
			goto out;
		rc = serial_load(st, txn, &hi);
	}
	if (!rc) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (rc)
		rc = err_set(e, store_errno(rc),
			     "cannot set up store in '%s': %s", st->dir,
			     mdb_strerror(rc));
out:
	if (txn)
		mdb_txn_abort(txn);
	st->serial_hi = hi;
	atomic_init(&st->next_serial, hi + 1);
	return rc;
}

static int sync_init(struct store *st)
{
	pthread_rwlockattr_t a;
	int rc = pthread_rwlockattr_init(&a);

	if (rc)
		return -rc;
	/* Prefer the writer, so a map resize is not starved by a steady
	 * stream of readers.  Safe because no thread takes it twice. */
	pthread_rwlockattr_setkind_np(
	    &a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&st->resize, &a);
	pthread_rwlockattr_destroy(&a);
	if (rc)
		return -rc;
	st->resize_init = true;
	rc = pthread_mutex_init(&st->mu, NULL);
	if (rc)
		return -rc;
	rc = thread_cond_init_mono(&st->wake);
	if (rc) {
		pthread_mutex_destroy(&st->mu);
		return -rc;
	}
	st->sync_init = true;
	return 0;
}

static int store_alloc(struct store **out, const char *dir, struct err *e)
{
	struct store *st = calloc(1, sizeof(*st));
	int n, rc;

	if (!st)
		return err_set(e, -ENOMEM, "out of memory opening the store");
	st->lock_fd = -1;
	st->reserve_fd = -1;
	atomic_init(&st->commits, 0);
	atomic_init(&st->changesets, 0);
	n = snprintf(st->dir, sizeof(st->dir), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(st->dir)) {
		free(st);
		return err_set(e, -ENAMETOOLONG,
			       "state directory path is too long");
	}
	rc = sync_init(st);
	if (rc) {
		store_close(st);
		return err_set(e, rc, "cannot create store locks");
	}
	*out = st;
	return 0;
}

int store_open(struct store **out, const struct store_opts *o, struct err *e)
{
	struct store *st = NULL;
	int dirfd = -1, rc;

	if (!o || !o->dir || !o->dir[0])
		return err_set(e, -EINVAL, "no state directory given");
	rc = store_alloc(&st, o->dir, e);
	if (rc)
		return rc;
	rc = mkdir_p(st->dir, e);
	if (rc)
		goto out;
	dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = -errno;
		rc = err_set(e, rc, "cannot open state directory '%s': %s",
			     st->dir, strerror(-rc));
		goto out;
	}
	rc = lock_take(st, dirfd, e);
	if (!rc)
		store_compact_clean(dirfd);	/* left by a killed rotation */
	if (!rc)
		rc = env_open(st, o, e);
	if (!rc)
		store_room_open(st, dirfd, STORE_RESERVE);
	if (!rc)
		rc = db_setup(st, e);
	if (!rc)
		rc = store_writer_start(st, e);
	if (!rc) {
		*out = st;
		st = NULL;
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	store_close(st);
	return rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->sync_init)
		store_writer_stop(st);
	/* The env goes before the lock: the lock guards LMDB's files. */
	if (st->env)
		mdb_env_close(st->env);
	store_room_close(st);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	if (st->sync_init) {
		pthread_cond_destroy(&st->wake);
		pthread_mutex_destroy(&st->mu);
	}
	if (st->resize_init)
		pthread_rwlock_destroy(&st->resize);
	free(st);
}
