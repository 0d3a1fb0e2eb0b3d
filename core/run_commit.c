/*
 * run_commit.c - the commits of a run's status to its execution's record.
 *
 * A commit loads the record, changes it (the run's status in place of the
 * stored one, keeping the stored audit), encodes it and stores it if its
 * generation has not moved meanwhile; a moved record is loaded again, up
 * to COMMIT_TRIES times.  A run commits often, so the record it committed
 * last is kept (struct run_rec): the next commit starts from it instead
 * of loading and decoding the whole record again.  The generation check
 * still guards it: when anything else changed the record, the store
 * refuses the commit (-ESTALE) and the record is loaded as before.  Commits are spaced
 * RUN_COMMIT_MS apart while tasks run, and made before each blocking wait.
 * A task's start is recorded before its process runs: by a commit until
 * one stored IN_PROGRESS, then in the run's journal (run_journal.c).
 */
#include "run_i.h"

#include <errno.h>
#include <stdio.h>

#define COMMIT_TRIES 16

void run_rec_release(struct run_rec *rec)
{
	doc_free(rec->res);
	rec->res = NULL;
	buf_release(&rec->src);
	rec->src = (struct buf)BUF_INIT(STORE_BODY_MAX);
}

/* The record as stored, from @rec when it holds it. */
static int rec_load(struct plane *p, const char *id, struct run_rec *rec)
{
	int rc;

	if (rec->res)
		return 0;
	rc = record_load_src(p, id, &rec->hdr, &rec->res, &rec->src);
	if (rc < 0)
		run_rec_release(rec);
	return rc;
}

/* The record as changed, in its stored form. */
static int rec_encode(struct run_rec *rec, struct buf *body)
{
	int rc = res_order(model_kind(rec->hdr.kind), rec->res);

	return rc < 0 ? rc : record_encode(rec->res, &rec->src, body);
}

/* Store @body as the next generation of @rec->hdr. */
static int rec_put(struct plane *p, struct run_rec *rec,
		   const struct buf *body, struct err *e)
{
	struct store_change ch = { .op = STORE_PUT, .hdr = rec->hdr };
	int rc;

	ch.expect_gen = ch.hdr.gen++;
	plane_now(&ch.hdr.mtime_ns, NULL, 0);
	ch.body = body->data;
	ch.len = body->len;
	rc = store_commit(p->st, &ch, 1, e);
	if (rc == 0)
		rec->hdr = ch.hdr;	/* as the store wrote it */
	return rc;
}

/* One attempt: load (or reuse), change, write back if nothing moved
 * meanwhile.  A failed attempt leaves @rec empty: the change may be half
 * made, or the record moved. */
static int commit_once(struct plane *p, const char *id,
		       int (*fn)(void *ctx, struct doc *res), void *ctx,
		       struct run_rec *rec, struct err *e)
{
	struct buf body = BUF_INIT(STORE_BODY_MAX);
	int rc = rec_load(p, id, rec);

	if (rc == 0)
		rc = fn(ctx, rec->res);
	if (rc == 0)
		rc = rec_encode(rec, &body);
	if (rc < 0 && rc != -ENOENT)
		err_set(e, rc, "cannot store the status of %s (%s)", id,
			rc == -EFBIG ? "too large" : "out of memory");
	if (rc == 0)
		rc = rec_put(p, rec, &body, e);
	if (rc < 0)
		run_rec_release(rec);
	buf_release(&body);
	return rc;
}

static int commit_rec(struct plane *p, const char *id,
		      int (*fn)(void *ctx, struct doc *res), void *ctx,
		      struct run_rec *rec, struct err *e)
{
	struct plane_res res;
	unsigned tries = 0;
	int rc;

	do
		rc = commit_once(p, id, fn, ctx, rec, e);
	while (rc == -ESTALE && ++tries < COMMIT_TRIES);
	if (rc == 0 && p->notify) {
		plane_res_from_hdr(&res, &rec->hdr);
		p->notify(p->notify_ctx, PLANE_UPDATED, &res);
	}
	return rc;
}

int run_commit_with(struct plane *p, const char *id,
		    int (*fn)(void *ctx, struct doc *res), void *ctx,
		    struct err *e)
{
	struct run_rec rec = RUN_REC_INIT;
	int rc = commit_rec(p, id, fn, ctx, &rec, e);

	run_rec_release(&rec);
	return rc;
}

/* Replace the record's status with the run's, keeping its audit. */
static int put_status(void *ctx, struct doc *res)
{
	struct run *r = ctx;
	struct doc *audit = doc_map_take(doc_map_get(res, "status"), "audit");
	struct doc *st = doc_clone(r->status);
	int rc;

	if (!st) {
		doc_free(audit);
		return -ENOMEM;
	}
	doc_map_del(st, "audit");
	rc = audit ? doc_map_set(st, "audit", audit) : 0;
	if (rc < 0) {
		doc_free(st);
		return rc;
	}
	return doc_map_set(res, "status", st);
}

int run_commit(struct run *r, struct err *e)
{
	int rc = commit_rec(r->p, r->id, put_status, r, &r->rec, e);

	if (rc == 0) {
		r->dirty = false;
		r->commit_ns = run_now();
		r->stored = true;
		run_journal_reset(r);
	}
	return rc;
}

bool run_start_journaled(struct run *r)
{
	return !r->dirty || (r->stored && run_journal_put(r) == 0);
}

void run_flush(struct run *r)
{
	struct err e = { 0 };

	if (r->dirty && run_commit(r, &e) < 0) {
		r->dirty = false;	/* the next change tries again */
		fprintf(stderr, "execfs: %s: %s\n", r->slug, e.msg);
	}
}

/* A loop of quick tasks would commit the status twice per task: commits
 * are spaced RUN_COMMIT_MS apart, and made before every blocking wait, so
 * a task that waits is shown as running. */
int64_t run_commit_due(const struct run *r)
{
	return r->dirty ? r->commit_ns + (int64_t)RUN_COMMIT_MS * 1000000 :
	       INT64_MAX;
}

void run_flush_due(struct run *r)
{
	if (run_now() >= run_commit_due(r))
		run_flush(r);
}

void run_touch(struct run *r)
{
	r->dirty = true;
	if (run_now() - r->commit_ns >= (int64_t)RUN_COMMIT_MS * 1000000)
		run_flush(r);
}
