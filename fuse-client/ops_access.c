/*
 * access(2): the mode bits against the caller's uid, gid and supplementary
 * groups, as the kernel's generic_permission() without ACLs. ringfs-mount
 * always mounts with default_permissions, so the kernel checks access(2)
 * itself and sends no ACCESS request; this op answers the same way for a
 * kernel (or an option set) that does send one.
 */
#include <config.h>

#include "fuse-client/fc.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Supplementary groups looked at; a caller in more is checked against the
 * first ones only (NGROUPS_MAX is 65536, far more than anyone uses). */
#define FC_ACCESS_GROUPS_MAX 256

static bool in_groups(gid_t gid, const gid_t *groups, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

int fc_access_check(const struct rfs_attr *a, const struct fc_cred *cred,
		    int mask)
{
	uint32_t bits;

	mask &= R_OK | W_OK | X_OK;
	if (mask == 0)
		return 0; /* F_OK: the inode exists */
	if (cred->uid == 0) {
		/* root may read and write anything; execute a file only
		 * when somebody may, search any directory */
		if (!(mask & X_OK) || S_ISDIR(a->mode) || (a->mode & 0111))
			return 0;
		return -EACCES;
	}
	if (cred->uid == a->uid)
		bits = (a->mode >> 6) & 07;
	else if (cred->gid == a->gid ||
		 in_groups(a->gid, cred->groups, cred->n_groups))
		bits = (a->mode >> 3) & 07;
	else
		bits = a->mode & 07;
	return ((uint32_t)mask & ~bits) ? -EACCES : 0;
}

static int do_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx *cx = fuse_req_ctx(req);
	struct fc_cred cred = {.uid = cx->uid, .gid = cx->gid};
	gid_t *groups = NULL;
	struct rfs_attr a;
	int n;
	int rc;

	rc = rfs_client_getattr(fc_ctx_of(req)->c, ino, &a);
	if (rc < 0)
		return rc;
	/* the groups only matter to a caller that is neither owner nor in
	 * the file's group by its gid */
	if (cred.uid != 0 && cred.uid != a.uid && cred.gid != a.gid) {
		groups = calloc(FC_ACCESS_GROUPS_MAX, sizeof(*groups));
		if (!groups)
			return -ENOMEM;
		n = fuse_req_getgroups(req, FC_ACCESS_GROUPS_MAX, groups);
		if (n > 0)
			cred.n_groups = n < FC_ACCESS_GROUPS_MAX
					    ? (size_t)n
					    : FC_ACCESS_GROUPS_MAX;
		cred.groups = groups;
	}
	rc = fc_access_check(&a, &cred, mask);
	free(groups);
	return rc;
}

void fc_op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	fuse_reply_err(req, -do_access(req, ino, mask));
}
