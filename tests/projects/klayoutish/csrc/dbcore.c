/* klayoutish.dbcore: NEEDED lib_tl.so only (no direct reference to libdemo), DT_RPATH $ORIGIN.
 * libdemo is reached transitively, which is exactly the KLayout case (auditwheel #137). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>

#include "tl.h"

static PyObject *dbcore_add(PyObject *self, PyObject *args)
{
    int a, b;
    if (!PyArg_ParseTuple(args, "ii", &a, &b))
        return NULL;
    return PyLong_FromLong(tl_add(a, b));
}

static PyObject *dbcore_version(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(tl_version());
}

/* load_plugin(path) -> int: dlopen the plugin and return plugin_answer(). */
static PyObject *dbcore_load_plugin(PyObject *self, PyObject *args)
{
    const char *path;
    void *handle;
    int (*answer)(void);
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        PyErr_Format(PyExc_OSError, "dlopen failed: %s", dlerror());
        return NULL;
    }
    *(void **)&answer = dlsym(handle, "plugin_answer");
    if (answer == NULL) {
        PyErr_Format(PyExc_OSError, "dlsym(plugin_answer) failed: %s", dlerror());
        return NULL;
    }
    return PyLong_FromLong(answer()); /* the handle stays open, as a real plugin would */
}

static PyMethodDef dbcore_methods[] = {
    {"add", dbcore_add, METH_VARARGS, "add(a, b) -> a + b, via lib_tl.so and libdemo."},
    {"version", dbcore_version, METH_NOARGS, "Version string built by lib_tl.so from libdemo's."},
    {"load_plugin", dbcore_load_plugin, METH_VARARGS, "load_plugin(path) -> plugin_answer() of a dlopen'ed plugin."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef dbcore_module = {
    PyModuleDef_HEAD_INIT, "klayoutish.dbcore", NULL, -1, dbcore_methods,
};

PyMODINIT_FUNC PyInit_dbcore(void) { return PyModule_Create(&dbcore_module); }
