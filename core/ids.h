/*
 * ids.h - resource ids ("<prefix>-<lowercase ULID>") and slugs (Stigmer's
 * rule), the two names every resource has.
 */
#ifndef EXECFS_IDS_H
#define EXECFS_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ULID_LEN 26
#define IDS_PREFIX_MAX 8
#define IDS_ID_MAX (IDS_PREFIX_MAX + 1 + ULID_LEN + 1)	/* with NUL */
#define SLUG_MAX 200	/* bytes, without NUL: a slug must fit a file name
			   with room for "-default", "-ctx" and time suffixes */

/**
 * ids_new() - a fresh id: @prefix, '-', a ULID (48-bit millisecond time,
 * 80 random bits from the kernel CSPRNG, Crockford base32, lower case).
 * Ids made by one process are strictly increasing (monotonic ULIDs).
 * @out: at least IDS_ID_MAX bytes.
 * Return: 0, -EINVAL (bad prefix), -EIO (no randomness).
 */
int ids_new(const char *prefix, char out[IDS_ID_MAX]);

/** ids_valid() - true if @id is "<prefix>-" + 26 lowercase Crockford chars. */
bool ids_valid(const char *prefix, const char *id);

/**
 * ids_time_ms() - the millisecond timestamp inside a valid id.
 * Return: 0 and *ms, or -EINVAL.
 */
int ids_time_ms(const char *id, uint64_t *ms);

/**
 * slug_from_name() - Stigmer's GenerateSlug: lower-case ASCII, spaces to
 * '-', drop everything not [a-z0-9-], collapse runs of '-', trim '-'.
 * @out: at least SLUG_MAX + 1 bytes.
 * Return: 0; -EINVAL if the result is empty; -ENAMETOOLONG if it is longer
 *         than SLUG_MAX.
 */
int slug_from_name(const char *name, char out[SLUG_MAX + 1]);

/**
 * slug_valid() - true if @s could be a slug: 1..SLUG_MAX bytes of
 * [a-z0-9-], not starting or ending with '-', no "--".
 */
bool slug_valid(const char *s);

#endif
