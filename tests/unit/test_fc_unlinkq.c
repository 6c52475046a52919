/*
 * The mount's pipelined unlinks (fuse-client/unlinkq.c), with a fake
 * unlink function: every entry runs once, drain waits for running ones,
 * name and parent look-ups, the bound on the queue, error counting, the
 * idle callback once a parent's last unlink is done, and that freeing the
 * queue runs what is left.
 */
#include <config.h>
#include "fuse-client/unlinkq.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "common/proto.h"
#include "tests/unit/runner.h"

#define N_NAMES 300
/* Time given to a thread that must stay blocked (not a limit: a slow
 * machine only makes the check weaker). */
#define SETTLE_US 50000

/* The fake unlink: counts calls per name "nI", fails names "bad..." with
 * -EIO and "gone..." with -ENOENT, and blocks while the gate is shut. */
struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool shut;
	int running;
	int calls[N_NAMES];
	int other_calls;
	uint64_t last_parent;
	/* idle calls per parent 1..2, and the calls done in that parent
	 * when its idle came */
	int idle[3];
	int done_at_idle[3];
	int done[3];
};

static void fake_init(struct fake *f, bool shut)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	f->shut = shut;
}

static void fake_destroy(struct fake *f)
{
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
}

static void fake_open(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	f->shut = false;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Wait until n calls are inside the fake. */
static void fake_wait_running(struct fake *f, int n)
{
	pthread_mutex_lock(&f->mu);
	while (f->running < n)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

/* I of a name "nI" in range, else -1. */
static int name_index(const char *name)
{
	char *end = NULL;
	long v;

	if (name[0] != 'n')
		return -1;
	v = strtol(name + 1, &end, 10);
	if (end == name + 1 || *end != '\0' || v < 0 || v >= N_NAMES)
		return -1;
	return (int)v;
}

static int fake_unlink(void *arg, uint64_t parent, const char *name)
{
	struct fake *f = arg;
	int rc = 0;

	pthread_mutex_lock(&f->mu);
	f->running++;
	pthread_cond_broadcast(&f->cv);
	while (f->shut)
		pthread_cond_wait(&f->cv, &f->mu);
	f->running--;
	f->last_parent = parent;
	if (parent < 3)
		f->done[parent]++;
	if (name_index(name) >= 0)
		f->calls[name_index(name)]++;
	else
		f->other_calls++;
	pthread_mutex_unlock(&f->mu);
	if (strncmp(name, "bad", 3) == 0)
		rc = -EIO;
	else if (strncmp(name, "gone", 4) == 0)
		rc = -ENOENT;
	return rc;
}

/* The fake idle callback: the idle fake of the queue in the tests below. */
static struct fake *idle_fake;

static void fake_idle(void *arg, uint64_t parent)
{
	struct fake *f = idle_fake;

	(void)arg;
	pthread_mutex_lock(&f->mu);
	if (parent < 3) {
		f->idle[parent]++;
		f->done_at_idle[parent] = f->done[parent];
	}
	pthread_mutex_unlock(&f->mu);
}

static void push_n(struct fc_unlinkq *q, uint64_t parent, int n)
{
	char name[16];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		CU_ASSERT_EQUAL(fc_unlinkq_push(q, parent, name), 0);
	}
}

static void test_fc_unlinkq_runs_each_entry_once(void)
{
	struct fc_unlinkq *q = NULL;
	struct fake f;
	int i;

	fake_init(&f, false);
	CU_ASSERT_EQUAL_FATAL(
	    fc_unlinkq_new(fake_unlink, &f, FC_UNLINKQ_THREADS, &q), 0);
	/* more than the queue holds: pushes wait for room */
	push_n(q, 7, N_NAMES);
	fc_unlinkq_drain(q);
	for (i = 0; i < N_NAMES; i++)
		CU_ASSERT_EQUAL(f.calls[i], 1);
	CU_ASSERT_EQUAL(f.other_calls, 0);
	CU_ASSERT_EQUAL(f.last_parent, 7);
	CU_ASSERT_FALSE(fc_unlinkq_pending(q, 7, "n0"));
	CU_ASSERT_EQUAL(fc_unlinkq_errors(q), 0);
	fc_unlinkq_free(q);
	fake_destroy(&f);
}

static void test_fc_unlinkq_rejects_bad_args(void)
{
	struct fc_unlinkq *q = NULL;
	struct fake f;
	char name[RFS_NAME_MAX + 2];

	fake_init(&f, false);
	CU_ASSERT_EQUAL(fc_unlinkq_new(NULL, &f, 1, &q), -EINVAL);
	CU_ASSERT_EQUAL(fc_unlinkq_new(fake_unlink, &f, 0, &q), -EINVAL);
	CU_ASSERT_EQUAL(
	    fc_unlinkq_new(fake_unlink, &f, FC_UNLINKQ_THREADS + 1, &q),
	    -EINVAL);
	CU_ASSERT_EQUAL_FATAL(fc_unlinkq_new(fake_unlink, &f, 1, &q), 0);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 1, name), -ENAMETOOLONG);
	/* nothing queued, nothing started: these return at once */
	fc_unlinkq_drain(q);
	fc_unlinkq_drain_name(q, 1, "x");
	fc_unlinkq_free(q);
	CU_ASSERT_EQUAL(f.other_calls, 0);
	/* NULL queue: no-ops */
	fc_unlinkq_drain(NULL);
	fc_unlinkq_free(NULL);
	CU_ASSERT_FALSE(fc_unlinkq_pending(NULL, 1, "x"));
	fake_destroy(&f);
}

struct drainer {
	struct fc_unlinkq *q;
	uint64_t parent; /* 0: drain all, else drain (parent, name) */
	const char *name;
	atomic_bool done;
};

static void *drainer_main(void *arg)
{
	struct drainer *d = arg;

	if (d->parent)
		fc_unlinkq_drain_name(d->q, d->parent, d->name);
	else
		fc_unlinkq_drain(d->q);
	atomic_store(&d->done, true);
	return NULL;
}

static void test_fc_unlinkq_drain_waits_for_running(void)
{
	struct fc_unlinkq *q = NULL;
	struct drainer d = {0};
	pthread_t t;
	struct fake f;

	fake_init(&f, true);
	CU_ASSERT_EQUAL_FATAL(fc_unlinkq_new(fake_unlink, &f, 2, &q), 0);
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 3, "n1"), 0);
	fake_wait_running(&f, 1); /* taken by a worker: in flight */
	CU_ASSERT_TRUE(fc_unlinkq_pending(q, 3, "n1"));
	d.q = q;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, drainer_main, &d), 0);
	usleep(SETTLE_US);
	CU_ASSERT_FALSE(atomic_load(&d.done));
	CU_ASSERT_EQUAL(f.calls[1], 0);
	fake_open(&f);
	pthread_join(t, NULL);
	CU_ASSERT_TRUE(atomic_load(&d.done));
	CU_ASSERT_EQUAL(f.calls[1], 1);
	CU_ASSERT_FALSE(fc_unlinkq_pending(q, 3, "n1"));
	fc_unlinkq_free(q);
	fake_destroy(&f);
}

static void test_fc_unlinkq_pending_by_name_and_parent(void)
{
	struct fc_unlinkq *q = NULL;
	struct drainer d = {0};
	int64_t newest = 0;
	pthread_t t;
	struct fake f;

	fake_init(&f, true);
	CU_ASSERT_EQUAL_FATAL(fc_unlinkq_new(fake_unlink, &f, 1, &q), 0);
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 1, "n1"), 0); /* runs, blocked */
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 2, "n2"), 0); /* queued */
	fake_wait_running(&f, 1);
	CU_ASSERT_TRUE(fc_unlinkq_pending(q, 1, "n1"));
	CU_ASSERT_TRUE(fc_unlinkq_pending(q, 2, "n2"));
	CU_ASSERT_FALSE(fc_unlinkq_pending(q, 1, "n2"));
	CU_ASSERT_FALSE(fc_unlinkq_pending(q, 2, "n1"));
	CU_ASSERT_FALSE(fc_unlinkq_pending(q, 1, "n"));
	CU_ASSERT_TRUE(fc_unlinkq_parent_pending(q, 2, &newest));
	CU_ASSERT_TRUE(newest > 0);
	CU_ASSERT_FALSE(fc_unlinkq_parent_pending(q, 9, NULL));
	/* an unrelated name does not wait */
	fc_unlinkq_drain_name(q, 1, "other");
	/* a queued one does, until it ran */
	d.q = q;
	d.parent = 2;
	d.name = "n2";
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, drainer_main, &d), 0);
	usleep(SETTLE_US);
	CU_ASSERT_FALSE(atomic_load(&d.done));
	fake_open(&f);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(f.calls[2], 1);
	fc_unlinkq_drain(q);
	CU_ASSERT_FALSE(fc_unlinkq_parent_pending(q, 1, NULL));
	CU_ASSERT_FALSE(fc_unlinkq_parent_pending(q, 2, NULL));
	fc_unlinkq_free(q);
	fake_destroy(&f);
}

struct pusher {
	struct fc_unlinkq *q;
	atomic_bool done;
	int rc;
};

static void *pusher_main(void *arg)
{
	struct pusher *p = arg;

	p->rc = fc_unlinkq_push(p->q, 5, "n299");
	atomic_store(&p->done, true);
	return NULL;
}

static void test_fc_unlinkq_full_push_blocks_then_resumes(void)
{
	struct fc_unlinkq *q = NULL;
	struct pusher p = {0};
	pthread_t t;
	struct fake f;
	int i;

	fake_init(&f, true);
	CU_ASSERT_EQUAL_FATAL(fc_unlinkq_new(fake_unlink, &f, 2, &q), 0);
	push_n(q, 5, FC_UNLINKQ_CAP); /* 2 running (blocked), the rest queued */
	fake_wait_running(&f, 2);
	p.q = q;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, pusher_main, &p), 0);
	usleep(SETTLE_US);
	CU_ASSERT_FALSE(atomic_load(&p.done));
	CU_ASSERT_FALSE(fc_unlinkq_pending(q, 5, "n299"));
	fake_open(&f);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(p.rc, 0);
	fc_unlinkq_drain(q);
	for (i = 0; i < FC_UNLINKQ_CAP; i++)
		CU_ASSERT_EQUAL(f.calls[i], 1);
	CU_ASSERT_EQUAL(f.calls[299], 1);
	fc_unlinkq_free(q);
	fake_destroy(&f);
}

static void test_fc_unlinkq_counts_errors_but_not_enoent(void)
{
	struct fc_unlinkq *q = NULL;
	struct fake f;

	fake_init(&f, false);
	CU_ASSERT_EQUAL_FATAL(fc_unlinkq_new(fake_unlink, &f, 4, &q), 0);
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 1, "bad1"), 0);
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 1, "gone1"), 0);
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 1, "bad2"), 0);
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 1, "n3"), 0);
	CU_ASSERT_EQUAL(fc_unlinkq_push(q, 1, "gone2"), 0);
	fc_unlinkq_drain(q);
	CU_ASSERT_EQUAL(fc_unlinkq_errors(q), 2);
	CU_ASSERT_EQUAL(f.other_calls, 4);
	CU_ASSERT_EQUAL(f.calls[3], 1);
	fc_unlinkq_free(q);
	fake_destroy(&f);
}

static void *opener_main(void *arg)
{
	struct fake *f = arg;

	fake_wait_running(f, 1);
	fake_open(f);
	return NULL;
}

static void test_fc_unlinkq_free_runs_what_is_queued(void)
{
	struct fc_unlinkq *q = NULL;
	pthread_t t;
	struct fake f;
	int i;

	fake_init(&f, true);
	CU_ASSERT_EQUAL_FATAL(fc_unlinkq_new(fake_unlink, &f, 3, &q), 0);
	push_n(q, 4, 40);
	/* the gate opens while free waits for the workers */
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, opener_main, &f), 0);
	fc_unlinkq_free(q);
	pthread_join(t, NULL);
	for (i = 0; i < 40; i++)
		CU_ASSERT_EQUAL(f.calls[i], 1);
	CU_ASSERT_EQUAL(f.calls[40], 0);
	fake_destroy(&f);
}

/* Entries queued in two parents while the workers are held: each
 * parent's idle comes once, after all of its unlinks, before drain
 * returns; none after it is turned off. */
static void test_fc_unlinkq_idle_after_parents_last(void)
{
	struct fc_unlinkq *q = NULL;
	struct fake f;

	fake_init(&f, true);
	idle_fake = &f;
	CU_ASSERT_EQUAL_FATAL(
	    fc_unlinkq_new(fake_unlink, &f, FC_UNLINKQ_THREADS, &q), 0);
	fc_unlinkq_set_idle(q, fake_idle);
	push_n(q, 1, 20);
	push_n(q, 2, 30);
	fake_wait_running(&f, FC_UNLINKQ_THREADS);
	CU_ASSERT_EQUAL(f.idle[1] + f.idle[2], 0);
	fake_open(&f);
	fc_unlinkq_drain(q);
	pthread_mutex_lock(&f.mu);
	CU_ASSERT_EQUAL(f.idle[1], 1);
	CU_ASSERT_EQUAL(f.idle[2], 1);
	CU_ASSERT_EQUAL(f.done_at_idle[1], 20);
	CU_ASSERT_EQUAL(f.done_at_idle[2], 30);
	pthread_mutex_unlock(&f.mu);
	fc_unlinkq_set_idle(q, NULL);
	push_n(q, 1, 5);
	fc_unlinkq_drain(q);
	CU_ASSERT_EQUAL(f.idle[1], 1);
	fc_unlinkq_free(q);
	fake_destroy(&f);
}

static const struct rfs_test unlinkq_tests[] = {
    RFS_TEST(test_fc_unlinkq_runs_each_entry_once),
    RFS_TEST(test_fc_unlinkq_rejects_bad_args),
    RFS_TEST(test_fc_unlinkq_drain_waits_for_running),
    RFS_TEST(test_fc_unlinkq_pending_by_name_and_parent),
    RFS_TEST(test_fc_unlinkq_full_push_blocks_then_resumes),
    RFS_TEST(test_fc_unlinkq_counts_errors_but_not_enoent),
    RFS_TEST(test_fc_unlinkq_free_runs_what_is_queued),
    RFS_TEST(test_fc_unlinkq_idle_after_parents_last),
};

static const struct rfs_test_suite suites[] = {
    {.name = "fc_unlinkq", RFS_TESTS(unlinkq_tests)},
};

int main(void)
{
	return rfs_test_run(suites, sizeof(suites) / sizeof(suites[0]));
}
