"""The legacy ``.h5`` model format (HDF5 with ``model_config`` and ``model_weights``).

Written as Keras 3 writes it (``keras/src/legacy/saving/legacy_h5_format.py``,
``save_model_to_hdf5``), with two deliberate differences from Keras 3.15's own files: loss
and metric aliases are written in full (``"mean_squared_error"``, not ``"mse"``, which
Keras 3.15 fails to load from ``.h5``), and Dense configs leave out
``quantization_config`` (which Keras 3.8 refuses). Read as Keras 3 and tf.keras 2 write it.
"""

from __future__ import annotations

import json

import h5py

from glassnet.saving import safety, weights
from glassnet.saving.compile_config import compile_parts, h5_training_config
from glassnet.saving.config_values import ReadContext
from glassnet.saving.errors import ModelFileError
from glassnet.saving.files import atomic_write
from glassnet.saving.model_config import (
    KERAS_VERSION,
    emit_warnings,
    keras_major,
    model_description,
    model_from_description,
)
from glassnet.saving.training_state import (
    STATE_KEY,
    glassnet_state,
    load_into,
    optimizer_variables,
)
from glassnet.saving.weights import (
    legacy_optimizer_entries,
    read_legacy_weights,
    write_legacy_optimizer,
    write_legacy_tree,
)


def save_h5(model, path: str, include_optimizer: bool = True) -> None:
    """Writes ``model`` to ``path`` as a legacy ``.h5`` model file, atomically."""
    warnings_found: list[str] = []
    description = model_description(model, for_h5=True)
    parts = compile_parts(model, for_h5=True, warn=warnings_found.append)
    with atomic_write(path) as tmp, h5py.File(tmp, "w", locking=False) as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(description).encode("utf8")
        if parts is not None:
            f.attrs["training_config"] = json.dumps(h5_training_config(parts)).encode("utf8")
        f.attrs[STATE_KEY] = json.dumps(glassnet_state(model)).encode("utf8")
        write_legacy_tree(f.create_group("model_weights"), model)
        if include_optimizer and parts is not None:
            write_legacy_optimizer(f, optimizer_variables(model))
    emit_warnings(ReadContext(repr(path), warnings=[f"{path!r}: {w}" for w in warnings_found]))


def _json_attr(f: h5py.File, name: str, where: str):
    text = weights.read_str_attr(f, name)
    return None if text is None else safety.parse_json(text, f"{name} of {where}")


def load_h5(path: str, compile: bool = True):
    """A glassnet Sequential from a legacy ``.h5`` model file (Keras 3 or tf.keras 2)."""
    where = repr(path)
    with weights.open_h5(path, where) as f:
        with weights.h5_errors(where):
            description = _json_attr(f, "model_config", where)
            if description is None:
                if weights.read_str_list_attr(f, "layer_names") is not None or "layers" in f:
                    raise ModelFileError(
                        f"{where} holds only weights (saved with save_weights), not a model. "
                        "Build the model in code, then call model.load_weights(path)"
                    )
                raise ModelFileError(f"{where} has no model_config attribute, so it is not a "
                                     "Keras model file")
            version = weights.read_str_attr(f, "keras_version")
            training_config = _json_attr(f, "training_config", where) if compile else None
            state = _json_attr(f, STATE_KEY, where)
            weights_group = weights.get_group(f, "model_weights", where)
        # Files without keras_version come from old Keras 2 (Keras 3 always writes it).
        ctx = ReadContext(where, keras_major(version, default=2))
        model = model_from_description(description, ctx)
        if weights_group is None:
            raise ModelFileError(f"{where} has no model_weights group")
        compile_info = None
        if isinstance(training_config, dict):
            compile_info = {**training_config, "optimizer": training_config.get("optimizer_config")}
        load_into(model, ctx, lambda: read_legacy_weights(weights_group, model.layers, where),
                  compile_info, lambda limit: legacy_optimizer_entries(f, where, limit),
                  state, lambda: weights.h5_errors(where))
    emit_warnings(ctx)
    return model
