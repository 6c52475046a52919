#include <config.h>
#include "common/ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

/* Keys per distribution test, as the issue asks. */
#define N_KEYS	    100000
#define MAX_SERVERS 10
/*
 * The spread tests (balance, moves, weights) use the default vnode count
 * (0 = RFS_RING_VNODES_PER_WEIGHT), since that is what the servers use.
 */
#define SPREAD_VNODES 0
/* The golden vectors were computed with 128 vnodes per weight. */
#define GOLDEN_VNODES 128
#define ID_LEN	      24 /* "cs" + up to 20 digits + NUL */

static const struct rfs_ring_member three[] = {
    {"cs1", "z1", 1},
    {"cs2", "z2", 1},
    {"cs3", "z3", 1},
};

/*
 * Golden values. They were computed once, independently of the C code, by
 * a 40-line Python 3 reference of the algorithm in ring.h (hashlib.sha256,
 * "<id>#<n>" points, bisect for the first point >= key, a zone-preferring
 * walk then a fill-up walk, empty zone unique per member), and pasted here.
 */
static const struct {
	uint64_t chunk_id;
	uint64_t key;
} golden_keys[] = {
    {0, 0xaf5570f5a1810b7aULL},
    {1, 0xcd2662154e6d76b2ULL},
    {42, 0xa6bb133cb1e3638aULL},
    {0xffffffffffffffffULL, 0x12a3ae445661ce5dULL},
};

/* rfs_ring_lookup(three, chunk id i + 1, r = 2) */
static const size_t golden_three[10][2] = {
    {0, 2}, {0, 2}, {0, 1}, {2, 1}, {1, 0},
    {1, 0}, {2, 1}, {0, 2}, {2, 0}, {2, 0},
};

/* Two members share zone z1, one is alone in z2, one has no zone. */
static const struct rfs_ring_member zoned[] = {
    {"a", "z1", 1},
    {"b", "z1", 1},
    {"c", "z2", 1},
    {"d", "", 1},
};

/* rfs_ring_lookup(zoned, chunk id i + 1, r = 3) */
static const size_t golden_zoned[5][3] = {
    {0, 3, 2}, {0, 3, 2}, {3, 0, 2}, {3, 2, 0}, {2, 1, 3},
};

/* Members "cs1".."csN", each in its own zone, weight 1. */
static void make_servers(struct rfs_ring_member *m, char ids[][ID_LEN],
			 size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(ids[i], ID_LEN, "cs%zu", i + 1);
		m[i].id = ids[i];
		m[i].zone = ids[i];
		m[i].weight = 1;
	}
}

/*
 * Primary (r = 1) owner of each of the N_KEYS chunk ids 0..N_KEYS-1.
 * Returns false if a lookup found nothing.
 */
static bool primaries(const struct rfs_ring *ring, unsigned char *owner)
{
	size_t found = 0;
	size_t out;
	uint64_t id;

	for (id = 0; id < N_KEYS; id++) {
		out = MAX_SERVERS;
		found += rfs_ring_lookup(ring, id, 1, NULL, NULL, &out);
		owner[id] = (unsigned char)out;
	}
	return found == N_KEYS;
}

/*
 * spread_owner[n]: primaries on the ring of n equal servers (n = 3..10),
 * computed once by the spread suite's init and shared by the balance and
 * the moves test, which would otherwise repeat 800k lookups each.
 */
static unsigned char *spread_owner[MAX_SERVERS + 1];

static int spread_cleanup(void)
{
	size_t n;

	for (n = 0; n <= MAX_SERVERS; n++) {
		free(spread_owner[n]);
		spread_owner[n] = NULL;
	}
	return 0;
}

static int spread_init(void)
{
	struct rfs_ring_member m[MAX_SERVERS];
	char ids[MAX_SERVERS][ID_LEN];
	struct rfs_ring *ring;
	bool ok;
	size_t n;

	make_servers(m, ids, MAX_SERVERS);
	for (n = 3; n <= MAX_SERVERS; n++) {
		spread_owner[n] = malloc(N_KEYS);
		ring = rfs_ring_new(m, n, SPREAD_VNODES);
		ok =
		    spread_owner[n] && ring && primaries(ring, spread_owner[n]);
		rfs_ring_free(ring);
		if (!ok) {
			spread_cleanup();
			return 1;
		}
	}
	return 0;
}

static void test_ring_golden_keys(void)
{
	size_t i;

	for (i = 0; i < sizeof(golden_keys) / sizeof(golden_keys[0]); i++)
		CU_ASSERT_EQUAL(rfs_ring_key(golden_keys[i].chunk_id),
				golden_keys[i].key);
}

static void test_ring_golden_lookup(void)
{
	struct rfs_ring *ring = rfs_ring_new(three, 3, GOLDEN_VNODES);
	size_t out[2];
	uint64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(rfs_ring_member_count(ring), 3);
	CU_ASSERT_EQUAL(rfs_ring_point_count(ring), 3 * GOLDEN_VNODES);
	for (id = 1; id <= 10; id++) {
		CU_ASSERT_EQUAL(rfs_ring_lookup(ring, id, 2, NULL, NULL, out),
				2);
		CU_ASSERT_EQUAL(out[0], golden_three[id - 1][0]);
		CU_ASSERT_EQUAL(out[1], golden_three[id - 1][1]);
	}
	rfs_ring_free(ring);
}

static void test_ring_golden_zones(void)
{
	struct rfs_ring *ring = rfs_ring_new(zoned, 4, GOLDEN_VNODES);
	size_t out[3];
	uint64_t id;
	size_t j;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	for (id = 1; id <= 5; id++) {
		CU_ASSERT_EQUAL(rfs_ring_lookup(ring, id, 3, NULL, NULL, out),
				3);
		for (j = 0; j < 3; j++)
			CU_ASSERT_EQUAL(out[j], golden_zoned[id - 1][j]);
	}
	rfs_ring_free(ring);
}

static void test_ring_balance(void)
{
	size_t count[MAX_SERVERS];
	size_t n;
	size_t i;

	for (n = 3; n <= MAX_SERVERS; n++) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < N_KEYS; i++)
			count[spread_owner[n][i]]++;
		/* mean = N_KEYS / n; each share within +-10 % of it */
		for (i = 0; i < n; i++) {
			CU_ASSERT(count[i] * n * 10 >= (size_t)N_KEYS * 9);
			CU_ASSERT(count[i] * n * 10 <= (size_t)N_KEYS * 11);
		}
	}
}

static void test_ring_add_server_moves_few(void)
{
	const unsigned char *before;
	const unsigned char *after;
	size_t elsewhere;
	size_t moved;
	size_t n;
	size_t i;

	for (n = 3; n < MAX_SERVERS; n++) {
		before = spread_owner[n];
		after = spread_owner[n + 1];
		moved = 0;
		elsewhere = 0;
		for (i = 0; i < N_KEYS; i++) {
			if (before[i] == after[i])
				continue;
			moved++;
			/* only onto the new server, index n */
			elsewhere += after[i] != n;
		}
		CU_ASSERT_EQUAL(elsewhere, 0);
		/* between 0.8/(n+1) and 1.3/(n+1) of the keys */
		CU_ASSERT(moved * (n + 1) * 10 >= (size_t)N_KEYS * 8);
		CU_ASSERT(moved * (n + 1) * 10 <= (size_t)N_KEYS * 13);
	}
}

static void test_ring_prefers_distinct_zones(void)
{
	static const struct rfs_ring_member m[] = {
	    {"cs1", "rack-a", 1},
	    {"cs2", "rack-a", 1},
	    {"cs3", "rack-b", 1},
	    {"cs4", "rack-b", 1},
	};
	struct rfs_ring *ring = rfs_ring_new(m, 4, 0);
	size_t out[4];
	uint64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	for (id = 0; id < 10000; id++) {
		CU_ASSERT_EQUAL_FATAL(
		    rfs_ring_lookup(ring, id, 2, NULL, NULL, out), 2);
		/* members 0,1 are rack-a and 2,3 rack-b */
		CU_ASSERT_NOT_EQUAL(out[0] / 2, out[1] / 2);
		/* a third replica has to reuse a zone but not a member */
		CU_ASSERT_EQUAL_FATAL(
		    rfs_ring_lookup(ring, id, 3, NULL, NULL, out), 3);
		CU_ASSERT_NOT_EQUAL(out[0] / 2, out[1] / 2);
		CU_ASSERT(out[2] != out[0] && out[2] != out[1]);
	}
	rfs_ring_free(ring);
}

static void test_ring_r_larger_than_members(void)
{
	static const struct rfs_ring_member m[] = {
	    {"cs1", "z", 1},
	    {"cs2", "z", 2},
	    {"cs3", NULL, 1},
	    {"idle", "y", 0},
	};
	struct rfs_ring *ring = rfs_ring_new(m, 4, 0);
	size_t out[10];
	uint64_t id;
	unsigned int seen;
	size_t i;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(rfs_ring_member_count(ring), 4);
	CU_ASSERT_EQUAL(rfs_ring_point_count(ring),
			4 * RFS_RING_VNODES_PER_WEIGHT);
	for (id = 0; id < 200; id++) {
		n = rfs_ring_lookup(ring, id, 10, NULL, NULL, out);
		CU_ASSERT_EQUAL_FATAL(n, 3);
		seen = 0;
		for (i = 0; i < n; i++) {
			CU_ASSERT(out[i] < 3); /* never the weight-0 member */
			seen |= 1u << out[i];
		}
		CU_ASSERT_EQUAL(seen, 7u); /* distinct */
	}
	rfs_ring_free(ring);
}

static bool skip_member(size_t member, void *arg)
{
	return member != *(size_t *)arg;
}

static bool skip_all(size_t member, void *arg)
{
	return false;
}

static void test_ring_usable_filter(void)
{
	struct rfs_ring *ring = rfs_ring_new(three, 3, 0);
	size_t skipped = 1;
	size_t all[3];
	size_t out[3];
	uint64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	for (id = 0; id < 1000; id++) {
		CU_ASSERT_EQUAL(rfs_ring_lookup(ring, id, 3, NULL, NULL, all),
				3);
		CU_ASSERT_EQUAL_FATAL(
		    rfs_ring_lookup(ring, id, 3, skip_member, &skipped, out),
		    2);
		CU_ASSERT(out[0] != skipped && out[1] != skipped);
		/* the others keep their order: the skipped one is removed */
		if (all[0] == skipped) {
			CU_ASSERT(out[0] == all[1] && out[1] == all[2]);
		} else if (all[1] == skipped) {
			CU_ASSERT(out[0] == all[0] && out[1] == all[2]);
		} else {
			CU_ASSERT(out[0] == all[0] && out[1] == all[1]);
		}
		CU_ASSERT_EQUAL(
		    rfs_ring_lookup(ring, id, 3, skip_all, NULL, out), 0);
	}
	rfs_ring_free(ring);
}

static void test_ring_empty(void)
{
	static const struct rfs_ring_member idle[] = {{"cs1", "z1", 0}};
	struct rfs_ring *ring = rfs_ring_new(NULL, 0, 0);
	size_t out[2] = {7, 7};

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(rfs_ring_member_count(ring), 0);
	CU_ASSERT_EQUAL(rfs_ring_point_count(ring), 0);
	CU_ASSERT_EQUAL(rfs_ring_lookup(ring, 1, 2, NULL, NULL, out), 0);
	CU_ASSERT_EQUAL(out[0], 7);
	rfs_ring_free(ring);

	ring = rfs_ring_new(idle, 1, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(rfs_ring_member_count(ring), 1);
	CU_ASSERT_EQUAL(rfs_ring_point_count(ring), 0);
	CU_ASSERT_EQUAL(rfs_ring_lookup(ring, 1, 2, NULL, NULL, out), 0);
	rfs_ring_free(ring);

	ring = rfs_ring_new(three, 3, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(rfs_ring_lookup(ring, 1, 0, NULL, NULL, out), 0);
	rfs_ring_free(ring);
	rfs_ring_free(NULL);
}

static void test_ring_weight(void)
{
	static const struct rfs_ring_member m[] = {
	    {"cs1", "z1", 1},
	    {"cs2", "z2", 1},
	    {"cs3", "z3", 2},
	};
	struct rfs_ring *ring = rfs_ring_new(m, 3, SPREAD_VNODES);
	unsigned char *owner = malloc(N_KEYS);
	size_t count[3] = {0, 0, 0};
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_PTR_NOT_NULL_FATAL(owner);
	CU_ASSERT_EQUAL(rfs_ring_point_count(ring),
			4 * RFS_RING_VNODES_PER_WEIGHT);
	CU_ASSERT_FATAL(primaries(ring, owner));
	for (i = 0; i < N_KEYS; i++)
		count[owner[i]]++;
	/* cs3 holds about twice what each of the others holds: 1.7x-2.3x */
	for (i = 0; i < 2; i++) {
		CU_ASSERT(count[2] * 10 >= count[i] * 17);
		CU_ASSERT(count[2] * 10 <= count[i] * 23);
	}
	free(owner);
	rfs_ring_free(ring);
}

static void test_ring_vnodes_and_ties(void)
{
	/* identical ids give identical points: ties go to the lower index */
	static const struct rfs_ring_member twins[] = {
	    {"same", "z1", 1},
	    {"same", "z2", 1},
	};
	struct rfs_ring *ring = rfs_ring_new(twins, 2, 16);
	size_t out[2];
	uint64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL(rfs_ring_point_count(ring), 32);
	for (id = 0; id < 100; id++) {
		CU_ASSERT_EQUAL(rfs_ring_lookup(ring, id, 2, NULL, NULL, out),
				2);
		CU_ASSERT_EQUAL(out[0], 0);
		CU_ASSERT_EQUAL(out[1], 1);
	}
	rfs_ring_free(ring);
}

static const struct rfs_test ring_tests[] = {
    RFS_TEST(test_ring_golden_keys),
    RFS_TEST(test_ring_golden_lookup),
    RFS_TEST(test_ring_golden_zones),
    RFS_TEST(test_ring_prefers_distinct_zones),
    RFS_TEST(test_ring_r_larger_than_members),
    RFS_TEST(test_ring_usable_filter),
    RFS_TEST(test_ring_empty),
    RFS_TEST(test_ring_weight),
    RFS_TEST(test_ring_vnodes_and_ties),
};

static const struct rfs_test spread_tests[] = {
    RFS_TEST(test_ring_balance),
    RFS_TEST(test_ring_add_server_moves_few),
};

int main(void)
{
	static const struct rfs_test_suite suites[] = {
	    {
		.name = "ring",
		RFS_TESTS(ring_tests),
	    },
	    {
		.name = "ring_spread",
		RFS_TESTS(spread_tests),
		.init = spread_init,
		.cleanup = spread_cleanup,
	    },
	};

	return rfs_test_run(suites, sizeof(suites) / sizeof(suites[0]));
}
