/*
 * plane_audit.c - the plane's side of the audit log (DESIGN 1.8): the
 * line of each change, and the "run" of an execution it creates, go into
 * the change's own commit (pctx_commit); refusals, a sub-workflow's run,
 * cancels and uses of secrets get a commit of their own
 * (the store's group commit shares the sync).  Lines hold names, ids,
 * errnos and the errors line's message, never a value.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"

static const char *verb_of(enum plane_change what)
{
	if (what == PLANE_CREATED)
		return "create";
	return what == PLANE_UPDATED ? "update" : "delete";
}

static const char *kind_name(unsigned kind)
{
	const struct kind *k = model_kind((enum kind_id)kind);

	return k ? k->name : "";
}

/* The user field: the name plane_actor() found, or the bare number when
 * it found none (it says "uid-N" for the resources' own audit fields). */
static void user_of(const char *actor, uid_t uid, char *out, size_t cap)
{
	char fallback[32];

	snprintf(fallback, sizeof(fallback), "uid-%u", (unsigned)uid);
	if (strcmp(actor, fallback) == 0)
		snprintf(out, cap, "%u", (unsigned)uid);
	else
		snprintf(out, cap, "%s", actor);
}

/* @verb of @kind @name (@id) by @c's caller, as a STORE_AUDIT change. */
static int change_line(struct pctx *c, const char *verb, unsigned kind,
		       const char *name, const char *id, struct buf *line,
		       struct store_change *out)
{
	char user[64];
	struct audit_rec r = {
		.time_ns = c->now_ns,
		.uid = c->caller ? c->caller->uid : getuid(),
		.user = user,
		.pid = c->caller ? c->caller->pid : 0,
		.verb = verb,
		.kind = kind_name(kind),
		.name = name,
		.id = id,
	};
	int rc;

	user_of(c->actor, r.uid, user, sizeof(user));
	rc = audit_line(line, &r);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->op = STORE_AUDIT;
	out->body = line->data;
	out->len = line->len;
	return 0;
}

int plane_audit_change(struct pctx *c, const struct pchange *pc,
		       struct buf *line, struct store_change *out)
{
	return change_line(c, verb_of(pc->what), pc->ch.hdr.kind,
			   pc->ch.hdr.slug, pc->ch.hdr.id, line, out);
}

int plane_audit_run(struct pctx *c, struct buf *line,
		    struct store_change *out)
{
	return change_line(c, "run", KIND_WORKFLOW_EXECUTION, c->slug, c->id,
			   line, out);
}

void plane_audit_copy(struct plane *p, const struct buf *line)
{
	if (p->audit_sink && line->len)
		p->audit_sink(p->audit_ctx, line->data, line->len);
}

/*
 * Refusals cost a user nothing to provoke (a stat of a name they may not
 * reach), and the log keeps audit_limit bytes: unbounded, one user's
 * denies would push every older line out.  So each user gets DENY_BURST
 * deny lines at once and DENY_RATE a second after that; the lines dropped
 * are counted on the next one kept ("suppressed").  The table holds
 * PLANE_ACTORS users; a new one takes the least recently refused slot.
 */
#define DENY_RATE 20.0
#define DENY_BURST 100.0

static struct deny_rate *deny_slot(struct plane *p, uid_t uid)
{
	struct deny_rate *old = &p->deny[0];

	for (size_t i = 0; i < PLANE_ACTORS; i++) {
		if (p->deny[i].used && p->deny[i].uid == uid)
			return &p->deny[i];
		if (!p->deny[i].used || p->deny[i].at_ns < old->at_ns)
			old = &p->deny[i];
	}
	*old = (struct deny_rate){ .uid = uid, .used = true,
				   .tokens = DENY_BURST };
	return old;
}

/* Whether a deny line of @uid may be written now; *@dropped: the lines
 * dropped before it. */
static bool deny_allowed(struct plane *p, uid_t uid, int64_t now_ns,
			 uint64_t *dropped)
{
	struct deny_rate *d;
	bool ok;

	pthread_mutex_lock(&p->deny_mu);
	d = deny_slot(p, uid);
	if (d->at_ns && now_ns > d->at_ns)
		d->tokens += (double)(now_ns - d->at_ns) / 1e9 * DENY_RATE;
	if (d->tokens > DENY_BURST)
		d->tokens = DENY_BURST;
	d->at_ns = now_ns;
	ok = d->tokens >= 1.0;
	if (ok) {
		d->tokens -= 1.0;
		*dropped = d->dropped;
		d->dropped = 0;
	} else {
		d->dropped++;
	}
	pthread_mutex_unlock(&p->deny_mu);
	return ok;
}

void plane_audit_event(struct plane *p, const struct plane_caller *c,
		       const char *verb, enum kind_id kind, const char *name,
		       const char *id, int result, const char *reason,
		       const struct audit_src *src, size_t nsrc)
{
	struct buf line = BUF_INIT(STORE_AUDIT_LINE_MAX);
	struct store_change ch = { .op = STORE_AUDIT };
	char actor[64], user[64];
	struct audit_rec r = {
		.uid = c ? c->uid : getuid(), .user = user,
		.pid = c ? c->pid : 0, .verb = verb,
		.kind = kind_name((unsigned)kind), .name = name, .id = id,
		.result = result, .reason = reason, .src = src, .nsrc = nsrc,
	};
	struct err e = { 0 };
	int rc;

	plane_now(&r.time_ns, NULL, 0);
	if (!strcmp(verb, "deny") &&
	    !deny_allowed(p, r.uid, r.time_ns, &r.suppressed)) {
		buf_release(&line);
		return;
	}
	plane_actor(p, r.uid, actor, sizeof(actor));
	user_of(actor, r.uid, user, sizeof(user));
	rc = audit_line(&line, &r);
	if (rc == -EFBIG && reason) {
		/* a very long reason: the line without it still counts */
		buf_reset(&line);
		r.reason = "(message too long for the audit log)";
		rc = audit_line(&line, &r);
	}
	if (rc == 0) {
		ch.body = line.data;
		ch.len = line.len;
		rc = store_commit(p->st, &ch, 1, &e);
	}
	if (rc == 0)
		plane_audit_copy(p, &line);
	else
		fprintf(stderr, "execfs: audit: cannot record %s of %s '%s': "
			"%s\n", verb, r.kind, name ? name : "",
			e.msg[0] ? e.msg : err_name(rc));
	buf_release(&line);
}

void plane_set_audit_sink(struct plane *p, plane_audit_fn fn, void *ctx)
{
	p->audit_sink = fn;
	p->audit_ctx = ctx;
}

int plane_audit_size(struct plane *p, uint64_t *size)
{
	return store_audit_size(p->st, size);
}

ssize_t plane_audit_read(struct plane *p, uint64_t off, size_t size,
			 struct buf *out)
{
	return store_audit_read(p->st, off, size, out);
}

int plane_audit_attr(struct plane *p, const struct plane_caller *c,
		     const struct store_rec *h, const char *verb,
		     const char *owner, const char *mode, struct buf *line)
{
	char actor[64], user[64];
	struct audit_rec r = {
		.uid = c ? c->uid : getuid(), .user = user,
		.pid = c ? c->pid : 0, .verb = verb,
		.kind = kind_name(h->kind), .name = h->slug, .id = h->id,
		.owner = owner, .mode = mode,
	};

	plane_actor(p, r.uid, actor, sizeof(actor));
	user_of(actor, r.uid, user, sizeof(user));
	plane_now(&r.time_ns, NULL, 0);
	return audit_line(line, &r);
}
