/*
 * chunkio-int: the engine state shared by chunkio.c (job scheduling over
 * one curl multi), chunkread.c (read jobs) and chunkwrite.c (write jobs).
 * Private to client/.
 *
 * Life of a job: rfs_cio_job_start() allocates its rfs_cio_state and calls the
 * read or write starter; transfers are queued with rfs_cio_queue() and come
 * back through rfs_cio_read_xfer_done()/rfs_cio_write_xfer_done(); the job ends
 * with exactly one rfs_cio_job_finish(), which reports faults, frees the state and
 * calls the user's done callback (or, for the edge reads of a write, the
 * parent write's rfs_cio_write_edge_done()).
 */
#ifndef RFS_CLIENT_CHUNKIO_INT_H
#define RFS_CLIENT_CHUNKIO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "client/client.h"
#include "common/httpc.h"

/* Bytes of a fault message kept per failed replica. */
#define RFS_CIO_FAULT_MESSAGE_MAX 200

struct rfs_cio {
	struct rfs_client *c;
	struct rfs_httpc_multi *multi;
	unsigned int multi_parallel;
	unsigned int max_jobs;
	unsigned int inflight;	      /* user jobs started and not finished */
	bool pumping;		      /* inside rfs_cio_pump: do not re-enter */
	int fatal;		      /* engine failure: start nothing more */
	struct rfs_cio_state *active; /* every job with a state */
	rfs_cio_next_cb next;
	rfs_cio_done_cb done;
	void *arg;
	rfs_cio_fault_cb fault_cb;
	void *fault_arg;
};

struct rfs_cio_fault_rec {
	struct rfs_replica replica;
	int err;
	int64_t block;
	char message[RFS_CIO_FAULT_MESSAGE_MAX];
};

struct rfs_cio_state {
	struct rfs_cio *io;
	struct rfs_cio_job *job;
	struct rfs_cio_state *parent; /* the write an edge read belongs to */
	struct rfs_cio_state *prev;   /* active list */
	struct rfs_cio_state *next;
	/* read */
	struct rfs_range_fetch fetch;
	unsigned int order[RFS_MAX_REPLICAS]; /* replica indices to try */
	unsigned int n_order;
	unsigned int tried;
	char *dst; /* where the fetched range lands */
	/* write */
	struct rfs_lease lease;
	struct rfs_range_write plan;
	struct rfs_chunk base; /* the previous version, for edge reads */
	struct rfs_cio_job edges[2];
	unsigned int edges_pending;
	int edge_err;
	const char *send;
	size_t send_len;
	char *crc_text;
	unsigned int puts_pending;
	bool acked[RFS_MAX_REPLICAS];
	bool meta_failed; /* the failure came from the metaserver */
	/* both */
	char *scratch; /* malloc'd bounce buffer, NULL when direct */
	struct rfs_xfer xfers[RFS_MAX_REPLICAS];
	struct rfs_cio_fault_rec faults[RFS_MAX_REPLICAS];
	unsigned int n_faults;
	uint32_t fault_version;	 /* version the faults refer to */
	struct rfs_replica used; /* read: the replica that served */
	bool used_valid;
};

/* Start a job (parent: the write an edge read serves, else NULL). Returns
 * 0 (the job will finish through rfs_cio_job_finish) or -ENOMEM (it never
 * started). */
int rfs_cio_job_start(struct rfs_cio *io, struct rfs_cio_job *job,
		      struct rfs_cio_state *parent);
/* Finish a job with rc: faults, done callback, free. */
void rfs_cio_job_finish(struct rfs_cio_state *st, int rc);
/* Start user jobs while there is room. */
void rfs_cio_pump(struct rfs_cio *io);
/* Queue a transfer of st on the multi. Returns 0 or -ENOMEM. */
int rfs_cio_queue(struct rfs_cio_state *st, struct rfs_xfer *x);
/* Remember a failed replica for the fault report. */
void rfs_cio_add_fault(struct rfs_cio_state *st, const struct rfs_replica *r,
		       int err, int64_t block, const char *message);
/* "/v1/chunk/<16 hex>?version=V" + tail. Returns 0 or -ENAMETOOLONG. */
int rfs_cio_chunk_path(char *out, size_t len, uint64_t chunk_id,
		       uint32_t version, const char *tail);
/* The error a finished transfer stands for (0 when it succeeded). */
int rfs_cio_xfer_error(const struct rfs_xfer *x);

void rfs_cio_read_start(struct rfs_cio_state *st);
void rfs_cio_read_xfer_done(struct rfs_cio_state *st, struct rfs_xfer *x);
void rfs_cio_write_start(struct rfs_cio_state *st);
void rfs_cio_write_xfer_done(struct rfs_cio_state *st, struct rfs_xfer *x);
/* An edge read of write st finished. */
void rfs_cio_write_edge_done(struct rfs_cio_state *st,
			     struct rfs_cio_job *edge);

#endif
