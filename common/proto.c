#include <config.h>
#include "common/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "common/json.h"
#include "common/proto_int.h"

/*
 * JSON field names. The scalar members of each struct are described by a
 * field table (common/json.h) read by one generic encoder and decoder, so
 * every message checks types and ranges the same way.
 */
#define F_OP		   "op"
#define F_INO		   "ino"
#define F_PARENT	   "parent"
#define F_NAME		   "name"
#define F_NAME_B64	   "name_b64"
#define F_NEWPARENT	   "newparent"
#define F_NEWNAME	   "newname"
#define F_NEWNAME_B64	   "newname_b64"
#define F_MODE		   "mode"
#define F_UID		   "uid"
#define F_GID		   "gid"
#define F_NLINK		   "nlink"
#define F_FLAGS		   "flags"
#define F_VALID		   "valid"
#define F_SIZE		   "size"
#define F_ATIME_NS	   "atime_ns"
#define F_MTIME_NS	   "mtime_ns"
#define F_CTIME_NS	   "ctime_ns"
#define F_GENERATION	   "generation"
#define F_GOAL		   "goal"
#define F_DATA		   "data"
#define F_COOKIE	   "cookie"
#define F_LIMIT		   "limit"
#define F_INDEX		   "index"
#define F_OFFSET	   "offset"
#define F_CHUNK_ID	   "chunk_id"
#define F_VERSION	   "version"
#define F_LENGTH	   "length"
#define F_REPLICAS	   "replicas"
#define F_SERVER	   "server"
#define F_NOW_NS	   "now_ns"
#define F_ID		   "id"
#define F_ADDR		   "addr"
#define F_UP		   "up"
#define F_ATTR		   "attr"
#define F_ENTRIES	   "entries"
#define F_EOF		   "eof"
#define F_VALUE		   "value"
#define F_TOTAL_BYTES	   "total_bytes"
#define F_FREE_BYTES	   "free_bytes"
#define F_USED_BYTES	   "used_bytes"
#define F_INODES	   "inodes"
#define F_CHUNK_SIZE	   "chunk_size"
#define F_PREV_VERSION	   "prev_version"
#define F_PREV_LENGTH	   "prev_length"
#define F_CHUNKS	   "chunks"
#define F_ZONE		   "zone"
#define F_WEIGHT	   "weight"
#define F_CAPACITY	   "capacity"
#define F_USED		   "used"
#define F_LOAD		   "load"
#define F_STATE		   "state"
#define F_HEARTBEAT_AGE_MS "heartbeat_age_ms"
#define F_FSID		   "fsid"
#define F_RING_EPOCH	   "ring_epoch"
#define F_SERVERS	   "servers"
#define F_SERVER_ID	   "server_id"
#define F_ERROR		   "error"
#define F_MESSAGE	   "message"
#define F_SESSION	   "session"

/* Longest op wire name ("add_replicas", "removexattr") with room to spare. */
#define OP_NAME_MAX 16

static const char *const op_names[RFS_OP_COUNT] = {
    [RFS_OP_LOOKUP] = "lookup",
    [RFS_OP_GETATTR] = "getattr",
    [RFS_OP_SETATTR] = "setattr",
    [RFS_OP_MKDIR] = "mkdir",
    [RFS_OP_RMDIR] = "rmdir",
    [RFS_OP_CREATE] = "create",
    [RFS_OP_UNLINK] = "unlink",
    [RFS_OP_RENAME] = "rename",
    [RFS_OP_LINK] = "link",
    [RFS_OP_SYMLINK] = "symlink",
    [RFS_OP_READLINK] = "readlink",
    [RFS_OP_READDIR] = "readdir",
    [RFS_OP_STATFS] = "statfs",
    [RFS_OP_SETXATTR] = "setxattr",
    [RFS_OP_GETXATTR] = "getxattr",
    [RFS_OP_LISTXATTR] = "listxattr",
    [RFS_OP_REMOVEXATTR] = "removexattr",
    [RFS_OP_RESOLVE] = "resolve",
    [RFS_OP_LEASE] = "lease",
    [RFS_OP_COMMIT] = "commit",
    [RFS_OP_LAYOUT] = "layout",
    [RFS_OP_REGISTER] = "register",
    [RFS_OP_ADD_REPLICAS] = "add_replicas",
    [RFS_OP_RELEASE_ORPHAN] = "release_orphan",
    [RFS_OP_DROP_ORPHANS] = "drop_orphans",
};

static const char *const state_names[] = {
    [RFS_SERVER_UP] = "up",
    [RFS_SERVER_DOWN] = "down",
    [RFS_SERVER_OUT] = "out",
    [RFS_SERVER_DRAINING] = "draining",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *rfs_op_name(uint32_t type)
{
	if (type == RFS_OP_NONE || type >= RFS_OP_COUNT)
		return NULL;
	return op_names[type];
}

uint32_t rfs_op_from_name(const char *name)
{
	uint32_t t;

	if (!name)
		return RFS_OP_NONE;
	for (t = RFS_OP_NONE + 1; t < RFS_OP_COUNT; t++)
		if (strcmp(op_names[t], name) == 0)
			return t;
	return RFS_OP_NONE;
}

int rfs_proto_check_name(const char *name, size_t len)
{
	if (len > RFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (!name || len == 0)
		return -EINVAL;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

bool rfs_proto_server_id_is_valid(const char *id)
{
	size_t len;
	size_t i;
	char c;

	if (!id)
		return false;
	len = strnlen(id, RFS_SERVER_ID_MAX + 1);
	if (len == 0 || len > RFS_SERVER_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* --- field tables ---------------------------------------------------- */
#define FLD(k, kd, type, m) RFS_JSON_F(k, kd, type, m)
#define NAME_FLD(k, alt, type, m)                                              \
	RFS_JSON_F_BYTES(k, alt, type, m, RFS_NAME_MAX, -ENAMETOOLONG)
#define STR_FLD(k, type, m, max) RFS_JSON_F_STR(k, type, m, max, -EPROTO, NULL)
#define SERVER_ID_FLD(k, type, m)                                              \
	RFS_JSON_F_STR(k, type, m, RFS_SERVER_ID_MAX, -EPROTO,                 \
		       rfs_proto_server_id_is_valid)
#define N_FIELDS(t) (sizeof(t) / sizeof((t)[0]))

static const struct rfs_json_field op_fields[] = {
    FLD(F_INO, RFS_JSON_HEX64, struct rfs_op, ino),
    FLD(F_PARENT, RFS_JSON_HEX64, struct rfs_op, parent),
    NAME_FLD(F_NAME, F_NAME_B64, struct rfs_op, name),
    FLD(F_NEWPARENT, RFS_JSON_HEX64, struct rfs_op, newparent),
    NAME_FLD(F_NEWNAME, F_NEWNAME_B64, struct rfs_op, newname),
    FLD(F_MODE, RFS_JSON_U32, struct rfs_op, mode),
    FLD(F_UID, RFS_JSON_U32, struct rfs_op, uid),
    FLD(F_GID, RFS_JSON_U32, struct rfs_op, gid),
    FLD(F_FLAGS, RFS_JSON_U32, struct rfs_op, flags),
    FLD(F_VALID, RFS_JSON_U32, struct rfs_op, valid),
    FLD(F_SIZE, RFS_JSON_U64, struct rfs_op, size),
    FLD(F_ATIME_NS, RFS_JSON_I64, struct rfs_op, atime_ns),
    FLD(F_MTIME_NS, RFS_JSON_I64, struct rfs_op, mtime_ns),
    FLD(F_COOKIE, RFS_JSON_HEX64, struct rfs_op, cookie),
    FLD(F_LIMIT, RFS_JSON_U32, struct rfs_op, limit),
    FLD(F_INDEX, RFS_JSON_U64, struct rfs_op, index),
    FLD(F_OFFSET, RFS_JSON_U64, struct rfs_op, offset),
    FLD(F_CHUNK_ID, RFS_JSON_HEX64, struct rfs_op, chunk_id),
    FLD(F_VERSION, RFS_JSON_U32, struct rfs_op, version),
    FLD(F_LENGTH, RFS_JSON_U64, struct rfs_op, length),
    FLD(F_NOW_NS, RFS_JSON_I64, struct rfs_op, now_ns),
    FLD(F_SESSION, RFS_JSON_HEX64, struct rfs_op, session),
};

static const struct rfs_json_field attr_fields[] = {
    FLD(F_INO, RFS_JSON_HEX64, struct rfs_attr, ino),
    FLD(F_MODE, RFS_JSON_U32, struct rfs_attr, mode),
    FLD(F_UID, RFS_JSON_U32, struct rfs_attr, uid),
    FLD(F_GID, RFS_JSON_U32, struct rfs_attr, gid),
    FLD(F_NLINK, RFS_JSON_U32, struct rfs_attr, nlink),
    FLD(F_SIZE, RFS_JSON_U64, struct rfs_attr, size),
    FLD(F_ATIME_NS, RFS_JSON_I64, struct rfs_attr, atime_ns),
    FLD(F_MTIME_NS, RFS_JSON_I64, struct rfs_attr, mtime_ns),
    FLD(F_CTIME_NS, RFS_JSON_I64, struct rfs_attr, ctime_ns),
    FLD(F_GENERATION, RFS_JSON_HEX64, struct rfs_attr, generation),
    FLD(F_GOAL, RFS_JSON_U32, struct rfs_attr, goal),
};

static const struct rfs_json_field dirent_fields[] = {
    FLD(F_INO, RFS_JSON_HEX64, struct rfs_dirent, ino),
    FLD(F_MODE, RFS_JSON_U32, struct rfs_dirent, mode),
    FLD(F_COOKIE, RFS_JSON_HEX64, struct rfs_dirent, cookie),
    NAME_FLD(F_NAME, F_NAME_B64, struct rfs_dirent, name),
};

static const struct rfs_json_field statfs_fields[] = {
    FLD(F_TOTAL_BYTES, RFS_JSON_U64, struct rfs_statfs, total_bytes),
    FLD(F_FREE_BYTES, RFS_JSON_U64, struct rfs_statfs, free_bytes),
    FLD(F_USED_BYTES, RFS_JSON_U64, struct rfs_statfs, used_bytes),
    FLD(F_INODES, RFS_JSON_U64, struct rfs_statfs, inodes),
    FLD(F_CHUNK_SIZE, RFS_JSON_U64, struct rfs_statfs, chunk_size),
};

static const struct rfs_json_field replica_fields[] = {
    SERVER_ID_FLD(F_ID, struct rfs_replica, id),
    STR_FLD(F_ADDR, struct rfs_replica, addr, RFS_ADDR_MAX),
    FLD(F_UP, RFS_JSON_BOOL, struct rfs_replica, up),
};

static const struct rfs_json_field lease_fields[] = {
    FLD(F_INO, RFS_JSON_HEX64, struct rfs_lease, ino),
    FLD(F_INDEX, RFS_JSON_U64, struct rfs_lease, index),
    FLD(F_CHUNK_ID, RFS_JSON_HEX64, struct rfs_lease, chunk_id),
    FLD(F_VERSION, RFS_JSON_U32, struct rfs_lease, version),
    FLD(F_PREV_VERSION, RFS_JSON_U32, struct rfs_lease, prev_version),
    FLD(F_PREV_LENGTH, RFS_JSON_U64, struct rfs_lease, prev_length),
    FLD(F_CHUNK_SIZE, RFS_JSON_U64, struct rfs_lease, chunk_size),
};

static const struct rfs_json_field chunk_fields[] = {
    FLD(F_INDEX, RFS_JSON_U64, struct rfs_chunk, index),
    FLD(F_CHUNK_ID, RFS_JSON_HEX64, struct rfs_chunk, chunk_id),
    FLD(F_VERSION, RFS_JSON_U32, struct rfs_chunk, version),
    FLD(F_LENGTH, RFS_JSON_U64, struct rfs_chunk, length),
};

static const struct rfs_json_field layout_fields[] = {
    FLD(F_INO, RFS_JSON_HEX64, struct rfs_layout, ino),
    FLD(F_SIZE, RFS_JSON_U64, struct rfs_layout, size),
    FLD(F_CHUNK_SIZE, RFS_JSON_U64, struct rfs_layout, chunk_size),
    FLD(F_GOAL, RFS_JSON_U32, struct rfs_layout, goal),
};

static const struct rfs_json_field server_fields[] = {
    SERVER_ID_FLD(F_ID, struct rfs_server, id),
    STR_FLD(F_ADDR, struct rfs_server, addr, RFS_ADDR_MAX),
    STR_FLD(F_ZONE, struct rfs_server, zone, RFS_ZONE_MAX),
    FLD(F_WEIGHT, RFS_JSON_U32, struct rfs_server, weight),
    FLD(F_CAPACITY, RFS_JSON_U64, struct rfs_server, capacity),
    FLD(F_USED, RFS_JSON_U64, struct rfs_server, used),
    FLD(F_CHUNKS, RFS_JSON_U64, struct rfs_server, chunks),
    FLD(F_LOAD, RFS_JSON_U32, struct rfs_server, load),
    RFS_JSON_F_ENUM(F_STATE, struct rfs_server, state, state_names, N_STATES),
    FLD(F_HEARTBEAT_AGE_MS, RFS_JSON_I64, struct rfs_server, heartbeat_age_ms),
};

static const struct rfs_json_field status_fields[] = {
    STR_FLD(F_FSID, struct rfs_status, fsid, RFS_FSID_MAX),
    FLD(F_CHUNK_SIZE, RFS_JSON_U64, struct rfs_status, chunk_size),
    FLD(F_GOAL, RFS_JSON_U32, struct rfs_status, goal),
    FLD(F_RING_EPOCH, RFS_JSON_HEX64, struct rfs_status, ring_epoch),
    FLD(F_INODES, RFS_JSON_U64, struct rfs_status, inodes),
    FLD(F_CHUNKS, RFS_JSON_U64, struct rfs_status, chunks),
};

static const struct rfs_json_field inventory_fields[] = {
    SERVER_ID_FLD(F_SERVER_ID, struct rfs_inventory, server_id),
};

static const struct rfs_json_field inv_entry_fields[] = {
    FLD(F_CHUNK_ID, RFS_JSON_HEX64, struct rfs_inv_entry, chunk_id),
    FLD(F_VERSION, RFS_JSON_U32, struct rfs_inv_entry, version),
    FLD(F_LENGTH, RFS_JSON_U64, struct rfs_inv_entry, length),
};

/* --- lists ----------------------------------------------------------- */
static const struct rfs_json_list replicas_list = {
    .key = F_REPLICAS,
    .max = RFS_MAX_REPLICAS,
    .elem_size = sizeof(struct rfs_replica),
    .fields = replica_fields,
    .n_fields = N_FIELDS(replica_fields),
};

static int encode_replicas(json_t *obj, const struct rfs_replica *reps,
			   uint32_t n)
{
	return rfs_json_encode_list(obj, &replicas_list, reps, n);
}

/* Into the fixed array reps[RFS_MAX_REPLICAS]. */
static int decode_replicas(const json_t *obj, struct rfs_replica *reps,
			   uint32_t *n_out)
{
	struct rfs_replica *tmp = NULL;
	size_t n = 0;
	int rc;

	/* the list's max is RFS_MAX_REPLICAS, checked before allocating */
	rc = rfs_json_decode_list(obj, &replicas_list, (void **)&tmp, &n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(reps, tmp, n * sizeof(*tmp));
	*n_out = (uint32_t)n;
	free(tmp);
	return 0;
}

/* A readdir-plus entry's attributes: "attr" inside the entry. */
static int dirent_encode_extra(json_t *item, const void *elem)
{
	const struct rfs_dirent *d = elem;
	json_t *a;

	if (!d->has_attr)
		return 0;
	a = json_object();
	/* item owns a once added, also when encoding it fails below */
	if (rfs_json_set_new(item, F_ATTR, a) < 0)
		return -ENOMEM;
	return rfs_json_encode_fields(a, attr_fields, N_FIELDS(attr_fields),
				      &d->attr, false);
}

static int dirent_decode_extra(const json_t *item, void *elem)
{
	struct rfs_dirent *d = elem;
	json_t *a;
	int rc;

	rc = rfs_json_get_object(item, F_ATTR, &a);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	rc = rfs_json_decode_fields(a, attr_fields, N_FIELDS(attr_fields),
				    &d->attr);
	d->has_attr = rc == 0;
	return rc;
}

static const struct rfs_json_list dirents_list = {
    .key = F_ENTRIES,
    .max = RFS_READDIR_MAX,
    .elem_size = sizeof(struct rfs_dirent),
    .fields = dirent_fields,
    .n_fields = N_FIELDS(dirent_fields),
    .encode_extra = dirent_encode_extra,
    .decode_extra = dirent_decode_extra,
};

static int chunk_encode_extra(json_t *item, const void *elem)
{
	const struct rfs_chunk *c = elem;

	return encode_replicas(item, c->replicas, c->n_replicas);
}

static int chunk_decode_extra(const json_t *item, void *elem)
{
	struct rfs_chunk *c = elem;

	return decode_replicas(item, c->replicas, &c->n_replicas);
}

static const struct rfs_json_list chunks_list = {
    .key = F_CHUNKS,
    .max = RFS_LAYOUT_MAX_CHUNKS,
    .elem_size = sizeof(struct rfs_chunk),
    .fields = chunk_fields,
    .n_fields = N_FIELDS(chunk_fields),
    .encode_extra = chunk_encode_extra,
    .decode_extra = chunk_decode_extra,
};

static const struct rfs_json_list servers_list = {
    .key = F_SERVERS,
    .max = RFS_SERVERS_MAX,
    .elem_size = sizeof(struct rfs_server),
    .fields = server_fields,
    .n_fields = N_FIELDS(server_fields),
};

static const struct rfs_json_list inventory_list = {
    .key = F_CHUNKS,
    .max = RFS_INVENTORY_MAX,
    .elem_size = sizeof(struct rfs_inv_entry),
    .fields = inv_entry_fields,
    .n_fields = N_FIELDS(inv_entry_fields),
};

static const struct rfs_proto_tables tables = {
    .op = op_fields,
    .n_op = N_FIELDS(op_fields),
    .attr = attr_fields,
    .n_attr = N_FIELDS(attr_fields),
    .server = server_fields,
    .n_server = N_FIELDS(server_fields),
    .replicas = &replicas_list,
    .dirents = &dirents_list,
};

const struct rfs_proto_tables *rfs_proto_tables(void)
{
	return &tables;
}

/* --- one shape for every message ------------------------------------- */
typedef int (*encode_body_cb)(json_t *obj, const void *st);
typedef int (*decode_body_cb)(const json_t *obj, void *st);

/* Build an object with body() and dump it into *out. */
static int encode_msg(const void *st, encode_body_cb body, char **out,
		      size_t *out_len)
{
	json_t *obj = json_object();
	int rc;

	if (!obj)
		return -ENOMEM;
	rc = body(obj, st);
	if (rc == 0)
		rc = rfs_json_dump(obj, out, out_len);
	json_decref(obj);
	return rc;
}

/*
 * Zero st, parse buf and fill st with body(). On failure st is released
 * (release may be NULL) and zeroed again, so it holds nothing to free.
 */
static int decode_msg(const char *buf, size_t len, void *st, size_t size,
		      decode_body_cb body, void (*release)(void *st))
{
	json_t *obj;
	int rc;

	memset(st, 0, size);
	rc = rfs_json_parse(buf, len, &obj);
	if (rc < 0)
		return rc;
	rc = body(obj, st);
	json_decref(obj);
	if (rc < 0) {
		if (release)
			release(st);
		memset(st, 0, size);
	}
	return rc;
}

/* --- operations ------------------------------------------------------ */
/* Largest op->data for an op type, and the error for a longer one. */
static size_t op_data_max(uint32_t type, int *too_long_err)
{
	if (type == RFS_OP_SYMLINK || type == RFS_OP_RESOLVE) {
		*too_long_err = -ENAMETOOLONG;
		return RFS_PATH_MAX;
	}
	*too_long_err = -E2BIG;
	return RFS_XATTR_VALUE_MAX;
}

static int op_encode_server(json_t *obj, const struct rfs_server *srv)
{
	json_t *j;

	if (rfs_json_fields_are_zero(server_fields, N_FIELDS(server_fields),
				     srv))
		return 0;
	j = json_object();
	/* obj owns j once added, also when encoding it fails below */
	if (rfs_json_set_new(obj, F_SERVER, j) < 0)
		return -ENOMEM;
	return rfs_json_encode_fields(j, server_fields, N_FIELDS(server_fields),
				      srv, false);
}

int rfs_proto_op_check(const struct rfs_op *op)
{
	int too_long_err;

	if (!rfs_op_name(op->type) ||
	    op->data_len > op_data_max(op->type, &too_long_err) ||
	    (op->data_len && !op->data) || op->n_replicas > RFS_MAX_REPLICAS)
		return -EINVAL;
	return 0;
}

static int op_encode_body(json_t *obj, const void *st)
{
	const struct rfs_op *op = st;
	const char *name = rfs_op_name(op->type);
	int rc;

	rc = rfs_proto_op_check(op);
	if (rc == 0)
		rc = rfs_json_set_strn(obj, F_OP, name, strlen(name));
	/* zero members are left out: one struct serves every op type */
	if (rc == 0)
		rc = rfs_json_encode_fields(obj, op_fields, N_FIELDS(op_fields),
					    op, true);
	/* an empty but present value (e.g. an empty xattr) is kept */
	if (rc == 0 && op->data)
		rc = rfs_json_set_base64(obj, F_DATA, op->data, op->data_len);
	if (rc == 0 && op->n_replicas)
		rc = encode_replicas(obj, op->replicas, op->n_replicas);
	if (rc == 0)
		rc = op_encode_server(obj, &op->server);
	return rc;
}

static int op_decode_type(const json_t *obj, uint32_t *type)
{
	char name[OP_NAME_MAX + 1];
	int rc;

	rc = rfs_json_get_str(obj, F_OP, name, OP_NAME_MAX, -EPROTO);
	if (rc < 0)
		return rc;
	*type = rfs_op_from_name(name);
	return *type == RFS_OP_NONE ? -EPROTO : 0;
}

static int op_decode_body(const json_t *obj, void *st)
{
	struct rfs_op *op = st;
	json_t *srv;
	int too_long_err;
	size_t max;
	int rc;

	rc = op_decode_type(obj, &op->type);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	rc = rfs_json_decode_fields(obj, op_fields, N_FIELDS(op_fields), op);
	if (rc < 0)
		return rc;
	max = op_data_max(op->type, &too_long_err);
	rc = rfs_json_get_base64(obj, F_DATA, max, too_long_err, &op->data,
				 &op->data_len);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	rc = decode_replicas(obj, op->replicas, &op->n_replicas);
	if (rc < 0)
		return rc;
	rc = rfs_json_get_object(obj, F_SERVER, &srv);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	return rfs_json_decode_fields(srv, server_fields,
				      N_FIELDS(server_fields), &op->server);
}

static void op_release_cb(void *st)
{
	rfs_proto_op_release(st);
}

int rfs_proto_op_encode_tree(const struct rfs_op *op, char **out,
			     size_t *out_len)
{
	return encode_msg(op, op_encode_body, out, out_len);
}

int rfs_proto_op_decode(const char *buf, size_t len, struct rfs_op *op)
{
	return decode_msg(buf, len, op, sizeof(*op), op_decode_body,
			  op_release_cb);
}

void rfs_proto_op_release(struct rfs_op *op)
{
	if (!op)
		return;
	free(op->data);
	op->data = NULL;
	op->data_len = 0;
}

/* --- attr ------------------------------------------------------------ */
int rfs_proto_attr_to_json(json_t *a, const struct rfs_attr *attr)
{
	return rfs_json_encode_fields(a, attr_fields, N_FIELDS(attr_fields),
				      attr, false);
}

int rfs_proto_attr_from_json(const json_t *a, struct rfs_attr *attr)
{
	return rfs_json_decode_fields(a, attr_fields, N_FIELDS(attr_fields),
				      attr);
}

static int attr_encode_body(json_t *obj, const void *st)
{
	json_t *a = json_object();

	/* obj owns a once added, also when encoding it fails below */
	if (rfs_json_set_new(obj, F_ATTR, a) < 0)
		return -ENOMEM;
	return rfs_proto_attr_to_json(a, st);
}

static int attr_decode_body(const json_t *obj, void *st)
{
	json_t *a;
	int rc;

	rc = rfs_json_get_object(obj, F_ATTR, &a);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	return rfs_proto_attr_from_json(a, st);
}

int rfs_proto_attr_encode_tree(const struct rfs_attr *attr, char **out,
			       size_t *out_len)
{
	return encode_msg(attr, attr_encode_body, out, out_len);
}

int rfs_proto_attr_decode(const char *buf, size_t len, struct rfs_attr *attr)
{
	return decode_msg(buf, len, attr, sizeof(*attr), attr_decode_body,
			  NULL);
}

/* --- readdir --------------------------------------------------------- */
static int readdir_encode_body(json_t *obj, const void *st)
{
	const struct rfs_readdir_reply *r = st;
	int rc;

	rc = rfs_json_encode_list(obj, &dirents_list, r->entries, r->n);
	if (rc == 0)
		rc = rfs_json_set_bool(obj, F_EOF, r->eof);
	return rc;
}

static int readdir_decode_body(const json_t *obj, void *st)
{
	struct rfs_readdir_reply *r = st;
	int rc;

	rc = rfs_json_get_bool(obj, F_EOF, &r->eof);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	return rfs_json_decode_list(obj, &dirents_list, (void **)&r->entries,
				    &r->n);
}

static void readdir_release_cb(void *st)
{
	rfs_proto_readdir_release(st);
}

int rfs_proto_readdir_encode_tree(const struct rfs_readdir_reply *r, char **out,
				  size_t *out_len)
{
	return encode_msg(r, readdir_encode_body, out, out_len);
}

int rfs_proto_readdir_decode_tree(const char *buf, size_t len,
				  struct rfs_readdir_reply *r)
{
	return decode_msg(buf, len, r, sizeof(*r), readdir_decode_body,
			  readdir_release_cb);
}

int rfs_proto_readdir_decode(const char *buf, size_t len,
			     struct rfs_readdir_reply *r)
{
	int rc = rfs_proto_readdir_decode_sax(buf, len, r);

	return rc == RFS_PROTO_DEFER
		   ? rfs_proto_readdir_decode_tree(buf, len, r)
		   : rc;
}

void rfs_proto_readdir_release(struct rfs_readdir_reply *r)
{
	if (!r)
		return;
	free(r->entries);
	r->entries = NULL;
	r->n = 0;
}

/* --- value ----------------------------------------------------------- */
static int value_encode_body(json_t *obj, const void *st)
{
	const struct rfs_value_reply *v = st;

	if (v->len > RFS_XATTR_VALUE_MAX || (v->len && !v->data))
		return -EINVAL;
	return rfs_json_set_base64(obj, F_VALUE, v->data ? v->data : "",
				   v->len);
}

static int value_decode_body(const json_t *obj, void *st)
{
	struct rfs_value_reply *v = st;
	int rc;

	rc = rfs_json_get_base64(obj, F_VALUE, RFS_XATTR_VALUE_MAX, -E2BIG,
				 &v->data, &v->len);
	return rc == -ENOENT ? 0 : rc;
}

int rfs_proto_value_encode(const struct rfs_value_reply *v, char **out,
			   size_t *out_len)
{
	return encode_msg(v, value_encode_body, out, out_len);
}

int rfs_proto_value_decode(const char *buf, size_t len,
			   struct rfs_value_reply *v)
{
	return decode_msg(buf, len, v, sizeof(*v), value_decode_body, NULL);
}

void rfs_proto_value_release(struct rfs_value_reply *v)
{
	if (!v)
		return;
	free(v->data);
	v->data = NULL;
	v->len = 0;
}

/* --- statfs ---------------------------------------------------------- */
static int statfs_encode_body(json_t *obj, const void *st)
{
	return rfs_json_encode_fields(obj, statfs_fields,
				      N_FIELDS(statfs_fields), st, false);
}

static int statfs_decode_body(const json_t *obj, void *st)
{
	return rfs_json_decode_fields(obj, statfs_fields,
				      N_FIELDS(statfs_fields), st);
}

int rfs_proto_statfs_encode(const struct rfs_statfs *s, char **out,
			    size_t *out_len)
{
	return encode_msg(s, statfs_encode_body, out, out_len);
}

int rfs_proto_statfs_decode(const char *buf, size_t len, struct rfs_statfs *s)
{
	return decode_msg(buf, len, s, sizeof(*s), statfs_decode_body, NULL);
}

/* --- lease ----------------------------------------------------------- */
static int lease_encode_body(json_t *obj, const void *st)
{
	const struct rfs_lease *l = st;
	int rc;

	rc = rfs_json_encode_fields(obj, lease_fields, N_FIELDS(lease_fields),
				    l, false);
	if (rc == 0)
		rc = encode_replicas(obj, l->replicas, l->n_replicas);
	return rc;
}

static int lease_decode_body(const json_t *obj, void *st)
{
	struct rfs_lease *l = st;
	int rc;

	rc = rfs_json_decode_fields(obj, lease_fields, N_FIELDS(lease_fields),
				    l);
	if (rc == 0)
		rc = decode_replicas(obj, l->replicas, &l->n_replicas);
	return rc;
}

int rfs_proto_lease_encode(const struct rfs_lease *l, char **out,
			   size_t *out_len)
{
	return encode_msg(l, lease_encode_body, out, out_len);
}

int rfs_proto_lease_decode(const char *buf, size_t len, struct rfs_lease *l)
{
	return decode_msg(buf, len, l, sizeof(*l), lease_decode_body, NULL);
}

struct attr_lease {
	const struct rfs_attr *attr;
	const struct rfs_lease *lease;
};

static int attr_lease_encode_body(json_t *obj, const void *st)
{
	const struct attr_lease *al = st;
	int rc = attr_encode_body(obj, al->attr);

	if (rc == 0 && al->lease->n_replicas > 0)
		rc = lease_encode_body(obj, al->lease);
	return rc;
}

int rfs_proto_attr_lease_encode(const struct rfs_attr *attr,
				const struct rfs_lease *lease, char **out,
				size_t *out_len)
{
	struct attr_lease al = {.attr = attr, .lease = lease};

	return encode_msg(&al, attr_lease_encode_body, out, out_len);
}

/* --- layout ---------------------------------------------------------- */
static int layout_encode_body(json_t *obj, const void *st)
{
	const struct rfs_layout *l = st;
	int rc;

	rc = rfs_json_encode_fields(obj, layout_fields, N_FIELDS(layout_fields),
				    l, false);
	if (rc == 0)
		rc = rfs_json_encode_list(obj, &chunks_list, l->chunks,
					  l->n_chunks);
	return rc;
}

static int layout_decode_body(const json_t *obj, void *st)
{
	struct rfs_layout *l = st;
	int rc;

	rc = rfs_json_decode_fields(obj, layout_fields, N_FIELDS(layout_fields),
				    l);
	if (rc == 0)
		rc = rfs_json_decode_list(obj, &chunks_list,
					  (void **)&l->chunks, &l->n_chunks);
	return rc;
}

static void layout_release_cb(void *st)
{
	rfs_proto_layout_release(st);
}

int rfs_proto_layout_encode(const struct rfs_layout *l, char **out,
			    size_t *out_len)
{
	return encode_msg(l, layout_encode_body, out, out_len);
}

int rfs_proto_layout_decode(const char *buf, size_t len, struct rfs_layout *l)
{
	return decode_msg(buf, len, l, sizeof(*l), layout_decode_body,
			  layout_release_cb);
}

void rfs_proto_layout_release(struct rfs_layout *l)
{
	if (!l)
		return;
	free(l->chunks);
	l->chunks = NULL;
	l->n_chunks = 0;
}

/* --- servers and status ---------------------------------------------- */
static int server_encode_body(json_t *obj, const void *st)
{
	return rfs_json_encode_fields(obj, server_fields,
				      N_FIELDS(server_fields), st, false);
}

static int server_decode_body(const json_t *obj, void *st)
{
	return rfs_json_decode_fields(obj, server_fields,
				      N_FIELDS(server_fields), st);
}

int rfs_proto_server_encode(const struct rfs_server *s, char **out,
			    size_t *out_len)
{
	return encode_msg(s, server_encode_body, out, out_len);
}

int rfs_proto_server_decode(const char *buf, size_t len, struct rfs_server *s)
{
	return decode_msg(buf, len, s, sizeof(*s), server_decode_body, NULL);
}

static int status_encode_body(json_t *obj, const void *st)
{
	const struct rfs_status *s = st;
	int rc;

	rc = rfs_json_encode_fields(obj, status_fields, N_FIELDS(status_fields),
				    s, false);
	if (rc == 0)
		rc = rfs_json_encode_list(obj, &servers_list, s->servers,
					  s->n_servers);
	return rc;
}

static int status_decode_body(const json_t *obj, void *st)
{
	struct rfs_status *s = st;
	int rc;

	rc = rfs_json_decode_fields(obj, status_fields, N_FIELDS(status_fields),
				    s);
	if (rc == 0)
		rc = rfs_json_decode_list(obj, &servers_list,
					  (void **)&s->servers, &s->n_servers);
	return rc;
}

static void status_release_cb(void *st)
{
	rfs_proto_status_release(st);
}

int rfs_proto_status_encode(const struct rfs_status *s, char **out,
			    size_t *out_len)
{
	return encode_msg(s, status_encode_body, out, out_len);
}

int rfs_proto_status_decode(const char *buf, size_t len, struct rfs_status *s)
{
	return decode_msg(buf, len, s, sizeof(*s), status_decode_body,
			  status_release_cb);
}

void rfs_proto_status_release(struct rfs_status *s)
{
	if (!s)
		return;
	free(s->servers);
	s->servers = NULL;
	s->n_servers = 0;
}

/* --- inventory ------------------------------------------------------- */
static int inventory_encode_body(json_t *obj, const void *st)
{
	const struct rfs_inventory *inv = st;
	int rc;

	rc = rfs_json_encode_fields(obj, inventory_fields,
				    N_FIELDS(inventory_fields), inv, false);
	if (rc == 0)
		rc = rfs_json_encode_list(obj, &inventory_list, inv->entries,
					  inv->n);
	return rc;
}

static int inventory_decode_body(const json_t *obj, void *st)
{
	struct rfs_inventory *inv = st;
	int rc;

	rc = rfs_json_decode_fields(obj, inventory_fields,
				    N_FIELDS(inventory_fields), inv);
	if (rc == 0)
		rc = rfs_json_decode_list(obj, &inventory_list,
					  (void **)&inv->entries, &inv->n);
	return rc;
}

static void inventory_release_cb(void *st)
{
	rfs_proto_inventory_release(st);
}

int rfs_proto_inventory_encode(const struct rfs_inventory *inv, char **out,
			       size_t *out_len)
{
	return encode_msg(inv, inventory_encode_body, out, out_len);
}

int rfs_proto_inventory_decode(const char *buf, size_t len,
			       struct rfs_inventory *inv)
{
	return decode_msg(buf, len, inv, sizeof(*inv), inventory_decode_body,
			  inventory_release_cb);
}

void rfs_proto_inventory_release(struct rfs_inventory *inv)
{
	if (!inv)
		return;
	free(inv->entries);
	inv->entries = NULL;
	inv->n = 0;
}

/* --- errors ---------------------------------------------------------- */
/*
 * Messages are for people: when one is not valid UTF-8, its non-ASCII
 * bytes are sent as '?' rather than failing the error reply.
 */
static int encode_error_message(json_t *obj, const char *msg)
{
	char safe[RFS_ERR_MESSAGE_MAX];
	size_t len = strnlen(msg, sizeof(safe) - 1);
	size_t i;
	int rc;

	rc = rfs_json_set_strn(obj, F_MESSAGE, msg, len);
	if (rc != -EILSEQ)
		return rc;
	for (i = 0; i < len; i++)
		safe[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
	return rfs_json_set_strn(obj, F_MESSAGE, safe, len);
}

static int error_encode_body(json_t *obj, const void *st)
{
	const struct rfs_error_reply *e = st;
	const char *name = rfs_errno_name(e->err);
	int rc;

	rc = rfs_json_set_strn(obj, F_ERROR, name, strlen(name));
	if (rc == 0)
		rc = encode_error_message(obj, e->message);
	return rc;
}

/* A peer's message, cut to fit on a UTF-8 character boundary. */
static int decode_error_message(const json_t *obj, char *buf, size_t size)
{
	json_t *m = json_object_get(obj, F_MESSAGE);
	const char *s;
	size_t len;

	if (!m)
		return 0;
	if (!json_is_string(m))
		return -EPROTO;
	s = json_string_value(m);
	len = json_string_length(m);
	if (len > size - 1) {
		len = size - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

static int error_decode_body(const json_t *obj, void *st)
{
	struct rfs_error_reply *e = st;
	json_t *name = json_object_get(obj, F_ERROR);

	/* absent: err stays 0 so the caller falls back to the HTTP status */
	if (name && !json_is_string(name))
		return -EPROTO;
	if (name)
		e->err = rfs_errno_from_name(json_string_value(name));
	return decode_error_message(obj, e->message, sizeof(e->message));
}

int rfs_proto_error_encode(const struct rfs_error_reply *e, char **out,
			   size_t *out_len)
{
	return encode_msg(e, error_encode_body, out, out_len);
}

int rfs_proto_error_decode(const char *buf, size_t len,
			   struct rfs_error_reply *e)
{
	return decode_msg(buf, len, e, sizeof(*e), error_decode_body, NULL);
}
