"""Weight penalties added to the loss: ``l1``, ``l2`` and ``l1_l2`` as in ``keras.regularizers``.

A regularizer maps a weight array to a penalty (a number added to the loss) and to the
penalty's slope (added to that weight's gradient).
"""

from __future__ import annotations

import numpy as np

from glassnet._registry import Registry

_registry = Registry("regularizer")


class Regularizer:
    """Base class: ``penalty(w)`` and ``gradient(w)``."""

    def __call__(self, w: np.ndarray) -> float:
        return self.penalty(w)

    def penalty(self, w: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``; slope ``l1 * sign(w) + 2 * l2 * w``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        for name, value in (("l1", l1), ("l2", l2)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(
                    f"`{name}` must be a non-negative number. Received: {name}={value}"
                )
        self.l1, self.l2 = float(l1), float(l2)

    def penalty(self, w):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(w).sum())
        if self.l2:
            total += self.l2 * float(np.square(w).sum())
        return total

    def gradient(self, w):
        grad = np.zeros_like(w)
        if self.l1:
            grad += w.dtype.type(self.l1) * np.sign(w)
        if self.l2:
            grad += w.dtype.type(2 * self.l2) * w
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)`` (Keras default ``l1=0.01``)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w**2)`` (Keras default ``l2=0.01``)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1 = L1
l2 = L2
l1_l2 = L1L2

for _cls, _names in [(L1, ("l1", "L1")), (L2, ("l2", "L2")), (L1L2, ("l1_l2", "L1L2"))]:
    _registry.register(_cls, *_names)


def get(identifier) -> Regularizer | None:
    """Resolves a regularizer from ``None``, a name, an instance or a config dict."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return _registry.lookup(identifier)()
    if isinstance(identifier, dict):
        cls = _registry.lookup(str(identifier.get("class_name")))
        return cls.from_config(dict(identifier.get("config") or {}))
    raise TypeError(
        f"A regularizer must be None, a name or a Regularizer. Received: {identifier!r}"
    )


def serialize(regularizer: Regularizer | None) -> dict | None:
    """``{"class_name": ..., "config": ...}``, or ``None``."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Regularizer:
    """The regularizer a config (``serialize``'s dict) or a name describes
    (``keras.regularizers.deserialize``); ``custom_objects`` maps class names to the user's
    own ``Regularizer`` subclasses. Nothing a config names is imported."""
    custom_objects = dict(custom_objects or {})
    name = config.get("class_name") if isinstance(config, dict) else config
    if isinstance(name, str) and name in custom_objects:
        cls = custom_objects[name]
        if not (isinstance(cls, type) and issubclass(cls, Regularizer)):
            raise TypeError(f"{name!r} in `custom_objects` is not a Regularizer subclass")
        inner = dict(config.get("config") or {}) if isinstance(config, dict) else {}
        return cls.from_config(inner)
    if not isinstance(config, (str, dict)):
        raise TypeError(
            f"`config` must be a regularizer's name or config dict. Received: {config!r}"
        )
    return get(config)
