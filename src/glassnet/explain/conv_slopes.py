"""The slopes of a convolution's weights: one weight, many positions (weight sharing).

A ``Conv2D`` kernel weight ``kernel[i, j, c, f]`` is used at every output position
``(p, q)`` of every row: there it multiplies the input value at row ``p·sh + i·dh - top``,
column ``q·sw + j·dw - left`` of input channel ``c`` (0 where that falls in the padding) and
adds the product into filter ``f``'s input ``z[p, q, f]``. The course's rule gives one
product per place the weight was used, value feeding in × slope at the node fed
(``grad_z = grad_a × activation'(z)``, the slope at filter ``f``'s input there), and the
weight's slope is the sum of all of them, over every position and every row. That sum is the
one new idea of a convolution; everything else is the course's Dense arithmetic.

``slopes(model, x, y)`` reads each convolution's record (the values fed in, ``z``, ``a``,
``grad_a``, ``grad_z`` and the patch matrix of the model's own pass) into a
``ConvLayerSlopes``; its ``kernel_weight(i, j, c, f)`` lists one weight's products position
by position, and ``weights["kernel"].products`` holds each row's share of every weight's
slope (``(rows, *kernel shape)``, one row's sum over all positions): no array of every
weight at every position is ever made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet.explain import _common
from glassnet.explain.slopes import LayerSlopes, WeightSlope

_INDEX_WORDS = {
    1: ("k (kernel step)", "c (input channel)", "f (filter)"),
    2: ("i (kernel row)", "j (kernel column)", "c (input channel)", "f (filter)"),
}


@dataclass(frozen=True)
class Window:
    """How a convolution slides over its (channels-last) input, as images of height 1 for
    1-D layers: kernel size, strides, dilation, padding ``((top, bottom), (left, right))``,
    groups, and the rank of the layer (1 or 2)."""

    kernel_size: tuple[int, int]
    strides: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    groups: int
    rank: int


@dataclass
class KernelWeightSlope:
    """One kernel weight of a convolution and its slope, position by position.

    The arrays have one entry per place the weight was used, shape ``(rows, *positions)``
    (``(rows, out_h, out_w)`` for ``Conv2D``, ``(rows, steps)`` for ``Conv1D``).

    Attributes:
        name: ``"layer/kernel[i, j, c, f]"``.
        index: the weight's index in the kernel.
        value: the weight.
        filter: the filter it belongs to (``f``).
        channel: the input channel it reads (``c``, or the channel of ``f``'s group).
        inputs: the value feeding in at each position: the input the weight touched.
        input_positions: ``(*positions, rank)``: where in the input that value sits (row,
            column; the step for ``Conv1D``); a place outside the input is the padding,
            whose value is 0.
        input_size: the input's size per axis (``(height, width)`` or ``(steps,)``).
        grad_a: the slope of the loss at filter ``f``'s value there (``None`` where the
            activation's slope is not one number per node, e.g. softmax).
        activation_slope: ``activation'(z)`` there (``None`` likewise).
        grad_z: the slope at filter ``f``'s input ``z`` there (``grad_a × activation_slope``).
        products: ``inputs × grad_z``, the weight's share of the slope at each place.
        products_sum: the sum of ``products`` over every row and position.
        slope: the slope the optimizer receives for this weight, from the model's own pass
            (``products_sum`` + ``penalty_slope``, up to float rounding); ``None`` for a
            weight that does not train.
        penalty_slope: the slope of a kernel regularizer's penalty, or ``None``.
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

    @property
    def positions(self) -> tuple[int, ...]:
        """The output positions of one row: ``(out_h, out_w)`` or ``(steps,)``."""
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
        lines = [
            f"kernel weight {self.name} = {f(self.value, digits)}: input channel "
            f"{self.channel} -> filter {self.filter}",
            f"weight sharing: the same weight is used at every one of the {per_row} output "
            f"positions ({shown_positions}) {_of_rows(rows)}, so its slope adds up the "
            f"contributions from all {places} positions: value feeding in x slope at filter "
            f"{self.filter}'s input z there",
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
        headers = ["row", "position", "input at", "value fed in"]
        headers += ["x loss slope", "x activation slope"] if three else ["x slope at z"]
        headers.append("= product")
        cells = []
        size = self.products.size
        for flat in range(min(max_positions, size)):
            where = np.unravel_index(flat, self.products.shape)
            row, position = int(where[0]), tuple(int(p) for p in where[1:])
            cell = [str(row), _place(position), self._input_at(position),
                    f(self.inputs[where], digits)]
            if three:
                cell += [f(self.grad_a[where], digits), f(self.activation_slope[where], digits)]
            else:
                cell.append(f(self.grad_z[where], digits))
            cells.append([*cell, f(self.products[where], digits)])
        return _common.table(headers, cells)

    def _input_at(self, position: tuple[int, ...]) -> str:
        at = tuple(int(v) for v in self.input_positions[position])
        inside = all(0 <= v < size for v, size in zip(at, self.input_size, strict=True))
        return _place(at) if inside else "padding"

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
    shape)``, in the layer's ``data_format``. ``weights["kernel"].products`` is each row's
    share of every kernel weight's slope (``(rows, *kernel shape)``) and
    ``weights["bias"].products`` each row's sum of ``grad_z`` over all positions
    (``(rows, filters)``); ``kernel_weight(i, j, c, f)`` shows one weight position by
    position.

    Attributes:
        data_format: ``"channels_last"`` or ``"channels_first"``.
        breakdown: whether the kernel is broken down position by position (``Conv1D`` and
            ``Conv2D``); ``note`` says what is for the other convolutions.
        window: how the kernel slides (``None`` without a breakdown).
    """

    data_format: str = "channels_last"
    breakdown: bool = False
    window: Window | None = field(default=None, repr=False)

    @property
    def positions(self) -> tuple[int, ...]:
        """The output positions of one row: ``(out_h, out_w)`` or ``(steps,)``."""
        images = _images(self.grad_z if self.grad_z is not None else self.a,
                          self.data_format, 2)
        return tuple(images.shape[1:-1])

    def kernel_weight(self, *index: int) -> KernelWeightSlope:
        """One kernel weight's slope, place by place: ``kernel_weight(i, j, c, f)`` for a
        ``Conv2D`` (kernel row, kernel column, input channel, filter), ``kernel_weight(k, c,
        f)`` for a ``Conv1D``.

        Raises:
            ValueError: when the index does not name a weight of the kernel (the message
                gives the valid range of each index).
            NotImplementedError: for a convolution whose kernel is not broken down.
        """
        if not self.breakdown or self.window is None:
            raise NotImplementedError(f"{self.kind} {self.name!r}: {self.note}")
        ws = self.weights["kernel"]
        index = _checked_index(index, ws.value.shape, f"{self.kind} {self.name!r}",
                               self.window.rank)
        return _kernel_weight(self, ws, index)

    def sharing_sentence(self) -> str:
        """The sentence that says what weight sharing does to a slope, for this layer."""
        per_row = int(np.prod(self.positions))
        rows = 0 if self.grad_z is None else len(self.grad_z)
        shown = " x ".join(map(str, self.positions))
        text = (f"weight sharing: each weight is used at every one of the {per_row} output "
                f"positions ({shown}) {_of_rows(rows)}, so its slope adds up the "
                f"contributions from all {per_row * rows} positions")
        if self.breakdown:
            call = "(i, j, c, f)" if self.window.rank == 2 else "(k, c, f)"
            text += (f": value feeding in x slope at its filter's input z there; "
                     f"layer({self.name!r}).kernel_weight{call} lists them")
        return text

    def format_lines(self, rows: int, max_weights: int = 16, digits: int = 6) -> list[str]:
        """The layer as text: the sentence on weight sharing, then each weight and its slope,
        filter by filter (its kernel weights, then its bias)."""
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
        """``(label, value, slope)`` of every weight: filter by filter when the layer has a
        ``kernel`` (its weights, then its bias), else weight array by weight array."""
        kernel, bias = self.weights.get("kernel"), self.weights.get("bias")
        if kernel is not None and self.breakdown:
            for f in range(kernel.value.shape[-1]):
                for index in np.ndindex(kernel.value.shape[:-1]):
                    yield _entry("kernel", kernel, (*index, f), f)
                if bias is not None:
                    yield _entry("bias", bias, (f,), f)
            return
        for short, ws in self.weights.items():
            for index in np.ndindex(ws.value.shape):
                yield _entry(short, ws, index, None)

    def records(self, rows: int) -> list[dict]:
        """One dict per (row, weight), with ``Slopes.records``'s columns: ``from`` is the
        input channel and kernel offset a kernel weight reads, ``to`` its filter, and
        ``product`` the row's share of the slope (its products summed over every position);
        the per-position factors are in ``kernel_weight``."""
        out = []
        for short, ws in self.weights.items():
            share = ws.products
            for index in np.ndindex(ws.value.shape):
                source, target = _ends(short, index, self.breakdown)
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


def _entry(short: str, ws: WeightSlope, index: tuple[int, ...], f: int | None):
    label = f"{short}[{', '.join(map(str, index))}]"
    if f is not None:
        label += f" (filter {f})"
    return label, ws.value[index], None if ws.slope is None else ws.slope[index]


def _ends(short: str, index: tuple[int, ...], breakdown: bool) -> tuple[str | None, str]:
    """``from`` and ``to`` of a convolution weight in ``records``."""
    if short == "bias":
        return "bias", f"filter {index[0]}"
    if short == "kernel" and breakdown:
        *offset, c, f = index
        return f"channel {c} at offset {_place(tuple(offset))}", f"filter {f}"
    return None, f"{short}[{', '.join(map(str, index))}]"


def _checked_index(index, shape: tuple[int, ...], label: str, rank: int) -> tuple[int, ...]:
    words = _INDEX_WORDS[rank]
    if len(index) == 1 and isinstance(index[0], (tuple, list)):
        index = tuple(index[0])
    if len(index) != len(shape):
        raise ValueError(
            f"{label}: a kernel weight has {len(shape)} indices, "
            f"{', '.join(w.split()[0] for w in words)} ({', '.join(words)}). "
            f"Received {len(index)}: {tuple(index)}"
        )
    out = []
    for value, size, word in zip(index, shape, words, strict=True):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or not 0 <= value < size:
            raise ValueError(
                f"{label}: index {word} must be an integer from 0 to {size - 1} (the kernel "
                f"has shape {tuple(shape)}). Received: {value!r}"
            )
        out.append(int(value))
    return tuple(out)


def _images(array: np.ndarray, data_format: str, rank: int) -> np.ndarray:
    """A batch as channels-last images ``(rows, h, w, channels)``, height 1 for sequences."""
    if data_format == "channels_first":
        array = np.moveaxis(array, 1, -1)
    return array[:, None] if rank == 1 and array.ndim == 3 else array


def _kernel_weight(ls: ConvLayerSlopes, ws: WeightSlope, index: tuple[int, ...]):
    window = ls.window
    *offset, c, f = index
    i, j = (0, *offset) if window.rank == 1 else offset
    filters = ws.value.shape[-1]
    channel = (f // (filters // window.groups)) * ws.value.shape[-2] + c
    (top, bottom), (left, right) = window.pads
    (sh, sw), (dh, dw) = window.strides, window.dilation
    plane = np.pad(_images(ls.x, ls.data_format, window.rank)[..., channel],
                   ((0, 0), (top, bottom), (left, right)))
    grad_z = _images(ls.grad_z, ls.data_format, window.rank)[..., f]
    oh, ow = grad_z.shape[1:]
    inputs = plane[:, i * dh: i * dh + sh * (oh - 1) + 1: sh,
                   j * dw: j * dw + sw * (ow - 1) + 1: sw]
    rows_at = np.arange(oh) * sh + i * dh - top
    cols_at = np.arange(ow) * sw + j * dw - left
    at = np.stack(np.meshgrid(rows_at, cols_at, indexing="ij"), axis=-1)

    def per_place(array):  # (rows, oh, ow) as (rows, *positions)
        if array is None:
            return None
        picked = _images(array, ls.data_format, window.rank)[..., f]
        return np.array(picked[:, 0] if window.rank == 1 else picked)

    size = tuple(plane.shape[1:] - np.array([top + bottom, left + right]))
    if window.rank == 1:
        inputs, at, size = inputs[:, 0], at[0, :, 1:], size[1:]
    inputs = np.array(inputs)
    grad_z = per_place(ls.grad_z)
    products = inputs * grad_z
    name_index = ", ".join(map(str, index))
    return KernelWeightSlope(
        name=f"{ws.name}[{name_index}]", index=index, value=float(ws.value[index]), filter=f,
        channel=channel, inputs=inputs, input_positions=at,
        input_size=tuple(int(v) for v in size),
        grad_a=per_place(ls.grad_a) if ls.activation_slope is not None else None,
        activation_slope=per_place(ls.activation_slope), grad_z=grad_z, products=products,
        products_sum=float(products.sum()),
        slope=None if ws.slope is None else float(ws.slope[index]),
        penalty_slope=None if ws.penalty_slope is None else float(ws.penalty_slope[index]),
    )


# --- reading a convolution's record ----------------------------------------------------------


def read_conv(layer, record, **base) -> ConvLayerSlopes:
    """A convolution's record as ``ConvLayerSlopes``: its values and slopes, each row's share
    of its bias slopes and (for ``Conv1D`` and ``Conv2D``) of its kernel slopes."""
    from glassnet.layers import Conv1D, Conv2D

    breakdown = isinstance(layer, (Conv1D, Conv2D)) and record.grad_z is not None
    ls = ConvLayerSlopes(**base, data_format=layer.data_format, breakdown=breakdown)
    ls.x, ls.z, ls.a = (_common.copy_or_none(v) for v in (record.x, record.z, record.a))
    ls.grad_a = _common.copy_or_none(record.grad_a)
    ls.grad_z = _common.copy_or_none(record.grad_z)
    slope = None if ls.z is None else layer.activation.slope(ls.z, ls.a)
    ls.activation_slope = None if slope is None else np.asarray(slope)
    rank = getattr(layer, "rank", 2)
    grad_images = None if ls.grad_z is None else _images(ls.grad_z, ls.data_format, rank)
    if getattr(layer, "use_bias", False):
        ls.weights["bias"] = WeightSlope(
            name=f"{layer.name}/bias", value=layer.bias.copy(), slope=None,
            products=None if grad_images is None else grad_images.sum(axis=(1, 2)))
    if breakdown:
        _, _, kernel2, strides2, dil2, pads = layer._geometry(layer.input_shape)
        ls.window = Window(tuple(kernel2), tuple(strides2), tuple(dil2), tuple(pads),
                           layer.groups, rank)
        ls.weights["kernel"] = WeightSlope(
            name=f"{layer.name}/kernel", value=layer.kernel.copy(), slope=None,
            products=_row_products(layer, record.patches, grad_images))
    else:
        ls.note = _not_broken_down(layer)
    if ls.activation_slope is None and ls.z is not None:
        ls.note = " ".join(filter(None, [ls.note, (
            f"{ls.activation} mixes the nodes of the layer, so its slope is not one number "
            "per node; the slope at each node's input comes from all of them")]))
    return ls


def _not_broken_down(layer) -> str:
    kind = type(layer).__name__
    return (f"{kind}: every weight's slope is the one training computed, summed over every "
            "position where the weight was used; each row's share of the bias slopes is "
            "given (the slope at each output channel's input z, summed over its positions), "
            "but the kernel weights are not broken down position by position, which "
            "explain.slopes does for Conv1D and Conv2D only")


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
