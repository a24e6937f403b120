"""Weight initialisers by Keras name, with Keras 3's definitions and defaults.

An initializer is called with a shape (and a dtype) and returns a new array. Variance
scaling ones look at ``fan_in`` (rows of a kernel) and ``fan_out`` (its columns). The
"normal" variants draw from a normal truncated at two standard deviations, with the
deviation divided by 0.8796… so that the truncated draw has the intended variance, exactly
as ``keras/src/initializers/random_initializers.py`` does.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import config
from glassnet._registry import Registry
from glassnet.utils.seeding import new_generator

_registry = Registry("initializer")
# Standard deviation of a unit normal truncated to [-2, 2].
_TRUNCATED_STD = 0.87962566103423978


class Initializer:
    """Base class: ``initializer(shape, dtype=None)`` returns an array of that shape."""

    def __call__(self, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Random(Initializer):
    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._rng: np.random.Generator | None = None

    def rng(self) -> np.random.Generator:
        # A fixed seed gives the same weights on every call, like Keras's seeded initializers.
        if self.seed is not None:
            return new_generator(self.seed)
        if self._rng is None:
            self._rng = new_generator()
        return self._rng

    def get_config(self):
        return {"seed": self.seed}


def _truncated_normal(rng: np.random.Generator, shape, stddev: float, mean: float = 0.0):
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return mean + stddev * out


def _fans(shape, input_axes=None, output_axes=None) -> tuple[float, float]:
    """Fan-in and fan-out of a weight shape (Keras's ``compute_fans``): from the axes named
    when both ``input_axes`` and ``output_axes`` are given, else from the last two axes."""
    if input_axes is not None and output_axes is not None:
        return (
            float(math.prod(shape[axis] for axis in input_axes)),
            float(math.prod(shape[axis] for axis in output_axes)),
        )
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Zeros(Initializer):
    """All zeros (Keras's default for biases)."""

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=dtype or config.floatx())


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=dtype or config.floatx())


class Constant(Initializer):
    """Every value equal to ``value``."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=dtype or config.floatx())

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_Random):
    """Normal with ``mean=0.0``, ``stddev=0.05`` (Keras 3 defaults)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        out = self.rng().normal(self.mean, self.stddev, shape)
        return out.astype(dtype or config.floatx())

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal with ``mean=0.0``, ``stddev=0.05``, redrawn beyond two deviations."""

    def __call__(self, shape, dtype=None):
        out = _truncated_normal(self.rng(), shape, self.stddev, self.mean)
        return out.astype(dtype or config.floatx())


class RandomUniform(_Random):
    """Uniform on ``[minval, maxval)``, by default ``[-0.05, 0.05)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        out = self.rng().uniform(self.minval, self.maxval, shape)
        return out.astype(dtype or config.floatx())

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(_Random):
    """Scale / fan, as a truncated normal or a uniform (Keras's ``VarianceScaling``).

    Args:
        scale: multiplies the variance.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: fixes the draw.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        input_axes=None,
        output_axes=None,
    ) -> None:
        super().__init__(seed)
        self.input_axes = _axes(input_axes, "input_axes")
        self.output_axes = _axes(output_axes, "output_axes")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"`mode` must be fan_in, fan_out or fan_avg. Received: mode={mode!r}")
        valid = ("truncated_normal", "untruncated_normal", "uniform", "normal")
        if distribution not in valid:
            raise ValueError(
                f"`distribution` must be one of {valid}. Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        rng = self.rng()
        if self.distribution in ("truncated_normal", "normal"):
            out = _truncated_normal(rng, shape, math.sqrt(variance) / _TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            out = rng.normal(0.0, math.sqrt(variance), shape)
        else:
            limit = math.sqrt(3 * variance)
            out = rng.uniform(-limit, limit, shape)
        return out.astype(dtype or config.floatx())

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            **self._axes_config(),
        }

    def _axes_config(self) -> dict:
        """``input_axes``/``output_axes`` in a config, only when set (files stay as before)."""
        if self.input_axes is None and self.output_axes is None:
            return {}
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}


def _axes(axes, argument: str) -> list[int] | None:
    """A list of axis numbers (or None), checked before any weight is drawn."""
    if axes is None:
        return None
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        axes = [axes]
    if not isinstance(axes, (list, tuple)) or not all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes
    ):
        raise ValueError(f"`{argument}` must be a list of integers. Received: {axes!r}")
    return [int(a) for a in axes]


def _preset(name: str, scale: float, mode: str, distribution: str, doc: str):
    class Preset(VarianceScaling):
        def __init__(self, seed: int | None = None, input_axes=None, output_axes=None) -> None:
            super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

        def get_config(self):
            return {"seed": self.seed, **self._axes_config()}

    Preset.__name__ = Preset.__qualname__ = name
    Preset.__doc__ = doc
    return Preset


GlorotUniform = _preset(
    "GlorotUniform",
    1.0,
    "fan_avg",
    "uniform",
    "Uniform on ``±sqrt(6 / (fan_in + fan_out))`` (Keras's default kernel initializer).",
)
GlorotNormal = _preset(
    "GlorotNormal",
    1.0,
    "fan_avg",
    "truncated_normal",
    "Truncated normal with deviation ``sqrt(2 / (fan_in + fan_out))``.",
)
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "Uniform on ``±sqrt(6 / fan_in)``.")
HeNormal = _preset(
    "HeNormal",
    2.0,
    "fan_in",
    "truncated_normal",
    "Truncated normal with deviation ``sqrt(2 / fan_in)``.",
)
LecunUniform = _preset(
    "LecunUniform", 1.0, "fan_in", "uniform", "Uniform on ``±sqrt(3 / fan_in)``."
)
LecunNormal = _preset(
    "LecunNormal",
    1.0,
    "fan_in",
    "truncated_normal",
    "Truncated normal with deviation ``sqrt(1 / fan_in)``.",
)


class Orthogonal(_Random):
    """A random orthogonal matrix times ``gain`` (QR of a normal draw)."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = self.rng().normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(dtype or config.floatx())

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape. Received: shape={shape}")
        return (self.gain * np.eye(*shape)).astype(dtype or config.floatx())

    def get_config(self):
        return {"gain": self.gain}


for _cls, _names in [
    (Zeros, ("zeros", "Zeros", "zero")),
    (Ones, ("ones", "Ones", "one")),
    (Constant, ("constant", "Constant")),
    (RandomNormal, ("random_normal", "RandomNormal", "normal")),
    (RandomUniform, ("random_uniform", "RandomUniform", "uniform")),
    (TruncatedNormal, ("truncated_normal", "TruncatedNormal")),
    (VarianceScaling, ("variance_scaling", "VarianceScaling")),
    (GlorotUniform, ("glorot_uniform", "GlorotUniform")),
    (GlorotNormal, ("glorot_normal", "GlorotNormal")),
    (HeUniform, ("he_uniform", "HeUniform")),
    (HeNormal, ("he_normal", "HeNormal")),
    (LecunUniform, ("lecun_uniform", "LecunUniform")),
    (LecunNormal, ("lecun_normal", "LecunNormal")),
    (Orthogonal, ("orthogonal", "Orthogonal")),
    (Identity, ("identity", "Identity", "IdentityInitializer")),
]:
    _registry.register(_cls, *_names)

# Keras's other spellings of the same classes (``keras.initializers.zeros is Zeros``).
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = OrthogonalInitializer = Orthogonal
identity = IdentityInitializer = Identity


def get(identifier) -> Initializer:
    """Resolves an initializer from a Keras name, an instance, a class or a config dict."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        return _registry.lookup(identifier)()
    if isinstance(identifier, dict):
        cls = _registry.lookup(str(identifier.get("class_name")))
        return cls.from_config(dict(identifier.get("config") or {}))
    raise TypeError(
        f"An initializer must be a name, an Initializer or a config. Received: {identifier!r}"
    )


def serialize(initializer: Initializer) -> dict:
    """``{"class_name": ..., "config": ...}`` as Keras writes it into model configs."""
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Initializer:
    """The initializer a config (``serialize``'s dict) or a name describes
    (``keras.initializers.deserialize``). ``custom_objects`` maps class names to the user's
    own ``Initializer`` subclasses; nothing else is imported or run."""
    custom_objects = dict(custom_objects or {})
    name = config if isinstance(config, str) else None
    if isinstance(config, dict):
        name = str(config.get("class_name"))
    if name is not None and name in custom_objects:
        cls = custom_objects[name]
        if not (isinstance(cls, type) and issubclass(cls, Initializer)):
            raise TypeError(f"{name!r} in `custom_objects` is not an Initializer subclass")
        if isinstance(config, dict):
            return cls.from_config(dict(config.get("config") or {}))
        return cls()
    if isinstance(config, (str, dict)):
        return get(config)
    raise TypeError(
        f"`config` must be an initializer's name or config dict. Received: config={config!r}"
    )


def names() -> list[str]:
    """Every initializer name glassnet knows."""
    return _registry.names()
