/*
 * streams_i.h - internals shared by streams.c (the sinks, the flusher,
 * reads) and streams_code.c (the events stored coded, evcode.h).
 */
#ifndef EXECFS_STREAMS_I_H
#define EXECFS_STREAMS_I_H

#include <pthread.h>

#include "evcode.h"
#include "streams.h"

_Static_assert(PLANE_STREAMS <= STORE_STREAMS,
	       "every plane stream needs a store stream");

#define STREAMS_TRIM (1u << 20)	/* persisted bytes kept before a trim */

/* One chunk of coded events: @clen bytes of code standing for @vlen. */
struct seg {
	size_t clen;
	uint64_t vlen;
};

struct sink {
	struct streams *ss;
	uint64_t serial;
	enum plane_stream s;
	uint64_t base;	       /* offset of mem's first byte: the stored
				  size at open, then advanced as persisted
				  bytes leave memory; protected by ss->mu */
	struct buf mem;	       /* bytes from @base on; protected by ss->mu */
	uint64_t flushed;      /* persisted up to here; protected by ss->mu */
	struct timespec mtime; /* of the last append; protected by ss->mu */
	bool done;	       /* protected by ss->mu */
	bool broken;	       /* not persistable; protected by ss->mu */
	struct sink *next;     /* protected by ss->mu */
	/* Coded (events in STORE_CODED): what is not persisted yet, as
	 * code for chunks, from @flushed on (@mem stays empty and @base
	 * follows @flushed); all protected by ss->mu. */
	bool coded;
	uint64_t cap;	       /* the stream's size may not pass this */
	uint64_t vpend;	       /* the bytes @segs stand for */
	struct buf code;       /* the code of @segs, in order */
	struct seg *segs;
	size_t nseg, segcap;
	bool seg_open;	       /* the last seg takes more records */
	struct evenc enc;      /* the coder of the open seg */
};

struct streams {
	struct store *st;
	pthread_mutex_t mu;
	pthread_mutex_t flush_mu; /* one flush at a time, across its commit */
	pthread_cond_t wake;	  /* the flusher sleeps here (monotonic) */
	pthread_cond_t drained;	  /* a commit advanced sinks (monotonic) */
	bool stopping;		  /* protected by mu */
	bool kick;		  /* flush now, not at the interval; mu */
	bool stalled;		  /* the last round failed (as failing); mu */
	bool failing;		  /* last flusher round failed; flush_mu */
	struct sink *live;	  /* open sinks; protected by mu */
	struct sink *closed;	  /* closed, not persisted; protected by mu */
	/* the plain sinks' tails of the flush under way, kept from one
	 * flush to the next while output flows; flush_mu */
	struct buf take;
	plane_stream_fn notify;	  /* set once before use */
	void *notify_ctx;
	pthread_t flusher;
	bool started;
};

/* The unpersisted tail of one sink, copied for a commit: @data, the
 * stream's own (in ss->take, at @at), or for a coded sink @bytes, the
 * code of @segs. */
struct pend {
	struct sink *k;
	uint64_t from, to;
	size_t at;
	const char *data;
	char *bytes;
	struct seg *segs;
	size_t nseg;
};

/* ---- streams_code.c; the code_* functions are called with ss->mu held */

/* Append @n bytes as they are. */
int code_lit(struct sink *k, const char *p, size_t n);

/* Append the line events @l[0..nl) (as sink_append_lines()). */
int code_lines(struct sink *k, const struct evc_line *l, size_t nl);

/* Copy the code not persisted into @p (closing the open seg).
   Return: 0; -ENOMEM. */
int code_take(struct pend *p, struct sink *k);

/* @p is persisted: drop its code from @k. */
void code_done(struct sink *k, const struct pend *p);

/* The changes for @p, one per seg, into @c.  Return: how many. */
size_t code_changes(const struct pend *p, struct store_change *c);

/* Free what the coded part of @k holds. */
void code_free(struct sink *k);

/* Read the stored coded events of @serial (no lock held).
   Return: as streams_read(). */
ssize_t code_read(struct streams *ss, uint64_t serial, uint64_t off,
		  size_t size, struct buf *out);

/* The code of a sink's segs a read needs, copied so that the read renders
 * it with no lock held (the log it refers to takes ss->mu). */
struct snap {
	struct buf code;
	struct seg *segs;
	size_t nseg;
	uint64_t start;	       /* stream offset of the first seg */
};

/* Copy into @sn the segs of @k holding [off, off + size); ss->mu held.
   Return: 0; -ENOMEM. */
int code_snap(const struct sink *k, uint64_t off, size_t size,
	      struct snap *sn);

/* Render [off, off + size) from @sn (no lock held), then free @sn.
   Return: as streams_read(). */
ssize_t code_render(struct streams *ss, uint64_t serial, struct snap *sn,
		    uint64_t off, size_t size, struct buf *out);

#endif
