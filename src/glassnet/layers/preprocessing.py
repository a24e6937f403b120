"""``Normalization``: standardising inputs inside the model, so a saved model carries its scaling.

The course scales data to mean 0 and standard deviation 1 before fitting. Putting that step
in the model as its first layer means ``predict`` on raw data applies the same scaling, and
the statistics travel with the model in its file.
"""

from __future__ import annotations

import numpy as np

from glassnet import config as config_module
from glassnet import initializers as initializers_module
from glassnet._arrays import to_array
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import key


class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), epsilon)``, feature by feature, as Keras's layer.

    Learn the statistics from data with ``adapt(x)``, or pass ``mean`` and ``variance``.
    The statistics are weights that do not train (``mean``, ``variance``).

    Args:
        axis: the feature axis (only -1 is supported).
        mean, variance: fixed statistics instead of ``adapt``.
        invert: apply the inverse map (``x * std + mean``), e.g. to un-scale predictions.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Normalization
        >>> norm = Normalization()
        >>> norm.adapt(np.array([[1.0], [3.0]]))
        >>> norm(np.array([[3.0]]))
        array([[1.]], dtype=float32)
    """

    # keras/src/layers/preprocessing/normalization.py, get_config
    config_keys = (
        key("axis", "last_axis", -1),
        key("invert", "bool", False),
        key("mean", "statistic"),
        key("variance", "statistic"),
    )

    def __init__(self, axis: int = -1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if axis not in (-1, None) and axis != 1:
            raise NotImplementedError("Normalization supports only the last axis (axis=-1)")
        if (mean is None) != (variance is None):
            raise ValueError("Pass both `mean` and `variance`, or neither")
        self.axis = -1
        self.invert = bool(invert)
        self.init_mean = None if mean is None else _statistic(mean, "mean")
        self.init_variance = None if variance is None else _statistic(variance, "variance")

    def weight_specs(self, input_shape):
        n = input_shape[-1]
        mean_init = initializers_module.Zeros()
        var_init = initializers_module.Ones()
        if self.init_mean is not None:
            mean_init = _Fixed(np.broadcast_to(self.init_mean, (n,)))
            var_init = _Fixed(np.broadcast_to(self.init_variance, (n,)))
        return [
            WeightSpec("mean", (n,), mean_init, trainable=False),
            WeightSpec("variance", (n,), var_init, trainable=False),
        ]

    def adapt(self, data) -> None:
        """Sets ``mean`` and ``variance`` from data (rows of features)."""
        arr, _ = to_array(data, "data", np.float64)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if not self.built:
            self.build(arr.shape[1:])
        if arr.shape[1:] != self.input_shape:
            raise ValueError(
                f"Normalization {self.name!r} was built for rows of shape {self.input_shape}; "
                f"adapt received rows of shape {arr.shape[1:]}"
            )
        self.mean[...] = arr.mean(axis=0)
        self.variance[...] = arr.var(axis=0)

    def _std(self, dtype) -> np.ndarray:
        return np.maximum(np.sqrt(self.variance), config_module.epsilon()).astype(dtype, copy=False)

    def forward(self, x, training=False):
        """The output, and the standard deviations it used (for backward)."""
        std = self._std(x.dtype)
        if self.invert:
            return x * std + self.mean, std
        return (x - self.mean) / std, std

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        return grad_out * records if self.invert else grad_out / records

    def own_variable_specs(self):
        """Keras's variables (``keras/src/layers/preprocessing/normalization.py``):
        adapted statistics are ``mean``, ``variance`` and an integer ``count`` glassnet has
        no use for; statistics given to the constructor live in the config and are no
        variables at all."""
        if self.init_mean is not None:
            return []
        shape = tuple(self.specs[0].shape)
        return [("mean", shape, "f"), ("variance", shape, "f"), ("count", (), "i")]

    def save_own_variables(self, store) -> None:
        if self.init_mean is None:
            store["0"] = self.mean
            store["1"] = self.variance
            store["2"] = np.asarray(0, dtype=np.int64)

    def load_own_variables(self, store) -> None:
        expected = self.own_variable_specs()
        if len(store.keys()) != len(expected):
            raise ValueError(
                f"Layer {self.name!r} expects {len(expected)} variables; received "
                f"{len(store.keys())}"
            )
        if expected:  # the count (store["2"]) is Keras's bookkeeping only
            self.set_weights([store["0"], store["1"]])

    def get_config(self):
        fixed = self.init_mean is not None  # Keras keeps given statistics in the config
        return {
            **super().get_config(),
            "axis": [-1],
            "invert": self.invert,
            "mean": self.init_mean.tolist() if fixed else None,
            "variance": self.init_variance.tolist() if fixed else None,
        }


class _Fixed(initializers_module.Initializer):
    def __init__(self, value: np.ndarray) -> None:
        self.value = np.asarray(value)

    def __call__(self, shape, dtype=None):
        return np.array(self.value, dtype=dtype or config_module.floatx()).reshape(shape)


def _statistic(value, what: str) -> np.ndarray:
    """``mean`` or ``variance`` as a 1-D float64 array of finite numbers (a variance also
    not negative), or a ``ValueError`` naming it."""
    try:
        array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError, OverflowError):
        array = None
    if array is None or array.ndim != 1 or not np.all(np.isfinite(array)) or (
        what == "variance" and np.any(array < 0)
    ):
        need = "non-negative finite numbers" if what == "variance" else "finite numbers"
        raise ValueError(f"`{what}` must be a number or a list of {need}. Received: {value!r}")
    return array
