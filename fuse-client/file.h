/*
 * file: the file state of the FUSE client, one struct fc_file per inode
 * that is open (all handles of one inode share it, so a read through one
 * handle sees what another handle wrote) or was recently (kept in an LRU
 * cache for the next open).
 *
 * A file holds:
 *  - a write buffer: one contiguous dirty byte range [buf_off, buf_off +
 *    buf_len). A write that continues the range is appended; any other
 *    write commits the range first. When the range reaches the flush
 *    threshold (several chunks), everything up to its last chunk boundary
 *    is committed, the chunks in parallel. flush/fsync/release and every
 *    read commit what is left, so close() and fsync() return only after
 *    the data is committed on the metaserver (close-to-open). Whole
 *    chunks go to the chunk servers without fsync; the file keeps the
 *    servers that took them, and fsync (or close with sync_close, or an
 *    O_SYNC write) makes them sync (docs/fuse.md, "Durability").
 *  - a lease on chunk 0 that the create took, used by the first commit
 *    of that chunk instead of a lease request.
 *  - a kept setattr: mode, owner and times set while data is buffered
 *    travel with the commit of that data (fc_files_defer_setattr).
 *  - the attributes (size, mtime, ctime) seen at its last close: an open
 *    that finds them unchanged on the metaserver keeps the kernel's page
 *    cache of the file (keep_cache) and the cached layout; any change
 *    (another mount wrote, truncated, chmod'ed) drops both.
 *  - a layout window: the chunk layout of FC_LAYOUT_WINDOW_CHUNKS chunks
 *    around the reads, fetched page by page as reads move (so a file of
 *    any number of chunks reads), dropped by every commit and truncate, and
 *    refetched once when a read through it fails (a newer version replaced
 *    a chunk). Windows of closed files stay in the LRU (at most
 *    FC_CACHE_FILES files and FC_CACHE_CHUNKS chunks in all).
 *  - (for the whole mount) a cache of the 64 KiB blocks that small reads
 *    fetched, so other small reads in them cost no request (bcache.h).
 *  - read-ahead: reads near the end of the previous one are sequential;
 *    after two of them the next FC_RA_WINDOW_BYTES are fetched in units
 *    of up to FC_RA_UNIT_BYTES by a prefetch thread (its own chunk engine,
 *    many units in flight, across chunk boundaries), and later reads are
 *    answered from those units. Any write or truncate drops them.
 *  - a sticky error: a commit that failed outside a flush (threshold
 *    reached, non-contiguous write) is reported by the next write, flush
 *    or fsync; the data of that range is dropped.
 *
 * Chunk I/O of reads and commits runs on one struct rfs_cio per calling
 * thread (FUSE worker), created on first use and freed when the thread
 * exits; read-ahead on the prefetch thread's.
 *
 * Everything here is thread-safe: the table has one lock, each file its
 * own, held for writes and commits (those are serialised per file) but not
 * while a read waits for chunk servers (reads of one file run in
 * parallel).
 */
#ifndef RFS_FUSE_CLIENT_FILE_H
#define RFS_FUSE_CLIENT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "client/client.h"

/* Target bytes of dirty data per file before a commit: 32 MiB keeps
 * several small chunks in flight at once (parallel commits) and one chunk
 * of the default 64 MiB size whole (no range update per piece). */
#define FC_FILE_BUF_TARGET_BYTES (32u << 20)
/* Most chunks committed in parallel from one file's buffer. */
#define FC_FILE_BUF_CHUNKS_MAX 8
/* Chunks per layout window: 256 x 1.6 KB of layout, 16 GiB of file with
 * 64 MiB chunks; a read (1 MiB) plus its read-ahead always fits. */
#define FC_LAYOUT_WINDOW_CHUNKS 256
/* Closed files kept for the next open, and chunks in all cached layout
 * windows (about 1.6 KB each). */
#define FC_CACHE_FILES	1024
#define FC_CACHE_CHUNKS 16384
/* Read-ahead of the prefetch threads: how far ahead of a sequential
 * reader when the kernel's own read-ahead could not be raised (see
 * fc_files_set_readahead), in units of (at most, smaller chunks make
 * smaller units) 1 MiB, and the most bytes all files of a mount hold in
 * units (also the largest window -o readahead takes). */
#define FC_RA_WINDOW_BYTES (8u << 20)
#define FC_RA_UNIT_BYTES   (1u << 20)
#define FC_RA_BUDGET_BYTES (64u << 20)
/* Units the prefetch threads fetch at once, and the threads (receiving
 * and checking the bytes takes a core's time). */
#define FC_RA_JOBS    16
#define FC_RA_THREADS 4
/* The kernel's own read-ahead asked for (FUSE max_readahead, and the
 * mount's read_ahead_kb where this process may set it). */
#define FC_RA_KERNEL_BYTES (8u << 20)

struct fc_files;
struct fc_file;

/*
 * The table of files over client c (borrowed, must outlive the table),
 * with its prefetch thread. chunk_size: the file system's; parallel:
 * chunk jobs in flight per thread (0 = default). Returns 0, -ENOMEM or
 * -EAGAIN.
 */
int fc_files_new(struct rfs_client *c, uint64_t chunk_size,
		 unsigned int parallel, struct fc_files **out);
/* Every file must be closed. Stops the prefetch thread, frees the cache
 * and the calling thread's chunk engine; other threads free theirs when
 * they exit. */
void fc_files_free(struct fc_files *fs);

/* fc_files_set_readahead: the default. */
#define FC_RA_AUTO UINT64_MAX
/*
 * How far the prefetch threads read ahead of a sequential reader, past
 * the kernel's own read-ahead: 0 turns them off (no threads), at most
 * FC_RA_BUDGET_BYTES. FC_RA_AUTO (the default): off once the kernel's
 * read-ahead of the mount was raised to FC_RA_KERNEL_BYTES (root; the
 * kernel's several requests in flight read as fast alone, and faster
 * than with threads on top on a busy machine), else FC_RA_WINDOW_BYTES.
 * Call before any file is open. Returns 0 or -EINVAL (too large).
 */
int fc_files_set_readahead(struct fc_files *fs, uint64_t bytes);

/* Where the file system is mounted (copied): the kernel's read-ahead of
 * the mount is raised to FC_RA_KERNEL_BYTES at the first open, when this
 * process may (root). Returns 0 or -ENOMEM. */
int fc_files_set_mountpoint(struct fc_files *fs, const char *mountpoint);

/*
 * Open inode ino: the shared state, one more reference. attr: its current
 * attributes when the caller has them (create), else NULL and they are
 * asked from the metaserver. *keep_cache is true when size, mtime and
 * ctime are those seen at the last close through this mount (the kernel
 * may keep its page cache); otherwise the cached layout and read-ahead are
 * dropped (close-to-open: another mount's change shows from here).
 * Returns 0 or the getattr's error (-ENOENT...), -ENOMEM.
 */
int fc_file_open(struct fc_files *fs, uint64_t ino, const struct rfs_attr *attr,
		 struct fc_file **out, bool *keep_cache);
/* The state of ino with one more reference if it is open, else NULL. */
struct fc_file *fc_file_find(struct fc_files *fs, uint64_t ino);
/* Drop one reference. The last one frees the write buffer (flush it
 * first: data still buffered then is lost) and read-ahead, re-reads the
 * attributes when this mount changed the file, and keeps the rest in the
 * LRU cache. */
void fc_file_close(struct fc_files *fs, struct fc_file *f);

/* Buffer (or commit) buf as bytes [off, off + len). Returns len or a
 * negative errno (a sticky error of an earlier commit included). */
ssize_t fc_file_write(struct fc_files *fs, struct fc_file *f, const void *buf,
		      size_t len, uint64_t off);
/* Where a read's bytes go: called once per read with them as
 * iov[0..n) (n is 0 at or past the end of the file), valid during the
 * call only. Returns 0 or a negative errno. */
typedef int (*fc_read_sink)(void *arg, const struct iovec *iov, int n);

/*
 * Read up to len bytes at off (dirty data is committed first) and hand
 * them to sink: read-ahead bytes straight from their buffers, others
 * through a buffer of the calling thread. Returns the byte count (short at
 * the end of the file), the sink's error, or a negative errno (then the
 * sink was not called).
 */
ssize_t fc_file_read_to(struct fc_files *fs, struct fc_file *f, size_t len,
			uint64_t off, fc_read_sink sink, void *arg);
/* The same, copied into buf. */
ssize_t fc_file_read(struct fc_files *fs, struct fc_file *f, void *buf,
		     size_t len, uint64_t off);
/* Commit everything buffered; returns 0 or the first error since the
 * last flush (then cleared). */
int fc_file_flush(struct fc_files *fs, struct fc_file *f);
/*
 * fsync(): commit everything buffered, then make durable every chunk
 * written through this mount since its last sync, on the chunk servers
 * that stored it without fsync (in parallel), with those of files
 * dropped from the cache since the last fsync. Returns 0 or the first
 * error (a sticky commit error, a chunk server that could not sync).
 */
int fc_file_fsync(struct fc_files *fs, struct fc_file *f);
/* close(): fc_file_fsync with -o sync_close, else fc_file_flush. */
int fc_file_close_flush(struct fc_files *fs, struct fc_file *f);
/* Budget of the cache of blocks that small reads fetch (fuse-client/
 * bcache.h; FC_BCACHE_DEFAULT_BYTES unless set), 0: none. Call before any
 * file is open. Returns 0 or -ENOMEM. */
int fc_files_set_block_cache(struct fc_files *fs, uint64_t bytes);
/* Whether close() syncs (-o sync_close); call before any file is open. */
void fc_files_set_sync_close(struct fc_files *fs, bool on);
/* A lease on chunk 0 that the create of this file took (copied): the
 * first commit of chunk 0 uses it instead of asking for one. Ignored
 * once the file was written to; dropped at the last close and by a
 * truncate. */
void fc_file_set_lease(struct fc_file *f, const struct rfs_lease *l);
/* Patch a (the metaserver's attributes of f's file) with what this
 * mount holds back: a size up to the last buffered byte and a kept
 * setattr (fc_files_defer_setattr). */
void fc_file_overlay(struct fc_file *f, struct rfs_attr *a);
/*
 * A setattr (no RFS_SETATTR_SIZE) of ino while it is open here with data
 * buffered: keep sa (merged with earlier ones) and send it with that
 * data's commit, in the same metaserver log entry (tar's futimens, fchown
 * and fchmod before close cost no request). The commit of everything
 * buffered carries it (flush, fsync, close, a read or truncate); when
 * that commit fails, the setattr fails with it (the error is the
 * flush's). Returns true with *out the attributes as they will be, or
 * false when nothing was kept (not open, nothing buffered, a sticky
 * error, size in sa): the caller sends the setattr itself.
 */
bool fc_files_defer_setattr(struct fc_files *fs, uint64_t ino,
			    const struct rfs_client_setattr *sa,
			    struct rfs_attr *out);
/* Forget the cached layout and read-ahead of ino, open or not, and what
 * was seen at its last close (its data changed through this mount). */
void fc_files_invalidate(struct fc_files *fs, uint64_t ino);

/*
 * setattr with RFS_SETATTR_SIZE in sa: commits the data buffered for ino
 * first, then sets the size (a cut inside a chunk or a 64 KiB block needs
 * nothing more: readers zero what lies past a chunk's length). out: the
 * attributes afterwards.
 */
int fc_files_set_size(struct fc_files *fs, uint64_t ino,
		      const struct rfs_client_setattr *sa,
		      struct rfs_attr *out);

#endif
