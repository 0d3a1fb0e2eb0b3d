#!/usr/bin/env bash
# t_pipeline.sh - what the create/update pipelines do, seen through the
# files: input spellings (DESIGN 1.3), defaults, references, default
# instances, generated execution names, server-owned status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

# Enum values by full name, short name (any case) or number; output is the
# short upper-case name.
t_pipeline_enum_spellings() {
	strict
	local i scope
	i=0
	# (Stigmer's ApiResourceOwnerScope values are plain: organization = 2.)
	for scope in ORGANIZATION organization Organization 2 \
		identity_account IDENTITY_ACCOUNT 3; do
		i=$((i + 1))
		printf 'metadata: {name: e%d, ownerScope: %s}\nspec: {description: d}\n' $i "$scope" \
			>"$MNT/environments/e$i.yaml"
		case $scope in
		identity_account | IDENTITY_ACCOUNT | 3) assert_eq "$(rj environments e$i .metadata.ownerScope)" IDENTITY_ACCOUNT "scope $scope" ;;
		*) assert_eq "$(rj environments e$i .metadata.ownerScope)" ORGANIZATION "scope $scope" ;;
		esac
	done
	local k
	i=0
	for k in RUN run Run 12 WORKFLOW_TASK_KIND_RUN workflow_task_kind_run; do
		i=$((i + 1))
		wf_doc "w$i" | sed "s/kind: RUN/kind: $k/" >"$MNT/workflows/w$i.yaml"
		assert_eq "$(rj workflows w$i '.spec.tasks[0].kind')" RUN "task kind $k"
	done
	printf 'metadata: {name: x1}\nspec: {workflowId: w1}\nstatus: {phase: EXECUTION_CANCELLED, error: planted}\n' \
		>"$MNT/workflowexecutions/x1.yaml"
	wait_run_end x1 || return 1
	assert_eq "$(rj workflowexecutions x1 .status.phase)" COMPLETED "status given on input is dropped"
	assert_eq "$(rj workflowexecutions x1 .status.error)" null "status given on input is dropped"
}

# snake_case input is accepted; output is lowerCamelCase.
t_pipeline_snake_case_input() {
	strict
	cat >"$MNT/environments/snake.yaml" <<'EOF'
api_version: agentic.stigmer.ai/v1
metadata: {name: snake, owner_scope: organization}
spec:
  data:
    API_KEY: {value: s3cr3t-value, is_secret: true}
EOF
	assert_eq "$(rj environments snake .spec.data.API_KEY.isSecret)" true
	assert_eq "$(rj environments snake .spec.data.API_KEY.value)" '***'
	cat >"$MNT/workflows/snakewf.yaml" <<'EOF'
metadata: {name: snakewf}
spec:
  document: {dsl: 1.0.0, namespace: acme, name: snakewf, version: 1.0.0}
  env_spec: {data: {A: {value: b}}}
  tasks:
    - name: t1
      kind: WORKFLOW_TASK_KIND_RUN
      task_config: {shell: {command: "echo hi"}}
EOF
	assert_eq "$(rj workflows snakewf '.spec.tasks[0].taskConfig.shell.command')" "echo hi"
	assert_eq "$(rj workflows snakewf '.spec.envSpec.data.A.value')" b
	cat >"$MNT/workflowinstances/snakeinst.yaml" <<'EOF'
metadata: {name: snakeinst}
spec: {workflow_id: snakewf, env_refs: [snake]}
EOF
	assert_eq "$(rj workflowinstances snakeinst .spec.workflowId)" "$(rid workflows snakewf)"
	printf 'metadata: {name: sx}\nspec: {workflow_instance_id: snakeinst, runtime_env: {A: {value: b}}}\n' \
		>"$MNT/workflowexecutions/sx.yaml"
	assert_eq "$(rj workflowexecutions sx .spec.workflowInstanceId)" "$(rid workflowinstances snakeinst)"
	assert_eq "$(rj workflowexecutions sx .spec.runtimeEnv.A.value)" b
	# No snake_case key in any output.
	if cat "$MNT"/*/*/resource.json | jq -r '[paths|.[]|strings]|unique[]' | grep -v '^[A-Z0-9_]*$' | grep -q _; then
		die "snake_case key in output"
	fi
}

# Executions started through a workflow's run file get
# <workflow-slug>-<yyyymmdd-hhmmss>, unique even when several start in the
# same second.
t_pipeline_execution_names_unique() {
	strict
	wf_doc flow >"$TDIR/flow.yaml"
	cp "$TDIR/flow.yaml" "$MNT/workflows/"
	local i
	for i in 1 2 3 4; do
		echo '{}' >"$MNT/workflows/flow/run"
	done
	assert_eq "$(ls "$MNT/workflowexecutions" | wc -l)" 4 "four executions"
	assert_eq "$(ls "$MNT/workflowexecutions" | grep -cE '^flow-[0-9]{8}-[0-9]{6}')" 4 "generated names"
	local today
	today=$(date -u +%Y%m%d)
	ls "$MNT/workflowexecutions" | grep -q "^flow-$today-" ||
		ls "$MNT/workflowexecutions" | grep -q "^flow-$(date +%Y%m%d)-" ||
		die "names do not carry today's date: $(ls "$MNT/workflowexecutions")"
}

# A workflow's default instance: made with the workflow, re-made by an
# execution when it was deleted, never duplicated.
t_pipeline_default_instance() {
	strict
	wf_doc flow >"$TDIR/flow.yaml"
	cp "$TDIR/flow.yaml" "$MNT/workflows/"
	local did wid nid x
	did=$(rid workflowinstances flow-default)
	wid=$(rid workflows flow)
	assert_eq "$(rj workflowinstances flow-default .spec.workflowId)" "$wid"
	assert_eq "$(rj workflowinstances flow-default .metadata.ownerScope)" PLATFORM
	# Updating the workflow keeps the instance and the link.
	sed -i 's/echo hi/echo again/' "$MNT/workflows/flow/spec.yaml"
	assert_eq "$(rid workflowinstances flow-default)" "$did"
	assert_eq "$(rj workflows flow .status.defaultInstanceId)" "$did"
	# An execution by workflow runs on the default instance.
	printf 'metadata: {name: x1}\nspec: {workflowId: flow}\n' >"$MNT/workflowexecutions/x1.yaml"
	assert_eq "$(rj workflowexecutions x1 .spec.workflowInstanceId)" "$did"
	# Delete the default instance; the next execution makes a new one.
	rmdir "$MNT/workflowinstances/flow-default"
	printf 'metadata: {name: x2}\nspec: {workflowId: flow}\n' >"$MNT/workflowexecutions/x2.yaml"
	assert_dir "$MNT/workflowexecutions/x2"
	assert_dir "$MNT/workflowinstances/flow-default"
	nid=$(rid workflowinstances flow-default)
	x=$(rj workflowexecutions x2 .spec.workflowInstanceId)
	assert_eq "$x" "$nid" "execution uses the re-made default instance"
	[ -L "$MNT/by-id/$x" ] || die "the execution's instance $x does not exist"
	assert_eq "$(rj workflows flow .status.defaultInstanceId)" "$nid"
	assert_eq "$(ls "$MNT/workflowinstances" | tr '\n' ' ')" "flow-default "
}

# A refused create leaves nothing behind, not even a default instance.
t_pipeline_refused_create_leaves_nothing() {
	strict
	local before
	wf_doc flow >"$TDIR/flow.yaml"
	cp "$TDIR/flow.yaml" "$MNT/workflows/"
	rmdir "$MNT/workflowinstances/flow-default"
	before=$(snapshot)
	printf 'metadata: {name: x1}\nspec: {workflowId: flow, bogusField: 1}\n' >"$TDIR/x1.yaml"
	expect_fail EBADMSG cp "$TDIR/x1.yaml" "$MNT/workflowexecutions/"
	printf 'metadata: {name: x2}\nspec: {workflowId: nosuch}\n' >"$TDIR/x2.yaml"
	expect_fail ENOENT cp "$TDIR/x2.yaml" "$MNT/workflowexecutions/"
	assert_error_line workflowexecutions/x2.yaml ENOENT nosuch
	# A bad workflow document creates no default instance.
	wf_doc flow2 | sed 's/dsl: 1.0.0/dsl: 9.9.9/' >"$TDIR/flow2.yaml"
	expect_fail EBADMSG cp "$TDIR/flow2.yaml" "$MNT/workflows/"
	assert_eq "$(snapshot)" "$before" "views after refused creates"
	assert_absent "$MNT/workflowinstances/flow-default"
	assert_absent "$MNT/workflowinstances/flow2-default"
}

# Names that give the same slug are the same resource (apply = update).
t_pipeline_same_slug_is_apply() {
	strict
	local id
	env_doc "My Env" >"$TDIR/a.yaml"
	cp "$TDIR/a.yaml" "$MNT/environments/"
	id=$(rid environments my-env)
	env_doc "my env" s3cr3t-value second >"$TDIR/b.yaml"
	cp "$TDIR/b.yaml" "$MNT/environments/"
	assert_eq "$(ls "$MNT/environments")" my-env
	assert_eq "$(rid environments my-env)" "$id"
	assert_eq "$(rj environments my-env .spec.description)" second
	# References by id work like references by slug.
	wf_doc flow >"$TDIR/flow.yaml"
	cp "$TDIR/flow.yaml" "$MNT/workflows/"
	printf 'metadata: {name: i1}\nspec: {workflowId: %s, envRefs: [%s]}\n' \
		"$(rid workflows flow)" "$id" >"$MNT/workflowinstances/i1.yaml"
	assert_eq "$(rj workflowinstances i1 .spec.workflowId)" "$(rid workflows flow)"
	rj workflowinstances i1 '.spec.envRefs|tostring' | grep -qF "$id" || die "envRefs lost the id"
	printf 'metadata: {name: x1}\nspec: {workflowInstanceId: %s}\n' "$(rid workflowinstances i1)" \
		>"$MNT/workflowexecutions/x1.yaml"
	assert_eq "$(rj workflowexecutions x1 .spec.workflowInstanceId)" "$(rid workflowinstances i1)"
}

# A file written into workflowexecutions/ without metadata.name is named
# after the file; writing it again once the run started is EPERM, with an
# errors line saying how to start a new run.
t_pipeline_execution_named_after_file() {
	strict
	wf_doc flow >"$TDIR/flow.yaml"
	cp "$TDIR/flow.yaml" "$MNT/workflows/"
	cat >"$MNT/workflowexecutions/slow1.yaml" <<'EOF'
spec: {workflowId: flow}
EOF
	assert_dir "$MNT/workflowexecutions/slow1"
	assert_eq "$(ls "$MNT/workflowexecutions")" slow1
	assert_eq "$(jq -r .metadata.name "$MNT/workflowexecutions/slow1/resource.json")" slow1
	wait_run_end slow1 || return 1
	printf 'spec: {workflowId: flow}\n' >"$TDIR/again.yaml"
	expect_fail EPERM cp "$TDIR/again.yaml" "$MNT/workflowexecutions/slow1.yaml" || return 1
	assert_error_line workflowexecutions/slow1.yaml EPERM "write it to workflows/flow/run (a generated name)"
	assert_eq "$(ls "$MNT/workflowexecutions")" slow1 "no new execution"
}

run_tests "$@"
