/* newglibc._core: calls close_range(), versioned GLIBC_2.34, so the wheel needs glibc >= 2.34 and
 * cannot be repaired to any older manylinux policy (e.g. manylinux_2_17). Also NEEDED libdemo.so.1,
 * so that repairing it has something to graft. Build on glibc >= 2.34 only. */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <unistd.h>

#include "demo.h"

static PyObject *core_close_nothing(PyObject *self, PyObject *unused)
{
    /* Closes descriptor 0xffffffff, which is never open: returns 0 and changes nothing. */
    return PyLong_FromLong(close_range(~0U, ~0U, 0));
}

static PyObject *core_add(PyObject *self, PyObject *args)
{
    int a, b;
    if (!PyArg_ParseTuple(args, "ii", &a, &b))
        return NULL;
    return PyLong_FromLong(demo_add(a, b));
}

static PyMethodDef core_methods[] = {
    {"close_nothing", core_close_nothing, METH_NOARGS, "close_range(~0U, ~0U, 0) -> 0 (GLIBC_2.34)."},
    {"add", core_add, METH_VARARGS, "add(a, b) -> a + b, computed by libdemo."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "newglibc._core", NULL, -1, core_methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&core_module); }
