#!/usr/bin/env bash
# t_restart.sh - runs across a daemon stop (DESIGN 1.5, 1.6): after
# kill -9 no task process survives, and on the next start the run is
# FAILED "interrupted: daemon stopped during the run"; SIGTERM does the
# same at once and answers parked readers (ENOTCONN, not EOF); a finished
# run reads back the same after a restart; new runs work after a restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"

INTERRUPTED="interrupted: daemon stopped during the run"

# long_wf NAME MARKER: a task printing a line then sleeping as MARKER,
# and a task after it.  The line, "before-stop-42-MARKER", is computed by
# the task, so finding it in data.mdb means the log was stored (the spec
# holding the command does not have it).
long_wf() {
	wf_put "$1" <<EOF
    - name: sleeper
      kind: RUN
      taskConfig:
        script: {language: bash, code: "echo before-stop-\$((6*7))-$2; exec -a $2 sleep 600"}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
}

# check_interrupted SLUG MARKER [noline]: the state of a run the daemon
# stopped (noline: do not look for its line in the log).
check_interrupted() {
	local s=$1 m=$2 noline=${3:-}
	wait_phase "$s" FAILED 10
	assert_eq "$(xj "$s" .status.error)" "$INTERRUPTED"
	assert_eq "$(xj "$s" '[.status.tasks[].status] | join(",")')" FAILED,SKIPPED
	assert_eq "$(xj "$s" '.status.tasks[0].error')" "$INTERRUPTED"
	[[ $(xj "$s" .status.completedAt) =~ $TS_RE ]] || die "no completedAt"
	# The line printed before the stop was kept.
	[ -n "$noline" ] || assert_contains "$(wx "$s")/log" "before-stop-42-$m"
	assert_not_contains "$(wx "$s")/log" later-ran
	# The stream is over: a follow reader gets EOF at once.
	timeout 5 cat "$(wx "$s")/follow/log" >/dev/null
	# Its ephemeral context was deleted.
	assert_absent "$MNT/executioncontexts/$s-ctx"
}

# a_new_run_works: an execution created after the restart runs.
a_new_run_works() {
	wf_put after <<'EOF'
    - name: a
      kind: RUN
      taskConfig: {shell: {command: "echo after-restart"}}
EOF
	wex_start fresh after
	wait_phase fresh COMPLETED 20
	assert_eq "$(cat "$(wx fresh)/log")" after-restart
}

t_restart_kill9_during_run() {
	run_strict
	local m m2
	m=$(new_marker)
	m2=$(new_marker)
	long_wf lw "$m"
	long_wf lw2 "$m2"
	wex_start k1 lw
	# A second run with a secret: its ephemeral context must go too.
	wex_start k2 lw2 "  runtimeEnv: {TOK: {value: kill9-secret-value, isSecret: true}}"
	wait_proc "$m" 10
	wait_proc "$m2" 10
	assert_dir "$MNT/executioncontexts/k2-ctx"
	# The line is stored (the flusher runs every 50 ms) before the kill.
	wait_until 10 grep -q -a -F "before-stop-42-$m" "$STATE/data.mdb"
	kill -9 "$DPID"
	# The tasks' groups die with the daemon, before any restart.
	wait_no_proc "$m" 5
	wait_no_proc "$m2" 5
	unmount_execfs
	mount_execfs
	check_interrupted k1 "$m"
	check_interrupted k2 "$m2" noline
	a_new_run_works
}

# kill -9 as soon as the first task's process runs (no line printed, no
# other change since): its start was stored before the process ran, so
# the restart finds it started (then FAILED), never PENDING, and the run
# is not started again.
t_restart_kill9_at_first_task() {
	run_strict
	local m
	m=$(new_marker)
	wf_put quick <<EOF
    - name: sleeper
      kind: RUN
      taskConfig:
        script: {language: bash, code: "exec -a $m sleep 600"}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
	wex_start q1 quick
	wait_proc "$m" 10
	kill -9 "$DPID"
	wait_no_proc "$m" 5
	unmount_execfs
	mount_execfs
	check_interrupted q1 "$m" noline
	# Not run again after the restart.
	sleep 0.5
	wait_no_proc "$m" 1
}

# is_dead PID: gone, or a zombie (the daemon is this shell's child).
is_dead() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	[ "${st:0:1}" = Z ]
}

# kill -9 at a later task's start, by the task itself (so before the
# status commit that follows a start by up to 50 ms): the start was
# journaled before the process ran, and the previous task's end with it,
# so the restart finds the first task COMPLETED, the second started (then
# FAILED) and the third SKIPPED; the first task did not run again.  The
# task chmods its execution first: that changes the record, not its
# status, and must not hide the journal from the recovery.
t_restart_kill9_at_later_task() {
	run_strict
	local m once
	m=$(new_marker)
	once=$TDIR/once-$m
	wf_put later <<EOF
    - name: first
      kind: RUN
      taskConfig: {shell: {command: "echo ran >> $once"}}
    - name: killer
      kind: RUN
      taskConfig: {shell: {command: "chmod 0640 $MNT/$WEXD/j1; kill -9 $DPID; exec -a $m sleep 600"}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
	wex_start j1 later
	wait_until 10 is_dead "$DPID"
	wait_no_proc "$m" 5
	# The start was in the journal, not yet committed (the task killed
	# the daemon within a few ms of the first task's commit).
	local js=("$STATE"/starts/*)
	assert_eq "${#js[@]}" 1
	[ -s "${js[0]}" ] || die "the journal of task starts is empty"
	unmount_execfs
	mount_execfs
	wait_phase j1 FAILED 10
	[ ! -e "${js[0]}" ] || die "the journal was not removed after recovery"
	# The chmod after the journal's record changed the record's
	# generation, not its content: the record still applied.
	assert_eq "$(stat -c %a "$(wx j1)")" 640
	assert_eq "$(xj j1 .status.error)" "$INTERRUPTED"
	assert_eq "$(xj j1 '[.status.tasks[].status] | join(",")')" COMPLETED,FAILED,SKIPPED
	assert_eq "$(xj j1 '.status.tasks[0].exitCode')" 0
	assert_eq "$(xj j1 '.status.tasks[1].error')" "$INTERRUPTED"
	[[ $(xj j1 .status.tasks[1].startedAt) =~ $TS_RE ]] || die "no startedAt"
	assert_not_contains "$(wx j1)/log" later-ran
	sleep 0.5
	assert_eq "$(cat "$once")" ran
	a_new_run_works
}

# SIGTERM: parked readers are answered with ENOTCONN (the run did not
# end), task groups are killed, the run is FAILED before the daemon exits
# (status 0).
t_restart_sigterm_during_run() {
	run_strict
	local m p rc
	m=$(new_marker)
	long_wf lw2 "$m"
	wex_start s1 lw2
	wait_proc "$m" 10
	wait_until 10 file_has "$(wx s1)/log" "before-stop-42-$m"
	cat "$(wx s1)/follow/log" >"$TDIR/parked" 2>"$TDIR/parked.err" &
	p=$!
	bg_track $p
	wait_until 5 file_has "$TDIR/parked" "before-stop-42-$m"
	kill -TERM "$DPID"
	wait_pid $p 10
	rc=0; wait $p || rc=$?
	[ "$rc" -ne 0 ] || die "parked cat ended with status 0 (EOF) on daemon stop"
	# Answered with ENOTCONN, or ECONNABORTED when the kernel tore the
	# connection down first: an error either way, never an EOF.
	grep -qE "Transport endpoint is not connected|Software caused connection abort" \
		"$TDIR/parked.err" || die "parked read: $(cat "$TDIR/parked.err")"
	wait_pid "$DPID" 15
	rc=0; wait "$DPID" || rc=$?
	assert_eq "$rc" 0 "daemon exit status after SIGTERM"
	DPID=
	proc_dead "$m" || die "task process left after SIGTERM"
	fusermount3 -u -z "$MNT" 2>/dev/null || true
	mount_execfs
	check_interrupted s1 "$m"
	a_new_run_works
}

# A finished run reads back byte for byte after a restart; its streams
# are on disk, not in memory.
t_restart_finished_run_kept() {
	run_strict
	local d before
	wf_put kept <<'EOF'
    - name: a
      kind: RUN
      taskConfig: {shell: {command: "seq 1 500"}}
    - name: b
      kind: RUN
      taskConfig: {shell: {command: "echo b-done >&2; exit 3"}}
EOF
	wex_start f1 kept
	d=$(wx f1)
	wait_phase f1 FAILED 20
	before=$(cd "$d" && md5sum log events status.yaml resource.json)
	remount_execfs
	assert_eq "$(cd "$d" && md5sum log events status.yaml resource.json)" "$before"
	assert_eq "$(wc -l <"$d/log")" 501
	assert_eq "$(stat -c %s "$d/log")" "$(cat "$d/log" | wc -c)"
	timeout 5 cat "$d/follow/events" | cmp - "$d/events"
	# Nothing was re-run or re-failed by the start.
	assert_eq "$(xj f1 .status.error)" "task b failed: exit status 3"
}

run_tests "$@"
