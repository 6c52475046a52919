/*
 * store_read: reads of a replica range, of the newest version of a chunk
 * or of an older one still held (a full file, or an undo file whose other
 * bytes come from the newer version's file).
 */
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

/* With st->mu held: open a version's file. Returns an fd or a negative
 * errno. */
static int open_version(struct cs_store *st, uint16_t dir, uint64_t id,
			uint32_t version, const char *suffix)
{
	char path[3 + 1 + CS_REPLICA_NAME_MAX];
	char name[CS_REPLICA_NAME_MAX];
	char sub[3];
	int fd;

	cs_replica_subdir(id, sub);
	cs_replica_name(id, version, suffix, name);
	snprintf(path, sizeof(path), "%s/%s", sub, name);
	fd = openat(st->dirs[dir].chunks_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) /* ENOENT: renamed since the lookup; cannot happen
		     * while the index is updated in the right order */
		return errno == ENOENT ? -EAGAIN : -errno;
	return fd;
}

/* With st->mu held: where the full version `version` of e is. */
static int full_location(const struct cs_entry *e, uint32_t version,
			 uint16_t *dir, unsigned *slot, uint64_t *length)
{
	const struct cs_old *o;

	if (e->version == version) {
		if (e->updating)
			return -EAGAIN;
		*dir = e->dir;
		*slot = e->slot;
		*length = e->length;
		return 0;
	}
	o = cs_store_old_find(e, version);
	if (!o || o->undo)
		return -ESTALE;
	*dir = o->dir;
	*slot = o->slot;
	*length = o->length;
	return 0;
}

/* With st->mu held: check a read request against the index and open the
 * files it reads from. */
static int read_lookup(struct cs_store *st, uint64_t id, uint32_t version,
		       uint64_t offset, uint64_t *length,
		       struct cs_read_src *src)
{
	struct cs_entry *e = cs_store_entry_find(st, id);
	const struct cs_old *o = NULL;
	uint64_t full_len = 0;
	uint64_t avail;
	uint16_t dir = 0;
	int rc;

	if (!e || !e->present)
		return -ENOENT;
	if (e->version != version) {
		o = cs_store_old_find(e, version);
		if (!o)
			return -ESTALE;
	}
	rc = full_location(e, o && o->undo ? o->over : version, &dir,
			   &src->slot, &full_len);
	if (rc < 0)
		return rc == -ESTALE ? -EAGAIN : rc; /* an undo without base */
	src->length = o ? o->length : full_len;
	if (offset > src->length)
		return -EINVAL;
	avail = src->length - offset;
	if (*length < avail && *length % RFS_CRC_BLOCK_BYTES != 0)
		return -EINVAL;
	if (*length > avail)
		*length = avail;
	if (o && o->undo) {
		src->undo_start = o->undo_start;
		src->undo_end = o->undo_end;
		src->undo_fd = open_version(st, o->dir, id, version,
					    CS_REPLICA_SUFFIX_UNDO);
		if (src->undo_fd < 0)
			return src->undo_fd;
	}
	src->fd =
	    open_version(st, dir, id, o && o->undo ? o->over : version, NULL);
	return src->fd < 0 ? src->fd : 0;
}

/* Bytes [offset, offset + len) of an undo version into buf: the saved
 * range from the undo file, the rest from the newer version's file. */
static int undo_compose(const struct cs_read_src *src, uint64_t offset,
			uint64_t len, char *buf)
{
	uint64_t pos = offset;
	uint64_t end = offset + len;
	int rc = 0;

	while (rc == 0 && pos < end) {
		bool saved = pos >= src->undo_start && pos < src->undo_end;
		uint64_t stop = saved			? src->undo_end
				: pos < src->undo_start ? src->undo_start
							: end;

		if (stop > end)
			stop = end;
		rc = cs_replica_pread_all(
		    saved ? src->undo_fd : src->fd, buf + (pos - offset),
		    (size_t)(stop - pos),
		    (off_t)(CS_REPLICA_DATA_OFFSET +
			    (saved ? pos - src->undo_start : pos)));
		pos = stop;
	}
	return rc;
}

/* Check a composed range against the version's CRCs. */
static int verify_buf(const char *buf, uint64_t len, const uint32_t *crcs,
		      size_t first, size_t *bad)
{
	size_t n = rfs_crc_block_count(len);

	for (size_t i = 0; i < n; i++) {
		uint64_t off = (uint64_t)i * RFS_CRC_BLOCK_BYTES;
		uint64_t blen = len - off < RFS_CRC_BLOCK_BYTES
				    ? len - off
				    : RFS_CRC_BLOCK_BYTES;

		if (rfs_crc32c(0, buf + off, (size_t)blen) != crcs[i]) {
			*bad = first + i;
			return -EBADMSG;
		}
	}
	return 0;
}

/*
 * The data of a read of an undo version: straight from the newer file
 * when the range misses the saved bytes, else composed in memory (rare:
 * only while a newer version is not committed yet, or a reader is late).
 */
static int undo_data(struct cs_store_extent *out, struct cs_read_src *src,
		     uint64_t offset, bool verify)
{
	size_t first = (size_t)(offset / RFS_CRC_BLOCK_BYTES);
	int rc;

	if (offset + out->len <= src->undo_start || offset >= src->undo_end) {
		out->fd = src->fd;
		src->fd = -1;
		return 0;
	}
	out->buf = malloc(out->len ? out->len : 1);
	if (!out->buf)
		return -ENOMEM;
	rc = undo_compose(src, offset, out->len, out->buf);
	if (rc == 0 && verify)
		rc = verify_buf(out->buf, out->len, out->crcs, first,
				&out->bad_block);
	return rc;
}

/* Fill the CRCs (and data source) of an opened extent from the header of
 * the version read. */
static int extent_fill(struct cs_store_extent *out, struct cs_read_src *src,
		       uint32_t version, uint64_t offset, bool verify)
{
	struct cs_replica_hdr *hdr = malloc(sizeof(*hdr));
	size_t first = (size_t)(offset / RFS_CRC_BLOCK_BYTES);
	bool undo = src->undo_fd >= 0;
	int rc;

	if (!hdr)
		return -ENOMEM;
	rc = cs_replica_hdr_read_slot(undo ? src->undo_fd : src->fd,
				      undo ? 0 : src->slot, hdr);
	if (rc == 0 &&
	    (hdr->version != version || hdr->length != out->chunk_length))
		rc = -EAGAIN; /* replaced between lookup and open */
	if (rc < 0)
		goto out_free_hdr;
	out->n_crcs = rfs_crc_block_count(out->len);
	out->crcs = calloc(out->n_crcs ? out->n_crcs : 1, sizeof(uint32_t));
	if (!out->crcs) {
		rc = -ENOMEM;
		goto out_free_hdr;
	}
	memcpy(out->crcs, hdr->crcs + first, out->n_crcs * sizeof(uint32_t));
	if (undo)
		rc = undo_data(out, src, offset, verify);
	else {
		out->fd = src->fd;
		src->fd = -1;
	}
	if (rc == 0 && verify && !out->buf)
		rc = cs_replica_verify(out->fd, hdr, first, out->n_crcs,
				       &out->bad_block, NULL);
out_free_hdr:
	free(hdr);
	return rc;
}

int cs_store_read_open(struct cs_store *st, uint64_t chunk_id, uint32_t version,
		       uint64_t offset, uint64_t length, bool verify,
		       struct cs_store_extent *out)
{
	struct cs_read_src src = {.fd = -1, .undo_fd = -1};
	int rc;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (offset % RFS_CRC_BLOCK_BYTES != 0)
		return -EINVAL;
	pthread_mutex_lock(&st->mu);
	rc = read_lookup(st, chunk_id, version, offset, &length, &src);
	pthread_mutex_unlock(&st->mu);
	if (rc == 0) {
		out->chunk_length = src.length;
		out->len = length;
		out->file_offset = CS_REPLICA_DATA_OFFSET + offset;
		rc = extent_fill(out, &src, version, offset, verify);
	}
	if (src.fd >= 0)
		close(src.fd);
	if (src.undo_fd >= 0)
		close(src.undo_fd);
	if (rc == -EBADMSG) {
		atomic_fetch_add(&st->checksum_failures, 1);
		rfs_log_warn(NULL,
			     "msg=\"stored block fails its checksum\" "
			     "chunk=%016llx version=%u block=%zu",
			     (unsigned long long)chunk_id, version,
			     out->bad_block);
		rc = -EIO;
	}
	if (rc < 0) {
		size_t bad = out->bad_block;

		cs_store_extent_release(out);
		out->bad_block = bad;
	}
	return rc;
}

void cs_store_extent_release(struct cs_store_extent *ext)
{
	if (!ext)
		return;
	if (ext->fd >= 0)
		close(ext->fd);
	free(ext->crcs);
	free(ext->buf);
	memset(ext, 0, sizeof(*ext));
	ext->fd = -1;
}
