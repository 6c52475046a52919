#include <config.h>
#include "common/httpd.h"
