"""A functional model's config in Keras 3's form, and the model again from it.

Keras 3 describes a ``Functional`` model as its layers (each with ``inbound_nodes``: the
calls made on it, each naming the tensors it took as ``[layer name, node index, tensor
index]``), ``input_layers`` and ``output_layers`` (``keras/src/models/functional.py``,
``functional_from_config``). Node indices count only the calls that belong to this model.
Rebuilding replays the calls in an order where every input already exists.

The operations Keras 3 writes for the masks of ``Embedding(mask_zero=True)`` and ``Masking``
(``NotEqual``, ``Any``) are read as such and left out (``glassnet.engine.mask_ops``): glassnet
computes those masks itself.

Making the layers is left to the caller (``make_layer``): ``Model.from_config`` trusts the
config and uses the layer catalog (and the program's own model classes, ``catalog_layer``),
``glassnet.saving`` checks every key of a file first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet.engine import mask_ops
from glassnet.layers import LAYER_CLASSES, InputLayer
from glassnet.layers.symbolic import KerasTensor
from glassnet.utils.custom_objects import get_registered_name, get_registered_object

_TENSOR = "__keras_tensor__"


def functional_config(model) -> dict:
    """``model.get_config()`` of a ``Functional`` model."""
    kept = {id(node) for node in model._nodes}
    kept |= {id(layer.inbound_nodes[0]) for layer in model._input_layers}

    def node_indices(layer) -> dict[int, int]:
        own = [node for node in layer.inbound_nodes if id(node) in kept]
        return {id(node): index for index, node in enumerate(own)}

    indices = {id(layer): node_indices(layer) for layer in model.layers}

    def history(tensor: KerasTensor) -> list:
        layer = tensor.node.layer
        return [layer.name, indices[id(layer)][id(tensor.node)], tensor.index]

    def tensor_entry(tensor: KerasTensor) -> dict:
        return {
            "class_name": _TENSOR,
            "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                       "keras_history": history(tensor)},
        }

    def arguments(structure) -> Any:
        if isinstance(structure, KerasTensor):
            return tensor_entry(structure)
        return [arguments(item) for item in structure]

    entries = []
    for layer in model.layers:
        nodes = [node for node in layer.inbound_nodes if id(node) in kept]
        entry = {
            "module": "keras.layers",
            "class_name": type(layer).__name__,
            "config": layer.get_config(),
            "registered_name": None,
        }
        if is_program_model(layer):
            entry["module"] = type(layer).__module__
            entry["registered_name"] = get_registered_name(type(layer))
        if not isinstance(layer, InputLayer) and getattr(layer, "input_shape", None) is not None:
            shape = layer.input_shape
            entry["build_config"] = {
                "input_shape": [[None, *s] for s in shape] if isinstance(shape, list)
                else [None, *shape]
            }
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": [arguments(node.inputs)], "kwargs": {}}
            for node in nodes
            if not isinstance(layer, InputLayer)
        ]
        entries.append(entry)

    def ends(structure) -> Any:
        if isinstance(structure, KerasTensor):
            return history(structure)
        if isinstance(structure, dict):
            return {key: ends(value) for key, value in structure.items()}
        return [ends(item) for item in structure]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": ends(model._input_structure),
        "output_layers": ends(model._output_structure),
    }


def is_program_model(layer) -> bool:
    """Whether ``layer`` is a model of the program's own class (a subclassed model, not a
    ``Sequential`` or functional one), which a config names by its registered name."""
    from glassnet.engine.functional import Functional
    from glassnet.engine.model import Model
    from glassnet.engine.sequential import Sequential

    return isinstance(layer, Model) and not isinstance(layer, (Sequential, Functional))


def program_model_class(entry: dict, custom_objects: dict | None = None):
    """The model class a config entry names, when the program registered it
    (``register_keras_serializable``) or passed it in ``custom_objects`` (or an open
    ``custom_object_scope``), looked up by the entry's ``registered_name`` as Keras 3 does
    (``keras/src/saving/serialization_lib.py``, ``_retrieve_class_or_fn``); ``None`` for
    glassnet's own class names and for a class the program does not have. Nothing the entry
    names is imported."""
    from glassnet.engine.model import Model

    class_name = entry.get("class_name")
    if class_name in LAYER_CLASSES or class_name in ("Sequential", "Functional", "Model"):
        return None
    name = entry.get("registered_name") or class_name
    found = get_registered_object(name, custom_objects) if isinstance(name, str) else None
    if isinstance(found, type) and issubclass(found, Model) and hasattr(found, "call"):
        return found
    return None


def program_model(cls: type, entry: dict):
    """A model of the program's class ``cls`` from its entry (its own ``from_config``), built
    for the input shape the entry's ``build_config`` records, as Keras builds it.

    Raises:
        TypeError: naming the class, when its ``from_config`` refuses the config (an
            ``__init__`` argument that ``get_config`` does not return, say).
    """
    config = dict(entry.get("config") or {})
    try:
        model = cls.from_config(config)
    except TypeError as error:
        raise TypeError(
            f"The class {cls.__name__} cannot be rebuilt from its config {config}: {error}. "
            "Give it a get_config() that returns the arguments of its __init__"
        ) from None
    build = entry.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    if shape is not None:
        model.build(tuple(shape))
    return model


def catalog_layer(entry: dict, custom_objects: dict | None = None):
    """A layer from a trusted config entry: by the catalog (``LAYER_CLASSES``), a nested
    ``Sequential`` or functional model, or a model of a class the program registered or
    passed in ``custom_objects`` (``program_model_class``).

    Raises:
        ValueError: for a class name that is none of these, naming it.
    """
    class_name = entry.get("class_name")
    if class_name == "Sequential":  # a model used as a layer
        from glassnet.engine.sequential import Sequential

        return Sequential.from_config(dict(entry.get("config") or {}), custom_objects)
    if class_name == "Functional":
        return functional_from_config(dict(entry.get("config") or {}),
                                      lambda inner: catalog_layer(inner, custom_objects))
    cls = LAYER_CLASSES.get(class_name)
    if cls is not None:
        return cls.from_config(dict(entry.get("config") or {}))
    model_cls = program_model_class(entry, custom_objects)
    if model_cls is not None:
        return program_model(model_cls, entry)
    raise ValueError(
        f"Unknown layer class {class_name!r}. glassnet knows: "
        f"{', '.join(sorted(LAYER_CLASSES))}; a model class of your own is rebuilt when "
        "it is registered with glassnet.saving.register_keras_serializable() or passed in "
        "custom_objects"
    )


def functional_from_config(config: dict, make_layer: Callable[[dict], Any] = catalog_layer):
    """A ``Functional`` model from its config, its layers made by ``make_layer(entry)``.

    Raises:
        ValueError: when a node names a layer, node or tensor the config does not have, or
            the calls cannot all be replayed (a cycle), or for mask operations that are not
            what Keras writes for the masks glassnet computes (``mask_ops``).
    """
    from glassnet.engine.functional import Functional

    entries = config.get("layers")
    if not isinstance(entries, list) or not entries:
        raise ValueError("The functional config has no list of layers")
    ops = mask_ops.read_mask_ops(entries)
    layers: dict[str, Any] = {}
    calls: list[tuple[Any, list]] = []
    #: ``(layer, node index): the mask operation`` its node names as ``mask``
    masked: dict[tuple[int, int], tuple[Any, mask_ops.MaskOp]] = {}
    for entry in entries:
        if mask_ops.is_mask_op(entry):
            continue
        layer = make_layer(entry)
        name = entry.get("name") or layer.name
        if name in layers:
            raise ValueError(f"Two layers of the config are named {name!r}")
        layers[name] = layer
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ValueError(f"Layer {name!r}: `inbound_nodes` must be a list")
        arguments = [_node_arguments(node, name) for node in nodes]
        for index, (node, given) in enumerate(zip(nodes, arguments, strict=True)):
            mask_ops.refuse_other_uses(given, ops, name)
            op = mask_ops.node_mask(node, ops, name)
            if op is not None:
                masked[(id(layer), index)] = (layer, op)
        calls.append((layer, arguments))
    made: dict[tuple[str, int, int], KerasTensor] = {}
    for name, layer in layers.items():
        if isinstance(layer, InputLayer):
            made[(name, 0, 0)] = layer.tensor
    progress = {id(layer): 0 for layer, _ in calls}
    remaining = sum(len(nodes) for _, nodes in calls)
    while remaining:
        advanced = False
        for layer, nodes in calls:
            while progress[id(layer)] < len(nodes):
                arguments = nodes[progress[id(layer)]]
                if not _ready(arguments, made):
                    break
                outputs = layer(_resolve(arguments, made))
                mask = masked.get((id(layer), progress[id(layer)]))
                if mask is not None:
                    mask_ops.check_mask_source(layer.inbound_nodes[-1], mask[1], made,
                                               layer.name)
                outputs = outputs if isinstance(outputs, list) else [outputs]
                for index, tensor in enumerate(outputs):
                    made[(layer.name, progress[id(layer)], index)] = tensor
                progress[id(layer)] += 1
                remaining -= 1
                advanced = True
        if not advanced:
            stuck = [layer.name for layer, nodes in calls if progress[id(layer)] < len(nodes)]
            raise ValueError(
                f"The functional config cannot be rebuilt: the inputs of layers {stuck} are "
                "never computed"
            )

    def lookup(structure) -> Any:
        if isinstance(structure, dict):
            return {key: lookup(value) for key, value in structure.items()}
        if _is_history(structure):
            key = (structure[0], int(structure[1]), int(structure[2]))
            if key not in made:
                raise ValueError(f"The config names tensor {list(key)}, which no layer makes")
            return made[key]
        if isinstance(structure, list):
            return [lookup(item) for item in structure]
        raise ValueError(f"Invalid input_layers/output_layers entry: {structure!r}")

    mask_ops.refuse_other_uses(_output_keys(config.get("output_layers")), ops, "the output")
    inputs = lookup(config.get("input_layers"))
    outputs = lookup(config.get("output_layers"))
    # Keras accepts an input no output uses (and writes such files); glassnet refuses it
    # in a model built in Python, where it is a wiring mistake, and reads it from a config.
    return Functional(inputs, outputs, name=config.get("name"),
                      trainable=config.get("trainable", True) is not False, unused_inputs=True)


def _output_keys(structure) -> Any:
    """The ``(layer, node, tensor)`` keys of ``output_layers`` (for the check of mask
    operations; ``lookup`` refuses what is not one)."""
    if _is_history(structure):
        return (structure[0], structure[1], structure[2])
    if isinstance(structure, dict):
        return [_output_keys(value) for value in structure.values()]
    return [_output_keys(item) for item in structure] if isinstance(structure, list) else []


def _is_history(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
    )


def _node_arguments(node, layer_name: str):
    """A node's tensor argument as a structure of ``(layer, node, tensor)`` keys: Keras 3's
    ``{"args": [...], "kwargs": {}}`` or Keras 2's ``[[layer, node, tensor, kwargs], ...]``."""
    if isinstance(node, dict):
        args = node.get("args")
        if not isinstance(args, list) or not args:
            raise ValueError(f"Layer {layer_name!r}: a node has no `args`")
        return _keys(args[0], layer_name)
    if isinstance(node, list) and node and all(isinstance(item, list) for item in node):
        keys = [(str(item[0]), int(item[1]), int(item[2])) for item in node]
        return keys if len(keys) > 1 else keys[0]
    raise ValueError(f"Layer {layer_name!r}: cannot read the node {node!r}")


def _keys(structure, layer_name: str):
    if isinstance(structure, dict) and structure.get("class_name") == _TENSOR:
        history = (structure.get("config") or {}).get("keras_history")
        if not _is_history(history):
            raise ValueError(f"Layer {layer_name!r}: a tensor has no valid keras_history")
        return (history[0], history[1], history[2])
    if isinstance(structure, list):
        return [_keys(item, layer_name) for item in structure]
    raise ValueError(f"Layer {layer_name!r}: cannot read the argument {structure!r}")


def _ready(arguments, made: dict) -> bool:
    if isinstance(arguments, tuple):
        return arguments in made
    return all(_ready(item, made) for item in arguments)


def _resolve(arguments, made: dict):
    if isinstance(arguments, tuple):
        return made[arguments]
    return [_resolve(item, made) for item in arguments]
