"""``glassnet predict MODEL DATA``: a saved model's predictions for a table, as CSV."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from glassnet.cli._common import add_data_argument, add_target_option, read_data, say_notes
from glassnet.cli.modelfiles import load_trained
from glassnet.cli.prepare import encoding_for, prediction_columns, target_from_model
from glassnet.cli.tabular import format_value


def add_parser(subparsers) -> None:
    """Registers ``predict``."""
    parser = subparsers.add_parser(
        "predict", help="write a saved model's predictions for a table as CSV",
        description="Predict every row of a CSV file or bundled dataset. The CSV written has "
                    "the target column (when the data has it, to compare), "
                    "predicted_<target>, and for classification probability_<class> for "
                    "each class.")
    parser.add_argument("model", metavar="MODEL", help="a .keras or .h5 model file")
    add_data_argument(parser)
    add_target_option(parser, "by default the one the model was trained on")
    parser.add_argument("--output", "-o", metavar="CSV",
                        help="file to write (default: standard output)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet predict``."""
    model, info, notes = load_trained(args.model)
    table = read_data(args)
    recorded = info.target.name if info is not None else None
    name = args.target or recorded
    if name is None and table.dataset is not None:
        from glassnet import datasets

        name = datasets.TARGETS[table.dataset]
    target = info.target if info is not None else target_from_model(model, name or "target")
    if name:
        target.name = name
    present = name if name and table.has(name) else None
    encoding = encoding_for(model, info, table, present)
    x = encoding.transform(table)
    outputs = model.predict(x, verbose=0)
    columns = {}
    if present:
        columns[present] = [format_value(v) for v in table.values[present]]
    columns.update(prediction_columns(target, outputs))
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            _write(handle, columns)
        say_notes(notes + table.notes)
        print(f"wrote {table.rows} predictions to {path}")
    else:
        for note in notes + table.notes:
            print(f"note: {note}", file=sys.stderr)
        _write(sys.stdout, columns)
    return 0


def _write(handle, columns: dict[str, list]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(list(columns))
    for row in zip(*columns.values(), strict=True):
        writer.writerow([_cell(v) for v in row])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return format_value(value)
