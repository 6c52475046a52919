/*
 * fsm_chunk: the chunk table. A chunk is found by id (global hash table)
 * or by (file, index) (the file's vector, ascending index). A lease bumps
 * the pending version (or creates the chunk with the leader's id); a
 * commit makes a leased version the committed one with its length and the
 * replicas that stored it; only committed chunks appear in layouts.
 * Lease replicas are returned to the writer, not recorded: the recorded
 * replicas are always ones known to hold the committed version.
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNKVEC_MIN_CAP 1

static bool chunk_eq(const void *entry, const void *key)
{
	return ((const struct ms_chunk *)entry)->chunk_id ==
	       *(const uint64_t *)key;
}

struct ms_chunk *ms_fsm_chunk_by_id(const struct ms_fsm *fsm, uint64_t id)
{
	return ms_htab_find(&fsm->chunks, ms_hash_u64(id), chunk_eq, &id);
}

struct ms_chunk *ms_fsm_chunk_lookup(const struct ms_inode *file,
				     uint64_t index, uint32_t *pos)
{
	const struct ms_chunkvec *cv = &file->u.chunks;
	uint32_t lo = 0;
	uint32_t hi = cv->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cv->v[mid]->index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	if (lo < cv->n && cv->v[lo]->index == index)
		return cv->v[lo];
	return NULL;
}

/* Chunk indexes stay below this so index * chunk_size + chunk_size fits
 * a file size. */
static uint64_t chunk_index_limit(const struct ms_fsm *fsm)
{
	return MS_FSM_FILE_SIZE_MAX / fsm->fmt.chunk_size;
}

/* Committed chunks and bytes, for ms_fsm_counts(). */
static void chunk_account(struct ms_fsm *fsm, const struct ms_chunk *c,
			  bool add)
{
	if (c->version == 0)
		return;
	if (add) {
		fsm->committed_chunks++;
		fsm->committed_bytes += c->length;
	} else {
		fsm->committed_chunks--;
		fsm->committed_bytes -= c->length;
	}
}

static int chunkvec_reserve(struct ms_chunkvec *cv)
{
	struct ms_chunk **v;
	uint32_t cap;

	if (cv->n < cv->cap)
		return 0;
	if (cv->cap > UINT32_MAX / 2)
		return -EFBIG;
	cap = cv->cap ? cv->cap * 2 : CHUNKVEC_MIN_CAP;
	v = realloc(cv->v, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cv->v = v;
	cv->cap = cap;
	return 0;
}

static void chunkvec_insert(struct ms_chunkvec *cv, uint32_t pos,
			    struct ms_chunk *c)
{
	memmove(&cv->v[pos + 1], &cv->v[pos], (cv->n - pos) * sizeof(*cv->v));
	cv->v[pos] = c;
	cv->n++;
}

static void chunk_drop(struct ms_fsm *fsm, struct ms_chunk *c)
{
	chunk_account(fsm, c, false);
	ms_htab_remove(&fsm->chunks, ms_hash_u64(c->chunk_id), c);
	free(c);
}

/* A new chunk at file[pos] with the leader's id, pending version 1. */
static int chunk_create(struct ms_fsm *fsm, struct ms_inode *file, uint32_t pos,
			const struct rfs_op *op, struct ms_chunk **out)
{
	struct ms_chunk *c;
	int rc;

	if (op->chunk_id < fsm->next_chunk_id)
		return -ESTALE;
	if (op->chunk_id == UINT64_MAX)
		return -EINVAL;
	rc = chunkvec_reserve(&file->u.chunks);
	if (rc < 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c || ms_htab_reserve(&fsm->chunks, 1) < 0) {
		free(c);
		return -ENOMEM;
	}
	c->chunk_id = op->chunk_id;
	c->ino = file->ino;
	c->index = op->index;
	c->pending = 1;
	ms_htab_insert(&fsm->chunks, ms_hash_u64(c->chunk_id), c);
	chunkvec_insert(&file->u.chunks, pos, c);
	fsm->next_chunk_id = op->chunk_id + 1;
	*out = c;
	return 0;
}

/* The regular file an op names: -ENOENT, -EISDIR, -EINVAL otherwise. */
static int chunk_file(const struct ms_fsm *fsm, uint64_t ino,
		      struct ms_inode **out)
{
	struct ms_inode *in = ms_fsm_inode(fsm, ino);

	if (!in)
		return -ENOENT;
	if (ms_fsm_is_dir(in))
		return -EISDIR;
	if (!ms_fsm_is_reg(in))
		return -EINVAL;
	*out = in;
	return 0;
}

static void lease_fill(const struct ms_fsm *fsm, const struct ms_chunk *c,
		       const uint32_t *idx, uint32_t n, struct rfs_lease *l)
{
	uint32_t i;

	l->ino = c->ino;
	l->index = c->index;
	l->chunk_id = c->chunk_id;
	l->version = c->pending;
	l->prev_version = c->version;
	l->prev_length = c->length;
	l->chunk_size = fsm->fmt.chunk_size;
	l->n_replicas = n;
	for (i = 0; i < n; i++)
		ms_fsm_replica_fill(fsm, idx[i], &l->replicas[i]);
}

int ms_fsm_do_lease(struct ms_fsm *fsm, const struct rfs_op *op,
		    struct ms_fsm_result *res)
{
	uint32_t idx[RFS_MAX_REPLICAS];
	struct ms_inode *file;
	struct ms_chunk *c;
	uint32_t pos;
	int rc;

	rc = chunk_file(fsm, op->ino, &file);
	if (rc < 0)
		return rc;
	if (op->index >= chunk_index_limit(fsm))
		return -EFBIG;
	rc = ms_fsm_replicas_resolve(fsm, op, idx);
	if (rc < 0)
		return rc;
	c = ms_fsm_chunk_lookup(file, op->index, &pos);
	if (c) {
		uint32_t top =
		    c->pending > c->version ? c->pending : c->version;

		if (top == UINT32_MAX)
			return -EOVERFLOW;
		c->pending = top + 1;
	} else {
		rc = chunk_create(fsm, file, pos, op, &c);
		if (rc < 0)
			return rc;
	}
	lease_fill(fsm, c, idx, op->n_replicas, &res->lease);
	return 0;
}

int ms_fsm_lease_first_check(const struct ms_fsm *fsm, const struct rfs_op *op)
{
	uint32_t idx[RFS_MAX_REPLICAS];

	if (op->index != 0 || op->chunk_id == UINT64_MAX)
		return -EINVAL;
	if (op->chunk_id < fsm->next_chunk_id)
		return -ESTALE;
	return ms_fsm_replicas_resolve(fsm, op, idx);
}

int ms_fsm_lease_first(struct ms_fsm *fsm, struct ms_inode *file,
		       const struct rfs_op *op, struct rfs_lease *out)
{
	uint32_t idx[RFS_MAX_REPLICAS];
	struct ms_chunk *c;
	uint32_t pos;
	int rc;

	rc = ms_fsm_replicas_resolve(fsm, op, idx);
	if (rc == 0 && ms_fsm_chunk_lookup(file, 0, &pos))
		rc = -EEXIST;
	if (rc == 0)
		rc = chunk_create(fsm, file, pos, op, &c);
	if (rc == 0 && out)
		lease_fill(fsm, c, idx, op->n_replicas, out);
	return rc;
}

static int commit_check(const struct ms_fsm *fsm, const struct ms_chunk *c,
			const struct rfs_op *op)
{
	if (!c || c->chunk_id != op->chunk_id || op->version < c->version)
		return -ESTALE;
	if (op->version == 0 || op->version > c->pending)
		return -EINVAL;
	if (op->length > fsm->fmt.chunk_size)
		return -EINVAL;
	return 0;
}

int ms_fsm_do_commit(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res)
{
	uint32_t idx[RFS_MAX_REPLICAS];
	struct ms_inode *file = ms_fsm_inode(fsm, op->ino);
	struct ms_chunk *c;
	uint64_t end;
	uint32_t pos;
	int rc;

	if (!file)
		return -ESTALE; /* deleted while the lease was out */
	if (!ms_fsm_is_reg(file))
		return -EINVAL;
	c = ms_fsm_chunk_lookup(file, op->index, &pos);
	rc = commit_check(fsm, c, op);
	if (rc < 0)
		return rc;
	rc = ms_fsm_replicas_resolve(fsm, op, idx);
	if (rc == 0 && op->valid)
		rc = (op->valid & RFS_SETATTR_SIZE)
			 ? -EINVAL
			 : ms_fsm_setattr_check(file, op);
	if (rc < 0)
		return rc;
	chunk_account(fsm, c, false);
	c->version = op->version;
	c->length = op->length;
	c->n_replicas = op->n_replicas;
	memcpy(c->servers, idx, op->n_replicas * sizeof(*idx));
	chunk_account(fsm, c, true);
	end = c->index * fsm->fmt.chunk_size + c->length;
	if (end > file->size)
		file->size = end;
	file->mtime_ns = op->now_ns;
	file->ctime_ns = op->now_ns;
	/* attributes set while the data was buffered (tar: futimens,
	 * fchown, fchmod before close) land after it, in the same entry */
	ms_fsm_setattr_apply(fsm, file, op);
	ms_fsm_attr_fill(file, &res->attr);
	return 0;
}

int ms_fsm_do_add_replicas(struct ms_fsm *fsm, const struct rfs_op *op,
			   struct ms_fsm_result *res)
{
	struct ms_chunk *c = ms_fsm_chunk_by_id(fsm, op->chunk_id);
	const char *id = op->replicas[0].id;
	uint32_t idx;
	uint32_t i;

	if (op->n_replicas < 1 || !memchr(id, '\0', sizeof(op->replicas[0].id)))
		return -EINVAL;
	if (ms_fsm_server_index(fsm, id, &idx) < 0)
		return -EINVAL;
	if (!c)
		return -ENOENT;
	if (c->version == 0 || op->version != c->version)
		return -ESTALE;
	for (i = 0; i < c->n_replicas; i++)
		if (c->servers[i] == idx)
			return 0;
	if (c->n_replicas >= RFS_MAX_REPLICAS)
		return -ENOSPC;
	c->servers[c->n_replicas++] = idx;
	return 0;
}

void ms_fsm_file_truncate(struct ms_fsm *fsm, struct ms_inode *file,
			  uint64_t size)
{
	struct ms_chunkvec *cv = &file->u.chunks;
	uint64_t cs = fsm->fmt.chunk_size;
	uint64_t first_dead = size / cs + (size % cs != 0);
	struct ms_chunk *last;
	uint32_t pos;
	uint32_t i;

	/* chunks starting at or past the new end go entirely */
	ms_fsm_chunk_lookup(file, first_dead, &pos);
	for (i = pos; i < cv->n; i++)
		chunk_drop(fsm, cv->v[i]);
	cv->n = pos;
	if (pos == 0)
		return;
	last = cv->v[pos - 1];
	if (last->index * cs + last->length <= size)
		return;
	chunk_account(fsm, last, false);
	last->length = size - last->index * cs;
	chunk_account(fsm, last, true);
}

void ms_fsm_file_free_chunks(struct ms_fsm *fsm, struct ms_inode *file)
{
	struct ms_chunkvec *cv = &file->u.chunks;
	uint32_t i;

	for (i = 0; i < cv->n; i++)
		chunk_drop(fsm, cv->v[i]);
	cv->n = 0;
}

int ms_fsm_chunk_restore(struct ms_fsm *fsm, struct ms_inode *file,
			 struct ms_chunk *c)
{
	struct ms_chunkvec *cv = &file->u.chunks;

	if (chunkvec_reserve(cv) < 0 || ms_htab_reserve(&fsm->chunks, 1) < 0)
		return -ENOMEM;
	ms_htab_insert(&fsm->chunks, ms_hash_u64(c->chunk_id), c);
	cv->v[cv->n++] = c;
	chunk_account(fsm, c, true);
	return 0;
}

void ms_fsm_chunk_fill(const struct ms_fsm *fsm, const struct ms_chunk *c,
		       struct rfs_chunk *out)
{
	uint32_t i;

	memset(out, 0, sizeof(*out));
	out->index = c->index;
	out->chunk_id = c->chunk_id;
	out->version = c->version;
	out->length = c->length;
	out->n_replicas = c->n_replicas;
	for (i = 0; i < c->n_replicas; i++)
		ms_fsm_replica_fill(fsm, c->servers[i], &out->replicas[i]);
}

int ms_fsm_chunk_at(const struct ms_fsm *fsm, uint64_t ino, uint64_t index,
		    struct rfs_chunk *out)
{
	const struct ms_inode *file = ms_fsm_inode(fsm, ino);
	const struct ms_chunk *c;
	uint32_t pos;

	if (!file || !ms_fsm_is_reg(file))
		return -ENOENT;
	c = ms_fsm_chunk_lookup(file, index, &pos);
	if (!c)
		return -ENOENT;
	ms_fsm_chunk_fill(fsm, c, out);
	return 0;
}

/* One past the last chunk index overlapping [offset, offset + length). */
static uint64_t layout_end_index(uint64_t cs, uint64_t offset, uint64_t length)
{
	if (length == 0 || offset > UINT64_MAX - length)
		return UINT64_MAX;
	return (offset + length - 1) / cs + 1;
}

int ms_fsm_layout(const struct ms_fsm *fsm, uint64_t ino, uint64_t offset,
		  uint64_t length, struct rfs_layout *out)
{
	uint64_t cs = fsm->fmt.chunk_size;
	uint64_t end = layout_end_index(cs, offset, length);
	const struct ms_chunkvec *cv;
	struct ms_inode *file;
	uint32_t first;
	uint32_t i;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = chunk_file(fsm, ino, &file);
	if (rc < 0)
		return rc;
	cv = &file->u.chunks;
	ms_fsm_chunk_lookup(file, offset / cs, &first);
	/* a longer range is answered in part: the caller asks again from
	 * the end of the last chunk returned */
	for (i = first;
	     i < cv->n && cv->v[i]->index < end && n < RFS_LAYOUT_MAX_CHUNKS;
	     i++)
		n += cv->v[i]->version > 0;
	if (n) {
		out->chunks = calloc(n, sizeof(*out->chunks));
		if (!out->chunks)
			return -ENOMEM;
	}
	for (i = first; out->n_chunks < n; i++)
		if (cv->v[i]->version > 0)
			ms_fsm_chunk_fill(fsm, cv->v[i],
					  &out->chunks[out->n_chunks++]);
	out->ino = file->ino;
	out->size = file->size;
	out->chunk_size = cs;
	out->goal = file->goal;
	return 0;
}
