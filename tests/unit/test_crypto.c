#include <config.h>
#include "common/crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

#define HEX_DIGEST_BYTES (2 * RFS_SHA256_BYTES + 1)

static void sha256_hex(const void *buf, size_t len, char *hex)
{
	uint8_t digest[RFS_SHA256_BYTES];

	rfs_sha256(buf, len, digest);
	rfs_hex_encode(digest, sizeof(digest), hex);
}

static void hmac_hex(const void *key, size_t key_len, const char *msg,
		     char *hex)
{
	uint8_t mac[RFS_SHA256_BYTES];

	rfs_hmac_sha256(key, key_len, msg, strlen(msg), mac);
	rfs_hex_encode(mac, sizeof(mac), hex);
}

static void test_crypto_sha256(void)
{
	char hex[HEX_DIGEST_BYTES];

	/* FIPS 180-2 examples */
	sha256_hex("abc", 3, hex);
	CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223"
				    "b00361a396177a9cb410ff61f20015ad");
	sha256_hex("", 0, hex);
	CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				    "27ae41e4649b934ca495991b7852b855");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		   56, hex);
	CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039"
				    "a33ce45964ff2167f6ecedd419db06c1");
}

static void test_crypto_hmac_sha256(void)
{
	uint8_t key[131];
	char hex[HEX_DIGEST_BYTES];

	/* RFC 4231 test case 1 */
	memset(key, 0x0b, 20);
	hmac_hex(key, 20, "Hi There", hex);
	CU_ASSERT_STRING_EQUAL(hex, "b0344c61d8db38535ca8afceaf0bf12b"
				    "881dc200c9833da726e9376c2e32cff7");
	/* RFC 4231 test case 2 */
	hmac_hex("Jefe", 4, "what do ya want for nothing?", hex);
	CU_ASSERT_STRING_EQUAL(hex, "5bdcc146bf60754e6a042426089575c7"
				    "5a003f089d2739839dec58b964ec3843");
	/* RFC 4231 test case 6: a key longer than the block size */
	memset(key, 0xaa, sizeof(key));
	hmac_hex(key, sizeof(key),
		 "Test Using Larger Than Block-Size Key - Hash Key First", hex);
	CU_ASSERT_STRING_EQUAL(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
				    "8e0bc6213728c5140546040f0ee37f54");
	/* empty key and message (value from Python's hmac module) */
	hmac_hex(NULL, 0, "", hex);
	CU_ASSERT_STRING_EQUAL(hex, "b613679a0814d9ec772f95d778c35fc5"
				    "ff1697c493715653c6c712144292c5ad");
}

static void test_crypto_random_bytes(void)
{
	uint8_t a[32];
	uint8_t b[32];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CU_ASSERT_EQUAL(rfs_random_bytes(a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(rfs_random_bytes(b, sizeof(b)), 0);
	/* 2^-256 chance of a false failure */
	CU_ASSERT(memcmp(a, b, sizeof(a)) != 0);
	CU_ASSERT_EQUAL(rfs_random_bytes(a, 0), 0);
}

static void test_crypto_hex_encode(void)
{
	static const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xff, 0x7f};
	char hex[2 * sizeof(bytes) + 1];

	rfs_hex_encode(bytes, sizeof(bytes), hex);
	CU_ASSERT_STRING_EQUAL(hex, "0001abff7f");
	memset(hex, 'x', sizeof(hex));
	rfs_hex_encode(bytes, 0, hex);
	CU_ASSERT_STRING_EQUAL(hex, "");
}

static void test_crypto_hex_decode(void)
{
	uint64_t v = 7;

	CU_ASSERT_EQUAL(rfs_hex_decode_u64("0001abFF7f", 10, &v), 0);
	CU_ASSERT_EQUAL(v, 0x0001abff7fULL);
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("ffffffffffffffff", 16, &v), 0);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("a", 1, &v), 0);
	CU_ASSERT_EQUAL(v, 0xa);
	/* only the digits asked for are read */
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("12zz", 2, &v), 0);
	CU_ASSERT_EQUAL(v, 0x12);
	v = 7;
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("12g4", 4, &v), -EPROTO);
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("12", 4, &v), -EPROTO);
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("-1", 2, &v), -EPROTO);
	CU_ASSERT_EQUAL(rfs_hex_decode_u64(" 1", 2, &v), -EPROTO);
	CU_ASSERT_EQUAL(v, 7);
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("1", 0, &v), -EINVAL);
	CU_ASSERT_EQUAL(rfs_hex_decode_u64("00000000000000000", 17, &v),
			-EINVAL);
	CU_ASSERT_EQUAL(v, 7);
}

static void test_crypto_base64_vectors(void)
{
	/* RFC 4648 section 10 */
	static const char *const vec[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	char *text;
	char *data;
	size_t len;
	size_t i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(
		    rfs_base64_encode(vec[i][0], strlen(vec[i][0]), &text), 0);
		CU_ASSERT_STRING_EQUAL(text, vec[i][1]);
		free(text);
		CU_ASSERT_EQUAL_FATAL(rfs_base64_decode(vec[i][1],
							strlen(vec[i][1]),
							&data, &len),
				      0);
		CU_ASSERT_EQUAL(len, strlen(vec[i][0]));
		CU_ASSERT_STRING_EQUAL(data, vec[i][0]);
		free(data);
	}
	/* text_len, not the NUL, ends the input */
	CU_ASSERT_EQUAL_FATAL(rfs_base64_decode("Zm9vYmFy", 4, &data, &len), 0);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_STRING_EQUAL(data, "foo");
	free(data);
}

/* Encode then decode len binary bytes (zeros included); exact length back. */
static void base64_round_trip(const uint8_t *buf, size_t len)
{
	char *text = NULL;
	char *data = NULL;
	size_t out_len = 0;

	CU_ASSERT_EQUAL_FATAL(rfs_base64_encode(buf, len, &text), 0);
	CU_ASSERT_EQUAL(strlen(text), (len + 2) / 3 * 4);
	CU_ASSERT_EQUAL_FATAL(
	    rfs_base64_decode(text, strlen(text), &data, &out_len), 0);
	CU_ASSERT_EQUAL(out_len, len);
	CU_ASSERT(memcmp(data, buf, len) == 0);
	CU_ASSERT_EQUAL(data[out_len], '\0');
	free(data);
	free(text);
}

static void test_crypto_base64_round_trip(void)
{
	static const uint8_t zeros[5];
	uint8_t buf[300];
	size_t len;

	for (len = 0; len <= 5; len++) {
		base64_round_trip(zeros, len);
		memset(buf, 0xff, len);
		base64_round_trip(buf, len);
	}
	CU_ASSERT_EQUAL_FATAL(rfs_random_bytes(buf, sizeof(buf)), 0);
	for (len = 0; len <= sizeof(buf); len++)
		base64_round_trip(buf, len);
}

static void test_crypto_base64_malformed(void)
{
	static const char *const bad[] = {
	    "Zg=",			   /* not a multiple of 4 */
	    "Zg",			   /* missing padding */
	    "Z",     "Zm9vY",	 "Z===",   /* too much padding */
	    "====",  "Zg==Zg==",	   /* padding inside */
	    "Zm=v",  "=Zm9",	 "Zm9v\n", /* white space */
	    "Zm 9v", " Zm9v",	 "Zm9*",   /* outside the alphabet */
	    "Zm9-",  "Zm9_",		   /* URL-safe alphabet */
	};
	char *data = NULL;
	size_t len;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(
		    rfs_base64_decode(bad[i], strlen(bad[i]), &data, &len),
		    -EPROTO);
	}
	/* an embedded NUL inside text_len */
	CU_ASSERT_EQUAL(rfs_base64_decode("Zm\0v", 4, &data, &len), -EPROTO);
	CU_ASSERT_PTR_NULL(data);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_crypto_sha256),
	    RFS_TEST(test_crypto_hmac_sha256),
	    RFS_TEST(test_crypto_random_bytes),
	    RFS_TEST(test_crypto_hex_encode),
	    RFS_TEST(test_crypto_hex_decode),
	    RFS_TEST(test_crypto_base64_vectors),
	    RFS_TEST(test_crypto_base64_round_trip),
	    RFS_TEST(test_crypto_base64_malformed),
	};
	static const struct rfs_test_suite suite = {
	    .name = "crypto",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
