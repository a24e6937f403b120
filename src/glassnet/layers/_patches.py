"""Patches of images as strided views, and the argument rules the image layers share.

A convolution multiplies every ``kh × kw × channels`` patch of its input by the same kernel.
``patch_view`` sees all patches at once without copying: a 6-D view ``(rows, out_h, out_w,
kh, kw, channels)`` whose strides step through the (padded) input, so one copy of it is the
patch matrix ("im2col") and the whole convolution is one matrix product. ``add_patches`` is
the way back ("col2im"): each patch's slope is added to the input positions it came from,
with one strided slice-add per kernel offset (``kh × kw`` of them), never a loop over
positions.

Output sizes and "same" padding follow Keras 3 on TensorFlow
(``keras/src/ops/operation_utils.py``, ``compute_conv_output_shape``): ``valid`` keeps the
positions where the whole (dilated) kernel fits, ``same`` gives ``ceil(size / stride)``
positions and pads ``total // 2`` before and the rest after.

Images are channels-last inside glassnet's layers: ``(rows, height, width, channels)``; a
layer given ``data_format="channels_first"`` moves the channel axis on the way in and out.
"""

from __future__ import annotations

import difflib

import numpy as np
from numpy.lib.stride_tricks import as_strided

from glassnet import _compiled

# --- argument rules (keras/src/utils/argument_validation.py, backend/config.py) -------------


def _one_of(value, allowed: tuple[str, ...], what: str, layer: str) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        close = difflib.get_close_matches(str(value).lower(), allowed, n=2, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"{layer}: `{what}` must be one of {', '.join(repr(a) for a in allowed)}. "
            f"Received: {what}={value!r}.{hint}"
        )
    return value.lower()


def standardize_padding(value, layer: str, allow_causal: bool = False) -> str:
    """``"valid"``, ``"same"`` (and ``"causal"`` for 1-D convolutions), case-insensitive."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    return _one_of(value, allowed, "padding", layer)


def standardize_data_format(value, layer: str) -> str:
    """``"channels_last"`` (Keras's default, also for ``None``) or ``"channels_first"``."""
    if value is None:
        return "channels_last"
    return _one_of(value, ("channels_last", "channels_first"), "data_format", layer)


def standardize_tuple(value, n: int, what: str, layer: str, allow_zero: bool = False) -> tuple:
    """An int or ``n`` ints as a tuple of ``n`` ints, each > 0 (>= 0 with ``allow_zero``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        items = (int(value),) * n
    else:
        try:
            items = tuple(value)
        except TypeError:
            items = ()
        if len(items) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
        ):
            raise ValueError(
                f"{layer}: `{what}` must be an integer or a tuple of {n} integers. "
                f"Received: {what}={value!r}"
            )
        items = tuple(int(v) for v in items)
    low = 0 if allow_zero else 1
    if any(v < low for v in items):
        sign = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{layer}: every value of `{what}` must be {sign}. Received: {what}={value!r}"
        )
    return items


def image_rows_error(layer, input_shape, rank: int, data_format: str) -> ValueError:
    """A ``ValueError`` for rows that are not images (or sequences), showing the reshape."""
    name = f"{type(layer).__name__} {layer.name!r}"
    if rank == 2:
        want = (
            "(height, width, channels)"
            if data_format == "channels_last"
            else ("(channels, height, width)")
        )
        example = ""
        size = int(np.prod(input_shape))
        side = int(round(size**0.5))
        if len(input_shape) == 1 and side * side == size:
            shape = (side, side, 1) if data_format == "channels_last" else (1, side, side)
            example = (
                f". For {size} pixels of a grey {side}x{side} image, reshape the data first: "
                f"x.reshape(-1, {', '.join(map(str, shape))}), or give the model "
                f"input_shape={shape}"
            )
        elif len(input_shape) == 2:
            shape = (*input_shape, 1) if data_format == "channels_last" else (1, *input_shape)
            example = (
                f". For grey images add a channel axis: x.reshape(-1, {', '.join(map(str, shape))})"
            )
        return ValueError(
            f"{name} expects rows that are images of shape {want}; received rows of shape "
            f"{tuple(input_shape)}{example}"
        )
    want = "(steps, channels)" if data_format == "channels_last" else "(channels, steps)"
    example = ""
    if len(input_shape) == 1:
        example = f". For one channel: x.reshape(-1, {input_shape[0]}, 1)"
    return ValueError(
        f"{name} expects rows that are sequences of shape {want}; received rows of shape "
        f"{tuple(input_shape)}{example}"
    )


# --- sizes ---------------------------------------------------------------------------------


def output_length(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """Positions along one axis (Keras's ``compute_conv_output_shape``)."""
    span = dilation * (kernel - 1) + 1
    if padding == "valid":
        return (size - span) // stride + 1 if size >= span else 0
    return (size - 1) // stride + 1  # same, causal


def pad_amounts(size: int, kernel: int, stride: int, dilation: int, padding: str):
    """``(before, after)`` padding along one axis (TensorFlow's convention for ``same``)."""
    span = dilation * (kernel - 1) + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    out = output_length(size, kernel, stride, dilation, padding)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def check_fits(layer, input_shape, spatial, kernel, strides, dilation, padding, what="kernel"):
    """Raises when a ``valid`` window is larger than the input along some axis."""
    for size, k, d in zip(spatial, kernel, dilation, strict=True):
        span = d * (k - 1) + 1
        if padding == "valid" and span > size:
            shown = (
                tuple(kernel)
                if what != "kernel" or max(dilation) == 1
                else (f"{tuple(kernel)} dilated by {tuple(dilation)}")
            )
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r}: the {what} {shown} is larger than its "
                f"input {tuple(spatial)} (rows of shape {tuple(input_shape)}) with "
                f"padding='valid'. Use a smaller {what}, padding='same', or larger inputs"
            )


# --- patches -------------------------------------------------------------------------------


def pad_images(x: np.ndarray, pads) -> np.ndarray:
    """``x`` (rows, h, w, c) with zeros around it (``pads``: ((top, bottom), (left, right)))."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    out = np.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    out[:, top : top + h, left : left + w] = x
    return out


def patch_view(xp: np.ndarray, kernel, strides, dilation, out_hw) -> np.ndarray:
    """All patches of the padded images ``xp`` as a view ``(rows, oh, ow, kh, kw, c)``."""
    sn, sh, sw, sc = xp.strides
    (kh, kw), (th, tw), (dh, dw), (oh, ow) = kernel, strides, dilation, out_hw
    return as_strided(
        xp,
        shape=(xp.shape[0], oh, ow, kh, kw, xp.shape[3]),
        strides=(sn, sh * th, sw * tw, sh * dh, sw * dw, sc),
        writeable=False,
    )


def patch_rows_view(cols: np.ndarray, shape) -> np.ndarray:
    """The first ``kh·kw·c`` columns of a patch matrix ``cols`` (``(rows·oh·ow, kh·kw·c
    + 1)``, a last column of ones) seen as ``(rows, oh, ow, kh, kw, c)``, to copy the
    patches into."""
    n, oh, ow, kh, kw, c = shape
    item, width = cols.itemsize, cols.shape[1]
    return as_strided(
        cols,
        shape=shape,
        strides=(oh * ow * width * item, ow * width * item, width * item, kw * c * item,
                 c * item, item),
    )


def add_patches(grad_xp: np.ndarray, grad_patches: np.ndarray, strides, dilation) -> None:
    """Adds each patch's slope ``(rows, oh, ow, kh, kw, c)`` back into ``grad_xp``, the
    slope of the padded input: one strided slice-add per kernel offset (or one compiled
    loop, ``glassnet._compiled``)."""
    if _compiled.add_patches(grad_xp, grad_patches, strides, dilation):
        return
    _, oh, ow, kh, kw, _ = grad_patches.shape
    (th, tw), (dh, dw) = strides, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + th * (oh - 1) + 1, th)
        for j in range(kw):
            cols = slice(j * dw, j * dw + tw * (ow - 1) + 1, tw)
            grad_xp[:, rows, cols] += grad_patches[:, :, :, i, j]


def crop_pads(grad_xp: np.ndarray, pads, hw) -> np.ndarray:
    """The part of a padded slope that lies on the original input."""
    (top, _), (left, _) = pads
    h, w = hw
    if grad_xp.shape[1:3] == (h, w):
        return grad_xp
    return grad_xp[:, top : top + h, left : left + w]


def to_channels_last(x: np.ndarray, data_format: str) -> np.ndarray:
    """Moves the channel axis last (a view; the layers copy when they gather patches)."""
    if data_format == "channels_last":
        return x
    return np.moveaxis(x, 1, -1)


def from_channels_last(x: np.ndarray, data_format: str) -> np.ndarray:
    """Moves the channel axis back where the layer's ``data_format`` puts it."""
    if data_format == "channels_last":
        return x
    return np.ascontiguousarray(np.moveaxis(x, -1, 1))


def channels_last_shape(shape, data_format: str) -> tuple:
    if data_format == "channels_last":
        return tuple(shape)
    return (*shape[1:], shape[0])


def from_channels_last_shape(shape, data_format: str) -> tuple:
    if data_format == "channels_last":
        return tuple(shape)
    return (shape[-1], *shape[:-1])
