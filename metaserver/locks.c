#include <config.h>
#include "metaserver/locks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Buckets of a new hash index; it doubles when it holds more entries. */
#define LK_HASH_MIN_BUCKETS 64

/* --- a u64-keyed intrusive hash index (chained) ------------------------ */

struct lk_hnode {
	uint64_t key;
	struct lk_hnode *next;
};

struct lk_hash {
	struct lk_hnode **b;
	size_t nb; /* 0 or a power of two */
	size_t n;
};

static size_t lk_slot(uint64_t key, size_t nb)
{
	/* splitmix64 finaliser: ids and inode numbers spread evenly */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & (nb - 1);
}

static struct lk_hnode *lk_hash_find(const struct lk_hash *h, uint64_t key)
{
	struct lk_hnode *e;

	if (!h->nb)
		return NULL;
	for (e = h->b[lk_slot(key, h->nb)]; e; e = e->next)
		if (e->key == key)
			return e;
	return NULL;
}

/* Room for one more entry; 0 or -ENOMEM (h unchanged). */
static int lk_hash_reserve(struct lk_hash *h)
{
	struct lk_hnode **b;
	struct lk_hnode *e;
	size_t nb;
	size_t i;

	if (h->nb && h->n < h->nb)
		return 0;
	nb = h->nb ? h->nb * 2 : LK_HASH_MIN_BUCKETS;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < h->nb; i++) {
		while ((e = h->b[i])) {
			h->b[i] = e->next;
			e->next = b[lk_slot(e->key, nb)];
			b[lk_slot(e->key, nb)] = e;
		}
	}
	free(h->b);
	h->b = b;
	h->nb = nb;
	return 0;
}

/* Needs a prior lk_hash_reserve; key must not be present. */
static void lk_hash_insert(struct lk_hash *h, struct lk_hnode *e)
{
	size_t s = lk_slot(e->key, h->nb);

	e->next = h->b[s];
	h->b[s] = e;
	h->n++;
}

static void lk_hash_remove(struct lk_hash *h, struct lk_hnode *e)
{
	struct lk_hnode **p = &h->b[lk_slot(e->key, h->nb)];

	while (*p && *p != e)
		p = &(*p)->next;
	if (*p) {
		*p = e->next;
		h->n--;
	}
}

/* --- the table ---------------------------------------------------------- */

struct lk_owner;

struct lk_session {
	struct lk_hnode h; /* key: session id; first member */
	int64_t expires_ms;
	size_t n_ranges; /* over all its owners */
	struct lk_owner *owners;
	struct lk_session *prev;
	struct lk_session *next;
};

struct lk_inode {
	struct lk_hnode h; /* key: ino; first member */
	struct lk_owner *owners;
};

/* What one (session, kind, owner) holds on one inode. */
struct lk_owner {
	struct lk_session *session;
	struct lk_inode *inode;
	uint64_t owner;
	uint32_t kind;
	struct rfs_lockrange ranges; /* never empty while linked */
	struct lk_owner *s_prev;     /* in session->owners */
	struct lk_owner *s_next;
	struct lk_owner *i_prev; /* in inode->owners */
	struct lk_owner *i_next;
};

struct ms_locks {
	uint32_t lease_ms;
	bool serving;
	int64_t grace_end_ms;
	struct lk_hash sessions;
	struct lk_hash inodes;
	struct lk_session *all; /* every session, for expiry */
	size_t n_owners;
	size_t n_ranges;
};

struct ms_locks *ms_locks_new(uint32_t lease_ms)
{
	struct ms_locks *l = calloc(1, sizeof(*l));

	if (l)
		l->lease_ms = lease_ms ? lease_ms : 1;
	return l;
}

uint32_t ms_locks_lease_ms(const struct ms_locks *l)
{
	return l->lease_ms;
}

static struct lk_session *session_find(const struct ms_locks *l, uint64_t id)
{
	return (struct lk_session *)lk_hash_find(&l->sessions, id);
}

static struct lk_inode *inode_find(const struct ms_locks *l, uint64_t ino)
{
	return (struct lk_inode *)lk_hash_find(&l->inodes, ino);
}

/* Unlink and free o; its inode goes too once it has no owner left. */
static void owner_free(struct ms_locks *l, struct lk_owner *o)
{
	struct lk_inode *in = o->inode;
	struct lk_session *s = o->session;

	if (o->s_prev)
		o->s_prev->s_next = o->s_next;
	else
		s->owners = o->s_next;
	if (o->s_next)
		o->s_next->s_prev = o->s_prev;
	if (o->i_prev)
		o->i_prev->i_next = o->i_next;
	else
		in->owners = o->i_next;
	if (o->i_next)
		o->i_next->i_prev = o->i_prev;
	s->n_ranges -= o->ranges.n;
	l->n_ranges -= o->ranges.n;
	l->n_owners--;
	rfs_lockrange_release(&o->ranges);
	free(o);
	if (!in->owners) {
		lk_hash_remove(&l->inodes, &in->h);
		free(in);
	}
}

static void session_free(struct ms_locks *l, struct lk_session *s)
{
	while (s->owners)
		owner_free(l, s->owners);
	lk_hash_remove(&l->sessions, &s->h);
	if (s->prev)
		s->prev->next = s->next;
	else
		l->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

static void drop_all(struct ms_locks *l)
{
	while (l->all)
		session_free(l, l->all);
}

void ms_locks_free(struct ms_locks *l)
{
	if (!l)
		return;
	drop_all(l);
	free(l->sessions.b);
	free(l->inodes.b);
	free(l);
}

void ms_locks_serving(struct ms_locks *l, int64_t now_ms)
{
	if (!l->serving) {
		l->serving = true;
		l->grace_end_ms = now_ms + l->lease_ms;
	}
}

size_t ms_locks_tick(struct ms_locks *l, int64_t now_ms, bool serving)
{
	struct lk_session *s;
	struct lk_session *next;
	size_t dropped = 0;

	if (!serving) {
		if (l->serving)
			dropped = l->sessions.n;
		drop_all(l);
		l->serving = false;
		return dropped;
	}
	ms_locks_serving(l, now_ms);
	for (s = l->all; s; s = next) {
		next = s->next;
		if (s->expires_ms <= now_ms) {
			session_free(l, s);
			dropped++;
		}
	}
	return dropped;
}

bool ms_locks_in_grace(const struct ms_locks *l, int64_t now_ms,
		       int64_t *left_ms)
{
	bool in = l->serving && now_ms < l->grace_end_ms;

	if (left_ms)
		*left_ms = in ? l->grace_end_ms - now_ms : 0;
	return in;
}

int ms_locks_session_open(struct ms_locks *l, uint64_t id, int64_t now_ms)
{
	struct lk_session *s;

	if (id == 0)
		return -EINVAL;
	if (session_find(l, id))
		return -EEXIST;
	if (l->sessions.n >= MS_LOCKS_SESSIONS_MAX)
		return -ENOLCK;
	s = calloc(1, sizeof(*s));
	if (!s || lk_hash_reserve(&l->sessions) < 0) {
		free(s);
		return -ENOMEM;
	}
	s->h.key = id;
	s->expires_ms = now_ms + l->lease_ms;
	lk_hash_insert(&l->sessions, &s->h);
	s->next = l->all;
	if (l->all)
		l->all->prev = s;
	l->all = s;
	return 0;
}

bool ms_locks_session_exists(const struct ms_locks *l, uint64_t id)
{
	return session_find(l, id) != NULL;
}

int ms_locks_session_renew(struct ms_locks *l, uint64_t id, int64_t now_ms)
{
	struct lk_session *s = session_find(l, id);

	if (!s)
		return -ESTALE;
	s->expires_ms = now_ms + l->lease_ms;
	return 0;
}

int ms_locks_session_close(struct ms_locks *l, uint64_t id)
{
	struct lk_session *s = session_find(l, id);

	if (!s)
		return -ESTALE;
	session_free(l, s);
	return 0;
}

/* --- requests ----------------------------------------------------------- */

static int check_request(const struct rfs_lock *r)
{
	if (r->session == 0 || r->ino == 0 || r->start > r->end)
		return -EINVAL;
	if (r->type != RFS_LOCK_UN && r->type != RFS_LOCK_RD &&
	    r->type != RFS_LOCK_WR)
		return -EINVAL;
	if (r->kind == RFS_LOCK_FLOCK)
		return r->start == 0 && r->end == RFS_LOCK_EOF ? 0 : -EINVAL;
	return r->kind == RFS_LOCK_POSIX ? 0 : -EINVAL;
}

static bool is_owner(const struct lk_owner *o, const struct rfs_lock *r)
{
	return o->session->h.key == r->session && o->kind == r->kind &&
	       o->owner == r->owner;
}

/*
 * The first lock of another owner of r's kind on in that conflicts with
 * r; *mine gets r's own entry (NULL if it holds nothing there).
 */
static const struct rfs_lock_range *find_conflict(const struct lk_inode *in,
						  const struct rfs_lock *r,
						  struct lk_owner **mine)
{
	const struct rfs_lock_range *c = NULL;
	const struct rfs_lock_range *x;
	struct lk_owner *o;

	*mine = NULL;
	for (o = in ? in->owners : NULL; o; o = o->i_next) {
		if (is_owner(o, r)) {
			*mine = o;
			continue;
		}
		if (o->kind != r->kind || c)
			continue;
		x = rfs_lockrange_conflict(&o->ranges, r->start, r->end,
					   r->type);
		if (x)
			c = x;
	}
	return c;
}

/* A new, empty owner entry for r on its inode (created if needed). */
static int owner_new(struct ms_locks *l, struct lk_session *s,
		     const struct rfs_lock *r, struct lk_owner **out)
{
	struct lk_inode *in = inode_find(l, r->ino);
	struct lk_owner *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	if (!in) {
		in = calloc(1, sizeof(*in));
		if (!in || lk_hash_reserve(&l->inodes) < 0) {
			free(in);
			free(o);
			return -ENOMEM;
		}
		in->h.key = r->ino;
		lk_hash_insert(&l->inodes, &in->h);
	}
	o->session = s;
	o->inode = in;
	o->owner = r->owner;
	o->kind = r->kind;
	rfs_lockrange_init(&o->ranges);
	o->s_next = s->owners;
	if (s->owners)
		s->owners->s_prev = o;
	s->owners = o;
	o->i_next = in->owners;
	if (in->owners)
		in->owners->i_prev = o;
	in->owners = o;
	l->n_owners++;
	*out = o;
	return 0;
}

/* Apply r to its owner's ranges (creating the owner entry if needed). */
static int apply(struct ms_locks *l, struct lk_session *s,
		 const struct rfs_lock *r, struct lk_owner *o)
{
	size_t before;
	size_t max;
	int rc;

	if (!o && r->type == RFS_LOCK_UN)
		return 0;
	if (!o) {
		rc = owner_new(l, s, r, &o);
		if (rc < 0)
			return rc;
	}
	before = o->ranges.n;
	max = MS_LOCKS_SESSION_RANGES_MAX - (s->n_ranges - before);
	rc = rfs_lockrange_set(&o->ranges, r->start, r->end, r->type, r->pid,
			       max);
	if (rc == 0) {
		s->n_ranges = s->n_ranges - before + o->ranges.n;
		l->n_ranges = l->n_ranges - before + o->ranges.n;
	}
	if (rfs_lockrange_is_empty(&o->ranges))
		owner_free(l, o);
	return rc;
}

int ms_locks_set(struct ms_locks *l, const struct rfs_lock *r, int64_t now_ms,
		 struct rfs_lock_range *conflict)
{
	const struct rfs_lock_range *c;
	struct lk_session *s;
	struct lk_owner *mine;
	int rc = check_request(r);

	if (rc < 0)
		return rc;
	s = session_find(l, r->session);
	if (!s)
		return -ESTALE;
	if (r->type != RFS_LOCK_UN) {
		bool grace = ms_locks_in_grace(l, now_ms, NULL);

		if (grace && !r->reclaim)
			return -EAGAIN;
		if (!grace && r->reclaim)
			return -ENOLCK;
	}
	c = find_conflict(inode_find(l, r->ino), r, &mine);
	if (c) {
		if (conflict)
			*conflict = *c;
		return -EBUSY;
	}
	rc = apply(l, s, r, mine);
	if (rc == 0)
		s->expires_ms = now_ms + l->lease_ms;
	return rc;
}

int ms_locks_test(const struct ms_locks *l, const struct rfs_lock *r,
		  struct rfs_lock_range *holder)
{
	const struct rfs_lock_range *c;
	struct lk_owner *mine;
	int rc = check_request(r);

	memset(holder, 0, sizeof(*holder));
	if (rc < 0)
		return rc;
	if (!session_find(l, r->session))
		return -ESTALE;
	c = find_conflict(inode_find(l, r->ino), r, &mine);
	if (c)
		*holder = *c;
	else
		holder->type = RFS_LOCK_UN;
	return 0;
}

void ms_locks_stats(const struct ms_locks *l, struct ms_locks_stats *out)
{
	out->sessions = l->sessions.n;
	out->owners = l->n_owners;
	out->ranges = l->n_ranges;
	out->inodes = l->inodes.n;
}
