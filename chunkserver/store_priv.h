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

/* One chunk id known to the index. */
struct cs_entry {
	struct cs_entry *next; /* hash chain */
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
	uint64_t n_present;
	uint64_t used_bytes;
	atomic_uint_fast64_t bytes_written;
	atomic_uint_fast64_t checksum_failures;
	atomic_uint_fast64_t tmp_seq; /* unique temporary names */
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

/* fsync(fd), errno-mapped as a write error. */
int cs_store_fsync(int fd);

#endif
