/*
 * steps_i.h - private to ValidateWorkflowSpec (steps_tasks.c walks the
 * task tree, steps_cfg.c checks the leaf kinds' configs, steps_try.c the
 * TRY's catch and retry): the walk's state and the helpers they share.
 * Every check returns 0 or -EBADMSG with the message, the field's full
 * path first, in t->c->e.
 */
#ifndef EXECFS_STEPS_I_H
#define EXECFS_STEPS_I_H

#include <stdbool.h>
#include <stddef.h>

#include "plane_i.h"

#define FIELD_MAX 128	/* a config field's path below the task, bytes (a
			   longer one is cut in the message) */

struct tcheck {
	struct pctx *c;
	struct texprs *x;
	const struct schema_msg *task_msg;	/* WorkflowTask */
	struct doc *list;	/* the list of the task being checked */
	char path[512];		/* of the task or config being checked */
	int depth;
};

/* Refuse field @field ("" : the current path itself) with a message. */
int tcheck_fail(struct tcheck *t, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Collect the template(s) of field @field, every leaf if @deep. */
int tcheck_expr(struct tcheck *t, const char *field, const struct doc *v,
		bool deep);

/* An optional field that is a string and maybe an expression: absent,
 * or a string (compiled if it holds "${"). */
int tcheck_opt_str(struct tcheck *t, const char *field, const struct doc *v);

/* Whether @v is a string of at least one byte. */
bool tcheck_is_text(const struct doc *v);

/* Whether map key @key is @camel or its snake_case (exceptWhen,
 * except_when). */
bool tcheck_key_is(const char *key, const char *camel);

/* The value of @camel in map @m under either spelling, or NULL. */
struct doc *tcheck_get(const struct doc *m, const char *camel);

/*
 * tcheck_known() - refuse a key of map @m, at @field, that the
 * NULL-ended list @keys (camelCase) does not hold, or one given under
 * both spellings.  The message lists @keys.
 */
int tcheck_known(struct tcheck *t, const struct doc *m, const char *field,
		 const char *const *keys);

/* A FOR each/at or catch as at @field of @m (absent: @dflt) into *out
 * (borrowed from @m): a variable name no expression binds already. */
int tcheck_var(struct tcheck *t, const struct doc *m, const char *key,
	       const char *field, const char *dflt, const char **out);

/* Variables @a and @b (NULL: none) into scope; *mark for texpr_pop(),
 * set even when this fails. */
int tcheck_push(struct tcheck *t, const char *a, const char *b,
		size_t *mark);

/* The list of tasks at @field of the current config, at least @min. */
int tcheck_list(struct tcheck *t, struct doc *list, const char *field,
		size_t min);

/* The kinds' configs, at t->path (…taskConfig). */
int tcheck_set(struct tcheck *t, struct doc *cfg);
int tcheck_wait(struct tcheck *t, struct doc *cfg);
int tcheck_raise(struct tcheck *t, struct doc *cfg);
int tcheck_run(struct tcheck *t, struct doc *cfg);
int tcheck_http(struct tcheck *t, struct doc *cfg);
int tcheck_try(struct tcheck *t, struct doc *cfg);

/* An error's status (RAISE, catch.errors.with): 100 to 599. */
int tcheck_status(struct tcheck *t, const char *field, const struct doc *v);

#endif
