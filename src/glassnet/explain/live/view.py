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


def _at(array, *index) -> float | None:
    return None if array is None else number(array[index])


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
    columns.append(
        {
            "name": "input",
            "kind": "Input",
            "activation": None,
            "units": n_inputs,
            "expanded": "input" in expand,
            "shown": shown,
            "nodes": [
                {
                    "index": i,
                    "name": tr.input_names[i],
                    "input": number(tr.inputs[0, i]),
                    "output": number(tr.inputs[0, i]),
                }
                for i in shown
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
        bias = snapshot.weights.get(lt.name, {}).get("bias")
        bias_ws = None if ls is None else ls.weights.get("bias")
        nodes = []
        for j in shown:
            node = {
                "index": j,
                "name": lt.node_names[j],
                "input": _at(lt.node_inputs, 0, j),
                "output": _at(lt.outputs, 0, j),
            }
            if ls is not None:
                node.update(
                    {
                        "grad_a": _at(ls.grad_a, 0, j),
                        "activation_slope": _at(ls.activation_slope, 0, j),
                        "grad_z": _at(ls.grad_z, 0, j),
                    }
                )
            if bias is not None and bias.ndim == 1 and len(bias) == units:
                node["bias"] = number(bias[j])
                if bias_ws is not None and bias_ws.slope is not None:
                    node["bias_slope"] = number(bias_ws.slope[j])
                    update = update_of.get(f"{lt.name}/bias")
                    node["bias_update"] = None if update is None else number(update[j])
            nodes.append(node)
        edges = []
        if connects:
            kernel_ws = None if ls is None else ls.weights.get("kernel")
            update = update_of.get(f"{lt.name}/kernel")
            for i in previous["shown"]:
                for j in shown:
                    edge = {"from": i, "to": j, "weight": number(kernel[i, j])}
                    if kernel_ws is not None and kernel_ws.slope is not None:
                        edge.update(
                            {
                                "x": _at(ls.x, 0, i),
                                "grad_z": _at(ls.grad_z, 0, j),
                                "product": _at(kernel_ws.products, 0, i, j),
                                "slope": number(kernel_ws.slope[i, j]),
                                "update": None if update is None else number(update[i, j]),
                            }
                        )
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
