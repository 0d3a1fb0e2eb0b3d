/*
 * fx.c - scratch directories for the unit tests: made with mkdtemp so
 * tests running at the same time never share one, removed depth first
 * with nftw so whatever a test left inside goes too.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fx.h"

int tmpdir_make(char *out, size_t cap, const char *tag)
{
	int n = snprintf(out, cap, "/tmp/execfs-%s-XXXXXX", tag);

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return mkdtemp(out) ? 0 : -errno;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int tmpdir_remove(const char *dir)
{
	/* nftw returns remove()'s -1 as is; errno still says why. */
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}
