/*
 * expr_jv.c - documents to jq values and back, and JSON text.  See expr.h
 * and expr_i.h.
 *
 * Both directions keep the store's depth limit (DOC_DEPTH_MAX
 * containers); values coming out of jq also spend a byte budget
 * (EXPR_OUT_MAX).  None of this runs a user program, so it is used in the
 * daemon (JSON, results coming back) as well as in the evaluator.
 *
 * jv reference counting: every jv_* call consumes its arguments except
 * jv_copy's; each helper says whether it borrows or takes a jv.
 */
#include "expr_i.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- documents to jq values -------------------------------------------- */

/* A float's text as a double; YAML's spellings of nan and inf too. */
double expr_float_value(const char *s)
{
	const char *u = s + (*s == '-' || *s == '+');

	if (u[0] == '.' && (u[1] | 0x20) == 'n')
		return NAN;
	if (u[0] == '.' && (u[1] | 0x20) == 'i')
		return *s == '-' ? -INFINITY : INFINITY;
	return strtod(s, NULL);
}


/* The items of list @d as a jv array.  Return: as expr_to_jv(). */
static int list_to_jv(const struct doc *d, int depth, jv *out)
{
	jv a = jv_array(), item;
	size_t k;
	int rc;

	for (k = 0; k < d->n; k++) {
		rc = expr_to_jv(d->u.items[k], depth + 1, &item);
		if (rc < 0) {
			jv_free(a);
			return rc;
		}
		a = jv_array_append(a, item);
	}
	*out = a;
	return 0;
}

/* The pairs of map @d as a jv object, in order.  Return: as expr_to_jv(). */
static int map_to_jv(const struct doc *d, int depth, jv *out)
{
	jv o = jv_object(), val;
	size_t k;
	int rc;

	for (k = 0; k < d->n; k++) {
		rc = expr_to_jv(d->u.kv[k].val, depth + 1, &val);
		if (rc < 0) {
			jv_free(o);
			return rc;
		}
		o = jv_object_set(o, jv_string(d->u.kv[k].key), val);
	}
	*out = o;
	return 0;
}

/*
 * @d as a new jv (*out, the caller frees it).  A sealed value is the mask
 * "***": jq never sees a secret's ciphertext.
 * Return: 0; -EFBIG (deeper than DOC_DEPTH_MAX, or a string past INT_MAX);
 * -EINVAL (a NULL node).
 */
int expr_to_jv(const struct doc *d, int depth, jv *out)
{
	if (!d)
		return -EINVAL;
	switch (d->type) {
	case DOC_NULL:
		return *out = jv_null(), 0;
	case DOC_BOOL:
		return *out = jv_bool(d->i != 0), 0;
	case DOC_INT:
		return *out = jv_number((double)d->i), 0;
	case DOC_FLOAT:
		return *out = jv_number(expr_float_value(d->u.s)), 0;
	case DOC_STR:
		if (d->n > INT_MAX)
			return -EFBIG;
		return *out = jv_string_sized(d->u.s, (int)d->n), 0;
	case DOC_SEALED:
		return *out = jv_string("***"), 0;
	default:
		break;
	}
	if (depth >= DOC_DEPTH_MAX)
		return -EFBIG;
	return d->type == DOC_LIST ? list_to_jv(d, depth, out)
				   : map_to_jv(d, depth, out);
}

/* ---- jq values to documents -------------------------------------------- */

/* The byte length of string @s (borrowed). */
size_t expr_str_len(jv s)
{
	return (size_t)jv_string_length_bytes(jv_copy(s));
}

/* Take @cost bytes from the budget *left.  Return: 0 or -EFBIG. */
static int spend(size_t *left, size_t cost)
{
	if (cost > *left)
		return -EFBIG;
	*left -= cost;
	return 0;
}

/*
 * A number as a doc: whole and within int64 an int, else a float with the
 * fewest digits that read back the same; nan and infinities are null
 * (JSON has no spelling for them).
 */
static struct doc *number_doc(double x)
{
	char tmp[40];
	int prec;

	if (isnan(x) || isinf(x))
		return doc_new(DOC_NULL);
	if (x == trunc(x) && fabs(x) < 9223372036854775808.0)
		return doc_int((int64_t)x);
	for (prec = 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, x);
		if (strtod(tmp, NULL) == x)
			break;
	}
	/* 40 bytes hold any %.17g. */
	snprintf(tmp, sizeof(tmp), "%.*g", prec, x);
	return doc_float_text(tmp);
}

/*
 * Append @key -> @val (taken, even on failure) to map @m without looking
 * for @key: jq's keys and a doc map's are unique, and doc_map_set()'s
 * search makes big objects quadratic (100k keys: 28 s).
 */
int expr_map_append(struct doc *m, const char *key, struct doc *val)
{
	char *k = strdup(key);

	if (!k ||
	    array_reserve(&m->u.kv, &m->alloc, m->n, sizeof(*m->u.kv)) < 0) {
		free(k);
		doc_free(val);
		return -ENOMEM;
	}
	m->u.kv[m->n].key = k;
	m->u.kv[m->n++].val = val;
	return 0;
}


/* Array @v (borrowed) as a list.  Return: as expr_from_jv(). */
static int array_doc(jv v, int depth, size_t *left, struct doc **out)
{
	struct doc *l = doc_new(DOC_LIST), *item = NULL;
	int k, len = jv_array_length(jv_copy(v)), rc = l ? 0 : -ENOMEM;

	for (k = 0; k < len && !rc; k++) {
		jv e = jv_array_get(jv_copy(v), k);

		rc = expr_from_jv(e, depth + 1, left, &item);
		jv_free(e);
		if (!rc)
			rc = doc_list_add(l, item);
	}
	if (rc < 0)
		doc_free(l);
	else
		*out = l;
	return rc;
}

/* Object @v (borrowed) as a map, in jq's (insertion) order. */
static int object_doc(jv v, int depth, size_t *left, struct doc **out)
{
	struct doc *m = doc_new(DOC_MAP), *val = NULL;
	int it = jv_object_iter(v), rc = m ? 0 : -ENOMEM;

	for (; !rc && jv_object_iter_valid(v, it);
	     it = jv_object_iter_next(v, it)) {
		jv key = jv_object_iter_key(v, it);
		jv e = jv_object_iter_value(v, it);

		rc = spend(left, expr_str_len(key));
		/* A doc key ends at its NUL: two keys could become one. */
		if (!rc && strlen(jv_string_value(key)) != expr_str_len(key))
			rc = -EINVAL;
		if (!rc)
			rc = expr_from_jv(e, depth + 1, left, &val);
		if (!rc)
			rc = expr_map_append(m, jv_string_value(key), val);
		jv_free(key);
		jv_free(e);
	}
	if (rc < 0)
		doc_free(m);
	else
		*out = m;
	return rc;
}

/*
 * @v (borrowed) as a new doc.  Every node costs its text's bytes (and one)
 * from *left.  Return: 0 and *out; -EFBIG (too deep or over budget);
 * -ENOMEM; -EINVAL (an invalid jv).
 */
int expr_from_jv(jv v, int depth, size_t *left, struct doc **out)
{
	int rc = spend(left, 1);
	struct doc *d = NULL;

	switch (rc ? JV_KIND_INVALID : jv_get_kind(v)) {
	case JV_KIND_NULL:
		d = doc_new(DOC_NULL);
		break;
	case JV_KIND_FALSE:
	case JV_KIND_TRUE:
		d = doc_bool(jv_get_kind(v) == JV_KIND_TRUE);
		break;
	case JV_KIND_NUMBER:
		d = number_doc(jv_number_value(v));
		rc = d ? spend(left, d->n) : 0;
		break;
	case JV_KIND_STRING:
		rc = spend(left, expr_str_len(v));
		d = rc ? NULL : doc_str(jv_string_value(v), expr_str_len(v));
		break;
	case JV_KIND_ARRAY:
	case JV_KIND_OBJECT:
		if (depth >= DOC_DEPTH_MAX)
			return -EFBIG;
		return jv_get_kind(v) == JV_KIND_ARRAY
			   ? array_doc(v, depth, left, out)
			   : object_doc(v, depth, left, out);
	default:
		return rc ? rc : -EINVAL;
	}
	if (rc < 0 || !d) {
		doc_free(d);
		return rc < 0 ? rc : -ENOMEM;
	}
	*out = d;
	return 0;
}

/*
 * Whether @v (borrowed) is within the limits of expr_from_jv(), a number
 * counting as its longest text: checked before jv_dump_string(), whose
 * recursion knows no depth limit.  Return: 0; -EFBIG.
 */
int expr_jv_fits(jv v, int depth, size_t *left)
{
	jv_kind kind = jv_get_kind(v);
	int k, len, rc = spend(left, kind == JV_KIND_NUMBER ? 24 : 1);

	if (!rc && kind == JV_KIND_STRING)
		rc = spend(left, expr_str_len(v));
	if (rc || (kind != JV_KIND_ARRAY && kind != JV_KIND_OBJECT))
		return rc;
	if (depth >= DOC_DEPTH_MAX)
		return -EFBIG;
	len = kind == JV_KIND_ARRAY ? jv_array_length(jv_copy(v)) : 0;
	for (k = 0; k < len && !rc; k++) {
		jv e = jv_array_get(jv_copy(v), k);

		rc = expr_jv_fits(e, depth + 1, left);
		jv_free(e);
	}
	if (kind == JV_KIND_ARRAY)
		return rc;
	for (k = jv_object_iter(v); !rc && jv_object_iter_valid(v, k);
	     k = jv_object_iter_next(v, k)) {
		jv key = jv_object_iter_key(v, k);
		jv e = jv_object_iter_value(v, k);

		rc = spend(left, expr_str_len(key));
		if (!rc)
			rc = expr_jv_fits(e, depth + 1, left);
		jv_free(key);
		jv_free(e);
	}
	return rc;
}

/* ---- JSON -------------------------------------------------------------- */

int expr_json_parse(const char *text, size_t n, struct doc **out)
{
	size_t left = EXPR_OUT_MAX;
	jv v;
	int rc;

	if (n > INT_MAX)
		return -EFBIG;
	/* jq 1.6 reports "Unexpected extra JSON values" and an empty text
	   as invalid values, so one test covers "not exactly one". */
	v = jv_parse_sized(text ? text : "", (int)n);
	rc = jv_is_valid(v) ? expr_from_jv(v, 0, &left, out) : -EINVAL;
	jv_free(v);
	return rc;
}

int expr_json_dump(const struct doc *d, struct buf *out)
{
	jv v;
	int rc = expr_to_jv(d, 0, &v);

	if (rc < 0)
		return rc == -EINVAL ? -EINVAL : -EFBIG;
	v = jv_dump_string(v, 0);
	rc = buf_add(out, jv_string_value(v), expr_str_len(v));
	jv_free(v);
	return rc;
}
