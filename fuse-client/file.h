/*
 * file: the open-file state of the FUSE client, one struct fc_file per
 * inode that has at least one open handle (all handles of one inode share
 * it, so a read through one handle sees what another handle wrote).
 *
 * A file holds:
 *  - a write buffer: one contiguous dirty byte range [buf_off, buf_off +
 *    buf_len). A write that continues the range is appended; any other
 *    write commits the range first. When the range reaches the flush
 *    threshold (several chunks), everything up to its last chunk boundary
 *    is committed, the chunks in parallel. flush/fsync/release and every
 *    read commit what is left, so close() and fsync() return only after
 *    the data is committed on the metaserver (close-to-open).
 *  - a layout cache: the file's chunk layout, fetched at the first read
 *    after an open, dropped by every commit and truncate, and refetched
 *    once when a read through it fails (a newer version replaced a chunk).
 *  - a sticky error: a commit that failed outside a flush (threshold
 *    reached, non-contiguous write) is reported by the next write, flush
 *    or fsync; the data of that range is dropped.
 *
 * Chunk I/O runs on one struct rfs_cio per calling thread (FUSE worker),
 * created on first use and freed when the thread exits.
 *
 * Everything here is thread-safe: the table has one lock, each file its
 * own lock held for the duration of its I/O (I/O on one file is serialised;
 * I/O on different files runs in parallel).
 */
#ifndef RFS_FUSE_CLIENT_FILE_H
#define RFS_FUSE_CLIENT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client/client.h"

/* Target bytes of dirty data per file before a commit: 32 MiB keeps
 * several small chunks in flight at once (parallel commits) and one chunk
 * of the default 64 MiB size whole (no range update per piece). */
#define FC_FILE_BUF_TARGET_BYTES (32u << 20)
/* Most chunks committed in parallel from one file's buffer. */
#define FC_FILE_BUF_CHUNKS_MAX 8

struct fc_files;
struct fc_file;

/*
 * The table of open files over client c (borrowed, must outlive the
 * table). chunk_size: the file system's; parallel: chunk jobs in flight
 * per thread (0 = default). Returns 0, -ENOMEM or -EAGAIN.
 */
int fc_files_new(struct rfs_client *c, uint64_t chunk_size,
		 unsigned int parallel, struct fc_files **out);
/* Every file must be closed. The calling thread's chunk engine is freed;
 * other threads free theirs when they exit. */
void fc_files_free(struct fc_files *fs);

/* Open inode ino: the shared state, one more reference. The layout is
 * refetched at the next read (another mount may have changed the file). */
int fc_file_open(struct fc_files *fs, uint64_t ino, struct fc_file **out);
/* The state of ino with one more reference if it is open, else NULL. */
struct fc_file *fc_file_find(struct fc_files *fs, uint64_t ino);
/* Drop one reference; the last one frees the state (flush it first: data
 * still buffered then is lost). */
void fc_file_close(struct fc_files *fs, struct fc_file *f);

/* Buffer (or commit) buf as bytes [off, off + len). Returns len or a
 * negative errno (a sticky error of an earlier commit included). */
ssize_t fc_file_write(struct fc_files *fs, struct fc_file *f, const void *buf,
		      size_t len, uint64_t off);
/* Read up to len bytes at off (dirty data is committed first). Returns the
 * byte count (short at the end of the file) or a negative errno. */
ssize_t fc_file_read(struct fc_files *fs, struct fc_file *f, void *buf,
		     size_t len, uint64_t off);
/* Commit everything buffered; returns 0 or the first error since the
 * last flush (then cleared). */
int fc_file_flush(struct fc_files *fs, struct fc_file *f);
/* One past the last buffered byte, 0 when nothing is buffered (a getattr
 * reports at least this size). */
uint64_t fc_file_dirty_end(struct fc_file *f);
/* Forget the cached layout (after a truncate). */
void fc_file_invalidate(struct fc_file *f);

/*
 * setattr with RFS_SETATTR_SIZE in sa: commits the data buffered for ino
 * first, and when the new size ends inside a 64 KiB CRC block of a
 * stored chunk, rewrites that block's kept bytes afterwards so the chunk's
 * replicas end where the file does. out: the attributes after all that.
 */
int fc_files_set_size(struct fc_files *fs, uint64_t ino,
		      const struct rfs_client_setattr *sa,
		      struct rfs_attr *out);

#endif
