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
#include "fuse-client/file.h"

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
};

/* The op table (ops.c with the data ops of ops_data.c). */
extern const struct fuse_lowlevel_ops fc_ops;

/* ops.c, shared with ops_data.c */
void fc_attr_to_stat(const struct rfs_attr *a, struct stat *st);
void fc_entry_from_attr(struct fc_ctx *fc, const struct rfs_attr *a,
			struct fuse_entry_param *e);
static inline struct fc_ctx *fc_ctx_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

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
