/* klayoutish.sub.tlcore: the same shape as dbcore, but one directory deeper and with DT_RUNPATH
 * $ORIGIN/.. instead of DT_RPATH. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "tl.h"

static PyObject *tlcore_add(PyObject *self, PyObject *args)
{
    int a, b;
    if (!PyArg_ParseTuple(args, "ii", &a, &b))
        return NULL;
    return PyLong_FromLong(tl_add(a, b));
}

static PyObject *tlcore_version(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(tl_version());
}

static PyMethodDef tlcore_methods[] = {
    {"add", tlcore_add, METH_VARARGS, "add(a, b) -> a + b, via lib_tl.so and libdemo."},
    {"version", tlcore_version, METH_NOARGS, "Version string built by lib_tl.so from libdemo's."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef tlcore_module = {
    PyModuleDef_HEAD_INIT, "klayoutish.sub.tlcore", NULL, -1, tlcore_methods,
};

PyMODINIT_FUNC PyInit_tlcore(void) { return PyModule_Create(&tlcore_module); }
