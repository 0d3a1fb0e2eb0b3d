/*
 * steps_expr.c - the expressions of a Workflow's tasks, for
 * ValidateWorkflowSpec: every template (a string holding "${") of the
 * fields the runner evaluates is collected with the path it sits at and
 * the variables in scope there (FOR each/at, catch as), and all of them
 * are compiled in one expr_check_all() call, because jq 1.6 spends about
 * 16 ms on its builtins with every compile.
 */
#include "plane_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

/* One template and where it was found. */
struct titem {
	const char *text;		/* borrowed from the resource */
	size_t len;
	const char *vars[EXPR_VARS_MAX];	/* borrowed names in scope */
	size_t nvars;
	char *path;			/* owned, for the message */
};

struct texprs {
	struct titem *it;
	size_t n, cap;
	const char *scope[EXPR_VARS_MAX];	/* borrowed, innermost last */
	size_t nscope;
};

int texpr_new(struct texprs **out)
{
	struct texprs *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	*out = x;
	return 0;
}

void texpr_free(struct texprs *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->n; i++)
		free(x->it[i].path);
	free(x->it);
	free(x);
}

size_t texpr_scope(const struct texprs *x)
{
	return x->nscope;
}

/* A name already in scope is not added twice: for compiling, the inner
 * binding shadowing the outer one changes nothing. */
int texpr_push(struct texprs *x, const char *name, const char *path,
	       struct err *e)
{
	size_t i;

	for (i = 0; i < x->nscope; i++)
		if (!strcmp(x->scope[i], name))
			return 0;
	if (x->nscope == EXPR_VARS_MAX)
		return err_set(e, -EBADMSG, "%s: more than %d variables in "
			       "scope", path, EXPR_VARS_MAX);
	x->scope[x->nscope++] = name;
	return 0;
}

void texpr_pop(struct texprs *x, size_t mark)
{
	if (mark < x->nscope)
		x->nscope = mark;
}

static int add_one(struct texprs *x, const struct doc *v, const char *path,
		   struct err *e)
{
	struct titem *it;
	size_t cap;

	if (x->n == TEXPR_MAX)
		return err_set(e, -EBADMSG, "%s: too many expressions in one "
			       "workflow (at most %d)", path, TEXPR_MAX);
	if (x->n == x->cap) {
		cap = x->cap ? x->cap * 2 : 16;
		it = realloc(x->it, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		x->it = it;
		x->cap = cap;
	}
	it = &x->it[x->n];
	it->path = strdup(path);
	if (!it->path)
		return -ENOMEM;
	it->text = v->u.s;
	it->len = v->n;
	memcpy(it->vars, x->scope, x->nscope * sizeof(x->scope[0]));
	it->nvars = x->nscope;
	x->n++;
	return 0;
}

static int add_deep(struct texprs *x, const struct doc *v, char *path,
		    size_t cap, struct err *e);

/* Each item or value of list or map @v, its path @path + "[i]" or
 * ".key" (cut when too long: the message only gets shorter). */
static int add_children(struct texprs *x, const struct doc *v, char *path,
			size_t cap, struct err *e)
{
	size_t at = strlen(path), i;
	int rc = 0;

	for (i = 0; rc == 0 && i < v->n; i++) {
		if (v->type == DOC_LIST)
			snprintf(path + at, cap - at, "[%zu]", i);
		else
			snprintf(path + at, cap - at, ".%s", v->u.kv[i].key);
		rc = add_deep(x, v->type == DOC_LIST ? v->u.items[i] :
			      v->u.kv[i].val, path, cap, e);
	}
	path[at] = '\0';
	return rc;
}

static int add_deep(struct texprs *x, const struct doc *v, char *path,
		    size_t cap, struct err *e)
{
	if (v->type == DOC_STR)
		return expr_has(v->u.s, v->n) ? add_one(x, v, path, e) : 0;
	if (v->type == DOC_LIST || v->type == DOC_MAP)
		return add_children(x, v, path, cap, e);
	return 0;
}

int texpr_add(struct texprs *x, const struct doc *v, const char *path,
	      bool deep, struct err *e)
{
	char p[TEXPR_PATH_MAX];

	if (!v)
		return 0;
	if (!deep)
		return v->type == DOC_STR && expr_has(v->u.s, v->n) ?
		       add_one(x, v, path, e) : 0;
	snprintf(p, sizeof(p), "%s", path);
	return add_deep(x, v, p, sizeof(p), e);
}

int texpr_check(const struct texprs *x, struct err *e)
{
	struct expr_src *src;
	char msg[ERR_MSG_MAX];
	size_t i, bad = 0;
	int rc;

	if (x->n == 0)
		return 0;
	src = calloc(x->n, sizeof(*src));
	if (!src)
		return -ENOMEM;
	for (i = 0; i < x->n; i++) {
		src[i].text = x->it[i].text;
		src[i].len = x->it[i].len;
		src[i].vars = x->it[i].vars;
		src[i].nvars = x->it[i].nvars;
	}
	msg[0] = '\0';
	rc = expr_check_all(src, x->n, &bad, msg, sizeof(msg));
	free(src);
	if (rc == -EINVAL && bad < x->n)
		return err_set(e, -EBADMSG, "%s: expression does not compile: "
			       "%s", x->it[bad].path, msg);
	return rc == -EINVAL ? err_set(e, -EBADMSG, "expression does not "
				       "compile: %s", msg) : rc;
}
