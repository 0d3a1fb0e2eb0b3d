#!/usr/bin/env bash
# t_views.sh - the files of a resource directory (DESIGN 1.2): spec.yaml as
# written (comments kept, secrets masked), resource.yaml, resource.json,
# status.yaml, id; and the top of the tree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

ME=$(id -un)

# spec.yaml is the document as last written, comments and layout kept,
# with only the secret value replaced by the mask.
t_views_spec_keeps_comments() {
	strict
	cat >"$TDIR/prod.yaml" <<'EOF'
# Production environment -- keep this comment
apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: prod   # trailing comment
spec:
  description:   "spaced  out"
  data:
    API_KEY: {value: s3cr3t-value, isSecret: true}   # the key
    REGION:
      value: eu

# end of file comment
EOF
	cp "$TDIR/prod.yaml" "$MNT/environments/"
	local spec=$MNT/environments/prod/spec.yaml
	assert_contains "$spec" "# Production environment -- keep this comment"
	assert_contains "$spec" "# trailing comment"
	assert_contains "$spec" "# end of file comment"
	assert_contains "$spec" '***'
	assert_not_contains "$spec" s3cr3t-value
	# Every line but the secret's is byte-identical.
	diff <(grep -v API_KEY "$TDIR/prod.yaml") <(grep -v API_KEY "$spec") ||
		die "spec.yaml differs from the written document"
	grep API_KEY "$spec" | grep -qF '# the key' || die "comment on the secret line lost"
	# The masked spec is valid YAML that says the same as resource.json.
	assert_eq "$(rj environments prod .spec.data.API_KEY.value)" '***'
	assert_eq "$(rj environments prod .spec.data.API_KEY.isSecret)" true
	assert_eq "$(rj environments prod .spec.data.REGION.value)" eu
	assert_eq "$(rj environments prod .spec.description)" "spaced  out"
}

t_views_resource_json() {
	strict
	make_good_set
	local kd slug id now
	now=$(date -u +%Y-%m-%d)
	for r in workflows/goodwf workflowinstances/goodwf-default workflowinstances/goodinst \
		workflowexecutions/goodexec executioncontexts/goodctx environments/goodenv; do
		kd=${r%/*} slug=${r#*/}
		id=$(rid "$kd" "$slug")
		jq -e . <"$MNT/$r/resource.json" >/dev/null || die "$r/resource.json is not JSON"
		assert_eq "$(rj "$kd" "$slug" .apiVersion)" agentic.stigmer.ai/v1 "$r apiVersion"
		assert_eq "$(rj "$kd" "$slug" .metadata.id)" "$id" "$r id"
		assert_eq "$(rj "$kd" "$slug" .metadata.slug)" "$slug" "$r slug"
		assert_eq "$(rj "$kd" "$slug" .status.audit.specAudit.createdBy.id)" "$ME" "$r createdBy"
		assert_eq "$(rj "$kd" "$slug" .status.audit.specAudit.updatedBy.id)" "$ME" "$r updatedBy"
		assert_eq "$(rj "$kd" "$slug" .status.audit.specAudit.event)" created "$r event"
		[[ $(rj "$kd" "$slug" .status.audit.specAudit.createdAt) == "$now"T* ]] ||
			die "$r createdAt: $(rj "$kd" "$slug" .status.audit.specAudit.createdAt)"
		[[ $(rj "$kd" "$slug" .status.audit.specAudit.updatedAt) == "$now"T* ]] ||
			die "$r updatedAt"
		[ "$(rj "$kd" "$slug" '.status.audit.statusAudit|type')" = object ] ||
			die "$r has no statusAudit"
		# Output keys are lowerCamelCase: no snake_case key anywhere.
		if jq -r '[paths|.[]|strings]|unique[]' <"$MNT/$r/resource.json" |
			grep -v -e '^[A-Z_0-9]*$' | grep -q '_'; then
			die "$r has snake_case keys: $(jq -r '[paths|.[]|strings]|unique[]' <"$MNT/$r/resource.json" | grep _ | tr '\n' ' ')"
		fi
	done
	assert_eq "$(rj workflows goodwf .kind)" Workflow
	assert_eq "$(rj workflowinstances goodinst .kind)" WorkflowInstance
	assert_eq "$(rj workflowexecutions goodexec .kind)" WorkflowExecution
	assert_eq "$(rj executioncontexts goodctx .kind)" ExecutionContext
	assert_eq "$(rj environments goodenv .kind)" Environment
	assert_eq "$(rj workflows goodwf .metadata.ownerScope)" PLATFORM
	assert_eq "$(rj environments goodenv .metadata.ownerScope)" ORGANIZATION
	assert_eq "$(rj workflowexecutions goodexec .metadata.ownerScope)" ORGANIZATION
	assert_eq "$(rj workflowexecutions goodexec .status.phase)" COMPLETED
	assert_eq "$(rj workflows goodwf '.spec.tasks[0].kind')" RUN
	assert_eq "$(rj workflows goodwf '.spec.tasks[0].taskConfig.shell.command')" "echo hi"
	assert_eq "$(rj workflows goodwf '.spec.document.dsl')" 1.0.0
	assert_eq "$(rj executioncontexts goodctx .spec.data.TOKEN.value)" '***'
	assert_eq "$(rj executioncontexts goodctx .spec.executionId)" "$(rid workflowexecutions goodexec)"
}

# resource.yaml says the same as resource.json; status.yaml is its status.
t_views_resource_yaml_and_status() {
	strict
	make_good_set
	local r=$MNT/workflowexecutions/goodexec id
	id=$(cat "$r/id")
	assert_contains "$r/resource.yaml" "apiVersion: agentic.stigmer.ai/v1"
	assert_contains "$r/resource.yaml" "kind: WorkflowExecution"
	assert_contains "$r/resource.yaml" "id: $id"
	assert_contains "$r/resource.yaml" "slug: goodexec"
	assert_contains "$r/resource.yaml" "phase: COMPLETED"
	assert_contains "$r/resource.yaml" "specAudit:"
	grep -qE '^metadata:' "$r/resource.yaml" || die "no metadata: block"
	grep -qE '^spec:' "$r/resource.yaml" || die "no spec: block"
	grep -qE '^status:' "$r/resource.yaml" || die "no status: block"
	assert_contains "$r/status.yaml" "phase: COMPLETED"
	assert_contains "$r/status.yaml" "specAudit:"
	assert_not_contains "$r/status.yaml" "workflowId"
	assert_not_contains "$r/status.yaml" "apiVersion"
	grep -qE "value: ('\\*\\*\\*'|\"\\*\\*\\*\")" "$MNT/environments/goodenv/resource.yaml" ||
		die "resource.yaml does not show the secret as a quoted ***"
	assert_not_contains "$MNT/environments/goodenv/resource.yaml" s3cr3t-value
	assert_contains "$MNT/workflows/goodwf/status.yaml" "defaultInstanceId: $(rid workflowinstances goodwf-default)"
	# If python's yaml module is around, the two renderings must agree.
	if python3 -c 'import yaml' 2>/dev/null; then
		for d in "$r" "$MNT/environments/goodenv" "$MNT/workflows/goodwf" \
			"$MNT/executioncontexts/goodctx"; do
			python3 - "$d" <<'EOF' || die "resource.yaml and resource.json disagree in $d"
import json, sys, yaml
d = sys.argv[1]
class L(yaml.SafeLoader):
    pass
# Timestamps stay strings, as in JSON.
L.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
a = yaml.load(open(d + "/resource.yaml"), Loader=L)
b = json.load(open(d + "/resource.json"))
if a != b:
    print(a, b, file=sys.stderr)
    sys.exit(1)
EOF
		done
	fi
}

# id is metadata.id and a newline; sizes are exact; views are read-only.
t_views_id_and_modes() {
	strict
	make_good_set
	local d=$MNT/environments/goodenv id v
	id=$(rj environments goodenv .metadata.id)
	assert_eq "$(cat "$d/id")" "$id"
	assert_eq "$(stat -c %s "$d/id")" $((${#id} + 1)) "id size"
	assert_eq "$(tail -c 1 "$d/id" | od -An -c | tr -d ' ')" '\n'
	for v in resource.yaml resource.json status.yaml id; do
		assert_fails sh -c "echo x > '$d/$v'"
		assert_eq "$(rj environments goodenv .metadata.id)" "$id"
	done
	[ -w "$d/spec.yaml" ] || die "spec.yaml not writable"
	# Read views are not affected by an attempt to truncate them.
	assert_fails truncate -s 0 "$d/resource.json"
	jq -e . <"$d/resource.json" >/dev/null
}

# The top of the tree (DESIGN 1.2).
t_views_tree() {
	strict
	local e
	for e in README errors workflows workflowinstances workflowexecutions \
		executioncontexts environments by-id; do
		[ -e "$MNT/$e" ] || die "missing $e"
	done
	assert_file "$MNT/README"
	assert_file "$MNT/errors"
	[ -s "$MNT/README" ] || die "README is empty"
	for e in $KINDDIRS; do
		assert_dir "$MNT/$e"
		assert_contains "$MNT/README" "$e"
	done
	assert_eq "$(cat "$MNT/errors")" "" "errors of a fresh mount"
	assert_eq "$(ls "$MNT/environments" | wc -l)" 0
	# by-id lists exactly the ids of all resources.
	make_good_set
	local want got
	want=$(for e in $KINDDIRS; do for d in "$MNT/$e"/*/; do cat "$d/id"; done; done | sort)
	got=$(ls "$MNT/by-id" | sort)
	assert_eq "$got" "$want" "by-id listing"
}

# Views are current after every change (no stale kernel cache).
t_views_fresh_after_change() {
	strict
	env_doc prod >"$TDIR/p.yaml"
	cp "$TDIR/p.yaml" "$MNT/environments/"
	local i
	for i in 1 2 3 4 5; do
		cat "$MNT/environments/prod/resource.json" >/dev/null
		cat "$MNT/environments/prod/spec.yaml" >/dev/null
		sed -i "s/description: .*/description: round-$i/" "$MNT/environments/prod/spec.yaml"
		assert_eq "$(rj environments prod .spec.description)" "round-$i"
		assert_contains "$MNT/environments/prod/spec.yaml" "description: round-$i"
		assert_contains "$MNT/environments/prod/resource.yaml" "round-$i"
		assert_eq "$(stat -c %s "$MNT/environments/prod/spec.yaml")" \
			"$(wc -c <"$MNT/environments/prod/spec.yaml")" "spec size after change"
	done
}

run_tests "$@"
