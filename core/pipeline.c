/*
 * pipeline.c - the pipeline runner: a pipeline is an ordered table of
 * steps sharing one struct pctx; the first failing step stops it and its
 * error (with the message the step wrote) is the pipeline's result.  The
 * steps collect the records to write as a change set, which pctx_commit()
 * hands to the store in one durable, atomic commit.
 */
#include "plane_i.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "yaml.h"

void plane_utc(int64_t sec, struct tm *tm)
{
	int64_t days = sec / 86400, rem = sec % 86400;
	int64_t era, doe, yoe, doy, mp, y;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* the civil date of a day count, on 400-year eras from 0000-03-01 */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	y = yoe + era * 400;
	memset(tm, 0, sizeof(*tm));
	tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	tm->tm_year = (int)(y + (tm->tm_mon <= 1) - 1900);
	tm->tm_hour = (int)(rem / 3600);
	tm->tm_min = (int)(rem / 60 % 60);
	tm->tm_sec = (int)(rem % 60);
}

void plane_fmt_time(int64_t ns, char *text, size_t cap)
{
	struct tm tm;

	plane_utc(ns / 1000000000, &tm);
	/* the ranges stated so that the text's length is known: 24 bytes */
	snprintf(text, cap, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000,
		 (unsigned)(tm.tm_mon + 1) % 100, (unsigned)tm.tm_mday % 100,
		 (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100,
		 (unsigned)tm.tm_sec % 100, (unsigned)(ns / 1000000 % 1000));
}

void plane_now(int64_t *ns, char *text, size_t cap)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (text)
		plane_fmt_time(*ns, text, cap);
}

/* The user name of @uid; the uid as text if it has none. */
static void lookup_name(uid_t uid, char *out, size_t cap)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res &&
	    strlen(res->pw_name) < cap) {
		memcpy(out, res->pw_name, strlen(res->pw_name) + 1);
		return;
	}
	snprintf(out, cap, "uid-%u", (unsigned)uid);
}

/* The caller's user name for audit fields, from the plane's cache. */
void plane_actor(struct plane *p, uid_t uid, char *out, size_t cap)
{
	struct actor *a;
	size_t i;

	pthread_mutex_lock(&p->actors_mu);
	for (i = 0; i < PLANE_ACTORS; i++) {
		a = &p->actors[i];
		if (a->used && a->uid == uid) {
			snprintf(out, cap, "%s", a->name);
			pthread_mutex_unlock(&p->actors_mu);
			return;
		}
	}
	pthread_mutex_unlock(&p->actors_mu);
	lookup_name(uid, out, cap);
	pthread_mutex_lock(&p->actors_mu);
	a = &p->actors[p->actors_next++ % PLANE_ACTORS];
	a->uid = uid;
	a->used = true;
	snprintf(a->name, sizeof(a->name), "%s", out);
	pthread_mutex_unlock(&p->actors_mu);
}

void pctx_init(struct pctx *c, struct plane *p, const struct kind *k,
	       const struct plane_caller *caller, struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->k = k;
	c->caller = caller;
	c->e = e;
	err_clear(e);	/* no message left over from an earlier attempt */
	buf_init(&c->masked, PLANE_DOC_MAX);
	plane_actor(p, caller ? caller->uid : getuid(), c->actor,
		   sizeof(c->actor));
	plane_now(&c->now_ns, c->now, sizeof(c->now));
}

void pctx_release(struct pctx *c)
{
	size_t i;

	doc_wipe_free(c->parsed);
	doc_wipe_free(c->res);
	doc_free(c->old);
	buf_release(&c->masked);
	for (i = 0; i < c->nchanges; i++)
		buf_release(&c->changes[i].body);
	c->parsed = c->res = c->old = NULL;
	c->nchanges = 0;
}

int pipeline_run(struct pctx *c, const struct step *steps)
{
	int rc;

	for (; steps->fn; steps++) {
		rc = steps->fn(c);
		if (rc < 0) {
			if (c->e && c->e->code != rc)
				err_set(c->e, rc, "%s failed", steps->name);
			return rc;
		}
	}
	return 0;
}

int pctx_add_change(struct pctx *c, enum store_op op,
		    const struct store_rec *hdr, const struct doc *res,
		    const struct buf *src, uint64_t expect_gen,
		    enum plane_change what)
{
	struct pchange *pc;
	int rc;

	if (c->nchanges == PLANE_CHANGES_MAX)
		return err_set(c->e, -EIO, "too many records in one change");
	pc = &c->changes[c->nchanges];
	memset(pc, 0, sizeof(*pc));
	buf_init(&pc->body, STORE_BODY_MAX);
	pc->ch.op = op;
	pc->ch.hdr = *hdr;
	pc->ch.expect_gen = expect_gen;
	pc->what = what;
	/* a new record is its creator's, unless the step said whose */
	if (op == STORE_PUT && expect_gen == 0 && hdr->mode == 0)
		plane_owner_of(c->p, c->caller, &pc->ch.hdr);
	if (op == STORE_PUT) {
		rc = record_encode(res, src, &pc->body);
		if (rc < 0) {
			buf_release(&pc->body);
			return err_set(c->e, rc == -EFBIG ? -EFBIG : rc,
				       "resource too large to store");
		}
		pc->ch.body = pc->body.data;
		pc->ch.len = pc->body.len;
	}
	c->nchanges++;
	return 0;
}

bool pctx_starts_run(const struct pctx *c)
{
	return c->run_after && !c->exists &&
	       c->k->id == KIND_WORKFLOW_EXECUTION;
}

/* The change set, with an audit line per record (DESIGN 1.8) in the same
 * commit, and the "run" line of an execution that starts: an acknowledged
 * change always has its lines, a refused one leaves none (and one commit
 * is one sync on the way of the writer's close). */
int pctx_commit(struct pctx *c)
{
	struct store_change ch[2 * PLANE_CHANGES_MAX + 1];
	struct buf lines[PLANE_CHANGES_MAX + 1];
	size_t i, n = c->nchanges, nl = c->nchanges + pctx_starts_run(c);
	int rc = 0;

	for (i = 0; i < nl; i++)
		buf_init(&lines[i], STORE_AUDIT_LINE_MAX);
	for (i = 0; i < c->nchanges; i++)
		ch[i] = c->changes[i].ch;
	for (i = 0; rc == 0 && i < c->nchanges; i++)
		rc = plane_audit_change(c, &c->changes[i], &lines[i], &ch[n++]);
	if (rc == 0 && nl > c->nchanges)
		rc = plane_audit_run(c, &lines[c->nchanges], &ch[n++]);
	if (rc < 0)
		rc = err_set(c->e, rc, "cannot write the audit line");
	else
		rc = store_commit(c->p->st, ch, n, c->e);
	c->lost_race = rc == -ESTALE || rc == -EEXIST || rc == -ENOENT;
	for (i = 0; i < c->nchanges; i++)
		if (rc == 0 && c->changes[i].ch.op == STORE_DEL)
			render_cache_drop(c->p->cache,
					  c->changes[i].ch.hdr.serial);
	for (i = 0; i < nl; i++) {
		if (rc == 0)
			plane_audit_copy(c->p, &lines[i]);
		buf_release(&lines[i]);
	}
	return rc;
}

void pctx_notify(struct pctx *c)
{
	struct plane_res r;
	size_t i;

	if (!c->p->notify)
		return;
	for (i = 0; i < c->nchanges; i++) {
		plane_res_from_hdr(&r, &c->changes[i].ch.hdr);
		c->p->notify(c->p->notify_ctx, c->changes[i].what, &r);
	}
}
