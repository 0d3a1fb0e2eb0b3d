/*
 * run_journal.c - a run's status at each task start, appended to
 * STATE/starts/<execution id> instead of committed.
 *
 * A task's start must be recorded before its process runs: a kill -9
 * must never find a started task PENDING, nor the task before it still
 * running.  A kill -9 of the daemon leaves the kernel's page cache as it
 * was, so a write() that returned is as good as a commit against it; only
 * a crash of the whole machine needs the commit's fdatasync, and such a
 * crash ends the run (interrupted) whatever was recorded.  So once the
 * run's IN_PROGRESS is committed (synced: a run found PENDING is started
 * again, so its first task's start must survive a power cut), each later
 * start appends the whole status to this file before the process is
 * asked for; the status is committed at most RUN_COMMIT_MS later, and
 * each commit empties the file.
 *
 * Record: struct jhead, then @len bytes of doc_encode()d status.  @stamp
 * is the mtime of the record the run committed last: a journal record
 * applies only while the stored record still has it, since every commit
 * of the run, and every other change of the record's content, sets a new
 * one (chmod and chown do not: they leave the status alone).  @sum,
 * BLAKE2b of @stamp and the body, finds a record a kill cut short.
 * Recovery takes the last whole record that decodes; the file is removed
 * once the run's end is stored.  Called with the run's lock held.
 */
#include "run_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define JOURNAL_DIR "starts"
#define JOURNAL_MAGIC 0x314a5845u	/* "EXJ1" */
#define JOURNAL_MAX (32u << 20)	/* beyond: the file is rewritten */
#define SUM_LEN 16
#define FILE_FLAGS (O_CLOEXEC | O_NOFOLLOW)

struct jhead {
	uint32_t magic;
	uint32_t len;
	int64_t stamp;
	unsigned char sum[SUM_LEN];
};

/* STATE/starts, made if missing (0700): a descriptor, or -errno. */
static int open_dir(const struct plane *p, bool make)
{
	int top = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd, rc = 0;

	if (top < 0)
		return -errno;
	if (make && mkdirat(top, JOURNAL_DIR, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	fd = rc ? -1 : openat(top, JOURNAL_DIR, O_RDONLY | O_DIRECTORY |
			      FILE_FLAGS);
	if (!rc && fd < 0)
		rc = -errno;
	close(top);
	return rc ? rc : fd;
}

static void sum_of(int64_t stamp, const void *body, size_t n,
		   unsigned char sum[SUM_LEN])
{
	crypto_generichash_state s;

	crypto_generichash_init(&s, NULL, 0, SUM_LEN);
	crypto_generichash_update(&s, (const void *)&stamp, sizeof(stamp));
	crypto_generichash_update(&s, body, n);
	crypto_generichash_final(&s, sum, SUM_LEN);
}

/* @name in STATE/starts, emptied: a descriptor for appends, or -errno. */
static int open_at(int dir, const char *name)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
			FILE_FLAGS, 0600);

	return fd < 0 ? -errno : fd;
}

/* Append one record to @fd.  Return: its size, or -errno. */
static ssize_t append(int fd, const struct jhead *h, const struct buf *body)
{
	struct iovec iov[2] = {
		{ (void *)h, sizeof(*h) }, { body->data, body->len },
	};
	ssize_t n;

	do
		n = writev(fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)(sizeof(*h) + body->len) ? n : -EIO;
}

/* A file of the one record @h, @body, renamed over the journal: a full
 * journal is replaced at once, never emptied first. */
static int rewrite(struct run *r, const struct jhead *h,
		   const struct buf *body)
{
	char tmp[IDS_ID_MAX + 8];
	int dir = open_dir(r->p, false);
	int fd = -1, rc = dir < 0 ? dir : 0;
	ssize_t n = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", r->id);
	if (rc == 0 && (fd = open_at(dir, tmp)) < 0)
		rc = fd;
	if (rc == 0 && (n = append(fd, h, body)) < 0)
		rc = (int)n;
	if (rc == 0 && renameat(dir, tmp, dir, r->id) < 0)
		rc = -errno;
	if (rc < 0 && fd >= 0) {
		close(fd);
		unlinkat(dir, tmp, 0);
	}
	if (dir >= 0)
		close(dir);
	if (rc < 0)
		return rc;
	close(r->jfd);
	r->jfd = fd;
	r->jsize = (size_t)n;
	return 0;
}

/* Take back a record that went in part (a failed append); a journal that
 * cannot be cut back is given up: the run commits from then on. */
static int cut_back(struct run *r, int rc)
{
	if (ftruncate(r->jfd, (off_t)r->jsize) == 0)
		return rc;
	close(r->jfd);
	r->jfd = -1;
	r->jbroken = true;
	return rc;
}

static int put_record(struct run *r, const struct buf *body)
{
	struct jhead h = { .magic = JOURNAL_MAGIC, .len = (uint32_t)body->len,
			   .stamp = r->rec.hdr.mtime_ns };
	ssize_t n;

	sum_of(h.stamp, body->data, body->len, h.sum);
	if (r->jsize > JOURNAL_MAX - sizeof(h) - body->len)
		return rewrite(r, &h, body);
	n = append(r->jfd, &h, body);
	if (n < 0)
		return cut_back(r, (int)n);
	r->jsize += (size_t)n;
	return 0;
}

/* The run's journal, made empty at its first use. */
static int journal_open(struct run *r)
{
	int dir = open_dir(r->p, true);
	int fd = dir < 0 ? dir : open_at(dir, r->id);

	if (dir >= 0)
		close(dir);
	if (fd < 0)
		return fd;
	r->jfd = fd;
	r->jsize = 0;
	r->jused = true;
	return 0;
}

int run_journal_put(struct run *r)
{
	struct buf body = BUF_INIT(JOURNAL_MAX - sizeof(struct jhead));
	int rc = r->jbroken ? -EIO : 0;

	if (rc == 0 && r->jfd < 0)
		rc = journal_open(r);
	if (rc == 0)
		rc = doc_encode(r->status, &body);
	if (rc == 0)
		rc = put_record(r, &body);
	buf_release(&body);
	return rc;
}

void run_journal_reset(struct run *r)
{
	if (r->jfd < 0 || r->jsize == 0)
		return;
	/* A record left (the cut failed) is stale: its stamp is older. */
	if (ftruncate(r->jfd, 0) == 0)
		r->jsize = 0;
}

void run_journal_close(struct run *r, bool remove)
{
	int dir;

	if (r->jfd >= 0)
		close(r->jfd);
	r->jfd = -1;
	if (!remove || (dir = open_dir(r->p, false)) < 0)
		return;
	unlinkat(dir, r->id, 0);
	close(dir);
}

/* The whole journal of @r, at most JOURNAL_MAX bytes. */
static int read_all(struct run *r, struct buf *out)
{
	char chunk[65536];
	ssize_t n;
	int dir = open_dir(r->p, false);
	int fd = dir < 0 ? dir : openat(dir, r->id, O_RDONLY | FILE_FLAGS);
	int rc = 0;

	if (dir >= 0 && fd < 0)
		fd = -errno;
	if (dir >= 0)
		close(dir);
	if (fd < 0)
		return fd;
	while (rc == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0)
		rc = n < 0 ? (errno == EINTR ? 0 : -errno) :
		     (size_t)n > JOURNAL_MAX - out->len ? -EFBIG :
		     buf_add(out, chunk, (size_t)n);
	close(fd);
	return rc;
}

/* The status of the last whole record of @stamp in @b that decodes, or
 * NULL (caller frees with doc_free()). */
static struct doc *last_of(const struct buf *b, int64_t stamp)
{
	unsigned char sum[SUM_LEN];
	struct doc *last = NULL, *d;
	struct jhead h;
	size_t at = 0, used;

	while (b->len - at >= sizeof(h)) {
		memcpy(&h, b->data + at, sizeof(h));
		at += sizeof(h);
		if (h.magic != JOURNAL_MAGIC || h.len > b->len - at)
			break;
		sum_of(h.stamp, b->data + at, h.len, sum);
		if (sodium_memcmp(sum, h.sum, SUM_LEN) != 0)
			break;
		if (h.stamp == stamp &&
		    doc_decode(b->data + at, h.len, &d, &used) == 0) {
			if (used == h.len && d->type == DOC_MAP) {
				doc_free(last);
				last = d;
			} else {
				doc_free(d);
			}
		}
		at += h.len;
	}
	return last;
}

int run_journal_replay(struct run *r, int64_t stamp)
{
	struct buf b = BUF_INIT(JOURNAL_MAX);
	struct doc *st;
	int rc = read_all(r, &b);

	st = rc == 0 ? last_of(&b, stamp) : NULL;
	buf_release(&b);
	if (!st)
		return rc == -ENOENT ? 0 : rc;
	doc_free(r->status);
	r->status = st;
	return 1;
}

/* ---- left behind ------------------------------------------------------ */

int run_journal_sweep(struct plane *p, bool (*keep)(struct plane *p,
						    const char *id))
{
	int dir = open_dir(p, false);
	struct dirent *de;
	DIR *d;

	if (dir == -ENOENT)
		return 0;
	if (dir < 0 || !(d = fdopendir(dir))) {
		if (dir >= 0)
			close(dir);
		return dir < 0 ? dir : -errno;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !keep(p, de->d_name))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return 0;
}
