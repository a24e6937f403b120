"""``slopes`` and ``step``: backpropagation and one gradient-descent step, number by number.

The course's rule: the slope of the loss for a weight from node ``i`` to node ``j`` is the
product of three things,

* the value of the node feeding in, ``x_i``;
* the slope of the loss at the node fed, ``grad_a_j``;
* the slope of the activation function at that node, ``activation'(z_j)``;

and the slope of the loss at a node's value is the sum, over the weights coming out of it,
of weight × slope at the node it feeds. In glassnet's vocabulary ``grad_z_j = grad_a_j ×
activation'(z_j)`` is the slope at node ``j``'s input, and the weight's slope is ``x_i ×
grad_z_j`` summed over the rows of the batch (the loss's mean over rows is already inside
``grad_a``). A convolution's weight is shared by every position of the image, so its slope
is that product summed over every position as well (``conv_slopes``). Every factor shown
here is what the layers recorded during the model's own ``compute_gradients`` pass, the
same pass a training step makes; the slope shown for each weight is the gradient that pass
hands to the optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet.explain import _common, _records
from glassnet.layers import Activation, BatchNormalization, Dense
from glassnet.layers.storage import trains

_FUSED_NOTE = (
    "{activation} and {loss} are fused, as in training: the slope at the output nodes' inputs "
    "is (prediction - target) / {divisor} directly, so the slope at the prediction and the "
    "{activation} slope are not computed separately"
)


@dataclass
class WeightSlope:
    """One weight array of a layer, with its slope.

    Attributes:
        name: ``"layer/weight"``, e.g. ``"output/kernel"``.
        value: the weights, shape ``(inputs, units)`` for a kernel.
        slope: the slope of the loss for each weight, the gradient the optimizer receives;
            ``None`` for weights that do not train.
        products: for a kernel, ``x_i × grad_z_j`` per row, shape ``(rows, inputs, units)``;
            for a bias, ``grad_z_j`` per row (the value feeding a bias is 1); else ``None``.
            ``products.sum(axis=0)`` (+ ``penalty_slope``) equals ``slope``.
        penalty_slope: the slope of a weight penalty (regularizer) added to ``slope``, or
            ``None``.
    """

    name: str
    value: np.ndarray
    slope: np.ndarray | None
    products: np.ndarray | None = None
    penalty_slope: np.ndarray | None = None


@dataclass
class LayerSlopes:
    """The slopes one layer recorded in backpropagation, in the chain-rule vocabulary.

    Attributes:
        name, kind, activation: the layer's name, class name and activation name.
        input_names, node_names: names of the nodes feeding in and of the layer's nodes.
        x: values feeding in, ``(rows, inputs)``.
        z: each node's input, ``(rows, units)`` (``Dense`` only).
        a: each node's value (output), ``(rows, units)``.
        grad_a: slope of the loss at each node's value; ``None`` where it is not computed
            (the output layer of a fused loss, layers without a record).
        activation_slope: ``activation'(z)`` at each node; ``None`` for softmax (it mixes the
            nodes of a layer) and for a fused output layer.
        grad_z: slope of the loss at each node's input, ``grad_a × activation_slope``.
        weights: ``{"kernel": WeightSlope, "bias": ...}``.
        note: a sentence on anything special (fused loss, no three-factor breakdown).
    """

    name: str
    kind: str
    activation: str | None
    input_names: list[str]
    node_names: list[str]
    x: np.ndarray | None = None
    z: np.ndarray | None = None
    a: np.ndarray | None = None
    grad_a: np.ndarray | None = None
    activation_slope: np.ndarray | None = None
    grad_z: np.ndarray | None = None
    weights: dict[str, WeightSlope] = field(default_factory=dict)
    note: str = ""

    def records(self, rows: int) -> list[dict]:
        """One dict per (row, weight) of this layer (see ``Slopes.records``)."""
        return [r for short, ws in self.weights.items()
                for r in _weight_records(self, short, ws, rows)]

    def format_lines(self, rows: int, max_weights: int = 16, digits: int = 6) -> list[str]:
        """The layer as lines of text: its nodes (for one row) and each weight's slope, as
        the course's product of three factors where there is one."""
        return _format_layer(self, rows, max_weights, digits)


@dataclass
class Slopes:
    """Backpropagation of one batch: the loss, every node's slopes, every weight's slope.

    ``slopes["output/kernel"]`` is the slope array of one weight; ``gradients`` lists them
    all in the order of ``model.trainable_weights``. Print it for the course's three-factor
    products; ``to_frame()`` and ``to_dict()`` give the same numbers as data.

    Attributes:
        loss: the loss of the batch (as training computes it).
        loss_name: the loss's name.
        prediction, target: shape ``(rows, outputs)``.
        error: ``prediction - target`` (``None`` when the target is class labels).
        prediction_slope: slope of the loss at each prediction; for mean squared error on
            one row and one output, ``2 × (prediction - target)``. ``None`` when fused.
        fused: whether the output activation and the loss are fused (softmax with
            categorical cross-entropy, sigmoid with binary cross-entropy).
        layers: one ``LayerSlopes`` per layer.
        gradients: the slope arrays in ``model.trainable_weights`` order, exactly what
            ``model.compute_gradients`` returns.
        weight_names: ``"layer/weight"`` for each entry of ``gradients``.
    """

    loss: float
    loss_name: str
    prediction: np.ndarray
    target: np.ndarray
    error: np.ndarray | None
    prediction_slope: np.ndarray | None
    fused: bool
    layers: list[LayerSlopes]
    gradients: list[np.ndarray]
    weight_names: list[str]

    def layer(self, key: str | int) -> LayerSlopes:
        """A layer's slopes by name or position."""
        if isinstance(key, (int, np.integer)):
            return self.layers[key]
        for layer in self.layers:
            if layer.name == key:
                return layer
        raise KeyError(f"No layer {key!r}. Layers: {[ls.name for ls in self.layers]}")

    def __getitem__(self, name: str) -> np.ndarray:
        """The slope of one weight array by ``"layer/weight"`` name, e.g. ``"output/kernel"``."""
        if name in self.weight_names:
            return self.gradients[self.weight_names.index(name)]
        raise KeyError(f"No trainable weight {name!r}. Weights: {self.weight_names}")

    # --- views --------------------------------------------------------------------------

    def records(self) -> list[dict]:
        """One dict per (row, weight): ``row``, ``layer``, ``weight`` (kernel/bias/...),
        ``from``, ``to``, ``weight_value``, ``node_value``, ``loss_slope``,
        ``activation_slope``, ``input_slope`` (``grad_z``), ``product`` and ``slope`` (the
        weight's total slope over all rows, as the optimizer receives it)."""
        return [r for ls in self.layers for r in ls.records(len(self.prediction))]

    def to_frame(self):
        """The records as a pandas DataFrame (``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover
            raise ImportError(
                "Slopes.to_frame() needs pandas. Install it with pip install pandas, "
                "or use records() or to_dict()"
            ) from None
        return pd.DataFrame.from_records(self.records(), columns=_RECORD_COLUMNS)

    def to_dict(self) -> dict:
        """Plain Python data: loss, prediction, target, slopes per layer and per weight."""
        layers = []
        for ls in self.layers:
            entry = {"name": ls.name, "kind": ls.kind, "activation": ls.activation,
                     "note": ls.note}
            for key in ("x", "z", "a", "grad_a", "activation_slope", "grad_z"):
                value = getattr(ls, key)
                entry[key] = None if value is None else value.tolist()
            entry["weights"] = {
                short: {"value": ws.value.tolist(),
                        "slope": None if ws.slope is None else ws.slope.tolist()}
                for short, ws in ls.weights.items()
            }
            layers.append(entry)
        return {
            "loss": self.loss,
            "loss_name": self.loss_name,
            "prediction": self.prediction.tolist(),
            "target": self.target.tolist(),
            "error": None if self.error is None else self.error.tolist(),
            "prediction_slope": None if self.prediction_slope is None
            else self.prediction_slope.tolist(),
            "fused": self.fused,
            "layers": layers,
        }

    def format(self, max_weights: int = 16, digits: int = 6) -> str:
        """The slopes as text, from the output back to the first layer (backpropagation's
        order); for one row each weight's slope is written as the course's product."""
        f = _common.fmt
        rows = len(self.prediction)
        lines = [f"Loss ({self.loss_name}) = {f(self.loss, digits)}"
                 + (f" over {rows} rows" if rows > 1 else "")]
        if rows == 1 and self.error is not None:
            lines.append(
                f"prediction {_common.vector_text(self.prediction[0], digits)}, target "
                f"{_common.vector_text(self.target[0], digits)}, error (prediction - target) "
                f"{_common.vector_text(self.error[0], digits)}"
            )
        if self.prediction_slope is not None and rows == 1:
            lines.append("slope of the loss at the prediction: "
                         + _common.vector_text(self.prediction_slope[0], digits))
        for ls in reversed(self.layers):
            lines.append("")
            lines.extend(ls.format_lines(rows, max_weights, digits))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


_RECORD_COLUMNS = ["row", "layer", "weight", "from", "to", "weight_value", "node_value",
                   "loss_slope", "activation_slope", "input_slope", "product", "slope"]


def _pick(array: np.ndarray | None, row: int, j: int):
    return None if array is None else float(array[row, j])


def _weight_records(ls: LayerSlopes, short: str, ws: WeightSlope, rows: int) -> list[dict]:
    out = []
    slope = ws.slope
    base = {"layer": ls.name, "weight": short}
    if short == "kernel" and ws.products is not None:
        for row in range(rows):  # grouped by the node fed, as the course goes through them
            for j, dst in enumerate(ls.node_names):
                for i, src in enumerate(ls.input_names):
                    out.append({
                        **base, "row": row, "from": src, "to": dst,
                        "weight_value": float(ws.value[i, j]),
                        "node_value": float(ls.x[row, i]),
                        "loss_slope": _pick(ls.grad_a, row, j),
                        "activation_slope": _pick(ls.activation_slope, row, j),
                        "input_slope": float(ls.grad_z[row, j]),
                        "product": float(ws.products[row, i, j]),
                        "slope": None if slope is None else float(slope[i, j]),
                    })
        return out
    flat_value = ws.value.reshape(-1)
    for row in range(rows):
        for j, dst in enumerate(ls.node_names[: flat_value.size]):
            out.append({
                **base, "row": row, "from": "bias" if short == "bias" else None, "to": dst,
                "weight_value": float(flat_value[j]),
                "node_value": 1.0 if ws.products is not None else None,
                "loss_slope": _pick(ls.grad_a, row, j) if ws.products is not None else None,
                "activation_slope": _pick(ls.activation_slope, row, j)
                if ws.products is not None else None,
                "input_slope": _pick(ls.grad_z, row, j) if ws.products is not None else None,
                "product": None if ws.products is None else float(ws.products[row, j]),
                "slope": None if slope is None else float(slope.reshape(-1)[j]),
            })
    return out


def _format_layer(ls: LayerSlopes, rows: int, max_weights: int, digits: int) -> list[str]:
    f = _common.fmt
    head = f"layer {ls.name} ({ls.kind}" + (f", {ls.activation})" if ls.activation else ")")
    lines = [head]
    if ls.note:
        lines.append(f"  note: {ls.note}")
    if rows == 1 and ls.grad_z is not None:
        cells = []
        for j, node in enumerate(ls.node_names[:max_weights]):
            cells.append([node, f(_pick(ls.z, 0, j), digits), f(_pick(ls.a, 0, j), digits),
                          f(_pick(ls.grad_a, 0, j), digits),
                          f(_pick(ls.activation_slope, 0, j), digits),
                          f(_pick(ls.grad_z, 0, j), digits)])
        lines.append(_common.table(
            ["node", "input z", "value a", "loss slope at a", "activation slope",
             "slope at z"], cells))
    records = [r for short, ws in ls.weights.items() for r in _weight_records(ls, short, ws, 1)]
    three = rows == 1 and ls.grad_a is not None and ls.activation_slope is not None
    two = rows == 1 and not three and any(r["product"] is not None for r in records)
    if three:
        headers = ["weight", "value", "node value", "x loss slope", "x activation slope",
                   "= slope"]
    elif two:  # fused output or softmax: the slope at z is one recorded number per node
        headers = ["weight", "value", "node value", "x slope at z", "= slope"]
    else:
        headers = ["weight", "value", "= slope" if rows == 1 else f"= slope ({rows} rows)"]
    cells = []
    for r in records[:max_weights]:
        name = f"{r['from']} -> {r['to']}" if r["from"] else f"{r['weight']} of {r['to']}"
        cell = [name, f(r["weight_value"], digits)]
        if three:
            cell += [f(r["node_value"], digits), f(r["loss_slope"], digits),
                     f(r["activation_slope"], digits)]
        elif two:
            cell += [f(r["node_value"], digits), f(r["input_slope"], digits)]
        cells.append([*cell, f(r["slope"], digits)])
    if cells:
        lines.append(_common.table(headers, cells))
    elif not ls.weights:
        lines.append("  (no weights)")
    if len(records) > max_weights:
        lines.append(f"  ... {len(records) - max_weights} more weights (see to_frame())")
    if rows > 1 and any(r["product"] is not None for r in records):
        lines.append(f"  each slope is the sum over the {rows} rows of node value x slope at "
                     "the node's input; to_frame() shows every row's factors")
    return lines


# --- computing ---------------------------------------------------------------------------


def slopes(model, x, y, loss=None, sample_weight=None, training: bool = True) -> Slopes:
    """Backpropagates one batch and reports every slope with the course's three factors.

    Runs ``model.compute_gradients`` (one forward and one backward pass, exactly as a
    training step makes them, without updating anything) and reads what each layer
    recorded. Batch-normalisation statistics and dropout's random state are put back
    afterwards, so explaining a model does not change its training.

    Args:
        model: a glassnet model.
        x: one row (1-D) or a batch of rows.
        y: the target(s), one per row.
        loss: a loss name or object to use instead of the compiled loss; needed when the
            model is not compiled. The course uses ``"mean_squared_error"``, whose slope at a
            prediction for one row and one output is ``2 × (prediction - target)``.
        sample_weight: optional weight per row, as in training.
        training: run layers in training mode (dropout active), as a training step does.

    Returns:
        A ``Slopes``; print it, or read ``prediction_slope``, ``layer(name).grad_a``,
        ``slopes["layer/kernel"]``, ``to_frame()``. A convolution's layer is a
        ``ConvLayerSlopes``: a kernel weight is used at every position of the image, so its
        slope is the sum of value feeding in × slope at its filter's input over all of them
        (weight sharing); ``layer(name).kernel_weight(i, j, c, f)`` lists those products
        for one weight (every convolution: ``Conv1D``, ``Conv2D``, ``DepthwiseConv2D``,
        ``SeparableConv2D``, ``Conv2DTranspose``; see ``ConvLayerSlopes.kernel_weight``).

    Raises:
        NotCompiledError: when the model is not compiled and no ``loss`` is given.
        ValueError: when the rows have the wrong number of features, or ``y`` the wrong
            shape.

    Example:
        >>> from glassnet.explain import from_node_weights, slopes
        >>> model = from_node_weights({"output": [2]})          # one weight, 2
        >>> s = slopes(model, [3], [10], loss="mean_squared_error")
        >>> s.prediction_slope                                  # 2 x (6 - 10)
        array([[-8.]])
        >>> s["output/kernel"]                                  # -8 x 3
        array([[-24.]])
    """
    _common.require_model(model, "slopes")
    with _common.loss_in_use(model, loss, "slopes") as loss_obj:
        _common.check_features(model, x, "slopes")
        _common.ensure_built(model, x)
        with _common.untouched(model):
            value, grads = model.compute_gradients(
                x, y, sample_weight=sample_weight, training=training
            )
            reading = _records.last_pass(model)
            fused = reading.fused
            layers = _read_layers(model, reading, grads, loss_obj)
    prediction = _prediction_of(model, layers)
    target = _target_like(y, prediction)
    last = layers[-1]
    return Slopes(
        loss=float(value),
        loss_name=loss_obj.name,
        prediction=prediction,
        target=target,
        error=None if target.shape != prediction.shape else prediction - target,
        prediction_slope=None if fused else last.grad_a,
        fused=fused,
        layers=layers,
        gradients=grads,
        weight_names=_trainable_names(model),
    )


def _trainable_names(model) -> list[str]:
    return [f"{layer.name}/{s.name}" for layer in _common.model_layers(model) for s in layer.specs
            if trains(layer, s, model.trainable)]


def _prediction_of(model, layers: list[LayerSlopes]) -> np.ndarray:
    # The last layer's record; a last layer that records nothing (a Flatten or Reshape at the
    # end) passed on the values of the last layer that did.
    a = next(ls.a for ls in reversed(layers) if ls.a is not None)
    return a.reshape(len(a), -1)


def _target_like(y, prediction: np.ndarray) -> np.ndarray:
    target = np.asarray(y, dtype=np.float64)
    if target.size == prediction.size:
        return target.reshape(prediction.shape)
    return target.reshape(len(prediction), -1)


def _read_layers(model, reading, grads: list[np.ndarray], loss_obj) -> list[LayerSlopes]:
    """Reads each layer's records into ``LayerSlopes``; ``grads`` are matched to the weights
    in the order ``compute_gradients`` returns them."""
    remaining = iter(grads)
    fused = reading.fused
    layers = _common.model_layers(model)
    feeding_names = _common.input_names(model)
    out = []
    for index, layer in enumerate(layers):
        record = reading.of(layer).record
        names = _common.node_names(layer)
        base = {"name": layer.name, "kind": type(layer).__name__,
                "activation": _common.activation_name(layer),
                "input_names": _common.feeding_names(model, layer, feeding_names),
                "node_names": names}
        ls = LayerSlopes(**base)
        is_last = index == len(layers) - 1
        if isinstance(layer, _common.conv_kinds()) and record is not None:
            # conv_slopes builds on this module's LayerSlopes, so it is imported on use
            from glassnet.explain.conv_slopes import read_conv

            ls = read_conv(layer, record, **base)
        elif isinstance(layer, Dense):
            _read_dense(layer, record, ls, fused and is_last, loss_obj)
        elif isinstance(layer, Activation):
            ls.x, ls.a = _common.copy_or_none(record.x), _common.copy_or_none(record.a)
            ls.note = ("no weights; the slope at its input is the grad_a of the layer before"
                       + (" (fused with the loss)" if fused and is_last else ""))
        elif isinstance(layer, BatchNormalization):
            ls.note = ("its slopes come through the batch statistics, not as a product of "
                       "three factors")
        for spec in layer.specs:
            trained = trains(layer, spec, model.trainable)
            slope = next(remaining) if trained else None
            ws = ls.weights.get(spec.name)
            if ws is None:
                ws = WeightSlope(name=f"{layer.name}/{spec.name}",
                                 value=layer.values[spec.name].copy(), slope=None)
                ls.weights[spec.name] = ws
            ws.slope = slope
            if spec.regularizer is not None and trained:
                ws.penalty_slope = spec.regularizer.gradient(layer.values[spec.name])
        out.append(ls)
        feeding_names = names
    return out


def _read_dense(layer, record, ls: LayerSlopes, fused_here: bool, loss_obj) -> None:
    ls.x = _common.copy_or_none(record.x).reshape(len(record.x), -1)
    ls.z = _common.copy_or_none(record.z)
    ls.a = _common.copy_or_none(record.a)
    ls.grad_z = _common.copy_or_none(record.grad_z)
    if fused_here:
        # softmax's cross-entropy sums over a row's classes; sigmoid's averages its outputs
        divisor = "(rows x outputs)" if ls.activation == "sigmoid" else "rows"
        ls.note = _FUSED_NOTE.format(activation=ls.activation, loss=loss_obj.name,
                                     divisor=divisor)
    else:
        ls.grad_a = _common.copy_or_none(record.grad_a)
        slope = layer.activation.slope(ls.z, ls.a)
        ls.activation_slope = None if slope is None else np.asarray(slope)
        if slope is None:
            ls.note = (f"{ls.activation} mixes the nodes of the layer, so its slope is not one "
                       "number per node; the slope at each node's input comes from all of them")
    products = None if ls.grad_z is None else ls.x[:, :, None] * ls.grad_z[:, None, :]
    ls.weights["kernel"] = WeightSlope(name=f"{layer.name}/kernel", value=layer.kernel.copy(),
                                       slope=None, products=products)
    if getattr(layer, "use_bias", False):
        ls.weights["bias"] = WeightSlope(name=f"{layer.name}/bias", value=layer.bias.copy(),
                                         slope=None, products=ls.grad_z)
