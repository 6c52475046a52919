/*
 * api: the metaserver's HTTP interface. One static route table (api.c)
 * maps every route of docs/protocol.md to a handler; the server runs in
 * libmicrohttpd's external mode on the caller's libuv loop (a uv_poll on
 * its epoll fd, a uv_timer for its timeouts, a uv_check that flushes
 * replies given from raft callbacks), so every handler, every raft
 * callback and every state change happen on that one thread, without
 * locks.
 *
 * Reads are answered straight from the fsm. Mutations are validated,
 * completed with the leader's fields (wall clock, new chunk ids, replica
 * choice), proposed to the replicated log, and answered only from the
 * log's apply callback, i.e. once durable. Nothing is served until the
 * log is ready (503 EAGAIN, which clients retry).
 */
#ifndef RFS_METASERVER_API_H
#define RFS_METASERVER_API_H

#include <stdint.h>

#include <uv.h>

#include "metaserver/cluster.h"
#include "metaserver/locks.h"
#include "metaserver/raftlog.h"
#include "metaserver/state.h"

struct ms_api_opts {
	uv_loop_t *loop;
	const char *bind_addr; /* "127.0.0.1", "::1", "0.0.0.0" */
	uint16_t port;	       /* 0: ephemeral */
	/* borrowed until ms_api_close's callback */
	struct ms_state *state;
	struct ms_raftlog *log; /* until ms_api_drain */
	struct ms_cluster *cluster;
	struct ms_locks *locks; /* lock table, served on the leader */
};

struct ms_api;

/*
 * Start listening and serving on opts->loop. Returns 0, -EADDRINUSE,
 * -EINVAL (bad address), -ENOMEM or -EIO.
 */
int ms_api_start(const struct ms_api_opts *opts, struct ms_api **out);

/*
 * Orphan upkeep, run with the lock upkeep (leader with a ready log, grace
 * period over): for every session that keeps orphans but is no longer in
 * the lock table (closed, lease expired, or not reclaimed after a
 * restart), propose one drop_orphans op. At most one batch is in flight.
 */
void ms_api_orphan_sweep(struct ms_api *api);

/* The HTTP port actually bound. */
uint16_t ms_api_port(const struct ms_api *api);

/*
 * Shutdown, step 1: answer every new request with 503 EAGAIN and stop
 * using the log (which the caller closes next; pending mutations are
 * still answered from its callbacks).
 */
void ms_api_drain(struct ms_api *api);

/*
 * Shutdown, step 2 (after the log is closed): flush the last replies,
 * stop the HTTP server, close the loop handles and free api; cb (may be
 * NULL) runs when all handles are closed. NULL is a no-op.
 */
void ms_api_close(struct ms_api *api, void (*cb)(void *arg), void *arg);

#endif
