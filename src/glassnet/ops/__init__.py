"""The recorded forward pass (``Node``, ``Record``, ``Tape``, see ``glassnet.ops.tape``), the
eager result type ``Tensor``, and ``keras.ops`` on NumPy, differentiable on the tape.

``glassnet.ops.<name>`` has Keras 3's ``keras.ops.<name>`` names and semantics; the families
live in ``numpy_ops``, ``nn_ops``, ``math_ops``, ``linalg_ops`` and ``core_ops`` (forward-only
NumPy ops in ``more_ops``), and ``glassnet.ops.nn``/``.math``/``.linalg``/``.numpy`` hold them
by family, as ``keras.ops`` does.
"""

from glassnet.ops import (
    _namespaces,
    core_ops,
    einops_ops,
    linalg_ops,
    math_ops,
    more_ops,
    nn_ops,
    numpy_extra,
    numpy_ops,
)
from glassnet.ops.core_ops import *  # noqa: F403
from glassnet.ops.einops_ops import *  # noqa: F403
from glassnet.ops.gradient_tape import GradientTape
from glassnet.ops.linalg_ops import *  # noqa: F403
from glassnet.ops.math_ops import *  # noqa: F403
from glassnet.ops.more_ops import *  # noqa: F403
from glassnet.ops.nn_ops import *  # noqa: F403
from glassnet.ops.node import Node, Record
from glassnet.ops.numpy_extra import *  # noqa: F403
from glassnet.ops.numpy_ops import *  # noqa: F403
from glassnet.ops.tape import Tape, active_tape, recording
from glassnet.ops.tensor import Tensor, as_tensor
from glassnet.ops.variable import Variable

nn = _namespaces.nn
math = _namespaces.math
linalg = _namespaces.linalg
numpy = _namespaces.numpy
core = _namespaces.core

__all__ = [
    "GradientTape",
    "Variable",
    "Node",
    "Record",
    "Tape",
    "Tensor",
    "active_tape",
    "as_tensor",
    "recording",
    "nn",
    "math",
    "linalg",
    "numpy",
    "core",
    *core_ops.__all__,
    *einops_ops.__all__,
    *linalg_ops.__all__,
    *math_ops.__all__,
    *more_ops.__all__,
    *nn_ops.__all__,
    *numpy_extra.__all__,
    *numpy_ops.__all__,
]
