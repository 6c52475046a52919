#include <config.h>
#include "common/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/jsonw.h"

int rfs_json_parse(const char *buf, size_t len, json_t **out)
{
	json_error_t err;
	json_t *j;

	/* jansson refuses "\u0000" in strings unless JSON_ALLOW_NUL */
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		return json_error_code(&err) == json_error_out_of_memory
			   ? -ENOMEM
			   : -EPROTO;
	if (!json_is_object(j)) {
		json_decref(j);
		return -EPROTO;
	}
	*out = j;
	return 0;
}

int rfs_json_dump(const json_t *j, char **out, size_t *out_len)
{
	char *text;

	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	*out = text;
	*out_len = strlen(text);
	return 0;
}

/* An integer member within [min, max]: 0, -ENOENT or -EPROTO. */
static int get_int(const json_t *obj, const char *key, json_int_t min,
		   json_int_t max, json_int_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return -ENOENT;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return -EPROTO;
	*out = json_integer_value(v);
	return 0;
}

int rfs_json_get_u64(const json_t *obj, const char *key, uint64_t *out)
{
	json_int_t v;
	int rc = get_int(obj, key, 0, INT64_MAX, &v);

	if (rc == 0)
		*out = (uint64_t)v;
	return rc;
}

int rfs_json_get_u32(const json_t *obj, const char *key, uint32_t *out)
{
	json_int_t v;
	int rc = get_int(obj, key, 0, UINT32_MAX, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int rfs_json_get_i64(const json_t *obj, const char *key, int64_t *out)
{
	json_int_t v;
	int rc = get_int(obj, key, INT64_MIN, INT64_MAX, &v);

	if (rc == 0)
		*out = (int64_t)v;
	return rc;
}

int rfs_json_get_bool(const json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return -ENOENT;
	if (!json_is_boolean(v))
		return -EPROTO;
	*out = json_is_true(v);
	return 0;
}

int rfs_json_get_hex64(const json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return -ENOENT;
	if (!json_is_string(v) || json_string_length(v) != RFS_JSON_HEX64_LEN)
		return -EPROTO;
	return rfs_hex_decode_u64(json_string_value(v), RFS_JSON_HEX64_LEN,
				  out);
}

int rfs_json_get_str(const json_t *obj, const char *key, char *buf,
		     size_t max_len, int too_long_err)
{
	json_t *v = json_object_get(obj, key);
	size_t len;

	if (!v)
		return -ENOENT;
	if (!json_is_string(v))
		return -EPROTO;
	len = json_string_length(v);
	if (len > max_len)
		return too_long_err;
	if (memchr(json_string_value(v), '\0', len))
		return -EPROTO;
	memcpy(buf, json_string_value(v), len);
	buf[len] = '\0';
	return 0;
}

int rfs_json_get_base64(const json_t *obj, const char *key, size_t max_len,
			int too_long_err, char **out, size_t *out_len)
{
	json_t *v = json_object_get(obj, key);
	size_t text_len;
	size_t n;
	char *data;
	int rc;

	if (!v)
		return -ENOENT;
	if (!json_is_string(v))
		return -EPROTO;
	/* padded base64 of max_len bytes is at most this long */
	text_len = json_string_length(v);
	if (text_len / 4 > (max_len + 2) / 3)
		return too_long_err;
	rc = rfs_base64_decode(json_string_value(v), text_len, &data, &n);
	if (rc < 0)
		return rc;
	if (n > max_len) {
		free(data);
		return too_long_err;
	}
	*out = data;
	*out_len = n;
	return 0;
}

int rfs_json_get_object(const json_t *obj, const char *key, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return -ENOENT;
	if (!json_is_object(v))
		return -EPROTO;
	*out = v;
	return 0;
}

int rfs_json_get_array(const json_t *obj, const char *key, size_t max_items,
		       json_t **out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return -ENOENT;
	if (!json_is_array(v))
		return -EPROTO;
	if (json_array_size(v) > max_items)
		return -E2BIG;
	*out = v;
	return 0;
}

int rfs_json_set_new(json_t *obj, const char *key, json_t *value)
{
	/* json_object_set_new consumes value on failure too, NULL included */
	if (json_object_set_new(obj, key, value) < 0)
		return -ENOMEM;
	return 0;
}

int rfs_json_append_new(json_t *arr, json_t *value)
{
	if (json_array_append_new(arr, value) < 0)
		return -ENOMEM;
	return 0;
}

int rfs_json_set_u64(json_t *obj, const char *key, uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	return rfs_json_set_new(obj, key, json_integer((json_int_t)v));
}

int rfs_json_set_i64(json_t *obj, const char *key, int64_t v)
{
	return rfs_json_set_new(obj, key, json_integer((json_int_t)v));
}

int rfs_json_set_bool(json_t *obj, const char *key, bool v)
{
	return rfs_json_set_new(obj, key, json_boolean(v));
}

int rfs_json_set_hex64(json_t *obj, const char *key, uint64_t v)
{
	char hex[RFS_JSON_HEX64_LEN + 1];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)v);
	return rfs_json_set_new(obj, key, json_string(hex));
}

int rfs_json_set_strn(json_t *obj, const char *key, const char *s, size_t len)
{
	json_t *v;

	if (memchr(s, '\0', len))
		return -EILSEQ;
	v = json_stringn(s, len);
	if (!v) {
		/* json_stringn fails for bad UTF-8 or OOM: tell them apart */
		v = json_stringn_nocheck(s, len);
		if (!v)
			return -ENOMEM;
		json_decref(v);
		return -EILSEQ;
	}
	return rfs_json_set_new(obj, key, v);
}

int rfs_json_set_base64(json_t *obj, const char *key, const void *buf,
			size_t len)
{
	char *text;
	json_t *v;

	if (rfs_base64_encode(buf, len, &text) < 0)
		return -ENOMEM;
	v = json_string(text);
	free(text);
	return rfs_json_set_new(obj, key, v);
}

/* --- struct <-> object mapping --------------------------------------- */
static const char *field_ptr(const struct rfs_json_field *f, const void *st)
{
	return (const char *)st + f->off;
}

static bool field_is_zero(const struct rfs_json_field *f, const void *st)
{
	const char *p = field_ptr(f, st);

	switch (f->kind) {
	case RFS_JSON_HEX64:
	case RFS_JSON_U64:
		return *(const uint64_t *)p == 0;
	case RFS_JSON_I64:
		return *(const int64_t *)p == 0;
	case RFS_JSON_U32:
	case RFS_JSON_ENUM:
		return *(const uint32_t *)p == 0;
	case RFS_JSON_BOOL:
		return !*(const bool *)p;
	default:
		return p[0] == '\0';
	}
}

bool rfs_json_fields_are_zero(const struct rfs_json_field *fields, size_t n,
			      const void *st)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!field_is_zero(&fields[i], st))
			return false;
	return true;
}

static int encode_string(json_t *obj, const struct rfs_json_field *f,
			 const char *s)
{
	size_t len = strnlen(s, f->max + 1);
	int rc;

	if (len > f->max)
		return -EINVAL; /* not NUL-terminated within its array */
	if (f->valid && len > 0 && !f->valid(s))
		return -EINVAL;
	rc = rfs_json_set_strn(obj, f->key, s, len);
	if (rc == -EILSEQ && f->kind == RFS_JSON_BYTES)
		rc = rfs_json_set_base64(obj, f->alt_key, s, len);
	return rc == -EILSEQ ? -EINVAL : rc;
}

static int encode_enum(json_t *obj, const struct rfs_json_field *f, uint32_t v)
{
	if (v >= f->n_names || !f->names[v])
		return -EINVAL;
	return rfs_json_set_strn(obj, f->key, f->names[v], strlen(f->names[v]));
}

static int encode_field(json_t *obj, const struct rfs_json_field *f,
			const void *st)
{
	const char *p = field_ptr(f, st);
	int rc;

	switch (f->kind) {
	case RFS_JSON_HEX64:
		return rfs_json_set_hex64(obj, f->key, *(const uint64_t *)p);
	case RFS_JSON_U64:
		rc = rfs_json_set_u64(obj, f->key, *(const uint64_t *)p);
		return rc == -ERANGE ? -EINVAL : rc;
	case RFS_JSON_U32:
		return rfs_json_set_u64(obj, f->key, *(const uint32_t *)p);
	case RFS_JSON_I64:
		return rfs_json_set_i64(obj, f->key, *(const int64_t *)p);
	case RFS_JSON_BOOL:
		return rfs_json_set_bool(obj, f->key, *(const bool *)p);
	case RFS_JSON_ENUM:
		return encode_enum(obj, f, *(const uint32_t *)p);
	default:
		return encode_string(obj, f, p);
	}
}

int rfs_json_encode_fields(json_t *obj, const struct rfs_json_field *fields,
			   size_t n, const void *st, bool omit_zero)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (omit_zero && field_is_zero(&fields[i], st))
			continue;
		rc = encode_field(obj, &fields[i], st);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* BYTES: the string under key, or the base64 under alt_key. */
static int decode_bytes(const json_t *obj, const struct rfs_json_field *f,
			char *buf)
{
	char *raw;
	size_t n;
	int rc;

	rc = rfs_json_get_str(obj, f->key, buf, f->max, f->too_long_err);
	if (rc == 0 && json_object_get(obj, f->alt_key))
		return -EPROTO; /* both forms: which one is meant? */
	if (rc != -ENOENT)
		return rc;
	rc = rfs_json_get_base64(obj, f->alt_key, f->max, f->too_long_err, &raw,
				 &n);
	if (rc < 0)
		return rc;
	if (memchr(raw, '\0', n)) {
		rc = -EPROTO;
	} else {
		memcpy(buf, raw, n);
		buf[n] = '\0';
	}
	free(raw);
	return rc;
}

static int decode_enum(const json_t *obj, const struct rfs_json_field *f,
		       uint32_t *out)
{
	json_t *v = json_object_get(obj, f->key);
	size_t len;
	size_t i;

	if (!v)
		return -ENOENT;
	if (!json_is_string(v))
		return -EPROTO;
	len = json_string_length(v);
	for (i = 0; i < f->n_names; i++) {
		if (f->names[i] && strlen(f->names[i]) == len &&
		    memcmp(f->names[i], json_string_value(v), len) == 0) {
			*out = (uint32_t)i;
			return 0;
		}
	}
	return -EPROTO;
}

static int decode_field(const json_t *obj, const struct rfs_json_field *f,
			void *st)
{
	char *p = (char *)st + f->off;
	int rc;

	switch (f->kind) {
	case RFS_JSON_HEX64:
		return rfs_json_get_hex64(obj, f->key, (uint64_t *)p);
	case RFS_JSON_U64:
		return rfs_json_get_u64(obj, f->key, (uint64_t *)p);
	case RFS_JSON_U32:
		return rfs_json_get_u32(obj, f->key, (uint32_t *)p);
	case RFS_JSON_I64:
		return rfs_json_get_i64(obj, f->key, (int64_t *)p);
	case RFS_JSON_BOOL:
		return rfs_json_get_bool(obj, f->key, (bool *)p);
	case RFS_JSON_ENUM:
		return decode_enum(obj, f, (uint32_t *)p);
	case RFS_JSON_BYTES:
		return decode_bytes(obj, f, p);
	default:
		rc = rfs_json_get_str(obj, f->key, p, f->max, f->too_long_err);
		if (rc == 0 && f->valid && p[0] && !f->valid(p))
			return -EPROTO;
		return rc;
	}
}

int rfs_json_decode_fields(const json_t *obj,
			   const struct rfs_json_field *fields, size_t n,
			   void *st)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = decode_field(obj, &fields[i], st);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	return 0;
}

/* One list element as a new object in *out. */
static int encode_item(const struct rfs_json_list *l, const void *elem,
		       json_t **out)
{
	json_t *item = json_object();
	int rc;

	if (!item)
		return -ENOMEM;
	rc = rfs_json_encode_fields(item, l->fields, l->n_fields, elem, false);
	if (rc == 0 && l->encode_extra)
		rc = l->encode_extra(item, elem);
	if (rc < 0) {
		json_decref(item);
		return rc;
	}
	*out = item;
	return 0;
}

int rfs_json_encode_list(json_t *obj, const struct rfs_json_list *l,
			 const void *elems, size_t n)
{
	json_t *arr;
	json_t *item;
	size_t i;
	int rc;

	if (n > l->max)
		return -EINVAL;
	arr = json_array();
	/* obj owns arr from here on, so errors below need no cleanup */
	rc = rfs_json_set_new(obj, l->key, arr);
	for (i = 0; rc == 0 && i < n; i++) {
		rc = encode_item(l, (const char *)elems + i * l->elem_size,
				 &item);
		if (rc == 0)
			rc = rfs_json_append_new(arr, item);
	}
	return rc;
}

static int decode_item(const struct rfs_json_list *l, const json_t *item,
		       void *elem)
{
	int rc;

	if (!json_is_object(item))
		return -EPROTO;
	rc = rfs_json_decode_fields(item, l->fields, l->n_fields, elem);
	if (rc == 0 && l->decode_extra)
		rc = l->decode_extra(item, elem);
	return rc;
}

int rfs_json_decode_list(const json_t *obj, const struct rfs_json_list *l,
			 void **elems, size_t *n_out)
{
	json_t *arr;
	char *out;
	size_t n;
	size_t i;
	int rc;

	rc = rfs_json_get_array(obj, l->key, l->max, &arr);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	n = json_array_size(arr);
	if (n == 0)
		return 0;
	out = calloc(n, l->elem_size);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = decode_item(l, json_array_get(arr, i),
				 out + i * l->elem_size);
		if (rc < 0) {
			free(out);
			return rc;
		}
	}
	*elems = out;
	*n_out = n;
	return 0;
}

/* --- the same tables, written as a stream ---------------------------- */
static int write_string(struct rfs_jsonw *w, const struct rfs_json_field *f,
			const char *s)
{
	size_t len = strnlen(s, f->max + 1);

	if (len > f->max)
		return -EINVAL; /* not NUL-terminated within its array */
	if (f->valid && len > 0 && !f->valid(s))
		return -EINVAL;
	if (rfs_jsonw_utf8_ok(s, len)) {
		rfs_jsonw_key(w, f->key);
		rfs_jsonw_strn(w, s, len);
	} else if (f->kind == RFS_JSON_BYTES) {
		rfs_jsonw_key(w, f->alt_key);
		rfs_jsonw_base64(w, s, len);
	} else {
		return -EINVAL;
	}
	return rfs_jsonw_error(w);
}

static int write_field(struct rfs_jsonw *w, const struct rfs_json_field *f,
		       const void *st)
{
	const char *p = field_ptr(f, st);
	uint32_t e;

	if (f->kind == RFS_JSON_STR || f->kind == RFS_JSON_BYTES)
		return write_string(w, f, p);
	if (f->kind == RFS_JSON_U64 &&
	    *(const uint64_t *)p > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (f->kind == RFS_JSON_ENUM) {
		e = *(const uint32_t *)p;
		if (e >= f->n_names || !f->names[e])
			return -EINVAL;
	}
	rfs_jsonw_key(w, f->key);
	switch (f->kind) {
	case RFS_JSON_HEX64:
		rfs_jsonw_hex64(w, *(const uint64_t *)p);
		break;
	case RFS_JSON_U64:
		rfs_jsonw_u64(w, *(const uint64_t *)p);
		break;
	case RFS_JSON_U32:
		rfs_jsonw_u32(w, *(const uint32_t *)p);
		break;
	case RFS_JSON_I64:
		rfs_jsonw_i64(w, *(const int64_t *)p);
		break;
	case RFS_JSON_BOOL:
		rfs_jsonw_bool(w, *(const bool *)p);
		break;
	default:
		e = *(const uint32_t *)p;
		rfs_jsonw_strn(w, f->names[e], strlen(f->names[e]));
		break;
	}
	return rfs_jsonw_error(w);
}

int rfs_json_write_fields(struct rfs_jsonw *w,
			  const struct rfs_json_field *fields, size_t n,
			  const void *st, bool omit_zero)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (omit_zero && field_is_zero(&fields[i], st))
			continue;
		rc = write_field(w, &fields[i], st);
		if (rc < 0) {
			rfs_jsonw_fail(w, rc);
			return rc;
		}
	}
	return rfs_jsonw_error(w);
}

int rfs_json_write_list(struct rfs_jsonw *w, const struct rfs_json_list *l,
			const void *elems, size_t n)
{
	const char *elem;
	size_t i;
	int rc = 0;

	if (n > l->max || (l->encode_extra && !l->write_extra))
		rc = -EINVAL;
	if (rc == 0) {
		rfs_jsonw_key(w, l->key);
		rfs_jsonw_arr_begin(w);
	}
	for (i = 0; rc == 0 && i < n; i++) {
		elem = (const char *)elems + i * l->elem_size;
		rfs_jsonw_obj_begin(w);
		rc = rfs_json_write_fields(w, l->fields, l->n_fields, elem,
					   false);
		if (rc == 0 && l->write_extra)
			rc = l->write_extra(w, elem);
		rfs_jsonw_obj_end(w);
	}
	if (rc < 0)
		rfs_jsonw_fail(w, rc);
	rfs_jsonw_arr_end(w);
	return rfs_jsonw_error(w);
}
