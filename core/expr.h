/*
 * expr.h - runtime expressions `${ ... }` (DESIGN 1.5): jq programs run by
 * libjq over a run's state, with the loop and catch variables bound as
 * jq variables ($item, $index, $error).
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
 * Limits jq 1.6 cannot enforce: an expression may loop forever
 * (`repeat(.)`) and a failed allocation in libjq aborts the process
 * (`[] | .[1e9] = 1`).
 *
 * jq 1.6 compiles its builtins with every program (about 16 ms), so the
 * runner keeps compiled programs in an expr_cache for the life of a run, and
 * validation checks all the templates of a workflow in one compile.
 *
 * Messages (msg) may quote values jq saw: callers redact them before they
 * show them to anyone.
 *
 * Thread rules: an expr_cache is used by one thread at a time; distinct
 * caches and the functions without one are safe from any thread.
 */
#ifndef EXECFS_EXPR_H
#define EXECFS_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "doc.h"

#define EXPR_TEXT_MAX (16u << 10) /* one template, bytes */
#define EXPR_VARS_MAX 16	  /* variables in scope */
#define EXPR_VAR_MAX 64		  /* a variable name, bytes */
#define EXPR_CACHE_MAX 256	  /* programs kept per cache */
#define EXPR_OUT_MAX                                                           \
	(8u << 20) /* a value converted to a doc, bytes                        \
		      of text (bigger: -EFBIG) */

struct expr_cache;

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
 * expr_check_all() - compile every expression of the @n templates @src.
 * Return: 0; -EINVAL with *bad the index of the first template at fault
 * and @msg its first error (unbalanced `${`, too long, or jq's message);
 * -ENOMEM.
 */
int expr_check_all(const struct expr_src *src, size_t n, size_t *bad, char *msg,
		   size_t cap);

/** expr_cache_new() - an empty cache.  Return: 0 and *out; -ENOMEM. */
int expr_cache_new(struct expr_cache **out);

/** expr_cache_free() - free @c and its programs.  NULL-safe. */
void expr_cache_free(struct expr_cache *c);

/**
 * expr_cache_size() - how many compiled programs @c keeps (one per distinct
 * expression text and set of variable names; at most EXPR_CACHE_MAX, past
 * which programs are compiled for one use).  For tests and statistics.
 */
size_t expr_cache_size(const struct expr_cache *c);

/**
 * expr_set_input() - make @in (a map) the input `.` of later evaluations,
 * converted once (copied; before the first call the input is {}).
 * Return: 0; -ENOMEM; -EINVAL (not a map); -EFBIG (nested deeper than
 * DOC_DEPTH_MAX).
 */
int expr_set_input(struct expr_cache *c, const struct doc *in);

/**
 * expr_set_key() - set (or replace) top-level key @key of the input to @v
 * (copied), without converting the rest again.  Return: 0; -ENOMEM;
 * -EFBIG (too deep).
 */
int expr_set_key(struct expr_cache *c, const char *key, const struct doc *v);

/**
 * expr_eval() - evaluate template @s (@n bytes) with variables @vars (a
 * map name -> value, or NULL; at most EXPR_VARS_MAX, names as
 * expr_var_ok()).  A template without "${" gives a copy of its text.
 * Return: 0 and *out (a new doc, caller frees with doc_free()); -EINVAL
 * with @msg (does not scan or compile, bad variables, jq raised an error:
 * "expression failed: <jq message>", or halted); -EFBIG (result over
 * EXPR_OUT_MAX bytes or nested deeper than DOC_DEPTH_MAX); -ENOMEM.
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
