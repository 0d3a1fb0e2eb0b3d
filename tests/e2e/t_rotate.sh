#!/usr/bin/env bash
# t_rotate.sh - key rotation (execfs --rotate-key, DESIGN 1.7): every sealed
# value re-sealed under a new key, offline, all or nothing; afterwards only
# the new key file is needed and the old one is refused with a message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"

# hexof FILE: the bytes of FILE as one line of hex.
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# blobs_under FILE KID: sealed values in FILE naming key id KID (8 hex
# digits): the blob header is "xs1" then the key id, big-endian.
blobs_under() { hexof "$1" | { grep -o "787331$2" || true; } | wc -l; }

# h S: a short hash of S, so a task can check a value without the workflow
# holding it in plain text.
h() { printf %s "$1" | sha256sum | cut -c1-16; }

# count_in FILE S: lines of FILE (binary too) holding S.
count_in() { grep -c -a -F -- "$2" "$1" || true; }

# rotate NEW [OLD]: the offline rotation of $STATE, output in $TDIR/rot.
rotate() {
	"$EXECFS" --rotate-key "$1" -o "key_file=${2:-$KEY}" "$STATE" \
		>"$TDIR/rot" 2>&1
}

# kid_of WHICH: the new or old key id the last rotation printed.
kid_of() {
	if [ "$1" = new ]; then
		sed -n 's/.*under key id \([0-9a-f]\{8\}\).*/\1/p' "$TDIR/rot"
	else
		sed -n 's/.*, was \([0-9a-f]\{8\}\).*/\1/p' "$TDIR/rot"
	fi
}

# plant S: secrets in an Environment, a Workflow's envSpec, an execution's
# runtimeEnv (its ExecutionContext) and an ExecutionContext of their own;
# the workflow's task says "<name>-match" for each value it receives.
plant() {
	local s=$1
	env_doc vault "$s-env" >"$TDIR/vault.yaml"
	cp "$TDIR/vault.yaml" "$MNT/environments/"
	cat >"$TDIR/swf.yaml" <<EOF
metadata: {name: swf}
spec:
  document: {dsl: 1.0.0, namespace: e2e, name: swf, version: 1.0.0}
  envSpec:
    data:
      WF_SECRET: {value: $s-wf, isSecret: true}
  tasks:
    - name: check
      kind: RUN
      taskConfig:
        shell:
          command: 'h() { printf %s "\$1" | sha256sum | cut -c1-16; }; [ "\$(h "\$API_KEY")" = $(h "$s-env") ] && echo env-match; [ "\$(h "\$WF_SECRET")" = $(h "$s-wf") ] && echo wf-match; [ "\$(h "\$RT_SECRET")" = $(h "$s-rt") ] && echo rt-match; true'
EOF
	cp "$TDIR/swf.yaml" "$MNT/workflows/"
	inst_doc sinst swf vault >"$TDIR/sinst.yaml"
	cp "$TDIR/sinst.yaml" "$MNT/workflowinstances/"
	start_run r1 "$s"
	wait_run_end r1
	ctx_doc ctx1 "$(rid workflowexecutions r1)" "$s-ctx" >"$TDIR/ctx1.yaml"
	cp "$TDIR/ctx1.yaml" "$MNT/executioncontexts/"
}

# start_run NAME S: an execution of sinst with a secret runtimeEnv value.
start_run() {
	cat >"$MNT/workflowexecutions/$1.yaml" <<EOF
metadata: {name: $1}
spec:
  workflowInstanceId: sinst
  runtimeEnv:
    RT_SECRET: {value: $2-rt, isSecret: true}
EOF
}

# assert_matches NAME: the run's log shows all three values arrived.
assert_matches() {
	local log
	log=$(wx "$1")/log
	assert_contains "$log" env-match
	assert_contains "$log" wf-match
	assert_contains "$log" rt-match
}

# The spec.yaml of every planted resource, for comparing across rotation.
spec_texts() {
	cat "$MNT/environments/vault/spec.yaml" "$MNT/workflows/swf/spec.yaml" \
		"$MNT/executioncontexts/ctx1/spec.yaml"
}

t_rotate_reseals_everything() {
	run_strict
	local s=RoTaTe$RANDOM$RANDOM$RANDOM a b v
	plant "$s"
	assert_matches r1
	spec_texts >"$TDIR/spec.before"
	unmount_execfs
	cp "$KEY" "$TDIR/keyA"
	rotate "$TDIR/keyB"
	cat "$TDIR/rot"
	a=$(kid_of old)
	b=$(kid_of new)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]
	assert_contains "$TDIR/rot" "key_file=$TDIR/keyB"
	# vault, swf, ctx1 (the run's own context went when it ended).
	assert_contains "$TDIR/rot" "re-sealed 3 secret value(s) in 3 record(s)"
	assert_eq "$(stat -c %a "$TDIR/keyB")" 600
	# Nothing under the old key id is left in the file, not even in freed
	# pages; everything is under the new one; no plaintext anywhere.
	assert_eq "$(blobs_under "$STATE/data.mdb" "$a")" 0 "blobs under the old key"
	[ "$(blobs_under "$STATE/data.mdb" "$b")" -ge 3 ]
	for v in env wf rt ctx; do
		assert_eq "$(count_in "$STATE/data.mdb" "$s-$v")" 0 "plaintext $v"
	done
	assert_absent "$STATE/compact.tmp"
	# Only the new key from now on.
	rm -f "$KEY"
	KEY=$TDIR/keyB
	mount_execfs
	spec_texts >"$TDIR/spec.after"
	cmp "$TDIR/spec.before" "$TDIR/spec.after"
	assert_eq "$(rj environments vault .spec.data.API_KEY.value)" '***'
	assert_eq "$(rj workflows swf .spec.envSpec.data.WF_SECRET.value)" '***'
	assert_eq "$(rj executioncontexts ctx1 .spec.data.TOKEN.value)" '***'
	start_run r2 "$s"
	wait_phase r2 COMPLETED 20
	assert_matches r2
	unmount_execfs
	# The old key is refused at start, naming both key ids.
	KEY=$TDIR/keyA
	assert_fails "$EXECFS" -f -o "key_file=$KEY" "$STATE" "$MNT"
	assert_contains "$TDIR/stderr" "sealed under key id $b"
	assert_contains "$TDIR/stderr" "holds key id $a"
	! mountpoint -q "$MNT"
}

# Running the same rotation again (after a crash, say) is harmless.
t_rotate_twice() {
	run_strict
	local s=TwIcE$RANDOM$RANDOM
	plant "$s"
	unmount_execfs
	rotate "$TDIR/keyB"
	rotate "$TDIR/keyB"
	assert_contains "$TDIR/rot" "re-sealed 3 secret value(s)"
	KEY=$TDIR/keyB
	mount_execfs
	start_run r2 "$s"
	wait_phase r2 COMPLETED 20
	assert_matches r2
}

t_rotate_refused_while_mounted() {
	run_strict
	env_doc vault >"$TDIR/vault.yaml"
	cp "$TDIR/vault.yaml" "$MNT/environments/"
	assert_fails rotate "$TDIR/keyB"
	assert_contains "$TDIR/rot" "cannot rotate the key while the daemon runs"
	assert_contains "$TDIR/rot" "nothing was changed"
	assert_eq "$(rj environments vault .spec.data.API_KEY.isSecret)" true
}

# A wrong old key (or a missing one) is refused; the store is unchanged
# and still opens with the right key.
t_rotate_wrong_old_key() {
	run_strict
	local s=WrOnG$RANDOM$RANDOM sum
	plant "$s"
	unmount_execfs
	sum=$(md5sum <"$STATE/data.mdb")
	head -c 32 /dev/urandom >"$TDIR/keyC"
	chmod 600 "$TDIR/keyC"
	assert_fails rotate "$TDIR/keyB" "$TDIR/keyC"
	assert_contains "$TDIR/rot" "nothing was changed"
	assert_contains "$TDIR/rot" "neither the old key"
	assert_eq "$(md5sum <"$STATE/data.mdb")" "$sum" "data.mdb changed"
	assert_fails rotate "$TDIR/keyB" "$TDIR/nokey"
	assert_contains "$TDIR/rot" "old key"
	assert_absent "$TDIR/nokey"
	# The same key as old and new.
	assert_fails rotate "$KEY" "$KEY"
	assert_contains "$TDIR/rot" "hold the same key"
	# A new key file others can read is refused.
	head -c 32 /dev/urandom >"$TDIR/keyD"
	chmod 644 "$TDIR/keyD"
	assert_fails rotate "$TDIR/keyD"
	assert_contains "$TDIR/rot" "chmod 600"
	assert_eq "$(md5sum <"$STATE/data.mdb")" "$sum" "data.mdb changed"
	mount_execfs
	start_run r2 "$s"
	wait_phase r2 COMPLETED 20
	assert_matches r2
}

# kill -9 at a random moment of a rotation of a larger store: the store
# is then all-old or all-new, so running the rotation again completes it
# and the new key reads everything.
t_rotate_kill9() {
	run_strict
	local s=KiLl$RANDOM$RANDOM i j pid kills=0 n=40 m=50
	plant "$s"
	for i in $(seq 1 $n); do
		{
			printf 'metadata: {name: big%s}\nspec:\n  data:\n' "$i"
			for j in $(seq 1 $m); do
				printf '    K%s: {value: %s-%s-%s, isSecret: true}\n' \
					"$j" "$s" "$i" "$j"
			done
		} >"$MNT/environments/big$i.yaml"
	done
	unmount_execfs
	for i in 1 2 3 4 5; do
		"$EXECFS" --rotate-key "$TDIR/keyB" -o "key_file=$KEY" "$STATE" \
			>/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
		wait "$pid" 2>/dev/null || true
	done
	echo "    killed $kills of 5 rotations"
	[ "$kills" -gt 0 ] || { die "no rotation was killed: the test proved nothing"; return 1; }
	# A kill during the compaction leaves its copy; the next open removes it.
	rotate "$TDIR/keyB"
	assert_contains "$TDIR/rot" "re-sealed $((n * m + 3)) secret value(s)"
	assert_eq "$(blobs_under "$STATE/data.mdb" "$(kid_of old)")" 0
	KEY=$TDIR/keyB
	mount_execfs
	start_run r2 "$s"
	wait_phase r2 COMPLETED 20
	assert_matches r2
	assert_eq "$(rj environments big$n .spec.data.K$m.value)" '***'
}

# A compaction killed before its rename leaves STATE/compact.tmp, a second
# copy of the store: the next start removes it.
t_rotate_leftover_copy_removed() {
	unmount_execfs
	mkdir -m 700 "$STATE/compact.tmp"
	cp "$STATE/data.mdb" "$STATE/compact.tmp/data.mdb"
	mount_execfs || return 1
	assert_absent "$STATE/compact.tmp"
}

run_tests "$@"
