/*
 * log.c - the daemon log.  In the foreground it is stderr: one line per
 * event, "<UTC time> execfs: <message>".  In the background (after
 * fuse_daemonize(), whose stderr is /dev/null) it is syslog, identifier
 * "execfs", facility LOG_DAEMON: fs_log() lines at LOG_NOTICE, and every
 * line anything else writes to stderr (core's "execfs: ..." lines,
 * libfuse's messages) at LOG_WARNING, through a stdio cookie stream that
 * replaces stderr.  The sink is the one piece of global state besides the
 * signal flag (CONVENTIONS 8).
 */
#include <limits.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "fs.h"

/* A stderr line is cut at this size; the rest starts a new line. */
#define LINE_CAP 1024

/* Partial line of the stderr stream; touched only by log_write(), which
   stdio calls with the stream's lock held. */
struct line {
	char buf[LINE_CAP];
	size_t len;
};

static bool to_syslog;	/* set once, before any other thread starts */
static struct line pending;

static void line_emit(struct line *l)
{
	const char *s = l->buf;
	size_t n = l->len;

	/* syslog names the program: drop core's own "execfs: " prefix. */
	if (n >= 8 && memcmp(s, "execfs: ", 8) == 0) {
		s += 8;
		n -= 8;
	}
	if (n)
		syslog(LOG_WARNING, "%.*s", (int)n, s);
	l->len = 0;
}

/* cookie_write_function_t: split into lines, one syslog record each. */
static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
	struct line *l = cookie;
	size_t i;

	for (i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			line_emit(l);
			continue;
		}
		if (l->len == sizeof(l->buf))
			line_emit(l);
		l->buf[l->len++] = buf[i];
	}
	return (ssize_t)size;
}

void fs_log_audit(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	if (len && line[len - 1] == '\n')
		len--;
	if (to_syslog && len <= INT_MAX)
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "audit: %.*s", (int)len, line);
}

int fs_log_syslog(void)
{
	cookie_io_functions_t io = { .write = log_write };
	FILE *f;

	openlog("execfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	to_syslog = true;
	f = fopencookie(&pending, "w", io);
	if (!f) {
		fs_log("cannot send stderr to syslog: %s", strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	/* The old stream stays open: fd 2 must stay /dev/null (where
	 * fuse_daemonize() put it), or the next descriptor the daemon opens
	 * would become fd 2 and glibc's or a sanitizer's fatal messages
	 * would be written into it. */
	stderr = f;
	return 0;
}

void fs_log_close(void)
{
	if (!to_syslog)
		return;
	fflush(stderr);
	if (pending.len)
		line_emit(&pending);
	closelog();
}

void fs_log(const char *fmt, ...)
{
	char stamp[80] = "";
	char msg[1024];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* cut, never overflow */
	va_end(ap);
	if (to_syslog) {
		syslog(LOG_NOTICE, "%s", msg);
		return;
	}
	plane_utc((int64_t)now, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	fprintf(stderr, "%s execfs: %s\n", stamp, msg);
}
