# shellcheck shell=bash
# tests/e2e/helpers/flow.sh - helpers for the end-to-end tests of control
# flow (issue 4: SWITCH, FOR, FORK, TRY, RUN workflow, HTTP_CALL, `${ }`
# expressions, limits): workflows written from templates, accessors for a
# task's status entry by its path, and a local HTTP server whose lifetime
# is bounded by the test's.
#
# Sourced after lib.sh, common.sh and run.sh.  Every wait is a poll with a
# deadline; none is a fixed sleep.

# Bash 5.2 gives `&` a meaning in ${s//pat/rep}; the templates want none.
shopt -u patsub_replacement 2>/dev/null || true

# ---- documents -------------------------------------------------------

# wf_tpl NAME [KEY=VALUE...]: wf_put NAME with the task list from stdin,
# each @KEY@ replaced by VALUE.  The templates are read from quoted
# heredocs, so jq's `$item` and `${ }` need no escaping.
wf_tpl() {
	local name=$1 kv s
	shift
	s=$(cat)
	for kv in "$@"; do s=${s//@${kv%%=*}@/${kv#*=}}; done
	printf '%s\n' "$s" | wf_put "$name"
}

# wf_doc_tpl NAME [KEY=VALUE...]: the whole Workflow document wf_tpl would
# write, on stdout (for documents that must be refused).
wf_doc_tpl() {
	local name=$1 kv s
	shift
	s=$(cat)
	for kv in "$@"; do s=${s//@${kv%%=*}@/${kv#*=}}; done
	cat <<EOF
metadata: {name: $name}
spec:
  document: {dsl: 1.0.0, namespace: e2e, name: $name, version: 1.0.0}
  tasks:
EOF
	printf '%s\n' "$s"
}

# trig JSON: the spec line giving the execution JSON as its triggerMessage.
trig() { printf '  triggerMessage: %s' "$(yq_str "$1")"; }

# ---- views -------------------------------------------------------------

# tj SLUG TASKPATH FILTER: jq -r FILTER on the status entry whose id is
# TASKPATH (fails when there is no such entry).
tj() {
	local out
	out=$(jq -r --arg id "$2" '[.status.tasks[] | select(.id == $id)] |
		if length == 1 then .[0] else error("no single entry") end | '"$3" \
		<"$(wx "$1")/resource.json") ||
		{ die "$1: no single status entry '$2' (ids: $(ids "$1"))"; return 1; }
	printf '%s\n' "$out"
}

# tstat SLUG TASKPATH: the status of that entry.
tstat() { tj "$1" "$2" .status; }

# assert_not_completed SLUG TASKPATH: the entry exists and ended without
# completing (SKIPPED, FAILED or CANCELLED).
assert_not_completed() {
	local st
	st=$(tstat "$1" "$2") || return 1
	case $st in SKIPPED | FAILED | CANCELLED) return 0 ;; esac
	die "$1: task $2 is '$st', want SKIPPED, FAILED or CANCELLED"
}

# assert_ended_not_completed SLUG: the run ended without completing.
assert_ended_not_completed() {
	case $(phase_of "$1") in FAILED | CANCELLED) return 0 ;; esac
	die "$1: phase '$(phase_of "$1")', want FAILED or CANCELLED"
}

# ids SLUG: the ids of status.tasks, comma-separated, in order.
ids() { xj "$1" '[.status.tasks[].id] | join(",")'; }

# phases_of SLUG TASKPATH: "STATUS:ITERATION" of each phase event of the
# task, space-separated, in order ("-" when the event has no iteration).
phases_of() {
	evq "$1" "map(select(.type == \"phase\" and .task == \"$2\") |
		\"\\(.status):\\(.iteration // \"-\")\") | join(\" \")"
}

# traces SLUG: the messages of the trace events, one a line.
traces() { evq "$1" 'map(select(.type == "trace") | .message) | .[]'; }

# has_child SLUG TASKPATH: the entry names its child execution already.
has_child() { [ -n "$(tj "$1" "$2" '.childExecution.slug // empty')" ]; }

# n_execs: how many executions exist.
n_execs() { find "$MNT/$WEXD" -mindepth 1 -maxdepth 1 -type d | wc -l; }

# ---- HTTP server ---------------------------------------------------------

# free_port: a TCP port of 127.0.0.1 nobody listens on (at the time asked).
free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# http_start DIR: serve DIR on 127.0.0.1:$HTTP_PORT until the test ends;
# its access log (one line a request) goes to $HTTP_LOG.  Returns once it
# answers (the probe asks /probe, which no test uses).
http_start() {
	HTTP_PORT=$(free_port)
	HTTP_LOG=$TDIR/http.log
	/usr/bin/python3 -u -m http.server --bind 127.0.0.1 "$HTTP_PORT" \
		--directory "$1" >/dev/null 2>"$HTTP_LOG" &
	HTTP_PID=$!
	bg_track "$HTTP_PID"
	wait_until 10 http_up || die "the HTTP server did not answer"
}

http_up() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$HTTP_PORT/probe"; }

# http_hits PATH: how many requests for PATH the server logged.
http_hits() { grep -c -F "\"GET $1 HTTP" "$HTTP_LOG" || true; }
