/*
 * replica: the on-disk format of one chunk replica file, and the file-level
 * operations the store builds on. A replica file is
 *
 *   [0, 8192)      header slot 0
 *   [8192, 16384)  header slot 1
 *   [16384, ...)   chunk data, `length` bytes (the file is exactly
 *                  CS_REPLICA_DATA_OFFSET + length bytes long)
 *
 * A header holds the chunk id, version, length, a sequence number and the
 * CRC32C of every 64 KiB data block, and is protected by its own CRC32C.
 * The valid slot with the highest sequence number is the current header; a
 * range update writes its new header into the other slot, so a torn header
 * write can never destroy the previous one. The data offset is fixed and
 * page-aligned so any block range is sent with one sendfile. All integers
 * are little-endian. Names: "<16 hex chunk id>_<8 hex version>", plus
 * ".updating" during a range update and ".tmp.<hex>" while being written.
 * docs/formats.md ("Chunk replica files") is the prose version.
 * Pure functions and plain file I/O on fds the caller owns; thread-safe.
 */
#ifndef RFS_CHUNKSERVER_REPLICA_H
#define RFS_CHUNKSERVER_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/crc32c.h"
#include "common/proto.h"

#define CS_REPLICA_MAGIC  "RFSCHUNK" /* 8 bytes, no NUL on disk */
#define CS_REPLICA_FORMAT 1
/* Header fields before the CRC table. */
#define CS_REPLICA_HDR_FIXED  64
#define CS_REPLICA_BLOCKS_MAX (RFS_CHUNK_SIZE_MAX / RFS_CRC_BLOCK_BYTES)
/* One slot holds the largest header (64 + 4 * 1024 bytes) rounded up to
 * two 4 KiB pages. */
#define CS_REPLICA_SLOT_BYTES  8192
#define CS_REPLICA_SLOTS       2
#define CS_REPLICA_DATA_OFFSET (CS_REPLICA_SLOTS * CS_REPLICA_SLOT_BYTES)
/* Longest file name the store uses, NUL included. */
#define CS_REPLICA_NAME_MAX	   64
#define CS_REPLICA_SUFFIX_UPDATING ".updating"
#define CS_REPLICA_SUFFIX_TMP	   ".tmp."
#define CS_REPLICA_SUFFIX_CORRUPT  ".corrupt"
#define CS_REPLICA_SUFFIX_UNDO	   ".undo"
/* Named spool files (where O_TMPFILE is missing), in chunks/ itself. */
#define CS_REPLICA_SPOOL_PREFIX "spool.tmp."

struct cs_replica_hdr {
	uint64_t seq; /* higher wins between the two slots */
	uint64_t chunk_id;
	uint32_t version;
	uint64_t length;
	uint32_t n_blocks; /* rfs_crc_block_count(length) */
	uint32_t crcs[CS_REPLICA_BLOCKS_MAX];
};

enum cs_replica_kind {
	CS_REPLICA_OTHER = 0, /* not ours, or quarantined (.corrupt) */
	CS_REPLICA_FINAL,     /* "<id>_<version>" */
	CS_REPLICA_UPDATING,  /* "<id>_<base version>.updating" */
	CS_REPLICA_TMP,	      /* "<id>_<version>.tmp.<hex>" */
	CS_REPLICA_UNDO,      /* "<id>_<older version>.undo" */
};

/*
 * Write "<id>_<version>" followed by suffix (may be NULL) into out, which
 * holds CS_REPLICA_NAME_MAX bytes. Returns 0 or -ENAMETOOLONG.
 */
int cs_replica_name(uint64_t chunk_id, uint32_t version, const char *suffix,
		    char *out);

/* Subdirectory (2 hex digits, the id's low byte) holding a chunk; out
 * holds 3 bytes. */
void cs_replica_subdir(uint64_t chunk_id, char *out);

/* Classify a file name, filling id and version for the kinds that carry
 * them. Pure. */
enum cs_replica_kind cs_replica_name_parse(const char *name, uint64_t *chunk_id,
					   uint32_t *version);

/*
 * Read both header slots of fd and return the current one in *hdr and its
 * slot number in *slot. Returns 0, -EBADMSG when no slot is valid (bad
 * magic, format, CRC, or fields out of range), or an I/O errno.
 */
int cs_replica_hdr_read(int fd, struct cs_replica_hdr *hdr, unsigned *slot);

/* Read only the given slot (the index remembers which one is current). */
int cs_replica_hdr_read_slot(int fd, unsigned slot, struct cs_replica_hdr *hdr);

/* Write hdr (with its CRC) into a slot. Returns 0 or a negative errno. */
int cs_replica_hdr_write(int fd, unsigned slot,
			 const struct cs_replica_hdr *hdr);

/* CRC32C of data block `block` of a replica `length` bytes long. */
int cs_replica_block_crc(int fd, uint64_t length, size_t block, uint32_t *crc);

/*
 * Check blocks [first, first + n) of fd against hdr. Returns 0 when all
 * match, -EBADMSG with *bad set to the first mismatching block, or an I/O
 * errno. Counts every mismatching block into *n_bad when n_bad is not
 * NULL (then it does not stop at the first).
 */
int cs_replica_verify(int fd, const struct cs_replica_hdr *hdr, size_t first,
		      size_t n, size_t *bad, size_t *n_bad);

/*
 * Write/read exactly len bytes at off, retrying short transfers and EINTR.
 * Errors are negative errnos; ENOSPC, EDQUOT and EFBIG become -ENOSPC and
 * a read hitting end of file is -EIO.
 */
int cs_replica_pwrite_all(int fd, const void *buf, size_t len, off_t off);
int cs_replica_pread_all(int fd, void *buf, size_t len, off_t off);

/*
 * Undo file "<id>_<version>.undo": an older version of a chunk that a range
 * update rewrote in place. Slot 0 holds that version's header (as in a
 * replica file), slot 1 this record, and the data area the bytes [start,
 * end) of that version; its other bytes are in the replica file of version
 * `over`, at the same offsets. docs/formats.md has the byte layout.
 */
#define CS_UNDO_MAGIC	 "RFSCUNDO" /* 8 bytes, no NUL on disk */
#define CS_UNDO_FORMAT	 1
#define CS_UNDO_REC_SLOT 1

struct cs_undo_rec {
	uint64_t chunk_id;
	uint32_t version; /* the version saved */
	uint32_t over;	  /* the newer full version holding the rest */
	uint64_t start;	  /* saved data bytes [start, end) */
	uint64_t end;
};

/* Write rec (with its CRC) into slot CS_UNDO_REC_SLOT of fd. Returns 0 or
 * a negative errno. */
int cs_undo_rec_write(int fd, const struct cs_undo_rec *rec);

/* Read and check the record of an undo file: 0, -EBADMSG (bad magic,
 * format, CRC, or start > end, over <= version, end > 64 MiB) or an I/O
 * errno. */
int cs_undo_rec_read(int fd, struct cs_undo_rec *rec);

/* A write-side errno (positive) as the negative value the store returns:
 * ENOSPC, EDQUOT and EFBIG all become -ENOSPC. */
int cs_replica_write_err(int err);

#endif
