/*
 * download: whole-file download (inode -> local fd) over one chunk engine,
 * with progress callbacks. Each piece is received straight into a slot
 * buffer. A regular file is written by a writer thread with pwrite(), in
 * any order, so the disk writes overlap the network instead of stalling
 * it; anything else (pipe, terminal) gets ordered write()s from the
 * engine's thread.
 *
 * Slot states: FREE -> RUNNING (engine) -> WRITING (queued for or in the
 * writer) -> FREE, or in ordered mode RUNNING -> READY (waiting for its
 * turn) -> FREE. States and the writer queue are guarded by w.lock.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client-int.h"

/* Chunks described by one layout request while downloading: bounds the
 * reply (RFS_LAYOUT_MAX_CHUNKS) and the client's memory for huge files. */
#define DL_WINDOW_CHUNKS 4096
/* Bytes per GET. Small pieces stay in the CPU's caches from the receive
 * through the CRC check to the pwrite(): with 8 MiB ones each of those
 * passes went to memory and the client's CPU per GiB was twice as high
 * (docs/cli.md, "Speed of get"). */
#define DL_PIECE_BYTES (1u << 20)
/* Read pieces in flight per unit of --parallel when chunks are bigger than
 * a piece: two keep every connection busy while a piece is handed on. */
#define DL_PIECES_PER_PARALLEL 2
/* Slots beyond the engine's jobs for pieces waiting for the writer, so
 * the network keeps going while the disk catches up. */
#define DL_WRITE_BACKLOG 8

static const struct rfs_transfer_opts no_opts;

enum dl_state { DL_FREE = 0, DL_RUNNING, DL_READY, DL_WRITING };

struct dl_slot {
	struct rfs_cio_job job;
	struct rfs_chunk chunk; /* a copy: the layout window moves on */
	char *buf;		/* piece bytes, allocated on first use */
	uint64_t pos;		/* file offset of buf */
	uint64_t seq;		/* order of the piece in the file */
	enum dl_state state;
};

struct dl_writer {
	pthread_t thread;
	pthread_mutex_t lock;	/* slot states, the queue, stop, err */
	pthread_cond_t cond;	/* work queued, slot freed, stop */
	struct dl_slot **queue; /* FIFO ring of n_slots entries */
	size_t head;
	size_t count;
	bool stop;
	int err;
};

struct dl_run {
	struct rfs_client *c;
	const struct rfs_transfer_opts *o;
	struct rfs_transfer_stats *stats;
	struct dl_slot *slots;
	unsigned int n_slots;
	unsigned int running; /* slots in DL_RUNNING */
	uint64_t ino;
	int fd;
	bool positional; /* pwrite at base + pos; else ordered write() */
	off_t base;
	uint64_t old_size; /* the fd's size before: holes past it are skipped */
	struct rfs_layout layout;
	uint64_t win_end; /* file offset the layout window covers up to */
	uint64_t size;
	uint64_t chunk_size;
	uint64_t piece;
	uint64_t pos;
	uint64_t next_seq;
	uint64_t write_seq;
	int err; /* engine side; the writer's is w.err */
	struct dl_writer w;
};

/* write() or pwrite() (off >= 0) all of buf. Returns 0 or -errno. */
static int write_full(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n =
		    off >= 0 ? pwrite(fd, buf, len, off) : write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

/* The writer thread: pwrite queued pieces until told to stop. */
static void *dl_writer_main(void *arg)
{
	struct dl_run *r = arg;
	struct dl_writer *w = &r->w;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct dl_slot *s;
		bool skip;
		int rc = 0;

		while (w->count == 0 && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->count == 0)
			break;
		s = w->queue[w->head];
		w->head = (w->head + 1) % r->n_slots;
		w->count--;
		skip = w->err != 0; /* after a failure, only drain */
		pthread_mutex_unlock(&w->lock);
		if (!skip)
			rc = write_full(r->fd, s->buf, s->job.len,
					r->base + (off_t)s->pos);
		pthread_mutex_lock(&w->lock);
		if (rc < 0 && w->err == 0)
			w->err = rc;
		s->state = DL_FREE;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Fetch the layout window that starts at the chunk holding pos. */
static int dl_window(struct dl_run *r, uint64_t pos)
{
	uint64_t start = pos - pos % r->chunk_size;
	uint64_t span = r->chunk_size * DL_WINDOW_CHUNKS;
	int rc;

	rfs_proto_layout_release(&r->layout);
	rc = rfs_client_layout(r->c, r->ino, start, span, &r->layout);
	if (rc < 0)
		return rc;
	if (r->layout.chunk_size != r->chunk_size)
		return -ESTALE; /* cannot happen on one file system */
	r->win_end = start + span;
	return 0;
}

static void dl_progress(struct dl_run *r, uint64_t len)
{
	r->stats->bytes += len;
	if (r->o->progress)
		r->o->progress(r->stats->bytes, r->size, r->o->progress_arg);
}

/*
 * Advance over pieces that need no transfer: holes past the fd's old end
 * in positional mode (ftruncate makes them). Returns the chunk of the
 * piece at r->pos (NULL = hole) with its length, or NULL with r->err set
 * or r->pos at the end.
 */
static const struct rfs_chunk *dl_skip_holes(struct dl_run *r, uint64_t *len)
{
	for (;;) {
		const struct rfs_chunk *ch;
		int rc = r->pos >= r->win_end ? dl_window(r, r->pos) : 0;

		if (rc < 0) {
			r->err = rc;
			return NULL;
		}
		*len = rfs_range_piece_len(r->pos, r->size, r->chunk_size,
					   r->piece);
		ch = rfs_layout_find(&r->layout, r->pos / r->chunk_size);
		if (!r->positional ||
		    (ch && r->pos % r->chunk_size < ch->length) ||
		    (uint64_t)r->base + r->pos < r->old_size)
			return ch;
		r->pos += *len;
		dl_progress(r, *len);
		if (r->pos >= r->size)
			return NULL;
	}
}

static struct dl_slot *free_dl_slot(struct dl_run *r)
{
	unsigned int i;

	for (i = 0; i < r->n_slots; i++)
		if (r->slots[i].state == DL_FREE)
			return &r->slots[i];
	return NULL;
}

/*
 * Take a free slot (marked RUNNING), or NULL. With nothing running and
 * every slot queued for the writer, wait for the writer to free one:
 * otherwise the engine would see no job and end the run.
 */
static struct dl_slot *dl_take_slot(struct dl_run *r)
{
	struct dl_slot *s = NULL;

	pthread_mutex_lock(&r->w.lock);
	while (r->err == 0 && r->w.err == 0 && r->pos < r->size) {
		s = free_dl_slot(r);
		if (s || r->running > 0 || !r->positional)
			break;
		pthread_cond_wait(&r->w.cond, &r->w.lock);
	}
	if (r->err == 0)
		r->err = r->w.err;
	if (r->err)
		s = NULL;
	if (s) {
		s->state = DL_RUNNING;
		r->running++;
	}
	pthread_mutex_unlock(&r->w.lock);
	return s;
}

/* Set a slot's state (and the running count) under the lock. */
static void dl_set_state(struct dl_run *r, struct dl_slot *s,
			 enum dl_state state)
{
	pthread_mutex_lock(&r->w.lock);
	if (s->state == DL_RUNNING)
		r->running--;
	s->state = state;
	pthread_mutex_unlock(&r->w.lock);
}

static struct rfs_cio_job *dl_next(void *arg)
{
	struct dl_run *r = arg;
	struct dl_slot *s = dl_take_slot(r);
	const struct rfs_chunk *ch;
	uint64_t len = 0;

	if (!s)
		return NULL;
	ch = dl_skip_holes(r, &len);
	if (!s->buf && !r->err && r->pos < r->size) {
		s->buf = malloc(r->piece);
		r->err = s->buf ? 0 : -ENOMEM;
	}
	if (r->err || r->pos >= r->size) {
		dl_set_state(r, s, DL_FREE);
		return NULL;
	}
	memset(&s->job, 0, sizeof(s->job));
	if (ch) {
		s->chunk = *ch;
		s->job.chunk = &s->chunk;
	}
	s->job.kind = RFS_CIO_READ;
	s->job.offset = r->pos % r->chunk_size;
	s->job.buf = s->buf;
	s->job.len = (size_t)len;
	s->job.user = s;
	s->pos = r->pos;
	s->seq = r->next_seq++;
	r->pos += len;
	return &s->job;
}

/* Ordered mode: write out every finished piece whose turn it is. */
static void dl_flush_ordered(struct dl_run *r)
{
	bool progressed = true;

	while (progressed && r->err == 0) {
		unsigned int i;

		progressed = false;
		for (i = 0; i < r->n_slots; i++) {
			struct dl_slot *s = &r->slots[i];

			if (s->state != DL_READY || s->seq != r->write_seq)
				continue;
			r->err = write_full(r->fd, s->buf, s->job.len, -1);
			dl_set_state(r, s, DL_FREE);
			r->write_seq++;
			dl_progress(r, s->job.len);
			progressed = true;
		}
	}
}

/* Positional mode: hand a received piece to the writer thread. */
static void dl_queue_write(struct dl_run *r, struct dl_slot *s)
{
	struct dl_writer *w = &r->w;

	pthread_mutex_lock(&w->lock);
	r->running--;
	s->state = DL_WRITING;
	w->queue[(w->head + w->count) % r->n_slots] = s;
	w->count++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void dl_done(struct rfs_cio_job *job, void *arg)
{
	struct dl_run *r = arg;
	struct dl_slot *s = job->user;

	if (job->result < 0) {
		dl_set_state(r, s, DL_FREE);
		if (r->err == 0)
			r->err = job->result;
		return;
	}
	r->stats->chunks++;
	if (!r->positional) {
		dl_set_state(r, s, DL_READY);
		dl_flush_ordered(r);
		return;
	}
	dl_queue_write(r, s);
	dl_progress(r, job->len);
}

/* Decide how to write fd: positional for regular files not in append mode. */
static void dl_probe_fd(struct dl_run *r)
{
	struct stat st;
	int fl = fcntl(r->fd, F_GETFL);
	off_t base = lseek(r->fd, 0, SEEK_CUR);

	r->positional = fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) &&
			fl >= 0 && !(fl & O_APPEND) && base >= 0;
	if (r->positional) {
		r->base = base;
		r->old_size = (uint64_t)st.st_size;
	}
}

/* Positional mode: give the file its full size, move past the data. */
static int dl_finish_fd(struct dl_run *r)
{
	uint64_t end = (uint64_t)r->base + r->size;

	if (!r->positional)
		return 0;
	if (end > r->old_size && ftruncate(r->fd, (off_t)end) < 0)
		return -errno;
	if (lseek(r->fd, (off_t)end, SEEK_SET) < 0)
		return -errno;
	return 0;
}

/* Tell the writer to finish what is queued and wait for it. */
static void dl_writer_stop(struct dl_run *r)
{
	pthread_mutex_lock(&r->w.lock);
	r->w.stop = true;
	pthread_cond_broadcast(&r->w.cond);
	pthread_mutex_unlock(&r->w.lock);
	pthread_join(r->w.thread, NULL);
}

/* Run the engine (and in positional mode the writer) over every piece. */
static int dl_run_engine(struct dl_run *r, struct rfs_cio *io)
{
	int rc = 0;

	if (r->positional) {
		rc = -pthread_create(&r->w.thread, NULL, dl_writer_main, r);
		if (rc < 0)
			return rc;
	}
	rc = rfs_cio_run(io, dl_next, dl_done, r);
	if (r->positional)
		dl_writer_stop(r);
	if (rc == 0)
		rc = r->err;
	if (rc == 0)
		rc = r->w.err; /* the writer has been joined */
	return rc;
}

static int download_run(struct dl_run *r)
{
	struct rfs_cio *io = NULL;
	unsigned int i;
	int rc = -ENOMEM;

	if (pthread_mutex_init(&r->w.lock, NULL) != 0)
		return -ENOMEM;
	if (pthread_cond_init(&r->w.cond, NULL) != 0)
		goto out_destroy_lock;
	r->slots = calloc(r->n_slots, sizeof(*r->slots));
	r->w.queue = calloc(r->n_slots, sizeof(*r->w.queue));
	io = rfs_cio_new(r->c,
			 r->n_slots - (r->positional ? DL_WRITE_BACKLOG : 0));
	if (!io || !r->slots || !r->w.queue)
		goto out_free;
	rfs_cio_set_fault_cb(io, r->o->fault, r->o->fault_arg);
	rc = dl_run_engine(r, io);
	if (rc == 0)
		rc = dl_finish_fd(r);
out_free:
	for (i = 0; r->slots && i < r->n_slots; i++)
		free(r->slots[i].buf);
	free(r->slots);
	free(r->w.queue);
	rfs_cio_free(io);
	pthread_cond_destroy(&r->w.cond);
out_destroy_lock:
	pthread_mutex_destroy(&r->w.lock);
	return rc;
}

int rfs_transfer_download(struct rfs_client *c, uint64_t ino, int fd,
			  const struct rfs_transfer_opts *o,
			  struct rfs_transfer_stats *stats)
{
	struct rfs_transfer_stats local;
	struct dl_run r = {.c = c, .ino = ino, .fd = fd};
	unsigned int per;
	int rc;

	r.o = o ? o : &no_opts;
	r.stats = stats ? stats : &local;
	memset(r.stats, 0, sizeof(*r.stats));
	dl_probe_fd(&r);
	rc = rfs_client_chunk_size(c, &r.chunk_size);
	if (rc == 0)
		rc = dl_window(&r, 0);
	if (rc < 0)
		goto out_release;
	r.size = r.layout.size;
	r.piece = r.chunk_size < DL_PIECE_BYTES ? r.chunk_size : DL_PIECE_BYTES;
	per = r.chunk_size > r.piece ? DL_PIECES_PER_PARALLEL : 1;
	r.n_slots = rfs_transfer_parallel(r.o) * per +
		    (r.positional ? DL_WRITE_BACKLOG : 0);
	if (r.o->progress)
		r.o->progress(0, r.size, r.o->progress_arg);
	rc = download_run(&r);
out_release:
	rfs_proto_layout_release(&r.layout);
	return rc;
}
