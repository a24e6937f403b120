"""The errors a model file can raise."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A model file glassnet refuses to read or cannot read.

    The message names the file, what glassnet expected and what it found. It is raised
    for damaged files (truncated, not a zip or HDF5 file, members missing), for files
    whose weights do not fit their architecture, and for files that ask for something
    glassnet will not do (a ``Lambda`` layer, a custom class, a module path). Being a
    ``ValueError``, it is caught by code written for Keras, which raises ``ValueError``
    in the same situations.
    """


class MissingModelFileError(ModelFileError, FileNotFoundError):
    """The path names no file (also a ``FileNotFoundError``)."""
