#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/client-int.h"

/* Deepest directory nesting rm -r follows; deeper trees are refused
 * (ELOOP) rather than risking the stack. */
#define TREE_DEPTH_MAX 256

/* Resolve path component by component with lookups. */
static int walk_path(struct rfs_client *c, const char *norm,
		     struct rfs_attr *out)
{
	struct rfs_attr cur;
	const char *p = norm + 1;
	int rc;

	rc = rfs_client_getattr(c, RFS_ROOT_INO, &cur);
	while (rc == 0 && *p) {
		char name[RFS_NAME_MAX + 1];
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (!S_ISDIR(cur.mode))
			return -ENOTDIR;
		memcpy(name, p, len);
		name[len] = '\0';
		rc = rfs_client_lookup(c, cur.ino, name, &cur);
		p += len + (slash ? 1 : 0);
	}
	if (rc == 0)
		*out = cur;
	return rc;
}

int rfs_client_resolve(struct rfs_client *c, const char *path,
		       struct rfs_attr *out)
{
	char norm[RFS_PATH_MAX + 1];
	int rc = rfs_path_normalize(path, norm, sizeof(norm));

	if (rc < 0)
		return rc;
	rc = rfs_client_resolve_op(c, norm, out);
	/* A metaserver without the resolve op: walk instead. */
	if (rc == -EOPNOTSUPP || rc == -ENOSYS)
		rc = walk_path(c, norm, out);
	return rc;
}

int rfs_client_resolve_parent(struct rfs_client *c, const char *path,
			      struct rfs_attr *parent,
			      char name[RFS_NAME_MAX + 1])
{
	char norm[RFS_PATH_MAX + 1];
	char dir[RFS_PATH_MAX + 1];
	int rc;

	rc = rfs_path_normalize(path, norm, sizeof(norm));
	if (rc == 0)
		rc = rfs_path_split(norm, dir, sizeof(dir), name,
				    RFS_NAME_MAX + 1);
	if (rc == 0)
		rc = rfs_client_resolve(c, dir, parent);
	if (rc == 0 && !S_ISDIR(parent->mode))
		rc = -ENOTDIR;
	return rc;
}

int rfs_client_mkdir_p(struct rfs_client *c, const char *path, uint32_t mode,
		       uint32_t uid, uint32_t gid, struct rfs_attr *out)
{
	char norm[RFS_PATH_MAX + 1];
	struct rfs_attr cur;
	const char *p = norm + 1;
	int rc;

	rc = rfs_path_normalize(path, norm, sizeof(norm));
	if (rc == 0)
		rc = rfs_client_getattr(c, RFS_ROOT_INO, &cur);
	while (rc == 0 && *p) {
		char name[RFS_NAME_MAX + 1];
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		uint64_t parent = cur.ino;

		memcpy(name, p, len);
		name[len] = '\0';
		rc = rfs_client_lookup(c, parent, name, &cur);
		if (rc == -ENOENT) {
			rc = rfs_client_mkdir(c, parent, name, mode, uid, gid,
					      &cur);
			/* Lost a race with another creator: use theirs. */
			if (rc == -EEXIST)
				rc = rfs_client_lookup(c, parent, name, &cur);
		}
		if (rc == 0 && !S_ISDIR(cur.mode))
			rc = slash ? -ENOTDIR : -EEXIST;
		p += len + (slash ? 1 : 0);
	}
	if (rc == 0 && out)
		*out = cur;
	return rc;
}

static bool is_dot_name(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

int rfs_client_readdir_all(struct rfs_client *c, uint64_t ino,
			   struct rfs_dirent **out, size_t *n)
{
	struct rfs_dirent *all = NULL;
	size_t count = 0;
	uint64_t cookie = 0;
	bool eof = false;
	int rc = 0;

	while (rc == 0 && !eof) {
		struct rfs_readdir_reply page;
		struct rfs_dirent *grown;
		size_t i;

		rc = rfs_client_readdir(c, ino, cookie, 0, &page);
		if (rc < 0)
			break;
		eof = page.eof || page.n == 0;
		grown = realloc(all, (count + page.n + 1) * sizeof(*all));
		if (!grown)
			rc = -ENOMEM;
		for (i = 0; rc == 0 && i < page.n; i++) {
			cookie = page.entries[i].cookie;
			if (!is_dot_name(page.entries[i].name))
				grown[count++] = page.entries[i];
		}
		if (grown)
			all = grown;
		rfs_proto_readdir_release(&page);
	}
	if (rc < 0) {
		free(all);
		all = NULL;
		count = 0;
	}
	*out = all;
	*n = count;
	return rc;
}

static int remove_below(struct rfs_client *c, uint64_t dir, int depth);

/* Remove one entry of dir, recursing into directories. */
static int remove_entry(struct rfs_client *c, uint64_t dir,
			const struct rfs_dirent *e, int depth)
{
	int rc;

	if (!S_ISDIR(e->mode))
		return rfs_client_unlink(c, dir, e->name);
	rc = remove_below(c, e->ino, depth + 1);
	return rc < 0 ? rc : rfs_client_rmdir(c, dir, e->name);
}

/* Remove everything inside directory dir. */
static int remove_below(struct rfs_client *c, uint64_t dir, int depth)
{
	struct rfs_dirent *ents;
	size_t n;
	size_t i;
	int rc;

	if (depth > TREE_DEPTH_MAX)
		return -ELOOP;
	rc = rfs_client_readdir_all(c, dir, &ents, &n);
	for (i = 0; rc == 0 && i < n; i++) {
		rc = remove_entry(c, dir, &ents[i], depth);
		if (rc == -ENOENT) /* removed by someone else meanwhile */
			rc = 0;
	}
	free(ents);
	return rc;
}

int rfs_client_remove_tree(struct rfs_client *c, uint64_t parent,
			   const char *name)
{
	struct rfs_dirent e;
	struct rfs_attr a;
	int rc;

	rc = rfs_client_lookup(c, parent, name, &a);
	if (rc < 0)
		return rc;
	memset(&e, 0, sizeof(e));
	e.ino = a.ino;
	e.mode = a.mode;
	memcpy(e.name, name, strlen(name) + 1);
	return remove_entry(c, parent, &e, 0);
}
