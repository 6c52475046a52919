/*
 * fsm_htab: the open-addressing hash table behind the fsm's inode, dirent
 * and chunk indexes. Slots hold (hash, entry pointer); linear probing with
 * backward-shift deletion, so there are no tombstones and lookups stay
 * short after many deletions.
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>

/* Smallest table: 16 slots = 256 bytes, cheap for the three tables. */
#define HTAB_MIN_CAP 16

void ms_htab_init(struct ms_htab *t)
{
	t->slots = NULL;
	t->cap = 0;
	t->n = 0;
}

void ms_htab_release(struct ms_htab *t)
{
	free(t->slots);
	ms_htab_init(t);
}

uint64_t ms_hash_u64(uint64_t x)
{
	/* splitmix64 finaliser: every input bit affects every output bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t ms_hash_bytes(uint64_t seed, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL ^ ms_hash_u64(seed);
	size_t i;

	/* FNV-1a over the bytes, then a full mix of the length and state */
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return ms_hash_u64(h ^ len);
}

static void htab_place(struct ms_htab_slot *slots, size_t cap, uint64_t hash,
		       void *entry)
{
	size_t mask = cap - 1;
	size_t i = hash & mask;

	while (slots[i].entry)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].entry = entry;
}

static int htab_rehash(struct ms_htab *t, size_t cap)
{
	struct ms_htab_slot *slots;
	size_t i;

	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->slots[i].entry)
			htab_place(slots, cap, t->slots[i].hash,
				   t->slots[i].entry);
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

int ms_htab_reserve(struct ms_htab *t, size_t extra)
{
	size_t need = t->n + extra;
	size_t cap = t->cap ? t->cap : HTAB_MIN_CAP;

	if (need < t->n)
		return -ENOMEM;
	/* keep the load factor at or below 3/4 */
	while (need > cap / 4 * 3) {
		if (cap > SIZE_MAX / 2 / sizeof(struct ms_htab_slot))
			return -ENOMEM;
		cap *= 2;
	}
	if (cap == t->cap)
		return 0;
	return htab_rehash(t, cap);
}

void *ms_htab_find(const struct ms_htab *t, uint64_t hash, ms_htab_eq_cb *eq,
		   const void *key)
{
	size_t mask;
	size_t i;

	if (!t->cap)
		return NULL;
	mask = t->cap - 1;
	for (i = hash & mask; t->slots[i].entry; i = (i + 1) & mask) {
		if (t->slots[i].hash == hash && eq(t->slots[i].entry, key))
			return t->slots[i].entry;
	}
	return NULL;
}

void ms_htab_insert(struct ms_htab *t, uint64_t hash, void *entry)
{
	htab_place(t->slots, t->cap, hash, entry);
	t->n++;
}

/* Is slot `home` cyclically within (hole, i]? Then i's entry may not move
 * into the hole. */
static bool htab_between(size_t hole, size_t home, size_t i)
{
	if (hole <= i)
		return hole < home && home <= i;
	return hole < home || home <= i;
}

void ms_htab_remove(struct ms_htab *t, uint64_t hash, const void *entry)
{
	size_t mask;
	size_t i;
	size_t hole;

	if (!t->cap)
		return;
	mask = t->cap - 1;
	for (i = hash & mask; t->slots[i].entry != entry; i = (i + 1) & mask)
		if (!t->slots[i].entry)
			return;
	hole = i;
	t->slots[hole].entry = NULL;
	t->n--;
	/* shift later members of the probe run back into the hole */
	for (i = (hole + 1) & mask; t->slots[i].entry; i = (i + 1) & mask) {
		if (htab_between(hole, t->slots[i].hash & mask, i))
			continue;
		t->slots[hole] = t->slots[i];
		t->slots[i].entry = NULL;
		hole = i;
	}
}
