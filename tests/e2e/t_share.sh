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
	# A run still going, for the cancel.
	wf_doc nap 'sleep 600' >"$TDIR/nap.yaml"
	cp "$TDIR/nap.yaml" "$MNT/workflows/"
	echo 'spec: {workflowId: nap}' >"$MNT/workflowexecutions/napping.yaml"
	chmod 644 "$TDIR/wf.yaml"
}

t_share_others_read_only() {
	share_setup || return 1
	local before
	before=$(snapshot)
	# Reading works, with secrets masked.
	as_user ls "$MNT/workflows" || die "ls as another user: $(cat "$TDIR/err")" || return 1
	assert_eq "$(tr '\n' ' ' <"$TDIR/out")" "nap wf " || return 1
	as_user cat "$MNT/environments/prod/spec.yaml" || die "cat: $(cat "$TDIR/err")" || return 1
	assert_contains "$TDIR/out" '"***"' || return 1
	assert_not_contains "$TDIR/out" s3cr3t || return 1
	# Every change is refused by the kernel: EACCES.
	as_user cp "$TDIR/wf.yaml" "$MNT/workflows/other.yaml" && { die "create allowed"; return 1; }
	assert_contains "$TDIR/err" "Permission denied" || return 1
	as_user sh -c "echo '{}' > '$MNT/workflows/wf/run'" && { die "run allowed"; return 1; }
	assert_contains "$TDIR/err" "Permission denied" || return 1
	as_user sh -c "echo cancel > '$MNT/workflowexecutions/napping/ctl'" && { die "cancel allowed"; return 1; }
	assert_contains "$TDIR/err" "Permission denied" || return 1
	assert_eq "$(jq -r .status.phase "$MNT/workflowexecutions/napping/resource.json")" IN_PROGRESS || return 1
	as_user sed -i 's/d$/x/' "$MNT/environments/prod/spec.yaml" && { die "update allowed"; return 1; }
	as_user mkdir "$MNT/environments/mine" && { die "mkdir allowed"; return 1; }
	assert_eq "$(ls "$MNT/environments")" prod "no draft made" || return 1
	as_user rm -rf "$MNT/workflowexecutions/run1" && { die "delete allowed"; return 1; }
	assert_contains "$TDIR/err" "Permission denied" || return 1
	as_user cat "$MNT/workflowexecutions/run1/ctl" && { die "ctl readable"; return 1; }
	# Nothing changed, nothing new ran.
	echo cancel >"$MNT/workflowexecutions/napping/ctl"
	wait_run_end napping || return 1
	before=$(echo "$before" | grep -v napping)
	assert_eq "$(snapshot | grep -v napping)" "$before" "state after the refusals" || return 1
	assert_eq "$(ls "$MNT/workflowexecutions" | tr '\n' ' ')" "napping run1 " || return 1
	assert_eq "$(ls "$MNT/workflows" | tr '\n' ' ')" "nap wf "
}

# A document being written is held in memory as written, secrets in the
# clear: on a shared mount no other user may read it, whatever its mode.
t_share_pending_file_private() {
	share_setup || return 1
	# Python holds it open, written but not flushed (a shell redirection
	# would flush, which commits it); meanwhile the other user tries.
	python3 - "$MNT/environments/qa.yaml" "$TDIR/written" "$TDIR/go" <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
os.write(fd, b"spec:\n  data:\n    K: {value: hunter2-plain, isSecret: true}\n")
os.fchmod(fd, 0o644)
open(sys.argv[2], "w").close()
for _ in range(100):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
os.close(fd)
PY
	local py=$! i rc
	for i in $(seq 1 100); do [ -e "$TDIR/written" ] && break; sleep 0.05; done
	as_user cat "$MNT/environments/qa.yaml"
	rc=$?
	touch "$TDIR/go"
	wait "$py"
	[ $rc -ne 0 ] || { die "another user read a pending document: $(cat "$TDIR/out")"; return 1; }
	assert_not_contains "$TDIR/out" hunter2 || return 1
	assert_contains "$TDIR/err" "Permission denied" || return 1
	# Committed, it shows *** to everyone.
	as_user cat "$MNT/environments/qa/spec.yaml" || { die "cannot read qa: $(cat "$TDIR/err")"; return 1; }
	assert_not_contains "$TDIR/out" hunter2
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
		"$TDIR/u/state" "$TDIR/u/mnt" && { die "--check-config accepted it"; return 1; }
	assert_contains "$TDIR/err" "allow_other is refused"
}

run_tests "$@"
