/*
 * json: small typed accessors over jansson used by proto.c (the only other
 * user of jansson). Each getter checks presence, type and range and returns
 * 0, -ENOENT when the key is absent, or -EPROTO for a wrong type/range.
 *
 * Number conventions (see also common/proto.h):
 *  - u64 values travel as JSON integers in 0..INT64_MAX (jansson, like most
 *    JSON libraries, holds integers as signed 64-bit); negative numbers,
 *    reals and anything larger are refused.
 *  - u64 ids travel as "hex64" strings: exactly 16 hex digits, written in
 *    lower case (upper case is accepted when reading).
 * JSON null is a wrong type, not an absent key. Getters borrow obj and never
 * keep a pointer into it; on any error *out is left untouched. All
 * functions are thread-safe as long as one json_t tree is not shared
 * between threads.
 */
#ifndef RFS_COMMON_JSON_H
#define RFS_COMMON_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rfs_jsonw; /* common/jsonw.h */

/* Characters of a hex64 id, without the NUL. */
#define RFS_JSON_HEX64_LEN 16

/*
 * Parse buf[0..len) (need not be NUL-terminated) into *out, which must be
 * a JSON object. Duplicate keys and NUL characters in strings are refused.
 * Returns 0 (*out is a new reference: json_decref it), -EPROTO for
 * malformed input or a top level that is not an object, or -ENOMEM.
 */
int rfs_json_parse(const char *buf, size_t len, json_t **out);

/*
 * Compact text of j (no spaces, keys in insertion order) into a malloc'd
 * NUL-terminated *out of *out_len bytes (without the NUL), owned by the
 * caller. Returns 0 or -ENOMEM.
 */
int rfs_json_dump(const json_t *j, char **out, size_t *out_len);

/* --- getters: 0, -ENOENT (absent) or -EPROTO (wrong type/range) ------ */
/* Integer in 0..INT64_MAX. */
int rfs_json_get_u64(const json_t *obj, const char *key, uint64_t *out);
/* Integer in 0..UINT32_MAX. */
int rfs_json_get_u32(const json_t *obj, const char *key, uint32_t *out);
/* Any JSON integer. */
int rfs_json_get_i64(const json_t *obj, const char *key, int64_t *out);
/* true or false. */
int rfs_json_get_bool(const json_t *obj, const char *key, bool *out);
/* A string of exactly 16 hex digits, as a u64. */
int rfs_json_get_hex64(const json_t *obj, const char *key, uint64_t *out);
/*
 * A string of at most max_len bytes copied NUL-terminated into buf, which
 * must hold max_len + 1 bytes. A longer string returns too_long_err (a
 * negative errno chosen by the caller, e.g. -ENAMETOOLONG); a string with
 * an embedded NUL returns -EPROTO.
 */
int rfs_json_get_str(const json_t *obj, const char *key, char *buf,
		     size_t max_len, int too_long_err);
/*
 * A base64 string (common/crypto.h) decoding to at most max_len bytes,
 * into a malloc'd *out (NUL-terminated beyond *out_len) owned by the
 * caller. The text length is checked before decoding. Returns 0, -ENOENT,
 * -EPROTO (not a string or not base64), too_long_err when the decoded size
 * would exceed max_len, or -ENOMEM.
 */
int rfs_json_get_base64(const json_t *obj, const char *key, size_t max_len,
			int too_long_err, char **out, size_t *out_len);
/*
 * Borrowed references to a member object / array (valid while obj lives).
 * get_array also refuses (-E2BIG) an array of more than max_items items.
 */
int rfs_json_get_object(const json_t *obj, const char *key, json_t **out);
int rfs_json_get_array(const json_t *obj, const char *key, size_t max_items,
		       json_t **out);

/* --- setters: add or replace obj[key]; 0 or -ENOMEM ------------------ */
/* A u64 number; -ERANGE above INT64_MAX (no decoder would accept it). */
int rfs_json_set_u64(json_t *obj, const char *key, uint64_t v);
int rfs_json_set_i64(json_t *obj, const char *key, int64_t v);
int rfs_json_set_bool(json_t *obj, const char *key, bool v);
/* v as 16 lower-case hex digits. */
int rfs_json_set_hex64(json_t *obj, const char *key, uint64_t v);
/*
 * The len bytes of s as a JSON string. -EILSEQ when they are not valid
 * UTF-8 or contain a NUL (JSON text cannot carry them as a string).
 */
int rfs_json_set_strn(json_t *obj, const char *key, const char *s, size_t len);
/* len bytes of buf as base64 text. */
int rfs_json_set_base64(json_t *obj, const char *key, const void *buf,
			size_t len);
/* Add value under key, taking the reference even on failure. */
int rfs_json_set_new(json_t *obj, const char *key, json_t *value);
/* Append value to arr, taking the reference even on failure. */
int rfs_json_append_new(json_t *arr, json_t *value);

/* --- struct <-> object mapping --------------------------------------- */
/*
 * A table of rfs_json_field describes the scalar members of a C struct
 * (key, kind, offsetof); one generic encoder and decoder then handle every
 * message the same way. Encoders return 0, -ENOMEM, or -EINVAL for a
 * value no decoder would accept (a u64 over INT64_MAX, a string not
 * NUL-terminated within its array or failing its check, an enum value
 * without a name, a list over its maximum). Decoders return 0, -EPROTO,
 * a field's too_long_err, -E2BIG (lists, blobs) or -ENOMEM; absent keys
 * leave the member untouched, unknown keys are ignored.
 */
enum rfs_json_kind {
	RFS_JSON_HEX64, /* uint64_t as a hex64 string */
	RFS_JSON_U64,	/* uint64_t as a number, 0..INT64_MAX */
	RFS_JSON_U32,	/* uint32_t as a number */
	RFS_JSON_I64,	/* int64_t as a number */
	RFS_JSON_BOOL,	/* bool */
	RFS_JSON_STR,	/* char[max + 1], a UTF-8 string */
	/*
	 * char[max + 1] holding any bytes but NUL (file and xattr names): a
	 * JSON string when the bytes are UTF-8, otherwise their base64 under
	 * alt_key. Both keys at once is -EPROTO.
	 */
	RFS_JSON_BYTES,
	RFS_JSON_ENUM, /* uint32_t sent as names[value] */
};

struct rfs_json_field {
	const char *key;
	enum rfs_json_kind kind;
	size_t off;	  /* offsetof the member */
	size_t max;	  /* STR, BYTES: longest value in bytes */
	int too_long_err; /* STR, BYTES: decoding a longer value */
	/* STR: extra check of a non-empty value, e.g. a server id */
	bool (*valid)(const char *s);
	const char *alt_key;	  /* BYTES */
	const char *const *names; /* ENUM: names[0..n_names) */
	size_t n_names;
};

#define RFS_JSON_F(k, kd, type, m)                                             \
	{                                                                      \
		.key = (k), .kind = (kd), .off = offsetof(type, m)             \
	}
#define RFS_JSON_F_STR(k, type, m, mx, err, check)                             \
	{                                                                      \
		.key = (k), .kind = RFS_JSON_STR, .off = offsetof(type, m),    \
		.max = (mx), .too_long_err = (err), .valid = (check)           \
	}
#define RFS_JSON_F_BYTES(k, alt, type, m, mx, err)                             \
	{                                                                      \
		.key = (k), .kind = RFS_JSON_BYTES, .off = offsetof(type, m),  \
		.max = (mx), .too_long_err = (err), .alt_key = (alt)           \
	}
#define RFS_JSON_F_ENUM(k, type, m, nm, n)                                     \
	{                                                                      \
		.key = (k), .kind = RFS_JSON_ENUM, .off = offsetof(type, m),   \
		.names = (nm), .n_names = (n)                                  \
	}

/* Add the fields of st to obj; omit_zero leaves out zero/empty members. */
int rfs_json_encode_fields(json_t *obj, const struct rfs_json_field *fields,
			   size_t n, const void *st, bool omit_zero);
/* Fill the members of st from obj. */
int rfs_json_decode_fields(const json_t *obj,
			   const struct rfs_json_field *fields, size_t n,
			   void *st);
/* True when every member the table describes is zero/empty/false. */
bool rfs_json_fields_are_zero(const struct rfs_json_field *fields, size_t n,
			      const void *st);

/*
 * A list of structs as an array of objects under key: each element's
 * members per fields, plus optional hooks for non-scalar members.
 */
struct rfs_json_list {
	const char *key;
	size_t max; /* decoding more items is -E2BIG, encoding -EINVAL */
	size_t elem_size;
	const struct rfs_json_field *fields;
	size_t n_fields;
	int (*encode_extra)(json_t *item, const void *elem); /* may be NULL */
	int (*decode_extra)(const json_t *item, void *elem); /* may be NULL */
	/* the stream twin of encode_extra, for rfs_json_write_list */
	int (*write_extra)(struct rfs_jsonw *w, const void *elem);
};

/* Add elems[0..n) as an array (also when n is 0). */
int rfs_json_encode_list(json_t *obj, const struct rfs_json_list *l,
			 const void *elems, size_t n);
/*
 * Decode obj[key] into a malloc'd zeroed array *elems of *n items, owned by
 * the caller; absent or empty leaves *elems NULL and *n 0. On error
 * nothing stays allocated (elements must not own heap memory).
 */
int rfs_json_decode_list(const json_t *obj, const struct rfs_json_list *l,
			 void **elems, size_t *n);

/*
 * The stream twins of rfs_json_encode_fields / rfs_json_encode_list: the
 * same members, keys in the same order and the same errors (-EINVAL for a
 * value no decoder would accept), written into the open object of w
 * (common/jsonw.h) instead of a tree. An error is also recorded in w. A
 * list with encode_extra must have write_extra too (else -EINVAL).
 */
int rfs_json_write_fields(struct rfs_jsonw *w,
			  const struct rfs_json_field *fields, size_t n,
			  const void *st, bool omit_zero);
int rfs_json_write_list(struct rfs_jsonw *w, const struct rfs_json_list *l,
			const void *elems, size_t n);

#endif
