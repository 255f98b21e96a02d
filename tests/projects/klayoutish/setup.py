"""klayoutish: a repair fixture shaped like KLayout's wheels (auditwheel #136/#137).

The package ships its own shared libraries next to the extensions:

    klayoutish/lib_tl.so                     SONAME lib_tl.so, NEEDED libdemo.so.1 (external), no RPATH
    klayoutish/dbcore.<ext-suffix>           NEEDED lib_tl.so, DT_RPATH   $ORIGIN
    klayoutish/sub/tlcore.<ext-suffix>       NEEDED lib_tl.so, DT_RUNPATH $ORIGIN/..
    klayoutish/db_plugins/libplugin.so       NEEDED lib_tl.so, DT_RPATH   $ORIGIN/..  (dlopen'ed by dbcore)

lib_tl.so and libplugin.so are built by the build_ext command below straight into the build tree,
so they land in the wheel without being Python extensions. libdemo comes from DEMO_PREFIX
(tests/projects/democext/libdemo/build-libdemo.sh PREFIX); no RPATH to it is recorded anywhere:
finding it at run time is the repair tool's job.
"""

import os
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

DEMO_PREFIX = os.environ.get("DEMO_PREFIX", "/usr/local")
DEMO_INCLUDE = os.path.join(DEMO_PREFIX, "include")
DEMO_LIB = os.path.join(DEMO_PREFIX, "lib")
HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(HERE, "csrc")


def cc(*args):
    command = shlex.split(os.environ.get("CC") or "gcc") + ["-O2", "-fPIC", *args]
    print(" ".join(shlex.quote(a) for a in command), flush=True)
    subprocess.check_call(command)


class build_ext(_build_ext):
    """Builds lib_tl.so and db_plugins/libplugin.so into the package, then the extensions."""

    def build_extensions(self):
        if self.inplace:
            raise SystemExit("klayoutish does not support in-place builds")
        pkg = os.path.join(os.path.abspath(self.build_lib), "klayoutish")
        plugins = os.path.join(pkg, "db_plugins")
        os.makedirs(plugins, exist_ok=True)
        cc("-shared", "-Wl,-soname,lib_tl.so", "-I", CSRC, "-I", DEMO_INCLUDE,
           "-o", os.path.join(pkg, "lib_tl.so"), os.path.join(CSRC, "tl.c"),
           "-L", DEMO_LIB, "-ldemo")
        cc("-shared", "-Wl,-soname,libplugin.so", "-I", CSRC,
           "-o", os.path.join(plugins, "libplugin.so"), os.path.join(CSRC, "plugin.c"),
           "-L", pkg, "-l_tl", "-Wl,--disable-new-dtags,-rpath,$ORIGIN/..", "-Wl,-rpath-link," + DEMO_LIB)
        for ext in self.extensions:
            ext.library_dirs.append(pkg)
        super().build_extensions()


setup(
    package_dir={"": "src"},
    packages=["klayoutish", "klayoutish.sub"],
    cmdclass={"build_ext": build_ext},
    ext_modules=[
        Extension(
            "klayoutish.dbcore",
            sources=["csrc/dbcore.c"],
            include_dirs=[CSRC],
            libraries=["_tl", "dl"],
            # --disable-new-dtags: DT_RPATH, like KLayout's extensions.
            extra_link_args=["-Wl,--disable-new-dtags,-rpath,$ORIGIN", "-Wl,-rpath-link," + DEMO_LIB],
        ),
        Extension(
            "klayoutish.sub.tlcore",
            sources=["csrc/tlcore.c"],
            include_dirs=[CSRC],
            libraries=["_tl"],
            # --enable-new-dtags: DT_RUNPATH, which (unlike DT_RPATH) is not used for lib_tl's own
            # dependencies, so only lib_tl's RPATH can find libdemo after repair.
            extra_link_args=["-Wl,--enable-new-dtags,-rpath,$ORIGIN/..", "-Wl,-rpath-link," + DEMO_LIB],
        ),
    ],
)
