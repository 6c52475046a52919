#include <config.h>
#include "common/ring.h"
