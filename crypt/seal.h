/*
 * seal.h - the keyring and sealing of secret values (libsodium only).
 *
 * The master key is 32 random bytes in a file outside the state directory,
 * created with mode 0600 on first start; a key file readable or writable by
 * group or others is refused.  Key bytes live in sodium_malloc'd memory,
 * read-only, wiped on close.
 *
 * A sealed value is XChaCha20-Poly1305-IETF with a random 24-byte nonce and
 * additional data binding it to (format version, kind, resource id, field
 * path, key id): moving a blob to another record or field fails to open.
 * Blob layout: "xs1" | kid (u32 BE) | nonce[24] | ciphertext | tag[16].
 *
 * Key ids: a key's id is derived from its bytes (a keyed BLAKE2b of a fixed
 * context, first 4 bytes), so a blob names the key that opens it and a
 * wrong key file is told apart from a damaged blob.  Blobs from before ids
 * were derived carry id 1; every keyring opens id 1 with its first key.
 * Rotation (core/rotate.c) re-seals every blob under a new key through
 * keyring_join() and reseal_value().
 */
#ifndef EXECFS_SEAL_H
#define EXECFS_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../core/err.h"

#define SEAL_KEY_BYTES 32
#define SEAL_VALUE_MAX (64u << 10)	/* plaintext bytes */
#define SEAL_MASK "***"

struct keyring;

/**
 * crypt_init() - sodium_init() and core dumps off (RLIMIT_CORE 0,
 * PR_SET_DUMPABLE 0).  Call once at startup.  Return: 0 or -EIO.
 */
int crypt_init(void);

/**
 * keyring_open() - load @key_file, creating it (and its directory, 0700)
 * with 32 random bytes and mode 0600 if it does not exist.
 * Return: 0 and *out; -EACCES when the file is readable or writable by group
 *   or others or owned by another user (message says so and how to fix it);
 *   -EINVAL when it is not exactly 32 bytes; -ENOENT/-EIO otherwise.
 */
int keyring_open(struct keyring **out, const char *key_file, struct err *e);

/**
 * keyring_open_existing() - as keyring_open(), but a missing file is
 * -ENOENT (with a message) rather than created: for a key that must
 * already exist, such as the old key of a rotation.
 */
int keyring_open_existing(struct keyring **out, const char *key_file,
			  struct err *e);

/**
 * keyring_join() - a keyring that seals with @seal's key and opens what
 * @seal's key or any key of @old opens; id 1 (legacy) opens with @old's
 * key.  Both stay owned by the caller; the result copies the keys.
 * Return: 0 and *out (free with keyring_close()); -EEXIST when both seal
 *   under the same key id (the same key); -EINVAL; -ENOMEM; -EIO.
 */
int keyring_join(struct keyring **out, const struct keyring *seal,
		 const struct keyring *old);

/** keyring_kid() - the id of the key that seals new values. */
uint32_t keyring_kid(const struct keyring *kr);

/** keyring_has() - true if @kr opens values sealed under key id @kid. */
int keyring_has(const struct keyring *kr, uint32_t kid);

/** keyring_close() - wipe and free.  NULL-safe. */
void keyring_close(struct keyring *kr);

/** What a sealed value is bound to. */
struct seal_ad {
	const char *kind;	/* "ExecutionContext" */
	const char *id;		/* resource id */
	const char *path;	/* "spec.data.API_KEY.value" */
};

/**
 * seal_value() - encrypt @n bytes of @plain for @ad; append the blob to @out.
 * Return: 0; -EFBIG over SEAL_VALUE_MAX; -ENOMEM; -EIO.
 */
int seal_value(const struct keyring *kr, const struct seal_ad *ad,
	       const void *plain, size_t n, struct buf *out);

/**
 * open_value() - decrypt a blob made by seal_value() for the same @ad.
 * Return: 0, *plain (sodium_malloc'd, NUL-terminated; free with
 *   seal_free_plain()) and *len; -ENOKEY when the blob is well formed but
 *   names a key id @kr does not hold (seal_blob_kid() tells which);
 *   -EBADMSG when the blob is malformed, was sealed for another
 *   record/field or another key with the same id, or was tampered with;
 *   -ENOMEM.
 */
int open_value(const struct keyring *kr, const struct seal_ad *ad,
	       const void *blob, size_t n, char **plain, size_t *len);

/**
 * seal_blob_kid() - the key id a blob was sealed under.
 * Return: 0 and *kid; -EBADMSG when @blob is not a sealed value.
 */
int seal_blob_kid(const void *blob, size_t n, uint32_t *kid);

/**
 * reseal_value() - open @blob (sealed for @ad under any key of @kr) and
 * append to @out a new blob of the same plaintext for @ad under @kr's
 * sealing key.  The plaintext is wiped before return.
 * Return: 0; the errors of open_value() and seal_value().
 */
int reseal_value(const struct keyring *kr, const struct seal_ad *ad,
		 const void *blob, size_t n, struct buf *out);

/** seal_free_plain() - wipe and free a plaintext from open_value().  NULL-safe. */
void seal_free_plain(char *plain, size_t len);

/**
 * seal_secure_alloc() - @n bytes of guarded, locked memory for plaintext
 * outside crypt/ (sodium_malloc); NULL when out of memory.
 * seal_secure_free() - wipe and release it.  NULL-safe.
 */
void *seal_secure_alloc(size_t n);
void seal_secure_free(void *p);

/** seal_wipe() - sodium_memzero() for buffers outside crypt/. */
void seal_wipe(void *p, size_t n);

/** seal_is_mask() - true if @s (@n bytes) is the mask "***". */
int seal_is_mask(const char *s, size_t n);

#endif
