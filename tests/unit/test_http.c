#include <config.h>

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/httpc.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/proto.h"
#include "tests/unit/runner.h"

/*
 * Both HTTP wrappers against each other on 127.0.0.1: a threaded server
 * (the chunk server's mode) with a route of each kind, and an external-mode
 * server (the metaserver's) driven by a poll loop in a thread of the test.
 */

#define TEST_FILE_BYTES	   (1024 * 1024 + 123)
#define TEST_PUT_BYTES	   (3 * 1024 * 1024 + 17)
#define TEST_PARALLEL	   8
#define TEST_SMALL_MAX	   64
#define TEST_ECHO_MAX	   1024
#define TEST_STREAM_MAX	   (64u << 20)
#define TEST_WAIT_STEP_MS  5
#define TEST_WAIT_MAX_MS   10000
#define TEST_RAW_TIMEOUT_S 10
#define TEST_FILE_CRC	   "deadbeef,01234567"

/* --- state shared by handlers and tests -------------------------------- */

struct test_state {
	struct rfs_httpd *srv; /* threaded */
	struct rfs_httpd *ext; /* external mode */
	pthread_t loop;
	bool loop_running;
	int stop_pipe[2];
	char file_path[64];
	unsigned char *file_data;
	atomic_int flaky_calls;
	atomic_int freed;	       /* per-request data freed */
	atomic_int never_seen;	       /* /never handler ran */
	struct rfs_httpd_req *pending; /* loop thread only */
	atomic_int async_replied;
};

static struct test_state T = {.stop_pipe = {-1, -1}};

static uint8_t pattern_byte(uint64_t pos)
{
	return (uint8_t)(pos % 251);
}

static int reply_text(struct rfs_httpd_req *req, const char *text)
{
	char *buf = strdup(text);

	if (!buf)
		return -ENOMEM;
	return rfs_httpd_reply(req, 200, "text/plain", buf, strlen(text));
}

static void count_free(void *data)
{
	free(data);
	atomic_fetch_add(&T.freed, 1);
}

/* --- handlers: threaded server ---------------------------------------- */

static int h_echo(struct rfs_httpd_req *req, void *ctx)
{
	size_t len;
	const char *body = rfs_httpd_req_body(req, &len);
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, body ? body : "", len);
	return rfs_httpd_reply(req, 200, RFS_CONTENT_JSON, copy, len);
}

static int h_peer(struct rfs_httpd_req *req, void *ctx)
{
	return reply_text(req, rfs_httpd_req_peer(req));
}

static int h_id(struct rfs_httpd_req *req, void *ctx)
{
	return reply_text(req, rfs_httpd_req_id(req));
}

static int h_query(struct rfs_httpd_req *req, void *ctx)
{
	uint64_t a = 0;
	uint64_t h = 0;
	uint64_t unused = 7;
	char text[160];
	int ra = rfs_httpd_req_query_u64(req, "a", &a);
	int rb = rfs_httpd_req_query_u64(req, "b", &unused);
	int rc = rfs_httpd_req_query_u64(req, "c", &unused);
	int rh = rfs_httpd_req_query_hex(req, "h", &h);
	const char *s = rfs_httpd_req_query(req, "s");

	snprintf(text, sizeof(text),
		 "a=%d:%" PRIu64 " b=%d c=%d h=%d:%" PRIx64 " s=%s u=%" PRIu64,
		 ra, a, rb, rc, rh, h, s ? s : "(null)", unused);
	return reply_text(req, text);
}

static int h_tail(struct rfs_httpd_req *req, void *ctx)
{
	char text[256];

	snprintf(text, sizeof(text), "tail=%s", rfs_httpd_req_path_tail(req));
	return reply_text(req, text);
}

static int h_exact(struct rfs_httpd_req *req, void *ctx)
{
	return reply_text(req, "exact");
}

static int h_missing(struct rfs_httpd_req *req, void *ctx)
{
	return -ENOENT;
}

static int h_gone(struct rfs_httpd_req *req, void *ctx)
{
	return rfs_httpd_reply_error(req, -ENOENT, "chunk %s is not here",
				     "00ab");
}

/* Only an external-mode server can park a request. */
static int h_bad_async(struct rfs_httpd_req *req, void *ctx)
{
	return RFS_HTTPD_ASYNC;
}

static int h_flaky(struct rfs_httpd_req *req, void *ctx)
{
	if (atomic_fetch_add(&T.flaky_calls, 1) == 0)
		return -EAGAIN; /* 503: the client retries */
	return reply_text(req, "ok");
}

struct stream_state {
	uint64_t n;
	bool in_order;
	bool saw_headers;
};

static int b_stream(struct rfs_httpd_req *req, const char *data, size_t len,
		    void *ctx)
{
	struct stream_state *st = rfs_httpd_req_data(req);
	uint64_t version;
	size_t i;

	if (!data) {
		if (rfs_httpd_req_query_u64(req, RFS_Q_VERSION, &version) < 0)
			return -EPROTO;
		st = calloc(1, sizeof(*st));
		if (!st)
			return -ENOMEM;
		st->in_order = true;
		st->saw_headers = true;
		rfs_httpd_req_set_data(req, st, count_free);
		return 0;
	}
	for (i = 0; i < len; i++)
		if ((uint8_t)data[i] != pattern_byte(st->n + i))
			st->in_order = false;
	st->n += len;
	return 0;
}

static int h_stream(struct rfs_httpd_req *req, void *ctx)
{
	struct stream_state *st = rfs_httpd_req_data(req);
	const char *crc;
	char num[32];
	char text[64];

	if (!st->saw_headers || !st->in_order)
		return rfs_httpd_reply_error(req, -EBADMSG,
					     "bytes out of order");
	snprintf(num, sizeof(num), "%" PRIu64, st->n);
	snprintf(text, sizeof(text), "n=%" PRIu64, st->n);
	crc = rfs_httpd_req_header(req, RFS_HDR_CRC);
	if ((crc && rfs_httpd_add_header(req, RFS_HDR_CRC, crc) < 0) ||
	    rfs_httpd_add_header(req, RFS_HDR_CHUNK_LENGTH, num) < 0)
		return -ENOMEM;
	return reply_text(req, text);
}

static int h_file(struct rfs_httpd_req *req, void *ctx)
{
	uint64_t off = 0;
	uint64_t len = TEST_FILE_BYTES;
	char num[32];
	int fd;

	if (rfs_httpd_req_query_u64(req, RFS_Q_OFFSET, &off) == -EINVAL ||
	    rfs_httpd_req_query_u64(req, RFS_Q_LENGTH, &len) == -EINVAL ||
	    off > TEST_FILE_BYTES || len > TEST_FILE_BYTES - off)
		return rfs_httpd_reply_error(req, -EINVAL, "bad range");
	fd = open(T.file_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(num, sizeof(num), "%d", TEST_FILE_BYTES);
	if (rfs_httpd_add_header(req, RFS_HDR_CRC, TEST_FILE_CRC) < 0 ||
	    rfs_httpd_add_header(req, RFS_HDR_CHUNK_LENGTH, num) < 0) {
		close(fd);
		return -ENOMEM;
	}
	return rfs_httpd_reply_fd(req, 200, fd, off, len);
}

static const struct rfs_httpd_route threaded_routes[] = {
    {"POST", "/echo", h_echo, NULL, TEST_ECHO_MAX},
    {"POST", "/small", h_echo, NULL, TEST_SMALL_MAX},
    {"GET", "/peer", h_peer, NULL, 0},
    {"GET", "/id", h_id, NULL, 0},
    {"GET", "/query", h_query, NULL, 0},
    {"GET", "/files/", h_tail, NULL, 0},
    {"GET", "/files/exact", h_exact, NULL, 0},
    {"GET", "/missing", h_missing, NULL, 0},
    {"GET", "/gone", h_gone, NULL, 0},
    {"GET", "/bad-async", h_bad_async, NULL, 0},
    {"POST", "/flaky", h_flaky, NULL, TEST_ECHO_MAX},
    {"PUT", "/stream", h_stream, b_stream, TEST_STREAM_MAX},
    {"GET", "/file", h_file, NULL, 0},
};

/* --- handlers: external-mode server ----------------------------------- */

static int h_async(struct rfs_httpd_req *req, void *ctx)
{
	char *tag = strdup("async");

	if (!tag)
		return -ENOMEM;
	rfs_httpd_req_set_data(req, tag, count_free);
	T.pending = req; /* the loop replies after this run */
	return RFS_HTTPD_ASYNC;
}

static int h_never(struct rfs_httpd_req *req, void *ctx)
{
	char *tag = strdup("never");

	if (!tag)
		return -ENOMEM;
	rfs_httpd_req_set_data(req, tag, count_free);
	atomic_store(&T.never_seen, 1);
	return RFS_HTTPD_ASYNC;
}

static const struct rfs_httpd_route external_routes[] = {
    {"GET", "/async", h_async, NULL, 0},
    {"GET", "/never", h_never, NULL, 0},
    {"GET", "/id", h_id, NULL, 0},
};

/*
 * The external server's event loop, as the metaserver runs it: wait on the
 * epoll fd with the server's own timeout (no cap, so a reply that would
 * need another network event to leave hangs the client into its timeout),
 * run, then answer parked requests from the loop itself.
 */
static void *loop_main(void *arg)
{
	struct pollfd p[2] = {
	    {.fd = rfs_httpd_epoll_fd(T.ext), .events = POLLIN},
	    {.fd = T.stop_pipe[0], .events = POLLIN},
	};

	for (;;) {
		int64_t t = rfs_httpd_timeout_ms(T.ext);

		if (poll(p, 2, t > INT32_MAX ? INT32_MAX : (int)t) < 0 &&
		    errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (rfs_httpd_run(T.ext) < 0)
			break;
		if (T.pending) {
			struct rfs_httpd_req *req = T.pending;

			T.pending = NULL;
			if (reply_text(req, "async reply") == 0)
				atomic_store(&T.async_replied, 1);
		}
	}
	return NULL;
}

/* --- client helpers ----------------------------------------------------- */

static void addr_of(uint16_t port, char *out, size_t cap)
{
	snprintf(out, cap, "127.0.0.1:%u", port);
}

static struct rfs_httpc *client_new(int retries)
{
	struct rfs_httpc_opts o = {.connect_timeout_ms = 2000,
				   .timeout_ms = 10000,
				   .retries = retries};

	return rfs_httpc_new(&o);
}

/* rfs_httpc_call to 127.0.0.1:port with a NUL-terminated body or NULL. */
static int call(struct rfs_httpc *c, uint16_t port, const char *method,
		const char *path, const char *body, bool idempotent,
		struct rfs_httpc_reply *r)
{
	char addr[RFS_ADDR_MAX + 1];

	addr_of(port, addr, sizeof(addr));
	return rfs_httpc_call(c, addr, method, path, body,
			      body ? strlen(body) : 0, idempotent, r);
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = TEST_RAW_TIMEOUT_S};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Read until the peer closes or out is full; NUL-terminated. */
static size_t recv_all(int fd, char *out, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		ssize_t n = recv(fd, out + len, cap - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	return len;
}

/* A hand-written request (to send what httpc never would). */
static size_t raw_request(uint16_t port, const char *text, char *out,
			  size_t cap)
{
	int fd = connect_to(port);
	size_t len = 0;

	out[0] = '\0';
	if (fd < 0)
		return 0;
	if (send_all(fd, text, strlen(text)))
		len = recv_all(fd, out, cap);
	close(fd);
	return len;
}

/* Wait (bounded) until *v >= want: servers finish a request after replying. */
static int wait_for(atomic_int *v, int want)
{
	struct timespec ts = {.tv_nsec = TEST_WAIT_STEP_MS * 1000000L};
	int waited;

	for (waited = 0; atomic_load(v) < want && waited < TEST_WAIT_MAX_MS;
	     waited += TEST_WAIT_STEP_MS)
		nanosleep(&ts, NULL);
	return atomic_load(v);
}

static bool is_hex16(const char *s)
{
	return strlen(s) == 16 && strspn(s, "0123456789abcdef") == 16;
}

/* --- suite setup --------------------------------------------------------- */

static int write_test_file(void)
{
	int fd;
	size_t i;

	snprintf(T.file_path, sizeof(T.file_path), "/tmp/test_http.XXXXXX");
	fd = mkstemp(T.file_path);
	if (fd < 0) {
		T.file_path[0] = '\0';
		return -1;
	}
	T.file_data = malloc(TEST_FILE_BYTES);
	if (!T.file_data) {
		close(fd);
		return -1;
	}
	for (i = 0; i < TEST_FILE_BYTES; i++)
		T.file_data[i] = (unsigned char)((i * 7919u) >> 3);
	if (write(fd, T.file_data, TEST_FILE_BYTES) != TEST_FILE_BYTES) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Stop the loop thread (once). */
static void loop_stop(void)
{
	if (T.loop_running && write(T.stop_pipe[1], "x", 1) == 1)
		pthread_join(T.loop, NULL);
	T.loop_running = false;
	if (T.stop_pipe[0] >= 0)
		close(T.stop_pipe[0]);
	if (T.stop_pipe[1] >= 0)
		close(T.stop_pipe[1]);
	T.stop_pipe[0] = T.stop_pipe[1] = -1;
}

static int suite_clean(void)
{
	loop_stop();
	rfs_httpd_stop(T.ext);
	rfs_httpd_stop(T.srv);
	if (T.file_path[0])
		unlink(T.file_path);
	free(T.file_data);
	return 0;
}

static int suite_init(void)
{
	struct rfs_httpd_opts o = {
	    .name = "test-threaded",
	    .bind_addr = "127.0.0.1",
	    .routes = threaded_routes,
	    .n_routes = sizeof(threaded_routes) / sizeof(threaded_routes[0]),
	};
	struct rfs_httpd_opts e = {
	    .name = "test-external",
	    .bind_addr = "127.0.0.1",
	    .external = true,
	    .routes = external_routes,
	    .n_routes = sizeof(external_routes) / sizeof(external_routes[0]),
	};

	if (write_test_file() < 0 || rfs_httpd_start(&o, &T.srv) < 0 ||
	    rfs_httpd_start(&e, &T.ext) < 0 || pipe(T.stop_pipe) < 0)
		goto out_clean;
	if (pthread_create(&T.loop, NULL, loop_main, NULL) != 0)
		goto out_clean;
	T.loop_running = true;
	return 0;

out_clean:
	suite_clean(); /* CUnit does not clean up after a failed init */
	return -1;
}

/* --- tests: threaded server through rfs_httpc_call ------------------------ */

static void test_http_echo_round_trip(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	const char *body = "{\"hello\":\"world\"}";

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(
	    call(c, rfs_httpd_port(T.srv), "POST", "/echo", body, false, &r),
	    0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.len, strlen(body));
	CU_ASSERT(r.body && strcmp(r.body, body) == 0);
	CU_ASSERT(is_hex16(r.request_id));
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(
	    call(c, rfs_httpd_port(T.srv), "POST", "/echo", NULL, false, &r),
	    0);
	CU_ASSERT_EQUAL(r.len, 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_path_tail(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = rfs_httpd_port(T.srv);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/files/00ab/cd", NULL, true, &r),
			0);
	CU_ASSERT(r.body && strcmp(r.body, "tail=00ab/cd") == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/files/exact", NULL, true, &r),
			0);
	CU_ASSERT(r.body && strcmp(r.body, "exact") == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/files/", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, "tail=") == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_query(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = rfs_httpd_port(T.srv);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/query?a=123&b=12x&h=00fF&s=v",
			     NULL, true, &r),
			0);
	CU_ASSERT(r.body &&
		  strcmp(r.body, "a=0:123 b=-22 c=-2 h=0:ff s=v u=7") == 0);
	rfs_httpc_reply_release(&r);
	/* overflow, sign and empty values are malformed */
	CU_ASSERT_EQUAL(call(c, port, "GET",
			     "/query?a=18446744073709551616&b=-1&c=&h=x", NULL,
			     true, &r),
			0);
	CU_ASSERT(r.body && strcmp(r.body, "a=-22:0 b=-22 c=-22 h=-22:0 "
					   "s=(null) u=7") == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/query?a=18446744073709551615",
			     NULL, true, &r),
			0);
	CU_ASSERT(r.body &&
		  strncmp(r.body, "a=0:18446744073709551615 ", 25) == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_unknown_path_404(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(
	    call(c, rfs_httpd_port(T.srv), "GET", "/nope/x", NULL, true, &r),
	    -ENOENT);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT(strstr(r.message, "/nope/x") != NULL);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_wrong_method_405(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	char out[2048];

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(
	    call(c, rfs_httpd_port(T.srv), "GET", "/echo", NULL, true, &r),
	    -EOPNOTSUPP);
	CU_ASSERT_EQUAL(r.status, 405);
	CU_ASSERT(strstr(r.message, "GET") != NULL);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
	raw_request(rfs_httpd_port(T.srv),
		    "DELETE /echo HTTP/1.1\r\nHost: t\r\n"
		    "Connection: close\r\n\r\n",
		    out, sizeof(out));
	CU_ASSERT(strncmp(out, "HTTP/1.1 405", 12) == 0);
	CU_ASSERT(strstr(out, "\r\nAllow: POST\r\n") != NULL);
	CU_ASSERT(strstr(out, "\"EOPNOTSUPP\"") != NULL);
}

static void test_http_oversized_body_413(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = rfs_httpd_port(T.srv);
	char big[TEST_SMALL_MAX * 4];
	char out[2048];

	CU_ASSERT_FATAL(c != NULL);
	/* refused on the declared length, before any body byte is sent */
	raw_request(port,
		    "POST /small HTTP/1.1\r\nHost: t\r\n"
		    "Content-Length: 1000000000\r\n\r\n",
		    out, sizeof(out));
	CU_ASSERT(strncmp(out, "HTTP/1.1 413", 12) == 0);
	CU_ASSERT(strstr(out, "\"E2BIG\"") != NULL);
	/* a chunked body has no declared length: refused once past max */
	raw_request(port,
		    "POST /small HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"
		    "28\r\n0123456789012345678901234567890123456789\r\n"
		    "28\r\n0123456789012345678901234567890123456789\r\n"
		    "0\r\n\r\n",
		    out, sizeof(out));
	CU_ASSERT(strncmp(out, "HTTP/1.1 413", 12) == 0);
	CU_ASSERT(strstr(out, "\"E2BIG\"") != NULL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(call(c, port, "POST", "/small", big, false, &r),
			-E2BIG);
	CU_ASSERT_EQUAL(r.status, 413);
	rfs_httpc_reply_release(&r);
	/* and the server keeps serving */
	CU_ASSERT_EQUAL(call(c, port, "POST", "/small", "{}", false, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, "{}") == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_handler_error(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = rfs_httpd_port(T.srv);

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/missing", NULL, true, &r),
			-ENOENT);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT(strstr(r.message, "/missing") != NULL);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/gone", NULL, true, &r), -ENOENT);
	CU_ASSERT_STRING_EQUAL(r.message, "chunk 00ab is not here");
	CU_ASSERT(is_hex16(r.request_id));
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/bad-async", NULL, true, &r),
			-EIO);
	CU_ASSERT_EQUAL(r.status, 500);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_request_id(void)
{
	uint16_t port = rfs_httpd_port(T.srv);
	char out[2048];
	const char *id;

	raw_request(port,
		    "GET /id HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		    "X-Request-Id: my-id_42\r\n\r\n",
		    out, sizeof(out));
	CU_ASSERT(strstr(out, "\r\nX-Request-Id: my-id_42\r\n") != NULL);
	CU_ASSERT(strstr(out, "\r\n\r\nmy-id_42") != NULL);
	/* an invalid id is replaced by a fresh one */
	raw_request(port,
		    "GET /id HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		    "X-Request-Id: bad id!\r\n\r\n",
		    out, sizeof(out));
	id = strstr(out, "\r\n\r\n");
	CU_ASSERT_FATAL(id != NULL);
	CU_ASSERT(is_hex16(id + 4));
	CU_ASSERT(strstr(out, "X-Request-Id: ") != NULL &&
		  strncmp(strstr(out, "X-Request-Id: ") + 14, id + 4, 16) == 0);
}

static void test_http_keepalive_reuse(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc *c2 = client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = rfs_httpd_port(T.srv);
	static char body[256 * 1024];
	char first[64] = "";

	CU_ASSERT_FATAL(c != NULL && c2 != NULL);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/peer", NULL, true, &r), 0);
	if (r.body)
		snprintf(first, sizeof(first), "%s", r.body);
	CU_ASSERT(strncmp(first, "127.0.0.1:", 10) == 0);
	rfs_httpc_reply_release(&r);
	/* same client port: the same TCP connection */
	CU_ASSERT_EQUAL(call(c, port, "GET", "/peer", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, first) == 0);
	rfs_httpc_reply_release(&r);
	/* refusals with a body (read and dropped) keep the connection too */
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	CU_ASSERT_EQUAL(call(c, port, "POST", "/nope", body, false, &r),
			-ENOENT);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "POST", "/peer", body, false, &r),
			-EOPNOTSUPP);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/peer", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, first) == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c2, port, "GET", "/peer", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, first) != 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c2);
	rfs_httpc_free(c);
}

static void test_http_retry_503(void)
{
	struct rfs_httpc *c = client_new(2);
	struct rfs_httpc_reply r;

	CU_ASSERT_FATAL(c != NULL);
	atomic_store(&T.flaky_calls, 0);
	/* not idempotent, yet retried: a 503 means nothing was done */
	CU_ASSERT_EQUAL(
	    call(c, rfs_httpd_port(T.srv), "POST", "/flaky", "{}", false, &r),
	    0);
	CU_ASSERT_EQUAL(atomic_load(&T.flaky_calls), 2);
	CU_ASSERT(r.body && strcmp(r.body, "ok") == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_connection_refused(void)
{
	struct rfs_httpc *c = client_new(1);
	struct rfs_httpc_reply r;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	CU_ASSERT_FATAL(c != NULL && fd >= 0);
	/* a port that was free a moment ago and has nobody listening */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	port = ntohs(sa.sin_port);
	close(fd);
	CU_ASSERT_EQUAL(call(c, port, "GET", "/x", NULL, true, &r),
			-ECONNREFUSED);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(r.message[0] != '\0');
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(call(c, port, "POST", "/x", "{}", false, &r),
			-ECONNREFUSED);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_sync_put_stream(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	char *buf = malloc(TEST_PUT_BYTES);
	char addr[RFS_ADDR_MAX + 1];
	char want[32];
	size_t i;

	CU_ASSERT_FATAL(c != NULL && buf != NULL);
	for (i = 0; i < TEST_PUT_BYTES; i++)
		buf[i] = (char)pattern_byte(i);
	addr_of(rfs_httpd_port(T.srv), addr, sizeof(addr));
	snprintf(want, sizeof(want), "n=%d", TEST_PUT_BYTES);
	CU_ASSERT_EQUAL(rfs_httpc_call(c, addr, "PUT", "/stream?version=3", buf,
				       TEST_PUT_BYTES, true, &r),
			0);
	CU_ASSERT(r.body && strcmp(r.body, want) == 0);
	rfs_httpc_reply_release(&r);
	/* refused from the headers: the 3 MiB body is never read */
	CU_ASSERT_EQUAL(rfs_httpc_call(c, addr, "PUT", "/stream", buf,
				       TEST_PUT_BYTES, true, &r),
			-EPROTO);
	CU_ASSERT_EQUAL(r.status, 400);
	rfs_httpc_reply_release(&r);
	free(buf);
	rfs_httpc_free(c);
}

/* --- tests: multi ------------------------------------------------------------ */

struct multi_log {
	unsigned int done;
	unsigned int chained;
	struct rfs_xfer *chain; /* added from the first done callback */
	struct rfs_httpc_multi *m;
};

static void on_done(struct rfs_xfer *x, void *arg)
{
	struct multi_log *log = arg;

	log->done++;
	if (log->chain && log->chained++ == 0)
		rfs_httpc_multi_add(log->m, log->chain);
}

static void xfer_init(struct rfs_xfer *x, const char *method, const char *path)
{
	memset(x, 0, sizeof(*x));
	addr_of(rfs_httpd_port(T.srv), x->addr, sizeof(x->addr));
	x->method = method;
	snprintf(x->path, sizeof(x->path), "%s", path);
}

static void test_http_multi_parallel_get(void)
{
	struct rfs_httpc_multi *m = rfs_httpc_multi_new(TEST_PARALLEL, NULL);
	struct rfs_xfer x[TEST_PARALLEL + 1];
	struct multi_log log = {.m = m};
	size_t part = TEST_FILE_BYTES / TEST_PARALLEL;
	char path[128];
	unsigned int i;

	CU_ASSERT_FATAL(m != NULL);
	for (i = 0; i < TEST_PARALLEL; i++) {
		size_t off = i * part;
		size_t len =
		    i + 1 == TEST_PARALLEL ? TEST_FILE_BYTES - off : part;

		snprintf(path, sizeof(path), "/file?offset=%zu&length=%zu", off,
			 len);
		xfer_init(&x[i], "GET", path);
		x[i].recv_buf = malloc(len);
		x[i].recv_cap = len;
		x[i].user = (void *)(uintptr_t)off;
		CU_ASSERT_FATAL(x[i].recv_buf != NULL);
		CU_ASSERT_EQUAL(rfs_httpc_multi_add(m, &x[i]), 0);
	}
	/* one more, queued from a done callback: the whole file */
	xfer_init(&x[TEST_PARALLEL], "GET", "/file");
	x[TEST_PARALLEL].recv_buf = malloc(TEST_FILE_BYTES);
	x[TEST_PARALLEL].recv_cap = TEST_FILE_BYTES;
	log.chain = &x[TEST_PARALLEL];
	CU_ASSERT_EQUAL(rfs_httpc_multi_run(m, on_done, &log), 0);
	CU_ASSERT_EQUAL(log.done, TEST_PARALLEL + 1);
	for (i = 0; i <= TEST_PARALLEL; i++) {
		size_t off = (size_t)(uintptr_t)x[i].user;

		CU_ASSERT_EQUAL(x[i].result, 0);
		CU_ASSERT_EQUAL(x[i].status, 200);
		CU_ASSERT_EQUAL(x[i].recv_len, x[i].recv_cap);
		CU_ASSERT(memcmp(x[i].recv_buf, T.file_data + off,
				 x[i].recv_len) == 0);
		CU_ASSERT(x[i].recv_crc &&
			  strcmp(x[i].recv_crc, TEST_FILE_CRC) == 0);
		CU_ASSERT_EQUAL(x[i].recv_chunk_length, TEST_FILE_BYTES);
		rfs_xfer_release(&x[i]);
		CU_ASSERT(x[i].recv_crc == NULL);
		free(x[i].recv_buf);
	}
	rfs_httpc_multi_free(m);
}

static void test_http_multi_parallel_put(void)
{
	struct rfs_httpc_multi *m = rfs_httpc_multi_new(TEST_PARALLEL, NULL);
	struct rfs_xfer x[TEST_PARALLEL];
	struct multi_log log = {.m = m};
	char *buf = malloc(TEST_PUT_BYTES);
	char crc[TEST_PARALLEL][32];
	char reply[TEST_PARALLEL][32];
	char want[32];
	unsigned int i;
	size_t j;

	CU_ASSERT_FATAL(m != NULL && buf != NULL);
	for (j = 0; j < TEST_PUT_BYTES; j++)
		buf[j] = (char)pattern_byte(j);
	snprintf(want, sizeof(want), "n=%d", TEST_PUT_BYTES);
	for (i = 0; i < TEST_PARALLEL; i++) {
		xfer_init(&x[i], "PUT", "/stream?version=1");
		snprintf(crc[i], sizeof(crc[i]), "%08x,0000abcd", i);
		x[i].send_crc = crc[i];
		x[i].no_sync = true;
		x[i].send_buf = buf;
		x[i].send_len = TEST_PUT_BYTES;
		x[i].recv_buf = reply[i];
		x[i].recv_cap = sizeof(reply[i]) - 1;
		CU_ASSERT_EQUAL(rfs_httpc_multi_add(m, &x[i]), 0);
	}
	CU_ASSERT_EQUAL(rfs_httpc_multi_run(m, on_done, &log), 0);
	CU_ASSERT_EQUAL(log.done, TEST_PARALLEL);
	for (i = 0; i < TEST_PARALLEL; i++) {
		CU_ASSERT_EQUAL(x[i].result, 0);
		CU_ASSERT_EQUAL(x[i].status, 200);
		reply[i][x[i].recv_len] = '\0';
		CU_ASSERT_STRING_EQUAL(reply[i], want);
		CU_ASSERT(x[i].recv_crc && strcmp(x[i].recv_crc, crc[i]) == 0);
		CU_ASSERT_EQUAL(x[i].recv_chunk_length, TEST_PUT_BYTES);
		rfs_xfer_release(&x[i]);
	}
	free(buf);
	rfs_httpc_multi_free(m);
}

static void test_http_multi_errors(void)
{
	struct rfs_httpc_multi *m = rfs_httpc_multi_new(2, NULL);
	struct rfs_xfer x[3];
	struct multi_log log = {.m = m};
	char small[1000];
	unsigned int i;

	CU_ASSERT_FATAL(m != NULL);
	xfer_init(&x[0], "GET", "/file");
	x[0].recv_buf = small;
	x[0].recv_cap = sizeof(small);
	xfer_init(&x[1], "GET", "/gone");
	x[1].recv_buf = small;
	x[1].recv_cap = sizeof(small);
	xfer_init(&x[2], "PUT", "/stream");
	x[2].send_buf = "abc";
	x[2].send_len = 3; /* no version: refused by the body callback */
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(rfs_httpc_multi_add(m, &x[i]), 0);
	CU_ASSERT_EQUAL(rfs_httpc_multi_run(m, on_done, &log), 0);
	CU_ASSERT_EQUAL(log.done, 3);
	CU_ASSERT_EQUAL(x[0].result, -EOVERFLOW);
	CU_ASSERT_EQUAL(x[1].result, -ENOENT);
	CU_ASSERT_EQUAL(x[1].status, 404);
	CU_ASSERT_STRING_EQUAL(x[1].message, "chunk 00ab is not here");
	CU_ASSERT_EQUAL(x[2].result, -EPROTO);
	CU_ASSERT_EQUAL(x[2].status, 400);
	for (i = 0; i < 3; i++)
		rfs_xfer_release(&x[i]);
	/* the multi is still usable after failures */
	xfer_init(&x[0], "GET", "/file?offset=0&length=100");
	x[0].recv_buf = small;
	x[0].recv_cap = sizeof(small);
	CU_ASSERT_EQUAL(rfs_httpc_multi_add(m, &x[0]), 0);
	CU_ASSERT_EQUAL(rfs_httpc_multi_run(m, on_done, &log), 0);
	CU_ASSERT_EQUAL(x[0].result, 0);
	CU_ASSERT_EQUAL(x[0].recv_len, 100);
	CU_ASSERT(memcmp(small, T.file_data, 100) == 0);
	rfs_xfer_release(&x[0]);
	rfs_httpc_multi_free(m);
}

/* --- tests: external mode ---------------------------------------------------- */

static void test_http_async_reply(void)
{
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = rfs_httpd_port(T.ext);
	int freed = atomic_load(&T.freed);
	int i;

	CU_ASSERT_FATAL(c != NULL);
	for (i = 0; i < 3; i++) {
		atomic_store(&T.async_replied, 0);
		CU_ASSERT_EQUAL(call(c, port, "GET", "/async", NULL, true, &r),
				0);
		CU_ASSERT_EQUAL(atomic_load(&T.async_replied), 1);
		CU_ASSERT(r.body && strcmp(r.body, "async reply") == 0);
		rfs_httpc_reply_release(&r);
	}
	/* a plain route on the same loop, and the data of each freed */
	CU_ASSERT_EQUAL(call(c, port, "GET", "/id", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, r.request_id) == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(wait_for(&T.freed, freed + 3), freed + 3);
	rfs_httpc_free(c);
}

static void test_http_stop_drops_suspended(void)
{
	int fd = connect_to(rfs_httpd_port(T.ext));
	int freed = atomic_load(&T.freed);
	const char *req = "GET /never HTTP/1.1\r\nHost: t\r\n\r\n";
	char out[256];

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(send_all(fd, req, strlen(req)));
	CU_ASSERT_EQUAL(wait_for(&T.never_seen, 1), 1);
	loop_stop();
	rfs_httpd_stop(T.ext);
	T.ext = NULL;
	CU_ASSERT_EQUAL(atomic_load(&T.freed) - freed, 1);
	/* the parked connection is closed without a reply */
	CU_ASSERT_EQUAL(recv_all(fd, out, sizeof(out)), 0);
	close(fd);
}

static void test_http_ipv6(void)
{
	struct rfs_httpd_opts o = {
	    .bind_addr = "::1",
	    .routes = threaded_routes,
	    .n_routes = sizeof(threaded_routes) / sizeof(threaded_routes[0]),
	};
	struct rfs_httpc *c = client_new(0);
	struct rfs_httpc_reply r;
	struct rfs_httpd *srv = NULL;
	char addr[RFS_ADDR_MAX + 1];
	int rc = rfs_httpd_start(&o, &srv);

	CU_ASSERT_FATAL(c != NULL);
	if (rc == -EINVAL || rc == -EAFNOSUPPORT) {
		rfs_httpc_free(c);
		return; /* no IPv6 loopback on this machine */
	}
	CU_ASSERT_FATAL(rc == 0);
	snprintf(addr, sizeof(addr), "[::1]:%u", rfs_httpd_port(srv));
	CU_ASSERT_EQUAL(
	    rfs_httpc_call(c, addr, "GET", "/peer", NULL, 0, true, &r), 0);
	CU_ASSERT(r.body && strncmp(r.body, "[::1]:", 6) == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
	rfs_httpd_stop(srv);
}

static void test_http_start_errors(void)
{
	struct rfs_httpd_opts o = {
	    .bind_addr = "127.0.0.1",
	    .port = rfs_httpd_port(T.srv),
	    .routes = threaded_routes,
	    .n_routes = 1,
	};
	struct rfs_httpd *srv = NULL;

	CU_ASSERT_EQUAL(rfs_httpd_start(&o, &srv), -EADDRINUSE);
	o.bind_addr = "not-an-address";
	CU_ASSERT_EQUAL(rfs_httpd_start(&o, &srv), -EINVAL);
	CU_ASSERT(srv == NULL);
	rfs_httpd_stop(NULL);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_http_echo_round_trip),
	    RFS_TEST(test_http_path_tail),
	    RFS_TEST(test_http_query),
	    RFS_TEST(test_http_unknown_path_404),
	    RFS_TEST(test_http_wrong_method_405),
	    RFS_TEST(test_http_oversized_body_413),
	    RFS_TEST(test_http_handler_error),
	    RFS_TEST(test_http_request_id),
	    RFS_TEST(test_http_keepalive_reuse),
	    RFS_TEST(test_http_retry_503),
	    RFS_TEST(test_http_connection_refused),
	    RFS_TEST(test_http_sync_put_stream),
	    RFS_TEST(test_http_multi_parallel_get),
	    RFS_TEST(test_http_multi_parallel_put),
	    RFS_TEST(test_http_multi_errors),
	    RFS_TEST(test_http_async_reply),
	    RFS_TEST(test_http_stop_drops_suspended),
	    RFS_TEST(test_http_ipv6),
	    RFS_TEST(test_http_start_errors),
	};
	static const struct rfs_test_suite suite = {
	    .name = "http",
	    RFS_TESTS(tests),
	    .init = suite_init,
	    .cleanup = suite_clean,
	};

	/* ignoring SIGPIPE is each program's job (see common/httpd.h) */
	signal(SIGPIPE, SIG_IGN);
	rfs_log_setup("test_http", RFS_LOG_ERROR);
	return rfs_test_run(&suite, 1);
}
