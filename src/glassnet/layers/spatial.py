"""Layers that move or drop whole parts of images: ``ZeroPadding2D``, ``Cropping2D``,
``UpSampling2D`` and ``SpatialDropout2D`` (``keras/src/layers/reshaping/`` and
``keras/src/layers/regularization/spatial_dropout.py``).

None has weights; each backward routes the slope back to the input positions that made
each output (padding and cropping cut or pad the slope, nearest-neighbour upsampling sums
the slopes of the copies, spatial dropout multiplies by the same mask).
"""

from __future__ import annotations

import numpy as np

from glassnet.layers import _patches as P
from glassnet.layers.config_keys import key
from glassnet.layers.convolution import _ImageLayer
from glassnet.utils.seeding import new_generator

_DATA_FORMAT = key(
    "data_format", "choice", "channels_last", allowed=(None, "channels_last", "channels_first")
)


def _pairs(value, what: str, layer: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """An int, two ints (symmetric per axis) or two pairs, as ((top, bottom), (left, right))."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{layer}: `{what}` cannot be negative. Received: {what}={value!r}")
        return ((int(value),) * 2,) * 2
    if not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{layer}: `{what}` should have two elements. Received: {what}={value!r}")
    return tuple(P.standardize_tuple(v, 2, what, layer, allow_zero=True) for v in value)


class ZeroPadding2D(_ImageLayer):
    """Adds rows and columns of zeros around each image.

    Args:
        padding: an int (the same on all four sides), two ints (symmetric height and width
            padding) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    config_keys = (key("padding", "int_pairs", 1), _DATA_FORMAT)

    def __init__(self, padding=(1, 1), data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        label = f"ZeroPadding2D {self.name!r}"
        if (
            isinstance(padding, tuple)
            and len(padding) == 4
            and all(isinstance(v, (int, np.integer)) for v in padding)
        ):  # a flattened config
            padding = (padding[:2], padding[2:])
        self.padding = _pairs(padding, "padding", label)
        self.data_format = P.standardize_data_format(data_format, label)

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        (h, w), c = self._spatial(input_shape)
        (top, bottom), (left, right) = self.padding
        return P.from_channels_last_shape((h + top + bottom, w + left + right, c), self.data_format)

    def forward(self, x, training=False):
        return self._from_images(P.pad_images(self._as_images(x), self.padding)), None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        spatial, _ = self._spatial(self.input_shape)
        g = P.crop_pads(self._as_images(grad_out), self.padding, spatial)
        return self._from_images(np.ascontiguousarray(g))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping2D(_ImageLayer):
    """Cuts rows and columns off the edges of each image.

    Args:
        cropping: an int, two ints (symmetric) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    config_keys = (key("cropping", "int_pairs", 0), _DATA_FORMAT)

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        label = f"Cropping2D {self.name!r}"
        if (
            isinstance(cropping, tuple)
            and len(cropping) == 4
            and all(isinstance(v, (int, np.integer)) for v in cropping)
        ):
            cropping = (cropping[:2], cropping[2:])
        self.cropping = _pairs(cropping, "cropping", label)
        self.data_format = P.standardize_data_format(data_format, label)

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        (h, w), c = self._spatial(input_shape)
        (top, bottom), (left, right) = self.cropping
        if top + bottom >= h or left + right >= w:
            raise ValueError(
                f"Cropping2D {self.name!r}: cropping {self.cropping} leaves nothing of images "
                f"of size {(h, w)} (rows of shape {tuple(input_shape)})"
            )
        return P.from_channels_last_shape((h - top - bottom, w - left - right, c), self.data_format)

    def forward(self, x, training=False):
        (h, w), _ = self._spatial(self.input_shape)
        (top, bottom), (left, right) = self.cropping
        images = self._as_images(x)[:, top : h - bottom, left : w - right]
        return self._from_images(np.ascontiguousarray(images)), None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        return self._from_images(
            P.pad_images(np.ascontiguousarray(self._as_images(grad_out)), self.cropping)
        )

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class UpSampling2D(_ImageLayer):
    """Repeats each row ``size[0]`` times and each column ``size[1]`` times
    (``interpolation="nearest"``, Keras's default)."""

    config_keys = (
        key("size", "ints", 2, length=2),
        _DATA_FORMAT,
        key("interpolation", "choice", "nearest", allowed=("nearest",)),
    )

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs) -> None:
        super().__init__(**kwargs)
        label = f"UpSampling2D {self.name!r}"
        self.size = P.standardize_tuple(size, 2, "size", label)
        self.data_format = P.standardize_data_format(data_format, label)
        if str(interpolation).lower() != "nearest":
            raise NotImplementedError(
                f"{label}: only interpolation='nearest' is supported; received {interpolation!r}"
            )
        self.interpolation = "nearest"

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        (h, w), c = self._spatial(input_shape)
        return P.from_channels_last_shape((h * self.size[0], w * self.size[1], c), self.data_format)

    def forward(self, x, training=False):
        images = self._as_images(x)
        n, h, w, c = images.shape
        sh, sw = self.size
        out = np.broadcast_to(images[:, :, None, :, None], (n, h, sh, w, sw, c))
        return self._from_images(out.reshape(n, h * sh, w * sw, c)), None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        g = self._as_images(grad_out)
        n, _, _, c = g.shape
        (h, w), _ = self._spatial(self.input_shape)
        sh, sw = self.size
        return self._from_images(g.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4)))

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class SpatialDropout2D(_ImageLayer):
    """Drops whole feature maps: in training each channel of each image is zeroed with
    probability ``rate`` (the rest scaled by ``1 / (1 - rate)``); nothing at inference."""

    rows_independent = False  # random: its draws must not depend on chunking

    config_keys = (key("rate", "number", minimum=0, below=1), key("seed", "seed"), _DATA_FORMAT)

    def __init__(self, rate, data_format=None, seed=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self.rng = new_generator(seed)
        self.data_format = P.standardize_data_format(data_format, f"SpatialDropout2D {self.name!r}")

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        return tuple(input_shape)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            return x, None
        shape = (
            (len(x), 1, 1, x.shape[-1])
            if self.data_format == "channels_last"
            else (len(x), x.shape[1], 1, 1)
        )
        keep = self.rng.random(shape, dtype=np.float32) >= self.rate
        mask = keep * x.dtype.type(1 / (1 - self.rate))
        return x * mask, mask

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out if records is None else grad_out * records

    def get_config(self):
        # Keras's SpatialDropout2D writes no `trainable` key (and its constructor refuses one).
        config = super().get_config()
        config.pop("trainable")
        return {**config, "rate": self.rate, "seed": self.seed, "data_format": self.data_format}
