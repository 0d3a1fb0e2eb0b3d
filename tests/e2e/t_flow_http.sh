#!/usr/bin/env bash
# t_flow_http.sh - HTTP_CALL (issue 4) against a local python http.server:
# a GET exports {status, headers, body} and a later RUN uses the body
# through an expression; a 404 fails the task and the run naming the
# status, and TRY catches it; a refused connection fails naming the error;
# a dry run sends no request.
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
        endpoint: {uri: 'http://127.0.0.1:@P@/${ .input.file }'}
        headers: {Accept: application/json, X-Who: '${ .input.who }'}
      export: {as: resp}
    - name: greet
      kind: RUN
      taskConfig:
        shell:
          command: 'echo "hello $1 $USER_ID"'
          arguments: ['${ .resp.body.user.name }']
          environment: {USER_ID: 'id-${ .resp.body.user.id }'}
    - name: text
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/hello.txt'}
        timeoutSeconds: 5
      export: {as: txt}
EOF
	wex_start h1 httpget "$(trig '{"file": "data.json", "who": "e2e"}')"
	d=$(wx h1)
	wait_phase h1 COMPLETED 30
	assert_eq "$(xj h1 '[.status.tasks[] | "\(.id)=\(.status)=\(.kind)"] | join(",")')" \
		fetch=COMPLETED=HTTP_CALL,greet=COMPLETED=RUN,text=COMPLETED=HTTP_CALL
	# The export: status, lowercase headers, the body parsed as JSON.
	assert_eq "$(xj h1 '.status.output.resp.status | "\(type) \(.)"')" "number 200"
	assert_eq "$(xj h1 '.status.output.resp.headers["content-type"]')" application/json
	assert_eq "$(xj h1 '.status.output.resp.headers | keys | map(select(. != ascii_downcase)) | length')" 0
	assert_eq "$(xj h1 '.status.output.resp.body | tojson')" '{"user":{"name":"ada","id":7}}'
	assert_eq "$(tj h1 fetch '.output.status')" 200
	# A body that is not JSON is text.
	assert_eq "$(xj h1 '.status.output.txt.body | "\(type) \(.)"')" "string plain words"
	assert_eq "$(xj h1 '.status.output.txt.headers["content-type"]')" text/plain
	# The body reached the next task through its arguments and environment.
	assert_contains "$d/log" ada
	assert_eq "$(cat "$d/log")" "hello ada id-7"
	assert_eq "$(http_hits /data.json)" 1
	assert_eq "$(http_hits /hello.txt)" 1
	assert_eq "$(evq h1 'map(select(.type == "phase" and .task == "fetch") | .status) | join(",")')" \
		IN_PROGRESS,COMPLETED
}

# A 404 fails the task and the run with the status in the error; a TRY
# around it catches it, with the status in $err.
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
              export: {as: caught}
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
	assert_eq "$(xj n2 '.status.output.caught | "\(.status) \(.type) \(.at)"')" \
		"404 execfs/task-failed guard/fetch"
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
        body: {n: '${ .input.n }'}
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
      export: {as: resp}
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
