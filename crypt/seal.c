/*
 * seal.c - sealing and opening of secret values.
 *
 * A value is encrypted with XChaCha20-Poly1305-IETF under the keyring's
 * first key, with a fresh random 24-byte nonce every time (so the same value
 * sealed twice gives two different blobs).  The additional data binds the
 * blob to what it belongs to: a fixed context string, the format version,
 * the resource kind, its id, the field path and the key id.  Each part is
 * length-prefixed (u32 big-endian) or of fixed width, so two different
 * tuples can never encode to the same bytes ("ab"+"c" is not "a"+"bc").
 *
 *   blob = "xs1" | kid (u32 BE) | nonce[24] | ciphertext | tag[16]
 *
 * reseal_value() is rotation's step: open under whichever key of the keyring
 * the blob names, seal again under the first, the plaintext never leaving
 * this file.
 *
 * Plaintext only ever sits in the caller's buffer or in the sodium_malloc'd
 * buffer open_value() returns; nothing here logs or reports it.
 */
#include "seal.h"
#include "crypt_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SEAL_MAGIC "xs1"
#define SEAL_MAGIC_LEN 3
#define SEAL_FORMAT 1u
#define SEAL_CONTEXT "execfs-seal"
#define SEAL_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_KID_OFF SEAL_MAGIC_LEN
#define SEAL_NONCE_OFF (SEAL_KID_OFF + 4)
#define SEAL_HDR_LEN (SEAL_NONCE_OFF + SEAL_NONCE_LEN)
#define SEAL_AD_PART_MAX 4096	/* bytes of kind, id or path */

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Append u32 length + bytes at *p and advance it. */
static void put_part(unsigned char **p, const char *s, size_t n)
{
	put_u32(*p, (uint32_t)n);
	memcpy(*p + 4, s, n);
	*p += 4 + n;
}

/*
 * Encode the additional data for (@ad, @kid) into a malloc'd buffer.
 * Return: 0, -EINVAL (missing part), -EFBIG (a part is over
 * SEAL_AD_PART_MAX), -ENOMEM.
 */
static int ad_encode(const struct seal_ad *ad, uint32_t kid,
		     unsigned char **out, size_t *len)
{
	size_t nk, ni, np, n;
	unsigned char *buf, *p;

	if (!ad || !ad->kind || !ad->id || !ad->path)
		return -EINVAL;
	nk = strnlen(ad->kind, SEAL_AD_PART_MAX + 1);
	ni = strnlen(ad->id, SEAL_AD_PART_MAX + 1);
	np = strnlen(ad->path, SEAL_AD_PART_MAX + 1);
	if (nk > SEAL_AD_PART_MAX || ni > SEAL_AD_PART_MAX ||
	    np > SEAL_AD_PART_MAX)
		return -EFBIG;
	n = 4 + strlen(SEAL_CONTEXT) + 4 + (4 + nk) + (4 + ni) + (4 + np) + 4;
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	p = buf;
	put_part(&p, SEAL_CONTEXT, strlen(SEAL_CONTEXT));
	put_u32(p, SEAL_FORMAT);
	p += 4;
	put_part(&p, ad->kind, nk);
	put_part(&p, ad->id, ni);
	put_part(&p, ad->path, np);
	put_u32(p, kid);
	*out = buf;
	*len = n;
	return 0;
}

int seal_value(const struct keyring *kr, const struct seal_ad *ad,
	       const void *plain, size_t n, struct buf *out)
{
	static const unsigned char empty[1];
	unsigned char *blob = NULL, *adb = NULL;
	const unsigned char *key;
	unsigned long long clen;
	size_t adn = 0, bn;
	uint32_t kid;
	int rc;

	if (n > SEAL_VALUE_MAX)
		return -EFBIG;
	if (!kr || !out || (n && !plain))
		return -EINVAL;
	key = keyring_sealing_key(kr, &kid);
	rc = ad_encode(ad, kid, &adb, &adn);
	if (rc < 0)
		goto out;
	bn = SEAL_HDR_LEN + n + SEAL_TAG_LEN;
	blob = malloc(bn);
	if (!blob) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(blob, SEAL_MAGIC, SEAL_MAGIC_LEN);
	put_u32(blob + SEAL_KID_OFF, kid);
	randombytes_buf(blob + SEAL_NONCE_OFF, SEAL_NONCE_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(blob + SEAL_HDR_LEN,
			&clen, n ? plain : empty, n, adb, adn, NULL,
			blob + SEAL_NONCE_OFF, key) != 0 ||
	    clen != n + SEAL_TAG_LEN) {
		rc = -EIO;
		goto out;
	}
	rc = buf_add(out, blob, bn);
out:
	free(adb);
	free(blob);
	return rc;
}

int seal_blob_kid(const void *blob, size_t n, uint32_t *kid)
{
	const unsigned char *b = blob;

	if (!b || n < SEAL_HDR_LEN + SEAL_TAG_LEN ||
	    n - SEAL_HDR_LEN - SEAL_TAG_LEN > SEAL_VALUE_MAX ||
	    memcmp(b, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
		return -EBADMSG;
	*kid = get_u32(b + SEAL_KID_OFF);
	return 0;
}

int open_value(const struct keyring *kr, const struct seal_ad *ad,
	       const void *blob, size_t n, char **plain, size_t *len)
{
	const unsigned char *b = blob, *key;
	unsigned char *adb = NULL, *m = NULL;
	unsigned long long got;
	size_t adn = 0, mn;
	uint32_t kid = 0;
	int rc;

	if (!kr || !plain || !len)
		return -EINVAL;
	if (seal_blob_kid(b, n, &kid) < 0)
		return -EBADMSG;
	key = keyring_find(kr, kid);
	if (!key)
		return -ENOKEY;
	rc = ad_encode(ad, kid, &adb, &adn);
	if (rc < 0) {
		/* Nothing sealed can carry an oversized part. */
		rc = rc == -EFBIG ? -EBADMSG : rc;
		goto out;
	}
	mn = n - SEAL_HDR_LEN - SEAL_TAG_LEN;
	m = sodium_malloc(mn + 1);
	if (!m) {
		rc = -ENOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &got, NULL,
			b + SEAL_HDR_LEN, n - SEAL_HDR_LEN, adb, adn,
			b + SEAL_NONCE_OFF, key) != 0 || got != mn) {
		rc = -EBADMSG;
		goto out;
	}
	m[mn] = '\0';
	*plain = (char *)m;
	*len = mn;
	m = NULL;
out:
	if (m)
		sodium_free(m);	/* wipes whatever was written */
	free(adb);
	return rc;
}

int reseal_value(const struct keyring *kr, const struct seal_ad *ad,
		 const void *blob, size_t n, struct buf *out)
{
	char *plain = NULL;
	size_t len = 0;
	int rc;

	rc = open_value(kr, ad, blob, n, &plain, &len);
	if (rc == 0)
		rc = seal_value(kr, ad, plain, len, out);
	seal_free_plain(plain, len);
	return rc;
}

void seal_free_plain(char *plain, size_t len)
{
	if (!plain)
		return;
	sodium_memzero(plain, len);
	sodium_free(plain);
}

void *seal_secure_alloc(size_t n)
{
	return sodium_malloc(n);
}

void seal_secure_free(void *p)
{
	sodium_free(p);		/* zeroes the block before unmapping it */
}

void seal_wipe(void *p, size_t n)
{
	if (p && n)
		sodium_memzero(p, n);
}

int seal_is_mask(const char *s, size_t n)
{
	return s && n == strlen(SEAL_MASK) &&
	       memcmp(s, SEAL_MASK, n) == 0;
}
