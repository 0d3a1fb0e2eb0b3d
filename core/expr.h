/*
 * expr.h - runtime expressions `${ ... }` (DESIGN 1.5): jq programs run by
 * libjq, as the Serverless Workflow DSL defines them: `.` is what the
 * caller sets (expr_set_dot(): a task's input, or its output in
 * export.as); the state's keys context, secrets, workflow, runtime are
 * the DSL's runtime arguments $context, $secrets, $workflow, $runtime;
 * the variables of an evaluation bind $input, $output, $task and the loop
 * and catch variables ($item, $index, $error).  An expression that is
 * exactly `.secrets.KEY` or `.env_vars.KEY` is a Stigmer placeholder: the
 * state's `__env` member KEY, or an error naming it when there is none.
 *
 * A template is a string.  When its whole text (blanks around ignored) is
 * one `${ e }` it evaluates to e's first output, whatever its JSON type
 * (no output: null).  Otherwise each `${ e }` in it is replaced by its value
 * as text (a string raw, anything else as compact JSON) and the result is a
 * string.  The closing brace is the one that balances the opening, braces
 * inside jq string literals (and their `\( )` interpolations) and `#`
 * comments not counted; (), [] and {} must balance inside an expression.
 * There is no escape: "$${" is "$" then an expression.  A string without
 * "${" is left as it is.
 *
 * Expressions run in a sandbox: env, $ENV, input, inputs, debug, stderr,
 * input_filename, input_line_number, modulemeta and get_search_list are
 * shadowed, and no module can be imported.  jq numbers are doubles: ints
 * past 2^53 lose precision on the way through jq.  jq 1.6 quirks: halt
 * fails the evaluation; error(null) counts as no output (null).
 *
 * Expressions never run in the daemon: libjq aborts its process when an
 * allocation fails (`[] | .[1e9] = 1`) and cannot stop a program that
 * never ends (`repeat(.)`).  Each expr_cache owns an evaluator process,
 * a new image of the calling program (posix_spawn of /proc/self/exe, see
 * expr_serve.c), that compiles and runs the programs under a data limit
 * (RLIMIT_DATA: EXPR_DATA_MAX past what it holds at its start) and is
 * killed when the run stops or its deadline passes (expr_set_wait()); a
 * dead evaluator is replaced at the next evaluation, with the same input.
 * Validation (expr_check_all()) and the JSON functions run no user
 * program and stay in the calling process.
 *
 * Messages (msg) may quote values jq saw: callers redact them before they
 * show them to anyone.
 *
 * Thread rules: an expr_cache is used by one thread at a time; distinct
 * caches and the functions without one are safe from any thread, and a
 * cache outlives the thread that made it (its evaluator ends when the
 * cache is freed or the process goes).
 */
#ifndef EXECFS_EXPR_H
#define EXECFS_EXPR_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "doc.h"

#define EXPR_TEXT_MAX (16u << 10) /* one template, bytes */
#define EXPR_VARS_MAX 32	  /* variables in scope */
#define EXPR_VAR_MAX 64		  /* a variable name, bytes */
#define EXPR_CACHE_MAX 256	  /* programs kept per cache */
#define EXPR_OUT_MAX                                                           \
	(8u << 20) /* a value converted to a doc, bytes                        \
		      of text (bigger: -EFBIG) */
#define EXPR_DATA_MAX (1ull << 30) /* an evaluator's own data, bytes */
#define EXPR_POOL_MAX 8	/* idle evaluators a pool may keep */
#define EXPR_CPU_MAX 600 /* an evaluator's CPU seconds (RLIMIT_CPU); past it
			   it ends and the next evaluation starts another */

struct expr_cache;
struct expr_pool;

/* One template to check, and the variable names in scope (without $). */
struct expr_src {
	const char *text;
	size_t len;
	const char *const *vars;
	size_t nvars;
};

/** expr_has() - whether @s (@n bytes) holds "${". */
bool expr_has(const char *s, size_t n);

/** expr_var_ok() - whether @name is a valid variable name. */
bool expr_var_ok(const char *name);

/**
 * expr_var_reserved() - whether @name is bound by every program (context,
 * secrets, workflow, runtime, input, output, task) or by jq, so that a
 * loop or catch variable may not take it.
 */
bool expr_var_reserved(const char *name);

/**
 * expr_check_all() - compile every expression of the @n templates @src.
 * Return: 0; -EINVAL with *bad the index of the first template at fault
 * and @msg its first error (unbalanced `${`, too long, or jq's message);
 * -ENOMEM.
 */
int expr_check_all(const struct expr_src *src, size_t n, size_t *bad, char *msg,
		   size_t cap);

/*
 * What an evaluation may wait for: while the evaluator works, a readable
 * descriptor among @fds (a run told to stop) or the @deadline_ns passing
 * (CLOCK_REALTIME nanoseconds since the epoch; 0: none) kills it.
 */
struct expr_wait {
	const struct pollfd *fds; /* only .fd is used; NULL: none */
	int nfds;
	int64_t deadline_ns;
};

/**
 * expr_cache_new() - an empty cache and its evaluator process (spawned
 * now; the input is {}).  Return: 0 and *out; -errno of posix_spawn()
 * (-EAGAIN; -ENOENT, no /proc); -EAGAIN (it died at once); -EMFILE,
 * -ENFILE (no socket); -ENOMEM.
 */
int expr_cache_new(struct expr_cache **out);

/**
 * expr_cache_new_lazy() - an empty cache whose evaluator starts at its
 * first evaluation (expr_eval(), expr_render() of a template), as one
 * that died is replaced: a run without expressions never starts one.  It
 * is an idle one of @p when @p has one (NULL: none), else spawned then.
 * A failure to start is that evaluation's (its message says why).  @p
 * must outlive the cache.
 * Return: 0 and *out; -ENOMEM.
 */
int expr_cache_new_lazy(struct expr_pool *p, struct expr_cache **out);

/**
 * expr_pool_new() - a pool of up to @size (1..EXPR_POOL_MAX) idle
 * evaluators, spawned before a run needs one by a thread of the pool:
 * filled now, and refilled after each death of an idle one and, 100 ms
 * later (not to slow the run that took it), after each take.  With no
 * takes it does no work after its first fill.  Evaluators
 * are warm: each has compiled a program (libjq 1.6 binds its builtins
 * again at every compile, so what warming saves is the process, libjq's
 * one-time set-up and the first touch of its pages, not the compile of a
 * run's first program).  Return: 0 and *out (free with expr_pool_free());
 * -EINVAL (@size); -ENOMEM; -errno of eventfd() or pthread_create().
 */
int expr_pool_new(unsigned size, struct expr_pool **out);

/**
 * expr_pool_free() - stop @p's thread, kill and reap its idle evaluators,
 * free it.  Caches taken from it live on.  NULL-safe.  Not while another
 * thread is in expr_pool_take() on @p.
 */
void expr_pool_free(struct expr_pool *p);

/**
 * expr_pool_take() - as expr_cache_new(), with an idle evaluator of @p
 * when it has one (taken out of the pool for good: an evaluator serves one
 * cache only); with none, or @p NULL, one is spawned now.
 * Return: as expr_cache_new().  Safe from any thread.
 */
int expr_pool_take(struct expr_pool *p, struct expr_cache **out);

/**
 * expr_cache_free() - free @c, killing and reaping its evaluator.
 * NULL-safe.
 */
void expr_cache_free(struct expr_cache *c);

/**
 * expr_set_wait() - the limits of @c's later evaluations: @w is copied
 * (its fds array is borrowed until the next call); NULL: no limits.
 */
void expr_set_wait(struct expr_cache *c, const struct expr_wait *w);

/**
 * expr_cache_size() - how many compiled programs @c keeps (one per distinct
 * expression text and set of variable names; at most EXPR_CACHE_MAX, past
 * which programs are compiled for one use).  For tests and statistics.
 */
size_t expr_cache_size(const struct expr_cache *c);

/**
 * expr_set_input() - make @in (a map) the state of later evaluations
 * (copied, and sent to the evaluator once; before the first call the
 * state is {}).  Return: 0; -ENOMEM; -EINVAL (not a map); -EFBIG (nested
 * deeper than DOC_DEPTH_MAX, or over 1 GiB of JSON).
 */
int expr_set_input(struct expr_cache *c, const struct doc *in);

/**
 * expr_set_key() - set (or replace) top-level key @key of the state to @v
 * (copied), sending only @v to the evaluator.  Return: 0; -ENOMEM;
 * -EFBIG (too deep).
 */
int expr_set_key(struct expr_cache *c, const char *key, const struct doc *v);

/**
 * expr_set_member() - set member @sub of the input's map @key (made a map
 * when it is not one) to @v, or @key itself when @sub is NULL, sending
 * only @v to the evaluator.  Return: as expr_set_key().
 */
int expr_set_member(struct expr_cache *c, const char *key, const char *sub,
		    const struct doc *v);

/**
 * expr_set_dot() - `.` of later evaluations: @dot, borrowed until the
 * next call; NULL: null.
 */
void expr_set_dot(struct expr_cache *c, const struct doc *dot);

/**
 * expr_eval() - evaluate template @s (@n bytes) with variables @vars (a
 * map name -> value, or NULL; at most EXPR_VARS_MAX, names as
 * expr_var_ok()).  A template without "${" gives a copy of its text.
 * Return: 0 and *out (a new doc, caller frees with doc_free()); -EINVAL
 * with @msg (does not scan or compile, bad variables, jq raised an error:
 * "expression failed: <jq message>", or halted, or the evaluator died,
 * out of memory most likely: "expression failed: the evaluator stopped
 * (out of memory?)"); -EFBIG (result over EXPR_OUT_MAX bytes or nested
 * deeper than DOC_DEPTH_MAX); -ETIME (the deadline of expr_set_wait()
 * passed, before or during the evaluation); -ECANCELED (a stop fd was
 * readable while it ran, or before an evaluator had to be started);
 * -errno of posix_spawn() (a new evaluator was needed and could not be
 * started); -ENOMEM.
 * After -ETIME, -ECANCELED or a death, the next call starts a new
 * evaluator (compiling the programs again).
 * @msg (@cap bytes, message cut to fit) is written on failure only.
 */
int expr_eval(struct expr_cache *c, const char *s, size_t n,
	      const struct doc *vars, struct doc **out, char *msg, size_t cap);

/**
 * expr_render() - a copy of @d in which every string holding an
 * expression is replaced by its value (expr_eval()); map keys are kept
 * as written; other nodes are cloned.
 * Return: as expr_eval(); -EFBIG also for @d nested too deeply.
 */
int expr_render(struct expr_cache *c, const struct doc *d,
		const struct doc *vars, struct doc **out, char *msg,
		size_t cap);

/** expr_truthy() - jq's truth: everything but null and false. */
bool expr_truthy(const struct doc *v);

/**
 * expr_json_parse() - JSON text to a doc (numbers: DOC_INT when whole and
 * within int64, else DOC_FLOAT).  Return: 0 and *out; -EINVAL (not one
 * JSON value); -EFBIG; -ENOMEM.
 */
int expr_json_parse(const char *text, size_t n, struct doc **out);

/**
 * expr_json_dump() - @d as compact JSON appended to @out (a DOC_SEALED
 * value is written as "***"; map keys in order; a float nan is null).
 * Return: 0; -ENOMEM; -EFBIG (@out's cap, or nested too deeply).
 */
int expr_json_dump(const struct doc *d, struct buf *out);

#endif
