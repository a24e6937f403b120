"""``Masking``: marks the steps of a sequence whose features all equal ``mask_value`` as
padding (``keras/src/layers/core/masking.py``).

The output is the input with those steps set to 0 (``x * any(x != mask_value, axis=-1)``),
and the layer makes a mask, ``(batch, timesteps)``, true for the steps that count: a
recurrent layer after it skips the others (``glassnet.layers.masks`` says how masks travel).
"""

from __future__ import annotations

import numpy as np

from glassnet.layers.base import Layer
from glassnet.layers.config_keys import key


class Masking(Layer):
    """Skips the steps of a sequence where every feature equals ``mask_value``.

    Args:
        mask_value: the padding value (Keras default ``0.0``).

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Masking
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]])
        >>> Masking().compute_mask(x).tolist()
        [[True, False, True]]
    """

    #: Read by ``glassnet.layers.masks``: the layer makes a mask for the layers after it.
    makes_mask = True
    config_keys = (key("mask_value", "number", 0.0),)

    def __init__(self, mask_value: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(
            mask_value, (int, float, np.integer, np.floating)
        ):
            raise ValueError(
                f"Masking {self.name!r}: `mask_value` must be a number. "
                f"Received: mask_value={mask_value!r}"
            )
        self.mask_value = float(mask_value)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None) -> np.ndarray:
        """Where a step has a feature other than ``mask_value``: ``(batch, timesteps)``."""
        return np.any(np.not_equal(inputs, self.mask_value), axis=-1)

    def forward(self, x, training=False):
        """The output and the kept steps ``(batch, timesteps, 1)``, which backward reads."""
        keep = np.any(x != x.dtype.type(self.mask_value), axis=-1, keepdims=True).astype(x.dtype)
        return x * keep, keep

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out * records if need_grad_input else None

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
