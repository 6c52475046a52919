/*
 * api_cluster: the metaserver's cluster routes (register, heartbeat,
 * inventory, status) and its observability routes (/health, /metrics).
 * Part of the api module; see api.h.
 */
#include <config.h>
#include "metaserver/api_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* Bytes of the /metrics text: a few dozen short lines. */
#define API_METRICS_MAX 8192

/* Decode a server body and check what every cluster route needs. */
static int api_decode_server(struct ms_api *api, struct rfs_httpd_req *req,
			     const char *what, struct rfs_server *s)
{
	const char *body;
	size_t len;
	int rc;

	body = rfs_httpd_req_body(req, &len);
	if (body == NULL)
		len = 0;
	rc = rfs_proto_server_decode(body != NULL ? body : "", len, s);
	if (rc < 0) {
		ms_api_reply_decode_error(api, req, rc, what);
		return rc;
	}
	if (!rfs_proto_server_id_is_valid(s->id)) {
		ms_api_reply_error(api, req, -EINVAL,
				   "%s: server id must be 1 to %d characters "
				   "of [A-Za-z0-9._-]",
				   what, RFS_SERVER_ID_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Same ring-relevant identity: re-registering it changes nothing. */
static bool api_same_server(const struct rfs_server *a,
			    const struct rfs_server *b)
{
	return strcmp(a->addr, b->addr) == 0 && strcmp(a->zone, b->zone) == 0 &&
	       a->weight == b->weight;
}

int ms_api_register(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	const struct rfs_server *old;
	struct rfs_op op = {.type = RFS_OP_REGISTER};
	struct rfs_server s;

	ms_api_count_op(api, RFS_OP_REGISTER);
	if (!ms_api_ready(api, req) ||
	    api_decode_server(api, req, "register", &s) < 0)
		return 0;
	if (s.addr[0] == '\0' || strchr(s.addr, ':') == NULL)
		return ms_api_reply_error(api, req, -EINVAL,
					  "register: addr must be host:port");
	if (s.weight == 0)
		s.weight = 1; /* absent: the default weight */
	old = ms_fsm_server_find(api->state->fsm, s.id);
	if (old != NULL && api_same_server(old, &s)) {
		/* A restart of a known server: no log entry needed. */
		ms_cluster_heartbeat(api->cluster, api->state->fsm, &s,
				     ms_api_now_ms(api));
		return ms_api_reply_empty(api, req);
	}
	rfs_log_info(rfs_httpd_req_id(req),
		     "msg=\"registering chunk server\" id=%s addr=%s zone=%s "
		     "weight=%u",
		     s.id, s.addr, s.zone, s.weight);
	op.server = s;
	return ms_api_propose(api, req, &op, MS_API_REPLY_EMPTY, &s);
}

int ms_api_heartbeat(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct rfs_server s;
	int rc;

	api->routes[MS_API_HEARTBEAT]++;
	if (!ms_api_ready(api, req) ||
	    api_decode_server(api, req, "heartbeat", &s) < 0)
		return 0;
	rc = ms_cluster_heartbeat(api->cluster, api->state->fsm, &s,
				  ms_api_now_ms(api));
	if (rc == -ENOENT)
		return ms_api_reply_error(api, req, rc,
					  "chunk server '%s' is not "
					  "registered; register again",
					  s.id);
	if (rc < 0)
		return ms_api_reply_error(api, req, rc, "heartbeat: %s",
					  strerror(-rc));
	return ms_api_reply_empty(api, req);
}

/* --- inventory --------------------------------------------------------- */

/*
 * One inventory request: its reply (the replicas to delete) is sent once
 * every RFS_OP_ADD_REPLICAS op it proposed has been applied, so that when
 * the chunk server hears back, the table lists its replicas.
 */
struct api_inv {
	struct ms_api *api;
	struct rfs_httpd_req *req; /* NULL once the request is gone */
	char *reply;		   /* encoded rfs_inventory to delete */
	size_t reply_len;
	size_t outstanding;
	int err;
};

static void api_inv_detach(void *data)
{
	struct api_inv *inv = data;

	inv->req = NULL;
}

static void api_inv_finish(struct api_inv *inv)
{
	struct ms_api *api = inv->api;

	if (inv->req != NULL) {
		rfs_httpd_req_set_data(inv->req, NULL, NULL);
		if (inv->err < 0) {
			ms_api_reply_error(api, inv->req, inv->err,
					   "inventory only partly recorded "
					   "(%s); send it again",
					   strerror(-inv->err));
		} else {
			ms_api_reply_json(api, inv->req, 0, inv->reply,
					  inv->reply_len);
			inv->reply = NULL; /* the reply owns it now */
		}
		ms_api_kick(api);
	}
	free(inv->reply);
	free(inv);
}

static void api_inv_done(void *arg, int status, void *result)
{
	struct api_inv *inv = arg;

	if (status < 0 && inv->err == 0)
		inv->err = status;
	/* An add the table refuses (chunk gone since) is simply skipped. */
	if (--inv->outstanding == 0)
		api_inv_finish(inv);
}

/* Propose the add ops; inv->outstanding counts those in flight. */
static void api_inv_propose(struct api_inv *inv, struct rfs_op *add,
			    size_t n_add)
{
	char *json;
	size_t len;
	size_t i;
	int rc = 0;

	for (i = 0; i < n_add && rc == 0; i++) {
		json = NULL;
		rc = rfs_proto_op_encode(&add[i], &json, &len);
		if (rc == 0)
			rc = ms_raftlog_propose(inv->api->log, json, len,
						api_inv_done, inv);
		free(json);
		if (rc == 0)
			inv->outstanding++;
	}
	if (rc < 0)
		inv->err = rc;
}

/* Check the decoded inventory and start recording it. */
static int api_inv_start(struct ms_api *api, struct rfs_httpd_req *req,
			 const struct rfs_inventory *in)
{
	struct rfs_inventory del;
	struct rfs_op *add = NULL;
	struct api_inv *inv;
	size_t n_add = 0;
	size_t i;
	int rc;

	rc = ms_fsm_inventory_check(api->state->fsm, in, &del, &add, &n_add);
	if (rc == -ENOENT)
		return ms_api_reply_error(api, req, rc,
					  "chunk server '%s' is not "
					  "registered; register first",
					  in->server_id);
	inv = calloc(1, sizeof(*inv));
	if (rc == 0 && inv == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = rfs_proto_inventory_encode(&del, &inv->reply,
						&inv->reply_len);
	rfs_proto_inventory_release(&del);
	if (rc == 0) {
		inv->api = api;
		inv->req = req;
		api_inv_propose(inv, add, n_add);
	}
	for (i = 0; i < n_add; i++)
		rfs_proto_op_release(&add[i]);
	free(add);
	if (rc < 0) {
		free(inv);
		return ms_api_reply_error(api, req, rc, "inventory: %s",
					  strerror(-rc));
	}
	if (inv->outstanding == 0) {
		api_inv_finish(inv);
		return 0;
	}
	rfs_httpd_req_set_data(req, inv, api_inv_detach);
	return RFS_HTTPD_ASYNC;
}

int ms_api_inventory(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct rfs_inventory in;
	const char *body;
	size_t len;
	int rc;

	api->routes[MS_API_INVENTORY]++;
	if (!ms_api_ready(api, req))
		return 0;
	body = rfs_httpd_req_body(req, &len);
	if (body == NULL)
		len = 0;
	rc = rfs_proto_inventory_decode(body != NULL ? body : "", len, &in);
	if (rc < 0)
		return ms_api_reply_decode_error(api, req, rc, "inventory");
	rc = api_inv_start(api, req, &in);
	rfs_proto_inventory_release(&in);
	return rc;
}

/* --- status, health, metrics ------------------------------------------ */

int ms_api_status(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct rfs_status st;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	api->routes[MS_API_STATUS]++;
	if (!ms_api_ready(api, req))
		return 0;
	rc = ms_cluster_status(api->cluster, api->state->fsm,
			       ms_api_now_ms(api), &st);
	if (rc == 0)
		rc = rfs_proto_status_encode(&st, &buf, &len);
	rfs_proto_status_release(&st);
	return ms_api_reply_json(api, req, rc, buf, len);
}

int ms_api_health(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	static const char ok[] = "ok\n";
	char *buf;

	api->routes[MS_API_HEALTH]++;
	/* 200 only when requests are served: start-up scripts wait on it. */
	if (!ms_api_ready(api, req))
		return 0;
	buf = strdup(ok);
	if (buf == NULL)
		return -ENOMEM;
	rfs_httpd_reply(req, 200, "text/plain", buf, sizeof(ok) - 1);
	return 0;
}

/* Append one formatted line to the metrics text (truncation is harmless). */
static void api_metric(char *buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void api_metric(char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= API_METRICS_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, API_METRICS_MAX - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
	if (*len >= API_METRICS_MAX)
		*len = API_METRICS_MAX - 1;
}

static void api_metrics_requests(const struct ms_api *api, char *buf,
				 size_t *len)
{
	static const char *const names[MS_API_N_COUNTERS] = {
	    "heartbeat", "inventory", "status", "health", "metrics"};
	uint32_t t;
	int i;

	api_metric(buf, len, "# TYPE ringfs_meta_requests_total counter\n");
	for (t = 1; t < RFS_OP_COUNT; t++)
		if (api->ops[t] > 0)
			api_metric(buf, len,
				   "ringfs_meta_requests_total{route=\"%s\"} "
				   "%llu\n",
				   rfs_op_name(t),
				   (unsigned long long)api->ops[t]);
	for (i = 0; i < MS_API_N_COUNTERS; i++)
		api_metric(buf, len,
			   "ringfs_meta_requests_total{route=\"%s\"} %llu\n",
			   names[i], (unsigned long long)api->routes[i]);
	api_metric(buf, len,
		   "# TYPE ringfs_meta_request_errors_total counter\n"
		   "ringfs_meta_request_errors_total %llu\n",
		   (unsigned long long)api->errors);
}

int ms_api_metrics(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct ms_raftlog_stats rs = {0};
	struct ms_cluster_totals t = {0};
	uint64_t inodes;
	uint64_t chunks;
	uint64_t bytes;
	size_t len = 0;
	char *buf;

	api->routes[MS_API_METRICS]++;
	buf = malloc(API_METRICS_MAX);
	if (buf == NULL)
		return -ENOMEM;
	buf[0] = '\0';
	api_metrics_requests(api, buf, &len);
	if (api->log != NULL)
		ms_raftlog_stats(api->log, &rs);
	ms_fsm_counts(api->state->fsm, &inodes, &chunks, &bytes);
	ms_cluster_totals(api->cluster, api->state->fsm, ms_api_now_ms(api),
			  &t);
	api_metric(buf, &len,
		   "# TYPE ringfs_meta_raft_commits_total counter\n"
		   "ringfs_meta_raft_commits_total %llu\n"
		   "# TYPE ringfs_meta_raft_snapshots_total counter\n"
		   "ringfs_meta_raft_snapshots_total %llu\n"
		   "# TYPE ringfs_meta_raft_last_index gauge\n"
		   "ringfs_meta_raft_last_index %llu\n"
		   "# TYPE ringfs_meta_ready gauge\n"
		   "ringfs_meta_ready %d\n",
		   (unsigned long long)rs.committed,
		   (unsigned long long)rs.snapshots,
		   (unsigned long long)rs.last_index, rs.ready ? 1 : 0);
	api_metric(buf, &len,
		   "# TYPE ringfs_meta_inodes gauge\nringfs_meta_inodes %llu\n"
		   "# TYPE ringfs_meta_chunks gauge\nringfs_meta_chunks %llu\n"
		   "# TYPE ringfs_meta_chunk_bytes gauge\n"
		   "ringfs_meta_chunk_bytes %llu\n"
		   "# TYPE ringfs_meta_servers gauge\n"
		   "ringfs_meta_servers %zu\n"
		   "# TYPE ringfs_meta_servers_up gauge\n"
		   "ringfs_meta_servers_up %zu\n",
		   (unsigned long long)inodes, (unsigned long long)chunks,
		   (unsigned long long)bytes, t.servers, t.up);
	rfs_httpd_reply(req, 200, "text/plain; version=0.0.4", buf, len);
	return 0;
}
