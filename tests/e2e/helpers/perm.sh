# shellcheck shell=bash
# tests/e2e/helpers/perm.sh - helpers for tests of a shared mount's owners,
# groups and modes (README "Sharing the mount", DESIGN 1.8).
#
# Sourced after lib.sh and common.sh, at the top of a test file, which
# must call perm_users_make before run_tests: it makes two groups and four
# users for the whole file and removes them when the file exits, however
# it exits.  The roles:
#   owner  $UA  creates the resources; member of $GG
#   group  $UB  member of $GG (the group the owner gives its resources)
#   other  $UC  in no group of the test
#   oper   $UD  member of $GO, the daemon's -o operators= group
# Each test calls perm_start (strict mode, a mount with allow_other and
# operators=$GO, cwd and TDIR readable by the users), then `cell` for each
# check of the matrix; a cell that differs is recorded and the test goes
# on, so one run shows every cell that differs; perm_end fails the test
# when any did.

PERM_TAG=pt$$
UA=${PERM_TAG}a
UB=${PERM_TAG}b
UC=${PERM_TAG}c
UD=${PERM_TAG}d
GG=${PERM_TAG}g
GO=${PERM_TAG}o

perm_users_remove() {
	local u
	for u in "$UA" "$UB" "$UC" "$UD"; do
		userdel "$u" 2>/dev/null
	done
	groupdel "$GG" 2>/dev/null
	groupdel "$GO" 2>/dev/null
	return 0
}

perm_users_make() {
	trap perm_users_remove EXIT
	trap 'exit 130' INT TERM
	groupadd "$GG" && groupadd "$GO" &&
		useradd -M -d /nonexistent -s /bin/sh -U -G "$GG" "$UA" &&
		useradd -M -d /nonexistent -s /bin/sh -U -G "$GG" "$UB" &&
		useradd -M -d /nonexistent -s /bin/sh -U "$UC" &&
		useradd -M -d /nonexistent -s /bin/sh -U -G "$GO" "$UD" ||
		{ echo "cannot make the test users (run as root)" >&2; exit 1; }
}

# user_of ROLE: the user name of a role (root is root).
user_of() {
	case $1 in
	owner) echo "$UA" ;;
	group) echo "$UB" ;;
	other) echo "$UC" ;;
	oper) echo "$UD" ;;
	root) echo root ;;
	*) echo "no role $1" >&2; return 1 ;;
	esac
}

# uid_of ROLE, gid_of ROLE: the role's uid and primary gid.
uid_of() { id -u "$(user_of "$1")"; }
gid_of() { id -g "$(user_of "$1")"; }

# as ROLE CMD...: CMD as the role's user; stdout in $TDIR/out, stderr in
# $TDIR/err; its exit status.
as() {
	local u
	u=$(user_of "$1") || return 1
	shift
	runuser -u "$u" -- "$@" >"$TDIR/out" 2>"$TDIR/err"
}

PERM_OPTS=
# perm_start [EXTRA-OPTIONS]: strict mode; the mount again with allow_other
# and operators=$GO; TDIR readable by the users and the cwd; WFD the
# workflows directory.
perm_start() {
	strict
	chmod 755 "$TDIR"
	cd "$TDIR" || return 1
	# shellcheck disable=SC2034 # for the tests
	WFD=$MNT/workflows
	PERM_OPTS="allow_other,operators=$GO${1:+,$1}"
	remount_execfs "$PERM_OPTS"
	: >"$TDIR/cells.failed"
	: >"$TDIR/cells.all"
}

# perm_end: fail when a cell differed, naming each.
perm_end() {
	local n f
	n=$(wc -l <"$TDIR/cells.all")
	f=$(wc -l <"$TDIR/cells.failed")
	echo "    info: $n cells, $f differed" >&2
	[ "$f" -eq 0 ] && return 0
	sed 's/^/    CELL /' "$TDIR/cells.failed" >&2
	return 1
}

# cell_fail LABEL MESSAGE: record a differing cell.
cell_fail() { echo "$1: $2" >>"$TDIR/cells.failed"; }

# expect LABEL CMD...: a check of the effect of a cell; recorded when CMD
# fails.
expect() {
	local l=$1
	shift
	echo "$l (check)" >>"$TDIR/cells.all"
	quietly "$@" >/dev/null 2>"$TDIR/expect.err" ||
		cell_fail "$l" "check failed: $* $(head -c 300 "$TDIR/expect.err")"
	return 0
}

# audit_n UID VERB: how many audit lines of VERB the uid has.
audit_n() {
	jq -c --argjson u "$1" --arg v "$2" 'select(.uid == $u and .verb == $v)' \
		"$MNT/audit" | wc -l
}

# audit_last_deny UID: the newest deny line of the uid.
audit_last_deny() {
	jq -c --argjson u "$1" 'select(.uid == $u and .verb == "deny")' \
		"$MNT/audit" | tail -n 1
}

# verb_of OP: the audit verb a successful OP writes ("-": none).
verb_of() {
	case ${1%%:*} in
	view) echo - ;;
	chgrp) echo chown ;;
	bind) echo create ;;
	*) echo "${1%%:*}" ;;
	esac
}

# PERM_NOSNAP: when set, a refused cell takes no snapshot (a snapshot
# reads every view as root, which leaves their names in the kernel's
# cache for every user).
# SNAP_SKIP: a grep -E pattern of snapshot lines a refused cell does not
# compare (runs in flight change their views by themselves).
SNAP_SKIP='^$'
perm_snapshot() { snapshot | grep -Ev -- "$SNAP_SKIP" || true; }

# cell KIND OP ROLE WANT SUBJECT CMD...: ROLE runs CMD (OP on KIND).
#   WANT ok: CMD succeeds; unless OP is a view, the audit has a new line
#     of OP's verb by the uid; no new deny line.
#   WANT EACCES|EPERM: CMD fails printing that errno's text; the audit has
#     a new deny line by the uid with that errno, naming SUBJECT (as the
#     line's name, or quoted in its reason); the user's errors file ends
#     with a line of that errno; no view of any resource changed.
cell() {
	local kind=$1 op=$2 role=$3 want=$4 subj=$5 label uid nd nv before rc
	local verb line text
	shift 5
	label="$kind $op $role (want $want)"
	echo "$label" >>"$TDIR/cells.all"
	uid=$(uid_of "$role")
	verb=$(verb_of "$op")
	nd=$(audit_n "$uid" deny)
	[ "$verb" = - ] || nv=$(audit_n "$uid" "$verb")
	[ "$want" = ok ] || [ -n "${PERM_NOSNAP:-}" ] || before=$(perm_snapshot)
	rc=0
	quietly as "$role" "$@" || rc=$?
	if [ "$want" = ok ]; then
		if [ $rc -ne 0 ]; then
			cell_fail "$label" "refused (exit $rc): $*: $(head -c 300 "$TDIR/err")"
			return 0
		fi
		[ "$(audit_n "$uid" deny)" -eq "$nd" ] ||
			cell_fail "$label" "succeeded but wrote a deny line: $(audit_last_deny "$uid")"
		[ "$verb" = - ] || [ "$(audit_n "$uid" "$verb")" -gt "$nv" ] ||
			cell_fail "$label" "no audit line '$verb' by uid $uid"
		return 0
	fi
	if [ $rc -eq 0 ]; then
		cell_fail "$label" "allowed: $*"
		return 0
	fi
	text=$(strerror_of "$want")
	grep -qF -- "$text" "$TDIR/err" ||
		cell_fail "$label" "did not say '$text': $(head -c 300 "$TDIR/err")"
	if [ "$(audit_n "$uid" deny)" -le "$nd" ]; then
		cell_fail "$label" "no deny line in audit"
	else
		line=$(audit_last_deny "$uid")
		[ "$(jq -r .errno <<<"$line")" = "$want" ] ||
			cell_fail "$label" "audit errno differs: $line"
		jq -e --arg s "$subj" '.name == $s or (.reason | contains("\"" + $s + "\""))' \
			<<<"$line" >/dev/null ||
			cell_fail "$label" "audit line does not name '$subj': $line"
	fi
	runuser -u "$(user_of "$role")" -- tail -n 1 "$MNT/errors" >"$TDIR/errline" 2>&1 || true
	grep -qF -- ": $want: " "$TDIR/errline" ||
		cell_fail "$label" "errors of $role does not end with $want: $(cat "$TDIR/errline")"
	[ -n "${PERM_NOSNAP:-}" ] || [ "$(perm_snapshot)" = "$before" ] ||
		cell_fail "$label" "a view changed after the refusal"
	return 0
}

# owner_is PATH ROLE[:GROUP] MODE: ls -l shows that owner, group (the
# role's primary group unless given) and mode (octal, as stat %a).
owner_is() {
	local p=$1 role=${2%%:*} grp=${2#*:} want got
	[ "$grp" != "$2" ] || grp=$(id -gn "$(user_of "$role")")
	want="$(user_of "$role") $grp $3"
	got=$(stat -c '%U %G %a' "$p")
	[ "$got" = "$want" ] || { echo "$p: '$got', want '$want'" >&2; return 1; }
}

# RUNFILE_SH: a script for `sh -c "$RUNFILE_SH" _ PATH-TO-RUN`: write to
# a Workflow's run file and print the new execution's name, read back from
# the same open file.
# shellcheck disable=SC2034 # used by the tests
RUNFILE_SH='exec 3<>"$1" && echo >&3 && read -r n <&3 && echo "$n"'

# wait_runs_end: every execution ended.
wait_runs_end() {
	local x
	for x in "$MNT"/workflowexecutions/*/; do
		[ -d "$x" ] || continue
		x=${x%/}
		wait_run_end "${x##*/}" || return 1
	done
}

# spec_sub KINDDIR SLUG SED-EXPR OUT: the resource's spec.yaml (read as
# root) with SED-EXPR applied, in OUT (readable by all).
spec_sub() { sed "$3" "$MNT/$1/$2/spec.yaml" >"$4"; }

# not CMD...: CMD fails (for expect).
not() { ! "$@"; }

# as_ok ROLE CMD...: setup as a role; must succeed.
as_ok() { as "$@" || die "as $1: $*: $(cat "$TDIR/err")"; }

# root_wf NAME COMMAND MODE: a Workflow of root's with that mode.
root_wf() {
	wf_doc "$1" "$2" >"$1.yaml"
	cp "$1.yaml" "$MNT/workflows/"
	chmod "$3" "$MNT/workflows/$1"
}

# hold_pending ROLE FILE: ROLE opens FILE in the mount, writes a document
# with a secret and keeps it open, written but not flushed (a shell would
# flush, which commits it), until $TDIR/hold/go exists; it chmods it 0644
# on the way (the mode does not open it to others).
hold_pending() {
	mkdir -p "$TDIR/hold"
	chmod 777 "$TDIR/hold"
	rm -f "$TDIR/hold/written" "$TDIR/hold/go"
	runuser -u "$(user_of "$1")" -- python3 - "$2" "$TDIR/hold/written" "$TDIR/hold/go" <<'PY' &
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
	HOLD_PID=$!
	for _ in $(seq 1 100); do [ -e "$TDIR/hold/written" ] && return 0; sleep 0.05; done
	die "the writer did not write"
}

# release_pending: the writer closes its file, which commits it.
release_pending() {
	touch "$TDIR/hold/go"
	wait "$HOLD_PID"
}
