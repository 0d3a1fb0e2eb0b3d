/*
 * expr_serve.c - the evaluator process: runs the jq programs of one
 * run, so that what libjq cannot bound (an expression that never ends, an
 * allocation that fails and aborts) costs this process and not the
 * daemon.  See expr_proc.c for the side that spawns, waits for and kills
 * it.
 *
 * The evaluator is a fresh image of the calling program (posix_spawn of
 * /proc/self/exe), never a bare fork of the daemon: after fork() in a
 * multi-threaded process, any lock another thread held (the sanitizers'
 * allocator, glibc's time-zone lock, a library's) stays held forever in
 * the child, and jq allocates and formats dates.  The new image becomes
 * the evaluator in a constructor, before main(), when its argv[0] is
 * EXPR_SERVE_ARGV0 and its environment carries SERVE_ENV naming its
 * parent; so the daemon and every test program that links this file can
 * serve.  A pooled evaluator (expr_pool.c) is spawned before any run
 * needs it, with EXPR_SERVE_WARM as its argv[1]: it compiles a program
 * while it waits, so a run's first compile does not pay libjq's set-up.
 */
#include "expr_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SERVE_ENV "EXECFS_EXPR_SERVE" /* its value: the parent's pid */
#define SERVE_MSG_MAX 512 /* an error message sent back */

static char *how_arg; /* our argv[1], in place (the template's) */

/* Default dispositions, nothing blocked: the daemon's handlers are not ours. */
static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* SIGKILL, SIGSTOP: refused */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The socket (fd 3) and nothing else open, not even 0-2. */
static void tidy_fds(void)
{
	struct rlimit nofile;
	int fd, max = 65536;

	if (syscall(SYS_close_range, 0U, 2U, 0U) < 0 ||
	    syscall(SYS_close_range, 4U, ~0U, 0U) < 0) {
		if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
		    nofile.rlim_cur < (rlim_t)max)
			max = (int)nofile.rlim_cur;
		for (fd = 0; fd < max; fd++)
			if (fd != EXPR_SERVE_FD)
				close(fd);
	}
}

/* This process's data segment now (VmData), bytes; 0 if unknown. */
static uint64_t data_now(void)
{
	char text[4096];
	const char *p;
	ssize_t n = -1;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	if (n <= 0)
		return 0;
	text[n] = '\0';
	p = strstr(text, "\nVmData:");
	return p ? strtoull(p + 8, NULL, 10) << 10 : 0;
}

/* No core file; at most @data bytes of data segment (not RLIMIT_AS: the
   sanitizer builds reserve terabytes of address space); at most
   EXPR_CPU_MAX s of CPU (an orphan in an endless program ends). */
static void set_limits(uint64_t data, bool soft_only)
{
	struct rlimit core = {0, 0}, lim;
	struct rlimit cpu = {EXPR_CPU_MAX, EXPR_CPU_MAX + 10};

	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_CPU, &cpu);
	if (getrlimit(RLIMIT_DATA, &lim) < 0)
		return;
	if (soft_only) { /* the template: its children set their own */
		if (lim.rlim_max == RLIM_INFINITY || (rlim_t)data < lim.rlim_max)
			lim.rlim_cur = (rlim_t)data;
		setrlimit(RLIMIT_DATA, &lim);
		return;
	}
	if (lim.rlim_max == RLIM_INFINITY || (rlim_t)data < lim.rlim_max)
		lim.rlim_max = (rlim_t)data;
	lim.rlim_cur = lim.rlim_max;
	setrlimit(RLIMIT_DATA, &lim);
}

/* Read exactly @n bytes; the daemon gone (EOF, error) ends the process. */
static void read_all(void *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = read(EXPR_SERVE_FD, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(0);
		p = (char *)p + r;
		n -= (size_t)r;
	}
}

/* Reply @rc with @data (@n bytes); a daemon that went away ends us. */
static void reply(const struct expr_eng *e, int rc, const void *data,
		  size_t n)
{
	struct expr_hdr h = {(uint32_t)n, 0, rc, (uint32_t)expr_eng_size(e)};

	if (expr_wire_send(EXPR_SERVE_FD, &h, data) < 0)
		_exit(0);
}

/* EVAL: payload = template length (4 bytes), template, [vars, dot]. */
static void serve_eval(struct expr_eng *e, const char *p, size_t len)
{
	struct buf out = BUF_INIT(EXPR_REPLY_MAX);
	char msg[SERVE_MSG_MAX] = "";
	struct doc *d = NULL;
	uint32_t tlen;
	int rc = -EINVAL;

	if (len >= sizeof(tlen)) {
		memcpy(&tlen, p, sizeof(tlen));
		if (tlen <= len - sizeof(tlen))
			rc = expr_eng_eval(e, p + 4, tlen, p + 4 + tlen,
					   len - 4 - tlen, &d, msg,
					   sizeof(msg));
	}
	if (!rc)
		rc = expr_wire_dump(d, 0, &out);
	if (rc == -EFBIG && !msg[0])
		snprintf(msg, sizeof(msg), "expression result too big");
	doc_free(d);
	if (rc)
		reply(e, rc, msg, strlen(msg));
	else
		reply(e, 0, out.data ? out.data : "", out.len);
	buf_release(&out);
}

/* One request; a malformed one (never sent by the daemon) ends us. */
static void serve_one(struct expr_eng *e, const struct expr_hdr *h, char *p)
{
	size_t klen, slen;

	switch (h->op) {
	case EXPR_OP_INPUT:
		if (expr_eng_input(e, p, h->len) < 0)
			_exit(2);
		break;
	case EXPR_OP_KEY:
		klen = strnlen(p, h->len);
		if (klen == h->len || expr_eng_key(e, p, NULL, p + klen + 1,
						   h->len - klen - 1) < 0)
			_exit(2);
		break;
	case EXPR_OP_SUB:
		klen = strnlen(p, h->len);
		slen = klen < h->len ? strnlen(p + klen + 1, h->len - klen - 1)
				     : 0;
		if (klen == h->len || klen + 1 + slen == h->len ||
		    expr_eng_key(e, p, p + klen + 1, p + klen + slen + 2,
				 h->len - klen - slen - 2) < 0)
			_exit(2);
		break;
	case EXPR_OP_EVAL:
		serve_eval(e, p, h->len);
		break;
	default:
		_exit(2);
	}
}

/* A payload of @len bytes, NUL-terminated; the daemon gone ends us. */
static char *read_payload(uint32_t len)
{
	char *p = len <= EXPR_REQ_MAX ? malloc((size_t)len + 1) : NULL;

	if (!p)
		_exit(1);
	read_all(p, len);
	p[len] = '\0';
	return p;
}

/* ---- the template ------------------------------------------------------ */

/* Children that ended: reaped.  Until then each stays a zombie, so the
   pid its pidfd names is never another process's. */
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* In the new child: serve on @fd as an evaluator of its own.  It does
   not die with the template (a run may be using it): like a spawned one,
   it ends when the daemon closes its socket, or by RLIMIT_CPU. */
static void become_evaluator(int fd)
{
	/* ps shows "execfs-eval run", not the template's argv[1] */
	size_t n = how_arg ? strlen(how_arg) : 0;

	if (n >= sizeof(EXPR_SERVE_FORKED) - 1) {
		memset(how_arg, 0, n);
		memcpy(how_arg, EXPR_SERVE_FORKED,
		       sizeof(EXPR_SERVE_FORKED) - 1);
	}
	if (dup2(fd, EXPR_SERVE_FD) < 0)
		_exit(1);
	tidy_fds();
	set_limits(data_now() + EXPR_DATA_MAX, false);
}

/* FORK: a child serving on @fd, with every program learned so far.
   Return: true in the child. */
static bool fork_one(const struct expr_eng *e, int fd)
{
	struct expr_hdr h = {0, 0, 0, (uint32_t)expr_eng_size(e)};
	pid_t pid = fork();
	int pidfd = -1;

	if (pid == 0) {
		become_evaluator(fd);
		return true;
	}
	close(fd);
	if (pid > 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pid > 0 && pidfd < 0)
		kill(pid, SIGKILL);	/* reaped by the next reap() */
	h.rc = pidfd >= 0 ? (int32_t)pid : -errno;
	if (expr_wire_send_fd(EXPR_SERVE_FD, &h, pidfd) < 0)
		_exit(0);
	if (pidfd >= 0)
		close(pidfd);
	return false;
}

/* LEARN: compile and keep; the reply says how many are kept. */
static void learn(struct expr_eng *e, const char *p, size_t len)
{
	uint32_t tlen;
	int rc = -EINVAL;

	if (len >= sizeof(tlen)) {
		memcpy(&tlen, p, sizeof(tlen));
		if (tlen <= len - sizeof(tlen))
			rc = expr_eng_learn(e, p + 4, tlen, p + 4 + tlen,
					    len - 4 - tlen);
	}
	reply(e, rc, NULL, 0);
}

/*
 * A template (EXPR_SERVE_TEMPLATE) compiles the programs it is taught
 * and forks a ready evaluator for each FORK: a run's evaluator starts
 * with its workflow's programs compiled, in a fraction of a spawn.  It is
 * never given input, variables' values or secrets; only the pool's thread
 * talks to it.  Returns only in a forked child.
 */
static void serve_template(struct expr_eng *e)
{
	struct pollfd in = {.fd = EXPR_SERVE_FD, .events = POLLIN};
	struct expr_hdr h;
	char *p;
	int fd, n;

	for (;;) {
		reap();
		/* children that ended are reaped each second, requests or not */
		n = poll(&in, 1, 1000);
		if (n < 0 && errno != EINTR)
			_exit(0);
		if (n <= 0)
			continue;
		if (expr_wire_recv_hdr(EXPR_SERVE_FD, &h, &fd) < 0)
			_exit(0);
		if (h.op == EXPR_OP_FORK && fd >= 0 && h.len == 0) {
			if (fork_one(e, fd))
				return;
			continue;
		}
		if (h.op != EXPR_OP_LEARN || fd >= 0)
			_exit(2);
		p = read_payload(h.len);
		learn(e, p, h.len);
		explicit_bzero(p, h.len);
		free(p);
	}
}

/* Serve requests on EXPR_SERVE_FD until the daemon closes it; @how:
   NULL, EXPR_SERVE_WARM (compile a program first: a pooled evaluator
   waits for its run) or EXPR_SERVE_TEMPLATE. */
static void serve(const char *how)
{
	struct expr_eng *e = NULL;
	struct expr_hdr h;
	char *p;

	if (expr_eng_new(&e) < 0)
		_exit(1);
	if (how && !strcmp(how, EXPR_SERVE_WARM))
		expr_eng_warm(e);
	if (how && !strcmp(how, EXPR_SERVE_TEMPLATE))
		serve_template(e);
	for (;;) {
		read_all(&h, sizeof(h));
		p = read_payload(h.len);
		serve_one(e, &h, p);
		free(p);
	}
}

/*
 * Before main() (glibc passes constructors main's arguments): a program
 * spawned as an evaluator (argv[0] EXPR_SERVE_ARGV0 and the marker)
 * serves and never returns to its main().  Without both, this does nothing: the
 * program runs as itself.  A marker not naming our parent means the
 * daemon died before we got here: end.  No PR_SET_PDEATHSIG: it fires
 * when the *thread* that spawned ends, and a FORK branch's thread may be
 * the one that started this evaluator; the daemon gone, the socket reads
 * EOF and this ends, and one stuck in an endless program is ended by
 * RLIMIT_CPU.
 */
__attribute__((constructor)) static void serve_if_spawned(int argc,
							  char **argv)
{
	const char *v = getenv(SERVE_ENV);
	char *end;
	long ppid;

	if (!v || argc < 1 || !argv || !argv[0] ||
	    strcmp(argv[0], EXPR_SERVE_ARGV0))
		return;
	errno = 0;
	ppid = strtol(v, &end, 10);
	if (errno || end == v || *end || ppid != (long)getppid())
		_exit(0);
	reset_signals();
	tidy_fds();
	how_arg = argc > 1 ? argv[1] : NULL;
	set_limits(data_now() + EXPR_DATA_MAX,
		   how_arg && !strcmp(how_arg, EXPR_SERVE_TEMPLATE));
	serve(how_arg);
}

int expr_serve_env(char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s=%ld", SERVE_ENV, (long)getpid());

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
