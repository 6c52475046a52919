/*
 * api: the chunk server's HTTP interface. One route table maps
 *   PUT    /v1/chunk/<id>?version=V[&offset=O&base=BV&base_length=BL]
 *   GET    /v1/chunk/<id>?version=V[&offset=O][&length=L]
 *   DELETE /v1/chunk/<id>?version=V
 *   GET    /v1/chunks   (inventory)
 *   GET    /health      (this server's record, as registered)
 *   GET    /metrics     (Prometheus text)
 * onto the store (chunkserver/store.h); docs/chunkserver.md lists every
 * reply and error. Chunk bodies stream straight into the store as they
 * arrive and are checked block by block against the X-Ringfs-Crc32c list;
 * reads are sent from the replica file with sendfile.
 * Handlers run on the HTTP server's threads, several at once; the public
 * functions here are thread-safe.
 */
#ifndef RFS_CHUNKSERVER_API_H
#define RFS_CHUNKSERVER_API_H

#include <stdbool.h>
#include <stdint.h>

#include "chunkserver/store.h"
#include "common/proto.h"

struct cs_api;

struct cs_api_opts {
	struct cs_store *store; /* borrowed; must outlive the api */
	/*
	 * This server's identity (id, addr, zone, weight; capacity 0 = the
	 * data dirs' file systems). Copied. used/chunks/load are filled in
	 * when the record is reported.
	 */
	const struct rfs_server *self;
	bool verify_reads; /* check stored CRCs before sending a range */
	const char *bind_addr;
	uint16_t port; /* 0: ephemeral */
	unsigned threads;
};

/*
 * Start serving. Returns 0 with *out set, or the rfs_httpd_start error
 * (-EADDRINUSE, -EINVAL, -ENOMEM, -EIO).
 */
int cs_api_start(const struct cs_api_opts *opts, struct cs_api **out);

/* Stop serving (waits for running handlers) and free. NULL is a no-op. */
void cs_api_stop(struct cs_api *api);

/* The port actually bound. */
uint16_t cs_api_port(const struct cs_api *api);

/*
 * Set the advertised address after start (when it depends on the bound
 * port). addr is copied (truncated to RFS_ADDR_MAX).
 */
void cs_api_set_addr(struct cs_api *api, const char *addr);

/*
 * This server's record now: identity plus used bytes, replica count,
 * requests in flight, state up. Thread-safe. The signature fits a
 * metaclient status callback (arg is the api).
 */
void cs_api_server_status(void *api, struct rfs_server *out);

#endif
