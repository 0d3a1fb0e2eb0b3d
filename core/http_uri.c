/*
 * http_uri.c - the text an HTTP_CALL builds before anything is sent: its
 * URI, from the endpoint's URI template (RFC 6570 simple string
 * expansion, the level the Serverless Workflow DSL allows) and the query
 * map, and the forms a response body takes in a task's output (base64,
 * the UTF-8 check, whether a Content-Type is JSON).  Nothing here does
 * I/O or knows libcurl; every function is pure and bounded by the
 * caller's buffer.
 *
 * The endpoint may mix URI template braces with runtime expressions
 * (`${ ... }`); expansion copies each expression whole, so its own
 * braces (jq objects, string interpolations) are never read as a
 * template, and the expressions are evaluated after it.  Expanded values
 * are percent-encoded: "$", "{" and "}" become %24, %7B, %7D, so a value
 * from the input can never form an expression of its own.
 */
#include "http.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define SCAN_NEST_MAX 64	/* brackets open at once inside `${ }` */

/* ---- percent-encoding ---- */

/* RFC 3986 unreserved characters: the only ones kept as they are. */
static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int http_pct_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		rc = unreserved(c) ? buf_addc(out, (char)c) :
				     buf_add(out, esc, 3);
	}
	return rc;
}

/* ---- skipping runtime expressions ---- */

/* Whether @c closes the bracket @open ('I' is a string's `\(`). */
static bool closes(char open, char c)
{
	return (c == ')' && (open == '(' || open == 'I')) ||
	       (c == ']' && open == '[') || (c == '}' && open == '{');
}

/*
 * The index just past the `}` that closes the expression whose text
 * starts at @i (after "${"), read as expr.c reads it: jq string literals
 * with their `\( )` interpolations, `#` comments, the three bracket pairs.
 * Return: that index; @n when the expression does not end (the evaluator
 * reports it).
 */
static size_t expr_end(const char *s, size_t n, size_t i)
{
	char stack[SCAN_NEST_MAX];
	size_t top = 0;

	for (; i < n && top < SCAN_NEST_MAX - 1; i++) {
		char c = s[i];

		if (top && stack[top - 1] == '"') {
			if (c == '"')
				top--;
			else if (c == '\\' && i + 1 < n && s[i + 1] == '(')
				stack[top++] = 'I', i++;
			else if (c == '\\')
				i++;
		} else if (c == '#') {
			while (i + 1 < n && s[i + 1] != '\n')
				i++;
		} else if (c == '"' || c == '(' || c == '[' || c == '{') {
			stack[top++] = c;
		} else if (c == '}' && !top) {
			return i + 1;
		} else if (c == ')' || c == ']' || c == '}') {
			if (!top || !closes(stack[top - 1], c))
				return n;
			top--;
		}
	}
	return n;
}

/* ---- URI templates ---- */

/* RFC 6570 varname characters (pct-encoded triplets pass as '%' and two
 * more varchars; a name is looked up as written). */
static bool varchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '%';
}

/* The length of a simple expression's body at @s ("a" or "a,b"), up to
 * its '}'; 0 when it is not one (an operator, a modifier, a blank). */
static size_t template_len(const char *s, size_t n)
{
	size_t i;
	bool name = false;

	for (i = 0; i < n && s[i] != '}'; i++) {
		if (s[i] == ',' && name)
			name = false;
		else if (varchar((unsigned char)s[i]))
			name = true;
		else
			return 0;
	}
	return i < n && name ? i : 0;
}

/* The value of variable @name (@len bytes) of @vars, as text; *undef when
 * it has none (missing, or null).  Return: 0; -EINVAL (a map, a list). */
static int var_text(const struct doc *vars, const char *name, size_t len,
		    const struct doc **v, struct err *e)
{
	size_t i;

	*v = NULL;
	for (i = 0; vars && vars->type == DOC_MAP && i < vars->n; i++)
		if (strlen(vars->u.kv[i].key) == len &&
		    !memcmp(vars->u.kv[i].key, name, len))
			*v = vars->u.kv[i].val;
	if (*v && (*v)->type == DOC_NULL)
		*v = NULL;
	if (*v && !doc_is_scalar(*v))
		return err_set(e, -EINVAL, "URI template variable \"%.*s\" is "
			       "a %s, not a string, number or boolean",
			       (int)(len > 64 ? 64 : len), name,
			       doc_type_name((*v)->type));
	return 0;
}

/* Expand the body @s (@n bytes, "a,b") of one simple expression: the
 * defined values, encoded, joined by ','. */
static int expand_one(const char *s, size_t n, const struct doc *vars,
		      struct buf *out, struct err *e)
{
	const struct doc *v;
	size_t i = 0, j;
	bool first = true;
	int rc = 0;

	while (rc == 0 && i < n) {
		for (j = i; j < n && s[j] != ','; j++)
			;
		rc = var_text(vars, s + i, j - i, &v, e);
		if (rc == 0 && v && !first)
			rc = buf_addc(out, ',');
		if (rc == 0 && v) {
			rc = http_pct_encode(out, v->u.s, v->n);
			first = false;
		}
		i = j + 1;
	}
	return rc;
}

/* The end of building @out: @rc, with the message of a failure (@out
 * released then). */
static int uri_done(int rc, struct buf *out, struct err *e)
{
	if (rc == -EFBIG)
		rc = err_set(e, rc, "the URI is longer than %zu bytes",
			     out->cap);
	else if (rc == -ENOMEM)
		rc = err_set(e, rc, "out of memory");
	if (rc < 0)
		buf_release(out);
	return rc;
}

/* One step of the expansion at s[*i]: an expression copied, a template
 * expanded, or one byte copied. */
static int expand_at(const char *s, size_t n, size_t *i,
		     const struct doc *vars, struct buf *out, struct err *e)
{
	size_t at = *i, k;

	if (s[at] == '$' && at + 1 < n && s[at + 1] == '{') {
		*i = expr_end(s, n, at + 2);
		return buf_add(out, s + at, *i - at);
	}
	k = s[at] == '{' ? template_len(s + at + 1, n - at - 1) : 0;
	if (k) {
		*i = at + k + 2;
		return expand_one(s + at + 1, k, vars, out, e);
	}
	*i = at + 1;
	return buf_addc(out, s[at]);
}

int http_uri_expand(const char *tpl, const struct doc *vars, struct buf *out,
		    struct err *e)
{
	size_t n = strlen(tpl), i = 0;
	int rc = 0;

	while (rc == 0 && i < n)
		rc = expand_at(tpl, n, &i, vars, out, e);
	return uri_done(rc, out, e);
}

/* ---- the query ---- */

/* "key=value" of one member, encoded, after @sep. */
static int add_param(struct buf *out, char sep, const struct doc_kv *kv,
		     struct err *e)
{
	int rc;

	if (!doc_is_scalar(kv->val))
		return err_set(e, -EINVAL, "query parameter \"%.64s\" is a %s,"
			       " not a string", kv->key,
			       doc_type_name(kv->val->type));
	rc = buf_addc(out, sep);
	if (rc == 0)
		rc = http_pct_encode(out, kv->key, strlen(kv->key));
	if (rc == 0)
		rc = buf_addc(out, '=');
	return rc ? rc : http_pct_encode(out, kv->val->u.s, kv->val->n);
}

int http_uri_query(const char *uri, const struct doc *query, struct buf *out,
		   struct err *e)
{
	const char *frag = strchr(uri, '#');
	size_t base = frag ? (size_t)(frag - uri) : strlen(uri), i;
	char sep = memchr(uri, '?', base) ? '&' : '?';
	int rc = 0;

	if (query && query->type != DOC_MAP && query->type != DOC_NULL)
		return err_set(e, -EINVAL, "query is a %s, not a map",
			       doc_type_name(query->type));
	rc = buf_add(out, uri, base);
	for (i = 0; rc == 0 && query && i < query->n; i++) {
		if (query->u.kv[i].val->type == DOC_NULL)
			continue;	/* no value: no parameter */
		rc = add_param(out, sep, &query->u.kv[i], e);
		sep = '&';
	}
	if (rc == 0 && frag)
		rc = buf_addstr(out, frag);
	return uri_done(rc, out, e);
}

/* ---- response bodies ---- */

int http_base64(const void *p, size_t n, struct buf *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = abc[v >> 18];
		q[1] = abc[(v >> 12) & 63];
		q[2] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? abc[v & 63] : '=';
		rc = buf_add(out, q, 4);
	}
	return rc;
}

/* The length of the UTF-8 sequence at @s (@n bytes left), or 0 when it
 * is not a valid one: no overlong forms, no surrogates, at most
 * U+10FFFF (RFC 3629). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = 0, i;

	if (s[0] < 0x80)
		len = 1;
	else if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	if (!len || len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return len;
}

bool http_is_text(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0, k;

	while (i < n) {
		if (!s[i])
			return false;
		k = utf8_len(s + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

bool http_type_is_json(const char *ct)
{
	const char *end;
	size_t n;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	end = ct + strcspn(ct, ";");
	while (end > ct && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = (size_t)(end - ct);
	if (n == 16 && !strncasecmp(ct, "application/json", 16))
		return true;
	/* a structured syntax suffix: application/problem+json, ... */
	return n > 5 && memchr(ct, '/', n) && !strncasecmp(end - 5, "+json", 5);
}
