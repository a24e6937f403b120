"""Data augmentation: ``RandomFlip``, ``RandomRotation``, ``RandomZoom``,
``RandomTranslation``, ``RandomContrast``, ``RandomBrightness`` and ``RandomCrop``, with
Keras 3's arguments and configs (``keras/src/layers/preprocessing/image_preprocessing/``).

Each layer changes the images only while training (``fit``), with a fresh random draw per
image and per batch from its own generator (``seed`` fixes it); at inference (``predict``,
``evaluate``) it passes the images through unchanged, as in Keras. ``RandomCrop`` alone
changes the size: at inference it resizes to its target size (see its docstring).

The geometric layers share one sampler, which reads each output pixel from the input at
the point an affine map sends it to, as TensorFlow's ``ImageProjectiveTransformV3`` does
(the map Keras builds in ``base_image_preprocessing_layer._compute_affine_matrix``): the
point is folded back into the image by ``fill_mode`` (``reflect``: ``d c b a | a b c d |
d c b a``, ``wrap``, ``nearest``, or ``constant`` with ``fill_value``), then read by
``bilinear`` interpolation between its four neighbours or from the ``nearest`` one. An
output pixel is so a weighted sum of at most four input pixels; backward sends the slope
back along the same weights.
"""

from __future__ import annotations

import numpy as np

from glassnet.layers import _patches as P
from glassnet.layers.config_keys import key
from glassnet.layers.convolution import _ImageLayer
from glassnet.layers.resizing import (
    ResizePlan,
    aspect_window,
    crop_pairs,
    resize_plan,
    smart_resize_plan,
    target_shape,
    target_size,
)
from glassnet.utils.seeding import new_generator

_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")
_DATA_FORMAT = key(
    "data_format", "choice", "channels_last", allowed=(None, "channels_last", "channels_first")
)


def _factor_pair(value, what: str, low: float, high: float, layer: str, symmetric=True):
    """Keras's ``_set_factor``: a number ``f`` gives ``(-f, f)`` (clipped to the bounds),
    two numbers give themselves, sorted."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    message = (
        f"{layer}: `{what}` must be a number or a list of two numbers in [{low:g}, {high:g}]. "
        f"Received: {what}={value!r}"
    )
    if isinstance(value, (list, tuple)):
        if len(value) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):
            raise ValueError(message)
        if value[0] > high or value[1] < low:  # Keras checks these two ends only
            raise ValueError(message)
        return tuple(sorted(float(v) for v in value))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(message)
    value = abs(float(value))
    return (max(-value, low), value) if symmetric else (-value, value)


def _as_given(value):
    """A factor as Keras writes it back: a number, or a list of two."""
    if isinstance(value, (list, tuple)):
        return float(value[0]) if len(value) == 1 else [float(v) for v in value]
    return value if value is None else float(value)


def _fold(coord: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Folds sampling coordinates into ``[0, size - 1]`` by ``mode`` (TensorFlow's
    ``map_coordinate``); ``constant`` leaves them, to be read as ``fill_value``."""
    if mode == "constant":
        return coord
    if mode == "nearest" or size <= 1:
        return np.clip(coord, 0, size - 1)
    if mode == "wrap":  # TensorFlow's rule, whose period test divides by size - 1
        span = size - 1
        low = coord + size * (np.trunc(-coord / span) + 1)
        high = coord - size * np.trunc(coord / span)
        return np.clip(np.where(coord < 0, low, np.where(coord > span, high, coord)), 0, span)
    period = 2.0 * size  # reflect: d c b a | a b c d | d c b a
    folded = np.mod(coord + 0.5, period) - 0.5
    folded = np.where(folded > size - 0.5, period - 1 - folded, folded)
    return np.clip(folded, 0, size - 1)


def _round(coord: np.ndarray) -> np.ndarray:
    """Rounds halves away from zero (C's ``round``, as TensorFlow's nearest reading)."""
    return np.where(coord >= 0, np.floor(coord + 0.5), np.ceil(coord - 0.5))


def sample_weights(transforms, height, width, fill_mode, interpolation):
    """Per image, the input pixels each output pixel reads and their weights.

    Args:
        transforms: ``(rows, 6)`` affine maps ``[a0, a1, a2, b0, b1, b2]`` from an output
            pixel ``(x, y)`` to the input point ``(a0 x + a1 y + a2, b0 x + b1 y + b2)``.

    Returns:
        ``index`` and ``weight`` of shape ``(rows, height·width, k)`` (``k`` = 4 for
        bilinear, 1 for nearest): flat input indices (``-1``: outside, reads
        ``fill_value``) and their weights.
    """
    ys, xs = np.meshgrid(
        np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij"
    )
    xs, ys = xs.reshape(1, -1), ys.reshape(1, -1)
    t = np.asarray(transforms, dtype=np.float64)
    in_x = t[:, 0:1] * xs + t[:, 1:2] * ys + t[:, 2:3]
    in_y = t[:, 3:4] * xs + t[:, 4:5] * ys + t[:, 5:6]
    in_x, in_y = _fold(in_x, width, fill_mode), _fold(in_y, height, fill_mode)
    if interpolation == "nearest":
        corners = [(_round(in_y), _round(in_x), np.ones_like(in_x))]
    else:
        y0, x0 = np.floor(in_y), np.floor(in_x)
        y1, x1 = y0 + 1, x0 + 1
        corners = [
            (y0, x0, (y1 - in_y) * (x1 - in_x)),
            (y0, x1, (y1 - in_y) * (in_x - x0)),
            (y1, x0, (in_y - y0) * (x1 - in_x)),
            (y1, x1, (in_y - y0) * (in_x - x0)),
        ]
    index = np.empty((*in_x.shape, len(corners)), dtype=np.int64)
    weight = np.empty((*in_x.shape, len(corners)), dtype=np.float64)
    for k, (cy, cx, w) in enumerate(corners):
        inside = (cy >= 0) & (cy <= height - 1) & (cx >= 0) & (cx <= width - 1)
        index[..., k] = np.where(inside, cy * width + cx, -1).astype(np.int64)
        weight[..., k] = w
    return index, weight


def apply_samples(images, index, weight, fill_value):
    """``images`` (rows, h, w, c) read at ``index`` with ``weight`` (see
    ``sample_weights``)."""
    n, h, w, c = images.shape
    flat = images.reshape(n, h * w, c)
    safe = np.maximum(index, 0)
    picked = flat[np.arange(n)[:, None, None], safe]  # (n, h·w, k, c)
    values = np.where((index >= 0)[..., None], picked, images.dtype.type(fill_value))
    out = np.einsum("npk,npkc->npc", weight.astype(images.dtype), values)
    return out.reshape(n, h, w, c)


def spread_samples(grad, index, weight):
    """The slope at the input of ``apply_samples`` from the slope at its output."""
    n, h, w, c = grad.shape
    g = grad.reshape(n, h * w, 1, c) * weight[..., None].astype(grad.dtype)
    out = np.zeros((n * h * w, c), dtype=grad.dtype)
    inside = index >= 0
    rows = (index + (np.arange(n) * h * w)[:, None, None])[inside]
    np.add.at(out, rows, g[inside])
    return out.reshape(n, h, w, c)


class _RandomImageLayer(_ImageLayer):
    """Shared parts: the generator, the channel axis, identity at inference."""

    rows_independent = False  # random: its draws must not depend on chunking

    def __init__(self, seed=None, data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
        ):
            raise ValueError(f"`seed` must be None or a non-negative integer. Received: {seed!r}")
        self.seed = seed
        self.rng = new_generator(seed)
        self.data_format = P.standardize_data_format(
            data_format, f"{type(self).__name__} {self.name!r}"
        )

    def compute_output_shape(self, input_shape):
        self._check_rows(input_shape)
        return tuple(input_shape)

    def forward(self, x, training=False):
        if not training:
            return x, None
        out, records = self._augment(self._as_images(x))
        return self._from_images(out), records

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        if records is None:
            return grad_out
        return self._from_images(self._spread(records, self._as_images(grad_out)))


class RandomFlip(_RandomImageLayer):
    """Flips each training image left-right and/or upside down, each with probability 1/2.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: fixes the draws.
    """

    config_keys = (
        key(
            "mode",
            "choice",
            "horizontal_and_vertical",
            allowed=("horizontal", "vertical", "horizontal_and_vertical"),
        ),
        key("seed", "seed"),
        _DATA_FORMAT,
    )

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        allowed = ("horizontal", "vertical", "horizontal_and_vertical")
        self.mode = P._one_of(mode, allowed, "mode", f"RandomFlip {self.name!r}")

    def _augment(self, images):
        n = len(images)
        flips = []
        out = images
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flips.append((2, self.rng.random(n) < 0.5))
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flips.append((1, self.rng.random(n) < 0.5))
        out = self._flip(images, flips)
        return out, flips

    @staticmethod
    def _flip(images, flips):
        out = images.copy()
        for axis, chosen in flips:
            out[chosen] = np.flip(out[chosen], axis=axis)
        return out

    def _spread(self, records, grad):
        return self._flip(grad, records)  # a flip is its own inverse

    def get_config(self):
        return {
            **super().get_config(),
            "seed": self.seed,
            "mode": self.mode,
            "data_format": self.data_format,
        }


class _AffineLayer(_RandomImageLayer):
    """A random affine map per image, read through ``sample_weights``."""

    def _init_sampling(self, fill_mode, interpolation, fill_value):
        label = f"{type(self).__name__} {self.name!r}"
        self.fill_mode = P._one_of(fill_mode, _FILL_MODES, "fill_mode", label)
        self.interpolation = P._one_of(interpolation, _INTERPOLATIONS, "interpolation", label)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
            raise ValueError(f"{label}: `fill_value` must be a number. Received: {fill_value!r}")
        self.fill_value = float(fill_value)

    def _augment(self, images):
        n, h, w, _ = images.shape
        transforms = self._transforms(n, h, w)
        index, weight = sample_weights(transforms, h, w, self.fill_mode, self.interpolation)
        return apply_samples(images, index, weight, self.fill_value), (index, weight)

    def _spread(self, records, grad):
        return spread_samples(np.ascontiguousarray(grad), *records)

    def _sampling_config(self):
        return {
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }


_SAMPLING_KEYS = (
    key("fill_mode", "choice", "reflect", allowed=_FILL_MODES),
    key("interpolation", "choice", "bilinear", allowed=_INTERPOLATIONS),
    key("seed", "seed"),
    key("fill_value", "number", 0.0),
    _DATA_FORMAT,
)


class RandomRotation(_AffineLayer):
    """Rotates each training image about its centre by a random share of a full turn.

    Args:
        factor: ``f`` draws angles in ``[-f, f] × 360°``; ``(lo, hi)`` in
            ``[lo, hi] × 360°``.
        fill_mode, interpolation, fill_value: how points outside the image are read.
        seed: fixes the draws.
    """

    config_keys = (key("factor", "statistic"), *_SAMPLING_KEYS)

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _factor_pair(factor, "factor", -1.0, 1.0, f"RandomRotation {self.name!r}")
        self._init_sampling(fill_mode, interpolation, fill_value)

    def _transforms(self, n, h, w):
        angle = self.rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, size=n)
        return rotation_transforms(np.deg2rad(angle), h, w)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), **self._sampling_config()}


def rotation_transforms(angle, h, w):
    """Keras's rotation about the image centre (``_compute_affine_matrix``)."""
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    cos, sin = np.cos(angle), np.sin(angle)
    a0, a1, b0, b1 = cos, -sin, sin, cos
    return np.stack([a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1], axis=1)


class RandomTranslation(_AffineLayer):
    """Shifts each training image by a random share of its height and width.

    Args:
        height_factor, width_factor: ``f`` draws shifts in ``[-f, f]`` of the size;
            ``(lo, hi)`` in ``[lo, hi]``.
    """

    config_keys = (
        key("height_factor", "statistic"),
        key("width_factor", "statistic"),
        *_SAMPLING_KEYS,
    )

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        label = f"RandomTranslation {self.name!r}"
        self.height_factor, self.width_factor = _as_given(height_factor), _as_given(width_factor)
        self.height_range = _factor_pair(height_factor, "height_factor", -1, 1, label, False)
        self.width_range = _factor_pair(width_factor, "width_factor", -1, 1, label, False)
        self._init_sampling(fill_mode, interpolation, fill_value)

    def _transforms(self, n, h, w):
        dy = self.rng.uniform(*self.height_range, size=n) * h
        dx = self.rng.uniform(*self.width_range, size=n) * w
        one, zero = np.ones(n), np.zeros(n)
        return np.stack([one, zero, -dx, zero, one, -dy], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            **self._sampling_config(),
        }


class RandomZoom(_AffineLayer):
    """Zooms each training image in or out about its centre by a random factor.

    Args:
        height_factor: ``f`` draws ``1 + [-f, f]`` (positive: zoom out, as in Keras);
            ``(lo, hi)`` draws ``1 + [lo, hi]``.
        width_factor: the same for the width; ``None`` keeps the aspect ratio.
    """

    config_keys = (
        key("height_factor", "statistic"),
        key("width_factor", "statistic"),
        *_SAMPLING_KEYS,
    )

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        label = f"RandomZoom {self.name!r}"
        self.height_factor, self.width_factor = _as_given(height_factor), _as_given(width_factor)
        self.height_range = self._zoom_factor(height_factor, "height_factor", label)
        self.width_range = (
            None if width_factor is None else self._zoom_factor(width_factor, "width_factor", label)
        )
        self._init_sampling(fill_mode, interpolation, fill_value)

    @staticmethod
    def _zoom_factor(value, what, label):
        pair = _factor_pair(value, what, -1.0, 1.0, label, False)
        if pair[0] <= -1.0:
            raise ValueError(f"{label}: `{what}` must be in (-1, 1]. Received: {what}={value!r}")
        return pair

    def _transforms(self, n, h, w):
        zy = 1.0 + self.rng.uniform(*self.height_range, size=n)
        zx = zy if self.width_range is None else 1.0 + self.rng.uniform(*self.width_range, size=n)
        zero = np.zeros(n)
        return np.stack(
            [zx, zero, (w - 1) / 2.0 * (1 - zx), zero, zy, (h - 1) / 2.0 * (1 - zy)], axis=1
        )

    def get_config(self):
        return {
            **super().get_config(),
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            **self._sampling_config(),
        }


class RandomContrast(_RandomImageLayer):
    """Scales each training image's deviation from its mean (per channel) by a random
    factor, then clips to ``value_range``.

    Args:
        factor: Keras's rule (``_set_factor`` with bounds [0, 1]): a number ``f`` draws
            contrast factors in ``[1, 1 + f]``; ``(lo, hi)`` draws in ``[1 - lo, 1 + hi]``.
        value_range: the range of the pixel values, ``(0, 255)`` by default.
    """

    config_keys = (
        key("factor", "statistic"),
        key("value_range", "statistic", [0, 255]),
        key("seed", "seed"),
        _DATA_FORMAT,
    )

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        label = f"RandomContrast {self.name!r}"
        self.factor = _factor_pair(factor, "factor", 0.0, 1.0, label)
        if (
            not isinstance(value_range, (list, tuple))
            or len(value_range) != 2
            or not (value_range[0] < value_range[1])
        ):
            raise ValueError(
                f"{label}: `value_range` must be (low, high) with low < high. "
                f"Received: value_range={value_range!r}"
            )
        self.value_range = tuple(float(v) for v in value_range)

    def _augment(self, images):
        n = len(images)
        factor = self.rng.uniform(1.0 - self.factor[0], 1.0 + self.factor[1], size=(n, 1, 1, 1))
        factor = factor.astype(images.dtype)
        mean = images.mean(axis=(1, 2), keepdims=True, dtype=images.dtype)
        raw = (images - mean) * factor + mean
        low, high = self.value_range
        out = np.clip(raw, low, high)
        kept = (raw >= low) & (raw <= high)
        return out, (factor, kept)

    def _spread(self, records, grad):
        factor, kept = records
        g = grad * kept
        return g * factor + g.mean(axis=(1, 2), keepdims=True) * (1 - factor)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "value_range": list(self.value_range),
            "seed": self.seed,
            "data_format": self.data_format,
        }


def _value_range(value, label: str) -> list:
    """Keras's ``RandomBrightness._set_value_range``: two numbers, sorted (Keras accepts
    ``(5, 5)``, a range of one value, and so does glassnet)."""
    numbers = isinstance(value, (list, tuple)) and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in value
    )
    if not numbers or len(value) != 2:
        raise ValueError(
            f"{label}: The `value_range` argument should be a list of two numbers. "
            f"Received: value_range={value!r}"
        )
    return sorted(v.item() if isinstance(v, np.generic) else v for v in value)


class RandomBrightness(_RandomImageLayer):
    """Adds a random brightness to each training image, then clips to ``value_range``.

    Keras's rule (``random_brightness.py``): each image draws ``delta`` uniformly in
    ``factor``, scaled by the width of the range, ``delta * (high - low)``, and adds it to
    every pixel and channel: ``out = clip(x + delta * (high - low), low, high)``. A delta
    of -1 makes the image black, 1 white. Backward lets the slope through where the sum
    stayed in the range and stops it where clipping cut the value.

    Args:
        factor: a number ``f`` in [-1, 1] draws deltas in ``[-|f|, |f|]``; ``(lo, hi)``
            in ``[lo, hi]`` (Keras's ``_set_factor``).
        value_range: ``(low, high)``, the range of the pixel values, ``(0, 255)`` by
            default; ``(0, 1)`` for images already scaled.
        seed: fixes the draws.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import RandomBrightness
        >>> layer = RandomBrightness((0.5, 0.5), value_range=(0, 1))  # always +0.5
        >>> layer(np.array([[[[0.2], [0.7]]]]), training=True)[0, 0, :, 0]
        Tensor([0.7, 1. ], dtype=float32)
    """

    config_keys = (
        key("factor", "statistic"),
        key("value_range", "statistic", [0, 255]),
        key("seed", "seed"),
        _DATA_FORMAT,
    )

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs) -> None:
        super().__init__(seed=seed, **kwargs)
        label = f"RandomBrightness {self.name!r}"
        factor = 0.0 if factor is None else factor  # Keras's base layer: `factor or 0.0`
        self.factor = _factor_pair(factor, "factor", -1.0, 1.0, label)
        self.value_range = _value_range(value_range, label)

    def _augment(self, images):
        low, high = self.value_range
        delta = self.rng.uniform(*self.factor, size=(len(images), 1, 1, 1)) * (high - low)
        raw = images + delta.astype(images.dtype)
        return np.clip(raw, low, high), (raw >= low) & (raw <= high)

    def _spread(self, kept, grad):
        return grad * kept

    def get_config(self):
        return {
            **super().get_config(),
            "factor": list(self.factor),
            "value_range": list(self.value_range),
            "seed": self.seed,
            "data_format": self.data_format,
        }


class RandomCrop(_RandomImageLayer):
    """Cuts a random ``height × width`` window out of the training images.

    Keras 3's rules (``random_crop.py``):

    * training, image taller and wider than the window: one random offset per batch
      (every image of a batch is cut at the same place), drawn uniformly among all
      offsets that keep the window inside the image;
    * training, image not larger along both axes: Keras takes the offset of the largest
      centred window of the target's aspect ratio, cuts ``height × width`` from there
      (less where the image ends) and resizes the cut bilinearly to ``height × width``;
    * inference: the largest centred window of the target's aspect ratio, resized
      bilinearly to ``height × width`` (``smart_resize``), as Keras's docstring says.
      Keras 3.15's code returns the image uncut there, which contradicts the output shape
      it declares; glassnet keeps the declared shape.

    Backward puts each slope back where its pixel was cut from (zeros elsewhere), or
    undoes the resize (the resize's adjoint, as ``Resizing``'s backward).

    Args:
        height, width: the size of the output images.
        seed: fixes the draws. Without one, the layer draws one from the global seed and
            writes it in its config, as Keras does (``make_default_seed``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import RandomCrop
        >>> layer = RandomCrop(2, 2, seed=0)
        >>> layer(np.arange(16.0).reshape(1, 4, 4, 1), training=True).shape
        (1, 2, 2, 1)
        >>> layer(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]  # inference: resized
        Tensor([[ 2.5,  4.5],
                [10.5, 12.5]], dtype=float32)
    """

    config_keys = (key("height", "int"), key("width", "int"), key("seed", "seed"), _DATA_FORMAT)

    def __init__(
        self, height: int, width: int, seed=None, data_format=None, name=None, **kwargs
    ) -> None:
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        label = f"RandomCrop {self.name!r}"
        self.height = target_size(height, "height", label)
        self.width = target_size(width, "width", label)
        if seed is None:
            self.seed = int(self.rng.integers(1, 10**9, endpoint=True))
            self.rng = new_generator(self.seed)

    def compute_output_shape(self, input_shape):
        return target_shape(self, input_shape)

    def forward(self, x, training=False):
        images = self._as_images(x)
        plan = self._crop_plan(images.shape[1:3], training)
        return self._from_images(plan.apply(images)), plan

    def _crop_plan(self, size, training) -> ResizePlan:
        """How this call cuts (and perhaps resizes) images of ``size``."""
        h, w = size
        target = (self.height, self.width)
        if not training:
            return smart_resize_plan(size, target)
        if h > self.height and w > self.width:
            top = int(self.rng.integers(0, h - self.height + 1))
            left = int(self.rng.integers(0, w - self.width + 1))
            return ResizePlan(crop=crop_pairs(h, w, (top, left, *target)))
        top, left, _, _ = aspect_window(h, w, *target)
        window = (top, left, min(self.height, h - top), min(self.width, w - left))
        return resize_plan(size, target, "bilinear", crop_pairs(h, w, window))

    def _spread(self, plan, grad):
        return plan.adjoint(grad)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "seed": self.seed,
            "data_format": self.data_format,
        }
