#!/usr/bin/env bash
# t_dsl_strict.sh - a Workflow's task configs are strict when written: each
# kind knows exactly its fields, at every depth, and their values (return,
# output, redirect, query, stdin, the RAISE error, the catch filter, the
# retry policy and its durations, SWITCH defaults and targets, loop and
# catch variables, export.as as an expression).  A refused write fails
# with EBADMSG, MNT/errors names the file and the field's full path, and
# nothing changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"

# wf NAME: a Workflow document named NAME whose task list (YAML, items at
# four spaces) comes on stdin, to $TDIR/NAME.yaml.
wf() {
	{
		printf 'metadata: {name: %s}\nspec:\n' "$1"
		printf '  document: {dsl: 1.0.0, namespace: e2e, name: %s, version: 1.0.0}\n' "$1"
		printf '  tasks:\n'
		cat
	} >"$TDIR/$1.yaml"
}

# refused NAME FRAGMENT: writing $TDIR/NAME.yaml into workflows/ with tee
# fails with EBADMSG; the errors line names workflows/NAME.yaml and holds
# FRAGMENT (the path and the message); no view changed.
refused() {
	local before
	before=$(snapshot)
	expect_fail EBADMSG tee "$MNT/workflows/$1.yaml" <"$TDIR/$1.yaml" || return 1
	assert_error_line "workflows/$1.yaml" EBADMSG "$2" || return 1
	assert_absent "$MNT/workflows/$1" || return 1
	assert_eq "$(snapshot)" "$before" "views after a refused write"
}

# accepted NAME: writing $TDIR/NAME.yaml with cat creates the Workflow.
accepted() {
	cat <"$TDIR/$1.yaml" >"$MNT/workflows/$1.yaml"
	assert_created workflows "$1" "$1.yaml"
}

K='unknown field (known:'

# A field the config does not know, on the config itself.
t_dsl_strict_unknown_config_field() {
	strict
	wf w1 <<'EOF'
    - {name: s, kind: SET, taskConfig: {vars: {a: '1'}}}
EOF
	refused w1 "spec.tasks[0].taskConfig.vars: $K variables, timeout)"
	wf w2 <<'EOF'
    - name: c
      kind: HTTP_CALL
      taskConfig: {method: GET, endpoint: 'http://h', with: {}}
EOF
	refused w2 "spec.tasks[0].taskConfig.with: $K method, endpoint, headers, body, query, output, redirect, timeoutSeconds, timeout)"
}

# ... in a map inside: shell, endpoint, a case, a branch, the error map.
t_dsl_strict_unknown_inner_field() {
	strict
	wf w1 <<'EOF'
    - {name: r, kind: RUN, taskConfig: {shell: {command: ls, cwd: /tmp}}}
EOF
	refused w1 "spec.tasks[0].taskConfig.shell.cwd: $K command, arguments, environment, stdin)"
	wf w2 <<'EOF'
    - {name: c, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: {url: 'http://h'}}}
EOF
	refused w2 "spec.tasks[0].taskConfig.endpoint.url: $K uri)"
	wf w3 <<'EOF'
    - name: s
      kind: SWITCH
      taskConfig: {cases: [{name: a, when: '${ true }', then: end}, {name: b, then: end, goto: x}]}
EOF
	refused w3 "spec.tasks[0].taskConfig.cases[1].goto: $K name, when, then)"
	wf w4 <<'EOF'
    - {name: r, kind: RAISE, taskConfig: {error: {type: t, status: 400, reason: x}}}
EOF
	refused w4 "spec.tasks[0].taskConfig.error.reason: $K type, status, title, detail, instance)"
}

# ... deep in a TRY's catch and retry policy.
t_dsl_strict_unknown_retry_field() {
	strict
	wf w1 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch:
          retry:
            limit: {attempt: {count: 3, attemp: 1}}
EOF
	refused w1 "spec.tasks[0].taskConfig.catch.retry.limit.attempt.attemp: $K count, duration)"
	wf w2 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch: {errors: {with: {status: 500, code: E1}}}
EOF
	refused w2 "spec.tasks[0].taskConfig.catch.errors.with.code: $K type, status, instance, title, detail, details)"
	wf w3 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch: {retry: {limit: {attempt: {count: 1}}, delay: {secs: 2}}}
EOF
	refused w3 "spec.tasks[0].taskConfig.catch.retry.delay.secs: $K days, hours, minutes, seconds, milliseconds)"
}

# ... in a task nested two lists down.
t_dsl_strict_unknown_nested() {
	strict
	wf w1 <<'EOF'
    - name: loop
      kind: FOR
      taskConfig:
        in: [1, 2]
        do:
          - name: t
            kind: TRY
            taskConfig:
              try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
              catch:
                do: [{name: w, kind: WAIT, taskConfig: {seconds: 1, unit: s}}]
EOF
	refused w1 "spec.tasks[0].taskConfig.do[0].taskConfig.catch.do[0].taskConfig.unit: $K seconds, timeout)"
}

# camelCase and snake_case are both accepted; not both at once.
t_dsl_strict_spellings() {
	strict
	wf w1 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: c, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: 'http://h', timeout_seconds: 5}}]
        catch:
          except_when: '${ $error.status == 404 }'
          retry: {exceptWhen: '${ false }', limit: {duration: PT1M}}
EOF
	accepted w1
	assert_eq "$(rj workflows w1 '.spec.tasks[0].taskConfig.catch.except_when')" '${ $error.status == 404 }'
	wf w2 <<'EOF'
    - {name: c, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: 'http://h', timeoutSeconds: 5, timeout_seconds: 5}}
EOF
	refused w2 "spec.tasks[0].taskConfig.timeoutSeconds: given twice (as timeoutSeconds and timeout_seconds)"
}

# export.as: a plain name is the old form, refused with the new spelled
# out; an expression is stored as written.
t_dsl_strict_export_as() {
	strict
	wf w1 <<'EOF'
    - {name: one, kind: SET, taskConfig: {variables: {a: '1'}}}
    - {name: fan, kind: SET, taskConfig: {variables: {a: '2'}}, export: {as: pings}}
EOF
	refused w1 "spec.tasks[1].export.as: \"pings\" is a name; export.as is now an expression over the task's output, stored as \$context[\"fan\"]: write export: {as: '\${ . }'} and read \${ \$context[\"fan\"] }"
	wf w2 <<'EOF'
    - {name: fan, kind: SET, taskConfig: {variables: {a: '2'}}, export: {as: '${ .a | }'}}
EOF
	refused w2 "spec.tasks[0].export.as: expression does not compile"
	wf w3 <<'EOF'
    - {name: fan, kind: SET, taskConfig: {variables: {a: '2'}}, export: {as: '${ {a: .a, o: $output} }'}}
    - {name: use, kind: SET, taskConfig: {variables: {b: '${ $context["fan"].a }'}}}
EOF
	accepted w3
	assert_eq "$(rj workflows w3 '.spec.tasks[0].export.as')" '${ {a: .a, o: $output} }'
}

# RUN return and stdin; input only with workflow, return not with it.
t_dsl_strict_run() {
	strict
	wf w1 <<'EOF'
    - {name: r, kind: RUN, taskConfig: {shell: {command: cat}, return: exitcode}}
EOF
	refused w1 "spec.tasks[0].taskConfig.return: must be stdout, stderr, code, all or none"
	wf w2 <<'EOF'
    - {name: r, kind: RUN, taskConfig: {workflow: other, return: all}}
EOF
	refused w2 "spec.tasks[0].taskConfig.return: not with workflow"
	wf w3 <<'EOF'
    - {name: r, kind: RUN, taskConfig: {shell: {command: cat, stdin: {a: 1}}}}
EOF
	refused w3 "spec.tasks[0].taskConfig.shell.stdin: must be a string"
	wf w4 <<'EOF'
    - {name: r, kind: RUN, taskConfig: {shell: {command: cat, stdin: '${ .x }'}, return: all}}
    - {name: p, kind: RUN, taskConfig: {script: {language: python3, code: 'print(1)'}, return: code}}
EOF
	accepted w4
}

# HTTP_CALL output, redirect and query.
t_dsl_strict_http() {
	strict
	wf w1 <<'EOF'
    - {name: c, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: 'http://h', output: json}}
EOF
	refused w1 "spec.tasks[0].taskConfig.output: must be content, response or raw"
	wf w2 <<'EOF'
    - {name: c, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: 'http://h', redirect: 'no'}}
EOF
	refused w2 "spec.tasks[0].taskConfig.redirect: must be true or false"
	wf w3 <<'EOF'
    - {name: c, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: 'http://h', query: {ids: [1, 2]}}}
EOF
	refused w3 "spec.tasks[0].taskConfig.query.ids: must be a string"
	wf w4 <<'EOF'
    - {name: c, kind: HTTP_CALL, taskConfig: {method: GET, endpoint: 'http://h', query: {q: '${ ( }'}}}
EOF
	refused w4 "spec.tasks[0].taskConfig.query.q: expression does not compile"
	wf w5 <<'EOF'
    - name: c
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: 'https://h/pet/{petId}'
        query: {status: available, n: 2, x: '${ .x }'}
        output: response
        redirect: true
EOF
	accepted w5
}

# RAISE: the DSL's error map needs type and status; a string error needs
# a message.
t_dsl_strict_raise() {
	strict
	wf w1 <<'EOF'
    - {name: r, kind: RAISE, taskConfig: {error: {type: 'https://x/e'}}}
EOF
	refused w1 "spec.tasks[0].taskConfig.error.status: required"
	wf w2 <<'EOF'
    - {name: r, kind: RAISE, taskConfig: {error: {type: t, status: '400'}}}
EOF
	refused w2 "spec.tasks[0].taskConfig.error.status: must be a whole number, 100 to 599"
	wf w3 <<'EOF'
    - {name: r, kind: RAISE, taskConfig: {error: validation}}
EOF
	refused w3 "spec.tasks[0].taskConfig.message: required (a non-empty string) when error is a string"
	wf w4 <<'EOF'
    - {name: r, kind: RAISE, taskConfig: {error: {type: 'https://x/e', status: 409, title: Conflict, detail: '${ .d }'}}}
EOF
	accepted w4
}

# The catch filter's field types.
t_dsl_strict_catch_filter() {
	strict
	wf w1 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch: {errors: {with: {status: not-found}}}
EOF
	refused w1 "spec.tasks[0].taskConfig.catch.errors.with.status: must be a whole number"
	wf w2 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch: {errors: {with: {detail: x, details: x}}}
EOF
	refused w2 "spec.tasks[0].taskConfig.catch.errors.with.details: given with detail"
}

# A retry policy: bounded, one backoff kind, durations that parse.
t_dsl_strict_retry() {
	strict
	local head='    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: "1"}}}]
        catch:'
	printf '%s\n          retry: {delay: PT1S}\n' "$head" | wf w1
	refused w1 "spec.tasks[0].taskConfig.catch.retry.limit: required (attempt.count or duration"
	printf '%s\n          retry: {limit: {duration: PT1M}, backoff: {linear: {}, exponential: {}}}\n' "$head" | wf w2
	refused w2 "spec.tasks[0].taskConfig.catch.retry.backoff: needs exactly one of constant, linear or exponential"
	printf '%s\n          retry: {limit: {duration: PT1M}, backoff: {linear: {factor: 2}}}\n' "$head" | wf w3
	refused w3 "spec.tasks[0].taskConfig.catch.retry.backoff.linear: must be an empty map ({})"
	printf '%s\n          retry: {limit: {duration: 60}}\n' "$head" | wf w4
	refused w4 "spec.tasks[0].taskConfig.catch.retry.limit.duration: a duration is an ISO 8601 text"
	printf '%s\n          retry: {limit: {duration: P1M}}\n' "$head" | wf w5
	refused w5 "spec.tasks[0].taskConfig.catch.retry.limit.duration: not an ISO 8601 duration"
	printf '%s\n          retry: {limit: {attempt: {count: 2}}, jitter: {from: PT1S}}\n' "$head" | wf w6
	refused w6 "spec.tasks[0].taskConfig.catch.retry.jitter.to: required (a duration)"
	printf '%s\n          retry: {delay: {seconds: 3}, backoff: {exponential: {}}, limit: {attempt: {count: 5, duration: PT10S}, duration: PT5M}, jitter: {from: {milliseconds: 10}, to: PT0.5S}}\n          do: [{name: h, kind: SET, taskConfig: {variables: {e: "${ $error.status }"}}}]\n' "$head" | wf w7
	accepted w7
	assert_eq "$(rj workflows w7 '.spec.tasks[0].taskConfig.catch.retry.limit.attempt.count')" 5
}

# SWITCH: one default case at most, wherever listed; then: continue,
# exit, end or a task of the same list (flow.then too).
t_dsl_strict_switch() {
	strict
	wf w1 <<'EOF'
    - name: s
      kind: SWITCH
      taskConfig:
        cases:
          - {name: other, then: end}
          - {name: big, when: '${ .n > 10 }', then: big}
          - {name: rest, then: exit}
    - {name: big, kind: SET, taskConfig: {variables: {a: '1'}}}
EOF
	refused w1 "spec.tasks[0].taskConfig.cases[2].when: required: cases[0] and cases[2] both have no when (at most one default case)"
	wf w2 <<'EOF'
    - {name: a, kind: SET, taskConfig: {variables: {a: '1'}}, flow: {then: stop}}
EOF
	refused w2 "spec.tasks[0].flow.then: no task named \"stop\" in the same list (or continue, exit, end)"
	wf w3 <<'EOF'
    - name: s
      kind: SWITCH
      taskConfig:
        cases:
          - {name: other, then: exit}
          - {name: big, when: '${ .n > 10 }', then: big}
    - {name: big, kind: SET, taskConfig: {variables: {a: '1'}}, flow: {then: exit}}
EOF
	accepted w3
}

# Loop and catch variables may not take a name every expression binds.
t_dsl_strict_reserved_vars() {
	strict
	wf w1 <<'EOF'
    - {name: l, kind: FOR, taskConfig: {each: input, in: [1], do: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]}}
EOF
	refused w1 "spec.tasks[0].taskConfig.each: \"input\" is reserved"
	wf w2 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch: {as: context}
EOF
	refused w2 "spec.tasks[0].taskConfig.catch.as: \"context\" is reserved"
	wf w3 <<'EOF'
    - {name: l, kind: FOR, taskConfig: {at: _i, in: [1], do: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]}}
EOF
	refused w3 "spec.tasks[0].taskConfig.at: must be a variable name"
}

# The catch variable is in scope in catch.when and the retry's
# conditions; FOR's while sees each and at.
t_dsl_strict_scopes() {
	strict
	wf w1 <<'EOF'
    - name: t
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch: {as: e, when: '${ $error.status == 500 }'}
EOF
	refused w1 "spec.tasks[0].taskConfig.catch.when: expression does not compile"
	assert_contains <(errors_last) '$error is not defined'
	wf w2 <<'EOF'
    - name: l
      kind: FOR
      taskConfig:
        each: p
        in: '${ .pets }'
        while: '${ $p.ok and $index < 3 and $item }'
        do: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
EOF
	refused w2 "spec.tasks[0].taskConfig.while: expression does not compile"
	assert_contains <(errors_last) '$item is not defined'
	wf w3 <<'EOF'
    - name: l
      kind: FOR
      taskConfig:
        each: p
        in: '${ .pets }'
        while: '${ $p.ok and $index < 3 }'
        do:
          - name: t
            kind: TRY
            taskConfig:
              try: [{name: s, kind: SET, taskConfig: {variables: {a: '${ $p }'}}}]
              catch:
                as: e
                when: '${ $e.status >= 500 }'
                exceptWhen: '${ $p.skip }'
                retry: {when: '${ $e.status == 503 }', limit: {attempt: {count: 2}}}
EOF
	accepted w3
}

# TRY without catch, and a catch without do, are valid.
t_dsl_strict_try_forms() {
	strict
	wf w1 <<'EOF'
    - {name: t, kind: TRY, taskConfig: {try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]}}
    - name: u
      kind: TRY
      taskConfig:
        try: [{name: s, kind: SET, taskConfig: {variables: {a: '1'}}}]
        catch: {errors: {with: {type: 'https://serverlessworkflow.io/spec/1.0.0/errors/communication', status: 404}}}
EOF
	accepted w1
}

# A refused update through spec.yaml leaves the Workflow as it was.
t_dsl_strict_refused_update() {
	strict
	local f=$MNT/workflows/w1/spec.yaml before
	wf w1 <<'EOF'
    - {name: r, kind: RUN, taskConfig: {shell: {command: 'echo hi'}}}
EOF
	accepted w1
	before=$(snapshot)
	sed 's/command: .echo hi./command: "echo hi", shel: 1/' "$f" >"$TDIR/new"
	grep -q 'shel: 1' "$TDIR/new" || die "the edit did not apply"
	expect_fail EBADMSG cp "$TDIR/new" "$f"
	assert_error_line workflows/w1/spec.yaml EBADMSG "spec.tasks[0].taskConfig.shell.shel: $K command, arguments, environment, stdin)"
	assert_eq "$(snapshot)" "$before" "views after a refused update"
	assert_eq "$(rj workflows w1 '.spec.tasks[0].taskConfig.shell|keys|join(",")')" command
}

run_tests "$@"
