/*
 * proto: every message that crosses the wire, as C structs with one
 * encode/decode pair each. Metadata and admin messages are JSON (jansson is
 * used only inside proto.c and json.c); chunk data is raw bytes whose
 * metadata travels in the HTTP headers named here. docs/protocol.md is the
 * prose version of this file.
 *
 * Conventions for every pair:
 *  - rfs_proto_X_encode(const struct X *, char **out, size_t *out_len):
 *    *out is a malloc'd NUL-terminated JSON text owned by the caller.
 *    Returns 0 or -ENOMEM.
 *  - rfs_proto_X_decode(const char *buf, size_t len, struct X *out): pure
 *    over (buf, len); buf need not be NUL-terminated. Fills *out (zeroing it
 *    first); missing fields decode as zero/empty. Returns 0, -EPROTO for
 *    malformed JSON, a wrong field type or an out-of-range value,
 *    -ENAMETOOLONG for a name over RFS_NAME_MAX bytes, -E2BIG when a list or
 *    blob exceeds its maximum. On error *out holds nothing that needs
 *    releasing. Structs with heap members have an rfs_proto_X_release().
 *  - Integers up to 2^53 are JSON numbers; u64 ids that can exceed that
 *    (chunk ids, inode ids, cookies, generation) are 16-digit lower-case hex
 *    strings so no JSON implementation loses precision.
 *  - Encoders also return -EINVAL for a struct no decoder would accept (a
 *    caller bug): a list or blob over its maximum, a u64 number over
 *    INT64_MAX, a string not NUL-terminated within its array, an invalid
 *    non-empty server id, an unknown server state or op type.
 *  - Entry and xattr names are JSON strings when they are valid UTF-8;
 *    any other bytes travel as base64 under "<field>_b64" ("name_b64",
 *    "newname_b64"). Decoders accept either form, not both at once.
 *  - Unknown JSON fields are ignored (newer peers may add fields); JSON
 *    null, duplicate keys and "\u0000" in strings are -EPROTO.
 * All functions are thread-safe.
 */
#ifndef RFS_COMMON_PROTO_H
#define RFS_COMMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- limits (checked by decoders before anything is stored) ---------- */
#define RFS_NAME_MAX	       255	 /* bytes in one path component */
#define RFS_PATH_MAX	       4096	 /* bytes in a path or symlink target */
#define RFS_XATTR_VALUE_MAX    65536	 /* bytes in one xattr value */
#define RFS_SERVER_ID_MAX      64	 /* bytes in a chunk server id */
#define RFS_ADDR_MAX	       128	 /* "host:port" */
#define RFS_ZONE_MAX	       64	 /* bytes in a zone name */
#define RFS_FSID_MAX	       36	 /* uuid text */
#define RFS_MAX_REPLICAS       8	 /* highest replication goal */
#define RFS_READDIR_MAX	       1024	 /* entries in one readdir reply */
#define RFS_LAYOUT_MAX_CHUNKS  65536	 /* chunks in one layout reply */
#define RFS_INVENTORY_MAX      4000000	 /* chunks in one inventory */
#define RFS_SERVERS_MAX	       10000	 /* servers in a status reply */
#define RFS_META_BODY_MAX      (1 << 20) /* bytes of a metadata request body */
#define RFS_INVENTORY_BODY_MAX (256u << 20)
#define RFS_ROOT_INO	       1
#define RFS_CHUNK_SIZE_MIN     (64u << 10) /* one CRC block */
#define RFS_CHUNK_SIZE_MAX     (64u << 20) /* 1024 CRC blocks */
#define RFS_CHUNK_SIZE_DEFAULT (64u << 20)
#define RFS_ERR_MESSAGE_MAX    512
#define RFS_REQUEST_ID_MAX     32

/* --- HTTP routes ----------------------------------------------------- */
/* metaserver: every namespace op is POST RFS_PATH_NS "<op name>" */
#define RFS_PATH_NS		   "/v1/ns/"
#define RFS_PATH_CHUNK_LEASE	   "/v1/chunk/lease"
#define RFS_PATH_CHUNK_COMMIT	   "/v1/chunk/commit"
#define RFS_PATH_CHUNK_LAYOUT	   "/v1/chunk/layout"
#define RFS_PATH_CLUSTER_REGISTER  "/v1/cluster/register"
#define RFS_PATH_CLUSTER_HEARTBEAT "/v1/cluster/heartbeat"
#define RFS_PATH_CLUSTER_INVENTORY "/v1/cluster/inventory"
#define RFS_PATH_CLUSTER_STATUS	   "/v1/cluster/status" /* GET */
/* chunk server: PUT/GET/DELETE RFS_PATH_CHUNK "<chunk id hex16>" */
#define RFS_PATH_CHUNK	"/v1/chunk/"
#define RFS_PATH_CHUNKS "/v1/chunks" /* GET: inventory */
/* POST: make every replica stored so far durable (after PUTs with
 * RFS_HDR_SYNC: 0); 204 when done */
#define RFS_PATH_SYNC "/v1/sync"
/* both daemons */
#define RFS_PATH_HEALTH	 "/health"
#define RFS_PATH_METRICS "/metrics"

/* --- chunk data headers and query keys ------------------------------- */
/*
 * PUT  /v1/chunk/<id>?version=V                      whole chunk, body = data
 * PUT  /v1/chunk/<id>?version=V&offset=O&base=BV&base_length=BL
 *      range update of the replica holding version BV (logical length BL:
 *      bytes past BL read as zero); O is a multiple of RFS_CRC_BLOCK_BYTES.
 * GET  /v1/chunk/<id>?version=V&offset=O&length=L
 *      O is block-aligned; L is block-aligned or reaches the chunk's end.
 * DELETE /v1/chunk/<id>?version=V
 * The body's per-block CRC32Cs travel in RFS_HDR_CRC as comma-separated
 * 8-digit hex values, one per 64 KiB block (the last may be short).
 */
#define RFS_HDR_CRC	     "X-Ringfs-Crc32c"
#define RFS_HDR_CHUNK_LENGTH "X-Ringfs-Chunk-Length"
#define RFS_HDR_SYNC	     "X-Ringfs-Sync" /* "0" skips fsync */
#define RFS_HDR_REQUEST_ID   "X-Request-Id"
#define RFS_Q_VERSION	     "version"
#define RFS_Q_OFFSET	     "offset"
#define RFS_Q_LENGTH	     "length"
#define RFS_Q_BASE	     "base"
#define RFS_Q_BASE_LENGTH    "base_length"
#define RFS_CONTENT_JSON     "application/json"
#define RFS_CONTENT_OCTETS   "application/octet-stream"

/* --- inode attributes ------------------------------------------------ */
struct rfs_attr {
	uint64_t ino;
	uint32_t mode; /* full st_mode: S_IFREG/S_IFDIR/S_IFLNK | 07777 */
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	uint64_t size;
	int64_t atime_ns;
	int64_t mtime_ns;
	int64_t ctime_ns;
	uint64_t generation;
	uint32_t goal; /* replication goal */
};

/* --- operations ------------------------------------------------------ */
/*
 * One struct carries every metadata request and is also the record stored
 * in the replicated log (the leader fills the fields marked "leader").
 */
enum rfs_op_type {
	RFS_OP_NONE = 0,
	/* namespace, wire name = lower-case suffix, e.g. "lookup" */
	RFS_OP_LOOKUP,	    /* parent, name */
	RFS_OP_GETATTR,	    /* ino */
	RFS_OP_SETATTR,	    /* ino, valid, mode, uid, gid, size, atime/mtime */
	RFS_OP_MKDIR,	    /* parent, name, mode, uid, gid */
	RFS_OP_RMDIR,	    /* parent, name */
	RFS_OP_CREATE,	    /* parent, name, mode, uid, gid, flags (EXCL) */
	RFS_OP_UNLINK,	    /* parent, name, session (optional) */
	RFS_OP_RENAME,	    /* parent, name, newparent, newname, flags */
	RFS_OP_LINK,	    /* ino, newparent, newname */
	RFS_OP_SYMLINK,	    /* parent, name, data = target, uid, gid */
	RFS_OP_READLINK,    /* ino */
	RFS_OP_READDIR,	    /* ino, cookie, limit */
	RFS_OP_STATFS,	    /* - */
	RFS_OP_SETXATTR,    /* ino, name, data = value, flags */
	RFS_OP_GETXATTR,    /* ino, name */
	RFS_OP_LISTXATTR,   /* ino */
	RFS_OP_REMOVEXATTR, /* ino, name */
	RFS_OP_RESOLVE,	    /* data = absolute path */
	/* chunks */
	RFS_OP_LEASE,  /* ino, index; leader: chunk_id, replicas */
	RFS_OP_COMMIT, /* ino, index, chunk_id, version, length, replicas */
	RFS_OP_LAYOUT, /* ino, offset, size = byte count (0 = to end) */
	/* cluster */
	RFS_OP_REGISTER,     /* server */
	RFS_OP_ADD_REPLICAS, /* internal: chunk_id, version, replicas[0] */
	/* unlinked open files (docs/fuse.md, "Unlinked open files") */
	RFS_OP_RELEASE_ORPHAN, /* ino, session: free an orphan (namespace) */
	RFS_OP_DROP_ORPHANS,   /* internal: session: free all its orphans */
	RFS_OP_COUNT
};

/* setattr valid bits */
#define RFS_SETATTR_MODE      (1u << 0)
#define RFS_SETATTR_UID	      (1u << 1)
#define RFS_SETATTR_GID	      (1u << 2)
#define RFS_SETATTR_SIZE      (1u << 3)
#define RFS_SETATTR_ATIME     (1u << 4)
#define RFS_SETATTR_MTIME     (1u << 5)
#define RFS_SETATTR_ATIME_NOW (1u << 6)
#define RFS_SETATTR_MTIME_NOW (1u << 7)
/* flags */
/* create: O_EXCL; RFS_CREATE_LEASE also leases chunk 0 of a new file
 * (leader fields chunk_id, replicas) and the reply carries the lease
 * beside the attr */
#define RFS_CREATE_EXCL	     (1u << 0)
#define RFS_CREATE_LEASE     (1u << 1)
#define RFS_RENAME_NOREPLACE (1u << 0) /* same values as renameat2 */
#define RFS_RENAME_EXCHANGE  (1u << 1)
#define RFS_XATTR_CREATE     (1u << 0) /* same values as setxattr(2) */
#define RFS_XATTR_REPLACE    (1u << 1)
/* readdir: each entry also carries its attributes (but "." and "..") */
#define RFS_READDIR_PLUS (1u << 0)

enum rfs_server_state {
	RFS_SERVER_UP = 0,
	RFS_SERVER_DOWN,
	RFS_SERVER_OUT,
	RFS_SERVER_DRAINING,
};

/* A chunk server as registered, heartbeating and listed in status. */
struct rfs_server {
	char id[RFS_SERVER_ID_MAX + 1]; /* [A-Za-z0-9._-]+ */
	char addr[RFS_ADDR_MAX + 1];	/* "127.0.0.1:9501" */
	char zone[RFS_ZONE_MAX + 1];
	uint32_t weight;	  /* >= 1 */
	uint64_t capacity;	  /* bytes */
	uint64_t used;		  /* bytes */
	uint64_t chunks;	  /* replicas stored */
	uint32_t load;		  /* requests in flight */
	uint32_t state;		  /* enum rfs_server_state */
	int64_t heartbeat_age_ms; /* -1 = never */
};

/* One replica location. */
struct rfs_replica {
	char id[RFS_SERVER_ID_MAX + 1];
	char addr[RFS_ADDR_MAX + 1];
	bool up;
};

struct rfs_op {
	uint32_t type; /* enum rfs_op_type */
	uint64_t ino;
	uint64_t parent;
	char name[RFS_NAME_MAX + 1]; /* entry name or xattr name */
	uint64_t newparent;
	char newname[RFS_NAME_MAX + 1];
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t flags;
	uint32_t valid;
	uint64_t size;
	int64_t atime_ns;
	int64_t mtime_ns;
	char *data; /* malloc'd; symlink target, xattr value, resolve path */
	size_t
	    data_len; /* <= RFS_PATH_MAX, or RFS_XATTR_VALUE_MAX for xattrs */
	uint64_t cookie;
	uint32_t limit;
	uint64_t index;
	uint64_t offset;
	uint64_t chunk_id;
	uint32_t version;
	uint64_t length;
	uint32_t n_replicas;
	struct rfs_replica
	    replicas[RFS_MAX_REPLICAS]; /* ids used; addr optional */
	struct rfs_server server;	/* register */
	int64_t now_ns; /* leader: wall clock of the operation */
	/* unlink/rename: the lock session that keeps a file still open on
	 * the caller as an orphan (0: free it at once); release_orphan and
	 * drop_orphans: the orphans' session */
	uint64_t session;
};

/* Wire name of an op type ("mkdir"), or NULL for an invalid type. */
const char *rfs_op_name(uint32_t type);
/* Op type for a wire name, or RFS_OP_NONE. */
uint32_t rfs_op_from_name(const char *name);

int rfs_proto_op_encode(const struct rfs_op *op, char **out, size_t *out_len);
int rfs_proto_op_decode(const char *buf, size_t len, struct rfs_op *op);
/* Frees op->data. The struct itself is the caller's. NULL is a no-op. */
void rfs_proto_op_release(struct rfs_op *op);

/* --- replies --------------------------------------------------------- */
/* {"attr": {...}} for lookup, getattr, setattr, mkdir, create, link, ... */
int rfs_proto_attr_encode(const struct rfs_attr *attr, char **out,
			  size_t *out_len);
int rfs_proto_attr_decode(const char *buf, size_t len, struct rfs_attr *attr);

struct rfs_dirent {
	uint64_t ino;
	uint32_t mode;
	uint64_t cookie; /* pass back to continue after this entry */
	char name[RFS_NAME_MAX + 1];
	bool has_attr;	      /* readdir with RFS_READDIR_PLUS: attr is set */
	struct rfs_attr attr; /* wire: optional "attr" object of the entry */
};

struct rfs_readdir_reply {
	struct rfs_dirent *entries; /* malloc'd array */
	size_t n;		    /* <= RFS_READDIR_MAX */
	bool eof;
};
int rfs_proto_readdir_encode(const struct rfs_readdir_reply *r, char **out,
			     size_t *out_len);
int rfs_proto_readdir_decode(const char *buf, size_t len,
			     struct rfs_readdir_reply *r);
void rfs_proto_readdir_release(struct rfs_readdir_reply *r);

/*
 * A binary value: readlink target, xattr value, or listxattr names
 * (NUL-separated, as listxattr(2)). Encoded base64 as {"value": "..."}.
 */
struct rfs_value_reply {
	char *data; /* malloc'd, NUL-terminated beyond len */
	size_t len; /* <= RFS_XATTR_VALUE_MAX */
};
int rfs_proto_value_encode(const struct rfs_value_reply *v, char **out,
			   size_t *out_len);
int rfs_proto_value_decode(const char *buf, size_t len,
			   struct rfs_value_reply *v);
void rfs_proto_value_release(struct rfs_value_reply *v);

struct rfs_statfs {
	uint64_t total_bytes;
	uint64_t free_bytes;
	uint64_t used_bytes;
	uint64_t inodes;
	uint64_t chunk_size;
};
int rfs_proto_statfs_encode(const struct rfs_statfs *s, char **out,
			    size_t *out_len);
int rfs_proto_statfs_decode(const char *buf, size_t len, struct rfs_statfs *s);

/*
 * A write lease on one chunk. The client writes version `version` to every
 * replica, then commits. prev_version/prev_length describe the committed
 * chunk being replaced (0/0 for a new chunk): a client writing part of a
 * chunk uses them as base/base_length.
 */
struct rfs_lease {
	uint64_t ino;
	uint64_t index;
	uint64_t chunk_id;
	uint32_t version;
	uint32_t prev_version;
	uint64_t prev_length;
	uint64_t chunk_size;
	uint32_t n_replicas;
	struct rfs_replica replicas[RFS_MAX_REPLICAS];
};
int rfs_proto_lease_encode(const struct rfs_lease *l, char **out,
			   size_t *out_len);
int rfs_proto_lease_decode(const char *buf, size_t len, struct rfs_lease *l);
/*
 * The reply of a create that leased chunk 0: {"attr": {...}} with the
 * lease's members beside it (no lease members when lease->n_replicas is
 * 0). rfs_proto_attr_decode and rfs_proto_lease_decode each read their
 * part of it. Returns 0 or -ENOMEM/-EINVAL.
 */
int rfs_proto_attr_lease_encode(const struct rfs_attr *attr,
				const struct rfs_lease *lease, char **out,
				size_t *out_len);

/* One committed chunk of a file. A chunk absent from a layout is a hole. */
struct rfs_chunk {
	uint64_t index;
	uint64_t chunk_id;
	uint32_t version;
	uint64_t length; /* bytes held; past it, reads give zeros */
	uint32_t n_replicas;
	struct rfs_replica replicas[RFS_MAX_REPLICAS]; /* up ones first */
};

struct rfs_layout {
	uint64_t ino;
	uint64_t size;
	uint64_t chunk_size;
	uint32_t goal;
	struct rfs_chunk *chunks; /* malloc'd, ascending index */
	size_t n_chunks;	  /* <= RFS_LAYOUT_MAX_CHUNKS */
};
int rfs_proto_layout_encode(const struct rfs_layout *l, char **out,
			    size_t *out_len);
int rfs_proto_layout_decode(const char *buf, size_t len, struct rfs_layout *l);
void rfs_proto_layout_release(struct rfs_layout *l);

/* register and heartbeat bodies are one server; status lists them. */
int rfs_proto_server_encode(const struct rfs_server *s, char **out,
			    size_t *out_len);
int rfs_proto_server_decode(const char *buf, size_t len, struct rfs_server *s);

struct rfs_status {
	char fsid[RFS_FSID_MAX + 1];
	uint64_t chunk_size;
	uint32_t goal;
	uint64_t ring_epoch;
	uint64_t inodes;
	uint64_t chunks;
	struct rfs_server *servers; /* malloc'd */
	size_t n_servers;	    /* <= RFS_SERVERS_MAX */
};
int rfs_proto_status_encode(const struct rfs_status *s, char **out,
			    size_t *out_len);
int rfs_proto_status_decode(const char *buf, size_t len, struct rfs_status *s);
void rfs_proto_status_release(struct rfs_status *s);

/*
 * Inventory: a chunk server's replicas (request, and the GET /v1/chunks
 * reply), or the replicas the metaserver tells it to delete (reply).
 */
struct rfs_inv_entry {
	uint64_t chunk_id;
	uint32_t version;
	uint64_t length;
};
struct rfs_inventory {
	char server_id[RFS_SERVER_ID_MAX + 1];
	struct rfs_inv_entry *entries; /* malloc'd */
	size_t n;		       /* <= RFS_INVENTORY_MAX */
};
int rfs_proto_inventory_encode(const struct rfs_inventory *inv, char **out,
			       size_t *out_len);
int rfs_proto_inventory_decode(const char *buf, size_t len,
			       struct rfs_inventory *inv);
void rfs_proto_inventory_release(struct rfs_inventory *inv);

/* {"error": "ENOENT", "message": "..."}; err is a positive errno. */
struct rfs_error_reply {
	int err;
	char message[RFS_ERR_MESSAGE_MAX];
};
int rfs_proto_error_encode(const struct rfs_error_reply *e, char **out,
			   size_t *out_len);
int rfs_proto_error_decode(const char *buf, size_t len,
			   struct rfs_error_reply *e);

/*
 * Validate one path component: 1..RFS_NAME_MAX bytes, no '/', no NUL, not
 * "." or "..". Returns 0, -ENAMETOOLONG or -EINVAL.
 */
int rfs_proto_check_name(const char *name, size_t len);

/* Validate a server id: 1..RFS_SERVER_ID_MAX of [A-Za-z0-9._-]. */
bool rfs_proto_server_id_is_valid(const char *id);

/* --- lock sessions and locks (proto_lock.c) -------------------------- */
/*
 * Cluster-wide flock and POSIX record locks, kept in the metaserver
 * leader's memory per client session (docs/protocol.md, "Locks"):
 *   POST RFS_PATH_SESSION_OPEN  {} | rfs_session -> rfs_session (a
 *        body with an id asks for that id again, so that a client whose
 *        session the metaserver lost keeps its orphans; granted when
 *        free or already this client's, else a new id)
 *   POST RFS_PATH_SESSION_RENEW rfs_session   -> rfs_session
 *   POST RFS_PATH_SESSION_CLOSE rfs_session   -> {}
 *   POST RFS_PATH_LOCK          rfs_lock      -> {} | EBUSY (held by
 *        another owner, or the grace period refuses a new lock)
 *   POST RFS_PATH_LOCK_TEST     rfs_lock      -> rfs_lock: the first
 *        conflicting lock (type, start, end, pid), type "un" when none
 * An unknown session is ESTALE: open a new one and reclaim.
 */
#define RFS_PATH_SESSION_OPEN  "/v1/session/open"
#define RFS_PATH_SESSION_RENEW "/v1/session/renew"
#define RFS_PATH_SESSION_CLOSE "/v1/session/close"
#define RFS_PATH_LOCK	       "/v1/lock"
#define RFS_PATH_LOCK_TEST     "/v1/lock/test"
/* Inclusive end of a lock that reaches the end of the file. */
#define RFS_LOCK_EOF UINT64_MAX

/* Lock families; Linux keeps them independent of each other. */
enum rfs_lock_kind {
	RFS_LOCK_POSIX = 0, /* fcntl byte ranges; owner: the process */
	RFS_LOCK_FLOCK,	    /* whole file; owner: the open file */
};

enum rfs_lock_type {
	RFS_LOCK_UN = 0, /* unlock */
	RFS_LOCK_RD,	 /* shared */
	RFS_LOCK_WR,	 /* exclusive */
};

struct rfs_session {
	uint64_t id;	   /* random, never 0 */
	uint32_t lease_ms; /* reply: renew well within this */
};
int rfs_proto_session_encode(const struct rfs_session *s, char **out,
			     size_t *out_len);
int rfs_proto_session_decode(const char *buf, size_t len,
			     struct rfs_session *s);

/*
 * A lock request (and the lock-test reply, which fills type, start, end
 * and pid only). Owner identity is (session, kind, owner). start <= end
 * (decoders refuse anything else); flock locks cover 0..RFS_LOCK_EOF.
 */
struct rfs_lock {
	uint64_t session;
	uint64_t ino;
	uint32_t kind;	/* enum rfs_lock_kind: "posix" / "flock" */
	uint64_t owner; /* the kernel's lock owner id */
	uint32_t type;	/* enum rfs_lock_type: "un" / "rd" / "wr" */
	uint64_t start;
	uint64_t end; /* inclusive */
	uint32_t pid;
	bool reclaim; /* re-establish a lock held before a restart */
};
int rfs_proto_lock_encode(const struct rfs_lock *l, char **out,
			  size_t *out_len);
int rfs_proto_lock_decode(const char *buf, size_t len, struct rfs_lock *l);

/*
 * The reply to unlink and rename: {} or {"orphan": ino} when the op,
 * sent with a session, dropped the last link of a regular file and the
 * metaserver keeps it as an orphan of that session (release it with
 * release_orphan once no longer open). Decoding "{}" gives ino 0.
 */
struct rfs_orphan_reply {
	uint64_t orphan;
};
int rfs_proto_orphan_encode(const struct rfs_orphan_reply *o, char **out,
			    size_t *out_len);
int rfs_proto_orphan_decode(const char *buf, size_t len,
			    struct rfs_orphan_reply *o);

/*
 * Directory attributes riding on a namespace change's reply (the
 * optional member "dirs": [attr, ...], docs/protocol.md): the parent's
 * attributes after mkdir, rmdir, create, unlink, symlink, link (the new
 * parent) and rename (the old parent, then the new one when it differs).
 * A client that does not know the member ignores it.
 */
#define RFS_DIR_ATTRS_MAX 2
struct rfs_dir_attrs {
	uint32_t n;
	struct rfs_attr dir[RFS_DIR_ATTRS_MAX];
};
/*
 * Add d (n 0: nothing) as "dirs" to the JSON object reply buf[0..len)
 * (len 0: "{}"); *out is malloc'd, the caller's. Returns 0, -EPROTO
 * (buf is not an object), -ERANGE or -ENOMEM.
 */
int rfs_proto_dirs_add(const char *buf, size_t len,
		       const struct rfs_dir_attrs *d, char **out,
		       size_t *out_len);
/* The "dirs" of a reply; none (n 0) when absent. 0 or -EPROTO. */
int rfs_proto_dirs_decode(const char *buf, size_t len, struct rfs_dir_attrs *d);

#endif
