/*
 * locks: the metaserver's cluster-wide lock table: client sessions with
 * leases, and per inode the flock and POSIX byte-range locks each
 * (session, kind, owner) holds.
 *
 * Locks are volatile session state, like NFSv4 and MooseFS locks: they
 * live in the leader's memory only, never in the replicated log (logging
 * each lock would cost a disk sync per lock). Consequences:
 *  - a session whose lease runs out (its client died or lost contact) is
 *    dropped with all its locks by ms_locks_tick;
 *  - when this node starts serving (start-up, or becoming leader) the
 *    table is empty and a grace period of one lease begins: clients find
 *    their session unknown (-ESTALE), open a new one and RECLAIM the locks
 *    they hold; during the grace period only reclaims and unlocks are
 *    granted, every other lock request is refused with -EAGAIN (retry);
 *    after it, reclaims are refused (-ENOLCK: the lock may have been
 *    taken and released by someone else meanwhile);
 *  - when this node stops serving, the table is emptied.
 *
 * Semantics are Linux's: flock and POSIX locks are independent families;
 * an owner never conflicts with itself; a POSIX owner's own ranges merge,
 * split, upgrade and downgrade (common/lockrange.h); flock locks cover the
 * whole file (0..RFS_LOCK_EOF). There is no deadlock detection: blocking
 * waiters poll, and a cycle of waiters waits until interrupted.
 *
 * Pure: time comes in as now_ms (monotonic milliseconds) and session ids
 * from the caller; nothing here does I/O or logs. Not thread-safe: the
 * metaserver uses it from its loop thread only.
 */
#ifndef RFS_METASERVER_LOCKS_H
#define RFS_METASERVER_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lockrange.h"
#include "common/proto.h"

/*
 * Limits that keep one client from exhausting the metaserver's memory:
 * sessions in the table (one per mount, so far above any real cluster),
 * and lock ranges one session holds over all its files (about 32 bytes
 * each, so at most a few MiB per session).
 */
#define MS_LOCKS_SESSIONS_MAX	    65536
#define MS_LOCKS_SESSION_RANGES_MAX 100000

struct ms_locks;

/* A new, empty table whose sessions last lease_ms (>= 1) between renewals.
 * Returns NULL only on OOM. Free with ms_locks_free (NULL is a no-op). */
struct ms_locks *ms_locks_new(uint32_t lease_ms);
void ms_locks_free(struct ms_locks *l);

uint32_t ms_locks_lease_ms(const struct ms_locks *l);

/*
 * Periodic upkeep, and the serving transitions. serving: this node may
 * serve locks now (leader with its log ready). Becoming serving starts the
 * grace period (one lease from now_ms); ceasing to serve drops every
 * session and lock. While serving, sessions whose lease ended at or before
 * now_ms are dropped with their locks. Returns how many sessions were
 * dropped.
 */
size_t ms_locks_tick(struct ms_locks *l, int64_t now_ms, bool serving);

/*
 * Note that this node serves locks from now_ms: the start of serving (the
 * first call, or the first after ms_locks_tick saw serving == false)
 * starts the grace period. Cheap; called before every request.
 */
void ms_locks_serving(struct ms_locks *l, int64_t now_ms);

/* True while the grace period after starting to serve runs; *left_ms (may
 * be NULL) gets the time left. */
bool ms_locks_in_grace(const struct ms_locks *l, int64_t now_ms,
		       int64_t *left_ms);

/*
 * Open session id (chosen at random by the caller, never 0) with a lease
 * from now_ms. Returns 0, -EINVAL (id 0), -EEXIST (id taken: pick
 * another), -ENOLCK (MS_LOCKS_SESSIONS_MAX reached) or -ENOMEM.
 */
int ms_locks_session_open(struct ms_locks *l, uint64_t id, int64_t now_ms);

/* True while session id is open (orphans of a session not open are
 * dropped: ms_api_orphan_sweep). */
bool ms_locks_session_exists(const struct ms_locks *l, uint64_t id);

/* Extend the lease of session id from now_ms. 0 or -ESTALE (unknown). */
int ms_locks_session_renew(struct ms_locks *l, uint64_t id, int64_t now_ms);

/* Drop session id and release all its locks. 0 or -ESTALE (unknown). */
int ms_locks_session_close(struct ms_locks *l, uint64_t id);

/*
 * Apply lock request r (type RFS_LOCK_UN unlocks) for owner (r->session,
 * r->kind, r->owner); a successful request also renews the session's
 * lease. Returns:
 *   0        granted (an unlock of nothing held is granted too);
 *   -EBUSY   another owner holds a conflicting lock; *conflict (may be
 *            NULL) gets the first such range;
 *   -EAGAIN  grace period: only reclaims and unlocks are granted, retry;
 *   -ENOLCK  a reclaim outside the grace period (the lock is lost), or
 *            the session would exceed MS_LOCKS_SESSION_RANGES_MAX;
 *   -ESTALE  unknown session;
 *   -EINVAL  session or ino 0, start > end, unknown kind or type, or a
 *            flock request not covering 0..RFS_LOCK_EOF;
 *   -ENOMEM  (the table is unchanged).
 */
int ms_locks_set(struct ms_locks *l, const struct rfs_lock *r, int64_t now_ms,
		 struct rfs_lock_range *conflict);

/*
 * Test request r without changing anything (F_GETLK): *holder gets the
 * first conflicting lock of another owner (lowest start among the owners
 * checked first), or type RFS_LOCK_UN when r would be granted. Returns 0,
 * -ESTALE or -EINVAL (as ms_locks_set).
 */
int ms_locks_test(const struct ms_locks *l, const struct rfs_lock *r,
		  struct rfs_lock_range *holder);

struct ms_locks_stats {
	size_t sessions;
	size_t owners; /* (session, kind, owner, inode) entries */
	size_t ranges;
	size_t inodes; /* inodes with at least one lock */
};
void ms_locks_stats(const struct ms_locks *l, struct ms_locks_stats *out);

#endif
