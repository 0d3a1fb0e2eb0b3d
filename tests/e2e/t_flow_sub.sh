#!/usr/bin/env bash
# t_flow_sub.sh - RUN workflow (issue 4): a task runs another Workflow as a
# child WorkflowExecution with a rendered input; the parent's entry names
# the child; the task's output is the child's status.output (its last
# task's output); a failing
# child fails the task naming it; cancelling the parent cancels the
# child; the workflow may be named by id or slug; a dry run only says
# what it would run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

# child_wf: `child` doubles its input's n (compute, exported into
# $context), then report outputs the export under result.
child_wf() {
	wf_put child <<'EOF'
    - name: compute
      kind: SET
      taskConfig: {variables: {doubled: '${ .n * 2 }', seen: '${ . }'}}
      export: {as: '${ . }'}
    - name: report
      kind: SET
      taskConfig: {variables: {result: '${ $context.compute }'}}
EOF
}

t_flow_sub_runs_child() {
	run_strict
	local cid cslug
	child_wf
	wf_put parent <<'EOF'
    - name: call
      kind: RUN
      taskConfig:
        workflow: child
        input: {n: 5}
      export: {as: '${ .result }'}
    - name: use
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "child said $1 $2"'
          arguments: ['d=${ .result.doubled }', 'c=${ $context.call.doubled }']
EOF
	wex_start p1 parent
	wait_phase p1 COMPLETED 30
	# The parent's entry names the child execution.
	cid=$(tj p1 call .childExecution.id)
	cslug=$(tj p1 call .childExecution.slug)
	[[ $cid =~ ^wex-$ID_RE$ ]] || die "childExecution.id '$cid'"
	[ "$cslug" != p1 ] || die "the child has the parent's slug"
	assert_created "$WEXD" "$cslug"
	assert_eq "$(rid "$WEXD" "$cslug")" "$cid"
	# The child ran on its own, with the input as its triggerMessage.
	assert_eq "$(phase_of "$cslug")" COMPLETED
	assert_eq "$(xj "$cslug" .spec.workflowId)" "$(rid workflows child)"
	assert_eq "$(xj "$cslug" '.spec.triggerMessage | fromjson | tojson')" '{"n":5}'
	assert_eq "$(xj "$cslug" '.status.output.result | "\(.doubled) \(.seen | tojson)"')" '10 {"n":5}'
	assert_eq "$(xj "$cslug" '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		compute=COMPLETED,report=COMPLETED
	# The task's output is the child's status.output, its last task's;
	# the next task's input, and exported into $context.
	assert_eq "$(tj p1 call '.output | tojson')" "$(xj "$cslug" '.status.output | tojson')"
	assert_eq "$(tj p1 call '.output | tojson')" '{"result":{"doubled":10,"seen":{"n":5}}}'
	assert_eq "$(xj p1 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		call=COMPLETED,use=COMPLETED
	assert_eq "$(cat "$(wx p1)/log")" "child said d=10 c=10"
	assert_eq "$(xj p1 .status.output)" "child said d=10 c=10"
	# Its events are its own.
	assert_eq "$(evq "$cslug" "map(select(.executionId != \"$cid\")) | length")" 0
	assert_eq "$(ev_count p1 '.task == "compute"')" 0
}

# The workflow named by id, the input rendered from the parent's input.
t_flow_sub_by_id() {
	run_strict
	local wid cslug
	child_wf
	wid=$(rid workflows child)
	wf_tpl byid W="$wid" <<'EOF'
    - name: call
      kind: RUN
      taskConfig:
        workflow: '@W@'
        input: {n: '${ .n }'}
EOF
	wex_start b1 byid "$(trig '{"n": 21}')"
	wait_phase b1 COMPLETED 30
	cslug=$(tj b1 call .childExecution.slug)
	assert_eq "$(xj "$cslug" .spec.workflowId)" "$wid"
	assert_eq "$(phase_of "$cslug")" COMPLETED
	assert_eq "$(xj b1 .status.output.result.doubled)" 42
	# And the slug given through an expression.
	wf_put byexpr <<'EOF'
    - name: call
      kind: RUN
      taskConfig:
        workflow: '${ .wf }'
        input: {n: 1}
EOF
	wex_start b2 byexpr "$(trig '{"wf": "child"}')"
	wait_phase b2 COMPLETED 30
	assert_eq "$(xj b2 .status.output.result.doubled)" 2
}

# A child that fails fails the parent's task, naming the child.
t_flow_sub_failing_child() {
	run_strict
	local cslug
	wf_put failchild <<'EOF'
    - name: broken
      kind: RUN
      taskConfig: {shell: {command: "echo child-failing; exit 4"}}
EOF
	wf_put callsfail <<'EOF'
    - name: call
      kind: RUN
      taskConfig: {workflow: failchild, input: {}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wex_start f1 callsfail
	wait_phase f1 FAILED 30
	cslug=$(tj f1 call .childExecution.slug)
	assert_eq "$(phase_of "$cslug")" FAILED
	assert_eq "$(xj "$cslug" .status.error)" "task broken failed: exit status 4"
	assert_contains "$(wx "$cslug")/log" child-failing
	assert_eq "$(xj f1 '[.status.tasks[].status] | join(",")')" FAILED,SKIPPED
	tj f1 call .error | grep -qF failchild || die "task error does not name the child: $(tj f1 call .error)"
	xj f1 .status.error | grep -qF failchild || die "status.error: $(xj f1 .status.error)"
	assert_not_contains "$(wx f1)/log" after-ran
}

# Cancelling the parent cancels the child and ends its task's process.
t_flow_sub_cancel() {
	run_strict
	local m cslug
	m=$(new_marker)
	wf_tpl napper M="$m" <<'EOF'
    - name: nap
      kind: RUN
      taskConfig:
        script: {language: bash, code: "echo napping; exec -a @M@ sleep 600"}
EOF
	wf_put callsnap <<'EOF'
    - name: call
      kind: RUN
      taskConfig: {workflow: napper, input: {}}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wex_start k1 callsnap
	wait_proc "$m" 15
	wait_until 10 has_child k1 call
	cslug=$(tj k1 call .childExecution.slug)
	assert_eq "$(phase_of "$cslug")" IN_PROGRESS
	assert_eq "$(phase_of k1)" IN_PROGRESS
	echo cancel >"$(wx k1)/ctl"
	wait_phase k1 CANCELLED 15
	wait_phase "$cslug" CANCELLED 15
	wait_no_proc "$m" 5
	assert_eq "$(xj k1 '[.status.tasks[].status] | join(",")')" CANCELLED,SKIPPED
	assert_eq "$(tj "$cslug" nap .status)" CANCELLED
	assert_not_contains "$(wx k1)/log" after-ran
}

# A dry run says which workflow it would run and runs nothing.
t_flow_sub_dryrun() {
	run_strict
	wf_tpl toucher T="$TDIR" <<'EOF'
    - name: touch
      kind: RUN
      taskConfig: {shell: {command: "touch @T@/touched"}}
EOF
	wf_put callstouch <<'EOF'
    - name: call
      kind: RUN
      taskConfig: {workflow: toucher, input: {n: 1}}
EOF
	wex_start d1 callstouch "  dryRun: true"
	wait_phase d1 COMPLETED 20
	traces d1 >"$TDIR/traces"
	assert_contains "$TDIR/traces" "would run workflow toucher"
	assert_eq "$(xj d1 .status.summary.dryRun)" true
	assert_absent "$TDIR/touched"
}

run_tests "$@"
