/*
 * fc: the ringfs FUSE client (ringfs-mount), a libfuse3 low-level file
 * system over the client library.
 *
 * Inode numbers are the metaserver's inode numbers (the root is
 * RFS_ROOT_INO == FUSE_ROOT_ID == 1). They are never reused, so the client
 * keeps no inode table: lookup counts need no bookkeeping and forget is a
 * no-op. Open files share per-inode state (fuse-client/file.h), stored as
 * the file handle.
 *
 * Each op handler answers its request exactly once; the work is done by a
 * helper returning 0 or a negative errno.
 */
#ifndef RFS_FUSE_CLIENT_FC_H
#define RFS_FUSE_CLIENT_FC_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include "client/client.h"
#include "fuse-client/dcache.h"
#include "fuse-client/file.h"
#include "fuse-client/ncache.h"
#include "fuse-client/unlinkq.h"

/* Largest FUSE write and read request: 1 MiB (256 pages, the kernel's
 * FUSE_MAX_MAX_PAGES), so big sequential I/O costs few round trips. */
#define FC_MAX_IO_BYTES (1u << 20)
/* Default attribute and entry cache time: short, so another mount's
 * changes show within a second, long enough to absorb stat storms. */
#define FC_TIMEOUT_DEFAULT_S 1.0
/* Block size reported by statfs and st_blksize hints (cp and friends size
 * their buffers from it). */
#define FC_STATFS_BSIZE 4096

struct fc_ctx {
	struct fuse_session *se; /* for cache invalidations */
	struct rfs_client *c;
	struct fc_files *files;
	uint64_t chunk_size;
	double attr_timeout;
	double entry_timeout;
	struct fc_locks *locks;	    /* lock session (ops_lock.c), set at init */
	struct fc_orphans *orphans; /* open counts (ops_orphan.c), at init */
	struct fc_dcache *dcache;   /* directory attributes (dcache.h), init */
	struct fc_ncache *ncache;   /* listed entries (ncache.h), init */
	bool sync_unlink;	    /* -o sync_unlink: no unlink queue */
	struct fc_unlinkq *unlinkq; /* pipelined unlinks (unlinkq.h), init;
				     * NULL: every unlink is synchronous */
};

/* The op table (ops.c with the data ops of ops_data.c). */
extern const struct fuse_lowlevel_ops fc_ops;

/* ops.c, shared with the ops_*.c files */
void fc_attr_to_stat(const struct rfs_attr *a, struct stat *st);
void fc_entry_from_attr(struct fc_ctx *fc, const struct rfs_attr *a,
			struct fuse_entry_param *e);
/* Data written through this mount but not committed yet makes a regular
 * file longer than the metaserver says: raise a->size to cover it; and a
 * setattr kept for that data's commit shows already. */
void fc_attr_add_dirty(struct fc_ctx *fc, struct rfs_attr *a);
static inline struct fc_ctx *fc_ctx_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}
/* The open-file state an open or create stored as the file handle. */
static inline struct fc_file *fc_file_of(const struct fuse_file_info *fi)
{
	return (struct fc_file *)(uintptr_t)fi->fh;
}

/* ops_dir.c */
void fc_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void fc_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
void fc_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi);
/* List directory ino into the name cache (up to FC_NCACHE_FILL_MAX
 * entries); errors only leave the cache emptier. */
void fc_list_for_ncache(struct fc_ctx *fc, fuse_ino_t ino);

/* ops_space.c */
void fc_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		     off_t length, struct fuse_file_info *fi);
void fc_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		 struct fuse_file_info *fi);

/* ops_access.c */
/* Who asks: uid, gid and supplementary groups (borrowed). */
struct fc_cred {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
};
/*
 * May cred access an inode with attributes a for mask (R_OK | W_OK | X_OK,
 * or F_OK)? The owner's, the group's or the others' bits decide, in that
 * order; root may read and write anything, search any directory and
 * execute a file with at least one x bit. Returns 0 or -EACCES. Pure.
 */
int fc_access_check(const struct rfs_attr *a, const struct fc_cred *cred,
		    int mask);
void fc_op_access(fuse_req_t req, fuse_ino_t ino, int mask);

/* ops_lock.c: cluster-wide flock and fcntl locks (docs/fuse.md, "Locks") */
struct fc_locks;
/*
 * Start the lock session of this mount: a thread opens it and renews it
 * every third of its lease, another answers blocking lock requests once
 * granted. Called from the init op, i.e. after the move to the background
 * (a fork would not keep the threads). On failure (logged) lock requests
 * answer ENOLCK.
 */
void fc_locks_start(struct fc_ctx *fc);
/* The destroy op: stop both threads (waiting requests get EINTR) and
 * close the session (the metaserver releases what is still held). */
void fc_op_destroy(void *userdata);
void fc_op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock);
void fc_op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock, int sleep);
void fc_op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 int op);
/* Flush hook: a close() releases the POSIX locks its process
 * (fi->lock_owner) holds on the file. Failures are logged. */
void fc_locks_on_flush(struct fc_ctx *fc, fuse_ino_t ino,
		       const struct fuse_file_info *fi);
/* Release hook: the last close of an open file releases its flock lock
 * (when fi->flock_release). Failures are logged. */
void fc_locks_on_release(struct fc_ctx *fc, fuse_ino_t ino,
			 const struct fuse_file_info *fi);

/* The lock session's id (0: none open yet, or no session). */
uint64_t fc_locks_session_id(struct fc_ctx *fc);

/* ops_orphan.c: unlinked open files (docs/fuse.md) */
struct fc_orphans;
/* The table of open handles per inode. 0 or -ENOMEM. */
int fc_orphans_new(struct fc_orphans **out);
/* NULL is a no-op. */
void fc_orphans_free(struct fc_orphans *o);
/* One more open handle of ino. 0 or -ENOMEM. */
int fc_orphans_opened(struct fc_orphans *o, uint64_t ino);
/* One handle of ino less; at the last one of an orphan, its session
 * (the caller releases it), else 0. */
uint64_t fc_orphans_closed(struct fc_orphans *o, uint64_t ino);
/* Is any file open on this mount? */
bool fc_orphans_any_open(struct fc_orphans *o);
/* The metaserver kept ino as an orphan of session: true when it is not
 * open here (the caller releases it now), else it is released at its
 * last close. */
bool fc_orphans_kept(struct fc_orphans *o, uint64_t ino, uint64_t session);
/* The session to send with an unlink or rename: the lock session's id
 * while a file is open on this mount, else 0 (nothing to keep). */
uint64_t fc_orphan_session(struct fc_ctx *fc);
/* After an unlink or rename that kept ino (0: none) for session. */
void fc_orphan_after_unlink(struct fc_ctx *fc, uint64_t ino, uint64_t session);
/* Free orphan ino on the metaserver; failures are logged. */
void fc_orphan_release(struct fc_ctx *fc, uint64_t ino, uint64_t session);
/* Open and release hooks: count ino's handles, and release an orphan at
 * its last close. fc_orphan_on_open returns 0 or -ENOMEM. */
int fc_orphan_on_open(struct fc_ctx *fc, uint64_t ino);
void fc_orphan_on_close(struct fc_ctx *fc, uint64_t ino);

/* ops_data.c */
void fc_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi);
void fc_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fc_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void fc_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi);
void fc_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fc_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fc_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi);

#endif
