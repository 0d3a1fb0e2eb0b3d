/*
 * evcode.h - an execution's events as stored: each line event refers to
 * its text in the log instead of holding a second copy (issue 12).
 *
 * A line event reads P + T + "}\n": P its head (type, id, time, task,
 * stream, up to "text":), T its text JSON-quoted, and the text is a run
 * of bytes of the log.  The coder writes records into chunks, each chunk
 * decodable alone:
 *
 *   LIT   1, n, n bytes		  bytes as they are (every other event)
 *   LINE  3, slots, head, tail, m,  P: the first @head and last @tail
 *	   m bytes, skip, len, qx	  bytes of the head kept in slot
 *					  slots / EVC_SLOTS around m new
 *					  ones; the text: @len
 *					  bytes of the log from the end of
 *					  the chunk's previous line's text
 *					  plus @skip; T is @len + @qx bytes
 *
 * Numbers are unsigned LEB128.  P then goes to slot slots % EVC_SLOTS
 * (the slots are empty at a chunk's start), so a task's lines cost a few
 * bytes each beside their text.  The bytes a chunk stands for are the
 * events' own: readers see the same bytes at the same offsets.
 */
#ifndef EXECFS_EVCODE_H
#define EXECFS_EVCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define EVC_SLOTS 4
#define EVC_HEAD_MAX 4096	/* a longer head is kept as LIT */
#define EVC_TEXT_MAX (1u << 20)	/* a longer text is kept as LIT */

/* The coder's state for the chunk being written. */
struct evenc {
	char *head[EVC_SLOTS];	/* EVC_HEAD_MAX bytes each; NULL: empty */
	size_t hlen[EVC_SLOTS];
	uint64_t used[EVC_SLOTS]; /* when each slot was last used */
	uint64_t clock;
	uint64_t log_next;	/* log offset after the last line's text */
};

/** evenc_reset() - start a new chunk (frees the kept heads). */
void evenc_reset(struct evenc *en);

/**
 * evenc_lit() - code @n bytes as they are.
 * Return: 0; buf errors (then @code is as it was).
 */
int evenc_lit(struct evenc *en, struct buf *code, const char *p, size_t n);

/**
 * evenc_line() - code the line event @ev (@n bytes, its quoted text at
 * @text_at, ending in "}\n") whose text is @len bytes of the log at
 * @log_off.  An event of another shape, or a log offset behind the last
 * line's, is coded as LIT.
 * Return: 0; buf errors (then @code is as it was).
 */
int evenc_line(struct evenc *en, struct buf *code, const char *ev, size_t n,
	       size_t text_at, uint64_t log_off, size_t len);

/**
 * evc_log_fn - append @n bytes of the log from @off to @out.
 * Return: bytes appended (fewer at the log's end); -errno.
 */
typedef ssize_t (*evc_log_fn)(void *ctx, uint64_t off, size_t n,
			      struct buf *out);

/**
 * evc_render() - append to @out the bytes from offset @off (at most @size)
 * of the chunk @code (@n bytes) that stands for @vlen bytes from stream
 * offset @start (a record past them does not decode),
 * reading line texts through @log.  A text the log does not have (it was
 * lost) reads as "" padded with blanks to the event's length.
 * Return: bytes appended (0 at or past the chunk's end); -EIO (the chunk
 *   does not decode); the log's or buf errors (then nothing is appended).
 */
ssize_t evc_render(const char *code, size_t n, uint64_t start, uint64_t vlen,
		   uint64_t off, size_t size, evc_log_fn log, void *ctx,
		   struct buf *out);

#endif
