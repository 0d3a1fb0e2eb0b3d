/*
 * rotate.c - key rotation: every sealed value of every record re-sealed
 * under a new master key, offline.
 *
 * Offline because it is then simple to make safe: the state directory's
 * lock keeps the daemon out, so no write can race the rotation and no run
 * holds a value sealed under the key being retired.  The steps:
 *
 *   1. open the old key file (it must exist) and the new one (created 0600
 *      if missing); a keyring seals with the new key and opens with both,
 *      so running the same rotation again after a crash is harmless;
 *   2. read every record (from the records themselves, not an index),
 *      re-seal each sealed value for the same (kind, id, field path) and
 *      encode the record again with its stored source text unchanged; a
 *      value that does not open, or a sealed value the model's secret
 *      walk does not reach, stops everything before any write;
 *   3. one store_commit() of all rewritten records plus the "keyid" note:
 *      one LMDB transaction, so a kill at any moment leaves all-old or
 *      all-new;
 *   4. compact data.mdb (store_compact()), so the old ciphertexts do not
 *      linger in freed pages for whoever later gets the old key.
 *
 * The plaintext never leaves crypt/ (reseal_value()).
 */
#include "rotate.h"
#include "plane_i.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ROTATE_NOTE "keyid"

struct rot {
	struct store *st;
	const struct keyring *kr;	/* seals new, opens old and new */
	uint32_t old_kid, new_kid;
	struct err *e;
	struct store_rec *hdrs;
	size_t nh, ah;
	struct store_change *ch;	/* bodies malloc'd, freed at the end */
	size_t nc, ac;
	size_t values;
	/* The record being re-sealed. */
	const struct store_rec *h;
	const struct kind *k;
	size_t done;
};

static int keep_hdr(void *ctx, const struct store_rec *h)
{
	struct rot *r = ctx;

	if (array_reserve(&r->hdrs, &r->ah, r->nh, sizeof(*r->hdrs)) < 0)
		return -ENOMEM;
	r->hdrs[r->nh++] = *h;
	return 0;
}

/* Sealed values anywhere below @d. */
static size_t count_sealed(const struct doc *d)
{
	size_t i, n = 0;

	if (d->type == DOC_SEALED)
		return 1;
	if (d->type == DOC_MAP)
		for (i = 0; i < d->n; i++)
			n += count_sealed(d->u.kv[i].val);
	if (d->type == DOC_LIST)
		for (i = 0; i < d->n; i++)
			n += count_sealed(d->u.items[i]);
	return n;
}

/* Why @blob at @path of the current record did not re-seal. */
static int reseal_fail(struct rot *r, const char *path, const struct doc *n,
		       int rc)
{
	uint32_t kid = 0;

	if (rc == -ENOKEY) {
		seal_blob_kid(n->u.s, n->n, &kid);
		return err_set(r->e, rc, "%s %s: %s is sealed under key id "
			       "%08" PRIx32 ", neither the old key (%08" PRIx32
			       ") nor the new (%08" PRIx32 "); nothing was "
			       "changed", r->k->name, r->h->id, path, kid,
			       r->old_kid, r->new_kid);
	}
	if (rc == -EBADMSG)
		return err_set(r->e, rc, "%s %s: %s does not open under the old "
			       "key (damaged, or sealed for another record); "
			       "nothing was changed", r->k->name, r->h->id,
			       path);
	return err_set(r->e, rc, "%s %s: %s: cannot re-seal: %s", r->k->name,
		       r->h->id, path, strerror(-rc));
}

/* model_for_each_secret() callback: re-seal one value in place. */
static int reseal_one(void *ctx, const char *path, struct doc *node)
{
	struct rot *r = ctx;
	struct seal_ad ad = { r->k->name, r->h->id, path };
	struct buf blob = BUF_INIT(SEAL_VALUE_MAX + 64);
	size_t n;
	char *s;
	int rc;

	if (node->type != DOC_SEALED)
		return 0;
	rc = reseal_value(r->kr, &ad, node->u.s, node->n, &blob);
	if (rc < 0) {
		rc = reseal_fail(r, path, node, rc);
		goto out;
	}
	s = buf_detach(&blob, &n);
	if (!s) {
		rc = err_set(r->e, -ENOMEM, "out of memory");
		goto out;
	}
	free(node->u.s);
	node->u.s = s;
	node->n = n;
	r->done++;
out:
	buf_release(&blob);
	return rc;
}

/* Queue the record @h with body @out (taken) for the one commit. */
static int add_change(struct rot *r, const struct store_rec *h,
		      struct buf *out)
{
	struct store_change *c;
	size_t n;
	char *body;

	if (array_reserve(&r->ch, &r->ac, r->nc, sizeof(*r->ch)) < 0)
		return err_set(r->e, -ENOMEM, "out of memory");
	body = buf_detach(out, &n);
	if (!body)
		return err_set(r->e, -ENOMEM, "out of memory");
	c = &r->ch[r->nc++];
	memset(c, 0, sizeof(*c));
	c->op = STORE_PUT;
	c->hdr = *h;
	c->body = body;
	c->len = n;
	c->expect_gen = h->gen;
	return 0;
}

/* Re-seal every value of the decoded record @res and queue it. */
static int rot_res(struct rot *r, const struct store_rec *h, struct doc *res,
		   const char *text, size_t tn)
{
	struct buf src = BUF_INIT(STORE_BODY_MAX);
	struct buf out = BUF_INIT(STORE_BODY_MAX);
	size_t sealed = count_sealed(res);
	int rc;

	if (sealed == 0)
		return 0;
	r->h = h;
	r->done = 0;
	rc = model_for_each_secret(r->k, res, reseal_one, r);
	if (rc == 0 && r->done != sealed)
		rc = err_set(r->e, -EBADMSG, "%s %s: %zu sealed value(s) "
			     "outside its secret fields; nothing was changed",
			     r->k->name, h->id, sealed - r->done);
	/* The source text is kept byte for byte: it holds "***" only. */
	if (rc == 0 && text && buf_add(&src, text, tn) < 0)
		rc = err_set(r->e, -ENOMEM, "out of memory");
	if (rc == 0 && record_encode(res, &src, &out) < 0)
		rc = err_set(r->e, -ENOMEM, "%s %s: cannot encode the record",
			     r->k->name, h->id);
	if (rc == 0)
		rc = add_change(r, h, &out);
	r->values += rc == 0 ? sealed : 0;
	buf_release(&src);
	buf_release(&out);
	return rc;
}

static int rot_record(struct rot *r, const struct store_rec *h)
{
	struct buf body = BUF_INIT(STORE_BODY_MAX);
	struct doc *res = NULL;
	char *text = NULL;
	size_t tn = 0;
	int rc;

	r->k = model_kind((enum kind_id)h->kind);
	if (!r->k)
		return err_set(r->e, -EBADMSG, "record %s has unknown kind %u; "
			       "nothing was changed", h->id, h->kind);
	rc = store_get(r->st, h->id, NULL, &body);
	if (rc == 0)
		rc = record_decode(&body, &res, &text, &tn);
	if (rc < 0)
		rc = err_set(r->e, rc, "%s %s: cannot read the record: %s; "
			     "nothing was changed", r->k->name, h->id,
			     strerror(-rc));
	else
		rc = rot_res(r, h, res, text, tn);
	doc_free(res);
	free(text);
	buf_release(&body);
	return rc;
}

/* The "keyid" note: 4 bytes, big-endian.  -ENOENT when never set. */
static int note_get(struct store *st, uint32_t *kid)
{
	struct buf b = BUF_INIT(STORE_NOTE_MAX);
	const unsigned char *p;
	int rc = store_meta_get(st, ROTATE_NOTE, &b);

	if (rc == 0 && b.len != 4)
		rc = -EIO;
	if (rc == 0) {
		p = (const unsigned char *)b.data;
		*kid = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | (uint32_t)p[3];
	}
	buf_release(&b);
	return rc;
}

int rotate_check_key(struct store *st, const struct keyring *kr,
		     const char *key_file, struct err *e)
{
	uint32_t kid = 0;
	int rc = note_get(st, &kid);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return err_set(e, rc, "cannot read the store's key id");
	if (keyring_has(kr, kid))
		return 0;
	return err_set(e, -ENOKEY, "the secrets of this state directory are "
		       "sealed under key id %08" PRIx32 " (its last key "
		       "rotation), but key file '%s' holds key id %08" PRIx32
		       "; start execfs with -o key_file= naming the key the "
		       "store was rotated to", kid,
		       key_file ? key_file : "(default)", keyring_kid(kr));
}

/* Open both keys and the keyring that seals with the new one. */
static int rot_keys(const struct rotate_opts *o, struct keyring **old,
		    struct keyring **nw, struct keyring **both, struct err *e)
{
	int rc = keyring_open_existing(old, o->old_key_file, e);

	if (rc < 0)
		return err_prefix(e, "old key");
	rc = keyring_open(nw, o->new_key_file, e);
	if (rc < 0)
		return err_prefix(e, "new key");
	rc = keyring_join(both, *nw, *old);
	if (rc == -EEXIST)
		return err_set(e, rc, "'%s' and '%s' hold the same key (key id "
			       "%08" PRIx32 "); give a new key file",
			       o->old_key_file, o->new_key_file,
			       keyring_kid(*old));
	if (rc < 0)
		return err_set(e, rc, "cannot build the keyring: %s",
			       strerror(-rc));
	return 0;
}

/* Open the existing store; the daemon's lock refuses a second opener. */
static int rot_store(const struct rotate_opts *o, struct rot *r,
		     struct err *e)
{
	struct store_opts so = { o->state_dir, 0, (size_t)o->store_max, 0 };
	struct stat sb;
	uint32_t kid = 0;
	int rc;

	if (stat(o->state_dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return err_set(e, -ENOENT, "no state directory '%s'",
			       o->state_dir);
	rc = store_open(&r->st, &so, e);
	if (rc == -EBUSY)
		return err_prefix(e, "cannot rotate the key while the daemon "
				  "runs; unmount it first");
	if (rc < 0)
		return rc;
	rc = note_get(r->st, &kid);
	if (rc == 0 && !keyring_has(r->kr, kid))
		return err_set(e, -ENOKEY, "the store was last rotated to key "
			       "id %08" PRIx32 ", which is neither the old key "
			       "(%08" PRIx32 ") nor the new (%08" PRIx32 ")",
			       kid, r->old_kid, r->new_kid);
	return rc == -ENOENT ? 0 : rc;
}

/* Re-seal every record and commit them with the note, all at once. */
static int rot_commit(struct rot *r, unsigned char note[4])
{
	struct store_change *c;
	size_t i;
	int rc;

	rc = store_list_all(r->st, keep_hdr, r);
	if (rc < 0)
		return err_set(r->e, rc, "cannot list the records: %s",
			       strerror(-rc));
	for (i = 0; rc == 0 && i < r->nh; i++)
		rc = rot_record(r, &r->hdrs[i]);
	if (rc == 0 && array_reserve(&r->ch, &r->ac, r->nc,
				     sizeof(*r->ch)) < 0)
		rc = err_set(r->e, -ENOMEM, "out of memory");
	if (rc < 0)
		return rc;
	c = &r->ch[r->nc++];
	memset(c, 0, sizeof(*c));
	c->op = STORE_META;
	memcpy(c->hdr.id, ROTATE_NOTE, sizeof(ROTATE_NOTE));
	note[0] = (unsigned char)(r->new_kid >> 24);
	note[1] = (unsigned char)(r->new_kid >> 16);
	note[2] = (unsigned char)(r->new_kid >> 8);
	note[3] = (unsigned char)r->new_kid;
	c->body = note;
	c->len = 4;
	return store_commit(r->st, r->ch, r->nc, r->e);
}

static void rot_release(struct rot *r)
{
	size_t i;

	for (i = 0; i < r->nc; i++)
		if (r->ch[i].op == STORE_PUT)
			free((void *)r->ch[i].body);
	free(r->ch);
	free(r->hdrs);
	store_close(r->st);
}

int rotate_key(const struct rotate_opts *o, struct rotate_report *rep,
	       struct err *e)
{
	struct keyring *old = NULL, *nw = NULL, *both = NULL;
	struct rot r = { .e = e };
	unsigned char note[4];
	int rc;

	memset(rep, 0, sizeof(*rep));
	rc = rot_keys(o, &old, &nw, &both, e);
	if (rc < 0)
		goto out;
	r.kr = both;
	r.old_kid = keyring_kid(old);
	r.new_kid = keyring_kid(nw);
	rc = rot_store(o, &r, e);
	if (rc == 0)
		rc = rot_commit(&r, note);
	if (rc < 0)
		goto out;
	rep->old_kid = r.old_kid;
	rep->new_kid = r.new_kid;
	rep->records = r.nc - 1;
	rep->values = r.values;
	rc = store_compact(r.st, e);
	if (rc < 0)
		err_prefix(e, "the store is re-sealed under key id %08" PRIx32
			   " (use the new key file from now on), but old "
			   "ciphertexts may remain in free pages of data.mdb",
			   r.new_kid);
out:
	rot_release(&r);
	keyring_close(both);
	keyring_close(nw);
	keyring_close(old);
	return rc;
}
