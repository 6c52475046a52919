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
#include "tests/unit/store_test_util.h"

static void test_store_round_trip(void)
{
	size_t len = 3 * BLK + 1234;
	uint8_t *data = st_random_buf(len, 1);
	struct cs_store_extent ext;
	struct cs_store_stats stats;
	struct cs_store *st;
	uint8_t *buf = NULL;
	uint64_t got = 0;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, len), 0);
	st_check_chunk(st, CHUNK_A, 1, data, len);
	/* a block range from the middle */
	CU_ASSERT_EQUAL_FATAL(
	    st_get(st, CHUNK_A, 1, BLK, 2 * BLK, false, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, 2 * BLK);
	CU_ASSERT_EQUAL(memcmp(buf, data + BLK, 2 * BLK), 0);
	free(buf);
	/* the short last block, asked for exactly and by a longer range */
	CU_ASSERT_EQUAL_FATAL(
	    st_get(st, CHUNK_A, 1, 3 * BLK, 1234, true, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, 1234);
	free(buf);
	CU_ASSERT_EQUAL_FATAL(
	    st_get(st, CHUNK_A, 1, 3 * BLK, 4 * BLK, true, &buf, &got), 0);
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
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, data, 0), 0);
	CU_ASSERT_EQUAL_FATAL(
	    st_get(st, CHUNK_B, 1, 0, UINT64_MAX, true, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, 0);
	free(buf);
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.chunks, 2);
	CU_ASSERT_EQUAL(stats.used_bytes, 2 * CS_REPLICA_DATA_OFFSET + len);
	CU_ASSERT_EQUAL(stats.bytes_written, len);
	CU_ASSERT(stats.capacity_bytes > 0);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_TMP), 0);
	cs_store_close(st);
	free(data);
}

/* Replicas of 1 MiB and more go to disk with O_DIRECT through a staging
 * buffer (the header and a tail under 4 KiB through the page cache): any
 * length, fed in 10000-byte pieces, reads back as written, also after a
 * reopen, and a bad block in the middle is still refused. */
static void test_store_large_round_trip(void)
{
	const size_t lens[] = {1u << 20, (3u << 20) + 12345, (2u << 20) + 4096,
			       (1u << 20) + 4095};
	size_t n = sizeof(lens) / sizeof(lens[0]);
	uint8_t *data[4];
	struct cs_store *st;
	size_t i;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (i = 0; i < n; i++) {
		data[i] = st_random_buf(lens[i], (unsigned)i + 7);
		CU_ASSERT_EQUAL(st_put(st, CHUNK_A + i, 1, data[i], lens[i]),
				0);
		st_check_chunk(st, CHUNK_A + i, 1, data[i], lens[i]);
	}
	cs_store_close(st);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (i = 0; i < n; i++) {
		st_check_chunk(st, CHUNK_A + i, 1, data[i], lens[i]);
		free(data[i]);
	}
	cs_store_close(st);
}

static void test_store_crc_mismatch_refused(void)
{
	size_t len = 2 * BLK + 5;
	uint8_t *data = st_random_buf(len, 2);
	uint32_t crcs[3];
	struct cs_store_write *w = NULL;
	struct cs_store_stats stats;
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, len), 0);
	/* a bad middle block: refused as soon as it is complete */
	rfs_crc_blocks(data, len, crcs);
	crcs[1] ^= 1;
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_write_begin(st, CHUNK_A, 2, len, crcs, 3, &w), 0);
	CU_ASSERT_EQUAL(st_feed(w, data, len), -EBADMSG);
	CU_ASSERT_EQUAL(cs_store_write_bad_block(w), 1);
	cs_store_write_abort(w);
	/* a bad short last block: refused at commit */
	crcs[1] ^= 1;
	crcs[2] ^= 1;
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_write_begin(st, CHUNK_A, 2, len, crcs, 3, &w), 0);
	CU_ASSERT_EQUAL(st_feed(w, data, len), 0);
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
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_TMP), 0);
	CU_ASSERT_EQUAL(st_count_part(g_dir, "_00000002"), 0);
	st_check_chunk(st, CHUNK_A, 1, data, len);
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
	uint8_t *prev = calloc(1, cap);
	uint8_t *body = st_random_buf(cap, 3);
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

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	memcpy(model, body + cap - len, len);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, model, len), 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t base_len = steps[i].base_len ? steps[i].base_len : len;
		uint32_t ver = (uint32_t)i + 2;
		size_t prev_len = len;

		memcpy(prev, model, len);
		CU_ASSERT_EQUAL(st_update(st, CHUNK_A, ver, steps[i].off,
					  body + i * 1000, steps[i].len,
					  ver - 1, base_len),
				0);
		model_update(model, &len, steps[i].off, body + i * 1000,
			     steps[i].len, base_len);
		st_check_chunk(st, CHUNK_A, ver, model, len);
		/* the base stays readable (kept as an undo file) */
		st_check_chunk(st, CHUNK_A, ver - 1, prev, prev_len);
	}
	/* the newest version and its base's undo file; nothing temporary */
	CU_ASSERT_EQUAL(st_count_part(g_dir, "00000000000012ab_"), 2);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UNDO), 1);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	/* the index rebuilt at open picks the newest header slot */
	cs_store_close(st);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	st_check_chunk(st, CHUNK_A, 7, model, len);
	st_check_chunk(st, CHUNK_A, 6, prev, 3 * BLK + BLK / 2 + 3 * BLK);
	cs_store_close(st);
	free(prev);
	free(model);
	free(body);
}

static void test_store_range_update_refused(void)
{
	size_t len = 3 * BLK;
	uint8_t *data = st_random_buf(len, 4);
	uint32_t crcs[2];
	struct cs_store_write *w = NULL;
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 3, data, len), 0);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 5, 100, data, 10, 3, len),
			-EINVAL);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 3, 0, data, 10, 3, len),
			-EINVAL);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 5, 0, data, 10, 2, len),
			-ESTALE);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_B, 5, 0, data, 10, 3, len),
			-ENOENT);
	CU_ASSERT_EQUAL(
	    st_update(st, CHUNK_A, 5, RFS_CHUNK_SIZE_MAX, data, 10, 3, len),
	    -EINVAL);
	/* a bad block in the body: the replica is not touched */
	rfs_crc_blocks(data, BLK + 7, crcs);
	crcs[1] ^= 1;
	CU_ASSERT_EQUAL_FATAL(cs_store_update_begin(st, CHUNK_A, 5, 0, BLK + 7,
						    3, len, crcs, 2, &w),
			      0);
	CU_ASSERT_EQUAL(st_feed(w, data + BLK, BLK + 7), -EBADMSG);
	cs_store_write_abort(w);
	rfs_crc_blocks(data + BLK, BLK + 7, crcs);
	crcs[1] ^= 1;
	CU_ASSERT_EQUAL_FATAL(cs_store_update_begin(st, CHUNK_A, 5, 0, BLK + 7,
						    3, len, crcs, 2, &w),
			      0);
	CU_ASSERT_EQUAL(st_feed(w, data + BLK, BLK + 7), 0);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, false), -EBADMSG);
	st_check_chunk(st, CHUNK_A, 3, data, len);
	/* a newer version came between begin and commit: the update is
	 * built on a copy of its base, the newer version stays */
	rfs_crc_blocks(data, 10, crcs);
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_update_begin(st, CHUNK_A, 5, 0, 10, 3, len, crcs, 1, &w),
	    0);
	CU_ASSERT_EQUAL(st_feed(w, data, 10), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 4, data + 1, len - 1), 0);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, true), 0);
	st_check_chunk(st, CHUNK_A, 5, data, len);
	st_check_chunk(st, CHUNK_A, 4, data + 1, len - 1);
	/* one at least as new as the target: refused */
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_update_begin(st, CHUNK_A, 6, 0, 10, 4, len, crcs, 1, &w),
	    0);
	CU_ASSERT_EQUAL(st_feed(w, data, 10), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 7, data, len), 0);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, true), -ESTALE);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 6, 0, data, 10, 4, len - 1),
			-ESTALE);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	cs_store_close(st);
	free(data);
}

/* Rename a replica to ".updating" as a range update does first. */
static void start_update_by_hand(uint64_t id, uint32_t ver, char *upd)
{
	char path[PATH_LEN];

	st_replica_path(g_dir, id, ver, NULL, path);
	st_replica_path(g_dir, id, ver, CS_REPLICA_SUFFIX_UPDATING, upd);
	CU_ASSERT_EQUAL(rename(path, upd), 0);
}

static void test_store_updating_recovery(void)
{
	size_t len = 3 * BLK;
	uint8_t *data = st_random_buf(len, 5);
	uint8_t *fresh = st_random_buf(BLK, 6);
	struct cs_replica_hdr *hdr = calloc(1, sizeof(*hdr));
	struct cs_store_extent ext;
	char upd[PATH_LEN];
	char path[PATH_LEN];
	struct cs_store *st;
	unsigned slot = 9;
	int fd;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, len), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, data, len), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_C, 1, data, len), 0);
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

	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	st_replica_path(g_dir, CHUNK_A, 1, NULL, path);
	CU_ASSERT(st_exists(path));
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, BLK, true, &ext),
			0);
	cs_store_extent_release(&ext);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, len, true, &ext),
			-EIO);
	CU_ASSERT_EQUAL(ext.bad_block, 1);
	st_check_chunk(st, CHUNK_C, 1, data, len);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_B, 1, 0, BLK, false, &ext),
			-ESTALE);
	memcpy(data, fresh, BLK);
	st_check_chunk(st, CHUNK_B, 2, data, len);
	cs_store_close(st);
	free(hdr);
	free(fresh);
	free(data);
}

static void test_store_version_replacement(void)
{
	size_t len = BLK + 1;
	uint8_t *one = st_random_buf(len, 7);
	uint8_t *two = st_random_buf(len, 8);
	struct cs_store_extent ext;
	struct cs_store_stats stats;
	char path[PATH_LEN];
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, one, len), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 3, two, len), 0);
	/* the older version stays until it is deleted */
	st_replica_path(g_dir, CHUNK_A, 1, NULL, path);
	CU_ASSERT(st_exists(path));
	st_check_chunk(st, CHUNK_A, 1, one, len);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 2, 0, BLK, false, &ext),
			-ESTALE);
	st_check_chunk(st, CHUNK_A, 3, two, len);
	/* older versions are refused, the same version is rewritten */
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 2, one, len), -ESTALE);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 3, one, len), 0);
	st_check_chunk(st, CHUNK_A, 3, one, len);
	CU_ASSERT_EQUAL(st_count_part(g_dir, "00000000000012ab_"), 2);
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.chunks, 1);
	CU_ASSERT_EQUAL(stats.versions, 2);
	CU_ASSERT_EQUAL(stats.used_bytes, 2 * (CS_REPLICA_DATA_OFFSET + len));
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 1), 0);
	CU_ASSERT(!st_exists(path));
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.versions, 1);
	CU_ASSERT_EQUAL(stats.used_bytes, CS_REPLICA_DATA_OFFSET + len);
	cs_store_close(st);
	free(one);
	free(two);
}

static void test_store_delete(void)
{
	uint8_t *data = st_random_buf(BLK, 9);
	struct cs_store_stats stats;
	char path[PATH_LEN];
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 4, data, BLK), 0);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 3), -ESTALE);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_B, 4), -ENOENT);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 4), 0);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 4), -ENOENT);
	st_replica_path(g_dir, CHUNK_A, 4, NULL, path);
	CU_ASSERT(!st_exists(path));
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.chunks, 0);
	CU_ASSERT_EQUAL(stats.used_bytes, 0);
	/* a deleted chunk can be written again, at any version */
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, BLK), 0);
	st_check_chunk(st, CHUNK_A, 1, data, BLK);
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
	uint8_t *data = st_random_buf(2 * BLK, 10);
	struct rfs_inventory inv;
	struct cs_store *st;
	long i;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 0);
	rfs_proto_inventory_release(&inv);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, 2 * BLK), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 2, data, 10), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_C, 3, data, 0), 0);
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
	uint8_t *data = st_random_buf(BLK, 11);
	struct rfs_inventory inv;
	char path[PATH_LEN];
	struct cs_store *st = NULL;

	st_clean_dirs();
	/* C lives in the second dir; A has version 1 in the first dir and
	 * version 2 in the second, as after a crash during a move */
	CU_ASSERT_EQUAL_FATAL(cs_store_open(second, 1, &st), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_C, 4, data, BLK), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 2, data, 100), 0);
	cs_store_close(st);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, 200), 0);
	cs_store_close(st);

	CU_ASSERT_EQUAL_FATAL(cs_store_open(both, 2, &st), 0);
	st_check_chunk(st, CHUNK_C, 4, data, BLK);
	st_check_chunk(st, CHUNK_A, 2, data, 100);
	/* the older version is kept where it is, until deleted */
	st_check_chunk(st, CHUNK_A, 1, data, 200);
	st_replica_path(g_dir, CHUNK_A, 1, NULL, path);
	CU_ASSERT(st_exists(path));
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 1), 0);
	CU_ASSERT(!st_exists(path));
	/* new chunks land in either dir and are found there */
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, data, BLK), 0);
	st_check_chunk(st, CHUNK_B, 1, data, BLK);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 3);
	rfs_proto_inventory_release(&inv);
	/* replacing a chunk keeps it in its dir; deleting removes it there */
	CU_ASSERT_EQUAL(st_put(st, CHUNK_C, 5, data, 10), 0);
	st_replica_path(g_dir2, CHUNK_C, 5, NULL, path);
	CU_ASSERT(st_exists(path));
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_C, 5), 0);
	CU_ASSERT(!st_exists(path));
	cs_store_close(st);
	/* the version it replaced is the newest again */
	CU_ASSERT_EQUAL_FATAL(cs_store_open(both, 2, &st), 0);
	st_check_chunk(st, CHUNK_C, 4, data, BLK);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 3);
	rfs_proto_inventory_release(&inv);
	cs_store_close(st);
	free(data);
}

static void test_store_reopen_rebuilds_index(void)
{
	uint8_t *data = st_random_buf(4 * BLK, 12);
	struct cs_store_stats before;
	struct cs_store_stats after;
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (uint64_t id = 1; id <= 300; id++)
		CU_ASSERT_EQUAL(st_put(st, id << 8 | (id & 0xff), (uint32_t)id,
				       data, (size_t)(id * 777) % (4 * BLK)),
				0);
	cs_store_stats(st, &before);
	cs_store_close(st);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	cs_store_stats(st, &after);
	CU_ASSERT_EQUAL(after.chunks, 300);
	CU_ASSERT_EQUAL(after.used_bytes, before.used_bytes);
	for (uint64_t id = 1; id <= 300; id += 37)
		st_check_chunk(st, id << 8 | (id & 0xff), (uint32_t)id, data,
			       (size_t)(id * 777) % (4 * BLK));
	cs_store_close(st);
	free(data);
}

static void test_store_crash_leftovers_cleaned(void)
{
	uint8_t *data = st_random_buf(BLK, 13);
	struct rfs_inventory inv;
	char tmp[PATH_LEN];
	char other[PATH_LEN];
	char bad[PATH_LEN];
	char spool[PATH_LEN];
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, BLK), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, data, BLK), 0);
	cs_store_close(st);
	/* a write that never finished, a foreign file, a damaged header */
	st_replica_path(g_dir, CHUNK_A, 2, ".tmp.7", tmp);
	st_write_file(tmp, data, 5000);
	st_replica_path(g_dir, CHUNK_A, 2, ".orig", other);
	st_write_file(other, data, 10);
	st_replica_path(g_dir, CHUNK_B, 1, NULL, bad);
	CU_ASSERT(snprintf(spool, sizeof(spool), "%s/chunks/%s7", g_dir,
			   CS_REPLICA_SPOOL_PREFIX) < PATH_LEN);
	st_write_file(spool, data, 100);
	{
		int fd = open(bad, O_WRONLY);

		CU_ASSERT_EQUAL(pwrite(fd, "garbage", 7, 20), 7);
		close(fd);
	}
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT(!st_exists(tmp));
	CU_ASSERT(!st_exists(spool));
	CU_ASSERT(st_exists(other));
	CU_ASSERT(!st_exists(bad));
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_CORRUPT), 1);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 1);
	CU_ASSERT_EQUAL(inv_find(&inv, CHUNK_A), 0);
	rfs_proto_inventory_release(&inv);
	st_check_chunk(st, CHUNK_A, 1, data, BLK);
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
	uint8_t *data = st_random_buf(len, 14);
	struct rlimit old;
	struct rlimit lim;
	struct cs_store *st;
	void (*old_handler)(int);

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, len), 0);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = CS_REPLICA_DATA_OFFSET + 6 * BLK;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);

	/* a whole chunk that does not fit: refused before any data */
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, data, len), 0);
	{
		uint8_t *big = st_random_buf(8 * BLK, 15);

		CU_ASSERT_EQUAL(st_put(st, CHUNK_C, 1, big, 8 * BLK), -ENOSPC);
		free(big);
	}
	/* a range update that would grow the replica past the limit */
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 2, 7 * BLK, data, BLK, 1, len),
			-ENOSPC);

	CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_TMP), 0);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	CU_ASSERT_EQUAL(st_count_part(g_dir, "00000000000056ef"), 0);
	st_check_chunk(st, CHUNK_A, 1, data, len);
	st_check_chunk(st, CHUNK_B, 1, data, len);
	cs_store_close(st);
	free(data);
}

/* A replica stored without fsync is complete and readable at once, and a
 * sync afterwards succeeds. */
static void test_store_put_nosync_then_sync(void)
{
	struct cs_store *st = st_open_one();
	uint32_t crcs[2];
	struct cs_store_write *w = NULL;
	uint8_t *buf = st_random_buf(100000, 7);

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	rfs_crc_blocks(buf, 100000, crcs);
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_write_begin(st, 0x51, 1, 100000, crcs, 2, &w), 0);
	CU_ASSERT_EQUAL(st_feed(w, buf, 100000), 0);
	CU_ASSERT_EQUAL(cs_store_write_commit(w, false), 0);
	st_check_chunk(st, 0x51, 1, buf, 100000);
	CU_ASSERT_EQUAL(cs_store_sync(st), 0);
	st_check_chunk(st, 0x51, 1, buf, 100000);
	free(buf);
	cs_store_close(st);
}

static void test_store_server_id(void)
{
	char id[RFS_SERVER_ID_MAX + 1];
	char again[RFS_SERVER_ID_MAX + 1];
	const char *second[] = {g_dir2};
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(cs_store_server_id(st, NULL, id), 0);
	CU_ASSERT_EQUAL(strlen(id), 11);
	CU_ASSERT_EQUAL(strncmp(id, "cs-", 3), 0);
	CU_ASSERT_EQUAL(cs_store_server_id(st, "", again), 0);
	CU_ASSERT_STRING_EQUAL(again, id);
	cs_store_close(st);
	st = st_open_one();
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

	st_clean_dirs();
	st = st_open_one();
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

	a->rc =
	    st_put(a->st, CHUNK_A, a->version, a->data + a->version, 3 * BLK);
	return NULL;
}

/* Writers of one chunk id race; the newest version wins, whole. */
static void test_store_concurrent_writers(void)
{
	uint8_t *data = st_random_buf(3 * BLK + RACE_THREADS + 1, 16);
	struct race_arg args[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	struct cs_store *st;
	int n_ok = 0;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (int i = 0; i < RACE_THREADS; i++) {
		args[i] = (struct race_arg){st, data, (uint32_t)i + 1, 0};
		CU_ASSERT_EQUAL_FATAL(
		    pthread_create(&th[i], NULL, race_put, &args[i]), 0);
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT(args[i].rc == 0 || args[i].rc == -ESTALE);
		n_ok += args[i].rc == 0;
	}
	CU_ASSERT_EQUAL(args[RACE_THREADS - 1].rc, 0);
	st_check_chunk(st, CHUNK_A, RACE_THREADS, data + RACE_THREADS, 3 * BLK);
	/* every version stored is kept, whole */
	CU_ASSERT_EQUAL(st_count_part(g_dir, "00000000000012ab_"), n_ok);
	for (int i = 0; i < RACE_THREADS; i++)
		if (args[i].rc == 0)
			st_check_chunk(st, CHUNK_A, args[i].version,
				       data + args[i].version, 3 * BLK);
	cs_store_close(st);
	free(data);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_store_round_trip),
	    RFS_TEST(test_store_large_round_trip),
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
	    RFS_TEST(test_store_put_nosync_then_sync),
	    RFS_TEST(test_store_server_id),
	    RFS_TEST(test_store_dir_locked),
	    RFS_TEST(test_store_concurrent_writers),
	};
	static const struct rfs_test_suite suite = {
	    .name = "store",
	    RFS_TESTS(tests),
	    .init = st_setup,
	    .cleanup = st_teardown,
	};

	/* The store logs what it repairs; keep the test output readable. */
	rfs_log_setup("test_store", RFS_LOG_ERROR);
	return rfs_test_run(&suite, 1);
}
