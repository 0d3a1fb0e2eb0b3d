/*
 * streams.h - the log and events of executions (DESIGN 1.6): byte streams
 * that grow while a run writes them and are read back by offset.
 *
 * The events are stored coded (evcode.h): a line event as a reference to
 * its text in the log, so output is stored once; readers see the events'
 * bytes either way.  (Executions written before that keep their events as
 * plain bytes in store stream 1 and are read as such.)
 *
 * While a run is going, each of its streams is a sink: the bytes live in
 * memory (up to the sink's cap; coded events as their code, rendered for
 * a read as from the store) and a flusher thread persists what is new
 * every STREAMS_FLUSH_MS, all sinks together in one store_commit() (chunks
 * of store.h, appended with STORE_APPEND at the stream's stored size).
 * After sink_close() has persisted the rest, the sink is dropped and reads
 * are served from the store.  So the bytes a reader saw may be up to one
 * flush interval ahead of the disk: a daemon killed with -9 loses at most
 * that much of a stream, never a status change (those are records).
 *
 * Readers do not register here: after each append and at close the
 * streams call the notify function (plane_set_stream_notify()) with the
 * serial and stream, from the appending thread, with no lock held.
 *
 * Thread rules: every function is thread-safe.  A sink is written by one
 * thread at a time (its run); reads may come from any thread.
 */
#ifndef EXECFS_STREAMS_H
#define EXECFS_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "evcode.h"
#include "plane.h"
#include "store.h"

#define STREAMS_FLUSH_MS 50
/* a sink with this much not persisted wakes the flusher at once */
#define STREAMS_KICK (4u << 20)

struct streams;
struct sink;

/**
 * streams_new() - the registry over @st (borrowed: it must outlive the
 * streams), with its flusher thread.
 * Return: 0 and *out; -ENOMEM; -EAGAIN (no thread).
 */
int streams_new(struct streams **out, struct store *st);

/**
 * streams_free() - stop the flusher after persisting every open sink
 * (sinks still open are closed: marked done, notified), free.  NULL-safe.
 */
void streams_free(struct streams *ss);

/** streams_set_notify() - the callback described above; once, before use. */
void streams_set_notify(struct streams *ss, plane_stream_fn fn, void *ctx);

/**
 * streams_open() - a sink for stream @s of execution @serial.  Bytes the
 * store already holds for it (a run recovered after a restart) are kept:
 * the sink continues at the stored size.
 * @cap: bytes the stream may reach in total; appends past it fail.
 * Return: 0 and *out (close with sink_close()); -EBUSY when that stream
 *   already has a sink; -EINVAL (@s); -ENOMEM; -EIO.
 */
int streams_open(struct streams *ss, uint64_t serial, enum plane_stream s,
		 uint64_t cap, struct sink **out);

/**
 * sink_append() - add @n bytes (all or nothing), then notify.
 * Return: 0; -EFBIG when they would pass the cap (nothing added);
 *   -ENOMEM.
 */
int sink_append(struct sink *k, const void *data, size_t n);

/**
 * sink_append_lines() - append the line events @l[0..nl) (evcode.h), all
 * or nothing, then notify.  The events stream keeps such an event as a
 * reference to the log's bytes, never a second copy of them, in memory
 * as in the store: the caller must have appended them to the log's sink
 * first.  Return: as sink_append().
 */
int sink_append_lines(struct sink *k, const struct evc_line *l, size_t nl);

/** sink_size() - bytes in the stream so far (stored + in memory). */
uint64_t sink_size(const struct sink *k);

/** sink_room() - bytes that may still be appended before the cap. */
uint64_t sink_room(const struct sink *k);

/**
 * sink_flush() - persist what is new now, without waiting for the flusher
 * (a run does it before it reports its end).
 * Return: 0; -ENOSPC; -EIO, also when the stream can no longer be
 *   persisted because its execution was deleted under the run (its chunks
 *   went with it): the sink then keeps its bytes in memory only, said
 *   once on stderr.
 */
int sink_flush(struct sink *k, struct err *e);

/**
 * sink_wait_backlog() - wait, at most @ms milliseconds, until @k has at
 * most @most bytes not persisted yet (at once when it has, or when it
 * cannot be persisted): a writer faster than the disk is held back
 * instead of filling memory.
 */
void sink_wait_backlog(struct sink *k, uint64_t most, int ms);

/** sink_backlog() - the bytes of @k not persisted yet (0 when it cannot
 * be persisted: nothing to wait for). */
uint64_t sink_backlog(const struct sink *k);

/**
 * sink_close() - persist the rest, mark the stream done, notify, drop the
 * sink.  A stream whose bytes could not be persisted stays readable from
 * memory until streams_free().  NULL-safe.
 */
void sink_close(struct sink *k);

/**
 * streams_stat() - size and mtime of stream @s of @serial and whether a
 * sink is writing it (*live: open and not ended by streams_end_all()).
 * Without a sink: the stored size and a zero mtime (the caller shows the
 * execution's updated_at); a sink's mtime is zero until its first append.
 * Return: 0; -EINVAL (@s); -EIO.
 */
int streams_stat(struct streams *ss, uint64_t serial, enum plane_stream s,
		 uint64_t *size, struct timespec *mtime, bool *live);

/**
 * streams_read() - append to @out up to @size bytes from offset @off, from
 * the sink when there is one, else from the store.
 * Return: bytes appended (0 at or past the end); -EINVAL (@s); -EIO; buf
 *   errors (then nothing is appended).
 */
ssize_t streams_read(struct streams *ss, uint64_t serial, enum plane_stream s,
		     uint64_t off, size_t size, struct buf *out);

/**
 * sink_end() - no byte will be appended any more: streams_stat() reports
 * the stream not live (the caller decides when it is done).  No notify:
 * the run's final status change wakes the readers.  NULL-safe callers
 * only.
 */
void sink_end(struct sink *k);

/**
 * streams_end_all() - mark every open sink done and notify (the daemon is
 * stopping: parked readers are answered).  Sinks stay open for their runs
 * to close.
 */
void streams_end_all(struct streams *ss);

#endif
