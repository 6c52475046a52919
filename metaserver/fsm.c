/*
 * fsm: the state's life cycle, the inode table and the apply dispatcher.
 * Namespace mutations live in fsm_ns.c / fsm_rename.c / fsm_xattr.c,
 * chunks in fsm_chunk.c / fsm_inv.c, servers in fsm_cluster.c, queries in
 * fsm_query.c, snapshots in fsm_snap.c / fsm_restore.c.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metaserver/fsm_internal.h"

/* Root directory permissions at format time. */
#define FSM_ROOT_MODE (S_IFDIR | 0755)

typedef int fsm_apply_cb(struct ms_fsm *fsm, const struct rfs_op *op,
			 struct ms_fsm_result *res);

/* Every mutation and its handler; a NULL handler is not a mutation. */
static fsm_apply_cb *const fsm_handlers[RFS_OP_COUNT] = {
    [RFS_OP_SETATTR] = ms_fsm_do_setattr,
    [RFS_OP_MKDIR] = ms_fsm_do_mkdir,
    [RFS_OP_RMDIR] = ms_fsm_do_rmdir,
    [RFS_OP_CREATE] = ms_fsm_do_create,
    [RFS_OP_UNLINK] = ms_fsm_do_unlink,
    [RFS_OP_RENAME] = ms_fsm_do_rename,
    [RFS_OP_LINK] = ms_fsm_do_link,
    [RFS_OP_SYMLINK] = ms_fsm_do_symlink,
    [RFS_OP_SETXATTR] = ms_fsm_do_setxattr,
    [RFS_OP_REMOVEXATTR] = ms_fsm_do_removexattr,
    [RFS_OP_LEASE] = ms_fsm_do_lease,
    [RFS_OP_COMMIT] = ms_fsm_do_commit,
    [RFS_OP_REGISTER] = ms_fsm_do_register,
    [RFS_OP_ADD_REPLICAS] = ms_fsm_do_add_replicas,
    [RFS_OP_RELEASE_ORPHAN] = ms_fsm_do_release_orphan,
    [RFS_OP_DROP_ORPHANS] = ms_fsm_do_drop_orphans,
};

bool ms_fsm_format_is_valid(const struct ms_fsm_format *fmt)
{
	uint64_t cs = fmt->chunk_size;

	if (cs < RFS_CHUNK_SIZE_MIN || cs > RFS_CHUNK_SIZE_MAX ||
	    (cs & (cs - 1)) != 0)
		return false;
	if (fmt->goal < 1 || fmt->goal > RFS_MAX_REPLICAS)
		return false;
	return memchr(fmt->fsid, '\0', sizeof(fmt->fsid)) != NULL;
}

struct ms_fsm *ms_fsm_alloc(const struct ms_fsm_format *fmt)
{
	struct ms_fsm *fsm = calloc(1, sizeof(*fsm));

	if (!fsm)
		return NULL;
	fsm->fmt = *fmt;
	fsm->seed = ms_hash_bytes(0, fmt->fsid, strlen(fmt->fsid));
	fsm->next_ino = RFS_ROOT_INO + 1;
	fsm->next_chunk_id = 1;
	ms_htab_init(&fsm->inodes);
	ms_htab_init(&fsm->dirents);
	ms_htab_init(&fsm->chunks);
	return fsm;
}

struct ms_fsm *ms_fsm_new(const struct ms_fsm_format *fmt)
{
	struct ms_fsm *fsm;
	struct ms_inode *root;

	/* an invalid format is a caller bug; refuse it rather than divide
	 * by a zero chunk size later */
	if (!ms_fsm_format_is_valid(fmt))
		return NULL;
	fsm = ms_fsm_alloc(fmt);
	if (!fsm)
		return NULL;
	root = ms_fsm_inode_new(RFS_ROOT_INO, FSM_ROOT_MODE, RFS_ROOT_INO);
	if (!root || ms_htab_reserve(&fsm->inodes, 1) < 0)
		goto out_free;
	root->nlink = 2;
	root->goal = fmt->goal;
	root->atime_ns = fmt->created_ns;
	root->mtime_ns = fmt->created_ns;
	root->ctime_ns = fmt->created_ns;
	ms_fsm_inode_insert(fsm, root);
	return fsm;

out_free:
	ms_fsm_inode_free(root);
	ms_fsm_free(fsm);
	return NULL;
}

void ms_fsm_free(struct ms_fsm *fsm)
{
	size_t i;

	if (!fsm)
		return;
	for (i = 0; i < fsm->chunks.cap; i++)
		free(fsm->chunks.slots[i].entry);
	/* dirents are freed by their directory, chunks above */
	for (i = 0; i < fsm->inodes.cap; i++)
		ms_fsm_inode_free(fsm->inodes.slots[i].entry);
	ms_htab_release(&fsm->inodes);
	ms_htab_release(&fsm->dirents);
	ms_htab_release(&fsm->chunks);
	free(fsm->servers);
	free(fsm->by_id);
	free(fsm->orphans);
	free(fsm);
}

const struct ms_fsm_format *ms_fsm_format(const struct ms_fsm *fsm)
{
	return &fsm->fmt;
}

bool ms_fsm_is_dir(const struct ms_inode *in)
{
	return S_ISDIR(in->mode);
}

bool ms_fsm_is_reg(const struct ms_inode *in)
{
	return S_ISREG(in->mode);
}

bool ms_fsm_is_lnk(const struct ms_inode *in)
{
	return S_ISLNK(in->mode);
}

static bool inode_eq(const void *entry, const void *key)
{
	return ((const struct ms_inode *)entry)->ino == *(const uint64_t *)key;
}

struct ms_inode *ms_fsm_inode(const struct ms_fsm *fsm, uint64_t ino)
{
	return ms_htab_find(&fsm->inodes, ms_hash_u64(ino), inode_eq, &ino);
}

struct ms_inode *ms_fsm_inode_new(uint64_t ino, uint32_t mode, uint64_t parent)
{
	struct ms_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->ino = ino;
	in->mode = mode;
	in->generation = MS_FSM_GENERATION;
	if (S_ISDIR(mode)) {
		in->u.dir = ms_fsm_dir_new(parent);
		if (!in->u.dir) {
			free(in);
			return NULL;
		}
	}
	return in;
}

void ms_fsm_inode_free(struct ms_inode *in)
{
	if (!in)
		return;
	ms_fsm_xattrs_free(in);
	if (ms_fsm_is_dir(in))
		ms_fsm_dir_free(in->u.dir);
	else if (ms_fsm_is_lnk(in))
		free(in->u.target);
	else if (ms_fsm_is_reg(in))
		free(in->u.chunks.v);
	free(in);
}

void ms_fsm_inode_insert(struct ms_fsm *fsm, struct ms_inode *in)
{
	ms_htab_insert(&fsm->inodes, ms_hash_u64(in->ino), in);
}

void ms_fsm_inode_destroy(struct ms_fsm *fsm, struct ms_inode *in)
{
	ms_htab_remove(&fsm->inodes, ms_hash_u64(in->ino), in);
	if (ms_fsm_is_reg(in))
		ms_fsm_file_free_chunks(fsm, in);
	ms_fsm_inode_free(in);
}

void ms_fsm_attr_fill(const struct ms_inode *in, struct rfs_attr *out)
{
	memset(out, 0, sizeof(*out));
	out->ino = in->ino;
	out->mode = in->mode;
	out->uid = in->uid;
	out->gid = in->gid;
	out->nlink = in->nlink;
	out->size = in->size;
	out->atime_ns = in->atime_ns;
	out->mtime_ns = in->mtime_ns;
	out->ctime_ns = in->ctime_ns;
	out->generation = in->generation;
	out->goal = in->goal;
}

int ms_fsm_dir_get(const struct ms_fsm *fsm, uint64_t ino,
		   struct ms_inode **out)
{
	struct ms_inode *in = ms_fsm_inode(fsm, ino);

	if (!in)
		return -ENOENT;
	if (!ms_fsm_is_dir(in))
		return -ENOTDIR;
	*out = in;
	return 0;
}

int ms_fsm_name_check(const char *name, size_t *len)
{
	size_t n = strnlen(name, RFS_NAME_MAX + 1);
	int rc;

	if (n > RFS_NAME_MAX)
		return -ENAMETOOLONG;
	rc = rfs_proto_check_name(name, n);
	if (rc < 0)
		return rc;
	*len = n;
	return 0;
}

int ms_fsm_apply(struct ms_fsm *fsm, const struct rfs_op *op,
		 struct ms_fsm_result *res)
{
	struct ms_fsm_result scratch;

	if (!res)
		res = &scratch;
	memset(res, 0, sizeof(*res));
	if (!ms_fsm_op_is_mutation(op->type))
		return -EINVAL;
	return fsm_handlers[op->type](fsm, op, res);
}

bool ms_fsm_op_is_mutation(uint32_t type)
{
	return type < RFS_OP_COUNT && fsm_handlers[type] != NULL;
}

void ms_fsm_counts(const struct ms_fsm *fsm, uint64_t *inodes, uint64_t *chunks,
		   uint64_t *bytes)
{
	if (inodes)
		*inodes = fsm->inodes.n;
	if (chunks)
		*chunks = fsm->committed_chunks;
	if (bytes)
		*bytes = fsm->committed_bytes;
}

uint64_t ms_fsm_next_chunk_id(const struct ms_fsm *fsm)
{
	return fsm->next_chunk_id;
}
