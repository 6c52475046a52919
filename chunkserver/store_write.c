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

struct cs_store_write {
	struct cs_store *st;
	uint64_t id;
	uint32_t version;
	bool range;	      /* range update (else whole chunk) */
	uint32_t base;	      /* range: version updated */
	uint64_t base_length; /* range: logical length of base */
	uint64_t offset;      /* range: where the body goes */
	uint64_t length;      /* body bytes announced */
	uint64_t received;
	uint32_t cur_crc; /* running CRC of the block being received */
	size_t bad_block;
	uint16_t dir;
	int sub_fd; /* whole: directory of the temporary file */
	int fd;	    /* whole: temporary replica; range: spool */
	char tmp_name[CS_REPLICA_NAME_MAX]; /* whole; "" once renamed */
	size_t n_crcs;
	uint32_t crcs[]; /* the body's CRCs, as announced */
};

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
	w->n_crcs = n_crcs;
	memcpy(w->crcs, crcs, n_crcs * sizeof(uint32_t));
	return w;
}

void cs_store_write_abort(struct cs_store_write *w)
{
	if (!w)
		return;
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

/* Reserve len bytes at off; file systems without fallocate just skip it. */
static int reserve(int fd, uint64_t off, uint64_t len)
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
	rc = reserve(w->fd, 0, cs_replica_file_bytes(length));
	if (rc < 0)
		goto out_abort;
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

/* Check a range update against the index: the base must be held. */
static int update_target(struct cs_store *st, uint64_t id, uint32_t base,
			 uint16_t *dir)
{
	struct cs_entry *e;
	int rc = 0;

	pthread_mutex_lock(&st->mu);
	e = cs_store_entry_find(st, id);
	if (!e || !e->present)
		rc = -ENOENT;
	else if (e->version != base)
		rc = -ESTALE;
	else
		*dir = e->dir;
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
	rc = update_target(st, chunk_id, base, &w->dir);
	if (rc < 0)
		goto out_abort;
	rc = spool_open(st, w->dir);
	if (rc < 0)
		goto out_abort;
	w->fd = rc;
	rc = reserve(w->fd, 0, length);
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

int cs_store_write_data(struct cs_store_write *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t base = w->range ? 0 : CS_REPLICA_DATA_OFFSET;
	int rc;

	if (len > w->length - w->received)
		return -E2BIG;
	rc =
	    cs_replica_pwrite_all(w->fd, buf, len, (off_t)(base + w->received));
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
	/* Index it even if the directory fsync failed: the file is there. */
	pthread_mutex_lock(&st->mu);
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

/* --- range update ------------------------------------------------------- */
struct update {
	struct cs_store_write *w;
	int sub_fd;
	int fd; /* the replica, renamed to ".updating" */
	unsigned old_slot;
	struct cs_replica_hdr *old;
	struct cs_replica_hdr *new;
	uint64_t cut;	 /* data kept from the base: min(base_length, length) */
	uint64_t newlen; /* max(base_length, offset + body length) */
};

/* Make data bytes [from, to) read as zero. */
static int zero_range(int fd, uint64_t from, uint64_t to)
{
	uint8_t *zeros;
	int rc = 0;

	if (to <= from)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(CS_REPLICA_DATA_OFFSET + from),
		      (off_t)(to - from)) == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return cs_replica_write_err(errno);
	zeros = calloc(1, RFS_CRC_BLOCK_BYTES);
	if (!zeros)
		return -ENOMEM;
	while (rc == 0 && from < to) {
		size_t n = to - from < RFS_CRC_BLOCK_BYTES
			       ? (size_t)(to - from)
			       : RFS_CRC_BLOCK_BYTES;

		rc = cs_replica_pwrite_all(
		    fd, zeros, n, (off_t)(CS_REPLICA_DATA_OFFSET + from));
		from += n;
	}
	free(zeros);
	return rc;
}

/*
 * Give the replica its new shape: space for the body reserved first (the
 * only step that fails on a full disk, and it changes no data), then the
 * base's bytes past base_length zeroed and the file cut or extended to the
 * new length.
 */
static int update_reshape(struct update *u)
{
	struct cs_store_write *w = u->w;
	uint64_t old_len = u->old->length;
	uint64_t body_end = w->offset + w->length;
	uint64_t zero_end;
	int rc;

	u->cut = w->base_length < old_len ? w->base_length : old_len;
	u->newlen = w->base_length > body_end ? w->base_length : body_end;
	zero_end = old_len < u->newlen ? old_len : u->newlen;
	rc = reserve(u->fd, CS_REPLICA_DATA_OFFSET + w->offset, w->length);
	if (rc == 0)
		rc = zero_range(u->fd, u->cut,
				zero_end < w->offset ? zero_end : w->offset);
	if (rc == 0)
		rc = zero_range(u->fd, u->cut > body_end ? u->cut : body_end,
				zero_end);
	if (rc == 0 &&
	    ftruncate(u->fd, (off_t)cs_replica_file_bytes(u->newlen)) < 0)
		rc = cs_replica_write_err(errno);
	return rc;
}

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

/* Copy the spooled body into the replica, in the kernel where possible. */
static int copy_spool(struct update *u)
{
	struct cs_store_write *w = u->w;
	loff_t in = 0;
	loff_t out = (loff_t)(CS_REPLICA_DATA_OFFSET + w->offset);
	uint64_t left = w->length;

	while (left > 0) {
		ssize_t n = copy_file_range(w->fd, &in, u->fd, &out, left, 0);

		if (n > 0) {
			left -= (uint64_t)n;
			continue;
		}
		if (n == 0)
			return -EIO; /* the spool is shorter than it should be */
		if (errno == EINTR)
			continue;
		if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
		    errno == EOPNOTSUPP)
			return copy_fallback(w->fd, in, u->fd, out, left);
		return cs_replica_write_err(errno);
	}
	return 0;
}

/*
 * The new CRC table: a block the update did not touch keeps its stored
 * CRC, a block the body covers exactly takes the body's (verified) CRC,
 * and any other block (partly written, zeroed or newly extended) is read
 * back and checksummed.
 */
static int update_crcs(struct update *u)
{
	struct cs_store_write *w = u->w;
	uint64_t body_end = w->offset + w->length;
	size_t n = rfs_crc_block_count(u->newlen);
	int rc = 0;

	u->new->n_blocks = (uint32_t)n;
	for (size_t b = 0; rc == 0 && b < n; b++) {
		uint64_t start = (uint64_t)b * RFS_CRC_BLOCK_BYTES;
		uint64_t end = start + RFS_CRC_BLOCK_BYTES;
		uint64_t end_new = end < u->newlen ? end : u->newlen;
		uint64_t end_old = end < u->old->length ? end : u->old->length;
		/* offset is block-aligned: a block the body touches starts
		 * at or after it. */
		bool in_body = start < body_end && end_new > w->offset;

		if (in_body && end_new == (end < body_end ? end : body_end))
			u->new->crcs[b] =
			    w->crcs[(start - w->offset) / RFS_CRC_BLOCK_BYTES];
		else if (!in_body && end_new <= u->cut && end_old == end_new)
			u->new->crcs[b] = u->old->crcs[b];
		else
			rc = cs_replica_block_crc(u->fd, u->newlen, b,
						  &u->new->crcs[b]);
	}
	return rc;
}

/* Steps of a range update after the rename to ".updating". */
static int update_write(struct update *u, bool sync)
{
	struct cs_store_write *w = u->w;
	int rc;

	rc = cs_replica_hdr_read_slot(u->fd, u->old_slot, u->old);
	if (rc == 0 &&
	    (u->old->chunk_id != w->id || u->old->version != w->base))
		rc = -EIO; /* the index and the file disagree */
	if (rc == 0)
		rc = update_reshape(u);
	if (rc == 0)
		rc = copy_spool(u);
	if (rc == 0)
		rc = update_crcs(u);
	if (rc == 0 && sync)
		rc = cs_store_fsync(u->fd);
	if (rc < 0)
		return rc;
	/* Data and new checksums are durable: only now may the header (in
	 * the other slot, so the old one survives a torn write) say so. */
	u->new->seq = u->old->seq + 1;
	u->new->chunk_id = w->id;
	u->new->version = w->version;
	u->new->length = u->newlen;
	rc = cs_replica_hdr_write(u->fd, 1 - u->old_slot, u->new);
	if (rc == 0 && sync)
		rc = cs_store_fsync(u->fd);
	return rc;
}

/* After a failed update: put the file back under the name of the version
 * its header holds, exactly as recovery at start-up would, and index it. */
static void update_rollback(struct update *u, struct cs_entry *e)
{
	struct cs_store_write *w = u->w;
	struct cs_store *st = w->st;
	unsigned slot = 0;
	int rc;

	rc =
	    cs_store_recover_updating(u->sub_fd, w->id, w->base, u->new, &slot);
	pthread_mutex_lock(&st->mu);
	if (rc == 0)
		cs_store_entry_set(st, e, true, w->dir, u->new->version,
				   u->new->length, (uint8_t)slot);
	else
		cs_store_entry_set(st, e, false, 0, 0, 0, 0);
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		rfs_log_error(NULL,
			      "msg=\"cannot roll back range update\" "
			      "chunk=%016llx err=%s",
			      (unsigned long long)w->id, rfs_errno_name(rc));
}

/* Names of the replica during a range update. */
struct update_names {
	char base[CS_REPLICA_NAME_MAX];
	char updating[CS_REPLICA_NAME_MAX];
	char final[CS_REPLICA_NAME_MAX];
};

static int update_apply(struct update *u, struct cs_entry *e, bool sync)
{
	struct cs_store_write *w = u->w;
	struct update_names nm;
	int rc;

	cs_replica_name(w->id, w->base, NULL, nm.base);
	cs_replica_name(w->id, w->base, CS_REPLICA_SUFFIX_UPDATING,
			nm.updating);
	cs_replica_name(w->id, w->version, NULL, nm.final);
	/* From here until the final rename no file claims either version. */
	if (renameat(u->sub_fd, nm.base, u->sub_fd, nm.updating) < 0)
		return -errno;
	rc = sync ? cs_store_fsync(u->sub_fd) : 0;
	u->fd =
	    rc == 0 ? openat(u->sub_fd, nm.updating, O_RDWR | O_CLOEXEC) : -1;
	if (rc == 0 && u->fd < 0)
		rc = -errno;
	if (rc == 0)
		rc = update_write(u, sync);
	if (rc == 0 &&
	    renameat(u->sub_fd, nm.updating, u->sub_fd, nm.final) < 0)
		rc = -errno;
	if (rc < 0) {
		update_rollback(u, e);
		return rc;
	}
	rc = sync ? cs_store_fsync(u->sub_fd) : 0;
	pthread_mutex_lock(&w->st->mu);
	cs_store_entry_set(w->st, e, true, w->dir, w->version, u->newlen,
			   (uint8_t)(1 - u->old_slot));
	pthread_mutex_unlock(&w->st->mu);
	return rc;
}

/* With the chunk's write lock: check the base is still there and mark the
 * chunk as being updated so reads back off. */
static int update_claim(struct cs_store_write *w, struct cs_entry *e,
			unsigned *slot)
{
	int rc = 0;

	pthread_mutex_lock(&w->st->mu);
	if (!e->present)
		rc = -ENOENT;
	else if (e->version != w->base)
		rc = -ESTALE;
	else if (e->dir != w->dir)
		rc = -ESTALE; /* replaced and moved since begin */
	if (rc == 0) {
		e->updating = true;
		*slot = e->slot;
	}
	pthread_mutex_unlock(&w->st->mu);
	return rc;
}

static int update_commit(struct cs_store_write *w, bool sync)
{
	struct update u = {.w = w, .sub_fd = -1, .fd = -1};
	struct cs_entry *e;
	int rc;

	u.old = malloc(sizeof(*u.old));
	u.new = malloc(sizeof(*u.new));
	rc = (u.old && u.new) ? cs_store_chunk_lock(w->st, w->id, &e) : -ENOMEM;
	if (rc < 0)
		goto out_free_hdrs;
	rc = update_claim(w, e, &u.old_slot);
	if (rc == 0) {
		u.sub_fd = cs_store_subdir_open(w->st, w->dir, w->id, false);
		rc = u.sub_fd < 0 ? u.sub_fd : update_apply(&u, e, sync);
	}
	cs_store_chunk_unlock(w->st, e);
	if (u.fd >= 0)
		close(u.fd);
	if (u.sub_fd >= 0)
		close(u.sub_fd);
out_free_hdrs:
	free(u.old);
	free(u.new);
	return rc;
}

int cs_store_write_commit(struct cs_store_write *w, bool sync)
{
	int rc = body_complete(w);

	if (rc == 0)
		rc = w->range ? update_commit(w, sync) : whole_commit(w, sync);
	if (rc == 0)
		atomic_fetch_add(&w->st->bytes_written, w->length);
	cs_store_write_abort(w);
	return rc;
}
