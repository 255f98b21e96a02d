"""The C source of a benchmark wheel's extension module (make-big-wheel.sh, make-stress-wheel.sh):
its ELF embeds a payload file through an assembler `.incbin`, so it compiles in no time whatever its
size, and it calls one function of libdemo (and of libz) so that their NEEDED entries stay.
Imported by those scripts' Python from this directory; not run."""


def incbin_module(package, name, blob, seed, comment, zlib=False):
    """C source of the module `package.name` embedding the file `blob`; `comment` is its first
    line. Its info() returns (payload size, demo_add(seed, 1)), and zlibVersion() with `zlib`."""
    sym = f"{package}_blob_{name}"
    include_zlib = "#include <zlib.h>\n" if zlib else ""
    if zlib:
        needed, fmt, extra = "libdemo and libz", "nis", ", zlibVersion()"
    else:
        needed, fmt, extra = "libdemo", "ni", ""
    returns = f"(payload size, demo_add({seed}, 1){extra})"
    return f'''\
/* {comment} */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
{include_zlib}
#include "demo.h"

__asm__(
    "  .section .rodata\\n"
    "  .balign 16\\n"
    "  .globl {sym}\\n"
    "  .hidden {sym}\\n"
    "  .type {sym}, @object\\n"
    "{sym}:\\n"
    "  .incbin \\"{blob}\\"\\n"
    "  .globl {sym}_end\\n"
    "  .hidden {sym}_end\\n"
    "{sym}_end:\\n"
    "  .size {sym}, {sym}_end - {sym}\\n"
    "  .previous\\n");

extern const unsigned char {sym}[] __attribute__((visibility("hidden")));
extern const unsigned char {sym}_end[] __attribute__((visibility("hidden")));

/* info() -> {returns}: keeps {needed} NEEDED. */
static PyObject *m_info(PyObject *self, PyObject *unused)
{{
    return Py_BuildValue("({fmt})", (Py_ssize_t)({sym}_end - {sym}), demo_add({seed}, 1){extra});
}}

static PyMethodDef m_methods[] = {{
    {{"info", m_info, METH_NOARGS, "{returns}"}},
    {{NULL, NULL, 0, NULL}},
}};

static struct PyModuleDef m_module = {{
    PyModuleDef_HEAD_INIT, "{package}.{name}", NULL, -1, m_methods,
}};

PyMODINIT_FUNC PyInit_{name}(void)
{{
    return PyModule_Create(&m_module);
}}
'''
