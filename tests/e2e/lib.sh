# tests/e2e/lib.sh - shared harness for end-to-end tests.
#
# Each test file is a bash script that sources this file, defines functions
# named t_<something>, and ends with `run_tests "$@"`.  Every test gets a
# fresh state directory, key file and mount point under a temporary
# directory, a mounted daemon (-f -o auto_unmount) and is unmounted
# afterwards whatever happens.  Variables available inside a test:
#   $MNT    the mount point        $STATE  the state directory
#   $KEY    the key file           $TDIR   scratch space for the test
#   $DLOG   the daemon's stderr (its log)
# The runner prints one line per test and a closing "N passed, N failed".

set -u
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${EXECFS:=$E2E_DIR/../../build/fs/execfs}"
CORPUS=$E2E_DIR/../corpus
E2E_PASS=0
E2E_FAIL=0
DPID=

die() { echo "    FAIL: $*" >&2; return 1; }

# mount_execfs [extra -o options]: start the daemon on $MNT and wait.
mount_execfs() {
	local extra=${1:-}
	local opts="auto_unmount,key_file=$KEY"
	[ -n "$extra" ] && opts="$opts,$extra"
	"$EXECFS" -f -o "$opts" "$STATE" "$MNT" 2>>"$DLOG" &
	DPID=$!
	local i
	for i in $(seq 1 300); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$DPID" 2>/dev/null || { cat "$DLOG" >&2; die "daemon exited"; return 1; }
		sleep 0.05
	done
	die "mount did not appear"
}

# unmount_execfs: unmount and wait for the daemon to exit.
unmount_execfs() {
	[ -n "$DPID" ] || return 0
	fusermount3 -u -z "$MNT" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}

# remount_execfs: stop and start again on the same state.
remount_execfs() {
	unmount_execfs
	mount_execfs "$@"
}

# Assertions.  Each prints what differed and returns 1.
assert_eq() { [ "$1" = "$2" ] || die "${3:-values differ}: got '$1', want '$2'"; }
assert_file() { [ -f "$1" ] || die "missing file $1"; }
assert_dir() { [ -d "$1" ] || die "missing directory $1"; }
assert_absent() { [ ! -e "$1" ] || die "should not exist: $1"; }
assert_contains() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; head -c 2000 "$1" >&2; die "'$1' lacks '$2'"; }; }
assert_not_contains() { ! grep -qF -- "$2" "$1" || die "'$1' contains '$2'"; }
# assert_fails CMD...: the command must exit non-zero.
assert_fails() { if "$@" 2>"$TDIR/stderr"; then die "should have failed: $*"; fi; }

run_one() {
	local t=$1 rc
	TDIR=$(mktemp -d /tmp/execfs-e2e.XXXXXX)
	STATE=$TDIR/state
	KEY=$TDIR/key/key
	MNT=$TDIR/mnt
	DLOG=$TDIR/daemon.log
	mkdir -p "$MNT"
	(
		set -u
		trap unmount_execfs EXIT
		mount_execfs || exit 1
		"$t"
	)
	rc=$?
	if [ $rc -eq 0 ]; then
		E2E_PASS=$((E2E_PASS + 1))
		echo "ok   $t"
		rm -rf "$TDIR"
	else
		E2E_FAIL=$((E2E_FAIL + 1))
		echo "FAIL $t (kept $TDIR)"
		tail -n 20 "$DLOG" 2>/dev/null | sed 's/^/    log: /'
	fi
}

# run_tests [PATTERN]: run every t_* function (or those matching PATTERN).
run_tests() {
	local pat=${1:-} t
	for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
		[ -z "$pat" ] || [[ $t == *$pat* ]] || continue
		run_one "$t"
	done
	echo "$(basename "$0"): $E2E_PASS passed, $E2E_FAIL failed"
	[ "$E2E_FAIL" -eq 0 ]
}
