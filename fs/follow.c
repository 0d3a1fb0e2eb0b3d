/*
 * follow.c - the registry of follow handles and parked reads (follow.h).
 *
 * Handles hang in a hash of buckets keyed by serial and stream; each
 * handle holds the list of its parked reads.  A parked read is a struct
 * parked that owns its fuse request.  Whoever takes it off a list under
 * the registry lock owns the reply; the states say who that is:
 *
 *   PARKING  linked, the reading thread is registering the interrupt
 *            callback; a wake or an interrupt now only changes the state
 *            and the reading thread acts on it when it settles.
 *   PARKED   linked, nobody works on it: the interrupt callback answers
 *            EINTR, a wake moves it to the ready list.
 *   WAKE     unlinked by a wake during PARKING: the reading thread serves
 *            it again.
 *   INTR     unlinked by an interrupt during PARKING or WAKE: the reading
 *            thread replies EINTR.
 *   TAKEN    unlinked by a wake, a stop or a release: that thread clears
 *            the interrupt callback (fuse_req_interrupt_func(req, NULL,
 *            NULL) waits for one that is running, which then does
 *            nothing) and serves it again.
 *
 * The reading thread never replies from inside fuse_req_interrupt_func():
 * libfuse calls the callback right there when the request was already
 * interrupted, with the request's lock held and no extra reference, so a
 * reply (which frees the request) would leave it unlocking freed memory.
 * A callback on libfuse's interrupt path holds a reference; it may reply.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "follow.h"

#define FOLLOW_BUCKETS 256
#define FOLLOW_STATS 64

/* A circular doubly linked list node; a head is its own sentinel. */
struct link {
	struct link *prev;
	struct link *next;
};

enum pstate {
	P_PARKING,
	P_PARKED,
	P_WAKE,
	P_INTR,
	P_TAKEN,
};

struct parked {
	struct link link;	/* in h->parked or a ready list; protected by mu */
	enum pstate state;	/* protected by mu */
	fuse_req_t req;
	uint64_t off;		/* the kernel's offset: a byte of the stream */
	size_t size;
	struct follow *f;
	struct follow_h *h;
};

/* A poll handle waiting for a wake, or on the way to be notified. */
struct pollnote {
	struct fuse_pollhandle *ph;
	struct pollnote *next;
};

struct follow_h {
	struct link link;	/* in its bucket; protected by mu */
	struct link parked;	/* PARKING and PARKED reads; protected by mu */
	struct pollnote *poll;	/* protected by mu */
	/* Where the last read answered or parked ended: poll carries no
	   offset, so it asks about this one.  Protected by mu. */
	uint64_t pos;
	uint64_t serial;
	int stream;
};

/*
 * What ->stat said about a stream, kept until the next wake of that
 * stream: a wake answering a thousand readers of one execution asks the
 * plane once, not a thousand times.  Filled and dropped under mu, and
 * every change of a stream is followed by a wake, so an entry is never
 * older than the last change.
 */
struct stat_memo {
	uint64_t serial;
	int stream;
	bool valid;
	bool done;
	uint64_t size;
};

struct follow {
	struct follow_env env;
	struct stat_memo stats[FOLLOW_STATS];	/* protected by mu */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct link buckets[FOLLOW_BUCKETS];	/* protected by mu */
	struct link ready;	/* TAKEN reads to serve; protected by mu */
	struct pollnote *polls;	/* to notify; protected by mu */
	size_t nparked;		/* protected by mu */
	bool stopped;		/* protected by mu */
	bool quit;		/* the waker ends; protected by mu */
	bool threaded;
	pthread_t thread;
};

#define parked_of(l) ((struct parked *)(void *)((char *)(l) - \
			offsetof(struct parked, link)))
#define handle_of(l) ((struct follow_h *)(void *)((char *)(l) - \
			offsetof(struct follow_h, link)))

static void list_init(struct link *head)
{
	head->prev = head;
	head->next = head;
}

static bool list_empty(const struct link *head)
{
	return head->next == head;
}

static void list_add_tail(struct link *head, struct link *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static void list_del(struct link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

/* Moves every node of @from to the end of @to. */
static void list_splice(struct link *to, struct link *from)
{
	if (list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	list_init(from);
}

static uint64_t key_hash(uint64_t serial, int stream)
{
	return ((serial * 2 + (uint64_t)stream) * 0x9e3779b97f4a7c15ULL) >> 40;
}

static struct link *bucket(struct follow *f, uint64_t serial, int stream)
{
	return &f->buckets[key_hash(serial, stream) % FOLLOW_BUCKETS];
}

static struct stat_memo *memo(struct follow *f, uint64_t serial, int stream)
{
	return &f->stats[key_hash(serial, stream) % FOLLOW_STATS];
}

/* ->stat of a stream, or its memo.  Called with mu. */
static int stream_stat(struct follow *f, uint64_t serial, int stream,
		       uint64_t *size, bool *done)
{
	struct stat_memo *m = memo(f, serial, stream);
	int rc;

	if (!m->valid || m->serial != serial || m->stream != stream) {
		rc = f->env.stat(f->env.ctx, serial, stream, size, done);
		if (rc < 0)
			return rc;
		m->serial = serial;
		m->stream = stream;
		m->size = *size;
		m->done = *done;
		m->valid = true;
	}
	*size = m->size;
	*done = m->done;
	return 0;
}

int follow_new(struct follow **out, const struct follow_env *env)
{
	struct follow *f = calloc(1, sizeof(*f));
	size_t i;

	if (!f)
		return -ENOMEM;
	f->env = *env;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cond, NULL);
	for (i = 0; i < FOLLOW_BUCKETS; i++)
		list_init(&f->buckets[i]);
	list_init(&f->ready);
	*out = f;
	return 0;
}

int follow_open(struct follow *f, uint64_t serial, int stream,
		struct follow_h **out)
{
	struct follow_h *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->serial = serial;
	h->stream = stream;
	list_init(&h->parked);
	pthread_mutex_lock(&f->mu);
	list_add_tail(bucket(f, serial, stream), &h->link);
	pthread_mutex_unlock(&f->mu);
	*out = h;
	return 0;
}

/* Unlinks a PARKING or PARKED read from its handle.  Called with mu. */
static void unpark(struct follow *f, struct parked *e)
{
	list_del(&e->link);
	f->nparked--;
}

/*
 * Moves the reads parked on @h to @to as TAKEN (PARKING ones become WAKE:
 * their thread serves them) and its poll handle to the notify list.
 * Called with mu.  Return: whether anything moved.
 */
static bool take_handle(struct follow *f, struct follow_h *h, struct link *to)
{
	bool any = h->poll != NULL;
	struct parked *e;

	while (!list_empty(&h->parked)) {
		e = parked_of(h->parked.next);
		unpark(f, e);
		if (e->state == P_PARKED) {
			e->state = P_TAKEN;
			list_add_tail(to, &e->link);
		} else {
			e->state = P_WAKE;
		}
		any = true;
	}
	if (h->poll) {
		h->poll->next = f->polls;
		f->polls = h->poll;
		h->poll = NULL;
	}
	return any;
}

/* The span of the stream a read is answered with. */
struct span {
	uint64_t off;
	size_t n;
};

/*
 * What a read of @size at @off finds.  Called with mu: the check and the
 * park that may follow are one step for follow_wake().  Nothing is taken
 * from the stream: two reads at one offset get the same bytes.
 * Return: 1 (answer now: @sp->n bytes, 0 meaning EOF), 0 (park), -errno.
 */
static int locate(struct follow *f, struct follow_h *h, uint64_t off,
		  size_t size, struct span *sp)
{
	uint64_t total = 0;
	bool done = false;
	int rc = stream_stat(f, h->serial, h->stream, &total, &done);

	if (rc < 0)
		return rc;
	sp->off = off;
	sp->n = 0;
	if (off < total)
		sp->n = total - off < size ? (size_t)(total - off) : size;
	h->pos = off + sp->n;
	return off < total || done ? 1 : 0;
}

/* A read of @sp delivered only @got bytes: poll asks about the rest. */
static void shorten(struct follow *f, struct follow_h *h,
		    const struct span *sp, size_t got)
{
	pthread_mutex_lock(&f->mu);
	if (h->pos == sp->off + sp->n)
		h->pos = sp->off + got;
	pthread_mutex_unlock(&f->mu);
}

/* Replies to @e with the bytes of @sp (or EOF), then frees @e. */
static void answer_span(struct follow *f, struct parked *e,
			const struct span *sp)
{
	struct buf b = BUF_INIT(sp->n);
	ssize_t got = 0;

	if (sp->n > 0) {
		got = f->env.read(f->env.ctx, e->h->serial, e->h->stream,
				  sp->off, sp->n, &b);
		if (got == 0)
			got = -EIO;	/* the stream lost bytes it had */
		if (got < 0 || (size_t)got < sp->n)
			shorten(f, e->h, sp, got < 0 ? 0 : (size_t)got);
	}
	/* Not a byte of the handle is used after the reply: the kernel may
	   release the file as soon as it has it. */
	if (got < 0)
		f->env.reply_err(e->req, (int)-got);
	else
		f->env.reply_buf(e->req, b.data, (size_t)got);
	buf_release(&b);
	free(e);
}

static void on_intr(fuse_req_t req, void *data);

/*
 * After registering the interrupt callback: what happened meanwhile.
 * Return: true when the read was woken and must be served again.
 */
static bool settle(struct follow *f, struct parked *e)
{
	enum pstate s;

	pthread_mutex_lock(&f->mu);
	s = e->state;
	if (s == P_PARKING)
		e->state = P_PARKED;
	else if (s == P_WAKE)
		e->state = P_TAKEN;
	pthread_mutex_unlock(&f->mu);
	if (s == P_INTR) {
		/* The callback that set INTR may still be returning on
		   libfuse's interrupt path: wait for it before freeing. */
		f->env.intr(e->req, NULL, NULL);
		f->env.reply_err(e->req, EINTR);
		free(e);
	} else if (s == P_WAKE) {
		f->env.intr(e->req, NULL, NULL);
	}
	return s == P_WAKE;
}

/*
 * Answers @e now when bytes are there or the stream ended, else parks
 * it.  @e is owned by the caller (fresh, or TAKEN with no interrupt
 * callback set) and is answered or parked exactly once.
 */
static void serve(struct follow *f, struct parked *e)
{
	struct span sp = { 0, 0 };
	int rc;

	do {
		pthread_mutex_lock(&f->mu);
		rc = f->stopped ? -ENOTCONN
				: locate(f, e->h, e->off, e->size, &sp);
		if (rc == 0) {
			e->state = P_PARKING;
			list_add_tail(&e->h->parked, &e->link);
			f->nparked++;
		}
		pthread_mutex_unlock(&f->mu);
		if (rc < 0) {
			f->env.reply_err(e->req, -rc);
			free(e);
			return;
		}
		if (rc == 1) {
			answer_span(f, e, &sp);
			return;
		}
		f->env.intr(e->req, on_intr, e);
	} while (settle(f, e));
}

/* libfuse's interrupt callback of a parked read (see the top comment). */
static void on_intr(fuse_req_t req, void *data)
{
	struct parked *e = data;
	struct follow *f = e->f;
	bool mine = false;

	pthread_mutex_lock(&f->mu);
	switch (e->state) {
	case P_PARKING:
		unpark(f, e);
		e->state = P_INTR;
		break;
	case P_WAKE:
		e->state = P_INTR;
		break;
	case P_PARKED:
		unpark(f, e);
		mine = true;
		break;
	default:	/* TAKEN: its owner answers; INTR: answered */
		break;
	}
	pthread_mutex_unlock(&f->mu);
	if (mine) {
		free(e);
		f->env.reply_err(req, EINTR);
	}
}

void follow_read(struct follow *f, struct follow_h *h, fuse_req_t req,
		 uint64_t off, size_t size)
{
	struct parked *e = calloc(1, sizeof(*e));

	if (!e) {
		f->env.reply_err(req, ENOMEM);
		return;
	}
	list_init(&e->link);
	e->req = req;
	e->off = off;
	e->size = size;
	e->f = f;
	e->h = h;
	serve(f, e);
}

/* Serves the TAKEN reads of @list, which the caller took under mu. */
static size_t serve_list(struct follow *f, struct link *list)
{
	struct parked *e;
	size_t n = 0;

	while (!list_empty(list)) {
		e = parked_of(list->next);
		list_del(&e->link);
		/* Waits for an interrupt callback running now: it sees
		   TAKEN and leaves @e alone. */
		f->env.intr(e->req, NULL, NULL);
		serve(f, e);
		n++;
	}
	return n;
}

static size_t notify_polls(struct follow *f, struct pollnote *p)
{
	struct pollnote *next;
	size_t n = 0;

	for (; p; p = next) {
		next = p->next;
		f->env.poll_notify(p->ph);
		f->env.poll_destroy(p->ph);
		free(p);
		n++;
	}
	return n;
}

static void drop_polls(struct follow *f, struct pollnote *p)
{
	struct pollnote *next;

	for (; p; p = next) {
		next = p->next;
		f->env.poll_destroy(p->ph);
		free(p);
	}
}

size_t follow_pump(struct follow *f)
{
	struct link list;
	struct pollnote *polls;

	list_init(&list);
	pthread_mutex_lock(&f->mu);
	list_splice(&list, &f->ready);
	polls = f->polls;
	f->polls = NULL;
	pthread_mutex_unlock(&f->mu);
	return serve_list(f, &list) + notify_polls(f, polls);
}

void follow_wake(struct follow *f, uint64_t serial, int stream)
{
	struct link *head, *l;
	struct follow_h *h;
	bool any = false;

	pthread_mutex_lock(&f->mu);
	memo(f, serial, stream)->valid = false;
	head = bucket(f, serial, stream);
	for (l = head->next; l != head; l = l->next) {
		h = handle_of(l);
		if (h->serial == serial && h->stream == stream)
			any |= take_handle(f, h, &f->ready);
	}
	if (any)
		pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->mu);
}

static void *waker_main(void *arg)
{
	struct follow *f = arg;

	pthread_mutex_lock(&f->mu);
	while (!f->quit) {
		if (list_empty(&f->ready) && !f->polls) {
			pthread_cond_wait(&f->cond, &f->mu);
			continue;
		}
		pthread_mutex_unlock(&f->mu);
		follow_pump(f);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int follow_start(struct follow *f)
{
	int rc = pthread_create(&f->thread, NULL, waker_main, f);

	if (rc != 0)
		return -rc;
	f->threaded = true;
	return 0;
}

/* Takes every parked read of every handle (stop).  Called with mu. */
static void take_all(struct follow *f)
{
	struct link *l;
	size_t i;

	for (i = 0; i < FOLLOW_BUCKETS; i++)
		for (l = f->buckets[i].next; l != &f->buckets[i]; l = l->next)
			take_handle(f, handle_of(l), &f->ready);
}

void follow_stop(struct follow *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stopped = true;
	take_all(f);
	f->quit = true;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->mu);
	if (f->threaded)
		pthread_join(f->thread, NULL);
	f->threaded = false;
	/* What the waker left: every read is answered with ENOTCONN. */
	follow_pump(f);
}

void follow_release(struct follow *f, struct follow_h *h)
{
	struct link list;
	struct pollnote *p;
	struct parked *e;

	if (!h)
		return;
	list_init(&list);
	pthread_mutex_lock(&f->mu);
	list_del(&h->link);
	/* A released file needs no poll notify: taken before take_handle()
	   would queue it. */
	p = h->poll;
	h->poll = NULL;
	take_handle(f, h, &list);
	pthread_mutex_unlock(&f->mu);
	drop_polls(f, p);
	while (!list_empty(&list)) {
		e = parked_of(list.next);
		list_del(&e->link);
		f->env.intr(e->req, NULL, NULL);
		f->env.reply_err(e->req, EBADF);
		free(e);
	}
	free(h);
}

int follow_poll(struct follow *f, struct follow_h *h,
		struct fuse_pollhandle *ph, unsigned *revents)
{
	struct pollnote *pn = ph ? calloc(1, sizeof(*pn)) : NULL;
	struct pollnote *old = NULL;
	struct span sp;
	int rc;

	pthread_mutex_lock(&f->mu);
	rc = locate(f, h, h->pos, 0, &sp);
	if (rc == 0 && pn) {
		old = h->poll;
		pn->ph = ph;
		h->poll = pn;
		pn = NULL;
		ph = NULL;
	}
	pthread_mutex_unlock(&f->mu);
	/* Without memory to keep the handle, report readable: the read
	   that follows parks. */
	*revents = rc == 1 || (rc == 0 && ph) ? POLLIN : 0;
	if (ph)
		f->env.poll_destroy(ph);
	free(pn);
	if (old) {
		f->env.poll_destroy(old->ph);
		free(old);
	}
	return rc < 0 ? rc : 0;
}

size_t follow_parked(struct follow *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->nparked;
	pthread_mutex_unlock(&f->mu);
	return n;
}

void follow_free(struct follow *f)
{
	size_t i;

	if (!f)
		return;
	follow_stop(f);
	for (i = 0; i < FOLLOW_BUCKETS; i++)
		while (!list_empty(&f->buckets[i]))
			follow_release(f, handle_of(f->buckets[i].next));
	drop_polls(f, f->polls);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
