#!/usr/bin/env bash
# t_delete.sh - deleting by removing the directory (DESIGN 1.4): rmdir,
# rm -r, rm -rf on several at once; the workflow cascade and the EBUSY rule.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

# mk_envs NAME...: create environments.
mk_envs() {
	local n
	for n in "$@"; do
		env_doc "$n" >"$TDIR/$n.yaml"
		cp "$TDIR/$n.yaml" "$MNT/environments/"
		assert_dir "$MNT/environments/$n" || return 1
	done
}

# assert_deleted KINDDIR SLUG ID: gone from the listing and from by-id.
assert_deleted() {
	assert_absent "$MNT/$1/$2" || return 1
	ls "$MNT/$1" | grep -qx -- "$2" && { die "$1/$2 still listed"; return 1; }
	assert_absent "$MNT/by-id/$3" || return 1
	ls "$MNT/by-id" | grep -qx -- "$3" && { die "by-id/$3 still listed"; return 1; }
	return 0
}

t_delete_rmdir() {
	strict
	mk_envs a b
	local id
	id=$(rid environments a)
	rmdir "$MNT/environments/a"
	assert_deleted environments a "$id"
	assert_dir "$MNT/environments/b"
	remount_execfs
	assert_deleted environments a "$id"
	assert_dir "$MNT/environments/b"
	# The slug is free again: a new resource gets a new id.
	mk_envs a
	[ "$(rid environments a)" != "$id" ] || die "re-created resource reused the id"
}

t_delete_rm_r() {
	strict
	mk_envs a
	local id
	id=$(rid environments a)
	rm -r "$MNT/environments/a" </dev/null
	assert_deleted environments a "$id"
	assert_eq "$(cat "$MNT/errors")" "" "errors after rm -r"
}

t_delete_rm_rf_many() {
	strict
	mk_envs e1 e2 e3 e4 keep
	local ids n
	ids=$(for n in e1 e2 e3 e4; do rid environments $n; done)
	rm -rf "$MNT/environments/e1" "$MNT/environments/e2" "$MNT/environments/e3" "$MNT/environments/e4"
	set -- $ids
	for n in e1 e2 e3 e4; do
		assert_deleted environments $n "$1"
		shift
	done
	assert_eq "$(ls "$MNT/environments")" keep
	remount_execfs
	assert_eq "$(ls "$MNT/environments")" keep
	# A glob over the kind directory removes everything in it.
	mk_envs g1 g2 g3
	rm -rf "$MNT"/environments/*
	assert_eq "$(ls -A "$MNT/environments" | wc -l)" 0
}

# rm -r in a terminal must not prompt about write-protected view files.
t_delete_rm_r_no_prompt() {
	strict
	mk_envs a
	local id
	id=$(rid environments a)
	timeout 20 script -qec "rm -r '$MNT/environments/a'" /dev/null </dev/null >"$TDIR/tty.out" 2>&1 ||
		{ cat "$TDIR/tty.out" >&2; die "rm -r in a terminal failed"; }
	assert_not_contains "$TDIR/tty.out" "write-protected"
	assert_deleted environments a "$id"
}

# Removing a view file does nothing (and does not fail rm -r).
t_delete_views_unlink_noop() {
	strict
	mk_envs a
	local before
	before=$(snapshot)
	rm -f "$MNT/environments/a/resource.json" "$MNT/environments/a/status.yaml" \
		"$MNT/environments/a/id" 2>/dev/null || true
	assert_eq "$(snapshot)" "$before" "views after unlinking view files"
}

# Every kind deletes; a workflow takes its default instance along.
t_delete_every_kind_and_cascade() {
	strict
	make_good_set
	local r kd slug id
	for r in executioncontexts/goodctx workflowexecutions/goodexec \
		workflowinstances/goodinst environments/goodenv; do
		kd=${r%/*} slug=${r#*/}
		id=$(rid "$kd" "$slug")
		if [ "$kd" = workflowexecutions ]; then
			rm -r "$MNT/$r" </dev/null	# has subdirectories (follow/)
		else
			rmdir "$MNT/$r"
		fi
		assert_deleted "$kd" "$slug" "$id"
	done
	local wid did
	wid=$(rid workflows goodwf)
	did=$(rid workflowinstances goodwf-default)
	rmdir "$MNT/workflows/goodwf"
	assert_deleted workflows goodwf "$wid"
	assert_deleted workflowinstances goodwf-default "$did"
	remount_execfs
	for kd in $KINDDIRS; do
		assert_eq "$(ls -A "$MNT/$kd" | wc -l)" 0 "$kd after deleting everything"
	done
	assert_eq "$(ls -A "$MNT/by-id" | wc -l)" 0 "by-id after deleting everything"
}

# A workflow used by another instance is busy; freeing it makes it deletable.
t_delete_workflow_busy() {
	strict
	wf_doc wf2 >"$TDIR/wf2.yaml"
	cp "$TDIR/wf2.yaml" "$MNT/workflows/"
	inst_doc inst2 wf2 >"$TDIR/inst2.yaml"
	cp "$TDIR/inst2.yaml" "$MNT/workflowinstances/"
	local before
	before=$(snapshot)
	expect_fail EBUSY rmdir "$MNT/workflows/wf2"
	assert_error_line workflows/wf2 EBUSY
	assert_eq "$(snapshot)" "$before" "views after refused delete"
	expect_fail EBUSY rm -rf "$MNT/workflows/wf2"
	assert_eq "$(snapshot)" "$before" "views after refused rm -rf"
	assert_dir "$MNT/workflowinstances/wf2-default"
	rm -r "$MNT/workflowinstances/inst2"
	rmdir "$MNT/workflows/wf2"
	assert_absent "$MNT/workflows/wf2"
	assert_absent "$MNT/workflowinstances/wf2-default"
}

# Deleting a resource that does not exist (any more) is ENOENT, not a crash.
t_delete_missing() {
	strict
	mk_envs a
	rmdir "$MNT/environments/a"
	expect_fail ENOENT rmdir "$MNT/environments/a"
	expect_fail ENOENT rmdir "$MNT/environments/never"
	# Concurrent deletes of the same resource: exactly the resource goes.
	mk_envs b
	(rmdir "$MNT/environments/b" 2>/dev/null &
	 rmdir "$MNT/environments/b" 2>/dev/null &
	 wait) || true
	assert_absent "$MNT/environments/b"
	ls "$MNT" >/dev/null
}

# The kind directories and the top of the tree cannot be removed.
t_delete_tree_fixed() {
	strict
	local kd
	for kd in $KINDDIRS by-id; do
		assert_fails rmdir "$MNT/$kd"
		assert_dir "$MNT/$kd"
	done
	rm -f "$MNT/README" 2>/dev/null || true
	assert_file "$MNT/README"
}

run_tests "$@"
