/*
 * upload: whole-file upload (local fd -> inode) over one chunk engine,
 * with progress callbacks. Each chunk is read straight into the buffer its
 * PUTs send from; up to --parallel chunks are in flight.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client-int.h"

static const struct rfs_transfer_opts no_opts;

unsigned int rfs_transfer_parallel(const struct rfs_transfer_opts *o)
{
	if (o->parallel == 0)
		return RFS_CLIENT_PARALLEL_DEFAULT;
	return o->parallel > RFS_CLIENT_PARALLEL_MAX ? RFS_CLIENT_PARALLEL_MAX
						     : o->parallel;
}

/* read() until len bytes or EOF. Returns the byte count or -errno. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* --- upload ------------------------------------------------------------ */

struct up_slot {
	struct rfs_cio_job job;
	char *buf; /* chunk_size bytes, allocated on first use */
	bool busy;
};

struct up_run {
	const struct rfs_transfer_opts *o;
	struct rfs_transfer_stats *stats;
	struct up_slot *slots;
	unsigned int n_slots;
	int fd;
	uint64_t ino;
	uint64_t chunk_size;
	uint64_t next_index;
	uint64_t total;
	bool eof;
	int err;
};

static struct up_slot *free_up_slot(struct up_run *r)
{
	unsigned int i;

	for (i = 0; i < r->n_slots; i++)
		if (!r->slots[i].busy)
			return &r->slots[i];
	return NULL;
}

static struct rfs_cio_job *up_next(void *arg)
{
	struct up_run *r = arg;
	struct up_slot *s = r->err || r->eof ? NULL : free_up_slot(r);
	ssize_t got;

	if (!s)
		return NULL;
	if (!s->buf)
		s->buf = malloc(r->chunk_size);
	if (!s->buf) {
		r->err = -ENOMEM;
		return NULL;
	}
	got = read_full(r->fd, s->buf, r->chunk_size);
	if (got < 0)
		r->err = (int)got;
	if (got < (ssize_t)r->chunk_size)
		r->eof = true;
	if (got <= 0)
		return NULL;
	memset(&s->job, 0, sizeof(s->job));
	s->job.kind = RFS_CIO_WRITE;
	s->job.ino = r->ino;
	s->job.index = r->next_index++;
	s->job.buf = s->buf;
	s->job.len = (size_t)got;
	s->job.user = s;
	s->busy = true;
	return &s->job;
}

static void up_done(struct rfs_cio_job *job, void *arg)
{
	struct up_run *r = arg;
	struct up_slot *s = job->user;
	struct rfs_transfer_stats *st = r->stats;

	s->busy = false;
	if (job->result < 0) {
		if (r->err == 0)
			r->err = job->result;
		return;
	}
	st->bytes += job->len;
	st->chunks++;
	if (job->n_acked < job->n_targets)
		st->under_replicated++;
	if (st->chunks == 1 || job->n_acked < st->min_acked)
		st->min_acked = job->n_acked;
	if (r->o->progress)
		r->o->progress(st->bytes, r->total, r->o->progress_arg);
}

static int upload_run(struct rfs_client *c, struct up_run *r)
{
	struct rfs_cio *io = rfs_cio_new(c, r->n_slots);
	unsigned int i;
	int rc;

	r->slots = calloc(r->n_slots, sizeof(*r->slots));
	if (!io || !r->slots) {
		rc = -ENOMEM;
		goto out_free;
	}
	rfs_cio_set_fault_cb(io, r->o->fault, r->o->fault_arg);
	rc = rfs_cio_run(io, up_next, up_done, r);
	if (rc == 0)
		rc = r->err;
out_free:
	for (i = 0; r->slots && i < r->n_slots; i++)
		free(r->slots[i].buf);
	free(r->slots);
	rfs_cio_free(io);
	return rc;
}

int rfs_transfer_upload(struct rfs_client *c, int fd, uint64_t ino,
			uint64_t size_hint, const struct rfs_transfer_opts *o,
			struct rfs_transfer_stats *stats)
{
	struct rfs_transfer_stats local;
	struct up_run r = {.fd = fd, .ino = ino, .total = size_hint};
	int rc;

	r.o = o ? o : &no_opts;
	r.stats = stats ? stats : &local;
	memset(r.stats, 0, sizeof(*r.stats));
	r.n_slots = rfs_transfer_parallel(r.o);
	rc = rfs_client_chunk_size(c, &r.chunk_size);
	if (rc < 0)
		return rc;
	if (r.o->progress)
		r.o->progress(0, size_hint, r.o->progress_arg);
	return upload_run(c, &r);
}
