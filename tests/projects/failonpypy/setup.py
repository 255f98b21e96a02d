import platform

from setuptools import Extension, setup

# The deliberate failure `wheelwright build` is tested with: every CPython builds, PyPy does not.
if platform.python_implementation() == "PyPy":
    raise SystemExit("failonpypy: this project refuses to build on PyPy (deliberate test failure)")

setup(
    package_dir={"": "src"},
    packages=["failonpypy"],
    ext_modules=[Extension("failonpypy._answer", sources=["ext/_answer.c"])],
)
