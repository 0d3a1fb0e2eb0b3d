/*
 * run_journal.c - a run's status at each task start, appended to
 * STATE/starts/<execution id> instead of committed.
 *
 * A task's start must be recorded before its process runs: a kill -9
 * must never find a started task PENDING, nor a finished one still
 * running.  A kill -9 of the daemon leaves the kernel's page cache as it
 * was, so a write() that returned is as good as a commit for it; only a
 * crash of the whole machine needs the commit's fdatasync, and such a
 * crash ends the run (interrupted) whatever was recorded.  So once the
 * run's IN_PROGRESS is committed (synced: a run found PENDING is started
 * again, so its first task's start must survive a power cut), each later
 * start appends the whole status to this file and lets the process run;
 * the status is committed RUN_COMMIT_MS later or before a blocking wait,
 * and each commit empties the file.
 *
 * Record: struct jhead, then @len bytes of doc_encode()d status.  @gen is
 * the generation of the record the run committed last; a journal record
 * applies only to a stored record of that very generation (a commit
 * after it, whether the file was emptied or not, makes it stale).  @mac,
 * BLAKE2b of @gen and the body, finds a record a kill cut short.
 * Recovery takes the last whole record; the file is removed when the run
 * ends.
 */
#include "run_i.h"

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
#define JOURNAL_MAX (32u << 20)	/* beyond: commit instead */
#define MAC_LEN 16

struct jhead {
	uint32_t magic;
	uint32_t len;
	uint64_t gen;
	unsigned char mac[MAC_LEN];
};

static int journal_path(const struct plane *p, const char *id, char *out,
			size_t cap)
{
	int n = snprintf(out, cap, "%s/" JOURNAL_DIR "/%s", p->state_dir, id);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static void mac_of(uint64_t gen, const void *body, size_t n,
		   unsigned char mac[MAC_LEN])
{
	crypto_generichash_state s;

	crypto_generichash_init(&s, NULL, 0, MAC_LEN);
	crypto_generichash_update(&s, (const void *)&gen, sizeof(gen));
	crypto_generichash_update(&s, body, n);
	crypto_generichash_final(&s, mac, MAC_LEN);
}

/* The run's journal, opened empty at its first use. */
static int journal_open(struct run *r)
{
	char path[PATH_MAX], dir[PATH_MAX];

	if (r->jfd >= 0)
		return 0;
	if (snprintf(dir, sizeof(dir), "%s/" JOURNAL_DIR,
		     r->p->state_dir) >= (int)sizeof(dir) ||
	    journal_path(r->p, r->id, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	r->jfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
			    O_CLOEXEC | O_NOFOLLOW, 0600);
	r->jsize = 0;
	return r->jfd < 0 ? -errno : 0;
}

/* Cut a record short back off (a failed or partial append). */
static int journal_cut(struct run *r)
{
	if (ftruncate(r->jfd, (off_t)r->jsize) == 0)
		return -EIO;
	close(r->jfd);		/* what it holds is not known: no more use */
	r->jfd = -1;
	r->jbroken = true;
	return -EIO;
}

int run_journal_put(struct run *r)
{
	struct buf body = BUF_INIT(STORE_BODY_MAX);
	struct jhead h = { .magic = JOURNAL_MAGIC, .gen = r->rec.hdr.gen };
	struct iovec iov[2];
	ssize_t n;
	int rc = r->jbroken ? -EIO : journal_open(r);

	if (rc == 0)
		rc = doc_encode(r->status, &body);
	if (rc == 0 && (body.len > UINT32_MAX ||
			r->jsize + sizeof(h) + body.len > JOURNAL_MAX))
		rc = -EFBIG;
	if (rc == 0) {
		h.len = (uint32_t)body.len;
		mac_of(h.gen, body.data, body.len, h.mac);
		iov[0] = (struct iovec){ &h, sizeof(h) };
		iov[1] = (struct iovec){ body.data, body.len };
		n = writev(r->jfd, iov, 2);
		if (n == (ssize_t)(sizeof(h) + body.len))
			r->jsize += (size_t)n;
		else
			rc = journal_cut(r);
	}
	buf_release(&body);
	return rc;
}

void run_journal_reset(struct run *r)
{
	if (r->jfd < 0 || r->jsize == 0)
		return;
	/* A record left (the cut failed) is stale: its gen is older. */
	if (ftruncate(r->jfd, 0) == 0)
		r->jsize = 0;
}

void run_journal_close(struct run *r, bool remove)
{
	char path[PATH_MAX];

	if (r->jfd >= 0) {
		close(r->jfd);
		r->jfd = -1;
		remove = true;
	}
	if (remove && journal_path(r->p, r->id, path, sizeof(path)) == 0)
		unlink(path);
}

/* The whole file at @path, at most JOURNAL_MAX + one header. */
static int read_all(const char *path, struct buf *out)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int rc = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && rc == 0)
		rc = out->len + (size_t)n > JOURNAL_MAX + sizeof(struct jhead) ?
		     -EFBIG : buf_add(out, chunk, (size_t)n);
	if (n < 0 && rc == 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The body of the last whole record of @gen in @b, or NULL. */
static const char *last_of(const struct buf *b, uint64_t gen, size_t *len)
{
	unsigned char mac[MAC_LEN];
	const char *last = NULL;
	struct jhead h;
	size_t at = 0;

	while (b->len - at >= sizeof(h)) {
		memcpy(&h, b->data + at, sizeof(h));
		at += sizeof(h);
		if (h.magic != JOURNAL_MAGIC || h.len > b->len - at)
			break;
		mac_of(h.gen, b->data + at, h.len, mac);
		if (sodium_memcmp(mac, h.mac, MAC_LEN) != 0)
			break;
		if (h.gen == gen) {
			last = b->data + at;
			*len = h.len;
		}
		at += h.len;
	}
	return last;
}

int run_journal_replay(struct run *r, uint64_t gen)
{
	struct buf b = BUF_INIT(JOURNAL_MAX + sizeof(struct jhead));
	struct doc *st = NULL;
	char path[PATH_MAX];
	const char *body;
	size_t len = 0, used;
	int rc = journal_path(r->p, r->id, path, sizeof(path));

	if (rc == 0)
		rc = read_all(path, &b);
	body = rc == 0 ? last_of(&b, gen, &len) : NULL;
	if (body && doc_decode(body, len, &st, &used) == 0 && used == len &&
	    st->type == DOC_MAP) {
		doc_free(r->status);
		r->status = st;
		st = NULL;
		rc = 1;
	} else if (rc == 0) {
		rc = 0;
	}
	doc_free(st);
	buf_release(&b);
	return rc == -ENOENT ? 0 : rc;
}
