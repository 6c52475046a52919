/*
 * fsm: the metaserver's state machine, pure and deterministic. It holds the
 * whole metadata state in memory: inodes, directory entries, xattrs, the
 * chunk table and the registered chunk servers. Mutations happen only in
 * ms_fsm_apply(), one struct rfs_op at a time, in log order; anything that
 * depends on the clock or on volatile cluster state (now_ns, a new chunk's
 * id and replicas) is chosen by the leader and carried in the op, so every
 * replica that applies the same log reaches the same state. Queries read
 * the state and never change it. No I/O, no clock, no globals.
 * Not thread-safe: one thread owns an fsm.
 */
#ifndef RFS_METASERVER_FSM_H
#define RFS_METASERVER_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/* Fixed at format time. */
struct ms_fsm_format {
	char fsid[RFS_FSID_MAX + 1];
	uint64_t chunk_size; /* power of two, >= 64 KiB */
	uint32_t goal;	     /* default replication goal, 1..RFS_MAX_REPLICAS */
	int64_t created_ns;  /* root directory times */
};

struct ms_fsm;

/* A new state holding only the root directory (ino 1, mode 0755, uid 0). */
struct ms_fsm *ms_fsm_new(const struct ms_fsm_format *fmt);
void ms_fsm_free(struct ms_fsm *fsm);

const struct ms_fsm_format *ms_fsm_format(const struct ms_fsm *fsm);

/* What an applied op returns to the client that proposed it. */
struct ms_fsm_result {
	struct rfs_attr attr;	/* namespace ops that return an entry */
	struct rfs_lease lease; /* RFS_OP_LEASE */
	uint64_t orphan;	/* unlink/rename: the file kept as an orphan */
};

/*
 * Apply one mutation (setattr, mkdir, rmdir, create, unlink, rename, link,
 * symlink, setxattr, removexattr, lease, commit, register, add_replicas,
 * release_orphan, drop_orphans).
 * Deterministic: depends only on the state and *op. Returns 0 or a negative
 * errno with POSIX meaning (ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY,
 * EINVAL, ENAMETOOLONG, ENODATA, ERANGE, ESTALE, ENOSPC...); a failed op
 * changes nothing. res may be NULL.
 */
int ms_fsm_apply(struct ms_fsm *fsm, const struct rfs_op *op,
		 struct ms_fsm_result *res);

/* True for op types that must go through ms_fsm_apply (and the log). */
bool ms_fsm_op_is_mutation(uint32_t type);

/* --- queries --------------------------------------------------------- */
int ms_fsm_lookup(const struct ms_fsm *fsm, uint64_t parent, const char *name,
		  struct rfs_attr *out);
int ms_fsm_getattr(const struct ms_fsm *fsm, uint64_t ino,
		   struct rfs_attr *out);
/* Resolve an absolute path ("/a/b"); symlinks are not followed. */
int ms_fsm_resolve(const struct ms_fsm *fsm, const char *path,
		   struct rfs_attr *out);
/*
 * Entries of a directory after cookie (0 = from the start, "." and ".."
 * come first), at most limit (capped at RFS_READDIR_MAX). out->entries is
 * malloc'd; release with rfs_proto_readdir_release().
 */
int ms_fsm_readdir(const struct ms_fsm *fsm, uint64_t ino, uint64_t cookie,
		   uint32_t limit, struct rfs_readdir_reply *out);
/* out->data malloc'd; release with rfs_proto_value_release(). */
int ms_fsm_readlink(const struct ms_fsm *fsm, uint64_t ino,
		    struct rfs_value_reply *out);
int ms_fsm_getxattr(const struct ms_fsm *fsm, uint64_t ino, const char *name,
		    struct rfs_value_reply *out);
int ms_fsm_listxattr(const struct ms_fsm *fsm, uint64_t ino,
		     struct rfs_value_reply *out);
/*
 * Committed chunks of a file overlapping [offset, offset + length)
 * (length 0 = to the end). Replica addresses come from the registered
 * servers; `up` is left false for the caller to fill. Release with
 * rfs_proto_layout_release().
 */
int ms_fsm_layout(const struct ms_fsm *fsm, uint64_t ino, uint64_t offset,
		  uint64_t length, struct rfs_layout *out);

/* Inode count, chunk count and bytes of committed chunk data. */
void ms_fsm_counts(const struct ms_fsm *fsm, uint64_t *inodes, uint64_t *chunks,
		   uint64_t *bytes);

/*
 * Orphans: regular files whose last link went while a client session
 * still had them open (unlink or rename with op->session). They keep
 * their inode and chunks (getattr, setattr, lease, commit and layout
 * work, nlink 0) until release_orphan or drop_orphans frees them.
 * ms_fsm_orphan_at gives the i-th (ascending ino) of
 * ms_fsm_orphan_count(): 0 or -ENOENT past the end.
 */
size_t ms_fsm_orphan_count(const struct ms_fsm *fsm);
int ms_fsm_orphan_at(const struct ms_fsm *fsm, size_t i, uint64_t *ino,
		     uint64_t *session);

/* Registered servers (state/heartbeat fields left for the caller). */
size_t ms_fsm_server_count(const struct ms_fsm *fsm);
const struct rfs_server *ms_fsm_server(const struct ms_fsm *fsm, size_t i);
const struct rfs_server *ms_fsm_server_find(const struct ms_fsm *fsm,
					    const char *id);
/* Changes whenever the set of servers or a weight/zone changes. */
uint64_t ms_fsm_ring_epoch(const struct ms_fsm *fsm);
/* The chunk at (ino, index), or -ENOENT. Fills a layout-style record. */
int ms_fsm_chunk_at(const struct ms_fsm *fsm, uint64_t ino, uint64_t index,
		    struct rfs_chunk *out);
/* The next chunk id the fsm would accept as new (ids never repeat). */
uint64_t ms_fsm_next_chunk_id(const struct ms_fsm *fsm);

/*
 * Inventory check for one server: which of its replicas to delete (chunk
 * gone, or version older than committed) -> to_delete (malloc'd entries),
 * and which committed replicas the table does not list for it yet ->
 * to_add (ops of type RFS_OP_ADD_REPLICAS to apply through the log;
 * malloc'd array of n_add). Release both with free()/release.
 */
int ms_fsm_inventory_check(const struct ms_fsm *fsm,
			   const struct rfs_inventory *inv,
			   struct rfs_inventory *to_delete,
			   struct rfs_op **to_add, size_t *n_add);

/* --- snapshots ------------------------------------------------------- */
/*
 * Serialise the whole state into one malloc'd buffer (a versioned binary
 * format, see docs/formats.md). Returns 0 or -ENOMEM.
 */
int ms_fsm_snapshot(const struct ms_fsm *fsm, void **buf, size_t *len);
/*
 * Rebuild a state from a snapshot. Pure over (buf, len): truncated or
 * corrupt input gives -EBADMSG (never a crash). On success *out is new.
 */
int ms_fsm_restore(const void *buf, size_t len, struct ms_fsm **out);

#endif
