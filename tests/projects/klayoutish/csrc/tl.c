#include <stdio.h>

#include "demo.h"
#include "tl.h"

int tl_add(int a, int b) { return demo_add(a, b); }

const char *tl_version(void)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "tl on %s", demo_version());
    return buf;
}
