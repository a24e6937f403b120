"""How a model runs its layers: the one forward and backward path every entry point uses.

A ``Plan`` turns a stack of built layers into steps: each run of layers that a
``DenseChain`` takes (trainable ``Dense`` layers with a bias) becomes one chain, and any
other layer is a step of its own, so ``Dense``-``Dense``-``Dropout``-``Dense`` runs as two
chains around the dropout. ``predict``, ``model(x)``, ``evaluate``, the steps of ``fit``,
``compute_gradients`` and the glass box all call ``Plan.forward``; on the same weights and
the same batch they compute bit-identical numbers.

Every pass leaves its tape: one node per step, in slots made once per thread and
overwritten by the next pass (nothing grows), plus one node for the loss in a pass that
computed one (``record_loss``). When the loss is a cross-entropy fused with the output's
softmax or sigmoid, the last step stops at its logits (``forward(..., logits=True)``), the
loss supplies the prediction, and backward starts from the slope at the logits
(``backward(..., from_logits=True)``).

Masks (``glassnet.layers.masks``): a recurrent layer or ``GlobalAveragePooling1D`` that Keras
would hand the mask of an ``Embedding(mask_zero=True)`` or a ``Masking`` before it gets that
mask from the plan, which computes it from the mask layer's input of the same pass
(``compute_mask``), once per pass, and passes it to the layer's ``forward``; the layer keeps
it in its record, so backward needs nothing more. Those layers, and the layers that make the
masks, run as steps of their own (never in a ``RowChunkRun``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet.engine.dense_chain import DenseChain
from glassnet.engine.row_chunks import WORKERS, RowChunkRun
from glassnet.layers.masks import sequence_mask_routes
from glassnet.ops.node import Node, Record
from glassnet.ops.tape import Tape


class Plan:
    """The steps that run ``layers`` (planned and bound to ``storage``).

    Args:
        layers: the model's layers, in order.
        storage: their ``WeightStorage``.
        chains: run ``Dense`` layers as chains; ``False`` runs every layer on its own
            forward and backward, the plain reference the chains are tested against.
    """

    def __init__(self, layers: list, storage, chains: bool = True) -> None:
        spans = {(layer, weight): (start, stop) for layer, weight, start, stop in storage.slices}
        steps: list[Any] = []
        run: list = []

        rows: list = []

        def close_run() -> None:
            if run:
                steps.append(DenseChain(list(run), storage, spans, first=not steps))
                run.clear()

        def close_rows() -> None:
            if rows and RowChunkRun.worth_it(rows):
                steps.append(RowChunkRun(list(rows)))
            else:
                steps.extend(rows)
            rows.clear()

        last_index = len(layers) - 1
        own_step: dict[int, int] = {}  # a layer's index -> its step's, for a step of its own
        routes = sequence_mask_routes(list(layers))
        # the layers that read a mask and those that make one run as steps of their own
        with_mask = {*routes, *(source.where for source in routes.values())}
        for index, layer in enumerate(layers):
            if chains and DenseChain.takes(layer, spans):
                close_rows()
                run.append(layer)
            elif (chains and index < last_index and RowChunkRun.takes(layer)
                    and index not in with_mask):
                close_run()
                rows.append(layer)
            else:
                close_run()
                close_rows()
                own_step[index] = len(steps)
                steps.append(layer)
        close_run()
        close_rows()
        #: ``{step: step of the mask's layer}`` for the steps that read a mask.
        self.mask_routes = {
            own_step[index]: own_step[source.where]
            for index, source in routes.items()
        }
        #: Chains and layers, in the order they run.
        self.steps = steps
        self.layers = list(layers)
        #: Whether the first step folds its bias into the product: batches may then carry a
        #: column of ones (``fit`` gathers them so, sparing a copy per batch).
        self.fold_first = isinstance(steps[0], DenseChain) and steps[0].fold_first
        last = steps[-1]
        #: Whether the output is a buffer that the next pass overwrites.
        self.output_is_buffer = not isinstance(last, DenseChain) or last.output_is_buffer
        self._output_in_chain = isinstance(last, DenseChain)
        # Each step's bound methods, looked up once (a pass does little but call them).
        self._forward_calls = [step.forward for step in steps]
        self._backward_calls = [step.backward for step in steps]
        to_logits = getattr(last, "forward_logits", None)
        from_z = getattr(last, "backward_from_z", None)
        self._logits_calls = [*self._forward_calls[:-1], to_logits]
        self._from_z_calls = [*self._backward_calls[:-1], from_z]
        self._one_step = len(steps) == 1
        #: Whether a step runs on chunks of rows in worker threads.
        self._chunked = any(isinstance(step, RowChunkRun) for step in steps) and WORKERS.size > 1
        # The first step that holds weights: backward stops there. The steps in front of it
        # (augmentation, rescaling, reshaping before the first weighted layer) have no
        # slopes to write, and the slope at the model's input is never asked of a plan.
        self._first_weighted = next(
            (
                i
                for i, step in enumerate(steps)
                if isinstance(step, DenseChain)
                or getattr(step, "weights", None)
                or (isinstance(step, RowChunkRun) and any(la.weights for la in step.layers))
            ),
            len(steps),
        )
        #: The chain, when it is the only step (called without the general loop).
        self._only_chain = last if self._one_step and self._output_in_chain else None
        self._local = threading.local()

    # --- the tape -----------------------------------------------------------------------

    def _slots(self) -> _Slots:
        """This thread's node slots, made on its first pass."""
        try:
            return self._local.slots
        except AttributeError:
            slots = self._local.slots = _Slots(self.steps)
            return slots

    @property
    def tape(self) -> Tape:
        """The last pass of this thread: one node per step (and one for the loss)."""
        return self._slots().tape

    def record_loss(self, loss, inputs, value: float, records: Any) -> None:
        """Adds the loss's node to the tape of the pass that just ran."""
        slots = self._local.slots
        node = slots.loss_node
        node.op, node.inputs, node.output, node.records = loss, inputs, value, records
        slots.tape.nodes = slots.with_loss

    # --- the passes ---------------------------------------------------------------------

    def forward(
        self,
        x: np.ndarray,
        training: bool = False,
        logits: bool = False,
        x_has_ones: bool = False,
    ) -> np.ndarray:
        """Runs every step; returns the output (the last step's logits with ``logits``).

        Args:
            x: a batch; ends in a column of ones when ``x_has_ones`` (only when
                ``fold_first``).
            training: layers in training mode (dropout active, batch statistics); a
                ``backward`` may follow.
            logits: stop the output step at its logits, for a fused loss.
        """
        if self._chunked:
            # BLAS stays on one thread for the whole pass: the row workers use the cores,
            # and an OpenBLAS thread woken by a product between two runs would spin on
            # a core they need
            with WORKERS.single_threaded_blas():
                return self._forward(x, training, logits, x_has_ones)
        return self._forward(x, training, logits, x_has_ones)

    def _forward(self, x, training, logits, x_has_ones):
        try:
            slots = self._local.slots
        except AttributeError:
            slots = self._slots()
        nodes = slots.step_nodes
        slots.tape.nodes = nodes
        node = nodes[0]
        node.inputs = x
        if self._only_chain is not None:  # the common case: a model of Dense layers
            x, node.records = self._only_chain.forward(x, training, x_has_ones, logits)
            node.output = x
            return x
        calls = self._logits_calls if logits else self._forward_calls
        if self.mask_routes:
            return self._forward_with_masks(nodes, calls, x, training, x_has_ones)
        if x_has_ones:
            x, node.records = calls[0](x, training, True)
        else:
            x, node.records = calls[0](x, training)
        node.output = x
        if self._one_step:
            return x
        for i in range(1, len(nodes)):
            node = nodes[i]
            node.inputs = x
            x, node.records = calls[i](x, training)
            node.output = x
        return x

    def _forward_with_masks(self, nodes, calls, x, training, x_has_ones):
        """The pass of a plan whose recurrent layers read a mask (see the module docstring)."""
        masks: dict[int, np.ndarray] = {}
        for i, node in enumerate(nodes):
            node.inputs = x
            source = self.mask_routes.get(i)
            if source is not None:
                mask = masks.get(source)
                if mask is None:
                    mask = masks[source] = self.step_mask(source, nodes[source].inputs)
                x, node.records = calls[i](x, training, mask=mask)
            elif i == 0 and x_has_ones:
                x, node.records = calls[0](x, training, True)
            else:
                x, node.records = calls[i](x, training)
            node.output = x
        return x

    def step_mask(self, source: int, inputs) -> np.ndarray:
        """The mask that step ``source`` (an ``Embedding(mask_zero=True)`` or ``Masking``)
        makes from its ``inputs``."""
        return self.steps[source].compute_mask(inputs)

    def backward(self, grad: np.ndarray, from_logits: bool = False) -> None:
        """Back-propagates the slope at the output (at the logits with ``from_logits``)
        through every step of this thread's last pass, writing every weight slope."""
        if self._chunked:
            with WORKERS.single_threaded_blas():
                self._backward(grad, from_logits)
        else:
            self._backward(grad, from_logits)

    def _backward(self, grad: np.ndarray, from_logits: bool) -> None:
        nodes = self._local.slots.step_nodes
        if self._only_chain is not None:
            self._only_chain.backward(nodes[0].records, grad, False, from_logits)
            return
        calls = self._from_z_calls if from_logits else self._backward_calls
        if self._one_step:
            calls[0](nodes[0].records, grad, False)
            return
        first = self._first_weighted
        for i in range(len(nodes) - 1, first - 1, -1):
            grad = calls[i](nodes[i].records, grad, i > first)

    # --- reading the records ------------------------------------------------------------

    def set_prediction(self, a: np.ndarray) -> None:
        """Records ``a`` as the output layer's output (what a fused loss computed)."""
        records = self._local.slots.step_nodes[-1].records
        (records.records[-1] if self._output_in_chain else records).a = a

    def output_record(self) -> Record | None:
        """The output layer's record of the last pass (``None`` when it keeps none)."""
        records = self._slots().step_nodes[-1].records
        if self._output_in_chain:
            return records.records[-1]
        return records if isinstance(records, Record) else None

    def layer_outputs(self) -> Iterator[tuple[Any, np.ndarray]]:
        """``(layer, output)`` of the last pass, layer by layer."""
        for node in self._slots().step_nodes:
            if isinstance(node.op, (DenseChain, RowChunkRun)):
                for layer, _, output, _ in node.records.layer_passes():
                    yield layer, output
            else:
                yield node.op, node.output

    def can_fuse(self, loss) -> bool:
        """Whether ``loss`` is a cross-entropy fused with the output's own activation.

        The fused cross-entropies know only a softmax over the last axis; one over any
        other axis (``Softmax(axis=0)``, ``axis=1`` of a 3-D output) takes the plain loss.
        """
        last = self.layers[-1]
        activation = getattr(last, "activation", None)
        if activation is None:
            return False
        axis = getattr(activation, "axis", -1)
        over_last_axis = axis == -1 or axis == len(last.output_shape or ())
        return (
            loss.fused_activation is not None
            and not getattr(loss, "from_logits", False)
            and activation.name == loss.fused_activation
            and over_last_axis
            and hasattr(self.steps[-1], "forward_logits")
        )


class _Slots:
    """One thread's node slots: one per step, one for the loss, and the tape that lists
    them (without the loss node after a pass that computed no loss)."""

    __slots__ = ("step_nodes", "loss_node", "with_loss", "tape")

    def __init__(self, steps: list) -> None:
        self.step_nodes = [Node(step) for step in steps]
        self.loss_node = Node(None)
        self.with_loss = [*self.step_nodes, self.loss_node]
        self.tape = Tape()
        self.tape.nodes = self.step_nodes
