/*
 * store_rec.c - the byte layout of the store: record values and index keys.
 *
 * A record value starts with a fixed header in little-endian order:
 * format version (1 byte), kind (1), serial (8), gen (8), ctime_ns (8),
 * mtime_ns (8), owner uid (4), gid (4), mode (2), slug length (1), then
 * the slug bytes and the body.  Format 1, without uid, gid and mode, is
 * still read: its records belong to STORE_OWNER_NONE with mode 0750.  The id
 * is the record's key and is not repeated.  The slug index key is the kind
 * byte followed by the slug, so a cursor walks one kind in slug order; the
 * serial index key is the serial in big-endian order, so it sorts
 * numerically.  A stream chunk's key is that serial, the stream byte and
 * the chunk's offset in big-endian order, so the chunks of one stream are
 * adjacent and in offset order, and a record's streams share its serial
 * as a prefix (one range to drop on delete).  Explicit byte packing keeps
 * the file independent of the host's struct layout.
 */
#include "store_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void store_u64_put(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t store_u64_get(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void store_serial_key(unsigned char out[8], uint64_t serial)
{
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(serial >> (8 * (7 - i)));
}

void store_chunk_key(unsigned char out[STORE_CHUNKKEY_LEN], uint64_t serial,
		     unsigned stream, uint64_t off)
{
	store_serial_key(out, serial);
	out[8] = (unsigned char)stream;
	store_serial_key(out + 9, off);
}

uint64_t store_chunk_off(const unsigned char *key)
{
	uint64_t v = 0;

	for (int i = 9; i < STORE_CHUNKKEY_LEN; i++)
		v = v << 8 | key[i];
	return v;
}

size_t store_slug_key(unsigned char out[STORE_SLUGKEY_MAX], unsigned kind,
		      const char *slug, size_t slug_len)
{
	if (slug_len > SLUG_MAX)
		slug_len = SLUG_MAX;
	out[0] = (unsigned char)kind;
	memcpy(out + 1, slug, slug_len);
	return 1 + slug_len;
}

static void u32_put(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t u32_get(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

size_t store_rec_size(const struct store_rec *h, size_t len)
{
	return STORE_REC_FIXED + strnlen(h->slug, SLUG_MAX) + len;
}

size_t store_rec_encode(unsigned char *out, const struct store_rec *h,
			const void *body, size_t len)
{
	size_t slen = strnlen(h->slug, SLUG_MAX);

	out[0] = STORE_REC_FORMAT;
	out[1] = h->kind;
	store_u64_put(out + 2, h->serial);
	store_u64_put(out + 10, h->gen);
	store_u64_put(out + 18, (uint64_t)h->ctime_ns);
	store_u64_put(out + 26, (uint64_t)h->mtime_ns);
	u32_put(out + 34, h->uid);
	u32_put(out + 38, h->gid);
	out[42] = (unsigned char)(h->mode & 0xff);
	out[43] = (unsigned char)((h->mode >> 8) & 0x0f);
	out[44] = (unsigned char)slen;
	memcpy(out + STORE_REC_FIXED, h->slug, slen);
	if (len)
		memcpy(out + STORE_REC_FIXED + slen, body, len);
	return STORE_REC_FIXED + slen + len;
}

/* Logged once here: a malformed value means a damaged or foreign file. */
static int rec_corrupt(const MDB_val *k, const char *why)
{
	int n = k->mv_size > 64 ? 64 : (int)k->mv_size;

	fprintf(stderr, "execfs: store: record '%.*s': %s\n", n,
		(const char *)k->mv_data, why);
	return -EIO;
}

int store_rec_decode(const MDB_val *k, const MDB_val *v, struct store_rec *h,
		     size_t *body_off)
{
	const unsigned char *p = v->mv_data;
	size_t slen, fixed;

	if (k->mv_size == 0 || k->mv_size >= IDS_ID_MAX)
		return rec_corrupt(k, "key length out of range");
	if (v->mv_size < 1 || (p[0] != STORE_REC_FORMAT && p[0] != 1))
		return rec_corrupt(k, "unknown record format");
	fixed = p[0] == 1 ? STORE_REC_FIXED_V1 : STORE_REC_FIXED;
	if (v->mv_size < fixed)
		return rec_corrupt(k, "record shorter than its header");
	slen = p[fixed - 1];
	if (slen > SLUG_MAX || v->mv_size - fixed < slen)
		return rec_corrupt(k, "slug length out of range");
	memset(h, 0, sizeof(*h));
	if (p[0] == 1) {
		h->uid = h->gid = STORE_OWNER_NONE;
		h->mode = 0750;
	} else {
		h->uid = u32_get(p + 34);
		h->gid = u32_get(p + 38);
		h->mode = (uint32_t)p[42] | (uint32_t)(p[43] & 0x0f) << 8;
	}
	h->kind = p[1];
	h->serial = store_u64_get(p + 2);
	h->gen = store_u64_get(p + 10);
	h->ctime_ns = (int64_t)store_u64_get(p + 18);
	h->mtime_ns = (int64_t)store_u64_get(p + 26);
	memcpy(h->id, k->mv_data, k->mv_size);
	memcpy(h->slug, p + fixed, slen);
	*body_off = fixed + slen;
	return 0;
}

uint64_t store_chunk_vlen(unsigned stream, const MDB_val *v)
{
	const unsigned char *p = v->mv_data;
	uint64_t n = 0;

	if (stream != STORE_CODED)
		return v->mv_size;
	if (v->mv_size < STORE_CODED_HDR)
		return 0;
	for (int i = 0; i < STORE_CODED_HDR; i++)
		n = n << 8 | p[i];
	return n;
}
