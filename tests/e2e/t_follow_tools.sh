#!/usr/bin/env bash
# t_follow_tools.sh - follow/log and follow/events read with the usual
# tools (DESIGN 1.6): head, sed, grep, awk, less +F and tail -n +1 -f give
# the right lines and say nothing on stderr, on a run that ended and on
# one still running.  Tools that stop early seek back (GNU head, grep on
# stdin), so a follow file is a seekable regular file whose offsets are
# byte positions in the stream; its size is the stream's size so far.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"

# fin_run SLUG: an execution that printed l1 l2 l3 and COMPLETED.
fin_run() {
	wf_put fin <<'EOF'
    - name: three
      kind: RUN
      taskConfig:
        script: {language: bash, code: "echo l1; echo l2; echo l3"}
EOF
	wex_start "$1" fin
	wait_phase "$1" COMPLETED 20
}

# live_run SLUG MARKER: an execution that prints live-1, waits 2 s,
# prints live-2 and sleeps (process MARKER) until cancelled; returns once
# live-1 is in its log.
live_run() {
	wf_put live <<EOF
    - name: drip
      kind: RUN
      taskConfig:
        script:
          language: bash
          code: "echo live-1; sleep 2; echo live-2; exec -a $2 sleep 600"
EOF
	wex_start "$1" live
	wait_until 10 file_has "$(wx "$1")/log" live-1
}

# short_run SLUG: prints live-1, waits 2 s, prints live-2 and COMPLETES;
# returns once live-1 is in its log (the run is still going).
short_run() {
	wf_put short <<'EOF'
    - name: drip
      kind: RUN
      taskConfig:
        script: {language: bash, code: "echo live-1; sleep 2; echo live-2"}
EOF
	wex_start "$1" short
	wait_until 10 file_has "$(wx "$1")/log" live-1
}

# no_stderr FILE WHAT: FILE (a tool's stderr) is empty.
no_stderr() {
	[ ! -s "$1" ] || { cat "$1" >&2; die "$2 wrote to stderr"; }
}

# cancel_run SLUG: cancel it and wait for CANCELLED.
cancel_run() {
	echo cancel >"$(wx "$1")/ctl"
	wait_phase "$1" CANCELLED 15
}

# head -n N: stops after N lines (and seeks back over the rest it read).
t_follow_head_ended() {
	run_strict
	local d
	fin_run h1
	d=$(wx h1)
	head -n 2 "$d/follow/log" >"$TDIR/out" 2>"$TDIR/err"
	assert_eq "$(cat "$TDIR/out")" "$(printf 'l1\nl2')" "head -n 2 follow/log"
	no_stderr "$TDIR/err" "head -n 2 follow/log"
	head -n 2 "$d/follow/events" >"$TDIR/ev" 2>"$TDIR/err"
	head -n 2 "$d/events" | cmp - "$TDIR/ev" || die "head -n 2 follow/events"
	no_stderr "$TDIR/err" "head -n 2 follow/events"
	# On stdin the seek back leaves the rest for the next reader.
	{ head -n 1 >"$TDIR/first"; cat >"$TDIR/rest"; } \
		<"$d/follow/log" 2>"$TDIR/err"
	assert_eq "$(cat "$TDIR/first")" l1 "head -n 1 <follow/log"
	assert_eq "$(cat "$TDIR/rest")" "$(printf 'l2\nl3')" "cat after head"
	no_stderr "$TDIR/err" "head -n 1 <follow/log"
}

# On a live run head -n 2 returns as soon as the second line exists.
t_follow_head_live() {
	run_strict
	local d m rc=0
	m=$(new_marker)
	live_run h2 "$m"
	d=$(wx h2)
	timeout 10 head -n 2 "$d/follow/log" >"$TDIR/out" 2>"$TDIR/err" || rc=$?
	assert_eq "$rc" 0 "head -n 2 follow/log exit status"
	assert_eq "$(cat "$TDIR/out")" "$(printf 'live-1\nlive-2')"
	no_stderr "$TDIR/err" "head -n 2 follow/log"
	assert_eq "$(phase_of h2)" IN_PROGRESS "phase when head returned"
	rc=0
	timeout 10 head -n 1 "$d/follow/events" >"$TDIR/ev" 2>"$TDIR/err" ||
		rc=$?
	assert_eq "$rc" 0 "head -n 1 follow/events exit status"
	head -n 1 "$d/events" | cmp - "$TDIR/ev" || die "head -n 1 follow/events"
	no_stderr "$TDIR/err" "head -n 1 follow/events"
	cancel_run h2
}

# sed -n 1p reads to EOF: at once on an ended run, at the end of a live one.
t_follow_sed() {
	run_strict
	local d rc=0
	fin_run s1
	d=$(wx s1)
	sed -n 2p "$d/follow/log" >"$TDIR/out" 2>"$TDIR/err"
	assert_eq "$(cat "$TDIR/out")" l2 "sed -n 2p follow/log"
	no_stderr "$TDIR/err" "sed -n 2p follow/log"
	sed -n 1p "$d/follow/events" >"$TDIR/ev" 2>"$TDIR/err"
	sed -n 1p "$d/events" | cmp - "$TDIR/ev" || die "sed -n 1p follow/events"
	no_stderr "$TDIR/err" "sed -n 1p follow/events"
	sed -n 1p <"$d/follow/log" >"$TDIR/out" 2>"$TDIR/err"
	assert_eq "$(cat "$TDIR/out")" l1 "sed -n 1p <follow/log"
	no_stderr "$TDIR/err" "sed -n 1p <follow/log"
	short_run s2
	d=$(wx s2)
	timeout 15 sed -n 1p "$d/follow/log" >"$TDIR/out" 2>"$TDIR/err" || rc=$?
	assert_eq "$rc" 0 "sed -n 1p on a live run"
	assert_eq "$(cat "$TDIR/out")" live-1 "sed -n 1p on a live run"
	no_stderr "$TDIR/err" "sed -n 1p on a live run"
	wait_phase s2 COMPLETED 10
}

# grep -m1 stops at the first match; on stdin it seeks back to just
# after it, so the next reader goes on from there.
t_follow_grep() {
	run_strict
	local d m rc=0
	fin_run g1
	d=$(wx g1)
	grep -m1 l2 "$d/follow/log" >"$TDIR/out" 2>"$TDIR/err"
	assert_eq "$(cat "$TDIR/out")" l2 "grep -m1 l2 follow/log"
	no_stderr "$TDIR/err" "grep -m1 follow/log"
	{ grep -m1 l2 >"$TDIR/first"; cat >"$TDIR/rest"; } \
		<"$d/follow/log" 2>"$TDIR/err"
	assert_eq "$(cat "$TDIR/first")" l2 "grep -m1 l2 <follow/log"
	assert_eq "$(cat "$TDIR/rest")" l3 "cat after grep -m1"
	no_stderr "$TDIR/err" "grep -m1 <follow/log"
	grep -m1 '"type":"complete"' "$d/follow/events" >"$TDIR/ev" 2>"$TDIR/err"
	grep -m1 '"type":"complete"' "$d/events" | cmp - "$TDIR/ev" ||
		die "grep -m1 follow/events"
	no_stderr "$TDIR/err" "grep -m1 follow/events"
	m=$(new_marker)
	live_run g2 "$m"
	d=$(wx g2)
	# live-2 is not there yet: grep waits for it, then returns.
	timeout 10 grep -m1 live-2 "$d/follow/log" >"$TDIR/out" 2>"$TDIR/err" ||
		rc=$?
	assert_eq "$rc" 0 "grep -m1 live-2 follow/log exit status"
	assert_eq "$(cat "$TDIR/out")" live-2
	no_stderr "$TDIR/err" "grep -m1 on a live run"
	assert_eq "$(phase_of g2)" IN_PROGRESS "phase when grep returned"
	rc=0
	timeout 10 grep -m1 '"text":"live-2"' "$d/follow/events" \
		>"$TDIR/ev" 2>"$TDIR/err" || rc=$?
	assert_eq "$rc" 0 "grep -m1 follow/events exit status"
	assert_contains "$TDIR/ev" '"text":"live-2"'
	no_stderr "$TDIR/err" "grep -m1 follow/events on a live run"
	cancel_run g2
}

# awk exits after the first record; mawk fills its buffer before it
# looks at a record, so on a live run it answers when the run ends.
t_follow_awk() {
	run_strict
	local d rc=0
	fin_run a1
	d=$(wx a1)
	awk 'NR==1{print;exit}' "$d/follow/log" >"$TDIR/out" 2>"$TDIR/err"
	assert_eq "$(cat "$TDIR/out")" l1 "awk NR==1 follow/log"
	no_stderr "$TDIR/err" "awk follow/log"
	awk 'NR==1{print;exit}' "$d/follow/events" >"$TDIR/ev" 2>"$TDIR/err"
	head -n 1 "$d/events" | cmp - "$TDIR/ev" || die "awk follow/events"
	no_stderr "$TDIR/err" "awk follow/events"
	short_run a2
	d=$(wx a2)
	timeout 15 awk 'NR==1{print;exit}' "$d/follow/log" >"$TDIR/out" \
		2>"$TDIR/err" || rc=$?
	assert_eq "$rc" 0 "awk on a live run"
	assert_eq "$(cat "$TDIR/out")" live-1 "awk on a live run"
	no_stderr "$TDIR/err" "awk on a live run"
	wait_phase a2 COMPLETED 10
}

# tail_f_check FILE WANT: `tail -n +1 -f FILE` shows WANT and nothing on
# stderr, also after it has checked the file a few times (tail looks at
# the file once a second: a size below what it read is "file truncated").
tail_f_check() {
	local p
	tail -n +1 -f "$1" >"$TDIR/tail" 2>"$TDIR/tail.err" &
	p=$!
	bg_track $p
	wait_until 15 file_has "$TDIR/tail" "$(printf '%s' "$2" | tail -n 1)"
	sleep 3
	kill -0 $p 2>/dev/null || die "tail -n +1 -f $1 exited"
	kill $p
	wait $p 2>/dev/null || true
	assert_eq "$(cat "$TDIR/tail")" "$2" "tail -n +1 -f $1"
	no_stderr "$TDIR/tail.err" "tail -n +1 -f $1"
}

t_follow_tail_ended() {
	run_strict
	local d
	fin_run t1
	d=$(wx t1)
	tail_f_check "$d/follow/log" "$(printf 'l1\nl2\nl3')"
	tail_f_check "$d/follow/events" "$(cat "$d/events")"
}

# Started while the run goes: the lines as they come, then the end.
t_follow_tail_live() {
	run_strict
	local d
	short_run t2
	d=$(wx t2)
	tail -n +1 -f "$d/follow/events" >"$TDIR/tailev" 2>"$TDIR/tailev.err" &
	bg_track $!
	tail_f_check "$d/follow/log" "$(printf 'live-1\nlive-2')"
	wait_phase t2 COMPLETED 10
	wait_until 5 file_has "$TDIR/tailev" '"type":"complete"'
	cmp "$TDIR/tailev" "$d/events" || die "tail -n +1 -f follow/events"
	no_stderr "$TDIR/tailev.err" "tail -n +1 -f follow/events"
}

# less_check FILE WANT: `less +F FILE` in a tmux pane shows the lines
# WANT, waits for more, and quits with ^C q, leaving nothing on stderr.
less_check() {
	local s=execfs-less-$$-$RANDOM rc=0
	less_steps "$s" "$1" "$2" || rc=$?
	[ $rc -eq 0 ] || tmux capture-pane -p -t "$s" >&2 || true
	tmux kill-session -t "$s" 2>/dev/null || true
	return $rc
}

# less_steps SESSION FILE WANT (called in a list: no errexit here).
less_steps() {
	rm -f "$TDIR/less.rc" "$TDIR/less.err"
	tmux new-session -d -s "$1" -x 80 -y 24 \
		"less +F '$2' 2>'$TDIR/less.err'; echo less-rc=\$? >'$TDIR/less.rc'" ||
		return 1
	wait_until 15 less_shows "$1" "$3" || return 1
	tmux send-keys -t "$1" C-c || return 1
	wait_until 5 less_shows "$1" "$3" || return 1
	tmux send-keys -t "$1" q || return 1
	wait_until 5 file_has "$TDIR/less.rc" less-rc= || return 1
	assert_eq "$(cat "$TDIR/less.rc")" less-rc=0 "less +F $2" || return 1
	no_stderr "$TDIR/less.err" "less +F $2"
}

# less_shows SESSION WANT: the text on the pane is WANT exactly (less +F
# shows the end of the file: "~" fills the rows above a short one; the
# last row is less's prompt).
less_shows() {
	[ "$(tmux capture-pane -p -t "$1" | sed '$d' | grep -v '^~$')" = "$2" ]
}

t_follow_less() {
	run_strict
	local d m
	command -v tmux >/dev/null || die "tmux is needed"
	fin_run v1
	d=$(wx v1)
	less_check "$d/follow/log" "$(printf 'l1\nl2\nl3')"
	# Wrapped at the pane's 80 columns, the last 23 rows of it.
	less_check "$d/follow/events" "$(fold -w 80 "$d/events" | tail -n 23)"
	# A live run: less waits in a parked read, ^C interrupts it.
	m=$(new_marker)
	live_run v2 "$m"
	d=$(wx v2)
	less_check "$d/follow/log" "$(printf 'live-1\nlive-2')"
	assert_eq "$(phase_of v2)" IN_PROGRESS "phase when less quit"
	cancel_run v2
}

run_tests "$@"
