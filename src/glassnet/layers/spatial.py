"""Layers that move or drop whole parts of images and sequences: ``ZeroPadding1D/2D``,
``Cropping1D/2D``, ``UpSampling1D/2D`` and ``SpatialDropout1D/2D`` (``keras/src/layers/
reshaping/`` and ``keras/src/layers/regularization/spatial_dropout.py``).

None has weights; each backward routes the slope back to the input positions that made
each output (padding and cropping cut or pad the slope, nearest-neighbour upsampling sums
the slopes of the copies, spatial dropout multiplies by the same mask).

The 1-D layers are their 2-D counterparts with ``rank = 1``: a sequence ``(steps,
channels)`` is an image of height 1 (``_ImageLayer._as_images``), padded, cropped or
repeated along its width only.
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


class _SpatialLayer(_ImageLayer):
    """Shapes of images and sequences alike: a sequence is an image of height 1."""

    def _label(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def _image_size(self, input_shape) -> tuple[tuple[int, int], int]:
        """``((height, width), channels)`` of a row (height 1 for a sequence)."""
        spatial, channels = self._spatial(input_shape)
        return self._two(spatial), channels

    def _row_shape(self, hw, channels: int) -> tuple:
        """An output row's shape from its image size (the width only for a sequence)."""
        spatial = hw[1:] if self.rank == 1 else hw
        return P.from_channels_last_shape((*spatial, channels), self.data_format)


class _ZeroPadding(_SpatialLayer):
    """``ZeroPadding1D`` and ``ZeroPadding2D``: zeros around the image (``_pads``)."""

    def _pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((top, bottom), (left, right))`` of the image the layer pads."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        (h, w), c = self._image_size(input_shape)
        (top, bottom), (left, right) = self._pads()
        return self._row_shape((h + top + bottom, w + left + right), c)

    def forward(self, x, training=False):
        return self._from_images(P.pad_images(self._as_images(x), self._pads())), None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        hw, _ = self._image_size(self.input_shape)
        g = P.crop_pads(self._as_images(grad_out), self._pads(), hw)
        return self._from_images(np.ascontiguousarray(g))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around each image.

    Args:
        padding: an int (the same on all four sides), two ints (symmetric height and width
            padding) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    config_keys = (key("padding", "int_pairs", 1), _DATA_FORMAT)

    def __init__(self, padding=(1, 1), data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        label = self._label()
        if (
            isinstance(padding, tuple)
            and len(padding) == 4
            and all(isinstance(v, (int, np.integer)) for v in padding)
        ):  # a flattened config
            padding = (padding[:2], padding[2:])
        self.padding = _pairs(padding, "padding", label)
        self.data_format = P.standardize_data_format(data_format, label)

    def _pads(self):
        return self.padding


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of each sequence
    (``keras/src/layers/reshaping/zero_padding1d.py``).

    Args:
        padding: an int (the same at both ends) or ``(start, end)``; default 1.
        data_format: ``"channels_last"`` (default, rows ``(steps, channels)``) or
            ``"channels_first"`` (rows ``(channels, steps)``).

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import ZeroPadding1D
        >>> ZeroPadding1D((1, 2))(np.array([[[1.0], [2.0]]]))[0, :, 0]
        Tensor([0., 1., 2., 0., 0.], dtype=float32)
    """

    rank = 1
    config_keys = (key("padding", "ints", 1, length=2, minimum=0), _DATA_FORMAT)

    def __init__(self, padding=1, data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        label = self._label()
        self.padding = P.standardize_tuple(padding, 2, "padding", label, allow_zero=True)
        self.data_format = P.standardize_data_format(data_format, label)

    def _pads(self):
        return ((0, 0), self.padding)


class _Cropping(_SpatialLayer):
    """``Cropping1D`` and ``Cropping2D``: edges cut off the image (``_crops``)."""

    def _crops(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((top, bottom), (left, right))`` of the image the layer crops."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        (h, w), c = self._image_size(input_shape)
        (top, bottom), (left, right) = self._crops()
        if top + bottom >= h or left + right >= w:
            what = f"sequences of length {w}" if self.rank == 1 else f"images of size {(h, w)}"
            raise ValueError(
                f"{self._label()}: cropping {self.cropping} leaves nothing of {what} "
                f"(rows of shape {tuple(input_shape)})"
            )
        return self._row_shape((h - top - bottom, w - left - right), c)

    def forward(self, x, training=False):
        (h, w), _ = self._image_size(self.input_shape)
        (top, bottom), (left, right) = self._crops()
        images = self._as_images(x)[:, top : h - bottom, left : w - right]
        return self._from_images(np.ascontiguousarray(images)), None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        return self._from_images(
            P.pad_images(np.ascontiguousarray(self._as_images(grad_out)), self._crops())
        )

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(_Cropping):
    """Cuts rows and columns off the edges of each image.

    Args:
        cropping: an int, two ints (symmetric) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    config_keys = (key("cropping", "int_pairs", 0), _DATA_FORMAT)

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        label = self._label()
        if (
            isinstance(cropping, tuple)
            and len(cropping) == 4
            and all(isinstance(v, (int, np.integer)) for v in cropping)
        ):
            cropping = (cropping[:2], cropping[2:])
        self.cropping = _pairs(cropping, "cropping", label)
        self.data_format = P.standardize_data_format(data_format, label)

    def _crops(self):
        return self.cropping

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Cuts steps off the start and end of each sequence
    (``keras/src/layers/reshaping/cropping1d.py``). As in Keras, it takes no
    ``data_format``: rows are ``(steps, channels)``.

    Args:
        cropping: an int (the same at both ends) or ``(start, end)``; default ``(1, 1)``.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Cropping1D
        >>> Cropping1D((1, 2))(np.arange(5.0).reshape(1, 5, 1))[0, :, 0]
        Tensor([1., 2.], dtype=float32)
    """

    rank = 1
    config_keys = (key("cropping", "ints", 1, length=2, minimum=0),)

    def __init__(self, cropping=(1, 1), **kwargs) -> None:
        super().__init__(**kwargs)
        self.cropping = P.standardize_tuple(
            cropping, 2, "cropping", self._label(), allow_zero=True
        )
        self.data_format = "channels_last"

    def _crops(self):
        return ((0, 0), self.cropping)


class _UpSampling(_SpatialLayer):
    """``UpSampling1D`` and ``UpSampling2D``: rows and columns repeated (``_factors``)."""

    def _factors(self) -> tuple[int, int]:
        """How many times each row and each column of the image is repeated."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        (h, w), c = self._image_size(input_shape)
        sh, sw = self._factors()
        return self._row_shape((h * sh, w * sw), c)

    def forward(self, x, training=False):
        images = self._as_images(x)
        n, h, w, c = images.shape
        sh, sw = self._factors()
        out = np.broadcast_to(images[:, :, None, :, None], (n, h, sh, w, sw, c))
        return self._from_images(out.reshape(n, h * sh, w * sw, c)), None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        g = self._as_images(grad_out)
        n, _, _, c = g.shape
        (h, w), _ = self._image_size(self.input_shape)
        sh, sw = self._factors()
        return self._from_images(g.reshape(n, h, sh, w, sw, c).sum(axis=(2, 4)))

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(_UpSampling):
    """Repeats each row ``size[0]`` times and each column ``size[1]`` times
    (``interpolation="nearest"``, Keras's default)."""

    config_keys = (
        key("size", "ints", 2, length=2),
        _DATA_FORMAT,
        key("interpolation", "choice", "nearest", allowed=("nearest",)),
    )

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs) -> None:
        super().__init__(**kwargs)
        label = self._label()
        self.size = P.standardize_tuple(size, 2, "size", label)
        self.data_format = P.standardize_data_format(data_format, label)
        if str(interpolation).lower() != "nearest":
            raise NotImplementedError(
                f"{label}: only interpolation='nearest' is supported; received {interpolation!r}"
            )
        self.interpolation = "nearest"

    def _factors(self):
        return self.size

    def get_config(self):
        return {
            **super().get_config(),
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class UpSampling1D(_UpSampling):
    """Repeats each step of each sequence ``size`` times
    (``keras/src/layers/reshaping/up_sampling1d.py``, ``ops.repeat`` along the steps). As
    in Keras, it takes no ``data_format``: rows are ``(steps, channels)``.

    Args:
        size: a positive int; default 2 (Keras refuses anything but an int, with a
            ``TypeError``).

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import UpSampling1D
        >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]]))[0, :, 0]
        Tensor([1., 1., 2., 2.], dtype=float32)
    """

    rank = 1
    config_keys = (key("size", "int", 2),)

    def __init__(self, size=2, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(
                f"{self._label()}: expected an integer value for `size`, got {type(size)}."
            )
        if size <= 0:
            raise ValueError(
                f"{self._label()}: argument `size` should be a positive integer. "
                f"Received: size={size}"
            )
        self.size = int(size)
        self.data_format = "channels_last"

    def _factors(self):
        return (1, self.size)


class _SpatialDropout(_ImageLayer):
    """``SpatialDropout1D`` and ``SpatialDropout2D``: in training each channel of each row
    is zeroed with probability ``rate`` over all its positions (the rest scaled by ``1 / (1 -
    rate)``); nothing at inference (``keras/src/layers/regularization/spatial_dropout.py``).
    """

    rows_independent = False  # random: its draws must not depend on chunking

    config_keys = (key("rate", "number", minimum=0, below=1), key("seed", "seed"), _DATA_FORMAT)

    def __init__(self, rate, data_format=None, seed=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `rate` must be a number in [0, 1). "
                f"Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.seed = seed
        self.rng = new_generator(seed)
        self.data_format = P.standardize_data_format(
            data_format, f"{type(self).__name__} {self.name!r}"
        )

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        return tuple(input_shape)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            return x, None
        # Keras's noise shape: one draw per row and channel, shared by every position
        ones = (1,) * self.rank
        shape = (
            (len(x), *ones, x.shape[-1])
            if self.data_format == "channels_last"
            else (len(x), x.shape[1], *ones)
        )
        keep = self.rng.random(shape, dtype=np.float32) >= self.rate
        mask = keep * x.dtype.type(1 / (1 - self.rate))
        return x * mask, mask

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out if records is None else grad_out * records

    def get_config(self):
        # Keras's spatial dropouts write no `trainable` key (their constructors refuse one).
        config = super().get_config()
        config.pop("trainable")
        return {**config, "rate": self.rate, "seed": self.seed, "data_format": self.data_format}


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps: in training each channel of each image is zeroed with
    probability ``rate`` (the rest scaled by ``1 / (1 - rate)``); nothing at inference."""

    rank = 2


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of sequences ``(steps, channels)``: in training each channel of
    each row is zeroed at every step with probability ``rate`` (Keras's noise shape
    ``(rows, 1, channels)``), the rest scaled by ``1 / (1 - rate)``; nothing at inference.
    As in Keras, it takes no ``data_format`` and writes none.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import SpatialDropout1D
        >>> out = SpatialDropout1D(0.5, seed=1)(np.ones((1, 3, 4)), training=True)
        >>> bool(((out == 0).all(axis=1) | (out == 2).all(axis=1)).all())
        True
    """

    rank = 1
    config_keys = tuple(k for k in _SpatialDropout.config_keys if k.name != "data_format")

    def __init__(self, rate, seed=None, **kwargs) -> None:
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return config
