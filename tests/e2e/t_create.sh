#!/usr/bin/env bash
# t_create.sh - creating every kind the ways a user would (DESIGN 1.4):
# cp, tee, cat > (heredoc), rsync, and mkdir + writing the draft's spec.yaml.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

# create_all METHOD SUFFIX: create one resource of each kind with METHOD
# (a function taking SOURCE-FILE KINDDIR FILE-NAME), names ending in SUFFIX.
create_all() {
	local m=$1 s=$2 wex
	env_doc "env$s" >"$TDIR/env$s.yaml"
	"$m" "$TDIR/env$s.yaml" environments "env$s.yaml"
	assert_created environments "env$s" "env$s.yaml"

	wf_doc "wf$s" >"$TDIR/wf$s.yaml"
	"$m" "$TDIR/wf$s.yaml" workflows "wf$s.yaml"
	assert_created workflows "wf$s" "wf$s.yaml"
	assert_created workflowinstances "wf$s-default"

	inst_doc "inst$s" "wf$s" "env$s" >"$TDIR/inst$s.yaml"
	"$m" "$TDIR/inst$s.yaml" workflowinstances "inst$s.yaml"
	assert_created workflowinstances "inst$s" "inst$s.yaml"

	exec_doc "run$s" "wf$s" >"$TDIR/run$s.yaml"
	"$m" "$TDIR/run$s.yaml" workflowexecutions "run$s.yaml"
	assert_created workflowexecutions "run$s" "run$s.yaml"
	wex=$(rid workflowexecutions "run$s")
	wait_run_end "run$s" || return 1

	ctx_doc "ctx$s" "$wex" >"$TDIR/ctx$s.yaml"
	"$m" "$TDIR/ctx$s.yaml" executioncontexts "ctx$s.yaml"
	assert_created executioncontexts "ctx$s" "ctx$s.yaml"
}

by_cp() { cp "$1" "$MNT/$2/"; }
by_tee() { tee "$MNT/$2/$3" <"$1" >/dev/null; }
by_cat() { cat >"$MNT/$2/$3" <"$1"; }
by_rsync() { rsync "$1" "$MNT/$2/$3"; }
by_dd() { dd if="$1" of="$MNT/$2/$3" status=none; }

t_create_cp() { strict; create_all by_cp -cp; }
t_create_tee() { strict; create_all by_tee -tee; }
t_create_cat_redirect() { strict; create_all by_cat -cat; }
t_create_rsync() { strict; create_all by_rsync -rs; }
t_create_dd() { strict; create_all by_dd -dd; }

# A heredoc straight into the kind directory, as in a shell session.
t_create_heredoc() {
	strict
	cat >"$MNT/environments/heredoc.yaml" <<'EOF'
# my environment
metadata:
  name: heredoc
spec:
  description: from a heredoc
  data:
    REGION: {value: us}
EOF
	assert_created environments heredoc heredoc.yaml
	assert_eq "$(rj environments heredoc .spec.description)" "from a heredoc"
	cat >"$MNT/workflows/hd.yaml" <<'EOF'
metadata: {name: hd}
spec:
  document: {dsl: 1.0.0, namespace: acme, name: hd, version: 1.0.0}
  tasks: [{name: t1, kind: RUN, taskConfig: {shell: {command: "echo hi"}}}]
EOF
	assert_created workflows hd hd.yaml
}

# mkdir makes a draft with a commented template; writing its spec.yaml
# creates the resource under the draft's name.
t_create_mkdir_draft() {
	strict
	local kd name wex
	for kd in environments workflows workflowinstances workflowexecutions executioncontexts; do
		mkdir "$MNT/$kd/draft-$kd"
		assert_dir "$MNT/$kd/draft-$kd"
		assert_file "$MNT/$kd/draft-$kd/spec.yaml"
		grep -q '^ *#' "$MNT/$kd/draft-$kd/spec.yaml" ||
			die "$kd draft template has no comment"
		ls "$MNT/$kd" | grep -qx "draft-$kd" || die "draft not listed in $kd"
	done
	env_doc draft-environments | sed '/^  name:/d' >"$MNT/environments/draft-environments/spec.yaml"
	wf_doc draft-workflows >"$MNT/workflows/draft-workflows/spec.yaml"
	inst_doc draft-workflowinstances draft-workflows draft-environments \
		>"$MNT/workflowinstances/draft-workflowinstances/spec.yaml"
	exec_doc draft-workflowexecutions draft-workflows \
		>"$MNT/workflowexecutions/draft-workflowexecutions/spec.yaml"
	wex=$(rid workflowexecutions draft-workflowexecutions)
	# The execution runs; its contexts go when it ends: write this one after.
	wait_run_end draft-workflowexecutions || return 1
	ctx_doc draft-executioncontexts "$wex" \
		>"$MNT/executioncontexts/draft-executioncontexts/spec.yaml"
	for kd in environments workflows workflowinstances workflowexecutions executioncontexts; do
		assert_created "$kd" "draft-$kd"
		assert_eq "$(rj "$kd" "draft-$kd" .metadata.name)" "draft-$kd"
	done
	# The metadata.name omitted above came from the directory name.
	assert_eq "$(rj environments draft-environments .spec.description)" d
	# A draft survives nothing: rmdir discards one, unmount forgets one.
	mkdir "$MNT/environments/scrap"
	rmdir "$MNT/environments/scrap"
	assert_absent "$MNT/environments/scrap"
	mkdir "$MNT/environments/forgotten"
	remount_execfs
	assert_absent "$MNT/environments/forgotten"
	assert_created environments draft-environments
}

# A draft whose document names another resource may not create it under a
# different slug.
t_create_mkdir_name_mismatch() {
	strict
	mkdir "$MNT/environments/alpha"
	env_doc beta >"$TDIR/beta.yaml"
	assert_fails cp "$TDIR/beta.yaml" "$MNT/environments/alpha/spec.yaml"
	assert_absent "$MNT/environments/beta"
	assert_absent "$MNT/environments/alpha/id"
}

# metadata.name may be omitted: the file stem gives it; the slug follows
# Stigmer's rule.
t_create_names_and_slugs() {
	strict
	env_doc x | sed '/^  name:/d' >"$TDIR/staging-eu.yaml"
	cp "$TDIR/staging-eu.yaml" "$MNT/environments/"
	assert_created environments staging-eu staging-eu.yaml
	assert_eq "$(rj environments staging-eu .metadata.name)" staging-eu

	env_doc "My Env" >"$TDIR/a.yaml"
	cp "$TDIR/a.yaml" "$MNT/environments/"
	assert_created environments my-env a.yaml
	assert_eq "$(rj environments my-env .metadata.name)" "My Env"

	env_doc "'Agent@123!'" >"$TDIR/b.yaml"
	cp "$TDIR/b.yaml" "$MNT/environments/"
	assert_created environments agent123 b.yaml

	env_doc "'  My   Cool__Env.  '" >"$TDIR/c.yaml"
	cp "$TDIR/c.yaml" "$MNT/environments/"
	assert_created environments my-coolenv c.yaml

	# JSON is YAML; a .json name works too.
	printf '%s\n' '{"kind": "Environment", "metadata": {"name": "from-json"},' \
		'"spec": {"data": {"A": {"value": "1"}}}}' >"$TDIR/j.json"
	cp "$TDIR/j.json" "$MNT/environments/"
	assert_created environments from-json j.json

	# A file name without a YAML suffix, renamed onto one (the rename is the
	# commit point).
	env_doc renamed >"$MNT/environments/renamed.tmp"
	mv "$MNT/environments/renamed.tmp" "$MNT/environments/renamed.yaml"
	assert_created environments renamed renamed.yaml
	assert_absent "$MNT/environments/renamed.tmp"
}

# Defaults: ownerScope, apiVersion, kind; the default instance; the
# execution's generated name; references by slug stored as ids.
t_create_defaults_and_references() {
	strict
	local wid iid eid exid name
	cp /dev/stdin "$MNT/environments/prod.yaml" <<'EOF'
metadata: {name: prod}
spec: {description: d, data: {API_KEY: {value: s3cr3t-value, isSecret: true}, REGION: {value: eu}}}
EOF
	assert_created environments prod
	assert_eq "$(rj environments prod .metadata.ownerScope)" ORGANIZATION
	assert_eq "$(rj environments prod .apiVersion)" agentic.stigmer.ai/v1
	assert_eq "$(rj environments prod .kind)" Environment

	cat >"$MNT/workflows/wf1.yaml" <<'EOF'
metadata: {name: wf1}
spec: {document: {dsl: 1.0.0, namespace: acme, name: wf1, version: 1.0.0}, tasks: [{name: t1, kind: RUN, taskConfig: {shell: {command: "echo hi"}}}]}
EOF
	assert_created workflows wf1
	assert_eq "$(rj workflows wf1 .metadata.ownerScope)" PLATFORM
	assert_eq "$(rj workflows wf1 .kind)" Workflow
	assert_eq "$(rj workflows wf1 '.spec.tasks[0].kind')" RUN
	wid=$(rid workflows wf1)
	assert_created workflowinstances wf1-default
	assert_eq "$(rj workflows wf1 .status.defaultInstanceId)" "$(rid workflowinstances wf1-default)"
	assert_eq "$(rj workflowinstances wf1-default .spec.workflowId)" "$wid"

	# References by slug are stored as ids; by id works too.
	cat >"$MNT/workflowinstances/i1.yaml" <<'EOF'
spec: {workflowId: wf1, envRefs: [prod]}
EOF
	assert_created workflowinstances i1
	assert_eq "$(rj workflowinstances i1 .spec.workflowId)" "$wid"
	eid=$(rid environments prod)
	rj workflowinstances i1 '.spec.envRefs|tostring' | grep -qF "$eid" ||
		die "envRefs not stored as the id $eid: $(rj workflowinstances i1 .spec.envRefs)"
	printf 'spec: {workflowId: %s}\n' "$wid" >"$MNT/workflowinstances/i2.yaml"
	assert_created workflowinstances i2
	assert_eq "$(rj workflowinstances i2 .spec.workflowId)" "$wid"

	# An execution without a name is named after its file, as every kind.
	echo 'spec: {workflowId: wf1}' >"$TDIR/noname.yaml"
	cp "$TDIR/noname.yaml" "$MNT/workflowexecutions/"
	name=noname
	assert_created workflowexecutions "$name"
	wait_run_end "$name" || return 1
	assert_eq "$(rj workflowexecutions "$name" .status.phase)" COMPLETED
	assert_eq "$(rj workflowexecutions "$name" .spec.workflowId)" "$wid"
	# By instance slug.
	iid=$(rid workflowinstances i1)
	echo '{metadata: {name: byinst}, spec: {workflowInstanceId: i1}}' >"$MNT/workflowexecutions/byinst.yaml"
	assert_created workflowexecutions byinst
	assert_eq "$(rj workflowexecutions byinst .spec.workflowInstanceId)" "$iid"
	wait_run_end byinst || return 1
	assert_eq "$(rj workflowexecutions byinst .status.phase)" COMPLETED
	assert_eq "$(rj workflowexecutions byinst .metadata.ownerScope)" ORGANIZATION

	exid=$(rid workflowexecutions byinst)
	printf 'spec: {executionId: %s, data: {TOKEN: {value: t0ken-abc, isSecret: true}}}\n' \
		"$exid" >"$MNT/executioncontexts/c1.yaml"
	assert_created executioncontexts c1
	assert_eq "$(rj executioncontexts c1 .kind)" ExecutionContext
}

# Writing a new file that names an existing resource is an apply: update
# for mutable kinds (same id), EEXIST for ExecutionContext.
t_create_apply_existing() {
	strict
	local id
	env_doc prod >"$TDIR/prod.yaml"
	cp "$TDIR/prod.yaml" "$MNT/environments/"
	id=$(rid environments prod)
	env_doc prod s3cr3t-value changed >"$TDIR/prod2.yaml"
	cp "$TDIR/prod2.yaml" "$MNT/environments/prod-again.yaml"
	assert_absent "$MNT/environments/prod-again.yaml"
	assert_eq "$(rid environments prod)" "$id" "apply kept the id"
	assert_eq "$(rj environments prod .spec.description)" changed
	assert_eq "$(ls "$MNT/environments" | wc -l)" 1

	ctx_doc ctx1 some-execution >"$TDIR/ctx1.yaml"
	cp "$TDIR/ctx1.yaml" "$MNT/executioncontexts/"
	assert_created executioncontexts ctx1 ctx1.yaml
	ctx_doc ctx1 other-execution >"$TDIR/ctx1b.yaml"
	expect_fail EEXIST cp "$TDIR/ctx1b.yaml" "$MNT/executioncontexts/ctx1.yaml"
	assert_error_line executioncontexts/ctx1.yaml EEXIST
	assert_eq "$(rj executioncontexts ctx1 .spec.executionId)" some-execution
	# mkdir of a taken name is refused.
	expect_fail EEXIST mkdir "$MNT/environments/prod"
}

# Everything created survives a remount with the same ids.
t_create_survives_remount() {
	strict
	create_all by_cp -p
	local before after
	before=$(snapshot)
	remount_execfs
	after=$(snapshot)
	assert_eq "$after" "$before" "views after remount"
}

# A new document committed at the first flush and then written again
# through the same descriptor: the rest is an update, never dropped.
t_create_written_after_commit() {
	strict
	printf 'spec:\n  description: head\n' >"$TDIR/head.yaml"
	{ cat "$TDIR/head.yaml"; printf '  data: {K: {value: v}}\n'; } >"$MNT/environments/e6.yaml"
	assert_eq "$(rj environments e6 .spec.description)" head
	assert_eq "$(rj environments e6 .spec.data.K.value)" v
	python3 - "$MNT/environments/e7.yaml" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"spec:\n  description: first\n")
os.fsync(fd)
os.write(fd, b"  data: {A: {value: second}}\n")
os.fsync(fd)
os.close(fd)
PY
	assert_eq "$(rj environments e7 .spec.description)" first
	assert_eq "$(rj environments e7 .spec.data.A.value)" second
	assert_eq "$(ls "$MNT/environments" | tr '\n' ' ')" "e6 e7 "
	assert_eq "$(cat "$MNT/errors")" ""
}

run_tests "$@"
