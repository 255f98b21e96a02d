"""Example C extension linking a non-whitelisted library (libdemo) and zlib."""

from democext._core import add, libdemo_version, zlib_version

__all__ = ["add", "libdemo_version", "zlib_version"]
__version__ = "0.1.0"
