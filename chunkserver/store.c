#include <config.h>
#include "chunkserver/store.h"
