#ifndef KLAYOUTISH_TL_H
#define KLAYOUTISH_TL_H

/* lib_tl.so: the package's own shared library (like KLayout's lib_tl.so).
 * It is the only file that links the external libdemo.so.1. */
int tl_add(int a, int b);
const char *tl_version(void);

#endif
