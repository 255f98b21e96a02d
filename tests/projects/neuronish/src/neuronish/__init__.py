"""Repair fixture shaped like NEURON (see the project's README.md). Loads no native code."""

__version__ = "1.0"
