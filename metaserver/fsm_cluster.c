/*
 * fsm_cluster: registered chunk servers. Servers are kept in registration
 * order (chunks refer to them by that index, so a record is never removed)
 * with an index sorted by id for lookups. ring_epoch counts changes that
 * move ring positions: a new server, or a new address, zone or weight.
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SERVERS_MIN_CAP 8

static bool cluster_str_ok(const char *s, size_t size, bool empty_ok)
{
	size_t n = strnlen(s, size);

	return n < size && (empty_ok || n > 0);
}

static int cluster_check(const struct rfs_server *s)
{
	if (!cluster_str_ok(s->id, sizeof(s->id), false) ||
	    !rfs_proto_server_id_is_valid(s->id))
		return -EINVAL;
	if (!cluster_str_ok(s->addr, sizeof(s->addr), false) ||
	    !cluster_str_ok(s->zone, sizeof(s->zone), true))
		return -EINVAL;
	if (s->weight < 1)
		return -EINVAL;
	return 0;
}

/* Position of id in by_id, or where it would go (then -ENOENT). */
static int cluster_search(const struct ms_fsm *fsm, const char *id, size_t *pos)
{
	size_t lo = 0;
	size_t hi = fsm->n_servers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(fsm->servers[fsm->by_id[mid]].id, id);

		if (c == 0) {
			*pos = mid;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return -ENOENT;
}

int ms_fsm_server_index(const struct ms_fsm *fsm, const char *id, uint32_t *idx)
{
	size_t pos;
	int rc = cluster_search(fsm, id, &pos);

	if (rc < 0)
		return rc;
	*idx = fsm->by_id[pos];
	return 0;
}

static int cluster_grow(struct ms_fsm *fsm)
{
	struct rfs_server *servers;
	uint32_t *by_id;
	size_t cap = fsm->cap_servers ? fsm->cap_servers * 2 : SERVERS_MIN_CAP;

	if (fsm->n_servers < fsm->cap_servers)
		return 0;
	servers = realloc(fsm->servers, cap * sizeof(*servers));
	if (!servers)
		return -ENOMEM;
	fsm->servers = servers;
	by_id = realloc(fsm->by_id, cap * sizeof(*by_id));
	if (!by_id)
		return -ENOMEM;
	fsm->by_id = by_id;
	fsm->cap_servers = cap;
	return 0;
}

/* Copies the registered fields; the rest is runtime state. */
static void cluster_copy(struct rfs_server *to, const struct rfs_server *from)
{
	memset(to, 0, sizeof(*to));
	memcpy(to->id, from->id, sizeof(to->id));
	memcpy(to->addr, from->addr, sizeof(to->addr));
	memcpy(to->zone, from->zone, sizeof(to->zone));
	to->weight = from->weight;
	to->capacity = from->capacity;
	to->state = RFS_SERVER_UP;
	to->heartbeat_age_ms = -1;
}

static int cluster_append(struct ms_fsm *fsm, const struct rfs_server *s,
			  size_t pos)
{
	int rc;

	if (fsm->n_servers >= RFS_SERVERS_MAX)
		return -ENOSPC;
	rc = cluster_grow(fsm);
	if (rc < 0)
		return rc;
	cluster_copy(&fsm->servers[fsm->n_servers], s);
	memmove(&fsm->by_id[pos + 1], &fsm->by_id[pos],
		(fsm->n_servers - pos) * sizeof(*fsm->by_id));
	fsm->by_id[pos] = (uint32_t)fsm->n_servers;
	fsm->n_servers++;
	return 0;
}

int ms_fsm_do_register(struct ms_fsm *fsm, const struct rfs_op *op,
		       struct ms_fsm_result *res)
{
	const struct rfs_server *s = &op->server;
	struct rfs_server *cur;
	size_t pos;
	bool moved;
	int rc;

	rc = cluster_check(s);
	if (rc < 0)
		return rc;
	if (cluster_search(fsm, s->id, &pos) < 0) {
		rc = cluster_append(fsm, s, pos);
		if (rc < 0)
			return rc;
		fsm->ring_epoch++;
		return 0;
	}
	cur = &fsm->servers[fsm->by_id[pos]];
	moved = strcmp(cur->addr, s->addr) != 0 ||
		strcmp(cur->zone, s->zone) != 0 || cur->weight != s->weight;
	cluster_copy(cur, s);
	if (moved)
		fsm->ring_epoch++;
	return 0;
}

int ms_fsm_server_restore(struct ms_fsm *fsm, const struct rfs_server *s)
{
	size_t pos;

	if (cluster_check(s) < 0 || cluster_search(fsm, s->id, &pos) == 0)
		return -EBADMSG;
	return cluster_append(fsm, s, pos) < 0 ? -ENOMEM : 0;
}

int ms_fsm_replicas_resolve(const struct ms_fsm *fsm, const struct rfs_op *op,
			    uint32_t *idx)
{
	uint32_t i;
	uint32_t j;

	if (op->n_replicas < 1 || op->n_replicas > RFS_MAX_REPLICAS)
		return -EINVAL;
	for (i = 0; i < op->n_replicas; i++) {
		const char *id = op->replicas[i].id;

		if (!cluster_str_ok(id, sizeof(op->replicas[i].id), false) ||
		    ms_fsm_server_index(fsm, id, &idx[i]) < 0)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (idx[j] == idx[i])
				return -EINVAL;
	}
	return 0;
}

void ms_fsm_replica_fill(const struct ms_fsm *fsm, uint32_t idx,
			 struct rfs_replica *out)
{
	const struct rfs_server *s = &fsm->servers[idx];

	memset(out, 0, sizeof(*out));
	memcpy(out->id, s->id, sizeof(out->id));
	memcpy(out->addr, s->addr, sizeof(out->addr));
	out->up = false;
}

size_t ms_fsm_server_count(const struct ms_fsm *fsm)
{
	return fsm->n_servers;
}

const struct rfs_server *ms_fsm_server(const struct ms_fsm *fsm, size_t i)
{
	return i < fsm->n_servers ? &fsm->servers[i] : NULL;
}

const struct rfs_server *ms_fsm_server_find(const struct ms_fsm *fsm,
					    const char *id)
{
	uint32_t idx;

	if (ms_fsm_server_index(fsm, id, &idx) < 0)
		return NULL;
	return &fsm->servers[idx];
}

uint64_t ms_fsm_ring_epoch(const struct ms_fsm *fsm)
{
	return fsm->ring_epoch;
}
