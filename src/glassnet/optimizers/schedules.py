"""Learning-rate schedules, as in ``keras.optimizers.schedules``.

A schedule maps the optimizer's step count to a learning rate; an optimizer given one as
``learning_rate=`` evaluates it at its ``iterations`` before every update (the count of
updates made so far, 0 at the first). The formulas, arguments, defaults and names follow
``keras/src/optimizers/schedules/learning_rate_schedule.py``; the numbers are computed in
float64 and returned as Python floats (Keras computes them in float32).

Example:
    >>> from glassnet.optimizers import schedules
    >>> decay = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(decay(20), 6)
    0.025
"""

from __future__ import annotations

import math
import numbers

from glassnet._checks import check_flag, is_finite
from glassnet._registry import Registry

_registry = Registry("learning rate schedule")

#: The ``module`` Keras writes in a serialized schedule.
KERAS_MODULE = "keras.optimizers.schedules"


class LearningRateSchedule:
    """Base class of schedules: subclasses write ``__call__(step)`` and ``get_config()``.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, rate):
        ...         self.rate = rate
        ...     def __call__(self, step):
        ...         return self.rate / 2 ** step
        ...     def get_config(self):
        ...         return {"rate": self.rate}
        >>> Halving(1.0)(3)
        0.125
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


# --- argument checks (Keras's messages where Keras checks) -------------------------------


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not is_finite(value):
        raise ValueError(f"Argument `{what}` must be a finite number. Received: {what}={value!r}")
    return value


def _steps(value, what: str):
    _number(value, what)
    if value <= 0:
        raise ValueError(f"Argument `{what}` must be > 0. Received: {what}={value}")
    return value


def _step(step) -> float:
    """The step as a float (an int, a NumPy scalar or a 0-d array)."""
    try:
        value = float(step)
    except (TypeError, ValueError):
        raise TypeError(f"A schedule's step must be a number. Received: step={step!r}") from None
    return value


# --- the schedules -----------------------------------------------------------------------


class _StepDecay(LearningRateSchedule):
    """What ``ExponentialDecay`` and ``InverseTimeDecay`` share: their arguments, their
    config, and the progress ``step / decay_steps`` (floored with ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.decay_rate = _number(decay_rate, "decay_rate")
        self.staircase = check_flag(staircase, "staircase")
        self.name = type(self).__name__ if name is None else name

    def _progress(self, step) -> float:
        p = _step(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with ``staircase``
    the exponent is floored, so the rate drops in steps."""

    def __call__(self, step):
        return float(self.initial_learning_rate * self.decay_rate ** self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to and including ``boundaries[0]``, ``values[1]`` up to
    ``boundaries[1]``, ..., ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant") -> None:
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        for b in boundaries:
            _number(b, "boundaries")
        for v in values:
            _number(v, "values")
        if any(low > high for low, high in zip(boundaries[:-1], boundaries[1:], strict=True)):
            raise ValueError(f"`boundaries` must be increasing. Received: boundaries={boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        s = _step(step)
        for boundary, value in zip(self.boundaries, self.values[:-1], strict=True):
            if s <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` steps
    along ``(1 - step / decay_steps) ** power``; with ``cycle`` the span restarts, each
    time ``decay_steps`` longer."""

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.end_learning_rate = _number(end_learning_rate, "end_learning_rate")
        self.power = _number(power, "power")
        self.cycle = check_flag(cycle, "cycle")
        self.name = name

    def __call__(self, step):
        s = _step(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if s == 0 else math.ceil(s / self.decay_steps)
        else:
            s = min(s, decay_steps)
        p = s / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return float(span * (1 - p) ** self.power + self.end_learning_rate)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the quotient
    floored with ``staircase``)."""

    def __call__(self, step):
        return float(self.initial_learning_rate / (1 + self.decay_rate * self._progress(step)))


def _cosine(fraction: float, alpha: float) -> float:
    return (1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the rate down to ``alpha`` times it over ``decay_steps`` steps.

    With ``warmup_target``, the rate first rises linearly from ``initial_learning_rate``
    to ``warmup_target`` over ``warmup_steps`` steps, then decays from ``warmup_target``.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name: str = "CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ) -> None:
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _steps(decay_steps, "decay_steps")
        self.alpha = _number(alpha, "alpha")
        self.name = name
        self.warmup_steps = _number(warmup_steps, "warmup_steps")
        if warmup_steps < 0:
            raise ValueError(
                f"Argument `warmup_steps` must be >= 0. Received: warmup_steps={warmup_steps}"
            )
        self.warmup_target = (
            None if warmup_target is None else _number(warmup_target, "warmup_target")
        )

    def __call__(self, step):
        s = _step(step)
        if self.warmup_target is None:
            s = min(s, self.decay_steps)
            return float(self.initial_learning_rate * _cosine(s / self.decay_steps, self.alpha))
        s = min(s, self.decay_steps + self.warmup_steps)
        if s < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return float(delta * (s / self.warmup_steps) + self.initial_learning_rate)
        fraction = (s - self.warmup_steps) / self.decay_steps
        return float(self.warmup_target * _cosine(fraction, self.alpha))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the first period lasts
    ``first_decay_steps`` steps, each next one ``t_mul`` times longer, and each restarts
    at ``m_mul`` times the previous start."""

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name: str = "SGDRDecay",
    ) -> None:
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.first_decay_steps = _steps(first_decay_steps, "first_decay_steps")
        self._t_mul = _number(t_mul, "t_mul")
        if t_mul <= 0:
            raise ValueError(f"Argument `t_mul` must be > 0. Received: t_mul={t_mul}")
        self._m_mul = _number(m_mul, "m_mul")
        self.alpha = _number(alpha, "alpha")
        self.name = name

    def __call__(self, step):
        fraction = _step(step) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - done) / t_mul**restart
        factor = self._m_mul**restart
        cosine = 0.5 * factor * (1.0 + math.cos(math.pi * fraction))
        return float(self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


for _cls in (
    ExponentialDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    InverseTimeDecay,
    CosineDecay,
    CosineDecayRestarts,
):
    _registry.register(_cls, _cls.__name__)


def schedule_class(name: str) -> type:
    """The built-in schedule class named ``name`` (a ``ValueError`` listing them if none)."""
    return _registry.lookup(name)


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """The schedule as Keras 3 writes it: ``{"module", "class_name", "config",
    "registered_name"}``."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(
            "`learning_rate_schedule` must be a LearningRateSchedule. Received: "
            f"{learning_rate_schedule!r}"
        )
    cls = type(learning_rate_schedule)
    builtin = cls.__name__ in _registry.names() and _registry.lookup(cls.__name__) is cls
    return {
        "module": KERAS_MODULE if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": learning_rate_schedule.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """A schedule from ``serialize``'s form (or ``{"class_name", "config"}``).

    ``custom_objects`` maps class names to user schedule classes; a name neither there
    nor among glassnet's raises a ``ValueError`` listing the known ones.
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            f"A serialized schedule must be a dict with a 'class_name'. Received: {config!r}"
        )
    name = config["class_name"]
    custom = custom_objects or {}
    cls = custom.get(name) or custom.get(str(config.get("registered_name")))
    if cls is None:
        cls = _registry.lookup(name)
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"The config of schedule {name!r} must be a dict. Received: {inner!r}")
    return cls.from_config(dict(inner))


def get(identifier) -> LearningRateSchedule:
    """A schedule from an instance or its serialized dict."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret learning rate schedule identifier: {identifier!r}")


__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "get",
    "serialize",
]
