#include <config.h>
#include "fuse-client/dcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

struct dcache_slot {
	bool used;
	int64_t expires_ns;
	struct rfs_attr attr;
};

struct fc_dcache {
	pthread_mutex_t mu;
	size_t n_slots;
	int64_t ttl_ns;
	struct dcache_slot *slots;
};

int fc_dcache_new(size_t slots, double ttl_s, struct fc_dcache **out)
{
	struct fc_dcache *d;

	if (slots == 0)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->slots = calloc(slots, sizeof(*d->slots));
	if (d->slots == NULL) {
		free(d);
		return -ENOMEM;
	}
	pthread_mutex_init(&d->mu, NULL);
	d->n_slots = slots;
	d->ttl_ns = ttl_s > 0 ? (int64_t)(ttl_s * 1e9) : 0;
	*out = d;
	return 0;
}

void fc_dcache_free(struct fc_dcache *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->mu);
	free(d->slots);
	free(d);
}

static struct dcache_slot *dcache_slot(struct fc_dcache *d, uint64_t ino)
{
	return &d->slots[ino % d->n_slots];
}

void fc_dcache_put(struct fc_dcache *d, const struct rfs_attr *a,
		   int64_t now_ns)
{
	struct dcache_slot *s;

	if (d == NULL || d->ttl_ns == 0 || !S_ISDIR(a->mode))
		return;
	pthread_mutex_lock(&d->mu);
	s = dcache_slot(d, a->ino);
	/* a reply that overtook this one already stored newer attributes */
	if (!(s->used && s->attr.ino == a->ino && s->expires_ns > now_ns &&
	      s->attr.ctime_ns > a->ctime_ns)) {
		s->used = true;
		s->attr = *a;
		s->expires_ns = now_ns + d->ttl_ns;
	}
	pthread_mutex_unlock(&d->mu);
}

bool fc_dcache_get(struct fc_dcache *d, uint64_t ino, int64_t now_ns,
		   struct rfs_attr *out, double *left_s)
{
	struct dcache_slot *s;
	bool hit;

	if (d == NULL)
		return false;
	pthread_mutex_lock(&d->mu);
	s = dcache_slot(d, ino);
	hit = s->used && s->attr.ino == ino && s->expires_ns > now_ns;
	if (hit) {
		*out = s->attr;
		if (left_s)
			*left_s = (double)(s->expires_ns - now_ns) / 1e9;
	}
	pthread_mutex_unlock(&d->mu);
	return hit;
}

void fc_dcache_drop(struct fc_dcache *d, uint64_t ino)
{
	struct dcache_slot *s;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	s = dcache_slot(d, ino);
	if (s->used && s->attr.ino == ino)
		s->used = false;
	pthread_mutex_unlock(&d->mu);
}

void fc_dcache_clear(struct fc_dcache *d)
{
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->n_slots; i++)
		d->slots[i].used = false;
	pthread_mutex_unlock(&d->mu);
}

size_t fc_dcache_count(struct fc_dcache *d)
{
	size_t i, n = 0;

	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->n_slots; i++)
		n += d->slots[i].used;
	pthread_mutex_unlock(&d->mu);
	return n;
}

int64_t fc_dcache_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
