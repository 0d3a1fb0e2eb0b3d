/*
 * redact_keys.c - key-name patterns: values of keys that look like
 * credentials, in `key: value`, `"key": "value"` and `key=value` lines.
 *
 * This catches secrets that were never registered (a token a tool fetched
 * itself).  It is a heuristic on top of the literal matching, never
 * instead of it.  A line is searched for ':' and '='; the word before each
 * is the key, and when it contains a credential word, the value after it
 * is reported.
 */
#include <stdint.h>
#include <string.h>

#include "redact_i.h"

#define KEY_SCAN_MAX 128	/* key bytes looked at before a separator */

static const char *const key_words[] = {
	"token", "password", "passwd", "secret", "apikey", "api_key",
	"api-key", "authorization", "client-key-data",
	"client-certificate-data", "id-token", "access_token",
	"refresh_token", "client_secret",
};

/* Scheme words kept before a credential ("Bearer ***"). */
static const char *const schemes[] = { "bearer ", "basic ", "token " };

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Does @p (@n bytes) start with the lower-case word @w, ignoring case? */
static bool has_prefix_ci(const unsigned char *p, size_t n, const char *w)
{
	size_t i, wn = strlen(w);

	if (wn > n)
		return false;
	for (i = 0; i < wn; i++)
		if (lower(p[i]) != (unsigned char)w[i])
			return false;
	return true;
}

/*
 * Does the key contain a credential word?  Keys are short; they are
 * lower-cased once and each position is tried only against the words that
 * start with its byte.
 */
static bool key_is_secret(const unsigned char *k, size_t n)
{
	unsigned char lk[KEY_SCAN_MAX];
	size_t w, i;

	if (n < 5 || n > KEY_SCAN_MAX)
		return false;
	for (i = 0; i < n; i++)
		lk[i] = lower(k[i]);
	for (i = 0; i + 5 <= n; i++) {
		if (!strchr("tpsaicr", lk[i]))
			continue;
		for (w = 0; w < sizeof(key_words) / sizeof(key_words[0]); w++)
			if (key_words[w][0] == (char)lk[i] &&
			    has_prefix_ci(lk + i, n - i, key_words[w]))
				return true;
	}
	return false;
}

static bool key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static bool space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The key ending before the separator at @sep: its start and length, and
 * whether it was quoted.  Return: false when there is no key word there.
 */
static bool find_key(const unsigned char *l, size_t sep, size_t *ks,
		     size_t *kn, bool *quoted)
{
	size_t e = sep, s;
	unsigned char q = 0;

	while (e > 0 && (l[e - 1] == ' ' || l[e - 1] == '\t'))
		e--;
	if (e > 0 && (l[e - 1] == '"' || l[e - 1] == '\'')) {
		q = l[e - 1];
		e--;
	}
	s = e;
	while (s > 0 && e - s < KEY_SCAN_MAX && key_char(l[s - 1]))
		s--;
	if (s == e || (q && (s == 0 || l[s - 1] != q)))
		return false;
	*ks = s;
	*kn = e - s;
	*quoted = q != 0;
	return true;
}

/* End of a quoted value starting after the quote at @v, or @n. */
static size_t quoted_end(const unsigned char *l, size_t n, size_t v)
{
	unsigned char q = l[v];
	size_t i;

	for (i = v + 1; i < n; i++) {
		if (l[i] == '\\' && q == '"')
			i++;
		else if (l[i] == q)
			return i;
	}
	return n;
}

/* Skip a scheme word such as "Bearer " at @v. */
static size_t skip_scheme(const unsigned char *l, size_t n, size_t v)
{
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (has_prefix_ci(l + v, n - v, schemes[i])) {
			v += strlen(schemes[i]);
			break;
		}
	while (v < n && (l[v] == ' ' || l[v] == '\t'))
		v++;
	return v;
}

/*
 * The value after the separator at @sep: [*vs, *ve).  An unquoted value
 * ends at whitespace after '=' or a quoted key (and at , } ] after a
 * quoted key), else at the end of the line without trailing blanks.
 */
static void find_value(const unsigned char *l, size_t n, size_t sep,
		       bool quoted_key, size_t *vs, size_t *ve)
{
	size_t v = sep + 1, e;

	while (v < n && (l[v] == ' ' || l[v] == '\t'))
		v++;
	if (v < n && (l[v] == '"' || l[v] == '\'')) {
		*vs = v + 1;
		*ve = quoted_end(l, n, v);
		return;
	}
	v = skip_scheme(l, n, v);
	if (l[sep] == '=' || quoted_key) {
		for (e = v; e < n && !space(l[e]); e++)
			if (quoted_key && (l[e] == ',' || l[e] == '}' ||
					   l[e] == ']'))
				break;
	} else {
		for (e = n; e > v && space(l[e - 1]); e--)
			;
	}
	*vs = v;
	*ve = e;
}

/*
 * Next ':' or '=' at or after @i, or @n.  @colon and @eq cache the last
 * memchr results (SIZE_MAX: not looked for yet).
 */
static size_t next_sep(const unsigned char *l, size_t n, size_t i,
		       size_t *colon, size_t *eq)
{
	const unsigned char *p;

	if (*colon == SIZE_MAX || *colon < i) {
		p = memchr(l + i, ':', n - i);
		*colon = p ? (size_t)(p - l) : n;
	}
	if (*eq == SIZE_MAX || *eq < i) {
		p = memchr(l + i, '=', n - i);
		*eq = p ? (size_t)(p - l) : n;
	}
	return *colon < *eq ? *colon : *eq;
}

int redact_key_ranges(const unsigned char *l, size_t n, uint64_t off,
		      int (*add)(void *ctx, uint64_t start, uint64_t end),
		      void *ctx)
{
	size_t i = 0, ks, kn, vs, ve, colon = SIZE_MAX, eq = SIZE_MAX;
	bool quoted;
	int rc;

	while ((i = next_sep(l, n, i, &colon, &eq)) < n) {
		if (!find_key(l, i, &ks, &kn, &quoted) ||
		    !key_is_secret(l + ks, kn)) {
			i++;
			continue;
		}
		find_value(l, n, i, quoted, &vs, &ve);
		if (ve > vs) {
			rc = add(ctx, off + vs, off + ve);
			if (rc < 0)
				return rc;
		}
		i = ve > i + 1 ? ve : i + 1;
	}
	return 0;
}
