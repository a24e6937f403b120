"""A convolution and the max pooling after it, run as one step of a chunked run.

Keras's convnets pair every ``Conv2D(..., activation="relu")`` with a ``MaxPooling2D``.
Run as two layers, the pair streams the convolution's whole output through memory four
times forward (the product's output, the ReLU, the pooling's reads, the pooled output) and
more backward (the pooling's routing, the ReLU's slope); each of those passes reads the
output in runs of one position's channels (32 numbers for Keras's first layer), since a
pooling window's values lie side by side in the image. Two facts make the pair cheaper:

* **The order of the patch rows is free.** The convolution is one product of the patch
  matrix (one row per output position) and the kernel; the rows may come in any order as
  long as the slopes use the same one. ``ConvPool`` lays them out *window position major*:
  first every window's top-left position (for all images of the chunk), then every
  window's top-right one, and so on. The product then gives each window position's values
  as one contiguous block, and pooling is ``ph·pw - 1`` element-wise maxima of whole blocks;
  routing the slope back to the winners works on whole blocks as well.
* **ReLU and max pooling commute.** ``max(relu(z)) = relu(max(z))``, so the ReLU runs on the
  pooled output (a quarter of the values for 2×2 windows), and its slope is the pooled
  output's sign, applied before routing. The numbers are the two layers' own: the same
  products row by row, the same maxima, the same winners (the first largest in reading
  order, as TensorFlow's), zero slope at positions no window covers.

Positions that no window covers (the last row and column of an odd-sized output under
2×2 windows) feed nothing downstream: the pass leaves them out of its products altogether
(about a sixth of the second convolution of Keras's MNIST example), and their slope is zero.
The kernel's slope is the same sum over rows in another order, so it may differ from the two
layers run apart in the last bits.

With the compiled loops of ``glassnet[fast]`` (``glassnet._compiled``), the pooling, the
routing and the adding back each run as one loop, and each window's winner is kept (as a
small integer) instead of being found again by comparison. A convolution with short
patches (``DIRECT_WIDTH``) is then computed in the loop itself, window by window, and its
pass keeps neither patch rows nor sums: the glass box gathers and multiplies them again
when it asks (``_cols``, ``_sums``).

The glass box reads the two layers as if they had run apart (``layer_passes``): the
convolution's values, patches and slopes in image layout, the pooling's input and output,
rebuilt from what the pair kept only when something asks for them; the uncovered
positions' values are computed then, from copies of the weights the pass used.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from glassnet import _compiled, activations
from glassnet.layers import _patches as P
from glassnet.ops.node import Record


class ConvPool:
    """``conv`` (a ``Conv2D``) followed by ``pool`` (a ``MaxPooling2D``), as one unit of a
    ``RowChunkRun`` (see the module's text for what it computes and why).

    A ``Conv1D`` and ``MaxPooling1D`` pair runs as the same unit on height-1 images, as
    the layers themselves do.

    Args:
        conv: a built ``Conv2D`` (or ``Conv1D``) for which ``takes`` holds.
        pool: the ``MaxPooling2D`` (or ``MaxPooling1D``) right after it.
    """

    def __init__(self, conv, pool) -> None:
        self.conv, self.pool = conv, pool
        self.relu = isinstance(conv.activation, activations.ReLU)
        _, channels, self.kernel2, self.strides2, self.dil2, self.pads = conv._geometry(
            conv.input_shape
        )
        self.channels = channels
        self.kernel2, self.strides2, self.dil2, self.window = (
            _compiled.sizes(v) for v in (self.kernel2, self.strides2, self.dil2,
                                         pool._geometry()[1]))
        self.width = self.kernel2[0] * self.kernel2[1] * channels  # numbers in a patch
        self.in_hw = conv._two(conv.input_shape[:-1])
        self.out_hw = conv._two(conv.output_shape[:-1])
        ph, pw = self.window
        self.winner_dtype = _compiled.winner_dtype(ph * pw)
        self.pooled_hw = (self.out_hw[0] // ph, self.out_hw[1] // pw)
        #: Whether some output positions lie in no window (the last row or column of an
        #: odd-sized output under 2×2 windows).
        self.uncovered = self.out_hw != (self.pooled_hw[0] * ph, self.pooled_hw[1] * pw)

    @staticmethod
    def takes(conv, pool) -> bool:
        """Whether the pair can run fused: a channels-last ``Conv2D`` with one group and a
        ReLU or no activation, then a channels-last ``MaxPooling2D`` whose windows tile
        the convolution's output without padding (or the same with ``Conv1D`` and
        ``MaxPooling1D``)."""
        from glassnet.layers.convolution import Conv1D, Conv2D
        from glassnet.layers.pooling import MaxPooling1D, MaxPooling2D

        pairs = ((Conv2D, MaxPooling2D), (Conv1D, MaxPooling1D))
        if (type(conv), type(pool)) not in pairs:
            return False
        if conv.groups != 1 or not conv.built or not pool.built:
            return False
        if conv.data_format != "channels_last" or pool.data_format != "channels_last":
            return False
        if type(conv.activation) not in (activations.ReLU, activations.Linear):
            return False
        _, window, _, _, _, tiled = pool._geometry()
        return tiled and window[0] * window[1] > 1  # windows that tile: pool_size == strides

    # --- the layout of the patch rows ------------------------------------------------

    def _covered_rows(self, array: np.ndarray, rows: int, inner_shape, inner_strides):
        """``array`` (the covered patch rows in the pair's layout, window position by window
        position, then ``inner_shape`` per row) seen as ``(rows, qh, ph, qw, pw,
        *inner_shape)``, as ``_image_views`` shows the same positions of an image."""
        (ph, pw), (qh, qw) = self.window, self.pooled_hw
        row = array.strides[0]
        blocks = qh * qw * row  # one window position of one image
        return as_strided(
            array,
            shape=(rows, qh, ph, qw, pw, *inner_shape),
            strides=(blocks, qw * row, pw * rows * blocks, row, rows * blocks, *inner_strides),
        )

    def _image_views(self, images: np.ndarray) -> list:
        """``images`` (rows, oh, ow, ...) in parts: the positions the windows cover as
        ``(rows, qh, ph, qw, pw, ...)``, then those they do not (the last rows of
        positions, then the last columns), where there are any."""
        (oh, ow), (ph, pw), (qh, qw) = self.out_hw, self.window, self.pooled_hw
        sn, sy, sx, *inner = images.strides
        views = [
            as_strided(images, shape=(len(images), qh, ph, qw, pw, *images.shape[3:]),
                       strides=(sn, ph * sy, sy, pw * sx, sx, *inner))
        ]
        if oh > qh * ph:
            views.append(images[:, qh * ph :])
        if ow > qw * pw:
            views.append(images[:, : qh * ph, qw * pw :])
        return views

    # --- the passes ----------------------------------------------------------------------

    def forward(self, x: np.ndarray, training: bool = False):
        """The pooled output for ``x`` (rows of channels-last images), and the pair's
        record."""
        conv = self.conv
        loops = (_compiled.enabled() and x.dtype in _compiled.FLOATS
                 and conv.kernel.dtype == x.dtype)
        if loops and self.width <= _compiled.DIRECT_WIDTH:
            return self._direct_forward(x)
        rows = len(x)
        joint = conv._joint(conv.values)
        cols = self._patch_rows(x, joint is not None)
        weights = conv.kernel.reshape(self.width, -1) if joint is None else joint
        bias = conv.bias if joint is None and conv.use_bias else None
        record = _PairRecord(x, cols, joint is not None)
        if not training or self.uncovered:  # read later: sums not kept, uncovered values
            record.weights = (weights.copy(), None if bias is None else bias.copy())
        if training:  # backward reads every window position's sums: kept in one product
            record.z = _product(cols, weights, bias)
            phases = record.z.reshape(self.window[0] * self.window[1], -1, record.z.shape[1])
            if loops:
                pooled = np.empty(phases.shape[1:], dtype=phases.dtype)
                record.winners = np.empty(pooled.shape, dtype=self.winner_dtype)
                _compiled.load().pool_phases(phases, self.relu, pooled, record.winners)
            else:
                pooled = phases[0].copy()
                for phase in phases[1:]:
                    np.maximum(pooled, phase, out=pooled)
        else:  # one window position at a time, each position's sums still in cache
            pooled = self._phase_sums(record, 0)
            sums = np.empty_like(pooled)
            for phase in range(1, self.window[0] * self.window[1]):
                np.maximum(pooled, self._phase_sums(record, phase, out=sums), out=pooled)
        if self.relu and record.winners is None:
            np.maximum(pooled, 0, out=pooled)
        record.pooled = pooled.reshape(rows, *self.pooled_hw, -1)
        return conv._from_images(record.pooled), record

    def _patch_rows(self, x: np.ndarray, with_ones: bool) -> np.ndarray:
        """The covered patch rows of ``x`` in the pair's layout (a last column of ones when
        the bias rides in the product)."""
        rows, c = len(x), self.channels
        kh, kw = self.kernel2
        xp = P.pad_images(self.conv._as_images(x), self.pads)
        patches = P.patch_view(xp, self.kernel2, self.strides2, self.dil2, self.out_hw)
        covered = rows * self.window[0] * self.window[1] * self.pooled_hw[0] * self.pooled_hw[1]
        cols = np.empty((covered, self.width + with_ones), dtype=x.dtype)
        if with_ones:
            cols[:, self.width] = 1
        item = cols.itemsize
        np.copyto(self._covered_rows(cols, rows, (kh, kw, c), (kw * c * item, c * item, item)),
                  self._image_views(patches)[0])
        return cols

    def _direct_forward(self, x: np.ndarray):
        """``forward`` by the compiled ``direct_forward``, for short patches: no patch rows and
        no sums are kept, only each window's winner (the glass box computes the rest from
        the input and a copy of the weights when it asks)."""
        conv = self.conv
        kernel = np.ascontiguousarray(conv.kernel.reshape(self.width, -1))
        filters = kernel.shape[1]
        bias = conv.bias if conv.use_bias else np.zeros(filters, dtype=kernel.dtype)
        xp = P.pad_images(conv._as_images(x), self.pads)
        pooled = np.empty((len(x), *self.pooled_hw, filters), dtype=x.dtype)
        winners = np.empty(pooled.shape, dtype=self.winner_dtype)
        loops = _compiled.load()
        loops.direct_forward(xp, kernel, bias, loops.shape_token(*self.kernel2, self.channels),
                             self.strides2, self.dil2, loops.shape_token(*self.window),
                             self.relu, pooled, winners)
        record = _PairRecord(x, None, False)
        record.xp, record.winners, record.pooled = xp, winners, pooled
        record.weights = (kernel.copy(), conv.bias.copy() if conv.use_bias else None)
        return conv._from_images(pooled), record

    def _sums(self, record: _PairRecord) -> np.ndarray:
        """The convolution's sums ``z`` at the covered positions, in the pair's layout: the
        kept ones, or computed from the pass's patch rows and weights."""
        if record.z is not None:
            return record.z
        return _product(self._cols(record), *record.weights)

    def _cols(self, record: _PairRecord) -> np.ndarray:
        """The pass's patch rows: the kept ones, or gathered again from its input (after a
        direct pass, which makes none)."""
        if record.cols is None:
            record.cols = self._patch_rows(record.x, False)
        return record.cols

    def _phase_sums(self, record: _PairRecord, phase: int, out=None) -> np.ndarray:
        """The sums at window position ``phase`` of every window (rows of the product)."""
        weights, bias = record.weights
        count = len(record.cols) // (self.window[0] * self.window[1])
        z = np.matmul(record.cols[phase * count : (phase + 1) * count], weights, out=out)
        if bias is not None:
            z += bias
        return z

    def backward(self, record: _PairRecord, grad: np.ndarray, need_grad_input: bool = True,
                 grads=None):
        """Slopes of ``forward``: the kernel's and bias's into ``grads`` (the convolution's
        own by default), and the input's (or ``None``)."""
        conv = self.conv
        grads = conv.grads if grads is None else grads
        rows = len(grad)
        record.grad = grad
        grad = conv._as_images(grad)
        if record.xp is not None:
            return self._direct_backward(record, grad, need_grad_input, grads)
        if record.winners is not None:
            grad_z = np.empty((len(record.cols), grad.shape[-1]), dtype=grad.dtype)
            filters = grad.shape[-1]
            _compiled.load().route(
                grad.reshape(-1, filters), record.pooled.reshape(-1, filters),
                record.winners.reshape(-1, filters), self.relu,
                grad_z.reshape(self.window[0] * self.window[1], -1, filters))
        else:
            if self.relu:
                grad = grad * (record.pooled > 0)
            z = self._sums(record)
            phases = z.reshape(self.window[0] * self.window[1], rows, *self.pooled_hw, -1)
            grad_z = np.empty_like(z)  # the covered positions' (the others' is zero)
            _route(grad_z.reshape(phases.shape), grad, phases, record.pooled)
        if conv.trainable:
            cols = record.cols
            joint = conv._joint(grads) if record.with_ones else None
            if joint is not None:
                np.matmul(cols.T, grad_z, out=joint)
            else:
                width = record.cols.shape[1] - record.with_ones
                np.matmul(cols[:, :width].T, grad_z, out=grads["kernel"].reshape(width, -1))
                if conv.use_bias:
                    grad_z.sum(axis=0, out=grads["bias"])
        if not need_grad_input:
            return None
        return self._grad_input(grad_z, rows)

    def _direct_backward(self, record: _PairRecord, grad: np.ndarray, need_grad_input: bool,
                         grads):
        """``backward`` after a direct pass, by the compiled ``direct_backward``."""
        conv = self.conv
        kernel, _ = record.weights
        if conv.trainable:
            grad_kernel = grads["kernel"].reshape(kernel.shape)
            grad_bias = grads["bias"] if conv.use_bias else np.empty(kernel.shape[1], grad.dtype)
        else:
            grad_kernel, grad_bias = np.empty_like(kernel), np.empty(kernel.shape[1], grad.dtype)
        xp = record.xp
        grad_xp = np.zeros(xp.shape if need_grad_input else (0, 0, 0, 0), dtype=grad.dtype)
        loops = _compiled.load()
        loops.direct_backward(
            xp, np.ascontiguousarray(grad), record.pooled, record.winners, kernel,
            loops.shape_token(*self.kernel2, self.channels), self.strides2, self.dil2,
            loops.shape_token(*self.window), self.relu, grad_kernel, grad_bias, grad_xp)
        if not need_grad_input:
            return None
        return conv._from_images(P.crop_pads(grad_xp, self.pads, self.in_hw))

    def _grad_input(self, grad_z: np.ndarray, rows: int) -> np.ndarray:
        """The slope at the input: each covered patch's slope added back where it came
        from (positions no window covers have none), one window position at a time so
        that its patches' slopes are still in cache when they are added."""
        conv, c = self.conv, self.channels
        (kh, kw), (_, dw) = self.kernel2, self.dil2
        (ph, pw), (qh, qw) = self.window, self.pooled_hw
        kernel_t = conv.kernel.reshape(kh * kw * c, -1).T
        (top, bottom), (left, right) = self.pads
        h, w = self.in_hw
        grad_xp = np.zeros((rows, h + top + bottom, w + left + right, c), dtype=grad_z.dtype)
        per_phase = rows * qh * qw
        add = self._add_kernel_rows if dw == 1 else self._add_kernel_offsets
        for phase in range(ph * pw):
            block = grad_z[phase * per_phase : (phase + 1) * per_phase] @ kernel_t
            block = block.reshape(rows, qh, qw, kh, kw, c)
            at = divmod(phase, pw)
            if not _compiled.add_patches(grad_xp, block, self.strides2, self.dil2, self.window,
                                         at):
                add(grad_xp, block, *at)
        return conv._from_images(P.crop_pads(grad_xp, self.pads, self.in_hw))

    def _add_kernel_offsets(self, grad_xp: np.ndarray, patches: np.ndarray, i: int,
                            j: int) -> None:
        """Adds the slopes of window position ``(i, j)``'s patches (rows, qh, qw, kh, kw,
        c) into ``grad_xp``, one strided add per kernel offset (``c`` numbers at a time)."""
        (kh, kw), (th, tw), (dh, dw) = self.kernel2, self.strides2, self.dil2
        (ph, pw), (qh, qw) = self.window, self.pooled_hw
        sn, sy, sx, sc = grad_xp.strides
        for a in range(kh):
            for b in range(kw):
                target = _view(grad_xp, (i * th + a * dh) * sy + (j * tw + b * dw) * sx,
                               (len(grad_xp), qh, qw, self.channels),
                               (sn, ph * th * sy, pw * tw * sx, sc))
                target += patches[:, :, :, a, b]

    def _add_kernel_rows(self, grad_xp: np.ndarray, patches: np.ndarray, i: int,
                         j: int) -> None:
        """The same sum when a kernel row covers adjacent input columns (no dilation
        across): a patch's row of ``kw·c`` slopes lands on ``kw·c`` adjacent numbers of
        the input, so one add moves whole kernel rows. Patches whose kernel rows would
        overlap go in separate adds (every ``m``-th window column, ``m`` = ceil(kw /
        (pw·stride)))."""
        (kh, kw), (th, tw), (dh, _) = self.kernel2, self.strides2, self.dil2
        (ph, pw), (qh, qw) = self.window, self.pooled_hw
        c = self.channels
        sn, sy, sx, sc = grad_xp.strides
        every = -(-kw // (pw * tw))
        for start in range(min(every, qw)):
            columns = len(range(start, qw, every))
            for a in range(kh):
                target = _view(grad_xp, (i * th + a * dh) * sy + (start * pw + j) * tw * sx,
                               (len(grad_xp), qh, columns, kw * c),
                               (sn, ph * th * sy, every * pw * tw * sx, sc))
                source = patches[:, :, start::every, a]
                target += source.reshape(*source.shape[:3], kw * c)

    # --- what the glass box reads -------------------------------------------------------

    def layer_passes(self, x: np.ndarray, pooled: np.ndarray, record: _PairRecord) -> list:
        """``[(conv, x, a, conv_record), (pool, a, pooled, pool_record)]`` as the two
        layers run apart would have left them (copies, in the layers' own layout). The values
        at positions no window covers, which the pass did not need, are computed here with
        the weights the pass used."""
        rows = len(x)
        (kh, kw), c = self.kernel2, self.channels
        width = kh * kw * c
        covered_z = self._sums(record)
        patches = np.empty((rows, *self.out_hw, kh, kw, c), dtype=record.cols.dtype)
        z = np.empty((rows, *self.out_hw, covered_z.shape[1]), dtype=covered_z.dtype)
        item = record.cols.itemsize
        patch_parts, z_parts = self._image_views(patches), self._image_views(z)
        np.copyto(patch_parts[0], self._covered_rows(
            self._cols(record), rows, (kh, kw, c), (kw * c * item, c * item, item)))
        np.copyto(z_parts[0], self._covered_rows(covered_z, rows, (z.shape[-1],),
                                                 (z.itemsize,)))
        if self.uncovered:
            weights, bias = record.weights
            xp = P.pad_images(self.conv._as_images(x), self.pads)
            every = P.patch_view(xp, self.kernel2, self.strides2, self.dil2, self.out_hw)
            for patch_part, z_part, source in zip(patch_parts[1:], z_parts[1:],
                                                  self._image_views(every)[1:], strict=True):
                patch_part[...] = source
                cols = patch_part.reshape(-1, width)
                part = cols @ weights[:width]
                if record.with_ones:
                    part += weights[width]
                elif bias is not None:
                    part += bias
                z_part[...] = part.reshape(z_part.shape)
        a = np.maximum(z, 0) if self.relu else z
        conv_record = _pair_conv_record(self.conv, x, z, a, patches.reshape(-1, width))
        if record.winners is None:
            pool_record = ("tiled", (a, self.pool._as_images(pooled)))
        else:  # sums computed again may differ in the last bits from the loops': pooled anew
            pool_record = self.pool.forward(conv_record.a)[1]
        if record.grad is not None:
            grad_a = self.pool.backward(pool_record, record.grad)
            conv_record.grad_a = grad_a
            conv_record.grad_z = self.conv.activation.backward(
                conv_record.z, conv_record.a, grad_a) if self.relu else grad_a
        return [(self.conv, x, conv_record.a, conv_record),
                (self.pool, conv_record.a, pooled, pool_record)]


class _PairRecord:
    """What a ``ConvPool`` pass keeps: the input, the patch rows (in the pair's layout,
    with a last column of ones when the bias rides in the product), the pass's weights
    (copies, where something reads them later), the pooled output and the slope that came
    back. The convolution's sums ``z`` (same layout) are kept by a training pass, whose
    backward reads them; after an inference pass ``ConvPool._sums`` computes them from the
    patch rows and weights when the glass box asks. With the compiled loops the record also
    keeps each window's winner, and a direct pass keeps the padded input instead of patch
    rows and sums."""

    __slots__ = ("x", "cols", "z", "pooled", "with_ones", "grad", "weights", "winners", "xp")

    def __init__(self, x, cols, with_ones: bool) -> None:
        self.x, self.cols = x, cols
        self.with_ones = int(with_ones)
        self.z = self.pooled = self.grad = None
        #: each window's winning position (``uint8``), kept by the compiled loops
        self.winners = None
        #: the padded input, kept by a direct pass (``_direct_forward``)
        self.xp = None
        #: ``(weights, bias)`` of the pass, copies kept after an inference pass or when some
        #: positions are uncovered: the kernel as a matrix (with the bias as its last row
        #: when it rides in the product), and the bias otherwise
        self.weights = None


def _view(array: np.ndarray, offset: int, shape: tuple, strides: tuple) -> np.ndarray:
    """A view of the C-contiguous ``array`` starting ``offset`` bytes in (``as_strided``
    without its cost, and checked to stay inside ``array``)."""
    return np.ndarray(shape, array.dtype, buffer=array, offset=offset, strides=strides)


def _pair_conv_record(conv, x, z, a, patches) -> Record:
    """The record ``conv`` would have left: ``z`` and ``a`` in its own layout (sequences
    for ``Conv1D``), ``images_z`` as images."""
    from glassnet.layers.convolution import _ConvRecord

    record = _ConvRecord(x, conv._from_images(z), conv._from_images(a))
    record.patches = patches
    record.ones_patches = None
    record.images_z = z
    return record


def _route(grad_phases, grad, phases, pooled) -> None:
    """Writes each window's slope ``grad`` to the window position that won it and zero to
    the others: the first largest in reading order on ties (TensorFlow's rule), the last
    position where none equals the maximum (a NaN). ``phases`` holds each window
    position's values as one block; where the ReLU cut the maximum to zero the slope is
    zero already, so comparing with the pooled output finds the same winners."""
    taken = np.equal(phases[0], pooled)
    np.multiply(grad, taken, out=grad_phases[0])
    hit = None
    last = len(phases) - 1
    for index in range(1, last):
        hit = np.equal(phases[index], pooled, out=hit)
        np.greater(hit, taken, out=hit)
        np.logical_or(taken, hit, out=taken)
        np.multiply(grad, hit, out=grad_phases[index])
    np.logical_not(taken, out=taken)
    np.multiply(grad, taken, out=grad_phases[last])


def _product(cols: np.ndarray, weights: np.ndarray, bias) -> np.ndarray:
    """The convolution's sums for patch rows ``cols``: one product, plus ``bias`` unless it
    rides in the product."""
    z = cols @ weights
    if bias is not None:
        z += bias
    return z
