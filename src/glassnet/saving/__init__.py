"""Model files: ``.keras`` and ``.h5`` that real Keras reads and writes, loaded safely.

* ``save_model(model, "model.keras")`` / ``save_model(model, "model.h5")``: architecture,
  weights, compile settings, optimizer state and random state, written atomically.
* ``load_model(path)``: files from glassnet, Keras 3 and tf.keras 2, checked against an
  allowlist; nothing in a file is ever executed or imported.
* ``save_weights``/``load_weights``: ``.weights.h5`` (Keras 3) or ``.h5`` (Keras 2 layout).
* ``model_to_json``/``model_from_json``: the architecture as Keras JSON.

Every refused or unreadable file raises ``ModelFileError`` (a ``ValueError``) saying why.
See docs/model-files.md.

Saving knows no layer, optimizer or model internals: it goes through Keras 3's interface
(a layer's ``config_keys``, ``get_config``/``from_config`` and
``save_own_variables``/``load_own_variables``; the model's ``get_compile_config``/
``compile_from_config``; the optimizer's ``save_own_variables``/``load_own_variables``).
The modules, by format:

* ``api``: the public functions, choosing the format by file name;
* ``keras_format``: the ``.keras`` zip; ``legacy_h5``: the legacy ``.h5`` model file;
* ``weights``: HDF5 access and the two weight layouts (``.weights.h5``, Keras 2 ``.h5``);
* ``model_config``: the one reader and writer of model and layer configs;
* ``compile_config`` and ``training_state``: compile settings, optimizer and random state;
* ``safety`` and ``config_values``: the safety rules, for files and for the values in them;
* ``files``: crash-safe (atomic) writes, and damaged files read first in a forked copy;
* ``errors``: ``ModelFileError`` and ``MissingModelFileError``.
"""

from glassnet import _file_hooks
from glassnet.saving.api import (
    load_model,
    load_weights,
    model_from_json,
    model_to_json,
    save_model,
    save_weights,
)
from glassnet.saving.errors import MissingModelFileError, ModelFileError
from glassnet.utils.custom_objects import (
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

# The model's file methods (model.save, ...) call these through glassnet._file_hooks.
_file_hooks.provide(
    save_model=save_model,
    save_weights=save_weights,
    load_weights=load_weights,
    model_to_json=model_to_json,
)

__all__ = [
    "MissingModelFileError",
    "ModelFileError",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "load_model",
    "load_weights",
    "model_from_json",
    "model_to_json",
    "save_model",
    "save_weights",
]
