/*
 * proc.c - task processes: each program forked by the daemon's one keeper
 * (execfs-keeper, core/keeper.c; core/proc_keeper.c starts it), in a
 * process group of its own, the group ended together.
 *
 * proc_spawn() prepares everything in the daemon (pipes, stdin, the
 * working directory as a descriptor, argv and envp in a memory file) and
 * sends it to the keeper, which forks the program from itself: a task
 * costs the daemon no fork and no exec, whatever its size.  The task's
 * socket then carries the program's pid, the signals the daemon sends its
 * group, and the wait status once it ended.
 */
#include "proc_i.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Everything a task's request holds, made before it is sent. */
struct launch {
	const struct proc_spec *s;
	int fds[KEEPER_NFDS];	/* the keeper's (enum keeper_fd) */
	size_t nfds;		/* KEEPER_NFDS, or one less without a gate */
	int task;		/* our end of the task's socket */
	int out, err;		/* our ends of the pipes (O_NONBLOCK) */
	int gate;		/* our end of the gate; -1: none */
};

/* "<what> <subject>: <reason>"; @rc is the -errno captured by the caller. */
static int fail(struct err *e, int rc, const char *what, const char *subject)
{
	return err_set(e, rc, "%s%s%s: %s", what, *subject ? " " : "", subject,
		       strerror(-rc));
}

static void launch_init(struct launch *l, const struct proc_spec *s)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	l->s = s;
	for (i = 0; i < KEEPER_NFDS; i++)
		l->fds[i] = -1;
	l->nfds = s->before ? KEEPER_NFDS : KEEPER_NFDS - 1;
	l->task = l->out = l->err = l->gate = -1;
}

/* The keeper's descriptors: sent (it has its own now), or not needed. */
static void close_sent(struct launch *l)
{
	size_t i;

	for (i = 0; i < KEEPER_NFDS; i++)
		proc_close_fd(&l->fds[i]);
}

static void launch_release(struct launch *l)
{
	close_sent(l);
	proc_close_fd(&l->task);
	proc_close_fd(&l->out);
	proc_close_fd(&l->err);
	proc_close_fd(&l->gate);
}

static int check_spec(const struct proc_spec *s, struct err *e)
{
	if (!s->path || s->path[0] != '/')
		return err_set(e, -EINVAL, "program %s: not an absolute path",
			       s->path ? s->path : "(none)");
	if (strlen(s->path) >= PATH_MAX)
		return err_set(e, -ENAMETOOLONG, "program %.64s...: path too "
			       "long", s->path);
	if (!s->argv || !s->argv[0] || !s->envp)
		return err_set(e, -EINVAL, "program %s: no argv or envp",
			       s->path);
	if (s->as_user && s->ngroups && !s->groups)
		return err_set(e, -EINVAL, "program %s: no groups for uid %u",
			       s->path, (unsigned)s->uid);
	if (s->as_user && (s->uid == (uid_t)-1 || s->gid == (gid_t)-1))
		return err_set(e, -EINVAL, "program %s: no user to run as",
			       s->path);
	if (s->as_user && s->ngroups > KEEPER_GROUPS_MAX)
		return err_set(e, -E2BIG, "program %s: %zu groups for uid %u",
			       s->path, s->ngroups, (unsigned)s->uid);
	if (access(s->path, X_OK) < 0)
		return fail(e, -errno, "cannot execute", s->path);
	return 0;
}

/* A pipe: [0] ours, non-blocking; [1] the program's. */
static int open_pipe(int *ours, int *theirs, struct err *e)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(e, -errno, "cannot make a pipe", "");
	*ours = p[0];
	*theirs = p[1];
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		return fail(e, -errno, "cannot make a pipe non-blocking", "");
	return 0;
}

static int open_socket(int *ours, int *theirs, int type, struct err *e)
{
	int p[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, p) < 0)
		return fail(e, -errno, "cannot make a socket pair", "");
	*ours = p[0];
	*theirs = p[1];
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

/* KEEPER_FD_DATA: the gids, then the path, argv and envp as
 * NUL-terminated strings, never on a command line, which every local user
 * can read; written from where they are, so no copy of a secret is made
 * in the daemon.  Return: the fd; -errno. */
static int data_file_for(const struct proc_spec *s)
{
	size_t n = count(s->argv), m = count(s->envp), i;
	struct iovec *iov = calloc(n + m + 2, sizeof(*iov));
	int fd = iov ? memfd("execfs-task") : -1;
	int rc = iov ? (fd < 0 ? -errno : 0) : -ENOMEM;

	if (rc == 0) {
		iov[0].iov_base = s->as_user ? (void *)s->groups : NULL;
		iov[0].iov_len = s->as_user ? s->ngroups * sizeof(*s->groups) :
			0;
		iov[1] = (struct iovec){ (void *)s->path,
					 strlen(s->path) + 1 };
		for (i = 0; i < n; i++)
			iov[2 + i] = (struct iovec){ s->argv[i],
						     strlen(s->argv[i]) + 1 };
		for (i = 0; i < m; i++)
			iov[2 + n + i] = (struct iovec){
				s->envp[i], strlen(s->envp[i]) + 1 };
		rc = write_all(fd, iov, n + m + 2);
	}
	free(iov);
	if (rc < 0 && fd >= 0)
		close(fd);
	return rc < 0 ? rc : fd;
}


static int launch_open(struct launch *l, struct err *e)
{
	const char *cwd = l->s->cwd ? l->s->cwd : "/";
	int *fd = l->fds, rc;

	fd[KEEPER_FD_IN] = l->s->stdin_data ?
		data_file("execfs-stdin", l->s->stdin_data, l->s->stdin_len) :
		open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd[KEEPER_FD_IN] < 0)
		return fail(e, -errno, "cannot open", l->s->stdin_data ?
			    "the standard input" : "/dev/null");
	fd[KEEPER_FD_CWD] = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd[KEEPER_FD_CWD] < 0)
		return fail(e, -errno, "working directory", cwd);
	rc = open_pipe(&l->out, &fd[KEEPER_FD_OUT], e);
	if (rc == 0)
		rc = open_pipe(&l->err, &fd[KEEPER_FD_ERR], e);
	if (rc == 0)
		rc = open_socket(&l->task, &fd[KEEPER_FD_TASK],
				 SOCK_SEQPACKET, e);
	/* a socket, so that a program gone early is EPIPE, not SIGPIPE */
	if (rc == 0 && l->s->before)
		rc = open_socket(&l->gate, &fd[KEEPER_FD_GATE], SOCK_STREAM, e);
	if (rc == 0) {
		fd[KEEPER_FD_DATA] = data_file_for(l->s);
		if (fd[KEEPER_FD_DATA] < 0)
			rc = fail(e, fd[KEEPER_FD_DATA],
				  "cannot pass the arguments of", l->s->path);
	}
	return rc;
}

static void request_of(const struct proc_spec *s, struct keeper_req *q)
{
	memset(q, 0, sizeof(*q));
	q->magic = KEEPER_MAGIC;
	q->flags = (s->as_user ? KEEPER_AS_USER : 0) |
		   (s->before ? KEEPER_GATED : 0);
	q->uid = s->as_user ? (uint32_t)s->uid : 0;
	q->gid = s->as_user ? (uint32_t)s->gid : 0;
	q->ngroups = s->as_user ? s->ngroups : 0;
	q->nargs = count(s->argv);
	q->nenv = count(s->envp);
}

/* Let the program run: a byte through the gate (EOF instead, should the
 * daemon die first: the program then never runs). */
static void open_gate(struct launch *l)
{
	while (send(l->gate, "g", 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	proc_close_fd(&l->gate);
}

/* One int32 from the task's socket.  Return: 0; -EPIPE at its EOF (the
 * keeper is gone); -errno.  The keeper closing its end with a signal of
 * ours unread resets ours once (ECONNRESET); what it sent before is still
 * there to read. */
static int recv_int(int fd, int32_t *v)
{
	bool reset = false;
	ssize_t n;

	do
		n = recv(fd, v, sizeof(*v), 0);
	while (n < 0 && (errno == EINTR ||
			 (errno == ECONNRESET && !reset && (reset = true))));
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*v) ? 0 : -EPIPE;
}

/* The program's pid, as the keeper forked it. */
static int forked(struct launch *l, struct err *e)
{
	int32_t pid;
	int rc = recv_int(l->task, &pid);

	if (rc == 0 && pid <= 0)
		rc = pid < 0 ? pid : -EPROTO;
	if (rc < 0)
		return fail(e, rc, "cannot start", l->s->path);
	return pid;
}

int proc_spawn(struct proc *out, const struct proc_spec *s, struct err *e)
{
	struct keeper_req q;
	struct launch l;
	int rc;

	launch_init(&l, s);
	rc = check_spec(s, e);
	if (rc == 0)
		rc = launch_open(&l, e);
	if (rc < 0)
		goto out;
	request_of(s, &q);
	rc = proc_keeper_send(&q, l.fds, l.nfds, e);
	close_sent(&l);
	if (rc < 0)
		goto out;
	/* the keeper forks while this runs; the program waits at the gate */
	if (s->before) {
		s->before(s->before_ctx);
		open_gate(&l);
	}
	rc = forked(&l, e);
	if (rc < 0)
		goto out;
	out->pid = rc;
	out->pid_fd = l.task;
	out->out_fd = l.out;
	out->err_fd = l.err;
	l.task = l.out = l.err = -1;
	rc = 0;
out:
	launch_release(&l);
	return rc;
}

int proc_kill(const struct proc *pr, int sig)
{
	int32_t v = sig;

	if (pr->pid_fd < 0 || sig <= 0 || sig >= NSIG)
		return 0;
	/* the keeper signals the group only while the program is unreaped;
	 * a closed socket means it ended; a full one, that the keeper is
	 * behind (the caller sends a signal or two per task) */
	while (send(pr->pid_fd, &v, sizeof(v), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		if (errno != EINTR)
			return errno == EPIPE || errno == ECONNRESET ? 0 :
			       -errno;
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

int proc_wait(struct proc *pr, int *code, bool *signaled)
{
	int32_t status;
	int rc;

	if (pr->pid_fd < 0)
		return -ECHILD;
	rc = recv_int(pr->pid_fd, &status);
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
