"""The ``Layer`` base class and how layers hold their weights.

A layer declares the weights it needs (``weight_specs``); whoever builds it (the model, or
the layer itself when used alone) allocates them and hands the layer *views* into shared
storage (``bind``). A model keeps all trainable weights of all layers in one flat array
and their gradients in another, so an optimizer updates the whole network in a few
vectorised NumPy calls instead of one call per weight.

Forward and backward use the chain-rule vocabulary of the course: ``x`` feeds in, and
``forward`` returns the output together with the records its backward needs (a layer keeps
no per-call state, so one layer may be used many times). ``backward`` receives those records
and the slope of the loss at the output and returns the slope at the input, writing slopes
for its own weights into its gradient views. Backward computes; it never updates a weight.
Calling a layer (``layer(x)``) runs ``forward`` and, when a tape is recording
(``glassnet.ops.recording``), leaves one node on it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet import config as config_module
from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet.layers import symbolic
from glassnet.layers.config_keys import ConfigKey, dtype_policy
from glassnet.layers.storage import WeightStorage
from glassnet.naming import auto_name
from glassnet.ops.tape import Tape, active_tape, recording
from glassnet.ops.tensor import as_tensor, plain
from glassnet.ops.variable import Variable


@dataclass
class WeightSpec:
    """One weight a layer needs: its name, shape, initializer and whether it trains."""

    name: str
    shape: tuple[int, ...]
    initializer: initializers_module.Initializer
    trainable: bool = True
    regularizer: regularizers_module.Regularizer | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = int(np.prod(self.shape, dtype=np.int64))


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{what}` must be a positive integer. Received: {what}={value!r}")
    return int(value)


def normalize_shape(shape, what: str = "input_shape") -> tuple[int, ...]:
    """A feature shape (no batch axis) as a tuple of positive ints."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(
            f"`{what}` must be a tuple of positive integers. Received: {what}={shape!r}"
        ) from None
    if not dims:
        raise ValueError(f"`{what}` must have at least one dimension. Received: {what}={shape!r}")
    return tuple(_positive_int(d, what) for d in dims)


class Layer:
    """Base class of every layer.

    A layer class that saves and loads declares its config keys (``config_keys``, see
    ``glassnet.layers.config_keys``), writes them in ``get_config`` and stores its
    variables with ``save_own_variables``/``load_own_variables``, as in Keras 3.

    Args:
        name: a unique name; generated from the class name when not given.
        trainable: whether the optimizer updates this layer's weights.
        dtype: accepted for Keras compatibility; glassnet computes in ``floatx()``.
        input_shape: shape of one row of input (without the batch axis), for a first layer.
        input_dim: the same, for one-dimensional rows (Keras 2 spelling).
        batch_input_shape: ``(batch, *input_shape)``, Keras 2's spelling.
    """

    #: Every key ``get_config`` writes beyond ``name``/``trainable``/``dtype``, and those
    #: Keras writes that glassnet reads, each with the kind of value it takes.
    config_keys: tuple[ConfigKey, ...] = ()

    #: Whether calling the layer passes its input on with the input's own dtype (integer
    #: ids, strings) instead of casting it to ``floatx()``: layers that look values up
    #: (``Embedding``, ``StringLookup``...) set it.
    keeps_input_dtype: bool = False
    #: Whether the layer takes a list of inputs (merging layers); any other layer reads a
    #: list as one array, as Keras converts it.
    takes_input_list: bool = False

    def __init__(
        self,
        name: str | None = None,
        trainable: bool = True,
        dtype=None,
        input_shape=None,
        input_dim: int | None = None,
        batch_input_shape=None,
        **kwargs,
    ) -> None:
        kwargs.pop("batch_size", None)
        kwargs.pop("autocast", None)
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s): {unknown}")
        self.name = name or auto_name(self)
        self.trainable = bool(trainable)
        self.dtype = dtype
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self.declared_input_shape = None if input_shape is None else normalize_shape(input_shape)
        self.input_shape: tuple[int, ...] | None = None
        self.output_shape: tuple[int, ...] | None = None
        self.built = False
        self.specs: list[WeightSpec] = []
        self.values: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        #: Every call on symbolic tensors (``glassnet.layers.symbolic.GraphNode``).
        self.inbound_nodes: list = []

    # --- shapes and weights -------------------------------------------------------------

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one output row for a given shape of one input row."""
        return input_shape

    def weight_specs(self, input_shape: tuple[int, ...]) -> list[WeightSpec]:
        """The weights this layer needs for rows of ``input_shape`` (none by default)."""
        return []

    def plan(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Fixes the input shape, declares the weights and returns the output shape."""
        if self._is_call_based():
            return self._plan_call_based(input_shape)
        self.input_shape = tuple(input_shape)
        self.specs = self.weight_specs(self.input_shape)
        self.output_shape = tuple(self.compute_output_shape(self.input_shape))
        return self.output_shape

    def bind(self, values: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Receives views of its weights (and of their gradients) in shared storage."""
        self.values = values
        self.grads = grads
        for name, array in values.items():
            setattr(self, name, array)
        for name, array in grads.items():
            setattr(self, "grad_" + name, array)
        for attribute, held in list(vars(self).items()):
            # Handles a subclass kept from ``add_weight`` read the live weight again.
            if isinstance(held, Variable) and held.layer is self and held.name in values:
                object.__setattr__(self, attribute, Variable(self, held.name))
        self.built = True

    def build(self, input_shape) -> None:
        """Builds a layer used on its own, with its own storage.

        Args:
            input_shape: shape of the input, with or without a leading batch axis
                (``(None, 4)`` and ``(4,)`` both work).
        """
        shape = tuple(input_shape)
        if shape and shape[0] is None:
            shape = shape[1:]
        self.plan(normalize_shape(shape))
        WeightStorage([self], config_module.floatx())

    @property
    def weights(self) -> list[Variable]:
        """The layer's weights in Keras's order (trainable first), as ``Variable`` views."""
        ordered = [s for s in self.specs if s.trainable] + [
            s for s in self.specs if not s.trainable
        ]
        return [Variable(self, s.name) for s in ordered if s.name in self.values]

    @property
    def trainable_weights(self) -> list[Variable]:
        return [Variable(self, s.name) for s in self.specs if s.trainable and self.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [
            Variable(self, s.name) for s in self.specs if not (s.trainable and self.trainable)
        ]

    @property
    def trainable_variables(self) -> list[Variable]:
        return self.trainable_weights

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    def add_weight(
        self,
        shape=None,
        initializer="glorot_uniform",
        dtype=None,
        trainable: bool = True,
        name: str | None = None,
        regularizer=None,
        constraint=None,
        **kwargs,
    ) -> Variable:
        """Creates a weight of this layer (Keras 3's ``Layer.add_weight``), usually in
        ``build``; returns it as a ``Variable``. A model that holds the layer moves the weight
        into its shared storage, keeping its value.
        """
        shape = () if shape is None else tuple(int(d) for d in shape)
        if name is None:
            name = "variable" if "variable" not in self.values else f"variable_{len(self.specs)}"
        if name in self.values:
            raise ValueError(f"Layer {self.name!r} already has a weight named {name!r}")
        spec = WeightSpec(
            name,
            shape,
            initializers_module.get(initializer),
            bool(trainable),
            regularizers_module.get(regularizer) if regularizer is not None else None,
        )
        self.specs.append(spec)
        dtype = np.dtype(config_module.floatx())
        values = dict(self.values)
        values[name] = np.asarray(spec.initializer(shape, dtype=dtype), dtype=dtype).reshape(shape)
        grads = dict(self.grads)
        if spec.trainable:
            grads[name] = np.zeros(shape, dtype=dtype)
        self.bind(values, grads)
        return Variable(self, name)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the layer's weights, in Keras's order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Writes new values into the layer's weights (in place, keeping shared storage).

        Raises:
            ValueError: when the number of arrays or a shape does not match.
        """
        current = self.weights
        weights = list(weights)
        if len(weights) != len(current):
            raise ValueError(
                f"Layer {self.name!r} expects {len(current)} weight arrays "
                f"({', '.join(str(w.shape) for w in current)}), received {len(weights)}"
            )
        for target, new in zip(current, weights, strict=True):
            new = np.asarray(new)
            if new.shape != target.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight of shape {target.shape} cannot take a value of "
                    f"shape {new.shape}"
                )
            target[...] = new

    def count_params(self) -> int:
        """The number of weights (trainable and not)."""
        return sum(s.size for s in self.specs)

    # --- computation --------------------------------------------------------------------

    def forward(self, x: np.ndarray, training: bool = False) -> tuple[np.ndarray, Any]:
        """The output for a batch ``x``, and the records ``backward`` needs."""
        if getattr(type(self), "call", None) is not None:
            return self._call_forward(x, training)
        raise NotImplementedError(f"{type(self).__name__} defines neither forward nor call")

    def backward(
        self, records: Any, grad_out: np.ndarray, need_grad_input: bool = True
    ) -> np.ndarray | None:
        """From the slope of the loss at the output, the slope at the input.

        ``records`` is what ``forward`` returned with the output. Writes the slopes for this
        layer's own weights into its gradient views. With ``need_grad_input=False`` (the
        first layer) the input slope is not computed.
        """
        if getattr(type(self), "call", None) is not None:
            return self._call_backward(records, grad_out, need_grad_input)
        raise NotImplementedError(f"{type(self).__name__} defines neither backward nor call")

    def __call__(self, inputs, training: bool = False, **kwargs):
        """Applies the layer, building it if needed.

        On arrays it returns the output, leaving one node on the active tape
        (``glassnet.ops.recording``, ``GradientTape``); on symbolic tensors (``Input(...)``)
        it returns the symbolic output and remembers the call for a functional model. A
        layer of several inputs (``Concatenate``, ``Add``...) takes a list.
        """
        if symbolic.is_symbolic(inputs):
            return symbolic.symbolic_call(self, inputs, {"training": training, **kwargs})
        if self._is_call_based():
            return self._call_eagerly(inputs, training, kwargs)
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"Layer {self.name!r} got unexpected keyword argument(s): {unknown}")
        return self._call_arrays(inputs, training, {})

    def _call_arrays(self, inputs, training: bool, forward_kwargs: dict):
        """``__call__`` on arrays: builds the layer if needed, runs ``forward`` (with
        ``forward_kwargs``, a recurrent layer's ``mask``) and leaves a node on the active
        tape."""
        convert = np.asarray if self.keeps_input_dtype else as_float_array
        multi = self.takes_input_list and isinstance(inputs, (list, tuple))
        if multi:
            x = tuple(convert(value) for value in inputs)
            shapes = [value.shape[1:] for value in x]
        else:
            x = convert(inputs)
            shapes = x.shape[1:]
        if not self.built:
            self.build(shapes)
        elif self.input_shape is not None:
            self._check_row_shapes(shapes, x)
        # The layer computes on plain arrays (its own NumPy calls are not ops to record);
        # the node links the caller's objects, and the caller gets a tensor of its own.
        out, records = self.forward(plain_tuple(x) if multi else plain(x), training=training,
                                    **forward_kwargs)
        out = as_tensor(out)
        if out is x:  # a pass-through: a value of its own, so the tape links it
            out = out.view()
        tape = active_tape()
        if tape is not None:
            tape.record(self, x, out, records)
        return out

    def _check_row_shapes(self, shapes, x) -> None:
        expected = self.input_shape
        if isinstance(shapes, list):
            if [tuple(s) for s in shapes] != [tuple(s) for s in expected]:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}) expects inputs of shapes "
                    f"{symbolic.row_shapes_text(list(expected))}; received "
                    f"{symbolic.row_shapes_text(list(shapes))}"
                )
        elif tuple(shapes) != tuple(expected):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects rows of shape "
                f"{tuple(expected)}; received an input of shape {x.shape} (rows of "
                f"shape {x.shape[1:]})"
            )

    def nested_layers(self) -> list:
        """The layers a layer written as ``call`` holds in its attributes (and theirs), as
        Keras tracks them; empty for a layer with its own ``forward``."""
        if not self._is_call_based():
            return []
        found: list = []
        for layer in held_instances(self, (Layer,)):
            found += [inner for inner in (layer, *layer.nested_layers()) if inner not in found]
        return found

    # --- the functional API -------------------------------------------------------------

    def build_symbolic(self, shapes) -> None:
        """Builds the layer for rows of ``shapes`` (a list for several inputs), or checks
        that they are the shapes it was built for.

        Raises:
            ValueError: naming the layer, the shape it expects and the one received.
        """
        if not self.built or self.input_shape is None:
            self.build(shapes)
            return
        expected = self.input_shape
        if isinstance(shapes, list) != isinstance(expected, list) or (
            [tuple(s) for s in shapes] != [tuple(s) for s in expected]
            if isinstance(shapes, list)
            else tuple(shapes) != tuple(expected)
        ):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) was built for input of shape "
                f"{symbolic.row_shapes_text(expected)} and cannot take input of shape "
                f"{symbolic.row_shapes_text(shapes)}"
            )

    def output_shape_for(self, shapes):
        """The output row shape(s) for input rows of ``shapes`` (the layer is built)."""
        return self.output_shape

    @property
    def input(self):
        """The symbolic input of the layer's first call in a functional model."""
        return self._first_node("input").inputs

    @property
    def output(self):
        """The symbolic output of the layer's first call in a functional model."""
        outputs = self._first_node("output").outputs
        return outputs[0] if len(outputs) == 1 else outputs

    def _first_node(self, what: str):
        if not self.inbound_nodes:
            raise AttributeError(
                f"Layer {self.name!r} has never been called on a symbolic tensor, so it has "
                f"no {what}; call it on Input(...) or another layer's output first"
            )
        return self.inbound_nodes[0]

    # --- layers written as ``build`` and ``call`` (Keras's subclassing) -----------------

    def _is_call_based(self) -> bool:
        """Whether the layer is a subclass written with ``call`` instead of
        ``forward``/``backward``: its backward is the tape of its call."""
        cls = type(self)
        return cls.forward is Layer.forward and getattr(cls, "call", None) is not None

    def _plan_call_based(self, input_shape) -> tuple:
        batch_shape = (None, *input_shape) if not isinstance(input_shape, list) else [
            (None, *s) for s in input_shape
        ]
        if not self.built:
            if type(self).build is not Layer.build:
                self.build(batch_shape)
            self.built = True
        self.input_shape = tuple(input_shape) if not isinstance(input_shape, list) else [
            tuple(s) for s in input_shape
        ]
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            out = self.compute_output_shape(batch_shape)
            self.output_shape = tuple(out)[1:] if out and tuple(out)[0] is None else tuple(out)
        else:
            self.output_shape = self._traced_output_shape(input_shape)
        return self.output_shape

    def _traced_output_shape(self, input_shape) -> tuple:
        """The output row shape found by running ``call`` on one row of zeros (without a
        tape)."""
        dtype = config_module.floatx()
        if isinstance(input_shape, list):
            probe = [np.zeros((1, *s), dtype) for s in input_shape]
        else:
            probe = np.zeros((1, *input_shape), dtype)
        with recording(Tape()):
            out = self._run_call(probe, False, {})
        return tuple(np.shape(out)[1:])

    def _run_call(self, x, training: bool, kwargs: dict):
        return call_with_training(self, x, training, kwargs)

    def _call_eagerly(self, inputs, training: bool, kwargs: dict):
        if isinstance(inputs, (list, tuple)):
            x = [as_float_array(value) for value in inputs]
            shapes = [value.shape[1:] for value in x]
        else:
            x = as_float_array(inputs)
            shapes = x.shape[1:]
        if not self.built or self.input_shape is None:
            self.plan(shapes)
            if not self.values and self.specs:
                WeightStorage([self], config_module.floatx())
        return self._run_call(x, training, kwargs)

    def _call_forward(self, x, training: bool = False):
        """``forward`` of a call-based layer: its call on a tape of its own."""
        with recording() as tape:
            out = self._run_call(x, training, {})
        return out, (tape, x, out)

    def _call_backward(self, records, grad_out, need_grad_input: bool = True):
        tape, x, out = records
        leaves = tape.backward(out, grad_out)
        for spec in self.specs:
            if spec.name in self.grads:
                slope = leaves.get(id(self.values[spec.name]))
                self.grads[spec.name][...] = 0 if slope is None else slope
        if not need_grad_input:
            return None
        if isinstance(x, (list, tuple)):
            return tuple(_slope_or_zeros(leaves, value) for value in x)
        return _slope_or_zeros(leaves, x)

    def regularization_penalty(self) -> float:
        """Sum of the penalties of this layer's regularized weights."""
        return sum(s.regularizer.penalty(self.values[s.name]) for s in self.specs if s.regularizer)

    def add_regularization_gradients(self) -> None:
        """Adds each penalty's slope to the matching weight gradient."""
        for s in self.specs:
            if s.regularizer is not None and s.name in self.grads:
                self.grads[s.name] += s.regularizer.gradient(self.values[s.name])

    # --- saving (Keras 3's interface) ---------------------------------------------------

    def own_variable_specs(self) -> list[tuple[str, tuple[int, ...], str]]:
        """``(name, shape, kind)`` of each variable ``save_own_variables`` stores, in its
        order; ``kind`` is ``"f"`` (floats) or ``"i"`` (an integer). Known once the layer is
        planned, so a reader can check a file against it before reading any data.

        By default the layer's weights, trainable first, as Keras 3 stores them.
        """
        ordered = [s for s in self.specs if s.trainable] + [
            s for s in self.specs if not s.trainable
        ]
        return [(s.name, tuple(s.shape), "f") for s in ordered]

    def save_own_variables(self, store) -> None:
        """Writes the layer's variables into ``store`` under ``"0"``, ``"1"``…, in Keras 3's
        order (``keras/src/layers/layer.py``, ``save_own_variables``: trainable variables,
        then the others)."""
        for i, value in enumerate(self.weights):
            store[str(i)] = value

    def load_own_variables(self, store) -> None:
        """Reads the variables ``save_own_variables`` wrote (``keras/src/layers/layer.py``,
        ``load_own_variables``).

        Raises:
            ValueError: when ``store`` holds another number of variables, or a shape
                differs.
        """
        expected = self.own_variable_specs()
        if len(store.keys()) != len(expected):
            raise ValueError(
                f"Layer {self.name!r} expects {len(expected)} variables; received "
                f"{len(store.keys())}"
            )
        self.set_weights([store[str(i)] for i in range(len(expected))])

    # --- configuration ------------------------------------------------------------------

    def get_config(self) -> dict:
        """The layer's config as Keras 3 writes it (without its weights).

        ``name``, ``trainable`` and ``dtype`` (a dtype policy), then the class's own keys;
        a declared input shape adds ``batch_input_shape`` (Keras keeps it in the model's
        ``InputLayer`` instead, so files leave it out).
        """
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_policy(config_module.floatx()),
        }
        if self.declared_input_shape is not None:
            config["batch_input_shape"] = (None, *self.declared_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        """A new layer from ``get_config()``'s dict (``cls(**config)``, as in Keras).

        Trusts ``config``; ``glassnet.saving`` checks a file's config against
        ``config_keys`` before it calls this.
        """
        return cls(**config)

    def __repr__(self) -> str:
        shape = (
            f" output_shape=(None, {', '.join(map(str, self.output_shape))})"
            if self.output_shape
            else ""
        )
        return f"<{type(self).__name__} name={self.name!r}{shape}>"


def as_float_array(value) -> np.ndarray:
    """``value`` as an array of ``floatx()``: the very object when it already is one (a
    tensor stays itself, so a tape links it to the node that made it)."""
    if isinstance(value, np.ndarray) and value.dtype == config_module.floatx():
        return value
    if getattr(value, "_glassnet_variable", False):
        return value.value
    return np.asarray(value, dtype=config_module.floatx())


def _slope_or_zeros(leaves: dict, value) -> np.ndarray:
    slope = leaves.get(id(value))
    return np.zeros_like(value) if slope is None else slope


def plain_tuple(values: tuple) -> tuple:
    """Each of ``values`` as a plain array (tensors viewed, no copy)."""
    return tuple(plain(value) for value in values)


def held_instances(owner, kinds: tuple, skip: frozenset = frozenset()) -> list:
    """The instances of ``kinds`` held in ``owner``'s attributes (those not in ``skip``),
    directly or in lists, tuples and dicts, in assignment order, each once: how Keras tracks
    the layers of a subclassed layer or model."""
    found: list = []
    seen: set[int] = set()

    def add(value) -> None:
        if isinstance(value, kinds):
            if id(value) not in seen and value is not owner:
                seen.add(id(value))
                found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                add(item)
        elif isinstance(value, dict):
            for item in value.values():
                add(item)

    for attribute, value in vars(owner).items():
        if attribute not in skip:
            add(value)
    return found


def call_with_training(owner, x, training: bool, kwargs: dict | None = None):
    """``owner.call(x, **kwargs)`` of a subclassed layer or model, with ``training=`` when
    its ``call`` takes it, as Keras passes it.

    Raises:
        TypeError: when ``call`` returns no array (or list or dict of arrays).
    """
    kwargs = dict(kwargs or {})
    try:
        takes_training = "training" in inspect.signature(owner.call).parameters
    except (TypeError, ValueError):
        takes_training = False
    if takes_training:
        kwargs["training"] = training
    out = owner.call(x, **kwargs)
    if not isinstance(out, (np.ndarray, np.generic, list, tuple, dict)):
        kind = "Layer" if isinstance(owner, Layer) else "Model"
        raise TypeError(
            f"{kind} {owner.name!r}: call() must return an array (or a list or dict of "
            f"arrays); it returned {type(out).__name__}"
        )
    return out
