/*
 * plane_i.h - internals shared by the files of the plane module (plane.c,
 * pipeline.c, steps*.c, secrets.c, render.c, errlog.c).  Nothing outside
 * core/plane*.c, core/pipeline.c, core/steps*.c, core/secrets.c,
 * core/render.c and core/errlog.c includes it, except the module's unit
 * test (tests/unit/test_plane.c), which checks sealed blobs through it.
 */
#ifndef EXECFS_PLANE_I_H
#define EXECFS_PLANE_I_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../crypt/seal.h"
#include "doc.h"
#include "plane.h"
#include "store.h"

#define PLANE_DOC_MAX (1u << 20)	/* a written document, bytes */
#define PLANE_RETRIES 16		/* pipeline runs when races are lost */
#define PLANE_CHANGES_MAX 8		/* records one pipeline may write */

#define PLANE_ACTORS 16			/* user names remembered */

struct render_cache;
struct errlog;
struct runner;
struct streams;

/* A caller's user name, for audit fields. */
struct actor {
	uid_t uid;
	bool used;
	char name[64];
};

struct plane {
	struct store *st;
	struct keyring *kr;
	struct plane_limits limits;
	struct render_cache *cache;
	struct errlog *errs;
	plane_notify_fn notify;		/* set once before serving */
	void *notify_ctx;
	char state_dir[PATH_MAX];
	struct streams *streams;	/* logs and events of executions */
	struct runner *runner;
	_Atomic bool closing;		/* plane_close() has begun */
	bool hold_runs;			/* plane_opts.hold_runs */
	/* User names are looked up once per uid (NSS reads files on every
	 * call); a name changed while the daemon runs shows up after a
	 * restart. */
	plane_audit_fn audit_sink;	/* set once before serving */
	void *audit_ctx;
	pthread_mutex_t actors_mu;
	struct actor actors[PLANE_ACTORS];	/* protected by actors_mu */
	size_t actors_next;			/* protected by actors_mu */

	/* Deny lines per user, rate-limited (plane_audit.c). */
	pthread_mutex_t deny_mu;
	struct deny_rate {
		uid_t uid;
		bool used;
		double tokens;
		int64_t at_ns;
		uint64_t dropped;
	} deny[PLANE_ACTORS];			/* protected by deny_mu */

	/* Who may do what (access.c, plane_attr.c). */
	uid_t uid;				/* the daemon's user */
	gid_t gid;
	gid_t operators;			/* PLANE_NO_GROUP: none */
	pthread_mutex_t dirs_mu;
	pthread_mutex_t dirs_wmu;		/* one writer of dirs at a
						   time, across its commit */
	struct plane_dir dirs[KIND_COUNT];	/* protected by dirs_mu */
};

/* One record a pipeline will write, and what to tell fs/ afterwards. */
struct pchange {
	struct store_change ch;
	struct buf body;
	enum plane_change what;
};

/* The state a pipeline's steps share (Stigmer's RequestContext). */
struct pctx {
	struct plane *p;
	const struct kind *k;
	const struct plane_caller *caller;
	enum plane_write_mode mode;
	const char *name;		/* file name, slug or draft name */
	const char *text;		/* the document as written */
	size_t len;
	char actor[64];			/* the caller's user name */
	int64_t now_ns;
	char now[40];			/* now as RFC 3339 text */

	struct doc *parsed;		/* yaml_parse() of text */
	struct doc *res;		/* the new state being built */
	struct doc *old;		/* the stored resource, when it exists */
	struct store_rec old_hdr;
	bool exists;
	char slug[SLUG_MAX + 1];
	char id[IDS_ID_MAX];
	bool gen_name;			/* execution named after its workflow */
	char wf_slug[SLUG_MAX + 1];	/* the workflow an execution runs */
	struct store_rec hdr;		/* header of the record being written */
	struct buf masked;		/* text with secret values as "***" */
	bool masked_done;		/* masked is final: MaskSource ran
					   early (ctx_move_secrets) */

	struct pchange changes[PLANE_CHANGES_MAX];
	size_t nchanges;
	bool lost_race;			/* the commit found the store moved on */
	bool run_after;			/* a new execution written here starts
					   its run (pctx_starts_run) */
	struct err *e;
};

typedef int (*step_fn)(struct pctx *c);

struct step {
	const char *name;
	step_fn fn;
};

/* pipeline.c */
void pctx_init(struct pctx *c, struct plane *p, const struct kind *k,
	       const struct plane_caller *caller, struct err *e);
void pctx_release(struct pctx *c);
int pipeline_run(struct pctx *c, const struct step *steps);
int pctx_add_change(struct pctx *c, enum store_op op,
		    const struct store_rec *hdr, const struct doc *res,
		    const struct buf *src, uint64_t expect_gen,
		    enum plane_change what);
/* Commit the change set; a failed precondition (another writer got there
 * first) sets c->lost_race, so the caller may run the pipeline again. */
int pctx_commit(struct pctx *c);
void pctx_notify(struct pctx *c);
/* Whether @c creates an execution whose run starts once it is committed
 * (its "run" audit line is in that commit). */
bool pctx_starts_run(const struct pctx *c);

/* steps.c: the pipelines (write = create/update/apply, delete). */
int steps_write(struct pctx *c);
int steps_delete(struct pctx *c);
/* metadata, spec and status fields in their messages' order */
int res_order(const struct kind *k, struct doc *res);

/* steps_kind.c: each kind's own steps, run inside those pipelines. */
struct kind_steps {
	const struct step *front;	/* after validation, before the slug */
	const struct step *create;	/* after BuildNewState */
	const struct step *update;	/* after BuildUpdateState */
	const struct step *del;		/* after LoadExistingForDelete */
};
const struct kind_steps *kind_steps(const struct kind *k);

/* steps_tasks.c: ValidateWorkflowSpec (task configs per kind, at every
 * level; nested tasks rewritten to the top-level form in c->res). */
int wf_validate_tasks(struct pctx *c);

/*
 * steps_expr.c: the templates of a Workflow, collected while its tasks are
 * checked and compiled together by texpr_check().  The texts and variable
 * names are borrowed: they must stay valid (c->res unchanged below them)
 * until texpr_check() returns.  Errors: -EBADMSG with the message in @e,
 * -ENOMEM.
 */
#define TEXPR_MAX 1000		/* templates in one Workflow */
#define TEXPR_PATH_MAX 640	/* a field path in a message, bytes */

struct texprs;
int texpr_new(struct texprs **out);
void texpr_free(struct texprs *x);		/* NULL-safe */
/* The scope as it is now, for texpr_pop(). */
size_t texpr_scope(const struct texprs *x);
/* Put variable @name (no '$') in scope; @path names the field for the
 * message when more than EXPR_VARS_MAX would be. */
int texpr_push(struct texprs *x, const char *name, const char *path,
	       struct err *e);
void texpr_pop(struct texprs *x, size_t mark);
/* Collect @v (may be NULL) when it is a template; @deep: every string
 * below @v too, each named by its own path under @path. */
int texpr_add(struct texprs *x, const struct doc *v, const char *path,
	      bool deep, struct err *e);
/* Compile them all: -EBADMSG "<path>: expression does not compile: ..." */
int texpr_check(const struct texprs *x, struct err *e);

/* steps_kind.c: helpers the kind steps share. */
struct doc *res_audit_new(const char *actor, const char *now, const char *event);
int build_default_instance(struct pctx *c, const struct doc *wf,
			   const char *wf_id, struct store_rec *out);

/* records.c: the record body (resource + masked source) in the store. */
int record_encode(const struct doc *res, const struct buf *src,
		  struct buf *out);
int record_decode(const struct buf *body, struct doc **res, char **src,
		  size_t *srclen);
int record_load(struct plane *p, const char *id, struct store_rec *hdr,
		struct doc **res);
int record_load_src(struct plane *p, const char *id, struct store_rec *hdr,
		    struct doc **res, struct buf *src);
int record_load_slug(struct plane *p, unsigned kind, const char *slug,
		     struct store_rec *hdr, struct doc **res);
/* resolve a reference (id or slug) of @kind; ENOENT "<Kind> not found: x" */
int record_resolve(struct plane *p, const struct kind *k, const char *ref,
		   struct store_rec *hdr, struct doc **res, struct err *e);
void plane_res_from_hdr(struct plane_res *r, const struct store_rec *h);
/* @fn on every stored resource of @kind, in slug order, each loaded (one
 * deleted meanwhile is skipped); @fn may change the store.  Return: 0,
 * @fn's first non-zero value, -errno. */
int record_each(struct plane *p, enum kind_id kind,
		int (*fn)(void *ctx, const struct store_rec *h,
			  const struct doc *res),
		void *ctx);

/* secrets.c */
int secrets_seal(struct pctx *c);
int secrets_mask_source(struct pctx *c);
void doc_wipe_free(struct doc *d);

/* render.c */
int render_cache_new(struct render_cache **out);
void render_cache_free(struct render_cache *rc);
/* Forget the views of @serial, whose record was deleted: serials are never
 * reused, so they would only wait for another serial to take their slot
 * (rm -r stats every file first: 300 executions removed left 1.3 MB).  A
 * render that read the record before the delete may still keep its views
 * afterwards; the slot is then reused as before. */
void render_cache_drop(struct render_cache *rc, uint64_t serial);
int render_view(struct plane *p, uint64_t serial, enum plane_view v,
		struct plane_blob **out);

/* errlog.c */
int errlog_new(struct errlog **out);
void errlog_free(struct errlog *el);
void errlog_add(struct errlog *el, uid_t uid, const char *line);
int errlog_read(struct errlog *el, uid_t uid, struct buf *out);

/* plane_run.c: the child execution of a RUN workflow task, created (not
 * started) with @input_json as its triggerMessage; @parent and @task go
 * into its triggerMetadata.  @who is the parent's creator, groups
 * included: it needs x on the workflow, and the child is its. */
int plane_run_child(struct plane *p, const struct plane_caller *who,
		    const char *wf_ref, const char *input_json,
		    const char *parent, const char *task, struct plane_res *out,
		    struct err *e);

/* pipeline.c: the user name of @uid (cached), or "uid-N". */
void plane_actor(struct plane *p, uid_t uid, char *out, size_t cap);

/* plane_audit.c: the audit log's lines (DESIGN 1.8). */
struct audit_src;
/* The line for change @pc of @c, into @line, and the STORE_AUDIT change
 * that writes it (borrowing @line) into @out.  Return: 0, buf errors. */
int plane_audit_change(struct pctx *c, const struct pchange *pc,
		       struct buf *line, struct store_change *out);
/* The "run" line of the execution @c creates, likewise. */
int plane_audit_run(struct pctx *c, struct buf *line,
		    struct store_change *out);
/* Hand a committed line to the audit sink (syslog). */
void plane_audit_copy(struct plane *p, const struct buf *line);
/* A line in a commit of its own: a refusal (@result < 0, @reason), a
 * sub-workflow's run, cancel, or use-secrets (@src).  @c NULL: the daemon (pid 0).  Failures
 * are logged. */
void plane_audit_event(struct plane *p, const struct plane_caller *c,
		       const char *verb, enum kind_id kind, const char *name,
		       const char *id, int result, const char *reason,
		       const struct audit_src *src, size_t nsrc);

/* plane_attr.c: the kind directories' attributes, from the store. */
int plane_dirs_load(struct plane *p, struct err *e);
/* access.c: whether @c's primary or a supplementary group is @g. */
bool plane_in_group(const struct plane_caller *c, gid_t g);
/* plane_streams.c: COMPLETED, FAILED or CANCELLED (NULL: not). */
bool plane_phase_ended(const char *phase);
/* plane.c: control bytes of @s as '?', so a message stays one line. */
void plane_one_line(char *s);
/* access.c: -EACCES with "permission denied: ..." in @e unless @c may
 * @want (PLANE_MAY_*) on record @h (a resource of its kind). */
int plane_check(struct plane *p, const struct plane_caller *c,
		const struct store_rec *h, unsigned want, struct err *e);
/* -EACCES unless @c may create in @kind's directory. */
int plane_check_create(struct plane *p, const struct plane_caller *c,
		       enum kind_id kind, struct err *e);
/* -EACCES unless @c may delete record @h: w on it, or w on its kind's
 * directory when that has no sticky bit. */
int plane_check_delete(struct plane *p, const struct plane_caller *c,
		       const struct store_rec *h, struct err *e);
/* The owner fields a record of @c gets at create (mode 0750). */
void plane_owner_of(const struct plane *p, const struct plane_caller *c,
		    struct store_rec *h);

/* The line of a chmod or chown of @h by @c (@owner "uid:gid" or NULL,
 * @mode "0750" or NULL), appended to @line.  Return: 0, buf errors. */
int plane_audit_attr(struct plane *p, const struct plane_caller *c,
		     const struct store_rec *h, const char *verb,
		     const char *owner, const char *mode, struct buf *line);

/* time helpers (pipeline.c) */
void plane_now(int64_t *ns, char *text, size_t cap);
void plane_fmt_time(int64_t ns, char *text, size_t cap);

#endif
