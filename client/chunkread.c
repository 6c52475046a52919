/*
 * chunkread: read jobs. Fetch the block-aligned range around the wanted
 * bytes from one replica, check every block received against the CRC list
 * the server sent, and on any failure try the next replica. The range
 * asked for ends on a block boundary even when the layout's length does
 * not (a truncate cut the chunk inside a block): the server sends up to its
 * replica's end, and what lies past the layout's length reads as zeros.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/chunkio-int.h"
#include "common/crc32c.h"
#include "common/httpc.h"

/* Bytes of the query tail "&offset=...&length=...". */
#define READ_TAIL_MAX 80
/* Reads rotate over a chunk's replicas every this many bytes: the 1 MiB
 * pieces of a download and the 1 MiB reads of the mount's read-ahead,
 * many in flight, go to all replicas and not to one for 8 MiB at a time. */
#define READ_SPREAD_BYTES (1u << 20)

/*
 * Replicas to try: up ones first, rotated by the piece's position so that
 * the pieces of one chunk spread over its replicas, then the down ones
 * (a server marked down may still answer).
 */
static void plan_order(struct rfs_cio_state *st)
{
	const struct rfs_chunk *ch = st->job->chunk;
	unsigned int n = ch->n_replicas > RFS_MAX_REPLICAS ? RFS_MAX_REPLICAS
							   : ch->n_replicas;
	unsigned int ups[RFS_MAX_REPLICAS];
	unsigned int n_up = 0;
	unsigned int rot;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ch->replicas[i].up)
			ups[n_up++] = i;
	rot = n_up ? (unsigned int)((ch->index +
				     st->fetch.start / READ_SPREAD_BYTES) %
				    n_up)
		   : 0;
	st->n_order = 0;
	for (i = 0; i < n_up; i++)
		st->order[st->n_order++] = ups[(i + rot) % n_up];
	for (i = 0; i < n; i++)
		if (!ch->replicas[i].up)
			st->order[st->n_order++] = i;
}

/* The error of the last failed replica, or EIO when there was none. */
static int last_fault_err(const struct rfs_cio_state *st)
{
	return st->n_faults ? st->faults[st->n_faults - 1].err : -EIO;
}

/* Send the GET to the next untried replica, or give up. */
static void read_try(struct rfs_cio_state *st)
{
	const struct rfs_chunk *ch = st->job->chunk;
	struct rfs_xfer *x = &st->xfers[0];
	char tail[READ_TAIL_MAX];
	const struct rfs_replica *r;

	if (st->tried >= st->n_order) {
		if (st->n_order == 0)
			rfs_cio_add_fault(st, &(struct rfs_replica){.id = "-"},
					  -EIO, -1, "chunk has no replicas");
		rfs_cio_job_finish(st, last_fault_err(st));
		return;
	}
	r = &ch->replicas[st->order[st->tried]];
	rfs_xfer_release(x);
	memset(x, 0, sizeof(*x));
	snprintf(x->addr, sizeof(x->addr), "%s", r->addr);
	x->method = "GET";
	snprintf(tail, sizeof(tail), "&%s=%" PRIu64 "&%s=%" PRIu64,
		 RFS_Q_OFFSET, st->fetch.start, RFS_Q_LENGTH,
		 st->fetch.end - st->fetch.start);
	x->recv_buf = st->dst;
	x->recv_cap = st->fetch.end - st->fetch.start;
	if (rfs_cio_chunk_path(x->path, sizeof(x->path), ch->chunk_id,
			       ch->version, tail) < 0 ||
	    rfs_cio_queue(st, x) < 0)
		rfs_cio_job_finish(st, -ENOMEM);
}

void rfs_cio_read_start(struct rfs_cio_state *st)
{
	struct rfs_cio_job *job = st->job;
	const struct rfs_chunk *ch = job->chunk;
	char *buf = job->buf;

	if (ch) {
		job->chunk_id = ch->chunk_id;
		job->version = ch->version;
		st->fault_version = ch->version;
	}
	if (!ch || ch->chunk_id == 0 ||
	    !rfs_range_plan_read(job->offset, job->len, ch->length,
				 &st->fetch)) {
		memset(buf, 0, job->len);
		job->zero = true;
		rfs_cio_job_finish(st, 0);
		return;
	}
	if (!st->fetch.direct) {
		st->scratch = malloc(st->fetch.end - st->fetch.start);
		if (!st->scratch) {
			rfs_cio_job_finish(st, -ENOMEM);
			return;
		}
	}
	st->dst = st->fetch.direct ? buf : st->scratch;
	plan_order(st);
	read_try(st);
}

/*
 * Check the bytes received against the server's CRC list (one CRC per
 * block received, the last block possibly short: the replica's end).
 * Returns 0, or -EBADMSG with *block set to the first bad block (chunk
 * numbering), or -EPROTO when the list is missing or malformed.
 */
static int verify_blocks(struct rfs_cio_state *st, const struct rfs_xfer *x,
			 int64_t *block, const char **why)
{
	size_t len = x->recv_len;
	size_t nb = rfs_crc_block_count(len);
	uint32_t *crcs;
	size_t n = 0;
	size_t i;
	int rc;

	*why = "reply without a valid checksum list";
	if (!x->recv_crc)
		return -EPROTO;
	crcs = calloc(nb ? nb : 1, sizeof(*crcs));
	if (!crcs)
		return -ENOMEM;
	rc = rfs_crc_list_parse(x->recv_crc, crcs, nb, &n);
	if (rc == 0 && n != nb)
		rc = -EPROTO;
	for (i = 0; rc == 0 && i < nb; i++) {
		size_t off = i * RFS_CRC_BLOCK_BYTES;
		size_t blen = len - off < RFS_CRC_BLOCK_BYTES
				  ? len - off
				  : RFS_CRC_BLOCK_BYTES;

		if (rfs_crc32c(0, st->dst + off, blen) != crcs[i]) {
			*block =
			    (int64_t)(st->fetch.start / RFS_CRC_BLOCK_BYTES +
				      i);
			*why = "checksum mismatch";
			rc = -EBADMSG;
		}
	}
	free(crcs);
	return rc;
}

void rfs_cio_read_xfer_done(struct rfs_cio_state *st, struct rfs_xfer *x)
{
	const struct rfs_replica *r =
	    &st->job->chunk->replicas[st->order[st->tried]];
	struct rfs_cio_job *job = st->job;
	size_t want = st->fetch.data_end - st->fetch.start;
	const char *why = x->message;
	int64_t block = -1;
	char msg[RFS_CIO_FAULT_MESSAGE_MAX];
	int rc = rfs_cio_xfer_error(x);

	/* At least up to the layout's length: the replica cannot end before
	 * what was committed. */
	if (rc == 0 && x->recv_len < want) {
		snprintf(msg, sizeof(msg), "short read: %zu of %zu bytes",
			 x->recv_len, want);
		why = msg;
		rc = -EIO;
	}
	if (rc == 0)
		rc = verify_blocks(st, x, &block, &why);
	if (rc == -ENOMEM) {
		rfs_cio_job_finish(st, rc);
		return;
	}
	if (rc < 0) {
		rfs_cio_add_fault(st, r, rc, block, why);
		st->tried++;
		read_try(st);
		return;
	}
	if (!st->fetch.direct)
		memcpy(job->buf, st->scratch + (job->offset - st->fetch.start),
		       st->fetch.data_end - job->offset);
	/* Past the layout's length the file reads as zeros, whatever the
	 * replica still holds there. */
	if (job->offset + job->len > st->fetch.data_end)
		memset((char *)job->buf + (st->fetch.data_end - job->offset), 0,
		       job->offset + job->len - st->fetch.data_end);
	st->used = *r;
	st->used_valid = true;
	rfs_cio_job_finish(st, 0);
}
