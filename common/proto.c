#include <config.h>
#include "common/proto.h"
