#!/usr/bin/env bash
# t_flow_http.sh - HTTP_CALL (issues 4 and 11) against a local python
# http.server: a GET's output is the body (JSON parsed, else text), its
# export reaches a later RUN through $context; a 404 fails the task and
# the run naming the status, and TRY catches it as the DSL's
# communication error with status 404; a refused connection fails naming
# the error; a dry run sends no request.  (t_dsl_http.sh has the rest of
# the DSL's call: templates, query, redirect, output forms.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

# www: the served directory, with data.json and hello.txt.
www() {
	mkdir -p "$TDIR/www"
	printf '%s\n' '{"user": {"name": "ada", "id": 7}}' >"$TDIR/www/data.json"
	printf 'plain words' >"$TDIR/www/hello.txt"
	http_start "$TDIR/www"
}

t_flow_http_get() {
	run_strict
	local d
	www
	wf_tpl httpget P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/${ .file }'}
        headers: {Accept: application/json, X-Who: '${ .who }'}
      export: {as: '${ . }'}
    - name: greet
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "hello $1 $USER_ID"'
          arguments: ['${ $context.fetch.user.name }']
          environment: {USER_ID: 'id-${ $context.fetch.user.id }'}
    - name: text
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/hello.txt'}
        timeoutSeconds: 5
EOF
	wex_start h1 httpget "$(trig '{"file": "data.json", "who": "e2e"}')"
	d=$(wx h1)
	wait_phase h1 COMPLETED 30
	assert_eq "$(xj h1 '[.status.tasks[] | "\(.id)=\(.status)=\(.kind)"] | join(",")')" \
		fetch=COMPLETED=HTTP_CALL,greet=COMPLETED=RUN,text=COMPLETED=HTTP_CALL
	# The output (content, the default): the body parsed as JSON.
	assert_eq "$(tj h1 fetch '.output | tojson')" '{"user":{"name":"ada","id":7}}'
	# A body that is not JSON is text; the last task's is the workflow's.
	assert_eq "$(tj h1 text '.output | "\(type) \(.)"')" "string plain words"
	assert_eq "$(xj h1 '.status.output | "\(type) \(.)"')" "string plain words"
	# The body reached the next task through its arguments and environment.
	assert_contains "$d/log" ada
	assert_eq "$(cat "$d/log")" "hello ada id-7"
	assert_eq "$(http_hits /data.json)" 1
	assert_eq "$(http_hits /hello.txt)" 1
	assert_eq "$(evq h1 'map(select(.type == "phase" and .task == "fetch") | .status) | join(",")')" \
		IN_PROGRESS,COMPLETED
}

# A 404 fails the task and the run with the status in the error; a TRY
# around it catches it: $err is the DSL's communication error, status 404,
# instance the JSON Pointer of the failing call.
t_flow_http_404() {
	run_strict
	www
	wf_tpl http404 P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/missing.json'}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wf_tpl try404 P="$HTTP_PORT" <<'EOF'
    - name: guard
      kind: TRY
      taskConfig:
        try:
          - name: fetch
            kind: HTTP_CALL
            taskConfig:
              method: GET
              endpoint: {uri: 'http://127.0.0.1:@P@/missing.json'}
        catch:
          as: err
          do:
            - name: record
              kind: SET
              taskConfig: {variables: {status: '${ $err.status }', type: '${ $err.type }', at: '${ $err.instance }'}}
              export: {as: '${ . }'}
    - name: after
      kind: RUN
      taskConfig: {shell: {command: "echo after-ran"}}
EOF
	wex_start n1 http404
	wait_phase n1 FAILED 30
	assert_eq "$(xj n1 '[.status.tasks[].status] | join(",")')" FAILED,SKIPPED
	tj n1 fetch .error | grep -qF 404 || die "task error: $(tj n1 fetch .error)"
	xj n1 .status.error | grep -qF 404 || die "status.error: $(xj n1 .status.error)"
	xj n1 .status.error | grep -qF fetch || die "status.error: $(xj n1 .status.error)"
	assert_not_contains "$(wx n1)/log" after-ran
	assert_eq "$(http_hits /missing.json)" 1
	wex_start n2 try404
	wait_phase n2 COMPLETED 30
	assert_eq "$(xj n2 '[.status.tasks[] | "\(.id)=\(.status)"] | join(",")')" \
		guard=COMPLETED,guard/fetch=FAILED,guard/catch/record=COMPLETED,after=COMPLETED
	assert_eq "$(tj n2 guard/catch/record '.output | "\(.status) \(.type) \(.at)"')" \
		"404 https://serverlessworkflow.io/spec/1.0.0/errors/communication /do/0/guard/try/0/fetch"
	assert_contains "$(wx n2)/log" after-ran
	assert_eq "$(http_hits /missing.json)" 2
}

# The method is sent as written: the server has no POST (501), which
# fails the task; the request is in its log.
t_flow_http_post() {
	run_strict
	www
	wf_tpl httppost P="$HTTP_PORT" <<'EOF'
    - name: send
      kind: HTTP_CALL
      taskConfig:
        method: POST
        endpoint: {uri: 'http://127.0.0.1:@P@/data.json'}
        body: {n: '${ .n }'}
EOF
	wex_start o1 httppost "$(trig '{"n": 3}')"
	wait_phase o1 FAILED 30
	tj o1 send .error | grep -qF 501 || die "task error: $(tj o1 send .error)"
	grep -qF '"POST /data.json HTTP' "$HTTP_LOG" || { cat "$HTTP_LOG" >&2; die "no POST logged"; }
}

# Nobody listens: the task fails naming the connection error.
t_flow_http_refused() {
	run_strict
	local port
	port=$(free_port)
	wf_tpl refused P="$port" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/data.json'}
        timeoutSeconds: 5
EOF
	wex_start c1 refused
	wait_phase c1 FAILED 30
	assert_eq "$(tstat c1 fetch)" FAILED
	tj c1 fetch .error | grep -qi connect || die "task error: $(tj c1 fetch .error)"
	xj c1 .status.error | grep -qi connect || die "status.error: $(xj c1 .status.error)"
}

# A dry run makes no request and says what it would call.
t_flow_http_dryrun() {
	run_strict
	www
	wf_tpl httpdry P="$HTTP_PORT" T="$TDIR" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/data.json'}
      export: {as: '${ . }'}
    - name: touch
      kind: RUN
      taskConfig: {shell: {command: "touch @T@/touched"}}
EOF
	wex_start d1 httpdry "  dryRun: true"
	wait_phase d1 COMPLETED 20
	traces d1 >"$TDIR/traces"
	assert_contains "$TDIR/traces" "would call GET http://127.0.0.1:$HTTP_PORT/data.json"
	assert_eq "$(xj d1 .status.summary.dryRun)" true
	assert_eq "$(tstat d1 fetch)" COMPLETED
	assert_absent "$TDIR/touched"
	# The server logs requests (its probe is there), and none for the file.
	[ "$(http_hits /probe)" -ge 1 ] || die "the server logged nothing: $(cat "$HTTP_LOG")"
	assert_eq "$(http_hits /data.json)" 0
}

run_tests "$@"
