/*
 * metaclient: the chunk server's side of the cluster protocol, run by one
 * dedicated thread. It registers this server with the metaserver, then
 * heartbeats every heartbeat_ms with its used space, replica count and
 * load; sends its inventory right after each registration and every
 * inventory_interval_ms, and has its reaper thread (chunkserver/reaper.h)
 * delete the replicas the metaserver's reply lists (only if still held at
 * exactly the listed version), so heartbeats go on while it does; after writes
 * that kept older versions of chunks, a quick inventory of just those
 * chunks at the next heartbeats (docs/chunkserver.md, "Versions"). A heartbeat
 * answered 404 (the metaserver forgot us) leads to a new registration.
 * While the metaserver is unreachable it keeps retrying with exponential
 * backoff (registration) or at the heartbeat interval, and logs each
 * change of state once rather than every failed attempt.
 */
#ifndef RFS_CHUNKSERVER_METACLIENT_H
#define RFS_CHUNKSERVER_METACLIENT_H

#include <stdint.h>

#include "chunkserver/store.h"
#include "common/proto.h"

/* Fill *out with this server's current record (must be thread-safe). */
typedef void (*cs_metaclient_status_cb)(void *arg, struct rfs_server *out);

struct cs_metaclient_opts {
	const char *meta_addr;	/* "host:port" of the metaserver; copied */
	struct cs_store *store; /* borrowed; must outlive the client */
	cs_metaclient_status_cb status;
	void *status_arg;
	uint32_t heartbeat_ms;		/* > 0 */
	uint32_t inventory_interval_ms; /* > 0 */
};

struct cs_metaclient;

/*
 * Start the thread and its reaper. Returns 0 with *out set, -EINVAL (bad
 * options), -ENOMEM, or the pthread_create error. Failing to reach the metaserver is
 * not an error here: the thread keeps trying.
 */
int cs_metaclient_start(const struct cs_metaclient_opts *opts,
			struct cs_metaclient **out);

/*
 * Stop the thread (waking it from any wait; a request in progress runs to
 * its timeout), then the reaper (after the deletion in progress), and free. NULL is a no-op. Call from one thread.
 */
void cs_metaclient_stop(struct cs_metaclient *mc);

#endif
