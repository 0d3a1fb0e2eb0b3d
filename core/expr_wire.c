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
#include <unistd.h>

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

int expr_wire_send_fd(int fd, const struct expr_hdr *h, int pass)
{
	union {
		struct cmsghdr c;
		char room[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {(void *)h, sizeof(*h)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	ssize_t n;

	if (h->len)
		return -EINVAL;
	if (pass >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.room;
		m.msg_controllen = sizeof(u.room);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* a header is far below a socket's buffer: never cut */
	return n == (ssize_t)sizeof(*h) ? 0 : -EIO;
}

/* The descriptor @m carries, or -1; any other it carries is closed. */
static int passed_fd(struct msghdr *m)
{
	struct cmsghdr *c;
	int fd = -1, one;
	size_t k, n;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < n; k++) {
			memcpy(&one, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = one;
			else
				close(one);
		}
	}
	return fd;
}

int expr_wire_recv_hdr(int fd, struct expr_hdr *h, int *passed)
{
	union {
		struct cmsghdr c;
		char room[CMSG_SPACE(2 * sizeof(int))];
	} u;
	struct iovec iov;
	struct msghdr m;
	size_t got = 0;
	ssize_t n;
	int one;

	*passed = -1;
	while (got < sizeof(*h)) {
		iov = (struct iovec){(char *)h + got, sizeof(*h) - got};
		m = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = u.room,
				    .msg_controllen = sizeof(u.room)};
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		one = passed_fd(&m);
		if (one >= 0 && *passed < 0)
			*passed = one;
		else if (one >= 0)
			close(one);
		got += (size_t)n;
	}
	if (got == sizeof(*h))
		return 0;
	if (*passed >= 0)
		close(*passed);
	*passed = -1;
	return n < 0 ? -errno : -EPIPE;
}
