#include <config.h>
#include "chunkserver/reaper.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "common/log.h"

struct cs_reaper {
	cs_reaper_delete_fn del;
	void *del_arg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	/* under mu */
	struct rfs_inv_entry *queue; /* malloc'd, n_queued used */
	size_t n_queued;
	bool running; /* the thread holds a batch */
	bool stopping;
};

static int store_delete(void *arg, uint64_t chunk_id, uint32_t version)
{
	return cs_store_delete(arg, chunk_id, version);
}

/* Delete one batch; stops early when asked to. */
static void reap_batch(struct cs_reaper *r, const struct rfs_inv_entry *e,
		       size_t n)
{
	size_t deleted = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		bool stop;
		int rc;

		pthread_mutex_lock(&r->mu);
		stop = r->stopping;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		rc = r->del(r->del_arg, e[i].chunk_id, e[i].version);
		if (rc == 0)
			deleted++;
		else if (rc != -ENOENT && rc != -ESTALE)
			rfs_log_warn(NULL,
				     "msg=\"cannot delete replica\" "
				     "chunk=%016llx version=%u err=%s",
				     (unsigned long long)e[i].chunk_id,
				     e[i].version, rfs_errno_name(rc));
	}
	rfs_log_info(NULL,
		     "msg=\"deleted replicas the metaserver no longer "
		     "needs\" listed=%zu deleted=%zu%s",
		     n, deleted, i < n ? " stopped=true" : "");
}

static void *reaper_main(void *arg)
{
	struct cs_reaper *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct rfs_inv_entry *batch;
		size_t n;

		while (!r->stopping && r->n_queued == 0)
			pthread_cond_wait(&r->wake, &r->mu);
		if (r->stopping)
			break;
		batch = r->queue;
		n = r->n_queued;
		r->queue = NULL;
		r->n_queued = 0;
		r->running = true;
		pthread_mutex_unlock(&r->mu);
		reap_batch(r, batch, n);
		free(batch);
		pthread_mutex_lock(&r->mu);
		r->running = false;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int cs_reaper_start(const struct cs_reaper_opts *opts, struct cs_reaper **out)
{
	struct cs_reaper *r;
	int rc;

	if (!opts || (!opts->store && !opts->del))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->del = opts->del ? opts->del : store_delete;
	r->del_arg = opts->del ? opts->del_arg : opts->store;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->wake, NULL);
	rc = pthread_create(&r->thread, NULL, reaper_main, r);
	if (rc != 0) {
		pthread_cond_destroy(&r->wake);
		pthread_mutex_destroy(&r->mu);
		free(r);
		return -rc;
	}
	*out = r;
	return 0;
}

int cs_reaper_add(struct cs_reaper *r, struct rfs_inventory *del)
{
	int rc = 0;

	if (del->n == 0)
		return 0;
	pthread_mutex_lock(&r->mu);
	if (r->n_queued == 0) {
		free(r->queue);
		r->queue = del->entries;
		r->n_queued = del->n;
		del->entries = NULL;
		del->n = 0;
	} else if (r->n_queued + del->n > RFS_INVENTORY_MAX) {
		rc = -ENOMEM;
	} else {
		struct rfs_inv_entry *q =
		    realloc(r->queue, (r->n_queued + del->n) * sizeof(*q));

		if (!q) {
			rc = -ENOMEM;
		} else {
			memcpy(q + r->n_queued, del->entries,
			       del->n * sizeof(*q));
			r->queue = q;
			r->n_queued += del->n;
			free(del->entries);
			del->entries = NULL;
			del->n = 0;
		}
	}
	if (rc == 0)
		pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

bool cs_reaper_busy(struct cs_reaper *r)
{
	bool busy;

	pthread_mutex_lock(&r->mu);
	busy = r->running || r->n_queued > 0;
	pthread_mutex_unlock(&r->mu);
	return busy;
}

void cs_reaper_stop(struct cs_reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->mu);
	free(r->queue);
	free(r);
}
