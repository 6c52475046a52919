/*
 * The FUSE client's access(2) rule (fc_access_check in
 * fuse-client/ops_access.c): owner, group (primary or supplementary) and
 * other bits, in that order, and root's exceptions.
 */
#include <config.h>
#include "fuse-client/fc.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

#define AT_OWNER 100
#define AT_GROUP 200
#define AT_OTHER 300

static struct rfs_attr at_attr(uint32_t mode)
{
	struct rfs_attr a = {.ino = 2,
			     .mode = mode,
			     .uid = AT_OWNER,
			     .gid = AT_GROUP,
			     .nlink = 1};

	return a;
}

static void test_fc_access_f_ok_always(void)
{
	struct rfs_attr a = at_attr(S_IFREG | 0000);
	struct fc_cred other = {.uid = AT_OTHER, .gid = AT_OTHER};

	CU_ASSERT_EQUAL(fc_access_check(&a, &other, F_OK), 0);
}

static void test_fc_access_owner_bits_decide(void)
{
	struct rfs_attr a = at_attr(S_IFREG | 0477); /* owner r-- only */
	struct fc_cred owner = {.uid = AT_OWNER, .gid = AT_GROUP};

	CU_ASSERT_EQUAL(fc_access_check(&a, &owner, R_OK), 0);
	/* the owner does not fall back to the group's or others' bits */
	CU_ASSERT_EQUAL(fc_access_check(&a, &owner, W_OK), -EACCES);
	CU_ASSERT_EQUAL(fc_access_check(&a, &owner, X_OK), -EACCES);
	CU_ASSERT_EQUAL(fc_access_check(&a, &owner, R_OK | W_OK), -EACCES);
}

static void test_fc_access_group_bits_primary_and_supplementary(void)
{
	struct rfs_attr a = at_attr(S_IFREG | 0064); /* group rw-, other r-- */
	gid_t groups[] = {7, AT_GROUP, 9};
	struct fc_cred primary = {.uid = AT_OTHER, .gid = AT_GROUP};
	struct fc_cred supp = {
	    .uid = AT_OTHER, .gid = AT_OTHER, .groups = groups, .n_groups = 3};
	struct fc_cred outsider = {
	    .uid = AT_OTHER, .gid = AT_OTHER, .groups = groups, .n_groups = 1};

	CU_ASSERT_EQUAL(fc_access_check(&a, &primary, R_OK | W_OK), 0);
	CU_ASSERT_EQUAL(fc_access_check(&a, &supp, R_OK | W_OK), 0);
	CU_ASSERT_EQUAL(fc_access_check(&a, &supp, X_OK), -EACCES);
	CU_ASSERT_EQUAL(fc_access_check(&a, &outsider, R_OK), 0);
	CU_ASSERT_EQUAL(fc_access_check(&a, &outsider, W_OK), -EACCES);
}

static void test_fc_access_other_bits(void)
{
	struct rfs_attr a = at_attr(S_IFDIR | 0751);
	struct fc_cred other = {.uid = AT_OTHER, .gid = AT_OTHER};

	CU_ASSERT_EQUAL(fc_access_check(&a, &other, X_OK), 0);
	CU_ASSERT_EQUAL(fc_access_check(&a, &other, R_OK), -EACCES);
	CU_ASSERT_EQUAL(fc_access_check(&a, &other, W_OK), -EACCES);
}

static void test_fc_access_root(void)
{
	struct rfs_attr none = at_attr(S_IFREG | 0000);
	struct rfs_attr gx = at_attr(S_IFREG | 0010);
	struct rfs_attr dir = at_attr(S_IFDIR | 0000);
	struct fc_cred root = {.uid = 0, .gid = 0};

	CU_ASSERT_EQUAL(fc_access_check(&none, &root, R_OK | W_OK), 0);
	/* execute needs some x bit on a file, never on a directory */
	CU_ASSERT_EQUAL(fc_access_check(&none, &root, X_OK), -EACCES);
	CU_ASSERT_EQUAL(fc_access_check(&gx, &root, X_OK), 0);
	CU_ASSERT_EQUAL(fc_access_check(&dir, &root, R_OK | W_OK | X_OK), 0);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fc_access_f_ok_always),
	    RFS_TEST(test_fc_access_owner_bits_decide),
	    RFS_TEST(test_fc_access_group_bits_primary_and_supplementary),
	    RFS_TEST(test_fc_access_other_bits),
	    RFS_TEST(test_fc_access_root),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fc_access",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
