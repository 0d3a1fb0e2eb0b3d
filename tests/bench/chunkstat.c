/*
 * chunkstat: what execfs's store really holds for the streams of one
 * execution, for scripts/bench (the stored-bytes figure of issue 12). It
 * opens the daemon's LMDB environment read-only beside the running daemon
 * (LMDB readers need no lock the daemon holds), walks the keys of the
 * "chunk" database that start with SERIAL (core/store_rec.c: a chunk key is
 * the serial, 8 bytes big-endian, the stream byte, then the chunk's offset,
 * 8 bytes big-endian) and sums, per stream, the chunks and their value
 * bytes, and the bytes those chunks take in the map: a value too large for
 * a leaf page lives on overflow pages of its own (whole pages, with a page
 * header), the rest inside leaf pages (node header, key and value). It also
 * prints the page counts of the whole chunk database (mdb_stat), so that a
 * caller can take their difference around one run.
 *
 * It prints one line of key=value pairs, like fsbench:
 *
 *   op=chunkstat serial=S psize=P chunks=N value_bytes=V map_bytes=M
 *     s0_chunks= s0_bytes= s1_chunks= s1_bytes= s2_chunks= s2_bytes= db_pages= db_bytes=
 *     db_entries= map_used_bytes=
 *
 * (on one line; sK: stream K, 0 the log and 1 the events of core/plane.h;
 * map_used_bytes: the pages the whole environment uses). SERIAL 0 prints
 * only the database figures. It measures and prints; it exits non-zero only
 * for bad usage or when the environment or the database cannot be read.
 *
 * usage: chunkstat STATE_DIR [SERIAL]
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_KEYLEN 17  /* serial (8), stream (1), offset (8) */
#define CS_STREAMS 4  /* stream bytes counted separately */
#define CS_PAGEHDR 16 /* LMDB's page header (PAGEHDRSZ) */
#define CS_NODEHDR 8  /* LMDB's leaf node header (NODESIZE) */

struct cs_sum {
	uint64_t chunks, value_bytes, map_bytes;
	uint64_t s_chunks[CS_STREAMS], s_bytes[CS_STREAMS];
};

/* The bytes one chunk of @vlen takes in a map of @psize-byte pages: the
 * largest node a leaf page takes inline is LMDB's me_nodemax. */
static uint64_t chunk_map_bytes(size_t vlen, unsigned psize)
{
	size_t nodemax = (((size_t)psize - CS_PAGEHDR) / 2 & ~(size_t)1) - 2;
	size_t node = CS_NODEHDR + CS_KEYLEN + vlen;
	uint64_t pages;

	if (node <= nodemax)
		return (node + 1) / 2 * 2 + 2; /* even, plus its index */
	pages = (CS_PAGEHDR - 1 + (uint64_t)vlen) / psize + 1;
	return pages * psize + CS_NODEHDR + CS_KEYLEN + 8 + 2;
}

static void serial_key(unsigned char out[8], uint64_t serial)
{
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(serial >> (8 * (7 - i)));
}

/* Sums the chunks of @serial into @s; an LMDB code. */
static int sum_serial(MDB_txn *txn, MDB_dbi dbi, uint64_t serial,
		      unsigned psize, struct cs_sum *s)
{
	unsigned char pre[8];
	MDB_cursor *cur = NULL;
	MDB_val k = {sizeof(pre), pre}, v;
	int rc = mdb_cursor_open(txn, dbi, &cur);

	serial_key(pre, serial);
	if (!rc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (!rc && k.mv_size == CS_KEYLEN && !memcmp(k.mv_data, pre, 8)) {
		unsigned st = ((unsigned char *)k.mv_data)[8];

		s->chunks++;
		s->value_bytes += v.mv_size;
		s->map_bytes += chunk_map_bytes(v.mv_size, psize);
		if (st < CS_STREAMS) {
			s->s_chunks[st]++;
			s->s_bytes[st] += v.mv_size;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int parse_serial(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

static void print_line(uint64_t serial, const MDB_stat *db,
		       const MDB_envinfo *ei, unsigned psize,
		       const struct cs_sum *s)
{
	uint64_t pages = (uint64_t)db->ms_branch_pages + db->ms_leaf_pages +
			 db->ms_overflow_pages;

	printf("op=chunkstat serial=%" PRIu64 " psize=%u chunks=%" PRIu64
	       " value_bytes=%" PRIu64 " map_bytes=%" PRIu64,
	       serial, psize, s->chunks, s->value_bytes, s->map_bytes);
	for (int i = 0; i < 3; i++)
		printf(" s%d_chunks=%" PRIu64 " s%d_bytes=%" PRIu64, i,
		       s->s_chunks[i], i, s->s_bytes[i]);
	printf(" db_pages=%" PRIu64 " db_bytes=%" PRIu64 " db_entries=%zu"
	       " map_used_bytes=%" PRIu64 "\n",
	       pages, pages * psize, (size_t)db->ms_entries,
	       ((uint64_t)ei->me_last_pgno + 1) * psize);
}

int main(int argc, char **argv)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_stat db, es;
	MDB_envinfo ei;
	struct cs_sum s = {0};
	uint64_t serial = 0;
	int rc;

	if (argc < 2 || argc > 3 ||
	    (argc == 3 && parse_serial(argv[2], &serial))) {
		fprintf(stderr, "usage: chunkstat STATE_DIR [SERIAL]\n");
		return 2;
	}
	rc = mdb_env_create(&env);
	if (!rc)
		rc = mdb_env_set_maxdbs(env, 8);
	if (!rc)
		rc = mdb_env_open(env, argv[1], MDB_RDONLY, 0);
	if (!rc)
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (!rc)
		rc = mdb_dbi_open(txn, "chunk", 0, &dbi);
	if (!rc)
		rc = mdb_env_stat(env, &es);
	if (!rc)
		rc = mdb_stat(txn, dbi, &db);
	if (!rc)
		rc = mdb_env_info(env, &ei);
	if (!rc && serial)
		rc = sum_serial(txn, dbi, serial, es.ms_psize, &s);
	if (!rc)
		print_line(serial, &db, &ei, es.ms_psize, &s);
	else
		fprintf(stderr, "chunkstat: %s: %s\n", argv[1],
			mdb_strerror(rc));
	if (txn)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc ? 1 : 0;
}
