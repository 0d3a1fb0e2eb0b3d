#!/usr/bin/env bash
# t_dsl_http.sh - HTTP_CALL as the Serverless Workflow DSL 1.0 says (issue
# 11), against a small local server: the endpoint's URI template {name}
# filled from the task's input (the execution's triggerMessage for the
# first task), the query map appended, redirect false (a 3xx fails the
# task) and true (followed; a final 3xx still fails), the output forms
# content, response and raw, a 404 failing the task and the run with the
# status in the error, a URI template variable that is a map, the
# endpoint written as a plain string, and a dry run's trace of the URI.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/common.sh"
. "$(dirname "$0")/helpers/run.sh"
. "$(dirname "$0")/helpers/flow.sh"

# dsl_srv: a server on 127.0.0.1:$HTTP_PORT until the test ends, its
# access log in $HTTP_LOG (http_hits counts in it).  Routes:
#   /v2/pet/<n>  200 application/json {"id": n, "name": "pet-n", ...}
#   /echo...     200 application/json {method, target}: the request
#                target exactly as sent (path and query, still encoded)
#   /moved       302 Found, Location /v2/pet/1
#   /stuck       302 Found without a Location (no redirect to follow)
#   /text        200 text/plain; charset=utf-8 "plain words"
#   /bin         200 application/octet-stream, bytes ff 00 01
#   else         404 Not Found, application/json {"message": "not found"}
dsl_srv() {
	cat >"$TDIR/srv.py" <<'EOF'
import http.server, json, sys

class H(http.server.BaseHTTPRequestHandler):
    def send(self, code, ctype, body, extra=()):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path.split("?")[0]
        j = "application/json"
        if p.startswith("/v2/pet/") and p[8:].isdigit():
            n = int(p[8:])
            pet = {"id": n, "name": "pet-%d" % n, "status": "available"}
            self.send(200, j, json.dumps(pet).encode())
        elif p.startswith("/echo"):
            e = {"method": self.command, "target": self.path}
            self.send(200, j, json.dumps(e).encode())
        elif p == "/moved":
            self.send(302, None, b"", [("Location", "/v2/pet/1")])
        elif p == "/stuck":
            self.send(302, None, b"")
        elif p == "/text":
            self.send(200, "text/plain; charset=utf-8", b"plain words")
        elif p == "/bin":
            self.send(200, "application/octet-stream", b"\xff\x00\x01")
        else:
            self.send(404, j, b'{"message": "not found"}')

    do_POST = do_GET

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
	HTTP_PORT=$(free_port)
	HTTP_LOG=$TDIR/http.log
	/usr/bin/python3 -u "$TDIR/srv.py" "$HTTP_PORT" >/dev/null 2>"$HTTP_LOG" &
	HTTP_PID=$!
	bg_track "$HTTP_PID"
	wait_until 10 http_up || die "the HTTP server did not answer"
}

# failed_with SLUG TASK TEXT: the run FAILED, the task's entry FAILED,
# and both its error and status.error hold TEXT.
failed_with() {
	wait_phase "$1" FAILED 30
	assert_eq "$(tstat "$1" "$2")" FAILED
	tj "$1" "$2" .error | grep -qF -- "$3" ||
		die "$1: task error '$(tj "$1" "$2" .error)' lacks '$3'"
	xj "$1" .status.error | grep -qF -- "$3" ||
		die "$1: status.error '$(xj "$1" .status.error)' lacks '$3'"
}

# {petId} comes from the workflow's input (the first task's `.`); the
# JSON body is the output (content, the default), and the workflow's.
t_dsl_http_template() {
	run_strict
	dsl_srv
	wf_tpl pet P="$HTTP_PORT" <<'EOF'
    - name: getPet
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/v2/pet/{petId}'}
EOF
	wex_start t1 pet "$(trig '{"petId": 2}')"
	wait_phase t1 COMPLETED 30
	assert_eq "$(xj t1 '.status.output | tojson')" \
		'{"id":2,"name":"pet-2","status":"available"}'
	assert_eq "$(tj t1 getPet '.output.name')" pet-2
	assert_eq "$(http_hits /v2/pet/2)" 1
}

# Template values and the query are percent-encoded; the query goes after
# the URI's own with '&'; query values may be expressions over `.`.
t_dsl_http_query() {
	run_strict
	dsl_srv
	wf_tpl query P="$HTTP_PORT" <<'EOF'
    - name: echo
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/echo/{name}?id={petId}&none={missing}'}
        query: {status: available, who: '${ .name }', 'k k': 'v&w=x'}
EOF
	wex_start q1 query "$(trig '{"petId": 7, "name": "a b/ü"}')"
	wait_phase q1 COMPLETED 30
	assert_eq "$(xj q1 .status.output.target)" \
		'/echo/a%20b%2F%C3%BC?id=7&none=&status=available&who=a%20b%2F%C3%BC&k%20k=v%26w%3Dx'
	assert_eq "$(xj q1 .status.output.method)" GET
}

# redirect false (the default): a 302 is not followed and fails the task
# with status 302; true: followed; a 302 with nowhere to go still fails.
t_dsl_http_redirect() {
	run_strict
	dsl_srv
	wf_tpl nofollow P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/moved'}
    - name: after
      kind: SET
      taskConfig: {variables: {ran: 'yes'}}
EOF
	wf_tpl follow P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/moved'}
        redirect: true
EOF
	wf_tpl stuck P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/stuck'}
        redirect: true
EOF
	wex_start r1 nofollow
	failed_with r1 fetch "GET http://127.0.0.1:$HTTP_PORT/moved answered 302 Found"
	assert_not_completed r1 after
	assert_eq "$(http_hits /moved)" 1
	assert_eq "$(http_hits /v2/pet/1)" 0
	wex_start r2 follow
	wait_phase r2 COMPLETED 30
	assert_eq "$(xj r2 .status.output.id)" 1
	assert_eq "$(http_hits /v2/pet/1)" 1
	wex_start r3 stuck
	failed_with r3 fetch "answered 302 Found"
}

# output: response is {request: {method, uri, headers}, statusCode,
# headers, content}; raw is the body in base64; content is text when the
# response is not JSON, base64 when it is not UTF-8 either.
t_dsl_http_output() {
	run_strict
	local u
	dsl_srv
	u="http://127.0.0.1:$HTTP_PORT"
	wf_tpl outresp P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/v2/pet/{petId}'}
        headers: {Accept: application/json}
        output: response
EOF
	wf_tpl outraw P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/v2/pet/1'}
        output: raw
EOF
	wf_tpl outtext P="$HTTP_PORT" <<'EOF'
    - name: text
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/text'}
    - name: bin
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/bin'}
        output: content
EOF
	wex_start o1 outresp "$(trig '{"petId": 1}')"
	wait_phase o1 COMPLETED 30
	assert_eq "$(xj o1 '.status.output | keys | join(",")')" \
		content,headers,request,statusCode
	assert_eq "$(xj o1 '.status.output.request | "\(.method) \(.uri) \(.headers.Accept)"')" \
		"GET $u/v2/pet/1 application/json"
	assert_eq "$(xj o1 '.status.output.statusCode | "\(type) \(.)"')" "number 200"
	assert_eq "$(xj o1 '.status.output.headers["content-type"]')" application/json
	assert_eq "$(xj o1 '.status.output.content | "\(.id) \(.name)"')" "1 pet-1"
	wex_start o2 outraw
	wait_phase o2 COMPLETED 30
	assert_eq "$(xj o2 .status.output)" \
		"$(printf '%s' '{"id": 1, "name": "pet-1", "status": "available"}' | base64 -w0)"
	wex_start o3 outtext
	wait_phase o3 COMPLETED 30
	assert_eq "$(tj o3 text '.output | "\(type) \(.)"')" "string plain words"
	assert_eq "$(tj o3 bin .output)" "/wAB"
}

# A 404 fails the task and the run; the error names the call and the
# status (the DSL's error object, status 404, is what a TRY would catch).
t_dsl_http_404() {
	run_strict
	dsl_srv
	wf_tpl notfound P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/v2/pet/getPetByName/{petName}'}
    - name: after
      kind: SET
      taskConfig: {variables: {ran: 'yes'}}
EOF
	wex_start n1 notfound "$(trig '{"petName": "Milou"}')"
	failed_with n1 fetch \
		"GET http://127.0.0.1:$HTTP_PORT/v2/pet/getPetByName/Milou answered 404 Not Found"
	xj n1 .status.error | grep -qF fetch || die "status.error: $(xj n1 .status.error)"
	assert_not_completed n1 after
	assert_eq "$(http_hits /v2/pet/getPetByName/Milou)" 1
}

# A template variable that is a map is an expression error: nothing sent.
t_dsl_http_template_map() {
	run_strict
	dsl_srv
	wf_tpl tplmap P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: {uri: 'http://127.0.0.1:@P@/v2/pet/{petId}'}
EOF
	wex_start m1 tplmap "$(trig '{"petId": {"id": 1}}')"
	failed_with m1 fetch 'URI template variable "petId" is a map'
	! grep -qF '"GET /v2/' "$HTTP_LOG" || die "a request was sent"
}

# The DSL's other endpoint form: a plain string (a URI template).
t_dsl_http_endpoint_string() {
	run_strict
	dsl_srv
	wf_tpl epstr P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: GET
        endpoint: 'http://127.0.0.1:@P@/v2/pet/{petId}'
EOF
	wex_start s1 epstr "$(trig '{"petId": 3}')"
	wait_phase s1 COMPLETED 30
	assert_eq "$(xj s1 .status.output.id)" 3
}

# A dry run sends nothing and traces the URI it would call, expanded,
# with its query.
t_dsl_http_dryrun() {
	run_strict
	dsl_srv
	wf_tpl dry P="$HTTP_PORT" <<'EOF'
    - name: fetch
      kind: HTTP_CALL
      taskConfig:
        method: POST
        endpoint: {uri: 'http://127.0.0.1:@P@/echo/{petId}'}
        query: {q: '${ .name }'}
EOF
	wex_start d1 dry "$(trig '{"petId": 5, "name": "x y"}')
  dryRun: true"
	wait_phase d1 COMPLETED 20
	traces d1 >"$TDIR/traces"
	assert_contains "$TDIR/traces" "would call POST http://127.0.0.1:$HTTP_PORT/echo/5?q=x%20y"
	assert_eq "$(tj d1 fetch .output.wouldCall)" "http://127.0.0.1:$HTTP_PORT/echo/5?q=x%20y"
	! grep -qF '/echo' "$HTTP_LOG" || die "a request was sent"
}

run_tests "$@"
