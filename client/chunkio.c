#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client-int.h"
#include "client/chunkio-int.h"
#include "common/crc32c.h"
#include "common/errors.h"
#include "common/httpc.h"

/* Transfers per job the multi runs at once: every replica of a write in
 * parallel. Capped so a huge max_jobs does not open hundreds of sockets. */
#define CIO_MULTI_PARALLEL_MAX 256

struct rfs_cio *rfs_cio_new(struct rfs_client *c, unsigned int max_jobs)
{
	struct rfs_httpc_opts hopts;
	struct rfs_cio *io;
	unsigned int par;

	if (max_jobs == 0)
		max_jobs = RFS_CLIENT_PARALLEL_DEFAULT;
	if (max_jobs > RFS_CLIENT_PARALLEL_MAX * 4)
		max_jobs = RFS_CLIENT_PARALLEL_MAX * 4;
	io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	par = max_jobs * RFS_MAX_REPLICAS;
	io->multi_parallel =
	    par > CIO_MULTI_PARALLEL_MAX ? CIO_MULTI_PARALLEL_MAX : par;
	rfs_client_httpc_opts(c, &hopts);
	io->multi = rfs_httpc_multi_new(io->multi_parallel, &hopts);
	if (!io->multi) {
		free(io);
		return NULL;
	}
	io->c = c;
	io->max_jobs = max_jobs;
	return io;
}

void rfs_cio_free(struct rfs_cio *io)
{
	if (!io)
		return;
	rfs_httpc_multi_free(io->multi);
	free(io);
}

void rfs_cio_set_fault_cb(struct rfs_cio *io, rfs_cio_fault_cb cb, void *arg)
{
	io->fault_cb = cb;
	io->fault_arg = arg;
}

void rfs_cio_add_fault(struct rfs_cio_state *st, const struct rfs_replica *r,
		       int err, int64_t block, const char *message)
{
	struct rfs_cio_fault_rec *f;

	if (st->n_faults == RFS_MAX_REPLICAS)
		return;
	f = &st->faults[st->n_faults++];
	f->replica = *r;
	f->err = err;
	f->block = block;
	snprintf(f->message, sizeof(f->message), "%s", message ? message : "");
}

/* Tell the fault callback about every failed replica of a finished job. */
static void report_faults(struct rfs_cio_state *st)
{
	struct rfs_cio *io = st->io;
	unsigned int i;

	for (i = 0; i < st->n_faults; i++) {
		const struct rfs_cio_fault_rec *r = &st->faults[i];
		struct rfs_cio_fault f = {
		    .write = st->job->kind == RFS_CIO_WRITE,
		    .chunk_id = st->job->chunk_id,
		    .version = st->fault_version,
		    .replica = &r->replica,
		    .err = r->err,
		    .block = r->block,
		    .message = r->message,
		    .used = st->used_valid ? &st->used : NULL,
		};

		if (io->fault_cb)
			io->fault_cb(&f, io->fault_arg);
	}
}

static void state_unlink(struct rfs_cio_state *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		st->io->active = st->next;
	if (st->next)
		st->next->prev = st->prev;
}

static void state_free(struct rfs_cio_state *st)
{
	unsigned int i;

	for (i = 0; i < RFS_MAX_REPLICAS; i++)
		rfs_xfer_release(&st->xfers[i]);
	free(st->scratch);
	free(st->crc_text);
	free(st);
}

void rfs_cio_job_finish(struct rfs_cio_state *st, int rc)
{
	struct rfs_cio *io = st->io;
	struct rfs_cio_job *job = st->job;
	struct rfs_cio_state *parent = st->parent;

	job->result = rc;
	report_faults(st);
	if (rc < 0 && st->n_faults > 0 && !st->meta_failed) {
		const struct rfs_cio_fault_rec *f =
		    &st->faults[st->n_faults - 1];

		rfs_client_note_error(io->c, rc, false, f->replica.addr,
				      f->message);
	}
	state_unlink(st);
	job->state = NULL;
	state_free(st);
	if (parent) {
		rfs_cio_write_edge_done(parent, job);
		return;
	}
	io->inflight--;
	if (io->done)
		io->done(job, io->arg);
	rfs_cio_pump(io);
}

/* Allocate the state of a job and put it on the active list. */
static struct rfs_cio_state *state_new(struct rfs_cio *io,
				       struct rfs_cio_job *job,
				       struct rfs_cio_state *parent)
{
	struct rfs_cio_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->io = io;
	st->job = job;
	st->parent = parent;
	st->next = io->active;
	if (io->active)
		io->active->prev = st;
	io->active = st;
	job->state = st;
	job->result = 0;
	job->zero = false;
	job->chunk_id = 0;
	job->version = 0;
	job->chunk_length = 0;
	job->n_acked = 0;
	job->n_targets = 0;
	job->attr.ino = 0;
	return st;
}

int rfs_cio_job_start(struct rfs_cio *io, struct rfs_cio_job *job,
		      struct rfs_cio_state *parent)
{
	struct rfs_cio_state *st = state_new(io, job, parent);

	if (!st)
		return -ENOMEM;
	if (job->kind == RFS_CIO_READ)
		rfs_cio_read_start(st);
	else
		rfs_cio_write_start(st);
	return 0;
}

void rfs_cio_pump(struct rfs_cio *io)
{
	if (io->pumping || !io->next)
		return;
	io->pumping = true;
	while (io->inflight < io->max_jobs && io->fatal == 0) {
		struct rfs_cio_job *job = io->next(io->arg);

		if (!job)
			break;
		io->inflight++;
		if (rfs_cio_job_start(io, job, NULL) < 0) {
			io->inflight--;
			job->result = -ENOMEM;
			if (io->done)
				io->done(job, io->arg);
		}
	}
	io->pumping = false;
}

static void xfer_done(struct rfs_xfer *x, void *arg)
{
	struct rfs_cio_state *st = x->user;

	if (st->job->kind == RFS_CIO_READ)
		rfs_cio_read_xfer_done(st, x);
	else
		rfs_cio_write_xfer_done(st, x);
}

/*
 * The multi failed as a whole: its transfers are lost, so finish every
 * job still active with the error (internal ones first through their
 * parents) and start over with a fresh multi.
 */
static int fail_active(struct rfs_cio *io, int rc)
{
	struct rfs_httpc_opts hopts;

	io->fatal = rc;
	rfs_httpc_multi_free(io->multi);
	rfs_client_httpc_opts(io->c, &hopts);
	io->multi = rfs_httpc_multi_new(io->multi_parallel, &hopts);
	while (io->active) {
		struct rfs_cio_state *st = io->active;

		/* Edge reads first: finishing one may finish its parent. */
		while (st && !st->parent)
			st = st->next;
		rfs_cio_job_finish(st ? st : io->active, rc);
	}
	return io->multi ? rc : -ENOMEM;
}

int rfs_cio_run(struct rfs_cio *io, rfs_cio_next_cb next, rfs_cio_done_cb done,
		void *arg)
{
	int rc = 0;

	if (!io->multi)
		return -ENOMEM;
	io->next = next;
	io->done = done;
	io->arg = arg;
	io->fatal = 0;
	for (;;) {
		rfs_cio_pump(io);
		if (io->inflight == 0)
			break;
		rc = rfs_httpc_multi_run(io->multi, xfer_done, io);
		/* Every transfer is done, so every job must have finished or
		 * queued more; anything else is an engine failure. */
		if (rc == 0 && io->active)
			rc = -EIO;
		if (rc < 0) {
			rc = fail_active(io, rc);
			break;
		}
	}
	io->next = NULL;
	io->done = NULL;
	io->arg = NULL;
	return rc;
}

int rfs_cio_queue(struct rfs_cio_state *st, struct rfs_xfer *x)
{
	x->user = st;
	return rfs_httpc_multi_add(st->io->multi, x);
}

int rfs_cio_xfer_error(const struct rfs_xfer *x)
{
	if (x->result < 0)
		return x->result;
	if (x->status < 200 || x->status > 299)
		return -rfs_errno_from_http_status(x->status);
	return 0;
}

/* Format "/v1/chunk/<id>?version=V" plus an optional tail. */
int rfs_cio_chunk_path(char *out, size_t len, uint64_t chunk_id,
		       uint32_t version, const char *tail)
{
	int n = snprintf(out, len, "%s%016" PRIx64 "?%s=%" PRIu32 "%s",
			 RFS_PATH_CHUNK, chunk_id, RFS_Q_VERSION, version,
			 tail ? tail : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
