"""The safety rules for values inside Keras configs (numbers, shapes, names...).

``ReadContext`` carries the file being read and collects warnings; ``Keys`` takes a config
apart key by key and refuses what is left over; ``read_key`` reads one key a layer class
declares (``glassnet.layers.config_keys``) by the rule for its kind. Names are looked up
in glassnet's own registries (``glassnet.activations``, ``glassnet.initializers``...);
nothing is imported.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field

from glassnet import activations as activations_module
from glassnet import config as config_module
from glassnet import constraints as constraints_module
from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet._checks import is_finite
from glassnet.layers.config_keys import ConfigKey
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
#: Activations glassnet computes differently from Keras 3 on purpose (sparsemax: the exact
#: projection onto the simplex), so a file naming them is refused both ways.
DIFFERENT_FROM_KERAS = frozenset({"sparsemax"})
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
    #: How many models deep the reader is (a model used as a layer of another is one more).
    depth: int = 0

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


class Keys:
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


def read_int(value, what: str, ctx: ReadContext, minimum: int = 1) -> int:
    valid = isinstance(value, int) and not isinstance(value, bool)
    if not valid or not minimum <= value <= safety.MAX_DIMENSION:
        raise ModelFileError(
            f"{ctx.where}: {what} must be an integer >= {minimum}; found {value!r}"
        )
    return value


def read_number(value, what: str, ctx: ReadContext) -> float:
    """A finite number; an integer too large for a float (``10**400`` in JSON), NaN or an
    infinity is refused naming the key."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelFileError(f"{ctx.where}: {what} must be a number; found {value!r}")
    number = finite_float(value)
    if number is None:
        shown = value if isinstance(value, float) else f"an integer of {len(str(value))} digits"
        raise ModelFileError(f"{ctx.where}: {what} must be a finite number; found {shown}")
    return number


def finite_float(value: int | float) -> float | None:
    """``value`` as a finite float, or ``None`` when it is NaN, infinite or too large."""
    return float(value) if is_finite(value) else None


def read_bool(value, what: str, ctx: ReadContext) -> bool:
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
        config = value.get("config")
        value = config.get("name") if isinstance(config, dict) else None
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
    if value in DIFFERENT_FROM_KERAS:
        raise ModelFileError(
            f"{ctx.where}: {what} is {value!r}, which glassnet does not implement as Keras "
            "does (glassnet's is the exact projection onto the simplex; Keras 3.15's formula "
            "is not), so it refuses to load other maths under the same name"
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


@functools.cache
def init_params(cls) -> frozenset[str]:
    """The keyword arguments a glassnet class accepts, following ``**kwargs`` up its bases
    (read once per class: ``inspect.signature`` costs a fraction of a millisecond)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params if p.name != "self"
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return frozenset(names)


def _accepted(cls, config: dict, label: str, ctx: ReadContext) -> dict:
    params = init_params(cls)
    kept = {k: v for k, v in config.items() if k in params}
    dropped = {k: v for k, v in config.items() if k not in kept and v is not None}
    if dropped:
        ctx.warn(f"{ctx.where}: {label} has settings glassnet ignores: {dropped}")
    return kept


def _class_and_config(value) -> tuple:
    """``(class_name, config)`` of an object given by name or as a dict; ``(value, None)``
    for anything else, which no reader accepts."""
    if isinstance(value, str):
        return value, {}
    if isinstance(value, dict):
        return value.get("class_name"), value.get("config") or {}
    return value, None


def read_initializer(value, what: str, ctx: ReadContext, default: str):
    """An initializer object; an unknown one is replaced by ``default`` with a warning.

    Initializers only matter for fresh weights, never for weights loaded from the file.
    """
    if value is None:
        return initializers_module.get(default)
    class_name, config = _class_and_config(value)
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
    class_name, config = _class_and_config(value)
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


def read_constraint(value, what: str, ctx: ReadContext):
    """A glassnet constraint (MaxNorm, NonNeg, UnitNorm, MinMaxNorm), ``None``, or ``None``
    with a warning (an unknown constraint only affects training)."""
    if value is None:
        return None
    class_name, config = _class_and_config(value)
    cls = _registry_class(constraints_module, class_name) if isinstance(class_name, str) else None
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


# --- declared layer keys, by kind ------------------------------------------------------------


def _read_range(value, key: ConfigKey, what: str, ctx: ReadContext) -> float:
    number = read_number(value, what, ctx)
    low, below = key.minimum, key.below
    if (low is not None and number < low) or (below is not None and number >= below):
        bounds = f"in [{low:g}, {below:g})" if low is not None and below is not None else (
            f">= {low:g}" if low is not None else f"< {below:g}")
        raise ModelFileError(f"{ctx.where}: {what} must be {bounds}; found {number:g}")
    return number


def _read_ints(value, key: ConfigKey, what: str, ctx: ReadContext) -> tuple[int, ...] | None:
    if value is None and key.optional:
        return None
    items = value if isinstance(value, list) else [value] * (key.length or 1)
    if not items or (key.length is not None and len(items) != key.length) or len(items) > 32:
        size = f"{key.length} integers" if key.length else "integers"
        raise ModelFileError(f"{ctx.where}: {what} must be an integer or a list of {size}; "
                             f"found {value!r}")
    minimum = 1 if key.minimum is None else int(key.minimum)
    return tuple(read_int(item, what, ctx, minimum=minimum) for item in items)


def _read_int_pairs(value, what: str, ctx: ReadContext):
    if not isinstance(value, list):
        return read_int(value, what, ctx, minimum=0)
    if len(value) != 2:
        raise ModelFileError(f"{ctx.where}: {what} must be an integer or two items; "
                             f"found {value!r}")
    pairs = []
    for item in value:
        if isinstance(item, list):
            if len(item) != 2:
                raise ModelFileError(f"{ctx.where}: {what} must hold pairs of integers; "
                                     f"found {value!r}")
            pairs.append(tuple(read_int(v, what, ctx, minimum=0) for v in item))
        else:
            pairs.append(read_int(item, what, ctx, minimum=0))
    return tuple(pairs)


def _read_last_axis(value, what: str, shape, ctx: ReadContext) -> int | None:
    if value is None or value == []:  # every axis at once (Normalization's axis=None)
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value not in (-1, len(shape)) or isinstance(value, bool):
        raise ModelFileError(f"{ctx.where}: {what} normalises axis {value!r}; glassnet supports "
                             "only the last (feature) axis")
    return -1


def _read_target_shape(value, what: str, shape, ctx: ReadContext) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or len(value) > 32:
        raise ModelFileError(f"{ctx.where}: {what} is an invalid shape {value!r}")
    if value.count(-1) == 1:  # Keras infers one -1 dimension from the row size
        known = 1
        for dim in value:
            if dim != -1:
                known *= read_int(dim, what, ctx)
        size = 1
        for dim in shape:
            size *= dim
        if size % known:
            raise ModelFileError(f"{ctx.where}: {what} cannot reshape {shape} to {value}")
        value = [size // known if d == -1 else d for d in value]
    return tuple(read_int(d, what, ctx) for d in value)


def _read_data_format(value, what: str, shape, ctx: ReadContext):
    if value == "channels_first" and len(shape) > 1:
        raise ModelFileError(f"{ctx.where}: {what} is 'channels_first' on rows of shape "
                             f"{shape}; glassnet supports only 'channels_last'")
    if value not in (None, "channels_last", "channels_first"):
        raise ModelFileError(f"{ctx.where}: {what} is {value!r}")
    return value


def _read_statistic(value, what: str, ctx: ReadContext):
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        raise ModelFileError(f"{ctx.where}: {what} must be a number or a list of numbers")
    if any(finite_float(v) is None for v in items):
        raise ModelFileError(f"{ctx.where}: {what} must hold finite numbers")
    return items


_MISSING = object()


def read_key(key: ConfigKey, keys: Keys, shape: tuple[int, ...], ctx: ReadContext):
    """Takes ``key`` out of a layer config and reads it by the rule of its kind.

    Args:
        key: the key as the layer class declares it.
        keys: the config being read.
        shape: the shape of the layer's input rows (some kinds depend on it).
        ctx: the file; collects warnings.

    Returns:
        The value to pass to the constructor, or ``None`` for kinds that pass nothing
        (``inert``, ``fixed``, ``ignored``) and for ``seed`` left unset.

    Raises:
        ModelFileError: for a value the rule refuses, naming the layer and the key.
    """
    kind, what = key.kind, f"{keys.label} {key.name}"
    if kind == "inert":
        keys.inert(key.name, key.default, **({"why": key.why} if key.why else {}))
        return None
    if kind == "fixed":
        keys.must_be(key.name, key.allowed, key.why)
        return None
    value = keys.take(key.name, _MISSING)
    if kind == "ignored":
        return None
    if value is _MISSING:
        value = key.default
    if kind == "int":
        return read_int(value, what, ctx, **({} if key.minimum is None else
                                              {"minimum": int(key.minimum)}))
    if kind == "ints":
        return _read_ints(value, key, what, ctx)
    if kind == "int_pairs":
        return _read_int_pairs(value, what, ctx)
    if kind == "choice":
        if value not in key.allowed or isinstance(value, (list, dict)):
            raise ModelFileError(f"{ctx.where}: {what} is {value!r}; glassnet supports "
                                 f"{' or '.join(repr(a) for a in key.allowed)}")
        return value
    if kind == "seed":
        return None if value is None else read_int(value, what, ctx, minimum=0)
    if kind == "number":
        if key.minimum is None and key.below is None:
            return read_number(value, what, ctx)
        return _read_range(value, key, what, ctx)
    if kind == "bool":
        return read_bool(value, what, ctx)
    if kind == "activation":
        return read_activation(value, what, ctx)
    if kind == "initializer":
        return read_initializer(value, what, ctx, key.default)
    if kind == "regularizer":
        return read_regularizer(value, what, ctx)
    if kind == "constraint":
        return read_constraint(value, what, ctx)
    if kind == "last_axis":
        return _read_last_axis(value, what, shape, ctx)
    if kind == "shape":
        return _read_target_shape(value, what, shape, ctx)
    if kind == "data_format":
        return _read_data_format(value, what, shape, ctx)
    if kind == "statistic":
        return _read_statistic(value, what, ctx)
    if kind == "recurrent_layer":
        return _read_recurrent_layer(value, what, shape, ctx)
    raise TypeError(f"{keys.label}: glassnet has no rule for config keys of kind {kind!r}")


def _read_recurrent_layer(value, what: str, shape, ctx: ReadContext):
    """A layer nested in a layer's config (``Bidirectional``'s ``layer`` and
    ``backward_layer``): a serialized ``SimpleRNN``, ``LSTM`` or ``GRU``, read by the same
    rules as any layer of the file; ``None`` stays ``None``."""
    from glassnet.layers.recurrent import RECURRENT_CLASSES
    from glassnet.saving.model_config import read_layer

    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("config"), dict):
        raise ModelFileError(f"{ctx.where}: {what} should be a serialized layer; found "
                             f"{type(value).__name__}")
    cls = RECURRENT_CLASSES.get(value.get("class_name"))
    if cls is None:
        raise ModelFileError(f"{ctx.where}: {what} is a {value.get('class_name')!r}; glassnet "
                             f"wraps {', '.join(RECURRENT_CLASSES)}")
    return read_layer(cls, value["config"], what, shape, ctx)
