"""Symbolic tensors: how the functional API describes a graph before any data flows.

``Input(shape=(3,))`` returns a ``KerasTensor``: a shape and a dtype, no values. Calling a
layer on one builds the layer for that shape and returns another ``KerasTensor``, and
remembers the call as a ``GraphNode`` (which layer, on which tensors, giving which). A
``Functional`` model (``glassnet.engine.functional``) walks these nodes from its outputs back
to its inputs and then runs the same layers on arrays, recording one ``glassnet.ops`` node per
call, so training, the glass box and custom loops all read one tape.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class KerasTensor:
    """The symbolic output of a layer: ``shape`` (batch axis ``None``), ``dtype``, ``name``.

    ``node`` is the ``GraphNode`` that made it and ``index`` its place among that node's
    outputs.
    """

    def __init__(self, shape, dtype: str = "float32", name: str | None = None, node=None,
                 index: int = 0) -> None:
        self.shape = tuple(shape)
        self.dtype = str(dtype)
        self.name = name
        self.node = node
        self.index = index
        #: the mask Keras would attach to this tensor (``glassnet.layers.masks.MaskSource``,
        #: ``where`` the ``GraphNode`` that made it), or ``None``
        self.mask_source = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def row_shape(self) -> tuple:
        """The shape without the batch axis."""
        return self.shape[1:]

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{self!r} is symbolic: it has a shape but no values. Build a model with "
            "glassnet.Model(inputs, outputs) and call it (or predict) on arrays"
        )

    def numpy(self):
        self.__array__()


class GraphNode:
    """One call of ``layer`` on symbolic tensors: ``inputs`` (a tensor, or a list of them),
    ``outputs`` (a list of tensors) and the keyword arguments given (``training``...)."""

    def __init__(self, layer: Any, inputs: Any, outputs: list[KerasTensor], kwargs: dict) -> None:
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
        self.kwargs = kwargs
        #: for the call of a layer that reads a mask (a recurrent layer skipping masked steps,
        #: ``GlobalAveragePooling1D``): the ``GraphNode`` whose layer makes the mask (from
        #: that node's input), else ``None``
        self.mask_from: GraphNode | None = None

    @property
    def input_tensors(self) -> list[KerasTensor]:
        """The node's inputs as a flat list."""
        return flatten(self.inputs)

    def __repr__(self) -> str:
        return f"<GraphNode layer={getattr(self.layer, 'name', self.layer)!r}>"


def flatten(structure: Any) -> list:
    """The leaves of a nested list/tuple/dict, in order (dicts by key order)."""
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in flatten(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in flatten(value)]
    return [structure]


def is_symbolic(inputs: Any) -> bool:
    """Whether ``inputs`` (a tensor or a structure of them) holds a ``KerasTensor``."""
    if isinstance(inputs, KerasTensor):
        return True
    if isinstance(inputs, (list, tuple, dict)):
        return any(isinstance(leaf, KerasTensor) for leaf in flatten(inputs))
    return False


def input_tensor(layer: Any, shape: tuple, dtype: str, name: str) -> KerasTensor:
    """The tensor an ``InputLayer`` gives: made by a node without inputs."""
    tensor = KerasTensor((None, *shape), dtype, name)
    node = GraphNode(layer, [], [tensor], {})
    tensor.node = node
    layer.inbound_nodes.append(node)
    return tensor


def symbolic_call(layer: Any, inputs: Any, kwargs: dict) -> Any:
    """Calls ``layer`` on symbolic ``inputs``: builds it for their shapes (or checks them
    against the shapes it was built for) and returns its symbolic output.

    Raises:
        ValueError: naming the layer and both shapes when the input does not fit.
    """
    tensors = flatten(inputs)
    for tensor in tensors:
        if not isinstance(tensor, KerasTensor):
            raise TypeError(
                f"Layer {layer.name!r} was called on a mix of symbolic tensors and "
                f"{type(tensor).__name__}; in a functional model every input must come from "
                "Input(...) or another layer"
            )
    from glassnet.layers import masks

    # Keras hands on the mask of the first input (merging layers combine all of theirs,
    # which glassnet refuses as ``uses``)
    incoming = next((t.mask_source for t in tensors if t.mask_source is not None), None)
    masks.mask_after(layer, incoming, None)  # refuses a mask glassnet cannot follow, first
    multi = isinstance(inputs, (list, tuple))
    shapes = [t.row_shape for t in tensors] if multi else tensors[0].row_shape
    layer.build_symbolic(shapes)
    out_shape = layer.output_shape_for(shapes)
    if _is_multi_shape(out_shape):
        outputs = [KerasTensor((None, *s), "float32") for s in out_shape]
    else:
        outputs = [KerasTensor((None, *out_shape), "float32")]
    node = GraphNode(layer, inputs if multi else tensors[0], outputs, dict(kwargs))
    leaving = masks.mask_after(layer, incoming, node)
    if incoming is not None and masks.mask_rule(layer) in masks.READS_MASK:
        node.mask_from = incoming.where
    for index, tensor in enumerate(outputs):
        tensor.node = node
        tensor.index = index
        tensor.name = layer.name if len(outputs) == 1 else f"{layer.name}_{index}"
        tensor.mask_source = leaving
    layer.inbound_nodes.append(node)
    return outputs if len(outputs) > 1 else outputs[0]


def _is_multi_shape(shape: Any) -> bool:
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))


def row_shapes_text(shapes: Any) -> str:
    """Shapes with the batch axis, as Keras prints them: ``(None, 3)``."""
    if isinstance(shapes, list):
        return ", ".join(row_shapes_text(s) for s in shapes)
    return str((None, *shapes))


def same_shape(a: tuple, b: tuple) -> bool:
    return tuple(np.atleast_1d(a)) == tuple(np.atleast_1d(b))
