"""Repair fixture shaped like KLayout (see the project's README.md).

Importing the package loads no native code, so each extension can be imported on its own.
"""

import os

__version__ = "1.0"


def plugin_path():
    """Path of db_plugins/libplugin.so, computed from this file (as KLayout finds its plugins)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "db_plugins", "libplugin.so")
