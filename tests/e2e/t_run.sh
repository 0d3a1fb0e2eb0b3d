#!/usr/bin/env bash
# t_run.sh - executions really run (DESIGN 1.5): a workflow of three tasks
# runs to COMPLETED with its status, log, events and exit codes; a failing
# task fails the run; task and workflow timeouts; the environment and work
# directory of a task; the `run` file of a Workflow; task kinds SET, WAIT,
# RAISE, flow.then, export.as (an expression into $context) and the
# max_total_operations limit; RUN's `return` (stdout, stderr, code, all,
# none) and `stdin`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"

# Three RUN tasks: a shell command (its output exported into $context),
# a bash script writing to both streams, a shell command with arguments
# and its own environment, one variable of it read from $context.
three_tasks() {
	wf_put three <<'EOF'
    - name: alpha
      kind: RUN
      taskConfig:
        shell: {command: "echo alpha-out"}
      export: {as: '${ {stdout: .} }'}
    - name: beta
      kind: RUN
      taskConfig:
        script:
          language: bash
          code: |
            echo beta-out
            echo beta-err >&2
    - name: gamma
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "gamma $1|$2|$GREETING|$EXECFS_TASK|$FROM_ALPHA"'
          arguments: [one, "two words"]
          environment: {GREETING: hello, FROM_ALPHA: '${ $context.alpha.stdout }'}
EOF
}

t_run_three_tasks_completed() {
	run_strict
	local d id
	three_tasks
	wex_start r3 three
	d=$(wx r3)
	wait_phase r3 COMPLETED 20
	id=$(rid "$WEXD" r3)
	assert_contains "$d/status.yaml" "phase: COMPLETED"
	# status: phase, tasks, exit codes, progress, times, summary.
	assert_eq "$(xj r3 .status.phase)" COMPLETED
	assert_eq "$(xj r3 '[.status.tasks[].name] | join(",")')" alpha,beta,gamma
	assert_eq "$(xj r3 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(xj r3 '[.status.tasks[].kind] | join(",")')" RUN,RUN,RUN
	assert_eq "$(xj r3 '[.status.tasks[] | .exitCode // 0] | join(",")')" 0,0,0
	assert_eq "$(xj r3 '[.status.tasks[] | .error // ""] | join("")')" ""
	assert_eq "$(xj r3 '[.status.tasks[].id] | join(",")')" alpha,beta,gamma
	xj r3 ".status.tasks[] | .startedAt, .completedAt" | while read -r ts; do
		[[ $ts =~ $TS_RE ]] || die "task timestamp '$ts'"
	done
	[[ $(xj r3 .status.startedAt) =~ $TS_RE ]] || die "no status.startedAt"
	[[ $(xj r3 .status.completedAt) =~ $TS_RE ]] || die "no status.completedAt"
	assert_eq "$(xj r3 '"\(.status.progress.done)/\(.status.progress.total)"')" 3/3
	assert_eq "$(xj r3 '.status.summary | "\(.total) \(.completed // 0) \(.failed // 0) \(.skipped // 0) \(.cancelled // 0) \(.exitCode // 0)"')" \
		"3 3 0 0 0 0"
	assert_eq "$(xj r3 '.status.summary.durationMs | type')" number
	assert_eq "$(xj r3 '.status.error // ""')" ""
	# Task outputs: a RUN's output is its trimmed stdout (return stdout,
	# the default), stderr only in the log; the workflow's output is the
	# last task's output; alpha's export reached gamma through $context.
	assert_eq "$(xj r3 '[.status.tasks[].output | type] | join(",")')" \
		string,string,string
	assert_eq "$(xj r3 '.status.tasks[0].output')" alpha-out
	assert_eq "$(xj r3 '.status.tasks[1].output')" beta-out
	assert_eq "$(xj r3 '.status.tasks[2].output')" "gamma one|two words|hello|gamma|alpha-out"
	assert_eq "$(xj r3 '.status.output')" "gamma one|two words|hello|gamma|alpha-out"
	# The log: every output line in task order, without prefixes.
	assert_eq "$(head -n 1 "$d/log")" alpha-out
	assert_eq "$(sed -n '2,3p' "$d/log" | sort | tr '\n' ' ')" "beta-err beta-out "
	assert_eq "$(sed -n 4p "$d/log")" "gamma one|two words|hello|gamma|alpha-out"
	assert_eq "$(wc -l <"$d/log")" 4
	assert_eq "$(stat -c %s "$d/log")" "$(cat "$d/log" | wc -c)" "log size"
	check_three_events r3 "$id"
}

# check_three_events SLUG ID: the events of the three-task run.
check_three_events() {
	local s=$1 id=$2 d
	d=$(wx "$s")
	# Every line is one JSON object with a type, an RFC 3339 UTC
	# timestamp with milliseconds and the execution's id.
	jq -c . "$d/events" >/dev/null || die "events are not JSON Lines"
	assert_eq "$(evq "$s" "map(select(.executionId != \"$id\")) | length")" 0 \
		"events with another executionId"
	evq "$s" '.[].timestamp' | while read -r ts; do
		[[ $ts =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]] ||
			die "event timestamp '$ts'"
	done
	assert_eq "$(evq "$s" '.[0] | "\(.type) \(.phase)"')" "state IN_PROGRESS"
	assert_eq "$(evq "$s" '.[-1] | "\(.type) \(.phase) \(.error // "")"')" \
		"complete COMPLETED "
	assert_eq "$(evq "$s" '.[-1].summary.total')" 3
	assert_eq "$(ev_count "$s" '.type == "complete"')" 1
	# phase events: each task IN_PROGRESS then COMPLETED, with progress.
	assert_eq "$(evq "$s" 'map(select(.type == "phase") |
		"\(.task):\(.status):\(.progress)/\(.total):\(.exitCode // "-")") | join(" ")')" \
		"alpha:IN_PROGRESS:0/3:- alpha:COMPLETED:1/3:0 beta:IN_PROGRESS:1/3:- beta:COMPLETED:2/3:0 gamma:IN_PROGRESS:2/3:- gamma:COMPLETED:3/3:0"
	# line events: one per output line, with the task and the stream.
	assert_eq "$(evq "$s" 'map(select(.type == "line") |
		"\(.task)/\(.stream)/\(.text)") | sort | join(" ")')" \
		"alpha/stdout/alpha-out beta/stderr/beta-err beta/stdout/beta-out gamma/stdout/gamma one|two words|hello|gamma|alpha-out"
	# A line event comes after its task's IN_PROGRESS and before its end.
	assert_eq "$(evq "$s" '[to_entries[] | select(.value.type != "state" and
		.value.type != "complete") | .value.task] | join(",")')" \
		"alpha,alpha,alpha,beta,beta,beta,beta,gamma,gamma,gamma"
}

# A failing task: the run is FAILED with its exit code, its stderr is in
# the log, later tasks are SKIPPED and never run.
t_run_failing_task() {
	run_strict
	local d
	wf_put failing <<'EOF'
    - name: fine
      kind: RUN
      taskConfig: {shell: {command: "echo fine-out"}}
    - name: bad
      kind: RUN
      taskConfig:
        script: {language: sh, code: "echo about-to-fail; echo oops-on-stderr >&2; exit 7"}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo never-printed"}}
EOF
	wex_start f1 failing
	d=$(wx f1)
	wait_phase f1 FAILED 20
	assert_eq "$(xj f1 '[.status.tasks[].status] | join(",")')" COMPLETED,FAILED,SKIPPED
	assert_eq "$(xj f1 '.status.tasks[1].exitCode')" 7
	assert_eq "$(xj f1 '.status.tasks[1].error')" "exit status 7"
	assert_eq "$(xj f1 '.status.tasks[2].startedAt // ""')" ""
	assert_eq "$(xj f1 .status.error)" "task bad failed: exit status 7"
	assert_eq "$(xj f1 '.status.summary | "\(.exitCode) \(.completed) \(.failed) \(.skipped)"')" \
		"7 1 1 1"
	assert_eq "$(xj f1 '"\(.status.progress.total)"')" 3
	assert_contains "$d/log" oops-on-stderr
	assert_contains "$d/log" about-to-fail
	assert_not_contains "$d/log" never-printed
	assert_eq "$(evq f1 'map(select(.type == "line" and .text == "oops-on-stderr")) | .[0].stream')" stderr
	assert_eq "$(evq f1 'map(select(.type == "phase" and .task == "bad" and .status == "FAILED")) | .[0] | "\(.exitCode) \(.error)"')" \
		"7 exit status 7"
	assert_eq "$(evq f1 '.[-1] | "\(.type) \(.phase) \(.error)"')" \
		"complete FAILED task bad failed: exit status 7"
	assert_eq "$(ev_count f1 '.task == "after" and .type == "line"')" 0
	# A failing RUN (return stdout, the default) has no output.
	assert_eq "$(xj f1 '.status.tasks[1].output')" null
}

# A task killed by a signal says which.
t_run_killed_by_signal() {
	run_strict
	wf_put sig <<'EOF'
    - name: selfkill
      kind: RUN
      taskConfig: {shell: {command: "kill -TERM $$"}}
EOF
	wex_start s1 sig
	wait_phase s1 FAILED 20
	assert_eq "$(xj s1 '.status.tasks[0].error')" "killed by signal SIGTERM"
	assert_eq "$(xj s1 .status.error)" "task selfkill failed: killed by signal SIGTERM"
}

# The environment of a task is a clean one, layered (envSpec < envRefs
# < runtimeEnv < the task's own), and its cwd is the run's work
# directory, which is gone when the run ends.
t_run_environment_and_workdir() {
	run_strict
	local id wd log
	# A variable of the daemon's own environment must not reach a task.
	export EXECFS_E2E_LEAK=daemon-env
	remount_execfs
	env_doc layered >"$TDIR/layered.yaml"
	cat >>"$TDIR/layered.yaml" <<'EOF'
    FROM_ENV:
      value: env
    OVER:
      value: env
EOF
	cp "$TDIR/layered.yaml" "$MNT/environments/"
	cat >"$TDIR/envwf.yaml" <<'EOF'
metadata: {name: envwf}
spec:
  document: {dsl: 1.0.0, namespace: e2e, name: envwf, version: 1.0.0}
  envSpec:
    data:
      FROM_SPEC: {value: spec}
      OVER: {value: spec}
  tasks:
    - name: show
      kind: RUN
      taskConfig:
        shell:
          command: 'env | sort; echo "CWD=$(pwd)"; touch made-here'
          environment: {OWN: own}
    - name: second
      kind: RUN
      taskConfig:
        shell: {command: 'test -f made-here && echo shared-workdir'}
EOF
	cp "$TDIR/envwf.yaml" "$MNT/workflows/"
	inst_doc envinst envwf layered >"$TDIR/envinst.yaml"
	cp "$TDIR/envinst.yaml" "$MNT/workflowinstances/"
	cat >"$MNT/$WEXD/e1.yaml" <<'EOF'
metadata: {name: e1}
spec:
  workflowInstanceId: envinst
  runtimeEnv:
    FROM_RT: {value: rt}
    OVER: {value: rt}
EOF
	wait_phase e1 COMPLETED 20
	id=$(rid "$WEXD" e1)
	wd=$STATE/runs/$id
	log=$(wx e1)/log
	assert_contains "$log" "PATH=/usr/local/bin:/usr/bin:/bin"
	assert_contains "$log" "HOME=$wd"
	assert_contains "$log" "CWD=$wd"
	assert_contains "$log" "EXECFS_EXECUTION=e1"
	assert_contains "$log" "EXECFS_EXECUTION_ID=$id"
	assert_contains "$log" "EXECFS_TASK=show"
	assert_contains "$log" "FROM_SPEC=spec"
	assert_contains "$log" "FROM_ENV=env"
	assert_contains "$log" "REGION=eu"
	assert_contains "$log" "FROM_RT=rt"
	assert_contains "$log" "OVER=rt"
	assert_contains "$log" "OWN=own"
	assert_contains "$log" shared-workdir
	# Nothing of the daemon's own environment leaks in.
	assert_not_contains "$log" EXECFS_E2E_LEAK
	assert_absent "$wd"
}

# `run`: writing starts an execution; reading the same open file returns
# its name.  `echo > run` starts one too; a read without a write starts
# nothing; a bad mapping is refused with an errors line.
t_run_file() {
	run_strict
	local name n0 rc
	three_tasks
	exec 3<>"$MNT/workflows/three/run"
	echo >&3
	read -r name <&3
	exec 3>&-
	[ -n "$name" ] || die "run returned no name"
	assert_dir "$MNT/$WEXD/$name"
	[[ $name == three-* ]] || die "run name '$name' does not start with three-"
	wait_phase "$name" COMPLETED 20
	assert_eq "$(xj "$name" '.status.tasks | length')" 3
	# With a mapping of spec fields.
	exec 3<>"$MNT/workflows/three/run"
	printf 'runtimeEnv: {FOO: {value: bar}}\n' >&3
	read -r name <&3
	exec 3>&-
	wait_phase "$name" COMPLETED 20
	assert_eq "$(xj "$name" .spec.runtimeEnv.FOO.value)" bar
	# echo > run: a new execution each time.
	n0=$(ls "$MNT/$WEXD" | wc -l)
	echo >"$MNT/workflows/three/run"
	assert_eq "$(ls "$MNT/$WEXD" | wc -l)" "$((n0 + 1))"
	# A read alone starts nothing.
	cat "$MNT/workflows/three/run" >"$TDIR/empty"
	assert_eq "$(wc -c <"$TDIR/empty")" 0
	assert_eq "$(ls "$MNT/$WEXD" | wc -l)" "$((n0 + 1))"
	# A bad mapping: the write's commit fails and says why.
	rc=0
	# (/bin/echo reports a failing close; the shell's builtin would not.)
	/bin/echo 'bogusField: 1' >"$MNT/workflows/three/run" 2>"$TDIR/err" || rc=$?
	[ "$rc" -ne 0 ] || die "a bad run mapping was accepted"
	assert_error_line workflows/three/run EBADMSG
	assert_eq "$(ls "$MNT/$WEXD" | wc -l)" "$((n0 + 1))"
	# `run` is listed in a Workflow directory and only there.
	ls "$MNT/workflows/three" | grep -qx run || die "run not listed"
	assert_absent "$MNT/$WEXD/$name/run"
}

# taskConfig.timeout: the task is FAILED naming its timeout, the run FAILED.
t_run_task_timeout() {
	run_strict
	local m
	m=$(new_marker)
	wf_put slow <<EOF
    - name: sleepy
      kind: RUN
      taskConfig:
        timeout: 1
        script: {language: bash, code: "exec -a $m sleep 60"}
    - name: next
      kind: RUN
      taskConfig: {shell: {command: "echo next"}}
EOF
	wex_start t1 slow
	wait_phase t1 FAILED 12
	assert_eq "$(xj t1 '.status.tasks[0].error')" "timeout: task exceeded its timeout of 1 s"
	assert_eq "$(xj t1 '[.status.tasks[].status] | join(",")')" FAILED,SKIPPED
	wait_no_proc "$m" 5
}

# workflow_timeout: the run fails naming the limit; nothing is left.
t_run_workflow_timeout() {
	run_strict
	local m
	remount_execfs workflow_timeout=2
	m=$(new_marker)
	wf_put forever <<EOF
    - name: sleepy
      kind: RUN
      taskConfig:
        script: {language: bash, code: "exec -a $m sleep 600"}
EOF
	wex_start w1 forever
	wait_proc "$m" 10
	wait_phase w1 FAILED 15
	assert_eq "$(xj w1 .status.error)" "limit workflow_timeout (2 s) exceeded"
	assert_contains "$(wx w1)/events" "limit workflow_timeout (2 s) exceeded"
	wait_no_proc "$m" 8
}

# What a task's main process leaves behind in its group is killed when
# it exits; the task still completes.
t_run_background_child_killed() {
	run_strict
	local m
	m=$(new_marker)
	wf_put leaver <<EOF
    - name: leave
      kind: RUN
      taskConfig:
        script: {language: bash, code: "(exec -a $m sleep 600) & sleep 0.5; echo left-a-child"}
EOF
	wex_start b1 leaver
	wait_phase b1 COMPLETED 20
	assert_contains "$(wx b1)/log" left-a-child
	wait_no_proc "$m" 5
}

# SET, WAIT, RAISE, export.as and flow.then.  SET's output is its
# variables; export.as stores its expression's value (over the task's
# output) as $context["<task>"]; `then: end` ends the workflow, whose
# output is then the last task run's output.  RAISE (Stigmer's string
# form) fails the run with its message as the detail; caught by a TRY,
# its error object shows the standard type and status, the name as the
# title and the task's pointer as the instance.
t_run_other_kinds() {
	run_strict
	wf_put kinds <<'EOF'
    - name: setvars
      kind: SET
      taskConfig: {variables: {color: blue}}
      export: {as: '${ . }'}
    - name: pause
      kind: WAIT
      taskConfig: {seconds: 1}
      flow: {then: last}
    - name: jumped
      kind: RUN
      taskConfig: {shell: {command: "echo jumped-over"}}
    - name: last
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "at-last $COLOR"'
          environment: {COLOR: '${ $context.setvars.color }'}
      flow: {then: end}
    - name: afterend
      kind: RUN
      taskConfig: {shell: {command: "echo after-end"}}
EOF
	wex_start k1 kinds
	wait_phase k1 COMPLETED 20
	assert_eq "$(xj k1 '.status.tasks[0].output | tojson')" '{"color":"blue"}'
	assert_eq "$(xj k1 '.status.tasks[1].status')" COMPLETED
	assert_eq "$(xj k1 '.status.tasks[3].output')" "at-last blue"
	assert_eq "$(xj k1 '.status.output')" "at-last blue"
	assert_contains "$(wx k1)/log" "at-last blue"
	assert_not_contains "$(wx k1)/log" jumped-over
	assert_not_contains "$(wx k1)/log" after-end
	[ "$(xj k1 '.status.tasks[2].status')" != COMPLETED ] || die "jumped task ran"
	[ "$(xj k1 '.status.tasks[4].status')" != COMPLETED ] || die "task after end ran"

	wf_put raiser <<'EOF'
    - name: boom
      kind: RAISE
      taskConfig: {error: validation, message: "bad input"}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-raise"}}
EOF
	wex_start k2 raiser
	wait_phase k2 FAILED 20
	assert_eq "$(xj k2 '.status.tasks[0].error')" "bad input"
	assert_eq "$(xj k2 .status.error)" "task boom failed: bad input"
	assert_eq "$(xj k2 '[.status.tasks[].status] | join(",")')" FAILED,SKIPPED
	assert_not_contains "$(wx k2)/log" after-raise

	# The error object of a RAISE: a standard name, a custom one.
	wf_put raisecaught <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: boom
            kind: RAISE
            taskConfig: {error: validation, message: "bad input"}
        catch:
          as: err
          do:
            - name: keep
              kind: SET
              taskConfig: {variables: {std: '${ $err }'}}
    - name: guard2
      kind: TRY
      taskConfig:
        try:
          - name: custom
            kind: RAISE
            taskConfig: {error: QuotaExceeded, message: "too many"}
        catch:
          do:
            - name: keep
              kind: SET
              taskConfig: {variables: {custom: '${ $error }'}}
    - name: guard3
      kind: TRY
      taskConfig:
        try:
          - name: dslform
            kind: RAISE
            taskConfig:
              error: {type: "https://example.com/errors/teapot", status: 418, title: Teapot, detail: short and stout}
        catch:
          do:
            - name: keep
              kind: SET
              taskConfig: {variables: {dsl: '${ $error }'}}
EOF
	wex_start k3 raisecaught
	wait_phase k3 COMPLETED 20
	assert_eq "$(xj k3 '.status.tasks[] | select(.id == "guard2") | .output.custom | [.type, .status, .title, .detail, .instance] | map(tostring) | join("|")')" \
		"QuotaExceeded|500|QuotaExceeded|too many|/do/1/guard2/try/0/custom"
	assert_eq "$(xj k3 '.status.output.dsl | [.type, .status, .title, .detail, .instance] | map(tostring) | join("|")')" \
		"https://example.com/errors/teapot|418|Teapot|short and stout|/do/2/guard3/try/0/dslform"
	assert_eq "$(xj k3 '.status.tasks[0].output.std | [.type, .status, .title, .detail, .instance] | map(tostring) | join("|")')" \
		"https://serverlessworkflow.io/spec/1.0.0/errors/validation|400|validation|bad input|/do/0/guard/try/0/boom"
}

# RUN `return`: stdout (the default) and stderr are the stream's text,
# surrounding whitespace trimmed; code is the exit status, and a non-zero
# one then does not fail the task; all is {code, stdout, stderr}; none is
# null.  Each output is the next task's input.
t_run_return() {
	run_strict
	wf_put returns <<'EOF'
    - name: out
      kind: RUN
      taskConfig:
        shell: {command: 'echo "  hello  "; echo err-text >&2'}
      export: {as: '${ . }'}
    - name: err
      kind: RUN
      taskConfig:
        shell: {command: 'echo out-text; echo "  err-text  " >&2'}
        return: stderr
      export: {as: '${ . }'}
    - name: code
      kind: RUN
      taskConfig:
        shell: {command: 'echo some-out; exit 3'}
        return: code
      export: {as: '${ . }'}
    - name: gotcode
      kind: SET
      taskConfig: {variables: {prev: '${ . }'}}
    - name: all
      kind: RUN
      taskConfig:
        script: {language: bash, code: 'echo " a-out "; echo " a-err " >&2; exit 2'}
        return: all
      export: {as: '${ . }'}
    - name: none
      kind: RUN
      taskConfig:
        shell: {command: 'echo ignored'}
        return: none
      export: {as: '${ . }'}
    - name: gotnone
      kind: SET
      taskConfig:
        variables:
          prev: '${ . }'
          ctx: '${ $context }'
EOF
	wex_start rt1 returns
	wait_phase rt1 COMPLETED 20
	assert_eq "$(xj rt1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED,COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(xj rt1 '[.status.tasks[] | .error // ""] | join("")')" ""
	assert_eq "$(xj rt1 '.status.error // ""')" ""
	assert_eq "$(xj rt1 '.status.tasks[0].output | tojson')" '"hello"'
	assert_eq "$(xj rt1 '.status.tasks[1].output | tojson')" '"err-text"'
	assert_eq "$(xj rt1 '.status.tasks[2].output | tojson')" 3
	assert_eq "$(xj rt1 '.status.tasks[3].output | tojson')" '{"prev":3}'
	assert_eq "$(xj rt1 '.status.tasks[4].output | tojson')" \
		'{"code":2,"stdout":"a-out","stderr":"a-err"}'
	assert_eq "$(xj rt1 '.status.tasks[5].output | tojson')" null
	assert_eq "$(xj rt1 '.status.output | tojson')" \
		'{"prev":null,"ctx":{"out":"hello","err":"err-text","code":3,"all":{"code":2,"stdout":"a-out","stderr":"a-err"},"none":null}}'
	# What a task returns does not change what it logs.
	assert_contains "$(wx rt1)/log" err-text
	assert_contains "$(wx rt1)/log" out-text
	assert_contains "$(wx rt1)/log" ignored
}

# A non-zero exit with return stdout, stderr or none fails the task: a
# runtime error, status 500, detail "exit status N", and no output.
t_run_return_failures() {
	run_strict
	wf_put retfail <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: errfail
            kind: RUN
            taskConfig:
              shell: {command: 'echo on-err >&2; exit 5'}
              return: stderr
        catch:
          as: e
          do:
            - name: keep
              kind: SET
              taskConfig: {variables: {caught: '${ $e }'}}
    - name: nonefail
      kind: RUN
      taskConfig:
        shell: {command: 'exit 4'}
        return: none
    - name: after
      kind: RUN
      taskConfig: {shell: {command: 'echo never-printed'}}
EOF
	wex_start rf1 retfail
	wait_phase rf1 FAILED 20
	assert_eq "$(xj rf1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		guard=COMPLETED,guard/errfail=FAILED,guard/catch/keep=COMPLETED,nonefail=FAILED,after=SKIPPED
	assert_eq "$(xj rf1 '.status.tasks[] | select(.id == "guard/errfail") | "\(.error)|\(.output)"')" \
		"exit status 5|null"
	assert_eq "$(xj rf1 '.status.tasks[0].output.caught | [.type, .status, .detail, .instance] | map(tostring) | join("|")')" \
		"https://serverlessworkflow.io/spec/1.0.0/errors/runtime|500|exit status 5|/do/0/guard/try/0/errfail"
	assert_eq "$(xj rf1 '.status.tasks[] | select(.id == "nonefail") | "\(.error)|\(.output)"')" \
		"exit status 4|null"
	assert_eq "$(xj rf1 .status.error)" "task nonefail failed: exit status 4"
	assert_not_contains "$(wx rf1)/log" never-printed
}

# RUN `stdin`: its text (an expression over the task's input here, plain
# text for the script) is the process's standard input; without stdin a
# process reading it gets end of file at once.
t_run_stdin() {
	run_strict
	wf_put stdins <<'EOF'
    - name: txt
      kind: SET
      taskConfig: {variables: {text: hello stdin}}
    - name: up
      kind: RUN
      taskConfig:
        shell: {command: 'tr a-z A-Z', stdin: '${ .text }'}
    - name: eof
      kind: RUN
      taskConfig:
        timeout: 10
        shell: {command: 'cat; echo after-cat'}
    - name: sc
      kind: RUN
      taskConfig:
        script: {language: bash, code: 'read -r l; echo "got:$l"', stdin: plain text}
EOF
	wex_start si1 stdins
	wait_phase si1 COMPLETED 20
	assert_eq "$(xj si1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(xj si1 '.status.tasks[1].output')" "HELLO STDIN"
	assert_eq "$(xj si1 '.status.tasks[2].output')" after-cat
	assert_eq "$(xj si1 '.status.tasks[3].output')" "got:plain text"
	assert_eq "$(xj si1 '.status.output')" "got:plain text"
	assert_contains "$(wx si1)/log" "HELLO STDIN"
}

# max_total_operations counts tasks started, loops through flow.then too.
t_run_max_total_operations() {
	run_strict
	remount_execfs max_total_operations=5
	wf_put loop <<'EOF'
    - name: again
      kind: RUN
      taskConfig: {shell: {command: "echo round"}}
      flow: {then: again}
EOF
	wex_start l1 loop
	wait_phase l1 FAILED 20
	assert_eq "$(xj l1 .status.error)" "limit max_total_operations (5) exceeded"
	assert_eq "$(grep -c '^round$' "$(wx l1)/log")" 5
}

# A Workflow using a kind execfs does not run is refused when
# written, naming the kind.
t_run_unsupported_kind_refused() {
	run_strict
	# Kinds Stigmer names that execfs does not run, at the top level and
	# nested in a FOR.
	cat >"$TDIR/ls.yaml" <<'EOF'
metadata: {name: ls}
spec:
  document: {dsl: 1.0.0, namespace: e2e, name: ls, version: 1.0.0}
  tasks:
    - name: wait-signal
      kind: LISTEN
      taskConfig: {to: {mode: one, signals: [{id: go, type: signal}]}}
EOF
	expect_fail EBADMSG cp "$TDIR/ls.yaml" "$MNT/workflows/"
	assert_error_line workflows/ls.yaml EBADMSG "task kind LISTEN is not supported by execfs"
	assert_absent "$MNT/workflows/ls"
	cat >"$TDIR/gr.yaml" <<'EOF'
metadata: {name: gr}
spec:
  document: {dsl: 1.0.0, namespace: e2e, name: gr, version: 1.0.0}
  tasks:
    - name: loop
      kind: FOR
      taskConfig:
        in: [1, 2]
        do:
          - {name: call, kind: GRPC_CALL, taskConfig: {service: s, method: m}}
EOF
	expect_fail EBADMSG cp "$TDIR/gr.yaml" "$MNT/workflows/"
	assert_error_line workflows/gr.yaml EBADMSG "do[0].kind: task kind GRPC_CALL is not supported by execfs"
	assert_absent "$MNT/workflows/gr"
}

run_tests "$@"
