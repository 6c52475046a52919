#include <config.h>

#include <CUnit/Basic.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpc.h"
#include "common/log.h"
#include "tests/unit/http_fixture.h"
#include "tests/unit/runner.h"

/*
 * The libcurl multi wrapper (rfs_httpc_multi_*) against the threaded
 * server of http_fixture.c: parallel ranged GETs and PUTs, a transfer
 * queued from a done callback, and per-transfer errors.
 */

#define TEST_PARALLEL 8

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
	hf_addr_of(hf_port(), x->addr, sizeof(x->addr));
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
		CU_ASSERT(memcmp(x[i].recv_buf, hf_state()->file_data + off,
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
		buf[j] = (char)hf_pattern_byte(j);
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
	CU_ASSERT(memcmp(small, hf_state()->file_data, 100) == 0);
	rfs_xfer_release(&x[0]);
	rfs_httpc_multi_free(m);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_http_multi_parallel_get),
	    RFS_TEST(test_http_multi_parallel_put),
	    RFS_TEST(test_http_multi_errors),
	};
	static const struct rfs_test_suite suite = {
	    .name = "http_multi",
	    RFS_TESTS(tests),
	    .init = hf_suite_init,
	    .cleanup = hf_suite_clean,
	};

	/* ignoring SIGPIPE is each program's job (see common/httpd.h) */
	signal(SIGPIPE, SIG_IGN);
	rfs_log_setup("test_http_multi", RFS_LOG_ERROR);
	return rfs_test_run(&suite, 1);
}
