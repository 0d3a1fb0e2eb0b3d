/*
 * perm.c - the mount's permission checks (perm.h): each object maps to
 * the right it stands for on its resource or kind directory, and
 * plane_may() decides.
 */
#include "perm.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GROUPS_SLOTS 64
#define GROUPS_TTL_NS 1000000000LL

struct groups_ent {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int64_t at_ns;
	unsigned n;
	gid_t g[PLANE_GROUPS_MAX];
};

struct groups {
	pthread_mutex_t mu;
	struct groups_ent e[GROUPS_SLOTS];	/* protected by mu */
};

/* ---- the groups cache ------------------------------------------------- */

int fs_groups_new(struct fs *fs)
{
	struct groups *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	pthread_mutex_init(&g->mu, NULL);
	fs->groups = g;
	return 0;
}

void fs_groups_free(struct fs *fs)
{
	if (!fs->groups)
		return;
	pthread_mutex_destroy(&fs->groups->mu);
	free(fs->groups);
	fs->groups = NULL;
}

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static bool cached(struct groups *g, struct plane_caller *c, int64_t now)
{
	struct groups_ent *e = &g->e[(unsigned)c->pid % GROUPS_SLOTS];
	bool hit;

	pthread_mutex_lock(&g->mu);
	hit = e->pid == c->pid && e->uid == c->uid && e->gid == c->gid &&
	      now - e->at_ns < GROUPS_TTL_NS;
	if (hit) {
		c->ngroups = e->n;
		memcpy(c->groups, e->g, e->n * sizeof(gid_t));
	}
	pthread_mutex_unlock(&g->mu);
	return hit;
}

static void remember(struct groups *g, const struct plane_caller *c,
		     int64_t now)
{
	struct groups_ent *e = &g->e[(unsigned)c->pid % GROUPS_SLOTS];

	pthread_mutex_lock(&g->mu);
	e->pid = c->pid;
	e->uid = c->uid;
	e->gid = c->gid;
	e->at_ns = now;
	e->n = c->ngroups;
	memcpy(e->g, c->groups, c->ngroups * sizeof(gid_t));
	pthread_mutex_unlock(&g->mu);
}

void fs_groups_fill(struct fs *fs, fuse_req_t req, struct plane_caller *c)
{
	int64_t now = mono_ns();
	int n;

	if (!fs->groups || cached(fs->groups, c, now))
		return;
	n = fuse_req_getgroups(req, PLANE_GROUPS_MAX, c->groups);
	/* a process gone or /proc missing: the primary group only */
	c->ngroups = n < 0 ? 0 : n > PLANE_GROUPS_MAX ? PLANE_GROUPS_MAX :
					       (unsigned)n;
	remember(fs->groups, c, now);
}

/* ---- the checks ------------------------------------------------------- */

/* The right @act on @o takes on its resource, or 0 when none is needed
 * there (-1: operators only). */
static int res_want(const struct fs_obj *o, enum fs_act act)
{
	switch (o->what) {
	case W_RESDIR:
	case W_FOLLOWDIR:
		if (act == ACT_LOOKUP)
			return PLANE_MAY_READ;	/* or x: perm_res() */
		return act == ACT_CREATE ? PLANE_MAY_WRITE : PLANE_MAY_READ;
	case W_VIEW:
	case W_CTL:
		return act == ACT_WRITE ? PLANE_MAY_WRITE : PLANE_MAY_READ;
	case W_STREAM:
	case W_FOLLOW:
		return PLANE_MAY_READ;
	case W_RUN:
		return PLANE_MAY_USE;
	default:
		return 0;
	}
}

static const char *act_word(enum fs_act act)
{
	static const char *const w[] = {
		[ACT_LOOKUP] = "going into", [ACT_LIST] = "listing",
		[ACT_READ] = "reading", [ACT_WRITE] = "writing",
		[ACT_CREATE] = "creating in", [ACT_REMOVE] = "removing",
	};

	return w[act];
}

static const char *bits_word(int want)
{
	if (want == PLANE_MAY_WRITE)
		return "w";
	if (want == PLANE_MAY_USE)
		return "x";
	if (want == (PLANE_MAY_WRITE | PLANE_MAY_USE))
		return "w and x";
	return want == (PLANE_MAY_READ | PLANE_MAY_USE) ? "r or x" : "r";
}

/* "<kinddir>/<name>" of an in-memory node, its name copied under the
 * tree's lock (a rename may free it meanwhile). */
static void mem_subject(struct fs *fs, const struct fs_obj *o, char *out,
			size_t cap)
{
	const struct kind *k = model_kind(o->kind);
	char name[NAME_MAX + 1] = "";
	enum node_type type;

	tree_where(fs->tree, o->node, &type, name);
	snprintf(out, cap, "%s/%s", k ? k->dir : "", name);
}

static int deny(struct fs *fs, const struct plane_caller *c,
		const struct fs_obj *o, enum fs_act act, const char *what,
		uid_t uid, gid_t gid, mode_t mode, int want)
{
	char subject[PATH_MAX] = "", why[256];
	const char *slot = o->what == W_RESDIR || o->what == W_KINDDIR ||
			   o->what == W_MEM ? NULL : fs_slot_name(o->slot);
	const struct kind *k = model_kind(o->kind);

	if (o->what == W_KINDDIR)
		snprintf(subject, sizeof(subject), "%s", k ? k->dir : "");
	else if (o->what == W_MEM)
		mem_subject(fs, o, subject, sizeof(subject));
	else if (o->what == W_AUDIT)
		snprintf(subject, sizeof(subject), "audit");
	else if (fs_obj_subject(o, subject, sizeof(subject)) == 0 && slot)
		snprintf(subject + strlen(subject),
			 sizeof(subject) - strlen(subject), "/%s", slot);
	if (want > 0)
		snprintf(why, sizeof(why), "%s %s takes %s (owner %u, group "
			 "%u, mode %04o)", act_word(act), what,
			 bits_word(want), (unsigned)uid, (unsigned)gid,
			 (unsigned)mode);
	else
		snprintf(why, sizeof(why), "%s %s is for %s", act_word(act),
			 what, want < 0 ? "operators only" : "its owner only");
	plane_deny(fs->plane, c, subject,
		   fs_ino_is_res(o->ino) ? o->res.id : NULL, why);
	return -EACCES;
}

/* @name: the name looked up or made in it, for the message; or NULL. */
static int perm_kinddir(struct fs *fs, const struct plane_caller *c,
			const struct fs_obj *o, enum fs_act act,
			const char *name)
{
	struct plane_dir d;
	char what[NAME_MAX + 32];
	int want = act == ACT_LIST ? PLANE_MAY_READ :
		   act == ACT_LOOKUP ? PLANE_MAY_USE :
				       PLANE_MAY_WRITE | PLANE_MAY_USE;

	plane_dir_attr(fs->plane, o->kind, &d);
	if (plane_may(fs->plane, c, d.uid, d.gid, d.mode, (unsigned)want))
		return 0;
	snprintf(what, sizeof(what), name ? "the directory (for \"%s\")" :
		 "the directory%s", name ? name : "");
	return deny(fs, c, o, act, what, d.uid, d.gid, d.mode, want);
}

static int perm_res(struct fs *fs, const struct plane_caller *c,
		    const struct fs_obj *o, enum fs_act act)
{
	const struct plane_res *r = &o->res;
	int want = res_want(o, act);

	if (want == 0 || plane_may(fs->plane, c, r->uid, r->gid, r->mode,
				   (unsigned)want))
		return 0;
	/* Going into a resource's directory takes r (to view it) or x (to
	   reach run). */
	if (act == ACT_LOOKUP &&
	    plane_may(fs->plane, c, r->uid, r->gid, r->mode, PLANE_MAY_USE))
		return 0;
	if (act == ACT_LOOKUP)
		want |= PLANE_MAY_USE;
	return deny(fs, c, o, act, "it", r->uid, r->gid, r->mode, want);
}

/* A document being written holds secret values as written: only its
 * writer reads or writes it (operators too only remove it). */
static int perm_mem(struct fs *fs, const struct plane_caller *c,
		    const struct fs_obj *o, enum fs_act act)
{
	uid_t uid;
	gid_t gid;

	tree_owner(fs->tree, o->node, &uid, &gid);
	if (c->uid == uid || (act == ACT_REMOVE &&
			      plane_is_operator(fs->plane, c)))
		return 0;
	return deny(fs, c, o, act, "a document being written", uid, gid, 0,
		    0);
}

/* The kind directory a resource's object is reached through: x on it,
 * checked again here because the kernel may have skipped the lookup
 * (a name another user resolved stays in its cache). */
static int perm_through(struct fs *fs, const struct plane_caller *c,
			const struct fs_obj *o, enum fs_act act)
{
	const struct kind *k = model_kind(o->kind);
	struct plane_dir d;
	char what[64];

	plane_dir_attr(fs->plane, o->kind, &d);
	if (plane_may(fs->plane, c, d.uid, d.gid, d.mode, PLANE_MAY_USE))
		return 0;
	snprintf(what, sizeof(what), "it: going into %s/", k ? k->dir : "");
	return deny(fs, c, o, act, what, d.uid, d.gid, d.mode,
		    PLANE_MAY_USE);
}

int fs_perm(struct fs *fs, const struct plane_caller *c,
	    const struct fs_obj *o, enum fs_act act)
{
	return fs_perm_child(fs, c, o, act, NULL);
}

int fs_perm_child(struct fs *fs, const struct plane_caller *c,
		  const struct fs_obj *o, enum fs_act act, const char *name)
{
	if (!fs->shared)
		return 0;
	if (o->what == W_MEM)
		return perm_mem(fs, c, o, act);
	if (plane_is_operator(fs->plane, c))
		return 0;
	switch (o->what) {
	case W_KINDDIR:
		return perm_kinddir(fs, c, o, act, name);
	case W_AUDIT:
		return deny(fs, c, o, act, "the audit log", 0, 0, 0, -1);
	default:
		if (!fs_ino_is_res(o->ino))
			return 0;
		return perm_through(fs, c, o, act) < 0 ? -EACCES :
							 perm_res(fs, c, o, act);
	}
}
