"""``Functional``: a model built as a graph of layer calls, ``Model(inputs, outputs)``.

    inputs = Input(shape=(3,))
    hidden = Dense(4, activation="relu")(inputs)
    outputs = Dense(1)(hidden)
    model = Model(inputs, outputs)

Each layer call on a symbolic tensor left a ``GraphNode`` (``glassnet.layers.symbolic``).
The model walks them back from ``outputs`` to ``inputs`` once, checks that every output can
be computed from the inputs and that every input is used, and keeps the nodes in the order
they can run. A pass calls each node's layer on arrays, on one tape (``GraphPlan``); a layer
called twice shares its weights and sums its slopes.
"""

from __future__ import annotations

import weakref
from typing import Any

from glassnet import config as config_module
from glassnet.engine.graph_plan import CompiledGraphPlan, GraphPlan
from glassnet.engine.model import Model
from glassnet.layers import InputLayer
from glassnet.layers.base import as_float_array
from glassnet.layers.masks import masked_output_error
from glassnet.layers.storage import WeightStorage, frozen_view, shared_view
from glassnet.layers.symbolic import GraphNode, KerasTensor, flatten
from glassnet.naming import unique_name
from glassnet.ops.tape import active_tape
from glassnet.ops.tensor import plain
from glassnet.trainers import Trainer
from glassnet.trainers.multi_output import ArrayGroup


class Functional(Model):
    """A model whose layers form a graph from ``inputs`` to ``outputs``.

    Args:
        inputs: a symbolic tensor from ``Input(...)``, or a list or dict of them.
        outputs: a symbolic tensor computed from the inputs, or a list or dict of them.
        name: the model's name.
        unused_inputs: accept an input that no output uses, as Keras does (glassnet reads
            such graphs from Keras's files; built in Python, it is refused as a mistake).

    Raises:
        ValueError: when an output cannot be computed from the inputs (naming the input
            layer it needs), an input is never used, or an element is not a tensor.
    """

    _graph_from_arguments = False  # already a graph (see ``Model.__new__``)

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True,
                 unused_inputs: bool = False, **kwargs) -> None:
        Trainer.__init__(self)
        self.name = name or unique_name("functional")
        self.trainable = trainable
        self._input_structure = inputs
        self._output_structure = outputs
        self.inputs: list[KerasTensor] = _tensors(inputs, "inputs")
        self.outputs: list[KerasTensor] = _tensors(outputs, "outputs")
        for tensor in self.outputs:
            if tensor.mask_source is not None:
                raise masked_output_error(tensor.node.layer, tensor.mask_source.layer)
        self._nodes, ordered = _nodes_in_order(self.inputs, self.outputs, unused_inputs)
        self._ordered_layers = ordered
        self._input_layers = [layer for layer in ordered if isinstance(layer, InputLayer)]
        self._graph_layers = [layer for layer in ordered if not isinstance(layer, InputLayer)]
        self._layers = leaf_layers(self._graph_layers)
        shapes = [tensor.row_shape for tensor in self.inputs]
        self.input_shape = shapes[0] if len(shapes) == 1 else shapes
        out_shapes = [tensor.row_shape for tensor in self.outputs]
        self.output_shape = out_shapes[0] if len(out_shapes) == 1 else out_shapes
        self.output_names = [tensor.node.layer.name for tensor in self.outputs]
        self.input_names = [tensor.node.layer.name for tensor in self.inputs]
        self._plan_cache = (None, None)
        self.storage = WeightStorage(self._layers, config_module.floatx(), self.trainable)
        self.built = True
        self._storage_changed()

    # --- structure ----------------------------------------------------------------------

    @property
    def layers(self) -> list:
        """Every layer, input layers included, in Keras 3's order (deepest first; a nested
        model appears as one layer), as ``keras.Model.layers``."""
        return list(self._ordered_layers)

    def build(self, input_shape=None) -> None:
        """A functional model is built when it is made; this checks ``input_shape``."""
        return None

    def _make_plan(self):
        if CompiledGraphPlan.takes(self):
            return CompiledGraphPlan(self)
        return GraphPlan(self)

    def _storage_changed(self) -> None:
        share_storage(self._graph_layers, self.storage, self)

    def _trainable_children(self) -> list:
        return list(self.__dict__.get("_graph_layers", []))

    # --- passes -------------------------------------------------------------------------

    def _split_inputs(self, x) -> list:
        """The arrays for ``self.inputs``, from an array, a list or a dict keyed by input
        name."""
        if isinstance(x, ArrayGroup):
            return x.arrays
        if isinstance(x, dict):
            unknown = [key for key in x if key not in self.input_names]
            if unknown:
                raise ValueError(
                    f"Unknown input name {unknown[0]!r}; the model's inputs are "
                    f"{self.input_names}"
                )
            missing = [name for name in self.input_names if name not in x]
            if missing:
                raise ValueError(f"Missing input {missing[0]!r}; the model's inputs are "
                                 f"{self.input_names}")
            return [x[name] for name in self.input_names]
        if len(self.inputs) == 1:
            return [x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x]
        if not isinstance(x, (list, tuple)) or len(x) != len(self.inputs):
            raise ValueError(
                f"The model has {len(self.inputs)} inputs ({self.input_names}); pass a list of "
                f"{len(self.inputs)} arrays or a dict keyed by input name. Received: "
                f"{type(x).__name__}"
            )
        return list(x)

    def _run_inline(self, x, training: bool = False):
        """Runs the graph on arrays with the caller's tape active (every layer call leaves
        its node on it); returns the output, or a list of outputs."""
        arrays = [as_float_array(value) for value in self._split_inputs(x)]
        values: dict[int, Any] = {}
        for tensor, array in zip(self.inputs, arrays, strict=True):
            if array.shape[1:] != tensor.row_shape:
                raise ValueError(
                    f"Input {tensor.name!r} of model {self.name!r} expects rows of shape "
                    f"{tensor.row_shape}; received an array of shape {array.shape}"
                )
            values[id(tensor)] = array
        for node in self._nodes:
            args = _substitute(node.inputs, values)
            layer = node.layer
            if isinstance(layer, Model):
                out = layer._run_inline(args, training)
            elif node.mask_from is not None:  # a layer reading a mask
                source = node.mask_from
                ids = plain(values[id(source.input_tensors[0])])
                out = layer(args, training=training, mask=source.layer.compute_mask(ids))
            else:
                out = layer(args, training=training)
            outs = out if len(node.outputs) > 1 else [out]
            for tensor, value in zip(node.outputs, outs, strict=True):
                values[id(tensor)] = value
        results = [values[id(tensor)] for tensor in self.outputs]
        return results[0] if len(results) == 1 else results

    def _forward_on_tape(self, x, training: bool, tape):
        plan = self.plan
        if isinstance(plan, CompiledGraphPlan):
            out = plan.run_on_tape(x, training, tape)
            if out is not None:
                return out
        return self._run_inline(x, training)

    def _prepare_call_input(self, inputs):
        if active_tape() is not None:  # the caller's objects, which the tape links
            return inputs
        return self._prepare_x(inputs)

    # --- description --------------------------------------------------------------------

    def get_config(self) -> dict:
        """The graph as Keras 3's ``Functional`` config (``layers`` with their
        ``inbound_nodes``, ``input_layers``, ``output_layers``)."""
        from glassnet.engine.functional_config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> Functional:
        """The model again from ``get_config()``'s dict; a nested model of the program's own
        class is rebuilt when it is registered or passed in ``custom_objects``."""
        from glassnet.engine.functional_config import catalog_layer, functional_from_config

        return functional_from_config(config, lambda entry: catalog_layer(entry, custom_objects))

    def __repr__(self) -> str:
        return f"<Functional name={self.name!r} layers={len(self._graph_layers)}>"


def share_storage(layers: list, storage, owner: Model | None = None) -> None:
    """Points every model among ``layers`` (and the models inside them) at its span of the
    outer model's ``storage``, so that both see one set of weights, as in Keras.

    ``owner``, the model that owns ``storage``, is remembered by each nested model: compiling
    a nested model re-packs the owner's storage rather than moving its layers' weights out
    of it (``Model._repack_storage``). A nested model whose ``trainable`` is false gets no
    trainable span (``frozen_view``)."""
    for layer in layers:
        if isinstance(layer, Model):
            inner = leaf_layers(list(layer._layers))
            view = shared_view(storage, inner) if layer.trainable else frozen_view(storage)
            if view is None:
                raise ValueError(
                    f"Model {layer.name!r} cannot share its weights with the outer model: its "
                    "trainable weights are not together in the outer model's storage"
                )
            layer.storage = view
            layer._plan_cache = (None, None)
            layer.optimizer_needs_build = True
            layer.__dict__["_storage_owner"] = None if owner is None else weakref.ref(owner)
            share_storage(list(getattr(layer, "_graph_layers", layer._layers)), storage, owner)


def _tensors(structure, what: str) -> list[KerasTensor]:
    tensors = flatten(structure)
    if not tensors:
        raise ValueError(f"A functional model needs at least one tensor in `{what}`")
    for tensor in tensors:
        if not isinstance(tensor, KerasTensor):
            raise TypeError(
                f"All elements of `{what}` must be symbolic tensors (from Input(...) or a "
                f"layer called on one). Received: {type(tensor).__name__}"
            )
    if what == "inputs":
        for tensor in tensors:
            if not isinstance(tensor.node.layer, InputLayer):
                raise ValueError(
                    f"Model inputs must come from Input(...); {tensor.name!r} is the output "
                    f"of layer {tensor.node.layer.name!r}"
                )
    return tensors


def _nodes_in_order(inputs: list[KerasTensor], outputs: list[KerasTensor],
                    unused_inputs: bool = False):
    """The graph's nodes (without the input layers'), each after the nodes it reads, and its
    layers (input layers included) in Keras 3's order.

    Keras orders a functional model's layers by depth from the outputs, deepest first, and
    layers of equal depth by when a depth-first walk from the outputs first met them
    (``keras/src/ops/function.py``, ``map_graph``); files number their weight groups in
    that order, so glassnet follows it exactly.
    """
    input_ids = {id(t) for t in inputs}
    order: list[GraphNode] = []
    walked: list[GraphNode] = []  # every node, input nodes included, inputs first
    first_seen: dict[int, int] = {}
    done: set[int] = set()
    used_inputs: set[int] = set()
    visiting: set[int] = set()

    def visit(tensor: KerasTensor, consumer: str) -> None:
        node = tensor.node
        first_seen.setdefault(id(node.layer), len(first_seen))
        if id(tensor) in input_ids:
            used_inputs.add(id(tensor))
            if id(node) not in done:
                done.add(id(node))
                walked.append(node)
            return
        if isinstance(node.layer, InputLayer):
            given = ", ".join(repr(t.name) for t in inputs)
            raise ValueError(
                f"Graph disconnected: cannot obtain value for tensor {tensor.name!r} at layer "
                f"{node.layer.name!r}, which layer {consumer!r} needs. The model's inputs are "
                f"[{given}]; add {node.layer.name!r} to them"
            )
        if id(node) in done:
            return
        if id(node) in visiting:
            raise ValueError(f"The graph has a cycle through layer {node.layer.name!r}")
        visiting.add(id(node))
        for tensor_in in node.input_tensors:
            visit(tensor_in, node.layer.name)
        visiting.discard(id(node))
        done.add(id(node))
        order.append(node)
        walked.append(node)

    for tensor in outputs:
        visit(tensor, "the model's output")
    for tensor in inputs:
        if id(tensor) not in used_inputs:
            if not unused_inputs:
                raise ValueError(
                    f"Input {tensor.name!r} is not used to compute any of the model's "
                    "outputs; remove it from `inputs` or connect it"
                )
            # As Keras's map_graph: an unused input layer at depth 0, before the others.
            first_seen[id(tensor.node.layer)] = -1
            walked.insert(0, tensor.node)
    return order, _keras_layer_order(walked, first_seen)


def _keras_layer_order(walked: list[GraphNode], first_seen: dict[int, int]) -> list:
    in_graph = {id(node) for node in walked}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Any] = {}
    for node in reversed(walked):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for tensor in node.input_tensors:
            parent = tensor.node
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)],
                                                     first_seen[id(layer)]))


def _unique(items) -> list:
    seen: set[int] = set()
    unique = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            unique.append(item)
    return unique


def leaf_layers(layers: list) -> list:
    """Every layer that holds weights or runs, nested models opened up, each once."""
    leaves: list = []
    for layer in layers:
        if isinstance(layer, Model):
            leaves += leaf_layers(list(layer._layers))
        else:
            leaves += [layer, *_sublayers(layer)]
    return _unique(leaves)


def _sublayers(layer) -> list:
    """Layers held in attributes of a call-based layer (and theirs)."""
    return layer.nested_layers()


def _substitute(structure, values: dict):
    if isinstance(structure, KerasTensor):
        return values[id(structure)]
    if isinstance(structure, (list, tuple)):
        return [_substitute(item, values) for item in structure]
    if isinstance(structure, dict):
        return {key: _substitute(item, values) for key, item in structure.items()}
    return structure
