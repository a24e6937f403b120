"""Gradient descent in pictures: the loss over two weights, and the slope for one weight.

Both pictures move chosen weights of the model, ask the model for its loss (``evaluate``) or
its slopes (``slopes``, which reads ``compute_gradients``), and put every weight back
afterwards. They run in inference mode (no dropout), so the loss curve and the slopes drawn
on it are the same function of the weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from glassnet.explain import _common
from glassnet.explain._figures import figure, finish

_REF = re.compile(r"\s*(?P<layer>[^/\s]+)/(?P<weight>\w+)\s*(\[(?P<index>[\d,\s]*)\])?\s*")


@dataclass
class WeightRef:
    """One weight of a model: layer, weight array name, index, and how to call it."""

    layer: object
    weight: str
    index: tuple[int, ...]
    label: str

    @property
    def key(self) -> str:
        return f"{self.layer.name}/{self.weight}"

    def get(self) -> float:
        return float(self.layer.values[self.weight][self.index])

    def set(self, value: float) -> None:
        self.layer.values[self.weight][self.index] = value


def weight_ref(model, spec) -> WeightRef:
    """Resolves a weight given as ``"output/kernel[0, 0]"`` (the names ``step`` prints),
    ``(layer, i, j)`` for ``kernel[i, j]`` or ``(layer, "bias", j)``; ``layer`` is a name or
    a position.

    Raises:
        ValueError: naming the layer, weight or index that does not exist.
        TypeError: for a ``spec`` of another kind.
    """
    if isinstance(spec, str):
        match = _REF.fullmatch(spec)
        if not match:
            raise ValueError(f"A weight is written 'layer/kernel[i, j]'. Received: {spec!r}")
        layer = _layer(model, match["layer"])
        weight = match["weight"]
        index = tuple(int(p) for p in (match["index"] or "").replace(" ", "").split(",") if p)
    elif isinstance(spec, tuple) and len(spec) in (2, 3):
        layer = _layer(model, spec[0])
        if spec[1] == "bias":
            weight, index = "bias", tuple(spec[2:])
        else:
            weight, index = "kernel", tuple(spec[1:])
    else:
        raise TypeError("A weight is 'layer/kernel[i, j]', (layer, i, j) or (layer, 'bias', j). "
                        f"Received: {spec!r}")
    if weight not in layer.values:
        raise ValueError(f"Layer {layer.name!r} has no weight {weight!r}; it has "
                         f"{sorted(layer.values)}")
    shape = layer.values[weight].shape
    if not index and int(np.prod(shape)) == 1:
        index = (0,) * len(shape)
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape, strict=True)):
        raise ValueError(
            f"{layer.name}/{weight} has shape {shape}; index {list(index)} is not in it"
        )
    index = tuple(int(i) for i in index)
    return WeightRef(layer, weight, index, _label(model, layer, weight, index))


def _layer(model, key):
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return model.layers[key]
    return model.get_layer(str(key))


def _label(model, layer, weight: str, index) -> str:
    name = f"{layer.name}/{weight}[{', '.join(map(str, index))}]"
    if weight != "kernel" or len(index) != 2:
        return name
    layers = model.layers
    position = layers.index(layer)
    before = layers[position - 1] if position > 0 else None
    sources = _common.node_names(before) if before is not None else _common.input_names(model)
    if index[0] < len(sources):
        return f"{sources[index[0]]} -> {_common.node_names(layer)[index[1]]}  ({name})"
    return name


def _default_refs(model, count: int) -> list[WeightRef]:
    """The first weights of the last layer with enough of them (the weights into the output)."""
    for layer in reversed(model.layers):
        kernel = layer.values.get("kernel")
        if kernel is not None and kernel.size >= count:
            indices = list(np.ndindex(kernel.shape))[:count]
            return [weight_ref(model, (layer.name, *ix)) for ix in indices]
    raise ValueError(f"The model has no layer with {count} weights to draw; pass `weights=`")


def _loss_now(model, x, y) -> float:
    logs = model.evaluate(x, y, batch_size=max(np.asarray(x).size, 1),
                          verbose=0, return_dict=True)
    return float(logs["loss"])


def _half_width(span, values) -> float:
    if span is not None:
        if not np.isfinite(span) or span <= 0:
            raise ValueError(f"`span` must be a positive number. Received: span={span!r}")
        return float(span)
    return max(2.0, 1.5 * max(abs(v) for v in values))


def plot_loss_surface(model, x, y, weights=None, span: float | None = None, resolution: int = 41,
                      loss=None, steps: int = 0, learning_rate: float = 0.01, path=None,
                      title: str | None = None):
    """The loss over two chosen weights, the others fixed, as the course's surface picture,
    next to its contour map with the current weights marked (and, with ``steps``, the path
    gradient descent takes on these two weights).

    Args:
        model: a glassnet model.
        x, y: the data the loss is measured on.
        weights: two weights, each ``"layer/kernel[i, j]"``, ``(layer, i, j)`` or
            ``(layer, "bias", j)``; by default the first two weights into the output.
        span: half-width of the range drawn around each weight's current value.
        resolution: grid points per axis.
        loss: a loss to use instead of the compiled one (needed if not compiled).
        steps: gradient-descent steps to draw on the map (moving only these two weights).
        learning_rate: their step size.
        path: where to save a PNG.
        title: the figure's title.

    Returns:
        The matplotlib ``Figure``. The model's weights are as before.
    """
    _common.require_model(model, "plot_loss_surface")
    _common.ensure_built(model, x)
    refs = _default_refs(model, 2) if weights is None else [weight_ref(model, w) for w in weights]
    if len(refs) != 2 or refs[0].label == refs[1].label:
        raise ValueError(f"`weights` must name two different weights. Received: {weights!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 5:
        raise ValueError(f"`resolution` must be an integer of at least 5. Received: {resolution!r}")
    start = [r.get() for r in refs]
    half = _half_width(span, start)
    grid_a = np.linspace(start[0] - half, start[0] + half, resolution)
    grid_b = np.linspace(start[1] - half, start[1] + half, resolution)
    surface = np.empty((resolution, resolution))
    trail = [tuple(start)]
    with _common.loss_in_use(model, loss, "plot_loss_surface"), _common.untouched(model):
        try:
            for i, b in enumerate(grid_b):
                refs[1].set(b)
                for j, a in enumerate(grid_a):
                    refs[0].set(a)
                    surface[i, j] = _loss_now(model, x, y)
            for r, value in zip(refs, start, strict=True):
                r.set(value)
            trail += _descend(model, x, y, refs, steps, learning_rate)
        finally:
            for r, value in zip(refs, start, strict=True):
                r.set(value)
    return _draw_surface(grid_a, grid_b, surface, refs, trail, path, title)


def _descend(model, x, y, refs, steps: int, learning_rate: float) -> list[tuple[float, ...]]:
    from glassnet.explain.slopes import slopes

    points = []
    for _ in range(int(steps)):
        s = slopes(model, x, y, training=False)
        moved = [r.get() - learning_rate * float(s[r.key][r.index]) for r in refs]
        for r, value in zip(refs, moved, strict=True):
            r.set(value)
        points.append(tuple(moved))
    return points


def _draw_surface(grid_a, grid_b, surface, refs, trail, path, title):
    fig = figure(figsize=(12, 5))
    a, b = np.meshgrid(grid_a, grid_b)
    ax3 = fig.add_subplot(1, 2, 1, projection="3d")
    ax3.plot_surface(a, b, surface, cmap="viridis", alpha=0.85, linewidth=0)
    ax3.set(xlabel=refs[0].label.split("  ")[0], ylabel=refs[1].label.split("  ")[0],
            zlabel="loss")
    ax3.view_init(elev=30, azim=-125)
    from matplotlib.ticker import MaxNLocator

    for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    ax = fig.add_subplot(1, 2, 2)
    levels = np.quantile(surface, np.linspace(0, 1, 16))
    filled = ax.contourf(a, b, surface, levels=np.unique(levels), cmap="viridis")
    fig.colorbar(filled, ax=ax, label="loss")
    xs, ys = zip(*trail, strict=True)
    ax.plot(xs[0], ys[0], marker="*", ms=14, color="white", mec="black",
            label="current weights", ls="none")
    if len(trail) > 1:
        ax.plot(xs, ys, color="white", marker="o", ms=4, lw=1.5, label="gradient descent")
    ax.set(xlabel=refs[0].label, ylabel=refs[1].label)
    ax.legend(fontsize=8, loc="upper right")
    fig.suptitle(title or "Loss over two weights (all other weights fixed)")
    fig.tight_layout()
    finish(fig, path)
    return fig


def plot_slope(model, x, y, weight=None, learning_rate: float = 0.01, steps: int = 3,
               span: float | None = None, loss=None, path=None, title: str | None = None):
    """Gradient descent on one weight: the loss against that weight (the others fixed), the
    tangent at each step with its slope, and each step ``w - learning_rate × slope``.

    The slopes are those ``slopes`` reports (the gradients a training step hands the
    optimizer), so the tangents touch the curve.

    Args:
        model: a glassnet model.
        x, y: the data the loss is measured on.
        weight: ``"layer/kernel[i, j]"``, ``(layer, i, j)`` or ``(layer, "bias", j)``; by
            default the first weight into the output.
        learning_rate: the step size.
        steps: how many steps to take and draw.
        span: half-width of the range of weights drawn beyond the steps.
        loss: a loss to use instead of the compiled one (needed if not compiled).
        path: where to save a PNG.
        title: the figure's title.

    Returns:
        The matplotlib ``Figure``. The model's weights are as before.
    """
    from glassnet.explain.slopes import slopes

    _common.require_model(model, "plot_slope")
    _common.ensure_built(model, x)
    ref = _default_refs(model, 1)[0] if weight is None else weight_ref(model, weight)
    start = ref.get()
    visits = []  # (weight, loss, slope)
    with _common.loss_in_use(model, loss, "plot_slope"), _common.untouched(model):
        try:
            for _ in range(int(steps) + 1):
                s = slopes(model, x, y, training=False)
                g = float(s[ref.key][ref.index])
                visits.append((ref.get(), s.loss, g))
                ref.set(ref.get() - learning_rate * g)
            ws = [v[0] for v in visits]
            pad = _half_width(span, [0.5 * (max(ws) - min(ws)) + 0.5])
            grid = np.linspace(min(ws) - pad, max(ws) + pad, 201)
            curve = []
            for value in grid:
                ref.set(value)
                curve.append(_loss_now(model, x, y))
        finally:
            ref.set(start)
    return _draw_slope(grid, np.array(curve), visits, ref, learning_rate, pad, path, title)


def _draw_slope(grid, curve, visits, ref, learning_rate, pad, path, title):
    f = _common.fmt
    lr = f(learning_rate)
    fig = figure(figsize=(7.5, 4.8))
    ax = fig.add_subplot()
    ax.plot(grid, curve, color="#333333", lw=2, label="loss")
    for k, (w, value, g) in enumerate(visits):
        half = 0.35 * pad
        ax.plot([w - half, w + half], [value - g * half, value + g * half], color="C3",
                lw=1.6 if k == 0 else 0.8, alpha=1.0 if k == 0 else 0.5,
                label=f"slope {f(g, 4)} at w = {f(w, 4)}" if k == 0 else None)
        ax.plot(w, value, "o", color="C0", ms=6, zorder=3)
        ax.annotate(str(k), (w, value), textcoords="offset points", xytext=(-4, 7),
                    fontsize=8, color="C0")
    lines = []
    for k, (w, _, g) in enumerate(visits[:-1][:5]):
        lines.append(f"w{k + 1} = {f(w, 4)} - {lr} x ({f(g, 4)}) = "
                     f"{f(visits[k + 1][0], 4)}")
    if len(visits) > 6:
        lines.append("...")
    if lines:
        ax.text(0.02, 0.97, "\n".join(lines), transform=ax.transAxes, fontsize=8, va="top",
                family="monospace", bbox={"fc": "white", "ec": "#cccccc"})
    top = max(float(np.max(curve)), max(v[1] for v in visits))
    ax.set_ylim(min(float(np.min(curve)), 0) - 0.05 * top, top * 1.1 + 1e-12)
    ax.set(xlabel=f"weight {ref.label}", ylabel="loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title or f"Gradient descent on one weight, learning rate {lr}", fontsize=10)
    fig.tight_layout()
    finish(fig, path)
    return fig
