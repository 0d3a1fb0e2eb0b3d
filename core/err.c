/*
 * err.c - the message-carrying error value used across core/ and crypt/,
 * and the table of errno names used in "errors" lines.
 */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void err_vset(struct err *e, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void err_vset(struct err *e, const char *fmt, va_list ap)
{
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);

	if (n < 0)
		e->msg[0] = '\0';
	else if ((size_t)n >= sizeof(e->msg))
		memcpy(e->msg + sizeof(e->msg) - 4, "...", 4);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	err_vset(e, fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[ERR_MSG_MAX], old[ERR_MSG_MAX];
	va_list ap;
	int n;

	if (!e)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	if (n < 0)
		return e->code;
	memcpy(old, e->msg, sizeof(old));
	n = snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old);
	if (n >= 0 && (size_t)n >= sizeof(e->msg))
		memcpy(e->msg + sizeof(e->msg) - 4, "...", 4);
	return e->code;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

static const struct {
	int code;
	const char *name;
} names[] = {
	{ EPERM, "EPERM" },	{ ENOENT, "ENOENT" },	{ EIO, "EIO" },
	{ E2BIG, "E2BIG" },	{ ENOMEM, "ENOMEM" },	{ EACCES, "EACCES" },
	{ EBUSY, "EBUSY" },	{ EEXIST, "EEXIST" },	{ EXDEV, "EXDEV" },
	{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" },	{ EINVAL, "EINVAL" },
	{ EFBIG, "EFBIG" },	{ ENOSPC, "ENOSPC" },	{ EROFS, "EROFS" },
	{ ERANGE, "ERANGE" },	{ ENAMETOOLONG, "ENAMETOOLONG" },
	{ ENOTEMPTY, "ENOTEMPTY" }, { EBADMSG, "EBADMSG" },
	{ ENOTSUP, "ENOTSUP" }, { ESTALE, "ESTALE" },	{ EAGAIN, "EAGAIN" },
	{ ECANCELED, "ECANCELED" }, { ETIMEDOUT, "ETIMEDOUT" },
};

const char *err_name(int code)
{
	size_t i;

	if (code < 0)
		code = -code;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "EIO";
}
