/*
 * fsm_ns: namespace mutations with POSIX semantics: setattr, mkdir,
 * create, symlink, rmdir, unlink, link (rename is in fsm_rename.c).
 * Timestamps come from op->now_ns, chosen by the leader. The last
 * unlink frees an inode and its chunks at once, unless the op carries the
 * caller's session: then a regular file is kept as an orphan of that
 * session (fsm_orphan.c) until the caller releases it.
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Permission bits a client may set: rwx for all, setuid/setgid/sticky. */
#define NS_PERM_MASK 07777
#define NS_SETATTR_ALL                                                         \
	(RFS_SETATTR_MODE | RFS_SETATTR_UID | RFS_SETATTR_GID |                \
	 RFS_SETATTR_SIZE | RFS_SETATTR_ATIME | RFS_SETATTR_MTIME |            \
	 RFS_SETATTR_ATIME_NOW | RFS_SETATTR_MTIME_NOW)
#define NS_SYMLINK_MODE (S_IFLNK | 0777)

/*
 * The directory and validated name an entry op targets, and the entry
 * already there (NULL if none).
 */
static int ns_target(struct ms_fsm *fsm, uint64_t parent, const char *name,
		     struct ms_inode **dir, size_t *len,
		     struct ms_dirent **existing)
{
	int rc = ms_fsm_dir_get(fsm, parent, dir);

	if (rc < 0)
		return rc;
	rc = ms_fsm_name_check(name, len);
	if (rc < 0)
		return rc;
	*existing = ms_fsm_dirent_find(fsm, parent, name, *len);
	return 0;
}

static void ns_touch_dir(struct ms_inode *dir, int64_t now)
{
	dir->mtime_ns = now;
	dir->ctime_ns = now;
}

/*
 * The setgid-directory rule (BSD group semantics): an entry created in a
 * directory with S_ISGID gets the directory's group instead of the
 * caller's, and a new subdirectory inherits the S_ISGID bit itself. The
 * kernel has already dropped S_ISGID from the mode of a new file whose
 * creator is not in that group.
 */
static void ns_inherit_setgid(const struct ms_inode *parent,
			      struct ms_inode *in)
{
	if (!(parent->mode & S_ISGID))
		return;
	in->gid = parent->gid;
	if (ms_fsm_is_dir(in))
		in->mode |= S_ISGID;
}

/* Gives a detached new inode its number and links it as parent/name. */
static int ns_insert(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_inode *parent, size_t len, struct ms_inode *in,
		     struct ms_fsm_result *res)
{
	struct ms_dirent *d;
	int rc = ms_fsm_dirent_prepare(fsm, parent, op->name, len, &d);

	if (rc < 0)
		return rc;
	/* inode numbers are never reused: the last one is never handed out */
	if (fsm->next_ino == UINT64_MAX) {
		ms_fsm_dirent_abort(d);
		return -ENOSPC;
	}
	if (ms_htab_reserve(&fsm->inodes, 1) < 0) {
		ms_fsm_dirent_abort(d);
		return -ENOMEM;
	}
	in->ino = fsm->next_ino++;
	in->uid = op->uid;
	in->gid = op->gid;
	ns_inherit_setgid(parent, in);
	in->goal = parent->goal;
	in->atime_ns = op->now_ns;
	in->mtime_ns = op->now_ns;
	in->ctime_ns = op->now_ns;
	if (ms_fsm_is_dir(in)) {
		in->u.dir->parent = parent->ino;
		parent->nlink++;
	}
	ms_fsm_inode_insert(fsm, in);
	ms_fsm_dirent_link(fsm, parent, d, in->ino);
	ns_touch_dir(parent, op->now_ns);
	ms_fsm_attr_fill(in, &res->attr);
	return 0;
}

int ms_fsm_do_mkdir(struct ms_fsm *fsm, const struct rfs_op *op,
		    struct ms_fsm_result *res)
{
	struct ms_inode *parent;
	struct ms_inode *in;
	struct ms_dirent *existing;
	size_t len;
	int rc;

	rc = ns_target(fsm, op->parent, op->name, &parent, &len, &existing);
	if (rc < 0)
		return rc;
	if (existing)
		return -EEXIST;
	if (parent->nlink >= MS_FSM_NLINK_MAX)
		return -EMLINK;
	in = ms_fsm_inode_new(0, S_IFDIR | (op->mode & NS_PERM_MASK), 0);
	if (!in)
		return -ENOMEM;
	in->nlink = 2;
	rc = ns_insert(fsm, op, parent, len, in, res);
	if (rc < 0)
		ms_fsm_inode_free(in);
	return rc;
}

/* open(O_CREAT) on an existing name: the file itself unless O_EXCL. */
static int ns_create_existing(struct ms_fsm *fsm, const struct rfs_op *op,
			      const struct ms_dirent *d,
			      struct ms_fsm_result *res)
{
	const struct ms_inode *in = ms_fsm_inode(fsm, d->ino);

	if (op->flags & RFS_CREATE_EXCL)
		return -EEXIST;
	if (ms_fsm_is_dir(in))
		return -EISDIR;
	if (!ms_fsm_is_reg(in))
		return -EEXIST;
	ms_fsm_attr_fill(in, &res->attr);
	return 0;
}

int ms_fsm_do_create(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res)
{
	struct ms_inode *parent;
	struct ms_inode *in;
	struct ms_dirent *existing;
	size_t len;
	bool lease;
	int rc;

	if (op->flags & ~(RFS_CREATE_EXCL | RFS_CREATE_LEASE))
		return -EINVAL;
	rc = ns_target(fsm, op->parent, op->name, &parent, &len, &existing);
	if (rc < 0)
		return rc;
	if (existing)
		return ns_create_existing(fsm, op, existing, res);
	/* a lease the leader could not fill is left out, the file made */
	lease = (op->flags & RFS_CREATE_LEASE) &&
		ms_fsm_lease_first_check(fsm, op) == 0;
	in = ms_fsm_inode_new(0, S_IFREG | (op->mode & NS_PERM_MASK), 0);
	if (!in)
		return -ENOMEM;
	in->nlink = 1;
	rc = ns_insert(fsm, op, parent, len, in, res);
	if (rc < 0) {
		ms_fsm_inode_free(in);
		return rc;
	}
	/* only -ENOMEM is left to fail: the file then has no lease */
	if (lease)
		ms_fsm_lease_first(fsm, in, op, res ? &res->lease : NULL);
	return 0;
}

/* A symlink target: 1..RFS_PATH_MAX bytes without NUL (POSIX: an empty
 * target is ENOENT). */
static int ns_check_target(const struct rfs_op *op)
{
	if (op->data_len == 0 || !op->data)
		return -ENOENT;
	if (op->data_len > RFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (memchr(op->data, '\0', op->data_len))
		return -EINVAL;
	return 0;
}

int ms_fsm_do_symlink(struct ms_fsm *fsm, const struct rfs_op *op,
		      struct ms_fsm_result *res)
{
	struct ms_inode *parent;
	struct ms_inode *in;
	struct ms_dirent *existing;
	size_t len;
	int rc;

	rc = ns_target(fsm, op->parent, op->name, &parent, &len, &existing);
	if (rc < 0)
		return rc;
	if (existing)
		return -EEXIST;
	rc = ns_check_target(op);
	if (rc < 0)
		return rc;
	in = ms_fsm_inode_new(0, NS_SYMLINK_MODE, 0);
	if (!in)
		return -ENOMEM;
	in->nlink = 1;
	in->size = op->data_len;
	in->u.target = malloc(op->data_len + 1);
	if (!in->u.target) {
		rc = -ENOMEM;
		goto out_free_inode;
	}
	memcpy(in->u.target, op->data, op->data_len);
	in->u.target[op->data_len] = '\0';
	rc = ns_insert(fsm, op, parent, len, in, res);
	if (rc < 0)
		goto out_free_inode;
	return 0;

out_free_inode:
	ms_fsm_inode_free(in);
	return rc;
}

int ms_fsm_do_rmdir(struct ms_fsm *fsm, const struct rfs_op *op,
		    struct ms_fsm_result *res)
{
	struct ms_inode *parent;
	struct ms_inode *in;
	struct ms_dirent *d;
	size_t len;
	int rc;

	rc = ns_target(fsm, op->parent, op->name, &parent, &len, &d);
	if (rc < 0)
		return rc;
	if (!d)
		return -ENOENT;
	in = ms_fsm_inode(fsm, d->ino);
	if (!ms_fsm_is_dir(in))
		return -ENOTDIR;
	if (in->u.dir->n_live)
		return -ENOTEMPTY;
	ms_fsm_dirent_remove(fsm, parent, d);
	parent->nlink--;
	ns_touch_dir(parent, op->now_ns);
	ms_fsm_inode_destroy(fsm, in);
	return 0;
}

void ms_fsm_inode_unref(struct ms_fsm *fsm, struct ms_inode *in, int64_t now)
{
	in->nlink--;
	in->ctime_ns = now;
	if (in->nlink == 0)
		ms_fsm_inode_destroy(fsm, in);
}

int ms_fsm_do_unlink(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res)
{
	struct ms_inode *parent;
	struct ms_inode *in;
	struct ms_dirent *d;
	size_t len;
	int rc;

	rc = ns_target(fsm, op->parent, op->name, &parent, &len, &d);
	if (rc < 0)
		return rc;
	if (!d)
		return -ENOENT;
	in = ms_fsm_inode(fsm, d->ino);
	if (ms_fsm_is_dir(in))
		return -EISDIR;
	rc = ms_fsm_orphan_reserve(fsm, op);
	if (rc < 0)
		return rc;
	ms_fsm_dirent_remove(fsm, parent, d);
	ns_touch_dir(parent, op->now_ns);
	ms_fsm_inode_drop_link(fsm, in, op->now_ns, op->session, res);
	return 0;
}

int ms_fsm_do_link(struct ms_fsm *fsm, const struct rfs_op *op,
		   struct ms_fsm_result *res)
{
	struct ms_inode *in = ms_fsm_inode(fsm, op->ino);
	struct ms_inode *parent;
	struct ms_dirent *d;
	size_t len;
	int rc;

	/* an orphan (nlink 0) gets no new name, as on Linux */
	if (!in || in->nlink == 0)
		return -ENOENT;
	if (ms_fsm_is_dir(in))
		return -EPERM;
	rc = ns_target(fsm, op->newparent, op->newname, &parent, &len, &d);
	if (rc < 0)
		return rc;
	if (d)
		return -EEXIST;
	if (in->nlink >= MS_FSM_NLINK_MAX)
		return -EMLINK;
	rc = ms_fsm_dirent_prepare(fsm, parent, op->newname, len, &d);
	if (rc < 0)
		return rc;
	ms_fsm_dirent_link(fsm, parent, d, in->ino);
	in->nlink++;
	in->ctime_ns = op->now_ns;
	ns_touch_dir(parent, op->now_ns);
	ms_fsm_attr_fill(in, &res->attr);
	return 0;
}

/* Size change of a regular file: truncation frees chunks past the end. */
static void ns_set_size(struct ms_fsm *fsm, struct ms_inode *in,
			const struct rfs_op *op)
{
	if (op->size == in->size)
		return;
	if (op->size < in->size)
		ms_fsm_file_truncate(fsm, in, op->size);
	in->size = op->size;
	if (!(op->valid & (RFS_SETATTR_MTIME | RFS_SETATTR_MTIME_NOW)))
		in->mtime_ns = op->now_ns;
}

static int ns_check_setattr(const struct ms_inode *in, const struct rfs_op *op)
{
	if (op->valid & ~NS_SETATTR_ALL)
		return -EINVAL;
	if (!(op->valid & RFS_SETATTR_SIZE))
		return 0;
	if (ms_fsm_is_dir(in))
		return -EISDIR;
	if (!ms_fsm_is_reg(in))
		return -EINVAL;
	if (op->size > MS_FSM_FILE_SIZE_MAX)
		return -EFBIG;
	return 0;
}

int ms_fsm_setattr_check(const struct ms_inode *in, const struct rfs_op *op)
{
	return ns_check_setattr(in, op);
}

void ms_fsm_setattr_apply(struct ms_fsm *fsm, struct ms_inode *in,
			  const struct rfs_op *op)
{
	uint32_t valid = op->valid;

	if (valid & RFS_SETATTR_MODE)
		in->mode = (in->mode & S_IFMT) | (op->mode & NS_PERM_MASK);
	if (valid & RFS_SETATTR_UID)
		in->uid = op->uid;
	if (valid & RFS_SETATTR_GID)
		in->gid = op->gid;
	if (valid & RFS_SETATTR_SIZE)
		ns_set_size(fsm, in, op);
	if (valid & RFS_SETATTR_ATIME_NOW)
		in->atime_ns = op->now_ns;
	else if (valid & RFS_SETATTR_ATIME)
		in->atime_ns = op->atime_ns;
	if (valid & RFS_SETATTR_MTIME_NOW)
		in->mtime_ns = op->now_ns;
	else if (valid & RFS_SETATTR_MTIME)
		in->mtime_ns = op->mtime_ns;
	if (valid)
		in->ctime_ns = op->now_ns;
}

int ms_fsm_do_setattr(struct ms_fsm *fsm, const struct rfs_op *op,
		      struct ms_fsm_result *res)
{
	struct ms_inode *in = ms_fsm_inode(fsm, op->ino);
	int rc;

	if (!in)
		return -ENOENT;
	rc = ns_check_setattr(in, op);
	if (rc < 0)
		return rc;
	ms_fsm_setattr_apply(fsm, in, op);
	ms_fsm_attr_fill(in, &res->attr);
	return 0;
}
