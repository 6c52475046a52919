/*
 * proto_lock: the wire codecs of lock sessions and locks (declared in
 * common/proto.h, which states the conventions they follow). Kept apart
 * from proto.c, which holds every other message, to keep both files
 * within the size budget.
 */
#include <config.h>
#include "common/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define F_SESSION  "session"
#define F_LEASE_MS "lease_ms"
#define F_INO	   "ino"
#define F_KIND	   "kind"
#define F_OWNER	   "owner"
#define F_TYPE	   "type"
#define F_START	   "start"
#define F_END	   "end"
#define F_PID	   "pid"
#define F_RECLAIM  "reclaim"
#define F_ORPHAN   "orphan"

#define N_FIELDS(t) (sizeof(t) / sizeof((t)[0]))

static const char *const kind_names[] = {
    [RFS_LOCK_POSIX] = "posix",
    [RFS_LOCK_FLOCK] = "flock",
};

static const char *const type_names[] = {
    [RFS_LOCK_UN] = "un",
    [RFS_LOCK_RD] = "rd",
    [RFS_LOCK_WR] = "wr",
};

static const struct rfs_json_field session_fields[] = {
    RFS_JSON_F(F_SESSION, RFS_JSON_HEX64, struct rfs_session, id),
    RFS_JSON_F(F_LEASE_MS, RFS_JSON_U32, struct rfs_session, lease_ms),
};

/* Offsets and ends are hex64 so that RFS_LOCK_EOF (2^64 - 1) travels. */
static const struct rfs_json_field lock_fields[] = {
    RFS_JSON_F(F_SESSION, RFS_JSON_HEX64, struct rfs_lock, session),
    RFS_JSON_F(F_INO, RFS_JSON_HEX64, struct rfs_lock, ino),
    RFS_JSON_F_ENUM(F_KIND, struct rfs_lock, kind, kind_names,
		    N_FIELDS(kind_names)),
    RFS_JSON_F(F_OWNER, RFS_JSON_HEX64, struct rfs_lock, owner),
    RFS_JSON_F_ENUM(F_TYPE, struct rfs_lock, type, type_names,
		    N_FIELDS(type_names)),
    RFS_JSON_F(F_START, RFS_JSON_HEX64, struct rfs_lock, start),
    RFS_JSON_F(F_END, RFS_JSON_HEX64, struct rfs_lock, end),
    RFS_JSON_F(F_PID, RFS_JSON_U32, struct rfs_lock, pid),
    RFS_JSON_F(F_RECLAIM, RFS_JSON_BOOL, struct rfs_lock, reclaim),
};

static const struct rfs_json_field orphan_fields[] = {
    RFS_JSON_F(F_ORPHAN, RFS_JSON_HEX64, struct rfs_orphan_reply, orphan),
};

/* Encode the fields of st (all of them, zero or not) as one object. */
static int encode_flat(const struct rfs_json_field *fields, size_t n,
		       const void *st, char **out, size_t *out_len)
{
	json_t *obj = json_object();
	int rc;

	if (!obj)
		return -ENOMEM;
	rc = rfs_json_encode_fields(obj, fields, n, st, false);
	if (rc == 0)
		rc = rfs_json_dump(obj, out, out_len);
	json_decref(obj);
	return rc;
}

/* Zero st and fill it from the object in buf; zeroed again on error. */
static int decode_flat(const struct rfs_json_field *fields, size_t n,
		       const char *buf, size_t len, void *st, size_t size)
{
	json_t *obj;
	int rc;

	memset(st, 0, size);
	rc = rfs_json_parse(buf, len, &obj);
	if (rc < 0)
		return rc;
	rc = rfs_json_decode_fields(obj, fields, n, st);
	json_decref(obj);
	if (rc < 0)
		memset(st, 0, size);
	return rc;
}

int rfs_proto_session_encode(const struct rfs_session *s, char **out,
			     size_t *out_len)
{
	return encode_flat(session_fields, N_FIELDS(session_fields), s, out,
			   out_len);
}

int rfs_proto_session_decode(const char *buf, size_t len, struct rfs_session *s)
{
	return decode_flat(session_fields, N_FIELDS(session_fields), buf, len,
			   s, sizeof(*s));
}

int rfs_proto_lock_encode(const struct rfs_lock *l, char **out, size_t *out_len)
{
	if (l->start > l->end)
		return -EINVAL;
	return encode_flat(lock_fields, N_FIELDS(lock_fields), l, out, out_len);
}

int rfs_proto_lock_decode(const char *buf, size_t len, struct rfs_lock *l)
{
	int rc;

	rc = decode_flat(lock_fields, N_FIELDS(lock_fields), buf, len, l,
			 sizeof(*l));
	if (rc == 0 && l->start > l->end) {
		memset(l, 0, sizeof(*l));
		rc = -EPROTO;
	}
	return rc;
}

int rfs_proto_orphan_encode(const struct rfs_orphan_reply *o, char **out,
			    size_t *out_len)
{
	json_t *obj = json_object();
	int rc;

	if (!obj)
		return -ENOMEM;
	/* no orphan: "{}", as the reply of other mutations */
	rc = rfs_json_encode_fields(obj, orphan_fields, N_FIELDS(orphan_fields),
				    o, true);
	if (rc == 0)
		rc = rfs_json_dump(obj, out, out_len);
	json_decref(obj);
	return rc;
}

int rfs_proto_orphan_decode(const char *buf, size_t len,
			    struct rfs_orphan_reply *o)
{
	return decode_flat(orphan_fields, N_FIELDS(orphan_fields), buf, len, o,
			   sizeof(*o));
}
