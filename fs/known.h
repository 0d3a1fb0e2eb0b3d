/*
 * known.h - the resource inodes the kernel may hold.
 *
 * An attribute invalidation (notify.h) of an inode the kernel was never
 * given does nothing: the kernel answers ENOENT.  Most files of a running
 * execution are never looked at, yet each of its commits and stream
 * appends queued a note for every one of them: a system call each and a
 * wake-up of the notify thread.  So every entry the daemon replies with
 * (lookup, readdirplus, create, mkdir: all through fs_obj_entry()) is
 * recorded here first, and only recorded inodes are invalidated.
 *
 * The table errs on the side of a note: forgets are not counted (an inode
 * the kernel has dropped stays recorded), and when the table is full every
 * inode counts as known.  A resource that is deleted leaves it: serials
 * are not reused, so no later change names its inodes.
 *
 * Thread rules: every function takes the table's own lock; none calls out.
 */
#ifndef EXECFS_KNOWN_H
#define EXECFS_KNOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KNOWN_MAX (1u << 16)	/* serials recorded at most */

struct known;

/** known_new() - an empty table.  Return: 0 and *out (known_free()), -ENOMEM. */
int known_new(struct known **out);

/** known_free() - free the table.  NULL-safe. */
void known_free(struct known *k);

/**
 * known_add() - the kernel is about to be given slot @slot (below 32) of
 * resource @serial.  Never fails: when the table cannot take it, every
 * inode counts as known from then on.
 * Return: whether it was not known before (notes for it were skipped
 * until now); false for a NULL table.
 */
bool known_add(struct known *k, uint64_t serial, unsigned slot);

/** known_has() - whether slot @slot of @serial may be held by the kernel
 * (true for a NULL table). */
bool known_has(struct known *k, uint64_t serial, unsigned slot);

/** known_drop() - resource @serial is gone: forget its inodes. */
void known_drop(struct known *k, uint64_t serial);

#endif
