#include <config.h>

#include "fuse-client/file.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/log.h"

/* Hash buckets of the open-file table: open files are few (hundreds), a
 * short chain per bucket is fine. */
#define FC_FILES_BUCKETS 256
/* First allocation of a write buffer; it doubles up to what a write
 * needs. One FUSE write (max_write) fits. */
#define FC_FILE_BUF_INITIAL_BYTES (1u << 20)

struct fc_file {
	struct fc_file *next; /* hash chain, under fs->lock */
	uint64_t ino;
	unsigned int refs;    /* under fs->lock */
	pthread_mutex_t lock; /* everything below */
	char *buf;
	size_t buf_len;
	size_t buf_size;
	uint64_t buf_off;
	int err; /* sticky commit error (negative errno) or 0 */
	bool have_layout;
	struct rfs_layout layout;
};

struct fc_files {
	struct rfs_client *c;
	uint64_t chunk_size;
	uint64_t buf_cap; /* commit threshold of a write buffer */
	unsigned int parallel;
	pthread_key_t cio_key;
	pthread_mutex_t lock;
	struct fc_file *bucket[FC_FILES_BUCKETS];
};

static void cio_destroy(void *p)
{
	rfs_cio_free(p);
}

static void fault_log(const struct rfs_cio_fault *f, void *arg)
{
	char line[512];

	rfs_log_warn(NULL, "msg=\"replica fault\" detail=\"%s\"",
		     rfs_format_fault(f, line, sizeof(line)));
}

/* The calling thread's chunk engine, created on first use; NULL on OOM. */
static struct rfs_cio *files_cio(struct fc_files *fs)
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
	*out = fs;
	return 0;
}

void fc_files_free(struct fc_files *fs)
{
	if (!fs)
		return;
	rfs_cio_free(pthread_getspecific(fs->cio_key));
	pthread_setspecific(fs->cio_key, NULL);
	pthread_key_delete(fs->cio_key);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

static struct fc_file **files_slot(struct fc_files *fs, uint64_t ino)
{
	struct fc_file **p = &fs->bucket[ino % FC_FILES_BUCKETS];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next;
	return p;
}

struct fc_file *fc_file_find(struct fc_files *fs, uint64_t ino)
{
	struct fc_file *f;

	pthread_mutex_lock(&fs->lock);
	f = *files_slot(fs, ino);
	if (f)
		f->refs++;
	pthread_mutex_unlock(&fs->lock);
	return f;
}

static void file_drop_layout(struct fc_file *f)
{
	if (f->have_layout)
		rfs_proto_layout_release(&f->layout);
	f->have_layout = false;
}

int fc_file_open(struct fc_files *fs, uint64_t ino, struct fc_file **out)
{
	struct fc_file **slot;
	struct fc_file *f;

	pthread_mutex_lock(&fs->lock);
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
		*slot = f;
	}
	f->refs++;
	pthread_mutex_unlock(&fs->lock);
	/* close-to-open: whatever another mount committed shows from here */
	fc_file_invalidate(f);
	*out = f;
	return 0;
}

void fc_file_close(struct fc_files *fs, struct fc_file *f)
{
	struct fc_file **slot;

	if (!f)
		return;
	pthread_mutex_lock(&fs->lock);
	if (--f->refs > 0) {
		pthread_mutex_unlock(&fs->lock);
		return;
	}
	slot = files_slot(fs, f->ino);
	*slot = f->next;
	pthread_mutex_unlock(&fs->lock);
	if (f->buf_len)
		rfs_log_warn(NULL,
			     "msg=\"dirty data dropped at close\" ino=%llu",
			     (unsigned long long)f->ino);
	file_drop_layout(f);
	pthread_mutex_destroy(&f->lock);
	free(f->buf);
	free(f);
}

/* Commit the first n buffered bytes. On failure they are dropped too and
 * the error returned (the caller decides whether it becomes sticky). */
static int file_commit(struct fc_files *fs, struct fc_file *f, size_t n)
{
	struct rfs_cio *io = files_cio(fs);
	ssize_t w = -ENOMEM;

	if (io)
		w = rfs_cio_pwrite(io, f->ino, fs->chunk_size, f->buf_off,
				   f->buf, n);
	file_drop_layout(f);
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

static int file_commit_all(struct fc_files *fs, struct fc_file *f)
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
	return file_commit_all(fs, f);
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
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = file_take_err(f);
	if (rc == 0 && f->buf_len && off != f->buf_off + f->buf_len)
		rc = file_commit_all(fs, f);
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
	return rc < 0 ? rc : (ssize_t)len;
}

ssize_t fc_file_read(struct fc_files *fs, struct fc_file *f, void *buf,
		     size_t len, uint64_t off)
{
	struct rfs_cio *io = files_cio(fs);
	ssize_t n = -ENOMEM;
	int attempt;

	if (!io)
		return -ENOMEM;
	pthread_mutex_lock(&f->lock);
	n = file_commit_all(fs, f);
	if (n < 0)
		goto out_unlock;
	/* A failed read through a cached layout may only mean that a chunk
	 * was replaced since: refetch the layout once and retry. */
	for (attempt = 0; attempt < 2; attempt++) {
		if (!f->have_layout) {
			n = rfs_client_layout(fs->c, f->ino, 0, 0, &f->layout);
			if (n < 0)
				break;
			f->have_layout = true;
		}
		n = rfs_cio_pread(io, &f->layout, off, buf, len);
		if (n >= 0)
			break;
		file_drop_layout(f);
	}
out_unlock:
	pthread_mutex_unlock(&f->lock);
	return n;
}

int fc_file_flush(struct fc_files *fs, struct fc_file *f)
{
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = file_commit_all(fs, f);
	if (f->err && rc == 0)
		rc = f->err;
	f->err = 0;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

uint64_t fc_file_dirty_end(struct fc_file *f)
{
	uint64_t end;

	pthread_mutex_lock(&f->lock);
	end = f->buf_len ? f->buf_off + f->buf_len : 0;
	pthread_mutex_unlock(&f->lock);
	return end;
}

void fc_file_invalidate(struct fc_file *f)
{
	pthread_mutex_lock(&f->lock);
	file_drop_layout(f);
	pthread_mutex_unlock(&f->lock);
}

/*
 * The bytes [*keep_off, new_size) of the CRC block that new_size cuts in
 * a committed chunk, read into buf (RFS_CRC_BLOCK_BYTES); *len = 0 when
 * nothing needs rewriting (no cut block, a hole, or the file not longer).
 */
static int trunc_read_tail(struct fc_files *fs, struct rfs_cio *io,
			   uint64_t ino, uint64_t new_size, char *buf,
			   uint64_t *keep_off, size_t *len)
{
	uint64_t in_chunk = new_size % fs->chunk_size;
	const struct rfs_chunk *ch;
	struct rfs_layout l;
	ssize_t n;
	int rc;

	*len = 0;
	*keep_off = new_size - new_size % RFS_CRC_BLOCK_BYTES;
	if (new_size % RFS_CRC_BLOCK_BYTES == 0)
		return 0;
	rc = rfs_client_layout(fs->c, ino, *keep_off, RFS_CRC_BLOCK_BYTES, &l);
	if (rc < 0)
		return rc;
	ch = rfs_layout_find(&l, new_size / fs->chunk_size);
	n = 0;
	if (l.size > new_size && ch && ch->length > in_chunk)
		n = rfs_cio_pread(io, &l, *keep_off, buf,
				  (size_t)(new_size - *keep_off));
	rfs_proto_layout_release(&l);
	if (n < 0)
		return (int)n;
	*len = (size_t)n;
	return 0;
}

int fc_files_set_size(struct fc_files *fs, uint64_t ino,
		      const struct rfs_client_setattr *sa, struct rfs_attr *out)
{
	struct fc_file *f = fc_file_find(fs, ino);
	struct rfs_cio *io = files_cio(fs);
	char *tail = malloc(RFS_CRC_BLOCK_BYTES);
	uint64_t keep_off = 0;
	size_t len = 0;
	ssize_t w;
	int rc = -ENOMEM;

	if (!io || !tail)
		goto out_close;
	rc = f ? fc_file_flush(fs, f) : 0;
	if (rc == 0)
		rc = trunc_read_tail(fs, io, ino, sa->size, tail, &keep_off,
				     &len);
	if (rc == 0)
		rc = rfs_client_setattr(fs->c, ino, sa, out);
	/* Rewrite the cut block as a new version ending at the new size:
	 * chunk servers serve a partial block only up to a replica's end. */
	if (rc == 0 && len > 0) {
		w = rfs_cio_pwrite(io, ino, fs->chunk_size, keep_off, tail,
				   len);
		rc = w < 0 ? (int)w : rfs_client_getattr(fs->c, ino, out);
	}
out_close:
	if (f) {
		fc_file_invalidate(f);
		fc_file_close(fs, f);
	}
	free(tail);
	return rc;
}
