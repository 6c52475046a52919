/*
 * The chunk group: one chunk server's PUT and GET MB/s over loopback,
 * through the client's own HTTP layer (rfs_httpc_multi, one transfer at a
 * time over one keep-alive connection), next to the raw loopback TCP
 * ceiling of the same bytes (sock.c). Measured: a whole-chunk PUT as the
 * client sends it (the server fsyncs before replying), the same PUT with
 * "X-Ringfs-Sync: 0" (network, CRC checks and page cache only), and a GET
 * of the whole chunk (served from the page cache with sendfile). The CRC
 * list is computed once up front: this times the server and the wire, not
 * the client's checksumming (see the crc group for that).
 */
#include <config.h>
#include "bench/micro/micro.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/errors.h"
#include "common/httpc.h"
#include "common/proto.h"

/* The chunk written and read: "micro" in ASCII, clear of real ids. */
#define MB_CHUNK_ID	 0x6d6963726f000001ULL
#define MB_CHUNK_VERSION 1
/* Most transfers in one sample, however fast they are: bounds the run. */
#define MB_CHUNK_OPS_MAX 64
#define MB_CHUNK_SEED	 0x6368756e6bULL

enum chunk_op {
	MB_OP_PUT = 0,
	MB_OP_PUT_NOSYNC,
	MB_OP_GET,
	MB_OP_DELETE,
};

struct chunk_bench {
	struct mb_ctx *ctx;
	struct rfs_httpc_multi *m;
	void *send;
	void *recv;
	char *crc_text;
};

static const char *const op_methods[] = {"PUT", "PUT", "GET", "DELETE"};

static void xfer_done(struct rfs_xfer *x, void *arg)
{
	/* the result stays in x; nothing else to do per transfer */
}

static int xfer_check(struct chunk_bench *b, enum chunk_op op,
		      struct rfs_xfer *x)
{
	int rc = x->result;

	if (rc == 0 && op == MB_OP_GET && x->recv_len != b->ctx->size)
		rc = -EPROTO;
	if (rc < 0)
		snprintf(b->ctx->err, sizeof(b->ctx->err),
			 "%s http://%s%s: %s (status %u%s%s)", x->method,
			 x->addr, x->path, rfs_errno_name(rc), x->status,
			 x->message[0] ? ": " : "", x->message);
	return rc;
}

/* One transfer of the whole chunk, start to finish. */
static int xfer_run(struct chunk_bench *b, enum chunk_op op)
{
	struct rfs_xfer x;
	int rc;

	memset(&x, 0, sizeof(x));
	snprintf(x.addr, sizeof(x.addr), "%s", b->ctx->chunk);
	snprintf(x.path, sizeof(x.path), "%s%016" PRIx64 "?%s=%u",
		 RFS_PATH_CHUNK, (uint64_t)MB_CHUNK_ID, RFS_Q_VERSION,
		 MB_CHUNK_VERSION);
	x.method = op_methods[op];
	if (op == MB_OP_PUT || op == MB_OP_PUT_NOSYNC) {
		x.send_crc = b->crc_text;
		x.send_buf = b->send;
		x.send_len = b->ctx->size;
		x.no_sync = op == MB_OP_PUT_NOSYNC;
	} else if (op == MB_OP_GET) {
		x.recv_buf = b->recv;
		x.recv_cap = b->ctx->size;
	}
	rc = rfs_httpc_multi_add(b->m, &x);
	if (rc == 0)
		rc = rfs_httpc_multi_run(b->m, xfer_done, NULL);
	if (rc < 0)
		snprintf(b->ctx->err, sizeof(b->ctx->err),
			 "the HTTP client failed: %s", rfs_errno_name(rc));
	else
		rc = xfer_check(b, op, &x);
	rfs_xfer_release(&x);
	return rc;
}

/* MB/s of back-to-back transfers over at least min_time_s. */
static int op_sample(struct chunk_bench *b, enum chunk_op op, double *mbs)
{
	double t0 = mb_now();
	double t;
	unsigned int ops = 0;
	int rc;

	do {
		rc = xfer_run(b, op);
		if (rc < 0)
			return rc;
		ops++;
		t = mb_now() - t0;
	} while (t < b->ctx->min_time_s && ops < MB_CHUNK_OPS_MAX);
	*mbs = (double)ops * (double)b->ctx->size / t / 1e6;
	return 0;
}

static int op_measure(struct chunk_bench *b, enum chunk_op op, const char *name,
		      const char *params)
{
	struct mb_ctx *ctx = b->ctx;
	struct mb_result r;
	int rc = 0;

	mb_result_init(&r, "chunk", name, params, "MB/s");
	if (ctx->progress)
		ctx->progress(&r, ctx->arg);
	for (unsigned int i = 0; i < ctx->reps && rc == 0; i++)
		rc = op_sample(b, op, &r.samples[r.n++]);
	if (rc == 0)
		ctx->report(&r, ctx->arg);
	return rc;
}

static int chunk_setup(struct chunk_bench *b)
{
	size_t size = b->ctx->size;
	size_t nblocks = rfs_crc_block_count(size);
	uint32_t *crcs;
	int rc;

	b->send = malloc(size);
	b->recv = malloc(size);
	crcs = calloc(nblocks, sizeof(*crcs));
	b->m = rfs_httpc_multi_new(1, NULL);
	if (!b->send || !b->recv || !crcs || !b->m) {
		rc = -ENOMEM;
		goto out_free_crcs;
	}
	mb_fill(b->send, size, MB_CHUNK_SEED);
	/* fault the pages in now, not during the first GET */
	memset(b->recv, 0, size);
	rfs_crc_blocks(b->send, size, crcs);
	rc = rfs_crc_list_format(crcs, nblocks, &b->crc_text);
out_free_crcs:
	free(crcs);
	if (rc < 0)
		snprintf(b->ctx->err, sizeof(b->ctx->err), "out of memory");
	return rc;
}

static void chunk_teardown(struct chunk_bench *b)
{
	rfs_httpc_multi_free(b->m);
	free(b->crc_text);
	free(b->recv);
	free(b->send);
}

int mb_chunk_run(struct mb_ctx *ctx)
{
	struct chunk_bench b = {.ctx = ctx};
	struct mb_result tcp;
	char size[MB_NAME_MAX];
	char params[MB_PARAMS_MAX];
	int rc;

	if (ctx->size == 0 || ctx->size > RFS_CHUNK_SIZE_MAX) {
		snprintf(ctx->err, sizeof(ctx->err),
			 "chunk size %zu is not in 1..%u", ctx->size,
			 RFS_CHUNK_SIZE_MAX);
		return -EINVAL;
	}
	rc = chunk_setup(&b);
	if (rc < 0)
		goto out_teardown;
	mb_size_str(ctx->size, size, sizeof(size));
	snprintf(params, sizeof(params), "size=%s", size);
	mb_result_init(&tcp, "chunk", "tcp_ceiling", params, "MB/s");
	if (ctx->progress)
		ctx->progress(&tcp, ctx->arg);
	rc = mb_sock_measure(ctx, &tcp);
	if (rc < 0)
		goto out_teardown;
	ctx->report(&tcp, ctx->arg);

	snprintf(params, sizeof(params), "size=%s,sync=1", size);
	rc = op_measure(&b, MB_OP_PUT, "put", params);
	if (rc < 0)
		goto out_teardown;
	snprintf(params, sizeof(params), "size=%s,sync=0", size);
	rc = op_measure(&b, MB_OP_PUT_NOSYNC, "put", params);
	if (rc < 0)
		goto out_teardown;
	snprintf(params, sizeof(params), "size=%s", size);
	rc = op_measure(&b, MB_OP_GET, "get", params);
	if (rc < 0)
		goto out_teardown;
	rc = xfer_run(&b, MB_OP_DELETE);
out_teardown:
	chunk_teardown(&b);
	return rc;
}
