/*
 * test_runner.c - runs of WorkflowExecutions through plane.h, without a
 * mount: task kinds, status merged per task, the log and events streams,
 * failures, cancel, both timeouts, the operations limit, dry run, the
 * redaction of runtime secrets, log_limit, ephemeral contexts, restart
 * recovery and shutdown.  Each test gets a fresh state directory; waits
 * are bounded polls, never timing assertions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
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
#include "fx_plane.h"

#define SECRET "pl4nted-RUNTIME-secret-42"
#define WAIT_S 20

/* The last status or stream read; one test runs at a time. */
static char last[1 << 16];

static void fx_open(struct fx_plane *f)
{
	struct err e = { 0, "" };

	assert_int_equal(fx_plane_open(f), 0);
	assert_int_equal(plane_start(f->p, &e), 0);
}

static void fx_reopen(struct fx_plane *f)
{
	plane_close(f->p);
	f->p = NULL;
	fx_open(f);
}

static int setup(void **state)
{
	struct fx_plane *f;

	if (fx_plane_new(&f, "runner"))
		return -1;
	f->hold = false;	/* runs go, unless a test holds them */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx_plane_free(*state);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static void put(struct fx_plane *f, enum kind_id k, const char *name,
		const char *text, struct plane_res *out)
{
	fx_ok_put(f, k, PLANE_WRITE_NEW, name, text, out);
}

/* A workflow named @name with @tasks (a YAML flow list). */
static void workflow(struct fx_plane *f, const char *name, const char *tasks)
{
	char doc[8192];

	snprintf(doc, sizeof(doc), "metadata: {name: %s}\nspec:\n  document: "
		 "{dsl: 1.0.0, namespace: t, name: %s, version: '1'}\n"
		 "  tasks: %s\n", name, name, tasks);
	put(f, KIND_WORKFLOW, "w.yaml", doc, NULL);
}

/* An execution @name of workflow @wf with extra spec lines @extra. */
static struct plane_res execution(struct fx_plane *f, const char *name,
				  const char *wf, const char *extra)
{
	struct plane_res r;
	char doc[8192];

	snprintf(doc, sizeof(doc), "metadata: {name: %s}\nspec:\n  "
		 "workflowId: %s\n%s", name, wf, extra ? extra : "");
	put(f, KIND_WORKFLOW_EXECUTION, "x.yaml", doc, &r);
	return r;
}

/* The stored resource of execution @slug (caller frees). */
static struct doc *load(struct fx_plane *f, const char *slug)
{
	struct store_rec h;
	struct doc *res = NULL;

	if (record_load_slug(f->p, KIND_WORKFLOW_EXECUTION, slug, &h, &res))
		return NULL;
	return res;
}

static const char *field(struct fx_plane *f, const char *slug, const char *path)
{
	struct doc *res = load(f, slug);
	const char *v = doc_get_str(res, path);

	snprintf(last, sizeof(last), "%s", v ? v : "");
	doc_free(res);
	return last;
}

static bool ended(const char *phase)
{
	return !strcmp(phase, "COMPLETED") || !strcmp(phase, "FAILED") ||
	       !strcmp(phase, "CANCELLED");
}

/* Wait (bounded) for @slug to end; return its phase. */
static const char *wait_end_within(struct fx_plane *f, const char *slug,
				   int secs)
{
	int i;

	for (i = 0; i < secs * 20; i++) {
		if (ended(field(f, slug, "status.phase")))
			return last;
		usleep(50000);
	}
	fail_msg("%s did not end (phase %s)", slug, last);
	return NULL;
}

static const char *wait_end(struct fx_plane *f, const char *slug)
{
	return wait_end_within(f, slug, WAIT_S);
}

static void wait_phase(struct fx_plane *f, const char *slug, const char *phase)
{
	int i;

	for (i = 0; i < WAIT_S * 20; i++) {
		if (!strcmp(field(f, slug, "status.phase"), phase))
			return;
		usleep(50000);
	}
	fail_msg("%s never reached %s (%s)", slug, phase, last);
}

/* Stream @s of @r, whole, into last. */
static const char *stream(struct fx_plane *f, const struct plane_res *r,
			  enum plane_stream s)
{
	struct buf b = BUF_INIT(sizeof(last) - 1);
	ssize_t n = plane_stream_read(f->p, r->serial, s, 0,
				      sizeof(last) - 1, &b);

	assert_true(n >= 0);
	snprintf(last, sizeof(last), "%.*s", (int)b.len,
		 b.data ? b.data : "");
	buf_release(&b);
	return last;
}

static const char *task_field(struct fx_plane *f, const char *slug, size_t i,
			      const char *path)
{
	struct doc *res = load(f, slug);
	const struct doc *list = doc_get(res, "status.tasks");
	const char *v = list && i < list->n ?
			doc_get_str(list->u.items[i], path) : NULL;

	snprintf(last, sizeof(last), "%s", v ? v : "");
	doc_free(res);
	return last;
}

/* ---- tests ------------------------------------------------------------ */

static const char three[] =
	"[{name: init, kind: SET, taskConfig: {variables: {greeting: hi}}, "
	"export: {as: vars}}, "
	"{name: say, kind: RUN, taskConfig: {shell: {command: 'echo \"$1 "
	"$GREET\"; echo to-err >&2', arguments: [hello], environment: "
	"{GREET: world}}}}, "
	"{name: py, kind: RUN, taskConfig: {script: {language: python, "
	"code: 'import os; print(os.environ[\"EXECFS_TASK\"])'}}}]";

static void three_tasks(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	struct plane_stream_stat st;

	fx_open(f);
	workflow(f, "wf", three);
	r = execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end(f, "run1"), "COMPLETED");
	assert_string_equal(task_field(f, "run1", 0, "status"), "COMPLETED");
	assert_string_equal(task_field(f, "run1", 1, "status"), "COMPLETED");
	assert_string_equal(task_field(f, "run1", 1, "exitCode"), "0");
	assert_string_equal(task_field(f, "run1", 1, "output.stdout"),
			    "hello world\n");
	assert_string_equal(task_field(f, "run1", 2, "output.stdout"), "py\n");
	assert_string_equal(field(f, "run1", "status.progress.done"), "3");
	assert_string_equal(field(f, "run1", "status.summary.completed"), "3");
	assert_string_equal(field(f, "run1", "status.output.vars.greeting"),
			    "hi");
	assert_non_null(strstr(stream(f, &r, PLANE_LOG), "hello world\n"));
	assert_non_null(strstr(last, "to-err\n"));
	assert_non_null(strstr(last, "py\n"));
	stream(f, &r, PLANE_EVENTS);
	assert_non_null(strstr(last, "\"type\":\"state\""));
	assert_non_null(strstr(last, "\"type\":\"line\""));
	assert_non_null(strstr(last, "\"stream\":\"stderr\""));
	assert_non_null(strstr(last, "\"type\":\"complete\""));
	assert_non_null(strstr(last, "\"phase\":\"COMPLETED\""));
	assert_int_equal(plane_stream_stat(f->p, r.serial, PLANE_EVENTS, &st),
			 0);
	assert_true(st.done);
	assert_int_equal(st.size, strlen(last));
}

static void failing_task(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;

	fx_open(f);
	workflow(f, "wf", "[{name: a, kind: RUN, taskConfig: {shell: {command: "
		 "'echo boom >&2; exit 3'}}}, {name: b, kind: RUN, taskConfig: "
		 "{shell: {command: 'touch never'}}}]");
	r = execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end(f, "run1"), "FAILED");
	assert_string_equal(task_field(f, "run1", 0, "exitCode"), "3");
	assert_string_equal(task_field(f, "run1", 0, "status"), "FAILED");
	assert_string_equal(task_field(f, "run1", 1, "status"), "SKIPPED");
	assert_string_equal(field(f, "run1", "status.error"),
			    "task a failed: exit status 3");
	assert_string_equal(field(f, "run1", "status.summary.exitCode"), "3");
	assert_non_null(strstr(stream(f, &r, PLANE_LOG), "boom\n"));
}

static void raise_fails(void **state)
{
	struct fx_plane *f = *state;

	fx_open(f);
	workflow(f, "wf", "[{name: r, kind: RAISE, taskConfig: {error: Bad, "
		 "message: no way}}]");
	execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end(f, "run1"), "FAILED");
	assert_string_equal(field(f, "run1", "status.error"),
			    "task r failed: Bad: no way");
}

static void cancel_run(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	int i;

	fx_open(f);
	workflow(f, "wf", "[{name: s, kind: RUN, taskConfig: {shell: {command: "
		 "'echo started; exec sleep 600'}}}, {name: t, kind: SET, "
		 "taskConfig: {variables: {}}}]");
	r = execution(f, "run1", "wf", NULL);
	for (i = 0; i < 200 && !strstr(stream(f, &r, PLANE_LOG), "started");
	     i++)
		usleep(50000);
	assert_int_equal(plane_ctl(f->p, &f->who, r.serial, "bogus\n", 6,
				   &f->e), -EINVAL);
	assert_int_equal(plane_ctl(f->p, &f->who, r.serial, "cancel\n", 7,
				   &f->e), 0);
	assert_string_equal(wait_end(f, "run1"), "CANCELLED");
	assert_string_equal(task_field(f, "run1", 0, "status"), "CANCELLED");
	assert_string_equal(task_field(f, "run1", 1, "status"), "SKIPPED");
	assert_int_equal(plane_ctl(f->p, &f->who, r.serial, "cancel", 6,
				   &f->e), -EINVAL);
	assert_non_null(strstr(f->e.msg, "already ended (CANCELLED)"));
}

static void workflow_timeout(void **state)
{
	struct fx_plane *f = *state;

	f->lim.workflow_timeout = 1;
	fx_open(f);
	workflow(f, "wf", "[{name: w, kind: WAIT, taskConfig: {seconds: 30}}]");
	execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end(f, "run1"), "FAILED");
	assert_non_null(strstr(field(f, "run1", "status.error"),
			       "limit workflow_timeout (1 s) exceeded"));
}

static void task_timeout(void **state)
{
	struct fx_plane *f = *state;

	fx_open(f);
	workflow(f, "wf", "[{name: s, kind: RUN, taskConfig: {timeout: 1, "
		 "shell: {command: 'sleep 30'}}}]");
	execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end(f, "run1"), "FAILED");
	assert_string_equal(field(f, "run1", "status.error"),
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
	fx_open(f);
	workflow(f, "wf", "[{name: y, kind: RUN, taskConfig: {timeout: 1, "
		 "shell: {command: 'yes 0123456789abcdef'}}}]");
	execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end_within(f, "run1", 8), "FAILED");
	assert_non_null(strstr(field(f, "run1", "status.error"),
			       "exceeded its timeout of 1 s"));
}

static void operations_limit(void **state)
{
	struct fx_plane *f = *state;

	f->lim.max_total_operations = 5;
	fx_open(f);
	workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}},"
		 " {name: b, kind: SET, taskConfig: {variables: {}}, flow: "
		 "{then: a}}]");
	execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end(f, "run1"), "FAILED");
	assert_string_equal(field(f, "run1", "status.error"),
			    "limit max_total_operations (5) exceeded");
}

static void dry_run(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	char path[256], task[512];

	fx_open(f);
	snprintf(path, sizeof(path), "%s/should-not-exist", f->dir);
	snprintf(task, sizeof(task), "[{name: t, kind: RUN, taskConfig: "
		 "{shell: {command: 'touch %s'}}}, {name: w, kind: WAIT, "
		 "taskConfig: {seconds: 600}}]", path);
	workflow(f, "wf", task);
	r = execution(f, "run1", "wf", "  dryRun: true\n");
	assert_string_equal(wait_end(f, "run1"), "COMPLETED");
	assert_int_equal(access(path, F_OK), -1);
	assert_string_equal(task_field(f, "run1", 0, "output.dryRun"), "true");
	assert_non_null(strstr(task_field(f, "run1", 0, "output.wouldRun"),
			       "touch "));
	assert_string_equal(field(f, "run1", "status.summary.dryRun"), "true");
	stream(f, &r, PLANE_EVENTS);
	assert_non_null(strstr(last, "\"type\":\"trace\""));
	assert_non_null(strstr(last, "dry run: nothing was executed"));
}

static void secrets_redacted(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r, c;
	const char *log;

	fx_open(f);
	workflow(f, "wf", "[{name: leak, kind: RUN, taskConfig: {shell: "
		 "{command: 'echo \"raw $TOKEN\"; printf %s \"$TOKEN\" | "
		 "base64; echo password=$PLAIN; sleep 1'}}}]");
	r = execution(f, "run1", "wf", "  runtimeEnv:\n    TOKEN: {value: "
		      SECRET ", isSecret: true}\n    PLAIN: {value: "
		      "visible}\n");
	assert_int_equal(plane_lookup(f->p, KIND_EXECUTION_CONTEXT,
				      "run1-ctx", &c), 0);
	assert_string_equal(wait_end(f, "run1"), "COMPLETED");
	log = stream(f, &r, PLANE_LOG);
	assert_null(strstr(log, SECRET));
	assert_null(strstr(log, "cGw0bnRlZC1SVU5USU1FLXNlY3JldC00Mg"));
	assert_non_null(strstr(log, "raw ***"));
	assert_non_null(strstr(log, "password=***"));
	assert_null(strstr(stream(f, &r, PLANE_EVENTS), SECRET));
	assert_null(strstr(field(f, "run1", "status.tasks"), SECRET));
	/* the context went with the run */
	assert_int_equal(plane_lookup(f->p, KIND_EXECUTION_CONTEXT,
				      "run1-ctx", &c), -ENOENT);
}

static void short_secret_warns(void **state)
{
	struct fx_plane *f = *state;
	struct plane_res r;
	struct buf b = BUF_INIT(1 << 16);

	fx_open(f);
	workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}}]");
	r = execution(f, "run1", "wf", "  runtimeEnv:\n    PIN: {value: "
		      "abc, isSecret: true}\n");
	assert_string_equal(wait_end(f, "run1"), "COMPLETED");
	assert_non_null(strstr(stream(f, &r, PLANE_EVENTS),
			       "\"type\":\"warning\""));
	assert_non_null(strstr(last, "secret PIN"));
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
	fx_open(f);
	workflow(f, "wf", "[{name: big, kind: RUN, taskConfig: {shell: "
		 "{command: 'seq 1 20000'}}}]");
	r = execution(f, "run1", "wf", NULL);
	assert_string_equal(wait_end(f, "run1"), "COMPLETED");
	assert_int_equal(plane_stream_stat(f->p, r.serial, PLANE_LOG, &st), 0);
	assert_true(st.size <= 4096);
	assert_true(st.size > 0);
	assert_non_null(strstr(stream(f, &r, PLANE_EVENTS),
			       "\"type\":\"dropped\""));
}

static void restart_recovers(void **state)
{
	struct fx_plane *f = *state;

	f->hold = true;
	fx_open(f);
	workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}}]");
	execution(f, "pending1", "wf", NULL);
	f->hold = false;
	fx_reopen(f);
	assert_string_equal(wait_end(f, "pending1"), "COMPLETED");
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
	fx_open(f);
	workflow(f, "wf", task);
	execution(f, "run1", "wf", NULL);
	wait_phase(f, "run1", "IN_PROGRESS");
	for (i = 0; i < 200 && !marker_alive(marker); i++)
		usleep(50000);
	assert_true(marker_alive(marker));
	f->hold = true;
	fx_reopen(f);
	assert_false(marker_alive(marker));
	assert_string_equal(field(f, "run1", "status.phase"), "FAILED");
	assert_string_equal(field(f, "run1", "status.error"),
			    "interrupted: daemon stopped during the run");
	assert_string_equal(task_field(f, "run1", 0, "error"),
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

	fx_open(f);
	workflow(f, "wf", "[{name: a, kind: SET, taskConfig: {variables: {}}}]");
	assert_int_equal(plane_lookup(f->p, KIND_WORKFLOW, "wf", &wf), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err_clear(&f->e);
		rc = plane_run(f->p, &f->who, wf.serial, cases[i].text,
			       strlen(cases[i].text), &r, &f->e);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %d %s", i, rc, f->e.msg);
		if (rc == 0) {
			assert_int_equal(strncmp(r.slug, "wf-", 3), 0);
			assert_string_equal(wait_end(f, r.slug), "COMPLETED");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(three_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(failing_task, setup, teardown),
		cmocka_unit_test_setup_teardown(raise_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_run, setup, teardown),
		cmocka_unit_test_setup_teardown(workflow_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(task_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_under_flood, setup,
						teardown),
		cmocka_unit_test_setup_teardown(operations_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(secrets_redacted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(short_secret_warns, setup,
						teardown),
		cmocka_unit_test_setup_teardown(log_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_recovers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(shutdown_interrupts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(run_file, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
