#include <config.h>
#include "common/addr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rfs_addr_split(const char *addr, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t len;
	char *end;
	unsigned long p;

	if (colon == NULL || colon == addr)
		return -EINVAL;
	len = (size_t)(colon - addr);
	if (addr[0] == '[' && len >= 2 && addr[len - 1] == ']') {
		h = addr + 1;
		len -= 2;
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (len == 0 || len >= hostlen || errno != 0 || *end != '\0' ||
	    end == colon + 1 || colon[1] < '0' || colon[1] > '9' ||
	    p > UINT16_MAX)
		return -EINVAL;
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (uint16_t)p;
	return 0;
}
