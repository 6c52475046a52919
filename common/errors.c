#include <config.h>
#include "common/errors.h"
