/*
 * lockrange: the byte ranges ONE lock owner holds on ONE file, with the
 * POSIX record-lock rules that apply to an owner's own locks: setting a
 * lock over a range replaces whatever the owner held there (upgrade,
 * downgrade), unlocking a sub-range splits a lock in two, and touching or
 * overlapping ranges of the same type merge into one. Conflicts between
 * different owners are the caller's business (rfs_lockrange_conflict
 * tests one owner's set against a request).
 *
 * Used by the metaserver's lock table (metaserver/locks.c) and by the
 * client library's copy of the locks it holds (client/lock.c), so both
 * sides agree on what an owner holds after any sequence of requests.
 *
 * Invariants of a set: ranges sorted by start, pairwise disjoint, never
 * RFS_LOCK_UN, and no two ranges of the same type touch (they would have
 * been merged). Ends are inclusive; RFS_LOCK_EOF means "to the end of the
 * file, however long it grows". Pure; a set is not thread-safe.
 */
#ifndef RFS_COMMON_LOCKRANGE_H
#define RFS_COMMON_LOCKRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

struct rfs_lock_range {
	uint64_t start;
	uint64_t end;  /* inclusive; RFS_LOCK_EOF: to the end of the file */
	uint32_t type; /* RFS_LOCK_RD or RFS_LOCK_WR */
	uint32_t pid;  /* of the process that set it (reported by getlk) */
};

struct rfs_lockrange {
	struct rfs_lock_range *r; /* malloc'd, n used of cap */
	size_t n;
	size_t cap;
};

/* An empty set (no allocation). */
void rfs_lockrange_init(struct rfs_lockrange *s);

/* Free the ranges; s is empty afterwards. NULL is a no-op. */
void rfs_lockrange_release(struct rfs_lockrange *s);

/*
 * Set [start, end] to type (RFS_LOCK_RD, RFS_LOCK_WR, or RFS_LOCK_UN to
 * remove), recording pid on the new range. max (SIZE_MAX: no limit)
 * bounds the number of ranges the set may hold afterwards. Returns 0;
 * -EINVAL for start > end or an unknown type; -ENOLCK when the result
 * would exceed max; -ENOMEM. On error s is unchanged.
 */
int rfs_lockrange_set(struct rfs_lockrange *s, uint64_t start, uint64_t end,
		      uint32_t type, uint32_t pid, size_t max);

/*
 * The first range of s (lowest start) that conflicts with a request of
 * type over [start, end]: it overlaps, and one of the two is a write
 * lock. NULL when none does (always for RFS_LOCK_UN). The pointer is into
 * s and valid until s changes.
 */
const struct rfs_lock_range *
rfs_lockrange_conflict(const struct rfs_lockrange *s, uint64_t start,
		       uint64_t end, uint32_t type);

/* True when s holds no range. */
bool rfs_lockrange_is_empty(const struct rfs_lockrange *s);

#endif
