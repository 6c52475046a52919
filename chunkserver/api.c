#include <config.h>
#include "chunkserver/api.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunkserver/replica.h"
#include "common/crc32c.h"
#include "common/errors.h"
#include "common/httpd.h"
#include "common/log.h"

#define CHUNK_ID_DIGITS 16
/* Largest /metrics reply; a dozen short lines. */
#define METRICS_MAX_BYTES 4096
/* "18446744073709551615" plus NUL */
#define U64_TEXT_MAX	21
#define HTTP_OK		200
#define HTTP_CREATED	201
#define HTTP_NO_CONTENT 204
#define CONTENT_TEXT	"text/plain; version=0.0.4"

/* Request kinds counted in /metrics. */
enum api_op {
	OP_PUT,
	OP_UPDATE,
	OP_GET,
	OP_DELETE,
	OP_INVENTORY,
	OP_HEALTH,
	OP_METRICS,
	OP_SYNC,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "put", "update", "get", "delete", "inventory", "health", "metrics", "sync",
};

struct cs_api {
	struct cs_store *store;
	struct rfs_httpd *httpd;
	bool verify_reads;
	pthread_mutex_t mu; /* protects self */
	struct rfs_server self;
	atomic_uint_fast32_t in_flight;
	atomic_uint_fast64_t requests[OP_COUNT];
	atomic_uint_fast64_t errors[OP_COUNT];
	atomic_uint_fast64_t bytes_read;
};

/* A PUT being received. */
struct put_state {
	struct cs_api *api;
	struct cs_store_write *w;
	uint64_t id;
	uint32_t version;
	enum api_op op;
	bool sync;
	uint64_t content_length;
};

/* Count a finished request; rc < 0 counts as an error. Returns rc. */
static int count(struct cs_api *api, enum api_op op, int rc)
{
	atomic_fetch_add(&api->requests[op], 1);
	if (rc < 0)
		atomic_fetch_add(&api->errors[op], 1);
	return rc;
}

static int fail(struct rfs_httpd_req *req, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reply an error with a message naming what was wrong; returns err. */
static int fail(struct rfs_httpd_req *req, int err, const char *fmt, ...)
{
	char msg[RFS_ERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rfs_httpd_reply_error(req, err, "%s", msg);
	return err;
}

/* Chunk id from the path tail: exactly 16 lower-case hex digits. */
static int parse_chunk_id(struct rfs_httpd_req *req, uint64_t *id)
{
	const char *tail = rfs_httpd_req_path_tail(req);
	uint64_t v = 0;

	if (strlen(tail) != CHUNK_ID_DIGITS ||
	    strspn(tail, "0123456789abcdef") != CHUNK_ID_DIGITS)
		return fail(req, -EINVAL,
			    "chunk id must be %d lower-case hex digits",
			    CHUNK_ID_DIGITS);
	for (int i = 0; i < CHUNK_ID_DIGITS; i++) {
		char c = tail[i];

		v = (v << 4) | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	*id = v;
	return 0;
}

/*
 * A decimal query argument in [min, max]; when absent, def if optional.
 * Replies the error itself.
 */
static int query_num(struct rfs_httpd_req *req, const char *key, bool required,
		     uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
	int rc = rfs_httpd_req_query_u64(req, key, out);

	if (rc == -ENOENT && !required) {
		*out = def;
		return 0;
	}
	if (rc == -ENOENT)
		return fail(req, -EINVAL, "missing query argument '%s'", key);
	if (rc < 0)
		return fail(req, -EINVAL,
			    "query argument '%s' must be a decimal number",
			    key);
	if (*out < min || *out > max)
		return fail(req, -EINVAL,
			    "query argument '%s' must be in [%" PRIu64
			    ", %" PRIu64 "]",
			    key, min, max);
	return 0;
}

/* The chunk id and version every chunk route needs. */
static int chunk_args(struct rfs_httpd_req *req, uint64_t *id,
		      uint32_t *version)
{
	uint64_t v;
	int rc = parse_chunk_id(req, id);

	if (rc == 0)
		rc = query_num(req, RFS_Q_VERSION, true, 0, 0, UINT32_MAX, &v);
	if (rc == 0)
		*version = (uint32_t)v;
	return rc;
}

/* --- PUT ------------------------------------------------------------------ */
static void put_state_free(void *p)
{
	struct put_state *ps = p;

	cs_store_write_abort(ps->w);
	atomic_fetch_sub(&ps->api->in_flight, 1);
	free(ps);
}

/* Content-Length (required: the CRC list must match it) and CRC list. */
static int put_body_args(struct rfs_httpd_req *req, struct put_state *ps,
			 uint32_t *crcs, size_t *n_crcs)
{
	const char *clen = rfs_httpd_req_header(req, "Content-Length");
	const char *list = rfs_httpd_req_header(req, RFS_HDR_CRC);
	size_t blocks;
	char *end;
	int rc;

	errno = 0;
	ps->content_length = clen ? strtoull(clen, &end, 10) : 0;
	if (!clen || errno || end == clen || *end || clen[0] == '-')
		return fail(req, -EINVAL, "a Content-Length header is needed");
	if (ps->content_length > RFS_CHUNK_SIZE_MAX)
		return fail(req, -E2BIG, "body larger than a chunk (%u bytes)",
			    RFS_CHUNK_SIZE_MAX);
	blocks = rfs_crc_block_count(ps->content_length);
	rc = list
		 ? rfs_crc_list_parse(list, crcs, CS_REPLICA_BLOCKS_MAX, n_crcs)
		 : (*n_crcs = 0, 0);
	if (rc < 0 || *n_crcs != blocks)
		return fail(req, -EINVAL,
			    "%s must list one CRC32C (8 hex digits) per 64 "
			    "KiB block: %zu expected",
			    RFS_HDR_CRC, blocks);
	return 0;
}

/* Start the store write a PUT asks for (whole chunk or range update). */
static int put_start(struct rfs_httpd_req *req, struct put_state *ps,
		     const uint32_t *crcs, size_t n_crcs)
{
	bool range = rfs_httpd_req_query(req, RFS_Q_OFFSET) ||
		     rfs_httpd_req_query(req, RFS_Q_BASE) ||
		     rfs_httpd_req_query(req, RFS_Q_BASE_LENGTH);
	uint64_t offset;
	uint64_t base;
	uint64_t base_len;
	int rc;

	ps->op = range ? OP_UPDATE : OP_PUT;
	if (!range)
		return cs_store_write_begin(ps->api->store, ps->id, ps->version,
					    ps->content_length, crcs, n_crcs,
					    &ps->w);
	rc = query_num(req, RFS_Q_OFFSET, true, 0, 0, RFS_CHUNK_SIZE_MAX,
		       &offset);
	if (rc == 0)
		rc = query_num(req, RFS_Q_BASE, true, 0, 0, UINT32_MAX, &base);
	if (rc == 0)
		rc = query_num(req, RFS_Q_BASE_LENGTH, true, 0, 0,
			       RFS_CHUNK_SIZE_MAX, &base_len);
	if (rc < 0)
		return rc;
	return cs_store_update_begin(ps->api->store, ps->id, ps->version,
				     offset, ps->content_length, (uint32_t)base,
				     base_len, crcs, n_crcs, &ps->w);
}

/* Reply a store error of a PUT with what it means for this request. */
static int put_fail(struct rfs_httpd_req *req, struct put_state *ps, int rc)
{
	unsigned long long id = (unsigned long long)ps->id;

	switch (rc) {
	case -ENOENT:
		return fail(req, rc, "no replica of chunk %016llx to update",
			    id);
	case -ESTALE:
		return fail(req, rc,
			    ps->op == OP_UPDATE
				? "replica of chunk %016llx is not at the "
				  "base version"
				: "a newer version of chunk %016llx is "
				  "stored",
			    id);
	case -ENOSPC:
		return fail(req, rc, "disk full: cannot store chunk %016llx",
			    id);
	case -EINVAL:
		return fail(req, rc,
			    "invalid range: offset must be a multiple of %d, "
			    "version above base, and the result at most %u "
			    "bytes",
			    RFS_CRC_BLOCK_BYTES, RFS_CHUNK_SIZE_MAX);
	default:
		return fail(req, rc, "cannot store chunk %016llx: %s", id,
			    rfs_errno_name(rc));
	}
}

/* Headers complete: check them and open the store write. */
static int put_begin(struct rfs_httpd_req *req, struct cs_api *api)
{
	const char *sync = rfs_httpd_req_header(req, RFS_HDR_SYNC);
	struct put_state *ps = calloc(1, sizeof(*ps));
	uint32_t *crcs = calloc(CS_REPLICA_BLOCKS_MAX, sizeof(*crcs));
	size_t n_crcs = 0;
	int rc;

	if (!ps || !crcs) {
		free(ps);
		free(crcs);
		return count(api, OP_PUT, -ENOMEM);
	}
	ps->api = api;
	ps->sync = !(sync && strcmp(sync, "0") == 0);
	atomic_fetch_add(&api->in_flight, 1);
	rfs_httpd_req_set_data(req, ps, put_state_free);
	rc = chunk_args(req, &ps->id, &ps->version);
	if (rc == 0)
		rc = put_body_args(req, ps, crcs, &n_crcs);
	if (rc == 0) {
		rc = put_start(req, ps, crcs, n_crcs);
		if (rc < 0)
			put_fail(req, ps, rc);
	}
	free(crcs);
	return rc < 0 ? count(api, ps->op, rc) : 0;
}

static int put_body(struct rfs_httpd_req *req, const char *data, size_t len,
		    void *ctx)
{
	struct put_state *ps = rfs_httpd_req_data(req);
	int rc;

	if (!data)
		return put_begin(req, ctx);
	if (!ps || !ps->w)
		return -EIO; /* refused at the headers; not called then */
	rc = cs_store_write_data(ps->w, data, len);
	if (rc == 0)
		return 0;
	if (rc == -EBADMSG)
		fail(req, rc, "checksum mismatch in block %zu",
		     cs_store_write_bad_block(ps->w));
	else if (rc == -E2BIG)
		fail(req, rc, "body longer than its Content-Length");
	else
		put_fail(req, ps, rc);
	/* Nothing half-written is kept: drop the temporary file now. */
	cs_store_write_abort(ps->w);
	ps->w = NULL;
	return count(ps->api, ps->op, rc);
}

static int put_handler(struct rfs_httpd_req *req, void *ctx)
{
	struct put_state *ps = rfs_httpd_req_data(req);
	uint64_t received;
	int rc;

	if (!ps || !ps->w)
		return -EIO; /* put_body replied already in every such case */
	received = cs_store_write_received(ps->w);
	rc = cs_store_write_commit(ps->w, ps->sync);
	ps->w = NULL;
	if (rc == -EBADMSG)
		return count(ps->api, ps->op,
			     fail(req, rc, "checksum mismatch in block %zu",
				  rfs_crc_block_count(received) - 1));
	if (rc == -EPROTO)
		return count(ps->api, ps->op,
			     fail(req, rc,
				  "body of %" PRIu64 " bytes is shorter than "
				  "its Content-Length",
				  received));
	if (rc < 0)
		return count(ps->api, ps->op, put_fail(req, ps, rc));
	rfs_log_debug(rfs_httpd_req_id(req),
		      "msg=\"chunk stored\" chunk=%016llx version=%u "
		      "bytes=%" PRIu64,
		      (unsigned long long)ps->id, ps->version, received);
	count(ps->api, ps->op, 0);
	return rfs_httpd_reply(req, HTTP_CREATED, NULL, NULL, 0);
}

/* --- GET, DELETE ------------------------------------------------------------ */
static int read_fail(struct rfs_httpd_req *req, uint64_t id, uint32_t version,
		     const struct cs_store_extent *ext, int rc)
{
	unsigned long long cid = (unsigned long long)id;

	switch (rc) {
	case -ENOENT:
		return fail(req, rc, "no replica of chunk %016llx", cid);
	case -ESTALE:
		return fail(req, rc,
			    "chunk %016llx is not stored at version %u", cid,
			    version);
	case -EAGAIN:
		return fail(req, rc, "chunk %016llx is being updated; retry",
			    cid);
	case -EINVAL:
		return fail(req, rc,
			    "offset must be a multiple of %d within the chunk, "
			    "length a multiple of it or reaching the end",
			    RFS_CRC_BLOCK_BYTES);
	case -EIO:
		return fail(req, rc,
			    "stored block %zu of chunk %016llx fails its "
			    "checksum; read another replica",
			    ext->bad_block, cid);
	default:
		return fail(req, rc, "cannot read chunk %016llx: %s", cid,
			    rfs_errno_name(rc));
	}
}

/* Headers of a range reply: CRCs of the covered blocks, chunk length. */
static int read_headers(struct rfs_httpd_req *req,
			const struct cs_store_extent *ext)
{
	char len[U64_TEXT_MAX];
	char *crcs = NULL;
	int rc;

	/* An empty range has no CRCs, and HTTP no empty header values. */
	rc = ext->n_crcs ? rfs_crc_list_format(ext->crcs, ext->n_crcs, &crcs)
			 : 0;
	if (rc == 0 && crcs)
		rc = rfs_httpd_add_header(req, RFS_HDR_CRC, crcs);
	free(crcs);
	snprintf(len, sizeof(len), "%" PRIu64, ext->chunk_length);
	if (rc == 0)
		rc = rfs_httpd_add_header(req, RFS_HDR_CHUNK_LENGTH, len);
	return rc;
}

static int get_handler(struct rfs_httpd_req *req, void *ctx)
{
	struct cs_api *api = ctx;
	struct cs_store_extent ext = {.fd = -1};
	uint64_t id = 0;
	uint32_t version = 0;
	uint64_t offset = 0;
	uint64_t length = UINT64_MAX;
	int rc;

	atomic_fetch_add(&api->in_flight, 1);
	rc = chunk_args(req, &id, &version);
	if (rc == 0)
		rc = query_num(req, RFS_Q_OFFSET, false, 0, 0, UINT64_MAX,
			       &offset);
	if (rc == 0)
		rc = query_num(req, RFS_Q_LENGTH, false, UINT64_MAX, 0,
			       UINT64_MAX, &length);
	if (rc == 0) {
		rc = cs_store_read_open(api->store, id, version, offset, length,
					api->verify_reads, &ext);
		if (rc < 0)
			read_fail(req, id, version, &ext, rc);
	}
	if (rc == 0)
		rc = read_headers(req, &ext);
	if (rc == 0) {
		atomic_fetch_add(&api->bytes_read, ext.len);
		/* the reply owns the fd or buffer from here, also on failure */
		if (ext.len && !ext.buf)
			rc = rfs_httpd_reply_fd(req, HTTP_OK, ext.fd,
						ext.file_offset, ext.len);
		else
			rc = rfs_httpd_reply(req, HTTP_OK, RFS_CONTENT_OCTETS,
					     ext.buf, ext.len);
		if (ext.len && !ext.buf)
			ext.fd = -1;
		ext.buf = NULL;
	}
	cs_store_extent_release(&ext);
	atomic_fetch_sub(&api->in_flight, 1);
	return count(api, OP_GET, rc);
}

/* Delete one replica; replies itself. */
static int delete_one(struct rfs_httpd_req *req, struct cs_api *api)
{
	uint64_t id = 0;
	uint32_t version = 0;
	int rc = chunk_args(req, &id, &version);

	if (rc < 0)
		return rc;
	rc = cs_store_delete(api->store, id, version);
	if (rc == 0)
		return rfs_httpd_reply(req, HTTP_NO_CONTENT, NULL, NULL, 0);
	if (rc == -ENOENT || rc == -ESTALE)
		return fail(req, rc,
			    "chunk %016llx is not stored at version %u",
			    (unsigned long long)id, version);
	return fail(req, rc, "cannot delete chunk %016llx: %s",
		    (unsigned long long)id, rfs_errno_name(rc));
}

static int delete_handler(struct rfs_httpd_req *req, void *ctx)
{
	struct cs_api *api = ctx;
	int rc;

	atomic_fetch_add(&api->in_flight, 1);
	rc = delete_one(req, api);
	atomic_fetch_sub(&api->in_flight, 1);
	return count(api, OP_DELETE, rc);
}

/* --- sync --------------------------------------------------------------- */
/* POST /v1/sync: everything stored so far (also without sync) is durable
 * when this answers 204. */
static int sync_handler(struct rfs_httpd_req *req, void *ctx)
{
	struct cs_api *api = ctx;
	int rc;

	atomic_fetch_add(&api->in_flight, 1);
	rc = cs_store_sync(api->store);
	if (rc == 0)
		rc = rfs_httpd_reply(req, HTTP_NO_CONTENT, NULL, NULL, 0);
	else
		fail(req, rc, "cannot sync the data directories: %s",
		     rfs_errno_name(rc));
	atomic_fetch_sub(&api->in_flight, 1);
	return count(api, OP_SYNC, rc);
}

/* --- inventory, health, metrics ------------------------------------------ */
static int inventory_handler(struct rfs_httpd_req *req, void *ctx)
{
	struct cs_api *api = ctx;
	struct rfs_inventory inv;
	char *out = NULL;
	size_t len = 0;
	int rc;

	rc = cs_store_inventory(api->store, &inv);
	if (rc < 0)
		return count(api, OP_INVENTORY, rc);
	pthread_mutex_lock(&api->mu);
	memcpy(inv.server_id, api->self.id, sizeof(inv.server_id));
	pthread_mutex_unlock(&api->mu);
	rc = rfs_proto_inventory_encode(&inv, &out, &len);
	rfs_proto_inventory_release(&inv);
	if (rc == 0)
		rc = rfs_httpd_reply(req, HTTP_OK, RFS_CONTENT_JSON, out, len);
	return count(api, OP_INVENTORY, rc);
}

void cs_api_server_status(void *arg, struct rfs_server *out)
{
	struct cs_api *api = arg;
	struct cs_store_stats stats;

	cs_store_stats(api->store, &stats);
	pthread_mutex_lock(&api->mu);
	*out = api->self;
	pthread_mutex_unlock(&api->mu);
	if (out->capacity == 0)
		out->capacity = stats.capacity_bytes;
	out->used = stats.used_bytes;
	out->chunks = stats.chunks;
	out->load = (uint32_t)atomic_load(&api->in_flight);
	out->state = RFS_SERVER_UP;
	out->heartbeat_age_ms = -1;
}

static int health_handler(struct rfs_httpd_req *req, void *ctx)
{
	struct cs_api *api = ctx;
	struct rfs_server self;
	char *out = NULL;
	size_t len = 0;
	int rc;

	cs_api_server_status(api, &self);
	rc = rfs_proto_server_encode(&self, &out, &len);
	if (rc == 0)
		rc = rfs_httpd_reply(req, HTTP_OK, RFS_CONTENT_JSON, out, len);
	return count(api, OP_HEALTH, rc);
}

/* Append printf output to buf[*len..cap); false once it no longer fits. */
static bool emit(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool emit(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return false;
	*len += (size_t)n;
	return true;
}

/* Prometheus text exposition of the counters and gauges. */
static size_t metrics_text(struct cs_api *api, char *buf, size_t cap)
{
	struct cs_store_stats st;
	size_t len = 0;
	bool ok = true;

	cs_store_stats(api->store, &st);
	ok = emit(buf, cap, &len,
		  "# TYPE ringfs_chunk_requests_total "
		  "counter\n");
	for (int i = 0; ok && i < OP_COUNT; i++)
		ok = emit(buf, cap, &len,
			  "ringfs_chunk_requests_total{op=\"%s\"} %" PRIu64
			  "\nringfs_chunk_request_errors_total{op=\"%s\"} "
			  "%" PRIu64 "\n",
			  op_names[i], (uint64_t)atomic_load(&api->requests[i]),
			  op_names[i], (uint64_t)atomic_load(&api->errors[i]));
	ok = ok &&
	     emit(buf, cap, &len,
		  "ringfs_chunk_bytes_written_total %" PRIu64 "\n"
		  "ringfs_chunk_bytes_read_total %" PRIu64 "\n"
		  "ringfs_chunk_checksum_failures_total %" PRIu64 "\n"
		  "ringfs_chunk_requests_in_flight %u\n"
		  "ringfs_chunk_replicas %" PRIu64 "\n"
		  "ringfs_chunk_disk_used_bytes %" PRIu64 "\n"
		  "ringfs_chunk_disk_free_bytes %" PRIu64 "\n"
		  "ringfs_chunk_disk_capacity_bytes %" PRIu64 "\n",
		  st.bytes_written, (uint64_t)atomic_load(&api->bytes_read),
		  st.checksum_failures, (unsigned)atomic_load(&api->in_flight),
		  st.chunks, st.used_bytes, st.free_bytes, st.capacity_bytes);
	return len;
}

static int metrics_handler(struct rfs_httpd_req *req, void *ctx)
{
	struct cs_api *api = ctx;
	char *buf = malloc(METRICS_MAX_BYTES);
	size_t len;

	if (!buf)
		return count(api, OP_METRICS, -ENOMEM);
	len = metrics_text(api, buf, METRICS_MAX_BYTES);
	return count(api, OP_METRICS,
		     rfs_httpd_reply(req, HTTP_OK, CONTENT_TEXT, buf, len));
}

/* --- server ------------------------------------------------------------- */
static const struct rfs_httpd_route routes[] = {
    {"PUT", RFS_PATH_CHUNK, put_handler, put_body, RFS_CHUNK_SIZE_MAX},
    {"GET", RFS_PATH_CHUNK, get_handler, NULL, 0},
    {"DELETE", RFS_PATH_CHUNK, delete_handler, NULL, 0},
    {"GET", RFS_PATH_CHUNKS, inventory_handler, NULL, 0},
    {"POST", RFS_PATH_SYNC, sync_handler, NULL, 0},
    {"GET", RFS_PATH_HEALTH, health_handler, NULL, 0},
    {"GET", RFS_PATH_METRICS, metrics_handler, NULL, 0},
};

int cs_api_start(const struct cs_api_opts *opts, struct cs_api **out)
{
	struct rfs_httpd_opts ho = {
	    .name = "chunk-api",
	    .bind_addr = opts->bind_addr,
	    .port = opts->port,
	    .threads = opts->threads,
	    .routes = routes,
	    .n_routes = sizeof(routes) / sizeof(routes[0]),
	};
	struct cs_api *api = calloc(1, sizeof(*api));
	int rc;

	if (!api)
		return -ENOMEM;
	api->store = opts->store;
	api->verify_reads = opts->verify_reads;
	api->self = *opts->self;
	pthread_mutex_init(&api->mu, NULL);
	ho.ctx = api;
	rc = rfs_httpd_start(&ho, &api->httpd);
	if (rc < 0) {
		pthread_mutex_destroy(&api->mu);
		free(api);
		return rc;
	}
	*out = api;
	return 0;
}

void cs_api_stop(struct cs_api *api)
{
	if (!api)
		return;
	rfs_httpd_stop(api->httpd);
	pthread_mutex_destroy(&api->mu);
	free(api);
}

uint16_t cs_api_port(const struct cs_api *api)
{
	return rfs_httpd_port(api->httpd);
}

void cs_api_set_addr(struct cs_api *api, const char *addr)
{
	pthread_mutex_lock(&api->mu);
	snprintf(api->self.addr, sizeof(api->self.addr), "%s", addr);
	pthread_mutex_unlock(&api->mu);
}
