/*
 * api_int: what api.c (route table, namespace and chunk handlers, the
 * mutation path) shares with api_cluster.c (cluster, status and
 * observability handlers). Private to the api module.
 */
#ifndef RFS_METASERVER_API_INT_H
#define RFS_METASERVER_API_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "common/httpd.h"
#include "common/proto.h"
#include "metaserver/api.h"

/* Requests counted per route for /metrics (besides per op type). */
enum ms_api_counter {
	MS_API_HEARTBEAT,
	MS_API_INVENTORY,
	MS_API_STATUS,
	MS_API_HEALTH,
	MS_API_METRICS,
	MS_API_N_COUNTERS
};

struct ms_api {
	uv_loop_t *loop;
	struct rfs_httpd *httpd;
	uv_poll_t poll;	  /* libmicrohttpd's epoll fd */
	uv_timer_t timer; /* libmicrohttpd's next timeout */
	uv_check_t check; /* flushes replies given from raft callbacks */
	bool kick;	  /* a reply was given outside rfs_httpd_run */
	bool draining;
	unsigned closes_left;
	void (*close_cb)(void *arg);
	void *close_arg;
	struct ms_state *state;
	struct ms_raftlog *log;
	struct ms_cluster *cluster;
	struct ms_locks *locks; /* lock table (api_lock.c) */
	uint64_t next_chunk_id; /* leader counter for new chunk ids */
	size_t orphan_drops;	/* drop_orphans proposals in flight */
	uint64_t ops[RFS_OP_COUNT];
	uint64_t routes[MS_API_N_COUNTERS];
	uint64_t errors; /* requests answered with an error */
};

/*
 * Answer 503 EAGAIN and return false unless the api may serve requests
 * (log ready, not draining).
 */
bool ms_api_ready(struct ms_api *api, struct rfs_httpd_req *req);

/* Reply 200 with a malloc'd JSON body from an encoder's (rc, buf, len). */
int ms_api_reply_json(struct ms_api *api, struct rfs_httpd_req *req, int rc,
		      char *buf, size_t len);

/* Reply 200 with the body "{}". */
int ms_api_reply_empty(struct ms_api *api, struct rfs_httpd_req *req);

/* Reply with -err and a message; counts the error. */
int ms_api_reply_error(struct ms_api *api, struct rfs_httpd_req *req, int err,
		       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Note that a reply was given outside rfs_httpd_run (from a callback). */
void ms_api_kick(struct ms_api *api);

/* Monotonic milliseconds for cluster state (the loop's cached time). */
int64_t ms_api_now_ms(const struct ms_api *api);

/*
 * Record a request for op type (metrics), and answer a
 * malformed-body decode error. Return 0 after replying.
 */
void ms_api_count_op(struct ms_api *api, uint32_t type);
int ms_api_reply_decode_error(struct ms_api *api, struct rfs_httpd_req *req,
			      int rc, const char *what);

/* Cluster and observability handlers (api_cluster.c). */
int ms_api_register(struct rfs_httpd_req *req, void *ctx);
int ms_api_heartbeat(struct rfs_httpd_req *req, void *ctx);
int ms_api_inventory(struct rfs_httpd_req *req, void *ctx);
int ms_api_status(struct rfs_httpd_req *req, void *ctx);
int ms_api_health(struct rfs_httpd_req *req, void *ctx);
int ms_api_metrics(struct rfs_httpd_req *req, void *ctx);

/* Lock session and lock handlers (api_lock.c). */
int ms_api_session_open(struct rfs_httpd_req *req, void *ctx);
int ms_api_session_renew(struct rfs_httpd_req *req, void *ctx);
int ms_api_session_close(struct rfs_httpd_req *req, void *ctx);
int ms_api_lock(struct rfs_httpd_req *req, void *ctx);
int ms_api_lock_test(struct rfs_httpd_req *req, void *ctx);

/*
 * Propose op (already validated and complete but for now_ns, which this
 * fills) through the log; the reply is given when it is applied: the
 * entry's attr, lease or {} per reply_kind. When hb is not NULL the
 * server heartbeat is recorded once the op succeeds (register). Returns
 * RFS_HTTPD_ASYNC, or 0 after replying with an error.
 */
enum ms_api_reply_kind {
	MS_API_REPLY_EMPTY,
	MS_API_REPLY_ATTR,
	MS_API_REPLY_LEASE,
	MS_API_REPLY_ORPHAN,	 /* {} or {"orphan": ino} (unlink, rename) */
	MS_API_REPLY_ATTR_LEASE, /* attr, and a lease if one was taken */
};
int ms_api_propose(struct ms_api *api, struct rfs_httpd_req *req,
		   struct rfs_op *op, enum ms_api_reply_kind reply_kind,
		   const struct rfs_server *hb);

#endif
