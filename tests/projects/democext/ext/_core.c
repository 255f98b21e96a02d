#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <zlib.h>

#include "demo.h"

static PyObject *core_add(PyObject *self, PyObject *args)
{
    int a, b;
    if (!PyArg_ParseTuple(args, "ii", &a, &b))
        return NULL;
    return PyLong_FromLong(demo_add(a, b));
}

static PyObject *core_libdemo_version(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(demo_version());
}

static PyObject *core_zlib_version(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(zlibVersion());
}

static PyMethodDef core_methods[] = {
    {"add", core_add, METH_VARARGS, "add(a, b) -> a + b, computed by libdemo."},
    {"libdemo_version", core_libdemo_version, METH_NOARGS, "Version string of libdemo."},
    {"zlib_version", core_zlib_version, METH_NOARGS, "zlibVersion() of the loaded zlib."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "democext._core", NULL, -1, core_methods,
};

PyMODINIT_FUNC PyInit__core(void)
{
    PyObject *module = PyModule_Create(&core_module);
#ifdef Py_GIL_DISABLED
    /* No global state: safe without the GIL, so a free-threaded Python keeps it off. */
    if (module != NULL && PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(module);
        return NULL;
    }
#endif
    return module;
}
