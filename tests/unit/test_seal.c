/*
 * test_seal.c - the key file, the keyring and sealed values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypt/seal.h"
#include "fx.h"

#define BLOB_OVERHEAD (3 + 4 + 24 + 16)

static char tmpdir[64];	/* made by setup */
static struct keyring *kr;	/* opened on tmpdir/main/key */

static const struct seal_ad ad_a = {
	"ExecutionContext", "exec-01hzy8m3q4r5s6t7v8w9x0yzab",
	"spec.data.API_KEY.value"
};

/* tmpdir/@name, in a static rotating buffer. */
static const char *tpath(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *path, const void *data, size_t n,
		       mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	struct err e = { 0, "" };

	(void)state;
	if (crypt_init() != 0 || tmpdir_make(tmpdir, sizeof(tmpdir), "seal"))
		return -1;
	return keyring_open(&kr, tpath("main/key"), &e) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	keyring_close(kr);
	return tmpdir_remove(tmpdir);
}

static void seal_ok(const struct seal_ad *ad, const void *p, size_t n,
		    struct buf *out)
{
	buf_init(out, SEAL_VALUE_MAX + 1024);
	assert_int_equal(seal_value(kr, ad, p, n, out), 0);
	assert_int_equal(out->len, n + BLOB_OVERHEAD);
}

static int try_open(const struct keyring *k, const struct seal_ad *ad,
		    const void *blob, size_t n)
{
	char *plain = (char *)"untouched";
	size_t len = 12345;
	int rc = open_value(k, ad, blob, n, &plain, &len);

	if (rc == 0) {
		seal_free_plain(plain, len);
		return 0;
	}
	/* Out-params are written only on success. */
	assert_string_equal(plain, "untouched");
	assert_int_equal(len, 12345);
	return rc;
}

static void test_crypt_init(void **state)
{
	struct rlimit rl;

	(void)state;
	assert_int_equal(crypt_init(), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(rl.rlim_max, 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

static void test_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 7, 16, 1000, SEAL_VALUE_MAX };
	char *src = malloc(SEAL_VALUE_MAX), *plain;
	struct buf blob;
	size_t i, j, len;
	uint32_t kid = 0;

	(void)state;
	assert_non_null(src);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* Binary bytes, NULs included. */
		for (j = 0; j < sizes[i]; j++)
			src[j] = (char)(j * 7 + i);
		seal_ok(&ad_a, src, sizes[i], &blob);
		assert_memory_equal(blob.data, "xs1", 3);
		assert_int_equal(seal_blob_kid(blob.data, blob.len, &kid), 0);
		assert_int_equal(kid, keyring_kid(kr));
		assert_int_equal(open_value(kr, &ad_a, blob.data, blob.len,
					    &plain, &len), 0);
		assert_int_equal(len, sizes[i]);
		assert_memory_equal(plain, src, sizes[i]);
		assert_int_equal(plain[len], '\0');
		seal_free_plain(plain, len);
		buf_release(&blob);
	}
	free(src);
}

/* seal_value appends: a blob can follow other bytes in a buffer. */
static void test_appends(void **state)
{
	struct buf out = BUF_INIT(4096);
	char *plain;
	size_t len;

	(void)state;
	assert_int_equal(buf_addstr(&out, "prefix"), 0);
	assert_int_equal(seal_value(kr, &ad_a, "hunter2", 7, &out), 0);
	assert_int_equal(out.len, 6 + 7 + BLOB_OVERHEAD);
	assert_memory_equal(out.data, "prefix", 6);
	assert_int_equal(open_value(kr, &ad_a, out.data + 6, out.len - 6,
				    &plain, &len), 0);
	assert_string_equal(plain, "hunter2");
	seal_free_plain(plain, len);
	buf_release(&out);
}

/* A blob sealed for one (kind, id, path) opens for nothing else. */
static void test_bound_to_record(void **state)
{
	static const struct seal_ad others[] = {
		{ "ExecutionContext", "exec-01hzy8m3q4r5s6t7v8w9x0yzac",
		  "spec.data.API_KEY.value" },
		{ "Environment", "exec-01hzy8m3q4r5s6t7v8w9x0yzab",
		  "spec.data.API_KEY.value" },
		/* Each part changed at the same length. */
		{ "WorkflowInstance", "exec-01hzy8m3q4r5s6t7v8w9x0yzab",
		  "spec.data.API_KEY.value" },
		{ "ExecutionContext", "exec-01hzy8m3q4r5s6t7v8w9x0yzab",
		  "spec.data.API_KEX.value" },
		{ "ExecutionContext", "exec-01hzy8m3q4r5s6t7v8w9x0yzab",
		  "spec.data.OTHER_KEY.value" },
		{ "ExecutionContext", "exec-01hzy8m3q4r5s6t7v8w9x0yzab",
		  "spec.data.API_KEY.valu" },
		{ "", "", "" },
		/* Same bytes split differently between the parts. */
		{ "ExecutionContex", "texec-01hzy8m3q4r5s6t7v8w9x0yzab",
		  "spec.data.API_KEY.value" },
		{ "ExecutionContext", "exec-01hzy8m3q4r5s6t7v8w9x0yzabs",
		  "pec.data.API_KEY.value" },
		{ "ExecutionContextexec-01hzy8m3q4r5s6t7v8w9x0yzab", "",
		  "spec.data.API_KEY.value" },
	};
	const struct seal_ad nul_kind = { NULL, "x", "y" };
	struct buf blob;
	size_t i;

	(void)state;
	seal_ok(&ad_a, "s3cr3t", 6, &blob);
	assert_int_equal(try_open(kr, &ad_a, blob.data, blob.len), 0);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (try_open(kr, &others[i], blob.data, blob.len) != -EBADMSG)
			fail_msg("opened for case %zu", i);
	assert_int_equal(try_open(kr, &nul_kind, blob.data, blob.len),
			 -EINVAL);
	assert_int_equal(try_open(kr, NULL, blob.data, blob.len), -EINVAL);
	buf_release(&blob);
}

static void test_every_bit_flip(void **state)
{
	struct buf blob;
	size_t i;
	int b, rc;

	(void)state;
	seal_ok(&ad_a, "correct horse battery", 21, &blob);
	for (i = 0; i < blob.len; i++)
		for (b = 0; b < 8; b++) {
			blob.data[i] ^= (char)(1 << b);
			/* A flipped key id names a key the keyring lacks. */
			rc = try_open(kr, &ad_a, blob.data, blob.len);
			if (rc != -EBADMSG && !(rc == -ENOKEY && i >= 3 && i < 7))
				fail_msg("flip of byte %zu bit %d: %d", i, b,
					 rc);
			blob.data[i] ^= (char)(1 << b);
		}
	assert_int_equal(try_open(kr, &ad_a, blob.data, blob.len), 0);
	buf_release(&blob);
}

static void test_truncated_and_extended(void **state)
{
	struct buf blob;
	size_t n;

	(void)state;
	seal_ok(&ad_a, "tr", 2, &blob);
	for (n = 0; n < blob.len; n++)
		if (try_open(kr, &ad_a, blob.data, n) != -EBADMSG)
			fail_msg("blob cut to %zu bytes opened", n);
	assert_int_equal(try_open(kr, &ad_a, NULL, 0), -EBADMSG);
	assert_int_equal(buf_addc(&blob, 'x'), 0);
	assert_int_equal(try_open(kr, &ad_a, blob.data, blob.len), -EBADMSG);
	buf_release(&blob);
}

static void test_unknown_kid_and_magic(void **state)
{
	struct buf blob;

	(void)state;
	seal_ok(&ad_a, "v", 1, &blob);
	blob.data[6] ^= 1;	/* a key id the keyring lacks */
	assert_int_equal(try_open(kr, &ad_a, blob.data, blob.len), -ENOKEY);
	blob.data[6] ^= 1;
	blob.data[2] = '2';	/* "xs2" */
	assert_int_equal(try_open(kr, &ad_a, blob.data, blob.len), -EBADMSG);
	buf_release(&blob);
}

static void test_random_nonce(void **state)
{
	struct buf a, b;

	(void)state;
	seal_ok(&ad_a, "same value", 10, &a);
	seal_ok(&ad_a, "same value", 10, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_not_equal(a.data + 7, b.data + 7, 24);
	assert_memory_not_equal(a.data + 31, b.data + 31, a.len - 31);
	buf_release(&a);
	buf_release(&b);
}

static void test_plaintext_not_in_blob(void **state)
{
	static const char secret[] =
		"AKIAIOSFODNN7EXAMPLE/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	size_t n = sizeof(secret) - 1, i;
	struct buf blob;

	(void)state;
	seal_ok(&ad_a, secret, n, &blob);
	/* No 4-byte run of the secret survives into the blob. */
	for (i = 0; i + 4 <= n; i++)
		assert_null(memmem(blob.data, blob.len, secret + i, 4));
	buf_release(&blob);
}

static void test_value_too_big(void **state)
{
	struct buf out = BUF_INIT(4 * SEAL_VALUE_MAX);
	char *big = calloc(1, SEAL_VALUE_MAX + 1 + BLOB_OVERHEAD);

	(void)state;
	assert_non_null(big);
	memcpy(big, "xs1\0\0\0\1", 7);
	assert_int_equal(seal_value(kr, &ad_a, big, SEAL_VALUE_MAX + 1, &out),
			 -EFBIG);
	assert_int_equal(out.len, 0);
	/* A blob that claims more than SEAL_VALUE_MAX is refused unread. */
	assert_int_equal(try_open(kr, &ad_a, big, SEAL_VALUE_MAX + 1 +
				  BLOB_OVERHEAD), -EBADMSG);
	free(big);
}

static void test_key_file_created(void **state)
{
	struct keyring *k = NULL;
	struct err e = { 0, "" };
	unsigned char one[32], two[32], zero[32] = { 0 };
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(keyring_open(&k, tpath("new/a/b/key"), &e), 0);
	keyring_close(k);
	assert_int_equal(lstat(tpath("new/a/b/key"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(stat(tpath("new"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(tpath("new/a/b"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	/* Random, and different from another new key file. */
	assert_int_equal(keyring_open(&k, tpath("new/a/key2"), &e), 0);
	keyring_close(k);
	fd = open(tpath("new/a/b/key"), O_RDONLY);
	assert_int_equal(read(fd, one, 32), 32);
	close(fd);
	fd = open(tpath("new/a/key2"), O_RDONLY);
	assert_int_equal(read(fd, two, 32), 32);
	close(fd);
	assert_memory_not_equal(one, two, 32);
	assert_memory_not_equal(one, zero, 32);
}

/* With no key file given, $XDG_CONFIG_HOME/execfs/key is used. */
static void test_default_key_path(void **state)
{
	struct keyring *k = NULL;
	struct err e = { 0, "" };
	struct stat st;

	(void)state;
	assert_int_equal(setenv("XDG_CONFIG_HOME", tpath("xdg"), 1), 0);
	assert_int_equal(keyring_open(&k, NULL, &e), 0);
	keyring_close(k);
	assert_int_equal(stat(tpath("xdg/execfs/key"), &st), 0);
	assert_int_equal(st.st_size, 32);
	unsetenv("XDG_CONFIG_HOME");
}

static void test_key_file_modes(void **state)
{
	static const struct {
		mode_t mode;
		int rc;
		const char *shown;
	} cases[] = {
		{ 0600, 0, NULL },		{ 0400, 0, NULL },
		{ 0700, 0, NULL },		{ 0644, -EACCES, "mode 0644" },
		{ 0640, -EACCES, "mode 0640" }, { 0604, -EACCES, "mode 0604" },
		{ 0620, -EACCES, "mode 0620" }, { 0602, -EACCES, "mode 0602" },
		{ 0610, -EACCES, "mode 0610" }, { 0601, -EACCES, "mode 0601" },
	};
	unsigned char key[32] = { 1, 2, 3 };
	const char *path = tpath("mode.key");
	struct keyring *k;
	struct err e;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(path, key, sizeof(key), cases[i].mode);
		k = NULL;
		err_clear(&e);
		rc = keyring_open(&k, path, &e);
		keyring_close(k);
		if (rc != cases[i].rc)
			fail_msg("mode %04o: rc %d", (unsigned)cases[i].mode,
				 rc);
		if (!cases[i].shown)
			continue;
		assert_null(k);
		assert_int_equal(e.code, -EACCES);
		assert_non_null(strstr(e.msg, path));
		assert_non_null(strstr(e.msg, cases[i].shown));
		assert_non_null(strstr(e.msg, "chmod 600"));
	}
	unlink(path);
}

static void test_key_file_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 31, 33, 64 };
	unsigned char key[64] = { 9 };
	const char *path = tpath("size.key");
	struct keyring *k = NULL;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		write_file(path, key, sizes[i], 0600);
		err_clear(&e);
		assert_int_equal(keyring_open(&k, path, &e), -EINVAL);
		assert_null(k);
		assert_non_null(strstr(e.msg, path));
		assert_non_null(strstr(e.msg, "must hold exactly 32 bytes"));
	}
	unlink(path);
}

static void test_key_file_symlink(void **state)
{
	unsigned char key[32] = { 7 };
	struct keyring *k = NULL;
	struct err e = { 0, "" };
	struct stat st;

	(void)state;
	write_file(tpath("real.key"), key, sizeof(key), 0600);
	assert_int_equal(symlink(tpath("real.key"), tpath("link.key")), 0);
	assert_int_equal(keyring_open(&k, tpath("link.key"), &e), -EACCES);
	assert_null(k);
	assert_non_null(strstr(e.msg, "symbolic link"));

	/* A dangling link is not followed to create a key elsewhere. */
	assert_int_equal(symlink(tpath("elsewhere.key"), tpath("dangle.key")),
			 0);
	assert_true(keyring_open(&k, tpath("dangle.key"), &e) < 0);
	assert_null(k);
	assert_int_equal(lstat(tpath("elsewhere.key"), &st), -1);
}

static void test_key_file_not_regular(void **state)
{
	struct keyring *k = NULL;
	struct err e = { 0, "" };

	(void)state;
	assert_int_equal(mkdir(tpath("dir.key"), 0700), 0);
	assert_int_equal(keyring_open(&k, tpath("dir.key"), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	/* A FIFO must be refused, not block the daemon. */
	assert_int_equal(mkfifo(tpath("fifo.key"), 0600), 0);
	assert_int_equal(keyring_open(&k, tpath("fifo.key"), &e), -EINVAL);
	assert_null(k);
}

static void test_key_file_owner(void **state)
{
	unsigned char key[32] = { 5 };
	struct keyring *k = NULL;
	struct err e = { 0, "" };

	(void)state;
	if (geteuid() != 0)
		skip();
	write_file(tpath("owned.key"), key, sizeof(key), 0600);
	assert_int_equal(chown(tpath("owned.key"), 4242, 4242), 0);
	assert_int_equal(keyring_open(&k, tpath("owned.key"), &e), -EACCES);
	assert_null(k);
	assert_non_null(strstr(e.msg, "4242"));
}

/* Values survive a restart with the same key file, and only with it. */
static void test_reopen(void **state)
{
	struct keyring *again = NULL, *other = NULL;
	struct err e = { 0, "" };
	struct buf blob;
	char *plain;
	size_t len;

	(void)state;
	seal_ok(&ad_a, "persisted", 9, &blob);
	assert_int_equal(keyring_open(&again, tpath("main/key"), &e), 0);
	assert_int_equal(open_value(again, &ad_a, blob.data, blob.len, &plain,
				    &len), 0);
	assert_string_equal(plain, "persisted");
	seal_free_plain(plain, len);
	assert_int_equal(keyring_open(&other, tpath("other/key"), &e), 0);
	/* Another key has another id: told apart from damage. */
	assert_true(keyring_kid(other) != keyring_kid(kr));
	assert_int_equal(try_open(other, &ad_a, blob.data, blob.len),
			 -ENOKEY);
	keyring_close(again);
	keyring_close(other);
	keyring_close(NULL);
	buf_release(&blob);
}

/* A blob as execfs sealed it before key ids were derived: id 1. */
static void legacy_blob(const char *keyfile, const struct seal_ad *ad,
			const char *plain, struct buf *out)
{
	static const char ctx[] = "execfs-seal";
	unsigned char key[32], adb[512], *p = adb, blob[3 + 4 + 24 + 64];
	const char *parts[] = { ctx, NULL, ad->kind, ad->id, ad->path };
	unsigned long long clen;
	size_t i, n;
	int fd = open(keyfile, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, key, 32), 32);
	close(fd);
	for (i = 0; i < 5; i++) {
		n = parts[i] ? strlen(parts[i]) : 1;	/* NULL: format 1 */
		p[0] = p[1] = p[2] = 0;
		p[3] = (unsigned char)n;
		if (parts[i])
			memcpy(p + 4, parts[i], n);
		p += parts[i] ? 4 + n : 4;
	}
	memcpy(p, "\0\0\0\1", 4);	/* kid 1 */
	p += 4;
	memcpy(blob, "xs1\0\0\0\1", 7);
	randombytes_buf(blob + 7, 24);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(
		blob + 31, &clen, (const unsigned char *)plain, strlen(plain),
		adb, (unsigned long long)(p - adb), NULL, blob + 7, key), 0);
	sodium_memzero(key, sizeof(key));
	buf_init(out, 4096);
	assert_int_equal(buf_add(out, blob, 31 + clen), 0);
}

/* Values sealed before key ids were derived still open, and re-seal. */
static void test_legacy_kid(void **state)
{
	struct buf old, fresh = BUF_INIT(4096);
	struct keyring *nk = NULL, *both = NULL;
	struct err e = { 0, "" };
	uint32_t kid = 0;

	(void)state;
	legacy_blob(tpath("main/key"), &ad_a, "from-before", &old);
	assert_int_equal(try_open(kr, &ad_a, old.data, old.len), 0);
	assert_int_equal(keyring_open(&nk, tpath("legacy-new/key"), &e), 0);
	/* Id 1 means the old key in a rotation, not the new one. */
	assert_int_equal(try_open(nk, &ad_a, old.data, old.len), -EBADMSG);
	assert_int_equal(keyring_join(&both, nk, kr), 0);
	assert_int_equal(reseal_value(both, &ad_a, old.data, old.len, &fresh),
			 0);
	assert_int_equal(seal_blob_kid(fresh.data, fresh.len, &kid), 0);
	assert_int_equal(kid, keyring_kid(nk));
	assert_int_equal(try_open(nk, &ad_a, fresh.data, fresh.len), 0);
	keyring_close(both);
	keyring_close(nk);
	buf_release(&old);
	buf_release(&fresh);
}

/* Rotation's step: open under the old key, seal under the new one, for
 * the same record and field. */
static void test_reseal(void **state)
{
	static const struct seal_ad ad_b = {
		"ExecutionContext", "exec-01hzy8m3q4r5s6t7v8w9x0yzab",
		"spec.data.OTHER.value"
	};
	struct keyring *nk = NULL, *both = NULL, *same = NULL;
	struct buf blob, fresh = BUF_INIT(4096), again = BUF_INIT(4096);
	struct err e = { 0, "" };
	char *plain = NULL;
	uint32_t kid = 0;
	size_t len = 0;

	(void)state;
	seal_ok(&ad_a, "rotate me", 9, &blob);
	assert_int_equal(keyring_open(&nk, tpath("rot/new"), &e), 0);
	assert_true(keyring_kid(nk) != keyring_kid(kr));
	assert_int_equal(keyring_join(&both, nk, kr), 0);
	assert_int_equal(keyring_kid(both), keyring_kid(nk));
	assert_true(keyring_has(both, keyring_kid(kr)));
	assert_int_equal(reseal_value(both, &ad_a, blob.data, blob.len,
				      &fresh), 0);
	assert_int_equal(seal_blob_kid(fresh.data, fresh.len, &kid), 0);
	assert_int_equal(kid, keyring_kid(nk));
	/* The new key alone opens it, for the same field only. */
	assert_int_equal(open_value(nk, &ad_a, fresh.data, fresh.len, &plain,
				    &len), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(plain, "rotate me", 9);
	seal_free_plain(plain, len);
	assert_int_equal(try_open(nk, &ad_b, fresh.data, fresh.len), -EBADMSG);
	assert_int_equal(try_open(kr, &ad_a, fresh.data, fresh.len), -ENOKEY);
	/* Re-sealing what is already under the new key is harmless. */
	assert_int_equal(reseal_value(both, &ad_a, fresh.data, fresh.len,
				      &again), 0);
	assert_int_equal(try_open(nk, &ad_a, again.data, again.len), 0);
	/* A value for another field does not re-seal; a key joined with
	 * itself is refused. */
	assert_int_equal(reseal_value(both, &ad_b, blob.data, blob.len,
				      &again), -EBADMSG);
	assert_int_equal(keyring_open(&same, tpath("main/key"), &e), 0);
	assert_int_equal(keyring_join(&both, same, kr), -EEXIST);
	keyring_close(same);
	keyring_close(both);
	keyring_close(nk);
	buf_release(&blob);
	buf_release(&fresh);
	buf_release(&again);
}

/* The old key of a rotation must exist: it is never created. */
static void test_open_existing(void **state)
{
	struct keyring *k = NULL;
	struct err e = { 0, "" };
	struct stat st;

	(void)state;
	assert_int_equal(keyring_open_existing(&k, tpath("absent/key"), &e),
			 -ENOENT);
	assert_null(k);
	assert_non_null(strstr(e.msg, "absent/key"));
	assert_int_equal(stat(tpath("absent/key"), &st), -1);
	assert_int_equal(keyring_open_existing(&k, tpath("main/key"), &e), 0);
	assert_int_equal(keyring_kid(k), keyring_kid(kr));
	keyring_close(k);
}

static void test_mask_and_wipe(void **state)
{
	char b[8] = "abcdefg";

	(void)state;
	assert_true(seal_is_mask("***", 3));
	assert_true(seal_is_mask("****", 3));
	assert_false(seal_is_mask("***", 2));
	assert_false(seal_is_mask("****", 4));
	assert_false(seal_is_mask("**x", 3));
	assert_false(seal_is_mask("", 0));
	assert_false(seal_is_mask(NULL, 3));
	seal_wipe(b, 4);
	assert_memory_equal(b, "\0\0\0\0efg", 8);
	seal_free_plain(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypt_init),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_bound_to_record),
		cmocka_unit_test(test_every_bit_flip),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_unknown_kid_and_magic),
		cmocka_unit_test(test_random_nonce),
		cmocka_unit_test(test_plaintext_not_in_blob),
		cmocka_unit_test(test_value_too_big),
		cmocka_unit_test(test_key_file_created),
		cmocka_unit_test(test_default_key_path),
		cmocka_unit_test(test_key_file_modes),
		cmocka_unit_test(test_key_file_sizes),
		cmocka_unit_test(test_key_file_symlink),
		cmocka_unit_test(test_key_file_not_regular),
		cmocka_unit_test(test_key_file_owner),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_legacy_kid),
		cmocka_unit_test(test_reseal),
		cmocka_unit_test(test_open_existing),
		cmocka_unit_test(test_mask_and_wipe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
