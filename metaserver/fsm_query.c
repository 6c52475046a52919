/*
 * fsm_query: read-only namespace queries (lookup, getattr, resolve,
 * readlink). Directory listing is in fsm_dir.c, xattrs in fsm_xattr.c.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metaserver/fsm_internal.h"

/* One step of a lookup: name in dir, with "." and ".." understood. */
static int query_step(const struct ms_fsm *fsm, const struct ms_inode *dir,
		      const char *name, size_t len, struct ms_inode **out)
{
	const struct ms_dirent *d;
	int rc;

	if (len == 1 && name[0] == '.') {
		*out = ms_fsm_inode(fsm, dir->ino);
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		*out = ms_fsm_inode(fsm, dir->u.dir->parent);
		return 0;
	}
	rc = rfs_proto_check_name(name, len);
	if (rc < 0)
		return rc;
	d = ms_fsm_dirent_find(fsm, dir->ino, name, len);
	if (!d)
		return -ENOENT;
	*out = ms_fsm_inode(fsm, d->ino);
	return 0;
}

int ms_fsm_lookup(const struct ms_fsm *fsm, uint64_t parent, const char *name,
		  struct rfs_attr *out)
{
	struct ms_inode *dir;
	struct ms_inode *in;
	size_t len = strnlen(name, RFS_NAME_MAX + 1);
	int rc;

	if (len > RFS_NAME_MAX)
		return -ENAMETOOLONG;
	rc = ms_fsm_dir_get(fsm, parent, &dir);
	if (rc < 0)
		return rc;
	rc = query_step(fsm, dir, name, len, &in);
	if (rc < 0)
		return rc;
	ms_fsm_attr_fill(in, out);
	return 0;
}

int ms_fsm_getattr(const struct ms_fsm *fsm, uint64_t ino, struct rfs_attr *out)
{
	const struct ms_inode *in = ms_fsm_inode(fsm, ino);

	if (!in)
		return -ENOENT;
	ms_fsm_attr_fill(in, out);
	return 0;
}

int ms_fsm_resolve(const struct ms_fsm *fsm, const char *path,
		   struct rfs_attr *out)
{
	struct ms_inode *in = ms_fsm_inode(fsm, RFS_ROOT_INO);
	const char *p = path;
	size_t total;
	int rc;

	if (!path || path[0] != '/')
		return -EINVAL;
	total = strnlen(path, RFS_PATH_MAX + 1);
	if (total > RFS_PATH_MAX)
		return -ENAMETOOLONG;
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if (!ms_fsm_is_dir(in))
			return -ENOTDIR;
		if (len > RFS_NAME_MAX)
			return -ENAMETOOLONG;
		rc = query_step(fsm, in, p, len, &in);
		if (rc < 0)
			return rc;
		p += len;
	}
	/* "/file/" names a directory that is not one */
	if (path[total - 1] == '/' && !ms_fsm_is_dir(in))
		return -ENOTDIR;
	ms_fsm_attr_fill(in, out);
	return 0;
}

int ms_fsm_readlink(const struct ms_fsm *fsm, uint64_t ino,
		    struct rfs_value_reply *out)
{
	const struct ms_inode *in = ms_fsm_inode(fsm, ino);

	memset(out, 0, sizeof(*out));
	if (!in)
		return -ENOENT;
	if (!ms_fsm_is_lnk(in))
		return -EINVAL;
	out->data = malloc(in->size + 1);
	if (!out->data)
		return -ENOMEM;
	memcpy(out->data, in->u.target, in->size + 1);
	out->len = in->size;
	return 0;
}
