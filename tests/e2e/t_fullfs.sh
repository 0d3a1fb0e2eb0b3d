#!/usr/bin/env bash
# t_fullfs.sh - the state directory on a full filesystem (DESIGN 1.4: store
# full -> ENOSPC).  Each test mounts a small tmpfs in $TDIR, puts the
# daemon's state directory on it, fills it (a dd file does most of it) and
# checks that creates fail with ENOSPC and an errors line naming the state
# directory, that every acknowledged resource reads back, that a delete
# works while full and makes room for a create, that a run's output and
# status on a full filesystem do not bring the daemon down, and that the
# store opens again on the same full filesystem.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

FS_SIZE=4M

# fullfs_setup: a fresh tmpfs of FS_SIZE at $TDIR/fs holding the state
# directory, and the daemon remounted on it.  Unmounted (after the daemon)
# when the test ends, however it ends.
fullfs_setup() {
	FS=$TDIR/fs
	mkdir -p "$FS"
	mount -t tmpfs -o "size=$FS_SIZE,mode=0700" tmpfs "$FS"
	trap 'quietly unmount_tracked; unmount_execfs; umount -l "$FS" 2>/dev/null' EXIT
	STATE=$FS/state
	unmount_execfs
	mount_execfs
}

# fill N [KB]: a dd file filler.N takes every free byte of the tmpfs (dd
# fails at the end), then gives back KB kilobytes, so that the creates
# after it fill the rest and one of them meets the end mid-write.
fill() {
	dd if=/dev/zero of="$FS/filler.$1" bs=64k 2>/dev/null || true
	[ "$(df --output=avail -B1 "$FS" | tail -1)" -lt 65536 ] || die "tmpfs is not full"
	truncate -s "-${2:-0}K" "$FS/filler.$1"
}

# mk NAME: create environment NAME with cp; 0 when acknowledged.  Small
# documents, so that a commit meets the end of the filesystem mid-write.
mk() {
	env_doc "$1" "s3cr3t-$1" "desc-$1" >"$TDIR/doc.yaml"
	cp "$TDIR/doc.yaml" "$MNT/environments/$1.yaml" 2>"$TDIR/stderr"
}

# acked_ok: every acknowledged environment reads back with its content.
acked_ok() {
	local n
	while read -r n; do
		assert_eq "$(rj environments "$n" .metadata.name)" "$n" "environment $n" || return 1
		assert_contains "$MNT/environments/$n/spec.yaml" "desc-$n" || return 1
	done <"$TDIR/acked"
}

t_fullfs_create_delete_remount() {
	strict
	fullfs_setup
	local i n rc before
	: >"$TDIR/acked"
	for i in 1 2 3; do
		mk "pre$i"
		echo "pre$i" >>"$TDIR/acked"
	done
	fill 1 150
	# Creates until one fails: that one must be ENOSPC.
	rc=0
	for i in $(seq 1 400); do
		if mk "full$i"; then
			echo "full$i" >>"$TDIR/acked"
		else
			rc=1
			break
		fi
	done
	[ "$rc" -eq 1 ] || die "400 creates fit on a full $FS_SIZE tmpfs"
	grep -qF "No space left on device" "$TDIR/stderr" ||
		{ cat "$TDIR/stderr" >&2; die "a full filesystem did not say ENOSPC"; }
	assert_error_line "environments/full$i.yaml" ENOSPC "$STATE"
	assert_contains "$MNT/errors" "filesystem of the state directory '$STATE' is full"
	assert_absent "$MNT/environments/full$i"
	# The errno itself, seen by a program closing the file (a failed
	# commit leaves room behind it at times: try until one fails).
	env_doc pyfull s3cr3t-pyfull desc-pyfull >"$TDIR/py.yaml"
	rc=$(python3 - "$TDIR/py.yaml" "$MNT/environments" <<'PY'
import errno, os, sys
data = open(sys.argv[1], "rb").read()
for i in range(100):
    fd = os.open("%s/py%d.yaml" % (sys.argv[2], i), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.write(fd, data.replace(b"pyfull", b"py%d" % i))
        os.close(fd)
    except OSError as e:
        print(errno.errorcode.get(e.errno, e.errno))
        sys.exit(0)
print("100 creates fit")
PY
)
	assert_eq "$rc" ENOSPC "errno of a create on a full filesystem"
	ls "$MNT/environments" | grep '^py' >>"$TDIR/acked" || true
	acked_ok
	# The daemon is still up, and a delete works while the fs is full.
	mountpoint -q "$MNT"
	n=$(head -1 "$TDIR/acked")
	rm -r "$MNT/environments/$n"
	assert_absent "$MNT/environments/$n"
	sed -i 1d "$TDIR/acked"
	[ "$(df --output=avail -B1 "$FS" | tail -1)" -lt 65536 ] || die "tmpfs is no longer full"
	# ... and makes room for a new create.
	mk after1
	echo after1 >>"$TDIR/acked"
	assert_created environments after1
	acked_ok
	# Twice over: delete another, create again.
	n=$(head -1 "$TDIR/acked")
	rm -r "$MNT/environments/$n"
	sed -i 1d "$TDIR/acked"
	mk after2
	echo after2 >>"$TDIR/acked"
	# The store opens again on the same, still full, filesystem.
	before=$(snapshot)
	remount_execfs
	mountpoint -q "$MNT"
	assert_eq "$(snapshot)" "$before" "views after remount on a full filesystem"
	acked_ok
	assert_eq "$(ls "$MNT/environments" | wc -l)" "$(wc -l <"$TDIR/acked")" "environments after remount"
	# Room made on the filesystem is used again.
	rm -f "$FS"/filler.*
	mk roomy
	assert_created environments roomy
}

# A run whose output fills the filesystem: the daemon stays up, the run
# ends, acknowledged resources read back, the execution can be deleted,
# and the store opens again.
t_fullfs_run_output() {
	strict
	fullfs_setup
	local before p
	: >"$TDIR/acked"
	mk keep
	echo keep >>"$TDIR/acked"
	wf_doc loud 'head -c 6000000 /dev/zero | base64' >"$TDIR/wf.yaml"
	cp "$TDIR/wf.yaml" "$MNT/workflows/"
	# Its 8 MB of log (and more of events) cannot fit in FS_SIZE.
	if exec_doc run1 loud >"$TDIR/ex.yaml" && cp "$TDIR/ex.yaml" "$MNT/workflowexecutions/" 2>"$TDIR/stderr"; then
		wait_run_end run1
		p=$(jq -r .status.phase <"$MNT/workflowexecutions/run1/resource.json")
		[[ $p == COMPLETED || $p == FAILED ]] || die "phase $p"
		head -c 100 "$MNT/workflowexecutions/run1/log" >/dev/null
		mountpoint -q "$MNT"
		acked_ok
		rm -r "$MNT/workflowexecutions/run1"
	else
		grep -qF "No space left on device" "$TDIR/stderr"
	fi
	# Free the room the run had taken, then start one that fits.
	rm -f "$FS"/filler.*
	mk keep2
	echo keep2 >>"$TDIR/acked"
	fill 2
	wf_doc quiet 'echo hello' >"$TDIR/wf.yaml"
	cp "$TDIR/wf.yaml" "$MNT/workflows/" 2>/dev/null || true
	mountpoint -q "$MNT"
	acked_ok
	before=$(snapshot)
	remount_execfs
	assert_eq "$(snapshot)" "$before" "views after remount on a full filesystem"
	acked_ok
}

run_tests "$@"
