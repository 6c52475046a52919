/*
 * ncache: the mount's cache of directory entries with their attributes,
 * filled from directory listings (docs/fuse.md, "Name cache").
 *
 * After the kernel forgets its dentries (memory pressure, drop_caches, a
 * `stat` of every file in a tree it never listed), each name costs a
 * lookup round trip. When a directory sees a second lookup miss within
 * the ttl, the mount lists it once (readdirplus pages) and answers the
 * lookups that follow from here; readdirplus listings the kernel asks for
 * fill it too. An entry is valid for ttl seconds from the listing (the
 * mount's entry and attribute timeouts: another mount's change shows as
 * late as through the kernel's own caches, no later). Only positive
 * entries are kept: a name not found here is looked up.
 *
 * Changes made through this mount must never be hidden: every metaserver
 * request that changes something passes through fc_ncache_on_change
 * before it is sent and after its reply, which forgets the names and
 * inodes it touches; a listing in flight meanwhile (started before,
 * fc_ncache_gen) stores none of the entries such a change may have
 * touched, and nothing at all if it started more changes ago than the
 * cache remembers.
 *
 * Bounded: at most max entries, the oldest stored first evicted.
 * Thread-safe (one mutex). The caller passes the monotonic time.
 */
#ifndef RFS_FUSE_CLIENT_NCACHE_H
#define RFS_FUSE_CLIENT_NCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/* Entries of the mount's cache (about 200 bytes each). */
#define FC_NCACHE_MAX 65536
/* Most entries one fill lists: a fill of a huge directory stops there. */
#define FC_NCACHE_FILL_MAX 4096

struct fc_ncache;

/*
 * A cache of at most max (>= 1) entries valid ttl_s seconds each; ttl_s
 * <= 0 caches nothing. *out is freed with fc_ncache_free. 0, -EINVAL or
 * -ENOMEM.
 */
int fc_ncache_new(size_t max, double ttl_s, struct fc_ncache **out);
/* NULL is a no-op. */
void fc_ncache_free(struct fc_ncache *nc);

/* The change generation: take it before a listing is asked for and pass
 * it to fc_ncache_fill. */
uint64_t fc_ncache_gen(struct fc_ncache *nc);

/*
 * Store the n entries of one listing page of directory parent (those
 * with attributes, "." and ".." skipped) but those a change passed to
 * fc_ncache_on_change since gen was taken may have touched: its inode or
 * name, or any name when the entry's inode has several. False (nothing
 * stored) when the changes since gen are too many to tell.
 */
bool fc_ncache_fill(struct fc_ncache *nc, uint64_t parent,
		    const struct rfs_dirent *d, size_t n, uint64_t gen,
		    int64_t now_ns);

/*
 * The attributes under parent/name if cached and valid at now_ns: true,
 * *out set and *left_s (may be NULL) the seconds of validity left.
 */
bool fc_ncache_get(struct fc_ncache *nc, uint64_t parent, const char *name,
		   int64_t now_ns, struct rfs_attr *out, double *left_s);

/* A lookup in parent missed here and found an entry on the metaserver. */
void fc_ncache_note_lookup(struct fc_ncache *nc, uint64_t parent,
			   int64_t now_ns);

/*
 * A lookup in parent missed here: true when the caller should list parent
 * now, because an earlier lookup in it found an entry on the metaserver
 * within the ttl and it was not listed within the ttl. A true answer
 * counts as the listing (concurrent callers get false).
 */
bool fc_ncache_want_fill(struct fc_ncache *nc, uint64_t parent, int64_t now_ns);

/*
 * A metaserver request that changes something (any op type but the
 * read-only ones) is about to be sent or was answered: forget what it may
 * change (its inode; the entries under its names and every other name of
 * their inodes) and void listings in flight.
 */
void fc_ncache_on_change(struct fc_ncache *nc, const struct rfs_op *op);

/* Entries stored (valid or not yet evicted). */
size_t fc_ncache_count(struct fc_ncache *nc);

#endif
