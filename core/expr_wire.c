/*
 * expr_wire.c - what crosses the socket between a run and its evaluator
 * process: frames (a fixed header, then the payload) and the JSON the
 * values travel as.  The JSON is jq's own except for the numbers JSON
 * cannot spell: a state holding YAML's .nan or .inf must reach jq as nan
 * and infinite, as it did when jq ran in the daemon.
 */
#include "expr_i.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <jq.h>

/* String @s (@n bytes) as a JSON string: jq escapes it (and mends bad
   UTF-8 the way the engine would). */
static int add_string(struct buf *out, const char *s, size_t n)
{
	jv v;
	int rc;

	if (n > INT_MAX)
		return -EFBIG;
	v = jv_dump_string(jv_string_sized(s, (int)n), 0);
	rc = buf_add(out, jv_string_value(v),
		     (size_t)jv_string_length_bytes(jv_copy(v)));
	jv_free(v);
	return rc;
}

/* A float's text as JSON jq reads back as the same double. */
static int add_float(struct buf *out, const char *text)
{
	double x = expr_float_value(text);

	if (isnan(x))
		return buf_addstr(out, "nan");
	if (isinf(x))
		return buf_addstr(out, x < 0 ? "-1e1000" : "1e1000");
	return buf_addf(out, "%.17g", x);
}

/* The items of list or map @d, between their brackets. */
static int add_children(const struct doc *d, int depth, struct buf *out)
{
	bool map = d->type == DOC_MAP;
	size_t k;
	int rc = buf_addstr(out, map ? "{" : "[");

	for (k = 0; k < d->n && !rc; k++) {
		if (k)
			rc = buf_addstr(out, ",");
		if (!rc && map)
			rc = add_string(out, d->u.kv[k].key,
					strlen(d->u.kv[k].key));
		if (!rc && map)
			rc = buf_addstr(out, ":");
		if (!rc)
			rc = expr_wire_dump(map ? d->u.kv[k].val
						: d->u.items[k],
					    depth + 1, out);
	}
	return rc ? rc : buf_addstr(out, map ? "}" : "]");
}

int expr_wire_dump(const struct doc *d, int depth, struct buf *out)
{
	if (!d)
		return -EINVAL;
	switch (d->type) {
	case DOC_NULL:
		return buf_addstr(out, "null");
	case DOC_BOOL:
		return buf_addstr(out, d->i ? "true" : "false");
	case DOC_INT:
		return buf_addf(out, "%" PRId64, d->i);
	case DOC_FLOAT:
		return add_float(out, d->u.s);
	case DOC_STR:
		return add_string(out, d->u.s, d->n);
	case DOC_SEALED: /* jq never sees a secret's ciphertext */
		return buf_addstr(out, "\"***\"");
	default:
		break;
	}
	if (depth >= DOC_DEPTH_MAX)
		return -EFBIG;
	return add_children(d, depth, out);
}

int expr_wire_send(int fd, const struct expr_hdr *h, const void *p)
{
	struct iovec iov[2] = {{(void *)h, sizeof(*h)}, {(void *)p, h->len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n;

	while (m.msg_iovlen) {
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* Step past what was written. */
		while (m.msg_iovlen && (size_t)n >= m.msg_iov[0].iov_len) {
			n -= (ssize_t)m.msg_iov[0].iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen) {
			m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + n;
			m.msg_iov[0].iov_len -= (size_t)n;
		}
	}
	return 0;
}
