/*
 * http_fixture: the servers the HTTP unit tests (test_http.c,
 * test_http_multi.c) run against, on 127.0.0.1: a threaded server (the
 * chunk server's mode) with a route of each kind, and an external-mode
 * server (the metaserver's) driven by a poll loop in a thread of the test.
 * hf_suite_init() starts both and writes a test file that GET /file
 * serves; hf_suite_clean() stops everything and removes the file. Nothing
 * here is thread-safe except what the handlers touch (the atomics).
 *
 * Routes of the threaded server:
 *   POST /echo, /small   the body back (max TEST_ECHO_MAX, TEST_SMALL_MAX)
 *   GET  /peer, /id      the peer address, the request id
 *   GET  /query          "a=rc:v b=rc c=rc h=rc:hex s=str u=v" of the query
 *   GET  /files/<tail>   "tail=<tail>"; GET /files/exact: "exact"
 *   GET  /missing, /gone -ENOENT, the second with a message
 *   GET  /bad-async      RFS_HTTPD_ASYNC, which a threaded server refuses
 *   POST /flaky          503 on the first call since flaky_calls was reset
 *   PUT  /stream         streamed body (needs ?version=), checked against
 *                        hf_pattern_byte(); replies "n=<bytes>" and echoes
 *                        the CRC header
 *   GET  /file           the test file (?offset=&length=), TEST_FILE_CRC
 * Routes of the external server: GET /async (replied from the loop),
 * GET /never (parked forever), GET /id.
 */
#ifndef RFS_TESTS_UNIT_HTTP_FIXTURE_H
#define RFS_TESTS_UNIT_HTTP_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/httpc.h"
#include "common/httpd.h"

#define TEST_FILE_BYTES (1024 * 1024 + 123)
#define TEST_PUT_BYTES	(3 * 1024 * 1024 + 17)
#define TEST_SMALL_MAX	64
#define TEST_ECHO_MAX	1024
#define TEST_FILE_CRC	"deadbeef,01234567"

/* State shared by the handlers, the loop thread and the tests. */
struct hf_state {
	struct rfs_httpd *srv; /* threaded */
	struct rfs_httpd *ext; /* external mode */
	pthread_t loop;
	bool loop_running;
	int stop_pipe[2];
	char file_path[64];
	unsigned char *file_data; /* the TEST_FILE_BYTES GET /file serves */
	atomic_int flaky_calls;
	atomic_int freed;	       /* per-request data freed */
	atomic_int never_seen;	       /* /never handler ran */
	struct rfs_httpd_req *pending; /* loop thread only */
	atomic_int async_replied;      /* the loop answered /async */
};

/* The threaded server's routes, for tests that start servers of their own. */
extern const struct rfs_httpd_route hf_threaded_routes[];
extern const size_t hf_n_threaded_routes;

/* The one fixture state of this process; never NULL. */
struct hf_state *hf_state(void);
/* Ports of the threaded and of the external-mode server. */
uint16_t hf_port(void);
uint16_t hf_ext_port(void);

/* CUnit suite init/cleanup: start/stop both servers and the loop. */
int hf_suite_init(void);
int hf_suite_clean(void);
/* Stops the external server's loop thread (idempotent). */
void hf_loop_stop(void);

/* Byte pos of the pattern PUT /stream expects. */
uint8_t hf_pattern_byte(uint64_t pos);
/* "127.0.0.1:port" into out. */
void hf_addr_of(uint16_t port, char *out, size_t cap);
/* A client with the given retry count; NULL on OOM. Caller frees. */
struct rfs_httpc *hf_client_new(int retries);
/*
 * rfs_httpc_call to 127.0.0.1:port with a NUL-terminated body or NULL;
 * returns what that returned and the caller releases *r.
 */
int hf_call(struct rfs_httpc *c, uint16_t port, const char *method,
	    const char *path, const char *body, bool idempotent,
	    struct rfs_httpc_reply *r);
/* A blocking TCP socket connected to 127.0.0.1:port, or -1. */
int hf_connect(uint16_t port);
/* Sends all of buf; false on any error. */
bool hf_send_all(int fd, const char *buf, size_t len);
/* Reads until the peer closes or out is full; NUL-terminates, returns len. */
size_t hf_recv_all(int fd, char *out, size_t cap);
/*
 * Sends a hand-written request (to send what httpc never would) on a new
 * connection and reads the whole answer into out; returns its length.
 */
size_t hf_raw_request(uint16_t port, const char *text, char *out, size_t cap);
/*
 * Waits (bounded) until *v >= want and returns *v: servers finish a
 * request after replying.
 */
int hf_wait_for(atomic_int *v, int want);
/* Whether s is 16 lower-case hex digits (a generated request id). */
bool hf_is_hex16(const char *s);

#endif
