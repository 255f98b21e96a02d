"""Repair fixture needing GLIBC_2.34 (see the project's README.md). Loads no native code."""

__version__ = "1.0"
