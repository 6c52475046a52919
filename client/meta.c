#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/client-int.h"
#include "common/httpc.h"

/* Longest route: RFS_PATH_NS plus the longest op name. */
#define META_ROUTE_MAX 64

/* Encode op and POST it to route; the reply is the caller's to release. */
static int meta_post(struct rfs_client *c, const char *route,
		     const struct rfs_op *op, bool idempotent,
		     struct rfs_httpc_reply *reply)
{
	char *json = NULL;
	size_t len = 0;
	int rc;

	rc = rfs_proto_op_encode(op, &json, &len);
	if (rc < 0) {
		memset(reply, 0, sizeof(*reply));
		return rc;
	}
	rfs_client_notify_op(c, op);
	rc = rfs_client_call(c, "POST", route, json, len, idempotent, reply);
	free(json);
	rfs_client_notify_op(c, op);
	return rc;
}

/* Ops whose reply may carry the "dirs" member. */
static bool ns_changes_dir(uint32_t type)
{
	return type == RFS_OP_MKDIR || type == RFS_OP_RMDIR ||
	       type == RFS_OP_CREATE || type == RFS_OP_UNLINK ||
	       type == RFS_OP_RENAME || type == RFS_OP_LINK ||
	       type == RFS_OP_SYMLINK;
}

/* POST a namespace op to RFS_PATH_NS "<op name>". */
static int ns_post(struct rfs_client *c, const struct rfs_op *op,
		   bool idempotent, struct rfs_httpc_reply *reply)
{
	char route[META_ROUTE_MAX];
	const char *name = rfs_op_name(op->type);
	int rc;

	if (!name)
		return -EINVAL;
	snprintf(route, sizeof(route), "%s%s", RFS_PATH_NS, name);
	rc = meta_post(c, route, op, idempotent, reply);
	if (rc == 0 && ns_changes_dir(op->type))
		rfs_client_notify_dirs(c, reply->body, reply->len);
	return rc;
}

/* Record a reply we could not decode. */
static int bad_reply(struct rfs_client *c, int rc, uint32_t type)
{
	char msg[RFS_ERR_MESSAGE_MAX];
	const char *name = rfs_op_name(type);

	snprintf(msg, sizeof(msg), "malformed reply to %s from the metaserver",
		 name ? name : "request");
	rfs_client_note_error(c, rc, true, NULL, msg);
	return rc;
}

/* Check a name before it leaves the client; record why it was refused. */
static int check_name(struct rfs_client *c, const char *name)
{
	int rc = rfs_proto_check_name(name, strlen(name));

	if (rc < 0)
		rfs_client_note_error(c, rc, false, NULL,
				      rc == -ENAMETOOLONG
					  ? "name longer than 255 bytes"
					  : "invalid file name");
	return rc;
}

static int copy_name(struct rfs_client *c, char *dst, const char *name)
{
	int rc = check_name(c, name);

	if (rc == 0)
		memcpy(dst, name, strlen(name) + 1);
	return rc;
}

/* Send a namespace op whose reply is {"attr": ...} (decoded into out). */
static int ns_attr_call(struct rfs_client *c, const struct rfs_op *op,
			bool idempotent, struct rfs_attr *out)
{
	struct rfs_httpc_reply reply;
	struct rfs_attr tmp;
	int rc;

	rc = ns_post(c, op, idempotent, &reply);
	if (rc == 0 && out) {
		rc = rfs_proto_attr_decode(reply.body ? reply.body : "",
					   reply.len, &tmp);
		if (rc < 0)
			bad_reply(c, rc, op->type);
		else
			*out = tmp;
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

/* Send a namespace op whose reply body does not matter. */
static int ns_void_call(struct rfs_client *c, const struct rfs_op *op,
			bool idempotent)
{
	struct rfs_httpc_reply reply;
	int rc = ns_post(c, op, idempotent, &reply);

	rfs_httpc_reply_release(&reply);
	return rc;
}

/* Send a namespace op whose reply is {"value": ...}. */
static int ns_value_call(struct rfs_client *c, const struct rfs_op *op,
			 struct rfs_value_reply *out)
{
	struct rfs_httpc_reply reply;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ns_post(c, op, true, &reply);
	if (rc == 0) {
		rc = rfs_proto_value_decode(reply.body ? reply.body : "",
					    reply.len, out);
		if (rc < 0)
			bad_reply(c, rc, op->type);
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_lookup(struct rfs_client *c, uint64_t parent, const char *name,
		      struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_LOOKUP, .parent = parent};
	int rc = copy_name(c, op.name, name);

	return rc < 0 ? rc : ns_attr_call(c, &op, true, out);
}

int rfs_client_getattr(struct rfs_client *c, uint64_t ino, struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_GETATTR, .ino = ino};

	return ns_attr_call(c, &op, true, out);
}

/* The members of op that a setattr (or a commit carrying one) sets. */
static void meta_setattr_fields(struct rfs_op *op,
				const struct rfs_client_setattr *sa)
{
	op->valid = sa->valid;
	op->mode = sa->mode;
	op->uid = sa->uid;
	op->gid = sa->gid;
	op->size = sa->size;
	op->atime_ns = sa->atime_ns;
	op->mtime_ns = sa->mtime_ns;
}

int rfs_client_setattr(struct rfs_client *c, uint64_t ino,
		       const struct rfs_client_setattr *sa,
		       struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_SETATTR, .ino = ino};
	/* Absolute values make it idempotent, unless "now" is involved. */
	bool idem =
	    !(sa->valid & (RFS_SETATTR_ATIME_NOW | RFS_SETATTR_MTIME_NOW));

	meta_setattr_fields(&op, sa);
	return ns_attr_call(c, &op, idem, out);
}

int rfs_client_mkdir(struct rfs_client *c, uint64_t parent, const char *name,
		     uint32_t mode, uint32_t uid, uint32_t gid,
		     struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_MKDIR,
			    .parent = parent,
			    .mode = S_IFDIR | (mode & 07777),
			    .uid = uid,
			    .gid = gid};
	int rc = copy_name(c, op.name, name);

	return rc < 0 ? rc : ns_attr_call(c, &op, false, out);
}

int rfs_client_rmdir(struct rfs_client *c, uint64_t parent, const char *name)
{
	struct rfs_op op = {.type = RFS_OP_RMDIR, .parent = parent};
	int rc = copy_name(c, op.name, name);

	return rc < 0 ? rc : ns_void_call(c, &op, false);
}

int rfs_client_create(struct rfs_client *c, uint64_t parent, const char *name,
		      uint32_t mode, uint32_t uid, uint32_t gid, uint32_t flags,
		      struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_CREATE,
			    .parent = parent,
			    .mode = S_IFREG | (mode & 07777),
			    .uid = uid,
			    .gid = gid,
			    .flags = flags};
	int rc = copy_name(c, op.name, name);

	return rc < 0 ? rc : ns_attr_call(c, &op, false, out);
}

/* Send an unlink or rename; *orphan (may be NULL) gets the inode kept as
 * an orphan of op->session, 0 when none. */
static int ns_orphan_call(struct rfs_client *c, const struct rfs_op *op,
			  uint64_t *orphan)
{
	struct rfs_httpc_reply reply;
	struct rfs_orphan_reply o = {0};
	int rc;

	if (orphan)
		*orphan = 0;
	rc = ns_post(c, op, false, &reply);
	if (rc == 0 && op->session) {
		rc = rfs_proto_orphan_decode(reply.body ? reply.body : "",
					     reply.len, &o);
		if (rc < 0)
			bad_reply(c, rc, op->type);
		else if (orphan)
			*orphan = o.orphan;
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_create_lease(struct rfs_client *c, uint64_t parent,
			    const char *name, uint32_t mode, uint32_t uid,
			    uint32_t gid, uint32_t flags, struct rfs_attr *out,
			    struct rfs_lease *lease)
{
	struct rfs_op op = {.type = RFS_OP_CREATE,
			    .parent = parent,
			    .mode = S_IFREG | (mode & 07777),
			    .uid = uid,
			    .gid = gid,
			    .flags = flags | RFS_CREATE_LEASE};
	struct rfs_httpc_reply reply;
	struct rfs_attr tmp;
	int rc = copy_name(c, op.name, name);

	lease->n_replicas = 0;
	if (rc < 0)
		return rc;
	rc = ns_post(c, &op, false, &reply);
	if (rc == 0) {
		rc = rfs_proto_attr_decode(reply.body ? reply.body : "",
					   reply.len, &tmp);
		if (rc < 0)
			bad_reply(c, rc, op.type);
		else if (out)
			*out = tmp;
	}
	/* no usable lease (none taken, an older server) is not an error */
	if (rc == 0 && (rfs_proto_lease_decode(reply.body ? reply.body : "",
					       reply.len, lease) < 0 ||
			lease->ino != tmp.ino || lease->index != 0 ||
			lease->n_replicas > RFS_MAX_REPLICAS))
		lease->n_replicas = 0;
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_unlink(struct rfs_client *c, uint64_t parent, const char *name)
{
	return rfs_client_unlink_session(c, parent, name, 0, NULL);
}

int rfs_client_unlink_session(struct rfs_client *c, uint64_t parent,
			      const char *name, uint64_t session,
			      uint64_t *orphan)
{
	struct rfs_op op = {
	    .type = RFS_OP_UNLINK, .parent = parent, .session = session};
	int rc = copy_name(c, op.name, name);

	return rc < 0 ? rc : ns_orphan_call(c, &op, orphan);
}

int rfs_client_rename(struct rfs_client *c, uint64_t parent, const char *name,
		      uint64_t newparent, const char *newname, uint32_t flags)
{
	return rfs_client_rename_session(c, parent, name, newparent, newname,
					 flags, 0, NULL);
}

int rfs_client_rename_session(struct rfs_client *c, uint64_t parent,
			      const char *name, uint64_t newparent,
			      const char *newname, uint32_t flags,
			      uint64_t session, uint64_t *orphan)
{
	struct rfs_op op = {.type = RFS_OP_RENAME,
			    .parent = parent,
			    .newparent = newparent,
			    .flags = flags,
			    .session = session};
	int rc = copy_name(c, op.name, name);

	if (rc == 0)
		rc = copy_name(c, op.newname, newname);
	return rc < 0 ? rc : ns_orphan_call(c, &op, orphan);
}

int rfs_client_release_orphan(struct rfs_client *c, uint64_t ino,
			      uint64_t session)
{
	struct rfs_op op = {
	    .type = RFS_OP_RELEASE_ORPHAN, .ino = ino, .session = session};

	/* idempotent on the metaserver: a retry after a lost reply is 0 */
	return ns_void_call(c, &op, true);
}

int rfs_client_link(struct rfs_client *c, uint64_t ino, uint64_t newparent,
		    const char *newname, struct rfs_attr *out)
{
	struct rfs_op op = {
	    .type = RFS_OP_LINK, .ino = ino, .newparent = newparent};
	int rc = copy_name(c, op.newname, newname);

	return rc < 0 ? rc : ns_attr_call(c, &op, false, out);
}

int rfs_client_symlink(struct rfs_client *c, uint64_t parent, const char *name,
		       const char *target, uint32_t uid, uint32_t gid,
		       struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_SYMLINK,
			    .parent = parent,
			    .mode = S_IFLNK | 0777,
			    .uid = uid,
			    .gid = gid,
			    .data = (char *)target,
			    .data_len = strlen(target)};
	int rc = copy_name(c, op.name, name);

	if (rc == 0 && (op.data_len == 0 || op.data_len > RFS_PATH_MAX))
		rc = op.data_len ? -ENAMETOOLONG : -ENOENT;
	return rc < 0 ? rc : ns_attr_call(c, &op, false, out);
}

int rfs_client_readlink(struct rfs_client *c, uint64_t ino,
			struct rfs_value_reply *out)
{
	struct rfs_op op = {.type = RFS_OP_READLINK, .ino = ino};

	return ns_value_call(c, &op, out);
}

/* One readdir page; flags: RFS_READDIR_PLUS or 0. */
static int readdir_call(struct rfs_client *c, uint64_t ino, uint64_t cookie,
			uint32_t limit, uint32_t flags,
			struct rfs_readdir_reply *out)
{
	struct rfs_op op = {.type = RFS_OP_READDIR,
			    .ino = ino,
			    .cookie = cookie,
			    .flags = flags,
			    .limit = limit && limit < RFS_READDIR_MAX
					 ? limit
					 : RFS_READDIR_MAX};
	struct rfs_httpc_reply reply;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ns_post(c, &op, true, &reply);
	if (rc == 0) {
		rc = rfs_proto_readdir_decode(reply.body ? reply.body : "",
					      reply.len, out);
		if (rc < 0)
			bad_reply(c, rc, op.type);
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_readdir(struct rfs_client *c, uint64_t ino, uint64_t cookie,
		       uint32_t limit, struct rfs_readdir_reply *out)
{
	return readdir_call(c, ino, cookie, limit, 0, out);
}

int rfs_client_readdirplus(struct rfs_client *c, uint64_t ino, uint64_t cookie,
			   uint32_t limit, struct rfs_readdir_reply *out)
{
	return readdir_call(c, ino, cookie, limit, RFS_READDIR_PLUS, out);
}

int rfs_client_statfs(struct rfs_client *c, struct rfs_statfs *out)
{
	struct rfs_op op = {.type = RFS_OP_STATFS};
	struct rfs_httpc_reply reply;
	int rc;

	rc = ns_post(c, &op, true, &reply);
	if (rc == 0) {
		rc = rfs_proto_statfs_decode(reply.body ? reply.body : "",
					     reply.len, out);
		if (rc < 0)
			bad_reply(c, rc, op.type);
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_setxattr(struct rfs_client *c, uint64_t ino, const char *name,
			const void *value, size_t len, uint32_t flags)
{
	struct rfs_op op = {.type = RFS_OP_SETXATTR,
			    .ino = ino,
			    .flags = flags,
			    .data = (char *)value,
			    .data_len = len};
	size_t nlen = strlen(name);

	if (nlen == 0 || nlen > RFS_NAME_MAX)
		return nlen ? -ERANGE : -EINVAL;
	if (len > RFS_XATTR_VALUE_MAX)
		return -E2BIG;
	memcpy(op.name, name, nlen + 1);
	return ns_void_call(c, &op, flags == RFS_XATTR_REPLACE || flags == 0);
}

int rfs_client_getxattr(struct rfs_client *c, uint64_t ino, const char *name,
			struct rfs_value_reply *out)
{
	struct rfs_op op = {.type = RFS_OP_GETXATTR, .ino = ino};
	size_t nlen = strlen(name);

	memset(out, 0, sizeof(*out));
	if (nlen == 0 || nlen > RFS_NAME_MAX)
		return nlen ? -ERANGE : -EINVAL;
	memcpy(op.name, name, nlen + 1);
	return ns_value_call(c, &op, out);
}

int rfs_client_listxattr(struct rfs_client *c, uint64_t ino,
			 struct rfs_value_reply *out)
{
	struct rfs_op op = {.type = RFS_OP_LISTXATTR, .ino = ino};

	return ns_value_call(c, &op, out);
}

int rfs_client_removexattr(struct rfs_client *c, uint64_t ino, const char *name)
{
	struct rfs_op op = {.type = RFS_OP_REMOVEXATTR, .ino = ino};
	size_t nlen = strlen(name);

	if (nlen == 0 || nlen > RFS_NAME_MAX)
		return nlen ? -ERANGE : -EINVAL;
	memcpy(op.name, name, nlen + 1);
	return ns_void_call(c, &op, false);
}

int rfs_client_resolve_op(struct rfs_client *c, const char *path,
			  struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_RESOLVE,
			    .data = (char *)path,
			    .data_len = strlen(path)};

	if (op.data_len == 0 || op.data_len > RFS_PATH_MAX)
		return op.data_len ? -ENAMETOOLONG : -EINVAL;
	return ns_attr_call(c, &op, true, out);
}

int rfs_client_lease(struct rfs_client *c, uint64_t ino, uint64_t index,
		     struct rfs_lease *out)
{
	struct rfs_op op = {.type = RFS_OP_LEASE, .ino = ino, .index = index};
	struct rfs_httpc_reply reply;
	int rc;

	rc = meta_post(c, RFS_PATH_CHUNK_LEASE, &op, false, &reply);
	if (rc == 0) {
		rc = rfs_proto_lease_decode(reply.body ? reply.body : "",
					    reply.len, out);
		if (rc == 0 && (out->n_replicas == 0 ||
				out->n_replicas > RFS_MAX_REPLICAS))
			rc = -EPROTO;
		if (rc < 0)
			bad_reply(c, rc, op.type);
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_commit(struct rfs_client *c, uint64_t ino, uint64_t index,
		      uint64_t chunk_id, uint32_t version, uint64_t length,
		      const struct rfs_replica *replicas, uint32_t n)
{
	return rfs_client_commit_attr(c, ino, index, chunk_id, version, length,
				      replicas, n, NULL, NULL);
}

int rfs_client_commit_attr(struct rfs_client *c, uint64_t ino, uint64_t index,
			   uint64_t chunk_id, uint32_t version, uint64_t length,
			   const struct rfs_replica *replicas, uint32_t n,
			   const struct rfs_client_setattr *sa,
			   struct rfs_attr *out)
{
	struct rfs_op op = {.type = RFS_OP_COMMIT,
			    .ino = ino,
			    .index = index,
			    .chunk_id = chunk_id,
			    .version = version,
			    .length = length,
			    .n_replicas = n};
	struct rfs_httpc_reply reply;
	struct rfs_attr tmp;
	int rc;

	if (n == 0 || n > RFS_MAX_REPLICAS ||
	    (sa && (sa->valid & RFS_SETATTR_SIZE)))
		return -EINVAL;
	memcpy(op.replicas, replicas, n * sizeof(*replicas));
	if (sa)
		meta_setattr_fields(&op, sa);
	/* Committing the same (chunk, version) twice records the same
	 * state, so a retry after a lost reply is harmless. */
	rc = meta_post(c, RFS_PATH_CHUNK_COMMIT, &op, true, &reply);
	if (rc == 0 && out) {
		rc = rfs_proto_attr_decode(reply.body ? reply.body : "",
					   reply.len, &tmp);
		if (rc < 0)
			bad_reply(c, rc, op.type);
		else
			*out = tmp;
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_layout(struct rfs_client *c, uint64_t ino, uint64_t offset,
		      uint64_t size, struct rfs_layout *out)
{
	struct rfs_op op = {
	    .type = RFS_OP_LAYOUT, .ino = ino, .offset = offset, .size = size};
	struct rfs_httpc_reply reply;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = meta_post(c, RFS_PATH_CHUNK_LAYOUT, &op, true, &reply);
	if (rc == 0) {
		rc = rfs_proto_layout_decode(reply.body ? reply.body : "",
					     reply.len, out);
		if (rc == 0 && (out->chunk_size < RFS_CHUNK_SIZE_MIN ||
				out->chunk_size > RFS_CHUNK_SIZE_MAX)) {
			rfs_proto_layout_release(out);
			rc = -EPROTO;
		}
		if (rc < 0)
			bad_reply(c, rc, op.type);
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

int rfs_client_status(struct rfs_client *c, struct rfs_status *out)
{
	struct rfs_httpc_reply reply;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = rfs_client_call(c, "GET", RFS_PATH_CLUSTER_STATUS, NULL, 0, true,
			     &reply);
	if (rc == 0) {
		rc = rfs_proto_status_decode(reply.body ? reply.body : "",
					     reply.len, out);
		if (rc < 0)
			bad_reply(c, rc, RFS_OP_NONE);
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}
