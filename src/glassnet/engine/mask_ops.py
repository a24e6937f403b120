"""The mask operations Keras 3 writes into a functional model's config, read as what they are.

When a layer of a Keras 3 functional model receives a mask (``glassnet.layers.masks``),
Keras records the mask's computation as operation nodes of the graph and names the mask
tensor in the layer's node as ``kwargs["mask"]`` (``keras/src/ops/operation.py`` and
``keras/src/models/functional.py``: ``serialize_node`` writes every argument of the call).
The operations are those of the mask layers' ``compute_mask``:

* ``Embedding(mask_zero=True)``: ``ops.not_equal(inputs, 0)``
  (``keras/src/layers/core/embedding.py``), a ``NotEqual`` node of module
  ``keras.src.ops.numpy`` with ``args`` ``[the Embedding's input, 0]``;
* ``Masking(mask_value=v)``: ``ops.any(ops.not_equal(inputs, v), axis=-1)``
  (``keras/src/layers/core/masking.py``), a ``NotEqual`` node ``[the Masking's input, v]``
  and an ``Any`` node (``axis=-1``, ``keepdims=False``) on it.

glassnet computes those masks itself, from the mask layer (``compute_mask``), and hands them
to the layers that read them. So the reader takes these nodes out of the config, never
making an object of them, after checking that each is exactly one of the two forms above,
that their tensors are used only as a layer's ``mask`` (or as the ``Any``'s input), and,
once the model is built, that glassnet hands each such layer the mask of the very layer the
operations describe (same input tensor, same value). Anything else is refused, as before,
with a ``ValueError`` naming the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The ``module`` Keras 3 writes for these operations (absent in an ``.h5`` file's config).
OPS_MODULE = "keras.src.ops.numpy"
#: The operations Keras writes for the masks of ``Embedding`` and ``Masking``.
MASK_OPS = frozenset({"NotEqual", "Any"})

_TENSOR = "__keras_tensor__"


@dataclass(frozen=True)
class MaskOp:
    """What a mask operation's output is: ``any_feature`` (an ``Any`` over the last axis:
    ``Masking``'s mask) or not (a ``NotEqual``: ``Embedding``'s), of ``tensor != value``,
    ``tensor`` the ``(layer, node, index)`` key of the tensor compared."""

    tensor: tuple
    value: float
    any_feature: bool


def is_mask_op(entry: Any) -> bool:
    """Whether a config entry is one of the operations Keras writes for a mask."""
    return (isinstance(entry, dict) and entry.get("class_name") in MASK_OPS
            and entry.get("module", OPS_MODULE) == OPS_MODULE)


def _history(value: Any, where: str) -> tuple:
    if isinstance(value, dict) and value.get("class_name") == _TENSOR:
        history = (value.get("config") or {}).get("keras_history")
        if (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
                and all(isinstance(v, int) and not isinstance(v, bool) for v in history[1:])):
            return (history[0], history[1], history[2])
    raise ValueError(f"{where}: expected a tensor, received {value!r}")


def _only_node(entry: dict, where: str) -> list:
    nodes = entry.get("inbound_nodes")
    if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
        raise ValueError(f"{where}: a mask operation has exactly one call")
    node = nodes[0]
    if set(node) - {"args", "kwargs"} or node.get("kwargs") not in (None, {}):
        raise ValueError(f"{where}: a mask operation takes no keyword arguments")
    args = node.get("args")
    if not isinstance(args, list):
        raise ValueError(f"{where}: a mask operation's call has no `args`")
    return args


def read_mask_ops(entries: list) -> dict[str, MaskOp]:
    """The mask operations among a functional config's ``entries``, by name.

    Raises:
        ValueError: for an operation that is not exactly what Keras writes for a mask.
    """
    ops: dict[str, MaskOp] = {}
    pending: list[tuple[str, dict]] = []
    for entry in entries:
        if not is_mask_op(entry):
            continue
        config = entry.get("config")
        name = entry.get("name") or (config or {}).get("name")
        where = f"Mask operation {name!r} ({entry['class_name']})"
        if not isinstance(name, str) or not isinstance(config, dict):
            raise ValueError(f"{where}: it has no name or config")
        if entry.get("registered_name") not in (None, entry["class_name"]):
            raise ValueError(f"{where}: it is registered as {entry['registered_name']!r}")
        args = _only_node(entry, where)
        if entry["class_name"] == "NotEqual":
            if set(config) != {"name"} or len(args) != 2:
                raise ValueError(f"{where}: expected NotEqual(tensor, number) with no options")
            value = args[1]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{where}: compares with {value!r}, not a number")
            ops[name] = MaskOp(_history(args[0], where), float(value), False)
        else:
            axis, keepdims = config.get("axis"), config.get("keepdims")
            if (set(config) != {"name", "axis", "keepdims"} or axis not in (-1, [-1])
                    or keepdims is not False or len(args) != 1):
                raise ValueError(
                    f"{where}: expected Any(axis=-1, keepdims=False) of a NotEqual, as "
                    f"Masking's mask; received config {config!r}")
            pending.append((name, args[0]))
    for name, arg in pending:
        where = f"Mask operation {name!r} (Any)"
        source = _history(arg, where)
        inner = ops.get(source[0])
        if inner is None or inner.any_feature or source[1:] != (0, 0):
            raise ValueError(f"{where}: its input is not a NotEqual mask operation")
        ops[name] = MaskOp(inner.tensor, inner.value, True)
    return ops


def node_mask(node: Any, ops: dict[str, MaskOp], layer_name: str) -> MaskOp | None:
    """The mask operation a layer's node names as ``kwargs["mask"]``, or ``None`` when it
    names none.

    Raises:
        ValueError: for a ``mask`` that is not the output of a mask operation.
    """
    if not isinstance(node, dict):
        return None
    mask = (node.get("kwargs") or {}).get("mask")
    if mask is None:
        return None
    key = _history(mask, f"Layer {layer_name!r}: its `mask`")
    op = ops.get(key[0])
    if op is None or key[1:] != (0, 0):
        raise ValueError(
            f"Layer {layer_name!r} is called with a mask from {key[0]!r}, which is not the mask "
            "Keras writes for Embedding(mask_zero=True) or Masking; glassnet takes masks only "
            "from those layers")
    return op


def refuse_other_uses(arguments: Any, ops: dict[str, MaskOp], layer_name: str) -> None:
    """Refuses a layer that takes a mask operation's output as an input (``arguments``: its
    node's tensor keys): Keras writes them only as masks."""
    if isinstance(arguments, tuple):
        if arguments[0] in ops:
            raise ValueError(
                f"Layer {layer_name!r} takes the output of the mask operation "
                f"{arguments[0]!r} as an input; glassnet reads mask operations only as masks")
        return
    for item in arguments:
        refuse_other_uses(item, ops, layer_name)


def check_mask_source(node: Any, op: MaskOp, made: dict, layer_name: str) -> None:
    """Checks that glassnet hands the layer's ``node`` (a ``GraphNode``) the mask that the
    file's operations ``op`` compute: that of the ``Embedding(mask_zero=True)`` (a
    ``NotEqual`` with 0) or ``Masking`` (an ``Any`` of a ``NotEqual`` with its
    ``mask_value``) whose input is the tensor the operations compare.

    Raises:
        ValueError: when glassnet would hand it another mask or none.
    """
    source = node.mask_from
    compared = made.get(op.tensor)
    layer = getattr(source, "layer", None)
    if op.any_feature:
        fits = (type(layer).__name__ == "Masking"
                and float(getattr(layer, "mask_value", float("nan"))) == op.value)
    else:
        fits = bool(getattr(layer, "mask_zero", False)) and op.value == 0.0
    if not fits or compared is None or source.input_tensors[0] is not compared:
        form = (f"any(x != {op.value}, axis=-1), Masking's" if op.any_feature
                else f"x != {op.value:g}, Embedding(mask_zero=True)'s")
        raise ValueError(
            f"Layer {layer_name!r} is called in the file with the mask {form} of tensor "
            f"{list(op.tensor)}, which is not the mask glassnet hands it from the layers before "
            f"it ({'none' if layer is None else repr(layer.name)})")
