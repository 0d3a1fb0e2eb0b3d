#!/usr/bin/env bash
# The ways around a shared mount's owners and modes that a review found,
# each tried as an attacker would (README "Users, owners and modes"): a
# write the daemon sees only at release (no credentials), an execution
# named after another's id, an Environment found by name after a delete,
# a rename or truncate onto another's document being written, O_RDWR
# without r, chmod of another's files, chown of a running execution,
# a task's session.  Runs as root; makes users and removes them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/perm.sh"

# slow_wf NAME CMD: a Workflow document NAME.yaml whose task runs CMD.
slow_wf() { wf_doc "$1" "$2" >"$1.yaml"; }

# phase_of NAME: an execution's phase, read as root.
phase_of() { jq -r .status.phase "$MNT/workflowexecutions/$1/resource.json"; }

# A write after the last close reaches the daemon at FUSE_RELEASE, which
# carries no credentials: it must commit as the one who opened the file,
# never as root.
t_trust_late_write_is_the_openers() {
	perm_start
	local lw=$TDIR/latewrite rc=0
	cc -O1 -o "$lw" "$E2E_DIR/helpers/latewrite.c" || die "cannot build latewrite"
	chmod 755 "$lw"
	root_wf wr 'id -u' 0750
	slow_wf mine 'id -u'
	as_ok other cp mine.yaml "$WFD/"
	# root's 0750 workflow: refused, as with any write.  The release is
	# sent after close() returns: wait for its deny line.
	as other "$lw" "$MNT/workflowexecutions/late1.yaml" 'spec: {workflowId: wr}' || rc=$?
	if [ "$rc" -eq 2 ]; then
		# no io_uring (kernel.io_uring_disabled): no late write either
		echo "    info: io_uring not available here: $(cat "$TDIR/err")" >&2
		return 0
	fi
	local i
	for i in $(seq 1 100); do
		grep -q '"name": "late1.yaml"' "$MNT/audit" && break
		sleep 0.05
	done
	jq -e --argjson u "$(uid_of other)" 'select(.uid == $u and .verb == "deny" and
		.name == "late1.yaml" and (.reason | contains("Workflow \"wr\"")))' \
		"$MNT/audit" >/dev/null ||
		die "no deny line for the late write: $(grep late1 "$MNT/audit")"
	assert_absent "$MNT/workflowexecutions/late1"
	# Its own workflow: the execution is the writer's, and runs as them.
	as other "$lw" "$MNT/workflowexecutions/late2.yaml" 'spec: {workflowId: mine}' ||
		die "late write of an own execution: $(cat "$TDIR/err")"
	for i in $(seq 1 100); do
		[ -e "$MNT/workflowexecutions/late2" ] && break
		sleep 0.05
	done
	wait_run_end late2
	owner_is "$MNT/workflowexecutions/late2" other 750
	assert_eq "$(cat "$MNT/workflowexecutions/late2/log")" "$(uid_of other)"
}

# Contexts hold a run's runtime secrets and go to the execution they
# name.  Naming one's own execution after another's id must not get
# them.
t_trust_context_not_by_borrowed_name() {
	perm_start
	local vid
	slow_wf vslow 'sleep 30'
	as_ok group cp vslow.yaml "$WFD/"
	printf 'metadata: {name: vrun}\nspec:\n  workflowId: vslow\n  runtimeEnv:\n    TOKEN: {value: tok-victim-777, isSecret: true}\n' >vrun.yaml
	as_ok group cp vrun.yaml "$MNT/workflowexecutions/"
	vid=$(cat "$MNT/workflowexecutions/vrun/id")
	[ -d "$MNT/executioncontexts/vrun-ctx" ] || die "no context for vrun"
	slow_wf leak 'printf %s $TOKEN | rev; echo .'
	as_ok owner cp leak.yaml "$WFD/"
	printf 'metadata: {name: %s}\nspec: {workflowId: leak}\n' "$vid" >steal.yaml
	as_ok owner cp steal.yaml "$MNT/workflowexecutions/"
	wait_run_end "$vid"
	assert_eq "$(cat "$MNT/workflowexecutions/$vid/log")" "."
	# and the victim's context is still there
	[ -d "$MNT/executioncontexts/vrun-ctx" ] || die "the victim's context went with the thief's run"
	echo cancel >"$MNT/workflowexecutions/vrun/ctl"
	wait_run_end vrun
}

# An instance names its Environments by id and slug; a deleted one is
# found again by name.  Whoever made the new one under that name, the
# run's creator needs x on it at the run's start.
t_trust_env_found_by_name_takes_x() {
	perm_start
	env_doc shared mine-value >shared.yaml
	as_ok owner cp shared.yaml "$MNT/environments/"
	slow_wf show 'printf %s $API_KEY | rev; echo .'
	as_ok owner cp show.yaml "$WFD/"
	inst_doc leaki show '{slug: shared}' >leaki.yaml
	as_ok owner cp leaki.yaml "$MNT/workflowinstances/"
	as_ok owner rm -r "$MNT/environments/shared"
	env_doc shared victim-secret-42 >shared2.yaml
	as_ok other cp shared2.yaml "$MNT/environments/shared.yaml"
	printf 'metadata: {name: l1}\nspec: {workflowInstanceId: leaki}\n' >l1.yaml
	as_ok owner cp l1.yaml "$MNT/workflowexecutions/"
	wait_run_end l1
	assert_eq "$(phase_of l1)" FAILED
	assert_not_contains "$MNT/workflowexecutions/l1/log" 24-terces-mitciv
	jq -r '.status.error // .status.summary // ""' "$MNT/workflowexecutions/l1/resource.json" >"$TDIR/why"
	grep -q 'using it takes x' "$MNT/workflowexecutions/l1/resource.json" ||
		die "the failure does not say why: $(cat "$TDIR/why")"
}

# A rename onto, or a truncate of, another user's document being written
# would replace or cut it (cutting before isSecret would store a secret
# unsealed): refused.
t_trust_pending_not_renamed_over_or_cut() {
	perm_start
	local rc=0
	hold_pending group "$MNT/environments/deploy.yaml"
	printf 'metadata: {name: deploy}\n' >a.tmp
	as_ok owner cp a.tmp "$MNT/environments/.a.tmp"
	quietly as owner mv "$MNT/environments/.a.tmp" "$MNT/environments/deploy.yaml" || rc=$?
	[ "$rc" -ne 0 ] || die "another's pending document was renamed over"
	assert_contains "$TDIR/err" "Permission denied"
	rc=0
	quietly as owner python3 -c 'import os, sys; os.truncate(sys.argv[1], 3)' \
		"$MNT/environments/deploy.yaml" || rc=$?
	[ "$rc" -ne 0 ] || die "another's pending document was truncated"
	rc=0
	quietly as owner touch -d @0 "$MNT/environments/deploy.yaml" || rc=$?
	[ "$rc" -ne 0 ] || die "another's pending document had its time set"
	release_pending
	# the writer's document committed whole, secret sealed
	assert_eq "$(stat -c %s "$MNT/environments/.a.tmp")" "$(stat -c %s a.tmp)"
	grep -q '"\*\*\*"' "$MNT/environments/deploy/spec.yaml" || die "the held document did not commit whole"
}

# O_RDWR reads: it takes r as well as w.
t_trust_rdwr_takes_r() {
	perm_start
	local rc=0
	env_doc wonly >wonly.yaml
	as_ok group cp wonly.yaml "$MNT/environments/"
	as_ok group chmod 0703 "$MNT/environments/wonly"
	quietly as other python3 -c 'import os, sys; os.read(os.open(sys.argv[1], os.O_RDWR), 100)' \
		"$MNT/environments/wonly/spec.yaml" || rc=$?
	[ "$rc" -ne 0 ] || die "O_RDWR read a spec without r"
	assert_contains "$TDIR/err" "Permission denied"
}

# chmod of a resource's file is ignored for its owner (install, cp -p),
# refused to others.
t_trust_chmod_files_owner_only() {
	perm_start
	local rc=0
	env_doc e1 >e1.yaml
	as_ok group cp e1.yaml "$MNT/environments/"
	as_ok group chmod 0757 "$MNT/environments/e1"
	as_ok group chmod 600 "$MNT/environments/e1/spec.yaml"
	quietly as other chmod 777 "$MNT/environments/e1/spec.yaml" || rc=$?
	[ "$rc" -ne 0 ] || die "another user's chmod of spec.yaml succeeded"
	assert_contains "$TDIR/err" "Operation not permitted"
	assert_eq "$(stat -c %a "$MNT/environments/e1")" 757
}

# An execution runs as its owner: chown of one still going would run its
# tasks as another user, so even an operator may not; once ended, yes.
t_trust_chown_running_execution() {
	perm_start
	local rc=0
	slow_wf nap 'sleep 30'
	as_ok owner cp nap.yaml "$WFD/"
	printf 'metadata: {name: n1}\nspec: {workflowId: nap}\n' >n1.yaml
	as_ok owner cp n1.yaml "$MNT/workflowexecutions/"
	quietly as oper chown root "$MNT/workflowexecutions/n1" || rc=$?
	[ "$rc" -ne 0 ] || die "a running execution changed owner"
	assert_contains "$TDIR/err" "Operation not permitted"
	echo cancel >"$MNT/workflowexecutions/n1/ctl"
	wait_run_end n1
	as_ok oper chown "$UC" "$MNT/workflowexecutions/n1"
	owner_is "$MNT/workflowexecutions/n1" "other:$(id -gn "$UA")" 750
}

# A task has a session of its own: no controlling terminal of the
# daemon's to open, and not the daemon's session.
t_trust_task_own_session() {
	perm_start
	slow_wf sess 'ps -o sid= -p $$'
	cp sess.yaml "$WFD/"
	printf 'metadata: {name: s1}\nspec: {workflowId: sess}\n' >s1.yaml
	cp s1.yaml "$MNT/workflowexecutions/"
	wait_run_end s1
	local sid dsid
	sid=$(tr -d ' ' <"$MNT/workflowexecutions/s1/log")
	dsid=$(ps -o sid= -p "$DPID" | tr -d ' ')
	[ -n "$sid" ] && [ "$sid" != "$dsid" ] || die "the task is in the daemon's session ($sid)"
}

perm_users_make
run_tests "$@"
