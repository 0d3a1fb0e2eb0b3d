/*
 * run_shell.c - a RUN task with `shell` or `script`: the command line, the
 * task's process (core/proc.h) and its output.
 *
 * Output never reaches anything unredacted: each of stdout and stderr goes
 * through its own redact_stream, and only the redacted bytes are cut into
 * lines for the log, the line events and the tails kept in the task's
 * output.  One poll loop per task watches both pipes, the process, the
 * run's wake-up (cancel, shutdown) and the deadline (taskConfig.timeout or
 * workflow_timeout); a stop sends SIGTERM to the process group, then
 * SIGKILL after RUN_GRACE_S.
 */
#include "run_i.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define READ_CHUNK (64u << 10)
#define DRAIN_MS 2000		/* pipes held open by an escaped process */
#define RUN_SPAN (64u << 10)	/* log bytes of one run of line events */
#define RUN_BACKLOG (16u << 20)	/* log bytes not on disk before a read waits */
#define RUN_BACKLOG_MS 20	/* the longest such a wait */
#define DRAIN_CHUNKS 4		/* reads per stream per turn of the loop */
#define STOP_FDS 12		/* the run's wake-up and FORK branches' cuts */

/* One output pipe of the task. */
struct ostream {
	const char *name;		/* "stdout", "stderr" */
	int *fd;
	struct redact_stream *rs;
	struct buf red;			/* redacted, not yet a whole line */
	struct buf tail;		/* the last `keep` bytes */
	size_t keep;			/* RUN_TAIL_MAX, or RUN_RETURN_MAX for
					   a stream the task returns */
	size_t total;			/* bytes seen */
};

struct task_io {
	struct run *r;
	struct run_task *t;
	struct run_lines batch;		/* this round's lines */
	struct proc pr;
	struct ostream out[2];
	bool exited, stopping, timed_out, is_task_limit;
	int64_t kill_at;		/* SIGKILL time once stopping */
	int code;
	bool signaled;
};

/* ---- the command line ------------------------------------------------ */

static const char *interpreter(const char *lang)
{
	if (!lang || !strcmp(lang, "sh") || !strcmp(lang, "shell"))
		return "/bin/sh";
	if (!strcmp(lang, "bash"))
		return "/bin/bash";
	if (!strcmp(lang, "python") || !strcmp(lang, "python3"))
		return "/usr/bin/python3";
	return NULL;
}

static int add_arg(char **argv, size_t *n, const char *s)
{
	argv[*n] = strdup(s ? s : "");
	return argv[(*n)++] ? 0 : -ENOMEM;
}

/* argv = interpreter -c CODE [NAME ARGS...] */
static int build(const char *prog, const char *code, const struct doc *args,
		 char ***out)
{
	size_t nargs = args && args->type == DOC_LIST ? args->n : 0, n = 0, i;
	char **argv = calloc(nargs + 5, sizeof(*argv));
	int rc = argv ? 0 : -ENOMEM;

	if (rc == 0)
		rc = add_arg(argv, &n, prog);
	if (rc == 0)
		rc = add_arg(argv, &n, "-c");
	if (rc == 0)
		rc = add_arg(argv, &n, code);
	if (rc == 0 && nargs && strcmp(prog, "/usr/bin/python3"))
		rc = add_arg(argv, &n, "sh");
	for (i = 0; rc == 0 && i < nargs; i++)
		rc = add_arg(argv, &n, doc_get_str(args->u.items[i], ""));
	if (rc < 0) {
		run_argv_free(argv);
		return rc;
	}
	*out = argv;
	return 0;
}

static char *join(const char *head, const struct doc *args)
{
	struct buf b = BUF_INIT(64u << 10);
	size_t i;

	buf_addstr(&b, head);
	for (i = 0; args && args->type == DOC_LIST && i < args->n; i++) {
		buf_addstr(&b, " '");
		buf_addstr(&b, doc_get_str(args->u.items[i], ""));
		buf_addc(&b, '\'');
	}
	if (buf_addc(&b, '\0') < 0 || !b.data) {
		buf_release(&b);
		return NULL;
	}
	return b.data;
}

int run_shell_argv(const struct doc *cfg, char ***argv, char **display)
{
	const struct doc *sh = doc_map_get(cfg, "shell");
	const struct doc *sc = doc_map_get(cfg, "script");
	const struct doc *args = doc_map_get(sh ? sh : sc, "arguments");
	const char *prog = sh ? "/bin/sh" :
			   interpreter(doc_get_str(sc, "language"));
	const char *code = doc_get_str(sh ? sh : sc, sh ? "command" : "code");
	struct buf cmd = BUF_INIT(1u << 20);
	int rc;

	if (!prog || !code)
		return -EINVAL;
	/* Arguments are the positional parameters ($1, $2, ...); a command
	 * that is one plain word also gets them appended, so `ls` with
	 * [-l] runs `ls -l`. */
	if (sh && args && args->type == DOC_LIST && args->n &&
	    !strpbrk(code, " \t\n;&|<>()$`\\\"'*?[]#~=%{}")) {
		buf_addstr(&cmd, code);
		buf_addstr(&cmd, " \"$@\"");
		code = cmd.data;
	}
	rc = code ? build(prog, code, args, argv) : -ENOMEM;
	if (rc == 0) {
		*display = join(doc_get_str(sh ? sh : sc, sh ? "command" :
					    "code"), args);
		if (!*display) {
			run_argv_free(*argv);
			rc = -ENOMEM;
		}
	}
	buf_release(&cmd);
	return rc;
}

void run_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* ---- the environment ------------------------------------------------- */

/* HOME, EXECFS_* and the task's own environment map, over the run's. */
static int task_env(struct run *r, struct run_task *t, const struct doc *cfg,
		    char ***envp)
{
	const struct doc *m = doc_map_get(doc_map_get(cfg, "shell") ?
					  doc_map_get(cfg, "shell") :
					  doc_map_get(cfg, "script"),
					  "environment");
	struct run_env extra;
	const char *v;
	size_t i;
	int rc;

	run_env_init(&extra);
	rc = run_env_set(&extra, "HOME", r->workdir, strlen(r->workdir),
			 false, "execfs");
	if (rc == 0)
		rc = run_env_set(&extra, "EXECFS_EXECUTION", r->slug,
				 strlen(r->slug), false, "execfs");
	if (rc == 0)
		rc = run_env_set(&extra, "EXECFS_EXECUTION_ID", r->id,
				 strlen(r->id), false, "execfs");
	if (rc == 0)
		rc = run_env_set(&extra, "EXECFS_TASK", t->path,
				 strlen(t->path), false, "execfs");
	for (i = 0; rc == 0 && m && m->type == DOC_MAP && i < m->n; i++) {
		v = doc_get_str(m->u.kv[i].val, "");
		rc = run_env_set(&extra, m->u.kv[i].key, v ? v : "",
				 v ? strlen(v) : 0, false, "task environment");
	}
	if (rc == 0)
		rc = run_env_envp(&r->env, &extra, envp);
	run_env_release(&extra);
	return rc;
}

/* ---- output ---------------------------------------------------------- */

/* Keep the last o->keep bytes: the buffer holds up to twice that and is
 * cut back only when full, so a line costs no copy of the tail. */
static void keep_tail(struct ostream *o, const char *p, size_t n)
{
	struct buf *tail = &o->tail;

	o->total += n;
	if (n > o->keep) {
		p += n - o->keep;
		n = o->keep;
	}
	if (tail->len + n > 2 * o->keep) {
		size_t keep = o->keep - n;

		memmove(tail->data, tail->data + tail->len - keep, keep);
		buf_truncate(tail, keep);
	}
	buf_add(tail, p, n);
}

/* The kept tail, surrounding blanks trimmed when @trim. */
static struct doc *tail_doc(const struct ostream *o, bool trim)
{
	size_t n = o->tail.len > o->keep ? o->keep : o->tail.len;
	const char *p = n ? o->tail.data + o->tail.len - n : "";

	while (trim && n && strchr(" \t\r\n", *p)) {
		p++;
		n--;
	}
	while (trim && n && strchr(" \t\r\n", p[n - 1]))
		n--;
	return doc_str(p, n);
}

/* Send the round's batches: one append (and one wake-up of readers) per
 * stream per read, not per line. */
static void send(struct task_io *io)
{
	run_lines_send(io->r, &io->batch);
}

/* One redacted line (@n bytes, no newline) to the batch. */
static void emit(struct task_io *io, struct ostream *o, const char *p,
		 size_t n)
{
	if (run_lines_add(io->r, &io->batch, io->t, o->name, p, n) == 0)
		return;
	send(io);
	run_lines_add(io->r, &io->batch, io->t, o->name, p, n);
}

/* The @n lines of @p (@len bytes, each ending in a newline), as one run. */
static void emit_run(struct task_io *io, struct ostream *o, const char *p,
		     size_t len, size_t n)
{
	if (run_lines_add_run(io->r, &io->batch, io->t, o->name, p, len, n) ==
	    0)
		return;
	send(io);
	run_lines_add_run(io->r, &io->batch, io->t, o->name, p, len, n);
}

/* Cut whole lines off o->red, in runs of up to RUN_SPAN bytes (a line
 * whose event is cut, alone); @end: the last piece too. */
static void lines(struct task_io *io, struct ostream *o, bool end)
{
	char *p = o->red.data, *from = p, *nl;
	size_t left = o->red.len, n = 0, len;

	while (left && (nl = memchr(p, '\n', left))) {
		len = (size_t)(nl - p);
		if (n && (len > RUN_LINE_MAX || (size_t)(nl - from) >= RUN_SPAN)) {
			emit_run(io, o, from, (size_t)(p - from), n);
			from = p;
			n = 0;
		}
		if (len > RUN_LINE_MAX) {
			emit(io, o, p, len);
			from = nl + 1;
		} else {
			n++;
		}
		left -= len + 1;
		p = nl + 1;
	}
	emit_run(io, o, from, (size_t)(p - from), n);
	if (left && (end || left >= RUN_LINE_MAX)) {
		emit(io, o, p, left);
		left = 0;
	}
	keep_tail(o, o->red.data, o->red.len - left);	/* the bytes as read */
	if (left)
		memmove(o->red.data, p, left);
	buf_truncate(&o->red, left);
}

static void feed(struct task_io *io, struct ostream *o, const char *in,
		 size_t n)
{
	if (redact_stream_write(o->rs, in, n, &o->red) < 0) {
		/* fails closed: nothing more of this stream is shown */
		proc_close_fd(o->fd);
		return;
	}
	lines(io, o, false);
}

/* Read what @o has, at most DRAIN_CHUNKS reads: a task that writes
 * faster than we redact must not keep the loop from its deadline, stop
 * and SIGKILL checks, nor starve its other stream. */
static void drain(struct task_io *io, struct ostream *o)
{
	char buf[READ_CHUNK];
	size_t most = 0;
	ssize_t n = 0;
	int i;

	for (i = 0; i < DRAIN_CHUNKS && *o->fd >= 0; i++) {
		/* the disk sets the pace, not memory (a blocking wait: the
		 * run's lock is let go) */
		if (io->r->log && sink_backlog(io->r->log) > RUN_BACKLOG) {
			send(io);
			run_unlock(io->r);
			sink_wait_backlog(io->r->log, RUN_BACKLOG,
					  RUN_BACKLOG_MS);
			run_lock(io->r);
		}
		n = proc_read(*o->fd, buf, sizeof(buf));
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			proc_close_fd(o->fd);
			break;
		}
		feed(io, o, buf, (size_t)n);
		most = (size_t)n > most ? (size_t)n : most;
	}
	send(io);
	seal_wipe(buf, most);	/* unredacted output: each read overwrote */
}

static void finish_stream(struct task_io *io, struct ostream *o)
{
	if (redact_stream_flush(o->rs, &o->red) == 0)
		lines(io, o, true);
	send(io);
}

/* ---- the poll loop --------------------------------------------------- */

static void begin_stop(struct task_io *io, bool timed_out, bool is_task)
{
	if (io->stopping)
		return;
	io->stopping = true;
	io->timed_out = timed_out;
	io->is_task_limit = is_task;
	io->kill_at = run_now() + (int64_t)RUN_GRACE_S * 1000000000;
	proc_kill(&io->pr, SIGTERM);
}

static void on_exit_ready(struct task_io *io)
{
	/* A failed wait (already reaped) ends the task too: its group id may
	 * be reused, so it must never be signalled again. */
	if (proc_wait(&io->pr, &io->code, &io->signaled) < 0) {
		io->code = 128 + SIGKILL;
		io->signaled = true;
	}
	io->exited = true;
}

/* Wait for something to happen; act on it. */
static void step(struct task_io *io, int64_t deadline, bool is_task)
{
	struct pollfd pfd[3 + STOP_FDS] = {
		{ .fd = io->pr.out_fd, .events = POLLIN },
		{ .fd = io->pr.err_fd, .events = POLLIN },
		{ .fd = io->exited ? -1 : io->pr.pid_fd, .events = POLLIN },
	};
	int64_t until = io->stopping ? io->kill_at : deadline;
	/* once stopping, the wake-ups (never read) would spin */
	int n = io->stopping ? 0 : run_scope_fds(io->t->sc, pfd + 3, STOP_FDS);

	if (io->exited)
		until = run_now() + DRAIN_MS * 1000000LL;
	/* The task's start was stored before its process ran (start());
	 * later changes wait for their commit slot. */
	if (run_commit_due(io->r) < until)
		until = run_commit_due(io->r);
	pthread_mutex_unlock(&io->r->mu);
	poll(pfd, 3 + n, run_poll_ms(until));
	run_lock(io->r);
	run_flush_due(io->r);
	drain(io, &io->out[0]);
	drain(io, &io->out[1]);
	if (!io->exited && (pfd[2].revents & (POLLIN | POLLHUP)))
		on_exit_ready(io);
	if (io->exited)
		return;
	if (run_scope_stopped(io->t->sc))
		begin_stop(io, false, false);
	else if (run_now() >= deadline)
		begin_stop(io, true, is_task);
	/* once: then the keeper reports the end (a signal per pass would
	 * flood it while an unkillable process lingers) */
	if (io->stopping && run_now() >= io->kill_at) {
		proc_kill(&io->pr, SIGKILL);
		io->kill_at = INT64_MAX;
	}
}

static void supervise(struct task_io *io)
{
	bool is_task;
	int64_t deadline = run_task_deadline(io->r, io->t, &is_task);
	int64_t drain_end = 0;

	while (!io->exited || io->pr.out_fd >= 0 || io->pr.err_fd >= 0) {
		if (io->exited && !drain_end)
			drain_end = run_now() + DRAIN_MS * 1000000LL;
		if (drain_end && run_now() >= drain_end)
			break;
		step(io, deadline, is_task);
	}
	finish_stream(io, &io->out[0]);
	finish_stream(io, &io->out[1]);
}

/* ---- the result ------------------------------------------------------ */

/* `return` of a RUN config: stdout (default), stderr, code, all, none. */
static const char *returns(const struct doc *cfg)
{
	const char *v = doc_get_str(cfg, "return");

	return v && *v ? v : "stdout";
}

/* In place of a returned stream over RUN_RETURN_MAX: what it was, loudly
 * (a cut text would change what later tasks compute without a word, and
 * failing would fail every task that logs a lot). */
static struct doc *too_large(const struct ostream *o, const char *ret)
{
	struct doc *d = doc_new(DOC_MAP);
	char why[200];

	snprintf(why, sizeof(why), "%s is over %u KiB, so it is not the "
		 "output (return: %s); use return: none or code, or write it "
		 "to a file", o->name, RUN_RETURN_MAX >> 10, ret);
	if (d && (doc_map_set(d, "truncated", doc_bool(true)) < 0 ||
		  doc_map_setstr(d, "reason", why) < 0 ||
		  doc_map_set(d, "bytes", doc_int((int64_t)o->total)) < 0)) {
		doc_free(d);
		return NULL;
	}
	return d;
}

/* A returned stream: its text, trimmed as Stigmer does. */
static struct doc *stream_doc(const struct ostream *o, const char *ret)
{
	if (o->total > RUN_RETURN_MAX)
		return too_large(o, ret);
	return tail_doc(o, true);
}

/* {code, stdout, stderr} */
static struct doc *all_of(struct task_io *io)
{
	struct doc *o = doc_new(DOC_MAP);
	size_t i;

	if (o && doc_map_set(o, "code", doc_int(io->code)) < 0)
		goto fail;
	for (i = 0; o && i < 2; i++)
		if (doc_map_set(o, io->out[i].name,
				stream_doc(&io->out[i], "all")) < 0)
			goto fail;
	return o;
fail:
	doc_free(o);
	return NULL;
}

/* The task's output, as `return` says (DSL): the stream's text, the exit
 * code, all three, or null. */
static int result(struct task_io *io, const char *ret)
{
	struct run_task *t = io->t;

	if (!strcmp(ret, "none"))
		t->output = doc_new(DOC_NULL);
	else if (!strcmp(ret, "code"))
		t->output = doc_int(io->code);
	else if (!strcmp(ret, "all"))
		t->output = all_of(io);
	else
		t->output = stream_doc(&io->out[!strcmp(ret, "stderr")], ret);
	return t->output ? 0 : -ENOMEM;
}

static int outcome(struct task_io *io, const char *ret)
{
	struct run_task *t = io->t;
	bool code_ok = !strcmp(ret, "code") || !strcmp(ret, "all");
	const char *sig;

	t->has_exit = true;
	t->exit_code = io->code;
	io->r->exit_code = io->code;
	if (io->stopping && !io->timed_out)
		return -ECANCELED;
	if (io->timed_out)
		return run_deadline_failure(io->r, t, io->is_task_limit);
	if (io->signaled) {
		sig = sigabbrev_np(io->code - 128);
		run_task_error(t, "runtime", 500, "Process failed",
			       "killed by signal SIG%s", sig ? sig : "?");
		return -1;
	}
	if (io->code && !code_ok) {
		run_task_error(t, "runtime", 500, "Process failed",
			       "exit status %d", io->code);
		return -1;
	}
	return result(io, ret);
}

static int io_init(struct task_io *io, struct run *r, struct run_task *t,
		   const char *ret)
{
	size_t i;
	int rc = 0;

	memset(io, 0, sizeof(*io));
	io->r = r;
	io->t = t;
	io->pr.out_fd = io->pr.err_fd = io->pr.pid_fd = -1;
	io->out[0].name = "stdout";
	io->out[0].fd = &io->pr.out_fd;
	io->out[1].name = "stderr";
	io->out[1].fd = &io->pr.err_fd;
	run_lines_init(&io->batch, 4 * READ_CHUNK);
	io->out[0].keep = io->out[1].keep = RUN_TAIL_MAX;
	if (!strcmp(ret, "stdout") || !strcmp(ret, "all"))
		io->out[0].keep = RUN_RETURN_MAX;
	if (!strcmp(ret, "stderr") || !strcmp(ret, "all"))
		io->out[1].keep = RUN_RETURN_MAX;
	for (i = 0; i < 2; i++) {
		buf_init(&io->out[i].red, 4 * RUN_LINE_MAX);
		buf_init(&io->out[i].tail, 2 * io->out[i].keep);
		if (rc == 0)
			rc = redactor_stream_new(r->red, &io->out[i].rs);
	}
	return rc;
}

static void io_release(struct task_io *io)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		redact_stream_free(io->out[i].rs);
		buf_release(&io->out[i].red);
		buf_release(&io->out[i].tail);
	}
	run_lines_release(&io->batch);
	proc_release(&io->pr);
}

/* The process runs as the execution's creator when the daemon is root. */
static void as_creator(struct proc_spec *ps, const struct run *r)
{
	ps->as_user = r->as_creator;
	ps->uid = r->who.uid;
	ps->gid = r->who.gid;
	ps->groups = r->who.groups;
	ps->ngroups = r->who.ngroups;
}

/* shell.stdin or script.stdin, rendered: the process's standard input. */
static void stdin_of(const struct doc *cfg, struct proc_spec *ps)
{
	const struct doc *sub = doc_map_get(cfg, "shell") ?
				doc_map_get(cfg, "shell") :
				doc_map_get(cfg, "script");
	const struct doc *in = doc_map_get(sub, "stdin");

	if (in && doc_is_scalar(in) && in->u.s) {
		ps->stdin_data = in->u.s;
		ps->stdin_len = in->n;
	}
}

static void start_stored(void *r)
{
	run_flush(r);
}

static int start(struct task_io *io, const struct doc *cfg)
{
	char **argv = NULL, **envp = NULL, *display = NULL;
	struct proc_spec ps = { 0 };
	struct err e = { 0 };
	int rc = run_shell_argv(cfg, &argv, &display);

	if (rc == 0)
		rc = task_env(io->r, io->t, cfg, &envp);
	if (rc == 0) {
		ps.path = argv[0];
		ps.argv = argv;
		ps.envp = envp;
		ps.cwd = io->r->workdir;
		as_creator(&ps, io->r);
		stdin_of(cfg, &ps);
		/* The task's start is recorded before its process runs (a
		 * kill -9 never finds a started task PENDING): journaled
		 * now (run_journal.c), or else committed while the keeper
		 * forks, the program waiting at its gate for the commit. */
		if (!run_start_journaled(io->r)) {
			ps.before = start_stored;
			ps.before_ctx = io->r;
		}
		rc = proc_spawn(&io->pr, &ps, &e);
	}
	if (rc < 0)
		snprintf(io->t->error, sizeof(io->t->error), "cannot start "
			 "the task: %.400s", e.msg[0] ? e.msg : strerror(-rc));
	run_argv_free(argv);
	run_env_envp_free(envp);
	free(display);
	return rc;
}

int run_shell(struct run *r, struct run_task *t, const struct doc *cfg)
{
	const char *ret = returns(cfg);
	struct task_io io;
	int rc = io_init(&io, r, t, ret);

	if (rc < 0)
		snprintf(t->error, sizeof(t->error), "out of memory");
	else
		rc = start(&io, cfg);
	if (rc == 0) {
		supervise(&io);
		rc = outcome(&io, ret);
	} else {
		rc = -1;
	}
	io_release(&io);
	return rc;
}
