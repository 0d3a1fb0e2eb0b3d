/*
 * run_who.c - whom a run's tasks run as: the execution's creator, that is
 * its record's owner and group, with the supplementary groups its user
 * name has in the group database (what login would give it).
 *
 * A daemon running as root starts every task process of the run as that
 * user (run_shell.c through proc.h), never as root unless root created
 * the execution.  Any other daemon runs them as itself: it is the only
 * user who can create executions there.  The creator is also whom the
 * run's sub-workflow executions belong to (run_sub.c), and who must have
 * x on the workflows they call, so the groups count there too.
 */
#include "run_i.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PW_BUF_MIN 1024u	/* getpwuid_r buffer, grown on ERANGE */
#define PW_BUF_MAX (1u << 20)

void run_who_from(struct run *r, const struct store_rec *h)
{
	struct plane_res res;

	plane_res_from_hdr(&res, h);
	memset(&r->who, 0, sizeof(r->who));
	r->who.uid = res.uid;
	r->who.gid = res.gid;
	r->as_creator = geteuid() == 0 && res.uid != 0;
}

/* What getpwuid_r() says when there is no such user (0 with no result,
 * or one of the errors its manual lists for that). */
static bool no_such_user(int rc)
{
	return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF ||
	       rc == EPERM;
}

/* The passwd entry of @uid into *@pw, its strings in *@buf (the caller
 * frees it).  Return: 1 found; 0 no such user; -errno. */
static int passwd_of(uid_t uid, struct passwd *pw, char **buf)
{
	struct passwd *res = NULL;
	size_t cap;
	char *b = NULL, *nb;
	int rc = ERANGE;

	for (cap = PW_BUF_MIN; rc == ERANGE && cap <= PW_BUF_MAX; cap *= 4) {
		nb = realloc(b, cap);
		if (!nb) {
			free(b);
			return -ENOMEM;
		}
		b = nb;
		rc = getpwuid_r(uid, pw, b, cap, &res);
	}
	if (rc == 0 && res) {
		*buf = b;
		return 1;
	}
	free(b);
	return no_such_user(rc) ? 0 : -rc;
}

/* getgrouplist() of @pw into r->who.groups; more groups than fit are
 * cut (r->ngroups_all says how many there were). */
static int group_list(struct run *r, const struct passwd *pw)
{
	int n = PLANE_GROUPS_MAX;

	if (getgrouplist(pw->pw_name, pw->pw_gid, r->who.groups, &n) < 0) {
		/* -1 with n not above the room: it failed (out of memory),
		 * and what it wrote is not to be trusted. */
		if (n <= PLANE_GROUPS_MAX)
			return -ENOMEM;
		r->ngroups_all = n;
		n = PLANE_GROUPS_MAX;
	} else {
		r->ngroups_all = n;
	}
	r->who.ngroups = (unsigned)n;
	return 0;
}

int run_who_groups(struct run *r, struct err *e)
{
	struct passwd pw;
	char *buf = NULL;
	int rc;

	if (r->who.uid == geteuid())
		return 0;
	rc = passwd_of(r->who.uid, &pw, &buf);
	if (rc > 0)
		rc = group_list(r, &pw);
	free(buf);
	if (rc < 0)
		return err_set(e, rc, "cannot look up the groups of uid %u, who "
			       "created the execution: %s",
			       (unsigned)r->who.uid, strerror(-rc));
	return 0;
}
