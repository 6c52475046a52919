#include <config.h>
#include "metaserver/fsm.h"
