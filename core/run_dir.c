/*
 * run_dir.c - a run's work directory, STATE/runs/<execution id>: its
 * tasks' working directory and HOME, made when the run starts and
 * removed when it ends.
 *
 * When the tasks run as the execution's creator (the daemon is root,
 * run_who.c), the work directory is the creator's, and the state
 * directory and STATE/runs are searchable by everyone (0711) so that the
 * creator reaches it by its path (HOME) without seeing what else is
 * there; everything else in the state directory stays the daemon's alone
 * (the store makes its files 0600 and its directories 0700).  Any other
 * daemon keeps them as they are (0700).
 *
 * The removal runs as the daemon over a tree the creator wrote, perhaps
 * while a process it left behind (one that left the task's process
 * group) still changes it: it goes through descriptors (openat,
 * unlinkat), follows no symbolic link, stays on the work directory's
 * filesystem, and goes at most RM_DEPTH_MAX levels down.
 */
#include "run_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUNS "runs"
#define RUNS_MODE_SHARED 0711	/* STATE/runs of a root daemon */
#define RM_DEPTH_MAX 128	/* levels below the work directory removed */

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Give group and others x on directory @fd (a root daemon's STATE). */
static int add_search(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if ((sb.st_mode & 0011) == 0011)
		return 0;
	return fchmod(fd, (sb.st_mode & 07777) | 0011) < 0 ? -errno : 0;
}

/* Directory @fd has exactly @mode (umask aside). */
static int set_mode(int fd, mode_t mode)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if ((sb.st_mode & 07777) == mode)
		return 0;
	return fchmod(fd, mode) < 0 ? -errno : 0;
}

/* STATE/runs, made if missing, 0711 for a root daemon: a descriptor, or
 * -errno with a message. */
static int open_runs(struct plane *p, struct err *e)
{
	bool root = geteuid() == 0;
	int top, fd = -1, rc = 0;

	top = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		rc = -errno;
	if (rc == 0 && root)
		rc = add_search(top);
	if (rc == 0 && mkdirat(top, RUNS, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	if (rc == 0 && (fd = openat(top, RUNS, DIR_FLAGS)) < 0)
		rc = -errno;
	if (rc == 0 && root)
		rc = set_mode(fd, RUNS_MODE_SHARED);
	if (top >= 0)
		close(top);
	if (rc == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return err_set(e, rc, "cannot prepare %s/" RUNS ": %s", p->state_dir,
		       strerror(-rc));
}

/* The first directory from / down to @path that others may not search
 * (tasks running as their creator would not reach their HOME): warn. */
static void warn_unreachable(const char *path)
{
	char part[PATH_MAX];
	size_t len = strlen(path), i;
	struct stat sb;

	if (len >= sizeof(part))
		return;
	memcpy(part, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		part[i] = '\0';
		if (stat(part, &sb) == 0 && !(sb.st_mode & S_IXOTH)) {
			fprintf(stderr, "execfs: warning: %s is mode %04o: "
				"tasks, which run as their execution's "
				"creator, cannot reach their HOME under %s "
				"(give others x on it)\n", part,
				(unsigned)(sb.st_mode & 07777), path);
			return;
		}
		part[i] = path[i];
	}
}

int run_dir_prepare(struct plane *p, struct err *e)
{
	char runs[PATH_MAX];
	int fd = open_runs(p, e);

	if (fd < 0)
		return fd;
	close(fd);
	if (geteuid() == 0 &&
	    snprintf(runs, sizeof(runs), "%s/" RUNS, p->state_dir) <
	    (int)sizeof(runs))
		warn_unreachable(runs);
	return 0;
}

/* The work directory in @runs: r->who's when the tasks run as it. */
static int make_in(struct run *r, int runs)
{
	int fd, rc = 0;

	if (mkdirat(runs, r->id, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(runs, r->id, DIR_FLAGS);
	if (fd < 0)
		return -errno;
	if (r->as_creator && fchown(fd, r->who.uid, r->who.gid) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int run_dir_make(struct run *r, struct err *e)
{
	int runs, n, rc;

	n = snprintf(r->workdir, sizeof(r->workdir), "%s/" RUNS "/%s",
		     r->p->state_dir, r->id);
	if (n < 0 || (size_t)n >= sizeof(r->workdir)) {
		r->workdir[0] = '\0';
		return err_set(e, -ENAMETOOLONG, "work directory path too "
			       "long");
	}
	runs = open_runs(r->p, e);
	if (runs < 0)
		return runs;
	rc = make_in(r, runs);
	close(runs);
	if (rc < 0)
		return err_set(e, rc, "cannot create the work directory %s: %s",
			       r->workdir, strerror(-rc));
	return 0;
}

/* ---- removal ------------------------------------------------------- */

static bool rm_tree(int dir, const char *name, dev_t dev, unsigned depth);

/* Everything in directory @name of @dir.  Return: whether all went. */
static bool rm_children(int dir, const char *name, dev_t dev,
			unsigned depth)
{
	struct dirent *de;
	struct stat sb;
	bool all = true;
	DIR *d;
	int fd = openat(dir, name, DIR_FLAGS);

	if (fd < 0)
		return false;
	if (fstat(fd, &sb) < 0 || sb.st_dev != dev) {
		close(fd);
		return false;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			all = rm_tree(fd, de->d_name, dev, depth + 1) && all;
	closedir(d);
	return all;
}

/* @name in @dir, and all under it if it is a directory.  Return: whether
 * all went (a vanished entry did). */
static bool rm_tree(int dir, const char *name, dev_t dev, unsigned depth)
{
	bool all;

	if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
		return true;
	if ((errno != EISDIR && errno != EPERM) || depth >= RM_DEPTH_MAX)
		return false;
	all = rm_children(dir, name, dev, depth);
	if (unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return false;
	return all;
}

void run_dir_remove(struct run *r)
{
	char *slash = strrchr(r->workdir, '/');
	struct stat sb;
	int runs;

	if (!r->workdir[0] || !slash)
		return;
	*slash = '\0';
	runs = open(r->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (runs < 0)
		return;
	if (fstat(runs, &sb) == 0 && !rm_tree(runs, slash + 1, sb.st_dev, 0))
		fprintf(stderr, "execfs: %s: the work directory %s was not "
			"wholly removed\n", r->slug, r->workdir);
	close(runs);
}
