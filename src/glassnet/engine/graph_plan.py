"""How a functional or subclassed model runs: its layers called in order on one tape.

A ``Sequential`` model runs through a ``Plan`` of fused steps (``glassnet.engine.plan``). A
model built as a graph (``Functional``) or written as ``call`` (a subclassed model) runs
through a ``GraphPlan``: every layer is called on its inputs with a fresh ``Tape`` active, so
each call leaves one node (a layer used twice leaves two, ops used between layers leave
theirs), and backward is ``Tape.backward`` from the outputs. Weights that a subclass made with
``add_weight`` and uses in ops get their slopes from the tape's leaf slopes.

A ``GraphPlan`` answers what the trainers ask of a plan (``forward``, ``backward``, ``tape``,
``record_loss``...); its loss is never fused with the output's activation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet.ops.node import Node
from glassnet.ops.tape import Tape, recording


class GraphPlan:
    """Runs ``model._run_inline(inputs, training)`` on a tape of its own per pass.

    Args:
        model: a ``Functional`` or subclassed model (built).
    """

    fold_first = False
    output_is_buffer = False

    def __init__(self, model: Any) -> None:
        self.model = model
        self.layers = list(model._layers)
        self.steps = self.layers
        self._call_based = [layer for layer in self.layers if layer._is_call_based()]
        self._local = threading.local()

    @property
    def tape(self) -> Tape:
        """The nodes of this thread's last pass (and the loss's, after a training step)."""
        tape = getattr(self._local, "tape", None)
        if tape is None:
            tape = self._local.tape = Tape()
        return tape

    def forward(self, x, training: bool = False, logits: bool = False, x_has_ones: bool = False):
        """Runs the model on ``x`` (an array, or a list of arrays for several inputs)."""
        tape = Tape()
        with recording(tape):
            out = self.model._run_inline(x, training)
        self.model._sync_layers()
        self._local.tape = tape
        self._local.output = out
        return out

    def backward(self, grad, from_logits: bool = False) -> dict[int, np.ndarray]:
        """Back-propagates the slope at the output(s) through the last pass, writing every
        weight slope (zero for a layer the output does not depend on)."""
        tape = self._local.tape
        output = self._local.output
        if tape.nodes and tape.nodes[-1].op is not None and _is_loss_node(tape.nodes[-1]):
            nodes, tape.nodes = tape.nodes, tape.nodes[:-1]
            try:
                leaves = tape.backward(output, grad)
            finally:
                tape.nodes = nodes
        else:
            leaves = tape.backward(output, grad)
        for layer in self.layers:
            if id(layer) not in tape.reached and layer.grads and not any(
                node.op is layer for node in tape.nodes
            ):
                for g in layer.grads.values():
                    g[...] = 0
        for layer in self._call_based:
            for name, g in layer.grads.items():
                slope = leaves.get(id(layer.values[name]))
                g[...] = 0 if slope is None else slope
        return leaves

    def record_loss(self, loss, inputs, value, records) -> None:
        """Adds the loss's node to the tape of the pass that just ran."""
        self._local.tape.nodes.append(_LossNode(loss, inputs, value, records))

    def set_prediction(self, a) -> None:
        raise RuntimeError("a graph model's loss is never fused with its output activation")

    def output_record(self):
        return None

    def layer_outputs(self) -> Iterator[tuple[Any, np.ndarray]]:
        for node in self.tape.nodes:
            if not _is_loss_node(node):
                yield node.op, node.output

    def can_fuse(self, loss) -> bool:
        return False


class _LossNode(Node):
    """The loss's node on a graph model's tape (read by the glass box, skipped by backward)."""

    __slots__ = ()


def _is_loss_node(node: Node) -> bool:
    return isinstance(node, _LossNode)
