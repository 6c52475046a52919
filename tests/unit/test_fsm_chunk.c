/*
 * Chunk and cluster rules of the metaserver state machine: leases,
 * commits, truncation, layouts, replica bookkeeping, inventories and
 * server registration.
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

/* A state with three servers and one empty file; returns the file's ino. */
static struct ms_fsm *chunk_setup(uint64_t *ino)
{
	struct ms_fsm *fsm = ft_new();
	struct rfs_attr f;

	ft_servers(fsm, 3);
	CU_ASSERT_EQUAL_FATAL(ft_create(fsm, RFS_ROOT_INO, "f", 0, &f), 0);
	*ino = f.ino;
	return fsm;
}

static void test_fsm_chunk_lease_new(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_lease l;
	struct rfs_chunk c;

	CU_ASSERT_EQUAL(ms_fsm_next_chunk_id(fsm), 1);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 3, 10, 2, &l), 0);
	CU_ASSERT_EQUAL(l.ino, ino);
	CU_ASSERT_EQUAL(l.index, 3);
	CU_ASSERT_EQUAL(l.chunk_id, 10);
	CU_ASSERT_EQUAL(l.version, 1);
	CU_ASSERT_EQUAL(l.prev_version, 0);
	CU_ASSERT_EQUAL(l.prev_length, 0);
	CU_ASSERT_EQUAL(l.chunk_size, FT_CHUNK);
	CU_ASSERT_EQUAL(l.n_replicas, 2);
	CU_ASSERT_STRING_EQUAL(l.replicas[0].id, "cs1");
	CU_ASSERT_STRING_EQUAL(l.replicas[0].addr, "127.0.0.1:9501");
	CU_ASSERT_STRING_EQUAL(l.replicas[1].addr, "127.0.0.1:9502");
	CU_ASSERT_EQUAL(ms_fsm_next_chunk_id(fsm), 11);
	/* leased but uncommitted: in the table, version 0, no replicas */
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 3, &c), 0);
	CU_ASSERT_EQUAL(c.chunk_id, 10);
	CU_ASSERT_EQUAL(c.version, 0);
	CU_ASSERT_EQUAL(c.n_replicas, 0);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_lease_stale_id_estale(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);

	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 5, 1, NULL), 0);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 1, 5, 1, NULL), -ESTALE);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 1, 4, 1, NULL), -ESTALE);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 1, 6, 1, NULL), 0);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_lease_existing_bumps_version(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_lease l;

	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 1, 2, &l), 0);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 1, 500, 2), 0);
	/* the candidate id of an existing chunk is ignored */
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 99, 3, &l), 0);
	CU_ASSERT_EQUAL(l.chunk_id, 1);
	CU_ASSERT_EQUAL(l.version, 2);
	CU_ASSERT_EQUAL(l.prev_version, 1);
	CU_ASSERT_EQUAL(l.prev_length, 500);
	CU_ASSERT_EQUAL(l.n_replicas, 3);
	CU_ASSERT_EQUAL(ms_fsm_next_chunk_id(fsm), 2);
	/* a second lease before any commit goes higher still */
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 99, 2, &l), 0);
	CU_ASSERT_EQUAL(l.version, 3);
	CU_ASSERT_EQUAL(l.prev_version, 1);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_lease_bad_replicas_einval(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct ms_fsm_result res;
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 1, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 1, 4, NULL), -EINVAL);
	ft_op(&op, RFS_OP_LEASE);
	op.ino = ino;
	op.chunk_id = 1;
	op.n_replicas = 2;
	/* the same server twice */
	snprintf(op.replicas[0].id, sizeof(op.replicas[0].id), "cs1");
	snprintf(op.replicas[1].id, sizeof(op.replicas[1].id), "cs1");
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), -EINVAL);
	CU_ASSERT_EQUAL(ms_fsm_next_chunk_id(fsm), 1);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_lease_target_types(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_attr l;

	CU_ASSERT_EQUAL(ft_symlink(fsm, RFS_ROOT_INO, "l", "f", &l), 0);
	CU_ASSERT_EQUAL(ft_lease(fsm, RFS_ROOT_INO, 0, 1, 1, NULL), -EISDIR);
	CU_ASSERT_EQUAL(ft_lease(fsm, 999, 0, 1, 1, NULL), -ENOENT);
	CU_ASSERT_EQUAL(ft_lease(fsm, l.ino, 0, 1, 1, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, UINT64_MAX / 2, 1, 1, NULL), -EFBIG);
	ms_fsm_free(fsm);
}

/* A create op asking for a lease on chunk 0 with the leader's fields. */
static void create_lease_op(struct rfs_op *op, const char *name, uint32_t flags,
			    uint64_t chunk_id, uint32_t n_replicas)
{
	ft_op(op, RFS_OP_CREATE);
	op->parent = RFS_ROOT_INO;
	ft_name(op->name, name);
	op->mode = S_IFREG | 0644;
	op->flags = flags | RFS_CREATE_LEASE;
	op->chunk_id = chunk_id;
	op->n_replicas = n_replicas;
	for (uint32_t i = 0; i < n_replicas; i++)
		snprintf(op->replicas[i].id, sizeof(op->replicas[i].id), "cs%u",
			 i + 1);
}

static void test_fsm_chunk_create_lease(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct ms_fsm_result res;
	struct rfs_chunk c;
	struct rfs_op op;

	create_lease_op(&op, "g", RFS_CREATE_EXCL, 7, 2);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_NOT_EQUAL(res.attr.ino, 0);
	CU_ASSERT_EQUAL(res.attr.size, 0);
	/* the same entry leased chunk 0 as a lease op would */
	CU_ASSERT_EQUAL(res.lease.ino, res.attr.ino);
	CU_ASSERT_EQUAL(res.lease.index, 0);
	CU_ASSERT_EQUAL(res.lease.chunk_id, 7);
	CU_ASSERT_EQUAL(res.lease.version, 1);
	CU_ASSERT_EQUAL(res.lease.prev_version, 0);
	CU_ASSERT_EQUAL(res.lease.chunk_size, FT_CHUNK);
	CU_ASSERT_EQUAL(res.lease.n_replicas, 2);
	CU_ASSERT_STRING_EQUAL(res.lease.replicas[1].addr, "127.0.0.1:9502");
	CU_ASSERT_EQUAL(ms_fsm_next_chunk_id(fsm), 8);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, res.attr.ino, 0, &c), 0);
	CU_ASSERT_EQUAL(c.version, 0);
	/* committing it needs no other lease */
	CU_ASSERT_EQUAL(ft_commit(fsm, res.attr.ino, 0, 7, 1, 4096, 2), 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, res.attr.ino, 0, &c), 0);
	CU_ASSERT_EQUAL(c.version, 1);
	CU_ASSERT_EQUAL(c.length, 4096);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_create_lease_left_out(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct ms_fsm_result res;
	struct rfs_chunk c;
	struct rfs_op op;

	/* an existing file (no O_EXCL) is opened, nothing leased */
	create_lease_op(&op, "f", 0, 7, 2);
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(res.attr.ino, ino);
	CU_ASSERT_EQUAL(res.lease.n_replicas, 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 0, &c), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_next_chunk_id(fsm), 1);
	/* fields a lease would refuse: the file is made without one */
	create_lease_op(&op, "h", 0, 7, 0);
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_NOT_EQUAL(res.attr.ino, 0);
	CU_ASSERT_EQUAL(res.lease.n_replicas, 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, res.attr.ino, 0, &c), -ENOENT);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 9, 1, NULL), 0);
	create_lease_op(&op, "i", 0, 5, 2); /* id below the next one */
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(res.lease.n_replicas, 0);
	/* unknown flags are refused */
	create_lease_op(&op, "j", 1u << 7, 11, 2);
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), -EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_create_lease_unused_dropped(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_inv_entry e[] = {{3, 1, 4096}};
	struct rfs_inventory inv = {.entries = e, .n = 1};
	struct rfs_inventory del;
	struct ms_fsm_result res;
	struct rfs_layout l;
	struct rfs_op *add;
	struct rfs_chunk c;
	struct rfs_op op;
	size_t n_add;

	snprintf(inv.server_id, sizeof(inv.server_id), "cs1");
	create_lease_op(&op, "g", RFS_CREATE_EXCL, 3, 2);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_apply(fsm, &op, &res), 0);
	/* never committed: no data in the layout, size 0 */
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, res.attr.ino, 0, 0, &l), 0);
	CU_ASSERT_EQUAL(l.n_chunks, 0);
	CU_ASSERT_EQUAL(l.size, 0);
	rfs_proto_layout_release(&l);
	/* a replica written under the lease, not committed yet: kept */
	CU_ASSERT_EQUAL_FATAL(
	    ms_fsm_inventory_check(fsm, &inv, &del, &add, &n_add), 0);
	CU_ASSERT_EQUAL(del.n, 0);
	CU_ASSERT_EQUAL(n_add, 0);
	free(add);
	rfs_proto_inventory_release(&del);
	/* a truncate that cuts it drops the pending chunk: the replica
	 * goes (the mount forgets its lease on every truncate) */
	CU_ASSERT_EQUAL(ft_truncate(fsm, res.attr.ino, 2 * FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, res.attr.ino, 0, &c), 0);
	CU_ASSERT_EQUAL(ft_truncate(fsm, res.attr.ino, 0), 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, res.attr.ino, 0, &c), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(
	    ms_fsm_inventory_check(fsm, &inv, &del, &add, &n_add), 0);
	CU_ASSERT_EQUAL(del.n, 1);
	free(add);
	rfs_proto_inventory_release(&del);
	/* and so does an unlink of a file holding one */
	create_lease_op(&op, "h", RFS_CREATE_EXCL, 4, 2);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(res.lease.chunk_id, 4);
	CU_ASSERT_EQUAL(ft_unlink(fsm, RFS_ROOT_INO, "h"), 0);
	e[0].chunk_id = 4;
	CU_ASSERT_EQUAL_FATAL(
	    ms_fsm_inventory_check(fsm, &inv, &del, &add, &n_add), 0);
	CU_ASSERT_EQUAL(del.n, 1);
	free(add);
	rfs_proto_inventory_release(&del);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_commit_sets_size(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct ms_fsm_result res;
	struct rfs_attr a;
	struct rfs_op op;
	uint64_t chunks;
	uint64_t bytes;

	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 2, 1, 2, NULL), 0);
	ft_op(&op, RFS_OP_COMMIT);
	op.ino = ino;
	op.index = 2;
	op.chunk_id = 1;
	op.version = 1;
	op.length = 100;
	op.n_replicas = 1;
	snprintf(op.replicas[0].id, sizeof(op.replicas[0].id), "cs2");
	op.now_ns = 31337;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(res.attr.size, 2 * FT_CHUNK + 100);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.size, 2 * FT_CHUNK + 100);
	CU_ASSERT_EQUAL(a.mtime_ns, 31337);
	CU_ASSERT_EQUAL(a.ctime_ns, 31337);
	/* an earlier chunk never shrinks the size */
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 0, 10), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.size, 2 * FT_CHUNK + 100);
	ms_fsm_counts(fsm, NULL, &chunks, &bytes);
	CU_ASSERT_EQUAL(chunks, 2);
	CU_ASSERT_EQUAL(bytes, 110);
	ms_fsm_free(fsm);
}

/* A commit that carries a setattr applies it after the commit's own
 * mtime, in the same op; a refused one (size bit, unknown bits) changes
 * nothing. */
static void test_fsm_chunk_commit_with_setattr(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct ms_fsm_result res;
	struct rfs_attr a;
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 1, 2, NULL), 0);
	ft_op(&op, RFS_OP_COMMIT);
	op.ino = ino;
	op.chunk_id = 1;
	op.version = 1;
	op.length = 100;
	op.n_replicas = 1;
	snprintf(op.replicas[0].id, sizeof(op.replicas[0].id), "cs2");
	op.now_ns = 5000;
	op.valid = RFS_SETATTR_SIZE | RFS_SETATTR_MODE;
	op.size = 7;
	op.mode = 0640;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), -EINVAL);
	op.valid = 1u << 20;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), -EINVAL);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.size, 0);
	CU_ASSERT_NOT_EQUAL(a.mode & 07777, 0640);
	op.valid = RFS_SETATTR_MODE | RFS_SETATTR_UID | RFS_SETATTR_GID |
		   RFS_SETATTR_MTIME | RFS_SETATTR_ATIME_NOW;
	op.uid = 1234;
	op.gid = 5678;
	op.mtime_ns = 42;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, &res), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.size, 100);
	CU_ASSERT_EQUAL(a.mode, S_IFREG | 0640);
	CU_ASSERT_EQUAL(a.uid, 1234);
	CU_ASSERT_EQUAL(a.gid, 5678);
	CU_ASSERT_EQUAL(a.mtime_ns, 42); /* the setattr's, not the commit's */
	CU_ASSERT_EQUAL(a.atime_ns, 5000);
	CU_ASSERT_EQUAL(a.ctime_ns, 5000);
	CU_ASSERT_EQUAL(res.attr.mtime_ns, 42);
	CU_ASSERT_EQUAL(res.attr.uid, 1234);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_commit_rules(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);

	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 1, 2, NULL), 0);
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 0, 1, 2, NULL), 0); /* pending 2 */
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 7, 1, 10, 2), -ESTALE);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 1, 1, 1, 10, 2), -ESTALE);
	CU_ASSERT_EQUAL(ft_commit(fsm, 999, 0, 1, 1, 10, 2), -ESTALE);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 3, 10, 2), -EINVAL);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 0, 10, 2), -EINVAL);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 1, FT_CHUNK + 1, 2), -EINVAL);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 1, 10, 0), -EINVAL);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 2, 20, 2), 0);
	/* the older lease's commit arrives late: stale */
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 1, 10, 2), -ESTALE);
	/* a retried commit of the same version is accepted */
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 2, 20, 2), 0);
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 2, FT_CHUNK, 1), 0);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_layout(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_layout l;

	CU_ASSERT_EQUAL(ft_write(fsm, ino, 0, FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 2, FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 5, 7), 0);
	CU_ASSERT_EQUAL(
	    ft_lease(fsm, ino, 3, ms_fsm_next_chunk_id(fsm), 2, NULL),
	    0); /* uncommitted: never in a layout */
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, ino, 0, 0, &l), 0);
	CU_ASSERT_EQUAL(l.ino, ino);
	CU_ASSERT_EQUAL(l.size, 5 * FT_CHUNK + 7);
	CU_ASSERT_EQUAL(l.chunk_size, FT_CHUNK);
	CU_ASSERT_EQUAL(l.goal, FT_GOAL);
	CU_ASSERT_EQUAL(l.n_chunks, 3);
	CU_ASSERT_EQUAL(l.chunks[0].index, 0);
	CU_ASSERT_EQUAL(l.chunks[1].index, 2);
	CU_ASSERT_EQUAL(l.chunks[2].index, 5);
	CU_ASSERT_EQUAL(l.chunks[2].length, 7);
	CU_ASSERT_EQUAL(l.chunks[2].version, 1);
	CU_ASSERT_EQUAL(l.chunks[2].n_replicas, 2);
	CU_ASSERT_STRING_EQUAL(l.chunks[2].replicas[1].addr, "127.0.0.1:9502");
	CU_ASSERT(!l.chunks[2].replicas[0].up);
	rfs_proto_layout_release(&l);
	/* [chunk 1 .. last byte of chunk 2] */
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, ino, FT_CHUNK, 2 * FT_CHUNK, &l), 0);
	CU_ASSERT_EQUAL(l.n_chunks, 1);
	CU_ASSERT_EQUAL(l.chunks[0].index, 2);
	rfs_proto_layout_release(&l);
	/* one byte before chunk 2 starts: only chunk 0 region, chunk 1 hole */
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, ino, FT_CHUNK - 1, FT_CHUNK, &l), 0);
	CU_ASSERT_EQUAL(l.n_chunks, 1);
	CU_ASSERT_EQUAL(l.chunks[0].index, 0);
	rfs_proto_layout_release(&l);
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, ino, 3 * FT_CHUNK, 10, &l), 0);
	CU_ASSERT_EQUAL(l.n_chunks, 0);
	rfs_proto_layout_release(&l);
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, RFS_ROOT_INO, 0, 0, &l), -EISDIR);
	CU_ASSERT_EQUAL(ms_fsm_layout(fsm, 999, 0, 0, &l), -ENOENT);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_truncate(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_chunk c;
	struct rfs_attr a;
	uint64_t bytes;

	CU_ASSERT_EQUAL(ft_write(fsm, ino, 0, FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 1, FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 2, 100), 0);
	CU_ASSERT_EQUAL(ft_truncate(fsm, ino, FT_CHUNK + 10), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.size, FT_CHUNK + 10);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 2, &c), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 1, &c), 0);
	CU_ASSERT_EQUAL(c.length, 10);
	ms_fsm_counts(fsm, NULL, NULL, &bytes);
	CU_ASSERT_EQUAL(bytes, FT_CHUNK + 10);
	/* exactly at a chunk boundary: the chunk starting there goes */
	CU_ASSERT_EQUAL(ft_truncate(fsm, ino, FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 1, &c), -ENOENT);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 0, &c), 0);
	CU_ASSERT_EQUAL(c.length, FT_CHUNK);
	/* growing only sets the size */
	CU_ASSERT_EQUAL(ft_truncate(fsm, ino, 10 * FT_CHUNK), 0);
	CU_ASSERT_EQUAL(ms_fsm_getattr(fsm, ino, &a), 0);
	CU_ASSERT_EQUAL(a.size, 10 * FT_CHUNK);
	CU_ASSERT_EQUAL(a.mtime_ns, FT_NOW);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 0, &c), 0);
	CU_ASSERT_EQUAL(c.length, FT_CHUNK);
	CU_ASSERT_EQUAL(ft_truncate(fsm, ino, 0), 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 0, &c), -ENOENT);
	/* a commit for a chunk truncated away is stale */
	CU_ASSERT_EQUAL(ft_commit(fsm, ino, 0, 1, 1, 10, 2), -ESTALE);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_add_replicas(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_chunk c;
	struct rfs_op op;

	CU_ASSERT_EQUAL(ft_write(fsm, ino, 0, 10), 0); /* on cs1, cs2 */
	ft_op(&op, RFS_OP_ADD_REPLICAS);
	op.chunk_id = 1;
	op.version = 1;
	op.n_replicas = 1;
	snprintf(op.replicas[0].id, sizeof(op.replicas[0].id), "cs3");
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), 0);
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), 0); /* idempotent */
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 0, &c), 0);
	CU_ASSERT_EQUAL(c.n_replicas, 3);
	CU_ASSERT_STRING_EQUAL(c.replicas[2].id, "cs3");
	op.version = 2;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -ESTALE);
	op.version = 1;
	op.chunk_id = 77;
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -ENOENT);
	op.chunk_id = 1;
	snprintf(op.replicas[0].id, sizeof(op.replicas[0].id), "nobody");
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &op, NULL), -EINVAL);
	ms_fsm_free(fsm);
}

static void test_fsm_chunk_register_ring_epoch(void)
{
	struct ms_fsm *fsm = ft_new();
	const struct rfs_server *s;

	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 0);
	CU_ASSERT_EQUAL(ft_register(fsm, "b", "h:1", "z", 1), 0);
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 1);
	CU_ASSERT_EQUAL(ft_register(fsm, "a", "h:2", "z", 1), 0);
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 2);
	CU_ASSERT_EQUAL(ft_register(fsm, "a", "h:2", "z", 1), 0);
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 2);
	CU_ASSERT_EQUAL(ft_register(fsm, "a", "h:2", "z", 3), 0);
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 3);
	CU_ASSERT_EQUAL(ft_register(fsm, "a", "h:3", "z", 3), 0);
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 4);
	CU_ASSERT_EQUAL(ft_register(fsm, "a", "h:3", "y", 3), 0);
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 5);
	CU_ASSERT_EQUAL(ms_fsm_server_count(fsm), 2);
	CU_ASSERT_STRING_EQUAL(ms_fsm_server(fsm, 0)->id, "b");
	CU_ASSERT_PTR_NULL(ms_fsm_server(fsm, 2));
	s = ms_fsm_server_find(fsm, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->addr, "h:3");
	CU_ASSERT_STRING_EQUAL(s->zone, "y");
	CU_ASSERT_EQUAL(s->weight, 3);
	CU_ASSERT_EQUAL(s->capacity, 1ULL << 40);
	CU_ASSERT_PTR_NULL(ms_fsm_server_find(fsm, "c"));
	CU_ASSERT_EQUAL(ft_register(fsm, "bad id", "h:1", "z", 1), -EINVAL);
	CU_ASSERT_EQUAL(ft_register(fsm, "c", "h:1", "z", 0), -EINVAL);
	CU_ASSERT_EQUAL(ft_register(fsm, "c", "", "z", 1), -EINVAL);
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(fsm), 5);
	ms_fsm_free(fsm);
}

/* The entry for chunk id in a to_delete list, or NULL. */
static const struct rfs_inv_entry *inv_find(const struct rfs_inventory *inv,
					    uint64_t id)
{
	size_t i;

	for (i = 0; i < inv->n; i++)
		if (inv->entries[i].chunk_id == id)
			return &inv->entries[i];
	return NULL;
}

static void test_fsm_chunk_inventory_check(void)
{
	uint64_t ino;
	struct ms_fsm *fsm = chunk_setup(&ino);
	struct rfs_inv_entry e[] = {
	    {1, 1, 10},	 /* committed v1, cs3 not listed: add */
	    {2, 1, 10},	 /* chunk 2 at v2 now: older, delete */
	    {3, 1, 0},	 /* leased, never committed: in flight, keep */
	    {2, 3, 10},	 /* newer than committed: in flight, keep */
	    {4, 1, 10},	 /* id issued, chunk gone (truncated): delete */
	    {100, 1, 1}, /* never issued: keep */
	};
	struct rfs_inventory inv = {.entries = e, .n = 6};
	struct rfs_inventory del;
	struct rfs_op *add;
	struct rfs_chunk c;
	size_t n_add;

	CU_ASSERT_EQUAL(ft_write(fsm, ino, 0, 10), 0); /* id 1 */
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 1, 10), 0); /* id 2 */
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 1, 10), 0); /* id 2 v2 */
	CU_ASSERT_EQUAL(ft_lease(fsm, ino, 2, 3, 2, NULL), 0);
	CU_ASSERT_EQUAL(ft_write(fsm, ino, 5, 10), 0); /* id 4 */
	CU_ASSERT_EQUAL(ft_truncate(fsm, ino, 3 * FT_CHUNK), 0);
	snprintf(inv.server_id, sizeof(inv.server_id), "cs3");
	CU_ASSERT_EQUAL_FATAL(
	    ms_fsm_inventory_check(fsm, &inv, &del, &add, &n_add), 0);
	CU_ASSERT_STRING_EQUAL(del.server_id, "cs3");
	CU_ASSERT_EQUAL(del.n, 2);
	CU_ASSERT_PTR_NOT_NULL(inv_find(&del, 2));
	CU_ASSERT_EQUAL(inv_find(&del, 2) ? inv_find(&del, 2)->version : 0, 1);
	CU_ASSERT_PTR_NOT_NULL(inv_find(&del, 4));
	CU_ASSERT_EQUAL_FATAL(n_add, 1);
	CU_ASSERT_EQUAL(add[0].type, RFS_OP_ADD_REPLICAS);
	CU_ASSERT_EQUAL(add[0].chunk_id, 1);
	CU_ASSERT_EQUAL(add[0].version, 1);
	CU_ASSERT_STRING_EQUAL(add[0].replicas[0].id, "cs3");
	CU_ASSERT_EQUAL(ms_fsm_apply(fsm, &add[0], NULL), 0);
	CU_ASSERT_EQUAL(ms_fsm_chunk_at(fsm, ino, 0, &c), 0);
	CU_ASSERT_EQUAL(c.n_replicas, 3);
	free(add);
	rfs_proto_inventory_release(&del);
	/* once listed, nothing more to add */
	CU_ASSERT_EQUAL(ms_fsm_inventory_check(fsm, &inv, &del, &add, &n_add),
			0);
	CU_ASSERT_EQUAL(n_add, 0);
	free(add);
	rfs_proto_inventory_release(&del);
	snprintf(inv.server_id, sizeof(inv.server_id), "cs9");
	CU_ASSERT_EQUAL(ms_fsm_inventory_check(fsm, &inv, &del, &add, &n_add),
			-ENOENT);
	ms_fsm_free(fsm);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fsm_chunk_lease_new),
	    RFS_TEST(test_fsm_chunk_lease_stale_id_estale),
	    RFS_TEST(test_fsm_chunk_lease_existing_bumps_version),
	    RFS_TEST(test_fsm_chunk_lease_bad_replicas_einval),
	    RFS_TEST(test_fsm_chunk_lease_target_types),
	    RFS_TEST(test_fsm_chunk_create_lease),
	    RFS_TEST(test_fsm_chunk_create_lease_left_out),
	    RFS_TEST(test_fsm_chunk_create_lease_unused_dropped),
	    RFS_TEST(test_fsm_chunk_commit_sets_size),
	    RFS_TEST(test_fsm_chunk_commit_with_setattr),
	    RFS_TEST(test_fsm_chunk_commit_rules),
	    RFS_TEST(test_fsm_chunk_layout),
	    RFS_TEST(test_fsm_chunk_truncate),
	    RFS_TEST(test_fsm_chunk_add_replicas),
	    RFS_TEST(test_fsm_chunk_register_ring_epoch),
	    RFS_TEST(test_fsm_chunk_inventory_check),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fsm_chunk",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
