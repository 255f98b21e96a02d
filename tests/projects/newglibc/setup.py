"""newglibc: an extension needing GLIBC_2.34 (close_range) and libdemo (from DEMO_PREFIX).

Build it on glibc >= 2.34 (the test images are bullseye, glibc 2.31: build on the host).
"""

import os

from setuptools import Extension, setup

DEMO_PREFIX = os.environ.get("DEMO_PREFIX", "/usr/local")

setup(
    package_dir={"": "src"},
    packages=["newglibc"],
    ext_modules=[
        Extension(
            "newglibc._core",
            sources=["csrc/_core.c"],
            include_dirs=[os.path.join(DEMO_PREFIX, "include")],
            library_dirs=[os.path.join(DEMO_PREFIX, "lib")],
            libraries=["demo"],
        ),
    ],
)
