"""Model files: ``.keras`` and ``.h5`` that real Keras reads and writes, loaded safely.

* ``save_model(model, "model.keras")`` / ``save_model(model, "model.h5")``: architecture,
  weights, compile settings, optimizer state and random state, written atomically.
* ``load_model(path)``: files from glassnet, Keras 3 and tf.keras 2, checked against an
  allowlist; nothing in a file is ever executed or imported.
* ``save_weights``/``load_weights``: ``.weights.h5`` (Keras 3) or ``.h5`` (Keras 2 layout).
* ``model_to_json``/``model_from_json``: the architecture as Keras JSON.

Every refused or unreadable file raises ``ModelFileError`` (a ``ValueError``) saying why.
See docs/model-files.md.
"""

from glassnet.saving.api import (
    load_model,
    load_weights,
    model_from_json,
    model_to_json,
    save_model,
    save_weights,
)
from glassnet.saving.errors import MissingModelFileError, ModelFileError

__all__ = [
    "MissingModelFileError",
    "ModelFileError",
    "load_model",
    "load_weights",
    "model_from_json",
    "model_to_json",
    "save_model",
    "save_weights",
]
