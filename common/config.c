#include <config.h>
#include "common/config.h"
