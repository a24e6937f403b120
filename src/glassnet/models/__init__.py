"""Models, as in ``keras.models``: ``Sequential`` (and ``load_model`` once files are supported)."""

from glassnet.errors import DataError, NonFiniteLossError, NotCompiledError
from glassnet.models.sequential import Sequential

Model = Sequential


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Loads a model saved by glassnet or Keras (``.keras`` or ``.h5``); see ``glassnet.saving``."""
    from glassnet import saving

    return saving.load_model(
        filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
    )


def model_from_json(json_string: str, custom_objects=None):
    """A model (with fresh weights) from ``model.to_json()``; see ``glassnet.saving``."""
    from glassnet import saving

    return saving.model_from_json(json_string, custom_objects=custom_objects)


__all__ = [
    "DataError",
    "Model",
    "load_model",
    "model_from_json",
    "NonFiniteLossError",
    "NotCompiledError",
    "Sequential",
]
