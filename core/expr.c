/*
 * expr.c - `${ ... }` templates evaluated by libjq 1.6.  See expr.h.
 *
 * A template is scanned by a small lexer that knows just enough of jq's
 * syntax to find the `}` closing each `${`: string literals (with
 * backslash escapes and `\( ... )` interpolations, which hold code again),
 * `#` comments, and the three bracket pairs, which must balance inside the
 * expression.  The balance rule is what keeps an expression inside the
 * parentheses we wrap it in: `1) , (env` is refused before jq sees it.
 *
 * Each expression becomes one jq program: a sandbox prefix that shadows
 * every builtin reaching outside the run (environment, input files,
 * stderr), then `.[1] as {$v1, $v2} | .[0] | (E)`, run on the array
 * [state, variables].  Programs are compiled once per cache, keyed by
 * their full text, because jq 1.6 recompiles its builtins with every
 * program (~16 ms) while a run of a compiled program costs microseconds.
 *
 * The engine (struct expr_eng) runs only in an evaluator process (see
 * expr_serve.c and expr_proc.c); scanning and validation, which run no
 * user program, also run in the daemon.  Conversions are in expr_jv.c.
 *
 * jv reference counting: every jv_* call consumes its arguments except
 * jv_copy's; each helper below says whether it borrows or takes a jv.
 */
#include "expr_i.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#define SCAN_NEST_MAX 256		/* brackets and strings open at once */
#define CACHE_SLOTS 512			/* hash slots, > 2 * EXPR_CACHE_MAX */
#define PROG_MAX (EXPR_TEXT_MAX + 2048) /* one expression's program */
#define CHECK_PROG_MAX (64u << 20)	/* check_all's combined program */

/*
 * Shadows of the builtins that would reach outside the run, on one line so
 * that jq's line numbers count the expression's lines.  Builtins calling
 * the originals (inputs calls input) are shadowed one by one.
 */
static const char sandbox[] =
    "def env: {}; def input: error(\"input is not available\"); "
    "def inputs: empty; def debug: .; def stderr: .; "
    "def input_filename: null; def input_line_number: null; "
    "def modulemeta: error(\"modules are not available\"); "
    "def get_search_list: []; {} as $ENV | ";

struct prog {
	char *text; /* full program text; NULL: free slot */
	jq_state *jq;
};

struct expr_eng {
	struct prog slot[CACHE_SLOTS];
	size_t n; /* programs kept */
	jv input; /* the state: `.[0]` of every run */
};

/* Write a message; cutting it at @cap is intended (messages are hints). */
__attribute__((format(printf, 4, 5))) static int
fail(char *msg, size_t cap, int rc, const char *fmt, ...)
{
	va_list ap;

	if (msg && cap) {
		va_start(ap, fmt);
		vsnprintf(msg, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

bool expr_has(const char *s, size_t n)
{
	return s && n >= 2 && memmem(s, n, "${", 2) != NULL;
}

bool expr_var_ok(const char *name)
{
	size_t k;

	if (!name || !((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z'))
		return false;
	for (k = 1; name[k]; k++) {
		char c = name[k];

		if (k >= EXPR_VAR_MAX)
			return false;
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') &&
		    !(c >= '0' && c <= '9') && c != '_')
			return false;
	}
	return true;
}

/* ---- scanning ---------------------------------------------------------- */

/* One `${ e }` of a template: [start, end) is the whole, e is [eoff, ecl). */
struct span {
	size_t start, end, eoff, ecl;
};

/* The closer each opener on the scan stack expects; 'I' is `\(`. */
static bool closes(char open, char c)
{
	return (c == ')' && (open == '(' || open == 'I')) ||
	       (c == ']' && open == '[') || (c == '}' && open == '{');
}

/* Inside a string literal: step past @s[*i], maybe opening `\(`. */
static void scan_string(const char *s, size_t n, size_t *i, char *stack,
			size_t *top)
{
	if (s[*i] == '"') {
		(*top)--;
	} else if (s[*i] == '\\' && *i + 1 < n && s[*i + 1] == '(') {
		stack[(*top)++] = 'I'; /* room checked by the caller */
		(*i)++;
	} else if (s[*i] == '\\') {
		(*i)++; /* an escaped character */
	}
}

/*
 * Find the `}` closing an expression that starts at @i (just after "${").
 * Return: 0 and *close; -EINVAL with *why.
 */
static int scan_expr(const char *s, size_t n, size_t i, size_t *close,
		     const char **why)
{
	char stack[SCAN_NEST_MAX];
	size_t top = 0;

	for (; i < n; i++) {
		char c = s[i];

		if (top == SCAN_NEST_MAX - 1)
			return *why = "expression nested too deeply", -EINVAL;
		if (top && stack[top - 1] == '"') {
			scan_string(s, n, &i, stack, &top);
		} else if (c == '#') { /* a comment, to the end of line */
			while (i + 1 < n && s[i + 1] != '\n')
				i++;
		} else if (c == '"' || c == '(' || c == '[' || c == '{') {
			stack[top++] = c;
		} else if (c == '}' && !top) {
			*close = i;
			return 0;
		} else if (c == ')' || c == ']' || c == '}') {
			if (!top || !closes(stack[top - 1], c))
				return *why = "unbalanced brackets in ${",
				       -EINVAL;
			top--;
		}
	}
	*why = top && stack[top - 1] == '"' ? "unterminated string in ${"
					    : "unterminated ${";
	return -EINVAL;
}

/*
 * The next `${ e }` of @s at or after *pos; *pos moves past it.
 * Return: 1 and *sp; 0 (none left); -EINVAL with *why.
 */
static int next_span(const char *s, size_t n, size_t *pos, struct span *sp,
		     const char **why)
{
	const char *p = *pos < n ? memmem(s + *pos, n - *pos, "${", 2) : NULL;
	size_t k;
	int rc;

	if (!p)
		return 0;
	sp->start = (size_t)(p - s);
	sp->eoff = sp->start + 2;
	rc = scan_expr(s, n, sp->eoff, &sp->ecl, why);
	if (rc < 0)
		return rc;
	for (k = sp->eoff; k < sp->ecl && s[k] && strchr(" \t\r\n", s[k]); k++)
		;
	if (k == sp->ecl)
		return *why = "empty ${ }", -EINVAL;
	sp->end = sp->ecl + 1;
	*pos = sp->end;
	return 1;
}

/* Whether the first span @sp covers all of @s but surrounding blanks. */
static bool span_is_whole(const char *s, size_t n, const struct span *sp)
{
	size_t a = 0, b = n;

	while (a < n && strchr(" \t\r\n", s[a]) && s[a])
		a++;
	while (b > a && strchr(" \t\r\n", s[b - 1]) && s[b - 1])
		b--;
	return sp->start == a && sp->end == b;
}

/* ---- programs ---------------------------------------------------------- */

/*
 * Every program sees the run's globals, bound from the state `.[0]`, and
 * the task's own arguments, bound from the evaluation's variables `.[1]`
 * with the loop and catch variables; `.` is the evaluation's `.[2]`.
 */
#define GLOBALS_STATE                                                          \
	".[0] as {$context, $secrets, $workflow, $runtime, $__env} | "
#define GLOBALS GLOBALS_STATE ".[1] as {$input, $output, $task"
/* what a compile check binds once, before all its expressions */
static const char check_globals[] =
    GLOBALS_STATE ".[1] as {$input, $output, $task} | ";

bool expr_var_reserved(const char *name)
{
	static const char *const r[] = {"context", "secrets", "workflow",
					"runtime", "input",   "output",
					"task",    "ENV",     "__loc__"};
	size_t k;

	for (k = 0; k < sizeof(r) / sizeof(r[0]); k++)
		if (!strcmp(name, r[k]))
			return true;
	return false;
}

/*
 * Stigmer's runtime placeholders: an expression that is exactly
 * `.secrets.KEY` or `.env_vars.KEY` (KEY in [A-Z_][A-Z0-9_]*) names a
 * variable of the run's environment, whichever map it says, and fails
 * when the run has none by that name.  Return: KEY's length, else 0;
 * *map: "secrets" or "env_vars"; *key: where KEY starts in @e.
 */
static size_t placeholder(const char *e, size_t n, const char **map,
			  const char **key)
{
	static const char *const maps[] = {"secrets", "env_vars"};
	size_t a = 0, b = n, m, k, klen;

	while (a < b && strchr(" \t\r\n", e[a]) && e[a])
		a++;
	while (b > a && strchr(" \t\r\n", e[b - 1]) && e[b - 1])
		b--;
	for (m = 0; m < 2; m++) {
		klen = strlen(maps[m]);
		if (b - a < klen + 3 || e[a] != '.' ||
		    memcmp(e + a + 1, maps[m], klen) || e[a + 1 + klen] != '.')
			continue;
		k = a + klen + 2;
		if (!(e[k] == '_' || (e[k] >= 'A' && e[k] <= 'Z')))
			return 0;
		for (; k < b; k++)
			if (!(e[k] == '_' || (e[k] >= 'A' && e[k] <= 'Z') ||
			      (e[k] >= '0' && e[k] <= '9')))
				return 0;
		*map = maps[m];
		*key = e + a + klen + 2;
		return b - (a + klen + 2);
	}
	return 0;
}

/* Append expression @e, or what a placeholder in it stands for. */
static int add_expr(struct buf *b, const char *e, size_t elen)
{
	const char *map = NULL, *key = NULL;
	size_t klen = placeholder(e, elen, &map, &key);

	if (!klen)
		return buf_add(b, e, elen);
	return buf_addf(b, "$__env | if has(\"%.*s\") then .[\"%.*s\"] else "
			"error(\"failed to resolve runtime placeholders: "
			"%s.%.*s\") end",
			(int)klen, key, (int)klen, key, map, (int)klen, key);
}

/* Append `(GLOBALS, $v1, $v2} | .[2] | (E\n))`: the newline ends a
 * comment.  Without @globals (a compile check, which binds them once for
 * all its expressions: jq caps a program's size) `(.[1] as {$v1, $v2} |
 * .[2] | (E\n))`. */
static int add_wrapped(struct buf *b, const char *e, size_t elen,
		       const char *const *vars, size_t nvars, bool globals)
{
	size_t k, n = 0;
	int rc = buf_addstr(b, globals ? "(" GLOBALS : "(.[1] as {");

	for (k = 0; k < nvars && !rc; k++)
		if (!expr_var_reserved(vars[k]))
			rc = buf_addf(b, "%s$%s", globals || n++ ? ", " : "",
				      vars[k]);
	if (!rc && !globals && !n)
		rc = buf_addstr(b, "$input");
	if (!rc)
		rc = buf_addstr(b, "} | .[2] | (");
	if (!rc)
		rc = add_expr(b, e, elen);
	return rc ? rc : buf_addstr(b, "\n))");
}

/* What jq's error callback collects: the first message's first line. */
struct jq_msg {
	char text[256];
	bool got;
};

/*
 * Keep the useful part of "jq: error: MSG (Unix shell quoting issues?) at
 * <top-level>, line N:\nPROGRAM": the program text is ours, not the user's.
 */
static void on_jq_error(void *data, jv m)
{
	struct jq_msg *jm = data;
	const char *s, *cut;
	size_t len;

	if (!jm->got && jv_get_kind(m) == JV_KIND_STRING) {
		s = jv_string_value(m);
		if (!strncmp(s, "jq: error: ", 11))
			s += 11;
		len = strcspn(s, "\n");
		cut = strstr(s, " (Unix shell quoting issues?)");
		if (!cut || (size_t)(cut - s) > len)
			cut = strstr(s, " at <top-level>");
		if (cut && (size_t)(cut - s) < len)
			len = (size_t)(cut - s);
		if (len >= sizeof(jm->text))
			len = sizeof(jm->text) - 1;
		memcpy(jm->text, s, len);
		jm->text[len] = '\0';
		jm->got = true;
	}
	jv_free(m);
}

/*
 * Compile @text.  Return: 0 and *out (caller tears it down); -EINVAL with
 * jq's message in @jm; -ENOMEM.
 */
static int compile(const char *text, jq_state **out, struct jq_msg *jm)
{
	jq_state *jq = jq_init();

	jm->got = false;
	if (!jq)
		return -ENOMEM;
	/* Messages come to us, never to stderr; no module can be found. */
	jq_set_error_cb(jq, on_jq_error, jm);
	jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	if (!jq_compile(jq, text)) {
		jq_teardown(&jq);
		if (!jm->got)
			snprintf(jm->text, sizeof(jm->text), "invalid program");
		jm->got = true;
		return -EINVAL;
	}
	*out = jq;
	return 0;
}

/* Compile @text only to know whether it compiles. */
static int compile_check(const char *text, struct jq_msg *jm)
{
	jq_state *jq = NULL;
	int rc = compile(text, &jq, jm);

	jq_teardown(&jq);
	return rc;
}

/* ---- validation -------------------------------------------------------- */

/* Check @src's variable names and length.  Return: 0; -EINVAL, *why. */
static int src_ok(const struct expr_src *src, const char **why)
{
	size_t k;

	if (src->len > EXPR_TEXT_MAX)
		return *why = "expression too long", -EINVAL;
	if (src->nvars > EXPR_VARS_MAX)
		return *why = "too many variables", -EINVAL;
	for (k = 0; k < src->nvars; k++)
		if (!expr_var_ok(src->vars[k]))
			return *why = "invalid variable name", -EINVAL;
	return 0;
}

/*
 * Append the wrapped expressions of @src to @b, each preceded by ", "
 * when *count > 0.  Return: 0; -EINVAL with *why; -EFBIG; -ENOMEM.
 */
static int add_template(struct buf *b, const struct expr_src *src,
			size_t *count, const char **why)
{
	struct span sp;
	size_t pos = 0;
	int rc = src_ok(src, why);

	while (!rc &&
	       (rc = next_span(src->text, src->len, &pos, &sp, why)) > 0) {
		rc = *count ? buf_addstr(b, ", ") : 0;
		if (!rc)
			rc = add_wrapped(b, src->text + sp.eoff,
					 sp.ecl - sp.eoff, src->vars,
					 src->nvars, false);
		(*count)++;
	}
	return rc;
}

/* Compile template @src alone.  Return: 0; -EINVAL with @msg; -ENOMEM. */
static int check_one(const struct expr_src *src, char *msg, size_t cap)
{
	struct buf b = BUF_INIT(CHECK_PROG_MAX);
	struct jq_msg jm = {.got = false};
	const char *why = NULL;
	size_t count = 0;
	int rc = buf_addstr(&b, sandbox);

	if (!rc)
		rc = buf_addstr(&b, check_globals);
	if (!rc)
		rc = add_template(&b, src, &count, &why);
	if (rc == -EINVAL) /* does not scan */
		fail(msg, cap, rc, "%s", why ? why : "invalid");
	else if (!rc && count)
		rc = compile_check(b.data, &jm);
	if (rc == -EINVAL && !why)
		fail(msg, cap, rc, "%s", jm.text);
	buf_release(&b);
	return rc == -EFBIG ? -ENOMEM : rc;
}

/*
 * Append the sandbox and templates [0, @n) of @src to @b, stopping before
 * the first that does not scan or does not fit (*stop: its index, or @n).
 * *count: expressions added.  Return: 0; -ENOMEM.
 */
static int add_templates(struct buf *b, const struct expr_src *src, size_t n,
			 size_t *stop, size_t *count)
{
	const char *why;
	size_t k, used, cnt;
	int rc = buf_addstr(b, sandbox);

	if (!rc)
		rc = buf_addstr(b, check_globals);
	*stop = n;
	*count = 0;
	for (k = 0; k < n && !rc; k++) {
		used = b->len;
		cnt = *count;
		rc = add_template(b, &src[k], count, &why);
		if (rc == -EINVAL || rc == -EFBIG) {
			buf_truncate(b, used);
			*count = cnt;
			*stop = k;
			return 0;
		}
	}
	return rc;
}

/*
 * Compile templates [0, @n) as one program (those before *stop, see
 * add_templates()).  Return: 0 (also with no expression at all); -EINVAL
 * with @jm; -ENOMEM.
 */
static int compile_templates(const struct expr_src *src, size_t n, size_t *stop,
			     struct jq_msg *jm)
{
	struct buf b = BUF_INIT(CHECK_PROG_MAX);
	size_t count;
	int rc = add_templates(&b, src, n, stop, &count);

	if (!rc && count)
		rc = compile_check(b.data, jm);
	buf_release(&b);
	return rc;
}

/*
 * The first template at fault among [0, @hi], which fail together.  The
 * templates before it compile together and every longer prefix fails, so a
 * binary search finds it in log2(n) compiles instead of n.
 */
static int first_bad(const struct expr_src *src, size_t hi, size_t *bad)
{
	struct jq_msg jm;
	size_t lo = 0, mid, stop;
	int rc;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		rc = compile_templates(src, mid + 1, &stop, &jm);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			hi = mid;
		else
			lo = mid + 1;
	}
	*bad = lo;
	return 0;
}

int expr_check_all(const struct expr_src *src, size_t n, size_t *bad, char *msg,
		   size_t cap)
{
	struct jq_msg jm = {.got = false};
	size_t stop, k, first;
	int rc = compile_templates(src, n, &stop, &jm);

	if (rc == -ENOMEM || (!rc && stop == n))
		return rc;
	if (rc) { /* one of [0, stop) is at fault */
		rc = first_bad(src, stop - 1, &first);
		if (!rc)
			rc = check_one(&src[first], msg, cap);
		if (!rc) /* fails only with the others: should not be */
			rc = fail(msg, cap, -EINVAL, "%s", jm.text);
		if (rc == -EINVAL)
			*bad = first;
		return rc;
	}
	/* [0, stop) compile; the one at @stop does not scan (or fit in one
	   program): go on one by one from there. */
	for (k = stop; k < n; k++) {
		rc = check_one(&src[k], msg, cap);
		if (rc == -EINVAL)
			*bad = k;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- the cache --------------------------------------------------------- */

int expr_eng_new(struct expr_eng **out)
{
	struct expr_eng *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->input = jv_object(); /* an empty state until expr_eng_input() */
	*out = c;
	return 0;
}

void expr_eng_free(struct expr_eng *c)
{
	size_t k;

	if (!c)
		return;
	for (k = 0; k < CACHE_SLOTS; k++) {
		free(c->slot[k].text);
		jq_teardown(&c->slot[k].jq);
	}
	jv_free(c->input);
	free(c);
}

void expr_eng_warm(struct expr_eng *e)
{
	struct jq_msg jm = {.got = false};

	(void)e;
	compile_check("[.[]? | tostring] | length", &jm);
}

size_t expr_eng_size(const struct expr_eng *c)
{
	return c ? c->n : 0;
}

/* JSON text @json (@n bytes) as a jv of kind @kind.  Return: 0; -EINVAL. */
static int parse_kind(const char *json, size_t n, jv_kind kind, jv *out)
{
	jv v = n <= INT_MAX ? jv_parse_sized(json, (int)n) : jv_invalid();

	if (jv_get_kind(v) != kind) {
		jv_free(v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int expr_eng_input(struct expr_eng *c, const char *json, size_t n)
{
	jv v;
	int rc = parse_kind(json, n, JV_KIND_OBJECT, &v);

	if (rc < 0)
		return rc;
	jv_free(c->input);
	c->input = v;
	return 0;
}

int expr_eng_key(struct expr_eng *c, const char *key, const char *sub,
		 const char *json, size_t n)
{
	jv val = n <= INT_MAX ? jv_parse_sized(json, (int)n) : jv_invalid();
	jv in;

	if (!jv_is_valid(val)) {
		jv_free(val);
		return -EINVAL;
	}
	/* No run holds the input between evaluations (run_first() resets
	   the program), so this edits the one object in place. */
	if (sub) {
		in = jv_object_get(jv_copy(c->input), jv_string(key));
		if (jv_get_kind(in) != JV_KIND_OBJECT) {
			jv_free(in);
			in = jv_object();
		}
		c->input = jv_object_set(c->input, jv_string(key), jv_null());
		val = jv_object_set(in, jv_string(sub), val);
	}
	c->input = jv_object_set(c->input, jv_string(key), val);
	return 0;
}

/* The slot of program @text: its own, or the free one it would take. */
static struct prog *slot_of(struct expr_eng *c, const char *text)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	const char *p;
	size_t k;

	for (p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (k = h % CACHE_SLOTS;; k = (k + 1) % CACHE_SLOTS)
		if (!c->slot[k].text || !strcmp(c->slot[k].text, text))
			return &c->slot[k];
}

/*
 * The compiled program @text, from the cache or compiled now and kept
 * while there is room (*slot then says where; NULL: the caller tears the
 * program down after one use).  A slot whose program was dropped (after a
 * halt) keeps its text and gets a new program.
 * Return: 0 and *jq; -EINVAL with @msg; -ENOMEM.
 */
static int get_prog(struct expr_eng *c, const char *text, jq_state **jq,
		    struct prog **slot, char *msg, size_t cap)
{
	struct prog *p = slot_of(c, text);
	struct jq_msg jm;
	int rc;

	*slot = NULL;
	if (p->jq)
		return *jq = p->jq, *slot = p, 0;
	rc = compile(text, jq, &jm);
	if (rc < 0)
		return rc == -EINVAL
			   ? fail(msg, cap, rc,
				  "expression does not compile: %s", jm.text)
			   : rc;
	if (!p->text && c->n < EXPR_CACHE_MAX) {
		p->text = strdup(text);
		c->n += p->text != NULL;
	}
	if (p->text) { /* else full (or no memory): use once */
		p->jq = *jq;
		*slot = p;
	}
	return 0;
}

/* A runtime error @r (taken) as "expression failed: MSG" in @msg. */
static int runtime_error(jv r, char *msg, size_t cap)
{
	jv m = jv_invalid_get_msg(r);
	int rc;

	if (jv_get_kind(m) != JV_KIND_STRING)
		m = jv_dump_string(m, 0);
	rc = fail(msg, cap, -EINVAL, "expression failed: %s",
		  jv_string_value(m));
	jv_free(m);
	return rc;
}

/*
 * Run @jq on @in (taken); *out is the first output (null when none).
 * *halted tells that @jq halted: jq 1.6 frees the halt's values on every
 * reset without forgetting them, so such a program must be torn down
 * (its one more reset) and never started again.
 * Return: 0; -EINVAL with @msg (an error raised, or halt).
 */
static int run_first(jq_state *jq, jv in, jv *out, bool *halted, char *msg,
		     size_t cap)
{
	jv r;
	int rc = 0;

	jq_start(jq, in, 0);
	r = jq_next(jq);
	if (jv_is_valid(r)) {
		*out = r;
	} else if (jq_halted(jq)) {
		jv_free(r);
		*halted = true;
		return fail(msg, cap, -EINVAL, "expression failed: halted");
	} else if (jv_invalid_has_msg(jv_copy(r))) {
		rc = runtime_error(r, msg, cap);
	} else {
		jv_free(r); /* no output; error(null) ends up here too */
		*out = jv_null();
	}
	/* Let go of the input, so expr_eng_key() never copies it. */
	jq_start(jq, jv_null(), 0);
	return rc;
}

/* Variables in scope for one evaluation: their names and their values. */
struct scope {
	const char *names[EXPR_VARS_MAX]; /* point into keys[] */
	jv keys[EXPR_VARS_MAX];
	size_t n;
	jv vals; /* an object name -> value */
	jv dot;	 /* `.` */
};

int expr_vars_check(const struct doc *vars, char *msg, size_t cap)
{
	size_t k;

	if (!vars)
		return 0;
	if (vars->type != DOC_MAP)
		return fail(msg, cap, -EINVAL, "variables are not a map");
	if (vars->n > EXPR_VARS_MAX)
		return fail(msg, cap, -EINVAL, "too many variables");
	for (k = 0; k < vars->n; k++)
		if (!expr_var_ok(vars->u.kv[k].key))
			return fail(msg, cap, -EINVAL, "invalid variable name");
	return 0;
}

static void scope_release(struct scope *sc)
{
	while (sc->n)
		jv_free(sc->keys[--sc->n]);
	jv_free(sc->vals);
	jv_free(sc->dot);
}

/*
 * Take the JSON array [variables, dot] @json (@len bytes; none when 0) as
 * a scope, the names checked again (expr_vars_check() ran on the other
 * side).  Return: 0 (release @sc even on failure); -EINVAL with @msg.
 */
static int scope_init(struct scope *sc, const char *json, size_t len,
		      char *msg, size_t cap)
{
	jv both;
	int it;

	sc->n = 0;
	sc->vals = jv_object();
	sc->dot = jv_null();
	if (!len)
		return 0;
	if (parse_kind(json, len, JV_KIND_ARRAY, &both) < 0)
		return fail(msg, cap, -EINVAL, "variables are not a map");
	jv_free(sc->vals);
	jv_free(sc->dot);
	sc->vals = jv_array_length(jv_copy(both)) == 2
		       ? jv_array_get(jv_copy(both), 0)
		       : jv_null();
	sc->dot = jv_array_get(both, 1); /* invalid when too short */
	if (jv_get_kind(sc->vals) != JV_KIND_OBJECT || !jv_is_valid(sc->dot)) {
		jv_free(sc->vals);
		jv_free(sc->dot);
		sc->vals = jv_object();
		sc->dot = jv_null();
		return fail(msg, cap, -EINVAL, "variables are not a map");
	}
	for (it = jv_object_iter(sc->vals); jv_object_iter_valid(sc->vals, it);
	     it = jv_object_iter_next(sc->vals, it)) {
		if (sc->n == EXPR_VARS_MAX)
			return fail(msg, cap, -EINVAL, "too many variables");
		sc->keys[sc->n] = jv_object_iter_key(sc->vals, it);
		sc->names[sc->n] = jv_string_value(sc->keys[sc->n]);
		if (!expr_var_ok(sc->names[sc->n++]))
			return fail(msg, cap, -EINVAL, "invalid variable name");
	}
	return 0;
}

/* The program of expression @e (@elen bytes) in scope @sc, into @text:
 * the same text for the same expression and variable names. */
static int prog_text(struct buf *text, const char *e, size_t elen,
		     const struct scope *sc)
{
	int rc = buf_addstr(text, sandbox);

	return rc ? rc : add_wrapped(text, e, elen, sc->names, sc->n, true);
}

/*
 * Evaluate expression @e (@elen bytes) with scope @sc: *out is its first
 * output.  Return: 0; -EINVAL with @msg; -ENOMEM.
 */
static int eval_one(struct expr_eng *c, const char *e, size_t elen,
		    const struct scope *sc, jv *out, char *msg, size_t cap)
{
	struct buf text = BUF_INIT(PROG_MAX);
	jq_state *jq = NULL;
	struct prog *slot = NULL;
	bool halted = false;
	int rc = prog_text(&text, e, elen, sc);

	if (!rc)
		rc = get_prog(c, text.data, &jq, &slot, msg, cap);
	if (!rc)
		rc = run_first(jq,
			       JV_ARRAY(jv_copy(c->input), jv_copy(sc->vals),
					jv_copy(sc->dot)),
			       out, &halted, msg, cap);
	if (slot && halted)
		slot->jq = NULL; /* dropped: compiled again if needed */
	if (!slot || halted)
		jq_teardown(&jq);
	buf_release(&text);
	return rc == -EFBIG ? -ENOMEM : rc;
}

/* Append @v (taken) as text: a string raw, anything else compact JSON. */
static int add_value(struct buf *b, jv v)
{
	size_t left = EXPR_OUT_MAX;
	int rc = 0;

	if (jv_get_kind(v) != JV_KIND_STRING) {
		rc = expr_jv_fits(v, 0, &left);
		v = rc ? (jv_free(v), jv_null()) : jv_dump_string(v, 0);
	}
	if (!rc)
		rc = buf_add(b, jv_string_value(v), expr_str_len(v));
	jv_free(v);
	return rc;
}

/* ---- templates --------------------------------------------------------- */

/* A template with text around its expressions: the string it gives. */
static int eval_mixed(struct expr_eng *c, const char *s, size_t n,
		      const struct scope *sc, struct doc **out, char *msg,
		      size_t cap)
{
	struct buf b = BUF_INIT(EXPR_OUT_MAX);
	struct span sp;
	const char *why = NULL;
	size_t pos = 0, lit = 0;
	jv v;
	int rc;

	while ((rc = next_span(s, n, &pos, &sp, &why)) > 0) {
		rc = buf_add(&b, s + lit, sp.start - lit);
		if (!rc)
			rc = eval_one(c, s + sp.eoff, sp.ecl - sp.eoff, sc, &v,
				      msg, cap);
		if (!rc)
			rc = add_value(&b, v);
		if (rc < 0)
			break;
		lit = sp.end;
	}
	if (!rc)
		rc = buf_add(&b, s + lit, n - lit);
	if (rc == -EINVAL && why)
		fail(msg, cap, rc, "%s", why);
	else if (rc == -EFBIG)
		fail(msg, cap, rc, "expression result too big");
	if (!rc) {
		*out = doc_str(b.data ? b.data : "", b.len);
		rc = *out ? 0 : -ENOMEM;
	}
	buf_release(&b);
	return rc;
}

/* A template that is one expression: its first output as a doc. */
static int eval_whole(struct expr_eng *c, const char *s,
		      const struct span *sp, const struct scope *sc,
		      struct doc **out, char *msg, size_t cap)
{
	size_t left = EXPR_OUT_MAX;
	jv v;
	int rc =
	    eval_one(c, s + sp->eoff, sp->ecl - sp->eoff, sc, &v, msg, cap);

	if (rc < 0)
		return rc;
	rc = expr_from_jv(v, 0, &left, out);
	jv_free(v);
	if (rc == -EFBIG)
		fail(msg, cap, rc, "expression result too big");
	else if (rc == -EINVAL)
		fail(msg, cap, rc, "expression result has a key with NUL");
	return rc;
}

int expr_scan(const char *s, size_t n, const char **why)
{
	struct span sp;
	size_t pos = 0;

	*why = NULL;
	if (n > EXPR_TEXT_MAX)
		return *why = "expression too long", -EINVAL;
	return next_span(s, n, &pos, &sp, why);
}

int expr_spans_only(const char *s, size_t n, struct buf *out)
{
	struct span sp;
	const char *why = NULL;
	size_t pos = 0;
	int rc;

	if (n > EXPR_TEXT_MAX)
		return -EINVAL;
	while ((rc = next_span(s, n, &pos, &sp, &why)) > 0)
		if ((rc = buf_add(out, s + sp.start, sp.end - sp.start)) < 0)
			return rc;
	return rc;
}

/* Compile expression @e of scope @sc into the cache, while fewer than
 * EXPR_LEARN_MAX programs are kept (the rest of the cache stays for the
 * programs a run compiles itself). */
static void learn_one(struct expr_eng *c, const char *e, size_t elen,
		      const struct scope *sc)
{
	struct buf text = BUF_INIT(PROG_MAX);
	struct prog *slot = NULL;
	jq_state *jq = NULL;

	if (c->n < EXPR_LEARN_MAX && prog_text(&text, e, elen, sc) == 0 &&
	    get_prog(c, text.data, &jq, &slot, NULL, 0) == 0 && !slot)
		jq_teardown(&jq);
	buf_release(&text);
}

int expr_eng_learn(struct expr_eng *c, const char *s, size_t n,
		   const char *vars, size_t vlen)
{
	struct scope sc;
	struct span sp;
	const char *why = NULL;
	size_t pos = 0;
	int rc;

	if (n > EXPR_TEXT_MAX)
		return -EINVAL;
	rc = scope_init(&sc, vars, vlen, NULL, 0);
	while (!rc && (rc = next_span(s, n, &pos, &sp, &why)) > 0) {
		learn_one(c, s + sp.eoff, sp.ecl - sp.eoff, &sc);
		rc = 0;
	}
	scope_release(&sc);
	return rc;
}

int expr_eng_eval(struct expr_eng *c, const char *s, size_t n,
		  const char *vars, size_t vlen, struct doc **out, char *msg,
		  size_t cap)
{
	struct scope sc;
	struct span sp;
	const char *why = NULL;
	size_t pos = 0;
	int rc;

	if (n > EXPR_TEXT_MAX)
		return fail(msg, cap, -EINVAL, "expression too long");
	rc = next_span(s, n, &pos, &sp, &why);
	if (rc < 0)
		return fail(msg, cap, rc, "%s", why);
	if (rc == 0) { /* no expression: the text itself */
		*out = doc_str(s, n);
		return *out ? 0 : -ENOMEM;
	}
	rc = scope_init(&sc, vars, vlen, msg, cap);
	if (!rc && span_is_whole(s, n, &sp))
		rc = eval_whole(c, s, &sp, &sc, out, msg, cap);
	else if (!rc)
		rc = eval_mixed(c, s, n, &sc, out, msg, cap);
	scope_release(&sc);
	return rc;
}
