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
	char stamp[32] = "";
	char msg[1024];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* cut, never overflow */
	va_end(ap);
	fprintf(stderr, "%s execfs: %s\n", stamp, msg);
}
