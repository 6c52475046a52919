#include <config.h>
#include "chunkserver/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "chunkserver/replica.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "tests/unit/runner.h"

#define BLK	 RFS_CRC_BLOCK_BYTES
#define PATH_LEN 256
#define NFTW_FDS 16
/* Body pieces fed to the store: not a divisor of the block size, so CRCs
 * are chained across pieces and blocks end in the middle of a piece. */
#define PIECE_BYTES 10000
#define CHUNK_A	    0x00000000000012abull
#define CHUNK_B	    0x00000000000034cdull
#define CHUNK_C	    0x00000000000056efull

static char g_dir[PATH_LEN];
static char g_dir2[PATH_LEN];

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

static int setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/test_store.XXXXXX");
	snprintf(g_dir2, sizeof(g_dir2), "/tmp/test_store2.XXXXXX");
	if (!mkdtemp(g_dir) || !mkdtemp(g_dir2))
		return -1;
	return 0;
}

static int teardown(void)
{
	rm_tree(g_dir);
	rm_tree(g_dir2);
	return 0;
}

/* Start every test from empty data dirs. */
static void clean_dirs(void)
{
	rm_tree(g_dir);
	rm_tree(g_dir2);
	mkdir(g_dir, 0700);
	mkdir(g_dir2, 0700);
}

static struct cs_store *open_one(void)
{
	const char *dirs[] = {g_dir};
	struct cs_store *st = NULL;

	CU_ASSERT_EQUAL(cs_store_open(dirs, 1, &st), 0);
	return st;
}

static uint8_t *random_buf(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);

	srand(seed);
	for (size_t i = 0; p && i < len; i++)
		p[i] = (uint8_t)rand();
	return p;
}

/* Feed a body in pieces; returns the first error. */
static int feed(struct cs_store_write *w, const uint8_t *buf, size_t len)
{
	for (size_t off = 0; off < len; off += PIECE_BYTES) {
		size_t n = len - off < PIECE_BYTES ? len - off : PIECE_BYTES;
		int rc = cs_store_write_data(w, buf + off, n);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int put(struct cs_store *st, uint64_t id, uint32_t ver,
	       const uint8_t *buf, size_t len)
{
	size_t n = rfs_crc_block_count(len);
	uint32_t *crcs = calloc(n + 1, sizeof(*crcs));
	struct cs_store_write *w = NULL;
	int rc;

	rfs_crc_blocks(buf, len, crcs);
	rc = cs_store_write_begin(st, id, ver, len, crcs, n, &w);
	free(crcs);
	if (rc < 0)
		return rc;
	rc = feed(w, buf, len);
	if (rc < 0) {
		cs_store_write_abort(w);
		return rc;
	}
	return cs_store_write_commit(w, true);
}

static int update(struct cs_store *st, uint64_t id, uint32_t ver, uint64_t off,
		  const uint8_t *buf, size_t len, uint32_t base,
		  uint64_t base_len)
{
	size_t n = rfs_crc_block_count(len);
	uint32_t *crcs = calloc(n + 1, sizeof(*crcs));
	struct cs_store_write *w = NULL;
	int rc;

	rfs_crc_blocks(buf, len, crcs);
	rc = cs_store_update_begin(st, id, ver, off, len, base, base_len, crcs,
				   n, &w);
	free(crcs);
	if (rc < 0)
		return rc;
	rc = feed(w, buf, len);
	if (rc < 0) {
		cs_store_write_abort(w);
		return rc;
	}
	return cs_store_write_commit(w, true);
}

/*
 * Read [off, off + len) of a chunk into out (malloc'd) and check that the
 * CRCs handed out match the data. Returns the store's error or 0.
 */
static int get(struct cs_store *st, uint64_t id, uint32_t ver, uint64_t off,
	       uint64_t len, bool verify, uint8_t **out, uint64_t *out_len)
{
	struct cs_store_extent ext;
	uint32_t *crcs;
	uint8_t *buf;
	int rc = cs_store_read_open(st, id, ver, off, len, verify, &ext);

	if (rc < 0)
		return rc;
	buf = malloc(ext.len + 1);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(pread(ext.fd, buf, ext.len, (off_t)ext.file_offset),
			(ssize_t)ext.len);
	crcs = calloc(ext.n_crcs + 1, sizeof(*crcs));
	rfs_crc_blocks(buf, ext.len, crcs);
	CU_ASSERT_EQUAL(ext.n_crcs, rfs_crc_block_count(ext.len));
	CU_ASSERT_EQUAL(memcmp(crcs, ext.crcs, ext.n_crcs * sizeof(*crcs)), 0);
	free(crcs);
	*out = buf;
	*out_len = ext.len;
	cs_store_extent_release(&ext);
	return 0;
}

/* The whole chunk reads back as expect[0..len), with verified CRCs. */
static void check_chunk(struct cs_store *st, uint64_t id, uint32_t ver,
			const uint8_t *expect, size_t len)
{
	uint8_t *buf = NULL;
	uint64_t got = 0;

	CU_ASSERT_EQUAL_FATAL(get(st, id, ver, 0, UINT64_MAX, true, &buf, &got),
			      0);
	CU_ASSERT_EQUAL(got, len);
	CU_ASSERT(got == len && memcmp(buf, expect, len) == 0);
	free(buf);
}

static const char *g_part;
static int g_count;

static int count_entry(const char *path, const struct stat *sb, int flag,
		       struct FTW *ftw)
{
	(void)sb;
	if (flag == FTW_F && strstr(path + ftw->base, g_part))
		g_count++;
	return 0;
}

/* Files anywhere under dir whose name contains part. */
static int count_part(const char *dir, const char *part)
{
	g_part = part;
	g_count = 0;
	if (nftw(dir, count_entry, NFTW_FDS, FTW_PHYS) != 0)
		return -1;
	return g_count;
}

static void replica_path(const char *dir, uint64_t id, uint32_t ver,
			 const char *suffix, char *out)
{
	char name[CS_REPLICA_NAME_MAX];
	char sub[3];

	cs_replica_subdir(id, sub);
	cs_replica_name(id, ver, suffix, name);
	CU_ASSERT(snprintf(out, PATH_LEN, "%s/chunks/%s/%s", dir, sub, name) <
		  PATH_LEN);
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void test_store_round_trip(void)
{
	size_t len = 3 * BLK + 1234;
	uint8_t *data = random_buf(len, 1);
	struct cs_store_extent ext;
	struct cs_store_stats stats;
	struct cs_store *st;
	uint8_t *buf = NULL;
	uint64_t got = 0;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, len), 0);
	check_chunk(st, CHUNK_A, 1, data, len);
	/* a block range from the middle */
	CU_ASSERT_EQUAL_FATAL(
	    get(st, CHUNK_A, 1, BLK, 2 * BLK, false, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, 2 * BLK);
	CU_ASSERT_EQUAL(memcmp(buf, data + BLK, 2 * BLK), 0);
	free(buf);
	/* the short last block, asked for exactly and by a longer range */
	CU_ASSERT_EQUAL_FATAL(
	    get(st, CHUNK_A, 1, 3 * BLK, 1234, true, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, 1234);
	free(buf);
	CU_ASSERT_EQUAL_FATAL(
	    get(st, CHUNK_A, 1, 3 * BLK, 4 * BLK, true, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, 1234);
	CU_ASSERT_EQUAL(memcmp(buf, data + 3 * BLK, 1234), 0);
	free(buf);
	/* refused reads */
	CU_ASSERT_EQUAL(
	    cs_store_read_open(st, CHUNK_A, 1, 100, BLK, false, &ext), -EINVAL);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, 100, false, &ext),
			-EINVAL);
	CU_ASSERT_EQUAL(
	    cs_store_read_open(st, CHUNK_A, 1, 4 * BLK, BLK, false, &ext),
	    -EINVAL);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 2, 0, BLK, false, &ext),
			-ESTALE);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_B, 1, 0, BLK, false, &ext),
			-ENOENT);
	CU_ASSERT_EQUAL(ext.fd, -1);
	/* an empty chunk */
	CU_ASSERT_EQUAL(put(st, CHUNK_B, 1, data, 0), 0);
	CU_ASSERT_EQUAL_FATAL(
	    get(st, CHUNK_B, 1, 0, UINT64_MAX, true, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	free(buf);
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.chunks, 2);
	CU_ASSERT_EQUAL(stats.used_bytes, 2 * CS_REPLICA_DATA_OFFSET + len);
	CU_ASSERT_EQUAL(stats.bytes_written, len);
	CU_ASSERT(stats.capacity_bytes > 0);
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_TMP), 0);
	cs_store_close(st);
	free(data);
}

static void test_store_crc_mismatch_refused(void)
{
	size_t len = 2 * BLK + 5;
	uint8_t *data = random_buf(len, 2);
	uint32_t crcs[3];
	struct cs_store_write *w = NULL;
	struct cs_store_stats stats;
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, len), 0);
	/* a bad middle block: refused as soon as it is complete */
	rfs_crc_blocks(data, len, crcs);
	crcs[1] ^= 1;
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_write_begin(st, CHUNK_A, 2, len, crcs, 3, &w), 0);
	CU_ASSERT_EQUAL(feed(w, data, len), -EBADMSG);
	CU_ASSERT_EQUAL(cs_store_write_bad_block(w), 1);
	cs_store_write_abort(w);
	/* a bad short last block: refused at commit */
	crcs[1] ^= 1;
	crcs[2] ^= 1;
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_write_begin(st, CHUNK_A, 2, len, crcs, 3, &w), 0);
	CU_ASSERT_EQUAL(feed(w, data, len), 0);
	CU_ASSERT_EQUAL(cs_store_write_bad_block(w), 0);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, true), -EBADMSG);
	/* a short body, then too much body */
	crcs[2] ^= 1;
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_write_begin(st, CHUNK_A, 2, len, crcs, 3, &w), 0);
	CU_ASSERT_EQUAL(cs_store_write_data(w, data, BLK), 0);
	CU_ASSERT_EQUAL(cs_store_write_received(w), BLK);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, true), -EPROTO);
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_write_begin(st, CHUNK_A, 2, BLK, crcs, 1, &w), 0);
	CU_ASSERT_EQUAL(cs_store_write_data(w, data, BLK + 1), -E2BIG);
	cs_store_write_abort(w);
	/* a CRC list that does not fit the length */
	CU_ASSERT_EQUAL(cs_store_write_begin(st, CHUNK_A, 2, len, crcs, 2, &w),
			-EINVAL);
	/* nothing left behind; the old replica is intact */
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_TMP), 0);
	CU_ASSERT_EQUAL(count_part(g_dir, "_00000002"), 0);
	check_chunk(st, CHUNK_A, 1, data, len);
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.checksum_failures, 2);
	cs_store_close(st);
	free(data);
}

/* Range update applied to a model of the chunk. */
static void model_update(uint8_t *model, size_t *model_len, size_t off,
			 const uint8_t *body, size_t len, size_t base_len)
{
	size_t new_len = off + len > base_len ? off + len : base_len;

	if (base_len < *model_len)
		memset(model + base_len, 0, *model_len - base_len);
	if (new_len > *model_len)
		memset(model + *model_len, 0, new_len - *model_len);
	memcpy(model + off, body, len);
	*model_len = new_len;
}

static void test_store_range_update(void)
{
	size_t cap = 8 * BLK;
	uint8_t *model = calloc(1, cap);
	uint8_t *body = random_buf(cap, 3);
	size_t len = 5 * BLK;
	struct cs_store *st;
	/* offset, body length, base_length (0: the current length) */
	static const struct {
		size_t off;
		size_t len;
		size_t base_len;
	} steps[] = {
	    {BLK, 100000, 0},		 /* partial last block inside */
	    {5 * BLK, 1000, 0},		 /* extends the chunk */
	    {0, 1000, 2 * BLK + 10},	 /* cuts it at base_length */
	    {3 * BLK, BLK / 2, BLK + 5}, /* zeroed gap, partial blocks */
	    {0, 10, 3 * BLK + BLK / 2 + 3 * BLK}, /* base_length past end */
	    {2 * BLK, 0, 0}, /* empty body: new version only */
	};

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	memcpy(model, body + cap - len, len);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, model, len), 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t base_len = steps[i].base_len ? steps[i].base_len : len;
		uint32_t ver = (uint32_t)i + 2;

		CU_ASSERT_EQUAL(update(st, CHUNK_A, ver, steps[i].off,
				       body + i * 1000, steps[i].len, ver - 1,
				       base_len),
				0);
		model_update(model, &len, steps[i].off, body + i * 1000,
			     steps[i].len, base_len);
		check_chunk(st, CHUNK_A, ver, model, len);
	}
	/* one file, under the newest name; nothing temporary */
	CU_ASSERT_EQUAL(count_part(g_dir, "00000000000012ab_"), 1);
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	/* the index rebuilt at open picks the newest header slot */
	cs_store_close(st);
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	check_chunk(st, CHUNK_A, 7, model, len);
	cs_store_close(st);
	free(model);
	free(body);
}

static void test_store_range_update_refused(void)
{
	size_t len = 3 * BLK;
	uint8_t *data = random_buf(len, 4);
	uint32_t crcs[2];
	struct cs_store_write *w = NULL;
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 3, data, len), 0);
	CU_ASSERT_EQUAL(update(st, CHUNK_A, 5, 100, data, 10, 3, len), -EINVAL);
	CU_ASSERT_EQUAL(update(st, CHUNK_A, 3, 0, data, 10, 3, len), -EINVAL);
	CU_ASSERT_EQUAL(update(st, CHUNK_A, 5, 0, data, 10, 2, len), -ESTALE);
	CU_ASSERT_EQUAL(update(st, CHUNK_B, 5, 0, data, 10, 3, len), -ENOENT);
	CU_ASSERT_EQUAL(
	    update(st, CHUNK_A, 5, RFS_CHUNK_SIZE_MAX, data, 10, 3, len),
	    -EINVAL);
	/* a bad block in the body: the replica is not touched */
	rfs_crc_blocks(data, BLK + 7, crcs);
	crcs[1] ^= 1;
	CU_ASSERT_EQUAL_FATAL(cs_store_update_begin(st, CHUNK_A, 5, 0, BLK + 7,
						    3, len, crcs, 2, &w),
			      0);
	CU_ASSERT_EQUAL(feed(w, data + BLK, BLK + 7), -EBADMSG);
	cs_store_write_abort(w);
	rfs_crc_blocks(data + BLK, BLK + 7, crcs);
	crcs[1] ^= 1;
	CU_ASSERT_EQUAL_FATAL(cs_store_update_begin(st, CHUNK_A, 5, 0, BLK + 7,
						    3, len, crcs, 2, &w),
			      0);
	CU_ASSERT_EQUAL(feed(w, data + BLK, BLK + 7), 0);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, false), -EBADMSG);
	check_chunk(st, CHUNK_A, 3, data, len);
	/* the base changed between begin and commit */
	rfs_crc_blocks(data, 10, crcs);
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_update_begin(st, CHUNK_A, 5, 0, 10, 3, len, crcs, 1, &w),
	    0);
	CU_ASSERT_EQUAL(feed(w, data, 10), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 4, data, len), 0);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, true), -ESTALE);
	check_chunk(st, CHUNK_A, 4, data, len);
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	cs_store_close(st);
	free(data);
}

/* Rename a replica to ".updating" as a range update does first. */
static void start_update_by_hand(uint64_t id, uint32_t ver, char *upd)
{
	char path[PATH_LEN];

	replica_path(g_dir, id, ver, NULL, path);
	replica_path(g_dir, id, ver, CS_REPLICA_SUFFIX_UPDATING, upd);
	CU_ASSERT_EQUAL(rename(path, upd), 0);
}

static void test_store_updating_recovery(void)
{
	size_t len = 3 * BLK;
	uint8_t *data = random_buf(len, 5);
	uint8_t *fresh = random_buf(BLK, 6);
	struct cs_replica_hdr *hdr = calloc(1, sizeof(*hdr));
	struct cs_store_extent ext;
	char upd[PATH_LEN];
	char path[PATH_LEN];
	struct cs_store *st;
	unsigned slot = 9;
	int fd;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, len), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_B, 1, data, len), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_C, 1, data, len), 0);
	cs_store_close(st);

	/* A: crash while writing block 1: rolled back, block 1 is bad */
	start_update_by_hand(CHUNK_A, 1, upd);
	fd = open(upd, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, fresh, 100, CS_REPLICA_DATA_OFFSET + BLK),
			100);
	close(fd);
	/* B: crash after the new header: the update completed */
	start_update_by_hand(CHUNK_B, 1, upd);
	fd = open(upd, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, fresh, BLK, CS_REPLICA_DATA_OFFSET), BLK);
	CU_ASSERT_EQUAL(cs_replica_hdr_read(fd, hdr, &slot), 0);
	CU_ASSERT_EQUAL(slot, 0);
	hdr->seq++;
	hdr->version = 2;
	hdr->crcs[0] = rfs_crc32c(0, fresh, BLK);
	CU_ASSERT_EQUAL(cs_replica_hdr_write(fd, 1, hdr), 0);
	close(fd);
	/* C: crash while writing the new header: torn, the old one holds */
	start_update_by_hand(CHUNK_C, 1, upd);
	fd = open(upd, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, fresh, 3000, CS_REPLICA_SLOT_BYTES), 3000);
	close(fd);

	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	replica_path(g_dir, CHUNK_A, 1, NULL, path);
	CU_ASSERT(exists(path));
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, BLK, true, &ext),
			0);
	cs_store_extent_release(&ext);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, len, true, &ext),
			-EIO);
	CU_ASSERT_EQUAL(ext.bad_block, 1);
	check_chunk(st, CHUNK_C, 1, data, len);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_B, 1, 0, BLK, false, &ext),
			-ESTALE);
	memcpy(data, fresh, BLK);
	check_chunk(st, CHUNK_B, 2, data, len);
	cs_store_close(st);
	free(hdr);
	free(fresh);
	free(data);
}

static void test_store_version_replacement(void)
{
	size_t len = BLK + 1;
	uint8_t *one = random_buf(len, 7);
	uint8_t *two = random_buf(len, 8);
	struct cs_store_extent ext;
	struct cs_store_stats stats;
	char path[PATH_LEN];
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, one, len), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 3, two, len), 0);
	replica_path(g_dir, CHUNK_A, 1, NULL, path);
	CU_ASSERT(!exists(path));
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, BLK, false, &ext),
			-ESTALE);
	check_chunk(st, CHUNK_A, 3, two, len);
	/* older versions are refused, the same version is rewritten */
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 2, one, len), -ESTALE);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 3, one, len), 0);
	check_chunk(st, CHUNK_A, 3, one, len);
	CU_ASSERT_EQUAL(count_part(g_dir, "00000000000012ab_"), 1);
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.chunks, 1);
	CU_ASSERT_EQUAL(stats.used_bytes, CS_REPLICA_DATA_OFFSET + len);
	cs_store_close(st);
	free(one);
	free(two);
}

static void test_store_delete(void)
{
	uint8_t *data = random_buf(BLK, 9);
	struct cs_store_stats stats;
	char path[PATH_LEN];
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 4, data, BLK), 0);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 3), -ESTALE);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_B, 4), -ENOENT);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 4), 0);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 4), -ENOENT);
	replica_path(g_dir, CHUNK_A, 4, NULL, path);
	CU_ASSERT(!exists(path));
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.chunks, 0);
	CU_ASSERT_EQUAL(stats.used_bytes, 0);
	/* a deleted chunk can be written again, at any version */
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, BLK), 0);
	check_chunk(st, CHUNK_A, 1, data, BLK);
	cs_store_close(st);
	free(data);
}

/* Index of chunk id in an inventory, or -1. */
static long inv_find(const struct rfs_inventory *inv, uint64_t id)
{
	for (size_t i = 0; i < inv->n; i++) {
		if (inv->entries[i].chunk_id == id)
			return (long)i;
	}
	return -1;
}

static void test_store_inventory(void)
{
	uint8_t *data = random_buf(2 * BLK, 10);
	struct rfs_inventory inv;
	struct cs_store *st;
	long i;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 0);
	rfs_proto_inventory_release(&inv);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, 2 * BLK), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_B, 2, data, 10), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_C, 3, data, 0), 0);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_C, 3), 0);
	CU_ASSERT_EQUAL_FATAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 2);
	i = inv_find(&inv, CHUNK_A);
	CU_ASSERT_FATAL(i >= 0);
	CU_ASSERT_EQUAL(inv.entries[i].version, 1);
	CU_ASSERT_EQUAL(inv.entries[i].length, 2 * BLK);
	i = inv_find(&inv, CHUNK_B);
	CU_ASSERT_FATAL(i >= 0);
	CU_ASSERT_EQUAL(inv.entries[i].version, 2);
	CU_ASSERT_EQUAL(inv.entries[i].length, 10);
	CU_ASSERT_EQUAL(inv_find(&inv, CHUNK_C), -1);
	rfs_proto_inventory_release(&inv);
	cs_store_close(st);
	free(data);
}

static void test_store_two_dirs(void)
{
	const char *second[] = {g_dir2};
	const char *both[] = {g_dir, g_dir2};
	uint8_t *data = random_buf(BLK, 11);
	struct rfs_inventory inv;
	char path[PATH_LEN];
	struct cs_store *st = NULL;

	clean_dirs();
	/* C lives in the second dir; A has version 1 in the first dir and
	 * version 2 in the second, as after a crash during a move */
	CU_ASSERT_EQUAL_FATAL(cs_store_open(second, 1, &st), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_C, 4, data, BLK), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 2, data, 100), 0);
	cs_store_close(st);
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, 200), 0);
	cs_store_close(st);

	CU_ASSERT_EQUAL_FATAL(cs_store_open(both, 2, &st), 0);
	check_chunk(st, CHUNK_C, 4, data, BLK);
	check_chunk(st, CHUNK_A, 2, data, 100);
	replica_path(g_dir, CHUNK_A, 1, NULL, path);
	CU_ASSERT(!exists(path));
	/* new chunks land in either dir and are found there */
	CU_ASSERT_EQUAL(put(st, CHUNK_B, 1, data, BLK), 0);
	check_chunk(st, CHUNK_B, 1, data, BLK);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 3);
	rfs_proto_inventory_release(&inv);
	/* replacing a chunk keeps it in its dir; deleting removes it there */
	CU_ASSERT_EQUAL(put(st, CHUNK_C, 5, data, 10), 0);
	replica_path(g_dir2, CHUNK_C, 5, NULL, path);
	CU_ASSERT(exists(path));
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_C, 5), 0);
	CU_ASSERT(!exists(path));
	cs_store_close(st);
	CU_ASSERT_EQUAL_FATAL(cs_store_open(both, 2, &st), 0);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 2);
	rfs_proto_inventory_release(&inv);
	cs_store_close(st);
	free(data);
}

static void test_store_reopen_rebuilds_index(void)
{
	uint8_t *data = random_buf(4 * BLK, 12);
	struct cs_store_stats before;
	struct cs_store_stats after;
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (uint64_t id = 1; id <= 300; id++)
		CU_ASSERT_EQUAL(put(st, id << 8 | (id & 0xff), (uint32_t)id,
				    data, (size_t)(id * 777) % (4 * BLK)),
				0);
	cs_store_stats(st, &before);
	cs_store_close(st);
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	cs_store_stats(st, &after);
	CU_ASSERT_EQUAL(after.chunks, 300);
	CU_ASSERT_EQUAL(after.used_bytes, before.used_bytes);
	for (uint64_t id = 1; id <= 300; id += 37)
		check_chunk(st, id << 8 | (id & 0xff), (uint32_t)id, data,
			    (size_t)(id * 777) % (4 * BLK));
	cs_store_close(st);
	free(data);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void test_store_crash_leftovers_cleaned(void)
{
	uint8_t *data = random_buf(BLK, 13);
	struct rfs_inventory inv;
	char tmp[PATH_LEN];
	char other[PATH_LEN];
	char bad[PATH_LEN];
	char spool[PATH_LEN];
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, BLK), 0);
	CU_ASSERT_EQUAL(put(st, CHUNK_B, 1, data, BLK), 0);
	cs_store_close(st);
	/* a write that never finished, a foreign file, a damaged header */
	replica_path(g_dir, CHUNK_A, 2, ".tmp.7", tmp);
	write_file(tmp, data, 5000);
	replica_path(g_dir, CHUNK_A, 2, ".orig", other);
	write_file(other, data, 10);
	replica_path(g_dir, CHUNK_B, 1, NULL, bad);
	CU_ASSERT(snprintf(spool, sizeof(spool), "%s/chunks/%s7", g_dir,
			   CS_REPLICA_SPOOL_PREFIX) < PATH_LEN);
	write_file(spool, data, 100);
	{
		int fd = open(bad, O_WRONLY);

		CU_ASSERT_EQUAL(pwrite(fd, "garbage", 7, 20), 7);
		close(fd);
	}
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT(!exists(tmp));
	CU_ASSERT(!exists(spool));
	CU_ASSERT(exists(other));
	CU_ASSERT(!exists(bad));
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_CORRUPT), 1);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 1);
	CU_ASSERT_EQUAL(inv_find(&inv, CHUNK_A), 0);
	rfs_proto_inventory_release(&inv);
	check_chunk(st, CHUNK_A, 1, data, BLK);
	cs_store_close(st);
	free(data);
}

/*
 * A full disk, simulated with RLIMIT_FSIZE (writes past the limit fail
 * with EFBIG, which the store reports as ENOSPC like a full disk).
 */
static void test_store_enospc(void)
{
	size_t len = 4 * BLK;
	uint8_t *data = random_buf(len, 14);
	struct rlimit old;
	struct rlimit lim;
	struct cs_store *st;
	void (*old_handler)(int);

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(put(st, CHUNK_A, 1, data, len), 0);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = CS_REPLICA_DATA_OFFSET + 6 * BLK;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);

	/* a whole chunk that does not fit: refused before any data */
	CU_ASSERT_EQUAL(put(st, CHUNK_B, 1, data, len), 0);
	{
		uint8_t *big = random_buf(8 * BLK, 15);

		CU_ASSERT_EQUAL(put(st, CHUNK_C, 1, big, 8 * BLK), -ENOSPC);
		free(big);
	}
	/* a range update that would grow the replica past the limit */
	CU_ASSERT_EQUAL(update(st, CHUNK_A, 2, 7 * BLK, data, BLK, 1, len),
			-ENOSPC);

	CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_TMP), 0);
	CU_ASSERT_EQUAL(count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	CU_ASSERT_EQUAL(count_part(g_dir, "00000000000056ef"), 0);
	check_chunk(st, CHUNK_A, 1, data, len);
	check_chunk(st, CHUNK_B, 1, data, len);
	cs_store_close(st);
	free(data);
}

static void test_store_server_id(void)
{
	char id[RFS_SERVER_ID_MAX + 1];
	char again[RFS_SERVER_ID_MAX + 1];
	const char *second[] = {g_dir2};
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(cs_store_server_id(st, NULL, id), 0);
	CU_ASSERT_EQUAL(strlen(id), 11);
	CU_ASSERT_EQUAL(strncmp(id, "cs-", 3), 0);
	CU_ASSERT_EQUAL(cs_store_server_id(st, "", again), 0);
	CU_ASSERT_STRING_EQUAL(again, id);
	cs_store_close(st);
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(cs_store_server_id(st, id, again), 0);
	CU_ASSERT_STRING_EQUAL(again, id);
	CU_ASSERT_EQUAL(cs_store_server_id(st, "other", again), -EEXIST);
	CU_ASSERT_EQUAL(cs_store_server_id(st, "bad id!", again), -EINVAL);
	cs_store_close(st);
	CU_ASSERT_EQUAL_FATAL(cs_store_open(second, 1, &st), 0);
	CU_ASSERT_EQUAL(cs_store_server_id(st, "cs-7", again), 0);
	CU_ASSERT_STRING_EQUAL(again, "cs-7");
	cs_store_close(st);
}

static void test_store_dir_locked(void)
{
	const char *dup[] = {g_dir, g_dir};
	struct cs_store *st;
	struct cs_store *st2 = NULL;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(cs_store_open(dup, 1, &st2), -EBUSY);
	cs_store_close(st);
	CU_ASSERT_EQUAL(cs_store_open(dup, 2, &st2), -EBUSY);
	CU_ASSERT_EQUAL(cs_store_open(dup, 0, &st2), -EINVAL);
	CU_ASSERT_PTR_NULL(st2);
}

#define RACE_THREADS 8

struct race_arg {
	struct cs_store *st;
	const uint8_t *data;
	uint32_t version;
	int rc;
};

static void *race_put(void *p)
{
	struct race_arg *a = p;

	a->rc = put(a->st, CHUNK_A, a->version, a->data + a->version, 3 * BLK);
	return NULL;
}

/* Writers of one chunk id race; the newest version wins, whole. */
static void test_store_concurrent_writers(void)
{
	uint8_t *data = random_buf(3 * BLK + RACE_THREADS + 1, 16);
	struct race_arg args[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	struct cs_store *st;

	clean_dirs();
	st = open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (int i = 0; i < RACE_THREADS; i++) {
		args[i] = (struct race_arg){st, data, (uint32_t)i + 1, 0};
		CU_ASSERT_EQUAL_FATAL(
		    pthread_create(&th[i], NULL, race_put, &args[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT(args[i].rc == 0 || args[i].rc == -ESTALE);
	}
	CU_ASSERT_EQUAL(args[RACE_THREADS - 1].rc, 0);
	check_chunk(st, CHUNK_A, RACE_THREADS, data + RACE_THREADS, 3 * BLK);
	CU_ASSERT_EQUAL(count_part(g_dir, "00000000000012ab_"), 1);
	cs_store_close(st);
	free(data);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_store_round_trip),
	    RFS_TEST(test_store_crc_mismatch_refused),
	    RFS_TEST(test_store_range_update),
	    RFS_TEST(test_store_range_update_refused),
	    RFS_TEST(test_store_updating_recovery),
	    RFS_TEST(test_store_version_replacement),
	    RFS_TEST(test_store_delete),
	    RFS_TEST(test_store_inventory),
	    RFS_TEST(test_store_two_dirs),
	    RFS_TEST(test_store_reopen_rebuilds_index),
	    RFS_TEST(test_store_crash_leftovers_cleaned),
	    RFS_TEST(test_store_enospc),
	    RFS_TEST(test_store_server_id),
	    RFS_TEST(test_store_dir_locked),
	    RFS_TEST(test_store_concurrent_writers),
	};
	static const struct rfs_test_suite suite = {
	    .name = "store",
	    RFS_TESTS(tests),
	    .init = setup,
	    .cleanup = teardown,
	};

	/* The store logs what it repairs; keep the test output readable. */
	rfs_log_setup("test_store", RFS_LOG_ERROR);
	return rfs_test_run(&suite, 1);
}
