"""The fast path for a model made only of ``Dense`` layers.

Most networks people train with glassnet, the course's among them, are a chain of ``Dense``
layers. For small batches a training step costs far more in NumPy calls than in arithmetic
(each call costs about a microsecond whatever its size), so this module runs such a chain
with the fewest calls it can, computing exactly what the layer-by-layer path computes
(``Layer.forward``/``backward``, which stays the reference it is tested against):

* **The bias rides inside the matrix product.** A ``Dense`` layer's kernel ``(n_in, units)``
  and bias ``(units,)`` lie next to each other in the model's flat parameter array, so
  together they are one ``(n_in + 1, units)`` matrix. Each layer writes its output into a
  buffer that has an extra column of ones, so the next layer computes ``x @ kernel + bias``
  as one product, and its weight slopes ``x.T @ grad_z`` and ``grad_z.sum(axis=0)`` as one
  product too. When the input is narrow (at most 256 columns, as tabular data), the first
  layer's input gets that column as well in a training pass: ``fit`` gathers the shuffled
  rows into such an array once per epoch, and any other batch is copied into one, so
  every training pass computes the same numbers whatever fed it. Wide inputs (images),
  and every inference pass, add the first bias separately instead: copying a wide batch
  costs more than the addition it saves.
* **Buffers are reused.** Every pass writes into arrays allocated once per batch size (per
  thread, so concurrent ``predict`` calls do not share them), with ``np.dot(..., out=)``.

The layers' records of the last pass (``x``, ``z``, ``a``, ``grad_a``, ``grad_z``, what the
glass box reads) are views of these buffers, so the next pass overwrites them: copy a
record to keep it (``glassnet.explain`` returns copies).
"""

from __future__ import annotations

import threading

import numpy as np

from glassnet import activations
from glassnet.layers.dense import Dense

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


class _Buffers:
    """The arrays that passes of ``rows`` rows write into, and the per-layer argument tuples
    the passes loop over (prepared once, so that a pass does little besides NumPy calls).
    Those of backward are made on first use: inference allocates only what it needs."""

    def __init__(self, chain: DenseChain, rows: int) -> None:
        self.chain, self.rows = chain, rows
        widths, dtype = chain.widths, chain.dtype
        # inputs[i] feeds layer i (i >= 1): the previous layer's output and a column of ones.
        self.inputs = [None] + [np.ones((rows, w + 1), dtype) for w in widths[1:-1]]
        self.z = [np.empty((rows, w), dtype) for w in widths[1:]]
        self.nbytes = sum(a.nbytes for a in self.inputs[1:] + self.z)
        layers = chain.layers
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
        self.x = None  # the first layer's input in the last training pass
        self.x_has_ones = False
        self.x_with_ones = self.back_links = self.last_grad_z = self.last_mask = None

    def make_backward(self) -> None:
        chain, rows, widths, dtype = self.chain, self.rows, self.chain.widths, self.chain.dtype
        layers = chain.layers
        if chain.fold_first:
            self.x_with_ones = np.ones((rows, widths[0] + 1), dtype)
        grad_z = [np.empty((rows, w), dtype) for w in widths[1:]]
        grad_a = [np.empty((rows, w), dtype) for w in widths[1:-1]]
        mask = [
            np.empty((rows, w), dtype if rows * w <= _FLOAT_MASK_MAX_VALUES else bool)
            for w in widths[1:]
        ]
        self.last_grad_z, self.last_mask = grad_z[-1], mask[-1]
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
            )
            for i in range(len(layers) - 1, 0, -1)
        ]


class DenseChain:
    """Forward and backward passes of a chain of ``Dense`` layers with few NumPy calls.

    Use ``DenseChain.for_model(layers, storage)``, which returns ``None`` when the layers
    are not such a chain (another kind of layer, a layer without bias or frozen, weights not
    laid out kernel-then-bias in the trainable storage).
    """

    def __init__(self, layers: list[Dense], storage, spans: dict) -> None:
        """``spans``: ``(layer name, weight name) -> (start, stop)`` in the storage."""
        self.layers = layers
        self.storage = storage
        self.dtype = storage.parameters.dtype
        self.kernel_and_bias = []
        self.grad_kernel_and_bias = []
        for layer in layers:
            start, _ = spans[(layer.name, "kernel")]
            _, stop = spans[(layer.name, "bias")]
            shape = (layer.kernel.shape[0] + 1, layer.units)
            self.kernel_and_bias.append(storage.parameters[start:stop].reshape(shape))
            self.grad_kernel_and_bias.append(storage.gradients[start:stop].reshape(shape))
        self.kernel_t = [layer.kernel.T for layer in layers]
        self.kind = [_kind(layer.activation) for layer in layers]
        self.widths = [layers[0].kernel.shape[0]] + [layer.units for layer in layers]
        #: Whether an inference pass returns a buffer (the last ``z``, for a linear output)
        #: rather than a new array.
        self.output_is_buffer = self.kind[-1] is _LINEAR
        #: Whether training passes fold the first layer's bias (batches then carry ones).
        self.fold_first = self.widths[0] <= _FOLD_FIRST_MAX_INPUTS
        self._local = threading.local()  # per thread: buffers by batch size, the last pass

    @classmethod
    def for_model(cls, layers: list, storage) -> DenseChain | None:
        """The chain for these layers, or ``None`` when the layer-by-layer path must run."""
        if not layers or storage is None:
            return None
        spans = {(layer, weight): (start, stop) for layer, weight, start, stop in storage.slices}
        for layer in layers:
            if type(layer) is not Dense or not layer.use_bias or not layer.trainable:
                return None
            kernel = spans.get((layer.name, "kernel"))
            bias = spans.get((layer.name, "bias"))
            if kernel is None or bias is None or kernel[1] != bias[0]:
                return None
        return cls(layers, storage, spans)

    def _buffers(self, rows: int) -> _Buffers:
        cache = self._local.__dict__.setdefault("by_rows", {})
        buffers = cache.get(rows)
        if buffers is None:
            buffers = _Buffers(self, rows)
            if buffers.nbytes <= _MAX_CACHED_BYTES:
                if len(cache) >= _MAX_CACHED_SIZES:
                    cache.pop(next(iter(cache)))
                cache[rows] = buffers
        return buffers

    def forward(
        self,
        x: np.ndarray,
        x_has_ones: bool = False,
        logits: bool = False,
        training: bool = False,
    ) -> np.ndarray:
        """The output of the chain for ``x``; each layer records ``x``, ``z`` and ``a``.

        Args:
            x: a batch, ``(rows, inputs)``, or ``(rows, inputs + 1)`` ending in a column of
                ones when ``x_has_ones``.
            x_has_ones: whether ``x`` carries the column of ones for the first bias (only
                when ``fold_first``).
            logits: stop at the last layer's ``z`` (a fused loss applies its activation).
            training: ``backward`` follows this pass.
        """
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        buf = self._buffers(len(x))
        first = self.layers[0]
        z = buf.z[0]
        if training:
            self._local.last = buf
            if buf.back_links is None:
                buf.make_backward()
            if self.fold_first and not x_has_ones:
                np.copyto(buf.x_with_ones[:, :-1], x)
                x, x_has_ones = buf.x_with_ones, True
            buf.x, buf.x_has_ones = x, x_has_ones
        if x_has_ones:
            np.dot(x, self.kernel_and_bias[0], out=z)
            first.x = x[:, :-1]
        else:
            np.dot(x, first.kernel, out=z)
            z += first.bias
            first.x = x
        first.z = z
        for layer, kind, z, a, h, following, weights, z_following in buf.links:
            if kind is _RELU:
                np.maximum(z, 0, out=a)
            elif kind is _LINEAR:
                np.copyto(a, z)
            else:
                np.copyto(a, layer.activation(z))
            layer.a = a
            np.dot(h, weights, out=z_following)
            following.x, following.z = a, z_following
        last = self.layers[-1]
        z = buf.z[-1]
        if logits:
            return z
        last.a = z if self.kind[-1] is _LINEAR else last.activation(z)
        return last.a

    def backward(self, grad_out: np.ndarray, from_logits: bool = False) -> None:
        """Writes every weight slope into the model's gradient array (after a training pass).

        Args:
            grad_out: slope at the last layer's output, or at its ``z`` when ``from_logits``.
        """
        buf = self._local.last
        last = self.layers[-1]
        if from_logits:
            last.grad_a = None
            grad_z = grad_out
        else:
            last.grad_a = grad_out
            grad_z = _activation_backward(
                last, self.kind[-1], grad_out, buf.last_mask, buf.last_grad_z
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
        ) in buf.back_links:
            np.dot(input_t, grad_z, out=grad_weights)
            np.dot(grad_z, kernel_t, out=grad_a)
            below.grad_a = grad_a
            grad_z = _activation_backward(below, kind, grad_a, mask, grad_z_below)
            below.grad_z = grad_z
        first = self.layers[0]
        if buf.x_has_ones:
            np.dot(buf.x.T, grad_z, out=self.grad_kernel_and_bias[0])
        else:
            np.dot(buf.x.T, grad_z, out=first.grad_kernel)
            np.add.reduce(grad_z, axis=0, out=first.grad_bias)


_RELU, _LINEAR, _OTHER = "relu", "linear", "other"


def _kind(activation) -> str:
    if isinstance(activation, activations.ReLU):
        return _RELU
    if isinstance(activation, activations.Linear):
        return _LINEAR
    return _OTHER


def _activation_backward(layer, kind: str, grad_a, mask, out) -> np.ndarray:
    """The slope at a layer's ``z`` from the slope at its output ``a``."""
    if kind is _LINEAR:
        return grad_a
    if kind is _RELU:
        # ReLU's slope is 1 where a = max(z, 0) > 0, else 0: a > 0, or sign(a) as floats.
        if mask.dtype == bool:
            np.greater(layer.a, 0, out=mask)
        else:
            np.sign(layer.a, out=mask)
        return np.multiply(grad_a, mask, out=out)
    return layer.activation.backward(layer.z, layer.a, grad_a)
