#!/usr/bin/env bash
# t_perm.sh - the permission matrix of a shared mount (-o allow_other,
# operators=GROUP; README "Sharing the mount", DESIGN 1.8): for each kind,
# create, view, update, delete, run (use), cancel, chmod, chown and chgrp
# by the owner, a member of the resource's group, another user and an
# operator; what changes when the owner flips bits; the kind directories
# (sticky, operators only for ExecutionContexts, chmod by operators); that
# owners, groups and modes survive a restart and a kill -9; that a user
# without x on another's Workflow cannot start it by any path.
#
# Every refusal must be EACCES (EPERM for chmod, chown, chgrp and for
# what no right allows), leave a deny line naming the resource in `audit`
# and an errors line, and change nothing (helpers/perm.sh, `cell`).
# Runs as root; makes four users and two groups and removes them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/perm.sh"

# ---- documents ---------------------------------------------------------

# xdoc NAME FIELD REF: an execution document NAME.yaml in the cwd, its
# spec FIELD (workflowId or workflowInstanceId) naming REF.
xdoc() { printf 'metadata: {name: %s}\nspec: {%s: %s}\n' "$1" "$2" "$3" >"$1.yaml"; }

# idoc NAME WORKFLOW [ENVREF] [DESCRIPTION]: an instance document NAME.yaml.
idoc() {
	{
		inst_doc "$1" "$2" "${3:-}"
		[ -z "${4:-}" ] || echo "  description: $4"
	} >"$1.yaml"
}

# subwf_doc NAME TARGET: a Workflow whose one task runs Workflow TARGET.
subwf_doc() {
	cat <<EOF
metadata: {name: $1}
spec:
  document: {dsl: 1.0.0, namespace: e2e, name: $1, version: 1.0.0}
  tasks:
    - name: call
      kind: RUN
      taskConfig:
        workflow: $2
        input: {n: 1}
EOF
}

mode_of() { stat -c %a "$1"; }
# is_mode PATH MODE
is_mode() { [ "$(mode_of "$1")" = "$2" ] || { echo "$1: mode $(mode_of "$1"), want $2" >&2; return 1; }; }
# phase SLUG: the execution's phase (read as root).
phase() { jq -r .status.phase "$MNT/workflowexecutions/$1/resource.json"; }
is_phase_now() { [ "$(phase "$1")" = "$2" ] || { echo "$1: phase $(phase "$1"), want $2" >&2; return 1; }; }
absent() { [ ! -e "$1" ]; }
# out_has TEXT: the last `as` printed TEXT.
out_has() { grep -qF -- "$1" "$TDIR/out"; }

# The common cells of chmod, chown and chgrp on resource directory R
# (slug S) of kind K, owned by the owner and group $GG, mode 0750;
# leaves it so.
attr_cells() {
	local k=$1 r=$2 s=$3
	cell "$k" chmod group EPERM "$s" chmod 0777 "$r"
	cell "$k" chmod other EPERM "$s" chmod 0777 "$r"
	cell "$k" chmod owner ok - chmod 0700 "$r"
	expect "$k chmod owner: 0700" is_mode "$r" 700
	cell "$k" chmod oper ok - chmod 0750 "$r"
	expect "$k chmod oper: 0750" is_mode "$r" 750
	cell "$k" chown owner EPERM "$s" chown "$UB" "$r"
	cell "$k" chown group EPERM "$s" chown "$UB" "$r"
	cell "$k" chown other EPERM "$s" chown "$UC" "$r"
	cell "$k" chgrp group EPERM "$s" chgrp "$GG" "$r"
	cell "$k" chgrp other EPERM "$s" chgrp "$(id -gn "$UC")" "$r"
	cell "$k" chgrp owner EPERM "$s" chgrp "$GO" "$r"
	cell "$k" chown oper ok - chown "$UB:$(id -gn "$UB")" "$r"
	expect "$k chown oper: to group's user" owner_is "$r" group 750
	cell "$k" chown oper ok - chown "$UA:$GG" "$r"
	expect "$k chown oper: back" owner_is "$r" "owner:$GG" 750
}

# The view cells on resource directory R (slug S), FILE a view in it:
# owner, group and operator may; other may not.
view_cells() {
	local k=$1 r=$2 s=$3 f=$4 role
	for role in owner group oper; do
		cell "$k" view:ls "$role" ok - ls "$r"
		expect "$k view:ls $role lists $f" out_has "$f"
		cell "$k" view:cat "$role" ok - cat "$r/$f"
	done
	cell "$k" view:ls other EACCES "$s" ls "$r"
	cell "$k" view:cat other EACCES "$s" cat "$r/$f"
}

# ---- the matrix, kind by kind --------------------------------------------

t_perm_workflow() {
	perm_start
	local W=$MNT/workflows/wowner role n
	# create: anyone; the new one is the creator's, 0750; its default
	# instance too.
	for role in owner group other oper; do
		wf_doc "w$role" "echo $role" >"w$role.yaml"
		cell Workflow create "$role" ok - cp "w$role.yaml" "$WFD/"
		expect "Workflow create $role: owner" owner_is "$WFD/w$role" "$role" 750
		expect "Workflow create $role: default instance" \
			owner_is "$MNT/workflowinstances/w$role-default" "$role" 750
	done
	wf_doc wa2 'echo a2' >wa2.yaml
	as_ok owner cp wa2.yaml "$WFD/"
	as_ok owner chgrp "$GG" "$WFD/wa2"
	cell Workflow chgrp owner ok - chgrp "$GG" "$W"
	expect "Workflow chgrp owner: group" owner_is "$W" "owner:$GG" 750
	# ls -l: each file shows the bits of the right it stands for.
	expect "Workflow files: id r" is_mode "$W/id" 440
	expect "Workflow files: status r" is_mode "$W/status.yaml" 440
	expect "Workflow files: spec rw" is_mode "$W/spec.yaml" 640
	expect "Workflow files: run x as rw" is_mode "$W/run" 660
	view_cells Workflow "$W" wowner spec.yaml
	# run: x; by the run file and by an execution document.
	xdoc xo1 workflowId wowner
	cell Workflow run:file other EACCES wowner sh -c "$RUNFILE_SH" _ "$W/run"
	cell Workflow run:read other EACCES wowner cat "$W/run"
	cell Workflow run:doc other EACCES wowner cp xo1.yaml "$MNT/workflowexecutions/"
	for role in owner group oper; do
		cell Workflow run:file "$role" ok - sh -c "$RUNFILE_SH" _ "$W/run"
		n=$(cat "$TDIR/out")
		expect "Workflow run:file $role: the execution is the runner's" \
			owner_is "$MNT/workflowexecutions/$n" "$role" 750
		xdoc "x$role" workflowId wowner
		cell Workflow run:doc "$role" ok - cp "x$role.yaml" "$MNT/workflowexecutions/"
		expect "Workflow run:doc $role: owner" owner_is "$MNT/workflowexecutions/x$role" "$role" 750
	done
	wait_runs_end
	# update: w.
	spec_sub workflows wowner 's/echo owner/echo v1/' new1.yaml
	cell Workflow update:cp owner ok - cp new1.yaml "$W/spec.yaml"
	expect "Workflow update:cp owner: changed" grep -q 'echo v1' "$W/spec.yaml"
	cell Workflow update:sed owner ok - sed -i 's/echo v1/echo v2/' "$W/spec.yaml"
	expect "Workflow update:sed owner: changed" grep -q 'echo v2' "$W/spec.yaml"
	spec_sub workflows wowner 's/echo v2/echo v3/' new3.yaml
	cell Workflow update:cp group EACCES wowner cp new3.yaml "$W/spec.yaml"
	cell Workflow update:sed group EACCES wowner sed -i 's/echo v2/echo v3/' "$W/spec.yaml"
	cell Workflow update:cp other EACCES wowner cp new3.yaml "$W/spec.yaml"
	cell Workflow update:cp oper ok - cp new3.yaml "$W/spec.yaml"
	expect "Workflow update:cp oper: changed" grep -q 'echo v3' "$W/spec.yaml"
	attr_cells Workflow "$W" wowner
	# delete: w, refused.
	cell Workflow delete other EACCES wowner rm -r "$W"
	cell Workflow delete group EACCES wowner rm -r "$W"
	cell Workflow delete:rmdir group EACCES wowner rmdir "$W"
	# chmod o+x: another user may run it, still not view it.
	cell Workflow chmod owner ok - chmod o+x "$W"
	expect "Workflow o+x: run shows rw for all" is_mode "$W/run" 666
	expect "Workflow o+x: id still r for owner and group" is_mode "$W/id" 440
	cell Workflow run:file other ok - sh -c "$RUNFILE_SH" _ "$W/run"
	n=$(cat "$TDIR/out")
	expect "Workflow run:file other (o+x): owner" owner_is "$MNT/workflowexecutions/$n" other 750
	xdoc xo2 workflowId wowner
	cell Workflow run:doc other ok - cp xo2.yaml "$MNT/workflowexecutions/"
	wait_runs_end
	cell Workflow view:cat other EACCES wowner cat "$W/spec.yaml"
	cell Workflow view:ls other EACCES wowner ls "$W"
	# chmod g+w: the group may change it, and delete it.
	cell Workflow chmod owner ok - chmod g+w "$W"
	expect "Workflow g+w: spec rw for group" is_mode "$W/spec.yaml" 660
	cell Workflow update:sed group ok - sed -i 's/echo v3/echo v4/' "$W/spec.yaml"
	expect "Workflow update:sed group (g+w): changed" grep -q 'echo v4' "$W/spec.yaml"
	cell Workflow update:cp other EACCES wowner cp new3.yaml "$W/spec.yaml"
	cell Workflow delete group EACCES wa2 rm -r "$WFD/wa2"
	cell Workflow chmod owner ok - chmod g+w "$WFD/wa2"
	cell Workflow delete group ok - rm -r "$WFD/wa2"
	expect "Workflow delete group (g+w): gone" absent "$WFD/wa2"
	expect "Workflow delete group (g+w): default instance gone" absent "$MNT/workflowinstances/wa2-default"
	cell Workflow delete oper ok - rm -r "$WFD/wother"
	expect "Workflow delete oper: gone" absent "$WFD/wother"
	cell Workflow delete owner ok - rm -r "$W"
	expect "Workflow delete owner: gone" absent "$W"
	perm_end
}

t_perm_instance() {
	perm_start
	local I=$MNT/workflowinstances/iowner role
	root_wf pub 'echo pub' 0755
	root_wf priv 'echo priv' 0750
	wf_doc wa 'echo a' >wa.yaml
	as_ok owner cp wa.yaml "$WFD/"
	as_ok owner chgrp "$GG" "$WFD/wa"
	for role in owner group other oper; do
		idoc "i$role" pub
		cell WorkflowInstance create "$role" ok - cp "i$role.yaml" "$MNT/workflowinstances/"
		expect "WorkflowInstance create $role: owner" \
			owner_is "$MNT/workflowinstances/i$role" "$role" 750
	done
	idoc ia2 pub
	as_ok owner cp ia2.yaml "$MNT/workflowinstances/"
	as_ok owner chgrp "$GG" "$MNT/workflowinstances/ia2"
	cell WorkflowInstance chgrp owner ok - chgrp "$GG" "$I"
	# An instance of a Workflow takes x on it.
	for role in owner group oper; do
		idoc "r$role" wa
		cell WorkflowInstance create:ref "$role" ok - cp "r$role.yaml" "$MNT/workflowinstances/"
	done
	idoc rother wa
	cell WorkflowInstance create:ref other EACCES wa cp rother.yaml "$MNT/workflowinstances/"
	expect "WorkflowInstance create:ref other: nothing made" absent "$MNT/workflowinstances/rother"
	view_cells WorkflowInstance "$I" iowner status.yaml
	# run: x on the instance.
	xdoc xo1 workflowInstanceId iowner
	cell WorkflowInstance run:doc other EACCES iowner cp xo1.yaml "$MNT/workflowexecutions/"
	for role in owner group oper; do
		xdoc "x$role" workflowInstanceId iowner
		cell WorkflowInstance run:doc "$role" ok - cp "x$role.yaml" "$MNT/workflowexecutions/"
		expect "WorkflowInstance run:doc $role: owner" \
			owner_is "$MNT/workflowexecutions/x$role" "$role" 750
	done
	wait_runs_end
	# update: w.
	idoc iowner pub "" v1
	cell WorkflowInstance update:cp owner ok - cp iowner.yaml "$I/spec.yaml"
	expect "WorkflowInstance update owner: changed" grep -q 'description: v1' "$I/spec.yaml"
	idoc iowner pub "" v2
	cell WorkflowInstance update:cp group EACCES iowner cp iowner.yaml "$I/spec.yaml"
	cell WorkflowInstance update:cp other EACCES iowner cp iowner.yaml "$I/spec.yaml"
	cell WorkflowInstance update:cp oper ok - cp iowner.yaml "$I/spec.yaml"
	expect "WorkflowInstance update oper: changed" grep -q 'description: v2' "$I/spec.yaml"
	attr_cells WorkflowInstance "$I" iowner
	cell WorkflowInstance delete other EACCES iowner rm -r "$I"
	cell WorkflowInstance delete group EACCES iowner rm -r "$I"
	# g+w: the group may change it, but pointing it at a Workflow takes
	# x on that Workflow.
	cell WorkflowInstance chmod owner ok - chmod g+w "$I"
	idoc iowner pub "" v3
	cell WorkflowInstance update:cp group ok - cp iowner.yaml "$I/spec.yaml"
	expect "WorkflowInstance update group (g+w): changed" grep -q 'description: v3' "$I/spec.yaml"
	idoc iowner priv "" v4
	cell WorkflowInstance update:ref group EACCES priv cp iowner.yaml "$I/spec.yaml"
	expect "WorkflowInstance update:ref group: unchanged" grep -q 'description: v3' "$I/spec.yaml"
	# o+x: another user may run it.
	cell WorkflowInstance chmod owner ok - chmod o+x "$I"
	xdoc xo2 workflowInstanceId iowner
	cell WorkflowInstance run:doc other ok - cp xo2.yaml "$MNT/workflowexecutions/"
	wait_runs_end
	cell WorkflowInstance view:cat other EACCES iowner cat "$I/status.yaml"
	cell WorkflowInstance chmod owner ok - chmod g+w "$MNT/workflowinstances/ia2"
	cell WorkflowInstance delete group ok - rm -r "$MNT/workflowinstances/ia2"
	expect "WorkflowInstance delete group (g+w): gone" absent "$MNT/workflowinstances/ia2"
	cell WorkflowInstance delete oper ok - rm -r "$MNT/workflowinstances/iother"
	cell WorkflowInstance delete owner ok - rm -r "$I"
	expect "WorkflowInstance delete owner: gone" absent "$I"
	perm_end
}

t_perm_execution() {
	perm_start
	local X=$MNT/workflowexecutions/xowner role n
	root_wf pub 'echo pub' 0755
	root_wf nap 'sleep 600' 0755
	for role in owner group other oper; do
		xdoc "x$role" workflowId pub
		cell WorkflowExecution create "$role" ok - cp "x$role.yaml" "$MNT/workflowexecutions/"
		expect "WorkflowExecution create $role: owner" \
			owner_is "$MNT/workflowexecutions/x$role" "$role" 750
	done
	for n in xa2 n1 n2 n3; do
		case $n in x*) xdoc $n workflowId pub ;; *) xdoc $n workflowId nap ;; esac
		as_ok owner cp $n.yaml "$MNT/workflowexecutions/"
		as_ok owner chgrp "$GG" "$MNT/workflowexecutions/$n"
	done
	cell WorkflowExecution chgrp owner ok - chgrp "$GG" "$X"
	expect "WorkflowExecution files: ctl rw" is_mode "$X/ctl" 640
	expect "WorkflowExecution files: log r" is_mode "$X/log" 440
	for n in xowner xgroup xother xoper xa2; do wait_run_end $n; done
	SNAP_SKIP='^[0-9a-f]+ +workflowexecutions/n[123]/'
	view_cells WorkflowExecution "$X" xowner log
	cell WorkflowExecution view:events owner ok - cat "$X/events"
	cell WorkflowExecution view:events group ok - cat "$X/events"
	cell WorkflowExecution view:events other EACCES xowner cat "$X/events"
	# update: a started execution is never changed (EPERM) ; without w the
	# open is refused first (EACCES).
	printf 'metadata: {name: xowner}\nspec: {workflowId: pub, triggerMessage: changed}\n' >new.yaml
	cell WorkflowExecution update owner EPERM xowner cp new.yaml "$X/spec.yaml"
	cell WorkflowExecution update group EACCES xowner cp new.yaml "$X/spec.yaml"
	cell WorkflowExecution update other EACCES xowner cp new.yaml "$X/spec.yaml"
	cell WorkflowExecution update oper EPERM xowner cp new.yaml "$X/spec.yaml"
	# cancel: w.
	for n in n1 n2 n3; do
		expect "WorkflowExecution $n runs" is_phase_now $n IN_PROGRESS
	done
	cell WorkflowExecution cancel group EACCES n1 sh -c "echo cancel > '$MNT/workflowexecutions/n1/ctl'"
	cell WorkflowExecution cancel other EACCES n1 sh -c "echo cancel > '$MNT/workflowexecutions/n1/ctl'"
	expect "WorkflowExecution cancel refused: still runs" is_phase_now n1 IN_PROGRESS
	cell WorkflowExecution cancel owner ok - sh -c "echo cancel > '$MNT/workflowexecutions/n1/ctl'"
	cell WorkflowExecution cancel oper ok - sh -c "echo cancel > '$MNT/workflowexecutions/n2/ctl'"
	cell WorkflowExecution chmod owner ok - chmod g+w "$MNT/workflowexecutions/n3"
	cell WorkflowExecution cancel group ok - sh -c "echo cancel > '$MNT/workflowexecutions/n3/ctl'"
	wait_runs_end
	expect "WorkflowExecution cancel owner: cancelled" is_phase_now n1 CANCELLED
	expect "WorkflowExecution cancel oper: cancelled" is_phase_now n2 CANCELLED
	expect "WorkflowExecution cancel group (g+w): cancelled" is_phase_now n3 CANCELLED
	# shellcheck disable=SC2034 # read by cell (helpers/perm.sh)
	SNAP_SKIP='^$'
	attr_cells WorkflowExecution "$X" xowner
	cell WorkflowExecution delete other EACCES xowner rm -r "$X"
	cell WorkflowExecution delete group EACCES xowner rm -r "$X"
	cell WorkflowExecution chmod owner ok - chmod o+r "$X"
	cell WorkflowExecution view:cat other ok - cat "$X/log"
	cell WorkflowExecution delete other EACCES xowner rm -r "$X"
	cell WorkflowExecution chmod owner ok - chmod g+w "$MNT/workflowexecutions/xa2"
	cell WorkflowExecution delete group ok - rm -r "$MNT/workflowexecutions/xa2"
	cell WorkflowExecution delete oper ok - rm -r "$MNT/workflowexecutions/xother"
	cell WorkflowExecution delete owner ok - rm -r "$X"
	expect "WorkflowExecution deletes: gone" absent "$X"
	expect "WorkflowExecution deletes: gone" absent "$MNT/workflowexecutions/xa2"
	expect "WorkflowExecution deletes: gone" absent "$MNT/workflowexecutions/xother"
	perm_end
}

t_perm_environment() {
	perm_start
	local E=$MNT/environments/eowner role
	root_wf pub 'echo pub' 0755
	for role in owner group other oper; do
		env_doc "e$role" >"e$role.yaml"
		cell Environment create "$role" ok - cp "e$role.yaml" "$MNT/environments/"
		expect "Environment create $role: owner" owner_is "$MNT/environments/e$role" "$role" 750
	done
	env_doc ea2 >ea2.yaml
	as_ok owner cp ea2.yaml "$MNT/environments/"
	as_ok owner chgrp "$GG" "$MNT/environments/ea2"
	cell Environment chgrp owner ok - chgrp "$GG" "$E"
	view_cells Environment "$E" eowner spec.yaml
	for role in owner group oper; do
		as_ok "$role" cat "$E/spec.yaml"
		expect "Environment view $role: secret masked" out_has '***'
		expect "Environment view $role: no secret" not out_has s3cr3t-value
	done
	# update: w.
	env_doc eowner s3cr3t-value v1 >eowner.yaml
	cell Environment update:cp owner ok - cp eowner.yaml "$E/spec.yaml"
	expect "Environment update owner: changed" grep -q 'description: v1' "$E/spec.yaml"
	cell Environment update:sed owner ok - sed -i 's/description: v1/description: v2/' "$E/spec.yaml"
	env_doc eowner s3cr3t-value v3 >eowner.yaml
	cell Environment update:cp group EACCES eowner cp eowner.yaml "$E/spec.yaml"
	cell Environment update:sed group EACCES eowner sed -i 's/description: v2/description: v3/' "$E/spec.yaml"
	cell Environment update:cp other EACCES eowner cp eowner.yaml "$E/spec.yaml"
	cell Environment update:cp oper ok - cp eowner.yaml "$E/spec.yaml"
	expect "Environment update oper: changed" grep -q 'description: v3' "$E/spec.yaml"
	# use: binding it in an instance takes x on it, and so does running
	# an instance that binds it.
	for role in owner group oper; do
		idoc "b$role" pub eowner
		cell Environment bind "$role" ok - cp "b$role.yaml" "$MNT/workflowinstances/"
		xdoc "x$role" workflowInstanceId "b$role"
		cell Environment run "$role" ok - cp "x$role.yaml" "$MNT/workflowexecutions/"
	done
	wait_runs_end
	for role in owner group oper; do
		expect "Environment run $role: completed" is_phase_now "x$role" COMPLETED
	done
	idoc bother pub eowner
	cell Environment bind other EACCES eowner cp bother.yaml "$MNT/workflowinstances/"
	# the owner's instance, runnable by all: still not with the Environment
	as_ok owner chmod o+x "$MNT/workflowinstances/bowner"
	xdoc xo1 workflowInstanceId bowner
	cell Environment run:other-instance other EACCES eowner cp xo1.yaml "$MNT/workflowexecutions/"
	attr_cells Environment "$E" eowner
	cell Environment chmod owner ok - chmod o+x "$E"
	cell Environment bind other ok - cp bother.yaml "$MNT/workflowinstances/"
	xdoc xo2 workflowInstanceId bother
	cell Environment run other ok - cp xo2.yaml "$MNT/workflowexecutions/"
	cell Environment run:other-instance other ok - cp xo1.yaml "$MNT/workflowexecutions/"
	wait_runs_end
	cell Environment view:cat other EACCES eowner cat "$E/spec.yaml"
	expect "Environment run other: completed" is_phase_now xo2 COMPLETED
	cell Environment delete other EACCES eowner rm -r "$E"
	cell Environment delete group EACCES eowner rm -r "$E"
	cell Environment chmod owner ok - chmod g+w "$MNT/environments/ea2"
	cell Environment delete group ok - rm -r "$MNT/environments/ea2"
	cell Environment delete oper ok - rm -r "$MNT/environments/eother"
	cell Environment delete owner ok - rm -r "$E"
	expect "Environment deletes: gone" absent "$E"
	expect "Environment deletes: gone" absent "$MNT/environments/ea2"
	expect "Environment deletes: gone" absent "$MNT/environments/eother"
	perm_end
}

# ExecutionContexts: operators only (executioncontexts/ is 0770 root:GO).
t_perm_context() {
	perm_start
	local C=$MNT/executioncontexts/c1 K=executioncontexts role cid
	root_wf pub 'echo pub' 0755
	xdoc x1 workflowId pub
	cp x1.yaml "$MNT/workflowexecutions/"
	wait_run_end x1
	ctx_doc c1 "$(rid workflowexecutions x1)" >c1.yaml
	ctx_doc c2 "$(rid workflowexecutions x1)" >c2.yaml
	expect "ExecutionContext kind dir" owner_is "$MNT/$K" "root:$GO" 770
	for role in owner group other; do
		cell ExecutionContext create "$role" EACCES "$K" cp c1.yaml "$MNT/$K/"
	done
	cell ExecutionContext create oper ok - cp c1.yaml "$MNT/$K/"
	expect "ExecutionContext create oper: owner" owner_is "$C" oper 750
	cid=$(rid "$K" c1)
	# (Contexts are never cached by the kernel: every walk reaches the
	# daemon's lookup in executioncontexts/, refused naming c1.  chmod
	# cannot reach c1 either: EACCES, as for a file in a directory one
	# may not search.)
	for role in owner group other; do
		cell ExecutionContext view:ls-kind "$role" EACCES "$K" ls "$MNT/$K"
		cell ExecutionContext view:cat "$role" EACCES c1 cat "$C/spec.yaml"
		cell ExecutionContext view:by-id "$role" EACCES c1 cat "$MNT/by-id/$cid/spec.yaml"
		as_ok "$role" ls "$MNT/by-id"
		expect "ExecutionContext by-id listing $role: no exec- id" not out_has "$cid"
		cell ExecutionContext update "$role" EACCES c1 cp c2.yaml "$C/spec.yaml"
		cell ExecutionContext delete "$role" EACCES c1 rm -r "$C"
		cell ExecutionContext chmod "$role" EACCES c1 chmod 0777 "$C"
	done
	# Listing by-id hides the id, and the id itself does not resolve
	# for a non-operator (readlink would show the context's name).
	expect "ExecutionContext by-id/<id> hidden from other (readlink)" not as other readlink "$MNT/by-id/$cid"
	cell ExecutionContext view:ls-kind oper ok - ls "$MNT/$K"
	expect "ExecutionContext oper lists c1" out_has c1
	cell ExecutionContext view:cat oper ok - cat "$C/spec.yaml"
	expect "ExecutionContext oper: secret masked" out_has '***'
	expect "ExecutionContext oper: no secret" not out_has t0ken-abc
	as_ok oper ls "$MNT/by-id"
	expect "ExecutionContext by-id listing oper: exec- id" out_has "$cid"
	ctx_doc c1 "$(rid workflowexecutions x1)" other-t0ken >c1b.yaml
	cell ExecutionContext update oper EPERM c1 cp c1b.yaml "$C/spec.yaml"
	cell ExecutionContext chmod oper ok - chmod 0755 "$C"
	cell ExecutionContext chown oper ok - chown "$UA:$GG" "$C"
	expect "ExecutionContext chown oper" owner_is "$C" "owner:$GG" 755
	# An operator may open the kind directory to a group.
	cell ExecutionContext chgrp:kind oper ok - chgrp "$GG" "$MNT/$K"
	cell ExecutionContext view:ls-kind group ok - ls "$MNT/$K"
	cell ExecutionContext view:cat owner ok - cat "$C/spec.yaml"
	cell ExecutionContext view:ls-kind other EACCES "$K" ls "$MNT/$K"
	cell ExecutionContext chgrp:kind oper ok - chgrp "$GO" "$MNT/$K"
	cell ExecutionContext delete oper ok - rm -r "$C"
	expect "ExecutionContext delete oper: gone" absent "$C"
	perm_end
}

# ---- kind directories, the audit file ------------------------------------

t_perm_kinddirs() {
	perm_start
	local kd role
	for kd in workflows workflowinstances workflowexecutions environments; do
		expect "$kd: root:operators 1777" owner_is "$MNT/$kd" "root:$GO" 1777
	done
	expect "audit: root:operators 0640" owner_is "$MNT/audit" "root:$GO" 640
	for role in owner group other; do
		cell audit view "$role" EACCES audit cat "$MNT/audit"
		cell kinddir chmod "$role" EPERM environments chmod 0777 "$MNT/environments"
		cell kinddir chgrp "$role" EPERM environments chgrp "$GG" "$MNT/environments"
	done
	cell audit view oper ok - cat "$MNT/audit"
	expect "audit readable by an operator: JSON" jq -e . "$TDIR/out"
	cell kinddir chown oper EPERM workflows chown "$UA" "$MNT/workflows"
	# An operator gives environments/ to a group: only its members create.
	cell kinddir chgrp oper ok - chgrp "$GG" "$MNT/environments"
	cell kinddir chmod oper ok - chmod 1770 "$MNT/environments"
	expect "environments: root:G 1770" owner_is "$MNT/environments" "root:$GG" 1770
	for role in owner group other; do
		env_doc "k$role" >"k$role.yaml"
	done
	cell Environment create owner ok - cp kowner.yaml "$MNT/environments/"
	cell Environment create group ok - cp kgroup.yaml "$MNT/environments/"
	cell Environment create other EACCES environments cp kother.yaml "$MNT/environments/"
	cell Environment view:ls-kind other EACCES environments ls "$MNT/environments"
	cell kinddir chmod oper ok - chmod 1777 "$MNT/environments"
	cell Environment create other ok - cp kother.yaml "$MNT/environments/"
	# The sticky bit: without w on another's resource, no delete; an
	# operator removes it, and w on the kind directory is enough.
	wf_doc kd1 >kd1.yaml
	wf_doc kd2 >kd2.yaml
	as_ok owner cp kd1.yaml "$WFD/"
	as_ok owner cp kd2.yaml "$WFD/"
	cell Workflow delete:sticky other EACCES kd1 rm -r "$WFD/kd1"
	cell kinddir chmod oper ok - chmod 0777 "$MNT/workflows"
	cell Workflow delete:no-sticky other ok - rmdir "$WFD/kd1"
	expect "Workflow delete:no-sticky other: gone" absent "$WFD/kd1"
	cell kinddir chmod oper ok - chmod 1777 "$MNT/workflows"
	cell Workflow delete:sticky other EACCES kd2 rm -r "$WFD/kd2"
	expect "Workflow delete:sticky other: still there" owner_is "$WFD/kd2" owner 750
	# Refusals are in audit as deny lines with errno, for operators to read.
	jq -e -s 'map(select(.verb == "deny")) | length > 5' "$MNT/audit" >/dev/null
	perm_end
}

# ---- the kernel's cache of names -----------------------------------------

# The daemon checks "going into" a directory at lookup, but the kernel
# keeps a looked-up name for 5 s (entry_timeout) for every user: right
# after anyone (here root) resolved a path, another user's walk through
# it reaches the daemon only at open.  So every open checks x on the
# kind directory again, and contexts are never cached: the same answer
# whoever walked the path before.  What the cache may still answer
# without the daemon is a stat (name, size, times; README "Users, owners
# and modes"): the last cell shows it stays at that.
t_perm_cached_lookup() {
	perm_start
	local K=executioncontexts
	root_wf pub 'echo pub' 0755
	xdoc x1 workflowId pub
	cp x1.yaml "$MNT/workflowexecutions/"
	wait_run_end x1
	ctx_doc c1 "$(rid workflowexecutions x1)" >c1.yaml
	as_ok oper cp c1.yaml "$MNT/$K/"
	as_ok oper chown "$UA:$GG" "$MNT/$K/c1"
	# Not cached: refused at the lookup.
	sleep 6
	PERM_NOSNAP=1 cell ExecutionContext view:cat:uncached owner EACCES "$K" cat "$MNT/$K/c1/spec.yaml"
	# Cached by root's read: executioncontexts/ (0770 root:operators)
	# still keeps a non-operator out, although c1's own bits let its
	# owner read it.
	cat "$MNT/$K/c1/spec.yaml" >/dev/null
	cell ExecutionContext view:cat:cached owner EACCES "$K" cat "$MNT/$K/c1/spec.yaml"
	cell ExecutionContext view:stat:cached other EACCES "$K" stat "$MNT/$K/c1"
	# The same for a kind directory an operator closed (1770 root:G):
	# the other user owns di but may not go into workflowinstances/.
	idoc di pub
	as_ok other cp di.yaml "$MNT/workflowinstances/"
	as_ok oper chgrp "$GG" "$MNT/workflowinstances"
	as_ok oper chmod 1770 "$MNT/workflowinstances"
	cat "$MNT/workflowinstances/di/status.yaml" >/dev/null
	cell WorkflowInstance view:cat:cached other EACCES di cat "$MNT/workflowinstances/di/status.yaml"
	# A resource without r or x for the other user, its names cached by
	# the owner's read: a stat may be answered by the kernel (the known
	# limit), its content never.
	wf_doc ws >ws.yaml
	as_ok owner cp ws.yaml "$WFD/"
	as_ok owner cat "$WFD/ws/spec.yaml"
	cell Workflow view:cat:cached other EACCES ws cat "$WFD/ws/spec.yaml"
	perm_end
}

# ---- durability ------------------------------------------------------------

# perm_state: owner, group and mode of the kind directories and of every
# resource (sorted).
perm_state() {
	(shopt -s nullglob; cd "$MNT" && for kd in $KINDDIRS; do
		stat -c '%n %U %G %a' "$kd" "$kd"/*/
	done | sort)
}

t_perm_durable() {
	perm_start
	local before audit
	wf_doc dw 'echo dw' >dw.yaml
	as_ok owner cp dw.yaml "$WFD/"
	as_ok owner chgrp "$GG" "$WFD/dw"
	as_ok owner chmod 0754 "$WFD/dw"
	env_doc de >de.yaml
	as_ok group cp de.yaml "$MNT/environments/"
	as_ok group chmod 0700 "$MNT/environments/de"
	idoc di dw
	as_ok owner cp di.yaml "$MNT/workflowinstances/"
	as_ok oper chown "$UC:$GG" "$MNT/workflowinstances/di"
	as_ok oper chgrp "$GG" "$MNT/workflowinstances"
	as_ok oper chmod 1770 "$MNT/workflowinstances"
	cell Workflow update other EACCES dw sh -c "cat /dev/null > '$WFD/dw/spec.yaml'"
	before=$(perm_state)
	audit=$(cat "$MNT/audit")
	expect "durable: state recorded" grep -q "dw/ $UA $GG 754" <<<"$before"
	expect "durable: kind dir recorded" grep -q "workflowinstances root $GG 1770" <<<"$before"
	remount_execfs "$PERM_OPTS"
	expect "restart: owners, groups, modes" [ "$(perm_state)" = "$before" ]
	expect "restart: audit" [ "$(cat "$MNT/audit")" = "$audit" ]
	cell Workflow view:cat other ok - cat "$WFD/dw/spec.yaml"
	cell Workflow update other EACCES dw sh -c "cat /dev/null > '$WFD/dw/spec.yaml'"
	cell Environment view:cat owner EACCES de cat "$MNT/environments/de/spec.yaml"
	cell WorkflowInstance create other EACCES workflowinstances cp di.yaml "$MNT/workflowinstances/dj.yaml"
	cell WorkflowInstance view:ls group ok - ls "$MNT/workflowinstances/di"
	# kill -9: the same.
	as_ok owner chmod 0750 "$WFD/dw"
	before=$(perm_state)
	audit=$(cat "$MNT/audit")
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	DPID=
	fusermount3 -u -z "$MNT" 2>/dev/null || true
	mount_execfs "$PERM_OPTS"
	expect "kill -9: owners, groups, modes" [ "$(perm_state)" = "$before" ]
	expect "kill -9: audit kept" [ "$(head -c ${#audit} "$MNT/audit")" = "$audit" ]
	expect "kill -9: the last chmod kept" grep -q "dw/ $UA $GG 750" <<<"$(perm_state)"
	cell Workflow view:cat other EACCES dw cat "$WFD/dw/spec.yaml"
	cell Environment view:cat owner EACCES de cat "$MNT/environments/de/spec.yaml"
	cell Environment view:cat group ok - cat "$MNT/environments/de/spec.yaml"
	perm_end
}

# ---- x on a Workflow, by every path ------------------------------------------

# subwf_run ROLE NAME: ROLE runs its Workflow NAME (through its run file);
# the execution's name in $TDIR/run.name, after it ended.
subwf_run() {
	as_ok "$1" sh -c "$RUNFILE_SH" _ "$WFD/$2/run"
	cp "$TDIR/out" "$TDIR/run.name"
	wait_run_end "$(cat "$TDIR/run.name")"
}

# children_of WORKFLOW: how many executions run that Workflow.
children_of() {
	local id x n=0
	id=$(rid workflows "$1")
	for x in "$MNT"/workflowexecutions/*/; do
		[ -f "$x/resource.json" ] || continue
		[ "$(jq -r .spec.workflowId "$x/resource.json")" = "$id" ] && n=$((n + 1))
	done
	echo "$n"
}

# sub_refused PARENT-EXECUTION TARGET: the parent FAILED, its task saying
# the child needs x on TARGET.
sub_refused() {
	is_phase_now "$1" FAILED &&
		jq -e --arg t "\"$2\"" '.status.tasks[0].error | contains("permission denied") and contains($t)' \
			"$MNT/workflowexecutions/$1/resource.json" >/dev/null
}

t_perm_no_x_cannot_start() {
	perm_start
	local p n uc
	uc=$(uid_of other)
	# root's Workflow and instance: root:root 0750, the other user has no x.
	root_wf wr 'echo r' 0750
	idoc ri wr
	cp ri.yaml "$MNT/workflowinstances/"
	xdoc xf workflowId wr
	xdoc xi workflowInstanceId ri
	xdoc xd workflowInstanceId wr-default
	idoc io wr
	cell Workflow run:doc other EACCES wr cp xf.yaml "$MNT/workflowexecutions/"
	cell Workflow run:file other EACCES wr sh -c "$RUNFILE_SH" _ "$WFD/wr/run"
	cell Workflow bind:workflow other EACCES wr cp io.yaml "$MNT/workflowinstances/"
	cell WorkflowInstance run:doc other EACCES ri cp xi.yaml "$MNT/workflowexecutions/"
	cell WorkflowInstance run:default other EACCES wr-default cp xd.yaml "$MNT/workflowexecutions/"
	expect "no x: nothing of wr ran" [ "$(children_of wr)" = 0 ]
	# A sub-workflow: the child is refused (checked for the parent's
	# creator, with their own groups), so the parent run fails.
	subwf_doc sw wr >sw.yaml
	as_ok other cp sw.yaml "$WFD/"
	p=$(audit_n "$uc" deny)
	subwf_run other sw
	n=$(cat "$TDIR/run.name")
	expect "no x: sub-workflow of root's 0750 Workflow refused (parent FAILED)" sub_refused "$n" wr
	expect "no x: sub-workflow made no child of wr" [ "$(children_of wr)" = 0 ]
	# A Workflow of a user's whose group the other user is not in: refused.
	wf_doc wa 'echo a' >wa.yaml
	as_ok owner cp wa.yaml "$WFD/"
	as_ok owner chgrp "$GG" "$WFD/wa"
	subwf_doc swa wa >swa.yaml
	as_ok other cp swa.yaml "$WFD/"
	p=$(audit_n "$uc" deny)
	subwf_run other swa
	n=$(cat "$TDIR/run.name")
	expect "no x: sub-workflow of owner's Workflow refused (parent FAILED)" sub_refused "$n" wa
	expect "no x: sub-workflow made no child of wa" [ "$(children_of wa)" = 0 ]
	# Every refusal writes a deny line: the refused child too.
	expect "no x: sub-workflow refusal has a deny line in audit" \
		[ "$(audit_n "$uc" deny)" -gt "$p" ]
	# A group member with x (g+x) starts it directly, and so through a
	# sub-workflow.
	subwf_doc swb wa >swb.yaml
	as_ok group cp swb.yaml "$WFD/"
	cell Workflow run:file group ok - sh -c "$RUNFILE_SH" _ "$WFD/wa/run"
	wait_runs_end
	subwf_run group swb
	n=$(cat "$TDIR/run.name")
	expect "g+x: group member's sub-workflow of wa completes" is_phase_now "$n" COMPLETED
	# Through another user's instance: the owner (in G) binds the group
	# member's Workflow in an instance all may run.  Starting it still
	# takes x on the Workflow, checked at each run.
	wf_doc wb 'echo b' >wb.yaml
	as_ok group cp wb.yaml "$WFD/"
	as_ok group chgrp "$GG" "$WFD/wb"
	idoc iab wb
	as_ok owner cp iab.yaml "$MNT/workflowinstances/"
	as_ok owner chmod o+x "$MNT/workflowinstances/iab"
	xdoc xab workflowInstanceId iab
	cell WorkflowInstance run:others-workflow other EACCES wb cp xab.yaml "$MNT/workflowexecutions/"
	# ... and taking x away stops the instance's owner too.
	as_ok group chmod g-x "$WFD/wb"
	xdoc xab2 workflowInstanceId iab
	cell WorkflowInstance run:revoked owner EACCES wb cp xab2.yaml "$MNT/workflowexecutions/"
	wait_runs_end
	# chmod o+x on the Workflow (and the instance): every path works.
	chmod o+x "$WFD/wr" "$MNT/workflowinstances/ri" "$MNT/workflowinstances/wr-default"
	xdoc xf2 workflowId wr
	xdoc xi2 workflowInstanceId ri
	xdoc xd2 workflowInstanceId wr-default
	idoc io2 wr
	cell Workflow run:doc other ok - cp xf2.yaml "$MNT/workflowexecutions/"
	cell Workflow run:file other ok - sh -c "$RUNFILE_SH" _ "$WFD/wr/run"
	cell Workflow bind:workflow other ok - cp io2.yaml "$MNT/workflowinstances/"
	cell WorkflowInstance run:doc other ok - cp xi2.yaml "$MNT/workflowexecutions/"
	cell WorkflowInstance run:default other ok - cp xd2.yaml "$MNT/workflowexecutions/"
	wait_runs_end
	as_ok owner chmod o+x "$WFD/wa"
	subwf_run other swa
	n=$(cat "$TDIR/run.name")
	expect "o+x: sub-workflow completes" is_phase_now "$n" COMPLETED
	expect "o+x: sub-workflow made a child of wa" [ "$(children_of wa)" -ge 1 ]
	# The child is the parent's creator's: their uid and primary group.
	n=$(jq -r .status.tasks[0].childExecution.slug "$MNT/workflowexecutions/$n/resource.json")
	expect "o+x: the child execution is the other user's (uid and group)" \
		owner_is "$MNT/workflowexecutions/$n" other 750
	perm_end
}

perm_users_make
run_tests "$@"
