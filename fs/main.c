/*
 * main.c - startup and shutdown of the daemon (DESIGN 1.1).
 *
 * Order matters: errors a user must see (bad key file mode, state
 * directory in use) are found by a trial plane_open() on the terminal
 * before daemonizing; the real plane_open() happens after
 * fuse_daemonize() because LMDB environments and threads do not survive
 * fork.  SIGTERM/SIGINT end the loop; the mount goes away and the exit
 * status is 0.  In the background the log goes to syslog (log.c).  Runs
 * start (plane_start()) only once the mount is up and
 * the callbacks are set; at the end, reads still parked on follow/ files
 * are answered (ENOTCONN) before the unmount, and the runs are stopped by
 * plane_close().
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/rotate.h"
#include "crypt/seal.h"
#include "follow.h"
#include "gone.h"
#include "known.h"
#include "notify.h"
#include "ops.h"
#include "opts.h"
#include "perm.h"
#include "tree.h"

#ifndef EXECFS_VERSION
#define EXECFS_VERSION "0.1.0"
#endif

static void plane_opts_of(const struct fs_opts *o, struct plane_opts *po)
{
	memset(po, 0, sizeof(*po));
	po->state_dir = o->state_dir;
	po->key_file = o->key_file;
	po->limits = o->limits;
	po->has_operators = o->has_operators;
	po->operators = o->operators;
}

/* A trial open: report what would stop the daemon, then close. */
static int preflight(const struct fs_opts *o)
{
	struct plane_opts po;
	struct plane *p = NULL;
	struct err e;
	int rc;

	plane_opts_of(o, &po);
	err_clear(&e);
	rc = plane_open(&p, &po, &e);
	if (rc < 0) {
		fprintf(stderr, "execfs: %s\n",
			e.msg[0] ? e.msg : strerror(-rc));
		return rc;
	}
	plane_close(p);
	return 0;
}

static int check_mountpoint(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "execfs: mount point '%s': %s\n", path,
			strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "execfs: mount point '%s' is not a directory\n",
			path);
		return -ENOTDIR;
	}
	return 0;
}

/* --check-config: everything but the mount. */
static int check_config(struct fs_opts *o, const struct fuse_cmdline_opts *co)
{
	struct fuse_session *se;
	int rc = check_mountpoint(co->mountpoint);

	se = fuse_session_new(&o->args, &fs_lowlevel_ops,
			      sizeof(fs_lowlevel_ops), NULL);
	if (se)
		fuse_session_destroy(se);
	else
		rc = -EINVAL;	/* libfuse printed which option */
	if (preflight(o) < 0)
		rc = -EINVAL;
	if (rc == 0)
		printf("execfs: configuration ok (state %s, key %s)\n",
		       o->state_dir, o->key_file);
	return rc < 0 ? 1 : 0;
}

/* Opens the plane and the notify thread once the process is final. */
static int serve_start(struct fs *fs, const struct fs_opts *o,
		       const char *mountpoint)
{
	struct plane_opts po;
	struct err e;
	int rc;

	plane_opts_of(o, &po);
	err_clear(&e);
	rc = plane_open(&fs->plane, &po, &e);
	if (rc < 0) {
		fs_log("%s", e.msg[0] ? e.msg : strerror(-rc));
		return rc;
	}
	rc = notify_start(&fs->notify, fs->se);
	if (rc < 0) {
		fs_log("cannot start the notify thread: %s", strerror(-rc));
		return rc;
	}
	rc = fs_follow_new(fs);
	if (rc < 0) {
		fs_log("cannot start the follow thread: %s", strerror(-rc));
		return rc;
	}
	plane_set_notify(fs->plane, fs_plane_changed, fs);
	plane_set_stream_notify(fs->plane, fs_stream_changed, fs);
	plane_set_audit_sink(fs->plane, fs_log_audit, NULL);
	err_clear(&e);
	rc = plane_start(fs->plane, &e);
	if (rc < 0) {
		fs_log("cannot start runs: %s",
		       e.msg[0] ? e.msg : strerror(-rc));
		return rc;
	}
	fs_log("serving %s on %s (pid %ld)", o->state_dir, mountpoint,
	       (long)getpid());
	return 0;
}

static int serve_loop(struct fs *fs, const struct fuse_cmdline_opts *co)
{
	struct fuse_loop_config lc;

	memset(&lc, 0, sizeof(lc));
	lc.clone_fd = 0;
	/* libfuse >= 3.12 also caps the pool at 10 workers (its default
	   max_threads for this config).  A parked follow/ read holds no
	   worker, so a thousand readers do not grow the pool.  Ten idle
	   workers are kept unless -o max_idle_threads says otherwise: fewer
	   give memory back after a burst, but a worker is then made and
	   ended per request under load (README, known gaps). */
	lc.max_idle_threads = co->max_idle_threads != UINT_MAX
				      ? co->max_idle_threads
				      : 10;
	if (co->singlethread)
		return fuse_session_loop(fs->se);
	return fuse_session_loop_mt(fs->se, &lc);
}

/* Mount, daemonize, serve until a signal or unmount, then clean up. */
static int serve(struct fs *fs, struct fs_opts *o,
		 const struct fuse_cmdline_opts *co)
{
	int rc = 1, loop;

	fs->se = fuse_session_new(&o->args, &fs_lowlevel_ops,
				  sizeof(fs_lowlevel_ops), fs);
	if (!fs->se)
		return 1;
	if (fuse_set_signal_handlers(fs->se) != 0)
		goto out_session;
	if (fuse_session_mount(fs->se, co->mountpoint) != 0)
		goto out_signals;
	if (fuse_daemonize(co->foreground) != 0)
		goto out_unmount;
	/* In the background stderr is /dev/null now: log to syslog. */
	if (!co->foreground)
		fs_log_syslog();
	if (serve_start(fs, o, co->mountpoint) < 0)
		goto out_unmount;
	loop = serve_loop(fs, co);
	/* A signal ends the loop with its number: a clean stop. */
	rc = loop < 0 ? 1 : 0;
	fs_log("stopping (%s)", loop > 0 ? "signal" : "unmounted");
	/* No request comes any more: answer the parked reads while the
	   channel still reaches their readers. */
	follow_stop(fs->follow);
out_unmount:
	notify_detach(fs->notify);
	fuse_session_unmount(fs->se);
	plane_close(fs->plane);
	fs->plane = NULL;
	notify_stop(fs->notify);
	fs->notify = NULL;
	follow_free(fs->follow);
	fs->follow = NULL;
out_signals:
	fuse_remove_signal_handlers(fs->se);
out_session:
	fuse_session_destroy(fs->se);
	fs->se = NULL;
	fs_log_close();
	return rc;
}

static int run(struct fs_opts *o)
{
	struct fuse_cmdline_opts co;
	struct fs fs;
	int rc = 1;

	memset(&co, 0, sizeof(co));
	memset(&fs, 0, sizeof(fs));
	if (fuse_opt_add_arg(&o->args, o->mountpoint) != 0 ||
	    fuse_parse_cmdline(&o->args, &co) != 0 || !co.mountpoint)
		goto out;	/* libfuse said why */
	if (crypt_init() < 0) {
		fprintf(stderr, "execfs: cannot initialise libsodium\n");
		goto out;
	}
	if (o->allow_other && geteuid() != 0) {
		fprintf(stderr, "execfs: -o allow_other is refused: the daemon "
			"must run as root to share the mount (see execfs(8), "
			"USERS)\n");
		goto out;
	}
	if (o->check_config) {
		rc = check_config(o, &co);
		goto out;
	}
	if (!co.foreground && preflight(o) < 0)
		goto out;
	if (tree_new(&fs.tree) < 0 || gone_new(&fs.gone) < 0 ||
	    known_new(&fs.known) < 0)
		goto out;
	fs.shared = o->allow_other;
	fs.uid = getuid();
	fs.gid = getgid();
	fs.operators = o->has_operators ? o->operators : fs.gid;
	if (fs.shared && fs_groups_new(&fs) < 0)
		goto out;
	clock_gettime(CLOCK_REALTIME, &fs.start);
	rc = serve(&fs, o, &co);
out:
	fs_groups_free(&fs);
	known_free(fs.known);
	gone_free(fs.gone);
	tree_free(fs.tree);
	free(co.mountpoint);
	return rc;
}

/* --rotate-key: the offline rotation (core/rotate.c), then what to do. */
static int rotate(const struct fs_opts *o)
{
	struct rotate_opts ro = { o->state_dir, o->key_file, o->rotate_key,
				  o->limits.store_max };
	struct rotate_report r;
	struct err e;
	int rc;

	if (crypt_init() < 0) {
		fprintf(stderr, "execfs: cannot initialise libsodium\n");
		return 1;
	}
	err_clear(&e);
	rc = rotate_key(&ro, &r, &e);
	if (rc < 0 && r.new_kid == 0) {
		fprintf(stderr, "execfs: key rotation refused, nothing was "
			"changed: %s\n", e.msg[0] ? e.msg : strerror(-rc));
		return 1;
	}
	printf("execfs: re-sealed %zu secret value(s) in %zu record(s) of "
	       "%s\n  under key id %08" PRIx32 " (%s), was %08" PRIx32
	       " (%s)\n", r.values, r.records, o->state_dir, r.new_kid,
	       o->rotate_key, r.old_kid, o->key_file);
	if (rc < 0)
		fprintf(stderr, "execfs: warning: %s\n", e.msg);
	printf("Next: start execfs with -o key_file=%s\n"
	       "  (or move it over the old path: mv %s %s).\n"
	       "The old key no longer opens anything in this store; keep a "
	       "copy only until\nthe daemon has started with the new key, "
	       "then delete it.\n", o->rotate_key, o->rotate_key,
	       o->key_file);
	return rc < 0 ? 1 : 0;
}

/*
 * glibc's malloc, tuned for a daemon that goes back to idle after bursts;
 * each setting unless the operator chose it.
 *
 * Two arenas for every thread (glibc makes up to 8 per core, one per busy
 * thread): a burst of runs on their own threads left their arenas' memory
 * behind, 2.5 MB of RssAnon grew to 16 MB after 300 runs and stayed; with
 * two 5 MB, no slower (scripts/bench --runs-only, R4).
 *
 * A fixed mmap threshold, glibc's default 128 KiB: an LMDB child
 * transaction mallocs and frees a 2 MiB dirty list and a 1 MiB free-page
 * list.  Left dynamic, the first of those frees raises the threshold to
 * 2 MiB and the trim threshold to 4 MiB, so they (and libfuse's 1 MiB
 * receive buffers) come from the arenas from then on, and a thread
 * arena's top below 4 MiB is never given back (malloc_trim() does not
 * trim it either): after a burst of 300 runs 1-2 MB more stayed resident.
 * Mapped, each child costs two mmaps and two munmaps, so the store nests
 * change sets only when one of a batch failed (store_writer.c), and
 * buffers wipe only what was written (a large block's untouched pages
 * are not faulted in to be zeroed).
 */
static void malloc_tune(void)
{
	if (getenv("GLIBC_TUNABLES"))
		return;
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, 2);
	if (!getenv("MALLOC_MMAP_THRESHOLD_"))
		mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

int main(int argc, char *argv[])
{
	struct fs_opts o;
	struct err e;
	int rc;

	malloc_tune();
	/* before the mount, which may hide the directory it is in */
	if (!proc_keeper_find())
		fprintf(stderr, "execfs: warning: execfs-keeper not found next "
			"to the daemon nor installed: RUN tasks will fail\n");
	if (opts_parse(argc, argv, &o, &e) < 0) {
		fprintf(stderr, "execfs: %s\n", e.msg);
		fprintf(stderr, "Try 'execfs --help'.\n");
		opts_release(&o);
		return 1;
	}
	if (o.help || o.version) {
		if (o.help) {
			opts_usage(argv[0]);
			printf("FUSE options:\n");
			fuse_cmdline_help();
			fuse_lowlevel_help();
		} else {
			printf("execfs %s (libfuse %s)\n", EXECFS_VERSION,
			       fuse_pkgversion());
		}
		rc = 0;
	} else if (o.rotate_key) {
		rc = rotate(&o);
	} else if (!o.mountpoint) {
		fprintf(stderr, "execfs: no mount point given\n"
				"Try 'execfs --help'.\n");
		rc = 1;
	} else {
		rc = run(&o);
	}
	opts_release(&o);
	return rc;
}
