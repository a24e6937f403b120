"""``save_model``, ``load_model``, ``save_weights``, ``load_weights`` and JSON, by extension.

The format follows the file name, as in Keras 3 (``keras/src/saving/saving_api.py``):
``.keras`` is the zip format, ``.h5``/``.hdf5`` the legacy HDF5 format; for weights,
``.weights.h5`` is Keras 3's layout and any other ``.h5`` the Keras 2 (tf.keras) layout.
"""

from __future__ import annotations

import json
import os
import warnings

from glassnet.saving import files, keras_format, legacy_h5, safety, weights
from glassnet.saving.compile_config import compile_model
from glassnet.saving.config_values import ReadContext
from glassnet.saving.errors import MissingModelFileError, ModelFileError
from glassnet.saving.files import atomic_write, prepare_target
from glassnet.saving.model_config import (
    emit_warnings,
    keras_major,
    model_description,
    model_from_description,
)
from glassnet.saving.training_state import build, restore_training
from glassnet.saving.weights import (
    assign,
    read_legacy_weights,
    read_v3_weights,
    v3_optimizer_entries,
    write_legacy_tree,
)
from glassnet.utils.custom_objects import custom_object_scope

_H5_EXTENSIONS = (".h5", ".hdf5")


def _format(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(".keras"):
        return "keras"
    if lower.endswith(_H5_EXTENSIONS):
        return "h5"
    return None


def save_model(model, filepath, overwrite: bool = True, **kwargs) -> None:
    """Saves a model's architecture, weights, compile settings and optimizer state.

    Args:
        model: a glassnet ``Sequential`` (built, or with a known input shape).
        filepath: ending in ``.keras`` (recommended) or ``.h5``/``.hdf5``.
        overwrite: whether to replace an existing file.
        **kwargs: ``include_optimizer`` (default ``True``): also save the optimizer's
            state; ``save_format`` (``"keras"`` or ``"h5"``, must agree with the name).

    Raises:
        ValueError: for another extension, or a model a Keras file cannot describe.
        FileExistsError: when the file exists and ``overwrite`` is false.

    Example:
        >>> import os, tempfile
        >>> from glassnet.layers import Dense
        >>> from glassnet.models import Sequential
        >>> model = Sequential([Dense(2, input_shape=(3,))])
        >>> save_model(model, os.path.join(tempfile.mkdtemp(), "model.keras"))
    """
    include_optimizer = bool(kwargs.pop("include_optimizer", True))
    save_format = kwargs.pop("save_format", None)
    if kwargs.pop("zipped", True) is False:
        raise ValueError("glassnet writes .keras files as zip archives only (zipped=True)")
    if kwargs:
        unknown = ", ".join(sorted(kwargs))
        raise TypeError(f"save_model() got unexpected keyword argument(s): {unknown}")
    path = os.fspath(filepath)
    kind = _format(path)
    if kind is None or save_format not in (None, kind):
        raise ValueError(
            "Invalid filepath extension for saving: the name must end in .keras (the Keras 3 "
            f"format) or .h5 (the legacy HDF5 format). Received: filepath={path!r}"
            + (f", save_format={save_format!r}" if save_format else "")
        )
    path = prepare_target(path, overwrite)
    if kind == "keras":
        keras_format.save_keras(model, path, include_optimizer)
    else:
        legacy_h5.save_h5(model, path, include_optimizer)


def _existing(filepath) -> str:
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise MissingModelFileError(f"File not found: filepath={path!r}. Please check the path")
    return path


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Loads a model saved by glassnet, Keras 3 or tf.keras 2 (``.keras`` or ``.h5``).

    Args:
        filepath: a ``.keras`` file (or a folder holding ``config.json``), or a
            ``.h5``/``.hdf5`` file.
        custom_objects: classes the program passes for a subclassed model saved whole (as
            ``register_keras_serializable`` registers them); layers are always glassnet's
            own, and no code named in a file is ever imported.
        compile: restore the loss, metrics, optimizer and its state (default ``True``).
        safe_mode: accepted for Keras compatibility; glassnet is always safe (a warning
            says so when ``False`` is passed).

    Returns:
        A built ``Sequential``, compiled when the file holds compile information that
        glassnet understands.

    Raises:
        ModelFileError: for a missing, damaged or refused file, naming why.
    """
    path = _existing(filepath)
    if safe_mode is False:
        warnings.warn("glassnet has no unsafe mode: files are always loaded safely, and a file "
                      "holding code (a Lambda layer) is refused", UserWarning, stacklevel=2)
    with weights.hdf5_plugins_off(), custom_object_scope(custom_objects):
        files.rehearse(lambda: _load_model(path, compile), path, f"load_model {compile=}")
        return _load_model(path, compile)


def _load_model(path: str, compile: bool):
    if os.path.isdir(path):
        if os.path.exists(os.path.join(path, keras_format.CONFIG)):
            return keras_format.load_keras(path, compile)
        raise ModelFileError(f"{path!r} is a folder without {keras_format.CONFIG}; glassnet "
                             "loads .keras files, such folders and .h5 files")
    kind = _format(path)
    if kind == "keras":
        return keras_format.load_keras(path, compile)
    if kind == "h5":
        return legacy_h5.load_h5(path, compile)
    raise ModelFileError(
        f"File format not supported: filepath={path!r}. glassnet, like Keras 3, loads .keras "
        "and .h5/.hdf5 files (TensorFlow SavedModel folders are not supported)"
    )


def _require_built(model, what: str) -> None:
    if not model.built:
        if model.input_shape is None:
            raise ValueError(f"{what}() needs a built model: give the first layer input_shape=... "
                             "or call model.build((None, columns)) first")
        model.build()


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Saves only the weights (and optimizer state): ``.weights.h5``, or a Keras 2 ``.h5``.

    A name ending in ``.weights.h5`` gets Keras 3's layout (with the optimizer's state if
    compiled); any other ``.h5``/``.hdf5`` name gets the layout tf.keras 2's
    ``save_weights`` wrote, which Keras 3's ``load_weights`` also reads.

    Raises:
        ValueError: for another extension.
    """
    path = os.fspath(filepath)
    if not path.lower().endswith(_H5_EXTENSIONS):
        raise ValueError("The filename must end in .weights.h5 (Keras 3) or .h5. "
                         f"Received: filepath={path!r}")
    _require_built(model, "save_weights")
    path = prepare_target(path, overwrite)
    if path.lower().endswith(".weights.h5"):
        data = keras_format.weights_bytes(model, include_optimizer=True)
        with atomic_write(path) as tmp, open(tmp, "wb") as f:
            f.write(data)
        return
    import h5py

    with atomic_write(path) as tmp, h5py.File(tmp, "w", locking=False) as f:
        write_legacy_tree(f, model)


def load_weights(model, filepath) -> None:
    """Loads weights into a built model from a glassnet or Keras weights or model file.

    Accepts ``.weights.h5`` (Keras 3), ``.keras`` (its weights), and ``.h5`` files of either
    layout (a Keras 2 ``save_weights`` file or a full ``.h5`` model); the layout is told
    from the file's content. When the model is compiled and a Keras 3 layout holds a
    matching optimizer state, that state is restored too (as Keras 3 does).

    Raises:
        ModelFileError: when the file's weights do not fit the model, naming the layer.
    """
    path = _existing(filepath)
    _require_built(model, "load_weights")
    with weights.hdf5_plugins_off():
        files.rehearse(lambda: _load_weights(model, path), path)
        _load_weights(model, path)


def _load_weights(model, path: str) -> None:
    where = repr(path)
    ctx = ReadContext(where)
    if _format(path) == "keras" or os.path.isdir(path):
        members = keras_format.read_members(path, where, need_config=False)
        source, what = members[keras_format.WEIGHTS], f"{keras_format.WEIGHTS} of {where}"
        if keras_format.METADATA in members:
            metadata = safety.parse_json(members[keras_format.METADATA], where)
            version = metadata.get("keras_version") if isinstance(metadata, dict) else None
            ctx.keras_major = keras_major(version if isinstance(version, str) else None)
    elif _format(path) == "h5":
        source, what = path, where
    else:
        raise ModelFileError(f"File format not supported for weights: filepath={path!r}. "
                             "Use .weights.h5, .h5 or .keras")
    with weights.open_h5(source, what) as f:
        with weights.h5_errors(what):
            legacy = f if weights.read_str_list_attr(f, "layer_names") is not None else (
                weights.get_group(f, "model_weights", what))
            if legacy is not None:
                arrays = read_legacy_weights(legacy, model.layers, what)
            elif "layers" in f or "vars" in f:
                arrays = read_v3_weights(f, model, what)
            else:
                raise ModelFileError(f"{what} holds no Keras weights (no layer_names, "
                                     "model_weights or layers group)")
        assign(model, arrays)
        if legacy is None and model.get_compile_config():
            with weights.h5_errors(what):
                restore_training(model, ctx, None,
                                 lambda limit: v3_optimizer_entries(f, what, limit))
    emit_warnings(ctx)


def model_to_json(model, **kwargs) -> str:
    """The model's architecture as Keras 3 JSON (``json.dumps`` keyword arguments pass on).

    Example:
        >>> from glassnet.layers import Dense
        >>> from glassnet.models import Sequential
        >>> text = model_to_json(Sequential([Dense(2, input_shape=(3,))]))
        >>> text.startswith('{"module": "keras", "class_name": "Sequential"')
        True
    """
    return json.dumps(model_description(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A model with fresh weights from JSON made by ``to_json`` (glassnet's or Keras's).

    If the JSON holds a ``compile_config`` glassnet understands, the model is compiled.

    Raises:
        ModelFileError: for JSON glassnet refuses, naming why.
    """
    if custom_objects:
        warnings.warn("glassnet ignores custom_objects: it loads only its built-in classes",
                      UserWarning, stacklevel=2)
    description = safety.parse_json(json_string, "the JSON model description")
    version = description.get("keras_version") if isinstance(description, dict) else None
    ctx = ReadContext("the JSON model description",
                      keras_major(version if isinstance(version, str) else None))
    model = model_from_description(description, ctx)
    build(model, ctx)
    compile_config = description.get("compile_config")
    if isinstance(compile_config, dict) and compile_config:
        compile_model(model, compile_config, ctx)
    emit_warnings(ctx)
    return model
