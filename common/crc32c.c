#include <config.h>
#include "common/crc32c.h"
