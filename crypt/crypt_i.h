/*
 * crypt_i.h - what seal.c needs from the keyring; private to crypt/.
 *
 * A keyring is an array of {kid, key}; the first entry seals new values and
 * every entry opens values sealed under its kid.  The key bytes returned
 * here live in read-only sodium_malloc'd memory owned by the keyring: they
 * are valid until keyring_close() and must never be copied out of crypt/.
 */
#ifndef EXECFS_CRYPT_I_H
#define EXECFS_CRYPT_I_H

#include <stdint.h>

#include "seal.h"

/**
 * keyring_sealing_key() - the key that seals new values.
 * @kid: set to its key id.
 * Return: SEAL_KEY_BYTES bytes, borrowed from @kr.
 */
const unsigned char *keyring_sealing_key(const struct keyring *kr,
					 uint32_t *kid);

/**
 * keyring_find() - the key with id @kid.
 * Return: SEAL_KEY_BYTES bytes borrowed from @kr, or NULL if @kr holds no
 *         key with that id.
 */
const unsigned char *keyring_find(const struct keyring *kr, uint32_t kid);

#endif
