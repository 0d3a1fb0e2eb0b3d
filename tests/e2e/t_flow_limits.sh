#!/usr/bin/env bash
# t_flow_limits.sh - the limits of control flow (issue 4): max_loop_iterations,
# max_loop_depth (nested FORs and sub-workflow levels),
# max_total_operations (jump-back loops, FOR bodies, child executions) and
# workflow_timeout (FORK branches, a waiting child) fail the whole run
# with status.error naming the limit, and TRY does not catch them; and a
# Workflow whose nested tasks are invalid is refused when written, with
# EBADMSG and the task's path in `errors`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

# ---- max_loop_iterations ------------------------------------------------------

t_flow_limit_loop_iterations() {
	run_strict
	remount_execfs max_loop_iterations=5
	wf_put iters <<'EOF'
    - name: five
      kind: FOR
      taskConfig:
        each: i
        in: [1, 2, 3, 4, 5]
        do:
          - {name: s, kind: SET, taskConfig: {variables: {v: '${ $i }'}}}
      export: {as: '${ . }'}
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: six
            kind: FOR
            taskConfig:
              each: i
              in: '${ [range(6)] }'
              do:
                - {name: s, kind: RUN, taskConfig: {shell: {command: "echo iteration-ran"}}}
        catch:
          do:
            - {name: caught, kind: SET, taskConfig: {variables: {c: 1}}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wex_start l1 iters
	wait_phase l1 FAILED 20
	assert_eq "$(xj l1 .status.error)" "limit max_loop_iterations (5) exceeded: FOR loop guard/six has 6 items"
	assert_contains "$(wx l1)/events" "limit max_loop_iterations (5) exceeded: FOR loop guard/six has 6 items"
	# Five items are within the limit (the FOR's output is its last
	# iteration's); the limit is not caught by TRY.
	assert_eq "$(tstat l1 five)" COMPLETED
	assert_eq "$(tj l1 five '.output | tojson')" '{"v":5}'
	assert_eq "$(phases_of l1 five/s | wc -w)" 10
	assert_not_completed l1 guard/catch/caught
	assert_not_completed l1 after
	assert_not_contains "$(wx l1)/log" after-ran
}

# ---- max_loop_depth ---------------------------------------------------------------

t_flow_limit_loop_depth() {
	run_strict
	remount_execfs max_loop_depth=2
	wf_put depth2 <<'EOF'
    - name: outer
      kind: FOR
      taskConfig:
        each: a
        in: [1, 2]
        do:
          - name: inner
            kind: FOR
            taskConfig:
              each: b
              in: [1, 2]
              do:
                - {name: s, kind: SET, taskConfig: {variables: {v: '${ (.v // []) + [$a * 10 + $b] }'}}}
      export: {as: '${ .v }'}
    - {name: grid, kind: SET, taskConfig: {variables: {grid: '${ $context.outer }'}}}
EOF
	wf_put depth3 <<'EOF'
    - name: outer
      kind: FOR
      taskConfig:
        each: a
        in: [1, 2]
        do:
          - name: middle
            kind: FOR
            taskConfig:
              each: b
              in: [1, 2]
              do:
                - name: inner
                  kind: FOR
                  taskConfig:
                    each: c
                    in: [1, 2]
                    do:
                      - {name: s, kind: RUN, taskConfig: {shell: {command: "echo depth3-ran"}}}
EOF
	wex_start d2 depth2
	wex_start d3 depth3
	wait_phase d2 COMPLETED 20
	wait_phase d3 FAILED 20
	# Each iteration's input is the previous one's output, across both
	# levels: the four values accumulate.
	assert_eq "$(xj d2 '.status.output.grid | join(",")')" 11,12,21,22
	assert_eq "$(xj d3 .status.error)" "limit max_loop_depth (2) exceeded at outer/middle/inner"
	assert_not_contains "$(wx d3)/log" depth3-ran
}

# A workflow that runs itself: each sub-workflow level counts as one loop
# level, so the recursion stops at the depth limit.  (The other limits
# are set so they would end it otherwise, with another message.)
t_flow_limit_loop_depth_recursion() {
	run_strict
	local n s
	remount_execfs max_loop_depth=2,max_total_operations=40,workflow_timeout=20
	# Written first without the call, so the reference exists whatever
	# validation checks; the update makes it call itself.
	wf_put selfie <<'EOF'
    - {name: again, kind: SET, taskConfig: {variables: {a: 1}}}
EOF
	wf_put selfie <<'EOF'
    - name: again
      kind: RUN
      taskConfig: {workflow: selfie, input: {}}
EOF
	wex_start r1 selfie
	wait_phase r1 FAILED 25
	xj r1 .status.error | grep -qF "limit max_loop_depth (2) exceeded" ||
		die "status.error: $(xj r1 .status.error)"
	n=$(n_execs)
	(( n >= 2 && n <= 4 )) || die "$n executions for a depth limit of 2"
	for s in "$MNT/$WEXD"/*; do
		s=${s##*/}
		wait_ended "$s" 10
		assert_ended_not_completed "$s"
	done
}

# ---- max_total_operations -------------------------------------------------------

# counter_wf: inc, then check (a SWITCH: its output is its input) jumps
# back to inc while .n < the workflow input's max; done reads inc's export.
counter_wf() {
	wf_put counter <<'EOF'
    - name: inc
      kind: SET
      taskConfig: {variables: {n: '${ (.n // 0) + 1 }'}}
      export: {as: '${ .n }'}
    - name: check
      kind: SWITCH
      taskConfig:
        cases:
          - {name: more, when: '${ .n < $workflow.input.max }', then: inc}
    - name: done
      kind: SET
      taskConfig: {variables: {final: '${ $context.inc }'}}
EOF
}

t_flow_limit_total_operations_loop() {
	run_strict
	remount_execfs max_total_operations=10
	counter_wf
	# Three rounds: 7 operations, within the limit.
	wex_start c3 counter "$(trig '{"max": 3}')"
	wait_phase c3 COMPLETED 20
	assert_eq "$(xj c3 '.status.output | tojson')" '{"final":3}'
	assert_eq "$(phases_of c3 inc | wc -w)" 6
	# Fifty rounds: stopped at the limit.
	wex_start c50 counter "$(trig '{"max": 50}')"
	wait_phase c50 FAILED 20
	assert_eq "$(xj c50 .status.error)" "limit max_total_operations (10) exceeded"
	# Every task run counts, the SWITCH too: inc, check five times.
	assert_eq "$(phases_of c50 inc | wc -w)" 10
	assert_eq "$(tj c50 inc '.output | tojson')" '{"n":5}'
	assert_not_completed c50 done
	# A jump-back loop inside a TRY: the limit is not caught.
	wf_put tryloop <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: again
            kind: RUN
            taskConfig: {shell: {command: "echo round"}}
            flow: {then: again}
        catch:
          do:
            - {name: caught, kind: SET, taskConfig: {variables: {c: 1}}}
EOF
	wex_start t1 tryloop
	wait_phase t1 FAILED 20
	assert_eq "$(xj t1 .status.error)" "limit max_total_operations (10) exceeded"
	# The TRY is one operation, the rounds the nine others.
	assert_eq "$(grep -c '^round$' "$(wx t1)/log")" 9
	assert_not_completed t1 guard/catch/caught
}

# Nested tasks count: a FOR of 3 x 2 SETs fits in 10, 5 x 2 does not (the
# FOR itself is the eleventh); a
# child execution's tasks count against its parent.
t_flow_limit_total_operations_nested() {
	run_strict
	remount_execfs max_total_operations=10
	wf_put body <<'EOF'
    - name: loop
      kind: FOR
      taskConfig:
        each: i
        in: '${ [range(.n)] }'
        do:
          - {name: a, kind: SET, taskConfig: {variables: {vs: '${ (.vs // []) + [$i] }'}}}
          - {name: b, kind: SET, taskConfig: {variables: {vs: '${ .vs }'}}}
EOF
	wex_start n3 body "$(trig '{"n": 3}')"
	wex_start n5 body "$(trig '{"n": 5}')"
	wait_phase n3 COMPLETED 20
	wait_phase n5 FAILED 20
	assert_eq "$(xj n3 '.status.output | tojson')" '{"vs":[0,1,2]}'
	assert_eq "$(xj n5 .status.error)" "limit max_total_operations (10) exceeded"
	# Each child runs 4 tasks: one call fits, three do not.
	wf_put four <<'EOF'
    - {name: s1, kind: SET, taskConfig: {variables: {v: 1}}}
    - {name: s2, kind: SET, taskConfig: {variables: {v: 2}}}
    - {name: s3, kind: SET, taskConfig: {variables: {v: 3}}}
    - {name: s4, kind: SET, taskConfig: {variables: {v: 4}}}
EOF
	wf_put callonce <<'EOF'
    - {name: c1, kind: RUN, taskConfig: {workflow: four, input: {}}}
EOF
	wf_put callthrice <<'EOF'
    - {name: c1, kind: RUN, taskConfig: {workflow: four, input: {}}}
    - {name: c2, kind: RUN, taskConfig: {workflow: four, input: {}}}
    - {name: c3, kind: RUN, taskConfig: {workflow: four, input: {}}}
EOF
	wex_start o1 callonce
	wex_start o3 callthrice
	wait_phase o1 COMPLETED 30
	wait_phase o3 FAILED 30
	assert_eq "$(xj o1 '.status.output | tojson')" '{"v":4}'
	xj o3 .status.error | grep -qF "limit max_total_operations (10) exceeded" ||
		die "status.error: $(xj o3 .status.error)"
	assert_not_completed o3 c3
}

# ---- workflow_timeout ---------------------------------------------------------------

t_flow_limit_timeout_fork() {
	run_strict
	local m t0
	remount_execfs workflow_timeout=2
	m=$(new_marker)
	wf_tpl slowfork M="$m" <<'EOF'
    - name: fan
      kind: FORK
      taskConfig:
        branches:
          - {name: a, do: [{name: w, kind: WAIT, taskConfig: {seconds: 10}}]}
          - {name: b, do: [{name: w, kind: WAIT, taskConfig: {seconds: 10}}]}
          - name: c
            do:
              - name: nap
                kind: RUN
                taskConfig: {script: {language: bash, code: "exec -a @M@ sleep 600"}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	t0=$SECONDS
	wex_start w1 slowfork
	wait_phase w1 FAILED 10
	(( SECONDS - t0 <= 7 )) || die "workflow_timeout=2 took $((SECONDS - t0)) s"
	assert_eq "$(xj w1 .status.error)" "limit workflow_timeout (2 s) exceeded"
	wait_no_proc "$m" 8
	assert_not_completed w1 fan/a/w
	assert_not_completed w1 fan/b/w
	assert_not_completed w1 fan
	assert_not_contains "$(wx w1)/log" after-ran
}

# The child shares the root's deadline: the whole tree fails in seconds.
t_flow_limit_timeout_child() {
	run_strict
	local t0 cslug
	remount_execfs workflow_timeout=2
	wf_put waiter <<'EOF'
    - {name: w, kind: WAIT, taskConfig: {seconds: 10}}
EOF
	wf_put callswaiter <<'EOF'
    - {name: call, kind: RUN, taskConfig: {workflow: waiter, input: {}}}
EOF
	t0=$SECONDS
	wex_start w2 callswaiter
	wait_phase w2 FAILED 10
	(( SECONDS - t0 <= 7 )) || die "workflow_timeout=2 took $((SECONDS - t0)) s"
	xj w2 .status.error | grep -qF "limit workflow_timeout (2 s) exceeded" ||
		die "status.error: $(xj w2 .status.error)"
	cslug=$(tj w2 call .childExecution.slug)
	wait_ended "$cslug" 5
	assert_ended_not_completed "$cslug"
	assert_not_completed "$cslug" w
}

# ---- validation -----------------------------------------------------------------------

# refused NAME FRAGMENT: the document $TDIR/NAME.yaml is refused by cp with
# EBADMSG, `errors` names it with FRAGMENT, and no workflow appeared.
refused() {
	expect_fail EBADMSG cp "$TDIR/$1.yaml" "$MNT/workflows/" || return 1
	assert_error_line "workflows/$1.yaml" EBADMSG "$2" || return 1
	assert_absent "$MNT/workflows/$1" || return 1
	assert_absent "$MNT/workflowinstances/$1-default"
}

t_flow_validation_refusals() {
	run_strict
	# An unknown kind, nested in a FOR.
	wf_doc_tpl badkind <<'EOF' >"$TDIR/badkind.yaml"
    - name: loop
      kind: FOR
      taskConfig:
        each: i
        in: [1]
        do:
          - {name: x, kind: FROBNICATE, taskConfig: {}}
EOF
	refused badkind "spec.tasks[0].taskConfig.do[0].kind"
	# A missing field: a FOR inside a TRY without `in`.
	wf_doc_tpl nofield <<'EOF' >"$TDIR/nofield.yaml"
    - {name: first, kind: SET, taskConfig: {variables: {a: 1}}}
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: loop
            kind: FOR
            taskConfig:
              each: i
              do:
                - {name: s, kind: SET, taskConfig: {variables: {a: 1}}}
EOF
	refused nofield "spec.tasks[1].taskConfig.try[0].taskConfig.in"
	# A `then` to a task that does not exist in the same list (it exists
	# in the outer one).
	wf_doc_tpl badthen <<'EOF' >"$TDIR/badthen.yaml"
    - name: loop
      kind: FOR
      taskConfig:
        each: i
        in: [1]
        do:
          - {name: s1, kind: SET, taskConfig: {variables: {a: 1}}}
          - {name: s2, kind: SET, taskConfig: {variables: {a: 1}}, flow: {then: outer}}
    - {name: outer, kind: SET, taskConfig: {variables: {a: 1}}}
EOF
	refused badthen "spec.tasks[0].taskConfig.do[1].flow.then"
	# A SWITCH case going nowhere.
	wf_doc_tpl badcase <<'EOF' >"$TDIR/badcase.yaml"
    - name: pick
      kind: SWITCH
      taskConfig:
        cases:
          - {name: c, when: '${ true }', then: ghost}
    - {name: real, kind: SET, taskConfig: {variables: {a: 1}}}
EOF
	refused badcase "spec.tasks[0].taskConfig.cases[0]"
	# An expression that does not compile, and one using a variable out
	# of its scope.
	wf_doc_tpl badexpr <<'EOF' >"$TDIR/badexpr.yaml"
    - {name: first, kind: SET, taskConfig: {variables: {a: 1}}}
    - name: loop
      kind: FOR
      taskConfig:
        each: item
        in: [1]
        do:
          - {name: s, kind: SET, taskConfig: {variables: {ok: '${ $item }', v: '${ .a | }'}}}
EOF
	refused badexpr "spec.tasks[1].taskConfig.do[0].taskConfig.variables.v: expression does not compile"
	wf_doc_tpl badscope <<'EOF' >"$TDIR/badscope.yaml"
    - name: loop
      kind: FOR
      taskConfig:
        each: item
        in: [1]
        do:
          - {name: s, kind: SET, taskConfig: {variables: {v: '${ $item }'}}}
    - {name: after, kind: SET, taskConfig: {variables: {v: '${ $item }'}}}
EOF
	refused badscope "spec.tasks[1].taskConfig.variables.v: expression does not compile"
	# export.as as a name (the old form): refused, showing the new one.
	wf_doc_tpl badexport <<'EOF' >"$TDIR/badexport.yaml"
    - {name: s, kind: SET, taskConfig: {variables: {a: 1}}}
    - {name: keep, kind: SET, taskConfig: {variables: {a: 1}}, export: {as: pings}}
EOF
	refused badexport "spec.tasks[1].export.as: \"pings\" is a name; export.as is now an expression over the task's output, stored as \$context[\"keep\"]"
	# export.as is an expression: one that does not compile is refused.
	wf_doc_tpl badexportexpr <<'EOF' >"$TDIR/badexportexpr.yaml"
    - {name: s, kind: SET, taskConfig: {variables: {a: 1}}, export: {as: '${ .a | }'}}
EOF
	refused badexportexpr "spec.tasks[0].export.as: expression does not compile"
	assert_eq "$(ls "$MNT/workflows" | wc -l)" 0
	# The same shapes, corrected, are accepted (so the refusals were for
	# the faults, not the shapes).
	sed 's/FROBNICATE/SET/; s/taskConfig: {}}/taskConfig: {variables: {a: 1}}}/' \
		"$TDIR/badkind.yaml" >"$TDIR/goodkind.yaml"
	sed 's/name: badkind/name: goodkind/' -i "$TDIR/goodkind.yaml"
	cp "$TDIR/goodkind.yaml" "$MNT/workflows/"
	assert_dir "$MNT/workflows/goodkind"
	sed 's/name: badexpr/name: goodexpr/; s/\.a | /.a /' "$TDIR/badexpr.yaml" >"$TDIR/goodexpr.yaml"
	cp "$TDIR/goodexpr.yaml" "$MNT/workflows/"
	assert_dir "$MNT/workflows/goodexpr"
}

run_tests "$@"
