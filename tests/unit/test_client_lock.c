/*
 * Unit tests of the client library's lock sessions (client/lock.c)
 * against a fake metaserver on 127.0.0.1: a threaded HTTP server whose
 * lock routes run the real lock table (metaserver/locks.c) on a clock the
 * tests move by hand, and which the tests can "restart" (empty table,
 * grace period) to check reclaims.
 */
#include <config.h>

#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/proto.h"
#include "metaserver/locks.h"
#include "tests/unit/runner.h"

#define LEASE	    1000 /* ms */
#define INO	    5
#define OWNER_A	    0xa
#define OWNER_B	    0xb
#define ADDR_MAX    64
#define PAST_GRACE  (10 * LEASE)
#define MSG_UNKNOWN "unknown lock session"

static struct {
	pthread_mutex_t mu;
	struct ms_locks *locks;
	int64_t now; /* the fake metaserver's clock, ms */
	uint64_t next_id;
	unsigned lock_calls; /* requests to RFS_PATH_LOCK */
	struct rfs_httpd *srv;
	struct rfs_client *c;
} F = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* --- the fake metaserver -------------------------------------------------- */

static int reply_json(struct rfs_httpd_req *req, int rc, char *buf, size_t len)
{
	if (rc < 0)
		return rc;
	return rfs_httpd_reply(req, 200, RFS_CONTENT_JSON, buf, len);
}

static int reply_session(struct rfs_httpd_req *req, uint64_t id)
{
	struct rfs_session s = {.id = id, .lease_ms = LEASE};
	char *buf = NULL;
	size_t len = 0;
	int rc = rfs_proto_session_encode(&s, &buf, &len);

	return reply_json(req, rc, buf, len);
}

static int fake_open(struct rfs_httpd_req *req, void *ctx)
{
	uint64_t id;
	int rc;

	pthread_mutex_lock(&F.mu);
	id = ++F.next_id;
	rc = ms_locks_session_open(F.locks, id, F.now);
	pthread_mutex_unlock(&F.mu);
	return rc < 0 ? rc : reply_session(req, id);
}

/* renew (close == false) or close */
static int fake_session(struct rfs_httpd_req *req, bool close)
{
	struct rfs_session s;
	const char *body;
	size_t len;
	int rc;

	body = rfs_httpd_req_body(req, &len);
	rc = rfs_proto_session_decode(body ? body : "", body ? len : 0, &s);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&F.mu);
	rc = close ? ms_locks_session_close(F.locks, s.id)
		   : ms_locks_session_renew(F.locks, s.id, F.now);
	pthread_mutex_unlock(&F.mu);
	if (rc == -ESTALE)
		return rfs_httpd_reply_error(req, rc, MSG_UNKNOWN);
	if (rc < 0)
		return rc;
	return close ? rfs_httpd_reply(req, 200, RFS_CONTENT_JSON, strdup("{}"),
				       2)
		     : reply_session(req, s.id);
}

static int fake_renew(struct rfs_httpd_req *req, void *ctx)
{
	return fake_session(req, false);
}

static int fake_close(struct rfs_httpd_req *req, void *ctx)
{
	return fake_session(req, true);
}

/* lock (test == false) or lock test, with the metaserver's error mapping */
static int fake_lock_common(struct rfs_httpd_req *req, bool test)
{
	struct rfs_lock_range h = {0};
	struct rfs_lock out = {0};
	struct rfs_lock l;
	const char *body;
	char *buf = NULL;
	size_t len;
	int rc;

	body = rfs_httpd_req_body(req, &len);
	rc = rfs_proto_lock_decode(body ? body : "", body ? len : 0, &l);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&F.mu);
	if (!test)
		F.lock_calls++;
	rc = test ? ms_locks_test(F.locks, &l, &h)
		  : ms_locks_set(F.locks, &l, F.now, &h);
	pthread_mutex_unlock(&F.mu);
	if (rc == -ESTALE)
		return rfs_httpd_reply_error(req, rc, MSG_UNKNOWN);
	if (rc == -EAGAIN) /* grace period: 409 like a conflict */
		return rfs_httpd_reply_error(req, -EBUSY, "grace period");
	if (rc < 0)
		return rfs_httpd_reply_error(req, rc, "refused");
	if (!test)
		return rfs_httpd_reply(req, 200, RFS_CONTENT_JSON, strdup("{}"),
				       2);
	out.type = h.type;
	out.start = h.start;
	out.end = h.end;
	out.pid = h.pid;
	rc = rfs_proto_lock_encode(&out, &buf, &len);
	return reply_json(req, rc, buf, len);
}

static int fake_lock(struct rfs_httpd_req *req, void *ctx)
{
	return fake_lock_common(req, false);
}

static int fake_lock_test(struct rfs_httpd_req *req, void *ctx)
{
	return fake_lock_common(req, true);
}

static const struct rfs_httpd_route fake_routes[] = {
    {"POST", RFS_PATH_SESSION_OPEN, fake_open, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_SESSION_RENEW, fake_renew, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_SESSION_CLOSE, fake_close, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_LOCK, fake_lock, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_LOCK_TEST, fake_lock_test, NULL, RFS_META_BODY_MAX},
};

/* The metaserver "restarts": an empty table serving from now (grace). */
static void fake_restart(int64_t now)
{
	pthread_mutex_lock(&F.mu);
	ms_locks_free(F.locks);
	F.locks = ms_locks_new(LEASE);
	F.now = now;
	if (F.locks)
		ms_locks_serving(F.locks, now);
	pthread_mutex_unlock(&F.mu);
	CU_ASSERT_PTR_NOT_NULL_FATAL(F.locks);
}

static void fake_set_now(int64_t now)
{
	pthread_mutex_lock(&F.mu);
	F.now = now;
	pthread_mutex_unlock(&F.mu);
}

static struct ms_locks_stats fake_stats(void)
{
	struct ms_locks_stats st;

	pthread_mutex_lock(&F.mu);
	ms_locks_stats(F.locks, &st);
	pthread_mutex_unlock(&F.mu);
	return st;
}

static int suite_init(void)
{
	struct rfs_httpd_opts o = {
	    .name = "fake-meta",
	    .bind_addr = "127.0.0.1",
	    .routes = fake_routes,
	    .n_routes = sizeof(fake_routes) / sizeof(fake_routes[0]),
	};
	struct rfs_client_opts co = {0};
	char addr[ADDR_MAX];

	F.locks = ms_locks_new(LEASE);
	if (!F.locks || rfs_httpd_start(&o, &F.srv) < 0)
		return -1;
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", rfs_httpd_port(F.srv));
	co.meta = addr;
	return rfs_client_new(&co, &F.c) < 0 ? -1 : 0;
}

static int suite_cleanup(void)
{
	rfs_client_free(F.c);
	rfs_httpd_stop(F.srv);
	ms_locks_free(F.locks);
	return 0;
}

/* --- helpers --------------------------------------------------------------- */

/* Each test starts on a fresh table, past its grace period. */
static struct rfs_lock_session *session(void)
{
	struct rfs_lock_session *s = NULL;

	CU_ASSERT_EQUAL_FATAL(rfs_lock_session_new(F.c, &s), 0);
	return s;
}

static struct rfs_lock lk(uint64_t owner, uint32_t type, uint64_t start,
			  uint64_t end)
{
	struct rfs_lock r = {.ino = INO,
			     .kind = RFS_LOCK_POSIX,
			     .owner = owner,
			     .type = type,
			     .start = start,
			     .end = end,
			     .pid = (uint32_t)owner};
	return r;
}

static struct rfs_lock flk(uint64_t owner, uint32_t type)
{
	struct rfs_lock r = lk(owner, type, 0, RFS_LOCK_EOF);

	r.kind = RFS_LOCK_FLOCK;
	return r;
}

/* What session s sees at [start, end] for a write lock of OWNER_B. */
static struct rfs_lock holder_at(struct rfs_lock_session *s, uint64_t start,
				 uint64_t end)
{
	struct rfs_lock q = lk(OWNER_B, RFS_LOCK_WR, start, end);
	struct rfs_lock h = {0};

	CU_ASSERT_EQUAL(rfs_lock_test(s, &q, &h), 0);
	return h;
}

/* --- tests ----------------------------------------------------------------- */

static void test_client_lock_set_test_and_split(void)
{
	struct rfs_lock_session *a;
	struct rfs_lock_session *b;
	struct rfs_lock r;
	struct rfs_lock h;

	fake_restart(0);
	fake_set_now(PAST_GRACE);
	a = session();
	b = session();
	r = lk(OWNER_A, RFS_LOCK_WR, 0, 99);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	CU_ASSERT_EQUAL(rfs_lock_session_lease_ms(a), LEASE);
	r = lk(OWNER_B, RFS_LOCK_WR, 50, 50);
	CU_ASSERT_EQUAL(rfs_lock_set(b, &r), -EAGAIN);
	h = holder_at(b, 0, RFS_LOCK_EOF);
	CU_ASSERT_EQUAL(h.type, RFS_LOCK_WR);
	CU_ASSERT_EQUAL(h.start, 0);
	CU_ASSERT_EQUAL(h.end, 99);
	CU_ASSERT_EQUAL(h.pid, OWNER_A);
	r = lk(OWNER_A, RFS_LOCK_UN, 40, 59);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	r = lk(OWNER_B, RFS_LOCK_WR, 40, 59);
	CU_ASSERT_EQUAL(rfs_lock_set(b, &r), 0);
	CU_ASSERT_EQUAL(rfs_lock_session_free(a), 0);
	CU_ASSERT_EQUAL(rfs_lock_session_free(b), 0);
	CU_ASSERT_EQUAL(fake_stats().sessions, 0);
	CU_ASSERT_EQUAL(fake_stats().ranges, 0);
}

static void test_client_lock_reclaims_exactly_what_is_held(void)
{
	struct rfs_lock_session *a;
	struct rfs_lock_session *b;
	struct rfs_lock r;
	size_t lost = 99;

	fake_restart(0);
	fake_set_now(PAST_GRACE);
	a = session();
	b = session();
	r = lk(OWNER_A, RFS_LOCK_WR, 0, 99);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	r = lk(OWNER_A, RFS_LOCK_UN, 40, 59);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	r = flk(OWNER_A, RFS_LOCK_RD);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	/* the metaserver restarts: empty table, grace period */
	fake_restart(PAST_GRACE);
	CU_ASSERT_EQUAL(rfs_lock_session_renew(a, &lost), 0);
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT_EQUAL(fake_stats().ranges, 3);
	CU_ASSERT_EQUAL(holder_at(b, 0, 0).end, 39);
	CU_ASSERT_EQUAL(holder_at(b, 40, 59).type, RFS_LOCK_UN);
	CU_ASSERT_EQUAL(holder_at(b, 60, 60).start, 60);
	CU_ASSERT_EQUAL(holder_at(b, 60, 60).end, 99);
	r = flk(OWNER_B, RFS_LOCK_WR);
	fake_set_now(2 * PAST_GRACE);
	CU_ASSERT_EQUAL(rfs_lock_set(b, &r), -EAGAIN);
	rfs_lock_session_free(a);
	rfs_lock_session_free(b);
}

static void test_client_lock_reclaim_refused_after_grace(void)
{
	struct rfs_lock_session *a;
	struct rfs_lock_session *b;
	struct rfs_lock r = lk(OWNER_A, RFS_LOCK_WR, 0, 9);
	size_t lost = 0;

	fake_restart(0);
	fake_set_now(PAST_GRACE);
	a = session();
	b = session();
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	/* restarted long ago: the grace period is over when a notices */
	fake_restart(PAST_GRACE);
	fake_set_now(2 * PAST_GRACE);
	CU_ASSERT_EQUAL(rfs_lock_session_renew(a, &lost), 0);
	CU_ASSERT_EQUAL(lost, 1);
	CU_ASSERT_EQUAL(fake_stats().ranges, 0);
	/* the lost lock is forgotten: the next renewal reports nothing */
	CU_ASSERT_EQUAL(rfs_lock_session_renew(a, &lost), 0);
	CU_ASSERT_EQUAL(lost, 0);
	r.owner = OWNER_B;
	CU_ASSERT_EQUAL(rfs_lock_set(b, &r), 0);
	rfs_lock_session_free(a);
	rfs_lock_session_free(b);
}

static void test_client_lock_request_after_restart_reopens(void)
{
	struct rfs_lock_session *a;
	struct rfs_lock_session *b;
	struct rfs_lock r = lk(OWNER_A, RFS_LOCK_WR, 0, 9);

	fake_restart(0);
	fake_set_now(PAST_GRACE);
	a = session();
	b = session();
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	fake_restart(PAST_GRACE);
	/* a new lock during the grace period: reclaim first, then busy */
	r = lk(OWNER_A, RFS_LOCK_WR, 100, 109);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), -EAGAIN);
	CU_ASSERT_EQUAL(holder_at(b, 0, 9).type, RFS_LOCK_WR);
	fake_set_now(2 * PAST_GRACE);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	CU_ASSERT_EQUAL(holder_at(b, 105, 105).start, 100);
	rfs_lock_session_free(a);
	rfs_lock_session_free(b);
}

static void test_client_lock_release_only_asks_when_held(void)
{
	struct rfs_lock_session *a;
	struct rfs_lock r = lk(OWNER_A, RFS_LOCK_RD, 0, 9);
	unsigned before;

	fake_restart(0);
	fake_set_now(PAST_GRACE);
	a = session();
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	pthread_mutex_lock(&F.mu);
	before = F.lock_calls;
	pthread_mutex_unlock(&F.mu);
	/* another owner, another kind, another file: nothing held */
	CU_ASSERT_EQUAL(rfs_lock_release(a, INO, RFS_LOCK_POSIX, OWNER_B), 0);
	CU_ASSERT_EQUAL(rfs_lock_release(a, INO, RFS_LOCK_FLOCK, OWNER_A), 0);
	CU_ASSERT_EQUAL(rfs_lock_release(a, INO + 1, RFS_LOCK_POSIX, OWNER_A),
			0);
	pthread_mutex_lock(&F.mu);
	CU_ASSERT_EQUAL(F.lock_calls, before);
	pthread_mutex_unlock(&F.mu);
	CU_ASSERT_EQUAL(rfs_lock_release(a, INO, RFS_LOCK_POSIX, OWNER_A), 0);
	pthread_mutex_lock(&F.mu);
	CU_ASSERT_EQUAL(F.lock_calls, before + 1);
	pthread_mutex_unlock(&F.mu);
	CU_ASSERT_EQUAL(fake_stats().ranges, 0);
	/* released: not held any more, so a restart reclaims nothing */
	fake_restart(2 * PAST_GRACE);
	CU_ASSERT_EQUAL(rfs_lock_session_renew(a, NULL), 0);
	CU_ASSERT_EQUAL(fake_stats().ranges, 0);
	rfs_lock_session_free(a);
}

static void test_client_lock_session_lapse_is_survived(void)
{
	struct rfs_lock_session *a;
	struct rfs_lock r = lk(OWNER_A, RFS_LOCK_WR, 0, 0);

	fake_restart(0);
	fake_set_now(PAST_GRACE);
	a = session();
	CU_ASSERT_EQUAL(rfs_lock_session_renew(a, NULL), 0);
	/* the lease runs out without a lock held: just a new session */
	pthread_mutex_lock(&F.mu);
	ms_locks_tick(F.locks, PAST_GRACE + 2 * LEASE, true);
	pthread_mutex_unlock(&F.mu);
	CU_ASSERT_EQUAL(fake_stats().sessions, 0);
	CU_ASSERT_EQUAL(rfs_lock_set(a, &r), 0);
	CU_ASSERT_EQUAL(fake_stats().sessions, 1);
	CU_ASSERT_EQUAL(rfs_lock_session_free(a), 0);
	CU_ASSERT_EQUAL(rfs_lock_session_free(NULL), 0);
}

static const struct rfs_test client_lock_tests[] = {
    RFS_TEST(test_client_lock_set_test_and_split),
    RFS_TEST(test_client_lock_reclaims_exactly_what_is_held),
    RFS_TEST(test_client_lock_reclaim_refused_after_grace),
    RFS_TEST(test_client_lock_request_after_restart_reopens),
    RFS_TEST(test_client_lock_release_only_asks_when_held),
    RFS_TEST(test_client_lock_session_lapse_is_survived),
};

int main(void)
{
	static const struct rfs_test_suite suites[] = {
	    {.name = "client_lock",
	     RFS_TESTS(client_lock_tests),
	     .init = suite_init,
	     .cleanup = suite_cleanup},
	};

	/* the fake's refusals are expected: only errors are worth a line */
	rfs_log_setup("test_client_lock", RFS_LOG_ERROR);
	return rfs_test_run(suites, sizeof(suites) / sizeof(suites[0]));
}
