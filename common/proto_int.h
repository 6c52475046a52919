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

/*
 * The field tables of the messages the stream encoders (proto_stream.c)
 * write, so both encoders read one description. Static, never NULL.
 */
struct rfs_proto_tables {
	const struct rfs_json_field *op, *attr, *server;
	size_t n_op, n_attr, n_server;
	const struct rfs_json_list *replicas, *dirents;
};
const struct rfs_proto_tables *rfs_proto_tables(void);

/* -EINVAL when op cannot be encoded (unknown type, data or replicas out
 * of range), else 0. Checked first by both op encoders. */
int rfs_proto_op_check(const struct rfs_op *op);

/*
 * The jansson-tree encoders of the messages proto_stream.c writes as a
 * stream: same contract as the public rfs_proto_*_encode; kept as the
 * reference the equivalence tests compare the stream text against.
 */
int rfs_proto_op_encode_tree(const struct rfs_op *op, char **out,
			     size_t *out_len);
int rfs_proto_attr_encode_tree(const struct rfs_attr *attr, char **out,
			       size_t *out_len);
int rfs_proto_readdir_encode_tree(const struct rfs_readdir_reply *r, char **out,
				  size_t *out_len);

/*
 * The fast readdir decoder (proto_sax.c): 0 with *r filled as
 * rfs_proto_readdir_decode would fill it, RFS_PROTO_DEFER (r left empty)
 * when that decoder must judge the text, or -ENOMEM.
 */
#define RFS_PROTO_DEFER 1
int rfs_proto_readdir_decode_sax(const char *buf, size_t len,
				 struct rfs_readdir_reply *r);
/* The jansson decoder alone; the reference the fast one is tested
 * against. Same contract as rfs_proto_readdir_decode. */
int rfs_proto_readdir_decode_tree(const char *buf, size_t len,
				  struct rfs_readdir_reply *r);

#endif
