#include <config.h>
#include "common/crypto.h"
