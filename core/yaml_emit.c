/*
 * yaml_emit.c - struct doc to block-style YAML and to JSON.
 *
 * Output is written straight into a bounded struct buf through a small
 * writer with a sticky error, so each emitter reads as a plain description
 * of the format; the first failure (-EFBIG at the cap, -ENOMEM) stops all
 * later writes and the buffer is cut back to its old length.
 *
 * YAML strings are written plain only when that reads back as the same
 * string under the core schema (and as a string to YAML 1.1 readers too);
 * otherwise they are double-quoted with escapes, so multi-line text, control
 * characters and leading or trailing blanks survive a round trip.  Invalid
 * UTF-8 cannot be represented in YAML or JSON text; each bad byte is written
 * as U+FFFD.  Sealed values print as the mask "***" in both formats.
 */
#include "yaml.h"
#include "yaml_i.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MASK "\"***\""
/* libyaml refuses implicit keys longer than 1024 characters; longer keys
 * are written in the explicit "? key" form. */
#define KEY_IMPLICIT_MAX 1000

struct em {
	struct buf *out;
	int rc; /* first error, sticky */
};

static void put(struct em *w, const char *p, size_t n)
{
	if (w->rc == 0)
		w->rc = buf_add(w->out, p, n);
}

static void puts_(struct em *w, const char *s)
{
	put(w, s, strlen(s));
}

static void pad(struct em *w, size_t n)
{
	static const char sp[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;

		put(w, sp, k);
		n -= k;
	}
}

/* Finish: on failure the buffer goes back to @start bytes. */
static int done(struct em *w, size_t start)
{
	if (w->rc < 0)
		buf_truncate(w->out, start);
	return w->rc;
}

/* ---- UTF-8 ---- */

/*
 * Length of the well-formed UTF-8 sequence at @s (at most @n bytes) and its
 * code point, or 0 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF are invalid).
 */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len, k;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (len == 0 || s[0] >= 0xf8 || len > n)
		return 0;
	c = s[0] & (0x7f >> len);
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* ---- JSON ---- */

static void json_escape_cp(struct em *w, uint32_t c)
{
	char tmp[8];

	switch (c) {
	case '"':
		puts_(w, "\\\"");
		return;
	case '\\':
		puts_(w, "\\\\");
		return;
	case '\b':
		puts_(w, "\\b");
		return;
	case '\f':
		puts_(w, "\\f");
		return;
	case '\n':
		puts_(w, "\\n");
		return;
	case '\r':
		puts_(w, "\\r");
		return;
	case '\t':
		puts_(w, "\\t");
		return;
	}
	snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
	puts_(w, tmp);
}

#define ONES 0x0101010101010101u
#define HIGH (ONES * 0x80)

/* Whether some byte of @x is zero (exact as a whole, per word). */
static uint64_t zero8(uint64_t x)
{
	return (x - ONES) & ~x & HIGH;
}

/* The bytes from @k on up to the first one a JSON string cannot hold as
 * it is (below 0x20, a quote, a backslash) or that needs decoding (at or
 * above 0x80), eight at a time: most output is printable ASCII. */
static size_t plain_run(const unsigned char *u, size_t k, size_t n)
{
	uint64_t w;

	for (; n - k >= 8; k += 8) {
		memcpy(&w, u + k, 8);
		if ((((w - ONES * 0x20) & ~w & HIGH) | zero8(w ^ (ONES * '"')) |
		     zero8(w ^ (ONES * '\\')) | (w & HIGH)))
			break;
	}
	while (k < n && u[k] >= 0x20 && u[k] < 0x80 && u[k] != '"' &&
	       u[k] != '\\')
		k++;
	return k;
}

/* The bytes json_escape_cp() writes for @c. */
static size_t escape_len(uint32_t c)
{
	return c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
		       c == '\r' || c == '\t'
		   ? 2
		   : 6;
}

size_t json_quoted_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, at, out = 2, len;
	uint32_t c;

	while ((at = plain_run(u, k, n)) < n) {
		out += at - k;
		len = utf8_seq(u + at, n - at, &c);
		if (len && c >= 0x20 && c != '"' && c != '\\')
			out += len;
		else
			out += len ? escape_len(c) : 6;	/* \ufffd */
		k = at + (len ? len : 1);
	}
	return out + (n - k);
}

static void json_str(struct em *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, run = 0, len;
	uint32_t c;

	put(w, "\"", 1);
	while ((k = plain_run(u, k, n)) < n) {
		len = utf8_seq(u + k, n - k, &c);
		if (len && c >= 0x20 && c != '"' && c != '\\') {
			k += len;
			continue;
		}
		put(w, s + run, k - run);
		if (len)
			json_escape_cp(w, c);
		else
			puts_(w, "\\ufffd");
		k += len ? len : 1;
		run = k;
	}
	put(w, s + run, k - run);
	put(w, "\"", 1);
}

int json_quote(struct buf *out, const char *s, size_t n)
{
	struct em w = {out, 0};
	size_t start = out->len;

	json_str(&w, s, n);
	return done(&w, start);
}

/* RFC 8259 number grammar; other float texts are written as strings. */
static bool json_number(const char *s)
{
	size_t k = 0;

	if (s[k] == '-')
		k++;
	if (s[k] == '0')
		k++;
	else if (s[k] >= '1' && s[k] <= '9')
		while (s[k] >= '0' && s[k] <= '9')
			k++;
	else
		return false;
	if (s[k] == '.') {
		if (!(s[++k] >= '0' && s[k] <= '9'))
			return false;
		while (s[k] >= '0' && s[k] <= '9')
			k++;
	}
	k = yaml_skip_exponent(s, k);
	return k != SIZE_MAX && s[k] == '\0';
}

static void json_node(struct em *w, const struct doc *d, int pretty,
		      size_t indent);

static void json_open(struct em *w, int pretty, size_t indent, size_t k)
{
	if (k)
		put(w, ",", 1);
	if (pretty) {
		put(w, "\n", 1);
		pad(w, indent + 2);
	}
}

static void json_container(struct em *w, const struct doc *d, int pretty,
			   size_t indent)
{
	bool map = d->type == DOC_MAP;
	size_t k;

	put(w, map ? "{" : "[", 1);
	for (k = 0; k < d->n; k++) {
		json_open(w, pretty, indent, k);
		if (map) {
			json_str(w, d->u.kv[k].key, strlen(d->u.kv[k].key));
			puts_(w, pretty ? ": " : ":");
		}
		json_node(w, map ? d->u.kv[k].val : d->u.items[k], pretty,
			  indent + 2);
	}
	if (pretty && d->n) {
		put(w, "\n", 1);
		pad(w, indent);
	}
	put(w, map ? "}" : "]", 1);
}

static void json_node(struct em *w, const struct doc *d, int pretty,
		      size_t indent)
{
	switch (d->type) {
	case DOC_NULL:
		puts_(w, "null");
		break;
	case DOC_BOOL:
		puts_(w, d->i ? "true" : "false");
		break;
	case DOC_INT:
		put(w, d->u.s, d->n);
		break;
	case DOC_FLOAT:
		if (json_number(d->u.s))
			put(w, d->u.s, d->n);
		else
			json_str(w, d->u.s, d->n);
		break;
	case DOC_SEALED:
		puts_(w, MASK);
		break;
	case DOC_LIST:
	case DOC_MAP:
		json_container(w, d, pretty, indent);
		break;
	default:
		json_str(w, d->u.s, d->n);
		break;
	}
}

int json_emit(const struct doc *d, struct buf *out, int pretty)
{
	struct em w = {out, 0};
	size_t start = out->len;

	if (!d)
		return -EINVAL;
	json_node(&w, d, pretty, 0);
	if (pretty)
		put(&w, "\n", 1);
	return done(&w, start);
}

/* ---- YAML ---- */

/* Words YAML 1.1 readers take as booleans; quoted for their sake. */
static bool yaml11_bool(const char *s)
{
	static const char *const words[] = {"yes", "no", "on", "off"};
	size_t k;

	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (!strcasecmp(s, words[k]))
			return true;
	return false;
}

/* Code points that must be escaped even inside double quotes. */
static bool yaml_unprintable(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	       c == 0x2028 || c == 0x2029 || c == 0xfeff || c == 0xfffe ||
	       c == 0xffff;
}

static bool bad_chars(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, len;
	uint32_t c;

	while (k < n) {
		/* printable ASCII, the common case, needs no decoding */
		if (u[k] >= 0x20 && u[k] < 0x7f && u[k] != '"' &&
		    u[k] != '\\') {
			k++;
			continue;
		}
		len = utf8_seq(u + k, n - k, &c);
		if (!len || yaml_unprintable(c))
			return true;
		k += len;
	}
	return false;
}

/* Can @s (@n bytes) be written as a plain scalar and read back as itself? */
static bool yaml_plain_ok(const char *s, size_t n)
{
	if (n == 0 || memchr(s, 0, n) || !yaml_plain_is_str(s, n) ||
	    yaml11_bool(s))
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
		return false;
	if (s[n - 1] == ' ' || s[n - 1] == ':' || s[n - 1] == '\t')
		return false;
	if (!strncmp(s, "...", 3) || strstr(s, ": ") || strstr(s, " #"))
		return false;
	return !bad_chars(s, n);
}

static void yaml_escape_cp(struct em *w, uint32_t c)
{
	static const char named[] = "0\0"
				    "a\a"
				    "b\b"
				    "t\t"
				    "n\n"
				    "v\v"
				    "f\f"
				    "r\r"
				    "e\x1b"
				    "\"\""
				    "\\\\";
	char tmp[12];
	size_t k;

	for (k = 0; k + 1 < sizeof(named); k += 2) {
		if ((uint32_t)(unsigned char)named[k + 1] == c) {
			put(w, "\\", 1);
			put(w, &named[k], 1);
			return;
		}
	}
	if (c == 0x2028 || c == 0x2029) {
		puts_(w, c == 0x2028 ? "\\L" : "\\P");
		return;
	}
	if (c <= 0xff)
		snprintf(tmp, sizeof(tmp), "\\x%02X", (unsigned)c);
	else
		snprintf(tmp, sizeof(tmp), "\\u%04X", (unsigned)c);
	puts_(w, tmp);
}

static void yaml_quoted(struct em *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, run = 0, len;
	uint32_t c;

	put(w, "\"", 1);
	while (k < n) {
		/* printable ASCII, the common case, needs no decoding */
		if (u[k] >= 0x20 && u[k] < 0x7f && u[k] != '"' &&
		    u[k] != '\\') {
			k++;
			continue;
		}
		len = utf8_seq(u + k, n - k, &c);
		if (len && !yaml_unprintable(c) && c != '"' && c != '\\') {
			k += len;
			continue;
		}
		put(w, s + run, k - run);
		yaml_escape_cp(w, len ? c : 0xfffd);
		k += len ? len : 1;
		run = k;
	}
	put(w, s + run, k - run);
	put(w, "\"", 1);
}

static void yaml_string(struct em *w, const char *s, size_t n)
{
	if (yaml_plain_ok(s, n))
		put(w, s, n);
	else
		yaml_quoted(w, s, n);
}

static void yaml_scalar(struct em *w, const struct doc *d)
{
	switch (d->type) {
	case DOC_NULL:
		puts_(w, "null");
		break;
	case DOC_STR:
		yaml_string(w, d->u.s, d->n);
		break;
	case DOC_SEALED:
		puts_(w, MASK);
		break;
	case DOC_LIST:
		puts_(w, "[]");
		break;
	case DOC_MAP:
		puts_(w, "{}");
		break;
	default:
		/* bool, int, float: canonical text that reads back the same;
		 * anything unexpected in a float built in code is quoted. */
		if (d->type == DOC_FLOAT && yaml_plain_is_str(d->u.s, d->n))
			yaml_quoted(w, d->u.s, d->n);
		else
			put(w, d->u.s, d->n);
		break;
	}
}

static void yaml_key(struct em *w, const char *key, size_t indent)
{
	size_t n = strlen(key);

	if (n <= KEY_IMPLICIT_MAX) {
		yaml_string(w, key, n);
		put(w, ":", 1);
		return;
	}
	put(w, "? ", 2);
	yaml_quoted(w, key, n);
	put(w, "\n", 1);
	pad(w, indent);
	put(w, ":", 1);
}

static bool is_block(const struct doc *d)
{
	return (d->type == DOC_LIST || d->type == DOC_MAP) && d->n > 0;
}

static void yaml_block(struct em *w, const struct doc *d, size_t indent,
		       bool inline_first);

/* The value after "key:" or "-": inline scalar or an indented block. */
static void yaml_child(struct em *w, const struct doc *v, size_t indent,
		       bool in_list)
{
	if (!is_block(v)) {
		put(w, " ", 1);
		yaml_scalar(w, v);
		put(w, "\n", 1);
	} else if (in_list) {
		put(w, " ", 1);
		yaml_block(w, v, indent + 2, true);
	} else {
		put(w, "\n", 1);
		yaml_block(w, v, indent + 2, false);
	}
}

static void yaml_block(struct em *w, const struct doc *d, size_t indent,
		       bool inline_first)
{
	size_t k;

	for (k = 0; k < d->n && w->rc == 0; k++) {
		if (k > 0 || !inline_first)
			pad(w, indent);
		if (d->type == DOC_LIST) {
			put(w, "-", 1);
			yaml_child(w, d->u.items[k], indent, true);
			continue;
		}
		yaml_key(w, d->u.kv[k].key, indent);
		yaml_child(w, d->u.kv[k].val, indent, false);
	}
}

int yaml_emit(const struct doc *d, struct buf *out)
{
	struct em w = {out, 0};
	size_t start = out->len;

	if (!d)
		return -EINVAL;
	if (is_block(d)) {
		yaml_block(&w, d, 0, false);
	} else {
		yaml_scalar(&w, d);
		put(&w, "\n", 1);
	}
	return done(&w, start);
}
