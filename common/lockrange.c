#include <config.h>
#include "common/lockrange.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rfs_lockrange_init(struct rfs_lockrange *s)
{
	s->r = NULL;
	s->n = 0;
	s->cap = 0;
}

void rfs_lockrange_release(struct rfs_lockrange *s)
{
	if (!s)
		return;
	free(s->r);
	rfs_lockrange_init(s);
}

bool rfs_lockrange_is_empty(const struct rfs_lockrange *s)
{
	return s->n == 0;
}

static bool overlaps(const struct rfs_lock_range *r, uint64_t start,
		     uint64_t end)
{
	return r->start <= end && start <= r->end;
}

/* a ends right before b starts (an end at RFS_LOCK_EOF touches nothing). */
static bool touches(const struct rfs_lock_range *a,
		    const struct rfs_lock_range *b)
{
	return a->end != RFS_LOCK_EOF && a->end + 1 == b->start;
}

/*
 * Append r to out, merging it into the last range when they touch. Old
 * ranges never touch each other (invariant), so a merge always involves
 * the new range, whose pid the merged range takes.
 */
static void push_merged(struct rfs_lock_range *out, size_t *n,
			const struct rfs_lock_range *r, uint32_t new_pid)
{
	struct rfs_lock_range *last = *n ? &out[*n - 1] : NULL;

	if (last && last->type == r->type && touches(last, r)) {
		last->end = r->end;
		last->pid = new_pid;
		return;
	}
	out[(*n)++] = *r;
}

/*
 * Build the new set into out (room for s->n + 2): the parts of the old
 * ranges outside [start, end], with the new range in its place, merged.
 */
static size_t build(const struct rfs_lockrange *s,
		    const struct rfs_lock_range *nr, struct rfs_lock_range *out)
{
	bool placed = nr->type == RFS_LOCK_UN;
	struct rfs_lock_range part;
	size_t n = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct rfs_lock_range *r = &s->r[i];

		if (!overlaps(r, nr->start, nr->end)) {
			if (!placed && r->start > nr->end) {
				push_merged(out, &n, nr, nr->pid);
				placed = true;
			}
			push_merged(out, &n, r, nr->pid);
			continue;
		}
		if (r->start < nr->start) {
			part = *r;
			part.end = nr->start - 1;
			push_merged(out, &n, &part, nr->pid);
		}
		if (!placed) {
			push_merged(out, &n, nr, nr->pid);
			placed = true;
		}
		if (r->end > nr->end) {
			part = *r;
			part.start = nr->end + 1;
			push_merged(out, &n, &part, nr->pid);
		}
	}
	if (!placed)
		push_merged(out, &n, nr, nr->pid);
	return n;
}

int rfs_lockrange_set(struct rfs_lockrange *s, uint64_t start, uint64_t end,
		      uint32_t type, uint32_t pid, size_t max)
{
	struct rfs_lock_range nr = {
	    .start = start, .end = end, .type = type, .pid = pid};
	/* one range split in two, plus the new one */
	size_t cap = s->n + 2;
	struct rfs_lock_range *out;
	size_t n;

	if (start > end ||
	    (type != RFS_LOCK_UN && type != RFS_LOCK_RD && type != RFS_LOCK_WR))
		return -EINVAL;
	out = calloc(cap, sizeof(*out));
	if (!out)
		return -ENOMEM;
	n = build(s, &nr, out);
	if (n > max) {
		free(out);
		return -ENOLCK;
	}
	free(s->r);
	s->r = out;
	s->n = n;
	s->cap = cap;
	return 0;
}

const struct rfs_lock_range *
rfs_lockrange_conflict(const struct rfs_lockrange *s, uint64_t start,
		       uint64_t end, uint32_t type)
{
	size_t i;

	if (type != RFS_LOCK_RD && type != RFS_LOCK_WR)
		return NULL;
	for (i = 0; i < s->n && s->r[i].start <= end; i++) {
		if (!overlaps(&s->r[i], start, end))
			continue;
		if (type == RFS_LOCK_WR || s->r[i].type == RFS_LOCK_WR)
			return &s->r[i];
	}
	return NULL;
}
