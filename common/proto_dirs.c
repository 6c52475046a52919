/*
 * proto_dirs: the optional "dirs" member of namespace-change replies
 * (declared in common/proto.h). Each element is an attr object as in
 * {"attr": ...}; it goes through rfs_proto_attr_to_json/from_json
 * (proto_int.h) so the field table stays in proto.c alone.
 */
#include <config.h>
#include "common/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/proto_int.h"

#define F_DIRS "dirs"

int rfs_proto_dirs_add(const char *buf, size_t len,
		       const struct rfs_dir_attrs *d, char **out,
		       size_t *out_len)
{
	json_t *obj = NULL;
	json_t *arr;
	uint32_t i;
	int rc;

	if (len == 0)
		obj = json_object();
	else if (rfs_json_parse(buf, len, &obj) < 0)
		return -EPROTO;
	if (obj == NULL)
		return -ENOMEM;
	arr = json_array();
	rc = rfs_json_set_new(obj, F_DIRS, arr);
	for (i = 0; rc == 0 && i < d->n && i < RFS_DIR_ATTRS_MAX; i++) {
		json_t *a = json_object();

		/* arr owns a once appended, also when encoding it fails */
		rc = rfs_json_append_new(arr, a);
		if (rc == 0)
			rc = rfs_proto_attr_to_json(a, &d->dir[i]);
	}
	if (rc == 0)
		rc = rfs_json_dump(obj, out, out_len);
	json_decref(obj);
	return rc;
}

int rfs_proto_dirs_decode(const char *buf, size_t len, struct rfs_dir_attrs *d)
{
	json_t *obj;
	json_t *arr;
	size_t i;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = rfs_json_parse(buf, len, &obj);
	if (rc < 0)
		return rc;
	rc = rfs_json_get_array(obj, F_DIRS, RFS_DIR_ATTRS_MAX, &arr);
	if (rc == -ENOENT)
		rc = 0;
	else
		for (i = 0; rc == 0 && i < json_array_size(arr); i++) {
			json_t *e = json_array_get(arr, i);

			rc = json_is_object(e)
				 ? rfs_proto_attr_from_json(e, &d->dir[i])
				 : -EPROTO;
			if (rc == 0)
				d->n++;
		}
	json_decref(obj);
	if (rc < 0)
		memset(d, 0, sizeof(*d));
	return rc;
}
