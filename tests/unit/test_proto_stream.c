/*
 * Equivalence of the stream encoders (common/proto_stream.c) with the
 * jansson-tree encoders (rfs_proto_*_encode_tree, common/proto_int.h):
 * for seeded pseudo-random structs both give the same text (byte for
 * byte, and json_equal once parsed) or the same error, and decoding the
 * stream text gives back the struct.
 */
#include <config.h>

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/proto.h"
#include "common/proto_int.h"
#include "tests/unit/proto_fixtures.h"
#include "tests/unit/runner.h"

#define N_ROUNDS 400

typedef int (*encode_fn)(const void *st, char **out, size_t *out_len);

/*
 * Encode st with both encoders; assert the same result and, on success,
 * the same text. Returns the rc; *out gets the stream text (free it).
 */
static int encode_both(const void *st, encode_fn stream, encode_fn tree,
		       char **out, size_t *out_len)
{
	char *a = NULL;
	char *b = NULL;
	size_t la = 0;
	size_t lb = 0;
	json_t *ja = NULL;
	json_t *jb = NULL;
	int ra = stream(st, &a, &la);
	int rb = tree(st, &b, &lb);

	CU_ASSERT_EQUAL(ra, rb);
	*out = NULL;
	if (ra == 0 && rb == 0) {
		CU_ASSERT_EQUAL(la, lb);
		CU_ASSERT_STRING_EQUAL(a, b);
		CU_ASSERT_EQUAL_FATAL(rfs_json_parse(a, la, &ja), 0);
		CU_ASSERT_EQUAL_FATAL(rfs_json_parse(b, lb, &jb), 0);
		CU_ASSERT(json_equal(ja, jb));
		json_decref(ja);
		json_decref(jb);
		*out = a;
		*out_len = la;
		a = NULL;
	}
	free(a);
	free(b);
	return ra;
}

/* Wrappers with one signature. */
static int op_stream(const void *st, char **o, size_t *l)
{
	return rfs_proto_op_encode(st, o, l);
}
static int op_tree(const void *st, char **o, size_t *l)
{
	return rfs_proto_op_encode_tree(st, o, l);
}
static int attr_stream(const void *st, char **o, size_t *l)
{
	return rfs_proto_attr_encode(st, o, l);
}
static int attr_tree(const void *st, char **o, size_t *l)
{
	return rfs_proto_attr_encode_tree(st, o, l);
}
static int rd_stream(const void *st, char **o, size_t *l)
{
	return rfs_proto_readdir_encode(st, o, l);
}
static int rd_tree(const void *st, char **o, size_t *l)
{
	return rfs_proto_readdir_encode_tree(st, o, l);
}

/* --- random values --------------------------------------------------- */
static uint64_t rnd(uint64_t *s, uint64_t n)
{
	return tp_rng_next(s) % n;
}

/* 0, 1, max or anything up to max, equally likely. */
static uint64_t r_u64(uint64_t *s, uint64_t max)
{
	switch (rnd(s, 4)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return max;
	default:
		return tp_rng_next(s) % max;
	}
}

static int64_t r_i64(uint64_t *s)
{
	switch (rnd(s, 4)) {
	case 0:
		return INT64_MIN;
	case 1:
		return INT64_MAX;
	case 2:
		return -(int64_t)rnd(s, 1000000);
	default:
		return (int64_t)tp_rng_next(s);
	}
}

/* A name of odd characters: quotes, backslashes, controls, UTF-8, and
 * (bad != 0) sometimes a byte that makes it invalid UTF-8. */
static void r_name(uint64_t *s, char *name, bool bad)
{
	static const char *const pieces[] = {
	    "a",
	    "Z",
	    "\"",
	    "\\",
	    "\n",
	    "\x01",
	    "\x1f",
	    "\t",
	    " ",
	    "x",
	    "\xc3\xa9",
	    "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80",
	    "\x7f",
	    "{}[]:,",
	};
	size_t want = rnd(s, 3) == 0 ? RFS_NAME_MAX : 1 + rnd(s, RFS_NAME_MAX);
	size_t len = 0;
	const char *p;

	while (len < want) {
		p = pieces[rnd(s, sizeof(pieces) / sizeof(pieces[0]))];
		if (len + strlen(p) > RFS_NAME_MAX)
			p = "q";
		memcpy(name + len, p, strlen(p));
		len += strlen(p);
	}
	if (bad && rnd(s, 4) == 0)
		name[rnd(s, len)] = (char)0xff;
	name[len] = '\0';
}

static void r_attr(uint64_t *s, struct rfs_attr *a)
{
	a->ino = r_u64(s, UINT64_MAX);
	a->mode = (uint32_t)r_u64(s, UINT32_MAX);
	a->uid = (uint32_t)r_u64(s, UINT32_MAX);
	a->gid = (uint32_t)r_u64(s, UINT32_MAX);
	a->nlink = (uint32_t)r_u64(s, UINT32_MAX);
	a->size = r_u64(s, INT64_MAX);
	a->atime_ns = r_i64(s);
	a->mtime_ns = r_i64(s);
	a->ctime_ns = r_i64(s);
	a->generation = r_u64(s, UINT64_MAX);
	a->goal = (uint32_t)r_u64(s, UINT32_MAX);
}

/* Each member set (random) or zero (left out), for every op type. */
static void r_op(uint64_t *s, struct rfs_op *op, char *data)
{
	memset(op, 0, sizeof(*op));
	op->type = 1 + (uint32_t)rnd(s, RFS_OP_COUNT - 1);
#define MAYBE(expr) (rnd(s, 3) ? (expr) : 0)
	op->ino = MAYBE(r_u64(s, UINT64_MAX));
	op->parent = MAYBE(r_u64(s, UINT64_MAX));
	if (rnd(s, 3))
		r_name(s, op->name, true);
	op->newparent = MAYBE(r_u64(s, UINT64_MAX));
	if (rnd(s, 3))
		r_name(s, op->newname, true);
	op->mode = (uint32_t)MAYBE(r_u64(s, UINT32_MAX));
	op->uid = (uint32_t)MAYBE(r_u64(s, UINT32_MAX));
	op->gid = (uint32_t)MAYBE(r_u64(s, UINT32_MAX));
	op->flags = (uint32_t)MAYBE(r_u64(s, UINT32_MAX));
	op->valid = (uint32_t)MAYBE(r_u64(s, UINT32_MAX));
	op->size = MAYBE(r_u64(s, INT64_MAX));
	op->atime_ns = MAYBE(r_i64(s));
	op->mtime_ns = MAYBE(r_i64(s));
	op->cookie = MAYBE(r_u64(s, UINT64_MAX));
	op->limit = (uint32_t)MAYBE(r_u64(s, UINT32_MAX));
	op->index = MAYBE(r_u64(s, INT64_MAX));
	op->offset = MAYBE(r_u64(s, INT64_MAX));
	op->chunk_id = MAYBE(r_u64(s, UINT64_MAX));
	op->version = (uint32_t)MAYBE(r_u64(s, UINT32_MAX));
	op->length = MAYBE(r_u64(s, INT64_MAX));
	op->now_ns = MAYBE(r_i64(s));
	op->session = MAYBE(r_u64(s, UINT64_MAX));
#undef MAYBE
	if (rnd(s, 2)) {
		op->data = data;
		op->data_len = rnd(s, 300);
	}
	op->n_replicas = (uint32_t)rnd(s, RFS_MAX_REPLICAS + 1);
	tp_fill_replicas(op->replicas, op->n_replicas, (unsigned)rnd(s, 100));
	if (rnd(s, 2))
		tp_fill_server(&op->server, (unsigned)rnd(s, 100));
}

static void test_proto_stream_op_equivalent(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char *data = tp_make_data(300);
	struct rfs_op op;
	struct rfs_op back;
	char *text;
	size_t len;
	int i;
	int rc;

	for (i = 0; i < N_ROUNDS * 4; i++) {
		r_op(&seed, &op, data);
		rc = encode_both(&op, op_stream, op_tree, &text, &len);
		CU_ASSERT(rc == 0 || rc == -EINVAL);
		if (rc < 0)
			continue;
		CU_ASSERT_EQUAL_FATAL(rfs_proto_op_decode(text, len, &back), 0);
		tp_check_op_equal(&op, &back);
		rfs_proto_op_release(&back);
		free(text);
	}
	free(data);
}

/* Values no decoder would accept: both encoders refuse them alike. */
static void test_proto_stream_op_errors_equivalent(void)
{
	char *data = tp_make_data(RFS_XATTR_VALUE_MAX + 1);
	struct rfs_op op;
	char *text;
	size_t len;
	int i;

	for (i = 0; i < 8; i++) {
		memset(&op, 0, sizeof(op));
		op.type = RFS_OP_SETXATTR;
		switch (i) {
		case 0:
			op.size = (uint64_t)INT64_MAX + 1;
			break;
		case 1:
			memset(op.name, 'a', sizeof(op.name)); /* no NUL */
			break;
		case 2:
			op.type = RFS_OP_COUNT;
			break;
		case 3:
			op.data = data;
			op.data_len = RFS_XATTR_VALUE_MAX + 1;
			break;
		case 4:
			op.n_replicas = 1;
			memcpy(op.replicas[0].id, "bad id", 7);
			break;
		case 5:
			op.server.state = 99;
			break;
		case 6:
			op.data_len = 3; /* without data */
			break;
		default:
			op.n_replicas = RFS_MAX_REPLICAS + 1;
			break;
		}
		CU_ASSERT_EQUAL(
		    encode_both(&op, op_stream, op_tree, &text, &len), -EINVAL);
	}
	free(data);
}

static void test_proto_stream_attr_equivalent(void)
{
	uint64_t seed = 42;
	struct rfs_attr a;
	struct rfs_attr back;
	char *text;
	size_t len;
	int i;

	for (i = 0; i < N_ROUNDS; i++) {
		memset(&a, 0, sizeof(a));
		if (i > 0)
			r_attr(&seed, &a);
		CU_ASSERT_EQUAL_FATAL(
		    encode_both(&a, attr_stream, attr_tree, &text, &len), 0);
		CU_ASSERT_EQUAL_FATAL(rfs_proto_attr_decode(text, len, &back),
				      0);
		CU_ASSERT(memcmp(&a, &back, sizeof(a)) == 0);
		free(text);
	}
	a.size = (uint64_t)INT64_MAX + 1;
	CU_ASSERT_EQUAL(encode_both(&a, attr_stream, attr_tree, &text, &len),
			-EINVAL);
}

static void check_readdir_back(const struct rfs_readdir_reply *r,
			       const char *text, size_t len)
{
	struct rfs_readdir_reply back;
	const struct rfs_dirent *a;
	const struct rfs_dirent *b;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(rfs_proto_readdir_decode(text, len, &back), 0);
	CU_ASSERT_EQUAL(back.eof, r->eof);
	CU_ASSERT_EQUAL_FATAL(back.n, r->n);
	for (i = 0; i < r->n; i++) {
		a = &r->entries[i];
		b = &back.entries[i];
		CU_ASSERT_EQUAL(a->ino, b->ino);
		CU_ASSERT_EQUAL(a->mode, b->mode);
		CU_ASSERT_EQUAL(a->cookie, b->cookie);
		CU_ASSERT_STRING_EQUAL(a->name, b->name);
		CU_ASSERT_EQUAL(a->has_attr, b->has_attr);
		if (a->has_attr)
			CU_ASSERT(memcmp(&a->attr, &b->attr, sizeof(a->attr)) ==
				  0);
	}
	rfs_proto_readdir_release(&back);
}

static void r_readdir(uint64_t *s, struct rfs_readdir_reply *r, size_t n,
		      bool plus)
{
	struct rfs_dirent *d;
	size_t i;

	r->entries = calloc(n ? n : 1, sizeof(*r->entries));
	CU_ASSERT_FATAL(r->entries != NULL);
	r->n = n;
	r->eof = rnd(s, 2);
	for (i = 0; i < n; i++) {
		d = &r->entries[i];
		d->ino = r_u64(s, UINT64_MAX);
		d->mode = (uint32_t)r_u64(s, UINT32_MAX);
		d->cookie = r_u64(s, UINT64_MAX);
		r_name(s, d->name, true);
		d->has_attr = plus && rnd(s, 8);
		if (d->has_attr)
			r_attr(s, &d->attr);
	}
}

static void test_proto_stream_readdir_equivalent(void)
{
	static const size_t sizes[] = {0, 1, 2, 17, RFS_READDIR_MAX};
	uint64_t seed = 7;
	struct rfs_readdir_reply r;
	char *text;
	size_t len;
	size_t i;
	int plus;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (plus = 0; plus < 2; plus++) {
			r_readdir(&seed, &r, sizes[i], plus);
			CU_ASSERT_EQUAL_FATAL(
			    encode_both(&r, rd_stream, rd_tree, &text, &len),
			    0);
			check_readdir_back(&r, text, len);
			free(text);
			rfs_proto_readdir_release(&r);
		}
	}
}

static void test_proto_stream_readdir_errors_equivalent(void)
{
	uint64_t seed = 11;
	struct rfs_readdir_reply r;
	char *text;
	size_t len;

	r_readdir(&seed, &r, RFS_READDIR_MAX, true);
	r.n = RFS_READDIR_MAX + 1; /* not read: refused first */
	CU_ASSERT_EQUAL(encode_both(&r, rd_stream, rd_tree, &text, &len),
			-EINVAL);
	r.n = 3;
	r.entries[2].has_attr = true;
	r.entries[2].attr.size = UINT64_MAX;
	CU_ASSERT_EQUAL(encode_both(&r, rd_stream, rd_tree, &text, &len),
			-EINVAL);
	memset(r.entries[1].name, 'x', sizeof(r.entries[1].name));
	CU_ASSERT_EQUAL(encode_both(&r, rd_stream, rd_tree, &text, &len),
			-EINVAL);
	rfs_proto_readdir_release(&r);
}

static const struct rfs_test stream_tests[] = {
    RFS_TEST(test_proto_stream_op_equivalent),
    RFS_TEST(test_proto_stream_op_errors_equivalent),
    RFS_TEST(test_proto_stream_attr_equivalent),
    RFS_TEST(test_proto_stream_readdir_equivalent),
    RFS_TEST(test_proto_stream_readdir_errors_equivalent),
};

int main(void)
{
	static const struct rfs_test_suite suites[] = {
	    {.name = "proto_stream", RFS_TESTS(stream_tests)},
	};

	return rfs_test_run(suites, sizeof(suites) / sizeof(suites[0]));
}
