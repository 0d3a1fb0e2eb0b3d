/*
 * buf.c - bounded growable byte buffers.  See buf.h for the contract.
 */
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
	b->used = 0;
}

void buf_release(struct buf *b)
{
	if (!b)
		return;
	/* Buffers carry documents, which may hold secret values. */
	if (b->data)
		explicit_bzero(b->data, b->used);
	free(b->data);
	buf_init(b, b->cap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for @n more bytes plus the NUL; doubles to amortize. */
static int buf_grow(struct buf *b, size_t n)
{
	size_t want, sz;
	char *p;

	if (n > b->cap - b->len)
		return -EFBIG;
	want = b->len + n + 1;
	if (want <= b->alloc)
		return 0;
	sz = b->alloc ? b->alloc : 64;
	while (sz < want)
		sz = sz > (size_t)-1 / 2 ? want : sz * 2;
	/* Not realloc: the old block is wiped before it is freed, so no copy
	   of a document (which may hold secret values) stays in the heap. */
	p = malloc(sz);
	if (!p)
		return -ENOMEM;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		explicit_bzero(b->data, b->used);
		free(b->data);
	}
	b->data = p;
	b->alloc = sz;
	b->used = b->data ? b->len + 1 : 0;
	return 0;
}

/* @b's bytes up to its NUL were written. */
static void mark_used(struct buf *b)
{
	if (b->len + 1 > b->used)
		b->used = b->len + 1;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int rc = buf_grow(b, n);

	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	mark_used(b);
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	rc = buf_grow(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	mark_used(b);
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

int array_reserve(void *arrp, size_t *alloc, size_t used, size_t elem)
{
	void *old, *p;
	size_t want;

	if (used < *alloc)
		return 0;
	want = *alloc ? *alloc * 2 : 8;
	if (want > (size_t)-1 / elem)
		return -ENOMEM;
	/* Through memcpy: the caller's pointer has its own element type. */
	memcpy(&old, arrp, sizeof(old));
	p = realloc(old, want * elem);
	if (!p)
		return -ENOMEM;
	memcpy(arrp, &p, sizeof(p));
	*alloc = want;
	return 0;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	if (len)
		*len = b->len;
	buf_init(b, b->cap);
	return p;
}

int buf_addvarint(struct buf *b, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;

	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	return buf_add(b, t, n);
}
