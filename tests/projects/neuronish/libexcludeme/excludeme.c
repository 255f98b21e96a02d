#include "excludeme.h"

int excludeme_answer(void) { return 7; }
