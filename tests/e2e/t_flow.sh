#!/usr/bin/env bash
# t_flow.sh - control flow (issue 4): SWITCH takes the case whose `when`
# holds; FOR runs its tasks once per item and exports the list of their
# outputs; FORK runs branches in parallel under max_parallel, and with
# `compete` the first to finish wins and the others are cancelled; TRY
# catches a failing task or a RAISE and binds the error; `${ }`
# expressions in SET, RUN arguments and environment and RAISE; secrets in
# expressions stay hidden; nested paths in status and events; dry runs
# trace the choices and run nothing.
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
          - {name: big, when: '${ .input.n > 10 }', then: large}
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
	local o
	switch_wf sw
	wex_start s20 sw "$(trig '{"n": 20}')"
	wex_start s1 sw "$(trig '{"n": 1}')"
	wait_phase s20 COMPLETED 20
	wait_phase s1 COMPLETED 20
	# n = 20: case big, large runs, small is skipped.
	assert_eq "$(xj s20 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		pick=COMPLETED,small=SKIPPED,large=COMPLETED,done=COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx s20)/log")" "large-ran done-ran "
	o=$(tj s20 pick '.output | tojson')
	[[ $o == *'"big"'* && $o != *other* ]] || die "SWITCH output of s20 does not name case big: $o"
	assert_eq "$(evq s20 'map(select(.type == "phase") | "\(.task):\(.status)") | join(" ")')" \
		"pick:IN_PROGRESS pick:COMPLETED large:IN_PROGRESS large:COMPLETED done:IN_PROGRESS done:COMPLETED"
	# n = 1: case other, small runs and jumps over large.
	assert_eq "$(xj s1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		pick=COMPLETED,small=COMPLETED,large=SKIPPED,done=COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx s1)/log")" "small-ran done-ran "
	o=$(tj s1 pick '.output | tojson')
	[[ $o == *'"other"'* && $o != *big* ]] || die "SWITCH output of s1 does not name case other: $o"
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
          - {name: big, when: '${ .input.n > 10 }', then: last}
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
        in: '${ .input.items }'
        do:
          - name: step
            kind: RUN
            taskConfig:
              shell:
                command: 'echo "it-$1"'
                arguments: ['${ "\($i):\($letter)" }']
      export: {as: letters}
    - name: plain
      kind: FOR
      taskConfig:
        in: [10, 20, 30]
        do:
          - name: add
            kind: SET
            taskConfig: {variables: {v: '${ $item + $index }'}}
      export: {as: sums}
EOF
	wex_start f1 loopy "$(trig '{"items": ["a", "b", "c", "d", "e"]}')"
	wait_phase f1 COMPLETED 30
	# The export: one output per iteration, in order.
	assert_eq "$(xj f1 '.status.output.letters | length')" 5
	assert_eq "$(xj f1 '[.status.output.letters[].stdout | rtrimstr("\n")] | join(",")')" \
		"it-0:a,it-1:b,it-2:c,it-3:d,it-4:e"
	assert_eq "$(xj f1 '.status.output.sums | map(.v) | tojson')" "[10,21,32]"
	assert_eq "$(tr '\n' ' ' <"$(wx f1)/log")" "it-0:a it-1:b it-2:c it-3:d it-4:e "
	# One status entry per definition; a loop's entry shows the last pass.
	assert_eq "$(ids f1)" "loop,loop/step,plain,plain/add"
	assert_eq "$(xj f1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED
	assert_eq "$(tj f1 loop/step .output.stdout)" it-4:e
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
      export: {as: forked}
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
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wex_start n1 nest
	wait_phase n1 COMPLETED 20
	assert_eq "$(ids n1)" \
		"fork1,fork1/branchA/step1,fork1/branchA/step2,fork1/branchB/step1,guard,guard/step,guard/catch/step,after"
	assert_eq "$(xj n1 '[.status.tasks[].status] | join(",")')" \
		COMPLETED,COMPLETED,COMPLETED,COMPLETED,COMPLETED,FAILED,COMPLETED,COMPLETED
	assert_eq "$(xj n1 '[.status.tasks[].name] | join(",")')" \
		fork1,step1,step2,step1,guard,step,step,after
	assert_eq "$(tj n1 fork1/branchA/step2 .output.stdout)" a-step2
	assert_eq "$(tj n1 guard/step .exitCode)" 2
	assert_eq "$(tj n1 guard/catch/step .output.caught)" yes-caught
	# The FORK's output: one entry per branch, each its branch's output.
	assert_eq "$(xj n1 '.status.output.forked | keys | join(",")')" branchA,branchB
	assert_eq "$(xj n1 '.status.output.forked.branchA.stdout')" a-step2
	assert_eq "$(xj n1 '.status.output.forked.branchB.stdout')" b-step1
	# Events name tasks by path.
	assert_eq "$(evq n1 '[.[] | select(.type == "phase") | .task] | unique | join(",")')" \
		"after,fork1,fork1/branchA/step1,fork1/branchA/step2,fork1/branchB/step1,guard,guard/catch/step,guard/step"
	assert_eq "$(evq n1 'map(select(.type == "line") | "\(.task)=\(.text)") | sort | join(" ")')" \
		"after=after-ran fork1/branchA/step2=a-step2 fork1/branchB/step1=b-step1"
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
	assert_eq "$(tj p2 fan '.output | keys | join(",")')" b1,b2,b3,b4
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
      export: {as: winner}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-race"}}
EOF
	wex_start r1 race
	wait_phase r1 COMPLETED 30
	wait_no_proc "$m" 5
	assert_file "$TDIR/slow-started"
	assert_absent "$TDIR/never"
	assert_eq "$(xj r1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		race=COMPLETED,race/slow/nap=CANCELLED,race/slow/never=SKIPPED,race/fast/quick=COMPLETED,after=COMPLETED
	# Only the winner in the output.
	assert_eq "$(xj r1 '.status.output.winner | keys | join(",")')" fast
	assert_eq "$(xj r1 '.status.output.winner.fast.stdout')" fast-won
	assert_eq "$(tj r1 race '.output | keys | join(",")')" fast
	assert_eq "$(evq r1 'map(select(.type == "phase" and .task == "race/slow/nap")) | .[-1].status')" CANCELLED
	assert_eq "$(ev_count r1 '.task == "race/slow/never"')" 0
	assert_contains "$(wx r1)/log" after-race
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
              export: {as: caught}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
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
	assert_eq "$(xj c1 '.status.output.caught | "\(.status|type) \(.status) \(.type) \(.instance) \(.detail)"')" \
		"number 3 execfs/task-failed guard/bad exit status 3"
	assert_eq "$(tstat c1 later)" COMPLETED
	assert_eq "$(tr '\n' ' ' <"$(wx c1)/log")" "failing-now later-ran "
	assert_eq "$(xj c1 '.status.error // ""')" ""
	assert_eq "$(evq c1 'map(select(.type == "phase" and .task == "guard/bad")) | .[-1] | "\(.status) \(.exitCode)"')" \
		"FAILED 3"
	assert_eq "$(evq c1 '.[-1] | "\(.type) \(.phase)"')" "complete COMPLETED"
}

# catch and catch.do are optional: the failure is still caught.
t_flow_try_without_catch_do() {
	run_strict
	wf_put trynocatch <<'EOF'
    - name: bare
      kind: TRY
      taskConfig:
        try:
          - {name: bad, kind: RUN, taskConfig: {shell: {command: "exit 9"}}}
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
	wex_start c2 trynocatch
	wait_phase c2 COMPLETED 20
	assert_eq "$(xj c2 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		bare=COMPLETED,bare/bad=FAILED,named=COMPLETED,named/bad=FAILED,later=COMPLETED
	assert_eq "$(tj c2 bare/bad .exitCode)" 9
	assert_eq "$(tj c2 named/bad .exitCode)" 8
	assert_contains "$(wx c2)/log" later-ran
	assert_eq "$(xj c2 '.status.error // ""')" ""
}

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
              export: {as: caught}
    - name: later
      kind: RUN
      taskConfig: {shell: {command: "echo later-ran"}}
EOF
	wex_start c3 tryraise
	wait_phase c3 COMPLETED 20
	assert_eq "$(tstat c3 guard/boom)" FAILED
	assert_eq "$(tj c3 guard/boom .error)" "quota-exceeded: too many widgets"
	assert_eq "$(xj c3 '.status.output.caught | "\(.type)|\(.status)|\(.instance)"')" \
		"quota-exceeded|0|guard/boom"
	xj c3 .status.output.caught.detail | grep -qF "too many widgets" ||
		die "error detail: $(xj c3 .status.output.caught.detail)"
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
          n2: '${ .input.n * 2 }'
          same: '  ${ .input.n }  '
          text: 'n=${ .input.n } who=${ .input.who } obj=${ .input.nested }'
          deep: {list: ['${ .input.n + 1 }', plain], flag: '${ .input.n > 10 }'}
          braces: '${ {"a": {"b": "}"}} | .a.b }'
          trig: '${ .triggerMessage | fromjson | .n }'
          none: '${ empty }'
      export: {as: calc}
    - name: reuse
      kind: SET
      taskConfig: {variables: {msg: 'double is ${ .calc.n2 }', back: '${ .calc.deep.list[0] }'}}
      export: {as: reuse}
    - name: show
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "argc=$# 1=$1 2=$2 env=$FROM_EXPR mixed=$MIXED"'
          arguments: ['${ .input.who }', 'pre-${ .reuse.msg }-post']
          environment: {FROM_EXPR: '${ .input.nested.k }', MIXED: 'x${ .calc.n2 }y'}
    - name: literal
      kind: RUN
      taskConfig:
        script: {language: bash, code: 'X=shell-var; echo "lit=${X}"'}
EOF
	wex_start e1 exprs "$(trig '{"n": 20, "who": "ada lovelace", "nested": {"k": "deep-value"}}')"
	d=$(wx e1)
	wait_phase e1 COMPLETED 20
	# A whole-string expression keeps its JSON type; others interpolate.
	assert_eq "$(xj e1 '.status.output.calc.n2 | "\(type) \(.)"')" "number 40"
	assert_eq "$(xj e1 '.status.output.calc.same | "\(type) \(.)"')" "number 20"
	assert_eq "$(xj e1 '.status.output.calc.text')" 'n=20 who=ada lovelace obj={"k":"deep-value"}'
	assert_eq "$(xj e1 '.status.output.calc.deep | tojson')" '{"list":[21,"plain"],"flag":true}'
	assert_eq "$(xj e1 '.status.output.calc.braces')" '}'
	assert_eq "$(xj e1 '.status.output.calc.trig')" 20
	assert_eq "$(xj e1 '.status.output.calc | has("none")')" true
	assert_eq "$(xj e1 '.status.output.calc.none | type')" null
	# From an earlier export.
	assert_eq "$(xj e1 '.status.output.reuse | "\(.msg)|\(.back)"')" "double is 40|21"
	# Arguments and environment reach the process; command is shell.
	assert_eq "$(sed -n 1p "$d/log")" \
		"argc=2 1=ada lovelace 2=pre-double is 40-post env=deep-value mixed=x40y"
	assert_eq "$(sed -n 2p "$d/log")" "lit=shell-var"
	assert_eq "$(wc -l <"$d/log")" 2
}

# .input is the triggerMessage parsed when it is JSON, else the text, and
# "" when there is none.
t_flow_expression_input_forms() {
	run_strict
	wf_put inp <<'EOF'
    - name: see
      kind: SET
      taskConfig: {variables: {input: '${ .input }', kind: '${ .input | type }'}}
      export: {as: seen}
EOF
	wex_start i1 inp "$(trig 'just some text')"
	wex_start i2 inp
	wex_start i3 inp "$(trig '[1, 2]')"
	wait_phase i1 COMPLETED 20
	wait_phase i2 COMPLETED 20
	wait_phase i3 COMPLETED 20
	assert_eq "$(xj i1 '.status.output.seen | "\(.kind) \(.input)"')" "string just some text"
	assert_eq "$(xj i2 '.status.output.seen | "\(.kind) [\(.input)]"')" "string []"
	assert_eq "$(xj i3 '.status.output.seen | "\(.kind) \(.input | tojson)"')" "array [1,2]"
}

# RAISE's error and message are expressions; an evaluation error fails
# the task with "expression failed: ...".
t_flow_expression_raise_and_failure() {
	run_strict
	wf_put raisex <<'EOF'
    - name: boom
      kind: RAISE
      taskConfig: {error: '${ "bad-" + .input.kind }', message: 'n was ${ .input.n }, who ${ .input.who }'}
EOF
	wf_put evalfail <<'EOF'
    - name: ok
      kind: SET
      taskConfig: {variables: {a: 1}}
    - name: broken
      kind: SET
      taskConfig: {variables: {v: '${ .input.n.foo }'}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wex_start x1 raisex "$(trig '{"n": 20, "kind": "input", "who": "bob"}')"
	wex_start x2 evalfail "$(trig '{"n": 20}')"
	wait_phase x1 FAILED 20
	wait_phase x2 FAILED 20
	assert_eq "$(tj x1 boom .error)" "bad-input: n was 20, who bob"
	xj x1 .status.error | grep -qF "bad-input: n was 20, who bob" ||
		die "status.error: $(xj x1 .status.error)"
	assert_eq "$(xj x2 '[.status.tasks[].status] | join(",")')" COMPLETED,FAILED,SKIPPED
	tj x2 broken .error | grep -q '^expression failed: .*Cannot index number' ||
		die "evaluation error: $(tj x2 broken .error)"
	xj x2 .status.error | grep -qF "expression failed: " ||
		die "status.error: $(xj x2 .status.error)"
	assert_not_contains "$(wx x2)/log" after-ran
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
          tok: '${ .secrets.TOKEN }'
          names: '${ .secrets | keys }'
          plain: '${ .env_vars.PLAIN }'
          plainIsSecret: '${ .secrets | has("PLAIN") }'
      export: {as: grabbed}
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
	assert_eq "$(xj sx .status.output.grabbed.tok)" '***'
	assert_eq "$(tj sx grab .output.tok)" '***'
	assert_eq "$(xj sx '.status.output.grabbed | "\(.names | tojson) \(.plain) \(.plainIsSecret)"')" \
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

# FOR containing a SWITCH whose cases set and export values; FORK
# containing a TRY; a last SET reads them all.
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
            export: {as: last}
            flow: {then: done}
          - name: even
            kind: SET
            taskConfig: {variables: {v: '${ "even-\($n)" }'}}
            export: {as: last}
          - name: done
            kind: SET
            taskConfig: {variables: {v: '${ .last.v + "!" }'}}
      export: {as: results}
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
                        export: {as: fallback}
          - name: calm
            do:
              - {name: hello, kind: SET, taskConfig: {variables: {msg: calm}}}
      export: {as: both}
    - name: final
      kind: SET
      taskConfig:
        variables:
          line: '${ [.results[].v] | join(",") } code=${ .fallback.code } at=${ .fallback.at } calm=${ .both.calm.msg }'
      export: {as: final}
EOF
	wex_start m1 mix
	wait_phase m1 COMPLETED 30
	assert_eq "$(xj m1 .status.output.final.line)" \
		"odd-1!,even-2!,odd-3!,even-4! code=5 at=both/risky/attempt/fail calm=calm"
	assert_eq "$(xj m1 '[.status.output.results[].v] | join(",")')" "odd-1!,even-2!,odd-3!,even-4!"
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
          - {name: big, when: '${ .input.n > 10 }', then: large}
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
