#include <config.h>
#include "chunkserver/reaper.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/log.h"
#include "tests/unit/runner.h"
#include "tests/unit/store_test_util.h"

/* A hang guard for waits on the reaper thread, not a timing assertion. */
#define WAIT_POLLS 60000 /* of 1 ms */

/* Wait until the reaper has nothing queued or running; false on hang. */
static bool wait_idle(struct cs_reaper *r)
{
	for (int i = 0; i < WAIT_POLLS; i++) {
		if (!cs_reaper_busy(r))
			return true;
		usleep(1000);
	}
	return false;
}

/* An inventory listing n entries of ids[] at versions vers[] (asserted). */
static void make_list(struct rfs_inventory *inv, const uint64_t *ids,
		      const uint32_t *vers, size_t n)
{
	memset(inv, 0, sizeof(*inv));
	inv->entries = calloc(n, sizeof(*inv->entries));
	CU_ASSERT_PTR_NOT_NULL_FATAL(inv->entries);
	for (size_t i = 0; i < n; i++) {
		inv->entries[i].chunk_id = ids[i];
		inv->entries[i].version = vers[i];
	}
	inv->n = n;
}

/* Whether the store holds version ver of chunk id. */
static bool holds(struct cs_store *st, uint64_t id, uint32_t ver)
{
	struct rfs_inventory inv;
	bool found = false;

	CU_ASSERT_EQUAL_FATAL(cs_store_inventory(st, &inv), 0);
	for (size_t i = 0; i < inv.n; i++)
		found = found || (inv.entries[i].chunk_id == id &&
				  inv.entries[i].version == ver);
	rfs_proto_inventory_release(&inv);
	return found;
}

/* The real store: exactly the listed versions go, the rest stay. */
static void test_reaper_deletes_listed_versions(void)
{
	static const uint64_t ids[] = {CHUNK_A, CHUNK_B, CHUNK_C};
	static const uint32_t vers[] = {1, 1, 7};
	uint8_t *data = st_random_buf(2 * BLK, 3);
	struct cs_reaper *r = NULL;
	struct rfs_inventory del;
	struct cs_store *st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	st_clean_dirs();
	st = st_open_one();
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 1, data, 2 * BLK), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_A, 2, data, BLK), 0);
	CU_ASSERT_EQUAL(st_put(st, CHUNK_B, 1, data, BLK), 0);
	CU_ASSERT_EQUAL_FATAL(
	    cs_reaper_start(&(struct cs_reaper_opts){.store = st}, &r), 0);
	/* CHUNK_C is not held at all: skipped without harm */
	make_list(&del, ids, vers, 3);
	CU_ASSERT_EQUAL(cs_reaper_add(r, &del), 0);
	CU_ASSERT_EQUAL(del.n, 0);
	rfs_proto_inventory_release(&del);
	CU_ASSERT_FATAL(wait_idle(r));
	CU_ASSERT_FALSE(holds(st, CHUNK_A, 1));
	CU_ASSERT_TRUE(holds(st, CHUNK_A, 2));
	CU_ASSERT_FALSE(holds(st, CHUNK_B, 1));
	st_check_chunk(st, CHUNK_A, 2, data, BLK);
	/* nothing to delete is no work */
	memset(&del, 0, sizeof(del));
	CU_ASSERT_EQUAL(cs_reaper_add(r, &del), 0);
	CU_ASSERT_FALSE(cs_reaper_busy(r));
	cs_reaper_stop(r);
	cs_store_close(st);
	free(data);
}

/* A delete function that blocks its first call until released. */
struct slow_del {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered; /* the first call is waiting */
	bool open;    /* the first call may return */
	uint64_t seen[16];
	size_t n_seen;
};

static int slow_delete(void *arg, uint64_t chunk_id, uint32_t version)
{
	struct slow_del *s = arg;

	(void)version;
	pthread_mutex_lock(&s->mu);
	if (s->n_seen < sizeof(s->seen) / sizeof(s->seen[0]))
		s->seen[s->n_seen] = chunk_id;
	s->n_seen++;
	s->entered = true;
	pthread_cond_broadcast(&s->cv);
	while (!s->open)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/*
 * The point of the reaper: lists are queued while a deletion blocks (the
 * caller, the metaclient thread, goes on heartbeating), then deleted in
 * the order they came, both when a batch is taken whole and when one is
 * appended to another.
 */
static void test_reaper_add_does_not_wait_for_deletes(void)
{
	static const uint64_t ids[] = {1, 2, 3, 4, 5};
	static const uint32_t vers[] = {1, 1, 1, 1, 1};
	struct slow_del s = {.n_seen = 0};
	struct cs_reaper_opts opts = {.del = slow_delete, .del_arg = &s};
	struct cs_reaper *r = NULL;
	struct rfs_inventory del;

	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	CU_ASSERT_EQUAL_FATAL(cs_reaper_start(&opts, &r), 0);
	make_list(&del, ids, vers, 2);
	CU_ASSERT_EQUAL(cs_reaper_add(r, &del), 0);
	rfs_proto_inventory_release(&del);
	pthread_mutex_lock(&s.mu);
	while (!s.entered)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);
	/* the first deletion blocks; these return all the same */
	make_list(&del, ids + 2, vers, 1);
	CU_ASSERT_EQUAL(cs_reaper_add(r, &del), 0);
	rfs_proto_inventory_release(&del);
	make_list(&del, ids + 3, vers, 2);
	CU_ASSERT_EQUAL(cs_reaper_add(r, &del), 0);
	CU_ASSERT_EQUAL(del.n, 0);
	rfs_proto_inventory_release(&del);
	CU_ASSERT_TRUE(cs_reaper_busy(r));
	pthread_mutex_lock(&s.mu);
	CU_ASSERT_EQUAL(s.n_seen, 1);
	s.open = true;
	pthread_cond_broadcast(&s.cv);
	pthread_mutex_unlock(&s.mu);
	CU_ASSERT_FATAL(wait_idle(r));
	CU_ASSERT_EQUAL_FATAL(s.n_seen, 5);
	for (size_t i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(s.seen[i], ids[i]);
	cs_reaper_stop(r);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
}

static void test_reaper_refuses_bad_options(void)
{
	struct cs_reaper *r = NULL;

	CU_ASSERT_EQUAL(cs_reaper_start(&(struct cs_reaper_opts){0}, &r),
			-EINVAL);
	CU_ASSERT_EQUAL(cs_reaper_start(NULL, &r), -EINVAL);
	CU_ASSERT_PTR_NULL(r);
	cs_reaper_stop(NULL);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_reaper_deletes_listed_versions),
	    RFS_TEST(test_reaper_add_does_not_wait_for_deletes),
	    RFS_TEST(test_reaper_refuses_bad_options),
	};
	static const struct rfs_test_suite suite = {
	    .name = "reaper",
	    RFS_TESTS(tests),
	    .init = st_setup,
	    .cleanup = st_teardown,
	};

	rfs_log_setup("test_reaper", RFS_LOG_ERROR);
	return rfs_test_run(&suite, 1);
}
