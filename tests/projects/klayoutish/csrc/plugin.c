/* db_plugins/libplugin.so: loaded by klayoutish.dbcore with dlopen, like KLayout's db plugins.
 * NEEDED lib_tl.so, found through RPATH $ORIGIN/.. (the package directory). */
#include "tl.h"

int plugin_answer(void) { return tl_add(40, 2); }

const char *plugin_version(void) { return tl_version(); }
