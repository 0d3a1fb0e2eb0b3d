/*
 * plane.h - the control plane as fs/ sees it: one handle over the store,
 * the keyring, the model and the pipelines.
 *
 * fs/ maps inodes and file handles onto these calls and nothing else; it
 * never parses documents, checks rules or touches LMDB.  Every call is
 * thread-safe.  Calls that change state return only after the change is
 * durable, and then report it through the notify callback so fs/ can
 * invalidate the kernel's caches from its own thread.
 */
#ifndef EXECFS_PLANE_H
#define EXECFS_PLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "ids.h"
#include "model.h"

struct plane;

/* Limits of DESIGN 1.1 (mount options), with their seed defaults. */
struct plane_limits {
	unsigned workflow_timeout;	/* s, 300 */
	unsigned max_parallel;		/* 10 */
	unsigned max_loop_iterations;	/* 100 */
	unsigned max_total_operations;	/* 1000 */
	unsigned max_loop_depth;	/* 10 */
	uint64_t log_limit;		/* bytes per execution, 8 MiB */
	unsigned context_ttl;		/* s, 86400 */
	uint64_t store_max;		/* bytes the LMDB map may grow to, 64 GiB */
	uint64_t audit_limit;		/* bytes of audit log kept, 16 MiB */
};

/** plane_limits_default() - the seed values above. */
void plane_limits_default(struct plane_limits *l);

struct plane_opts {
	const char *state_dir;	/* absolute */
	const char *key_file;	/* absolute */
	struct plane_limits limits;
	bool hold_runs;		/* executions are created but never started:
				   the pipelines' unit tests play the runner */
	bool has_operators;	/* -o operators=GROUP was given: */
	gid_t operators;	/* its gid */
};

#define PLANE_NO_GROUP ((gid_t)-1)

/* What changed, for the notify callback. */
enum plane_change {
	PLANE_CREATED,
	PLANE_UPDATED,
	PLANE_DELETED,
};

/* A resource as the tree shows it. */
struct plane_res {
	enum kind_id kind;
	uint64_t serial;	/* stable, never reused: fs derives inodes */
	uint64_t gen;		/* bumps on every change */
	struct timespec ctime;	/* created_at */
	struct timespec mtime;	/* updated_at */
	uid_t uid;		/* owner */
	gid_t gid;		/* group */
	mode_t mode;		/* permission bits, 0777 */
	char id[IDS_ID_MAX];
	char slug[SLUG_MAX + 1];
};

#define PLANE_GROUPS_MAX 64	/* supplementary groups looked at */

/* Who is asking (from fuse_req_ctx).  A NULL caller is the daemon. */
struct plane_caller {
	uid_t uid;
	gid_t gid;		/* primary group */
	pid_t pid;
	unsigned ngroups;	/* supplementary groups (the first
				   PLANE_GROUPS_MAX) */
	gid_t groups[PLANE_GROUPS_MAX];
};

/* What a caller asks to do with a resource or a kind directory. */
#define PLANE_MAY_READ 4	/* r: view it */
#define PLANE_MAY_WRITE 2	/* w: change or delete it; cancel a run */
#define PLANE_MAY_USE 1		/* x: run it, bind it into a run */

/**
 * plane_is_operator() - whether @c may do anything: root, the daemon's
 * own user, or a member of the operators group.  NULL @c: true.
 */
bool plane_is_operator(const struct plane *p, const struct plane_caller *c);

/**
 * plane_may() - whether @c has every bit of @want (PLANE_MAY_*) on an
 * object owned by @uid:@gid with @mode, by the owner, group and other
 * classes of mode bits; operators always do.
 */
bool plane_may(const struct plane *p, const struct plane_caller *c,
	       uid_t uid, gid_t gid, mode_t mode, unsigned want);

/* A change of owner, group or mode (chown, chgrp, chmod). */
struct plane_attr {
	bool set_uid, set_gid, set_mode;
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

/**
 * plane_setattr() - change the owner, group or mode of resource @serial.
 * The owner and operators may chmod; chgrp takes the owner (to a group
 * the owner is in) or an operator; chown an operator.  Mode bits other
 * than 0777 are dropped.  Recorded in the audit log (chmod, chown).
 * Return: 0 and *out; -EPERM (not allowed: e->msg says who may);
 *   -ENOENT; -ENOSPC; -EIO.
 */
int plane_setattr(struct plane *p, const struct plane_caller *c,
		  uint64_t serial, const struct plane_attr *a,
		  struct plane_res *out, struct err *e);

/* A kind directory's owner, group and mode (01777; executioncontexts/
   0770), kept in the store. */
struct plane_dir {
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

/** plane_dir_attr() - the attributes of @kind's directory. */
void plane_dir_attr(struct plane *p, enum kind_id kind, struct plane_dir *out);

/**
 * plane_dir_setattr() - chmod or chgrp @kind's directory (operators only;
 * the owner never changes).  Mode bits other than 01777 are dropped.
 * Return: 0; -EPERM; -ENOSPC; -EIO.
 */
int plane_dir_setattr(struct plane *p, const struct plane_caller *c,
		      enum kind_id kind, const struct plane_attr *a,
		      struct err *e);

/**
 * plane_deny() - record a refusal made outside the pipelines (fs/ found
 * @c may not open, list or remove @subject, the resource @id or NULL): as
 * plane_reject() with -EACCES and "permission denied: <why>".
 */
void plane_deny(struct plane *p, const struct plane_caller *c,
		const char *subject, const char *id, const char *why);

typedef void (*plane_notify_fn)(void *ctx, enum plane_change what,
				const struct plane_res *r);

/**
 * plane_open() - open the state directory and key file.
 * Return: 0 and *out; -EBUSY (another daemon), -EACCES (key file mode),
 *         -ENOKEY (the store was rotated to another key:
 *         rotate_check_key()), others from store_open()/keyring_open(),
 *         with a message.
 */
int plane_open(struct plane **out, const struct plane_opts *o, struct err *e);

/**
 * plane_start() - start running executions: PENDING ones start, ones left
 * IN_PROGRESS by a daemon that stopped become FAILED ("interrupted: daemon
 * stopped during the run") and lose their contexts, and the context_ttl
 * sweeper starts.  Call once, after the notify callbacks are set and the
 * mount is up.  Return: 0, -ENOMEM, -EAGAIN (no thread), -EIO.
 */
int plane_start(struct plane *p, struct err *e);

/**
 * plane_close() - stop every run (task process groups get SIGTERM, then
 * SIGKILL; the runs end FAILED "interrupted: daemon stopped during the
 * run"), answer every stream reader with the end, flush and close.
 * NULL-safe.
 */
void plane_close(struct plane *p);

/**
 * plane_set_notify() - register the change callback (once, before serving).
 * @fn is called on the thread that made the change, after it is durable and
 * after the plane's own locks are released; it must not block.
 */
void plane_set_notify(struct plane *p, plane_notify_fn fn, void *ctx);

/* The growing files of a WorkflowExecution (DESIGN 1.6). */
enum plane_stream {
	PLANE_LOG,	/* redacted task output, one line per output line */
	PLANE_EVENTS,	/* JSON Lines */
	PLANE_STREAMS
};

/**
 * plane_set_stream_notify() - register the stream callback (once, before
 * serving): @fn is called after bytes were added to a stream of execution
 * @serial, and once more when the stream ended (the run is over, or the
 * daemon is stopping: plane_stream_stat() then reports done).  It is
 * called from the thread that appended, with no plane lock held; it must
 * not block for long and must not call plane_close().
 */
typedef void (*plane_stream_fn)(void *ctx, uint64_t serial,
				enum plane_stream s);
void plane_set_stream_notify(struct plane *p, plane_stream_fn fn, void *ctx);

/* Lookups.  Return 0 and *out, or -ENOENT. */
int plane_lookup(struct plane *p, enum kind_id kind, const char *slug,
		 struct plane_res *out);
int plane_lookup_id(struct plane *p, const char *id, struct plane_res *out);
int plane_lookup_serial(struct plane *p, uint64_t serial,
			struct plane_res *out);

/**
 * plane_list() - each resource of @kind in slug order, starting after
 * @after (NULL: from the first).  @fn returns non-zero to stop.  @fn must
 * not call into the plane.  Return: 0, @fn's value, -EIO.
 */
int plane_list(struct plane *p, enum kind_id kind, const char *after,
	       int (*fn)(void *ctx, const struct plane_res *r), void *ctx);

/** plane_count() - resources of @kind. */
size_t plane_count(struct plane *p, enum kind_id kind);

/* Files of a resource directory that are rendered views. */
enum plane_view {
	VIEW_SPEC,		/* spec.yaml: the document as written, masked */
	VIEW_RESOURCE_YAML,	/* resource.yaml */
	VIEW_RESOURCE_JSON,	/* resource.json */
	VIEW_STATUS_YAML,	/* status.yaml */
	VIEW_ID,		/* id */
	VIEW_COUNT
};

/* Immutable, reference-counted bytes of a rendered view. */
struct plane_blob {
	const char *data;
	size_t len;
	uint64_t gen;		/* generation it was rendered from */
	struct timespec mtime;
	/* private */
	unsigned refs;		/* atomic */
};

/**
 * plane_view() - the current bytes of view @v of resource @serial, from a
 * cache keyed by generation (rendered on a miss).
 * Return: 0 and *out (release with plane_blob_put()), -ENOENT, -ENOMEM, -EIO.
 */
int plane_view(struct plane *p, uint64_t serial, enum plane_view v,
	       struct plane_blob **out);

/** plane_blob_put() - drop a reference.  NULL-safe. */
void plane_blob_put(struct plane_blob *b);

/* How a document reaches the plane. */
enum plane_write_mode {
	PLANE_WRITE_NEW,	/* a new file in a kind directory: create or apply */
	PLANE_WRITE_SPEC,	/* spec.yaml of the existing resource @name */
	PLANE_WRITE_DRAFT,	/* spec.yaml of the mkdir'ed draft @name */
	PLANE_WRITE_RUN,	/* a WorkflowExecution built by plane_run():
				   no file name, the name is generated */
	PLANE_WRITE_CHILD,	/* as RUN, for a sub-workflow: its parent's
				   run starts it (plane_run_child()) */
};

/**
 * plane_write() - run a document through the pipelines.
 * @name: NEW: the file name ("job.yaml"; its stem is the default
 *   metadata.name); SPEC: the resource's slug; DRAFT: the draft's name
 *   (default metadata.name; the resulting slug must equal it).
 * @out: may be NULL; receives the created or updated resource.
 * Return: 0; -EBADMSG (malformed or invalid), -ENOENT (reference missing),
 *   -EEXIST (create-only exists / draft name taken), -EPERM (immutable),
 *   -EACCES, -ENOSPC, -EFBIG (document too large), -EIO; e->msg says why.
 * Nothing changes on failure.  The caller reports failures with
 * plane_reject().
 */
int plane_write(struct plane *p, const struct plane_caller *c,
		enum kind_id kind, enum plane_write_mode m, const char *name,
		const char *text, size_t len, struct plane_res *out,
		struct err *e);

/*
 * Runs started after the writer has its answer.  A write that creates an
 * execution starts its run once the create is committed; on a 2-CPU
 * machine the new run then competes with the writer's own return (the
 * reply to its close).  Between plane_defer_runs(l) and
 * plane_start_later() the runs this thread's writes would start are kept
 * in @l instead (up to PLANE_LATER_MAX; more start at once), and
 * plane_start_later() starts them: the caller answers in between.
 */
#define PLANE_LATER_MAX 4

struct plane_later {
	size_t n;
	struct {
		char id[IDS_ID_MAX];
		char slug[SLUG_MAX + 1];
		uint64_t serial;
		uid_t uid;
	} run[PLANE_LATER_MAX];
};

/** plane_defer_runs() - keep this thread's runs in @l from now on (@l
 * emptied first); NULL: start them at once again. */
void plane_defer_runs(struct plane_later *l);

/** plane_start_later() - stop keeping runs (as plane_defer_runs(NULL))
 * and start those kept in @l; @l is empty after. */
void plane_start_later(struct plane *p, struct plane_later *l);

/**
 * plane_delete() - delete resource @slug of @kind (DESIGN 1.4: a workflow
 * takes its default instance along; -EBUSY while other instances or
 * running executions use it).
 * Return: 0, -ENOENT, -EBUSY, -EACCES, -EIO; e->msg says why.
 */
int plane_delete(struct plane *p, const struct plane_caller *c,
		 enum kind_id kind, const char *slug, struct err *e);

/**
 * plane_reject() - record a failed change: one line
 * "<UTC time> <subject>: <ENAME>: <message>" in the caller's errors and
 * in the daemon log.  @subject is the path relative to the mount
 * ("workflowexecutions/run1.yaml").
 */
void plane_reject(struct plane *p, const struct plane_caller *c,
		  const char *subject, const struct err *e);

/**
 * plane_stream_stat() - size and mtime of stream @s of execution @serial,
 * and whether it is done (no byte will be added: the run ended, or the
 * plane is closing).  A PENDING execution's streams are empty, not done.
 * Return: 0, -ENOENT (no such execution), -EIO.
 */
struct plane_stream_stat {
	uint64_t size;
	struct timespec mtime;
	bool done;
};
int plane_stream_stat(struct plane *p, uint64_t serial, enum plane_stream s,
		      struct plane_stream_stat *out);

/**
 * plane_stream_read() - append to @out up to @size bytes of stream @s of
 * execution @serial from offset @off.
 * Return: bytes appended (0 at or past the current end), -ENOENT, -EIO,
 *   buf errors.
 */
ssize_t plane_stream_read(struct plane *p, uint64_t serial,
			  enum plane_stream s, uint64_t off, size_t size,
			  struct buf *out);

/**
 * plane_ctl() - a command written to an execution's ctl file: "cancel"
 * (surrounding blanks and a final newline ignored).  Cancelling ends the
 * run's task process groups (SIGTERM, then SIGKILL after a grace period),
 * skips unstarted tasks and ends the run CANCELLED; it returns once the
 * cancel is requested, not when the run has ended.
 * Return: 0; -EINVAL (unknown command: e->msg lists the known ones, or
 *   the run is not going: e->msg names its phase); -ENOENT; -EIO.
 */
int plane_ctl(struct plane *p, const struct plane_caller *c, uint64_t serial,
	      const char *text, size_t len, struct err *e);

/**
 * plane_run() - start an execution of Workflow @wf_serial: @text (@len
 * bytes, may be empty or blank) is a YAML mapping of WorkflowExecution spec
 * fields (triggerMessage, runtimeEnv, dryRun, workflowInstanceId, ...);
 * workflowId is set to the workflow's id and the name is generated
 * (DESIGN 1.5).  Runs the create pipeline like any written execution.
 * Return: as plane_write(); *out receives the new execution.
 */
int plane_run(struct plane *p, const struct plane_caller *c,
	      uint64_t wf_serial, const char *text, size_t len,
	      struct plane_res *out, struct err *e);

/**
 * plane_errors() - the caller's most recent rejected changes (at most 100
 * lines, newest last), appended to @out.  Return: 0 or buf errors.
 */
int plane_errors(struct plane *p, uid_t uid, struct buf *out);

/**
 * plane_set_audit_sink() - register a copy of each audit line (once,
 * before serving): @fn gets the line (ending in '\n', @len bytes) after
 * it is durable, on the thread that wrote it; it must not block.
 */
typedef void (*plane_audit_fn)(void *ctx, const char *line, size_t len);
void plane_set_audit_sink(struct plane *p, plane_audit_fn fn, void *ctx);

/** plane_audit_size() - bytes of the audit log kept.  Return: 0, -EIO. */
int plane_audit_size(struct plane *p, uint64_t *size);

/**
 * plane_audit_read() - append to @out up to @size bytes of the audit log
 * (JSON Lines, oldest kept first) from offset @off.
 * Return: bytes appended (0 at the end), -EIO, buf errors.
 */
ssize_t plane_audit_read(struct plane *p, uint64_t off, size_t size,
			 struct buf *out);

/** plane_readme() - the text of MOUNTPOINT/README (static). */
const char *plane_readme(void);

/**
 * plane_draft() - the commented template spec.yaml of a new draft named
 * @name in @kind's directory, appended to @out.  Return: 0 or buf errors.
 */
int plane_draft(enum kind_id kind, const char *name, struct buf *out);

/**
 * plane_utc() - the UTC date and time of @sec (seconds since the epoch) in
 * the tm_year.. fields of @tm, by arithmetic alone: gmtime_r() takes
 * glibc's time-zone lock, and a thread that reads a slow TZ file holds
 * it; the daemon's timestamps never wait for that.
 */
void plane_utc(int64_t sec, struct tm *tm);

#endif
