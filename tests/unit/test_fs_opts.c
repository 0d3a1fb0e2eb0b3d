/*
 * test_fs_opts.c - the command line of DESIGN 1.1 (fs/opts.h): numbers
 * with K/M/G suffixes and their ranges, the -o limits, paths made
 * absolute, XDG defaults, and what is left for libfuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/opts.h"

struct number_case {
	const char *s;
	bool suffix;
	uint64_t min, max;
	int rc;
	uint64_t want;
};

static const struct number_case number_cases[] = {
	{ "1", false, 1, 10, 0, 1 },
	{ "10", false, 1, 10, 0, 10 },
	{ "007", false, 1, 10, 0, 7 },
	{ "11", false, 1, 10, -ERANGE, 0 },
	{ "0", false, 1, 10, -ERANGE, 0 },
	{ "", false, 1, 10, -EINVAL, 0 },
	{ "-1", false, 0, 10, -EINVAL, 0 },
	{ "+1", false, 0, 10, -EINVAL, 0 },
	{ " 1", false, 0, 10, -EINVAL, 0 },
	{ "1 ", false, 0, 10, -EINVAL, 0 },
	{ "0x10", false, 0, 100, -EINVAL, 0 },
	{ "1.5", false, 0, 10, -EINVAL, 0 },
	{ "abc", false, 0, 10, -EINVAL, 0 },
	{ "8M", false, 0, UINT64_MAX, -EINVAL, 0 },	/* no suffixes here */
	{ "1K", true, 0, UINT64_MAX, 0, 1024 },
	{ "1k", true, 0, UINT64_MAX, 0, 1024 },
	{ "8M", true, 0, UINT64_MAX, 0, 8ULL << 20 },
	{ "8m", true, 0, UINT64_MAX, 0, 8ULL << 20 },
	{ "64G", true, 0, UINT64_MAX, 0, 64ULL << 30 },
	{ "4096", true, 0, UINT64_MAX, 0, 4096 },
	{ "8MB", true, 0, UINT64_MAX, -EINVAL, 0 },
	{ "8T", true, 0, UINT64_MAX, -EINVAL, 0 },
	{ "M", true, 0, UINT64_MAX, -EINVAL, 0 },
	{ "1K", true, 1025, UINT64_MAX, -ERANGE, 0 },	/* range after suffix */
	{ "2G", true, 0, 1ULL << 30, -ERANGE, 0 },
	{ "18446744073709551615", false, 0, UINT64_MAX, 0, UINT64_MAX },
	{ "18446744073709551616", false, 0, UINT64_MAX, -ERANGE, 0 },
	{ "99999999999999999999999999", false, 0, UINT64_MAX, -ERANGE, 0 },
	{ "17179869183G", true, 0, UINT64_MAX, 0, 17179869183ULL << 30 },
	{ "17179869184G", true, 0, UINT64_MAX, -ERANGE, 0 },	/* 2^64 */
	{ "18014398509481984K", true, 0, UINT64_MAX, -ERANGE, 0 },
	{ "17592186044416M", true, 0, UINT64_MAX, -ERANGE, 0 },
};

static void test_number_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(number_cases) / sizeof(number_cases[0]); i++) {
		const struct number_case *c = &number_cases[i];
		uint64_t out = 12345;
		int rc = opts_number(c->s, c->suffix, c->min, c->max, &out);

		if (rc != c->rc)
			fail_msg("opts_number(\"%s\"): rc %d, want %d", c->s, rc,
				 c->rc);
		if (c->rc == 0 && out != c->want)
			fail_msg("opts_number(\"%s\"): %llu, want %llu", c->s,
				 (unsigned long long)out,
				 (unsigned long long)c->want);
		if (c->rc != 0 && out != 12345)
			fail_msg("opts_number(\"%s\") wrote *out on failure",
				 c->s);
	}
}

/* Runs opts_parse() on a NULL-terminated argument list. */
static int parse(struct fs_opts *o, struct err *e, const char **args)
{
	char *argv[16];
	int argc = 0;

	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return opts_parse(argc, argv, o, e);
}

static int setup_env(void **state)
{
	(void)state;
	setenv("HOME", "/home/u", 1);
	setenv("XDG_DATA_HOME", "/xdg/data", 1);
	setenv("XDG_CONFIG_HOME", "/xdg/cfg", 1);
	return 0;
}

static void test_defaults(void **state)
{
	const char *args[] = { "execfs", "/mnt", NULL };
	struct fs_opts o;
	struct err e;

	(void)state;
	assert_int_equal(parse(&o, &e, args), 0);
	assert_string_equal(o.mountpoint, "/mnt");
	assert_string_equal(o.state_dir, "/xdg/data/execfs");
	assert_string_equal(o.key_file, "/xdg/cfg/execfs/key");
	assert_int_equal(o.limits.max_parallel, 10);
	assert_int_equal(o.limits.log_limit, 8ULL << 20);
	assert_false(o.check_config);
	opts_release(&o);
}

static void test_relative_xdg_falls_back_to_home(void **state)
{
	const char *args[] = { "execfs", "/mnt", NULL };
	struct fs_opts o;
	struct err e;

	(void)state;
	setenv("XDG_DATA_HOME", "relative/data", 1);
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(parse(&o, &e, args), 0);
	assert_string_equal(o.state_dir, "/home/u/.local/share/execfs");
	assert_string_equal(o.key_file, "/home/u/.config/execfs/key");
	opts_release(&o);
	setup_env(NULL);
}

static void test_state_and_key_made_absolute(void **state)
{
	const char *args[] = { "execfs", "-o", "key_file=k/key", "st", "mnt",
			       NULL };
	char cwd[PATH_MAX], want[PATH_MAX + 16];
	struct fs_opts o;
	struct err e;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(parse(&o, &e, args), 0);
	assert_string_equal(o.mountpoint, "mnt");	/* libfuse resolves it */
	snprintf(want, sizeof(want), "%s/st", cwd);
	assert_string_equal(o.state_dir, want);
	snprintf(want, sizeof(want), "%s/k/key", cwd);
	assert_string_equal(o.key_file, want);
	opts_release(&o);
}

static void test_limits_are_set(void **state)
{
	const char *args[] = {
		"execfs", "-o",
		"log_limit=16M,max_parallel=3,workflow_timeout=315360000",
		"-o", "context_ttl=60,store_max=1G,max_loop_depth=1000",
		"-o", "max_loop_iterations=5,max_total_operations=1000000000",
		"/mnt", NULL
	};
	struct fs_opts o;
	struct err e;

	(void)state;
	assert_int_equal(parse(&o, &e, args), 0);
	assert_int_equal(o.limits.log_limit, 16ULL << 20);
	assert_int_equal(o.limits.max_parallel, 3);
	assert_int_equal(o.limits.workflow_timeout, 315360000);
	assert_int_equal(o.limits.context_ttl, 60);
	assert_int_equal(o.limits.store_max, 1ULL << 30);
	assert_int_equal(o.limits.max_loop_depth, 1000);
	assert_int_equal(o.limits.max_loop_iterations, 5);
	assert_int_equal(o.limits.max_total_operations, 1000000000);
	opts_release(&o);
}

/* Every one of these must be refused with a message naming the option. */
static const char *const bad_opts[] = {
	"max_parallel=0",
	"max_parallel=4097",
	"max_parallel=",
	"max_parallel=-1",
	"max_parallel=1x",
	"max_parallel=4K",		/* no suffix on counts */
	"workflow_timeout=4294967296",	/* would wrap an unsigned */
	"workflow_timeout=18446744073709551617",
	"context_ttl=0",
	"max_loop_depth=1001",
	"max_total_operations=1000000001",
	"log_limit=1023",
	"log_limit=17179869184G",
	"log_limit=2T",
	"log_limit=1025G",		/* over 2^40 */
	"store_max=1K",			/* under 1 MiB */
	"store_max=65537G",		/* over 2^46 */
	"key_file=",
};

static void test_bad_values_refused(void **state)
{
	const char *args[] = { "execfs", "-o", NULL, "/mnt", NULL };
	struct fs_opts o;
	struct err e;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++) {
		args[2] = bad_opts[i];
		if (parse(&o, &e, args) != -EINVAL)
			fail_msg("'-o %s' was accepted", bad_opts[i]);
		n = strcspn(bad_opts[i], "=");
		if (strncmp(bad_opts[i], "key_file", n) != 0 &&
		    !strstr(e.msg, bad_opts[i]))
			fail_msg("message for '%s' is '%s'", bad_opts[i],
				 e.msg);
		opts_release(&o);
	}
}

static void test_too_many_arguments(void **state)
{
	const char *args[] = { "execfs", "a", "b", "c", NULL };
	struct fs_opts o;
	struct err e;

	(void)state;
	assert_int_equal(parse(&o, &e, args), -EINVAL);
	assert_non_null(strstr(e.msg, "'c'"));
	opts_release(&o);
}

static void test_flags_and_fuse_options(void **state)
{
	const char *args[] = { "execfs", "--check-config", "-f", "-o",
			       "max_parallel=2,allow_other", "/mnt", NULL };
	struct fs_opts o;
	struct err e;
	bool f = false, ours = false, other = false, perms = false;
	int i;

	(void)state;
	assert_int_equal(parse(&o, &e, args), 0);
	assert_true(o.check_config);
	assert_false(o.help);
	for (i = 0; i < o.args.argc; i++) {
		f = f || strcmp(o.args.argv[i], "-f") == 0;
		ours = ours || strstr(o.args.argv[i], "max_parallel");
		other = other || strstr(o.args.argv[i], "allow_other");
		perms = perms || strcmp(o.args.argv[i],
					"-odefault_permissions") == 0;
	}
	assert_true(f);
	assert_false(ours);	/* taken out: libfuse would refuse it */
	assert_true(other);	/* left for libfuse */
	assert_true(o.allow_other);
	assert_false(perms);	/* the daemon checks (fs/perm.h) */
	assert_int_equal(o.limits.max_parallel, 2);
	opts_release(&o);
}

/* operators=GROUP takes a group name or a number; an unknown name is
   refused with a message. */
static void test_operators_option(void **state)
{
	const char *by_name[] = { "execfs", "-o", "operators=root", "/mnt",
				  NULL };
	const char *by_num[] = { "execfs", "-o", "operators=4321", "/mnt",
				 NULL };
	const char *unknown[] = { "execfs", "-o",
				  "operators=no-such-group-here", "/mnt",
				  NULL };
	const char *empty[] = { "execfs", "-o", "operators=", "/mnt", NULL };
	struct fs_opts o;
	struct err e;

	(void)state;
	assert_int_equal(parse(&o, &e, by_name), 0);
	assert_true(o.has_operators);
	assert_int_equal(o.operators, 0);
	opts_release(&o);
	assert_int_equal(parse(&o, &e, by_num), 0);
	assert_int_equal(o.operators, 4321);
	opts_release(&o);
	assert_int_equal(parse(&o, &e, unknown), -EINVAL);
	assert_non_null(strstr(e.msg, "no-such-group-here"));
	opts_release(&o);
	assert_int_equal(parse(&o, &e, empty), -EINVAL);
	opts_release(&o);
	{
		const char *none[] = { "execfs", "/mnt", NULL };

		assert_int_equal(parse(&o, &e, none), 0);
		assert_false(o.has_operators);
		opts_release(&o);
	}
}

/* Without allow_other the kernel is not asked to check modes. */
static void test_private_mount_no_default_permissions(void **state)
{
	const char *args[] = { "execfs", "-o", "max_parallel=2", "/mnt",
			       NULL };
	struct fs_opts o;
	struct err e;
	int i;

	(void)state;
	assert_int_equal(parse(&o, &e, args), 0);
	assert_false(o.allow_other);
	for (i = 0; i < o.args.argc; i++)
		assert_null(strstr(o.args.argv[i], "default_permissions"));
	opts_release(&o);
}

/* What mount(8) and mount.fuse3 pass on from an fstab line: the generic
   options libfuse does not know are dropped; the kernel's stay. */
static void test_fstab_options_dropped(void **state)
{
	const char *args[] = { "execfs", "-o",
			       "rw,relatime,nodev,nofail,_netdev,"
			       "x-systemd.automount,comment=x,defaults,"
			       "noauto,user,lazytime,nodiratime,noatime",
			       "/s", "/mnt", NULL };
	struct fs_opts o;
	struct err e;
	int i;

	(void)state;
	assert_int_equal(parse(&o, &e, args), 0);
	for (i = 0; i + 1 < o.args.argc; i++)
		if (strcmp(o.args.argv[i], "-o") == 0)
			break;
	assert_true(i + 1 < o.args.argc);
	assert_string_equal(o.args.argv[i + 1], "rw,nodev,noatime");
	opts_release(&o);
}

static void test_help_and_version(void **state)
{
	const char *help[] = { "execfs", "--help", NULL };
	const char *version[] = { "execfs", "-V", NULL };
	struct fs_opts o;
	struct err e;

	(void)state;
	assert_int_equal(parse(&o, &e, help), 0);
	assert_true(o.help);
	assert_null(o.mountpoint);
	opts_release(&o);
	assert_int_equal(parse(&o, &e, version), 0);
	assert_true(o.version);
	opts_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_number_table),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_relative_xdg_falls_back_to_home),
		cmocka_unit_test(test_state_and_key_made_absolute),
		cmocka_unit_test(test_limits_are_set),
		cmocka_unit_test(test_bad_values_refused),
		cmocka_unit_test(test_too_many_arguments),
		cmocka_unit_test(test_flags_and_fuse_options),
		cmocka_unit_test(test_private_mount_no_default_permissions),
		cmocka_unit_test(test_operators_option),
		cmocka_unit_test(test_fstab_options_dropped),
		cmocka_unit_test(test_help_and_version),
	};

	return cmocka_run_group_tests(tests, setup_env, NULL);
}
