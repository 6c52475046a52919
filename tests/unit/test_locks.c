/*
 * Unit tests of the lock table (metaserver/locks.c), the per-owner range
 * sets it is built on (common/lockrange.c) and the lock wire codecs
 * (common/proto_lock.c). Time is simulated: every call takes now_ms.
 */
#include <config.h>

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/lockrange.h"
#include "common/proto.h"
#include "metaserver/locks.h"
#include "tests/unit/runner.h"

#define LEASE 1000 /* ms */
#define T0    5000 /* ms: when the table starts serving */
/* A time past the grace period, when ordinary locks are granted. */
#define AFTER_GRACE (T0 + LEASE + 1)

#define S1  0x1111
#define S2  0x2222
#define INO 42

/* --- lockrange ---------------------------------------------------------- */

/* s holds exactly the ranges "start-end:type" listed, in order. */
static void expect_ranges(const struct rfs_lockrange *s,
			  const struct rfs_lock_range *want, size_t n)
{
	size_t i;

	CU_ASSERT_EQUAL_FATAL(s->n, n);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(s->r[i].start, want[i].start);
		CU_ASSERT_EQUAL(s->r[i].end, want[i].end);
		CU_ASSERT_EQUAL(s->r[i].type, want[i].type);
	}
}

static void test_lockrange_merge_adjacent_and_overlapping(void)
{
	static const struct rfs_lock_range one[] = {{0, 29, RFS_LOCK_RD, 0}};
	struct rfs_lockrange s;

	rfs_lockrange_init(&s);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 0, 9, RFS_LOCK_RD, 1, SIZE_MAX),
			0);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 20, 29, RFS_LOCK_RD, 1, SIZE_MAX),
			0);
	CU_ASSERT_EQUAL(s.n, 2);
	/* touches the first, overlaps the second: one range */
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 10, 25, RFS_LOCK_RD, 7, SIZE_MAX),
			0);
	expect_ranges(&s, one, 1);
	CU_ASSERT_EQUAL(s.r[0].pid, 7);
	rfs_lockrange_release(&s);
	CU_ASSERT_EQUAL(s.n, 0);
}

static void test_lockrange_split_on_unlock(void)
{
	static const struct rfs_lock_range two[] = {
	    {0, 39, RFS_LOCK_WR, 0}, {60, RFS_LOCK_EOF, RFS_LOCK_WR, 0}};
	struct rfs_lockrange s;

	rfs_lockrange_init(&s);
	CU_ASSERT_EQUAL(
	    rfs_lockrange_set(&s, 0, RFS_LOCK_EOF, RFS_LOCK_WR, 1, SIZE_MAX),
	    0);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 40, 59, RFS_LOCK_UN, 1, SIZE_MAX),
			0);
	expect_ranges(&s, two, 2);
	/* unlocking what is not held changes nothing */
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 45, 50, RFS_LOCK_UN, 1, SIZE_MAX),
			0);
	expect_ranges(&s, two, 2);
	CU_ASSERT_EQUAL(
	    rfs_lockrange_set(&s, 0, RFS_LOCK_EOF, RFS_LOCK_UN, 1, SIZE_MAX),
	    0);
	CU_ASSERT_TRUE(rfs_lockrange_is_empty(&s));
	rfs_lockrange_release(&s);
}

static void test_lockrange_downgrade_middle(void)
{
	static const struct rfs_lock_range three[] = {{0, 9, RFS_LOCK_WR, 0},
						      {10, 19, RFS_LOCK_RD, 0},
						      {20, 29, RFS_LOCK_WR, 0}};
	static const struct rfs_lock_range back[] = {{0, 29, RFS_LOCK_WR, 0}};
	struct rfs_lockrange s;

	rfs_lockrange_init(&s);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 0, 29, RFS_LOCK_WR, 1, SIZE_MAX),
			0);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 10, 19, RFS_LOCK_RD, 1, SIZE_MAX),
			0);
	expect_ranges(&s, three, 3);
	/* upgrading the middle again merges all three */
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 10, 19, RFS_LOCK_WR, 1, SIZE_MAX),
			0);
	expect_ranges(&s, back, 1);
	rfs_lockrange_release(&s);
}

static void test_lockrange_conflict_rules(void)
{
	struct rfs_lockrange s;
	const struct rfs_lock_range *c;

	rfs_lockrange_init(&s);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 10, 19, RFS_LOCK_RD, 3, SIZE_MAX),
			0);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 30, 39, RFS_LOCK_WR, 4, SIZE_MAX),
			0);
	CU_ASSERT_PTR_NULL(rfs_lockrange_conflict(&s, 0, 100, RFS_LOCK_UN));
	CU_ASSERT_PTR_NULL(rfs_lockrange_conflict(&s, 10, 19, RFS_LOCK_RD));
	CU_ASSERT_PTR_NULL(rfs_lockrange_conflict(&s, 20, 29, RFS_LOCK_WR));
	CU_ASSERT_PTR_NULL(rfs_lockrange_conflict(&s, 0, 9, RFS_LOCK_WR));
	c = rfs_lockrange_conflict(&s, 19, 19, RFS_LOCK_WR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->start, 10);
	CU_ASSERT_EQUAL(c->pid, 3);
	c = rfs_lockrange_conflict(&s, 0, RFS_LOCK_EOF, RFS_LOCK_RD);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->start, 30);
	CU_ASSERT_EQUAL(c->type, RFS_LOCK_WR);
	rfs_lockrange_release(&s);
}

static void test_lockrange_refuses_bad_input_and_limit(void)
{
	struct rfs_lockrange s;

	rfs_lockrange_init(&s);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 5, 4, RFS_LOCK_RD, 1, SIZE_MAX),
			-EINVAL);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 0, 4, 9, 1, SIZE_MAX), -EINVAL);
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 0, 9, RFS_LOCK_WR, 1, 1), 0);
	/* a split would need 2 ranges: refused, set unchanged */
	CU_ASSERT_EQUAL(rfs_lockrange_set(&s, 3, 4, RFS_LOCK_UN, 1, 1),
			-ENOLCK);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(s.r[0].end, 9);
	rfs_lockrange_release(&s);
}

/* --- the lock table ----------------------------------------------------- */

/* A table serving since T0, with sessions S1 and S2 open. */
static struct ms_locks *table(void)
{
	struct ms_locks *l = ms_locks_new(LEASE);

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(ms_locks_tick(l, T0, true), 0);
	CU_ASSERT_EQUAL(ms_locks_session_open(l, S1, T0), 0);
	CU_ASSERT_EQUAL(ms_locks_session_open(l, S2, T0), 0);
	return l;
}

static struct rfs_lock req(uint64_t session, uint64_t owner, uint32_t type,
			   uint64_t start, uint64_t end)
{
	struct rfs_lock r = {.session = session,
			     .ino = INO,
			     .kind = RFS_LOCK_POSIX,
			     .owner = owner,
			     .type = type,
			     .start = start,
			     .end = end,
			     .pid = (uint32_t)owner};
	return r;
}

static int set_at(struct ms_locks *l, int64_t now, uint64_t session,
		  uint64_t owner, uint32_t type, uint64_t start, uint64_t end)
{
	struct rfs_lock r = req(session, owner, type, start, end);

	return ms_locks_set(l, &r, now, NULL);
}

static int set(struct ms_locks *l, uint64_t session, uint64_t owner,
	       uint32_t type, uint64_t start, uint64_t end)
{
	return set_at(l, AFTER_GRACE, session, owner, type, start, end);
}

static void test_locks_read_locks_share(void)
{
	struct ms_locks *l = table();

	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_RD, 0, 99), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_RD, 50, 149), 0);
	CU_ASSERT_EQUAL(set(l, S2, 3, RFS_LOCK_RD, 0, RFS_LOCK_EOF), 0);
	ms_locks_free(l);
}

static void test_locks_write_conflicts_with_read_and_write(void)
{
	struct ms_locks *l = table();
	struct rfs_lock r = req(S2, 2, RFS_LOCK_WR, 99, 99);
	struct rfs_lock_range c = {0};

	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_RD, 0, 99), 0);
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, &c), -EBUSY);
	CU_ASSERT_EQUAL(c.start, 0);
	CU_ASSERT_EQUAL(c.end, 99);
	CU_ASSERT_EQUAL(c.type, RFS_LOCK_RD);
	CU_ASSERT_EQUAL(c.pid, 1);
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 200, 299), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_RD, 250, 250), -EBUSY);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 250, 250), -EBUSY);
	/* the same owner id in another session is another owner */
	CU_ASSERT_EQUAL(set(l, S2, 1, RFS_LOCK_WR, 250, 250), -EBUSY);
	ms_locks_free(l);
}

static void test_locks_adjacent_ranges_do_not_conflict(void)
{
	struct ms_locks *l = table();

	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 100, 199), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 0, 99), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 200, RFS_LOCK_EOF), 0);
	CU_ASSERT_EQUAL(set(l, S2, 3, RFS_LOCK_WR, 199, 200), -EBUSY);
	ms_locks_free(l);
}

static void test_locks_split_on_unlock(void)
{
	struct ms_locks *l = table();
	struct ms_locks_stats st;

	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 0, 99), 0);
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_UN, 40, 59), 0);
	ms_locks_stats(l, &st);
	CU_ASSERT_EQUAL(st.ranges, 2);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 40, 59), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 39, 39), -EBUSY);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 60, 60), -EBUSY);
	ms_locks_free(l);
}

static void test_locks_upgrade_and_downgrade(void)
{
	struct ms_locks *l = table();

	/* the same owner never conflicts with itself */
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_RD, 0, 99), 0);
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 0, 99), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_RD, 10, 10), -EBUSY);
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_RD, 0, 99), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_RD, 10, 10), 0);
	/* now an upgrade meets the other reader */
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 0, 99), -EBUSY);
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 11, 99), 0);
	ms_locks_free(l);
}

static void test_locks_flock_and_posix_are_independent(void)
{
	struct ms_locks *l = table();
	struct rfs_lock f = req(S1, 1, RFS_LOCK_WR, 0, RFS_LOCK_EOF);

	f.kind = RFS_LOCK_FLOCK;
	CU_ASSERT_EQUAL(ms_locks_set(l, &f, AFTER_GRACE, NULL), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 0, RFS_LOCK_EOF), 0);
	f.session = S2;
	f.owner = 2;
	CU_ASSERT_EQUAL(ms_locks_set(l, &f, AFTER_GRACE, NULL), -EBUSY);
	/* flock locks cover the whole file */
	f.end = 10;
	CU_ASSERT_EQUAL(ms_locks_set(l, &f, AFTER_GRACE, NULL), -EINVAL);
	ms_locks_free(l);
}

static void test_locks_refuses_malformed_requests(void)
{
	struct ms_locks *l = table();
	struct rfs_lock r = req(S1, 1, RFS_LOCK_WR, 10, 9);

	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), -EINVAL);
	r = req(S1, 1, 7, 0, 9);
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), -EINVAL);
	r = req(S1, 1, RFS_LOCK_WR, 0, 9);
	r.kind = 9;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), -EINVAL);
	r = req(S1, 1, RFS_LOCK_WR, 0, 9);
	r.ino = 0;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), -EINVAL);
	r = req(0x9999, 1, RFS_LOCK_WR, 0, 9);
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), -ESTALE);
	CU_ASSERT_EQUAL(ms_locks_session_open(l, 0, T0), -EINVAL);
	CU_ASSERT_EQUAL(ms_locks_session_open(l, S1, T0), -EEXIST);
	ms_locks_free(l);
}

static void test_locks_release_on_session_expiry(void)
{
	struct ms_locks *l = table();
	struct ms_locks_stats st;
	int64_t t = AFTER_GRACE;

	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 0, 99), 0);
	CU_ASSERT_EQUAL(set(l, S1, 7, RFS_LOCK_RD, 200, 299), 0);
	/* S2 keeps renewing, S1 goes silent after its lock at t */
	CU_ASSERT_EQUAL(ms_locks_session_renew(l, S2, t + LEASE - 1), 0);
	CU_ASSERT_EQUAL(ms_locks_tick(l, t + LEASE - 1, true), 0);
	CU_ASSERT_EQUAL(set_at(l, t + LEASE - 1, S2, 2, RFS_LOCK_WR, 0, 0),
			-EBUSY);
	CU_ASSERT_EQUAL(ms_locks_tick(l, t + LEASE, true), 1);
	ms_locks_stats(l, &st);
	CU_ASSERT_EQUAL(st.sessions, 1);
	CU_ASSERT_EQUAL(st.ranges, 0);
	CU_ASSERT_EQUAL(st.owners, 0);
	CU_ASSERT_EQUAL(st.inodes, 0);
	CU_ASSERT_EQUAL(
	    set_at(l, t + LEASE, S2, 2, RFS_LOCK_WR, 0, RFS_LOCK_EOF), 0);
	CU_ASSERT_EQUAL(ms_locks_session_renew(l, S1, t + LEASE), -ESTALE);
	ms_locks_free(l);
}

static void test_locks_session_close_releases_everything(void)
{
	struct ms_locks *l = table();
	struct rfs_lock f = req(S1, 5, RFS_LOCK_RD, 0, RFS_LOCK_EOF);
	struct ms_locks_stats st;

	f.kind = RFS_LOCK_FLOCK;
	CU_ASSERT_EQUAL(ms_locks_set(l, &f, AFTER_GRACE, NULL), 0);
	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 0, 99), 0);
	f.ino = INO + 1;
	CU_ASSERT_EQUAL(ms_locks_set(l, &f, AFTER_GRACE, NULL), 0);
	ms_locks_stats(l, &st);
	CU_ASSERT_EQUAL(st.owners, 3);
	CU_ASSERT_EQUAL(st.inodes, 2);
	CU_ASSERT_EQUAL(ms_locks_session_close(l, S1), 0);
	CU_ASSERT_EQUAL(ms_locks_session_close(l, S1), -ESTALE);
	ms_locks_stats(l, &st);
	CU_ASSERT_EQUAL(st.owners, 0);
	CU_ASSERT_EQUAL(st.inodes, 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_WR, 0, RFS_LOCK_EOF), 0);
	ms_locks_free(l);
}

static void test_locks_lock_request_renews_lease(void)
{
	struct ms_locks *l = table();
	struct rfs_lock r = req(S1, 1, RFS_LOCK_RD, 0, 0);

	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), 0);
	r.start = r.end = 1;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE + LEASE - 1, NULL), 0);
	/* S2 was opened at T0 and never renewed */
	CU_ASSERT_EQUAL(ms_locks_tick(l, AFTER_GRACE + LEASE, true), 1);
	CU_ASSERT_EQUAL(ms_locks_session_renew(l, S1, AFTER_GRACE + LEASE), 0);
	ms_locks_free(l);
}

static void test_locks_reclaim_during_grace(void)
{
	struct ms_locks *l = table();
	struct rfs_lock r = req(S1, 1, RFS_LOCK_WR, 0, 99);
	int64_t left = 0;

	CU_ASSERT_TRUE(ms_locks_in_grace(l, T0 + 10, &left));
	CU_ASSERT_EQUAL(left, LEASE - 10);
	/* a new lock waits for the grace period to end */
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, T0 + 10, NULL), -EAGAIN);
	r.reclaim = true;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, T0 + 10, NULL), 0);
	/* another client's reclaim of an overlapping lock conflicts */
	r = req(S2, 2, RFS_LOCK_RD, 50, 50);
	r.reclaim = true;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, T0 + 20, NULL), -EBUSY);
	/* unlocks are always granted */
	r = req(S1, 1, RFS_LOCK_UN, 90, 99);
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, T0 + 30, NULL), 0);
	/* after the grace period a reclaim is refused: the lock is lost */
	CU_ASSERT_FALSE(ms_locks_in_grace(l, T0 + LEASE, NULL));
	r = req(S2, 2, RFS_LOCK_RD, 95, 95);
	r.reclaim = true;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, T0 + LEASE, NULL), -ENOLCK);
	r.reclaim = false;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, T0 + LEASE, NULL), 0);
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_RD, 50, 50), -EBUSY);
	ms_locks_free(l);
}

static void test_locks_not_serving_drops_all_and_restarts_grace(void)
{
	struct ms_locks *l = table();
	struct ms_locks_stats st;

	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 0, 99), 0);
	CU_ASSERT_EQUAL(ms_locks_tick(l, AFTER_GRACE, false), 2);
	ms_locks_stats(l, &st);
	CU_ASSERT_EQUAL(st.sessions, 0);
	CU_ASSERT_EQUAL(st.ranges, 0);
	CU_ASSERT_FALSE(ms_locks_in_grace(l, AFTER_GRACE, NULL));
	ms_locks_serving(l, AFTER_GRACE + 5);
	CU_ASSERT_TRUE(ms_locks_in_grace(l, AFTER_GRACE + 5, NULL));
	CU_ASSERT_TRUE(ms_locks_in_grace(l, AFTER_GRACE + 4 + LEASE, NULL));
	CU_ASSERT_FALSE(ms_locks_in_grace(l, AFTER_GRACE + 5 + LEASE, NULL));
	ms_locks_free(l);
}

static void test_locks_test_reports_other_owners_only(void)
{
	struct ms_locks *l = table();
	struct rfs_lock r = req(S1, 1, RFS_LOCK_WR, 0, RFS_LOCK_EOF);
	struct rfs_lock_range h;

	CU_ASSERT_EQUAL(set(l, S1, 1, RFS_LOCK_WR, 100, 199), 0);
	CU_ASSERT_EQUAL(ms_locks_test(l, &r, &h), 0);
	CU_ASSERT_EQUAL(h.type, RFS_LOCK_UN);
	r = req(S2, 2, RFS_LOCK_RD, 150, 150);
	CU_ASSERT_EQUAL(ms_locks_test(l, &r, &h), 0);
	CU_ASSERT_EQUAL(h.type, RFS_LOCK_WR);
	CU_ASSERT_EQUAL(h.start, 100);
	CU_ASSERT_EQUAL(h.end, 199);
	CU_ASSERT_EQUAL(h.pid, 1);
	/* testing changes nothing */
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_RD, 200, 200), 0);
	r = req(0x9999, 2, RFS_LOCK_RD, 0, 0);
	CU_ASSERT_EQUAL(ms_locks_test(l, &r, &h), -ESTALE);
	ms_locks_free(l);
}

static void test_locks_session_range_limit(void)
{
	struct ms_locks *l = table();
	struct rfs_lock r = req(S1, 1, RFS_LOCK_RD, 0, 0);
	uint64_t i;
	int rc = 0;

	/* one range on each of many files */
	for (i = 1; i <= MS_LOCKS_SESSION_RANGES_MAX && rc == 0; i++) {
		r.ino = i;
		rc = ms_locks_set(l, &r, AFTER_GRACE, NULL);
	}
	CU_ASSERT_EQUAL(rc, 0);
	r.ino = i;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), -ENOLCK);
	/* others are not limited by S1's locks */
	CU_ASSERT_EQUAL(set(l, S2, 2, RFS_LOCK_RD, 0, 0), 0);
	/* freeing one makes room again */
	r.ino = 1;
	r.type = RFS_LOCK_UN;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), 0);
	r.ino = i;
	r.type = RFS_LOCK_RD;
	CU_ASSERT_EQUAL(ms_locks_set(l, &r, AFTER_GRACE, NULL), 0);
	ms_locks_free(l);
}

/* --- wire codecs -------------------------------------------------------- */

static void test_proto_lock_round_trip(void)
{
	struct rfs_lock in = {.session = 0xfedcba9876543210ULL,
			      .ino = 7,
			      .kind = RFS_LOCK_FLOCK,
			      .owner = 0xffff888812345678ULL,
			      .type = RFS_LOCK_WR,
			      .start = 0,
			      .end = RFS_LOCK_EOF,
			      .pid = 4242,
			      .reclaim = true};
	struct rfs_lock out;
	char *buf = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(rfs_proto_lock_encode(&in, &buf, &len), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"kind\":\"flock\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"end\":\"ffffffffffffffff\""));
	CU_ASSERT_EQUAL(rfs_proto_lock_decode(buf, len, &out), 0);
	CU_ASSERT_EQUAL(out.session, in.session);
	CU_ASSERT_EQUAL(out.ino, in.ino);
	CU_ASSERT_EQUAL(out.kind, in.kind);
	CU_ASSERT_EQUAL(out.owner, in.owner);
	CU_ASSERT_EQUAL(out.type, in.type);
	CU_ASSERT_EQUAL(out.start, in.start);
	CU_ASSERT_EQUAL(out.end, in.end);
	CU_ASSERT_EQUAL(out.pid, in.pid);
	CU_ASSERT_EQUAL(out.reclaim, in.reclaim);
	free(buf);
}

static void test_proto_lock_session_round_trip(void)
{
	struct rfs_session in = {.id = 0x8000000000000001ULL,
				 .lease_ms = 30000};
	struct rfs_session out;
	char *buf = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(rfs_proto_session_encode(&in, &buf, &len), 0);
	CU_ASSERT_EQUAL(rfs_proto_session_decode(buf, len, &out), 0);
	CU_ASSERT_EQUAL(out.id, in.id);
	CU_ASSERT_EQUAL(out.lease_ms, in.lease_ms);
	free(buf);
	CU_ASSERT_EQUAL(rfs_proto_session_decode("{}", 2, &out), 0);
	CU_ASSERT_EQUAL(out.id, 0);
}

static void test_proto_lock_refuses_malformed(void)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"kind\":\"fcntl\"}",
	    "{\"type\":\"ex\"}",
	    "{\"type\":1}",
	    "{\"start\":5}",
	    "{\"start\":\"0000000000000005\",\"end\":\"0000000000000004\"}",
	    "{\"reclaim\":1}",
	    "{\"session\":\"12\"}",
	    "{\"pid\":-1}",
	    "{\"ino\":null}",
	    "{\"type\":\"rd\"",
	};
	struct rfs_lock l;
	struct rfs_lock bad_range = {.start = 2, .end = 1};
	char *buf = NULL;
	size_t len = 0;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&l, 0xa5, sizeof(l));
		CU_ASSERT_EQUAL(
		    rfs_proto_lock_decode(bad[i], strlen(bad[i]), &l), -EPROTO);
		CU_ASSERT_EQUAL(l.start, 0); /* zeroed on error */
	}
	CU_ASSERT_EQUAL(rfs_proto_lock_encode(&bad_range, &buf, &len), -EINVAL);
	bad_range.start = 0;
	bad_range.type = 9;
	CU_ASSERT_EQUAL(rfs_proto_lock_encode(&bad_range, &buf, &len), -EINVAL);
	CU_ASSERT_PTR_NULL(buf);
}

static const struct rfs_test lockrange_tests[] = {
    RFS_TEST(test_lockrange_merge_adjacent_and_overlapping),
    RFS_TEST(test_lockrange_split_on_unlock),
    RFS_TEST(test_lockrange_downgrade_middle),
    RFS_TEST(test_lockrange_conflict_rules),
    RFS_TEST(test_lockrange_refuses_bad_input_and_limit),
};

static const struct rfs_test locks_tests[] = {
    RFS_TEST(test_locks_read_locks_share),
    RFS_TEST(test_locks_write_conflicts_with_read_and_write),
    RFS_TEST(test_locks_adjacent_ranges_do_not_conflict),
    RFS_TEST(test_locks_split_on_unlock),
    RFS_TEST(test_locks_upgrade_and_downgrade),
    RFS_TEST(test_locks_flock_and_posix_are_independent),
    RFS_TEST(test_locks_refuses_malformed_requests),
    RFS_TEST(test_locks_release_on_session_expiry),
    RFS_TEST(test_locks_session_close_releases_everything),
    RFS_TEST(test_locks_lock_request_renews_lease),
    RFS_TEST(test_locks_reclaim_during_grace),
    RFS_TEST(test_locks_not_serving_drops_all_and_restarts_grace),
    RFS_TEST(test_locks_test_reports_other_owners_only),
    RFS_TEST(test_locks_session_range_limit),
};

static const struct rfs_test proto_lock_tests[] = {
    RFS_TEST(test_proto_lock_round_trip),
    RFS_TEST(test_proto_lock_session_round_trip),
    RFS_TEST(test_proto_lock_refuses_malformed),
};

int main(void)
{
	static const struct rfs_test_suite suites[] = {
	    {.name = "lockrange", RFS_TESTS(lockrange_tests)},
	    {.name = "locks", RFS_TESTS(locks_tests)},
	    {.name = "proto_lock", RFS_TESTS(proto_lock_tests)},
	};

	return rfs_test_run(suites, sizeof(suites) / sizeof(suites[0]));
}
