/*
 * fx.h - fixtures shared by the unit tests: a scratch directory under /tmp
 * that a test owns and removes with everything in it.
 */
#ifndef EXECFS_TESTS_FX_H
#define EXECFS_TESTS_FX_H

#include <stddef.h>

/*
 * Create a fresh directory "/tmp/execfs-@tag-XXXXXX" (mkdtemp) and write
 * its path to @out (@cap bytes).  Returns 0, -ENAMETOOLONG when the path
 * does not fit, or -errno of mkdtemp.
 */
int tmpdir_make(char *out, size_t cap, const char *tag);

/*
 * Remove @dir and everything below it, without following links.  Returns
 * 0 or -errno of the first entry that could not be removed.
 */
int tmpdir_remove(const char *dir);

#endif
