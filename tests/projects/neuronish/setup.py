"""neuronish: a repair fixture shaped like NEURON's wheels (auditwheel #443).

    neuronish/_core.<ext-suffix>             NEEDED libdemo.so.1, libexcludeme.so.1 (both external)
    neuronish-1.0.data/scripts/nrnivish      ELF executable, NEEDED libdemo.so.1

libdemo comes from DEMO_PREFIX (tests/projects/democext/libdemo/build-libdemo.sh PREFIX) and
libexcludeme from the same prefix (libexcludeme/build-libexcludeme.sh PREFIX). No RPATH to the
prefix is recorded.

setuptools only knows text scripts (it rewrites their #! line), so build_scripts is replaced by a
command that compiles the executable into the scripts build directory; install_scripts then copies
it, and bdist_wheel puts it under <dist>-<ver>.data/scripts/. `scripts` must be non-empty for
setuptools to run these commands at all: it names the executable's C source, which is only read by
the build_scripts below.
"""

import os
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext  # noqa: F401  (imports setuptools' distutils)
from distutils.command.build_scripts import build_scripts as _build_scripts

DEMO_PREFIX = os.environ.get("DEMO_PREFIX", "/usr/local")
DEMO_INCLUDE = os.path.join(DEMO_PREFIX, "include")
DEMO_LIB = os.path.join(DEMO_PREFIX, "lib")
HERE = os.path.dirname(os.path.abspath(__file__))


class build_scripts(_build_scripts):
    """Compiles csrc/nrnivish.c into the scripts build directory as `nrnivish`."""

    def run(self):
        os.makedirs(self.build_dir, exist_ok=True)
        target = os.path.join(self.build_dir, "nrnivish")
        command = shlex.split(os.environ.get("CC") or "gcc") + [
            "-O2", "-I", DEMO_INCLUDE, "-o", target, os.path.join(HERE, "csrc", "nrnivish.c"),
            "-L", DEMO_LIB, "-ldemo",
        ]
        print(" ".join(shlex.quote(a) for a in command), flush=True)
        subprocess.check_call(command)
        os.chmod(target, 0o755)

    def get_outputs(self):
        return [os.path.join(self.build_dir, "nrnivish")]


setup(
    package_dir={"": "src"},
    packages=["neuronish"],
    scripts=["csrc/nrnivish.c"],
    cmdclass={"build_scripts": build_scripts},
    ext_modules=[
        Extension(
            "neuronish._core",
            sources=["csrc/_core.c"],
            include_dirs=[DEMO_INCLUDE],
            library_dirs=[DEMO_LIB],
            libraries=["demo", "excludeme"],
        ),
    ],
)
