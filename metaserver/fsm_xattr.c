/*
 * fsm_xattr: extended attributes of an inode, kept as a small vector
 * sorted by name (bytewise) so listxattr is deterministic. Per inode the
 * name list fits one listxattr reply and names plus values stay within
 * MS_FSM_XATTR_BYTES_MAX (ENOSPC beyond, like a full xattr block).
 */
#include <config.h>
#include "metaserver/fsm_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XATTR_FLAGS (RFS_XATTR_CREATE | RFS_XATTR_REPLACE)

/* Bytewise order, a prefix first. */
static int xattr_cmp(const struct ms_xattr *x, const char *name, size_t len)
{
	size_t n = x->name_len < len ? x->name_len : len;
	int c = memcmp(x->name, name, n);

	if (c)
		return c;
	if (x->name_len == len)
		return 0;
	return x->name_len < len ? -1 : 1;
}

/* Position of name, or where it would go (then *found is false). */
static size_t xattr_search(const struct ms_inode *in, const char *name,
			   size_t len, bool *found)
{
	size_t lo = 0;
	size_t hi = in->n_xattrs;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = xattr_cmp(&in->xattrs[mid], name, len);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* An xattr name: 1..RFS_NAME_MAX bytes (ERANGE otherwise, as Linux). */
static int xattr_name_check(const char *name, size_t *len)
{
	*len = strnlen(name, RFS_NAME_MAX + 1);
	if (*len == 0 || *len > RFS_NAME_MAX)
		return -ERANGE;
	return 0;
}

static void xattr_totals(const struct ms_inode *in, size_t *list, size_t *bytes)
{
	uint32_t i;

	*list = 0;
	*bytes = 0;
	for (i = 0; i < in->n_xattrs; i++) {
		*list += in->xattrs[i].name_len + 1;
		*bytes += in->xattrs[i].name_len + in->xattrs[i].value_len;
	}
}

void ms_fsm_xattrs_free(struct ms_inode *in)
{
	uint32_t i;

	for (i = 0; i < in->n_xattrs; i++) {
		free(in->xattrs[i].name);
		free(in->xattrs[i].value);
	}
	free(in->xattrs);
	in->xattrs = NULL;
	in->n_xattrs = 0;
}

bool ms_fsm_xattrs_are_valid(const struct ms_inode *in)
{
	size_t list;
	size_t bytes;
	uint32_t i;

	for (i = 0; i < in->n_xattrs; i++) {
		const struct ms_xattr *x = &in->xattrs[i];

		if (x->name_len == 0 || x->name_len > RFS_NAME_MAX ||
		    x->value_len > RFS_XATTR_VALUE_MAX ||
		    memchr(x->name, '\0', x->name_len))
			return false;
		if (i &&
		    xattr_cmp(&in->xattrs[i - 1], x->name, x->name_len) >= 0)
			return false;
	}
	xattr_totals(in, &list, &bytes);
	return list <= MS_FSM_XATTR_LIST_MAX && bytes <= MS_FSM_XATTR_BYTES_MAX;
}

/* Would replacing slot pos (or adding, when !found) stay in bounds? */
static int xattr_check_room(const struct ms_inode *in, size_t pos, bool found,
			    size_t len, size_t value_len)
{
	size_t list;
	size_t bytes;

	xattr_totals(in, &list, &bytes);
	if (found) {
		bytes -= in->xattrs[pos].value_len;
	} else {
		list += len + 1;
		bytes += len;
	}
	bytes += value_len;
	if (list > MS_FSM_XATTR_LIST_MAX || bytes > MS_FSM_XATTR_BYTES_MAX)
		return -ENOSPC;
	return 0;
}

/* New value buffer for op (NULL for an empty value). */
static int xattr_dup_value(const struct rfs_op *op, char **out)
{
	*out = NULL;
	if (op->data_len == 0)
		return 0;
	*out = malloc(op->data_len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, op->data, op->data_len);
	return 0;
}

static int xattr_insert(struct ms_inode *in, size_t pos, const char *name,
			size_t len, char *value, size_t value_len)
{
	struct ms_xattr *v;
	char *n = malloc(len + 1);

	if (!n)
		return -ENOMEM;
	v = realloc(in->xattrs, (in->n_xattrs + 1) * sizeof(*v));
	if (!v) {
		free(n);
		return -ENOMEM;
	}
	in->xattrs = v;
	memcpy(n, name, len);
	n[len] = '\0';
	memmove(&v[pos + 1], &v[pos], (in->n_xattrs - pos) * sizeof(*v));
	v[pos].name = n;
	v[pos].name_len = (uint32_t)len;
	v[pos].value = value;
	v[pos].value_len = (uint32_t)value_len;
	in->n_xattrs++;
	return 0;
}

static int xattr_check_set(const struct rfs_op *op, bool found)
{
	if (op->flags & ~XATTR_FLAGS)
		return -EINVAL;
	if (op->data_len > RFS_XATTR_VALUE_MAX)
		return -E2BIG;
	if (op->data_len && !op->data)
		return -EINVAL;
	if (found && (op->flags & RFS_XATTR_CREATE))
		return -EEXIST;
	if (!found && (op->flags & RFS_XATTR_REPLACE))
		return -ENODATA;
	return 0;
}

int ms_fsm_do_setxattr(struct ms_fsm *fsm, const struct rfs_op *op,
		       struct ms_fsm_result *res)
{
	struct ms_inode *in = ms_fsm_inode(fsm, op->ino);
	char *value;
	size_t len;
	size_t pos;
	bool found;
	int rc;

	if (!in)
		return -ENOENT;
	rc = xattr_name_check(op->name, &len);
	if (rc < 0)
		return rc;
	pos = xattr_search(in, op->name, len, &found);
	rc = xattr_check_set(op, found);
	if (rc < 0)
		return rc;
	rc = xattr_check_room(in, pos, found, len, op->data_len);
	if (rc < 0)
		return rc;
	rc = xattr_dup_value(op, &value);
	if (rc < 0)
		return rc;
	if (found) {
		free(in->xattrs[pos].value);
		in->xattrs[pos].value = value;
		in->xattrs[pos].value_len = (uint32_t)op->data_len;
	} else if (xattr_insert(in, pos, op->name, len, value, op->data_len) <
		   0) {
		free(value);
		return -ENOMEM;
	}
	in->ctime_ns = op->now_ns;
	return 0;
}

int ms_fsm_do_removexattr(struct ms_fsm *fsm, const struct rfs_op *op,
			  struct ms_fsm_result *res)
{
	struct ms_inode *in = ms_fsm_inode(fsm, op->ino);
	size_t len;
	size_t pos;
	bool found;
	int rc;

	if (!in)
		return -ENOENT;
	rc = xattr_name_check(op->name, &len);
	if (rc < 0)
		return rc;
	pos = xattr_search(in, op->name, len, &found);
	if (!found)
		return -ENODATA;
	free(in->xattrs[pos].name);
	free(in->xattrs[pos].value);
	in->n_xattrs--;
	memmove(&in->xattrs[pos], &in->xattrs[pos + 1],
		(in->n_xattrs - pos) * sizeof(*in->xattrs));
	if (in->n_xattrs == 0) {
		free(in->xattrs);
		in->xattrs = NULL;
	}
	in->ctime_ns = op->now_ns;
	return 0;
}

int ms_fsm_getxattr(const struct ms_fsm *fsm, uint64_t ino, const char *name,
		    struct rfs_value_reply *out)
{
	const struct ms_inode *in = ms_fsm_inode(fsm, ino);
	const struct ms_xattr *x;
	size_t len;
	size_t pos;
	bool found;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!in)
		return -ENOENT;
	rc = xattr_name_check(name, &len);
	if (rc < 0)
		return rc;
	pos = xattr_search(in, name, len, &found);
	if (!found)
		return -ENODATA;
	x = &in->xattrs[pos];
	out->data = malloc(x->value_len + 1);
	if (!out->data)
		return -ENOMEM;
	if (x->value_len)
		memcpy(out->data, x->value, x->value_len);
	out->data[x->value_len] = '\0';
	out->len = x->value_len;
	return 0;
}

int ms_fsm_listxattr(const struct ms_fsm *fsm, uint64_t ino,
		     struct rfs_value_reply *out)
{
	const struct ms_inode *in = ms_fsm_inode(fsm, ino);
	size_t list;
	size_t bytes;
	size_t off = 0;
	uint32_t i;

	memset(out, 0, sizeof(*out));
	if (!in)
		return -ENOENT;
	xattr_totals(in, &list, &bytes);
	out->data = malloc(list + 1);
	if (!out->data)
		return -ENOMEM;
	for (i = 0; i < in->n_xattrs; i++) {
		memcpy(out->data + off, in->xattrs[i].name,
		       in->xattrs[i].name_len + 1);
		off += in->xattrs[i].name_len + 1;
	}
	out->data[list] = '\0';
	out->len = list;
	return 0;
}
