#include <config.h>
#include "tests/unit/fsm_test_util.h"

#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

struct ms_fsm *ft_new(void)
{
	struct ms_fsm_format fmt;
	struct ms_fsm *fsm;

	memset(&fmt, 0, sizeof(fmt));
	snprintf(fmt.fsid, sizeof(fmt.fsid), "00000000-test-fsid");
	fmt.chunk_size = FT_CHUNK;
	fmt.goal = FT_GOAL;
	fmt.created_ns = FT_CREATED;
	fsm = ms_fsm_new(&fmt);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fsm);
	return fsm;
}

void ft_op(struct rfs_op *op, uint32_t type)
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->now_ns = FT_NOW;
	op->uid = FT_UID;
	op->gid = FT_GID;
}

void ft_name(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n > RFS_NAME_MAX) {
		memcpy(dst, src, RFS_NAME_MAX + 1);
		return;
	}
	memcpy(dst, src, n + 1);
}

static int ft_apply_attr(struct ms_fsm *fsm, const struct rfs_op *op,
			 struct rfs_attr *out)
{
	struct ms_fsm_result res;
	int rc = ms_fsm_apply(fsm, op, &res);

	if (rc == 0 && out)
		*out = res.attr;
	return rc;
}

int ft_mkdir_at(struct ms_fsm *fsm, uint64_t parent, const char *name,
		uint32_t mode, int64_t now, struct rfs_attr *out)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_MKDIR);
	op.parent = parent;
	ft_name(op.name, name);
	op.mode = mode;
	op.now_ns = now;
	return ft_apply_attr(fsm, &op, out);
}

int ft_mkdir(struct ms_fsm *fsm, uint64_t parent, const char *name,
	     struct rfs_attr *out)
{
	return ft_mkdir_at(fsm, parent, name, 0755, FT_NOW, out);
}

int ft_create(struct ms_fsm *fsm, uint64_t parent, const char *name,
	      uint32_t flags, struct rfs_attr *out)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_CREATE);
	op.parent = parent;
	ft_name(op.name, name);
	op.mode = 0644;
	op.flags = flags;
	return ft_apply_attr(fsm, &op, out);
}

int ft_symlink(struct ms_fsm *fsm, uint64_t parent, const char *name,
	       const char *target, struct rfs_attr *out)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_SYMLINK);
	op.parent = parent;
	ft_name(op.name, name);
	op.data = (char *)target;
	op.data_len = strlen(target);
	return ft_apply_attr(fsm, &op, out);
}

static int ft_entry_op(struct ms_fsm *fsm, uint32_t type, uint64_t parent,
		       const char *name)
{
	struct rfs_op op;

	ft_op(&op, type);
	op.parent = parent;
	ft_name(op.name, name);
	return ms_fsm_apply(fsm, &op, NULL);
}

int ft_rmdir(struct ms_fsm *fsm, uint64_t parent, const char *name)
{
	return ft_entry_op(fsm, RFS_OP_RMDIR, parent, name);
}

int ft_unlink(struct ms_fsm *fsm, uint64_t parent, const char *name)
{
	return ft_entry_op(fsm, RFS_OP_UNLINK, parent, name);
}

int ft_rename(struct ms_fsm *fsm, uint64_t parent, const char *name,
	      uint64_t newparent, const char *newname, uint32_t flags)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_RENAME);
	op.parent = parent;
	ft_name(op.name, name);
	op.newparent = newparent;
	ft_name(op.newname, newname);
	op.flags = flags;
	return ms_fsm_apply(fsm, &op, NULL);
}

int ft_link(struct ms_fsm *fsm, uint64_t ino, uint64_t newparent,
	    const char *newname, struct rfs_attr *out)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_LINK);
	op.ino = ino;
	op.newparent = newparent;
	ft_name(op.newname, newname);
	return ft_apply_attr(fsm, &op, out);
}

int ft_truncate(struct ms_fsm *fsm, uint64_t ino, uint64_t size)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_SETATTR);
	op.ino = ino;
	op.valid = RFS_SETATTR_SIZE;
	op.size = size;
	return ms_fsm_apply(fsm, &op, NULL);
}

int ft_setxattr(struct ms_fsm *fsm, uint64_t ino, const char *name,
		const char *value, size_t len, uint32_t flags)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_SETXATTR);
	op.ino = ino;
	ft_name(op.name, name);
	op.data = (char *)value;
	op.data_len = len;
	op.flags = flags;
	return ms_fsm_apply(fsm, &op, NULL);
}

int ft_removexattr(struct ms_fsm *fsm, uint64_t ino, const char *name)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_REMOVEXATTR);
	op.ino = ino;
	ft_name(op.name, name);
	return ms_fsm_apply(fsm, &op, NULL);
}

int ft_register(struct ms_fsm *fsm, const char *id, const char *addr,
		const char *zone, uint32_t weight)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_REGISTER);
	snprintf(op.server.id, sizeof(op.server.id), "%s", id);
	snprintf(op.server.addr, sizeof(op.server.addr), "%s", addr);
	snprintf(op.server.zone, sizeof(op.server.zone), "%s", zone);
	op.server.weight = weight;
	op.server.capacity = 1ULL << 40;
	return ms_fsm_apply(fsm, &op, NULL);
}

void ft_servers(struct ms_fsm *fsm, int n)
{
	char id[16];
	char addr[32];
	char zone[16];
	int i;

	for (i = 1; i <= n; i++) {
		snprintf(id, sizeof(id), "cs%d", i);
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", 9500 + i);
		snprintf(zone, sizeof(zone), "z%d", i);
		CU_ASSERT_EQUAL_FATAL(ft_register(fsm, id, addr, zone, 1), 0);
	}
}

static void ft_replicas(struct rfs_op *op, uint32_t n)
{
	uint32_t i;

	op->n_replicas = n;
	for (i = 0; i < n && i < RFS_MAX_REPLICAS; i++)
		snprintf(op->replicas[i].id, sizeof(op->replicas[i].id), "cs%u",
			 i + 1);
}

int ft_lease(struct ms_fsm *fsm, uint64_t ino, uint64_t index,
	     uint64_t chunk_id, uint32_t n_replicas, struct rfs_lease *out)
{
	struct ms_fsm_result res;
	struct rfs_op op;
	int rc;

	ft_op(&op, RFS_OP_LEASE);
	op.ino = ino;
	op.index = index;
	op.chunk_id = chunk_id;
	ft_replicas(&op, n_replicas);
	rc = ms_fsm_apply(fsm, &op, &res);
	if (rc == 0 && out)
		*out = res.lease;
	return rc;
}

int ft_commit(struct ms_fsm *fsm, uint64_t ino, uint64_t index,
	      uint64_t chunk_id, uint32_t version, uint64_t length,
	      uint32_t n_replicas)
{
	struct rfs_op op;

	ft_op(&op, RFS_OP_COMMIT);
	op.ino = ino;
	op.index = index;
	op.chunk_id = chunk_id;
	op.version = version;
	op.length = length;
	ft_replicas(&op, n_replicas);
	return ms_fsm_apply(fsm, &op, NULL);
}

int ft_write(struct ms_fsm *fsm, uint64_t ino, uint64_t index, uint64_t length)
{
	struct rfs_lease l;
	int rc;

	rc = ft_lease(fsm, ino, index, ms_fsm_next_chunk_id(fsm), 2, &l);
	if (rc < 0)
		return rc;
	return ft_commit(fsm, ino, index, l.chunk_id, l.version, length, 2);
}
