/*
 * buf.h - bounded growable byte buffers (after git's strbuf and curl's dynbuf).
 *
 * A buffer always has a cap, set at init; growing past it fails with
 * -EFBIG and leaves the contents as they were.  Memory a buffer gives back
 * (when it grows or is released) is zeroed first: buffers carry documents,
 * which may hold secret values.  data is NUL-terminated
 * whenever it is non-NULL, so text can be used as a C string.
 */
#ifndef EXECFS_BUF_H
#define EXECFS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;	/* NULL until the first byte is added */
	size_t len;	/* bytes used, excluding the NUL */
	size_t alloc;	/* bytes allocated */
	size_t cap;	/* maximum len */
	size_t used;	/* bytes of data ever written: what is zeroed (the
			   rest of a large block was never touched) */
};

#define BUF_INIT(c) { NULL, 0, 0, (c), 0 }

/** buf_init() - empty buffer that may hold at most @cap bytes. */
void buf_init(struct buf *b, size_t cap);

/** buf_release() - free the memory; @b is empty again (same cap). NULL-safe. */
void buf_release(struct buf *b);

/** buf_reset() - length 0, keep the memory. */
void buf_reset(struct buf *b);

/**
 * buf_add() - append @n bytes.
 * Return: 0, -EFBIG past the cap, -ENOMEM.  On failure @b is unchanged.
 */
int buf_add(struct buf *b, const void *p, size_t n);

/** buf_addstr() - append a C string.  Errors as buf_add(). */
int buf_addstr(struct buf *b, const char *s);

/** buf_addc() - append one byte.  Errors as buf_add(). */
int buf_addc(struct buf *b, char c);

/** buf_addvarint() - append @v as unsigned LEB128 (1-10 bytes).  Errors as
 * buf_add(). */
int buf_addvarint(struct buf *b, uint64_t v);

/** buf_addf() - append printf output.  Errors as buf_add(). */
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** buf_vaddf() - va_list form of buf_addf(). */
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/** buf_truncate() - shorten to @len (no-op if already shorter). */
void buf_truncate(struct buf *b, size_t len);

/**
 * buf_detach() - take the bytes; @b is empty afterwards.
 * @len: may be NULL.
 * Return: malloc'd NUL-terminated bytes, caller frees with free(); never
 *         NULL (an empty buffer gives a 1-byte allocation) unless out of
 *         memory.
 */
char *buf_detach(struct buf *b, size_t *len);

/**
 * array_reserve() - make room for one more element in a growable array:
 * when @used == *@alloc, double the allocation (8 elements at first).
 * @arrp: address of the array pointer (any element type).
 * Return: 0 or -ENOMEM (the array is unchanged).
 */
int array_reserve(void *arrp, size_t *alloc, size_t used, size_t elem);

#endif
