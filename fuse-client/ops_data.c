#include <config.h>

#include "fuse-client/fc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "common/log.h"

static struct fc_file *file_of(struct fuse_file_info *fi)
{
	return (struct fc_file *)(uintptr_t)fi->fh;
}

/* Open state of an inode as the handle (attr: its attributes when known,
 * else they are asked for). The kernel keeps its page cache of the file
 * only when the file did not change since its last close here; otherwise
 * it drops it, so data another mount committed shows (close-to-open). */
static int do_open(struct fc_ctx *fc, fuse_ino_t ino,
		   const struct rfs_attr *attr, struct fuse_file_info *fi)
{
	struct fc_file *f;
	bool keep = false;
	int rc;

	rc = fc_file_open(fc->files, ino, attr, &f, &keep);
	if (rc < 0)
		return rc;
	rc = fc_orphan_on_open(fc, ino); /* unlinked open files */
	if (rc < 0) {
		fc_file_close(fc->files, f);
		return rc;
	}
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->keep_cache = keep;
	return 0;
}

void fc_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	uint32_t flags = (fi->flags & O_EXCL) ? RFS_CREATE_EXCL : 0;
	struct fuse_entry_param e;
	struct rfs_lease lease;
	struct rfs_attr a;
	int rc = -EPERM;

	fc_unlinkq_drain(fc->unlinkq);
	/* the create also leases chunk 0 for the first write */
	if (S_ISREG(mode))
		rc = rfs_client_create_lease(fc->c, parent, name, mode & 07777,
					     cx->uid, cx->gid, flags, &a,
					     &lease);
	if (rc == 0)
		rc = do_open(fc, a.ino, &a, fi);
	if (rc == 0 && lease.n_replicas > 0)
		fc_file_set_lease(file_of(fi), &lease);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fc_entry_from_attr(fc, &a, &e);
	if (fuse_reply_create(req, &e, fi) != 0) {
		fc_file_close(fc->files, file_of(fi)); /* open was aborted */
		fc_orphan_on_close(fc, a.ino);
	}
}

void fc_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	int rc;

	fc_unlinkq_drain(fc->unlinkq);
	rc = do_open(fc, ino, NULL, fi);
	/*
	 * close-to-open: the kernel may hold attributes (the size) from
	 * before another mount changed the file; drop them so a read past
	 * the old end asks again. Attributes only: never blocks.
	 */
	if (rc == 0 && fuse_lowlevel_notify_inval_inode(fc->se, ino, -1, 0) < 0)
		rfs_log_debug(NULL,
			      "msg=\"cannot invalidate attributes\" "
			      "ino=%llu",
			      (unsigned long long)ino);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (fuse_reply_open(req, fi) != 0) {
		fc_file_close(fc->files, file_of(fi));
		fc_orphan_on_close(fc, ino);
	}
}

struct read_reply {
	fuse_req_t req;
	bool sent; /* the request is answered (or gone) */
};

/* The read's reply, sent straight from the bytes' buffers. */
static int reply_sink(void *arg, const struct iovec *iov, int n)
{
	struct read_reply *r = arg;

	r->sent = true;
	return fuse_reply_iov(r->req, iov, n);
}

void fc_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct read_reply r = {.req = req};
	ssize_t n;

	n = fc_file_read_to(fc_ctx_of(req)->files, file_of(fi), size,
			    (uint64_t)off, reply_sink, &r);
	/* a reply that failed (interrupted request) is not answered again */
	if (n < 0 && !r.sent)
		fuse_reply_err(req, (int)-n);
}

void fc_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi)
{
	struct fc_files *fs = fc_ctx_of(req)->files;
	ssize_t n;

	n = fc_file_write(fs, file_of(fi), buf, size, (uint64_t)off);
	/* O_SYNC/O_DSYNC: durable before write() returns */
	if (n >= 0 && (fi->flags & (O_SYNC | O_DSYNC))) {
		int rc = fc_file_fsync(fs, file_of(fi));

		if (rc < 0)
			n = rc;
	}
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/* close(): everything written through this mount is committed before it
 * returns (and durable with -o sync_close), and a failed commit is its
 * error. */
void fc_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	int rc = fc_file_close_flush(fc->files, file_of(fi));

	/* after the commit: the next lock holder sees the data */
	fc_locks_on_flush(fc, ino, fi);
	fuse_reply_err(req, -rc);
}

void fc_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	int rc;

	/* normally empty after flush; writes through mmap can come later */
	rc = fc_file_flush(fc->files, file_of(fi));
	fc_locks_on_release(fc, ino, fi);
	fc_file_close(fc->files, file_of(fi));
	fc_orphan_on_close(fc, ino); /* frees an unlinked file at last */
	fuse_reply_err(req, -rc);
}

/* fsync()/fdatasync(): committed, and durable on the chunk servers. */
void fc_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi)
{
	fuse_reply_err(req, -fc_file_fsync(fc_ctx_of(req)->files, file_of(fi)));
}
