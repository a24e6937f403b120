"""``glassnet evaluate MODEL DATA``: a saved model's loss and metric on a table."""

from __future__ import annotations

import argparse

from glassnet.cli._common import (
    add_data_argument,
    add_target_option,
    format_scores,
    read_data,
    say_notes,
    target_name,
)
from glassnet.cli.modelfiles import load_trained
from glassnet.cli.prepare import encoding_for, recompile, target_from_model


def add_parser(subparsers) -> None:
    """Registers ``evaluate``."""
    parser = subparsers.add_parser(
        "evaluate", help="score a saved model on a table",
        description="Score a saved model on a CSV file or bundled dataset that has the "
                    "target column: its loss and its accuracy (classification) or mean "
                    "absolute error (regression).")
    parser.add_argument("model", metavar="MODEL", help="a .keras or .h5 model file")
    add_data_argument(parser)
    add_target_option(parser, "by default the one the model was trained on")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet evaluate``."""
    model, info, notes = load_trained(args.model)
    say_notes(notes)
    table = read_data(args)
    say_notes(table.notes)
    name = target_name(table, args.target, info.target.name if info else None)
    target = info.target if info is not None else target_from_model(model, name)
    target.name = name
    encoding = encoding_for(model, info, table, name)
    x = encoding.transform(table)
    y = target.encode(target.labels(table))
    recompile(model, target)
    scores = model.evaluate(x, y, return_dict=True, verbose=0)
    print(f"{table.source}, {table.rows} rows, target {name!r}: {format_scores(scores)}")
    return 0
