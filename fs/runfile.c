/*
 * runfile.c - workflows/<slug>/run (DESIGN 1.2): what is written to an
 * open run file is buffered like a spec (FS_DOC_CAP) and, at the first
 * commit point - a read, a flush, the release - handed once to
 * plane_run(), which starts an execution.  The same handle then reads
 * back "<execution-slug>\n" from its own cursor: the kernel's offset is
 * past the bytes just written, so `exec 3<>run; echo >&3; read n <&3`
 * would otherwise read nothing.  Writes ignore the offset the same way
 * and append; a commit takes the buffer, so what is written after it is
 * the next document (the next run), not a continuation of the last.
 *
 * Starting a run is a side effect, so one content is committed at most
 * once even when a read and a flush race: the second commit point waits
 * for the first (h->committing) and then finds the content clean.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypt/seal.h"
#include "handle.h"

/* What a commit point takes from the handle, copied under mu. */
struct run_claim {
	char *text;		/* NULL: the content did not fit (EFBIG) */
	size_t len;
	uint64_t version;
	struct fs_target target;
};

/*
 * Claims the content of @h for a commit.  Called with mu.
 * Return: 1 (claimed), 0 (nothing to commit), the -errno of this same
 * content's failed commit, -ENOMEM.
 */
static int claim(struct fh *h, bool final, struct run_claim *c)
{
	if (!h->dirty)
		return 0;
	if (h->failed == h->version)
		return final ? 0 : h->failed_rc;
	c->version = h->version;
	c->target = h->target;
	c->len = h->buf.len;
	c->text = NULL;
	if (!h->overflow) {
		c->text = malloc(c->len + 1);
		if (!c->text)
			return -ENOMEM;
		if (c->len)
			memcpy(c->text, h->buf.data, c->len);
		c->text[c->len] = '\0';
	}
	/* Taken: later writes start the next document. */
	if (h->buf.data)
		seal_wipe(h->buf.data, h->buf.len);
	buf_reset(&h->buf);
	h->overflow = false;
	h->committing = true;
	return 1;
}

/* plane_run() with the errors line on failure; *@out the execution. */
static int start_run(struct fs *fs, fuse_req_t req, struct fh *h,
		     const struct run_claim *c, struct plane_res *out)
{
	const struct plane_caller *caller = &h->who;
	char subject[NAME_MAX * 2 + 64];
	struct err e;
	int rc;

	if (!c->text)
		return fs_reject_big(fs, caller, &c->target);
	err_clear(&e);
	rc = plane_run(fs->plane, caller, h->serial, c->text, c->len, out,
		       &e);
	if (rc < 0) {
		if (e.code == 0)
			err_set(&e, rc, "%s", strerror(-rc));
		fs_target_subject(&c->target, subject, sizeof(subject));
		plane_reject(fs->plane, caller, subject, &e);
	}
	return rc;
}

/* Records the outcome of committing @c; wakes a waiting commit point. */
static void claim_done(struct fh *h, const struct run_claim *c, int rc,
		       const struct plane_res *r)
{
	int n;

	pthread_mutex_lock(&h->mu);
	h->committing = false;
	if (rc < 0) {
		h->failed = c->version;
		h->failed_rc = rc;
	} else {
		if (h->version == c->version)
			h->dirty = false;
		n = snprintf(h->result, sizeof(h->result), "%s\n", r->slug);
		h->result_len = n > 0 && (size_t)n < sizeof(h->result)
				? (size_t)n : 0;
		h->cursor = 0;
	}
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mu);
}

int fh_run_commit(struct fs *fs, fuse_req_t req, struct fh *h, bool final)
{
	struct run_claim c;
	struct plane_res r;
	int rc;

	memset(&c, 0, sizeof(c));
	pthread_mutex_lock(&h->mu);
	while (h->committing)
		pthread_cond_wait(&h->cond, &h->mu);
	rc = claim(h, final, &c);
	pthread_mutex_unlock(&h->mu);
	if (rc <= 0)
		return rc;
	rc = start_run(fs, req, h, &c, &r);
	if (c.text) {
		/* runtimeEnv may hold secret values in plain text. */
		seal_wipe(c.text, c.len);
		free(c.text);
	}
	claim_done(h, &c, rc, &r);
	return rc;
}

ssize_t fh_run_read(struct fs *fs, fuse_req_t req, struct fh *h, size_t size,
		    char **copy)
{
	size_t n = 0;
	int rc = fh_run_commit(fs, req, h, false);

	*copy = NULL;
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&h->mu);
	if (h->cursor < h->result_len) {
		n = h->result_len - h->cursor < size
		    ? h->result_len - h->cursor : size;
		*copy = malloc(n);
		if (*copy) {
			memcpy(*copy, h->result + h->cursor, n);
			h->cursor += n;
		}
	}
	pthread_mutex_unlock(&h->mu);
	if (n > 0 && !*copy)
		return -ENOMEM;
	return (ssize_t)n;
}
