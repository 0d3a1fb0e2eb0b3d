#!/usr/bin/env bash
# t_dryrun.sh - dry runs (DESIGN 1.5): every task is evaluated, nothing is
# executed (no RUN, no WAIT); status and events hold the trace and say that
# nothing was executed; RAISE still fails the run; `run` starts a dry run
# with `dryRun: true`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"

# sidefx_wf NAME: SET, a RUN with a side effect, a long WAIT, another RUN.
sidefx_wf() {
	wf_put "$1" <<EOF
    - name: vars
      kind: SET
      taskConfig: {variables: {target: $TDIR/should-not-exist}}
    - name: toucher
      kind: RUN
      taskConfig:
        shell: {command: "touch $TDIR/should-not-exist", arguments: [extra-arg]}
    - name: pause
      kind: WAIT
      taskConfig: {seconds: 30}
    - name: script
      kind: RUN
      taskConfig:
        script: {language: bash, code: "echo dry-printed > $TDIR/also-not"}
EOF
}

t_dryrun_executes_nothing() {
	run_strict
	local d t0
	sidefx_wf dry
	t0=$SECONDS
	wex_start d1 dry "  dryRun: true"
	d=$(wx d1)
	# The 30 s WAIT is not waited.
	wait_phase d1 COMPLETED 10
	(( SECONDS - t0 < 15 )) || die "dry run took $((SECONDS - t0)) s"
	assert_absent "$TDIR/should-not-exist"
	assert_absent "$TDIR/also-not"
	assert_eq "$(xj d1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(xj d1 '.status.tasks[0].output.target')" "$TDIR/should-not-exist"
	assert_eq "$(xj d1 '.status.tasks[1].output.dryRun')" true
	xj d1 '.status.tasks[1].output.wouldRun' | grep -qF "touch $TDIR/should-not-exist" ||
		die "wouldRun: $(xj d1 '.status.tasks[1].output.wouldRun')"
	xj d1 '.status.tasks[1].output.wouldRun' | grep -qF extra-arg ||
		die "wouldRun lacks the argument: $(xj d1 '.status.tasks[1].output.wouldRun')"
	assert_eq "$(xj d1 '.status.tasks[2].output | "\(.dryRun) \(.wouldWait)"')" "true 30"
	assert_eq "$(xj d1 '.status.tasks[3].output.dryRun')" true
	assert_eq "$(xj d1 .status.summary.dryRun)" true
	assert_eq "$(xj d1 '.status.error // ""')" ""
	# The trace: one "would run" per RUN task, and the closing message.
	assert_eq "$(evq d1 'map(select(.type == "trace") | .task) | join(",")' |
		tr ',' '\n' | sort -u | grep -c -E '^(toucher|script)$')" 2
	evq d1 'map(select(.type == "trace" and .task == "toucher")) | .[0].message' |
		grep -q '^would run: .*touch' || die "no 'would run' trace for toucher"
	assert_eq "$(evq d1 '.[-1] | "\(.type) \(.phase) \(.message)"')" \
		"complete COMPLETED dry run: nothing was executed"
	assert_eq "$(evq d1 '.[-1].summary.dryRun')" true
	assert_eq "$(ev_count d1 '.type == "line"')" 0
	# Nothing ran, so no work directory is left either.
	assert_absent "$STATE/runs/$(rid "$WEXD" d1)"
}

# RAISE fails a dry run as it would a real one; later tasks are skipped.
t_dryrun_raise_fails() {
	run_strict
	wf_put dryraise <<EOF
    - name: first
      kind: RUN
      taskConfig: {shell: {command: "touch $TDIR/should-not-exist"}}
    - name: boom
      kind: RAISE
      taskConfig: {error: denied, message: "not allowed"}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "touch $TDIR/after"}}
EOF
	wex_start d2 dryraise "  dryRun: true"
	wait_phase d2 FAILED 10
	assert_eq "$(xj d2 '[.status.tasks[].status] | join(",")')" COMPLETED,FAILED,SKIPPED
	# A RAISE's detail is its message; the run fails as it would.
	assert_eq "$(xj d2 '.status.tasks[1].error')" "not allowed"
	assert_eq "$(xj d2 .status.error)" "task boom failed: not allowed"
	assert_absent "$TDIR/should-not-exist"
	assert_absent "$TDIR/after"
}

# `run` with a mapping: `dryRun: true` gives a dry run whose name is read
# back from the same open file.
t_dryrun_via_run_file() {
	run_strict
	local name extra
	sidefx_wf dry2
	exec 3<>"$MNT/workflows/dry2/run"
	echo 'dryRun: true' >&3
	read -r name <&3
	exec 3>&-
	[ -n "$name" ] || die "run returned no name"
	test -d "$MNT/$WEXD/$name"
	assert_eq "$(xj "$name" .spec.dryRun)" true
	wait_phase "$name" COMPLETED 10
	assert_absent "$TDIR/should-not-exist"
	assert_eq "$(xj "$name" .status.summary.dryRun)" true
	# Reading on returns EOF: one name per written content.
	exec 3<>"$MNT/workflows/dry2/run"
	echo 'dryRun: true' >&3
	read -r name <&3
	if read -r extra <&3; then die "second read gave '$extra'"; fi
	exec 3>&-
}

run_tests "$@"
