/*
 * file_read: the read side of the FUSE client's files: layout windows,
 * reads, and read-ahead. A read near the end of the previous one counts as
 * sequential; from the second in a row the prefetch threads fetch the
 * next ra_window() bytes (-o readahead; by default none once the kernel's
 * own read-ahead is raised) in units (aligned pieces of at most one
 * chunk), many at once from the chunk servers, and reads they cover are
 * answered straight from them instead of waiting for a round trip. Units
 * are dropped by any write or truncate, by a jump elsewhere, by the last
 * close, and once the reader is past them.
 */
#include <config.h>

#include "fuse-client/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "common/log.h"
#include "fuse-client/bcache.h"
#include "fuse-client/file_int.h"

#define MOUNTINFO     "/proc/self/mountinfo"
#define BDI_RA_FORMAT "/sys/class/bdi/%s/read_ahead_kb"
#define KIB	      1024u

/* One prefetch thread with its own chunk engine. */
struct fc_pf_thread {
	struct fc_prefetch *pf;
	struct rfs_cio *io;
	pthread_t thread;
	bool started;
};

/* The prefetch threads share one queue; several, so that receiving and
 * checking the bytes is spread over the cores. */
struct fc_prefetch {
	struct fc_files *fs;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct fc_unit *head; /* queued, not started yet */
	struct fc_unit *tail;
	pthread_mutex_t pool_lock; /* a leaf lock */
	void *pool;		   /* free unit buffers, linked through
				    * their first bytes */
	struct fc_pf_thread threads[FC_RA_THREADS];
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* --- layout windows ------------------------------------------------ */
struct fc_layout *fc_layout_ref(struct fc_layout *lay)
{
	if (lay)
		atomic_fetch_add(&lay->refs, 1);
	return lay;
}

void fc_layout_unref(struct fc_files *fs, struct fc_layout *lay)
{
	if (!lay || atomic_fetch_sub(&lay->refs, 1) != 1)
		return;
	atomic_fetch_sub(&fs->layout_chunks, lay->l.n_chunks);
	rfs_proto_layout_release(&lay->l);
	free(lay);
}

void fc_file_drop_layout(struct fc_files *fs, struct fc_file *f)
{
	fc_layout_unref(fs, f->lay);
	f->lay = NULL;
}

/*
 * f->lock held: make f->lay cover the chunks of bytes [off, end), fetching
 * a window of FC_LAYOUT_WINDOW_CHUNKS chunks (or more) from off's chunk
 * when it does not. Returns 0 or the metaserver's error.
 */
static int file_window(struct fc_files *fs, struct fc_file *f, uint64_t off,
		       uint64_t end)
{
	uint64_t cs = fs->chunk_size;
	uint64_t first = off / cs;
	uint64_t last = end > off ? (end - 1) / cs : first;
	uint64_t n = last - first + 1;
	struct fc_layout *lay;
	int rc;

	if (f->lay && first >= f->lay->first && last < f->lay->end)
		return 0;
	if (n < FC_LAYOUT_WINDOW_CHUNKS)
		n = FC_LAYOUT_WINDOW_CHUNKS;
	lay = calloc(1, sizeof(*lay));
	if (!lay)
		return -ENOMEM;
	rc = rfs_client_layout(fs->c, f->ino, first * cs, n * cs, &lay->l);
	if (rc < 0) {
		free(lay);
		return rc;
	}
	atomic_init(&lay->refs, 1);
	lay->first = first;
	lay->end = first + n;
	/* a reply cut at the server's limit covers up to its last chunk */
	if (lay->l.n_chunks >= RFS_LAYOUT_MAX_CHUNKS)
		lay->end = lay->l.chunks[lay->l.n_chunks - 1].index + 1;
	atomic_fetch_add(&fs->layout_chunks, lay->l.n_chunks);
	fc_file_drop_layout(fs, f);
	f->lay = lay;
	return 0;
}

/* --- units ---------------------------------------------------------------- */
/* A unit buffer (fs->ra_unit bytes): reused ones first, so that the
 * memory is not faulted in again for every unit. */
static char *buf_get(struct fc_prefetch *pf)
{
	char *b;

	pthread_mutex_lock(&pf->pool_lock);
	b = pf->pool;
	if (b)
		memcpy(&pf->pool, b, sizeof(void *));
	pthread_mutex_unlock(&pf->pool_lock);
	return b ? b : malloc(pf->fs->ra_unit);
}

static void buf_put(struct fc_prefetch *pf, char *b)
{
	pthread_mutex_lock(&pf->pool_lock);
	memcpy(b, &pf->pool, sizeof(void *));
	pf->pool = b;
	pthread_mutex_unlock(&pf->pool_lock);
}

static void unit_free(struct fc_files *fs, struct fc_unit *u)
{
	atomic_fetch_sub(&fs->ra_bytes, u->len);
	fc_layout_unref(fs, u->lay);
	if (u->buf)
		buf_put(atomic_load(&fs->pf), u->buf);
	free(u);
}

void fc_units_free(struct fc_files *fs, struct fc_unit *list)
{
	while (list) {
		struct fc_unit *next = list->next;

		unit_free(fs, list);
		list = next;
	}
}

/* f->lock held: detach u from f; the prefetcher frees it if it still has
 * it, the last reader replying from it if there is one, else it goes onto
 * *gone. */
static void unit_drop(struct fc_file *f, struct fc_unit *u,
		      struct fc_unit **gone)
{
	struct fc_unit **pp = &f->units;

	while (*pp != u)
		pp = &(*pp)->next;
	*pp = u->next;
	f->n_units--;
	if (u->state == FC_UNIT_FETCHING) {
		/* readers waiting for it look again (and read themselves) */
		pthread_cond_broadcast(&f->cond);
		atomic_store(&u->stale, true); /* last touch */
		return;
	}
	if (u->pins > 0) {
		u->dropped = true;
		return;
	}
	u->next = *gone;
	*gone = u;
}

void fc_file_drop_units(struct fc_file *f, struct fc_unit **gone)
{
	while (f->units)
		unit_drop(f, f->units, gone);
	f->ra_seq = 0;
}

/* f->lock held: the unit holding byte pos, or NULL. */
static struct fc_unit *unit_at(const struct fc_file *f, uint64_t pos)
{
	struct fc_unit *u = f->units;

	while (u && !(pos >= u->off && pos < u->off + u->len))
		u = u->next;
	return u;
}

static void pf_push(struct fc_prefetch *pf, struct fc_unit *u)
{
	pthread_mutex_lock(&pf->lock);
	if (pf->tail)
		pf->tail->qnext = u;
	else
		pf->head = u;
	pf->tail = u;
	pthread_cond_signal(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
}

/* f->lock held: a new unit for [off, off + len) of f->lay's file, handed
 * to the prefetcher. Returns false when the budget is spent (or OOM). */
static bool unit_start(struct fc_files *fs, struct fc_file *f, uint64_t off,
		       size_t len)
{
	struct fc_prefetch *pf = atomic_load(&fs->pf);
	struct fc_unit *u;
	struct fc_unit **pp = &f->units;

	if (!pf)
		return false;
	if (atomic_fetch_add(&fs->ra_bytes, len) + len > FC_RA_BUDGET_BYTES) {
		atomic_fetch_sub(&fs->ra_bytes, len);
		return false;
	}
	u = calloc(1, sizeof(*u));
	if (u)
		u->buf = buf_get(pf);
	if (!u || !u->buf) {
		free(u);
		atomic_fetch_sub(&fs->ra_bytes, len);
		return false;
	}
	u->fs = fs;
	u->f = f;
	u->lay = fc_layout_ref(f->lay);
	u->off = off;
	u->len = len;
	u->job.kind = RFS_CIO_READ;
	u->job.chunk = rfs_layout_find(&u->lay->l, off / fs->chunk_size);
	u->job.offset = off % fs->chunk_size;
	u->job.buf = u->buf;
	u->job.len = len;
	u->job.user = u;
	while (*pp && (*pp)->off < off)
		pp = &(*pp)->next;
	u->next = *pp;
	*pp = u;
	f->n_units++;
	atomic_fetch_add(&f->ra_inflight, 1);
	pf_push(pf, u);
	return true;
}

/* --- read-ahead policy (f->lock held) -------------------------------- */
/* Bytes the prefetch threads read ahead now (-o readahead, or auto). */
static uint64_t ra_window(struct fc_files *fs)
{
	if (fs->ra_window != FC_RA_AUTO)
		return fs->ra_window;
	return atomic_load(&fs->kernel_ra) >= FC_RA_KERNEL_BYTES
		   ? 0
		   : FC_RA_WINDOW_BYTES;
}

/* Note a read of [off, off + len): after a jump drop all units, else
 * those far behind it (a unit normally goes once all its bytes were
 * served); after two sequential reads start units up to
 * ra_window() bytes past it (within the file). "Near" the previous reads
 * and "far behind" are generous: the kernel's own read-ahead sends
 * several requests at once, which worker threads serve in any order. */
static void ra_track(struct fc_files *fs, struct fc_file *f, uint64_t off,
		     size_t len, struct fc_unit **gone)
{
	uint64_t unit = fs->ra_unit;
	uint64_t window = ra_window(fs);
	uint64_t end = off + len;
	bool near = off <= f->ra_next + 2 * FC_RA_WINDOW_BYTES &&
		    off + 2 * FC_RA_WINDOW_BYTES >= f->ra_next;
	uint64_t pos;
	uint64_t stop;

	if (!near)
		fc_file_drop_units(f, gone);
	f->ra_seq = near ? f->ra_seq + 1 : 0;
	f->ra_next = near && f->ra_next > end ? f->ra_next : end;
	for (struct fc_unit *u = f->units, *next; u; u = next) {
		next = u->next;
		if (u->off + u->len + 2 * FC_RA_WINDOW_BYTES <= off)
			unit_drop(f, u, gone);
	}
	if (f->ra_seq < 2 || !f->lay || window == 0)
		return;
	/* past what the kernel's own read-ahead asks for already */
	pos = end + atomic_load(&fs->kernel_ra);
	stop = min_u64(pos + window, f->lay->l.size);
	stop = min_u64(stop, f->lay->end * fs->chunk_size);
	for (pos -= pos % unit; pos < stop; pos += unit) {
		if (!unit_at(f, pos) &&
		    !unit_start(fs, f, pos, (size_t)min_u64(unit, stop - pos)))
			break;
	}
}

/* Most pieces a read is handed to its sink in (units of at least 64 KiB
 * in a read of at most a few MiB); a longer list is read the slow way. */
#define READ_IOV_MAX 64

/* f->lock held: wait until the units holding [off, end) are fetched.
 * Returns false when a byte is in no unit or a failed one. */
static bool ra_wait(struct fc_file *f, uint64_t off, uint64_t end)
{
	uint64_t pos;
	bool wait;

	do {
		wait = false;
		for (pos = off; pos < end && !wait;) {
			struct fc_unit *u = unit_at(f, pos);

			if (!u || u->state == FC_UNIT_FAILED)
				return false;
			wait = u->state == FC_UNIT_FETCHING;
			pos = u->off + u->len;
		}
		if (wait)
			pthread_cond_wait(&f->cond, &f->lock);
	} while (wait);
	return true;
}

/*
 * f->lock held (released while the sink runs): hand [off, end) to sink
 * straight from the units' buffers, waiting for units still being
 * fetched. Returns true with *n (end - off, or the sink's error) when
 * units held it all; false when a byte is in no unit or a failed one (the
 * caller reads it itself).
 */
static bool ra_serve(struct fc_file *f, uint64_t off, uint64_t end,
		     fc_read_sink sink, void *arg, ssize_t *n,
		     struct fc_unit **gone)
{
	struct fc_unit *used[READ_IOV_MAX];
	struct iovec iov[READ_IOV_MAX];
	uint64_t pos;
	int cnt = 0;

	if (!ra_wait(f, off, end))
		return false;
	for (pos = off; pos < end; cnt++) {
		struct fc_unit *u = unit_at(f, pos);

		if (cnt == READ_IOV_MAX)
			return false;
		used[cnt] = u;
		iov[cnt].iov_base = u->buf + (pos - u->off);
		iov[cnt].iov_len = min_u64(end, u->off + u->len) - pos;
		pos += iov[cnt].iov_len;
	}
	/* pinned: other readers reply in parallel, nobody frees them */
	for (int i = 0; i < cnt; i++)
		used[i]->pins++;
	pthread_mutex_unlock(&f->lock);
	*n = sink(arg, iov, cnt);
	pthread_mutex_lock(&f->lock);
	if (*n == 0)
		*n = (ssize_t)(end - off);
	for (int i = 0; i < cnt; i++) {
		struct fc_unit *u = used[i];

		u->served += iov[i].iov_len;
		if (--u->pins > 0)
			continue;
		if (u->dropped) {
			u->next = *gone;
			*gone = u;
		} else if (u->served >= u->len) {
			unit_drop(f, u, gone); /* all of it was read */
		}
	}
	return true;
}

/* --- reads ------------------------------------------------------------------ */
/* The calling thread's read buffer of at least len bytes (kept for its
 * next reads, so its pages are not faulted in again); NULL on OOM. */
static char *thread_buf(struct fc_files *fs, size_t len)
{
	struct fc_rbuf *b = pthread_getspecific(fs->rbuf_key);

	if (b && b->cap >= len)
		return b->p;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b || pthread_setspecific(fs->rbuf_key, b) != 0) {
			free(b);
			return NULL;
		}
	}
	free(b->p);
	b->p = malloc(len ? len : 1);
	b->cap = b->p ? len : 0;
	return b->p;
}

/*
 * f->lock held: commit dirty data, track the read, hand it to the sink
 * from units when they cover it (*served, *n), else hand out the layout to
 * read it with (*lay, a reference).
 */
static int read_prepare(struct fc_files *fs, struct fc_file *f, size_t len,
			uint64_t off, fc_read_sink sink, void *arg,
			bool *served, ssize_t *n, struct fc_layout **lay,
			struct fc_unit **gone)
{
	struct iovec none = {0};
	uint64_t end;
	int rc;

	*served = true;
	rc = fc_file_commit_all(fs, f);
	if (rc == 0)
		rc = file_window(fs, f, off,
				 off + len + atomic_load(&fs->kernel_ra) +
				     ra_window(fs));
	if (rc < 0)
		return rc;
	ra_track(fs, f, off, len, gone);
	end = min_u64(off + len, f->lay->l.size);
	if (off >= end) {
		*n = sink(arg, &none, 0);
		return 0;
	}
	if (f->units && ra_serve(f, off, end, sink, arg, n, gone))
		return 0;
	*served = false;
	/* waiting for units may have let a writer drop the window */
	rc = file_window(fs, f, off, off + len);
	if (rc == 0)
		*lay = fc_layout_ref(f->lay);
	return rc;
}

/* A read through lay failed: a chunk may have been replaced since; a
 * fresh window (once). Returns the new reference in *lay. */
static int read_refresh(struct fc_files *fs, struct fc_file *f, uint64_t off,
			size_t len, struct fc_layout **lay)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	if (f->lay == *lay)
		fc_file_drop_layout(fs, f);
	rc = file_window(fs, f, off, off + len);
	fc_layout_unref(fs, *lay);
	*lay = rc == 0 ? fc_layout_ref(f->lay) : NULL;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/*
 * A small read inside one block of a chunk's data: answered from the
 * block cache, or the whole block is fetched (and verified) into the
 * thread's buffer and kept there. Returns the bytes handed to the sink or
 * the sink's error, or -EAGAIN when the read does not qualify or the
 * fetch failed (the caller then reads it the usual way).
 */
static ssize_t read_small(struct fc_files *fs, struct rfs_cio *io,
			  const struct rfs_layout *l, size_t len, uint64_t off,
			  fc_read_sink sink, void *arg)
{
	const uint64_t cs = l->chunk_size;
	const struct rfs_chunk *ch;
	struct fc_bkey k = {0};
	uint64_t coff, bstart;
	struct iovec iov;
	size_t blen;
	char *buf;
	int rc;

	if (!fs->bcache || len == 0 || len >= RFS_CRC_BLOCK_BYTES || cs == 0)
		return -EAGAIN;
	ch = rfs_layout_find(l, off / cs);
	coff = off % cs;
	bstart = coff - coff % RFS_CRC_BLOCK_BYTES;
	if (!ch || coff + len > ch->length ||
	    coff + len > bstart + RFS_CRC_BLOCK_BYTES)
		return -EAGAIN;
	blen = (size_t)min_u64(RFS_CRC_BLOCK_BYTES, ch->length - bstart);
	buf = thread_buf(fs, blen);
	if (!buf)
		return -EAGAIN;
	k.chunk_id = ch->chunk_id;
	k.version = ch->version;
	k.length = ch->length;
	k.block = bstart / RFS_CRC_BLOCK_BYTES;
	iov.iov_base = buf;
	iov.iov_len = len;
	if (!fc_bcache_get(fs->bcache, &k, (size_t)(coff - bstart), len, buf)) {
		if (rfs_cio_pread(io, l, off - coff + bstart, buf, blen) !=
		    (ssize_t)blen)
			return -EAGAIN;
		fc_bcache_put(fs->bcache, &k, buf, blen);
		iov.iov_base = buf + (coff - bstart);
	}
	rc = sink(arg, &iov, 1);
	return rc < 0 ? rc : (ssize_t)len;
}

/* Not read ahead: fetch [off, off + len) now, without holding the file,
 * into the thread's buffer, and hand it to the sink. */
static ssize_t read_fetch(struct fc_files *fs, struct fc_file *f, size_t len,
			  uint64_t off, fc_read_sink sink, void *arg,
			  struct fc_layout **lay)
{
	struct rfs_cio *io = fc_files_cio(fs);
	struct iovec iov;
	char *buf;
	ssize_t n;
	int rc;

	if (!io)
		return -ENOMEM;
	n = read_small(fs, io, &(*lay)->l, len, off, sink, arg);
	if (n != -EAGAIN)
		return n;
	buf = thread_buf(fs, len);
	if (!buf)
		return -ENOMEM;
	n = rfs_cio_pread(io, &(*lay)->l, off, buf, len);
	if (n < 0) {
		rc = read_refresh(fs, f, off, len, lay);
		n = rc < 0 ? rc : rfs_cio_pread(io, &(*lay)->l, off, buf, len);
	}
	if (n < 0)
		return n;
	iov.iov_base = buf;
	iov.iov_len = (size_t)n;
	rc = sink(arg, &iov, 1);
	return rc < 0 ? rc : n;
}

ssize_t fc_file_read_to(struct fc_files *fs, struct fc_file *f, size_t len,
			uint64_t off, fc_read_sink sink, void *arg)
{
	struct fc_layout *lay = NULL;
	struct fc_unit *gone = NULL;
	bool served = false;
	ssize_t n = 0;
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = read_prepare(fs, f, len, off, sink, arg, &served, &n, &lay, &gone);
	pthread_mutex_unlock(&f->lock);
	fc_units_free(fs, gone);
	if (rc < 0 || served)
		return rc < 0 ? rc : n;
	n = read_fetch(fs, f, len, off, sink, arg, &lay);
	fc_layout_unref(fs, lay);
	return n;
}

/* A sink copying into a caller's buffer. */
static int copy_sink(void *arg, const struct iovec *iov, int n)
{
	char *p = arg;

	for (int i = 0; i < n; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	return 0;
}

ssize_t fc_file_read(struct fc_files *fs, struct fc_file *f, void *buf,
		     size_t len, uint64_t off)
{
	return fc_file_read_to(fs, f, len, off, copy_sink, buf);
}

/* --- the prefetch thread --------------------------------------------------- */
static struct rfs_cio_job *pf_next(void *arg)
{
	struct fc_prefetch *pf = arg;
	struct fc_unit *u = NULL;

	pthread_mutex_lock(&pf->lock);
	while (!pf->stop && pf->head) {
		u = pf->head;
		pf->head = u->qnext;
		if (!pf->head)
			pf->tail = NULL;
		if (!atomic_load(&u->stale))
			break;
		/* dropped before it started */
		atomic_fetch_sub(&u->f->ra_inflight, 1);
		unit_free(pf->fs, u);
		u = NULL;
	}
	pthread_mutex_unlock(&pf->lock);
	return u ? &u->job : NULL;
}

static void pf_done(struct rfs_cio_job *job, void *arg)
{
	struct fc_prefetch *pf = arg;
	struct fc_unit *u = job->user;
	struct fc_file *f = u->f;
	bool stale;

	pthread_mutex_lock(&f->lock);
	stale = atomic_load(&u->stale);
	if (!stale)
		u->state = job->result < 0 ? FC_UNIT_FAILED : FC_UNIT_READY;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	if (stale)
		unit_free(pf->fs, u);
	atomic_fetch_sub(&f->ra_inflight, 1); /* last touch of f */
}

static void *pf_main(void *arg)
{
	struct fc_pf_thread *t = arg;
	struct fc_prefetch *pf = t->pf;

	pthread_mutex_lock(&pf->lock);
	while (!pf->stop) {
		if (!pf->head) {
			pthread_cond_wait(&pf->wake, &pf->lock);
			continue;
		}
		pthread_mutex_unlock(&pf->lock);
		if (rfs_cio_run(t->io, pf_next, pf_done, pf) < 0)
			rfs_log_warn(NULL, "msg=\"read-ahead engine failed\"");
		pthread_mutex_lock(&pf->lock);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

/* Stop and free (the threads that started; units still queued). */
static void pf_free(struct fc_prefetch *pf)
{
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_broadcast(&pf->wake);
	pthread_mutex_unlock(&pf->lock);
	for (int i = 0; i < FC_RA_THREADS; i++) {
		if (pf->threads[i].started)
			pthread_join(pf->threads[i].thread, NULL);
		rfs_cio_free(pf->threads[i].io);
	}
	while (pf->head) {
		struct fc_unit *u = pf->head;

		pf->head = u->qnext;
		atomic_fetch_sub(&u->f->ra_inflight, 1);
		unit_free(pf->fs, u);
	}
	while (pf->pool) {
		void *b = pf->pool;

		memcpy(&pf->pool, b, sizeof(void *));
		free(b);
	}
	pthread_cond_destroy(&pf->wake);
	pthread_mutex_destroy(&pf->pool_lock);
	pthread_mutex_destroy(&pf->lock);
	free(pf);
}

int fc_files_set_readahead(struct fc_files *fs, uint64_t bytes)
{
	if (bytes > FC_RA_BUDGET_BYTES && bytes != FC_RA_AUTO)
		return -EINVAL;
	fs->ra_window = bytes;
	return 0;
}

int fc_prefetch_start(struct fc_files *fs)
{
	struct fc_prefetch *pf;
	int rc = 0;

	if (fs->ra_window == 0) {
		rfs_log_info(NULL, "msg=\"read-ahead threads off\" "
				   "readahead=0");
		return 0;
	}
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	pf->fs = fs;
	pthread_mutex_init(&pf->lock, NULL);
	pthread_mutex_init(&pf->pool_lock, NULL);
	pthread_cond_init(&pf->wake, NULL);
	for (int i = 0; rc == 0 && i < FC_RA_THREADS; i++) {
		struct fc_pf_thread *t = &pf->threads[i];

		t->pf = pf;
		t->io = rfs_cio_new(fs->c, FC_RA_JOBS / FC_RA_THREADS);
		rc = t->io ? -pthread_create(&t->thread, NULL, pf_main, t)
			   : -ENOMEM;
		t->started = rc == 0;
	}
	if (rc < 0) {
		pf_free(pf);
		return rc;
	}
	atomic_store(&fs->pf, pf);
	if (fs->ra_window == FC_RA_AUTO)
		rfs_log_info(NULL, "msg=\"read-ahead threads started\" "
				   "readahead=auto");
	else
		rfs_log_info(NULL,
			     "msg=\"read-ahead threads started\" "
			     "readahead=%" PRIu64,
			     fs->ra_window);
	return 0;
}

void fc_prefetch_stop(struct fc_files *fs)
{
	struct fc_prefetch *pf = atomic_load(&fs->pf);

	if (!pf)
		return;
	pf_free(pf);
	atomic_store(&fs->pf, NULL);
}

/* --- the kernel's read-ahead ----------------------------------------------- */
/* Undo mountinfo's octal escapes (\040 for a space...) in place. */
static void mountinfo_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* The "major:minor" of the mount at path, from mountinfo. */
static int mount_dev(const char *path, char *dev, size_t len)
{
	char line[2 * PATH_MAX];
	FILE *fp = fopen(MOUNTINFO, "re");
	int rc = -ENOENT;

	if (!fp)
		return -errno;
	while (rc < 0 && fgets(line, sizeof(line), fp)) {
		char *save = NULL;
		char *tok = strtok_r(line, " ", &save);
		char *fields[5];
		int i;

		for (i = 0; tok && i < 5; i++) {
			fields[i] = tok;
			tok = strtok_r(NULL, " ", &save);
		}
		if (i < 5)
			continue;
		mountinfo_unescape(fields[4]);
		if (strcmp(fields[4], path) == 0 &&
		    (size_t)snprintf(dev, len, "%s", fields[2]) < len)
			rc = 0;
	}
	fclose(fp);
	return rc;
}

void fc_files_tune_bdi(struct fc_files *fs)
{
	char dev[64];
	char path[128];
	char text[32];
	int fd;
	int n;

	if (!fs->mountpoint || atomic_exchange(&fs->bdi_tuned, true))
		return;
	if (mount_dev(fs->mountpoint, dev, sizeof(dev)) < 0)
		return;
	snprintf(path, sizeof(path), BDI_RA_FORMAT, dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	n = snprintf(text, sizeof(text), "%u", FC_RA_KERNEL_BYTES / KIB);
	if (fd < 0 || write(fd, text, (size_t)n) != n)
		rfs_log_debug(NULL,
			      "msg=\"cannot raise the kernel's read-ahead\" "
			      "file=%s err=%s",
			      path, strerror(errno));
	else {
		atomic_store(&fs->kernel_ra, FC_RA_KERNEL_BYTES);
		rfs_log_info(NULL,
			     "msg=\"kernel read-ahead raised\" kib=%s "
			     "threads=%s",
			     text, ra_window(fs) ? "on" : "off");
	}
	if (fd >= 0)
		close(fd);
}
