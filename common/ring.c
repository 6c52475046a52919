#include <config.h>
#include "common/ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"

/* Bytes of a hash used as a ring position: the first 8, big-endian. */
#define RING_POINT_BYTES 8
/* Longest decimal vnode number: a uint64_t has at most 20 digits. */
#define RING_VNODE_DIGITS 20

struct ring_point {
	uint64_t pos;
	size_t member;
};

/*
 * Only what lookups need is kept: the points, sorted by (pos, member),
 * and each member's zone as a small integer (members sharing a non-empty
 * zone name share it; an empty or NULL zone is a number of its own).
 */
struct rfs_ring {
	size_t n_members;
	size_t *zone_of; /* [n_members] */
	size_t n_zones;	 /* distinct zones among members with points */
	size_t n_live;	 /* members with at least one point */
	size_t n_points;
	struct ring_point *points; /* [n_points] */
};

static uint64_t hash_pos(const void *buf, size_t len)
{
	uint8_t digest[RFS_SHA256_BYTES];
	uint64_t v = 0;
	int i;

	rfs_sha256(buf, len, digest);
	for (i = 0; i < RING_POINT_BYTES; i++)
		v = v << 8 | digest[i];
	return v;
}

uint64_t rfs_ring_key(uint64_t chunk_id)
{
	uint8_t be[sizeof(chunk_id)];
	size_t i;

	for (i = 0; i < sizeof(be); i++)
		be[i] = (uint8_t)(chunk_id >> (8 * (sizeof(be) - 1 - i)));
	return hash_pos(be, sizeof(be));
}

static int point_cmp(const void *a, const void *b)
{
	const struct ring_point *pa = a;
	const struct ring_point *pb = b;

	if (pa->pos != pb->pos)
		return pa->pos < pb->pos ? -1 : 1;
	if (pa->member != pb->member)
		return pa->member < pb->member ? -1 : 1;
	return 0;
}

/*
 * Add the points of member m ("<id>#0" .. "<id>#<count-1>") at
 * ring->points[*next ..]. Returns false on OOM.
 */
static bool add_member_points(struct rfs_ring *ring, size_t m, const char *id,
			      uint64_t count, size_t *next)
{
	size_t size = strlen(id) + 1 + RING_VNODE_DIGITS + 1;
	char *name = malloc(size);
	uint64_t v;
	int len;

	if (!name)
		return false;
	for (v = 0; v < count; v++) {
		len =
		    snprintf(name, size, "%s#%llu", id, (unsigned long long)v);
		ring->points[*next].pos = hash_pos(name, (size_t)len);
		ring->points[*next].member = m;
		(*next)++;
	}
	free(name);
	return true;
}

/* Number each member's zone and count the zones of members with points. */
static void number_zones(struct rfs_ring *ring,
			 const struct rfs_ring_member *members)
{
	const char *zone;
	const char *other;
	size_t i;
	size_t j;

	for (i = 0; i < ring->n_members; i++) {
		zone = members[i].zone;
		ring->zone_of[i] = i;
		for (j = 0; zone && zone[0] && j < i; j++) {
			other = members[j].zone;
			if (other && strcmp(zone, other) == 0) {
				ring->zone_of[i] = ring->zone_of[j];
				break;
			}
		}
		/* a zone counts once, on its first member that owns points */
		if (members[i].weight == 0)
			continue;
		for (j = 0; j < i; j++) {
			if (members[j].weight &&
			    ring->zone_of[j] == ring->zone_of[i])
				break;
		}
		ring->n_zones += j == i;
	}
}

/* Total points, or false if it would not fit in memory. */
static bool count_points(const struct rfs_ring_member *members, size_t n,
			 uint32_t vnodes, size_t *total)
{
	uint64_t sum = 0;
	uint64_t each;
	size_t i;

	for (i = 0; i < n; i++) {
		each = (uint64_t)members[i].weight * vnodes;
		if (each > SIZE_MAX / sizeof(struct ring_point) - sum)
			return false;
		sum += each;
	}
	*total = (size_t)sum;
	return true;
}

struct rfs_ring *rfs_ring_new(const struct rfs_ring_member *members, size_t n,
			      uint32_t vnodes_per_weight)
{
	uint32_t vnodes =
	    vnodes_per_weight ? vnodes_per_weight : RFS_RING_VNODES_PER_WEIGHT;
	struct rfs_ring *ring;
	size_t next = 0;
	size_t i;

	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return NULL;
	ring->n_members = n;
	if (!count_points(members, n, vnodes, &ring->n_points))
		goto out_free_ring;
	ring->zone_of = calloc(n ? n : 1, sizeof(*ring->zone_of));
	ring->points =
	    calloc(ring->n_points ? ring->n_points : 1, sizeof(*ring->points));
	if (!ring->zone_of || !ring->points)
		goto out_free_ring;
	for (i = 0; i < n; i++) {
		if (!add_member_points(
			ring, i, members[i].id ? members[i].id : "",
			(uint64_t)members[i].weight * vnodes, &next))
			goto out_free_ring;
		ring->n_live += members[i].weight != 0;
	}
	qsort(ring->points, ring->n_points, sizeof(*ring->points), point_cmp);
	number_zones(ring, members);
	return ring;

out_free_ring:
	rfs_ring_free(ring);
	return NULL;
}

void rfs_ring_free(struct rfs_ring *ring)
{
	if (!ring)
		return;
	free(ring->points);
	free(ring->zone_of);
	free(ring);
}

size_t rfs_ring_member_count(const struct rfs_ring *ring)
{
	return ring->n_members;
}

size_t rfs_ring_point_count(const struct rfs_ring *ring)
{
	return ring->n_points;
}

/* Index of the first point at or after key, wrapping to 0 past the end. */
static size_t first_point_at(const struct rfs_ring *ring, uint64_t key)
{
	size_t lo = 0;
	size_t hi = ring->n_points;
	size_t mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ring->points[mid].pos < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == ring->n_points ? 0 : lo;
}

/* State of one lookup: the replicas found so far and the filter. */
struct ring_walk {
	const struct rfs_ring *ring;
	rfs_ring_usable_cb usable;
	void *arg;
	size_t *out;
	size_t found;
	size_t r;
};

/* Whether member m may be added; new_zone requires a zone not yet chosen. */
static bool can_take(const struct ring_walk *w, size_t m, bool new_zone)
{
	size_t i;

	for (i = 0; i < w->found; i++) {
		if (w->out[i] == m)
			return false;
		if (new_zone &&
		    w->ring->zone_of[w->out[i]] == w->ring->zone_of[m])
			return false;
	}
	return !w->usable || w->usable(m, w->arg);
}

/*
 * Walk the ring once clockwise from start, adding members until r are
 * found or no more can be: the first walk stops when every zone is used,
 * the second when every member with points is.
 */
static void walk(struct ring_walk *w, size_t start, bool new_zone)
{
	const struct rfs_ring *ring = w->ring;
	size_t limit = new_zone ? ring->n_zones : ring->n_live;
	size_t idx = start;
	size_t i;
	size_t m;

	for (i = 0; i < ring->n_points; i++) {
		if (w->found == w->r || w->found == limit)
			return;
		m = ring->points[idx].member;
		if (can_take(w, m, new_zone))
			w->out[w->found++] = m;
		idx = idx + 1 == ring->n_points ? 0 : idx + 1;
	}
}

size_t rfs_ring_lookup(const struct rfs_ring *ring, uint64_t chunk_id, size_t r,
		       rfs_ring_usable_cb usable, void *arg, size_t *out)
{
	struct ring_walk w = {
	    .ring = ring,
	    .usable = usable,
	    .arg = arg,
	    .out = out,
	    .found = 0,
	    .r = r,
	};
	size_t start;

	if (ring->n_points == 0 || r == 0)
		return 0;
	start = first_point_at(ring, rfs_ring_key(chunk_id));
	walk(&w, start, true);
	walk(&w, start, false);
	return w.found;
}
