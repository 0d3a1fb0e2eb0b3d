/*
 * log.c - the daemon log: one line per event on stderr, which is the log
 * file when the daemon runs in the background under a supervisor.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "fs.h"

void fs_log(const char *fmt, ...)
{
	char stamp[80] = "";
	char msg[1024];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	plane_utc((int64_t)now, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* cut, never overflow */
	va_end(ap);
	fprintf(stderr, "%s execfs: %s\n", stamp, msg);
}
