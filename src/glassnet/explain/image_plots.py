"""Pictures of convolutional layers: the filters a layer learned, and what each one sees.

* ``plot_filters(model, layer)``: each filter of a convolution as a small grey image (one
  per input channel for the first filters), weights below zero dark, above zero light.
* ``plot_feature_maps(model, image, layer)``: the output of each filter of a layer for one
  image, read from the model's own pass (``last_pass``), as in a trace.

Needs matplotlib (``pip install matplotlib``).
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.explain._figures import figure, finish
from glassnet.explain._records import last_pass


def _find_layer(model, layer):
    if isinstance(layer, str):
        return model.get_layer(layer)
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        return model.layers[int(layer)]
    if layer in model.layers:
        return layer
    raise ValueError(
        f"`layer` must be a layer of the model, its name or its index; received {layer!r}"
    )


def _grid(count: int, columns: int | None = None) -> tuple[int, int]:
    columns = columns or min(count, 8)
    return math.ceil(count / columns), columns


def plot_filters(model, layer=0, path=None, max_filters: int = 32):
    """Each filter of a convolution layer (``kernel`` of shape ``(kh, kw, channels,
    filters)``) as a small image; for several input channels, their mean.

    Args:
        model: a built model.
        layer: a convolution layer of ``model``, its name or its index (default: the first).
        path: where to save the picture (PNG), or ``None``.
        max_filters: how many filters to draw at most.

    Returns:
        The matplotlib figure.

    Raises:
        ValueError: when the layer has no 2-D convolution kernel.
    """
    found = _find_layer(model, layer)
    kernel = found.values.get("kernel")
    if kernel is None:
        kernel = found.values.get("depthwise_kernel")
    if kernel is None or kernel.ndim != 4:
        raise ValueError(
            f"plot_filters draws the kernels of 2-D convolutions; layer "
            f"{found.name!r} ({type(found).__name__}) has none"
        )
    kernel = np.asarray(kernel, dtype=np.float64)
    count = min(kernel.shape[-1], max_filters)
    rows, columns = _grid(count)
    fig = figure(figsize=(1.1 * columns + 0.8, 1.1 * rows + 0.6))
    limit = float(np.abs(kernel).max()) or 1.0
    axes = fig.subplots(rows, columns, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= count:
            continue
        image = kernel[:, :, :, index].mean(axis=2)
        shown = ax.imshow(image, cmap="gray", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(f"filter {index}", fontsize=7)
    fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    fig.suptitle(
        f"{found.name}: {kernel.shape[0]}×{kernel.shape[1]} filters"
        + (f" (mean of {kernel.shape[2]} input channels)" if kernel.shape[2] > 1 else ""),
        fontsize=9,
    )
    finish(fig, path)
    return fig


def plot_feature_maps(model, image, layer=0, path=None, max_maps: int = 32):
    """What each filter of ``layer`` gives for one image: its feature maps.

    The image goes through the model once (``model.predict``); the maps are the layer's
    outputs read from that pass.

    Args:
        model: a built model whose rows are images.
        image: one image ``(height, width, channels)`` (or a batch of one).
        layer: a layer of ``model`` with image outputs, its name or its index.
        path: where to save the picture (PNG), or ``None``.
        max_maps: how many maps to draw at most.

    Returns:
        The matplotlib figure.
    """
    found = _find_layer(model, layer)
    x = np.asarray(image, dtype=np.float32)
    if model.input_shape is not None and x.shape == tuple(model.input_shape):
        x = x[None]
    model.predict(x[:1], verbose=0)
    output = next(p.output for p in last_pass(model).layers if p.layer is found)
    maps = np.asarray(output[0], dtype=np.float64)
    if maps.ndim != 3:
        raise ValueError(
            f"plot_feature_maps draws image outputs; layer {found.name!r} gives "
            f"rows of shape {maps.shape}"
        )
    if getattr(found, "data_format", "channels_last") == "channels_first":
        maps = np.moveaxis(maps, 0, -1)
    count = min(maps.shape[-1], max_maps)
    rows, columns = _grid(count + 1)
    fig = figure(figsize=(1.3 * columns, 1.3 * rows + 0.5))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    axes.flat[0].imshow(x[0].mean(axis=-1), cmap="gray", interpolation="nearest")
    axes.flat[0].set_title("image", fontsize=7)
    for index in range(count):
        ax = axes.flat[index + 1]
        ax.imshow(maps[:, :, index], cmap="viridis", interpolation="nearest")
        ax.set_title(f"map {index}", fontsize=7)
    fig.suptitle(
        f"{found.name}: {maps.shape[0]}×{maps.shape[1]} feature maps (bright: large outputs)",
        fontsize=9,
    )
    finish(fig, path)
    return fig


def plot_blocks(model, path=None, title: str | None = None):
    """A convnet as the course would sketch it: one block per layer, top to bottom, with its
    kind, output shape and weight count; a block's width grows with its number of channels
    and its height with the image size, so pooling shows as blocks getting smaller.

    Args:
        model: a built model.
        path: where to save the picture (PNG), or ``None``.
        title: the title; by default the model's name and its weight count.

    Returns:
        The matplotlib figure.
    """
    from matplotlib.patches import FancyBboxPatch

    if not model.built:
        model.build()
    shapes = [tuple(model.input_shape)] + [tuple(layer.output_shape) for layer in model.layers]
    names = ["input"] + [f"{layer.name} ({type(layer).__name__})" for layer in model.layers]
    params = [None] + [layer.count_params() for layer in model.layers]
    count = len(shapes)
    fig = figure(figsize=(6.2, 0.62 * count + 0.9))
    ax = fig.add_subplot()
    ax.set_xlim(0, 10)
    ax.set_ylim(-count, 0.6)
    ax.set_axis_off()
    spatial_max = max(shape[0] if len(shape) > 1 else 1 for shape in shapes)
    channel_max = max(shape[-1] for shape in shapes)
    for i, (shape, name, n) in enumerate(zip(shapes, names, params, strict=True)):
        image = len(shape) > 1
        width = 0.6 + 2.6 * (math.log1p(shape[-1]) / math.log1p(channel_max))
        height = 0.25 + 0.35 * (shape[0] / spatial_max if image else 0.1)
        colour = "#cfe3f6" if n else ("#eeeeee" if image else "#e3f2d9")
        y = -i - height / 2
        ax.add_patch(
            FancyBboxPatch(
                (2.0 - width / 2, y),
                width,
                height,
                boxstyle="round,pad=0.03",
                fc=colour,
                ec="#333333",
            )
        )
        ax.text(3.9, -i, name, va="center", fontsize=8)
        text = "(" + ", ".join(map(str, shape)) + ")"
        weights = "" if n is None else f"   {n:,} weights" if n else "   no weights"
        ax.text(3.9, -i - 0.28, text + weights, va="center", fontsize=7, color="#444444")
        if i:
            ax.annotate(
                "",
                xy=(2.0, -i + height / 2 + 0.03),
                xytext=(2.0, -i + 0.72),
                arrowprops={"arrowstyle": "->", "color": "#666666"},
            )
    total = model.count_params()
    ax.set_title(
        title or f"{model.name}: {total:,} weights (blue: layers with weights)", fontsize=9
    )
    finish(fig, path)
    return fig
