#!/usr/bin/env bash
# t_mount.sh - the command line and mount conventions of DESIGN 1.1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

# wait_mount DIR PID: wait until DIR is a mount point (PID must live, if given).
wait_mount() {
	local i
	for i in $(seq 1 200); do
		mountpoint -q "$1" && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || { die "daemon for $1 exited"; return 1; }
		sleep 0.05
	done
	die "$1 did not mount"
}

# wait_gone DIR: wait until DIR is no longer a mount point.
wait_gone() {
	local i
	for i in $(seq 1 200); do
		mountpoint -q "$1" || return 0
		sleep 0.05
	done
	die "$1 still mounted"
}

# Without STATE and key_file the XDG defaults are used and created; the key
# is 32 bytes, mode 0600.
t_mount_xdg_defaults() {
	strict
	local pid
	mkdir -p "$TDIR/m2"
	track_mount "$TDIR/m2"
	XDG_DATA_HOME=$TDIR/data XDG_CONFIG_HOME=$TDIR/config \
		"$EXECFS" -f -o auto_unmount "$TDIR/m2" 2>>"$DLOG" &
	pid=$!
	wait_mount "$TDIR/m2" "$pid"
	env_doc x >"$TDIR/x.yaml"
	cp "$TDIR/x.yaml" "$TDIR/m2/environments/"
	[ -d "$TDIR/m2/environments/x" ] || die "create on the default mount failed"
	fusermount3 -u "$TDIR/m2"
	wait "$pid"
	assert_dir "$TDIR/data/execfs"
	assert_file "$TDIR/config/execfs/key"
	assert_eq "$(stat -c %a "$TDIR/config/execfs/key")" 600 "default key mode"
	assert_eq "$(stat -c %s "$TDIR/config/execfs/key")" 32 "default key size"
	[ -n "$(ls -A "$TDIR/data/execfs")" ] || die "state directory left empty"
}

# Without -f the daemon forks after the mount exists; relative paths are
# resolved before it changes directory.
t_mount_background_relative_paths() {
	strict
	mkdir -p "$TDIR/rel/m"
	track_mount "$TDIR/rel/m"
	(cd "$TDIR/rel" && "$EXECFS" -o key_file=k/key,auto_unmount st m) 2>>"$DLOG" ||
		die "background start failed"
	mountpoint -q "$TDIR/rel/m" || die "not mounted when the parent returned"
	env_doc x >"$TDIR/x.yaml"
	cp "$TDIR/x.yaml" "$TDIR/rel/m/environments/"
	assert_dir "$TDIR/rel/m/environments/x"
	assert_file "$TDIR/rel/k/key"
	assert_dir "$TDIR/rel/st"
	[ ! -e /st ] && [ ! -e /k ] || die "relative paths resolved against /"
	fusermount3 -u "$TDIR/rel/m"
	wait_gone "$TDIR/rel/m"
	# The daemon went away with its mount: the state is free again.
	local i
	for i in $(seq 1 100); do
		(cd "$TDIR/rel" && "$EXECFS" -o key_file=k/key,auto_unmount st m) 2>>"$DLOG" && break
		sleep 0.1
	done
	mountpoint -q "$TDIR/rel/m" || die "remount in the background failed"
	assert_dir "$TDIR/rel/m/environments/x"
	fusermount3 -u "$TDIR/rel/m"
	wait_gone "$TDIR/rel/m"
}

# A key file readable by group or others is refused.
t_mount_key_mode_refused() {
	strict
	unmount_execfs
	chmod 0640 "$KEY"
	local rc=0
	mkdir -p "$TDIR/m3"
	track_mount "$TDIR/m3"
	timeout 20 "$EXECFS" -f -o "auto_unmount,key_file=$KEY" "$STATE" "$TDIR/m3" \
		>"$TDIR/out" 2>&1 || rc=$?
	if mountpoint -q "$TDIR/m3"; then
		fusermount3 -u -z "$TDIR/m3"
		die "mounted with a group-readable key"
	fi
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || die "daemon did not refuse (rc $rc)"
	grep -qi key "$TDIR/out" || { cat "$TDIR/out" >&2; die "message does not mention the key"; }
	chmod 0600 "$KEY"
	mount_execfs
	ls "$MNT/environments" >/dev/null
}

# A different key cannot open secrets sealed with the first one; the
# daemon must not show garbage or the plaintext (it may refuse to mount or
# fail reads of those resources).
t_mount_wrong_key() {
	strict
	env_doc vault VeryS3cret$RANDOM >"$TDIR/v.yaml"
	cp "$TDIR/v.yaml" "$MNT/environments/"
	unmount_execfs
	mv "$KEY" "$KEY.orig"
	head -c 32 /dev/urandom >"$KEY"
	chmod 600 "$KEY"
	local rc=0
	mkdir -p "$TDIR/m4"
	track_mount "$TDIR/m4"
	timeout 20 "$EXECFS" -f -o "auto_unmount,key_file=$KEY" "$STATE" "$TDIR/m4" \
		>"$TDIR/out" 2>&1 &
	local pid=$!
	local i
	for i in $(seq 1 100); do
		mountpoint -q "$TDIR/m4" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if mountpoint -q "$TDIR/m4"; then
		grep -r -l "VeryS3cret" "$TDIR/m4" --exclude-dir=follow && die "plaintext visible"
		fusermount3 -u "$TDIR/m4"
	fi
	wait "$pid" || true
	mv "$KEY.orig" "$KEY"
	mount_execfs
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" '***'
}

# --check-config validates options and exits 0 or 1 without mounting.
t_mount_check_config() {
	strict
	# Usage: execfs --check-config [-o opts] [STATE] MOUNTPOINT
	mkdir -p "$TDIR/m5"
	track_mount "$TDIR/m5"
	XDG_DATA_HOME=$TDIR/xd XDG_CONFIG_HOME=$TDIR/xc \
		"$EXECFS" --check-config -o workflow_timeout=60,max_parallel=4,log_limit=1M "$TDIR/m5" >/dev/null ||
		die "--check-config refused valid options"
	"$EXECFS" --check-config -o "key_file=$KEY,store_max=1G,context_ttl=3600" "$TDIR/st5" "$TDIR/m5" >/dev/null ||
		die "--check-config refused key_file/store_max/context_ttl"
	! mountpoint -q "$TDIR/m5" || die "--check-config mounted"
	local bad rc
	for bad in max_parallel=abc workflow_timeout=-5 no_such_option=1 log_limit=lots max_parallel=; do
		rc=0
		"$EXECFS" --check-config -o "$bad" "$TDIR/st5" "$TDIR/m5" >/dev/null 2>&1 || rc=$?
		assert_eq "$rc" 1 "--check-config -o $bad"
	done
	# Bad options stop a real mount too.
	rc=0
	timeout 20 "$EXECFS" -f -o "key_file=$KEY,max_parallel=abc" "$TDIR/st5" "$TDIR/m5" \
		>/dev/null 2>&1 || rc=$?
	! mountpoint -q "$TDIR/m5" || { fusermount3 -u -z "$TDIR/m5"; die "mounted with a bad option"; }
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || die "bad option accepted (rc $rc)"
}

# The mount is a fuse filesystem named after execfs.
t_mount_type() {
	strict
	grep -F " $MNT " /proc/self/mounts | grep -q 'fuse' || die "not a fuse mount: $(grep -F "$MNT" /proc/self/mounts)"
	stat -f -c %T "$MNT" | grep -qi fuse
}

# -o max_idle_threads=N is taken: after eight writers at once (each
# create waits for the disk, holding a worker), the pool keeps N idle
# workers and the daemon's threads fall back, where the default keeps ten.
t_mount_max_idle_threads() {
	strict
	local base peak after i n pids=()
	threads() { ls "/proc/$DPID/task" | wc -l; }
	remount_execfs max_idle_threads=1
	sleep 1
	base=$(threads)
	for i in 1 2 3 4 5 6 7 8; do
		(for n in $(seq 40); do
			printf 'metadata: {name: w%s-%s}\nspec: {data: {a: {value: "1"}}}\n' \
				"$i" "$n" >"$MNT/environments/w$i-$n.yaml"
		done) &
		pids+=($!)
	done
	peak=$base
	while kill -0 "${pids[@]}" 2>/dev/null; do
		[ "$(threads)" -gt "$peak" ] && peak=$(threads)
		sleep 0.02
	done
	wait "${pids[@]}"
	assert_eq "$(ls "$MNT/environments" | wc -l)" 320 "environments created"
	sleep 1
	after=$(threads)
	echo "    info: threads $base before, $peak during, $after after"
	[ "$peak" -gt "$((base + 1))" ] || { echo "    info: the load grew no pool: nothing to see"; return 0; }
	[ "$after" -le "$((base + 1))" ] || die "idle workers kept: $after threads after, $base before"
}

run_tests "$@"
