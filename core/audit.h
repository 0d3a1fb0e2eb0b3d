/*
 * audit.h - the lines of the audit log (DESIGN 1.8): one JSON object per
 * line for each change, refusal, run, cancel and use of secrets.  Only
 * names, ids, errnos and the errors-line reason go in; never a value.
 */
#ifndef EXECFS_AUDIT_H
#define EXECFS_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* A resource whose secret values went into a run. */
struct audit_src {
	const char *kind;	/* "Environment", "ExecutionContext" */
	const char *id;
	const char *name;
};

/* One line; every string is borrowed and may be NULL (written as ""). */
struct audit_rec {
	int64_t time_ns;
	uid_t uid;
	const char *user;
	pid_t pid;
	const char *verb;	/* create update delete chmod chown run
				   cancel use-secrets deny */
	const char *kind;
	const char *name;
	const char *id;
	int result;		/* 0 or -errno */
	const char *reason;	/* deny: the errors line's message */
	const char *owner;	/* chown: the new "user:group" */
	const char *mode;	/* chmod: the new mode, "0750" */
	uint64_t suppressed;	/* deny: this user's deny lines dropped
				   just before (rate limit) */
	const struct audit_src *src;	/* use-secrets */
	size_t nsrc;
};

/**
 * audit_line() - append @r as one JSON line (ending in '\n') to @out:
 * time (UTC, ms), uid, user, pid, verb, kind, name, id, result ("ok" or
 * the errno's name), and for a refusal errno and reason, for chown owner,
 * for chmod mode, for use-secrets
 * "secrets": [{kind, id, name}...].  Strings are JSON-escaped (control
 * bytes as \u00XX); a line longer than @out's cap fails.
 * Return: 0; -ENOMEM/-EFBIG from buf.
 */
int audit_line(struct buf *out, const struct audit_rec *r);

#endif
