#!/usr/bin/env bash
# t_service.sh - execfs as a service: `meson install` (binary, execfs(8),
# execfs@.service), `mount -t fuse.execfs` through mount.fuse3, --help and
# the man page naming every option of fs/opts.c, the unit accepted by
# systemd-analyze verify, and the background daemon's log in syslog.
#
# The install goes to a DESTDIR from the meson build directory of
# $EXECFS (--no-rebuild: the binary installed is the one under test).
# mount(8) runs its helper with no PATH, so mount.fuse3's shell finds
# execfs only in its default path (/usr/local/bin among others): those
# tests run in a private mount namespace (unshare -m) where the DESTDIR's
# usr/local is bind-mounted on /usr/local; the syslog test likewise gets
# a /dev of its own (an overlay) whose /dev/log is a socket served by a
# small python3 receiver.  Daemons started there are unmounted and waited
# for, by pid, whatever happens.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

SRC=$(cd "$E2E_DIR/../.." && pwd)
BUILDDIR=$(cd "$(dirname "$EXECFS")/.." && pwd)
SVC_DEST=$(mktemp -d /tmp/execfs-svc.XXXXXX)
trap 'rm -rf "$SVC_DEST"' EXIT
if [ -d "$BUILDDIR/meson-info" ] &&
	meson install -C "$BUILDDIR" --no-rebuild --destdir "$SVC_DEST" >"$SVC_DEST.log" 2>&1; then
	rm -f "$SVC_DEST.log"
else
	echo "t_service.sh: meson install from $BUILDDIR failed:" >&2
	cat "$SVC_DEST.log" >&2 2>/dev/null; rm -f "$SVC_DEST.log"
	SVC_DEST=
fi
PREFIX=$SVC_DEST/usr/local
MAN8=$PREFIX/share/man/man8/execfs.8
UNIT=$PREFIX/lib/systemd/system/execfs@.service

need_install() { [ -n "$SVC_DEST" ] || die "no installed tree (see above)"; }

# The -o keys fs/opts.c accepts (its FUSE_OPT_KEY table), one per line,
# without the trailing '='; $1 = KEY_LIMIT|KEY_KEY_FILE|KEY_IGNORE|...
opts_keys() {
	grep -oE 'FUSE_OPT_KEY\("[^"]+", *'"$1"'\)' "$SRC/fs/opts.c" |
		sed -E 's/FUSE_OPT_KEY\("([^"=]+)=?".*/\1/'
}

# in_ns SCRIPT: run bash SCRIPT in a private mount namespace, with the
# test's variables exported.
in_ns() {
	export EXECFS TDIR STATE KEY PREFIX SVC_DEST
	unshare -m --propagation private bash -c "$1"
}

# reap_pid FILE: kill -9 the daemon whose pid FILE holds, if still there
# (the namespace's mounts go with it).
reap_pid() {
	local p
	[ -s "$1" ] || return 0
	p=$(cat "$1")
	kill -0 "$p" 2>/dev/null || return 0
	kill -9 "$p" 2>/dev/null
	return 0
}

# Every -o option of the table, and the flags, are in --help; each limit
# with its default.  A new option without help text fails here.
t_service_help_lists_every_option() {
	strict
	local k n=0
	"$EXECFS" --help >"$TDIR/help"
	for k in $(opts_keys KEY_KEY_FILE) $(opts_keys KEY_LIMIT); do
		grep -qE -- "-o $k=[A-Z]+ " "$TDIR/help" || die "--help lacks -o $k"
		n=$((n + 1))
	done
	for k in $(opts_keys KEY_LIMIT); do
		grep -E -- "-o $k=" "$TDIR/help" | grep -qE '\(default [0-9]+[KMG]?\)' ||
			die "--help gives no default for $k"
	done
	[ "$n" -ge 9 ] || die "found only $n options in fs/opts.c"
	for k in $(opts_keys KEY_IGNORE) x-\*; do
		grep -qE -- "[ ,]$(printf '%s' "$k" | sed 's/[*.]/\\&/g')" "$TDIR/help" ||
			die "--help does not list ignored option $k"
	done
	for k in -f -d -s --check-config --rotate-key --version allow_other auto_unmount \
		'default 300' 'default 8M' 'default 64G' 'config/execfs/key' syslog; do
		assert_contains "$TDIR/help" "$k"
	done
	# The defaults printed are the ones the daemon uses.
	"$EXECFS" --help | grep -q -- "max_parallel=N .*(default 10)"
}

# execfs(8) installs, renders without a warning, and documents every
# option, the tree, the errnos of DESIGN 1.4, files, examples.
t_service_man_page() {
	strict
	need_install
	local k
	assert_file "$MAN8"
	groff -man -ww -z "$MAN8" 2>"$TDIR/groff.err"
	[ ! -s "$TDIR/groff.err" ] || { cat "$TDIR/groff.err" >&2; die "groff warnings"; }
	MANWIDTH=80 man --warnings -l "$MAN8" >"$TDIR/man.txt" 2>"$TDIR/man.err"
	[ ! -s "$TDIR/man.err" ] || { cat "$TDIR/man.err" >&2; die "man warnings"; }
	for k in $(opts_keys KEY_KEY_FILE) $(opts_keys KEY_LIMIT) $(opts_keys KEY_IGNORE); do
		grep -qE -- "(^|[ ,])$k(=|,|\.| |$)" "$TDIR/man.txt" || die "execfs(8) lacks $k"
	done
	for k in NAME SYNOPSIS OPTIONS "THE TREE" ERRORS FILES EXAMPLES "SEE ALSO" \
		--check-config 'default 300' 'default 8M' 'default 64G' \
		README errors by-id/ workflows/ workflowinstances/ workflowexecutions/ \
		executioncontexts/ environments/ spec.yaml resource.json status.yaml \
		follow/log follow/events ctl run \
		EBADMSG ENOENT EEXIST EACCES EPERM EBUSY ENOSPC EFBIG EIO \
		.local/share/execfs .config/execfs/key fuse.execfs nofail \
		'systemctl enable' syslog mount.fuse3; do
		assert_contains "$TDIR/man.txt" "$k"
	done
}

# The unit: installed, ExecStart is the installed binary with -f, and
# systemd-analyze verify accepts it (with the tree installed on
# /usr/local in a private namespace: verify checks that the binary and
# the man page of Documentation= exist).
t_service_unit_verifies() {
	strict
	need_install
	assert_file "$UNIT"
	assert_contains "$UNIT" "ExecStart=/usr/local/bin/execfs -f "
	if ! command -v systemd-analyze >/dev/null; then
		echo "    skip: systemd-analyze not installed (scripts/deps --test installs systemd)"
		return 0
	fi
	cp "$UNIT" "$TDIR/execfs@srv-execfs.service"
	in_ns '
		mount --bind "$PREFIX" /usr/local || exit 1
		systemd-analyze verify /usr/local/lib/systemd/system/execfs@.service &&
		systemd-analyze verify "$TDIR/execfs@srv-execfs.service"
	' >"$TDIR/verify.out" 2>&1 || { cat "$TDIR/verify.out" >&2; die "systemd-analyze verify failed"; }
	[ ! -s "$TDIR/verify.out" ] || { cat "$TDIR/verify.out" >&2; die "systemd-analyze verify warned"; }
}

# mount -t fuse.execfs with fstab-style options (mount(8) -> mount.fuse3
# -> /bin/sh -c 'execfs STATE MNT -o ...' from the default path) mounts;
# umount ends the daemon.
t_service_mount_t_fuse_execfs() {
	strict
	need_install
	mkdir -p "$TDIR/m2" "$TDIR/k2"
	in_ns '
		set -u
		M=$TDIR/m2 S=$TDIR/s2
		trap "fusermount3 -u -z \$M 2>/dev/null; true" EXIT
		mount --bind "$PREFIX" /usr/local || exit 1
		mount -t fuse.execfs "$S" "$M" \
			-o key_file=$TDIR/k2/key,nofail,_netdev,noatime,relatime,nodev,nosuid,x-systemd.automount,comment=x,noauto ||
			{ echo "mount -t fuse.execfs failed"; exit 1; }
		findmnt -no FSTYPE,SOURCE "$M" >"$TDIR/findmnt"
		ls "$M" >"$TDIR/ls"
		# Answered, so the daemon has opened the store and holds its
		# lock (which the trial open before daemonizing held briefly).
		cp "$S/execfs.lock" "$TDIR/pid2"
		kill -0 "$(cat "$TDIR/pid2")" || { echo "no daemon"; exit 1; }
		printf "spec:\n  data:\n    REGION: {value: eu}\n" >"$M/environments/prod.yaml" || exit 1
		cat "$M/environments/prod/spec.yaml" >"$TDIR/spec" || exit 1
		umount "$M" || { echo "umount failed"; exit 1; }
		for i in $(seq 1 100); do
			kill -0 "$(cat "$TDIR/pid2")" 2>/dev/null || exit 0
			sleep 0.05
		done
		echo "daemon $(cat "$TDIR/pid2") still running after umount"; exit 1
	' >"$TDIR/ns.out" 2>&1 || { cat "$TDIR/ns.out" >&2; reap_pid "$TDIR/pid2"; die "mount -t test failed"; }
	reap_pid "$TDIR/pid2"
	assert_contains "$TDIR/findmnt" "fuse.execfs"
	for k in $KINDDIRS README errors by-id; do
		grep -qx "$k" "$TDIR/ls" || die "ls of the mount lacks $k"
	done
	assert_contains "$TDIR/spec" "REGION"
	assert_eq "$(stat -c %a "$TDIR/k2/key")" 600 "key mode"
}

# In the background the log goes to syslog (identifier execfs, facility
# daemon): the start line, a rejected change (a line core writes on
# stderr), the stop line.  With -f it stays on stderr.
t_service_syslog_in_background() {
	strict
	mkdir -p "$TDIR/m3" "$TDIR/k3" "$TDIR/ov/up" "$TDIR/ov/wk"
	cat >"$TDIR/recv.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1] + ".tmp")
os.chmod(sys.argv[1] + ".tmp", 0o666)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\n") + b"\n")
PY
	in_ns '
		set -u
		M=$TDIR/m3 S=$TDIR/s3 rp=
		trap "fusermount3 -u -z \$M 2>/dev/null; [ -z \"\$rp\" ] || kill \$rp" EXIT
		mount -t overlay overlay -o lowerdir=/dev,upperdir=$TDIR/ov/up,workdir=$TDIR/ov/wk /dev || exit 1
		python3 "$TDIR/recv.py" "$TDIR/log.sock" "$TDIR/syslog" & rp=$!
		for i in $(seq 1 100); do [ -S "$TDIR/log.sock" ] && break; sleep 0.05; done
		touch /dev/log && mount --bind "$TDIR/log.sock" /dev/log || exit 1
		"$EXECFS" -o key_file=$TDIR/k3/key "$S" "$M" 2>"$TDIR/bg.stderr" || exit 1
		ls "$M" >/dev/null	# served: the store is open and locked
		cp "$S/execfs.lock" "$TDIR/pid3"
		kill -0 "$(cat "$TDIR/pid3")" || { echo "no daemon"; exit 1; }
		printf "spec: {data: {R: {value: x, isSecret: maybe}}}\n" >"$TDIR/bad.yaml"
		cp "$TDIR/bad.yaml" "$M/environments/" 2>/dev/null &&
			{ echo "bad document accepted"; exit 1; }
		# fd 2 stays /dev/null: no descriptor the daemon opens lands there.
		fd2=$(readlink "/proc/$(cat "$TDIR/pid3")/fd/2")
		[ "$fd2" = /dev/null ] || { echo "fd 2 of the daemon is $fd2"; exit 1; }
		fusermount3 -u "$M" || exit 1
		for i in $(seq 1 100); do
			kill -0 "$(cat "$TDIR/pid3")" 2>/dev/null || break
			sleep 0.05
		done
		sleep 0.2	# the receiver writes what it got
	' >"$TDIR/ns.out" 2>&1 || { cat "$TDIR/ns.out" "$TDIR/bg.stderr" >&2; reap_pid "$TDIR/pid3"; die "syslog test failed"; }
	reap_pid "$TDIR/pid3"
	local pid
	pid=$(cat "$TDIR/pid3")
	# <29> = LOG_DAEMON | LOG_NOTICE; <28> = LOG_DAEMON | LOG_WARNING.
	grep -qE "^<29>.* execfs\[$pid\]: serving $TDIR/s3 on $TDIR/m3 \(pid $pid\)$" "$TDIR/syslog" ||
		{ cat "$TDIR/syslog" >&2; die "no start line in syslog"; }
	grep -qE "^<28>.* execfs\[$pid\]: .*environments/bad.yaml: EBADMSG: .*isSecret" "$TDIR/syslog" ||
		{ cat "$TDIR/syslog" >&2; die "the rejected change is not in syslog"; }
	grep -qE "^<29>.* execfs\[$pid\]: stopping \(unmounted\)$" "$TDIR/syslog" ||
		{ cat "$TDIR/syslog" >&2; die "no stop line in syslog"; }
	[ ! -s "$TDIR/bg.stderr" ] || { cat "$TDIR/bg.stderr" >&2; die "the background start wrote to stderr"; }
	# The harness's daemon runs with -f: its log is on stderr.
	grep -qE "execfs: serving $STATE on $MNT \(pid [0-9]+\)$" "$DLOG" ||
		die "the foreground daemon's start line is not on stderr"
}

run_tests "$@"
