/*
 * ring: consistent hashing over weighted virtual nodes, the target placement
 * of chunk replicas. Member i owns weight_i * vnodes_per_weight points; the
 * point of its n-th vnode is the first 8 bytes (big-endian) of
 * SHA-256("<id>#<n>") with n in decimal. A chunk's key is the first 8 bytes
 * (big-endian) of SHA-256 of its id as 8 big-endian bytes. Replicas are the
 * first R distinct members met walking clockwise (ascending points,
 * wrapping) from the key, preferring members in zones not yet chosen: a
 * first walk takes only new zones, a second fills up with any unchosen
 * member. Equal points are ordered by member index.
 * Pure and deterministic: every program computes the same answer.
 * A ring is immutable after rfs_ring_new, so lookups are thread-safe.
 */
#ifndef RFS_COMMON_RING_H
#define RFS_COMMON_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Virtual nodes per unit of weight. A server's share of keys deviates from
 * its fair share by about 1/sqrt(vnodes): with 128 (the first design) some
 * server of 3-10 is typically 10-17 % off; 2048 keeps every share within
 * ~6 % (measured), at ~0.6 us and 16 bytes per point to build.
 */
#define RFS_RING_VNODES_PER_WEIGHT 2048

struct rfs_ring_member {
	const char *id;	  /* copied */
	const char *zone; /* copied; NULL or "" is one zone of its own */
	uint32_t weight;  /* 0 = member owns no points */
};

struct rfs_ring;

/*
 * Build a ring; members keep their array index as their identity in
 * lookups. vnodes_per_weight 0 means RFS_RING_VNODES_PER_WEIGHT. Returns
 * NULL only on OOM. n may be 0 (lookups then find nothing).
 */
struct rfs_ring *rfs_ring_new(const struct rfs_ring_member *members, size_t n,
			      uint32_t vnodes_per_weight);
void rfs_ring_free(struct rfs_ring *ring);

size_t rfs_ring_member_count(const struct rfs_ring *ring);
/* Number of virtual nodes (points) on the ring. */
size_t rfs_ring_point_count(const struct rfs_ring *ring);

/* The ring key of a chunk id. */
uint64_t rfs_ring_key(uint64_t chunk_id);

/* Lookup filter: return false to skip a member (e.g. down or draining). */
typedef bool (*rfs_ring_usable_cb)(size_t member, void *arg);

/*
 * Write the member indices of up to r replicas for chunk_id into out (in
 * preference order) and return how many were found: fewer than r when the
 * ring has fewer usable members. usable may be NULL (all usable).
 * O(log V + walked points).
 */
size_t rfs_ring_lookup(const struct rfs_ring *ring, uint64_t chunk_id, size_t r,
		       rfs_ring_usable_cb usable, void *arg, size_t *out);

#endif
