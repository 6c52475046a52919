/*
 * Shared fixtures for the proto unit tests: every decoder behind one
 * generic interface, sample structs with every field set, and small text
 * builders. Failures are reported through CUnit assertions. Test code only.
 */
#ifndef RFS_TESTS_UNIT_PROTO_FIXTURES_H
#define RFS_TESTS_UNIT_PROTO_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/* Deterministic xorshift64 so failures reproduce; *s must not be 0. */
uint64_t tp_rng_next(uint64_t *s);

bool tp_all_zero(const void *p, size_t n);

/* A growable NUL-terminated text buffer; free(sb.p) when done. */
struct tp_sbuf {
	char *p;
	size_t len;
	size_t cap;
};
void tp_sb_add(struct tp_sbuf *sb, const char *s, size_t n);
void tp_sb_str(struct tp_sbuf *sb, const char *s);

/* head + n copies of item separated by ',' + tail, malloc'd. */
char *tp_repeat_json(const char *head, const char *item, size_t n,
		     const char *tail);

/* One decoder seen generically: struct size, decode, release (or NULL). */
struct tp_codec {
	const char *what;
	size_t size;
	int (*decode)(const char *buf, size_t len, void *out);
	void (*release)(void *out);
};
extern const struct tp_codec tp_c_op;
extern const struct tp_codec tp_c_attr;
extern const struct tp_codec tp_c_readdir;
extern const struct tp_codec tp_c_value;
extern const struct tp_codec tp_c_statfs;
extern const struct tp_codec tp_c_lease;
extern const struct tp_codec tp_c_layout;
extern const struct tp_codec tp_c_server;
extern const struct tp_codec tp_c_status;
extern const struct tp_codec tp_c_inventory;
extern const struct tp_codec tp_c_error;
extern const struct tp_codec *const tp_all_codecs[];
extern const size_t tp_n_codecs;

/*
 * Decode buf[0..len) from an exact-size heap copy (so ASan sees any read
 * past the end) into a struct pre-filled with junk. On failure the struct
 * must be all zero (nothing to release); on success it is released.
 * Returns the decoder's result.
 */
int tp_decode_check(const struct tp_codec *c, const char *buf, size_t len);
/* Decode a NUL-terminated text and assert the result is want. */
void tp_expect_rc(const struct tp_codec *c, const char *text, int want);

/* 255 bytes of multi-byte UTF-8 / of bytes that are not UTF-8, + NUL. */
void tp_utf8_name(char *name);
void tp_binary_name(char *name);
/* malloc'd len bytes of binary data with NULs (plus a NUL after). */
char *tp_make_data(size_t len);

/* Sample structs with every field set, values near their limits. */
void tp_fill_replicas(struct rfs_replica *r, uint32_t n, unsigned seed);
void tp_fill_server(struct rfs_server *s, unsigned i);
/* op->data = data (borrowed, not freed by the fixture). */
void tp_fill_op(struct rfs_op *op, uint32_t type, char *data, size_t data_len);
void tp_sample_attr(struct rfs_attr *a);
/* r->entries malloc'd: rfs_proto_readdir_release(). */
void tp_sample_readdir(struct rfs_readdir_reply *r, size_t n);
void tp_sample_lease(struct rfs_lease *l);
/* l->chunks malloc'd: rfs_proto_layout_release(). */
void tp_sample_layout(struct rfs_layout *l, size_t n);

/* Assert field-by-field equality. */
void tp_check_replicas_equal(const struct rfs_replica *a,
			     const struct rfs_replica *b, uint32_t n);
void tp_check_server_equal(const struct rfs_server *a,
			   const struct rfs_server *b);
void tp_check_op_equal(const struct rfs_op *a, const struct rfs_op *b);

/* A valid, moderately sized encoding of c's message type (malloc'd). */
char *tp_sample_encoding(const struct tp_codec *c, size_t *len);

#endif
