#include <config.h>
#include "common/crc32c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

/* CRC-32C polynomial, bit-reversed (Castagnoli). */
#define CRC32C_POLY_REFLECTED 0x82f63b78u

/*
 * Independent reference: the textbook bit-at-a-time CRC-32C, continuing
 * from a standard (inverted) crc like rfs_crc32c.
 */
static uint32_t ref_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;
	int bit;

	crc = ~crc;
	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (bit = 0; bit < 8; bit++)
			crc =
			    (crc >> 1) ^ (CRC32C_POLY_REFLECTED & -(crc & 1u));
	}
	return ~crc;
}

/* Deterministic filler so failures reproduce. */
static void fill_pattern(unsigned char *buf, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
}

static void test_crc32c_golden(void)
{
	unsigned char buf[32];
	size_t i;

	CU_ASSERT_EQUAL(rfs_crc32c(0, "123456789", 9), 0xe3069283u);
	CU_ASSERT_EQUAL(rfs_crc32c(0, "", 0), 0);
	CU_ASSERT_EQUAL(rfs_crc32c(0, "a", 1), 0xc1d04330u);
	/* RFC 3720 (iSCSI) appendix B.4 */
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(rfs_crc32c(0, buf, sizeof(buf)), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	CU_ASSERT_EQUAL(rfs_crc32c(0, buf, sizeof(buf)), 0x62a8ab43u);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	CU_ASSERT_EQUAL(rfs_crc32c(0, buf, sizeof(buf)), 0x46dd794eu);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(31 - i);
	CU_ASSERT_EQUAL(rfs_crc32c(0, buf, sizeof(buf)), 0x113fdb5cu);
}

static void test_crc32c_matches_reference(void)
{
	unsigned char *zeros = calloc(1, RFS_CRC_BLOCK_BYTES);
	unsigned char *data = malloc(RFS_CRC_BLOCK_BYTES);
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(zeros);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	/*
	 * A whole 64 KiB block of zeros, against the reference above and
	 * against the value a separate bitwise Python model gave.
	 */
	CU_ASSERT_EQUAL(ref_crc32c(0, zeros, RFS_CRC_BLOCK_BYTES), 0x72c0c4a4u);
	CU_ASSERT_EQUAL(rfs_crc32c(0, zeros, RFS_CRC_BLOCK_BYTES), 0x72c0c4a4u);
	fill_pattern(data, RFS_CRC_BLOCK_BYTES, 1);
	CU_ASSERT_EQUAL(rfs_crc32c(0, data, RFS_CRC_BLOCK_BYTES),
			ref_crc32c(0, data, RFS_CRC_BLOCK_BYTES));
	/* every short length, to cover isa-l's tail handling */
	for (len = 0; len < 300; len++)
		CU_ASSERT_EQUAL(rfs_crc32c(0, data + 1, len),
				ref_crc32c(0, data + 1, len));
	free(data);
	free(zeros);
}

static void test_crc32c_chaining(void)
{
	const char *s = "123456789";
	unsigned char data[1000];
	uint32_t whole;
	size_t cut;

	for (cut = 0; cut <= 9; cut++)
		CU_ASSERT_EQUAL(
		    rfs_crc32c(rfs_crc32c(0, s, cut), s + cut, 9 - cut),
		    0xe3069283u);
	fill_pattern(data, sizeof(data), 7);
	whole = rfs_crc32c(0, data, sizeof(data));
	for (cut = 0; cut <= sizeof(data); cut += 37)
		CU_ASSERT_EQUAL(rfs_crc32c(rfs_crc32c(0, data, cut), data + cut,
					   sizeof(data) - cut),
				whole);
	/* continuing from an arbitrary crc agrees with the reference */
	CU_ASSERT_EQUAL(rfs_crc32c(0xdeadbeefu, data, 100),
			ref_crc32c(0xdeadbeefu, data, 100));
}

static void test_crc32c_block_count(void)
{
	CU_ASSERT_EQUAL(rfs_crc_block_count(0), 0);
	CU_ASSERT_EQUAL(rfs_crc_block_count(1), 1);
	CU_ASSERT_EQUAL(rfs_crc_block_count(RFS_CRC_BLOCK_BYTES - 1), 1);
	CU_ASSERT_EQUAL(rfs_crc_block_count(RFS_CRC_BLOCK_BYTES), 1);
	CU_ASSERT_EQUAL(rfs_crc_block_count(RFS_CRC_BLOCK_BYTES + 1), 2);
	CU_ASSERT_EQUAL(rfs_crc_block_count(64ull << 20), 1024);
	CU_ASSERT_EQUAL(rfs_crc_block_count((64ull << 20) + 1), 1025);
	CU_ASSERT_EQUAL(rfs_crc_block_count(1ull << 40), 1ull << 24);
}

static void test_crc32c_blocks(void)
{
	size_t len = 3 * RFS_CRC_BLOCK_BYTES + 5;
	unsigned char *data = malloc(len);
	uint32_t crcs[5] = {0, 0, 0, 0, 0xabababab};
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	fill_pattern(data, len, 3);
	CU_ASSERT_EQUAL_FATAL(rfs_crc_block_count(len), 4);
	rfs_crc_blocks(data, len, crcs);
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(crcs[i],
				ref_crc32c(0, data + i * RFS_CRC_BLOCK_BYTES,
					   RFS_CRC_BLOCK_BYTES));
	CU_ASSERT_EQUAL(crcs[3],
			ref_crc32c(0, data + 3 * RFS_CRC_BLOCK_BYTES, 5));
	/* nothing written past the last block */
	CU_ASSERT_EQUAL(crcs[4], 0xabababab);
	/* a zero length writes nothing */
	rfs_crc_blocks(data, 0, crcs + 4);
	CU_ASSERT_EQUAL(crcs[4], 0xabababab);
	free(data);
}

static void test_crc32c_list_format(void)
{
	static const uint32_t crcs[] = {0x0a1b2c3d, 0x00ff00ff, 0, 0xffffffff};
	char *s = NULL;

	CU_ASSERT_EQUAL_FATAL(rfs_crc_list_format(crcs, 4, &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "0a1b2c3d,00ff00ff,00000000,ffffffff");
	free(s);
	CU_ASSERT_EQUAL_FATAL(rfs_crc_list_format(crcs, 1, &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "0a1b2c3d");
	free(s);
	CU_ASSERT_EQUAL_FATAL(rfs_crc_list_format(crcs, 0, &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);
}

static void test_crc32c_list_round_trip(void)
{
	enum { N = 1024 };
	uint32_t *crcs = malloc(N * sizeof(*crcs));
	uint32_t *back = malloc(N * sizeof(*back));
	char *s = NULL;
	size_t n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(crcs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	fill_pattern((unsigned char *)crcs, N * sizeof(*crcs), 11);
	CU_ASSERT_EQUAL_FATAL(rfs_crc_list_format(crcs, N, &s), 0);
	CU_ASSERT_EQUAL(strlen(s), N * 9 - 1);
	CU_ASSERT_EQUAL(rfs_crc_list_parse(s, back, N, &n), 0);
	CU_ASSERT_EQUAL(n, N);
	CU_ASSERT(memcmp(crcs, back, N * sizeof(*crcs)) == 0);
	/* exactly max entries is fine, one fewer slot is -E2BIG */
	CU_ASSERT_EQUAL(rfs_crc_list_parse(s, back, N - 1, &n), -E2BIG);
	free(s);
	CU_ASSERT_EQUAL(rfs_crc_list_parse("", back, 0, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	/* upper-case hex digits are hex digits too */
	CU_ASSERT_EQUAL(rfs_crc_list_parse("0A1B2C3D", back, 1, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(back[0], 0x0a1b2c3du);
	free(back);
	free(crcs);
}

static void test_crc32c_list_malformed(void)
{
	static const char *const bad[] = {
	    "0a1b2c3",		  /* 7 digits */
	    "0a1b2c3d0",	  /* 9 digits */
	    "0a1b2c3g",		  /* not hex */
	    "0x1b2c3d",		  /* prefix */
	    "-a1b2c3d",		  /* sign */
	    "0a1b2c3d,",	  /* trailing comma */
	    ",0a1b2c3d",	  /* leading comma */
	    "0a1b2c3d,,00ff00ff", /* empty entry */
	    "0a1b2c3d;00ff00ff",  /* wrong separator */
	    " 0a1b2c3d",	  /* white space */
	    "0a1b2c3d ",	  /* white space */
	    "0a1b2c3d,00ff00f",	  /* short last entry */
	    ",",
	};
	uint32_t out[4];
	size_t n;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(rfs_crc_list_parse(bad[i], out, 4, &n),
				-EPROTO);
	CU_ASSERT_EQUAL(
	    rfs_crc_list_parse("00000001,00000002,00000003", out, 2, &n),
	    -E2BIG);
	CU_ASSERT_EQUAL(rfs_crc_list_parse("00000001", out, 0, &n), -E2BIG);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_crc32c_golden),
	    RFS_TEST(test_crc32c_matches_reference),
	    RFS_TEST(test_crc32c_chaining),
	    RFS_TEST(test_crc32c_block_count),
	    RFS_TEST(test_crc32c_blocks),
	    RFS_TEST(test_crc32c_list_format),
	    RFS_TEST(test_crc32c_list_round_trip),
	    RFS_TEST(test_crc32c_list_malformed),
	};
	static const struct rfs_test_suite suite = {
	    .name = "crc32c",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
