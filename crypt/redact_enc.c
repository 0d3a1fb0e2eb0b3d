/*
 * redact_enc.c - the encoded forms of a secret value.
 *
 * A program rarely prints a secret only as is: it base64-encodes it inside
 * a larger blob (an HTTP Basic header, a kubeconfig), percent-encodes it in
 * a URL, escapes it in JSON, or prints one line of a key file.  Each such
 * form is registered as a literal; a form that could depend on the bytes
 * around the secret (the partial base64 characters at either end) is
 * registered only by its stable part, plus longer variants that match when
 * the secret ends the blob.  Hex forms are registered in lower case and
 * matched in any case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redact_i.h"

#define JSON_LOWER 0	/* \u00xx in lower-case hex */
#define JSON_UPPER 1	/* \u00XX */
#define JSON_HTML 2	/* lower hex, and < > & escaped (Go's default) */
#define XXD_LINE 60	/* hex digits in a line of `xxd -p` */

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* Forms shorter than the minimum are not registered. */
static int add_min(struct redactor *r, const unsigned char *p, size_t n)
{
	if (n < r->min_len)
		return 0;
	return redact_add_form(r, p, n, false);
}

/*
 * Base64 of the value placed at byte offset @align (0..2) of a group, in
 * @variant; @tmp holds 2 + n input bytes and @enc the encoding.
 */
static int add_base64_at(struct redactor *r, const unsigned char *v,
			 size_t n, size_t align, int variant,
			 unsigned char *tmp, char *enc, size_t enc_size)
{
	static const size_t skip[3] = { 0, 2, 3 };
	size_t t = align + n, len, stable;
	int rc;

	memset(tmp, 0, align);
	memcpy(tmp + align, v, n);
	sodium_bin2base64(enc, enc_size, tmp, t, variant);
	len = strlen(enc);
	stable = t % 3 == 0 ? len : len - (t % 3 == 1 ? 3 : 2);
	rc = add_min(r, (unsigned char *)enc + skip[align],
		     stable - skip[align]);
	if (rc == 0 && t % 3 != 0)
		rc = add_min(r, (unsigned char *)enc + skip[align],
			     stable + 1 - skip[align]);
	if (rc == 0 && t % 3 != 0)
		rc = add_min(r, (unsigned char *)enc + skip[align],
			     len - skip[align]);
	return rc;
}

static int add_base64(struct redactor *r, const unsigned char *v, size_t n,
		      unsigned char *scratch)
{
	static const int variants[] = {
		sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE
	};
	char *enc = (char *)scratch + n + 2;
	size_t enc_size = sodium_base64_ENCODED_LEN(n + 2,
		sodium_base64_VARIANT_ORIGINAL);
	size_t a, k;
	int rc = 0;

	for (k = 0; k < 2 && rc == 0; k++)
		for (a = 0; a < 3 && rc == 0; a++)
			rc = add_base64_at(r, v, n, a, variants[k], scratch,
					   enc, enc_size);
	return rc;
}

static bool url_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* Percent-encode into @o (3n bytes); returns the length. */
static size_t url_encode(const unsigned char *v, size_t n, unsigned char *o,
			 const char *hex, bool plus)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (url_unreserved(v[i])) {
			o[k++] = v[i];
		} else if (v[i] == ' ' && plus) {
			o[k++] = '+';
		} else {
			o[k++] = '%';
			o[k++] = (unsigned char)hex[v[i] >> 4];
			o[k++] = (unsigned char)hex[v[i] & 15];
		}
	}
	return k;
}

static int add_url(struct redactor *r, const unsigned char *v, size_t n,
		   unsigned char *scratch)
{
	int rc = 0, k;

	for (k = 0; k < 4 && rc == 0; k++)
		rc = add_min(r, scratch,
			     url_encode(v, n, scratch, k & 1 ? hex_upper :
					hex_lower, k & 2));
	return rc;
}

/* The short JSON escape for @c, or 0. */
static char json_short(unsigned char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '\b': return 'b';
	case '\f': return 'f';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	default: return 0;
	}
}

static bool json_needs_u(unsigned char c, int style)
{
	if (c < 0x20)
		return true;
	return style == JSON_HTML && (c == '<' || c == '>' || c == '&');
}

/* JSON-escape into @o (6n bytes), without quotes; returns the length. */
static size_t json_encode(const unsigned char *v, size_t n, unsigned char *o,
			  int style)
{
	const char *hex = style == JSON_UPPER ? hex_upper : hex_lower;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		char s = json_short(v[i]);

		if (s) {
			o[k++] = '\\';
			o[k++] = (unsigned char)s;
		} else if (json_needs_u(v[i], style)) {
			memcpy(o + k, "\\u00", 4);
			o[k + 4] = (unsigned char)hex[v[i] >> 4];
			o[k + 5] = (unsigned char)hex[v[i] & 15];
			k += 6;
		} else {
			o[k++] = v[i];
		}
	}
	return k;
}

/*
 * The UTF-8 sequence at @v (@n bytes left): its code point and length, or
 * length 0 when it is not a valid sequence.
 */
static size_t utf8_decode(const unsigned char *v, size_t n, uint32_t *cp)
{
	size_t len = v[0] >= 0xf0 ? 4 : v[0] >= 0xe0 ? 3 : v[0] >= 0xc0 ? 2 : 0;
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c;
	size_t i;

	if (len == 0 || len > n || v[0] >= 0xf8)
		return 0;
	c = v[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((v[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (v[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return 0;
	*cp = c;
	return len;
}

static size_t put_u(unsigned char *o, uint32_t u)
{
	o[0] = '\\';
	o[1] = 'u';
	o[2] = (unsigned char)hex_lower[(u >> 12) & 15];
	o[3] = (unsigned char)hex_lower[(u >> 8) & 15];
	o[4] = (unsigned char)hex_lower[(u >> 4) & 15];
	o[5] = (unsigned char)hex_lower[u & 15];
	return 6;
}

/*
 * JSON-escape with every non-ASCII character as \uxxxx (UTF-16, lower hex),
 * as Python's json.dumps writes by default; at most 6n bytes (a 4-byte
 * sequence becomes a 12-byte surrogate pair).  Invalid UTF-8 is copied.
 */
static size_t json_encode_ascii(const unsigned char *v, size_t n,
				unsigned char *o)
{
	size_t i = 0, k = 0, len;
	uint32_t c;

	while (i < n) {
		if (v[i] < 0x80 || !(len = utf8_decode(v + i, n - i, &c))) {
			if (v[i] == 0x7f)
				k += put_u(o + k, 0x7f);
			else
				k += json_encode(v + i, 1, o + k, JSON_LOWER);
			i++;
			continue;
		}
		if (c >= 0x10000) {
			c -= 0x10000;
			k += put_u(o + k, 0xd800 | (c >> 10));
			c = 0xdc00 | (c & 0x3ff);
		}
		k += put_u(o + k, c);
		i += len;
	}
	return k;
}

static int add_json(struct redactor *r, const unsigned char *v, size_t n,
		    unsigned char *scratch)
{
	int rc = 0, style;

	for (style = JSON_LOWER; style <= JSON_HTML && rc == 0; style++)
		rc = add_min(r, scratch, json_encode(v, n, scratch, style));
	if (rc == 0)
		rc = add_min(r, scratch, json_encode_ascii(v, n, scratch));
	return rc;
}

/* Lower-case hex into @o (2n bytes); returns the length. */
static size_t hex_encode(const unsigned char *v, size_t n, unsigned char *o)
{
	size_t i;

	for (i = 0; i < n; i++) {
		o[2 * i] = (unsigned char)hex_lower[v[i] >> 4];
		o[2 * i + 1] = (unsigned char)hex_lower[v[i] & 15];
	}
	return 2 * n;
}

/*
 * Hex, two digits a byte without separators, in any case (xxd -p,
 * hexdump -ve '1/1 "%02x"', printf %02X): the whole run; and, as `xxd -p`
 * breaks it every 60 digits when the value starts a line, each such line
 * on its own (the last only when it holds at least min_len bytes).
 */
static int add_hex(struct redactor *r, const unsigned char *v, size_t n,
		   unsigned char *scratch)
{
	size_t len = hex_encode(v, n, scratch), at, k;
	int rc = redact_add_form(r, scratch, len, true);

	if (len <= XXD_LINE)
		return rc;
	for (at = 0; at < len && rc == 0; at += k) {
		k = len - at < XXD_LINE ? len - at : XXD_LINE;
		if (k >= 2 * r->min_len)
			rc = redact_add_form(r, scratch + at, k, true);
	}
	return rc;
}

static bool blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line: as is (without a trailing '\r') and trimmed of blanks. */
static int add_line(struct redactor *r, const unsigned char *p, size_t n)
{
	size_t a = 0;
	int rc;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	rc = add_min(r, p, n);
	while (n > 0 && blank(p[n - 1]))
		n--;
	while (a < n && blank(p[a]))
		a++;
	if (rc == 0)
		rc = add_min(r, p + a, n - a);
	return rc;
}

static int add_lines(struct redactor *r, const unsigned char *v, size_t n)
{
	const unsigned char *p = v, *end = v + n, *nl;
	int rc = 0;

	if (!memchr(v, '\n', n))
		return 0;
	while (p < end && rc == 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		rc = add_line(r, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return rc;
}

int redact_add_encodings(struct redactor *r, const unsigned char *v,
			 size_t n)
{
	unsigned char *scratch = sodium_malloc(6 * n + 16);
	int rc;

	if (!scratch)
		return -ENOMEM;
	rc = add_min(r, v, n);
	if (rc == 0)
		rc = add_base64(r, v, n, scratch);
	if (rc == 0)
		rc = add_url(r, v, n, scratch);
	if (rc == 0)
		rc = add_json(r, v, n, scratch);
	if (rc == 0)
		rc = add_hex(r, v, n, scratch);
	if (rc == 0)
		rc = add_lines(r, v, n);
	sodium_free(scratch);	/* wipes */
	return rc;
}
