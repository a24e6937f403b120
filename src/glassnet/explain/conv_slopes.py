"""The slopes of a convolution's weights: one weight, many positions (weight sharing).

A ``Conv2D`` kernel weight ``kernel[i, j, c, f]`` is used at every output position
``(p, q)`` of every row: there it multiplies the input value at row ``p·sh + i·dh - top``,
column ``q·sw + j·dw - left`` of input channel ``c`` (0 where that falls in the padding) and
adds the product into filter ``f``'s input ``z[p, q, f]``. The course's rule gives one
product per place the weight was used, value feeding in × slope at the node fed
(``grad_z = grad_a × activation'(z)``, the slope at filter ``f``'s input there), and the
weight's slope is the sum of all of them, over every position and every row. That sum is the
one new idea of a convolution; everything else is the course's Dense arithmetic.

The other convolutions share their weights the same way:

* ``DepthwiseConv2D``: ``kernel[i, j, c, m]`` reads input channel ``c`` only and feeds output
  channel ``c·depth_multiplier + m``, at every output position.
* ``SeparableConv2D``: ``depthwise_kernel[i, j, c, m]`` does the same into the depthwise
  stage's channel ``c·depth_multiplier + m`` (a node without activation, whose slope is the
  pointwise weights times the slopes at the filters' inputs); ``pointwise_kernel[0, 0, k,
  f]`` reads that stage's channel ``k`` and feeds filter ``f``, at every position.
* ``Conv2DTranspose``: ``kernel[i, j, f, c]`` spreads every input value of channel ``c``
  (input position ``(r, s)``) into filter ``f``'s input at output position ``(r·sh + i·dh -
  top, s·sw + j·dw - left)``, so its slope is the sum over the input positions of input value
  × slope at the output position it feeds (0 where that position is cropped off).

``slopes(model, x, y)`` reads each convolution's record (the values fed in, ``z``, ``a``,
``grad_a``, ``grad_z`` and the patch matrix of the model's own pass) into a
``ConvLayerSlopes``; its ``kernel_weight(...)`` lists one weight's products place by
place, and ``weights[name].products`` holds each row's share of every weight's slope
(``(rows, *kernel shape)``, one row's sum over all places): no array of every weight at
every position is ever made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet.explain import _common
from glassnet.explain.slopes import LayerSlopes, WeightSlope

_ROW, _COLUMN = "i (kernel row)", "j (kernel column)"
_DEPTHWISE = (_ROW, _COLUMN, "c (input channel)", "m (multiplier)")
#: The words for each index of a kernel, by ``(family, weight name)``.
_INDEX_WORDS = {
    ("conv1", "kernel"): ("k (kernel step)", "c (input channel)", "f (filter)"),
    ("conv2", "kernel"): (_ROW, _COLUMN, "c (input channel)", "f (filter)"),
    ("depthwise", "kernel"): _DEPTHWISE,
    ("separable", "depthwise_kernel"): _DEPTHWISE,
    ("separable", "pointwise_kernel"): ("i (kernel row, 0: the kernel is 1 x 1)",
                                        "j (kernel column, 0: the kernel is 1 x 1)",
                                        "k (depthwise channel)", "f (filter)"),
    ("transpose", "kernel"): (_ROW, _COLUMN, "f (filter)", "c (input channel)"),
}


@dataclass(frozen=True)
class Window:
    """How a convolution slides over its (channels-last) input, as images of height 1 for
    1-D layers: kernel size, strides, dilation, padding ``((top, bottom), (left, right))``,
    groups, and the rank of the layer (1 or 2).

    A ``DepthwiseConv2D`` (and the depthwise stage of a ``SeparableConv2D``) is a grouped
    convolution with one group per input channel. For a ``Conv2DTranspose`` the window
    slides over the *output*: ``pads`` is then what is cropped off the sum of the spread
    input values, above and below, left and right, to give the output."""

    kernel_size: tuple[int, int]
    strides: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    groups: int
    rank: int


@dataclass
class KernelWeightSlope:
    """One kernel weight of a convolution and its slope, place by place.

    The arrays have one entry per place the weight was used, shape ``(rows, *positions)``:
    ``(rows, out_h, out_w)`` output positions for ``Conv2D``, ``DepthwiseConv2D`` and
    ``SeparableConv2D``, ``(rows, steps)`` for ``Conv1D``, and ``(rows, in_h, in_w)``
    *input* positions for ``Conv2DTranspose`` (each input value feeds one output position
    through the weight).

    Attributes:
        name: ``"layer/kernel[i, j, c, f]"``.
        index: the weight's index in the kernel.
        value: the weight.
        filter: the output channel it feeds (``f``; ``c·depth_multiplier + m`` for a
            depthwise kernel, the depthwise stage's channel for a ``SeparableConv2D``).
        channel: the input channel it reads (``c``, or the channel of ``f``'s group; the
            depthwise stage's channel ``k`` for a pointwise kernel).
        inputs: the value feeding in at each place: the input the weight touched (the
            depthwise stage's output for a pointwise kernel).
        input_positions: ``(*positions, rank)``: where that value sits (row, column; the
            step for ``Conv1D``); a place outside the input is the padding, whose value is 0.
        input_size: the size per axis of what the weight reads (``(height, width)`` or
            ``(steps,)``).
        grad_a: the slope of the loss at the value of the node fed there (``None`` where
            the activation's slope is not one number per node, e.g. softmax, or where the
            node fed has no activation: a separable layer's depthwise stage).
        activation_slope: ``activation'(z)`` there (``None`` likewise).
        grad_z: the slope at the node fed there: filter ``f``'s input ``z`` (``grad_a ×
            activation_slope``), or the depthwise stage's output for a depthwise kernel of
            a ``SeparableConv2D``.
        products: ``inputs × grad_z``, the weight's share of the slope at each place.
        products_sum: the sum of ``products`` over every row and place.
        slope: the slope the optimizer receives for this weight, from the model's own pass
            (``products_sum`` + ``penalty_slope``, up to float rounding); ``None`` for a
            weight that does not train.
        penalty_slope: the slope of a kernel regularizer's penalty, or ``None``.
        multiplier: ``m`` of a depthwise kernel, else ``None``.
        reads, feeds: the channel read and the node fed, in words (``"input channel 0"``,
            ``"filter 2"``).
        rule: what each product multiplies, in words.
        over: ``"output"`` or ``"input"``: whose positions the places are.
        fed_positions: for ``Conv2DTranspose``, ``(in_h, in_w, 2)``: the output position
            each input position feeds through this weight (outside the output where the
            layer crops it off; ``grad_a``, ``activation_slope`` and ``grad_z`` are 0
            there); else ``None``.
        output_size: the output's ``(height, width)`` with ``fed_positions``, else ``None``.
    """

    name: str
    index: tuple[int, ...]
    value: float
    filter: int
    channel: int
    inputs: np.ndarray
    input_positions: np.ndarray
    input_size: tuple[int, ...]
    grad_a: np.ndarray | None
    activation_slope: np.ndarray | None
    grad_z: np.ndarray
    products: np.ndarray
    products_sum: float
    slope: float | None
    penalty_slope: float | None = None
    multiplier: int | None = None
    reads: str = ""
    feeds: str = ""
    rule: str = ""
    over: str = "output"
    fed_positions: np.ndarray | None = field(default=None, repr=False)
    output_size: tuple[int, ...] | None = None
    source_header: str = "input at"
    slope_header: str = "x slope at z"

    def __post_init__(self) -> None:
        self.reads = self.reads or f"input channel {self.channel}"
        self.feeds = self.feeds or f"filter {self.filter}"
        self.rule = self.rule or (
            f"value feeding in x slope at filter {self.filter}'s input z there")

    @property
    def positions(self) -> tuple[int, ...]:
        """The places of one row: output positions ``(out_h, out_w)`` or ``(steps,)``;
        input positions ``(in_h, in_w)`` for ``Conv2DTranspose``."""
        return tuple(self.products.shape[1:])

    @property
    def row_slopes(self) -> np.ndarray:
        """Each row's share of the slope: its products summed over every position."""
        return self.products.reshape(len(self.products), -1).sum(axis=1)

    def format(self, max_positions: int = 12, digits: int = 6) -> str:
        """The weight, the sentence on weight sharing, a table of its first products (one
        line per place it was used) and their sum."""
        f = _common.fmt
        rows, per_row = len(self.products), int(np.prod(self.positions))
        places = rows * per_row
        shown_positions = " x ".join(map(str, self.positions))
        spread = (" (each input value is spread into the output through every weight)"
                  if self.over == "input" else "")
        lines = [
            f"kernel weight {self.name} = {f(self.value, digits)}: {self.reads} -> "
            f"{self.feeds}",
            f"weight sharing: the same weight is used at every one of the {per_row} "
            f"{self.over} positions ({shown_positions}) {_of_rows(rows)}{spread}, so its "
            f"slope adds up the contributions from all {places} positions: {self.rule}",
        ]
        lines.append(self._table(max_positions, digits))
        if places > max_positions:
            lines.append(f"  ... {places - max_positions} more positions (see .inputs, "
                         ".grad_z and .products)")
        lines.append(f"  sum of the {places} products = {f(self.products_sum, digits)}")
        if rows > 1:
            shares = ", ".join(f(v, digits) for v in self.row_slopes[:8])
            more = ", ..." if rows > 8 else ""
            lines.append(f"  (row by row: {shares}{more})")
        if self.penalty_slope is not None:
            lines.append(f"  + the penalty's slope {f(self.penalty_slope, digits)}")
        if self.slope is not None:
            lines.append(f"  slope the optimizer receives: {f(self.slope, digits)}")
        return "\n".join(lines)

    def _table(self, max_positions: int, digits: int) -> str:
        f = _common.fmt
        three = self.grad_a is not None and self.activation_slope is not None
        place = "position" if self.over == "output" else "input position"
        headers = ["row", place, self.source_header, "value fed in"]
        headers += ["x loss slope", "x activation slope"] if three else [self.slope_header]
        headers.append("= product")
        cells = []
        size = self.products.size
        for flat in range(min(max_positions, size)):
            where = np.unravel_index(flat, self.products.shape)
            row, position = int(where[0]), tuple(int(p) for p in where[1:])
            cell = [str(row), _place(position), self._source_at(position),
                    f(self.inputs[where], digits)]
            if three:
                cell += [f(self.grad_a[where], digits), f(self.activation_slope[where], digits)]
            else:
                cell.append(f(self.grad_z[where], digits))
            cells.append([*cell, f(self.products[where], digits)])
        return _common.table(headers, cells)

    def _source_at(self, position: tuple[int, ...]) -> str:
        """Where the value fed in sits (padding outside the input) or, for a transposed
        convolution, the output position it feeds (cropped outside the output)."""
        if self.fed_positions is None:
            at, sizes, outside = self.input_positions[position], self.input_size, "padding"
        else:
            at, sizes, outside = self.fed_positions[position], self.output_size, "cropped"
        at = tuple(int(v) for v in at)
        inside = all(0 <= v < size for v, size in zip(at, sizes, strict=True))
        return _place(at) if inside else outside

    def __str__(self) -> str:
        return self.format()


def _of_rows(rows: int) -> str:
    return "of the row" if rows == 1 else f"of each of the {rows} rows"


def _places(rows: int, positions: tuple[int, ...]) -> str:
    per_row = int(np.prod(positions))
    return (f"{rows} row{'s' if rows != 1 else ''} x {per_row} "
            f"position{'s' if per_row != 1 else ''}")


def _place(position: tuple[int, ...]) -> str:
    return str(position[0]) if len(position) == 1 else f"({', '.join(map(str, position))})"


@dataclass
class ConvLayerSlopes(LayerSlopes):
    """The slopes a convolution recorded, in the course's words (see ``LayerSlopes``).

    ``x`` is the input ``(rows, *input shape)`` and ``z``, ``a``, ``grad_a``,
    ``activation_slope``, ``grad_z`` have the layer's output shape ``(rows, *output
    shape)``, in the layer's ``data_format``. ``weights[name].products`` is each row's share
    of every kernel weight's slope (``(rows, *kernel shape)``; ``name`` is ``"kernel"``, or
    ``"depthwise_kernel"`` and ``"pointwise_kernel"`` for a ``SeparableConv2D``) and
    ``weights["bias"].products`` each row's sum of ``grad_z`` over all positions
    (``(rows, filters)``); ``kernel_weight(...)`` shows one weight place by place.

    Attributes:
        data_format: ``"channels_last"`` or ``"channels_first"``.
        breakdown: whether the kernels are broken down place by place (every convolution
            whose pass recorded slopes); ``note`` says why not otherwise.
        window: how the kernel slides (``None`` without a breakdown; for a
            ``SeparableConv2D`` its depthwise stage).
        family: ``"conv1"``, ``"conv2"``, ``"depthwise"``, ``"separable"`` or
            ``"transpose"``: how the kernel's indices read.
        mid: a ``SeparableConv2D``'s depthwise stage output ``(rows, out_h, out_w,
            channels · depth_multiplier)`` (channels last), what its pointwise kernel
            multiplies; else ``None``.
        grad_mid: the slope of the loss at ``mid`` (``grad_z`` times the pointwise
            weights, summed over the filters); else ``None``.
    """

    data_format: str = "channels_last"
    breakdown: bool = False
    window: Window | None = field(default=None, repr=False)
    family: str = ""
    mid: np.ndarray | None = field(default=None, repr=False)
    grad_mid: np.ndarray | None = field(default=None, repr=False)

    @property
    def positions(self) -> tuple[int, ...]:
        """The places of one row where each kernel weight is used: the output positions
        ``(out_h, out_w)`` or ``(steps,)``, the input positions for ``Conv2DTranspose``."""
        if self.family == "transpose" and self.x is not None:
            return tuple(_images(self.x, self.data_format, 2).shape[1:-1])
        images = _images(self.grad_z if self.grad_z is not None else self.a,
                          self.data_format, 2)
        return tuple(images.shape[1:-1])

    def kernel_weight(self, *index: int, kernel: str | None = None) -> KernelWeightSlope:
        """One kernel weight's slope, place by place.

        ``kernel_weight(i, j, c, f)`` for a ``Conv2D`` (kernel row, kernel column, input
        channel, filter), ``kernel_weight(k, c, f)`` for a ``Conv1D``, ``kernel_weight(i, j,
        c, m)`` for a ``DepthwiseConv2D`` (input channel, multiplier), ``kernel_weight(i, j,
        f, c)`` for a ``Conv2DTranspose`` (Keras's kernel order: filter, then input
        channel). A ``SeparableConv2D`` has two kernels, so ``kernel`` names which:
        ``kernel_weight(i, j, c, m, kernel="depthwise_kernel")`` or ``kernel_weight(0, 0,
        k, f, kernel="pointwise_kernel")``.

        Raises:
            ValueError: when the index does not name a weight of the kernel (the message
                names the layer, the index and the kernel's shape), or ``kernel`` names no
                kernel of the layer.
            NotImplementedError: for a convolution whose kernel is not broken down.
        """
        label = f"{self.kind} {self.name!r}"
        if not self.breakdown or self.window is None:
            raise NotImplementedError(f"{label}: {self.note or _NO_SLOPES}")
        short = self._kernel_name(kernel, label)
        ws = self.weights[short]
        words = _INDEX_WORDS[(self.family, short)]
        index = _checked_index(index, ws.value.shape, label, words, short)
        return _BREAKDOWNS[(self.family, short)](self, ws, index)

    def _kernel_name(self, kernel: str | None, label: str) -> str:
        names = [name for family, name in _INDEX_WORDS if family == self.family]
        if kernel is None and len(names) == 1:
            return names[0]
        if kernel in names:
            return kernel
        shown = " or ".join(f"kernel={name!r}" for name in names)
        raise ValueError(
            f"{label}: " + (f"the layer has {len(names)} kernels; say which with {shown}"
                            if kernel is None else f"no kernel {kernel!r}; use {shown}")
        )

    def sharing_sentence(self) -> str:
        """The sentence that says what weight sharing does to a slope, for this layer."""
        per_row = int(np.prod(self.positions))
        rows = 0 if self.grad_z is None else len(self.grad_z)
        shown = " x ".join(map(str, self.positions))
        over = "input" if self.family == "transpose" else "output"
        spread = (" (each input value is spread into the output through every weight)"
                  if over == "input" else "")
        text = (f"weight sharing: each weight is used at every one of the {per_row} {over} "
                f"positions ({shown}) {_of_rows(rows)}{spread}, so its slope adds up the "
                f"contributions from all {per_row * rows} positions")
        if not self.breakdown:
            return text
        call = f"layer({self.name!r}).kernel_weight"
        if self.family == "separable":
            return text + (
                ": value feeding in x slope at the node it feeds there (a depthwise weight "
                "feeds its channel of the depthwise stage, a pointwise weight its filter's "
                f"input z); {call}(i, j, c, m, kernel='depthwise_kernel') and "
                f"{call}(0, 0, k, f, kernel='pointwise_kernel') list them")
        if self.family == "transpose":
            return text + (": input value x slope at its filter's input z at the output "
                           f"position it feeds; {call}(i, j, f, c) lists them")
        node, args = {"conv1": ("filter", "(k, c, f)"), "conv2": ("filter", "(i, j, c, f)"),
                      "depthwise": ("output channel", "(i, j, c, m)")}[self.family]
        return text + (f": value feeding in x slope at its {node}'s input z there; "
                       f"{call}{args} lists them")

    def format_lines(self, rows: int, max_weights: int = 16, digits: int = 6) -> list[str]:
        """The layer as text: the sentence on weight sharing, then each weight and its slope,
        output channel by output channel (its kernel weights, then its bias)."""
        f = _common.fmt
        head = f"layer {self.name} ({self.kind}" + (
            f", {self.activation})" if self.activation else ")")
        lines = [head]
        if self.note:
            lines.append(f"  note: {self.note}")
        if self.grad_z is not None:
            lines.append(f"  {self.sharing_sentence()}")
        entries = list(self._weight_entries())
        cells = [[label, f(value, digits), f(slope, digits)]
                 for label, value, slope in entries[:max_weights]]
        if cells:
            lines.append(_common.table(
                ["weight", "value", f"= slope ({_places(rows, self.positions)})"],
                cells))
        if len(entries) > max_weights:
            lines.append(f"  ... {len(entries) - max_weights} more weights (see to_frame())")
        return lines

    def _weight_entries(self):
        """``(label, value, slope)`` of every weight: output channel by output channel when
        the kernel is broken down (its weights, then its bias), else weight array by weight
        array."""
        bias = self.weights.get("bias")
        if not self.breakdown:
            for short, ws in self.weights.items():
                for index in np.ndindex(ws.value.shape):
                    yield _entry(short, ws, index, None)
            return
        if self.family == "separable":
            depthwise = self.weights["depthwise_kernel"]
            for index in np.ndindex(depthwise.value.shape):
                yield _entry("depthwise_kernel", depthwise, index,
                             _to(self.family, "depthwise_kernel", index, depthwise.value.shape))
        short = "pointwise_kernel" if self.family == "separable" else "kernel"
        kernel = self.weights[short]
        shape = kernel.value.shape
        by_node: dict[int, list] = {}
        for index in np.ndindex(shape):
            by_node.setdefault(_node(self.family, short, index, shape), []).append(index)
        for node in sorted(by_node):
            word = _to(self.family, short, by_node[node][0], shape)
            for index in by_node[node]:
                yield _entry(short, kernel, index, word)
            if bias is not None:
                yield _entry("bias", bias, (node,), word)

    def records(self, rows: int) -> list[dict]:
        """One dict per (row, weight), with ``Slopes.records``'s columns: ``from`` is the
        input channel and kernel offset a kernel weight reads, ``to`` the output channel it
        feeds, and ``product`` the row's share of the slope (its products summed over every
        place); the per-place factors are in ``kernel_weight``."""
        out = []
        for short, ws in self.weights.items():
            share = ws.products
            for index in np.ndindex(ws.value.shape):
                source, target = self._ends(short, index, ws.value.shape)
                for row in range(rows):
                    out.append({
                        "layer": self.name, "weight": short, "row": row, "from": source,
                        "to": target, "weight_value": float(ws.value[index]),
                        "node_value": None, "loss_slope": None, "activation_slope": None,
                        "input_slope": None,
                        "product": None if share is None else float(share[(row, *index)]),
                        "slope": None if ws.slope is None else float(ws.slope[index]),
                    })
        return out

    def _ends(self, short: str, index: tuple[int, ...], shape) -> tuple[str | None, str]:
        """``from`` and ``to`` of a convolution weight in ``records``."""
        if short == "bias":
            node = ("output channel" if self.family == "depthwise" else "filter")
            return "bias", f"{node} {index[0]}"
        if not self.breakdown:
            return None, f"{short}[{', '.join(map(str, index))}]"
        target = _to(self.family, short, index, shape)
        if self.family == "transpose":
            i, j, _, c = index
            return f"channel {c}", f"{target} at offset {_place((i, j))}"
        if short == "pointwise_kernel":
            return f"depthwise channel {index[2]}", target
        *offset, c, _ = index
        return f"channel {c} at offset {_place(tuple(offset))}", target


_NO_SLOPES = ("the pass recorded no slopes at this layer's outputs (nothing before it "
              "needed them), so there is nothing to break down")


def _node(family: str, short: str, index: tuple[int, ...], shape) -> int:
    """The output channel a kernel weight feeds."""
    if family == "transpose":
        return index[2]
    if family == "depthwise" or short == "depthwise_kernel":
        return index[-2] * shape[-1] + index[-1]
    return index[-1]


def _to(family: str, short: str, index: tuple[int, ...], shape) -> str:
    """The output channel a kernel weight feeds, in words."""
    node = _node(family, short, index, shape)
    if family == "depthwise":
        return f"output channel {node}"
    if short == "depthwise_kernel":
        return f"depthwise channel {node}"
    return f"filter {node}"


def _entry(short: str, ws: WeightSlope, index: tuple[int, ...], word: str | None):
    label = f"{short}[{', '.join(map(str, index))}]"
    if word is not None:
        label += f" ({word})"
    return label, ws.value[index], None if ws.slope is None else ws.slope[index]


def _checked_index(index, shape: tuple[int, ...], label: str, words: tuple[str, ...],
                   short: str = "kernel") -> tuple[int, ...]:
    """``index`` as a tuple of ints inside ``shape``, or a ``ValueError`` that names the
    layer, the index and the kernel's shape."""
    if len(index) == 1 and isinstance(index[0], (tuple, list)):
        index = tuple(index[0])
    what = "kernel" if short == "kernel" else short
    if len(index) != len(shape):
        raise ValueError(
            f"{label}: a {what} weight has {len(shape)} indices, "
            f"{', '.join(w.split()[0] for w in words)} ({', '.join(words)}; the {what} has "
            f"shape {tuple(shape)}). Received {len(index)}: {tuple(index)}"
        )
    out = []
    for value, size, word in zip(index, shape, words, strict=True):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or not 0 <= value < size:
            raise ValueError(
                f"{label}: index {word} must be an integer from 0 to {size - 1} (the {what} "
                f"has shape {tuple(shape)}). Received: {value!r} in the index {tuple(index)}"
            )
        out.append(int(value))
    return tuple(out)


def _images(array: np.ndarray, data_format: str, rank: int) -> np.ndarray:
    """A batch as channels-last images ``(rows, h, w, channels)``, height 1 for sequences."""
    if data_format == "channels_first":
        array = np.moveaxis(array, 1, -1)
    return array[:, None] if rank == 1 and array.ndim == 3 else array


# --- one weight, place by place ---------------------------------------------------------------


def _slid(ls: ConvLayerSlopes, channel: int, i: int, j: int, out_hw: tuple[int, int]):
    """What kernel offset ``(i, j)`` touches of input channel ``channel`` at every output
    position: the values ``(rows, oh, ow)`` (0 in the padding), where they sit ``(oh, ow,
    2)`` and the input's ``(height, width)``."""
    window = ls.window
    (top, bottom), (left, right) = window.pads
    (sh, sw), (dh, dw) = window.strides, window.dilation
    images = _images(ls.x, ls.data_format, window.rank)
    plane = np.pad(images[..., channel], ((0, 0), (top, bottom), (left, right)))
    oh, ow = out_hw
    inputs = plane[:, i * dh: i * dh + sh * (oh - 1) + 1: sh,
                   j * dw: j * dw + sw * (ow - 1) + 1: sw]
    rows_at = np.arange(oh) * sh + i * dh - top
    cols_at = np.arange(ow) * sw + j * dw - left
    at = np.stack(np.meshgrid(rows_at, cols_at, indexing="ij"), axis=-1)
    return np.array(inputs), at, tuple(int(v) for v in images.shape[1:3])


def _picker(ls: ConvLayerSlopes, node: int):
    """A function that gives node ``node``'s entries of a layer-shaped array as ``(rows,
    *positions)`` (``None`` stays ``None``)."""
    rank = ls.window.rank

    def pick(array):
        if array is None:
            return None
        picked = _images(array, ls.data_format, rank)[..., node]
        return np.array(picked[:, 0] if rank == 1 else picked)

    return pick


def _weight(ls: ConvLayerSlopes, ws: WeightSlope, index: tuple[int, ...], *, node: int,
            channel: int, inputs, input_positions, input_size, grad_z, grad_a=None,
            activation_slope=None, **words) -> KernelWeightSlope:
    products = inputs * grad_z
    return KernelWeightSlope(
        name=f"{ws.name}[{', '.join(map(str, index))}]", index=index,
        value=float(ws.value[index]), filter=node, channel=channel, inputs=inputs,
        input_positions=input_positions, input_size=input_size,
        grad_a=grad_a if activation_slope is not None else None,
        activation_slope=activation_slope, grad_z=grad_z, products=products,
        products_sum=float(products.sum()),
        slope=None if ws.slope is None else float(ws.slope[index]),
        penalty_slope=None if ws.penalty_slope is None else float(ws.penalty_slope[index]),
        **words,
    )


def _conv_weight(ls: ConvLayerSlopes, ws: WeightSlope, index: tuple[int, ...]):
    """``Conv1D`` / ``Conv2D``: ``kernel[(k | i, j), c, f]`` at every output position."""
    window = ls.window
    *offset, c, f = index
    i, j = (0, *offset) if window.rank == 1 else offset
    filters = ws.value.shape[-1]
    channel = (f // (filters // window.groups)) * ws.value.shape[-2] + c
    pick = _picker(ls, f)
    grad_z = pick(ls.grad_z)
    out_hw = grad_z.shape[1:] if window.rank == 2 else (1, grad_z.shape[1])
    inputs, at, size = _slid(ls, channel, i, j, out_hw)
    if window.rank == 1:
        inputs, at, size = inputs[:, 0], at[0, :, 1:], size[1:]
    return _weight(ls, ws, index, node=f, channel=channel, inputs=inputs,
                   input_positions=at, input_size=size, grad_z=grad_z,
                   grad_a=pick(ls.grad_a), activation_slope=pick(ls.activation_slope))


def _depthwise_weight(ls: ConvLayerSlopes, ws: WeightSlope, index: tuple[int, ...]):
    """``DepthwiseConv2D``: ``kernel[i, j, c, m]`` reads input channel ``c`` and feeds
    output channel ``c·depth_multiplier + m``, at every output position."""
    i, j, c, m = index
    node = c * ws.value.shape[-1] + m
    pick = _picker(ls, node)
    grad_z = pick(ls.grad_z)
    inputs, at, size = _slid(ls, c, i, j, grad_z.shape[1:])
    return _weight(ls, ws, index, node=node, channel=c, inputs=inputs, input_positions=at,
                   input_size=size, grad_z=grad_z, grad_a=pick(ls.grad_a),
                   activation_slope=pick(ls.activation_slope), multiplier=m,
                   feeds=f"output channel {node} (multiplier {m})",
                   rule=f"value feeding in x slope at output channel {node}'s input z there")


def _separable_depthwise_weight(ls: ConvLayerSlopes, ws: WeightSlope, index: tuple[int, ...]):
    """``SeparableConv2D``'s ``depthwise_kernel[i, j, c, m]``: reads input channel ``c`` and
    feeds the depthwise stage's channel ``c·depth_multiplier + m`` (no activation there:
    its slope is ``grad_mid``), at every output position."""
    i, j, c, m = index
    node = c * ws.value.shape[-1] + m
    grad_mid = np.array(ls.grad_mid[..., node])
    inputs, at, size = _slid(ls, c, i, j, grad_mid.shape[1:])
    return _weight(ls, ws, index, node=node, channel=c, inputs=inputs, input_positions=at,
                   input_size=size, grad_z=grad_mid, multiplier=m,
                   feeds=f"depthwise channel {node} (multiplier {m})",
                   rule=(f"value feeding in x slope at depthwise channel {node} there (the "
                         "pointwise weights times the slopes at the filters' inputs z)"),
                   slope_header="x slope there")


def _pointwise_weight(ls: ConvLayerSlopes, ws: WeightSlope, index: tuple[int, ...]):
    """``SeparableConv2D``'s ``pointwise_kernel[0, 0, k, f]``: reads the depthwise stage's
    channel ``k`` and feeds filter ``f``'s input z, at every output position."""
    _, _, k, f = index
    pick = _picker(ls, f)
    inputs = np.array(ls.mid[..., k])
    oh, ow = inputs.shape[1:]
    at = np.stack(np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij"), axis=-1)
    return _weight(ls, ws, index, node=f, channel=k, inputs=inputs, input_positions=at,
                   input_size=(oh, ow), grad_z=pick(ls.grad_z), grad_a=pick(ls.grad_a),
                   activation_slope=pick(ls.activation_slope),
                   reads=f"depthwise channel {k}", source_header="depthwise output at")


def _transpose_weight(ls: ConvLayerSlopes, ws: WeightSlope, index: tuple[int, ...]):
    """``Conv2DTranspose``: ``kernel[i, j, f, c]`` carries every input value of channel
    ``c`` into filter ``f``'s input z at the output position it feeds; the places are the
    input positions."""
    i, j, f, c = index
    window = ls.window
    (top, bottom), (left, right) = window.pads
    (sh, sw), (dh, dw) = window.strides, window.dilation
    inputs = np.array(_images(ls.x, ls.data_format, 2)[..., c])
    h, w = inputs.shape[1:]
    pick = _picker(ls, f)

    def fed(array):  # the node's entry at the output position each input position feeds
        if array is None:
            return None
        plane = np.pad(pick(array), ((0, 0), (top, bottom), (left, right)))
        return np.array(plane[:, i * dh: i * dh + sh * (h - 1) + 1: sh,
                              j * dw: j * dw + sw * (w - 1) + 1: sw])

    grad_z = fed(ls.grad_z)
    out_hw = tuple(int(v) for v in pick(ls.grad_z).shape[1:])
    rows_to = np.arange(h) * sh + i * dh - top
    cols_to = np.arange(w) * sw + j * dw - left
    fed_at = np.stack(np.meshgrid(rows_to, cols_to, indexing="ij"), axis=-1)
    at = np.stack(np.meshgrid(np.arange(h), np.arange(w), indexing="ij"), axis=-1)
    return _weight(ls, ws, index, node=f, channel=c, inputs=inputs, input_positions=at,
                   input_size=(h, w), grad_z=grad_z, grad_a=fed(ls.grad_a),
                   activation_slope=fed(ls.activation_slope), over="input",
                   fed_positions=fed_at, output_size=out_hw,
                   rule=(f"input value x slope at filter {f}'s input z at the output "
                         "position it feeds"),
                   source_header="feeds output at")


_BREAKDOWNS = {
    ("conv1", "kernel"): _conv_weight,
    ("conv2", "kernel"): _conv_weight,
    ("depthwise", "kernel"): _depthwise_weight,
    ("separable", "depthwise_kernel"): _separable_depthwise_weight,
    ("separable", "pointwise_kernel"): _pointwise_weight,
    ("transpose", "kernel"): _transpose_weight,
}


# --- reading a convolution's record ----------------------------------------------------------


def _family(layer) -> str:
    """How a convolution's kernel indices read (``""`` for one not broken down)."""
    from glassnet.layers import Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D

    if isinstance(layer, (Conv1D, Conv2D)):
        return f"conv{layer.rank}"
    for kind, family in ((DepthwiseConv2D, "depthwise"), (SeparableConv2D, "separable"),
                         (Conv2DTranspose, "transpose")):
        if isinstance(layer, kind):
            return family
    return ""


def read_conv(layer, record, **base) -> ConvLayerSlopes:
    """A convolution's record as ``ConvLayerSlopes``: its values and slopes and each row's
    share of its bias and kernel slopes."""
    family = _family(layer)
    breakdown = bool(family) and record.grad_z is not None
    ls = ConvLayerSlopes(**base, data_format=layer.data_format, breakdown=breakdown,
                         family=family)
    ls.x, ls.z, ls.a = (_common.copy_or_none(v) for v in (record.x, record.z, record.a))
    ls.grad_a = _common.copy_or_none(record.grad_a)
    ls.grad_z = _common.copy_or_none(record.grad_z)
    slope = None if ls.z is None else layer.activation.slope(ls.z, ls.a)
    ls.activation_slope = None if slope is None else np.asarray(slope)
    rank = getattr(layer, "rank", 2)
    grad_images = None if ls.grad_z is None else _images(ls.grad_z, ls.data_format, rank)
    if breakdown:
        _read_kernels(layer, record, ls, grad_images)
    elif not family:
        ls.note = _not_broken_down(layer)
    if getattr(layer, "use_bias", False):
        ls.weights["bias"] = WeightSlope(
            name=f"{layer.name}/bias", value=layer.bias.copy(), slope=None,
            products=None if grad_images is None else grad_images.sum(axis=(1, 2)))
    if ls.activation_slope is None and ls.z is not None:
        ls.note = " ".join(filter(None, [ls.note, (
            f"{ls.activation} mixes the nodes of the layer, so its slope is not one number "
            "per node; the slope at each node's input comes from all of them")]))
    return ls


def _read_kernels(layer, record, ls: ConvLayerSlopes, grad_images: np.ndarray) -> None:
    """The layer's window and each row's share of every kernel weight's slope, from the
    patches the layer's own pass multiplied."""
    def weight(short: str, products: np.ndarray) -> None:
        ls.weights[short] = WeightSlope(name=f"{layer.name}/{short}",
                                        value=layer.values[short].copy(), slope=None,
                                        products=products)

    if ls.family in ("conv1", "conv2"):
        _, _, kernel2, strides2, dil2, pads = layer._geometry(layer.input_shape)
        ls.window = Window(tuple(kernel2), tuple(strides2), tuple(dil2), tuple(pads),
                           layer.groups, layer.rank)
        weight("kernel", _row_products(layer, record.patches, grad_images))
        return
    spatial, channels = layer._spatial(layer.input_shape)
    if ls.family == "transpose":
        (oh, top, bh), (ow, left, bw) = layer._sizes(spatial)
        ls.window = Window(tuple(layer.kernel_size), tuple(layer.strides),
                           tuple(layer.dilation_rate),
                           ((top, bh - top - oh), (left, bw - left - ow)), 1, 2)
        weight("kernel", _transpose_row_products(layer, record.patches, grad_images))
        return
    strides2, dil2, pads = layer._image_window(spatial)
    ls.window = Window(tuple(layer.kernel_size), strides2, dil2, pads, channels, 2)
    if ls.family == "depthwise":
        weight("kernel", _depthwise_row_products(record.patches, grad_images,
                                                 layer.kernel.shape))
        return
    cols, mid2 = record.patches
    n, oh, ow, filters = grad_images.shape
    mid = mid2.reshape(n, oh, ow, -1)
    pointwise = layer.pointwise_kernel.reshape(mid.shape[-1], filters)
    ls.mid = mid.copy()
    ls.grad_mid = grad_images @ pointwise.T
    weight("depthwise_kernel", _depthwise_row_products(cols, ls.grad_mid,
                                                       layer.depthwise_kernel.shape))
    g = np.ascontiguousarray(grad_images).reshape(n, oh * ow, filters)
    weight("pointwise_kernel", np.matmul(mid.reshape(n, oh * ow, -1).transpose(0, 2, 1), g)
           .reshape(n, *layer.pointwise_kernel.shape))


def _not_broken_down(layer) -> str:
    kind = type(layer).__name__
    return (f"{kind}: every weight's slope is the one training computed, summed over every "
            "position where the weight was used; each row's share of the bias slopes is "
            "given (the slope at each output channel's input z, summed over its positions), "
            "but the kernel weights are not broken down position by position, which "
            "explain.slopes does for Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D and "
            "Conv2DTranspose")


def _row_products(layer, patches: np.ndarray, grad_images: np.ndarray) -> np.ndarray:
    """Each row's share of every kernel weight's slope, ``(rows, *kernel shape)``: that row's
    patches (transposed) times its slopes at ``z``, as the layer's backward computes the sum
    over all rows (``patches.T @ grad_z``)."""
    n, oh, ow, filters = grad_images.shape
    places = oh * ow
    g = np.ascontiguousarray(grad_images).reshape(n, places, filters)
    if layer.groups == 1:
        cols = patches.reshape(n, places, -1)
        return np.matmul(cols.transpose(0, 2, 1), g).reshape(n, *layer.kernel.shape)
    groups = layer.groups
    per_group = filters // groups
    cols = patches.transpose(1, 0, 2).reshape(groups, n, places, -1)  # (rows·places, groups, k)
    gg = g.reshape(n, places, groups, per_group).transpose(2, 0, 1, 3)
    products = np.matmul(cols.transpose(0, 1, 3, 2), gg)  # (groups, rows, kh·kw·cin, f/g)
    *window, cin, _ = layer.kernel.shape
    return (products.reshape(groups, n, *window, cin, per_group)
            .transpose(1, *range(2, 3 + len(window)), 0, 3 + len(window))
            .reshape(n, *layer.kernel.shape))


def _depthwise_row_products(patches: np.ndarray, grad_images: np.ndarray,
                            kernel_shape: tuple[int, ...]) -> np.ndarray:
    """Each row's share of every depthwise kernel weight's slope, ``(rows, kh, kw, channels,
    multiplier)``, from the patches kept rows first ``(rows·oh·ow, channels, kh·kw)`` and
    the slopes at the nodes fed ``(rows, oh, ow, channels·multiplier)``: per row and
    channel, the channel's patches (transposed) times its output channels' slopes."""
    kh, kw, channels, multiplier = kernel_shape
    n, oh, ow, _ = grad_images.shape
    cols = patches.reshape(n, oh * ow, channels, kh * kw).transpose(0, 2, 3, 1)
    g = np.ascontiguousarray(grad_images).reshape(n, oh * ow, channels, multiplier)
    products = np.matmul(cols, g.transpose(0, 2, 1, 3))  # (rows, channels, kh·kw, mult)
    return products.transpose(0, 2, 1, 3).reshape(n, kh, kw, channels, multiplier)


def _transpose_row_products(layer, images: np.ndarray, grad_images: np.ndarray) -> np.ndarray:
    """Each row's share of every ``Conv2DTranspose`` kernel weight's slope, ``(rows, kh, kw,
    filters, channels)``: per row, the output slopes each input position's window feeds
    (the cropped part 0) transposed, times the input values, as the layer's backward sums
    over all rows."""
    spatial, channels = layer._spatial(layer.input_shape)
    (oh, top, bh), (ow, left, bw) = layer._sizes(spatial)
    n = len(grad_images)
    kh, kw = layer.kernel_size
    gp = np.zeros((n, bh, bw, layer.filters), dtype=grad_images.dtype)
    gp[:, top: top + oh, left: left + ow] = grad_images
    from glassnet.layers import _patches as P

    view = P.patch_view(gp, (kh, kw), layer.strides, layer.dilation_rate, spatial)
    places = int(np.prod(spatial))
    cols = np.ascontiguousarray(view).reshape(n, places, kh * kw * layer.filters)
    products = np.matmul(cols.transpose(0, 2, 1), images.reshape(n, places, channels))
    return products.reshape(n, *layer.kernel.shape)
