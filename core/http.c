/*
 * http.c - one HTTP request for an HTTP_CALL task, through libcurl: an
 * easy handle per call, run by a multi handle of its own (see perform()).
 *
 * Everything the caller gives is checked before a handle exists: the
 * method, the header lines, the timeout, and the URL, which is parsed with
 * curl's own URL parser so the scheme and host seen here are the ones the
 * transfer uses (the parsed handle is given to the transfer, not the text).
 * The transfer itself is restricted to http and https, redirects included,
 * so a server cannot send it to file:// or anywhere else.
 *
 * Three callbacks run while the transfer runs: the header callback
 * rebuilds the header map at each status line, so after redirects (and
 * 1xx interim responses) only the last response's headers (and reason
 * phrase) remain, a repeated name's values joined as HTTP allows; the
 * write callback appends to a buffer capped at HTTP_BODY_MAX; the progress
 * callback asks the caller whether to stop.  A callback that refuses
 * records why in the call's state, and that errno wins over curl's code.
 *
 * libcurl codes never leave this file: http_errno() translates them.
 */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define HTTP_AGENT "execfs/0.1"
#define HTTP_CONNECT_MAX_S 30u	/* connect timeout when the call allows more */
#define HTTP_TIMEOUT_MAX_S 300u

/* One transfer's state, shared with the callbacks (one thread). */
struct call {
	const struct http_req *q;
	struct doc *headers;		/* map being built, lowercase names */
	size_t nheaders;		/* lines seen in the current response */
	struct buf body;
	char reason[HTTP_REASON_MAX];	/* the status line's reason phrase */
	int rc;				/* why a callback refused, or 0 */
	char errbuf[CURL_ERROR_SIZE];	/* curl's words for a failure */
};

/* ---- global initialization ---- */

/* curl_global_init() is not thread-safe and must run once per process:
 * pthread_once is the one place this module keeps state of its own. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_curl(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

int http_init(void)
{
	pthread_once(&init_once, init_curl);
	return init_rc;
}

/* ---- checking the request ---- */

static const char *const methods[] = { "GET", "POST", "PUT", "DELETE",
				       "PATCH" };

static bool method_ok(const char *m)
{
	size_t i;

	for (i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i]) == 0)
			return true;
	return false;
}

/* RFC 9110 token characters, the only ones a header name may hold. */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "Name: value": a token, a colon, and no CR or LF anywhere (a line
 * break would let a value smuggle in further headers or a request). */
static bool header_ok(const char *line)
{
	const char *colon = line ? strchr(line, ':') : NULL;
	const char *p;

	if (!colon || colon == line || strpbrk(line, "\r\n"))
		return false;
	for (p = line; p < colon; p++)
		if (!is_tchar((unsigned char)*p))
			return false;
	return true;
}

static int check_req(const struct http_req *q, struct err *e)
{
	size_t i;

	if (!method_ok(q->method))
		return err_set(e, -EINVAL, "HTTP method \"%s\" is not one of "
			       "GET, POST, PUT, DELETE, PATCH",
			       q->method ? q->method : "");
	if (q->timeout_s < 1 || q->timeout_s > HTTP_TIMEOUT_MAX_S)
		return err_set(e, -EINVAL, "HTTP timeout %u s is not in 1..%u",
			       q->timeout_s, HTTP_TIMEOUT_MAX_S);
	if (q->nheaders > HTTP_HEADERS_MAX)
		return err_set(e, -EINVAL, "%zu HTTP headers, at most %d",
			       q->nheaders, HTTP_HEADERS_MAX);
	for (i = 0; i < q->nheaders; i++)
		if (!header_ok(q->headers[i]))
			return err_set(e, -EINVAL, "HTTP header %zu is not a "
				       "\"Name: value\" line", i + 1);
	return 0;
}

/* Parse @url; only http and https with a host pass.  The message names
 * the scheme, never the URL: it may carry a token in its query. */
static int parse_url(const char *url, CURLU **out, struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	CURLUcode uc;
	int rc = 0;

	if (!u)
		return err_set(e, -ENOMEM, "out of memory");
	uc = curl_url_set(u, CURLUPART_URL, url ? url : "", 0);
	if (uc == CURLUE_OUT_OF_MEMORY)
		rc = err_set(e, -ENOMEM, "out of memory");
	else if (uc != CURLUE_OK)
		rc = err_set(e, -EINVAL, "bad URL: %s", curl_url_strerror(uc));
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		rc = err_set(e, -EINVAL, "bad URL: no scheme");
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = err_set(e, -EINVAL, "URL scheme \"%s\" is not allowed "
			     "(http or https only)", scheme);
	curl_free(scheme);
	if (rc < 0)
		curl_url_cleanup(u);
	else
		*out = u;
	return rc;
}

/* ---- request headers ---- */

static int add_line(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/*
 * The caller's lines, plus two removals ("Name:" with nothing after it
 * drops a header curl itself would add, never one the caller gave): no
 * "Expect: 100-continue" (a server that ignores it costs a second per
 * call), and no made-up form Content-Type on a body; the caller says
 * what the body is.
 */
static int build_headers(const struct http_req *q, struct curl_slist **out)
{
	struct curl_slist *list = NULL;
	size_t i;
	int rc = add_line(&list, "Expect:");

	for (i = 0; rc == 0 && i < q->nheaders; i++)
		rc = add_line(&list, q->headers[i]);
	if (rc == 0)
		rc = add_line(&list, "Content-Type:");
	if (rc < 0) {
		curl_slist_free_all(list);
		return rc;
	}
	*out = list;
	return 0;
}

/* ---- callbacks ---- */

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The reason phrase of status line @p ("HTTP/1.1 404 Not Found\r\n"):
 * what follows the code, printable ASCII only, cut to fit. */
static void keep_reason(struct call *c, const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n), *r;
	size_t k = 0;

	r = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - p)) : NULL;
	for (r = r ? r + 1 : p + n; r < p + n && k < sizeof(c->reason) - 1;
	     r++)
		if (*r >= ' ' && *r <= '~')
			c->reason[k++] = *r;
	while (k && c->reason[k - 1] == ' ')
		k--;
	c->reason[k] = '\0';
}

/* A status line starts a response: forget the previous one's headers
 * and body (a redirect or a 1xx response before the final one). */
static int start_response(struct call *c, const char *p, size_t n)
{
	struct doc *m = doc_new(DOC_MAP);

	if (!m)
		return -ENOMEM;
	doc_free(c->headers);
	c->headers = m;
	c->nheaders = 0;
	buf_reset(&c->body);
	keep_reason(c, p, n);
	return 0;
}

/* Set header @name to @v (@n bytes); a name seen before gets ", " and
 * @v after its value (RFC 9110 5.3), within HTTP_BODY_MAX. */
static int set_resp_header(struct call *c, const char *name, const char *v,
			   size_t n)
{
	const struct doc *old = doc_map_get(c->headers, name);
	struct buf b = BUF_INIT(HTTP_BODY_MAX);
	int rc;

	if (!old)
		return doc_map_set(c->headers, name, doc_str(v, n));
	rc = buf_add(&b, old->u.s, old->n);
	if (rc == 0)
		rc = buf_add(&b, ", ", 2);
	if (rc == 0)
		rc = buf_add(&b, v, n);
	if (rc == 0)
		rc = doc_map_set(c->headers, name, doc_str(b.data, b.len));
	buf_release(&b);
	return rc == -EFBIG ? -EMSGSIZE : rc;
}

/* "Name: value" from the server; anything without a colon (the blank
 * line ending the head, a folded continuation) is skipped. */
static int add_resp_header(struct call *c, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	const char *v, *end = p + n;
	char *name;
	int rc;

	if (!colon || colon == p)
		return 0;
	if (++c->nheaders > HTTP_RESP_HEADERS_MAX)
		return -EMSGSIZE;
	for (v = colon + 1; v < end && is_blank(*v); v++)
		;
	while (end > v && is_blank(end[-1]))
		end--;
	name = strndup(p, (size_t)(colon - p));
	if (!name)
		return -ENOMEM;
	lowercase(name);
	rc = set_resp_header(c, name, v, (size_t)(end - v));
	free(name);
	return rc;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct call *c = ud;
	int rc;

	/* size is always 1 for headers; n is the whole line's length. */
	(void)size;
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		rc = start_response(c, p, n);
	else
		rc = add_resp_header(c, p, n);
	if (rc < 0) {
		c->rc = rc;
		return 0;	/* anything but n makes curl stop */
	}
	return n;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct call *c = ud;
	int rc = buf_add(&c->body, p, size * n);

	if (rc < 0) {
		c->rc = rc;
		return 0;
	}
	return size * n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct call *c = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (c->q->cancelled && c->q->cancelled(c->q->ctx)) {
		c->rc = -ECANCELED;
		return 1;
	}
	return 0;
}

/* ---- the transfer ---- */

/*
 * A body goes out with POSTFIELDS, which makes the request a POST; the
 * other methods name themselves with CUSTOMREQUEST.  POST is left to
 * curl so that a 301/302/303 answer turns it into a GET without a body,
 * as browsers do.  CUSTOMREQUEST sticks to every redirected request,
 * so for those methods POSTREDIR keeps the body with it: method and
 * body always travel together.  POST, PUT and PATCH without a body send
 * an empty one (Content-Length: 0), which servers expect.
 */
static int set_method(CURL *h, const struct http_req *q)
{
	bool post = strcmp(q->method, "POST") == 0;
	bool empty_ok = post || strcmp(q->method, "PUT") == 0 ||
			strcmp(q->method, "PATCH") == 0;
	const char *body = q->body ? q->body : (empty_ok ? "" : NULL);
	size_t len = q->body ? q->body_len : 0;
	int bad = 0;

	if (body) {
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t)len) != CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) !=
		       CURLE_OK;
	}
	if (!post && (body || strcmp(q->method, "GET") != 0)) {
		bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method) !=
		       CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_POSTREDIR,
					(long)CURL_REDIR_POST_ALL) != CURLE_OK;
	}
	return bad ? -EIO : 0;
}

static int set_limits(CURL *h, const struct http_req *q)
{
	long t = (long)q->timeout_s;
	long ct = t < (long)HTTP_CONNECT_MAX_S ? t : (long)HTTP_CONNECT_MAX_S;
	int bad = 0;

	/* The daemon has threads: no SIGALRM for DNS timeouts. */
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") !=
	       CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
				"http,https") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION,
				q->redirect ? 1L : 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)HTTP_REDIRECTS) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, t) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, ct) != CURLE_OK;
	/* Refuse early when Content-Length announces too much; the write
	 * callback still enforces the cap on bodies of unknown length. */
	bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
				(curl_off_t)HTTP_BODY_MAX) != CURLE_OK;
	return bad ? -EIO : 0;
}

static int set_io(CURL *h, struct call *c, CURLU *u, struct curl_slist *hl)
{
	int bad = 0;

	bad |= curl_easy_setopt(h, CURLOPT_CURLU, u) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, HTTP_AGENT) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, c) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, c) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, c) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
	return bad ? -EIO : 0;
}

/* A callback's refusal, in words. */
static int callback_err(const struct call *c, struct err *e)
{
	switch (c->rc) {
	case -ECANCELED:
		return err_set(e, c->rc, "HTTP request cancelled");
	case -EFBIG:
		return err_set(e, c->rc, "response body larger than %u MiB",
			       HTTP_BODY_MAX >> 20);
	case -EMSGSIZE:
		return err_set(e, c->rc, "response has more than %d headers"
			       " (or one name's values over %u MiB)",
			       HTTP_RESP_HEADERS_MAX, HTTP_BODY_MAX >> 20);
	default:
		return err_set(e, c->rc, "out of memory");
	}
}

/* Translate a failed transfer; curl's error buffer says what happened
 * (it never holds response data). */
static int http_errno(CURLcode cc, const struct call *c, struct err *e)
{
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);

	if (c->rc < 0)
		return callback_err(c, e);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(e, -ETIMEDOUT, "HTTP request timed out after "
			       "%u s: %s", c->q->timeout_s, why);
	case CURLE_FILESIZE_EXCEEDED:
		return err_set(e, -EFBIG, "response body larger than %u MiB",
			       HTTP_BODY_MAX >> 20);
	case CURLE_COULDNT_CONNECT:
		return err_set(e, -ECONNREFUSED, "HTTP connect failed: %s",
			       why);
	case CURLE_COULDNT_RESOLVE_HOST:
		return err_set(e, -EHOSTUNREACH, "HTTP host unknown: %s", why);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return err_set(e, -EINVAL, "HTTP URL refused: %s", why);
	case CURLE_OUT_OF_MEMORY:
		return err_set(e, -ENOMEM, "out of memory");
	default:
		return err_set(e, -EIO, "HTTP request failed: %s", why);
	}
}

/*
 * Run the transfer.  curl_easy_perform() would do, but when nothing moves
 * it sleeps up to a second between progress calls, and so between cancel
 * checks; a multi handle of our own, woken at least every 100 ms, keeps
 * the check that frequent (each wake runs the progress callback).
 */
static CURLcode perform(CURL *h)
{
	CURLM *m = curl_multi_init();
	CURLcode cc = CURLE_OUT_OF_MEMORY;
	CURLMcode mc = CURLM_OK;
	CURLMsg *msg;
	int running = 1, left;

	if (!m || curl_multi_add_handle(m, h) != CURLM_OK)
		goto out;
	while (running && mc == CURLM_OK) {
		mc = curl_multi_perform(m, &running);
		if (running && mc == CURLM_OK)
			mc = curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	msg = curl_multi_info_read(m, &left);
	if (msg && msg->msg == CURLMSG_DONE)
		cc = msg->data.result;
	else if (mc != CURLM_OUT_OF_MEMORY)
		cc = CURLE_FAILED_INIT;
	curl_multi_remove_handle(m, h);
out:
	curl_multi_cleanup(m);
	return cc;
}

/* Set up @h for @q and run it; the response stays in @c. */
static int transfer(CURL *h, struct call *c, CURLU *u, struct err *e)
{
	struct curl_slist *hl = NULL;
	CURLcode cc;
	int rc;

	rc = build_headers(c->q, &hl);
	if (rc < 0) {
		rc = err_set(e, rc, "out of memory");
		goto out;
	}
	if (set_limits(h, c->q) < 0 || set_method(h, c->q) < 0 ||
	    set_io(h, c, u, hl) < 0) {
		rc = err_set(e, -EIO, "libcurl refused an option");
		goto out;
	}
	cc = perform(h);
	if (cc != CURLE_OK)
		rc = http_errno(cc, c, e);
out:
	curl_slist_free_all(hl);
	return rc;
}

int http_call(const struct http_req *q, struct http_resp *out, struct err *e)
{
	struct call c = { .q = q, .body = BUF_INIT(HTTP_BODY_MAX) };
	CURLU *u = NULL;
	CURL *h = NULL;
	long status = 0;
	int rc;

	rc = http_init();
	if (rc < 0) {
		rc = err_set(e, rc, "libcurl failed to initialize");
		goto out;
	}
	rc = check_req(q, e);
	if (rc == 0)
		rc = parse_url(q->url, &u, e);
	if (rc < 0)
		goto out;
	c.headers = doc_new(DOC_MAP);
	h = curl_easy_init();
	if (!c.headers || !h) {
		rc = err_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	rc = transfer(h, &c, u, e);
	if (rc < 0)
		goto out;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	out->status = status;
	memcpy(out->reason, c.reason, sizeof(out->reason));
	out->headers = c.headers;
	out->body = c.body;
	c.headers = NULL;
	buf_init(&c.body, HTTP_BODY_MAX);
out:
	curl_easy_cleanup(h);
	curl_url_cleanup(u);
	doc_free(c.headers);
	buf_release(&c.body);
	return rc;
}

void http_resp_release(struct http_resp *r)
{
	if (!r)
		return;
	doc_free(r->headers);
	r->headers = NULL;
	buf_release(&r->body);
	r->status = 0;
	r->reason[0] = '\0';
}
