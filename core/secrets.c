/*
 * secrets.c - what happens to isSecret values on their way to the store:
 * each is sealed (crypt/seal.h) for its resource and field path before the
 * record is encoded; "***" written back keeps the stored blob; and the
 * document text kept for spec.yaml gets "***" spliced in where each secret
 * value was written.  A secret that cannot be masked where it was written
 * (not found, or written through an anchor or alias) fails the write:
 * masking fails closed.  Plaintext is wiped from every tree we free.
 */
#include "plane_i.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
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
	if (d->type != DOC_MAP && d->type != DOC_LIST && d->raw)
		seal_wipe(d->raw, strlen(d->raw));
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

/* The node at dotted @path in the parsed document, under either spelling
 * (an explicit null counts as absent, as in the schema).  Segments are
 * field names or map keys of at most 256 bytes (the variable-name rule). */
static const struct doc *find_written(const struct doc *d, const char *path)
{
	char seg[260], snake[520];
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
		if (!n || n->type == DOC_NULL) {
			to_snake(seg, snake, sizeof(snake));
			n = doc_map_get(d, snake);
		}
		d = n;
		path += len + (dot ? 1 : 0);
	}
	return d;
}

#define SPANS_MAX 65536	/* secret values one document may hold */

struct span {
	size_t off, end;
};

struct spans {
	struct pctx *c;
	struct span *v;
	size_t n, alloc;
};

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Whether the node at @off carries an anchor: "&name" before it, maybe
 * with a tag in between. */
static bool anchored(const char *t, size_t off)
{
	size_t end = off, start;
	int tokens;

	for (tokens = 0; tokens < 2; tokens++) {
		while (end > 0 && blank(t[end - 1]))
			end--;
		start = end;
		while (start > 0 && !blank(t[start - 1]) &&
		       !strchr("{[,", t[start - 1]))
			start--;
		if (start == end || t[start] != '!')
			return start < end && t[start] == '&';
		end = start;
	}
	return false;
}

/*
 * Where the secret at @path was written.  Every secret value comes from
 * the text (a kept one was written as "***"), so one that cannot be found
 * there is refused rather than stored unmasked; so is one written through
 * an anchor or an alias, whose text would show up at another place.
 */
static int locate(struct pctx *c, const char *path, struct span *out)
{
	const struct doc *w = find_written(c->parsed, path);

	if (!w || w->end <= w->off || w->end > c->len)
		return err_set(c->e, -EBADMSG, "%s: secret value not found in "
			       "the text as written", path);
	if (c->text[w->off] == '*' || anchored(c->text, w->off))
		return err_set(c->e, -EBADMSG, "%s: a secret value cannot be "
			       "an anchor or an alias", path);
	out->off = w->off;
	out->end = w->end;
	return 0;
}

static int note_span(void *ctx, const char *path, struct doc *node)
{
	struct spans *s = ctx;
	struct span sp;
	void *grown;
	int rc = locate(s->c, path, &sp);

	if (rc < 0)
		return rc;
	if (s->n == s->alloc) {
		if (s->alloc == SPANS_MAX)
			return err_set(s->c->e, -EFBIG, "more than %u secret "
				       "values", SPANS_MAX);
		s->alloc = s->alloc ? s->alloc * 2 : 16;
		grown = realloc(s->v, s->alloc * sizeof(*s->v));
		if (!grown)
			return -ENOMEM;
		s->v = grown;
	}
	s->v[s->n++] = sp;
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Append the text with each span replaced by the mask. */
static int splice(struct pctx *c, const struct spans *s)
{
	size_t at = 0, i;
	int rc = 0;

	for (i = 0; rc == 0 && i < s->n; i++) {
		if (s->v[i].off < at)
			continue;	/* overlaps the last; cannot happen, as
					   aliases are refused */
		rc = buf_add(&c->masked, c->text + at, s->v[i].off - at);
		if (rc == 0)
			rc = buf_addstr(&c->masked, "\"***\"");
		/* A block scalar's span takes its line break along. */
		if (rc == 0 && c->text[s->v[i].end - 1] == '\n')
			rc = buf_addc(&c->masked, '\n');
		at = s->v[i].end;
	}
	if (rc == 0)
		rc = buf_add(&c->masked, c->text + at, c->len - at);
	return rc;
}

int secrets_mask_source(struct pctx *c)
{
	struct spans s = { .c = c };
	int rc;

	if (c->masked_done)
		return 0;
	rc = model_for_each_secret(c->k, c->res, note_span, &s);
	if (rc == 0 && s.n)
		qsort(s.v, s.n, sizeof(*s.v), span_cmp);
	if (rc == 0)
		rc = splice(c, &s);
	free(s.v);
	return rc;
}
