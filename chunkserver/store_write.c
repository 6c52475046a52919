#include <config.h>
#include "chunkserver/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunkserver/replica.h"
#include "chunkserver/store_priv.h"
#include "common/crc32c.h"
#include "common/errors.h"
#include "common/log.h"

#define TMP_MODE   0644
#define SPOOL_MODE 0600
/* Buffer for copying a spooled range when copy_file_range cannot. */
#define COPY_BUF_BYTES RFS_CRC_BLOCK_BYTES
/* Bytes of a replica written between two write-behind starts. */
#define CS_WRITE_BEHIND_BYTES (8u << 20)
/*
 * Direct I/O: a whole replica of at least CS_DIRECT_MIN bytes goes to disk
 * with O_DIRECT, through a staging buffer of CS_DIRECT_STAGE bytes
 * aligned to CS_DIRECT_ALIGN (the header, and a tail shorter than
 * CS_DIRECT_ALIGN, stay buffered). No copy into the page cache, which is
 * most of a chunk server's CPU time for large writes, and no dirty pages
 * for a later sync to write at once.
 */
#define CS_DIRECT_MIN	(1u << 20)
#define CS_DIRECT_STAGE (1u << 20)
#define CS_DIRECT_ALIGN 4096u

static struct cs_store_write *write_alloc(struct cs_store *st, uint64_t id,
					  uint32_t version, uint64_t length,
					  const uint32_t *crcs, size_t n_crcs)
{
	struct cs_store_write *w;

	w = calloc(1, sizeof(*w) + n_crcs * sizeof(uint32_t));
	if (!w)
		return NULL;
	w->st = st;
	w->id = id;
	w->version = version;
	w->length = length;
	w->sub_fd = -1;
	w->fd = -1;
	w->dfd = -1;
	w->n_crcs = n_crcs;
	memcpy(w->crcs, crcs, n_crcs * sizeof(uint32_t));
	return w;
}

void cs_store_write_abort(struct cs_store_write *w)
{
	if (!w)
		return;
	if (w->dfd >= 0)
		close(w->dfd);
	free(w->stage);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp_name[0] != '\0' && unlinkat(w->sub_fd, w->tmp_name, 0) < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot remove temporary replica\" "
			     "file=%s err=%s",
			     w->tmp_name, rfs_errno_name(errno));
	if (w->sub_fd >= 0)
		close(w->sub_fd);
	free(w);
}

int cs_store_reserve(int fd, uint64_t off, uint64_t len)
{
	int err;

	if (len == 0)
		return 0;
	err = posix_fallocate(fd, (off_t)off, (off_t)len);
	if (err == 0 || err == EOPNOTSUPP || err == EINVAL)
		return 0;
	return cs_replica_write_err(err);
}

/* Where a new whole replica goes: beside the current one, if any. Refuses
 * early a version older than the one held. */
static int whole_target(struct cs_store *st, uint64_t id, uint32_t version,
			uint16_t *dir)
{
	struct cs_entry *e;
	bool held = false;
	int rc = 0;

	pthread_mutex_lock(&st->mu);
	e = cs_store_entry_find(st, id);
	if (e && e->present) {
		held = true;
		*dir = e->dir;
		if (e->version > version)
			rc = -ESTALE;
	}
	pthread_mutex_unlock(&st->mu);
	if (!held)
		*dir = cs_store_pick_dir(st);
	return rc;
}

/* Open w's temporary replica for direct writes, where its file system
 * allows them; else (or without memory) the writes stay buffered. */
static void direct_open(struct cs_store_write *w)
{
	void *p;

	if (posix_memalign(&p, CS_DIRECT_ALIGN, CS_DIRECT_STAGE) != 0)
		return;
	w->dfd =
	    openat(w->sub_fd, w->tmp_name, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (w->dfd < 0) {
		free(p);
		return;
	}
	w->stage = p;
}

/* Write the first n of the staged bytes (a multiple of CS_DIRECT_ALIGN)
 * with O_DIRECT and move the rest to the front. */
static int direct_flush(struct cs_store_write *w, size_t staged, size_t n)
{
	int rc;

	rc = cs_replica_pwrite_all(
	    w->dfd, w->stage, n,
	    (off_t)(CS_REPLICA_DATA_OFFSET + w->direct_done));
	if (rc < 0)
		return rc;
	memmove(w->stage, w->stage + n, staged - n);
	w->direct_done += n;
	return 0;
}

/* Take buf[0..len) (the data bytes from w->received on) into the
 * staging buffer, writing it out each time it fills. */
static int direct_write(struct cs_store_write *w, const uint8_t *buf,
			size_t len)
{
	size_t staged = (size_t)(w->received - w->direct_done);

	while (len > 0) {
		size_t take = CS_DIRECT_STAGE - staged;
		int rc;

		if (take > len)
			take = len;
		memcpy(w->stage + staged, buf, take);
		staged += take;
		buf += take;
		len -= take;
		if (staged < CS_DIRECT_STAGE)
			break;
		rc = direct_flush(w, staged, staged);
		if (rc < 0)
			return rc;
		staged = 0;
	}
	return 0;
}

/* The body is complete: write out what is staged, the aligned part
 * directly and the short tail through the page cache. */
static int direct_finish(struct cs_store_write *w)
{
	size_t staged = (size_t)(w->length - w->direct_done);
	size_t aligned = staged - staged % CS_DIRECT_ALIGN;
	int rc = 0;

	if (aligned)
		rc = direct_flush(w, staged, aligned);
	if (rc == 0 && staged > aligned)
		rc = cs_replica_pwrite_all(
		    w->fd, w->stage, staged - aligned,
		    (off_t)(CS_REPLICA_DATA_OFFSET + w->direct_done));
	return rc;
}

int cs_store_write_begin(struct cs_store *st, uint64_t chunk_id,
			 uint32_t version, uint64_t length,
			 const uint32_t *crcs, size_t n_crcs,
			 struct cs_store_write **out)
{
	struct cs_store_write *w;
	char suffix[CS_REPLICA_NAME_MAX];
	int rc;

	if (length > RFS_CHUNK_SIZE_MAX ||
	    n_crcs != rfs_crc_block_count(length))
		return -EINVAL;
	w = write_alloc(st, chunk_id, version, length, crcs, n_crcs);
	if (!w)
		return -ENOMEM;
	rc = whole_target(st, chunk_id, version, &w->dir);
	if (rc < 0)
		goto out_abort;
	rc = cs_store_subdir_open(st, w->dir, chunk_id, true);
	if (rc < 0)
		goto out_abort;
	w->sub_fd = rc;
	snprintf(suffix, sizeof(suffix), "%s%llx", CS_REPLICA_SUFFIX_TMP,
		 (unsigned long long)atomic_fetch_add(&st->tmp_seq, 1));
	rc = cs_replica_name(chunk_id, version, suffix, w->tmp_name);
	if (rc < 0)
		goto out_abort;
	w->fd = openat(w->sub_fd, w->tmp_name,
		       O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, TMP_MODE);
	if (w->fd < 0) {
		rc = -errno;
		w->tmp_name[0] = '\0';
		goto out_abort;
	}
	/* Reserve the whole replica now so a full disk fails before any
	 * data is received. */
	rc = cs_store_reserve(w->fd, 0, cs_replica_file_bytes(length));
	if (rc < 0)
		goto out_abort;
	if (length >= CS_DIRECT_MIN)
		direct_open(w);
	*out = w;
	return 0;
out_abort:
	cs_store_write_abort(w);
	return rc;
}

/* An unnamed file for spooling a range body, in the replica's file system;
 * falls back to a named file removed at once where O_TMPFILE is missing. */
static int spool_open(struct cs_store *st, uint16_t dir)
{
	int chunks_fd = st->dirs[dir].chunks_fd;
	char name[CS_REPLICA_NAME_MAX];
	int fd;

	fd = openat(chunks_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, SPOOL_MODE);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd >= 0 ? fd : -errno;
	snprintf(name, sizeof(name), "%s%llx", CS_REPLICA_SPOOL_PREFIX,
		 (unsigned long long)atomic_fetch_add(&st->tmp_seq, 1));
	fd = openat(chunks_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    SPOOL_MODE);
	if (fd < 0)
		return -errno;
	unlinkat(chunks_fd, name, 0);
	return fd;
}

/* Check a range update against the index: the base must be held, as the
 * newest version or as an older one below a newest older than `version`.
 * *dir: where the base is. */
static int update_target(struct cs_store *st, uint64_t id, uint32_t version,
			 uint32_t base, uint16_t *dir)
{
	const struct cs_old *o;
	struct cs_entry *e;
	int rc = 0;

	pthread_mutex_lock(&st->mu);
	e = cs_store_entry_find(st, id);
	o = e ? cs_store_old_find(e, base) : NULL;
	if (!e || !e->present)
		rc = -ENOENT;
	else if (e->version == base)
		*dir = e->dir;
	else if (o && e->version < version)
		*dir = o->dir;
	else
		rc = -ESTALE;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cs_store_update_begin(struct cs_store *st, uint64_t chunk_id,
			  uint32_t version, uint64_t offset, uint64_t length,
			  uint32_t base, uint64_t base_length,
			  const uint32_t *crcs, size_t n_crcs,
			  struct cs_store_write **out)
{
	struct cs_store_write *w;
	int rc;

	if (offset % RFS_CRC_BLOCK_BYTES != 0 || version <= base ||
	    offset > RFS_CHUNK_SIZE_MAX || length > RFS_CHUNK_SIZE_MAX ||
	    offset + length > RFS_CHUNK_SIZE_MAX ||
	    base_length > RFS_CHUNK_SIZE_MAX ||
	    n_crcs != rfs_crc_block_count(length))
		return -EINVAL;
	w = write_alloc(st, chunk_id, version, length, crcs, n_crcs);
	if (!w)
		return -ENOMEM;
	w->range = true;
	w->base = base;
	w->base_length = base_length;
	w->offset = offset;
	rc = update_target(st, chunk_id, version, base, &w->dir);
	if (rc < 0)
		goto out_abort;
	rc = spool_open(st, w->dir);
	if (rc < 0)
		goto out_abort;
	w->fd = rc;
	rc = cs_store_reserve(w->fd, 0, length);
	if (rc < 0)
		goto out_abort;
	*out = w;
	return 0;
out_abort:
	cs_store_write_abort(w);
	return rc;
}

/* Check the block that ends at w->received (or the short last one). */
static int check_block(struct cs_store_write *w)
{
	size_t b = (size_t)((w->received - 1) / RFS_CRC_BLOCK_BYTES);

	if (w->cur_crc == w->crcs[b]) {
		w->cur_crc = 0;
		return 0;
	}
	w->bad_block = b;
	atomic_fetch_add(&w->st->checksum_failures, 1);
	return -EBADMSG;
}

/*
 * Write-behind: once another CS_WRITE_BEHIND_BYTES of a replica are in
 * the page cache, start their writeback without waiting for it. A large
 * PUT stored without fsync then streams to disk as it arrives instead of
 * piling up dirty pages for the next sync (fsync, syncfs or the kernel's
 * flusher) to write at once. Advisory: a failure changes nothing.
 */
static void write_behind(const struct cs_store_write *w, uint64_t base,
			 uint64_t from, uint64_t to)
{
	uint64_t start = from - from % CS_WRITE_BEHIND_BYTES;
	uint64_t end = to - to % CS_WRITE_BEHIND_BYTES;

	if (end > start)
		(void)sync_file_range(w->fd, (off_t)(base + start),
				      (off_t)(end - start),
				      SYNC_FILE_RANGE_WRITE);
}

int cs_store_write_data(struct cs_store_write *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t base = w->range ? 0 : CS_REPLICA_DATA_OFFSET;
	int rc;

	if (len > w->length - w->received)
		return -E2BIG;
	if (w->dfd >= 0) {
		rc = direct_write(w, buf, len);
	} else {
		rc = cs_replica_pwrite_all(w->fd, buf, len,
					   (off_t)(base + w->received));
		write_behind(w, base, w->received, w->received + len);
	}
	if (rc < 0)
		return rc;
	while (len > 0) {
		size_t in_block = (size_t)(w->received % RFS_CRC_BLOCK_BYTES);
		size_t take = RFS_CRC_BLOCK_BYTES - in_block;

		if (take > len)
			take = len;
		w->cur_crc = rfs_crc32c(w->cur_crc, p, take);
		w->received += take;
		p += take;
		len -= take;
		if (w->received % RFS_CRC_BLOCK_BYTES == 0) {
			rc = check_block(w);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

size_t cs_store_write_bad_block(const struct cs_store_write *w)
{
	return w->bad_block;
}

uint64_t cs_store_write_received(const struct cs_store_write *w)
{
	return w->received;
}

/* All of the body arrived and the short last block matches. */
static int body_complete(struct cs_store_write *w)
{
	if (w->received != w->length)
		return -EPROTO;
	if (w->received % RFS_CRC_BLOCK_BYTES != 0)
		return check_block(w);
	return 0;
}

/* --- copies ------------------------------------------------------------ */
static int copy_fallback(int in_fd, off_t in, int out_fd, off_t out,
			 uint64_t len)
{
	uint8_t *buf = malloc(COPY_BUF_BYTES);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	while (rc == 0 && len > 0) {
		size_t n = len < COPY_BUF_BYTES ? (size_t)len : COPY_BUF_BYTES;

		rc = cs_replica_pread_all(in_fd, buf, n, in);
		if (rc == 0)
			rc = cs_replica_pwrite_all(out_fd, buf, n, out);
		in += (off_t)n;
		out += (off_t)n;
		len -= n;
	}
	free(buf);
	return rc;
}

int cs_store_copy(int in_fd, off_t in, int out_fd, off_t out, uint64_t len)
{
	loff_t from = in;
	loff_t to = out;

	while (len > 0) {
		ssize_t n = copy_file_range(in_fd, &from, out_fd, &to, len, 0);

		if (n > 0) {
			len -= (uint64_t)n;
			continue;
		}
		if (n == 0)
			return -EIO; /* the source is shorter than it should be */
		if (errno == EINTR)
			continue;
		if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
		    errno == EOPNOTSUPP)
			return copy_fallback(in_fd, from, out_fd, to, len);
		return cs_replica_write_err(errno);
	}
	return 0;
}

/* --- whole chunk commit ------------------------------------------------- */
/* Rename the finished temporary file into place and index it; the chunk's
 * write lock is held. */
static int whole_install(struct cs_store_write *w, struct cs_entry *e,
			 bool sync)
{
	struct cs_store *st = w->st;
	char final[CS_REPLICA_NAME_MAX];
	uint32_t old_version;
	uint16_t old_dir;
	bool held;
	int rc = 0;

	pthread_mutex_lock(&st->mu);
	held = e->present;
	old_version = e->version;
	old_dir = e->dir;
	pthread_mutex_unlock(&st->mu);
	if (held && old_version > w->version)
		return -ESTALE;
	cs_replica_name(w->id, w->version, NULL, final);
	if (renameat(w->sub_fd, w->tmp_name, w->sub_fd, final) < 0)
		return -errno;
	w->tmp_name[0] = '\0';
	if (sync)
		rc = cs_store_fsync(w->sub_fd);
	/* Index it even if the directory fsync failed: the file is there.
	 * The version it replaces stays until the metaserver calls it stale
	 * (if it cannot be recorded, it goes at once, as a last resort). */
	pthread_mutex_lock(&st->mu);
	if (held && old_version != w->version &&
	    cs_store_keep_current(st, e) == 0)
		held = false;
	cs_store_entry_set(st, e, true, w->dir, w->version, w->length, 0);
	pthread_mutex_unlock(&st->mu);
	if (held && (old_version != w->version || old_dir != w->dir)) {
		char old[CS_REPLICA_NAME_MAX];
		int old_fd = cs_store_subdir_open(st, old_dir, w->id, false);

		cs_replica_name(w->id, old_version, NULL, old);
		if (old_fd < 0 || unlinkat(old_fd, old, 0) < 0)
			rfs_log_warn(NULL,
				     "msg=\"cannot remove replaced "
				     "replica\" file=%s",
				     old);
		if (old_fd >= 0)
			close(old_fd);
		/* no record of it: nor of the undo files over it */
		if (old_version != w->version)
			cs_store_drop_older(st, e, UINT32_MAX);
	}
	return rc;
}

static int whole_commit(struct cs_store_write *w, bool sync)
{
	struct cs_replica_hdr *hdr = calloc(1, sizeof(*hdr));
	struct cs_entry *e;
	int rc;

	if (!hdr)
		return -ENOMEM;
	rc = w->dfd >= 0 ? direct_finish(w) : 0;
	if (rc < 0) {
		free(hdr);
		return rc;
	}
	hdr->seq = 1;
	hdr->chunk_id = w->id;
	hdr->version = w->version;
	hdr->length = w->length;
	hdr->n_blocks = (uint32_t)w->n_crcs;
	memcpy(hdr->crcs, w->crcs, w->n_crcs * sizeof(uint32_t));
	rc = cs_replica_hdr_write(w->fd, 0, hdr);
	free(hdr);
	if (rc == 0 &&
	    ftruncate(w->fd, (off_t)cs_replica_file_bytes(w->length)) < 0)
		rc = cs_replica_write_err(errno);
	if (rc == 0 && sync)
		rc = cs_store_fsync(w->fd);
	if (rc < 0)
		return rc;
	rc = cs_store_chunk_lock(w->st, w->id, &e);
	if (rc < 0)
		return rc;
	rc = whole_install(w, e, sync);
	cs_store_chunk_unlock(w->st, e);
	return rc;
}

int cs_store_write_commit(struct cs_store_write *w, bool sync)
{
	int rc = body_complete(w);

	if (rc == 0)
		rc = w->range ? cs_store_update_commit(w, sync)
			      : whole_commit(w, sync);
	if (rc == 0)
		atomic_fetch_add(&w->st->bytes_written, w->length);
	cs_store_write_abort(w);
	return rc;
}
