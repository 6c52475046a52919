/*
 * store: the chunk server's replica storage on one or more data
 * directories. Each replica is one file named by chunk id and version,
 * holding a header (id, version, length, the CRC32C of every 64 KiB block)
 * followed by the data at a fixed page-aligned offset, so a byte range can
 * be sent straight from the file with sendfile. docs/formats.md ("Chunk
 * replica files") describes the layout; docs/chunkserver.md the behaviour.
 *
 * Invariants:
 *  - Storing a newer version of a chunk keeps the older ones: the newest
 *    may be a write its client never committed, and readers keep reading
 *    the committed one. An older version goes when the metaserver's
 *    inventory check (or a range update based on a newer version) proves
 *    it stale. A version a range update rewrote in place is kept as an
 *    undo file: its header and the bytes the update changed, the rest
 *    read from the newer version's file.
 *  - A file under its final name fully holds the version it names: new
 *    replicas are written under a temporary name, checked against the
 *    client's checksums, fsynced (unless the writer asked for no sync:
 *    then a power loss may zero what was not written back, which the
 *    CRCs catch) and only then renamed into place. Before an older
 *    version is deleted the newest one is fsynced. A range
 *    update renames the replica to "<name>.updating" first and gives it
 *    its new name only after data and checksums are durable.
 *  - Every stored block's CRC32C is in the header; the store never hands
 *    out a checksum it did not verify against the data it received.
 *
 * An in-memory index (chunk id -> data dir, version, length) is rebuilt by
 * scanning the data dirs at open, which also removes temporary files and
 * recovers interrupted range updates (restoring the bytes they changed
 * from the undo file). All functions taking a struct
 * cs_store are thread-safe; writes to one chunk id are serialised, reads
 * never wait for writes. Write errors ENOSPC, EDQUOT and EFBIG are all
 * reported as -ENOSPC (the disk cannot take the replica).
 */
#ifndef RFS_CHUNKSERVER_STORE_H
#define RFS_CHUNKSERVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/* Most data dirs one chunk server uses. */
#define CS_STORE_DIRS_MAX 64
/* Name of the file holding the chunk server id, in the first data dir. */
#define CS_STORE_SERVER_ID_FILE "server-id"

struct cs_store;
struct cs_store_write;

/*
 * Open the store over dirs[0..n) (created if missing, with their chunks/
 * subdirectory). Each dir is locked (flock on "<dir>/lock") so two chunk
 * servers cannot share one. Scans every dir: indexes replicas, deletes
 * temporary files left by a crash, finishes or rolls back interrupted
 * range updates, indexes every version of a chunk (and the undo files that
 * still have their newer version), and renames files with an unreadable
 * header to "<name>.corrupt". Returns 0
 * with *out set, -EINVAL (no dir, too many, empty name), -EBUSY (a dir is
 * locked by another process), -ENOMEM, or the errno of a failed
 * mkdir/open/readdir.
 */
int cs_store_open(const char *const *dirs, size_t n, struct cs_store **out);

/* Close the store, releasing the dir locks. NULL is a no-op. */
void cs_store_close(struct cs_store *st);

/*
 * The chunk server id persisted in the first data dir. If the file exists
 * its id is used, and a non-empty wanted id that differs is -EEXIST (the
 * dir belongs to another server). Otherwise the id is wanted, or a new
 * "cs-<8 hex>" when wanted is NULL or "", and is written durably. out must
 * hold RFS_SERVER_ID_MAX + 1 bytes. Returns 0, -EEXIST, -EINVAL (invalid
 * wanted id or a damaged file) or an I/O errno.
 */
int cs_store_server_id(struct cs_store *st, const char *wanted, char *out);

/* --- writing ------------------------------------------------------------ */
/*
 * Start receiving a whole chunk: version `version`, `length` bytes (at
 * most RFS_CHUNK_SIZE_MAX), whose per-64 KiB-block CRC32Cs are
 * crcs[0..n_crcs) (n_crcs must equal rfs_crc_block_count(length)). Space
 * for the whole replica is reserved at once, so a full disk fails here.
 * Older versions held stay. Returns 0 with *out set, -EINVAL (bad length
 * or CRC count), -ESTALE (a newer version is held), -ENOSPC, -ENOMEM or an
 * I/O errno.
 */
int cs_store_write_begin(struct cs_store *st, uint64_t chunk_id,
			 uint32_t version, uint64_t length,
			 const uint32_t *crcs, size_t n_crcs,
			 struct cs_store_write **out);

/*
 * Start receiving a range update: `length` body bytes to be written at
 * `offset` (a multiple of RFS_CRC_BLOCK_BYTES) of the replica holding
 * version `base`, whose logical length is base_length (bytes past it read
 * as zero), turning it into version `version` (> base). The result is
 * max(base_length, offset + length) bytes, at most RFS_CHUNK_SIZE_MAX.
 * crcs cover the body's blocks. The body is spooled to an unnamed
 * temporary file and the replica is touched only once all of it arrived
 * and matched its checksums. The lease the writer holds says base is the
 * committed version, so versions older than base are dropped. When base
 * is the newest version held, the replica is updated in place and base
 * kept as an undo file; when base is an older one (the newer ones were
 * never committed), version `version` is written as a new file from a
 * copy of base, and the newer ones stay. Returns 0 with *out set, -EINVAL,
 * -ENOENT (no replica of this chunk), -ESTALE (version base is not held,
 * or one at least as new as `version` is), -ENOSPC, -ENOMEM or an I/O
 * errno.
 */
int cs_store_update_begin(struct cs_store *st, uint64_t chunk_id,
			  uint32_t version, uint64_t offset, uint64_t length,
			  uint32_t base, uint64_t base_length,
			  const uint32_t *crcs, size_t n_crcs,
			  struct cs_store_write **out);

/*
 * Take the next len bytes of body. Each block is checked against its CRC
 * when it is complete. Returns 0, -EBADMSG on a checksum mismatch (see
 * cs_store_write_bad_block), -E2BIG when more than the announced length
 * arrives, -ENOSPC or an I/O errno. After an error the write can only be
 * aborted.
 */
int cs_store_write_data(struct cs_store_write *w, const void *buf, size_t len);

/* Index of the block that failed its checksum (valid after -EBADMSG). */
size_t cs_store_write_bad_block(const struct cs_store_write *w);

/* Bytes received so far. */
uint64_t cs_store_write_received(const struct cs_store_write *w);

/*
 * Make the write durable and visible: checks that the whole body arrived
 * (-EPROTO otherwise) and that the last block's checksum matches
 * (-EBADMSG), then stores the replica: fsync of data and directory unless
 * sync is false, rename into place. A range update rechecks its base
 * (-ENOENT/-ESTALE) under the chunk's write lock. Always
 * consumes w: on failure nothing of the new version remains and a whole
 * chunk write leaves the previous replica untouched. Returns 0, -EBADMSG,
 * -EPROTO, -ENOENT, -ESTALE, -ENOSPC or an I/O errno.
 */
int cs_store_write_commit(struct cs_store_write *w, bool sync);

/* Drop a write, removing its temporary file. NULL is a no-op. */
void cs_store_write_abort(struct cs_store_write *w);

/* --- reading ------------------------------------------------------------ */
/* An open byte range of a replica, ready to be sent. */
struct cs_store_extent {
	int fd;		       /* owned by the extent; -1 once taken */
	char *buf;	       /* or: the bytes in memory (malloc'd, owned) */
	uint64_t file_offset;  /* where the range starts in fd */
	uint64_t len;	       /* bytes in the range */
	uint64_t chunk_length; /* length of the whole replica */
	uint32_t *crcs;	       /* malloc'd, stored CRCs of covered blocks */
	size_t n_crcs;	       /* rfs_crc_block_count of the range */
	size_t bad_block;      /* after -EIO from a verified read */
};

/*
 * Open bytes [offset, offset + length) of version `version` of a chunk
 * (the newest or an older one still held). The data is in fd at
 * file_offset, or, for an undo version whose range covers bytes a range
 * update changed, in buf.
 * offset must be a multiple of RFS_CRC_BLOCK_BYTES and at most the chunk
 * length; length must be a multiple of RFS_CRC_BLOCK_BYTES or reach the end
 * of the chunk, and is clipped to the end (UINT64_MAX reads to the end).
 * With verify, the range is read and checked against the stored CRCs
 * first (a mismatch is -EIO with out->bad_block set and counted as a
 * checksum failure). Returns 0 with *out filled (release it), -ENOENT (no
 * replica), -ESTALE (this version is not held, others are), -EAGAIN (a
 * range update of it is in progress), -EINVAL (misaligned or out of
 * range), -EIO (verify found a bad block), -ENOMEM or an I/O errno.
 */
int cs_store_read_open(struct cs_store *st, uint64_t chunk_id, uint32_t version,
		       uint64_t offset, uint64_t length, bool verify,
		       struct cs_store_extent *out);

/* Close the fd (if still owned), free the CRCs and buf. NULL is a no-op. */
void cs_store_extent_release(struct cs_store_extent *ext);

/* --- other operations ----------------------------------------------- */
/*
 * Delete version `version` of a chunk if it is held (waits for a commit or
 * range update of the chunk that is running), with the undo versions kept
 * over its file; the newest older version then becomes the newest.
 * Returns 0, -ENOENT (nothing of the chunk held), -ESTALE (not this
 * version), -ENOMEM. A file that cannot be removed is logged, forgotten
 * and found again by the next start's scan.
 */
int cs_store_delete(struct cs_store *st, uint64_t chunk_id, uint32_t version);

/*
 * Every version held (one entry per chunk id and version), in no
 * particular order; inv->entries is malloc'd and server_id is left empty.
 * Release with rfs_proto_inventory_release(). Returns 0 or -ENOMEM.
 */
int cs_store_inventory(struct cs_store *st, struct rfs_inventory *inv);

/*
 * The same, but only of the chunks that hold older versions beside the
 * newest one: what a quick inventory sends so that the metaserver names
 * the stale ones soon after their newer version was committed.
 */
int cs_store_superseded(struct cs_store *st, struct rfs_inventory *inv);

/* A counter bumped each time a write keeps an older version (the caller
 * compares it with the value it last acted on). */
uint64_t cs_store_superseded_gen(struct cs_store *st);

/* Chunks holding older versions right now. */
uint64_t cs_store_superseded_count(struct cs_store *st);

struct cs_store_stats {
	uint64_t chunks;	    /* chunk ids held */
	uint64_t versions;	    /* versions held, older ones included */
	uint64_t used_bytes;	    /* file bytes of all of them */
	uint64_t capacity_bytes;    /* size of the data dirs' file systems */
	uint64_t free_bytes;	    /* space available to us on them */
	uint64_t bytes_written;	    /* chunk data accepted since open */
	uint64_t checksum_failures; /* bad blocks received or found on read */
};

/*
 * Current numbers. File systems shared by several data dirs are counted
 * once. Never fails (a data dir whose statvfs fails counts as 0 bytes).
 */
void cs_store_stats(struct cs_store *st, struct cs_store_stats *out);

/* Count one checksum failure noticed outside the store (for stats). */
void cs_store_count_checksum_failure(struct cs_store *st);

/*
 * Make everything written so far durable: syncfs(2) of each data dir's
 * file system (once per file system), so replicas stored without sync
 * (X-Ringfs-Sync: 0), their renames and their directories reach the disk.
 * Returns 0, -ENOSPC or the errno of the first failed syncfs (the others
 * are still synced).
 */
int cs_store_sync(struct cs_store *st);

#endif
