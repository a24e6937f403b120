"""``plot_model``: a picture of a model's layers and their connections (``keras.utils``).

Keras draws the graph with pydot and Graphviz; glassnet draws it with matplotlib (the ``plot``
extra), so it needs no system program: one box per layer (name, class, and with
``show_shapes`` its input and output shapes), arrows from each layer to the layers it feeds,
layers placed in rows by their distance from the inputs. It reads only what every glassnet
model has: ``model.layers`` and, for a functional model, each layer's ``inbound_nodes``.
"""

from __future__ import annotations

import os
from typing import Any


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return "(None, " + ", ".join(str(d) for d in shape) + ")"


def _edges(model) -> tuple[list, list[tuple[int, int]]]:
    """The layers to draw and the arrows between them, as index pairs."""
    layers = list(model.layers)
    index = {id(layer): i for i, layer in enumerate(layers)}
    graph_nodes = getattr(model, "_nodes", None)
    edges: list[tuple[int, int]] = []
    if graph_nodes is None:  # a stack: each layer feeds the next
        edges = [(i, i + 1) for i in range(len(layers) - 1)]
        return layers, edges
    for node in graph_nodes:
        target = index.get(id(node.layer))
        for tensor in node.input_tensors:
            source = index.get(id(tensor.node.layer))
            if source is not None and target is not None and (source, target) not in edges:
                edges.append((source, target))
    return layers, edges


def _label(layer, show_shapes: bool, show_layer_names: bool, show_activations: bool) -> str:
    kind = type(layer).__name__
    lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
    activation = getattr(layer, "activation", None)
    if show_activations and activation is not None:
        lines.append(f"activation: {getattr(activation, 'name', activation)}")
    if show_shapes:
        given = getattr(layer, "input_shape", None)
        if given is None:
            given = getattr(layer, "declared_input_shape", None)
        made = getattr(layer, "output_shape", None) or given
        lines.append(f"in: {_shape_text(given)}")
        lines.append(f"out: {_shape_text(made)}")
    return "\n".join(lines)


def plot_model(
    model,
    to_file: str = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs,
):
    """Draws ``model``'s layers and connections into ``to_file`` (a PNG, or any format
    matplotlib writes), and returns the matplotlib figure.

    Args:
        model: a built glassnet model (Sequential, functional or subclassed).
        to_file: where to write the picture.
        show_shapes: write each layer's input and output shapes in its box.
        show_layer_names: write each layer's name (otherwise only its class).
        rankdir: ``"TB"`` (top to bottom, Keras's default) or ``"LR"`` (left to right).
        show_layer_activations: write each layer's activation.
        show_dtype, expand_nested, show_trainable: accepted for Keras compatibility.
        dpi: resolution of the file.

    Raises:
        ValueError: when ``rankdir`` is not ``"TB"`` or ``"LR"``, or the model has no layers.
        ImportError: when matplotlib is not installed (``pip install matplotlib``).
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"`rankdir` must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyBboxPatch
    except ImportError as error:  # pragma: no cover - the plot extra is a test dependency
        raise ImportError(
            "plot_model draws with matplotlib. Install it with pip install matplotlib "
            '(or, in glassnet\'s clone, pip install ".[plot]")'
        ) from error
    layers, edges = _edges(model)
    if not layers:
        raise ValueError("plot_model needs a model with layers; this one has none")
    depth = [0] * len(layers)
    for _ in layers:  # longest path from an input, at most one round per layer
        changed = False
        for source, target in edges:
            if depth[target] < depth[source] + 1:
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        rows.setdefault(d, []).append(i)
    width = max(len(members) for members in rows.values())
    position = {}
    for d, members in rows.items():
        for k, i in enumerate(members):
            across = k - (len(members) - 1) / 2
            position[i] = (across * 3.2, -d * 1.6) if rankdir == "TB" else (d * 3.6, -across * 1.6)
    labels = [_label(layer, show_shapes, show_layer_names, show_layer_activations)
              for layer in layers]
    height_rows = len(rows)
    size = (max(4.0, width * 3.4), max(2.5, height_rows * 1.5)) if rankdir == "TB" else (
        max(4.0, height_rows * 3.8), max(2.5, width * 1.5))
    figure, axes = plt.subplots(figsize=size)
    box_w, box_h = 2.8, 1.0 if show_shapes else 0.6
    for i, label in enumerate(labels):
        x, y = position[i]
        axes.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                      boxstyle="round,pad=0.05", facecolor="#e8f0fe",
                                      edgecolor="#3b6bc9", linewidth=1.2))
        axes.text(x, y, label, ha="center", va="center", fontsize=8, family="monospace")
    for source, target in edges:
        (x0, y0), (x1, y1) = position[source], position[target]
        if rankdir == "TB":
            start, end = (x0, y0 - box_h / 2 - 0.05), (x1, y1 + box_h / 2 + 0.05)
        else:
            start, end = (x0 + box_w / 2 + 0.05, y0), (x1 - box_w / 2 - 0.05, y1)
        axes.annotate("", xy=end, xytext=start,
                      arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 1.1})
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    axes.set_xlim(min(xs) - box_w, max(xs) + box_w)
    axes.set_ylim(min(ys) - box_h * 1.5, max(ys) + box_h * 1.5)
    axes.set_axis_off()
    axes.set_title(f'Model "{getattr(model, "name", "")}"', fontsize=10)
    figure.tight_layout()
    if to_file:
        directory = os.path.dirname(os.fspath(to_file))
        if directory and not os.path.isdir(directory):
            raise ValueError(f"plot_model cannot write {to_file!r}: no folder {directory!r}")
        figure.savefig(to_file, dpi=dpi)
    return figure
