"""``glassnet explain MODEL DATA --row N``: one row's trip through a saved model.

By default it prints a summary that fits on one screen, in the data's own names and
classes: the prediction and the truth, the loss for the row, the inputs that moved the
prediction most (what the prediction would be with each input at its training mean), and
the strongest nodes of each hidden layer. ``--all`` prints the whole node trace (each
node's input and output, the course's forward propagation) and the slopes (each weight's
slope as the product of the course's three factors), from :func:`glassnet.explain.trace`
and :func:`glassnet.explain.slopes`; ``--format csv`` or ``--format json`` writes every
node and weight as a table instead. Prose is wrapped to the terminal's width.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass

import numpy as np

from glassnet import datasets
from glassnet.cli._common import (
    add_data_argument,
    add_target_option,
    positive_int,
    read_data,
    say_notes,
)
from glassnet.cli.errors import CommandError
from glassnet.cli.modelfiles import ModelInfo, load_trained
from glassnet.cli.prepare import encoding_for, target_from_model
from glassnet.cli.tabular import Table, format_value
from glassnet.cli.target import Target
from glassnet.layers import Dense, Normalization

#: Width used when standard output is not a terminal and ``COLUMNS`` is not set.
DEFAULT_WIDTH = 100


def add_parser(subparsers) -> None:
    """Registers ``explain``."""
    parser = subparsers.add_parser(
        "explain", help="show how a saved model reached its prediction for one row",
        description="Run one row of the data through a saved model. By default: the "
                    "prediction and the truth, the inputs that moved the prediction most "
                    "and the strongest nodes. With --all: every node's input and output "
                    "(forward propagation), then, when the data has the target, every "
                    "weight's slope for that row (backpropagation).")
    parser.add_argument("model", metavar="MODEL", help="a .keras or .h5 model file")
    add_data_argument(parser)
    parser.add_argument("--row", type=int, default=0,
                        help="which data row, counting from 0 (default 0; for a CSV file, "
                             "row 0 is the line after the header)")
    add_target_option(parser, "by default the one the model was trained on")
    parser.add_argument("--all", dest="everything", action="store_true",
                        help="print the whole node trace and every layer's weight slopes")
    parser.add_argument("--format", choices=("text", "csv", "json"), default="text",
                        help="text (default), or every node and weight as csv or json")
    parser.add_argument("--top", type=positive_int, default=5, metavar="N",
                        help="inputs and nodes shown in the summary (default %(default)s)")
    parser.add_argument("--max-nodes", type=positive_int, default=12,
                        help="with --all: nodes shown per layer (default %(default)s)")
    parser.add_argument("--max-weights", type=positive_int, default=16,
                        help="with --all: weights shown per layer in the slopes "
                             "(default %(default)s)")
    parser.add_argument("--no-slopes", dest="slopes", action="store_false",
                        help="leave out the loss and the slopes")
    parser.set_defaults(func=run)


def _explain_functions():
    try:
        from glassnet.explain import slopes, trace
    except ImportError as error:
        raise CommandError(
            f"explain needs glassnet.explain.trace and slopes, which cannot be imported "
            f"here ({error})") from None
    return trace, slopes


@dataclass
class ModelRow:
    """One row of the data as the model sees it.

    Attributes:
        x: the model's input, shape ``(1, features)``.
        names: the model's inputs, named as the data names them (``age``, ``city=Nice``).
        row: the row as a one-row table.
        target: what the model predicts.
        present: the target column when the data has it, else ``None``.
    """

    x: np.ndarray
    names: list[str]
    row: Table
    target: Target
    present: str | None


def model_row(model, info: ModelInfo | None, table: Table, index: int,
              target_column: str | None) -> ModelRow:
    """Row ``index`` of ``table`` as the model's input.

    Raises:
        CommandError: for a row number out of range, or data that do not fit the model.
    """
    if not 0 <= index < table.rows:
        raise CommandError(f"--row must be from 0 to {table.rows - 1} for {table.source}; "
                           f"received {index}")
    row = table.take([index])
    row.source = f"{table.source}, {table.where(index)}"
    name = target_column or (info.target.name if info else None)
    if name is None and table.dataset is not None:
        name = datasets.TARGETS[table.dataset]
    target = info.target if info is not None else target_from_model(model, name or "target")
    present = name if name and table.has(name) else None
    encoding = encoding_for(model, info, table, present)
    return ModelRow(encoding.transform(row), list(encoding.feature_names), row, target, present)


def rename_standardised(model, names: list[str], tr=None, sl=None) -> None:
    """Names a first ``Normalization`` layer's nodes after the data's columns, in a trace and
    slopes (``normalization[3]`` becomes ``mean_area``): they are those columns, standardised."""
    norm = model.layers[0] if model.layers and isinstance(model.layers[0], Normalization) else None
    if norm is None:
        return
    mapping = {f"{norm.name}[{i}]": name for i, name in enumerate(names)}

    def renamed(items: list[str]) -> list[str]:
        return [mapping.get(item, item) for item in items]

    for layer in tr.layers if tr is not None else []:
        layer.node_names = renamed(layer.node_names)
    for layer in sl.layers if sl is not None else []:
        layer.input_names = renamed(layer.input_names)
        layer.node_names = renamed(layer.node_names)


# --- wording ---------------------------------------------------------------------------------


def output_label(target: Target, k: int | None = None) -> str:
    """What an output means: ``P(diagnosis = malignant)``, or the target's name for a number."""
    if target.task == "regression":
        return target.name
    if k is None:
        k = 1
    return f"P({target.name} = {format_value(target.classes[k])})"


def _number(value: float) -> str:
    return f"{float(value):.4g}"


def terminal_width() -> int:
    """``COLUMNS`` if set, the terminal's width when printing to one, else 100."""
    if os.environ.get("COLUMNS", "").isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


def wrap(text: str, width: int) -> str:
    """Wraps the prose lines of ``text`` (tables, whose cells are set apart by two spaces or
    more, are left as they are); a wrapped line's continuation is indented."""
    lines = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if len(line) <= width or re.search(r"\S {2,}\S", line):
            lines.append(line)
            continue
        hanging = indent + (len(line.lstrip().split(": ")[0]) + 2 if ": " in line[:40] else 4)
        hanging = min(hanging, width // 3)
        lines.append(textwrap.fill(line.strip(), width=width, initial_indent=" " * indent,
                                   subsequent_indent=" " * hanging, break_on_hyphens=False))
    return "\n".join(lines)


def _table(headers: list[str], cells: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *cells, strict=True)]

    def line(values) -> str:
        parts = [str(v).rjust(w) if j in right else str(v).ljust(w)
                 for j, (v, w) in enumerate(zip(values, widths, strict=True))]
        return "  " + "  ".join(parts).rstrip()

    return [line(headers), *(line(c) for c in cells)]


# --- the summary -------------------------------------------------------------------------------


def _quantity(target: Target, outputs: np.ndarray, k: int | None) -> np.ndarray:
    """The number the summary follows: the value, or the probability of class ``k``."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if target.task == "regression":
        return outputs[:, 0]
    if outputs.shape[1] == 1:
        return outputs[:, 0] if k == 1 else 1.0 - outputs[:, 0]
    return outputs[:, k]


def summary_lines(model, mr: ModelRow, tr, sl, top: int) -> list[str]:
    """The default view of ``explain``: prediction, truth, strongest inputs and nodes."""
    target = mr.target
    outputs = np.asarray(tr.prediction, dtype=np.float64)
    predicted, probabilities = target.decode(outputs)
    lines = []
    k = None
    if target.task == "regression":
        lines.append(f"prediction: {target.name} = {_number(predicted[0])}")
    else:
        k = int(np.argmax(probabilities[0]))
        shown = f"{output_label(target, k)} = {_number(probabilities[0, k])}"
        if len(target.classes) > 2:
            others = sorted(range(len(target.classes)), key=lambda c: -probabilities[0, c])
            shown += "; " + ", ".join(
                f"{format_value(target.classes[c])} {_number(probabilities[0, c])}"
                for c in others[1:4])
        lines.append(f"prediction: {format_value(predicted[0])} ({shown})")
    if mr.present is not None:
        target.name = mr.present
        labels = target.labels(mr.row)
        if target.task == "regression":
            error = float(predicted[0]) - float(labels[0])
            lines.append(f"truth: {target.name} = {format_value(mr.row.values[mr.present][0])}"
                         f" (the prediction is off by {error:+.4g})")
        else:
            truth = target.classes[int(labels[0])]
            verdict = "right" if truth == predicted[0] else "wrong"
            lines.append(f"truth: {format_value(truth)} (the prediction is {verdict})")
        if sl is not None:
            lines.append(f"loss for this row: {_number(sl.loss)} ({sl.loss_name})")
    else:
        lines.append(f"truth: not in the data (no column {target.name!r})")

    # Inputs: what the prediction would be with each one at its training mean.
    norm = model.layers[0] if isinstance(model.layers[0], Normalization) else None
    x = np.asarray(mr.x, dtype=np.float32)
    if norm is not None:
        mean, variance = (np.asarray(w, dtype=np.float64).reshape(-1) for w in norm.get_weights())
        standard = (x[0] - mean) / np.sqrt(np.maximum(variance, 1e-12))
        at = "at its training mean"
    else:
        mean, standard, at = np.zeros(x.shape[1]), None, "at 0"
    changed = np.repeat(x, x.shape[1], axis=0)
    changed[np.arange(x.shape[1]), np.arange(x.shape[1])] = mean
    base = float(_quantity(target, outputs, k)[0])
    moved = _quantity(target, model.predict(changed, verbose=0), k)
    order = np.argsort(-np.abs(base - moved), kind="stable")[:top]
    label = output_label(target, k)
    lines.append("")
    lines.append(f"the {len(order)} inputs (of {x.shape[1]}) that moved {label} most: what it "
                 f"would be with the input {at}, all else as in this row, and the effect "
                 "(this row's value minus that)")
    headers = ["input", "value"] + (["standardised"] if standard is not None else []) + [
        f"{label} {at.replace(' its training', '')}", "effect"]
    cells = []
    for i in order:
        cell = [mr.names[i], _number(x[0, i])]
        if standard is not None:
            cell.append(f"{standard[i]:+.2f}")
        cells.append([*cell, _number(moved[i]), f"{base - moved[i]:+.3g}"])
    lines += _table(headers, cells, right=set(range(1, len(headers))))

    # Nodes: each hidden layer's strongest, and what the last one adds to the output.
    dense = [layer for layer in tr.layers if layer.kind == "Dense"]
    if len(dense) > 1:
        lines.append("")
        lines.append("the strongest nodes of each hidden layer, by their value for this row"
                     + (" (last hidden layer: by value x weight, what it adds to the output)"))
    last_kernel = None
    output_layer = next((layer for layer in reversed(model.layers)
                         if isinstance(layer, Dense)), None)
    if output_layer is not None:
        last_kernel = np.asarray(output_layer.get_weights()[0], dtype=np.float64)
    for n, layer in enumerate(dense[:-1]):
        values = np.asarray(layer.outputs[0], dtype=np.float64)
        active = int(np.sum(values > 0))
        act = f"{layer.activation}, " if layer.activation else ""
        if n == len(dense) - 2 and last_kernel is not None:
            column = 0 if last_kernel.shape[1] == 1 else (k or 0)
            added = values * last_kernel[:, column]
            best = np.argsort(-np.abs(added), kind="stable")[:min(top, 3)]
            shown = ", ".join(f"{layer.node_names[j]} {_number(values[j])} x "
                              f"{_number(last_kernel[j, column])} = {added[j]:+.3g}"
                              for j in best)
        else:
            best = np.argsort(-np.abs(values), kind="stable")[:min(top, 3)]
            shown = ", ".join(f"{layer.node_names[j]} {_number(values[j])}" for j in best)
        lines.append(f"  {layer.name} ({act}{active} of {len(values)} nodes above 0): {shown}")
    last = dense[-1] if dense else None
    if len(dense) == 1:
        lines.append("")
    if last is not None and last.node_inputs is not None:
        z = ", ".join(_number(v) for v in np.asarray(last.node_inputs[0]))
        a = ", ".join(_number(v) for v in np.asarray(last.outputs[0]))
        act = last.activation or "linear"
        meaning = (output_label(target) if target.task == "regression" or last.outputs.shape[1] == 1
                   else "the class probabilities")
        lines.append(f"  {last.name} ({act}): input {z}, output {a} = {meaning}")
    lines.append("")
    lines.append("every node and weight slope: --all; as a table: --format csv or --format json")
    return lines


# --- the full views ------------------------------------------------------------------------------


def all_lines(model, mr: ModelRow, tr, sl, max_nodes: int, max_weights: int) -> list[str]:
    """``--all``: the whole trace, then the slopes."""
    lines = []
    if isinstance(model.layers[0], Normalization):
        lines.append(f"{model.layers[0].name}: each input standardised, (value - training "
                     "mean) / standard deviation; the first hidden layer's weights act on these")
    lines.append(tr.format(max_nodes=max_nodes))
    prediction = summary_prediction(mr.target, tr.prediction)
    lines.append(f"  that is: {prediction}")
    if sl is not None:
        lines.append("")
        text = sl.format(max_weights=max_weights)
        lines.append(text.replace("(see to_frame())", "(--format csv shows them all)"))
    return lines


def summary_prediction(target: Target, outputs) -> str:
    """``"malignant (P(diagnosis = malignant) = 0.9966)"`` or ``"wage_per_hour = 9.68"``."""
    predicted, probabilities = target.decode(np.asarray(outputs))
    if probabilities is None:
        return f"{target.name} = {_number(predicted[0])}"
    k = int(np.argmax(probabilities[0]))
    return f"{format_value(predicted[0])} ({output_label(target, k)} = " \
           f"{_number(probabilities[0, k])})"


def _float32(value):
    """A float32 number in its shortest form (``17.99``, not ``17.989999771118164``)."""
    if isinstance(value, float):
        return float(np.format_float_positional(np.float32(value), unique=True, trim="-")) \
            if np.isfinite(value) else value
    return value


def records(mr: ModelRow, tr, sl) -> list[dict]:
    """Every node (``part`` "node") and weight (``part`` "weight") as one flat record each."""
    out = []
    for part, found in (("node", tr.records()), ("weight", sl.records() if sl else [])):
        for record in found:
            record.pop("row", None)
            out.append({"part": part, **{k: _float32(v) for k, v in record.items()}})
    return out


def write_table(mr: ModelRow, tr, sl, fmt: str) -> None:
    """``--format csv|json``: every node and weight, to standard output."""
    rows = records(mr, tr, sl)
    if fmt == "json":
        predicted, probabilities = mr.target.decode(np.asarray(tr.prediction))
        document = {
            "data": mr.row.source,
            "target": mr.target.name,
            "prediction": predicted[0] if not isinstance(predicted[0], np.generic)
            else predicted[0].item(),
            "probabilities": None if probabilities is None else {
                format_value(c): float(p) for c, p in zip(mr.target.classes, probabilities[0],
                                                         strict=True)},
            "loss": None if sl is None else float(sl.loss),
            "loss_name": None if sl is None else sl.loss_name,
            "records": rows,
        }
        json.dump(document, sys.stdout, indent=1, allow_nan=False,
                  default=lambda v: v.item() if hasattr(v, "item") else str(v))
        sys.stdout.write("\n")
        return
    fields: list[str] = []
    for row in rows:
        fields += [key for key in row if key not in fields]
    writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet explain``."""
    trace, slopes = _explain_functions()
    model, info, notes = load_trained(args.model)
    table = read_data(args)
    mr = model_row(model, info, table, args.row, args.target)
    tr = trace(model, mr.x)
    tr.input_names = list(mr.names)
    sl = None
    if args.slopes and mr.present is not None:
        mr.target.name = mr.present
        y = mr.target.encode(mr.target.labels(mr.row))
        sl = slopes(model, mr.x, y, loss=mr.target.loss, training=False)
    rename_standardised(model, mr.names, tr, sl)
    if args.format != "text":
        write_table(mr, tr, sl, args.format)
        return 0
    say_notes(notes + [n for n in table.notes if n])
    width = terminal_width()
    print(mr.row.source)
    if args.everything:
        lines = all_lines(model, mr, tr, sl, args.max_nodes, args.max_weights)
        if args.slopes and mr.present is None:
            lines.append("\nno slopes: the data has no target column to compare the "
                         "prediction with")
    else:
        lines = summary_lines(model, mr, tr, sl, args.top)
    print(wrap("\n".join(lines), width))
    return 0
