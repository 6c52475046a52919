/*
 * Ownership rules of the metaserver state machine: a new entry's owner is
 * the caller's (op->uid/gid), except that a directory with S_ISGID gives
 * its group to every entry created in it and its S_ISGID bit to new
 * subdirectories. Renames and links keep the group they had.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "tests/unit/fsm_test_util.h"
#include "tests/unit/runner.h"

#define PT_DIR_GID 300 /* the group of the setgid directory */

/* chmod/chgrp of ino through a setattr op. */
static int pt_chmod_chgrp(struct ms_fsm *fsm, uint64_t ino, uint32_t mode,
			  uint32_t gid, struct rfs_attr *out)
{
	struct ms_fsm_result res;
	struct rfs_op op;
	int rc;

	ft_op(&op, RFS_OP_SETATTR);
	op.ino = ino;
	op.valid = RFS_SETATTR_MODE | RFS_SETATTR_GID;
	op.mode = mode;
	op.gid = gid;
	rc = ms_fsm_apply(fsm, &op, &res);
	if (rc == 0 && out)
		*out = res.attr;
	return rc;
}

/* Create a file with the given permission bits as FT_UID/FT_GID. */
static int pt_create_mode(struct ms_fsm *fsm, uint64_t parent, const char *name,
			  uint32_t mode, struct rfs_attr *out)
{
	struct ms_fsm_result res;
	struct rfs_op op;
	int rc;

	ft_op(&op, RFS_OP_CREATE);
	op.parent = parent;
	ft_name(op.name, name);
	op.mode = mode;
	rc = ms_fsm_apply(fsm, &op, &res);
	if (rc == 0 && out)
		*out = res.attr;
	return rc;
}

/* A directory "d" (mode 02775 when setgid, else 0775) of group
 * PT_DIR_GID under the root. */
static void pt_group_dir(struct ms_fsm *fsm, bool setgid, struct rfs_attr *d)
{
	uint32_t mode = setgid ? 02775 : 0775;

	CU_ASSERT_FATAL(ft_mkdir_at(fsm, RFS_ROOT_INO, "d", mode, FT_NOW, d) ==
			0);
	CU_ASSERT_FATAL(pt_chmod_chgrp(fsm, d->ino, mode, PT_DIR_GID, d) == 0);
	CU_ASSERT_EQUAL(d->mode, S_IFDIR | mode);
	CU_ASSERT_EQUAL(d->gid, PT_DIR_GID);
}

static void test_fsm_perm_owner_from_caller(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;
	struct rfs_attr f;
	struct rfs_attr s;
	struct rfs_attr l;

	pt_group_dir(fsm, false, &d);
	CU_ASSERT_EQUAL(ft_create(fsm, d.ino, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_mkdir_at(fsm, d.ino, "s", 0755, FT_NOW, &s), 0);
	CU_ASSERT_EQUAL(ft_symlink(fsm, d.ino, "l", "f", &l), 0);
	CU_ASSERT_EQUAL(f.uid, FT_UID);
	CU_ASSERT_EQUAL(f.gid, FT_GID);
	CU_ASSERT_EQUAL(s.uid, FT_UID);
	CU_ASSERT_EQUAL(s.gid, FT_GID);
	CU_ASSERT_EQUAL(s.mode, S_IFDIR | 0755);
	CU_ASSERT_EQUAL(l.uid, FT_UID);
	CU_ASSERT_EQUAL(l.gid, FT_GID);
	ms_fsm_free(fsm);
}

static void test_fsm_perm_setgid_dir_gives_group(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;
	struct rfs_attr f;
	struct rfs_attr l;
	struct rfs_attr got;

	pt_group_dir(fsm, true, &d);
	CU_ASSERT_EQUAL(ft_create(fsm, d.ino, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(f.uid, FT_UID);
	CU_ASSERT_EQUAL(f.gid, PT_DIR_GID);
	CU_ASSERT_EQUAL(f.mode, S_IFREG | 0644); /* files get no S_ISGID */
	CU_ASSERT_EQUAL(ft_symlink(fsm, d.ino, "l", "f", &l), 0);
	CU_ASSERT_EQUAL(l.gid, PT_DIR_GID);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, d.ino, "f", &got), 0);
	CU_ASSERT_EQUAL(got.gid, PT_DIR_GID);
	/* the mode the client asked for is kept as it is */
	CU_ASSERT_EQUAL(pt_create_mode(fsm, d.ino, "g", 02755, &f), 0);
	CU_ASSERT_EQUAL(f.mode, S_IFREG | 02755);
	CU_ASSERT_EQUAL(f.gid, PT_DIR_GID);
	ms_fsm_free(fsm);
}

static void test_fsm_perm_setgid_dir_subdir_inherits(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;
	struct rfs_attr s;
	struct rfs_attr t;
	struct rfs_attr f;

	pt_group_dir(fsm, true, &d);
	CU_ASSERT_EQUAL(ft_mkdir_at(fsm, d.ino, "s", 0750, FT_NOW, &s), 0);
	CU_ASSERT_EQUAL(s.mode, S_IFDIR | 02750);
	CU_ASSERT_EQUAL(s.gid, PT_DIR_GID);
	CU_ASSERT_EQUAL(s.uid, FT_UID);
	/* and on down the tree */
	CU_ASSERT_EQUAL(ft_mkdir_at(fsm, s.ino, "t", 0700, FT_NOW, &t), 0);
	CU_ASSERT_EQUAL(t.mode, S_IFDIR | 02700);
	CU_ASSERT_EQUAL(t.gid, PT_DIR_GID);
	CU_ASSERT_EQUAL(ft_create(fsm, t.ino, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(f.gid, PT_DIR_GID);
	/* a subdirectory whose S_ISGID was removed passes nothing on */
	CU_ASSERT_EQUAL(pt_chmod_chgrp(fsm, t.ino, 0700, FT_GID, &t), 0);
	CU_ASSERT_EQUAL(ft_create(fsm, t.ino, "g", 0, &f), 0);
	CU_ASSERT_EQUAL(f.gid, FT_GID);
	CU_ASSERT_EQUAL(ft_mkdir_at(fsm, t.ino, "u", 0755, FT_NOW, &s), 0);
	CU_ASSERT_EQUAL(s.mode, S_IFDIR | 0755);
	CU_ASSERT_EQUAL(s.gid, FT_GID);
	ms_fsm_free(fsm);
}

/* Existing entries keep their group: rename and link into a setgid
 * directory, and open(O_CREAT) of an existing file, change nothing. */
static void test_fsm_perm_setgid_dir_existing_entries_keep_group(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr d;
	struct rfs_attr f;
	struct rfs_attr got;

	pt_group_dir(fsm, true, &d);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(f.gid, FT_GID);
	CU_ASSERT_EQUAL(ft_link(fsm, f.ino, d.ino, "hard", &got), 0);
	CU_ASSERT_EQUAL(got.gid, FT_GID);
	CU_ASSERT_EQUAL(ft_rename(fsm, RFS_ROOT_INO, "f", d.ino, "moved", 0),
			0);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, d.ino, "moved", &got), 0);
	CU_ASSERT_EQUAL(got.gid, FT_GID);
	CU_ASSERT_EQUAL(ft_create(fsm, d.ino, "moved", 0, &got), 0);
	CU_ASSERT_EQUAL(got.ino, f.ino);
	CU_ASSERT_EQUAL(got.gid, FT_GID);
	ms_fsm_free(fsm);
}

static bool pt_same_attr(const struct rfs_attr *x, const struct rfs_attr *y)
{
	return x->ino == y->ino && x->mode == y->mode && x->uid == y->uid &&
	       x->gid == y->gid && x->nlink == y->nlink &&
	       x->ctime_ns == y->ctime_ns && x->goal == y->goal;
}

/* The rule depends on the state only: two states fed the same ops end
 * with the same attributes. */
static void test_fsm_perm_setgid_deterministic(void)
{
	struct ms_fsm *a = ft_new();
	struct ms_fsm *b = ft_new();
	struct rfs_attr da;
	struct rfs_attr db;
	struct rfs_attr fa;
	struct rfs_attr fb;

	pt_group_dir(a, true, &da);
	pt_group_dir(b, true, &db);
	CU_ASSERT_EQUAL(ft_mkdir_at(a, da.ino, "s", 0755, FT_NOW, &fa), 0);
	CU_ASSERT_EQUAL(ft_mkdir_at(b, db.ino, "s", 0755, FT_NOW, &fb), 0);
	CU_ASSERT(pt_same_attr(&fa, &fb));
	CU_ASSERT_EQUAL(ft_create(a, fa.ino, "f", 0, &fa), 0);
	CU_ASSERT_EQUAL(ft_create(b, fb.ino, "f", 0, &fb), 0);
	CU_ASSERT(pt_same_attr(&fa, &fb));
	ms_fsm_free(a);
	ms_fsm_free(b);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fsm_perm_owner_from_caller),
	    RFS_TEST(test_fsm_perm_setgid_dir_gives_group),
	    RFS_TEST(test_fsm_perm_setgid_dir_subdir_inherits),
	    RFS_TEST(test_fsm_perm_setgid_dir_existing_entries_keep_group),
	    RFS_TEST(test_fsm_perm_setgid_deterministic),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fsm_perm",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
