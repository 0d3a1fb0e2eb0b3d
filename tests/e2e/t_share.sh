#!/usr/bin/env bash
# A mount shared with -o allow_other (DESIGN 1.8, README "Sharing the
# mount"): only root may share it; the kernel then checks every access
# against the modes shown (default_permissions), so another user may read
# the views (secrets shown as ***) but create, change, start, cancel and
# delete nothing.  Runs as root; makes a user and removes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

SHARE_USER=execfs-share-$$

# as_user CMD...: run CMD as the test user, output in $TDIR/out, $TDIR/err.
as_user() { runuser -u "$SHARE_USER" -- "$@" >"$TDIR/out" 2>"$TDIR/err"; }

# share_setup: the user; TDIR reachable by it; a daemon with allow_other;
# as root, an environment with a secret, a workflow and a finished run.
share_setup() {
	useradd -M -d /nonexistent -s /bin/sh "$SHARE_USER" || return 1
	trap 'userdel "$SHARE_USER" 2>/dev/null; unmount_execfs' EXIT
	chmod 755 "$TDIR"
	remount_execfs allow_other || return 1
	env_doc prod >"$TDIR/prod.yaml"
	cp "$TDIR/prod.yaml" "$MNT/environments/"
	wf_doc wf 'echo ran as $(id -u)' >"$TDIR/wf.yaml"
	cp "$TDIR/wf.yaml" "$MNT/workflows/"
	echo 'spec: {workflowId: wf}' >"$MNT/workflowexecutions/run1.yaml"
	wait_run_end run1
	chmod 644 "$TDIR/wf.yaml"
}

t_share_others_read_only() {
	share_setup || return 1
	local before
	before=$(snapshot)
	# Reading works, with secrets masked.
	as_user ls "$MNT/workflows" || die "ls as another user: $(cat "$TDIR/err")" || return 1
	assert_eq "$(cat "$TDIR/out")" wf
	as_user cat "$MNT/environments/prod/spec.yaml" || die "cat: $(cat "$TDIR/err")" || return 1
	assert_contains "$TDIR/out" '"***"' || return 1
	assert_not_contains "$TDIR/out" s3cr3t || return 1
	# Every change is refused by the kernel: EACCES.
	as_user cp "$TDIR/wf.yaml" "$MNT/workflows/other.yaml" && die "create allowed" && return 1
	assert_contains "$TDIR/err" "Permission denied" || return 1
	as_user sh -c "echo '{}' > '$MNT/workflows/wf/run'" && die "run allowed" && return 1
	assert_contains "$TDIR/err" "Permission denied" || return 1
	as_user sh -c "echo cancel > '$MNT/workflowexecutions/run1/ctl'" && die "cancel allowed" && return 1
	as_user sed -i 's/d$/x/' "$MNT/environments/prod/spec.yaml" && die "update allowed" && return 1
	as_user mkdir "$MNT/environments/mine" && die "mkdir allowed" && return 1
	as_user rm -rf "$MNT/workflowexecutions/run1" && die "delete allowed" && return 1
	assert_contains "$TDIR/err" "Permission denied" || return 1
	as_user cat "$MNT/workflowexecutions/run1/ctl" && die "ctl readable" && return 1
	# Nothing changed, nothing new ran.
	assert_eq "$(snapshot)" "$before" "state after the refusals"
	assert_eq "$(ls "$MNT/workflowexecutions")" run1
	assert_eq "$(ls "$MNT/workflows")" wf
}

# Only root may share the mount: every task would run as the daemon's user.
t_share_refused_unless_root() {
	share_setup || return 1
	mkdir -p "$TDIR/bin" "$TDIR/u/state" "$TDIR/u/mnt" "$TDIR/u/key"
	cp "$EXECFS" "$TDIR/bin/execfs"
	chown -R "$SHARE_USER" "$TDIR/u"
	if as_user "$TDIR/bin/execfs" -f -o "allow_other,key_file=$TDIR/u/key/k" \
		"$TDIR/u/state" "$TDIR/u/mnt"; then
		die "a non-root daemon started with allow_other"
		return 1
	fi
	assert_contains "$TDIR/err" "-o allow_other is refused: the daemon must run as root" || return 1
	! mountpoint -q "$TDIR/u/mnt" || die "mounted anyway"
	# --check-config says the same.
	as_user "$TDIR/bin/execfs" --check-config -o "allow_other,key_file=$TDIR/u/key/k" \
		"$TDIR/u/state" "$TDIR/u/mnt" && die "--check-config accepted it" && return 1
	assert_contains "$TDIR/err" "allow_other is refused"
}

run_tests "$@"
