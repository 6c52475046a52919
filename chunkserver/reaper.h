/*
 * reaper: deletes the replicas the metaserver no longer wants, on a thread
 * of its own. The metaclient thread hands it the lists from inventory
 * replies and goes back to heartbeating at once: deleting is slow on some
 * disks (cs_store_delete fsyncs the newest version first, and a 64 MiB
 * file on ext4 mounted with online discard takes a synchronous discard),
 * and a metaclient that deletes for longer than down-after-ms makes a
 * healthy server look dead to the metaserver (docs/chunkserver.md,
 * "Deleting replicas").
 */
#ifndef RFS_CHUNKSERVER_REAPER_H
#define RFS_CHUNKSERVER_REAPER_H

#include <stdbool.h>
#include <stdint.h>

#include "chunkserver/store.h"
#include "common/proto.h"

/* Delete one replica; returns what cs_store_delete() returns. */
typedef int (*cs_reaper_delete_fn)(void *arg, uint64_t chunk_id,
				   uint32_t version);

struct cs_reaper_opts {
	struct cs_store *store; /* borrowed; must outlive the reaper */
	/* NULL: cs_store_delete() on store; tests pass their own */
	cs_reaper_delete_fn del;
	void *del_arg;
};

struct cs_reaper;

/*
 * Start the thread. Returns 0 with *out set, -EINVAL (no store and no
 * del), -ENOMEM or the pthread_create error.
 */
int cs_reaper_start(const struct cs_reaper_opts *opts, struct cs_reaper **out);

/*
 * Queue del->entries for deletion (each only if still held at exactly the
 * listed version) and return without waiting. On success the entries
 * are the reaper's and del is left empty. Returns 0, or -ENOMEM when the
 * queue cannot grow (more than RFS_INVENTORY_MAX entries, or no memory):
 * then del is unchanged, and the replicas stay until the metaserver lists
 * them again at a later inventory. Release del as usual either way.
 */
int cs_reaper_add(struct cs_reaper *r, struct rfs_inventory *del);

/* Whether deletions are queued or one is running. */
bool cs_reaper_busy(struct cs_reaper *r);

/*
 * Stop after the deletion in progress and free; what is still queued is
 * dropped (the metaserver lists it again after the next start's
 * inventory). NULL is a no-op. Call from one thread.
 */
void cs_reaper_stop(struct cs_reaper *r);

#endif
