"""A whole model's description, translated between Keras's JSON and a glassnet Sequential.

Keras writes a Sequential as ``{"module": "keras", "class_name": "Sequential", "config":
{"name", "layers": [...], ...}, "build_config": ...}`` (``keras/src/models/sequential.py``,
``get_config``), with an ``InputLayer`` entry first that holds the input's ``batch_shape``.
The legacy ``.h5`` format stores the same object without ``module`` on layer entries, and
Keras 2 uses ``batch_input_shape`` and string dtypes (see docs/model-files.md).

Reading checks the description against ``glassnet.saving.safety`` first, then translates
each layer (``glassnet.saving.layer_configs``) and plans its shapes, so the size of every
weight is known, and checked, before anything is allocated.
"""

from __future__ import annotations

import warnings

from glassnet.layers import InputLayer
from glassnet.models.sequential import Sequential
from glassnet.saving import safety
from glassnet.saving.config_values import Keys, ReadContext, read_dtype
from glassnet.saving.errors import ModelFileError
from glassnet.saving.layer_configs import READERS, policy, read_layer
from glassnet.saving.layer_configs import write_layer as _write_layer

#: The Keras version whose file layout glassnet writes (recorded in the files it writes).
KERAS_VERSION = "3.15.1"
#: Layer classes that hold weights and therefore get a ``build_config`` in ``.keras`` files.
_BUILT_CLASSES = ("Dense", "BatchNormalization", "Normalization")


def keras_major(version: str | None, default: int = 3) -> int:
    """The major version from a ``keras_version`` string such as ``"2.21.0"``."""
    if not version:
        return default
    head = version.split(".")[0]
    return int(head) if head.isdigit() else default


def emit_warnings(ctx: ReadContext) -> None:
    """Issues the warnings a translation collected, each once."""
    for message in ctx.warnings:
        warnings.warn(message, UserWarning, stacklevel=4)


# --- reading ----------------------------------------------------------------------------------


def _shape(value, what: str, ctx: ReadContext, with_batch: bool) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) < (2 if with_batch else 1):
        raise ModelFileError(f"{ctx.where}: {what} is not a shape: {value!r}")
    if with_batch:
        batch, value = value[0], value[1:]
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int)):
            raise ModelFileError(f"{ctx.where}: {what} has an invalid batch size {batch!r}")
    dims = []
    for dim in value:
        if isinstance(dim, bool) or not isinstance(dim, int) or not 0 < dim <= safety.MAX_DIMENSION:
            raise ModelFileError(
                f"{ctx.where}: {what} is {value!r}; glassnet needs every dimension of a row to be "
                "a known positive integer"
            )
        dims.append(dim)
    return tuple(dims)


def _read_input_layer(config, ctx: ReadContext) -> tuple[str | None, tuple[int, ...] | None]:
    if not isinstance(config, dict):
        raise ModelFileError(f"{ctx.where}: the InputLayer entry has no config")
    keys = Keys(config, "the InputLayer", ctx)
    shape = None
    for key, with_batch in (("batch_shape", True), ("batch_input_shape", True),
                            ("shape", False), ("input_shape", False)):
        value = keys.take(key)
        if value is not None and shape is None:
            shape = _shape(value, f"the InputLayer's {key}", ctx, with_batch)
    name = keys.take("name")
    if name is not None and not isinstance(name, str):
        raise ModelFileError(f"{ctx.where}: the InputLayer has an invalid name {name!r}")
    dtype = keys.take("dtype")
    if dtype is not None and not isinstance(dtype, (str, dict)):
        raise ModelFileError(f"{ctx.where}: the InputLayer has an invalid dtype {dtype!r}")
    keys.must_be("sparse", (False, None), "sparse inputs")
    keys.must_be("ragged", (False, None), "ragged inputs")
    keys.take("optional")
    keys.take("batch_size")
    keys.take("input_tensor")
    keys.finish()
    return name, shape


def _first_layer_shape(entry, ctx: ReadContext) -> tuple[int, ...] | None:
    config = entry.get("config") if isinstance(entry, dict) else None
    if isinstance(config, dict):
        for key, with_batch in (("batch_input_shape", True), ("batch_shape", True),
                                ("input_shape", False)):
            if config.get(key) is not None:
                return _shape(config[key], f"the first layer's {key}", ctx, with_batch)
        if config.get("input_dim") is not None:
            return _shape([config["input_dim"]], "the first layer's input_dim", ctx, False)
    build = entry.get("build_config") if isinstance(entry, dict) else None
    if isinstance(build, dict) and build.get("input_shape") is not None:
        return _shape(build["input_shape"], "the first layer's build_config", ctx, True)
    return None


def _input(description: dict, config: dict, entries: list, ctx: ReadContext):
    name = shape = None
    if entries[0].get("class_name") == "InputLayer":
        name, shape = _read_input_layer(entries[0].get("config"), ctx)
    if shape is None and config.get("build_input_shape") is not None:
        shape = _shape(config["build_input_shape"], "build_input_shape", ctx, True)
    build = description.get("build_config")
    if shape is None and isinstance(build, dict) and build.get("input_shape") is not None:
        shape = _shape(build["input_shape"], "the model's build_config", ctx, True)
    rest = [e for e in entries if e.get("class_name") != "InputLayer"]
    if shape is None and rest:
        shape = _first_layer_shape(rest[0], ctx)
    if shape is None:
        raise ModelFileError(
            f"{ctx.where}: the model does not record its input shape (no InputLayer, "
            "build_input_shape or batch_input_shape), so glassnet cannot rebuild it"
        )
    return name, shape


def model_from_description(description, ctx: ReadContext) -> Sequential:
    """An unbuilt Sequential (its layers planned) from a Keras model description.

    Args:
        description: the parsed ``config.json`` / ``model_config`` / ``to_json`` object;
            its ``compile_config``, if any, is ignored here.
        ctx: the file and its Keras version; collects warnings.

    Raises:
        ModelFileError: for anything glassnet will not or cannot build, naming it.
    """
    description = safety.plain_lists(description)
    if not isinstance(description, dict):
        raise ModelFileError(f"{ctx.where}: the model description is not a JSON object")
    description = {k: v for k, v in description.items() if k != "compile_config"}
    safety.check_description(description, ctx.where)
    class_name = description.get("class_name")
    if class_name != "Sequential":
        raise ModelFileError(
            f"{ctx.where}: the file holds a {class_name!r} model; glassnet loads Sequential "
            "models only (a functional or subclassed model is not supported)"
        )
    config = description.get("config")
    if isinstance(config, list):  # Keras <= 2.2 wrote the layer list itself
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{ctx.where}: the Sequential config has no list of layers")
    entries = config["layers"]
    if not entries or len(entries) > safety.MAX_LAYERS:
        raise ModelFileError(f"{ctx.where}: the model has {len(entries)} layers; glassnet "
                             f"reads 1 to {safety.MAX_LAYERS}")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise ModelFileError(f"{ctx.where}: layer entry {index} has no class_name")
    name = config.get("name") or "sequential"
    if not isinstance(name, str):
        raise ModelFileError(f"{ctx.where}: the model has an invalid name {name!r}")
    read_dtype(config.get("dtype"), "the model", ctx)
    input_name, shape = _input(description, config, entries, ctx)
    input_shape = shape
    layers, total = [], 0
    for index, entry in enumerate(entries):
        layer_class = entry["class_name"]
        if layer_class == "InputLayer":
            if index:
                raise ModelFileError(f"{ctx.where}: an InputLayer can only come first")
            continue
        layer_config = entry.get("config")
        if not isinstance(layer_config, dict):
            raise ModelFileError(f"{ctx.where}: layer {index} ({layer_class}) has no config")
        label = f"layer {index} ({layer_class} {layer_config.get('name')!r})"
        if layer_class not in READERS:
            raise ModelFileError(
                f"{ctx.where}: {label} is a {layer_class!r} layer, which glassnet does not have. "
                f"glassnet can load: {', '.join(['InputLayer', *sorted(READERS)])}"
            )
        layer = read_layer(layer_class, layer_config, label, shape, ctx)
        if any(other.name == layer.name for other in layers):
            raise ModelFileError(f"{ctx.where}: two layers are named {layer.name!r}")
        try:
            shape = layer.plan(shape)
        except ValueError as error:
            raise ModelFileError(f"{ctx.where}: {label} does not fit its input: {error}") from None
        for spec in layer.specs:
            total += safety.check_shape(spec.shape, f"{ctx.where}: {label} {spec.name}")
        layers.append(layer)
    safety.check_total(total, ctx.where)
    trainable = config.get("trainable", True)
    model = Sequential(name=name, trainable=trainable if isinstance(trainable, bool) else True)
    model.add(InputLayer(shape=input_shape, name=input_name))
    for layer in layers:
        model.add(layer)
    return model


# --- writing ----------------------------------------------------------------------------------


def _require_built(model: Sequential) -> None:
    if not isinstance(model, Sequential):
        raise TypeError(f"glassnet saves Sequential models; received {type(model).__name__}")
    if not model.built:
        if model.input_shape is None:
            raise ValueError(
                "The model does not know its input shape yet, so it has no weights to save. "
                "Give the first layer input_shape=..., or call model.build(...) or fit() first"
            )
        model.build()


def model_description(model: Sequential, for_h5: bool = False) -> dict:
    """The Keras 3 description of a glassnet Sequential (without ``compile_config``).

    Args:
        model: a built (or buildable) Sequential.
        for_h5: the legacy ``.h5`` form: layer entries hold only ``class_name`` and
            ``config``, and the model object has no ``module``/``build_config``.

    Raises:
        ValueError: for a model a Keras file cannot describe (a Python-function
            activation, a layer name with ``/``...).
    """
    _require_built(model)
    dtype_name = model.storage.dtype.name
    batch_shape = [None, *model.input_shape]
    input_layer = getattr(model, "_input_layer", None)
    entries = [{
        "class_name": "InputLayer",
        "config": {"batch_shape": batch_shape, "dtype": dtype_name, "sparse": False,
                   "ragged": False, "name": input_layer.name if input_layer else "input_layer",
                   "optional": False},
    }]
    for layer in model.layers:
        entry = {"class_name": type(layer).__name__, "config": _write_layer(layer, dtype_name)}
        if not for_h5 and entry["class_name"] in _BUILT_CLASSES:
            entry["build_config"] = {"input_shape": [None, *layer.input_shape]}
        entries.append(entry)
    if not for_h5:
        entries = [{"module": "keras.layers", "class_name": e["class_name"], "config": e["config"],
                    "registered_name": None, **({"build_config": e["build_config"]}
                                                if "build_config" in e else {})}
                   for e in entries]
    config = {"name": model.name, "trainable": model.trainable, "dtype": policy(dtype_name),
              "layers": entries, "build_input_shape": batch_shape}
    if for_h5:
        return {"class_name": "Sequential", "config": config}
    return {"module": "keras", "class_name": "Sequential", "config": config,
            "registered_name": None, "build_config": {"input_shape": batch_shape}}
