/*
 * yaml_resolve.c - scalar resolution with the YAML 1.2 core schema, shared
 * by the parser (plain and explicitly tagged scalars) and the emitter
 * (which quotes any string that would otherwise read back as another type).
 *
 * Canonical texts: ints print in decimal; floats print as the shortest
 * text that reads back as the same double, always with a '.', 'e', or as
 * .inf/-.inf/.nan; decimal integers beyond int64 keep their digits and
 * become floats; hex and octal beyond int64 stay strings.
 */
#include "yaml_i.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s, size_t n, const char *set)
{
	size_t k;

	if (n == 0)
		return false;
	for (k = 0; k < n; k++)
		if (!s[k] || !strchr(set, s[k]))
			return false;
	return true;
}

static bool is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int is_bool(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

/* Unsigned value of digits in @base; false on overflow of @max. */
static bool parse_u(const char *s, size_t n, unsigned base, uint64_t max,
		    uint64_t *v)
{
	uint64_t x = 0, dgt;
	size_t k;

	for (k = 0; k < n; k++) {
		dgt = (uint64_t)(s[k] <= '9' ? s[k] - '0'
					     : (s[k] | 0x20) - 'a' + 10);
		if (x > (max - dgt) / base)
			return false;
		x = x * base + dgt;
	}
	*v = x;
	return true;
}

size_t yaml_skip_exponent(const char *s, size_t k)
{
	if (s[k] != 'e' && s[k] != 'E')
		return k;
	k++;
	if (s[k] == '-' || s[k] == '+')
		k++;
	if (!(s[k] >= '0' && s[k] <= '9'))
		return SIZE_MAX;
	while (s[k] >= '0' && s[k] <= '9')
		k++;
	return k;
}

static bool is_float_text(const char *s)
{
	size_t k = 0, d1 = 0, d2 = 0;

	if (s[k] == '-' || s[k] == '+')
		k++;
	if (!strcmp(s + k, ".inf") || !strcmp(s + k, ".Inf") ||
	    !strcmp(s + k, ".INF"))
		return true;
	if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		return true;
	while (s[k] >= '0' && s[k] <= '9')
		k++, d1++;
	if (s[k] == '.') {
		k++;
		while (s[k] >= '0' && s[k] <= '9')
			k++, d2++;
	}
	if (d1 + d2 == 0)
		return false;
	k = yaml_skip_exponent(s, k);
	return k != SIZE_MAX && s[k] == '\0';
}

/* The exponent printed by "%e": sign and at most three digits. */
static int exp_value(const char *p)
{
	int sign = *p == '-' ? -1 : 1, v = 0;

	if (*p == '-' || *p == '+')
		p++;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	return sign * v;
}

/* Fewest significant digits (1..17) that read back as @v. */
static int shortest_prec(double v)
{
	char tmp[64];
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return prec;
}

/*
 * Canonical float text: the shortest digits that read back as the same
 * double, in positional form ("1000.0", "0.001") for moderate exponents and
 * exponent form ("1e+300") otherwise; always float-looking.
 */
static struct doc *float_node(const char *s)
{
	const char *u = s + (*s == '-' || *s == '+');
	char tmp[400];
	int prec, exp10;
	double v;

	/* strtod() does not know YAML's spellings of these. */
	if (u[0] == '.' && (u[1] | 0x20) == 'n')
		return doc_float_text(".nan");
	if (u[0] == '.' && (u[1] | 0x20) == 'i')
		return doc_float_text(*s == '-' ? "-.inf" : ".inf");
	v = strtod(s, NULL);
	if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
		return doc_float_text(v > 0 ? ".inf" : "-.inf");
	prec = shortest_prec(v);
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	exp10 = exp_value(strchr(tmp, 'e') + 1);
	if (exp10 >= -5 && exp10 < 17)
		snprintf(tmp, sizeof(tmp), "%.*f",
			 prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, v);
	if (!strpbrk(tmp, ".e"))
		memcpy(tmp + strlen(tmp), ".0", 3);
	return doc_float_text(tmp);
}

/* A decimal integer beyond int64: keep its digits as float text. */
static struct doc *bigint_node(const char *s, size_t n)
{
	char *t = malloc(n + 1);
	size_t k = 0, o = 0;
	struct doc *d;

	if (!t)
		return NULL;
	if (s[k] == '-')
		t[o++] = s[k];
	if (s[k] == '-' || s[k] == '+')
		k++;
	while (k + 1 < n && s[k] == '0')
		k++;
	memcpy(t + o, s + k, n - k);
	t[o + n - k] = '\0';
	d = doc_float_text(t);
	free(t);
	return d;
}

static struct doc *int_node(const char *s, size_t n)
{
	bool neg = s[0] == '-';
	size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
	uint64_t v;

	if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		if (!parse_u(s + 2, n - 2, s[1] == 'o' ? 8 : 16, INT64_MAX, &v))
			return doc_str(s, n);
		return doc_int((int64_t)v);
	}
	if (!parse_u(s + sign, n - sign, 10,
		     neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v))
		return bigint_node(s, n);
	if (neg)
		return doc_int(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN
							    : -(int64_t)v);
	return doc_int((int64_t)v);
}

static bool is_int_text(const char *s, size_t n)
{
	size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;

	if (n > 2 && s[0] == '0' && s[1] == 'o')
		return all_digits(s + 2, n - 2, "01234567");
	if (n > 2 && s[0] == '0' && s[1] == 'x')
		return all_digits(s + 2, n - 2, "0123456789abcdefABCDEF");
	return all_digits(s + sign, n - sign, "0123456789");
}

/* Remember how a number was written when its canonical text differs. */
static struct doc *keep_raw(struct doc *d, const char *s, size_t n)
{
	if (!d || (d->u.s && strlen(d->u.s) == n && !memcmp(d->u.s, s, n)))
		return d;
	d->raw = strndup(s, n);
	if (!d->raw) {
		doc_free(d);
		return NULL;
	}
	return d;
}

struct doc *yaml_resolve_plain(const char *s, size_t n)
{
	int b;

	if (is_null(s))
		return doc_new(DOC_NULL);
	b = is_bool(s);
	if (b >= 0)
		return doc_bool(b);
	if (is_int_text(s, n))
		return keep_raw(int_node(s, n), s, n);
	if (is_float_text(s))
		return keep_raw(float_node(s), s, n);
	return doc_str(s, n);
}

struct doc *yaml_resolve_tagged(const char *tag, const char *s, size_t n,
				const char **why)
{
	struct doc *d = NULL;

	*why = NULL;
	if (!strcmp(tag, CORE_TAG "str"))
		return doc_str(s, n);
	if (memchr(s, 0, n)) {
		*why = "tagged value contains a NUL byte";
		return NULL;
	}
	if (!strcmp(tag, CORE_TAG "null") && is_null(s))
		return doc_new(DOC_NULL);
	if (!strcmp(tag, CORE_TAG "bool") && is_bool(s) >= 0)
		return doc_bool(is_bool(s));
	if (!strcmp(tag, CORE_TAG "int") && is_int_text(s, n))
		return int_node(s, n);
	if (!strcmp(tag, CORE_TAG "float") &&
	    (is_float_text(s) || is_int_text(s, n)) && s[1] != 'x' &&
	    s[1] != 'o')
		return float_node(s);
	*why = "value does not match its tag ";
	return d;
}

bool yaml_plain_is_str(const char *s, size_t n)
{
	if (memchr(s, 0, n))
		return true;
	return !is_null(s) && is_bool(s) < 0 && !is_int_text(s, n) &&
	       !is_float_text(s);
}
