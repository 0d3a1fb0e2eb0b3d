/*
 * expr_serve.c - the evaluator process: a child forked from the daemon
 * that runs the jq programs of one run, so that what libjq cannot bound
 * (an expression that never ends, an allocation that fails and aborts)
 * costs this process and not the daemon.  See expr_proc.c for the side
 * that spawns, waits for and kills it.
 *
 * The daemon is multi-threaded: after fork() only this thread exists, so
 * the child uses nothing another thread could have held locked (no stdio,
 * no logging); glibc's malloc is made consistent by fork() itself, and
 * libjq takes no locks.
 */
#include "expr_i.h"

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SERVE_FD 3	  /* the socket, once the fds are tidied */
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

/* The socket as fd 3 and nothing else open (not even 0-2). */
static void tidy_fds(int sock)
{
	struct rlimit nofile;
	int fd, max = 65536;

	if (sock != SERVE_FD && dup2(sock, SERVE_FD) < 0)
		_exit(1);
	if (syscall(SYS_close_range, 0U, 2U, 0U) < 0 ||
	    syscall(SYS_close_range, 4U, ~0U, 0U) < 0) {
		if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
		    nofile.rlim_cur < (rlim_t)max)
			max = (int)nofile.rlim_cur;
		for (fd = 0; fd < max; fd++)
			if (fd != SERVE_FD)
				close(fd);
	}
}

/* No core file; at most @data bytes of data segment (RLIMIT_AS cannot
   work: the daemon's address space holds the store's whole map); at most
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
		r = read(SERVE_FD, p, n);
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

	if (expr_wire_send(SERVE_FD, &h, data) < 0)
		_exit(0);
}

/* EVAL: payload = template length (4 bytes), template, vars JSON. */
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
	size_t klen;

	switch (h->op) {
	case EXPR_OP_INPUT:
		if (expr_eng_input(e, p, h->len) < 0)
			_exit(2);
		break;
	case EXPR_OP_KEY:
		klen = strnlen(p, h->len);
		if (klen == h->len ||
		    expr_eng_key(e, p, p + klen + 1, h->len - klen - 1) < 0)
			_exit(2);
		break;
	case EXPR_OP_EVAL:
		serve_eval(e, p, h->len);
		break;
	default:
		_exit(2);
	}
}

void expr_serve(int sock, pid_t parent, uint64_t data)
{
	struct expr_eng *e = NULL;
	struct expr_hdr h;
	char *p;

	/* No PR_SET_PDEATHSIG: it fires when the *thread* that forked ends,
	 * and a FORK branch's thread may be the one that started this
	 * evaluator.  The daemon gone, the socket reads EOF and this ends;
	 * one stuck in an endless program is ended by RLIMIT_CPU. */
	if (getppid() != parent)
		_exit(0);
	setpgid(0, 0);	/* the terminal's Ctrl-C is the daemon's, not ours */
	reset_signals();
	tidy_fds(sock);
	set_limits(data);
	if (expr_eng_new(&e) < 0)
		_exit(1);
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
