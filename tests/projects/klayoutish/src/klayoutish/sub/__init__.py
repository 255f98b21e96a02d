"""Nested subpackage holding the DT_RUNPATH variant of the extension."""
