/*
 * Apply/replay and snapshots of the metaserver state machine: a seeded
 * random stream of operations gives byte-identical snapshots when replayed
 * into a fresh state; restore followed by snapshot is the identity; every
 * truncated or corrupted image is refused (-EBADMSG) without crashing,
 * even when its CRC is recomputed so the parser itself is exercised.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "common/crc32c.h"
#include "tests/unit/fsm_test_util.h"
#include "tests/unit/runner.h"

#define GEN_POOL       256  /* inodes / leases remembered by the generator */
#define GEN_NAMES      12   /* few names, so collisions are frequent */
#define GEN_SERVERS    5    /* distinct server ids ever registered */
#define REPLAY_OPS     5000 /* the apply/replay size */
#define FUZZ_OPS       200  /* a smaller state for per-byte corruption */
#define AFTER_FUZZ_OPS 20   /* ops applied to an accepted corrupt image */

struct gen {
	uint64_t rng;
	uint64_t dirs[GEN_POOL];
	uint64_t files[GEN_POOL];
	struct rfs_lease leases[GEN_POOL];
	size_t n_dirs;
	size_t n_files;
	size_t n_leases;
};

static uint64_t gen_next(struct gen *g)
{
	/* xorshift64*: deterministic for a seed, good enough spread */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t gen_below(struct gen *g, uint64_t n)
{
	return n ? gen_next(g) % n : 0;
}

static void gen_init(struct gen *g, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->rng = seed | 1;
}

static void gen_remember(uint64_t *pool, size_t *n, struct gen *g, uint64_t ino)
{
	if (*n < GEN_POOL)
		pool[(*n)++] = ino;
	else
		pool[gen_below(g, GEN_POOL)] = ino;
}

static uint64_t gen_dir(struct gen *g)
{
	if (g->n_dirs == 0 || gen_below(g, 4) == 0)
		return RFS_ROOT_INO;
	return g->dirs[gen_below(g, g->n_dirs)];
}

static uint64_t gen_file(struct gen *g)
{
	if (g->n_files == 0)
		return RFS_ROOT_INO + 1;
	return g->files[gen_below(g, g->n_files)];
}

static void gen_name(struct gen *g, char *dst)
{
	snprintf(dst, RFS_NAME_MAX + 1, "n%u",
		 (unsigned int)gen_below(g, GEN_NAMES));
}

static void gen_data(struct gen *g, struct rfs_op *op, size_t max)
{
	size_t i;

	op->data_len = 1 + gen_below(g, max);
	op->data = malloc(op->data_len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(op->data);
	for (i = 0; i < op->data_len; i++)
		op->data[i] = (char)('a' + gen_below(g, 26));
	op->data[op->data_len] = '\0';
}

/* 1..3 distinct registered servers, read from the leader's state. */
static void gen_replicas(struct gen *g, const struct ms_fsm *fsm,
			 struct rfs_op *op)
{
	size_t n = ms_fsm_server_count(fsm);
	size_t first = gen_below(g, n);
	uint32_t i;

	op->n_replicas = (uint32_t)(1 + gen_below(g, n < 3 ? n : 3));
	for (i = 0; i < op->n_replicas; i++)
		snprintf(op->replicas[i].id, sizeof(op->replicas[i].id), "%s",
			 ms_fsm_server(fsm, (first + i) % n)->id);
}

static void gen_register(struct gen *g, struct rfs_op *op)
{
	unsigned int k = (unsigned int)gen_below(g, GEN_SERVERS);

	op->type = RFS_OP_REGISTER;
	snprintf(op->server.id, sizeof(op->server.id), "cs%u", k);
	snprintf(op->server.addr, sizeof(op->server.addr), "127.0.0.1:%u",
		 9500 + k + 100 * (unsigned int)gen_below(g, 2));
	snprintf(op->server.zone, sizeof(op->server.zone), "z%u",
		 (unsigned int)gen_below(g, 3));
	op->server.weight = 1 + (uint32_t)gen_below(g, 3);
	op->server.capacity = gen_next(g) >> 20;
}

static void gen_lease(struct gen *g, const struct ms_fsm *fsm,
		      struct rfs_op *op)
{
	op->type = RFS_OP_LEASE;
	op->ino = gen_file(g);
	op->index = gen_below(g, 6);
	/* usually the next id, sometimes one ahead, rarely a stale one */
	op->chunk_id = ms_fsm_next_chunk_id(fsm) + gen_below(g, 3);
	if (gen_below(g, 20) == 0)
		op->chunk_id -= 2;
	gen_replicas(g, fsm, op);
}

static void gen_commit(struct gen *g, struct rfs_op *op)
{
	const struct rfs_lease *l = &g->leases[gen_below(g, g->n_leases)];
	uint32_t i;

	op->type = RFS_OP_COMMIT;
	op->ino = l->ino;
	op->index = l->index;
	op->chunk_id = l->chunk_id;
	op->version = l->version - (uint32_t)gen_below(g, 2);
	op->length = gen_below(g, FT_CHUNK + 1);
	op->n_replicas = 1 + (uint32_t)gen_below(g, l->n_replicas);
	for (i = 0; i < op->n_replicas; i++)
		op->replicas[i] = l->replicas[i];
}

static void gen_setattr(struct gen *g, struct rfs_op *op)
{
	op->type = RFS_OP_SETATTR;
	op->ino = gen_below(g, 3) ? gen_file(g) : gen_dir(g);
	op->valid = (uint32_t)gen_below(g, 256);
	if (gen_below(g, 2))
		op->valid &= ~(uint32_t)RFS_SETATTR_SIZE;
	op->mode = (uint32_t)gen_below(g, 010000);
	op->uid = (uint32_t)gen_below(g, 5);
	op->gid = (uint32_t)gen_below(g, 5);
	op->size = gen_below(g, 5 * FT_CHUNK);
	op->atime_ns = (int64_t)gen_below(g, 1000000);
	op->mtime_ns = (int64_t)gen_below(g, 1000000);
}

static void gen_entry_op(struct gen *g, uint32_t type, struct rfs_op *op)
{
	op->type = type;
	op->parent = gen_dir(g);
	gen_name(g, op->name);
	op->mode = (uint32_t)gen_below(g, 01000);
	if (type == RFS_OP_CREATE)
		op->flags = gen_below(g, 4) == 0 ? RFS_CREATE_EXCL : 0;
	if (type == RFS_OP_SYMLINK)
		gen_data(g, op, 40);
}

static void gen_rename(struct gen *g, struct rfs_op *op)
{
	static const uint32_t flags[] = {0, 0, 0, RFS_RENAME_NOREPLACE,
					 RFS_RENAME_EXCHANGE};

	op->type = RFS_OP_RENAME;
	op->parent = gen_dir(g);
	gen_name(g, op->name);
	op->newparent = gen_dir(g);
	gen_name(g, op->newname);
	op->flags = flags[gen_below(g, 5)];
}

static void gen_xattr(struct gen *g, struct rfs_op *op)
{
	op->type = gen_below(g, 4) ? RFS_OP_SETXATTR : RFS_OP_REMOVEXATTR;
	op->ino = gen_below(g, 2) ? gen_file(g) : gen_dir(g);
	snprintf(op->name, sizeof(op->name), "user.x%u",
		 (unsigned int)gen_below(g, 4));
	if (op->type == RFS_OP_SETXATTR) {
		gen_data(g, op, 100);
		op->flags = (uint32_t)gen_below(g, 3);
	}
}

static void gen_link(struct gen *g, struct rfs_op *op)
{
	op->type = RFS_OP_LINK;
	op->ino = gen_file(g);
	op->newparent = gen_dir(g);
	gen_name(g, op->newname);
}

/* Unlinked open files: release one orphan (its own session or another),
 * or drop every orphan of a session. */
static void gen_orphan_op(struct gen *g, const struct ms_fsm *fsm,
			  struct rfs_op *op)
{
	uint64_t ino;
	uint64_t session;
	size_t n = ms_fsm_orphan_count(fsm);

	op->session = gen_below(g, 3) + 1;
	if (n && gen_below(g, 3) &&
	    ms_fsm_orphan_at(fsm, gen_below(g, n), &ino, &session) == 0) {
		op->type = RFS_OP_RELEASE_ORPHAN;
		op->ino = ino;
		if (gen_below(g, 4))
			op->session = session;
		return;
	}
	op->type = RFS_OP_DROP_ORPHANS;
}

/* One random op as a leader would propose it after the ops so far. */
static void gen_op(struct gen *g, const struct ms_fsm *fsm, int64_t now,
		   struct rfs_op *op)
{
	uint64_t k = gen_below(g, 100);

	ft_op(op, RFS_OP_NONE);
	op->now_ns = now;
	if (ms_fsm_server_count(fsm) < 2 || k < 2)
		gen_register(g, op);
	else if (k < 20)
		gen_entry_op(g, RFS_OP_CREATE, op);
	else if (k < 30)
		gen_entry_op(g, RFS_OP_MKDIR, op);
	else if (k < 34)
		gen_entry_op(g, RFS_OP_SYMLINK, op);
	else if (k < 42)
		gen_entry_op(g, RFS_OP_UNLINK, op);
	else if (k < 47)
		gen_entry_op(g, RFS_OP_RMDIR, op);
	else if (k < 56)
		gen_rename(g, op);
	else if (k < 60)
		gen_link(g, op);
	else if (k < 67)
		gen_setattr(g, op);
	else if (k < 74)
		gen_xattr(g, op);
	else if (k < 77)
		gen_orphan_op(g, fsm, op);
	else if (k < 87 || g->n_leases == 0)
		gen_lease(g, fsm, op);
	else
		gen_commit(g, op);
	/* orphans: unlink and rename with a session (0 = none) */
	if (op->type == RFS_OP_UNLINK || op->type == RFS_OP_RENAME)
		op->session = gen_below(g, 3);
}

/* Learns inode numbers and leases from what an op returned. */
static void gen_note(struct gen *g, const struct rfs_op *op, int rc,
		     const struct ms_fsm_result *res)
{
	if (rc < 0)
		return;
	if (op->type == RFS_OP_MKDIR)
		gen_remember(g->dirs, &g->n_dirs, g, res->attr.ino);
	else if (op->type == RFS_OP_CREATE || op->type == RFS_OP_LINK)
		gen_remember(g->files, &g->n_files, g, res->attr.ino);
	if (op->type != RFS_OP_LEASE)
		return;
	if (g->n_leases < GEN_POOL)
		g->leases[g->n_leases++] = res->lease;
	else
		g->leases[gen_below(g, GEN_POOL)] = res->lease;
}

struct oplog {
	struct rfs_op *ops;
	int *rcs;
	size_t n;
	size_t ok;
};

/* Generates and applies n ops to fsm, recording them when log != NULL. */
static void run_random(struct gen *g, struct ms_fsm *fsm, size_t n,
		       struct oplog *log, struct ms_fsm *mirror)
{
	struct ms_fsm_result res;
	struct rfs_op op;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		gen_op(g, fsm, 1000000 + (int64_t)i * 1000, &op);
		rc = ms_fsm_apply(fsm, &op, &res);
		gen_note(g, &op, rc, &res);
		if (mirror)
			CU_ASSERT_EQUAL(ms_fsm_apply(mirror, &op, NULL), rc);
		if (log) {
			log->ops[log->n] = op;
			log->rcs[log->n++] = rc;
			log->ok += rc == 0;
		} else {
			free(op.data);
		}
	}
}

static void oplog_free(struct oplog *log)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		free(log->ops[i].data);
	free(log->ops);
	free(log->rcs);
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

static void test_fsm_snapshot_replay_identical(void)
{
	struct oplog log = {0};
	struct ms_fsm *a = ft_new();
	struct ms_fsm *b = ft_new();
	uint64_t inodes;
	uint64_t chunks;
	struct gen g;
	size_t i;

	log.ops = calloc(REPLAY_OPS, sizeof(*log.ops));
	log.rcs = calloc(REPLAY_OPS, sizeof(*log.rcs));
	CU_ASSERT_FATAL(log.ops && log.rcs);
	gen_init(&g, 0x5eed);
	run_random(&g, a, REPLAY_OPS, &log, NULL);
	for (i = 0; i < log.n; i++)
		CU_ASSERT_EQUAL(ms_fsm_apply(b, &log.ops[i], NULL), log.rcs[i]);
	CU_ASSERT(snaps_equal(a, b));
	/* the stream must exercise the state, not just fail */
	ms_fsm_counts(a, &inodes, &chunks, NULL);
	CU_ASSERT(log.ok > REPLAY_OPS / 3);
	CU_ASSERT(inodes > 20);
	CU_ASSERT(chunks > 10);
	CU_ASSERT(ms_fsm_orphan_count(a) > 0);
	oplog_free(&log);
	ms_fsm_free(a);
	ms_fsm_free(b);
}

static void test_fsm_snapshot_restore_roundtrip(void)
{
	struct ms_fsm *a = ft_new();
	struct ms_fsm *c;
	uint64_t ca[3];
	uint64_t cc[3];
	struct gen g;
	void *buf;
	size_t len;

	gen_init(&g, 42);
	run_random(&g, a, REPLAY_OPS, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_snapshot(a, &buf, &len), 0);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_restore(buf, len, &c), 0);
	free(buf);
	CU_ASSERT(snaps_equal(a, c));
	ms_fsm_counts(a, &ca[0], &ca[1], &ca[2]);
	ms_fsm_counts(c, &cc[0], &cc[1], &cc[2]);
	CU_ASSERT_EQUAL(memcmp(ca, cc, sizeof(ca)), 0);
	CU_ASSERT_EQUAL(ms_fsm_next_chunk_id(a), ms_fsm_next_chunk_id(c));
	CU_ASSERT_EQUAL(ms_fsm_ring_epoch(a), ms_fsm_ring_epoch(c));
	/* the restored state keeps evolving exactly like the original */
	run_random(&g, a, 1000, NULL, c);
	CU_ASSERT(snaps_equal(a, c));
	ms_fsm_free(a);
	ms_fsm_free(c);
}

static void readdir_all(const struct ms_fsm *fsm, uint64_t ino,
			struct rfs_readdir_reply *out)
{
	CU_ASSERT_EQUAL_FATAL(ms_fsm_readdir(fsm, ino, 0, RFS_READDIR_MAX, out),
			      0);
}

static void test_fsm_snapshot_queries_after_restore(void)
{
	struct ms_fsm *a = ft_new();
	struct rfs_readdir_reply ra;
	struct rfs_readdir_reply rc;
	struct rfs_attr d;
	struct ms_fsm *c;
	struct rfs_layout la;
	struct rfs_layout lc;
	struct rfs_attr f;
	void *buf;
	size_t len;

	ft_servers(a, 2);
	CU_ASSERT_EQUAL(ft_mkdir(a, RFS_ROOT_INO, "d", &d), 0);
	CU_ASSERT_EQUAL(ft_create(a, d.ino, "f", 0, &f), 0);
	CU_ASSERT_EQUAL(ft_create(a, d.ino, "g", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_unlink(a, d.ino, "g"), 0);
	CU_ASSERT_EQUAL(ft_symlink(a, d.ino, "l", "f", NULL), 0);
	CU_ASSERT_EQUAL(ft_setxattr(a, f.ino, "user.k", "v", 1, 0), 0);
	CU_ASSERT_EQUAL(ft_write(a, f.ino, 1, 99), 0);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_snapshot(a, &buf, &len), 0);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_restore(buf, len, &c), 0);
	free(buf);
	readdir_all(a, d.ino, &ra);
	readdir_all(c, d.ino, &rc);
	CU_ASSERT_EQUAL_FATAL(ra.n, rc.n);
	CU_ASSERT_EQUAL(ra.n, 4);
	CU_ASSERT_EQUAL(
	    memcmp(ra.entries, rc.entries, ra.n * sizeof(*ra.entries)), 0);
	rfs_proto_readdir_release(&ra);
	rfs_proto_readdir_release(&rc);
	CU_ASSERT_EQUAL(ms_fsm_layout(a, f.ino, 0, 0, &la), 0);
	CU_ASSERT_EQUAL(ms_fsm_layout(c, f.ino, 0, 0, &lc), 0);
	CU_ASSERT_EQUAL_FATAL(lc.n_chunks, 1);
	CU_ASSERT_EQUAL(memcmp(la.chunks, lc.chunks, sizeof(*la.chunks)), 0);
	rfs_proto_layout_release(&la);
	rfs_proto_layout_release(&lc);
	/* new entries get fresh cookies after restored ones */
	CU_ASSERT_EQUAL(ft_create(c, d.ino, "h", 0, NULL), 0);
	CU_ASSERT_EQUAL(ft_create(a, d.ino, "h", 0, NULL), 0);
	CU_ASSERT(snaps_equal(a, c));
	ms_fsm_free(a);
	ms_fsm_free(c);
}

/* A snapshot of a small random state (servers, dirs, files, chunks). */
static void fuzz_image(void **buf, size_t *len)
{
	struct ms_fsm *a = ft_new();
	struct gen g;

	gen_init(&g, 7);
	run_random(&g, a, FUZZ_OPS, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(ms_fsm_snapshot(a, buf, len), 0);
	ms_fsm_free(a);
}

/* Rewrites the CRC32C trailer so the corruption reaches the parser. */
static void fix_crc(uint8_t *p, size_t len)
{
	uint32_t crc;

	if (len < 4)
		return;
	crc = rfs_crc32c(0, p, len - 4);
	p[len - 4] = (uint8_t)crc;
	p[len - 3] = (uint8_t)(crc >> 8);
	p[len - 2] = (uint8_t)(crc >> 16);
	p[len - 1] = (uint8_t)(crc >> 24);
}

static void test_fsm_snapshot_truncations_rejected(void)
{
	struct ms_fsm *c;
	uint8_t *copy;
	void *buf;
	size_t len;
	size_t n;
	int bad = 0;

	fuzz_image(&buf, &len);
	copy = malloc(len);
	CU_ASSERT_FATAL(copy != NULL);
	for (n = 0; n < len; n++) {
		/* plain truncation, then with a valid CRC over what is left */
		if (ms_fsm_restore(buf, n, &c) != -EBADMSG || c)
			bad++;
		memcpy(copy, buf, n);
		fix_crc(copy, n);
		if (ms_fsm_restore(copy, n, &c) != -EBADMSG || c)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(ms_fsm_restore(NULL, 0, &c), -EBADMSG);
	free(copy);
	free(buf);
}

static void test_fsm_snapshot_bitflips_rejected(void)
{
	struct ms_fsm *c;
	uint8_t *copy;
	void *buf;
	size_t len;
	size_t i;
	int bad = 0;

	fuzz_image(&buf, &len);
	copy = malloc(len);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, buf, len);
	for (i = 0; i < len; i++) {
		copy[i] ^= (uint8_t)(1u << (i % 8));
		if (ms_fsm_restore(copy, len, &c) != -EBADMSG || c)
			bad++;
		copy[i] = ((uint8_t *)buf)[i];
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(copy);
	free(buf);
}

/*
 * An accepted corrupt image must be a consistent state: it snapshots back
 * to the same bytes (the format is canonical) and survives more ops.
 */
static void check_accepted(struct ms_fsm *c, const uint8_t *img, size_t len,
			   int *bad)
{
	struct gen g;
	void *again;
	size_t n;

	if (ms_fsm_snapshot(c, &again, &n) < 0 || n != len ||
	    memcmp(again, img, len) != 0)
		(*bad)++;
	free(again);
	gen_init(&g, len);
	run_random(&g, c, AFTER_FUZZ_OPS, NULL, NULL);
	ms_fsm_free(c);
}

static void test_fsm_snapshot_corrupt_with_valid_crc(void)
{
	static const uint8_t patterns[] = {0x01, 0x80, 0xff};
	struct ms_fsm *c;
	uint8_t *copy;
	void *buf;
	size_t len;
	size_t i;
	size_t k;
	int accepted = 0;
	int bad = 0;

	fuzz_image(&buf, &len);
	copy = malloc(len);
	CU_ASSERT_FATAL(copy != NULL);
	for (k = 0; k < sizeof(patterns); k++) {
		for (i = 0; i + 4 < len; i++) {
			int rc;

			memcpy(copy, buf, len);
			copy[i] ^= patterns[k];
			fix_crc(copy, len);
			rc = ms_fsm_restore(copy, len, &c);
			if (rc == 0) {
				accepted++;
				check_accepted(c, copy, len, &bad);
			} else if (rc != -EBADMSG) {
				bad++;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* times, modes, sizes... some corruptions are legal states */
	CU_ASSERT(accepted > 0);
	free(copy);
	free(buf);
}

static void test_fsm_snapshot_header_checks(void)
{
	struct ms_fsm *a = ft_new();
	struct ms_fsm *c;
	uint8_t *p;
	void *buf;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(ms_fsm_snapshot(a, &buf, &len), 0);
	p = buf;
	CU_ASSERT_EQUAL(memcmp(p, "RFSMSNAP", 8), 0);
	CU_ASSERT_EQUAL(p[8], 2); /* format version, little-endian */
	CU_ASSERT_EQUAL(ms_fsm_restore(buf, len, &c), 0);
	CU_ASSERT(snaps_equal(a, c));
	ms_fsm_free(c);
	p[8] = 3; /* a future version is refused even with a valid CRC */
	fix_crc(p, len);
	CU_ASSERT_EQUAL(ms_fsm_restore(buf, len, &c), -EBADMSG);
	CU_ASSERT_PTR_NULL(c);
	/* version 1 had no orphan table (its u64 count, 0 here) */
	p[8] = 1;
	fix_crc(p, len);
	CU_ASSERT_EQUAL(ms_fsm_restore(buf, len, &c), -EBADMSG);
	memmove(p + len - 12, p + len - 4, 4);
	fix_crc(p, len - 8);
	CU_ASSERT_EQUAL(ms_fsm_restore(buf, len - 8, &c), 0);
	CU_ASSERT(snaps_equal(a, c));
	ms_fsm_free(c);
	p[0] = 'X';
	len -= 8;
	fix_crc(p, len);
	CU_ASSERT_EQUAL(ms_fsm_restore(buf, len, &c), -EBADMSG);
	free(buf);
	ms_fsm_free(a);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_fsm_snapshot_replay_identical),
	    RFS_TEST(test_fsm_snapshot_restore_roundtrip),
	    RFS_TEST(test_fsm_snapshot_queries_after_restore),
	    RFS_TEST(test_fsm_snapshot_truncations_rejected),
	    RFS_TEST(test_fsm_snapshot_bitflips_rejected),
	    RFS_TEST(test_fsm_snapshot_corrupt_with_valid_crc),
	    RFS_TEST(test_fsm_snapshot_header_checks),
	};
	static const struct rfs_test_suite suite = {
	    .name = "fsm_snapshot",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
