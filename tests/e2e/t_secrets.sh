#!/usr/bin/env bash
# t_secrets.sh - secret values (isSecret: true) are sealed before LMDB and
# shown as *** everywhere (DESIGN 1.7).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

# b64_cores S: base64 of S at the three byte offsets, each without the
# first and last four characters (which depend on the neighbours).
b64_cores() {
	local p e
	for p in "" "x" "xy"; do
		e=$(printf '%s%s' "$p" "$1" | base64 -w0 | tr -d =)
		echo "${e:4:${#e}-8}"
	done
}

# count_in FILE S: how many lines of FILE (binary too) hold S.
count_in() { grep -c -a -F -- "$2" "$1" || true; }

# assert_nowhere S: S is in no view, not in errors, not in the daemon log,
# not in the LMDB file, also not base64-encoded there.
assert_nowhere() {
	local s=$1 c
	if grep -r --exclude-dir=follow -l -F -- "$s" "$MNT"; then
		die "secret readable in the mount"
		return 1
	fi
	grep -qF -- "$s" "$MNT/errors" && { die "secret in errors"; return 1; }
	grep -qF -- "$s" "$DLOG" && { die "secret in the daemon log"; return 1; }
	assert_file "$STATE/data.mdb" || return 1
	assert_eq "$(count_in "$STATE/data.mdb" "$s")" 0 "plaintext in data.mdb" || return 1
	for c in $(b64_cores "$s"); do
		assert_eq "$(count_in "$STATE/data.mdb" "$c")" 0 "base64 in data.mdb" || return 1
	done
	# Nothing else in the state directory has it either.
	if grep -r -a -l -F -- "$s" "$STATE"; then
		die "secret in a state file"
		return 1
	fi
}

# plant S: an Environment, an ExecutionContext and a WorkflowExecution
# runtimeEnv each holding secret S (with a distinct suffix).
plant() {
	local s=$1
	env_doc vault "$s-env" >"$TDIR/vault.yaml"
	cp "$TDIR/vault.yaml" "$MNT/environments/"
	wf_doc wf >"$TDIR/wf.yaml"
	cp "$TDIR/wf.yaml" "$MNT/workflows/"
	cat >"$TDIR/run.yaml" <<EOF
metadata: {name: run1}
spec:
  workflowId: wf
  runtimeEnv:
    DB_PASSWORD: {value: $s-rt, isSecret: true}
    LOG_LEVEL: {value: debug}
EOF
	cp "$TDIR/run.yaml" "$MNT/workflowexecutions/"
	wait_run_end run1 || return 1
	ctx_doc ctx1 "$(rid workflowexecutions run1)" "$s-ctx" >"$TDIR/ctx1.yaml"
	cp "$TDIR/ctx1.yaml" "$MNT/executioncontexts/"
}

t_secrets_never_visible() {
	strict
	local s=Zq9sEcReT$RANDOM$RANDOM$RANDOM
	plant "$s"
	assert_nowhere "$s"
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" '***'
	assert_eq "$(rj environments vault .spec.data.API_KEY.isSecret)" true
	assert_eq "$(rj environments vault .spec.data.REGION.value)" eu
	assert_eq "$(rj executioncontexts ctx1 .spec.data.TOKEN.value)" '***'
	assert_contains "$MNT/environments/vault/spec.yaml" '***'
	assert_contains "$MNT/executioncontexts/ctx1/spec.yaml" '***'
	# The run's secret is masked wherever the execution (or a context made
	# from it) shows it; the non-secret value is readable.
	if [ "$(rj workflowexecutions run1 '.spec.runtimeEnv.DB_PASSWORD.value // empty')" != "" ]; then
		assert_eq "$(rj workflowexecutions run1 .spec.runtimeEnv.DB_PASSWORD.value)" '***'
	fi
	assert_eq "$(rj workflowexecutions run1 .spec.runtimeEnv.LOG_LEVEL.value)" debug
	# After unmount the store still has no plaintext.
	unmount_execfs
	assert_eq "$(count_in "$STATE/data.mdb" "$s")" 0 "plaintext in data.mdb after unmount"
	mount_execfs
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" '***'
	assert_nowhere "$s"
}

# A rejected document holding a secret does not leak it into errors or
# the log.
t_secrets_not_in_errors() {
	strict
	local s=Qx7LeAk$RANDOM$RANDOM$RANDOM
	cat >"$TDIR/bad.yaml" <<EOF
metadata: {name: leaky}
spec:
  data:
    API_KEY: {value: $s, isSecret: true, bogusField: $s}
EOF
	expect_fail EBADMSG cp "$TDIR/bad.yaml" "$MNT/environments/"
	assert_error_line environments/bad.yaml EBADMSG
	cat >"$TDIR/bad2.yaml" <<EOF
metadata: {name: leaky2}
spec:
  data:
    API_KEY: {value: "$s, isSecret: true}
EOF
	expect_fail EBADMSG cp "$TDIR/bad2.yaml" "$MNT/environments/"
	ctx_doc "leaky3" "" "$s" >"$TDIR/bad3.yaml"
	expect_fail EBADMSG cp "$TDIR/bad3.yaml" "$MNT/executioncontexts/"
	assert_nowhere "$s"
}

# Writing spec.yaml back unchanged (with ***) keeps the secret; writing a
# new value replaces it (and neither is ever readable).
t_secrets_write_back_mask() {
	strict
	local s=Wb4cKsEc$RANDOM$RANDOM f id
	env_doc vault "$s" >"$TDIR/vault.yaml"
	cp "$TDIR/vault.yaml" "$MNT/environments/"
	f=$MNT/environments/vault/spec.yaml
	id=$(rid environments vault)
	cp "$f" "$TDIR/masked"
	wait_tick
	local u0
	u0=$(updated_at environments vault)
	cp "$TDIR/masked" "$f"
	assert_eq "$(cat "$f")" "$(cat "$TDIR/masked")" "spec after writing the mask back"
	[[ $(updated_at environments vault) > $u0 ]] || die "write-back was not an update"
	assert_eq "$(rid environments vault)" "$id"
	assert_eq "$(rj environments vault .spec.data.API_KEY.isSecret)" true
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" '***'
	# sed touching another line keeps the secret too.
	sed -i 's/^  description: .*/  description: edited/' "$f"
	assert_eq "$(rj environments vault .spec.data.API_KEY.isSecret)" true
	assert_contains "$f" '***'
	assert_nowhere "$s"
	# A new value replaces the old; neither is stored in clear.
	local s2=NeWsEcReT$RANDOM$RANDOM
	env_doc vault "$s2" edited >"$TDIR/v2.yaml"
	cp "$TDIR/v2.yaml" "$f"
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" '***'
	assert_nowhere "$s2"
	assert_nowhere "$s"
	# Turning isSecret off makes the value a plain (visible) one; the mask
	# cannot be turned into a plaintext value: "***" with isSecret false is
	# stored as the text "***" or refused, never as the old secret.
	sed 's/isSecret: true/isSecret: false/' "$TDIR/v2.yaml" >"$TDIR/v3.yaml"
	cp "$TDIR/v3.yaml" "$f"
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" "$s2"
	sed 's/isSecret: false/isSecret: true/' "$f" >"$TDIR/v4.yaml"
	cp "$TDIR/v4.yaml" "$f"
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" '***'
	cp "$f" "$TDIR/v5.yaml"
	sed -i 's/isSecret: true/isSecret: false/' "$TDIR/v5.yaml"
	cp "$TDIR/v5.yaml" "$f" 2>/dev/null || true
	[ "$(rj environments vault .spec.data.API_KEY.value)" != "$s2" ] ||
		die "writing the mask with isSecret false revealed the secret"
}

# Secrets survive a restart (they still open with the key) and the key
# file is created 0600.
t_secrets_restart_and_key() {
	strict
	local s=ReStArT$RANDOM$RANDOM
	plant "$s"
	assert_eq "$(stat -c %a "$KEY")" 600 "key file mode"
	assert_eq "$(stat -c %s "$KEY")" 32 "key file size"
	case $KEY in "$STATE"/*) die "key file inside the state directory" ;; esac
	local before
	before=$(snapshot)
	remount_execfs
	assert_eq "$(snapshot)" "$before" "views after restart"
	# Writing the mask back after a restart still works (the stored value
	# opens with the same key).
	cp "$MNT/environments/vault/spec.yaml" "$TDIR/m"
	cp "$TDIR/m" "$MNT/environments/vault/spec.yaml"
	assert_eq "$(rj environments vault .spec.data.API_KEY.isSecret)" true
	assert_nowhere "$s"
}

run_tests "$@"
