#!/usr/bin/env bash
# t_audit.sh - the audit log at the mount root (DESIGN 1.8): a JSON line
# per change, refusal, run, cancel and use of secrets, with the writing
# process's uid, user and pid; durable across a restart and a kill -9;
# bounded by audit_limit; never a secret value; mode 0640.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

SECRET=pl4nted-AUDIT-s3cret-93

# aline VERB KIND NAME: the audit lines of that verb on that resource.
aline() {
	jq -c --arg v "$1" --arg k "$2" --arg n "$3" \
		'select(.verb == $v and .kind == $k and .name == $n)' "$MNT/audit"
}

# as_pid FILE CMD...: run CMD in a process whose pid goes to FILE.
as_pid() {
	local f=$1
	shift
	bash -c 'echo $$ >"$0"; exec "$@"' "$f" "$@"
}

# assert_line VERB KIND NAME [PID]: exactly one such line, by root, ok,
# with the resource's id when it still exists.
assert_line() {
	local l n
	l=$(aline "$1" "$2" "$3")
	n=$(printf '%s' "$l" | grep -c . || true)
	assert_eq "$n" 1 "audit lines for $1 $2 $3" || return 1
	assert_eq "$(jq -r '"\(.uid) \(.user) \(.result)"' <<<"$l")" "0 root ok" "$1 $2 $3" || return 1
	[[ $(jq -r .time <<<"$l") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$ ]] ||
		die "bad time in $l" || return 1
	[[ $(jq -r .id <<<"$l") =~ ^[a-z]+-$ID_RE$ ]] || die "bad id in $l" || return 1
	[ -z "${4:-}" ] || assert_eq "$(jq -r .pid <<<"$l")" "$4" "pid of $1 $2 $3" || return 1
}

t_audit_changes() {
	strict
	local p kd
	assert_eq "$(stat -c %A "$MNT/audit")" -rw-r----- "mode"
	ls "$MNT" | grep -qx audit
	# create, update, delete of each kind, by cp, sed -i, rm -r
	env_doc prod >"$TDIR/prod.yaml"
	as_pid "$TDIR/pid" cp "$TDIR/prod.yaml" "$MNT/environments/"
	assert_line create Environment prod "$(cat "$TDIR/pid")"
	assert_eq "$(aline create Environment prod | jq -r .id)" "$(rid environments prod)"
	as_pid "$TDIR/pid" sed -i 's/description: d/description: e/' "$MNT/environments/prod/spec.yaml"
	assert_line update Environment prod "$(cat "$TDIR/pid")"
	wf_doc wf1 >"$TDIR/wf1.yaml"
	as_pid "$TDIR/pid" cp "$TDIR/wf1.yaml" "$MNT/workflows/"
	p=$(cat "$TDIR/pid")
	assert_line create Workflow wf1 "$p"
	assert_line create WorkflowInstance wf1-default "$p"
	as_pid "$TDIR/pid" sed -i 's/echo hi/echo ho/' "$MNT/workflows/wf1/spec.yaml"
	assert_line update Workflow wf1 "$(cat "$TDIR/pid")"
	inst_doc i1 wf1 prod >"$TDIR/i1.yaml"
	as_pid "$TDIR/pid" cp "$TDIR/i1.yaml" "$MNT/workflowinstances/"
	assert_line create WorkflowInstance i1 "$(cat "$TDIR/pid")"
	as_pid "$TDIR/pid" sed -i 's/^metadata:/metadata:\n  labels: {a: b}/' "$MNT/workflowinstances/i1/spec.yaml"
	assert_line update WorkflowInstance i1 "$(cat "$TDIR/pid")"
	exec_doc x1 wf1 >"$TDIR/x1.yaml"
	as_pid "$TDIR/pid" cp "$TDIR/x1.yaml" "$MNT/workflowexecutions/"
	p=$(cat "$TDIR/pid")
	assert_line create WorkflowExecution x1 "$p"
	assert_line run WorkflowExecution x1 "$p"
	wait_run_end x1
	ctx_doc c1 "$(rid workflowexecutions x1)" >"$TDIR/c1.yaml"
	as_pid "$TDIR/pid" cp "$TDIR/c1.yaml" "$MNT/executioncontexts/"
	assert_line create ExecutionContext c1 "$(cat "$TDIR/pid")"
	for kd in executioncontexts/c1 workflowexecutions/x1 workflowinstances/i1 workflows/wf1 environments/prod; do
		as_pid "$TDIR/pid" rm -r "$MNT/$kd" </dev/null
		echo "$kd $(cat "$TDIR/pid")" >>"$TDIR/rms"
	done
	while read -r kd p; do
		case $kd in
		executioncontexts/*) assert_line delete ExecutionContext "${kd#*/}" "$p" ;;
		workflowexecutions/*) assert_line delete WorkflowExecution "${kd#*/}" "$p" ;;
		workflowinstances/*) assert_line delete WorkflowInstance "${kd#*/}" "$p" ;;
		workflows/*) assert_line delete Workflow "${kd#*/}" "$p"
			assert_line delete WorkflowInstance wf1-default "$p" ;;
		environments/*) assert_line delete Environment "${kd#*/}" "$p" ;;
		esac
	done <"$TDIR/rms"
	# every line is JSON
	jq -c . "$MNT/audit" >/dev/null
	assert_eq "$(jq -c . "$MNT/audit" | wc -l)" "$(wc -l <"$MNT/audit")" "lines parsed"
	assert_not_contains "$MNT/audit" s3cr3t-value
	assert_not_contains "$MNT/audit" t0ken-abc
}

t_audit_deny_no_secret() {
	strict
	local l
	printf 'metadata: {name: bad}\nspec:\n  data:\n    K: {value: %s, isSecret: true}\n  bogus: %s\n' \
		"$SECRET" "$SECRET" >"$TDIR/bad.yaml"
	as_pid "$TDIR/pid" cp "$TDIR/bad.yaml" "$MNT/environments/" 2>/dev/null && die "accepted"
	l=$(jq -c 'select(.verb == "deny")' "$MNT/audit")
	assert_eq "$(jq -r '"\(.kind) \(.name) \(.errno) \(.result) \(.uid) \(.user)"' <<<"$l")" \
		"Environment bad.yaml EBADMSG EBADMSG 0 root"
	assert_eq "$(jq -r .pid <<<"$l")" "$(cat "$TDIR/pid")"
	# the reason is the errors line's message
	grep -qF -- "EBADMSG: $(jq -r .reason <<<"$l")" "$MNT/errors" || die "reason differs from errors: $l"
	assert_eq "$(jq -c 'select(.verb == "create")' "$MNT/audit")" "" "a refused change left a line"
	assert_not_contains "$MNT/audit" "$SECRET"
	! grep -qaF -- "$SECRET" "$STATE/data.mdb" || die "secret in data.mdb"
}

t_audit_run_secrets_cancel() {
	strict
	local l x
	env_doc prod "$SECRET" >"$TDIR/prod.yaml"
	cp "$TDIR/prod.yaml" "$MNT/environments/"
	wf_doc slow "sleep 30" >"$TDIR/slow.yaml"
	cp "$TDIR/slow.yaml" "$MNT/workflows/"
	inst_doc i1 slow prod >"$MNT/workflowinstances/i1.yaml"
	printf 'metadata: {name: r1}\nspec: {workflowInstanceId: i1}\n' >"$TDIR/r1.yaml"
	as_pid "$TDIR/pid" cp "$TDIR/r1.yaml" "$MNT/workflowexecutions/"
	x=$(rid workflowexecutions r1)
	assert_line run WorkflowExecution r1 "$(cat "$TDIR/pid")"
	for _ in $(seq 1 100); do
		[ -n "$(aline use-secrets WorkflowExecution r1)" ] && break
		sleep 0.1
	done
	l=$(aline use-secrets WorkflowExecution r1)
	assert_eq "$(jq -r .id <<<"$l")" "$x"
	assert_eq "$(jq -c '.secrets' <<<"$l")" \
		"[{\"kind\":\"Environment\",\"id\":\"$(rid environments prod)\",\"name\":\"prod\"}]"
	as_pid "$TDIR/pid" bash -c "echo cancel >'$MNT/workflowexecutions/r1/ctl'"
	assert_line cancel WorkflowExecution r1 "$(cat "$TDIR/pid")"
	wait_run_end r1
	# a run file starts a run too
	echo 'triggerMessage: hi' >"$MNT/workflows/slow/run" || true
	jq -e -s 'map(select(.verb == "run")) | length >= 2' "$MNT/audit" >/dev/null ||
		die "no run line for the run file"
	# a run with no secret value: no use-secrets line
	wf_doc plain >"$TDIR/plain.yaml"
	cp "$TDIR/plain.yaml" "$MNT/workflows/"
	exec_doc p1 plain >"$TDIR/p1.yaml"
	cp "$TDIR/p1.yaml" "$MNT/workflowexecutions/"
	wait_run_end p1
	assert_eq "$(aline use-secrets WorkflowExecution p1)" "" "use-secrets without secrets"
	jq -c . "$MNT/audit" >/dev/null
	assert_not_contains "$MNT/audit" "$SECRET"
}

t_audit_durable() {
	strict
	local before
	for n in a b c; do
		env_doc "e$n" >"$TDIR/e$n.yaml"
		cp "$TDIR/e$n.yaml" "$MNT/environments/"
	done
	before=$(cat "$MNT/audit")
	remount_execfs
	assert_eq "$(cat "$MNT/audit")" "$before" "after a remount"
	env_doc ed >"$TDIR/ed.yaml"
	cp "$TDIR/ed.yaml" "$MNT/environments/"
	rm -r "$MNT/environments/ea"
	before=$(cat "$MNT/audit")
	assert_line delete Environment ea
	# kill -9: every acknowledged change keeps its line
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	DPID=
	fusermount3 -u -z "$MNT" 2>/dev/null || true
	mount_execfs
	assert_eq "$(head -c ${#before} "$MNT/audit")" "$before" "after kill -9"
	assert_line create Environment ed
	assert_line delete Environment ea
}

t_audit_limit() {
	strict
	local i size first
	remount_execfs audit_limit=4K
	for i in $(seq -w 1 40); do
		printf 'spec: {description: d}\n' >"$MNT/environments/env$i.yaml"
	done
	size=$(stat -c %s "$MNT/audit")
	assert_eq "$size" "$(cat "$MNT/audit" | wc -c)" "size in getattr"
	(( size <= 4096 && size > 3500 )) || die "audit is $size bytes with audit_limit=4K"
	assert_eq "$(aline create Environment env01)" "" "oldest line kept"
	assert_line create Environment env40
	jq -c . "$MNT/audit" >/dev/null
	first=$(head -n 1 "$MNT/audit" | jq -r .name)
	[[ $first > env01 ]] || die "first kept line is $first"
	# in order: names ascend
	jq -r .name "$MNT/audit" | sort -c
}

t_audit_readonly() {
	strict
	assert_fails sh -c "echo x >>'$MNT/audit'"
	assert_fails rm "$MNT/audit"
	assert_file "$MNT/audit"
}

run_tests "$@"
