"""``Lambda``: a Python function as a layer (``keras/src/layers/core/lambda_layer.py``).

The function runs on a recording tape (``glassnet.ops.recording``), so when it is built of
glassnet layers or recorded ops its slope is the tape's backward pass; a function that
computes its output some other way (plain NumPy) has no slope glassnet knows, and training
through it is refused with a message.

A ``Lambda`` holds Python code, so it is never written to or read from a model file:
``glassnet.saving`` refuses it in files (Keras refuses it too in its default safe mode), and
glassnet has no unsafe mode.
"""

from __future__ import annotations

import inspect

import numpy as np

from glassnet.layers.base import Layer, normalize_shape
from glassnet.layers.config_keys import key
from glassnet.ops.tape import recording
from glassnet.ops.tensor import as_tensor


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer.

    Args:
        function: a function of one array (it may take ``training=``, as in Keras).
        output_shape: the shape of one output row, or a function of the input shape;
            found by running the function on one row of zeros when not given.
        mask: accepted for Keras compatibility (glassnet's layers do not use masks).
        arguments: keyword arguments passed to the function.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Lambda
        >>> Lambda(lambda x: x * 2)(np.array([[1.0, 2.0]]))
        array([[2., 4.]], dtype=float32)
    """

    config_keys = (
        key("function", "fixed", allowed=(None,), why="Python code (a Lambda layer)"),
        key("output_shape", "inert"),
        key("mask", "inert"),
        key("arguments", "inert"),
    )

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"Lambda expects a function. Received: function={function!r} of type "
                f"{type(function).__name__}"
            )
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self._output_shape = output_shape
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):
            parameters = {}
        self._takes_training = "training" in parameters

    def _call_function(self, x, training):
        kwargs = dict(self.arguments)
        if self._takes_training:
            kwargs["training"] = training
        return self.function(x, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            probe = np.zeros((1, *input_shape), dtype=np.float32)
            return tuple(np.shape(self._call_function(probe, False))[1:])
        if callable(self._output_shape):
            shape = tuple(self._output_shape((None, *input_shape)))
            return tuple(shape[1:]) if shape and shape[0] is None else shape
        return normalize_shape(self._output_shape, "output_shape")

    def forward(self, x, training=False):
        """The function's output, and the tape of the glassnet operations it ran."""
        x = as_tensor(x)  # NumPy calls on it are recorded as ops, so they have slopes
        with recording() as tape:
            out = self._call_function(x, training)
            if not isinstance(out, np.ndarray):
                out = np.asarray(out)
        return out, (tape, x, out)

    def backward(self, records, grad_out, need_grad_input=True):
        tape, x, out = records
        if out is x:
            return grad_out
        made = {id(node.output) for node in tape}
        if id(out) not in made:
            raise ValueError(
                f"Lambda {self.name!r}: its function computed its output outside glassnet's "
                "recorded layers and ops, so its slope is unknown; build it of glassnet "
                "layers, or use it where no slope is needed (inference)"
            )
        slopes = tape.backward(out, grad_out)
        grad = slopes.get(id(x))
        return np.zeros_like(x) if grad is None else grad

    @classmethod
    def from_config(cls, config: dict) -> Lambda:
        """A ``Lambda`` from ``get_config()``'s dict, whose ``function`` is a Python
        function. A config that holds the function as data (Keras's ``__lambda__`` with
        bytecode, a name) is refused: glassnet never turns data into code.

        Raises:
            ValueError: when ``function`` is not a function.
        """
        function = config.get("function")
        if not callable(function):
            raise ValueError(
                "Requested the deserialization of a `Lambda` layer whose `function` is not a "
                f"Python function (received {type(function).__name__}). glassnet never runs code "
                "from a config or a model file; rebuild the layer with its function"
            )
        return cls(**config)

    def get_config(self):
        config = {**super().get_config(), "function": self.function}
        if self._output_shape is not None:
            config["output_shape"] = self._output_shape
        if self.mask is not None:
            config["mask"] = self.mask
        config["arguments"] = dict(self.arguments)
        return config
