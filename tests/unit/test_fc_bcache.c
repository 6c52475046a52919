/*
 * The mount's block cache (fuse-client/bcache.c): hits return the bytes
 * kept, any part of the key (version, length, block) changing misses, the
 * budget evicts the least recently used blocks, a put replaces an entry
 * of the same key.
 */
#include <config.h>
#include "fuse-client/bcache.h"

#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

#define BLK (64u << 10)

static struct fc_bkey key(uint64_t id, uint32_t ver, uint64_t block)
{
	struct fc_bkey k = {
	    .chunk_id = id, .version = ver, .length = 8 * BLK, .block = block};

	return k;
}

static unsigned char *pattern(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len);

	for (size_t i = 0; p && i < len; i++)
		p[i] = (unsigned char)(i * 31 + seed);
	return p;
}

static void test_fc_bcache_hit_and_key_parts(void)
{
	struct fc_bcache *c = fc_bcache_new(4 * BLK);
	unsigned char *a = pattern(BLK, 1);
	unsigned char got[4096];
	struct fc_bkey k = key(5, 2, 3), other;
	struct fc_bcache_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_FALSE(fc_bcache_get(c, &k, 0, sizeof(got), got));
	fc_bcache_put(c, &k, a, BLK);
	CU_ASSERT_TRUE(fc_bcache_get(c, &k, 8192, sizeof(got), got));
	CU_ASSERT_EQUAL(memcmp(got, a + 8192, sizeof(got)), 0);
	/* the last bytes of the block, and past them */
	CU_ASSERT_TRUE(fc_bcache_get(c, &k, BLK - 1, 1, got));
	CU_ASSERT_EQUAL(got[0], a[BLK - 1]);
	CU_ASSERT_FALSE(fc_bcache_get(c, &k, BLK - 1, 2, got));
	other = k;
	other.version = 3;
	CU_ASSERT_FALSE(fc_bcache_get(c, &other, 0, 1, got));
	other = k;
	other.length = 7 * BLK;
	CU_ASSERT_FALSE(fc_bcache_get(c, &other, 0, 1, got));
	other = k;
	other.block = 4;
	CU_ASSERT_FALSE(fc_bcache_get(c, &other, 0, 1, got));
	other = k;
	other.chunk_id = 6;
	CU_ASSERT_FALSE(fc_bcache_get(c, &other, 0, 1, got));
	fc_bcache_stats(c, &st);
	CU_ASSERT_EQUAL(st.hits, 2);
	CU_ASSERT_EQUAL(st.misses, 6);
	CU_ASSERT_EQUAL(st.blocks, 1);
	CU_ASSERT_EQUAL(st.bytes, BLK);
	fc_bcache_free(c);
	free(a);
}

static void test_fc_bcache_budget_evicts_lru(void)
{
	struct fc_bcache *c = fc_bcache_new(3 * BLK);
	unsigned char *b[5];
	unsigned char got[16];
	struct fc_bkey k;
	struct fc_bcache_stats st;
	unsigned i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (i = 0; i < 5; i++)
		b[i] = pattern(BLK, i);
	for (i = 0; i < 3; i++) {
		k = key(1, 1, i);
		fc_bcache_put(c, &k, b[i], BLK);
	}
	/* block 0 used: block 1 is now the oldest */
	k = key(1, 1, 0);
	CU_ASSERT_TRUE(fc_bcache_get(c, &k, 0, sizeof(got), got));
	k = key(1, 1, 3);
	fc_bcache_put(c, &k, b[3], BLK);
	k = key(1, 1, 1);
	CU_ASSERT_FALSE(fc_bcache_get(c, &k, 0, sizeof(got), got));
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		k = key(1, 1, i);
		CU_ASSERT_TRUE(fc_bcache_get(c, &k, 0, sizeof(got), got));
		CU_ASSERT_EQUAL(memcmp(got, b[i], sizeof(got)), 0);
	}
	fc_bcache_stats(c, &st);
	CU_ASSERT_EQUAL(st.blocks, 3);
	CU_ASSERT(st.bytes <= 3 * BLK);
	fc_bcache_free(c);
	/* a block over the whole budget is not kept */
	k = key(9, 1, 0);
	c = fc_bcache_new(BLK - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	fc_bcache_put(c, &k, b[4], BLK);
	CU_ASSERT_FALSE(fc_bcache_get(c, &k, 0, 1, got));
	fc_bcache_free(c);
	for (i = 0; i < 5; i++)
		free(b[i]);
}

static void test_fc_bcache_put_replaces(void)
{
	struct fc_bcache *c = fc_bcache_new(4 * BLK);
	unsigned char *a = pattern(BLK, 1), *b = pattern(BLK / 2, 9);
	unsigned char got[64];
	struct fc_bkey k = key(2, 1, 0);
	struct fc_bcache_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	fc_bcache_put(c, &k, a, BLK);
	fc_bcache_put(c, &k, b, BLK / 2);
	CU_ASSERT_TRUE(fc_bcache_get(c, &k, 0, sizeof(got), got));
	CU_ASSERT_EQUAL(memcmp(got, b, sizeof(got)), 0);
	CU_ASSERT_FALSE(fc_bcache_get(c, &k, BLK / 2, 1, got));
	fc_bcache_stats(c, &st);
	CU_ASSERT_EQUAL(st.blocks, 1);
	CU_ASSERT_EQUAL(st.bytes, BLK / 2);
	/* NULL is a cache of nothing */
	fc_bcache_put(NULL, &k, a, BLK);
	CU_ASSERT_FALSE(fc_bcache_get(NULL, &k, 0, 1, got));
	fc_bcache_free(NULL);
	fc_bcache_free(c);
	free(a);
	free(b);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fc_bcache_hit_and_key_parts),
	    RFS_TEST(test_fc_bcache_budget_evicts_lru),
	    RFS_TEST(test_fc_bcache_put_replaces),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fc_bcache",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
