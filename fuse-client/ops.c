#include <config.h>

#include "fuse-client/fc.h"

#include <errno.h>
#include <stdio.h> /* RENAME_NOREPLACE, RENAME_EXCHANGE */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

/* Nanoseconds per second, for timespec conversions. */
#define FC_NS_PER_S 1000000000LL

static void ts_from_ns(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / FC_NS_PER_S);
	ts->tv_nsec = (long)(ns % FC_NS_PER_S);
	if (ts->tv_nsec < 0) {
		ts->tv_sec--;
		ts->tv_nsec += FC_NS_PER_S;
	}
}

static int64_t ns_from_ts(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * FC_NS_PER_S + ts->tv_nsec;
}

void fc_attr_to_stat(const struct rfs_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blksize = FC_MAX_IO_BYTES;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	ts_from_ns(a->atime_ns, &st->st_atim);
	ts_from_ns(a->mtime_ns, &st->st_mtim);
	ts_from_ns(a->ctime_ns, &st->st_ctim);
}

/*
 * Report the longer size, or the kernel would cut its own (correct) idea
 * of the size back, and the attributes a kept setattr will set.
 */
void fc_attr_add_dirty(struct fc_ctx *fc, struct rfs_attr *a)
{
	struct fc_file *f;

	if (!S_ISREG(a->mode))
		return;
	f = fc_file_find(fc->files, a->ino);
	if (!f)
		return;
	fc_file_overlay(f, a);
	fc_file_close(fc->files, f);
}

void fc_entry_from_attr(struct fc_ctx *fc, const struct rfs_attr *a,
			struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->ino;
	e->generation = a->generation;
	fc_attr_to_stat(a, &e->attr);
	e->attr_timeout = fc->attr_timeout;
	e->entry_timeout = fc->entry_timeout;
}

static void reply_entry(fuse_req_t req, int rc, struct rfs_attr *a)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	struct fuse_entry_param e;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fc_attr_add_dirty(fc, a);
	fc_dcache_put(fc->dcache, a, fc_dcache_now_ns());
	fc_entry_from_attr(fc, a, &e);
	fuse_reply_entry(req, &e);
}

/* An entry from the name cache, cached by the kernel no longer than it
 * had left here. */
static void reply_cached_entry(fuse_req_t req, struct rfs_attr *a, double left)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	struct fuse_entry_param e;

	fc_attr_add_dirty(fc, a);
	fc_entry_from_attr(fc, a, &e);
	if (e.attr_timeout > left)
		e.attr_timeout = left;
	if (e.entry_timeout > left)
		e.entry_timeout = left;
	fuse_reply_entry(req, &e);
}

static void reply_attr(fuse_req_t req, int rc, struct rfs_attr *a)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	struct stat st;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fc_attr_add_dirty(fc, a);
	fc_dcache_put(fc->dcache, a, fc_dcache_now_ns());
	fc_attr_to_stat(a, &st);
	fuse_reply_attr(req, &st, fc->attr_timeout);
}

/* The client library saw a directory's attributes in a change's reply. */
static void fc_dcache_on_dirs(const struct rfs_dir_attrs *d, void *arg)
{
	struct fc_ctx *fc = arg;
	int64_t now = fc_dcache_now_ns();
	uint32_t i;

	for (i = 0; i < d->n; i++)
		fc_dcache_put(fc->dcache, &d->dir[i], now);
}

/* Every metadata request passes the name cache (ncache.h). */
static void fc_ncache_on_op(const struct rfs_op *op, void *arg)
{
	struct fc_ctx *fc = arg;

	fc_ncache_on_change(fc->ncache, op);
}

/* The unlink of a queue worker (fuse-client/unlinkq.h): without an open
 * file, session 0, so the metaserver keeps no orphan (orphan stays 0 and
 * fc_orphan_after_unlink would do nothing). The parent's attributes come
 * back through the dirs callback. */
static int fc_unlink_bg(void *arg, uint64_t parent, const char *name)
{
	struct fc_ctx *fc = arg;
	uint64_t orphan = 0;

	return rfs_client_unlink_session(fc->c, parent, name, 0, &orphan);
}

/* The last queued unlink in parent is done: the kernel drops the
 * attributes getattr_unlinking_dir estimated, so the next stat asks. */
static void fc_unlink_bg_idle(void *arg, uint64_t parent)
{
	struct fc_ctx *fc = arg;

	if (fc->se)
		(void)fuse_lowlevel_notify_inval_inode(fc->se, parent, -1, 0);
}

static void fc_op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fc_ctx *fc;

	conn->max_write = FC_MAX_IO_BYTES;
	conn->max_readahead = FC_RA_KERNEL_BYTES; /* the kernel may lower it */
	/* the kernel truncates through setattr before open(O_TRUNC) */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	/*
	 * Without HANDLE_KILLPRIV the kernel clears setuid/setgid itself on
	 * write, truncate and chown by a caller without CAP_FSETID (with a
	 * setattr of the mode); with it, that would be ours to do.
	 */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	/* cluster-wide locks: the kernel sends them here (ops_lock.c) */
	conn->want |=
	    conn->capable & (FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	fc = userdata;
	/* before any other request: without it, every getattr asks */
	if (fc_dcache_new(FC_DCACHE_SLOTS, fc->attr_timeout, &fc->dcache) == 0)
		rfs_client_set_dirs_cb(fc->c, fc_dcache_on_dirs, fc);
	/* a name cache lives only as long as both kernel caches would */
	if (fc_ncache_new(FC_NCACHE_MAX,
			  fc->attr_timeout < fc->entry_timeout
			      ? fc->attr_timeout
			      : fc->entry_timeout,
			  &fc->ncache) == 0)
		rfs_client_set_op_cb(fc->c, fc_ncache_on_op, fc);
	/* without the table, unlinked open files are freed at once */
	if (fc_orphans_new(&fc->orphans) < 0)
		fc->orphans = NULL;
	fc_locks_start(fc);
	/* its threads start at the first unlink; without the queue (-o
	 * sync_unlink, or no memory), every unlink is synchronous */
	fc->unlinkq = NULL;
	if (!fc->sync_unlink)
		if (fc_unlinkq_new(fc_unlink_bg, fc, FC_UNLINKQ_THREADS,
				   &fc->unlinkq) == 0)
			fc_unlinkq_set_idle(fc->unlinkq, fc_unlink_bg_idle);
}

/* Ends the lock session (its orphans go with it), then the table. */
static void fc_op_destroy_all(void *userdata)
{
	struct fc_ctx *fc = userdata;

	/* the queued unlinks first: they use the dirs callback (and no
	 * longer notify the kernel, which is going away) */
	fc_unlinkq_set_idle(fc->unlinkq, NULL);
	fc_unlinkq_free(fc->unlinkq);
	fc->unlinkq = NULL;
	fc_op_destroy(userdata);
	fc_orphans_free(fc->orphans);
	fc->orphans = NULL;
	rfs_client_set_dirs_cb(fc->c, NULL, NULL);
	fc_dcache_free(fc->dcache);
	fc->dcache = NULL;
	rfs_client_set_op_cb(fc->c, NULL, NULL);
	fc_ncache_free(fc->ncache);
	fc->ncache = NULL;
}

/*
 * parent/name from the name cache; on a miss in a directory where lookups
 * keep finding entries, list it first (fc_list_for_ncache).
 */
static bool lookup_cached(struct fc_ctx *fc, fuse_ino_t parent,
			  const char *name, struct rfs_attr *a, double *left)
{
	int64_t now = fc_dcache_now_ns();

	if (fc_ncache_get(fc->ncache, parent, name, now, a, left))
		return true;
	if (!fc_ncache_want_fill(fc->ncache, parent, now))
		return false;
	fc_list_for_ncache(fc, parent);
	return fc_ncache_get(fc->ncache, parent, name, fc_dcache_now_ns(), a,
			     left);
}

static void fc_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	struct rfs_attr a;
	double left;
	int rc;

	/* only an unlink of this very name changes the answer */
	fc_unlinkq_drain_name(fc->unlinkq, parent, name);
	if (lookup_cached(fc, parent, name, &a, &left)) {
		reply_cached_entry(req, &a, left);
		return;
	}
	rc = rfs_client_lookup(fc->c, parent, name, &a);
	if (rc == 0)
		fc_ncache_note_lookup(fc->ncache, parent, fc_dcache_now_ns());
	reply_entry(req, rc, &a);
}

/* Inode numbers are stable metaserver ids: nothing to count or free,
 * but cached directory attributes go with the kernel's inode. */
static void fc_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fc_dcache_drop(fc_ctx_of(req)->dcache, ino);
	fuse_reply_none(req);
}

/*
 * How long the kernel may keep the estimate below (rounded up to a tick):
 * the two permission checks of one unlink (the path walk's and the
 * delete's) are answered by one getattr.
 */
#define FC_UNLINKING_ATTR_S 0.001

/*
 * A directory with unlinks of ours queued or running: the kernel asks
 * for it before every unlink in it (its permission checks; each unlink
 * drops it again), so waiting here would make the unlinks serial again.
 * Its mode and owner are right already; its times are made at least the
 * newest unlink's, and the kernel keeps the answer at most a tick, and
 * not past the last unlink's end (fc_unlink_bg_idle).
 */
static void getattr_unlinking_dir(fuse_req_t req, struct fc_ctx *fc,
				  fuse_ino_t ino, int64_t newest_ns)
{
	struct rfs_attr a;
	struct stat st;
	int rc = 0;

	if (!fc_dcache_get(fc->dcache, ino, fc_dcache_now_ns(), &a, NULL))
		rc = rfs_client_getattr(fc->c, ino, &a);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (a.mtime_ns < newest_ns)
		a.mtime_ns = newest_ns;
	if (a.ctime_ns < newest_ns)
		a.ctime_ns = newest_ns;
	fc_attr_to_stat(&a, &st);
	fuse_reply_attr(req, &st, FC_UNLINKING_ATTR_S);
}

static void fc_op_getattr(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	struct rfs_attr a;
	struct stat st;
	double left;
	int64_t newest;
	int rc;

	if (fc_unlinkq_parent_pending(fc->unlinkq, ino, &newest)) {
		getattr_unlinking_dir(req, fc, ino, newest);
		return;
	}
	fc_unlinkq_drain(fc->unlinkq);
	/* a directory's attributes as a change of ours left them: the
	 * kernel caches them only as long as they had left here */
	if (fc_dcache_get(fc->dcache, ino, fc_dcache_now_ns(), &a, &left)) {
		fc_attr_to_stat(&a, &st);
		fuse_reply_attr(req, &st, left);
		return;
	}
	rc = rfs_client_getattr(fc->c, ino, &a);
	reply_attr(req, rc, &a);
}

static void setattr_times(const struct stat *st, int to_set,
			  struct rfs_client_setattr *sa)
{
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		sa->valid |= RFS_SETATTR_ATIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		sa->valid |= RFS_SETATTR_ATIME;
		sa->atime_ns = ns_from_ts(&st->st_atim);
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		sa->valid |= RFS_SETATTR_MTIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		sa->valid |= RFS_SETATTR_MTIME;
		sa->mtime_ns = ns_from_ts(&st->st_mtim);
	}
}

/* Commit what is buffered for ino on this mount, if it is open here. */
static int commit_buffered(struct fc_files *fs, fuse_ino_t ino)
{
	struct fc_file *f = fc_file_find(fs, ino);
	int rc;

	if (!f)
		return 0;
	rc = fc_file_flush(fs, f);
	fc_file_close(fs, f);
	return rc;
}

static void fc_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			  int to_set, struct fuse_file_info *fi)
{
	struct rfs_client_setattr sa = {0};
	struct rfs_attr a;
	int rc;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	if (to_set & FUSE_SET_ATTR_MODE) {
		sa.valid |= RFS_SETATTR_MODE;
		sa.mode = attr->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sa.valid |= RFS_SETATTR_UID;
		sa.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sa.valid |= RFS_SETATTR_GID;
		sa.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		sa.valid |= RFS_SETATTR_SIZE;
		sa.size = (uint64_t)attr->st_size;
	}
	setattr_times(attr, to_set, &sa);
	/* an open file with data buffered: sent with the data's commit */
	if (fc_files_defer_setattr(fc_ctx_of(req)->files, ino, &sa, &a)) {
		reply_attr(req, 0, &a);
		return;
	}
	if (sa.valid & RFS_SETATTR_MTIME) {
		/* commit buffered data first: its commit would otherwise set
		 * the mtime to its own time afterwards (tar -xp, touch -d) */
		rc = commit_buffered(fc_ctx_of(req)->files, ino);
		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	if (sa.valid & RFS_SETATTR_SIZE)
		rc = fc_files_set_size(fc_ctx_of(req)->files, ino, &sa, &a);
	else
		rc = rfs_client_setattr(fc_ctx_of(req)->c, ino, &sa, &a);
	if (rc < 0)
		fc_dcache_drop(fc_ctx_of(req)->dcache, ino);
	reply_attr(req, rc, &a);
}

static void fc_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct rfs_value_reply v = {0};
	int rc;

	rc = rfs_client_readlink(fc_ctx_of(req)->c, ino, &v);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, v.data);
	rfs_proto_value_release(&v);
}

/* Only regular files: ringfs stores no devices, fifos or sockets. */
static void fc_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, dev_t rdev)
{
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	struct rfs_attr a;
	int rc = -EPERM;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	if (S_ISREG(mode))
		rc = rfs_client_create(fc_ctx_of(req)->c, parent, name,
				       mode & 07777, cx->uid, cx->gid,
				       RFS_CREATE_EXCL, &a);
	reply_entry(req, rc, &a);
}

static void fc_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode)
{
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	struct rfs_attr a;
	int rc;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	rc = rfs_client_mkdir(fc_ctx_of(req)->c, parent, name, mode & 07777,
			      cx->uid, cx->gid, &a);
	reply_entry(req, rc, &a);
}

/*
 * An open file losing its last link stays usable until its last close
 * (ops_orphan.c): the session is sent while any file is open here.
 * Without an open file, the unlink is queued and answered at once
 * (unlinkq.h, docs/fuse.md "Pipelined unlink").
 */
static void fc_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	uint64_t session = fc_orphan_session(fc);
	uint64_t orphan = 0;
	int rc;

	if (fc->unlinkq && session == 0 &&
	    fc_unlinkq_push(fc->unlinkq, parent, name) == 0) {
		fuse_reply_err(req, 0);
		return;
	}
	fc_unlinkq_drain(fc->unlinkq);
	rc = rfs_client_unlink_session(fc->c, parent, name, session, &orphan);
	if (rc == 0)
		fc_orphan_after_unlink(fc, orphan, session);
	fuse_reply_err(req, -rc);
}

static void fc_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fc_ctx *fc = fc_ctx_of(req);

	fc_unlinkq_drain(fc->unlinkq); /* or ENOTEMPTY */
	/* the removed directory's inode is unknown here: forget them all
	 * (the reply brings the parent's back) */
	fc_dcache_clear(fc->dcache);
	fuse_reply_err(req, -rfs_client_rmdir(fc->c, parent, name));
}

static void fc_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			  const char *name)
{
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	struct rfs_attr a;
	int rc;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	rc = rfs_client_symlink(fc_ctx_of(req)->c, parent, name, link, cx->uid,
				cx->gid, &a);
	reply_entry(req, rc, &a);
}

static void fc_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname,
			 unsigned int flags)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	uint64_t session = fc_orphan_session(fc);
	uint64_t orphan = 0;
	uint32_t rf = 0;
	int rc = 0;

	if (flags & RENAME_NOREPLACE)
		rf |= RFS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		rf |= RFS_RENAME_EXCHANGE;
	/* RENAME_WHITEOUT and anything newer: not supported */
	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		rc = -EINVAL;
	fc_unlinkq_drain(fc->unlinkq);
	/* a moved directory changes too (ctime, ".."): as for rmdir */
	fc_dcache_clear(fc->dcache);
	if (rc == 0)
		rc = rfs_client_rename_session(fc->c, parent, name, newparent,
					       newname, rf, session, &orphan);
	if (rc == 0)
		fc_orphan_after_unlink(fc, orphan, session);
	fuse_reply_err(req, -rc);
}

static void fc_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		       const char *newname)
{
	struct rfs_attr a;
	int rc;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	rc = rfs_client_link(fc_ctx_of(req)->c, ino, newparent, newname, &a);
	reply_entry(req, rc, &a);
}

/*
 * The servers' raw bytes divided by the goal of the inode asked about:
 * every byte of a file kept at goal g takes g bytes on the servers, so
 * df shows what fits (and what is used) at that goal, in the units du
 * counts in.
 */
static int do_statfs(struct fc_ctx *fc, fuse_ino_t ino, struct statvfs *v)
{
	struct rfs_statfs s;
	struct rfs_attr a;
	uint64_t unit;
	int rc;

	rc = rfs_client_statfs(fc->c, &s);
	if (rc == 0)
		rc = rfs_client_getattr(fc->c, ino, &a);
	if (rc < 0)
		return rc;
	unit = (uint64_t)FC_STATFS_BSIZE * (a.goal ? a.goal : 1);
	memset(v, 0, sizeof(*v));
	v->f_bsize = FC_STATFS_BSIZE;
	v->f_frsize = FC_STATFS_BSIZE;
	v->f_blocks = s.total_bytes / unit;
	v->f_bfree = s.free_bytes / unit;
	if (v->f_bfree > v->f_blocks)
		v->f_bfree = v->f_blocks;
	v->f_bavail = v->f_bfree; /* nothing is reserved for root */
	/* inodes are not limited: report the used ones plus as many free */
	v->f_files = s.inodes * 2 + 1024;
	v->f_ffree = v->f_files - s.inodes;
	v->f_favail = v->f_ffree;
	v->f_namemax = RFS_NAME_MAX;
	return 0;
}

static void fc_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs v;
	int rc;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	rc = do_statfs(fc_ctx_of(req), ino, &v);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_statfs(req, &v);
}

/*
 * The kernel asks for security.capability before every write and for
 * POSIX ACLs on access checks: ringfs stores neither namespace, so answer
 * those here instead of with a metaserver round trip.
 */
static bool xattr_unsupported(const char *name)
{
	return strncmp(name, "security.", 9) == 0 ||
	       strncmp(name, "system.", 7) == 0;
}

static void fc_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   const char *value, size_t size, int flags)
{
	uint32_t xf = 0;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	if (xattr_unsupported(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (flags & XATTR_CREATE)
		xf |= RFS_XATTR_CREATE;
	if (flags & XATTR_REPLACE)
		xf |= RFS_XATTR_REPLACE;
	/* the change sets the ctime */
	fc_dcache_drop(fc_ctx_of(req)->dcache, ino);
	fuse_reply_err(req, -rfs_client_setxattr(fc_ctx_of(req)->c, ino, name,
						 value, size, xf));
}

/* getxattr and listxattr answer alike: the length for size 0, ERANGE when
 * the value does not fit, else the value. */
static void reply_value(fuse_req_t req, int rc, struct rfs_value_reply *v,
			size_t size)
{
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (size == 0)
		fuse_reply_xattr(req, v->len);
	else if (v->len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, v->data, v->len);
	rfs_proto_value_release(v);
}

static void fc_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   size_t size)
{
	struct rfs_value_reply v = {0};
	int rc;

	if (xattr_unsupported(name)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	rc = rfs_client_getxattr(fc_ctx_of(req)->c, ino, name, &v);
	reply_value(req, rc, &v, size);
}

static void fc_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct rfs_value_reply v = {0};
	int rc;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	rc = rfs_client_listxattr(fc_ctx_of(req)->c, ino, &v);
	reply_value(req, rc, &v, size);
}

static void fc_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	fc_dcache_drop(fc_ctx_of(req)->dcache, ino);
	fuse_reply_err(req,
		       -rfs_client_removexattr(fc_ctx_of(req)->c, ino, name));
}

const struct fuse_lowlevel_ops fc_ops = {
    .init = fc_op_init,
    .lookup = fc_op_lookup,
    .forget = fc_op_forget,
    .getattr = fc_op_getattr,
    .setattr = fc_op_setattr,
    .readlink = fc_op_readlink,
    .mknod = fc_op_mknod,
    .mkdir = fc_op_mkdir,
    .unlink = fc_op_unlink,
    .rmdir = fc_op_rmdir,
    .symlink = fc_op_symlink,
    .rename = fc_op_rename,
    .link = fc_op_link,
    .open = fc_op_open,
    .read = fc_op_read,
    .write = fc_op_write,
    .flush = fc_op_flush,
    .release = fc_op_release,
    .fsync = fc_op_fsync,
    .readdir = fc_op_readdir,
    .readdirplus = fc_op_readdirplus,
    .fsyncdir = fc_op_fsyncdir,
    .statfs = fc_op_statfs,
    .setxattr = fc_op_setxattr,
    .getxattr = fc_op_getxattr,
    .listxattr = fc_op_listxattr,
    .removexattr = fc_op_removexattr,
    .create = fc_op_create,
    .access = fc_op_access,
    .fallocate = fc_op_fallocate,
    .lseek = fc_op_lseek,
    .getlk = fc_op_getlk,
    .setlk = fc_op_setlk,
    .flock = fc_op_flock,
    .destroy = fc_op_destroy_all,
};
