/* placeholder replaced by the training engine */
#include "core-priv.h"
