#!/usr/bin/env bash
# t_creator.sh - a task runs as its execution's creator (DESIGN 1.8,
# issue 10): on a root daemon shared with -o allow_other, a run that a
# user started (workflows/<slug>/run) runs its tasks with that user's
# uid, primary group and supplementary groups, in a HOME
# (STATE/runs/<id>) the user owns; a run root started runs as root; a
# sub-workflow runs as the parent's creator.  STATE and STATE/runs are
# 0711, everything else in STATE stays the daemon's alone.  Runs as root;
# makes a user and a group and removes them.
#
# The user's tests need the fs change that lets any user create in a
# kind directory of a shared mount (mode 1777) and chmod a resource
# directory; until then they fail at the first write as the user.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

CR_USER=execfs-cr-$$
CR_GROUP=execfs-crg-$$

# cr_cleanup: the daemon and every run stopped first (a user with
# processes cannot be removed), then the user and both groups.
cr_cleanup() {
	quietly reap_bg
	quietly unmount_tracked
	unmount_execfs
	quietly reap_markers
	userdel -f "$CR_USER" 2>/dev/null || true
	groupdel "$CR_USER" 2>/dev/null || true
	groupdel "$CR_GROUP" 2>/dev/null || true
}

# cr_setup: strict; the user (its own group, and CR_GROUP as a
# supplementary one); TDIR reachable by it; the daemon with allow_other.
cr_setup() {
	run_strict
	trap cr_cleanup EXIT
	groupadd "$CR_GROUP"
	useradd -M -d /nonexistent -s /bin/sh -U -G "$CR_GROUP" "$CR_USER"
	chmod 711 "$TDIR"
	remount_execfs allow_other
}

# as_cr LINE: the shell command LINE, run by the user as su runs it.
as_cr() { su -s /bin/sh "$CR_USER" -c "cd / && $1"; }

# who_wf NAME: a workflow, runnable by others, whose task says who runs
# it: uid, groups, HOME and HOME's owner.
who_wf() {
	wf_put "$1" <<'EOF'
    - name: who
      kind: RUN
      taskConfig:
        shell: {command: 'id -u; id -G; echo HOME=$HOME; stat -c %U $HOME'}
EOF
	chmod 0755 "$MNT/workflows/$1"
}

# cr_start WF: the user starts WF through its run file; prints the name
# of the execution.
cr_start() {
	as_cr "exec 3<>'$MNT/workflows/$1/run' && echo '{}' >&3 &&
		read -r n <&3 && echo \"\$n\""
}

# who_log USER NAME [GROUPS]: what who_wf's task prints when USER runs
# execution NAME; its groups are USER's (id -G USER) unless given.
who_log() {
	printf '%s\n%s\nHOME=%s\n%s' "$(id -u "$1")" "${3:-$(id -G "$1")}" \
		"$STATE/runs/$(rid "$WEXD" "$2")" "$1"
}

t_creator_user_runs_as_self() {
	cr_setup
	local name gid
	who_wf who
	name=$(cr_start who)
	[ -n "$name" ] || die "the user started nothing"
	wait_phase "$name" COMPLETED 20
	assert_eq "$(cat "$(wx "$name")/log")" "$(who_log "$CR_USER" "$name")"
	# The groups compared are the user's: its own and the extra one.
	gid=$(getent group "$CR_GROUP" | cut -d: -f3)
	sed -n 2p "$(wx "$name")/log" | grep -qw "$gid" ||
		die "no supplementary group $gid in '$(sed -n 2p "$(wx "$name")/log")'"
	# The work directory went with the run.
	assert_absent "$STATE/runs/$(rid "$WEXD" "$name")"
}

# Root's run stays root's: no switch, so the daemon's own groups (this
# shell's, which started it), not root's login groups.
t_creator_root_runs_as_root() {
	cr_setup
	who_wf who
	wex_start byroot who
	wait_phase byroot COMPLETED 20
	assert_eq "$(head -n 1 "$(wx byroot)/log")" 0
	assert_eq "$(cat "$(wx byroot)/log")" "$(who_log root byroot "$(id -G)")"
}

# The child of a RUN workflow task runs as the user who started the
# parent, not as root.
t_creator_sub_workflow_as_user() {
	cr_setup
	local name child
	who_wf child
	wf_put parent <<'EOF'
    - name: call
      kind: RUN
      taskConfig: {workflow: child}
EOF
	chmod 0755 "$MNT/workflows/parent"
	name=$(cr_start parent)
	[ -n "$name" ] || die "the user started nothing"
	wait_phase "$name" COMPLETED 30
	child=$(tj "$name" call .childExecution.slug)
	[ -n "$child" ] && [ "$child" != null ] || die "no child execution"
	wait_phase "$child" COMPLETED 10
	assert_eq "$(cat "$(wx "$child")/log")" "$(who_log "$CR_USER" "$child")"
}

# STATE and STATE/runs let others through (0711) to reach a HOME; the
# store's files and the rest stay private.
t_creator_state_modes() {
	cr_setup
	local f
	assert_eq "$(stat -c %a "$STATE")" 711
	assert_eq "$(stat -c %a "$STATE/runs")" 711
	for f in "$STATE"/* "$STATE"/.[!.]*; do
		[ -e "$f" ] && [ "$f" != "$STATE/runs" ] || continue
		[ $((0$(stat -c %a "$f") & 077)) -eq 0 ] ||
			die "$f is mode $(stat -c %a "$f")"
	done
	ls "$STATE" | grep -q mdb || die "no store files seen in $STATE"
	# A user may not list the runs.
	as_cr "ls '$STATE/runs'" 2>/dev/null && die "runs listed by a user"
	return 0
}

run_tests "$@"
