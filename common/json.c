#include <config.h>
#include "common/json.h"
