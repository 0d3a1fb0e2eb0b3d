/*
 * test_redact.c - the stream redactor: encodings, chunking, key patterns,
 * and a property test against a naive whole-buffer redactor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypt/redact.h"

#define OUT_CAP (64u << 20)

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static struct redactor *new_redactor(bool no_keys, size_t line_cap)
{
	struct redact_opts o = { 0, line_cap, no_keys };
	struct redactor *r = NULL;

	assert_int_equal(redactor_new(&r, &o), 0);
	return r;
}

static void add(struct redactor *r, const char *v, size_t n)
{
	assert_int_equal(redactor_add_secret(r, v, n), 0);
}

/*
 * Redact @in through a new stream: in chunks of @chunk bytes, 0 meaning
 * one write, SIZE_MAX meaning random sizes.  Returns a malloc'd string.
 */
static char *run(struct redactor *r, const char *in, size_t n, size_t chunk,
		 size_t *outlen)
{
	struct redact_stream *s = NULL;
	struct buf out = BUF_INIT(OUT_CAP);
	size_t at = 0;

	assert_int_equal(redactor_stream_new(r, &s), 0);
	while (at < n) {
		size_t k = chunk == 0 ? n - at :
			   chunk == SIZE_MAX ? 1 + rnd() % 97 : chunk;

		if (k > n - at)
			k = n - at;
		assert_int_equal(redact_stream_write(s, in + at, k, &out), 0);
		at += k;
	}
	assert_int_equal(redact_stream_flush(s, &out), 0);
	redact_stream_free(s);
	return buf_detach(&out, outlen);
}

static char *run_str(struct redactor *r, const char *in, size_t chunk)
{
	return run(r, in, strlen(in), chunk, NULL);
}

/* Output of @in is @want whole, one byte at a time and in random chunks. */
static void expect(struct redactor *r, const char *in, const char *want)
{
	static const size_t chunks[] = { 0, 1, 2, 7, SIZE_MAX };
	size_t i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char *got = run_str(r, in, chunks[i]);

		if (strcmp(got, want) != 0)
			fail_msg("chunk %zu: in [%s]\n got [%s]\nwant [%s]",
				 chunks[i], in, got, want);
		free(got);
	}
}

static void test_refused(void **state)
{
	struct redactor *r = new_redactor(false, 0);
	struct redact_stream *s = NULL;
	static char big[REDACT_SECRET_MAX + 1];
	struct redact_opts bad = { 2, 0, false };
	struct redactor *r2 = NULL;

	(void)state;
	memset(big, 'q', sizeof(big));
	assert_int_equal(redactor_add_secret(r, "", 0), -EINVAL);
	assert_int_equal(redactor_add_secret(r, "abc", 3), -ERANGE);
	assert_int_equal(redactor_add_secret(r, big, sizeof(big)), -E2BIG);
	assert_int_equal(redactor_add_secret(r, "abcd", 4), 0);
	assert_int_equal(redactor_add_secret(r, "abcd", 4), 0);
	assert_int_equal(redactor_stream_new(r, &s), 0);
	assert_int_equal(redactor_add_secret(r, "efgh", 4), -EBUSY);
	redact_stream_free(s);
	assert_int_equal(redactor_add_secret(r, "efgh", 4), 0);
	assert_int_equal(redactor_new(&r2, &bad), -EINVAL);
	redactor_free(r);
	redactor_free(NULL);
	redact_stream_free(NULL);
}

static void test_passthrough(void **state)
{
	static const char *const texts[] = {
		"",
		"plain line\n",
		"2026-11-23T07:57:45Z INFO started pid=42 at 12:00:01\n"
		"GET /index.html?page=2&q=abc 200 0.003s\n"
		"{\"name\": \"web\", \"replicas\": 3}\nno newline at end",
		"binary \x01\x02\xff\x00 bytes",
	};
	struct redactor *r = new_redactor(false, 0);
	size_t i, n, len;

	(void)state;
	add(r, "s3cr3t-value", 12);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		n = i == 3 ? 17 : strlen(texts[i]);	/* 17: has a NUL */
		char *got = run(r, texts[i], n, 1, &len);

		assert_int_equal(len, n);
		assert_memory_equal(got, texts[i], n);
		free(got);
	}
	redactor_free(r);
}

static void test_raw(void **state)
{
	struct redactor *r = new_redactor(true, 0);

	(void)state;
	add(r, "hunter22", 8);
	add(r, "swordfish", 9);
	expect(r, "pw hunter22 ok\n", "pw *** ok\n");
	expect(r, "hunter22hunter22", "***");
	expect(r, "hunter2hunter22x", "hunter2***x");
	expect(r, "swordfish\nhunter22", "***\n***");
	expect(r, "hunter22 swordfish", "*** ***");
	redactor_free(r);
}

/* The test's own base64, standard or url alphabet, padded or not. */
static char *b64(const unsigned char *p, size_t n, bool url, bool pad)
{
	int v = url ? (pad ? sodium_base64_VARIANT_URLSAFE :
		       sodium_base64_VARIANT_URLSAFE_NO_PADDING) :
		(pad ? sodium_base64_VARIANT_ORIGINAL :
		 sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	size_t sz = sodium_base64_ENCODED_LEN(n, v);
	char *o = malloc(sz);

	assert_non_null(o);
	sodium_bin2base64(o, sz, p, n, v);
	return o;
}

/*
 * base64(prefix + secret + suffix) inside a line: the characters that only
 * the secret determines must be gone and replaced by a mask.
 */
static void check_b64(struct redactor *r, const char *sec, size_t plen,
		      size_t slen, bool url, bool pad)
{
	unsigned char raw[128];
	char line[512], *enc, *got;
	size_t n = strlen(sec), lo, hi;

	memset(raw, 'P', plen);
	memcpy(raw + plen, sec, n);
	memset(raw + plen + n, 'S', slen);
	enc = b64(raw, plen + n + slen, url, pad);
	snprintf(line, sizeof(line), "auth %s end\n", enc);
	got = run_str(r, line, SIZE_MAX);
	lo = (plen * 4 + 2) / 3 + 1;	/* first char of the secret alone */
	hi = ((plen + n) * 4) / 3;	/* past its last one */
	if (!strstr(got, "***") || strlen(got) > strlen(line) - (hi - lo) + 3 ||
	    strncmp(got, "auth ", 5) != 0)
		fail_msg("p%zu s%zu url%d pad%d: [%s] -> [%s]", plen, slen,
			 url, pad, line, got);
	free(got);
	free(enc);
}

static void test_base64(void **state)
{
	static const char *const secrets[] = {
		"correct horse battery", "p4ss", "Zm9vYmFy-xyz_123", "a1b2c",
		"0123456789abcdef0123456789abcdef",
	};
	size_t i, p, s, v;

	(void)state;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		struct redactor *r = new_redactor(true, 0);

		add(r, secrets[i], strlen(secrets[i]));
		for (p = 0; p < 7; p++)
			for (s = 0; s < 4; s++)
				for (v = 0; v < 4; v++)
					check_b64(r, secrets[i], p, s, v & 1,
						  v & 2);
		redactor_free(r);
	}
}

static void test_base64_whole(void **state)
{
	struct redactor *r = new_redactor(true, 0);
	const char *sec = "user:pa55word!";
	char *enc = b64((const unsigned char *)sec, strlen(sec), false, true);
	char line[128], *got;

	(void)state;
	add(r, sec, strlen(sec));
	snprintf(line, sizeof(line), "Basic %s\n", enc);
	got = run_str(r, line, 1);
	assert_string_equal(got, "Basic ***\n");
	free(got);
	free(enc);
	redactor_free(r);
}

static void url_enc(const char *v, char *o, bool upper, bool plus)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)v;

	for (; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    (*p >= 'A' && *p <= 'Z') || strchr("-._~", *p)) {
			*o++ = (char)*p;
		} else if (*p == ' ' && plus) {
			*o++ = '+';
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
}

static void test_url(void **state)
{
	struct redactor *r = new_redactor(true, 0);
	const char *sec = "p@ss w/rd&x=1?";
	char enc[128], line[256];
	int k;

	(void)state;
	add(r, sec, strlen(sec));
	for (k = 0; k < 4; k++) {
		url_enc(sec, enc, k & 1, k & 2);
		assert_string_not_equal(enc, sec);
		snprintf(line, sizeof(line), "GET /login?u=%s&z=1\n", enc);
		expect(r, line, "GET /login?u=***&z=1\n");
	}
	redactor_free(r);
}

static void test_json(void **state)
{
	static const struct {
		const char *secret;
		const char *escaped;
	} cases[] = {
		{ "a\"b\\c\nd\te", "a\\\"b\\\\c\\nd\\te" },
		{ "ctl\x01\x1f-x", "ctl\\u0001\\u001f-x" },
		{ "ctl\x01\x1f-x", "ctl\\u0001\\u001F-x" },
		{ "<tag>&amp", "\\u003ctag\\u003e\\u0026amp" },
		{ "line1\r\nline2", "line1\\r\\nline2" },
		{ "gr\xc3\xbc\xc3\x9f" "e-\xe2\x82\xac-\xf0\x9f\x94\x91\x7f",
		  "gr\\u00fc\\u00dfe-\\u20ac-\\ud83d\\udd11\\u007f" },
		{ "gr\xc3\xbc\xc3\x9f" "e-\xe2\x82\xac",
		  "gr\xc3\xbc\xc3\x9f" "e-\xe2\x82\xac" },
	};
	char line[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct redactor *r = new_redactor(true, 0);

		add(r, cases[i].secret, strlen(cases[i].secret));
		snprintf(line, sizeof(line), "{\"v\":\"%s\",\"n\":1}\n",
			 cases[i].escaped);
		expect(r, line, "{\"v\":\"***\",\"n\":1}\n");
		redactor_free(r);
	}
}

/*
 * Hex of @v (@n bytes) into @o: @kase 0 lower, 1 upper, 2 mixed (letters
 * alternately upper and lower); with @wrap, a '\n' after every 60 digits
 * as `xxd -p` prints it.  Returns the length.
 */
static size_t hex_enc(const char *v, size_t n, char *o, int kase, bool wrap)
{
	static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	size_t i, k = 0, letters = 0;
	int d;

	for (i = 0; i < n; i++) {
		if (wrap && i > 0 && i % 30 == 0)
			o[k++] = '\n';
		for (d = 0; d < 2; d++) {
			unsigned x = d == 0 ? (unsigned char)v[i] >> 4 :
					      (unsigned char)v[i] & 15;
			bool upper = kase == 1 || (kase == 2 && x > 9 &&
						   letters++ % 2 == 0);

			o[k++] = (upper ? up : lo)[x];
		}
	}
	o[k] = '\0';
	return k;
}

/* @in written as two writes, split at every offset, gives @want. */
static void expect_split(struct redactor *r, const char *in, const char *want)
{
	struct redact_stream *s = NULL;
	struct buf out = BUF_INIT(OUT_CAP);
	size_t n = strlen(in), k;

	for (k = 0; k <= n; k++) {
		assert_int_equal(redactor_stream_new(r, &s), 0);
		buf_reset(&out);
		assert_int_equal(redact_stream_write(s, in, k, &out), 0);
		assert_int_equal(redact_stream_write(s, in + k, n - k, &out), 0);
		assert_int_equal(redact_stream_flush(s, &out), 0);
		if (strcmp(out.data ? out.data : "", want) != 0)
			fail_msg("split %zu: in [%s]\n got [%s]\nwant [%s]", k,
				 in, out.data ? out.data : "", want);
		redact_stream_free(s);
	}
	buf_release(&out);
}

static void test_hex(void **state)
{
	static const struct {
		const char *pre;
		bool twice;	/* the hex twice in a row */
		const char *post;
		const char *want;
	} cases[] = {
		{ "", false, "\n", "***\n" },
		{ "", false, "", "***" },
		{ "dump ", false, " end\n", "dump *** end\n" },
		{ "a\n", false, "\nb\n", "a\n***\nb\n" },
		{ "x=", false, "", "x=***" },
		{ "[", true, "]\n", "[***]\n" },
		{ "78", false, "79\n", "78***79\n" },	/* "x" secret "y" */
	};
	static const char *const secrets[] = {
		"hunter22", "S3cr-et_with:Punct!", "\x01\xfe\x00\xff\x7f\x80",
		"exactly-thirty-bytes-long-0123",
	};
	static const size_t lens[] = { 8, 19, 6, 30 };
	char hex[128], in[512];
	size_t i, c;
	int kase;

	(void)state;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		struct redactor *r = new_redactor(false, 0);

		add(r, secrets[i], lens[i]);
		for (kase = 0; kase < 3; kase++) {
			hex_enc(secrets[i], lens[i], hex, kase, false);
			for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
				snprintf(in, sizeof(in), "%s%s%s%s", cases[c].pre,
					 hex, cases[c].twice ? hex : "",
					 cases[c].post);
				expect(r, in, cases[c].want);
				expect_split(r, in, cases[c].want);
			}
		}
		redactor_free(r);
	}
}

/*
 * `xxd -p` wraps at 60 digits: each line of a longer value is masked, the
 * last one only when it holds at least 4 bytes (REDACT_MIN_LEN).
 */
static void test_hex_wrapped(void **state)
{
	static const struct {
		const char *secret;
		const char *want;	/* %s: the last line, when shown */
	} cases[] = {
		/* 40 bytes: lines of 60 and 20 digits */
		{ "a-forty-byte-secret-value-0123456789-xyz", "***\n***\n" },
		/* 75 bytes: 60, 60, 30 */
		{ "seventy-five-bytes-of-secret-value-abcdefghijklmnopqrstuvwxyz-"
		  "0123456789ABC", "***\n***\n***\n" },
		/* 32 bytes: the last line holds 2 bytes and is shown */
		{ "thirty-two-bytes-of-a-secret-val", NULL },
	};
	char hex[256], in[512], want[512];
	size_t i, n;
	int kase;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct redactor *r = new_redactor(false, 0);

		n = strlen(cases[i].secret);
		add(r, cases[i].secret, n);
		for (kase = 0; kase < 3; kase++) {
			hex_enc(cases[i].secret, n, hex, kase, true);
			snprintf(in, sizeof(in), "%s\n", hex);
			if (cases[i].want)
				snprintf(want, sizeof(want), "%s",
					 cases[i].want);
			else
				snprintf(want, sizeof(want), "***\n%s\n",
					 hex + 61);
			expect(r, in, want);
			expect_split(r, in, want);
		}
		redactor_free(r);
	}
}

/* Hex that is not a secret's stays, in any case. */
static void test_hex_unrelated(void **state)
{
	static const char *const texts[] = {
		/* sha256 of "abc", and 31 of the 32 bytes of "hunter22..." */
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
		"68756e7465723232 0x68756E74 65723232\n",
		"68756e74657232\n",		/* "hunter2" */
		"68756e74657232330\n",		/* "hunter23" */
		"6\n8756e7465723232\n",		/* cut by a newline */
		"68 75 6e 74 65 72 32 32\n",	/* spaced: not caught */
	};
	struct redactor *r = new_redactor(false, 0);
	char *got;
	size_t i;

	(void)state;
	add(r, "hunter22", 8);
	add(r, "another-secret-value", 20);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		got = run_str(r, texts[i], 1);
		if (i == 1)
			assert_string_equal(got, "*** 0x68756E74 65723232\n");
		else
			assert_string_equal(got, texts[i]);
		free(got);
	}
	redactor_free(r);
}

static void test_lines(void **state)
{
	const char *pem = "-----BEGIN TEST KEY-----\n"
			  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
			  "  bKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj  \r\n"
			  "-----END TEST KEY-----\n";
	struct redactor *r = new_redactor(true, 0);

	(void)state;
	add(r, pem, strlen(pem));
	expect(r, pem, "***");
	expect(r, "x MIIEvQIBADANBgkqhkiG9w0BAQEFAASC y\n", "x *** y\n");
	expect(r, "[bKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj]\n", "[***]\n");
	expect(r, "k: -----END TEST KEY-----\n", "k: ***\n");
	redactor_free(r);
}

static void test_keys(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "password: hunter2\n", "password: ***\n" },
		{ "DB_PASSWORD=abc def\n", "DB_PASSWORD=*** def\n" },
		{ "my_api_key = xyz more\n", "my_api_key = *** more\n" },
		{ "{\"access_token\": \"ab\\\"c\", \"n\": 1}\n",
		  "{\"access_token\": \"***\", \"n\": 1}\n" },
		{ "{\"Token\":42,\"x\":1}\n", "{\"Token\":***,\"x\":1}\n" },
		{ "Authorization: Bearer eyJhbGciOi.x.y\n",
		  "Authorization: Bearer ***\n" },
		{ "authorization: Basic dXNlcjpwYXNz\n",
		  "authorization: Basic ***\n" },
		{ "  client-key-data: LS0tLS1CRUdJTg==  \r\n",
		  "  client-key-data: ***  \r\n" },
		{ "secret: 'it is'\n", "secret: '***'\n" },
		{ "time 12:00:01 user=bob url=http://h:80/x\n",
		  "time 12:00:01 user=bob url=http://h:80/x\n" },
		{ "password:\n", "password:\n" },
		{ "token=abc", "token=***" },
		{ "a\npasswd=1 x\nb\n", "a\npasswd=*** x\nb\n" },
	};
	static const char *const words[] = {
		"token", "password", "passwd", "secret", "apikey", "api_key",
		"api-key", "authorization", "client-key-data",
		"client-certificate-data", "id-token", "access_token",
		"refresh_token", "client_secret",
	};
	struct redactor *r = new_redactor(false, 0);
	char in[128], want[128], up[64];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(r, cases[i].in, cases[i].want);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (k = 0; words[i][k]; k++)
			up[k] = (char)(words[i][k] >= 'a' && words[i][k] <= 'z' ?
				       words[i][k] - 32 : words[i][k]);
		up[k] = '\0';
		snprintf(in, sizeof(in), "%s: v4lue\n", words[i]);
		snprintf(want, sizeof(want), "%s: ***\n", words[i]);
		expect(r, in, want);
		snprintf(in, sizeof(in), "\"x%s\": \"v4lue\"\n", up);
		snprintf(want, sizeof(want), "\"x%s\": \"***\"\n", up);
		expect(r, in, want);
		snprintf(in, sizeof(in), "%s_x=v4lue y\n", up);
		snprintf(want, sizeof(want), "%s_x=*** y\n", up);
		expect(r, in, want);
	}
	redactor_free(r);
}

static void test_flush(void **state)
{
	struct redactor *r = new_redactor(true, 0);
	struct redact_stream *s = NULL;
	struct buf out = BUF_INIT(1024);

	(void)state;
	add(r, "tail-secret", 11);
	assert_int_equal(redactor_stream_new(r, &s), 0);
	assert_int_equal(redact_stream_write(s, "ok tail-sec", 11, &out), 0);
	assert_null(strstr(out.data ? out.data : "", "tail-sec"));
	assert_int_equal(redact_stream_write(s, "ret", 3, &out), 0);
	assert_int_equal(redact_stream_flush(s, &out), 0);
	assert_string_equal(out.data, "ok ***");
	/* a second stream of bytes on the same handle */
	buf_reset(&out);
	assert_int_equal(redact_stream_write(s, "tail-secret!", 12, &out), 0);
	assert_int_equal(redact_stream_flush(s, &out), 0);
	assert_string_equal(out.data, "***!");
	redact_stream_free(s);
	buf_release(&out);
	redactor_free(r);
}

/* A complete line leaves at once, without waiting for more output; with
 * a multi-line secret (a form holding '\n') it waits as before. */
static void test_line_released(void **state)
{
	static const struct {
		const char *secret;
		bool keys;
		const char *in;
		const char *want;	/* emitted before any flush */
	} cases[] = {
		{ "a-long-secret-value-0123456789", false, "hello\n", "hello\n" },
		{ "a-long-secret-value-0123456789", true, "x: 1\ny", "x: 1\n" },
		{ "a-long-secret-value-0123456789", false,
		  "is a-long-secret-value-0123456789\n", "is ***\n" },
		{ "a-long-secret-value-0123456789", false, "no newline", "" },
		{ "two-line\nsecret-value", false, "hello\n", "" },
	};
	struct redact_stream *s = NULL;
	struct buf out = BUF_INIT(1024);
	struct redactor *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = new_redactor(!cases[i].keys, 0);
		add(r, cases[i].secret, strlen(cases[i].secret));
		assert_int_equal(redactor_stream_new(r, &s), 0);
		buf_reset(&out);
		assert_int_equal(redact_stream_write(s, cases[i].in,
						     strlen(cases[i].in), &out),
				 0);
		if (strcmp(out.data ? out.data : "", cases[i].want))
			fail_msg("case %zu: got [%s] want [%s]", i,
				 out.data ? out.data : "", cases[i].want);
		redact_stream_free(s);
		redactor_free(r);
	}
	buf_release(&out);
}

static void test_out_full(void **state)
{
	struct redactor *r = new_redactor(true, 0);
	struct redact_stream *s = NULL;
	struct buf out = BUF_INIT(8);

	(void)state;
	add(r, "abcdef", 6);
	assert_int_equal(redactor_stream_new(r, &s), 0);
	/* the first bytes fit, the mask and the filler after it do not */
	assert_int_equal(redact_stream_write(s, "01234", 5, &out), 0);
	assert_int_equal(redact_stream_write(s, "56789abcdef-plus-enough-filler"
					     "-to-be-emitted-now", 48, &out),
			 -EFBIG);
	assert_int_equal(out.len, 0);
	assert_int_equal(redact_stream_write(s, "x", 1, &out), -EFBIG);
	assert_int_equal(redact_stream_flush(s, &out), -EFBIG);
	redact_stream_free(s);
	buf_release(&out);
	redactor_free(r);
}

static void rand_bytes(char *p, size_t n, const char *alpha)
{
	size_t k = strlen(alpha), i;

	for (i = 0; i < n; i++)
		p[i] = alpha[rnd() % k];
}

/* Random text of up to @max bytes with the secrets inserted now and then. */
static size_t rand_text(char *t, size_t max, char sec[][64],
			const size_t *len, size_t nsec, const char *alpha)
{
	size_t n = 0, k;

	while (n < max) {
		k = 1 + rnd() % 40;
		if (rnd() % 3 == 0 && nsec) {
			size_t j = rnd() % nsec;

			k = len[j];
			if (k > max - n)
				break;
			memcpy(t + n, sec[j], k);
		} else {
			if (k > max - n)
				k = max - n;
			rand_bytes(t + n, k, alpha);
		}
		n += k;
	}
	return n;
}

static void test_split_random(void **state)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789 \n:=";
	static char text[20000], sec[8][64];
	size_t len[8], n, i, round, whole_len, got_len;

	(void)state;
	rng_state = 1;
	for (round = 0; round < 40; round++) {
		struct redactor *r = new_redactor(round & 1, 0);
		size_t nsec = 1 + rnd() % 8;

		for (i = 0; i < nsec; i++) {
			len[i] = 8 + rnd() % 50;
			rand_bytes(sec[i], len[i], "abcdefghijklmnopqrstuvwxyz-_/+");
			add(r, sec[i], len[i]);
		}
		n = rand_text(text, sizeof(text), sec, len, nsec, alpha);
		char *whole = run(r, text, n, 0, &whole_len);
		char *one = run(r, text, n, 1, &got_len);
		char *rnd_c = run(r, text, n, SIZE_MAX, &got_len);

		assert_string_equal(one, whole);
		assert_string_equal(rnd_c, whole);
		for (i = 0; i < nsec; i++)
			assert_null(memmem(whole, whole_len, sec[i], len[i]));
		free(whole);
		free(one);
		free(rnd_c);
		redactor_free(r);
	}
}

/*
 * The naive redactor: every occurrence of every pattern, ranges merged
 * when they overlap or touch, each run replaced by the mask.
 */
static char *naive(const char *t, size_t n, char pat[][64],
		   const size_t *plen, size_t npat)
{
	char *o = malloc(3 * n + 4);
	size_t i, j, k = 0, at = 0, red_end = 0, end;
	bool have = false;

	assert_non_null(o);
	for (i = 0; i < n; i++) {
		end = i;
		for (j = 0; j < npat; j++)
			if (plen[j] <= n - i &&
			    memcmp(t + i, pat[j], plen[j]) == 0 &&
			    i + plen[j] > end)
				end = i + plen[j];
		if (end == i)
			continue;
		if (have && i <= red_end) {
			if (end > red_end)
				red_end = end;
			continue;
		}
		if (have)
			at = red_end;
		memcpy(o + k, t + at, i - at);
		k += i - at;
		memcpy(o + k, "***", 3);
		k += 3;
		have = true;
		red_end = end;
	}
	if (have)
		at = red_end;
	memcpy(o + k, t + at, n - at);
	k += n - at;
	o[k] = '\0';
	return o;
}

/* The naive pattern set: each value, its lines and trimmed lines. */
static size_t naive_patterns(char sec[][64], const size_t *len, size_t nsec,
			     char pat[][64], size_t *plen)
{
	size_t np = 0, i, a, b, e;

	for (i = 0; i < nsec; i++) {
		memcpy(pat[np], sec[i], len[i]);
		plen[np++] = len[i];
		if (!memchr(sec[i], '\n', len[i]))
			continue;
		for (a = 0; a <= len[i]; a = e + 1) {
			for (e = a; e < len[i] && sec[i][e] != '\n'; e++)
				;
			if (e - a >= REDACT_MIN_LEN) {
				memcpy(pat[np], sec[i] + a, e - a);
				plen[np++] = e - a;
			}
			for (b = e; b > a && sec[i][b - 1] == ' '; b--)
				;
			while (a < b && sec[i][a] == ' ')
				a++;
			if (b - a >= REDACT_MIN_LEN) {
				memcpy(pat[np], sec[i] + a, b - a);
				plen[np++] = b - a;
			}
		}
	}
	return np;
}

/*
 * Random texts and secrets over "-.~ \n": no encoding of such a value
 * other than its lines can occur in such a text (base64 never makes four
 * such characters in a row, URL and JSON escapes add '+', '%' or '\'), so
 * the naive redactor over values and lines is the exact reference.
 */
static void test_property_naive(void **state)
{
	static const char alpha[] = "-.~ \n";
	static char text[400], sec[4][64], pat[64][64];
	size_t len[4], plen[64], n, i, np, round, got_len;

	(void)state;
	rng_state = 7;
	for (round = 0; round < 3000; round++) {
		struct redactor *r = new_redactor(true, 0);
		size_t nsec = rnd() % 4;

		for (i = 0; i < nsec; i++) {
			len[i] = REDACT_MIN_LEN + rnd() % 9;
			rand_bytes(sec[i], len[i], alpha);
			add(r, sec[i], len[i]);
		}
		np = naive_patterns(sec, len, nsec, pat, plen);
		n = rand_text(text, rnd() % sizeof(text), sec, len, nsec, alpha);
		char *want = naive(text, n, pat, plen, np);
		char *got = run(r, text, n, round % 3 ? SIZE_MAX : 1, &got_len);

		if (got_len != strlen(want) || memcmp(got, want, got_len) != 0)
			fail_msg("round %zu: got [%s] want [%s]", round, got, want);
		free(want);
		free(got);
		redactor_free(r);
	}
}

/* Key patterns and a small line cap: chunking never changes the output. */
static void test_property_keys(void **state)
{
	static const char *const parts[] = {
		"token", "=", ": ", "\"", "Password", " ", "\n", "abc",
		"xyz", "Bearer ", "'", "\\", ",", "}", "\r", "secret",
	};
	static char text[2000];
	size_t n, k, round, whole_len, got_len;

	(void)state;
	rng_state = 11;
	for (round = 0; round < 1000; round++) {
		struct redactor *r = new_redactor(false, 64);

		add(r, "abcxyz", 6);
		n = 0;
		while (n < sizeof(text) - 16 && rnd() % 200) {
			const char *p = parts[rnd() % 16];

			k = strlen(p);
			memcpy(text + n, p, k);
			n += k;
		}
		char *whole = run(r, text, n, 0, &whole_len);
		char *one = run(r, text, n, 1, &got_len);

		assert_int_equal(got_len, whole_len);
		assert_memory_equal(one, whole, whole_len);
		free(one);
		one = run(r, text, n, SIZE_MAX, &got_len);
		assert_int_equal(got_len, whole_len);
		assert_memory_equal(one, whole, whole_len);
		free(one);
		free(whole);
		redactor_free(r);
	}
}

/* A line over the cap is emitted without waiting for its end. */
static void test_line_cap(void **state)
{
	struct redactor *r = new_redactor(false, 64);
	struct redact_stream *s = NULL;
	struct buf out = BUF_INIT(4096);
	char line[200];

	(void)state;
	memset(line, 'z', sizeof(line));
	memcpy(line, "token=abc ", 10);
	assert_int_equal(redactor_stream_new(r, &s), 0);
	assert_int_equal(redact_stream_write(s, "token=abc\ntoken=", 16, &out), 0);
	assert_string_equal(out.data, "token=***\n");
	buf_reset(&out);
	assert_int_equal(redact_stream_write(s, line, sizeof(line), &out), 0);
	assert_true(out.len >= 16 + sizeof(line) - 64);
	redact_stream_free(s);
	buf_release(&out);
	redactor_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_base64_whole),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_wrapped),
		cmocka_unit_test(test_hex_unrelated),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_line_released),
		cmocka_unit_test(test_out_full),
		cmocka_unit_test(test_split_random),
		cmocka_unit_test(test_property_naive),
		cmocka_unit_test(test_property_keys),
		cmocka_unit_test(test_line_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
