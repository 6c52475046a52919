#include <config.h>
#include "fuse-client/ncache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/dlist.h"

/* Directories whose lookups and listings are tracked (direct-mapped). */
#define NC_DIR_SLOTS 1024
/* Changes remembered for the listings in flight: a listing that started
 * more changes ago than this stores nothing. */
#define NC_LOG 512

struct nc_entry {
	struct nc_entry *next_name; /* bucket chain by (parent, name) */
	struct nc_entry *next_ino;  /* bucket chain by attr.ino */
	struct rfs_dlink age;	    /* fc_ncache.by_age */
	uint64_t parent;
	int64_t expires_ns;
	struct rfs_attr attr;
	char name[]; /* NUL-terminated */
};

struct nc_dir {
	uint64_t ino;
	int64_t found_ns;  /* last lookup that found an entry; 0: none */
	int64_t filled_ns; /* last listing; 0: none */
};

/* One change seen by fc_ncache_on_change. */
struct nc_change {
	uint64_t ino;	  /* 0: none */
	size_t name_h[2]; /* name_hash of its names; named[i] says if set */
	bool named[2];
};

struct fc_ncache {
	pthread_mutex_t mu;
	size_t max;
	size_t n;
	size_t mask; /* buckets - 1 (a power of two) */
	int64_t ttl_ns;
	uint64_t gen;
	struct nc_entry **by_name;
	struct nc_entry **by_ino;
	struct rfs_dlist by_age; /* eviction order: the oldest stored first */
	struct nc_dir dirs[NC_DIR_SLOTS];
	struct nc_change log[NC_LOG]; /* change gen g at log[g % NC_LOG] */
};

int fc_ncache_new(size_t max, double ttl_s, struct fc_ncache **out)
{
	struct fc_ncache *nc;
	size_t buckets = 1;

	if (max == 0 || max > (SIZE_MAX >> 2))
		return -EINVAL;
	while (buckets < max)
		buckets <<= 1;
	nc = calloc(1, sizeof(*nc));
	if (nc == NULL)
		return -ENOMEM;
	nc->by_name = calloc(buckets, sizeof(*nc->by_name));
	nc->by_ino = calloc(buckets, sizeof(*nc->by_ino));
	if (nc->by_name == NULL || nc->by_ino == NULL) {
		free(nc->by_name);
		free(nc->by_ino);
		free(nc);
		return -ENOMEM;
	}
	pthread_mutex_init(&nc->mu, NULL);
	nc->max = max;
	nc->mask = buckets - 1;
	nc->ttl_ns = ttl_s > 0 ? (int64_t)(ttl_s * 1e9) : 0;
	*out = nc;
	return 0;
}

void fc_ncache_free(struct fc_ncache *nc)
{
	struct rfs_dlink *l;

	if (nc == NULL)
		return;
	while ((l = nc->by_age.head) != NULL) {
		rfs_dlist_remove(&nc->by_age, l);
		free(rfs_dlist_entry(l, struct nc_entry, age));
	}
	pthread_mutex_destroy(&nc->mu);
	free(nc->by_name);
	free(nc->by_ino);
	free(nc);
}

/* FNV-1a over the parent and the name. */
static size_t name_hash(uint64_t parent, const char *name)
{
	uint64_t h = 14695981039346656037ull ^ parent;
	const unsigned char *p;

	h *= 1099511628211ull;
	for (p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return (size_t)(h ^ (h >> 29));
}

static size_t ino_hash(uint64_t ino)
{
	return (size_t)(ino * 0x9e3779b97f4a7c15ull >> 17);
}

static struct nc_entry **name_link(struct fc_ncache *nc, uint64_t parent,
				   const char *name)
{
	struct nc_entry **pp = &nc->by_name[name_hash(parent, name) & nc->mask];

	while (*pp && !((*pp)->parent == parent && !strcmp((*pp)->name, name)))
		pp = &(*pp)->next_name;
	return pp;
}

/* Unlink e from both chains and the eviction list, and free it. */
static void entry_remove(struct fc_ncache *nc, struct nc_entry *e)
{
	struct nc_entry **pp = name_link(nc, e->parent, e->name);

	*pp = e->next_name;
	pp = &nc->by_ino[ino_hash(e->attr.ino) & nc->mask];
	while (*pp != e)
		pp = &(*pp)->next_ino;
	*pp = e->next_ino;
	rfs_dlist_remove(&nc->by_age, &e->age);
	nc->n--;
	free(e);
}

static void forget_ino(struct fc_ncache *nc, uint64_t ino)
{
	struct nc_entry *e = nc->by_ino[ino_hash(ino) & nc->mask];
	struct nc_entry *next;

	for (; e; e = next) {
		next = e->next_ino;
		if (e->attr.ino == ino)
			entry_remove(nc, e);
	}
}

/* The entry under parent/name and every other name of its inode. */
static void forget_name(struct fc_ncache *nc, uint64_t parent, const char *name)
{
	struct nc_entry *e = *name_link(nc, parent, name);

	if (e)
		forget_ino(nc, e->attr.ino);
}

static void store(struct fc_ncache *nc, uint64_t parent,
		  const struct rfs_dirent *d, int64_t expires_ns)
{
	size_t len = strlen(d->name);
	struct nc_entry **pp = name_link(nc, parent, d->name);
	struct nc_entry *e;

	if (*pp)
		entry_remove(nc, *pp);
	if (nc->n == nc->max)
		entry_remove(
		    nc, rfs_dlist_entry(nc->by_age.head, struct nc_entry, age));
	e = malloc(sizeof(*e) + len + 1);
	if (e == NULL)
		return; /* a cache: the lookup goes to the metaserver */
	memcpy(e->name, d->name, len + 1);
	e->parent = parent;
	e->expires_ns = expires_ns;
	e->attr = d->attr;
	pp = name_link(nc, parent, d->name); /* the removals moved it */
	e->next_name = *pp;
	*pp = e;
	pp = &nc->by_ino[ino_hash(e->attr.ino) & nc->mask];
	e->next_ino = *pp;
	*pp = e;
	rfs_dlist_push_tail(&nc->by_age, &e->age);
	nc->n++;
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

uint64_t fc_ncache_gen(struct fc_ncache *nc)
{
	uint64_t gen;

	if (nc == NULL)
		return 0;
	pthread_mutex_lock(&nc->mu);
	gen = nc->gen;
	pthread_mutex_unlock(&nc->mu);
	return gen;
}

/*
 * Whether a change made after generation gen may have touched d, listed
 * in parent: it changed d's inode or name, or changed some name while d
 * has other names (their nlink and ctime).
 */
static bool changed_since(const struct fc_ncache *nc, uint64_t gen,
			  uint64_t parent, const struct rfs_dirent *d)
{
	size_t h = name_hash(parent, d->name);
	const struct nc_change *c;
	uint64_t g;
	int i;

	for (g = gen + 1; g <= nc->gen; g++) {
		c = &nc->log[g % NC_LOG];
		if (c->ino == d->ino)
			return true;
		for (i = 0; i < 2; i++)
			if (c->named[i] &&
			    (c->name_h[i] == h || d->attr.nlink > 1))
				return true;
	}
	return false;
}

bool fc_ncache_fill(struct fc_ncache *nc, uint64_t parent,
		    const struct rfs_dirent *d, size_t n, uint64_t gen,
		    int64_t now_ns)
{
	bool ok;
	size_t i;

	if (nc == NULL || nc->ttl_ns == 0)
		return false;
	pthread_mutex_lock(&nc->mu);
	/* the changes since gen are all in the log */
	ok = nc->gen - gen < NC_LOG;
	for (i = 0; ok && i < n; i++)
		if (d[i].has_attr && d[i].attr.ino == d[i].ino &&
		    !is_dot_or_dotdot(d[i].name) &&
		    !changed_since(nc, gen, parent, &d[i]))
			store(nc, parent, &d[i], now_ns + nc->ttl_ns);
	pthread_mutex_unlock(&nc->mu);
	return ok;
}

bool fc_ncache_get(struct fc_ncache *nc, uint64_t parent, const char *name,
		   int64_t now_ns, struct rfs_attr *out, double *left_s)
{
	struct nc_entry *e;
	bool hit = false;

	if (nc == NULL || nc->ttl_ns == 0)
		return false;
	pthread_mutex_lock(&nc->mu);
	e = *name_link(nc, parent, name);
	if (e && e->expires_ns <= now_ns) {
		entry_remove(nc, e);
	} else if (e) {
		hit = true;
		*out = e->attr;
		if (left_s)
			*left_s = (double)(e->expires_ns - now_ns) / 1e9;
	}
	pthread_mutex_unlock(&nc->mu);
	return hit;
}

static struct nc_dir *dir_slot(struct fc_ncache *nc, uint64_t ino)
{
	struct nc_dir *s = &nc->dirs[ino % NC_DIR_SLOTS];

	if (s->ino != ino) {
		s->ino = ino;
		s->found_ns = 0;
		s->filled_ns = 0;
	}
	return s;
}

void fc_ncache_note_lookup(struct fc_ncache *nc, uint64_t parent,
			   int64_t now_ns)
{
	if (nc == NULL || nc->ttl_ns == 0)
		return;
	pthread_mutex_lock(&nc->mu);
	dir_slot(nc, parent)->found_ns = now_ns;
	pthread_mutex_unlock(&nc->mu);
}

bool fc_ncache_want_fill(struct fc_ncache *nc, uint64_t parent, int64_t now_ns)
{
	struct nc_dir *s;
	bool want;

	if (nc == NULL || nc->ttl_ns == 0)
		return false;
	pthread_mutex_lock(&nc->mu);
	s = dir_slot(nc, parent);
	want = s->found_ns && now_ns - s->found_ns < nc->ttl_ns &&
	       (s->filled_ns == 0 || now_ns - s->filled_ns >= nc->ttl_ns);
	if (want)
		s->filled_ns = now_ns;
	pthread_mutex_unlock(&nc->mu);
	return want;
}

/* Ops that change nothing: everything else passes fc_ncache_on_change. */
static bool op_reads_only(uint32_t type)
{
	switch (type) {
	case RFS_OP_LOOKUP:
	case RFS_OP_GETATTR:
	case RFS_OP_READLINK:
	case RFS_OP_READDIR:
	case RFS_OP_STATFS:
	case RFS_OP_GETXATTR:
	case RFS_OP_LISTXATTR:
	case RFS_OP_RESOLVE:
	case RFS_OP_LAYOUT:
		return true;
	default:
		return false;
	}
}

void fc_ncache_on_change(struct fc_ncache *nc, const struct rfs_op *op)
{
	struct nc_change *c;

	if (nc == NULL || op_reads_only(op->type))
		return;
	pthread_mutex_lock(&nc->mu);
	nc->gen++;
	c = &nc->log[nc->gen % NC_LOG];
	memset(c, 0, sizeof(*c));
	c->ino = op->ino;
	if (op->ino)
		forget_ino(nc, op->ino);
	if (op->parent && op->name[0]) {
		forget_name(nc, op->parent, op->name);
		c->named[0] = true;
		c->name_h[0] = name_hash(op->parent, op->name);
	}
	if (op->newparent && op->newname[0]) {
		forget_name(nc, op->newparent, op->newname);
		c->named[1] = true;
		c->name_h[1] = name_hash(op->newparent, op->newname);
	}
	pthread_mutex_unlock(&nc->mu);
}

size_t fc_ncache_count(struct fc_ncache *nc)
{
	size_t n;

	pthread_mutex_lock(&nc->mu);
	n = nc->n;
	pthread_mutex_unlock(&nc->mu);
	return n;
}
