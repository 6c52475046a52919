/*
 * jsonw: a streaming JSON writer. Text is appended to one growable
 * malloc'd buffer as the calls come (no tree, no per-value allocation);
 * the writer inserts the commas itself. Output is compact and escaped
 * exactly as jansson's json_dumps(JSON_COMPACT) writes it, so a message
 * built with the same keys in the same order is byte-identical.
 *
 * Errors are sticky: the first one (-ENOMEM, -ERANGE, -EILSEQ or one
 * recorded with rfs_jsonw_fail) is kept, every later call is a no-op, and
 * rfs_jsonw_finish returns it. The caller is responsible for the nesting
 * (a key before each object member, ends matching begins). A writer is
 * used by one thread at a time.
 */
#ifndef RFS_COMMON_JSONW_H
#define RFS_COMMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rfs_jsonw {
	char *buf;	 /* malloc'd, owned by the writer until finish */
	size_t len;	 /* bytes written */
	size_t cap;	 /* bytes allocated */
	int err;	 /* first error, 0 if none */
	bool need_comma; /* the next value or key follows a sibling */
};

/* An empty writer; allocates nothing yet. */
void rfs_jsonw_init(struct rfs_jsonw *w);
/*
 * Hand the NUL-terminated text to the caller in *out (free() it) with
 * its length without the NUL in *out_len, and reset w. On a recorded
 * error nothing is handed out, the buffer is freed and the error is
 * returned; otherwise 0.
 */
int rfs_jsonw_finish(struct rfs_jsonw *w, char **out, size_t *out_len);
/* Free the buffer of a writer not finished (e.g. on an error path). */
void rfs_jsonw_release(struct rfs_jsonw *w);
/* The first error recorded, 0 if none. */
int rfs_jsonw_error(const struct rfs_jsonw *w);
/* Record err (a negative errno) unless an error is already recorded. */
void rfs_jsonw_fail(struct rfs_jsonw *w, int err);

void rfs_jsonw_obj_begin(struct rfs_jsonw *w);
void rfs_jsonw_obj_end(struct rfs_jsonw *w);
void rfs_jsonw_arr_begin(struct rfs_jsonw *w);
void rfs_jsonw_arr_end(struct rfs_jsonw *w);
/* A member key (NUL-terminated, valid UTF-8; -EILSEQ otherwise). */
void rfs_jsonw_key(struct rfs_jsonw *w, const char *key);

/* --- values ---------------------------------------------------------- */
/* A JSON integer; -ERANGE above INT64_MAX (as rfs_json_set_u64). */
void rfs_jsonw_u64(struct rfs_jsonw *w, uint64_t v);
void rfs_jsonw_i64(struct rfs_jsonw *w, int64_t v);
void rfs_jsonw_u32(struct rfs_jsonw *w, uint32_t v);
void rfs_jsonw_bool(struct rfs_jsonw *w, bool v);
/* v as a string of exactly 16 lower-case hex digits. */
void rfs_jsonw_hex64(struct rfs_jsonw *w, uint64_t v);
/*
 * The len bytes of s as an escaped JSON string. -EILSEQ when they are not
 * valid UTF-8 or hold a NUL, as rfs_json_set_strn (nothing is written).
 */
void rfs_jsonw_strn(struct rfs_jsonw *w, const char *s, size_t len);
/* len bytes of buf as base64 text (common/crypto.h). */
void rfs_jsonw_base64(struct rfs_jsonw *w, const void *buf, size_t len);

/*
 * True when s[0..len) is valid UTF-8 without NUL, i.e. exactly when
 * rfs_json_set_strn / rfs_jsonw_strn accept it (same rules as jansson:
 * no overlong forms, surrogates or code points above U+10FFFF).
 */
bool rfs_jsonw_utf8_ok(const char *s, size_t len);

#endif
