/*
 * fsm_dir: directory entries. Each entry is in the global (parent, name)
 * hash table for lookups and in its directory's slot vector for listing.
 * The vector is ordered by cookie: a per-directory counter stamped on each
 * entry at creation, never reused, so a readdir that resumes after cookie
 * C sees every entry that existed throughout, exactly once, whatever was
 * added or removed in between. Removal leaves a tombstone that is
 * compacted away once tombstones outnumber the live entries.
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Compaction threshold: never bother for fewer tombstones than this. */
#define DIR_TOMBSTONES_MIN 16
#define DIR_SLOTS_MIN	   4

struct dirent_key {
	uint64_t parent;
	const char *name;
	size_t len;
};

static uint64_t dirent_hash(uint64_t seed, uint64_t parent, const char *name,
			    size_t len)
{
	return ms_hash_bytes(seed ^ ms_hash_u64(parent), name, len);
}

static bool dirent_eq(const void *entry, const void *key)
{
	const struct ms_dirent *d = entry;
	const struct dirent_key *k = key;

	return d->parent == k->parent && d->name_len == k->len &&
	       memcmp(d->name, k->name, k->len) == 0;
}

struct ms_dir *ms_fsm_dir_new(uint64_t parent)
{
	struct ms_dir *dir = calloc(1, sizeof(*dir));

	if (!dir)
		return NULL;
	dir->parent = parent;
	dir->next_cookie = MS_FSM_COOKIE_FIRST;
	return dir;
}

void ms_fsm_dir_free(struct ms_dir *dir)
{
	size_t i;

	if (!dir)
		return;
	for (i = 0; i < dir->n_slots; i++)
		free(dir->slots[i].d);
	free(dir->slots);
	free(dir);
}

struct ms_dirent *ms_fsm_dirent_find(const struct ms_fsm *fsm, uint64_t parent,
				     const char *name, size_t len)
{
	struct dirent_key key = {parent, name, len};

	return ms_htab_find(&fsm->dirents,
			    dirent_hash(fsm->seed, parent, name, len),
			    dirent_eq, &key);
}

struct ms_dirent *ms_fsm_dirent_alloc(uint64_t parent, const char *name,
				      size_t len, uint64_t seed)
{
	struct ms_dirent *d = malloc(sizeof(*d) + len + 1);

	if (!d)
		return NULL;
	d->parent = parent;
	d->ino = 0;
	d->cookie = 0;
	d->hash = dirent_hash(seed, parent, name, len);
	d->name_len = (uint32_t)len;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	return d;
}

static int dir_reserve(struct ms_dir *dir, size_t extra)
{
	struct ms_dslot *slots;
	size_t cap = dir->cap ? dir->cap : DIR_SLOTS_MIN;

	while (cap < dir->n_slots + extra)
		cap *= 2;
	if (cap == dir->cap)
		return 0;
	slots = realloc(dir->slots, cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	dir->slots = slots;
	dir->cap = cap;
	return 0;
}

int ms_fsm_dirent_prepare(struct ms_fsm *fsm, struct ms_inode *parent,
			  const char *name, size_t len, struct ms_dirent **out)
{
	struct ms_dirent *d;

	/* cookies only grow: a directory that used them all is full */
	if (parent->u.dir->next_cookie == UINT64_MAX)
		return -ENOSPC;
	d = ms_fsm_dirent_alloc(parent->ino, name, len, fsm->seed);
	if (!d)
		return -ENOMEM;
	if (ms_htab_reserve(&fsm->dirents, 1) < 0 ||
	    dir_reserve(parent->u.dir, 1) < 0) {
		free(d);
		return -ENOMEM;
	}
	*out = d;
	return 0;
}

void ms_fsm_dirent_abort(struct ms_dirent *d)
{
	free(d);
}

static void dir_append(struct ms_dir *dir, struct ms_dirent *d)
{
	dir->slots[dir->n_slots].cookie = d->cookie;
	dir->slots[dir->n_slots].d = d;
	dir->n_slots++;
	dir->n_live++;
}

void ms_fsm_dirent_link(struct ms_fsm *fsm, struct ms_inode *parent,
			struct ms_dirent *d, uint64_t ino)
{
	struct ms_dir *dir = parent->u.dir;

	d->ino = ino;
	d->cookie = dir->next_cookie++;
	dir_append(dir, d);
	ms_htab_insert(&fsm->dirents, d->hash, d);
}

int ms_fsm_dirent_restore(struct ms_fsm *fsm, struct ms_inode *parent,
			  struct ms_dirent *d)
{
	struct ms_dir *dir = parent->u.dir;

	if (ms_htab_reserve(&fsm->dirents, 1) < 0 || dir_reserve(dir, 1) < 0)
		return -ENOMEM;
	dir_append(dir, d);
	ms_htab_insert(&fsm->dirents, d->hash, d);
	return 0;
}

/* First slot whose cookie is greater than cookie. */
static size_t dir_search(const struct ms_dir *dir, uint64_t cookie)
{
	size_t lo = 0;
	size_t hi = dir->n_slots;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dir->slots[mid].cookie <= cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void dir_compact(struct ms_dir *dir)
{
	struct ms_dslot *slots;
	size_t i;
	size_t n = 0;

	for (i = 0; i < dir->n_slots; i++)
		if (dir->slots[i].d)
			dir->slots[n++] = dir->slots[i];
	dir->n_slots = n;
	if (dir->cap <= DIR_SLOTS_MIN || n > dir->cap / 4)
		return;
	/* give memory back; a failed shrink keeps the larger vector. Halving
	 * only when at most a quarter is used keeps any slot reserved by
	 * ms_fsm_dirent_prepare() (n + 1 <= cap / 2 for cap >= 8). */
	slots = realloc(dir->slots, dir->cap / 2 * sizeof(*slots));
	if (slots) {
		dir->slots = slots;
		dir->cap /= 2;
	}
}

void ms_fsm_dirent_remove(struct ms_fsm *fsm, struct ms_inode *parent,
			  struct ms_dirent *d)
{
	struct ms_dir *dir = parent->u.dir;
	size_t i = dir_search(dir, d->cookie);
	size_t dead;

	/* slot i - 1 holds d: cookies are unique and ascending */
	dir->slots[i - 1].d = NULL;
	dir->n_live--;
	while (dir->n_slots && !dir->slots[dir->n_slots - 1].d)
		dir->n_slots--;
	dead = dir->n_slots - dir->n_live;
	if (dead >= DIR_TOMBSTONES_MIN && dead > dir->n_live)
		dir_compact(dir);
	ms_htab_remove(&fsm->dirents, d->hash, d);
	free(d);
}

static void readdir_add(struct rfs_readdir_reply *out, const char *name,
			size_t len, const struct ms_inode *in, uint64_t cookie)
{
	struct rfs_dirent *e = &out->entries[out->n++];

	e->ino = in->ino;
	e->mode = in->mode;
	e->cookie = cookie;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
}

static void readdir_fill(const struct ms_fsm *fsm, const struct ms_inode *in,
			 uint64_t cookie, size_t limit,
			 struct rfs_readdir_reply *out)
{
	const struct ms_dir *dir = in->u.dir;
	size_t i;

	if (cookie < MS_FSM_COOKIE_DOT)
		readdir_add(out, ".", 1, in, MS_FSM_COOKIE_DOT);
	if (cookie < MS_FSM_COOKIE_DOTDOT && out->n < limit)
		readdir_add(out, "..", 2, ms_fsm_inode(fsm, dir->parent),
			    MS_FSM_COOKIE_DOTDOT);
	i = dir_search(dir, cookie);
	for (; i < dir->n_slots && out->n < limit; i++) {
		const struct ms_dirent *d = dir->slots[i].d;

		if (d)
			readdir_add(out, d->name, d->name_len,
				    ms_fsm_inode(fsm, d->ino), d->cookie);
	}
	while (i < dir->n_slots && !dir->slots[i].d)
		i++;
	out->eof = i == dir->n_slots;
}

int ms_fsm_readdir(const struct ms_fsm *fsm, uint64_t ino, uint64_t cookie,
		   uint32_t limit, struct rfs_readdir_reply *out)
{
	struct ms_inode *in;
	size_t max = limit;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ms_fsm_dir_get(fsm, ino, &in);
	if (rc < 0)
		return rc;
	if (max == 0 || max > RFS_READDIR_MAX)
		max = RFS_READDIR_MAX;
	/* room for what can come back, not the whole limit */
	if (max > in->u.dir->n_live + 2)
		max = in->u.dir->n_live + 2;
	out->entries = calloc(max, sizeof(*out->entries));
	if (!out->entries)
		return -ENOMEM;
	readdir_fill(fsm, in, cookie, max, out);
	return 0;
}
