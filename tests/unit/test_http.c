#include <config.h>

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/httpc.h"
#include "common/httpd.h"
#include "common/log.h"
#include "tests/unit/http_fixture.h"
#include "tests/unit/runner.h"

/*
 * Both HTTP wrappers against each other on 127.0.0.1 (the servers are in
 * http_fixture.c): single calls through rfs_httpc_call, hand-written
 * requests, the external-mode server's parked replies, and start errors.
 * The libcurl multi transfers are in test_http_multi.c.
 */

/* --- tests: threaded server through rfs_httpc_call ------------------------ */

static void test_http_echo_round_trip(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	const char *body = "{\"hello\":\"world\"}";

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(hf_call(c, hf_port(), "POST", "/echo", body, false, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.len, strlen(body));
	CU_ASSERT(r.body && strcmp(r.body, body) == 0);
	CU_ASSERT(hf_is_hex16(r.request_id));
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, hf_port(), "POST", "/echo", NULL, false, &r),
			0);
	CU_ASSERT_EQUAL(r.len, 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_path_tail(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = hf_port();

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(
	    hf_call(c, port, "GET", "/files/00ab/cd", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, "tail=00ab/cd") == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/files/exact", NULL, true, &r),
			0);
	CU_ASSERT(r.body && strcmp(r.body, "exact") == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/files/", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, "tail=") == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_query(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = hf_port();

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/query?a=123&b=12x&h=00fF&s=v",
				NULL, true, &r),
			0);
	CU_ASSERT(r.body &&
		  strcmp(r.body, "a=0:123 b=-22 c=-2 h=0:ff s=v u=7") == 0);
	rfs_httpc_reply_release(&r);
	/* overflow, sign and empty values are malformed */
	CU_ASSERT_EQUAL(hf_call(c, port, "GET",
				"/query?a=18446744073709551616&b=-1&c=&h=x",
				NULL, true, &r),
			0);
	CU_ASSERT(r.body && strcmp(r.body, "a=-22:0 b=-22 c=-22 h=-22:0 "
					   "s=(null) u=7") == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/query?a=18446744073709551615",
				NULL, true, &r),
			0);
	CU_ASSERT(r.body &&
		  strncmp(r.body, "a=0:18446744073709551615 ", 25) == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_unknown_path_404(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(hf_call(c, hf_port(), "GET", "/nope/x", NULL, true, &r),
			-ENOENT);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT(strstr(r.message, "/nope/x") != NULL);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_wrong_method_405(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	char out[2048];

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(hf_call(c, hf_port(), "GET", "/echo", NULL, true, &r),
			-EOPNOTSUPP);
	CU_ASSERT_EQUAL(r.status, 405);
	CU_ASSERT(strstr(r.message, "GET") != NULL);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
	hf_raw_request(hf_port(),
		       "DELETE /echo HTTP/1.1\r\nHost: t\r\n"
		       "Connection: close\r\n\r\n",
		       out, sizeof(out));
	CU_ASSERT(strncmp(out, "HTTP/1.1 405", 12) == 0);
	CU_ASSERT(strstr(out, "\r\nAllow: POST\r\n") != NULL);
	CU_ASSERT(strstr(out, "\"EOPNOTSUPP\"") != NULL);
}

static void test_http_oversized_body_413(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = hf_port();
	char big[TEST_SMALL_MAX * 4];
	char out[2048];

	CU_ASSERT_FATAL(c != NULL);
	/* refused on the declared length, before any body byte is sent */
	hf_raw_request(port,
		       "POST /small HTTP/1.1\r\nHost: t\r\n"
		       "Content-Length: 1000000000\r\n\r\n",
		       out, sizeof(out));
	CU_ASSERT(strncmp(out, "HTTP/1.1 413", 12) == 0);
	CU_ASSERT(strstr(out, "\"E2BIG\"") != NULL);
	/* a chunked body has no declared length: refused once past max */
	hf_raw_request(
	    port,
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
	CU_ASSERT_EQUAL(hf_call(c, port, "POST", "/small", big, false, &r),
			-E2BIG);
	CU_ASSERT_EQUAL(r.status, 413);
	rfs_httpc_reply_release(&r);
	/* and the server keeps serving */
	CU_ASSERT_EQUAL(hf_call(c, port, "POST", "/small", "{}", false, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, "{}") == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_handler_error(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = hf_port();

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/missing", NULL, true, &r),
			-ENOENT);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT(strstr(r.message, "/missing") != NULL);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/gone", NULL, true, &r),
			-ENOENT);
	CU_ASSERT_STRING_EQUAL(r.message, "chunk 00ab is not here");
	CU_ASSERT(hf_is_hex16(r.request_id));
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/bad-async", NULL, true, &r),
			-EIO);
	CU_ASSERT_EQUAL(r.status, 500);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_request_id(void)
{
	uint16_t port = hf_port();
	char out[2048];
	const char *id;

	hf_raw_request(port,
		       "GET /id HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		       "X-Request-Id: my-id_42\r\n\r\n",
		       out, sizeof(out));
	CU_ASSERT(strstr(out, "\r\nX-Request-Id: my-id_42\r\n") != NULL);
	CU_ASSERT(strstr(out, "\r\n\r\nmy-id_42") != NULL);
	/* an invalid id is replaced by a fresh one */
	hf_raw_request(port,
		       "GET /id HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		       "X-Request-Id: bad id!\r\n\r\n",
		       out, sizeof(out));
	id = strstr(out, "\r\n\r\n");
	CU_ASSERT_FATAL(id != NULL);
	CU_ASSERT(hf_is_hex16(id + 4));
	CU_ASSERT(strstr(out, "X-Request-Id: ") != NULL &&
		  strncmp(strstr(out, "X-Request-Id: ") + 14, id + 4, 16) == 0);
}

/* The ids a client sends: 16 hex digits, a new one per call, and two
 * client objects do not repeat each other's. */
static void test_http_client_ids(void)
{
	struct rfs_httpc *c[2] = {hf_client_new(0), hf_client_new(0)};
	char ids[6][RFS_REQUEST_ID_MAX + 1];
	struct rfs_httpc_reply r;
	uint16_t port = hf_port();
	size_t i;
	size_t j;

	CU_ASSERT_FATAL(c[0] != NULL && c[1] != NULL);
	for (i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    hf_call(c[i % 2], port, "GET", "/id", NULL, true, &r), 0);
		/* /id echoes the id the server used: ours when valid */
		CU_ASSERT(r.body && strcmp(r.body, r.request_id) == 0);
		CU_ASSERT(hf_is_hex16(r.request_id));
		snprintf(ids[i], sizeof(ids[i]), "%s", r.request_id);
		rfs_httpc_reply_release(&r);
	}
	for (i = 0; i < 6; i++)
		for (j = i + 1; j < 6; j++)
			CU_ASSERT(strcmp(ids[i], ids[j]) != 0);
	rfs_httpc_free(c[0]);
	rfs_httpc_free(c[1]);
}

static void test_http_keepalive_reuse(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc *c2 = hf_client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = hf_port();
	static char body[256 * 1024];
	char first[64] = "";

	CU_ASSERT_FATAL(c != NULL && c2 != NULL);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/peer", NULL, true, &r), 0);
	if (r.body)
		snprintf(first, sizeof(first), "%s", r.body);
	CU_ASSERT(strncmp(first, "127.0.0.1:", 10) == 0);
	rfs_httpc_reply_release(&r);
	/* same client port: the same TCP connection */
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/peer", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, first) == 0);
	rfs_httpc_reply_release(&r);
	/* refusals with a body (read and dropped) keep the connection too */
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	CU_ASSERT_EQUAL(hf_call(c, port, "POST", "/nope", body, false, &r),
			-ENOENT);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "POST", "/peer", body, false, &r),
			-EOPNOTSUPP);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/peer", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, first) == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c2, port, "GET", "/peer", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, first) != 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c2);
	rfs_httpc_free(c);
}

static void test_http_retry_503(void)
{
	struct rfs_httpc *c = hf_client_new(2);
	struct rfs_httpc_reply r;

	CU_ASSERT_FATAL(c != NULL);
	atomic_store(&hf_state()->flaky_calls, 0);
	/* not idempotent, yet retried: a 503 means nothing was done */
	CU_ASSERT_EQUAL(
	    hf_call(c, hf_port(), "POST", "/flaky", "{}", false, &r), 0);
	CU_ASSERT_EQUAL(atomic_load(&hf_state()->flaky_calls), 2);
	CU_ASSERT(r.body && strcmp(r.body, "ok") == 0);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_connection_refused(void)
{
	struct rfs_httpc *c = hf_client_new(1);
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
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/x", NULL, true, &r),
			-ECONNREFUSED);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(r.message[0] != '\0');
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_call(c, port, "POST", "/x", "{}", false, &r),
			-ECONNREFUSED);
	rfs_httpc_reply_release(&r);
	rfs_httpc_free(c);
}

static void test_http_sync_put_stream(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	char *buf = malloc(TEST_PUT_BYTES);
	char addr[RFS_ADDR_MAX + 1];
	char want[32];
	size_t i;

	CU_ASSERT_FATAL(c != NULL && buf != NULL);
	for (i = 0; i < TEST_PUT_BYTES; i++)
		buf[i] = (char)hf_pattern_byte(i);
	hf_addr_of(hf_port(), addr, sizeof(addr));
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

/* --- tests: external mode ------------------------------------------------ */

static void test_http_async_reply(void)
{
	struct rfs_httpc *c = hf_client_new(0);
	struct rfs_httpc_reply r;
	uint16_t port = hf_ext_port();
	int freed = atomic_load(&hf_state()->freed);
	int i;

	CU_ASSERT_FATAL(c != NULL);
	for (i = 0; i < 3; i++) {
		atomic_store(&hf_state()->async_replied, 0);
		CU_ASSERT_EQUAL(
		    hf_call(c, port, "GET", "/async", NULL, true, &r), 0);
		CU_ASSERT_EQUAL(atomic_load(&hf_state()->async_replied), 1);
		CU_ASSERT(r.body && strcmp(r.body, "async reply") == 0);
		rfs_httpc_reply_release(&r);
	}
	/* a plain route on the same loop, and the data of each freed */
	CU_ASSERT_EQUAL(hf_call(c, port, "GET", "/id", NULL, true, &r), 0);
	CU_ASSERT(r.body && strcmp(r.body, r.request_id) == 0);
	rfs_httpc_reply_release(&r);
	CU_ASSERT_EQUAL(hf_wait_for(&hf_state()->freed, freed + 3), freed + 3);
	rfs_httpc_free(c);
}

static void test_http_stop_drops_suspended(void)
{
	int fd = hf_connect(hf_ext_port());
	int freed = atomic_load(&hf_state()->freed);
	const char *req = "GET /never HTTP/1.1\r\nHost: t\r\n\r\n";
	char out[256];

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(hf_send_all(fd, req, strlen(req)));
	CU_ASSERT_EQUAL(hf_wait_for(&hf_state()->never_seen, 1), 1);
	hf_loop_stop();
	rfs_httpd_stop(hf_state()->ext);
	hf_state()->ext = NULL;
	CU_ASSERT_EQUAL(atomic_load(&hf_state()->freed) - freed, 1);
	/* the parked connection is closed without a reply */
	CU_ASSERT_EQUAL(hf_recv_all(fd, out, sizeof(out)), 0);
	close(fd);
}

static void test_http_ipv6(void)
{
	struct rfs_httpd_opts o = {
	    .bind_addr = "::1",
	    .routes = hf_threaded_routes,
	    .n_routes = hf_n_threaded_routes,
	};
	struct rfs_httpc *c = hf_client_new(0);
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
	    .port = hf_port(),
	    .routes = hf_threaded_routes,
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
	    RFS_TEST(test_http_client_ids),
	    RFS_TEST(test_http_keepalive_reuse),
	    RFS_TEST(test_http_retry_503),
	    RFS_TEST(test_http_connection_refused),
	    RFS_TEST(test_http_sync_put_stream),
	    RFS_TEST(test_http_async_reply),
	    RFS_TEST(test_http_stop_drops_suspended),
	    RFS_TEST(test_http_ipv6),
	    RFS_TEST(test_http_start_errors),
	};
	static const struct rfs_test_suite suite = {
	    .name = "http",
	    RFS_TESTS(tests),
	    .init = hf_suite_init,
	    .cleanup = hf_suite_clean,
	};

	/* ignoring SIGPIPE is each program's job (see common/httpd.h) */
	signal(SIGPIPE, SIG_IGN);
	rfs_log_setup("test_http", RFS_LOG_ERROR);
	return rfs_test_run(&suite, 1);
}
