# shellcheck shell=bash
# tests/e2e/helpers/run.sh - helpers for end-to-end tests of executions
# that run (DESIGN 1.5, 1.6, 1.7): writing workflows and executions,
# bounded waits on a run's phase, queries on its events, and bookkeeping
# of the processes a test starts (background readers, task processes
# with a unique marker in their command line) so none outlives the test.
#
# Sourced after lib.sh and common.sh.  Every wait is a poll with a
# deadline; none is a fixed sleep.

WEXD=workflowexecutions

# run_strict: strict (common.sh) plus, at exit, the test's background
# readers killed, the mount(s) unmounted and left-over task processes
# (found by this test's markers) killed by pid.
run_strict() {
	strict
	trap 'quietly reap_bg; quietly unmount_tracked; unmount_execfs; quietly reap_markers' EXIT
}

# ---- documents -------------------------------------------------------

# wf_put NAME: create Workflow NAME with cp; its task list is read from
# stdin as YAML list items indented by four spaces ("    - name: a").
wf_put() {
	{
		cat <<EOF
metadata: {name: $1}
spec:
  document: {dsl: 1.0.0, namespace: e2e, name: $1, version: 1.0.0}
  tasks:
EOF
		cat
	} >"$TDIR/wf-$1.yaml"
	cp "$TDIR/wf-$1.yaml" "$MNT/workflows/"
}

# wex_start NAME WORKFLOW [SPEC-LINES]: create WorkflowExecution NAME of
# WORKFLOW with cp, SPEC-LINES (YAML indented by two) added under spec.
wex_start() {
	{
		printf 'metadata: {name: %s}\nspec:\n  workflowId: %s\n' "$1" "$2"
		[ -z "${3:-}" ] || printf '%s\n' "$3"
	} >"$TDIR/wex-$1.yaml"
	cp "$TDIR/wex-$1.yaml" "$MNT/$WEXD/"
}

# yq_str S: S as a double-quoted YAML (JSON) scalar, whatever it holds.
yq_str() { jq -n --arg s "$1" '$s'; }

# ---- views -------------------------------------------------------------

# wx SLUG: the execution's directory.
wx() { printf '%s/%s/%s' "$MNT" "$WEXD" "$1"; }

# xj SLUG FILTER: jq -r FILTER on the execution's resource.json.
xj() { jq -r "$2" <"$(wx "$1")/resource.json"; }

# phase_of SLUG: the phase in status.yaml (empty when unreadable).
phase_of() {
	sed -n 's/^phase: *//p' "$(wx "$1")/status.yaml" 2>/dev/null |
		tr -d "\"'" | head -n 1
}

# evq SLUG FILTER: jq -r FILTER on the events as one array (every line
# must be a JSON document, else jq fails and so does the caller).
evq() { jq -r -s "$2" <"$(wx "$1")/events"; }

# ev_count SLUG SELECT: how many events match the jq condition SELECT.
ev_count() { evq "$1" "[.[] | select($2)] | length"; }

# ---- waits -------------------------------------------------------------

# wait_until TIMEOUT CMD...: poll CMD every 0.1 s until it succeeds;
# fail when TIMEOUT seconds passed.
wait_until() {
	local end=$((SECONDS + $1 + 1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		quietly "$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "not true within the deadline: $*"
}

# is_phase SLUG PHASE...: the phase is one of PHASE...
is_phase() {
	local p s=$1
	shift
	p=$(phase_of "$s")
	for w in "$@"; do [ "$p" = "$w" ] && return 0; done
	return 1
}

# wait_phase SLUG PHASE [TIMEOUT=20]: until status.yaml shows PHASE.  On
# timeout say what it shows instead, with the last events.
wait_phase() {
	local s=$1 want=$2 t=${3:-20} end
	end=$((SECONDS + t + 1))
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(phase_of "$s")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "    --- last events of $s:" >&2
	{ tail -n 5 "$(wx "$s")/events" | cut -c1-300; } 2>/dev/null >&2 || true
	die "$s: phase '$(phase_of "$s")' after ${t}s, want $want"
}

# wait_ended SLUG [TIMEOUT=20]: until the run is COMPLETED, FAILED or
# CANCELLED.
wait_ended() {
	wait_until "${2:-20}" is_phase "$1" COMPLETED FAILED CANCELLED ||
		die "$1 did not end: phase '$(phase_of "$1")'"
}

# file_has FILE TEXT: FILE exists and holds TEXT (for wait_until).
file_has() { [ -f "$1" ] && grep -qF -- "$2" "$1"; }

# ---- processes ---------------------------------------------------------

# new_marker: a name unique to this test, put in a task's command line
# (bash: exec -a MARKER sleep 600) so pgrep -f finds exactly its process.
new_marker() {
	local m="execfs_mk_$$_${RANDOM}${RANDOM}"
	echo "$m" >>"$TDIR/.markers"
	echo "$m"
}

# A marked process is the one that runs as the marker (exec -a MARKER):
# the shell before its exec, whose -c script names the marker too, is not
# (a test that signals it at once would catch the shell starting).
proc_alive() { pgrep -f -- "^$1( |\$)" >/dev/null; }
proc_dead() { ! pgrep -f -- "^$1( |\$)" >/dev/null; }

# wait_proc MARKER [TIMEOUT=10]: until a process with MARKER exists.
wait_proc() { wait_until "${2:-10}" proc_alive "$1" || die "no process $1"; }

# wait_no_proc MARKER [TIMEOUT=5]: until no process with MARKER is left.
wait_no_proc() {
	wait_until "${2:-5}" proc_dead "$1" ||
		die "process left: $(pgrep -a -f -- "$1")"
}

# bg_track PID: a background process of the test, killed at its end.
bg_track() { echo "$1" >>"$TDIR/.bgpids"; }

reap_bg() {
	local p
	[ -f "$TDIR/.bgpids" ] || return 0
	while read -r p; do kill "$p" 2>/dev/null; done <"$TDIR/.bgpids"
	return 0
}

# reap_markers: kill (by pid) any task process this test left behind, so
# a failed test does not leave `sleep 600` around.
reap_markers() {
	local m p
	[ -f "$TDIR/.markers" ] || return 0
	while read -r m; do
		for p in $(pgrep -f -- "$m"); do kill -9 "$p" 2>/dev/null; done
	done <"$TDIR/.markers"
	return 0
}

# pid_exited PID: the process is gone (or a zombie of ours).
pid_exited() { ! kill -0 "$1" 2>/dev/null; }

# wait_pid PID [TIMEOUT=10]: until background job PID exited; its exit
# status is then returned by `wait PID`.
wait_pid() {
	wait_until "${2:-10}" pid_exited "$1" || die "process $1 still running"
}
