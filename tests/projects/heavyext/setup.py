import os

from setuptools import Extension, setup

# A generated C file whose compile time dominates the build (scripts/bench-build.sh):
# HEAVYEXT_FUNCTIONS functions with loops that gcc -O2 unrolls and vectorises
# (600 take a few CPU seconds).
count = int(os.environ.get("HEAVYEXT_FUNCTIONS", "600"))
here = os.path.dirname(os.path.abspath(__file__))
source = os.path.join(here, "build-generated", "_heavy.c")
os.makedirs(os.path.dirname(source), exist_ok=True)
with open(source, "w") as out:
    out.write("#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n#include <stddef.h>\n")
    for i in range(count):
        out.write(
            f"static double heavy_{i}(const double *x, size_t n) {{\n"
            f"    double s = {i}.0, t = 1.0;\n"
            f"    for (size_t k = 0; k < n; k++) {{\n"
            f"        s += x[k] * (double)((k * {i + 3}) % 11) / (1.0 + x[(k * {i + 7}) % n]);\n"
            f"        t = t * 0.999 + s * 1e-9;\n"
            f"        if ((k & {i % 5 + 1}) == 0) s -= t;\n"
            f"    }}\n"
            f"    return s + t;\n"
            f"}}\n"
        )
    out.write("static PyObject *total(PyObject *self, PyObject *args) {\n")
    out.write("    double x[16], sum = 0.0;\n    (void)self; (void)args;\n")
    out.write("    for (int k = 0; k < 16; k++) x[k] = k + 1;\n")
    for i in range(count):
        out.write(f"    sum += heavy_{i}(x, 16);\n")
    out.write("    return PyFloat_FromDouble(sum);\n}\n")
    out.write(
        "static PyMethodDef methods[] = {{\"total\", total, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};\n"
        "static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, \"_heavy\", NULL, -1, methods};\n"
        "PyMODINIT_FUNC PyInit__heavy(void) { return PyModule_Create(&module); }\n"
    )

setup(
    package_dir={"": "src"},
    packages=["heavyext"],
    ext_modules=[Extension("heavyext._heavy", sources=[os.path.relpath(source, here)])],
)
