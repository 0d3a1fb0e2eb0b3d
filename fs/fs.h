/*
 * fs.h - the root struct of the FUSE adapter and the inode numbering.
 *
 * Inodes need no table for stored resources: a resource with serial S
 * (from plane_res.serial, S >= 1) has inode (S << FS_SLOT_BITS) | slot,
 * where slot 0 is its directory, 1..5 its view files, 6 its by-id
 * symlink and 7..13 the files of executions and workflows (enum fs_slot;
 * 14..31 are reserved).  Static inodes sit below 32; the
 * in-memory nodes of tree.h (drafts, pending documents, scratch files) are
 * numbered from FS_INO_MEM up.
 */
#ifndef EXECFS_FS_H
#define EXECFS_FS_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/plane.h"

#define FS_INO_ROOT 1
#define FS_INO_README 2
#define FS_INO_ERRORS 3
#define FS_INO_BYID 4
#define FS_INO_AUDIT 5
#define FS_INO_KIND0 16	/* + enum kind_id */
#define FS_SLOT_BITS 5
#define FS_INO_MEM (1ULL << 62)

#define FS_ENTRY_TIMEOUT 5.0
#define FS_ATTR_TIMEOUT 5.0
/*
 * Negative entries are not cached: a name that appears (a created
 * resource, a draft becoming one) then needs no invalidation.  Every
 * notify_inval_entry waits in the kernel, uninterruptibly, for the
 * directory's lock, which concurrent creates hold while they wait for us;
 * a daemon killed then can never exit and the writers hang.  So the
 * daemon sends as few entry invalidations as it can.
 */
#define FS_NEGATIVE_TIMEOUT 0.0

/* Largest document a write handle buffers; one byte more than the plane
   accepts, so an oversized document reaches the plane and fails there. */
#define FS_DOC_CAP ((1u << 20) + 1)

/* Files of a resource directory, by slot. */
enum fs_slot {
	SLOT_DIR,
	SLOT_SPEC,
	SLOT_RES_YAML,
	SLOT_RES_JSON,
	SLOT_STATUS,
	SLOT_ID,
	SLOT_LINK,
	SLOT_LOG,		/* WorkflowExecution: log */
	SLOT_EVENTS,		/* WorkflowExecution: events */
	SLOT_FOLLOW,		/* WorkflowExecution: follow/ */
	SLOT_FOLLOW_LOG,	/* follow/log */
	SLOT_FOLLOW_EVENTS,	/* follow/events */
	SLOT_CTL,		/* WorkflowExecution: ctl */
	SLOT_RUN,		/* Workflow: run */
	SLOT_COUNT
};

struct tree;
struct notifier;
struct follow;
struct gone;
struct known;
struct groups;

/* One per mount, reached through fuse_req_userdata(). */
struct fs {
	struct plane *plane;
	struct fuse_session *se;
	struct tree *tree;		/* in-memory nodes, own lock */
	struct notifier *notify;	/* kernel cache invalidation thread */
	struct follow *follow;		/* parked reads of follow/ files */
	struct gone *gone;		/* specs just unlinked, own lock */
	struct known *known;		/* resource inodes given to the
					   kernel, own lock */
	struct groups *groups;		/* callers' groups, own lock */
	bool shared;			/* -o allow_other: perm.h checks */
	uid_t uid;			/* the daemon's user and group */
	gid_t gid;
	gid_t operators;		/* group shown on audit */
	struct timespec start;		/* mtime of static entries */
};

static inline fuse_ino_t fs_res_ino(uint64_t serial, int slot)
{
	return (fuse_ino_t)((serial << FS_SLOT_BITS) | (uint64_t)slot);
}

static inline bool fs_ino_is_res(fuse_ino_t ino)
{
	return ino >= (1u << FS_SLOT_BITS) && ino < FS_INO_MEM;
}

/** fs_ino_known() - whether the kernel may hold resource inode @ino
 * (known.h); non-resource inodes always. */
bool fs_ino_known(struct fs *fs, fuse_ino_t ino);

static inline fuse_ino_t fs_kind_ino(enum kind_id k)
{
	return FS_INO_KIND0 + (fuse_ino_t)k;
}

/** fs_ino_kind() - the kind whose directory @ino is, or -1. */
static inline int fs_ino_kind(fuse_ino_t ino)
{
	if (ino < FS_INO_KIND0 || ino >= FS_INO_KIND0 + KIND_COUNT)
		return -1;
	return (int)(ino - FS_INO_KIND0);
}

/** fs_slot_name() - file name of a file or directory slot, else NULL. */
const char *fs_slot_name(int slot);

/**
 * fs_slot_has() - whether a resource of kind @k has slot @slot (1..5 and
 * the by-id link: all; log, events, follow/, ctl: WorkflowExecution; run:
 * Workflow).
 */
bool fs_slot_has(enum kind_id k, int slot);

/** fs_slot_dir() - the directory of @slot: SLOT_DIR or SLOT_FOLLOW. */
int fs_slot_dir(int slot);

/**
 * fs_slot_by_name() - the slot named @name in directory slot @dir
 * (SLOT_DIR or SLOT_FOLLOW) of a resource of kind @k, or -1.
 */
int fs_slot_by_name(enum kind_id k, int dir, const char *name);

/** fs_slot_stream() - the plane stream of a log/events slot, or -1. */
int fs_slot_stream(int slot);

/** fs_caller() - who sent @req. */
struct plane_caller fs_caller(fuse_req_t req);

/** fs_of() - the root struct of @req's session. */
static inline struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/**
 * fs_log() - one line of the daemon log: "<UTC time> execfs: <message>"
 * on stderr, or one syslog record (LOG_NOTICE) after fs_log_syslog().
 */
void fs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * fs_log_syslog() - from now on the log goes to syslog (identifier
 * "execfs", LOG_DAEMON): fs_log() lines, and every line written to
 * stderr (LOG_WARNING), stderr being replaced by a stream feeding syslog.
 * For background mode, right after fuse_daemonize() and before any other
 * thread starts.  Return: 0; -1 when stderr could not be replaced (then
 * only fs_log() lines reach syslog).
 */
int fs_log_syslog(void);

/**
 * fs_log_audit() - a plane_audit_fn: in background mode, one syslog
 * record per audit line, LOG_AUTHPRIV | LOG_NOTICE (the facility of
 * security and authorization messages, which syslog daemons file where
 * only root reads); in the foreground nothing (the audit file has it).
 */
void fs_log_audit(void *ctx, const char *line, size_t len);

/** fs_log_close() - flush a partial stderr line and close syslog. */
void fs_log_close(void);

/** fs_lowlevel_ops - the operation table (ops.c). */
extern const struct fuse_lowlevel_ops fs_lowlevel_ops;

#endif
