/*
 * json: small typed accessors over jansson used by proto.c (the only other
 * user of jansson). Each getter checks presence, type and range and returns
 * 0, -ENOENT when the key is absent, or -EPROTO for a wrong type/range.
 */
#ifndef RFS_COMMON_JSON_H
#define RFS_COMMON_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* accessors: added by proto.c owner */

#endif
