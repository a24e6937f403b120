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


def save_model(model, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
    """``model.save(filepath, overwrite=...)`` (``keras.models.save_model``). ``zipped``:
    None or the form the extension implies (``.keras`` files are zipped); glassnet has no
    unzipped ``.keras`` folder."""
    if zipped is not None and zipped != str(filepath).endswith(".keras"):
        raise ValueError(
            "glassnet writes .keras files zipped and .h5 files as HDF5: `zipped` must "
            f"agree with the extension. Received: zipped={zipped!r}, filepath={filepath!r}"
        )
    model.save(filepath, overwrite=overwrite, **kwargs)


def clone_model(
    model,
    input_tensors=None,
    clone_function=None,
    call_function=None,
    recursive=False,
    **kwargs,
):
    """A new model of the same architecture with newly initialized weights
    (``keras.models.clone_model``), built from the model's config. ``input_tensors``,
    ``clone_function`` and ``call_function`` are not supported yet (refused); for a
    subclassed model, build a new instance instead."""
    for name, value in (
        ("input_tensors", input_tensors),
        ("clone_function", clone_function),
        ("call_function", call_function),
    ):
        if value is not None:
            raise NotImplementedError(
                f"glassnet's clone_model does not take `{name}` yet: it clones from the "
                "model's config (new weights)"
            )
    if kwargs:
        raise TypeError(f"Unexpected arguments: {sorted(kwargs)}")
    if not isinstance(model, (Sequential, Functional)):
        raise ValueError(
            "clone_model clones Sequential and functional models; a subclassed model "
            f"is cloned by building a new instance. Received: {type(model).__name__}"
        )
    return saving.model_from_json(model.to_json())


__all__ = [
    "clone_model",
    "save_model",
    "DataError",
    "Functional",
    "Model",
    "load_model",
    "model_from_json",
    "NonFiniteLossError",
    "NotCompiledError",
    "Sequential",
]
