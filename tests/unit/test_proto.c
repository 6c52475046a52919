/*
 * Unit tests for common/proto.c and common/json.c, part 1: round trips of
 * every message with every field set (maximum-length names, 8 replicas,
 * binary data), encoder refusals, error replies, name and server id checks
 * and the json.c accessors. Malformed input is in test_proto_malformed.c.
 */
#include <config.h>
#include "common/proto.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/crypto.h"
#include "common/json.h"
#include "tests/unit/proto_fixtures.h"
#include "tests/unit/runner.h"

/* Encode, decode, compare, re-encode: the text must be identical. */
static void op_roundtrip(const struct rfs_op *op)
{
	struct rfs_op back;
	char *text;
	char *text2;
	size_t len;
	size_t len2;

	CU_ASSERT_EQUAL_FATAL(rfs_proto_op_encode(op, &text, &len), 0);
	CU_ASSERT_EQUAL(strlen(text), len);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_op_decode(text, len, &back), 0);
	tp_check_op_equal(op, &back);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_op_encode(&back, &text2, &len2), 0);
	CU_ASSERT_EQUAL(len, len2);
	CU_ASSERT(strcmp(text, text2) == 0);
	rfs_proto_op_release(&back);
	CU_ASSERT_PTR_NULL(back.data);
	free(text);
	free(text2);
}

/* --- round trips -------------------------------------------------------- */
static void test_proto_op_names(void)
{
	uint32_t t;

	for (t = RFS_OP_NONE + 1; t < RFS_OP_COUNT; t++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(rfs_op_name(t));
		CU_ASSERT_EQUAL(rfs_op_from_name(rfs_op_name(t)), t);
	}
	CU_ASSERT_STRING_EQUAL(rfs_op_name(RFS_OP_MKDIR), "mkdir");
	CU_ASSERT_STRING_EQUAL(rfs_op_name(RFS_OP_ADD_REPLICAS),
			       "add_replicas");
	CU_ASSERT_STRING_EQUAL(rfs_op_name(RFS_OP_REMOVEXATTR), "removexattr");
	CU_ASSERT_PTR_NULL(rfs_op_name(RFS_OP_NONE));
	CU_ASSERT_PTR_NULL(rfs_op_name(RFS_OP_COUNT));
	CU_ASSERT_PTR_NULL(rfs_op_name(UINT32_MAX));
	CU_ASSERT_EQUAL(rfs_op_from_name("MKDIR"), RFS_OP_NONE);
	CU_ASSERT_EQUAL(rfs_op_from_name(""), RFS_OP_NONE);
	CU_ASSERT_EQUAL(rfs_op_from_name("mkdir "), RFS_OP_NONE);
	CU_ASSERT_EQUAL(rfs_op_from_name(NULL), RFS_OP_NONE);
}

static void test_proto_op_roundtrip_all_types(void)
{
	char *data = tp_make_data(RFS_XATTR_VALUE_MAX);
	struct rfs_op op;
	uint32_t t;
	size_t max;

	for (t = RFS_OP_NONE + 1; t < RFS_OP_COUNT; t++) {
		max = (t == RFS_OP_SYMLINK || t == RFS_OP_RESOLVE)
			  ? RFS_PATH_MAX
			  : RFS_XATTR_VALUE_MAX;
		tp_fill_op(&op, t, data, max); /* largest data allowed */
		op_roundtrip(&op);
		tp_fill_op(&op, t, data, 300);
		op_roundtrip(&op);
		tp_fill_op(&op, t, data, 0); /* present but empty: kept */
		op_roundtrip(&op);
	}
	free(data);
}

static void test_proto_op_roundtrip_sparse(void)
{
	struct rfs_op op;
	struct rfs_op back;
	char *text;
	size_t len;

	/* zero fields are left out; absent fields decode as zero */
	memset(&op, 0, sizeof(op));
	op.type = RFS_OP_STATFS;
	CU_ASSERT_EQUAL_FATAL(rfs_proto_op_encode(&op, &text, &len), 0);
	CU_ASSERT_STRING_EQUAL(text, "{\"op\":\"statfs\"}");
	free(text);

	op.type = RFS_OP_MKDIR;
	op.parent = RFS_ROOT_INO;
	snprintf(op.name, sizeof(op.name), "docs");
	op.mode = S_IFDIR | 0755;
	CU_ASSERT_EQUAL_FATAL(rfs_proto_op_encode(&op, &text, &len), 0);
	CU_ASSERT_STRING_EQUAL(text, "{\"op\":\"mkdir\",\"parent\":"
				     "\"0000000000000001\",\"name\":\"docs\","
				     "\"mode\":16877}");
	CU_ASSERT_EQUAL_FATAL(rfs_proto_op_decode(text, len, &back), 0);
	tp_check_op_equal(&op, &back);
	free(text);

	/* a missing "op" decodes as RFS_OP_NONE (the route names the op) */
	CU_ASSERT_EQUAL(
	    rfs_proto_op_decode("{\"ino\":\"00000000000000ff\"}", 26, &back),
	    0);
	CU_ASSERT_EQUAL(back.type, RFS_OP_NONE);
	CU_ASSERT_EQUAL(back.ino, 0xff);
	CU_ASSERT_EQUAL(rfs_proto_op_decode("{}", 2, &back), 0);
	CU_ASSERT(tp_all_zero(&back, sizeof(back)));
	/* unknown keys are ignored, for newer peers */
	CU_ASSERT_EQUAL(rfs_proto_op_decode("{\"future\":[1,{}]}", 17, &back),
			0);
	CU_ASSERT(tp_all_zero(&back, sizeof(back)));
}

static void test_proto_op_encode_invalid(void)
{
	char *data = tp_make_data(RFS_XATTR_VALUE_MAX + 1);
	struct rfs_op op;
	char *text = NULL;
	size_t len;

	tp_fill_op(&op, RFS_OP_NONE, NULL, 0);
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_COUNT, NULL, 0);
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_LEASE, NULL, 0);
	op.n_replicas = RFS_MAX_REPLICAS + 1;
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_SETXATTR, data, RFS_XATTR_VALUE_MAX + 1);
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_SYMLINK, data, RFS_PATH_MAX + 1);
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_SYMLINK, NULL, 10);
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_SETATTR, NULL, 0);
	op.size = (uint64_t)INT64_MAX + 1; /* not a JSON-safe number */
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_REGISTER, NULL, 0);
	op.server.state = RFS_SERVER_DRAINING + 1;
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_REGISTER, NULL, 0);
	snprintf(op.server.id, sizeof(op.server.id), "bad id");
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_COMMIT, NULL, 0);
	memset(op.replicas[3].addr, 'a', sizeof(op.replicas[3].addr));
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	tp_fill_op(&op, RFS_OP_LOOKUP, NULL, 0);
	memset(op.name, 'a', sizeof(op.name)); /* not NUL-terminated */
	CU_ASSERT_EQUAL(rfs_proto_op_encode(&op, &text, &len), -EINVAL);
	CU_ASSERT_PTR_NULL(text);
	free(data);
}

static void test_proto_attr_roundtrip(void)
{
	struct rfs_attr a;
	struct rfs_attr b;
	char *text;
	size_t len;

	tp_sample_attr(&a);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_attr_encode(&a, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_attr_decode(text, len, &b), 0);
	CU_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
	free(text);
	/* no "attr" member: all zero */
	CU_ASSERT_EQUAL(rfs_proto_attr_decode("{}", 2, &b), 0);
	CU_ASSERT(tp_all_zero(&b, sizeof(b)));
}

/* RFS_READDIR_PLUS replies: entries with and without "attr". */
static void test_proto_readdir_plus_attrs(void)
{
	static const char bad[] = "{\"entries\":[{\"ino\":\"01\","
				  "\"cookie\":\"03\",\"name\":\"a\","
				  "\"attr\":7}],\"eof\":true}";
	struct rfs_readdir_reply r;
	struct rfs_readdir_reply b;
	char *text;
	size_t len;
	size_t i;

	tp_sample_readdir(&r, 5);
	for (i = 1; i < r.n; i += 2) {
		r.entries[i].has_attr = true;
		tp_sample_attr(&r.entries[i].attr);
		r.entries[i].attr.ino = r.entries[i].ino;
		r.entries[i].attr.size = i * 4096;
	}
	CU_ASSERT_EQUAL_FATAL(rfs_proto_readdir_encode(&r, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_readdir_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL_FATAL(b.n, r.n);
	for (i = 0; i < r.n; i++) {
		CU_ASSERT_EQUAL(b.entries[i].has_attr, r.entries[i].has_attr);
		CU_ASSERT(memcmp(&b.entries[i].attr, &r.entries[i].attr,
				 sizeof(b.entries[i].attr)) == 0);
		CU_ASSERT_STRING_EQUAL(b.entries[i].name, r.entries[i].name);
	}
	rfs_proto_readdir_release(&b);
	rfs_proto_readdir_release(&r);
	free(text);
	/* an "attr" that is not an object is a malformed reply */
	CU_ASSERT(rfs_proto_readdir_decode(bad, sizeof(bad) - 1, &b) < 0);
	CU_ASSERT_PTR_NULL(b.entries);
}

static void test_proto_readdir_roundtrip(void)
{
	struct rfs_readdir_reply r;
	struct rfs_readdir_reply b;
	char *text;
	size_t len;
	size_t i;

	tp_sample_readdir(&r, RFS_READDIR_MAX);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_readdir_encode(&r, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_readdir_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL_FATAL(b.n, r.n);
	CU_ASSERT(b.eof);
	for (i = 0; i < r.n; i++) {
		CU_ASSERT_EQUAL(b.entries[i].ino, r.entries[i].ino);
		CU_ASSERT_EQUAL(b.entries[i].mode, r.entries[i].mode);
		CU_ASSERT_EQUAL(b.entries[i].cookie, r.entries[i].cookie);
		CU_ASSERT_STRING_EQUAL(b.entries[i].name, r.entries[i].name);
	}
	rfs_proto_readdir_release(&b);
	CU_ASSERT_PTR_NULL(b.entries);
	free(text);
	/* one more entry than allowed is refused by the encoder too */
	rfs_proto_readdir_release(&r);
	tp_sample_readdir(&r, RFS_READDIR_MAX + 1);
	CU_ASSERT_EQUAL(rfs_proto_readdir_encode(&r, &text, &len), -EINVAL);
	rfs_proto_readdir_release(&r);
	rfs_proto_readdir_release(NULL);
	/* empty and not at eof */
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(rfs_proto_readdir_encode(&r, &text, &len), 0);
	CU_ASSERT_STRING_EQUAL(text, "{\"entries\":[],\"eof\":false}");
	CU_ASSERT_EQUAL(rfs_proto_readdir_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL(b.n, 0);
	CU_ASSERT_PTR_NULL(b.entries);
	free(text);
}

static void value_roundtrip(size_t n)
{
	struct rfs_value_reply v = {tp_make_data(n), n};
	struct rfs_value_reply b;
	char *text;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(rfs_proto_value_encode(&v, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_value_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL_FATAL(b.len, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
	CU_ASSERT(memcmp(b.data, v.data, n) == 0);
	CU_ASSERT_EQUAL(b.data[n], '\0');
	rfs_proto_value_release(&b);
	rfs_proto_value_release(&v);
	CU_ASSERT_PTR_NULL(v.data);
	free(text);
}

static void test_proto_value_roundtrip(void)
{
	struct rfs_value_reply v = {NULL, RFS_XATTR_VALUE_MAX + 1};
	char *text;
	size_t len;

	value_roundtrip(0);
	value_roundtrip(1);
	value_roundtrip(2);
	value_roundtrip(3);
	value_roundtrip(RFS_XATTR_VALUE_MAX);
	v.data = tp_make_data(v.len);
	CU_ASSERT_EQUAL(rfs_proto_value_encode(&v, &text, &len), -EINVAL);
	rfs_proto_value_release(&v);
	/* NULL data with len 0 is an empty value */
	CU_ASSERT_EQUAL_FATAL(rfs_proto_value_encode(&v, &text, &len), 0);
	CU_ASSERT_STRING_EQUAL(text, "{\"value\":\"\"}");
	free(text);
}

static void test_proto_statfs_roundtrip(void)
{
	struct rfs_statfs s = {INT64_MAX, 1, (uint64_t)1 << 53, 0,
			       RFS_CHUNK_SIZE_DEFAULT};
	struct rfs_statfs b;
	char *text;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(rfs_proto_statfs_encode(&s, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_statfs_decode(text, len, &b), 0);
	CU_ASSERT(memcmp(&s, &b, sizeof(s)) == 0);
	free(text);
}

/* The unlink/rename reply: {} without an orphan, else its ino. */
static void test_proto_orphan_roundtrip(void)
{
	struct rfs_orphan_reply o = {.orphan = UINT64_MAX - 3};
	struct rfs_orphan_reply b = {.orphan = 1};
	char *text;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(rfs_proto_orphan_encode(&o, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_orphan_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL(b.orphan, o.orphan);
	free(text);
	o.orphan = 0;
	CU_ASSERT_EQUAL_FATAL(rfs_proto_orphan_encode(&o, &text, &len), 0);
	CU_ASSERT_EQUAL(len, 2);
	CU_ASSERT_NSTRING_EQUAL(text, "{}", 2);
	free(text);
	CU_ASSERT_EQUAL(rfs_proto_orphan_decode("{}", 2, &b), 0);
	CU_ASSERT_EQUAL(b.orphan, 0);
	CU_ASSERT(rfs_proto_orphan_decode("{\"orphan\":1}", 12, &b) < 0);
}

static void test_proto_lease_roundtrip(void)
{
	struct rfs_lease l;
	struct rfs_lease b;
	char *text;
	size_t len;

	tp_sample_lease(&l);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_lease_encode(&l, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_lease_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL(b.ino, l.ino);
	CU_ASSERT_EQUAL(b.index, l.index);
	CU_ASSERT_EQUAL(b.chunk_id, l.chunk_id);
	CU_ASSERT_EQUAL(b.version, l.version);
	CU_ASSERT_EQUAL(b.prev_version, l.prev_version);
	CU_ASSERT_EQUAL(b.prev_length, l.prev_length);
	CU_ASSERT_EQUAL(b.chunk_size, l.chunk_size);
	CU_ASSERT_EQUAL_FATAL(b.n_replicas, l.n_replicas);
	tp_check_replicas_equal(b.replicas, l.replicas, l.n_replicas);
	free(text);
	l.n_replicas = RFS_MAX_REPLICAS + 1;
	CU_ASSERT_EQUAL(rfs_proto_lease_encode(&l, &text, &len), -EINVAL);
}

static void test_proto_layout_roundtrip(void)
{
	struct rfs_layout l;
	struct rfs_layout b;
	char *text;
	size_t len;
	size_t i;

	tp_sample_layout(&l, 50);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_layout_encode(&l, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_layout_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL(b.ino, l.ino);
	CU_ASSERT_EQUAL(b.size, l.size);
	CU_ASSERT_EQUAL(b.chunk_size, l.chunk_size);
	CU_ASSERT_EQUAL(b.goal, l.goal);
	CU_ASSERT_EQUAL_FATAL(b.n_chunks, l.n_chunks);
	for (i = 0; i < l.n_chunks; i++) {
		CU_ASSERT_EQUAL(b.chunks[i].index, l.chunks[i].index);
		CU_ASSERT_EQUAL(b.chunks[i].chunk_id, l.chunks[i].chunk_id);
		CU_ASSERT_EQUAL(b.chunks[i].version, l.chunks[i].version);
		CU_ASSERT_EQUAL(b.chunks[i].length, l.chunks[i].length);
		CU_ASSERT_EQUAL_FATAL(b.chunks[i].n_replicas,
				      l.chunks[i].n_replicas);
		tp_check_replicas_equal(b.chunks[i].replicas,
					l.chunks[i].replicas,
					l.chunks[i].n_replicas);
	}
	rfs_proto_layout_release(&b);
	CU_ASSERT_PTR_NULL(b.chunks);
	free(text);
	l.chunks[7].n_replicas = RFS_MAX_REPLICAS + 1;
	CU_ASSERT_EQUAL(rfs_proto_layout_encode(&l, &text, &len), -EINVAL);
	rfs_proto_layout_release(&l);
	rfs_proto_layout_release(NULL);
}

static void test_proto_server_roundtrip(void)
{
	struct rfs_server s;
	struct rfs_server b;
	char *text;
	size_t len;
	unsigned i;

	for (i = 0; i < 8; i++) {
		tp_fill_server(&s, i);
		CU_ASSERT_EQUAL_FATAL(rfs_proto_server_encode(&s, &text, &len),
				      0);
		CU_ASSERT_EQUAL_FATAL(rfs_proto_server_decode(text, len, &b),
				      0);
		tp_check_server_equal(&s, &b);
		free(text);
	}
	tp_fill_server(&s, 0);
	CU_ASSERT_EQUAL(strlen(s.id), RFS_SERVER_ID_MAX);
	tp_fill_server(&s, 1);
	s.state = 99;
	CU_ASSERT_EQUAL(rfs_proto_server_encode(&s, &text, &len), -EINVAL);
}

static void test_proto_status_roundtrip(void)
{
	struct rfs_status s;
	struct rfs_status b;
	char *text;
	size_t len;
	size_t i;

	memset(&s, 0, sizeof(s));
	snprintf(s.fsid, sizeof(s.fsid), "%s",
		 "0f8c2d3e-8a44-4b55-9c1d-1234567890ab");
	s.chunk_size = RFS_CHUNK_SIZE_DEFAULT;
	s.goal = 2;
	s.ring_epoch = 0xdeadbeefcafef00dull;
	s.inodes = 1000000;
	s.chunks = 2000000;
	s.n_servers = 40;
	s.servers = calloc(s.n_servers, sizeof(*s.servers));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.servers);
	for (i = 0; i < s.n_servers; i++)
		tp_fill_server(&s.servers[i], (unsigned)i);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_status_encode(&s, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_status_decode(text, len, &b), 0);
	CU_ASSERT_STRING_EQUAL(b.fsid, s.fsid);
	CU_ASSERT_EQUAL(b.chunk_size, s.chunk_size);
	CU_ASSERT_EQUAL(b.goal, s.goal);
	CU_ASSERT_EQUAL(b.ring_epoch, s.ring_epoch);
	CU_ASSERT_EQUAL(b.inodes, s.inodes);
	CU_ASSERT_EQUAL(b.chunks, s.chunks);
	CU_ASSERT_EQUAL_FATAL(b.n_servers, s.n_servers);
	for (i = 0; i < s.n_servers; i++)
		tp_check_server_equal(&b.servers[i], &s.servers[i]);
	rfs_proto_status_release(&b);
	rfs_proto_status_release(&s);
	rfs_proto_status_release(NULL);
	free(text);
}

static void test_proto_inventory_roundtrip(void)
{
	struct rfs_inventory inv;
	struct rfs_inventory b;
	char *text;
	size_t len;
	size_t i;

	memset(&inv, 0, sizeof(inv));
	snprintf(inv.server_id, sizeof(inv.server_id), "cs-1");
	inv.n = 20000;
	inv.entries = calloc(inv.n, sizeof(*inv.entries));
	CU_ASSERT_PTR_NOT_NULL_FATAL(inv.entries);
	for (i = 0; i < inv.n; i++) {
		inv.entries[i].chunk_id = UINT64_MAX / (i + 1);
		inv.entries[i].version = UINT32_MAX - (uint32_t)i;
		inv.entries[i].length = i * 65536;
	}
	CU_ASSERT_EQUAL_FATAL(rfs_proto_inventory_encode(&inv, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_inventory_decode(text, len, &b), 0);
	CU_ASSERT_STRING_EQUAL(b.server_id, inv.server_id);
	CU_ASSERT_EQUAL_FATAL(b.n, inv.n);
	CU_ASSERT(
	    memcmp(b.entries, inv.entries, inv.n * sizeof(*inv.entries)) == 0);
	rfs_proto_inventory_release(&b);
	rfs_proto_inventory_release(&inv);
	rfs_proto_inventory_release(NULL);
	free(text);
}

static void test_proto_error_roundtrip(void)
{
	static const int errs[] = {ENOENT,	 EEXIST, ENOTEMPTY, EPROTO,
				   ENAMETOOLONG, E2BIG,	 ENOSPC,    EIO};
	struct rfs_error_reply e;
	struct rfs_error_reply b;
	char *text;
	size_t len;
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		memset(&e, 0, sizeof(e));
		e.err = errs[i];
		snprintf(e.message, sizeof(e.message), "no \"such\" file\n%zu",
			 i);
		CU_ASSERT_EQUAL_FATAL(rfs_proto_error_encode(&e, &text, &len),
				      0);
		CU_ASSERT_EQUAL_FATAL(rfs_proto_error_decode(text, len, &b), 0);
		CU_ASSERT_EQUAL(b.err, e.err);
		CU_ASSERT_STRING_EQUAL(b.message, e.message);
		free(text);
	}
	/* the wire form carries the name */
	e.err = ENOENT;
	snprintf(e.message, sizeof(e.message), "no such inode");
	CU_ASSERT_EQUAL_FATAL(rfs_proto_error_encode(&e, &text, &len), 0);
	CU_ASSERT_STRING_EQUAL(text, "{\"error\":\"ENOENT\","
				     "\"message\":\"no such inode\"}");
	free(text);
	/* a message that is not UTF-8 still makes a valid reply */
	snprintf(e.message, sizeof(e.message), "bad name \xff\xfe.");
	CU_ASSERT_EQUAL_FATAL(rfs_proto_error_encode(&e, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_error_decode(text, len, &b), 0);
	CU_ASSERT_STRING_EQUAL(b.message, "bad name ??.");
	free(text);
	/* a full-length message (not NUL-terminated in its array) */
	memset(e.message, 'm', sizeof(e.message));
	CU_ASSERT_EQUAL_FATAL(rfs_proto_error_encode(&e, &text, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_error_decode(text, len, &b), 0);
	CU_ASSERT_EQUAL(strlen(b.message), RFS_ERR_MESSAGE_MAX - 1);
	free(text);
}

static void test_proto_error_decode(void)
{
	struct rfs_error_reply e;
	struct tp_sbuf sb = {0};
	size_t i;

	CU_ASSERT_EQUAL(
	    rfs_proto_error_decode("{\"error\":\"EWHATEVER\"}", 21, &e), 0);
	CU_ASSERT_EQUAL(e.err, EIO);
	CU_ASSERT_EQUAL(rfs_proto_error_decode("{\"error\":\"\"}", 12, &e), 0);
	CU_ASSERT_EQUAL(e.err, EIO);
	/* no name at all: 0, the caller maps the HTTP status instead */
	CU_ASSERT_EQUAL(rfs_proto_error_decode("{\"message\":\"m\"}", 15, &e),
			0);
	CU_ASSERT_EQUAL(e.err, 0);
	CU_ASSERT_STRING_EQUAL(e.message, "m");
	/* a long multi-byte message is cut on a character boundary */
	tp_sb_str(&sb, "{\"error\":\"ENOSPC\",\"message\":\"");
	for (i = 0; i < 600; i++)
		tp_sb_str(&sb, "\xc3\xa9");
	tp_sb_str(&sb, "\"}");
	CU_ASSERT_EQUAL(rfs_proto_error_decode(sb.p, sb.len, &e), 0);
	CU_ASSERT_EQUAL(e.err, ENOSPC);
	CU_ASSERT_EQUAL(strlen(e.message), RFS_ERR_MESSAGE_MAX - 2);
	CU_ASSERT_EQUAL((unsigned char)e.message[0], 0xc3);
	CU_ASSERT_EQUAL((unsigned char)e.message[RFS_ERR_MESSAGE_MAX - 3],
			0xa9);
	free(sb.p);
}

/* --- names and ids ------------------------------------------------------ */
static void test_proto_check_name(void)
{
	char name[RFS_NAME_MAX + 2];

	CU_ASSERT_EQUAL(rfs_proto_check_name("", 0), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name(NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name(".", 1), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name("..", 2), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name("...", 3), 0);
	CU_ASSERT_EQUAL(rfs_proto_check_name(".a", 2), 0);
	CU_ASSERT_EQUAL(rfs_proto_check_name("..a", 3), 0);
	CU_ASSERT_EQUAL(rfs_proto_check_name("a", 1), 0);
	CU_ASSERT_EQUAL(rfs_proto_check_name("a/b", 3), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name("/", 1), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name("a/", 2), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name("a\0b", 3), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name("ab\0", 3), -EINVAL);
	/* only len bytes count: these two are ".." */
	CU_ASSERT_EQUAL(rfs_proto_check_name("..x", 2), -EINVAL);
	CU_ASSERT_EQUAL(rfs_proto_check_name("\xff\xfe", 2), 0);
	tp_utf8_name(name);
	CU_ASSERT_EQUAL(rfs_proto_check_name(name, RFS_NAME_MAX), 0);
	memset(name, 'x', sizeof(name));
	CU_ASSERT_EQUAL(rfs_proto_check_name(name, RFS_NAME_MAX), 0);
	CU_ASSERT_EQUAL(rfs_proto_check_name(name, RFS_NAME_MAX + 1),
			-ENAMETOOLONG);
	CU_ASSERT_EQUAL(rfs_proto_check_name(name, 300), -ENAMETOOLONG);
}

static void test_proto_server_id(void)
{
	char id[RFS_SERVER_ID_MAX + 2];

	CU_ASSERT_TRUE(rfs_proto_server_id_is_valid("cs-1"));
	CU_ASSERT_TRUE(rfs_proto_server_id_is_valid("A.b_c-9"));
	CU_ASSERT_TRUE(rfs_proto_server_id_is_valid("."));
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid(""));
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid(NULL));
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid("a b"));
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid("a/b"));
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid("a:b"));
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid("a\n"));
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid("\xc3\xa9"));
	memset(id, 'z', sizeof(id));
	id[RFS_SERVER_ID_MAX] = '\0';
	CU_ASSERT_TRUE(rfs_proto_server_id_is_valid(id));
	id[RFS_SERVER_ID_MAX] = 'z';
	id[RFS_SERVER_ID_MAX + 1] = '\0';
	CU_ASSERT_FALSE(rfs_proto_server_id_is_valid(id));
}

/* --- json.c directly ---------------------------------------------------- */
static void test_proto_json_accessors(void)
{
	static const char text[] = "{\"h\":\"ABCDEF0123456789\",\"s\":\"abc\","
				   "\"n\":-3,\"b\":true}";
	json_t *obj;
	uint64_t u;
	int64_t i;
	char buf[4];
	char *out;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(rfs_json_parse(text, sizeof(text) - 1, &obj), 0);
	CU_ASSERT_EQUAL(rfs_json_get_hex64(obj, "h", &u), 0);
	CU_ASSERT_EQUAL(u, 0xabcdef0123456789ull);
	CU_ASSERT_EQUAL(rfs_json_get_hex64(obj, "missing", &u), -ENOENT);
	CU_ASSERT_EQUAL(rfs_json_get_str(obj, "s", buf, 3, -E2BIG), 0);
	CU_ASSERT_STRING_EQUAL(buf, "abc");
	CU_ASSERT_EQUAL(rfs_json_get_str(obj, "s", buf, 2, -E2BIG), -E2BIG);
	CU_ASSERT_EQUAL(rfs_json_get_i64(obj, "n", &i), 0);
	CU_ASSERT_EQUAL(i, -3);
	CU_ASSERT_EQUAL(rfs_json_get_u64(obj, "n", &u), -EPROTO);
	CU_ASSERT_EQUAL(rfs_json_get_u64(obj, "b", &u), -EPROTO);
	CU_ASSERT_EQUAL(rfs_json_set_u64(obj, "big", (uint64_t)INT64_MAX + 1),
			-ERANGE);
	CU_ASSERT_EQUAL(rfs_json_set_strn(obj, "bad", "\xff", 1), -EILSEQ);
	CU_ASSERT_EQUAL(rfs_json_set_strn(obj, "nul", "a\0b", 3), -EILSEQ);
	CU_ASSERT_EQUAL(rfs_json_set_hex64(obj, "h", 0x1f), 0);
	CU_ASSERT_EQUAL(rfs_json_dump(obj, &out, &len), 0);
	CU_ASSERT_STRING_EQUAL(out, "{\"h\":\"000000000000001f\",\"s\":\"abc\","
				    "\"n\":-3,\"b\":true}");
	CU_ASSERT_EQUAL(len, strlen(out));
	free(out);
	json_decref(obj);
	CU_ASSERT_EQUAL(rfs_json_parse("[]", 2, &obj), -EPROTO);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_proto_op_names),
	    RFS_TEST(test_proto_op_roundtrip_all_types),
	    RFS_TEST(test_proto_op_roundtrip_sparse),
	    RFS_TEST(test_proto_op_encode_invalid),
	    RFS_TEST(test_proto_attr_roundtrip),
	    RFS_TEST(test_proto_readdir_roundtrip),
	    RFS_TEST(test_proto_readdir_plus_attrs),
	    RFS_TEST(test_proto_value_roundtrip),
	    RFS_TEST(test_proto_statfs_roundtrip),
	    RFS_TEST(test_proto_orphan_roundtrip),
	    RFS_TEST(test_proto_lease_roundtrip),
	    RFS_TEST(test_proto_layout_roundtrip),
	    RFS_TEST(test_proto_server_roundtrip),
	    RFS_TEST(test_proto_status_roundtrip),
	    RFS_TEST(test_proto_inventory_roundtrip),
	    RFS_TEST(test_proto_error_roundtrip),
	    RFS_TEST(test_proto_error_decode),
	    RFS_TEST(test_proto_check_name),
	    RFS_TEST(test_proto_server_id),
	    RFS_TEST(test_proto_json_accessors),
	};
	static const struct rfs_test_suite suite = {
	    .name = "proto",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
