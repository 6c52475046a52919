/*
 * The ring group: how long rfs_ring_new takes for n servers of weight 1
 * with the default vnodes, and what one rfs_ring_lookup of a random chunk
 * id costs on that ring (rfs_ring_key, the SHA-256 part of it, alone too).
 */
#include <config.h>
#include "bench/micro/micro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/ring.h"

/* Replicas looked up per chunk: the metaserver's default goal. */
#define MB_RING_REPLICAS 2
/* Random chunk ids cycled through (a power of two, so i & mask wraps). */
#define MB_RING_IDS 65536
/* Lookups between two clock reads: the clock costs < 0.1 % of a batch. */
#define MB_RING_BATCH  1024
#define MB_RING_SEED   0x72696e676673ULL
#define MB_RING_ID_LEN 24 /* "cs-" + up to 20 digits + NUL */

struct ring_bench {
	struct mb_ctx *ctx;
	uint64_t *ids;
	struct rfs_ring_member *members;
	char *names;
};

static int members_make(struct ring_bench *b, size_t n)
{
	size_t i;

	b->members = calloc(n, sizeof(*b->members));
	b->names = calloc(n, MB_RING_ID_LEN);
	if (!b->members || !b->names)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		char *id = b->names + i * MB_RING_ID_LEN;

		snprintf(id, MB_RING_ID_LEN, "cs-%05zu", i);
		b->members[i].id = id;
		b->members[i].zone = NULL;
		b->members[i].weight = 1;
	}
	return 0;
}

static void members_free(struct ring_bench *b)
{
	free(b->members);
	free(b->names);
	b->members = NULL;
	b->names = NULL;
}

/* ns per lookup over at least min_time_s; *sink defeats dead-code removal */
static double lookup_sample(struct ring_bench *b, const struct rfs_ring *ring,
			    size_t *sink)
{
	size_t out[MB_RING_REPLICAS];
	double t0 = mb_now();
	double t;
	uint64_t done = 0;

	do {
		for (size_t i = 0; i < MB_RING_BATCH; i++) {
			uint64_t id = b->ids[(done + i) & (MB_RING_IDS - 1)];

			*sink += rfs_ring_lookup(ring, id, MB_RING_REPLICAS,
						 NULL, NULL, out);
			*sink += out[0];
		}
		done += MB_RING_BATCH;
		t = mb_now() - t0;
	} while (t < b->ctx->min_time_s);
	return t * 1e9 / (double)done;
}

static double key_sample(struct ring_bench *b, uint64_t *sink)
{
	double t0 = mb_now();
	double t;
	uint64_t done = 0;

	do {
		for (size_t i = 0; i < MB_RING_BATCH; i++)
			*sink ^= rfs_ring_key(
			    b->ids[(done + i) & (MB_RING_IDS - 1)]);
		done += MB_RING_BATCH;
		t = mb_now() - t0;
	} while (t < b->ctx->min_time_s);
	return t * 1e9 / (double)done;
}

/* Build the ring of n servers reps times (timed), then time lookups. */
static int ring_size_run(struct ring_bench *b, size_t n, size_t *sink)
{
	struct mb_ctx *ctx = b->ctx;
	struct rfs_ring *ring = NULL;
	struct mb_result build;
	struct mb_result look;
	char params[MB_PARAMS_MAX];
	int rc;

	rc = members_make(b, n);
	if (rc < 0)
		goto out_free_members;
	snprintf(params, sizeof(params), "servers=%zu,vnodes=%u", n,
		 RFS_RING_VNODES_PER_WEIGHT);
	mb_result_init(&build, "ring", "build", params, "ms");
	mb_result_init(&look, "ring", "lookup", params, "ns/op");
	if (ctx->progress)
		ctx->progress(&build, ctx->arg);
	for (unsigned int i = 0; i < ctx->reps; i++) {
		double t0 = mb_now();

		rfs_ring_free(ring);
		ring = rfs_ring_new(b->members, n, 0);
		if (!ring) {
			rc = -ENOMEM;
			goto out_free_members;
		}
		build.samples[build.n++] = (mb_now() - t0) * 1e3;
	}
	ctx->report(&build, ctx->arg);
	if (ctx->progress)
		ctx->progress(&look, ctx->arg);
	for (unsigned int i = 0; i < ctx->reps; i++)
		look.samples[look.n++] = lookup_sample(b, ring, sink);
	ctx->report(&look, ctx->arg);
out_free_members:
	rfs_ring_free(ring);
	members_free(b);
	return rc;
}

int mb_ring_run(struct mb_ctx *ctx)
{
	struct ring_bench b = {.ctx = ctx};
	struct mb_result key;
	uint64_t st = MB_RING_SEED;
	uint64_t ksink = 0;
	size_t sink = 0;
	int rc = 0;

	b.ids = calloc(MB_RING_IDS, sizeof(*b.ids));
	if (!b.ids) {
		snprintf(ctx->err, sizeof(ctx->err), "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < MB_RING_IDS; i++)
		b.ids[i] = mb_rand(&st);

	mb_result_init(&key, "ring", "key", "sha256=1", "ns/op");
	if (ctx->progress)
		ctx->progress(&key, ctx->arg);
	for (unsigned int i = 0; i < ctx->reps; i++)
		key.samples[key.n++] = key_sample(&b, &ksink);
	ctx->report(&key, ctx->arg);

	for (size_t i = 0; i < ctx->n_servers && rc == 0; i++) {
		rc = ring_size_run(&b, ctx->servers[i], &sink);
		if (rc < 0)
			snprintf(ctx->err, sizeof(ctx->err),
				 "ring of %zu servers: out of memory",
				 ctx->servers[i]);
	}
	free(b.ids);
	/* the loops' results are used, so no call can be optimised away */
	mb_keep(sink ^ ksink);
	return rc;
}
