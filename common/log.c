#include <config.h>
#include "common/log.h"
