"""The exceptions glassnet raises for a user's mistakes, in one place at the bottom of the
package, so that every level can raise them and users can catch them by name.

Each is a subclass of the built-in exception Keras raises in the same situation, so code
written for Keras catches them too.
"""

from __future__ import annotations


class DataError(ValueError):
    """Input data that glassnet cannot use as it is; the message says what and where."""


class NotCompiledError(ValueError):
    """Training or evaluating a model that has not been compiled (a ``ValueError``, as in Keras)."""


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message names the epoch, batch and layer."""


__all__ = ["DataError", "NonFiniteLossError", "NotCompiledError"]
