"""``trace``: the input and output of every node of every layer, for a few data points.

This is the course's forward propagation made visible. For each ``Dense`` node the input is
``z`` (the weighted sum of the values feeding in) and the output ``a = activation(z)``; both
are read from what the layers recorded while the model computed its prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.explain import _common, _records


def _flat(values):
    """Rows as vectors of node values: an image layer's feature maps ``(rows, h, w, c)``
    are listed node by node in the order of ``node_names`` (row-major, as ``Flatten``)."""
    return values if values.ndim <= 2 else values.reshape(len(values), -1)

@dataclass
class LayerTrace:
    """What one layer received and produced, for every traced row.

    Attributes:
        name: the layer's name.
        kind: the layer's class name (``"Dense"``, ``"Activation"``, ...).
        activation: the activation's name, or ``None``.
        node_names: one name per node (see ``node_names`` in the module docs).
        inputs: what fed in, shape ``(rows, inputs)``.
        node_inputs: ``z`` for a ``Dense`` layer (the input of each node), shape
            ``(rows, units)``; the layer's input for an ``Activation`` layer; else ``None``.
        outputs: each node's output ``a``, shape ``(rows, units)``.
    """

    name: str
    kind: str
    activation: str | None
    node_names: list[str]
    inputs: np.ndarray | None
    node_inputs: np.ndarray | None
    outputs: np.ndarray | None


@dataclass
class Trace:
    """Forward propagation of a few rows, node by node.

    Print it for a table; ``to_frame()`` gives a pandas DataFrame and ``to_dict()`` plain
    dicts. ``trace["node_0_0"]`` gives one node's ``{"input": ..., "output": ...}`` arrays
    (one value per row).

    Attributes:
        inputs: the rows as the model received them, shape ``(rows, features)``.
        input_names: ``input_0``, ``input_1``, ... or the DataFrame's column names.
        layers: one ``LayerTrace`` per layer.
        prediction: the model's output, shape ``(rows, outputs)``.
    """

    inputs: np.ndarray
    input_names: list[str]
    layers: list[LayerTrace]
    prediction: np.ndarray
    model_name: str = ""

    def layer(self, key: str | int) -> LayerTrace:
        """A layer's trace by name or position (negative positions count from the end)."""
        if isinstance(key, (int, np.integer)):
            return self.layers[key]
        for layer in self.layers:
            if layer.name == key:
                return layer
        raise KeyError(f"No layer {key!r} in the trace. Layers: {[lt.name for lt in self.layers]}")

    def __getitem__(self, node: str) -> dict[str, np.ndarray]:
        """One node's input and output for every row, by node name (``"node_0"``...)."""
        if node in self.input_names:
            column = self.input_names.index(node)
            return {"input": _flat(self.inputs)[:, column], "output": _flat(self.inputs)[:, column]}
        for layer in self.layers:
            if node in layer.node_names:
                i = layer.node_names.index(node)
                node_in = None if layer.node_inputs is None else layer.node_inputs[:, i]
                node_out = None if layer.outputs is None else layer.outputs[:, i]
                return {"input": node_in, "output": node_out}
        known = self.input_names + [n for lt in self.layers for n in lt.node_names]
        shown = known if len(known) <= 12 else known[:12] + ["..."]
        raise KeyError(f"No node {node!r} in the trace. Nodes: {shown}")

    # --- views --------------------------------------------------------------------------

    def records(self) -> list[dict]:
        """One dict per (row, node): ``row``, ``layer``, ``node``, ``activation``, ``input``,
        ``output``. The input layer's nodes come first, with ``layer="input"``."""
        out = []
        for row in range(len(self.inputs)):
            for i, name in enumerate(self.input_names):
                value = float(_flat(self.inputs)[row, i])
                out.append({"row": row, "layer": "input", "node": name, "activation": None,
                            "input": value, "output": value})
            for lt in self.layers:
                for i, name in enumerate(lt.node_names):
                    out.append({
                        "row": row,
                        "layer": lt.name,
                        "node": name,
                        "activation": lt.activation,
                        "input": None if lt.node_inputs is None
                        else float(_flat(lt.node_inputs)[row, i]),
                        "output": None if lt.outputs is None
                        else float(_flat(lt.outputs)[row, i]),
                    })
        return out

    def to_dict(self) -> dict:
        """Plain Python data: inputs, each layer's nodes with their inputs and outputs per row,
        and the prediction.

        Example:
            ``{"inputs": {"input_0": [3.0], ...}, "layers": [{"name": "hidden_0", "activation":
            "relu", "nodes": {"node_0_0": {"input": [26.0], "output": [26.0]}, ...}}, ...],
            "prediction": [[182.0]]}``
        """
        layers = []
        for lt in self.layers:
            nodes = {}
            for i, name in enumerate(lt.node_names):
                nodes[name] = {
                    "input": None if lt.node_inputs is None
                    else _flat(lt.node_inputs)[:, i].tolist(),
                    "output": None if lt.outputs is None else _flat(lt.outputs)[:, i].tolist(),
                }
            layers.append({"name": lt.name, "kind": lt.kind, "activation": lt.activation,
                           "nodes": nodes})
        return {
            "inputs": {name: _flat(self.inputs)[:, i].tolist()
                       for i, name in enumerate(self.input_names)},
            "layers": layers,
            "prediction": self.prediction.tolist(),
        }

    def to_frame(self):
        """A pandas DataFrame with one line per (row, node).

        Raises:
            ImportError: when pandas is not installed (``pip install pandas``).
        """
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is installed where tests run
            raise ImportError(
                "Trace.to_frame() needs pandas. Install it with pip install pandas, "
                "or use to_dict() or print the trace"
            ) from None
        return pd.DataFrame.from_records(
            self.records(), columns=["row", "layer", "node", "activation", "input", "output"]
        )

    def format(self, max_rows: int = 5, max_nodes: int = 12, digits: int = 6) -> str:
        """The trace as a text table, one block per row.

        Args:
            max_rows: rows shown (the others are counted).
            max_nodes: nodes shown per layer; a larger layer shows its first and last nodes.
            digits: significant digits of numbers that are not whole.
        """
        rows = len(self.inputs)
        title = f"Forward propagation through {self.model_name or 'the model'}"
        lines = [title + (f" ({rows} rows)" if rows > 1 else "")]
        for row in range(min(rows, max_rows)):
            if rows > 1:
                lines.append(f"row {row}")
            cells = []
            names = _shown(self.input_names, max_nodes)
            for k, (i, name) in enumerate(names):
                value = "" if i is None else _common.fmt(_flat(self.inputs)[row, i], digits)
                cells.append(["input" if k == 0 else "", name, "", "", value])
            for lt in self.layers:
                for k, (i, name) in enumerate(_shown(lt.node_names, max_nodes)):
                    label = lt.name if k == 0 else ""
                    act = (lt.activation or "") if k == 0 else ""
                    if i is None:
                        cells.append([label, name, act, "", ""])
                        continue
                    zs = None if lt.node_inputs is None else _flat(lt.node_inputs)
                    outs = None if lt.outputs is None else _flat(lt.outputs)
                    z = "" if zs is None else _common.fmt(zs[row, i], digits)
                    a = "" if outs is None else _common.fmt(outs[row, i], digits)
                    cells.append([label, name, act, z, a])
            lines.append(_common.table(["layer", "node", "activation", "input", "output"], cells))
            prediction = ", ".join(_common.fmt(v, digits) for v in self.prediction[row])
            lines.append(f"  prediction: {prediction}")
        if rows > max_rows:
            lines.append(f"... {rows - max_rows} more rows (use to_frame() or to_dict())")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _shown(names: list[str], max_nodes: int) -> list[tuple[int | None, str]]:
    """The nodes to show: all, or the first ones, a line saying how many are left out, and
    the last one."""
    if len(names) <= max_nodes:
        return list(enumerate(names))
    head = max(max_nodes - 1, 1)
    hidden = len(names) - head - 1
    return [*enumerate(names[:head]), (None, f"... {hidden} more"), (len(names) - 1, names[-1])]


def trace(model, x) -> Trace:
    """Runs rows through the model and reads each node's input and output.

    The model computes its prediction as ``predict`` does (inference mode: no dropout,
    moving batch-normalisation statistics); the trace then reads what each layer recorded,
    so the numbers are exactly those of the prediction.

    Args:
        model: a glassnet model (built, or with a known input shape).
        x: one row (a 1-D sequence such as ``[2, 3]``), or several rows (2-D array, list of
            rows or pandas DataFrame, whose column names then name the input nodes).

    Returns:
        A ``Trace``: print it, or read ``.layers[i].outputs``, ``.prediction``,
        ``trace["node_0"]``, ``.to_frame()``, ``.to_dict()``.

    Raises:
        ValueError: when the rows do not have the number of features the model expects
            (the message names both).

    Example:
        >>> from glassnet.explain import from_node_weights, trace
        >>> weights = {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2],
        ...            "node_1_1": [1, 2], "output": [2, 7]}
        >>> t = trace(from_node_weights(weights, hidden_activation="relu"), [3, 5])
        >>> t.layers[0].outputs
        array([[26.,  0.]])
        >>> t.prediction
        array([[182.]])
    """
    _common.require_model(model, "trace")
    _common.check_features(model, x, "trace")
    _common.ensure_built(model, x)
    columns = _common.columns_of(x)
    with _common.untouched(model):
        prediction = model.predict_on_batch(x)
        reading = _records.last_pass(model)
    rows = len(prediction)
    inputs = np.array(reading.layers[0].inputs, copy=True).reshape(rows, -1)
    traces = []
    feeding = inputs
    for lp in reading.layers:
        layer = lp.layer
        output = np.array(lp.output, copy=True).reshape(rows, -1)
        node_inputs = None if lp.record is None else lp.record.z
        traces.append(LayerTrace(
            name=layer.name,
            kind=type(layer).__name__,
            activation=_common.activation_name(layer),
            node_names=_common.node_names(layer),
            inputs=feeding,
            node_inputs=_common.copy_or_none(node_inputs),
            outputs=output,
        ))
        feeding = output
    return Trace(
        inputs=inputs.reshape(len(inputs), -1),
        input_names=_common.input_names(model, columns),
        layers=traces,
        prediction=prediction,
        model_name=getattr(model, "name", ""),
    )
