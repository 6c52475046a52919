#include <config.h>
#include "metaserver/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "metaserver/api_int.h"

/* Longest op name quoted back in an "unknown operation" message. */
#define API_OP_NAME_SHOWN 64

/* Checks an op's fields must pass before it runs (struct api_op.needs). */
#define NEED_INO     (1u << 0) /* ino != 0 */
#define NEED_PARENT  (1u << 1) /* parent != 0 */
#define NEED_NAME    (1u << 2) /* name is a valid path component */
#define NEED_NEWNAME (1u << 3) /* newparent != 0, newname valid */
#define NEED_XNAME   (1u << 4) /* xattr name present */
#define NEED_TARGET  (1u << 5) /* data = symlink target, no NUL */
#define NEED_PATH    (1u << 6) /* data = absolute path, no NUL */
#define NEED_COMMIT  (1u << 7) /* chunk id, version, 1..R replicas */

struct api_op;
/* Answers a read from the fsm; returns 0 after replying. */
typedef int (*api_read_fn)(struct ms_api *api, struct rfs_httpd_req *req,
			   const struct rfs_op *op);
/* Fills leader fields of a mutation; returns 0, or 1 after replying. */
typedef int (*api_prepare_fn)(struct ms_api *api, struct rfs_httpd_req *req,
			      struct rfs_op *op);

/* How one op type is served. read == NULL: a mutation through the log. */
struct api_op {
	uint32_t type;
	unsigned needs;
	api_read_fn read;
	api_prepare_fn prepare;
	enum ms_api_reply_kind reply;
};

/* --- small helpers ----------------------------------------------------- */

int64_t ms_api_now_ms(const struct ms_api *api)
{
	return (int64_t)uv_now(api->loop);
}

void ms_api_kick(struct ms_api *api)
{
	api->kick = true;
}

void ms_api_count_op(struct ms_api *api, uint32_t type)
{
	if (type < RFS_OP_COUNT)
		api->ops[type]++;
}

int ms_api_reply_error(struct ms_api *api, struct rfs_httpd_req *req, int err,
		       const char *fmt, ...)
{
	char msg[RFS_ERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* common/httpd logs every refused request once. */
	api->errors++;
	rfs_httpd_reply_error(req, err, "%s", msg);
	return 0;
}

int ms_api_reply_json(struct ms_api *api, struct rfs_httpd_req *req, int rc,
		      char *buf, size_t len)
{
	if (rc < 0) {
		free(buf);
		return ms_api_reply_error(
		    api, req, rc, "cannot encode the reply: %s", strerror(-rc));
	}
	rfs_httpd_reply(req, 200, RFS_CONTENT_JSON, buf, len);
	return 0;
}

int ms_api_reply_empty(struct ms_api *api, struct rfs_httpd_req *req)
{
	static const char empty[] = "{}";
	char *buf = strdup(empty);

	return ms_api_reply_json(api, req, buf == NULL ? -ENOMEM : 0, buf,
				 sizeof(empty) - 1);
}

bool ms_api_ready(struct ms_api *api, struct rfs_httpd_req *req)
{
	if (api->draining) {
		ms_api_reply_error(api, req, -EAGAIN,
				   "metaserver shutting down; retry");
		return false;
	}
	if (!ms_raftlog_is_ready(api->log)) {
		ms_api_reply_error(api, req, -EAGAIN,
				   "metaserver starting: log replay not "
				   "complete; retry");
		return false;
	}
	return true;
}

int ms_api_reply_decode_error(struct ms_api *api, struct rfs_httpd_req *req,
			      int rc, const char *what)
{
	if (rc == -ENAMETOOLONG)
		return ms_api_reply_error(api, req, rc,
					  "%s: a name is longer than %d bytes",
					  what, RFS_NAME_MAX);
	if (rc == -E2BIG)
		return ms_api_reply_error(api, req, rc,
					  "%s: a value or list in the request "
					  "body is over its limit",
					  what);
	return ms_api_reply_error(api, req, -EPROTO,
				  "malformed request body for %s: not a JSON "
				  "object, or a field has the wrong type or "
				  "range",
				  what);
}

/* --- validation -------------------------------------------------------- */

static int api_check_entry(const char *field, const char *name, char *msg,
			   size_t msglen)
{
	int rc = rfs_proto_check_name(name, strlen(name));

	if (rc == 0)
		return 0;
	if (name[0] == '\0')
		snprintf(msg, msglen, "missing %s", field);
	else if (rc == -ENAMETOOLONG)
		snprintf(msg, msglen, "%s is longer than %d bytes", field,
			 RFS_NAME_MAX);
	else if (strchr(name, '/') != NULL)
		snprintf(msg, msglen, "%s '%s' contains '/'", field, name);
	else
		snprintf(msg, msglen, "%s '%s' is not allowed", field, name);
	return rc == -ENAMETOOLONG ? rc : -EINVAL;
}

static int api_check_data(const struct rfs_op *op, unsigned needs, char *msg,
			  size_t msglen)
{
	const char *what = needs & NEED_PATH ? "path" : "symlink target";

	if (op->data == NULL || op->data_len == 0) {
		snprintf(msg, msglen, "missing %s", what);
		return -EINVAL;
	}
	if (op->data_len > RFS_PATH_MAX) {
		snprintf(msg, msglen, "%s is longer than %d bytes", what,
			 RFS_PATH_MAX);
		return -ENAMETOOLONG;
	}
	if (memchr(op->data, '\0', op->data_len) != NULL) {
		snprintf(msg, msglen, "%s contains a NUL byte", what);
		return -EINVAL;
	}
	if ((needs & NEED_PATH) && op->data[0] != '/') {
		snprintf(msg, msglen, "path must be absolute");
		return -EINVAL;
	}
	return 0;
}

static int api_check_commit(const struct rfs_op *op, char *msg, size_t msglen)
{
	uint32_t i;

	if (op->chunk_id == 0 || op->version == 0) {
		snprintf(msg, msglen, "missing chunk_id or version");
		return -EINVAL;
	}
	if (op->n_replicas < 1 || op->n_replicas > RFS_MAX_REPLICAS) {
		snprintf(msg, msglen, "commit needs 1 to %d replicas",
			 RFS_MAX_REPLICAS);
		return -EINVAL;
	}
	if (op->valid & RFS_SETATTR_SIZE) {
		snprintf(msg, msglen, "a commit cannot set the size");
		return -EINVAL;
	}
	for (i = 0; i < op->n_replicas; i++) {
		if (!rfs_proto_server_id_is_valid(op->replicas[i].id)) {
			snprintf(msg, msglen, "replica %u has an invalid id",
				 i);
			return -EINVAL;
		}
	}
	return 0;
}

/* Check what ao->needs of op; 0 or a negative errno with msg set. */
static int api_validate(const struct api_op *ao, const struct rfs_op *op,
			char *msg, size_t msglen)
{
	unsigned needs = ao->needs;
	int rc;

	if ((needs & NEED_INO) && op->ino == 0) {
		snprintf(msg, msglen, "missing ino");
		return -EINVAL;
	}
	if ((needs & NEED_PARENT) && op->parent == 0) {
		snprintf(msg, msglen, "missing parent");
		return -EINVAL;
	}
	if ((needs & NEED_NEWNAME) && op->newparent == 0) {
		snprintf(msg, msglen, "missing newparent");
		return -EINVAL;
	}
	if (needs & NEED_NAME) {
		rc = api_check_entry("name", op->name, msg, msglen);
		if (rc < 0)
			return rc;
	}
	if (needs & NEED_NEWNAME) {
		rc = api_check_entry("newname", op->newname, msg, msglen);
		if (rc < 0)
			return rc;
	}
	if ((needs & NEED_XNAME) && op->name[0] == '\0') {
		snprintf(msg, msglen, "missing xattr name");
		return -EINVAL;
	}
	if (needs & (NEED_TARGET | NEED_PATH))
		return api_check_data(op, needs, msg, msglen);
	if (needs & NEED_COMMIT)
		return api_check_commit(op, msg, msglen);
	return 0;
}

/* --- reads ------------------------------------------------------------- */

/* Reply attr, or the error rc (what names the request; read only then). */
static int api_reply_attr(struct ms_api *api, struct rfs_httpd_req *req, int rc,
			  const struct rfs_attr *attr, const char *what)
{
	char *buf = NULL;
	size_t len = 0;

	if (rc < 0)
		return ms_api_reply_error(api, req, rc, "%s: %s", what,
					  strerror(-rc));
	rc = rfs_proto_attr_encode(attr, &buf, &len);
	return ms_api_reply_json(api, req, rc, buf, len);
}

static int api_read_lookup(struct ms_api *api, struct rfs_httpd_req *req,
			   const struct rfs_op *op)
{
	struct rfs_attr attr;
	char what[RFS_NAME_MAX + 64];
	int rc;

	rc = ms_fsm_lookup(api->state->fsm, op->parent, op->name, &attr);
	if (rc < 0) /* the message only for an error: lookups are hot */
		snprintf(what, sizeof(what), "lookup '%s' in directory %llu",
			 op->name, (unsigned long long)op->parent);
	return api_reply_attr(api, req, rc, &attr, rc < 0 ? what : NULL);
}

static int api_read_getattr(struct ms_api *api, struct rfs_httpd_req *req,
			    const struct rfs_op *op)
{
	struct rfs_attr attr;
	char what[64];
	int rc;

	rc = ms_fsm_getattr(api->state->fsm, op->ino, &attr);
	if (rc < 0)
		snprintf(what, sizeof(what), "getattr of inode %llu",
			 (unsigned long long)op->ino);
	return api_reply_attr(api, req, rc, &attr, rc < 0 ? what : NULL);
}

static int api_read_resolve(struct ms_api *api, struct rfs_httpd_req *req,
			    const struct rfs_op *op)
{
	char path[RFS_PATH_MAX + 1];
	struct rfs_attr attr;
	int rc;

	/* Validated: 1..RFS_PATH_MAX bytes without NUL. */
	memcpy(path, op->data, op->data_len);
	path[op->data_len] = '\0';
	rc = ms_fsm_resolve(api->state->fsm, path, &attr);
	return api_reply_attr(api, req, rc, &attr, "resolve");
}

/* RFS_READDIR_PLUS: every entry but "." and ".." gets its attributes. */
static void api_readdir_attrs(const struct ms_fsm *fsm,
			      struct rfs_readdir_reply *r)
{
	struct rfs_dirent *d;
	size_t i;

	for (i = 0; i < r->n; i++) {
		d = &r->entries[i];
		if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0)
			continue;
		d->has_attr = ms_fsm_getattr(fsm, d->ino, &d->attr) == 0;
	}
}

static int api_read_readdir(struct ms_api *api, struct rfs_httpd_req *req,
			    const struct rfs_op *op)
{
	struct rfs_readdir_reply r;
	uint32_t limit = op->limit;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (limit == 0 || limit > RFS_READDIR_MAX)
		limit = RFS_READDIR_MAX;
	rc = ms_fsm_readdir(api->state->fsm, op->ino, op->cookie, limit, &r);
	if (rc < 0)
		return ms_api_reply_error(
		    api, req, rc, "readdir of inode %llu: %s",
		    (unsigned long long)op->ino, strerror(-rc));
	if (op->flags & RFS_READDIR_PLUS)
		api_readdir_attrs(api->state->fsm, &r);
	rc = rfs_proto_readdir_encode(&r, &buf, &len);
	rfs_proto_readdir_release(&r);
	return ms_api_reply_json(api, req, rc, buf, len);
}

/* Shared tail of readlink, getxattr and listxattr. */
static int api_reply_value(struct ms_api *api, struct rfs_httpd_req *req,
			   int rc, struct rfs_value_reply *v, const char *what,
			   const struct rfs_op *op)
{
	char *buf = NULL;
	size_t len = 0;

	if (rc < 0)
		return ms_api_reply_error(api, req, rc, "%s of inode %llu: %s",
					  what, (unsigned long long)op->ino,
					  strerror(-rc));
	rc = rfs_proto_value_encode(v, &buf, &len);
	rfs_proto_value_release(v);
	return ms_api_reply_json(api, req, rc, buf, len);
}

static int api_read_readlink(struct ms_api *api, struct rfs_httpd_req *req,
			     const struct rfs_op *op)
{
	struct rfs_value_reply v = {0};
	int rc = ms_fsm_readlink(api->state->fsm, op->ino, &v);

	return api_reply_value(api, req, rc, &v, "readlink", op);
}

static int api_read_getxattr(struct ms_api *api, struct rfs_httpd_req *req,
			     const struct rfs_op *op)
{
	struct rfs_value_reply v = {0};
	int rc = ms_fsm_getxattr(api->state->fsm, op->ino, op->name, &v);

	return api_reply_value(api, req, rc, &v, "getxattr", op);
}

static int api_read_listxattr(struct ms_api *api, struct rfs_httpd_req *req,
			      const struct rfs_op *op)
{
	struct rfs_value_reply v = {0};
	int rc = ms_fsm_listxattr(api->state->fsm, op->ino, &v);

	return api_reply_value(api, req, rc, &v, "listxattr", op);
}

static int api_read_statfs(struct ms_api *api, struct rfs_httpd_req *req,
			   const struct rfs_op *op)
{
	const struct ms_fsm *fsm = api->state->fsm;
	struct ms_cluster_totals t;
	struct rfs_statfs s = {0};
	uint64_t chunks;
	uint64_t bytes;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ms_cluster_totals(api->cluster, fsm, ms_api_now_ms(api), &t);
	if (rc < 0)
		return ms_api_reply_error(api, req, rc, "statfs: %s",
					  strerror(-rc));
	ms_fsm_counts(fsm, &s.inodes, &chunks, &bytes);
	s.total_bytes = t.capacity;
	s.used_bytes = t.used;
	s.free_bytes = t.capacity > t.used ? t.capacity - t.used : 0;
	s.chunk_size = ms_fsm_format(fsm)->chunk_size;
	rc = rfs_proto_statfs_encode(&s, &buf, &len);
	return ms_api_reply_json(api, req, rc, buf, len);
}

static int api_read_layout(struct ms_api *api, struct rfs_httpd_req *req,
			   const struct rfs_op *op)
{
	const struct ms_fsm *fsm = api->state->fsm;
	struct rfs_layout l;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ms_fsm_layout(fsm, op->ino, op->offset, op->size, &l);
	if (rc < 0)
		return ms_api_reply_error(
		    api, req, rc, "layout of inode %llu: %s",
		    (unsigned long long)op->ino, strerror(-rc));
	rc = ms_cluster_mark_layout(api->cluster, fsm, &l, ms_api_now_ms(api));
	if (rc == 0)
		rc = rfs_proto_layout_encode(&l, &buf, &len);
	rfs_proto_layout_release(&l);
	return ms_api_reply_json(api, req, rc, buf, len);
}

/* --- leader fields of a lease ------------------------------------------ */

/* The id a new chunk gets; leases in flight have taken ids past next. */
static uint64_t api_peek_chunk_id(struct ms_api *api)
{
	uint64_t next = ms_fsm_next_chunk_id(api->state->fsm);

	if (api->next_chunk_id < next)
		api->next_chunk_id = next;
	return api->next_chunk_id;
}

static int api_prepare_lease(struct ms_api *api, struct rfs_httpd_req *req,
			     struct rfs_op *op)
{
	const struct ms_fsm *fsm = api->state->fsm;
	struct rfs_chunk chunk;
	struct rfs_attr attr;
	bool exists;
	int rc;

	rc = ms_fsm_getattr(fsm, op->ino, &attr);
	if (rc < 0) {
		ms_api_reply_error(api, req, rc, "lease on inode %llu: %s",
				   (unsigned long long)op->ino, strerror(-rc));
		return 1;
	}
	exists = ms_fsm_chunk_at(fsm, op->ino, op->index, &chunk) == 0;
	op->chunk_id = exists ? chunk.chunk_id : api_peek_chunk_id(api);
	rc = ms_cluster_choose(
	    api->cluster, fsm, op->chunk_id, exists ? &chunk : NULL,
	    attr.goal ? attr.goal : ms_fsm_format(fsm)->goal,
	    ms_api_now_ms(api), op->replicas, &op->n_replicas);
	if (rc == -ENOSPC)
		ms_api_reply_error(api, req, rc,
				   "no chunk server is registered; start "
				   "ringfs-chunk servers first");
	else if (rc == -EAGAIN)
		ms_api_reply_error(api, req, rc,
				   "no chunk server is up (no recent "
				   "heartbeat); retry when one is");
	else if (rc < 0)
		ms_api_reply_error(api, req, rc, "lease: %s", strerror(-rc));
	if (rc < 0)
		return 1;
	if (!exists)
		api->next_chunk_id++;
	return 0;
}

/*
 * A create with RFS_CREATE_LEASE: pick chunk 0's id and replicas as a
 * lease of a new chunk would. When none can be chosen (no chunk server
 * up) the flag is dropped: the file is made without a lease.
 */
static int api_prepare_create(struct ms_api *api, struct rfs_httpd_req *req,
			      struct rfs_op *op)
{
	const struct ms_fsm *fsm = api->state->fsm;
	struct rfs_attr parent;
	uint32_t goal;
	int rc;

	(void)req;
	op->index = 0;
	op->chunk_id = 0;
	op->n_replicas = 0;
	if (!(op->flags & RFS_CREATE_LEASE))
		return 0;
	/* the new file's goal is its directory's */
	rc = ms_fsm_getattr(fsm, op->parent, &parent);
	goal = rc == 0 && parent.goal ? parent.goal : ms_fsm_format(fsm)->goal;
	op->chunk_id = api_peek_chunk_id(api);
	rc = ms_cluster_choose(api->cluster, fsm, op->chunk_id, NULL, goal,
			       ms_api_now_ms(api), op->replicas,
			       &op->n_replicas);
	if (rc < 0) {
		op->flags &= ~RFS_CREATE_LEASE;
		op->chunk_id = 0;
		op->n_replicas = 0;
		return 0;
	}
	api->next_chunk_id++;
	return 0;
}

/* --- the op table and dispatch ----------------------------------------- */

static const struct api_op api_ops[] = {
    {RFS_OP_LOOKUP, NEED_PARENT | NEED_NAME, api_read_lookup, NULL, 0},
    {RFS_OP_GETATTR, NEED_INO, api_read_getattr, NULL, 0},
    {RFS_OP_SETATTR, NEED_INO, NULL, NULL, MS_API_REPLY_ATTR},
    {RFS_OP_MKDIR, NEED_PARENT | NEED_NAME, NULL, NULL, MS_API_REPLY_ATTR},
    {RFS_OP_RMDIR, NEED_PARENT | NEED_NAME, NULL, NULL, MS_API_REPLY_EMPTY},
    {RFS_OP_CREATE, NEED_PARENT | NEED_NAME, NULL, api_prepare_create,
     MS_API_REPLY_ATTR_LEASE},
    {RFS_OP_UNLINK, NEED_PARENT | NEED_NAME, NULL, NULL, MS_API_REPLY_ORPHAN},
    {RFS_OP_RENAME, NEED_PARENT | NEED_NAME | NEED_NEWNAME, NULL, NULL,
     MS_API_REPLY_ORPHAN},
    {RFS_OP_LINK, NEED_INO | NEED_NEWNAME, NULL, NULL, MS_API_REPLY_ATTR},
    {RFS_OP_SYMLINK, NEED_PARENT | NEED_NAME | NEED_TARGET, NULL, NULL,
     MS_API_REPLY_ATTR},
    {RFS_OP_READLINK, NEED_INO, api_read_readlink, NULL, 0},
    {RFS_OP_READDIR, NEED_INO, api_read_readdir, NULL, 0},
    {RFS_OP_STATFS, 0, api_read_statfs, NULL, 0},
    {RFS_OP_SETXATTR, NEED_INO | NEED_XNAME, NULL, NULL, MS_API_REPLY_EMPTY},
    {RFS_OP_GETXATTR, NEED_INO | NEED_XNAME, api_read_getxattr, NULL, 0},
    {RFS_OP_LISTXATTR, NEED_INO, api_read_listxattr, NULL, 0},
    {RFS_OP_REMOVEXATTR, NEED_INO | NEED_XNAME, NULL, NULL, MS_API_REPLY_EMPTY},
    {RFS_OP_RESOLVE, NEED_PATH, api_read_resolve, NULL, 0},
    {RFS_OP_LEASE, NEED_INO, NULL, api_prepare_lease, MS_API_REPLY_LEASE},
    {RFS_OP_COMMIT, NEED_INO | NEED_COMMIT, NULL, NULL, MS_API_REPLY_ATTR},
    {RFS_OP_LAYOUT, NEED_INO, api_read_layout, NULL, 0},
    {RFS_OP_RELEASE_ORPHAN, NEED_INO, NULL, NULL, MS_API_REPLY_EMPTY},
};
#define N_API_OPS (sizeof(api_ops) / sizeof(api_ops[0]))

static const struct api_op *api_op_find(uint32_t type)
{
	size_t i;

	for (i = 0; i < N_API_OPS; i++)
		if (api_ops[i].type == type)
			return &api_ops[i];
	return NULL;
}

/* Decode, check and run one op request of the given type. */
static int api_serve(struct ms_api *api, struct rfs_httpd_req *req,
		     const struct api_op *ao)
{
	const char *name = rfs_op_name(ao->type);
	char msg[RFS_ERR_MESSAGE_MAX];
	const char *body;
	struct rfs_op op;
	size_t len;
	int rc;

	ms_api_count_op(api, ao->type);
	if (!ms_api_ready(api, req))
		return 0;
	body = rfs_httpd_req_body(req, &len);
	if (body == NULL)
		len = 0;
	rc = rfs_proto_op_decode(body != NULL ? body : "", len, &op);
	if (rc < 0)
		return ms_api_reply_decode_error(api, req, rc, name);
	if (op.type != RFS_OP_NONE && op.type != ao->type) {
		rc = ms_api_reply_error(api, req, -EINVAL,
					"body is a '%s' op sent to the '%s' "
					"route",
					rfs_op_name(op.type), name);
		goto out_release;
	}
	op.type = ao->type;
	rc = api_validate(ao, &op, msg, sizeof(msg));
	if (rc < 0) {
		rc = ms_api_reply_error(api, req, rc, "%s: %s", name, msg);
		goto out_release;
	}
	if (ao->read != NULL)
		rc = ao->read(api, req, &op);
	else if (ao->prepare != NULL && ao->prepare(api, req, &op) != 0)
		rc = 0;
	else
		rc = ms_api_propose(api, req, &op, ao->reply, NULL);
out_release:
	rfs_proto_op_release(&op);
	return rc;
}

static int api_ns(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	const char *tail = rfs_httpd_req_path_tail(req);
	uint32_t type = rfs_op_from_name(tail);

	/* Only namespace ops live under RFS_PATH_NS. */
	if ((type < RFS_OP_LOOKUP || type > RFS_OP_RESOLVE) &&
	    type != RFS_OP_RELEASE_ORPHAN)
		return ms_api_reply_error(api, req, -ENOENT,
					  "unknown namespace operation '%.*s'",
					  API_OP_NAME_SHOWN, tail);
	return api_serve(api, req, api_op_find(type));
}

static int api_lease(struct rfs_httpd_req *req, void *ctx)
{
	return api_serve(ctx, req, api_op_find(RFS_OP_LEASE));
}

static int api_commit(struct rfs_httpd_req *req, void *ctx)
{
	return api_serve(ctx, req, api_op_find(RFS_OP_COMMIT));
}

static int api_layout(struct rfs_httpd_req *req, void *ctx)
{
	return api_serve(ctx, req, api_op_find(RFS_OP_LAYOUT));
}

static const struct rfs_httpd_route api_routes[] = {
    {"POST", RFS_PATH_NS, api_ns, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_CHUNK_LEASE, api_lease, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_CHUNK_COMMIT, api_commit, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_CHUNK_LAYOUT, api_layout, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_CLUSTER_REGISTER, ms_api_register, NULL,
     RFS_META_BODY_MAX},
    {"POST", RFS_PATH_CLUSTER_HEARTBEAT, ms_api_heartbeat, NULL,
     RFS_META_BODY_MAX},
    {"POST", RFS_PATH_CLUSTER_INVENTORY, ms_api_inventory, NULL,
     RFS_INVENTORY_BODY_MAX},
    {"GET", RFS_PATH_CLUSTER_STATUS, ms_api_status, NULL, 0},
    {"POST", RFS_PATH_SESSION_OPEN, ms_api_session_open, NULL,
     RFS_META_BODY_MAX},
    {"POST", RFS_PATH_SESSION_RENEW, ms_api_session_renew, NULL,
     RFS_META_BODY_MAX},
    {"POST", RFS_PATH_SESSION_CLOSE, ms_api_session_close, NULL,
     RFS_META_BODY_MAX},
    {"POST", RFS_PATH_LOCK, ms_api_lock, NULL, RFS_META_BODY_MAX},
    {"POST", RFS_PATH_LOCK_TEST, ms_api_lock_test, NULL, RFS_META_BODY_MAX},
    {"GET", RFS_PATH_HEALTH, ms_api_health, NULL, 0},
    {"GET", RFS_PATH_METRICS, ms_api_metrics, NULL, 0},
};

/* --- mutations through the log ----------------------------------------- */

/* One proposed mutation waiting for its entry to be applied. */
struct api_call {
	struct ms_api *api;
	struct rfs_httpd_req *req; /* NULL once the request is gone */
	uint32_t type;
	enum ms_api_reply_kind reply;
	char what[RFS_NAME_MAX + 64]; /* "mkdir 'a'", for error messages */
	bool record_hb;
	struct rfs_server hb;
	/* directories whose attributes the reply carries ("dirs") */
	uint32_t n_dirs;
	uint64_t dirs[RFS_DIR_ATTRS_MAX];
};

/* The request ended without our reply (server stopping): forget it. */
static void api_call_detach(void *data)
{
	struct api_call *call = data;

	call->req = NULL;
}

/* Mark the replicas of a lease up or down as the cluster sees them. */
static void api_lease_up(struct ms_api *api, struct rfs_lease *lease)
{
	uint32_t i;

	for (i = 0; i < lease->n_replicas && i < RFS_MAX_REPLICAS; i++)
		lease->replicas[i].up =
		    ms_cluster_is_up(api->cluster, api->state->fsm,
				     lease->replicas[i].id, ms_api_now_ms(api));
}

/* The directories a namespace change touched: their attributes go with
 * the reply, saving the client a getattr of each. */
static void api_call_dirs(struct api_call *call, const struct rfs_op *op)
{
	uint32_t t = op->type;

	if (t == RFS_OP_MKDIR || t == RFS_OP_RMDIR || t == RFS_OP_CREATE ||
	    t == RFS_OP_UNLINK || t == RFS_OP_SYMLINK || t == RFS_OP_RENAME)
		call->dirs[call->n_dirs++] = op->parent;
	if (t == RFS_OP_LINK ||
	    (t == RFS_OP_RENAME && op->newparent != op->parent))
		call->dirs[call->n_dirs++] = op->newparent;
}

/* Add the "dirs" member to the reply *buf (replaced). A directory gone
 * meanwhile is left out; on failure the reply goes without the member. */
static void api_add_dirs(struct api_call *call, char **buf, size_t *len)
{
	struct rfs_dir_attrs d = {0};
	char *out = NULL;
	size_t out_len = 0;
	uint32_t i;

	for (i = 0; i < call->n_dirs; i++)
		if (ms_fsm_getattr(call->api->state->fsm, call->dirs[i],
				   &d.dir[d.n]) == 0)
			d.n++;
	if (d.n == 0 || rfs_proto_dirs_add(*buf, *len, &d, &out, &out_len) < 0)
		return;
	free(*buf);
	*buf = out;
	*len = out_len;
}

static void api_call_reply(struct api_call *call, int rc,
			   const struct ms_state_result *r)
{
	struct ms_api *api = call->api;
	struct rfs_httpd_req *req = call->req;
	char *buf = NULL;
	size_t len = 0;

	if (rc < 0) {
		ms_api_reply_error(api, req, rc, "%s: %s", call->what,
				   strerror(-rc));
		return;
	}
	if (call->reply == MS_API_REPLY_EMPTY && call->n_dirs == 0) {
		ms_api_reply_empty(api, req);
		return;
	}
	if (call->reply == MS_API_REPLY_EMPTY) {
		buf = strdup("{}");
		len = 2;
		rc = buf == NULL ? -ENOMEM : 0;
	} else if (call->reply == MS_API_REPLY_ATTR) {
		rc = rfs_proto_attr_encode(&r->res.attr, &buf, &len);
	} else if (call->reply == MS_API_REPLY_ATTR_LEASE) {
		struct rfs_lease lease = r->res.lease;

		api_lease_up(api, &lease);
		rc = rfs_proto_attr_lease_encode(&r->res.attr, &lease, &buf,
						 &len);
	} else if (call->reply == MS_API_REPLY_ORPHAN) {
		struct rfs_orphan_reply o = {.orphan = r->res.orphan};

		rc = rfs_proto_orphan_encode(&o, &buf, &len);
	} else {
		struct rfs_lease lease = r->res.lease;

		api_lease_up(api, &lease);
		rc = rfs_proto_lease_encode(&lease, &buf, &len);
	}
	if (rc == 0 && call->n_dirs > 0)
		api_add_dirs(call, &buf, &len);
	ms_api_reply_json(api, req, rc, buf, len);
}

/* What an op is about, for its error message. */
static void api_describe(const struct rfs_op *op, char *out, size_t outlen)
{
	const char *name = rfs_op_name(op->type);

	switch (op->type) {
	case RFS_OP_LEASE:
		snprintf(out, outlen, "lease on inode %llu chunk index %llu",
			 (unsigned long long)op->ino,
			 (unsigned long long)op->index);
		break;
	case RFS_OP_COMMIT:
		snprintf(out, outlen, "commit of chunk %016llx version %u",
			 (unsigned long long)op->chunk_id, op->version);
		break;
	case RFS_OP_REGISTER:
		snprintf(out, outlen, "register of server '%s'", op->server.id);
		break;
	default:
		if (op->name[0] != '\0')
			snprintf(out, outlen, "%s '%s'", name, op->name);
		else
			snprintf(out, outlen, "%s of inode %llu", name,
				 (unsigned long long)op->ino);
	}
}

static void api_call_done(void *arg, int status, void *result)
{
	struct api_call *call = arg;
	struct ms_api *api = call->api;
	const struct ms_state_result *r = result;
	int rc = status;

	if (status == 0)
		rc = r != NULL && r->type == call->type ? r->rc : -EIO;
	if (rc == 0 && call->record_hb)
		ms_cluster_heartbeat(api->cluster, api->state->fsm, &call->hb,
				     ms_api_now_ms(api));
	if (call->req != NULL) {
		rfs_httpd_req_set_data(call->req, NULL, NULL);
		if (status == -EAGAIN)
			ms_api_reply_error(api, call->req, status,
					   "%s not applied: metaserver lost "
					   "leadership or is shutting down; "
					   "retry",
					   rfs_op_name(call->type));
		else
			api_call_reply(call, rc, r);
		ms_api_kick(api);
	}
	free(call);
}

int ms_api_propose(struct ms_api *api, struct rfs_httpd_req *req,
		   struct rfs_op *op, enum ms_api_reply_kind reply_kind,
		   const struct rfs_server *hb)
{
	struct api_call *call;
	char *json = NULL;
	size_t len = 0;
	int rc;

	call = calloc(1, sizeof(*call));
	if (call == NULL)
		return ms_api_reply_error(api, req, -ENOMEM, "out of memory");
	call->api = api;
	call->req = req;
	call->type = op->type;
	call->reply = reply_kind;
	api_describe(op, call->what, sizeof(call->what));
	call->record_hb = hb != NULL;
	if (hb != NULL)
		call->hb = *hb;
	api_call_dirs(call, op);
	op->now_ns = rfs_wall_ns();
	rc = rfs_proto_op_encode(op, &json, &len);
	if (rc == 0) {
		rfs_httpd_req_set_data(req, call, api_call_detach);
		rc = ms_raftlog_propose(api->log, json, len, api_call_done,
					call);
	}
	free(json);
	if (rc == 0)
		return RFS_HTTPD_ASYNC;
	rfs_httpd_req_set_data(req, NULL, NULL);
	free(call);
	if (rc == -EAGAIN)
		return ms_api_reply_error(api, req, rc,
					  "metadata log not ready; retry");
	return ms_api_reply_error(api, req, rc, "%s: cannot log the change: %s",
				  rfs_op_name(op->type), strerror(-rc));
}

/* --- the HTTP server on the loop --------------------------------------- */

static void api_on_timer(uv_timer_t *timer);

/* Let libmicrohttpd do all ready work, then re-arm its timeout. */
static void api_run(struct ms_api *api)
{
	int64_t timeout;

	api->kick = false;
	if (rfs_httpd_run(api->httpd) < 0)
		rfs_log_warn(NULL, "msg=\"http server run failed\"");
	timeout = rfs_httpd_timeout_ms(api->httpd);
	if (timeout < 0)
		uv_timer_stop(&api->timer);
	else
		uv_timer_start(&api->timer, api_on_timer, (uint64_t)timeout, 0);
}

static void api_on_timer(uv_timer_t *timer)
{
	api_run(timer->data);
}

static void api_on_poll(uv_poll_t *poll, int status, int events)
{
	api_run(poll->data);
}

/* After each loop iteration's I/O: send replies given from callbacks. */
static void api_on_check(uv_check_t *check)
{
	struct ms_api *api = check->data;

	if (api->kick)
		api_run(api);
}

int ms_api_start(const struct ms_api_opts *opts, struct ms_api **out)
{
	struct rfs_httpd_opts hopts = {
	    .name = "meta-api",
	    .bind_addr = opts->bind_addr,
	    .port = opts->port,
	    .external = true,
	    .routes = api_routes,
	    .n_routes = sizeof(api_routes) / sizeof(api_routes[0]),
	};
	struct ms_api *api;
	int rc;

	api = calloc(1, sizeof(*api));
	if (api == NULL)
		return -ENOMEM;
	api->loop = opts->loop;
	api->state = opts->state;
	api->log = opts->log;
	api->cluster = opts->cluster;
	api->locks = opts->locks;
	hopts.ctx = api;
	rc = rfs_httpd_start(&hopts, &api->httpd);
	if (rc < 0)
		goto out_free_api;
	rc =
	    uv_poll_init(api->loop, &api->poll, rfs_httpd_epoll_fd(api->httpd));
	if (rc < 0) {
		rc = -EIO;
		goto out_stop_httpd;
	}
	uv_timer_init(api->loop, &api->timer);
	uv_check_init(api->loop, &api->check);
	api->poll.data = api;
	api->timer.data = api;
	api->check.data = api;
	uv_poll_start(&api->poll, UV_READABLE, api_on_poll);
	uv_check_start(&api->check, api_on_check);
	api_run(api);
	*out = api;
	return 0;

out_stop_httpd:
	rfs_httpd_stop(api->httpd);
out_free_api:
	free(api);
	return rc;
}

uint16_t ms_api_port(const struct ms_api *api)
{
	return rfs_httpd_port(api->httpd);
}

void ms_api_drain(struct ms_api *api)
{
	api->draining = true;
}

static void api_handle_closed(uv_handle_t *handle)
{
	struct ms_api *api = handle->data;
	void (*cb)(void *arg) = api->close_cb;
	void *arg = api->close_arg;

	if (--api->closes_left > 0)
		return;
	free(api);
	if (cb != NULL)
		cb(arg);
}

void ms_api_close(struct ms_api *api, void (*cb)(void *arg), void *arg)
{
	if (api == NULL)
		return;
	api->draining = true;
	api->log = NULL;
	api->close_cb = cb;
	api->close_arg = arg;
	/* Hand the last replies to libmicrohttpd before it stops. */
	api_run(api);
	/* libuv must stop watching the epoll fd before the fd is closed. */
	uv_poll_stop(&api->poll);
	rfs_httpd_stop(api->httpd);
	api->httpd = NULL;
	api->closes_left = 3;
	uv_close((uv_handle_t *)&api->poll, api_handle_closed);
	uv_close((uv_handle_t *)&api->timer, api_handle_closed);
	uv_close((uv_handle_t *)&api->check, api_handle_closed);
}
