"""``Dense``: every input node connected to every output node.

Forward, for a batch ``x`` of shape ``(rows, inputs)`` (rows of higher rank, such as
``(rows, steps, inputs)``, are mapped along their last axis, as Keras does)::

    z = x @ kernel + bias        # each node's input: the weighted sum of what feeds it
    a = activation(z)            # each node's output

Backward, from ``grad_a`` (slope of the loss at each node's output)::

    grad_z = grad_a * activation'(z)   # slope at each node's input
    grad_kernel = x.T @ grad_z         # value feeding in × slope at the node fed, summed over rows
    grad_bias = grad_z.sum(axis=0)
    grad_x = grad_z @ kernel.T         # a node's slope: the sum over the weights leaving it

These are the course's three factors: for the weight from node ``i`` to node ``j``, the
slope is ``x_i × grad_a_j × activation'(z_j)``. ``forward`` returns a ``Record`` of ``x``,
``z`` and ``a`` with its output, and ``backward`` adds ``grad_a`` and ``grad_z`` to it:
the numbers the glass box reads from the node the pass left on its tape.
"""

from __future__ import annotations

import numpy as np

from glassnet import activations as activations_module
from glassnet import constraints as constraints_module
from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet.layers.base import Layer, WeightSpec, _positive_int
from glassnet.layers.config_keys import initializer_config, key, regularizer_config
from glassnet.ops.node import Record


class Dense(Layer):
    """A densely connected layer, ``activation(x @ kernel + bias)``.

    Args:
        units: number of output nodes.
        activation: activation name or function; ``None`` means linear.
        use_bias: whether to add a bias.
        kernel_initializer: Keras default ``"glorot_uniform"``.
        bias_initializer: Keras default ``"zeros"``.
        kernel_regularizer, bias_regularizer: optional penalties added to the loss.
        kernel_constraint, bias_constraint: optional constraints (``glassnet.constraints``)
            the optimizer applies to the kernel and bias after each update.
        **kwargs: ``name``, ``input_shape``, ``input_dim``, ``trainable``.

    Example:
        >>> from glassnet.layers import Dense
        >>> layer = Dense(100, activation="relu", input_shape=(10,))
        >>> layer.units
        100
    """

    # keras/src/layers/core/dense.py, get_config; quantization_config and LoRA are left out
    # of written configs (older Keras 3 versions refuse them; see docs/model-files.md).
    config_keys = (
        key("units", "int"),
        key("activation", "activation"),
        key("use_bias", "bool", True),
        key("kernel_initializer", "initializer", "glorot_uniform"),
        key("bias_initializer", "initializer", "zeros"),
        key("kernel_regularizer", "regularizer"),
        key("bias_regularizer", "regularizer"),
        key("kernel_constraint", "constraint"),
        key("bias_constraint", "constraint"),
        key("activity_regularizer", "inert"),
        key("quantization_config", "fixed", allowed=(None,), why="quantized layers"),
        key("lora_rank", "fixed", allowed=(None,), why="LoRA-adapted layers"),
        key("lora_alpha", "fixed", allowed=(None,), why="LoRA-adapted layers"),
    )

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        # applied by the optimizer after each update (``<weight>_constraint``, as in Keras)
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self.bias_constraint = constraints_module.get(bias_constraint)
        for what, value in (("activity_regularizer", activity_regularizer),):
            if value is not None:
                raise NotImplementedError(
                    f"Dense does not support `{what}` yet (received {value!r})"
                )
        self._linear = isinstance(self.activation, activations_module.Linear)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def weight_specs(self, input_shape):
        specs = [
            WeightSpec(
                "kernel",
                (input_shape[-1], self.units),
                self.kernel_initializer,
                regularizer=self.kernel_regularizer,
            )
        ]
        if self.use_bias:
            specs.append(
                WeightSpec(
                    "bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer
                )
            )
        return specs

    def forward(self, x, training=False):
        z, record = self.forward_logits(x)
        record.a = z if self._linear else self.activation(z)
        return record.a, record

    def forward_logits(self, x, training=False):
        """Computes ``z`` only; the caller supplies ``record.a`` (a fused loss does)."""
        z = x @ self.kernel
        if self.use_bias:
            z += self.bias
        return z, Record(x, z)

    def backward(self, records, grad_out, need_grad_input=True):
        record = records
        grad_z = (
            grad_out if self._linear else self.activation.backward(record.z, record.a, grad_out)
        )
        record.grad_a = grad_out
        record.grad_z = grad_z
        return self._backward_weights(record.x, grad_z, need_grad_input)

    def backward_from_z(self, records, grad_z, need_grad_input=True):
        """Backward from the slope at the nodes' inputs (used when the loss is fused)."""
        records.grad_a = None  # a fused loss gives the slope at z directly; there is none at a
        records.grad_z = grad_z
        return self._backward_weights(records.x, grad_z, need_grad_input)

    def _backward_weights(self, x, grad_z, need_grad_input):
        if self.trainable:
            if x.ndim > 2:  # every position of every row is one more row of the product
                np.matmul(
                    x.reshape(-1, x.shape[-1]).T,
                    grad_z.reshape(-1, self.units),
                    out=self.grad_kernel,
                )
                if self.use_bias:
                    grad_z.sum(axis=tuple(range(grad_z.ndim - 1)), out=self.grad_bias)
            else:
                np.matmul(x.T, grad_z, out=self.grad_kernel)
                if self.use_bias:
                    grad_z.sum(axis=0, out=self.grad_bias)
        return grad_z @ self.kernel.T if need_grad_input else None

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializer_config(self.kernel_initializer),
            "bias_initializer": initializer_config(self.bias_initializer),
            "kernel_regularizer": regularizer_config(self.kernel_regularizer),
            "bias_regularizer": regularizer_config(self.bias_regularizer),
            "kernel_constraint": _serialize_constraint(self.kernel_constraint),
            "bias_constraint": _serialize_constraint(self.bias_constraint),
        }


def _serialize_constraint(constraint):
    """A built-in constraint as Keras writes it; ``None`` for none. A constraint that is
    not one of ``glassnet.constraints`` (a plain function) cannot be written to a file."""
    if constraint is None:
        return None
    if not isinstance(constraint, constraints_module.Constraint):
        raise ValueError(
            f"A constraint that is not a glassnet.constraints.Constraint cannot be saved in a "
            f"layer's config. Received: {constraint!r}"
        )
    return constraints_module.serialize(constraint)
