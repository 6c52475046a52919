/*
 * Unlinked open files in the metaserver state machine: an unlink or a
 * rename over a file, sent with a session, keeps a regular file that lost
 * its last link as an orphan of that session (inode and chunks usable,
 * nlink 0) until release_orphan or drop_orphans frees it; the orphan
 * table survives a snapshot round trip; without a session the file is
 * freed at once, as before.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/fsm_test_util.h"
#include "tests/unit/runner.h"

#define S1 0x1111u
#define S2 0x2222u

static int unlink_s(struct ms_fsm *fsm, uint64_t parent, const char *name,
		    uint64_t session, uint64_t *orphan)
{
	struct ms_fsm_result res;
	struct rfs_op op;
	int rc;

	ft_op(&op, RFS_OP_UNLINK);
	op.parent = parent;
	ft_name(op.name, name);
	op.session = session;
	rc = ms_fsm_apply(fsm, &op, &res);
	*orphan = rc == 0 ? res.orphan : 0;
	return rc;
}

static int rename_s(struct ms_fsm *fsm, const char *name, const char *newname,
		    uint64_t session, uint64_t *orphan)
{
	struct ms_fsm_result res;
	struct rfs_op op;
	int rc;

	ft_op(&op, RFS_OP_RENAME);
	op.parent = RFS_ROOT_INO;
	ft_name(op.name, name);
	op.newparent = RFS_ROOT_INO;
	ft_name(op.newname, newname);
	op.session = session;
	rc = ms_fsm_apply(fsm, &op, &res);
	*orphan = rc == 0 ? res.orphan : 0;
	return rc;
}

static int release(struct ms_fsm *fsm, uint64_t ino, uint64_t session)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_RELEASE_ORPHAN);
	op.ino = ino;
	op.session = session;
	return ms_fsm_apply(fsm, &op, NULL);
}

static int drop(struct ms_fsm *fsm, uint64_t session)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_DROP_ORPHANS);
	op.session = session;
	return ms_fsm_apply(fsm, &op, NULL);
}

/* A file in the root with two committed chunks; returns its ino. */
static uint64_t file_with_data(struct ms_fsm *fsm, const char *name)
{
	struct rfs_attr a;

	CU_ASSERT_EQUAL_FATAL(ft_create(fsm, RFS_ROOT_INO, name, 0, &a), 0);
	CU_ASSERT_EQUAL_FATAL(ft_write(fsm, a.ino, 0, FT_CHUNK), 0);
	CU_ASSERT_EQUAL_FATAL(ft_write(fsm, a.ino, 1, 100), 0);
	return a.ino;
}

static uint64_t chunk_count(const struct ms_fsm *fsm)
{
	uint64_t chunks;

	ms_fsm_counts(fsm, NULL, &chunks, NULL);
	return chunks;
}

static void test_fsm_orphan_unlink_keeps_open_file(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_layout l;
	struct rfs_attr a;
	uint64_t ino;
	uint64_t orphan;
	uint64_t s;

	ft_servers(fsm, 3);
	ino = file_with_data(fsm, "f");
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "f", S1, &orphan), 0);
	CU_ASSERT_EQUAL(orphan, ino);
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "g", 0, NULL), 0);
	/* gone from the namespace, still there by inode */
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "f", &a), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 0);
	CU_ASSERT_EQUAL(a.size, FT_CHUNK + 100);
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, ino, 0, 0, &l), 0);
	CU_ASSERT_EQUAL(l.n_chunks, 2);
	rfs_proto_layout_release(&l);
	CU_ASSERT_EQUAL(chunk_count(fsm), 2);
	/* writes, truncates go on */
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 2, 10), 0);
	CU_ASSERT_EQUAL(ft_truncate(fsm, ino, FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.size, FT_CHUNK);
	/* but it gets no new name */
	CU_ASSERT_EQUAL(ft_link(fsm, ino, RFS_ROOT_INO, "back", NULL), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_orphan_count(fsm), 1);
	CU_ASSERT_EQUAL(ms_fsm_orphan_at(fsm, 0, &orphan, &s), 0);
	CU_ASSERT_EQUAL(orphan, ino);
	CU_ASSERT_EQUAL(s, S1);
	CU_ASSERT_EQUAL(ms_fsm_orphan_at(fsm, 1, &orphan, &s), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_orphan_rename_over(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	uint64_t victim;
	uint64_t orphan;
	struct rfs_attr src;

	ft_servers(fsm, 3);
	victim = file_with_data(fsm, "dst");
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "src", 0, &src), 0);
	CU_ASSERT_EQUAL(rename_s(fsm, "src", "dst", S1, &orphan), 0);
	CU_ASSERT_EQUAL(orphan, victim);
	CU_ASSERT_EQUAL(ms_fsm_lookup(fsm, RFS_ROOT_INO, "dst", &a), 0);
	CU_ASSERT_EQUAL(a.ino, src.ino);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_getattr(fsm, victim, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 0);
	CU_ASSERT_EQUAL(chunk_count(fsm), 2);
	/* a rename that drops no last link keeps nothing */
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "x", 0, &a), 0);
	CU_ASSERT_EQUAL(ft_link(fsm, a.ino, RFS_ROOT_INO, "y", NULL), 0);
	CU_ASSERT_EQUAL(rename_s(fsm, "dst", "x", S1, &orphan), 0);
	CU_ASSERT_EQUAL(orphan, 0);
	CU_ASSERT_EQUAL(ms_fsm_orphan_count(fsm), 1);
	ms_fsm_free(fsm);
}

static void test_fsm_orphan_release_frees_chunks(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_chunk c;
	struct rfs_attr a;
	uint64_t ino;
	uint64_t other;
	uint64_t orphan;
	uint64_t inodes;

	ft_servers(fsm, 3);
	ino = file_with_data(fsm, "f");
	other = file_with_data(fsm, "keep");
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "f", S1, &orphan), 0);
	ms_fsm_counts(fsm, &inodes, NULL, NULL);
	CU_ASSERT_EQUAL(inodes, 3); /* root, keep, the orphan */
	CU_ASSERT_EQUAL(chunk_count(fsm), 4);
	/* only its own session frees it; a linked file is no orphan */
	CU_ASSERT_EQUAL(release(fsm, ino, S2), -EPERM);
	CU_ASSERT_EQUAL(release(fsm, other, S1), -EINVAL);
	CU_ASSERT_EQUAL(release(fsm, ino, 0), -EINVAL);
	CU_ASSERT_EQUAL(chunk_count(fsm), 4);
	CU_ASSERT_EQUAL(release(fsm, ino, S1), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 0, &c), -ENOENT);
	CU_ASSERT_EQUAL(chunk_count(fsm), 2);
	CU_ASSERT_EQUAL(ms_fsm_orphan_count(fsm), 0);
	ms_fsm_counts(fsm, &inodes, NULL, NULL);
	CU_ASSERT_EQUAL(inodes, 2);
	/* idempotent: a retried release finds nothing and succeeds */
	CU_ASSERT_EQUAL(release(fsm, ino, S1), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, other, &a), 0);
	ms_fsm_free(fsm);
}

static void test_fsm_orphan_drop_by_session(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	uint64_t f1;
	uint64_t f2;
	uint64_t f3;
	uint64_t orphan;

	ft_servers(fsm, 3);
	f1 = file_with_data(fsm, "a");
	f2 = file_with_data(fsm, "b");
	f3 = file_with_data(fsm, "c");
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "a", S1, &orphan), 0);
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "b", S2, &orphan), 0);
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "c", S1, &orphan), 0);
	CU_ASSERT_EQUAL(ms_fsm_orphan_count(fsm), 3);
	CU_ASSERT_EQUAL(drop(fsm, 0), -EINVAL);
	CU_ASSERT_EQUAL(drop(fsm, S1), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, f1, &a), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, f3, &a), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, f2, &a), 0);
	CU_ASSERT_EQUAL(ms_fsm_orphan_count(fsm), 1);
	CU_ASSERT_EQUAL(chunk_count(fsm), 2);
	CU_ASSERT_EQUAL(drop(fsm, S1), 0); /* nothing left: still fine */
	CU_ASSERT_EQUAL(drop(fsm, S2), 0);
	CU_ASSERT_EQUAL(ms_fsm_orphan_count(fsm), 0);
	CU_ASSERT_EQUAL(chunk_count(fsm), 0);
	ms_fsm_free(fsm);
}

static bool snaps_equal(const struct ms_fsm *a, const struct ms_fsm *b)
{
	void *x;
	void *y;
	size_t xn;
	size_t yn;
	bool eq;

	CU_ASSERT_EQUAL_FATAL(ms_fsm_snapshot(a, &x, &xn), 0);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_snapshot(b, &y, &yn), 0);
	eq = xn == yn && memcmp(x, y, xn) == 0;
	free(x);
	free(y);
	return eq;
}

static void test_fsm_orphan_snapshot_roundtrip(void)
{
	struct ms_fsm *fsm = ft_new();
	struct ms_fsm *c = NULL;
	struct rfs_attr a;
	uint64_t f1;
	uint64_t f2;
	uint64_t orphan;
	uint64_t ino;
	uint64_t s;
	void *buf;
	size_t len;

	ft_servers(fsm, 3);
	f2 = file_with_data(fsm, "b");
	f1 = file_with_data(fsm, "a");
	/* orphaned out of ino order: the table is kept sorted */
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "a", S2, &orphan), 0);
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "b", S1, &orphan), 0);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_snapshot(fsm, &buf, &len), 0);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_restore(buf, len, &c), 0);
	free(buf);
	CU_ASSERT(snaps_equal(fsm, c));
	CU_ASSERT_EQUAL_FATAL(ms_fsm_orphan_count(c), 2);
	CU_ASSERT_EQUAL(ms_fsm_orphan_at(c, 0, &ino, &s), 0);
	CU_ASSERT_EQUAL(ino, f2);
	CU_ASSERT_EQUAL(s, S1);
	CU_ASSERT_EQUAL(ms_fsm_orphan_at(c, 1, &ino, &s), 0);
	CU_ASSERT_EQUAL(ino, f1);
	CU_ASSERT_EQUAL(s, S2);
	CU_ASSERT_EQUAL(ms_fsm_getattr(c, f1, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 0);
	CU_ASSERT_EQUAL(chunk_count(c), 4);
	/* the restored state frees them as the original does */
	CU_ASSERT_EQUAL(release(c, f1, S2), 0);
	CU_ASSERT_EQUAL(drop(c, S1), 0);
	CU_ASSERT_EQUAL(chunk_count(c), 0);
	CU_ASSERT_EQUAL(release(fsm, f1, S2), 0);
	CU_ASSERT_EQUAL(drop(fsm, S1), 0);
	CU_ASSERT(snaps_equal(fsm, c));
	ms_fsm_free(c);
	ms_fsm_free(fsm);
}

static void test_fsm_orphan_without_session_frees_at_once(void)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr a;
	struct rfs_attr l;
	uint64_t ino;
	uint64_t orphan = 1;

	ft_servers(fsm, 3);
	ino = file_with_data(fsm, "f");
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "f", 0, &orphan), 0);
	CU_ASSERT_EQUAL(orphan, 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), -ENOENT);
	CU_ASSERT_EQUAL(chunk_count(fsm), 0);
	/* rename over, without a session */
	ino = file_with_data(fsm, "g");
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "h", 0, NULL), 0);
	CU_ASSERT_EQUAL(rename_s(fsm, "h", "g", 0, &orphan), 0);
	CU_ASSERT_EQUAL(orphan, 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), -ENOENT);
	/* with a session: a file with another link, and a symlink, are no
	 * orphans */
	CU_ASSERT_EQUAL(ft_create(fsm, RFS_ROOT_INO, "m", 0, &a), 0);
	CU_ASSERT_EQUAL(ft_link(fsm, a.ino, RFS_ROOT_INO, "n", NULL), 0);
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "m", S1, &orphan), 0);
	CU_ASSERT_EQUAL(orphan, 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, a.ino, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 1);
	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "s", "t", &l), 0);
	CU_ASSERT_EQUAL(unlink_s(fsm, RFS_ROOT_INO, "s", S1, &orphan), 0);
	CU_ASSERT_EQUAL(orphan, 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, l.ino, &a), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_orphan_count(fsm), 0);
	ms_fsm_free(fsm);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fsm_orphan_unlink_keeps_open_file),
	    RFS_TEST(test_fsm_orphan_rename_over),
	    RFS_TEST(test_fsm_orphan_release_frees_chunks),
	    RFS_TEST(test_fsm_orphan_drop_by_session),
	    RFS_TEST(test_fsm_orphan_snapshot_roundtrip),
	    RFS_TEST(test_fsm_orphan_without_session_frees_at_once),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fsm_orphan",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
