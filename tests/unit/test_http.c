/*
 * test_http.c - one HTTP call through libcurl against a small server run
 * inside the test: methods, bodies and headers as the server receives
 * them, the response's status, headers (lowercase, the last response's
 * only) and body, the body cap, redirects and their limits, timeouts,
 * cancel, connection failures, and every request refused before a byte
 * is sent; then the pure text of a call: URI templates, query strings,
 * base64, UTF-8 and JSON content types.
 *
 * The server is one thread serving one connection at a time: it reads a
 * request (head, then Content-Length bytes), records it, and answers with
 * a response chosen by the path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/doc.h"
#include "core/http.h"
#include "core/yaml.h"

/* ---- the server ---- */

struct server {
	int lfd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t mu;
	/* protected by mu: the last request, and one "METHOD PATH BODYLEN"
	 * line per request since the last srv_reset() */
	struct buf head, body, log;
	int nreq;
};

static struct server srv;

/* A canned answer, sent as is. */
struct route {
	const char *path;
	const char *resp;
};

#define CLOSE "Connection: close\r\n"
#define REQ_MAX (4u << 20)	/* request bytes the server takes */

static const struct route routes[] = {
	{ "/json", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		   "X-Mixed-Case:   spaced value \t\r\nX-Dup: one\r\n"
		   "X-Dup: two\r\nContent-Length: 8\r\n" CLOSE "\r\n"
		   "{\"a\": 1}" },
	{ "/echo", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" CLOSE
		   "\r\nok" },
	{ "/missing", "HTTP/1.1 404 Not Found\r\nX-Why: gone\r\n"
		      "Content-Length: 4\r\n" CLOSE "\r\nnope" },
	{ "/error", "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n" CLOSE
		    "\r\nboom" },
	{ "/redirect", "HTTP/1.1 302 Found\r\nLocation: /final\r\n"
		       "X-First: yes\r\nContent-Length: 4\r\n" CLOSE
		       "\r\ngone" },
	{ "/see-other", "HTTP/1.1 303 See Other\r\nLocation: /final\r\n"
			"Content-Length: 0\r\n" CLOSE "\r\n" },
	{ "/temp", "HTTP/1.1 307 Temporary Redirect\r\nLocation: /final\r\n"
		   "Content-Length: 0\r\n" CLOSE "\r\n" },
	{ "/final", "HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Length: 5\r\n"
		    CLOSE "\r\nfinal" },
	{ "/loop", "HTTP/1.1 302 Found\r\nLocation: /loop\r\n"
		   "Content-Length: 0\r\n" CLOSE "\r\n" },
	{ "/tofile", "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n"
		     "Content-Length: 0\r\n" CLOSE "\r\n" },
	{ "/toftp", "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/x\r\n"
		    "Content-Length: 0\r\n" CLOSE "\r\n" },
	{ "/noreason", "HTTP/1.1 418\r\nContent-Length: 0\r\n" CLOSE
		       "\r\n" },
	{ "/interim", "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
		      "HTTP/1.1 200 OK\r\nX-Real: yes\r\nContent-Length: 2\r\n"
		      CLOSE "\r\nok" },
};

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;	/* the client gave up: fine */
		c += w;
		n -= (size_t)w;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* @n bytes of 'x' after @head. */
static void send_filler(int fd, const char *head, size_t n)
{
	static char chunk[65536];
	size_t k;

	memset(chunk, 'x', sizeof(chunk));
	send_str(fd, head);
	for (; n > 0; n -= k) {
		k = n < sizeof(chunk) ? n : sizeof(chunk);
		send_all(fd, chunk, k);
	}
}

static void send_sized(int fd, size_t n)
{
	char head[128];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n" CLOSE "\r\n", n);
	send_filler(fd, head, n);
}

static void send_many_headers(int fd, int n)
{
	char line[64];
	int i;

	send_str(fd, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "X-H%d: %d\r\n", i, i);
		send_str(fd, line);
	}
	send_str(fd, "Content-Length: 0\r\n" CLOSE "\r\n");
}

/* Say nothing until the client hangs up (at most 10 s). */
static void hang(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[256];
	int i;

	for (i = 0; i < 100; i++)
		if (poll(&p, 1, 100) == 1 && recv(fd, b, sizeof(b), 0) <= 0)
			return;
}

static void respond(int fd, const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(path, routes[i].path) == 0) {
			send_str(fd, routes[i].resp);
			return;
		}
	if (strcmp(path, "/big") == 0)
		send_sized(fd, HTTP_BODY_MAX + 1);
	else if (strcmp(path, "/exact") == 0)
		send_sized(fd, HTTP_BODY_MAX);
	else if (strcmp(path, "/bigclose") == 0)
		send_filler(fd, "HTTP/1.1 200 OK\r\n" CLOSE "\r\n",
			    HTTP_BODY_MAX + 1);
	else if (strcmp(path, "/manyheaders") == 0)
		send_many_headers(fd, HTTP_RESP_HEADERS_MAX - 1);
	else if (strcmp(path, "/maxheaders") == 0)
		send_many_headers(fd, HTTP_RESP_HEADERS_MAX - 2);
	else if (strcmp(path, "/hang") == 0)
		hang(fd);
	else if (strcmp(path, "/huge") == 0) {
		/* announces 100 GiB, sends none of it */
		send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 107374182400"
			 "\r\n" CLOSE "\r\n");
		hang(fd);
	}
	else
		send_str(fd, "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n" CLOSE
			 "\r\n");
}

/* Content-Length of a request head, 0 when absent. */
static size_t content_length(const char *head)
{
	const char *p = head;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (p[0] == '\r' && p[1] == '\n')
			break;	/* the blank line: the head ends */
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return strtoul(p + 15, NULL, 10);
	}
	return 0;
}

/* Read a head (up to the blank line) and then its body into @req; the
 * head is searched once, so a large body costs no rescans. */
static int read_request(int fd, struct buf *req, size_t *head_len)
{
	size_t want = SIZE_MAX;
	char b[65536];
	char *end;
	ssize_t r;

	while (req->len < want) {
		r = recv(fd, b, sizeof(b), 0);
		if (r <= 0 || buf_add(req, b, (size_t)r) < 0)
			return -1;
		if (want == SIZE_MAX &&
		    (end = strstr(req->data, "\r\n\r\n")) != NULL) {
			*head_len = (size_t)(end + 4 - req->data);
			want = *head_len + content_length(req->data);
		}
	}
	return 0;
}

static void record(const struct buf *req, size_t head_len, char *method,
		   char *path)
{
	size_t blen = req->len - head_len;

	pthread_mutex_lock(&srv.mu);
	buf_reset(&srv.head);
	buf_reset(&srv.body);
	buf_add(&srv.head, req->data, head_len);
	buf_add(&srv.body, req->data + head_len, blen);
	buf_addf(&srv.log, "%s %s %zu\n", method, path, blen);
	srv.nreq++;
	pthread_mutex_unlock(&srv.mu);
}

static void serve(int fd)
{
	struct buf req = BUF_INIT(REQ_MAX);
	struct timeval tv = { .tv_sec = 5 };
	char method[16], path[256];
	size_t head_len = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_request(fd, &req, &head_len) == 0 &&
	    sscanf(req.data, "%15s %255s", method, path) == 2) {
		record(&req, head_len, method, path);
		respond(fd, path);
	}
	buf_release(&req);
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void *server_main(void *arg)
{
	struct pollfd p = { .fd = srv.lfd, .events = POLLIN };
	int fd;

	(void)arg;
	while (!atomic_load(&srv.stop)) {
		if (poll(&p, 1, 50) != 1)
			continue;
		fd = accept(srv.lfd, NULL, NULL);
		if (fd >= 0)
			serve(fd);
	}
	return NULL;
}

/* A socket bound to 127.0.0.1 on a port the kernel picks. */
static int bind_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int server_start(void **state)
{
	(void)state;
	buf_init(&srv.head, 1 << 16);
	buf_init(&srv.body, REQ_MAX);
	buf_init(&srv.log, 1 << 16);
	pthread_mutex_init(&srv.mu, NULL);
	atomic_store(&srv.stop, false);
	srv.lfd = bind_any(&srv.port);
	assert_int_equal(listen(srv.lfd, 16), 0);
	assert_int_equal(pthread_create(&srv.thread, NULL, server_main, NULL),
			 0);
	return 0;
}

static int server_stop(void **state)
{
	(void)state;
	atomic_store(&srv.stop, true);
	pthread_join(srv.thread, NULL);
	close(srv.lfd);
	pthread_mutex_destroy(&srv.mu);
	buf_release(&srv.head);
	buf_release(&srv.body);
	buf_release(&srv.log);
	return 0;
}

static int srv_reset(void **state)
{
	(void)state;
	pthread_mutex_lock(&srv.mu);
	buf_reset(&srv.head);
	buf_reset(&srv.body);
	buf_reset(&srv.log);
	srv.nreq = 0;
	pthread_mutex_unlock(&srv.mu);
	return 0;
}

static int srv_nreq(void)
{
	int n;

	pthread_mutex_lock(&srv.mu);
	n = srv.nreq;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

/* Copies of what the server recorded (the tests then read them alone). */
static char *srv_copy(const struct buf *b)
{
	char *s;

	pthread_mutex_lock(&srv.mu);
	s = strndup(b->data ? b->data : "", b->len);
	pthread_mutex_unlock(&srv.mu);
	assert_non_null(s);
	return s;
}

/* ---- helpers ---- */

static char url_buf[512];

static const char *url(const char *path)
{
	snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", srv.port,
		 path);
	return url_buf;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct http_req get(const char *path)
{
	struct http_req q = { .method = "GET", .url = url(path),
			      .timeout_s = 5 };

	return q;
}

/* get() that follows redirects. */
static struct http_req follow(const char *path)
{
	struct http_req q = get(path);

	q.redirect = true;
	return q;
}

static const char *hdr(const struct http_resp *r, const char *name)
{
	return doc_get_str(r->headers, name);
}

/* ---- responses ---- */

static void get_json(void **state)
{
	struct http_req q = get("/json");
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(http_call(&q, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 8);
	assert_string_equal(r.body.data, "{\"a\": 1}");
	assert_string_equal(hdr(&r, "content-type"), "application/json");
	assert_string_equal(hdr(&r, "x-mixed-case"), "spaced value");
	assert_string_equal(hdr(&r, "x-dup"), "one, two");
	assert_string_equal(r.reason, "OK");
	assert_string_equal(hdr(&r, "content-length"), "8");
	assert_null(hdr(&r, "X-Mixed-Case"));
	/* content-type, x-mixed-case, x-dup, content-length, connection */
	assert_int_equal(r.headers->n, 5);
	http_resp_release(&r);
	assert_null(r.headers);
	assert_null(r.body.data);
}

struct status_case {
	const char *path;
	long status;
	const char *reason;
	const char *body;
};

/* A 4xx/5xx is an answer, not a failure of the call. */
static void error_statuses(void **state)
{
	static const struct status_case cases[] = {
		{ "/missing", 404, "Not Found", "nope" },
		{ "/error", 500, "Oops", "boom" },
		{ "/nowhere", 400, "Bad", "" },
		{ "/noreason", 418, "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req q = get(cases[i].path);
		struct http_resp r = { 0 };
		struct err e = { 0 };

		assert_int_equal(http_call(&q, &r, &e), 0);
		assert_int_equal(r.status, cases[i].status);
		assert_string_equal(r.reason, cases[i].reason);
		assert_int_equal(r.body.len, strlen(cases[i].body));
		if (r.body.len)
			assert_string_equal(r.body.data, cases[i].body);
		assert_int_equal(e.code, 0);
		http_resp_release(&r);
	}
}

static void redirect_last_headers(void **state)
{
	struct http_req q = follow("/redirect");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	char *log;

	(void)state;
	assert_int_equal(http_call(&q, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(hdr(&r, "x-final"), "yes");
	assert_null(hdr(&r, "x-first"));
	assert_null(hdr(&r, "location"));
	assert_string_equal(r.body.data, "final");
	log = srv_copy(&srv.log);
	assert_string_equal(log, "GET /redirect 0\nGET /final 0\n");
	free(log);
	http_resp_release(&r);
}

/* Without q.redirect the 3xx is the answer: one request, its own
 * status, headers and body. */
static void redirect_not_followed(void **state)
{
	static const char *const paths[] = { "/redirect", "/see-other",
					     "/temp", "/loop", "/tofile" };
	static const long want[] = { 302, 303, 307, 302, 302 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct http_req q = get(paths[i]);
		struct http_resp r = { 0 };
		struct err e = { 0 };

		srv_reset(NULL);
		assert_int_equal(http_call(&q, &r, &e), 0);
		assert_int_equal(r.status, want[i]);
		assert_non_null(hdr(&r, "location"));
		assert_int_equal(srv_nreq(), 1);
		http_resp_release(&r);
	}
}

/* A 1xx interim response's headers are dropped like a redirect's. */
static void interim_response(void **state)
{
	struct http_req q = get("/interim");
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(http_call(&q, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(hdr(&r, "x-real"), "yes");
	assert_null(hdr(&r, "x-interim"));
	assert_string_equal(r.body.data, "ok");
	http_resp_release(&r);
}

struct redir_case {
	const char *method;
	const char *path;
	const char *log;	/* requests the server saw */
};

/* POST becomes a body-less GET after 302/303 (as browsers do); 307 keeps
 * both; the other methods keep method and body together. */
static void redirect_methods(void **state)
{
	static const struct redir_case cases[] = {
		{ "POST", "/redirect", "POST /redirect 4\nGET /final 0\n" },
		{ "POST", "/see-other", "POST /see-other 4\nGET /final 0\n" },
		{ "POST", "/temp", "POST /temp 4\nPOST /final 4\n" },
		{ "PUT", "/see-other", "PUT /see-other 4\nPUT /final 4\n" },
		{ "PATCH", "/redirect", "PATCH /redirect 4\nPATCH /final 4\n" },
		{ "DELETE", "/temp", "DELETE /temp 4\nDELETE /final 4\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req q = follow(cases[i].path);
		struct http_resp r = { 0 };
		struct err e = { 0 };
		char *log;

		srv_reset(NULL);
		q.method = cases[i].method;
		q.body = "data";
		q.body_len = 4;
		assert_int_equal(http_call(&q, &r, &e), 0);
		assert_int_equal(r.status, 200);
		log = srv_copy(&srv.log);
		assert_string_equal(log, cases[i].log);
		free(log);
		http_resp_release(&r);
	}
}

static void redirect_limits(void **state)
{
	struct http_req q = follow("/loop");
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(http_call(&q, &r, &e), -EIO);
	assert_non_null(strstr(e.msg, "redirect"));
	assert_int_equal(srv_nreq(), HTTP_REDIRECTS + 1);

	/* A server cannot send the call to another scheme. */
	q = follow("/tofile");
	assert_int_equal(http_call(&q, &r, &e), -EINVAL);
	assert_null(strstr(e.msg, "root:"));
	q = follow("/toftp");
	assert_int_equal(http_call(&q, &r, &e), -EINVAL);
	assert_int_equal(srv_nreq(), HTTP_REDIRECTS + 3);
}

/* ---- the body cap ---- */

static void body_cap(void **state)
{
	static const char *const too_big[] = { "/big", "/bigclose" };
	struct http_req q = get("/exact");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(http_call(&q, &r, &e), 0);
	assert_int_equal(r.body.len, HTTP_BODY_MAX);
	assert_int_equal(r.body.data[0], 'x');
	assert_int_equal(r.body.data[HTTP_BODY_MAX - 1], 'x');
	http_resp_release(&r);
	for (i = 0; i < 2; i++) {
		q = get(too_big[i]);
		r.status = 12345;
		assert_int_equal(http_call(&q, &r, &e), -EFBIG);
		assert_string_equal(e.msg, "response body larger than 1 MiB");
		assert_int_equal(r.status, 12345);	/* untouched */
		assert_null(r.headers);
	}
}

/* A Content-Length over the cap fails at once, not at the timeout. */
static void announced_too_big(void **state)
{
	struct http_req q = get("/huge");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	long t0 = now_ms();

	(void)state;
	q.timeout_s = 3;
	assert_int_equal(http_call(&q, &r, &e), -EFBIG);
	assert_true(now_ms() - t0 < 1500);
	assert_string_equal(e.msg, "response body larger than 1 MiB");
}

/* The X-H lines plus Content-Length and Connection: the cap passes,
 * one more line fails. */
static void too_many_response_headers(void **state)
{
	struct http_req q = get("/maxheaders");
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(http_call(&q, &r, &e), 0);
	assert_int_equal(r.headers->n, HTTP_RESP_HEADERS_MAX);
	http_resp_release(&r);
	q = get("/manyheaders");
	assert_int_equal(http_call(&q, &r, &e), -EMSGSIZE);
	assert_non_null(strstr(e.msg, "headers"));
}

/* ---- requests as the server sees them ---- */

struct method_case {
	const char *method;
	const char *body;
	const char *line;	/* request line the server gets */
	const char *length;	/* Content-Length line, or NULL for none */
};

static void check_request(const struct method_case *c)
{
	char *head = srv_copy(&srv.head), *body = srv_copy(&srv.body);

	assert_true(strncmp(head, c->line, strlen(c->line)) == 0);
	assert_string_equal(body, c->body ? c->body : "");
	if (c->length)
		assert_non_null(strstr(head, c->length));
	else
		assert_null(strcasestr(head, "Content-Length"));
	assert_non_null(strstr(head, "\r\nUser-Agent: execfs/0.1\r\n"));
	assert_null(strcasestr(head, "Expect:"));
	assert_null(strcasestr(head, "Content-Type"));
	free(head);
	free(body);
}

static void methods_and_bodies(void **state)
{
	static const struct method_case cases[] = {
		{ "GET", NULL, "GET /echo HTTP/1.1\r\n", NULL },
		{ "GET", "q=1", "GET /echo HTTP/1.1\r\n", "Content-Length: 3" },
		{ "POST", "{\"k\": [1, 2]}", "POST /echo HTTP/1.1\r\n",
		  "Content-Length: 13" },
		{ "POST", NULL, "POST /echo HTTP/1.1\r\n", "Content-Length: 0" },
		{ "PUT", "put body", "PUT /echo HTTP/1.1\r\n",
		  "Content-Length: 8" },
		{ "PUT", NULL, "PUT /echo HTTP/1.1\r\n", "Content-Length: 0" },
		{ "PATCH", "patch", "PATCH /echo HTTP/1.1\r\n",
		  "Content-Length: 5" },
		{ "DELETE", NULL, "DELETE /echo HTTP/1.1\r\n", NULL },
		{ "DELETE", "why", "DELETE /echo HTTP/1.1\r\n",
		  "Content-Length: 3" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_req q = get("/echo");
		struct http_resp r = { 0 };
		struct err e = { 0 };

		q.method = cases[i].method;
		q.body = cases[i].body;
		q.body_len = q.body ? strlen(q.body) : 0;
		assert_int_equal(http_call(&q, &r, &e), 0);
		assert_int_equal(r.status, 200);
		check_request(&cases[i]);
		http_resp_release(&r);
	}
}

/* A body is sent byte for byte, NULs included. */
static void binary_body(void **state)
{
	static const char bytes[] = { 'a', 0, 'b', '\n', 0 };
	struct http_req q = get("/echo");
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	q.method = "PUT";
	q.body = bytes;
	q.body_len = sizeof(bytes);
	assert_int_equal(http_call(&q, &r, &e), 0);
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(srv.body.len, sizeof(bytes));
	assert_memory_equal(srv.body.data, bytes, sizeof(bytes));
	pthread_mutex_unlock(&srv.mu);
	http_resp_release(&r);
}

/* A large body goes out at once: no "Expect: 100-continue" and its
 * second of waiting for a server that does not answer it. */
static void large_request_body(void **state)
{
	size_t n = 2u << 20;
	char *big = malloc(n), *head;
	struct http_req q = get("/echo");
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	assert_non_null(big);
	memset(big, 'b', n);
	q.method = "POST";
	q.body = big;
	q.body_len = n;
	assert_int_equal(http_call(&q, &r, &e), 0);
	head = srv_copy(&srv.head);
	assert_null(strcasestr(head, "Expect"));
	assert_non_null(strstr(head, "\r\nContent-Length: 2097152\r\n"));
	free(head);
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(srv.body.len, n);
	assert_memory_equal(srv.body.data, big, n);
	pthread_mutex_unlock(&srv.mu);
	free(big);
	http_resp_release(&r);
}

static void custom_headers(void **state)
{
	static const char *const lines[] = {
		"X-Custom: hello world", "Content-Type: application/json",
		"Authorization: Bearer t0k", "Accept: application/json",
	};
	struct http_req q = get("/echo");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	char *head;

	(void)state;
	q.method = "POST";
	q.body = "{}";
	q.body_len = 2;
	q.headers = lines;
	q.nheaders = 4;
	assert_int_equal(http_call(&q, &r, &e), 0);
	head = srv_copy(&srv.head);
	assert_non_null(strstr(head, "\r\nX-Custom: hello world\r\n"));
	assert_non_null(strstr(head, "\r\nAuthorization: Bearer t0k\r\n"));
	assert_non_null(strstr(head, "\r\nAccept: application/json\r\n"));
	/* given once, and curl's form type not added */
	assert_non_null(strstr(head, "\r\nContent-Type: application/json\r\n"));
	assert_null(strstr(strcasestr(head, "Content-Type") + 1,
			   "Content-Type"));
	assert_null(strstr(head, "urlencoded"));
	free(head);
	http_resp_release(&r);
}

/* HTTP_HEADERS_MAX lines pass; one more is refused. */
static void header_count(void **state)
{
	char names[HTTP_HEADERS_MAX + 1][32];
	const char *lines[HTTP_HEADERS_MAX + 1];
	struct http_req q = get("/echo");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	char *head;
	int i;

	(void)state;
	for (i = 0; i <= HTTP_HEADERS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "X-N%d: %d", i, i);
		lines[i] = names[i];
	}
	q.headers = lines;
	q.nheaders = HTTP_HEADERS_MAX;
	assert_int_equal(http_call(&q, &r, &e), 0);
	head = srv_copy(&srv.head);
	assert_non_null(strstr(head, "\r\nX-N0: 0\r\n"));
	assert_non_null(strstr(head, "\r\nX-N63: 63\r\n"));
	free(head);
	http_resp_release(&r);
	q.nheaders = HTTP_HEADERS_MAX + 1;
	assert_int_equal(http_call(&q, &r, &e), -EINVAL);
	assert_int_equal(srv_nreq(), 1);
}

/* ---- refused before any transfer ---- */

struct bad_case {
	const char *method;
	const char *url;	/* starting with '/': a path on the server */
	const char *header;	/* one header line, or NULL */
	unsigned timeout_s;
	const char *msg;	/* part of e.msg */
};

static void refused_requests(void **state)
{
	static const struct bad_case cases[] = {
		{ "GET", "file:///etc/passwd", NULL, 5, "scheme \"file\"" },
		{ "GET", "ftp://127.0.0.1/x", NULL, 5, "scheme \"ftp\"" },
		{ "GET", "gopher://127.0.0.1/", NULL, 5, "not allowed" },
		{ "GET", "127.0.0.1/json", NULL, 5, "bad URL" },
		{ "GET", "http://", NULL, 5, "bad URL" },
		{ "GET", "", NULL, 5, "bad URL" },
		{ "GET", NULL, NULL, 5, "bad URL" },
		{ "GET", "http://exa mple.com/", NULL, 5, "bad URL" },
		{ "HEAD", "/json", NULL, 5, "method \"HEAD\"" },
		{ "get", "/json", NULL, 5, "method" },
		{ "", "/json", NULL, 5, "method" },
		{ NULL, "/json", NULL, 5, "method" },
		{ "GET\r\nX: y", "/json", NULL, 5, "method" },
		{ "GET", "/json", "X-A: b\r\nX-B: c", 5, "header 1" },
		{ "GET", "/json", "X-A: b\n", 5, "header 1" },
		{ "GET", "/json", "X-A: b\r", 5, "header 1" },
		{ "GET", "/json", "NoColon", 5, "header 1" },
		{ "GET", "/json", ": no name", 5, "header 1" },
		{ "GET", "/json", "Bad Name: x", 5, "header 1" },
		{ "GET", "/json", "Bad\tName: x", 5, "header 1" },
		{ "GET", "/json", NULL, 0, "timeout 0 s" },
		{ "GET", "/json", NULL, 301, "timeout 301 s" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		struct http_req q = { .method = c->method,
				      .headers = &c->header,
				      .nheaders = c->header ? 1 : 0,
				      .timeout_s = c->timeout_s };
		struct http_resp r = { .status = 12345 };
		struct err e = { 0 };

		q.url = c->url && c->url[0] == '/' ? url(c->url) : c->url;
		assert_int_equal(http_call(&q, &r, &e), -EINVAL);
		assert_int_equal(e.code, -EINVAL);
		if (!strstr(e.msg, c->msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg,
				 c->msg);
		assert_int_equal(r.status, 12345);
		assert_null(r.headers);
	}
	assert_int_equal(srv_nreq(), 0);
}

/* The edges of what passes: timeouts 1 and 300, a scheme in capitals. */
static void accepted_edges(void **state)
{
	static const unsigned timeouts[] = { 1, 300 };
	struct http_req q = get("/echo");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	char upper[512];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		q.timeout_s = timeouts[i];
		assert_int_equal(http_call(&q, &r, &e), 0);
		http_resp_release(&r);
	}
	snprintf(upper, sizeof(upper), "HTTP://127.0.0.1:%d/echo", srv.port);
	q.url = upper;
	assert_int_equal(http_call(&q, &r, &e), 0);
	assert_int_equal(r.status, 200);
	http_resp_release(&r);
	assert_int_equal(srv_nreq(), 3);
}

/* ---- failures while the call runs ---- */

static void timeout_hang(void **state)
{
	struct http_req q = get("/hang");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	long t0 = now_ms(), dt;

	(void)state;
	q.timeout_s = 1;
	assert_int_equal(http_call(&q, &r, &e), -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 900 && dt < 3000);
	assert_non_null(strstr(e.msg, "timed out after 1 s"));
	assert_null(r.headers);
}

struct cancel_ctx {
	long start_ms;
	long after_ms;	/* say "cancel" once this much time has passed */
	int calls;
};

static bool cancel_after(void *ctx)
{
	struct cancel_ctx *c = ctx;

	c->calls++;
	return now_ms() - c->start_ms >= c->after_ms;
}

static void cancel_midway(void **state)
{
	struct cancel_ctx cc = { .start_ms = now_ms(), .after_ms = 300 };
	struct http_req q = get("/hang");
	struct http_resp r = { 0 };
	struct err e = { 0 };
	long dt;

	(void)state;
	q.timeout_s = 10;
	q.cancelled = cancel_after;
	q.ctx = &cc;
	assert_int_equal(http_call(&q, &r, &e), -ECANCELED);
	dt = now_ms() - cc.start_ms;
	assert_true(dt >= 300 && dt < 800);	/* checked every 100 ms */
	assert_true(cc.calls >= 2);
	assert_string_equal(e.msg, "HTTP request cancelled");
	assert_int_equal(srv_nreq(), 1);
}

static void cancel_at_once_and_never(void **state)
{
	struct cancel_ctx now = { .start_ms = now_ms(), .after_ms = 0 };
	struct cancel_ctx never = { .start_ms = now_ms(), .after_ms = 1L << 40 };
	struct http_req q = get("/json");
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	q.cancelled = cancel_after;
	q.ctx = &now;
	assert_int_equal(http_call(&q, &r, &e), -ECANCELED);
	assert_int_equal(now.calls, 1);
	q.ctx = &never;
	assert_int_equal(http_call(&q, &r, &e), 0);
	assert_true(never.calls >= 1);
	assert_int_equal(r.status, 200);
	http_resp_release(&r);
}

static void connection_refused(void **state)
{
	struct http_resp r = { 0 };
	struct err e = { 0 };
	char u[64];
	int port, fd = bind_any(&port);
	struct http_req q = { .method = "GET", .url = u, .timeout_s = 5 };

	(void)state;
	close(fd);	/* nothing listens on that port now */
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", port);
	assert_int_equal(http_call(&q, &r, &e), -ECONNREFUSED);
	assert_int_equal(e.code, -ECONNREFUSED);
	assert_true(e.msg[0] != '\0');
	assert_null(r.headers);
}

/* .invalid never resolves (RFC 6761). */
static void host_unknown(void **state)
{
	struct http_req q = { .method = "GET",
			      .url = "http://no-such-host.invalid/",
			      .timeout_s = 10 };
	struct http_resp r = { 0 };
	struct err e = { 0 };

	(void)state;
	assert_int_equal(http_call(&q, &r, &e), -EHOSTUNREACH);
	assert_non_null(strstr(e.msg, "no-such-host.invalid"));
}

static void release_null_safe(void **state)
{
	struct http_resp r = { 0 };

	(void)state;
	http_resp_release(NULL);
	http_resp_release(&r);
	http_resp_release(&r);
	assert_int_equal(http_init(), 0);	/* again: still fine */
}

/* ---- the pure text of a call (http_uri.c) ---- */

static struct doc *yaml(const char *text)
{
	struct doc *d = NULL;
	struct err e = { 0 };

	assert_int_equal(yaml_parse(text, strlen(text), NULL, &d, &e), 0);
	return d;
}

/* A task's input, as the URI templates below see it. */
static const char input_yaml[] =
	"{petId: 1, name: 'a b/\xc3\xbc', ok: true, pet.id: x, none: null,"
	" f: 1.5, expr: '${ .x }', obj: {a: 1}, list: [1], empty: ''}";

struct expand_case {
	const char *tpl;
	const char *want;
};

static void uri_expand(void **state)
{
	static const struct expand_case cases[] = {
		{ "http://h/pet/{petId}", "http://h/pet/1" },
		/* RFC 6570 simple expansion: unreserved kept, UTF-8 bytes */
		{ "http://h/{name}", "http://h/a%20b%2F%C3%BC" },
		{ "http://h/{ok}/{f}", "http://h/true/1.5" },
		{ "http://h/{pet.id}", "http://h/x" },	/* a key as written */
		{ "http://h/{missing}/x", "http://h//x" },
		{ "http://h/{none}{empty}", "http://h/" },
		{ "http://h/{petId,name}", "http://h/1,a%20b%2F%C3%BC" },
		{ "http://h/{missing,petId,none}", "http://h/1" },
		{ "http://h/?q={petId}&r={ok}", "http://h/?q=1&r=true" },
		/* a value cannot form an expression: $ { } are encoded */
		{ "http://h/{expr}", "http://h/%24%7B%20.x%20%7D" },
		/* expressions are copied whole, their braces untouched */
		{ "http://h/${ .petId }/{petId}", "http://h/${ .petId }/1" },
		{ "${ {a: .petId} | \"http://h/\\(.a)/{petId}\" }?{petId}",
		  "${ {a: .petId} | \"http://h/\\(.a)/{petId}\" }?1" },
		{ "${ \"}\" }{petId}", "${ \"}\" }1" },
		{ "${ .a # {petId} }\n}/{petId}", "${ .a # {petId} }\n}/1" },
		{ "http://h/${ unterminated {petId}",
		  "http://h/${ unterminated {petId}" },
		/* not simple expansions: copied as they are */
		{ "http://h/{+petId}{#petId}{}{a,}{ petId}",
		  "http://h/{+petId}{#petId}{}{a,}{ petId}" },
		{ "x}{petId", "x}{petId" },
		{ "", "" },
	};
	struct doc *in = yaml(input_yaml);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT(HTTP_URI_MAX);
		struct err e = { 0 };

		assert_int_equal(http_uri_expand(cases[i].tpl, in, &out, &e),
				 0);
		assert_string_equal(out.data ? out.data : "", cases[i].want);
		buf_release(&out);
	}
	doc_free(in);
}

static void uri_expand_refused(void **state)
{
	static const char *const bad[] = { "http://h/{obj}", "{petId,list}" };
	struct doc *in = yaml(input_yaml), *str = doc_strz("petId");
	struct buf out = BUF_INIT(HTTP_URI_MAX), small = BUF_INIT(8);
	struct err e = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(http_uri_expand(bad[i], in, &out, &e),
				 -EINVAL);
		assert_non_null(strstr(e.msg, i ? "\"list\" is a list" :
				       "\"obj\" is a map"));
		assert_null(out.data);
	}
	assert_int_equal(http_uri_expand("http://h/{petId}", in, &small, &e),
			 -EFBIG);
	assert_null(small.data);
	/* an input that is no map has no members */
	assert_int_equal(http_uri_expand("h/{petId}", str, &out, &e), 0);
	assert_string_equal(out.data, "h/");
	buf_release(&out);
	assert_int_equal(http_uri_expand("h/{petId}", NULL, &out, &e), 0);
	assert_string_equal(out.data, "h/");
	buf_release(&out);
	doc_free(str);
	doc_free(in);
}

struct query_case {
	const char *uri;
	const char *query;	/* YAML, NULL: none */
	const char *want;
};

static void uri_query(void **state)
{
	static const struct query_case cases[] = {
		{ "http://h/p", "{status: available}",
		  "http://h/p?status=available" },
		{ "http://h/p?a=1", "{b: '2', c: 3}", "http://h/p?a=1&b=2&c=3" },
		{ "http://h/p", "{'a b': 'x&y=z', 'k~._-': '\xc3\xa9/?#'}",
		  "http://h/p?a%20b=x%26y%3Dz&k~._-=%C3%A9%2F%3F%23" },
		{ "http://h/p#frag", "{a: '1'}", "http://h/p?a=1#frag" },
		{ "http://h/p?x#f", "{a: '1'}", "http://h/p?x&a=1#f" },
		{ "http://h/p", "{a: null, b: true}", "http://h/p?b=true" },
		{ "http://h/p", "{}", "http://h/p" },
		{ "http://h/p", "null", "http://h/p" },
		{ "http://h/p", NULL, "http://h/p" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct doc *q = cases[i].query ? yaml(cases[i].query) : NULL;
		struct buf out = BUF_INIT(HTTP_URI_MAX);
		struct err e = { 0 };

		assert_int_equal(http_uri_query(cases[i].uri, q, &out, &e), 0);
		assert_string_equal(out.data, cases[i].want);
		buf_release(&out);
		doc_free(q);
	}
}

static void uri_query_refused(void **state)
{
	static const char *const bad[] = { "[a]", "x", "{a: {b: 1}}",
					   "{a: [1]}" };
	static const char *const why[] = { "query is a list", "query is a",
					   "\"a\" is a map", "\"a\" is a list" };
	struct buf out = BUF_INIT(HTTP_URI_MAX), small = BUF_INIT(12);
	struct doc *q;
	struct err e = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q = yaml(bad[i]);
		assert_int_equal(http_uri_query("http://h/", q, &out, &e),
				 -EINVAL);
		assert_non_null(strstr(e.msg, why[i]));
		assert_null(out.data);
		doc_free(q);
	}
	q = yaml("{a: '12345'}");
	assert_int_equal(http_uri_query("http://h/", q, &small, &e), -EFBIG);
	assert_null(small.data);
	doc_free(q);
}

struct b64_case {
	const char *in;
	size_t n;
	const char *want;
};

static void base64(void **state)
{
	static const struct b64_case cases[] = {	/* RFC 4648 section 10 */
		{ "", 0, "" }, { "f", 1, "Zg==" }, { "fo", 2, "Zm8=" },
		{ "foo", 3, "Zm9v" }, { "foob", 4, "Zm9vYg==" },
		{ "fooba", 5, "Zm9vYmE=" }, { "foobar", 6, "Zm9vYmFy" },
		{ "\x00\xff\xfe\x80", 4, "AP/+gA==" },
		{ "\xfb\xff", 2, "+/8=" },
	};
	struct buf small = BUF_INIT(7);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out = BUF_INIT(64);

		assert_int_equal(http_base64(cases[i].in, cases[i].n, &out), 0);
		assert_string_equal(out.data ? out.data : "", cases[i].want);
		buf_release(&out);
	}
	assert_int_equal(http_base64("foobar", 6, &small), -EFBIG);
	buf_release(&small);
}

struct text_case {
	const char *s;
	size_t n;
	bool text;
};

static void utf8_text(void **state)
{
	static const struct text_case cases[] = {
		{ "", 0, true }, { "plain words\n", 12, true },
		{ "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, true },
		{ "\xf4\x8f\xbf\xbf", 4, true },	/* U+10FFFF */
		{ "a\0b", 3, false },			/* a NUL */
		{ "\xff", 1, false }, { "\x80", 1, false },
		{ "\xc3", 1, false },			/* cut short */
		{ "\xe2\x82", 2, false },
		{ "\xc0\xaf", 2, false },		/* overlong '/' */
		{ "\xe0\x80\xaf", 3, false },
		{ "\xed\xa0\x80", 3, false },		/* a surrogate */
		{ "\xf4\x90\x80\x80", 4, false },	/* past U+10FFFF */
		{ "\xc3\x28", 2, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(http_is_text(cases[i].s, cases[i].n),
				 cases[i].text);
}

struct type_case {
	const char *ct;
	bool json;
};

static void json_types(void **state)
{
	static const struct type_case cases[] = {
		{ "application/json", true },
		{ "Application/JSON; charset=utf-8", true },
		{ "  application/json ;x=y", true },
		{ "application/problem+json", true },
		{ "application/vnd.api+JSON", true },
		{ "text/plain", false }, { "text/html; x=application/json", false },
		{ "application/jsonx", false }, { "application/json-seq", false },
		{ "+json", false }, { "application/x-ndjson", false },
		{ "", false }, { NULL, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(http_type_is_json(cases[i].ct), cases[i].json);
}

#define T(f) cmocka_unit_test_setup(f, srv_reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(get_json),
		T(error_statuses),
		T(redirect_last_headers),
		T(redirect_not_followed),
		T(interim_response),
		T(redirect_methods),
		T(redirect_limits),
		T(body_cap),
		T(announced_too_big),
		T(too_many_response_headers),
		T(methods_and_bodies),
		T(binary_body),
		T(large_request_body),
		T(custom_headers),
		T(header_count),
		T(refused_requests),
		T(accepted_edges),
		T(timeout_hang),
		T(cancel_midway),
		T(cancel_at_once_and_never),
		T(connection_refused),
		T(host_unknown),
		T(release_null_safe),
		T(uri_expand),
		T(uri_expand_refused),
		T(uri_query),
		T(uri_query_refused),
		T(base64),
		T(utf8_text),
		T(json_types),
	};
	int rc;

	/* The calls go to 127.0.0.1 directly, whatever the environment. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	if (http_init() != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, server_start, server_stop);
	curl_global_cleanup();
	return rc;
}
