/*
 * bcache: the FUSE client's cache of whole CRC blocks (64 KiB) of chunk
 * replicas, for small reads that are not sequential.
 *
 * A 4 KiB random read has to fetch and verify the 64 KiB block around it
 * anyway; the block is kept here so that later small reads landing in it
 * cost no request. A block is named by what makes its bytes immutable:
 * the chunk id, the committed version (every write leases a new one), the
 * chunk's committed length (a truncate inside a chunk keeps the version
 * but changes the length) and the block's index in the chunk. A layout
 * that names another version or length never matches an old entry, so
 * the cache is exactly as fresh as the layout the read goes through.
 *
 * Least recently used blocks go first once the blocks hold more than the
 * budget given at creation. Thread-safe (one mutex).
 */
#ifndef RFS_FUSE_CLIENT_BCACHE_H
#define RFS_FUSE_CLIENT_BCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default and largest budget of a mount's block cache (-o block_cache). */
#define FC_BCACHE_DEFAULT_BYTES (64u << 20)
#define FC_BCACHE_MAX_BYTES	(1024u << 20)

struct fc_bkey {
	uint64_t chunk_id;
	uint32_t version;
	uint64_t length; /* the chunk's committed length */
	uint64_t block;	 /* index of the block in the chunk */
};

struct fc_bcache;

/*
 * A cache holding at most max_bytes of block data. Returns NULL without
 * memory; a NULL cache is valid everywhere below and caches nothing.
 * Freed by fc_bcache_free.
 */
struct fc_bcache *fc_bcache_new(size_t max_bytes);
void fc_bcache_free(struct fc_bcache *c);

/*
 * Copy bytes [off, off + len) of block k into dst when the block is
 * cached and holds them. Returns true on a hit (the block becomes the
 * most recently used), false otherwise (dst untouched).
 */
bool fc_bcache_get(struct fc_bcache *c, const struct fc_bkey *k, size_t off,
		   size_t len, void *dst);

/*
 * Keep a copy of block k: buf[0..len), len at most max_bytes. Replaces an
 * entry of the same key; evicts the least recently used blocks to stay in
 * budget. Out of memory, nothing is kept (it is only a cache).
 */
void fc_bcache_put(struct fc_bcache *c, const struct fc_bkey *k,
		   const void *buf, size_t len);

/* Hits, misses (gets that found nothing) and bytes held, for the logs and
 * tests. */
struct fc_bcache_stats {
	uint64_t hits;
	uint64_t misses;
	size_t bytes;
	size_t blocks;
};
void fc_bcache_stats(struct fc_bcache *c, struct fc_bcache_stats *out);

#endif
