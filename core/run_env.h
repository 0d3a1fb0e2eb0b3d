/*
 * run_env.h - what a run may see: its environment variables, with the
 * secret values in its scope opened, and the ephemeral ExecutionContexts
 * that carry an execution's runtime secrets (DESIGN 1.5, 1.7).
 *
 * The environment of a run, later wins: the Workflow's spec.envSpec.data,
 * the environments named by the instance's spec.envRefs in order, every
 * ExecutionContext whose spec.executionId is the execution's id or slug
 * (in slug order), the execution's spec.runtimeEnv.  Secret values are
 * opened with crypt/seal.h for exactly the (kind, id, path) they were
 * sealed for; a value that fails to open fails the build (never run with
 * a missing secret).
 *
 * Plaintext lives in sodium_malloc'd memory (open_value()) and is wiped by
 * run_env_release().  Nothing here logs a value.
 */
#ifndef EXECFS_RUN_ENV_H
#define EXECFS_RUN_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doc.h"
#include "err.h"
#include "ids.h"

struct plane;
struct plane_caller;

#define RUN_ENV_MAX 1024		/* variables in one run */

struct run_var {
	char *name;	/* malloc'd */
	char *value;	/* NUL-terminated; secret: sodium_malloc'd, else
			   malloc'd */
	size_t len;
	bool secret;
	char from[80];	/* "Environment prod", "runtimeEnv", ... for
			   messages; a long slug is cut */
};

#define RUN_SRC_MAX 32	/* resources named in a use-secrets audit line */

/* A resource whose secret values went into the run (for the audit log). */
struct run_src {
	char kind[24];		/* "Environment", "ExecutionContext", ... */
	char id[IDS_ID_MAX];
	char slug[SLUG_MAX + 1];
};

struct run_env {
	struct run_var *v;	/* in order of first definition */
	size_t n, alloc;
	struct run_src src[RUN_SRC_MAX];	/* run_env_build(): whose
						   secrets it opened */
	size_t nsrc;
};

/** run_env_init() - empty. */
void run_env_init(struct run_env *env);

/** run_env_release() - wipe secret values, free everything.  Safe to repeat. */
void run_env_release(struct run_env *env);

/**
 * run_env_set() - define @name (copied) as @len bytes of @value (copied; a
 * secret into sodium_malloc'd memory), replacing an earlier definition in
 * place (keeping its position).  @from may be NULL.
 * Return: 0; -E2BIG past RUN_ENV_MAX; -EINVAL (a name that is NULL or not
 *   [A-Za-z_][A-Za-z0-9_]* of at most 256 bytes, or a value holding a NUL
 *   byte); -ENOMEM.
 */
int run_env_set(struct run_env *env, const char *name, const char *value,
		size_t len, bool secret, const char *from);

/** run_env_get() - the variable @name (valid until the next set or the
 * release), or NULL. */
const struct run_var *run_env_get(const struct run_env *env,
				  const char *name);

/**
 * run_env_build() - the environment of execution @exec (a stored resource
 * document, id @exec_id, slug @exec_slug) running workflow @wf (stored
 * document), as described above, into @env (initialised by the caller).
 * The instance is spec.workflowInstanceId of @exec, or, when that is
 * empty, the workflow's status.defaultInstanceId (neither: no
 * environments).  An envRefs entry is looked up by its id, then by its
 * slug (an environment deleted and made again under the same name); @who
 * (the run's creator; NULL: the daemon) needs x on it (-EACCES).
 * Secret values are sealed for ("Workflow", wf metadata.id,
 * "spec.envSpec.data.K.value"), ("Environment", id, "spec.data.K.value"),
 * ("ExecutionContext", id, "spec.data.K.value") and ("WorkflowExecution",
 * @exec_id, "spec.runtimeEnv.K.value").  run_var.from says where each
 * variable came from: "Workflow envSpec", "Environment prod",
 * "ExecutionContext run1-ctx", "runtimeEnv".  @env may be partly filled
 * on failure; the caller releases it either way.
 * Return: 0; -ENOENT (an envRefs environment or the instance is gone:
 *   message names it); -EACCES (@who may not use an environment:
 *   message names it); -EBADMSG (a secret that does not open, or a value
 *   holding a NUL byte: message names the resource and key, never the
 *   value); -E2BIG; -ENOMEM; -EIO.
 */
int run_env_build(struct plane *p, const struct plane_caller *who,
		  const struct doc *exec, const char *exec_id,
		  const char *exec_slug, const struct doc *wf,
		  struct run_env *env, struct err *e);

/**
 * run_env_envp() - a NULL-terminated "NAME=value" array for execve(2) of
 * @base with @extra (may be NULL; it wins) on top.  PATH is set to
 * "/usr/local/bin:/usr/bin:/bin" when neither defines it (it then comes
 * first); the others follow in order of first definition.  The array and
 * its strings are one block: sodium_malloc'd when a variable is secret,
 * else malloc'd (as the values it copies); wiped when freed either way.
 * Return: 0 and *out (free with run_env_envp_free(), which wipes);
 *   -ENOMEM.
 */
int run_env_envp(const struct run_env *base, const struct run_env *extra,
		 char ***out);
void run_env_envp_free(char **envp);

/*
 * Ephemeral contexts.
 */

/**
 * ctx_move_secrets() - the create-pipeline step of a WorkflowExecution
 * (MoveRuntimeSecretsToContext, after SetInitialPhase): when spec.runtimeEnv
 * holds isSecret values, they leave the execution's record and go into a
 * new ExecutionContext "<execution-slug>-ctx" (spec.executionId = the
 * execution's id, sealed for the context) added to the same atomic change
 * set.  @c is the pipeline's struct pctx (plane_i.h).
 *
 * The execution's kept source (spec.yaml) must show "***" for the moved
 * values, but MaskSource, later in the tail, only masks the secrets it
 * still finds in c->res.  So this step masks the text itself while the
 * secrets are still there (secrets_mask_source() into c->masked) and then
 * marks the text consumed (c->len = 0): the later MaskSource appends
 * nothing more, and a secret still in c->res at that point could not be
 * located in an empty text and fails the write (closed) rather than
 * being stored unmasked.
 * Return: 0; -EEXIST (that context name is taken); -EBADMSG (a secret
 *   written as "***", an anchor or alias, or a name too long for the
 *   context); -EFBIG; -ENOMEM; -EIO.
 */
struct pctx;
int ctx_move_secrets(struct pctx *c);

/**
 * ctx_for_each() - call @fn on every ExecutionContext whose
 * spec.executionId is @exec_id or @exec_slug (@exec_id NULL: on every
 * context), in slug order, with its header and its stored document (valid
 * during the call; secret values sealed).  The contexts are listed first,
 * so @fn may call into the plane (plane_delete()); one deleted meanwhile
 * is skipped.  @fn returns 0 to go on, non-zero to stop.
 * Return: 0, @fn's non-zero value, -ENOMEM, -EIO.
 */
struct store_rec;
int ctx_for_each(struct plane *p, const char *exec_id, const char *exec_slug,
		 int (*fn)(void *arg, const struct store_rec *h,
			   const struct doc *ctx),
		 void *arg);

/**
 * ctx_delete_for() - delete every ExecutionContext whose spec.executionId
 * is @exec_id or @exec_slug.  Return: the number deleted, or -errno
 * (message in @e) from the first delete that failed.
 */
int ctx_delete_for(struct plane *p, const char *exec_id,
		   const char *exec_slug, struct err *e);

/**
 * ctx_sweep() - delete every ExecutionContext created more than @ttl_s
 * seconds before @now_ns whose execution has ended (COMPLETED, FAILED,
 * CANCELLED) or no longer exists.  Return: the number deleted, or -errno.
 */
int ctx_sweep(struct plane *p, int64_t now_ns, unsigned ttl_s,
	      struct err *e);

#endif
