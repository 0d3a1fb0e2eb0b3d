#!/usr/bin/env bash
# t_share.sh - sharing the mount (README "Sharing the mount", DESIGN 1.8):
# without -o allow_other no other user reaches it; only root may share
# it; shared, a user works on their own resources (creates, runs, reads
# the log) while the others see the names in the listings and nothing
# more, secret values are *** even to their owner, and a document still
# being written is its writer's alone.  The full matrix of who may do
# what is t_perm.sh.  Runs as root; makes users and removes them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/perm.sh"

# Not shared: the kernel keeps every other user off the mount.
t_share_private_without_allow_other() {
	strict
	chmod 755 "$TDIR"
	env_doc prod >"$TDIR/prod.yaml"
	cp "$TDIR/prod.yaml" "$MNT/environments/"
	as other ls "$MNT" && die "another user listed an unshared mount"
	assert_contains "$TDIR/err" "Permission denied"
	as other cat "$MNT/environments/prod/spec.yaml" && die "another user read an unshared mount"
	as other cp "$TDIR/prod.yaml" "$MNT/environments/p2.yaml" && die "another user wrote an unshared mount"
	assert_eq "$(ls "$MNT/environments")" prod
}

# Only root may share the mount.
t_share_refused_unless_root() {
	strict
	chmod 755 "$TDIR"
	mkdir -p "$TDIR/bin" "$TDIR/u/state" "$TDIR/u/mnt" "$TDIR/u/key"
	cp "$EXECFS" "$TDIR/bin/execfs"
	chown -R "$UC" "$TDIR/u"
	if as other "$TDIR/bin/execfs" -f -o "allow_other,key_file=$TDIR/u/key/k" \
		"$TDIR/u/state" "$TDIR/u/mnt"; then
		die "a non-root daemon started with allow_other"
	fi
	assert_contains "$TDIR/err" "-o allow_other is refused: the daemon must run as root"
	! mountpoint -q "$TDIR/u/mnt" || die "mounted anyway"
	# --check-config says the same.
	as other "$TDIR/bin/execfs" --check-config -o "allow_other,key_file=$TDIR/u/key/k" \
		"$TDIR/u/state" "$TDIR/u/mnt" && die "--check-config accepted it"
	assert_contains "$TDIR/err" "allow_other is refused"
}

# A user's own work on a shared mount: an Environment with a secret, a
# Workflow, an instance binding them, a run and its log.  Another user
# sees the names and nothing else.
t_share_own_work() {
	perm_start
	env_doc mine s3cr3t-own >mine.yaml
	wf_doc job 'echo region=$REGION key=$API_KEY' >job.yaml
	printf 'metadata: {name: r1}\nspec: {workflowInstanceId: bound}\n' >r1.yaml
	inst_doc bound job mine >bound.yaml
	as owner cp mine.yaml "$MNT/environments/" || die "create env: $(cat "$TDIR/err")"
	as owner cp job.yaml "$MNT/workflows/" || die "create workflow: $(cat "$TDIR/err")"
	as owner cp bound.yaml "$MNT/workflowinstances/" || die "create instance: $(cat "$TDIR/err")"
	as owner cp r1.yaml "$MNT/workflowexecutions/" || die "create run: $(cat "$TDIR/err")"
	wait_run_end r1
	assert_eq "$(jq -r .status.phase "$MNT/workflowexecutions/r1/resource.json")" COMPLETED
	as owner cat "$MNT/workflowexecutions/r1/log" || die "owner reads the log: $(cat "$TDIR/err")"
	assert_contains "$TDIR/out" "region=eu key=***"
	assert_not_contains "$TDIR/out" s3cr3t-own
	# The owner sees its secret as *** too.
	as owner cat "$MNT/environments/mine/spec.yaml"
	assert_contains "$TDIR/out" '"***"'
	assert_not_contains "$TDIR/out" s3cr3t-own
	# ls -l shows whose each is.
	for r in environments/mine workflows/job workflowinstances/bound workflowexecutions/r1; do
		owner_is "$MNT/$r" owner 750
	done
	# Another user lists the names, reads nothing, starts nothing.
	as other ls "$MNT/workflows" "$MNT/environments"
	assert_contains "$TDIR/out" job
	assert_contains "$TDIR/out" mine
	as other cat "$MNT/workflowexecutions/r1/log" && die "other read the log"
	assert_contains "$TDIR/err" "Permission denied"
	as other cat "$MNT/environments/mine/spec.yaml" && die "other read the env"
	as other sh -c "echo > '$MNT/workflows/job/run'" && die "other started job"
	assert_contains "$TDIR/err" "Permission denied"
	assert_eq "$(ls "$MNT/workflowexecutions")" r1
	# ... and gets the reason in its own errors, not in the owner's.
	as other tail -n 1 "$MNT/errors"
	assert_contains "$TDIR/out" "workflows/job"
	assert_contains "$TDIR/out" ": EACCES: permission denied"
	as owner cat "$MNT/errors"
	assert_not_contains "$TDIR/out" EACCES
}

# A document being written is held in memory as written, secrets in the
# clear: no other user may read it or remove it, whatever its mode.
t_share_pending_file_private() {
	perm_start
	local rc=0 rmrc=0
	hold_pending owner "$MNT/environments/qa.yaml"
	owner_is "$MNT/environments/qa.yaml" owner 600
	quietly as other cat "$MNT/environments/qa.yaml" || rc=$?
	cp "$TDIR/out" "$TDIR/out.cat"
	cp "$TDIR/err" "$TDIR/err.cat"
	quietly as group rm -f "$MNT/environments/qa.yaml" || rmrc=$?
	cp "$TDIR/err" "$TDIR/err.rm"
	release_pending
	[ $rc -ne 0 ] || die "another user read a pending document: $(cat "$TDIR/out.cat")"
	assert_not_contains "$TDIR/out.cat" hunter2
	assert_contains "$TDIR/err.cat" "Permission denied"
	[ $rmrc -ne 0 ] || die "another user removed a pending document"
	assert_contains "$TDIR/err.rm" "Permission denied"
	# Committed, it is the writer's, *** to the writer.
	owner_is "$MNT/environments/qa" owner 750
	as owner cat "$MNT/environments/qa/spec.yaml"
	assert_not_contains "$TDIR/out" hunter2
	# A draft directory (mkdir) is its maker's too.
	as owner mkdir "$MNT/workflows/dr"
	owner_is "$MNT/workflows/dr" owner 700
	as other ls "$MNT/workflows/dr" && die "another user listed a draft"
	as other cat "$MNT/workflows/dr/spec.yaml" && die "another user read a draft"
	as other rmdir "$MNT/workflows/dr" && die "another user removed a draft"
	assert_contains "$TDIR/err" "Permission denied"
	as owner rmdir "$MNT/workflows/dr"
	assert_absent "$MNT/workflows/dr"
}

# An operator may do anything, but a pending document holds secret values
# in the clear, which the mount otherwise shows to nobody (*** to their
# owner too; README "Threat model": only root can get at them, through the
# key file or the daemon's memory): not readable by an operator either.
t_share_pending_secret_not_for_operators() {
	perm_start
	local rc=0
	hold_pending owner "$MNT/environments/qa.yaml"
	quietly as oper cat "$MNT/environments/qa.yaml" || rc=$?
	cp "$TDIR/out" "$TDIR/out.cat"
	release_pending
	assert_not_contains "$TDIR/out.cat" hunter2-plain
}

perm_users_make
run_tests "$@"
