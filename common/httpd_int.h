/*
 * httpd_int: what common/httpd.c (daemon lifecycle, routing, the
 * libmicrohttpd callbacks and a request's life) shares with
 * common/httpd_req.c (request accessors, query helpers, per-request data
 * and replies). Private to the httpd module.
 */
#ifndef RFS_COMMON_HTTPD_INT_H
#define RFS_COMMON_HTTPD_INT_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "common/httpd.h"
#include "common/log.h"
#include "common/proto.h"

/* "[v6 address]:port" */
#define RFS_HTTPD_PEER_MAX (INET6_ADDRSTRLEN + 8)
/* Bytes of a server name kept for log lines. */
#define RFS_HTTPD_NAME_MAX 64

/* Where a request is in its life. */
enum req_state {
	REQ_BODY,      /* receiving the body, handler not called yet */
	REQ_SUSPENDED, /* handler said ASYNC, connection suspended */
	REQ_RESUMED,   /* reply given while suspended, connection resumed */
	REQ_DONE,      /* reply queued in libmicrohttpd */
	REQ_DROPPED,   /* resumed without a reply because the server stops */
};

struct reply_header {
	char *name; /* "name\0value" in one allocation */
	const char *value;
};

struct rfs_httpd {
	struct MHD_Daemon *daemon;
	char name[RFS_HTTPD_NAME_MAX];
	uint16_t port;
	bool external;
	const struct rfs_httpd_route *routes;
	size_t n_routes;
	void *ctx;
	/* external mode: suspended requests (only touched by the loop) */
	struct rfs_httpd_req *suspended;
	/*
	 * External mode: the fd the caller polls, an epoll set holding
	 * libmicrohttpd's epoll fd and wake_fd. libmicrohttpd has no wake-up
	 * channel without its own thread, so a connection resumed by a
	 * reply would wait for an unrelated network event; writing wake_fd
	 * makes the caller's loop call rfs_httpd_run at once.
	 */
	int poll_fd;
	int wake_fd;
	/* wake_fd was written since rfs_httpd_run last read it (replies
	 * are given on the loop's thread, so no lock): a run reads the
	 * eventfd only then, not once per request */
	bool wake_pending;
	/* fallback request ids when the random source fails */
	atomic_uint_fast64_t id_seq;
};

struct rfs_httpd_req {
	struct rfs_httpd *srv;
	struct MHD_Connection *conn;
	const struct rfs_httpd_route *route;
	const char *method; /* libmicrohttpd's copies, live with the request */
	const char *path;
	const char *tail;
	char id[RFS_REQUEST_ID_MAX + 1];
	char peer[RFS_HTTPD_PEER_MAX];
	enum req_state state;
	char *body;
	size_t body_len;
	size_t body_cap;
	uint64_t body_seen; /* bytes of body received, kept or not */
	int body_err;	    /* error to reply once the body is discarded */
	bool reply_now;	    /* refused reply goes out before the body */
	struct MHD_Response *response; /* built, not yet queued */
	unsigned int status;
	struct reply_header *hdrs;
	size_t n_hdrs;
	void *data;
	void (*free_cb)(void *);
	struct rfs_httpd_req *prev; /* srv->suspended list */
	struct rfs_httpd_req *next;
};

/* Copy src into dst for a quoted log value: no quotes or control chars. */
const char *rfs_httpd_log_safe(char *dst, size_t cap, const char *src);

/* Take a suspended request off srv->suspended. */
void rfs_httpd_unlink_suspended(struct rfs_httpd_req *req);

/* Declared Content-Length: 0 and *len, -ENOENT if none, -EINVAL if bad. */
int rfs_httpd_req_content_length(const struct rfs_httpd_req *req,
				 uint64_t *len);

/* Last resort when even an error body cannot be built: status only. */
int rfs_httpd_reply_empty(struct rfs_httpd_req *req, unsigned int status);

/* Log the refusal at level, then reply {"error": name, "message": ...}. */
int rfs_httpd_reply_error_level(struct rfs_httpd_req *req, unsigned int status,
				enum rfs_log_level level, int err,
				const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Reply err with the generic message, when nobody has replied yet. */
void rfs_httpd_reply_generic(struct rfs_httpd_req *req, int err);

#endif
