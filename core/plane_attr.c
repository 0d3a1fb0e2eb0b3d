/*
 * plane_attr.c - chmod, chown and chgrp: of a resource (its record's
 * header, with the audit line in the same commit) and of a kind directory
 * (a store note per kind, "dir.<dir>" = "<mode> <gid>" in octal and
 * decimal, read at open).  Refusals made by fs/ are recorded here too.
 */
#include "plane_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RES_MODE_BITS 0777
#define DIR_MODE_BITS 01777

/* ---- kind directories ------------------------------------------------ */

static void dir_default(const struct plane *p, enum kind_id kind,
			struct plane_dir *d)
{
	d->uid = p->uid;
	d->gid = p->operators != PLANE_NO_GROUP ? p->operators : p->gid;
	d->mode = kind == KIND_EXECUTION_CONTEXT ? 0770 : 01777;
}

static int dir_note(enum kind_id kind, char *out, size_t cap)
{
	const struct kind *k = model_kind(kind);
	int n = snprintf(out, cap, "dir.%s", k ? k->dir : "");

	/* the note's name is the change's hdr.id */
	return n < 0 || (size_t)n >= cap || (size_t)n >= IDS_ID_MAX ?
	       -ENAMETOOLONG : 0;
}

/* "<mode> <gid>"; anything else leaves the default. */
static void dir_parse(const char *text, struct plane_dir *d)
{
	char *end;
	unsigned long mode = strtoul(text, &end, 8);
	unsigned long gid;

	if (end == text || *end != ' ' || mode > DIR_MODE_BITS)
		return;
	text = end + 1;
	gid = strtoul(text, &end, 10);
	if (end == text || *end || gid >= UINT32_MAX)
		return;
	d->mode = (mode_t)mode;
	d->gid = (gid_t)gid;
}

int plane_dirs_load(struct plane *p, struct err *e)
{
	struct buf b = BUF_INIT(STORE_NOTE_MAX + 1);
	char name[64];
	int rc = 0;

	for (int k = 0; k < KIND_COUNT && rc == 0; k++) {
		dir_default(p, (enum kind_id)k, &p->dirs[k]);
		buf_reset(&b);
		rc = dir_note((enum kind_id)k, name, sizeof(name));
		if (rc == 0)
			rc = store_meta_get(p->st, name, &b);
		if (rc == 0 && b.data)
			dir_parse(b.data, &p->dirs[k]);
		if (rc == -ENOENT)
			rc = 0;
	}
	buf_release(&b);
	return rc < 0 ? err_set(e, rc, "cannot read the kind directories' "
				"modes") : 0;
}

void plane_dir_attr(struct plane *p, enum kind_id kind, struct plane_dir *out)
{
	pthread_mutex_lock(&p->dirs_mu);
	*out = p->dirs[kind];
	pthread_mutex_unlock(&p->dirs_mu);
}

/* The note and its audit line (chmod or chown, @verb) in one commit. */
static int dir_store(struct plane *p, const struct plane_caller *c,
		     enum kind_id kind, const struct plane_dir *d,
		     const char *verb, struct err *e)
{
	char name[64], text[64], owner[40], mode[8];
	struct store_change ch[2] = { { .op = STORE_META },
				      { .op = STORE_AUDIT } };
	struct buf line = BUF_INIT(STORE_AUDIT_LINE_MAX);
	struct store_rec h = { .kind = (uint8_t)kind };
	int rc = dir_note(kind, name, sizeof(name));

	if (rc < 0)
		return err_set(e, rc, "kind directory name too long");
	memcpy(ch[0].hdr.id, name, strlen(name) + 1);
	ch[0].len = (size_t)snprintf(text, sizeof(text), "%04o %u",
				     (unsigned)d->mode, (unsigned)d->gid);
	ch[0].body = text;
	snprintf(h.slug, sizeof(h.slug), "%s", model_kind(kind)->dir);
	snprintf(owner, sizeof(owner), "%u:%u", (unsigned)d->uid,
		 (unsigned)d->gid);
	snprintf(mode, sizeof(mode), "%04o", (unsigned)d->mode);
	rc = plane_audit_attr(p, c, &h, verb, strcmp(verb, "chown") ? NULL :
			      owner, strcmp(verb, "chmod") ? NULL : mode,
			      &line);
	ch[1].body = line.data;
	ch[1].len = line.len;
	if (rc == 0)
		rc = store_commit(p->st, ch, 2, e);
	if (rc == 0)
		plane_audit_copy(p, &line);
	buf_release(&line);
	return rc;
}

int plane_dir_setattr(struct plane *p, const struct plane_caller *c,
		      enum kind_id kind, const struct plane_attr *a,
		      struct err *e)
{
	const struct kind *k = model_kind(kind);
	struct plane_dir d;
	int rc;

	if (!k)
		return err_set(e, -ENOENT, "no such kind");
	if (!plane_is_operator(p, c))
		return err_set(e, -EPERM, "%s/: only an operator may change "
			       "a kind directory", k->dir);
	/* One change at a time from read to store, so that two neither
	 * undo each other nor land out of the order they commit; readers
	 * take only dirs_mu, never held across the commit. */
	pthread_mutex_lock(&p->dirs_wmu);
	plane_dir_attr(p, kind, &d);
	if (a->set_mode)
		d.mode = a->mode & DIR_MODE_BITS;
	if (a->set_gid)
		d.gid = a->gid;
	if (a->set_uid && a->uid != d.uid)
		rc = err_set(e, -EPERM, "%s/: its owner never changes",
			     k->dir);
	else
		rc = dir_store(p, c, kind, &d, a->set_mode ? "chmod" :
			       "chown", e);
	if (rc == 0) {
		pthread_mutex_lock(&p->dirs_mu);
		p->dirs[kind] = d;
		pthread_mutex_unlock(&p->dirs_mu);
	}
	pthread_mutex_unlock(&p->dirs_wmu);
	return rc;
}

/* ---- resources ------------------------------------------------------- */

/* chown and chgrp as Unix allows them: an operator anything, the owner
 * a group of their own, nobody else anything. */
static int attr_allowed(struct plane *p, const struct plane_caller *c,
			const struct store_rec *h, const struct plane_attr *a,
			struct err *e)
{
	const struct kind *k = model_kind((enum kind_id)h->kind);
	const char *kn = k ? k->name : "";
	struct plane_res r;

	if (plane_is_operator(p, c))
		return 0;
	plane_res_from_hdr(&r, h);
	if (c->uid != r.uid)
		return err_set(e, -EPERM, "%s \"%s\": only its owner (uid %u) "
			       "or an operator may change its mode or "
			       "group", kn, h->slug, (unsigned)r.uid);
	if (a->set_uid && a->uid != r.uid)
		return err_set(e, -EPERM, "%s \"%s\": only an operator may "
			       "give it to another user", kn, h->slug);
	if (a->set_gid && a->gid != r.gid && !plane_in_group(c, a->gid))
		return err_set(e, -EPERM, "%s \"%s\": you are not in group "
			       "%u", kn, h->slug, (unsigned)a->gid);
	return 0;
}

/* An execution runs as its owner: giving one that has not ended to
 * another user would run its tasks as them (operators too). */
static int owner_fixed(const struct store_rec *h, const struct buf *body,
		       const struct plane_attr *a, struct err *e)
{
	struct doc *res = NULL;
	bool going;

	if (h->kind != KIND_WORKFLOW_EXECUTION || !a->set_uid ||
	    a->uid == (uid_t)h->uid || record_decode(body, &res, NULL,
						     NULL) < 0)
		return 0;
	going = !plane_phase_ended(doc_get_str(res, "status.phase"));
	doc_free(res);
	if (!going)
		return 0;
	return err_set(e, -EPERM, "WorkflowExecution \"%s\": it runs as its "
		       "owner; it may change owner once it has ended",
		       h->slug);
}

/* The new header and the audit lines of the change. */
static int attr_apply(struct plane *p, const struct plane_caller *c,
		      struct store_rec *h, const struct plane_attr *a,
		      struct buf *line)
{
	struct plane_res r;
	char owner[40], mode[8];
	int rc = 0;

	plane_res_from_hdr(&r, h);
	h->uid = a->set_uid ? (uint32_t)a->uid : (uint32_t)r.uid;
	h->gid = a->set_gid ? (uint32_t)a->gid : (uint32_t)r.gid;
	if (a->set_mode)
		h->mode = (uint32_t)(a->mode & RES_MODE_BITS);
	h->gen++;
	snprintf(owner, sizeof(owner), "%u:%u", (unsigned)h->uid,
		 (unsigned)h->gid);
	snprintf(mode, sizeof(mode), "%04o", (unsigned)h->mode);
	if (a->set_uid || a->set_gid)
		rc = plane_audit_attr(p, c, h, "chown", owner, NULL, line);
	if (rc == 0 && a->set_mode)
		rc = plane_audit_attr(p, c, h, "chmod", NULL, mode, line);
	return rc;
}

/* A Workflow's default instance follows it while it has the same owner,
 * group and mode (it was made with them): *@ih and @ibody when it does. */
static bool follower(struct plane *p, const struct store_rec *wf,
		     const struct buf *body, struct store_rec *ih,
		     struct buf *ibody)
{
	struct doc *res = NULL;
	const char *iid;
	bool yes = false;

	if (wf->kind != KIND_WORKFLOW || record_decode(body, &res, NULL,
						       NULL) < 0)
		return false;
	iid = doc_get_str(res, "status.defaultInstanceId");
	if (iid && store_get(p->st, iid, ih, ibody) == 0)
		yes = ih->uid == wf->uid && ih->gid == wf->gid &&
		      ih->mode == wf->mode;
	doc_free(res);
	return yes;
}

/* The change set: the record, its follower, one audit line per verb. */
static size_t attr_changes(struct store_change *ch, const struct store_rec *h,
			   const struct buf *body, uint64_t gen,
			   const struct store_rec *ih, const struct buf *ibody,
			   const struct buf *line)
{
	size_t n = 0, split;

	ch[n++] = (struct store_change){ .op = STORE_PUT, .hdr = *h,
		.body = body->data, .len = body->len, .expect_gen = gen };
	if (ih)
		ch[n++] = (struct store_change){ .op = STORE_PUT, .hdr = *ih,
			.body = ibody->data, .len = ibody->len,
			.expect_gen = ih->gen - 1 };
	for (const char *s = line->data; s < line->data + line->len;
	     s += split) {
		split = (size_t)((const char *)memchr(s, '\n', line->len -
			(size_t)(s - line->data)) - s) + 1;
		ch[n++] = (struct store_change){ .op = STORE_AUDIT, .body = s,
						 .len = split };
	}
	return n;
}

static void follow_attr(struct store_rec *ih, const struct store_rec *h)
{
	ih->uid = h->uid;
	ih->gid = h->gid;
	ih->mode = h->mode;
	ih->gen++;
}

static int attr_commit(struct plane *p, const struct plane_caller *c,
		       uint64_t serial, const struct plane_attr *a,
		       struct store_rec *h, struct store_rec *ih,
		       bool *follows, struct err *e)
{
	struct buf body = BUF_INIT(STORE_BODY_MAX);
	struct buf ibody = BUF_INIT(STORE_BODY_MAX);
	struct buf line = BUF_INIT(2 * STORE_AUDIT_LINE_MAX);
	struct store_change ch[4];
	uint64_t gen;
	int rc = store_get_serial(p->st, serial, h, &body);

	if (rc == -ENOENT)
		rc = err_set(e, rc, "no such resource");
	if (rc == 0)
		rc = attr_allowed(p, c, h, a, e);
	if (rc == 0)
		rc = owner_fixed(h, &body, a, e);
	gen = h->gen;
	*follows = rc == 0 && follower(p, h, &body, ih, &ibody);
	if (rc == 0)
		rc = attr_apply(p, c, h, a, &line);
	if (rc < 0)
		goto out;
	if (*follows)
		follow_attr(ih, h);
	rc = store_commit(p->st, ch, attr_changes(ch, h, &body, gen,
						  *follows ? ih : NULL,
						  &ibody, &line), e);
	if (rc == 0)
		plane_audit_copy(p, &line);
out:
	buf_release(&body);
	buf_release(&ibody);
	buf_release(&line);
	return rc;
}

int plane_setattr(struct plane *p, const struct plane_caller *c,
		  uint64_t serial, const struct plane_attr *a,
		  struct plane_res *out, struct err *e)
{
	struct store_rec h, ih;
	struct plane_res ir;
	bool follows = false;
	int rc = -ESTALE;

	for (int i = 0; i < PLANE_RETRIES && rc == -ESTALE; i++) {
		memset(e, 0, sizeof(*e));
		rc = attr_commit(p, c, serial, a, &h, &ih, &follows, e);
	}
	if (rc < 0)
		return rc;
	plane_res_from_hdr(out, &h);
	if (p->notify)
		p->notify(p->notify_ctx, PLANE_UPDATED, out);
	if (p->notify && follows) {
		plane_res_from_hdr(&ir, &ih);
		p->notify(p->notify_ctx, PLANE_UPDATED, &ir);
	}
	return 0;
}
