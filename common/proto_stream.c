/*
 * proto_stream: the hot messages (every client request, attr replies and
 * readdir replies) written with the streaming writer of common/jsonw.h
 * from the same field tables as the jansson-tree encoders of proto.c, in
 * the same key order, so the text is the same. Decoding stays in proto.c.
 */
#include <config.h>
#include "common/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/jsonw.h"
#include "common/proto_int.h"

/* Run body(w, st) inside one top-level object and hand out the text. */
static int write_msg(const void *st,
		     int (*body)(struct rfs_jsonw *w, const void *st),
		     char **out, size_t *out_len)
{
	struct rfs_jsonw w;
	int rc;

	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rc = body(&w, st);
	if (rc < 0)
		rfs_jsonw_fail(&w, rc);
	rfs_jsonw_obj_end(&w);
	return rfs_jsonw_finish(&w, out, out_len);
}

/* "key": {fields of st} */
static int write_object(struct rfs_jsonw *w, const char *key,
			const struct rfs_json_field *fields, size_t n,
			const void *st)
{
	int rc;

	rfs_jsonw_key(w, key);
	rfs_jsonw_obj_begin(w);
	rc = rfs_json_write_fields(w, fields, n, st, false);
	rfs_jsonw_obj_end(w);
	return rc;
}

/* --- operations ------------------------------------------------------ */
static int op_write_body(struct rfs_jsonw *w, const void *st)
{
	const struct rfs_proto_tables *t = rfs_proto_tables();
	const struct rfs_op *op = st;
	const char *name = rfs_op_name(op->type);
	int rc;

	rc = rfs_proto_op_check(op);
	if (rc < 0)
		return rc;
	rfs_jsonw_key(w, "op");
	rfs_jsonw_strn(w, name, strlen(name));
	/* zero members are left out: one struct serves every op type */
	rc = rfs_json_write_fields(w, t->op, t->n_op, op, true);
	/* an empty but present value (e.g. an empty xattr) is kept */
	if (rc == 0 && op->data) {
		rfs_jsonw_key(w, "data");
		rfs_jsonw_base64(w, op->data, op->data_len);
		rc = rfs_jsonw_error(w);
	}
	if (rc == 0 && op->n_replicas)
		rc = rfs_json_write_list(w, t->replicas, op->replicas,
					 op->n_replicas);
	if (rc == 0 &&
	    !rfs_json_fields_are_zero(t->server, t->n_server, &op->server))
		rc = write_object(w, "server", t->server, t->n_server,
				  &op->server);
	return rc;
}

int rfs_proto_op_encode(const struct rfs_op *op, char **out, size_t *out_len)
{
	return write_msg(op, op_write_body, out, out_len);
}

/* --- attr ------------------------------------------------------------ */
static int attr_write_body(struct rfs_jsonw *w, const void *st)
{
	const struct rfs_proto_tables *t = rfs_proto_tables();

	return write_object(w, "attr", t->attr, t->n_attr, st);
}

int rfs_proto_attr_encode(const struct rfs_attr *attr, char **out,
			  size_t *out_len)
{
	return write_msg(attr, attr_write_body, out, out_len);
}

/* --- readdir --------------------------------------------------------- */
/* A readdir-plus entry's attributes: "attr" inside the entry. */
static int dirent_write_extra(struct rfs_jsonw *w, const void *elem)
{
	const struct rfs_proto_tables *t = rfs_proto_tables();
	const struct rfs_dirent *d = elem;

	if (!d->has_attr)
		return 0;
	return write_object(w, "attr", t->attr, t->n_attr, &d->attr);
}

static int readdir_write_body(struct rfs_jsonw *w, const void *st)
{
	const struct rfs_readdir_reply *r = st;
	struct rfs_json_list l = *rfs_proto_tables()->dirents;
	int rc;

	l.write_extra = dirent_write_extra;
	rc = rfs_json_write_list(w, &l, r->entries, r->n);
	if (rc == 0) {
		rfs_jsonw_key(w, "eof");
		rfs_jsonw_bool(w, r->eof);
		rc = rfs_jsonw_error(w);
	}
	return rc;
}

int rfs_proto_readdir_encode(const struct rfs_readdir_reply *r, char **out,
			     size_t *out_len)
{
	return write_msg(r, readdir_write_body, out, out_len);
}
