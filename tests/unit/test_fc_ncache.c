/*
 * The mount's name cache (fuse-client/ncache.c): fills and expiry, when a
 * directory is worth listing, what each kind of change forgets, listings
 * voided by a change in flight, and the bound on its size.
 */
#include <config.h>
#include "fuse-client/ncache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

#define SEC 1000000000LL

static struct rfs_dirent dirent(const char *name, uint64_t ino)
{
	struct rfs_dirent d = {.ino = ino, .mode = S_IFREG | 0644};

	snprintf(d.name, sizeof(d.name), "%s", name);
	d.has_attr = true;
	d.attr.ino = ino;
	d.attr.mode = d.mode;
	d.attr.nlink = 1;
	d.attr.size = ino * 10;
	return d;
}

/* A cache with entries a (ino 10), b (ino 11), c (ino 12) of dir 1, and
 * a hard link of b as dir 2's "b2", stored at 10 s with a 1 s ttl. */
static struct fc_ncache *filled(void)
{
	struct rfs_dirent d1[] = {dirent(".", 1), dirent("..", 1),
				  dirent("a", 10), dirent("b", 11),
				  dirent("c", 12)};
	struct rfs_dirent d2[] = {dirent("b2", 11)};
	struct fc_ncache *nc = NULL;

	CU_ASSERT_EQUAL_FATAL(fc_ncache_new(64, 1.0, &nc), 0);
	CU_ASSERT_TRUE(
	    fc_ncache_fill(nc, 1, d1, 5, fc_ncache_gen(nc), 10 * SEC));
	CU_ASSERT_TRUE(
	    fc_ncache_fill(nc, 2, d2, 1, fc_ncache_gen(nc), 10 * SEC));
	return nc;
}

static bool has(struct fc_ncache *nc, uint64_t parent, const char *name)
{
	struct rfs_attr a;

	return fc_ncache_get(nc, parent, name, 10 * SEC, &a, NULL);
}

static void test_fc_ncache_fill_get_expire(void)
{
	struct fc_ncache *nc = filled();
	struct rfs_attr a;
	double left = 0;

	CU_ASSERT_EQUAL(fc_ncache_count(nc), 4); /* not "." or ".." */
	CU_ASSERT_FALSE(has(nc, 1, "."));
	CU_ASSERT_TRUE(fc_ncache_get(nc, 1, "b", 10 * SEC, &a, &left));
	CU_ASSERT_EQUAL(a.ino, 11);
	CU_ASSERT_EQUAL(a.size, 110);
	CU_ASSERT_DOUBLE_EQUAL(left, 1.0, 1e-9);
	CU_ASSERT_TRUE(fc_ncache_get(nc, 1, "b", 11 * SEC - 1, &a, &left));
	CU_ASSERT_TRUE(left > 0 && left < 1e-6);
	CU_ASSERT_FALSE(fc_ncache_get(nc, 1, "b", 11 * SEC, &a, NULL));
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 3); /* the expired one went */
	CU_ASSERT_FALSE(has(nc, 2, "b"));	 /* names are per directory */
	CU_ASSERT_FALSE(has(nc, 1, "d"));
	fc_ncache_free(nc);
}

static void test_fc_ncache_entries_without_attrs_or_ttl(void)
{
	struct rfs_dirent d = dirent("x", 5);
	struct fc_ncache *nc = NULL;

	CU_ASSERT_EQUAL_FATAL(fc_ncache_new(8, 1.0, &nc), 0);
	d.has_attr = false;
	fc_ncache_fill(nc, 1, &d, 1, fc_ncache_gen(nc), 0);
	d.has_attr = true;
	d.attr.ino = 6; /* attributes of another inode: not trusted */
	fc_ncache_fill(nc, 1, &d, 1, fc_ncache_gen(nc), 0);
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 0);
	fc_ncache_free(nc);
	CU_ASSERT_EQUAL_FATAL(fc_ncache_new(8, 0, &nc), 0);
	d.attr.ino = 5;
	CU_ASSERT_FALSE(fc_ncache_fill(nc, 1, &d, 1, fc_ncache_gen(nc), 0));
	CU_ASSERT_FALSE(fc_ncache_want_fill(nc, 1, 0));
	fc_ncache_free(nc);
	CU_ASSERT_NOT_EQUAL(fc_ncache_new(0, 1.0, &nc), 0);
}

static void test_fc_ncache_want_fill(void)
{
	struct fc_ncache *nc = NULL;

	CU_ASSERT_EQUAL_FATAL(fc_ncache_new(8, 1.0, &nc), 0);
	/* no lookup found anything in dir 3 yet */
	CU_ASSERT_FALSE(fc_ncache_want_fill(nc, 3, 10 * SEC));
	fc_ncache_note_lookup(nc, 3, 10 * SEC);
	CU_ASSERT_FALSE(fc_ncache_want_fill(nc, 4, 10 * SEC));
	CU_ASSERT_TRUE(fc_ncache_want_fill(nc, 3, 10 * SEC + 1));
	/* listed: not again within the ttl */
	CU_ASSERT_FALSE(fc_ncache_want_fill(nc, 3, 10 * SEC + 2));
	fc_ncache_note_lookup(nc, 3, 10 * SEC + 3);
	CU_ASSERT_FALSE(fc_ncache_want_fill(nc, 3, 11 * SEC));
	fc_ncache_note_lookup(nc, 3, 11 * SEC);
	CU_ASSERT_TRUE(fc_ncache_want_fill(nc, 3, 11 * SEC + 1));
	/* a found entry older than the ttl does not count */
	fc_ncache_note_lookup(nc, 5, 20 * SEC);
	CU_ASSERT_FALSE(fc_ncache_want_fill(nc, 5, 21 * SEC));
	fc_ncache_free(nc);
}

static void test_fc_ncache_reads_forget_nothing(void)
{
	struct fc_ncache *nc = filled();
	struct rfs_op op = {.type = RFS_OP_GETATTR, .ino = 10};
	uint64_t gen = fc_ncache_gen(nc);

	fc_ncache_on_change(nc, &op);
	op.type = RFS_OP_LOOKUP;
	op.parent = 1;
	snprintf(op.name, sizeof(op.name), "a");
	fc_ncache_on_change(nc, &op);
	op.type = RFS_OP_LAYOUT;
	fc_ncache_on_change(nc, &op);
	CU_ASSERT_EQUAL(fc_ncache_gen(nc), gen);
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 4);
	fc_ncache_free(nc);
}

static void test_fc_ncache_changes_forget(void)
{
	struct fc_ncache *nc = filled();
	struct rfs_op op = {.type = RFS_OP_COMMIT, .ino = 10};

	/* data or attributes of an inode */
	fc_ncache_on_change(nc, &op);
	CU_ASSERT_FALSE(has(nc, 1, "a"));
	CU_ASSERT_TRUE(has(nc, 1, "b"));
	/* an unlink of one name of a linked inode: every name of it */
	memset(&op, 0, sizeof(op));
	op.type = RFS_OP_UNLINK;
	op.parent = 1;
	snprintf(op.name, sizeof(op.name), "b");
	fc_ncache_on_change(nc, &op);
	CU_ASSERT_FALSE(has(nc, 1, "b"));
	CU_ASSERT_FALSE(has(nc, 2, "b2"));
	CU_ASSERT_TRUE(has(nc, 1, "c"));
	/* a rename: both names */
	fc_ncache_free(nc);
	nc = filled();
	memset(&op, 0, sizeof(op));
	op.type = RFS_OP_RENAME;
	op.parent = 1;
	snprintf(op.name, sizeof(op.name), "a");
	op.newparent = 2;
	snprintf(op.newname, sizeof(op.newname), "b2");
	fc_ncache_on_change(nc, &op);
	CU_ASSERT_FALSE(has(nc, 1, "a"));
	CU_ASSERT_FALSE(has(nc, 2, "b2"));
	CU_ASSERT_FALSE(has(nc, 1, "b")); /* b2's inode */
	CU_ASSERT_TRUE(has(nc, 1, "c"));
	/* an xattr name is no entry name */
	memset(&op, 0, sizeof(op));
	op.type = RFS_OP_SETXATTR;
	op.ino = 99;
	snprintf(op.name, sizeof(op.name), "c");
	fc_ncache_on_change(nc, &op);
	CU_ASSERT_TRUE(has(nc, 1, "c"));
	/* a link: the inode's nlink */
	memset(&op, 0, sizeof(op));
	op.type = RFS_OP_LINK;
	op.ino = 12;
	op.newparent = 2;
	snprintf(op.newname, sizeof(op.newname), "c2");
	fc_ncache_on_change(nc, &op);
	CU_ASSERT_FALSE(has(nc, 1, "c"));
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 0);
	fc_ncache_free(nc);
}

static void test_fc_ncache_change_during_listing(void)
{
	struct fc_ncache *nc = NULL;
	struct rfs_dirent d[] = {dirent("x", 5), dirent("y", 6), dirent("z", 7),
				 dirent("w", 8)};
	struct rfs_op op = {.type = RFS_OP_SETATTR, .ino = 5};
	struct rfs_attr got;
	uint64_t gen;
	int i;

	CU_ASSERT_EQUAL_FATAL(fc_ncache_new(8, 1.0, &nc), 0);
	d[3].attr.nlink = 2;
	gen = fc_ncache_gen(nc);
	/* while the listing was in flight: a setattr of x's inode, an
	 * unlink of y, a create of a name not listed */
	fc_ncache_on_change(nc, &op);
	memset(&op, 0, sizeof(op));
	op.type = RFS_OP_UNLINK;
	op.parent = 1;
	snprintf(op.name, sizeof(op.name), "y");
	fc_ncache_on_change(nc, &op);
	op.type = RFS_OP_CREATE;
	snprintf(op.name, sizeof(op.name), "new");
	fc_ncache_on_change(nc, &op);
	CU_ASSERT_TRUE(fc_ncache_fill(nc, 1, d, 4, gen, 0));
	CU_ASSERT_FALSE(fc_ncache_get(nc, 1, "x", 0, &got, NULL));
	CU_ASSERT_FALSE(fc_ncache_get(nc, 1, "y", 0, &got, NULL));
	CU_ASSERT_TRUE(fc_ncache_get(nc, 1, "z", 0, &got, NULL));
	/* w has another name: a name change may have changed its nlink */
	CU_ASSERT_FALSE(fc_ncache_get(nc, 1, "w", 0, &got, NULL));
	/* a listing older than the changes remembered stores nothing */
	fc_ncache_free(nc);
	CU_ASSERT_EQUAL_FATAL(fc_ncache_new(8, 1.0, &nc), 0);
	gen = fc_ncache_gen(nc);
	op.type = RFS_OP_COMMIT;
	for (i = 0; i < 10000; i++) {
		op.ino = 1000 + (uint64_t)i;
		fc_ncache_on_change(nc, &op);
	}
	CU_ASSERT_FALSE(fc_ncache_fill(nc, 1, d, 3, gen, 0));
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 0);
	CU_ASSERT_TRUE(fc_ncache_fill(nc, 1, d, 3, fc_ncache_gen(nc), 0));
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 3);
	fc_ncache_free(nc);
}

static void test_fc_ncache_is_bounded(void)
{
	struct fc_ncache *nc = NULL;
	struct rfs_dirent d;
	char name[16];
	uint64_t i;

	CU_ASSERT_EQUAL_FATAL(fc_ncache_new(100, 1.0, &nc), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "f%llu", (unsigned long long)i);
		d = dirent(name, 100 + i);
		fc_ncache_fill(nc, 1, &d, 1, fc_ncache_gen(nc), 10 * SEC);
	}
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 100);
	CU_ASSERT_FALSE(has(nc, 1, "f899")); /* the oldest went */
	CU_ASSERT_TRUE(has(nc, 1, "f900"));
	CU_ASSERT_TRUE(has(nc, 1, "f999"));
	/* a store under a stored name replaces it */
	d = dirent("f999", 5000);
	fc_ncache_fill(nc, 1, &d, 1, fc_ncache_gen(nc), 10 * SEC);
	CU_ASSERT_EQUAL(fc_ncache_count(nc), 100);
	CU_ASSERT_TRUE(fc_ncache_get(nc, 1, "f999", 10 * SEC, &d.attr, NULL));
	CU_ASSERT_EQUAL(d.attr.ino, 5000);
	fc_ncache_free(nc);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fc_ncache_fill_get_expire),
	    RFS_TEST(test_fc_ncache_entries_without_attrs_or_ttl),
	    RFS_TEST(test_fc_ncache_want_fill),
	    RFS_TEST(test_fc_ncache_reads_forget_nothing),
	    RFS_TEST(test_fc_ncache_changes_forget),
	    RFS_TEST(test_fc_ncache_change_during_listing),
	    RFS_TEST(test_fc_ncache_is_bounded),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fc_ncache",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
