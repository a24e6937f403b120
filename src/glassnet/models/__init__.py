"""Models, as in ``keras.models``: ``Model`` (functional, ``Model(inputs, outputs)``, or
subclassed), ``Sequential``, ``load_model`` and ``model_from_json``.

A namespace over two levels of glassnet: the model itself (``glassnet.engine``) and its
files (``glassnet.saving``), which this import brings in, so that ``model.save`` and
``load_model`` work whichever way a user reaches them.
"""

from glassnet import saving
from glassnet.engine.functional import Functional
from glassnet.engine.model import Model
from glassnet.engine.sequential import Sequential
from glassnet.errors import DataError, NonFiniteLossError, NotCompiledError


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Loads a model saved by glassnet or Keras (``.keras`` or ``.h5``); see ``glassnet.saving``."""
    return saving.load_model(
        filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
    )


def model_from_json(json_string: str, custom_objects=None):
    """A model (with fresh weights) from ``model.to_json()``; see ``glassnet.saving``."""
    return saving.model_from_json(json_string, custom_objects=custom_objects)


__all__ = [
    "DataError",
    "Functional",
    "Model",
    "load_model",
    "model_from_json",
    "NonFiniteLossError",
    "NotCompiledError",
    "Sequential",
]
