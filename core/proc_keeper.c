/*
 * proc_keeper.c - the daemon's one execfs-keeper (core/keeper.c): found
 * and held open at startup, started with posix_spawn at the first task
 * (and again should it die, or in a forked child that spawns), sent a
 * request per task.
 */
#include "proc_i.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef EXECFS_LIBEXECDIR
#define EXECFS_LIBEXECDIR "/usr/local/libexec"
#endif

#define EXEC_FD 4	/* the keeper is executed through it */

static char keeper_at[PATH_MAX];
static int keeper_fd = -1;	/* keeper_at, opened once (O_PATH) */
static pthread_once_t keeper_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int ctl = -1;		/* our end of its request socket */
static pid_t running = -1;	/* the keeper's pid */
static pid_t owner = -1;	/* the process that started it */

/* ---- finding it ------------------------------------------------------ */

/* Whether @path is root's or ours and nobody else may change it. */
static bool trusted(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 &&
	       (st.st_uid == 0 || st.st_uid == geteuid()) &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* @dir/execfs-keeper into keeper_at if it is there, and neither it nor
 * @dir can be changed by anyone but root or us: it runs as root and
 * starts every task.  Return: found. */
static bool keeper_in(const char *dir, size_t len)
{
	char d[PATH_MAX];
	int n = snprintf(keeper_at, sizeof(keeper_at), "%.*s/execfs-keeper",
			 (int)len, dir);

	snprintf(d, sizeof(d), "%.*s", (int)len, dir);
	if (n > 0 && (size_t)n < sizeof(keeper_at) &&
	    access(keeper_at, X_OK) == 0 && trusted(keeper_at) && trusted(d))
		return true;
	keeper_at[0] = '\0';
	return false;
}

/* Next to the running program (the build tree, or an install's bindir
 * when libexec is the same), else installed in libexec, else in the
 * build tree (the unit test programs live elsewhere in it). */
static void find_keeper(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && keeper_in(self, (size_t)(slash - self)))
			return;
	}
	if (keeper_in(EXECFS_LIBEXECDIR, strlen(EXECFS_LIBEXECDIR)))
		return;
#ifdef EXECFS_KEEPER_BUILD_DIR
	keeper_in(EXECFS_KEEPER_BUILD_DIR, strlen(EXECFS_KEEPER_BUILD_DIR));
#endif
}

/* Above every fd the keeper's start puts in place (0-4). */
static int raise_fd(int fd)
{
	int hi;

	if (fd < 0 || fd > EXEC_FD)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, EXEC_FD + 1);
	close(fd);
	return hi;
}

/* Find the keeper and hold it open: the daemon may be mounted over the
 * directory it is in (scripts/run ~/execfs from ~/execfs), and the tasks
 * must still find it. */
static void open_keeper(void)
{
	find_keeper();
	keeper_fd = keeper_at[0] ?
		    raise_fd(open(keeper_at, O_PATH | O_CLOEXEC)) : -1;
}

const char *proc_keeper_find(void)
{
	pthread_once(&keeper_once, open_keeper);
	return keeper_fd >= 0 ? keeper_at : NULL;
}

/* ---- starting it ----------------------------------------------------- */

/* /dev/null on 0 and 1, our stderr on 2 (/dev/null if we have none), the
 * request socket on 3, the keeper's file on 4, nothing else. */
static int keeper_fds(posix_spawn_file_actions_t *fa, int sock)
{
	int rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null",
						  O_RDONLY, 0);

	if (!rc)
		rc = posix_spawn_file_actions_addopen(fa, 1, "/dev/null",
						      O_WRONLY, 0);
	if (!rc && fcntl(2, F_GETFD) < 0)
		rc = posix_spawn_file_actions_addopen(fa, 2, "/dev/null",
						      O_WRONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, sock, KEEPER_CTL_FD);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, keeper_fd, EXEC_FD);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, EXEC_FD + 1);
	return rc;
}

/* A session of its own, every disposition default, every signal blocked
 * (it keeps them so), an empty environment. */
static int keeper_spawn(int sock, pid_t *pid)
{
	static char *const argv[] = { "execfs-keeper", NULL };
	static char *const no_env[] = { NULL };
	char path[32];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	sigset_t all;
	int rc;

	sigfillset(&all);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", EXEC_FD);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&a);
	rc = keeper_fds(&fa, sock);
	if (!rc)
		rc = posix_spawnattr_setflags(&a, POSIX_SPAWN_SETSID |
					      POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSIGMASK);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&a, &all);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&a, &all);
	if (!rc)
		rc = posix_spawn(pid, path, &fa, &a, argv, no_env);
	posix_spawnattr_destroy(&a);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

/* Let go of the keeper we have: ours is reaped (it ends at the EOF);
 * one inherited through fork is our parent's, and stays its. */
static void drop(void)
{
	int status;

	if (ctl >= 0)
		close(ctl);
	if (owner == getpid() && running > 0)
		while (waitpid(running, &status, 0) < 0 && errno == EINTR)
			;
	ctl = -1;
	running = owner = -1;
}

static int start(struct err *e)
{
	int sv[2], rc;

	drop();
	if (!proc_keeper_find())
		return err_set(e, -ENOENT, "cannot find execfs-keeper (next "
			       "to the daemon, or in %s)", EXECFS_LIBEXECDIR);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(e, -errno, "cannot make a socket pair: %s",
			       strerror(errno));
	sv[1] = raise_fd(sv[1]);
	rc = sv[1] < 0 ? -EMFILE : keeper_spawn(sv[1], &running);
	if (sv[1] >= 0)
		close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		running = -1;
		return err_set(e, rc, "cannot start execfs-keeper: %s",
			       strerror(-rc));
	}
	ctl = sv[0];
	owner = getpid();
	return 0;
}

/* ---- talking to it --------------------------------------------------- */

static int send_req(const struct keeper_req *q, const int *fds, size_t n)
{
	union {
		char buf[CMSG_SPACE(KEEPER_NFDS * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec io = { (void *)q, sizeof(*q) };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = cm.buf,
			    .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
	struct cmsghdr *c;

	memset(&cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	while (sendmsg(ctl, &m, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static bool gone(int rc)
{
	return rc == -EPIPE || rc == -ECONNRESET || rc == -ENOTCONN ||
	       rc == -ECONNREFUSED;
}

int proc_keeper_send(const struct keeper_req *q, const int *fds, size_t n,
		     struct err *e)
{
	int rc = 0, tries;

	pthread_mutex_lock(&mu);
	for (tries = 0; tries < 2; tries++) {
		if (ctl < 0 || owner != getpid()) {
			rc = start(e);
			if (rc < 0)
				goto out;	/* said why */
		}
		rc = send_req(q, fds, n);
		if (!gone(rc))
			break;
		drop();		/* it died: a new one, once */
	}
	if (rc < 0)
		err_set(e, rc, "cannot reach execfs-keeper: %s",
			strerror(-rc));
out:
	pthread_mutex_unlock(&mu);
	return rc;
}
