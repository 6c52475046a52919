/*
 * fsm_rename: rename(2) / renameat2(2) on the state, atomic by
 * construction (one apply). Checks follow Linux order: lookups (ENOENT,
 * ENOTDIR), flags (EEXIST for NOREPLACE, ENOENT for EXCHANGE without a
 * target), same inode (success, nothing done), own subtree (EINVAL), then
 * the replace rules (EISDIR, ENOTDIR, ENOTEMPTY).
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>

#define RENAME_FLAGS (RFS_RENAME_NOREPLACE | RFS_RENAME_EXCHANGE)

struct rename_ctx {
	struct ms_inode *sdir; /* old parent */
	struct ms_inode *ddir; /* new parent */
	struct ms_dirent *sd;  /* old entry */
	struct ms_dirent *dd;  /* new entry, NULL when absent */
	struct ms_inode *src;
	struct ms_inode *dst; /* NULL when absent */
	size_t dlen;
	int64_t now;
};

static int rename_lookup(struct ms_fsm *fsm, const struct rfs_op *op,
			 struct rename_ctx *r)
{
	size_t slen;
	int rc;

	rc = ms_fsm_dir_get(fsm, op->parent, &r->sdir);
	if (rc < 0)
		return rc;
	rc = ms_fsm_dir_get(fsm, op->newparent, &r->ddir);
	if (rc < 0)
		return rc;
	rc = ms_fsm_name_check(op->name, &slen);
	if (rc < 0)
		return rc;
	rc = ms_fsm_name_check(op->newname, &r->dlen);
	if (rc < 0)
		return rc;
	r->sd = ms_fsm_dirent_find(fsm, op->parent, op->name, slen);
	if (!r->sd)
		return -ENOENT;
	r->src = ms_fsm_inode(fsm, r->sd->ino);
	r->dd = ms_fsm_dirent_find(fsm, op->newparent, op->newname, r->dlen);
	r->dst = r->dd ? ms_fsm_inode(fsm, r->dd->ino) : NULL;
	r->now = op->now_ns;
	return 0;
}

/* Is dir the directory ancestor or one of its descendants? */
static bool rename_in_subtree(const struct ms_fsm *fsm,
			      const struct ms_inode *dir,
			      const struct ms_inode *ancestor)
{
	/* the tree is acyclic, so the walk ends at the root */
	for (;;) {
		if (dir == ancestor)
			return true;
		if (dir->ino == RFS_ROOT_INO)
			return false;
		dir = ms_fsm_inode(fsm, dir->u.dir->parent);
	}
}

static void rename_touch(struct rename_ctx *r)
{
	r->src->ctime_ns = r->now;
	r->sdir->mtime_ns = r->now;
	r->sdir->ctime_ns = r->now;
	r->ddir->mtime_ns = r->now;
	r->ddir->ctime_ns = r->now;
}

/* A directory changes parent: move its ".." link. */
static void rename_reparent(struct ms_inode *dir, struct ms_inode *from,
			    struct ms_inode *to)
{
	if (!ms_fsm_is_dir(dir) || from == to)
		return;
	from->nlink--;
	to->nlink++;
	dir->u.dir->parent = to->ino;
}

/* Target name absent: a new entry in ddir, the old one removed. */
static int rename_move(struct ms_fsm *fsm, const struct rfs_op *op,
		       struct rename_ctx *r)
{
	struct ms_dirent *nd;
	int rc;

	if (ms_fsm_is_dir(r->src) && r->sdir != r->ddir &&
	    r->ddir->nlink >= MS_FSM_NLINK_MAX)
		return -EMLINK;
	rc = ms_fsm_dirent_prepare(fsm, r->ddir, op->newname, r->dlen, &nd);
	if (rc < 0)
		return rc;
	ms_fsm_dirent_remove(fsm, r->sdir, r->sd);
	ms_fsm_dirent_link(fsm, r->ddir, nd, r->src->ino);
	rename_reparent(r->src, r->sdir, r->ddir);
	rename_touch(r);
	return 0;
}

/* Target present and compatible: it takes src's inode, keeps its cookie.
 * A file losing its last link this way may become an orphan of
 * op->session, as with unlink. */
static int rename_replace(struct ms_fsm *fsm, const struct rfs_op *op,
			  struct rename_ctx *r, struct ms_fsm_result *res)
{
	int rc;

	if (ms_fsm_is_dir(r->src)) {
		if (!ms_fsm_is_dir(r->dst))
			return -ENOTDIR;
		if (r->dst->u.dir->n_live)
			return -ENOTEMPTY;
	} else if (ms_fsm_is_dir(r->dst)) {
		return -EISDIR;
	}
	rc = ms_fsm_orphan_reserve(fsm, op);
	if (rc < 0)
		return rc;
	r->dd->ino = r->src->ino;
	ms_fsm_dirent_remove(fsm, r->sdir, r->sd);
	if (ms_fsm_is_dir(r->dst)) {
		r->ddir->nlink--;
		ms_fsm_inode_destroy(fsm, r->dst);
	} else {
		ms_fsm_inode_drop_link(fsm, r->dst, r->now, op->session, res);
	}
	rename_reparent(r->src, r->sdir, r->ddir);
	rename_touch(r);
	return 0;
}

/* Would exchanging make the directory `to` hold one more subdirectory
 * than it may? */
static bool rename_exchange_overflows(const struct rename_ctx *r)
{
	bool sdir_is = ms_fsm_is_dir(r->src);
	bool ddir_is = ms_fsm_is_dir(r->dst);

	if (r->sdir == r->ddir || sdir_is == ddir_is)
		return false;
	if (sdir_is)
		return r->ddir->nlink >= MS_FSM_NLINK_MAX;
	return r->sdir->nlink >= MS_FSM_NLINK_MAX;
}

static int rename_exchange(struct rename_ctx *r)
{
	if (rename_exchange_overflows(r))
		return -EMLINK;
	r->sd->ino = r->dst->ino;
	r->dd->ino = r->src->ino;
	rename_reparent(r->src, r->sdir, r->ddir);
	rename_reparent(r->dst, r->ddir, r->sdir);
	r->dst->ctime_ns = r->now;
	rename_touch(r);
	return 0;
}

int ms_fsm_do_rename(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res)
{
	struct rename_ctx r = {0};
	bool exchange = op->flags & RFS_RENAME_EXCHANGE;
	int rc;

	if ((op->flags & ~RENAME_FLAGS) || op->flags == RENAME_FLAGS)
		return -EINVAL;
	rc = rename_lookup(fsm, op, &r);
	if (rc < 0)
		return rc;
	if (r.dst && (op->flags & RFS_RENAME_NOREPLACE))
		return -EEXIST;
	if (!r.dst && exchange)
		return -ENOENT;
	if (r.dst == r.src)
		return 0;
	if (ms_fsm_is_dir(r.src) && rename_in_subtree(fsm, r.ddir, r.src))
		return -EINVAL;
	if (exchange && ms_fsm_is_dir(r.dst) &&
	    rename_in_subtree(fsm, r.sdir, r.dst))
		return -EINVAL;
	if (exchange)
		return rename_exchange(&r);
	if (r.dst)
		return rename_replace(fsm, op, &r, res);
	return rename_move(fsm, op, &r);
}
