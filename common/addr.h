/*
 * addr: "host:port" and "[v6-host]:port" network addresses as every program
 * writes them in settings and on the wire. Pure and thread-safe.
 */
#ifndef RFS_COMMON_ADDR_H
#define RFS_COMMON_ADDR_H

#include <stddef.h>
#include <stdint.h>

/*
 * Split addr into host (brackets of an IPv6 literal removed, NUL-terminated
 * in host[0..hostlen)) and port (0..65535). Returns 0, or -EINVAL when
 * there is no port, the port is not a decimal number in range, the host is
 * empty or does not fit.
 */
int rfs_addr_split(const char *addr, char *host, size_t hostlen,
		   uint16_t *port);

#endif
