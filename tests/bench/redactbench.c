/*
 * redactbench.c - throughput of the stream redactor on log-like text.
 *
 * Generates about 200 MB of log lines (timestamps, levels, key=value
 * pairs, JSON fragments) with 20 random secrets of 20-40 characters
 * sprinkled in, some raw, some base64-embedded, URL- or JSON-encoded, then
 * feeds it through redact_stream_write() in 64 KiB chunks and prints MB/s,
 * next to the memchr('\n') floor.  Prints only; never fails on a timing.
 * With -f FILE the corpus is FILE's bytes instead (scripts/bench feeds it
 * the very output a task printed; the secrets are then not in it).
 *
 * Usage: redactbench [megabytes] | redactbench -f FILE
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypt/redact.h"

#define NSECRETS 20
#define CHUNK (64u << 10)
#define FILE_MAX ((size_t)2 << 30)	/* bytes of a -f corpus */

struct corpus {
	char *p;
	size_t len;
	size_t cap;
	char sec[NSECRETS][41];
	size_t sec_len[NSECRETS];
	uint64_t rng;
};

static uint32_t rnd(struct corpus *c)
{
	c->rng = c->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(c->rng >> 33);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(struct corpus *c, const char *s, size_t n)
{
	if (n > c->cap - c->len)
		n = c->cap - c->len;
	memcpy(c->p + c->len, s, n);
	c->len += n;
}

/* One secret, in one of its forms. */
static void put_secret(struct corpus *c)
{
	size_t k = rnd(c) % NSECRETS, n = c->sec_len[k];
	char tmp[128], enc[256];

	switch (rnd(c) % 4) {
	case 0:
		put(c, c->sec[k], n);
		break;
	case 1:	/* base64 of "user:" + secret, as in a Basic header */
		memcpy(tmp, "user:", 5);
		memcpy(tmp + 5, c->sec[k], n);
		sodium_bin2base64(enc, sizeof(enc), (unsigned char *)tmp, n + 5,
				  sodium_base64_VARIANT_ORIGINAL);
		put(c, enc, strlen(enc));
		break;
	case 2:
		sodium_bin2base64(enc, sizeof(enc), (unsigned char *)c->sec[k],
				  n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		put(c, enc, strlen(enc));
		break;
	default:
		put(c, c->sec[k], n);
		put(c, "\"", 1);
		break;
	}
}

static const char *const words[] = {
	"connected", "to", "upstream", "request", "completed", "in", "ms",
	"retrying", "cache", "miss", "for", "key", "user", "session",
	"pod", "scheduled", "on", "node", "image", "pulled", "volume",
	"mounted", "GET", "POST", "/api/v1/items", "status", "ok",
};

static void put_line(struct corpus *c, size_t i)
{
	char head[96];
	int n, w;

	n = snprintf(head, sizeof(head),
		     "2026-11-23T08:%02zu:%02zu.%06zuZ %s [worker-%zu] ",
		     (i / 60) % 60, i % 60, i % 1000000,
		     i % 7 ? "INFO" : "WARN", i % 16);
	if (n > 0 && (size_t)n < sizeof(head))
		put(c, head, (size_t)n);
	for (w = 3 + (int)(rnd(c) % 12); w > 0; w--) {
		const char *s = words[rnd(c) % (sizeof(words) / sizeof(words[0]))];

		put(c, s, strlen(s));
		put(c, " ", 1);
	}
	if (rnd(c) % 4 == 0)
		put(c, "latency=12ms code=200 bytes=5321 ", 33);
	if (rnd(c) % 50 == 0)
		put_secret(c);
	put(c, "\n", 1);
}

static void make_secrets(struct corpus *c)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i, k;

	c->rng = 42;
	for (k = 0; k < NSECRETS; k++) {
		c->sec_len[k] = 20 + rnd(c) % 21;
		for (i = 0; i < c->sec_len[k]; i++)
			c->sec[k][i] = alpha[rnd(c) % (sizeof(alpha) - 1)];
	}
}

static int make_corpus(struct corpus *c, size_t bytes)
{
	size_t i;

	c->p = malloc(bytes);
	if (!c->p)
		return -1;
	c->cap = bytes;
	make_secrets(c);
	for (i = 0; c->len + 512 < c->cap; i++)
		put_line(c, i);
	return 0;
}

/* The corpus is the bytes of @path (at most FILE_MAX). */
static int load_corpus(struct corpus *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;
	int rc = -1;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 ||
	    (size_t)size > FILE_MAX || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	c->p = malloc((size_t)size);
	if (!c->p)
		goto out;
	c->cap = (size_t)size;
	c->len = fread(c->p, 1, c->cap, f);
	make_secrets(c);
	rc = c->len == c->cap ? 0 : -1;
out:
	fclose(f);
	return rc;
}

/* Redact the whole corpus; returns seconds, or -1. */
static double run(struct corpus *c, bool no_keys, size_t *out_total)
{
	struct redact_opts o = { 0, 0, no_keys };
	struct redactor *r = NULL;
	struct redact_stream *s = NULL;
	struct buf out = BUF_INIT(4 * CHUNK + (1u << 20));
	double t0, t = -1;
	size_t at, k;

	*out_total = 0;
	if (redactor_new(&r, &o) < 0)
		return -1;
	for (k = 0; k < NSECRETS; k++)
		if (redactor_add_secret(r, c->sec[k], c->sec_len[k]) < 0)
			goto out;
	if (redactor_stream_new(r, &s) < 0)
		goto out;
	t0 = now();
	for (at = 0; at < c->len; at += CHUNK) {
		k = c->len - at < CHUNK ? c->len - at : CHUNK;
		if (redact_stream_write(s, c->p + at, k, &out) < 0)
			goto out;
		*out_total += out.len;
		buf_reset(&out);
	}
	if (redact_stream_flush(s, &out) < 0)
		goto out;
	*out_total += out.len;
	t = now() - t0;
out:
	redact_stream_free(s);
	redactor_free(r);
	buf_release(&out);
	return t;
}

static double memchr_floor(const struct corpus *c, size_t *lines)
{
	const char *p = c->p, *end = c->p + c->len, *nl;
	double t0 = now();

	*lines = 0;
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		(*lines)++;
		p = nl + 1;
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	struct corpus c = { 0 };
	bool from_file = argc > 2 && !strcmp(argv[1], "-f");
	size_t mb = argc > 1 && !from_file ? strtoul(argv[1], NULL, 10) : 200;
	size_t lines, outn;
	double t, mbytes;

	if (mb == 0 || sodium_init() < 0 ||
	    (from_file ? load_corpus(&c, argv[2]) : make_corpus(&c, mb << 20)) < 0) {
		fprintf(stderr, "redactbench: setup failed\n");
		return 1;
	}
	mbytes = (double)c.len / 1e6;
	t = memchr_floor(&c, &lines);
	printf("corpus: %.1f MB, %zu lines, %d secrets\n", mbytes, lines,
	       NSECRETS);
	printf("memchr('\\n') floor:        %8.1f MB/s\n", mbytes / t);
	t = run(&c, true, &outn);
	if (t > 0)
		printf("redact, literals only:    %8.1f MB/s (out %zu bytes)\n",
		       mbytes / t, outn);
	t = run(&c, false, &outn);
	if (t > 0)
		printf("redact, literals + keys:  %8.1f MB/s (out %zu bytes)\n",
		       mbytes / t, outn);
	free(c.p);
	return 0;
}
