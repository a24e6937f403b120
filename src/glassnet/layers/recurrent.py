"""Recurrent layers: ``SimpleRNN``, ``LSTM`` and ``GRU`` (Keras 3's, with Keras's numbers).

A recurrent layer reads a sequence ``(batch, timesteps, features)`` one step at a time. At
each step its nodes take two things in: the step's features (weighted by ``kernel``) and
their own outputs from the step before, the *state* (weighted by ``recurrent_kernel``). So
one set of weights is used at every step, and the state carries what the layer has seen
so far. The output is the last step's state, or every step's with ``return_sequences``.

How glassnet computes it: the input part of every step does not depend on the state, so it
is one matrix product for the whole sequence (``x @ kernel + bias``); then one
``(batch, units) @ recurrent_kernel`` product per step (``glassnet.layers.recurrent_steps``).
Backward runs the steps in reverse (backpropagation through time) and gets each kernel's
slope as one product over all steps.

Semantics follow Keras 3: ``keras/src/layers/rnn/rnn.py`` (the loop, ``go_backwards``,
``return_sequences``, ``get_config``), ``simple_rnn.py``, ``lstm.py`` and ``gru.py`` (the
cells, arguments, defaults, dropout masks and configs).

Masks (after ``Embedding(mask_zero=True)`` or ``Masking``; ``glassnet.layers.masks`` says
how they travel): ``forward(x, training, mask)`` takes the ``(batch, timesteps)`` mask, and a
masked step keeps the state and output of the step before, as Keras's loop does
(``keras/src/backend/tensorflow/rnn.py``, ``rnn``); with ``zero_output_for_mask`` a masked
step outputs zeros instead (``Bidirectional`` sets it with ``return_sequences``).

Not supported (each raises a ``ValueError`` saying so): ``return_state=True`` (a layer with
several outputs), ``stateful=True`` and ``initial_state=``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet import activations as activations_module
from glassnet import constraints as constraints_module
from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet.layers import recurrent_steps as steps_module
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import initializer_config, key, regularizer_config
from glassnet.utils.seeding import new_generator


def _units(units) -> int:
    # keras/src/layers/rnn/lstm.py (LSTMCell.__init__), and the same in gru.py, simple_rnn.py
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(
            "Received an invalid value for argument `units`, "
            f"expected a positive integer, got {units}."
        )
    return int(units)


def _rate(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"`{what}` must be a number between 0 and 1. Received: {what}={value!r}")
    return min(1.0, max(0.0, float(value)))  # Keras clamps (LSTMCell.__init__)


def _use_cudnn(value):
    """Keras's ``use_cudnn`` (lstm.py, LSTM.__init__): which kernel runs on a GPU; glassnet
    has one, so only the value is checked."""
    if value not in ("auto", True, False):
        raise ValueError(
            "Invalid valid received for argument `use_cudnn`. "
            "Expected one of {'auto', True, False}. "
            f"Received: use_cudnn={value}"
        )
    return value


def _constraint_config(constraint):
    return None if constraint is None else constraints_module.serialize(constraint)


class _ForgetBias(initializers_module.Initializer):
    """The LSTM's ``unit_forget_bias``: the forget gate's block of the bias starts at 1, the
    others from the bias initializer (``lstm.py``, ``LSTMCell.build``)."""

    def __init__(self, base: initializers_module.Initializer) -> None:
        self.base = base

    def __call__(self, shape, dtype=None):
        units = shape[0] // 4
        return np.concatenate([
            np.asarray(self.base((units,), dtype=dtype), dtype=dtype),
            np.ones((units,), dtype=dtype),
            np.asarray(self.base((2 * units,), dtype=dtype), dtype=dtype),
        ])


@dataclass
class RecurrentRecord:
    """What a recurrent layer's forward keeps: for its backward and for the glass box.

    Attributes:
        x: the sequence as the steps read it, time first ``(timesteps, batch, features)``
            (reversed with ``go_backwards``).
        inputs: each step's input part of the gates' sums (``x_t @ kernel + bias``).
        steps: per-step states, gate inputs ``z`` and gate outputs
            (``glassnet.layers.recurrent_steps.StepRecords``).
        in_masks, rec_masks: the dropout masks of this pass (``None`` when off).
        a: the layer's output.
        step_mask: the steps that count, time first in the order they ran, ``(timesteps,
            batch, 1)`` of 1s and 0s (``None`` without a mask).
    """

    x: np.ndarray
    inputs: np.ndarray
    steps: steps_module.StepRecords
    in_masks: list | None
    rec_masks: list | None
    a: Any = None
    step_mask: np.ndarray | None = None


class RNNLayer(Layer):
    """What ``SimpleRNN``, ``LSTM`` and ``GRU`` share: the arguments of Keras's ``RNN``
    base, the input checks, dropout masks, the loop's direction and the output.

    A subclass sets ``gates`` (blocks of ``units`` columns in each kernel) and implements
    ``_run`` and ``_run_backward`` with its cell from ``recurrent_steps``.
    """

    gates = 1
    #: Read by ``glassnet.layers.masks``: the layer skips the masked steps of a mask coming
    #: in (models hand it to ``forward``), and passes the mask on with ``return_sequences``.
    skips_masked_steps = True

    _rnn_keys = (
        key("return_sequences", "bool", False),
        key("return_state", "bool", False),
        key("go_backwards", "bool", False),
        key("stateful", "bool", False),
        key("unroll", "bool", False),
        key("zero_output_for_mask", "bool", False),
    )
    _weight_keys = (
        key("use_bias", "bool", True),
        key("kernel_initializer", "initializer", "glorot_uniform"),
        key("recurrent_initializer", "initializer", "orthogonal"),
        key("bias_initializer", "initializer", "zeros"),
        key("kernel_regularizer", "regularizer"),
        key("recurrent_regularizer", "regularizer"),
        key("bias_regularizer", "regularizer"),
        key("activity_regularizer", "inert"),
        key("kernel_constraint", "constraint"),
        key("recurrent_constraint", "constraint"),
        key("bias_constraint", "constraint"),
        key("dropout", "number", 0.0),
        key("recurrent_dropout", "number", 0.0),
        key("seed", "seed"),
    )

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs,
    ) -> None:
        self.implementation = int(kwargs.pop("implementation", 2))
        units = _units(units)
        super().__init__(**kwargs)
        kind = type(self).__name__
        if return_state:
            raise ValueError(
                f"{kind} {self.name!r}: return_state=True is not supported by glassnet (a layer "
                "with several outputs); use return_sequences=True and take the last step, "
                "or leave return_state out"
            )
        if stateful:
            raise ValueError(
                f"{kind} {self.name!r}: stateful=True is not supported by glassnet; every "
                "batch starts from a zero state"
            )
        if activity_regularizer is not None:
            raise NotImplementedError(f"{kind} does not support `activity_regularizer` yet")
        self.units = units
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.recurrent_initializer = initializers_module.get(recurrent_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers_module.get(recurrent_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        # the optimizer applies ``<weight name>_constraint`` after each update
        self.kernel_constraint = constraints_module.get(kernel_constraint)
        self.recurrent_constraint = constraints_module.get(recurrent_constraint)
        self.recurrent_kernel_constraint = self.recurrent_constraint
        self.bias_constraint = constraints_module.get(bias_constraint)
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        if self.recurrent_dropout != 0.0:
            self.implementation = 1  # as Keras: one mask per gate
        self.seed = seed
        self.rng = new_generator(seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = False
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)  # Keras unrolls the loop in its graph; same numbers
        self.zero_output_for_mask = bool(zero_output_for_mask)

    # --- shapes and weights -------------------------------------------------------------

    def _check_sequence_shape(self, input_shape) -> None:
        if len(input_shape) != 2:
            got = (None, *input_shape)
            hint = (
                "x.reshape(batch, timesteps, features), or put an Embedding first for "
                "integer ids"
                if len(input_shape) == 1
                else "reshape it to (batch, timesteps, features)"
            )
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) expects input of shape "
                f"(batch, timesteps, features) (ndim=3); received input of shape {got} "
                f"(ndim={len(got)}). Give it a sequence: {hint}"
            )

    def build(self, input_shape) -> None:
        """Builds the layer for ``(batch, timesteps, features)`` (the batch may be ``None``
        or a number, as Keras takes it) or ``(timesteps, features)``."""
        shape = tuple(input_shape)
        if len(shape) == 3:
            shape = shape[1:]
        super().build(shape)

    def compute_output_shape(self, input_shape):
        self._check_sequence_shape(input_shape)
        if self.return_sequences:
            return (input_shape[0], self.units)
        return (self.units,)

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def weight_specs(self, input_shape):
        self._check_sequence_shape(input_shape)
        width = self.gates * self.units
        specs = [
            WeightSpec("kernel", (input_shape[-1], width), self.kernel_initializer,
                       regularizer=self.kernel_regularizer),
            WeightSpec("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                       regularizer=self.recurrent_regularizer),
        ]
        if self.use_bias:
            specs.append(WeightSpec("bias", self._bias_shape(), self._bias_initializer(),
                                    regularizer=self.bias_regularizer))
        return specs

    def variable_groups(self) -> list[tuple[str, int]]:
        """Where a Keras 3 file keeps the variables (``save_own_variables`` order): Keras
        stores them in the cell (``layers/lstm/cell/vars``), none in the layer's ``vars``."""
        return [("vars", 0), ("cell/vars", len(self.own_variable_specs()))]

    # --- forward and backward -----------------------------------------------------------

    def _masks(self, batch: int, features: int, dtype, training: bool):
        """Keras's dropout masks (``dropout_rnn_cell.py``): drawn once per call and used at
        every step; one per gate when ``implementation == 1`` (as recurrent dropout sets),
        else one shared. ``None`` when off."""
        count = self.gates if self.implementation == 1 else 1

        def draw(rate, width):
            if not training or not 0.0 < rate < 1.0:
                return None
            scale = dtype.type(1.0 / (1.0 - rate))
            return [(self.rng.random((batch, width)) >= rate).astype(dtype) * scale
                    for _ in range(count)]

        in_masks = draw(self.dropout, features)
        rec_masks = draw(self.recurrent_dropout, self.units)
        if rec_masks is not None and len(rec_masks) == 1 and self.gates > 1:
            rec_masks = rec_masks * self.gates
        return in_masks, rec_masks

    def _project(self, xt: np.ndarray, in_masks) -> np.ndarray:
        """Every step's input part, ``x_t @ kernel (+ input bias)``, in one product (one per
        gate when each gate has its own dropout mask)."""
        units = self.units
        if in_masks is None:
            out = xt @ self.kernel
        elif len(in_masks) == 1:
            out = (xt * in_masks[0]) @ self.kernel
        else:
            out = np.concatenate(
                [(xt * m) @ self.kernel[:, g * units : (g + 1) * units]
                 for g, m in enumerate(in_masks)], axis=-1)
        if self.use_bias:
            out += self._input_bias()
        return out

    def _input_bias(self) -> np.ndarray:
        return self.bias

    def _project_backward(self, record: RecurrentRecord, d_inputs, need_grad_input: bool):
        """The input kernel's and input bias's slopes (one product over all steps) and the
        slope at the sequence (time first)."""
        xt, in_masks, units = record.x, record.in_masks, self.units
        flat_d = d_inputs.reshape(-1, d_inputs.shape[-1])
        if self.trainable:
            if in_masks is None or len(in_masks) == 1:
                fed = xt if in_masks is None else xt * in_masks[0]
                np.matmul(fed.reshape(-1, fed.shape[-1]).T, flat_d, out=self.grad_kernel)
            else:
                for g, m in enumerate(in_masks):
                    block = slice(g * units, (g + 1) * units)
                    self.grad_kernel[:, block] = (
                        (xt * m).reshape(-1, xt.shape[-1]).T @ flat_d[:, block])
            if self.use_bias:
                self._input_bias_grad()[...] = flat_d.sum(axis=0)
        if not need_grad_input:
            return None
        if in_masks is None:
            return d_inputs @ self.kernel.T
        if len(in_masks) == 1:
            return (d_inputs @ self.kernel.T) * in_masks[0]
        d_x = np.zeros_like(xt)
        for g, m in enumerate(in_masks):
            block = slice(g * units, (g + 1) * units)
            d_x += (d_inputs[..., block] @ self.kernel[:, block].T) * m
        return d_x

    def _input_bias_grad(self) -> np.ndarray:
        return self.grad_bias

    def _step_mask(self, mask, x: np.ndarray) -> np.ndarray | None:
        """The ``(batch, timesteps)`` mask as the steps read it: time first, in their order,
        ``(timesteps, batch, 1)`` of 1s and 0s in ``x``'s dtype."""
        if mask is None:
            return None
        mask = np.asarray(mask)
        if mask.shape != x.shape[:2]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the mask must have shape (batch, "
                f"timesteps) = {x.shape[:2]}; received {mask.shape}"
            )
        steps = mask.astype(bool).T[::-1] if self.go_backwards else mask.astype(bool).T
        return np.ascontiguousarray(steps, dtype=x.dtype)[:, :, None]

    def forward(self, x, training=False, mask=None):
        """The output for ``x`` ``(batch, timesteps, features)``; ``mask`` ``(batch,
        timesteps)``, false for the steps to skip (``None``: every step counts)."""
        if x.ndim != 3:
            self._check_sequence_shape(x.shape[1:])
        sequence = x[:, ::-1] if self.go_backwards else x
        xt = np.ascontiguousarray(sequence.transpose(1, 0, 2))
        step_mask = self._step_mask(mask, x)
        in_masks, rec_masks = self._masks(x.shape[0], x.shape[2], xt.dtype, training)
        inputs = self._project(xt, in_masks)
        steps = self._run(inputs, rec_masks, step_mask)
        outputs = steps.states[1:]
        if step_mask is not None and self.zero_output_for_mask:
            outputs = outputs * step_mask  # rnn.py: zeros, not the step before, when masked
        if self.return_sequences:
            out = np.ascontiguousarray(outputs.transpose(1, 0, 2))
        else:
            out = outputs[-1].copy()
        record = RecurrentRecord(xt, inputs, steps, in_masks, rec_masks, out, step_mask)
        return out, record

    def backward(self, records, grad_out, need_grad_input=True):
        record: RecurrentRecord = records
        steps = record.x.shape[0]
        if self.return_sequences:
            d_out = np.ascontiguousarray(grad_out.transpose(1, 0, 2))
        else:
            d_out = np.zeros((steps, *grad_out.shape), dtype=grad_out.dtype)
            d_out[-1] = grad_out
        if record.step_mask is not None and self.zero_output_for_mask:
            d_out = d_out * record.step_mask
        d_inputs = self._run_backward(record, d_out)
        d_xt = self._project_backward(record, d_inputs, need_grad_input)
        if d_xt is None:
            return None
        d_x = d_xt.transpose(1, 0, 2)
        return np.ascontiguousarray(d_x[:, ::-1] if self.go_backwards else d_x)

    def _run(self, inputs, rec_masks, step_mask=None) -> steps_module.StepRecords:
        raise NotImplementedError

    def _run_backward(self, record: RecurrentRecord, d_out) -> np.ndarray:
        raise NotImplementedError

    def _zero_state(self, inputs) -> np.ndarray:
        return np.zeros((inputs.shape[1], self.units), dtype=inputs.dtype)

    def _recurrent_slope(self, record: RecurrentRecord, d_product) -> None:
        if self.trainable:
            self.grad_recurrent_kernel[...] = steps_module.recurrent_kernel_slope(
                record.steps.states[:-1], d_product, self.units, self.gates, record.rec_masks)

    def __call__(self, inputs, training: bool = False, **kwargs):
        if kwargs.get("initial_state") is not None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `initial_state=` is not supported by "
                "glassnet; every sequence starts from a zero state"
            )
        kwargs.pop("initial_state", None)
        return call_with_mask(self, inputs, training, kwargs)

    # --- configuration ------------------------------------------------------------------

    def get_config(self):
        # rnn.py (RNN.get_config) first, then the cell's keys as lstm.py/gru.py order them
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": False,
            "go_backwards": self.go_backwards,
            "stateful": False,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            **self._cell_config(),
        }

    def _weights_config(self) -> dict:
        return {
            "kernel_initializer": initializer_config(self.kernel_initializer),
            "recurrent_initializer": initializer_config(self.recurrent_initializer),
            "bias_initializer": initializer_config(self.bias_initializer),
        }

    def _penalties_config(self) -> dict:
        return {
            "kernel_regularizer": regularizer_config(self.kernel_regularizer),
            "recurrent_regularizer": regularizer_config(self.recurrent_regularizer),
            "bias_regularizer": regularizer_config(self.bias_regularizer),
            "activity_regularizer": None,
            "kernel_constraint": _constraint_config(self.kernel_constraint),
            "recurrent_constraint": _constraint_config(self.recurrent_constraint),
            "bias_constraint": _constraint_config(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }

    def _cell_config(self) -> dict:
        raise NotImplementedError


class SimpleRNN(RNNLayer):
    """A fully connected recurrent layer: ``h_t = activation(x_t @ kernel +
    h_{t-1} @ recurrent_kernel + bias)`` (``keras/src/layers/rnn/simple_rnn.py``).

    Args:
        units: the number of nodes (the size of the state and of the output).
        activation: Keras default ``"tanh"``.
        return_sequences: give every step's output ``(batch, timesteps, units)`` instead of
            the last one ``(batch, units)``.
        go_backwards: read the sequence from its last step to its first (the returned
            sequence is in that reversed order, as in Keras).
        dropout, recurrent_dropout: shares of the inputs and of the state dropped while
            training, with one mask per sequence used at every step.
        The other arguments are Keras's (initializers, regularizers, constraints, seed,
        ``unroll``, which changes nothing here).

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import SimpleRNN
        >>> SimpleRNN(4)(np.zeros((2, 5, 3))).shape
        (2, 4)
    """

    # Keras 3.15's SimpleRNN takes a seed but writes none in its config (simple_rnn.py,
    # SimpleRNN.get_config), so a file never holds one: read as ignored should one appear.
    config_keys = (
        *RNNLayer._rnn_keys,
        key("units", "int"),
        key("activation", "activation"),
        *(k for k in RNNLayer._weight_keys if k.name != "seed"),
        key("seed", "ignored"),
    )

    def _run(self, inputs, rec_masks, step_mask=None):
        return steps_module.simple_forward(inputs, self.recurrent_kernel,
                                           self._zero_state(inputs), self.activation, rec_masks,
                                           step_mask)

    def _run_backward(self, record, d_out):
        d_inputs, _ = steps_module.simple_backward(record.steps, d_out, self.recurrent_kernel,
                                                   self.activation, record.rec_masks,
                                                   record.step_mask)
        self._recurrent_slope(record, d_inputs)
        return d_inputs

    def _cell_config(self):
        return {
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            **self._weights_config(),
            **self._penalties_config(),
        }  # Keras 3.15's SimpleRNN writes no seed (simple_rnn.py, SimpleRNN.get_config)


class LSTM(RNNLayer):
    """Long short-term memory (``keras/src/layers/rnn/lstm.py``).

    Four gates of ``units`` nodes each, in Keras's order: input ``i``, forget ``f``,
    candidate ``c`` and output ``o``; each step ``c_t = f * c_{t-1} + i * g`` (``g`` the
    candidate) and ``h_t = o * activation(c_t)``. ``kernel`` is ``(features, 4 * units)``,
    ``recurrent_kernel`` ``(units, 4 * units)``, ``bias`` ``(4 * units,)``.

    Args:
        units: the number of nodes of each gate (the size of the output).
        activation: Keras default ``"tanh"`` (candidate and output squashing).
        recurrent_activation: Keras default ``"sigmoid"`` (the gates).
        unit_forget_bias: start the forget gate's bias at 1 (Keras default ``True``).
        The others as ``SimpleRNN``.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import LSTM
        >>> LSTM(4, return_sequences=True)(np.zeros((2, 5, 3))).shape
        (2, 5, 4)
    """

    gates = 4
    config_keys = (
        *RNNLayer._rnn_keys,
        key("units", "int"),
        key("activation", "activation"),
        key("recurrent_activation", "activation"),
        key("unit_forget_bias", "bool", True),
        *RNNLayer._weight_keys,
    )

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, use_cudnn="auto",
                 **kwargs) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations_module.get(recurrent_activation)
        self.use_cudnn = _use_cudnn(use_cudnn)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        return _ForgetBias(self.bias_initializer) if self.unit_forget_bias else (
            self.bias_initializer)

    def _run(self, inputs, rec_masks, step_mask=None):
        zero = self._zero_state(inputs)
        return steps_module.lstm_forward(inputs, self.recurrent_kernel, zero, zero,
                                         self.activation, self.recurrent_activation, rec_masks,
                                         step_mask)

    def _run_backward(self, record, d_out):
        d_inputs, _, _ = steps_module.lstm_backward(
            record.steps, d_out, self.recurrent_kernel, self.activation,
            self.recurrent_activation, record.rec_masks, record.step_mask)
        self._recurrent_slope(record, d_inputs)
        return d_inputs

    def _cell_config(self):
        return {
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "recurrent_activation": activations_module.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **self._weights_config(),
            "unit_forget_bias": self.unit_forget_bias,
            **self._penalties_config(),
            "seed": self.seed,
        }


class GRU(RNNLayer):
    """Gated recurrent unit (``keras/src/layers/rnn/gru.py``).

    Three gates in Keras's order: update ``z``, reset ``r`` and candidate ``h``; each step
    ``h_t = z * h_{t-1} + (1 - z) * candidate``. With ``reset_after=True`` (Keras's default)
    the reset gate multiplies the recurrent product of the candidate and ``bias`` is
    ``(2, 3 * units)`` (input bias, recurrent bias); with ``False`` it multiplies the state
    before the product and ``bias`` is ``(3 * units,)``.

    Args:
        units, activation, recurrent_activation: as ``LSTM``.
        reset_after: see above.
        The others as ``SimpleRNN``.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import GRU
        >>> GRU(4)(np.zeros((2, 5, 3))).shape
        (2, 4)
    """

    gates = 3
    config_keys = (
        *RNNLayer._rnn_keys,
        key("units", "int"),
        key("activation", "activation"),
        key("recurrent_activation", "activation"),
        *RNNLayer._weight_keys,
        key("reset_after", "bool", True),
    )

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 reset_after: bool = True, use_cudnn="auto",
                 **kwargs) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations_module.get(recurrent_activation)
        self.use_cudnn = _use_cudnn(use_cudnn)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def _input_bias(self):
        return self.bias[0] if self.reset_after else self.bias

    def _input_bias_grad(self):
        return self.grad_bias[0] if self.reset_after else self.grad_bias

    def _run(self, inputs, rec_masks, step_mask=None):
        recurrent_bias = self.bias[1] if self.use_bias and self.reset_after else None
        return steps_module.gru_forward(
            inputs, self.recurrent_kernel, recurrent_bias, self._zero_state(inputs),
            self.activation, self.recurrent_activation, self.reset_after, rec_masks, step_mask)

    def _run_backward(self, record, d_out):
        d_inputs, d_product, _ = steps_module.gru_backward(
            record.steps, d_out, self.recurrent_kernel, self.activation,
            self.recurrent_activation, self.reset_after, record.rec_masks, record.step_mask)
        if not self.trainable:
            return d_inputs
        units = self.units
        if self.reset_after:
            self._recurrent_slope(record, d_product)
            if self.use_bias:
                self.grad_bias[1] = d_product.reshape(-1, 3 * units).sum(axis=0)
        else:
            zr = slice(0, 2 * units)
            self.grad_recurrent_kernel[:, zr] = steps_module.recurrent_kernel_slope(
                record.steps.states[:-1], d_product[..., zr], units, 2, record.rec_masks)
            inner = record.steps.extra["inner"]  # r * h (masked): what recurrent_h multiplies
            self.grad_recurrent_kernel[:, 2 * units :] = (
                inner.reshape(-1, units).T @ d_product[..., 2 * units :].reshape(-1, units))
        return d_inputs

    def _cell_config(self):
        return {
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "recurrent_activation": activations_module.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **self._weights_config(),
            **self._penalties_config(),
            "reset_after": self.reset_after,
            "seed": self.seed,
        }


RECURRENT_CLASSES = {cls.__name__: cls for cls in (SimpleRNN, LSTM, GRU)}


def call_with_mask(layer: Layer, inputs, training: bool, kwargs: dict):
    """A recurrent layer (or ``Bidirectional``) called as Keras calls it: on arrays with an
    optional ``mask=`` ``(batch, timesteps)``; on symbolic tensors, the mask comes from the
    layers before (``glassnet.layers.masks``), and an explicit ``mask=`` is refused."""
    mask = kwargs.pop("mask", None)
    if mask is None:
        return Layer.__call__(layer, inputs, training=training, **kwargs)
    from glassnet.layers import symbolic

    if symbolic.is_symbolic(inputs) or symbolic.is_symbolic(mask):
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: `mask=` in a functional graph is not "
            "supported by glassnet; masks come from Embedding(mask_zero=True) or Masking"
        )
    if kwargs:
        unknown = ", ".join(sorted(kwargs))
        raise TypeError(f"Layer {layer.name!r} got unexpected keyword argument(s): {unknown}")
    return layer._call_arrays(inputs, training, {"mask": np.asarray(mask)})
