/*
 * The mount's directory attribute cache (fuse-client/dcache.c): expiry,
 * invalidation, ordering of stores, the bound on its size; and the
 * "dirs" member of replies that fills it (common/proto_dirs.c).
 */
#include <config.h>
#include "fuse-client/dcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

#define SEC 1000000000LL

static struct rfs_attr dir_attr(uint64_t ino, int64_t ctime_ns)
{
	struct rfs_attr a = {.ino = ino,
			     .mode = S_IFDIR | 0755,
			     .nlink = 2,
			     .ctime_ns = ctime_ns,
			     .mtime_ns = ctime_ns};

	return a;
}

static void test_fc_dcache_expires_after_ttl(void)
{
	struct fc_dcache *d = NULL;
	struct rfs_attr a = dir_attr(7, 100), got;
	double left = 0;

	CU_ASSERT_EQUAL_FATAL(fc_dcache_new(16, 1.0, &d), 0);
	fc_dcache_put(d, &a, 10 * SEC);
	CU_ASSERT_TRUE(fc_dcache_get(d, 7, 10 * SEC, &got, &left));
	CU_ASSERT_EQUAL(got.ino, 7);
	CU_ASSERT_EQUAL(got.nlink, 2);
	CU_ASSERT_DOUBLE_EQUAL(left, 1.0, 1e-9);
	CU_ASSERT_TRUE(fc_dcache_get(d, 7, 11 * SEC - 1, &got, &left));
	CU_ASSERT_TRUE(left > 0 && left < 1e-6);
	CU_ASSERT_FALSE(fc_dcache_get(d, 7, 11 * SEC, &got, NULL));
	CU_ASSERT_FALSE(fc_dcache_get(d, 8, 10 * SEC, &got, NULL));
	fc_dcache_free(d);
}

static void test_fc_dcache_ignores_files_and_zero_ttl(void)
{
	struct fc_dcache *d = NULL;
	struct rfs_attr f = dir_attr(3, 1), dir = dir_attr(4, 1), got;

	f.mode = S_IFREG | 0644;
	CU_ASSERT_EQUAL_FATAL(fc_dcache_new(16, 1.0, &d), 0);
	fc_dcache_put(d, &f, 0);
	CU_ASSERT_FALSE(fc_dcache_get(d, 3, 0, &got, NULL));
	fc_dcache_free(d);
	CU_ASSERT_EQUAL_FATAL(fc_dcache_new(16, 0, &d), 0);
	fc_dcache_put(d, &dir, 0);
	CU_ASSERT_FALSE(fc_dcache_get(d, 4, 0, &got, NULL));
	CU_ASSERT_EQUAL(fc_dcache_count(d), 0);
	fc_dcache_free(d);
	CU_ASSERT_EQUAL(fc_dcache_new(0, 1.0, &d), -EINVAL);
}

static void test_fc_dcache_drop_and_clear_invalidate(void)
{
	struct fc_dcache *d = NULL;
	struct rfs_attr a = dir_attr(5, 1), b = dir_attr(6, 1), got;

	CU_ASSERT_EQUAL_FATAL(fc_dcache_new(16, 1.0, &d), 0);
	fc_dcache_put(d, &a, 0);
	fc_dcache_put(d, &b, 0);
	fc_dcache_drop(d, 5);
	CU_ASSERT_FALSE(fc_dcache_get(d, 5, 0, &got, NULL));
	CU_ASSERT_TRUE(fc_dcache_get(d, 6, 0, &got, NULL));
	/* dropping an inode that shares 6's slot leaves 6 alone */
	fc_dcache_drop(d, 6 + 16);
	CU_ASSERT_TRUE(fc_dcache_get(d, 6, 0, &got, NULL));
	fc_dcache_clear(d);
	CU_ASSERT_FALSE(fc_dcache_get(d, 6, 0, &got, NULL));
	CU_ASSERT_EQUAL(fc_dcache_count(d), 0);
	fc_dcache_free(d);
}

static void test_fc_dcache_keeps_newest_ctime(void)
{
	struct fc_dcache *d = NULL;
	struct rfs_attr newer = dir_attr(9, 200), older = dir_attr(9, 100);
	struct rfs_attr got;

	newer.nlink = 3;
	CU_ASSERT_EQUAL_FATAL(fc_dcache_new(16, 1.0, &d), 0);
	fc_dcache_put(d, &newer, 0);
	fc_dcache_put(d, &older, 1);
	CU_ASSERT_TRUE(fc_dcache_get(d, 9, 1, &got, NULL));
	CU_ASSERT_EQUAL(got.ctime_ns, 200);
	CU_ASSERT_EQUAL(got.nlink, 3);
	/* once the newer one expired, any reply is news */
	fc_dcache_put(d, &older, 2 * SEC);
	CU_ASSERT_TRUE(fc_dcache_get(d, 9, 2 * SEC, &got, NULL));
	CU_ASSERT_EQUAL(got.ctime_ns, 100);
	/* same ctime: the later store wins (chmod within one tick) */
	older.mode = S_IFDIR | 0700;
	fc_dcache_put(d, &older, 2 * SEC);
	CU_ASSERT_TRUE(fc_dcache_get(d, 9, 2 * SEC, &got, NULL));
	CU_ASSERT_EQUAL(got.mode, S_IFDIR | 0700);
	fc_dcache_free(d);
}

static void test_fc_dcache_is_bounded(void)
{
	struct fc_dcache *d = NULL;
	struct rfs_attr a, got;
	uint64_t ino;
	size_t hits = 0;

	CU_ASSERT_EQUAL_FATAL(fc_dcache_new(8, 1.0, &d), 0);
	for (ino = 1; ino <= 100; ino++) {
		a = dir_attr(ino, 1);
		fc_dcache_put(d, &a, 0);
	}
	CU_ASSERT_EQUAL(fc_dcache_count(d), 8);
	for (ino = 1; ino <= 100; ino++)
		hits += fc_dcache_get(d, ino, 0, &got, NULL);
	CU_ASSERT_EQUAL(hits, 8);
	/* the most recent stores are the ones kept */
	CU_ASSERT_TRUE(fc_dcache_get(d, 100, 0, &got, NULL));
	CU_ASSERT_EQUAL(got.ino, 100);
	fc_dcache_free(d);
}

static void test_fc_dcache_dirs_member_round_trip(void)
{
	struct rfs_dir_attrs in = {.n = 2}, out;
	char *buf = NULL;
	size_t len = 0;
	struct rfs_attr attr;

	in.dir[0] = dir_attr(1, 11);
	in.dir[1] = dir_attr(12, 22);
	in.dir[1].uid = 1000;
	CU_ASSERT_EQUAL_FATAL(
	    rfs_proto_dirs_add("{\"orphan\":5}", 12, &in, &buf, &len), 0);
	CU_ASSERT_EQUAL(rfs_proto_dirs_decode(buf, len, &out), 0);
	CU_ASSERT_EQUAL(out.n, 2);
	CU_ASSERT_EQUAL(memcmp(&out.dir[0], &in.dir[0], sizeof(attr)), 0);
	CU_ASSERT_EQUAL(memcmp(&out.dir[1], &in.dir[1], sizeof(attr)), 0);
	free(buf);
	/* an empty reply body, and a reply without the member */
	in.n = 1;
	CU_ASSERT_EQUAL_FATAL(rfs_proto_dirs_add("", 0, &in, &buf, &len), 0);
	CU_ASSERT_EQUAL(rfs_proto_dirs_decode(buf, len, &out), 0);
	CU_ASSERT_EQUAL(out.n, 1);
	CU_ASSERT_EQUAL(out.dir[0].ino, 1);
	free(buf);
	CU_ASSERT_EQUAL(rfs_proto_dirs_decode("{}", 2, &out), 0);
	CU_ASSERT_EQUAL(out.n, 0);
	CU_ASSERT_EQUAL(rfs_proto_dirs_decode("{\"dirs\":[1]}", 12, &out),
			-EPROTO);
	CU_ASSERT_EQUAL(out.n, 0);
	CU_ASSERT_EQUAL(rfs_proto_dirs_add("[]", 2, &in, &buf, &len), -EPROTO);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fc_dcache_expires_after_ttl),
	    RFS_TEST(test_fc_dcache_ignores_files_and_zero_ttl),
	    RFS_TEST(test_fc_dcache_drop_and_clear_invalidate),
	    RFS_TEST(test_fc_dcache_keeps_newest_ctime),
	    RFS_TEST(test_fc_dcache_is_bounded),
	    RFS_TEST(test_fc_dcache_dirs_member_round_trip),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fc_dcache",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
