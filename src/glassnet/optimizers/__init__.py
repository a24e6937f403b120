"""Optimizers, as in ``keras.optimizers``: SGD, Adam, AdamW, RMSprop, Adagrad."""

from __future__ import annotations

from glassnet._registry import Registry
from glassnet.optimizers.adam import Adam, AdamW
from glassnet.optimizers.base import Optimizer
from glassnet.optimizers.rmsprop import Adagrad, RMSprop
from glassnet.optimizers.sgd import SGD

_registry = Registry("optimizer")
for _cls in (SGD, Adam, AdamW, RMSprop, Adagrad):
    _registry.register(_cls, _cls.__name__)


def get(identifier) -> Optimizer:
    """Resolves an optimizer from a name (``"adam"``, ``"sgd"``...), an instance, a class or
    a ``{"class_name", "config"}`` dict. A name gives a new optimizer with Keras's defaults.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        return _registry.lookup(identifier)()
    if isinstance(identifier, dict):
        cls = _registry.lookup(str(identifier.get("class_name")))
        return cls.from_config(dict(identifier.get("config") or {}))
    raise TypeError(
        f"`optimizer` must be a name, an Optimizer or a config. Received: optimizer={identifier!r}"
    )


def names() -> list[str]:
    """Every optimizer name glassnet knows."""
    return _registry.names()


__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "get", "names"]
