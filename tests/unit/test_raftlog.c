/*
 * Unit tests for metaserver/raftlog: bootstrap a temporary directory, run
 * the log on a libuv loop with a toy state machine, propose entries,
 * restart and check they are replayed, with and without snapshots.
 */
#include <config.h>
#include "metaserver/raftlog.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tests/unit/runner.h"

#define TEST_ADDR "127.0.0.1:0"
/* A test that waits longer than this for the loop has failed. */
#define TEST_WAIT_MS   5000
#define TEST_STATE_MAX 8192

/* Toy state machine: the concatenation of every applied entry plus ';'. */
struct toy {
	char state[TEST_STATE_MAX];
	size_t len;
	unsigned applied;
	unsigned restores;
	unsigned result;
};

struct waiter {
	unsigned done;
	int last_status;
	unsigned last_result;
	unsigned errors;
};

static char test_dir[64];

static void toy_apply(void *arg, const char *buf, size_t len, void **result)
{
	struct toy *t = arg;

	if (t->len + len + 1 < sizeof(t->state)) {
		memcpy(t->state + t->len, buf, len);
		t->len += len;
		t->state[t->len++] = ';';
	}
	t->applied++;
	t->result = t->applied;
	*result = &t->result;
}

static int toy_snapshot(void *arg, void **buf, size_t *len)
{
	struct toy *t = arg;

	*buf = malloc(t->len + 1);
	if (*buf == NULL)
		return -ENOMEM;
	memcpy(*buf, t->state, t->len);
	*len = t->len;
	return 0;
}

static int toy_restore(void *arg, const char *buf, size_t len)
{
	struct toy *t = arg;

	if (len >= sizeof(t->state))
		return -EBADMSG;
	memcpy(t->state, buf, len);
	t->len = len;
	t->restores++;
	return 0;
}

static void wait_timeout(uv_timer_t *timer)
{
	uv_stop(timer->loop);
}

/* Run the loop until *flag becomes true or TEST_WAIT_MS pass. */
static bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg)
{
	uv_timer_t timer;
	uint64_t deadline = uv_now(loop) + TEST_WAIT_MS;
	bool ok;

	uv_timer_init(loop, &timer);
	while (!(ok = cond(arg)) && uv_now(loop) < deadline) {
		uv_timer_start(&timer, wait_timeout, 5, 0);
		uv_run(loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

static bool is_ready(void *arg)
{
	return ms_raftlog_is_ready(arg);
}

struct count_goal {
	struct waiter *w;
	unsigned n;
};

static bool reached(void *arg)
{
	struct count_goal *g = arg;

	return g->w->done >= g->n;
}

static void done_cb(void *arg, int status, void *result)
{
	struct waiter *w = arg;

	w->done++;
	w->last_status = status;
	if (status != 0)
		w->errors++;
	else
		w->last_result = *(unsigned *)result;
}

static struct ms_raftlog *start_log(uv_loop_t *loop, struct toy *toy,
				    unsigned threshold)
{
	struct ms_raftlog_opts opts = {
	    .loop = loop,
	    .dir = test_dir,
	    .id = 1,
	    .addr = TEST_ADDR,
	    .snapshot_threshold = threshold,
	    .snapshot_trailing = 2,
	    .sm = {.arg = toy,
		   .apply = toy_apply,
		   .snapshot = toy_snapshot,
		   .restore = toy_restore},
	};
	struct ms_raftlog *log = NULL;
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(ms_raftlog_new(&opts, &log, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(ms_raftlog_start(log, err, sizeof(err)), 0);
	CU_ASSERT_FATAL(run_until(loop, is_ready, log));
	return log;
}

static void stop_log(uv_loop_t *loop, struct ms_raftlog *log)
{
	ms_raftlog_close(log, NULL, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static int setup_dir(void)
{
	char err[256];

	snprintf(test_dir, sizeof(test_dir), "/tmp/test_raftlog.XXXXXX");
	if (mkdtemp(test_dir) == NULL)
		return -1;
	return ms_raftlog_bootstrap(test_dir, 1, TEST_ADDR, err, sizeof(err));
}

static void cleanup_dir(void)
{
	nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Propose "e<i>" entries of growing length (exercising the padding). */
static void propose_n(uv_loop_t *loop, struct ms_raftlog *log, unsigned from,
		      unsigned n)
{
	struct waiter w = {0};
	struct count_goal goal = {&w, n};
	char entry[64];
	unsigned i;

	for (i = from; i < from + n; i++) {
		int len = snprintf(entry, sizeof(entry), "e%u%.*s", i,
				   (int)(i % 9), "xxxxxxxxx");
		CU_ASSERT_EQUAL(
		    ms_raftlog_propose(log, entry, (size_t)len, done_cb, &w),
		    0);
	}
	CU_ASSERT_FATAL(run_until(loop, reached, &goal));
	CU_ASSERT_EQUAL(w.errors, 0);
}

static void test_raftlog_bootstrap_twice_refused(void)
{
	char err[256] = "";

	CU_ASSERT_EQUAL(
	    ms_raftlog_bootstrap(test_dir, 1, TEST_ADDR, err, sizeof(err)),
	    -EEXIST);
	CU_ASSERT(strlen(err) > 0);
}

static void test_raftlog_propose_bad_input(void)
{
	uv_loop_t loop;
	struct toy toy = {0};
	struct waiter w = {0};
	struct ms_raftlog *log;

	uv_loop_init(&loop);
	log = start_log(&loop, &toy, 1000);
	CU_ASSERT_EQUAL(ms_raftlog_propose(log, "", 0, done_cb, &w), -EINVAL);
	CU_ASSERT_EQUAL(ms_raftlog_propose(log, "ab\0", 3, done_cb, &w),
			-EINVAL);
	stop_log(&loop, log);
	CU_ASSERT_EQUAL(w.done, 0);
	CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

static void test_raftlog_apply_and_replay(void)
{
	uv_loop_t loop;
	struct toy first = {0};
	struct toy second = {0};
	struct ms_raftlog *log;

	uv_loop_init(&loop);
	log = start_log(&loop, &first, 1000);
	propose_n(&loop, log, 0, 25);
	CU_ASSERT_EQUAL(first.applied, 25);
	CU_ASSERT_NSTRING_EQUAL(first.state, "e0;e1x;e2xx;", 12);
	stop_log(&loop, log);

	/* Restart: everything is replayed into a fresh machine. */
	log = start_log(&loop, &second, 1000);
	CU_ASSERT_EQUAL(second.applied, first.applied);
	CU_ASSERT_EQUAL(second.len, first.len);
	CU_ASSERT_EQUAL(memcmp(second.state, first.state, first.len), 0);
	stop_log(&loop, log);
	CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

static void test_raftlog_snapshot_restore(void)
{
	uv_loop_t loop;
	struct toy first = {0};
	struct toy second = {0};
	struct ms_raftlog_stats stats;
	struct ms_raftlog *log;

	uv_loop_init(&loop);
	/* Replays the previous test's 25 entries, then adds 40 more. */
	log = start_log(&loop, &first, 8);
	propose_n(&loop, log, 100, 40);
	ms_raftlog_stats(log, &stats);
	CU_ASSERT(stats.snapshots > 0);
	CU_ASSERT_EQUAL(stats.committed, 40);
	CU_ASSERT_EQUAL(stats.pending, 0);
	stop_log(&loop, log);

	log = start_log(&loop, &second, 8);
	CU_ASSERT_EQUAL(second.restores, 1);
	CU_ASSERT_EQUAL(second.len, first.len);
	CU_ASSERT_EQUAL(memcmp(second.state, first.state, first.len), 0);
	/* The log keeps working after a restore. */
	propose_n(&loop, log, 200, 3);
	CU_ASSERT_EQUAL(memcmp(second.state + second.len - 9, "e202xxxx;", 9),
			0);
	stop_log(&loop, log);
	CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_raftlog_bootstrap_twice_refused),
	    RFS_TEST(test_raftlog_propose_bad_input),
	    RFS_TEST(test_raftlog_apply_and_replay),
	    RFS_TEST(test_raftlog_snapshot_restore),
	};
	static const struct rfs_test_suite suite = {
	    .name = "raftlog",
	    RFS_TESTS(tests),
	};
	int rc;

	rfs_log_setup("test_raftlog", RFS_LOG_WARN);
	if (setup_dir() != 0) {
		fprintf(stderr, "cannot bootstrap a raft dir under /tmp\n");
		return 1;
	}
	rc = rfs_test_run(&suite, 1);
	cleanup_dir();
	return rc;
}
