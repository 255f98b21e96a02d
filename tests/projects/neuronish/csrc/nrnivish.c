/* nrnivish: an ELF executable shipped in <dist>-<ver>.data/scripts/ (like NEURON's nrniv).
 * NEEDED libdemo.so.1; prints its result and where libdemo was loaded from. */
#include <stdio.h>
#include <string.h>

#include "demo.h"

int main(int argc, char **argv)
{
    char line[4096];
    FILE *maps;
    int sum = demo_add(2, 3);
    printf("nrnivish: %s, 2+3=%d\n", demo_version(), sum);
    maps = fopen("/proc/self/maps", "r");
    if (maps != NULL) {
        while (fgets(line, sizeof line, maps) != NULL) {
            char *path = strchr(line, '/');
            if (path != NULL && strstr(path, "libdemo") != NULL) {
                printf("nrnivish: libdemo from %s", path);
                break;
            }
        }
        fclose(maps);
    }
    return sum == 5 ? 0 : 1;
}
