"""Pooling: ``MaxPooling1D/2D``, ``AveragePooling1D/2D`` and the global poolings, with Keras
3's arguments and configs (``keras/src/layers/pooling/``).

A pool summarises each window of ``pool_size`` positions, channel by channel, by its largest
value or its mean. When windows tile the image (``strides == pool_size``, the default, with
``valid`` padding) the batch is reshaped so that each window is two axes of its own and one
reduction does the whole layer; other strides and ``same`` padding read windows through the
strided patch view of ``_patches``. A max pool's slope goes to the one position that won
each window (the first in reading order on ties, as TensorFlow's); an average pool's is
shared equally among the positions it averaged (with ``same`` padding, the padding is not
counted, as in Keras on TensorFlow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.layers import _patches as P
from glassnet.layers.base import Layer
from glassnet.layers.config_keys import key
from glassnet.layers.convolution import _ImageLayer


class _Pooling(_ImageLayer):
    """The shared part of the windowed poolings (``base_pooling.py``)."""

    mode = "max"
    config_keys = (
        key("pool_size", "ints", 2, length=2),
        key("strides", "ints", None, length=2),
        key("padding", "choice", "valid", allowed=("valid", "same")),
        key(
            "data_format",
            "choice",
            "channels_last",
            allowed=(None, "channels_last", "channels_first"),
        ),
    )

    def __init__(
        self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        label = f"{type(self).__name__} {self.name!r}"
        self.pool_size = P.standardize_tuple(pool_size, self.rank, "pool_size", label)
        self.strides = (
            self.pool_size
            if strides is None
            else P.standardize_tuple(strides, self.rank, "strides", label)
        )
        self.padding = P.standardize_padding(padding, label)
        self.data_format = P.standardize_data_format(data_format, label)

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        spatial, channels = self._spatial(input_shape)
        ones = (1,) * self.rank
        P.check_fits(
            self,
            input_shape,
            spatial,
            self.pool_size,
            self.strides,
            ones,
            self.padding,
            what="pool",
        )
        out = tuple(
            P.output_length(size, p, s, 1, self.padding)
            for size, p, s in zip(spatial, self.pool_size, self.strides, strict=True)
        )
        return P.from_channels_last_shape((*out, channels), self.data_format)

    def _geometry(self):
        spatial, _ = self._spatial(self.input_shape)
        spatial2, pool2, strides2 = (
            self._two(spatial),
            self._two(self.pool_size),
            self._two(self.strides),
        )
        pads = tuple(
            P.pad_amounts(size, p, s, 1, self.padding)
            for size, p, s in zip(spatial2, pool2, strides2, strict=True)
        )
        out = tuple(
            P.output_length(size, p, s, 1, self.padding)
            for size, p, s in zip(spatial2, pool2, strides2, strict=True)
        )
        tiled = pool2 == strides2 and not any(a or b for a, b in pads)
        return spatial2, pool2, strides2, pads, out, tiled

    def forward(self, x, training=False):
        spatial2, pool2, strides2, pads, (oh, ow), tiled = self._geometry()
        images = self._as_images(x)
        n, c = len(images), images.shape[-1]
        (ph, pw) = pool2
        if tiled:
            if self.mode == "max":
                out = _tiled_max(images, pool2, (oh, ow))
                # the winners are found in backward, from the input and the output kept here
                return self._from_images(out), ("tiled", (images, out))
            blocks = images[:, : oh * ph, : ow * pw].reshape(n, oh, ph, ow, pw, c)
            out = blocks.mean(axis=(2, 4), dtype=images.dtype)
            return self._from_images(out), ("tiled", None)
        return self._forward_windows(x, images, spatial2, pool2, strides2, pads, (oh, ow))

    def _forward_windows(self, x, images, spatial2, pool2, strides2, pads, out_hw):
        n, c = len(images), images.shape[-1]
        if self.mode == "max":
            xp = _pad_with(images, pads, -np.inf)
            view = P.patch_view(xp, pool2, strides2, (1, 1), out_hw)
            windows = view.reshape(n, *out_hw, pool2[0] * pool2[1], c)  # copies
            winner = windows.argmax(axis=3)
            out = np.take_along_axis(windows, winner[:, :, :, None], axis=3)[:, :, :, 0]
            return self._from_images(out), ("windows", winner)
        xp = P.pad_images(images, pads)
        view = P.patch_view(xp, pool2, strides2, (1, 1), out_hw)
        count = self._counts(spatial2, pool2, strides2, pads, out_hw, images.dtype)
        out = view.sum(axis=(3, 4)) / count
        return self._from_images(out.astype(images.dtype, copy=False)), ("windows", count)

    @staticmethod
    def _counts(spatial2, pool2, strides2, pads, out_hw, dtype):
        """How many real (unpadded) positions each window averages: (1, oh, ow, 1)."""
        ones = P.pad_images(np.ones((1, *spatial2, 1), dtype=dtype), pads)
        view = P.patch_view(ones, pool2, strides2, (1, 1), out_hw)
        return view.sum(axis=(3, 4))

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        how, kept = records
        spatial2, pool2, strides2, pads, (oh, ow), _ = self._geometry()
        g = self._as_images(grad_out)
        n, c = len(g), g.shape[-1]
        (ph, pw), (h, w) = pool2, spatial2
        if how == "tiled":
            if self.mode == "max":
                grad = np.empty((n, h, w, c), dtype=g.dtype)
                grad[:, oh * ph :] = 0  # rows and columns no window covers
                grad[:, : oh * ph, ow * pw :] = 0
                _route_to_winners(grad, g, *kept, pool2, (oh, ow))
                return self._from_images(grad)
            grad = np.zeros((n, h, w, c), dtype=g.dtype)
            blocks = grad[:, : oh * ph, : ow * pw].reshape(n, oh, ph, ow, pw, c)
            blocks[...] = g[:, :, None, :, None] / g.dtype.type(ph * pw)
            return self._from_images(grad)
        grad_windows = np.zeros((n, oh, ow, ph * pw, c), dtype=g.dtype)
        if self.mode == "max":
            np.put_along_axis(grad_windows, kept[:, :, :, None], g[:, :, :, None], axis=3)
        else:
            grad_windows[...] = (g / kept)[:, :, :, None]
        (top, bottom), (left, right) = pads
        grad_xp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=g.dtype)
        P.add_patches(grad_xp, grad_windows.reshape(n, oh, ow, ph, pw, c), strides2, (1, 1))
        return self._from_images(np.ascontiguousarray(P.crop_pads(grad_xp, pads, (h, w))))

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


def _window_slices(images, pool, out_hw):
    """Per window position ``(i, j)``, the strided slice of every window's value there."""
    (ph, pw), (oh, ow) = pool, out_hw
    return [
        ((i, j), images[:, i : oh * ph : ph, j : ow * pw : pw])
        for i in range(ph)
        for j in range(pw)
    ]


def _tiled_max(images, pool, out_hw):
    """Max pooling over windows that tile the image: elementwise maxima of one strided
    slice per window position (no copy of the windows)."""
    slices = _window_slices(images, pool, out_hw)
    out = slices[0][1].copy()
    for _, part in slices[1:]:
        np.maximum(out, part, out=out)
    return out


def _route_to_winners(grad, g, images, out, pool, out_hw):
    """Writes each window's slope ``g`` to the position that won it, zero to the others:
    the first largest in reading order on ties (as TensorFlow's; ties are common after a
    ReLU, in all-zero windows). Every window position of ``grad`` is written, once."""
    slices = _window_slices(images, pool, out_hw)
    (ph, pw), (oh, ow) = pool, out_hw
    taken = hit = None
    for index, ((i, j), part) in enumerate(slices):
        target = grad[:, i : oh * ph : ph, j : ow * pw : pw]
        if index == 0:
            taken = np.equal(part, out)
            np.multiply(g, taken, out=target)
            continue
        if index == len(slices) - 1:
            # the max is one of the values: the last position wins where none before did
            # (and takes the slope of a window whose max is NaN, which no position equals)
            np.logical_not(taken, out=taken)
            np.multiply(g, taken, out=target)
            return
        hit = np.equal(part, out, out=hit)
        np.greater(hit, taken, out=hit)  # a hit not taken by an earlier position
        np.logical_or(taken, hit, out=taken)
        np.multiply(g, hit, out=target)


def _pad_with(x, pads, value):
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    out = np.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    out[:, top : top + h, left : left + w] = x
    return out


def _one_d_keys(keys):
    return tuple(key(k.name, k.kind, k.default, length=1) if k.kind == "ints" else k for k in keys)


class MaxPooling2D(_Pooling):
    """The largest value of each ``pool_size`` window, channel by channel.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import MaxPooling2D
        >>> MaxPooling2D(2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]], dtype=float32)
    """

    rank, mode = 2, "max"


class AveragePooling2D(_Pooling):
    """The mean of each ``pool_size`` window, channel by channel."""

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, **kwargs
    ) -> None:  # Keras requires pool_size here
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

    rank, mode = 2, "average"


class MaxPooling1D(_Pooling):
    """The largest value of each window of ``pool_size`` steps."""

    rank, mode = 1, "max"
    config_keys = _one_d_keys(_Pooling.config_keys)


class AveragePooling1D(_Pooling):
    """The mean of each window of ``pool_size`` steps."""

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, **kwargs
    ) -> None:  # Keras requires pool_size here
        super().__init__(pool_size, strides, padding, data_format, **kwargs)

    rank, mode = 1, "average"
    config_keys = _one_d_keys(_Pooling.config_keys)


class _GlobalPooling(Layer):
    """One value per channel over every position (``base_global_pooling.py``)."""

    rows_independent = True  # see _ImageLayer.rows_independent

    rank = 2
    mode = "max"
    config_keys = (
        key(
            "data_format",
            "choice",
            "channels_last",
            allowed=(None, "channels_last", "channels_first"),
        ),
        key("keepdims", "bool", False),
    )

    def __init__(self, data_format=None, keepdims=False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data_format = P.standardize_data_format(
            data_format, f"{type(self).__name__} {self.name!r}"
        )
        if not isinstance(keepdims, (bool, np.bool_)):
            raise ValueError(f"`keepdims` must be True or False. Received: keepdims={keepdims!r}")
        self.keepdims = bool(keepdims)

    def _axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 1:
            raise P.image_rows_error(self, input_shape, self.rank, self.data_format)
        axes = [a - 1 for a in self._axes()]
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def _flat(self, x):
        """``x`` as (rows, positions, channels)."""
        if self.data_format == "channels_first":
            x = np.moveaxis(x, 1, -1)
        return x.reshape(len(x), -1, x.shape[-1])

    def forward(self, x, training=False):
        flat = self._flat(x)
        if self.mode == "max":
            winner = flat.argmax(axis=1)  # the first largest, as TensorFlow's
            out = np.take_along_axis(flat, winner[:, None], axis=1)[:, 0]
        else:
            winner = None
            out = flat.mean(axis=1, dtype=x.dtype)
        return out.reshape(len(x), *self.output_shape), winner

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        n = len(grad_out)
        g = grad_out.reshape(n, -1)
        shape = P.channels_last_shape(self.input_shape, self.data_format)
        positions = int(np.prod(shape[:-1]))
        if self.mode == "max":
            flat = np.zeros((n, positions, shape[-1]), dtype=g.dtype)
            np.put_along_axis(flat, records[:, None], g[:, None], axis=1)
        else:
            flat = np.broadcast_to(
                (g / g.dtype.type(positions))[:, None], (n, positions, shape[-1])
            )
        grad = flat.reshape(n, *shape)
        return (
            P.from_channels_last(grad, self.data_format)
            if (self.data_format == "channels_first")
            else np.ascontiguousarray(grad)
        )

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean of each channel over the whole image: ``(h, w, c)`` becomes ``(c,)``."""

    rank, mode = 2, "average"


class GlobalMaxPooling2D(_GlobalPooling):
    """The largest value of each channel over the whole image."""

    rank, mode = 2, "max"


@dataclass
class MaskedMeanRecords:
    """What ``GlobalAveragePooling1D`` keeps when a mask came in: for its backward and for
    the glass box.

    Attributes:
        mask: the steps that counted, ``(batch, steps)`` of booleans.
        weights: each step's share of the mean, ``(batch, steps, 1)`` (channels last): one
            over the row's count of steps that count, 0 for a masked step (and for every
            step of a row with none).
    """

    mask: np.ndarray
    weights: np.ndarray


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean of each channel over every step: ``(steps, c)`` becomes ``(c,)``.

    With a mask (``(batch, steps)``, from ``Embedding(mask_zero=True)`` or ``Masking``
    before it, or ``mask=`` on arrays), the mean is over the steps that count only, as
    Keras's ``call`` computes it (``keras/src/layers/pooling/global_average_pooling1d.py``):
    the sum of the unmasked steps over their count. A row with no step that counts divides 0
    by 0 and gives NaN, as in Keras; its slope to the input is 0 (Keras's ``where`` lets no
    slope through to a masked step). The mask ends here (Keras's ``compute_mask`` returns
    ``None``).
    """

    rank, mode = 1, "average"
    #: Read by ``glassnet.layers.masks``: the layer uses a mask coming in (models hand it to
    #: ``forward``) and ends it.
    reads_mask = True

    def __call__(self, inputs, training: bool = False, **kwargs):
        from glassnet.layers.recurrent import call_with_mask

        return call_with_mask(self, inputs, training, kwargs)

    def forward(self, x, training=False, mask=None):
        if mask is None:
            return super().forward(x, training)
        mask = np.asarray(mask)
        steps = x.shape[1 if self.data_format == "channels_last" else 2]
        if mask.shape != (len(x), steps):
            raise ValueError(
                f"GlobalAveragePooling1D {self.name!r}: the mask must have shape (batch, steps) "
                f"= {(len(x), steps)}; received {mask.shape}"
            )
        mask = mask.astype(bool)
        flat = self._flat(x)  # (rows, steps, channels)
        kept = mask[:, :, None]
        count = kept.sum(axis=1, dtype=x.dtype)  # (rows, 1)
        total = np.where(kept, flat, x.dtype.type(0)).sum(axis=1, dtype=x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total / count  # 0 / 0 is NaN, as in Keras
            weights = np.where(kept, x.dtype.type(1) / count[:, None], x.dtype.type(0))
        records = MaskedMeanRecords(mask, weights.astype(x.dtype, copy=False))
        return out.reshape(len(x), *self.output_shape), records

    def backward(self, records, grad_out, need_grad_input=True):
        if not isinstance(records, MaskedMeanRecords):
            return super().backward(records, grad_out, need_grad_input)
        if not need_grad_input:
            return None
        g = grad_out.reshape(len(grad_out), 1, -1)
        grad = g * records.weights.astype(g.dtype, copy=False)  # (rows, steps, channels)
        return (
            np.ascontiguousarray(np.moveaxis(grad, -1, 1))
            if self.data_format == "channels_first"
            else grad
        )


class GlobalMaxPooling1D(_GlobalPooling):
    """The largest value of each channel over every step."""

    rank, mode = 1, "max"
