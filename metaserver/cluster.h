/*
 * cluster: the metaserver's volatile view of the chunk servers. The
 * registered servers themselves (id, address, zone, weight) live in the
 * fsm and go through the log; this module adds what is not worth logging
 * because it changes every few seconds and is rebuilt from heartbeats
 * after a restart: last heartbeat, used/capacity, replica count, load, and
 * the derived state (up while the last heartbeat is younger than
 * down_after_ms, down otherwise; a server not heard from since this
 * metaserver started is down).
 *
 * It also keeps the placement ring (common/ring.h) built from the
 * registered servers, rebuilt whenever ms_fsm_ring_epoch() changes, and
 * uses it to choose the replicas of a write lease.
 *
 * Times are monotonic milliseconds supplied by the caller (uv_now()), so
 * the module reads no clock. Every function takes the current fsm and
 * first brings its tables in line with it (cheap when nothing changed).
 * Not thread-safe: the loop thread owns it.
 */
#ifndef RFS_METASERVER_CLUSTER_H
#define RFS_METASERVER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "metaserver/fsm.h"

struct ms_cluster;

/* A new, empty view. Returns NULL on OOM. */
struct ms_cluster *ms_cluster_new(uint32_t down_after_ms);
void ms_cluster_free(struct ms_cluster *c);

/*
 * Record a heartbeat (used, capacity, chunks, load) from a registered
 * server at now_ms. Returns 0, -ENOENT when hb->id is not registered (the
 * server should register again) or -ENOMEM.
 */
int ms_cluster_heartbeat(struct ms_cluster *c, const struct ms_fsm *fsm,
			 const struct rfs_server *hb, int64_t now_ms);

/*
 * Report each server that went down (no heartbeat for down_after_ms) or
 * came back since the last call, once per change: cb gets its id, whether
 * it is up now and the time since its last heartbeat. Servers not heard
 * from since start are not reported. Call it periodically (for the log).
 */
typedef void (*ms_cluster_watch_cb)(void *arg, const char *id, bool up,
				    int64_t age_ms);
void ms_cluster_watch(struct ms_cluster *c, int64_t now_ms,
		      ms_cluster_watch_cb cb, void *arg);

/* True when server id is registered and heard from recently. */
bool ms_cluster_is_up(struct ms_cluster *c, const struct ms_fsm *fsm,
		      const char *id, int64_t now_ms);

/*
 * Replicas for a write lease on chunk_id: the replicas of the committed
 * chunk that are up (existing may be NULL for a new chunk), topped up with
 * the ring's targets that are up, at most goal in all; ids and addresses
 * filled, up = true. Returns 0 with *n >= 1; -ENOSPC when no server is
 * registered; -EAGAIN when none is up; -ENOMEM.
 */
int ms_cluster_choose(struct ms_cluster *c, const struct ms_fsm *fsm,
		      uint64_t chunk_id, const struct rfs_chunk *existing,
		      uint32_t goal, int64_t now_ms,
		      struct rfs_replica out[RFS_MAX_REPLICAS], uint32_t *n);

/*
 * Set replicas[i].up in every chunk of a layout and move up replicas
 * first (keeping their order otherwise). Returns 0 or -ENOMEM.
 */
int ms_cluster_mark_layout(struct ms_cluster *c, const struct ms_fsm *fsm,
			   struct rfs_layout *layout, int64_t now_ms);

/*
 * Fill a status reply: format, ring epoch, counts and every registered
 * server with its state, heartbeat age and last reported figures.
 * out->servers is malloc'd (rfs_proto_status_release). Returns 0 or
 * -ENOMEM.
 */
int ms_cluster_status(struct ms_cluster *c, const struct ms_fsm *fsm,
		      int64_t now_ms, struct rfs_status *out);

/* Totals over the registered servers, for statfs and metrics. */
struct ms_cluster_totals {
	size_t servers;
	size_t up;
	uint64_t capacity; /* bytes, last reported */
	uint64_t used;	   /* bytes, last reported */
};
int ms_cluster_totals(struct ms_cluster *c, const struct ms_fsm *fsm,
		      int64_t now_ms, struct ms_cluster_totals *out);

#endif
