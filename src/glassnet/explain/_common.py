"""What the explain tools share: node names, number formatting, and running a model's own
forward and backward pass without leaving a trace on the model.

The glass box reads what a model's layers recorded during a pass (``x``, ``z``, ``a``,
``grad_a``, ``grad_z`` and the weight slopes); it never computes a node value or a slope by
a route of its own. To get a pass it calls the model's public entry points
(``predict_on_batch`` for values, ``compute_gradients`` for slopes), then puts back what such
a pass may change besides the records: the batch-normalisation statistics and the random
state of dropout layers, so that explaining a model never changes how it goes on training.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from glassnet import losses as losses_module
from glassnet.errors import NotCompiledError

_HIDDEN_ONE = "hidden"
_HIDDEN_MANY = re.compile(r"hidden_(\d+)")


def require_model(model, what: str) -> None:
    """Raises ``TypeError`` unless ``model`` is a glassnet ``Sequential``-like model."""
    if not (hasattr(model, "layers") and hasattr(model, "predict_on_batch")):
        raise TypeError(
            f"{what}() expects a glassnet model such as Sequential([...]). "
            f"Received: {model!r} of type {type(model).__name__}"
        )
    if not model.layers:
        raise ValueError(f"{what}() needs a model with layers; this one has none")


def model_layers(model) -> list:
    """The layers the glass box explains, in the order a pass runs them: a ``Sequential``'s
    layers (a nested model's layers in its place), or the layers of a functional or
    subclassed model (nested models opened up, input layers left out)."""
    from glassnet.engine.sequential import Sequential

    if isinstance(model, Sequential):
        return model.layers_in_order
    return list(model._layers)


def units_of(layer) -> int:
    """The number of nodes a layer outputs per row (all its output values for one row)."""
    shape = layer.output_shape
    return int(np.prod(shape)) if shape else 0


def check_features(model, x, what: str) -> None:
    """Raises ``ValueError`` when rows do not have the number of features the model expects.

    A 1-D ``x`` is one row (the course's ``input_data = np.array([2, 3])``); the model's own
    input checks would read a 1-D array of the wrong length as a column, so a wrong length
    is caught here with a message about features.
    """
    if model.input_shape is None or columns_of(x) is not None:
        return  # unknown shape, or a DataFrame (the model's check names its columns)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return  # not numeric: the model's data checks say where
    expected = int(np.prod(model.input_shape))
    if arr.ndim == 1 and arr.size != expected:
        raise ValueError(
            f"{what}() received a row of {arr.size} values, but the model expects {expected} "
            f"features per row (input_shape={tuple(model.input_shape)})"
        )
    if arr.ndim == 2 and len(model.input_shape) == 1 and arr.shape[1] != expected:
        raise ValueError(
            f"{what}() received rows of {arr.shape[1]} values, but the model expects "
            f"{expected} features per row (input_shape={tuple(model.input_shape)})"
        )


def node_names(layer) -> list[str]:
    """The names of a layer's nodes, in the course's notation where the layer name allows it.

    A layer named ``hidden`` holds ``node_0``, ``node_1``, ... (one hidden layer); a layer
    named ``hidden_l`` holds ``node_l_0``, ``node_l_1``, ...; a one-node layer named
    ``output`` is ``output``. Any other layer's nodes are ``name[0]``, ``name[1]``, ...
    ``from_node_weights`` names its layers so that its nodes carry the keys of the dict.
    """
    n = units_of(layer)
    if layer.name == _HIDDEN_ONE:
        return _numbered("node_{}", n)
    match = _HIDDEN_MANY.fullmatch(layer.name)
    if match:
        return _numbered(f"node_{match.group(1)}_{{}}", n)
    if layer.name == "output" and n == 1:
        return ["output"]
    return _numbered(layer.name.replace("{", "{{").replace("}", "}}") + "[{}]", n)


@functools.lru_cache(maxsize=64)
def _numbers_named(pattern: str, n: int) -> tuple[str, ...]:
    return tuple(pattern.format(i) for i in range(n))


def _numbered(pattern: str, n: int) -> list[str]:
    """``pattern.format(i)`` for i in range(n), made once per pattern and size (the live
    page asks for the names of a 784-input layer at every snapshot)."""
    return list(_numbers_named(pattern, n))


def input_names(model, columns: Sequence[str] | None = None) -> list[str]:
    """``input_0``, ``input_1``, ... or the DataFrame's column names."""
    n = int(np.prod(model.input_shape)) if model.input_shape else 0
    if columns is not None and len(columns) == n:
        return [str(c) for c in columns]
    return _numbered("input_{}", n)


def feeding_names(model, layer, previous: list[str]) -> list[str]:
    """The names of the values feeding ``layer``: in a functional model, the nodes of the
    layers its (first) call read, model inputs as ``input_0``... (or ``name[i]`` for one of
    several inputs); in a stack, ``previous`` (the nodes of the layer before)."""
    graph = getattr(model, "_nodes", None)
    if graph is None:
        return previous
    node = next((n for n in graph if n.layer is layer), None)
    if node is None:
        return previous
    several_inputs = len(model.inputs) > 1
    names: list[str] = []
    for tensor in node.input_tensors:
        producer = tensor.node.layer
        if tensor in model.inputs:
            width = int(np.prod(tensor.row_shape))
            names += ([f"{producer.name}[{i}]" for i in range(width)] if several_inputs
                      else [f"input_{i}" for i in range(width)])
        else:
            names += node_names(producer)
    return names


def feeding_layer(model, layer):
    """The one layer whose output feeds ``layer``: the layer before it in a stack, the
    producer of its only input in a functional model; ``None`` for the first layer, a layer
    fed by the model's inputs or by several layers."""
    graph = getattr(model, "_nodes", None)
    if graph is None:
        layers = model_layers(model)
        index = next((i for i, candidate in enumerate(layers) if candidate is layer), 0)
        return layers[index - 1] if index > 0 else None
    node = next((n for n in graph if n.layer is layer), None)
    if node is None or len(node.input_tensors) != 1:
        return None
    tensor = node.input_tensors[0]
    return None if tensor in model.inputs else tensor.node.layer


def conv_kinds() -> tuple[type, ...]:
    """The convolution layers: their nodes are feature maps, one channel per filter."""
    from glassnet.layers import (
        Conv1D,
        Conv2D,
        Conv2DTranspose,
        DepthwiseConv2D,
        SeparableConv2D,
    )

    return (Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose)


def filter_source(model, layer):
    """The convolution whose filters are ``layer``'s channels, or ``None``.

    A convolution's own output holds one feature map per filter; so does an ``Activation``
    layer (``ReLU``, ``Activation("relu")``) fed by a convolution, directly or through layers
    that keep every channel where it was (batch normalisation, dropout, other activations).
    """
    kinds = conv_kinds()
    if isinstance(layer, kinds):
        return layer
    from glassnet.layers import (
        Activation,
        AlphaDropout,
        BatchNormalization,
        Dropout,
        GaussianDropout,
        GaussianNoise,
        SpatialDropout2D,
    )

    if not isinstance(layer, Activation):
        return None
    keeps_channels = (Activation, BatchNormalization, Dropout, SpatialDropout2D, GaussianNoise,
                      GaussianDropout, AlphaDropout)
    source = feeding_layer(model, layer)
    while isinstance(source, keeps_channels):
        source = feeding_layer(model, source)
    return source if isinstance(source, kinds) else None


def channel_axis(conv) -> int:
    """The axis of a batch of ``conv``'s outputs that holds its filters (rows first)."""
    return 1 if getattr(conv, "data_format", "channels_last") == "channels_first" else -1


def columns_of(x) -> list[str] | None:
    """A pandas DataFrame's column names, else ``None``."""
    columns = getattr(x, "columns", None)
    if columns is not None and type(x).__module__.startswith("pandas"):
        return [str(c) for c in columns]
    return None


def activation_name(layer) -> str | None:
    """The layer's activation name (``"relu"``...), or ``None`` when it has none."""
    activation = getattr(layer, "activation", None)
    return None if activation is None else activation.name


def fmt(value, digits: int = 6) -> str:
    """A number as the course writes it: ``26`` for whole numbers, else ``digits`` significant
    digits, never rounding a fraction to a whole number (tanh(5) shows as 0.9999, not 1)."""
    if value is None:
        return "-"
    value = float(value)
    if math.isnan(value):
        return "-"
    if math.isinf(value) or abs(value) >= 1e15:
        return f"{value:.{digits}g}"
    if value.is_integer():
        return str(int(value))
    text = f"{value:.{digits}g}"
    while float(text).is_integer() and digits < 17:
        digits += 1
        text = f"{value:.{digits}g}"
    return text


def vector_text(values, digits: int = 6) -> str:
    """``9`` for one number, ``[0.7, 1.6]`` for several."""
    values = np.asarray(values).reshape(-1)
    text = ", ".join(fmt(v, digits) for v in values)
    return text if len(values) == 1 else f"[{text}]"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    """A plain-text table: text columns left-aligned, everything else right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    numeric = [
        all(_looks_numeric(row[i]) for row in rows) if rows else False for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if num else cell.ljust(w)
            for cell, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join([line(headers), indent + "  ".join("-" * w for w in widths)] + [
        line(row) for row in rows
    ])


def _looks_numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d.]+(e[-+]?\d+)?|-|", cell.strip()))


def copy_or_none(array) -> np.ndarray | None:
    """A copy of a recorded array (later passes rebind the records), or ``None``."""
    return None if array is None else np.array(array, copy=True)


# --- running a pass without side effects ----------------------------------------------------


def ensure_built(model, x) -> None:
    """Builds an unbuilt model from the shape of ``x`` (one row may be a 1-D array)."""
    if model.built:
        return
    if model.input_shape is None:
        arr = np.asarray(x)
        model.build((None, *(arr.shape[1:] if arr.ndim > 1 else arr.shape)))
    else:
        model.build()


@contextmanager
def untouched(model) -> Iterator[None]:
    """Puts back the non-trainable weights and the dropout random state after a pass."""
    saved_state = [w.copy() for w in model.non_trainable_weights]
    rngs = [
        (layer, layer.rng.bit_generator.state)
        for layer in model_layers(model)
        if isinstance(getattr(layer, "rng", None), np.random.Generator)
    ]
    try:
        yield
    finally:
        for target, value in zip(model.non_trainable_weights, saved_state, strict=True):
            target[...] = value
        for layer, state in rngs:
            layer.rng.bit_generator.state = state


def require_loss(model, loss, what: str) -> None:
    """Raises ``NotCompiledError`` when there is no loss: not compiled and none given."""
    if loss is None and not getattr(model, "compiled", False):
        raise NotCompiledError(
            f"{what}() needs to know the loss, and the model is not compiled. Compile it "
            "first, e.g. model.compile(optimizer='sgd', loss='mean_squared_error'), or pass "
            f"the loss: {what}(model, x, y, loss='mean_squared_error')"
        )


@contextmanager
def loss_in_use(model, loss, what: str) -> Iterator[losses_module.Loss]:
    """Makes ``loss`` (or the compiled loss) the model's loss for the duration of a pass.

    Raises:
        NotCompiledError: when the model is not compiled and no ``loss`` is given.
    """
    require_loss(model, loss, what)
    if loss is None:
        yield model.loss
        return
    chosen = losses_module.get(loss)
    saved = (model.loss, model.optimizer, model.compiled, model.optimizer_needs_build)
    model.loss = chosen
    if model.optimizer is None:
        from glassnet.optimizers import SGD

        model.optimizer = SGD()
        model.optimizer_needs_build = True
    model.compiled = True
    try:
        yield chosen
    finally:
        model.loss, model.optimizer, model.compiled, model.optimizer_needs_build = saved


def as_float(x) -> float:
    """A one-element array or number as a Python float."""
    return float(np.asarray(x).reshape(-1)[0])
