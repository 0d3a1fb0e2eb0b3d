/*
 * steps_try.c - ValidateWorkflowSpec for a TRY's config: the try list,
 * and the catch with its error filter, conditions, retry policy and
 * handler list.  The catch variable (catch.as, default "error") is in
 * scope in catch.when, catch.exceptWhen, the retry's when and exceptWhen
 * and catch.do; the filter holds plain values, never expressions.
 */
#include "steps_i.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

#define RETRY_COUNT_MAX 1000	/* limit.attempt.count */

/* A duration at @field (ISO 8601 text or a map of whole units). */
static int duration(struct tcheck *t, const char *field, const struct doc *v,
		    int64_t *ms)
{
	static const char *const units[] = { "days", "hours", "minutes",
					     "seconds", "milliseconds", NULL };
	const char *why = NULL;
	int rc = 0;

	if (v->type == DOC_MAP)
		rc = tcheck_known(t, v, field, units);
	if (rc == 0 && duration_ms(v, ms, &why) < 0)
		return tcheck_fail(t, field, "%s", why);
	return rc;
}

/* An optional duration at @field of @m, key @key. */
static int opt_duration(struct tcheck *t, const struct doc *m,
			const char *key, const char *field)
{
	const struct doc *v = doc_map_get(m, key);
	int64_t ms;

	return v ? duration(t, field, v, &ms) : 0;
}

/* Whether @m is a map; else the refusal, at @field. */
static int need_map(struct tcheck *t, const struct doc *m, const char *field)
{
	return m->type == DOC_MAP ? 0 : tcheck_fail(t, field, "must be a map");
}

/* ---- catch.errors --------------------------------------------------- */

/* errors.with: each given field equal to the error's. */
static int filter_with(struct tcheck *t, const struct doc *w)
{
	static const char *const keys[] = { "type", "status", "instance",
					    "title", "detail", "details", NULL };
	const char *const base = "catch.errors.with";
	char field[FIELD_MAX];
	const struct doc *v;
	size_t i;
	int rc = need_map(t, w, base);

	if (rc == 0)
		rc = tcheck_known(t, w, base, keys);
	if (rc == 0 && doc_map_get(w, "detail") && doc_map_get(w, "details"))
		return tcheck_fail(t, "catch.errors.with.details", "given with "
				   "detail (the same field: give one)");
	for (i = 0; rc == 0 && i < w->n; i++) {
		snprintf(field, sizeof(field), "%s.%s", base, w->u.kv[i].key);
		v = w->u.kv[i].val;
		if (!strcmp(w->u.kv[i].key, "status"))
			rc = tcheck_status(t, field, v);
		else if (!tcheck_is_text(v))
			rc = tcheck_fail(t, field, "must be a non-empty string");
	}
	return rc;
}

static int catch_errors(struct tcheck *t, const struct doc *errs)
{
	static const char *const keys[] = { "with", NULL };
	const struct doc *w;
	int rc;

	if (!errs)
		return 0;
	rc = need_map(t, errs, "catch.errors");
	if (rc == 0)
		rc = tcheck_known(t, errs, "catch.errors", keys);
	w = doc_map_get(errs, "with");
	return rc == 0 && w ? filter_with(t, w) : rc;
}

/* ---- catch.retry ---------------------------------------------------- */

/* backoff: exactly one of constant, linear, exponential, an empty map. */
static int retry_backoff(struct tcheck *t, const struct doc *b)
{
	static const char *const keys[] = { "constant", "linear",
					    "exponential", NULL };
	char field[FIELD_MAX];
	const struct doc *v;
	int rc = need_map(t, b, "catch.retry.backoff");

	if (rc == 0)
		rc = tcheck_known(t, b, "catch.retry.backoff", keys);
	if (rc == 0 && b->n != 1)
		return tcheck_fail(t, "catch.retry.backoff", "needs exactly one "
				   "of constant, linear or exponential");
	if (rc)
		return rc;
	v = b->u.kv[0].val;
	snprintf(field, sizeof(field), "catch.retry.backoff.%s",
		 b->u.kv[0].key);
	return v->type == DOC_MAP && v->n == 0 ? 0 :
	       tcheck_fail(t, field, "must be an empty map ({})");
}

/* limit.attempt: count (retries after the first attempt), duration. */
static int limit_attempt(struct tcheck *t, const struct doc *a)
{
	static const char *const keys[] = { "count", "duration", NULL };
	const struct doc *n = doc_map_get(a, "count");
	int rc = need_map(t, a, "catch.retry.limit.attempt");

	if (rc == 0)
		rc = tcheck_known(t, a, "catch.retry.limit.attempt", keys);
	if (rc == 0 && n &&
	    (n->type != DOC_INT || n->i < 1 || n->i > RETRY_COUNT_MAX))
		return tcheck_fail(t, "catch.retry.limit.attempt.count", "must "
				   "be a whole number, 1 to %d",
				   RETRY_COUNT_MAX);
	return rc ? rc : opt_duration(t, a, "duration",
				      "catch.retry.limit.attempt.duration");
}

/* limit: a retry policy needs attempt.count or duration, its bound. */
static int retry_limit(struct tcheck *t, const struct doc *l)
{
	static const char *const keys[] = { "attempt", "duration", NULL };
	const struct doc *a;
	int rc = l ? need_map(t, l, "catch.retry.limit") : 0;

	if (rc == 0 && l)
		rc = tcheck_known(t, l, "catch.retry.limit", keys);
	a = l ? doc_map_get(l, "attempt") : NULL;
	if (rc == 0 && a)
		rc = limit_attempt(t, a);
	if (rc == 0 && l)
		rc = opt_duration(t, l, "duration",
				  "catch.retry.limit.duration");
	if (rc == 0 && (!l || (!doc_get(l, "attempt.count") &&
			       !doc_map_get(l, "duration"))))
		return tcheck_fail(t, "catch.retry.limit", "required "
				   "(attempt.count or duration: how far to "
				   "retry)");
	return rc;
}

/* jitter: from and to, both durations, from not past to. */
static int retry_jitter(struct tcheck *t, const struct doc *j)
{
	static const char *const keys[] = { "from", "to", NULL };
	const struct doc *from, *to;
	int64_t a = 0, b = 0;
	int rc = need_map(t, j, "catch.retry.jitter");

	if (rc == 0)
		rc = tcheck_known(t, j, "catch.retry.jitter", keys);
	if (rc)
		return rc;
	from = doc_map_get(j, "from");
	to = doc_map_get(j, "to");
	if (!from || !to)
		return tcheck_fail(t, from ? "catch.retry.jitter.to" :
				   "catch.retry.jitter.from", "required (a "
				   "duration)");
	rc = duration(t, "catch.retry.jitter.from", from, &a);
	if (rc == 0)
		rc = duration(t, "catch.retry.jitter.to", to, &b);
	if (rc == 0 && a > b)
		return tcheck_fail(t, "catch.retry.jitter.to", "must not be "
				   "shorter than from");
	return rc;
}

static int catch_retry(struct tcheck *t, const struct doc *r)
{
	static const char *const keys[] = { "when", "exceptWhen", "delay",
					    "backoff", "limit", "jitter",
					    NULL };
	const struct doc *b = doc_map_get(r, "backoff");
	const struct doc *j = doc_map_get(r, "jitter");
	int rc = 0;

	if (r->type != DOC_MAP)
		return tcheck_fail(t, "catch.retry", "must be a map (named "
				   "retry policies are not supported)");
	rc = tcheck_known(t, r, "catch.retry", keys);
	if (rc == 0)
		rc = tcheck_opt_str(t, "catch.retry.when",
				    doc_map_get(r, "when"));
	if (rc == 0)
		rc = tcheck_opt_str(t, "catch.retry.exceptWhen",
				    tcheck_get(r, "exceptWhen"));
	if (rc == 0)
		rc = opt_duration(t, r, "delay", "catch.retry.delay");
	if (rc == 0 && b)
		rc = retry_backoff(t, b);
	if (rc == 0)
		rc = retry_limit(t, doc_map_get(r, "limit"));
	return rc == 0 && j ? retry_jitter(t, j) : rc;
}

/* ---- TRY ------------------------------------------------------------ */

/* What the catch variable sees: its conditions, retry and handler. */
static int catch_scoped(struct tcheck *t, struct doc *katch)
{
	const struct doc *r = doc_map_get(katch, "retry");
	struct doc *handler = doc_map_get(katch, "do");
	int rc;

	rc = tcheck_opt_str(t, "catch.when", doc_map_get(katch, "when"));
	if (rc == 0)
		rc = tcheck_opt_str(t, "catch.exceptWhen",
				    tcheck_get(katch, "exceptWhen"));
	if (rc == 0 && r)
		rc = catch_retry(t, r);
	if (rc == 0 && handler)
		rc = tcheck_list(t, handler, "catch.do", 1);
	return rc;
}

static int try_catch(struct tcheck *t, struct doc *katch)
{
	static const char *const keys[] = { "as", "do", "errors", "when",
					    "exceptWhen", "retry", NULL };
	const char *as = NULL;
	size_t mark;
	int rc = need_map(t, katch, "catch");

	if (rc == 0)
		rc = tcheck_known(t, katch, "catch", keys);
	if (rc == 0)
		rc = tcheck_var(t, katch, "as", "catch.as", "error", &as);
	if (rc == 0)
		rc = catch_errors(t, doc_map_get(katch, "errors"));
	if (rc)
		return rc;
	rc = tcheck_push(t, as, NULL, &mark);
	if (rc == 0)
		rc = catch_scoped(t, katch);
	texpr_pop(t->x, mark);
	return rc;
}

/* TRY: without a catch errors go on up, as in Stigmer. */
int tcheck_try(struct tcheck *t, struct doc *cfg)
{
	struct doc *katch = doc_map_get(cfg, "catch");
	int rc = tcheck_list(t, doc_map_get(cfg, "try"), "try", 1);

	return rc == 0 && katch ? try_catch(t, katch) : rc;
}
