/*
 * opts.h - the command line of DESIGN 1.1:
 *   execfs [-f] [-d] [-o opt[,opt...]] [STATE] MOUNTPOINT
 *   execfs --check-config [-o ...] [STATE] MOUNTPOINT
 *   execfs --help | --version
 * Our -o options (key_file and the limits) are taken out; everything else
 * is left in @args for libfuse (fuse_parse_cmdline, fuse_session_new).
 */
#ifndef EXECFS_OPTS_H
#define EXECFS_OPTS_H

#include <stdbool.h>

#include "fs.h"

struct fs_opts {
	char *state_dir;	/* absolute; malloc'd */
	char *key_file;		/* absolute; malloc'd */
	char *mountpoint;	/* as given; NULL when missing; malloc'd */
	char *rotate_key;	/* --rotate-key NEW_KEY_FILE: absolute;
				   malloc'd; then STATE is the one argument */
	struct plane_limits limits;
	bool check_config;
	bool allow_other;	/* -o allow_other: perm.h checks */
	bool has_operators;	/* -o operators=GROUP */
	gid_t operators;
	bool help;
	bool version;
	struct fuse_args args;	/* argv[0] and the options left for libfuse */
};

/**
 * opts_parse() - parse @argv into @o (released with opts_release() even
 * on failure).  Numbers are range-checked; log_limit and store_max take
 * K, M, G suffixes (powers of 1024).  Relative STATE and key_file are made
 * absolute against the current directory; defaults follow XDG.  With
 * --rotate-key the one argument is STATE (no mount point).
 * Return: 0; -EINVAL with a message in @e.
 */
int opts_parse(int argc, char **argv, struct fs_opts *o, struct err *e);

/** opts_release() - free what opts_parse() allocated. */
void opts_release(struct fs_opts *o);

/** opts_usage() - the usage text and our options, on stdout. */
void opts_usage(const char *prog);

/**
 * opts_number() - parse a decimal count, with K/M/G (x1024) suffixes when
 * @suffix, into [@min, @max].  Return: 0 and *out; -EINVAL; -ERANGE.
 */
int opts_number(const char *s, bool suffix, uint64_t min, uint64_t max,
		uint64_t *out);

#endif
