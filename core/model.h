/*
 * model.h - the table of resource kinds (after Stigmer's ApiResourceKind)
 * and the resource-level normalizer built on schema.h.
 *
 * Adding a kind is adding a row here, its spec/status messages in
 * model.c, and its pipeline steps.
 */
#ifndef EXECFS_MODEL_H
#define EXECFS_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "doc.h"
#include "err.h"
#include "schema.h"

#define API_VERSION "agentic.stigmer.ai/v1"

enum kind_id {
	KIND_WORKFLOW,
	KIND_WORKFLOW_INSTANCE,
	KIND_WORKFLOW_EXECUTION,
	KIND_EXECUTION_CONTEXT,
	KIND_ENVIRONMENT,
	KIND_COUNT
};

/* ApiResourceOwnerScope numbers. */
enum owner_scope {
	SCOPE_UNSPECIFIED = 0,
	SCOPE_PLATFORM = 1,
	SCOPE_ORGANIZATION = 2,
	SCOPE_IDENTITY_ACCOUNT = 3,
};

struct kind {
	enum kind_id id;
	const char *dir;	/* "workflows" */
	const char *name;	/* "Workflow" */
	const char *prefix;	/* id prefix: "wfl" */
	unsigned scopes;	/* bit (1u << scope) per allowed owner scope */
	const char *scope_rule;	/* message when the scope is not allowed */
	bool create_only;	/* ExecutionContext */
	const struct schema_msg *spec;
	const struct schema_msg *status;
	const char *draft;	/* commented template for a mkdir'ed draft;
				   "%s" once, for the name */
};

/* Lookups; NULL when unknown.  Returned pointers are static. */
const struct kind *model_kind(enum kind_id id);
const struct kind *model_kind_by_dir(const char *dir);
const struct kind *model_kind_by_name(const char *name);	/* exact */
const struct kind *model_kind_by_prefix(const char *id);	/* "wfl-..." */

/* Enums shared with the pipelines and the runner. */
extern const struct schema_enum model_owner_scope;
extern const struct schema_enum model_execution_phase;
extern const struct schema_enum model_task_kind;
extern const struct schema_enum model_task_status;

/* ApiResourceMetadata, the audit messages, and the whole-resource shape. */
extern const struct schema_msg model_metadata;

/**
 * model_normalize() - validate a parsed document as a resource of kind @k.
 * @in: the parsed document (a map).
 * @default_name: metadata.name to use when the document has none (from the
 *   file or directory name); may be NULL.
 * Rules: apiVersion and kind may be omitted, else must equal API_VERSION and
 * k->name; metadata must be a map; ownerScope defaults to the lowest scope
 * k->scopes allows and must be allowed (else k->scope_rule); a top-level
 * "status" is accepted and dropped (it is server-owned); metadata.id,
 * metadata.slug and metadata.org are kept for the pipeline to check.
 * Return: 0 and *out = {apiVersion, kind, metadata, spec} (caller frees);
 *         -EBADMSG with the field path; -ENOMEM.
 */
int model_normalize(const struct kind *k, const struct doc *in,
		    const char *default_name, struct doc **out,
		    struct err *e);

/**
 * model_for_each_secret() - schema_for_each_secret() over a whole
 * normalized resource of kind @k (paths start at "spec.").
 */
int model_for_each_secret(const struct kind *k, struct doc *res,
			  int (*fn)(void *ctx, const char *path,
				    struct doc *node),
			  void *ctx);

#endif
