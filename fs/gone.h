/*
 * gone.h - spec files a process has just unlinked (DESIGN 1.4).
 *
 * Unlinking spec.yaml deletes nothing.  But `install` and
 * `cp --remove-destination` unlink it and then create it with O_EXCL, and
 * the kernel answers EEXIST from its lookup before the create reaches the
 * daemon unless the name looks gone.  So an unlinked spec is hidden from
 * the process that unlinked it (the pid FUSE reports for the caller) for
 * FS_GONE_SECONDS, or until that process creates the name again (which is
 * then an update written through a spec handle) or renames a file onto
 * it.  Every other process sees the spec all along, and the unlinker sees
 * it again after the timeout: an unlink alone changes nothing for long.
 *
 * The table is bounded (GONE_MAX entries); when it is full the entry
 * closest to its end goes, which only shows that name again early.
 *
 * Thread rules: every function takes the table's own lock; none calls out.
 */
#ifndef EXECFS_GONE_H
#define EXECFS_GONE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define GONE_MAX 64
#define FS_GONE_SECONDS 2

struct gone;

/** gone_new() - an empty table.  Return: 0 and *out (gone_free()), -ENOMEM. */
int gone_new(struct gone **out);

/** gone_free() - free the table.  NULL-safe. */
void gone_free(struct gone *g);

/**
 * gone_add() - @pid unlinked the spec file with inode @ino at @now
 * (CLOCK_MONOTONIC): hide it from @pid until @now + FS_GONE_SECONDS.
 */
void gone_add(struct gone *g, uint64_t ino, pid_t pid,
	      const struct timespec *now);

/** gone_has() - whether @ino is hidden from @pid at @now. */
bool gone_has(struct gone *g, uint64_t ino, pid_t pid,
	      const struct timespec *now);

/**
 * gone_take() - @pid creates @ino's name again: whether it was hidden from
 * @pid at @now; either way it is no longer hidden from @pid.
 */
bool gone_take(struct gone *g, uint64_t ino, pid_t pid,
	       const struct timespec *now);

/** gone_clear() - something now stands at @ino's name: show it to all. */
void gone_clear(struct gone *g, uint64_t ino);

#endif
