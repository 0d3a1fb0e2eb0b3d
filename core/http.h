/*
 * http.h - one HTTP request for an HTTP_CALL task, through libcurl: http
 * and https only, redirects followed (at most HTTP_REDIRECTS, same
 * protocols), a whole-call timeout, a cap on the response body, and a
 * cancel check polled while the transfer runs.
 *
 * Thread rules: http_init() once before any call (plane_open does it;
 * http_call() also calls it, so a forgotten one is harmless); then
 * http_call() is safe from any thread (its own curl handles per call).
 * The process calls curl_global_cleanup() at most once, at exit.
 */
#ifndef EXECFS_HTTP_H
#define EXECFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "doc.h"
#include "err.h"

#define HTTP_REDIRECTS 5
#define HTTP_BODY_MAX (1u << 20)	/* response body kept, bytes */
#define HTTP_HEADERS_MAX 64		/* request headers */
#define HTTP_RESP_HEADERS_MAX 200	/* header lines in one response */

/* Borrowed by http_call() for the length of the call. */
struct http_req {
	const char *method;		/* GET, POST, PUT, DELETE, PATCH
					   (exactly so: upper case) */
	const char *url;		/* http:// or https:// with a host */
	const char *const *headers;	/* "Name: value" lines: Name a token,
					   no CR or LF anywhere; at most
					   HTTP_HEADERS_MAX.  No Content-Type
					   is added: give one with a body */
	size_t nheaders;
	const char *body;		/* NULL: no body (POST, PUT, PATCH
					   then send an empty one) */
	size_t body_len;
	unsigned timeout_s;		/* whole call, 1..300 */
	/* Polled about every 100 ms while the call runs, on the calling
	 * thread; true aborts it.  NULL: never cancelled. */
	bool (*cancelled)(void *ctx);
	void *ctx;
};

struct http_resp {
	long status;			/* HTTP status of the last response */
	struct doc *headers;		/* map: lowercase name -> value (the
					   last response's; a repeated name
					   keeps its last value) */
	struct buf body;		/* at most HTTP_BODY_MAX bytes, may
					   hold NULs (use len) */
};

/** http_init() - curl_global_init(), once.  Return: 0; -EIO. */
int http_init(void);

/**
 * http_call() - perform @q; *out is filled even for a 4xx/5xx status.
 * Redirects: a 301/302/303 turns a POST into a GET without body (as
 * browsers do); PUT, PATCH, DELETE and GET keep their method and body.
 * Return: 0 (any HTTP status), *out then owned by the caller (free with
 * http_resp_release()); on failure *out is untouched.
 * -EINVAL (bad method, header, timeout, URL or scheme: nothing sent; or
 * a redirect to another scheme); -ECANCELED (q->cancelled said so);
 * -ETIMEDOUT; -EFBIG (body over HTTP_BODY_MAX); -EMSGSIZE (a response
 * with more than HTTP_RESP_HEADERS_MAX header lines); -ECONNREFUSED (connect failed);
 * -EHOSTUNREACH (name not resolved); -EIO (other transfer failures, too
 * many redirects, TLS); -ENOMEM.  e->msg says what failed: never the
 * body, nor the URL (it may hold a token); curl's own text may name the
 * host.
 */
int http_call(const struct http_req *q, struct http_resp *out,
	      struct err *e);

/** http_resp_release() - free what http_call() filled; NULL-safe. */
void http_resp_release(struct http_resp *r);

#endif
