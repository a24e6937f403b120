"""The text of ``model.summary()``, laid out like Keras's table."""

from __future__ import annotations

from glassnet.layers.storage import trains


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


def _connections(model) -> list[str] | None:
    """For a functional model, Keras's "Connected to" text of each layer: the tensors each
    of its calls in the model took, as ``layer[node][tensor]``; ``None`` for a model
    without a graph."""
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return None
    kept = {id(node) for node in nodes}
    kept |= {id(layer.inbound_nodes[0]) for layer in model._input_layers}

    def reference(tensor) -> str:
        producer = tensor.node.layer
        own = [node for node in producer.inbound_nodes if id(node) in kept]
        index = next(i for i, node in enumerate(own) if node is tensor.node)
        return f"{producer.name}[{index}][{tensor.index}]"

    texts = []
    for layer in model.layers:
        calls = [node for node in layer.inbound_nodes if id(node) in kept and node.input_tensors]
        refs = [reference(t) for node in calls for t in node.input_tensors]
        texts.append(", ".join(refs) if refs else "-")
    return texts


def summary_text(model, line_length: int | None = None) -> str:
    """A table of each layer's name and class, output shape and number of parameters.

    The model must be built (``Sequential.summary`` builds it or says why it cannot).
    """
    names = [f"{layer.name} ({type(layer).__name__})" for layer in model.layers]
    connections = _connections(model)
    # The first column is as wide as its longest name plus a space, so that a long name
    # such as "normalization (Normalization)" never runs into its output shape.
    first = max([28, *(len(name) + 1 for name in names)])
    width = line_length or 65
    cols = (max(first, width - 37), 25, 12)
    if connections is not None:
        cols = (*cols, max([20, *(len(text) + 2 for text in connections)]))
    rule = "─" * sum(cols)

    def row(a: str, b: str, c: str, d: str = "") -> str:
        text = a.ljust(cols[0]) + b.ljust(cols[1]) + c.rjust(cols[2])
        return text + "  " + d.ljust(cols[3] - 2) if connections is not None else text

    lines = [
        f'Model: "{model.name}"',
        rule,
        row("Layer (type)", "Output Shape", "Param #", "Connected to"),
        "═" * sum(cols),
    ]
    trainable = non_trainable = 0
    itemsize = model.storage.dtype.itemsize if model.storage is not None else 4
    for index, (layer, name) in enumerate(zip(model.layers, names, strict=True)):
        shape = layer.output_shape
        if shape is None and getattr(layer, "declared_input_shape", None) is not None:
            shape = layer.declared_input_shape  # an InputLayer gives its rows
        connected = connections[index] if connections is not None else ""
        lines.append(row(name, _shape_text(shape), _count(layer.count_params()), connected))
    for layer in model._weight_layers():  # nested models' layers included
        for spec in layer.specs:
            if trains(layer, spec, model.trainable):
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
