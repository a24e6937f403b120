"""``glassnet plot``: learning curves from saved histories, or a picture of a network.

``glassnet plot wages.keras --output curves.png`` draws the history that ``train`` saved
next to the model (``wages.history.json``); any JSON file holding ``history.history``
(a JSON object of per-epoch lists) works too, so ``json.dump(history.history, f)`` in
Python gives a file this command reads. Several inputs share one figure, one line each:
the course's way of comparing models by their validation loss.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glassnet.cli._common import add_data_argument, install_hint, read_data
from glassnet.cli.errors import CommandError
from glassnet.cli.modelfiles import MODEL_SUFFIXES, companion_paths, load_trained, read_json

IMAGE_SUFFIXES = (".png", ".svg", ".pdf")


def add_parser(subparsers) -> None:
    """Registers ``plot``."""
    parser = subparsers.add_parser(
        "plot", help="draw learning curves (or a network) to an image file",
        description="Draw the loss and metrics per epoch from one or more training "
                    "histories (a model file saved by glassnet train, or a JSON file of "
                    "history.history), or with --network a picture of a model's network.")
    parser.add_argument("inputs", metavar="MODEL_OR_HISTORY", nargs="+",
                        help="model files (.keras, .h5) or history files (.json)")
    parser.add_argument("--output", "-o", required=True, metavar="FILE",
                        help="the image to write: .png, .svg or .pdf")
    parser.add_argument("--metric", metavar="NAME",
                        help="draw only this quantity (and its val_ twin), e.g. val_loss")
    parser.add_argument("--network", action="store_true",
                        help="draw the network of a model instead of learning curves")
    parser.add_argument("--data", metavar="DATA",
                        help="with --network: write the node values of one row of DATA (a "
                             "CSV file or bundled dataset) into the picture")
    parser.add_argument("--row", type=int, default=0,
                        help="with --network and --data: which row, counting from 0")
    add_data_argument(parser, positional=False)
    parser.set_defaults(func=run)


def read_history(path_text: str) -> dict[str, list[float]]:
    """A history from a history JSON file or from the history file next to a model.

    Raises:
        CommandError: for a missing file, or one that is not a JSON object of lists of
            numbers.
    """
    path = Path(path_text)
    if path.suffix.lower() in MODEL_SUFFIXES:
        if not path.is_file():
            raise CommandError(f"no such model file: {path_text}")
        _, history_path = companion_paths(path)
        if not history_path.is_file():
            raise CommandError(
                f"no history file {history_path.name} next to {path.name}; models trained "
                "with glassnet train have one")
        path = history_path
    data = read_json(path, "history file")
    shape_ok = isinstance(data, dict) and data and all(
        isinstance(v, list) and all(x is None or isinstance(x, (int, float)) for x in v)
        for v in data.values())
    if not shape_ok:
        raise CommandError(f"{path} is not a training history: expected a JSON object of "
                           "lists of numbers, like history.history")
    return {str(k): [float("nan") if x is None else float(x) for x in v] for k, v in data.items()}


def kept_epoch(path_text: str) -> int | None:
    """The epoch whose weights ``glassnet train`` kept (early stopping restores the best
    epoch's), as its columns file records it; ``None`` when it is not known."""
    path = Path(path_text)
    if path.suffix.lower() not in MODEL_SUFFIXES:
        return None
    columns_path, _ = companion_paths(path)
    if not columns_path.is_file():
        return None
    data = read_json(columns_path, "columns file")
    kept = (data.get("training") or {}).get("kept_epoch") if isinstance(data, dict) else None
    return kept if isinstance(kept, int) and kept >= 1 else None


def _check_output(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise CommandError(f"--output must end in {', '.join(IMAGE_SUFFIXES)}; received {text!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _new_figure(panels: int):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise CommandError(f"plot needs matplotlib: {install_hint('plot')}") from None
    figure = Figure(figsize=(5.5 * panels, 4), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_curves(histories: dict[str, dict[str, list[float]]], metric: str | None,
                kept: dict[str, int] | None = None):
    """A figure with one panel per quantity, one line per history (dashed: validation).

    Args:
        histories: label → history.
        metric: the quantity to draw, or ``None`` for every quantity in the histories.
        kept: label → the epoch whose weights the model kept (marked with a dotted line and
            a dot on each of its curves).
    """
    kept = kept or {}
    if metric:
        bases = [metric[4:] if metric.startswith("val_") else metric]
        only_val = metric.startswith("val_")
    else:
        bases = []
        for history in histories.values():
            bases += [k for k in history if not k.startswith("val_") and k not in bases]
        only_val = False
    known = {key for history in histories.values() for key in history}
    wanted = [b for b in bases if b in known or f"val_{b}" in known]
    if not wanted:
        raise CommandError(
            f"the histories have no {metric!r}; they have: {', '.join(sorted(known))}")
    figure = _new_figure(len(wanted))
    axes = figure.subplots(1, len(wanted), squeeze=False)[0]
    single = len(histories) == 1
    for ax, base in zip(axes, wanted, strict=True):
        for label, history in histories.items():
            line = None
            for key, style, part in ((base, "-", "training"), (f"val_{base}", "--", "validation")):
                if key not in history or (only_val and key == base):
                    continue
                values = history[key]
                name = part if single else f"{label} ({part})"
                (line,) = ax.plot(range(1, len(values) + 1), values, style, label=name)
                epoch = kept.get(label)
                if epoch is not None and epoch <= len(values):
                    ax.plot([epoch], [values[epoch - 1]], "o", color=line.get_color(), ms=6)
            epoch = kept.get(label)
            if epoch is not None:
                what = f"kept weights: epoch {epoch}" + ("" if single else f" ({label})")
                colour = "#555555" if single or line is None else line.get_color()
                ax.axvline(epoch, color=colour, ls=":", lw=1.2, label=what)
        ax.set_xlabel("epoch")
        ax.set_ylabel(base)
        ax.set_title(base if single else f"{base}: {', '.join(histories)}")
        ax.legend()
    return figure


def _dense_view(model):
    """The model's ``Dense`` layers as a model of their own, and the first ``Normalization``
    layer (or ``None``): the picture draws the network that the standardised inputs feed."""
    from glassnet.layers import Dense, Input, Normalization
    from glassnet.models import Sequential

    norm = model.layers[0] if isinstance(model.layers[0], Normalization) else None
    if norm is None:
        return model, None
    view = Sequential([Input(shape=(int(model.input_shape[-1]),))], name=model.name)
    weights = []
    for layer in model.layers[1:]:
        if isinstance(layer, Dense):
            view.add(Dense(layer.units, activation=layer.activation.name, name=layer.name))
            weights += layer.get_weights()
        elif type(layer).__name__ != "Dropout":  # anything else: draw the model as it is
            return model, None
    view.build((None, int(model.input_shape[-1])))
    view.set_weights(weights)
    return view, norm


def _relabel(figure, inputs: list[str], outputs: dict[str, str], standardised: bool) -> None:
    """Writes the data's column names beside the input nodes and what each output means
    beside the output nodes, in place of ``input_0``, ``output``, ..."""
    wanted = {f"input_{i}": name for i, name in enumerate(inputs)}
    for ax in figure.axes:
        for text in ax.texts:
            label = text.get_text()
            if standardised and label.split("\n")[0] == "input" and text.get_fontsize() == 9:
                text.set_text(label.replace("input", "input\n(standardised)", 1))
            elif label in wanted:
                x, y = text.get_position()
                text.set_text(wanted[label])
                text.set_position((x - 0.36, y - 0.36))  # left of the node, not above it
                text.set_horizontalalignment("right")
                text.set_verticalalignment("center")
                text.set_fontsize(8)
            elif label in outputs:
                x, y = text.get_position()
                text.set_text(outputs[label])
                text.set_position((x + 0.36, y - 0.36))
                text.set_horizontalalignment("left")
                text.set_verticalalignment("center")
                text.set_fontsize(8)
                text.set_color("#000000")


def _output_names(model, target) -> dict[str, str]:
    from glassnet.cli.explain import output_label

    units = int(model.output_shape[-1])
    last = model.layers[-1].name
    if units == 1:
        return {"output" if last == "output" else f"{last}[0]": output_label(target)}
    return {f"{last}[{k}]": output_label(target, k) for k in range(units)}


def _plot_network(args):
    try:
        from glassnet.explain import plot_network
    except ImportError as error:
        raise CommandError(f"--network needs glassnet.explain.plot_network, which cannot be "
                           f"imported here ({error})") from None
    from glassnet.cli.explain import model_row
    from glassnet.cli.prepare import target_from_model

    _new_figure(1)  # says how to install matplotlib when it is missing
    model, info, _ = load_trained(args.inputs[0])
    view, norm = _dense_view(model)
    names = list(info.inputs.feature_names) if info is not None else []
    target = info.target if info is not None else target_from_model(model, "target")
    title = Path(args.inputs[0]).name
    x = None
    if args.data is not None:
        mr = model_row(model, info, read_data(args, args.data), args.row, None)
        names, target = mr.names, mr.target
        x = mr.x
        if norm is not None:
            x = np.asarray(norm(x), dtype=np.float32)
        title += f": the node values for {mr.row.source}"
    if norm is not None:
        title += ("\nthe weights act on the inputs standardised by the model's Normalization "
                  "layer,\n(value - training mean) / standard deviation"
                  + (": those are the input values shown" if x is not None else ""))
    elif x is not None:
        title += "\ninput values as in the data"
    figure = plot_network(view, x=x, title=title)
    _relabel(figure, names, _output_names(model, target), standardised=norm is not None)
    return figure


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet plot``."""
    output = _check_output(args.output)
    if args.network:
        if len(args.inputs) != 1:
            raise CommandError("--network draws one model; give exactly one model file")
        figure = _plot_network(args)
    else:
        histories, kept = {}, {}
        for text in args.inputs:
            label = Path(text).name.split(".")[0]
            while label in histories:
                label += "'"
            histories[label] = read_history(text)
            epoch = kept_epoch(text)
            if epoch is not None:
                kept[label] = epoch
        figure = plot_curves(histories, args.metric, kept)
    figure.savefig(output, bbox_inches="tight", facecolor="white")
    print(f"wrote {output}")
    return 0
