/*
 * fsm_snap: writes the whole state as one little-endian binary image
 * (layout in docs/formats.md, "Metadata snapshot"). The image depends only
 * on the logical state, never on hash-table layout or allocation history:
 * inodes go out in ascending ino, dirents by (parent, cookie), chunks by
 * (ino, index). Two replicas that applied the same log therefore write
 * identical bytes, and restore followed by snapshot is the identity.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "metaserver/fsm_internal.h"

#define SNAP_MIN_CAP 4096

struct snap_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool oom; /* sticky: later writes are dropped */
};

static void snap_put(struct snap_buf *b, const void *src, size_t n)
{
	size_t cap = b->cap ? b->cap : SNAP_MIN_CAP;
	uint8_t *p;

	if (b->oom)
		return;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return;
		}
		cap *= 2;
	}
	if (cap != b->cap) {
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void snap_le(struct snap_buf *b, uint64_t v, size_t n)
{
	uint8_t le[8];
	size_t i;

	for (i = 0; i < n; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	snap_put(b, le, n);
}

static void snap_u8(struct snap_buf *b, uint8_t v)
{
	snap_le(b, v, 1);
}

static void snap_u32(struct snap_buf *b, uint32_t v)
{
	snap_le(b, v, 4);
}

static void snap_u64(struct snap_buf *b, uint64_t v)
{
	snap_le(b, v, 8);
}

/* A string of at most 255 bytes: u8 length, bytes. */
static void snap_str8(struct snap_buf *b, const char *s, size_t len)
{
	snap_u8(b, (uint8_t)len);
	snap_put(b, s, len);
}

/* Sort key next to the pointer: comparisons never touch the inodes. */
struct snap_ent {
	uint64_t ino;
	struct ms_inode *in;
};

static int snap_ino_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct snap_ent *)a)->ino;
	uint64_t y = ((const struct snap_ent *)b)->ino;

	return x < y ? -1 : x > y;
}

/* Every inode, ascending ino; *out is malloc'd. */
static int snap_sorted_inodes(const struct ms_fsm *fsm, struct snap_ent **out)
{
	struct snap_ent *v = calloc(fsm->inodes.n + 1, sizeof(*v));
	size_t i;
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < fsm->inodes.cap; i++) {
		struct ms_inode *in = fsm->inodes.slots[i].entry;

		if (in) {
			v[n].ino = in->ino;
			v[n++].in = in;
		}
	}
	qsort(v, n, sizeof(*v), snap_ino_cmp);
	*out = v;
	return 0;
}

static void snap_header(struct snap_buf *b, const struct ms_fsm *fsm)
{
	size_t i;

	snap_put(b, MS_SNAP_MAGIC, MS_SNAP_MAGIC_LEN);
	snap_u32(b, MS_SNAP_VERSION);
	snap_u32(b, 0);
	snap_str8(b, fsm->fmt.fsid, strlen(fsm->fmt.fsid));
	snap_u64(b, fsm->fmt.chunk_size);
	snap_u32(b, fsm->fmt.goal);
	snap_u64(b, (uint64_t)fsm->fmt.created_ns);
	snap_u64(b, fsm->next_ino);
	snap_u64(b, fsm->next_chunk_id);
	snap_u64(b, fsm->ring_epoch);
	snap_u32(b, (uint32_t)fsm->n_servers);
	for (i = 0; i < fsm->n_servers; i++) {
		const struct rfs_server *s = &fsm->servers[i];

		snap_str8(b, s->id, strlen(s->id));
		snap_str8(b, s->addr, strlen(s->addr));
		snap_str8(b, s->zone, strlen(s->zone));
		snap_u32(b, s->weight);
		snap_u64(b, s->capacity);
	}
}

static void snap_inode(struct snap_buf *b, const struct ms_inode *in)
{
	uint32_t i;

	snap_u64(b, in->ino);
	snap_u32(b, in->mode);
	snap_u32(b, in->uid);
	snap_u32(b, in->gid);
	snap_u32(b, in->nlink);
	snap_u64(b, in->size);
	snap_u64(b, (uint64_t)in->atime_ns);
	snap_u64(b, (uint64_t)in->mtime_ns);
	snap_u64(b, (uint64_t)in->ctime_ns);
	snap_u64(b, in->generation);
	snap_u32(b, in->goal);
	if (ms_fsm_is_dir(in)) {
		snap_u64(b, in->u.dir->parent);
		snap_u64(b, in->u.dir->next_cookie);
	} else if (ms_fsm_is_lnk(in)) {
		snap_put(b, in->u.target, in->size);
	}
	snap_u32(b, in->n_xattrs);
	for (i = 0; i < in->n_xattrs; i++) {
		snap_str8(b, in->xattrs[i].name, in->xattrs[i].name_len);
		snap_u32(b, in->xattrs[i].value_len);
		snap_put(b, in->xattrs[i].value, in->xattrs[i].value_len);
	}
}

static void snap_dirents(struct snap_buf *b, const struct ms_fsm *fsm,
			 const struct snap_ent *v, size_t n)
{
	size_t i;
	size_t j;

	snap_u64(b, fsm->dirents.n);
	for (i = 0; i < n; i++) {
		const struct ms_dir *dir;

		if (!ms_fsm_is_dir(v[i].in))
			continue;
		dir = v[i].in->u.dir;
		for (j = 0; j < dir->n_slots; j++) {
			const struct ms_dirent *d = dir->slots[j].d;

			if (!d)
				continue;
			snap_u64(b, d->parent);
			snap_u64(b, d->cookie);
			snap_u64(b, d->ino);
			snap_str8(b, d->name, d->name_len);
		}
	}
}

static void snap_chunk(struct snap_buf *b, const struct ms_chunk *c)
{
	uint32_t i;

	snap_u64(b, c->ino);
	snap_u64(b, c->index);
	snap_u64(b, c->chunk_id);
	snap_u32(b, c->version);
	snap_u32(b, c->pending);
	snap_u64(b, c->length);
	snap_u8(b, (uint8_t)c->n_replicas);
	for (i = 0; i < c->n_replicas; i++)
		snap_u32(b, c->servers[i]);
}

static void snap_chunks(struct snap_buf *b, const struct ms_fsm *fsm,
			const struct snap_ent *v, size_t n)
{
	size_t i;
	uint32_t j;

	snap_u64(b, fsm->chunks.n);
	for (i = 0; i < n; i++) {
		const struct ms_chunkvec *cv = &v[i].in->u.chunks;

		if (!ms_fsm_is_reg(v[i].in))
			continue;
		for (j = 0; j < cv->n; j++)
			snap_chunk(b, cv->v[j]);
	}
}

/* The orphan table, already in ascending ino (version 2 on). */
static void snap_orphans(struct snap_buf *b, const struct ms_fsm *fsm)
{
	size_t i;

	snap_u64(b, fsm->n_orphans);
	for (i = 0; i < fsm->n_orphans; i++) {
		snap_u64(b, fsm->orphans[i].ino);
		snap_u64(b, fsm->orphans[i].session);
	}
}

int ms_fsm_snapshot(const struct ms_fsm *fsm, void **buf, size_t *len)
{
	struct snap_buf b = {0};
	struct snap_ent *v;
	size_t n = fsm->inodes.n;
	size_t i;

	*buf = NULL;
	*len = 0;
	if (snap_sorted_inodes(fsm, &v) < 0)
		return -ENOMEM;
	snap_header(&b, fsm);
	snap_u64(&b, n);
	for (i = 0; i < n; i++)
		snap_inode(&b, v[i].in);
	snap_dirents(&b, fsm, v, n);
	snap_chunks(&b, fsm, v, n);
	snap_orphans(&b, fsm);
	free(v);
	if (!b.oom)
		snap_u32(&b, rfs_crc32c(0, b.p, b.len));
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}
