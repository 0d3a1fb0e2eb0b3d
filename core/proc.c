/*
 * proc.c - task processes: a keeper per task, the program under it, the
 * whole process group ended together.
 *
 * proc_spawn() prepares everything in the daemon (pipes, /dev/null, the
 * working directory as a descriptor, argv and envp from the caller), then
 * forks the keeper with every signal blocked, so that none of the daemon's
 * handlers (libfuse's among them) can run in the copy.  From there on the
 * keeper and the program make only async-signal-safe calls: the daemon has
 * other threads, whose locks may be held at the moment of fork.  The keeper
 * forks the program with _Fork(), which runs no atfork handlers.  A
 * program that runs as another user switches to it by raw system calls:
 * glibc's setresuid() and friends make every thread of the process follow
 * (the copy has only one, but the wrappers take locks and signal).
 *
 * The group id is the keeper's pid.  proc_wait() kills what is left of the
 * group before it reaps the keeper: while the keeper is an unreaped zombie
 * its pid, hence the group id, cannot be given to another process.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The keeper ignores these so that it outlives a group-wide signal and can
 * report how the program ended.  SIGCHLD stays default: waitpid needs it. */
static const int keeper_ignores[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGUSR1, SIGUSR2,
};

#define N_IGNORED (sizeof(keeper_ignores) / sizeof(keeper_ignores[0]))

/* The calls that take 32-bit ids, where the plain ones take 16-bit ids
 * (i386, arm). */
#ifdef SYS_setresuid32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETRESGID SYS_setresgid32
#define SYS_SETRESUID SYS_setresuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETRESGID SYS_setresgid
#define SYS_SETRESUID SYS_setresuid
#endif

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
	int max_fd;		/* close loop bound, without close_range */
	char uid_text[24];	/* s->uid in decimal, for a failed switch */
};

/* ---- in the keeper and the program: async-signal-safe calls only ---- */

static void set_disposition(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* A copy of the daemon's handlers must never run: reset all of them.
 * Signals glibc keeps for itself refuse with EINVAL, which is fine. */
static void reset_all_signals(void)
{
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			set_disposition(sig, SIG_DFL);
}

static void set_mask_empty(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* "execfs: <what><arg>: <reason>\n" on the task's stderr, for the log. */
static void say(const char *what, const char *arg, int err)
{
	const char *reason = strerrordesc_np(err);
	const char *part[] = { "execfs: ", what, arg, ": ",
			       reason ? reason : "error", "\n" };
	size_t i;

	for (i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		if (write(2, part[i], strlen(part[i])) < 0)
			return;
}

/* The daemon is gone: nothing of the task may outlive it.  The keeper is
 * in the group too, so this is also its end. */
static void on_death(int sig)
{
	(void)sig;
	kill(-getpid(), SIGKILL);
	_exit(128 + SIGKILL);
}

/* Process group, death signal, dispositions.  -1 when the daemon died
 * before the death signal was armed (it would never come). */
static int keeper_arm(const struct launch *l)
{
	size_t i;

	/* A session of its own: a new process group, and no controlling
	 * terminal for the task to open (/dev/tty of a daemon run with -f
	 * from root's terminal). */
	setsid();
	reset_all_signals();
	set_disposition(l->death_sig, on_death);
	for (i = 0; i < N_IGNORED; i++)
		set_disposition(keeper_ignores[i], SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, l->death_sig) < 0)
		return -1;
	return getppid() == l->daemon ? 0 : -1;
}

/* Move @fd above 2 so that the dup2() calls below cannot overwrite it and
 * never get fd == target (dup2 would then keep O_CLOEXEC). */
static int raise_fd(int fd)
{
	return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void close_from_3(int max_fd)
{
	int fd;

	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
	for (fd = 3; fd < max_fd; fd++)
		close(fd);
}

/* stdin /dev/null, stdout and stderr the pipes, nothing else open. */
static int keeper_fds(const struct launch *l)
{
	int in = raise_fd(l->null_fd);
	int out = raise_fd(l->out[1]);
	int err = raise_fd(l->err[1]);
	int cwd = raise_fd(l->cwd_fd);

	if (in < 0 || out < 0 || err < 0 || cwd < 0)
		return -1;
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		return -1;
	if (fchdir(cwd) < 0) {
		say("cannot enter the working directory ",
		    l->s->cwd ? l->s->cwd : "/", errno);
		return -1;
	}
	close_from_3(l->max_fd);
	return 0;
}

/* Become s->uid: the groups first, while that is still allowed, the uid
 * last, since it gives up the right to change the others. */
static int switch_user(const struct proc_spec *s)
{
	if (syscall(SYS_SETGROUPS, (long)s->ngroups, s->groups) < 0 ||
	    syscall(SYS_SETRESGID, (long)s->gid, (long)s->gid,
		    (long)s->gid) < 0 ||
	    syscall(SYS_SETRESUID, (long)s->uid, (long)s->uid,
		    (long)s->uid) < 0)
		return -1;
	return 0;
}

__attribute__((noreturn))
static void program_main(const struct launch *l)
{
	size_t i;

	if (l->s->as_user && switch_user(l->s) < 0) {
		say("cannot switch to uid ", l->uid_text, errno);
		_exit(127);
	}
	/* Ignored signals would stay ignored across execve. */
	for (i = 0; i < N_IGNORED; i++)
		set_disposition(keeper_ignores[i], SIG_DFL);
	set_disposition(l->death_sig, SIG_DFL);
	set_mask_empty();
	execve(l->s->path, l->s->argv, l->s->envp);
	say("cannot execute ", l->s->path, errno);
	_exit(127);
}

/* End the keeper the way the program ended.  A signal that does not kill
 * the keeper (none should survive the reset) falls back to 128 + sig. */
__attribute__((noreturn))
static void relay(int status)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t one;
	int sig;

	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	/* Dying of SIGSEGV or SIGABRT must not leave a core of the keeper. */
	setrlimit(RLIMIT_CORE, &no_core);
	set_disposition(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

__attribute__((noreturn))
static void keeper_main(const struct launch *l)
{
	pid_t pid;
	int status;

	if (keeper_arm(l) < 0) {
		kill(-getpid(), SIGKILL);
		_exit(128 + SIGKILL);
	}
	if (keeper_fds(l) < 0)
		_exit(127);
	pid = _Fork();
	if (pid < 0) {
		say("cannot fork for ", l->s->path, errno);
		_exit(127);
	}
	if (pid == 0)
		program_main(l);
	/* Pipes reach EOF when the program's side is gone, keeper or not. */
	syscall(SYS_close_range, 0U, 2U, 0U);
	set_mask_empty();
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	relay(status);
}

/* ---- in the daemon ---- */

/* "<what> <subject>: <reason>"; @rc is the -errno captured by the caller. */
static int fail(struct err *e, int rc, const char *what, const char *subject)
{
	return err_set(e, rc, "%s%s%s: %s", what, *subject ? " " : "", subject,
		       strerror(-rc));
}

static void launch_init(struct launch *l, const struct proc_spec *s)
{
	struct rlimit nofile;

	memset(l, 0, sizeof(*l));
	l->s = s;
	l->daemon = getpid();
	l->death_sig = SIGRTMIN;
	l->null_fd = l->cwd_fd = -1;
	l->out[0] = l->out[1] = l->err[0] = l->err[1] = -1;
	l->armed[0] = l->armed[1] = -1;
	l->max_fd = 65536;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_cur < (rlim_t)l->max_fd)
		l->max_fd = (int)nofile.rlim_cur;
	/* At most 10 digits: it always fits. */
	snprintf(l->uid_text, sizeof(l->uid_text), "%u", (unsigned)s->uid);
}

static void launch_release(struct launch *l)
{
	proc_close_fd(&l->null_fd);
	proc_close_fd(&l->cwd_fd);
	proc_close_fd(&l->out[0]);
	proc_close_fd(&l->out[1]);
	proc_close_fd(&l->err[0]);
	proc_close_fd(&l->err[1]);
	proc_close_fd(&l->armed[0]);
	proc_close_fd(&l->armed[1]);
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

static int open_pipe(int p[2], struct err *e)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(e, -errno, "cannot make a pipe", "");
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		return fail(e, -errno, "cannot make a pipe non-blocking", "");
	return 0;
}

/* A memory file holding the program's standard input, at offset 0. */
static int stdin_file(const struct proc_spec *s)
{
	int fd = memfd_create("execfs-stdin", MFD_CLOEXEC);
	size_t done = 0;
	ssize_t n;

	while (fd >= 0 && done < s->stdin_len) {
		n = write(fd, s->stdin_data + done, s->stdin_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			n = errno ? errno : EIO;
			close(fd);
			errno = (int)n;
			return -1;
		}
		done += (size_t)n;
	}
	if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
		n = errno;
		close(fd);
		errno = (int)n;
		return -1;
	}
	return fd;
}

static int launch_open(struct launch *l, struct err *e)
{
	const char *cwd = l->s->cwd ? l->s->cwd : "/";
	int rc;

	l->null_fd = l->s->stdin_data ? stdin_file(l->s) :
		     open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (l->null_fd < 0)
		return fail(e, -errno, "cannot open", l->s->stdin_data ?
			    "the standard input" : "/dev/null");
	l->cwd_fd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l->cwd_fd < 0)
		return fail(e, -errno, "working directory", cwd);
	if (pipe2(l->armed, O_CLOEXEC) < 0)
		return fail(e, -errno, "cannot make a pipe", "");
	rc = open_pipe(l->out, e);
	if (rc == 0)
		rc = open_pipe(l->err, e);
	return rc;
}

/* Fork with every signal blocked: the daemon's handlers stay out of the
 * keeper, which resets them all before it unblocks anything. */
static pid_t fork_keeper(const struct launch *l, struct err *e)
{
	sigset_t all, old;
	pid_t pid;
	int saved;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		keeper_main(l);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return fail(e, -saved, "cannot start", l->s->path);
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
	pid = fork_keeper(&l, e);
	if (pid < 0) {
		rc = pid;
		goto out;
	}
	/* Not setpgid() here too: the keeper's setsid() would fail on a
	 * process already leading a group.  proc_kill() can come only
	 * after wait_armed(), when the keeper made its session. */
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
