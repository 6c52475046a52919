/*
 * dcache: the mount's small cache of directory attributes (docs/fuse.md,
 * "Directory attributes"). After a namespace change the kernel drops the
 * parent directory's attributes and its next permission check asks for
 * them again; the metaserver's reply to the change already carried them
 * (common/proto.h, struct rfs_dir_attrs), so the mount keeps them here
 * and answers that getattr without a request.
 *
 * An entry is valid for ttl seconds from when it was stored (the mount's
 * attr_timeout, so another mount's change shows as late as through the
 * kernel's own cache, no later). The table is direct-mapped by inode: a
 * bounded number of slots, a colliding store evicts. A store never
 * replaces a valid entry with older attributes (smaller ctime), so replies
 * arriving out of order keep the newest. Thread-safe (one mutex). Pure
 * otherwise: the caller passes the monotonic time.
 */
#ifndef RFS_FUSE_CLIENT_DCACHE_H
#define RFS_FUSE_CLIENT_DCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/* Slots of the mount's cache: a few hundred busy directories. */
#define FC_DCACHE_SLOTS 1024

struct fc_dcache;

/*
 * A cache of slots entries (>= 1) valid ttl_s seconds each; ttl_s <= 0
 * caches nothing. *out is freed with fc_dcache_free. 0, -EINVAL or
 * -ENOMEM.
 */
int fc_dcache_new(size_t slots, double ttl_s, struct fc_dcache **out);
/* NULL is a no-op. */
void fc_dcache_free(struct fc_dcache *d);

/* Store the attributes of a directory (anything else is ignored). */
void fc_dcache_put(struct fc_dcache *d, const struct rfs_attr *a,
		   int64_t now_ns);

/*
 * The attributes of directory ino if cached and still valid at now_ns:
 * true, *out set and *left_s (may be NULL) the seconds of validity left.
 */
bool fc_dcache_get(struct fc_dcache *d, uint64_t ino, int64_t now_ns,
		   struct rfs_attr *out, double *left_s);

/* Forget ino. */
void fc_dcache_drop(struct fc_dcache *d, uint64_t ino);
/* Forget everything. */
void fc_dcache_clear(struct fc_dcache *d);
/* Entries stored (valid or not yet overwritten). */
size_t fc_dcache_count(struct fc_dcache *d);

/* CLOCK_MONOTONIC in ns, for the calls above. */
int64_t fc_dcache_now_ns(void);

#endif
