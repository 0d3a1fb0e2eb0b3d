/*
 * follow.h - the parked reads of follow/log and follow/events (DESIGN 1.6).
 *
 * A follow file is read at the kernel's offset, a byte position in the
 * stream, like any seekable file: a read that finds bytes at its offset
 * is answered at once with the stream's bytes from there; one at or past
 * the end of a stream that ended is answered with EOF; any other read is
 * parked: the request is kept here and the worker thread returns to
 * libfuse's pool, so a thousand waiting readers cost memory, not threads.
 * Reads take nothing from the stream, so a reader may seek back (GNU head
 * and grep do) and read the same bytes again.
 *
 * follow_wake() is the plane's stream notify (and is called on every
 * change of an execution, so a run that ends or is deleted without a
 * stream append still answers its readers): it moves every parked read
 * of that stream to a ready list and the registry's one waker thread
 * answers them (or parks them again when the stream has not reached their
 * offset yet).  Reads check for bytes and park under the registry
 * lock, and follow_wake() takes that lock after the plane appended, so no
 * wakeup is lost between the check and the park.
 *
 * An interrupted read (Ctrl-C, `timeout 1 cat`) is answered with EINTR
 * from libfuse's interrupt callback; follow_stop() answers every parked
 * read with ENOTCONN (the daemon is stopping; the run did not end).
 *
 * Every reply and every libfuse call goes through struct follow_env, so
 * the state machine can be tested without a kernel.
 *
 * Thread rules: every function is thread-safe; the registry lock is never
 * held across an env call other than ->stat and ->poll_destroy.
 */
#ifndef EXECFS_FOLLOW_H
#define EXECFS_FOLLOW_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

struct follow;
struct follow_h;

/* What the registry needs from the plane and from libfuse. */
struct follow_env {
	void *ctx;
	/* Bytes in stream @stream of @serial so far, and whether it ended.
	   Called with the registry lock held: must not call back here.
	   Return: 0 or -errno. */
	int (*stat)(void *ctx, uint64_t serial, int stream, uint64_t *size,
		    bool *done);
	/* Append up to @size bytes at @off to @out.  Return: bytes, -errno. */
	ssize_t (*read)(void *ctx, uint64_t serial, int stream, uint64_t off,
			size_t size, struct buf *out);
	int (*reply_buf)(fuse_req_t req, const char *data, size_t size);
	int (*reply_err)(fuse_req_t req, int err);
	/* fuse_req_interrupt_func() */
	void (*intr)(fuse_req_t req, fuse_interrupt_func_t fn, void *data);
	int (*poll_notify)(struct fuse_pollhandle *ph);
	void (*poll_destroy)(struct fuse_pollhandle *ph);
};

/**
 * follow_new() - an empty registry using @env (copied).
 * Return: 0 and *out (free with follow_free()); -ENOMEM.
 */
int follow_new(struct follow **out, const struct follow_env *env);

/**
 * follow_start() - start the waker thread.  Without it, follow_pump()
 * must be called to answer woken reads (tests do).
 * Return: 0; -EAGAIN (no thread).
 */
int follow_start(struct follow *f);

/**
 * follow_stop() - the daemon is stopping: every parked read and every read
 * after this is answered with ENOTCONN, the waker thread ends.  Call once
 * no request can arrive any more (the session loop returned).  NULL-safe.
 */
void follow_stop(struct follow *f);

/**
 * follow_free() - follow_stop(), release the handles still open (the
 * unmount came first, their files are never released), free.  NULL-safe.
 */
void follow_free(struct follow *f);

/**
 * follow_open() - a handle reading stream @stream of execution @serial
 * from offset 0.  Return: 0 and *out (release with follow_release()); -ENOMEM.
 */
int follow_open(struct follow *f, uint64_t serial, int stream,
		struct follow_h **out);

/**
 * follow_release() - drop the handle and its poll handle.  A read still
 * parked on it (the kernel never releases a file while reading it) is
 * answered with EBADF.  NULL-safe.
 */
void follow_release(struct follow *f, struct follow_h *h);

/**
 * follow_read() - read up to @size bytes at offset @off of @h's stream
 * and reply to @req, now or later (parked while the stream is running
 * and has no byte at @off); @req is answered exactly once (bytes, EOF,
 * EINTR, ENOTCONN, or the errno of a failed read).
 */
void follow_read(struct follow *f, struct follow_h *h, fuse_req_t req,
		 uint64_t off, size_t size);

/**
 * follow_poll() - poll: *@revents = POLLIN when bytes are at @h's position
 * (where its last read ended: a poll request carries no offset, and a
 * seek is the kernel's alone) or the stream ended, else 0 and @ph (may
 * be NULL) is kept (replacing the previous one) until the next wake of
 * that stream.  Ownership of @ph passes to the registry in every case.
 * Return: 0 or the -errno of ->stat.
 */
int follow_poll(struct follow *f, struct follow_h *h,
		struct fuse_pollhandle *ph, unsigned *revents);

/**
 * follow_wake() - bytes were appended to (or the end reached of) stream
 * @stream of @serial, or anything else changed that ->stat reports: its
 * parked reads become ready and its poll handles are notified, by the
 * waker thread.  Every such change must be followed by a wake: ->stat
 * results are reused until the next one.  Never blocks on I/O.
 */
void follow_wake(struct follow *f, uint64_t serial, int stream);

/**
 * follow_pump() - answer, on this thread, what follow_wake() made ready.
 * Return: how many reads and poll handles were handled.
 */
size_t follow_pump(struct follow *f);

/** follow_parked() - reads parked now (for tests and the log). */
size_t follow_parked(struct follow *f);

#endif
