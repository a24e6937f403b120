"""Layers without weights of their own: ``InputLayer``/``Input``, ``Activation``, ``Flatten``,
``Reshape`` and ``Dropout``."""

from __future__ import annotations

import numpy as np

from glassnet import activations as activations_module
from glassnet.layers import symbolic
from glassnet.layers.base import Layer, normalize_shape
from glassnet.layers.config_keys import key
from glassnet.ops.node import Record
from glassnet.utils.seeding import new_generator


class InputLayer(Layer):
    """Declares the shape of one input row; it passes data through unchanged.

    Args:
        shape: shape of one row, without the batch axis, e.g. ``(784,)``.
        batch_size: accepted for Keras compatibility.
        name: optional name.
    """

    def __init__(self, shape=None, batch_size=None, name=None, input_shape=None, **kwargs) -> None:
        shape = shape if shape is not None else input_shape
        if "batch_shape" in kwargs:
            shape = tuple(kwargs.pop("batch_shape"))[1:]
        kwargs.pop("sparse", None)
        kwargs.pop("ragged", None)
        if shape is None:
            raise ValueError(
                "InputLayer needs `shape`, the shape of one input row, e.g. shape=(4,)"
            )
        dtype = kwargs.get("dtype")
        super().__init__(name=name, input_shape=shape, **kwargs)
        self.batch_size = batch_size
        #: The symbolic tensor this layer gives a functional model.
        self.tensor = symbolic.input_tensor(
            self, self.declared_input_shape, dtype or "float32", self.name
        )

    def forward(self, x, training=False):
        return x, None

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out

    def get_config(self):
        return {"name": self.name, "batch_shape": (None, *self.declared_input_shape)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "batch_input_shape" in config:
            config["batch_shape"] = config.pop("batch_input_shape")
        config.pop("trainable", None)
        config.pop("dtype", None)
        return cls(**config)


def Input(shape=None, batch_size=None, name=None, **kwargs) -> symbolic.KerasTensor:  # noqa: N802 - Keras's name
    """``keras.Input``: a symbolic tensor of rows of ``shape``, the start of a functional
    model (``Model(inputs, outputs)``) or the first element of a ``Sequential``.

    Example:
        >>> from glassnet import Input
        >>> from glassnet.layers import Dense
        >>> from glassnet.models import Sequential
        >>> model = Sequential([Input(shape=(3,)), Dense(2)])
    """
    return InputLayer(shape=shape, batch_size=batch_size, name=name, **kwargs).tensor


class Activation(Layer):
    """Applies an activation function as a layer of its own.

    Args:
        activation: a name such as ``"relu"`` or an activation function.
    """

    config_keys = (key("activation", "activation"),)

    def __init__(self, activation, **kwargs) -> None:
        super().__init__(**kwargs)
        self.activation = activations_module.get(activation)

    def forward(self, x, training=False):
        a = self.activation(x)
        return a, Record(x, x, a)

    def backward(self, records, grad_out, need_grad_input=True):
        records.grad_a = grad_out
        records.grad_z = self.activation.backward(records.z, records.a, grad_out)
        return records.grad_z

    def forward_logits(self, x, training=False):
        """Records the input only; the caller supplies ``record.a`` (a fused loss does)."""
        return x, Record(x, x)

    def backward_from_z(self, records, grad_z, need_grad_input=True):
        """Backward from the slope at this layer's input (used when the loss is fused)."""
        records.grad_a = None
        records.grad_z = grad_z
        return grad_z

    def get_config(self):
        return {**super().get_config(), "activation": activations_module.serialize(self.activation)}


class Flatten(Layer):
    """Turns each row into a vector: ``(rows, 28, 28)`` becomes ``(rows, 784)``."""

    rows_independent = True  # see _ImageLayer.rows_independent

    config_keys = (key("data_format", "data_format"),)

    def __init__(self, data_format=None, **kwargs) -> None:
        super().__init__(**kwargs)

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        return x.reshape(len(x), -1), None

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out.reshape((len(grad_out), *self.input_shape))

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


class Reshape(Layer):
    """Reshapes each row to ``target_shape``."""

    rows_independent = True  # see _ImageLayer.rows_independent

    config_keys = (key("target_shape", "shape"),)

    def __init__(self, target_shape, **kwargs) -> None:
        super().__init__(**kwargs)
        self.target_shape = normalize_shape(target_shape, "target_shape")

    def compute_output_shape(self, input_shape):
        if np.prod(input_shape) != np.prod(self.target_shape):
            raise ValueError(
                f"Reshape {self.name!r} cannot turn rows of shape {input_shape} into "
                f"{self.target_shape}: the sizes differ"
            )
        return self.target_shape

    def forward(self, x, training=False):
        return x.reshape((len(x), *self.target_shape)), None

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out.reshape((len(grad_out), *self.input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Sets a random share ``rate`` of its inputs to 0 during training, scaling the rest by
    ``1 / (1 - rate)`` so that the expected sum is unchanged; does nothing at inference.

    Args:
        rate: the share of inputs to drop, in [0, 1).
        noise_shape: accepted for Keras compatibility (only ``None`` is supported).
        seed: fixes the masks; otherwise they come from the global seed.
    """

    config_keys = (
        key("rate", "number", minimum=0, below=1),
        key("seed", "seed"),
        key("noise_shape", "inert", why="glassnet draws one mask value per element"),
    )

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate!r}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=...) is not supported yet")
        self.rate = float(rate)
        self.seed = seed
        self.rng = new_generator(seed)

    def forward(self, x, training=False):
        """The output and the scaled mask of kept inputs (``None`` at inference)."""
        if not training or self.rate == 0:
            return x, None
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.rate
        mask = keep * x.dtype.type(1 / (1 - self.rate))
        return x * mask, mask

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out if records is None else grad_out * records

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": None}
