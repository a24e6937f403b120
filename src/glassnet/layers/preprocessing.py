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

    def __init__(self, axis: int = -1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1, None) and axis != 1:
            raise NotImplementedError("Normalization supports only the last axis (axis=-1)")
        if (mean is None) != (variance is None):
            raise ValueError("Pass both `mean` and `variance`, or neither")
        self.axis = -1
        self.invert = bool(invert)
        self.init_mean = None if mean is None else np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.init_variance = (
            None if variance is None else np.atleast_1d(np.asarray(variance, dtype=np.float64))
        )

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

    def get_config(self):
        config = {**super().get_config(), "axis": self.axis, "invert": self.invert}
        if self.init_mean is not None:
            config["mean"] = self.init_mean.tolist()
            config["variance"] = self.init_variance.tolist()
        else:
            config["mean"] = config["variance"] = None
        return config


class _Fixed(initializers_module.Initializer):
    def __init__(self, value: np.ndarray) -> None:
        self.value = np.asarray(value)

    def __call__(self, shape, dtype=None):
        return np.array(self.value, dtype=dtype or config_module.floatx()).reshape(shape)
