/*
 * plane.c - the control plane handle: opens the store and keyring, and
 * runs each change through its pipeline (steps.c) with retries when a
 * concurrent change got there first.
 */
#include "plane_i.h"
#include "http.h"
#include "rotate.h"

#include "run_i.h"
#include "streams.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int plane_open(struct plane **out, const struct plane_opts *o, struct err *e)
{
	struct store_opts so = { o->state_dir, 0, (size_t)o->limits.store_max,
				 o->limits.audit_limit };
	struct plane *p = calloc(1, sizeof(*p));
	int rc = -ENOMEM;

	if (!p)
		return err_set(e, -ENOMEM, "out of memory");
	pthread_mutex_init(&p->actors_mu, NULL);
	pthread_mutex_init(&p->dirs_mu, NULL);
	pthread_mutex_init(&p->dirs_wmu, NULL);
	pthread_mutex_init(&p->deny_mu, NULL);
	p->uid = geteuid();
	p->gid = getegid();
	p->operators = o->has_operators ? o->operators : PLANE_NO_GROUP;
	p->limits = o->limits;
	p->hold_runs = o->hold_runs;
	if (strlen(o->state_dir) >= sizeof(p->state_dir)) {
		rc = err_set(e, -ENAMETOOLONG, "state directory path too long");
		goto fail;
	}
	memcpy(p->state_dir, o->state_dir, strlen(o->state_dir) + 1);
	if (render_cache_new(&p->cache) < 0 || errlog_new(&p->errs) < 0)
		goto fail;
	rc = keyring_open(&p->kr, o->key_file, e);
	if (rc == 0)
		rc = store_open(&p->st, &so, e);
	if (rc == 0)
		rc = rotate_check_key(p->st, p->kr, o->key_file, e);
	if (rc == 0)
		rc = plane_dirs_load(p, e);
	if (rc == 0 && (streams_new(&p->streams, p->st) < 0 ||
			runner_new(&p->runner, p) < 0))
		rc = err_set(e, -ENOMEM, "cannot start the runner");
	if (rc == 0 && http_init() < 0)
		rc = err_set(e, -EIO, "cannot initialize libcurl");
	if (rc < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	plane_close(p);
	return rc;
}

int plane_start(struct plane *p, struct err *e)
{
	return runner_start(p->runner, e);
}

void plane_close(struct plane *p)
{
	if (!p)
		return;
	atomic_store(&p->closing, true);
	if (p->streams)
		streams_end_all(p->streams);
	runner_free(p->runner);
	streams_free(p->streams);
	store_close(p->st);
	keyring_close(p->kr);
	render_cache_free(p->cache);
	errlog_free(p->errs);
	pthread_mutex_destroy(&p->actors_mu);
	pthread_mutex_destroy(&p->dirs_mu);
	pthread_mutex_destroy(&p->dirs_wmu);
	pthread_mutex_destroy(&p->deny_mu);
	free(p);
}

void plane_set_notify(struct plane *p, plane_notify_fn fn, void *ctx)
{
	p->notify = fn;
	p->notify_ctx = ctx;
}

static int lookup_done(int rc, const struct store_rec *h,
		       struct plane_res *out)
{
	if (rc == 0)
		plane_res_from_hdr(out, h);
	return rc;
}

int plane_lookup(struct plane *p, enum kind_id kind, const char *slug,
		 struct plane_res *out)
{
	struct store_rec h;

	return lookup_done(store_get_slug(p->st, kind, slug, &h, NULL), &h,
			   out);
}

int plane_lookup_id(struct plane *p, const char *id, struct plane_res *out)
{
	struct store_rec h;

	return lookup_done(store_get(p->st, id, &h, NULL), &h, out);
}

int plane_lookup_serial(struct plane *p, uint64_t serial,
			struct plane_res *out)
{
	struct store_rec h;

	return lookup_done(store_get_serial(p->st, serial, &h, NULL), &h, out);
}

struct list_ctx {
	int (*fn)(void *ctx, const struct plane_res *r);
	void *ctx;
};

static int list_one(void *ctx, const struct store_rec *h)
{
	struct list_ctx *l = ctx;
	struct plane_res r;

	plane_res_from_hdr(&r, h);
	return l->fn(l->ctx, &r);
}

int plane_list(struct plane *p, enum kind_id kind, const char *after,
	       int (*fn)(void *ctx, const struct plane_res *r), void *ctx)
{
	struct list_ctx l = { fn, ctx };

	return store_list(p->st, kind, after, list_one, &l);
}

size_t plane_count(struct plane *p, enum kind_id kind)
{
	return store_count(p->st, (int)kind);
}

int plane_view(struct plane *p, uint64_t serial, enum plane_view v,
	       struct plane_blob **out)
{
	return render_view(p, serial, v, out);
}

/*
 * A lost race (the record changed, or the name was taken, between our
 * reads and our commit) is run again from the start with fresh reads,
 * after a short randomized pause that grows with each try, so writers of
 * one record take turns instead of colliding again.
 */
static void backoff(unsigned tries)
{
	struct timespec ts;
	unsigned us = 100u << (tries < 8 ? tries : 8);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	us += (unsigned)(ts.tv_nsec / 1000) % us;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)us * 1000;
	nanosleep(&ts, NULL);
}

/* The error a write or delete that kept losing races ends with. */
static int gave_up(struct err *e, const struct kind *k, const char *what)
{
	return err_set(e, -EBUSY, "%s %s is being changed by someone else; "
		       "try again", k->name, what);
}

/*
 * The errno a change ends with is one of DESIGN 1.4's table; anything
 * else (out of memory, an odd store error) is reported as EIO, keeping
 * the message.
 */
static int table_errno(int rc, struct err *e)
{
	switch (rc) {
	case 0:
	case -EBADMSG:
	case -ENOENT:
	case -EEXIST:
	case -EACCES:
	case -EPERM:
	case -EBUSY:
	case -ENOSPC:
	case -EFBIG:
	case -EIO:
		return rc;
	default:
		if (e)
			e->code = -EIO;
		return -EIO;
	}
}

/* Start a new execution's run; one that cannot start is FAILED, not
 * left PENDING (a stopping daemon leaves it PENDING for the next start). */
static void launch_run(struct plane *p, const char *id, const char *slug,
		       uint64_t serial, uid_t uid)
{
	struct err e = { 0 };
	int rc = runner_launch(p->runner, id, serial, uid);

	if (rc < 0 && rc != -ESHUTDOWN &&
	    run_fail_stored(p, id, "FAILED", "cannot start the run: no "
			    "thread or memory for it", &e) < 0)
		fprintf(stderr, "execfs: %s: %s\n", slug, e.msg);
}

static __thread struct plane_later *later;

void plane_defer_runs(struct plane_later *l)
{
	if (l)
		l->n = 0;
	later = l;
}

void plane_start_later(struct plane *p, struct plane_later *l)
{
	size_t i;

	later = NULL;
	for (i = 0; l && i < l->n; i++)
		launch_run(p, l->run[i].id, l->run[i].slug, l->run[i].serial,
			   l->run[i].uid);
	if (l)
		l->n = 0;
}

/* The committed execution's run: now, or kept for plane_start_later(). */
static void launch(struct plane *p, const struct pctx *c, uid_t uid)
{
	struct plane_later *l = later;

	if (!l || l->n == PLANE_LATER_MAX) {
		launch_run(p, c->id, c->slug, c->hdr.serial, uid);
		return;
	}
	snprintf(l->run[l->n].id, sizeof(l->run[l->n].id), "%s", c->id);
	snprintf(l->run[l->n].slug, sizeof(l->run[l->n].slug), "%s", c->slug);
	l->run[l->n].serial = c->hdr.serial;
	l->run[l->n].uid = uid;
	l->n++;
}

/*
 * Run one change's pipeline; while it loses a race to a concurrent change
 * (its preconditions failed at commit), run it again from the start with
 * fresh reads.  @tmpl carries the request (mode, name, text).
 */
static int run_retried(struct plane *p, const struct kind *k,
		       const struct plane_caller *c, const struct pctx *tmpl,
		       int (*pipeline)(struct pctx *), struct plane_res *out,
		       struct err *e)
{
	struct pctx ctx;
	unsigned tries;
	int rc;

	for (tries = 0; tries < PLANE_RETRIES; tries++) {
		pctx_init(&ctx, p, k, c, e);
		ctx.mode = tmpl->mode;
		ctx.name = tmpl->name;
		ctx.text = tmpl->text;
		ctx.len = tmpl->len;
		/* a write that creates an execution starts its run */
		ctx.run_after = pipeline == steps_write && !p->hold_runs &&
				tmpl->mode != PLANE_WRITE_CHILD;
		rc = pipeline(&ctx);
		if (rc == 0 && out)
			plane_res_from_hdr(out, &ctx.hdr);
		if (rc == 0)
			pctx_notify(&ctx);
		if (rc == 0 && pctx_starts_run(&ctx))
			launch(p, &ctx, c->uid);	/* "run" is stored */
		pctx_release(&ctx);
		if (rc == 0 || !ctx.lost_race)
			return table_errno(rc, e);
		backoff(tries);
	}
	return gave_up(e, k, ctx.slug[0] ? ctx.slug : tmpl->name);
}

int plane_write(struct plane *p, const struct plane_caller *c,
		enum kind_id kind, enum plane_write_mode m, const char *name,
		const char *text, size_t len, struct plane_res *out,
		struct err *e)
{
	const struct kind *k = model_kind(kind);
	struct pctx req = { .mode = m, .name = name, .text = text, .len = len };

	if (!k)
		return err_set(e, -EINVAL, "unknown kind");
	return run_retried(p, k, c, &req, steps_write, out, e);
}

int plane_delete(struct plane *p, const struct plane_caller *c,
		 enum kind_id kind, const char *slug, struct err *e)
{
	const struct kind *k = model_kind(kind);
	struct pctx req = { .name = slug };

	if (!k)
		return err_set(e, -EINVAL, "unknown kind");
	return run_retried(p, k, c, &req, steps_delete, NULL, e);
}

/* One line, whatever the subject (a file name) or message hold. */
void plane_one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* The kind and resource name a subject ("workflows/a.yaml",
 * "workflowexecutions/run1/ctl") is about, for its audit line. */
static enum kind_id subject_kind(const char *subject, char *name,
				 size_t cap)
{
	const char *slash = strchr(subject, '/'), *end;
	const struct kind *k;
	size_t n;

	name[0] = '\0';
	if (!slash) {
		/* a kind directory itself: "workflows" */
		k = model_kind_by_dir(subject);
		if (!k)
			return KIND_COUNT;
		snprintf(name, cap, "%s", k->dir);
		return k->id;
	}
	end = strchr(slash + 1, '/');
	n = end ? (size_t)(end - slash - 1) : strlen(slash + 1);
	if (n < cap)
		snprintf(name, cap, "%.*s", (int)n, slash + 1);
	for (int i = 0; i < KIND_COUNT; i++) {
		k = model_kind((enum kind_id)i);
		if (k && strlen(k->dir) == (size_t)(slash - subject) &&
		    !strncmp(k->dir, subject, (size_t)(slash - subject)))
			return (enum kind_id)i;
	}
	return KIND_COUNT;
}

/* The refusal in the audit log, with the errors line's message. */
static void reject_audit(struct plane *p, const struct plane_caller *c,
			 const char *subject, const char *id,
			 const struct err *e)
{
	char name[SLUG_MAX + 64], reason[ERR_MSG_MAX];
	enum kind_id kind = subject_kind(subject, name, sizeof(name));

	snprintf(reason, sizeof(reason), "%s", e->msg);
	plane_one_line(reason);
	plane_audit_event(p, c, "deny", kind, name[0] ? name : subject, id,
			  e->code < 0 ? e->code : -EIO, reason, NULL, 0);
}

static void reject(struct plane *p, const struct plane_caller *c,
		   const char *subject, const char *id, const struct err *e);

void plane_reject(struct plane *p, const struct plane_caller *c,
		  const char *subject, const struct err *e)
{
	reject(p, c, subject, "", e);
}

void plane_deny(struct plane *p, const struct plane_caller *c,
		const char *subject, const char *id, const char *why)
{
	struct err e = { 0 };

	err_set(&e, -EACCES, "permission denied: %s", why);
	reject(p, c, subject, id ? id : "", &e);
}

static void reject(struct plane *p, const struct plane_caller *c,
		   const char *subject, const char *id, const struct err *e)
{
	char now[40], line[ERR_MSG_MAX + 400];
	int64_t ns;
	int n;

	plane_now(&ns, NULL, 0);
	plane_fmt_time(ns - ns % 1000000000, now, sizeof(now));
	/* "2026-01-11T14:30:22.000Z" -> "2026-01-11T14:30:22Z" */
	memcpy(now + 19, "Z", 2);
	n = snprintf(line, sizeof(line), "%s %s: %s: %s", now, subject,
		     err_name(e->code), e->msg);
	if (n < 0)
		return;
	/* A line cut short (a very long subject) still says what it can. */
	if ((size_t)n >= sizeof(line))
		memcpy(line + sizeof(line) - 4, "...", 4);
	plane_one_line(line);
	errlog_add(p->errs, c ? c->uid : 0, line);
	fprintf(stderr, "%s\n", line);
	reject_audit(p, c, subject, id, e);
}

int plane_errors(struct plane *p, uid_t uid, struct buf *out)
{
	return errlog_read(p->errs, uid, out);
}

int plane_draft(enum kind_id kind, const char *name, struct buf *out)
{
	const struct kind *k = model_kind(kind);

	const char *at;
	int rc;

	if (!k || !k->draft)
		return -EINVAL;
	/* The template holds one "%s" for the name. */
	at = strstr(k->draft, "%s");
	if (!at)
		return buf_addstr(out, k->draft);
	rc = buf_add(out, k->draft, (size_t)(at - k->draft));
	if (rc == 0)
		rc = buf_addstr(out, name);
	return rc ? rc : buf_addstr(out, at + 2);
}
