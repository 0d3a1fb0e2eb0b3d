/*
 * commit.c - one document to the plane (commit.h): plane_write(), the
 * errors line on failure, and the tree's follow-up on success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit.h"
#include "crypt/seal.h"

int fs_target_set(struct fs_target *t, enum plane_write_mode mode,
		  enum kind_id kind, const char *name, uint64_t draft)
{
	size_t len = strlen(name);

	if (len >= sizeof(t->name))
		return -ENAMETOOLONG;
	memset(t, 0, sizeof(*t));
	t->mode = mode;
	t->kind = kind;
	memcpy(t->name, name, len + 1);
	t->draft = draft;
	return 0;
}

static bool has_suffix(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len > n && memcmp(s + len - n, suf, n) == 0;
}

bool fs_is_doc_name(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.' || name[0] == '#')
		return false;
	return has_suffix(name, len, ".yaml") || has_suffix(name, len, ".yml")
	       || has_suffix(name, len, ".json");
}

void fs_target_subject(const struct fs_target *t, char *out, size_t size)
{
	const struct kind *k = model_kind(t->kind);
	const char *dir = k ? k->dir : "?";
	int n;

	if (t->mode == PLANE_WRITE_NEW)
		n = snprintf(out, size, "%s/%s", dir, t->name);
	else if (t->mode == PLANE_WRITE_RUN)
		n = snprintf(out, size, "%s/%s/run", dir, t->name);
	else
		n = snprintf(out, size, "%s/%s/spec.yaml", dir, t->name);
	if (n < 0 || (size_t)n >= size)
		snprintf(out, size, "%s", dir);
}

/* The draft @t->draft became resource @r: its inodes now answer as it. */
static void draft_done(struct fs *fs, const struct fs_target *t,
		       const struct plane_res *r)
{
	struct node *d = tree_get(fs->tree, t->draft);
	struct node *spec;

	if (!d)
		return;
	if (tree_type(fs->tree, d, NULL) == NODE_DRAFT) {
		spec = tree_find(fs->tree, d->ino, "spec.yaml");
		if (spec) {
			tree_alias(fs->tree, spec, fs_res_ino(r->serial,
							      SLOT_SPEC));
			tree_put(fs->tree, spec);
		}
		tree_move_children(fs->tree, d->ino,
				   fs_res_ino(r->serial, SLOT_DIR));
		/* Draft names have entry timeout 0: the next lookup finds
		   the resource without an invalidation. */
		tree_alias(fs->tree, d, fs_res_ino(r->serial, SLOT_DIR));
	}
	tree_put(fs->tree, d);
}

int fs_commit(struct fs *fs, const struct plane_caller *c,
	      const struct fs_target *t, const char *text, size_t len,
	      struct plane_res *out)
{
	struct plane_res r;
	struct err e;
	char subject[NAME_MAX * 2 + 64];
	int rc;

	err_clear(&e);
	rc = plane_write(fs->plane, c, t->kind, t->mode, t->name, text, len,
			 &r, &e);
	if (rc < 0) {
		if (e.code == 0)
			err_set(&e, rc, "%s", strerror(-rc));
		fs_target_subject(t, subject, sizeof(subject));
		plane_reject(fs->plane, c, subject, &e);
		return rc;
	}
	if (t->mode == PLANE_WRITE_DRAFT)
		draft_done(fs, t, &r);
	if (out)
		*out = r;
	return 0;
}

int fs_reject_big(struct fs *fs, const struct plane_caller *c,
		  const struct fs_target *t)
{
	char subject[NAME_MAX * 2 + 64];
	struct err e;

	err_set(&e, -EFBIG, "document larger than %u bytes",
		FS_DOC_CAP - 1);
	fs_target_subject(t, subject, sizeof(subject));
	plane_reject(fs->plane, c, subject, &e);
	return -EFBIG;
}

int fs_commit_node(struct fs *fs, const struct plane_caller *c,
		   const struct fs_target *t,
		   struct node *n, struct plane_res *out)
{
	char *text = NULL;
	size_t len = 0;
	int rc = tree_copy(fs->tree, n, &text, &len);

	if (rc < 0)
		return rc;
	rc = fs_commit(fs, c, t, text, len, out);
	seal_wipe(text, len);
	free(text);
	return rc;
}

void fs_pending_done(struct fs *fs, struct node *n)
{
	/* Pending names have entry timeout 0: no invalidation needed. */
	tree_unlink(fs->tree, n, NULL, NULL);
}
