/*
 * httpd: the HTTP/1.1 server both daemons use, a wrapper over
 * libmicrohttpd. It does once, for every route: routing by method and
 * path, request ids, body size limits, streaming or buffered bodies, JSON
 * error replies ({"error":"ENOENT","message":"..."}) with the status from
 * common/errors.h, and logging of refused requests. A malformed request
 * never crashes the server and never reaches a handler half-parsed.
 *
 * Two ways to run it:
 *  - threaded (chunk server): libmicrohttpd's own threads call handlers,
 *    several at once; handlers must be thread-safe.
 *  - external (metaserver): the caller's event loop polls
 *    rfs_httpd_epoll_fd() and calls rfs_httpd_run(); every handler runs on
 *    that one thread. A handler may return RFS_HTTPD_ASYNC and reply later
 *    (e.g. once a log entry commits): the connection is suspended until
 *    its reply function is called, from that same thread.
 *
 * Every request gets an id: the client's X-Request-Id if it is 1..32 chars
 * of [A-Za-z0-9_-], otherwise 16 random hex digits. The reply echoes it.
 *
 * Notes on the implementation (common/httpd.c, common/httpd_req.c):
 *  - threaded mode runs one libmicrohttpd thread per connection (handlers
 *    may block on disk I/O and fsync without stalling other connections);
 *    opts->threads is not used. RFS_HTTPD_ASYNC is for external mode only
 *    (in threaded mode it is answered 500 EIO).
 *  - rfs_httpd_epoll_fd() is an epoll set holding libmicrohttpd's epoll fd
 *    and a wake-up eventfd that a reply to a suspended request signals, so
 *    the caller's loop wakes and rfs_httpd_run() sends the reply.
 *  - A request refused from its headers (no route, 405, a body callback
 *    error) has its body read and dropped before the reply, so the client
 *    sees the reply; a declared Content-Length over the route's max_body
 *    gets 413 at once, without reading the body, and the connection is
 *    closed.
 *  - Refusals are logged (WARN, ERROR for 5xx) with request id, peer,
 *    method, path, status and error name; ENOENT/EEXIST given by handlers
 *    are everyday answers and logged at DEBUG.
 *  - The program must ignore SIGPIPE (main.c does): libmicrohttpd sends
 *    with MSG_NOSIGNAL and blocks SIGPIPE in its own threads, but the
 *    process-wide disposition is the program's business.
 */
#ifndef RFS_COMMON_HTTPD_H
#define RFS_COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rfs_httpd;
struct rfs_httpd_req;

/* Handler return value: the reply will be given later (external mode). */
#define RFS_HTTPD_ASYNC 1

/*
 * Handles a request whose body (if any) has fully arrived. Returns 0 after
 * calling exactly one rfs_httpd_reply_*(), RFS_HTTPD_ASYNC to reply later,
 * or a negative errno, in which case the server replies with that error and
 * a generic message (only if the handler has not replied yet).
 */
typedef int (*rfs_httpd_handler_cb)(struct rfs_httpd_req *req, void *ctx);

/*
 * Streaming body (optional, per route): called once with data == NULL and
 * len == 0 when the headers have arrived (to check them and set up state
 * with rfs_httpd_req_set_data), then once per piece of body as it arrives,
 * in order. Returns 0, or a negative errno: the request is then answered
 * with that error (the handler is not called) and the rest of the body is
 * discarded. The handler runs after the last piece.
 */
typedef int (*rfs_httpd_body_cb)(struct rfs_httpd_req *req, const char *data,
				 size_t len, void *ctx);

struct rfs_httpd_route {
	const char *method; /* "GET", "PUT", "POST", "DELETE" */
	/*
	 * Exact path, or a prefix when it ends with '/': "/v1/chunk/"
	 * matches "/v1/chunk/00ab..."; rfs_httpd_req_path_tail() gives
	 * "00ab...". An exact route wins over a prefix route.
	 */
	const char *path;
	rfs_httpd_handler_cb handler;
	rfs_httpd_body_cb body_cb; /* NULL: body buffered in memory */
	size_t max_body;	   /* larger bodies get 413 E2BIG */
};

struct rfs_httpd_opts {
	const char *name;      /* for log lines, e.g. "meta-api" */
	const char *bind_addr; /* "127.0.0.1", "::1", "0.0.0.0" */
	uint16_t port;	       /* 0: an ephemeral port, see rfs_httpd_port */
	bool external;	       /* driven by the caller's loop */
	unsigned threads;      /* threaded mode: worker threads (0 = 4) */
	const struct rfs_httpd_route *routes; /* borrowed for the lifetime */
	size_t n_routes;
	void *ctx; /* passed to every callback */
};

/*
 * Start listening. On success *out is the server (free with
 * rfs_httpd_stop). Returns 0, -EADDRINUSE, -EINVAL (bad address or
 * options), -ENOMEM or -EIO.
 */
int rfs_httpd_start(const struct rfs_httpd_opts *opts, struct rfs_httpd **out);

/*
 * Stop accepting, close every connection and free the server. Requests
 * still suspended are dropped (their per-request data is freed). In
 * threaded mode, waits for running handlers. NULL is a no-op.
 */
void rfs_httpd_stop(struct rfs_httpd *srv);

/* The port actually bound. */
uint16_t rfs_httpd_port(const struct rfs_httpd *srv);

/* External mode: an fd that becomes readable when rfs_httpd_run has work. */
int rfs_httpd_epoll_fd(const struct rfs_httpd *srv);

/* External mode: do all work that is ready without blocking. Returns 0/-EIO. */
int rfs_httpd_run(struct rfs_httpd *srv);

/* External mode: ms until rfs_httpd_run must be called again, -1 = none. */
int64_t rfs_httpd_timeout_ms(const struct rfs_httpd *srv);

/* --- request accessors (valid until the reply is sent) --------------- */
const char *rfs_httpd_req_method(const struct rfs_httpd_req *req);
const char *rfs_httpd_req_path(const struct rfs_httpd_req *req);
/* Part of the path after a prefix route ("" for exact routes). */
const char *rfs_httpd_req_path_tail(const struct rfs_httpd_req *req);
/* Query argument value, or NULL when absent. */
const char *rfs_httpd_req_query(const struct rfs_httpd_req *req,
				const char *key);
/* Header value (case-insensitive name), or NULL. */
const char *rfs_httpd_req_header(const struct rfs_httpd_req *req,
				 const char *name);
/* Buffered body (NULL/0 for streaming routes or no body). Not NUL-ended. */
const char *rfs_httpd_req_body(const struct rfs_httpd_req *req, size_t *len);
const char *rfs_httpd_req_id(const struct rfs_httpd_req *req);
/* Remote address as text, for logs. */
const char *rfs_httpd_req_peer(const struct rfs_httpd_req *req);

/*
 * Query helpers: parse a decimal (or, for _hex, hex) u64 query argument.
 * Return 0, -ENOENT when absent (*out untouched), -EINVAL when malformed.
 */
int rfs_httpd_req_query_u64(const struct rfs_httpd_req *req, const char *key,
			    uint64_t *out);
int rfs_httpd_req_query_hex(const struct rfs_httpd_req *req, const char *key,
			    uint64_t *out);

/*
 * Per-request state for handlers: data is freed with free_cb (may be NULL)
 * when the request ends, whether it succeeded, failed or was dropped.
 */
void rfs_httpd_req_set_data(struct rfs_httpd_req *req, void *data,
			    void (*free_cb)(void *));
void *rfs_httpd_req_data(const struct rfs_httpd_req *req);

/* --- replies: exactly one per request -------------------------------- */
/* Add a header to the coming reply (copied). Returns 0 or -ENOMEM. */
int rfs_httpd_add_header(struct rfs_httpd_req *req, const char *name,
			 const char *value);

/*
 * Reply with a body. Takes ownership of buf (malloc'd, freed by the server,
 * also on error). content_type is e.g. RFS_CONTENT_JSON. Returns 0 or
 * -ENOMEM/-EIO (the connection is then closed).
 */
int rfs_httpd_reply(struct rfs_httpd_req *req, unsigned int status,
		    const char *content_type, char *buf, size_t len);

/* Reply {"error": name, "message": ...} with the status for -err. */
int rfs_httpd_reply_error(struct rfs_httpd_req *req, int err, const char *fmt,
			  ...) __attribute__((format(printf, 3, 4)));

/*
 * Reply with len bytes of fd from offset, sent zero-copy (sendfile) where
 * possible. Takes ownership of fd (closed by the server, also on error).
 */
int rfs_httpd_reply_fd(struct rfs_httpd_req *req, unsigned int status, int fd,
		       uint64_t offset, uint64_t len);

#endif
