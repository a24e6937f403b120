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

from glassnet.engine.dense_chain import DenseChain, DenseSiblings
from glassnet.engine.row_chunks import WORKERS, RowChunkRun
from glassnet.layers.base import Layer, as_float_array
from glassnet.layers.merging import Concatenate
from glassnet.ops.node import Node
from glassnet.ops.tape import Tape, recording
from glassnet.ops.tensor import as_tensor, plain


class GraphPlan:
    """Runs ``model._run_inline(inputs, training)`` on a tape of its own per pass.

    Args:
        model: a ``Functional``, subclassed or ``Sequential`` model (built).
        layers: the leaf layers whose weights the model holds (default: ``model._layers``;
            a ``Sequential`` holding a model passes its layers with nested models opened up).
    """

    fold_first = False
    output_is_buffer = False

    def __init__(self, model: Any, layers: list | None = None) -> None:
        self.model = model
        self.layers = list(model._layers if layers is None else layers)
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
            if isinstance(node.op, DenseChain):
                for layer, _, output, _ in node.records.layer_passes():
                    yield layer, output
            elif not _is_loss_node(node):
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
    that fed several steps and of layers called more than once. Each step computes what
    its layers' own ``forward`` and ``backward`` compute, and leaves one node per step on
    ``tape`` for the glass box (reused, as ``Plan``'s), overwritten by the next pass.

    Two fusions make a graph of ``Dense`` layers run as a ``Sequential`` stack does:

    * ``Dense`` layers that read the same value, share an element-wise activation and feed
      only a ``Concatenate`` that joins them (in its order, along the last axis) become one
      ``DenseSiblings`` member: one product for their nodes, one for their weight slopes.
    * Runs of ``Dense`` layers (and such siblings) that feed only each other become one
      ``DenseChain`` step; a chain that alone reads the model's only input folds the first
      bias into its product, and ``fit`` then gathers batches with a column of ones.

    And runs of image layers that feed only each other (convolutions, poolings,
    ``Flatten``...) become one ``RowChunkRun`` step, as in a ``Sequential`` plan: chunks of
    rows through the whole run, side by side on every core.

    A step that reads a mask (a recurrent layer or ``GlobalAveragePooling1D``,
    ``GraphNode.mask_from``, see ``glassnet.layers.masks``) gets it from the mask layer's
    input slot of the same pass.
    """

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        slot_of: dict[int, int] = {}
        for tensor in model.inputs:
            slot_of[id(tensor)] = len(slot_of)
        self._input_slots = [slot_of[id(t)] for t in model.inputs]
        steps = []
        #: ``{output slot of a step reading a mask: (mask layer, the slot of its input)}``
        self._mask_from: dict[int, tuple] = {}
        for node in model._nodes:
            multi = isinstance(node.inputs, (list, tuple))
            sources = tuple(slot_of[id(t)] for t in node.input_tensors)
            for tensor in node.outputs:
                slot_of[id(tensor)] = len(slot_of)
            targets = tuple(slot_of[id(t)] for t in node.outputs)
            if node.mask_from is not None:
                source = node.mask_from
                self._mask_from[targets[0]] = (
                    source.layer, slot_of[id(source.input_tensors[0])])
            # The slope at a step's input is needed unless every input is a model input.
            needs_input = any(s not in self._input_slots for s in sources)
            steps.append((node.layer, sources, multi, targets, needs_input))
        self._output_slots = [slot_of[id(t)] for t in model.outputs]
        self._slots = len(slot_of)
        storage = model.storage
        spans = {(layer, weight): (start, stop) for layer, weight, start, stop in storage.slices}
        steps = self._join_siblings(steps, storage, spans)
        steps = self._fuse_dense_runs(steps, storage, spans)
        self._steps = steps = self._chunk_image_runs(steps)
        #: Whether a step runs on chunks of rows in worker threads (``Plan._chunked``).
        self._chunked = WORKERS.size > 1 and any(
            isinstance(step[0], RowChunkRun) for step in steps
        )
        self._forward_calls = [step[0].forward for step in steps]
        self._backward_calls = [step[0].backward for step in steps]
        self._prepare_passes()

    def _prepare_passes(self) -> None:
        """What a pass loops over, looked up once: per step its bound method, its input
        slot (or slots), its output slot, and what backward must take care of."""
        steps = self._steps
        folding = [isinstance(step[0], DenseChain) and step[0].fold_first for step in steps]
        #: Whether batches may end in a column of ones (the one chain that reads the
        #: model's only input folds its first bias).
        self.fold_first = any(folding)
        self._forward_plan = [
            (self._forward_calls[i], sources if multi else sources[0], multi, targets[0],
             folding[i], self._mask_from.get(targets[0]))
            for i, (_, sources, multi, targets, _) in enumerate(steps)
        ]
        calls: dict[int, int] = {}
        for step in steps:
            calls[id(step[0])] = calls.get(id(step[0]), 0) + 1
        self._backward_plan = [
            (self._backward_calls[i], sources if multi else sources[0], multi, targets[0],
             needs_input, calls[id(layer)] > 1, _written_by(layer))
            for i, (layer, sources, multi, targets, needs_input) in enumerate(steps)
        ][::-1]
        run = {key for step in steps for key in _written_by(step[0])}
        #: Layers no step runs (their slopes are zero after every backward).
        self._never_run = [layer for layer in self.layers if id(layer) not in run]
        self._one_input = len(self._input_slots) == 1
        self._one_output = len(self._output_slots) == 1
        #: A lone output is returned as the step left it (maybe a buffer the next pass
        #: overwrites); several are copies.
        self.output_is_buffer = self._one_output
        self._dtype = self.model.storage.parameters.dtype
        #: The chain, when the whole graph is one (a pass then calls it directly).
        self._only_chain = None
        if (
            len(steps) == 1
            and isinstance(steps[0][0], DenseChain)
            and self._one_input
            and self._one_output
            and not self._never_run
        ):
            self._only_chain = steps[0][0]

    def _join_siblings(self, steps: list, storage, spans: dict) -> list:
        """Each ``Concatenate`` whose inputs are the outputs of sibling ``Dense`` layers
        (``DenseSiblings.siblings``: the same input value, one element-wise activation),
        read by nothing else and called once, becomes one ``DenseSiblings`` step in its
        place: one product for all the siblings' nodes."""
        producer: dict[int, int] = {}
        readers: dict[int, int] = {}
        calls: dict[int, int] = {}
        for index, (layer, sources, _, targets, _) in enumerate(steps):
            for slot in sources:
                readers[slot] = readers.get(slot, 0) + 1
            for slot in targets:
                producer[slot] = index
            calls[id(layer)] = calls.get(id(layer), 0) + 1
        joined: dict[int, tuple] = {}
        dropped: set[int] = set()
        for index, (layer, sources, multi, targets, _) in enumerate(steps):
            if (
                type(layer) is not Concatenate
                or not multi
                or calls[id(layer)] != 1
                or not _joins_rows(layer)
                or len(set(sources)) != len(sources)
                or any(s not in producer or readers[s] != 1 for s in sources)
                or any(s in self._output_slots for s in sources)
            ):
                continue
            parts = [producer[s] for s in sources]
            siblings = [steps[part] for part in parts]
            source = siblings[0][1]
            if any(step[2] or step[1] != source or calls[id(step[0])] != 1 for step in siblings):
                continue
            layers = [step[0] for step in siblings]
            if not DenseSiblings.siblings(layers, spans):
                continue
            group = DenseSiblings(layers, layer, storage, spans)
            joined[index] = (group, source, False, targets, source[0] not in self._input_slots)
            dropped.update(parts)
        return [joined.get(i, step) for i, step in enumerate(steps) if i not in dropped]

    def _fuse_dense_runs(self, steps: list, storage, spans: dict) -> list:
        """Runs of ``Dense`` layers that feed only each other become one ``DenseChain`` step
        (as in ``Plan``): the chain's fewer NumPy calls and reused buffers."""
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
            if len(run) >= 2 or (run and isinstance(run[0][0], DenseSiblings)):
                source = run[0][1][0]
                # The only reader of the model's only input may take it with ones.
                fold = self._input_slots == [source] and readers[source] == 1
                chain = DenseChain(
                    [step[0] for step in run], storage, spans, first=False, fold=fold
                )
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

    def _chunk_image_runs(self, steps: list) -> list:
        """Runs of row-independent layers that feed only each other and hold an image
        layer become one ``RowChunkRun`` step (as in ``Plan``): chunks of rows through
        every layer of the run, side by side on every core."""
        readers: dict[int, int] = {}
        calls: dict[int, int] = {}
        for step in steps:
            for slot in step[1]:
                readers[slot] = readers.get(slot, 0) + 1
            calls[id(step[0])] = calls.get(id(step[0]), 0) + 1
        chunked: list = []
        run: list = []

        def close() -> None:
            layers = [step[0] for step in run]
            if run and RowChunkRun.worth_it(layers):
                chunked.append((RowChunkRun(layers), run[0][1], False, run[-1][3], run[0][4]))
            else:
                chunked.extend(run)
            run.clear()

        for step in steps:
            layer, sources, multi, targets, _ = step
            fits = (
                not multi
                and isinstance(layer, Layer)
                and calls[id(layer)] == 1
                and RowChunkRun.takes(layer)
                and targets[0] not in self._mask_from  # a mask's reader runs on its own
            )
            joins = (
                run
                and sources[0] == run[-1][3][0]
                and readers.get(sources[0], 0) == 1
                and sources[0] not in self._output_slots
            )
            if fits and joins:
                run.append(step)
                continue
            close()
            if fits:
                run.append(step)
            else:
                chunked.append(step)
        close()
        return chunked

    @staticmethod
    def takes(model: Any) -> bool:
        """Whether every layer of ``model``'s graph can run as a compiled step."""
        from glassnet.engine.model import Model

        return all(
            not isinstance(node.layer, Model) and not node.layer._is_call_based()
            and len(node.outputs) == 1
            for node in model._nodes
        )

    def _step_slots(self) -> _StepSlots:
        """This thread's node slots, made on its first pass."""
        try:
            return self._local.slots
        except AttributeError:
            slots = self._local.slots = _StepSlots(self._steps)
            self._local.tape = slots.tape
            return slots

    @property
    def tape(self) -> Tape:
        """The nodes of this thread's last pass (and the loss's, after a training step)."""
        return self._step_slots().tape

    def forward(self, x, training: bool = False, logits: bool = False, x_has_ones: bool = False):
        if self._chunked:  # BLAS on one thread while the row workers run (see Plan)
            with WORKERS.single_threaded_blas():
                return self._forward(x, training, x_has_ones)
        return self._forward(x, training, x_has_ones)

    def _forward(self, x, training: bool, x_has_ones: bool):
        try:
            slots = self._local.slots
        except AttributeError:
            slots = self._step_slots()
        nodes = slots.step_nodes
        slots.tape.nodes = nodes
        plain_batch = type(x) is np.ndarray and x.dtype == self._dtype
        if plain_batch and self._only_chain is not None:  # a graph that is one chain
            node = nodes[0]
            out, node.records = self._only_chain.forward(x, training, x_has_ones)
            node.inputs, node.output = x, out
            return out
        values: list = [None] * self._slots
        if plain_batch and self._one_input:
            values[self._input_slots[0]] = x  # a batch as fit gives it
        else:
            arrays = self.model._split_inputs(x)
            for slot, array in zip(self._input_slots, arrays, strict=True):
                values[slot] = plain(as_float_array(array))
        for (call, sources, multi, target, folds, mask_from), node in zip(
            self._forward_plan, nodes, strict=True
        ):
            given = tuple([values[s] for s in sources]) if multi else values[sources]
            if folds and x_has_ones:
                out, records = call(given, training, True)
            elif mask_from is not None:
                out, records = call(given, training, mask=self._mask(mask_from, values))
            else:
                out, records = call(given, training)
            values[target] = out
            node.inputs, node.output, node.records = given, out, records
        if self._one_output:
            return values[self._output_slots[0]]
        return [values[s].copy() for s in self._output_slots]  # a list is the caller's

    def backward(self, grad, from_logits: bool = False) -> dict[int, np.ndarray]:
        if self._chunked:
            with WORKERS.single_threaded_blas():
                return self._backward(grad)
        return self._backward(grad)

    def _backward(self, grad) -> dict[int, np.ndarray]:
        if self._only_chain is not None:  # its input is the model's: no slope needed
            self._only_chain.backward(self._local.slots.step_nodes[0].records, grad, False)
            return {}
        slopes: list = [None] * self._slots
        if self._one_output:
            slopes[self._output_slots[0]] = grad
        else:
            for slot, g in zip(self._output_slots, grad, strict=True):
                slopes[slot] = g if slopes[slot] is None else slopes[slot] + g
        nodes = self._local.slots.step_nodes
        last = len(nodes) - 1
        ran: set[int] | None = None  # layers whose backward ran, once a step was passed by
        shared: set[int] = set()  # layers called more than once whose slopes are written
        for offset, (call, sources, multi, target, needs_input, reused, writes) in enumerate(
            self._backward_plan
        ):
            g = slopes[target]
            if g is None:  # this step does not lead to an output
                if ran is None:
                    ran = set()
                    for step in self._backward_plan[:offset]:
                        ran.update(step[6])
                continue
            if reused and writes[0] in shared:  # keep its later call's slopes
                layer = self._steps[last - offset][0]
                earlier = [w.copy() for w in getattr(layer, "grads", {}).values()]
                grad_in = call(nodes[last - offset].records, g, needs_input)
                for w, before in zip(getattr(layer, "grads", {}).values(), earlier, strict=True):
                    w += before
            else:
                grad_in = call(nodes[last - offset].records, g, needs_input)
                if reused:
                    shared.add(writes[0])
            if ran is not None:
                ran.update(writes)
            if grad_in is None:
                continue
            if multi:
                for slot, slope in zip(sources, grad_in, strict=True):
                    if slope is not None:
                        slopes[slot] = slope if slopes[slot] is None else slopes[slot] + slope
            elif slopes[sources] is None:
                slopes[sources] = grad_in
            else:
                slopes[sources] = slopes[sources] + grad_in
        unwritten = self._never_run
        if ran is not None:
            unwritten = [layer for layer in self.layers if id(layer) not in ran]
        for layer in unwritten:
            for w in layer.grads.values():
                w[...] = 0
        return {}

    @staticmethod
    def _mask(mask_from: tuple, values: list) -> np.ndarray:
        """The mask a step reads: its mask layer's ``compute_mask`` of that layer's
        input in this pass."""
        layer, slot = mask_from
        return layer.compute_mask(plain(values[slot]))

    def record_loss(self, loss, inputs, value, records) -> None:
        slots = self._local.slots
        node = slots.loss_node
        node.op, node.inputs, node.output, node.records = loss, inputs, value, records
        slots.tape.nodes = slots.with_loss

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
            mask_from = self._mask_from.get(targets[0])
            if mask_from is not None:
                mask = self._mask(mask_from, values)
                out, records = self._forward_calls[index](computed, training, mask=mask)
            else:
                out, records = self._forward_calls[index](computed, training)
            out = as_tensor(out.copy() if isinstance(op, DenseChain) or out is computed else out)
            tape.record(op, given, out, records)
            values[targets[0]] = out
        outputs = [values[s] for s in self._output_slots]
        return outputs if len(outputs) > 1 else outputs[0]


class _StepSlots:
    """One thread's node slots of a compiled graph: one per step, one for the loss, and the
    tape that lists them (without the loss node after a pass that computed no loss)."""

    __slots__ = ("step_nodes", "loss_node", "with_loss", "tape")

    def __init__(self, steps: list) -> None:
        self.step_nodes = [Node(step[0]) for step in steps]
        self.loss_node = _LossNode(None)
        self.with_loss = [*self.step_nodes, self.loss_node]
        self.tape = Tape()
        self.tape.nodes = self.step_nodes


def _written_by(op: Any) -> tuple[int, ...]:
    """``id`` of ``op`` and of every layer whose slopes its backward writes (a chain's)."""
    return (id(op), *(id(layer) for layer in getattr(op, "layers", ())))


def _joins_rows(concat: Concatenate) -> bool:
    """Whether ``concat`` joins vectors (rows of one axis) side by side."""
    shapes = concat.input_shape
    return (
        isinstance(shapes, list)
        and all(len(shape) == 1 for shape in shapes)
        and concat.axis in (-1, 1)
    )
