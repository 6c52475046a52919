/*
 * proto_sax: the fast decoder of readdir replies, the largest messages a
 * client decodes often (one per directory listing, up to RFS_READDIR_MAX
 * entries with their attributes). jansson builds a tree with a hash table
 * per entry and per attr object and the field tables then look every key
 * up in those: about 9 us per entry. yajl's event parser writes the values
 * straight into the entries: about 10 times faster (docs/protocol.md,
 * "Decoding").
 *
 * It accepts only text the jansson decoder decodes to the same result and
 * defers everything else to it, so jansson stays the reference for what
 * is valid and for every error code:
 *  - text with a backslash, a byte >= 0x80 or a control character, white
 *    space included (escapes, UTF-8, invalid strings: each parser judges
 *    those in its own way; the metaserver writes compact text);
 *  - a key it does not know (so no duplicate of it can slip through), a
 *    known key twice, a value of the wrong type or out of range, a string
 *    over its field's maximum, "name_b64", more than RFS_READDIR_MAX
 *    entries, any other shape;
 *  - a number yajl cannot hold: yajl 2.1 also calls -9223372036854775808
 *    (INT64_MIN, a valid time) an overflow.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "common/proto_int.h"

#define F_ENTRIES "entries"
#define F_EOF	  "eof"
#define F_ATTR	  "attr"

/* Where the parser is: the object or array whose members come next. */
enum sax_level {
	L_NONE,	   /* before the top-level object / after it */
	L_TOP,	   /* members of the reply object */
	L_ENTRIES, /* items of "entries" */
	L_ENTRY,   /* members of one entry */
	L_ATTR,	   /* members of an entry's "attr" */
};

/* What the value about to come is for (besides a field of a table). */
enum sax_slot { S_NONE, S_FIELD, S_ENTRIES, S_EOF, S_ATTR };

struct sax {
	const struct rfs_proto_tables *t;
	struct rfs_readdir_reply *r;
	size_t cap;
	bool top_seen; /* the top-level object began */
	enum sax_level level;
	enum sax_slot slot;
	const struct rfs_json_field *field; /* S_FIELD */
	void *base;			    /* the struct field->off is in */
	uint64_t seen_top, seen_entry, seen_attr; /* bit per key */
	bool defer;
	bool nomem;
};

static struct rfs_dirent *cur(struct sax *s)
{
	return &s->r->entries[s->r->n];
}

/* Give up: the jansson decoder decides. Returns 0 to stop yajl. */
static int defer(struct sax *s)
{
	s->defer = true;
	return 0;
}

/* Mark bit in *seen; false when it was set already (a duplicate key). */
static bool first_time(uint64_t *seen, unsigned int bit)
{
	uint64_t b = (uint64_t)1 << bit;

	if (*seen & b)
		return false;
	*seen |= b;
	return true;
}

/* The field of table[0..n) named key[0..len); -1 when none is. */
static int find_field(const struct rfs_json_field *table, size_t n,
		      const unsigned char *key, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(table[i].key) == len &&
		    memcmp(table[i].key, key, len) == 0)
			return (int)i;
	return -1;
}

static bool key_is(const unsigned char *key, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(name, key, len) == 0;
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
	struct sax *s = ctx;
	const struct rfs_json_list *dl = s->t->dirents;
	int i;

	s->slot = S_NONE;
	switch (s->level) {
	case L_TOP:
		if (key_is(key, len, F_ENTRIES) && first_time(&s->seen_top, 0))
			s->slot = S_ENTRIES;
		else if (key_is(key, len, F_EOF) && first_time(&s->seen_top, 1))
			s->slot = S_EOF;
		break;
	case L_ENTRY:
		i = find_field(dl->fields, dl->n_fields, key, len);
		if (i >= 0 && first_time(&s->seen_entry, (unsigned int)i)) {
			s->slot = S_FIELD;
			s->field = &dl->fields[i];
			s->base = cur(s);
		} else if (i < 0 && key_is(key, len, F_ATTR) &&
			   first_time(&s->seen_entry, 63)) {
			s->slot = S_ATTR;
		}
		break;
	case L_ATTR:
		i = find_field(s->t->attr, s->t->n_attr, key, len);
		if (i >= 0 && first_time(&s->seen_attr, (unsigned int)i)) {
			s->slot = S_FIELD;
			s->field = &s->t->attr[i];
			s->base = &cur(s)->attr;
		}
		break;
	default:
		break;
	}
	return s->slot == S_NONE ? defer(s) : 1;
}

static int on_start_map(void *ctx)
{
	struct sax *s = ctx;

	if (s->level == L_NONE && !s->top_seen) {
		s->level = L_TOP;
		s->top_seen = true;
		return 1;
	}
	if (s->level == L_ENTRIES) {
		if (s->r->n == RFS_READDIR_MAX)
			return defer(s);
		if (s->r->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct rfs_dirent *e;

			if (cap > RFS_READDIR_MAX)
				cap = RFS_READDIR_MAX;
			e = realloc(s->r->entries, cap * sizeof(*e));
			if (!e) {
				s->nomem = true;
				return 0;
			}
			s->r->entries = e;
			s->cap = cap;
		}
		memset(cur(s), 0, sizeof(*cur(s)));
		s->seen_entry = 0;
		s->level = L_ENTRY;
		return 1;
	}
	if (s->level == L_ENTRY && s->slot == S_ATTR) {
		s->seen_attr = 0;
		s->level = L_ATTR;
		return 1;
	}
	return defer(s);
}

static int on_end_map(void *ctx)
{
	struct sax *s = ctx;

	switch (s->level) {
	case L_ATTR:
		cur(s)->has_attr = true;
		s->level = L_ENTRY;
		break;
	case L_ENTRY:
		s->r->n++;
		s->level = L_ENTRIES;
		break;
	case L_TOP:
		s->level = L_NONE;
		break;
	default:
		return defer(s);
	}
	s->slot = S_NONE;
	return 1;
}

static int on_start_array(void *ctx)
{
	struct sax *s = ctx;

	if (s->level != L_TOP || s->slot != S_ENTRIES)
		return defer(s);
	s->level = L_ENTRIES;
	return 1;
}

static int on_end_array(void *ctx)
{
	struct sax *s = ctx;

	if (s->level != L_ENTRIES)
		return defer(s);
	s->level = L_TOP;
	s->slot = S_NONE;
	return 1;
}

static int on_integer(void *ctx, long long v)
{
	struct sax *s = ctx;
	char *p;

	if (s->slot != S_FIELD)
		return defer(s);
	s->slot = S_NONE;
	p = (char *)s->base + s->field->off;
	switch (s->field->kind) {
	case RFS_JSON_U64:
		if (v < 0)
			return defer(s);
		*(uint64_t *)p = (uint64_t)v;
		return 1;
	case RFS_JSON_U32:
		if (v < 0 || v > UINT32_MAX)
			return defer(s);
		*(uint32_t *)p = (uint32_t)v;
		return 1;
	case RFS_JSON_I64:
		*(int64_t *)p = (int64_t)v;
		return 1;
	default:
		return defer(s);
	}
}

/* 16 hex digits (either case) as a u64; false for anything else. */
static bool hex64(const unsigned char *str, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len != RFS_JSON_HEX64_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = str[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static int on_string(void *ctx, const unsigned char *str, size_t len)
{
	struct sax *s = ctx;
	const struct rfs_json_field *f = s->field;
	char *p;

	if (s->slot != S_FIELD)
		return defer(s);
	s->slot = S_NONE;
	p = (char *)s->base + f->off;
	switch (f->kind) {
	case RFS_JSON_HEX64:
		return hex64(str, len, (uint64_t *)p) ? 1 : defer(s);
	case RFS_JSON_STR:
	case RFS_JSON_BYTES:
		if (len > f->max || memchr(str, '\0', len))
			return defer(s);
		memcpy(p, str, len);
		p[len] = '\0';
		if (f->kind == RFS_JSON_STR && f->valid && len && !f->valid(p))
			return defer(s);
		return 1;
	default:
		return defer(s);
	}
}

static int on_boolean(void *ctx, int v)
{
	struct sax *s = ctx;

	if (s->slot == S_EOF) {
		s->r->eof = v != 0;
	} else if (s->slot == S_FIELD && s->field->kind == RFS_JSON_BOOL) {
		*(bool *)((char *)s->base + s->field->off) = v != 0;
	} else {
		return defer(s);
	}
	s->slot = S_NONE;
	return 1;
}

static int on_other(void *ctx)
{
	return defer(ctx);
}

static int on_double(void *ctx, double v)
{
	(void)v;
	return defer(ctx);
}

static const yajl_callbacks sax_callbacks = {
    .yajl_null = on_other,
    .yajl_boolean = on_boolean,
    .yajl_integer = on_integer,
    .yajl_double = on_double,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

/* Only printable ASCII: see the top of the file. */
static bool plain_text(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\\' || c < 0x20 || c >= 0x80)
			return false;
	}
	return true;
}

int rfs_proto_readdir_decode_sax(const char *buf, size_t len,
				 struct rfs_readdir_reply *r)
{
	struct sax s = {.t = rfs_proto_tables(), .r = r};
	yajl_handle h;
	yajl_status st;

	memset(r, 0, sizeof(*r));
	if (len == 0 || !plain_text(buf, len))
		return RFS_PROTO_DEFER;
	h = yajl_alloc(&sax_callbacks, NULL, &s);
	if (!h)
		return -ENOMEM;
	st = yajl_parse(h, (const unsigned char *)buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	if (st == yajl_status_ok && !s.defer && !s.nomem && s.level == L_NONE &&
	    s.top_seen && (s.seen_top & 1))
		return 0;
	free(r->entries);
	memset(r, 0, sizeof(*r));
	return s.nomem ? -ENOMEM : RFS_PROTO_DEFER;
}
