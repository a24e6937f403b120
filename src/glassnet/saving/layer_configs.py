"""One layer's config, translated between Keras's dicts and glassnet's layers.

Reading, every key of a Keras layer config is either understood (``units``,
``activation``...), known to be inert for glassnet (constraints, ``synchronized``...), or
refused. A key glassnet does not know is accepted with a warning only when its value is
null or false, since Keras itself refuses unknown keys and a set value may change the
maths. Names (activations, initializers, regularizers) are looked up in glassnet's own
registries; nothing is imported.

Writing, each layer gets the keys Keras 3.15 writes (``keras/src/layers/core/dense.py``
and friends, ``get_config``), minus those older Keras 3 versions refuse
(``quantization_config``; see docs/model-files.md).
"""

from __future__ import annotations

from glassnet import activations as activations_module
from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet.layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Layer,
    Normalization,
    Reshape,
)
from glassnet.saving.config_values import (
    KERAS_ACTIVATIONS,
    Keys,
    ReadContext,
    read_activation,
    read_bool,
    read_dtype,
    read_initializer,
    read_int,
    read_number,
    read_regularizer,
)
from glassnet.saving.errors import ModelFileError

# --- reading layers ---------------------------------------------------------------------------


def _common(keys: Keys, ctx: ReadContext) -> dict:
    name = keys.take("name")
    if name is not None and (not isinstance(name, str) or not name or len(name) > 1024):
        raise ModelFileError(f"{ctx.where}: {keys.label} has an invalid name {name!r}")
    trainable = read_bool(keys.take("trainable", True), f"{keys.label} trainable", ctx)
    read_dtype(keys.take("dtype"), keys.label, ctx)
    for key in ("batch_input_shape", "batch_shape", "input_shape", "input_dim", "batch_size",
                "autocast"):
        keys.take(key)  # the model's input shape is read once, by the model reader
    return {"name": name, "trainable": trainable}


def _read_dense(keys: Keys, ctx: ReadContext, shape) -> Layer:
    label = keys.label
    args = {
        "units": read_int(keys.take("units"), f"{label} units", ctx),
        "activation": read_activation(keys.take("activation"), f"{label} activation", ctx),
        "use_bias": read_bool(keys.take("use_bias", True), f"{label} use_bias", ctx),
        "kernel_initializer": read_initializer(
            keys.take("kernel_initializer"), f"{label} kernel_initializer", ctx, "glorot_uniform"),
        "bias_initializer": read_initializer(
            keys.take("bias_initializer"), f"{label} bias_initializer", ctx, "zeros"),
        "kernel_regularizer": read_regularizer(
            keys.take("kernel_regularizer"), f"{label} kernel_regularizer", ctx),
        "bias_regularizer": read_regularizer(
            keys.take("bias_regularizer"), f"{label} bias_regularizer", ctx),
    }
    for key in ("activity_regularizer", "kernel_constraint", "bias_constraint"):
        keys.inert(key)
    keys.must_be("quantization_config", (None,), "quantized layers")
    keys.must_be("lora_rank", (None,), "LoRA-adapted layers")
    keys.must_be("lora_alpha", (None,), "LoRA-adapted layers")
    return Dense(**args, **_common(keys, ctx))


def _read_activation(keys: Keys, ctx: ReadContext, shape) -> Layer:
    activation = read_activation(keys.take("activation"), f"{keys.label} activation", ctx)
    return Activation(activation, **_common(keys, ctx))


def _read_dropout(keys: Keys, ctx: ReadContext, shape) -> Layer:
    rate = read_number(keys.take("rate"), f"{keys.label} rate", ctx)
    if not 0 <= rate < 1:
        raise ModelFileError(f"{ctx.where}: {keys.label} rate must be in [0, 1); found {rate}")
    seed = keys.take("seed")
    if seed is not None:
        seed = read_int(seed, f"{keys.label} seed", ctx, minimum=0)
    keys.inert("noise_shape", why="glassnet draws one mask value per element")
    return Dropout(rate, seed=seed, **_common(keys, ctx))


def _read_flatten(keys: Keys, ctx: ReadContext, shape) -> Layer:
    data_format = keys.take("data_format")
    if data_format == "channels_first" and len(shape) > 1:
        raise ModelFileError(f"{ctx.where}: {keys.label} uses data_format='channels_first' on "
                             f"rows of shape {shape}; glassnet supports only 'channels_last'")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ModelFileError(f"{ctx.where}: {keys.label} has data_format={data_format!r}")
    return Flatten(**_common(keys, ctx))


def _read_reshape(keys: Keys, ctx: ReadContext, shape) -> Layer:
    target = keys.take("target_shape")
    if not isinstance(target, list) or not target or len(target) > 32:
        raise ModelFileError(f"{ctx.where}: {keys.label} has an invalid target_shape {target!r}")
    if target.count(-1) == 1:  # Keras infers one -1 dimension from the row size
        known = 1
        for dim in target:
            if dim != -1:
                known *= read_int(dim, f"{keys.label} target_shape", ctx)
        size = 1
        for dim in shape:
            size *= dim
        if size % known:
            raise ModelFileError(f"{ctx.where}: {keys.label} cannot reshape {shape} to {target}")
        target = [size // known if d == -1 else d for d in target]
    target = [read_int(d, f"{keys.label} target_shape", ctx) for d in target]
    return Reshape(tuple(target), **_common(keys, ctx))


def _read_batch_normalization(keys: Keys, ctx: ReadContext, shape) -> Layer:
    label = keys.label
    axis = keys.take("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if axis not in (-1, len(shape)):
        raise ModelFileError(f"{ctx.where}: {label} normalises axis {axis!r}; glassnet supports "
                             "only the last (feature) axis")
    args = {
        "momentum": read_number(keys.take("momentum", 0.99), f"{label} momentum", ctx),
        "epsilon": read_number(keys.take("epsilon", 1e-3), f"{label} epsilon", ctx),
        "center": read_bool(keys.take("center", True), f"{label} center", ctx),
        "scale": read_bool(keys.take("scale", True), f"{label} scale", ctx),
    }
    for key, default in (("beta_initializer", "zeros"), ("gamma_initializer", "ones"),
                         ("moving_mean_initializer", "zeros"),
                         ("moving_variance_initializer", "ones")):
        args[key] = read_initializer(keys.take(key), f"{label} {key}", ctx, default)
    for key in ("beta_regularizer", "gamma_regularizer"):
        args[key] = read_regularizer(keys.take(key), f"{label} {key}", ctx)
    for key in ("beta_constraint", "gamma_constraint"):
        keys.inert(key)
    keys.inert("synchronized", False, why="it only matters on several devices")
    keys.take("fused")  # a Keras 2 implementation choice
    keys.must_be("renorm", (False,), "batch renormalization")
    keys.take("renorm_clipping")
    keys.take("renorm_momentum")
    keys.must_be("virtual_batch_size", (None,), "ghost batch normalization")
    keys.must_be("adjustment", (None,), "a custom adjustment function")
    return BatchNormalization(axis=-1, **args, **_common(keys, ctx))


def _statistic(value, what: str, ctx: ReadContext):
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        raise ModelFileError(f"{ctx.where}: {what} must be a number or a list of numbers")
    return items


def _read_normalization(keys: Keys, ctx: ReadContext, shape) -> Layer:
    label = keys.label
    axis = keys.take("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if axis not in (-1, len(shape)):
        raise ModelFileError(f"{ctx.where}: {label} normalises axis {axis!r}; glassnet supports "
                             "only the last (feature) axis")
    mean = _statistic(keys.take("mean"), f"{label} mean", ctx)
    variance = _statistic(keys.take("variance"), f"{label} variance", ctx)
    invert = read_bool(keys.take("invert", False), f"{label} invert", ctx)
    return Normalization(axis=-1, mean=mean, variance=variance, invert=invert,
                         **_common(keys, ctx))


READERS = {
    "Dense": _read_dense,
    "Activation": _read_activation,
    "Dropout": _read_dropout,
    "Flatten": _read_flatten,
    "Reshape": _read_reshape,
    "BatchNormalization": _read_batch_normalization,
    "Normalization": _read_normalization,
}


def read_layer(class_name: str, config: dict, label: str, shape, ctx: ReadContext) -> Layer:
    """A glassnet layer from a Keras layer config (``class_name`` already allowed)."""
    keys = Keys(config, label, ctx)
    try:
        layer = READERS[class_name](keys, ctx, shape)
    except ModelFileError:
        raise
    except (TypeError, ValueError, NotImplementedError) as error:
        raise ModelFileError(f"{ctx.where}: {label} has an invalid config: {error}") from None
    keys.finish()
    return layer


# --- writing layers ---------------------------------------------------------------------------


def policy(dtype_name: str) -> dict:
    """The dtype policy object Keras 3 writes for a layer."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype_name},
            "registered_name": None}


def _envelope(serialized: dict | None, module: str) -> dict | None:
    if serialized is None:
        return None
    return {"module": module, "class_name": serialized["class_name"],
            "config": serialized["config"], "registered_name": None}


def _initializer(initializer) -> dict:
    return _envelope(initializers_module.serialize(initializer), "keras.initializers")


def _regularizer(regularizer) -> dict | None:
    return _envelope(regularizers_module.serialize(regularizer), "keras.regularizers")


def write_activation(activation, label: str) -> str:
    """The Keras name of a glassnet activation.

    Raises:
        ValueError: for a Python function or an activation with non-default settings,
            which a Keras file cannot name.
    """
    name = activation.name
    custom = isinstance(activation, activations_module.FunctionActivation)
    if custom or name not in KERAS_ACTIVATIONS:
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
    """A Keras 3 layer config for a glassnet layer (the ``config`` of its entry)."""
    label = f"Layer {layer.name!r} ({type(layer).__name__})"
    if "/" in layer.name:
        raise ValueError(f"{label}: Keras refuses layer names containing '/'")
    own = layer.get_config()
    config = {"name": layer.name, "trainable": layer.trainable, "dtype": policy(dtype_name)}
    if isinstance(layer, Dense):
        config.update(
            units=own["units"], activation=write_activation(layer.activation, label),
            use_bias=own["use_bias"],
            kernel_initializer=_initializer(layer.kernel_initializer),
            bias_initializer=_initializer(layer.bias_initializer),
            kernel_regularizer=_regularizer(layer.kernel_regularizer),
            bias_regularizer=_regularizer(layer.bias_regularizer),
            kernel_constraint=None, bias_constraint=None,
        )
    elif isinstance(layer, Activation):
        config["activation"] = write_activation(layer.activation, label)
    elif isinstance(layer, Dropout):
        config.update(rate=own["rate"], seed=own["seed"], noise_shape=None)
    elif isinstance(layer, Flatten):
        config["data_format"] = "channels_last"
    elif isinstance(layer, Reshape):
        config["target_shape"] = list(own["target_shape"])
    elif isinstance(layer, BatchNormalization):
        config.update(
            axis=-1, momentum=own["momentum"], epsilon=own["epsilon"], center=own["center"],
            scale=own["scale"],
            **{key: _initializer(getattr(layer, key)) for key in (
                "beta_initializer", "gamma_initializer", "moving_mean_initializer",
                "moving_variance_initializer")},
            beta_regularizer=_regularizer(layer.beta_regularizer),
            gamma_regularizer=_regularizer(layer.gamma_regularizer),
            beta_constraint=None, gamma_constraint=None,
        )
    elif isinstance(layer, Normalization):
        fixed = layer.init_mean is not None  # Keras keeps given statistics in the config
        config.update(axis=[-1], invert=layer.invert,
                      mean=layer.mean.tolist() if fixed else None,
                      variance=layer.variance.tolist() if fixed else None)
    else:
        raise ValueError(f"{label}: glassnet cannot save layers of this class in a Keras file")
    return config
