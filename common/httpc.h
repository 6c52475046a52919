/*
 * httpc: the HTTP client, the one wrapper over libcurl. Two interfaces:
 *  - rfs_httpc_call(): one synchronous request (metadata, admin). Each
 *    struct rfs_httpc keeps one curl easy handle per peer address so
 *    keep-alive connections are reused; no "Expect: 100-continue"; connect
 *    and total timeouts; idempotent calls are retried with exponential
 *    backoff on transport errors and 503.
 *  - struct rfs_httpc_multi: many transfers at once over the curl multi
 *    interface (parallel chunk uploads and downloads), each transfer
 *    reading from / writing into caller buffers with no extra copy.
 * Errors: a reply carrying {"error": "ENOENT", ...} becomes -ENOENT; a
 * reply without one maps its status with rfs_errno_from_http_status();
 * transport failures give -ECONNREFUSED (nobody listening), -ETIMEDOUT,
 * -EHOSTUNREACH (other connect failures) or -EIO.
 * A struct rfs_httpc or rfs_httpc_multi is used by one thread at a time;
 * different objects may be used from different threads at once.
 */
#ifndef RFS_COMMON_HTTPC_H
#define RFS_COMMON_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/* Defaults, chosen for loopback and LAN clusters. */
#define RFS_HTTPC_CONNECT_TIMEOUT_MS 3000
#define RFS_HTTPC_TIMEOUT_MS	     60000 /* one 64 MiB chunk at >1 MB/s */
#define RFS_HTTPC_RETRIES	     4
#define RFS_HTTPC_BUFFER_BYTES	     (512 * 1024)
#define RFS_HTTPC_PATH_MAX	     512

struct rfs_httpc_opts {
	long connect_timeout_ms; /* 0: default */
	long timeout_ms;	 /* 0: default */
	int retries;		 /* -1: default; retries for idempotent calls */
};

struct rfs_httpc;
struct rfs_httpc_multi;

/* Returns NULL only on OOM. opts may be NULL for defaults (copied). */
struct rfs_httpc *rfs_httpc_new(const struct rfs_httpc_opts *opts);
void rfs_httpc_free(struct rfs_httpc *c);

struct rfs_httpc_reply {
	unsigned int status;
	char *body; /* malloc'd, NUL-terminated, may be NULL */
	size_t len;
	char message[RFS_ERR_MESSAGE_MAX]; /* error message, "" if none */
	char request_id[RFS_REQUEST_ID_MAX + 1];
};
/* Frees reply->body. NULL is a no-op. */
void rfs_httpc_reply_release(struct rfs_httpc_reply *reply);

/*
 * One request to http://addr path (path includes any query). body may be
 * NULL. On 2xx returns 0 with the body in *reply (release it). On failure
 * returns a negative errno and still fills reply->status/message (release
 * it too). Retries only when idempotent.
 */
int rfs_httpc_call(struct rfs_httpc *c, const char *addr, const char *method,
		   const char *path, const char *body, size_t len,
		   bool idempotent, struct rfs_httpc_reply *reply);

/* One transfer of a multi. The caller owns it and its buffers. */
struct rfs_xfer {
	/* in */
	char addr[RFS_ADDR_MAX + 1];
	const char *method; /* "GET", "PUT", "DELETE" */
	char path[RFS_HTTPC_PATH_MAX];
	const char *send_crc; /* RFS_HDR_CRC value to send, or NULL */
	bool no_sync;	      /* send RFS_HDR_SYNC: 0 */
	const void *send_buf; /* PUT body */
	size_t send_len;
	void *recv_buf; /* GET body goes here; a longer body is -EOVERFLOW */
	size_t recv_cap;
	void *user; /* for the caller */
	/* out */
	size_t recv_len;
	unsigned int status;
	int result;	/* 0 or negative errno */
	char *recv_crc; /* malloc'd RFS_HDR_CRC of the reply, or NULL */
	uint64_t recv_chunk_length; /* RFS_HDR_CHUNK_LENGTH, 0 if absent */
	char message[RFS_ERR_MESSAGE_MAX];
};
/* Frees the out-fields of x (recv_crc) so it can be reused. */
void rfs_xfer_release(struct rfs_xfer *x);

typedef void (*rfs_xfer_done_cb)(struct rfs_xfer *x, void *arg);

/* At most max_parallel transfers run at once. NULL only on OOM. */
struct rfs_httpc_multi *rfs_httpc_multi_new(unsigned int max_parallel,
					    const struct rfs_httpc_opts *opts);
void rfs_httpc_multi_free(struct rfs_httpc_multi *m);

/*
 * Queue a transfer; x is borrowed until its done callback. Returns 0 or
 * -ENOMEM. May be called from inside a done callback.
 */
int rfs_httpc_multi_add(struct rfs_httpc_multi *m, struct rfs_xfer *x);

/*
 * Run until every queued transfer is done, calling done(x, arg) once for
 * each as it finishes (x->result says how). Transfer failures are reported
 * through x->result, not here: returns 0, or -ENOMEM/-EIO when curl itself
 * failed.
 */
int rfs_httpc_multi_run(struct rfs_httpc_multi *m, rfs_xfer_done_cb done,
			void *arg);

#endif
