/*
 * redact.h - stream redaction of secret values in task output.
 *
 * A redactor holds the secret values of one run's scope and, for each, the
 * encodings a program is likely to print: the raw bytes; standard base64 and
 * base64url at each of the three byte alignments (the stable inner part,
 * also with the trailing partial character and with '=' padding); URL
 * percent-encoding (%XX upper and lower case, space as %20 or '+'); JSON
 * string escaping (\" \\ \b \f \n \r \t, other control bytes as \u00xx in
 * lower or upper hex, the HTML-safe form with < > & as \u003c \u003e
 * \u0026, and the ASCII-only form with each non-ASCII character as
 * \uxxxx, surrogate pairs above U+FFFF); hex, two digits a byte without
 * separators (xxd -p, hexdump -ve '1/1 "%02x"', printf %02X), matched in
 * lower, upper or mixed case, and for a value over 30 bytes each 60-digit
 * line of it as `xxd -p` wraps it when the value starts a line (the last
 * line only when it holds min_len bytes); and each line of a multi-line
 * value (split at '\n', a trailing '\r' dropped), as is and with
 * surrounding blanks trimmed.  Encoded forms shorter than the minimum
 * length are not registered.  Not caught: hex with separators or offsets
 * (od -tx1, hexdump -C, plain xxd), od -x's byte-swapped 16-bit words, and
 * the hex of a value that `xxd -p` splits at its 60-digit line break: one
 * that does not start its line and crosses the break (at any length; a
 * value of n bytes preceded by other bytes is split about (2n-1)/60 of the
 * time), or one over 30 bytes wrapped at another column.
 *
 * A redact_stream filters one output stream (a task's stdout or stderr).
 * Every occurrence of a registered form is replaced by REDACT_MASK; matches
 * that overlap or touch are merged and masked once.  Key-name patterns are
 * applied to complete lines: in `key: value`, `"key": "value"`, `key=value`
 * and `key = value`, where the key contains (case-insensitively) one of
 * token, password, passwd, secret, apikey, api_key, api-key, authorization,
 * client-key-data, client-certificate-data, id-token, access_token,
 * refresh_token, client_secret, the value is masked: up to the closing quote
 * when it is quoted, else up to whitespace for '=' and for a quoted key,
 * else up to the end of the line.  A leading "Bearer ", "Basic " or
 * "Token " scheme word is kept ("Authorization: Bearer ***").
 *
 * Bytes are held back only while they may still be part of a match: at most
 * (longest form - 1) bytes for the literal forms, and, when key patterns are
 * on, the incomplete last line up to line_cap bytes.  A line longer than
 * line_cap gets literal redaction only.  So a secret split across writes,
 * even one byte at a time, is still caught, and the output does not depend
 * on how the input was chunked.
 *
 * Threads: a redactor is read-only once streams exist, so streams of one
 * redactor may be used from different threads, one thread per stream.
 * redactor_add_secret() must not run concurrently with anything else on
 * the same redactor.
 */
#ifndef EXECFS_REDACT_H
#define EXECFS_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"

#define REDACT_MASK "***"
#define REDACT_MIN_LEN 4		/* default minimum secret length */
#define REDACT_LINE_CAP (64u << 10)	/* default key-pattern line cap */
#define REDACT_SECRET_MAX (8u << 10)	/* longest secret value accepted */

struct redactor;
struct redact_stream;

/* Options; a zeroed struct (or NULL) gives the defaults. */
struct redact_opts {
	size_t min_len;		/* 0: REDACT_MIN_LEN; shorter is refused */
	size_t line_cap;	/* 0: REDACT_LINE_CAP */
	bool no_keys;		/* true: literal secrets only */
};

/**
 * redactor_new() - empty redactor.
 * @out: receives the handle; caller frees with redactor_free().
 * @o: options, copied; NULL for defaults.
 * Return: 0, -EINVAL (min_len below 4 or line_cap below 64),
 *         -ENOMEM, -EIO (libsodium failed to initialise).
 */
int redactor_new(struct redactor **out, const struct redact_opts *o);

/**
 * redactor_free() - wipe every registered form (sodium_memzero, the forms
 * live in sodium_malloc'd memory) and free.  NULL-safe.  All streams of @r
 * must have been freed.
 */
void redactor_free(struct redactor *r);

/**
 * redactor_add_secret() - register @value (@n bytes, copied) and its
 * encodings.  Adding a value already registered is a no-op returning 0.
 * Return: 0; -EINVAL for an empty value; -ERANGE when @n is below min_len
 *         (nothing registered: the caller should warn "too short to redact
 *         reliably", never quoting the value); -E2BIG above
 *         REDACT_SECRET_MAX; -EBUSY while streams of @r exist; -ENOMEM
 *         (some forms may then be registered, the caller should fail the
 *         run rather than stream unredacted output).
 */
int redactor_add_secret(struct redactor *r, const char *value, size_t n);

/**
 * redactor_stream_new() - a stream filter over @r's secrets.
 * @out: receives the handle; caller frees with redact_stream_free().
 * @r is borrowed: it must outlive the stream.
 * Return: 0 or -ENOMEM.
 */
int redactor_stream_new(struct redactor *r, struct redact_stream **out);

/**
 * redact_stream_free() - wipe the held-back bytes and free, without
 * emitting them (call redact_stream_flush() first for that).  NULL-safe.
 */
void redact_stream_free(struct redact_stream *s);

/**
 * redact_stream_write() - feed @n bytes of @in.
 * Appends to @out the redacted bytes that can no longer be part of a match;
 * the rest is held in the stream.
 * Return: 0; -EFBIG or -ENOMEM when @out cannot take the output;
 *         -ENOMEM when the stream cannot grow its buffer.  On
 *         failure @out is left as it was and the stream is broken: it
 *         fails closed, every later call returning the same error and
 *         nothing more being emitted.
 */
int redact_stream_write(struct redact_stream *s, const void *in, size_t n,
			struct buf *out);

/**
 * redact_stream_flush() - end of stream: append the held-back bytes,
 * redacted (an incomplete last line gets key patterns too).  The stream
 * may then be reused for a new stream of bytes.
 * Return: as redact_stream_write().
 */
int redact_stream_flush(struct redact_stream *s, struct buf *out);

#endif
