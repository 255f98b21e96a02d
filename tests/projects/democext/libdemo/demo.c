#include "demo.h"

int demo_add(int a, int b) { return a + b; }

const char *demo_version(void) { return "libdemo " DEMO_VERSION; }
