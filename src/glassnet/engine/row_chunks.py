"""How a run of image layers runs: on chunks of rows, on every core.

A convolutional network spends its time in the image layers (convolutions, poolings), whose
arrays are large: one 128-image batch of Keras's MNIST convnet makes an 11 MB output in its
first convolution alone. Two things make such layers slow in NumPy, and one idea fixes both:

* **Memory, not arithmetic.** Gathering patches, adding biases, ReLU, pooling and their
  slopes each stream a whole batch through memory that does not fit in the processor's
  cache. Run on a chunk of a few rows at a time through *every* layer of the run, the
  arrays stay in cache from one layer to the next.
* **One core.** NumPy's element-wise work runs on one core, whatever the machine has.
  The rows of an image layer are independent of each other (its output for a row depends
  on that row only, and a weight's slope is a sum over rows), so chunks run side by side
  in worker threads; NumPy releases the interpreter lock inside its loops.

``RowChunkRun`` is one step of a ``Plan``: a maximal run of layers that declare
``rows_independent`` and contain at least one image layer. Its forward pass splits the
batch into chunks of ``chunk_rows`` rows, runs every layer's own ``forward`` on each chunk
(chunks in parallel, one worker thread per core, BLAS held to one thread meanwhile so that
the workers do not fight over the cores), and joins the outputs. Backward runs every
layer's own ``backward`` per chunk, in reverse; the weight slopes of chunk 0 go straight
to the layers, those of the other chunks to per-chunk buffers that are then added in
chunk order, so a pass is deterministic on a given machine. The numbers are those of the
layers run on the whole batch but for the order of the additions in a weight's slope
(a sum over chunks of sums over rows), which can differ in the last bits.

The glass box reads the run layer by layer (``RunRecords.layer_passes``): the chunks'
records joined into one record per layer, as if the layer had run on the whole batch.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from glassnet.engine.conv_pool import ConvPool
from glassnet.ops.node import Record

# A chunk holds about this many bytes of its widest array (input or output of a layer):
# 34 MNIST images at the first convolution of Keras's example (34 × 26 × 26 × 32 float32
# values), four chunks of a 128-row batch. Measured on Keras's MNIST convnet with two
# workers (bench/README.md, W6): 8-row chunks 26.5 ms per batch, 17 rows 21.6, 34 rows
# 19.9, 69 rows 20.2; smaller chunks pay more for the Python between the array
# operations (and the interpreter lock it holds) than they gain in cache.
CHUNK_BYTES = 3_000_000


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _Workers:
    """One pool of worker threads for every run in the process, made on first use, and
    the BLAS thread count held at one while they work (``threadpoolctl``, when
    installed; without it BLAS keeps its own threads and the chunks compete for cores)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._size = usable_cores()
        self._blas = None  # threadpoolctl's controllers of the loaded BLAS libraries
        self._blas_saved: list[int] = []
        self._inside = 0

    @property
    def size(self) -> int:
        return self._size

    def map(self, function, items: list) -> list:
        """``[function(item) for item in items]``, the items shared among the workers."""
        if self._size == 1 or len(items) == 1:
            return [function(item) for item in items]
        with self.single_threaded_blas():
            return list(self._executor().map(function, items))

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        max_workers=self._size, thread_name_prefix="glassnet-rows"
                    )
        return self._pool

    @contextmanager
    def single_threaded_blas(self):
        """BLAS on one thread inside (nested and concurrent uses are counted: the count
        BLAS had comes back when the last one leaves)."""
        with self._lock:
            if self._inside == 0:
                controllers = self._blas_controllers()
                self._blas_saved = [c.num_threads for c in controllers]
                for controller in controllers:
                    controller.set_num_threads(1)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if self._inside == 0:
                    for controller, count in zip(
                        self._blas_controllers(), self._blas_saved, strict=True
                    ):
                        controller.set_num_threads(count)

    def _blas_controllers(self) -> list:
        if self._blas is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self._blas = []
            else:
                self._blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        return self._blas


WORKERS = _Workers()


class RowChunkRun:
    """A run of row-independent layers, run on chunks of rows (see the module's text).

    Args:
        layers: planned and bound layers, each with ``rows_independent`` set.
    """

    def __init__(self, layers: list) -> None:
        self.layers = list(layers)
        widest = max(
            int(np.prod(shape))
            for layer in self.layers
            for shape in (layer.input_shape, layer.output_shape)
        )
        #: Rows per chunk: at least one, about ``CHUNK_BYTES`` of the widest array.
        self.chunk_rows = max(1, CHUNK_BYTES // (4 * max(widest, 1)))
        #: What runs on a chunk, in order: layers, and ``ConvPool`` pairs (a convolution
        #: and the max pooling after it as one unit, ``engine/conv_pool.py``).
        self.units = _units(self.layers)
        # Without a slope at the run's input, backward stops at its first unit with
        # weights (the layers in front of it have nothing to write).
        self._first_weighted = next(
            (i for i, unit in enumerate(self.units) if _weighted_layer(unit).weights),
            len(self.units),
        )
        self._local = threading.local()

    @staticmethod
    def takes(layer) -> bool:
        """Whether ``layer`` can be part of a run: its rows are independent and it has
        its own ``forward`` and ``backward``."""
        return bool(getattr(layer, "rows_independent", False)) and not layer._is_call_based()

    @staticmethod
    def worth_it(layers: list) -> bool:
        """A run pays for its chunks only when it holds an image layer's work."""
        return any(getattr(layer, "image_work", False) for layer in layers)

    @property
    def name(self) -> str:
        return "+".join(layer.name for layer in self.layers)

    # --- the passes ---------------------------------------------------------------------

    def chunks(self, rows: int) -> list[slice]:
        """The row slices of a batch of ``rows`` rows."""
        count = max(1, -(-rows // self.chunk_rows))
        bounds = [round(i * rows / count) for i in range(count + 1)]
        return [slice(bounds[i], bounds[i + 1]) for i in range(count)]

    def forward(self, x: np.ndarray, training: bool = False):
        """The run's output for ``x``, and its ``RunRecords``."""
        slices = self.chunks(len(x))
        if len(slices) == 1:
            out, passes = self._forward_chunk(x, training)
            return out, RunRecords(self, slices, [passes])
        results = WORKERS.map(lambda rows: self._forward_chunk(x[rows], training), slices)
        out = np.concatenate([result[0] for result in results])
        return out, RunRecords(self, slices, [result[1] for result in results])

    def _forward_chunk(self, x: np.ndarray, training: bool):
        passes = []
        for unit in self.units:
            out, record = unit.forward(x, training)
            passes.append((x, out, record))
            x = out
        return x, passes

    def backward(self, records: RunRecords, grad: np.ndarray, need_grad_input: bool = True):
        """Back-propagates ``grad`` (the slope at the run's output) through every layer,
        writing the weight slopes; returns the slope at the run's input (or ``None``)."""
        slices = records.slices
        if len(slices) == 1:
            return self._backward_chunk(records.chunks[0], grad, need_grad_input, None)
        buffers = self._grad_buffers(len(slices))

        def one(index: int):
            return self._backward_chunk(
                records.chunks[index], grad[slices[index]], need_grad_input, buffers[index]
            )

        results = WORKERS.map(one, list(range(len(slices))))
        for layer, *_ in self._weighted():
            for name, total in layer.grads.items():
                for chunk in buffers[1:]:
                    total += chunk[layer][name]
        if not need_grad_input:
            return None
        return np.concatenate(results)

    def _backward_chunk(self, passes, grad, need_grad_input: bool, grads):
        stop = 0 if need_grad_input else self._first_weighted
        for index in range(len(self.units) - 1, stop - 1, -1):
            unit = self.units[index]
            need = need_grad_input or index > stop
            record = passes[index][2]
            layer = _weighted_layer(unit)
            if grads is not None and layer in grads:
                grad = unit.backward(record, grad, need, grads=grads[layer])
            else:
                grad = unit.backward(record, grad, need)
        return grad

    def _weighted(self):
        return [(layer,) for layer in self.layers if layer.trainable and layer.grads]

    def _grad_buffers(self, count: int) -> list:
        """Per chunk, where its weight slopes go: ``None`` for chunk 0 (the layers' own
        arrays), ``{layer: {name: buffer}}`` for the others (made once per thread)."""
        kept = getattr(self._local, "buffers", None)
        if kept is None or len(kept) < count:
            kept = self._local.buffers = [None] + [
                {layer: _like_storage(layer.grads) for (layer,) in self._weighted()}
                for _ in range(count - 1)
            ]
        return kept[:count]


def _like_storage(grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Arrays shaped as ``grads``, one after another in one buffer, as a model's storage
    keeps a layer's weights (so a layer may treat its kernel and bias as one matrix)."""
    dtype = next(iter(grads.values())).dtype
    flat = np.empty(sum(array.size for array in grads.values()), dtype=dtype)
    views, start = {}, 0
    for name, array in grads.items():
        views[name] = flat[start : start + array.size].reshape(array.shape)
        start += array.size
    return views


class RunRecords:
    """What a run's pass leaves: per chunk, per layer, ``(input, output, record)``."""

    __slots__ = ("run", "slices", "chunks")

    def __init__(self, run: RowChunkRun, slices: list[slice], chunks: list) -> None:
        self.run, self.slices, self.chunks = run, slices, chunks

    def layer_passes(self) -> list[tuple]:
        """Per layer, ``(layer, input, output, record)`` for the whole batch: the chunks'
        arrays joined (copies, except for a pass of one chunk)."""
        chunks = [_layer_passes(self.run.units, chunk) for chunk in self.chunks]
        passes = []
        for index, layer in enumerate(self.run.layers):
            parts = [chunk[index] for chunk in chunks]
            if len(parts) == 1:
                inputs, output, record = parts[0]
                passes.append((layer, inputs, output, _joined([record])))
                continue
            inputs = np.concatenate([part[0] for part in parts])
            output = np.concatenate([part[1] for part in parts])
            passes.append((layer, inputs, output, _joined([part[2] for part in parts])))
        return passes


def _units(layers: list) -> list:
    """The layers, each convolution that ``ConvPool`` takes paired with its pooling."""
    units, index = [], 0
    while index < len(layers):
        layer = layers[index]
        after = layers[index + 1] if index + 1 < len(layers) else None
        if after is not None and ConvPool.takes(layer, after):
            units.append(ConvPool(layer, after))
            index += 2
        else:
            units.append(layer)
            index += 1
    return units


def _weighted_layer(unit):
    """The layer whose weights a unit's backward writes (a pair's convolution)."""
    return unit.conv if isinstance(unit, ConvPool) else unit


def _layer_passes(units: list, passes: list) -> list:
    """A chunk's ``(input, output, record)`` per unit as one per layer (pairs opened up)."""
    out = []
    for unit, (x, y, record) in zip(units, passes, strict=True):
        if isinstance(unit, ConvPool):
            out += [(inputs, output, rec) for _, inputs, output, rec in
                    unit.layer_passes(x, y, record)]
        else:
            out.append((x, y, record))
    return out


def _joined(records: list):
    """One record from the chunks' records of a layer (``None`` for a layer that keeps a
    record the glass box does not read)."""
    first = records[0]
    if not isinstance(first, Record):
        return None
    if len(records) == 1:
        return first
    joined = type(first).__new__(type(first))
    for cls in type(first).__mro__:
        for name in getattr(cls, "__slots__", ()):
            values = [getattr(record, name, None) for record in records]
            setattr(joined, name, _join_values(values))
    return joined


def _join_values(values: list):
    first = values[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(values)
    if isinstance(first, tuple):
        return tuple(_join_values(list(parts)) for parts in zip(*values, strict=True))
    return first
