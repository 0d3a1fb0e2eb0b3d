/*
 * rotate.h - replacing the master key of a state directory (offline).
 *
 * rotate_key() re-seals every sealed value of every record under a new key
 * in one durable store commit (all records or none), records the new key's
 * id in the store ("keyid" note), and compacts data.mdb so no blob sealed
 * under the old key stays in the file.  It needs the state directory's
 * lock: it is refused while a daemon serves the directory.
 *
 * rotate_check_key() is the daemon's start check: a store whose "keyid"
 * note names a key the daemon was not given is refused at start, before
 * any value fails to open.
 */
#ifndef EXECFS_ROTATE_H
#define EXECFS_ROTATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct keyring;
struct store;

struct rotate_opts {
	const char *state_dir;		/* absolute; must exist */
	const char *old_key_file;	/* must exist */
	const char *new_key_file;	/* created 0600 when missing */
	uint64_t store_max;		/* map growth limit (0: default) */
};

struct rotate_report {
	uint32_t old_kid, new_kid;
	size_t records;		/* records rewritten */
	size_t values;		/* sealed values re-sealed */
};

/**
 * rotate_key() - re-seal everything in @o->state_dir under the key in
 * @o->new_key_file.  Values sealed under the old key (or already under
 * the new one, when a rotation is run again) are opened; anything else
 * stops the rotation before any change, naming the record and field.
 * Return: 0 and *r; -EBUSY (a daemon holds the directory); -ENOENT (no
 *   state directory or old key file); -EACCES (a key file's mode);
 *   -EEXIST (both key files hold the same key); -ENOKEY (a value sealed
 *   under a third key); -EBADMSG (a value that does not open); -ENOSPC;
 *   -EIO; all with a message in @e.  On failure the store is unchanged.
 */
int rotate_key(const struct rotate_opts *o, struct rotate_report *r,
	       struct err *e);

/**
 * rotate_check_key() - refuse @kr for @st when the last rotation recorded
 * a key id @kr does not hold.  @key_file is for the message.
 * Return: 0 (also when no rotation was ever done); -ENOKEY with a message
 *   naming both key ids; -EIO.
 */
int rotate_check_key(struct store *st, const struct keyring *kr,
		     const char *key_file, struct err *e);

#endif
