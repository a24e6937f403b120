"""Building a model from the course's dict of node weights.

The course writes a network's weights as a dict with one array per node, holding the
weights of the lines that *end* at that node::

    weights = {"node_0": np.array([2, 4]),     # one hidden layer: node_i
               "node_1": np.array([4, -5]),
               "output": np.array([2, 7])}

    weights = {"node_0_0": ..., "node_0_1": ...,   # several: node_<layer>_<i>
               "node_1_0": ..., "node_1_1": ...,
               "output": ...}

In a ``Dense`` layer the weights ending at node ``i`` are column ``i`` of the kernel (shape
``(inputs, units)``), so each layer's kernel is the node arrays stacked as columns. The
course's networks have no biases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from glassnet import config as config_module
from glassnet.engine import Sequential
from glassnet.layers import Dense

_ONE = re.compile(r"node_(\d+)")
_MANY = re.compile(r"node_(\d+)_(\d+)")


def from_node_weights(
    weights: Mapping[str, object],
    hidden_activation="identity",
    output_activation="identity",
    dtype: str = "float64",
    name: str = "course_network",
) -> Sequential:
    """A ``Sequential`` model whose weights are the course's dict of node weights.

    Hidden layers are named ``hidden`` (keys ``node_i``) or ``hidden_0``, ``hidden_1``, ...
    (keys ``node_l_i``) and the last layer ``output``, so that ``trace`` and ``plot_network``
    label every node with its key in the dict. A dict with only ``output`` gives a network
    whose inputs feed the output directly. No layer has a bias, as in the course.

    Args:
        weights: ``{"node_0": [...], "node_1": [...], "output": [...]}`` or with keys
            ``node_<layer>_<i>``; each value is a 1-D sequence of numbers, one per node of
            the layer before (or per input, for the first hidden layer).
        hidden_activation: activation of every hidden node (a name such as ``"relu"`` or
            ``"tanh"``, or an activation function). ``"identity"`` (the default) means none.
        output_activation: activation of the output node.
        dtype: the float type of the weights. ``"float64"`` by default, the type NumPy uses
            for the course's hand computations, so that the numbers agree to the last digit
            (a float32 model gives 1.2382243 where the course prints 1.2382242525694254).
        name: the model's name.

    Returns:
        A built (not compiled) ``Sequential`` model.

    Raises:
        TypeError: when ``weights`` is not a dict, or a value is not a sequence of numbers.
        ValueError: naming the missing key, the unexpected key, or the array whose length
            does not match the layer before it.

    Example:
        >>> from glassnet.explain import from_node_weights, trace
        >>> model = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]})
        >>> trace(model, [2, 3]).prediction
        array([[9.]])
    """
    if not isinstance(weights, Mapping):
        raise TypeError(
            "`weights` must be a dict of node weights such as {'node_0': [1, 1], 'node_1': "
            f"[-1, 1], 'output': [2, -1]}}. Received: {type(weights).__name__}"
        )
    arrays = {str(key): _as_vector(key, value) for key, value in weights.items()}
    if "output" not in arrays:
        raise ValueError(
            "The weights have no key 'output' (the weights of the lines into the output "
            f"node). Keys received: {sorted(arrays)}"
        )
    layers = _hidden_layers(arrays)
    _check_lengths(layers, arrays["output"])

    previous = config_module.floatx()
    config_module.set_floatx(dtype)
    try:
        model = _assemble(layers, arrays["output"], hidden_activation, output_activation, name)
        model.build()
    finally:
        config_module.set_floatx(previous)
    kernels = [np.stack([array for _, array in nodes], axis=1) for _, nodes in layers]
    kernels.append(arrays["output"].reshape(-1, 1))
    model.set_weights(kernels)
    return model


def _as_vector(key, value) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"weights[{key!r}] must be a sequence of numbers. Received: {value!r}"
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"weights[{key!r}] must be a 1-D array with one weight per node feeding in. "
            f"Received an array of shape {array.shape}"
        )
    return array


def _hidden_layers(arrays: dict[str, np.ndarray]) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """Groups the hidden-node keys by layer: ``[(layer name, [(key, array), ...]), ...]``."""
    keys = [k for k in arrays if k != "output"]
    one = [k for k in keys if _ONE.fullmatch(k)]
    many = [k for k in keys if _MANY.fullmatch(k)]
    unknown = sorted(set(keys) - set(one) - set(many))
    if unknown:
        raise ValueError(
            f"Unexpected key(s) {unknown} in the weights. Expected 'node_<i>' (one hidden "
            "layer), 'node_<layer>_<i>' (several hidden layers) and 'output'"
        )
    if one and many:
        raise ValueError(
            "The weights mix 'node_<i>' keys (one hidden layer) with 'node_<layer>_<i>' keys "
            f"(several hidden layers): {sorted(one)} and {sorted(many)}. Use one notation"
        )
    if one:
        indices = {int(_ONE.fullmatch(k).group(1)): k for k in one}
        _check_complete(indices, "node_{}")
        return [("hidden", [(indices[i], arrays[indices[i]]) for i in sorted(indices)])]
    by_layer: dict[int, dict[int, str]] = {}
    for key in many:
        layer, node = (int(g) for g in _MANY.fullmatch(key).groups())
        by_layer.setdefault(layer, {})[node] = key
    for layer in range(max(by_layer, default=-1) + 1):
        if layer not in by_layer:
            raise ValueError(
                f"The weights have no node in hidden layer {layer} (missing key "
                f"'node_{layer}_0'), but they have nodes in layer {max(by_layer)}"
            )
        _check_complete(by_layer[layer], f"node_{layer}_{{}}")
    return [
        (f"hidden_{layer}", [(nodes[i], arrays[nodes[i]]) for i in sorted(nodes)])
        for layer, nodes in sorted(by_layer.items())
    ]


def _check_complete(indices: dict[int, str], pattern: str) -> None:
    for i in range(max(indices) + 1):
        if i not in indices:
            raise ValueError(
                f"The weights are missing key {pattern.format(i)!r}: the layer has "
                f"{pattern.format(max(indices))!r}, so it needs every node from "
                f"{pattern.format(0)!r} up to it"
            )


def _check_lengths(layers, output: np.ndarray) -> None:
    feeding = None  # (number of nodes feeding in, what they are)
    previous = None  # the hidden layer before, as (name, nodes)
    for name, nodes in layers:
        first_key, first = nodes[0]
        expected = feeding[0] if feeding else len(first)
        source = feeding[1] if feeding else f"{first_key!r}, which has {len(first)}"
        missing = _missing_nodes(previous, [array for _, array in nodes])
        for key, array in nodes:
            if len(array) != expected:
                raise ValueError(
                    f"{missing}weights[{key!r}] has {len(array)} weights, but the nodes of "
                    f"layer {name!r} need {expected}, one per node feeding in (as in {source})"
                )
        feeding = (len(nodes), f"layer {name!r}, which has {len(nodes)} nodes")
        previous = (name, nodes)
    if feeding and len(output) != feeding[0]:
        raise ValueError(
            f"{_missing_nodes(previous, [output])}weights['output'] has {len(output)} weights, "
            f"but it needs {feeding[0]}, one per node of {feeding[1].split(',')[0]}"
        )


def _missing_nodes(previous, arrays: list[np.ndarray]) -> str:
    """``"no weights for node_1; "`` when the arrays fed by the hidden layer ``previous`` all
    have more weights than it has nodes: the dict then lacks that layer's last nodes."""
    lengths = {len(array) for array in arrays}
    if previous is None or len(lengths) != 1:
        return ""
    name, nodes = previous
    needed = lengths.pop()
    if needed <= len(nodes):
        return ""
    pattern = "node_{}" if name == "hidden" else f"node_{name.rsplit('_', 1)[1]}_{{}}"
    keys = [pattern.format(i) for i in range(len(nodes), needed)]
    listed = keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]
    return f"no weights for {listed}; "


def _assemble(
    layers, output: np.ndarray, hidden_activation, output_activation, name: str
) -> Sequential:
    model = Sequential(name=name)
    inputs = len(layers[0][1][0][1]) if layers else len(output)
    for index, (name, nodes) in enumerate(layers):
        extra = {"input_shape": (inputs,)} if index == 0 else {}
        model.add(
            Dense(len(nodes), activation=hidden_activation, use_bias=False, name=name, **extra)
        )
    extra = {} if layers else {"input_shape": (inputs,)}
    model.add(Dense(1, activation=output_activation, use_bias=False, name="output", **extra))
    return model
