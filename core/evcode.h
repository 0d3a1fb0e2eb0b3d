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
 *   RUN   4, slots, head, tail, m,  @n line events with the same head
 *	   m bytes, skip, len, n, qx	  (coded as LINE's) whose texts are
 *					  the @n lines, each ending in a
 *					  newline, of the @len bytes of the
 *					  log from where LINE's would be;
 *					  their Ts are @qx bytes longer
 *					  than the texts and their quotes
 *
 * A task printing many short lines costs one RUN per read, not a record
 * per line.  Numbers are unsigned LEB128.  P then goes to slot slots % EVC_SLOTS
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
#define EVC_TEXT_MAX (1u << 20)	/* a longer text (or run) is kept as LIT */
#define EVC_RUN_MAX (1u << 20)	/* a RUN's events, in bytes, at most */

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

/*
 * One line event, or with @lines a run of them: it reads @head (@hlen
 * bytes, up to its quoted text), then @text (@len bytes) JSON-quoted, @qx
 * bytes longer than @len plus its two quotes (json_quoted_len()), then
 * "}\n".  A run: @text holds @lines lines, each ending in a newline, and
 * each is one such event, their Ts @qx bytes longer in all than the lines
 * without their newlines, plus their quotes.  The text is the log's bytes
 * at @log_off, or EVC_NO_LOG when the log does not have it.
 */
struct evc_line {
	const char *head, *text;
	size_t hlen, len, qx, lines;
	uint64_t log_off;
};

#define EVC_NO_LOG UINT64_MAX

/** evc_line_size() - the bytes of event @l. */
uint64_t evc_line_size(const struct evc_line *l);

/**
 * evc_line_render() - append the bytes of event @l to @out.
 * Return: 0; buf errors (then @out is as it was).
 */
int evc_line_render(const struct evc_line *l, struct buf *out);

/** evenc_refers() - whether evenc_line() codes @l as a reference (LINE,
 * RUN), not as its bytes (LIT). */
bool evenc_refers(const struct evenc *en, const struct evc_line *l);

/**
 * evenc_line() - code line event @l as a reference to the log; one it
 * cannot refer to so (no log offset, one behind the last line's, a head
 * or text too long, a run of more than EVC_RUN_MAX bytes) is coded as
 * LIT.
 * Return: 0; buf errors (then @code is as it was).
 */
int evenc_line(struct evenc *en, struct buf *code, const struct evc_line *l);

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
 * lost) reads as "" padded with blanks to the event's length (a RUN's: to
 * the length of all its events, as one).
 * Return: bytes appended (0 at or past the chunk's end); -EIO (the chunk
 *   does not decode); the log's or buf errors (then nothing is appended).
 */
ssize_t evc_render(const char *code, size_t n, uint64_t start, uint64_t vlen,
		   uint64_t off, size_t size, evc_log_fn log, void *ctx,
		   struct buf *out);

#endif
