/*
 * The crc group: CRC32C throughput (common/crc32c, isa-l) over one 64 KiB
 * block (in cache: what one block check costs), a 1 MiB buffer, and the
 * per-block checksum list of a whole 64 MiB chunk (rfs_crc_blocks, out of
 * cache: what a writer or reader pays per chunk).
 */
#include <config.h>
#include "bench/micro/micro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/crc32c.h"
#include "common/proto.h"

#define MB_CRC_SEED 0x637263333263ULL

struct crc_case {
	const char *name;
	const char *params;
	size_t len;
	bool blocks; /* rfs_crc_blocks (else one rfs_crc32c over the buffer) */
};

static const struct crc_case crc_cases[] = {
    {"crc32c", "buffer=64KiB", RFS_CRC_BLOCK_BYTES, false},
    {"crc32c", "buffer=1MiB", 1u << 20, false},
    {"crc_blocks", "buffer=64MiB,block=64KiB", RFS_CHUNK_SIZE_MAX, true},
};

/* GB/s over at least min_time_s of checksumming buf[0..len) again and
 * again. crcs holds rfs_crc_block_count(len) entries. */
static double crc_sample(const struct mb_ctx *ctx, const struct crc_case *c,
			 const void *buf, uint32_t *crcs, uint64_t *sink)
{
	double t0 = mb_now();
	double t;
	uint64_t bytes = 0;

	do {
		if (c->blocks) {
			rfs_crc_blocks(buf, c->len, crcs);
			*sink += crcs[0];
		} else {
			*sink += rfs_crc32c(0, buf, c->len);
		}
		bytes += c->len;
		t = mb_now() - t0;
	} while (t < ctx->min_time_s);
	return (double)bytes / t / 1e9;
}

int mb_crc_run(struct mb_ctx *ctx)
{
	size_t max = RFS_CHUNK_SIZE_MAX;
	uint64_t sink = 0;
	uint32_t *crcs;
	void *buf;
	int rc = 0;

	buf = malloc(max);
	crcs = calloc(rfs_crc_block_count(max), sizeof(*crcs));
	if (!buf || !crcs) {
		snprintf(ctx->err, sizeof(ctx->err), "out of memory");
		rc = -ENOMEM;
		goto out_free;
	}
	mb_fill(buf, max, MB_CRC_SEED);
	for (size_t i = 0; i < sizeof(crc_cases) / sizeof(crc_cases[0]); i++) {
		const struct crc_case *c = &crc_cases[i];
		struct mb_result r;

		mb_result_init(&r, "crc", c->name, c->params, "GB/s");
		if (ctx->progress)
			ctx->progress(&r, ctx->arg);
		for (unsigned int k = 0; k < ctx->reps; k++)
			r.samples[r.n++] = crc_sample(ctx, c, buf, crcs, &sink);
		ctx->report(&r, ctx->arg);
	}
	mb_keep(sink);
out_free:
	free(crcs);
	free(buf);
	return rc;
}
