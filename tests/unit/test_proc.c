/*
 * test_proc.c - task processes: output on the right pipes, exit codes and
 * signals, a clean environment, process groups killed as a whole (by
 * proc_kill, at the program's end, when the daemon lets go of a task or
 * dies), one keeper for every program (replaced when it dies, refusing a
 * bad request), no descriptor or signal state leaking into the program,
 * the program (not its keeper) switched to another user when asked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/keeper.h"
#include "core/proc.h"

static char *const clean_env[] = { "PATH=/usr/bin:/bin", NULL };

struct result {
	struct buf out, err;
	int code;
	bool signaled;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void spawn_sh(struct proc *pr, const char *script, const char *cwd)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv,
		.envp = clean_env, .cwd = cwd,
	};
	struct err e = { 0 };

	assert_int_equal(proc_spawn(pr, &s, &e), 0);
	assert_true(pr->pid > 1);
	assert_true(pr->out_fd > 2 && pr->err_fd > 2 && pr->pid_fd > 2);
}

/* Read what one fd has; close it at EOF. */
static void drain_one(int *fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n = proc_read(*fd, chunk, sizeof(chunk));

	if (n == 0)
		proc_close_fd(fd);
	else if (n > 0)
		assert_int_equal(buf_add(b, chunk, (size_t)n), 0);
	else
		assert_int_equal(n, -EAGAIN);
}

/* Read both pipes until EOF; once the program ended (pid_fd readable and
 * @r non-NULL), take its status.  False on timeout after @ms. */
static bool drain_wait(struct proc *pr, struct buf *out, struct buf *err,
		       struct result *r, int ms)
{
	long end = now_ms() + ms;

	while (pr->out_fd >= 0 || pr->err_fd >= 0) {
		struct pollfd p[3] = { { pr->out_fd, POLLIN, 0 },
				       { pr->err_fd, POLLIN, 0 },
				       { r ? pr->pid_fd : -1, POLLIN, 0 } };
		long left = end - now_ms();

		if (left <= 0 || poll(p, 3, (int)left) < 0)
			return false;
		if (pr->out_fd >= 0 && p[0].revents)
			drain_one(&pr->out_fd, out);
		if (pr->err_fd >= 0 && p[1].revents)
			drain_one(&pr->err_fd, err);
		if (p[2].fd >= 0 && p[2].revents)
			assert_int_equal(proc_wait(pr, &r->code, &r->signaled),
					 0);
	}
	return true;
}

static bool drain(struct proc *pr, struct buf *out, struct buf *err, int ms)
{
	return drain_wait(pr, out, err, NULL, ms);
}

static bool exited_within(const struct proc *pr, int ms)
{
	struct pollfd p = { pr->pid_fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Run to the end as the runner does: output and status. */
static void run(struct proc *pr, struct result *r)
{
	buf_init(&r->out, 1 << 20);
	buf_init(&r->err, 1 << 20);
	assert_true(drain_wait(pr, &r->out, &r->err, r, 5000));
	if (pr->pid_fd >= 0) {
		assert_true(exited_within(pr, 5000));
		assert_int_equal(proc_wait(pr, &r->code, &r->signaled), 0);
	}
	assert_int_equal(proc_wait(pr, &r->code, &r->signaled), -ECHILD);
	proc_release(pr);
}

static void result_release(struct result *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
}

static const char *text(const struct buf *b)
{
	return b->data ? b->data : "";
}

/* pgrp of the process whose /proc/<pid>/stat is @path, -1 if it is a
 * zombie or gone.  Fields after the last ')': state ppid pgrp. */
static long live_pgrp(const char *path)
{
	char line[1024], state;
	long ppid, pgrp;
	const char *rp;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	rp = strrchr(line, ')');
	if (!rp || sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
		return -1;
	return state == 'Z' || state == 'X' ? -1 : pgrp;
}

/* Processes of group @pgid that are not zombies. */
static int live_in_group(pid_t pgid)
{
	char path[300];
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if (live_pgrp(path) == pgid)
			n++;
	}
	closedir(dir);
	return n;
}

static bool group_reaches(pid_t pgid, int at_least, int at_most, int ms)
{
	long end = now_ms() + ms;

	for (;;) {
		int n = live_in_group(pgid);

		if (n >= at_least && n <= at_most)
			return true;
		if (now_ms() > end)
			return false;
		usleep(10000);
	}
}

static const struct {
	const char *script, *out, *err;
	int code;
	bool signaled;
} status_cases[] = {
	{ "echo hello; echo oops >&2", "hello\n", "oops\n", 0, false },
	{ "echo a; exit 3", "a\n", "", 3, false },
	{ "echo x >&2; kill -TERM $$", "", "x\n", 128 + SIGTERM, true },
	{ "kill -KILL $$", "", "", 128 + SIGKILL, true },
	{ "kill -SEGV $$", "", "", 128 + SIGSEGV, true },
	{ "trap 'exit 7' TERM; kill -TERM $$", "", "", 7, false },
};

static void test_output_and_status(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		struct proc pr;
		struct result r;

		spawn_sh(&pr, status_cases[i].script, NULL);
		run(&pr, &r);
		assert_string_equal(text(&r.out), status_cases[i].out);
		assert_string_equal(text(&r.err), status_cases[i].err);
		assert_int_equal(r.code, status_cases[i].code);
		assert_int_equal(r.signaled, status_cases[i].signaled);
		result_release(&r);
	}
}

/* What the gate's test saw in before(): whether the program had run. */
struct gate_seen {
	const char *marker;
	bool ran_before;
	int calls;
};

static void gate_before(void *ctx)
{
	struct gate_seen *g = ctx;

	g->calls++;
	usleep(300 * 1000);	/* the program would have run by now */
	g->ran_before = access(g->marker, F_OK) == 0;
}

/* With before(), the program runs only after it returned (a task's
 * start is committed there while the keeper starts). */
static void test_gate(void **state)
{
	char dir[] = "/tmp/execfs-gate-XXXXXX", marker[64], script[128];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct gate_seen g = { marker, true, 0 };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv, .envp = clean_env,
		.before = gate_before, .before_ctx = &g,
	};
	struct err e = { 0 };
	struct proc pr;
	struct result r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(marker, sizeof(marker), "%s/ran", dir);
	snprintf(script, sizeof(script), "touch %s; echo gated", marker);
	assert_int_equal(proc_spawn(&pr, &s, &e), 0);
	run(&pr, &r);
	assert_int_equal(g.calls, 1);
	assert_false(g.ran_before);
	assert_string_equal(text(&r.out), "gated\n");
	assert_int_equal(r.code, 0);
	assert_int_equal(access(marker, F_OK), 0);
	result_release(&r);
	unlink(marker);
	rmdir(dir);
}

static void test_environment_is_envp(void **state)
{
	char *argv[] = { "/usr/bin/env", NULL };
	char *envp[] = { "A=1", "B=two words", "EMPTY=", NULL };
	struct proc_spec s = {
		.path = "/usr/bin/env", .argv = argv,
		.envp = envp, .cwd = NULL,
	};
	struct proc pr;
	struct result r;

	(void)state;
	assert_int_equal(setenv("EXECFS_TEST_LEAK", "1", 1), 0);
	assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
	run(&pr, &r);
	assert_string_equal(text(&r.out), "A=1\nB=two words\nEMPTY=\n");
	assert_int_equal(r.code, 0);
	result_release(&r);
	unsetenv("EXECFS_TEST_LEAK");
}

static void test_cwd(void **state)
{
	char tmpl[] = "/tmp/execfs-proc-XXXXXX", real[PATH_MAX + 2];
	struct proc pr;
	struct result r;
	struct err e = { 0 };
	char *argv[] = { "/bin/pwd", "-P", NULL };
	struct proc_spec s = {
		.path = "/bin/pwd", .argv = argv,
		.envp = clean_env, .cwd = tmpl,
	};

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, real));
	real[strlen(real) + 1] = '\0';
	real[strlen(real)] = '\n';
	spawn_sh(&pr, "/bin/pwd -P", tmpl);
	run(&pr, &r);
	assert_string_equal(text(&r.out), real);
	result_release(&r);
	s.cwd = NULL;
	assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
	run(&pr, &r);
	assert_string_equal(text(&r.out), "/\n");
	result_release(&r);
	assert_int_equal(rmdir(tmpl), 0);
	s.cwd = tmpl;
	assert_int_equal(proc_spawn(&pr, &s, &e), -ENOENT);
	assert_non_null(strstr(e.msg, tmpl));
}

static void test_program_not_found(void **state)
{
	char tmpl[] = "/tmp/execfs-proc-XXXXXX";
	char *argv[] = { "x", NULL };
	struct proc_spec s = {
		.path = "/nonexistent/prog", .argv = argv,
		.envp = clean_env, .cwd = NULL,
	};
	struct err e = { 0 };
	struct proc pr;
	struct result r;
	int fd;

	(void)state;
	assert_int_equal(proc_spawn(&pr, &s, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent/prog"));
	s.path = "bin/sh";
	assert_int_equal(proc_spawn(&pr, &s, &e), -EINVAL);
	/* Known only after fork: the interpreter of a script is missing. */
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/nonexistent/interp\n", 22), 22);
	assert_int_equal(fchmod(fd, 0700), 0);
	close(fd);
	s.path = tmpl;
	assert_int_equal(proc_spawn(&pr, &s, &e), 0);
	run(&pr, &r);
	assert_int_equal(r.code, 127);
	assert_false(r.signaled);
	assert_non_null(strstr(text(&r.err), "cannot execute"));
	assert_non_null(strstr(text(&r.err), tmpl));
	result_release(&r);
	unlink(tmpl);
}

static void test_kill_term(void **state)
{
	struct proc pr;
	struct result r;
	char c;
	long t0;

	(void)state;
	spawn_sh(&pr, "exec sleep 600", NULL);
	assert_false(exited_within(&pr, 100));
	assert_int_equal(proc_read(pr.out_fd, &c, 1), -EAGAIN);
	t0 = now_ms();
	assert_int_equal(proc_kill(&pr, SIGTERM), 0);
	run(&pr, &r);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(r.code, 128 + SIGTERM);
	assert_true(r.signaled);
	result_release(&r);
}

/* The keeper outlives a group-wide SIGTERM and reports how the program,
 * which handles it, chose to end. */
static void test_term_handled_by_program(void **state)
{
	struct proc pr;
	struct result r;
	char ready[16];
	ssize_t n;

	(void)state;
	spawn_sh(&pr, "trap 'exit 7' TERM; echo ready; sleep 600 & wait",
		 NULL);
	assert_true(poll(&(struct pollfd){ pr.out_fd, POLLIN, 0 }, 1, 2000)
		    == 1);
	n = proc_read(pr.out_fd, ready, sizeof(ready));
	assert_int_equal(n, 6);
	assert_int_equal(proc_kill(&pr, SIGTERM), 0);
	run(&pr, &r);
	assert_int_equal(r.code, 7);
	assert_false(r.signaled);
	result_release(&r);
}

/* A group of two sleeps (and sh, unless it exec'd the last one). */
static pid_t spawn_group(struct proc *pr)
{
	spawn_sh(pr, "sleep 600 & sleep 600", NULL);
	assert_true(group_reaches(pr->pid, 2, 3, 2000));
	return pr->pid;
}

static void test_kill_group(void **state)
{
	struct proc pr;
	struct result r;
	pid_t pgid;

	(void)state;
	pgid = spawn_group(&pr);
	assert_int_equal(proc_kill(&pr, SIGKILL), 0);
	run(&pr, &r);
	assert_int_equal(r.code, 128 + SIGKILL);
	assert_true(r.signaled);
	assert_true(group_reaches(pgid, 0, 0, 1000));
	result_release(&r);
}

/* What the program leaves in the background is killed when it ends:
 * the pipes reach EOF before anyone waits. */
static void test_straggler_killed_at_exit(void **state)
{
	struct proc pr;
	struct buf out = BUF_INIT(1024), err = BUF_INIT(1024);
	int code;
	bool sig;

	(void)state;
	spawn_sh(&pr, "sleep 600 & echo started; exit 0", NULL);
	assert_true(exited_within(&pr, 2000));
	assert_true(group_reaches(pr.pid, 0, 0, 1000));
	assert_true(drain(&pr, &out, &err, 2000));
	assert_string_equal(text(&out), "started\n");
	assert_int_equal(proc_wait(&pr, &code, &sig), 0);
	assert_int_equal(code, 0);
	assert_false(sig);
	proc_release(&pr);
	buf_release(&out);
	buf_release(&err);
}

/* Spawn and end the thread; cmocka asserts stay in the main thread. */
static void *spawn_and_leave(void *arg)
{
	static char *argv[] = { "/bin/sh", "-c",
				"echo hi; sleep 0.3; echo done", NULL };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv,
		.envp = clean_env, .cwd = NULL,
	};
	struct proc *pr = arg;

	if (proc_spawn(pr, &s, NULL) < 0)
		pr->pid = -1;
	return NULL;
}

/* A task does not depend on the thread that spawned it. */
static void test_outlives_spawning_thread(void **state)
{
	pthread_t t;
	struct proc pr;
	struct result r;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, spawn_and_leave, &pr), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(pr.pid > 1);
	run(&pr, &r);
	assert_string_equal(text(&r.out), "hi\ndone\n");
	assert_int_equal(r.code, 0);
	assert_false(r.signaled);
	result_release(&r);
}

/* Let go of a task without waiting: its group is killed. */
static void test_release_kills(void **state)
{
	struct proc pr;
	pid_t pgid;

	(void)state;
	pgid = spawn_group(&pr);
	proc_release(&pr);
	assert_true(group_reaches(pgid, 0, 0, 1000));
}

/* Field 4 (ppid) of /proc/@pid/stat; -1 if gone. */
static long parent_of(pid_t pid)
{
	char path[64], line[1024];
	const char *rp;
	long ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f) && (rp = strrchr(line, ')')))
		sscanf(rp + 1, " %*c %ld", &ppid);
	fclose(f);
	return ppid;
}

static bool gone_within(pid_t pid, int ms)
{
	long end = now_ms() + ms;

	while (kill(pid, 0) == 0 && now_ms() < end)
		usleep(10000);
	return kill(pid, 0) < 0;
}

/* One keeper forks every program; killed, it takes its programs with it
 * (their status is unknown), and the next spawn starts another. */
static void test_one_keeper(void **state)
{
	struct proc a, b, c;
	struct result r;
	long keeper;
	int code;
	bool sig;

	(void)state;
	spawn_sh(&a, "exec sleep 600", NULL);
	spawn_sh(&b, "exec sleep 600", NULL);
	keeper = parent_of(a.pid);
	assert_true(keeper > 1 && keeper != getpid());
	assert_int_equal(parent_of(b.pid), keeper);
	assert_int_equal(kill((pid_t)keeper, SIGKILL), 0);
	assert_true(exited_within(&a, 2000));
	assert_int_equal(proc_wait(&a, &code, &sig), -EPIPE);
	assert_true(gone_within(a.pid, 2000));
	assert_true(gone_within(b.pid, 2000));
	proc_release(&a);
	proc_release(&b);
	spawn_sh(&c, "echo again", NULL);
	assert_true(parent_of(c.pid) != keeper);
	run(&c, &r);
	assert_string_equal(text(&r.out), "again\n");
	assert_int_equal(r.code, 0);
	result_release(&r);
}

/* In a forked daemon stand-in: spawn, report the group, wait to die. */
__attribute__((noreturn))
static void stand_in(int report)
{
	char *argv[] = { "/bin/sh", "-c", "sleep 600 & sleep 600", NULL };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv,
		.envp = clean_env, .cwd = NULL,
	};
	struct proc pr;

	if (proc_spawn(&pr, &s, NULL) < 0)
		_exit(1);
	if (write(report, &pr.pid, sizeof(pr.pid)) != sizeof(pr.pid))
		_exit(1);
	for (;;)
		pause();
}

static void test_death_of_daemon_process(void **state)
{
	int p[2], status;
	pid_t daemon, pgid = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	daemon = fork();
	assert_true(daemon >= 0);
	if (daemon == 0)
		stand_in(p[1]);
	close(p[1]);
	assert_int_equal(read(p[0], &pgid, sizeof(pgid)), sizeof(pgid));
	close(p[0]);
	assert_true(group_reaches(pgid, 2, 3, 2000));
	assert_int_equal(kill(daemon, SIGKILL), 0);
	assert_int_equal(waitpid(daemon, &status, 0), daemon);
	assert_true(group_reaches(pgid, 0, 0, 1000));
}

static void expect_output(char *const *argv, const char *out)
{
	struct proc_spec s = {
		.path = argv[0], .argv = argv,
		.envp = clean_env, .cwd = NULL,
	};
	struct proc pr;
	struct result r;

	assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
	run(&pr, &r);
	assert_string_equal(text(&r.out), out);
	assert_int_equal(r.code, 0);
	result_release(&r);
}

/* A stop sent the moment proc_spawn() returns reaches the program (it
 * exists by then, perhaps before its own session): the task ends of
 * SIGTERM at once, not at a later SIGKILL. */
static void test_term_at_once(void **state)
{
	char *argv[] = { "/bin/sleep", "30", NULL };
	struct proc_spec s = {
		.path = argv[0], .argv = argv, .envp = clean_env,
	};
	struct proc pr;
	struct result r;
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
		assert_int_equal(proc_kill(&pr, SIGTERM), 0);
		run(&pr, &r);
		assert_true(r.signaled);
		assert_int_equal(r.code, 128 + SIGTERM);
		result_release(&r);
	}
}

/* The program gets its environment; the keeper above it (root, the
 * task's parent) has none: LD_PRELOAD or GLIBC_TUNABLES a task's author
 * writes never reach it. */
static void test_keeper_env_empty(void **state)
{
	char *argv[] = { "/bin/sh", "-c",
			 "echo \"$X\"; wc -c < /proc/$PPID/environ", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", "X=mine",
			"LD_PRELOAD=/nonexistent/x.so", NULL };
	struct proc_spec s = {
		.path = argv[0], .argv = argv, .envp = env,
	};
	struct proc pr;
	struct result r;

	(void)state;
	assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
	run(&pr, &r);
	assert_string_equal(text(&r.out), "mine\n0\n");
	assert_int_equal(r.code, 0);
	result_release(&r);
}

/* A task's environment holds its secrets, and /proc/PID/cmdline is
 * readable by every local user: argv and envp come through a memory
 * file, never a command line.  Empty strings and more strings than one
 * writev() takes (IOV_MAX) come through whole; `ps` names the keeper
 * execfs-keeper (not "4", the fd it is run from). */
static void test_keeper_cmdline_bare(void **state)
{
	char *argv[] = { "/bin/sh", "-c",
			 "tr '\\0' ' ' < /proc/$PPID/cmdline; echo;"
			 "printf '[%s]' \"$@\"; echo; echo \"$X\";"
			 "env | grep -c '^V[0-9]*=v'; cat /proc/$PPID/comm",
			 "sh", "", "two words", "", NULL };
	enum { N_VARS = 3000 };
	char **env = calloc(N_VARS + 3, sizeof(*env));
	struct proc_spec s = { .path = argv[0], .argv = argv };
	struct proc pr;
	struct result r;
	const char *nl;
	int i;

	(void)state;
	assert_non_null(env);
	env[0] = "PATH=/usr/bin:/bin";
	env[1] = "X=hush-hush";
	for (i = 0; i < N_VARS; i++)
		assert_true(asprintf(&env[2 + i], "V%d=v%d", i, i) > 0);
	s.envp = env;
	assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
	run(&pr, &r);
	assert_int_equal(r.code, 0);
	nl = strchr(text(&r.out), '\n');
	assert_non_null(nl);
	assert_null(memmem(text(&r.out), (size_t)(nl - text(&r.out)),
			   "hush", 4));
	assert_null(memmem(text(&r.out), (size_t)(nl - text(&r.out)),
			   "two words", 9));
	assert_string_equal(nl + 1, "[][two words][]\nhush-hush\n3000\n"
				    "execfs-keeper\n");
	result_release(&r);
	for (i = 0; i < N_VARS; i++)
		free(env[2 + i]);
	free(env);
}

/* In a forked daemon stand-in: die while the task's start would be
 * committed, before the gate's byte. */
static void die_at_gate(void *ctx)
{
	(void)ctx;
	_exit(0);
}

__attribute__((noreturn))
static void stand_in_dying(const char *mark)
{
	char script[PATH_MAX + 16];
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv, .envp = clean_env,
		.before = die_at_gate,
	};
	struct proc pr;

	snprintf(script, sizeof(script), "touch %s", mark);
	proc_spawn(&pr, &s, NULL);
	_exit(1);
}

/* The gate's EOF (the daemon died before its byte): the program never
 * runs. */
static void test_gate_closed_program_never_runs(void **state)
{
	char mark[PATH_MAX];
	struct stat st;
	int status;
	pid_t pid;

	(void)state;
	snprintf(mark, sizeof(mark), "/tmp/execfs-gate-%d", (int)getpid());
	unlink(mark);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		stand_in_dying(mark);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	usleep(300 * 1000);	/* the program would have run by now */
	assert_int_equal(stat(mark, &st), -1);
	unlink(mark);
}

/* The keeper by hand, its request socket on fd 3, at most @nofile fds
 * (0: as ours). */
static pid_t keeper_by_hand(int *ctl, rlim_t nofile)
{
	struct rlimit lim = { nofile, nofile };
	int sv[2];
	pid_t pid;

	assert_non_null(proc_keeper_find());
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(sv[1], KEEPER_CTL_FD) < 0 ||
		    close_range(KEEPER_CTL_FD + 1, ~0U, 0) < 0 ||
		    (nofile && setrlimit(RLIMIT_NOFILE, &lim) < 0))
			_exit(3);
		execl(proc_keeper_find(), "execfs-keeper", (char *)NULL);
		_exit(3);
	}
	close(sv[1]);
	*ctl = sv[0];
	return pid;
}

/* A request with @nfds copies of a task socket; what came back on it. */
static int32_t ask(int ctl, const struct keeper_req *q, size_t len,
		   size_t nfds)
{
	union {
		char buf[CMSG_SPACE(KEEPER_NFDS * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec io = { (void *)q, len };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int task[2], fds[KEEPER_NFDS];
	int32_t v = 0;
	size_t i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, task), 0);
	for (i = 0; i < nfds; i++)
		fds[i] = task[1];
	memset(&cm, 0, sizeof(cm));
	if (nfds) {
		m.msg_control = cm.buf;
		m.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(ctl, &m, 0), (ssize_t)len);
	close(task[1]);
	assert_int_equal(recv(task[0], &v, sizeof(v), 0), sizeof(v));
	close(task[0]);
	return v;
}

/* A bad request is refused (-EINVAL on its task socket) and the keeper
 * goes on; at the EOF of its request socket it exits. */
static void test_keeper_refuses_bad_requests(void **state)
{
	struct keeper_req q = { .magic = KEEPER_MAGIC, .nargs = 1 };
	int ctl, status;
	pid_t pid = keeper_by_hand(&ctl, 0);

	(void)state;
	q.magic = 1;
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS - 1), -EINVAL);
	q.magic = KEEPER_MAGIC;
	assert_int_equal(ask(ctl, &q, sizeof(q), 2), -EINVAL);
	assert_int_equal(ask(ctl, &q, sizeof(q) - 1, KEEPER_NFDS - 1),
			 -EINVAL);
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS), -EINVAL);
	q.flags = 8;
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS - 1), -EINVAL);
	q.flags = 0;
	q.ngroups = 1;	/* groups without as_user */
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS - 1), -EINVAL);
	q.ngroups = 0;
	q.flags = KEEPER_AS_USER;
	q.uid = (uint32_t)-1;	/* setresuid(-1...) would leave it root */
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS - 1), -EINVAL);
	q.uid = 0;
	q.gid = (uint32_t)-1;
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS - 1), -EINVAL);
	close(ctl);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* @pid is a zombie or gone, within @ms. */
static bool ended_within(pid_t pid, int ms)
{
	char path[64];
	long end = now_ms() + ms;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (live_pgrp(path) >= 0 && now_ms() < end)
		usleep(10000);
	return live_pgrp(path) < 0;
}

/* A request whose descriptors do not fit the keeper's table: -EMFILE,
 * and the keeper goes on. */
static void test_keeper_fd_table_full(void **state)
{
	struct keeper_req q = { .magic = KEEPER_MAGIC, .nargs = 1 };
	int ctl, status;
	/* 0-4 open (4 its signalfd), room for two of the six */
	pid_t pid = keeper_by_hand(&ctl, 7);

	(void)state;
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS - 1), -EMFILE);
	assert_int_equal(ask(ctl, &q, sizeof(q), KEEPER_NFDS - 1), -EMFILE);
	close(ctl);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The keeper closes a task's socket with signals of ours unread (the
 * program ended while they were on their way): the status still comes,
 * though our end of the socket was reset (a wait already blocked when it
 * happens sees ECONNRESET first: five rounds make that likely). */
static void test_status_after_unread_signals(void **state)
{
	struct proc pr, sleeper;
	long keeper;
	int i, code;
	bool sig;

	(void)state;
	/* "exit 3" may be reaped before its parent can be read: ask a
	 * program that stays */
	spawn_sh(&sleeper, "exec sleep 600", NULL);
	keeper = parent_of(sleeper.pid);
	assert_true(keeper > 1 && keeper != getpid());
	for (i = 0; i < 5; i++) {
		spawn_sh(&pr, "exit 3", NULL);
		assert_int_equal(kill((pid_t)keeper, SIGSTOP), 0);
		/* the program ends; the stopped keeper reads nothing */
		assert_true(ended_within(pr.pid, 2000));
		assert_int_equal(proc_kill(&pr, SIGTERM), 0);
		assert_int_equal(proc_kill(&pr, SIGKILL), 0);
		assert_int_equal(kill((pid_t)keeper, SIGCONT), 0);
		code = -1;
		assert_int_equal(proc_wait(&pr, &code, &sig), 0);
		assert_int_equal(code, 3);
		assert_false(sig);
		proc_release(&pr);
	}
	assert_int_equal(parent_of(sleeper.pid), keeper);
	proc_release(&sleeper);
}

/*
 * The program sees fds 0, 1, 2 only (ls opens the directory as 3), stdin
 * is /dev/null, no signal is blocked or ignored, though the daemon has a
 * leaked fd, a pipe as stdin, an ignored SIGPIPE and a blocked SIGUSR1.
 * The programs run directly: a shell blocks signals for a moment when it
 * forks.
 */
static void test_clean_fds_and_signals(void **state)
{
	char *ls[] = { "/bin/ls", "/proc/self/fd", NULL };
	char *in[] = { "/bin/readlink", "/proc/self/fd/0", NULL };
	char *sigs[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)",
			 "/proc/self/status", NULL };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigset_t usr1, old_mask;
	int leak = dup(2), in_pipe[2], old_in = dup(0);

	(void)state;
	assert_true(leak > 2);
	/* The daemon's own stdin must not reach the program. */
	assert_int_equal(pipe(in_pipe), 0);
	assert_int_equal(dup2(in_pipe[0], 0), 0);
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
	expect_output(ls, "0\n1\n2\n3\n");
	expect_output(in, "/dev/null\n");
	expect_output(sigs, "SigBlk:\t0000000000000000\n"
			    "SigIgn:\t0000000000000000\n");
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	dup2(old_in, 0);
	close(old_in);
	close(in_pipe[0]);
	close(in_pipe[1]);
	close(leak);
}

/* In a child whose fds 0, 1, 2 are closed, the descriptors proc_spawn()
 * opens take those numbers; the program must still get the right ones. */
__attribute__((noreturn))
static void spawn_without_std_fds(int report)
{
	char *argv[] = { "/bin/sh", "-c",
			 "echo out; echo err >&2; readlink /proc/$$/fd/0",
			 NULL };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv,
		.envp = clean_env, .cwd = NULL,
	};
	struct buf out = BUF_INIT(256), err = BUF_INIT(256);
	struct result r;
	struct proc pr;
	bool ok;

	close(0);
	close(1);
	close(2);
	if (proc_spawn(&pr, &s, NULL) < 0)
		_exit(1);
	ok = drain_wait(&pr, &out, &err, &r, 5000) &&
	     (pr.pid_fd < 0 || proc_wait(&pr, &r.code, &r.signaled) == 0) &&
	     !strcmp(text(&out), "out\n/dev/null\n") &&
	     !strcmp(text(&err), "err\n") && r.code == 0;
	_exit(ok && write(report, "k", 1) == 1 ? 0 : 1);
}

static void test_daemon_without_std_fds(void **state)
{
	int p[2], status;
	pid_t child;
	char c = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_true(p[0] > 2 && p[1] > 2);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		spawn_without_std_fds(p[1]);
	close(p[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'k');
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
}

/* As root: the program runs as the user asked for, saved ids and
 * supplementary groups included; its keeper (the shell's parent) stays
 * root. */
static void test_as_user(void **state)
{
	static const gid_t groups[] = { 65533 };
	char *argv[] = { "/bin/sh", "-c",
			 "echo $(id -u) $(id -G); "
			 "grep ^Uid: /proc/self/status; "
			 "grep ^Gid: /proc/self/status; "
			 "grep ^Uid: /proc/$PPID/status", NULL };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv, .envp = clean_env,
		.as_user = true, .uid = 65534, .gid = 65534,
		.groups = groups, .ngroups = 1,
	};
	struct proc pr;
	struct result r;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
	run(&pr, &r);
	assert_string_equal(text(&r.err), "");
	assert_string_equal(text(&r.out), "65534 65534 65533\n"
			    "Uid:\t65534\t65534\t65534\t65534\n"
			    "Gid:\t65534\t65534\t65534\t65534\n"
			    "Uid:\t0\t0\t0\t0\n");
	assert_int_equal(r.code, 0);
	result_release(&r);
}

/* A switch the kernel refuses (too many groups as root; any switch
 * otherwise) ends the task with 127 and says why; nothing runs. */
static void test_as_user_refused(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "echo ran", NULL };
	size_t n = 65537;	/* NGROUPS_MAX + 1 */
	gid_t *groups = calloc(n, sizeof(*groups));
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv, .envp = clean_env,
		.as_user = true, .uid = 65534, .gid = 65534,
		.groups = groups, .ngroups = n,
	};
	static const char want[] = "execfs: cannot switch to uid 65534: ";
	struct proc pr;
	struct result r;

	(void)state;
	assert_non_null(groups);
	assert_int_equal(proc_spawn(&pr, &s, NULL), 0);
	run(&pr, &r);
	assert_string_equal(text(&r.out), "");
	assert_memory_equal(text(&r.err), want, sizeof(want) - 1);
	assert_int_equal(r.code, 127);
	assert_false(r.signaled);
	result_release(&r);
	free(groups);
}

/* as_user with groups counted but not given is refused before fork. */
static void test_as_user_without_groups(void **state)
{
	char *argv[] = { "/bin/sh", "-c", "echo ran", NULL };
	struct proc_spec s = {
		.path = "/bin/sh", .argv = argv, .envp = clean_env,
		.as_user = true, .uid = 65534, .gid = 65534, .ngroups = 2,
	};
	struct err e = { 0 };
	struct proc pr;

	(void)state;
	assert_int_equal(proc_spawn(&pr, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no groups for uid 65534"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_environment_is_envp),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_program_not_found),
		cmocka_unit_test(test_kill_term),
		cmocka_unit_test(test_term_handled_by_program),
		cmocka_unit_test(test_kill_group),
		cmocka_unit_test(test_straggler_killed_at_exit),
		cmocka_unit_test(test_outlives_spawning_thread),
		cmocka_unit_test(test_release_kills),
		cmocka_unit_test(test_one_keeper),
		cmocka_unit_test(test_keeper_refuses_bad_requests),
		cmocka_unit_test(test_keeper_fd_table_full),
		cmocka_unit_test(test_status_after_unread_signals),
		cmocka_unit_test(test_death_of_daemon_process),
		cmocka_unit_test(test_clean_fds_and_signals),
		cmocka_unit_test(test_keeper_env_empty),
		cmocka_unit_test(test_keeper_cmdline_bare),
		cmocka_unit_test(test_gate_closed_program_never_runs),
		cmocka_unit_test(test_term_at_once),
		cmocka_unit_test(test_daemon_without_std_fds),
		cmocka_unit_test(test_as_user),
		cmocka_unit_test(test_as_user_refused),
		cmocka_unit_test(test_as_user_without_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
