/*
 * crypto: the one wrapper around OpenSSL's libcrypto (hashes, HMAC,
 * randomness). Thread-safe.
 */
#ifndef RFS_COMMON_CRYPTO_H
#define RFS_COMMON_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define RFS_SHA256_BYTES 32

/* SHA-256 of buf[0..len) into out. Never fails. */
void rfs_sha256(const void *buf, size_t len, uint8_t out[RFS_SHA256_BYTES]);

/* HMAC-SHA256 of msg with key into out. Never fails. */
void rfs_hmac_sha256(const void *key, size_t key_len, const void *msg,
		     size_t msg_len, uint8_t out[RFS_SHA256_BYTES]);

/* Fill buf with cryptographically random bytes. Returns 0 or -EIO. */
int rfs_random_bytes(void *buf, size_t len);

/*
 * Write len bytes of buf as lower-case hex plus a NUL into out, which must
 * hold 2 * len + 1 bytes.
 */
void rfs_hex_encode(const uint8_t *buf, size_t len, char *out);

/* Most digits rfs_hex_decode_u64() parses: those of a uint64_t. */
#define RFS_HEX_U64_DIGITS 16

/*
 * Parse exactly digits hex digits (either case) at s into *out. The parse
 * stops at the first byte that is not a hex digit, so s may be a shorter
 * NUL-terminated string. Returns 0, -EPROTO when one of the digits is not
 * a hex digit, or -EINVAL when digits is 0 or above RFS_HEX_U64_DIGITS.
 */
int rfs_hex_decode_u64(const char *s, size_t digits, uint64_t *out);

/*
 * Base64 (standard alphabet, padded) of len bytes into a malloc'd
 * NUL-terminated *out. Returns 0 or -ENOMEM.
 */
int rfs_base64_encode(const void *buf, size_t len, char **out);

/*
 * Decode base64 text of text_len bytes into a malloc'd *out (NUL-terminated
 * beyond *out_len for convenience). Returns 0, -EPROTO when malformed, or
 * -ENOMEM.
 */
int rfs_base64_decode(const char *text, size_t text_len, char **out,
		      size_t *out_len);

#endif
