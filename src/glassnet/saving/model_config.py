"""Model configs: a Keras model description to a glassnet Sequential and back.

Keras writes a Sequential as ``{"module": "keras", "class_name": "Sequential", "config":
{"name", "layers": [...], ...}, "build_config": ...}`` (``keras/src/engine/sequential.py``,
``get_config``), with an ``InputLayer`` entry first that holds the input's ``batch_shape``.
The legacy ``.h5`` format stores the same object without ``module`` on layer entries, and
Keras 2 uses ``batch_input_shape`` and string dtypes (see docs/model-files.md).

Reading checks the description against ``glassnet.saving.safety`` first, then reads each
layer through the keys its class declares (``config_keys``, ``glassnet.layers.config_keys``)
with the rules of ``glassnet.saving.config_values``, calls the class's ``from_config``,
and plans its shapes, so the size of every weight is known, and checked, before anything
is allocated. Writing takes each layer's ``get_config`` (Keras 3's config) and checks
that a Keras file can hold it. The layer classes come from the explicit catalog
``glassnet.layers.LAYER_CLASSES``; no class name is matched here.

This is the one reader of layer configs: ``model_from_json``, ``.keras`` and ``.h5`` all
come here.
"""

from __future__ import annotations

import warnings

from glassnet import activations as activations_module
from glassnet.engine.functional import Functional
from glassnet.engine.functional_config import (
    functional_config,
    functional_from_config,
    program_model_class,
)
from glassnet.engine.model import Model
from glassnet.engine.sequential import Sequential
from glassnet.layers import LAYER_CLASSES, InputLayer, Layer
from glassnet.layers.config_keys import NOT_ARGUMENTS, dtype_policy
from glassnet.saving import safety
from glassnet.saving.config_values import (
    DIFFERENT_FROM_KERAS,
    KERAS_ACTIVATIONS,
    Keys,
    ReadContext,
    read_bool,
    read_dtype,
    read_key,
)
from glassnet.saving.errors import ModelFileError
from glassnet.utils.custom_objects import get_registered_name

#: The Keras version whose file layout glassnet writes (recorded in the files it writes).
KERAS_VERSION = "3.15.1"
#: Keys every layer config may hold; the model's input shape is read once, by the model
#: reader, so the layers' own input-shape keys are dropped.
_INPUT_KEYS = ("batch_input_shape", "batch_shape", "input_shape", "input_dim", "batch_size",
               "autocast")


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


def loadable_classes() -> dict[str, type[Layer]]:
    """The layer classes a file may name: those of the catalog
    (``glassnet.layers.LAYER_CLASSES``) that declare their config keys, and
    ``InputLayer``, which the model reader reads itself."""
    return {name: cls for name, cls in LAYER_CLASSES.items()
            if name == "InputLayer" or "config_keys" in vars(cls) or cls.config_keys}


def read_layer(cls: type[Layer], config: dict, label: str, shape, ctx: ReadContext) -> Layer:
    """A layer of class ``cls`` from an untrusted Keras layer config.

    Every key is one ``cls.config_keys`` declares, read by the rule of its kind, or one
    every layer shares (``name``, ``trainable``, ``dtype``, input-shape keys); a key left
    over is refused unless null or false (then warned).

    Raises:
        ModelFileError: naming the layer and the key.
    """
    keys = Keys(config, label, ctx)
    args = {}
    for key in cls.config_keys:
        value = read_key(key, keys, shape, ctx)
        if key.kind not in NOT_ARGUMENTS and not (key.kind == "seed" and value is None):
            args[key.name] = value
    name = keys.take("name")
    if name is not None and (not isinstance(name, str) or not name or len(name) > 1024):
        raise ModelFileError(f"{ctx.where}: {label} has an invalid name {name!r}")
    args["name"] = name
    args["trainable"] = read_bool(keys.take("trainable", True), f"{label} trainable", ctx)
    read_dtype(keys.take("dtype"), label, ctx)
    for key in _INPUT_KEYS:
        keys.take(key)
    try:
        layer = cls.from_config(args)
    except ModelFileError:
        raise
    except (TypeError, ValueError, NotImplementedError) as error:
        raise ModelFileError(f"{ctx.where}: {label} has an invalid config: {error}") from None
    keys.finish()
    return layer


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
    class_name = description.get("class_name")
    if class_name not in _GLASSNET_MODELS:
        registered = program_model_class(description)
        if registered is not None:
            return _subclassed_from_description(registered, description, ctx)
        raise ModelFileError(_not_located(class_name, "model", ctx))
    _locate_program_models(description, ctx)
    safety.check_description(description, ctx.where,
                             trusted=lambda item: program_model_class(item) is not None)
    class_name = description.get("class_name")
    if class_name in ("Functional", "Model"):
        return _functional_from_description(description, ctx)
    config = description.get("config")
    if isinstance(config, list):  # Keras <= 2.2 wrote the layer list itself
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{ctx.where}: the Sequential config has no list of layers")
    entries = config["layers"]
    if not entries or len(entries) > safety.MAX_LAYERS:
        raise ModelFileError(f"{ctx.where}: the model has {len(entries)} layers; glassnet "
                             f"reads 1 to {safety.MAX_LAYERS} (glassnet.saving.safety.MAX_LAYERS; "
                             "raise it for a file you trust)")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise ModelFileError(f"{ctx.where}: layer entry {index} has no class_name")
    name = config.get("name") or "sequential"
    if not isinstance(name, str):
        raise ModelFileError(f"{ctx.where}: the model has an invalid name {name!r}")
    read_dtype(config.get("dtype"), "the model", ctx)
    input_name, shape = _input(description, config, entries, ctx)
    input_shape = shape
    classes = loadable_classes()
    layers, total, names = [], 0, set()
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
        if layer_class in _GLASSNET_MODELS or program_model_class(entry):  # a model as a layer
            layer = _nested_model(entry, label, shape, ctx)
            if layer.name in names:
                raise ModelFileError(f"{ctx.where}: two layers are named {layer.name!r}")
            names.add(layer.name)
            shape = layer.output_shape
            total += layer.count_params()
            layers.append(layer)
            continue
        if layer_class not in classes:
            raise ModelFileError(
                f"{ctx.where}: {label} is a {layer_class!r} layer, which glassnet does not have. "
                f"glassnet can load: {', '.join(sorted(classes))}"
            )
        layer = read_layer(classes[layer_class], layer_config, label, shape, ctx)
        if layer.name in names:
            raise ModelFileError(f"{ctx.where}: two layers are named {layer.name!r}")
        names.add(layer.name)
        try:
            shape = layer.plan(shape)
        except ValueError as error:
            raise ModelFileError(f"{ctx.where}: {label} does not fit its input: {error}") from None
        for spec in layer.specs:
            total += safety.check_shape(spec.shape, f"{ctx.where}: {label} {spec.name}")
        layers.append(layer)
    safety.check_total(total, ctx.where)
    # The model's own ``trainable`` is not read back, as Keras's Sequential.from_config
    # does not read it: the layers' flags are what a loaded model trains by.
    return Sequential([InputLayer(shape=input_shape, name=input_name), *layers], name=name)


def _nested_model(entry: dict, label: str, shape, ctx: ReadContext):
    """A model used as a layer of a ``Sequential``, read from its entry as any model is
    (its layers checked the same way), then built for the rows the layer before it gives.

    Raises:
        ModelFileError: for a nested model glassnet refuses, or one that does not fit its
            input, naming it.
    """
    ctx.depth += 1
    try:
        if ctx.depth > _MAX_NESTING:
            raise ModelFileError(f"{ctx.where}: models are nested more than {_MAX_NESTING} "
                                 "deep; glassnet refuses such a file")
        inner = model_from_description(
            {key: entry[key] for key in ("module", "class_name", "config", "registered_name",
                                         "build_config") if key in entry}, ctx)
    finally:
        ctx.depth -= 1
    try:
        inner.plan_as_layer(shape)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{ctx.where}: {label} does not fit its input: {error}") from None
    return inner


#: How deep models may nest in a file (Keras's own tutorials nest one level).
_MAX_NESTING = 8
#: The model classes glassnet reads itself (``"Model"``: Keras 2's functional models).
_GLASSNET_MODELS = ("Sequential", "Functional", "Model")


def _not_located(class_name, what: str, ctx: ReadContext) -> str:
    """Keras's "Could not locate class" for a subclassed model the program does not have."""
    return (
        f"{ctx.where}: Could not locate class {class_name!r}. Make sure custom classes are "
        "decorated with `@keras.saving.register_keras_serializable()` (or passed to "
        f"load_model in custom_objects). The file holds a subclassed {what}, which glassnet "
        "rebuilds only from a class the program registered or passed in: it never imports "
        "or runs code named in a file"
    )


def _locate_program_models(description: dict, ctx: ReadContext) -> None:
    """Refuses a model used as a layer (an entry with a ``compile_config``, as Keras writes
    one) whose class is neither glassnet's nor one the program registered or passed in
    ``custom_objects``, with Keras's message. The program's own model classes are not
    looked into: their configs go to their own ``from_config``.

    Raises:
        ModelFileError: naming the class.
    """
    stack = [description.get("config")]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict) or program_model_class(item) is not None:
            continue
        class_name = item.get("class_name")
        if "compile_config" in item and class_name not in _GLASSNET_MODELS:
            raise ModelFileError(_not_located(class_name, "model used as a layer", ctx))
        stack.extend(value for value in item.values() if isinstance(value, (dict, list)))


def _subclassed_from_description(cls, description: dict, ctx: ReadContext):
    """A subclassed model of the program's registered class ``cls``, made by its own
    ``from_config`` and built for the recorded input shape."""
    config = description.get("config")
    build = description.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    if shape is None:
        raise ModelFileError(f"{ctx.where}: the subclassed model records no input shape, so "
                             "glassnet cannot build it to load its weights")
    shape = _shape(shape, "the model's build_config", ctx, True)
    try:
        model = cls.from_config(dict(config or {}))
        model.build((None, *shape))
    except ModelFileError:
        raise
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{ctx.where}: the registered class {cls.__name__} cannot be "
                             f"rebuilt from the file's config: {error}") from None
    return model


def _subclassed_description(model) -> dict:
    """The Keras 3 description of a subclassed model whose class is registered."""
    cls = type(model)
    return {"module": cls.__module__, "class_name": cls.__name__, "config": model.get_config(),
            "registered_name": get_registered_name(cls),
            "build_config": {"input_shape": [None, *model.input_shape]}}


def _functional_from_description(description: dict, ctx: ReadContext):
    """A ``Functional`` model (built, fresh weights) from a Keras functional description:
    every layer checked as a Sequential's are, then the graph replayed."""
    config = description.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{ctx.where}: the functional config has no list of layers")
    entries = config["layers"]
    if not entries or len(entries) > safety.MAX_LAYERS:
        raise ModelFileError(f"{ctx.where}: the model has {len(entries)} layers; glassnet "
                             f"reads 1 to {safety.MAX_LAYERS} (glassnet.saving.safety.MAX_LAYERS; "
                             "raise it for a file you trust)")
    classes = loadable_classes()
    total = 0

    def make_layer(entry):
        nonlocal total
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise ModelFileError(f"{ctx.where}: a layer entry has no class_name")
        layer_class = entry["class_name"]
        layer_config = entry.get("config")
        if not isinstance(layer_config, dict):
            raise ModelFileError(f"{ctx.where}: a {layer_class} layer has no config")
        label = f"layer {layer_config.get('name')!r} ({layer_class})"
        if layer_class in _GLASSNET_MODELS or program_model_class(entry):  # a model as a layer
            inner = model_from_description(
                {key: entry[key] for key in ("module", "class_name", "config", "registered_name",
                                             "build_config") if key in entry}, ctx)
            return inner
        if layer_class == "InputLayer":
            name, shape = _read_input_layer(layer_config, ctx)
            if shape is None:
                raise ModelFileError(f"{ctx.where}: {label} has no shape")
            return InputLayer(shape=shape, name=name)
        if layer_class not in classes:
            raise ModelFileError(
                f"{ctx.where}: {label} is a {layer_class!r} layer, which glassnet does not have. "
                f"glassnet can load: {', '.join(sorted(classes))}"
            )
        return read_layer(classes[layer_class], layer_config, label, None, ctx)

    try:
        model = functional_from_config(config, make_layer)
    except ModelFileError:
        raise
    except (TypeError, ValueError, KeyError) as error:
        raise ModelFileError(f"{ctx.where}: the functional model cannot be rebuilt: {error}") \
            from None
    for weight in model.weights:
        total += safety.check_shape(weight.shape, f"{ctx.where}: {weight.path}")
    safety.check_total(total, ctx.where)
    return model


def _is_nested_model(member) -> bool:
    """Whether a member of a model's ``layers`` is a model used as a layer (a subclassed
    model included: its file entry is its own description, written if its class is
    registered)."""
    return isinstance(member, Model)


def _nested_entry(model, for_h5: bool) -> dict:
    """The entry of a model used as a layer, as Keras 3 writes it in the outer model's
    ``layers`` (``serialize_keras_object`` of the model: its description with an empty
    ``compile_config``; in ``.h5`` only ``class_name`` and ``config``)."""
    description = model_description(model, for_h5)
    if for_h5:
        return {"class_name": description["class_name"], "config": description["config"]}
    return {**description, "compile_config": {}}


def _functional_description(model, for_h5: bool) -> dict:
    """The Keras 3 description of a ``Functional`` model, every layer checked for a file."""
    dtype_name = model.storage.dtype.name
    config = functional_config(model)
    for entry, layer in zip(config["layers"], model.layers, strict=True):
        if _is_nested_model(layer):  # a model used as a layer
            nested = _nested_entry(layer, for_h5)
            if for_h5:  # Keras's .h5 entries name no module (it would import keras.layers)
                for key in ("module", "registered_name", "build_config"):
                    entry.pop(key, None)
            entry.update({k: v for k, v in nested.items() if k != "class_name"})
            continue
        if entry["class_name"] == "InputLayer":
            entry["config"] = {"batch_shape": [None, *layer.declared_input_shape],
                               "dtype": dtype_name, "sparse": False, "ragged": False,
                               "name": layer.name, "optional": False}
        else:
            entry["config"] = write_layer(layer, dtype_name)
    if for_h5:
        return {"class_name": "Functional", "config": config}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": config, "registered_name": "Functional",
            "build_config": {"input_shape": None}}


# --- writing ----------------------------------------------------------------------------------


def write_activation(activation, label: str) -> str:
    """The Keras name of a glassnet activation.

    Raises:
        ValueError: for a Python function or an activation with non-default settings,
            which a Keras file cannot name.
    """
    name = activation.name
    custom = isinstance(activation, activations_module.FunctionActivation)
    if custom or name not in KERAS_ACTIVATIONS or name in DIFFERENT_FROM_KERAS:
        raise ValueError(
            f"{label} uses the activation {name!r}, which is not a Keras built-in, so it cannot "
            "be saved in a Keras file. Use a built-in name such as 'relu'"
        )
    if activation.get_config() != type(activation)().get_config():
        raise ValueError(
            f"{label} uses {name!r} with settings {activation.get_config()}; a Keras file can "
            f"only name {name!r} with its defaults {type(activation)().get_config()}"
        )
    return name


def write_layer(layer: Layer, dtype_name: str) -> dict:
    """A layer's Keras 3 config (its ``get_config``), checked for a Keras file.

    Raises:
        ValueError: for a layer Keras cannot read back: a class outside the catalog, a
            name with ``/``, an activation that is not a Keras built-in at its defaults.
    """
    label = f"Layer {layer.name!r} ({type(layer).__name__})"
    if loadable_classes().get(type(layer).__name__) is not type(layer):
        raise ValueError(f"{label}: glassnet cannot save layers of this class in a Keras file")
    if "/" in layer.name:
        raise ValueError(f"{label}: Keras refuses layer names containing '/'")
    declared = {key.name for key in type(layer).config_keys}  # Embedding's input_dim is its own
    config = {
        k: v for k, v in layer.get_config().items() if k not in _INPUT_KEYS or k in declared
    }
    config["dtype"] = dtype_policy(dtype_name)
    for key in type(layer).config_keys:
        if key.kind == "activation" and key.name in config:
            write_activation(getattr(layer, key.name), label)
    return config



def _require_built(model: Sequential) -> None:
    if not isinstance(model, (Sequential, Functional)) and ">" not in get_registered_name(
        type(model)
    ):
        raise TypeError(
            f"glassnet writes Sequential and functional models to Keras files, and subclassed "
            f"models whose class is registered; {type(model).__name__} is not: decorate it "
            "with @glassnet.saving.register_keras_serializable() (and give it get_config), "
            "or save its weights with model.save_weights(...)"
        )
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
    if isinstance(model, Functional):
        return _functional_description(model, for_h5)
    if not isinstance(model, Sequential):
        if for_h5:
            raise ValueError(f"A legacy .h5 file cannot hold the subclassed model "
                             f"{type(model).__name__}; save it as .keras")
        return _subclassed_description(model)
    dtype_name = model.storage.dtype.name
    batch_shape = [None, *model.input_shape]
    own = model.get_config()["layers"]
    input_name = (own[0]["config"].get("name") if own and own[0]["class_name"] == "InputLayer"
                  else None) or "input_layer"
    entries = [{
        "class_name": "InputLayer",
        "config": {"batch_shape": batch_shape, "dtype": dtype_name, "sparse": False,
                   "ragged": False, "name": input_name, "optional": False},
    }]
    nested = {}
    for layer in model.layers:
        if _is_nested_model(layer):
            nested[len(entries)] = _nested_entry(layer, for_h5)
            entries.append(nested[len(entries)])
            continue
        entry = {"class_name": type(layer).__name__, "config": write_layer(layer, dtype_name)}
        if not for_h5 and layer.specs:  # Keras records how layers with weights were built
            entry["build_config"] = {"input_shape": [None, *layer.input_shape]}
        entries.append(entry)
    if not for_h5:
        entries = [nested[i] if i in nested else
                   {"module": "keras.layers", "class_name": e["class_name"], "config": e["config"],
                    "registered_name": None, **({"build_config": e["build_config"]}
                                                if "build_config" in e else {})}
                   for i, e in enumerate(entries)]
    config = {"name": model.name, "trainable": model.trainable, "dtype": dtype_policy(dtype_name),
              "layers": entries, "build_input_shape": batch_shape}
    if for_h5:
        return {"class_name": "Sequential", "config": config}
    return {"module": "keras", "class_name": "Sequential", "config": config,
            "registered_name": None, "build_config": {"input_shape": batch_shape}}
