/*
 * ops_orphan: unlinked open files (docs/fuse.md, "Unlinked open files").
 * The mount counts its open handles per inode. While at least one
 * regular file is open, unlink and rename carry the mount's lock session;
 * when the metaserver answers that the op kept a file as an orphan of
 * that session, the mount releases it at once when the file is not open
 * here, else at the last release of the file. A mount that dies leaves
 * its orphans to the metaserver, which frees them when its session ends.
 *
 * One mutex guards the table; the counting and the decision to release
 * happen under it, so exactly one thread releases each orphan.
 */
#include <config.h>

#include "fuse-client/fc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define FC_ORPHAN_MIN_CAP 64

/* One inode open on this mount (or an orphan of it). */
struct fc_open_ino {
	uint64_t ino;
	uint32_t opens;	  /* open handles */
	uint64_t session; /* orphan of this session; 0: not an orphan */
};

struct fc_orphans {
	pthread_mutex_t mu;
	struct fc_open_ino *v; /* ascending ino */
	size_t n;
	size_t cap;
};

int fc_orphans_new(struct fc_orphans **out)
{
	struct fc_orphans *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	if (pthread_mutex_init(&o->mu, NULL) != 0) {
		free(o);
		return -ENOMEM;
	}
	*out = o;
	return 0;
}

void fc_orphans_free(struct fc_orphans *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->mu);
	free(o->v);
	free(o);
}

/* Position of ino, or where it would go. Under o->mu. */
static size_t pos_of(const struct fc_orphans *o, uint64_t ino)
{
	size_t lo = 0;
	size_t hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->v[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct fc_open_ino *find(struct fc_orphans *o, uint64_t ino)
{
	size_t i = pos_of(o, ino);

	return i < o->n && o->v[i].ino == ino ? &o->v[i] : NULL;
}

static void remove_entry(struct fc_orphans *o, struct fc_open_ino *e)
{
	size_t i = (size_t)(e - o->v);

	memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(*o->v));
	o->n--;
}

int fc_orphans_opened(struct fc_orphans *o, uint64_t ino)
{
	struct fc_open_ino *e;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&o->mu);
	e = find(o, ino);
	if (e) {
		e->opens++;
		goto out_unlock;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : FC_ORPHAN_MIN_CAP;
		struct fc_open_ino *v = realloc(o->v, cap * sizeof(*v));

		if (!v) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		o->v = v;
		o->cap = cap;
	}
	i = pos_of(o, ino);
	memmove(&o->v[i + 1], &o->v[i], (o->n - i) * sizeof(*o->v));
	o->v[i] = (struct fc_open_ino){.ino = ino, .opens = 1};
	o->n++;
out_unlock:
	pthread_mutex_unlock(&o->mu);
	return rc;
}

uint64_t fc_orphans_closed(struct fc_orphans *o, uint64_t ino)
{
	struct fc_open_ino *e;
	uint64_t session = 0;

	pthread_mutex_lock(&o->mu);
	e = find(o, ino);
	if (e && --e->opens == 0) {
		session = e->session;
		remove_entry(o, e);
	}
	pthread_mutex_unlock(&o->mu);
	return session;
}

bool fc_orphans_any_open(struct fc_orphans *o)
{
	bool any;

	pthread_mutex_lock(&o->mu);
	any = o->n > 0;
	pthread_mutex_unlock(&o->mu);
	return any;
}

bool fc_orphans_kept(struct fc_orphans *o, uint64_t ino, uint64_t session)
{
	struct fc_open_ino *e;

	pthread_mutex_lock(&o->mu);
	e = find(o, ino);
	if (e)
		e->session = session;
	pthread_mutex_unlock(&o->mu);
	return e == NULL;
}

/* --- the mount's side ----------------------------------------------------- */

uint64_t fc_orphan_session(struct fc_ctx *fc)
{
	if (!fc->orphans || !fc_orphans_any_open(fc->orphans))
		return 0;
	return fc_locks_session_id(fc);
}

void fc_orphan_release(struct fc_ctx *fc, uint64_t ino, uint64_t session)
{
	int rc = rfs_client_release_orphan(fc->c, ino, session);

	if (rc < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot free an unlinked file; the "
			     "metaserver frees it when this mount's session "
			     "ends\" ino=%llu err=%s",
			     (unsigned long long)ino, strerror(-rc));
}

void fc_orphan_after_unlink(struct fc_ctx *fc, uint64_t ino, uint64_t session)
{
	if (!ino)
		return;
	if (fc_orphans_kept(fc->orphans, ino, session))
		fc_orphan_release(fc, ino, session);
}

int fc_orphan_on_open(struct fc_ctx *fc, uint64_t ino)
{
	return fc->orphans ? fc_orphans_opened(fc->orphans, ino) : 0;
}

void fc_orphan_on_close(struct fc_ctx *fc, uint64_t ino)
{
	uint64_t session;

	if (!fc->orphans)
		return;
	session = fc_orphans_closed(fc->orphans, ino);
	if (session)
		fc_orphan_release(fc, ino, session);
}
