#!/usr/bin/env bash
# t_update.sh - updating a resource by writing its spec.yaml with the tools
# people use (DESIGN 1.4): sed -i, cp, tee, > redirection, rsync, vim,
# nano, perl -pi, python; scratch files of editors; immutability.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"


upd_sed() { sed -i "s/^  description: .*/  description: $1/" "$SPEC"; }
upd_cp() { new_spec "$1" && cp "$TDIR/new" "$SPEC"; }
upd_tee() { new_spec "$1" && tee "$SPEC" <"$TDIR/new" >/dev/null; }
upd_cat_redirect() { new_spec "$1" && cat "$TDIR/new" >"$SPEC"; }
upd_builtin_redirect() { new_spec "$1" && printf '%s\n' "$(cat "$TDIR/new")" >"$SPEC"; }
upd_rsync() { new_spec "$1" && rsync "$TDIR/new" "$SPEC"; }
upd_rsync_inplace() { new_spec "$1" && rsync --inplace "$TDIR/new" "$SPEC"; }
upd_dd() { new_spec "$1" && dd if="$TDIR/new" of="$SPEC" status=none; }
upd_vim() { vim -u NONE -es -c "%s/^  description: .*/  description: $1/" -c wq "$SPEC"; }
upd_vim_backup() {
	vim -u NONE --cmd 'set backupskip= writebackup' -es \
		-c "%s/^  description: .*/  description: $1/" -c wq "$SPEC"
}
upd_perl() { perl -pi -e "s/^  description: .*/  description: $1/" "$SPEC"; }
upd_python() {
	new_spec "$1" && python3 -c '
import sys
data = open(sys.argv[1]).read()
with open(sys.argv[2], "w") as f:
    f.write(data)
' "$TDIR/new" "$SPEC"
}

# tmux_wait SOCK TEXT: wait up to 10 s until the pane shows TEXT.
tmux_wait() {
	local i
	for i in $(seq 1 200); do
		tmux -S "$1" capture-pane -p -t e2e 2>/dev/null | grep -qF -- "$2" && return 0
		sleep 0.05
	done
	tmux -S "$1" capture-pane -p -t e2e >&2 2>/dev/null
	die "nano never showed '$2'"
}

# nano_save_quit SOCK: in the nano pane, ^O Enter to write, ^X to leave,
# and wait for nano to exit.
nano_save_quit() {
	local sock=$1 i
	tmux -S "$sock" send-keys -t e2e C-o
	tmux_wait "$sock" "File Name to Write" || return 1
	tmux -S "$sock" send-keys -t e2e Enter
	tmux_wait "$sock" "Wrote" || { tmux -S "$sock" kill-server; return 1; }
	tmux -S "$sock" send-keys -t e2e C-x
	for i in $(seq 1 200); do
		tmux -S "$sock" has-session -t e2e 2>/dev/null || return 0
		sleep 0.05
	done
	tmux -S "$sock" kill-server
	die "nano did not exit"
}

# upd_nano DESC: nano in a tmux pane: cut the description line, type the
# new one, ^O Enter to write, ^X to leave.
upd_nano() {
	local sock=$TDIR/tmux.sock line i
	line=$(grep -n '^  description:' "$SPEC" | cut -d: -f1)
	tmux -S "$sock" new-session -d -s e2e -x 120 -y 40 "nano +$line '$SPEC'" || return 1
	tmux_wait "$sock" "description:" || return 1
	tmux -S "$sock" send-keys -t e2e C-k
	tmux -S "$sock" send-keys -t e2e -l "  description: $1"
	tmux -S "$sock" send-keys -t e2e Enter
	tmux_wait "$sock" "description: $1" || return 1
	nano_save_quit "$sock"
}

# check_update METHOD DESC: apply METHOD and check what changed and what
# did not.
check_update() {
	local m=$1 desc=$2 id0 u0 c0 m0 dm0 u1
	id0=$(rid environments prod)
	u0=$(updated_at environments prod)
	c0=$(rj environments prod .status.audit.specAudit.createdAt)
	m0=$(mtime_ns "$SPEC")
	dm0=$(mtime_ns "$MNT/environments/prod")
	wait_tick
	"$m" "$desc" || die "$m exited non-zero" || return 1
	assert_eq "$(rj environments prod .spec.description)" "$desc" "$m: description" || return 1
	assert_contains "$SPEC" "description: $desc" || return 1
	assert_eq "$(rid environments prod)" "$id0" "$m: id" || return 1
	assert_eq "$(rj environments prod .metadata.id)" "$id0" "$m: metadata.id" || return 1
	assert_eq "$(rj environments prod .status.audit.specAudit.createdAt)" "$c0" "$m: createdAt" || return 1
	assert_eq "$(rj environments prod .status.audit.specAudit.event)" updated "$m: event" || return 1
	u1=$(updated_at environments prod)
	[[ $u1 > $u0 ]] || die "$m: updatedAt did not advance ($u0 -> $u1)" || return 1
	[ "$(mtime_ns "$SPEC")" -gt "$m0" ] || die "$m: spec.yaml mtime did not advance" || return 1
	[ "$(mtime_ns "$MNT/environments/prod")" -gt "$dm0" ] ||
		die "$m: directory mtime did not advance" || return 1
	# The secret kept its stored value's place: still secret, still masked.
	assert_eq "$(rj environments prod .spec.data.API_KEY.isSecret)" true "$m: isSecret" || return 1
	assert_eq "$(rj environments prod .spec.data.API_KEY.value)" '***' "$m: mask" || return 1
	assert_eq "$(rj environments prod .spec.data.REGION.value)" eu "$m: REGION" || return 1
	# Nothing left behind: no new resource, no leftover scratch file.
	assert_eq "$(ls -A "$MNT/environments" | tr '\n' ' ')" "prod " "$m: kind dir" || return 1
	assert_eq "$(ls -A "$MNT/environments/prod" | sort | tr '\n' ' ')" \
		"id resource.json resource.yaml spec.yaml status.yaml " "$m: resource dir" || return 1
	assert_eq "$(stat -c %s "$SPEC")" "$(wc -c <"$SPEC")" "$m: spec size" || return 1
	assert_eq "$(cat "$MNT/errors")" "" "$m: errors" || return 1
}

t_update_sed_i() { strict; setup_prod; check_update upd_sed by-sed; }
t_update_cp() { strict; setup_prod; check_update upd_cp by-cp; }
t_update_tee() { strict; setup_prod; check_update upd_tee by-tee; }
t_update_cat_redirect() { strict; setup_prod; check_update upd_cat_redirect by-cat; }
t_update_builtin_redirect() { strict; setup_prod; check_update upd_builtin_redirect by-printf; }
t_update_rsync() { strict; setup_prod; check_update upd_rsync by-rsync; }
t_update_rsync_inplace() { strict; setup_prod; check_update upd_rsync_inplace by-rsync-inplace; }
t_update_dd() { strict; setup_prod; check_update upd_dd by-dd; }
t_update_vim() { strict; setup_prod; check_update upd_vim by-vim; }
t_update_vim_backup() { strict; setup_prod; check_update upd_vim_backup by-vim-backup; }
t_update_perl() { strict; setup_prod; check_update upd_perl by-perl; }
t_update_python() { strict; setup_prod; check_update upd_python by-python; }
t_update_nano() {
	strict
	if ! command -v tmux >/dev/null; then
		apt-get install -y tmux >/dev/null 2>&1 ||
			{ echo "    SKIP: tmux missing and cannot be installed" >&2; return 0; }
	fi
	setup_prod
	check_update upd_nano by-nano
}

# Several updates in a row, each visible at once, each a new updatedAt.
t_update_sequence() {
	strict
	setup_prod
	check_update upd_sed one
	check_update upd_cp two
	check_update upd_vim three
	check_update upd_rsync four
	remount_execfs
	assert_eq "$(rj environments prod .spec.description)" four
}

# Appending keeps what was there; the comment is part of the new spec.
t_update_append() {
	strict
	setup_prod
	local id
	id=$(rid environments prod)
	echo "# appended-comment" >>"$SPEC"
	assert_eq "$(tail -n 1 "$SPEC")" "# appended-comment"
	assert_eq "$(rid environments prod)" "$id"
	assert_eq "$(rj environments prod .spec.description)" d
}

# Other kinds update the same way.
t_update_other_kinds() {
	strict
	make_good_set
	local f=$MNT/workflows/goodwf/spec.yaml id
	id=$(rid workflows goodwf)
	sed -i 's/echo hi/echo changed/' "$f"
	assert_eq "$(rj workflows goodwf '.spec.tasks[0].taskConfig.shell.command')" "echo changed"
	assert_eq "$(rid workflows goodwf)" "$id"
	# The default instance link is server-owned and survives the update.
	assert_eq "$(rj workflows goodwf .status.defaultInstanceId)" "$(rid workflowinstances goodwf-default)"
	# Add a task with an editor.
	vim -u NONE -es -c "call append('\$', ['    - name: t2', '      kind: RUN', '      taskConfig: {shell: {command: \"echo two\"}}'])" \
		-c wq "$f"
	assert_eq "$(rj workflows goodwf '.spec.tasks|length')" 2
	assert_eq "$(rj workflows goodwf '.spec.tasks[1].name')" t2

	f=$MNT/workflowinstances/goodinst/spec.yaml
	printf '  description: edited\n' >>"$f"
	assert_eq "$(rj workflowinstances goodinst .spec.description)" edited

	# An execution's spec is immutable once it has left PENDING, which
	# it does as soon as it is created: its run starts at once.
	f=$MNT/workflowexecutions/goodexec/spec.yaml
	cp "$f" "$TDIR/exec-before"
	expect_fail EPERM sh -c "printf '  triggerMessage: hello\n' | tee -a '$f'" || return 1
	cmp -s "$f" "$TDIR/exec-before" || die "execution spec changed after EPERM" || return 1
	assert_error_line workflowexecutions/goodexec/spec.yaml EPERM "has already started"
}

# ExecutionContext is immutable: any write of its spec.yaml is EPERM, the
# spec reads back unchanged, and errors says so.
t_update_context_immutable() {
	strict
	make_good_set
	local f=$MNT/executioncontexts/goodctx/spec.yaml before
	before=$(cat "$f")
	cp "$f" "$TDIR/same"
	expect_fail EPERM cp "$TDIR/same" "$f"
	assert_error_line executioncontexts/goodctx/spec.yaml EPERM
	expect_fail EPERM sed -i 's/TOKEN/TOKEN2/' "$f"
	# vim says "E512: Close failed" rather than the errno text.
	assert_fails vim -u NONE -es -c '%s/TOKEN/TOKEN3/' -c wq "$f"
	assert_eq "$(cat "$f")" "$before" "context spec after refused writes"
	assert_eq "$(rj executioncontexts goodctx '.spec.data|keys|join(",")')" TOKEN
}

# A failed update changes nothing: the previous spec reads back unchanged.
t_update_failure_keeps_previous() {
	strict
	setup_prod
	local before
	before=$(cat "$SPEC")
	expect_fail EBADMSG sed -i 's/^  description: .*/  description: [unclosed/' "$SPEC"
	assert_eq "$(cat "$SPEC")" "$before"
	assert_error_line environments/prod/spec.yaml EBADMSG
	printf 'spec:\n  bogusField: 1\n' >"$TDIR/bad"
	expect_fail EBADMSG cp "$TDIR/bad" "$SPEC"
	assert_eq "$(cat "$SPEC")" "$before"
	assert_error_line environments/prod/spec.yaml EBADMSG bogusField
	expect_fail EBADMSG tee "$SPEC" <"$TDIR/bad"
	assert_eq "$(cat "$SPEC")" "$before"
	assert_eq "$(rj environments prod .spec.description)" d
	# vim reports the failed close and the resource is still there.
	assert_fails vim -u NONE -es -c '%s/^  description: .*/  description: {x/' -c wq "$SPEC"
	assert_eq "$(cat "$SPEC")" "$before"
	assert_dir "$MNT/environments/prod"
}

# Editors' and tools' scratch files are allowed, kept in memory, never
# persisted, never a resource.
t_update_scratch_files() {
	strict
	setup_prod
	local before n d=$MNT/environments/prod k=$MNT/environments
	before=$(snapshot)
	for n in 4913 .spec.yaml.swp spec.yaml~ '#spec.yaml#' sedAb12Cd .spec.yaml.Xy12Zq; do
		echo "scratch $n" >"$d/$n"
		assert_eq "$(cat "$d/$n")" "scratch $n" "read back $n"
	done
	for n in 4913 .prod.yaml.swp sedQw12Er .x.yaml.Ab12Cd; do
		echo "scratch $n" >"$k/$n"
		assert_eq "$(cat "$k/$n")" "scratch $n" "read back $k/$n"
	done
	rm "$d/4913" "$k/4913"
	assert_absent "$d/4913"
	assert_eq "$(snapshot)" "$before" "views after scratch files"
	assert_eq "$(cat "$MNT/errors")" "" "errors after scratch files"
	remount_execfs
	for n in .spec.yaml.swp spec.yaml~ '#spec.yaml#' sedAb12Cd .spec.yaml.Xy12Zq; do
		assert_absent "$d/$n"
	done
	assert_eq "$(ls -A "$k" | tr '\n' ' ')" "prod "
	assert_eq "$(snapshot)" "$before" "views after remount"
}

# A save never deletes a resource: spec.yaml reports two links (vim writes
# in place), and renaming it away is refused.
t_update_spec_cannot_move() {
	strict
	setup_prod
	assert_eq "$(stat -c %h "$SPEC")" 2 "spec.yaml st_nlink"
	assert_fails mv "$SPEC" "$SPEC.bak"
	assert_file "$SPEC"
	rm -f "$SPEC" 2>/dev/null || true
	assert_file "$SPEC"
	assert_dir "$MNT/environments/prod"
	assert_eq "$(rj environments prod .metadata.slug)" prod
}

# Emptying spec.yaml is never a delete: the previous spec stays (an empty
# flush is not a commit; an empty document is refused).
t_update_truncate_is_no_delete() {
	strict
	setup_prod
	local before id
	before=$(cat "$SPEC")
	id=$(rid environments prod)
	: >"$SPEC" || true
	assert_eq "$(cat "$SPEC")" "$before" "spec after : >"
	truncate -s 0 "$SPEC" 2>/dev/null || true
	assert_eq "$(cat "$SPEC")" "$before" "spec after truncate -s 0"
	assert_eq "$(rid environments prod)" "$id"
	assert_eq "$(rj environments prod .spec.description)" d
}

# Two writers updating one spec at once: every read shows one whole
# version, and the last state is one of the two documents.
t_update_concurrent_writers() {
	strict
	setup_prod
	sed 's/^  description: .*/  description: from-a/' "$SPEC" >"$TDIR/a"
	sed 's/^  description: .*/  description: from-b/' "$SPEC" >"$TDIR/b"
	local i pa pb d
	(for i in $(seq 1 25); do cp "$TDIR/a" "$SPEC"; done) &
	pa=$!
	(for i in $(seq 1 25); do cp "$TDIR/b" "$SPEC"; done) &
	pb=$!
	for i in $(seq 1 50); do
		d=$(rj environments prod .spec.description)
		case $d in d | from-a | from-b) ;; *) die "torn read: description '$d'" ;; esac
	done
	wait "$pa"
	wait "$pb"
	# After both writers are done every view tells the same version (a
	# cached read must not keep an older one).
	local dj dy ds dd
	dj=$(rj environments prod .spec.description)
	dy=$(sed -n '/^spec:/,/^status:/s/^  description: //p' "$MNT/environments/prod/resource.yaml")
	ds=$(sed -n 's/^  description: //p' "$SPEC")
	dd=$(dd if="$MNT/environments/prod/resource.json" iflag=direct status=none | jq -r .spec.description)
	[ "$dj" = "$ds" ] && [ "$dy" = "$ds" ] && [ "$dd" = "$ds" ] ||
		die "views disagree after concurrent updates: resource.json '$dj'," \
			"resource.yaml '$dy', spec.yaml '$ds', resource.json read with O_DIRECT '$dd'"
	case $ds in
	from-a) cmp -s "$SPEC" "$TDIR/a" || die "spec.yaml is not document a" ;;
	from-b) cmp -s "$SPEC" "$TDIR/b" || die "spec.yaml is not document b" ;;
	*) die "final description '$ds'" ;;
	esac
	assert_eq "$(cat "$MNT/errors")" "" "errors after concurrent updates"
}

# fsync is a commit point: the change exists before close, and a refused
# document fails fsync itself.
t_update_fsync_commit_point() {
	strict
	setup_prod
	new_spec by-fsync
	python3 - "$TDIR/new" "$SPEC" "$MNT/environments/prod/resource.json" <<'EOF'
import errno, json, os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_TRUNC)
os.write(fd, data)
os.fsync(fd)
desc = json.load(open(sys.argv[3]))["spec"]["description"]
if desc != "by-fsync":
    sys.exit("after fsync, before close: description %r" % desc)
os.close(fd)
bad = data.replace(b"description: by-fsync", b"description: [unclosed")
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_TRUNC)
os.write(fd, bad)
try:
    os.fsync(fd)
    sys.exit("fsync of a bad document succeeded")
except OSError as e:
    if e.errno != errno.EBADMSG:
        sys.exit("fsync failed with %s, want EBADMSG" % errno.errorcode.get(e.errno))
try:
    os.close(fd)
except OSError:
    pass
EOF
	assert_eq "$(rj environments prod .spec.description)" by-fsync
	assert_contains "$SPEC" "description: by-fsync"
	assert_error_line environments/prod/spec.yaml EBADMSG
}

# Every tool on every mutable kind: each step replaces marker "m<i>" by
# "m<i+1>" in a string field of the spec, and resource.json must follow.
# (ExecutionContext is immutable: t_update_context_immutable.)
kind_field() {
	case $1 in
	workflowexecutions) echo .spec.triggerMessage ;;
	*) echo .spec.description ;;
	esac
}

tool_sed() { sed -i "s/$2/$3/" "$1"; }
tool_cp() { sed "s/$2/$3/" "$1" >"$TDIR/next" && cp "$TDIR/next" "$1"; }
tool_tee() { sed "s/$2/$3/" "$1" >"$TDIR/next" && tee "$1" <"$TDIR/next" >/dev/null; }
tool_redirect() { sed "s/$2/$3/" "$1" >"$TDIR/next" && cat "$TDIR/next" >"$1"; }
# -I: rsync's quick check would skip a file of the same size and mtime
# second, which these one-character edits are.
tool_rsync() { sed "s/$2/$3/" "$1" >"$TDIR/next" && rsync -I "$TDIR/next" "$1"; }
tool_vim() { vim -u NONE -es -c "%s/$2/$3/" -c wq "$1"; }
tool_nano() {
	local sock=$TDIR/tmux.sock i
	tmux -S "$sock" new-session -d -s e2e -x 120 -y 40 "nano '$1'" || return 1
	tmux_wait "$sock" "$2" || return 1
	tmux -S "$sock" send-keys -t e2e C-\\
	tmux_wait "$sock" "Search (to replace)" || return 1
	tmux -S "$sock" send-keys -t e2e -l "$2"
	tmux -S "$sock" send-keys -t e2e Enter
	tmux_wait "$sock" "Replace with" || return 1
	tmux -S "$sock" send-keys -t e2e -l "$3"
	tmux -S "$sock" send-keys -t e2e Enter
	tmux_wait "$sock" "Replace this instance" || return 1
	tmux -S "$sock" send-keys -t e2e a
	nano_save_quit "$sock"
}

t_update_every_tool_every_kind() {
	strict
	command -v tmux >/dev/null || die "tmux is not installed (scripts/deps --test installs it)"
	make_good_set
	local k r f id i tool field
	for k in workflows/goodwf workflowinstances/goodinst \
		environments/goodenv; do
		r=${k#*/}
		k=${k%/*}
		f=$MNT/$k/$r/spec.yaml
		field=$(kind_field "$k")
		id=$(rid "$k" "$r")
		# Put the marker into the field with a first, plain write.
		if [ "$k" = workflowexecutions ]; then
			printf '  triggerMessage: m0\n' >>"$f"
		else
			sed -i 's/^  description: .*/  description: m0/' "$f"
			grep -q '^  description: m0' "$f" || printf '  description: m0\n' >>"$f"
		fi
		assert_eq "$(rj "$k" "$r" "$field")" m0 "$k: marker"
		i=0
		for tool in sed cp tee redirect rsync vim nano; do
			"tool_$tool" "$f" "m$i" "m$((i + 1))" || die "$k: $tool failed"
			i=$((i + 1))
			assert_eq "$(rj "$k" "$r" "$field")" "m$i" "$k: after $tool"
			assert_eq "$(rid "$k" "$r")" "$id" "$k: id after $tool"
		done
		assert_eq "$(cat "$MNT/errors")" "" "$k: errors"
	done
}

run_tests "$@"
