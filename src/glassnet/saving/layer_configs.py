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

import inspect
from dataclasses import dataclass, field

from glassnet import activations as activations_module
from glassnet import config as config_module
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
from glassnet.saving import safety
from glassnet.saving.errors import ModelFileError

#: Activation names Keras 3.15 accepts as strings (``keras/src/activations/__init__.py``).
KERAS_ACTIVATIONS = frozenset(
    {
        "relu", "leaky_relu", "relu6", "softmax", "celu", "elu", "selu", "softplus", "softsign",
        "squareplus", "soft_shrink", "sparse_plus", "silu", "swish", "gelu", "glu", "tanh",
        "tanh_shrink", "threshold", "sigmoid", "sparse_sigmoid", "exponential", "hard_sigmoid",
        "hard_silu", "hard_swish", "hard_tanh", "hard_shrink", "linear", "mish", "log_softmax",
        "log_sigmoid", "sparsemax",
    }
)
#: Activations whose formula changed between Keras 2 and Keras 3: Keras 2's hard_sigmoid
#: is ``clip(0.2 x + 0.5, 0, 1)``, Keras 3's ``relu6(x + 3) / 6`` (glassnet implements 3's).
KERAS2_DIFFERENT = frozenset({"hard_sigmoid", "hard_silu", "hard_swish"})
#: The dtype policies glassnet computes in float32 (with a warning when not float32).
FLOAT_POLICIES = frozenset(
    {"float32", "float16", "bfloat16", "float64", "mixed_float16", "mixed_bfloat16"}
)
QUANTIZED_PREFIXES = ("int8", "int4", "float8", "gptq", "awq")


@dataclass
class ReadContext:
    """What a translation needs to know about the file, and the warnings it collects."""

    where: str
    keras_major: int = 3
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


class _Keys:
    """Takes keys out of a config one by one; ``finish`` judges what is left."""

    def __init__(self, config: dict, label: str, ctx: ReadContext) -> None:
        self.config = dict(config)
        self.label = label
        self.ctx = ctx

    def take(self, key: str, default=None):
        return self.config.pop(key, default)

    def inert(self, key: str, default=None, why: str = "it only affects training") -> None:
        """A key glassnet ignores: silent at its default, a warning otherwise."""
        value = self.config.pop(key, default)
        if value != default:
            self.ctx.warn(f"{self.ctx.where}: {self.label} has {key}={value!r}, which glassnet "
                          f"ignores ({why})")

    def must_be(self, key: str, allowed: tuple, why: str) -> None:
        """A key whose other values would change what the layer computes."""
        value = self.config.pop(key, allowed[0])
        if value not in allowed:
            raise ModelFileError(
                f"{self.ctx.where}: {self.label} has {key}={value!r}; glassnet supports only "
                f"{' or '.join(repr(a) for a in allowed)} ({why})"
            )

    def finish(self) -> None:
        for key, value in self.config.items():
            if value is None or value is False:
                self.ctx.warn(f"{self.ctx.where}: {self.label} has the unknown key {key!r} "
                              f"(value {value!r}); ignored")
            else:
                raise ModelFileError(
                    f"{self.ctx.where}: {self.label} has the key {key!r} = {value!r}, which "
                    "glassnet does not know; it may change what the layer computes, so the "
                    "file is refused"
                )


# --- values -------------------------------------------------------------------------------


def _int(value, what: str, ctx: ReadContext, minimum: int = 1) -> int:
    valid = isinstance(value, int) and not isinstance(value, bool)
    if not valid or not minimum <= value <= safety.MAX_DIMENSION:
        raise ModelFileError(
            f"{ctx.where}: {what} must be an integer >= {minimum}; found {value!r}"
        )
    return value


def _number(value, what: str, ctx: ReadContext) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(f"{ctx.where}: {what} must be a number; found {value!r}")
    return float(value)


def _bool(value, what: str, ctx: ReadContext) -> bool:
    if not isinstance(value, bool):
        raise ModelFileError(f"{ctx.where}: {what} must be true or false; found {value!r}")
    return value


def read_dtype(value, what: str, ctx: ReadContext) -> str:
    """The name of a dtype policy (a string, or a ``DTypePolicy``/``Policy`` object)."""
    if value is None:
        return "float32"
    if isinstance(value, dict):
        class_name = value.get("class_name")
        if class_name not in ("DTypePolicy", "Policy", "FloatDTypePolicy"):
            raise ModelFileError(
                f"{ctx.where}: {what} uses the dtype policy {class_name!r}; glassnet supports "
                "only float policies (quantized models cannot be loaded)"
            )
        value = (value.get("config") or {}).get("name")
    if not isinstance(value, str):
        raise ModelFileError(f"{ctx.where}: {what} has an unreadable dtype {value!r}")
    if value.startswith(QUANTIZED_PREFIXES):
        raise ModelFileError(
            f"{ctx.where}: {what} is quantized ({value!r}); glassnet cannot load it"
        )
    if value not in FLOAT_POLICIES:
        raise ModelFileError(f"{ctx.where}: {what} has the dtype {value!r}; glassnet supports "
                             f"{', '.join(sorted(FLOAT_POLICIES))}")
    if value != config_module.floatx():
        ctx.warn(f"{ctx.where}: the model was saved with dtype {value!r}; glassnet computes in "
                 f"its floatx() ({config_module.floatx()}), so results may differ slightly")
    return value


def read_activation(value, what: str, ctx: ReadContext) -> str:
    """A built-in activation name that means the same function in glassnet."""
    if value is None:
        return "linear"
    if not isinstance(value, str):
        raise ModelFileError(
            f"{ctx.where}: {what} is a custom activation ({value!r}); glassnet loads only "
            "built-in activations by name and never runs code from a file"
        )
    if ctx.keras_major < 3 and value in KERAS2_DIFFERENT:
        raise ModelFileError(
            f"{ctx.where}: {what} is {value!r} from a Keras 2 file, where it means "
            "clip(0.2 x + 0.5, 0, 1); glassnet implements Keras 3's relu6(x + 3) / 6, so it "
            "refuses to load different maths under the same name"
        )
    try:
        if value not in KERAS_ACTIVATIONS:
            raise ValueError(value)
        activations_module.get(value)
    except ValueError:
        known = sorted(set(activations_module.names()) & KERAS_ACTIVATIONS)
        raise ModelFileError(
            f"{ctx.where}: {what} is {value!r}, which glassnet does not implement. glassnet "
            f"implements: {', '.join(known)}"
        ) from None
    return value


def _registry_class(module, class_name: str):
    try:
        return type(module.get(class_name))
    except (ValueError, TypeError):
        return None


def init_params(cls) -> set[str]:
    """The keyword arguments a glassnet class accepts, following ``**kwargs`` up its bases."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params if p.name != "self"
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names


def _accepted(cls, config: dict, label: str, ctx: ReadContext) -> dict:
    params = init_params(cls)
    kept = {k: v for k, v in config.items() if k in params}
    dropped = {k: v for k, v in config.items() if k not in kept and v is not None}
    if dropped:
        ctx.warn(f"{ctx.where}: {label} has settings glassnet ignores: {dropped}")
    return kept


def read_initializer(value, what: str, ctx: ReadContext, default: str):
    """An initializer object; an unknown one is replaced by ``default`` with a warning.

    Initializers only matter for fresh weights, never for weights loaded from the file.
    """
    if value is None:
        return initializers_module.get(default)
    class_name, config = (value, {}) if isinstance(value, str) else (
        value.get("class_name"), value.get("config") or {})
    cls = _registry_class(initializers_module, class_name) if isinstance(class_name, str) else None
    if cls is None or not isinstance(config, dict):
        ctx.warn(f"{ctx.where}: {what} {class_name!r} is unknown to glassnet; using "
                 f"{default!r} (it only matters for fresh weights)")
        return initializers_module.get(default)
    try:
        return cls(**_accepted(cls, config, f"{what} {class_name}", ctx))
    except (TypeError, ValueError) as error:
        ctx.warn(f"{ctx.where}: {what} {class_name!r} has a config glassnet cannot use "
                 f"({error}); using {default!r} (it only matters for fresh weights)")
        return initializers_module.get(default)


def read_regularizer(value, what: str, ctx: ReadContext):
    """A glassnet regularizer (L1, L2, L1L2), ``None``, or ``None`` with a warning."""
    if value is None:
        return None
    class_name, config = (value, {}) if isinstance(value, str) else (
        value.get("class_name"), value.get("config") or {})
    cls = _registry_class(regularizers_module, class_name) if isinstance(class_name, str) else None
    if cls is None or not isinstance(config, dict):
        ctx.warn(f"{ctx.where}: {what} {class_name!r} is unknown to glassnet and is dropped "
                 "(it only affects training)")
        return None
    try:
        return cls(**_accepted(cls, config, f"{what} {class_name}", ctx))
    except (TypeError, ValueError) as error:
        ctx.warn(f"{ctx.where}: {what} {class_name!r} has a config glassnet cannot use "
                 f"({error}); it is dropped (it only affects training)")
        return None


# --- reading layers ---------------------------------------------------------------------------


def _common(keys: _Keys, ctx: ReadContext) -> dict:
    name = keys.take("name")
    if name is not None and (not isinstance(name, str) or not name or len(name) > 1024):
        raise ModelFileError(f"{ctx.where}: {keys.label} has an invalid name {name!r}")
    trainable = _bool(keys.take("trainable", True), f"{keys.label} trainable", ctx)
    read_dtype(keys.take("dtype"), keys.label, ctx)
    for key in ("batch_input_shape", "batch_shape", "input_shape", "input_dim", "batch_size",
                "autocast"):
        keys.take(key)  # the model's input shape is read once, by the model reader
    return {"name": name, "trainable": trainable}


def _read_dense(keys: _Keys, ctx: ReadContext, shape) -> Layer:
    label = keys.label
    args = {
        "units": _int(keys.take("units"), f"{label} units", ctx),
        "activation": read_activation(keys.take("activation"), f"{label} activation", ctx),
        "use_bias": _bool(keys.take("use_bias", True), f"{label} use_bias", ctx),
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


def _read_activation(keys: _Keys, ctx: ReadContext, shape) -> Layer:
    activation = read_activation(keys.take("activation"), f"{keys.label} activation", ctx)
    return Activation(activation, **_common(keys, ctx))


def _read_dropout(keys: _Keys, ctx: ReadContext, shape) -> Layer:
    rate = _number(keys.take("rate"), f"{keys.label} rate", ctx)
    if not 0 <= rate < 1:
        raise ModelFileError(f"{ctx.where}: {keys.label} rate must be in [0, 1); found {rate}")
    seed = keys.take("seed")
    if seed is not None:
        seed = _int(seed, f"{keys.label} seed", ctx, minimum=0)
    keys.inert("noise_shape", why="glassnet draws one mask value per element")
    return Dropout(rate, seed=seed, **_common(keys, ctx))


def _read_flatten(keys: _Keys, ctx: ReadContext, shape) -> Layer:
    data_format = keys.take("data_format")
    if data_format == "channels_first" and len(shape) > 1:
        raise ModelFileError(f"{ctx.where}: {keys.label} uses data_format='channels_first' on "
                             f"rows of shape {shape}; glassnet supports only 'channels_last'")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ModelFileError(f"{ctx.where}: {keys.label} has data_format={data_format!r}")
    return Flatten(**_common(keys, ctx))


def _read_reshape(keys: _Keys, ctx: ReadContext, shape) -> Layer:
    target = keys.take("target_shape")
    if not isinstance(target, list) or not target or len(target) > 32:
        raise ModelFileError(f"{ctx.where}: {keys.label} has an invalid target_shape {target!r}")
    if target.count(-1) == 1:  # Keras infers one -1 dimension from the row size
        known = 1
        for dim in target:
            if dim != -1:
                known *= _int(dim, f"{keys.label} target_shape", ctx)
        size = 1
        for dim in shape:
            size *= dim
        if size % known:
            raise ModelFileError(f"{ctx.where}: {keys.label} cannot reshape {shape} to {target}")
        target = [size // known if d == -1 else d for d in target]
    target = [_int(d, f"{keys.label} target_shape", ctx) for d in target]
    return Reshape(tuple(target), **_common(keys, ctx))


def _read_batch_normalization(keys: _Keys, ctx: ReadContext, shape) -> Layer:
    label = keys.label
    axis = keys.take("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if axis not in (-1, len(shape)):
        raise ModelFileError(f"{ctx.where}: {label} normalises axis {axis!r}; glassnet supports "
                             "only the last (feature) axis")
    args = {
        "momentum": _number(keys.take("momentum", 0.99), f"{label} momentum", ctx),
        "epsilon": _number(keys.take("epsilon", 1e-3), f"{label} epsilon", ctx),
        "center": _bool(keys.take("center", True), f"{label} center", ctx),
        "scale": _bool(keys.take("scale", True), f"{label} scale", ctx),
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


def _read_normalization(keys: _Keys, ctx: ReadContext, shape) -> Layer:
    label = keys.label
    axis = keys.take("axis", -1)
    if isinstance(axis, list) and len(axis) == 1:
        axis = axis[0]
    if axis not in (-1, len(shape)):
        raise ModelFileError(f"{ctx.where}: {label} normalises axis {axis!r}; glassnet supports "
                             "only the last (feature) axis")
    mean = _statistic(keys.take("mean"), f"{label} mean", ctx)
    variance = _statistic(keys.take("variance"), f"{label} variance", ctx)
    invert = _bool(keys.take("invert", False), f"{label} invert", ctx)
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
    keys = _Keys(config, label, ctx)
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
