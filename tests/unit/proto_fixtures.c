/*
 * Shared fixtures for the proto unit tests (test_proto.c,
 * test_proto_malformed.c): every decoder behind one generic interface,
 * sample structs with every field set, and small text builders. Test code
 * only; failures are reported through CUnit assertions.
 */
#include <config.h>
#include "tests/unit/proto_fixtures.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- helpers ------------------------------------------------------------ */
/* Deterministic xorshift64 so failures reproduce. */
uint64_t tp_rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

bool tp_all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

void tp_sb_add(struct tp_sbuf *sb, const char *s, size_t n)
{
	char *np;

	if (sb->len + n + 1 > sb->cap) {
		sb->cap = (sb->len + n + 1) * 2;
		np = realloc(sb->p, sb->cap);
		CU_ASSERT_PTR_NOT_NULL_FATAL(np);
		sb->p = np;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void tp_sb_str(struct tp_sbuf *sb, const char *s)
{
	tp_sb_add(sb, s, strlen(s));
}

/* head + n copies of item separated by ',' + tail, malloc'd. */
char *tp_repeat_json(const char *head, const char *item, size_t n,
		     const char *tail)
{
	struct tp_sbuf sb = {0};
	size_t i;

	tp_sb_str(&sb, head);
	for (i = 0; i < n; i++) {
		if (i)
			tp_sb_str(&sb, ",");
		tp_sb_str(&sb, item);
	}
	tp_sb_str(&sb, tail);
	return sb.p;
}

#define DEC_WRAP(n, T)                                                         \
	static int dec_##n(const char *b, size_t l, void *o)                   \
	{                                                                      \
		return rfs_proto_##n##_decode(b, l, (T *)o);                   \
	}
#define REL_WRAP(n, T)                                                         \
	static void rel_##n(void *o)                                           \
	{                                                                      \
		rfs_proto_##n##_release((T *)o);                               \
	}
DEC_WRAP(op, struct rfs_op)
DEC_WRAP(attr, struct rfs_attr)
DEC_WRAP(readdir, struct rfs_readdir_reply)
DEC_WRAP(value, struct rfs_value_reply)
DEC_WRAP(statfs, struct rfs_statfs)
DEC_WRAP(lease, struct rfs_lease)
DEC_WRAP(layout, struct rfs_layout)
DEC_WRAP(server, struct rfs_server)
DEC_WRAP(status, struct rfs_status)
DEC_WRAP(inventory, struct rfs_inventory)
DEC_WRAP(error, struct rfs_error_reply)
REL_WRAP(op, struct rfs_op)
REL_WRAP(readdir, struct rfs_readdir_reply)
REL_WRAP(value, struct rfs_value_reply)
REL_WRAP(layout, struct rfs_layout)
REL_WRAP(status, struct rfs_status)
REL_WRAP(inventory, struct rfs_inventory)

const struct tp_codec tp_c_op = {"op", sizeof(struct rfs_op), dec_op, rel_op};
const struct tp_codec tp_c_attr = {"attr", sizeof(struct rfs_attr), dec_attr,
				   NULL};
const struct tp_codec tp_c_readdir = {
    "readdir", sizeof(struct rfs_readdir_reply), dec_readdir, rel_readdir};
const struct tp_codec tp_c_value = {"value", sizeof(struct rfs_value_reply),
				    dec_value, rel_value};
const struct tp_codec tp_c_statfs = {"statfs", sizeof(struct rfs_statfs),
				     dec_statfs, NULL};
const struct tp_codec tp_c_lease = {"lease", sizeof(struct rfs_lease),
				    dec_lease, NULL};
const struct tp_codec tp_c_layout = {"layout", sizeof(struct rfs_layout),
				     dec_layout, rel_layout};
const struct tp_codec tp_c_server = {"server", sizeof(struct rfs_server),
				     dec_server, NULL};
const struct tp_codec tp_c_status = {"status", sizeof(struct rfs_status),
				     dec_status, rel_status};
const struct tp_codec tp_c_inventory = {
    "inventory", sizeof(struct rfs_inventory), dec_inventory, rel_inventory};
const struct tp_codec tp_c_error = {"error", sizeof(struct rfs_error_reply),
				    dec_error, NULL};

const struct tp_codec *const tp_all_codecs[] = {
    &tp_c_op,	  &tp_c_attr,	   &tp_c_readdir, &tp_c_value,
    &tp_c_statfs, &tp_c_lease,	   &tp_c_layout,  &tp_c_server,
    &tp_c_status, &tp_c_inventory, &tp_c_error,
};
const size_t tp_n_codecs = sizeof(tp_all_codecs) / sizeof(tp_all_codecs[0]);

/*
 * Decode buf[0..len) from an exact-size heap copy (so ASan sees any read
 * past the end) into a struct pre-filled with junk. On failure the struct
 * must be all zero (nothing to release); on success it is released.
 */
int tp_decode_check(const struct tp_codec *c, const char *buf, size_t len)
{
	char *copy = malloc(len ? len : 1);
	void *st = malloc(c->size);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	if (len)
		memcpy(copy, buf, len);
	memset(st, 0x5a, c->size);
	rc = c->decode(copy, len, st);
	if (rc == 0) {
		if (c->release)
			c->release(st);
	} else {
		CU_ASSERT(tp_all_zero(st, c->size));
	}
	free(st);
	free(copy);
	return rc;
}

/* Decode a NUL-terminated text and expect rc; report which text failed. */
void tp_expect_rc(const struct tp_codec *c, const char *text, int want)
{
	int rc = tp_decode_check(c, text, strlen(text));

	CU_ASSERT_EQUAL(rc, want);
	if (rc != want)
		fprintf(stderr, "\n  %s decode of %.200s: got %d want %d\n",
			c->what, text, rc, want);
}

/* --- sample values ------------------------------------------------------ */
/* 255 bytes of valid multi-byte UTF-8: "é" x 127 then "z". */
void tp_utf8_name(char *name)
{
	size_t i;

	for (i = 0; i + 1 < RFS_NAME_MAX; i += 2) {
		name[i] = (char)0xc3;
		name[i + 1] = (char)0xa9;
	}
	name[RFS_NAME_MAX - 1] = 'z';
	name[RFS_NAME_MAX] = '\0';
}

/* 255 bytes that are not UTF-8 (travel as base64). */
void tp_binary_name(char *name)
{
	size_t i;

	for (i = 0; i < RFS_NAME_MAX; i++)
		name[i] = (char)(0x80 + i % 64);
	name[RFS_NAME_MAX] = '\0';
}

void tp_fill_replicas(struct rfs_replica *r, uint32_t n, unsigned seed)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		snprintf(r[i].id, sizeof(r[i].id), "cs-%u.%u_X", seed, i);
		snprintf(r[i].addr, sizeof(r[i].addr), "127.0.0.1:%u",
			 9500 + seed + i);
		r[i].up = (i + seed) % 2;
	}
}

void tp_fill_server(struct rfs_server *s, unsigned i)
{
	memset(s, 0, sizeof(*s));
	/* a maximum-length id of the whole alphabet on the first one */
	if (i == 0)
		snprintf(s->id, sizeof(s->id), "%s",
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._");
	else
		snprintf(s->id, sizeof(s->id), "server-%u", i);
	snprintf(s->addr, sizeof(s->addr), "[::1]:%u", 9000 + i);
	snprintf(s->zone, sizeof(s->zone), "zone-%u", i % 3);
	s->weight = i + 1;
	s->capacity = ((uint64_t)1 << 50) + i;
	s->used = ((uint64_t)1 << 40) + i;
	s->chunks = 123456789ull * (i + 1);
	s->load = UINT32_MAX - i;
	s->state = i % 4;
	s->heartbeat_age_ms = i % 2 ? -1 : 2000 + (int64_t)i;
}

/* Every field set, values chosen near their limits. */
void tp_fill_op(struct rfs_op *op, uint32_t type, char *data, size_t data_len)
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	op->ino = 0xfedcba9876543210ull;
	op->parent = 0x8000000000000001ull;
	tp_utf8_name(op->name);
	op->newparent = UINT64_MAX;
	tp_binary_name(op->newname);
	op->mode = S_IFREG | S_ISUID | 0644;
	op->uid = UINT32_MAX;
	op->gid = 4000000000u;
	op->flags = RFS_RENAME_NOREPLACE | RFS_RENAME_EXCHANGE;
	op->valid = 0xff;
	op->size = INT64_MAX;
	op->atime_ns = INT64_MIN;
	op->mtime_ns = -1;
	op->data = data;
	op->data_len = data_len;
	op->cookie = 0x0123456789abcdefull;
	op->limit = RFS_READDIR_MAX;
	op->index = (uint64_t)1 << 50;
	op->offset = (uint64_t)1 << 62;
	op->chunk_id = UINT64_MAX - 1;
	op->version = UINT32_MAX;
	op->length = RFS_CHUNK_SIZE_MAX;
	op->n_replicas = RFS_MAX_REPLICAS;
	tp_fill_replicas(op->replicas, RFS_MAX_REPLICAS, type);
	tp_fill_server(&op->server, type);
	op->now_ns = 1700000000123456789ll;
	op->session = UINT64_MAX - 7;
}

/* Binary data with NUL bytes. */
char *tp_make_data(size_t len)
{
	char *d = malloc(len + 1);
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (i = 0; i < len; i++)
		d[i] = (char)(i * 7);
	d[len] = '\0';
	return d;
}

void tp_check_replicas_equal(const struct rfs_replica *a,
			     const struct rfs_replica *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		CU_ASSERT_STRING_EQUAL(a[i].id, b[i].id);
		CU_ASSERT_STRING_EQUAL(a[i].addr, b[i].addr);
		CU_ASSERT_EQUAL(a[i].up, b[i].up);
	}
}

void tp_check_server_equal(const struct rfs_server *a,
			   const struct rfs_server *b)
{
	CU_ASSERT_STRING_EQUAL(a->id, b->id);
	CU_ASSERT_STRING_EQUAL(a->addr, b->addr);
	CU_ASSERT_STRING_EQUAL(a->zone, b->zone);
	CU_ASSERT_EQUAL(a->weight, b->weight);
	CU_ASSERT_EQUAL(a->capacity, b->capacity);
	CU_ASSERT_EQUAL(a->used, b->used);
	CU_ASSERT_EQUAL(a->chunks, b->chunks);
	CU_ASSERT_EQUAL(a->load, b->load);
	CU_ASSERT_EQUAL(a->state, b->state);
	CU_ASSERT_EQUAL(a->heartbeat_age_ms, b->heartbeat_age_ms);
}

void tp_check_op_equal(const struct rfs_op *a, const struct rfs_op *b)
{
	CU_ASSERT_EQUAL(a->type, b->type);
	CU_ASSERT_EQUAL(a->ino, b->ino);
	CU_ASSERT_EQUAL(a->parent, b->parent);
	CU_ASSERT_STRING_EQUAL(a->name, b->name);
	CU_ASSERT_EQUAL(a->newparent, b->newparent);
	CU_ASSERT_STRING_EQUAL(a->newname, b->newname);
	CU_ASSERT_EQUAL(a->mode, b->mode);
	CU_ASSERT_EQUAL(a->uid, b->uid);
	CU_ASSERT_EQUAL(a->gid, b->gid);
	CU_ASSERT_EQUAL(a->flags, b->flags);
	CU_ASSERT_EQUAL(a->valid, b->valid);
	CU_ASSERT_EQUAL(a->size, b->size);
	CU_ASSERT_EQUAL(a->atime_ns, b->atime_ns);
	CU_ASSERT_EQUAL(a->mtime_ns, b->mtime_ns);
	CU_ASSERT_EQUAL_FATAL(a->data_len, b->data_len);
	CU_ASSERT_EQUAL(a->data == NULL, b->data == NULL);
	if (a->data && b->data)
		CU_ASSERT(memcmp(a->data, b->data, a->data_len) == 0);
	CU_ASSERT_EQUAL(a->cookie, b->cookie);
	CU_ASSERT_EQUAL(a->limit, b->limit);
	CU_ASSERT_EQUAL(a->index, b->index);
	CU_ASSERT_EQUAL(a->offset, b->offset);
	CU_ASSERT_EQUAL(a->chunk_id, b->chunk_id);
	CU_ASSERT_EQUAL(a->version, b->version);
	CU_ASSERT_EQUAL(a->length, b->length);
	CU_ASSERT_EQUAL_FATAL(a->n_replicas, b->n_replicas);
	tp_check_replicas_equal(a->replicas, b->replicas, a->n_replicas);
	tp_check_server_equal(&a->server, &b->server);
	CU_ASSERT_EQUAL(a->now_ns, b->now_ns);
	CU_ASSERT_EQUAL(a->session, b->session);
}

void tp_sample_attr(struct rfs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = UINT64_MAX;
	a->mode = S_IFLNK | 0777;
	a->uid = UINT32_MAX;
	a->gid = 1;
	a->nlink = UINT32_MAX;
	a->size = INT64_MAX;
	a->atime_ns = INT64_MIN;
	a->mtime_ns = INT64_MAX;
	a->ctime_ns = -5;
	a->generation = 0x9000000000000009ull;
	a->goal = RFS_MAX_REPLICAS;
}

void tp_sample_readdir(struct rfs_readdir_reply *r, size_t n)
{
	size_t i;

	r->entries = calloc(n ? n : 1, sizeof(*r->entries));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->entries);
	r->n = n;
	r->eof = true;
	for (i = 0; i < n; i++) {
		r->entries[i].ino = UINT64_MAX - i;
		r->entries[i].mode = S_IFDIR | 0700;
		r->entries[i].cookie = ((uint64_t)i << 40) | i;
		if (i % 3 == 0)
			tp_utf8_name(r->entries[i].name);
		else if (i % 3 == 1)
			tp_binary_name(r->entries[i].name);
		else
			snprintf(r->entries[i].name, sizeof(r->entries[i].name),
				 "f%zu", i);
	}
}

void tp_sample_lease(struct rfs_lease *l)
{
	memset(l, 0, sizeof(*l));
	l->ino = 0xabcdef0123456789ull;
	l->index = 123456789;
	l->chunk_id = UINT64_MAX;
	l->version = UINT32_MAX;
	l->prev_version = UINT32_MAX - 1;
	l->prev_length = RFS_CHUNK_SIZE_MAX - 1;
	l->chunk_size = RFS_CHUNK_SIZE_MAX;
	l->n_replicas = RFS_MAX_REPLICAS;
	tp_fill_replicas(l->replicas, RFS_MAX_REPLICAS, 7);
}

void tp_sample_layout(struct rfs_layout *l, size_t n)
{
	size_t i;

	memset(l, 0, sizeof(*l));
	l->ino = 0x7fffffffffffffffull;
	l->size = INT64_MAX;
	l->chunk_size = RFS_CHUNK_SIZE_MIN;
	l->goal = 3;
	l->chunks = calloc(n ? n : 1, sizeof(*l->chunks));
	CU_ASSERT_PTR_NOT_NULL_FATAL(l->chunks);
	l->n_chunks = n;
	for (i = 0; i < n; i++) {
		l->chunks[i].index = i * 2;
		l->chunks[i].chunk_id = UINT64_MAX - i;
		l->chunks[i].version = (uint32_t)i + 1;
		l->chunks[i].length = RFS_CHUNK_SIZE_MIN - i;
		l->chunks[i].n_replicas =
		    (uint32_t)(i % (RFS_MAX_REPLICAS + 1));
		tp_fill_replicas(l->chunks[i].replicas, l->chunks[i].n_replicas,
				 (unsigned)i);
	}
}

/* --- sample encodings --------------------------------------------------- */
/* A valid, moderately sized encoding for each codec (malloc'd). */
char *tp_sample_encoding(const struct tp_codec *c, size_t *len)
{
	char data[100] = "bin\0ary";
	union {
		struct rfs_op op;
		struct rfs_attr attr;
		struct rfs_readdir_reply rd;
		struct rfs_value_reply v;
		struct rfs_statfs sf;
		struct rfs_lease lease;
		struct rfs_layout layout;
		struct rfs_server srv;
		struct rfs_status st;
		struct rfs_inventory inv;
		struct rfs_error_reply err;
	} u;
	struct rfs_server servers[3];
	struct rfs_inv_entry entries[3] = {{1, 2, 3}, {UINT64_MAX, 1, 0}};
	char *text = NULL;
	int rc = -EINVAL;

	memset(&u, 0, sizeof(u));
	if (c == &tp_c_op) {
		tp_fill_op(&u.op, RFS_OP_RENAME, data, sizeof(data));
		rc = rfs_proto_op_encode(&u.op, &text, len);
	} else if (c == &tp_c_attr) {
		tp_sample_attr(&u.attr);
		rc = rfs_proto_attr_encode(&u.attr, &text, len);
	} else if (c == &tp_c_readdir) {
		tp_sample_readdir(&u.rd, 4);
		rc = rfs_proto_readdir_encode(&u.rd, &text, len);
		rfs_proto_readdir_release(&u.rd);
	} else if (c == &tp_c_value) {
		u.v.data = data;
		u.v.len = sizeof(data);
		rc = rfs_proto_value_encode(&u.v, &text, len);
	} else if (c == &tp_c_statfs) {
		u.sf.total_bytes = 1;
		rc = rfs_proto_statfs_encode(&u.sf, &text, len);
	} else if (c == &tp_c_lease) {
		tp_sample_lease(&u.lease);
		rc = rfs_proto_lease_encode(&u.lease, &text, len);
	} else if (c == &tp_c_layout) {
		tp_sample_layout(&u.layout, RFS_MAX_REPLICAS + 1);
		rc = rfs_proto_layout_encode(&u.layout, &text, len);
		rfs_proto_layout_release(&u.layout);
	} else if (c == &tp_c_server) {
		tp_fill_server(&u.srv, 0);
		rc = rfs_proto_server_encode(&u.srv, &text, len);
	} else if (c == &tp_c_status) {
		tp_fill_server(&servers[0], 0);
		tp_fill_server(&servers[1], 1);
		tp_fill_server(&servers[2], 2);
		u.st.servers = servers;
		u.st.n_servers = 3;
		rc = rfs_proto_status_encode(&u.st, &text, len);
	} else if (c == &tp_c_inventory) {
		snprintf(u.inv.server_id, sizeof(u.inv.server_id), "cs-9");
		u.inv.entries = entries;
		u.inv.n = 3;
		rc = rfs_proto_inventory_encode(&u.inv, &text, len);
	} else if (c == &tp_c_error) {
		u.err.err = ENOTEMPTY;
		snprintf(u.err.message, sizeof(u.err.message), "not empty");
		rc = rfs_proto_error_encode(&u.err, &text, len);
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return text;
}
