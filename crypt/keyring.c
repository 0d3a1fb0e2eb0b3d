/*
 * keyring.c - the master key file and the keyring built from it.
 *
 * The key file holds exactly 32 random bytes.  It is created on first start
 * (directory 0700, file 0600, both synced) and afterwards only read, through
 * a descriptor opened with O_NOFOLLOW and checked with fstat: it must be a
 * regular file owned by the effective user with no group or other bits
 * (OpenSSH's rule for private keys).  The key bytes are copied into
 * sodium_malloc'd memory that is made read-only; every other copy is wiped.
 *
 * The keyring is an array of {kid, key}; the first entry seals.  A key's id
 * is derived from the key itself (keyring_kid_of()), so two key files never
 * share an id by accident and a blob names the key it needs.  Stores written
 * before ids were derived hold blobs with id 1: every key also opens id 1
 * (that alias never seals).  For a rotation, keyring_join() builds a keyring
 * that seals with the new key and opens with the new and the old.
 */
#include "seal.h"
#include "crypt_i.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

_Static_assert(SEAL_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	       "the master key is an XChaCha20-Poly1305 key");

#define KEYRING_LEGACY_KID 1u	/* the one id before ids were derived */
#define KEYRING_KID_CONTEXT "execfs key id"
/* O_NONBLOCK keeps a FIFO planted at the key path from hanging the open. */
#define KEY_READ_FLAGS (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
#define KEY_CREATE_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

struct keyring_key {
	uint32_t kid;
	unsigned char key[SEAL_KEY_BYTES];
};

struct keyring {
	struct keyring_key *keys;	/* sodium_malloc'd, read-only; [0] seals */
	size_t n;
};

int crypt_init(void)
{
	struct rlimit none = { 0, 0 };

	if (sodium_init() < 0)
		return -EIO;
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return -EIO;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -EIO;
	return 0;
}

/* Translate an errno from the file system calls to the header's set. */
static int key_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return -ENOENT;
	case EACCES:
	case EPERM:
	case ELOOP:
		return -EACCES;
	case ENOMEM:
	case ENAMETOOLONG:
		return -errnum;
	default:
		return -EIO;
	}
}

/*
 * Write the key file's path to @dst: @key_file itself, or when it is NULL
 * or empty the default $XDG_CONFIG_HOME/execfs/key, else
 * $HOME/.config/execfs/key (DESIGN 1.1).
 */
static int key_path(char *dst, size_t cap, const char *key_file,
		    struct err *e)
{
	const char *base = getenv("XDG_CONFIG_HOME");
	int n;

	if (key_file && *key_file)
		n = snprintf(dst, cap, "%s", key_file);
	else if (base && base[0] == '/')
		n = snprintf(dst, cap, "%s/execfs/key", base);
	else if ((base = getenv("HOME")) && *base)
		n = snprintf(dst, cap, "%s/.config/execfs/key", base);
	else
		return err_set(e, -ENOENT, "no key file given and neither "
			       "XDG_CONFIG_HOME nor HOME is set");
	if (n < 0 || (size_t)n >= cap)
		return err_set(e, -ENAMETOOLONG, "key file path is too long");
	return 0;
}

/* Copy the directory part of @path into @dir ("." when there is none). */
static void key_dir(char *dir, size_t cap, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		memcpy(dir, ".", 2);
		return;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= cap)
		n = cap - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
}

/* mkdir -p @dir with mode 0700 for each directory created. */
static int make_dirs(char *dir, struct err *e)
{
	char *p, c;

	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			int rc = key_errno(errno);

			err_set(e, rc, "cannot create key directory '%s': %s",
				dir, strerror(errno));
			*p = c;
			return rc;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

static int fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = err_set(e, key_errno(errno), "cannot sync key directory "
			     "'%s': %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write 32 fresh random bytes to a new file @path, mode 0600, synced. */
static int key_write_new(int fd, const char *path, struct err *e)
{
	unsigned char key[SEAL_KEY_BYTES];
	int rc;

	randombytes_buf(key, sizeof(key));
	rc = write_all(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	/* The umask may have taken bits off; the contract is exactly 0600. */
	if (rc == 0 && fchmod(fd, 0600) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc < 0)
		return err_set(e, key_errno(-rc), "cannot write key file "
			       "'%s': %s", path, strerror(-rc));
	return 0;
}

/*
 * Create the key file @path and its directory.  Return: 0, -EEXIST when
 * another process created it first (the caller opens that one), or an
 * error.  A half-written file is removed so the next start retries.
 */
static int key_create(const char *path, struct err *e)
{
	char dir[PATH_MAX];
	int fd = -1, rc;

	key_dir(dir, sizeof(dir), path);
	rc = make_dirs(dir, e);
	if (rc < 0)
		goto out;
	fd = open(path, KEY_CREATE_FLAGS, 0600);
	if (fd < 0 && errno == EEXIST) {
		rc = -EEXIST;
		goto out;
	}
	if (fd < 0) {
		rc = err_set(e, key_errno(errno), "cannot create key file "
			     "'%s': %s", path, strerror(errno));
		goto out;
	}
	rc = key_write_new(fd, path, e);
	if (rc < 0) {
		unlink(path);
		goto out;
	}
	rc = fsync_dir(dir, e);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int key_open_error(const char *path, int errnum, struct err *e)
{
	if (errnum == ELOOP)
		return err_set(e, -EACCES, "key file '%s' is a symbolic link; "
			       "give the path of the file itself", path);
	return err_set(e, key_errno(errnum), "cannot open key file '%s': %s",
		       path, strerror(errnum));
}

/* Open @path for reading, creating it first if it does not exist. */
static int key_fd(const char *path, int *fd, struct err *e)
{
	int rc;

	*fd = open(path, KEY_READ_FLAGS);
	if (*fd >= 0)
		return 0;
	if (errno != ENOENT)
		return key_open_error(path, errno, e);
	rc = key_create(path, e);
	if (rc < 0 && rc != -EEXIST)
		return rc;
	*fd = open(path, KEY_READ_FLAGS);
	if (*fd < 0)
		return key_open_error(path, errno, e);
	return 0;
}

/* The key file must be a private regular file of exactly 32 bytes. */
static int key_check(int fd, const char *path, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(e, -EIO, "cannot stat key file '%s': %s", path,
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, -EINVAL, "key file '%s' is not a regular "
			       "file", path);
	if ((st.st_mode & 077) != 0)
		return err_set(e, -EACCES, "key file '%s' is accessible by "
			       "group or others (mode %04o); chmod 600 it",
			       path, (unsigned)(st.st_mode & 07777));
	if (st.st_uid != geteuid())
		return err_set(e, -EACCES, "key file '%s' is owned by uid %u, "
			       "not by uid %u that runs execfs; chown it", path,
			       (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_size != SEAL_KEY_BYTES)
		return err_set(e, -EINVAL, "key file '%s' must hold exactly "
			       "%d bytes", path, SEAL_KEY_BYTES);
	return 0;
}

/* Read exactly SEAL_KEY_BYTES into @key; one byte more is an error. */
static int key_read(int fd, const char *path, unsigned char *key,
		    struct err *e)
{
	unsigned char raw[SEAL_KEY_BYTES + 1];
	size_t got = 0;
	ssize_t r;
	int rc = 0;

	while (got < sizeof(raw)) {
		r = read(fd, raw + got, sizeof(raw) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_set(e, -EIO, "cannot read key file '%s': %s",
				     path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != SEAL_KEY_BYTES) {
		rc = err_set(e, -EINVAL, "key file '%s' must hold exactly %d "
			     "bytes", path, SEAL_KEY_BYTES);
		goto out;
	}
	memcpy(key, raw, SEAL_KEY_BYTES);
out:
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

/*
 * The id of @key: the first four bytes of BLAKE2b(key = @key, message = a
 * fixed context), big-endian.  A one-way function of the key, so the id
 * tells nothing about it; ids 0 and 1 are kept out (1 is the legacy id).
 */
static uint32_t keyring_kid_of(const unsigned char *key)
{
	unsigned char h[crypto_generichash_BYTES_MIN];
	uint32_t kid;

	crypto_generichash(h, sizeof(h),
			   (const unsigned char *)KEYRING_KID_CONTEXT,
			   strlen(KEYRING_KID_CONTEXT), key, SEAL_KEY_BYTES);
	kid = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	      (uint32_t)h[2] << 8 | (uint32_t)h[3];
	sodium_memzero(h, sizeof(h));
	return kid <= KEYRING_LEGACY_KID ? kid + 2 : kid;
}

/* An empty keyring with room for @n keys, writable until sealed. */
static int keyring_alloc(struct keyring **out, size_t n)
{
	struct keyring *kr = calloc(1, sizeof(*kr));

	if (!kr)
		return -ENOMEM;
	kr->keys = sodium_malloc(n * sizeof(*kr->keys));
	if (!kr->keys) {
		free(kr);
		return -ENOMEM;
	}
	kr->n = n;
	*out = kr;
	return 0;
}

/* Load the key file at @fd as key id 1 of a new keyring. */
static int keyring_load(struct keyring **out, int fd, const char *path,
			struct err *e)
{
	struct keyring *kr = NULL;
	int rc;

	rc = key_check(fd, path, e);
	if (rc < 0)
		goto out;
	rc = keyring_alloc(&kr, 2);
	if (rc < 0) {
		err_set(e, rc, "out of memory for the keyring");
		goto out;
	}
	rc = key_read(fd, path, kr->keys[0].key, e);
	if (rc < 0)
		goto out;
	kr->keys[0].kid = keyring_kid_of(kr->keys[0].key);
	kr->keys[1].kid = KEYRING_LEGACY_KID;
	memcpy(kr->keys[1].key, kr->keys[0].key, SEAL_KEY_BYTES);
	if (sodium_mprotect_readonly(kr->keys) < 0) {
		rc = err_set(e, -EIO, "cannot protect the key memory");
		goto out;
	}
	*out = kr;
	kr = NULL;
out:
	keyring_close(kr);
	return rc;
}

static int keyring_open_as(struct keyring **out, const char *key_file,
			   bool create, struct err *e)
{
	char path[PATH_MAX];
	int fd = -1, rc;

	if (sodium_init() < 0)
		return err_set(e, -EIO, "libsodium failed to initialize");
	rc = key_path(path, sizeof(path), key_file, e);
	if (rc < 0)
		goto out;
	if (create) {
		rc = key_fd(path, &fd, e);
	} else if ((fd = open(path, KEY_READ_FLAGS)) < 0) {
		rc = key_open_error(path, errno, e);
	}
	if (rc < 0)
		goto out;
	rc = keyring_load(out, fd, path, e);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int keyring_open(struct keyring **out, const char *key_file, struct err *e)
{
	return keyring_open_as(out, key_file, true, e);
}

int keyring_open_existing(struct keyring **out, const char *key_file,
			  struct err *e)
{
	return keyring_open_as(out, key_file, false, e);
}

int keyring_join(struct keyring **out, const struct keyring *seal,
		 const struct keyring *old)
{
	struct keyring *kr = NULL;
	size_t i;
	int rc;

	if (!seal || !old || seal->n < 1 || old->n < 1)
		return -EINVAL;
	if (seal->keys[0].kid == old->keys[0].kid)
		return -EEXIST;
	rc = keyring_alloc(&kr, 1 + old->n);
	if (rc < 0)
		return rc;
	/* The new key's legacy alias is left out: id 1 means the old key. */
	kr->keys[0] = seal->keys[0];
	for (i = 0; i < old->n; i++)
		kr->keys[1 + i] = old->keys[i];
	if (sodium_mprotect_readonly(kr->keys) < 0) {
		keyring_close(kr);
		return -EIO;
	}
	*out = kr;
	return 0;
}

uint32_t keyring_kid(const struct keyring *kr)
{
	return kr->keys[0].kid;
}

int keyring_has(const struct keyring *kr, uint32_t kid)
{
	return keyring_find(kr, kid) != NULL;
}

void keyring_close(struct keyring *kr)
{
	if (!kr)
		return;
	if (kr->keys) {
		sodium_mprotect_readwrite(kr->keys);
		sodium_memzero(kr->keys, kr->n * sizeof(*kr->keys));
		sodium_free(kr->keys);
	}
	free(kr);
}

const unsigned char *keyring_sealing_key(const struct keyring *kr,
					 uint32_t *kid)
{
	*kid = kr->keys[0].kid;
	return kr->keys[0].key;
}

const unsigned char *keyring_find(const struct keyring *kr, uint32_t kid)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (kr->keys[i].kid == kid)
			return kr->keys[i].key;
	return NULL;
}
