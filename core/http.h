/*
 * http.h - one HTTP request for an HTTP_CALL task, through libcurl: http
 * and https only, redirects followed when asked (at most HTTP_REDIRECTS,
 * same protocols), a whole-call timeout, a cap on the response body, and
 * a cancel check polled while the transfer runs (http.c); and the pure
 * text of a call (http_uri.c): the URI from its template and query, and
 * the forms of a response body.
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
#define HTTP_URI_MAX (64u << 10)	/* a built URI, bytes */
#define HTTP_REASON_MAX 64		/* a status line's reason phrase */

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
	bool redirect;			/* follow 3xx answers (at most
					   HTTP_REDIRECTS); false: the 3xx
					   is the response */
	/* Polled about every 100 ms while the call runs, on the calling
	 * thread; true aborts it.  NULL: never cancelled. */
	bool (*cancelled)(void *ctx);
	void *ctx;
};

struct http_resp {
	long status;			/* HTTP status of the last response */
	char reason[HTTP_REASON_MAX];	/* its reason phrase ("Not Found");
					   "" when it has none (HTTP/2) */
	struct doc *headers;		/* map: lowercase name -> value (the
					   last response's; a repeated name's
					   values joined by ", ") */
	struct buf body;		/* at most HTTP_BODY_MAX bytes, may
					   hold NULs (use len) */
};

/** http_init() - curl_global_init(), once.  Return: 0; -EIO. */
int http_init(void);

/**
 * http_call() - perform @q; *out is filled even for a 3xx/4xx/5xx status.
 * Redirects (q->redirect): a 301/302/303 turns a POST into a GET without body (as
 * browsers do); PUT, PATCH, DELETE and GET keep their method and body.
 * Return: 0 (any HTTP status), *out then owned by the caller (free with
 * http_resp_release()); on failure *out is untouched.
 * -EINVAL (bad method, header, timeout, URL or scheme: nothing sent; or
 * a redirect to another scheme); -ECANCELED (q->cancelled said so);
 * -ETIMEDOUT; -EFBIG (body over HTTP_BODY_MAX); -EMSGSIZE (a response
 * with more than HTTP_RESP_HEADERS_MAX header lines, or one name's values
 * joined past HTTP_BODY_MAX); -ECONNREFUSED (connect failed);
 * -EHOSTUNREACH (name not resolved); -EIO (other transfer failures, too
 * many redirects, TLS); -ENOMEM.  e->msg says what failed: never the
 * body, nor the URL (it may hold a token); curl's own text may name the
 * host.
 */
int http_call(const struct http_req *q, struct http_resp *out,
	      struct err *e);

/** http_resp_release() - free what http_call() filled; NULL-safe. */
void http_resp_release(struct http_resp *r);

/*
 * The functions below (http_uri.c) are pure and safe from any thread.
 * The @out of http_uri_expand() and http_uri_query() is an empty buffer
 * whose cap bounds the result; on failure it is released (empty again)
 * and e->msg says why.
 */

/**
 * http_uri_expand() - @tpl with each RFC 6570 simple string expansion
 * `{name}` (or `{a,b}`: the defined values joined by ',') replaced by the
 * top-level member @name of @vars (a map; anything else has no members),
 * percent-encoded as http_pct_encode() does; a missing or null member
 * expands to nothing.  Runtime expressions `${ ... }` are copied whole,
 * braces inside them untouched; a brace that starts no simple expression
 * (an operator such as `{+x}`, a blank) is copied as it is.
 * Return: 0; -EINVAL (a member is a map or a list: e->msg names it, not
 * its value); -EFBIG (past out's cap); -ENOMEM.
 */
int http_uri_expand(const char *tpl, const struct doc *vars, struct buf *out,
		    struct err *e);

/**
 * http_uri_query() - @uri with @query's members appended as its query,
 * "key=value" each, both percent-encoded, after '?' (or '&' when @uri has
 * a query already), before any '#fragment'; members in map order, a null
 * one left out.  @query: a map, or NULL / null for none.
 * Return: 0; -EINVAL (@query is not a map, or a member is a map or a
 * list: e->msg names it); -EFBIG; -ENOMEM.
 */
int http_uri_query(const char *uri, const struct doc *query, struct buf *out,
		   struct err *e);

/**
 * http_pct_encode() - append @n bytes of @s to @out, every byte but the
 * RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX (upper case).
 * Return: 0; -EFBIG; -ENOMEM (@out then holds a part).
 */
int http_pct_encode(struct buf *out, const char *s, size_t n);

/**
 * http_base64() - append the standard base64 (RFC 4648, padded) of @n
 * bytes at @p to @out.  Return: 0; -EFBIG; -ENOMEM (@out then holds a
 * part).
 */
int http_base64(const void *p, size_t n, struct buf *out);

/**
 * http_is_text() - whether @n bytes at @p are valid UTF-8 (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF) without NUL.
 */
bool http_is_text(const void *p, size_t n);

/**
 * http_type_is_json() - whether Content-Type value @ct (NULL: none) names
 * JSON: application/json or a +json type (application/problem+json),
 * any case, parameters ignored.
 */
bool http_type_is_json(const char *ct);

#endif
