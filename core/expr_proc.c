/*
 * expr_proc.c - struct expr_cache: one run's evaluator process (see
 * expr_serve.c) and what the run needs to talk to it.
 *
 * libjq 1.6 aborts its process when an allocation fails and has no way to
 * stop a program, so user programs never run in the daemon.  Each cache
 * spawns an evaluator that keeps the compiled programs and the input; an
 * evaluation is one request and one reply on a socket.  While it waits,
 * the daemon also watches the run's stop descriptors and its deadline, and
 * kills the evaluator when either fires.  An evaluator that died (killed,
 * or out of memory under its RLIMIT_DATA) is replaced at the next call:
 * the cache keeps the input as a document to send it again.
 */
#include "expr_i.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK (64u << 10)	   /* reply bytes asked for per recv */
#define WAIT_FDS_STACK 16	   /* pollfds kept on the stack */

static const char msg_died[] =
    "expression failed: the evaluator stopped (out of memory?)";
static const char msg_late[] = "expression did not finish before the deadline";
static const char msg_cancel[] = "expression stopped: the run was cancelled";

struct expr_cache {
	struct expr_child ch; /* the evaluator (ch.pid -1: none runs);
				 ch.nprog as of its last reply */
	struct doc *input;  /* the state, a map: sent again on respawn */
	struct expr_wait w; /* w.fds NULL: no stop fds */
	const struct doc *dot; /* `.` of evaluations (borrowed) or NULL */
	struct expr_pool *pool; /* idle evaluators to start from, or NULL */
	struct buf req;	    /* one request, reused */
	char *rb;	    /* one reply, reused: rlen of ralloc bytes */
	size_t rlen, ralloc;
};

/* Write a message; cutting it at @cap is intended (messages are hints). */
static int say(char *msg, size_t cap, int rc, const char *text)
{
	if (msg && cap)
		snprintf(msg, cap, "%s", text);
	return rc;
}

/* Zero the strings of @d (the state holds secrets), then free it. */
static void wipe_free(struct doc *d)
{
	size_t k;

	if (!d)
		return;
	if (d->type == DOC_STR || d->type == DOC_SEALED)
		explicit_bzero(d->u.s, d->n);
	for (k = 0; d->type == DOC_LIST && k < d->n; k++)
		wipe_free(d->u.items[k]), d->u.items[k] = NULL;
	for (k = 0; d->type == DOC_MAP && k < d->n; k++)
		wipe_free(d->u.kv[k].val), d->u.kv[k].val = NULL;
	doc_free(d);
}

/* Empty @b, zeroing what it held. */
static void wipe_buf(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->len);
	buf_reset(b);
}

/* ---- the process ------------------------------------------------------- */

/* Kill and reap the evaluator, if one runs: never a zombie. */
static void stop_child(struct expr_cache *c)
{
	expr_proc_end(&c->ch);
}

/* Send request @op with payload @b (zeroed after: it may hold secrets).
   The evaluator gone: it is reaped, and -EPIPE. */
static int send_req(struct expr_cache *c, uint32_t op, struct buf *b)
{
	struct expr_hdr h = {(uint32_t)b->len, op, 0, 0};
	int rc = b->len > EXPR_REQ_MAX ? -EFBIG
				       : expr_wire_send(c->ch.sock, &h, b->data);

	wipe_buf(b);
	if (rc < 0 && rc != -EFBIG) {
		stop_child(c);
		rc = -EPIPE;
	}
	return rc;
}

/* Send the whole input to a new evaluator (its own buffer: c->req may
   hold the request that needed the evaluator). */
static int send_input(struct expr_cache *c)
{
	struct buf b = BUF_INIT(EXPR_REQ_MAX);
	int rc = expr_wire_dump(c->input, 0, &b);

	if (!rc)
		rc = send_req(c, EXPR_OP_INPUT, &b);
	buf_release(&b);
	return rc;
}

/* Sanitizer settings a spawned evaluator keeps (test builds). */
static const char *const kept_env[] = {
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
};

#define N_KEPT (sizeof(kept_env) / sizeof(kept_env[0]))

/* The evaluator's environment: the marker, then the kept variables
   (pointers into environ, valid while no thread changes it).
   Return: 0; -ENAMETOOLONG (no marker: never spawn without one). */
static int spawn_env(char *marker, size_t cap, char **envp)
{
	size_t k, len, n = 0;
	char **e;

	if (expr_serve_env(marker, cap) < 0)
		return -ENAMETOOLONG;
	envp[n++] = marker;
	for (e = environ; *e; e++)
		for (k = 0; k < N_KEPT && n <= N_KEPT; k++) {
			len = strlen(kept_env[k]);
			if (!strncmp(*e, kept_env[k], len) && (*e)[len] == '=')
				envp[n++] = *e;
		}
	envp[n] = NULL;
	return 0;
}

/* posix_spawn a copy of this program as an evaluator on socket @fd, in
   its own process group, signals at their defaults; @how: as
   expr_proc_start().  Return: pid; -errno. */
static pid_t spawn_image(int fd, const char *how)
{
	char *argv[] = {EXPR_SERVE_ARGV0, (char *)how, NULL};
	char marker[64], *envp[N_KEPT + 2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	pid_t pid;
	int rc;

	if (spawn_env(marker, sizeof(marker), envp) < 0)
		return -ENAMETOOLONG;
	sigfillset(&all);
	sigemptyset(&none);
	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	if (posix_spawnattr_init(&at)) {
		posix_spawn_file_actions_destroy(&fa);
		return -ENOMEM;
	}
	rc = posix_spawn_file_actions_adddup2(&fa, fd, EXPR_SERVE_FD);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa,
							EXPR_SERVE_FD + 1);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
					      POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSIGMASK);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (!rc)
		rc = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc ? -rc : pid;
}

int expr_proc_start(const char *how, struct expr_child *out)
{
	int sv[2];
	pid_t p;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	p = spawn_image(sv[1], how);
	close(sv[1]);
	if (p < 0) {
		close(sv[0]);
		return p;
	}
	*out = (struct expr_child){p, -1, sv[0], 0};
	return 0;
}

void expr_proc_end(struct expr_child *ch)
{
	struct pollfd one = {.fd = ch->pidfd, .events = POLLIN};

	if (ch->pidfd >= 0) {
		/* a template's child: its pid may be another process's once
		   the template reaped it, its pidfd never */
		syscall(SYS_pidfd_send_signal, ch->pidfd, SIGKILL, NULL, 0);
		while (poll(&one, 1, EXPR_END_WAIT_MS) < 0 && errno == EINTR)
			;
		close(ch->pidfd);
	} else if (ch->pid > 0) {
		kill(ch->pid, SIGKILL);
		while (waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (ch->sock >= 0)
		close(ch->sock);
	*ch = EXPR_CHILD_NONE;
}

/* Take evaluator @ch and give it the input.  Return: 0; -EPIPE (it is
   gone: ended). */
static int adopt(struct expr_cache *c, const struct expr_child *ch)
{
	int rc;

	c->ch = *ch;
	rc = send_input(c);
	if (rc < 0)	/* never an evaluator without its input */
		stop_child(c);
	return rc;
}

/*
 * Start a new evaluator and give it the input.
 * Return: 0; -errno of socketpair() or posix_spawn(); -EPIPE (it died at
 * once); -ENOMEM.
 */
static int spawn(struct expr_cache *c)
{
	struct expr_child ch;
	int rc;

	/* An idle one of the pool first; one that died while idle fails
	   its first send: the next one. */
	while (expr_pool_pop(c->pool, &ch)) {
		rc = adopt(c, &ch);
		if (rc != -EPIPE)
			return rc;
	}
	rc = expr_proc_start(NULL, &ch);
	return rc < 0 ? rc : adopt(c, &ch);
}

/* ---- waiting ----------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* poll()'s timeout until the deadline: -1 none, 0 passed. */
static int timeout_ms(const struct expr_wait *w)
{
	int64_t left;

	if (!w->deadline_ns)
		return -1;
	left = w->deadline_ns - now_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > 86400000 ? 86400000 : (int)left;
}

/* Whether a stop fd is readable now, or the deadline passed.
   Return: 0; -ECANCELED; -ETIME. */
static int stopped_now(const struct expr_cache *c)
{
	struct pollfd one;
	int k;

	for (k = 0; c->w.fds && k < c->w.nfds; k++) {
		one = (struct pollfd){.fd = c->w.fds[k].fd, .events = POLLIN};
		if (one.fd >= 0 && poll(&one, 1, 0) > 0)
			return -ECANCELED;
	}
	return timeout_ms(&c->w) == 0 ? -ETIME : 0;
}

/*
 * Wait until the socket is readable.  Return: 0; -ECANCELED (a stop fd
 * is readable); -ETIME (the deadline passed); -errno of poll().
 */
static int wait_readable(struct expr_cache *c, struct pollfd *p, int np)
{
	int k, n, ms;

	for (;;) {
		ms = timeout_ms(&c->w);
		n = poll(p, (nfds_t)np, ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && p[0].revents)
			return 0; /* a reply (or EOF) wins over a stop */
		for (k = 1; n > 0 && k < np; k++)
			if (p[k].revents)
				return -ECANCELED;
		if (n == 0 && ms == 0)
			return -ETIME;
	}
}

/* Room for @want reply bytes and a NUL; the old block wiped (results
   may hold secrets).  Return: 0; -ENOMEM. */
static int reply_room(struct expr_cache *c, size_t want)
{
	char *p;

	if (want < c->ralloc)
		return 0;
	p = malloc(want + 1);
	if (!p)
		return -ENOMEM;
	if (c->rb) {
		memcpy(p, c->rb, c->rlen);
		explicit_bzero(c->rb, c->ralloc);
		free(c->rb);
	}
	c->rb = p;
	c->ralloc = want + 1;
	return 0;
}

/*
 * Read into c->rb until it holds a whole reply, NUL-terminated.  The
 * evaluator sends nothing unasked, so reading ahead is safe.
 * Return: 0 and *h; -ECANCELED; -ETIME; -EPIPE (EOF); -EFBIG; -ENOMEM.
 */
static int read_reply(struct expr_cache *c, struct pollfd *p, int np,
		      struct expr_hdr *h)
{
	size_t want = sizeof(*h);
	ssize_t n;
	int rc = reply_room(c, READ_CHUNK);

	for (c->rlen = 0; !rc && c->rlen < want;) {
		rc = wait_readable(c, p, np);
		if (rc < 0)
			return rc;
		n = recv(c->ch.sock, c->rb + c->rlen, c->ralloc - 1 - c->rlen,
			 MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -EPIPE;
		c->rlen += n > 0 ? (size_t)n : 0;
		if (want == sizeof(*h) && c->rlen >= want) {
			memcpy(h, c->rb, sizeof(*h));
			if (h->len > EXPR_REPLY_MAX || c->rlen > want + h->len)
				return -EFBIG;
			want += h->len;
			rc = reply_room(c, want);
		}
	}
	if (!rc)
		c->rb[c->rlen] = '\0';
	return rc;
}

/* ---- one evaluation ---------------------------------------------------- */

/* The request for @s (@n bytes) with @vars into c->req.
   Return: 0; -EFBIG (too deep or too big); -ENOMEM. */
static int build_eval(struct expr_cache *c, const char *s, size_t n,
		      const struct doc *vars)
{
	uint32_t tlen = (uint32_t)n; /* n <= EXPR_TEXT_MAX: scanned */
	int rc = buf_add(&c->req, &tlen, sizeof(tlen));

	if (!rc)
		rc = buf_add(&c->req, s, n);
	if (!rc && (vars || c->dot))
		rc = buf_addc(&c->req, '[');
	if (!rc && (vars || c->dot))
		rc = vars ? expr_wire_dump(vars, 0, &c->req)
			  : buf_addstr(&c->req, "{}");
	if (!rc && (vars || c->dot))
		rc = buf_addc(&c->req, ',');
	if (!rc && (vars || c->dot))
		rc = c->dot ? expr_wire_dump(c->dot, 0, &c->req)
			    : buf_addstr(&c->req, "null");
	if (!rc && (vars || c->dot))
		rc = buf_addc(&c->req, ']');
	if (rc < 0)
		wipe_buf(&c->req);
	return rc;
}

/* An evaluator ready to take a request, unless the run is stopping (then
   none is started).  Return: 0; -ECANCELED; -ETIME; as spawn(). */
static int ready(struct expr_cache *c)
{
	int rc = timeout_ms(&c->w) == 0 ? -ETIME : 0;

	if (!rc && c->ch.pid < 0) {
		rc = stopped_now(c);
		if (!rc)
			rc = spawn(c);
	}
	return rc;
}

/* Send c->req and wait for the reply, watching the stop fds and the
   deadline; any failure leaves no evaluator.  Return: as read_reply(). */
static int exchange(struct expr_cache *c, struct expr_hdr *h)
{
	struct pollfd small[WAIT_FDS_STACK], *p = small;
	int k, np = 1 + (c->w.fds && c->w.nfds > 0 ? c->w.nfds : 0), rc = 0;

	if (np > WAIT_FDS_STACK)
		p = calloc((size_t)np, sizeof(*p));
	if (!p)
		rc = -ENOMEM;
	for (k = 0; !rc && k < np; k++)
		p[k] = (struct pollfd){
		    .fd = k ? c->w.fds[k - 1].fd : c->ch.sock, .events = POLLIN};
	if (!rc)
		rc = send_req(c, EXPR_OP_EVAL, &c->req);
	if (!rc)
		rc = read_reply(c, p, np, h);
	if (rc < 0)
		stop_child(c);
	wipe_buf(&c->req);
	if (p != small)
		free(p);
	return rc;
}

/* The reply in c->rb: *out, or the evaluator's error and message. */
static int take_reply(struct expr_cache *c, const struct expr_hdr *h,
		      struct doc **out, char *msg, size_t cap)
{
	const char *body = c->rb + sizeof(*h);
	int rc = h->rc;

	c->ch.nprog = h->nprog;
	if (rc == 0)
		rc = expr_json_parse(body, h->len, out);
	else if (rc != -EINVAL && rc != -EFBIG && rc != -ENOMEM)
		rc = -EIO; /* not one the evaluator sends: never trusted */
	else if (msg && cap)
		snprintf(msg, cap, "%.*s", (int)h->len, body);
	explicit_bzero(c->rb, c->rlen); /* results may hold secrets */
	return rc;
}

/* The message of a failure that happened on this side. */
static int our_failure(int rc, char *msg, size_t cap)
{
	switch (rc) {
	case -EPIPE:
		return say(msg, cap, -EINVAL, msg_died);
	case -ETIME:
		return say(msg, cap, rc, msg_late);
	case -ECANCELED:
		return say(msg, cap, rc, msg_cancel);
	case -EFBIG:
		return say(msg, cap, rc, "expression result too big");
	default:
		return rc;
	}
}

/* A new evaluator was needed and could not start: say why. */
static int no_start(char *msg, size_t cap, int rc)
{
	if (msg && cap)
		snprintf(msg, cap, "expression failed: cannot start the "
			 "evaluator: %s%s", strerror(-rc),
			 rc == -ENOENT ? " (is /proc mounted?)" : "");
	return rc;
}

/* @vars' names, each with a null value.  Return: it; NULL (no memory). */
static struct doc *names_of(const struct doc *vars)
{
	struct doc *m = doc_new(DOC_MAP);
	size_t k;

	for (k = 0; m && k < vars->n; k++)
		if (expr_map_append(m, vars->u.kv[k].key,
				    doc_new(DOC_NULL)) < 0) {
			doc_free(m);
			return NULL;
		}
	return m;
}

/* Template @s (@n bytes), which the evaluator compiled just now, taught
 * to the pool's template with the names of @vars and never their values:
 * the next run's evaluator starts with it compiled. */
static void teach(struct expr_cache *c, const char *s, size_t n,
		  const struct doc *vars)
{
	struct buf b = BUF_INIT(EXPR_LEARN_REQ_MAX);
	struct doc *names = vars && vars->n ? names_of(vars) : NULL;
	uint32_t tlen = 0;
	int rc = vars && vars->n && !names ? -ENOMEM : 0;

	if (!rc)
		rc = buf_add(&b, &tlen, sizeof(tlen));
	if (!rc)	/* the expressions alone: the text around may be a value */
		rc = expr_spans_only(s, n, &b);
	tlen = (uint32_t)(b.len - sizeof(tlen));
	if (!rc)
		memcpy(b.data, &tlen, sizeof(tlen));
	if (!rc && names)
		rc = buf_addc(&b, '[');
	if (!rc && names)
		rc = expr_wire_dump(names, 0, &b);
	if (!rc && names)
		rc = buf_addstr(&b, ",null]");
	if (!rc)
		expr_pool_learn(c->pool, b.data, b.len);
	doc_free(names);
	buf_release(&b);
}

int expr_eval(struct expr_cache *c, const char *s, size_t n,
	      const struct doc *vars, struct doc **out, char *msg, size_t cap)
{
	struct expr_hdr h;
	const char *why = NULL;
	size_t before;
	int rc = expr_scan(s, n, &why);

	if (rc < 0)
		return say(msg, cap, rc, why);
	if (rc == 0) { /* no expression: the text itself */
		*out = doc_str(s, n);
		return *out ? 0 : -ENOMEM;
	}
	rc = expr_vars_check(vars, msg, cap);
	if (rc < 0)
		return rc;
	rc = ready(c);
	if (rc < 0 && rc != -ETIME && rc != -ECANCELED)
		return no_start(msg, cap, rc);
	if (!rc)
		rc = build_eval(c, s, n, vars);
	if (rc == -EFBIG)
		return say(msg, cap, rc, "variables too big or too deep");
	before = c->ch.nprog;
	if (!rc)
		rc = exchange(c, &h);
	if (rc < 0)
		return our_failure(rc, msg, cap);
	rc = take_reply(c, &h, out, msg, cap);
	if (c->pool && c->ch.nprog > before)
		teach(c, s, n, vars);
	return rc;
}

/* ---- the cache --------------------------------------------------------- */

/* An empty cache with no evaluator.  Return: it; NULL (no memory). */
static struct expr_cache *cache_alloc(void)
{
	struct expr_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ch = EXPR_CHILD_NONE;
	c->req = (struct buf)BUF_INIT(EXPR_REQ_MAX);
	c->input = doc_new(DOC_MAP);
	if (!c->input) {
		free(c);
		return NULL;
	}
	return c;
}

/* A cache with its evaluator started now, an idle one of @p first; @p
 * is not kept (the cache outlives it). */
static int cache_started(struct expr_pool *p, struct expr_cache **out)
{
	struct expr_cache *c = cache_alloc();
	int rc = -ENOMEM;

	if (c) {
		c->pool = p;
		rc = spawn(c);
		c->pool = NULL;
	}
	if (rc < 0) {
		expr_cache_free(c);
		return rc == -EPIPE ? -EAGAIN : rc;
	}
	*out = c;
	return 0;
}

int expr_cache_new(struct expr_cache **out)
{
	return cache_started(NULL, out);
}

int expr_pool_take(struct expr_pool *p, struct expr_cache **out)
{
	return cache_started(p, out);
}

int expr_cache_new_lazy(struct expr_pool *p, struct expr_cache **out)
{
	struct expr_cache *c = cache_alloc();

	if (!c)
		return -ENOMEM;
	c->pool = p;
	*out = c;
	return 0;
}

void expr_cache_free(struct expr_cache *c)
{
	if (!c)
		return;
	stop_child(c);
	wipe_free(c->input);
	buf_release(&c->req);
	if (c->rb)
		explicit_bzero(c->rb, c->ralloc);
	free(c->rb);
	free(c);
}

size_t expr_cache_size(const struct expr_cache *c)
{
	return c ? c->ch.nprog : 0;
}

pid_t expr_cache_pid(const struct expr_cache *c)
{
	return c ? c->ch.pid : -1;
}

void expr_set_wait(struct expr_cache *c, const struct expr_wait *w)
{
	if (w)
		c->w = *w;
	else
		memset(&c->w, 0, sizeof(c->w));
}

/* Send c->req (a state update) if an evaluator runs; one that is gone
   gets the whole input when it is replaced. */
static void send_update(struct expr_cache *c, uint32_t op)
{
	if (c->ch.pid > 0)
		send_req(c, op, &c->req);
	else
		wipe_buf(&c->req);
}

int expr_set_input(struct expr_cache *c, const struct doc *in)
{
	struct doc *copy;
	int rc;

	if (!in || in->type != DOC_MAP)
		return -EINVAL;
	rc = expr_wire_dump(in, 0, &c->req);
	copy = rc ? NULL : doc_clone(in);
	if (!rc && !copy)
		rc = -ENOMEM;
	if (rc < 0) {
		wipe_buf(&c->req);
		return rc;
	}
	wipe_free(c->input);
	c->input = copy;
	send_update(c, EXPR_OP_INPUT);
	return 0;
}

int expr_set_key(struct expr_cache *c, const char *key, const struct doc *v)
{
	return expr_set_member(c, key, NULL, v);
}

/* c->input's @key, a map (made one when it is not). */
static struct doc *member_map(struct expr_cache *c, const char *key)
{
	struct doc *m = doc_map_get(c->input, key);

	if (m && m->type == DOC_MAP)
		return m;
	m = doc_new(DOC_MAP);
	if (m && doc_map_set(c->input, key, m) < 0)
		return NULL;
	return m;
}

int expr_set_member(struct expr_cache *c, const char *key, const char *sub,
		    const struct doc *v)
{
	struct doc *copy = NULL, *at = c->input;
	int rc = buf_addstr(&c->req, key);

	if (!rc)
		rc = buf_addc(&c->req, '\0');
	if (!rc && sub)
		rc = buf_addstr(&c->req, sub);
	if (!rc && sub)
		rc = buf_addc(&c->req, '\0');
	if (!rc)
		rc = expr_wire_dump(v, 1, &c->req);
	if (!rc && sub && !(at = member_map(c, key)))
		rc = -ENOMEM;
	if (!rc)
		copy = doc_clone(v);
	if (!rc)
		rc = copy ? doc_map_set(at, sub ? sub : key, copy) : -ENOMEM;
	if (rc < 0) {
		wipe_buf(&c->req);
		return rc;
	}
	send_update(c, sub ? EXPR_OP_SUB : EXPR_OP_KEY);
	return 0;
}

void expr_set_dot(struct expr_cache *c, const struct doc *dot)
{
	c->dot = dot;
}

/* ---- rendering: the public side, one evaluation per template --------- */

/* A container node like @d (type and position), empty. */
static struct doc *shell_like(const struct doc *d)
{
	struct doc *o = doc_new(d->type);

	if (o) {
		o->flags = d->flags;
		o->line = d->line;
		o->col = d->col;
		o->off = d->off;
		o->end = d->end;
	}
	return o;
}

static int render(struct expr_cache *c, const struct doc *d, int depth,
		  const struct doc *vars, struct doc **out, char *msg,
		  size_t cap);

/* The rendered children of list or map @d into @o. */
static int render_children(struct expr_cache *c, const struct doc *d, int depth,
			   const struct doc *vars, struct doc *o, char *msg,
			   size_t cap)
{
	struct doc *child;
	size_t k;
	int rc = 0;

	for (k = 0; k < d->n && !rc; k++) {
		rc = render(
		    c, d->type == DOC_LIST ? d->u.items[k] : d->u.kv[k].val,
		    depth + 1, vars, &child, msg, cap);
		if (!rc)
			rc = d->type == DOC_LIST
				 ? doc_list_add(o, child)
				 : expr_map_append(o, d->u.kv[k].key, child);
	}
	return rc;
}

static int render(struct expr_cache *c, const struct doc *d, int depth,
		  const struct doc *vars, struct doc **out, char *msg,
		  size_t cap)
{
	struct doc *o;
	int rc;

	if (d->type == DOC_STR && expr_has(d->u.s, d->n))
		return expr_eval(c, d->u.s, d->n, vars, out, msg, cap);
	if (d->type != DOC_LIST && d->type != DOC_MAP) {
		*out = doc_clone(d);
		return *out ? 0 : -ENOMEM;
	}
	if (depth >= DOC_DEPTH_MAX)
		return say(msg, cap, -EFBIG, "document nested too deeply");
	o = shell_like(d);
	if (!o)
		return -ENOMEM;
	rc = render_children(c, d, depth, vars, o, msg, cap);
	if (rc < 0)
		doc_free(o);
	else
		*out = o;
	return rc;
}

int expr_render(struct expr_cache *c, const struct doc *d,
		const struct doc *vars, struct doc **out, char *msg, size_t cap)
{
	if (!d)
		return -EINVAL;
	return render(c, d, 0, vars, out, msg, cap);
}

bool expr_truthy(const struct doc *v)
{
	return v && v->type != DOC_NULL && !(v->type == DOC_BOOL && !v->i);
}
