/*
 * run_i.h - internals shared by the runner's files: runner.c (registry,
 * recovery, sweeper), run.c (one run from start to end), run_status.c
 * (status and events), run_task.c (task kinds), run_shell.c (RUN
 * processes and their output), run_flow.c (SWITCH, FOR, FORK, TRY),
 * run_http.c (HTTP_CALL), run_sub.c (RUN workflow), run_expr.c (the
 * expression state, rendered configs, redacted copies), run_who.c (the
 * creator, whom the tasks run as) and run_dir.c (the work directory).
 *
 * Locking: a run may have several threads (FORK branches).  Every one of
 * them holds the run's lock r->mu while it touches anything of the run
 * (status, events, log, counters) and lets go of it only around a
 * blocking wait (run_unlock() .. run_lock()): a process's pipes, a WAIT,
 * an HTTP call, a child execution, a free slot, a branch, the expression
 * evaluator.  The evaluator (r->ex) has its own lock r->ex_mu, taken only
 * with r->mu let go.
 */
#ifndef EXECFS_RUN_I_H
#define EXECFS_RUN_I_H

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../crypt/redact.h"
#include "doc.h"
#include "expr.h"
#include "ids.h"
#include "plane_i.h"
#include "run_env.h"
#include "runner.h"
#include "streams.h"
#include "thread.h"

#define RUN_GRACE_S 5			/* SIGTERM to SIGKILL on cancel */
#define RUN_TAIL_MAX (16u << 10)	/* stdout/stderr kept in task output */
#define RUN_OUTPUT_BUDGET (4u << 20)	/* the task outputs kept in status,
					   together, as JSON */
#define RUN_RETURN_MAX (1u << 20)	/* a stream a RUN returns (its output) */
#define RUN_LINE_MAX (64u << 10)	/* longest line event; longer are cut */
#define RUN_HEAD_MAX (64u << 10)	/* a line event's head (its task path) */
#define RUN_BATCH_LINES 4096	/* line events sent at once, at most */
#define RUN_TASK_TIMEOUT_MAX 86400	/* taskConfig.timeout, s */
#define RUN_SWEEP_S 60			/* context sweeper period */
#define RUN_EVAL_POOL 2			/* idle expression evaluators kept */
#define RUN_EVENTS_EXTRA (1u << 20)	/* events cap: 2 * log_limit + this */
#define RUN_PATH_MAX 512		/* a task's path, "fork1/branchA/step2" */
#define RUN_REF_MAX 1024		/* its JSON Pointer, "/do/0/fork1/fork/
					   branches/0/branchA/do/1/step2" */
#define RUN_COMMIT_MS 50		/* status commits at most this often,
					   and before every blocking wait */
#define RUN_TASK_OUT_MAX (256u << 10)	/* a task output kept in status, as
					   JSON; bigger ones are summarized */
#define RUN_BRANCH_STACK (512u << 10)	/* a FORK branch thread's stack */

/* Why a run is being stopped from outside. */
enum run_stop {
	RUN_GO,
	RUN_CANCEL,	/* echo cancel > ctl, or a delete */
	RUN_SHUTDOWN,	/* the daemon is stopping */
};

struct runner {
	struct plane *p;
	pthread_mutex_t mu;
	pthread_cond_t ended;		/* a run left the list */
	pthread_cond_t wake;		/* the sweeper's sleep */
	struct run *runs;		/* protected by mu */
	bool stopping;			/* protected by mu */
	bool started;
	pthread_t sweeper;
	struct expr_pool *pool;		/* idle evaluators; NULL: none */
};

/* What a whole tree of runs shares: a run and the runs of its
 * sub-workflows (DESIGN 1.1 limits apply across the tree). */
struct run_tree {
	_Atomic unsigned ops;		/* tasks started in the tree */
	int64_t deadline_ns;		/* workflow_timeout, from the root's start */
	_Atomic bool claimed;		/* a limit failed a run of the tree */
	_Atomic bool limited;		/* ... and limit[] is written */
	char limit[512];		/* its message */
};

/* How a child run (RUN workflow) hangs on its parent. */
struct run_link {
	struct run_tree *tree;		/* the parent's; outlives the child */
	unsigned depth;			/* loop depth the child starts at */
	int done_fd;			/* eventfd written when the child ended */
};

/* Where a task list runs: the top level, a FOR iteration, a FORK branch,
 * a TRY or catch list.  Owned by the thread running the list. */
struct run_scope {
	struct run *r;
	struct run_scope *up;
	char path[RUN_PATH_MAX];	/* prefix of its tasks' paths ("" or
					   "fork1/branchA/") */
	char ref[RUN_REF_MAX];		/* JSON Pointer of the list ("/do") */
	struct doc *vars;		/* jq variables in scope (map) or NULL;
					   borrowed */
	const struct doc *input;	/* the list's input: its first task's
					   (borrowed) */
	unsigned attempt;		/* of a retried TRY around, or 0 */
	struct run_scope *bnext;	/* a FORK branch: the run's next one
					   (r->branches, under r->mu) */
	unsigned depth;			/* FOR loops around (sub-workflows count) */
	long iteration;			/* innermost FOR index, or -1 */
	int cut_fd;			/* eventfd of a FORK branch, else -1 */
	_Atomic bool cut;		/* the branch was cut (compete, fault) */
	struct doc *last;		/* output of the last task of the list
					   that completed (owned) */
};

/* The DSL's standard error types, under RUN_ERR_BASE. */
#define RUN_ERR_BASE "https://serverlessworkflow.io/spec/1.0.0/errors/"

/* Why a list stopped on a task failure: the DSL's error object, which a
 * TRY catches. */
struct run_fault {
	char path[RUN_PATH_MAX];
	char instance[RUN_REF_MAX];	/* JSON Pointer of the failing task */
	char type[256];
	char title[128];
	int status;
	char detail[512];
};

struct run_plan;

/* One task's record while it runs. */
struct run_task {
	struct run_scope *sc;		/* the list it runs in */
	const struct doc *def;		/* its spec entry (borrowed) */
	const char *name;
	const char *kind;		/* "RUN", ... */
	const struct doc *input;	/* its input, `.` (borrowed) */
	struct doc *arg;		/* $task (owned) */
	char ref[RUN_REF_MAX];		/* its JSON Pointer */
	struct doc *cfg;		/* taskConfig, expressions evaluated
					   (owned; NULL until rendered) */
	struct run_plan *plan;		/* its definition's plan, found once
					   (borrowed; NULL: none) */
	struct doc *st;			/* its entry in status.tasks (borrowed) */
	char path[RUN_PATH_MAX];
	int64_t start_ns;
	int exit_code;
	bool has_exit;
	char error[512];		/* the error's detail */
	char err_type[256];		/* its type (full URI); "" until set */
	char err_title[128];
	int err_status;
	char err_instance[RUN_REF_MAX];	/* a nested task's, else "" (ours) */
	char err_path[RUN_PATH_MAX];	/* the nested task's path, else "" */
	unsigned attempt;		/* its scope's (events show it) */
	unsigned attempts;		/* a TRY with retry: attempts made */
	const struct doc *vars;		/* variables for its evaluations
					   instead of its scope's, or NULL */
	char then[256];			/* SWITCH: where to go next, or "" */
	struct doc *output;		/* owned until stored */
};

/* A status entry for a task definition. */
struct run_plan {
	const struct doc *def;
	struct doc *entry;
	size_t out_bytes;		/* its output's JSON, of r->out_used */
};

/* The record a run committed last (run_commit.c), to start the next
 * commit from; res NULL: none. */
struct run_rec {
	struct doc *res;
	struct buf src;			/* its kept source text */
	struct store_rec hdr;
};

#define RUN_REC_INIT { NULL, BUF_INIT(STORE_BODY_MAX), { 0 } }

struct run {
	struct runner *rr;
	struct plane *p;
	struct run *next;		/* protected by rr->mu */
	pthread_t thr;
	uint64_t serial;
	char id[IDS_ID_MAX];
	char slug[SLUG_MAX + 1];
	struct plane_caller who;	/* the execution's creator (its record's
					   owner and group; pid 0): the tasks
					   run as it, it gets the run's
					   warnings in errors.  Until load():
					   the uid alone */
	bool as_creator;		/* the daemon is root and who is not:
					   task processes switch to who */
	int ngroups_all;		/* who's groups, before the cut to
					   PLANE_GROUPS_MAX */
	_Atomic int stop;		/* enum run_stop */
	_Atomic bool ended;		/* a `then: end` ended the workflow */
	struct run_scope *branches;	/* FORK branches running (r->mu) */
	int wake_fd;			/* eventfd: a stop wakes the run */
	struct run_link link;		/* a child run's parent; tree NULL
					   for a root run */
	struct run_tree own_tree;	/* a root run's tree */
	struct run_tree *tree;		/* own_tree or link.tree */

	pthread_mutex_t mu;		/* the run's lock (see above) */
	pthread_cond_t slot_cv;		/* a leaf task ended */
	unsigned running;		/* leaf tasks running (max_parallel) */

	/* Below: owned by the run's thread. */
	struct doc *exec;		/* the execution as loaded */
	struct doc *wf;			/* its workflow */
	const struct doc *tasks;	/* wf spec.tasks */
	struct doc *status;		/* status being built */
	struct doc *input;		/* the workflow's input: triggerMessage,
					   parsed as JSON when it is JSON */
	struct doc *output;		/* the workflow's: its last task's */
	struct expr_cache *ex;		/* compiled programs and the state */
	struct run_plan *plan;		/* one per task definition */
	size_t nplan;
	bool dirty;			/* status changed since the commit */
	int64_t commit_ns;		/* last status commit */
	struct run_rec rec;		/* the record as last committed */
	bool stored;			/* a commit stored IN_PROGRESS: later
					   starts go to the journal */
	int jfd;			/* STATE/starts/<id>, -1 until used */
	size_t jsize;			/* its bytes since the last commit */
	bool jused;			/* the file was made */
	bool jbroken;			/* an append that could not be taken
					   back: commit instead */
	bool end_stored;		/* finish() stored the ended phase */
	struct run_env env;
	struct redactor *red;
	struct redactor *red_lit;	/* the secrets alone, no key patterns */
	pthread_mutex_t ex_mu;		/* r->ex: taken without r->mu held */
	struct sink *log;
	struct sink *events;
	bool dry;
	bool log_full;			/* log_limit reached, marker sent */
	bool events_full;
	int64_t start_ns;
	int64_t deadline_ns;		/* workflow_timeout */
	unsigned ops;			/* tasks started */
	size_t out_used;		/* of RUN_OUTPUT_BUDGET: the plans'
					   out_bytes */
	bool cut;			/* a stop cut the run short */
	char workdir[PATH_MAX];
	int64_t counts[4];		/* task runs COMPLETED, FAILED,
					   SKIPPED, CANCELLED */
	int exit_code;			/* of the last RUN that ended */
	char error[1024];		/* status.error of a failed run */
	const char *phase;		/* final phase */
};

/* runner.c */
enum run_stop run_stopping(struct run *r);
/* start a child run linked to its parent (RUN workflow); -ESHUTDOWN ... */
int runner_launch_child(struct runner *rr, const char *id, uint64_t serial,
			uid_t uid, const struct run_link *link);

/* run.c */
void *run_main(void *arg);
/* mark a run that will not run (recovery of IN_PROGRESS) as interrupted */
int run_interrupt_stored(struct plane *p, const char *id, struct err *e);
/* store @phase (and @error, completedAt) alone into execution @id's
 * status: for a run that cannot start or whose status cannot be stored */
int run_fail_stored(struct plane *p, const char *id, const char *phase,
		    const char *error, struct err *e);
/* now, ns since the epoch */
int64_t run_now(void);
/* the run's error (status.error), "task <path> failed: <why>" or a bare
 * @why when @task is NULL; the first one set stays */
void run_fail(struct run *r, const char *task, const char *why);
/* run the tasks of @list in @sc (flow.then, SWITCH jumps); 0; -1 a task
 * failed (*f says how; TRY catches it); -ETIME a limit failed the run
 * (its error is set); -ECANCELED a stop or a cut */
int run_list(struct run_scope *sc, const struct doc *list,
	     struct run_fault *f);
/* a scope for a nested list: @path + "/" under @up, same variables; its
 * JSON Pointer @ref, its input @input (borrowed) */
void run_scope_init(struct run_scope *sc, struct run_scope *up,
		    const char *path, const char *ref,
		    const struct doc *input);
void run_scope_release(struct run_scope *sc);
/* cut @sc (a FORK branch): its tasks end CANCELLED; the caller holds
 * the run's lock */
void run_scope_cut(struct run_scope *sc);
/* whether a stop of the run or a cut of @sc or of a scope around it */
bool run_scope_stopped(const struct run_scope *sc);
/* the fds a blocking wait in @sc polls to see a stop or a cut (POLLIN);
 * Return: how many (at most @max) */
int run_scope_fds(const struct run_scope *sc, struct pollfd *pf, int max);
/* leave / take the run's lock around a blocking wait (status committed
 * first when it changed) */
void run_unlock(struct run *r);
void run_lock(struct run *r);
/* append "/<i>/<name>" to JSON Pointer @ref, "~" and "/" of @name
 * escaped (RFC 6901) */
void run_ref_add(char *ref, size_t cap, size_t i, const char *name);
/* snprintf() where a cut text is acceptable (paths, messages) */
void run_fmt(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* fail the run with limit message @msg: -ETIME */
int run_limit(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* run_commit.c: the status commits */
void run_rec_release(struct run_rec *rec);
/* a task's start recorded at once: nothing to record, or journaled
 * (IN_PROGRESS is stored); false: it needs a commit (run_flush()) */
bool run_start_journaled(struct run *r);

/* run_journal.c: the status at each start, between commits; all with
 * the run's lock held (or its threads gone) */
/* append r->status, stamped with r->rec.hdr.mtime_ns (the run's last
 * commit).  Return: 0; -EIO (a failed append), -EFBIG, -ENOMEM, or an
 * errno of open/mkdir/write: the start must then be committed. */
int run_journal_put(struct run *r);
/* a commit stored everything: empty the journal (a failure is harmless:
 * what it leaves has an older stamp) */
void run_journal_reset(struct run *r);
/* close the journal; unlink the file if @remove */
void run_journal_close(struct run *r, bool remove);
/* r->status from the last whole record of @stamp (the stored record's
 * mtime_ns).  Return: 1 if one was found, 0 if none (or no journal),
 * -EFBIG, -ENOMEM, or an errno of open/read */
int run_journal_replay(struct run *r, int64_t stamp);
/* remove every journal for which @keep(@p, name) is false (at start,
 * before any run).  Return: 0, or an errno of opening the directory */
int run_journal_sweep(struct plane *p,
		      bool (*keep)(struct plane *p, const char *id));

/* run_status.c: the status document and the events stream */
int run_status_init(struct run *r);
/* the plan of task definition @def (its status entry), or NULL */
struct run_plan *run_task_plan(struct run *r, const struct doc *def);
int run_status_progress(struct run *r);
int run_task_set(struct run *r, struct run_task *t, const char *status);
int run_set_phase(struct run *r, const char *phase);
/* recovery: IN_PROGRESS tasks FAILED with @msg, PENDING ones SKIPPED */
void run_status_interrupt(struct run *r, const char *msg);
int run_summary(struct run *r, int64_t end_ns);
int run_commit(struct run *r, struct err *e);
/* status changed: commit now if the last commit is RUN_COMMIT_MS old */
void run_touch(struct run *r);
/* commit now if status changed since the last commit */
void run_flush(struct run *r);
/* when status must be committed: RUN_COMMIT_MS after the last commit
 * when it changed since, INT64_MAX when it did not */
int64_t run_commit_due(const struct run *r);
/* commit if that time has come */
void run_flush_due(struct run *r);
int run_commit_with(struct plane *p, const char *id,
		    int (*fn)(void *ctx, struct doc *res), void *ctx,
		    struct err *e);
void run_event_state(struct run *r, const char *phase);
void run_event_task(struct run *r, const struct run_task *t,
		    const char *status);
/*
 * A batch of a task's output lines: the log's bytes and their line
 * events, sent together so each event can refer to its text in the log
 * (streams.h sink_append_lines()).
 */
/* One line of a batch: its text at @text_at in the log batch, its
 * event's head at @head_at in @heads. */
struct run_line {
	size_t text_at, len, qx, lines, head_at, hlen;
};
struct run_lines {
	struct buf log;		/* the lines, each ending in a newline */
	struct run_line *l;	/* their line events */
	struct evc_line *ev;	/* the same, as sent */
	size_t n, cap;		/* cap: at most RUN_BATCH_LINES */
	uint64_t ev_bytes;	/* the events' size */
	/* the heads (up to the text) of the events: made again when the
	 * stream, task or millisecond changes */
	struct buf heads;
	size_t head_at;
	int64_t head_ms;
	const char *head_stream;
	const struct run_task *head_task;
};
void run_lines_init(struct run_lines *b, size_t log_cap);
void run_lines_release(struct run_lines *b);
/* add line @text (@n bytes, no newline); -EFBIG / -ENOMEM: the batch is
 * full (nothing added) */
int run_lines_add(struct run *r, struct run_lines *b,
		  const struct run_task *t, const char *stream,
		  const char *text, size_t n);
/* add the @lines lines of @text (@n bytes, each line ending in a newline
 * and at most RUN_LINE_MAX bytes before it): as run_lines_add() of each,
 * their events one RUN (evcode.h) */
int run_lines_add_run(struct run *r, struct run_lines *b,
		      const struct run_task *t, const char *stream,
		      const char *text, size_t n, size_t lines);
/* the batch to the log and the events stream (each dropped past its
 * cap), then empty it */
void run_lines_send(struct run *r, struct run_lines *b);
void run_event_msg(struct run *r, const char *type, const char *task,
		   const char *message);
void run_event_complete(struct run *r);
/* whole lines to the log; past log_limit the rest is dropped, marked once */
void run_log(struct run *r, const char *data, size_t n);
void run_warn(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* run_task.c: whether @kind runs task lists (SWITCH, FOR, FORK, TRY) */
bool run_kind_is_flow(const char *kind);
/* run_task.c: a RUN that starts a process (not a workflow, a dry run) */
bool run_task_spawns(const struct run *r, const struct run_task *t);
/* run_task.c: one task of any kind; 0 when it completed, -1 failed,
 * -ETIME a limit failed the run, -ECANCELED a stop or cut. */
int run_task_exec(struct run *r, struct run_task *t);
/* the seconds of taskConfig.timeout, 0 when none */
unsigned run_task_timeout(const struct doc *def);
/* when task @t must end: its own timeout or the run's workflow_timeout
 * (*is_task says which) */
int64_t run_task_deadline(struct run *r, const struct run_task *t,
			  bool *is_task);
/* t->error for a deadline passed; -1 (task timeout) or -ETIME (the run's) */
int run_deadline_failure(struct run *r, struct run_task *t, bool is_task);
/* a poll(2) timeout in ms until @until_ns (0 when past, at most 60 s) */
int run_poll_ms(int64_t until_ns);
/* @t's error: standard type @type (a name under RUN_ERR_BASE, e.g.
 * "runtime", "timeout"), @status, @title, the detail from @fmt */
void run_task_error(struct run_task *t, const char *type, int status,
		    const char *title, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* a "trace" event of a dry run */
void run_trace(struct run *r, struct run_task *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* {dryRun: true, @key: @v} (takes @v) */
struct doc *run_dry_output(const char *key, struct doc *v);

/* run_who.c: r->who and r->as_creator from the execution's header @h
 * (an owner from before owners is the daemon's user) */
void run_who_from(struct run *r, const struct store_rec *h);
/* r->who's supplementary groups: getgrouplist() of its user name, none
 * for a uid without a passwd entry; looked up when who is not the
 * daemon's user (else they are never used).  Return: 0; -ENOMEM, -EIO...
 * when the user database cannot be read, with a message. */
int run_who_groups(struct run *r, struct err *e);

/* run_dir.c: the work directory STATE/runs/<id> (r->workdir), made for
 * r->who: owned by it when tasks run as it.  Return: 0; -errno with a
 * message. */
int run_dir_make(struct run *r, struct err *e);
/* remove r->workdir and everything under it, without following links */
void run_dir_remove(struct run *r);
/* startup: STATE and STATE/runs searchable by others when the daemon is
 * root (a warning on stderr for a directory above STATE that is not) */
int run_dir_prepare(struct plane *p, struct err *e);

/* run_shell.c: RUN shell/script */
int run_shell(struct run *r, struct run_task *t, const struct doc *cfg);
/* the argv of a RUN config; *display is a one-line text for traces */
int run_shell_argv(const struct doc *cfg, char ***argv, char **display);
void run_argv_free(char **argv);

/* run_flow.c: the kinds that run task lists */
int run_switch(struct run *r, struct run_task *t);
int run_for(struct run *r, struct run_task *t);
int run_fork(struct run *r, struct run_task *t);
/* a nested list's failure @f becomes @t's: -1 */
int run_fault_up(struct run_task *t, const struct run_fault *f);

/* run_try.c: TRY, its catch and retry */
int run_try(struct run *r, struct run_task *t);

/* run_http.c, run_sub.c */
int run_http(struct run *r, struct run_task *t);
int run_sub(struct run *r, struct run_task *t);

/* run_expr.c: expressions over the run's state; redacted copies */
int run_expr_init(struct run *r, struct err *e);
/* t->cfg: the task's config with the fields its kind evaluates rendered */
int run_render_cfg(struct run *r, struct run_task *t);
/* evaluate one template or value @v (a non-string is copied) for @t, `.`
 * its input */
int run_eval(struct run *r, struct run_task *t, const struct doc *v,
	     struct doc **out);
/* ... with `.` @dot and $output @output (NULL: null) */
int run_eval_at(struct run *r, struct run_task *t, const struct doc *v,
		const struct doc *dot, const struct doc *output,
		struct doc **out);
/* whether @s holds a secret value of the run (literal forms) */
bool run_has_secret(struct run *r, const char *s);
/* a copy of @d with every secret of the run masked in its strings */
struct doc *run_redacted(struct run *r, const struct doc *d);
/* @s with every secret masked, into @out (cut to @cap) */
void run_redact_text(struct run *r, const char *s, char *out, size_t cap);
/* export.as of completed task @t into $context; 0, -1 (t->error),
 * -ETIME, -ECANCELED */
int run_export(struct run *r, struct run_task *t);

#endif
