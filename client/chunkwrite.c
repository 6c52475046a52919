/*
 * chunkwrite: write jobs. Lease the chunk, read back the partial edge
 * blocks of a range update (read-modify-write), PUT the data with its
 * per-block CRCs to every leased replica at once, and commit the replicas
 * that acknowledged. A job succeeds only after the commit.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/chunkio-int.h"
#include "client/client-int.h"
#include "common/crc32c.h"
#include "common/httpc.h"

/* Bytes of the query tail "&offset=..&base=..&base_length=..". */
#define WRITE_TAIL_MAX 128

/* Start one edge read of the previous version into the send buffer. */
static void start_edge(struct rfs_cio_state *st, unsigned int i, uint64_t off,
		       uint64_t len)
{
	struct rfs_cio_job *e = &st->edges[i];

	memset(e, 0, sizeof(*e));
	e->kind = RFS_CIO_READ;
	e->chunk = &st->base;
	e->offset = off;
	e->len = len;
	e->buf = st->scratch + (off - st->plan.start);
	if (rfs_cio_job_start(st->io, e, st) < 0) {
		e->result = -ENOMEM;
		rfs_cio_write_edge_done(st, e);
	}
}

/* Read back the old blocks a partial write only partly covers. */
static void start_edges(struct rfs_cio_state *st)
{
	const struct rfs_lease *l = &st->lease;

	st->base.index = l->index;
	st->base.chunk_id = l->chunk_id;
	st->base.version = l->prev_version;
	st->base.length = l->prev_length;
	st->base.n_replicas = l->n_replicas;
	memcpy(st->base.replicas, l->replicas, sizeof(l->replicas));
	/* Count both first: an edge may finish before the other starts. */
	st->edges_pending = (st->plan.head_len > 0) + (st->plan.tail_len > 0);
	if (st->plan.head_len > 0)
		start_edge(st, 0, st->plan.head_off, st->plan.head_len);
	if (st->plan.tail_len > 0)
		start_edge(st, 1, st->plan.tail_off, st->plan.tail_len);
}

/* Query tail of a PUT: none for a whole chunk, base range otherwise. */
static void put_tail(const struct rfs_cio_state *st, char *tail, size_t len)
{
	if (st->plan.whole) {
		tail[0] = '\0';
		return;
	}
	snprintf(tail, len, "&%s=%" PRIu64 "&%s=%" PRIu32 "&%s=%" PRIu64,
		 RFS_Q_OFFSET, st->plan.start, RFS_Q_BASE,
		 st->lease.prev_version, RFS_Q_BASE_LENGTH,
		 st->lease.prev_length);
}

/* Per-block CRC list of the bytes to send. */
static int make_crc_text(struct rfs_cio_state *st)
{
	size_t nb = rfs_crc_block_count(st->send_len);
	uint32_t *crcs = calloc(nb ? nb : 1, sizeof(*crcs));
	int rc;

	if (!crcs)
		return -ENOMEM;
	rfs_crc_blocks(st->send, st->send_len, crcs);
	rc = rfs_crc_list_format(crcs, nb, &st->crc_text);
	free(crcs);
	return rc;
}

static void write_commit(struct rfs_cio_state *st);

/* Send the data to every leased replica in parallel. */
static void write_send(struct rfs_cio_state *st)
{
	struct rfs_cio_job *job = st->job;
	char tail[WRITE_TAIL_MAX];
	unsigned int i;

	if (!st->plan.direct)
		memcpy(st->scratch + (job->offset - st->plan.start), job->buf,
		       job->len);
	st->send = st->plan.direct ? job->buf : st->scratch;
	st->send_len = st->plan.end - st->plan.start;
	if (make_crc_text(st) < 0) {
		rfs_cio_job_finish(st, -ENOMEM);
		return;
	}
	put_tail(st, tail, sizeof(tail));
	st->puts_pending = st->lease.n_replicas;
	for (i = 0; i < st->lease.n_replicas; i++) {
		const struct rfs_replica *r = &st->lease.replicas[i];
		struct rfs_xfer *x = &st->xfers[i];

		memset(x, 0, sizeof(*x));
		snprintf(x->addr, sizeof(x->addr), "%s", r->addr);
		x->method = "PUT";
		x->send_crc = st->crc_text;
		x->send_buf = st->send;
		x->send_len = st->send_len;
		x->no_sync = job->no_sync && st->plan.whole;
		if (rfs_cio_chunk_path(x->path, sizeof(x->path),
				       st->lease.chunk_id, st->lease.version,
				       tail) < 0 ||
		    rfs_cio_queue(st, x) < 0) {
			rfs_cio_add_fault(st, r, -ENOMEM, -1,
					  "cannot queue upload");
			st->puts_pending--;
		}
	}
	if (st->puts_pending == 0)
		write_commit(st);
}

/* Check the lease against the job and set up the send buffer. */
static int write_prepare(struct rfs_cio_state *st)
{
	struct rfs_cio_job *job = st->job;
	const struct rfs_lease *l = &st->lease;

	if (l->n_replicas == 0 || l->n_replicas > RFS_MAX_REPLICAS)
		return -EPROTO;
	rfs_range_plan_write(job->offset, job->len, l->prev_version != 0,
			     l->prev_length, &st->plan);
	if (l->chunk_size && st->plan.end > l->chunk_size)
		return -EINVAL;
	if (!st->plan.direct) {
		st->scratch = calloc(1, st->plan.end - st->plan.start
					    ? st->plan.end - st->plan.start
					    : 1);
		if (!st->scratch)
			return -ENOMEM;
	}
	return 0;
}

void rfs_cio_write_start(struct rfs_cio_state *st)
{
	struct rfs_cio_job *job = st->job;
	int rc;

	if (job->lease) {
		/* leased by the create: one round trip less */
		st->lease = *job->lease;
		job->lease->n_replicas = 0;
		rc = 0;
	} else {
		rc = rfs_client_lease(st->io->c, job->ino, job->index,
				      &st->lease);
	}
	if (rc < 0) {
		st->meta_failed = true;
		rfs_cio_job_finish(st, rc);
		return;
	}
	job->chunk_id = st->lease.chunk_id;
	job->n_targets = st->lease.n_replicas;
	st->fault_version = st->lease.version;
	rc = write_prepare(st);
	if (rc < 0) {
		rfs_cio_job_finish(st, rc);
		return;
	}
	if (st->plan.head_len > 0 || st->plan.tail_len > 0)
		start_edges(st);
	else
		write_send(st);
}

void rfs_cio_write_edge_done(struct rfs_cio_state *st, struct rfs_cio_job *edge)
{
	if (edge->result < 0 && st->edge_err == 0)
		st->edge_err = edge->result;
	if (--st->edges_pending > 0)
		return;
	if (st->io->fatal < 0)
		rfs_cio_job_finish(st, st->io->fatal);
	else if (st->edge_err < 0)
		rfs_cio_job_finish(st, st->edge_err);
	else
		write_send(st);
}

void rfs_cio_write_xfer_done(struct rfs_cio_state *st, struct rfs_xfer *x)
{
	unsigned int i = (unsigned int)(x - st->xfers);
	int rc = rfs_cio_xfer_error(x);

	if (rc == 0)
		st->acked[i] = true;
	else
		rfs_cio_add_fault(st, &st->lease.replicas[i], rc, -1,
				  x->message);
	if (--st->puts_pending == 0)
		write_commit(st);
}

/* Commit the replicas that acknowledged; none is a failure. */
static void write_commit(struct rfs_cio_state *st)
{
	struct rfs_cio_job *job = st->job;
	struct rfs_replica acked[RFS_MAX_REPLICAS];
	uint32_t n = 0;
	unsigned int i;
	int rc;

	for (i = 0; i < st->lease.n_replicas; i++)
		if (st->acked[i])
			acked[n++] = st->lease.replicas[i];
	if (n == 0) {
		rfs_cio_job_finish(st, st->n_faults ? st->faults[0].err : -EIO);
		return;
	}
	rc = rfs_client_commit_attr(st->io->c, job->ino, job->index,
				    st->lease.chunk_id, st->lease.version,
				    st->plan.new_length, acked, n, job->setattr,
				    &job->attr);
	for (i = 0; rc == 0 && job->no_sync && st->plan.whole && i < n; i++)
		rc = rfs_sync_set_add(job->unsynced, acked[i].addr);
	if (rc < 0) {
		st->meta_failed = true;
		rfs_cio_job_finish(st, rc);
		return;
	}
	job->version = st->lease.version;
	job->chunk_length = st->plan.new_length;
	job->n_acked = n;
	rfs_cio_job_finish(st, 0);
}

/* --- unsynced servers --------------------------------------------------- */
int rfs_sync_set_add(struct rfs_sync_set *s, const char *addr)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->addr[i], addr) == 0)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : RFS_MAX_REPLICAS;
		void *p = realloc(s->addr, cap * sizeof(*s->addr));

		if (!p)
			return -ENOMEM;
		s->addr = p;
		s->cap = cap;
	}
	snprintf(s->addr[s->n++], sizeof(s->addr[0]), "%s", addr);
	return 0;
}

int rfs_sync_set_merge(struct rfs_sync_set *s, const struct rfs_sync_set *from)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < from->n; i++)
		rc = rfs_sync_set_add(s, from->addr[i]);
	return rc;
}

void rfs_sync_set_release(struct rfs_sync_set *s)
{
	free(s->addr);
	memset(s, 0, sizeof(*s));
}

static void sync_done(struct rfs_xfer *x, void *arg)
{
	int *first = arg;
	int rc = rfs_cio_xfer_error(x);

	if (rc < 0 && *first == 0)
		*first = rc;
}

int rfs_cio_sync(struct rfs_cio *io, const struct rfs_sync_set *s)
{
	struct rfs_xfer *x;
	int first = 0;
	int rc = 0;
	size_t i;

	if (s->n == 0)
		return 0;
	x = calloc(s->n, sizeof(*x));
	if (!x)
		return -ENOMEM;
	for (i = 0; rc == 0 && i < s->n; i++) {
		snprintf(x[i].addr, sizeof(x[i].addr), "%s", s->addr[i]);
		snprintf(x[i].path, sizeof(x[i].path), "%s", RFS_PATH_SYNC);
		x[i].method = "POST";
		rc = rfs_httpc_multi_add(io->multi, &x[i]);
	}
	/* run what was queued even after a failed add */
	if (i > 0 || rc == 0) {
		int run = rfs_httpc_multi_run(io->multi, sync_done, &first);

		if (rc == 0)
			rc = run;
	}
	if (rc == 0)
		rc = first;
	for (i = 0; i < s->n; i++)
		rfs_xfer_release(&x[i]);
	free(x);
	if (rc < 0)
		rfs_client_note_error(io->c, rc, false, "",
				      "chunk server sync failed");
	return rc;
}
