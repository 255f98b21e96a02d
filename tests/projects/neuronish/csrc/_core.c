/* neuronish._core: NEEDED libdemo.so.1 (to be grafted) and libexcludeme.so.1 (to be excluded). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "demo.h"
#include "excludeme.h"

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

static PyObject *core_excluded_answer(PyObject *self, PyObject *unused)
{
    return PyLong_FromLong(excludeme_answer());
}

static PyMethodDef core_methods[] = {
    {"add", core_add, METH_VARARGS, "add(a, b) -> a + b, computed by libdemo."},
    {"libdemo_version", core_libdemo_version, METH_NOARGS, "Version string of libdemo."},
    {"excluded_answer", core_excluded_answer, METH_NOARGS, "excludeme_answer() from libexcludeme (7)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "neuronish._core", NULL, -1, core_methods,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&core_module); }
