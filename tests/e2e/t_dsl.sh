#!/usr/bin/env bash
# t_dsl.sh - the Serverless Workflow DSL 1.0 semantics (issue 11) through
# the mount, as a user sees them: workflows written with cat, executions
# whose spec.triggerMessage is the workflow input (JSON text), the output
# read with jq from resource.json (status.output, status.tasks) and the
# order of tasks from the events.  Most scenarios are the CTK's own
# (ctk/features/*.feature of serverlessworkflow/specification), translated
# to execfs's task form (`set:` -> SET variables, `for:` -> FOR, `switch:`
# -> SWITCH cases, `fork:` -> FORK branches, `try:` -> TRY, `raise:` ->
# RAISE, a nested `do:` -> a TRY without catch, i.e. a plain nested list,
# bare jq -> `${ }` since execfs is strict), with the CTK's expected values.
# Then what the CTK does not cover: export.as and $context (Stigmer: by
# task name), the runtime arguments, Stigmer placeholders, catch filters,
# retry with its backoff timing, then: exit/end in nested lists, and a dry
# run of all of it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

RT=https://serverlessworkflow.io/spec/1.0.0/errors/runtime

# ---- helpers -------------------------------------------------------------

# wf_cat NAME: write workflows/NAME.yaml with one cat, as a user would
# (its first flush commits the document); the task list, indented by
# four, from stdin.
wf_cat() {
	{
		cat <<EOF
metadata: {name: $1}
spec:
  document: {dsl: 1.0.0, namespace: dsl, name: $1, version: 1.0.0}
  tasks:
EOF
		cat
	} >"$TDIR/wf-$1.yaml"
	cat "$TDIR/wf-$1.yaml" >"$MNT/workflows/$1.yaml"
	assert_dir "$MNT/workflows/$1"
}

# out_is SLUG JSON: status.output equals JSON (keys in any order).
out_is() {
	assert_eq "$(jq -S -c .status.output <"$(wx "$1")/resource.json")" "$(jq -S -c . <<<"$2")" \
		"$1: status.output"
}

# order_of SLUG: the tasks in the order they started (IN_PROGRESS events).
order_of() {
	evq "$1" '[.[] | select(.type == "phase" and .status == "IN_PROGRESS") | .task] | join(",")'
}

# ran SLUG TASK: how many times TASK started.
ran() { ev_count "$1" ".type == \"phase\" and .status == \"IN_PROGRESS\" and .task == \"$2\""; }

# starts_ms SLUG TASK: the start times (epoch ms) of TASK's attempts.
starts_ms() {
	local ts
	for ts in $(evq "$1" ".[] | select(.type == \"phase\" and .status == \"IN_PROGRESS\" and .task == \"$2\") | .timestamp"); do
		date -d "$ts" +%s%3N
	done
}

# ---- do / flow / set (CTK do.feature, flow.feature, set.feature) -----------

# do.feature "Task With Sequential Sub Tasks": a nested list of three SETs,
# each appending to .colors; its output is the last one's.
t_dsl_do_sequential() {
	run_strict
	wf_cat composite <<'EOF'
    - name: compositeExample
      kind: TRY
      taskConfig:
        try:
          - {name: setRed, kind: SET, taskConfig: {variables: {colors: '${ .colors + ["red"] }'}}}
          - {name: setGreen, kind: SET, taskConfig: {variables: {colors: '${ .colors + ["green"] }'}}}
          - {name: setBlue, kind: SET, taskConfig: {variables: {colors: '${ .colors + ["blue"] }'}}}
EOF
	wex_start d1 composite
	wait_phase d1 COMPLETED
	out_is d1 '{"colors": ["red", "green", "blue"]}'
	assert_eq "$(order_of d1)" \
		compositeExample,compositeExample/setRed,compositeExample/setGreen,compositeExample/setBlue
}

# flow.feature "Implicit Sequence Flow" and "Explicit Sequence Flow" (the
# explicit one jumps backward: setGreen then: setBlue).
t_dsl_flow_sequence() {
	run_strict
	wf_cat implicit <<'EOF'
    - {name: setRed, kind: SET, taskConfig: {variables: {colors: '${ .colors + [ "red" ] }'}}}
    - {name: setGreen, kind: SET, taskConfig: {variables: {colors: '${ .colors + [ "green" ] }'}}}
    - {name: setBlue, kind: SET, taskConfig: {variables: {colors: '${ .colors + [ "blue" ] }'}}}
EOF
	wf_cat explicit <<'EOF'
    - name: setRed
      kind: SET
      taskConfig: {variables: {colors: '${ .colors + [ "red" ] }'}}
      flow: {then: setGreen}
    - name: setBlue
      kind: SET
      taskConfig: {variables: {colors: '${ .colors + [ "blue" ] }'}}
      flow: {then: end}
    - name: setGreen
      kind: SET
      taskConfig: {variables: {colors: '${ .colors + [ "green" ] }'}}
      flow: {then: setBlue}
EOF
	wex_start i1 implicit
	wex_start e1 explicit
	wait_phase i1 COMPLETED
	wait_phase e1 COMPLETED
	out_is i1 '{"colors": ["red", "green", "blue"]}'
	assert_eq "$(order_of i1)" setRed,setGreen,setBlue
	out_is e1 '{"colors": ["red", "green", "blue"]}'
	assert_eq "$(order_of e1)" setRed,setGreen,setBlue
	assert_eq "$(ran e1 setBlue)" 1
}

# set.feature "Set Task": the output is the set's map alone (the input's
# `configuration` is not merged in).
t_dsl_set_replaces() {
	run_strict
	wf_cat set <<'EOF'
    - name: setShape
      kind: SET
      taskConfig:
        variables:
          shape: circle
          size: '${ .configuration.size }'
          fill: '${ .configuration.fill }'
EOF
	wex_start s1 set "$(trig '{"configuration": {"size": {"width": 6, "height": 6}, "fill": {"red": 69, "green": 69, "blue": 69}}}')"
	wait_phase s1 COMPLETED
	out_is s1 '{"shape": "circle", "size": {"width": 6, "height": 6}, "fill": {"red": 69, "green": 69, "blue": 69}}'
	assert_eq "$(tj s1 setShape '.output | tojson')" "$(xj s1 '.status.output | tojson')"
}

# ---- for / switch / fork (CTK for.feature, switch.feature, branch.feature) --

# for.feature "For Task": iterations chained (each gets the previous
# one's output), $color and $index bound, the output the last iteration's.
t_dsl_for_chained() {
	run_strict
	wf_cat for <<'EOF'
    - name: loopColors
      kind: FOR
      taskConfig:
        each: color
        in: '${ .colors }'
        do:
          - name: markProcessed
            kind: SET
            taskConfig:
              variables:
                processed: '${ { colors: (.processed.colors + [ $color ]), indexes: (.processed.indexes + [ $index ])} }'
EOF
	wex_start f1 for "$(trig '{"colors": ["red", "green", "blue"]}')"
	wex_start f0 for "$(trig '{"colors": []}')"
	wait_phase f1 COMPLETED
	out_is f1 '{"processed": {"colors": ["red", "green", "blue"], "indexes": [0, 1, 2]}}'
	assert_eq "$(ran f1 loopColors/markProcessed)" 3
	# No iteration: the FOR's output is its input (the contract's choice).
	wait_phase f0 COMPLETED
	out_is f0 '{"colors": []}'
	assert_eq "$(ran f0 loopColors/markProcessed)" 0
}

# switch_cases: the CTK's three cases (bare jq made `${ }`).
SW_CASES="          - {name: red, when: '\${ .color == \"red\" }', then: setRed}
          - {name: green, when: '\${ .color == \"green\" }', then: setGreen}
          - {name: blue, when: '\${ .color == \"blue\" }', then: setBlue}"

# switch.feature "Switch task with matching case".
t_dsl_switch_match() {
	run_strict
	wf_cat swmatch <<EOF
    - name: switchColor
      kind: SWITCH
      taskConfig:
        cases:
$SW_CASES
    - name: setRed
      kind: SET
      taskConfig: {variables: {colors: '\${ .colors + [ "red" ] }'}}
      flow: {then: end}
    - name: setGreen
      kind: SET
      taskConfig: {variables: {colors: '\${ .colors + [ "green" ] }'}}
      flow: {then: end}
    - name: setBlue
      kind: SET
      taskConfig: {variables: {colors: '\${ .colors + [ "blue" ] }'}}
      flow: {then: end}
EOF
	wex_start m1 swmatch "$(trig '{"color": "red"}')"
	wex_start m3 swmatch "$(trig '{"color": "blue"}')"
	wait_phase m1 COMPLETED
	wait_phase m3 COMPLETED
	out_is m1 '{"colors": ["red"]}'
	assert_eq "$(order_of m1)" switchColor,setRed
	out_is m3 '{"colors": ["blue"]}'
	assert_eq "$(order_of m3)" switchColor,setBlue
	# The switch produces no data: its output is its input.
	assert_eq "$(tj m1 switchColor '.output | tojson')" '{"color":"red"}'
}

# switch.feature "Switch task with implicit default case": nothing matches,
# the switch's own then: end ends the run with the input as output.
t_dsl_switch_implicit_default() {
	run_strict
	wf_cat swimpl <<EOF
    - name: switchColor
      kind: SWITCH
      taskConfig:
        cases:
$SW_CASES
      flow: {then: end}
    - {name: setRed, kind: SET, taskConfig: {variables: {colors: '\${ .colors + [ "red" ] }'}}}
    - {name: setGreen, kind: SET, taskConfig: {variables: {colors: '\${ .colors + [ "green" ] }'}}}
    - {name: setBlue, kind: SET, taskConfig: {variables: {colors: '\${ .colors + [ "blue" ] }'}}}
EOF
	wex_start y1 swimpl "$(trig '{"color": "yellow"}')"
	wait_phase y1 COMPLETED
	out_is y1 '{"color": "yellow"}'
	assert_eq "$(order_of y1)" switchColor
}

# switch.feature "Switch task with explicit default case", with the
# default listed FIRST: it is still taken only when no other case matches.
t_dsl_switch_explicit_default() {
	run_strict
	wf_cat swdef <<EOF
    - name: switchColor
      kind: SWITCH
      taskConfig:
        cases:
          - {name: anyOtherColor, then: setCustomColor}
$SW_CASES
    - {name: setRed, kind: SET, taskConfig: {variables: {colors: '\${ .colors + [ "red" ] }'}}}
    - {name: setGreen, kind: SET, taskConfig: {variables: {colors: '\${ .colors + [ "green" ] }'}}}
    - {name: setBlue, kind: SET, taskConfig: {variables: {colors: '\${ .colors + [ "blue" ] }'}}}
    - {name: setCustomColor, kind: SET, taskConfig: {variables: {colors: '\${ .colors + [ \$input.color ] }'}}}
EOF
	wex_start x1 swdef "$(trig '{"color": "yellow"}')"
	wex_start x2 swdef "$(trig '{"color": "blue"}')"
	wait_phase x1 COMPLETED
	wait_phase x2 COMPLETED
	out_is x1 '{"colors": ["yellow"]}'
	assert_eq "$(order_of x1)" switchColor,setCustomColor
	# blue matches its case although the default comes first; setBlue
	# falls through to setCustomColor, whose $input ({colors: [blue]})
	# has no color.
	assert_eq "$(order_of x2)" switchColor,setBlue,setCustomColor
	out_is x2 '{"colors": ["blue", null]}'
}

# branch.feature "Fork Task With Competing Concurrent Sub Tasks": one
# winner, its output alone; without compete the output is the array of
# the branches' outputs in declaration order (DSL reference, fork).
t_dsl_fork() {
	run_strict
	local c
	for c in true false; do
		wf_cat "fork-$c" <<EOF
    - name: branchWithCompete
      kind: FORK
      taskConfig:
        compete: $c
        branches:
          - {name: setRed, do: [{name: setRed, kind: SET, taskConfig: {variables: {colors: '\${ .colors + ["red"] }'}}}]}
          - {name: setGreen, do: [{name: setGreen, kind: SET, taskConfig: {variables: {colors: '\${ .colors + ["green"] }'}}}]}
          - {name: setBlue, do: [{name: setBlue, kind: SET, taskConfig: {variables: {colors: '\${ .colors + ["blue"] }'}}}]}
EOF
	done
	wex_start c1 fork-true
	wex_start n1 fork-false "$(trig '{"colors": ["start"]}')"
	wait_phase c1 COMPLETED
	wait_phase n1 COMPLETED
	assert_eq "$(xj c1 '.status.output.colors | length')" 1
	case $(xj c1 '.status.output.colors[0]') in red | green | blue) ;;
	*) die "compete output: $(xj c1 '.status.output | tojson')" ;; esac
	out_is n1 '[{"colors": ["start", "red"]}, {"colors": ["start", "green"]}, {"colors": ["start", "blue"]}]'
}

# ---- raise (CTK raise.feature) ------------------------------------------------

# "Raise task with inline error": the run faults; the error object
# (type, status, title, instance set by the runtime) as a TRY sees it.
t_dsl_raise_inline() {
	run_strict
	wf_cat raise <<'EOF'
    - name: raiseError
      kind: RAISE
      taskConfig:
        error:
          status: 400
          type: https://serverlessworkflow.io/errors/types/compliance
          title: Compliance Error
    - {name: after, kind: SET, taskConfig: {variables: {ran: 'yes'}}}
EOF
	wf_cat raisecaught <<'EOF'
    - name: g
      kind: TRY
      taskConfig:
        try:
          - name: raiseError
            kind: RAISE
            taskConfig:
              error:
                status: 400
                type: https://serverlessworkflow.io/errors/types/compliance
                title: Compliance Error
        catch:
          do:
            - {name: keep, kind: SET, taskConfig: {variables: {e: '${ $error }'}}}
EOF
	wex_start r1 raise
	wex_start r2 raisecaught
	wait_phase r1 FAILED
	assert_eq "$(tstat r1 raiseError)" FAILED
	assert_eq "$(ran r1 after)" 0
	[[ $(xj r1 .status.error) == "task raiseError failed: "* ]] ||
		die "status.error: $(xj r1 .status.error)"
	wait_phase r2 COMPLETED
	assert_eq "$(xj r2 '.status.output.e | "\(.type)|\(.status|type)|\(.status)|\(.title)|\(.instance)"')" \
		"https://serverlessworkflow.io/errors/types/compliance|number|400|Compliance Error|/do/0/g/try/0/raiseError"
}

# ---- data flow -------------------------------------------------------------------

# data-flow.feature "Input Filtering"-like: a first task narrows the input
# to the subject (as input.from would), `${ . }` in the next task is that
# input; the workflow output is the last task's output; a sub-workflow's
# output is its last task's.
t_dsl_data_flow() {
	run_strict
	wf_cat filt <<'EOF'
    - name: subject
      kind: RUN
      taskConfig: {shell: {command: 'printf "%s\n" "$1"', arguments: ['${ .user.claims.subject }']}}
    - name: setPlayerId
      kind: SET
      taskConfig: {variables: {playerId: '${ . }'}}
EOF
	wf_cat child <<'EOF'
    - {name: double, kind: SET, taskConfig: {variables: {doubled: '${ .n * 2 }'}}}
    - {name: inc, kind: SET, taskConfig: {variables: {result: '${ .doubled + 1 }'}}}
EOF
	wf_cat parent <<'EOF'
    - name: call
      kind: RUN
      taskConfig: {workflow: child, input: {n: 5}}
    - name: use
      kind: SET
      taskConfig: {variables: {got: '${ .result }', whole: '${ $input }'}}
EOF
	wex_start f1 filt "$(trig '{"user": {"claims": {"subject": "6AsnRgGEB0q2O7ux9JXFAw"}}}')"
	wex_start p1 parent
	wait_phase f1 COMPLETED
	out_is f1 '{"playerId": "6AsnRgGEB0q2O7ux9JXFAw"}'
	assert_eq "$(tj f1 subject .output)" 6AsnRgGEB0q2O7ux9JXFAw
	wait_phase p1 COMPLETED 30
	assert_eq "$(tj p1 call '.output | tojson')" '{"result":11}'
	out_is p1 '{"got": 11, "whole": {"result": 11}}'
}

# ---- export.as and the runtime arguments ---------------------------------------

# export.as (Stigmer): the expression's value stored as
# $context["<task name>"], two exports side by side, $output in export.as.
t_dsl_export_context() {
	run_strict
	wf_cat exp <<'EOF'
    - name: fetch-pr
      kind: SET
      taskConfig: {variables: {diff_url: 'http://x/1.diff', n: 2}}
      export: {as: '${ . }'}
    - name: count
      kind: SET
      taskConfig: {variables: {v: 41}}
      export: {as: '${ $output.v + 1 }'}
    - name: between
      kind: SET
      taskConfig: {variables: {nothing: here}}
    - name: read
      kind: SET
      taskConfig:
        variables:
          url: '${ $context["fetch-pr"].diff_url }'
          all: '${ $context }'
EOF
	wex_start x1 exp
	wait_phase x1 COMPLETED
	out_is x1 '{"url": "http://x/1.diff", "all": {"fetch-pr": {"diff_url": "http://x/1.diff", "n": 2}, "count": 42}}'
}

# $workflow.id (the execution's id), $workflow.input (raw workflow input),
# $task.name, $task.reference (JSON pointer, nested lists keep their
# keyword), $runtime.name, $input (the task's input).
t_dsl_runtime_args() {
	run_strict
	local id
	wf_cat args <<'EOF'
    - name: first
      kind: SET
      taskConfig: {variables: {a: 1}}
    - name: probe
      kind: SET
      taskConfig:
        variables:
          wid: '${ $workflow.id }'
          win: '${ $workflow.input }'
          tname: '${ $task.name }'
          tref: '${ $task.reference }'
          rt: '${ $runtime.name }'
          in: '${ $input }'
    - name: g
      kind: TRY
      taskConfig:
        try:
          - {name: inner, kind: SET, taskConfig: {variables: {ref: '${ $task.reference }', name: '${ $task.name }'}}}
EOF
	wex_start a1 args "$(trig '{"k": "v"}')"
	wait_phase a1 COMPLETED
	id=$(rid "$WEXD" a1)
	assert_eq "$(tj a1 probe '.output | tojson' | jq -S -c .)" \
		"$(jq -S -c -n --arg id "$id" '{wid: $id, win: {k: "v"}, tname: "probe", tref: "/do/1/probe", rt: "execfs", in: {a: 1}}')"
	out_is a1 '{"ref": "/do/2/g/try/0/inner", "name": "inner"}'
}

# Stigmer placeholders ${.secrets.KEY} / ${.env_vars.KEY} from the
# execution's runtimeEnv; the secret's value is masked in status and log.
t_dsl_placeholders() {
	run_strict
	local s="pl4ceh0lder-s3cret-$RANDOM"
	wf_cat ph <<'EOF'
    - name: grab
      kind: SET
      taskConfig: {variables: {region: '${.env_vars.REGION}', tok: '${.secrets.TOKEN}'}}
    - name: use
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "region=$R len=${#T} tok=$T"'
          environment: {R: '${.env_vars.REGION}', T: '${.secrets.TOKEN}'}
EOF
	wf_cat phmiss <<'EOF'
    - name: grab
      kind: SET
      taskConfig: {variables: {tok: '${.secrets.NOPE}'}}
EOF
	wex_start p1 ph "$(cat <<EOF
  runtimeEnv:
    TOKEN: {value: $(yq_str "$s"), isSecret: true}
    REGION: {value: eu-west-1}
EOF
)"
	wex_start p2 phmiss "$(cat <<EOF
  runtimeEnv:
    TOKEN: {value: $(yq_str "$s"), isSecret: true}
EOF
)"
	wait_phase p1 COMPLETED
	assert_eq "$(tj p1 grab '.output | "\(.region) \(.tok)"')" "eu-west-1 ***"
	# The task got the real value: its length shows through.
	assert_eq "$(xj p1 .status.output)" "region=eu-west-1 len=${#s} tok=***"
	assert_contains "$(wx p1)/log" "tok=***"
	for f in resource.json status.yaml log events; do
		assert_not_contains "$(wx p1)/$f" "$s"
	done
	wait_phase p2 FAILED
	xj p2 .status.error | grep -qF "failed to resolve runtime placeholders: secrets.NOPE" ||
		die "p2 status.error: $(xj p2 .status.error)"
}

# ---- TRY -------------------------------------------------------------------------

# catch.errors.with type+status: a RUN exit 3 is a runtime error, 500.
# The filter that matches catches it (catch.do runs with $error); one
# that does not lets it through: the run FAILS, catch.do is SKIPPED.
t_dsl_try_filter() {
	run_strict
	local st
	for st in 500 503; do
		wf_tpl "filt$st" RT="$RT" ST="$st" <<'EOF'
    - {name: first, kind: SET, taskConfig: {variables: {x: 1}}}
    - name: g
      kind: TRY
      taskConfig:
        try:
          - {name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}
        catch:
          errors: {with: {type: '@RT@', status: @ST@}}
          as: err
          do:
            - name: handle
              kind: SET
              taskConfig:
                variables:
                  caught: '${ $err | {type, status, instance, detail} }'
                  in: '${ . }'
EOF
	done
	wex_start ok1 filt500
	wex_start no1 filt503
	wait_phase ok1 COMPLETED
	# catch.do gets the TRY's input; its output is the TRY's.
	out_is ok1 "{\"caught\": {\"type\": \"$RT\", \"status\": 500, \"instance\": \"/do/1/g/try/0/bad\", \"detail\": \"exit status 3\"}, \"in\": {\"x\": 1}}"
	wait_phase no1 FAILED
	assert_eq "$(tstat no1 g/bad)" FAILED
	assert_eq "$(tstat no1 g)" FAILED
	assert_eq "$(tstat no1 g/catch/handle)" SKIPPED
	assert_eq "$(ran no1 g/catch/handle)" 0
	xj no1 .status.error | grep -qF "exit status 3" || die "no1 status.error: $(xj no1 .status.error)"
}

# catch.when / catch.exceptWhen decide with $error bound; the CTK's alias
# type URI .../dsl/errors/types/runtime matches the runtime error.
t_dsl_try_when() {
	run_strict
	local n
	wf_tpl trywhen <<'EOF'
    - name: w
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}]
        catch:
          when: '${ $error.status == 500 }'
          do: [{name: h, kind: SET, taskConfig: {variables: {by: when}}}]
    - name: x
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}]
        catch:
          exceptWhen: '${ $error.status == 404 }'
          do: [{name: h, kind: SET, taskConfig: {variables: {by: '${ .by + ",exceptWhen" }'}}}]
    - name: a
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}]
        catch:
          errors: {with: {type: 'https://serverlessworkflow.io/dsl/errors/types/runtime'}}
          do: [{name: h, kind: SET, taskConfig: {variables: {by: '${ .by + ",alias" }'}}}]
EOF
	wf_tpl trywhenno <<'EOF'
    - name: w
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}]
        catch:
          when: '${ $error.status == 404 }'
          do: [{name: h, kind: SET, taskConfig: {variables: {by: when}}}]
EOF
	wf_tpl tryexceptno <<'EOF'
    - name: x
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}]
        catch:
          exceptWhen: '${ $error.status == 500 }'
          do: [{name: h, kind: SET, taskConfig: {variables: {by: exceptWhen}}}]
EOF
	wf_tpl tryaliasno <<'EOF'
    - name: a
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}]
        catch:
          errors: {with: {type: 'https://serverlessworkflow.io/dsl/errors/types/communication'}}
          do: [{name: h, kind: SET, taskConfig: {variables: {by: alias}}}]
EOF
	wex_start y trywhen
	for n in trywhenno tryexceptno tryaliasno; do wex_start "$n" "$n"; done
	wait_phase y COMPLETED
	out_is y '{"by": "when,exceptWhen,alias"}'
	for n in trywhenno tryexceptno tryaliasno; do
		wait_phase "$n" FAILED
		assert_eq "$(ran "$n" "$(ids "$n" | cut -d, -f1)/catch/h")" 0
	done
}

# catch without do swallows the error: the TRY's output is its input.
# A TRY without catch lets the error through: the run fails, naming the
# innermost task, and what follows does not run.
t_dsl_try_swallow_propagate() {
	run_strict
	wf_tpl swallow <<'EOF'
    - {name: first, kind: SET, taskConfig: {variables: {x: 1}}}
    - name: g
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 3"}}}]
        catch: {errors: {with: {status: 500}}}
EOF
	wf_tpl propagate <<'EOF'
    - {name: first, kind: SET, taskConfig: {variables: {x: 1}}}
    - name: g
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 4"}}}]
    - {name: after, kind: SET, taskConfig: {variables: {ran: 'yes'}}}
EOF
	wex_start s1 swallow
	wex_start p1 propagate
	wait_phase s1 COMPLETED
	assert_eq "$(tstat s1 g/bad)" FAILED
	assert_eq "$(tstat s1 g)" COMPLETED
	out_is s1 '{"x": 1}'
	wait_phase p1 FAILED
	assert_eq "$(tstat p1 g)" FAILED
	assert_eq "$(ran p1 after)" 0
	assert_eq "$(xj p1 .status.error)" "task g/bad failed: exit status 4"
}

# ---- retry -------------------------------------------------------------------------

# A RUN failing until its counter in $HOME reaches 3, retried with a
# 200 ms exponential backoff: three attempts (events attempt 1, 2, 3),
# started ≥ 200 ms then ≥ 400 ms apart, and not much more.
t_dsl_retry_backoff() {
	run_strict
	local s1 s2 s3 d1 d2
	wf_cat retry <<'EOF'
    - name: g
      kind: TRY
      taskConfig:
        try:
          - name: flaky
            kind: RUN
            taskConfig: {shell: {command: "n=$(cat $HOME/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > $HOME/n; [ $n -ge 3 ] && echo done-$n"}}
        catch:
          retry:
            delay: {milliseconds: 200}
            backoff: {exponential: {}}
            limit: {attempt: {count: 5}}
EOF
	wex_start r1 retry
	wait_phase r1 COMPLETED
	assert_eq "$(tj r1 g .attempts)" 3
	assert_eq "$(tstat r1 g/flaky)" COMPLETED
	out_is r1 '"done-3"'
	assert_eq "$(evq r1 'map(select(.type == "phase" and .task == "g/flaky") | "\(.status):\(.attempt)") | join(" ")')" \
		"IN_PROGRESS:1 FAILED:1 IN_PROGRESS:2 FAILED:2 IN_PROGRESS:3 COMPLETED:3"
	read -r s1 s2 s3 <<<"$(starts_ms r1 g/flaky | tr '\n' ' ')"
	d1=$((s2 - s1))
	d2=$((s3 - s2))
	((d1 >= 200 && d1 < 1700)) || die "gap before attempt 2: $d1 ms, want 200 ms (+ < 1.5 s)"
	((d2 >= 400 && d2 < 1900)) || die "gap before attempt 3: $d2 ms, want 400 ms (+ < 1.5 s)"
}

# Always failing, limit.attempt.count 2, constant PT0.1S: three attempts
# (the first and two retries), then the run FAILS with the last error.
# With catch.do: the retries exhausted, catch.do runs and completes.
t_dsl_retry_exhausted() {
	run_strict
	wf_cat always <<'EOF'
    - name: g
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 1"}}}]
        catch:
          retry: {delay: PT0.1S, backoff: {constant: {}}, limit: {attempt: {count: 2}}}
    - {name: after, kind: SET, taskConfig: {variables: {ran: 'yes'}}}
EOF
	wf_cat givesup <<'EOF'
    - name: g
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "exit 1"}}}]
        catch:
          retry: {delay: PT0.1S, backoff: {constant: {}}, limit: {attempt: {count: 1}}}
          do:
            - {name: fallback, kind: SET, taskConfig: {variables: {gaveUp: '${ $error.detail }'}}}
EOF
	wex_start a1 always
	wex_start b1 givesup
	wait_phase a1 FAILED
	assert_eq "$(ran a1 g/bad)" 3
	assert_eq "$(tj a1 g .attempts)" 3
	assert_eq "$(tstat a1 g)" FAILED
	assert_eq "$(tj a1 g/bad .error)" "exit status 1"
	assert_eq "$(xj a1 .status.error)" "task g/bad failed: exit status 1"
	assert_eq "$(ran a1 after)" 0
	wait_phase b1 COMPLETED
	assert_eq "$(ran b1 g/bad)" 2
	assert_eq "$(tstat b1 g/catch/fallback)" COMPLETED
	out_is b1 '{"gaveUp": "exit status 1"}'
}

# ---- then: exit / end in nested lists -------------------------------------------------

# A SWITCH's then: exit inside a FOR iteration leaves that iteration's
# list only: the next iteration runs, and so does the task after the FOR.
t_dsl_switch_exit_in_for() {
	run_strict
	wf_cat exitfor <<'EOF'
    - name: loop
      kind: FOR
      taskConfig:
        in: '${ .items }'
        do:
          - name: sw
            kind: SWITCH
            taskConfig:
              cases: [{name: skip, when: '${ $item == 2 }', then: exit}]
          - {name: mark, kind: SET, taskConfig: {variables: {seen: '${ (.seen // []) + [$item] }'}}}
    - {name: after, kind: SET, taskConfig: {variables: {done: '${ .seen }'}}}
EOF
	wex_start e1 exitfor "$(trig '{"items": [1, 2, 3]}')"
	wait_phase e1 COMPLETED
	assert_eq "$(tj e1 loop '.output | tojson')" '{"seen":[1,3]}'
	assert_eq "$(ran e1 loop/mark)" 2
	assert_eq "$(ran e1 loop/sw)" 3
	out_is e1 '{"done": [1, 3]}'
}

# flow.then: end inside a nested list (a FOR's do, a TRY's list) ends the
# whole workflow: no more iterations, nothing after; the output is the
# last task's that ran.
t_dsl_end_nested() {
	run_strict
	wf_cat endfor <<'EOF'
    - name: loop
      kind: FOR
      taskConfig:
        in: '${ .items }'
        do:
          - name: mark
            kind: SET
            taskConfig: {variables: {seen: '${ (.seen // []) + [$item] }'}}
            flow: {then: end}
          - {name: unreached, kind: SET, taskConfig: {variables: {no: 1}}}
    - {name: after, kind: SET, taskConfig: {variables: {no: 2}}}
EOF
	wf_cat endtry <<'EOF'
    - name: g
      kind: TRY
      taskConfig:
        try:
          - name: a
            kind: SET
            taskConfig: {variables: {x: 1}}
            flow: {then: end}
          - {name: b, kind: SET, taskConfig: {variables: {no: 1}}}
    - {name: after, kind: SET, taskConfig: {variables: {no: 2}}}
EOF
	wex_start f1 endfor "$(trig '{"items": [1, 2, 3]}')"
	wex_start t1 endtry
	wait_phase f1 COMPLETED
	assert_eq "$(ran f1 loop/mark)" 1
	assert_eq "$(ran f1 loop/unreached)" 0
	assert_eq "$(ran f1 after)" 0
	out_is f1 '{"seen": [1]}'
	wait_phase t1 COMPLETED
	assert_eq "$(order_of t1)" g,g/a
	out_is t1 '{"x": 1}'
}

# ---- dry run -----------------------------------------------------------------------------

# A dry run of a workflow with TRY + retry, SWITCH and FOR completes and
# runs nothing (the RUNs would create files).
t_dsl_dryrun() {
	run_strict
	wf_tpl dry T="$TDIR" <<'EOF'
    - name: sw
      kind: SWITCH
      taskConfig:
        cases:
          - {name: big, when: '${ .n > 10 }', then: loop}
          - {name: other, then: g}
    - name: g
      kind: TRY
      taskConfig:
        try: [{name: bad, kind: RUN, taskConfig: {shell: {command: "touch @T@/try-ran; exit 1"}}}]
        catch:
          retry: {delay: PT0.1S, backoff: {exponential: {}}, limit: {attempt: {count: 3}}}
    - name: loop
      kind: FOR
      taskConfig:
        in: '${ .items }'
        do: [{name: step, kind: RUN, taskConfig: {shell: {command: 'touch "@T@/for-ran-$1"', arguments: ['${ $item }']}}}]
EOF
	wex_start d1 dry "$(printf '  dryRun: true\n%s' "$(trig '{"n": 1, "items": ["a", "b"]}')")"
	wait_phase d1 COMPLETED
	assert_eq "$(xj d1 .status.summary.dryRun)" true
	assert_absent "$TDIR/try-ran"
	assert_absent "$TDIR/for-ran-a"
	assert_absent "$TDIR/for-ran-b"
	assert_eq "$(xj d1 '.status.error // ""')" ""
}

run_tests "$@"
