/*
 * file: the table of files (open ones and an LRU of recently closed ones),
 * opens with the keep_cache decision, closes, the write buffer and its
 * commits, flushes and truncates. Reads, layout windows and read-ahead are
 * in file_read.c.
 */
#include <config.h>

#include "fuse-client/file.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/log.h"
#include "fuse-client/bcache.h"
#include "fuse-client/file_int.h"

/* First allocation of a write buffer; it doubles up to what a write
 * needs. One FUSE write (max_write) fits. */
#define FC_FILE_BUF_INITIAL_BYTES (1u << 20)

static void cio_destroy(void *p)
{
	rfs_cio_free(p);
}

static void rbuf_destroy(void *p)
{
	struct fc_rbuf *b = p;

	if (b)
		free(b->p);
	free(b);
}

static void fault_log(const struct rfs_cio_fault *f, void *arg)
{
	char line[512];

	rfs_log_warn(NULL, "msg=\"replica fault\" detail=\"%s\"",
		     rfs_format_fault(f, line, sizeof(line)));
}

struct rfs_cio *fc_files_cio(struct fc_files *fs)
{
	struct rfs_cio *io = pthread_getspecific(fs->cio_key);

	if (io)
		return io;
	io = rfs_cio_new(fs->c, fs->parallel);
	if (!io)
		return NULL;
	rfs_cio_set_fault_cb(io, fault_log, NULL);
	if (pthread_setspecific(fs->cio_key, io) != 0) {
		rfs_cio_free(io);
		return NULL;
	}
	return io;
}

int fc_files_new(struct rfs_client *c, uint64_t chunk_size,
		 unsigned int parallel, struct fc_files **out)
{
	struct fc_files *fs = calloc(1, sizeof(*fs));
	uint64_t n;

	if (!fs)
		return -ENOMEM;
	if (pthread_key_create(&fs->cio_key, cio_destroy) != 0) {
		free(fs);
		return -EAGAIN;
	}
	if (pthread_key_create(&fs->rbuf_key, rbuf_destroy) != 0) {
		pthread_key_delete(fs->cio_key);
		free(fs);
		return -EAGAIN;
	}
	pthread_mutex_init(&fs->lock, NULL);
	fs->c = c;
	fs->chunk_size = chunk_size;
	fs->parallel = parallel;
	n = FC_FILE_BUF_TARGET_BYTES / chunk_size;
	if (n < 1)
		n = 1;
	if (n > FC_FILE_BUF_CHUNKS_MAX)
		n = FC_FILE_BUF_CHUNKS_MAX;
	fs->buf_cap = n * chunk_size;
	fs->ra_unit =
	    chunk_size < FC_RA_UNIT_BYTES ? chunk_size : FC_RA_UNIT_BYTES;
	fs->ra_window = FC_RA_AUTO;
	fs->bcache = fc_bcache_new(FC_BCACHE_DEFAULT_BYTES);
	*out = fs;
	return 0;
}

/* Free a file nobody refers to any more (fs->lock held or not needed). */
static void file_free(struct fc_files *fs, struct fc_file *f)
{
	fc_file_drop_layout(fs, f);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	rfs_sync_set_release(&f->unsynced);
	free(f->buf);
	free(f);
}

void fc_files_free(struct fc_files *fs)
{
	if (!fs)
		return;
	fc_prefetch_stop(fs);
	for (size_t b = 0; b < FC_FILES_BUCKETS; b++) {
		while (fs->bucket[b]) {
			struct fc_file *f = fs->bucket[b];

			fs->bucket[b] = f->next;
			file_free(fs, f);
		}
	}
	rfs_cio_free(pthread_getspecific(fs->cio_key));
	pthread_setspecific(fs->cio_key, NULL);
	pthread_key_delete(fs->cio_key);
	rbuf_destroy(pthread_getspecific(fs->rbuf_key));
	pthread_setspecific(fs->rbuf_key, NULL);
	pthread_key_delete(fs->rbuf_key);
	pthread_mutex_destroy(&fs->lock);
	rfs_sync_set_release(&fs->dropped_unsynced);
	fc_bcache_free(fs->bcache);
	free(fs->mountpoint);
	free(fs);
}

int fc_files_set_block_cache(struct fc_files *fs, uint64_t bytes)
{
	struct fc_bcache *c = NULL;

	if (bytes > 0) {
		c = fc_bcache_new((size_t)bytes);
		if (!c)
			return -ENOMEM;
	}
	fc_bcache_free(fs->bcache);
	fs->bcache = c;
	return 0;
}

int fc_files_set_mountpoint(struct fc_files *fs, const char *mountpoint)
{
	/* as the kernel lists it in mountinfo */
	char *p = realpath(mountpoint, NULL);

	if (!p)
		p = strdup(mountpoint);

	if (!p)
		return -ENOMEM;
	free(fs->mountpoint);
	fs->mountpoint = p;
	return 0;
}

/* --- table and LRU (fs->lock held) ---------------------------------- */
static struct fc_file **files_slot(struct fc_files *fs, uint64_t ino)
{
	struct fc_file **p = &fs->bucket[ino % FC_FILES_BUCKETS];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next;
	return p;
}

static void lru_remove(struct fc_files *fs, struct fc_file *f)
{
	if (!f->on_lru)
		return;
	rfs_dlist_remove(&fs->lru, &f->lru);
	f->on_lru = false;
	fs->n_lru--;
}

static void lru_push(struct fc_files *fs, struct fc_file *f)
{
	rfs_dlist_push_head(&fs->lru, &f->lru);
	f->on_lru = true;
	fs->n_lru++;
}

/* Unlink the least recently used files while the cache is over budget;
 * they are returned as a list (through ->next) to free unlocked. */
static struct fc_file *lru_trim(struct fc_files *fs)
{
	struct fc_file *gone = NULL;

	struct fc_file *f = rfs_dlist_entry(fs->lru.tail, struct fc_file, lru);

	while (f && (fs->n_lru > FC_CACHE_FILES ||
		     atomic_load(&fs->layout_chunks) > FC_CACHE_CHUNKS)) {
		struct fc_file *prev =
		    rfs_dlist_entry(f->lru.prev, struct fc_file, lru);

		/* the prefetcher may still finish a unit of it; a file
		 * whose data is not synced leaves its servers to the
		 * next fsync (kept when that fails for lack of memory) */
		if (atomic_load(&f->ra_inflight) == 0 &&
		    rfs_sync_set_merge(&fs->dropped_unsynced, &f->unsynced) ==
			0) {
			lru_remove(fs, f);
			*files_slot(fs, f->ino) = f->next;
			f->next = gone;
			gone = f;
		}
		f = prev;
	}
	return gone;
}

static void free_list(struct fc_files *fs, struct fc_file *list)
{
	while (list) {
		struct fc_file *next = list->next;

		file_free(fs, list);
		list = next;
	}
}

void fc_file_unpin(struct fc_files *fs, struct fc_file *f)
{
	struct fc_file *gone = NULL;

	pthread_mutex_lock(&fs->lock);
	if (--f->refs == 0) {
		lru_push(fs, f);
		gone = lru_trim(fs);
	}
	pthread_mutex_unlock(&fs->lock);
	free_list(fs, gone);
}

/* The file of ino, created if missing, pinned. */
static int files_get(struct fc_files *fs, uint64_t ino, struct fc_file **out)
{
	struct fc_file **slot;
	struct fc_file *f;

	pthread_mutex_lock(&fs->lock);
	/* not before: ringfs-mount forks into the background after mounting */
	if (!fs->pf_tried) {
		fs->pf_tried = true;
		if (fc_prefetch_start(fs) < 0)
			rfs_log_warn(NULL, "msg=\"no read-ahead: cannot start "
					   "its thread\"");
	}
	slot = files_slot(fs, ino);
	f = *slot;
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f) {
			pthread_mutex_unlock(&fs->lock);
			return -ENOMEM;
		}
		f->ino = ino;
		pthread_mutex_init(&f->lock, NULL);
		pthread_cond_init(&f->cond, NULL);
		*slot = f;
	}
	lru_remove(fs, f);
	f->refs++;
	pthread_mutex_unlock(&fs->lock);
	*out = f;
	return 0;
}

/* --- open and close ----------------------------------------------------- */
static bool seen_matches(const struct fc_file *f, const struct rfs_attr *a)
{
	return f->seen_valid && !f->changed && f->seen_size == a->size &&
	       f->seen_mtime_ns == a->mtime_ns &&
	       f->seen_ctime_ns == a->ctime_ns;
}

static void seen_set(struct fc_file *f, const struct rfs_attr *a)
{
	f->seen_valid = true;
	f->seen_size = a->size;
	f->seen_mtime_ns = a->mtime_ns;
	f->seen_ctime_ns = a->ctime_ns;
}

int fc_file_open(struct fc_files *fs, uint64_t ino, const struct rfs_attr *attr,
		 struct fc_file **out, bool *keep_cache)
{
	struct fc_unit *gone = NULL;
	struct rfs_attr a;
	struct fc_file *f = NULL;
	bool same;
	int rc = 0;

	fc_files_tune_bdi(fs);
	if (attr)
		a = *attr;
	else
		rc = rfs_client_getattr(fs->c, ino, &a);
	if (rc == 0)
		rc = files_get(fs, ino, &f);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&f->lock);
	f->opens++;
	same = seen_matches(f, &a);
	if (!same) {
		/* close-to-open: whatever another mount committed shows */
		fc_file_drop_layout(fs, f);
		fc_file_drop_units(f, &gone);
	}
	if (!f->changed)
		seen_set(f, &a);
	f->known = a;
	f->known_valid = true;
	pthread_mutex_unlock(&f->lock);
	fc_units_free(fs, gone);
	*keep_cache = same;
	*out = f;
	return 0;
}

/* Pin the file of ino if the table has it; NULL if not. */
static struct fc_file *files_pin(struct fc_files *fs, uint64_t ino)
{
	struct fc_file *f;

	pthread_mutex_lock(&fs->lock);
	f = *files_slot(fs, ino);
	if (f) {
		lru_remove(fs, f);
		f->refs++;
	}
	pthread_mutex_unlock(&fs->lock);
	return f;
}

struct fc_file *fc_file_find(struct fc_files *fs, uint64_t ino)
{
	struct fc_file *f = files_pin(fs, ino);
	bool open;

	if (!f)
		return NULL;
	pthread_mutex_lock(&f->lock);
	open = f->opens > 0;
	if (open)
		f->opens++;
	pthread_mutex_unlock(&f->lock);
	if (open)
		return f;
	fc_file_unpin(fs, f);
	return NULL;
}

/* The last handle went (f->lock held): free the write buffer and
 * read-ahead; if this mount changed the file, remember its attributes as
 * they are now. *gone gets the units to free. */
static void file_last_close(struct fc_files *fs, struct fc_file *f,
			    struct fc_unit **gone)
{
	struct rfs_attr a;

	if (f->buf_len)
		rfs_log_warn(NULL,
			     "msg=\"dirty data dropped at close\" ino=%llu",
			     (unsigned long long)f->ino);
	free(f->buf);
	f->buf = NULL;
	f->buf_len = f->buf_size = 0;
	f->err = 0;
	f->pending.valid = 0;
	fc_file_drop_units(f, gone);
	/* a lease from the create that was not used lapses */
	f->lease0.n_replicas = 0;
	if (f->changed && f->after_valid) {
		/* the last commit replied them: no getattr */
		seen_set(f, &f->after);
		f->changed = false;
	} else if (f->changed) {
		f->seen_valid = rfs_client_getattr(fs->c, f->ino, &a) == 0;
		if (f->seen_valid)
			seen_set(f, &a);
		f->changed = false;
	}
}

void fc_file_close(struct fc_files *fs, struct fc_file *f)
{
	struct fc_unit *gone = NULL;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	if (--f->opens == 0)
		file_last_close(fs, f, &gone);
	pthread_mutex_unlock(&f->lock);
	fc_units_free(fs, gone);
	fc_file_unpin(fs, f);
}

void fc_files_invalidate(struct fc_files *fs, uint64_t ino)
{
	struct fc_unit *gone = NULL;
	struct fc_file *f = files_pin(fs, ino);

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	fc_file_drop_layout(fs, f);
	fc_file_drop_units(f, &gone);
	f->seen_valid = false;
	f->after_valid = false;
	f->known_valid = false;
	f->changed = f->opens > 0; /* re-read at the last close */
	pthread_mutex_unlock(&f->lock);
	fc_units_free(fs, gone);
	fc_file_unpin(fs, f);
}

/* --- writes ------------------------------------------------------------- */
/* Commit the first n buffered bytes. On failure they are dropped too and
 * the error returned (the caller decides whether it becomes sticky). */
static int file_commit(struct fc_files *fs, struct fc_file *f, size_t n)
{
	struct rfs_cio *io = fc_files_cio(fs);
	struct rfs_attr after;
	struct rfs_cio_wopts o = {.no_sync = true,
				  .unsynced = &f->unsynced,
				  .lease = &f->lease0,
				  .attr = &after};
	/* a kept setattr goes with the commit of everything buffered: in
	 * its log entry when that lies in one chunk, else right after */
	const struct rfs_client_setattr *sa =
	    n == f->buf_len && f->pending.valid ? &f->pending : NULL;
	bool one = f->buf_off / fs->chunk_size ==
		   (f->buf_off + n - 1) / fs->chunk_size;
	ssize_t w = -ENOMEM;

	o.setattr = one ? sa : NULL;
	if (io)
		w = rfs_cio_pwrite_opts(io, f->ino, fs->chunk_size, f->buf_off,
					f->buf, n, &o);
	if (w >= 0 && sa && !one)
		w = rfs_client_setattr(fs->c, f->ino, sa, &after);
	if (sa)
		f->pending.valid = 0;
	fc_file_drop_layout(fs, f);
	f->changed = true;
	/* only a complete write's reply describes the file as it is */
	f->after_valid = w >= 0 && after.ino == f->ino;
	if (f->after_valid) {
		f->after = after;
		f->known = after;
	}
	if (w < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot commit file data\" ino=%llu "
			     "offset=%llu len=%zu err=%s",
			     (unsigned long long)f->ino,
			     (unsigned long long)f->buf_off, n,
			     strerror((int)-w));
	memmove(f->buf, f->buf + n, f->buf_len - n);
	f->buf_len -= n;
	f->buf_off += n;
	return w < 0 ? (int)w : 0;
}

int fc_file_commit_all(struct fc_files *fs, struct fc_file *f)
{
	return f->buf_len ? file_commit(fs, f, f->buf_len) : 0;
}

/* The buffer reached the threshold: commit up to its last chunk boundary
 * (the tail keeps collecting the next chunk), or all of it when it holds
 * no boundary. */
static int file_commit_full(struct fc_files *fs, struct fc_file *f)
{
	uint64_t end = f->buf_off + f->buf_len;
	uint64_t bound = end - end % fs->chunk_size;

	if (bound > f->buf_off)
		return file_commit(fs, f, (size_t)(bound - f->buf_off));
	return fc_file_commit_all(fs, f);
}

static int file_reserve(struct fc_file *f, size_t need)
{
	size_t size = f->buf_size ? f->buf_size : FC_FILE_BUF_INITIAL_BYTES;
	char *p;

	if (need <= f->buf_size)
		return 0;
	while (size < need)
		size *= 2;
	p = realloc(f->buf, size);
	if (!p)
		return -ENOMEM;
	f->buf = p;
	f->buf_size = size;
	return 0;
}

static int file_take_err(struct fc_file *f)
{
	int rc = f->err;

	f->err = 0;
	return rc;
}

ssize_t fc_file_write(struct fc_files *fs, struct fc_file *f, const void *buf,
		      size_t len, uint64_t off)
{
	struct fc_unit *gone = NULL;
	int rc;

	pthread_mutex_lock(&f->lock);
	/* read-ahead of the old bytes is worthless from here */
	fc_file_drop_units(f, &gone);
	rc = file_take_err(f);
	/* a kept setattr came before this write: commit them first, or
	 * an mtime it sets would win over the write's */
	if (rc == 0 && f->buf_len &&
	    (off != f->buf_off + f->buf_len || f->pending.valid))
		rc = fc_file_commit_all(fs, f);
	if (rc < 0)
		goto out_unlock;
	if (!f->buf_len)
		f->buf_off = off;
	rc = file_reserve(f, f->buf_len + len);
	if (rc < 0)
		goto out_unlock;
	memcpy(f->buf + f->buf_len, buf, len);
	f->buf_len += len;
	/* A threshold commit fails after the write was accepted: report it
	 * at the next write, flush or fsync. */
	if (f->buf_len >= fs->buf_cap)
		f->err = file_commit_full(fs, f);
out_unlock:
	pthread_mutex_unlock(&f->lock);
	fc_units_free(fs, gone);
	return rc < 0 ? rc : (ssize_t)len;
}

int fc_file_flush(struct fc_files *fs, struct fc_file *f)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = fc_file_commit_all(fs, f);
	if (f->err && rc == 0)
		rc = f->err;
	f->err = 0;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* Take the servers of dropped files (to sync them with f's). */
static void dropped_take(struct fc_files *fs, struct rfs_sync_set *out)
{
	pthread_mutex_lock(&fs->lock);
	*out = fs->dropped_unsynced;
	memset(&fs->dropped_unsynced, 0, sizeof(fs->dropped_unsynced));
	pthread_mutex_unlock(&fs->lock);
}

/* Give them back after a failed sync. */
static void dropped_return(struct fc_files *fs, struct rfs_sync_set *set)
{
	pthread_mutex_lock(&fs->lock);
	if (rfs_sync_set_merge(&fs->dropped_unsynced, set) < 0)
		rfs_log_warn(NULL, "msg=\"out of memory: chunk servers to sync "
				   "forgotten\"");
	pthread_mutex_unlock(&fs->lock);
	rfs_sync_set_release(set);
}

int fc_file_fsync(struct fc_files *fs, struct fc_file *f)
{
	struct rfs_sync_set set = {0};
	struct rfs_cio *io;
	int rc;

	dropped_take(fs, &set);
	pthread_mutex_lock(&f->lock);
	rc = fc_file_commit_all(fs, f);
	if (f->err && rc == 0)
		rc = f->err;
	f->err = 0;
	if (rc == 0)
		rc = rfs_sync_set_merge(&set, &f->unsynced);
	io = rc == 0 ? fc_files_cio(fs) : NULL;
	if (rc == 0 && !io)
		rc = -ENOMEM;
	if (rc == 0)
		rc = rfs_cio_sync(io, &set);
	if (rc == 0)
		rfs_sync_set_release(&f->unsynced);
	pthread_mutex_unlock(&f->lock);
	if (rc < 0) {
		rfs_log_warn(NULL, "msg=\"fsync failed\" ino=%llu err=%s",
			     (unsigned long long)f->ino, strerror(-rc));
		dropped_return(fs, &set);
		return rc;
	}
	rfs_sync_set_release(&set);
	return 0;
}

int fc_file_close_flush(struct fc_files *fs, struct fc_file *f)
{
	return fs->sync_close ? fc_file_fsync(fs, f) : fc_file_flush(fs, f);
}

void fc_files_set_sync_close(struct fc_files *fs, bool on)
{
	fs->sync_close = on;
}

void fc_file_set_lease(struct fc_file *f, const struct rfs_lease *l)
{
	pthread_mutex_lock(&f->lock);
	/* only for a file nothing was written to yet */
	if (!f->buf_len && !f->changed && l->n_replicas > 0)
		f->lease0 = *l;
	pthread_mutex_unlock(&f->lock);
}

/* Fold sa into the kept p (later values win). */
static void setattr_merge(struct rfs_client_setattr *p,
			  const struct rfs_client_setattr *sa)
{
	const uint32_t atime = RFS_SETATTR_ATIME | RFS_SETATTR_ATIME_NOW;
	const uint32_t mtime = RFS_SETATTR_MTIME | RFS_SETATTR_MTIME_NOW;

	if (sa->valid & RFS_SETATTR_MODE)
		p->mode = sa->mode;
	if (sa->valid & RFS_SETATTR_UID)
		p->uid = sa->uid;
	if (sa->valid & RFS_SETATTR_GID)
		p->gid = sa->gid;
	if (sa->valid & atime) {
		p->valid &= ~atime;
		p->atime_ns = sa->atime_ns;
	}
	if (sa->valid & mtime) {
		p->valid &= ~mtime;
		p->mtime_ns = sa->mtime_ns;
	}
	p->valid |= sa->valid;
}

/* f->lock held: a as it will be once the buffer and f->pending are
 * committed (the metaserver's "now" read as f->pending_ns). */
static void file_overlay_locked(const struct fc_file *f, struct rfs_attr *a)
{
	const struct rfs_client_setattr *p = &f->pending;
	uint64_t end = f->buf_len ? f->buf_off + f->buf_len : 0;

	if (end > a->size)
		a->size = end;
	if (!p->valid)
		return;
	if (p->valid & RFS_SETATTR_MODE)
		a->mode = (a->mode & S_IFMT) | (p->mode & 07777);
	if (p->valid & RFS_SETATTR_UID)
		a->uid = p->uid;
	if (p->valid & RFS_SETATTR_GID)
		a->gid = p->gid;
	if (p->valid & (RFS_SETATTR_ATIME | RFS_SETATTR_ATIME_NOW))
		a->atime_ns = p->valid & RFS_SETATTR_ATIME_NOW ? f->pending_ns
							       : p->atime_ns;
	if (p->valid & (RFS_SETATTR_MTIME | RFS_SETATTR_MTIME_NOW))
		a->mtime_ns = p->valid & RFS_SETATTR_MTIME_NOW ? f->pending_ns
							       : p->mtime_ns;
	a->ctime_ns = f->pending_ns;
}

void fc_file_overlay(struct fc_file *f, struct rfs_attr *a)
{
	pthread_mutex_lock(&f->lock);
	file_overlay_locked(f, a);
	pthread_mutex_unlock(&f->lock);
}

bool fc_files_defer_setattr(struct fc_files *fs, uint64_t ino,
			    const struct rfs_client_setattr *sa,
			    struct rfs_attr *out)
{
	struct fc_file *f;
	bool kept = false;

	if (!sa->valid || (sa->valid & RFS_SETATTR_SIZE))
		return false;
	f = fc_file_find(fs, ino);
	if (!f)
		return false;
	pthread_mutex_lock(&f->lock);
	if (f->buf_len && !f->err && f->known_valid) {
		setattr_merge(&f->pending, sa);
		f->pending_ns = rfs_wall_ns();
		*out = f->known;
		file_overlay_locked(f, out);
		kept = true;
	}
	pthread_mutex_unlock(&f->lock);
	fc_file_close(fs, f);
	return kept;
}

int fc_files_set_size(struct fc_files *fs, uint64_t ino,
		      const struct rfs_client_setattr *sa, struct rfs_attr *out)
{
	struct fc_file *f = fc_file_find(fs, ino);
	int rc;

	rc = f ? fc_file_flush(fs, f) : 0;
	if (f) {
		/* a lease taken at create no longer fits the chunk */
		pthread_mutex_lock(&f->lock);
		f->lease0.n_replicas = 0;
		pthread_mutex_unlock(&f->lock);
	}
	if (rc == 0)
		rc = rfs_client_setattr(fs->c, ino, sa, out);
	fc_files_invalidate(fs, ino);
	fc_file_close(fs, f);
	return rc;
}
