/*
 * err.h - error values with a message for the user.
 *
 * Every function in core/ and crypt/ that can fail returns 0 (or a
 * non-negative size) on success and a negative errno on failure.  Where a
 * person will read why, the function also fills a struct err passed by the
 * caller.  The message names the field path or subject, never a secret value.
 */
#ifndef EXECFS_ERR_H
#define EXECFS_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 512

struct err {
	int code;		/* negative errno, 0 when unset */
	char msg[ERR_MSG_MAX];	/* one line, no trailing newline */
};

/**
 * err_set() - record a failure.
 * @e:    may be NULL (then only @code is returned)
 * @code: negative errno
 * Return: @code, so callers can write "return err_set(e, -EBADMSG, ...)".
 * A message longer than ERR_MSG_MAX - 1 is cut (with "...").
 */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * err_prefix() - prepend "prefix: " to an existing message (e.g. a field path).
 * Return: e->code.
 */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** err_clear() - reset to "no error". NULL-safe. */
void err_clear(struct err *e);

/**
 * err_name() - the symbolic name of an errno ("EBADMSG").
 * @code: errno, negative or positive.
 * Return: a static string; "EIO"-style names for the errnos execfs uses,
 *         "E<number>" text is never produced: unknown codes give "EIO".
 */
const char *err_name(int code);

#endif
