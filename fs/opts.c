/*
 * opts.c - command-line parsing (opts.h) on libfuse's fuse_opt_parse():
 * a processing function collects STATE and MOUNTPOINT and our -o keys;
 * every other option stays in the argument list for libfuse.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_CHECK,
	KEY_ROTATE,
	KEY_KEY_FILE,
	KEY_LIMIT,
	KEY_IGNORE,
	KEY_ALLOW_OTHER,
	KEY_OPERATORS,
};

static const struct fuse_opt opt_specs[] = {
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("--check-config", KEY_CHECK),
	FUSE_OPT_KEY("--rotate-key ", KEY_ROTATE),
	FUSE_OPT_KEY("--rotate-key=", KEY_ROTATE),
	FUSE_OPT_KEY("key_file=", KEY_KEY_FILE),
	FUSE_OPT_KEY("workflow_timeout=", KEY_LIMIT),
	FUSE_OPT_KEY("max_parallel=", KEY_LIMIT),
	FUSE_OPT_KEY("max_loop_iterations=", KEY_LIMIT),
	FUSE_OPT_KEY("max_total_operations=", KEY_LIMIT),
	FUSE_OPT_KEY("max_loop_depth=", KEY_LIMIT),
	FUSE_OPT_KEY("log_limit=", KEY_LIMIT),
	FUSE_OPT_KEY("context_ttl=", KEY_LIMIT),
	FUSE_OPT_KEY("store_max=", KEY_LIMIT),
	FUSE_OPT_KEY("audit_limit=", KEY_LIMIT),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("operators=", KEY_OPERATORS),
	/* Generic mount options that mount(8) or mount.fuse3 pass on from
	   fstab and libfuse does not know: accepted and dropped, so a
	   `fuse.execfs` line with them mounts.  "x-*" is matched in
	   opt_proc(). */
	FUSE_OPT_KEY("relatime", KEY_IGNORE),
	FUSE_OPT_KEY("norelatime", KEY_IGNORE),
	FUSE_OPT_KEY("strictatime", KEY_IGNORE),
	FUSE_OPT_KEY("nostrictatime", KEY_IGNORE),
	FUSE_OPT_KEY("lazytime", KEY_IGNORE),
	FUSE_OPT_KEY("nolazytime", KEY_IGNORE),
	FUSE_OPT_KEY("diratime", KEY_IGNORE),
	FUSE_OPT_KEY("nodiratime", KEY_IGNORE),
	FUSE_OPT_KEY("iversion", KEY_IGNORE),
	FUSE_OPT_KEY("noiversion", KEY_IGNORE),
	FUSE_OPT_KEY("mand", KEY_IGNORE),
	FUSE_OPT_KEY("nomand", KEY_IGNORE),
	FUSE_OPT_KEY("silent", KEY_IGNORE),
	FUSE_OPT_KEY("loud", KEY_IGNORE),
	FUSE_OPT_KEY("defaults", KEY_IGNORE),
	FUSE_OPT_KEY("auto", KEY_IGNORE),
	FUSE_OPT_KEY("noauto", KEY_IGNORE),
	FUSE_OPT_KEY("user", KEY_IGNORE),
	FUSE_OPT_KEY("nouser", KEY_IGNORE),
	FUSE_OPT_KEY("users", KEY_IGNORE),
	FUSE_OPT_KEY("owner", KEY_IGNORE),
	FUSE_OPT_KEY("group", KEY_IGNORE),
	FUSE_OPT_KEY("_netdev", KEY_IGNORE),
	FUSE_OPT_KEY("nofail", KEY_IGNORE),
	FUSE_OPT_KEY("comment=", KEY_IGNORE),
	FUSE_OPT_END
};

/* A limit option: where it goes in struct plane_limits, its range and
   its line in --help (the default printed comes from
   plane_limits_default()). */
struct limit_opt {
	const char *name;
	size_t off;
	bool wide;	/* uint64_t field, K/M/G suffixes */
	uint64_t min;
	uint64_t max;
	const char *arg;
	const char *help;
};

#define YEAR_S 31536000ULL

static const struct limit_opt limit_opts[] = {
	{ "workflow_timeout", offsetof(struct plane_limits, workflow_timeout),
	  false, 1, 10 * YEAR_S, "S", "seconds per run" },
	{ "max_parallel", offsetof(struct plane_limits, max_parallel),
	  false, 1, 4096, "N", "tasks at once per run" },
	{ "max_loop_iterations",
	  offsetof(struct plane_limits, max_loop_iterations), false, 1,
	  100000000, "N", "items per FOR" },
	{ "max_total_operations",
	  offsetof(struct plane_limits, max_total_operations), false, 1,
	  1000000000, "N", "tasks per run" },
	{ "max_loop_depth", offsetof(struct plane_limits, max_loop_depth),
	  false, 1, 1000, "N", "FOR/sub-workflow depth" },
	{ "log_limit", offsetof(struct plane_limits, log_limit), true, 1024,
	  1ULL << 40, "BYTES", "log per execution" },
	{ "context_ttl", offsetof(struct plane_limits, context_ttl), false, 1,
	  10 * YEAR_S, "S", "context lifetime, seconds" },
	{ "store_max", offsetof(struct plane_limits, store_max), true,
	  1ULL << 20, 1ULL << 46, "BYTES", "store size limit" },
	{ "audit_limit", offsetof(struct plane_limits, audit_limit), true,
	  4096, 1ULL << 40, "BYTES", "audit log kept, oldest dropped" },
};

#define N_LIMITS (sizeof(limit_opts) / sizeof(limit_opts[0]))

/* State of one parse, for the processing function. */
struct parse {
	struct fs_opts *o;
	struct err *e;
	char *nonopt[2];
	int n_nonopt;
};

int opts_number(const char *s, bool suffix, uint64_t min, uint64_t max,
		uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	/* strtoull would accept leading blanks and a minus sign. */
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (suffix && *end) {
		switch (*end++) {
		case 'K': case 'k': mult = 1ULL << 10; break;
		case 'M': case 'm': mult = 1ULL << 20; break;
		case 'G': case 'g': mult = 1ULL << 30; break;
		default: return -EINVAL;
		}
	}
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mult || v * mult < min || v * mult > max)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

static int set_limit(struct parse *ps, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t n = (size_t)(eq - arg), i;
	const struct limit_opt *l = NULL;
	char *field = (char *)&ps->o->limits;
	uint64_t v;
	unsigned u;

	for (i = 0; i < N_LIMITS; i++)
		if (strlen(limit_opts[i].name) == n &&
		    memcmp(limit_opts[i].name, arg, n) == 0)
			l = &limit_opts[i];
	if (!l)
		return err_set(ps->e, -EINVAL, "unknown option '%s'", arg);
	if (opts_number(eq + 1, l->wide, l->min, l->max, &v) < 0)
		return err_set(ps->e, -EINVAL,
			       "bad value in '-o %s': want a whole number "
			       "from %llu to %llu%s", arg,
			       (unsigned long long)l->min,
			       (unsigned long long)l->max,
			       l->wide ? " (K, M, G suffixes allowed)" : "");
	if (l->wide) {
		memcpy(field + l->off, &v, sizeof(v));
	} else {
		u = (unsigned)v;
		memcpy(field + l->off, &u, sizeof(u));
	}
	return 0;
}

/* @path made absolute against the current directory; caller frees. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *out;
	size_t n;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	n = strlen(cwd) + 1 + strlen(path) + 1;
	out = malloc(n);
	if (out && snprintf(out, n, "%s/%s", cwd, path) >= (int)n) {
		free(out);
		out = NULL;
	}
	return out;
}

static int set_path(struct parse *ps, char **dst, const char *path,
		    const char *what)
{
	char *p;

	if (!path[0])
		return err_set(ps->e, -EINVAL, "empty %s", what);
	p = absolute(path);
	if (!p)
		return err_set(ps->e, -EINVAL, "cannot resolve %s '%s'", what,
			       path);
	free(*dst);
	*dst = p;
	return 0;
}

static int take_nonopt(struct parse *ps, const char *arg)
{
	if (ps->n_nonopt == 2)
		return err_set(ps->e, -EINVAL, "too many arguments at '%s'",
			       arg);
	ps->nonopt[ps->n_nonopt] = strdup(arg);
	if (!ps->nonopt[ps->n_nonopt])
		return err_set(ps->e, -EINVAL, "out of memory");
	ps->n_nonopt++;
	return 0;
}

/* fuse_opt_proc_t: 0 drops the argument, 1 keeps it, -1 fails. */
/* operators=GROUP: a group name, or a number. */
static int set_operators(struct parse *ps, const char *v)
{
	struct group gr, *res = NULL;
	char buf[4096], *end;
	unsigned long n;

	if (!*v)
		return err_set(ps->e, -EINVAL, "operators: needs a group name "
			       "or number");
	if (getgrnam_r(v, &gr, buf, sizeof(buf), &res) == 0 && res) {
		ps->o->operators = res->gr_gid;
	} else {
		n = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end || n >= UINT32_MAX)
			return err_set(ps->e, -EINVAL, "operators: no group "
				       "named '%.64s'", v);
		ps->o->operators = (gid_t)n;
	}
	ps->o->has_operators = true;
	return 0;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct parse *ps = data;
	int rc = 0;

	switch (key) {
	case KEY_HELP:
		ps->o->help = true;
		return 0;
	case KEY_VERSION:
		ps->o->version = true;
		return 0;
	case KEY_CHECK:
		ps->o->check_config = true;
		return 0;
	case KEY_ROTATE:
		/* "--rotate-key=F", or "--rotate-key F" joined by libfuse. */
		arg += strlen("--rotate-key");
		rc = set_path(ps, &ps->o->rotate_key, arg + (*arg == '='),
			      "--rotate-key file");
		break;
	case KEY_KEY_FILE:
		rc = set_path(ps, &ps->o->key_file, arg + strlen("key_file="),
			      "key_file");
		break;
	case KEY_LIMIT:
		rc = set_limit(ps, arg);
		break;
	case KEY_IGNORE:
		return 0;
	case KEY_ALLOW_OTHER:
		ps->o->allow_other = true;
		return 1;	/* libfuse mounts with it */
	case KEY_OPERATORS:
		rc = set_operators(ps, arg + strlen("operators="));
		break;
	case FUSE_OPT_KEY_NONOPT:
		rc = take_nonopt(ps, arg);
		break;
	case FUSE_OPT_KEY_OPT:
		/* x-systemd.*, x-gvfs-*: for other programs. */
		return strncmp(arg, "x-", 2) == 0 ? 0 : 1;
	default:
		return 1;
	}
	return rc < 0 ? -1 : 0;
}

/* $XDG_<var> + "/" + @tail, else $HOME + "/" + @home_tail. */
static char *xdg_path(const char *var, const char *home_tail,
		      const char *tail)
{
	const char *base = getenv(var);
	const char *home = getenv("HOME");
	struct passwd *pw;
	char *out;
	size_t n;

	if (base && base[0] == '/') {
		home_tail = "";
	} else {
		if (!home || home[0] != '/') {
			pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home)
			return NULL;
		base = home;
	}
	n = strlen(base) + strlen(home_tail) + strlen(tail) + 3;
	out = malloc(n);
	if (out && snprintf(out, n, "%s%s/%s", base, home_tail, tail) >= (int)n) {
		free(out);
		out = NULL;
	}
	return out;
}

static int set_defaults(struct fs_opts *o, struct err *e)
{
	if (!o->state_dir)
		o->state_dir = xdg_path("XDG_DATA_HOME", "/.local/share",
					"execfs");
	if (!o->key_file)
		o->key_file = xdg_path("XDG_CONFIG_HOME", "/.config",
				       "execfs/key");
	if (!o->state_dir || !o->key_file)
		return err_set(e, -EINVAL,
			       "cannot find a home directory for the default "
			       "state directory and key file");
	return 0;
}

/* One argument is MOUNTPOINT; two are STATE MOUNTPOINT; with
 * --rotate-key the one argument is STATE. */
static int place_nonopts(struct parse *ps)
{
	struct fs_opts *o = ps->o;
	int rc = 0;

	if (o->rotate_key && ps->n_nonopt == 2)
		return err_set(ps->e, -EINVAL, "--rotate-key takes one "
			       "argument, STATE, and no mount point");
	if (o->rotate_key && ps->n_nonopt == 1)
		return set_path(ps, &o->state_dir, ps->nonopt[0],
				"state directory");
	if (ps->n_nonopt == 2) {
		rc = set_path(ps, &o->state_dir, ps->nonopt[0],
			      "state directory");
		o->mountpoint = ps->nonopt[1];
		ps->nonopt[1] = NULL;
	} else if (ps->n_nonopt == 1) {
		o->mountpoint = ps->nonopt[0];
		ps->nonopt[0] = NULL;
	}
	return rc;
}

int opts_parse(int argc, char **argv, struct fs_opts *o, struct err *e)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct parse ps;
	int rc;

	memset(o, 0, sizeof(*o));
	memset(&ps, 0, sizeof(ps));
	plane_limits_default(&o->limits);
	ps.o = o;
	ps.e = e;
	err_clear(e);
	if (fuse_opt_parse(&args, &ps, opt_specs, opt_proc) != 0) {
		rc = e->code ? e->code
			     : err_set(e, -EINVAL, "cannot parse the options");
		goto out;
	}
	o->args = args;
	args.argv = NULL;
	rc = place_nonopts(&ps);
	if (rc == 0)
		rc = set_defaults(o, e);
out:
	fuse_opt_free_args(&args);
	free(ps.nonopt[0]);
	free(ps.nonopt[1]);
	return rc;
}

void opts_release(struct fs_opts *o)
{
	free(o->state_dir);
	free(o->key_file);
	free(o->mountpoint);
	free(o->rotate_key);
	fuse_opt_free_args(&o->args);
	o->state_dir = o->key_file = o->mountpoint = o->rotate_key = NULL;
}

/* @v as the shortest K/M/G form that is exact ("8M", "1000"). */
static void size_text(uint64_t v, char *out, size_t n)
{
	static const char suffix[] = "GMK";
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t unit = 1ULL << (10 * (3 - i));

		if (v && v % unit == 0) {
			snprintf(out, n, "%llu%c", (unsigned long long)(v / unit),
				 suffix[i]);
			return;
		}
	}
	snprintf(out, n, "%llu", (unsigned long long)v);
}

static void usage_limit(const struct limit_opt *l,
			const struct plane_limits *d)
{
	const char *field = (const char *)d + l->off;
	char key[48], def[32];
	uint64_t v;
	unsigned u;

	if (l->wide) {
		memcpy(&v, field, sizeof(v));
	} else {
		memcpy(&u, field, sizeof(u));
		v = u;
	}
	size_text(v, def, sizeof(def));
	snprintf(key, sizeof(key), "%s=%s", l->name, l->arg);
	printf("    -o %-24s %s (default %s)\n", key, l->help, def);
}

void opts_usage(const char *prog)
{
	struct plane_limits d;
	size_t i;

	plane_limits_default(&d);
	printf("usage: %s [-f] [-d] [-s] [-o opt[,opt...]] [STATE] MOUNTPOINT\n"
	       "       %s --check-config [-o opt[,opt...]] [STATE] MOUNTPOINT\n"
	       "       %s --rotate-key NEW_KEY_FILE [-o key_file=OLD] [STATE]\n"
	       "       %s --help | --version\n"
	       "\n"
	       "STATE defaults to $XDG_DATA_HOME/execfs (~/.local/share/execfs).\n"
	       "Without -f the daemon runs in the background and logs to syslog\n"
	       "(identifier execfs, facility daemon); with -f it logs to stderr.\n"
	       "\n"
	       "execfs options:\n"
	       "    -o key_file=PATH            master key (default\n"
	       "                                $XDG_CONFIG_HOME/execfs/key,\n"
	       "                                ~/.config/execfs/key)\n",
	       prog, prog, prog, prog);
	for (i = 0; i < N_LIMITS; i++)
		usage_limit(&limit_opts[i], &d);
	printf("    -o allow_other              share the mount with other users:\n"
	       "                                root only; every access is checked\n"
	       "                                against owners and modes (default\n"
	       "                                off: only you reach it)\n"
	       "    -o operators=GROUP          members may do anything (name or\n"
	       "                                gid; default: root and the daemon's\n"
	       "                                user only)\n"
	       "    --check-config              validate, exit 0 or 1\n"
	       "    --rotate-key NEW_KEY_FILE   re-seal every secret of STATE under\n"
	       "                                the key in NEW_KEY_FILE (created 0600\n"
	       "                                if missing); key_file= names the old\n"
	       "                                key; offline: refused while a daemon\n"
	       "                                serves STATE; all or nothing\n"
	       "BYTES take K, M, G suffixes (x1024).\n"
	       "\n"
	       "Mount options passed to the kernel (libfuse):\n"
	       "    -o ro, rw (default), atime (default), noatime, sync,\n"
	       "       async (default), dirsync, dev, nodev, suid, nosuid,\n"
	       "       exec, noexec, fsname=NAME, subtype=NAME,\n"
	       "       default_permissions, max_read=N, blksize=N\n"
	       "\n"
	       "Accepted and ignored (fstab and mount.fuse3 compatibility):\n"
	       "    -o defaults, auto, noauto, user, nouser, users, owner, group,\n"
	       "       _netdev, nofail, comment=TEXT, x-*, relatime, norelatime,\n"
	       "       strictatime, nostrictatime, lazytime, nolazytime, diratime,\n"
	       "       nodiratime, iversion, noiversion, mand, nomand, silent, loud\n"
	       "\n");
}
