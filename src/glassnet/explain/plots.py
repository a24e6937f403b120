"""Pictures of a network, its learning curves and its health (matplotlib, imported lazily).

Every function returns a ``matplotlib.figure.Figure`` and, given ``path``, saves it as a PNG
too. Figures are made without ``pyplot``, so nothing here changes matplotlib's global state
or needs a display; in a notebook the returned figure shows itself. The loss surface and the
slope picture are in ``glassnet.explain.descent_plots`` and exported from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from glassnet.explain import _common
from glassnet.explain._figures import figure, finish
from glassnet.explain.descent_plots import plot_loss_surface, plot_slope
from glassnet.layers import Activation, Dense

POSITIVE = "#1f5fa8"  # blue: a positive weight
NEGATIVE = "#c8362b"  # red, dashed: a negative weight
SLOPE = "#d62728"  # red numbers beside nodes: the slope of the loss at the node's value
_NODE_COLOURS = {"input": "#e6e6e6", "hidden": "#d7e8f7", "output": "#d9f0d3"}


# --- the network ----------------------------------------------------------------------------


def _shown_nodes(n: int, max_nodes: int) -> tuple[list[int], int]:
    """Indices of the nodes drawn, and how many are left out (drawn as one '⋮ n more')."""
    if n <= max_nodes:
        return list(range(n)), 0
    head = max(max_nodes - 2, 1)
    return [*range(head), n - 1], n - head - 1


def _columns(model, tr, node_slopes=None):
    """The columns to draw: inputs, then each ``Dense`` layer (an ``Activation`` layer right
    after one lends it its activation and its values)."""
    layers = _common.model_layers(model)
    columns = [{"kind": "input", "name": "input", "names": _common.input_names(model),
                "values": None if tr is None else tr.inputs[0], "z": None, "kernel": None,
                "activation": None}]
    skipped = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, Dense):
            if not isinstance(layer, Activation):
                skipped.append(layer.name)
            continue
        activation = _common.activation_name(layer)
        values = z = None
        if tr is not None:
            lt = tr.layers[index]
            values, z = lt.outputs[0], lt.node_inputs[0]
        after = layers[index + 1] if index + 1 < len(layers) else None
        if isinstance(after, Activation):
            activation = _common.activation_name(after)
            if tr is not None:
                values = tr.layers[index + 1].outputs[0]
        feeding = _common.feeding_names(model, layer, columns[-1]["names"])
        if feeding != columns[-1]["names"]:
            raise ValueError(
                f"plot_network draws a stack of Dense layers, each fed by the one before; in "
                f"this model layer {layer.name!r} is fed by other nodes ({', '.join(feeding[:3])}"
                f"{', ...' if len(feeding) > 3 else ''}), not by {columns[-1]['name']!r}. "
                "Draw its graph with glassnet.utils.plot_model(model), and its numbers with "
                "explain.trace and explain.slopes"
            )
        grads = None if node_slopes is None else node_slopes[index]
        columns.append({"kind": "hidden", "name": layer.name, "names": _common.node_names(layer),
                        "values": values, "z": z, "kernel": np.asarray(layer.kernel),
                        "activation": activation, "slopes": grads})
    columns[-1]["kind"] = "output" if len(columns) > 1 else "input"
    return columns, skipped


def plot_network(model, x=None, path=None, max_nodes: int = 10, show_weights: bool | None = None,
                 digits: int = 3, title: str | None = None, y=None, loss=None):
    """Draws the network as the course does: input, hidden and output nodes in columns,
    a line for every weight with its value, and (given ``x``) each node's value inside it.
    A model whose rows are images or sequences (a convnet) is drawn as a column of blocks,
    one per layer, with its output shape and weight count (``plot_blocks``).

    Positive weights are solid blue lines, negative ones dashed red, thicker for larger
    sizes. A layer with more than ``max_nodes`` nodes is summarised: its first nodes, a
    '⋮ n more' marker and its last node are drawn, with the two strongest lines into each
    drawn node and a note of the range of all the layer's weights.
    Where a node's activation changed its value (ReLU of a negative input, tanh), the input
    ``z`` is written under the node.

    Args:
        model: a glassnet model (its ``Dense`` layers are drawn).
        x: optional data point (the first row of ``x`` is traced with ``trace``).
        path: where to save a PNG; ``None`` saves nothing.
        max_nodes: the most nodes drawn per layer.
        show_weights: write each weight on its line; by default when at most 40 lines are
            drawn and no layer is summarised.
        digits: significant digits of the numbers written.
        title: the title; by default the model's name and the traced row.
        y: optional target of that row: the slope of the loss at each node's value (from
            ``slopes``) is then written in red beside the node, as in the course's
            backpropagation pictures.
        loss: the loss for those slopes, when the model is not compiled.

    Returns:
        The matplotlib ``Figure``.

    Example:
        >>> from glassnet.explain import from_node_weights, plot_network
        >>> model = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]})
        >>> fig = plot_network(model, x=[2, 3], path="f1_network.png")  # doctest: +SKIP
    """
    _common.require_model(model, "plot_network")
    if model.input_shape is not None and len(model.input_shape) > 1:
        from glassnet.explain.image_plots import plot_blocks

        return plot_blocks(model, path=path, title=title)  # images: layers as blocks
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 3:
        raise ValueError(f"`max_nodes` must be an integer of at least 3. Received: {max_nodes!r}")
    tr = node_slopes = None
    if x is not None:
        from glassnet.explain.trace import trace

        rows = np.asarray(x) if _common.columns_of(x) is None else x
        first = rows[:1] if getattr(rows, "ndim", 1) > 1 else rows
        tr = trace(model, first)
        if y is not None:
            from glassnet.explain.slopes import slopes

            target = np.asarray(y)
            s = slopes(model, first, target[:1] if target.ndim > 1 else target, loss=loss)
            node_slopes = [None if ls.grad_a is None else ls.grad_a[0] for ls in s.layers]
    elif y is not None:
        raise ValueError("`y` needs `x`: the slopes are those of the row x with target y")
    elif not model.built:
        model.build()
    columns, skipped = _columns(model, tr, node_slopes)
    layout = [_shown_nodes(len(c["names"]), max_nodes) for c in columns]
    summarised = any(left for _, left in layout)
    edges = sum(len(a[0]) * len(b[0]) for a, b in zip(layout, layout[1:], strict=False))
    if show_weights is None:
        show_weights = edges <= 40 and not summarised

    tallest = max(len(shown) + (1 if left else 0) for shown, left in layout)
    fig = figure(figsize=(2.6 * len(columns) + 0.6, max(3.4, 1.1 * tallest + 2.0)))
    ax = fig.add_subplot()
    positions = _positions(layout)
    _draw_edges(ax, columns, positions, show_weights, digits)
    lowest = min(y for pos, _, _ in positions for _, y in pos.values())
    highest = max(y for pos, _, _ in positions for _, y in pos.values())
    for column, (pos, gap_y, left) in zip(columns, positions, strict=True):
        _draw_nodes(ax, column, pos, digits)
        x0 = next(iter(pos.values()))[0]
        if left:
            ax.text(x0, gap_y, f"⋮\n{left} more", ha="center", va="center", fontsize=8,
                    color="#555555")
        label = column["name"] if column["kind"] != "input" else "input"
        if column["activation"]:
            label += f"\n({column['activation']})"
        if left:
            label += f"\n{len(column['names'])} nodes"
        ax.text(x0, lowest - 0.75, label, ha="center", va="top", fontsize=9)
    # An invisible point below the layer names, so that the axes (and the legend under
    # them) leave room for the names.
    lines = max(1 + bool(c["activation"]) + bool(left) for c, (_, _, left) in
                zip(columns, positions, strict=True))
    ax.plot([0, 0], [lowest - 0.55 - 0.3 * lines, highest + 0.75], alpha=0)
    _legend(ax, summarised, node_slopes is not None)
    if title is None:
        title = f"{getattr(model, 'name', 'model')}"
        if tr is not None:
            title += ": node values for the row " + _row_text(tr.inputs[0], digits)
    if skipped:
        title += f"\n(not drawn: {', '.join(skipped)})"
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.autoscale_view()
    ax.margins(0.03)
    finish(fig, path)
    return fig


_DX, _DY, _RADIUS = 2.6, 1.2, 0.3


def _positions(layout):
    """For each column: ``{node: (x, y)}``, the height of its '⋮' marker and how many nodes
    the marker stands for."""
    positions = []
    for c_index, (shown, left) in enumerate(layout):
        slots = len(shown) + (1 if left else 0)
        ys = [_DY * ((slots - 1) / 2 - k) for k in range(slots)]
        pos = {}
        for k, node in enumerate(shown):
            slot = k if not left or k < len(shown) - 1 else k + 1
            pos[node] = (c_index * _DX, ys[slot])
        positions.append((pos, ys[len(shown) - 1] if left else None, left))
    return positions


def _row_text(row, digits: int) -> str:
    values = [_common.fmt(v, digits) for v in np.asarray(row).reshape(-1)[:6]]
    return "[" + ", ".join(values) + (", ...]" if np.asarray(row).size > 6 else "]")


def _draw_edges(ax, columns, positions, show_weights, digits) -> None:
    r = _RADIUS
    for c_index in range(1, len(columns)):
        kernel = columns[c_index]["kernel"]
        src, dst = positions[c_index - 1][0], positions[c_index][0]
        biggest = float(np.max(np.abs(kernel))) if kernel.size else 0.0
        summarised = positions[c_index - 1][2] or positions[c_index][2]
        for j, (x1, y1) in dst.items():
            feeding = list(src.items())
            if summarised:  # only the two strongest lines into each node
                feeding.sort(key=lambda item, j=j: -abs(float(kernel[item[0], j])))
                feeding = feeding[:2]
            for i, (x0, y0) in feeding:
                w = float(kernel[i, j])
                colour = POSITIVE if w >= 0 else NEGATIVE
                size = abs(w) / biggest if biggest else 0.0
                width = (0.4 + 1.2 * size) if summarised else (0.6 + 2.4 * size)
                ax.plot([x0 + r, x1 - r], [y0, y1], color=colour, lw=width,
                        ls="-" if w >= 0 else "--", alpha=0.6 if summarised else 0.8, zorder=1)
                if show_weights:
                    t = 0.3
                    ax.text(x0 + r + t * (x1 - x0 - 2 * r), y0 + t * (y1 - y0),
                            _common.fmt(w, digits), fontsize=8, ha="center", va="center",
                            color=colour, zorder=3,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
        if summarised:  # say what the lines left out hold
            top = max(y for _, y in list(src.values()) + list(dst.values()))
            x_mid = (next(iter(src.values()))[0] + next(iter(dst.values()))[0]) / 2
            ax.text(x_mid, top + 0.7, f"{kernel.shape[0]} x {kernel.shape[1]} weights\n"
                    f"from {_common.fmt(kernel.min(), 2)} to {_common.fmt(kernel.max(), 2)}",
                    ha="center", va="bottom", fontsize=7, color="#444444")
            ax.plot([x_mid], [top + 1.4], alpha=0)


def _draw_nodes(ax, column, pos, digits) -> None:
    from matplotlib.patches import Circle

    r = _RADIUS
    fill = _NODE_COLOURS[column["kind"]]
    for node, (x0, y0) in pos.items():
        ax.add_patch(Circle((x0, y0), r, fc=fill, ec="#333333", lw=1.2, zorder=2))
        ax.text(x0, y0 + r + 0.06, column["names"][node], ha="center", va="bottom",
                fontsize=7, color="#444444", zorder=4)
        if column["values"] is None:
            continue
        value = float(column["values"][node])
        text = _common.fmt(value, digits)
        size = 9 if len(text) <= 4 else (7 if len(text) <= 6 else 6)
        ax.text(x0, y0, text, ha="center", va="center", fontsize=size,
                fontweight="bold", zorder=4)
        if column.get("slopes") is not None:
            ax.text(x0 + r * 0.75, y0 + r * 0.75, _common.fmt(column["slopes"][node], digits),
                    ha="left", va="bottom", fontsize=8, color=SLOPE, fontweight="bold", zorder=4)
        if column["z"] is not None and float(column["z"][node]) != value:
            ax.text(x0, y0 - r - 0.05, "in " + _common.fmt(column["z"][node], digits),
                    ha="center", va="top", fontsize=7, color="#666666", zorder=4)


def _legend(ax, summarised: bool, with_slopes: bool = False) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=POSITIVE, lw=2, label="positive weight"),
               Line2D([], [], color=NEGATIVE, lw=2, ls="--", label="negative weight")]
    if with_slopes:
        handles.append(Line2D([], [], color="none", marker="$6$", mfc=SLOPE, mec=SLOPE,
                              label="slope of the loss at the node"))
    if summarised:
        handles.append(Line2D([], [], color="none",
                              label="(large layers: the 2 strongest lines into each node)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(handles),
              fontsize=8, frameon=False)


# --- learning curves ------------------------------------------------------------------------


def _as_logs(item, what: str) -> dict[str, list[float]]:
    logs = getattr(item, "history", item)
    if not isinstance(logs, Mapping) or not all(_is_series(v) for v in logs.values()):
        raise TypeError(
            f"{what} must be a History (what fit returns), its .history dict of lists, or a "
            f"list or dict of those. Received: {type(item).__name__}"
        )
    return {str(k): [float(v) for v in values] for k, values in logs.items()}


def _is_series(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray)) and all(
        isinstance(v, (int, float, np.number)) for v in value)


def _histories(source, labels) -> list[tuple[str, dict[str, list[float]]]]:
    """Normalises one or several histories into ``[(label, logs), ...]``."""
    if hasattr(source, "history") or (isinstance(source, Mapping) and source
                                       and all(_is_series(v) for v in source.values())):
        return [(labels[0] if labels else "", _as_logs(source, "history"))]
    if isinstance(source, Mapping):
        items = [(str(k), _as_logs(v, f"history {k!r}")) for k, v in source.items()]
    elif isinstance(source, Sequence) and not isinstance(source, str):
        items = [(f"model {i + 1}", _as_logs(v, f"history {i}")) for i, v in enumerate(source)]
    else:
        raise TypeError("`history` must be a History, a dict of lists, or a list or dict of "
                        f"those. Received: {type(source).__name__}")
    if not items:
        raise ValueError("`history` is empty: there is no learning curve to draw")
    if labels is not None:
        if len(labels) != len(items):
            raise ValueError(f"`labels` has {len(labels)} names for {len(items)} histories")
        items = [(str(label), logs) for label, (_, logs) in zip(labels, items, strict=True)]
    return items


def plot_history(history, path=None, keys: Sequence[str] | None = None,
                 labels: Sequence[str] | None = None, title: str | None = None,
                 logy: bool = False):
    """Learning curves: loss (and metrics) per epoch, for one model or several.

    One history gives one panel per quantity, with its training and validation curves
    (``loss`` and ``val_loss``, ``accuracy`` and ``val_accuracy``...). Several histories
    (a list, or a dict ``{label: history}``) are drawn on shared axes, one colour per model,
    validation dashed: the course's capacity comparison. With several, ``keys`` defaults
    to ``["val_loss"]`` when every history has it.

    Args:
        history: a ``History`` (what ``fit`` returns), its ``.history`` dict, or a list or
            dict of those.
        path: where to save a PNG.
        keys: the logged quantities to draw (e.g. ``["loss", "val_loss"]``).
        labels: names of the models, for several histories given as a list.
        title: the figure's title.
        logy: a logarithmic loss axis.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        TypeError: when ``history`` is none of the accepted kinds.
        ValueError: for a key no history has (the message lists those logged).
    """
    items = _histories(history, labels)
    available = sorted({k for _, logs in items for k in logs})
    if keys is None:
        if len(items) > 1:
            keys = ["val_loss"] if all("val_loss" in logs for _, logs in items) else ["loss"]
        else:
            keys = list(items[0][1])
    keys = [keys] if isinstance(keys, str) else list(keys)
    missing = [k for k in keys if all(k not in logs for _, logs in items)]
    if missing:
        raise ValueError(f"No history logged {missing}. Logged keys: {available}")
    panels: dict[str, list[str]] = {}
    for key in keys:
        panels.setdefault(key.removeprefix("val_"), []).append(key)
    fig = figure(figsize=(5.2 * len(panels), 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colours = [f"C{i}" for i in range(10)]
    for ax, (base, panel_keys) in zip(axes, panels.items(), strict=True):
        for m, (label, logs) in enumerate(items):
            for key in panel_keys:
                if key not in logs:
                    continue
                values = logs[key]
                epochs = np.arange(1, len(values) + 1)
                name = " ".join(part for part in (label, key) if part)
                ax.plot(epochs, values, color=colours[m % 10] if len(items) > 1 else None,
                        ls="--" if key.startswith("val_") and len(panel_keys) > 1 else "-",
                        marker="o" if len(values) <= 30 else None, ms=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(base)
        if logy and "loss" in base:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    finish(fig, path)
    return fig


# --- diagnostics ----------------------------------------------------------------------------


def plot_diagnostics(source, path=None, title: str | None = None):
    """The health of each layer: gradient ratio (log scale) and share of dead or saturated
    units, per layer for one ``Diagnosis``, or per epoch for a ``Diagnostics`` callback.

    Args:
        source: a ``Diagnosis`` (from ``diagnose``), or a ``Diagnostics`` callback after
            ``fit`` (or its ``reports`` list).
        path: where to save a PNG.
        title: the figure's title.

    Returns:
        The matplotlib ``Figure``.
    """
    reports = getattr(source, "reports", source)
    if hasattr(reports, "layers"):
        return _plot_one_diagnosis(reports, path, title)
    reports = list(reports)
    if not reports:
        raise ValueError("There is no diagnosis to draw: the callback has not checked any epoch")
    epochs = [epoch + 1 for epoch, _ in reports]
    names = [h.name for h in reports[-1][1].layers]
    fig = figure(figsize=(11, 3.8))
    left, right = fig.subplots(1, 2)
    for i, name in enumerate(names):
        ratios = [_value(r.layer(name).gradient_ratio) for _, r in reports]
        if any(v is not None for v in ratios):
            left.plot(epochs, [np.nan if v is None else v for v in ratios], marker="o", ms=3,
                      label=name, color=f"C{i % 10}")
        for attr, style in (("dead_share", "-"), ("saturated_share", ":")):
            shares = [_value(getattr(r.layer(name), attr)) for _, r in reports]
            if any(v is not None for v in shares):
                kind = "dead" if attr == "dead_share" else "saturated"
                right.plot(epochs, [np.nan if v is None else 100 * v for v in shares],
                           ls=style, marker="o", ms=3, label=f"{name} ({kind})",
                           color=f"C{i % 10}")
    left.set_yscale("log")
    left.set(xlabel="epoch", ylabel="|slope| / |weights|", title="gradient size per layer")
    right.set(xlabel="epoch", ylabel="% of units", title="dead ReLU / saturated units",
              ylim=(-3, 103))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    last = reports[-1][1]
    fig.suptitle(title or f"Epoch {epochs[-1]}: {_verdict(last)[0].lower()}{_verdict(last)[1:]}")
    fig.tight_layout()
    finish(fig, path)
    return fig


def _value(v):
    return None if v is None or not np.isfinite(v) else float(v)


def _plot_one_diagnosis(diagnosis, path, title):
    layers = [h for h in diagnosis.layers if h.gradient_ratio is not None
              or h.dead_share is not None or h.saturated_share is not None]
    names = [h.name for h in layers]
    if len(names) <= 6:
        fig = figure(figsize=(max(6.0, 1.1 * len(names) + 3), 3.8))
        left, right = fig.subplots(1, 2)
    else:  # many layers: one panel above the other, each as wide as the layers need
        fig = figure(figsize=(min(14.0, 0.45 * len(names) + 3), 7.0))
        left, right = fig.subplots(2, 1, sharex=True)
    idx = np.arange(len(names))
    left.bar(idx, [_value(h.gradient_ratio) or np.nan for h in layers], color="C0")
    left.set_yscale("log")
    left.set(ylabel="|slope| / |weights|", title="gradient size per layer")
    right.bar(idx - 0.2, [100 * (h.dead_share or 0) for h in layers], width=0.4,
              label="dead ReLU", color="C3")
    right.bar(idx + 0.2, [100 * (h.saturated_share or 0) for h in layers], width=0.4,
              label="saturated", color="C1")
    right.set(ylabel="% of units", title="dead / saturated units", ylim=(0, 105))
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.set_xticks(idx, names, rotation=45, ha="right", rotation_mode="anchor", fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title or _verdict(diagnosis))
    fig.tight_layout()
    finish(fig, path)
    return fig


_KIND_WORDS = {"dead": "dead units", "vanishing": "vanishing gradients",
               "exploding": "exploding gradients", "saturated": "saturated units",
               "step": "steps too big"}


def _verdict(diagnosis) -> str:
    if diagnosis.ok:
        return "No problem found"
    kinds = sorted({f.kind for f in diagnosis.findings})
    return "Found: " + ", ".join(_KIND_WORDS.get(k, k) for k in kinds)


__all__ = ["plot_diagnostics", "plot_history", "plot_loss_surface", "plot_network",
           "plot_slope"]
