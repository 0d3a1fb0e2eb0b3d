/*
 * secrets.c - what happens to isSecret values on their way to the store:
 * each is sealed (crypt/seal.h) for its resource and field path before the
 * record is encoded; "***" written back keeps the stored blob; and the
 * document text kept for spec.yaml gets "***" spliced in where each secret
 * value was written.  Plaintext is wiped from every tree we free.
 */
#include "plane_i.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Zero every scalar's bytes below @d, leaving the tree in place. */
static void doc_wipe(struct doc *d)
{
	size_t i;

	if (d->type == DOC_MAP)
		for (i = 0; i < d->n; i++)
			doc_wipe(d->u.kv[i].val);
	else if (d->type == DOC_LIST)
		for (i = 0; i < d->n; i++)
			doc_wipe(d->u.items[i]);
	else if (d->u.s)
		seal_wipe(d->u.s, d->n);
}

void doc_wipe_free(struct doc *d)
{
	if (!d)
		return;
	doc_wipe(d);
	doc_free(d);
}

/* Turn scalar @node into a sealed node holding @n bytes of @blob. */
static int make_sealed(struct doc *node, const void *blob, size_t n)
{
	char *copy = malloc(n + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, blob, n);
	copy[n] = '\0';
	if (node->u.s) {
		seal_wipe(node->u.s, node->n);
		free(node->u.s);
	}
	node->u.s = copy;
	node->n = n;
	node->type = DOC_SEALED;
	return 0;
}

static int seal_one(void *ctx, const char *path, struct doc *node)
{
	struct pctx *c = ctx;
	struct seal_ad ad = { c->k->name, c->id, path };
	struct buf blob = BUF_INIT(SEAL_VALUE_MAX + 64);
	const struct doc *old;
	int rc;

	if (node->type == DOC_SEALED)
		return 0;
	if (seal_is_mask(node->u.s, node->n)) {
		old = doc_get(c->old, path);
		if (!old || old->type != DOC_SEALED)
			return err_set(c->e, -EBADMSG, "%s: \"***\" keeps a "
				       "stored secret, but none is stored "
				       "there", path);
		return make_sealed(node, old->u.s, old->n);
	}
	rc = seal_value(c->p->kr, &ad, node->u.s, node->n, &blob);
	if (rc == -EFBIG)
		rc = err_set(c->e, -EFBIG, "%s: secret value too long", path);
	if (rc == 0)
		rc = make_sealed(node, blob.data, blob.len);
	buf_release(&blob);
	return rc;
}

int secrets_seal(struct pctx *c)
{
	return model_for_each_secret(c->k, c->res, seal_one, c);
}

/* lowerCamelCase to snake_case, for finding a field as it was written. */
static void to_snake(const char *in, char *out, size_t cap)
{
	size_t j = 0;

	for (; *in && j + 2 < cap; in++) {
		if (isupper((unsigned char)*in)) {
			out[j++] = '_';
			out[j++] = (char)tolower((unsigned char)*in);
		} else {
			out[j++] = *in;
		}
	}
	out[j] = '\0';
}

/* The node at dotted @path in the parsed document, under either spelling. */
static const struct doc *find_written(const struct doc *d, const char *path)
{
	char seg[256], snake[512];
	const char *dot;
	const struct doc *n;
	size_t len;

	while (d && *path) {
		dot = strchr(path, '.');
		len = dot ? (size_t)(dot - path) : strlen(path);
		if (len >= sizeof(seg))
			return NULL;
		memcpy(seg, path, len);
		seg[len] = '\0';
		n = doc_map_get(d, seg);
		if (!n) {
			to_snake(seg, snake, sizeof(snake));
			n = doc_map_get(d, snake);
		}
		d = n;
		path += len + (dot ? 1 : 0);
	}
	return d;
}

struct spans {
	struct pctx *c;
	size_t off[256], end[256];
	size_t n;
};

static int note_span(void *ctx, const char *path, struct doc *node)
{
	struct spans *s = ctx;
	const struct doc *w = find_written(s->c->parsed, path);

	if (!w || w->end <= w->off || w->end > s->c->len)
		return 0;	/* built by the server, not written */
	if (s->n == 256)
		return err_set(s->c->e, -EFBIG, "too many secret values");
	s->off[s->n] = w->off;
	s->end[s->n++] = w->end;
	return 0;
}

static void sort_spans(struct spans *s)
{
	size_t i, j, t;

	for (i = 1; i < s->n; i++)
		for (j = i; j > 0 && s->off[j - 1] > s->off[j]; j--) {
			t = s->off[j], s->off[j] = s->off[j - 1], s->off[j - 1] = t;
			t = s->end[j], s->end[j] = s->end[j - 1], s->end[j - 1] = t;
		}
}

int secrets_mask_source(struct pctx *c)
{
	struct spans s = { .c = c };
	size_t at = 0, i;
	int rc;

	rc = model_for_each_secret(c->k, c->res, note_span, &s);
	if (rc < 0)
		return rc;
	sort_spans(&s);
	for (i = 0; rc == 0 && i < s.n; i++) {
		if (s.off[i] < at)
			continue;	/* an alias of a span already masked */
		rc = buf_add(&c->masked, c->text + at, s.off[i] - at);
		if (rc == 0)
			rc = buf_addstr(&c->masked, "\"***\"");
		/* A block scalar's span takes its line break along. */
		if (rc == 0 && c->text[s.end[i] - 1] == '\n')
			rc = buf_addc(&c->masked, '\n');
		at = s.end[i];
	}
	if (rc == 0)
		rc = buf_add(&c->masked, c->text + at, c->len - at);
	return rc;
}
