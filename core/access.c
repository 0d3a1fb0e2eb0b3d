/*
 * access.c - who may do what (DESIGN 1.8 as issue 10 replaced it): owners,
 * groups and mode bits on every resource and kind directory, checked here
 * for the pipelines (at their commit point) and for fs/ (at open, list,
 * create and remove).  Operators (root, the daemon's user, members of
 * -o operators=GROUP) may do anything.  r views a resource, w changes or
 * deletes it (and cancels a run), x uses it: runs a Workflow or
 * WorkflowInstance, binds an Environment into a run.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool plane_in_group(const struct plane_caller *c, gid_t g)
{
	if (c->gid == g)
		return true;
	for (unsigned i = 0; i < c->ngroups && i < PLANE_GROUPS_MAX; i++)
		if (c->groups[i] == g)
			return true;
	return false;
}

bool plane_is_operator(const struct plane *p, const struct plane_caller *c)
{
	if (!c || c->uid == 0 || c->uid == p->uid)
		return true;
	return p->operators != PLANE_NO_GROUP && plane_in_group(c, p->operators);
}

/* The class of mode bits that applies to @c, as the kernel picks it: the
 * owner's bits for the owner even when the others have more. */
static unsigned class_bits(const struct plane_caller *c, uid_t uid,
			   gid_t gid, mode_t mode)
{
	if (c->uid == uid)
		return (mode >> 6) & 7;
	if (plane_in_group(c, gid))
		return (mode >> 3) & 7;
	return mode & 7;
}

bool plane_may(const struct plane *p, const struct plane_caller *c,
	       uid_t uid, gid_t gid, mode_t mode, unsigned want)
{
	if (plane_is_operator(p, c))
		return true;
	return (class_bits(c, uid, gid, mode) & want) == want;
}

static const char *want_word(unsigned want)
{
	if (want & PLANE_MAY_WRITE)
		return "changing it takes w";
	if (want & PLANE_MAY_USE)
		return "using it takes x";
	return "viewing it takes r";
}

void plane_owner_of(const struct plane *p, const struct plane_caller *c,
		    struct store_rec *h)
{
	h->uid = c ? c->uid : p->uid;
	h->gid = c ? c->gid : p->gid;
	h->mode = 0750;
}

int plane_check(struct plane *p, const struct plane_caller *c,
		const struct store_rec *h, unsigned want, struct err *e)
{
	const struct kind *k = model_kind((enum kind_id)h->kind);
	struct plane_res r;

	plane_res_from_hdr(&r, h);
	if (plane_may(p, c, r.uid, r.gid, r.mode, want))
		return 0;
	return err_set(e, -EACCES, "permission denied: %s \"%s\" (owner "
		       "%u, group %u, mode %04o): %s", k ? k->name : "",
		       h->slug, (unsigned)r.uid, (unsigned)r.gid,
		       (unsigned)r.mode, want_word(want));
}

int plane_check_create(struct plane *p, const struct plane_caller *c,
		       enum kind_id kind, struct err *e)
{
	const struct kind *k = model_kind(kind);
	struct plane_dir d;

	plane_dir_attr(p, kind, &d);
	if (plane_may(p, c, d.uid, d.gid, d.mode,
		      PLANE_MAY_WRITE | PLANE_MAY_USE))
		return 0;
	return err_set(e, -EACCES, "permission denied: creating in %s/ "
		       "(owner %u, group %u, mode %04o) takes w and x",
		       k ? k->dir : "", (unsigned)d.uid, (unsigned)d.gid,
		       (unsigned)d.mode);
}

int plane_check_delete(struct plane *p, const struct plane_caller *c,
		       const struct store_rec *h, struct err *e)
{
	struct plane_dir d;

	plane_dir_attr(p, (enum kind_id)h->kind, &d);
	if (!(d.mode & S_ISVTX) &&
	    plane_may(p, c, d.uid, d.gid, d.mode, PLANE_MAY_WRITE))
		return 0;
	return plane_check(p, c, h, PLANE_MAY_WRITE, e);
}
