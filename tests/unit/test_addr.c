#include <config.h>

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/addr.h"
#include "tests/unit/runner.h"

static void test_addr_split_ipv4(void)
{
	char host[64];
	uint16_t port = 0;

	CU_ASSERT_EQUAL(
	    rfs_addr_split("127.0.0.1:9400", host, sizeof(host), &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
	CU_ASSERT_EQUAL(port, 9400);
	CU_ASSERT_EQUAL(
	    rfs_addr_split("localhost:0", host, sizeof(host), &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "localhost");
	CU_ASSERT_EQUAL(port, 0);
	CU_ASSERT_EQUAL(rfs_addr_split("h:65535", host, sizeof(host), &port),
			0);
	CU_ASSERT_EQUAL(port, 65535);
}

static void test_addr_split_ipv6(void)
{
	char host[64];
	uint16_t port = 0;

	CU_ASSERT_EQUAL(rfs_addr_split("[::1]:9500", host, sizeof(host), &port),
			0);
	CU_ASSERT_STRING_EQUAL(host, "::1");
	CU_ASSERT_EQUAL(port, 9500);
}

static void test_addr_split_rejects(void)
{
	static const char *const bad[] = {
	    "",		  "9400",     ":9400",	 "host:",
	    "host:x",	  "host:-1",  "host:+1", "host:65536",
	    "host:9400x", "host: 80", "[]:80",	 "host:99999999999999999999",
	};
	char host[64];
	uint16_t port = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(
		    rfs_addr_split(bad[i], host, sizeof(host), &port), -EINVAL);
		CU_ASSERT_EQUAL(port, 7);
	}
}

static void test_addr_split_host_too_long(void)
{
	char host[4];
	uint16_t port = 0;

	CU_ASSERT_EQUAL(rfs_addr_split("abc:1", host, sizeof(host), &port), 0);
	CU_ASSERT_STRING_EQUAL(host, "abc");
	CU_ASSERT_EQUAL(rfs_addr_split("abcd:1", host, sizeof(host), &port),
			-EINVAL);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_addr_split_ipv4),
	    RFS_TEST(test_addr_split_ipv6),
	    RFS_TEST(test_addr_split_rejects),
	    RFS_TEST(test_addr_split_host_too_long),
	};
	static const struct rfs_test_suite suites[] = {
	    {.name = "addr", RFS_TESTS(tests)},
	};

	return rfs_test_run(suites, sizeof(suites) / sizeof(suites[0]));
}
