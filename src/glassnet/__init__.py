"""glassnet: a deep-learning library on NumPy with the Keras API, whose insides you can see.

Course code runs with ``keras`` replaced by ``glassnet``::

    from glassnet.layers import Dense
    from glassnet.models import Sequential

or ``import glassnet as keras`` and then ``keras.layers.Dense(...)``.
Submodules are imported on first use, so ``import glassnet`` stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "data",
    "datasets",
    "distributed",
    "experiments",
    "explain",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "regularizers",
    "saving",
    "sklearn",
    "utils",
)
_SHORTCUTS = {
    "Sequential": ("models", "Sequential"),
    "Model": ("models", "Model"),
    "GradientTape": ("ops", "GradientTape"),
    "Variable": ("ops", "Variable"),
    "Input": ("layers", "Input"),
    "load_model": ("models", "load_model"),
    "Layer": ("layers", "Layer"),
    "Loss": ("losses", "Loss"),
    "Metric": ("metrics", "Metric"),
    "Optimizer": ("optimizers", "Optimizer"),
    "Initializer": ("initializers", "Initializer"),
    "Regularizer": ("regularizers", "Regularizer"),
    "name_scope": ("_scopes", "name_scope"),
    "device": ("_scopes", "device"),
    "DTypePolicy": ("config", "DTypePolicy"),
    "KerasTensor": ("layers.symbolic", "KerasTensor"),
    "FloatDTypePolicy": ("config", "FloatDTypePolicy"),
}

__all__ = ["__version__", "version", *_SUBMODULES, *_SHORTCUTS]


def version() -> str:
    """glassnet's version string, as ``keras.version()`` gives Keras's."""
    return __version__


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"glassnet.{name}")
        globals()[name] = module
        return module
    if name in _SHORTCUTS:
        module_name, attr = _SHORTCUTS[name]
        value = getattr(importlib.import_module(f"glassnet.{module_name}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
