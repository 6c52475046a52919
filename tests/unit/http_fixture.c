#include <config.h>
#include "tests/unit/http_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/proto.h"

#define TEST_STREAM_MAX	   (64u << 20)
#define TEST_WAIT_STEP_MS  5
#define TEST_WAIT_MAX_MS   10000
#define TEST_RAW_TIMEOUT_S 10

/* --- state shared by handlers and tests -------------------------------- */

static struct hf_state T = {.stop_pipe = {-1, -1}};

struct hf_state *hf_state(void)
{
	return &T;
}

uint16_t hf_port(void)
{
	return rfs_httpd_port(T.srv);
}

uint16_t hf_ext_port(void)
{
	return rfs_httpd_port(T.ext);
}

uint8_t hf_pattern_byte(uint64_t pos)
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
		if ((uint8_t)data[i] != hf_pattern_byte(st->n + i))
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

const struct rfs_httpd_route hf_threaded_routes[] = {
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

const size_t hf_n_threaded_routes =
    sizeof(hf_threaded_routes) / sizeof(hf_threaded_routes[0]);

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

void hf_addr_of(uint16_t port, char *out, size_t cap)
{
	snprintf(out, cap, "127.0.0.1:%u", port);
}

struct rfs_httpc *hf_client_new(int retries)
{
	struct rfs_httpc_opts o = {.connect_timeout_ms = 2000,
				   .timeout_ms = 10000,
				   .retries = retries};

	return rfs_httpc_new(&o);
}

/* rfs_httpc_call to 127.0.0.1:port with a NUL-terminated body or NULL. */
int hf_call(struct rfs_httpc *c, uint16_t port, const char *method,
	    const char *path, const char *body, bool idempotent,
	    struct rfs_httpc_reply *r)
{
	char addr[RFS_ADDR_MAX + 1];

	hf_addr_of(port, addr, sizeof(addr));
	return rfs_httpc_call(c, addr, method, path, body,
			      body ? strlen(body) : 0, idempotent, r);
}

int hf_connect(uint16_t port)
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

bool hf_send_all(int fd, const char *buf, size_t len)
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
size_t hf_recv_all(int fd, char *out, size_t cap)
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
size_t hf_raw_request(uint16_t port, const char *text, char *out, size_t cap)
{
	int fd = hf_connect(port);
	size_t len = 0;

	out[0] = '\0';
	if (fd < 0)
		return 0;
	if (hf_send_all(fd, text, strlen(text)))
		len = hf_recv_all(fd, out, cap);
	close(fd);
	return len;
}

/* Wait (bounded) until *v >= want: servers finish a request after replying. */
int hf_wait_for(atomic_int *v, int want)
{
	struct timespec ts = {.tv_nsec = TEST_WAIT_STEP_MS * 1000000L};
	int waited;

	for (waited = 0; atomic_load(v) < want && waited < TEST_WAIT_MAX_MS;
	     waited += TEST_WAIT_STEP_MS)
		nanosleep(&ts, NULL);
	return atomic_load(v);
}

bool hf_is_hex16(const char *s)
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
void hf_loop_stop(void)
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

int hf_suite_clean(void)
{
	hf_loop_stop();
	rfs_httpd_stop(T.ext);
	rfs_httpd_stop(T.srv);
	if (T.file_path[0])
		unlink(T.file_path);
	free(T.file_data);
	return 0;
}

int hf_suite_init(void)
{
	struct rfs_httpd_opts o = {
	    .name = "test-threaded",
	    .bind_addr = "127.0.0.1",
	    .routes = hf_threaded_routes,
	    .n_routes = hf_n_threaded_routes,
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
	hf_suite_clean(); /* CUnit does not clean up after a failed init */
	return -1;
}
