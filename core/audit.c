/*
 * audit.c - the text of an audit line.  JSON by hand: the fields are
 * few and flat, and every string is escaped the same way.
 */
#include "audit.h"

#include <errno.h>
#include <stdio.h>

#include "err.h"
#include "plane.h"

static int add_str(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int rc = buf_addstr(out, "\"");

	for (; rc == 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			rc = buf_addf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			rc = buf_addf(out, "\\u%04x", *p);
		else
			rc = buf_add(out, (const char *)p, 1);
	}
	return rc ? rc : buf_addstr(out, "\"");
}

static int add_field(struct buf *out, const char *key, const char *val)
{
	int rc = buf_addf(out, ", \"%s\": ", key);

	return rc ? rc : add_str(out, val);
}

static int add_time(struct buf *out, int64_t ns)
{
	struct tm tm;

	plane_utc(ns / 1000000000, &tm);
	return buf_addf(out, "{\"time\": \"%04d-%02d-%02dT%02d:%02d:%02d."
			"%03dZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			(int)(ns / 1000000 % 1000));
}

static int add_srcs(struct buf *out, const struct audit_src *s, size_t n)
{
	int rc = buf_addstr(out, ", \"secrets\": [");

	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = buf_addstr(out, i ? ", {\"kind\": " : "{\"kind\": ");
		if (rc == 0)
			rc = add_str(out, s[i].kind);
		if (rc == 0)
			rc = add_field(out, "id", s[i].id);
		if (rc == 0)
			rc = add_field(out, "name", s[i].name);
		if (rc == 0)
			rc = buf_addstr(out, "}");
	}
	return rc ? rc : buf_addstr(out, "]");
}

int audit_line(struct buf *out, const struct audit_rec *r)
{
	const char *res = r->result ? err_name(r->result) : "ok";
	int rc = add_time(out, r->time_ns);

	if (rc == 0)
		rc = buf_addf(out, ", \"uid\": %u", (unsigned)r->uid);
	if (rc == 0)
		rc = add_field(out, "user", r->user);
	if (rc == 0)
		rc = buf_addf(out, ", \"pid\": %d", (int)r->pid);
	if (rc == 0)
		rc = add_field(out, "verb", r->verb);
	if (rc == 0)
		rc = add_field(out, "kind", r->kind);
	if (rc == 0)
		rc = add_field(out, "name", r->name);
	if (rc == 0)
		rc = add_field(out, "id", r->id);
	if (rc == 0)
		rc = add_field(out, "result", res);
	if (rc == 0 && r->result)
		rc = add_field(out, "errno", res);
	if (rc == 0 && r->reason)
		rc = add_field(out, "reason", r->reason);
	if (rc == 0 && r->owner)
		rc = add_field(out, "owner", r->owner);
	if (rc == 0 && r->mode)
		rc = add_field(out, "mode", r->mode);
	if (rc == 0 && r->suppressed)
		rc = buf_addf(out, ", \"suppressed\": %llu",
			      (unsigned long long)r->suppressed);
	if (rc == 0 && r->nsrc)
		rc = add_srcs(out, r->src, r->nsrc);
	return rc ? rc : buf_addstr(out, "}\n");
}
