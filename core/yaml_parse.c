/*
 * yaml_parse.c - YAML text to struct doc, on libyaml's event parser.
 *
 * The parser pulls events one at a time and builds the tree on a stack of
 * open containers, so limits (depth, items, nodes, aliases, string length)
 * are enforced as the input is read, before anything large is allocated.
 * Every event is deleted exactly once, right after it is handled.  Plain
 * scalars are resolved with the YAML 1.2 core schema; only the core tags are
 * accepted.  Aliases expand to deep copies of their anchored node and count
 * against the node budget, which stops "billion laughs" expansion early.
 *
 * Nodes keep their source position.  libyaml counts mark.index in
 * characters, not bytes, so marks are translated to byte offsets with a
 * cursor that walks the UTF-8 text; the span of a scalar is exactly the
 * scalar as written (quotes included, anchor and tag excluded, trailing
 * line breaks of block scalars excluded) so it can be spliced over.
 */
#include "yaml.h"
#include "yaml_i.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const struct yaml_limits yaml_default_limits = {
    .max_bytes = 1048576,
    .max_depth = 32,
    .max_str = 65536,
    .max_items = 10000,
    .max_nodes = 100000,
    .max_aliases = 64,
};

/* Core tags a scalar may carry (map and seq fail later as a mismatch). */
#define SCALAR_TAGS " str int bool float null map seq "

/* An open list or map. */
struct frame {
	struct doc *node;
	char *key;    /* map: pending key awaiting its value */
	char *anchor; /* anchor to register when the node ends */
	bool flow;
	struct yaml_keyset keys; /* map: finds duplicate keys */
};

struct anchor {
	char *name;
	const struct doc *node; /* borrowed from the tree being built */
	size_t nodes;		/* nodes in its subtree */
	size_t height;		/* nesting levels it adds (0: scalar) */
};

struct yp {
	const char *text;
	size_t len;
	const struct yaml_limits *lim;
	struct err *e;
	yaml_parser_t parser;
	struct frame *stack;
	size_t depth, stack_alloc;
	struct anchor *anchors;
	size_t nanchors, anchors_alloc;
	size_t nodes, aliases;
	struct doc *root;
	bool root_empty;
	int docs;
	size_t base; /* bytes of a leading BOM, not given to libyaml */
	bool ascii;  /* no byte >= 0x80 after it: chars are bytes */
	size_t cur_char, cur_byte; /* mark translation cursor */
};

/* ---- positions ---- */

static bool is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Byte offset of character index @idx (see the file comment). */
static size_t byte_at(struct yp *p, size_t idx)
{
	const unsigned char *t = (const unsigned char *)p->text;

	if (p->ascii)
		return p->base + idx < p->len ? p->base + idx : p->len;
	while (p->cur_char < idx && p->cur_byte < p->len) {
		p->cur_byte++;
		while (p->cur_byte < p->len && is_cont(t[p->cur_byte]))
			p->cur_byte++;
		p->cur_char++;
	}
	while (p->cur_char > idx && p->cur_byte > p->base) {
		p->cur_byte--;
		while (p->cur_byte > p->base && is_cont(t[p->cur_byte]))
			p->cur_byte--;
		p->cur_char--;
	}
	return p->cur_byte;
}

/* 1-based line and column (in characters) of byte offset @off. */
static void line_col(const char *text, size_t off, size_t *line, size_t *col)
{
	size_t k;

	*line = 1;
	*col = 1;
	for (k = 0; k < off; k++) {
		if (text[k] == '\n') {
			(*line)++;
			*col = 1;
		} else if (!is_cont((unsigned char)text[k])) {
			(*col)++;
		}
	}
}

/* Skip anchor and tag properties (and the blanks and comments after them)
 * so a span starts at the node's own text. */
static size_t skip_props(const char *t, size_t off, size_t end)
{
	while (off < end && (t[off] == '&' || t[off] == '!')) {
		while (off < end && t[off] != ' ' && t[off] != '\t' &&
		       t[off] != '\n' && t[off] != '\r')
			off++;
		while (off < end) {
			if (t[off] == '#') {
				while (off < end && t[off] != '\n')
					off++;
			} else if (t[off] == ' ' || t[off] == '\t' ||
				   t[off] == '\n' || t[off] == '\r') {
				off++;
			} else {
				break;
			}
		}
	}
	return off;
}

static void set_pos(struct yp *p, struct doc *d, const yaml_event_t *ev,
		    bool props)
{
	size_t k, from;

	d->line = (uint32_t)ev->start_mark.line + 1;
	d->col = (uint32_t)ev->start_mark.column + 1;
	d->end = byte_at(p, ev->end_mark.index);
	d->off = byte_at(p, ev->start_mark.index);
	if (!props)
		return;
	/* Move the start (and line/column with it) past anchor and tag. */
	from = d->off;
	d->off = skip_props(p->text, d->off, d->end);
	for (k = from; k < d->off; k++) {
		if (p->text[k] == '\n') {
			d->line++;
			d->col = 1;
		} else if (!is_cont((unsigned char)p->text[k])) {
			d->col++;
		}
	}
}

/* Block scalars' marks run to the next token; end at the last content. */
static void trim_block_end(const struct yp *p, struct doc *d)
{
	while (d->end > d->off && strchr(" \t\r\n", p->text[d->end - 1]))
		d->end--;
}

/* ---- errors ---- */

static int fail_at(struct yp *p, int code, const yaml_mark_t *m,
		   const char *what, const char *detail)
{
	return err_set(p->e, code, "line %zu column %zu: %s%s", m->line + 1,
		       m->column + 1, what, detail ? detail : "");
}

/* Copy @s into @out for a message: at most 64 bytes, controls as '?'. */
static const char *msg_text(char *out, size_t cap, const char *s)
{
	size_t k;

	for (k = 0; s[k] && k + 4 < cap && k < 64; k++)
		out[k] = (unsigned char)s[k] < 0x20 ? '?' : s[k];
	out[k] = '\0';
	if (s[k])
		memcpy(out + k, "...", 4);
	return out;
}

static int libyaml_error(struct yp *p)
{
	yaml_parser_t *y = &p->parser;
	const char *what = y->problem ? y->problem : "invalid YAML";
	char ctx[128] = "";
	size_t line, col;

	if (y->error == YAML_MEMORY_ERROR)
		return err_set(p->e, -ENOMEM, "out of memory parsing YAML");
	if (y->error == YAML_READER_ERROR) {
		line_col(p->text,
			 p->base + y->problem_offset < p->len
			     ? p->base + y->problem_offset
			     : p->len,
			 &line, &col);
		return err_set(p->e, -EBADMSG, "line %zu column %zu: %s", line,
			       col, what);
	}
	if (y->context &&
	    snprintf(ctx, sizeof(ctx), " (%s)", y->context) >= (int)sizeof(ctx))
		ctx[0] = '\0';
	return fail_at(p, -EBADMSG, &y->problem_mark, what, ctx);
}

/* ---- the stack, anchors and limits ---- */

static struct frame *top(struct yp *p)
{
	return p->depth ? &p->stack[p->depth - 1] : NULL;
}

static int count_nodes(struct yp *p, size_t add, const yaml_mark_t *m)
{
	if (add > p->lim->max_nodes - p->nodes)
		return err_set(
		    p->e, -EFBIG,
		    "line %zu column %zu: document has more than %zu nodes",
		    m->line + 1, m->column + 1, p->lim->max_nodes);
	p->nodes += add;
	return 0;
}

/* Lists count an item when it arrives, maps when its key arrives. */
static int check_items(struct yp *p, const yaml_mark_t *m)
{
	const struct frame *f = top(p);

	if (!f || f->node->n < p->lim->max_items)
		return 0;
	return err_set(p->e, -EFBIG,
		       "line %zu column %zu: more than %zu items in one %s",
		       m->line + 1, m->column + 1, p->lim->max_items,
		       f->node->type == DOC_MAP ? "map" : "list");
}

/* One more node at @m: room in its collection and in the node budget. */
static int admit_node(struct yp *p, const yaml_mark_t *m)
{
	int rc = check_items(p, m);

	return rc < 0 ? rc : count_nodes(p, 1, m);
}

static int check_tag(struct yp *p, const yaml_event_t *ev, const char *tag,
		     const char *want)
{
	size_t pre = strlen(CORE_TAG), n;
	const char *w, *name;
	char tmp[80];

	if (!tag)
		return 0;
	name = tag + pre;
	/* @want is a space-separated word list; match a whole word. */
	if (!strncmp(tag, CORE_TAG, pre) && *name) {
		n = strlen(name);
		for (w = strstr(want, name); w; w = strstr(w + 1, name))
			if ((w == want || w[-1] == ' ') &&
			    (w[n] == ' ' || w[n] == '\0'))
				return 0;
	}
	return err_set(p->e, -EBADMSG,
		       "line %zu column %zu: unsupported tag \"%s\"",
		       ev->start_mark.line + 1, ev->start_mark.column + 1,
		       msg_text(tmp, sizeof(tmp), tag));
}

static int add_anchor(struct yp *p, const char *name, const struct doc *d,
		      size_t nodes, size_t height)
{
	struct anchor *a;

	if (array_reserve(&p->anchors, &p->anchors_alloc, p->nanchors,
			  sizeof(*a)) < 0)
		return -ENOMEM;
	a = &p->anchors[p->nanchors];
	a->name = strdup(name);
	if (!a->name)
		return -ENOMEM;
	a->node = d;
	a->nodes = nodes;
	a->height = height;
	p->nanchors++;
	return 0;
}

/* The latest definition wins, as YAML allows redefining an anchor. */
static const struct anchor *find_anchor(const struct yp *p, const char *name)
{
	size_t k = p->nanchors;

	while (k-- > 0)
		if (!strcmp(p->anchors[k].name, name))
			return &p->anchors[k];
	return NULL;
}

/* ---- building the tree ---- */

/* Append @d to the open container (or make it the root); frees @d on
 * failure.  Map values take the pending key. */
static int attach(struct yp *p, struct doc *d)
{
	struct frame *f = top(p);
	struct doc *c;

	if (!f) {
		p->root = d;
		return 0;
	}
	c = f->node;
	if (c->type == DOC_LIST)
		return doc_list_add(c, d);
	/* The key was checked for duplicates when it arrived, so append
	 * without doc_map_set()'s linear search. */
	if (c->n == c->alloc) {
		size_t want = c->alloc ? c->alloc * 2 : 4;
		struct doc_kv *kv = realloc(c->u.kv, want * sizeof(*kv));

		if (!kv) {
			doc_free(d);
			return -ENOMEM;
		}
		c->u.kv = kv;
		c->alloc = want;
	}
	c->u.kv[c->n].key = f->key;
	c->u.kv[c->n].val = d;
	c->n++;
	f->key = NULL;
	return yaml_keyset_add(&f->keys, c);
}

/* Height (0 for a scalar) and node count of a subtree. */
static size_t subtree(const struct doc *d, size_t *nodes)
{
	size_t k, h, best = 0;

	(*nodes)++;
	if (d->type != DOC_LIST && d->type != DOC_MAP)
		return 0;
	for (k = 0; k < d->n; k++) {
		h = subtree(d->type == DOC_MAP ? d->u.kv[k].val : d->u.items[k],
			    nodes);
		if (h > best)
			best = h;
	}
	return best + 1;
}

static bool want_key(struct yp *p)
{
	const struct frame *f = top(p);

	return f && f->node->type == DOC_MAP && !f->key;
}

static int take_key(struct yp *p, const yaml_mark_t *m, const char *s, size_t n)
{
	struct frame *f = top(p);
	char tmp[80];
	int rc;

	if (n > p->lim->max_str)
		return err_set(
		    p->e, -EFBIG,
		    "line %zu column %zu: string longer than %zu bytes",
		    m->line + 1, m->column + 1, p->lim->max_str);
	if (memchr(s, 0, n))
		return fail_at(p, -EBADMSG, m, "map key contains a NUL byte",
			       NULL);
	if (yaml_keyset_has(&f->keys, f->node, s))
		return err_set(
		    p->e, -EBADMSG, "line %zu column %zu: duplicate key \"%s\"",
		    m->line + 1, m->column + 1, msg_text(tmp, sizeof(tmp), s));
	rc = check_items(p, m);
	if (rc < 0)
		return rc;
	f->key = malloc(n + 1);
	if (!f->key)
		return -ENOMEM;
	memcpy(f->key, s, n + 1);
	return 0;
}

static int key_event(struct yp *p, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	int rc = check_tag(p, ev, tag, SCALAR_TAGS);

	if (rc < 0)
		return rc;
	if (ev->data.scalar.anchor)
		return fail_at(p, -EBADMSG, &ev->start_mark,
			       "anchors on map keys are not supported", NULL);
	return take_key(p, &ev->start_mark, (const char *)ev->data.scalar.value,
			ev->data.scalar.length);
}

static struct doc *scalar_node(struct yp *p, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t n = ev->data.scalar.length;
	const char *why;
	char tmp[80];
	struct doc *d;

	if (tag) {
		d = yaml_resolve_tagged(tag, s, n, &why);
		if (!d && why)
			err_set(p->e, -EBADMSG, "line %zu column %zu: %s\"%s\"",
				ev->start_mark.line + 1,
				ev->start_mark.column + 1, why,
				msg_text(tmp, sizeof(tmp), tag));
		return d;
	}
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return yaml_resolve_plain(s, n);
	return doc_str(s, n);
}

static int scalar_event(struct yp *p, const yaml_event_t *ev)
{
	yaml_scalar_style_t st = ev->data.scalar.style;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	bool props = anchor || ev->data.scalar.tag;
	struct doc *d;
	int rc;

	if (want_key(p))
		return key_event(p, ev);
	rc = check_tag(p, ev, (const char *)ev->data.scalar.tag, SCALAR_TAGS);
	if (rc == 0 && ev->data.scalar.length > p->lim->max_str)
		rc =
		    err_set(p->e, -EFBIG,
			    "line %zu column %zu: string longer than %zu bytes",
			    ev->start_mark.line + 1, ev->start_mark.column + 1,
			    p->lim->max_str);
	if (rc == 0)
		rc = admit_node(p, &ev->start_mark);
	if (rc < 0)
		return rc;
	p->e->code = 0;
	d = scalar_node(p, ev);
	if (!d)
		return p->e->code ? p->e->code : -ENOMEM;
	d->flags = st == YAML_PLAIN_SCALAR_STYLE ? DOC_F_PLAIN : DOC_F_QUOTED;
	set_pos(p, d, ev, props);
	if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE)
		trim_block_end(p, d);
	if (!top(p))
		p->root_empty = st == YAML_PLAIN_SCALAR_STYLE && !props &&
				ev->data.scalar.length == 0;
	rc = attach(p, d);
	if (rc == 0 && anchor)
		rc = add_anchor(p, anchor, d, 1, 0);
	return rc;
}

static int push(struct yp *p, struct doc *d, const char *anchor, bool flow)
{
	struct frame *f;

	if (array_reserve(&p->stack, &p->stack_alloc, p->depth,
			  sizeof(*f)) < 0)
		return -ENOMEM;
	f = &p->stack[p->depth];
	memset(f, 0, sizeof(*f));
	f->node = d;
	f->flow = flow;
	if (anchor) {
		f->anchor = strdup(anchor);
		if (!f->anchor)
			return -ENOMEM;
	}
	p->depth++;
	return 0;
}

static void pop(struct yp *p)
{
	struct frame *f = &p->stack[--p->depth];

	free(f->key);
	free(f->anchor);
	yaml_keyset_release(&f->keys);
}

static int start_event(struct yp *p, const yaml_event_t *ev, enum doc_type t)
{
	bool map = t == DOC_MAP;
	const char *tag = (const char *)(map ? ev->data.mapping_start.tag
					     : ev->data.sequence_start.tag);
	const char *anchor =
	    (const char *)(map ? ev->data.mapping_start.anchor
			       : ev->data.sequence_start.anchor);
	bool flow =
	    map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
		: ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	struct doc *d;
	int rc;

	if (want_key(p))
		return fail_at(p, -EBADMSG, &ev->start_mark,
			       "map keys must be scalars", NULL);
	rc = check_tag(p, ev, tag, map ? "map" : "seq");
	if (rc == 0 && p->depth >= p->lim->max_depth)
		rc = err_set(p->e, -EFBIG,
			     "line %zu column %zu: nesting deeper than %zu",
			     ev->start_mark.line + 1, ev->start_mark.column + 1,
			     p->lim->max_depth);
	if (rc == 0)
		rc = admit_node(p, &ev->start_mark);
	if (rc < 0)
		return rc;
	d = doc_new(t);
	if (!d)
		return -ENOMEM;
	set_pos(p, d, ev, anchor || tag);
	d->end = d->off;
	rc = attach(p, d);
	return rc < 0 ? rc : push(p, d, anchor, flow);
}

static int end_event(struct yp *p, const yaml_event_t *ev)
{
	struct frame *f = top(p);
	struct doc *d = f->node, *last = NULL;
	size_t nodes = 0, height;
	int rc = 0;

	if (d->n)
		last = d->type == DOC_MAP ? d->u.kv[d->n - 1].val
					  : d->u.items[d->n - 1];
	/* A block collection's end mark sits at the next token; it really
	 * ends where its last entry does. */
	if (f->flow || !last)
		d->end = byte_at(p, ev->end_mark.index);
	else
		d->end = last->end;
	if (d->end < d->off)
		d->end = d->off;
	if (f->anchor) {
		height = subtree(d, &nodes);
		rc = add_anchor(p, f->anchor, d, nodes, height);
	}
	pop(p);
	return rc;
}

static bool anchor_open(const struct yp *p, const char *name)
{
	size_t k;

	for (k = 0; k < p->depth; k++)
		if (p->stack[k].anchor && !strcmp(p->stack[k].anchor, name))
			return true;
	return false;
}

static int alias_event(struct yp *p, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const yaml_mark_t *m = &ev->start_mark;
	const struct anchor *a;
	struct doc *d;
	char tmp[80];
	int rc;

	if (++p->aliases > p->lim->max_aliases)
		return err_set(p->e, -EFBIG,
			       "line %zu column %zu: more than %zu aliases",
			       m->line + 1, m->column + 1, p->lim->max_aliases);
	a = find_anchor(p, name);
	if (!a)
		return err_set(p->e, -EBADMSG,
			       "line %zu column %zu: %s alias \"*%s\"",
			       m->line + 1, m->column + 1,
			       anchor_open(p, name) ? "recursive" : "undefined",
			       msg_text(tmp, sizeof(tmp), name));
	if (want_key(p)) {
		if (!doc_is_scalar(a->node))
			return fail_at(p, -EBADMSG, m,
				       "map keys must be scalars", NULL);
		return take_key(p, m, a->node->u.s, a->node->n);
	}
	if (p->depth + a->height > p->lim->max_depth)
		return err_set(p->e, -EFBIG,
			       "line %zu column %zu: nesting deeper than %zu",
			       m->line + 1, m->column + 1, p->lim->max_depth);
	rc = check_items(p, m);
	if (rc == 0)
		rc = count_nodes(p, a->nodes, m);
	if (rc < 0)
		return rc;
	d = doc_clone(a->node);
	if (!d)
		return -ENOMEM;
	set_pos(p, d, ev, false);
	return attach(p, d);
}

static int doc_event(struct yp *p, const yaml_event_t *ev)
{
	if (p->docs++ > 0)
		return fail_at(p, -EBADMSG, &ev->start_mark,
			       "multiple documents (only one is allowed)",
			       NULL);
	return 0;
}

static int on_event(struct yp *p, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		return doc_event(p, ev);
	case YAML_SCALAR_EVENT:
		return scalar_event(p, ev);
	case YAML_SEQUENCE_START_EVENT:
		return start_event(p, ev, DOC_LIST);
	case YAML_MAPPING_START_EVENT:
		return start_event(p, ev, DOC_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return end_event(p, ev);
	case YAML_ALIAS_EVENT:
		return alias_event(p, ev);
	case YAML_STREAM_END_EVENT:
		if (!p->root || p->root_empty)
			return err_set(p->e, -EBADMSG, "empty document");
		return 0;
	default:
		return 0;
	}
}

/* Pull events until the stream ends; each event is deleted once. */
static int run(struct yp *p)
{
	yaml_event_t ev;
	bool done;
	int rc;

	for (;;) {
		if (!yaml_parser_parse(&p->parser, &ev))
			return libyaml_error(p);
		rc = on_event(p, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (rc < 0 || done)
			return rc;
	}
}

static void release(struct yp *p)
{
	size_t k;

	while (p->depth)
		pop(p);
	free(p->stack);
	for (k = 0; k < p->nanchors; k++)
		free(p->anchors[k].name);
	free(p->anchors);
}

/* Checks made on the raw bytes before libyaml sees them. */
static int precheck(const char *text, size_t len, const struct yaml_limits *lim,
		    struct err *e)
{
	const char *nul;
	size_t line, col;

	if (len > lim->max_bytes)
		return err_set(e, -EFBIG, "document exceeds %zu bytes",
			       lim->max_bytes);
	nul = len ? memchr(text, 0, len) : NULL;
	if (nul) {
		line_col(text, (size_t)(nul - text), &line, &col);
		return err_set(e, -EBADMSG,
			       "line %zu column %zu: NUL byte at offset %zu",
			       line, col, (size_t)(nul - text));
	}
	return 0;
}

static bool all_ascii(const char *t, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if ((unsigned char)t[k] >= 0x80)
			return false;
	return true;
}

int yaml_parse(const char *text, size_t len, const struct yaml_limits *lim,
	       struct doc **out, struct err *e)
{
	struct err le = {0, ""};
	struct yp p;
	int rc;

	if (!lim)
		lim = &yaml_default_limits;
	if (!text) {
		text = "";
		len = 0;
	}
	rc = precheck(text, len, lim, e);
	if (rc < 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.len = len;
	p.lim = lim;
	p.e = &le;
	/* With the encoding preset, libyaml would read a BOM as a character
	 * of the first line and misjudge its indentation; skip it here. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		p.base = 3;
	p.cur_byte = p.base;
	p.ascii = all_ascii(text + p.base, len - p.base);
	if (!yaml_parser_initialize(&p.parser))
		return err_set(e, -ENOMEM, "out of memory parsing YAML");
	yaml_parser_set_encoding(&p.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(
	    &p.parser, (const unsigned char *)text + p.base, len - p.base);
	rc = run(&p);
	yaml_parser_delete(&p.parser);
	release(&p);
	if (rc < 0) {
		doc_free(p.root);
		if (!le.code)
			err_set(&le, rc, "out of memory parsing YAML");
		if (e)
			*e = le;
		return rc;
	}
	*out = p.root;
	return 0;
}
