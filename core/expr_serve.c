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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SERVE_ENV "EXECFS_EXPR_SERVE" /* its value: the parent's pid */
#define SERVE_MSG_MAX 512 /* an error message sent back */

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
static void set_limits(uint64_t data)
{
	struct rlimit core = {0, 0}, lim;
	struct rlimit cpu = {EXPR_CPU_MAX, EXPR_CPU_MAX + 10};

	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_CPU, &cpu);
	if (getrlimit(RLIMIT_DATA, &lim) < 0)
		return;
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

/* Serve requests on EXPR_SERVE_FD until the daemon closes it; @warm:
   compile a program first (a pooled evaluator waits for its run). */
static void serve(bool warm)
{
	struct expr_eng *e = NULL;
	struct expr_hdr h;
	char *p;

	if (expr_eng_new(&e) < 0)
		_exit(1);
	if (warm)
		expr_eng_warm(e);
	for (;;) {
		read_all(&h, sizeof(h));
		p = h.len <= EXPR_REQ_MAX ? malloc((size_t)h.len + 1) : NULL;
		if (!p)
			_exit(1);
		read_all(p, h.len);
		p[h.len] = '\0';
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
	set_limits(data_now() + EXPR_DATA_MAX);
	serve(argc > 1 && argv[1] && !strcmp(argv[1], EXPR_SERVE_WARM));
}

int expr_serve_env(char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s=%ld", SERVE_ENV, (long)getpid());

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
