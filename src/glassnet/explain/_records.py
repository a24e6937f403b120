"""How the glass box reads a pass: the nodes a model's tape holds, layer by layer.

A compiled model leaves one node per step of its plan (``model.tape``): a ``DenseChain``
node holds one ``Record`` per ``Dense`` layer of the chain (siblings joined into one product
each get theirs, their columns of the joint arrays, and the ``Concatenate`` that joined
them its inputs and output), a lone layer's node holds its own records.
``last_pass(model)`` turns the last pass into what the explain tools ask of it: each
layer's ``Record`` (``x``, ``z``, ``a``, ``grad_a``, ``grad_z``), its input and its output.
Arrays are the model's buffers: the explain tools copy what they keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet.engine.dense_chain import ChainRecords, DenseChain
from glassnet.engine.row_chunks import RowChunkRun, RunRecords
from glassnet.explain._common import model_layers
from glassnet.ops.node import Record


@dataclass
class LayerPass:
    """One layer in the last pass: what fed it, what it gave, and its ``Record`` if it
    keeps one (layers of nodes do: ``Dense``, ``Activation``)."""

    layer: Any
    inputs: np.ndarray | None
    output: np.ndarray | None
    record: Record | None = None


@dataclass
class PassReading:
    """The last pass of a model, layer by layer, and whether its loss was fused."""

    layers: list[LayerPass] = field(default_factory=list)
    fused: bool = False

    def of(self, layer) -> LayerPass:
        """The reading of ``layer`` (a layer of the model)."""
        for lp in self.layers:
            if lp.layer is layer:
                return lp
        raise KeyError(layer.name)


def last_pass(model) -> PassReading:
    """The model's last pass in this thread (``model.tape``), layer by layer.

    Example:
        >>> import numpy as np
        >>> from glassnet.explain import from_node_weights, last_pass
        >>> model = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]})
        >>> _ = model.predict(np.array([[2.0, 3.0]]), verbose=0)
        >>> last_pass(model).layers[0].record.z
        array([[5., 1.]])
    """
    reading = PassReading(fused=bool(model.fused_output))
    for node in model.tape.nodes:
        op = node.op
        if isinstance(op, (DenseChain, RowChunkRun)):
            records: ChainRecords | RunRecords = node.records
            for layer, inputs, output, record in records.layer_passes():
                reading.layers.append(LayerPass(layer, inputs, output, record))
        elif any(op is layer for layer in model_layers(model)):
            record = node.records if isinstance(node.records, Record) else None
            output = node.output
            if record is not None and record.a is not None:
                output = record.a  # a fused output: the prediction the loss supplied
            reading.layers.append(LayerPass(op, node.inputs, output, record))
    return reading
