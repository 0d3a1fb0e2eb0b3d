/*
 * test_runner.c - runs of WorkflowExecutions through plane.h, without a
 * mount: task kinds, status merged per task, the log and events streams,
 * failures, cancel, both timeouts, the operations limit, dry run, the
 * redaction of runtime secrets, log_limit, ephemeral contexts, restart
 * recovery and shutdown; as root, tasks run as the execution's creator
 * (also after a restart and in sub-workflows), in a work directory of
 * theirs, removed without following their links.  Each test gets a fresh
 * state directory; waits are bounded polls, never timing assertions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/plane.h"
#include "core/plane_i.h"
#include "core/run_i.h"
#include "core/runner.h"
#include "core/store.h"
#include "fx_plane.h"
#include "fx_run.h"

#define SECRET "pl4nted-RUNTIME-secret-42"

/* ---- tests ------------------------------------------------------------ */

static const char three[] =
	"[{name: init, kind: SET, taskConfig: {variables: {greeting: hi}}, "
	"export: {as: '${ . }'}}, "
	"{name: say, kind: RUN, taskConfig: {shell: {command: 'echo \"$1 "
	"$GREET\"; echo to-err >&2', arguments: [hello], environment: "
	"{GREET: '${ $context.init.greeting }'}}}}, "
	"{name: py, kind: RUN, taskConfig: {script: {language: python, "
	"code: 'import os; print(os.environ[\"EXECFS_TASK\"])'}}}]";

/* The audit lines the plane hands its sink, in order. */
struct seen_lines {
	pthread_mutex_t mu;
	char text[8192];
	size_t len;
};

static void keep_line(void *ctx, const char *line, size_t len)
{
	struct seen_lines *s = ctx;

	pthread_mutex_lock(&s->mu);
	if (s->len + len < sizeof(s->text)) {
		memcpy(s->text + s->len, line, len);
		s->len += len;
		s->text[s->len] = '\0';
	}
	pthread_mutex_unlock(&s->mu);
}

/* An execution's create and the "run" line of its run are one commit:
 * one sync on the way of the writer's close, the create's line first. */
static void create_and_run_one_commit(void **state)
{
	struct fx_plane *f = *state;
	static struct seen_lines seen = { PTHREAD_MUTEX_INITIALIZER, "", 0 };
	uint64_t c0, c1, sets;
	const char *create, *run;

	rx_open(f);
	plane_set_audit_sink(f->p, keep_line, &seen);
	rx_workflow(f, "wf", "[{name: a, kind: SET, "
		    "taskConfig: {variables: {x: 1}}}]");
	store_stats(f->p->st, &c0, &sets);
	rx_execution(f, "one", "wf", NULL);
	store_stats(f->p->st, &c1, &sets);
	assert_int_equal(c1 - c0, 1);
	pthread_mutex_lock(&seen.mu);
	create = strstr(seen.text, "\"verb\": \"create\", "
			"\"kind\": \"WorkflowExecution\", \"name\": \"one\"");
	run = strstr(seen.text, "\"verb\": \"run\", "
		     "\"kind\": \"WorkflowExecution\", \"name\": \"one\"");
	assert_non_null(create);
	assert_non_null(run);
	assert_true(create < run);
	pthread_mutex_unlock(&seen.mu);
	assert_string_equal(rx_wait_end(f, "one"), "COMPLETED");
}

/* Runs kept by plane_defer_runs() start at plane_start_later(), not at
 * their create: the writer is answered first. */
static void deferred_run_starts_later(void **state)
{
	struct fx_plane *f = *state;
	struct plane_later later;
	struct plane_res r;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: SET, "
		    "taskConfig: {variables: {x: 1}}}]");
	plane_defer_runs(&later);
	r = rx_execution(f, "held", "wf", NULL);
	plane_defer_runs(NULL);
	assert_int_equal(later.n, 1);
	usleep(200 * 1000);	/* a run started at its create has ended */
	assert_false(runner_running(f->p->runner, r.serial));
	assert_string_equal(rx_field(f, "held", "status.phase"), "PENDING");
	plane_start_later(f->p, &later);
	assert_int_equal(later.n, 0);
	assert_string_equal(rx_wait_end(f, "held"), "COMPLETED");
}

static void three_tasks(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	struct plane_stream_stat st;

	rx_open(f);
	rx_workflow(f, "wf", three);
	r = rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	assert_string_equal(rx_task_field(f, "run1", 0, "status"), "COMPLETED");
	assert_string_equal(rx_task_field(f, "run1", 1, "status"), "COMPLETED");
	assert_string_equal(rx_task_field(f, "run1", 1, "exitCode"), "0");
	assert_string_equal(rx_task_field(f, "run1", 1, "output"),
			    "hello hi");
	assert_string_equal(rx_task_field(f, "run1", 2, "output"), "py");
	assert_string_equal(rx_field(f, "run1", "status.progress.done"), "3");
	assert_string_equal(rx_field(f, "run1", "status.summary.completed"), "3");
	assert_string_equal(rx_field(f, "run1", "status.output"), "py");
	assert_non_null(strstr(rx_stream(f, &r, PLANE_LOG), "hello hi\n"));
	assert_non_null(strstr(rx_last, "to-err\n"));
	assert_non_null(strstr(rx_last, "py\n"));
	rx_stream(f, &r, PLANE_EVENTS);
	assert_non_null(strstr(rx_last, "\"type\":\"state\""));
	assert_non_null(strstr(rx_last, "\"type\":\"line\""));
	assert_non_null(strstr(rx_last, "\"stream\":\"stderr\""));
	assert_non_null(strstr(rx_last, "\"type\":\"complete\""));
	assert_non_null(strstr(rx_last, "\"phase\":\"COMPLETED\""));
	assert_int_equal(plane_stream_stat(f->p, r.serial, PLANE_EVENTS, &st),
			 0);
	assert_true(st.done);
	assert_int_equal(st.size, strlen(rx_last));
}

static void failing_task(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: RUN, taskConfig: {shell: {command: "
		 "'echo boom >&2; exit 3'}}}, {name: b, kind: RUN, taskConfig: "
		 "{shell: {command: 'touch never'}}}]");
	r = rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "FAILED");
	assert_string_equal(rx_task_field(f, "run1", 0, "exitCode"), "3");
	assert_string_equal(rx_task_field(f, "run1", 0, "status"), "FAILED");
	assert_string_equal(rx_task_field(f, "run1", 1, "status"), "SKIPPED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "task a failed: exit status 3");
	assert_string_equal(rx_field(f, "run1", "status.summary.exitCode"), "3");
	assert_non_null(strstr(rx_stream(f, &r, PLANE_LOG), "boom\n"));
}

/* A returned stdout is the bytes printed: a line longer than a log line
 * is not split, and no newline is added to a last line without one. */
static void long_line_output(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: RUN, taskConfig: {shell: "
		    "{command: 'head -c 150000 /dev/zero | tr \"\\\\0\" a'}}},"
		    " {name: n, kind: SET, taskConfig: {variables: {len: "
		    "'${ length }', nl: '${ [scan(\"\\n\")] | length }'}}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	assert_string_equal(rx_field(f, "run1", "status.output.len"), "150000");
	assert_string_equal(rx_field(f, "run1", "status.output.nl"), "0");
}

/* A returned stream over 1 MiB is not the output: the task completes and
 * its output says so (the log has it all). */
static void huge_output(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: RUN, taskConfig: {shell: "
		    "{command: 'head -c 1200000 /dev/zero | tr \"\\\\0\" a'}}},"
		    " {name: b, kind: RUN, taskConfig: {shell: {command: "
		    "'head -c 1200000 /dev/zero | tr \"\\\\0\" a'}, return: "
		    "code}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	assert_string_equal(rx_task_field(f, "run1", 0, "output.truncated"),
			    "true");
	assert_string_equal(rx_task_field(f, "run1", 0, "output.bytes"),
			    "1200000");
	assert_string_equal(rx_task_field(f, "run1", 1, "output"), "0");
}

static void raise_fails(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: r, kind: RAISE, taskConfig: {error: Bad, "
		 "message: no way}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "task r failed: no way");
}

/* Execution run1 of a workflow of @tasks whose first prints "started":
 * once it has (bounded wait). */
static struct plane_res run_started(struct fx_plane *f, const char *tasks)
{
	struct plane_res r;
	int i;

	rx_open(f);
	rx_workflow(f, "wf", tasks);
	r = rx_execution(f, "run1", "wf", NULL);
	for (i = 0; i < 200 && !strstr(rx_stream(f, &r, PLANE_LOG), "started");
	     i++)
		usleep(50000);
	return r;
}

static void cancel_run(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r = run_started(f, "[{name: s, kind: RUN, taskConfig: "
		"{shell: {command: 'echo started; exec sleep 600'}}}, "
		"{name: t, kind: SET, taskConfig: {variables: {}}}]");

	assert_int_equal(plane_ctl(f->p, &f->who, r.serial, "bogus\n", 6,
				   &f->e), -EINVAL);
	assert_int_equal(plane_ctl(f->p, &f->who, r.serial, "cancel\n", 7,
				   &f->e), 0);
	assert_string_equal(rx_wait_end(f, "run1"), "CANCELLED");
	assert_string_equal(rx_task_field(f, "run1", 0, "status"), "CANCELLED");
	assert_string_equal(rx_task_field(f, "run1", 1, "status"), "SKIPPED");
	assert_int_equal(plane_ctl(f->p, &f->who, r.serial, "cancel", 6,
				   &f->e), -EINVAL);
	assert_non_null(strstr(f->e.msg, "already ended (CANCELLED)"));
}

/* Someone else's change to the record while it runs. */
static int put_marker(void *ctx, struct doc *res)
{
	struct doc *md = doc_map_child(res, "metadata");

	(void)ctx;
	return doc_map_setstr(doc_map_child(md, "labels"), "marker", "kept");
}

/* A run's commits start from the record it committed last: one changed
 * meanwhile by another writer is loaded again, never overwritten. */
static void other_change_kept(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r = run_started(f, "[{name: s, kind: RUN, taskConfig: "
		"{shell: {command: 'echo started; sleep 1'}}}, "
		"{name: t, kind: RUN, taskConfig: {shell: {command: 'true'}}}]");

	assert_int_equal(run_commit_with(f->p, r.id, put_marker, NULL, NULL),
			 0);
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	assert_string_equal(rx_field(f, "run1", "metadata.labels.marker"),
			    "kept");
	assert_string_equal(rx_task_field(f, "run1", 1, "status"),
			    "COMPLETED");
}

static void workflow_timeout(void **state)
{
	struct fx_plane *f = *state;

	f->lim.workflow_timeout = 1;
	rx_open(f);
	rx_workflow(f, "wf", "[{name: w, kind: WAIT, taskConfig: {seconds: 30}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "FAILED");
	assert_non_null(strstr(rx_field(f, "run1", "status.error"),
			       "limit workflow_timeout (1 s) exceeded"));
}

static void task_timeout(void **state)
{
	struct fx_plane *f = *state;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: s, kind: RUN, taskConfig: {timeout: 1, "
		 "shell: {command: 'sleep 30'}}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "task s failed: timeout: task exceeded its timeout "
			    "of 1 s");
}

/* A task that writes as fast as it can still meets its timeout: the
 * output loop must not starve the deadline check.  (A liveness bound of
 * 8 s for a 1 s timeout; a starved loop took 12 s.) */
static void timeout_under_flood(void **state)
{
	struct fx_plane *f = *state;

	f->lim.log_limit = 1u << 20;
	rx_open(f);
	rx_workflow(f, "wf", "[{name: y, kind: RUN, taskConfig: {timeout: 1, "
		 "shell: {command: 'yes 0123456789abcdef'}}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end_within(f, "run1", 8), "FAILED");
	assert_non_null(strstr(rx_field(f, "run1", "status.error"),
			       "exceeded its timeout of 1 s"));
}

static void operations_limit(void **state)
{
	struct fx_plane *f = *state;

	f->lim.max_total_operations = 5;
	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}},"
		 " {name: b, kind: SET, taskConfig: {variables: {}}, flow: "
		 "{then: a}}]");
	rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "limit max_total_operations (5) exceeded");
}

static void dry_run(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	char path[256], task[512];

	rx_open(f);
	snprintf(path, sizeof(path), "%s/should-not-exist", f->dir);
	snprintf(task, sizeof(task), "[{name: t, kind: RUN, taskConfig: "
		 "{shell: {command: 'touch %s'}}}, {name: w, kind: WAIT, "
		 "taskConfig: {seconds: 600}}]", path);
	rx_workflow(f, "wf", task);
	r = rx_execution(f, "run1", "wf", "  dryRun: true\n");
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	assert_int_equal(access(path, F_OK), -1);
	assert_string_equal(rx_task_field(f, "run1", 0, "output.dryRun"), "true");
	assert_non_null(strstr(rx_task_field(f, "run1", 0, "output.wouldRun"),
			       "touch "));
	assert_string_equal(rx_field(f, "run1", "status.summary.dryRun"), "true");
	rx_stream(f, &r, PLANE_EVENTS);
	assert_non_null(strstr(rx_last, "\"type\":\"trace\""));
	assert_non_null(strstr(rx_last, "dry run: nothing was executed"));
}

static void secrets_redacted(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r, c;
	const char *log;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: leak, kind: RUN, taskConfig: {shell: "
		 "{command: 'echo \"raw $TOKEN\"; printf %s \"$TOKEN\" | "
		 "base64; echo password=$PLAIN; sleep 1'}}}]");
	r = rx_execution(f, "run1", "wf", "  runtimeEnv:\n    TOKEN: {value: "
		      SECRET ", isSecret: true}\n    PLAIN: {value: "
		      "visible}\n");
	assert_int_equal(plane_lookup(f->p, KIND_EXECUTION_CONTEXT,
				      "run1-ctx", &c), 0);
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	log = rx_stream(f, &r, PLANE_LOG);
	assert_null(strstr(log, SECRET));
	assert_null(strstr(log, "cGw0bnRlZC1SVU5USU1FLXNlY3JldC00Mg"));
	assert_non_null(strstr(log, "raw ***"));
	assert_non_null(strstr(log, "password=***"));
	assert_null(strstr(rx_stream(f, &r, PLANE_EVENTS), SECRET));
	assert_null(strstr(rx_field(f, "run1", "status.tasks"), SECRET));
	/* the context went with the run */
	assert_int_equal(plane_lookup(f->p, KIND_EXECUTION_CONTEXT,
				      "run1-ctx", &c), -ENOENT);
}

static void short_secret_warns(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	struct buf b = BUF_INIT(1 << 16);

	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}}]");
	r = rx_execution(f, "run1", "wf", "  runtimeEnv:\n    PIN: {value: "
		      "abc, isSecret: true}\n");
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	assert_non_null(strstr(rx_stream(f, &r, PLANE_EVENTS),
			       "\"type\":\"warning\""));
	assert_non_null(strstr(rx_last, "secret PIN"));
	assert_int_equal(plane_errors(f->p, f->who.uid, &b), 0);
	assert_non_null(strstr(b.data, "secret PIN"));
	assert_null(strstr(b.data, "abc"));
	buf_release(&b);
}

static void log_limit(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	struct plane_stream_stat st;

	f->lim.log_limit = 4096;
	rx_open(f);
	rx_workflow(f, "wf", "[{name: big, kind: RUN, taskConfig: {shell: "
		 "{command: 'seq 1 20000'}}}]");
	r = rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	assert_int_equal(plane_stream_stat(f->p, r.serial, PLANE_LOG, &st), 0);
	assert_true(st.size <= 4096);
	assert_true(st.size > 0);
	assert_non_null(strstr(rx_stream(f, &r, PLANE_EVENTS),
			       "\"type\":\"dropped\""));
}

static void restart_recovers(void **state)
{
	struct fx_plane *f = *state;

	f->hold = true;
	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}}]");
	rx_execution(f, "pending1", "wf", NULL);
	f->hold = false;
	rx_reopen(f);
	assert_string_equal(rx_wait_end(f, "pending1"), "COMPLETED");
}

static bool marker_alive(const char *marker)
{
	char cmd[256];

	/* "[e]..." keeps pgrep from matching the shell running it */
	snprintf(cmd, sizeof(cmd), "pgrep -f '[%c]%s' >/dev/null", marker[0],
		 marker + 1);
	return system(cmd) == 0;
}

static void shutdown_interrupts(void **state)
{
	struct fx_plane *f = *state;
	char task[512], marker[64];
	int i;

	snprintf(marker, sizeof(marker), "execfs_marker_%d", (int)getpid());
	snprintf(task, sizeof(task), "[{name: s, kind: RUN, taskConfig: "
		 "{script: {language: bash, code: 'exec -a %s sleep 600'}}}]",
		 marker);
	rx_open(f);
	rx_workflow(f, "wf", task);
	rx_execution(f, "run1", "wf", NULL);
	rx_wait_phase(f, "run1", "IN_PROGRESS");
	for (i = 0; i < 200 && !marker_alive(marker); i++)
		usleep(50000);
	assert_true(marker_alive(marker));
	f->hold = true;
	rx_reopen(f);
	assert_false(marker_alive(marker));
	assert_string_equal(rx_field(f, "run1", "status.phase"), "FAILED");
	assert_string_equal(rx_field(f, "run1", "status.error"),
			    "interrupted: daemon stopped during the run");
	assert_string_equal(rx_task_field(f, "run1", 0, "error"),
			    "interrupted: daemon stopped during the run");
}

static void run_file(void **state)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{ "", 0 },
		{ "\n", 0 },
		{ "dryRun: true\ntriggerMessage: hi\n", 0 },
		{ "runtimeEnv: {K: {value: v}}", 0 },
		{ "- a list", -EBADMSG },
		{ "dryRun: [", -EBADMSG },
		{ "bogusField: 1", -EBADMSG },
		{ "workflowId: other", -EBADMSG },
	};
	struct fx_plane *f = *state;
	struct plane_res wf, r;
	size_t i;
	int rc;

	rx_open(f);
	rx_workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}}]");
	assert_int_equal(plane_lookup(f->p, KIND_WORKFLOW, "wf", &wf), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_clear(&f->e);
		rc = plane_run(f->p, &f->who, wf.serial, cases[i].text,
			       strlen(cases[i].text), &r, &f->e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %d %s", i, rc, f->e.msg);
		if (rc == 0) {
			assert_int_equal(strncmp(r.slug, "wf-", 3), 0);
			assert_string_equal(rx_wait_end(f, r.slug), "COMPLETED");
		}
	}
}

/* ---- as the creator (as root; else these skip) ----------------------- */

#define NOBODY 65534		/* a user that is not root */
#define NO_ENTRY 4242424	/* a uid without a passwd entry */

/* A task that says who runs it: uid, its groups (sorted), and the owner
 * and mode of HOME and of a file it makes there. */
static const char whoami[] =
	"[{name: who, kind: RUN, taskConfig: {shell: {command: "
	"'id -u; id -G | tr \" \" \"\\n\" | sort -n | uniq | tr \"\\n\" \" \"; "
	"echo; stat -c \"%u %a\" \"$HOME\"; touch \"$HOME/mine\"; "
	"stat -c %u \"$HOME/mine\"'}}}]";

/* The fixture writes as @uid:@gid from now on; the scratch directory is
 * searchable so that the user reaches its HOME by path. */
static void become(struct fx_plane *f, uid_t uid, gid_t gid)
{
	f->who.uid = uid;
	f->who.gid = gid;
	f->who.ngroups = 0;
	assert_int_equal(chmod(f->dir, 0711), 0);
}

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

/* What whoami prints for a task of @uid:@gid: the groups as login gives
 * them to the user (none but @gid without a passwd entry). */
static const char *expected(struct fx_plane *f, uid_t uid, gid_t gid)
{
	gid_t g[PLANE_GROUPS_MAX + 1];
	struct passwd *pw = getpwuid(uid);
	int n = PLANE_GROUPS_MAX, i;
	char list[1024] = "";
	size_t used = 0;

	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, g, &n) < 0)
		n = 0;
	g[n++] = gid;
	qsort(g, (size_t)n, sizeof(g[0]), cmp_gid);
	for (i = 0; i < n; i++)
		if (i == 0 || g[i] != g[i - 1])
			used += (size_t)snprintf(list + used, sizeof(list) - used,
						 "%u ", (unsigned)g[i]);
	/* the output is stdout with its surrounding blanks trimmed */
	return fx_fmt(f, "%u\n%s\n%u 700\n%u", (unsigned)uid, list,
		      (unsigned)uid, (unsigned)uid);
}

static const char *stdout_of(struct fx_plane *f, const char *slug)
{
	return rx_task_field(f, slug, 0, "output");
}

static void tasks_run_as_creator(void **state)
{
	struct fx_plane *f = *state;

	if (geteuid() != 0)
		skip();
	rx_open(f);
	rx_workflow(f, "wf", whoami);
	rx_execution(f, "byroot", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "byroot"), "COMPLETED");
	assert_string_equal(stdout_of(f, "byroot"), expected(f, 0, 0));
	become(f, NOBODY, NOBODY);
	rx_workflow(f, "wf2", whoami);
	rx_execution(f, "byuser", "wf2", NULL);
	assert_string_equal(rx_wait_end(f, "byuser"), "COMPLETED");
	assert_string_equal(stdout_of(f, "byuser"),
			    expected(f, NOBODY, NOBODY));
	/* a uid the user database does not know: its gid alone */
	become(f, NO_ENTRY, NO_ENTRY);
	rx_workflow(f, "wf3", whoami);
	rx_execution(f, "unknown", "wf3", NULL);
	assert_string_equal(rx_wait_end(f, "unknown"), "COMPLETED");
	assert_string_equal(stdout_of(f, "unknown"),
			    fx_fmt(f, "%u\n%u \n%u 700\n%u", NO_ENTRY,
				   NO_ENTRY, NO_ENTRY, NO_ENTRY));
}

/* A run recovered at start (PENDING when the daemon stopped) runs as its
 * creator too, and its warnings go to the creator's errors. */
static void restart_runs_as_creator(void **state)
{
	struct fx_plane *f = *state;
	struct buf b = BUF_INIT(1 << 16);

	if (geteuid() != 0)
		skip();
	f->hold = true;
	rx_open(f);
	become(f, NOBODY, NOBODY);
	rx_workflow(f, "wf", whoami);
	rx_execution(f, "pending1", "wf", "  runtimeEnv:\n    PIN: {value: "
		     "abc, isSecret: true}\n");
	f->hold = false;
	rx_reopen(f);
	assert_string_equal(rx_wait_end(f, "pending1"), "COMPLETED");
	assert_string_equal(stdout_of(f, "pending1"),
			    expected(f, NOBODY, NOBODY));
	assert_int_equal(plane_errors(f->p, NOBODY, &b), 0);
	assert_non_null(b.data);
	assert_non_null(strstr(b.data, "secret PIN"));
	buf_release(&b);
}

/* A sub-workflow's execution is the parent's creator's, runs as it, and
 * needs x on the called workflow for it (with its own group, not the
 * daemon's). */
static void sub_workflow_as_creator(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res c;
	const char *slug;

	if (geteuid() != 0)
		skip();
	rx_open(f);
	rx_workflow(f, "rootchild", whoami);	/* root's, 0750 */
	become(f, NOBODY, NOBODY);
	rx_workflow(f, "child", whoami);
	rx_workflow(f, "parent", "[{name: sub, kind: RUN, taskConfig: "
		    "{workflow: child}}]");
	rx_workflow(f, "denied", "[{name: sub, kind: RUN, taskConfig: "
		    "{workflow: rootchild}}]");
	rx_execution(f, "p1", "parent", NULL);
	assert_string_equal(rx_wait_end(f, "p1"), "COMPLETED");
	slug = fx_fmt(f, "%s", rx_task_field(f, "p1", 0,
					     "childExecution.slug"));
	assert_int_equal(plane_lookup(f->p, KIND_WORKFLOW_EXECUTION, slug,
				      &c), 0);
	assert_int_equal(c.uid, NOBODY);
	assert_int_equal(c.gid, NOBODY);
	assert_string_equal(stdout_of(f, slug), expected(f, NOBODY, NOBODY));
	rx_execution(f, "p2", "denied", NULL);
	assert_string_equal(rx_wait_end(f, "p2"), "FAILED");
	assert_non_null(strstr(rx_task_field(f, "p2", 0, "error"),
			       "permission denied"));
}

static unsigned mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	return (unsigned)(sb.st_mode & 07777);
}

/* A root daemon's state directory and STATE/runs are 0711 (others reach
 * a work directory by path, list nothing); the rest stays private. */
static void state_modes(void **state)
{
	struct fx_plane *f = *state;
	struct dirent *de;
	DIR *d;

	if (geteuid() != 0)
		skip();
	rx_open(f);
	assert_int_equal(mode_of(f->state), 0711);
	assert_int_equal(mode_of(fx_fmt(f, "%s/runs", f->state)), 0711);
	d = opendir(f->state);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "runs") &&
		    (mode_of(fx_fmt(f, "%s/%s", f->state, de->d_name)) & 077))
			fail_msg("%s/%s is mode %04o", f->state, de->d_name,
				 mode_of(fx_fmt(f, "%s/%s", f->state,
						de->d_name)));
	closedir(d);
}

/* The work directory goes at the end, all of it, though its owner made
 * links out of it and a directory it may not enter; what the links point
 * at stays. */
static void workdir_removed_not_followed(void **state)
{
	struct fx_plane *f = *state;
	const char *outside, *keep;
	struct plane_res r;
	struct stat sb;
	char task[1024];
	int i;

	if (geteuid() != 0)
		skip();
	outside = fx_fmt(f, "%s/outside", f->dir);
	keep = fx_fmt(f, "%s/keep", outside);
	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(mknod(keep, S_IFREG | 0644, 0), 0);
	snprintf(task, sizeof(task), "[{name: mess, kind: RUN, taskConfig: "
		 "{shell: {command: 'mkdir -p a/b && ln -s %s link && "
		 "ln -s %s a/b/link && touch a/b/f && chmod 0 a'}}}]",
		 outside, outside);
	rx_open(f);
	become(f, NOBODY, NOBODY);
	rx_workflow(f, "wf", task);
	r = rx_execution(f, "run1", "wf", NULL);
	assert_string_equal(rx_wait_end(f, "run1"), "COMPLETED");
	/* the directory goes after the ended phase is stored (run.c's
	 * cleanup), so a prompt reader can still see it for a moment */
	for (i = 0; i < 100 && stat(fx_fmt(f, "%s/runs/%s", f->state, r.id),
				    &sb) == 0; i++)
		usleep(50000);
	assert_int_equal(stat(keep, &sb), 0);
	assert_int_equal(stat(fx_fmt(f, "%s/runs/%s", f->state, r.id), &sb),
			 -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(three_tasks, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(create_and_run_one_commit,
						rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(deferred_run_starts_later,
						rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(failing_task, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(long_line_output, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(huge_output, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(raise_fails, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(cancel_run, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(other_change_kept, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(workflow_timeout, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(task_timeout, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(timeout_under_flood, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(operations_limit, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(dry_run, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(secrets_redacted, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(short_secret_warns, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(log_limit, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(restart_recovers, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(shutdown_interrupts, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(run_file, rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(tasks_run_as_creator, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(restart_runs_as_creator,
						rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(sub_workflow_as_creator,
						rx_setup, rx_teardown),
		cmocka_unit_test_setup_teardown(state_modes, rx_setup,
						rx_teardown),
		cmocka_unit_test_setup_teardown(workdir_removed_not_followed,
						rx_setup, rx_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
