/*
 * schema.h - message descriptions (after Stigmer's protobuf messages) and
 * the normalizer that turns a parsed document into the canonical resource.
 *
 * Input field names may be lowerCamelCase (protobuf JSON names) or
 * snake_case (proto names); output always uses lowerCamelCase.  Enum values
 * are accepted by full name ("EXECUTION_PENDING"), short name ("PENDING")
 * or number, case-insensitively, and are written as the short upper-case
 * name.  Unknown fields, wrong types, duplicate spellings of one field
 * ("workflowId" and "workflow_id" together) and values out of range fail
 * with -EBADMSG and a message that starts with the field path, e.g.
 * "spec.tasks[1].kind: unknown value \"LOOP\"".
 */
#ifndef EXECFS_SCHEMA_H
#define EXECFS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doc.h"
#include "err.h"

enum schema_type {
	ST_STRING,
	ST_BOOL,
	ST_INT,		/* int32 range unless min/max say otherwise */
	ST_ENUM,
	ST_MESSAGE,
	ST_STRUCT,	/* google.protobuf.Struct: any map, kept as typed YAML */
	ST_VALUE,	/* google.protobuf.Value: any node */
	ST_BYTES,	/* base64 text */
};

#define SF_REPEATED	0x01u	/* list of the type */
#define SF_MAP		0x02u	/* map<string, type> */
#define SF_REQUIRED	0x04u	/* must be present (and non-empty / non-zero) */
#define SF_OUTPUT	0x08u	/* set by the server; ignored on input */
#define SF_SECRET	0x10u	/* the "value" of a message whose isSecret is true */

struct schema_msg;

struct schema_enum_value {
	const char *name;	/* short name, upper case: "PENDING" */
	int32_t number;
};

struct schema_enum {
	const char *name;	/* "ExecutionPhase" */
	const char *prefix;	/* full-name prefix: "EXECUTION_" */
	const struct schema_enum_value *values;
	size_t n;
	/* Also accepted on input: the full proto names if they are not just
	 * prefix + short name (NULL-terminated list, may be NULL). */
	const char *const *aliases;
};

struct schema_field {
	const char *json;	/* lowerCamelCase name */
	const char *proto;	/* snake_case name */
	enum schema_type type;
	unsigned flags;
	const struct schema_msg *msg;	/* ST_MESSAGE */
	const struct schema_enum *en;	/* ST_ENUM */
	int64_t min, max;	/* ST_INT range; ST_STRING/lists: length/count bounds (0 = none) */
	/* Extra check run on the normalized value; may be NULL. */
	int (*check)(const struct doc *v, struct err *e);
};

struct schema_msg {
	const char *name;	/* "WorkflowSpec" */
	const struct schema_field *fields;
	size_t n;
};

/**
 * schema_normalize() - validate @in against @m and build the canonical
 * form.
 * @path: field path of @in for messages ("spec"); "" at the top.
 * Return: 0 and *out (caller frees), -EBADMSG with the path in e->msg,
 *         -ENOMEM.
 */
int schema_normalize(const struct schema_msg *m, const struct doc *in,
		     const char *path, struct doc **out, struct err *e);

/**
 * schema_enum_parse() - @text (any accepted spelling) to the enum number.
 * Return: 0 and *out, or -EBADMSG.
 */
int schema_enum_parse(const struct schema_enum *en, const char *text,
		      int32_t *out);

/** schema_enum_name() - short upper-case name of @number, or NULL. */
const char *schema_enum_name(const struct schema_enum *en, int32_t number);

/* The characters (code points) of @n bytes of UTF-8 @s. */
size_t schema_utf8_chars(const char *s, size_t n);

/**
 * schema_for_each_secret() - call @fn for every secret value node below
 * @d (normalized with @m): the "value" of each message carrying SF_SECRET
 * whose "isSecret" is true.  @path is the dotted path of the node, with map
 * keys as written ("spec.data.API_KEY.value").  Stops at the first non-zero
 * return of @fn and returns it.
 */
int schema_for_each_secret(const struct schema_msg *m, struct doc *d,
			   const char *path,
			   int (*fn)(void *ctx, const char *path,
				     struct doc *node),
			   void *ctx);

#endif
