/*
 * plane_streams.c - the plane calls behind an execution's growing files
 * and its ctl file: stream size, reads and the done state (DESIGN 1.6),
 * and the cancel command (DESIGN 1.5).
 */
#include "run_i.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

void plane_set_stream_notify(struct plane *p, plane_stream_fn fn, void *ctx)
{
	streams_set_notify(p->streams, fn, ctx);
}

/* The execution @serial: its header and phase (NULL when unknown). */
static int exec_phase(struct plane *p, uint64_t serial, struct store_rec *h,
		      char *phase, size_t cap)
{
	struct doc *res = NULL;
	const char *ph;
	int rc;

	rc = store_get_serial(p->st, serial, h, NULL);
	if (rc == 0 && h->kind != KIND_WORKFLOW_EXECUTION)
		rc = -ENOENT;
	if (rc == 0)
		rc = record_load(p, h->id, h, &res);
	if (rc < 0)
		return rc;
	ph = doc_get_str(res, "status.phase");
	snprintf(phase, cap, "%s", ph ? ph : "");
	doc_free(res);
	return 0;
}

bool plane_phase_ended(const char *phase)
{
	return phase && (!strcmp(phase, "COMPLETED") ||
			 !strcmp(phase, "FAILED") ||
			 !strcmp(phase, "CANCELLED"));
}

int plane_stream_stat(struct plane *p, uint64_t serial, enum plane_stream s,
		      struct plane_stream_stat *out)
{
	struct store_rec h;
	char phase[32];
	bool live;
	int rc;

	rc = streams_stat(p->streams, serial, s, &out->size, &out->mtime,
			  &live);
	if (rc < 0)
		return rc;
	if (live && !p->closing) {
		out->done = false;
		return 0;
	}
	rc = exec_phase(p, serial, &h, phase, sizeof(phase));
	if (rc < 0)
		return rc;
	out->done = p->closing || plane_phase_ended(phase);
	if (!out->mtime.tv_sec && !out->mtime.tv_nsec) {
		out->mtime.tv_sec = (time_t)(h.mtime_ns / 1000000000);
		out->mtime.tv_nsec = (long)(h.mtime_ns % 1000000000);
	}
	return 0;
}

ssize_t plane_stream_read(struct plane *p, uint64_t serial,
			  enum plane_stream s, uint64_t off, size_t size,
			  struct buf *out)
{
	return streams_read(p->streams, serial, s, off, size, out);
}

/* @text without surrounding blanks is @word. */
static bool is_word(const char *text, size_t len, const char *word)
{
	size_t n = strlen(word);

	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	while (len && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	return len == n && !memcmp(text, word, n);
}

int plane_ctl(struct plane *p, const struct plane_caller *c, uint64_t serial,
	      const char *text, size_t len, struct err *e)
{
	struct store_rec h;
	char phase[32];
	int rc;

	if (!is_word(text, len, "cancel"))
		return err_set(e, -EINVAL, "unknown command (known: cancel)");
	rc = exec_phase(p, serial, &h, phase, sizeof(phase));
	if (rc < 0)
		return err_set(e, rc, "no such execution");
	rc = plane_check(p, c, &h, PLANE_MAY_WRITE, e);
	if (rc < 0)
		return rc;
	if (plane_phase_ended(phase))
		return err_set(e, -EINVAL, "the run has already ended (%s)",
			       phase);
	if (runner_cancel(p->runner, serial) == 0) {
		plane_audit_event(p, c, "cancel", KIND_WORKFLOW_EXECUTION,
				  h.slug, h.id, 0, NULL, NULL, 0);
		return 0;
	}
	return err_set(e, -EINVAL, "the run is not going (%s)", phase);
}
