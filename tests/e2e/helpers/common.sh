# tests/e2e/helpers/common.sh - helpers shared by the end-to-end tests.
#
# Sourced after lib.sh.  Provides: strict mode for a test body, document
# generators for the five kinds, accessors for the views of a resource,
# checks shared by several files (created resource, errors line, failing
# command with the right strerror text) and a snapshot of every view.

KINDDIRS="workflows workflowinstances workflowexecutions executioncontexts environments"
ID_RE='[0-9a-hjkmnp-tv-z]{26}'
TS_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z'

# strict: first line of every test body.  Any failing command fails the
# test and says where.
strict() {
	set -eE -o pipefail
	trap 'echo "    FAIL at line $LINENO: $BASH_COMMAND" >&2' ERR
	trap 'quietly unmount_tracked; unmount_execfs' EXIT
}

# track_mount DIR: a mount made by the test itself (besides MNT), to be
# unmounted when the test ends, however it ends.
track_mount() { echo "$1" >>"$TDIR/.mounts"; }

unmount_tracked() {
	local m
	[ -f "$TDIR/.mounts" ] || return 0
	while read -r m; do
		fusermount3 -u -z "$m" 2>/dev/null
	done <"$TDIR/.mounts"
	return 0
}

# quietly CMD...: run CMD without errexit and without the ERR trap (the
# harness's mount helpers are not written for set -e), then restore both.
quietly() {
	local o=$- rc t
	t=$(trap -p ERR)
	set +eE
	trap - ERR
	"$@"
	rc=$?
	[[ $o != *E* ]] || set -E
	[[ $o != *e* ]] || set -e
	[ -z "$t" ] || eval "$t"
	return $rc
}

# Wrap the harness's mount helpers (lib.sh) so tests in strict mode can
# call them, and so the EXIT trap's unmount never fails a passed test.
eval "lib_$(declare -f mount_execfs)"
eval "lib_$(declare -f unmount_execfs)"
mount_execfs() { quietly lib_mount_execfs "$@"; }
unmount_execfs() { quietly lib_unmount_execfs "$@"; }

# prefix_of KINDDIR: the id prefix of the kind.
prefix_of() {
	case $1 in
	workflows) echo wfl ;;
	workflowinstances) echo win ;;
	workflowexecutions) echo wex ;;
	executioncontexts) echo exec ;;
	environments) echo env ;;
	*) return 1 ;;
	esac
}

# strerror_of ENAME: the text tools print for the errno.
strerror_of() {
	case $1 in
	EBADMSG) echo "Bad message" ;;
	ENOENT) echo "No such file or directory" ;;
	EEXIST) echo "File exists" ;;
	EPERM) echo "Operation not permitted" ;;
	EFBIG) echo "File too large" ;;
	EBUSY) echo "Device or resource busy" ;;
	ENOSPC) echo "No space left on device" ;;
	EACCES) echo "Permission denied" ;;
	EIO) echo "Input/output error" ;;
	*) return 1 ;;
	esac
}

# ---- documents -------------------------------------------------------

# env_doc NAME [SECRET] [DESCRIPTION]
env_doc() {
	cat <<EOF
apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: $1
spec:
  description: ${3:-d}
  data:
    API_KEY:
      value: ${2:-s3cr3t-value}
      isSecret: true
    REGION:
      value: eu
EOF
}

# wf_doc NAME [COMMAND]
wf_doc() {
	cat <<EOF
apiVersion: agentic.stigmer.ai/v1
kind: Workflow
metadata:
  name: $1
spec:
  document: {dsl: 1.0.0, namespace: acme, name: $1, version: 1.0.0}
  tasks:
    - name: t1
      kind: RUN
      taskConfig:
        shell: {command: "${2:-echo hi}"}
EOF
}

# inst_doc NAME WORKFLOW [ENVREF]
inst_doc() {
	cat <<EOF
kind: WorkflowInstance
metadata:
  name: $1
spec:
  workflowId: $2
EOF
	[ -z "${3:-}" ] || echo "  envRefs: [$3]"
}

# exec_doc NAME WORKFLOW
exec_doc() {
	cat <<EOF
kind: WorkflowExecution
metadata:
  name: $1
spec:
  workflowId: $2
EOF
}

# ctx_doc NAME EXECUTION-ID [SECRET]
ctx_doc() {
	cat <<EOF
kind: ExecutionContext
metadata:
  name: $1
spec:
  executionId: $2
  data:
    TOKEN:
      value: ${3:-t0ken-abc}
      isSecret: true
EOF
}

# ---- views -------------------------------------------------------------

# rj KINDDIR SLUG FILTER: jq -r FILTER on the resource's resource.json.
rj() { jq -r "$3" <"$MNT/$1/$2/resource.json"; }

# rid KINDDIR SLUG: the resource's id (from the id view).
rid() { cat "$MNT/$1/$2/id"; }

# updated_at KINDDIR SLUG
updated_at() { rj "$1" "$2" .status.audit.specAudit.updatedAt; }

# mtime_ns PATH: modification time in nanoseconds.
mtime_ns() { stat -c '%.9Y' "$1" | tr -d .; }

# wait_tick: wait until the wall clock second changes, so a timestamp of
# one-second resolution taken afterwards is strictly later.
wait_tick() {
	local s
	s=$(date +%s)
	while [ "$(date +%s)" = "$s" ]; do sleep 0.05; done
}

# put FILE: write stdin to FILE in scratch space (outside the mount).
put() { cat >"$1"; }

# ---- checks ------------------------------------------------------------

# assert_created KINDDIR SLUG [SOURCE-FILE-NAME]: the resource exists, the
# source file is gone, the id is well formed and agrees with resource.json,
# by-id/<id> is a symlink to ../KINDDIR/SLUG.
assert_created() {
	local kd=$1 slug=$2 src=${3:-} id jid prefix
	[ -z "$src" ] || assert_absent "$MNT/$kd/$src" || return 1
	assert_dir "$MNT/$kd/$slug" || return 1
	id=$(rid "$kd" "$slug") || return 1
	prefix=$(prefix_of "$kd")
	[[ $id =~ ^$prefix-$ID_RE$ ]] || die "$kd/$slug: bad id '$id'" || return 1
	jid=$(rj "$kd" "$slug" .metadata.id) || return 1
	assert_eq "$jid" "$id" "$kd/$slug id vs resource.json" || return 1
	assert_eq "$(rj "$kd" "$slug" .metadata.slug)" "$slug" "$kd/$slug slug" || return 1
	[ -L "$MNT/by-id/$id" ] || die "by-id/$id is not a symlink" || return 1
	assert_eq "$(readlink "$MNT/by-id/$id")" "../$kd/$slug" "by-id/$id target" || return 1
	assert_eq "$(cat "$MNT/by-id/$id/id")" "$id" "by-id/$id/id" || return 1
}

# expect_fail ENAME CMD...: CMD must fail and print the strerror of ENAME.
expect_fail() {
	local en=$1 text
	shift
	text=$(strerror_of "$en")
	if "$@" >"$TDIR/out" 2>"$TDIR/stderr"; then
		die "should have failed with $en: $*"
		return 1
	fi
	grep -qF -- "$text" "$TDIR/stderr" ||
		{ cat "$TDIR/stderr" >&2; die "$* did not report '$text'"; return 1; }
}

# errors_last: the newest line of MNT/errors.
errors_last() { tail -n 1 "$MNT/errors"; }

# assert_error_line SUBJECT ENAME [FRAGMENT]: the newest errors line is
# "<timestamp> SUBJECT: ENAME: ..." and contains FRAGMENT.
assert_error_line() {
	local subj=$1 en=$2 frag=${3:-} line
	line=$(errors_last)
	[[ $line =~ $TS_RE" " ]] || die "errors line lacks a UTC timestamp: $line" || return 1
	[[ $line == *" $subj: $en: "* ]] || die "errors line does not name '$subj: $en': $line" || return 1
	[ -z "$frag" ] || [[ $line == *"$frag"* ]] || die "errors line lacks '$frag': $line" || return 1
}

# view_files: every view file of every resource (sorted), relative to MNT.
view_files() {
	(cd "$MNT" && for kd in $KINDDIRS; do
		for d in "$kd"/*/; do
			[ -f "$d/id" ] || continue
			for v in spec.yaml resource.yaml resource.json status.yaml id; do
				echo "$d$v"
			done
		done
	done)
}

# snapshot: checksums of every view of every resource and the by-id
# listing (MNT/errors excluded), on stdout.
snapshot() {
	local files
	files=$(view_files)
	(cd "$MNT" && { [ -z "$files" ] || md5sum $files; } && ls by-id | sort)
}

# wait_run_end SLUG: wait (up to 30 s) for execution SLUG to end.
wait_run_end() {
	local i p
	for i in $(seq 1 300); do
		p=$(jq -r .status.phase <"$MNT/workflowexecutions/$1/resource.json" 2>/dev/null)
		case $p in COMPLETED | FAILED | CANCELLED) return 0 ;; esac
		sleep 0.1
	done
	die "execution $1 did not end (phase '$p')"
}

# make_good_set: one resource of every kind: goodwf (+ goodwf-default),
# goodenv, goodinst, goodexec, goodctx.
make_good_set() {
	env_doc goodenv >"$TDIR/goodenv.yaml"
	wf_doc goodwf >"$TDIR/goodwf.yaml"
	inst_doc goodinst goodwf goodenv >"$TDIR/goodinst.yaml"
	exec_doc goodexec goodwf >"$TDIR/goodexec.yaml"
	cp "$TDIR/goodenv.yaml" "$MNT/environments/" || return 1
	cp "$TDIR/goodwf.yaml" "$MNT/workflows/" || return 1
	cp "$TDIR/goodinst.yaml" "$MNT/workflowinstances/" || return 1
	cp "$TDIR/goodexec.yaml" "$MNT/workflowexecutions/" || return 1
	# goodexec runs at once; its contexts are deleted when it ends, so
	# goodctx is written after that, to stay.
	wait_run_end goodexec || return 1
	ctx_doc goodctx "$(rid workflowexecutions goodexec)" >"$TDIR/goodctx.yaml"
	cp "$TDIR/goodctx.yaml" "$MNT/executioncontexts/" || return 1
	local r
	for r in workflows/goodwf workflows/goodwf workflowinstances/goodwf-default \
		workflowinstances/goodinst workflowexecutions/goodexec \
		executioncontexts/goodctx environments/goodenv; do
		assert_dir "$MNT/$r" || return 1
	done
}

# setup_prod: create Environment prod; SPEC is its spec.yaml.
SPEC=
setup_prod() {
	env_doc prod >"$TDIR/prod.yaml"
	cp "$TDIR/prod.yaml" "$MNT/environments/"
	assert_created environments prod prod.yaml
	SPEC=$MNT/environments/prod/spec.yaml
}

# new_spec DESC: the current spec with the description replaced, in $TDIR/new.
new_spec() { sed "s/^  description: .*/  description: $1/" "$SPEC" >"$TDIR/new"; }
