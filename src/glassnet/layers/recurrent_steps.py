"""The step-by-step maths of the recurrent cells, forward and backward through time.

Each cell reads a sequence already projected by its input kernel (``inputs``: one row of
``x_t @ kernel + bias`` per step, shape ``(steps, batch, gates * units)``, computed for all
steps in one product by the layer) and runs one ``(batch, units) @ recurrent_kernel``
product per step. Backward walks the steps from last to first, carrying the slope of the
loss at the state back one step at a time; it returns the slope at every step's projected
input (so the layer gets the input kernel's slope and the input's slope as one product
each) and the values fed to the recurrent kernel at every step (so the layer gets the
recurrent kernel's slope as one product too).

The formulas are Keras 3's cells (``keras/src/layers/rnn/simple_rnn.py``, ``lstm.py``,
``gru.py``, each ``call``); gates are laid out along the last axis in Keras's order:
LSTM ``i, f, c, o``; GRU ``z, r, h``.

Recurrent dropout (``rec_masks``): ``None``, or one ``(batch, units)`` mask per gate (a list
of ``gates`` arrays; SimpleRNN has one gate), fixed for the whole sequence as Keras draws
them; the state feeding gate ``g`` is multiplied by ``rec_masks[g]``.

Masked steps (``step_mask``): ``None``, or ``(steps, batch, 1)`` of 1s and 0s in the order the
steps run, 0 where a row's step is padding. As Keras's loop does (``keras/src/backend/
tensorflow/rnn.py``, ``rnn``: ``tf.where(mask_t, new_state, state)``), a masked step keeps
the state (and the LSTM's carry) from the step before, so ``states[t + 1] = states[t]`` on
those rows; backward passes the slope at that state straight to the step before and gives
the step's gate inputs no slope. ``gates`` then holds what each step computed before the
mask chose (the candidate state), which the activation's backward reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class StepRecords:
    """What a cell computed at every step, time first (``(steps, batch, ...)``).

    Attributes:
        states: the state before each step and after the last, ``(steps + 1, batch, units)``
            (``states[0]`` is the initial state, ``states[t + 1]`` the output of step ``t``).
        z: each gate's input (the weighted sums), ``(steps, batch, gates * units)``.
        gates: each gate's output (its activation of ``z``), same shape.
        carries: the LSTM's cell state, ``(steps + 1, batch, units)`` (``None`` otherwise).
        extra: per-step values a cell's backward needs (the LSTM's ``activation(c)``, the
            GRU's recurrent products).
    """

    states: np.ndarray
    z: np.ndarray
    gates: np.ndarray
    carries: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


def _keep(new: np.ndarray, old: np.ndarray, m) -> np.ndarray:
    """The state after a step: ``new`` where the step counts, ``old`` where it is masked."""
    return new if m is None else np.where(m > 0, new, old)


def _masked(h: np.ndarray, rec_masks, g: int) -> np.ndarray:
    return h if rec_masks is None else h * rec_masks[g]


def _recurrent_product(h, recurrent, units, gates, rec_masks, columns=None) -> np.ndarray:
    """``h @ recurrent`` (each gate's block with its own dropout mask when there are
    masks); ``columns`` limits it to the first gates."""
    count = gates if columns is None else columns
    if rec_masks is None:
        return h @ recurrent[:, : count * units]
    return np.concatenate(
        [(h * rec_masks[g]) @ recurrent[:, g * units : (g + 1) * units] for g in range(count)],
        axis=-1,
    )


def _recurrent_backward(d_z, recurrent, units, gates, rec_masks, columns=None) -> np.ndarray:
    """The slope at ``h`` from the slope at ``h @ recurrent`` (masks applied)."""
    count = gates if columns is None else columns
    if rec_masks is None:
        return d_z @ recurrent[:, : count * units].T
    out = np.zeros((d_z.shape[0], recurrent.shape[0]), dtype=d_z.dtype)
    for g in range(count):
        block = slice(g * units, (g + 1) * units)
        out += (d_z[:, block] @ recurrent[:, block].T) * rec_masks[g]
    return out


def recurrent_kernel_slope(
    fed: np.ndarray, d_z: np.ndarray, units: int, gates: int, rec_masks
) -> np.ndarray:
    """The recurrent kernel's slope from every step at once: ``fed`` are the states that
    fed it, ``(steps, batch, units)``, ``d_z`` the slopes at its products."""
    flat_h = fed.reshape(-1, fed.shape[-1])
    flat_d = d_z.reshape(-1, d_z.shape[-1])
    if rec_masks is None:
        return flat_h.T @ flat_d
    steps = fed.shape[0]
    blocks = []
    for g in range(gates):
        masked = (fed * rec_masks[g]).reshape(steps * fed.shape[1], -1)
        blocks.append(masked.T @ flat_d[:, g * units : (g + 1) * units])
    return np.concatenate(blocks, axis=-1)


# --- SimpleRNN -----------------------------------------------------------------------------


def simple_forward(inputs, recurrent, h0, activation, rec_masks=None,
                   step_mask=None) -> StepRecords:
    """``h_t = activation(inputs_t + h_{t-1} @ recurrent)`` (``h_{t-1}`` kept on masked
    steps)."""
    steps, batch, units = inputs.shape
    states = np.empty((steps + 1, batch, units), dtype=inputs.dtype)
    states[0] = h0
    z = np.empty_like(inputs)
    if step_mask is None:
        for t in range(steps):
            np.add(inputs[t], _recurrent_product(states[t], recurrent, units, 1, rec_masks),
                   out=z[t])
            states[t + 1] = activation(z[t])
        return StepRecords(states, z, states[1:])
    candidates = np.empty_like(inputs)
    for t in range(steps):
        np.add(inputs[t], _recurrent_product(states[t], recurrent, units, 1, rec_masks), out=z[t])
        candidates[t] = activation(z[t])
        states[t + 1] = _keep(candidates[t], states[t], step_mask[t])
    return StepRecords(states, z, candidates)


def simple_backward(rec: StepRecords, d_out, recurrent, activation, rec_masks=None,
                    step_mask=None):
    """Slopes at every step's projected input and at the initial state; ``d_out`` is the
    slope at every step's output, ``(steps, batch, units)``."""
    steps, _, units = rec.z.shape
    d_z = np.empty_like(rec.z)
    d_h = np.zeros_like(rec.states[0])
    for t in range(steps - 1, -1, -1):
        d_h = d_h + d_out[t]
        m = None if step_mask is None else step_mask[t]
        d_z[t] = activation.backward(rec.z[t], rec.gates[t], d_h if m is None else d_h * m)
        d_prev = _recurrent_backward(d_z[t], recurrent, units, 1, rec_masks)
        d_h = d_prev if m is None else d_prev + d_h * (1 - m)
    return d_z, d_h


# --- LSTM ----------------------------------------------------------------------------------


def lstm_forward(inputs, recurrent, h0, c0, activation, recurrent_activation,
                 rec_masks=None, step_mask=None) -> StepRecords:
    """Keras's LSTM step: ``z = inputs_t + h_{t-1} @ recurrent``; gates ``i, f, o`` are
    ``recurrent_activation`` of theirs, the candidate ``g = activation(z_c)``;
    ``c_t = f * c_{t-1} + i * g`` and ``h_t = o * activation(c_t)``."""
    steps, batch, width = inputs.shape
    units = width // 4
    states = np.empty((steps + 1, batch, units), dtype=inputs.dtype)
    carries = np.empty_like(states)
    states[0], carries[0] = h0, c0
    z = np.empty_like(inputs)
    gates = np.empty_like(inputs)
    squashed = np.empty((steps, batch, units), dtype=inputs.dtype)
    c_block = slice(2 * units, 3 * units)
    for t in range(steps):
        np.add(inputs[t], _recurrent_product(states[t], recurrent, units, 4, rec_masks), out=z[t])
        gates[t] = recurrent_activation(z[t])  # i, f and o; the c block is redone below
        gates[t][:, c_block] = activation(z[t][:, c_block])
        i, f, g = gates[t][:, :units], gates[t][:, units : 2 * units], gates[t][:, c_block]
        carry = f * carries[t] + i * g
        squashed[t] = activation(carry)
        state = gates[t][:, 3 * units :] * squashed[t]
        m = None if step_mask is None else step_mask[t]
        carries[t + 1] = _keep(carry, carries[t], m)
        states[t + 1] = _keep(state, states[t], m)
    return StepRecords(states, z, gates, carries, {"squashed": squashed})


def lstm_backward(rec: StepRecords, d_out, recurrent, activation, recurrent_activation,
                  rec_masks=None, step_mask=None):
    """Slopes at every step's projected input, the initial state and initial carry."""
    steps, batch, width = rec.z.shape
    units = width // 4
    squashed = rec.extra["squashed"]
    d_z = np.empty_like(rec.z)
    d_h = np.zeros((batch, units), dtype=rec.z.dtype)
    d_c = np.zeros_like(d_h)
    blocks = [slice(k * units, (k + 1) * units) for k in range(4)]
    for t in range(steps - 1, -1, -1):
        d_h = d_h + d_out[t]
        m = None if step_mask is None else step_mask[t]
        if m is not None:  # a masked row's slopes go to the step before, untouched
            d_h, d_h_kept = d_h * m, d_h * (1 - m)
            d_c, d_c_kept = d_c * m, d_c * (1 - m)
        z, a = rec.z[t], rec.gates[t]
        i, f, g, o = (a[:, b] for b in blocks)
        # (on a masked row carries[t + 1] is the kept carry, but its slope there is 0)
        d_c = d_c + activation.backward(rec.carries[t + 1], squashed[t], d_h * o)
        d_gate = np.empty_like(a)
        d_gate[:, blocks[0]] = d_c * g
        d_gate[:, blocks[1]] = d_c * rec.carries[t]
        d_gate[:, blocks[2]] = d_c * i
        d_gate[:, blocks[3]] = d_h * squashed[t]
        d_z[t] = recurrent_activation.backward(z, a, d_gate)
        d_z[t][:, blocks[2]] = activation.backward(z[:, blocks[2]], g, d_gate[:, blocks[2]])
        d_c = d_c * f
        d_h = _recurrent_backward(d_z[t], recurrent, units, 4, rec_masks)
        if m is not None:
            d_c = d_c + d_c_kept
            d_h = d_h + d_h_kept
    return d_z, d_h, d_c


# --- GRU -----------------------------------------------------------------------------------


def gru_forward(inputs, recurrent, recurrent_bias, h0, activation, recurrent_activation,
                reset_after: bool, rec_masks=None, step_mask=None) -> StepRecords:
    """Keras's GRU step. Update gate ``z`` and reset gate ``r`` are ``recurrent_activation``
    of ``inputs + h_{t-1} @ recurrent`` (their blocks); the candidate is
    ``activation(inputs_h + r * (h_{t-1} @ recurrent_h + recurrent_bias_h))`` with
    ``reset_after`` (Keras's default) or ``activation(inputs_h + (r * h_{t-1}) @
    recurrent_h)`` without; ``h_t = z * h_{t-1} + (1 - z) * candidate``."""
    steps, batch, width = inputs.shape
    units = width // 3
    states = np.empty((steps + 1, batch, units), dtype=inputs.dtype)
    states[0] = h0
    z = np.empty_like(inputs)
    gates = np.empty_like(inputs)
    inner = np.empty((steps, batch, units), dtype=inputs.dtype)  # what r multiplies
    zr, hb = slice(0, 2 * units), slice(2 * units, 3 * units)
    for t in range(steps):
        h = states[t]
        if reset_after:
            product = _recurrent_product(h, recurrent, units, 3, rec_masks)
            if recurrent_bias is not None:
                product += recurrent_bias
            z[t][:, zr] = inputs[t][:, zr] + product[:, zr]
            gates[t][:, zr] = recurrent_activation(z[t][:, zr])
            inner[t] = product[:, hb]
            z[t][:, hb] = inputs[t][:, hb] + gates[t][:, units:hb.start] * inner[t]
        else:
            product = _recurrent_product(h, recurrent, units, 3, rec_masks, columns=2)
            z[t][:, zr] = inputs[t][:, zr] + product
            gates[t][:, zr] = recurrent_activation(z[t][:, zr])
            inner[t] = gates[t][:, units:hb.start] * _masked(h, rec_masks, 2)
            z[t][:, hb] = inputs[t][:, hb] + inner[t] @ recurrent[:, hb]
        gates[t][:, hb] = activation(z[t][:, hb])
        update = gates[t][:, :units]
        new = update * h + (1 - update) * gates[t][:, hb]
        states[t + 1] = _keep(new, h, None if step_mask is None else step_mask[t])
    return StepRecords(states, z, gates, extra={"inner": inner})


def gru_backward(rec: StepRecords, d_out, recurrent, activation, recurrent_activation,
                 reset_after: bool, rec_masks=None, step_mask=None):
    """Slopes at every step's projected input, at the recurrent products (``reset_after``:
    ``h @ recurrent + recurrent_bias`` for all gates; otherwise the ``z, r`` blocks and the
    candidate's ``(r * h) @ recurrent_h``) and at the initial state."""
    steps, batch, width = rec.z.shape
    units = width // 3
    inner = rec.extra["inner"]
    d_z = np.empty_like(rec.z)
    d_product = np.empty_like(rec.z)
    d_h = np.zeros((batch, units), dtype=rec.z.dtype)
    zb, rb, hb = (slice(k * units, (k + 1) * units) for k in range(3))
    for t in range(steps - 1, -1, -1):
        d_h = d_h + d_out[t]
        m = None if step_mask is None else step_mask[t]
        if m is not None:  # a masked row's slope goes to the step before, untouched
            d_h, d_h_kept = d_h * m, d_h * (1 - m)
        h = rec.states[t]
        a = rec.gates[t]
        update, reset, candidate = a[:, zb], a[:, rb], a[:, hb]
        d_gate = np.empty_like(a)
        d_gate[:, zb] = d_h * (h - candidate)
        d_cand = activation.backward(rec.z[t][:, hb], candidate, d_h * (1 - update))
        d_z[t][:, hb] = d_cand
        d_next = d_h * update
        if reset_after:
            d_gate[:, rb] = d_cand * inner[t]
            d_z[t][:, :hb.start] = recurrent_activation.backward(
                rec.z[t][:, :hb.start], a[:, :hb.start], d_gate[:, :hb.start])
            d_product[t][:, :hb.start] = d_z[t][:, :hb.start]
            d_product[t][:, hb] = d_cand * reset
            d_next += _recurrent_backward(d_product[t], recurrent, units, 3, rec_masks)
        else:
            d_inner = d_cand @ recurrent[:, hb].T
            d_gate[:, rb] = d_inner * _masked(h, rec_masks, 2)
            d_z[t][:, :hb.start] = recurrent_activation.backward(
                rec.z[t][:, :hb.start], a[:, :hb.start], d_gate[:, :hb.start])
            d_product[t][:, :hb.start] = d_z[t][:, :hb.start]
            d_product[t][:, hb] = d_cand
            d_next += _recurrent_backward(d_z[t][:, :hb.start], recurrent, units, 3, rec_masks,
                                          columns=2)
            d_next += _masked(d_inner * reset, rec_masks, 2)
        d_h = d_next if m is None else d_next + d_h_kept
    return d_z, d_product, d_h
