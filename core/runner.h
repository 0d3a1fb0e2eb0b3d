/*
 * runner.h - the runner as the plane sees it: it starts a thread per
 * WorkflowExecution run, cancels runs, recovers runs a stopped daemon left
 * behind, and sweeps expired ExecutionContexts.
 *
 * Thread rules: every function is thread-safe except runner_new() and
 * runner_free().
 */
#ifndef EXECFS_RUNNER_H
#define EXECFS_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct plane;
struct runner;

/** runner_new() - an idle runner for @p.  Return: 0 and *out, -ENOMEM. */
int runner_new(struct runner **out, struct plane *p);

/**
 * runner_start() - recover what the store holds (PENDING runs start,
 * IN_PROGRESS ones end FAILED as interrupted) and start the sweeper.
 * Return: 0; -EAGAIN (no thread); -ENOMEM; -EIO.
 */
int runner_start(struct runner *r, struct err *e);

/**
 * runner_stop() - refuse new runs, stop every run (process groups get
 * SIGTERM, then SIGKILL; each run ends FAILED as interrupted) and wait for
 * their threads and the sweeper.  Idempotent.
 */
void runner_stop(struct runner *r);

/** runner_free() - runner_stop(), then free.  NULL-safe. */
void runner_free(struct runner *r);

/**
 * runner_launch() - start the run of the PENDING execution @id (@serial);
 * @uid is its creator, the owner of its record (the run reads the owner
 * and group again when it loads the execution: its tasks run as that
 * user when the daemon is root; its errors get the run's warnings).  A
 * run already going for it is not started twice.
 * Return: 0; -ESHUTDOWN (stopping); -EAGAIN; -ENOMEM.
 */
int runner_launch(struct runner *r, const char *id, uint64_t serial,
		  uid_t uid);

/**
 * runner_cancel() - ask the run of execution @serial to stop: its task
 * process groups get SIGTERM, then SIGKILL after RUN_GRACE_S.
 * Return: 0; -ESRCH when no run is going for it.
 */
int runner_cancel(struct runner *r, uint64_t serial);

/**
 * runner_cancel_wait() - runner_cancel(), then wait up to @timeout_s for
 * the run to have ended (status, streams and contexts all written).
 * Return: 0 (ended, or was not running); -ETIMEDOUT.
 */
int runner_cancel_wait(struct runner *r, uint64_t serial, unsigned timeout_s);

/** runner_running() - whether a run is going for execution @serial. */
bool runner_running(struct runner *r, uint64_t serial);

#endif
