#include <config.h>
#include "common/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/crypto.h"
#include "common/httpd_int.h"
#include "common/log.h"
#include "common/proto.h"

/*
 * Memory libmicrohttpd may use per connection, for the request line,
 * headers and read buffer: a 64 MiB chunk's CRC list header alone is ~9 KiB
 * (1024 values of 9 characters), so the default 32 KiB is too tight.
 */
#define RFS_HTTPD_CONN_MEMORY_BYTES (128 * 1024)
/*
 * Growth step of the read buffer inside that memory: large steps let a
 * streaming upload arrive in big pieces (fewer body_cb calls).
 */
#define RFS_HTTPD_CONN_MEMORY_STEP_BYTES (16 * 1024)
/* An idle keep-alive connection or a stalled transfer is closed after. */
#define RFS_HTTPD_CONN_TIMEOUT_S 120
/*
 * Open connections at once (threaded mode: also handler threads). Clients
 * keep a few connections per server each; beyond this, new connections
 * wait in the listen backlog.
 */
#define RFS_HTTPD_MAX_CONNECTIONS 1024
/* Pending connections the kernel queues before accept. */
#define RFS_HTTPD_LISTEN_BACKLOG 1024
/* Random bytes of a generated request id (hex: twice as many chars). */
#define RFS_HTTPD_ID_RANDOM_BYTES 8
/*
 * A request refused from its headers still has its body read and dropped,
 * up to this many bytes past the route's limit, before the reply: closing
 * a socket with unread data makes the kernel send a reset, which can
 * destroy the reply before the client reads it. Beyond this (or when the
 * declared length is already beyond it) the reply goes out at once and the
 * connection is closed.
 */
#define RFS_HTTPD_DISCARD_MAX_BYTES (1024 * 1024)
/* "Allow" header value: at most a few methods. */
#define RFS_HTTPD_ALLOW_MAX 64

/* --- small helpers ---------------------------------------------------- */

/* Copy src into dst for a quoted log value: no quotes or control chars. */
const char *rfs_httpd_log_safe(char *dst, size_t cap, const char *src)
{
	size_t i;

	if (!src)
		src = "";
	for (i = 0; i + 1 < cap && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			     ? '?'
			     : (char)c;
	}
	dst[i] = '\0';
	return dst;
}

static bool request_id_is_valid(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		       "0123456789_-");
	return n >= 1 && n <= RFS_REQUEST_ID_MAX && id[n] == '\0';
}

static void request_id_make(struct rfs_httpd *srv, char *out)
{
	uint8_t rnd[RFS_HTTPD_ID_RANDOM_BYTES];
	uint64_t seq;

	if (rfs_random_bytes(rnd, sizeof(rnd)) == 0) {
		rfs_hex_encode(rnd, sizeof(rnd), out);
		return;
	}
	seq = atomic_fetch_add(&srv->id_seq, 1);
	snprintf(out, RFS_REQUEST_ID_MAX + 1, "%016llx",
		 (unsigned long long)seq);
}

static void peer_format(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char ip[INET6_ADDRSTRLEN];

	snprintf(out, cap, "?");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		if (inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip)))
			snprintf(out, cap, "%s:%u", ip, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip)))
			snprintf(out, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
	}
}

/* --- routing ---------------------------------------------------------- */

/* Length of the route's match on path: 0 none, else bigger is better. */
static size_t route_match(const struct rfs_httpd_route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (strcmp(r->path, path) == 0)
		return SIZE_MAX; /* an exact route wins over any prefix */
	if (n > 0 && r->path[n - 1] == '/' && strncmp(r->path, path, n) == 0)
		return n;
	return 0;
}

/*
 * The route for method and path: exact before longest prefix. When no
 * route of this method matches but routes of other methods do, returns
 * NULL with their methods listed in allow (for a 405).
 */
static const struct rfs_httpd_route *route_find(const struct rfs_httpd *srv,
						const char *method,
						const char *path, char *allow,
						size_t allow_cap)
{
	const struct rfs_httpd_route *best = NULL;
	size_t best_len = 0;
	size_t used = 0;
	size_t i;

	allow[0] = '\0';
	for (i = 0; i < srv->n_routes; i++) {
		const struct rfs_httpd_route *r = &srv->routes[i];
		size_t len = route_match(r, path);

		if (len == 0)
			continue;
		if (strcmp(r->method, method) == 0) {
			if (len > best_len) {
				best = r;
				best_len = len;
			}
		} else if (!strstr(allow, r->method) && used < allow_cap) {
			int n = snprintf(allow + used, allow_cap - used, "%s%s",
					 used ? ", " : "", r->method);

			if (n > 0)
				used += (size_t)n;
		}
	}
	return best;
}

/* --- suspended requests (external mode) ------------------------------ */

/* Take a suspended request off srv->suspended. */
void rfs_httpd_unlink_suspended(struct rfs_httpd_req *req)
{
	struct rfs_httpd *srv = req->srv;

	if (req->prev)
		req->prev->next = req->next;
	else
		srv->suspended = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = NULL;
	req->next = NULL;
}

/* --- request life ----------------------------------------------------- */

static struct rfs_httpd_req *req_new(struct rfs_httpd *srv,
				     struct MHD_Connection *conn,
				     const char *url, const char *method)
{
	struct rfs_httpd_req *req = calloc(1, sizeof(*req));
	const char *id;

	if (!req)
		return NULL;
	req->srv = srv;
	req->conn = conn;
	req->method = method;
	req->path = url;
	req->tail = "";
	req->state = REQ_BODY;
	id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 RFS_HDR_REQUEST_ID);
	if (request_id_is_valid(id))
		memcpy(req->id, id, strlen(id) + 1);
	else
		request_id_make(srv, req->id);
	peer_format(conn, req->peer, sizeof(req->peer));
	return req;
}

static void req_free(struct rfs_httpd_req *req)
{
	size_t i;

	if (req->free_cb)
		req->free_cb(req->data);
	if (req->response)
		MHD_destroy_response(req->response);
	for (i = 0; i < req->n_hdrs; i++)
		free(req->hdrs[i].name);
	free(req->hdrs);
	free(req->body);
	free(req);
}

/*
 * Whether a refusal should be sent before the body: the body is too big
 * to read and drop, or the client waits for "100 Continue" before sending
 * it (libmicrohttpd then closes the connection after the reply).
 */
static bool req_refuse_early(const struct rfs_httpd_req *req, bool has_clen,
			     uint64_t clen, size_t max_body)
{
	const char *expect = rfs_httpd_req_header(req, MHD_HTTP_HEADER_EXPECT);

	if (expect && strcasecmp(expect, "100-continue") == 0)
		return true;
	return has_clen && clen > max_body &&
	       clen - max_body > RFS_HTTPD_DISCARD_MAX_BYTES;
}

/* No route for the request: 404, or 405 naming the allowed methods. */
static void req_no_route(struct rfs_httpd_req *req, const char *allow)
{
	if (!allow[0]) {
		rfs_httpd_reply_error_level(req, MHD_HTTP_NOT_FOUND,
					    RFS_LOG_WARN, ENOENT,
					    "no such path: %s", req->path);
		return;
	}
	if (rfs_httpd_add_header(req, MHD_HTTP_HEADER_ALLOW, allow) < 0)
		rfs_httpd_reply_empty(req, MHD_HTTP_METHOD_NOT_ALLOWED);
	else
		rfs_httpd_reply_error_level(
		    req, MHD_HTTP_METHOD_NOT_ALLOWED, RFS_LOG_WARN, EOPNOTSUPP,
		    "method %s not allowed for %s (allowed: %s)", req->method,
		    req->path, allow);
}

/*
 * First call, headers complete: route, check the declared body size, set
 * up buffering or let the streaming route look at the headers. A refusal
 * is built here; it is sent once the body has been read and dropped, or
 * at once when req->reply_now says so (e.g. a declared length over the
 * limit: 413 without reading the body).
 */
static void req_begin(struct rfs_httpd_req *req)
{
	const struct rfs_httpd_route *r;
	char allow[RFS_HTTPD_ALLOW_MAX];
	uint64_t clen = 0;
	bool has_clen = rfs_httpd_req_content_length(req, &clen) == 0;
	int rc;

	r = route_find(req->srv, req->method, req->path, allow, sizeof(allow));
	req->reply_now =
	    req_refuse_early(req, has_clen, clen, r ? r->max_body : 0);
	if (!r) {
		req_no_route(req, allow);
		return;
	}
	req->route = r;
	if (r->path[strlen(r->path) - 1] == '/' && strcmp(r->path, req->path))
		req->tail = req->path + strlen(r->path);
	if (has_clen && clen > r->max_body) {
		req->reply_now = true;
		rfs_httpd_reply_error_level(
		    req, MHD_HTTP_CONTENT_TOO_LARGE, RFS_LOG_WARN, E2BIG,
		    "request body of %llu bytes exceeds the "
		    "limit of %zu bytes for %s",
		    (unsigned long long)clen, r->max_body, req->path);
		return;
	}
	if (!r->body_cb) {
		if (clen == 0)
			return;
		req->body = malloc(clen);
		if (!req->body)
			rfs_httpd_reply_generic(req, -ENOMEM);
		else
			req->body_cap = clen;
		return;
	}
	rc = r->body_cb(req, NULL, 0, req->srv->ctx);
	if (rc < 0)
		rfs_httpd_reply_generic(req, rc);
}

/* Append to the buffered body, growing it geometrically up to max_body. */
static int req_buffer(struct rfs_httpd_req *req, const char *data, size_t len)
{
	if (req->body_len + len > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 4096;
		char *body;

		while (cap < req->body_len + len)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if (cap > req->route->max_body)
			cap = req->route->max_body;
		body = realloc(req->body, cap);
		if (!body)
			return -ENOMEM;
		req->body = body;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
	return 0;
}

/*
 * One piece of body. After an error, the rest is read and dropped, up to
 * RFS_HTTPD_DISCARD_MAX_BYTES past the limit; then the connection is
 * closed without a reply (a chunked upload that does not stop).
 */
static enum MHD_Result req_body(struct rfs_httpd_req *req, const char *data,
				size_t len)
{
	const struct rfs_httpd_route *r = req->route;
	size_t max = r ? r->max_body : 0;
	int rc;

	req->body_seen += len;
	if (req->body_seen > max &&
	    req->body_seen - max > RFS_HTTPD_DISCARD_MAX_BYTES)
		return MHD_NO;
	if (req->state != REQ_BODY || req->body_err || req->response)
		return MHD_YES;
	if (req->body_seen > max) {
		/* chunked upload (no Content-Length) past the limit */
		req->body_err = -E2BIG;
		free(req->body);
		req->body = NULL;
		req->body_len = 0;
		return MHD_YES;
	}
	rc = r->body_cb ? r->body_cb(req, data, len, req->srv->ctx)
			: req_buffer(req, data, len);
	if (rc < 0)
		req->body_err = rc;
	return MHD_YES;
}

/* Final call: the body is complete; run the handler. */
static void req_dispatch(struct rfs_httpd_req *req)
{
	struct rfs_httpd *srv = req->srv;
	int rc;

	if (req->response)
		return; /* the body callback replied */
	if (req->body_err == -E2BIG) {
		rfs_httpd_reply_error_level(
		    req, MHD_HTTP_CONTENT_TOO_LARGE, RFS_LOG_WARN, E2BIG,
		    "request body exceeds the limit of %zu "
		    "bytes for %s",
		    req->route->max_body, req->path);
		return;
	}
	if (req->body_err) {
		rfs_httpd_reply_generic(req, req->body_err);
		return;
	}
	rc = req->route->handler(req, srv->ctx);
	if (req->response)
		return;
	if (rc == RFS_HTTPD_ASYNC && srv->external) {
		req->state = REQ_SUSPENDED;
		req->next = srv->suspended;
		if (srv->suspended)
			srv->suspended->prev = req;
		srv->suspended = req;
		MHD_suspend_connection(req->conn);
		return;
	}
	if (rc >= 0) {
		rfs_log_error(req->id,
			      "msg=\"handler gave no reply\" server=%s "
			      "method=%s rc=%d",
			      srv->name, req->method, rc);
		rc = -EIO;
	}
	rfs_httpd_reply_generic(req, rc);
}

/* Hand a built response to libmicrohttpd. */
static enum MHD_Result req_flush(struct rfs_httpd_req *req)
{
	enum MHD_Result ret;

	if (req->state == REQ_DROPPED)
		return MHD_NO;
	if (!req->response)
		return MHD_YES; /* body still coming, or suspended */
	ret = MHD_queue_response(req->conn, req->status, req->response);
	MHD_destroy_response(req->response);
	req->response = NULL;
	req->state = REQ_DONE;
	return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct rfs_httpd_req *req = *con_cls;

	if (!req) {
		req = req_new(cls, conn, url, method);
		if (!req)
			return MHD_NO;
		*con_cls = req;
		req_begin(req);
		return req->reply_now ? req_flush(req) : MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t len = *upload_data_size;

		*upload_data_size = 0;
		return req_body(req, upload_data, len);
	}
	if (req->state == REQ_BODY)
		req_dispatch(req);
	return req_flush(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct rfs_httpd_req *req = *con_cls;

	if (!req)
		return;
	if (req->state == REQ_SUSPENDED)
		rfs_httpd_unlink_suspended(req);
	req_free(req);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct rfs_httpd *srv = cls;
	char text[RFS_ERR_MESSAGE_MAX];
	char safe[RFS_ERR_MESSAGE_MAX];
	size_t n;

	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	rfs_log_warn(NULL, "msg=\"libmicrohttpd\" server=%s detail=\"%s\"",
		     srv->name, rfs_httpd_log_safe(safe, sizeof(safe), text));
}

/* --- server ----------------------------------------------------------- */

/* Create, bind and listen on addr:port. Returns an fd or -errno. */
static int listen_socket(const char *addr, uint16_t port, bool *v6)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	socklen_t len;
	int one = 1;
	int fd;
	int rc;

	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	*v6 = ss.ss_family == AF_INET6;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, RFS_HTTPD_LISTEN_BACKLOG) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static uint16_t socket_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * Threaded mode is a thread per connection (with poll), not a pool of
 * epoll threads: chunk server handlers block on disk I/O and fsync, and in
 * a pool every connection of the blocked thread waits behind them (one
 * pool thread also tends to accept a whole burst of connections, so
 * parallel transfers serialise). Measured on this 2-core machine over
 * loopback with keep-alive clients: handlers sleeping 2 ms like an fsync,
 * 8 clients: pool of 4 threads ~700 req/s, thread per connection ~2,700;
 * tiny requests, 16 clients: ~21k vs 26-39k req/s; 1 client: 15-21k both.
 * The thread count is bounded by RFS_HTTPD_MAX_CONNECTIONS, so
 * opts->threads is not used.
 */
static struct MHD_Daemon *daemon_start(struct rfs_httpd *srv,
				       const struct rfs_httpd_opts *opts,
				       int fd, bool v6)
{
	unsigned int flags = MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);

	if (opts->external)
		flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	else
		flags |= MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	/* the logger first, so that no message goes to stderr directly */
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, &on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
	    &on_mhd_log, srv, MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)RFS_HTTPD_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)RFS_HTTPD_CONN_MEMORY_BYTES,
	    MHD_OPTION_CONNECTION_MEMORY_INCREMENT,
	    (size_t)RFS_HTTPD_CONN_MEMORY_STEP_BYTES,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)RFS_HTTPD_CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
	    &on_completed, srv, MHD_OPTION_END);
}

/* External mode: poll_fd = an epoll set of libmicrohttpd's and wake_fd. */
static int wake_setup(struct rfs_httpd *srv)
{
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = {.events = EPOLLIN};

	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EIO;
	srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->wake_fd < 0)
		return -errno;
	srv->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->poll_fd < 0)
		return -errno;
	ev.data.fd = info->epoll_fd;
	if (epoll_ctl(srv->poll_fd, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0)
		return -errno;
	ev.data.fd = srv->wake_fd;
	if (epoll_ctl(srv->poll_fd, EPOLL_CTL_ADD, srv->wake_fd, &ev) < 0)
		return -errno;
	return 0;
}

static void wake_close(struct rfs_httpd *srv)
{
	if (srv->poll_fd >= 0)
		close(srv->poll_fd);
	if (srv->wake_fd >= 0)
		close(srv->wake_fd);
}

static int opts_check(const struct rfs_httpd_opts *opts)
{
	size_t i;

	if (!opts->bind_addr || (opts->n_routes && !opts->routes))
		return -EINVAL;
	for (i = 0; i < opts->n_routes; i++) {
		const struct rfs_httpd_route *r = &opts->routes[i];

		if (!r->method || !r->path || r->path[0] != '/' || !r->handler)
			return -EINVAL;
	}
	return 0;
}

int rfs_httpd_start(const struct rfs_httpd_opts *opts, struct rfs_httpd **out)
{
	struct rfs_httpd *srv;
	bool v6 = false;
	int fd;
	int rc;

	rc = opts_check(opts);
	if (rc < 0)
		return rc;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	snprintf(srv->name, sizeof(srv->name), "%s",
		 opts->name ? opts->name : "http");
	srv->external = opts->external;
	srv->routes = opts->routes;
	srv->n_routes = opts->n_routes;
	srv->ctx = opts->ctx;
	srv->poll_fd = -1;
	srv->wake_fd = -1;
	atomic_init(&srv->id_seq, 1);
	fd = listen_socket(opts->bind_addr, opts->port, &v6);
	if (fd < 0) {
		rc = fd == -EADDRNOTAVAIL ? -EINVAL : fd;
		goto out_free_srv;
	}
	srv->port = socket_port(fd);
	/* from here libmicrohttpd owns fd, also when it fails to start */
	srv->daemon = daemon_start(srv, opts, fd, v6);
	if (!srv->daemon) {
		rc = -EIO;
		goto out_free_srv;
	}
	if (srv->external) {
		rc = wake_setup(srv);
		if (rc < 0)
			goto out_stop_daemon;
	}
	*out = srv;
	return 0;

out_stop_daemon:
	MHD_stop_daemon(srv->daemon);
	wake_close(srv);
out_free_srv:
	free(srv);
	return rc;
}

void rfs_httpd_stop(struct rfs_httpd *srv)
{
	struct rfs_httpd_req *req;

	if (!srv)
		return;
	/*
	 * libmicrohttpd refuses to stop with suspended connections: resume
	 * them marked as dropped; stopping then closes them and frees each
	 * request through on_completed.
	 */
	while ((req = srv->suspended)) {
		rfs_httpd_unlink_suspended(req);
		req->state = REQ_DROPPED;
		MHD_resume_connection(req->conn);
	}
	MHD_stop_daemon(srv->daemon);
	wake_close(srv);
	free(srv);
}

uint16_t rfs_httpd_port(const struct rfs_httpd *srv)
{
	return srv->port;
}

int rfs_httpd_epoll_fd(const struct rfs_httpd *srv)
{
	return srv->poll_fd;
}

int rfs_httpd_run(struct rfs_httpd *srv)
{
	eventfd_t wakes;

	/* consume wake-ups first: a reply given during MHD_run wakes again */
	if (srv->wake_pending) {
		srv->wake_pending = false;
		if (eventfd_read(srv->wake_fd, &wakes) < 0 && errno != EAGAIN)
			return -EIO;
	}
	return MHD_run(srv->daemon) == MHD_YES ? 0 : -EIO;
}

int64_t rfs_httpd_timeout_ms(const struct rfs_httpd *srv)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(srv->daemon, &ms) != MHD_YES)
		return -1;
	return ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}
