/*
 * Namespace semantics of the metaserver state machine: every POSIX rule
 * and errno of metaserver/fsm.h, readdir paging, and the failed-op-changes-
 * nothing guarantee. Rename is in test_fsm_rename.c, chunk and cluster
 * rules are in test_fsm_chunk.c.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "tests/unit/fsm_test_util.h"
#include "tests/unit/runner.h"

static void test_fsm_new_root(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	uint64_t inodes;
	uint64_t chunks;
	uint64_t bytes;

	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, RFS_ROOT_INO, &a), 0);
	CU_ASSERT_EQUAL(a.ino, RFS_ROOT_INO);
	CU_ASSERT_EQUAL(a.mode, S_IFDIR | 0755);
	CU_ASSERT_EQUAL(a.nlink, 2);
	CU_ASSERT_EQUAL(a.uid, 0);
	CU_ASSERT_EQUAL(a.goal, FT_GOAL);
	CU_ASSERT_EQUAL(a.mtime_ns, FT_CREATED);
	CU_ASSERT_EQUAL(a.ctime_ns, FT_CREATED);
	CU_ASSERT_EQUAL(ms_fsm_format(fsm)->chunk_size, FT_CHUNK);
	ms_fsm_counts(fsm, &inodes, &chunks, &bytes);
	CU_ASSERT_EQUAL(inodes, 1);
	CU_ASSERT_EQUAL(chunks, 0);
	CU_ASSERT_EQUAL(bytes, 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, 2, &a), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_new_rejects_bad_format(void)
{
	struct ms_fsm_format fmt = {"x", 1000, 2, 0};

	CU_ASSERT_PTR_NULL(ms_fsm_new(&fmt));
	fmt.chunk_size = FT_CHUNK;
	fmt.goal = 0;
	CU_ASSERT_PTR_NULL(ms_fsm_new(&fmt));
	ms_fsm_free(NULL);
}

static void test_fsm_mkdir_basic(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	struct rfs_attr root;
	struct rfs_attr l;

	CU_ASSERT_EQUAL(ft_mkdir_at(fsm, RFS_ROOT_INO, "d", 0750, 5000, &a), 0);
	CU_ASSERT_EQUAL(a.mode, S_IFDIR | 0750);
	CU_ASSERT_EQUAL(a.nlink, 2);
	CU_ASSERT_EQUAL(a.uid, FT_UID);
	CU_ASSERT_EQUAL(a.gid, FT_GID);
	CU_ASSERT_EQUAL(a.goal, FT_GOAL);
	CU_ASSERT_EQUAL(a.atime_ns, 5000);
	CU_ASSERT_EQUAL(a.mtime_ns, 5000);
	CU_ASSERT_EQUAL(a.ctime_ns, 5000);
	CU_ASSERT(a.ino > RFS_ROOT_INO);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, RFS_ROOT_INO, &root), 0);
	CU_ASSERT_EQUAL(root.nlink, 3);
	CU_ASSERT_EQUAL(root.mtime_ns, 5000);
	CU_ASSERT_EQUAL(root.ctime_ns, 5000);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "d", &l), 0);
	CU_ASSERT_EQUAL(l.ino, a.ino);
	ms_fsm_free(fsm);
}

static void test_fsm_create_missing_parent_enoent(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_mkdir(fsm, 999, "d", NULL), -ENOENT);
	CU_ASSERT_EQUAL(ft_create(fsm, 999, "f", 0, NULL), -ENOENT);
	CU_ASSERT_EQUAL(ft_symlink(fsm, 999, "l", "t", NULL), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_create_parent_not_dir_enotdir(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, f.ino, "d", NULL), -ENOTDIR);
	CU_ASSERT_EQUAL(ft_create(fsm, f.ino, "g", 0, NULL), -ENOTDIR);
	CU_ASSERT_EQUAL(ft_symlink(fsm, f.ino, "l", "t", NULL), -ENOTDIR);
	ms_fsm_free(fsm);
}

static void test_fsm_create_existing_name_eexist(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", NULL), 0);
	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "l", "t", NULL), 0);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "f", NULL), -EEXIST);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", NULL), -EEXIST);
	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "d", "t", NULL), -EEXIST);
	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "l", "t", NULL), -EEXIST);
	CU_ASSERT_EQUAL(
	    ft_create(fsm, RFS_ROOT_INO, "f", RFS_CREATE_EXCL, NULL), -EEXIST);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "l", 0, NULL), -EEXIST);
	ms_fsm_free(fsm);
}

static void test_fsm_create_existing_file_opens_it(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	struct rfs_attr b;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &a), 0);
	CU_ASSERT_EQUAL(a.mode, S_IFREG | 0644);
	CU_ASSERT_EQUAL(a.nlink, 1);
	CU_ASSERT_EQUAL(a.size, 0);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &b), 0);
	CU_ASSERT_EQUAL(b.ino, a.ino);
	ms_fsm_free(fsm);
}

static void test_fsm_create_on_dir_eisdir(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", NULL), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "d", 0, NULL), -EISDIR);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "x", 0x100, NULL),
			-EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_name_checks(void)
{
	struct ms_fsm *fsm = ft_new();
	char name[RFS_NAME_MAX + 1];
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "", NULL), -EINVAL);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, ".", NULL), -EINVAL);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "..", 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "a/b", 0, NULL), -EINVAL);
	memset(name, 'n', RFS_NAME_MAX);
	name[RFS_NAME_MAX] = '\0';
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, name, 0, NULL), 0);
	/* a name filling the whole buffer without NUL is 256+ bytes */
	ft_op(&op, RFS_OP_MKDIR);
	op.parent = RFS_ROOT_INO;
	memset(op.name, 'x', sizeof(op.name));
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -ENAMETOOLONG);
	ms_fsm_free(fsm);
}

static void test_fsm_symlink_readlink(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_value_reply v;
	struct rfs_attr a;
	struct rfs_attr f;

	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "l", "../x/y", &a), 0);
	CU_ASSERT_EQUAL(a.mode, S_IFLNK | 0777);
	CU_ASSERT_EQUAL(a.size, 6);
	CU_ASSERT_EQUAL(a.nlink, 1);
	CU_ASSERT_EQUAL(ms_fsm_readlink(fsm, a.ino, &v), 0);
	CU_ASSERT_EQUAL(v.len, 6);
	CU_ASSERT_STRING_EQUAL(v.data, "../x/y");
	rfs_proto_value_release(&v);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ms_fsm_readlink(fsm, f.ino, &v), -EINVAL);
	CU_ASSERT_EQUAL(ms_fsm_readlink(fsm, 999, &v), -ENOENT);
	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "e", "", NULL), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_symlink_target_too_long(void)
{
	struct ms_fsm *fsm = ft_new();
	char *t = malloc(RFS_PATH_MAX + 2);

	CU_ASSERT_FATAL(t != NULL);
	memset(t, 'a', RFS_PATH_MAX + 1);
	t[RFS_PATH_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "l", t, NULL),
			-ENAMETOOLONG);
	t[RFS_PATH_MAX] = '\0';
	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "l", t, NULL), 0);
	free(t);
	ms_fsm_free(fsm);
}

static void test_fsm_rmdir_basic(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;
	struct rfs_attr root;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", &d), 0);
	CU_ASSERT_EQUAL(ft_rmdir(fsm, RFS_ROOT_INO, "d"), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, d.ino, &d), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, RFS_ROOT_INO, &root), 0);
	CU_ASSERT_EQUAL(root.nlink, 2);
	CU_ASSERT_EQUAL(ft_rmdir(fsm, RFS_ROOT_INO, "d"), -ENOENT);
	CU_ASSERT_EQUAL(ft_rmdir(fsm, 999, "d"), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_rmdir_nonempty_enotempty(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", &d), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, d.ino, "f", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_rmdir(fsm, RFS_ROOT_INO, "d"), -ENOTEMPTY);
	CU_ASSERT_EQUAL(ft_unlink(fsm, d.ino, "f"), 0);
	CU_ASSERT_EQUAL(ft_rmdir(fsm, RFS_ROOT_INO, "d"), 0);
	ms_fsm_free(fsm);
}

static void test_fsm_rmdir_file_enotdir(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_rmdir(fsm, RFS_ROOT_INO, "f"), -ENOTDIR);
	ms_fsm_free(fsm);
}

static void test_fsm_unlink_dir_eisdir(void)
{
	struct ms_fsm *fsm = ft_new();

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", NULL), 0);
	CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, "d"), -EISDIR);
	CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, "missing"), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_unlink_frees_inode_and_chunks(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_chunk c;
	struct rfs_attr f;
	uint64_t inodes;
	uint64_t chunks;
	uint64_t bytes;

	ft_servers(fsm, 3);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, f.ino, 0, 100), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, f.ino, 1, 200), 0);
	ms_fsm_counts(fsm, &inodes, &chunks, &bytes);
	CU_ASSERT_EQUAL(inodes, 2);
	CU_ASSERT_EQUAL(chunks, 2);
	CU_ASSERT_EQUAL(bytes, 300);
	CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, "f"), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, f.ino, &f), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, f.ino, 0, &c), -ENOENT);
	ms_fsm_counts(fsm, &inodes, &chunks, &bytes);
	CU_ASSERT_EQUAL(inodes, 1);
	CU_ASSERT_EQUAL(chunks, 0);
	CU_ASSERT_EQUAL(bytes, 0);
	ms_fsm_free(fsm);
}

static void test_fsm_unlink_updates_parent_times(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr root;
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, NULL), 0);
	ft_op(&op, RFS_OP_UNLINK);
	op.parent = RFS_ROOT_INO;
	snprintf(op.name, sizeof(op.name), "f");
	op.now_ns = 777;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, RFS_ROOT_INO, &root), 0);
	CU_ASSERT_EQUAL(root.mtime_ns, 777);
	CU_ASSERT_EQUAL(root.ctime_ns, 777);
	ms_fsm_free(fsm);
}

static void test_fsm_link_counts(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;
	struct rfs_attr l;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_link(fsm, f.ino, RFS_ROOT_INO, "g", &l), 0);
	CU_ASSERT_EQUAL(l.ino, f.ino);
	CU_ASSERT_EQUAL(l.nlink, 2);
	CU_ASSERT_EQUAL(l.ctime_ns, FT_NOW);
	CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, "f"), 0);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "g", &l), 0);
	CU_ASSERT_EQUAL(l.nlink, 1);
	CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, "g"), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, f.ino, &l), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_link_dir_eperm(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", &d), 0);
	CU_ASSERT_EQUAL(ft_link(fsm, d.ino, RFS_ROOT_INO, "e", NULL), -EPERM);
	ms_fsm_free(fsm);
}

static void test_fsm_link_errors(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_link(fsm, 999, RFS_ROOT_INO, "g", NULL), -ENOENT);
	CU_ASSERT_EQUAL(ft_link(fsm, f.ino, RFS_ROOT_INO, "f", NULL), -EEXIST);
	CU_ASSERT_EQUAL(ft_link(fsm, f.ino, f.ino, "g", NULL), -ENOTDIR);
	CU_ASSERT_EQUAL(ft_link(fsm, f.ino, 999, "g", NULL), -ENOENT);
	CU_ASSERT_EQUAL(ft_link(fsm, f.ino, RFS_ROOT_INO, "a/b", NULL),
			-EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_lookup_errors(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;
	struct rfs_attr a;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "nope", &a), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, f.ino, "x", &a), -ENOTDIR);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, 999, "x", &a), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "a/b", &a), -EINVAL);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "..", &a), 0);
	CU_ASSERT_EQUAL(a.ino, RFS_ROOT_INO);
	ms_fsm_free(fsm);
}

static void test_fsm_resolve_paths(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	struct rfs_attr b;
	struct rfs_attr r;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "a", &a), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, a.ino, "b", 0, &b), 0);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/", &r), 0);
	CU_ASSERT_EQUAL(r.ino, RFS_ROOT_INO);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/a/b", &r), 0);
	CU_ASSERT_EQUAL(r.ino, b.ino);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "//a//./b", &r), 0);
	CU_ASSERT_EQUAL(r.ino, b.ino);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/a/../a/", &r), 0);
	CU_ASSERT_EQUAL(r.ino, a.ino);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/a/c", &r), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/a/b/c", &r), -ENOTDIR);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "/a/b/", &r), -ENOTDIR);
	CU_ASSERT_EQUAL(ms_fsm_resolve(fsm, "a/b", &r), -EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_setattr_mode_owner(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;
	struct rfs_op op;
	struct ms_fsm_result res;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	ft_op(&op, RFS_OP_SETATTR);
	op.ino = f.ino;
	op.valid = RFS_SETATTR_MODE | RFS_SETATTR_UID | RFS_SETATTR_GID;
	op.mode = S_IFDIR | 04711; /* type bits must be ignored */
	op.uid = 7;
	op.gid = 8;
	op.now_ns = 9000;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(res.attr.mode, S_IFREG | 04711);
	CU_ASSERT_EQUAL(res.attr.uid, 7);
	CU_ASSERT_EQUAL(res.attr.gid, 8);
	CU_ASSERT_EQUAL(res.attr.ctime_ns, 9000);
	CU_ASSERT_EQUAL(res.attr.mtime_ns, FT_NOW);
	op.ino = 999;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), -ENOENT);
	op.ino = f.ino;
	op.valid = 1u << 20;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), -EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_setattr_times(void)
{
	struct ms_fsm *fsm = ft_new();
	struct ms_fsm_result res;
	struct rfs_attr f;
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	ft_op(&op, RFS_OP_SETATTR);
	op.ino = f.ino;
	op.valid = RFS_SETATTR_ATIME | RFS_SETATTR_MTIME;
	op.atime_ns = 11;
	op.mtime_ns = 22;
	op.now_ns = 5000;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(res.attr.atime_ns, 11);
	CU_ASSERT_EQUAL(res.attr.mtime_ns, 22);
	CU_ASSERT_EQUAL(res.attr.ctime_ns, 5000);
	op.valid = RFS_SETATTR_ATIME_NOW | RFS_SETATTR_MTIME_NOW;
	op.now_ns = 6000;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(res.attr.atime_ns, 6000);
	CU_ASSERT_EQUAL(res.attr.mtime_ns, 6000);
	CU_ASSERT_EQUAL(res.attr.ctime_ns, 6000);
	ms_fsm_free(fsm);
}

static void test_fsm_setattr_size_not_regular(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr l;
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "l", "t", &l), 0);
	ft_op(&op, RFS_OP_SETATTR);
	op.ino = RFS_ROOT_INO;
	op.valid = RFS_SETATTR_SIZE;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -EISDIR);
	op.ino = l.ino;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_xattr_set_get_list_remove(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_value_reply v;
	struct rfs_attr f;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, "user.b", "2", 1, 0), 0);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, "user.a", "one", 3, 0), 0);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, "user.e", "", 0, 0), 0);
	CU_ASSERT_EQUAL(ms_fsm_getxattr(fsm, f.ino, "user.a", &v), 0);
	CU_ASSERT_EQUAL(v.len, 3);
	CU_ASSERT_EQUAL(memcmp(v.data, "one", 3), 0);
	rfs_proto_value_release(&v);
	CU_ASSERT_EQUAL(ms_fsm_getxattr(fsm, f.ino, "user.e", &v), 0);
	CU_ASSERT_EQUAL(v.len, 0);
	rfs_proto_value_release(&v);
	CU_ASSERT_EQUAL(ms_fsm_listxattr(fsm, f.ino, &v), 0);
	CU_ASSERT_EQUAL(v.len, 21);
	CU_ASSERT_EQUAL(memcmp(v.data, "user.a\0user.b\0user.e\0", 21), 0);
	rfs_proto_value_release(&v);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, "user.a", "x", 1, 0), 0);
	CU_ASSERT_EQUAL(ms_fsm_getxattr(fsm, f.ino, "user.a", &v), 0);
	CU_ASSERT_EQUAL(v.len, 1);
	rfs_proto_value_release(&v);
	CU_ASSERT_EQUAL(ft_removexattr(fsm, f.ino, "user.a"), 0);
	CU_ASSERT_EQUAL(ms_fsm_getxattr(fsm, f.ino, "user.a", &v), -ENODATA);
	CU_ASSERT_EQUAL(ft_removexattr(fsm, f.ino, "user.a"), -ENODATA);
	CU_ASSERT_EQUAL(ms_fsm_listxattr(fsm, 999, &v), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_xattr_flags(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(
	    ft_setxattr(fsm, f.ino, "user.a", "1", 1, RFS_XATTR_REPLACE),
	    -ENODATA);
	CU_ASSERT_EQUAL(
	    ft_setxattr(fsm, f.ino, "user.a", "1", 1, RFS_XATTR_CREATE), 0);
	CU_ASSERT_EQUAL(
	    ft_setxattr(fsm, f.ino, "user.a", "2", 1, RFS_XATTR_CREATE),
	    -EEXIST);
	CU_ASSERT_EQUAL(
	    ft_setxattr(fsm, f.ino, "user.a", "2", 1, RFS_XATTR_REPLACE), 0);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, "user.a", "2", 1, 0x40),
			-EINVAL);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, 999, "user.a", "2", 1, 0), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_xattr_limits(void)
{
	struct ms_fsm *fsm = ft_new();
	char *big = calloc(1, RFS_XATTR_VALUE_MAX + 1);
	char name[RFS_NAME_MAX + 2];
	struct rfs_attr f;
	int i;
	int rc = 0;

	CU_ASSERT_FATAL(big != NULL);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, "user.big", big,
				    RFS_XATTR_VALUE_MAX + 1, 0),
			-E2BIG);
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, "", "1", 1, 0), -ERANGE);
	memset(name, 'n', RFS_NAME_MAX + 1);
	name[RFS_NAME_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(ft_setxattr(fsm, f.ino, name, "1", 1, 0), -ERANGE);
	/* full-size values until the per-inode budget is spent */
	for (i = 0; i < 8 && rc == 0; i++) {
		snprintf(name, sizeof(name), "user.v%d", i);
		rc = ft_setxattr(fsm, f.ino, name, big, RFS_XATTR_VALUE_MAX, 0);
	}
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT(i > 1);
	free(big);
	ms_fsm_free(fsm);
}

/* Ops that fail must leave the state byte-for-byte as it was. */
static void test_fsm_failed_ops_change_nothing(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;
	struct rfs_attr f;
	void *before;
	void *after;
	size_t blen;
	size_t alen;

	ft_servers(fsm, 2);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", &d), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, d.ino, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, f.ino, 0, 10), 0);
	CU_ASSERT_EQUAL(ms_fsm_snapshot(fsm, &before, &blen), 0);
	CU_ASSERT_EQUAL(ft_rmdir(fsm, RFS_ROOT_INO, "d"), -ENOTEMPTY);
	CU_ASSERT_EQUAL(ft_mkdir(fsm, d.ino, "f", NULL), -EEXIST);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "d", d.ino, "x", 0),
			-EINVAL);
	CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, "d"), -EISDIR);
	CU_ASSERT_EQUAL(ft_link(fsm, d.ino, RFS_ROOT_INO, "e", NULL), -EPERM);
	CU_ASSERT_EQUAL(
	    ft_setxattr(fsm, f.ino, "user.a", "1", 1, RFS_XATTR_REPLACE),
	    -ENODATA);
	CU_ASSERT_EQUAL(ft_lease(fsm, f.ino, 1, 1, 1, NULL), -ESTALE);
	CU_ASSERT_EQUAL(ft_commit(fsm, f.ino, 0, 1, 9, 10, 1), -EINVAL);
	CU_ASSERT_EQUAL(ms_fsm_snapshot(fsm, &after, &alen), 0);
	CU_ASSERT_EQUAL(alen, blen);
	CU_ASSERT(alen == blen && memcmp(before, after, alen) == 0);
	free(before);
	free(after);
	ms_fsm_free(fsm);
}

static void test_fsm_apply_rejects_queries(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_op op;

	ft_op(&op, RFS_OP_LOOKUP);
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -EINVAL);
	op.type = RFS_OP_COUNT + 5;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -EINVAL);
	CU_ASSERT(ms_fsm_op_is_mutation(RFS_OP_MKDIR));
	CU_ASSERT(ms_fsm_op_is_mutation(RFS_OP_COMMIT));
	CU_ASSERT(ms_fsm_op_is_mutation(RFS_OP_ADD_REPLICAS));
	CU_ASSERT(!ms_fsm_op_is_mutation(RFS_OP_READDIR));
	CU_ASSERT(!ms_fsm_op_is_mutation(RFS_OP_LAYOUT));
	CU_ASSERT(!ms_fsm_op_is_mutation(RFS_OP_NONE));
	ms_fsm_free(fsm);
}

static void test_fsm_readdir_dots_and_cookies(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_readdir_reply r;
	struct rfs_attr d;

	CU_ASSERT_EQUAL(ft_mkdir(fsm, RFS_ROOT_INO, "d", &d), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, d.ino, "x", 0, NULL), 0);
	CU_ASSERT_EQUAL(ms_fsm_readdir(fsm, d.ino, 0, 1, &r), 0);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(r.entries[0].name, ".");
	CU_ASSERT_EQUAL(r.entries[0].ino, d.ino);
	CU_ASSERT_EQUAL(r.entries[0].cookie, 1);
	CU_ASSERT(!r.eof);
	rfs_proto_readdir_release(&r);
	CU_ASSERT_EQUAL(ms_fsm_readdir(fsm, d.ino, 1, 0, &r), 0);
	CU_ASSERT_EQUAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(r.entries[0].name, "..");
	CU_ASSERT_EQUAL(r.entries[0].ino, RFS_ROOT_INO);
	CU_ASSERT_EQUAL(r.entries[0].cookie, 2);
	CU_ASSERT_STRING_EQUAL(r.entries[1].name, "x");
	CU_ASSERT(r.entries[1].cookie >= 3);
	CU_ASSERT(S_ISREG(r.entries[1].mode));
	CU_ASSERT(r.eof);
	rfs_proto_readdir_release(&r);
	CU_ASSERT_EQUAL(ms_fsm_readdir(fsm, RFS_ROOT_INO, 0, 10, &r), 0);
	CU_ASSERT_EQUAL(r.n, 3);
	CU_ASSERT_EQUAL(r.entries[1].ino, RFS_ROOT_INO);
	CU_ASSERT(r.eof);
	rfs_proto_readdir_release(&r);
	ms_fsm_free(fsm);
}

static void test_fsm_readdir_errors(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_readdir_reply r;
	struct rfs_attr f;

	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ms_fsm_readdir(fsm, f.ino, 0, 10, &r), -ENOTDIR);
	CU_ASSERT_EQUAL(ms_fsm_readdir(fsm, 999, 0, 10, &r), -ENOENT);
	ms_fsm_free(fsm);
}

#define PAGE_ENTRIES 3000
#define PAGE_LIMIT   100

/* Marks each name of a page seen; a second sighting is an error. */
static void page_collect(const struct rfs_readdir_reply *r, unsigned char *seen,
			 int *dups, uint64_t *cookie)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		const char *n = r->entries[i].name;

		*cookie = r->entries[i].cookie;
		if (n[0] != 'e' && n[0] != 'n')
			continue;
		if (seen[strtoul(n + 1, NULL, 10) +
			 (n[0] == 'n') * PAGE_ENTRIES]++)
			(*dups)++;
	}
}

/*
 * 3000 entries listed 100 at a time while, between pages, entries are
 * deleted (some already listed, some not yet) and new ones created. Every
 * entry that existed throughout is listed exactly once; nothing twice.
 */
static void test_fsm_readdir_paging_with_changes(void)
{
	struct ms_fsm *fsm = ft_new();
	unsigned char *seen = calloc(2 * PAGE_ENTRIES, 1);
	unsigned char *deleted = calloc(PAGE_ENTRIES, 1);
	struct rfs_readdir_reply r;
	uint64_t cookie = 0;
	char name[32];
	int dups = 0;
	int pages = 0;
	int i;

	CU_ASSERT_FATAL(seen && deleted);
	for (i = 0; i < PAGE_ENTRIES; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		CU_ASSERT_EQUAL_FATAL(
		    ft_create(fsm, RFS_ROOT_INO, name, 0, NULL), 0);
	}
	do {
		CU_ASSERT_EQUAL_FATAL(
		    ms_fsm_readdir(fsm, RFS_ROOT_INO, cookie, PAGE_LIMIT, &r),
		    0);
		CU_ASSERT(r.n <= PAGE_LIMIT);
		page_collect(&r, seen, &dups, &cookie);
		rfs_proto_readdir_release(&r);
		/* delete 7 scattered entries and add 3 new ones */
		for (i = 0; i < 7; i++) {
			int k = (pages * 7919 + i * 4241) % PAGE_ENTRIES;

			snprintf(name, sizeof(name), "e%d", k);
			if (ft_unlink(fsm, RFS_ROOT_INO, name) == 0)
				deleted[k] = 1;
		}
		for (i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "n%d", pages * 3 + i);
			CU_ASSERT_EQUAL(
			    ft_create(fsm, RFS_ROOT_INO, name, 0, NULL), 0);
		}
		pages++;
	} while (!r.eof && pages < 1000);
	CU_ASSERT(r.eof);
	CU_ASSERT_EQUAL(dups, 0);
	for (i = 0; i < PAGE_ENTRIES; i++)
		if (!deleted[i] && !seen[i])
			CU_FAIL("an entry present throughout was skipped");
	CU_ASSERT(pages >= PAGE_ENTRIES / PAGE_LIMIT);
	free(seen);
	free(deleted);
	ms_fsm_free(fsm);
}

#define COMPACT_ENTRIES 1500

/*
 * Deleting most of a directory between two pages compacts its listing
 * (tombstones dropped, vector shrunk); the cookie handed out before stays
 * valid and the survivors after it come exactly once. A limit above
 * RFS_READDIR_MAX is capped.
 */
static void test_fsm_readdir_paging_survives_compaction(void)
{
	struct ms_fsm *fsm = ft_new();
	unsigned char *seen = calloc(COMPACT_ENTRIES, 1);
	struct rfs_readdir_reply r;
	uint64_t cookie = 0;
	char name[32];
	int dups = 0;
	int i;

	CU_ASSERT_FATAL(seen != NULL);
	for (i = 0; i < COMPACT_ENTRIES; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		CU_ASSERT_EQUAL_FATAL(
		    ft_create(fsm, RFS_ROOT_INO, name, 0, NULL), 0);
	}
	CU_ASSERT_EQUAL_FATAL(ms_fsm_readdir(fsm, RFS_ROOT_INO, 0, 5000, &r),
			      0);
	CU_ASSERT_EQUAL(r.n, RFS_READDIR_MAX);
	CU_ASSERT(!r.eof);
	rfs_proto_readdir_release(&r);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_readdir(fsm, RFS_ROOT_INO, 0, 52, &r), 0);
	page_collect(&r, seen, &dups, &cookie); /* "." ".." e0..e49 */
	rfs_proto_readdir_release(&r);
	for (i = 0; i < COMPACT_ENTRIES; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		if (i % 10 != 0)
			CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, name), 0);
	}
	do {
		CU_ASSERT_EQUAL_FATAL(
		    ms_fsm_readdir(fsm, RFS_ROOT_INO, cookie, 7, &r), 0);
		page_collect(&r, seen, &dups, &cookie);
		rfs_proto_readdir_release(&r);
	} while (!r.eof);
	CU_ASSERT_EQUAL(dups, 0);
	for (i = 0; i < COMPACT_ENTRIES; i++)
		CU_ASSERT_EQUAL(seen[i], i < 50 || i % 10 == 0);
	free(seen);
	ms_fsm_free(fsm);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fsm_new_root),
	    RFS_TEST(test_fsm_new_rejects_bad_format),
	    RFS_TEST(test_fsm_mkdir_basic),
	    RFS_TEST(test_fsm_create_missing_parent_enoent),
	    RFS_TEST(test_fsm_create_parent_not_dir_enotdir),
	    RFS_TEST(test_fsm_create_existing_name_eexist),
	    RFS_TEST(test_fsm_create_existing_file_opens_it),
	    RFS_TEST(test_fsm_create_on_dir_eisdir),
	    RFS_TEST(test_fsm_name_checks),
	    RFS_TEST(test_fsm_symlink_readlink),
	    RFS_TEST(test_fsm_symlink_target_too_long),
	    RFS_TEST(test_fsm_rmdir_basic),
	    RFS_TEST(test_fsm_rmdir_nonempty_enotempty),
	    RFS_TEST(test_fsm_rmdir_file_enotdir),
	    RFS_TEST(test_fsm_unlink_dir_eisdir),
	    RFS_TEST(test_fsm_unlink_frees_inode_and_chunks),
	    RFS_TEST(test_fsm_unlink_updates_parent_times),
	    RFS_TEST(test_fsm_link_counts),
	    RFS_TEST(test_fsm_link_dir_eperm),
	    RFS_TEST(test_fsm_link_errors),
	    RFS_TEST(test_fsm_lookup_errors),
	    RFS_TEST(test_fsm_resolve_paths),
	    RFS_TEST(test_fsm_setattr_mode_owner),
	    RFS_TEST(test_fsm_setattr_times),
	    RFS_TEST(test_fsm_setattr_size_not_regular),
	    RFS_TEST(test_fsm_xattr_set_get_list_remove),
	    RFS_TEST(test_fsm_xattr_flags),
	    RFS_TEST(test_fsm_xattr_limits),
	    RFS_TEST(test_fsm_failed_ops_change_nothing),
	    RFS_TEST(test_fsm_apply_rejects_queries),
	    RFS_TEST(test_fsm_readdir_dots_and_cookies),
	    RFS_TEST(test_fsm_readdir_errors),
	    RFS_TEST(test_fsm_readdir_paging_with_changes),
	    RFS_TEST(test_fsm_readdir_paging_survives_compaction),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fsm",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
