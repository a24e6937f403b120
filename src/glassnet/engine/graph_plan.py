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

from glassnet.engine.dense_chain import DenseChain
from glassnet.layers.base import as_float_array
from glassnet.ops.node import Node
from glassnet.ops.tape import Tape, recording
from glassnet.ops.tensor import as_tensor, plain


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
        self._local.output = out  # the nodes' own objects, which backward starts from
        # The trainers compute on plain arrays (a loss on a tensor would wrap every step).
        return [plain(o) for o in out] if isinstance(out, list) else plain(out)

    def backward(self, grad, from_logits: bool = False) -> dict[int, np.ndarray]:
        """Back-propagates the slope at the output(s) through the last pass, writing every
        weight slope (zero for a layer the output does not depend on)."""
        tape = self._local.tape
        # The loss's node (``record_loss``) leads to no layer: backward passes it by.
        leaves = tape.backward(self._local.output, grad)
        on_tape = {id(node.op) for node in tape.nodes}
        for layer in self.layers:
            if id(layer) not in on_tape:  # not called in this pass: its slopes are zero
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


class CompiledGraphPlan(GraphPlan):
    """A functional model's graph compiled into steps over numbered value slots.

    Where every layer of the graph has its own ``forward``/``backward`` (no nested model, no
    layer written as ``call``), a pass needs no tape objects, no dictionaries and no layer
    ``__call__`` checks: each step reads its input slots, runs the layer's ``forward`` and
    fills its output slot; backward walks the steps in reverse, adding the slopes of values
    that fed several steps and of layers called more than once. It computes exactly what the
    tape computes (the same layer methods in the same order), and leaves one node per step on
    ``tape`` for the glass box, as ``Plan`` does.
    """

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        slot_of: dict[int, int] = {}
        for tensor in model.inputs:
            slot_of[id(tensor)] = len(slot_of)
        self._input_slots = [slot_of[id(t)] for t in model.inputs]
        steps = []
        for node in model._nodes:
            multi = isinstance(node.inputs, (list, tuple))
            sources = tuple(slot_of[id(t)] for t in node.input_tensors)
            for tensor in node.outputs:
                slot_of[id(tensor)] = len(slot_of)
            targets = tuple(slot_of[id(t)] for t in node.outputs)
            # The slope at a step's input is needed unless every input is a model input.
            needs_input = any(s not in self._input_slots for s in sources)
            steps.append((node.layer, sources, multi, targets, needs_input))
        self._output_slots = [slot_of[id(t)] for t in model.outputs]
        self._steps = self._fuse_dense_runs(steps, model.storage)
        steps = self._steps
        self._slots = len(slot_of)
        self._forward_calls = [step[0].forward for step in steps]
        self._backward_calls = [step[0].backward for step in steps]

    def _fuse_dense_runs(self, steps: list, storage) -> list:
        """Runs of ``Dense`` layers that feed only each other become one ``DenseChain`` step
        (as in ``Plan``): the chain's fewer NumPy calls and reused buffers."""
        spans = {(layer, weight): (start, stop) for layer, weight, start, stop in storage.slices}
        readers: dict[int, int] = {}
        for _, sources, _, _, _ in steps:
            for slot in sources:
                readers[slot] = readers.get(slot, 0) + 1
        calls: dict[int, int] = {}
        for step in steps:
            calls[id(step[0])] = calls.get(id(step[0]), 0) + 1
        fused: list = []
        run: list = []

        def close() -> None:
            if len(run) >= 2:
                chain = DenseChain([step[0] for step in run], storage, spans, first=False)
                fused.append((chain, run[0][1], False, run[-1][3], run[0][4]))
            else:
                fused.extend(run)
            run.clear()

        for step in steps:
            layer, sources, multi, targets, _ = step
            joins = (
                run
                and not multi
                and sources[0] == run[-1][3][0]
                and readers.get(sources[0], 0) == 1
                and sources[0] not in self._output_slots
            )
            fits = not multi and calls[id(layer)] == 1 and DenseChain.takes(layer, spans)
            if fits and joins:
                run.append(step)
                continue
            close()
            if fits:
                run.append(step)
            else:
                fused.append(step)
        close()
        return fused

    @staticmethod
    def takes(model: Any) -> bool:
        """Whether every layer of ``model``'s graph can run as a compiled step."""
        from glassnet.engine.model import Model

        return all(
            not isinstance(node.layer, Model) and not node.layer._is_call_based()
            and len(node.outputs) == 1
            for node in model._nodes
        )

    def _nodes(self) -> list[Node]:
        nodes = getattr(self._local, "nodes", None)
        if nodes is None:
            nodes = self._local.nodes = [Node(step[0]) for step in self._steps]
        return nodes

    def forward(self, x, training: bool = False, logits: bool = False, x_has_ones: bool = False):
        values: list = [None] * self._slots
        arrays = self.model._split_inputs(x)
        for slot, array in zip(self._input_slots, arrays, strict=True):
            values[slot] = plain(as_float_array(array))
        nodes = self._nodes()
        for index, (_, sources, multi, targets, _) in enumerate(self._steps):
            given = tuple(values[s] for s in sources) if multi else values[sources[0]]
            out, records = self._forward_calls[index](given, training)
            values[targets[0]] = out
            node = nodes[index]
            node.inputs, node.output, node.records = given, out, records
        tape = Tape()
        tape.nodes = list(nodes)
        self._local.tape = tape
        self._local.values = values
        # An output may be a chain's buffer, which the next pass overwrites: the caller's own.
        outputs = [values[s].copy() for s in self._output_slots]
        self._local.output = outputs if len(outputs) > 1 else outputs[0]
        return self._local.output

    def backward(self, grad, from_logits: bool = False) -> dict[int, np.ndarray]:
        slopes: list = [None] * self._slots
        grads = grad if isinstance(grad, list) else [grad]
        for slot, g in zip(self._output_slots, grads, strict=True):
            slopes[slot] = g if slopes[slot] is None else slopes[slot] + g
        nodes = self._nodes()
        written: set[int] = set()
        for index in range(len(self._steps) - 1, -1, -1):
            layer, sources, multi, targets, needs_input = self._steps[index]
            g = slopes[targets[0]]
            if g is None:
                continue  # this step does not lead to an output
            earlier = None
            if id(layer) in written:  # a shared layer: keep its later call's slopes
                earlier = [w.copy() for w in getattr(layer, "grads", {}).values()]
            grad_in = self._backward_calls[index](nodes[index].records, g, needs_input)
            if earlier is not None:
                for w, before in zip(getattr(layer, "grads", {}).values(), earlier, strict=True):
                    w += before
            written.add(id(layer))
            for inner in getattr(layer, "layers", ()):  # a chain wrote its layers' slopes
                written.add(id(inner))
            if grad_in is None:
                continue
            pairs = zip(sources, grad_in, strict=True) if multi else ((sources[0], grad_in),)
            for slot, slope in pairs:
                if slope is None:
                    continue
                slopes[slot] = slope if slopes[slot] is None else slopes[slot] + slope
        for layer in self.layers:
            if id(layer) not in written:
                for w in layer.grads.values():
                    w[...] = 0
        return {}

    def record_loss(self, loss, inputs, value, records) -> None:
        self._local.tape.nodes.append(_LossNode(loss, inputs, value, records))

    def run_on_tape(self, x, training: bool, tape: Tape):
        """The compiled steps with ``tape`` active (``model(x)`` inside a ``GradientTape``):
        one node per step, linked to the caller's objects, so the slopes are ``fit``'s bit
        for bit. ``None`` when a step is already on ``tape`` (the model called twice), whose
        buffers are then in use: the caller runs the layers one by one instead."""
        on_tape = {id(node.op) for node in tape.nodes}
        if any(id(step[0]) in on_tape for step in self._steps):
            return None
        values: list = [None] * self._slots
        arrays = self.model._split_inputs(x)
        for slot, array in zip(self._input_slots, arrays, strict=True):
            values[slot] = as_float_array(array)  # the very object when it is one
        for index, (op, sources, multi, targets, _) in enumerate(self._steps):
            given = tuple(values[s] for s in sources) if multi else values[sources[0]]
            computed = tuple(plain(v) for v in given) if multi else plain(given)
            out, records = self._forward_calls[index](computed, training)
            out = as_tensor(out.copy() if isinstance(op, DenseChain) or out is computed else out)
            tape.record(op, given, out, records)
            values[targets[0]] = out
        outputs = [values[s] for s in self._output_slots]
        return outputs if len(outputs) > 1 else outputs[0]
