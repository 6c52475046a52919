/*
 * file_int: the state behind fuse-client/file.h, shared by file.c (the
 * table of files, the per-inode cache, writes, flushes, truncates) and
 * file_read.c (layout windows, reads, read-ahead and its prefetch thread).
 * Private to fuse-client/.
 *
 * Locks, always taken in this order and never the other way round:
 *  - fs->lock: the hash table, the LRU list, refs and opens of every file;
 *  - f->lock: everything else of one file (held for writes and commits,
 *    not while a read waits on the network);
 *  - pf->lock: the prefetch queue.
 * Nobody takes fs->lock while holding f->lock: references are dropped
 * after the file's lock is released.
 */
#ifndef RFS_FUSE_CLIENT_FILE_INT_H
#define RFS_FUSE_CLIENT_FILE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/client.h"
#include "common/dlist.h"
#include "fuse-client/file.h"

/* Hash buckets of the file table: open and cached files are at most a few
 * thousand, a short chain per bucket is fine. */
#define FC_FILES_BUCKETS 1024

/* A window of a file's chunk layout, shared by the readers using it. */
struct fc_layout {
	atomic_uint refs;
	uint64_t first; /* chunk indexes covered: [first, end) */
	uint64_t end;
	struct rfs_layout l;
};

enum fc_unit_state {
	FC_UNIT_FETCHING = 0, /* queued or in flight in the prefetcher */
	FC_UNIT_READY,
	FC_UNIT_FAILED,
};

/* One read-ahead piece: bytes [off, off + len) of a file, fetched by the
 * prefetch thread into buf. */
struct fc_unit {
	struct fc_unit *next;  /* the file's list, ascending off */
	struct fc_unit *qnext; /* the prefetch queue */
	struct fc_files *fs;
	struct fc_file *f;     /* kept alive by f->ra_inflight */
	struct fc_layout *lay; /* a reference */
	uint64_t off;
	size_t len;
	size_t served;	   /* bytes handed to readers (f->lock) */
	unsigned int pins; /* readers replying from buf (f->lock) */
	bool dropped;	   /* detached while pinned: the last reader
			      * frees it (f->lock) */
	char *buf;
	enum fc_unit_state state; /* under f->lock */
	atomic_bool stale;	  /* dropped by the file: whoever holds it
				   * last (the prefetcher) frees it */
	struct rfs_cio_job job;
};

struct fc_file {
	struct fc_file *next; /* hash chain (fs->lock) */
	struct rfs_dlink lru; /* LRU of unused files (fs->lock) */
	uint64_t ino;
	unsigned int refs; /* fs->lock: opens and finds */
	bool on_lru;	   /* fs->lock */
	/* read-ahead units created and not finished by the prefetcher: the
	 * file is not freed while there are any (the prefetcher's last
	 * touch of a file is this decrement) */
	atomic_uint ra_inflight;
	pthread_mutex_t lock; /* everything below */
	unsigned int opens;   /* open handles (and finds) */
	pthread_cond_t cond;  /* a unit finished */
	/* write buffer */
	char *buf;
	size_t buf_len;
	size_t buf_size;
	uint64_t buf_off;
	int err; /* sticky commit error (negative errno) or 0 */
	/* chunk servers holding data of this file not yet synced (PUTs
	 * without fsync), and a lease on chunk 0 from the create that is
	 * not used yet (n_replicas 0: none) */
	struct rfs_sync_set unsynced;
	struct rfs_lease lease0;
	/* attributes the last commit replied (after_valid), what the last
	 * close remembers instead of asking again */
	bool after_valid;
	struct rfs_attr after;
	/* the file as the metaserver last described it here (at open or
	 * in a commit's reply), and a setattr kept for the commit of the
	 * buffered data (pending.valid 0: none), made at pending_ns */
	bool known_valid;
	struct rfs_attr known;
	struct rfs_client_setattr pending;
	int64_t pending_ns;
	/* attributes seen at the last open, or re-read at the last close
	 * after this mount changed the file (changed) */
	bool seen_valid;
	bool changed;
	uint64_t seen_size;
	int64_t seen_mtime_ns;
	int64_t seen_ctime_ns;
	/* layout window (a reference), NULL when none */
	struct fc_layout *lay;
	/* read-ahead */
	struct fc_unit *units;
	unsigned int n_units;
	uint64_t ra_next;    /* end of the last read */
	unsigned int ra_seq; /* reads in a row near ra_next */
};

struct fc_prefetch;

/* A thread's read buffer (fs->rbuf_key). */
struct fc_rbuf {
	char *p;
	size_t cap;
};

struct fc_files {
	struct rfs_client *c;
	uint64_t chunk_size;
	uint64_t buf_cap;   /* commit threshold of a write buffer */
	uint64_t ra_unit;   /* bytes per read-ahead unit */
	uint64_t ra_window; /* bytes the prefetch threads read ahead of
			     * a sequential reader, 0: they do not,
			     * FC_RA_AUTO: see fc_files_set_readahead */
	atomic_uint_fast64_t kernel_ra; /* the kernel's read-ahead we set,
					 * 0 while not known */
	unsigned int parallel;
	pthread_key_t cio_key;
	pthread_key_t rbuf_key;
	pthread_mutex_t lock;
	struct fc_file *bucket[FC_FILES_BUCKETS];
	struct rfs_dlist lru; /* unused files, most recently used first */
	size_t n_lru;
	atomic_size_t layout_chunks; /* chunks in all layout windows */
	atomic_size_t ra_bytes;	     /* bytes in all read-ahead units */
	/* started at the first open (after the daemon forked), under
	 * fs->lock; NULL: no read-ahead (yet, or it could not start) */
	_Atomic(struct fc_prefetch *) pf;
	bool pf_tried; /* fs->lock */
	char *mountpoint;
	atomic_bool bdi_tuned;
	bool sync_close;	  /* close() syncs like fsync() */
	struct fc_bcache *bcache; /* blocks of small reads; NULL: none */
	/* unsynced servers of files dropped from the cache (fs->lock):
	 * every fsync syncs them too */
	struct rfs_sync_set dropped_unsynced;
};

/* file.c */
/* The calling thread's chunk engine, created on first use; NULL on OOM. */
struct rfs_cio *fc_files_cio(struct fc_files *fs);
/* Commit everything buffered (f->lock held). */
int fc_file_commit_all(struct fc_files *fs, struct fc_file *f);
/* Drop one reference (not f->lock): an unused file goes on the LRU. */
void fc_file_unpin(struct fc_files *fs, struct fc_file *f);

/* file_read.c */
/* Take / drop a reference to a layout window (NULL is a no-op). */
struct fc_layout *fc_layout_ref(struct fc_layout *lay);
void fc_layout_unref(struct fc_files *fs, struct fc_layout *lay);
/* f->lock held: forget the layout window. */
void fc_file_drop_layout(struct fc_files *fs, struct fc_file *f);
/* f->lock held: let go of every read-ahead unit; *gone gets the ones the
 * caller must free (fc_units_free) once f->lock is released. */
void fc_file_drop_units(struct fc_file *f, struct fc_unit **gone);
/* Free units detached by fc_file_drop_units (not under f->lock). */
void fc_units_free(struct fc_files *fs, struct fc_unit *list);
/* The prefetch thread: start (fs->lock held; once) / stop (frees what is
 * still queued). */
int fc_prefetch_start(struct fc_files *fs);
void fc_prefetch_stop(struct fc_files *fs);
/* Raise the kernel's read-ahead of the mount (once, best effort). */
void fc_files_tune_bdi(struct fc_files *fs);

#endif
