#include <config.h>
#include "common/jsonw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"

#define JSONW_INITIAL_CAP 256
/* A quoted hex64: 16 digits between two quotes. */
#define JSONW_HEX64_TEXT 18

void rfs_jsonw_init(struct rfs_jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void rfs_jsonw_release(struct rfs_jsonw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
}

int rfs_jsonw_error(const struct rfs_jsonw *w)
{
	return w->err;
}

void rfs_jsonw_fail(struct rfs_jsonw *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

/* Room for extra more bytes plus the final NUL; false (sticky) if not. */
static bool reserve(struct rfs_jsonw *w, size_t extra)
{
	size_t need;
	size_t cap;
	char *p;

	if (w->err)
		return false;
	need = w->len + extra + 1;
	if (need < w->len) {
		w->err = -ENOMEM;
		return false;
	}
	if (need <= w->cap)
		return true;
	cap = w->cap ? w->cap : JSONW_INITIAL_CAP;
	while (cap < need && cap <= SIZE_MAX / 2)
		cap *= 2;
	if (cap < need)
		cap = need;
	p = realloc(w->buf, cap);
	if (!p) {
		w->err = -ENOMEM;
		return false;
	}
	w->buf = p;
	w->cap = cap;
	return true;
}

static void put(struct rfs_jsonw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void put_c(struct rfs_jsonw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

/* Before any value or key: the comma separating it from a sibling. */
static void sep(struct rfs_jsonw *w)
{
	if (w->need_comma)
		put_c(w, ',');
}

int rfs_jsonw_finish(struct rfs_jsonw *w, char **out, size_t *out_len)
{
	int rc;

	reserve(w, 0);
	rc = w->err;
	if (rc < 0) {
		rfs_jsonw_release(w);
		rfs_jsonw_init(w);
		return rc;
	}
	w->buf[w->len] = '\0';
	*out = w->buf;
	*out_len = w->len;
	rfs_jsonw_init(w);
	return 0;
}

void rfs_jsonw_obj_begin(struct rfs_jsonw *w)
{
	sep(w);
	put_c(w, '{');
	w->need_comma = false;
}

void rfs_jsonw_obj_end(struct rfs_jsonw *w)
{
	put_c(w, '}');
	w->need_comma = true;
}

void rfs_jsonw_arr_begin(struct rfs_jsonw *w)
{
	sep(w);
	put_c(w, '[');
	w->need_comma = false;
}

void rfs_jsonw_arr_end(struct rfs_jsonw *w)
{
	put_c(w, ']');
	w->need_comma = true;
}

void rfs_jsonw_key(struct rfs_jsonw *w, const char *key)
{
	rfs_jsonw_strn(w, key, strlen(key));
	put_c(w, ':');
	w->need_comma = false;
}

/* The decimal digits of v, most significant first, into the end of buf. */
static size_t fmt_u64(char *end, uint64_t v)
{
	size_t n = 0;

	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
		n++;
	} while (v);
	return n;
}

static void put_uint(struct rfs_jsonw *w, uint64_t v, bool neg)
{
	char tmp[24];
	size_t n = fmt_u64(tmp + sizeof(tmp), v);

	if (neg)
		tmp[sizeof(tmp) - ++n] = '-';
	sep(w);
	put(w, tmp + sizeof(tmp) - n, n);
	w->need_comma = true;
}

void rfs_jsonw_u64(struct rfs_jsonw *w, uint64_t v)
{
	if (v > (uint64_t)INT64_MAX) {
		rfs_jsonw_fail(w, -ERANGE);
		return;
	}
	put_uint(w, v, false);
}

void rfs_jsonw_i64(struct rfs_jsonw *w, int64_t v)
{
	/* the magnitude of INT64_MIN does not fit in int64_t */
	if (v < 0)
		put_uint(w, (uint64_t)0 - (uint64_t)v, true);
	else
		put_uint(w, (uint64_t)v, false);
}

void rfs_jsonw_u32(struct rfs_jsonw *w, uint32_t v)
{
	put_uint(w, v, false);
}

void rfs_jsonw_bool(struct rfs_jsonw *w, bool v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
	w->need_comma = true;
}

void rfs_jsonw_hex64(struct rfs_jsonw *w, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[JSONW_HEX64_TEXT];
	int i;

	tmp[0] = '"';
	for (i = 16; i >= 1; i--) {
		tmp[i] = digits[v & 0xf];
		v >>= 4;
	}
	tmp[17] = '"';
	sep(w);
	put(w, tmp, sizeof(tmp));
	w->need_comma = true;
}

/* Length of the UTF-8 sequence starting with byte c, 0 if c cannot. */
static size_t utf8_first(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0; /* continuation byte or overlong 2-byte form */
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	if (c < 0xf5)
		return 4;
	return 0;
}

/* The n-byte sequence at s (first byte checked) is valid. */
static bool utf8_rest(const unsigned char *s, size_t n)
{
	uint32_t cp = s[0] & (0x7f >> n);
	size_t i;

	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return false; /* overlong */
	return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

bool rfs_jsonw_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	size_t n;

	while (i < len) {
		if (p[i] == 0)
			return false;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_first(p[i]);
		if (n == 0 || n > len - i || !utf8_rest(p + i, n))
			return false;
		i += n;
	}
	return true;
}

/* The escape of byte c as jansson writes it, into esc; its length. */
static size_t escape(unsigned char c, char *esc)
{
	static const char hex[] = "0123456789ABCDEF";

	esc[0] = '\\';
	switch (c) {
	case '"':
	case '\\':
		esc[1] = (char)c;
		return 2;
	case '\b':
		esc[1] = 'b';
		return 2;
	case '\f':
		esc[1] = 'f';
		return 2;
	case '\n':
		esc[1] = 'n';
		return 2;
	case '\r':
		esc[1] = 'r';
		return 2;
	case '\t':
		esc[1] = 't';
		return 2;
	default:
		memcpy(esc + 1, "u00", 3);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 0xf];
		return 6;
	}
}

void rfs_jsonw_strn(struct rfs_jsonw *w, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = 0;
	size_t i;
	char *d;

	if (w->err)
		return;
	if (!rfs_jsonw_utf8_ok(s, len)) {
		rfs_jsonw_fail(w, -EILSEQ);
		return;
	}
	/* room for the worst case (every byte a \u00XX), then no checks */
	if (len > (SIZE_MAX - 3) / 6) {
		rfs_jsonw_fail(w, -ENOMEM);
		return;
	}
	if (!reserve(w, 3 + 6 * len))
		return;
	d = w->buf + w->len;
	if (w->need_comma)
		*d++ = ',';
	*d++ = '"';
	/* copy runs of plain bytes at once, escape the others */
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
			continue;
		memcpy(d, s + start, i - start);
		d += i - start;
		d += escape(p[i], d);
		start = i + 1;
	}
	memcpy(d, s + start, len - start);
	d += len - start;
	*d++ = '"';
	w->len = (size_t)(d - w->buf);
	w->need_comma = true;
}

void rfs_jsonw_base64(struct rfs_jsonw *w, const void *buf, size_t len)
{
	char *text;

	if (w->err)
		return;
	if (rfs_base64_encode(buf, len, &text) < 0) {
		rfs_jsonw_fail(w, -ENOMEM);
		return;
	}
	/* the base64 alphabet needs no escaping */
	sep(w);
	put_c(w, '"');
	put(w, text, strlen(text));
	put_c(w, '"');
	w->need_comma = true;
	free(text);
}
