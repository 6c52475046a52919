/*
 * unlinkq: pipelined unlinks (unlinkq.h). A fixed table of
 * FC_UNLINKQ_CAP slots, each free, queued or running; workers take the
 * oldest queued slot (by push sequence). Lookups by name and by parent
 * are linear scans of the table: it is small.
 */
#include <config.h>

#include "fuse-client/unlinkq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/proto.h"

enum fc_uq_state { FC_UQ_FREE, FC_UQ_QUEUED, FC_UQ_RUNNING };

struct fc_uq_slot {
	enum fc_uq_state state;
	uint64_t seq; /* push order */
	uint64_t parent;
	int64_t pushed_ns; /* CLOCK_REALTIME */
	char name[RFS_NAME_MAX + 1];
};

struct fc_unlinkq {
	pthread_mutex_t mu;
	pthread_cond_t work; /* workers: a slot was queued, or stop */
	pthread_cond_t done; /* pushers, drainers: a slot was freed */
	fc_unlinkq_fn fn;
	fc_unlinkq_idle_fn idle; /* may be NULL */
	void *arg;
	unsigned int n_threads;
	unsigned int started; /* threads running */
	bool stop;
	unsigned int n_queued;
	unsigned int n_busy; /* queued + running */
	uint64_t seq;
	uint64_t errors;
	struct fc_uq_slot slot[FC_UNLINKQ_CAP];
	pthread_t thread[FC_UNLINKQ_THREADS];
};

int fc_unlinkq_new(fc_unlinkq_fn fn, void *arg, unsigned int n_threads,
		   struct fc_unlinkq **out)
{
	struct fc_unlinkq *q;

	if (!fn || n_threads == 0 || n_threads > FC_UNLINKQ_THREADS)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->done, NULL);
	q->fn = fn;
	q->arg = arg;
	q->n_threads = n_threads;
	*out = q;
	return 0;
}

void fc_unlinkq_set_idle(struct fc_unlinkq *q, fc_unlinkq_idle_fn idle)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->idle = idle;
	pthread_mutex_unlock(&q->mu);
}

/* The oldest queued slot. Under q->mu, with q->n_queued > 0. */
static struct fc_uq_slot *oldest_queued(struct fc_unlinkq *q)
{
	struct fc_uq_slot *best = NULL;
	size_t i;

	for (i = 0; i < FC_UNLINKQ_CAP; i++) {
		struct fc_uq_slot *s = &q->slot[i];

		if (s->state == FC_UQ_QUEUED && (!best || s->seq < best->seq))
			best = s;
	}
	return best;
}

/* Is another slot than s queued or running in s's parent? Under q->mu. */
static bool parent_busy_besides(struct fc_unlinkq *q,
				const struct fc_uq_slot *s)
{
	size_t i;

	for (i = 0; i < FC_UNLINKQ_CAP; i++)
		if (&q->slot[i] != s && q->slot[i].state != FC_UQ_FREE &&
		    q->slot[i].parent == s->parent)
			return true;
	return false;
}

static void run_slot(struct fc_unlinkq *q, struct fc_uq_slot *s)
{
	fc_unlinkq_idle_fn idle;
	int rc;

	/* the slot is ours while running: nobody else writes it */
	pthread_mutex_unlock(&q->mu);
	rc = q->fn(q->arg, s->parent, s->name);
	if (rc < 0 && rc != -ENOENT)
		rfs_log_warn(NULL,
			     "msg=\"background unlink failed\" parent=%llu "
			     "name=\"%s\" err=%s",
			     (unsigned long long)s->parent, s->name,
			     strerror(-rc));
	pthread_mutex_lock(&q->mu);
	if (rc < 0 && rc != -ENOENT)
		q->errors++;
	/* before the slot is free, so a drain returns after it */
	idle = q->idle;
	if (idle && !parent_busy_besides(q, s)) {
		pthread_mutex_unlock(&q->mu);
		idle(q->arg, s->parent);
		pthread_mutex_lock(&q->mu);
	}
	s->state = FC_UQ_FREE;
	q->n_busy--;
	pthread_cond_broadcast(&q->done);
}

/* Stops only when asked and nothing is queued: stopping drains. */
static void *worker_main(void *arg)
{
	struct fc_unlinkq *q = arg;
	struct fc_uq_slot *s;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->n_queued == 0 && !q->stop)
			pthread_cond_wait(&q->work, &q->mu);
		if (q->n_queued == 0)
			break;
		s = oldest_queued(q);
		s->state = FC_UQ_RUNNING;
		q->n_queued--;
		run_slot(q, s);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

void fc_unlinkq_free(struct fc_unlinkq *q)
{
	unsigned int i;

	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->work);
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < q->started; i++)
		pthread_join(q->thread[i], NULL);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->work);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Start the workers not running yet. Under q->mu. 0 when at least one
 * runs, else the error of the first start. */
static int start_workers(struct fc_unlinkq *q)
{
	int rc = 0;

	while (q->started < q->n_threads) {
		rc = -pthread_create(&q->thread[q->started], NULL, worker_main,
				     q);
		if (rc < 0)
			break;
		q->started++;
	}
	if (q->started == 0)
		return rc;
	if (rc < 0)
		rfs_log_warn(NULL,
			     "msg=\"fewer unlink threads\" threads=%u err=%s",
			     q->started, strerror(-rc));
	q->n_threads = q->started; /* no more tries */
	return 0;
}

int fc_unlinkq_push(struct fc_unlinkq *q, uint64_t parent, const char *name)
{
	size_t len = strlen(name);
	struct fc_uq_slot *s = NULL;
	size_t i;
	int rc;

	if (len > RFS_NAME_MAX)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&q->mu);
	rc = q->started < q->n_threads ? start_workers(q) : 0;
	if (rc < 0)
		goto out_unlock;
	while (q->n_busy == FC_UNLINKQ_CAP)
		pthread_cond_wait(&q->done, &q->mu);
	for (i = 0; !s; i++)
		if (q->slot[i].state == FC_UQ_FREE)
			s = &q->slot[i];
	s->state = FC_UQ_QUEUED;
	s->seq = q->seq++;
	s->parent = parent;
	s->pushed_ns = rfs_wall_ns();
	memcpy(s->name, name, len + 1);
	q->n_queued++;
	q->n_busy++;
	pthread_cond_signal(&q->work);
out_unlock:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void fc_unlinkq_drain(struct fc_unlinkq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	while (q->n_busy > 0)
		pthread_cond_wait(&q->done, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

/* Under q->mu. */
static bool name_pending(const struct fc_unlinkq *q, uint64_t parent,
			 const char *name)
{
	size_t i;

	if (q->n_busy == 0)
		return false;
	for (i = 0; i < FC_UNLINKQ_CAP; i++) {
		const struct fc_uq_slot *s = &q->slot[i];

		if (s->state != FC_UQ_FREE && s->parent == parent &&
		    strcmp(s->name, name) == 0)
			return true;
	}
	return false;
}

bool fc_unlinkq_pending(struct fc_unlinkq *q, uint64_t parent, const char *name)
{
	bool pending;

	if (!q)
		return false;
	pthread_mutex_lock(&q->mu);
	pending = name_pending(q, parent, name);
	pthread_mutex_unlock(&q->mu);
	return pending;
}

void fc_unlinkq_drain_name(struct fc_unlinkq *q, uint64_t parent,
			   const char *name)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	while (name_pending(q, parent, name))
		pthread_cond_wait(&q->done, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

bool fc_unlinkq_parent_pending(struct fc_unlinkq *q, uint64_t parent,
			       int64_t *newest_ns)
{
	bool found = false;
	int64_t newest = 0;
	size_t i;

	if (!q)
		return false;
	pthread_mutex_lock(&q->mu);
	for (i = 0; q->n_busy > 0 && i < FC_UNLINKQ_CAP; i++) {
		const struct fc_uq_slot *s = &q->slot[i];

		if (s->state == FC_UQ_FREE || s->parent != parent)
			continue;
		found = true;
		if (s->pushed_ns > newest)
			newest = s->pushed_ns;
	}
	pthread_mutex_unlock(&q->mu);
	if (found && newest_ns)
		*newest_ns = newest;
	return found;
}

uint64_t fc_unlinkq_errors(struct fc_unlinkq *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->mu);
	n = q->errors;
	pthread_mutex_unlock(&q->mu);
	return n;
}
