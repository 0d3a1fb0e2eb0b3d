/*
 * expr_i.h - internals shared by the expression module's files.
 *
 * expr.c holds the scanner, validation and the jq engine (struct
 * expr_eng: compiled programs and the input, in the process that runs
 * them); expr_jv.c the conversions between documents and jv; expr_wire.c
 * the framing and the JSON written between the two processes;
 * expr_serve.c the evaluator process, which owns one engine;
 * expr_proc.c the public struct expr_cache, which owns that process.
 */
#ifndef EXECFS_EXPR_I_H
#define EXECFS_EXPR_I_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jq.h>

#include "expr.h"

/* ---- the engine (expr.c); runs user programs: evaluator process only -- */

struct expr_eng;

int expr_eng_new(struct expr_eng **out);
void expr_eng_free(struct expr_eng *e);
size_t expr_eng_size(const struct expr_eng *e);

/* The input becomes JSON object @json.  Return: 0; -EINVAL. */
int expr_eng_input(struct expr_eng *e, const char *json, size_t n);

/* Top-level @key of the input (its member @sub when not NULL; @key
 * becomes an object if it is not one) becomes JSON @json.
 * Return: 0; -EINVAL. */
int expr_eng_key(struct expr_eng *e, const char *key, const char *sub,
		 const char *json, size_t n);

/*
 * expr_eval() on the engine, the variables as JSON object @vars (@vlen
 * bytes; 0: none).  Return: as expr_eval().
 */
int expr_eng_eval(struct expr_eng *e, const char *s, size_t n,
		  const char *vars, size_t vlen, struct doc **out, char *msg,
		  size_t cap);

/*
 * expr_eng_learn() - compile the expressions of template @s (@n bytes)
 * for variables named as the keys of JSON object @vars (@vlen bytes, 0:
 * none; the values are not looked at), and keep them, so that a later
 * expr_eng_eval() of @s with those names finds them compiled.  Keeps at
 * most EXPR_LEARN_MAX programs.  Runs nothing.
 * Return: 0; -EINVAL (does not scan, or bad @vars).
 */
#define EXPR_LEARN_MAX (EXPR_CACHE_MAX / 2)
int expr_eng_learn(struct expr_eng *e, const char *s, size_t n,
		   const char *vars, size_t vlen);

/* The `${ e }` spans of template @s (@n bytes), one after the other,
   appended to @out: what expr_eng_learn() needs of it, without the text
   around them (it may hold values).  Return: 0; -EINVAL; -ENOMEM. */
struct buf;
int expr_spans_only(const char *s, size_t n, struct buf *out);

/* ---- checks that run no user code (expr.c) ----------------------------- */

/* Whether @vars suits expr_eval().  Return: 0; -EINVAL with @msg. */
int expr_vars_check(const struct doc *vars, char *msg, size_t cap);

/*
 * Scan @s for its first expression.  Return: 1 (there is one); 0 (none);
 * -EINVAL with *why (too long, or does not scan).
 */
int expr_scan(const char *s, size_t n, const char **why);

/* ---- documents and jq values (expr_jv.c) ------------------------------ */

/* A float node's text as a double (YAML's .nan and .inf too). */
double expr_float_value(const char *s);

/*
 * @d as a new jv (*out, the caller frees it); a sealed value is "***".
 * Return: 0; -EFBIG (deeper than DOC_DEPTH_MAX, or a string past
 * INT_MAX); -EINVAL (a NULL node).
 */
int expr_to_jv(const struct doc *d, int depth, jv *out);

/*
 * @v (borrowed) as a new doc.  Every node costs its text's bytes (and one)
 * from *left.  Return: 0 and *out; -EFBIG (too deep or over budget);
 * -ENOMEM; -EINVAL (an invalid jv, or a key holding NUL).
 */
int expr_from_jv(jv v, int depth, size_t *left, struct doc **out);

/* Whether @v (borrowed) is within expr_from_jv()'s limits.  Return: 0;
   -EFBIG. */
int expr_jv_fits(jv v, int depth, size_t *left);

/* The byte length of string @s (borrowed). */
size_t expr_str_len(jv s);

/* Append @key -> @val (taken, even on failure) to map @m, not looking for
   @key (the caller knows it is new).  Return: 0; -ENOMEM. */
int expr_map_append(struct doc *m, const char *key, struct doc *val);

/* ---- the wire (expr_wire.c) -------------------------------------------- */

/*
 * Every message is a frame: a header then @len bytes.  A request's @op is
 * one of these; a reply's is 0 and @rc is 0 (the payload: the result as
 * wire JSON) or -errno (the payload: the message).
 */
enum {
	EXPR_OP_INPUT = 1, /* payload: a JSON object */
	EXPR_OP_KEY,	   /* payload: key, NUL, JSON */
	EXPR_OP_EVAL,	   /* payload: template length (4 bytes), template,
			      JSON [vars, dot] or nothing */
	EXPR_OP_SUB,	   /* payload: key, NUL, member, NUL, JSON */
	EXPR_OP_LEARN,	   /* to a template: as EVAL; replied when kept */
	EXPR_OP_FORK,	   /* to a template: no payload, a socket passed;
			      the reply's rc is the new evaluator's pid,
			      its pidfd passed */
};

struct expr_hdr {
	uint32_t len;	/* payload bytes */
	uint32_t op;	/* EXPR_OP_*; 0 in replies */
	int32_t rc;	/* replies: 0 or -errno */
	uint32_t nprog; /* replies: programs the engine keeps */
};

#define EXPR_REQ_MAX (1u << 30)		     /* a request's payload */
#define EXPR_REPLY_MAX (8u * EXPR_OUT_MAX) /* escapes are up to 6 bytes */

/*
 * expr_wire_dump() - @d (at depth @depth) as JSON appended to @out, in the
 * spelling jq 1.6 reads back exactly: a float nan as nan and infinities as
 * +-1e1000 (expr_json_dump() writes null and +-1.797e308, as jq prints
 * them).  Return: 0; -ENOMEM; -EFBIG (too deep, or @out's cap).
 */
int expr_wire_dump(const struct doc *d, int depth, struct buf *out);

/*
 * expr_wire_send() - write header @h and payload @p (h->len bytes) on
 * @fd, blocking, without SIGPIPE.  Return: 0; -errno (-EPIPE: the peer
 * is gone).
 */
int expr_wire_send(int fd, const struct expr_hdr *h, const void *p);

/* expr_wire_send() of header @h alone (h->len 0), with descriptor @pass
   (-1: none) attached.  Return: 0; -errno. */
int expr_wire_send_fd(int fd, const struct expr_hdr *h, int pass);

/*
 * expr_wire_recv_hdr() - read one header from @fd, blocking; *@passed
 * is a descriptor that came with it (close-on-exec) or -1.
 * Return: 0; -EPIPE (EOF); -errno.
 */
int expr_wire_recv_hdr(int fd, struct expr_hdr *h, int *passed);

/* ---- the evaluator process (expr_serve.c) ------------------------------ */

/* The evaluator's socket in the spawned program, its argv[0], and its
   argv[1] when it compiles a program before it serves (a warm one). */
#define EXPR_SERVE_FD 3
#define EXPR_SERVE_ARGV0 "execfs-eval"
#define EXPR_SERVE_WARM "warm"
#define EXPR_SERVE_TEMPLATE "template"
#define EXPR_SERVE_FORKED "run" /* a template's child's argv[1] */

/*
 * expr_serve_env() - the "NAME=VALUE" environment entry, into @buf of
 * @cap bytes, that makes a copy of this program spawned by this process
 * an evaluator serving on EXPR_SERVE_FD (its constructor runs before
 * main() and never returns).  Return: 0; -ENAMETOOLONG.
 */
int expr_serve_env(char *buf, size_t cap);

/*
 * expr_eng_warm() - compile and drop one program, so that what libjq
 * sets up once per process (and the pages of its compiler) is ready
 * before the first request.  Keeps nothing in @e.
 */
void expr_eng_warm(struct expr_eng *e);

/* ---- bare evaluators (expr_proc.c), for the pool (expr_pool.c) ---------- */

/* One evaluator process, as the daemon holds it. */
struct expr_child {
	pid_t pid;	/* -1: none */
	int pidfd;	/* a template's child (not ours to reap): its pidfd;
			   our own child: -1 */
	int sock;	/* the daemon's end of its socket, or -1 */
	size_t nprog;	/* programs it keeps */
};

#define EXPR_CHILD_NONE ((struct expr_child){-1, -1, -1, 0})
#define EXPR_END_WAIT_MS 1000 /* for a killed template's child to end */

/*
 * expr_proc_start() - spawn an evaluator with no input yet (its engine
 * holds {}), a child of ours; @how: NULL, EXPR_SERVE_WARM (it compiles a
 * program first) or EXPR_SERVE_TEMPLATE.
 * Return: 0 and *@out; -errno of socketpair() or posix_spawn();
 * -ENAMETOOLONG.
 */
int expr_proc_start(const char *how, struct expr_child *out);

/* expr_proc_end() - kill evaluator @ch, reap it if it is ours (never a
   zombie), wait (EXPR_END_WAIT_MS at most) for a template's child to
   end; close its socket; *@ch becomes EXPR_CHILD_NONE. */
void expr_proc_end(struct expr_child *ch);

/* A LEARN request's payload at most: the template, its length, names. */
#define EXPR_LEARN_REQ_MAX (EXPR_TEXT_MAX + (64u << 10))

/*
 * expr_pool_learn() - have @p's template compile the program of LEARN
 * payload @req (@n bytes; see EXPR_OP_LEARN), in the background: the
 * evaluators it forks later start with it.  Queued (a few); dropped when
 * the queue is full, @p is NULL or @n is over EXPR_LEARN_REQ_MAX.
 */
void expr_pool_learn(struct expr_pool *p, const void *req, size_t n);

/* ---- test hooks (expr_proc.c) ------------------------------------------ */

/* The evaluator's pid, or -1 when none runs. */
pid_t expr_cache_pid(const struct expr_cache *c);

/* An idle evaluator of @p (NULL: none), taken out of it for good.
   Return: whether there was one. */
bool expr_pool_pop(struct expr_pool *p, struct expr_child *out);

/* ---- test hooks (expr_pool.c) ------------------------------------------ */

/* How many idle evaluators @p holds now (0 for NULL). */
unsigned expr_pool_idle(struct expr_pool *p);

#endif
