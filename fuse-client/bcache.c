/*
 * bcache: a hash table of blocks with an LRU list, under one mutex.
 */
#include <config.h>
#include "fuse-client/bcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/dlist.h"

/* Hash buckets: a 64 MiB budget is 1024 blocks of 64 KiB. */
#define BC_BUCKETS 4096

struct bc_entry {
	struct bc_entry *next; /* hash chain */
	struct rfs_dlink lru;  /* fc_bcache.lru */
	struct fc_bkey key;
	size_t len;
	unsigned char data[];
};

struct fc_bcache {
	pthread_mutex_t lock;
	size_t max_bytes;
	size_t bytes;
	size_t blocks;
	uint64_t hits;
	uint64_t misses;
	struct rfs_dlist lru; /* the most recently used at the head */
	struct bc_entry *bucket[BC_BUCKETS];
};

struct fc_bcache *fc_bcache_new(size_t max_bytes)
{
	struct fc_bcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->max_bytes = max_bytes;
	return c;
}

/* The entry whose LRU link is l (NULL for NULL). */
static struct bc_entry *lru_entry(struct rfs_dlink *l)
{
	return rfs_dlist_entry(l, struct bc_entry, lru);
}

void fc_bcache_free(struct fc_bcache *c)
{
	struct bc_entry *e;

	if (!c)
		return;
	while ((e = lru_entry(c->lru.head)) != NULL) {
		rfs_dlist_remove(&c->lru, &e->lru);
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static bool key_eq(const struct fc_bkey *a, const struct fc_bkey *b)
{
	return a->chunk_id == b->chunk_id && a->version == b->version &&
	       a->length == b->length && a->block == b->block;
}

static struct bc_entry **slot_of(struct fc_bcache *c, const struct fc_bkey *k)
{
	uint64_t h = k->chunk_id * 0x9e3779b97f4a7c15ull;

	h ^= (k->block + ((uint64_t)k->version << 32)) * 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return &c->bucket[h % BC_BUCKETS];
}

/* c->lock held: take e out of the table and free it. */
static void entry_drop(struct fc_bcache *c, struct bc_entry *e)
{
	struct bc_entry **pp = slot_of(c, &e->key);

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	rfs_dlist_remove(&c->lru, &e->lru);
	c->bytes -= e->len;
	c->blocks--;
	free(e);
}

bool fc_bcache_get(struct fc_bcache *c, const struct fc_bkey *k, size_t off,
		   size_t len, void *dst)
{
	struct bc_entry *e;
	bool hit = false;

	if (!c)
		return false;
	pthread_mutex_lock(&c->lock);
	for (e = *slot_of(c, k); e; e = e->next)
		if (key_eq(&e->key, k))
			break;
	if (e && off <= e->len && len <= e->len - off) {
		memcpy(dst, e->data + off, len);
		rfs_dlist_remove(&c->lru, &e->lru);
		rfs_dlist_push_head(&c->lru, &e->lru);
		hit = true;
	}
	if (hit)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void fc_bcache_put(struct fc_bcache *c, const struct fc_bkey *k,
		   const void *buf, size_t len)
{
	struct bc_entry *e;
	struct bc_entry **pp;

	if (!c || len == 0 || len > c->max_bytes)
		return;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return;
	e->key = *k;
	e->len = len;
	memcpy(e->data, buf, len);
	pthread_mutex_lock(&c->lock);
	for (pp = slot_of(c, k); *pp; pp = &(*pp)->next) {
		if (key_eq(&(*pp)->key, k)) {
			entry_drop(c, *pp);
			break;
		}
	}
	while (c->lru.tail && c->bytes + len > c->max_bytes)
		entry_drop(c, lru_entry(c->lru.tail));
	pp = slot_of(c, k);
	e->next = *pp;
	*pp = e;
	rfs_dlist_push_head(&c->lru, &e->lru);
	c->bytes += len;
	c->blocks++;
	pthread_mutex_unlock(&c->lock);
}

void fc_bcache_stats(struct fc_bcache *c, struct fc_bcache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	out->hits = c->hits;
	out->misses = c->misses;
	out->bytes = c->bytes;
	out->blocks = c->blocks;
	pthread_mutex_unlock(&c->lock);
}
