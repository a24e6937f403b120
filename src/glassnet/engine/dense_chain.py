"""How a run of ``Dense`` layers runs: as one chain, one node on the model's tape.

Most networks people train with glassnet, the course's among them, are a chain of ``Dense``
layers. For small batches a training step costs far more in NumPy calls than in arithmetic
(each call costs about a microsecond whatever its size), so this module runs such a chain
with the fewest calls it can, computing exactly what each layer's own ``forward`` and
``backward`` compute (the reference it is tested against):

* **The bias rides inside the matrix product.** A ``Dense`` layer's kernel ``(n_in, units)``
  and bias ``(units,)`` lie next to each other in the model's flat parameter array, so
  together they are one ``(n_in + 1, units)`` matrix. Each layer writes its output into a
  buffer that has an extra column of ones, so the next layer computes ``x @ kernel + bias``
  as one product, and its weight slopes ``x.T @ grad_z`` and ``grad_z.sum(axis=0)`` as one
  product too. When the input is narrow (at most 256 columns, as tabular data), the first
  layer's input gets that column as well in a training pass: ``fit`` gathers the shuffled
  rows into such an array once per epoch, and any other batch is copied into one, so
  every pass, training or inference, computes the same numbers whatever fed it. Wide
  inputs (images), and a chain that reads something other than the model's input, add the
  first bias separately instead: copying a wide batch costs more than the addition it saves.
* **Buffers are reused.** Every pass writes into arrays allocated once per batch size (per
  thread, so concurrent ``predict`` calls do not share them), with ``np.dot(..., out=)``.
* **Siblings are one product.** In a functional model, ``Dense`` layers that read the same
  value and feed only a ``Concatenate`` can be one member of a chain (``DenseSiblings``):
  their kernels side by side, so that one product computes all their nodes.

A chain is one node on a model's tape. Its records (``ChainRecords``) hold one ``Record`` of
``x``, ``z``, ``a``, ``grad_a`` and ``grad_z`` per member, what the glass box reads
(``layer_passes`` gives them layer by layer, joined siblings each with their own columns);
they are views of these buffers, so the next pass overwrites them: copy a record to keep it
(``glassnet.explain`` returns copies).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from glassnet import activations
from glassnet.layers.dense import Dense
from glassnet.ops.node import Record

# Buffers for at most this many batch sizes are kept per thread (a fit uses two: the batch
# size and the last, smaller batch), and none for batches above this many bytes.
_MAX_CACHED_SIZES = 4
_MAX_CACHED_BYTES = 64 * 2**20
# Training folds the first layer's bias into its product for inputs up to this wide.
_FOLD_FIRST_MAX_INPUTS = 256
# ReLU's backward mask: a float mask from np.sign multiplies fastest for small arrays, a
# boolean one from np.greater for large ones (np.sign costs 42 µs on 1,024 x 100 values,
# np.greater 6; measured on the benchmark machine).
_FLOAT_MASK_MAX_VALUES = 4096


class ChainRecords:
    """What a chain's pass of ``rows`` rows leaves: the arrays it writes into, one ``Record``
    per layer (``records``, views of those arrays), and the per-layer argument tuples the
    passes loop over (prepared once, so that a pass does little besides NumPy calls).
    Those of backward are made on first use: inference allocates only what it needs."""

    def __init__(self, chain: DenseChain, rows: int) -> None:
        self.chain, self.rows = chain, rows
        widths, dtype = chain.widths, chain.dtype
        # inputs[i] feeds layer i (i >= 1): the previous layer's output and a column of ones.
        self.inputs = [None] + [np.ones((rows, w + 1), dtype) for w in widths[1:-1]]
        self.z = [np.empty((rows, w), dtype) for w in widths[1:]]
        self.nbytes = sum(a.nbytes for a in self.inputs[1:] + self.z)
        layers = chain.members
        #: For each layer but the last: activate it, then feed the next layer.
        self.links = [
            (
                layers[i],
                chain.kind[i],
                self.z[i],
                self.inputs[i + 1][:, :-1],
                self.inputs[i + 1],
                layers[i + 1],
                chain.kernel_and_bias[i + 1],
                self.z[i + 1],
            )
            for i in range(len(layers) - 1)
        ]
        #: One record per member (a ``Dense`` layer, or ``DenseSiblings`` side by side);
        #: every array but the first ``x`` and the last ``a`` (and the last slopes) is a
        #: buffer fixed here. ``layer_passes`` reads them layer by layer.
        self.records = [Record(z=z) for z in self.z]
        for i in range(1, len(layers)):
            self.records[i].x = self.inputs[i][:, :-1]
            self.records[i - 1].a = self.inputs[i][:, :-1]
        self.x = None  # the first layer's input in the last pass, with ones when folded
        self.x_has_ones = False
        self.x_with_ones = np.ones((rows, widths[0] + 1), dtype) if chain.fold_first else None
        self.back_links = self.last_grad_z = self.last_mask = self.grad_x = None

    def make_backward(self) -> None:
        chain, rows, widths, dtype = self.chain, self.rows, self.chain.widths, self.chain.dtype
        layers = chain.members
        grad_z = [np.empty((rows, w), dtype) for w in widths[1:]]
        grad_a = [np.empty((rows, w), dtype) for w in widths[1:-1]]
        mask = [
            np.empty((rows, w), dtype if rows * w <= _FLOAT_MASK_MAX_VALUES else bool)
            for w in widths[1:]
        ]
        self.last_grad_z, self.last_mask = grad_z[-1], mask[-1]
        for record, grad in zip(self.records[:-1], grad_a, strict=True):
            record.grad_a = grad
        if not chain.first:
            self.grad_x = np.empty((rows, widths[0]), dtype)
        #: From the last layer down to the second: its weight slopes, then the slopes of
        #: the layer below (at its output, then at its input).
        self.back_links = [
            (
                self.inputs[i].T,
                chain.grad_kernel_and_bias[i],
                chain.kernel_t[i],
                grad_a[i - 1],
                layers[i - 1],
                chain.kind[i - 1],
                mask[i - 1],
                grad_z[i - 1],
                self.records[i - 1],
            )
            for i in range(len(layers) - 1, 0, -1)
        ]

    def layer_passes(self) -> list[tuple[Any, Any, np.ndarray | None, Record | None]]:
        """``(layer, inputs, output, record)`` of every layer of the chain's last pass, in
        the order they ran: a ``Dense`` layer's own record, and for ``DenseSiblings`` one
        record per sibling (its columns of the shared arrays) and then the ``Concatenate``
        (its inputs, the siblings' outputs, and no record), as unfused passes leave them."""
        passes: list = []
        for member, record in zip(self.chain.members, self.records, strict=True):
            if type(member) is not DenseSiblings:
                passes.append((member, record.x, record.a, record))
                continue
            outputs = []
            for layer, columns in zip(member.layers, member.columns, strict=True):
                own = Record(
                    x=record.x,
                    z=_columns(record.z, columns),
                    a=_columns(record.a, columns),
                    grad_a=_columns(record.grad_a, columns),
                    grad_z=_columns(record.grad_z, columns),
                )
                outputs.append(own.a)
                passes.append((layer, own.x, own.a, own))
            passes.append((member.concat, tuple(outputs), record.a, None))
        return passes


def _columns(array: np.ndarray | None, columns: slice) -> np.ndarray | None:
    return None if array is None else array[:, columns]


class DenseSiblings:
    """``Dense`` layers that read the same value and whose outputs only a ``Concatenate``
    joins, along the last axis and in their order: one member of a chain, whose kernel and
    bias are theirs side by side, so that one product computes all their nodes (a functional
    model's branches, ``Concatenate()([Dense(32)(x), Dense(32)(x)])``).

    Each node's value is the same sum over the same inputs as in its own layer (the bias
    rides in the product, as in a chain). The layers keep their weights in the model's
    storage, where they do not lie side by side: ``gather`` copies them into this member's
    matrix before a pass, and ``scatter`` copies its weight slopes back into each layer's
    gradient views after backward. The layers must share one element-wise activation
    (``siblings`` checks it): applied to the joined columns it gives each layer's own.

    Args:
        layers: the ``Dense`` layers, in the order the ``Concatenate`` takes their outputs.
        concat: the ``Concatenate`` layer.
        spans: ``(layer name, weight name) -> (start, stop)`` in ``storage``.
    """

    def __init__(self, layers: list[Dense], concat, storage, spans: dict) -> None:
        self.layers = list(layers)
        self.concat = concat
        self.name = concat.name
        first = layers[0]
        inputs = first.kernel.shape[0]
        self.units = sum(layer.units for layer in layers)
        self.input_shape = first.input_shape
        self.activation = first.activation
        dtype = storage.parameters.dtype
        #: The joined kernel over the joined bias, and their slopes: the chain's matrices.
        self.kernel_and_bias = np.empty((inputs + 1, self.units), dtype)
        self.grad_kernel_and_bias = np.zeros((inputs + 1, self.units), dtype)
        self.kernel, self.bias = self.kernel_and_bias[:-1], self.kernel_and_bias[-1]
        self.grad_kernel = self.grad_kernel_and_bias[:-1]
        self.grad_bias = self.grad_kernel_and_bias[-1]
        self.columns: list[slice] = []
        self._copies = []
        end = 0
        bounds = []
        for layer in layers:
            columns = slice(end, end + layer.units)
            end += layer.units
            self.columns.append(columns)
            start, _ = spans[(layer.name, "kernel")]
            _, stop = spans[(layer.name, "bias")]
            bounds.append((start, stop))
            shape = (inputs + 1, layer.units)
            self._copies.append((
                storage.parameters[start:stop].reshape(shape),
                self.kernel_and_bias[:, columns],
                storage.gradients[start:stop].reshape(shape),
                self.grad_kernel_and_bias[:, columns],
            ))
        units = layers[0].units
        if all(layer.units == units for layer in layers) and all(
            stop == start for (_, stop), (start, _) in zip(bounds, bounds[1:], strict=False)
        ):
            # Layers of equal width whose weights lie one after another in the storage:
            # their (layers, inputs + 1, units) block, axes swapped, is the joined matrix,
            # so one copy each way moves them all.
            start, stop = bounds[0][0], bounds[-1][1]
            block = (len(layers), inputs + 1, units)
            joined = (inputs + 1, len(layers), units)
            self._copies = [(
                storage.parameters[start:stop].reshape(block).transpose(1, 0, 2),
                self.kernel_and_bias.reshape(joined),
                storage.gradients[start:stop].reshape(block).transpose(1, 0, 2),
                self.grad_kernel_and_bias.reshape(joined),
            )]
        self.gather()

    def gather(self) -> None:
        """Copies the layers' current kernels and biases into the joined matrix."""
        for weights, joined, _, _ in self._copies:
            np.copyto(joined, weights)

    def scatter(self) -> None:
        """Copies the joined weight slopes into each layer's gradient views."""
        for _, _, grads, joined in self._copies:
            np.copyto(grads, joined)

    @staticmethod
    def siblings(layers: list, spans: dict) -> bool:
        """Whether ``layers`` (two or more) can be joined: each one a chain could take, all
        with the same number of inputs and the same element-wise activation (ReLU or
        linear, or one of the same class and config that acts on each value alone)."""
        if len(layers) < 2 or not all(DenseChain.takes(layer, spans) for layer in layers):
            return False
        first = layers[0]
        if any(layer.kernel.shape[0] != first.kernel.shape[0] for layer in layers):
            return False
        kind = _kind(first.activation)
        if kind is _OTHER and type(first.activation) not in _ELEMENTWISE:
            return False
        return all(
            type(layer.activation) is type(first.activation)
            and layer.activation.get_config() == first.activation.get_config()
            for layer in layers[1:]
        )


class DenseChain:
    """A run of ``Dense`` layers as one operation: few NumPy calls, reused buffers.

    ``forward`` and ``backward`` follow the layer protocol (``forward`` returns the output
    and its ``ChainRecords``; ``backward`` takes them back), so a model's plan runs a chain
    as one node. Make one with ``Plan`` (``glassnet.engine.plan``), which puts every run of
    layers that ``DenseChain.takes`` into a chain.

    Args:
        layers: the ``Dense`` layers (or ``DenseSiblings``), in order.
        storage: the model's weight storage.
        spans: ``(layer name, weight name) -> (start, stop)`` in the storage.
        first: whether the chain starts the model (its input then needs no slope, and a
            narrow input carries the first bias in its product).
        fold: whether a narrow input carries the first bias in its product (default:
            ``first``); a graph's chain that reads the model's input folds without being
            ``first``, so that a ``GradientTape`` still gets the slope at that input.
    """

    def __init__(
        self, layers: list, storage, spans: dict, first: bool = True, fold: bool | None = None
    ) -> None:
        #: What the chain computes, in order: ``Dense`` layers and ``DenseSiblings``.
        self.members = list(layers)
        #: Every layer of the chain in the order they run (a member's siblings and its
        #: ``Concatenate`` included), as the glass box and the tapes name them.
        self.layers = []
        for member in self.members:
            if type(member) is DenseSiblings:
                self.layers += [*member.layers, member.concat]
            else:
                self.layers.append(member)
        self.name = "+".join(layer.name for layer in self.layers)
        self.storage = storage
        self.first = first
        self.dtype = storage.parameters.dtype
        self.kernel_and_bias = []
        self.grad_kernel_and_bias = []
        for layer in self.members:
            if type(layer) is DenseSiblings:
                self.kernel_and_bias.append(layer.kernel_and_bias)
                self.grad_kernel_and_bias.append(layer.grad_kernel_and_bias)
                continue
            start, _ = spans[(layer.name, "kernel")]
            _, stop = spans[(layer.name, "bias")]
            shape = (layer.kernel.shape[0] + 1, layer.units)
            self.kernel_and_bias.append(storage.parameters[start:stop].reshape(shape))
            self.grad_kernel_and_bias.append(storage.gradients[start:stop].reshape(shape))
        #: The members whose weights are copies, refreshed each pass.
        self.joined = [m for m in self.members if type(m) is DenseSiblings]
        self.kernel_t = [layer.kernel.T for layer in self.members]
        self.kind = [_kind(layer.activation) for layer in self.members]
        self.widths = [self.members[0].kernel.shape[0]] + [m.units for m in self.members]
        #: Whether ``forward`` returns a buffer (the last ``z``, for a linear output) rather
        #: than a new array.
        self.output_is_buffer = self.kind[-1] is _LINEAR
        #: Whether passes fold the first layer's bias (batches then carry ones); by default
        #: when the chain starts the model.
        self.fold_first = (first if fold is None else fold) and (
            self.widths[0] <= _FOLD_FIRST_MAX_INPUTS
        )
        self._local = threading.local()  # per thread: buffers by batch size

    @staticmethod
    def takes(layer, spans: dict) -> bool:
        """Whether ``layer`` can run in a chain: a trainable ``Dense`` with a bias on rows
        that are vectors (the chain's buffers are matrices), whose kernel and bias lie next
        to each other in the trainable storage."""
        if type(layer) is DenseSiblings:
            return True
        if type(layer) is not Dense or not layer.use_bias or not layer.trainable:
            return False
        if layer.input_shape is None or len(layer.input_shape) != 1:
            return False
        kernel = spans.get((layer.name, "kernel"))
        bias = spans.get((layer.name, "bias"))
        return kernel is not None and bias is not None and kernel[1] == bias[0]

    def _buffers(self, rows: int) -> ChainRecords:
        cache = self._local.__dict__.setdefault("by_rows", {})
        buffers = cache.get(rows)
        if buffers is None:
            buffers = ChainRecords(self, rows)
            if buffers.nbytes <= _MAX_CACHED_BYTES:
                if len(cache) >= _MAX_CACHED_SIZES:
                    cache.pop(next(iter(cache)))
                cache[rows] = buffers
        return buffers

    def forward(
        self,
        x: np.ndarray,
        training: bool = False,
        x_has_ones: bool = False,
        logits: bool = False,
    ) -> tuple[np.ndarray, ChainRecords]:
        """The output of the chain for ``x``, and the records of the pass.

        Args:
            x: a batch, ``(rows, inputs)``, or ``(rows, inputs + 1)`` ending in a column of
                ones when ``x_has_ones``.
            training: ``backward`` may follow this pass.
            x_has_ones: whether ``x`` carries the column of ones for the first bias (only
                when ``fold_first``).
            logits: stop at the last layer's ``z`` (a fused loss applies the activation and
                supplies the last record's ``a``).
        """
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        for member in self.joined:
            member.gather()
        buf = self._buffers(len(x))
        if self.fold_first and not x_has_ones:
            np.copyto(buf.x_with_ones[:, :-1], x)
            x, x_has_ones = buf.x_with_ones, True
        buf.x, buf.x_has_ones = x, x_has_ones
        first = self.members[0]
        z = buf.z[0]
        if x_has_ones:
            np.dot(x, self.kernel_and_bias[0], out=z)
            buf.records[0].x = x[:, :-1]
        else:
            np.dot(x, first.kernel, out=z)
            z += first.bias
            buf.records[0].x = x
        for layer, kind, z, a, h, _following, weights, z_following in buf.links:
            if kind is _RELU:
                np.maximum(z, 0, out=a)
            elif kind is _LINEAR:
                np.copyto(a, z)
            else:
                np.copyto(a, layer.activation(z))
            np.dot(h, weights, out=z_following)
        z = buf.z[-1]
        if logits:
            return z, buf
        a = buf.records[-1].a = z if self.kind[-1] is _LINEAR else self.members[-1].activation(z)
        return a, buf

    def forward_logits(
        self, x: np.ndarray, training: bool = False, x_has_ones: bool = False
    ) -> tuple[np.ndarray, ChainRecords]:
        """``forward(..., logits=True)``: stops at the last layer's ``z``."""
        return self.forward(x, training, x_has_ones, True)

    def backward(
        self,
        records: ChainRecords,
        grad_out: np.ndarray,
        need_grad_input: bool = True,
        from_z: bool = False,
    ) -> np.ndarray | None:
        """Writes every weight slope into the model's gradient array and returns the slope
        at the chain's input (``None`` for a chain that starts the model).

        ``grad_out`` is the slope at the last layer's output, or with ``from_z`` at its
        ``z`` (a fused loss).
        """
        buf = records
        if buf.back_links is None:  # the pass ran in inference mode
            buf.make_backward()
        last = buf.records[-1]
        if from_z:
            last.grad_a = None
            grad_z = grad_out
        else:
            last.grad_a = grad_out
            grad_z = _activation_backward(
                self.members[-1], self.kind[-1], last, grad_out, buf.last_mask, buf.last_grad_z
            )
        last.grad_z = grad_z
        for (
            input_t,
            grad_weights,
            kernel_t,
            grad_a,
            below,
            kind,
            mask,
            grad_z_below,
            record,
        ) in buf.back_links:
            np.dot(input_t, grad_z, out=grad_weights)
            np.dot(grad_z, kernel_t, out=grad_a)
            grad_z = _activation_backward(below, kind, record, grad_a, mask, grad_z_below)
            record.grad_z = grad_z
        first = self.members[0]
        if buf.x_has_ones:
            np.dot(buf.x.T, grad_z, out=self.grad_kernel_and_bias[0])
        else:
            np.dot(buf.x.T, grad_z, out=first.grad_kernel)
            np.add.reduce(grad_z, axis=0, out=first.grad_bias)
        for member in self.joined:
            member.scatter()
        if need_grad_input and not self.first:
            return np.dot(grad_z, self.kernel_t[0], out=buf.grad_x)
        return None

    def backward_from_z(
        self, records: ChainRecords, grad_z: np.ndarray, need_grad_input: bool = True
    ) -> np.ndarray | None:
        """``backward(..., from_z=True)``: from the slope at the last layer's ``z``."""
        return self.backward(records, grad_z, need_grad_input, True)


_RELU, _LINEAR, _OTHER = "relu", "linear", "other"
# Activations that act on each value alone (whatever its neighbours), so that joined
# siblings may share one: not Softmax, nor a function of arguments.
_ELEMENTWISE = (
    activations.LeakyReLU, activations.ReLU6, activations.Tanh, activations.Sigmoid,
    activations.HardSigmoid, activations.HardSilu, activations.Elu, activations.Selu,
    activations.Softplus, activations.Softsign, activations.Silu, activations.Gelu,
    activations.Exponential, activations.Mish,
)


def _kind(activation) -> str:
    if isinstance(activation, activations.ReLU):
        return _RELU
    if isinstance(activation, activations.Linear):
        return _LINEAR
    return _OTHER


def _activation_backward(layer, kind: str, record: Record, grad_a, mask, out) -> np.ndarray:
    """The slope at a layer's ``z`` from the slope at its output ``a``."""
    if kind is _LINEAR:
        return grad_a
    if kind is _RELU:
        # ReLU's slope is 1 where a = max(z, 0) > 0, else 0: a > 0, or sign(a) as floats.
        if mask.dtype == bool:
            np.greater(record.a, 0, out=mask)
        else:
            np.sign(record.a, out=mask)
        return np.multiply(grad_a, mask, out=out)
    return layer.activation.backward(record.z, record.a, grad_a)
