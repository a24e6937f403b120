"""The picture the page draws, as plain JSON data, read from a ``Snapshot``.

The network is drawn over the layers the model recorded (``explain.trace``'s layers, one per
layer of the last pass): each layer a column of nodes, each 2-D weight array (a ``Dense``
kernel, ``(inputs, units)``) a set of lines between the columns. A layer wider than
``max_nodes`` shows its strongest nodes (largest norm of the weights into it; for the inputs,
out of them) and a count of the rest; the page can ask for more (``expand``).

Every number is copied from the explain tools' results: node inputs and outputs from
``trace``, the three factors and each weight's slope from ``slopes`` (``step.before``), the
update from ``step``. Nothing is computed here but the choice of which nodes to show.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.explain.live.snapshot import Snapshot

MAX_NODES = 12  # nodes shown per layer unless the page expands it
EXPANDED_NODES = 256  # nodes shown per layer when expanded


def number(value) -> float | None:
    """A JSON-safe float: ``None`` for NaN and infinities (JSON has no such numbers)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(values) -> list:
    """An array as (nested) lists of floats, ``None`` for NaN and infinities: one conversion
    for the whole array (the values are the arrays' own, as ``float`` reads them)."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.all():
        return values.tolist()
    out = values.astype(object)
    out[~finite] = None
    return out.tolist()


def _row(array, index: list[int]) -> list:
    """``array[0, j]`` for each ``j`` of ``index`` (``None`` each without the array)."""
    if array is None:
        return [None] * len(index)
    return _plain(array[0, index])


def _block(array, block) -> list | None:
    """``array[0][block]`` (a block of a row's products), or ``None`` without the array."""
    return None if array is None else _plain(array[0][block])


def _chosen(strength: np.ndarray, limit: int) -> list[int]:
    """The indices of the ``limit`` strongest nodes, in their own order."""
    if len(strength) <= limit:
        return list(range(len(strength)))
    top = np.argsort(-np.nan_to_num(strength, nan=0.0), kind="stable")[:limit]
    return sorted(int(i) for i in top)


def _kernel(snapshot: Snapshot, name: str) -> np.ndarray | None:
    kernel = snapshot.weights.get(name, {}).get("kernel")
    return kernel if kernel is not None and kernel.ndim == 2 else None


def network(snapshot: Snapshot, expand: frozenset[str] = frozenset()) -> dict:
    """The network for the page: columns of nodes with their numbers, lines with theirs.

    Args:
        snapshot: what to show.
        expand: names of layers (``"input"`` for the inputs) to show up to
            ``EXPANDED_NODES`` nodes of instead of ``MAX_NODES``.
    """
    tr = snapshot.trace
    slopes = snapshot.step.before if snapshot.step is not None else None
    step = snapshot.step
    update_of = {}
    if step is not None:
        update_of = dict(zip(step.weight_names, step.updates, strict=True))
    columns: list[dict] = []

    def limit(name: str) -> int:
        return EXPANDED_NODES if name in expand else MAX_NODES

    # the inputs: strongest by the norm of the weights out of them into the first kernel
    first = next(
        (_kernel(snapshot, lt.name) for lt in tr.layers if _kernel(snapshot, lt.name) is not None),
        None,
    )
    n_inputs = tr.inputs.shape[1]
    strength = (
        np.linalg.norm(first, axis=1)
        if first is not None and len(first) == n_inputs
        else np.abs(tr.inputs[0])
    )
    shown = _chosen(strength, limit("input"))
    values = _row(tr.inputs, shown)
    columns.append(
        {
            "name": "input",
            "kind": "Input",
            "activation": None,
            "units": n_inputs,
            "expanded": "input" in expand,
            "shown": shown,
            "nodes": [
                {"index": i, "name": tr.input_names[i], "input": v, "output": v}
                for i, v in zip(shown, values, strict=True)
            ],
            "edges": [],
        }
    )
    for lt in tr.layers:
        units = len(lt.node_names)
        kernel = _kernel(snapshot, lt.name)
        previous = columns[-1]
        connects = kernel is not None and kernel.shape == (previous["units"], units)
        strength = (
            np.linalg.norm(kernel, axis=0)
            if connects
            else np.abs(lt.outputs[0])
            if lt.outputs is not None and lt.outputs.shape[1] == units
            else np.zeros(units)
        )
        shown = _chosen(strength, limit(lt.name))
        ls = None
        if slopes is not None:
            ls = next((candidate for candidate in slopes.layers if candidate.name == lt.name), None)
        # the shown nodes' numbers, each array converted once (not number by number)
        names = lt.node_names
        inputs, outputs = _row(lt.node_inputs, shown), _row(lt.outputs, shown)
        nodes = [
            {"index": j, "name": names[j], "input": inputs[p], "output": outputs[p]}
            for p, j in enumerate(shown)
        ]
        if ls is not None:
            grad_a, act = _row(ls.grad_a, shown), _row(ls.activation_slope, shown)
            grad_z = _row(ls.grad_z, shown)
            for p, node in enumerate(nodes):
                node["grad_a"], node["activation_slope"] = grad_a[p], act[p]
                node["grad_z"] = grad_z[p]
        bias = snapshot.weights.get(lt.name, {}).get("bias")
        if bias is not None and bias.ndim == 1 and len(bias) == units:
            bias_ws = None if ls is None else ls.weights.get("bias")
            values = _plain(bias[shown])
            slope = update = None
            if bias_ws is not None and bias_ws.slope is not None:
                slope = _plain(bias_ws.slope[shown])
                update = update_of.get(f"{lt.name}/bias")
                update = None if update is None else _plain(update[shown])
            for p, node in enumerate(nodes):
                node["bias"] = values[p]
                if slope is not None:
                    node["bias_slope"] = slope[p]
                    node["bias_update"] = None if update is None else update[p]
        edges = []
        if connects:
            before = previous["shown"]
            block = np.ix_(before, shown)
            weights = _plain(kernel[block])
            kernel_ws = None if ls is None else ls.weights.get("kernel")
            full = kernel_ws is not None and kernel_ws.slope is not None
            if full:
                update = update_of.get(f"{lt.name}/kernel")
                x, grad_z = _row(ls.x, before), _row(ls.grad_z, shown)
                products = _block(kernel_ws.products, block)
                slope = _plain(kernel_ws.slope[block])
                update = None if update is None else _plain(update[block])
            for p, i in enumerate(before):
                for q, j in enumerate(shown):
                    edge = {"from": i, "to": j, "weight": weights[p][q]}
                    if full:
                        edge["x"], edge["grad_z"] = x[p], grad_z[q]
                        edge["product"] = None if products is None else products[p][q]
                        edge["slope"] = slope[p][q]
                        edge["update"] = None if update is None else update[p][q]
                    edges.append(edge)
        columns.append(
            {
                "name": lt.name,
                "kind": lt.kind,
                "activation": lt.activation,
                "units": units,
                "expanded": lt.name in expand,
                "shown": shown,
                "nodes": nodes,
                "edges": edges,
                "note": None if ls is None else ls.note,
            }
        )
    out = {
        "row": snapshot.row,
        "columns": columns,
        "prediction": [number(v) for v in np.ravel(tr.prediction[0])],
    }
    if slopes is not None:
        out.update(
            {
                "loss": number(slopes.loss),
                "loss_name": slopes.loss_name,
                "target": [number(v) for v in np.ravel(slopes.target[0])],
                "learning_rate": number(step.learning_rate),
                "loss_after_step": number(step.loss_after),
            }
        )
    return out


def diagnosis(snapshot: Snapshot) -> dict | None:
    """``explain.diagnose``'s numbers and its sentences, or ``None`` when not yet run."""
    found = snapshot.diagnosis
    if found is None:
        return None
    layers = []
    for health in found.layers:
        layers.append(
            {
                "name": health.name,
                "activation": health.activation,
                "units": health.units,
                "dead_share": number(health.dead_share),
                "dead_units": len(health.dead_units),
                "saturated_share": number(health.saturated_share),
                "gradient_norm": number(health.gradient_norm),
                "weight_norm": number(health.weight_norm),
                "gradient_ratio": number(health.gradient_ratio),
            }
        )
    return {
        "rows": found.rows,
        "ok": found.ok,
        "layers": layers,
        "findings": [
            {"kind": f.kind, "layer": f.layer, "message": f.message} for f in found.findings
        ],
    }
