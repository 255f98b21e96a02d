#ifndef DEMO_H
#define DEMO_H

#define DEMO_VERSION "1.0"

#ifdef __cplusplus
extern "C" {
#endif

int demo_add(int a, int b);
const char *demo_version(void);

#ifdef __cplusplus
}
#endif

#endif
