/*
 * keeper.c - execfs-keeper, the one small process every task program is
 * forked from.  The daemon starts it once (core/proc.c, posix_spawn) and
 * sends it a request per task (core/keeper.h); forking this small
 * process costs little, and the daemon's own memory is never copied.
 *
 * Each program leads a session of its own (its process group), starts
 * with every disposition default, an empty signal mask and fds 0-2 alone,
 * as the execution's creator when asked, after the daemon's byte on the
 * gate when there is one.  When it ends, the keeper kills what is left of
 * its group before it reaps it (so the group id cannot have been reused),
 * then reports the wait status.  When the daemon is gone (EOF on the
 * request socket, even after a SIGKILL), the keeper kills every group and
 * exits; should the keeper itself be killed, each program gets SIGKILL
 * (its parent-death signal).
 *
 * The keeper runs as root with an empty environment, so nothing a task's
 * author writes (LD_PRELOAD, GLIBC_TUNABLES) reaches it, and with every
 * signal blocked: a stray signal never ends it, and SIGCHLD comes through
 * a signalfd.  A program's argv and environment (its secrets) come in a
 * memory file that only the forked child reads; they are never on a
 * command line, which every local user can read.
 */
#include "keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIDS_MAX 65536
/* in the child, between its fork and execve */
#define GATE_FD 3
#define CWD_FD 4
#define DATA_FD 5

struct kid {
	pid_t pid;	/* the program; also its group and session id */
	int sock;	/* the task's socket; -1 once the daemon let go */
};

static struct kid *kids;
static size_t n_kids, cap_kids;
static int sig_fd = -1;

/* ---- in the child, between fork and execve ----------------------------- */

struct task {
	struct keeper_req req;
	int fds[KEEPER_NFDS];
	char *data;	/* the memory file's bytes: gids, then strings */
	size_t data_len;
	gid_t *groups;
	char *path;
	char **argv;
	char **envp;
};

/* "execfs: <what><arg>: <reason>" on the task's stderr, for its log. */
static void say(const char *what, const char *arg, int err)
{
	dprintf(2, "execfs: %s%s: %s\n", what, arg, strerror(err));
}

__attribute__((noreturn)) static void fail(const char *what,
					   const char *arg, int err)
{
	say(what, arg, err);
	_exit(127);
}

/* All of the memory file into t->data (NUL-terminated past its end). */
static int read_data(struct task *t)
{
	int fd = t->fds[KEEPER_FD_DATA];
	struct stat st;
	size_t got = 0;
	ssize_t r;

	if (fstat(fd, &st) < 0 || st.st_size < 0 ||
	    (unsigned long long)st.st_size > KEEPER_DATA_MAX)
		return -1;
	t->data_len = (size_t)st.st_size;
	t->data = malloc(t->data_len + 1);
	while (t->data && got < t->data_len) {
		r = pread(fd, t->data + got, t->data_len - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	if (!t->data)
		return -1;
	t->data[t->data_len] = '\0';
	return 0;
}

/* @n strings from *@at into a NULL-terminated array; *@at moves past
 * them.  Each must end with its NUL within the data. */
static char **strings(struct task *t, size_t *at, uint64_t n)
{
	/* every string takes a byte at least: a count past that is a lie */
	char **v = n <= t->data_len - *at ? calloc(n + 1, sizeof(*v)) : NULL;
	size_t i, len;

	for (i = 0; v && i < n; i++) {
		if (*at >= t->data_len)
			break;
		len = strnlen(t->data + *at, t->data_len - *at);
		if (*at + len >= t->data_len)
			break;
		v[i] = t->data + *at;
		*at += len + 1;
	}
	if (v && i < n) {
		free(v);
		return NULL;
	}
	return v;
}

/* The gids, path, argv and envp out of t->data: every byte accounted. */
static int split_data(struct task *t)
{
	size_t at = t->req.ngroups * sizeof(*t->groups);
	char **path;

	if (at > t->data_len)
		return -1;
	t->groups = (gid_t *)(void *)t->data;	/* malloc'd: aligned */
	path = strings(t, &at, 1);
	if (!path || path[0][0] != '/')
		return -1;
	t->path = path[0];
	t->argv = strings(t, &at, t->req.nargs);
	t->envp = t->argv ? strings(t, &at, t->req.nenv) : NULL;
	return t->envp && t->argv[0] && at == t->data_len ? 0 : -1;
}

/* Become the creator: the groups first, while that is still allowed, the
 * uid last, since it gives up the right to change the others. */
static int switch_user(const struct task *t)
{
	if (setgroups(t->req.ngroups, t->groups) < 0 ||
	    setresgid(t->req.gid, t->req.gid, t->req.gid) < 0 ||
	    setresuid(t->req.uid, t->req.uid, t->req.uid) < 0)
		return -1;
	return 0;
}

/* With a gate, wait for the daemon's byte: its EOF (the daemon died, or
 * gave up) means the program must not run. */
static void pass_gate(void)
{
	char c;
	ssize_t n;

	do
		n = read(GATE_FD, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);
	close(GATE_FD);
}

/* stdin, stdout, stderr on 0-2, the gate on 3, the working directory and
 * the data on 4 and 5 (every source is above 5: 0-5 were open when the
 * request came), and nothing else: not the keeper's sockets, nor other
 * tasks', while this child may stall (a working directory on NFS). */
static void place_fds(struct task *t)
{
	bool gated = t->req.flags & KEEPER_GATED;

	if (dup2(t->fds[KEEPER_FD_IN], 0) < 0 ||
	    dup2(t->fds[KEEPER_FD_OUT], 1) < 0 ||
	    dup2(t->fds[KEEPER_FD_ERR], 2) < 0 ||
	    dup2(gated ? t->fds[KEEPER_FD_GATE] : t->fds[KEEPER_FD_IN],
		 GATE_FD) < 0 ||
	    dup2(t->fds[KEEPER_FD_CWD], CWD_FD) < 0 ||
	    dup2(t->fds[KEEPER_FD_DATA], DATA_FD) < 0 ||
	    syscall(SYS_close_range, DATA_FD + 1u, ~0U, 0U) < 0)
		_exit(127);
	if (!gated)
		close(GATE_FD);
	t->fds[KEEPER_FD_DATA] = DATA_FD;
	if (fchdir(CWD_FD) < 0)
		fail("cannot enter the working directory", "", errno);
	if (read_data(t) < 0 || split_data(t) < 0)
		fail("keeper: ", "bad task data", EINVAL);
	close(CWD_FD);
	close(DATA_FD);
}

__attribute__((noreturn)) static void program(struct task *t, pid_t keeper)
{
	sigset_t none;
	char uid[16];

	setsid();
	place_fds(t);
	if (t->req.flags & KEEPER_GATED)
		pass_gate();
	if ((t->req.flags & KEEPER_AS_USER) && switch_user(t) < 0) {
		snprintf(uid, sizeof(uid), "%u", t->req.uid);
		fail("cannot switch to uid ", uid, errno);
	}
	/* after the switch, which clears it; the keeper may be gone */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != keeper)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(t->path, t->argv, t->envp);
	fail("cannot execute ", t->path, errno);
}

/* ---- in the keeper ----------------------------------------------------- */

static void close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void reply(int sock, int32_t v)
{
	while (send(sock, &v, sizeof(v), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* The descriptors of a request, in order; how many came. */
static size_t take_fds(struct msghdr *m, int *fds)
{
	struct cmsghdr *c;
	size_t n = 0, k, i;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < KEEPER_NFDS)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

static bool valid(const struct task *t, ssize_t len, size_t nfds, int flags)
{
	size_t want = t->req.flags & KEEPER_GATED ? KEEPER_NFDS :
		      KEEPER_NFDS - 1;

	return len == (ssize_t)sizeof(t->req) && !(flags & MSG_CTRUNC) &&
	       t->req.magic == KEEPER_MAGIC && nfds == want &&
	       t->req.uid != (uint32_t)-1 && t->req.gid != (uint32_t)-1 &&
	       !(t->req.flags & ~(KEEPER_AS_USER | KEEPER_GATED)) &&
	       t->req.ngroups <= KEEPER_GROUPS_MAX &&
	       ((t->req.flags & KEEPER_AS_USER) || !t->req.ngroups) &&
	       t->req.nargs >= 1 && t->req.nargs <= KEEPER_DATA_MAX &&
	       t->req.nenv <= KEEPER_DATA_MAX;
}

static int add_kid(pid_t pid, int sock)
{
	struct kid *k;

	if (n_kids == cap_kids) {
		k = realloc(kids, (cap_kids ? 2 * cap_kids : 64) * sizeof(*k));
		if (!k)
			return -1;
		kids = k;
		cap_kids = cap_kids ? 2 * cap_kids : 64;
	}
	kids[n_kids++] = (struct kid){ pid, sock };
	return 0;
}

/* Fork the task's program; the task's socket stays, the rest goes. */
static void start(struct task *t)
{
	int sock = t->fds[KEEPER_FD_TASK];
	pid_t self = getpid();	/* not getppid() in the child: we may die */
	pid_t pid = n_kids < KIDS_MAX ? fork() : (errno = EAGAIN, -1);

	if (pid == 0)
		program(t, self);
	t->fds[KEEPER_FD_TASK] = -1;
	close_fds(t->fds, KEEPER_NFDS);
	if (pid > 0 && add_kid(pid, sock) < 0) {
		kill(pid, SIGKILL);	/* reaped and told as any other */
		pid = -1;
		errno = ENOMEM;
	}
	if (pid < 0) {
		reply(sock, -errno);
		close(sock);
		return;
	}
	reply(sock, pid);
}

/* One request from the daemon.  Return: -1 at EOF (the daemon is gone). */
static int request(int ctl)
{
	union {
		char buf[CMSG_SPACE(KEEPER_NFDS * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct task t = { 0 };
	struct iovec io = { &t.req, sizeof(t.req) };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf) };
	ssize_t len = recvmsg(ctl, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	size_t n;

	if (len < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	memset(t.fds, -1, sizeof(t.fds));
	n = take_fds(&m, t.fds);
	if (len == 0 && n == 0)
		return -1;
	if (!valid(&t, len, n, m.msg_flags)) {
		/* descriptors cut short: our table is full */
		if (n > KEEPER_FD_TASK)
			reply(t.fds[KEEPER_FD_TASK], m.msg_flags & MSG_CTRUNC ?
			      -EMFILE : -EINVAL);
		close_fds(t.fds, KEEPER_NFDS);
		return 0;
	}
	start(&t);
	return 0;
}

/* Signal @k's group; before the program made its session, the program. */
static void signal_kid(const struct kid *k, int sig)
{
	if (kill(-k->pid, sig) < 0 && errno == ESRCH)
		kill(k->pid, sig);
}

/* A signal number from the daemon, or its end closed: kill the group. */
static void from_daemon(struct kid *k)
{
	int32_t sig;
	ssize_t n = recv(k->sock, &sig, sizeof(sig), MSG_DONTWAIT);

	if (n == (ssize_t)sizeof(sig) && sig > 0 && sig < NSIG)
		signal_kid(k, sig);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		signal_kid(k, SIGKILL);
		close(k->sock);
		k->sock = -1;
	}
}

/* Read what the daemon sent and we did not: a socket closed with unread
 * data resets the daemon's end, which would hide the status. */
static void drain(int sock)
{
	int32_t sig;

	while (recv(sock, &sig, sizeof(sig), MSG_DONTWAIT) > 0)
		;
}

static struct kid *find_kid(pid_t pid)
{
	size_t i;

	for (i = 0; i < n_kids; i++)
		if (kids[i].pid == pid)
			return &kids[i];
	return NULL;
}

/* Every program that ended: kill its group while it is a zombie (its id
 * not yet free), reap it, report its status. */
static void reap(void)
{
	struct signalfd_siginfo ssi;
	struct kid *k;
	siginfo_t si;
	int status;

	while (read(sig_fd, &ssi, sizeof(ssi)) > 0)
		;
	for (;;) {
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return;
		kill(-si.si_pid, SIGKILL);
		while (waitpid(si.si_pid, &status, 0) < 0 && errno == EINTR)
			;
		k = find_kid(si.si_pid);
		if (!k)
			continue;
		if (k->sock >= 0) {
			reply(k->sock, status);
			drain(k->sock);
			close(k->sock);
		}
		*k = kids[--n_kids];
	}
}

/* The daemon is gone: nothing of its tasks may outlive it. */
__attribute__((noreturn)) static void end_all(void)
{
	size_t i;

	for (i = 0; i < n_kids; i++)
		signal_kid(&kids[i], SIGKILL);
	_exit(0);
}

static struct pollfd *poll_set(int ctl, struct pollfd *p, size_t *cap)
{
	size_t i;

	if (*cap < n_kids + 2) {
		free(p);
		*cap = 2 * (n_kids + 2);
		p = malloc(*cap * sizeof(*p));
		if (!p)
			return NULL;
	}
	p[0] = (struct pollfd){ ctl, POLLIN, 0 };
	p[1] = (struct pollfd){ sig_fd, POLLIN, 0 };
	for (i = 0; i < n_kids; i++)
		p[2 + i] = (struct pollfd){ kids[i].sock, POLLIN, 0 };
	return p;
}

static void serve(int ctl)
{
	struct pollfd *p = NULL;
	size_t cap = 0, i, n;

	for (;;) {
		p = poll_set(ctl, p, &cap);
		n = n_kids;
		if (!p || poll(p, n + 2, -1) < 0) {
			if (p && errno == EINTR)
				continue;
			end_all();
		}
		/* kids[] changes only below, after its sockets are read */
		for (i = 0; i < n; i++)
			if (p[2 + i].revents)
				from_daemon(&kids[i]);
		if (p[1].revents)
			reap();
		if (p[0].revents & POLLIN) {
			if (request(ctl) < 0)
				end_all();
		} else if (p[0].revents) {
			end_all();
		}
	}
}

/*
 * Started by posix_spawn with every signal blocked and every disposition
 * default, in a session of its own.  glibc's own signals (32, 33) may be
 * left ignored (the daemon had handlers) and glibc's sigaction() refuses
 * to touch them: the raw call resets them, or every program would
 * inherit them ignored.
 */
static void setup(void)
{
	/* The kernel's struct sigaction, all zero: SIG_DFL, no flags, an
	 * empty mask, whatever the architecture's field order (sparc and
	 * alpha, whose call takes one more argument, are not supported). */
	static const unsigned long dfl[8];
	sigset_t all, chld;
	int sig;

	for (sig = 32; sig < SIGRTMIN; sig++)
		syscall(SYS_rt_sigaction, sig, dfl, NULL, (size_t)(_NSIG / 8));
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0 || fcntl(KEEPER_CTL_FD, F_SETFD, FD_CLOEXEC) < 0) {
		say("keeper: ", "start", errno);
		_exit(127);
	}
}

int main(void)
{
	/* executed as /proc/self/fd/N, `ps` would call us "N" */
	prctl(PR_SET_NAME, "execfs-keeper");
	setup();
	serve(KEEPER_CTL_FD);
	return 0;
}
