/*
 * Unit tests for the older versions the chunk store keeps beside the
 * newest one (chunkserver/store_ver.c, store_update.c, store_read.c):
 * whole writes and range updates keep their base readable, undo files,
 * range updates on an older base, deletes, inventories, crash recovery.
 */
#include <config.h>
#include "chunkserver/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "chunkserver/replica.h"
#include "chunkserver/store_priv.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "tests/unit/runner.h"
#include "tests/unit/store_test_util.h"

/* Versions of id listed in an inventory, as a bit mask (versions < 32). */
static uint32_t inv_versions(const struct rfs_inventory *inv, uint64_t id)
{
	uint32_t mask = 0;

	for (size_t i = 0; i < inv->n; i++)
		if (inv->entries[i].chunk_id == id &&
		    inv->entries[i].version < 32)
			mask |= 1u << inv->entries[i].version;
	return mask;
}

/* Size of a file, -1 when it is missing. */
static long long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void test_store_ver_whole_write_keeps_older(void)
{
	size_t len = 2 * BLK + 10;
	uint8_t *one = st_random_buf(len, 21);
	uint8_t *two = st_random_buf(len, 22);
	struct rfs_inventory inv;
	struct cs_store_stats stats;
	char path[PATH_LEN];
	struct cs_store *st;
	uint64_t gen;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, one, len), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, one, BLK), 0);
	gen = cs_store_superseded_gen(st);
	CU_ASSERT_EQUAL(cs_store_superseded_count(st), 0);
	/* version 2 written, not committed anywhere: version 1 still reads */
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 2, two, len), 0);
	CU_ASSERT(cs_store_superseded_gen(st) != gen);
	CU_ASSERT_EQUAL(cs_store_superseded_count(st), 1);
	st_check_chunk(st, CHUNK_A, 1, one, len);
	st_check_chunk(st, CHUNK_A, 2, two, len);
	CU_ASSERT_EQUAL_FATAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 3);
	CU_ASSERT_EQUAL(inv_versions(&inv, CHUNK_A), (1u << 1) | (1u << 2));
	rfs_proto_inventory_release(&inv);
	CU_ASSERT_EQUAL_FATAL(cs_store_superseded(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 2);
	CU_ASSERT_EQUAL(inv_versions(&inv, CHUNK_B), 0);
	rfs_proto_inventory_release(&inv);
	/* both survive a restart */
	cs_store_close(st);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	st_check_chunk(st, CHUNK_A, 1, one, len);
	st_check_chunk(st, CHUNK_A, 2, two, len);
	/* the metaserver calls version 1 stale: file and space go */
	st_replica_path(g_dir, CHUNK_A, 1, NULL, path);
	CU_ASSERT(st_exists(path));
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 1), 0);
	CU_ASSERT(!st_exists(path));
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 1), -ESTALE);
	CU_ASSERT_EQUAL(cs_store_superseded_count(st), 0);
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.chunks, 2);
	CU_ASSERT_EQUAL(stats.versions, 2);
	CU_ASSERT_EQUAL(stats.used_bytes,
			2 * CS_REPLICA_DATA_OFFSET + len + BLK);
	st_check_chunk(st, CHUNK_A, 2, two, len);
	cs_store_close(st);
	free(one);
	free(two);
}

/* Deleting the newest version: the next older full one takes its place;
 * undo versions over it go with it. */
static void test_store_ver_delete_newest(void)
{
	uint8_t *one = st_random_buf(3 * BLK, 23);
	uint8_t *two = st_random_buf(3 * BLK, 24);
	struct rfs_inventory inv;
	struct cs_store_stats stats;
	struct cs_store_extent ext;
	struct cs_store *st;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, one, 3 * BLK), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 2, two, 3 * BLK), 0);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 2), 0);
	st_check_chunk(st, CHUNK_A, 1, one, 3 * BLK);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 2, 0, BLK, false, &ext),
			-ESTALE);
	CU_ASSERT_EQUAL(cs_store_superseded_count(st), 0);
	/* an update in place keeps version 1 as an undo file over 2 */
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 2, BLK, two, 10, 1, 3 * BLK), 0);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UNDO), 1);
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 2), 0);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, BLK, false, &ext),
			-ENOENT);
	CU_ASSERT_EQUAL(st_count_part(g_dir, "00000000000012ab"), 0);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv.n, 0);
	rfs_proto_inventory_release(&inv);
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.used_bytes, 0);
	CU_ASSERT_EQUAL(stats.versions, 0);
	cs_store_close(st);
	free(one);
	free(two);
}

/* Read [off, off + len) of a version and compare with expect. */
static void check_range(struct cs_store *st, uint32_t ver, uint64_t off,
			uint64_t len, const uint8_t *expect, bool in_memory)
{
	struct cs_store_extent ext;
	uint8_t *buf = NULL;
	uint64_t got = 0;

	CU_ASSERT_EQUAL_FATAL(
	    st_get(st, CHUNK_A, ver, off, len, true, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, len);
	CU_ASSERT(got == len && memcmp(buf, expect + off, len) == 0);
	free(buf);
	CU_ASSERT_EQUAL_FATAL(
	    cs_store_read_open(st, CHUNK_A, ver, off, len, false, &ext), 0);
	CU_ASSERT_EQUAL(ext.buf != NULL, in_memory);
	cs_store_extent_release(&ext);
}

static void test_store_ver_undo_reads(void)
{
	size_t len = 4 * BLK + 100;
	size_t body_len = 100000;
	uint8_t *one = st_random_buf(len, 25);
	uint8_t *body = st_random_buf(body_len, 26);
	uint8_t *two = malloc(len);
	struct cs_store_stats stats;
	char undo[PATH_LEN];
	struct cs_store *st;

	memcpy(two, one, len);
	memcpy(two + BLK, body, body_len);
	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, one, len), 0);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 2, BLK, body, body_len, 1, len),
			0);
	/* only the bytes the update changed were saved */
	st_replica_path(g_dir, CHUNK_A, 1, CS_REPLICA_SUFFIX_UNDO, undo);
	CU_ASSERT_EQUAL(file_size(undo),
			(long long)(CS_REPLICA_DATA_OFFSET + body_len));
	cs_store_stats(st, &stats);
	CU_ASSERT_EQUAL(stats.versions, 2);
	CU_ASSERT_EQUAL(stats.used_bytes,
			2 * CS_REPLICA_DATA_OFFSET + len + body_len);
	for (int round = 0; round < 2; round++) {
		st_check_chunk(st, CHUNK_A, 2, two, len);
		st_check_chunk(st, CHUNK_A, 1, one, len);
		/* ranges missing the saved bytes come from version 2's file */
		check_range(st, 1, 0, BLK, one, false);
		check_range(st, 1, 3 * BLK, len - 3 * BLK, one, false);
		check_range(st, 1, 2 * BLK, BLK, one, true);
		/* the same after a restart */
		cs_store_close(st);
		st = st_open_one();
		CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	}
	CU_ASSERT_EQUAL(cs_store_delete(st, CHUNK_A, 1), 0);
	CU_ASSERT(!st_exists(undo));
	st_check_chunk(st, CHUNK_A, 2, two, len);
	cs_store_close(st);
	free(one);
	free(two);
	free(body);
}

/* A base cut short by the metaserver (base_length below its length): the
 * undo file holds everything from the cut on. */
static void test_store_ver_undo_of_cut_base(void)
{
	size_t len = 3 * BLK + 7;
	uint8_t *one = st_random_buf(len, 27);
	uint8_t *body = st_random_buf(BLK / 2, 28);
	uint8_t *two = calloc(1, 2 * BLK + BLK / 2);
	char undo[PATH_LEN];
	struct cs_store *st;

	memcpy(two, one, 100);
	memcpy(two + 2 * BLK, body, BLK / 2);
	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, one, len), 0);
	CU_ASSERT_EQUAL(
	    st_update(st, CHUNK_A, 2, 2 * BLK, body, BLK / 2, 1, 100), 0);
	st_check_chunk(st, CHUNK_A, 2, two, 2 * BLK + BLK / 2);
	st_check_chunk(st, CHUNK_A, 1, one, len);
	st_replica_path(g_dir, CHUNK_A, 1, CS_REPLICA_SUFFIX_UNDO, undo);
	CU_ASSERT_EQUAL(file_size(undo),
			(long long)(CS_REPLICA_DATA_OFFSET + len - 100));
	cs_store_close(st);
	free(one);
	free(two);
	free(body);
}

/*
 * The writer of version 2 died before its commit; the next lease (3) names
 * 1 as its base: version 3 is built from a copy of 1 and 2 stays. Once a
 * write is based on 3, everything older goes.
 */
static void test_store_ver_update_on_older_base(void)
{
	size_t len = 3 * BLK;
	uint8_t *one = st_random_buf(len, 29);
	uint8_t *x = st_random_buf(BLK, 30);
	uint8_t *v2 = malloc(len);
	uint8_t *v3 = malloc(len);
	uint8_t *v4 = malloc(len);
	struct rfs_inventory inv;
	struct cs_store *st;

	memcpy(v2, one, len);
	memcpy(v2, x, 1000);
	memcpy(v3, one, len);
	memcpy(v3 + 2 * BLK, x, 5000);
	memcpy(v4, v3, len);
	memcpy(v4 + BLK, x + 7, 300);
	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, one, len), 0);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 2, 0, x, 1000, 1, len), 0);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 3, 2 * BLK, x, 5000, 1, len), 0);
	st_check_chunk(st, CHUNK_A, 3, v3, len);
	st_check_chunk(st, CHUNK_A, 2, v2, len);
	st_check_chunk(st, CHUNK_A, 1, one, len);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv_versions(&inv, CHUNK_A), 0xeu);
	rfs_proto_inventory_release(&inv);
	/* a write based on 3 proves 3 committed: 1 and 2 are stale */
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 4, BLK, x + 7, 300, 3, len), 0);
	st_check_chunk(st, CHUNK_A, 4, v4, len);
	st_check_chunk(st, CHUNK_A, 3, v3, len);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv_versions(&inv, CHUNK_A), 0x18u);
	rfs_proto_inventory_release(&inv);
	CU_ASSERT_EQUAL(st_count_part(g_dir, "00000000000012ab_"), 2);
	/* an older full base: version 5 written whole, never committed */
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 5, one, len), 0);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 6, 0, x, 1000, 4, len), 0);
	memcpy(v4, x, 1000);
	st_check_chunk(st, CHUNK_A, 6, v4, len);
	st_check_chunk(st, CHUNK_A, 5, one, len);
	CU_ASSERT_EQUAL(cs_store_inventory(st, &inv), 0);
	CU_ASSERT_EQUAL(inv_versions(&inv, CHUNK_A), 0x70u);
	rfs_proto_inventory_release(&inv);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_TMP), 0);
	cs_store_close(st);
	free(one);
	free(x);
	free(v2);
	free(v3);
	free(v4);
}

/* Save an undo file of version ver of CHUNK_A over version over, as a
 * range update does before touching the replica. */
static void save_undo_by_hand(struct cs_store *st, uint32_t ver, uint32_t over,
			      uint64_t start, uint64_t end)
{
	struct cs_replica_hdr *hdr = calloc(1, sizeof(*hdr));
	char path[PATH_LEN];
	char sub[PATH_LEN];
	unsigned slot;
	int sub_fd;
	int fd;

	st_replica_path(g_dir, CHUNK_A, ver, NULL, path);
	snprintf(sub, sizeof(sub), "%.*s", (int)(strrchr(path, '/') - path),
		 path);
	sub_fd = open(sub, O_RDONLY | O_DIRECTORY);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(hdr && sub_fd >= 0 && fd >= 0);
	CU_ASSERT_EQUAL(cs_replica_hdr_read(fd, hdr, &slot), 0);
	CU_ASSERT_EQUAL(
	    cs_undo_save(st, sub_fd, fd, hdr, over, start, end, true), 0);
	close(fd);
	close(sub_fd);
	free(hdr);
}

/* Crash in the middle of an update in place: the changed bytes come back
 * from the undo file; crash after it: the base reads through the undo. */
static void test_store_ver_crash_recovery_with_undo(void)
{
	size_t len = 3 * BLK;
	uint8_t *data = st_random_buf(len, 31);
	uint8_t *fresh = st_random_buf(BLK, 32);
	struct cs_replica_hdr *hdr = calloc(1, sizeof(*hdr));
	char upd[PATH_LEN];
	char path[PATH_LEN];
	struct cs_store *st;
	unsigned slot;
	int fd;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, len), 0);
	save_undo_by_hand(st, 1, 2, BLK, 2 * BLK);
	cs_store_close(st);
	/* rolled back: block 1 half rewritten when the crash came */
	st_replica_path(g_dir, CHUNK_A, 1, NULL, path);
	st_replica_path(g_dir, CHUNK_A, 1, CS_REPLICA_SUFFIX_UPDATING, upd);
	CU_ASSERT_EQUAL(rename(path, upd), 0);
	fd = open(upd, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, fresh, 100, CS_REPLICA_DATA_OFFSET + BLK),
			100);
	close(fd);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	st_check_chunk(st, CHUNK_A, 1, data, len);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UNDO), 0);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UPDATING), 0);
	/* completed: the new header is there; version 1 via the undo file */
	save_undo_by_hand(st, 1, 2, 0, BLK);
	cs_store_close(st);
	CU_ASSERT_EQUAL(rename(path, upd), 0);
	fd = open(upd, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, fresh, BLK, CS_REPLICA_DATA_OFFSET), BLK);
	CU_ASSERT_EQUAL(cs_replica_hdr_read(fd, hdr, &slot), 0);
	hdr->seq++;
	hdr->version = 2;
	hdr->crcs[0] = rfs_crc32c(0, fresh, BLK);
	CU_ASSERT_EQUAL(cs_replica_hdr_write(fd, 1 - slot, hdr), 0);
	close(fd);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	st_check_chunk(st, CHUNK_A, 1, data, len);
	memcpy(data, fresh, BLK);
	st_check_chunk(st, CHUNK_A, 2, data, len);
	cs_store_close(st);
	free(hdr);
	free(fresh);
	free(data);
}

/* An undo file whose newer version is gone, or with a damaged record, is
 * removed at start-up. */
static void test_store_ver_orphan_undo_removed(void)
{
	uint8_t *data = st_random_buf(2 * BLK, 33);
	struct cs_store_extent ext;
	char path[PATH_LEN];
	char undo[PATH_LEN];
	struct cs_store *st;
	int fd;

	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, 2 * BLK), 0);
	CU_ASSERT_EQUAL(st_update(st, CHUNK_A, 2, 0, data + 1, 10, 1, 2 * BLK),
			0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, data, 2 * BLK), 0);
	cs_store_close(st);
	st_replica_path(g_dir, CHUNK_A, 2, NULL, path);
	CU_ASSERT_EQUAL(unlink(path), 0);
	/* a damaged record for B */
	st_replica_path(g_dir, CHUNK_B, 0, CS_REPLICA_SUFFIX_UNDO, undo);
	st_write_file(undo, data, CS_REPLICA_DATA_OFFSET + 10);
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_count_part(g_dir, CS_REPLICA_SUFFIX_UNDO), 0);
	CU_ASSERT_EQUAL(cs_store_read_open(st, CHUNK_A, 1, 0, BLK, false, &ext),
			-ENOENT);
	st_check_chunk(st, CHUNK_B, 1, data, 2 * BLK);
	fd = open(undo, O_RDONLY);
	CU_ASSERT_EQUAL(fd, -1);
	cs_store_close(st);
	free(data);
}

static void test_store_ver_undo_range(void)
{
	uint64_t s = 9;
	uint64_t e = 9;

	/* an overwrite inside the chunk: just the body */
	cs_undo_range(BLK, BLK + 10, 4 * BLK, 4 * BLK, &s, &e);
	CU_ASSERT(s == BLK && e == BLK + 10);
	/* past the old end: nothing of the old version changes */
	cs_undo_range(4 * BLK, 5 * BLK, 4 * BLK - 3, 4 * BLK - 3, &s, &e);
	CU_ASSERT(s == 0 && e == 0);
	/* straddling the end */
	cs_undo_range(BLK, 5 * BLK, 2 * BLK, 2 * BLK, &s, &e);
	CU_ASSERT(s == BLK && e == 2 * BLK);
	/* a cut base: everything from the cut */
	cs_undo_range(2 * BLK, 2 * BLK + 1, 100, 3 * BLK, &s, &e);
	CU_ASSERT(s == 100 && e == 3 * BLK);
	/* base_length past the old end: zeros appended, nothing changes */
	cs_undo_range(8 * BLK, 8 * BLK + 1, 9 * BLK, 3 * BLK, &s, &e);
	CU_ASSERT(s == 0 && e == 0);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_store_ver_whole_write_keeps_older),
	    RFS_TEST(test_store_ver_delete_newest),
	    RFS_TEST(test_store_ver_undo_reads),
	    RFS_TEST(test_store_ver_undo_of_cut_base),
	    RFS_TEST(test_store_ver_update_on_older_base),
	    RFS_TEST(test_store_ver_crash_recovery_with_undo),
	    RFS_TEST(test_store_ver_orphan_undo_removed),
	    RFS_TEST(test_store_ver_undo_range),
	};
	static const struct rfs_test_suite suite = {
	    .name = "store_ver",
	    RFS_TESTS(tests),
	    .init = st_setup,
	    .cleanup = st_teardown,
	};

	rfs_log_setup("test_store_ver", RFS_LOG_ERROR);
	return rfs_test_run(&suite, 1);
}
