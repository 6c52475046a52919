#include <config.h>
#include "chunkserver/replica.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/crc32c.h"

/* Byte offsets of the fixed header fields (see docs/formats.md). */
#define HDR_OFF_MAGIC	0
#define HDR_OFF_FORMAT	8
#define HDR_OFF_HDR_CRC 12
#define HDR_OFF_SEQ	16
#define HDR_OFF_ID	24
#define HDR_OFF_VERSION 32
#define HDR_OFF_BLOCK	36
#define HDR_OFF_LENGTH	40
#define HDR_OFF_NBLOCKS 48
#define HDR_MAGIC_LEN	8
#define HDR_BYTES_MAX	(CS_REPLICA_HDR_FIXED + 4 * CS_REPLICA_BLOCKS_MAX)
#define NAME_ID_DIGITS	16
#define NAME_VER_DIGITS 8
#define NAME_BASE_LEN	(NAME_ID_DIGITS + 1 + NAME_VER_DIGITS)

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int cs_replica_name(uint64_t chunk_id, uint32_t version, const char *suffix,
		    char *out)
{
	int n = snprintf(out, CS_REPLICA_NAME_MAX, "%016llx_%08x%s",
			 (unsigned long long)chunk_id, (unsigned)version,
			 suffix ? suffix : "");

	if (n < 0 || n >= CS_REPLICA_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

void cs_replica_subdir(uint64_t chunk_id, char *out)
{
	snprintf(out, 3, "%02x", (unsigned)(chunk_id & 0xff));
}

static bool parse_hex(const char *s, size_t digits, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < digits; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		v = (v << 4) | d;
	}
	*out = v;
	return true;
}

enum cs_replica_kind cs_replica_name_parse(const char *name, uint64_t *chunk_id,
					   uint32_t *version)
{
	uint64_t id;
	uint64_t ver;
	const char *rest;

	if (strnlen(name, NAME_BASE_LEN) < NAME_BASE_LEN ||
	    name[NAME_ID_DIGITS] != '_' ||
	    !parse_hex(name, NAME_ID_DIGITS, &id) ||
	    !parse_hex(name + NAME_ID_DIGITS + 1, NAME_VER_DIGITS, &ver))
		return CS_REPLICA_OTHER;
	*chunk_id = id;
	*version = (uint32_t)ver;
	rest = name + NAME_BASE_LEN;
	if (*rest == '\0')
		return CS_REPLICA_FINAL;
	if (strcmp(rest, CS_REPLICA_SUFFIX_UPDATING) == 0)
		return CS_REPLICA_UPDATING;
	if (strncmp(rest, CS_REPLICA_SUFFIX_TMP,
		    strlen(CS_REPLICA_SUFFIX_TMP)) == 0)
		return CS_REPLICA_TMP;
	if (strcmp(rest, CS_REPLICA_SUFFIX_UNDO) == 0)
		return CS_REPLICA_UNDO;
	return CS_REPLICA_OTHER;
}

/* Serialise hdr into buf (HDR_BYTES_MAX bytes); returns the bytes used. */
static size_t hdr_encode(const struct cs_replica_hdr *hdr, uint8_t *buf)
{
	size_t len = CS_REPLICA_HDR_FIXED + 4 * (size_t)hdr->n_blocks;

	memset(buf, 0, CS_REPLICA_HDR_FIXED);
	memcpy(buf + HDR_OFF_MAGIC, CS_REPLICA_MAGIC, HDR_MAGIC_LEN);
	put_le32(buf + HDR_OFF_FORMAT, CS_REPLICA_FORMAT);
	put_le64(buf + HDR_OFF_SEQ, hdr->seq);
	put_le64(buf + HDR_OFF_ID, hdr->chunk_id);
	put_le32(buf + HDR_OFF_VERSION, hdr->version);
	put_le32(buf + HDR_OFF_BLOCK, RFS_CRC_BLOCK_BYTES);
	put_le64(buf + HDR_OFF_LENGTH, hdr->length);
	put_le32(buf + HDR_OFF_NBLOCKS, hdr->n_blocks);
	for (uint32_t i = 0; i < hdr->n_blocks; i++)
		put_le32(buf + CS_REPLICA_HDR_FIXED + 4 * i, hdr->crcs[i]);
	put_le32(buf + HDR_OFF_HDR_CRC, rfs_crc32c(0, buf, len));
	return len;
}

/* Parse a slot; -EBADMSG unless it is a complete, consistent header. */
static int hdr_decode(uint8_t *buf, struct cs_replica_hdr *hdr)
{
	uint32_t stored_crc = get_le32(buf + HDR_OFF_HDR_CRC);
	size_t len;

	if (memcmp(buf + HDR_OFF_MAGIC, CS_REPLICA_MAGIC, HDR_MAGIC_LEN) != 0 ||
	    get_le32(buf + HDR_OFF_FORMAT) != CS_REPLICA_FORMAT ||
	    get_le32(buf + HDR_OFF_BLOCK) != RFS_CRC_BLOCK_BYTES)
		return -EBADMSG;
	hdr->seq = get_le64(buf + HDR_OFF_SEQ);
	hdr->chunk_id = get_le64(buf + HDR_OFF_ID);
	hdr->version = get_le32(buf + HDR_OFF_VERSION);
	hdr->length = get_le64(buf + HDR_OFF_LENGTH);
	hdr->n_blocks = get_le32(buf + HDR_OFF_NBLOCKS);
	if (hdr->length > RFS_CHUNK_SIZE_MAX ||
	    hdr->n_blocks != rfs_crc_block_count(hdr->length))
		return -EBADMSG;
	len = CS_REPLICA_HDR_FIXED + 4 * (size_t)hdr->n_blocks;
	put_le32(buf + HDR_OFF_HDR_CRC, 0);
	if (rfs_crc32c(0, buf, len) != stored_crc)
		return -EBADMSG;
	for (uint32_t i = 0; i < hdr->n_blocks; i++)
		hdr->crcs[i] = get_le32(buf + CS_REPLICA_HDR_FIXED + 4 * i);
	return 0;
}

int cs_replica_hdr_read_slot(int fd, unsigned slot, struct cs_replica_hdr *hdr)
{
	uint8_t *buf;
	ssize_t n;
	int rc;

	if (slot >= CS_REPLICA_SLOTS)
		return -EINVAL;
	buf = calloc(1, HDR_BYTES_MAX);
	if (!buf)
		return -ENOMEM;
	do {
		n = pread(fd, buf, HDR_BYTES_MAX,
			  (off_t)slot * CS_REPLICA_SLOT_BYTES);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		rc = -errno;
		goto out_free_buf;
	}
	/* A short read leaves zeros, which fail the magic or the CRC. */
	rc = hdr_decode(buf, hdr);
out_free_buf:
	free(buf);
	return rc;
}

int cs_replica_hdr_read(int fd, struct cs_replica_hdr *hdr, unsigned *slot)
{
	struct cs_replica_hdr *other;
	int rc0;
	int rc1;

	other = malloc(sizeof(*other));
	if (!other)
		return -ENOMEM;
	rc0 = cs_replica_hdr_read_slot(fd, 0, hdr);
	rc1 = cs_replica_hdr_read_slot(fd, 1, other);
	if (rc0 < 0 && rc0 != -EBADMSG) {
		free(other);
		return rc0;
	}
	if (rc1 < 0 && rc1 != -EBADMSG) {
		free(other);
		return rc1;
	}
	if (rc1 == 0 && (rc0 < 0 || other->seq > hdr->seq)) {
		memcpy(hdr, other, sizeof(*hdr));
		*slot = 1;
	} else {
		*slot = 0;
	}
	free(other);
	return (rc0 == 0 || rc1 == 0) ? 0 : -EBADMSG;
}

int cs_replica_hdr_write(int fd, unsigned slot,
			 const struct cs_replica_hdr *hdr)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (slot >= CS_REPLICA_SLOTS || hdr->n_blocks > CS_REPLICA_BLOCKS_MAX)
		return -EINVAL;
	buf = calloc(1, HDR_BYTES_MAX);
	if (!buf)
		return -ENOMEM;
	len = hdr_encode(hdr, buf);
	rc = cs_replica_pwrite_all(fd, buf, len,
				   (off_t)slot * CS_REPLICA_SLOT_BYTES);
	free(buf);
	return rc;
}

/* Bytes of block `block` in a replica `length` bytes long. */
static size_t block_len(uint64_t length, size_t block)
{
	uint64_t start = (uint64_t)block * RFS_CRC_BLOCK_BYTES;

	if (start >= length)
		return 0;
	if (length - start < RFS_CRC_BLOCK_BYTES)
		return (size_t)(length - start);
	return RFS_CRC_BLOCK_BYTES;
}

static int block_crc_buf(int fd, uint64_t length, size_t block, uint8_t *buf,
			 uint32_t *crc)
{
	size_t len = block_len(length, block);
	int rc;

	rc = cs_replica_pread_all(fd, buf, len,
				  CS_REPLICA_DATA_OFFSET +
				      (off_t)block * RFS_CRC_BLOCK_BYTES);
	if (rc < 0)
		return rc;
	*crc = rfs_crc32c(0, buf, len);
	return 0;
}

int cs_replica_block_crc(int fd, uint64_t length, size_t block, uint32_t *crc)
{
	uint8_t *buf = malloc(RFS_CRC_BLOCK_BYTES);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = block_crc_buf(fd, length, block, buf, crc);
	free(buf);
	return rc;
}

int cs_replica_verify(int fd, const struct cs_replica_hdr *hdr, size_t first,
		      size_t n, size_t *bad, size_t *n_bad)
{
	uint8_t *buf;
	uint32_t crc;
	int rc = 0;

	if (first > hdr->n_blocks || n > hdr->n_blocks - first)
		return -EINVAL;
	buf = malloc(RFS_CRC_BLOCK_BYTES);
	if (!buf)
		return -ENOMEM;
	if (n_bad)
		*n_bad = 0;
	for (size_t b = first; b < first + n; b++) {
		int err = block_crc_buf(fd, hdr->length, b, buf, &crc);

		if (err < 0) {
			rc = err;
			break;
		}
		if (crc == hdr->crcs[b])
			continue;
		if (rc == 0)
			*bad = b;
		rc = -EBADMSG;
		if (!n_bad)
			break;
		(*n_bad)++;
	}
	free(buf);
	return rc;
}

int cs_replica_write_err(int err)
{
	if (err == ENOSPC || err == EDQUOT || err == EFBIG)
		return -ENOSPC;
	return -err;
}

int cs_replica_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cs_replica_write_err(errno);
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int cs_replica_pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Byte offsets of the undo record fields (see docs/formats.md). */
#define UNDO_OFF_MAGIC	 0
#define UNDO_OFF_FORMAT	 8
#define UNDO_OFF_CRC	 12
#define UNDO_OFF_ID	 16
#define UNDO_OFF_VERSION 24
#define UNDO_OFF_OVER	 28
#define UNDO_OFF_START	 32
#define UNDO_OFF_END	 40
#define UNDO_REC_BYTES	 48

int cs_undo_rec_write(int fd, const struct cs_undo_rec *rec)
{
	uint8_t buf[UNDO_REC_BYTES];

	memset(buf, 0, sizeof(buf));
	memcpy(buf + UNDO_OFF_MAGIC, CS_UNDO_MAGIC, HDR_MAGIC_LEN);
	put_le32(buf + UNDO_OFF_FORMAT, CS_UNDO_FORMAT);
	put_le64(buf + UNDO_OFF_ID, rec->chunk_id);
	put_le32(buf + UNDO_OFF_VERSION, rec->version);
	put_le32(buf + UNDO_OFF_OVER, rec->over);
	put_le64(buf + UNDO_OFF_START, rec->start);
	put_le64(buf + UNDO_OFF_END, rec->end);
	put_le32(buf + UNDO_OFF_CRC, rfs_crc32c(0, buf, sizeof(buf)));
	return cs_replica_pwrite_all(fd, buf, sizeof(buf),
				     (off_t)CS_UNDO_REC_SLOT *
					 CS_REPLICA_SLOT_BYTES);
}

int cs_undo_rec_read(int fd, struct cs_undo_rec *rec)
{
	uint8_t buf[UNDO_REC_BYTES];
	uint32_t crc;
	int rc;

	rc = cs_replica_pread_all(fd, buf, sizeof(buf),
				  (off_t)CS_UNDO_REC_SLOT *
				      CS_REPLICA_SLOT_BYTES);
	if (rc == -EIO)
		return -EBADMSG; /* too short to hold a record */
	if (rc < 0)
		return rc;
	crc = get_le32(buf + UNDO_OFF_CRC);
	put_le32(buf + UNDO_OFF_CRC, 0);
	if (memcmp(buf + UNDO_OFF_MAGIC, CS_UNDO_MAGIC, HDR_MAGIC_LEN) != 0 ||
	    get_le32(buf + UNDO_OFF_FORMAT) != CS_UNDO_FORMAT ||
	    rfs_crc32c(0, buf, sizeof(buf)) != crc)
		return -EBADMSG;
	rec->chunk_id = get_le64(buf + UNDO_OFF_ID);
	rec->version = get_le32(buf + UNDO_OFF_VERSION);
	rec->over = get_le32(buf + UNDO_OFF_OVER);
	rec->start = get_le64(buf + UNDO_OFF_START);
	rec->end = get_le64(buf + UNDO_OFF_END);
	if (rec->start > rec->end || rec->end > RFS_CHUNK_SIZE_MAX ||
	    rec->over <= rec->version)
		return -EBADMSG;
	return 0;
}
