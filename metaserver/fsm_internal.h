/*
 * fsm_internal: the in-memory representation behind metaserver/fsm.h,
 * shared by the fsm_*.c files and by nothing else (tests may read the
 * limits below). Invariants kept by every mutation:
 *  - every inode is in fsm->inodes; ino < next_ino and is never reused;
 *  - every dirent is in fsm->dirents and in its parent's cookie-ordered
 *    slot vector; a directory has exactly one dirent naming it (its parent
 *    records it), nlink == 2 + subdirectories; a file or symlink has
 *    nlink == number of dirents naming it;
 *  - every chunk is in fsm->chunks (by id) and in its file's chunk vector
 *    (ascending index); chunk_id < next_chunk_id; committed version <=
 *    pending version; an uncommitted chunk (version 0) has no length and
 *    no replicas; a committed chunk ends at or before its file's size.
 * Nothing here allocates while a mutation is half done: every handler
 * reserves what it needs first, so a failed op changes nothing.
 */
#ifndef RFS_METASERVER_FSM_INTERNAL_H
#define RFS_METASERVER_FSM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "metaserver/fsm.h"

/* listxattr must fit one value reply: names plus their NULs per inode. */
#define MS_FSM_XATTR_LIST_MAX RFS_XATTR_VALUE_MAX
/* Names plus values per inode: bounds what one client can pin in RAM
 * (4 full-size values), far above what ACLs and security labels need. */
#define MS_FSM_XATTR_BYTES_MAX (256u << 10)
/* Links to one inode (and subdirectories of one directory + 2). */
#define MS_FSM_NLINK_MAX (1u << 31)
/* Largest file size: what off_t can address. */
#define MS_FSM_FILE_SIZE_MAX ((uint64_t)INT64_MAX)
/* readdir cookies: "." and ".." first, real entries from 3 on. */
#define MS_FSM_COOKIE_DOT    1
#define MS_FSM_COOKIE_DOTDOT 2
#define MS_FSM_COOKIE_FIRST  3
/* Generation of every inode: inode numbers are never reused, so one
 * value suffices; the field exists for NFS-style handles. */
#define MS_FSM_GENERATION 1

/* Orphans (unlinked files still open on a client) kept at once; past
 * this an unlink frees the file at once, as without a session. */
#define MS_FSM_ORPHANS_MAX 65536

/* Snapshot format (docs/formats.md, "Metadata snapshot"). Version 1 has
 * no orphan table; restore reads both, snapshots are written as 2. */
#define MS_SNAP_MAGIC	    "RFSMSNAP"
#define MS_SNAP_MAGIC_LEN   8
#define MS_SNAP_VERSION_1   1
#define MS_SNAP_VERSION	    2
#define MS_SNAP_HEADER_LEN  16 /* magic, version, reserved */
#define MS_SNAP_TRAILER_LEN 4  /* CRC32C */

/* --- open-addressing hash table of entry pointers -------------------- */
struct ms_htab_slot {
	uint64_t hash;
	void *entry; /* NULL = empty slot */
};

/* Linear probing, backward-shift deletion, load factor <= 3/4. */
struct ms_htab {
	struct ms_htab_slot *slots;
	size_t cap; /* 0 or a power of two */
	size_t n;
};

/* Does entry match key? */
typedef bool ms_htab_eq_cb(const void *entry, const void *key);

void ms_htab_init(struct ms_htab *t);
/* Frees the slot array, not the entries. */
void ms_htab_release(struct ms_htab *t);
/* Make room so that `extra` more inserts cannot fail. 0 or -ENOMEM. */
int ms_htab_reserve(struct ms_htab *t, size_t extra);
void *ms_htab_find(const struct ms_htab *t, uint64_t hash, ms_htab_eq_cb *eq,
		   const void *key);
/* Needs a prior ms_htab_reserve(); the entry must not be present. */
void ms_htab_insert(struct ms_htab *t, uint64_t hash, void *entry);
/* Removes exactly this entry pointer (no-op when absent). */
void ms_htab_remove(struct ms_htab *t, uint64_t hash, const void *entry);
/* Mixers: a u64 key, and a byte string under a seed. */
uint64_t ms_hash_u64(uint64_t x);
uint64_t ms_hash_bytes(uint64_t seed, const void *buf, size_t len);

/* --- state ------------------------------------------------------------ */
struct ms_xattr {
	char *name;  /* NUL-terminated, malloc'd */
	char *value; /* malloc'd (NULL when value_len == 0) */
	uint32_t name_len;
	uint32_t value_len;
};

struct ms_dirent {
	uint64_t parent;
	uint64_t ino;
	uint64_t cookie;
	uint64_t hash;
	uint32_t name_len;
	char name[]; /* NUL-terminated */
};

/* One position of a directory listing; d == NULL is a tombstone. */
struct ms_dslot {
	uint64_t cookie;
	struct ms_dirent *d;
};

struct ms_dir {
	uint64_t parent;      /* ".."; the root is its own parent */
	uint64_t next_cookie; /* cookie of the next entry created here */
	size_t n_live;	      /* dirents */
	size_t n_slots;	      /* dirents + tombstones, ascending cookie */
	size_t cap;
	struct ms_dslot *slots;
};

struct ms_chunk {
	uint64_t chunk_id;
	uint64_t ino;
	uint64_t index;
	uint64_t length;  /* committed length */
	uint32_t version; /* committed version, 0 = none yet */
	uint32_t pending; /* highest leased version */
	uint32_t n_replicas;
	uint32_t servers[RFS_MAX_REPLICAS]; /* indexes into fsm->servers */
};

struct ms_chunkvec {
	struct ms_chunk **v; /* ascending index */
	uint32_t n;
	uint32_t cap;
};

struct ms_inode {
	uint64_t ino;
	uint64_t size;
	int64_t atime_ns;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint64_t generation;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	uint32_t goal;
	uint32_t n_xattrs;
	struct ms_xattr *xattrs; /* ascending name (bytewise) */
	union {
		struct ms_dir *dir;	   /* S_IFDIR */
		char *target;		   /* S_IFLNK, size bytes + NUL */
		struct ms_chunkvec chunks; /* S_IFREG */
	} u;
};

/* An unlinked regular file (nlink 0) kept for a client session. */
struct ms_orphan {
	uint64_t ino;
	uint64_t session;
};

struct ms_fsm {
	struct ms_fsm_format fmt;
	uint64_t seed; /* name-hash seed, derived from the fsid */
	uint64_t next_ino;
	uint64_t next_chunk_id;
	uint64_t ring_epoch;
	struct ms_htab inodes;	    /* ino -> struct ms_inode */
	struct ms_htab dirents;	    /* (parent, name) -> struct ms_dirent */
	struct ms_htab chunks;	    /* chunk_id -> struct ms_chunk */
	struct rfs_server *servers; /* registration order, never removed */
	uint32_t *by_id;	    /* server indexes sorted by id */
	size_t n_servers;
	size_t cap_servers;
	uint64_t committed_chunks;
	uint64_t committed_bytes;
	struct ms_orphan *orphans; /* ascending ino */
	size_t n_orphans;
	size_t cap_orphans;
};

/* --- fsm.c: core ------------------------------------------------------ */
/* An empty state (no inodes) with fmt copied; NULL on OOM. */
struct ms_fsm *ms_fsm_alloc(const struct ms_fsm_format *fmt);
bool ms_fsm_format_is_valid(const struct ms_fsm_format *fmt);
struct ms_inode *ms_fsm_inode(const struct ms_fsm *fsm, uint64_t ino);
/* A detached inode of the given full mode (a dir gets its ms_dir). */
struct ms_inode *ms_fsm_inode_new(uint64_t ino, uint32_t mode, uint64_t parent);
/* Frees a detached inode and what it owns (not its chunks). */
void ms_fsm_inode_free(struct ms_inode *in);
/* Table insert; needs ms_htab_reserve(&fsm->inodes, 1). */
void ms_fsm_inode_insert(struct ms_fsm *fsm, struct ms_inode *in);
/* Removes from the table and frees it with its chunks and xattrs. */
void ms_fsm_inode_destroy(struct ms_fsm *fsm, struct ms_inode *in);
void ms_fsm_attr_fill(const struct ms_inode *in, struct rfs_attr *out);
/* An inode that must be a directory: -ENOENT / -ENOTDIR. */
int ms_fsm_dir_get(const struct ms_fsm *fsm, uint64_t ino,
		   struct ms_inode **out);
/* Length of a NUL-terminated name held in a char[RFS_NAME_MAX + 1],
 * validated with rfs_proto_check_name. */
int ms_fsm_name_check(const char *name, size_t *len);
bool ms_fsm_is_dir(const struct ms_inode *in);
bool ms_fsm_is_reg(const struct ms_inode *in);
bool ms_fsm_is_lnk(const struct ms_inode *in);

/* --- fsm_dir.c: directory entries ------------------------------------- */
struct ms_dir *ms_fsm_dir_new(uint64_t parent);
/* Frees the slot vector and any dirents still in it. */
void ms_fsm_dir_free(struct ms_dir *dir);
struct ms_dirent *ms_fsm_dirent_find(const struct ms_fsm *fsm, uint64_t parent,
				     const char *name, size_t len);
/*
 * Allocate a dirent for (parent, name) and reserve its table and slot
 * space, so ms_fsm_dirent_link() cannot fail. 0, -ENOSPC (cookies
 * exhausted) or -ENOMEM; on success
 * the caller must link the dirent or ms_fsm_dirent_abort() it.
 */
int ms_fsm_dirent_prepare(struct ms_fsm *fsm, struct ms_inode *parent,
			  const char *name, size_t len, struct ms_dirent **out);
void ms_fsm_dirent_abort(struct ms_dirent *d);
/* Links a prepared dirent to ino under the next cookie of parent. */
void ms_fsm_dirent_link(struct ms_fsm *fsm, struct ms_inode *parent,
			struct ms_dirent *d, uint64_t ino);
/* Unlinks and frees d (the parent's nlink is the caller's business). */
void ms_fsm_dirent_remove(struct ms_fsm *fsm, struct ms_inode *parent,
			  struct ms_dirent *d);
/* Restore: append d (already filled, cookie ascending) to parent. */
int ms_fsm_dirent_restore(struct ms_fsm *fsm, struct ms_inode *parent,
			  struct ms_dirent *d);
struct ms_dirent *ms_fsm_dirent_alloc(uint64_t parent, const char *name,
				      size_t len, uint64_t seed);

/* --- fsm_ns.c / fsm_rename.c / fsm_xattr.c: namespace mutations ------- */
int ms_fsm_do_setattr(struct ms_fsm *fsm, const struct rfs_op *op,
		      struct ms_fsm_result *res);
/* The checks of a setattr of in by op (0 or a negative errno), and its
 * changes (after a successful check; ctime becomes op->now_ns). A commit
 * carrying attributes (op->valid, never SIZE) uses both. */
int ms_fsm_setattr_check(const struct ms_inode *in, const struct rfs_op *op);
void ms_fsm_setattr_apply(struct ms_fsm *fsm, struct ms_inode *in,
			  const struct rfs_op *op);
int ms_fsm_do_mkdir(struct ms_fsm *fsm, const struct rfs_op *op,
		    struct ms_fsm_result *res);
int ms_fsm_do_create(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res);
int ms_fsm_do_symlink(struct ms_fsm *fsm, const struct rfs_op *op,
		      struct ms_fsm_result *res);
int ms_fsm_do_rmdir(struct ms_fsm *fsm, const struct rfs_op *op,
		    struct ms_fsm_result *res);
int ms_fsm_do_unlink(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res);
int ms_fsm_do_link(struct ms_fsm *fsm, const struct rfs_op *op,
		   struct ms_fsm_result *res);
int ms_fsm_do_rename(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res);
int ms_fsm_do_setxattr(struct ms_fsm *fsm, const struct rfs_op *op,
		       struct ms_fsm_result *res);
int ms_fsm_do_removexattr(struct ms_fsm *fsm, const struct rfs_op *op,
			  struct ms_fsm_result *res);
/* Drops one link of a non-directory; frees it at zero. */
void ms_fsm_inode_unref(struct ms_fsm *fsm, struct ms_inode *in, int64_t now);

/* --- fsm_orphan.c: unlinked files still open on a client ------------- */
/*
 * Before an unlink or rename that may orphan a file for op->session:
 * room for one more orphan, so ms_fsm_inode_drop_link() cannot fail.
 * 0 or -ENOMEM (nothing changed). No-op without a session.
 */
int ms_fsm_orphan_reserve(struct ms_fsm *fsm, const struct rfs_op *op);
/*
 * Drops one link of a non-directory (as ms_fsm_inode_unref). At zero a
 * regular file is kept as an orphan of session when session is not 0
 * and the table has room (reserved before); res->orphan then names it.
 * Otherwise the file is freed with its chunks.
 */
void ms_fsm_inode_drop_link(struct ms_fsm *fsm, struct ms_inode *in,
			    int64_t now, uint64_t session,
			    struct ms_fsm_result *res);
int ms_fsm_do_release_orphan(struct ms_fsm *fsm, const struct rfs_op *op,
			     struct ms_fsm_result *res);
int ms_fsm_do_drop_orphans(struct ms_fsm *fsm, const struct rfs_op *op,
			   struct ms_fsm_result *res);
/* The orphan record of ino, or NULL. */
struct ms_orphan *ms_fsm_orphan_find(const struct ms_fsm *fsm, uint64_t ino);
/* Restore: append (ino, session), ascending ino, to the table. */
int ms_fsm_orphan_restore(struct ms_fsm *fsm, uint64_t ino, uint64_t session);
void ms_fsm_xattrs_free(struct ms_inode *in);
/* Restore: the xattr list is sorted, unique and within the limits. */
bool ms_fsm_xattrs_are_valid(const struct ms_inode *in);

/* --- fsm_chunk.c / fsm_inv.c: chunks ---------------------------------- */
int ms_fsm_do_lease(struct ms_fsm *fsm, const struct rfs_op *op,
		    struct ms_fsm_result *res);
int ms_fsm_do_commit(struct ms_fsm *fsm, const struct rfs_op *op,
		     struct ms_fsm_result *res);
int ms_fsm_do_add_replicas(struct ms_fsm *fsm, const struct rfs_op *op,
			   struct ms_fsm_result *res);
struct ms_chunk *ms_fsm_chunk_by_id(const struct ms_fsm *fsm, uint64_t id);
/* Binary search; *pos = position of index or where it would go. */
struct ms_chunk *ms_fsm_chunk_lookup(const struct ms_inode *file,
				     uint64_t index, uint32_t *pos);
/* Drops chunks at or past size and trims the last one. */
void ms_fsm_file_truncate(struct ms_fsm *fsm, struct ms_inode *file,
			  uint64_t size);
/* Drops every chunk of a file (on free). */
void ms_fsm_file_free_chunks(struct ms_fsm *fsm, struct ms_inode *file);
/* Restore: append c (ascending index) to its file and the id table. */
int ms_fsm_chunk_restore(struct ms_fsm *fsm, struct ms_inode *file,
			 struct ms_chunk *c);
/* Copies a chunk into a wire record with replica addresses. */
void ms_fsm_chunk_fill(const struct ms_fsm *fsm, const struct ms_chunk *c,
		       struct rfs_chunk *out);

/* --- fsm_cluster.c: servers ------------------------------------------- */
int ms_fsm_do_register(struct ms_fsm *fsm, const struct rfs_op *op,
		       struct ms_fsm_result *res);
/* Index of a registered server id, or -ENOENT. */
int ms_fsm_server_index(const struct ms_fsm *fsm, const char *id,
			uint32_t *idx);
/*
 * Resolve op->replicas[0..n_replicas) to server indexes: 1..RFS_MAX_REPLICAS
 * distinct registered ids, else -EINVAL.
 */
int ms_fsm_replicas_resolve(const struct ms_fsm *fsm, const struct rfs_op *op,
			    uint32_t *idx);
void ms_fsm_replica_fill(const struct ms_fsm *fsm, uint32_t idx,
			 struct rfs_replica *out);

/*
 * A create with RFS_CREATE_LEASE: whether the leader fields of op
 * (chunk_id, replicas) can lease chunk 0 of a new file (0, else the
 * -EINVAL/-ESTALE a lease would fail with), checked before the file is
 * made; then ms_fsm_lease_first leases it as ms_fsm_do_lease would
 * (out may be NULL). Returns 0 or -ENOMEM.
 */
int ms_fsm_lease_first_check(const struct ms_fsm *fsm, const struct rfs_op *op);
int ms_fsm_lease_first(struct ms_fsm *fsm, struct ms_inode *file,
		       const struct rfs_op *op, struct rfs_lease *out);
/* Restore: append a server record (validated, unique id). */
int ms_fsm_server_restore(struct ms_fsm *fsm, const struct rfs_server *s);

#endif
