/*
 * crc32c: CRC-32C (Castagnoli) checksums through isa-l, per 64 KiB block.
 * Every block of chunk data carries one, computed by the writer, checked by
 * the chunk server on write and by the reader on read. Pure, thread-safe.
 */
#ifndef RFS_COMMON_CRC32C_H
#define RFS_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* One checksum covers this many bytes of chunk data (the last block of a
 * chunk may be shorter). 64 KiB: small enough that a bad block costs little
 * to re-read, large enough that the checksum list of a 64 MiB chunk is 1024
 * entries. */
#define RFS_CRC_BLOCK_BYTES 65536

/*
 * Standard CRC-32C of buf (rfs_crc32c(0, "123456789", 9) == 0xe3069283),
 * continuing from crc: rfs_crc32c(rfs_crc32c(0, a, n), b, m) equals the CRC
 * of a followed by b.
 */
uint32_t rfs_crc32c(uint32_t crc, const void *buf, size_t len);

/* Number of blocks covering len bytes: ceil(len / RFS_CRC_BLOCK_BYTES). */
size_t rfs_crc_block_count(uint64_t len);

/* Checksum each block of buf into out[0 .. rfs_crc_block_count(len)). */
void rfs_crc_blocks(const void *buf, size_t len, uint32_t *out);

/*
 * Format n checksums as "0a1b2c3d,00ff00ff,..." (8 lower-case hex digits
 * each, comma-separated; "" for n == 0). *out is malloc'd, the caller
 * frees it. Returns 0 or -ENOMEM.
 */
int rfs_crc_list_format(const uint32_t *crcs, size_t n, char **out);

/*
 * Parse such a list into out[0..max). Returns 0 with *n set, -EPROTO when
 * malformed (anything but 8 hex digits between commas), -E2BIG when it
 * holds more than max entries.
 */
int rfs_crc_list_parse(const char *s, uint32_t *out, size_t max, size_t *n);

#endif
