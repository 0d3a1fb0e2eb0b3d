#!/usr/bin/env bash
# t_flow.sh - control flow (issue 4, DSL data flow of issue 11): SWITCH
# takes the case whose `when` holds and outputs its input; FOR runs its
# tasks once per item, each iteration's input the previous one's output,
# and outputs the last; FORK runs branches in parallel under max_parallel
# and outputs the array of their outputs, and with `compete` the first to
# finish wins (its output is the FORK's) and the others are cancelled;
# TRY catches a failing task or a RAISE and binds the DSL error object;
# `${ }` expressions over the task's input and the runtime arguments in
# SET, RUN arguments and environment and RAISE; export.as into $context;
# secrets in expressions stay hidden; nested paths in status and events;
# dry runs trace the choices and run nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

# ---- SWITCH ---------------------------------------------------------------

# switch_wf NAME: pick -> large (n > 10) or small; small jumps over large.
switch_wf() {
	wf_put "$1" <<'EOF'
    - name: pick
      kind: SWITCH
      taskConfig:
        cases:
          - {name: big, when: '${ .n > 10 }', then: large}
          - {name: other, then: small}
    - name: small
      kind: RUN
      taskConfig: {shell: {command: "echo small-ran"}}
      flow: {then: done}
    - name: large
      kind: RUN
      taskConfig: {shell: {command: "echo large-ran"}}
    - name: done
      kind: RUN
      taskConfig: {shell: {command: "echo done-ran"}}
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
	assert_eq "$(tr '\n' ' ' <"$(wx s20)/log")" "large-ran done-ran "
	# A SWITCH outputs its input.
	assert_eq "$(tj s20 pick '.output | tojson')" '{"n":20}'
	assert_eq "$(evq s20 'map(select(.type == "phase") | "\(.task):\(.status)") | join(" ")')" \
		"pick:IN_PROGRESS pick:COMPLETED large:IN_PROGRESS large:COMPLETED done:IN_PROGRESS done:COMPLETED"
	# n = 1: case other, small runs and jumps over large.
	assert_eq "$(xj s1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		pick=COMPLETED,small=COMPLETED,large=SKIPPED,done=COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx s1)/log")" "small-ran done-ran "
	assert_eq "$(tj s1 pick '.output | tojson')" '{"n":1}'
	assert_eq "$(ev_count s1 '.task == "large"')" 0
	assert_eq "$(xj s1 '.status.error // ""')" ""
}

# No case matches: the run continues with the next task.
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
      taskConfig: {shell: {command: "echo middle-ran"}}
    - name: last
      kind: RUN
      taskConfig: {shell: {command: "echo last-ran"}}
EOF
	wex_start nm sw2 "$(trig '{"n": 3}')"
	wex_start jm sw2 "$(trig '{"n": 30}')"
	wait_phase nm COMPLETED 20
	wait_phase jm COMPLETED 20
	assert_eq "$(tr '\n' ' ' <"$(wx nm)/log")" "middle-ran last-ran "
	assert_eq "$(xj nm '[.status.tasks[].status] | join(",")')" COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx jm)/log")" "last-ran "
	assert_eq "$(xj jm '[.status.tasks[].status] | join(",")')" COMPLETED,SKIPPED,COMPLETED
}

# ---- FOR ------------------------------------------------------------------

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
                command: 'echo "it-$1"'
                arguments: ['${ "\($i):\($letter)" }']
      export: {as: '${ . }'}
    - name: plain
      kind: FOR
      taskConfig:
        in: [10, 20, 30]
        do:
          - name: add
            kind: SET
            taskConfig: {variables: {v: '${ (.v? // []) + [$item + $index] }', first: '${ $context.loop }'}}
EOF
	wex_start f1 loopy "$(trig '{"items": ["a", "b", "c", "d", "e"]}')"
	wait_phase f1 COMPLETED 30
	# A FOR's output is its last iteration's; each iteration's input is
	# the previous one's output (the first's the FOR's input: here the
	# string loop output, which has no .v).
	assert_eq "$(tj f1 loop '.output | tojson')" '"it-4:e"'
	assert_eq "$(tj f1 plain '.output | tojson')" '{"v":[10,21,32],"first":"it-4:e"}'
	assert_eq "$(xj f1 '.status.output | tojson')" '{"v":[10,21,32],"first":"it-4:e"}'
	assert_eq "$(tr '\n' ' ' <"$(wx f1)/log")" "it-0:a it-1:b it-2:c it-3:d it-4:e "
	# One status entry per definition; a loop's entry shows the last pass.
	assert_eq "$(ids f1)" "loop,loop/step,plain,plain/add"
	assert_eq "$(xj f1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(tj f1 loop/step .output)" it-4:e
	assert_eq "$(tj f1 loop/step .kind)" RUN
	assert_eq "$(tj f1 loop .kind)" FOR
	# Events: five pairs for the nested path, with the iteration index.
	assert_eq "$(phases_of f1 loop/step)" \
		"IN_PROGRESS:0 COMPLETED:0 IN_PROGRESS:1 COMPLETED:1 IN_PROGRESS:2 COMPLETED:2 IN_PROGRESS:3 COMPLETED:3 IN_PROGRESS:4 COMPLETED:4"
	assert_eq "$(phases_of f1 loop)" "IN_PROGRESS:- COMPLETED:-"
	assert_eq "$(phases_of f1 plain/add)" \
		"IN_PROGRESS:0 COMPLETED:0 IN_PROGRESS:1 COMPLETED:1 IN_PROGRESS:2 COMPLETED:2"
	assert_eq "$(evq f1 'map(select(.type == "line") | "\(.task)#\(.iteration)=\(.text)") | join(" ")')" \
		"loop/step#0=it-0:a loop/step#1=it-1:b loop/step#2=it-2:c loop/step#3=it-3:d loop/step#4=it-4:e"
	# Progress counts the two top-level tasks; the summary every task run.
	assert_eq "$(xj f1 '"\(.status.progress.done)/\(.status.progress.total)"')" 2/2
	assert_eq "$(xj f1 '.status.summary | "\(.total) \(.completed)"')" "10 10"
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
              - {name: step2, kind: RUN, taskConfig: {shell: {command: "echo a-step2"}}}
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
        shell: {command: 'echo after-ran; echo "forked=$F" >&2', environment: {F: '${ $context.fork1 | tojson }'}}
EOF
	wex_start n1 nest
	wait_phase n1 COMPLETED 20
	assert_eq "$(ids n1)" \
		"fork1,fork1/branchA/step1,fork1/branchA/step2,fork1/branchB/step1,guard,guard/step,guard/catch/step,after"
	assert_eq "$(xj n1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED,COMPLETED,FAILED,COMPLETED,COMPLETED
	assert_eq "$(xj n1 '[.status.tasks[].name] | join(",")')" \
		fork1,step1,step2,step1,guard,step,step,after
	assert_eq "$(tj n1 fork1/branchA/step2 .output)" a-step2
	assert_eq "$(tj n1 guard/step .exitCode)" 2
	assert_eq "$(tj n1 guard/catch/step .output.caught)" yes-caught
	# The FORK's output: the array of its branches' outputs, in branch
	# order, each its branch's last task's output; exported.
	assert_eq "$(tj n1 fork1 '.output | tojson')" '["a-step2","b-step1"]'
	assert_contains "$(wx n1)/log" 'forked=["a-step2","b-step1"]'
	# A caught TRY outputs its catch.do's output.
	assert_eq "$(tj n1 guard '.output | tojson')" '{"caught":"yes-caught"}'
	assert_eq "$(xj n1 .status.output)" after-ran
	# Events name tasks by path.
	assert_eq "$(evq n1 '[.[] | select(.type == "phase") | .task] | unique | join(",")')" \
		"after,fork1,fork1/branchA/step1,fork1/branchA/step2,fork1/branchB/step1,guard,guard/catch/step,guard/step"
	assert_eq "$(evq n1 'map(select(.type == "line") | "\(.task)=\(.text)") | sort | join(" ")')" \
		'after=after-ran after=forked=["a-step2","b-step1"] fork1/branchA/step2=a-step2 fork1/branchB/step1=b-step1'
	assert_eq "$(phases_of n1 fork1/branchA/step2)" "IN_PROGRESS:- COMPLETED:-"
	assert_eq "$(xj n1 '"\(.status.progress.done)/\(.status.progress.total)"')" 3/3
}

# ---- FORK ---------------------------------------------------------------------

# conc_script: $TDIR/conc.sh DIR counts the tasks running it at once in
# DIR/cur (under a lock), keeps the highest count seen in DIR/max, stays
# 1 s, and appends a line to DIR/done when it ends.
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
echo "worked"
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
          - {name: b1, do: [{name: work, kind: RUN, taskConfig: {shell: {command: "bash @T@/conc.sh @T@/c"}}}]}
          - {name: b2, do: [{name: work, kind: RUN, taskConfig: {shell: {command: "bash @T@/conc.sh @T@/c"}}}]}
          - {name: b3, do: [{name: work, kind: RUN, taskConfig: {shell: {command: "bash @T@/conc.sh @T@/c"}}}]}
          - {name: b4, do: [{name: work, kind: RUN, taskConfig: {shell: {command: "bash @T@/conc.sh @T@/c"}}}]}
EOF
	# The default (10 slots): the four branches run at once, so the
	# counter can see more than two.
	conc_reset "$TDIR/c"
	wex_start p10 conc
	wait_phase p10 COMPLETED 30
	assert_eq "$(cat "$TDIR/c/max")" 4 "tasks at once with max_parallel=10"
	assert_eq "$(wc -l <"$TDIR/c/done")" 4
	# max_parallel=2: exactly two at once, so at least two rounds of 1 s.
	remount_execfs max_parallel=2
	conc_reset "$TDIR/c"
	t0=$(date +%s%N)
	wex_start p2 conc
	wait_phase p2 COMPLETED 30
	el=$(( ($(date +%s%N) - t0) / 1000000 ))
	assert_eq "$(cat "$TDIR/c/max")" 2 "tasks at once with max_parallel=2"
	assert_eq "$(wc -l <"$TDIR/c/done")" 4
	assert_eq "$(cat "$TDIR/c/cur")" 0
	(( el >= 2000 )) || die "four 1 s tasks two at a time took only $el ms"
	assert_eq "$(xj p2 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		fan=COMPLETED,fan/b1/work=COMPLETED,fan/b2/work=COMPLETED,fan/b3/work=COMPLETED,fan/b4/work=COMPLETED
	assert_eq "$(tj p2 fan '.output | tojson')" '["worked","worked","worked","worked"]'
	assert_eq "$(grep -c '^worked$' "$(wx p2)/log")" 4
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
      taskConfig: {shell: {command: 'echo "after-race $W"', environment: {W: '${ $context.race }'}}}
EOF
	wex_start r1 race
	wait_phase r1 COMPLETED 30
	wait_no_proc "$m" 5
	assert_file "$TDIR/slow-started"
	assert_absent "$TDIR/never"
	assert_eq "$(xj r1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		race=COMPLETED,race/slow/nap=CANCELLED,race/slow/never=SKIPPED,race/fast/quick=COMPLETED,after=COMPLETED
	# The winner's output is the FORK's.
	assert_eq "$(tj r1 race '.output | tojson')" '"fast-won"'
	assert_eq "$(xj r1 .status.output)" "after-race fast-won"
	assert_eq "$(evq r1 'map(select(.type == "phase" and .task == "race/slow/nap")) | .[-1].status')" CANCELLED
	assert_eq "$(ev_count r1 '.task == "race/slow/never"')" 0
	assert_contains "$(wx r1)/log" "after-race fast-won"
	assert_eq "$(xj r1 '.status.error // ""')" ""
}

# ---- TRY ----------------------------------------------------------------------

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
                  instance: '${ $err.instance }'
                  detail: '${ $err.detail }'
              export: {as: '${ .type }'}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: 'echo "later-ran $T"', environment: {T: '${ $context.record }'}}}
EOF
	wex_start c1 tryit
	wait_phase c1 COMPLETED 20
	assert_eq "$(tstat c1 guard/bad)" FAILED
	assert_eq "$(tj c1 guard/bad .exitCode)" 3
	assert_eq "$(tj c1 guard/bad .error)" "exit status 3"
	assert_not_completed c1 guard/unreached
	assert_absent "$TDIR/unreached"
	assert_eq "$(tstat c1 guard)" COMPLETED
	assert_eq "$(tstat c1 guard/catch/record)" COMPLETED
	# The error: runtime, 500, the failing task's pointer, "exit status N";
	# the TRY's output is its catch.do's.
	assert_eq "$(tj c1 guard '.output | "\(.status|type) \(.status) \(.type) \(.instance) \(.detail)"')" \
		"number 500 https://serverlessworkflow.io/spec/1.0.0/errors/runtime /do/0/guard/try/0/bad exit status 3"
	assert_eq "$(tstat c1 later)" COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx c1)/log")" \
		"failing-now later-ran https://serverlessworkflow.io/spec/1.0.0/errors/runtime "
	assert_eq "$(xj c1 '.status.error // ""')" ""
	assert_eq "$(evq c1 'map(select(.type == "phase" and .task == "guard/bad")) | .[-1] | "\(.status) \(.exitCode)"')" \
		"FAILED 3"
	assert_eq "$(evq c1 '.[-1] | "\(.type) \(.phase)"')" "complete COMPLETED"
}

# catch.do is optional: a TRY whose catch has no do (and no retry)
# swallows the error and outputs its input.  A TRY without catch catches
# nothing: the error propagates, naming the innermost failing task.
t_flow_try_without_catch_do() {
	run_strict
	wf_put trynocatch <<'EOF'
    - name: named
      kind: TRY
      taskConfig:
        try:
          - {name: bad, kind: RUN, taskConfig: {shell: {command: "exit 8"}}}
        catch: {as: e}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
	wf_put trybare <<'EOF'
    - name: bare
      kind: TRY
      taskConfig:
        try:
          - {name: bad, kind: RUN, taskConfig: {shell: {command: "exit 9"}}}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
	wex_start c2 trynocatch "$(trig '{"k": "v"}')"
	wex_start c2b trybare
	wait_phase c2 COMPLETED 20
	wait_phase c2b FAILED 20
	assert_eq "$(xj c2 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		named=COMPLETED,named/bad=FAILED,later=COMPLETED
	assert_eq "$(tj c2 named/bad .exitCode)" 8
	assert_eq "$(tj c2 named '.output | tojson')" '{"k":"v"}'
	assert_contains "$(wx c2)/log" later-ran
	assert_eq "$(xj c2 '.status.error // ""')" ""
	assert_eq "$(xj c2b '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		bare=FAILED,bare/bad=FAILED,later=SKIPPED
	assert_eq "$(tj c2b bare/bad .exitCode)" 9
	assert_eq "$(xj c2b .status.error)" "task bare/bad failed: exit status 9"
	assert_not_contains "$(wx c2b)/log" later-ran
}

# A RAISE caught: $error is the DSL error object, a custom name as its
# type (status 500), the message as its detail.
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
                  title: '${ $error.title }'
                  detail: '${ $error.detail }'
                  instance: '${ $error.instance }'
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
	wex_start c3 tryraise
	wait_phase c3 COMPLETED 20
	assert_eq "$(tstat c3 guard/boom)" FAILED
	assert_eq "$(tj c3 guard/boom .error)" "too many widgets"
	assert_eq "$(tj c3 guard '.output | "\(.type)|\(.status)|\(.title)|\(.detail)|\(.instance)"')" \
		"quota-exceeded|500|quota-exceeded|too many widgets|/do/0/guard/try/0/boom"
	assert_eq "$(tstat c3 guard)" COMPLETED
	assert_not_contains "$(wx c3)/log" unreached-ran
	assert_contains "$(wx c3)/log" later-ran
}

# ---- expressions ----------------------------------------------------------------

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
          wfin: '${ $workflow.input.n }'
          taskin: '${ $input.who }'
          none: '${ empty }'
      export: {as: '${ {n2, deep} }'}
    - name: reuse
      kind: SET
      taskConfig: {variables: {msg: 'double is ${ .n2 }', back: '${ $context.calc.deep.list[0] }'}}
      export: {as: '${ .msg }'}
    - name: show
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "argc=$# 1=$1 2=$2 env=$FROM_EXPR mixed=$MIXED"'
          arguments: ['${ $workflow.input.who }', 'pre-${ $context.reuse }-post']
          environment: {FROM_EXPR: '${ $workflow.input.nested.k }', MIXED: 'x${ $context.calc.n2 }y'}
    - name: literal
      kind: RUN
      taskConfig:
        script: {language: bash, code: 'X=shell-var; echo "lit=${X}"'}
EOF
	wex_start e1 exprs "$(trig '{"n": 20, "who": "ada lovelace", "nested": {"k": "deep-value"}}')"
	d=$(wx e1)
	wait_phase e1 COMPLETED 20
	# `.` is the task's input (the first task's: the workflow input). A
	# whole-string expression keeps its JSON type; others interpolate.
	assert_eq "$(tj e1 calc '.output.n2 | "\(type) \(.)"')" "number 40"
	assert_eq "$(tj e1 calc '.output.same | "\(type) \(.)"')" "number 20"
	assert_eq "$(tj e1 calc '.output.text')" 'n=20 who=ada lovelace obj={"k":"deep-value"}'
	assert_eq "$(tj e1 calc '.output.deep | tojson')" '{"list":[21,"plain"],"flag":true}'
	assert_eq "$(tj e1 calc '.output.braces')" '}'
	assert_eq "$(tj e1 calc '.output | "\(.wfin) \(.taskin)"')" "20 ada lovelace"
	assert_eq "$(tj e1 calc '.output | has("none")')" true
	assert_eq "$(tj e1 calc '.output.none | type')" null
	# From the previous task's output and an earlier export.
	assert_eq "$(tj e1 reuse '.output | "\(.msg)|\(.back)"')" "double is 40|21"
	# Arguments and environment reach the process; command is shell.
	assert_eq "$(sed -n 1p "$d/log")" \
		"argc=2 1=ada lovelace 2=pre-double is 40-post env=deep-value mixed=x40y"
	assert_eq "$(sed -n 2p "$d/log")" "lit=shell-var"
	assert_eq "$(wc -l <"$d/log")" 2
}

# The workflow input (the first task's input, $workflow.input) is the
# triggerMessage parsed when it is JSON, else the text, and {} when there
# is none.
t_flow_expression_input_forms() {
	run_strict
	wf_put inp <<'EOF'
    - name: see
      kind: SET
      taskConfig: {variables: {input: '${ . }', kind: '${ type }', wf: '${ $workflow.input }'}}
EOF
	wex_start i1 inp "$(trig 'just some text')"
	wex_start i2 inp
	wex_start i3 inp "$(trig '[1, 2]')"
	wait_phase i1 COMPLETED 20
	wait_phase i2 COMPLETED 20
	wait_phase i3 COMPLETED 20
	assert_eq "$(xj i1 '.status.output | "\(.kind) \(.input) \(.wf)"')" "string just some text just some text"
	assert_eq "$(xj i2 '.status.output | "\(.kind) \(.input | tojson) \(.wf | tojson)"')" "object {} {}"
	assert_eq "$(xj i3 '.status.output | "\(.kind) \(.input | tojson) \(.wf | tojson)"')" "array [1,2] [1,2]"
}

# RAISE's error and message are expressions (over the task's input); an
# evaluation error fails the task with "expression failed: ...", an
# expression error (400) when caught.
t_flow_expression_raise_and_failure() {
	run_strict
	wf_put raisex <<'EOF'
    - name: boom
      kind: RAISE
      taskConfig: {error: '${ "bad-" + .kind }', message: 'n was ${ .n }, who ${ .who }'}
EOF
	wf_put raisexc <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: boom
            kind: RAISE
            taskConfig: {error: '${ "bad-" + .kind }', message: 'n was ${ .n }, who ${ .who }'}
        catch:
          do:
            - {name: keep, kind: SET, taskConfig: {variables: {e: '${ $error }'}}}
    - name: guard2
      kind: TRY
      taskConfig:
        try:
          - {name: broken, kind: SET, taskConfig: {variables: {v: '${ $workflow.input.n.foo }'}}}
        catch:
          do:
            - {name: keep, kind: SET, taskConfig: {variables: {e: '${ $error }'}}}
EOF
	wf_put evalfail <<'EOF'
    - name: ok
      kind: SET
      taskConfig: {variables: {a: 1}}
    - name: broken
      kind: SET
      taskConfig: {variables: {v: '${ $workflow.input.n.foo }'}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wex_start x1 raisex "$(trig '{"n": 20, "kind": "input", "who": "bob"}')"
	wex_start x2 evalfail "$(trig '{"n": 20}')"
	wex_start x3 raisexc "$(trig '{"n": 20, "kind": "input", "who": "bob"}')"
	wait_phase x1 FAILED 20
	wait_phase x2 FAILED 20
	wait_phase x3 COMPLETED 20
	assert_eq "$(tj x1 boom .error)" "n was 20, who bob"
	assert_eq "$(xj x1 .status.error)" "task boom failed: n was 20, who bob"
	assert_eq "$(tj x3 guard '.output.e | "\(.type)|\(.status)|\(.title)|\(.detail)"')" \
		"bad-input|500|bad-input|n was 20, who bob"
	assert_eq "$(tj x3 guard2 '.output.e | "\(.type)|\(.status)|\(.instance)"')" \
		"https://serverlessworkflow.io/spec/1.0.0/errors/expression|400|/do/1/guard2/try/0/broken"
	assert_eq "$(xj x2 '[.status.tasks[].status] | join(",")')" COMPLETED,FAILED,SKIPPED
	tj x2 broken .error | grep -q '^expression failed: .*Cannot index number' ||
		die "evaluation error: $(tj x2 broken .error)"
	xj x2 .status.error | grep -qF "expression failed: " ||
		die "status.error: $(xj x2 .status.error)"
	assert_not_contains "$(wx x2)/log" after-ran
}

# ${ .secrets.X } (Stigmer's placeholder) and $secrets.X are the secret's
# value for the task, and *** in status, events and everywhere else;
# ${ .env_vars.X } is a plain variable's value.
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
          tok: '${ .secrets.TOKEN }'
          tok2: '${ $secrets.TOKEN }'
          names: '${ $secrets | keys }'
          plain: '${ .env_vars.PLAIN }'
          plainIsSecret: '${ $secrets | has("PLAIN") }'
    - name: use
      kind: RUN
      taskConfig:
        shell:
          command: 'if [ "$(printf %s "$GOT" | sha256sum | cut -c1-64)" = "$1" ]; then echo secret-ok; else echo secret-bad; fi; echo "got=$GOT"'
          arguments: ['@SHA@']
          environment: {GOT: '${ .secrets.TOKEN }'}
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
	assert_not_contains "$d/log" secret-bad
	assert_contains "$d/log" 'got=***'
	assert_contains "$d/status.yaml" '***'
	wait_until 10 test ! -e "$MNT/executioncontexts/sx-ctx"
	if grep -r -a -l -F --exclude-dir=follow --exclude=ctl -- "$s" "$STATE" "$MNT" "$DLOG"; then
		die "the secret is in a file of the state directory, the mount or the log"
	fi
	assert_file "$STATE/data.mdb"
	assert_not_contains "$STATE/data.mdb" "$s"
}

# ---- a mix ----------------------------------------------------------------------

# FOR containing a SWITCH whose cases set values, the next task reading
# them as its input and accumulating them into $context with export.as;
# FORK containing a TRY; a last SET reads them all (its input: the FORK's
# array of branch outputs).
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
            taskConfig: {variables: {v: '${ "odd-\($n)" }'}}
            flow: {then: done}
          - name: even
            kind: SET
            taskConfig: {variables: {v: '${ "even-\($n)" }'}}
          - name: done
            kind: SET
            taskConfig: {variables: {v: '${ .v + "!" }'}}
            export: {as: '${ ($context.done // []) + [.v] }'}
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
                        taskConfig: {variables: {code: '${ $e.status }', at: '${ $e.instance }'}}
                        export: {as: '${ .at }'}
          - name: calm
            do:
              - {name: hello, kind: SET, taskConfig: {variables: {msg: calm}}}
    - name: final
      kind: SET
      taskConfig:
        variables:
          line: '${ $context.done | join(",") } code=${ .[0].code } at=${ $context.fallback } calm=${ .[1].msg }'
EOF
	wex_start m1 mix
	wait_phase m1 COMPLETED 30
	assert_eq "$(xj m1 .status.output.line)" \
		"odd-1!,even-2!,odd-3!,even-4! code=500 at=/do/1/both/fork/branches/0/risky/do/0/attempt/try/0/fail calm=calm"
	assert_eq "$(tj m1 each '.output | tojson')" '{"v":"even-4!"}'
	assert_eq "$(tj m1 both '.output | tojson')" \
		'[{"code":500,"at":"/do/1/both/fork/branches/0/risky/do/0/attempt/try/0/fail"},{"msg":"calm"}]'
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
