"""``Resizing`` and ``CenterCrop``: images brought to a fixed size, as Keras 3's
preprocessing layers (``keras/src/layers/preprocessing/image_preprocessing/resizing.py``,
``center_crop.py``) compute it on TensorFlow (``keras/src/backend/tensorflow/image.py``,
``resize``; ``keras/src/utils/image_utils.py``, ``smart_resize``).

Every output pixel reads the input on a grid with TensorFlow's half-pixel centres
(``tf.image.resize`` with ``antialias=False``: the ``ResizeBilinear`` and
``ResizeNearestNeighbor`` kernels with ``half_pixel_centers=True``). Output row ``i`` of
``out`` rows from ``in`` rows, with ``scale = in / out`` in float32:

* ``bilinear`` reads the point ``(i + 0.5) * scale - 0.5`` between its two neighbours
  ``floor`` and ``ceil`` (clipped into the image), weighted by the fraction ``lerp``:
  ``low + (high - low) * lerp``, first along the width and then along the height, the
  order TensorFlow adds them in;
* ``nearest`` reads row ``min(floor((i + 0.5) * scale), in - 1)``.

Resizing is separable: one axis at a time, each output value a weighted sum of at most two
inputs along that axis. Backward is the adjoint of those sums: each output slope goes back
to the (at most four) input pixels it was read from, with the same weights; cropping and
padding before the resize cut or pad the slope. The layers have no weights.

Before resizing, ``crop_to_aspect_ratio`` cuts the largest centred window of the target's
aspect ratio out of the image, and ``pad_to_aspect_ratio`` adds ``fill_value`` evenly on the
short side instead. ``CenterCrop`` cuts the centred ``height × width`` window, and where
the image is smaller than that along either axis, crops to the aspect ratio and resizes
bilinearly (``smart_resize``), as Keras does.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from glassnet.layers import _patches as P
from glassnet.layers.config_keys import key
from glassnet.layers.convolution import _ImageLayer

#: The interpolations glassnet computes.
INTERPOLATIONS = ("bilinear", "nearest")
#: Interpolations Keras's ``Resizing`` also offers on TensorFlow, which glassnet does not.
KERAS_ONLY_INTERPOLATIONS = ("bicubic", "lanczos3", "lanczos5", "area")

_DATA_FORMAT = key(
    "data_format", "choice", "channels_last", allowed=(None, "channels_last", "channels_first")
)

Pairs = tuple[tuple[int, int], tuple[int, int]]
_NONE: Pairs = ((0, 0), (0, 0))


# --- one axis ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AxisSampler:
    """Where each of ``len(low)`` outputs along one axis reads the input: ``low + (high -
    low) * lerp`` (bilinear) or ``low`` alone (``lerp is None``: nearest)."""

    size_in: int
    low: np.ndarray
    high: np.ndarray | None = None
    lerp: np.ndarray | None = None

    def apply(self, x: np.ndarray, axis: int) -> np.ndarray:
        """``x`` resized along ``axis``, in ``x``'s dtype."""
        low = np.take(x, self.low, axis=axis)
        if self.lerp is None:
            return low
        high = np.take(x, self.high, axis=axis)
        return low + (high - low) * self._along(self.lerp.astype(x.dtype), x.ndim, axis)

    def adjoint(self, grad: np.ndarray, axis: int) -> np.ndarray:
        """The slope at the input of ``apply`` from the slope at its output."""
        return np.moveaxis(np.tensordot(self.matrix(grad.dtype), grad, axes=(0, axis)), 0, axis)

    def matrix(self, dtype=np.float64) -> np.ndarray:
        """The resize along this axis as an ``(out, in)`` matrix of weights."""
        out = np.zeros((len(self.low), self.size_in), dtype=dtype)
        rows = np.arange(len(self.low))
        if self.lerp is None:
            out[rows, self.low] = 1
            return out
        np.add.at(out, (rows, self.low), 1 - self.lerp.astype(dtype))
        np.add.at(out, (rows, self.high), self.lerp.astype(dtype))
        return out

    @staticmethod
    def _along(values: np.ndarray, ndim: int, axis: int) -> np.ndarray:
        shape = [1] * ndim
        shape[axis] = len(values)
        return values.reshape(shape)


def axis_sampler(size_in: int, size_out: int, interpolation: str) -> AxisSampler:
    """TensorFlow's sampling grid along one axis (``resize_bilinear_op.cc``,
    ``compute_interpolation_weights`` with ``HalfPixelScaler``; ``resize_nearest_neighbor_op.cc``
    with ``HalfPixelScalerForNN``), in float32 as TensorFlow computes it."""
    scale = np.float32(size_in) / np.float32(size_out)
    centres = (np.arange(size_out, dtype=np.float32) + np.float32(0.5)) * scale
    if interpolation == "nearest":
        low = np.clip(np.floor(centres).astype(np.int64), 0, size_in - 1)
        return AxisSampler(size_in, low)
    point = centres - np.float32(0.5)
    floor = np.floor(point)
    low = np.maximum(floor.astype(np.int64), 0)
    high = np.minimum(np.ceil(point).astype(np.int64), size_in - 1)
    return AxisSampler(size_in, low, high, (point - floor).astype(np.float64))


# --- the whole image ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResizePlan:
    """What a layer does to images of one size: cut ``crop`` off the edges, add ``pad``
    rows and columns of ``fill_value``, then resample the rows and the columns (``None``:
    that axis keeps its size and is left alone).

    ``crop`` and ``pad`` are ``((top, bottom), (left, right))``.
    """

    crop: Pairs = _NONE
    pad: Pairs = _NONE
    rows: AxisSampler | None = None
    cols: AxisSampler | None = None
    fill_value: float = 0.0

    def apply(self, images: np.ndarray) -> np.ndarray:
        """Channels-last images ``(n, h, w, c)`` brought to the plan's size."""
        (top, bottom), (left, right) = self.crop
        h, w = images.shape[1:3]
        x = images[:, top : h - bottom, left : w - right]
        if self.pad != _NONE:
            x = np.pad(x, ((0, 0), *self.pad, (0, 0)), constant_values=self.fill_value)
        if self.cols is not None:  # TensorFlow interpolates along the width first
            x = self.cols.apply(x, axis=2)
        if self.rows is not None:
            x = self.rows.apply(x, axis=1)
        return np.ascontiguousarray(x)

    def adjoint(self, grad: np.ndarray) -> np.ndarray:
        """The slope at the input images of ``apply`` from the slope at its output."""
        g = grad
        if self.rows is not None:
            g = self.rows.adjoint(g, axis=1)
        if self.cols is not None:
            g = self.cols.adjoint(g, axis=2)
        (top, bottom), (left, right) = self.pad
        g = g[:, top : g.shape[1] - bottom, left : g.shape[2] - right]
        return P.pad_images(np.ascontiguousarray(g), self.crop)


def aspect_window(height: int, width: int, target_h: int, target_w: int, float_type=float):
    """The largest centred window of the target's aspect ratio: ``(top, left, h, w)``.

    Keras's arithmetic: ``int(float(width * target_h) / target_w)`` clipped to
    ``[1, height]``, and ``int(float(height - crop_h) / 2)`` before it; TensorFlow's
    ``resize`` computes it in float32 (``float_type=np.float32``), ``smart_resize`` on
    static sizes in Python floats.
    """
    crop_h = max(min(height, int(float_type(width * target_h) / float_type(target_w))), 1)
    crop_w = max(min(width, int(float_type(height * target_w) / float_type(target_h))), 1)
    top = int(float_type(height - crop_h) / float_type(2))
    left = int(float_type(width - crop_w) / float_type(2))
    return top, left, crop_h, crop_w


def crop_pairs(height: int, width: int, window) -> Pairs:
    """A window ``(top, left, h, w)`` as the rows and columns cut off each edge."""
    top, left, h, w = window
    return ((top, height - top - h), (left, width - left - w))


def aspect_pads(height: int, width: int, target_h: int, target_w: int) -> Pairs:
    """``pad_to_aspect_ratio``'s padding, as TensorFlow's ``resize`` computes it (float32):
    the same number of rows (or columns) on both sides, half the missing ones rounded down."""
    f32 = np.float32
    padded_h = max(height, int(f32(width * target_h) / f32(target_w)))
    padded_w = max(width, int(f32(height * target_w) / f32(target_h)))
    top = int(f32(padded_h - height) / f32(2))
    left = int(f32(padded_w - width) / f32(2))
    return ((top, top), (left, left))


def resize_plan(
    size, target, interpolation: str, crop: Pairs = _NONE, pad: Pairs = _NONE, fill_value=0.0
) -> ResizePlan:
    """The plan that crops, pads, then resamples images of ``size`` to ``target``."""
    (ct, cb), (cl, cr) = crop
    (pt, pb), (pl, pr) = pad
    h = size[0] - ct - cb + pt + pb
    w = size[1] - cl - cr + pl + pr
    rows = None if h == target[0] else axis_sampler(h, target[0], interpolation)
    cols = None if w == target[1] else axis_sampler(w, target[1], interpolation)
    return ResizePlan(crop, pad, rows, cols, float(fill_value))


def smart_resize_plan(size, target) -> ResizePlan:
    """Keras's ``smart_resize``: the largest centred window of the target's aspect ratio,
    resized bilinearly to ``target`` (``keras/src/utils/image_utils.py``)."""
    return resize_plan(size, target, "bilinear", crop_pairs(*size, aspect_window(*size, *target)))


def target_shape(layer, input_shape) -> tuple:
    """The output row shape of ``layer``, which brings images to ``layer.height ×
    layer.width`` and keeps their channels (in the layer's ``data_format``)."""
    layer._check_rows(input_shape)
    _, channels = layer._spatial(input_shape)
    return P.from_channels_last_shape((layer.height, layer.width, channels), layer.data_format)


# --- argument rules ------------------------------------------------------------------------------


def target_size(value, what: str, label: str) -> int:
    """A target height or width: a positive integer, or a ValueError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"{label}: `{what}` must be a positive integer. Received: {what}={value!r}"
        )
    return int(value)


def _interpolation(value, label: str) -> str:
    """``bilinear`` or ``nearest``; the interpolations only Keras has are refused by name."""
    name = value.lower() if isinstance(value, str) else value
    if name in INTERPOLATIONS:
        return name
    supported = ", ".join(repr(v) for v in INTERPOLATIONS)
    if name in KERAS_ONLY_INTERPOLATIONS:
        raise ValueError(
            f"{label}: interpolation={value!r} is not supported by glassnet; supported: "
            f"{supported} (Keras also offers {', '.join(map(repr, KERAS_ONLY_INTERPOLATIONS))}, "
            "which glassnet does not compute)"
        )
    close = difflib.get_close_matches(str(value).lower(), INTERPOLATIONS, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"{label}: `interpolation` must be one of {supported}. Received: "
        f"interpolation={value!r}.{hint}"
    )


def _flag(value, what: str, label: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{label}: `{what}` must be True or False. Received: {what}={value!r}")
    return bool(value)


# --- the layers -------------------------------------------------------------------------------


class _ResizingLayer(_ImageLayer):
    """Shared parts: the target size, the plan for the built input size, forward and
    backward through it."""

    def _label(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def _set_target(self, height, width) -> None:
        self.height = target_size(height, "height", self._label())
        self.width = target_size(width, "width", self._label())

    def _plan(self, hw) -> ResizePlan:
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return target_shape(self, input_shape)

    def _plan_for(self, hw) -> ResizePlan:
        """The plan for images of size ``hw``, made once per size."""
        hw = tuple(int(v) for v in hw)
        cached = getattr(self, "_cached_plan", None)
        if cached is None or cached[0] != hw:
            cached = (hw, self._plan(hw))
            self._cached_plan = cached
        return cached[1]

    def forward(self, x, training=False):
        images = self._as_images(x)
        return self._from_images(self._plan_for(images.shape[1:3]).apply(images)), None

    def backward(self, records, grad_out, need_grad_input=True):
        if not need_grad_input:
            return None
        plan = self._plan_for(self._spatial(self.input_shape)[0])
        return self._from_images(plan.adjoint(self._as_images(grad_out)))


class Resizing(_ResizingLayer):
    """Resizes each image to ``height × width`` (Keras's ``keras.layers.Resizing``).

    Args:
        height, width: the size of the output images.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``, with TensorFlow's
            half-pixel centres. Keras's ``"bicubic"``, ``"lanczos3"``, ``"lanczos5"`` and
            ``"area"`` are not supported (a ``ValueError`` names them).
        crop_to_aspect_ratio: cut the largest centred window of the target's aspect ratio
            out of each image first, so that nothing is stretched.
        pad_to_aspect_ratio: pad the short side evenly with ``fill_value`` first instead.
        fill_mode: ``"constant"``, the only mode Keras has.
        fill_value: the value of the padding.
        antialias: only ``False`` (Keras's default); an antialiasing filter when shrinking
            is not supported.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Unlike Keras, the layer takes batches only (rows ``(height, width, channels)``), not a
    single image. It has no weights; its backward sends each slope back to the pixels each
    output was read from, so models may train through it.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Resizing
        >>> Resizing(1, 4)(np.array([[[[0.0], [8.0]]]]))[0, 0, :, 0]
        Tensor([0., 2., 6., 8.], dtype=float32)
    """

    config_keys = (
        key("height", "int"),
        key("width", "int"),
        key("interpolation", "choice", "bilinear", allowed=INTERPOLATIONS),
        key("crop_to_aspect_ratio", "bool", False),
        key("pad_to_aspect_ratio", "bool", False),
        key("fill_mode", "choice", "constant", allowed=("constant",)),
        key("fill_value", "number", 0.0),
        key("antialias", "fixed", allowed=(False,), why="antialiased resizing"),
        _DATA_FORMAT,
    )

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        label = self._label()
        self._set_target(height, width)
        self.interpolation = _interpolation(interpolation, label)
        self.crop_to_aspect_ratio = _flag(crop_to_aspect_ratio, "crop_to_aspect_ratio", label)
        self.pad_to_aspect_ratio = _flag(pad_to_aspect_ratio, "pad_to_aspect_ratio", label)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(
                f"{label}: only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be "
                "True."
            )
        if fill_mode != "constant":
            raise ValueError(
                f"{label}: `fill_mode` must be 'constant', the only mode Keras supports. "
                f"Received: fill_mode={fill_mode!r}"
            )
        self.fill_mode = fill_mode
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float, np.number)):
            raise ValueError(f"{label}: `fill_value` must be a number. Received: {fill_value!r}")
        self.fill_value = float(fill_value)
        if _flag(antialias, "antialias", label):
            raise ValueError(
                f"{label}: antialias=True is not supported by glassnet; only antialias=False "
                "(Keras's default)"
            )
        self.antialias = False
        self.data_format = P.standardize_data_format(data_format, label)

    def _plan(self, hw) -> ResizePlan:
        target = (self.height, self.width)
        crop = pad = _NONE
        if self.crop_to_aspect_ratio:
            crop = crop_pairs(*hw, aspect_window(*hw, *target, float_type=np.float32))
        elif self.pad_to_aspect_ratio:
            pad = aspect_pads(*hw, *target)
        return resize_plan(hw, target, self.interpolation, crop, pad, self.fill_value)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
        }


class CenterCrop(_ResizingLayer):
    """Cuts the centred ``height × width`` window out of each image (Keras's
    ``keras.layers.CenterCrop``).

    Where an image is smaller than the window along either axis, it is instead cropped to
    the window's aspect ratio and resized to ``height × width`` bilinearly, as Keras's
    layer does (``keras.utils.image_utils.smart_resize``). When the difference in size is
    odd, the extra row or column is cut at the bottom (right).

    Args:
        height, width: the size of the output images.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    No weights; backward pads the slope back to the input's size (or undoes the resize).

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import CenterCrop
        >>> CenterCrop(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
        Tensor([[ 5.,  6.],
                [ 9., 10.]], dtype=float32)
    """

    config_keys = (key("height", "int"), key("width", "int"), _DATA_FORMAT)

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._set_target(height, width)
        self.data_format = P.standardize_data_format(data_format, self._label())

    def _plan(self, hw) -> ResizePlan:
        h, w = hw
        target = (self.height, self.width)
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return ResizePlan(crop=crop_pairs(h, w, (top, left, *target)))
        return smart_resize_plan(hw, target)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "data_format": self.data_format,
        }
