/*
 * duration.c - DSL durations in milliseconds.  See duration.h.
 */
#include "duration.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int bad(const char **why, const char *text)
{
	*why = text;
	return -EINVAL;
}

/* Add @n units of @unit_ms to *ms within DURATION_MAX_MS. */
static bool add(int64_t *ms, int64_t n, int64_t unit_ms)
{
	if (n < 0 || n > DURATION_MAX_MS / unit_ms)
		return false;
	*ms += n * unit_ms;
	return *ms <= DURATION_MAX_MS;
}

/* One "<digits>[.<digits>]<designator>" of an ISO 8601 text at *p. */
static int iso_part(const char **p, bool in_time, int64_t *ms,
		    const char **why)
{
	int64_t whole = 0, frac = 0, scale = 1;
	const char *s = *p;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if (whole > DURATION_MAX_MS || (whole = whole * 10 + *s - '0') < 0)
			return bad(why, "too long");
	if (*s == '.' || *s == ',') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (scale < 1000) {
				frac = frac * 10 + *s - '0';
				scale *= 10;
			}
	}
	if (!digits)
		return bad(why, "a number is missing");
	if (frac && !(in_time && *s == 'S'))
		return bad(why, "only seconds may have a fraction");
	*p = s + 1;
	switch (in_time ? *s : *s | 0x100) {
	case 'D' | 0x100:
		return add(ms, whole, 86400000) ? 0 : bad(why, "too long");
	case 'H':
		return add(ms, whole, 3600000) ? 0 : bad(why, "too long");
	case 'M':
		return add(ms, whole, 60000) ? 0 : bad(why, "too long");
	case 'S':
		return add(ms, whole, 1000) && add(ms, frac * (1000 / scale), 1)
			       ? 0 : bad(why, "too long");
	default:
		return bad(why, "not an ISO 8601 duration of days, hours, "
			   "minutes and seconds (e.g. PT5S, P1DT2H)");
	}
}

static int iso(const char *s, int64_t *ms, const char **why)
{
	bool in_time = false, any = false;
	int rc;

	if (*s++ != 'P')
		return bad(why, "an ISO 8601 duration starts with P (e.g. PT5S)");
	while (*s) {
		if (*s == 'T' && !in_time) {
			in_time = true;
			s++;
			continue;
		}
		rc = iso_part(&s, in_time, ms, why);
		if (rc < 0)
			return rc;
		any = true;
	}
	return any ? 0 : bad(why, "an empty duration");
}

static int from_map(const struct doc *v, int64_t *ms, const char **why)
{
	static const struct {
		const char *key;
		int64_t unit;
	} units[] = {{"days", 86400000},
		     {"hours", 3600000},
		     {"minutes", 60000},
		     {"seconds", 1000},
		     {"milliseconds", 1}};
	const struct doc *n;
	size_t i, k, seen = 0;

	for (i = 0; i < v->n; i++) {
		for (k = 0; k < 5; k++)
			if (!strcmp(v->u.kv[i].key, units[k].key))
				break;
		if (k == 5)
			return bad(why, "a duration's keys are days, hours, "
				   "minutes, seconds and milliseconds");
		n = v->u.kv[i].val;
		if (n->type != DOC_INT)
			return bad(why, "a duration's values are whole numbers");
		if (!add(ms, n->i, units[k].unit))
			return bad(why, n->i < 0 ? "a negative duration"
						 : "too long");
		seen++;
	}
	return seen ? 0 : bad(why, "an empty duration");
}

int duration_ms(const struct doc *v, int64_t *ms, const char **why)
{
	*ms = 0;
	if (v && v->type == DOC_MAP)
		return from_map(v, ms, why);
	if (v && v->type == DOC_STR && v->u.s)
		return iso(v->u.s, ms, why);
	return bad(why, "a duration is an ISO 8601 text (PT5S) or a map "
		   "({seconds: 5})");
}
