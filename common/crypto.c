#include <config.h>
#include "common/crypto.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/*
 * OpenSSL's base64 and random calls take int lengths; larger inputs are
 * processed in pieces of these sizes (multiples of 3 input bytes and 4
 * text bytes, so pieces join without padding in between).
 */
#define BASE64_ENCODE_PIECE_BYTES (3u << 20)
#define BASE64_DECODE_PIECE_BYTES (4u << 20)
#define BASE64_GROUP_BYTES	  3
#define BASE64_GROUP_CHARS	  4
#define RAND_PIECE_BYTES	  (1u << 30)

void rfs_sha256(const void *buf, size_t len, uint8_t out[RFS_SHA256_BYTES])
{
	/*
	 * EVP_Digest can only fail when OpenSSL runs out of memory; the
	 * header promises no failure, so the digest is then all zeros,
	 * which no real input produces in practice.
	 */
	if (!EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL))
		memset(out, 0, RFS_SHA256_BYTES);
}

void rfs_hmac_sha256(const void *key, size_t key_len, const void *msg,
		     size_t msg_len, uint8_t out[RFS_SHA256_BYTES])
{
	/* a non-NULL pointer for an empty key, which OpenSSL may refuse */
	static const uint8_t empty_key[1];
	uint8_t key_digest[RFS_SHA256_BYTES];
	unsigned int out_len = RFS_SHA256_BYTES;

	/*
	 * HMAC() takes an int key length. RFC 2104 replaces a key longer
	 * than the block size by its hash, so doing that here for huge keys
	 * gives the same MAC.
	 */
	if (key_len > INT_MAX) {
		rfs_sha256(key, key_len, key_digest);
		key = key_digest;
		key_len = sizeof(key_digest);
	}
	if (key_len == 0)
		key = empty_key;
	/* fails only on OOM inside OpenSSL; see rfs_sha256 */
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &out_len))
		memset(out, 0, RFS_SHA256_BYTES);
}

int rfs_random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t piece;

	while (len > 0) {
		piece = len > RAND_PIECE_BYTES ? RAND_PIECE_BYTES : len;
		if (RAND_bytes(p, (int)piece) != 1)
			return -EIO;
		p += piece;
		len -= piece;
	}
	return 0;
}

void rfs_hex_encode(const uint8_t *buf, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* Value of one hex digit, or -1 if c is not one. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rfs_hex_decode_u64(const char *s, size_t digits, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int d;

	if (digits == 0 || digits > RFS_HEX_U64_DIGITS)
		return -EINVAL;
	for (i = 0; i < digits; i++) {
		d = hex_value(s[i]);
		if (d < 0)
			return -EPROTO;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

int rfs_base64_encode(const void *buf, size_t len, char **out)
{
	const unsigned char *in = buf;
	size_t groups =
	    len / BASE64_GROUP_BYTES + (len % BASE64_GROUP_BYTES != 0);
	unsigned char *text;
	size_t used = 0;
	size_t piece;

	if (groups > (SIZE_MAX - 1) / BASE64_GROUP_CHARS)
		return -ENOMEM;
	text = malloc(groups * BASE64_GROUP_CHARS + 1);
	if (!text)
		return -ENOMEM;
	text[0] = '\0';
	while (len > 0) {
		piece = len > BASE64_ENCODE_PIECE_BYTES
			    ? BASE64_ENCODE_PIECE_BYTES
			    : len;
		/* writes 4 chars per started group of 3 bytes, then a NUL */
		used += (size_t)EVP_EncodeBlock(text + used, in, (int)piece);
		in += piece;
		len -= piece;
	}
	*out = (char *)text;
	return 0;
}

static bool is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * Check that text is whole groups of 4 alphabet characters, where only the
 * last group may end in one or two '='. EVP_DecodeBlock is laxer (it skips
 * white space and does not report padding), so input is checked here
 * first. Returns the number of '=' or -EPROTO.
 */
static int check_base64(const char *text, size_t len)
{
	size_t pad = 0;
	size_t i;

	if (len % BASE64_GROUP_CHARS != 0)
		return -EPROTO;
	if (len > 0 && text[len - 1] == '=')
		pad = (len > 1 && text[len - 2] == '=') ? 2 : 1;
	for (i = 0; i < len - pad; i++) {
		if (!is_base64_char(text[i]))
			return -EPROTO;
	}
	return (int)pad;
}

int rfs_base64_decode(const char *text, size_t text_len, char **out,
		      size_t *out_len)
{
	const unsigned char *in = (const unsigned char *)text;
	unsigned char *data;
	size_t used = 0;
	size_t piece;
	int pad;
	int n;

	pad = check_base64(text, text_len);
	if (pad < 0)
		return pad;
	data = malloc(text_len / BASE64_GROUP_CHARS * BASE64_GROUP_BYTES + 1);
	if (!data)
		return -ENOMEM;
	while (text_len > 0) {
		piece = text_len > BASE64_DECODE_PIECE_BYTES
			    ? BASE64_DECODE_PIECE_BYTES
			    : text_len;
		n = EVP_DecodeBlock(data + used, in, (int)piece);
		if (n < 0)
			goto out_free_data;
		used += (size_t)n;
		in += piece;
		text_len -= piece;
	}
	/* EVP_DecodeBlock counts the zero bytes that padding stands for */
	used -= (size_t)pad;
	data[used] = '\0';
	*out = (char *)data;
	*out_len = used;
	return 0;

out_free_data:
	free(data);
	return -EPROTO;
}
