#include <config.h>
#include "common/crc32c.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <isa-l/crc.h>

#include "common/crypto.h"

/* Text of one checksum in a list: 8 hex digits. */
#define CRC_HEX_DIGITS 8
/* Bytes of text per entry in a formatted list: digits plus ',' (or NUL). */
#define CRC_LIST_ENTRY_BYTES (CRC_HEX_DIGITS + 1)

/*
 * isa-l's crc32_iscsi() neither inverts its seed nor its result, and takes
 * an int length. The standard CRC-32C starts from ~0 and inverts the
 * result, so a CRC carried between calls in standard form is inverted on
 * the way in and out; large buffers are fed in INT_MAX-sized pieces.
 */
uint32_t rfs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf;
	unsigned int state = ~crc;
	size_t piece;

	while (len > 0) {
		piece = len > INT_MAX ? INT_MAX : len;
		state = crc32_iscsi(p, (int)piece, state);
		p += piece;
		len -= piece;
	}
	return ~state;
}

size_t rfs_crc_block_count(uint64_t len)
{
	return (size_t)(len / RFS_CRC_BLOCK_BYTES +
			(len % RFS_CRC_BLOCK_BYTES != 0));
}

void rfs_crc_blocks(const void *buf, size_t len, uint32_t *out)
{
	const unsigned char *p = buf;
	size_t piece;

	while (len > 0) {
		piece = len > RFS_CRC_BLOCK_BYTES ? RFS_CRC_BLOCK_BYTES : len;
		*out++ = rfs_crc32c(0, p, piece);
		p += piece;
		len -= piece;
	}
}

int rfs_crc_list_format(const uint32_t *crcs, size_t n, char **out)
{
	char *s;
	size_t i;

	if (n > (SIZE_MAX - 1) / CRC_LIST_ENTRY_BYTES)
		return -ENOMEM;
	/* each entry is 8 digits and a ',' (none after the last), plus NUL */
	s = malloc(n * CRC_LIST_ENTRY_BYTES + 1);
	if (!s)
		return -ENOMEM;
	s[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(s + i * CRC_LIST_ENTRY_BYTES, CRC_LIST_ENTRY_BYTES + 1,
			 i + 1 < n ? "%08x," : "%08x", (unsigned int)crcs[i]);
	*out = s;
	return 0;
}

/* Parse exactly 8 hex digits at s. */
static bool parse_crc(const char *s, uint32_t *out)
{
	uint64_t v;

	if (rfs_hex_decode_u64(s, CRC_HEX_DIGITS, &v) < 0)
		return false;
	*out = (uint32_t)v;
	return true;
}

int rfs_crc_list_parse(const char *s, uint32_t *out, size_t max, size_t *n)
{
	size_t count = 0;
	uint32_t crc;

	if (s[0] == '\0') {
		*n = 0;
		return 0;
	}
	for (;;) {
		/* parse_crc stops at the NUL, so it never reads past it */
		if (!parse_crc(s, &crc))
			return -EPROTO;
		s += CRC_HEX_DIGITS;
		if (*s != ',' && *s != '\0')
			return -EPROTO;
		if (count == max)
			return -E2BIG;
		out[count++] = crc;
		if (*s == '\0')
			break;
		s++;
	}
	*n = count;
	return 0;
}
