"""The text of ``model.summary()``, laid out like Keras's table."""

from __future__ import annotations


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    return "(None, " + ", ".join(str(d) for d in shape) + ")"


def _count(n: int) -> str:
    return f"{n:,}"


def _bytes(n_params: int, itemsize: int) -> str:
    size = n_params * itemsize
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}" if unit != "B" else f"{size} B"
        size /= 1024
    return f"{size:.2f} GB"


def summary_text(model, line_length: int | None = None) -> str:
    """A table of each layer's name and class, output shape and number of parameters.

    The model must be built (``Sequential.summary`` builds it or says why it cannot).
    """
    names = [f"{layer.name} ({type(layer).__name__})" for layer in model.layers]
    # The first column is as wide as its longest name plus a space, so that a long name
    # such as "normalization (Normalization)" never runs into its output shape.
    first = max([28, *(len(name) + 1 for name in names)])
    width = line_length or 65
    cols = (max(first, width - 37), 25, 12)
    rule = "─" * sum(cols)

    def row(a: str, b: str, c: str) -> str:
        return a.ljust(cols[0]) + b.ljust(cols[1]) + c.rjust(cols[2])

    lines = [
        f'Model: "{model.name}"',
        rule,
        row("Layer (type)", "Output Shape", "Param #"),
        "═" * sum(cols),
    ]
    trainable = non_trainable = 0
    itemsize = model.storage.dtype.itemsize if model.storage is not None else 4
    for layer, name in zip(model.layers, names, strict=True):
        lines.append(row(name, _shape_text(layer.output_shape), _count(layer.count_params())))
        for spec in layer.specs:
            if spec.trainable and layer.trainable:
                trainable += spec.size
            else:
                non_trainable += spec.size
    total = trainable + non_trainable
    lines += [
        rule,
        f" Total params: {_count(total)} ({_bytes(total, itemsize)})",
        f" Trainable params: {_count(trainable)} ({_bytes(trainable, itemsize)})",
        f" Non-trainable params: {_count(non_trainable)} ({_bytes(non_trainable, itemsize)})",
    ]
    return "\n".join(lines)
