/*
 * store_room.c - room on the state directory's filesystem.
 *
 * LMDB writes committed pages with pwrite(); when the filesystem fills in
 * the middle of a commit the write comes back short and LMDB reports EIO
 * (ENOSPC only when the very first byte did not fit).  The commit is then
 * aborted and nothing is lost, but the errno says "backend failure" where
 * DESIGN 1.4 wants ENOSPC: store_room_errno() tells the two apart by
 * asking the filesystem how much room is left.
 *
 * A delete needs room too: LMDB copies every page it changes, and the
 * pages a delete frees become reusable only two transactions later.  So
 * the store keeps a reserve, a file of STORE_RESERVE bytes
 * (execfs.reserve) allocated when there is room.  A change set made only of
 * deletes that fails for a full filesystem releases it and is tried once
 * more; the writer then grows the reserve back with whatever room is left,
 * and tops it up before every batch, so that ordinary writes never eat it.
 *
 * LMDB's lock file is written through a shared mapping: a page of it
 * first touched when the filesystem is full (a new reader slot) would
 * raise SIGBUS.  Its blocks are allocated at open.
 */
#include "store_i.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define RESERVE_NAME "execfs.reserve"
#define LMDB_LOCK_NAME "lock.mdb"
#define ROOM_STEP ((off_t)4096)

int store_room_errno(int rc, uint64_t avail)
{
	if (rc == ENOSPC || rc == EDQUOT)
		return -ENOSPC;
	if (rc == EIO && avail < STORE_ROOM_SLACK)
		return -ENOSPC;
	return store_errno(rc);
}

/* Bytes the daemon may still write on the state directory's filesystem;
 * UINT64_MAX when it cannot be told. */
static uint64_t room_avail(const struct store *st)
{
	struct statvfs sv;
	uint64_t blocks;

	if (statvfs(st->dir, &sv) != 0)
		return UINT64_MAX;
	/* Blocks kept for root are ours when we are root. */
	blocks = geteuid() == 0 ? sv.f_bfree : sv.f_bavail;
	return (uint64_t)blocks * sv.f_frsize;
}

bool store_room_low(const struct store *st)
{
	return room_avail(st) < STORE_ROOM_SLACK;
}

int store_room_fail(struct store *st, int rc, struct err *e, const char *what)
{
	uint64_t avail = room_avail(st);
	int code = store_room_errno(rc, avail);

	if (code != -ENOSPC || rc <= 0)
		return err_set(e, code, "%s: %s", what, mdb_strerror(rc));
	if (rc == EDQUOT)
		return err_set(e, code,
			       "the state directory '%s' is over its disk "
			       "quota (%s)",
			       st->dir, what);
	return err_set(e, code,
		       "the filesystem of the state directory '%s' is full "
		       "(%" PRIu64 " bytes free)",
		       st->dir, avail);
}

void store_room_close(struct store *st)
{
	if (st->reserve_fd >= 0)
		close(st->reserve_fd);
	st->reserve_fd = -1;
}

/* Try to make the reserve @size bytes.  Return: true when it is. */
static bool reserve_try(struct store *st, off_t size)
{
	struct stat sb;
	int rc;

	if (st->reserve_fd < 0)
		return false;
	rc = posix_fallocate(st->reserve_fd, 0, size);
	if (fstat(st->reserve_fd, &sb) == 0)
		st->reserve_have = sb.st_size;
	/* A failed attempt may leave a longer file on some filesystems;
	 * what it holds beyond the last good size is not counted on. */
	if (rc == 0) {
		st->reserve_have = size;
		return true;
	}
	if (st->reserve_have > size)
		st->reserve_have = size;
	if (rc != ENOSPC && rc != EDQUOT) {
		/* Not a matter of room: stop trying before every batch. */
		fprintf(stderr,
			"execfs: store: cannot allocate '%s/%s': %s; deletes "
			"may fail on a full filesystem\n",
			st->dir, RESERVE_NAME, strerror(rc));
		store_room_close(st);
	}
	return false;
}

void store_room_fill(struct store *st, bool partly)
{
	off_t lo, hi, mid;

	if (st->reserve_fd < 0 || st->reserve_have >= st->reserve_want)
		return;
	if (reserve_try(st, st->reserve_want) || !partly)
		return;
	/* Whatever fits: halve the step until a page. */
	lo = st->reserve_have;
	hi = st->reserve_want;
	while (hi - lo > ROOM_STEP) {
		mid = lo + (hi - lo) / 2 / ROOM_STEP * ROOM_STEP;
		if (mid <= lo)
			break;
		if (reserve_try(st, mid))
			lo = mid;
		else
			hi = mid;
	}
}

bool store_room_release(struct store *st)
{
	if (st->reserve_fd < 0 || st->reserve_have == 0)
		return false;
	if (ftruncate(st->reserve_fd, 0) != 0) {
		fprintf(stderr, "execfs: store: cannot release '%s/%s': %s\n",
			st->dir, RESERVE_NAME, strerror(errno));
		return false;
	}
	fprintf(stderr,
		"execfs: store: the filesystem of '%s' is full; a delete "
		"uses the reserve (%jd bytes)\n",
		st->dir, (intmax_t)st->reserve_have);
	st->reserve_have = 0;
	return true;
}

/* Allocate every block of LMDB's lock file (see the top of this file). */
static void lock_file_alloc(struct store *st, int dirfd)
{
	struct stat sb;
	int fd, rc = 0;

	fd = openat(dirfd, LMDB_LOCK_NAME, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0)
		rc = posix_fallocate(fd, 0, sb.st_size);
	if (rc && rc != EOPNOTSUPP)
		fprintf(stderr,
			"execfs: store: cannot allocate '%s/%s' (%s): a "
			"full filesystem may stop the daemon\n",
			st->dir, LMDB_LOCK_NAME, strerror(rc));
	close(fd);
}

void store_room_open(struct store *st, int dirfd, size_t want)
{
	struct stat sb;
	int fd;

	lock_file_alloc(st, dirfd);
	st->reserve_want = (off_t)want;
	fd = openat(dirfd, RESERVE_NAME,
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr,
			"execfs: store: no reserve '%s/%s': %s; deletes may "
			"fail on a full filesystem\n",
			st->dir, RESERVE_NAME, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	st->reserve_fd = fd;
	st->reserve_have = sb.st_size;
	store_room_fill(st, true);
	if (st->reserve_have < st->reserve_want)
		fprintf(stderr,
			"execfs: store: the filesystem of '%s' is full: the "
			"reserve for deletes has %jd of %jd bytes\n",
			st->dir, (intmax_t)st->reserve_have,
			(intmax_t)st->reserve_want);
}
