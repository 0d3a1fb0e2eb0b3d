#!/usr/bin/env bash
# t_replace.sh - tools that replace spec.yaml by unlinking it and creating
# it again (install, cp --remove-destination): the new file is an update
# of the resource, a bad one changes nothing, and an unlink alone never
# deletes anything (DESIGN 1.4, README "Update").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

HIDE_SECONDS=2	# how long spec.yaml stays hidden from its unlinker

# bad_spec: a document that fails validation, in $TDIR/bad.
bad_spec() { printf 'spec:\n  bogusField: 1\n' >"$TDIR/bad"; }

# check_replaced DESC ID: the resource kept its id and shows DESC in every
# view; nothing else appeared and errors is empty.
check_replaced() {
	local desc=$1 id=$2 d=$MNT/environments/prod
	assert_eq "$(rj environments prod .spec.description)" "$desc" "resource.json" || return 1
	assert_contains "$SPEC" "description: $desc" || return 1
	assert_contains "$d/resource.yaml" "description: $desc" || return 1
	cmp -s "$SPEC" "$TDIR/new" || die "spec.yaml is not the new document" || return 1
	assert_eq "$(rid environments prod)" "$id" "id" || return 1
	assert_eq "$(rj environments prod .status.audit.specAudit.event)" updated "event" || return 1
	assert_eq "$(rj environments prod .spec.data.API_KEY.value)" '***' "mask" || return 1
	assert_eq "$(stat -c %s "$SPEC")" "$(wc -c <"$SPEC")" "spec size" || return 1
	assert_eq "$(stat -c %h "$SPEC")" 2 "spec.yaml st_nlink" || return 1
	assert_eq "$(ls -A "$MNT/environments" | tr '\n' ' ')" "prod " "kind dir" || return 1
	assert_eq "$(ls -A "$d" | sort | tr '\n' ' ')" \
		"id resource.json resource.yaml spec.yaml status.yaml " "resource dir" || return 1
	assert_eq "$(cat "$MNT/errors")" "" "errors" || return 1
}

# install unlinks the destination, creates it with O_EXCL, then chmods it.
t_replace_install() {
	strict
	setup_prod
	local id
	id=$(rid environments prod)
	new_spec by-install
	install -m 644 "$TDIR/new" "$SPEC"
	check_replaced by-install "$id"
	# Another mode and owner are accepted and ignored.
	new_spec by-install-600
	install -m 600 -o root -g root "$TDIR/new" "$SPEC"
	check_replaced by-install-600 "$id"
	# the directory carries the mode (0750: spec.yaml rw-r-----)
	assert_eq "$(stat -c %a "$SPEC")" 640 "spec.yaml mode"
	# -C copies only when content or mode differ; both ways work.
	new_spec by-install-C
	install -C -m 644 "$TDIR/new" "$SPEC"
	check_replaced by-install-C "$id"
	install -C -m 644 "$TDIR/new" "$SPEC"
	install -C -m 600 "$TDIR/new" "$SPEC"
	check_replaced by-install-C "$id"
}

t_replace_cp_remove_destination() {
	strict
	setup_prod
	local id
	id=$(rid environments prod)
	new_spec by-cp-rd
	cp --remove-destination "$TDIR/new" "$SPEC"
	check_replaced by-cp-rd "$id"
	new_spec by-cp-rd-again
	cp --remove-destination "$TDIR/new" "$SPEC"
	check_replaced by-cp-rd-again "$id"
}

# A bad document through either tool: the errno, an errors line, nothing
# changed, and spec.yaml is there for everyone afterwards.
t_replace_invalid() {
	strict
	setup_prod
	local before
	before=$(snapshot)
	bad_spec
	expect_fail EBADMSG install -m 644 "$TDIR/bad" "$SPEC"
	assert_error_line environments/prod/spec.yaml EBADMSG bogusField
	assert_eq "$(snapshot)" "$before" "views after a bad install"
	expect_fail EBADMSG install -C -m 600 "$TDIR/bad" "$SPEC"
	assert_eq "$(snapshot)" "$before" "views after a bad install -C"
	expect_fail EBADMSG cp --remove-destination "$TDIR/bad" "$SPEC"
	assert_error_line environments/prod/spec.yaml EBADMSG bogusField
	assert_eq "$(snapshot)" "$before" "views after a bad cp --remove-destination"
	assert_eq "$(rj environments prod .spec.description)" d
	assert_eq "$(ls -A "$MNT/environments/prod" | sort | tr '\n' ' ')" \
		"id resource.json resource.yaml spec.yaml status.yaml " "resource dir"
}

# rm spec.yaml alone deletes nothing: other processes keep reading it, and
# the process that removed it sees it gone, then back after a moment.
t_replace_rm_alone() {
	strict
	setup_prod
	local before id
	before=$(snapshot)
	id=$(rid environments prod)
	rm "$SPEC"
	assert_file "$SPEC"
	assert_eq "$(snapshot)" "$before" "views after rm spec.yaml"
	python3 - "$SPEC" "$HIDE_SECONDS" <<'EOF'
import os, sys, time
spec, hide = sys.argv[1], float(sys.argv[2])
before = open(spec).read()
os.unlink(spec)
if os.path.exists(spec):
    sys.exit("spec.yaml still visible to the process that unlinked it")
time.sleep(hide + 0.5)
if open(spec).read() != before:
    sys.exit("spec.yaml changed after unlink and wait")
EOF
	assert_eq "$(snapshot)" "$before" "views after unlink and wait"
	assert_eq "$(rid environments prod)" "$id"
	assert_eq "$(cat "$MNT/errors")" "" "errors"
	# rm -r still reaches the directory and deletes the resource.
	rm -r "$MNT/environments/prod"
	assert_absent "$MNT/environments/prod"
}

# The replacement is a committed update: it survives a remount.
t_replace_durable() {
	strict
	setup_prod
	local id
	id=$(rid environments prod)
	new_spec by-install-durable
	install -m 644 "$TDIR/new" "$SPEC"
	cp "$TDIR/new" "$TDIR/first"
	new_spec by-cp-durable
	cp --remove-destination "$TDIR/new" "$SPEC"
	remount_execfs
	check_replaced by-cp-durable "$id"
}

# A draft's template spec.yaml replaced by install creates the resource.
t_replace_draft_spec() {
	strict
	mkdir "$MNT/environments/stg"
	env_doc stg >"$TDIR/stg.yaml"
	install -m 644 "$TDIR/stg.yaml" "$MNT/environments/stg/spec.yaml"
	assert_created environments stg
	assert_eq "$(rj environments stg .spec.description)" d
}

run_tests "$@"
