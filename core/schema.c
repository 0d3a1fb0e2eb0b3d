/*
 * schema.c - the normalizer and the secret walker over message tables
 * (schema.h).
 *
 * schema_normalize() walks a parsed document and its message table side by
 * side.  For each message it first checks the keys (unknown fields, both
 * spellings of one field), then builds the output map field by field in
 * table order: the value is type-checked and converted, and then the
 * "post" checks run on the converted value in a fixed order - required,
 * length/count bounds, the field's own check() callback - so a missing
 * value always reads "required" rather than a bound.
 *
 * Field paths ("spec.tasks[2].name") are built in one fixed buffer that is
 * extended on the way down and cut back on the way up.  A path too long for
 * the buffer is kept cut: that only shortens messages, while the secret
 * walker, whose paths bind ciphertexts, refuses a cut path.
 *
 * Converted nodes keep the source position of the node they came from, so
 * a caller can find a secret value in the text the user wrote.
 *
 * A check() callback reports relative to its field: its message is either
 * plain text ("must be \"1.0.0\"", shown as "<path>: must be ...") or a
 * path continuation starting with '[' or '.' ("[2].name: duplicate ...",
 * shown as "<path>[2].name: duplicate ...").
 */
#include "schema.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPATH_MAX 1024 /* bytes of a field path, NUL included */
#define QUOTE_MAX 64   /* bytes of a user's value quoted in a message */

struct spath {
	char s[SPATH_MAX];
	size_t len;  /* bytes stored in s */
	size_t full; /* length of the whole path; > len when cut */
};

/* ---- paths ---------------------------------------------------------- */

static void spath_add(struct spath *p, const char *s, size_t n)
{
	size_t room = sizeof(p->s) - 1 - p->len;
	size_t k = n < room ? n : room;

	if (p->len == p->full) {
		memcpy(p->s + p->len, s, k);
		p->len += k;
		p->s[p->len] = '\0';
	}
	p->full += n;
}

static void spath_init(struct spath *p, const char *base)
{
	p->len = 0;
	p->full = 0;
	p->s[0] = '\0';
	if (base)
		spath_add(p, base, strlen(base));
}

/* Append ".key" (or "key" at the top); return the mark for spath_pop(). */
static size_t spath_push_key(struct spath *p, const char *key)
{
	size_t mark = p->full;

	if (p->full > 0)
		spath_add(p, ".", 1);
	spath_add(p, key, strlen(key));
	return mark;
}

static size_t spath_push_index(struct spath *p, size_t i)
{
	size_t mark = p->full;
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "[%zu]", i);

	/* A size_t always fits in tmp; the check only guards the cast. */
	if (n > 0 && (size_t)n < sizeof(tmp))
		spath_add(p, tmp, (size_t)n);
	return mark;
}

static void spath_pop(struct spath *p, size_t mark)
{
	p->full = mark;
	p->len = mark < sizeof(p->s) - 1 ? mark : sizeof(p->s) - 1;
	p->s[p->len] = '\0';
}

static bool spath_cut(const struct spath *p)
{
	return p->len < p->full;
}

/* ---- messages ------------------------------------------------------- */

/* Messages are one line: control bytes from user keys or values become '?'. */
static void err_sanitize(struct err *e)
{
	char *c;

	if (!e)
		return;
	for (c = e->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/* Record -EBADMSG with @what placed after the path (see file comment). */
static int say(struct err *e, const struct spath *p, const char *what)
{
	const char *cut = spath_cut(p) ? "..." : "";

	if (p->len == 0)
		err_set(e, -EBADMSG, "%s", what);
	else if (what[0] == '[' || what[0] == '.')
		err_set(e, -EBADMSG, "%s%s%s", p->s, cut, what);
	else
		err_set(e, -EBADMSG, "%s%s: %s", p->s, cut, what);
	err_sanitize(e);
	return -EBADMSG;
}

static int fail(struct err *e, const struct spath *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct err *e, const struct spath *p, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	/* A cut message is acceptable: err_set() cuts at the same size. */
	if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	return say(e, p, what);
}

static int nomem(struct err *e)
{
	return err_set(e, -ENOMEM, "out of memory");
}

static const char *noun(const struct doc *d)
{
	switch (d->type) {
	case DOC_NULL:
		return "null";
	case DOC_BOOL:
		return "a boolean";
	case DOC_INT:
		return "an integer";
	case DOC_FLOAT:
		return "a number";
	case DOC_STR:
		return "a string";
	case DOC_SEALED:
		return "a sealed value";
	case DOC_LIST:
		return "a list";
	case DOC_MAP:
		return "a map";
	}
	return "an unknown node";
}

/* ---- enums ---------------------------------------------------------- */

static bool prefixed_eq(const char *prefix, const char *name, const char *text)
{
	size_t pl;

	if (!prefix || !*prefix)
		return false;
	pl = strlen(prefix);
	return strncasecmp(text, prefix, pl) == 0 &&
	       strcasecmp(text + pl, name) == 0;
}

/*
 * An alias is an irregular full name ("EXECUTION_PHASE_UNSPECIFIED"); it
 * stands for the value whose short name is its longest "_<NAME>" suffix.
 */
static const struct schema_enum_value *alias_value(const struct schema_enum *en,
						   const char *alias)
{
	const struct schema_enum_value *best = NULL;
	size_t al = strlen(alias), i;

	for (i = 0; i < en->n; i++) {
		const char *nm = en->values[i].name;
		size_t nl = strlen(nm);

		if (nl + 1 > al || alias[al - nl - 1] != '_' ||
		    strcasecmp(alias + al - nl, nm) != 0)
			continue;
		if (!best || nl > strlen(best->name))
			best = &en->values[i];
	}
	return best;
}

static int enum_by_number(const struct schema_enum *en, const char *text,
			  int32_t *out)
{
	const char *c = text;
	char *end = NULL;
	long long v;

	if (*c == '-')
		c++;
	if (*c < '0' || *c > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end || v < INT32_MIN || v > INT32_MAX ||
	    !schema_enum_name(en, (int32_t)v))
		return -EBADMSG;
	*out = (int32_t)v;
	return 0;
}

int schema_enum_parse(const struct schema_enum *en, const char *text,
		      int32_t *out)
{
	const struct schema_enum_value *v;
	size_t i;

	for (i = 0; i < en->n; i++) {
		v = &en->values[i];
		if (strcasecmp(text, v->name) == 0 ||
		    prefixed_eq(en->prefix, v->name, text)) {
			*out = v->number;
			return 0;
		}
	}
	for (i = 0; en->aliases && en->aliases[i]; i++) {
		if (strcasecmp(text, en->aliases[i]) != 0)
			continue;
		v = alias_value(en, en->aliases[i]);
		if (!v)
			break;
		*out = v->number;
		return 0;
	}
	return enum_by_number(en, text, out);
}

const char *schema_enum_name(const struct schema_enum *en, int32_t number)
{
	size_t i;

	for (i = 0; i < en->n; i++)
		if (en->values[i].number == number)
			return en->values[i].name;
	return NULL;
}

/* ---- scalars -------------------------------------------------------- */

static bool is_text(const struct doc *v)
{
	return v->type == DOC_STR || v->type == DOC_INT ||
	       v->type == DOC_FLOAT || v->type == DOC_BOOL;
}

/* A number written in a string field keeps the spelling it was written
 * with ("version: 1.10" is "1.10", not "1.1"). */
static const char *text_of(const struct doc *v)
{
	if (v->raw)
		return v->raw;
	return v->u.s ? v->u.s : "";
}

static size_t text_len(const struct doc *v)
{
	return v->raw ? strlen(v->raw) : v->n;
}

static void keep_pos(struct doc *to, const struct doc *from)
{
	to->flags = from->flags;
	to->line = from->line;
	to->col = from->col;
	to->off = from->off;
	to->end = from->end;
}

/* Wrap a freshly made node: NULL means out of memory. */
static int made(struct doc *nv, const struct doc *v, struct doc **out,
		struct err *e)
{
	if (!nv)
		return nomem(e);
	keep_pos(nv, v);
	*out = nv;
	return 0;
}

static int norm_string(const struct schema_field *f, const struct doc *v,
		       const struct spath *p, struct doc **out, struct err *e)
{
	/* A value already sealed by crypt/ passes through untouched. */
	if (v->type == DOC_SEALED && (f->flags & SF_SECRET))
		return made(doc_clone(v), v, out, e);
	if (!is_text(v))
		return fail(e, p, "expected a string, got %s", noun(v));
	return made(doc_str(text_of(v), text_len(v)), v, out, e);
}

static int norm_bool(const struct doc *v, const struct spath *p,
		     struct doc **out, struct err *e)
{
	if (v->type != DOC_BOOL)
		return fail(e, p, "expected a boolean, got %s", noun(v));
	return made(doc_bool(v->i != 0), v, out, e);
}

/* A quoted decimal: protobuf JSON allows "42" for an integer. */
static bool decimal_text(const struct doc *v, int64_t *out)
{
	const char *s = text_of(v), *c = s;
	char *end = NULL;
	long long x;

	if (*c == '-')
		c++;
	if (*c < '0' || *c > '9' || strlen(s) != text_len(v))
		return false;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

static int norm_int(const struct schema_field *f, const struct doc *v,
		    const struct spath *p, struct doc **out, struct err *e)
{
	int64_t lo = f->min, hi = f->max, x;

	if (v->type == DOC_INT)
		x = v->i;
	else if (v->type != DOC_STR || !decimal_text(v, &x))
		return fail(e, p, "expected an integer, got %s", noun(v));
	if (lo == 0 && hi == 0) {
		lo = INT32_MIN;
		hi = INT32_MAX;
	}
	if (x < lo || x > hi)
		return fail(e, p,
			    "%" PRId64 " is out of range (%" PRId64 "..%" PRId64
			    ")",
			    x, lo, hi);
	return made(doc_int(x), v, out, e);
}

static int enum_unknown(const struct schema_enum *en, const struct doc *v,
			const struct spath *p, struct err *e)
{
	struct buf names = BUF_INIT(ERR_MSG_MAX);
	int qn = text_len(v) < QUOTE_MAX ? (int)text_len(v) : QUOTE_MAX;
	size_t i;
	int rc;

	/* Out of memory here only shortens the list in the message. */
	for (i = 0; i < en->n; i++)
		if (buf_addf(&names, "%s%s", i ? ", " : "",
			     en->values[i].name) < 0)
			break;
	rc = fail(e, p, "unknown value \"%.*s%s\" (expected one of %s)", qn,
		  text_of(v), (size_t)qn < text_len(v) ? "..." : "",
		  names.data ? names.data : "");
	buf_release(&names);
	return rc;
}

static int norm_enum(const struct schema_enum *en, const struct doc *v,
		     const struct spath *p, struct doc **out, struct err *e)
{
	int32_t num;

	if (v->type != DOC_STR && v->type != DOC_INT)
		return fail(e, p,
			    "expected an enum value (name or number), "
			    "got %s",
			    noun(v));
	/* Embedded NULs would make a prefix of the text match. */
	if (strlen(text_of(v)) != text_len(v) ||
	    schema_enum_parse(en, text_of(v), &num) < 0)
		return enum_unknown(en, v, p, e);
	return made(doc_strz(schema_enum_name(en, num)), v, out, e);
}

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
	       c == '_';
}

/* Standard or URL-safe alphabet, padding optional (protobuf JSON). */
static bool b64_valid(const char *s, size_t n)
{
	size_t i, data = n, pad = 0;

	while (data > 0 && s[data - 1] == '=' && pad < 2) {
		data--;
		pad++;
	}
	for (i = 0; i < data; i++)
		if (!b64_char((unsigned char)s[i]))
			return false;
	if (pad && n % 4 != 0)
		return false;
	return data % 4 != 1;
}

static int norm_bytes(const struct doc *v, const struct spath *p,
		      struct doc **out, struct err *e)
{
	if (v->type != DOC_STR || !b64_valid(text_of(v), v->n))
		return fail(e, p, "expected base64 text, got %s", noun(v));
	return made(doc_str(text_of(v), text_len(v)), v, out, e);
}

static int norm_msg(const struct schema_msg *m, const struct doc *in,
		    struct spath *p, struct doc **out, struct err *e);

/* One value of the field's type (an item, for repeated and map fields). */
static int norm_value(const struct schema_field *f, const struct doc *v,
		      struct spath *p, struct doc **out, struct err *e)
{
	switch (f->type) {
	case ST_STRING:
		return norm_string(f, v, p, out, e);
	case ST_BOOL:
		return norm_bool(v, p, out, e);
	case ST_INT:
		return norm_int(f, v, p, out, e);
	case ST_ENUM:
		return norm_enum(f->en, v, p, out, e);
	case ST_MESSAGE:
		return norm_msg(f->msg, v, p, out, e);
	case ST_STRUCT:
		if (v->type != DOC_MAP)
			return fail(e, p, "expected a map, got %s", noun(v));
		return made(doc_clone(v), v, out, e);
	case ST_VALUE:
		return made(doc_clone(v), v, out, e);
	case ST_BYTES:
		return norm_bytes(v, p, out, e);
	}
	return fail(e, p, "unsupported field type");
}

/* ---- containers ----------------------------------------------------- */

static int norm_list(const struct schema_field *f, const struct doc *v,
		     struct spath *p, struct doc **out, struct err *e)
{
	struct doc *l = NULL, *item = NULL;
	size_t i, mark;
	int rc;

	if (v->type != DOC_LIST)
		return fail(e, p, "expected a list, got %s", noun(v));
	l = doc_new(DOC_LIST);
	if (!l)
		return nomem(e);
	keep_pos(l, v);
	for (i = 0; i < v->n; i++) {
		mark = spath_push_index(p, i);
		rc = norm_value(f, v->u.items[i], p, &item, e);
		spath_pop(p, mark);
		if (rc < 0)
			goto fail;
		rc = doc_list_add(l, item);
		if (rc < 0) {
			rc = nomem(e);
			goto fail;
		}
	}
	*out = l;
	return 0;
fail:
	doc_free(l);
	return rc;
}

/*
 * Keys of the input are unique, so the output starts as a copy of the
 * input map and each value is replaced by its normalized form: appending
 * with doc_map_set() would search the map on every key (quadratic).
 */
static int norm_map(const struct schema_field *f, const struct doc *v,
		    struct spath *p, struct doc **out, struct err *e)
{
	struct doc *m = NULL, *val = NULL;
	size_t i, mark;
	int rc;

	if (v->type != DOC_MAP)
		return fail(e, p, "expected a map, got %s", noun(v));
	m = doc_clone(v);
	if (!m)
		return nomem(e);
	for (i = 0; i < v->n; i++) {
		mark = spath_push_key(p, v->u.kv[i].key);
		rc = norm_value(f, v->u.kv[i].val, p, &val, e);
		spath_pop(p, mark);
		if (rc < 0) {
			doc_free(m);
			return rc;
		}
		doc_free(m->u.kv[i].val);
		m->u.kv[i].val = val;
	}
	*out = m;
	return 0;
}

/* ---- post checks ---------------------------------------------------- */

size_t schema_utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static bool zero_enum(const struct schema_enum *en, const struct doc *nv)
{
	const char *zero = schema_enum_name(en, 0);

	return zero && strcmp(text_of(nv), zero) == 0;
}

static bool is_empty(const struct schema_field *f, const struct doc *nv)
{
	if (f->flags & (SF_REPEATED | SF_MAP))
		return nv->n == 0;
	switch (f->type) {
	case ST_STRING:
	case ST_BYTES:
		return nv->type == DOC_STR && nv->n == 0;
	case ST_ENUM:
		return zero_enum(f->en, nv);
	case ST_INT:
	case ST_BOOL:
		return nv->i == 0;
	default:
		return false;
	}
}

static int check_count(const struct schema_field *f, const struct doc *nv,
		       const struct spath *p, struct err *e)
{
	const char *what = (f->flags & SF_MAP) ? "entries" : "items";

	if (f->min > 0 && nv->n < (uint64_t)f->min)
		return fail(e, p, "too few %s (at least %" PRId64 ")", what,
			    f->min);
	if (f->max > 0 && nv->n > (uint64_t)f->max)
		return fail(e, p, "too many %s (at most %" PRId64 ")", what,
			    f->max);
	return 0;
}

static int check_length(const struct schema_field *f, const struct doc *nv,
			const struct spath *p, struct err *e)
{
	size_t len;

	if (f->type != ST_STRING || nv->type != DOC_STR)
		return 0;
	len = schema_utf8_chars(text_of(nv), nv->n);
	if (f->min == 1 && len == 0)
		return fail(e, p, "must not be empty");
	if (f->min > 0 && len < (uint64_t)f->min)
		return fail(e, p, "shorter than %" PRId64 " characters",
			    f->min);
	if (f->max > 0 && len > (uint64_t)f->max)
		return fail(e, p, "longer than %" PRId64 " characters", f->max);
	return 0;
}

static int run_check(const struct schema_field *f, const struct doc *nv,
		     const struct spath *p, struct err *e)
{
	char what[ERR_MSG_MAX];
	struct err local = {0, ""};
	int rc;

	rc = f->check(nv, &local);
	if (rc >= 0)
		return 0;
	if (rc != -EBADMSG)
		return err_set(e, rc, "%s", local.msg);
	memcpy(what, local.msg, sizeof(what));
	return say(e, p, what);
}

static int post_checks(const struct schema_field *f, const struct doc *nv,
		       const struct spath *p, struct err *e)
{
	int rc;

	if ((f->flags & SF_REQUIRED) && is_empty(f, nv))
		return fail(e, p, "required");
	if (f->flags & (SF_REPEATED | SF_MAP))
		rc = check_count(f, nv, p, e);
	else
		rc = check_length(f, nv, p, e);
	if (rc < 0 || !f->check)
		return rc;
	return run_check(f, nv, p, e);
}

/* ---- messages ------------------------------------------------------- */

static const struct schema_field *find_field(const struct schema_msg *m,
					     const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(key, m->fields[i].json) == 0 ||
		    (m->fields[i].proto &&
		     strcmp(key, m->fields[i].proto) == 0))
			return &m->fields[i];
	return NULL;
}

/* Whether @m holds a secret value: then a key we do not know may be the
 * secret itself ("{s3cret, isSecret: true}" reads as a key "s3cret"). */
static bool holds_secret(const struct schema_msg *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->fields[i].flags & SF_SECRET)
			return true;
	return false;
}

/* "unknown field" without echoing the key, which may be a secret. */
static int unknown_secret_key(const struct schema_msg *m, struct spath *p,
			      struct err *e)
{
	struct buf names = BUF_INIT(256);
	size_t i;
	int rc;

	for (i = 0; i < m->n; i++)
		if (buf_addf(&names, "%s%s", i ? ", " : "",
			     m->fields[i].json) < 0)
			break;
	rc = fail(e, p, "unknown field (its name is not shown: it may be a "
		  "secret value; the fields are %s)",
		  names.data ? names.data : "");
	buf_release(&names);
	return rc;
}

static int check_keys(const struct schema_msg *m, const struct doc *in,
		      struct spath *p, struct err *e)
{
	const struct schema_field *f;
	const struct doc *other;
	const char *key;
	size_t i, mark;
	int rc;

	for (i = 0; i < in->n; i++) {
		key = in->u.kv[i].key;
		f = find_field(m, key);
		if (!f && holds_secret(m))
			return unknown_secret_key(m, p, e);
		if (!f) {
			mark = spath_push_key(p, key);
			rc = fail(e, p, "unknown field");
			spath_pop(p, mark);
			return rc;
		}
		/* An explicit null is "absent", so it never doubles a field. */
		other = doc_map_get(in, f->json);
		if (f->proto && strcmp(f->json, f->proto) != 0 &&
		    strcmp(key, f->proto) == 0 && other &&
		    other->type != DOC_NULL &&
		    in->u.kv[i].val->type != DOC_NULL)
			return fail(e, p, "field given twice (%s and %s)",
				    f->json, f->proto);
	}
	return 0;
}

/* The input value of @f: either spelling; an explicit null is absent. */
static const struct doc *field_input(const struct schema_field *f,
				     const struct doc *in)
{
	const struct doc *v = doc_map_get(in, f->json);

	if ((!v || v->type == DOC_NULL) && f->proto)
		v = doc_map_get(in, f->proto);
	return v && v->type != DOC_NULL ? v : NULL;
}

static int norm_field(const struct schema_field *f, const struct doc *in,
		      struct spath *p, struct doc *out, struct err *e)
{
	const struct doc *v = field_input(f, in);
	struct doc *nv = NULL;
	int rc;

	if (f->flags & SF_OUTPUT)
		return 0;
	if (!v)
		return (f->flags & SF_REQUIRED) ? fail(e, p, "required") : 0;
	if (f->flags & SF_REPEATED)
		rc = norm_list(f, v, p, &nv, e);
	else if (f->flags & SF_MAP)
		rc = norm_map(f, v, p, &nv, e);
	else
		rc = norm_value(f, v, p, &nv, e);
	if (rc < 0)
		return rc;
	rc = post_checks(f, nv, p, e);
	if (rc < 0) {
		doc_free(nv);
		return rc;
	}
	if (doc_map_set(out, f->json, nv) < 0)
		return nomem(e);
	return 0;
}

static int norm_msg(const struct schema_msg *m, const struct doc *in,
		    struct spath *p, struct doc **out, struct err *e)
{
	struct doc *o = NULL;
	size_t i, mark;
	int rc;

	if (in->type != DOC_MAP)
		return fail(e, p, "expected a map, got %s", noun(in));
	rc = check_keys(m, in, p, e);
	if (rc < 0)
		return rc;
	o = doc_new(DOC_MAP);
	if (!o)
		return nomem(e);
	keep_pos(o, in);
	for (i = 0; i < m->n; i++) {
		mark = spath_push_key(p, m->fields[i].json);
		rc = norm_field(&m->fields[i], in, p, o, e);
		spath_pop(p, mark);
		if (rc < 0) {
			doc_free(o);
			return rc;
		}
	}
	*out = o;
	return 0;
}

int schema_normalize(const struct schema_msg *m, const struct doc *in,
		     const char *path, struct doc **out, struct err *e)
{
	struct spath p;

	spath_init(&p, path);
	if (!in)
		return fail(e, &p, "expected a map, got nothing");
	return norm_msg(m, in, &p, out, e);
}

/* ---- secrets -------------------------------------------------------- */

struct walk {
	int (*fn)(void *ctx, const char *path, struct doc *node);
	void *ctx;
	struct spath p;
};

static int walk_msg(const struct schema_msg *m, struct doc *d, struct walk *w);

static bool marked_secret(const struct doc *msg)
{
	const struct doc *s = doc_map_get(msg, "isSecret");

	return s && s->type == DOC_BOOL && s->i != 0;
}

static int walk_visit(struct walk *w, struct doc *node)
{
	if (spath_cut(&w->p))
		return -ENAMETOOLONG;
	return w->fn(w->ctx, w->p.s, node);
}

/* Walk the message(s) held by field @f (singular, list or map). */
static int walk_field(const struct schema_field *f, struct doc *v,
		      struct walk *w)
{
	size_t i, mark;
	int rc = 0;

	if (f->flags & SF_REPEATED) {
		if (v->type != DOC_LIST)
			return 0;
		for (i = 0; i < v->n && rc == 0; i++) {
			mark = spath_push_index(&w->p, i);
			rc = walk_msg(f->msg, v->u.items[i], w);
			spath_pop(&w->p, mark);
		}
		return rc;
	}
	if (f->flags & SF_MAP) {
		if (v->type != DOC_MAP)
			return 0;
		for (i = 0; i < v->n && rc == 0; i++) {
			mark = spath_push_key(&w->p, v->u.kv[i].key);
			rc = walk_msg(f->msg, v->u.kv[i].val, w);
			spath_pop(&w->p, mark);
		}
		return rc;
	}
	return walk_msg(f->msg, v, w);
}

static int walk_msg(const struct schema_msg *m, struct doc *d, struct walk *w)
{
	const struct schema_field *f;
	struct doc *v;
	size_t i, mark;
	int rc = 0;

	if (!d || d->type != DOC_MAP)
		return 0;
	for (i = 0; i < m->n && rc == 0; i++) {
		f = &m->fields[i];
		v = doc_map_get(d, f->json);
		if (!v)
			continue;
		if ((f->flags & SF_SECRET) && !marked_secret(d))
			continue;
		if (!(f->flags & SF_SECRET) && f->type != ST_MESSAGE)
			continue;
		mark = spath_push_key(&w->p, f->json);
		if (f->flags & SF_SECRET)
			rc = walk_visit(w, v);
		else
			rc = walk_field(f, v, w);
		spath_pop(&w->p, mark);
	}
	return rc;
}

int schema_for_each_secret(
    const struct schema_msg *m, struct doc *d, const char *path,
    int (*fn)(void *ctx, const char *path, struct doc *node), void *ctx)
{
	struct walk w;

	w.fn = fn;
	w.ctx = ctx;
	spath_init(&w.p, path);
	return walk_msg(m, d, &w);
}
