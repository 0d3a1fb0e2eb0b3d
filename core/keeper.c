/*
 * keeper.c - execfs-keeper, the small program each task process runs
 * under (core/proc.c starts it with posix_spawn, so the daemon is never
 * copied by fork).  It leads a session of its own, so the task is its
 * process group; it dies with the daemon, killing the group first, even
 * when the daemon is killed by SIGKILL (the parent-death signal); it
 * starts the program as the execution's creator and ends the way the
 * program ended.
 *
 * usage (from the daemon only):
 *   execfs-keeper DAEMON_PID DEATH_SIG UID|- GID NGROUPS PATH NARGS NENV
 * fd 4 is a memory file holding NGROUPS supplementary gids (an array),
 * then NARGS NUL-terminated strings, the program's argv, then NENV more,
 * its environment.  Neither is on our command line: /proc/PID/cmdline is
 * readable by every local user, and a task's environment holds its
 * secrets.  The keeper itself runs as root with an empty environment, so
 * that nothing a task's author writes (LD_PRELOAD, GLIBC_TUNABLES) reaches
 * it.  fd 0 is the program's stdin, 1 and 2 its stdout and stderr pipes,
 * fd 3 a pipe it closes once the death signal is armed, and the working
 * directory already entered.  fd 6, when open, is a gate: the program is
 * forked but runs only after a byte comes through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARMED_FD 3
#define DATA_FD 4
#define GATE_FD 6	/* when open: run the program after a byte on it */
#define GROUPS_MAX (1 << 20)	/* more than the kernel takes (65536) */
#define DATA_MAX (64u << 20)	/* far more than execve takes */

/* Ignored so that the keeper outlives a group-wide signal and can tell
 * how the program ended.  SIGCHLD stays default: waitpid needs it. */
static const int ignored[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGUSR1, SIGUSR2,
};

#define N_IGNORED (sizeof(ignored) / sizeof(ignored[0]))

struct task {
	pid_t daemon;
	int death_sig;
	int as_user;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	const char *uid_text;
	char *path;
	char *data;	/* DATA_FD's bytes: the strings of argv and envp */
	size_t data_len;
	char **argv;
	char **envp;
};

/* "execfs: <what><arg>: <reason>" on the task's stderr, for its log. */
static void say(const char *what, const char *arg, int err)
{
	dprintf(2, "execfs: %s%s: %s\n", what, arg, strerror(err));
}

static void set_disposition(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void set_mask_empty(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The daemon is gone: nothing of the task may outlive it.  The keeper is
 * in the group too, so this is also its end. */
static void on_death(int sig)
{
	(void)sig;
	kill(-getpid(), SIGKILL);
	_exit(128 + SIGKILL);
}

static int number(const char *s, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end || *out < 0 || *out > max ? -1 : 0;
}

/* All of DATA_FD into t->data (NUL-terminated past its end). */
static int read_data(struct task *t)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;

	if (fstat(DATA_FD, &st) < 0 || st.st_size < 0 ||
	    (unsigned long long)st.st_size > DATA_MAX)
		return -1;
	t->data_len = (size_t)st.st_size;
	t->data = malloc(t->data_len + 1);
	while (t->data && got < t->data_len) {
		r = pread(DATA_FD, t->data + got, t->data_len - got,
			  (off_t)got);
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
static char **strings(struct task *t, size_t *at, size_t n)
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

/* The gids, argv and envp out of t->data: every byte accounted for. */
static int split_data(struct task *t, size_t nargs, size_t nenv)
{
	size_t at = t->ngroups * sizeof(*t->groups);

	if (at > t->data_len)
		return -1;
	if (t->ngroups) {
		t->groups = malloc(at);
		if (!t->groups)
			return -1;
		memcpy(t->groups, t->data, at);
	}
	t->argv = strings(t, &at, nargs);
	t->envp = t->argv ? strings(t, &at, nenv) : NULL;
	return t->envp && at == t->data_len ? 0 : -1;
}

static int parse(int argc, char **argv, struct task *t)
{
	long long v, nargs, nenv;

	if (argc != 9)
		return -1;
	memset(t, 0, sizeof(*t));
	if (number(argv[1], INT_MAX, &v) < 0)
		return -1;
	t->daemon = (pid_t)v;
	if (number(argv[2], SIGRTMAX, &v) < 0 || v < 1)
		return -1;
	t->death_sig = (int)v;
	t->as_user = strcmp(argv[3], "-") != 0;
	t->uid_text = argv[3];
	if (t->as_user) {
		if (number(argv[3], UINT_MAX - 1, &v) < 0)
			return -1;
		t->uid = (uid_t)v;
		if (number(argv[4], UINT_MAX - 1, &v) < 0)
			return -1;
		t->gid = (gid_t)v;
	}
	if (number(argv[5], GROUPS_MAX, &v) < 0 || (v && !t->as_user))
		return -1;
	t->ngroups = (size_t)v;
	t->path = argv[6];
	if (number(argv[7], DATA_MAX, &nargs) < 0 || nargs < 1 ||
	    number(argv[8], DATA_MAX, &nenv) < 0)
		return -1;
	if (t->path[0] != '/' || read_data(t) < 0)
		return -1;
	return split_data(t, (size_t)nargs, (size_t)nenv);
}

/* Death signal and dispositions; -1 when the daemon died before the
 * signal was armed (it would never come).  posix_spawn leaves glibc's
 * own signals (32, 33) ignored when the daemon had handlers for them, and
 * glibc's sigaction() refuses to touch them: the raw call resets them, or
 * the program would inherit them ignored. */
static int arm(const struct task *t)
{
	/* The kernel's struct sigaction, all zero: SIG_DFL, no flags, an
	 * empty mask, whatever the architecture's field order (sparc and
	 * alpha, whose call takes one more argument, are not supported). */
	static const unsigned long dfl[8];
	int sig;
	size_t i;

	for (sig = 32; sig < SIGRTMIN; sig++)
		syscall(SYS_rt_sigaction, sig, dfl, NULL, (size_t)(_NSIG / 8));
	set_disposition(t->death_sig, on_death);
	for (i = 0; i < N_IGNORED; i++)
		set_disposition(ignored[i], SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, t->death_sig) < 0)
		return -1;
	return getppid() == t->daemon ? 0 : -1;
}

/* Become t->uid: the groups first, while that is still allowed, the uid
 * last, since it gives up the right to change the others. */
static int switch_user(const struct task *t)
{
	if (setgroups(t->ngroups, t->groups) < 0 ||
	    setresgid(t->gid, t->gid, t->gid) < 0 ||
	    setresuid(t->uid, t->uid, t->uid) < 0)
		return -1;
	return 0;
}

/* Close every fd from @from up (close_range, else one by one). */
static void close_from(int from)
{
	struct rlimit nofile;
	int fd, max = 65536;

	if (syscall(SYS_close_range, (unsigned)from, ~0U, 0U) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_cur < (rlim_t)max)
		max = (int)nofile.rlim_cur;
	for (fd = from; fd < max; fd++)
		close(fd);
}

/* With a gate, wait for the daemon's byte: its EOF (the daemon died, or
 * gave up) means the program must not run. */
static void pass_gate(void)
{
	char c;
	ssize_t n;

	if (fcntl(GATE_FD, F_GETFD) < 0)
		return;
	do
		n = read(GATE_FD, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);
}

__attribute__((noreturn)) static void program(const struct task *t)
{
	size_t i;

	pass_gate();
	close_from(ARMED_FD);
	if (t->as_user && switch_user(t) < 0) {
		say("cannot switch to uid ", t->uid_text, errno);
		_exit(127);
	}
	/* Ignored signals would stay ignored across execve. */
	for (i = 0; i < N_IGNORED; i++)
		set_disposition(ignored[i], SIG_DFL);
	set_disposition(t->death_sig, SIG_DFL);
	set_mask_empty();
	execve(t->path, t->argv, t->envp);
	say("cannot execute ", t->path, errno);
	_exit(127);
}

/* End the way the program ended.  A signal that does not kill us (none
 * should survive the reset) falls back to 128 + sig. */
__attribute__((noreturn)) static void relay(int status)
{
	struct rlimit no_core = {0, 0};
	sigset_t one;
	int sig;

	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	/* Dying of SIGSEGV or SIGABRT must not leave a core of ours. */
	setrlimit(RLIMIT_CORE, &no_core);
	set_disposition(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

int main(int argc, char **argv)
{
	struct task t;
	pid_t pid;
	int status;

	/* Started with every signal blocked and every disposition default
	 * (posix_spawn attributes), in a session of its own; executed as
	 * /proc/self/fd/5, so `ps` would call us "5". */
	prctl(PR_SET_NAME, "execfs-keeper");
	if (parse(argc, argv, &t) < 0) {
		say("keeper: ", "bad arguments", EINVAL);
		_exit(127);
	}
	if (arm(&t) < 0) {
		kill(-getpid(), SIGKILL);
		_exit(128 + SIGKILL);
	}
	/* The program exists before the daemon hears we are armed: a stop
	 * it sends at once finds it (blocked, hence queued, until it resets
	 * its dispositions). */
	pid = fork();
	if (pid < 0) {
		say("cannot fork for ", t.path, errno);
		_exit(127);
	}
	if (pid == 0)
		program(&t);
	/* the program has its own copy: ours of its environment goes */
	explicit_bzero(t.data, t.data_len);
	close_from(ARMED_FD);
	/* Pipes reach EOF when the program's side is gone, keeper or not. */
	close(0);
	close(1);
	close(2);
	set_mask_empty();
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	relay(status);
}
