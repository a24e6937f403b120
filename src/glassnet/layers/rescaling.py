"""``Rescaling``: ``x * scale + offset``, as Keras 3's preprocessing layer
(``keras/src/layers/preprocessing/rescaling.py``), e.g. ``Rescaling(1 / 255)`` to bring
pixel values into [0, 1]."""

from __future__ import annotations

import numpy as np

from glassnet.layers.base import Layer
from glassnet.layers.config_keys import key


def _number_or_list(value, what: str):
    if isinstance(value, (list, tuple, np.ndarray)):
        values = [float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1)]
        if not all(np.isfinite(values)) or not values:
            raise ValueError(f"`{what}` must hold finite numbers. Received: {what}={value!r}")
        return values[0] if len(values) == 1 else values
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not (np.isfinite(value))
    ):
        raise ValueError(
            f"`{what}` must be a finite number or a list of numbers (one per "
            f"channel). Received: {what}={value!r}"
        )
    return float(value)


class Rescaling(Layer):
    """Multiplies every input by ``scale`` and adds ``offset``.

    Args:
        scale: a number, or one number per channel (last axis).
        offset: a number, or one per channel; default 0.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Rescaling
        >>> Rescaling(1 / 255)(np.array([[0.0, 51.0, 255.0]]))
        Tensor([[0.        , 0.20000002, 1.        ]], dtype=float32)
    """

    rows_independent = True  # see _ImageLayer.rows_independent

    config_keys = (key("scale", "statistic"), key("offset", "statistic", 0.0))

    def __init__(self, scale, offset=0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scale = _number_or_list(scale, "scale")
        self.offset = _number_or_list(offset, "offset")

    def _checked(self, input_shape):
        for what, value in (("scale", self.scale), ("offset", self.offset)):
            if isinstance(value, list) and len(value) != input_shape[-1]:
                raise ValueError(
                    f"Rescaling {self.name!r}: `{what}` has {len(value)} values, but rows of "
                    f"shape {tuple(input_shape)} have {input_shape[-1]} channels"
                )

    def compute_output_shape(self, input_shape):
        self._checked(input_shape)
        return tuple(input_shape)

    def forward(self, x, training=False):
        scale = np.asarray(self.scale, dtype=x.dtype)
        out = x * scale
        if np.any(np.asarray(self.offset) != 0):
            out += np.asarray(self.offset, dtype=x.dtype)
        return out, None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        return grad_out * np.asarray(self.scale, dtype=grad_out.dtype)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
