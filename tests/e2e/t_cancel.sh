#!/usr/bin/env bash
# t_cancel.sh - cancelling a run (DESIGN 1.5): `echo cancel > ctl` ends the
# task's process group (SIGTERM, SIGKILL after the grace), the run is
# CANCELLED and nothing is left; wrong commands and cancelling an ended run
# are refused with EINVAL and an errors line; removing a running
# execution cancels it first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"

# sleeper_wf NAME MARKER [PRELUDE]: a task that runs `sleep 600` under the
# name MARKER (after the bash PRELUDE), then a task that must not run.
sleeper_wf() {
	wf_put "$1" <<EOF
    - name: sleeper
      kind: RUN
      taskConfig:
        script: {language: bash, code: "${3:-}echo sleeping; exec -a $2 sleep 600"}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
}

t_cancel_sleep() {
	run_strict
	local m d t0
	m=$(new_marker)
	sleeper_wf sl "$m"
	wex_start c1 sl
	d=$(wx c1)
	wait_proc "$m" 10
	wait_phase c1 IN_PROGRESS 5
	t0=$SECONDS
	echo cancel >"$d/ctl"
	wait_phase c1 CANCELLED 10
	wait_no_proc "$m" 5
	(( SECONDS - t0 <= 10 )) || die "cancel took $((SECONDS - t0)) s"
	assert_eq "$(xj c1 '[.status.tasks[].status] | join(",")')" CANCELLED,SKIPPED
	assert_eq "$(xj c1 .status.error)" cancelled
	assert_eq "$(xj c1 '.status.summary | "\(.cancelled) \(.skipped)"')" "1 1"
	[[ $(xj c1 .status.completedAt) =~ $TS_RE ]] || die "no completedAt"
	assert_eq "$(evq c1 '.[-1] | "\(.type) \(.phase)"')" "complete CANCELLED"
	assert_eq "$(evq c1 'map(select(.type == "phase" and .task == "sleeper")) | .[-1].status')" CANCELLED
	assert_not_contains "$d/log" later-ran
	assert_contains "$d/log" sleeping
	# The streams ended: follow readers return at once.
	timeout 5 cat "$d/follow/log" >/dev/null
	# Cancelling again: the run has ended.
	expect_fail_einval "$d/ctl" cancel
	assert_contains "$TDIR/stderr" "Invalid argument"
	errors_last | grep -qF "the run has already ended (CANCELLED)" ||
		die "errors lacks 'already ended': $(errors_last)"
}

# expect_fail_einval FILE WORD: writing WORD to FILE must fail with EINVAL
# (/bin/echo, which reports a failing write or close).
expect_fail_einval() {
	if /bin/echo "$2" >"$1" 2>"$TDIR/stderr"; then
		die "writing '$2' to $1 succeeded"
		return 1
	fi
	grep -qF "Invalid argument" "$TDIR/stderr" ||
		die "writing '$2' to $1: $(cat "$TDIR/stderr")"
}

# A task that ignores SIGTERM is killed after the grace period (5 s).
t_cancel_term_ignored() {
	run_strict
	local m t0
	m=$(new_marker)
	sleeper_wf stubborn "$m" "trap '' TERM; "
	wex_start c2 stubborn
	wait_proc "$m" 10
	t0=$SECONDS
	echo cancel >"$(wx c2)/ctl"
	wait_phase c2 CANCELLED 15
	wait_no_proc "$m" 3
	(( SECONDS - t0 >= 4 )) || die "SIGTERM-proof task gone after $((SECONDS - t0)) s: no grace?"
	assert_eq "$(xj c2 '.status.tasks[0].status')" CANCELLED
}

# Unknown commands are refused, recorded, and change nothing; the ctl file
# cannot be read.
t_cancel_unknown_command() {
	run_strict
	local m d
	m=$(new_marker)
	sleeper_wf sl2 "$m"
	wex_start c3 sl2
	d=$(wx c3)
	wait_proc "$m" 10
	expect_fail_einval "$d/ctl" frobnicate
	errors_last | grep -qF "unknown command" || die "errors: $(errors_last)"
	errors_last | grep -qF "known: cancel" || die "errors: $(errors_last)"
	assert_eq "$(phase_of c3)" IN_PROGRESS
	proc_alive "$m" || die "an unknown command stopped the task"
	# ctl takes commands; reading it gives nothing (grep -r passes by).
	assert_eq "$(cat "$d/ctl")" "" "ctl reads empty"
	# Cancel with a trailing newline and O_TRUNC (the shell's >) works.
	printf 'cancel\n' >"$d/ctl"
	wait_phase c3 CANCELLED 10
	wait_no_proc "$m" 5
}

# Cancelling a COMPLETED run: EINVAL naming the phase.
t_cancel_completed_run() {
	run_strict
	wf_put fast <<'EOF'
    - name: fast
      kind: RUN
      taskConfig: {shell: {command: "echo fast"}}
EOF
	wex_start c4 fast
	wait_phase c4 COMPLETED 20
	expect_fail_einval "$(wx c4)/ctl" cancel
	errors_last | grep -qF "the run has already ended (COMPLETED)" ||
		die "errors: $(errors_last)"
	assert_eq "$(phase_of c4)" COMPLETED
}

# rm -r of a running execution cancels it first: the directory goes and
# so does the task.
t_cancel_by_rm() {
	run_strict
	local m id
	m=$(new_marker)
	sleeper_wf sl3 "$m"
	wex_start c5 sl3
	id=$(rid "$WEXD" c5)
	wait_proc "$m" 10
	[ -d "$STATE/runs/$id" ] || die "no work directory $STATE/runs/$id"
	rm -r "$(wx c5)"
	assert_absent "$(wx c5)"
	wait_no_proc "$m" 10
	! ls "$MNT/$WEXD" | grep -qx c5 || die "c5 still listed"
	wait_until 10 test ! -e "$STATE/runs/$id"
}

run_tests "$@"
