/*
 * fsm_inv: compares a chunk server's inventory with the chunk table.
 * A replica is deleted only when the table proves it useless: its chunk id
 * was issued (< next_chunk_id) and is gone, or its version is older than
 * the committed one. A newer version may be a write in flight and an id
 * never issued may come from a leader whose log we have not applied yet,
 * so both are kept. A replica of the committed version the table does not
 * list becomes an RFS_OP_ADD_REPLICAS op for the log.
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Add ops per check: each is a full struct rfs_op (a few KiB); a server
 * with more unlisted replicas gets the rest on its next inventory. */
#define INV_ADD_MAX 4096
#define INV_MIN_CAP 16

enum inv_verdict {
	INV_KEEP,
	INV_DELETE,
	INV_ADD,
};

static enum inv_verdict inv_judge(const struct ms_fsm *fsm,
				  const struct rfs_inv_entry *e, uint32_t idx)
{
	const struct ms_chunk *c;
	uint32_t i;

	if (e->chunk_id >= fsm->next_chunk_id)
		return INV_KEEP;
	c = ms_fsm_chunk_by_id(fsm, e->chunk_id);
	if (!c || e->version < c->version)
		return INV_DELETE;
	if (e->version != c->version || c->version == 0)
		return INV_KEEP;
	for (i = 0; i < c->n_replicas; i++)
		if (c->servers[i] == idx)
			return INV_KEEP;
	return INV_ADD;
}

/* Capacity after growing one that is full. */
static size_t inv_next_cap(size_t cap)
{
	return cap ? cap * 2 : INV_MIN_CAP;
}

static int inv_add_delete(struct rfs_inventory *del, size_t *cap,
			  const struct rfs_inv_entry *e)
{
	struct rfs_inv_entry *v;

	if (del->n == *cap) {
		v = reallocarray(del->entries, inv_next_cap(*cap), sizeof(*v));
		if (!v)
			return -ENOMEM;
		del->entries = v;
		*cap = inv_next_cap(*cap);
	}
	del->entries[del->n++] = *e;
	return 0;
}

static int inv_add_op(const struct ms_fsm *fsm, uint32_t idx,
		      const struct rfs_inv_entry *e, struct rfs_op **ops,
		      size_t *n, size_t *cap)
{
	struct rfs_op *op;

	if (*n >= INV_ADD_MAX)
		return 0;
	if (*n == *cap) {
		op = reallocarray(*ops, inv_next_cap(*cap), sizeof(*op));
		if (!op)
			return -ENOMEM;
		*ops = op;
		*cap = inv_next_cap(*cap);
	}
	op = &(*ops)[(*n)++];
	memset(op, 0, sizeof(*op));
	op->type = RFS_OP_ADD_REPLICAS;
	op->chunk_id = e->chunk_id;
	op->version = e->version;
	op->n_replicas = 1;
	ms_fsm_replica_fill(fsm, idx, &op->replicas[0]);
	return 0;
}

int ms_fsm_inventory_check(const struct ms_fsm *fsm,
			   const struct rfs_inventory *inv,
			   struct rfs_inventory *to_delete,
			   struct rfs_op **to_add, size_t *n_add)
{
	size_t del_cap = 0;
	size_t add_cap = 0;
	uint32_t idx;
	size_t i;
	int rc = 0;

	memset(to_delete, 0, sizeof(*to_delete));
	*to_add = NULL;
	*n_add = 0;
	if (!memchr(inv->server_id, '\0', sizeof(inv->server_id)) ||
	    ms_fsm_server_index(fsm, inv->server_id, &idx) < 0)
		return -ENOENT;
	memcpy(to_delete->server_id, inv->server_id,
	       sizeof(to_delete->server_id));
	for (i = 0; i < inv->n && rc == 0; i++) {
		const struct rfs_inv_entry *e = &inv->entries[i];

		switch (inv_judge(fsm, e, idx)) {
		case INV_DELETE:
			rc = inv_add_delete(to_delete, &del_cap, e);
			break;
		case INV_ADD:
			rc = inv_add_op(fsm, idx, e, to_add, n_add, &add_cap);
			break;
		case INV_KEEP:
			break;
		}
	}
	if (rc < 0) {
		free(to_delete->entries);
		to_delete->entries = NULL;
		to_delete->n = 0;
		free(*to_add);
		*to_add = NULL;
		*n_add = 0;
	}
	return rc;
}
