/*
 * Unit tests for metaserver/cluster: heartbeats and up/down state, replica
 * choice for leases against the ring, layout ordering and status, over a
 * real fsm with registered servers. Times are passed in, so nothing here
 * sleeps.
 */
#include <config.h>
#include "metaserver/cluster.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ring.h"
#include "tests/unit/runner.h"

#define T_DOWN_MS  6000
#define T_NOW	   100000
#define T_CHUNK	   (1u << 20)
#define T_SERVERS  4
#define T_CHUNK_ID 42

static struct ms_fsm *new_fsm(int servers)
{
	struct ms_fsm_format fmt = {.chunk_size = T_CHUNK, .goal = 2};
	struct ms_fsm *fsm;
	int i;

	snprintf(fmt.fsid, sizeof(fmt.fsid), "%s",
		 "00000000-0000-4000-8000-000000000000");
	fsm = ms_fsm_new(&fmt);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fsm);
	for (i = 1; i <= servers; i++) {
		struct rfs_op op = {.type = RFS_OP_REGISTER};

		snprintf(op.server.id, sizeof(op.server.id), "cs%d", i);
		snprintf(op.server.addr, sizeof(op.server.addr),
			 "127.0.0.1:95%02d", i);
		snprintf(op.server.zone, sizeof(op.server.zone), "z%d", i);
		op.server.weight = 1;
		CU_ASSERT_EQUAL_FATAL(ms_fsm_apply(fsm, &op, NULL), 0);
	}
	return fsm;
}

static void beat(struct ms_cluster *c, const struct ms_fsm *fsm, const char *id,
		 int64_t now)
{
	struct rfs_server hb = {.used = 10, .capacity = 1000};

	snprintf(hb.id, sizeof(hb.id), "%s", id);
	CU_ASSERT_EQUAL(ms_cluster_heartbeat(c, fsm, &hb, now), 0);
}

static void beat_all(struct ms_cluster *c, const struct ms_fsm *fsm, int n,
		     int64_t now)
{
	char id[16];
	int i;

	for (i = 1; i <= n; i++) {
		snprintf(id, sizeof(id), "cs%d", i);
		beat(c, fsm, id, now);
	}
}

/* The ring's first r targets for chunk_id, computed independently. */
static size_t ring_targets(const struct ms_fsm *fsm, uint64_t chunk_id,
			   size_t r, const char **ids)
{
	struct rfs_ring_member m[T_SERVERS + 1];
	size_t idx[RFS_MAX_REPLICAS];
	size_t n = ms_fsm_server_count(fsm);
	struct rfs_ring *ring;
	size_t found;
	size_t i;

	CU_ASSERT_FATAL(n <= T_SERVERS + 1);
	for (i = 0; i < n; i++) {
		m[i].id = ms_fsm_server(fsm, i)->id;
		m[i].zone = ms_fsm_server(fsm, i)->zone;
		m[i].weight = ms_fsm_server(fsm, i)->weight;
	}
	ring = rfs_ring_new(m, n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	found = rfs_ring_lookup(ring, chunk_id, r, NULL, NULL, idx);
	for (i = 0; i < found; i++)
		ids[i] = ms_fsm_server(fsm, idx[i])->id;
	rfs_ring_free(ring);
	return found;
}

static void test_cluster_heartbeat_unknown_is_enoent(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct rfs_server hb = {.id = "nope"};

	CU_ASSERT_EQUAL(ms_cluster_heartbeat(c, fsm, &hb, T_NOW), -ENOENT);
	beat(c, fsm, "cs1", T_NOW);
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

static void test_cluster_down_after_silence(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);

	CU_ASSERT_FALSE(ms_cluster_is_up(c, fsm, "cs1", T_NOW));
	beat(c, fsm, "cs1", T_NOW);
	CU_ASSERT_TRUE(ms_cluster_is_up(c, fsm, "cs1", T_NOW));
	CU_ASSERT_TRUE(ms_cluster_is_up(c, fsm, "cs1", T_NOW + T_DOWN_MS - 1));
	CU_ASSERT_FALSE(ms_cluster_is_up(c, fsm, "cs1", T_NOW + T_DOWN_MS));
	CU_ASSERT_FALSE(ms_cluster_is_up(c, fsm, "cs2", T_NOW));
	CU_ASSERT_FALSE(ms_cluster_is_up(c, fsm, "nope", T_NOW));
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

/* What ms_cluster_watch reported, as "cs1:down:6000 cs1:up:0 ". */
static void watch_cb(void *arg, const char *id, bool up, int64_t age_ms)
{
	char *log = arg;
	size_t len = strlen(log);

	snprintf(log + len, 256 - len, "%s:%s:%lld ", id, up ? "up" : "down",
		 (long long)age_ms);
}

static void test_cluster_watch_reports_each_change_once(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	char log[256] = "";

	/* never heard from: nothing to report, up or down */
	ms_cluster_watch(c, T_NOW, watch_cb, log);
	beat(c, fsm, "cs1", T_NOW);
	beat(c, fsm, "cs2", T_NOW);
	ms_cluster_watch(c, T_NOW + T_DOWN_MS - 1, watch_cb, log);
	CU_ASSERT_STRING_EQUAL(log, "");
	beat(c, fsm, "cs2", T_NOW + T_DOWN_MS - 1);
	ms_cluster_watch(c, T_NOW + T_DOWN_MS, watch_cb, log);
	CU_ASSERT_STRING_EQUAL(log, "cs1:down:6000 ");
	ms_cluster_watch(c, T_NOW + 2 * T_DOWN_MS, watch_cb, log);
	CU_ASSERT_STRING_EQUAL(log, "cs1:down:6000 cs2:down:6001 ");
	beat(c, fsm, "cs1", T_NOW + 3 * T_DOWN_MS);
	ms_cluster_watch(c, T_NOW + 3 * T_DOWN_MS + 5, watch_cb, log);
	ms_cluster_watch(c, T_NOW + 3 * T_DOWN_MS + 6, watch_cb, log);
	CU_ASSERT_STRING_EQUAL(log, "cs1:down:6000 cs2:down:6001 cs1:up:5 ");
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

static void test_cluster_choose_new_chunk_follows_ring(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct rfs_replica out[RFS_MAX_REPLICAS];
	const char *want[RFS_MAX_REPLICAS];
	uint32_t n = 0;

	beat_all(c, fsm, T_SERVERS, T_NOW);
	CU_ASSERT_EQUAL_FATAL(ring_targets(fsm, T_CHUNK_ID, 2, want), 2);
	CU_ASSERT_EQUAL(
	    ms_cluster_choose(c, fsm, T_CHUNK_ID, NULL, 2, T_NOW, out, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(out[0].id, want[0]);
	CU_ASSERT_STRING_EQUAL(out[1].id, want[1]);
	CU_ASSERT_TRUE(out[0].up);
	CU_ASSERT_STRING_EQUAL(out[0].addr,
			       ms_fsm_server_find(fsm, want[0])->addr);
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

static void test_cluster_choose_skips_down_servers(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct rfs_replica out[RFS_MAX_REPLICAS];
	const char *want[RFS_MAX_REPLICAS];
	uint32_t n = 0;
	uint32_t i;

	CU_ASSERT_EQUAL_FATAL(ring_targets(fsm, T_CHUNK_ID, 3, want), 3);
	/* Everyone but the first target is heard from. */
	beat_all(c, fsm, T_SERVERS, T_NOW);
	beat(c, fsm, want[0], T_NOW - T_DOWN_MS);
	CU_ASSERT_EQUAL(
	    ms_cluster_choose(c, fsm, T_CHUNK_ID, NULL, 2, T_NOW, out, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	for (i = 0; i < n; i++)
		CU_ASSERT_STRING_NOT_EQUAL(out[i].id, want[0]);
	CU_ASSERT_STRING_EQUAL(out[0].id, want[1]);
	CU_ASSERT_STRING_EQUAL(out[1].id, want[2]);
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

static void test_cluster_choose_keeps_existing_replicas(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct rfs_replica out[RFS_MAX_REPLICAS];
	struct rfs_chunk existing = {.chunk_id = T_CHUNK_ID, .n_replicas = 2};
	const char *want[RFS_MAX_REPLICAS];
	uint32_t n = 0;

	CU_ASSERT_EQUAL_FATAL(ring_targets(fsm, T_CHUNK_ID, T_SERVERS, want),
			      T_SERVERS);
	/* Committed on the ring's last two choices; the last one is down. */
	snprintf(existing.replicas[0].id, sizeof(existing.replicas[0].id), "%s",
		 want[3]);
	snprintf(existing.replicas[1].id, sizeof(existing.replicas[1].id), "%s",
		 want[2]);
	beat_all(c, fsm, T_SERVERS, T_NOW);
	beat(c, fsm, want[2], T_NOW - T_DOWN_MS);
	CU_ASSERT_EQUAL(
	    ms_cluster_choose(c, fsm, T_CHUNK_ID, &existing, 2, T_NOW, out, &n),
	    0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(out[0].id, want[3]); /* existing, up */
	CU_ASSERT_STRING_EQUAL(out[1].id, want[0]); /* ring top-up */
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

static void test_cluster_choose_without_servers(void)
{
	struct ms_fsm *empty = new_fsm(0);
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct rfs_replica out[RFS_MAX_REPLICAS];
	uint32_t n = 0;

	CU_ASSERT_EQUAL(ms_cluster_choose(c, empty, 1, NULL, 2, T_NOW, out, &n),
			-ENOSPC);
	CU_ASSERT_EQUAL(ms_cluster_choose(c, fsm, 1, NULL, 2, T_NOW, out, &n),
			-EAGAIN);
	/* One server up: a lease with fewer replicas than the goal. */
	beat(c, fsm, "cs3", T_NOW);
	CU_ASSERT_EQUAL(ms_cluster_choose(c, fsm, 1, NULL, 2, T_NOW, out, &n),
			0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(out[0].id, "cs3");
	ms_cluster_free(c);
	ms_fsm_free(fsm);
	ms_fsm_free(empty);
}

static void test_cluster_ring_follows_registrations(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct rfs_op op = {.type = RFS_OP_REGISTER};
	struct rfs_replica out[RFS_MAX_REPLICAS];
	const char *want[RFS_MAX_REPLICAS];
	uint64_t id;
	uint32_t n = 0;

	beat_all(c, fsm, T_SERVERS, T_NOW);
	CU_ASSERT_EQUAL(ms_cluster_choose(c, fsm, 1, NULL, 2, T_NOW, out, &n),
			0);
	snprintf(op.server.id, sizeof(op.server.id), "cs%d", T_SERVERS + 1);
	snprintf(op.server.addr, sizeof(op.server.addr), "127.0.0.1:9599");
	op.server.weight = 1;
	CU_ASSERT_EQUAL_FATAL(ms_fsm_apply(fsm, &op, NULL), 0);
	beat_all(c, fsm, T_SERVERS + 1, T_NOW);
	/* Some chunk must now target the new server first. */
	for (id = 1; id < 1000; id++) {
		ring_targets(fsm, id, 1, want);
		if (strcmp(want[0], op.server.id) == 0)
			break;
	}
	CU_ASSERT_FATAL(id < 1000);
	CU_ASSERT_EQUAL(ms_cluster_choose(c, fsm, id, NULL, 1, T_NOW, out, &n),
			0);
	CU_ASSERT_STRING_EQUAL(out[0].id, op.server.id);
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

static void test_cluster_layout_up_replicas_first(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct rfs_chunk chunk = {.n_replicas = 4};
	struct rfs_layout l = {.chunks = &chunk, .n_chunks = 1};
	static const char *const order[] = {"cs1", "cs2", "cs3", "cs4"};
	int i;

	for (i = 0; i < 4; i++)
		snprintf(chunk.replicas[i].id, sizeof(chunk.replicas[i].id),
			 "%s", order[i]);
	beat(c, fsm, "cs2", T_NOW);
	beat(c, fsm, "cs4", T_NOW);
	CU_ASSERT_EQUAL(ms_cluster_mark_layout(c, fsm, &l, T_NOW), 0);
	CU_ASSERT_STRING_EQUAL(chunk.replicas[0].id, "cs2");
	CU_ASSERT_STRING_EQUAL(chunk.replicas[1].id, "cs4");
	CU_ASSERT_STRING_EQUAL(chunk.replicas[2].id, "cs1");
	CU_ASSERT_STRING_EQUAL(chunk.replicas[3].id, "cs3");
	CU_ASSERT_TRUE(chunk.replicas[0].up);
	CU_ASSERT_TRUE(chunk.replicas[1].up);
	CU_ASSERT_FALSE(chunk.replicas[2].up);
	CU_ASSERT_FALSE(chunk.replicas[3].up);
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

static void test_cluster_status_reports_state(void)
{
	struct ms_fsm *fsm = new_fsm(T_SERVERS);
	struct ms_cluster *c = ms_cluster_new(T_DOWN_MS);
	struct ms_cluster_totals t;
	struct rfs_status st;
	size_t i;

	beat(c, fsm, "cs1", T_NOW - 500);
	beat(c, fsm, "cs2", T_NOW - T_DOWN_MS - 1);
	CU_ASSERT_EQUAL_FATAL(ms_cluster_status(c, fsm, T_NOW, &st), 0);
	CU_ASSERT_EQUAL_FATAL(st.n_servers, T_SERVERS);
	CU_ASSERT_EQUAL(st.chunk_size, T_CHUNK);
	CU_ASSERT_EQUAL(st.inodes, 1);
	for (i = 0; i < st.n_servers; i++) {
		const struct rfs_server *s = &st.servers[i];

		if (strcmp(s->id, "cs1") == 0) {
			CU_ASSERT_EQUAL(s->state, RFS_SERVER_UP);
			CU_ASSERT_EQUAL(s->heartbeat_age_ms, 500);
			CU_ASSERT_EQUAL(s->used, 10);
		} else if (strcmp(s->id, "cs2") == 0) {
			CU_ASSERT_EQUAL(s->state, RFS_SERVER_DOWN);
		} else {
			CU_ASSERT_EQUAL(s->state, RFS_SERVER_DOWN);
			CU_ASSERT_EQUAL(s->heartbeat_age_ms, -1);
		}
	}
	rfs_proto_status_release(&st);
	CU_ASSERT_EQUAL(ms_cluster_totals(c, fsm, T_NOW, &t), 0);
	CU_ASSERT_EQUAL(t.servers, T_SERVERS);
	CU_ASSERT_EQUAL(t.up, 1);
	ms_cluster_free(c);
	ms_fsm_free(fsm);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_cluster_heartbeat_unknown_is_enoent),
	    RFS_TEST(test_cluster_down_after_silence),
	    RFS_TEST(test_cluster_watch_reports_each_change_once),
	    RFS_TEST(test_cluster_choose_new_chunk_follows_ring),
	    RFS_TEST(test_cluster_choose_skips_down_servers),
	    RFS_TEST(test_cluster_choose_keeps_existing_replicas),
	    RFS_TEST(test_cluster_choose_without_servers),
	    RFS_TEST(test_cluster_ring_follows_registrations),
	    RFS_TEST(test_cluster_layout_up_replicas_first),
	    RFS_TEST(test_cluster_status_reports_state),
	};
	static const struct rfs_test_suite suite = {
	    .name = "cluster",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
