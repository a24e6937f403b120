"""``diagnose``: what goes wrong in training, per layer, in plain words.

Three things the course warns about, read from the values a pass recorded:

* **Dead ReLU units.** A ReLU unit whose input ``z`` is never positive on the data seen
  outputs 0 for every row and has slope 0, so the weights into it get no slope and never
  change: the unit is dead. In a convolution the same holds for a whole filter: its output
  is a feature map, and the filter is dead when it is never positive at any position of any
  row, since its weights' slopes add up the contributions of all those positions.
* **Vanishing and exploding gradients.** Backpropagation multiplies slopes layer by layer;
  in a deep network of sigmoid or tanh units (slopes at most 1/4 and 1) the slopes of the
  early layers shrink towards 0, and with large weights they can blow up. The measure is
  each layer's *gradient ratio*, ``|slope of the kernel| / |kernel|`` (Frobenius norms):
  roughly how big a step the gradient asks for, relative to the weights. A layer whose
  ratio is a thousand times smaller than that of a layer after it learns a thousand
  times slower.
* **Saturated tanh and sigmoid units.** On the flat ends of the S the slope is nearly 0
  (``tanh`` beyond ±0.99, ``sigmoid`` below 0.01 or above 0.99), so learning stalls.

``diagnose(model, x, y)`` runs one pass on the data it is given; the callback
``glassnet.callbacks.Diagnostics`` gathers the same numbers from every batch of training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from glassnet.explain import _common, _records
from glassnet.optimizers import SGD

_DEAD_KINDS = ("relu", "relu6")
_SATURATING = {"tanh": 0.99, "sigmoid": 0.99}

#: Default thresholds; each can be changed by keyword in ``diagnose`` and ``Diagnostics``.
THRESHOLDS = {
    "dead_share": 0.5,  # warn when at least this share of a layer's ReLU units is dead
    "saturated_share": 0.5,  # warn when at least this share of tanh/sigmoid values is saturated
    "vanishing_ratio": 1e-3,  # warn when a layer's gradient ratio is this much below a later one
    "exploding_ratio": 1e3,  # warn when it is this much above a later one
    "step_ratio": 1.0,  # warn when learning_rate × gradient ratio exceeds this (SGD)
}

_ADVICE = {
    "dead": "try a lower learning rate, leaky_relu or elu instead of relu, the he_normal "
            "initializer, or inputs scaled to mean 0 and standard deviation 1",
    "vanishing": "try relu instead of sigmoid or tanh in the hidden layers, the he_normal or "
                 "glorot_uniform initializer, fewer layers, or BatchNormalization",
    "exploding": "try a lower learning rate, gradient clipping (clipnorm=1.0), inputs and "
                 "targets scaled to mean 0 and standard deviation 1, or smaller initial weights",
    "saturated": "try inputs scaled to mean 0 and standard deviation 1, a lower learning rate, "
                 "the glorot_uniform initializer, or relu",
    "step": "try a learning rate ten times lower",
}


@dataclass
class LayerHealth:
    """The numbers ``diagnose`` found for one layer.

    Attributes:
        name, kind, activation, units: the layer; ``units`` counts its filters when its
            nodes are feature maps (``unit_word`` is then ``"filters"``).
        dead_share: share of ReLU units (or filters) never positive on the data seen
            (``None`` when the layer has no ReLU); ``dead_units`` lists their indices.
        unit_word: ``"units"``, or ``"filters"`` for a convolution and for an activation
            layer fed by one, whose channels are that convolution's filters.
        filters_of: the convolution whose filters they are (``None`` for units).
        saturated_share: share of tanh/sigmoid values on the flat ends (``None`` otherwise).
        gradient_norm, weight_norm: norms of the kernel's slope and of the kernel.
        gradient_ratio: ``gradient_norm / weight_norm`` (``None`` without a kernel).
    """

    name: str
    kind: str
    activation: str | None
    units: int
    dead_share: float | None = None
    dead_units: list[int] = field(default_factory=list)
    saturated_share: float | None = None
    gradient_norm: float | None = None
    weight_norm: float | None = None
    gradient_ratio: float | None = None
    unit_word: str = "units"
    filters_of: str | None = None


@dataclass
class Finding:
    """One problem, in plain words: ``kind`` is ``"dead"``, ``"vanishing"``, ``"exploding"``,
    ``"saturated"`` or ``"step"``; ``layer`` the layer it is about; ``message`` says what was
    seen and what to try."""

    kind: str
    layer: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


@dataclass
class Diagnosis:
    """The health of every layer and the problems found.

    Attributes:
        layers: one ``LayerHealth`` per layer.
        findings: the problems, each a ``Finding``; empty when all looks well.
        rows: the number of data rows the numbers come from.
    """

    layers: list[LayerHealth]
    findings: list[Finding]
    rows: int

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.findings

    def layer(self, name: str) -> LayerHealth:
        """One layer's numbers by name."""
        for health in self.layers:
            if health.name == name:
                return health
        raise KeyError(f"No layer {name!r}. Layers: {[h.name for h in self.layers]}")

    def to_dict(self) -> dict:
        """Plain Python data: per-layer numbers and the findings."""
        return {
            "rows": self.rows,
            "layers": [dict(vars(h)) for h in self.layers],
            "findings": [dict(vars(f)) for f in self.findings],
        }

    def to_frame(self):
        """The per-layer numbers as a pandas DataFrame (``pip install pandas``)."""
        import pandas as pd

        return pd.DataFrame.from_records([vars(h) for h in self.layers])

    def format(self) -> str:
        """A table of the per-layer numbers followed by the findings."""
        f = _common.fmt

        def share(value):
            return "-" if value is None else f"{100 * value:.0f}%"

        cells = [[h.name, h.activation or "-",
                  str(h.units) if h.unit_word == "units" else f"{h.units} {h.unit_word}",
                  share(h.dead_share),
                  share(h.saturated_share), "-" if h.gradient_ratio is None
                  else f(h.gradient_ratio, 3)] for h in self.layers]
        lines = [f"Diagnosis on {self.rows} rows",
                 _common.table(["layer", "activation", "units", "dead relu", "saturated",
                                "|slope|/|weights|"], cells)]
        if self.ok:
            lines.append("No problem found: no dead layer, no vanishing or exploding gradients, "
                         "no saturated units.")
        else:
            lines.extend(str(finding) for finding in self.findings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class Observer:
    """Accumulates layer health over one or more passes, reading each layer's records.

    ``observe(model)`` after every pass (a training batch, or ``compute_gradients``), then
    ``result()`` for the ``Diagnosis``. Dead units are those never positive in any pass seen
    (for feature maps: dead filters, never positive at any position of any row); saturation
    and gradient ratios are averaged over the passes.
    """

    def __init__(self, **thresholds: float) -> None:
        unknown = sorted(set(thresholds) - set(THRESHOLDS))
        if unknown:
            raise TypeError(f"Unknown threshold(s) {unknown}. Known: {sorted(THRESHOLDS)}")
        self.thresholds = {**THRESHOLDS, **thresholds}
        self.reset()

    def reset(self) -> None:
        """Forgets every pass seen."""
        self.rows = 0
        self.passes = 0
        self._alive: dict[str, np.ndarray] = {}
        self._saturated: dict[str, list[float]] = {}
        self._grad: dict[str, list[float]] = {}
        self._weight: dict[str, float] = {}
        self._filters: dict[int, object] = {}

    def observe(self, model) -> None:
        """Reads the records of the model's last pass (``model.tape``)."""
        self.passes += 1
        rows = 0
        for lp in _records.last_pass(model).layers:
            layer, record = lp.layer, lp.record
            act = _common.activation_name(layer)
            z = None if record is None else record.z
            a = None if record is None else record.a
            if z is not None:
                rows = len(z)
                if act in _DEAD_KINDS:
                    alive = self._alive_in(model, layer, z)
                    seen = self._alive.get(layer.name)
                    self._alive[layer.name] = alive if seen is None else (seen | alive)
                if act in _SATURATING and a is not None:
                    bound = _SATURATING[act]
                    a2 = a.reshape(len(a), -1)
                    low = -bound if act == "tanh" else 1 - bound
                    flat = (a2 < low) | (a2 > bound)
                    self._saturated.setdefault(layer.name, []).append(float(flat.mean()))
            grad = getattr(layer, "grads", {}).get("kernel")
            if grad is not None and layer.trainable:
                self._grad.setdefault(layer.name, []).append(_norm(grad))
                self._weight[layer.name] = _norm(layer.values["kernel"])
        self.rows += rows

    def _filter_source(self, model, layer):
        key = id(layer)
        if key not in self._filters:
            self._filters[key] = _common.filter_source(model, layer)
        return self._filters[key]

    def _alive_in(self, model, layer, z: np.ndarray) -> np.ndarray:
        """Which nodes were positive in this pass: each of ``z``'s values, or each filter's
        feature map at any position of any row when the nodes are filters."""
        conv = self._filter_source(model, layer)
        if conv is None:
            return (z.reshape(len(z), -1) > 0).any(axis=0)
        positive = np.moveaxis(z > 0, _common.channel_axis(conv), -1)
        return positive.reshape(-1, positive.shape[-1]).any(axis=0)

    def result(self, model) -> Diagnosis:
        """The ``Diagnosis`` of everything observed so far."""
        layers = []
        for layer in _common.model_layers(model):
            health = LayerHealth(name=layer.name, kind=type(layer).__name__,
                                 activation=_common.activation_name(layer),
                                 units=_common.units_of(layer))
            conv = self._filter_source(model, layer)
            if conv is not None:
                shape = layer.output_shape  # without the rows
                axis = _common.channel_axis(conv)
                health.units = int(shape[axis - 1 if axis > 0 else axis] if shape else 0)
                health.unit_word = "filters"
                health.filters_of = conv.name
            alive = self._alive.get(layer.name)
            if alive is not None:
                health.dead_units = [int(i) for i in np.flatnonzero(~alive)]
                health.dead_share = len(health.dead_units) / max(alive.size, 1)
            if layer.name in self._saturated:
                health.saturated_share = float(np.mean(self._saturated[layer.name]))
            if layer.name in self._grad:
                health.gradient_norm = float(np.mean(self._grad[layer.name]))
                health.weight_norm = self._weight[layer.name]
                health.gradient_ratio = _ratio(health.gradient_norm, health.weight_norm)
            layers.append(health)
        findings = _findings(layers, model, self.thresholds)
        return Diagnosis(layers=layers, findings=findings, rows=self.rows)


def _norm(array: np.ndarray) -> float:
    return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


def _ratio(grad: float, weight: float) -> float:
    if not math.isfinite(grad):
        return math.inf
    return grad / weight if weight > 0 else (0.0 if grad == 0 else math.inf)


def _findings(layers: list[LayerHealth], model, t: dict) -> list[Finding]:
    findings = []
    fused_output = bool(getattr(model, "fused_output", False))
    cut_off = _dead_cut_off(layers)
    for index, h in enumerate(layers):
        if h.dead_share is not None and h.dead_share >= t["dead_share"] and h.units:
            findings.append(_dead_finding(h, layers, index))
        is_output = index == len(layers) - 1
        if (h.saturated_share is not None and h.saturated_share >= t["saturated_share"]
                and not (is_output and fused_output)):
            findings.append(Finding("saturated", h.name, (
                f"Layer {h.name!r}: {100 * h.saturated_share:.0f}% of its {h.activation} "
                "values sit on the flat ends of the S, where the slope is nearly 0, so its "
                f"weights barely learn; {_ADVICE['saturated']}.")))
    findings.extend(_gradient_findings(layers, t, cut_off))
    findings.extend(_step_findings(layers, model, t))
    return findings


def _dead_cut_off(layers: list[LayerHealth]) -> int:
    """Index of the last completely dead layer (no slope passes it back), or -1."""
    dead = [i for i, h in enumerate(layers) if h.dead_share == 1.0 and h.units]
    return max(dead) if dead else -1


def _dead_finding(h: LayerHealth, layers: list[LayerHealth], index: int) -> Finding:
    count = len(h.dead_units)
    if h.unit_word == "filters":
        text = _dead_filters_text(h)
    else:
        text = (f"Layer {h.name!r}: {count} of its {h.units} ReLU units "
                f"({100 * h.dead_share:.0f}%) are dead: their input was never positive on the "
                "data seen, so they output 0 and the weights into them get slope 0 and never "
                "change")
    if h.dead_share == 1.0 and index > 0:
        text += (". The whole layer is dead, so no slope reaches the layers before it "
                 f"({', '.join(repr(p.name) for p in layers[:index])})")
    return Finding("dead", h.name, f"{text}; {_ADVICE['dead']}.")


def _dead_filters_text(h: LayerHealth) -> str:
    count = len(h.dead_units)
    one = count == 1
    listed = ", ".join(map(str, h.dead_units[:10]))
    if count > 10:
        listed += f" and {count - 10} more"
    share = f"({100 * h.dead_share:.0f}%) {'is' if one else 'are'} dead"
    if h.filters_of in (None, h.name):
        head = f"Layer {h.name!r}: {count} of its {h.units} ReLU filters {share}"
    else:
        head = (f"Layer {h.name!r}: {count} of the {h.units} filters of {h.filters_of!r} "
                f"{share} after this ReLU")
    its, they = ("its", "it outputs") if one else ("their", "they output")
    return (f"{head} (filter{'' if one else 's'} {listed}): {its} output was never positive at "
            f"any position of any row seen, so {they} 0 everywhere, and {its} kernel weights, "
            "whose slopes add up every position, get slope 0 and never change")


def _gradient_findings(layers: list[LayerHealth], t: dict, cut_off: int) -> list[Finding]:
    ratios = [(i, h) for i, h in enumerate(layers) if h.gradient_ratio is not None]
    bad = [h for _, h in ratios if not math.isfinite(h.gradient_ratio)]
    if bad:
        return [Finding("exploding", bad[0].name, (
            f"Layer {bad[0].name!r} has infinite or NaN slopes: the gradients exploded; "
            f"{_ADVICE['exploding']}."))]
    vanishing, exploding = [], []
    for pos, (i, h) in enumerate(ratios):
        later = [g for _, g in ratios[pos + 1:] if g.gradient_ratio > 0]
        if i <= cut_off or not later:
            continue  # before a dead layer the slope is 0 for that reason (reported there)
        top = max(later, key=lambda g: g.gradient_ratio)
        low = min(later, key=lambda g: g.gradient_ratio)
        if h.gradient_ratio < t["vanishing_ratio"] * top.gradient_ratio:
            vanishing.append((h, top))
        elif h.gradient_ratio > t["exploding_ratio"] * low.gradient_ratio:
            exploding.append((h, low))
    out = []
    if vanishing:
        h, top = vanishing[0]
        names = ", ".join(repr(v.name) for v, _ in vanishing[:5])
        more = f" and {len(vanishing) - 5} more" if len(vanishing) > 5 else ""
        out.append(Finding("vanishing", h.name, (
            f"Vanishing gradients: the slopes of layer {h.name!r} are "
            f"{_common.fmt(h.gradient_ratio, 2)} times the size of its weights, "
            f"{_common.fmt(top.gradient_ratio / max(h.gradient_ratio, 1e-300), 2)} times less "
            f"than in layer {top.name!r}, so it learns far more slowly (affected: {names}{more})"
            f"; {_ADVICE['vanishing']}.")))
    if exploding:
        h, low = exploding[0]
        out.append(Finding("exploding", h.name, (
            f"Exploding gradients: the slopes of layer {h.name!r} are "
            f"{_common.fmt(h.gradient_ratio / max(low.gradient_ratio, 1e-300), 2)} times "
            f"larger, relative to its weights, than in layer {low.name!r}; "
            f"{_ADVICE['exploding']}.")))
    return out


def _step_findings(layers: list[LayerHealth], model, t: dict) -> list[Finding]:
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, SGD):
        return []  # adaptive optimizers scale their steps; the ratio says nothing about them
    lr = float(optimizer.learning_rate)
    big = [h for h in layers if h.gradient_ratio is not None and math.isfinite(h.gradient_ratio)
           and lr * h.gradient_ratio > t["step_ratio"]]
    if not big:
        return []
    h = max(big, key=lambda g: g.gradient_ratio)
    return [Finding("step", h.name, (
        f"Steps too big: with learning rate {_common.fmt(lr)} one SGD step would change the "
        f"weights of layer {h.name!r} by {_common.fmt(lr * h.gradient_ratio, 2)} times their "
        f"own size, so training will jump around or diverge; {_ADVICE['step']}."))]


def diagnose(model, x, y, loss=None, sample_weight=None, training: bool = False,
             **thresholds: float) -> Diagnosis:
    """Checks a model on data for dead ReLU units, vanishing or exploding gradients and
    saturated tanh/sigmoid units, and says in plain words what to try.

    Runs one forward and backward pass (``model.compute_gradients``) on ``x`` and ``y`` and
    reads what the layers recorded. Nothing in the model changes.

    Args:
        model: a glassnet model.
        x, y: data and targets (all rows are used in one pass).
        loss: a loss to use instead of the compiled one (needed if not compiled).
        sample_weight: optional weight per row.
        training: run in training mode (dropout active); off by default so that every unit
            is judged on the whole data.
        **thresholds: any of ``THRESHOLDS`` (``dead_share=0.5``, ``saturated_share=0.5``,
            ``vanishing_ratio=1e-3``, ``exploding_ratio=1e3``, ``step_ratio=1.0``).

    Returns:
        A ``Diagnosis``: print it; ``.ok`` is true when nothing was found, ``.findings``
        lists the problems, ``.layers`` the numbers.

    Raises:
        TypeError: for an unknown threshold name.
        NotCompiledError: when the model is not compiled and no ``loss`` is given.

    Example:
        >>> import numpy as np
        >>> from glassnet.explain import diagnose
        >>> from glassnet.layers import Dense
        >>> from glassnet.models import Sequential
        >>> model = Sequential([Dense(8, activation="relu", input_shape=(3,)), Dense(1)])
        >>> x = np.random.default_rng(0).normal(size=(64, 3))
        >>> report = diagnose(model, x, x.sum(axis=1), loss="mse")
        >>> report.ok
        True
    """
    observer = Observer(**thresholds)
    _common.require_model(model, "diagnose")
    with _common.loss_in_use(model, loss, "diagnose"):
        _common.check_features(model, x, "diagnose")
        _common.ensure_built(model, x)
        with _common.untouched(model):
            model.compute_gradients(x, y, sample_weight=sample_weight, training=training)
            observer.observe(model)
    # After the loss is put back: a model compiled only for this pass has no optimizer whose
    # step size could be judged.
    return observer.result(model)
