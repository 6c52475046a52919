/*
 * iocheck: random writes, truncates and reads of one file straight through
 * the client library (no FUSE), checked against a model in memory, for
 * t_client_io.sh:
 *
 *   iocheck META_ADDR NAME SEED OPS
 *
 * Creates NAME in the root directory (removed again at the end), then runs
 * OPS random steps: a write (rfs_cio_pwrite) of 1 byte .. 300 KiB at a
 * random offset, often past the end (a hole) or across chunk and 64 KiB
 * block edges; a truncate (setattr size) to a random size, mostly inside a
 * 64 KiB block, shrinking or growing; a read of a random range, and of
 * the whole file, through a fresh layout (rfs_cio_pread). After every step
 * the size the metaserver reports must be the model's. Prints "N ops, N
 * reads checked" and exits 0; on the first difference it prints the seed,
 * the step and what differed and exits 1 (2: usage, 3: setup failed).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "common/crc32c.h"

#define EXIT_DIFF  1
#define EXIT_USAGE 2
#define EXIT_SETUP 3
#define MODEL_MAX  (5u << 20) /* largest file the steps make */
#define WRITE_MAX  (300u << 10)
#define BLOCK	   RFS_CRC_BLOCK_BYTES

struct check {
	struct rfs_client *c;
	struct rfs_cio *io;
	uint64_t ino;
	uint64_t chunk_size;
	uint64_t rng;
	unsigned long seed;
	unsigned long step;
	unsigned long reads;
	uint8_t *model; /* zero past size */
	uint64_t size;
	uint8_t *buf;
};

static uint64_t rnd(struct check *k)
{
	/* xorshift64* */
	k->rng ^= k->rng >> 12;
	k->rng ^= k->rng << 25;
	k->rng ^= k->rng >> 27;
	return k->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct check *k, uint64_t n)
{
	return n ? rnd(k) % n : 0;
}

static int report(struct check *k, const char *what, int rc)
{
	fprintf(stderr, "iocheck: seed %lu step %lu: %s: %s\n", k->seed,
		k->step, what, rc < 0 ? strerror(-rc) : "mismatch");
	return EXIT_DIFF;
}

/* A position near something interesting: a chunk or block edge, the end
 * of the file, or anywhere. */
static uint64_t pick_offset(struct check *k, uint64_t limit)
{
	uint64_t edge;

	switch (below(k, 4)) {
	case 0:
		edge = below(k, limit / k->chunk_size + 1) * k->chunk_size;
		break;
	case 1:
		edge = below(k, limit / BLOCK + 1) * BLOCK;
		break;
	case 2:
		edge = k->size;
		break;
	default:
		return below(k, limit);
	}
	edge = edge + below(k, 2 * BLOCK) - BLOCK;
	return edge > limit ? below(k, limit) : edge;
}

static int step_write(struct check *k)
{
	uint64_t off = pick_offset(k, MODEL_MAX - WRITE_MAX);
	size_t len = (size_t)below(k, WRITE_MAX) + 1;
	ssize_t n;

	for (size_t i = 0; i < len; i++)
		k->buf[i] = (uint8_t)rnd(k);
	n = rfs_cio_pwrite(k->io, k->ino, k->chunk_size, off, k->buf, len);
	if (n != (ssize_t)len)
		return report(k, "write", n < 0 ? (int)n : -EIO);
	memcpy(k->model + off, k->buf, len);
	if (off + len > k->size)
		k->size = off + len;
	return 0;
}

static int step_truncate(struct check *k)
{
	struct rfs_client_setattr sa = {.valid = RFS_SETATTR_SIZE};
	uint64_t size = pick_offset(k, MODEL_MAX - WRITE_MAX);
	int rc;

	/* mostly inside a block: the case a read plan must get right */
	if (below(k, 4) != 0 && size % BLOCK == 0)
		size += below(k, BLOCK - 1) + 1;
	sa.size = size;
	rc = rfs_client_setattr(k->c, k->ino, &sa, NULL);
	if (rc < 0)
		return report(k, "truncate", rc);
	if (size < k->size)
		memset(k->model + size, 0, k->size - size);
	k->size = size;
	return 0;
}

/* Read [off, off + len) through a fresh layout and compare. */
static int check_read(struct check *k, uint64_t off, size_t len)
{
	uint64_t want = off >= k->size	      ? 0
			: k->size - off < len ? k->size - off
					      : len;
	struct rfs_layout l;
	ssize_t n;
	int rc;

	rc = rfs_client_layout(k->c, k->ino, 0, 0, &l);
	if (rc < 0)
		return report(k, "layout", rc);
	if (l.size != k->size) {
		fprintf(stderr,
			"iocheck: size %" PRIu64 ", model %" PRIu64 "\n",
			l.size, k->size);
		rfs_proto_layout_release(&l);
		return report(k, "size", 0);
	}
	memset(k->buf, 0xa5, len);
	n = rfs_cio_pread(k->io, &l, off, k->buf, len);
	rfs_proto_layout_release(&l);
	if (n < 0)
		return report(k, "read", (int)n);
	k->reads++;
	if ((uint64_t)n != want || memcmp(k->buf, k->model + off, want) != 0) {
		for (uint64_t i = 0; i < want && i < (uint64_t)n; i++)
			if (k->buf[i] != k->model[off + i]) {
				fprintf(stderr,
					"iocheck: read %" PRIu64 "+%zu: byte "
					"%" PRIu64 " is %u, model %u\n",
					off, len, off + i, k->buf[i],
					k->model[off + i]);
				break;
			}
		return report(k, "read", 0);
	}
	return 0;
}

static int step_read(struct check *k)
{
	uint64_t off = pick_offset(k, MODEL_MAX - WRITE_MAX);
	size_t len = (size_t)below(k, WRITE_MAX) + 1;

	return check_read(k, off, len);
}

static int run(struct check *k, unsigned long ops)
{
	int rc = 0;

	for (k->step = 1; rc == 0 && k->step <= ops; k->step++) {
		uint64_t r = below(k, 20);

		if (r < 8)
			rc = step_write(k);
		else if (r < 13)
			rc = step_truncate(k);
		else
			rc = step_read(k);
		/* a whole read after every change */
		if (rc == 0 && r < 13)
			rc = check_read(k, 0, MODEL_MAX);
	}
	return rc;
}

static int setup(struct check *k, const char *meta, const char *name)
{
	struct rfs_client_opts o = {.meta = meta, .retry_ms = 10000};
	struct rfs_attr a;
	int rc;

	k->model = calloc(1, MODEL_MAX);
	k->buf = malloc(MODEL_MAX);
	if (!k->model || !k->buf)
		return -ENOMEM;
	rc = rfs_client_new(&o, &k->c);
	if (rc == 0)
		rc = rfs_client_chunk_size(k->c, &k->chunk_size);
	if (rc == 0)
		rc = rfs_client_create(k->c, RFS_ROOT_INO, name, 0644, 0, 0,
				       RFS_CREATE_EXCL, &a);
	if (rc < 0)
		return rc;
	k->ino = a.ino;
	k->io = rfs_cio_new(k->c, 0);
	return k->io ? 0 : -ENOMEM;
}

int main(int argc, char **argv)
{
	struct check k = {0};
	unsigned long ops;
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: iocheck META_ADDR NAME SEED OPS\n");
		return EXIT_USAGE;
	}
	k.seed = strtoul(argv[3], NULL, 10);
	ops = strtoul(argv[4], NULL, 10);
	k.rng = k.seed * 2654435761u + 1;
	rc = setup(&k, argv[1], argv[2]);
	if (rc < 0) {
		fprintf(stderr, "iocheck: setup: %s\n", strerror(-rc));
		rc = EXIT_SETUP;
	} else {
		rc = run(&k, ops);
		if (rc == 0)
			printf("%lu ops, %lu reads checked\n", ops, k.reads);
		rfs_client_unlink(k.c, RFS_ROOT_INO, argv[2]);
	}
	rfs_cio_free(k.io);
	rfs_client_free(k.c);
	free(k.model);
	free(k.buf);
	return rc;
}
