/*
 * proto_dirs: the optional "dirs" member of namespace-change replies
 * (declared in common/proto.h). Each element is an attr object as in
 * {"attr": ...}; it goes through rfs_proto_attr_encode/decode so the
 * field table stays in proto.c alone.
 */
#include <config.h>
#include "common/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define F_DIRS "dirs"
#define F_ATTR "attr"

/* A new reference to the attr object of a, or NULL (*rc says why). */
static json_t *dir_attr_json(const struct rfs_attr *a, int *rc)
{
	json_t *obj = NULL;
	json_t *attr = NULL;
	char *txt = NULL;
	size_t len = 0;

	*rc = rfs_proto_attr_encode(a, &txt, &len);
	if (*rc == 0)
		*rc = rfs_json_parse(txt, len, &obj);
	free(txt);
	if (*rc < 0)
		return NULL;
	*rc = rfs_json_get_object(obj, F_ATTR, &attr);
	if (*rc == 0)
		json_incref(attr);
	json_decref(obj);
	return *rc == 0 ? attr : NULL;
}

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
		json_t *a = dir_attr_json(&d->dir[i], &rc);

		if (rc == 0)
			rc = rfs_json_append_new(arr, a);
	}
	if (rc == 0)
		rc = rfs_json_dump(obj, out, out_len);
	json_decref(obj);
	return rc;
}

/* Decode one element of "dirs" (an attr object). */
static int dir_attr_decode(json_t *elem, struct rfs_attr *a)
{
	json_t *wrap = json_object();
	char *txt = NULL;
	size_t len = 0;
	int rc;

	if (wrap == NULL)
		return -ENOMEM;
	json_incref(elem);
	rc = rfs_json_set_new(wrap, F_ATTR, elem);
	if (rc == 0)
		rc = rfs_json_dump(wrap, &txt, &len);
	json_decref(wrap);
	if (rc == 0)
		rc = rfs_proto_attr_decode(txt, len, a);
	free(txt);
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

			rc = json_is_object(e) ? dir_attr_decode(e, &d->dir[i])
					       : -EPROTO;
			if (rc == 0)
				d->n++;
		}
	json_decref(obj);
	if (rc < 0)
		memset(d, 0, sizeof(*d));
	return rc;
}
