/*
 * proto_int: pieces of proto.c shared with the other common/proto_*.c
 * files, at the level of jansson objects (private to common/).
 */
#ifndef RFS_COMMON_PROTO_INT_H
#define RFS_COMMON_PROTO_INT_H

#include "common/json.h"
#include "common/proto.h"

/* Set the attr members of the JSON object a from *attr. 0 or -ENOMEM. */
int rfs_proto_attr_to_json(json_t *a, const struct rfs_attr *attr);
/* Fill *attr from the attr object a. 0, or -EPROTO for a member of the
 * wrong type or out of range. */
int rfs_proto_attr_from_json(const json_t *a, struct rfs_attr *attr);

#endif
