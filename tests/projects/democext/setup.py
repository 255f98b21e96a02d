import os

from setuptools import Extension, setup

# Where libdemo was installed (build-libdemo.sh PREFIX). No rpath is added:
# finding libdemo at run time is what auditwheel/wheelwright repair is for.
prefix = os.environ.get("DEMO_PREFIX", "/usr/local")

setup(
    package_dir={"": "src"},
    packages=["democext"],
    ext_modules=[
        Extension(
            "democext._core",
            sources=["ext/_core.c"],
            include_dirs=[os.path.join(prefix, "include")],
            library_dirs=[os.path.join(prefix, "lib")],
            libraries=["demo", "z"],
        )
    ]
)
