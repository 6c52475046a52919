/*
 * Rename in the metaserver state machine: replacing files and empty
 * directories, the POSIX errnos (ENOTEMPTY, EISDIR, ENOTDIR, EINVAL for a
 * move into the own subtree), RFS_RENAME_NOREPLACE/EXCHANGE, link counts
 * and parent times. The other namespace rules are in test_fsm.c.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdio.h>

#include <CUnit/Basic.h>

#include "tests/unit/fsm_test_util.h"
#include "tests/unit/runner.h"

static void test_fsm_rename_file_replaces_file(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	struct rfs_attr b;
	struct rfs_attr r;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "a", 0, &a), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "b", 0, &b), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "a", RFS_ROOT_INO, "b", 0),
			0);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "b", &r), 0);
	CU_ASSERT_EQUAL(r.ino, a.ino);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "a", &r), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, b.ino, &r), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_dir_replaces_empty_dir(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr p;
	struct rfs_attr q;
	struct rfs_attr a;
	struct rfs_attr r;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "p", &p), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "q", &q), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, p.ino, "a", &a), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, q.ino, "b", NULL), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, p.ino, "a", q.ino, "b", 0), 0);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, q.ino, "b", &r), 0);
	CU_ASSERT_EQUAL(r.ino, a.ino);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, p.ino, &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 2);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, q.ino, &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 3);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/q/b/..", &r), 0);
	CU_ASSERT_EQUAL(r.ino, q.ino);
	/* within one parent: two subdirectories become one */
	CU_ASSERT_EQUAL(ft_mkdir(fsm, q.ino, "c", NULL), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, q.ino, "c", q.ino, "b", 0), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, q.ino, &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 3);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, a.ino, &r), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_dir_over_nonempty_enotempty(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr b;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "a", NULL), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "b", &b), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, b.ino, "f", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "a", RFS_ROOT_INO, "b", 0),
			-ENOTEMPTY);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_file_over_dir_eisdir(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", NULL), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "f", RFS_ROOT_INO, "d", 0),
			-EISDIR);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_dir_over_file_enotdir(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", NULL), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "d", RFS_ROOT_INO, "f", 0),
			-ENOTDIR);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_into_own_subtree_einval(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	struct rfs_attr b;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "a", &a), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, a.ino, "b", &b), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "a", a.ino, "x", 0),
			-EINVAL);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "a", b.ino, "x", 0),
			-EINVAL);
	CU_ASSERT_EQUAL(
	    ft_rename(fsm, a.ino, "b", RFS_ROOT_INO, "a", RFS_RENAME_EXCHANGE),
	    -EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_same_inode_noop(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;
	struct rfs_attr r;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_link(fsm, f.ino, RFS_ROOT_INO, "g", NULL), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "f", RFS_ROOT_INO, "f", 0),
			0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "f", RFS_ROOT_INO, "g", 0),
			0);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "f", &r), 0);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "g", &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 2);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_noreplace_eexist(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "a", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "b", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "a", RFS_ROOT_INO, "b",
				  RFS_RENAME_NOREPLACE),
			-EEXIST);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "a", RFS_ROOT_INO, "c",
				  RFS_RENAME_NOREPLACE),
			0);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "c", RFS_ROOT_INO, "b",
				  RFS_RENAME_NOREPLACE | RFS_RENAME_EXCHANGE),
			-EINVAL);
	CU_ASSERT_EQUAL(
	    ft_rename(fsm, RFS_ROOT_INO, "c", RFS_ROOT_INO, "b", 0x80),
	    -EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_exchange_swaps(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr p;
	struct rfs_attr d;
	struct rfs_attr f;
	struct rfs_attr r;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "p", &p), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", &d), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, p.ino, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(
	    ft_rename(fsm, RFS_ROOT_INO, "d", p.ino, "f", RFS_RENAME_EXCHANGE),
	    0);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/d", &r), 0);
	CU_ASSERT_EQUAL(r.ino, f.ino);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/p/f", &r), 0);
	CU_ASSERT_EQUAL(r.ino, d.ino);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/p/f/..", &r), 0);
	CU_ASSERT_EQUAL(r.ino, p.ino);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, p.ino, &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 3);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, RFS_ROOT_INO, &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 3);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "d", p.ino, "missing",
				  RFS_RENAME_EXCHANGE),
			-ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_rename_moves_dir_and_times(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr p;
	struct rfs_attr q;
	struct rfs_attr d;
	struct rfs_attr r;
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "p", &p), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "q", &q), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, p.ino, "d", &d), 0);
	ft_op(&op, RFS_OP_RENAME);
	op.parent = p.ino;
	op.newparent = q.ino;
	snprintf(op.name, sizeof(op.name), "d");
	snprintf(op.newname, sizeof(op.newname), "e");
	op.now_ns = 4242;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, d.ino, &r), 0);
	CU_ASSERT_EQUAL(r.ctime_ns, 4242);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, p.ino, &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 2);
	CU_ASSERT_EQUAL(r.mtime_ns, 4242);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, q.ino, &r), 0);
	CU_ASSERT_EQUAL(r.nlink, 3);
	CU_ASSERT_EQUAL(r.mtime_ns, 4242);
	CU_ASSERT_EQUAL(r.ctime_ns, 4242);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/q/e/..", &r), 0);
	CU_ASSERT_EQUAL(r.ino, q.ino);
	CU_ASSERT_EQUAL(ft_rename(fsm, p.ino, "d", q.ino, "x", 0), -ENOENT);
	CU_ASSERT_EQUAL(ft_rename(fsm, 999, "d", q.ino, "x", 0), -ENOENT);
	ms_fsm_free(fsm);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fsm_rename_file_replaces_file),
	    RFS_TEST(test_fsm_rename_dir_replaces_empty_dir),
	    RFS_TEST(test_fsm_rename_dir_over_nonempty_enotempty),
	    RFS_TEST(test_fsm_rename_file_over_dir_eisdir),
	    RFS_TEST(test_fsm_rename_dir_over_file_enotdir),
	    RFS_TEST(test_fsm_rename_into_own_subtree_einval),
	    RFS_TEST(test_fsm_rename_same_inode_noop),
	    RFS_TEST(test_fsm_rename_noreplace_eexist),
	    RFS_TEST(test_fsm_rename_exchange_swaps),
	    RFS_TEST(test_fsm_rename_moves_dir_and_times),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fsm_rename",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
