#include <config.h>
#include "client/client.h"
