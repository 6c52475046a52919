/*
 * store_priv: internals shared by store.c (index, scanning, reads) and
 * store_write.c (whole-chunk writes and range updates). Not for other
 * modules: everything here is reached through chunkserver/store.h.
 *
 * Locking: st->mu protects the index (entries and their fields) and the
 * totals. A writer about to change a chunk on disk takes the chunk's write
 * lock (entry->busy, waited for on st->idle) so commits, range updates and
 * deletes of one chunk id run one at a time; file-system work is done
 * without st->mu held, except the open(2) of a replica a reader has just
 * looked up.
 */
#ifndef RFS_CHUNKSERVER_STORE_PRIV_H
#define RFS_CHUNKSERVER_STORE_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "chunkserver/replica.h"
#include "chunkserver/store.h"

/*
 * An older version of a chunk, kept beside the newest one until the
 * metaserver's inventory check calls it stale (or a range update on a
 * newer base proves it is): the newest version may be a write its client
 * never committed. Held either as a full replica file "<id>_<version>",
 * or, after a range update rewrote it in place, as an undo file
 * "<id>_<version>.undo" with its header and the data bytes [undo_start,
 * undo_end) the update changed; its other bytes are those of the newer
 * full version `over` (same data dir).
 */
struct cs_old {
	struct cs_old *next; /* the next older version */
	uint64_t length;     /* data bytes of this version */
	uint64_t undo_start; /* undo: saved data range */
	uint64_t undo_end;
	uint32_t version;
	uint32_t over; /* undo: the full version holding the rest */
	uint16_t dir;
	uint8_t slot; /* full: current header slot */
	bool undo;
};

/* One chunk id known to the index. The fields describe the newest version
 * held; older ones hang off `old`, newest first. */
struct cs_entry {
	struct cs_entry *next; /* hash chain */
	struct cs_old *old;    /* older versions, newest first */
	uint64_t id;
	uint64_t length; /* bytes of data held */
	uint32_t version;
	uint32_t waiters; /* threads waiting for busy to clear */
	uint16_t dir;	  /* index into st->dirs */
	uint8_t slot;	  /* current header slot */
	bool present;	  /* a replica is on disk */
	bool busy;	  /* a writer holds the chunk's write lock */
	bool updating;	  /* range update running: reads get -EAGAIN */
};

struct cs_dir {
	char *path;
	int fd;	       /* the data dir */
	int chunks_fd; /* its chunks/ subdirectory */
	int lock_fd;   /* holds the flock */
	dev_t dev;     /* to count shared file systems once */
};

struct cs_store {
	struct cs_dir dirs[CS_STORE_DIRS_MAX];
	size_t n_dirs;
	pthread_mutex_t mu;
	pthread_cond_t idle; /* some entry stopped being busy */
	struct cs_entry **buckets;
	size_t n_buckets; /* power of two */
	size_t n_entries;
	uint64_t n_present;  /* chunk ids with a version held */
	uint64_t n_versions; /* versions held, older ones included */
	uint64_t n_multi;    /* chunk ids holding older versions too */
	uint64_t used_bytes;
	atomic_uint_fast64_t superseded_gen; /* bumped when a write keeps
					      * an older version */
	atomic_uint_fast64_t bytes_written;
	atomic_uint_fast64_t checksum_failures;
	atomic_uint_fast64_t tmp_seq; /* unique temporary names */
};

/* A write being received (store_write.c; range updates: store_update.c). */
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
	/* whole, large: the same file opened O_DIRECT (-1: none) and the
	 * aligned staging buffer its writes go through; data bytes
	 * [0, direct_done) are written, the next ones are staged */
	int dfd;
	uint8_t *stage;
	uint64_t direct_done;
	char tmp_name[CS_REPLICA_NAME_MAX]; /* whole; "" once renamed */
	size_t n_crcs;
	uint32_t crcs[]; /* the body's CRCs, as announced */
};

/* File bytes a replica of `length` data bytes occupies (for stats). */
static inline uint64_t cs_replica_file_bytes(uint64_t length)
{
	return CS_REPLICA_DATA_OFFSET + length;
}

/* With st->mu held: the entry for id, or NULL. */
struct cs_entry *cs_store_entry_find(struct cs_store *st, uint64_t id);

/*
 * Take the write lock of a chunk id (waits while another writer has it).
 * *out is the chunk's entry, kept alive until cs_store_chunk_unlock.
 * Returns 0 or -ENOMEM. Called without st->mu.
 */
int cs_store_chunk_lock(struct cs_store *st, uint64_t id,
			struct cs_entry **out);
void cs_store_chunk_unlock(struct cs_store *st, struct cs_entry *e);

/*
 * With st->mu held: record that e now holds (or, present false, no longer
 * holds) a replica, keeping the totals right.
 */
void cs_store_entry_set(struct cs_store *st, struct cs_entry *e, bool present,
			uint16_t dir, uint32_t version, uint64_t length,
			uint8_t slot);

/*
 * Open the subdirectory of dir that holds chunk id (creating it durably
 * when create is true). Returns an fd or a negative errno.
 */
int cs_store_subdir_open(struct cs_store *st, uint16_t dir, uint64_t id,
			 bool create);

/* The data dir with the most free space. */
uint16_t cs_store_pick_dir(struct cs_store *st);

/*
 * Finish or roll back an interrupted range update of "<id>_<base>
 * .updating" in sub_fd: the current header decides which version the file
 * holds, and the file is renamed to that version's final name (a rolled
 * back file's blocks are verified and bad ones logged; readers detect
 * them by their checksums). A file with no valid header is renamed to
 * ".corrupt" and -EBADMSG returned. On success fills *hdr and *slot.
 */
int cs_store_recover_updating(int sub_fd, uint64_t id, uint32_t base,
			      struct cs_replica_hdr *hdr, unsigned *slot);

/* Reserve len bytes at off (posix_fallocate; file systems without it
 * skip this). Returns 0 or -ENOSPC / a negative errno. */
int cs_store_reserve(int fd, uint64_t off, uint64_t len);

/* Commit a range update whose body arrived complete (store_update.c). */
int cs_store_update_commit(struct cs_store_write *w, bool sync);

/* fsync(fd), errno-mapped as a write error. */
int cs_store_fsync(int fd);

/* Copy len bytes from in_fd at in to out_fd at out, in the kernel where
 * possible (copy_file_range, which also clones on file systems that can).
 * Returns 0 or a negative errno (write errors as cs_replica_write_err). */
int cs_store_copy(int in_fd, off_t in, int out_fd, off_t out, uint64_t len);

/* --- older versions (store_ver.c) ------------------------------------ */

/* File bytes an older version occupies (for stats). */
uint64_t cs_old_file_bytes(const struct cs_old *o);

/* With st->mu held: e's older version `version`, or NULL. */
struct cs_old *cs_store_old_find(const struct cs_entry *e, uint32_t version);

/* With st->mu held: add o (malloc'd; e owns it from here) to e's older
 * versions, newest first, and to the totals. */
void cs_store_old_add(struct cs_store *st, struct cs_entry *e,
		      struct cs_old *o);

/* With st->mu held: the current version of e becomes an older full
 * version (a newer one is about to be indexed). Returns 0 or -ENOMEM. */
int cs_store_keep_current(struct cs_store *st, struct cs_entry *e);
/* The same with a record the caller allocated (e owns it from here). */
void cs_store_keep_current_as(struct cs_store *st, struct cs_entry *e,
			      struct cs_old *o);

/*
 * With the chunk's write lock (not st->mu): forget and remove every older
 * version below `below` (all of them for UINT32_MAX). A removal that
 * fails is logged; the scan at the next start finds the file again.
 */
void cs_store_drop_older(struct cs_store *st, struct cs_entry *e,
			 uint32_t below);

/*
 * Range bytes [*start, *end) of a version of old_len bytes that a range
 * update (body at offset..body_end over base_length) changes in place;
 * block-aligned at the start, *start == *end when nothing changes.
 */
void cs_undo_range(uint64_t offset, uint64_t body_end, uint64_t base_length,
		   uint64_t old_len, uint64_t *start, uint64_t *end);

/*
 * Before a range update rewrites replica fd (version old->version, in
 * sub_fd) into version over: save old's header and data bytes [start, end)
 * durably as "<id>_<old version>.undo" (through a temporary name; with
 * sync, data and directory are fsynced). Returns 0 or a negative errno
 * (then nothing is left behind).
 */
int cs_undo_save(struct cs_store *st, int sub_fd, int fd,
		 const struct cs_replica_hdr *old, uint32_t over,
		 uint64_t start, uint64_t end, bool sync);

/*
 * A range update of fd from version base was rolled back: put the bytes
 * saved in "<id>_<base>.undo" (if there is a valid one) back into fd, and
 * remove the undo file. Returns 1 when bytes were restored, 0 when there
 * was no undo file, or a negative errno.
 */
int cs_undo_restore(int sub_fd, int fd, uint64_t id, uint32_t base);

/*
 * Scan: index "<id>_<version>.undo" in sub_fd of dir, found after every
 * replica file of the directory was indexed. An undo file whose version
 * is held in full, or whose newer version is not held in full in this
 * dir, or that cannot be read, is removed. Returns 0 or -ENOMEM.
 */
int cs_store_scan_undo(struct cs_store *st, uint16_t dir, int sub_fd,
		       const char *name, uint64_t id, uint32_t version);

/* --- reads (store_read.c) --------------------------------------------- */
/* Where a read of one version comes from, found under st->mu. */
struct cs_read_src {
	int fd;		 /* the replica (for an undo: of the newer version) */
	int undo_fd;	 /* an undo version's file, else -1 */
	unsigned slot;	 /* header slot (of fd; of undo_fd: 0) */
	uint64_t length; /* data bytes of the version read */
	uint64_t undo_start; /* undo: bytes [start, end) come from undo_fd */
	uint64_t undo_end;
};

#endif
