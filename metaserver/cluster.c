#include <config.h>
#include "metaserver/cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ring.h"

/* Volatile state of one registered server (index = fsm server index). */
struct cluster_node {
	char id[RFS_SERVER_ID_MAX + 1];
	bool seen;	 /* a heartbeat arrived since start */
	int64_t last_ms; /* monotonic time of the last heartbeat */
	bool reported;	 /* capacity/used come from a heartbeat */
	bool down_noted; /* ms_cluster_watch reported it down */
	uint64_t capacity;
	uint64_t used;
	uint64_t chunks;
	uint32_t load;
};

struct ms_cluster {
	uint32_t down_after_ms;
	/* what the tables below were built from */
	const struct ms_fsm *fsm;
	uint64_t epoch;
	size_t n_servers;
	bool built;
	struct cluster_node *nodes;  /* in fsm order; ring member i = node i */
	struct cluster_node **by_id; /* sorted by id, for lookups */
	size_t n;
	struct rfs_ring *ring;
};

struct ms_cluster *ms_cluster_new(uint32_t down_after_ms)
{
	struct ms_cluster *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->down_after_ms = down_after_ms;
	return c;
}

void ms_cluster_free(struct ms_cluster *c)
{
	if (c == NULL)
		return;
	rfs_ring_free(c->ring);
	free(c->by_id);
	free(c->nodes);
	free(c);
}

static int cluster_cmp_node(const void *a, const void *b)
{
	const struct cluster_node *const *x = a;
	const struct cluster_node *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int cluster_cmp_key(const void *key, const void *elem)
{
	const struct cluster_node *const *node = elem;

	return strcmp(key, (*node)->id);
}

static struct cluster_node *cluster_find(struct cluster_node **by_id, size_t n,
					 const char *id)
{
	struct cluster_node **hit;

	if (n == 0)
		return NULL;
	hit = bsearch(id, by_id, n, sizeof(*by_id), cluster_cmp_key);
	return hit != NULL ? *hit : NULL;
}

static struct rfs_ring *cluster_build_ring(const struct ms_fsm *fsm, size_t n)
{
	struct rfs_ring_member *members;
	struct rfs_ring *ring;
	size_t i;

	members = calloc(n > 0 ? n : 1, sizeof(*members));
	if (members == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const struct rfs_server *s = ms_fsm_server(fsm, i);

		members[i].id = s->id;
		members[i].zone = s->zone;
		members[i].weight = s->weight;
	}
	ring = rfs_ring_new(members, n, 0);
	free(members);
	return ring;
}

/* Rebuild nodes, index and ring from fsm, carrying volatile state over. */
static int cluster_rebuild(struct ms_cluster *c, const struct ms_fsm *fsm)
{
	size_t n = ms_fsm_server_count(fsm);
	struct cluster_node *nodes = calloc(n > 0 ? n : 1, sizeof(*nodes));
	struct cluster_node **by_id = calloc(n > 0 ? n : 1, sizeof(*by_id));
	struct rfs_ring *ring = cluster_build_ring(fsm, n);
	size_t i;

	if (nodes == NULL || by_id == NULL || ring == NULL) {
		free(nodes);
		free(by_id);
		rfs_ring_free(ring);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const char *id = ms_fsm_server(fsm, i)->id;
		struct cluster_node *old = cluster_find(c->by_id, c->n, id);

		if (old != NULL)
			nodes[i] = *old;
		snprintf(nodes[i].id, sizeof(nodes[i].id), "%s", id);
		by_id[i] = &nodes[i];
	}
	qsort(by_id, n, sizeof(*by_id), cluster_cmp_node);
	rfs_ring_free(c->ring);
	free(c->by_id);
	free(c->nodes);
	c->nodes = nodes;
	c->by_id = by_id;
	c->n = n;
	c->ring = ring;
	return 0;
}

static int cluster_sync(struct ms_cluster *c, const struct ms_fsm *fsm)
{
	uint64_t epoch = ms_fsm_ring_epoch(fsm);
	size_t n = ms_fsm_server_count(fsm);
	int rc;

	if (c->built && c->fsm == fsm && c->epoch == epoch && c->n_servers == n)
		return 0;
	rc = cluster_rebuild(c, fsm);
	if (rc < 0)
		return rc;
	c->built = true;
	c->fsm = fsm;
	c->epoch = epoch;
	c->n_servers = n;
	return 0;
}

static bool cluster_node_is_up(const struct ms_cluster *c,
			       const struct cluster_node *node, int64_t now_ms)
{
	return node != NULL && node->seen &&
	       now_ms - node->last_ms < (int64_t)c->down_after_ms;
}

void ms_cluster_watch(struct ms_cluster *c, int64_t now_ms,
		      ms_cluster_watch_cb cb, void *arg)
{
	for (size_t i = 0; i < c->n; i++) {
		struct cluster_node *node = &c->nodes[i];
		bool up = cluster_node_is_up(c, node, now_ms);

		if (!node->seen || up != node->down_noted)
			continue;
		node->down_noted = !up;
		cb(arg, node->id, up, now_ms - node->last_ms);
	}
}

int ms_cluster_heartbeat(struct ms_cluster *c, const struct ms_fsm *fsm,
			 const struct rfs_server *hb, int64_t now_ms)
{
	struct cluster_node *node;
	int rc;

	rc = cluster_sync(c, fsm);
	if (rc < 0)
		return rc;
	node = cluster_find(c->by_id, c->n, hb->id);
	if (node == NULL)
		return -ENOENT;
	node->seen = true;
	node->last_ms = now_ms;
	node->reported = true;
	node->capacity = hb->capacity;
	node->used = hb->used;
	node->chunks = hb->chunks;
	node->load = hb->load;
	return 0;
}

bool ms_cluster_is_up(struct ms_cluster *c, const struct ms_fsm *fsm,
		      const char *id, int64_t now_ms)
{
	if (cluster_sync(c, fsm) < 0)
		return false;
	return cluster_node_is_up(c, cluster_find(c->by_id, c->n, id), now_ms);
}

/* rfs_ring_usable_cb over ring member indices (= node indices). */
struct cluster_usable {
	const struct ms_cluster *c;
	int64_t now_ms;
};

static bool cluster_member_usable(size_t member, void *arg)
{
	const struct cluster_usable *u = arg;

	return cluster_node_is_up(u->c, &u->c->nodes[member], u->now_ms);
}

/* Append server i to out unless it is already there. */
static void cluster_add_replica(const struct ms_fsm *fsm, size_t i,
				struct rfs_replica *out, uint32_t *n)
{
	const struct rfs_server *s = ms_fsm_server(fsm, i);
	uint32_t k;

	for (k = 0; k < *n; k++)
		if (strcmp(out[k].id, s->id) == 0)
			return;
	memset(&out[*n], 0, sizeof(out[*n]));
	snprintf(out[*n].id, sizeof(out[*n].id), "%s", s->id);
	snprintf(out[*n].addr, sizeof(out[*n].addr), "%s", s->addr);
	out[*n].up = true;
	(*n)++;
}

int ms_cluster_choose(struct ms_cluster *c, const struct ms_fsm *fsm,
		      uint64_t chunk_id, const struct rfs_chunk *existing,
		      uint32_t goal, int64_t now_ms,
		      struct rfs_replica out[RFS_MAX_REPLICAS], uint32_t *n)
{
	struct cluster_usable usable = {c, now_ms};
	size_t idx[RFS_MAX_REPLICAS];
	size_t found;
	size_t i;
	int rc;

	rc = cluster_sync(c, fsm);
	if (rc < 0)
		return rc;
	if (goal > RFS_MAX_REPLICAS)
		goal = RFS_MAX_REPLICAS;
	*n = 0;
	for (i = 0; existing != NULL && i < existing->n_replicas; i++) {
		struct cluster_node *node =
		    cluster_find(c->by_id, c->n, existing->replicas[i].id);

		if (*n < goal && cluster_node_is_up(c, node, now_ms))
			cluster_add_replica(fsm, (size_t)(node - c->nodes), out,
					    n);
	}
	/* Ask for every slot: some targets may already be in out. */
	found = rfs_ring_lookup(c->ring, chunk_id, RFS_MAX_REPLICAS,
				cluster_member_usable, &usable, idx);
	for (i = 0; i < found && *n < goal; i++)
		cluster_add_replica(fsm, idx[i], out, n);
	if (*n > 0)
		return 0;
	return c->n == 0 ? -ENOSPC : -EAGAIN;
}

int ms_cluster_mark_layout(struct ms_cluster *c, const struct ms_fsm *fsm,
			   struct rfs_layout *layout, int64_t now_ms)
{
	struct rfs_replica sorted[RFS_MAX_REPLICAS];
	size_t i;
	int rc;

	rc = cluster_sync(c, fsm);
	if (rc < 0)
		return rc;
	for (i = 0; i < layout->n_chunks; i++) {
		struct rfs_chunk *ch = &layout->chunks[i];
		uint32_t n = ch->n_replicas < RFS_MAX_REPLICAS
				 ? ch->n_replicas
				 : RFS_MAX_REPLICAS;
		uint32_t k;
		uint32_t out = 0;
		int pass;

		for (k = 0; k < n; k++)
			ch->replicas[k].up = cluster_node_is_up(
			    c, cluster_find(c->by_id, c->n, ch->replicas[k].id),
			    now_ms);
		/* Stable partition: up replicas first, then the others. */
		for (pass = 1; pass >= 0; pass--)
			for (k = 0; k < n; k++)
				if (ch->replicas[k].up == (pass == 1))
					sorted[out++] = ch->replicas[k];
		memcpy(ch->replicas, sorted, n * sizeof(sorted[0]));
	}
	return 0;
}

static void cluster_fill_server(const struct ms_cluster *c,
				const struct cluster_node *node, int64_t now_ms,
				struct rfs_server *s)
{
	bool up = cluster_node_is_up(c, node, now_ms);

	s->state = up ? RFS_SERVER_UP : RFS_SERVER_DOWN;
	s->heartbeat_age_ms = node->seen ? now_ms - node->last_ms : -1;
	if (node->reported) {
		s->capacity = node->capacity;
		s->used = node->used;
	}
	s->chunks = node->chunks;
	s->load = node->load;
}

int ms_cluster_status(struct ms_cluster *c, const struct ms_fsm *fsm,
		      int64_t now_ms, struct rfs_status *out)
{
	const struct ms_fsm_format *fmt = ms_fsm_format(fsm);
	uint64_t bytes;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cluster_sync(c, fsm);
	if (rc < 0)
		return rc;
	out->servers = calloc(c->n > 0 ? c->n : 1, sizeof(*out->servers));
	if (out->servers == NULL)
		return -ENOMEM;
	out->n_servers = c->n;
	for (i = 0; i < c->n; i++) {
		out->servers[i] = *ms_fsm_server(fsm, i);
		cluster_fill_server(c, &c->nodes[i], now_ms, &out->servers[i]);
	}
	snprintf(out->fsid, sizeof(out->fsid), "%s", fmt->fsid);
	out->chunk_size = fmt->chunk_size;
	out->goal = fmt->goal;
	out->ring_epoch = ms_fsm_ring_epoch(fsm);
	ms_fsm_counts(fsm, &out->inodes, &out->chunks, &bytes);
	return 0;
}

int ms_cluster_totals(struct ms_cluster *c, const struct ms_fsm *fsm,
		      int64_t now_ms, struct ms_cluster_totals *out)
{
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cluster_sync(c, fsm);
	if (rc < 0)
		return rc;
	out->servers = c->n;
	for (i = 0; i < c->n; i++) {
		struct rfs_server s = *ms_fsm_server(fsm, i);

		cluster_fill_server(c, &c->nodes[i], now_ms, &s);
		if (s.state == RFS_SERVER_UP)
			out->up++;
		out->capacity += s.capacity;
		out->used += s.used;
	}
	return 0;
}
