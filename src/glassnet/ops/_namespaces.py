"""``glassnet.ops.nn``, ``.math``, ``.linalg``, ``.numpy``, ``.core``: the ops by family, as
``keras.ops.nn`` ... hold them (every op is also ``glassnet.ops.<name>``)."""

from __future__ import annotations

import types

from glassnet.ops import (
    core_ops,
    linalg_ops,
    math_ops,
    more_ops,
    nn_ops,
    numpy_extra,
    numpy_ops,
)


def _namespace(name: str, *modules) -> types.SimpleNamespace:
    members = {}
    for module in modules:
        members.update({n: getattr(module, n) for n in module.__all__})
    space = types.SimpleNamespace(**members)
    space.__name__ = f"glassnet.ops.{name}"
    return space


nn = _namespace("nn", nn_ops)
math = _namespace("math", math_ops)
linalg = _namespace("linalg", linalg_ops)
numpy = _namespace("numpy", numpy_ops, numpy_extra, more_ops)
core = _namespace("core", core_ops)
