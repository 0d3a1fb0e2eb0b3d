/*
 * proc.c - task processes: a keeper per task (execfs-keeper, core/keeper.c),
 * the program under it, the whole process group ended together.
 *
 * proc_spawn() prepares everything in the daemon (pipes, stdin, the
 * working directory as a descriptor, argv and envp from the caller) and
 * starts the keeper with posix_spawn: glibc's vfork-style clone shares the
 * daemon's memory until the exec, so a task costs the daemon no copy of
 * its page tables and no copy-on-write faults, whatever its size.  The
 * spawn attributes give the keeper a session of its own (its process
 * group), every disposition default and every signal blocked until it has
 * armed the parent-death signal; file actions put stdin, the pipes and
 * the "armed" pipe on fds 0-3 and enter the working directory.
 *
 * The group id is the keeper's pid.  proc_wait() kills what is left of the
 * group before it reaps the keeper: while the keeper is an unreaped zombie
 * its pid, hence the group id, cannot be given to another process.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Everything the keeper and the program need, made before fork. */
struct launch {
	const struct proc_spec *s;
	pid_t daemon;		/* the keeper's expected parent */
	int death_sig;		/* sent to the keeper when its parent dies */
	int null_fd;		/* /dev/null, becomes stdin */
	int cwd_fd;		/* the working directory (O_PATH) */
	int out[2];		/* stdout pipe: [0] the daemon's, [1] fd 1 */
	int err[2];		/* stderr pipe, likewise fd 2 */
	int armed[2];		/* EOF on [0]: the death signal is armed */
	int gate[2];		/* a byte on [0] (fd 6): the program may run */
	int data_fd;		/* gids, argv and envp, for the keeper */
	char num[7][24];	/* the daemon's pid, death signal, uid, gid,
				   groups, arguments, environment */
	char *argv[10];		/* the keeper's */
};

/* ---- in the daemon ---- */

/* "<what> <subject>: <reason>"; @rc is the -errno captured by the caller. */
static int fail(struct err *e, int rc, const char *what, const char *subject)
{
	return err_set(e, rc, "%s%s%s: %s", what, *subject ? " " : "", subject,
		       strerror(-rc));
}

static void launch_init(struct launch *l, const struct proc_spec *s)
{
	memset(l, 0, sizeof(*l));
	l->s = s;
	l->daemon = getpid();
	l->death_sig = SIGRTMIN;
	l->null_fd = l->cwd_fd = -1;
	l->out[0] = l->out[1] = l->err[0] = l->err[1] = -1;
	l->armed[0] = l->armed[1] = l->data_fd = -1;
	l->gate[0] = l->gate[1] = -1;
}

static void launch_release(struct launch *l)
{
	proc_close_fd(&l->data_fd);
	proc_close_fd(&l->null_fd);
	proc_close_fd(&l->cwd_fd);
	proc_close_fd(&l->out[0]);
	proc_close_fd(&l->out[1]);
	proc_close_fd(&l->err[0]);
	proc_close_fd(&l->err[1]);
	proc_close_fd(&l->armed[0]);
	proc_close_fd(&l->armed[1]);
	proc_close_fd(&l->gate[0]);
	proc_close_fd(&l->gate[1]);
}

static int check_spec(const struct proc_spec *s, struct err *e)
{
	if (!s->path || s->path[0] != '/')
		return err_set(e, -EINVAL, "program %s: not an absolute path",
			       s->path ? s->path : "(none)");
	if (!s->argv || !s->argv[0] || !s->envp)
		return err_set(e, -EINVAL, "program %s: no argv or envp",
			       s->path);
	if (s->as_user && s->ngroups && !s->groups)
		return err_set(e, -EINVAL, "program %s: no groups for uid %u",
			       s->path, (unsigned)s->uid);
	if (access(s->path, X_OK) < 0)
		return fail(e, -errno, "cannot execute", s->path);
	return 0;
}

/* Move @fd above 2 (a daemon started without fds 0-2 gets them from its
 * first opens): the file actions' dup2 calls onto 0-4 must not overwrite
 * one another's sources. */
static int raise_fd(int fd)
{
	int hi;

	if (fd < 0 || fd > 4)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, 5);
	close(fd);
	return hi;
}

static int open_pipe(int p[2], struct err *e)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(e, -errno, "cannot make a pipe", "");
	p[1] = raise_fd(p[1]);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		return fail(e, -errno, "cannot make a pipe non-blocking", "");
	return 0;
}

/* A close-on-exec memory file; never executable where the kernel can
 * say so (with vm.memfd_noexec=2, Linux 6.3-6.5 refuse one without
 * MFD_NOEXEC_SEAL; kernels before 6.3 do not know the flag). */
static int memfd(const char *name)
{
#ifdef MFD_NOEXEC_SEAL
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_NOEXEC_SEAL);

	if (fd >= 0 || errno != EINVAL)
		return fd;
#endif
	return memfd_create(name, MFD_CLOEXEC);
}

/* Write @cnt pieces to @fd, whatever the kernel takes per call. */
static int write_all(int fd, struct iovec *iov, size_t cnt)
{
	ssize_t w;

	while (cnt) {
		w = writev(fd, iov, cnt > IOV_MAX ? IOV_MAX : (int)cnt);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		while (cnt && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* A memory file holding @n bytes of @data, at offset 0.  Return: the
   fd; -1 and errno. */
static int data_file(const char *name, const void *data, size_t n)
{
	struct iovec one = {(void *)data, n};
	int fd = memfd(name), rc = fd < 0 ? -errno : write_all(fd, &one, 1);

	if (!rc && lseek(fd, 0, SEEK_SET) < 0)
		rc = -errno;
	if (rc < 0 && fd >= 0)
		close(fd);
	if (rc < 0)
		errno = -rc;
	return rc < 0 ? -1 : fd;
}

static size_t count(char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

/* The keeper's fd 4 (see core/keeper.c): the gids, then argv and envp as
 * NUL-terminated strings, never on its command line, which every local
 * user can read; written from where they are, so no copy of a secret is
 * made in the daemon.  Return: the fd; -errno. */
static int data_file_for(const struct proc_spec *s)
{
	size_t n = count(s->argv), m = count(s->envp), i;
	struct iovec *iov = calloc(n + m + 1, sizeof(*iov));
	int fd = iov ? memfd("execfs-task") : -1;
	int rc = iov ? (fd < 0 ? -errno : 0) : -ENOMEM;

	if (rc == 0) {
		iov[0].iov_base = s->as_user ? (void *)s->groups : NULL;
		iov[0].iov_len = s->as_user ? s->ngroups * sizeof(*s->groups) :
			0;
		for (i = 0; i < n; i++)
			iov[1 + i] = (struct iovec){ s->argv[i],
						     strlen(s->argv[i]) + 1 };
		for (i = 0; i < m; i++)
			iov[1 + n + i] = (struct iovec){
				s->envp[i], strlen(s->envp[i]) + 1 };
		rc = write_all(fd, iov, n + m + 1);
	}
	free(iov);
	if (rc < 0 && fd >= 0)
		close(fd);
	return rc < 0 ? rc : fd;
}

static int launch_open(struct launch *l, struct err *e)
{
	const char *cwd = l->s->cwd ? l->s->cwd : "/";
	int rc;

	l->null_fd = raise_fd(l->s->stdin_data ?
			      data_file("execfs-stdin", l->s->stdin_data,
					l->s->stdin_len) :
			      open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (l->null_fd < 0)
		return fail(e, -errno, "cannot open", l->s->stdin_data ?
			    "the standard input" : "/dev/null");
	l->cwd_fd = raise_fd(open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC));
	if (l->cwd_fd < 0)
		return fail(e, -errno, "working directory", cwd);
	if (pipe2(l->armed, O_CLOEXEC) < 0)
		return fail(e, -errno, "cannot make a pipe", "");
	l->armed[1] = raise_fd(l->armed[1]);
	rc = open_pipe(l->out, e);
	if (rc == 0)
		rc = open_pipe(l->err, e);
	if (rc == 0) {
		int fd = data_file_for(l->s);

		l->data_fd = fd < 0 ? fd : raise_fd(fd);
		if (fd < 0 || l->data_fd < 0)
			rc = fail(e, fd < 0 ? fd : -EMFILE,
				  "cannot pass the arguments of", l->s->path);
	}
	/* a socket, so that a keeper gone early is EPIPE, not SIGPIPE */
	if (rc == 0 && l->s->before &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->gate) < 0)
		rc = fail(e, -errno, "cannot make a socket pair", "");
	/* above 6: fds 5 and 6 are dup2 targets (the keeper, then this) */
	if (rc == 0 && l->s->before && l->gate[0] < 7) {
		int hi = fcntl(l->gate[0], F_DUPFD_CLOEXEC, 7);

		close(l->gate[0]);
		l->gate[0] = hi;
	}
	if (rc == 0 && (l->armed[1] < 0 || l->out[1] < 0 || l->err[1] < 0 ||
			(l->s->before && l->gate[0] < 0)))
		rc = fail(e, -EMFILE, "cannot place a pipe", "");
	return rc;
}

#ifndef EXECFS_LIBEXECDIR
#define EXECFS_LIBEXECDIR "/usr/local/libexec"
#endif

static char keeper_at[PATH_MAX];
static int keeper_fd = -1;	/* keeper_at, opened once (O_PATH) */
static pthread_once_t keeper_once = PTHREAD_ONCE_INIT;

/* Whether @path is root's or ours and nobody else may change it. */
static bool trusted(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 &&
	       (st.st_uid == 0 || st.st_uid == geteuid()) &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* @dir/execfs-keeper into keeper_at if it is there, and neither it nor
 * @dir can be changed by anyone but root or us: the daemon runs it as
 * root for every task.  Return: found. */
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

/* Find the keeper and hold it open: the daemon may be mounted over the
 * directory it is in (scripts/run ~/execfs from ~/execfs), and the tasks
 * must still find it. */
static void open_keeper(void)
{
	int fd, hi;

	find_keeper();
	fd = keeper_at[0] ? open(keeper_at, O_PATH | O_CLOEXEC) : -1;
	if (fd >= 0 && fd < 6) {	/* above the file actions' targets */
		hi = fcntl(fd, F_DUPFD_CLOEXEC, 6);
		close(fd);
		fd = hi;
	}
	keeper_fd = fd;
}

const char *proc_keeper_find(void)
{
	pthread_once(&keeper_once, open_keeper);
	return keeper_fd >= 0 ? keeper_at : NULL;
}

/* The keeper's argv (see core/keeper.c): ids and counts only. */
static void keeper_argv(struct launch *l, const char *keeper)
{
	const struct proc_spec *s = l->s;

	snprintf(l->num[0], sizeof(l->num[0]), "%ld", (long)l->daemon);
	snprintf(l->num[1], sizeof(l->num[1]), "%d", l->death_sig);
	snprintf(l->num[2], sizeof(l->num[2]), "%u", (unsigned)s->uid);
	snprintf(l->num[3], sizeof(l->num[3]), "%u", (unsigned)s->gid);
	snprintf(l->num[4], sizeof(l->num[4]), "%zu",
		 s->as_user ? s->ngroups : 0);
	snprintf(l->num[5], sizeof(l->num[5]), "%zu", count(s->argv));
	snprintf(l->num[6], sizeof(l->num[6]), "%zu", count(s->envp));
	l->argv[0] = (char *)keeper;
	l->argv[1] = l->num[0];
	l->argv[2] = l->num[1];
	l->argv[3] = s->as_user ? l->num[2] : (char *)"-";
	l->argv[4] = l->num[3];
	l->argv[5] = l->num[4];
	l->argv[6] = (char *)s->path;
	l->argv[7] = l->num[5];
	l->argv[8] = l->num[6];
	l->argv[9] = NULL;
}

/* stdin, the pipes and the armed pipe on 0-3, the working directory. */
static int keeper_fds(const struct launch *l, posix_spawn_file_actions_t *fa)
{
	int rc = posix_spawn_file_actions_adddup2(fa, l->null_fd, 0);

	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, l->out[1], 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, l->err[1], 2);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, l->armed[1], 3);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, l->data_fd, 4);
	if (!rc)
		rc = posix_spawn_file_actions_addfchdir_np(fa, l->cwd_fd);
	/* the keeper itself, executed through fd 5 (found at startup) */
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, keeper_fd, 5);
	/* the gate, when there is one */
	if (!rc && l->gate[0] >= 0)
		rc = posix_spawn_file_actions_adddup2(fa, l->gate[0], 6);
	/* no descriptor of the daemon's reaches the keeper (libcurl's
	 * sockets, say, are not close-on-exec) */
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(
		    fa, l->gate[0] >= 0 ? 7 : 6);
	return rc;
}

/* A session of its own, every disposition default, every signal blocked
 * until it armed the death signal. */
static int keeper_attr(posix_spawnattr_t *a)
{
	sigset_t all;
	int rc;

	sigfillset(&all);
	rc = posix_spawnattr_setflags(a, POSIX_SPAWN_SETSID |
				      POSIX_SPAWN_SETSIGDEF |
				      POSIX_SPAWN_SETSIGMASK);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(a, &all);
	return rc ? rc : posix_spawnattr_setsigmask(a, &all);
}

static pid_t spawn_keeper(struct launch *l, struct err *e)
{
	static char *const no_env[] = { NULL };
	const char *keeper = proc_keeper_find();
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	pid_t pid = -1;
	int rc;

	if (!keeper)
		return err_set(e, -ENOENT, "cannot find execfs-keeper (next "
			       "to the daemon, or in %s)", EXECFS_LIBEXECDIR);
	keeper_argv(l, keeper);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&a);
	rc = keeper_fds(l, &fa);
	if (!rc)
		rc = keeper_attr(&a);
	if (!rc)
		rc = posix_spawn(&pid, "/proc/self/fd/5", &fa, &a, l->argv,
				 no_env);
	posix_spawnattr_destroy(&a);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return fail(e, -rc, "cannot start", l->s->path);
	return pid;
}

/*
 * The death signal fires when the thread that forked ends.  Had that
 * thread ended before the keeper armed the signal, nothing would fire:
 * wait until the keeper closed its end of the pipe (or died).
 */
static void wait_armed(struct launch *l)
{
	char c;

	proc_close_fd(&l->armed[1]);
	while (read(l->armed[0], &c, 1) < 0 && errno == EINTR)
		;
}

/* Let the program run: a byte through the gate (EOF instead, should the
 * daemon die first: the program then never runs). */
static void open_gate(struct launch *l)
{
	proc_close_fd(&l->gate[0]);
	while (send(l->gate[1], "g", 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	proc_close_fd(&l->gate[1]);
}

/* The pidfd of our own unreaped child: its pid cannot be reused yet. */
static int open_pidfd(pid_t pid, struct err *e)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status;

	if (fd >= 0)
		return fd;
	fd = -errno;
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return fail(e, fd, "pidfd_open", "");
}

int proc_spawn(struct proc *out, const struct proc_spec *s, struct err *e)
{
	struct launch l;
	pid_t pid;
	int rc;

	launch_init(&l, s);
	rc = check_spec(s, e);
	if (rc == 0)
		rc = launch_open(&l, e);
	if (rc < 0)
		goto out;
	pid = spawn_keeper(&l, e);
	if (pid < 0) {
		rc = pid;
		goto out;
	}
	if (s->before) {
		s->before(s->before_ctx);
		open_gate(&l);
	}
	wait_armed(&l);
	rc = open_pidfd(pid, e);
	if (rc < 0)
		goto out;
	out->pid = pid;
	out->pid_fd = rc;
	out->out_fd = l.out[0];
	out->err_fd = l.err[0];
	l.out[0] = l.err[0] = -1;
	rc = 0;
out:
	launch_release(&l);
	return rc;
}

int proc_kill(const struct proc *pr, int sig)
{
	if (pr->pid <= 1)
		return 0;
	if (kill(-pr->pid, sig) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

ssize_t proc_read(int fd, void *buf, size_t cap)
{
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	do
		n = read(fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

void proc_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int wait_exited(pid_t pid, int *status)
{
	siginfo_t si;

	/* Wait without reaping, kill the rest of the group, then reap. */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			return -errno;
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int proc_wait(struct proc *pr, int *code, bool *signaled)
{
	int status, rc;

	if (pr->pid_fd < 0)
		return -ECHILD;
	rc = wait_exited(pr->pid, &status);
	proc_close_fd(&pr->pid_fd);
	if (rc < 0)
		return rc;
	*signaled = WIFSIGNALED(status);
	if (*signaled)
		*code = 128 + WTERMSIG(status);
	else
		*code = WEXITSTATUS(status);
	return 0;
}

void proc_release(struct proc *pr)
{
	proc_close_fd(&pr->out_fd);
	proc_close_fd(&pr->err_fd);
	proc_close_fd(&pr->pid_fd);
}
