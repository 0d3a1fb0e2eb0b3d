/*
 * run_i.h - internals shared by the runner's files: runner.c (registry,
 * recovery, sweeper), run.c (one run from start to end), run_status.c
 * (status and events), run_task.c (task kinds) and run_shell.c (RUN
 * processes and their output).
 */
#ifndef EXECFS_RUN_I_H
#define EXECFS_RUN_I_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../crypt/redact.h"
#include "doc.h"
#include "ids.h"
#include "plane_i.h"
#include "run_env.h"
#include "runner.h"
#include "streams.h"

#define RUN_GRACE_S 5			/* SIGTERM to SIGKILL on cancel */
#define RUN_TAIL_MAX (16u << 10)	/* stdout/stderr kept in task output */
#define RUN_OUTPUT_BUDGET (1u << 20)	/* all tails of a run, together */
#define RUN_LINE_MAX (64u << 10)	/* longest line event; longer are cut */
#define RUN_TASK_TIMEOUT_MAX 86400	/* taskConfig.timeout, s */
#define RUN_SWEEP_S 60			/* context sweeper period */
#define RUN_EVENTS_EXTRA (1u << 20)	/* events cap: 2 * log_limit + this */

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
};

/* One task's record while it runs. */
struct run_task {
	const struct doc *def;		/* its spec entry (borrowed) */
	const char *name;
	const char *kind;		/* "RUN", ... */
	struct doc *st;			/* its entry in status.tasks (borrowed) */
	int64_t start_ns;
	int exit_code;
	bool has_exit;
	char error[512];
	struct doc *output;		/* owned until stored */
};

struct run {
	struct runner *rr;
	struct plane *p;
	struct run *next;		/* protected by rr->mu */
	pthread_t thr;
	uint64_t serial;
	char id[IDS_ID_MAX];
	char slug[SLUG_MAX + 1];
	uid_t uid;			/* gets the run's warnings in errors */
	_Atomic int stop;		/* enum run_stop */
	int wake_fd;			/* eventfd: a stop wakes the run */

	/* Below: owned by the run's thread. */
	struct doc *exec;		/* the execution as loaded */
	struct doc *wf;			/* its workflow */
	const struct doc *tasks;	/* wf spec.tasks */
	struct doc *status;		/* status being built */
	struct doc *exported;		/* export.as name -> output */
	struct run_env env;
	struct redactor *red;
	struct sink *log;
	struct sink *events;
	bool dry;
	bool log_full;			/* log_limit reached, marker sent */
	bool events_full;
	int64_t start_ns;
	int64_t deadline_ns;		/* workflow_timeout */
	unsigned ops;			/* tasks started */
	size_t out_used;		/* of RUN_OUTPUT_BUDGET */
	bool cut;			/* a stop cut the run short */
	char workdir[PATH_MAX];
	int done, failed, skipped, cancelled;	/* task counts */
	int exit_code;			/* of the last RUN that ended */
	char error[1024];		/* status.error of a failed run */
	const char *phase;		/* final phase */
	time_t ts_sec;			/* events' timestamp cache */
	char ts_day[24];
};

/* runner.c */
enum run_stop run_stopping(struct run *r);

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

/* run_status.c: the status document and the events stream */
int run_status_init(struct run *r);
struct doc *run_task_entry(struct run *r, size_t i);
int run_status_progress(struct run *r);
int run_task_set(struct run *r, struct run_task *t, const char *status);
int run_set_phase(struct run *r, const char *phase);
/* recovery: IN_PROGRESS tasks FAILED with @msg, PENDING ones SKIPPED */
void run_status_interrupt(struct run *r, const char *msg);
int run_summary(struct run *r, int64_t end_ns);
int run_commit(struct run *r, struct err *e);
int run_commit_with(struct plane *p, const char *id,
		    int (*fn)(void *ctx, struct doc *res), void *ctx,
		    struct err *e);
void run_event_state(struct run *r, const char *phase);
void run_event_task(struct run *r, const struct run_task *t,
		    const char *status);
/* a line event appended to @to (a batch); -EFBIG when @to is full */
int run_event_line(struct run *r, struct buf *to, const char *task,
		   const char *stream, const char *text, size_t n);
/* a batch of line events to the events stream (dropped past its cap) */
void run_events_lines(struct run *r, const struct buf *lines);
void run_event_msg(struct run *r, const char *type, const char *task,
		   const char *message);
void run_event_complete(struct run *r);
/* whole lines to the log; past log_limit the rest is dropped, marked once */
void run_log(struct run *r, const char *data, size_t n);
void run_warn(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* run_task.c: one task of any kind; 0 when it completed, -1 failed,
 * -ECANCELED when a stop cut it short. */
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

/* run_shell.c: RUN shell/script */
int run_shell(struct run *r, struct run_task *t, const struct doc *cfg);
/* the argv of a RUN config; *display is a one-line text for traces */
int run_shell_argv(const struct doc *cfg, char ***argv, char **display);
void run_argv_free(char **argv);

#endif
