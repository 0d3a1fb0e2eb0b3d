#!/usr/bin/env bash
# t_flow.sh - control flow (issue 4, under the DSL 1.0 data flow of issue
# 11): a task's `.` is its input, the previous task's output (the first
# gets the workflow input); export.as is an expression over the output,
# read back as $context["<task>"]; SWITCH passes its input on and takes
# the case whose `when` holds, else its default case; FOR chains its
# iterations and outputs the last one's output; FORK runs branches in
# parallel under max_parallel and outputs the array of their outputs (with
# `compete` the first to finish wins, its output is the FORK's, the others
# are cancelled); TRY catches a failing task or a RAISE and binds the DSL
# error object (instance a JSON Pointer), a TRY without catch propagates,
# a catch without do swallows; RUN outputs its trimmed stdout; `${ }`
# expressions in SET, RUN arguments and environment and RAISE; secrets in
# expressions stay hidden; nested paths in status and events; dry runs
# trace the choices and run nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

ERRS=https://serverlessworkflow.io/spec/1.0.0/errors

# ---- SWITCH ---------------------------------------------------------------

# switch_wf NAME: pick -> large (n > 10) or, by the default case (listed
# first, taken only when no other case matches), small; small jumps over
# large.  The SWITCH passes its input on: large sees the workflow input.
switch_wf() {
	wf_put "$1" <<'EOF'
    - name: pick
      kind: SWITCH
      taskConfig:
        cases:
          - {name: other, then: small}
          - {name: big, when: '${ .n > 10 }', then: large}
    - name: small
      kind: RUN
      taskConfig: {shell: {command: 'echo "small-ran n=$1"', arguments: ['${ .n }']}}
      flow: {then: done}
    - name: large
      kind: RUN
      taskConfig: {shell: {command: 'echo "large-ran n=$1"', arguments: ['${ .n }']}}
    - name: done
      kind: RUN
      taskConfig: {shell: {command: 'echo "done-ran after=$1"', arguments: ['${ . }']}}
EOF
}

t_flow_switch_branches() {
	run_strict
	switch_wf sw
	wex_start s20 sw "$(trig '{"n": 20}')"
	wex_start s1 sw "$(trig '{"n": 1}')"
	wait_phase s20 COMPLETED 20
	wait_phase s1 COMPLETED 20
	# n = 20: case big, large runs, small is skipped.
	assert_eq "$(xj s20 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		pick=COMPLETED,small=SKIPPED,large=COMPLETED,done=COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx s20)/log")" "large-ran n=20 done-ran after=large-ran n=20 "
	# The SWITCH's output is its input.
	assert_eq "$(tj s20 pick '.output | tojson')" '{"n":20}'
	assert_eq "$(tj s20 large .output)" "large-ran n=20"
	assert_eq "$(xj s20 .status.output)" "done-ran after=large-ran n=20"
	assert_eq "$(evq s20 'map(select(.type == "phase") | "\(.task):\(.status)") | join(" ")')" \
		"pick:IN_PROGRESS pick:COMPLETED large:IN_PROGRESS large:COMPLETED done:IN_PROGRESS done:COMPLETED"
	# n = 1: no case holds, the default (other) is taken although listed
	# first; small runs and jumps over large.
	assert_eq "$(xj s1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		pick=COMPLETED,small=COMPLETED,large=SKIPPED,done=COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx s1)/log")" "small-ran n=1 done-ran after=small-ran n=1 "
	assert_eq "$(tj s1 pick '.output | tojson')" '{"n":1}'
	assert_eq "$(xj s1 .status.output)" "done-ran after=small-ran n=1"
	assert_eq "$(ev_count s1 '.task == "large"')" 0
	assert_eq "$(xj s1 '.status.error // ""')" ""
}

# No case matches and there is no default case: the run goes on with the
# SWITCH's flow.then (continue when absent), the SWITCH's input passed on.
t_flow_switch_no_match_continues() {
	run_strict
	wf_put sw2 <<'EOF'
    - name: pick
      kind: SWITCH
      taskConfig:
        cases:
          - {name: big, when: '${ .n > 10 }', then: last}
          - {name: null-is-false, when: '${ null }', then: last}
    - name: middle
      kind: RUN
      taskConfig: {shell: {command: 'echo "middle-ran n=$1"', arguments: ['${ .n }']}}
    - name: last
      kind: RUN
      taskConfig: {shell: {command: 'echo "last-ran in=$1"', arguments: ['${ . | tostring }']}}
EOF
	wf_put sw3 <<'EOF'
    - name: pick
      kind: SWITCH
      taskConfig:
        cases:
          - {name: big, when: '${ .n > 10 }', then: continue}
      flow: {then: last}
    - name: middle
      kind: RUN
      taskConfig: {shell: {command: "echo middle-ran"}}
    - name: last
      kind: RUN
      taskConfig: {shell: {command: 'echo "last-ran in=$1"', arguments: ['${ . | tostring }']}}
EOF
	wex_start nm sw2 "$(trig '{"n": 3}')"
	wex_start jm sw2 "$(trig '{"n": 30}')"
	wex_start nt sw3 "$(trig '{"n": 3}')"
	wex_start ct sw3 "$(trig '{"n": 30}')"
	wait_phase nm COMPLETED 20
	wait_phase jm COMPLETED 20
	wait_phase nt COMPLETED 20
	wait_phase ct COMPLETED 20
	assert_eq "$(tr '\n' ' ' <"$(wx nm)/log")" "middle-ran n=3 last-ran in=middle-ran n=3 "
	assert_eq "$(xj nm '[.status.tasks[].status] | join(",")')" COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(tj nm pick '.output | tojson')" '{"n":3}'
	assert_eq "$(tr '\n' ' ' <"$(wx jm)/log")" 'last-ran in={"n":30} '
	assert_eq "$(xj jm '[.status.tasks[].status] | join(",")')" COMPLETED,SKIPPED,COMPLETED
	# sw3: no match -> the SWITCH's flow.then (last); the case -> continue.
	assert_eq "$(tr '\n' ' ' <"$(wx nt)/log")" 'last-ran in={"n":3} '
	assert_eq "$(xj nt '[.status.tasks[].status] | join(",")')" COMPLETED,SKIPPED,COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx ct)/log")" "middle-ran last-ran in=middle-ran "
	assert_eq "$(xj ct '[.status.tasks[].status] | join(",")')" COMPLETED,COMPLETED,COMPLETED
}

# ---- FOR ------------------------------------------------------------------

# Iteration k's input is iteration k-1's output (the first gets the FOR's
# input); the FOR's output is the last iteration's output.
t_flow_for_list() {
	run_strict
	wf_put loopy <<'EOF'
    - name: loop
      kind: FOR
      taskConfig:
        each: letter
        at: i
        in: '${ .items }'
        do:
          - name: step
            kind: RUN
            taskConfig:
              shell:
                command: 'echo "it-$1<-$2"'
                arguments: ['${ "\($i):\($letter)" }', '${ if $i == 0 then "start:\(.items | length)" else .[0:6] end }']
      export: {as: '${ . }'}
    - name: plain
      kind: FOR
      taskConfig:
        in: [10, 20, 30]
        do:
          - name: add
            kind: SET
            taskConfig: {variables: {sums: '${ (.sums? // []) + [$item + $index] }'}}
    - name: final
      kind: SET
      taskConfig: {variables: {loop: '${ $context["loop"] }', sums: '${ .sums }'}}
EOF
	wex_start f1 loopy "$(trig '{"items": ["a", "b", "c", "d", "e"]}')"
	wait_phase f1 COMPLETED 30
	# Each iteration saw the previous one's output.
	assert_eq "$(tr '\n' ' ' <"$(wx f1)/log")" \
		"it-0:a<-start:5 it-1:b<-it-0:a it-2:c<-it-1:b it-3:d<-it-2:c it-4:e<-it-3:d "
	# The FOR's output: the last iteration's; exported, read back.
	assert_eq "$(tj f1 loop .output)" "it-4:e<-it-3:d"
	assert_eq "$(tj f1 plain '.output | tojson')" '{"sums":[10,21,32]}'
	assert_eq "$(xj f1 '.status.output | tojson')" '{"loop":"it-4:e<-it-3:d","sums":[10,21,32]}'
	# One status entry per definition; a loop's entry shows the last pass.
	assert_eq "$(ids f1)" "loop,loop/step,plain,plain/add,final"
	assert_eq "$(xj f1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(tj f1 loop/step .output)" "it-4:e<-it-3:d"
	assert_eq "$(tj f1 plain/add '.output | tojson')" '{"sums":[10,21,32]}'
	assert_eq "$(tj f1 loop/step .kind)" RUN
	assert_eq "$(tj f1 loop .kind)" FOR
	# Events: five pairs for the nested path, with the iteration index.
	assert_eq "$(phases_of f1 loop/step)" \
		"IN_PROGRESS:0 COMPLETED:0 IN_PROGRESS:1 COMPLETED:1 IN_PROGRESS:2 COMPLETED:2 IN_PROGRESS:3 COMPLETED:3 IN_PROGRESS:4 COMPLETED:4"
	assert_eq "$(phases_of f1 loop)" "IN_PROGRESS:- COMPLETED:-"
	assert_eq "$(phases_of f1 plain/add)" \
		"IN_PROGRESS:0 COMPLETED:0 IN_PROGRESS:1 COMPLETED:1 IN_PROGRESS:2 COMPLETED:2"
	assert_eq "$(evq f1 'map(select(.type == "line") | "\(.task)#\(.iteration)=\(.text)") | join(" ")')" \
		"loop/step#0=it-0:a<-start:5 loop/step#1=it-1:b<-it-0:a loop/step#2=it-2:c<-it-1:b loop/step#3=it-3:d<-it-2:c loop/step#4=it-4:e<-it-3:d"
	# Progress counts the three top-level tasks; the summary every task run.
	assert_eq "$(xj f1 '"\(.status.progress.done)/\(.status.progress.total)"')" 3/3
	assert_eq "$(xj f1 '.status.summary | "\(.total) \(.completed)"')" "11 11"
	assert_eq "$(evq f1 '.[-1] | "\(.type) \(.phase)"')" "complete COMPLETED"
}

# ---- nested paths -----------------------------------------------------------

t_flow_nested_paths() {
	run_strict
	wf_put nest <<'EOF'
    - name: fork1
      kind: FORK
      taskConfig:
        branches:
          - name: branchA
            do:
              - {name: step1, kind: SET, taskConfig: {variables: {a: one}}}
              - {name: step2, kind: RUN, taskConfig: {shell: {command: 'echo "a-step2 $1"', arguments: ['${ .a }']}}}
          - name: branchB
            do:
              - {name: step1, kind: RUN, taskConfig: {shell: {command: "echo b-step1"}}}
      export: {as: '${ . }'}
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - {name: step, kind: RUN, taskConfig: {shell: {command: "exit 2"}}}
        catch:
          do:
            - {name: step, kind: SET, taskConfig: {variables: {caught: yes-caught}}}
    - name: after
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "after-ran $1 $2"'
          arguments: ['${ .caught }', '${ $context["fork1"] | join("+") }']
EOF
	wex_start n1 nest
	wait_phase n1 COMPLETED 20
	assert_eq "$(ids n1)" \
		"fork1,fork1/branchA/step1,fork1/branchA/step2,fork1/branchB/step1,guard,guard/step,guard/catch/step,after"
	assert_eq "$(xj n1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED,COMPLETED,FAILED,COMPLETED,COMPLETED
	assert_eq "$(xj n1 '[.status.tasks[].name] | join(",")')" \
		fork1,step1,step2,step1,guard,step,step,after
	assert_eq "$(tj n1 fork1/branchA/step2 .output)" "a-step2 one"
	assert_eq "$(tj n1 guard/step .exitCode)" 2
	assert_eq "$(tj n1 guard/catch/step '.output | tojson')" '{"caught":"yes-caught"}'
	# The FORK's output: its branches' outputs, in branch order.
	assert_eq "$(tj n1 fork1 '.output | tojson')" '["a-step2 one","b-step1"]'
	assert_eq "$(tj n1 guard '.output | tojson')" '{"caught":"yes-caught"}'
	assert_eq "$(xj n1 .status.output)" "after-ran yes-caught a-step2 one+b-step1"
	# Events name tasks by path.
	assert_eq "$(evq n1 '[.[] | select(.type == "phase") | .task] | unique | join(",")')" \
		"after,fork1,fork1/branchA/step1,fork1/branchA/step2,fork1/branchB/step1,guard,guard/catch/step,guard/step"
	assert_eq "$(evq n1 'map(select(.type == "line") | "\(.task)=\(.text)") | sort | join(" ")')" \
		"after=after-ran yes-caught a-step2 one+b-step1 fork1/branchA/step2=a-step2 one fork1/branchB/step1=b-step1"
	assert_eq "$(phases_of n1 fork1/branchA/step2)" "IN_PROGRESS:- COMPLETED:-"
	assert_eq "$(xj n1 '"\(.status.progress.done)/\(.status.progress.total)"')" 3/3
}

# ---- FORK ---------------------------------------------------------------------

# conc_script: $TDIR/conc.sh DIR LABEL counts the tasks running it at once
# in DIR/cur (under a lock), keeps the highest count seen in DIR/max, stays
# 1 s, appends a line to DIR/done when it ends and prints "worked-LABEL".
conc_script() {
	cat >"$TDIR/conc.sh" <<'EOF'
L=$1
exec 9>>"$L/lock"
flock 9
c=$(( $(cat "$L/cur") + 1 ))
echo "$c" >"$L/cur"
[ "$c" -le "$(cat "$L/max")" ] || echo "$c" >"$L/max"
flock -u 9
sleep 1
flock 9
echo $(( $(cat "$L/cur") - 1 )) >"$L/cur"
echo "$c" >>"$L/done"
flock -u 9
echo "worked-$2"
EOF
}

# conc_reset DIR: fresh counters.
conc_reset() {
	rm -rf "$1"
	mkdir -p "$1"
	echo 0 >"$1/cur"
	echo 0 >"$1/max"
}

t_flow_fork_max_parallel() {
	run_strict
	local t0 el
	conc_script
	wf_tpl conc T="$TDIR" <<'EOF'
    - name: fan
      kind: FORK
      taskConfig:
        branches:
          - {name: b1, do: [{name: work, kind: RUN, taskConfig: {shell: {command: 'bash @T@/conc.sh @T@/c "b1-$1"', arguments: ['${ .tag }']}}}]}
          - {name: b2, do: [{name: work, kind: RUN, taskConfig: {shell: {command: 'bash @T@/conc.sh @T@/c "b2-$1"', arguments: ['${ .tag }']}}}]}
          - {name: b3, do: [{name: work, kind: RUN, taskConfig: {shell: {command: 'bash @T@/conc.sh @T@/c "b3-$1"', arguments: ['${ .tag }']}}}]}
          - {name: b4, do: [{name: work, kind: RUN, taskConfig: {shell: {command: 'bash @T@/conc.sh @T@/c "b4-$1"', arguments: ['${ .tag }']}}}]}
EOF
	# The default (10 slots): the four branches run at once, so the
	# counter can see more than two.
	conc_reset "$TDIR/c"
	wex_start p10 conc "$(trig '{"tag": "x"}')"
	wait_phase p10 COMPLETED 30
	assert_eq "$(cat "$TDIR/c/max")" 4 "tasks at once with max_parallel=10"
	assert_eq "$(wc -l <"$TDIR/c/done")" 4
	# max_parallel=2: exactly two at once, so at least two rounds of 1 s.
	remount_execfs max_parallel=2
	conc_reset "$TDIR/c"
	t0=$(date +%s%N)
	wex_start p2 conc "$(trig '{"tag": "y"}')"
	wait_phase p2 COMPLETED 30
	el=$(( ($(date +%s%N) - t0) / 1000000 ))
	assert_eq "$(cat "$TDIR/c/max")" 2 "tasks at once with max_parallel=2"
	assert_eq "$(wc -l <"$TDIR/c/done")" 4
	assert_eq "$(cat "$TDIR/c/cur")" 0
	(( el >= 2000 )) || die "four 1 s tasks two at a time took only $el ms"
	assert_eq "$(xj p2 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		fan=COMPLETED,fan/b1/work=COMPLETED,fan/b2/work=COMPLETED,fan/b3/work=COMPLETED,fan/b4/work=COMPLETED
	# Each branch got the FORK's input; the output is the array of the
	# branches' outputs in branch order, whatever order they ended in.
	assert_eq "$(tj p2 fan '.output | tojson')" '["worked-b1-y","worked-b2-y","worked-b3-y","worked-b4-y"]'
	assert_eq "$(xj p2 '.status.output | tojson')" '["worked-b1-y","worked-b2-y","worked-b3-y","worked-b4-y"]'
	assert_eq "$(grep -c '^worked-b[1-4]-y$' "$(wx p2)/log")" 4
}

t_flow_fork_compete() {
	run_strict
	local m
	m=$(new_marker)
	wf_tpl race T="$TDIR" M="$m" <<'EOF'
    - name: race
      kind: FORK
      taskConfig:
        compete: true
        branches:
          - name: slow
            do:
              - name: nap
                kind: RUN
                taskConfig:
                  script: {language: bash, code: "touch @T@/slow-started; exec -a @M@ sleep 600"}
              - {name: never, kind: RUN, taskConfig: {shell: {command: "touch @T@/never"}}}
          - name: fast
            do:
              - name: quick
                kind: RUN
                taskConfig:
                  script:
                    language: bash
                    code: "for i in $(seq 1 100); do [ -e @T@/slow-started ] && break; sleep 0.1; done; echo fast-won"
      export: {as: '${ . }'}
    - name: after
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "after-race $1 $2"'
          arguments: ['${ $context["race"] }', '${ . }']
EOF
	wex_start r1 race
	wait_phase r1 COMPLETED 30
	wait_no_proc "$m" 5
	assert_file "$TDIR/slow-started"
	assert_absent "$TDIR/never"
	assert_eq "$(xj r1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		race=COMPLETED,race/slow/nap=CANCELLED,race/slow/never=SKIPPED,race/fast/quick=COMPLETED,after=COMPLETED
	# Only the winner's output: the FORK's output, its export, the next
	# task's input.
	assert_eq "$(tj r1 race '.output | tojson')" '"fast-won"'
	assert_eq "$(tj r1 after .output)" "after-race fast-won fast-won"
	assert_eq "$(xj r1 .status.output)" "after-race fast-won fast-won"
	assert_eq "$(evq r1 'map(select(.type == "phase" and .task == "race/slow/nap")) | .[-1].status')" CANCELLED
	assert_eq "$(ev_count r1 '.task == "race/slow/never"')" 0
	assert_contains "$(wx r1)/log" "after-race fast-won fast-won"
	assert_eq "$(xj r1 '.status.error // ""')" ""
}

# ---- TRY ----------------------------------------------------------------------

# A failing task in the try list is caught; catch.do gets the TRY's input
# and $err, the DSL error object; its output is the TRY's.
t_flow_try_catches_failure() {
	run_strict
	wf_tpl tryit T="$TDIR" <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: bad
            kind: RUN
            taskConfig: {shell: {command: "echo failing-now; exit 3"}}
          - name: unreached
            kind: RUN
            taskConfig: {shell: {command: "touch @T@/unreached"}}
        catch:
          as: err
          do:
            - name: record
              kind: SET
              taskConfig:
                variables:
                  status: '${ $err.status }'
                  type: '${ $err.type }'
                  title: '${ $err.title }'
                  instance: '${ $err.instance }'
                  detail: '${ $err.detail }'
                  keys: '${ $err | keys }'
                  k: '${ .k }'
              export: {as: '${ {status, instance} }'}
    - name: later
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "later-ran k=$1 status=$2 at=$3"'
          arguments: ['${ .k }', '${ $context["record"].status }', '${ $context["record"].instance }']
EOF
	wex_start c1 tryit "$(trig '{"k": "v1"}')"
	wait_phase c1 COMPLETED 20
	assert_eq "$(tstat c1 guard/bad)" FAILED
	assert_eq "$(tj c1 guard/bad .exitCode)" 3
	assert_eq "$(tj c1 guard/bad .error)" "exit status 3"
	assert_eq "$(tj c1 guard/bad 'has("output")')" false
	assert_not_completed c1 guard/unreached
	assert_absent "$TDIR/unreached"
	assert_eq "$(tstat c1 guard)" COMPLETED
	assert_eq "$(tstat c1 guard/catch/record)" COMPLETED
	# A RUN exiting non-zero: runtime, 500, detail "exit status N",
	# instance the JSON Pointer of the failed task.
	assert_eq "$(tj c1 guard '.output | "\(.status|type) \(.status) \(.type) \(.instance) \(.detail) \(.k)"')" \
		"number 500 $ERRS/runtime /do/0/guard/try/0/bad exit status 3 v1"
	assert_eq "$(tj c1 guard '.output.keys | join(",")')" detail,instance,status,title,type
	assert_eq "$(tj c1 guard '.output.title | type')" string
	assert_eq "$(tstat c1 later)" COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx c1)/log")" \
		"failing-now later-ran k=v1 status=500 at=/do/0/guard/try/0/bad "
	assert_eq "$(xj c1 '.status.error // ""')" ""
	assert_eq "$(evq c1 'map(select(.type == "phase" and .task == "guard/bad")) | .[-1] | "\(.status) \(.exitCode)"')" \
		"FAILED 3"
	assert_eq "$(evq c1 '.[-1] | "\(.type) \(.phase)"')" "complete COMPLETED"
}

# A TRY without catch does not catch: the failure is the TRY's and the
# run's.  A catch without do (and without retry) swallows the failure:
# the TRY's output is its input.
t_flow_try_without_catch_do() {
	run_strict
	wf_put trynocatch <<'EOF'
    - name: bare
      kind: TRY
      taskConfig:
        try:
          - {name: bad, kind: RUN, taskConfig: {shell: {command: "exit 9"}}}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
	wf_put tryswallow <<'EOF'
    - name: named
      kind: TRY
      taskConfig:
        try:
          - {name: bad, kind: RUN, taskConfig: {shell: {command: "exit 8"}}}
        catch: {as: e}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: 'echo "later-ran $1"', arguments: ['${ .k }']}}
EOF
	wex_start c2 trynocatch "$(trig '{"k": "kept"}')"
	wex_start c3 tryswallow "$(trig '{"k": "kept"}')"
	wait_phase c2 FAILED 20
	wait_phase c3 COMPLETED 20
	assert_eq "$(tstat c2 bare/bad)" FAILED
	assert_eq "$(tstat c2 bare)" FAILED
	assert_not_completed c2 later
	assert_eq "$(tj c2 bare/bad .exitCode)" 9
	assert_eq "$(xj c2 .status.error)" "task bare/bad failed: exit status 9"
	assert_not_contains "$(wx c2)/log" later-ran
	assert_eq "$(xj c3 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		named=COMPLETED,named/bad=FAILED,later=COMPLETED
	assert_eq "$(tj c3 named/bad .exitCode)" 8
	assert_eq "$(tj c3 named '.output | tojson')" '{"k":"kept"}'
	assert_eq "$(xj c3 .status.output)" "later-ran kept"
	assert_eq "$(xj c3 '.status.error // ""')" ""
}

# A RAISE is caught like a failure: a name that is not one of the standard
# errors is the type as written, status 500, message the detail; a
# standard name is its URI and status.
t_flow_try_catches_raise() {
	run_strict
	wf_put tryraise <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - {name: boom, kind: RAISE, taskConfig: {error: quota-exceeded, message: "too many widgets"}}
          - {name: unreached, kind: RUN, taskConfig: {shell: {command: "echo unreached-ran"}}}
        catch:
          do:
            - name: record
              kind: SET
              taskConfig:
                variables:
                  type: '${ $error.type }'
                  status: '${ $error.status }'
                  detail: '${ $error.detail }'
                  instance: '${ $error.instance }'
      export: {as: '${ . }'}
    - name: std
      kind: TRY
      taskConfig:
        try:
          - {name: late, kind: RAISE, taskConfig: {error: timeout, message: "took too long"}}
        catch:
          errors: {with: {type: 'https://serverlessworkflow.io/spec/1.0.0/errors/timeout', status: 408}}
          do:
            - name: record
              kind: SET
              taskConfig:
                variables:
                  type: '${ $error.type }'
                  status: '${ $error.status }'
                  detail: '${ $error.detail }'
                  instance: '${ $error.instance }'
    - name: later
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "later-ran $1 $2"'
          arguments: ['${ $context["guard"].type }', '${ .status }']
EOF
	wex_start c3 tryraise
	wait_ended c3 20
	assert_eq "$(tstat c3 guard/boom)" FAILED
	tj c3 guard/boom .error | grep -qF "too many widgets" ||
		die "guard/boom error: $(tj c3 guard/boom .error)"
	assert_eq "$(tj c3 guard '.output | "\(.type)|\(.status)|\(.instance)|\(.detail)"')" \
		"quota-exceeded|500|/do/0/guard/try/0/boom|too many widgets"
	assert_eq "$(tstat c3 guard)" COMPLETED
	assert_eq "$(tj c3 std '.output | "\(.type)|\(.status)|\(.instance)|\(.detail)"')" \
		"$ERRS/timeout|408|/do/1/std/try/0/late|took too long"
	assert_eq "$(tstat c3 std)" COMPLETED
	assert_eq "$(phase_of c3)" COMPLETED
	assert_not_contains "$(wx c3)/log" unreached-ran
	assert_eq "$(xj c3 .status.output)" "later-ran quota-exceeded 408"
}

# ---- expressions ----------------------------------------------------------------

# `.` is the task's input (the workflow input for the first task, the
# previous task's output after); $workflow, $task, $runtime, $input and
# $context (exports) are bound.
t_flow_expressions() {
	run_strict
	local d
	wf_put exprs <<'EOF'
    - name: calc
      kind: SET
      taskConfig:
        variables:
          n2: '${ .n * 2 }'
          same: '  ${ .n }  '
          text: 'n=${ .n } who=${ .who } obj=${ .nested }'
          deep: {list: ['${ .n + 1 }', plain], flag: '${ .n > 10 }'}
          braces: '${ {"a": {"b": "}"}} | .a.b }'
          trig: '${ $workflow.input.n }'
          args: '${ "\($task.name) \($task.reference) \($runtime.name) \($input == .)" }'
          none: '${ empty }'
      export: {as: '${ {n2, deep} }'}
    - name: reuse
      kind: SET
      taskConfig:
        variables:
          msg: 'double is ${ .n2 }'
          back: '${ .deep.list[0] }'
          ctx: '${ $context["calc"] | keys | join(",") }'
          input: '${ $input | has("text") }'
    - name: show
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "argc=$# 1=$1 2=$2 env=$FROM_EXPR mixed=$MIXED"'
          arguments: ['${ $workflow.input.who }', 'pre-${ .msg }-post']
          environment: {FROM_EXPR: '${ $workflow.input.nested.k }', MIXED: 'x${ $context["calc"].n2 }y'}
    - name: literal
      kind: RUN
      taskConfig:
        script: {language: bash, code: 'X=shell-var; echo "lit=${X} in=$(cat | wc -c)"'}
EOF
	wex_start e1 exprs "$(trig '{"n": 20, "who": "ada lovelace", "nested": {"k": "deep-value"}}')"
	d=$(wx e1)
	wait_phase e1 COMPLETED 20
	# A whole-string expression keeps its JSON type; others interpolate.
	assert_eq "$(tj e1 calc '.output.n2 | "\(type) \(.)"')" "number 40"
	assert_eq "$(tj e1 calc '.output.same | "\(type) \(.)"')" "number 20"
	assert_eq "$(tj e1 calc '.output.text')" 'n=20 who=ada lovelace obj={"k":"deep-value"}'
	assert_eq "$(tj e1 calc '.output.deep | tojson')" '{"list":[21,"plain"],"flag":true}'
	assert_eq "$(tj e1 calc '.output.braces')" '}'
	assert_eq "$(tj e1 calc '.output.trig')" 20
	assert_eq "$(tj e1 calc '.output.args')" "calc /do/0/calc execfs true"
	assert_eq "$(tj e1 calc '.output | has("none")')" true
	assert_eq "$(tj e1 calc '.output.none | type')" null
	# From the previous task's output and from an earlier export.
	assert_eq "$(tj e1 reuse '.output | "\(.msg)|\(.back)|\(.ctx)|\(.input)"')" \
		"double is 40|21|deep,n2|true"
	# Arguments and environment reach the process; command is shell.
	assert_eq "$(sed -n 1p "$d/log")" \
		"argc=2 1=ada lovelace 2=pre-double is 40-post env=deep-value mixed=x40y"
	assert_eq "$(sed -n 2p "$d/log")" "lit=shell-var in=0"
	assert_eq "$(wc -l <"$d/log")" 2
	# A RUN's output is its stdout, trimmed; the workflow's, the last task's.
	assert_eq "$(tj e1 show .output)" \
		"argc=2 1=ada lovelace 2=pre-double is 40-post env=deep-value mixed=x40y"
	assert_eq "$(xj e1 '.status.output | tojson')" '"lit=shell-var in=0"'
}

# The workflow input is the triggerMessage parsed when it is JSON, else
# the text, and {} when there is none.
t_flow_expression_input_forms() {
	run_strict
	wf_put inp <<'EOF'
    - name: see
      kind: SET
      taskConfig: {variables: {input: '${ . }', kind: '${ type }', wf: '${ $workflow.input == . }'}}
EOF
	wex_start i1 inp "$(trig 'just some text')"
	wex_start i2 inp
	wex_start i3 inp "$(trig '[1, 2]')"
	wait_phase i1 COMPLETED 20
	wait_phase i2 COMPLETED 20
	wait_phase i3 COMPLETED 20
	assert_eq "$(xj i1 '.status.output | "\(.kind) \(.input) \(.wf)"')" "string just some text true"
	assert_eq "$(xj i2 '.status.output | "\(.kind) \(.input | tojson) \(.wf)"')" "object {} true"
	assert_eq "$(xj i3 '.status.output | "\(.kind) \(.input | tojson) \(.wf)"')" "array [1,2] true"
}

# RAISE's error and message are expressions; an evaluation error fails
# the task with an expression error (400).
t_flow_expression_raise_and_failure() {
	run_strict
	wf_put raisex <<'EOF'
    - name: boom
      kind: RAISE
      taskConfig: {error: '${ "bad-" + .kind }', message: 'n was ${ .n }, who ${ .who }'}
EOF
	wf_put evalfail <<'EOF'
    - name: ok
      kind: SET
      taskConfig: {variables: {a: 1}}
    - name: broken
      kind: SET
      taskConfig: {variables: {v: '${ .a.foo }'}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wf_put evalcaught <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - {name: ok, kind: SET, taskConfig: {variables: {a: 1}}}
          - {name: broken, kind: SET, taskConfig: {variables: {v: '${ .a.foo }'}}}
        catch:
          as: err
          errors: {with: {type: 'https://serverlessworkflow.io/spec/1.0.0/errors/expression', status: 400}}
          do:
            - {name: record, kind: SET, taskConfig: {variables: {e: '${ $err }'}}}
EOF
	wex_start x1 raisex "$(trig '{"n": 20, "kind": "input", "who": "bob"}')"
	wex_start x2 evalfail "$(trig '{"n": 20}')"
	wex_start x3 evalcaught
	wait_phase x1 FAILED 20
	wait_phase x2 FAILED 20
	wait_ended x3 20
	# The string form: the name is the type (status 500), the message
	# the detail.
	tj x1 boom .error | grep -qF "n was 20, who bob" ||
		die "boom's error: $(tj x1 boom .error)"
	assert_eq "$(xj x1 .status.error)" "task boom failed: n was 20, who bob"
	assert_eq "$(xj x2 '[.status.tasks[].status] | join(",")')" COMPLETED,FAILED,SKIPPED
	tj x2 broken .error | grep -q 'Cannot index number' ||
		die "evaluation error: $(tj x2 broken .error)"
	xj x2 .status.error | grep -q '^task broken failed: .*Cannot index number' ||
		die "status.error: $(xj x2 .status.error)"
	assert_not_contains "$(wx x2)/log" after-ran
	# Caught: an expression error, 400, at the SET's JSON Pointer.
	assert_eq "$(tj x3 guard '.output.e | "\(.type) \(.status) \(.instance)"')" \
		"https://serverlessworkflow.io/spec/1.0.0/errors/expression 400 /do/0/guard/try/1/broken"
	tj x3 guard .output.e.detail | grep -q 'Cannot index number' ||
		die "caught detail: $(tj x3 guard .output.e.detail)"
	assert_eq "$(phase_of x3)" COMPLETED
}

# ${ .secrets.X } is the secret's value for the task, and *** in status,
# events and everywhere else.
t_flow_expression_secret() {
	run_strict
	local s sha d
	s="fl0w-s3cr3t-${RANDOM}${RANDOM}-zq"
	sha=$(printf %s "$s" | sha256sum | cut -c1-64)
	wf_tpl secx SHA="$sha" <<'EOF'
    - name: grab
      kind: SET
      taskConfig:
        variables:
          tok: '${.secrets.TOKEN}'
          tok2: '${ $secrets.TOKEN }'
          names: '${ $secrets | keys }'
          plain: '${.env_vars.PLAIN}'
          plainIsSecret: '${ $secrets | has("PLAIN") }'
      export: {as: '${ . }'}
    - name: use
      kind: RUN
      taskConfig:
        shell:
          command: 'if [ "$(printf %s "$GOT" | sha256sum | cut -c1-64)" = "$1" ]; then echo secret-ok; else echo secret-bad; fi; if [ "$GOT2" = "$GOT" ]; then echo same-ok; fi; echo "got=$GOT"'
          arguments: ['@SHA@']
          environment: {GOT: '${ .secrets.TOKEN }', GOT2: '${ $context["grab"].tok2 }'}
EOF
	wex_start sx secx "$(cat <<EOF
  runtimeEnv:
    TOKEN: {value: $(yq_str "$s"), isSecret: true}
    PLAIN: {value: visible}
EOF
)"
	d=$(wx sx)
	wait_phase sx COMPLETED 20
	assert_eq "$(tj sx grab .output.tok)" '***'
	assert_eq "$(tj sx grab .output.tok2)" '***'
	assert_eq "$(tj sx grab '.output | "\(.names | tojson) \(.plain) \(.plainIsSecret)"')" \
		'["TOKEN"] visible false'
	# The task got the real value (else hiding it proves nothing).
	assert_contains "$d/log" secret-ok
	assert_contains "$d/log" same-ok
	assert_not_contains "$d/log" secret-bad
	assert_contains "$d/log" 'got=***'
	assert_eq "$(xj sx '.status.output | tojson')" '"secret-ok\nsame-ok\ngot=***"'
	assert_contains "$d/status.yaml" '***'
	wait_until 10 test ! -e "$MNT/executioncontexts/sx-ctx"
	if grep -r -a -l -F --exclude-dir=follow --exclude=ctl -- "$s" "$STATE" "$MNT" "$DLOG"; then
		die "the secret is in a file of the state directory, the mount or the log"
	fi
	assert_file "$STATE/data.mdb"
	assert_not_contains "$STATE/data.mdb" "$s"
}

# ---- a mix ----------------------------------------------------------------------

# FOR containing a SWITCH whose cases set values carried from iteration to
# iteration; FORK containing a TRY; exports shaped by their expressions; a
# last SET reads them all.
t_flow_mix() {
	run_strict
	wf_put mix <<'EOF'
    - name: each
      kind: FOR
      taskConfig:
        each: n
        in: [1, 2, 3, 4]
        do:
          - name: parity
            kind: SWITCH
            taskConfig:
              cases:
                - {name: even, when: '${ $n % 2 == 0 }', then: even}
                - {name: odd, then: odd}
          - name: odd
            kind: SET
            taskConfig: {variables: {v: '${ "odd-\($n)" }', acc: '${ .acc }'}}
            flow: {then: done}
          - name: even
            kind: SET
            taskConfig: {variables: {v: '${ "even-\($n)" }', acc: '${ .acc }'}}
          - name: done
            kind: SET
            taskConfig: {variables: {acc: '${ (.acc // []) + [.v + "!"] }'}}
      export: {as: '${ .acc }'}
    - name: both
      kind: FORK
      taskConfig:
        branches:
          - name: risky
            do:
              - name: attempt
                kind: TRY
                taskConfig:
                  try:
                    - {name: fail, kind: RUN, taskConfig: {shell: {command: "exit 5"}}}
                  catch:
                    as: e
                    do:
                      - name: fallback
                        kind: SET
                        taskConfig: {variables: {code: '${ $e.status }', at: '${ $e.instance }', seen: '${ .acc | length }'}}
          - name: calm
            do:
              - {name: hello, kind: SET, taskConfig: {variables: {msg: calm}}}
      export: {as: '${ {fallback: .[0], calm: .[1].msg} }'}
    - name: final
      kind: SET
      taskConfig:
        variables:
          line: '${ $context["each"] | join(",") } code=${ $context["both"].fallback.code } at=${ $context["both"].fallback.at } seen=${ $context["both"].fallback.seen } calm=${ $context["both"].calm } n=${ length }'
EOF
	wex_start m1 mix
	wait_phase m1 COMPLETED 30
	assert_eq "$(xj m1 .status.output.line)" \
		"odd-1!,even-2!,odd-3!,even-4! code=500 at=/do/1/both/fork/branches/0/risky/do/0/attempt/try/0/fail seen=4 calm=calm n=2"
	assert_eq "$(tj m1 each '.output | tojson')" '{"acc":["odd-1!","even-2!","odd-3!","even-4!"]}'
	assert_eq "$(tj m1 both '.output[1] | tojson')" '{"msg":"calm"}'
	assert_eq "$(ids m1)" \
		"each,each/parity,each/odd,each/even,each/done,both,both/risky/attempt,both/risky/attempt/fail,both/risky/attempt/catch/fallback,both/calm/hello,final"
	assert_eq "$(tstat m1 both/risky/attempt/fail)" FAILED
	assert_eq "$(tstat m1 both/risky/attempt)" COMPLETED
	# Each iteration took one of the two cases.
	assert_eq "$(phases_of m1 each/odd)" "IN_PROGRESS:0 COMPLETED:0 IN_PROGRESS:2 COMPLETED:2"
	assert_eq "$(phases_of m1 each/even)" "IN_PROGRESS:1 COMPLETED:1 IN_PROGRESS:3 COMPLETED:3"
	assert_eq "$(xj m1 '"\(.status.progress.done)/\(.status.progress.total)"')" 3/3
}

# ---- dry run --------------------------------------------------------------------

t_flow_dryrun() {
	run_strict
	local s i
	wf_tpl dryflow T="$TDIR" <<'EOF'
    - name: pick
      kind: SWITCH
      taskConfig:
        cases:
          - {name: big, when: '${ .n > 10 }', then: large}
          - {name: other, then: small}
    - name: small
      kind: RUN
      taskConfig: {shell: {command: "touch @T@/small"}}
      flow: {then: loop}
    - name: large
      kind: RUN
      taskConfig: {shell: {command: "touch @T@/large"}}
    - name: loop
      kind: FOR
      taskConfig:
        each: item
        in: '${ [range(5)] }'
        do:
          - name: touchit
            kind: RUN
            taskConfig:
              shell: {command: 'touch "$1"', arguments: ['@T@/it-${ $item }']}
EOF
	wex_start d20 dryflow "$(printf '  dryRun: true\n%s' "$(trig '{"n": 20}')")"
	wex_start d1 dryflow "$(printf '  dryRun: true\n%s' "$(trig '{"n": 1}')")"
	wait_phase d20 COMPLETED 20
	wait_phase d1 COMPLETED 20
	traces d20 >"$TDIR/tr20"
	traces d1 >"$TDIR/tr1"
	assert_contains "$TDIR/tr20" "case big: then large"
	assert_not_contains "$TDIR/tr20" "case other"
	assert_contains "$TDIR/tr20" "would iterate 5 times"
	assert_contains "$TDIR/tr1" "case other: then small"
	assert_not_contains "$TDIR/tr1" "case big"
	assert_contains "$TDIR/tr1" "would iterate 5 times"
	assert_eq "$(evq d20 'map(select(.type == "trace" and (.message | contains("would iterate")))) | .[0].task')" loop
	assert_eq "$(evq d20 'map(select(.type == "trace" and (.message | startswith("case ")))) | .[0].task')" pick
	assert_eq "$(tstat d20 small)" SKIPPED
	assert_eq "$(tstat d20 large)" COMPLETED
	assert_eq "$(tj d20 large .output.dryRun)" true
	assert_eq "$(tstat d1 large)" SKIPPED
	# The SWITCH passes its input on in a dry run too.
	assert_eq "$(tj d20 pick '.output | tojson')" '{"n":20}'
	for s in d20 d1; do
		assert_eq "$(xj "$s" .status.summary.dryRun)" true
		assert_eq "$(evq "$s" '.[-1] | "\(.type) \(.phase) \(.message)"')" \
			"complete COMPLETED dry run: nothing was executed"
		assert_eq "$(ev_count "$s" '.type == "line"')" 0
	done
	# Nothing ran.
	assert_absent "$TDIR/small"
	assert_absent "$TDIR/large"
	for i in 0 1 2 3 4; do assert_absent "$TDIR/it-$i"; done
}

run_tests "$@"
