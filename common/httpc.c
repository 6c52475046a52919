#include <config.h>
#include "common/httpc.h"
