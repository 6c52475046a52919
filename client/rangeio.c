/*
 * rangeio: synchronous file-range reads and writes on top of the chunk
 * engine. The range is cut at chunk boundaries (and into read pieces);
 * the pieces run in parallel; the first error wins.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <stdlib.h>

#include "client/chunkio-int.h"

struct range_run {
	struct rfs_cio_job *jobs; /* one slot per job the engine may run */
	bool *busy;
	unsigned int n_slots;
	const struct rfs_layout *layout; /* read */
	uint64_t ino;			 /* write */
	uint64_t chunk_size;
	uint64_t piece;
	uint64_t start; /* file offset of buf[0] */
	uint64_t pos;	/* next byte to hand out */
	uint64_t end;
	char *buf;
	bool write;
	const struct rfs_cio_wopts *wopts; /* write: NULL for none */
	int err;
};

static struct rfs_cio_job *range_next(void *arg)
{
	struct range_run *r = arg;
	struct rfs_cio_job *job;
	unsigned int i;

	if (r->err < 0 || r->pos >= r->end)
		return NULL;
	for (i = 0; i < r->n_slots && r->busy[i]; i++)
		;
	if (i == r->n_slots)
		return NULL;
	job = &r->jobs[i];
	r->busy[i] = true;
	job->kind = r->write ? RFS_CIO_WRITE : RFS_CIO_READ;
	job->index = r->pos / r->chunk_size;
	job->offset = r->pos % r->chunk_size;
	job->len = rfs_range_piece_len(r->pos, r->end, r->chunk_size, r->piece);
	job->buf = r->buf + (r->pos - r->start);
	job->ino = r->ino;
	job->chunk = r->write ? NULL : rfs_layout_find(r->layout, job->index);
	job->user = &r->busy[i];
	job->no_sync = r->wopts && r->wopts->no_sync;
	job->unsynced = r->wopts ? r->wopts->unsynced : NULL;
	job->lease = NULL;
	/* a write within one chunk is one job: its commit sets them */
	job->setattr = NULL;
	if (r->write && r->wopts &&
	    r->start / r->chunk_size == (r->end - 1) / r->chunk_size)
		job->setattr = r->wopts->setattr;
	if (r->write && r->wopts && r->wopts->lease &&
	    r->wopts->lease->n_replicas > 0 && r->wopts->lease->ino == r->ino &&
	    r->wopts->lease->index == job->index)
		job->lease = r->wopts->lease;
	r->pos += job->len;
	return job;
}

static void range_done(struct rfs_cio_job *job, void *arg)
{
	struct range_run *r = arg;
	bool *busy = job->user;

	if (job->result < 0 && r->err == 0)
		r->err = job->result;
	/* commits run one after another: the last one's is the newest */
	if (r->write && job->result == 0 && job->attr.ino && r->wopts &&
	    r->wopts->attr)
		*r->wopts->attr = job->attr;
	*busy = false;
}

static int range_run(struct rfs_cio *io, struct range_run *r)
{
	int rc;

	r->n_slots = io->max_jobs;
	r->jobs = calloc(r->n_slots, sizeof(*r->jobs));
	r->busy = calloc(r->n_slots, sizeof(*r->busy));
	if (!r->jobs || !r->busy) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = rfs_cio_run(io, range_next, range_done, r);
	if (rc == 0)
		rc = r->err;
out_free:
	free(r->busy);
	free(r->jobs);
	return rc;
}

ssize_t rfs_cio_pread(struct rfs_cio *io, const struct rfs_layout *layout,
		      uint64_t offset, void *buf, size_t len)
{
	struct range_run r = {.layout = layout,
			      .chunk_size = layout->chunk_size,
			      .piece = RFS_CIO_READ_PIECE_BYTES,
			      .start = offset,
			      .pos = offset,
			      .buf = buf};
	int rc;

	if (offset >= layout->size || len == 0)
		return 0;
	if (layout->chunk_size == 0)
		return -EINVAL;
	r.end = layout->size - offset < len ? layout->size : offset + len;
	rc = range_run(io, &r);
	return rc < 0 ? rc : (ssize_t)(r.end - offset);
}

ssize_t rfs_cio_pwrite(struct rfs_cio *io, uint64_t ino, uint64_t chunk_size,
		       uint64_t offset, const void *buf, size_t len)
{
	return rfs_cio_pwrite_opts(io, ino, chunk_size, offset, buf, len, NULL);
}

ssize_t rfs_cio_pwrite_opts(struct rfs_cio *io, uint64_t ino,
			    uint64_t chunk_size, uint64_t offset,
			    const void *buf, size_t len,
			    const struct rfs_cio_wopts *o)
{
	struct range_run r = {.ino = ino,
			      .chunk_size = chunk_size,
			      .piece = chunk_size,
			      .start = offset,
			      .pos = offset,
			      .end = offset + len,
			      .buf = (char *)buf,
			      .write = true,
			      .wopts = o};
	int rc;

	if (o && o->attr)
		o->attr->ino = 0;
	if (chunk_size == 0 || (o && o->no_sync && !o->unsynced))
		return -EINVAL;
	if (len == 0)
		return 0;
	rc = range_run(io, &r);
	return rc < 0 ? rc : (ssize_t)len;
}
