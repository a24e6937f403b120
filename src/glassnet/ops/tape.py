"""The tape: the list of nodes a forward pass recorded, and the backward pass over it.

Calling a layer runs its ``forward(x, training)``, which returns ``(output, records)``; when
a tape is active the call appends one ``Node`` to it. Layers keep no per-call state, so a
layer used twice leaves two nodes. ``Tape.backward`` walks the nodes in reverse and calls
each op's hand-written ``backward(records, grad, need_grad_input)``, adding slopes where a
value fed two nodes. An op of several inputs records them as a tuple, and its backward
returns a tuple of slopes in the same order; a ``None`` among them (a constant input) is
skipped, and a value of integers or booleans never gets a slope.

Compiled models (``Sequential``) do not append: their plan owns one node slot per step,
made once and overwritten by every pass, and walks them the same way (see
``glassnet.engine.plan``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from glassnet.ops.node import Node

_local = threading.local()


class Tape:
    """Nodes in the order they ran."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        #: ``id`` of each op whose backward ran in the last ``backward``.
        self.reached: set[int] = set()

    def record(self, op: Any, inputs: Any, output: Any, records: Any) -> Node:
        """Appends a node and returns it."""
        node = Node(op, inputs, output, records)
        self.nodes.append(node)
        return node

    def backward(self, output: Any, grad: Any) -> dict[int, np.ndarray]:
        """Back-propagates ``grad``, the slope of a loss at ``output``, through the nodes.

        ``output`` may be a list of values (a model of several outputs) with ``grad`` the
        list of their slopes. Afterwards ``reached`` holds ``id`` of every op whose
        backward ran.

        Each op writes the slopes of its own weights into the gradient views it is bound to:
        summed over its nodes when it ran more than once, zero when none of its nodes led to
        ``output``. The slopes at values that were not made by a node (the tape's inputs)
        are returned, keyed by ``id`` of the value.
        """
        pending: dict[int, np.ndarray] = {}
        if isinstance(output, (list, tuple)):
            for value, slope in zip(output, grad, strict=True):
                seen = pending.get(id(value))
                pending[id(value)] = slope if seen is None else seen + slope
        else:
            pending[id(output)] = grad
        made = {id(node.output) for node in self.nodes}
        written: set[int] = set()
        reached: set[int] = set()
        self.reached = reached
        for node in reversed(self.nodes):
            grad_out = pending.pop(id(node.output), None)
            if grad_out is None:
                continue  # this node did not lead to the output
            op = node.op
            earlier = None
            if id(op) in written:  # keep what its later nodes wrote, and add it back
                earlier = [g.copy() for g in _weight_grads(op)]
            grad_in = op.backward(node.records, grad_out, True)
            if earlier is not None:
                for g, before in zip(_weight_grads(op), earlier, strict=True):
                    g += before
            written.add(id(op))
            reached.add(id(op))
            if grad_in is None:
                continue
            if isinstance(node.inputs, tuple):
                pairs = zip(node.inputs, grad_in, strict=True)
            else:
                pairs = ((node.inputs, grad_in),)
            for value, grad_value in pairs:
                if grad_value is None or not _carries_slope(value):
                    continue  # a constant, or integers: no slope to carry
                key = id(value)
                seen = pending.get(key)
                pending[key] = grad_value if seen is None else seen + grad_value
        for node in self.nodes:
            if id(node.op) not in written:
                for g in _weight_grads(node.op):
                    g[...] = 0
                written.add(id(node.op))
        return {key: g for key, g in pending.items() if key not in made}

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)


def _carries_slope(value) -> bool:
    dtype = getattr(value, "dtype", None)
    return dtype is None or dtype.kind not in "biu"


def _weight_grads(op) -> list[np.ndarray]:
    return list(getattr(op, "grads", {}).values())


def active_tape() -> Tape | None:
    """The innermost tape opened by ``recording()`` in this thread, or ``None``."""
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else None


@contextmanager
def recording(tape: Tape | None = None) -> Iterator[Tape]:
    """Records every layer call in this thread onto ``tape`` (a new one by default)."""
    tape = Tape() if tape is None else tape
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(tape)
    try:
        yield tape
    finally:
        stack.pop()
