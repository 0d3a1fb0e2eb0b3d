#!/usr/bin/env bash
# t_durability.sh - an acknowledged change survives kill -9 (DESIGN 1.4:
# "a commit returns only after the change is durable"), the state lock,
# clean SIGTERM, restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

WRITERS=8
PER_WRITER=30

# writer W: create PER_WRITER environments with cp; log every name whose cp
# exited 0.
writer() {
	local w=$1 j n
	for j in $(seq 1 $PER_WRITER); do
		n=w$w-e$j
		cp "$TDIR/docs/$n.yaml" "$MNT/environments/" 2>/dev/null && echo "$n" >>"$TDIR/acked.$w"
	done
	touch "$TDIR/done.$w"
	return 0
}

# writers_done N SECONDS: wait up to SECONDS for N writers to finish.
writers_done() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		[ "$(ls "$TDIR" | grep -c '^done\.')" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# abort_conn DEV: abort the FUSE connection DEV through fusectl (the way
# out when a dead daemon leaves requests that nobody will answer).
abort_conn() {
	[ -d "/sys/fs/fuse/connections/$1" ] ||
		mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null || true
	[ -e "/sys/fs/fuse/connections/$1/abort" ] && echo 1 >"/sys/fs/fuse/connections/$1/abort"
}

# in_mountinfo DIR: DIR is still in the mount table (mountpoint(1) says
# no for a dead FUSE mount, whose stat fails with ENOTCONN).
in_mountinfo() { awk -v m="$1" '$5 == m {f = 1} END {exit !f}' /proc/self/mountinfo; }

# wait_unmounted: after the daemon died, wait for auto_unmount (or do it).
wait_unmounted() {
	local i
	for i in $(seq 1 100); do
		in_mountinfo "$MNT" || return 0
		sleep 0.05
	done
	fusermount3 -u -z "$MNT"
}

t_durability_kill9_concurrent_writers() {
	strict
	local w j pids=() i total conn hung=0
	mkdir "$TDIR/docs"
	for w in $(seq 1 $WRITERS); do
		: >"$TDIR/acked.$w"
		for j in $(seq 1 $PER_WRITER); do
			env_doc "w$w-e$j" "sec-$w-$j" "writer $w doc $j" >"$TDIR/docs/w$w-e$j.yaml"
		done
	done
	for w in $(seq 1 $WRITERS); do
		writer "$w" &
		pids+=($!)
	done
	# Kill the daemon once a good part of the writes were acknowledged.
	for i in $(seq 1 600); do
		total=$(cat "$TDIR"/acked.* | wc -l)
		[ "$total" -ge $((WRITERS * PER_WRITER / 3)) ] && break
		sleep 0.01
	done
	conn=$(stat -c %d "$MNT")
	kill -9 "$DPID"
	# A dead daemon must not leave writers hanging: with the daemon gone
	# every pending request fails (ENOTCONN) and the writers finish.
	if ! writers_done $WRITERS 15; then
		hung=1
		echo "    BUG: after kill -9 the writers hang (daemon threads: $(
			for t in /proc/$DPID/task/*; do
				printf '%s:%s ' "$(cut -d' ' -f3 "$t/stat")" "$(head -1 "$t/stack" 2>/dev/null | sed 's/^\[<0>\] //')"
			done)); aborting FUSE connection $conn" >&2
		abort_conn "$conn"
		writers_done $WRITERS 15 || die "writers still hang after abort"
	fi
	wait "$DPID" 2>/dev/null || true
	DPID=
	wait "${pids[@]}" || true
	wait_unmounted
	total=$(cat "$TDIR"/acked.* | wc -l)
	echo "    info: $total of $((WRITERS * PER_WRITER)) creates acknowledged before kill -9" >&2
	[ "$total" -gt 0 ] || die "nothing was acknowledged"

	mount_execfs
	local n missing=0
	for n in $(cat "$TDIR"/acked.*); do
		if [ ! -d "$MNT/environments/$n" ]; then
			echo "    lost acknowledged create: $n" >&2
			missing=$((missing + 1))
		fi
	done
	assert_eq "$missing" 0 "acknowledged creates lost"
	# Every resource that exists opens and is whole.
	for d in "$MNT"/environments/*/; do
		n=$(basename "$d")
		jq -e . <"$d/resource.json" >/dev/null || die "$n: resource.json broken"
		w=${n%%-*} j=${n##*-e}
		assert_eq "$(rj environments "$n" .spec.description)" "writer ${w#w} doc $j" "$n description"
		assert_eq "$(rj environments "$n" .spec.data.API_KEY.value)" '***'
		assert_eq "$(cat "$d/id")" "$(rj environments "$n" .metadata.id)"
	done
	# The store still takes writes.
	env_doc after >"$TDIR/after.yaml"
	cp "$TDIR/after.yaml" "$MNT/environments/"
	assert_dir "$MNT/environments/after"
	# No acknowledged name appears twice in by-id.
	assert_eq "$(ls "$MNT/by-id" | wc -l)" "$(ls "$MNT/environments" | wc -l)" "by-id vs environments"
	[ "$hung" -eq 0 ] || die "kill -9 left the mount hanging (see BUG above)"
}

# Concurrent writers without a crash: every create lands exactly once.
t_durability_concurrent_no_crash() {
	strict
	local w j pids=()
	mkdir "$TDIR/docs"
	for w in $(seq 1 $WRITERS); do
		: >"$TDIR/acked.$w"
		for j in $(seq 1 10); do
			env_doc "w$w-e$j" "sec-$w-$j" >"$TDIR/docs/w$w-e$j.yaml"
		done
	done
	PER_WRITER=10
	for w in $(seq 1 $WRITERS); do
		writer "$w" &
		pids+=($!)
	done
	wait "${pids[@]}"
	assert_eq "$(cat "$TDIR"/acked.* | wc -l)" $((WRITERS * 10)) "acknowledged creates"
	assert_eq "$(ls "$MNT/environments" | wc -l)" $((WRITERS * 10)) "environments"
	assert_eq "$(ls "$MNT/by-id" | sort -u | wc -l)" $((WRITERS * 10)) "distinct ids"
	assert_eq "$(cat "$MNT/errors")" ""
}

# A second daemon on the same state directory is refused, clearly.
t_durability_second_daemon_refused() {
	strict
	mkdir "$TDIR/mnt2"
	track_mount "$TDIR/mnt2"
	local rc=0
	timeout 20 "$EXECFS" -f -o "auto_unmount,key_file=$KEY" "$STATE" "$TDIR/mnt2" \
		>"$TDIR/second.out" 2>&1 || rc=$?
	if mountpoint -q "$TDIR/mnt2"; then
		fusermount3 -u -z "$TDIR/mnt2"
		die "second daemon mounted"
	fi
	[ "$rc" -ne 0 ] || die "second daemon exited 0"
	[ "$rc" -ne 124 ] || die "second daemon did not exit"
	grep -qi "in use" "$TDIR/second.out" ||
		{ cat "$TDIR/second.out" >&2; die "no 'in use' message"; }
	# The first daemon is unaffected.
	env_doc still >"$TDIR/s.yaml"
	cp "$TDIR/s.yaml" "$MNT/environments/"
	assert_dir "$MNT/environments/still"
}

# SIGTERM unmounts cleanly with status 0; a restart keeps everything.
t_durability_sigterm_and_restart() {
	strict
	make_good_set
	local before rc=0 i
	before=$(snapshot)
	kill -TERM "$DPID"
	wait "$DPID" || rc=$?
	DPID=
	assert_eq "$rc" 0 "exit status after SIGTERM"
	for i in $(seq 1 100); do
		mountpoint -q "$MNT" || break
		sleep 0.05
	done
	! mountpoint -q "$MNT" || die "still mounted after SIGTERM"
	mount_execfs
	assert_eq "$(snapshot)" "$before" "views after SIGTERM + restart"
	# SIGINT too.  (Background jobs of a script start with SIGINT ignored,
	# so start this daemon with the default disposition, as a terminal
	# user's daemon has it.)
	unmount_execfs
	env --default-signal=INT "$EXECFS" -f -o "auto_unmount,key_file=$KEY" "$STATE" "$MNT" 2>>"$DLOG" &
	DPID=$!
	for i in $(seq 1 200); do
		mountpoint -q "$MNT" && break
		sleep 0.05
	done
	mountpoint -q "$MNT" || die "no mount for the SIGINT test"
	kill -INT "$DPID"
	rc=0
	wait "$DPID" || rc=$?
	DPID=
	assert_eq "$rc" 0 "exit status after SIGINT"
	mount_execfs
	assert_eq "$(snapshot)" "$before" "views after SIGINT + restart"
	# fusermount3 -u ends the daemon with status 0 as well.
	fusermount3 -u "$MNT"
	rc=0
	wait "$DPID" || rc=$?
	DPID=
	assert_eq "$rc" 0 "exit status after fusermount3 -u"
	mount_execfs
	assert_eq "$(snapshot)" "$before" "views after fusermount3 -u + restart"
}

# A full store refuses changes with ENOSPC, keeps what it has, and opens
# again.  (store_max caps the LMDB map.)
t_durability_store_full() {
	strict
	unmount_execfs
	mount_execfs store_max=2M
	local big i rc=0 before
	big=$(head -c 40000 /dev/zero | tr '\0' 'x')
	for i in $(seq 1 200); do
		printf 'metadata: {name: big%d}\nspec: {description: %s}\n' "$i" "$big" >"$TDIR/big.yaml"
		if ! cp "$TDIR/big.yaml" "$MNT/environments/big$i.yaml" 2>"$TDIR/stderr"; then
			rc=1
			break
		fi
	done
	[ "$rc" -eq 1 ] || die "200 x 40 KB fit in store_max=2M"
	grep -qF "No space left on device" "$TDIR/stderr" ||
		{ cat "$TDIR/stderr" >&2; die "full store did not say ENOSPC"; }
	assert_error_line "environments/big$i.yaml" ENOSPC
	assert_absent "$MNT/environments/big$i"
	before=$(snapshot)
	remount_execfs store_max=2M
	assert_eq "$(snapshot)" "$before" "views after remount of a full store"
	# Deleting makes room again.
	rm -rf "$MNT"/environments/big1 "$MNT"/environments/big2 "$MNT"/environments/big3
	cp "$TDIR/big.yaml" "$MNT/environments/big$i.yaml"
	assert_dir "$MNT/environments/big$i"
}

run_tests "$@"
