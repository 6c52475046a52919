/*
 * fsm_orphan: unlinked files still open on a client (POSIX keeps them
 * usable until the last close). An unlink or rename sent with a lock
 * session that drops the last link of a regular file keeps the inode
 * and its chunks as an orphan of that session, in a table ordered by
 * ino (part of the state and of the snapshot). release_orphan (the
 * client's last close) and drop_orphans (the session ended) free them.
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ORPHAN_MIN_CAP 16

/* Position of ino in the table, or where it would go. */
static size_t orphan_pos(const struct ms_fsm *fsm, uint64_t ino)
{
	size_t lo = 0;
	size_t hi = fsm->n_orphans;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (fsm->orphans[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct ms_orphan *ms_fsm_orphan_find(const struct ms_fsm *fsm, uint64_t ino)
{
	size_t i = orphan_pos(fsm, ino);

	if (i < fsm->n_orphans && fsm->orphans[i].ino == ino)
		return &fsm->orphans[i];
	return NULL;
}

static int orphan_grow(struct ms_fsm *fsm)
{
	size_t cap = fsm->cap_orphans ? fsm->cap_orphans * 2 : ORPHAN_MIN_CAP;
	struct ms_orphan *v;

	if (fsm->n_orphans < fsm->cap_orphans)
		return 0;
	v = realloc(fsm->orphans, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	fsm->orphans = v;
	fsm->cap_orphans = cap;
	return 0;
}

int ms_fsm_orphan_reserve(struct ms_fsm *fsm, const struct rfs_op *op)
{
	if (!op->session || fsm->n_orphans >= MS_FSM_ORPHANS_MAX)
		return 0;
	return orphan_grow(fsm);
}

/* Needs room (orphan_grow); ino must not be in the table. */
static void orphan_insert(struct ms_fsm *fsm, uint64_t ino, uint64_t session)
{
	size_t i = orphan_pos(fsm, ino);

	memmove(&fsm->orphans[i + 1], &fsm->orphans[i],
		(fsm->n_orphans - i) * sizeof(*fsm->orphans));
	fsm->orphans[i].ino = ino;
	fsm->orphans[i].session = session;
	fsm->n_orphans++;
}

static void orphan_remove_at(struct ms_fsm *fsm, size_t i)
{
	memmove(&fsm->orphans[i], &fsm->orphans[i + 1],
		(fsm->n_orphans - i - 1) * sizeof(*fsm->orphans));
	fsm->n_orphans--;
}

void ms_fsm_inode_drop_link(struct ms_fsm *fsm, struct ms_inode *in,
			    int64_t now, uint64_t session,
			    struct ms_fsm_result *res)
{
	/* room was reserved unless the table is full: then free at once */
	if (in->nlink == 1 && session && ms_fsm_is_reg(in) &&
	    fsm->n_orphans < fsm->cap_orphans &&
	    fsm->n_orphans < MS_FSM_ORPHANS_MAX) {
		in->nlink = 0;
		in->ctime_ns = now;
		orphan_insert(fsm, in->ino, session);
		res->orphan = in->ino;
		return;
	}
	ms_fsm_inode_unref(fsm, in, now);
}

/* Frees the orphan at table position i with its inode and chunks. */
static void orphan_free_at(struct ms_fsm *fsm, size_t i)
{
	struct ms_inode *in = ms_fsm_inode(fsm, fsm->orphans[i].ino);

	orphan_remove_at(fsm, i);
	if (in)
		ms_fsm_inode_destroy(fsm, in);
}

/*
 * Idempotent: an inode already gone is success (a retried request). An
 * inode that is not an orphan is -EINVAL; an orphan of another session
 * -EPERM (that client may still have it open).
 */
int ms_fsm_do_release_orphan(struct ms_fsm *fsm, const struct rfs_op *op,
			     struct ms_fsm_result *res)
{
	struct ms_orphan *o;

	if (!op->session || !op->ino)
		return -EINVAL;
	o = ms_fsm_orphan_find(fsm, op->ino);
	if (!o)
		return ms_fsm_inode(fsm, op->ino) ? -EINVAL : 0;
	if (o->session != op->session)
		return -EPERM;
	orphan_free_at(fsm, (size_t)(o - fsm->orphans));
	return 0;
}

int ms_fsm_do_drop_orphans(struct ms_fsm *fsm, const struct rfs_op *op,
			   struct ms_fsm_result *res)
{
	size_t i = 0;

	if (!op->session)
		return -EINVAL;
	while (i < fsm->n_orphans) {
		if (fsm->orphans[i].session == op->session)
			orphan_free_at(fsm, i);
		else
			i++;
	}
	return 0;
}

int ms_fsm_orphan_restore(struct ms_fsm *fsm, uint64_t ino, uint64_t session)
{
	int rc;

	if (fsm->n_orphans && fsm->orphans[fsm->n_orphans - 1].ino >= ino)
		return -EBADMSG;
	rc = orphan_grow(fsm);
	if (rc == 0)
		orphan_insert(fsm, ino, session);
	return rc;
}

size_t ms_fsm_orphan_count(const struct ms_fsm *fsm)
{
	return fsm->n_orphans;
}

int ms_fsm_orphan_at(const struct ms_fsm *fsm, size_t i, uint64_t *ino,
		     uint64_t *session)
{
	if (i >= fsm->n_orphans)
		return -ENOENT;
	*ino = fsm->orphans[i].ino;
	*session = fsm->orphans[i].session;
	return 0;
}
