"""Optimizers, as in ``keras.optimizers``: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta,
Adamax, Nadam, Lion and Ftrl, and the learning-rate ``schedules``."""

from __future__ import annotations

from glassnet._registry import Registry
from glassnet.optimizers import schedules
from glassnet.optimizers.adadelta import Adadelta
from glassnet.optimizers.adam import Adam, AdamW
from glassnet.optimizers.adamax import Adamax
from glassnet.optimizers.base import Optimizer
from glassnet.optimizers.ftrl import Ftrl
from glassnet.optimizers.lion import Lion
from glassnet.optimizers.nadam import Nadam
from glassnet.optimizers.rmsprop import Adagrad, RMSprop
from glassnet.optimizers.sgd import SGD

#: Every optimizer class, under the class name Keras writes.
OPTIMIZER_CLASSES = {
    cls.__name__: cls
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl)
}

_registry = Registry("optimizer")
for _name, _cls in OPTIMIZER_CLASSES.items():
    _registry.register(_cls, _name)


def serialize(optimizer: Optimizer) -> dict:
    """The optimizer as Keras 3 writes it: ``{"module", "class_name", "config",
    "registered_name"}``."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"`optimizer` must be an Optimizer. Received: {optimizer!r}")
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """An optimizer from ``serialize``'s form (or ``{"class_name", "config"}``); an
    unknown class name raises a ``ValueError`` listing the known ones."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            f"A serialized optimizer must be a dict with a 'class_name'. Received: {config!r}"
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _registry.lookup(name)
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"The config of optimizer {name!r} must be a dict. Received: {inner!r}")
    return cls.from_config(dict(inner), custom_objects=custom_objects)


def get(identifier) -> Optimizer | None:
    """Resolves an optimizer from a name (``"adam"``, ``"sgd"``...), an instance, a class or
    a ``{"class_name", "config"}`` dict; ``None`` gives ``None``, as in Keras. A name gives a
    new optimizer with Keras's defaults.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        return _registry.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(
        f"`optimizer` must be a name, an Optimizer or a config. Received: optimizer={identifier!r}"
    )


def names() -> list[str]:
    """Every optimizer name glassnet knows."""
    return _registry.names()


__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "names",
    "schedules",
    "serialize",
]
