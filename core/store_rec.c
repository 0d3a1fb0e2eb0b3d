/*
 * store_rec.c - the byte layout of the store: record values and index keys.
 *
 * A record value starts with a fixed header in little-endian order:
 * format version (1 byte), kind (1), serial (8), gen (8), ctime_ns (8),
 * mtime_ns (8), slug length (1), then the slug bytes and the body.  The id
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
	out[34] = (unsigned char)slen;
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
	size_t slen;

	if (k->mv_size == 0 || k->mv_size >= IDS_ID_MAX)
		return rec_corrupt(k, "key length out of range");
	if (v->mv_size < STORE_REC_FIXED || p[0] != STORE_REC_FORMAT)
		return rec_corrupt(k, "unknown record format");
	slen = p[34];
	if (slen > SLUG_MAX || v->mv_size - STORE_REC_FIXED < slen)
		return rec_corrupt(k, "slug length out of range");
	memset(h, 0, sizeof(*h));
	h->kind = p[1];
	h->serial = store_u64_get(p + 2);
	h->gen = store_u64_get(p + 10);
	h->ctime_ns = (int64_t)store_u64_get(p + 18);
	h->mtime_ns = (int64_t)store_u64_get(p + 26);
	memcpy(h->id, k->mv_data, k->mv_size);
	memcpy(h->slug, p + STORE_REC_FIXED, slen);
	*body_off = STORE_REC_FIXED + slen;
	return 0;
}
