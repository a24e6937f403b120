"""``glassnet summary MODEL``: a saved model's layers, and what it was trained to do."""

from __future__ import annotations

import argparse

from glassnet.cli._common import format_scores, say_notes
from glassnet.cli.modelfiles import load_trained


def add_parser(subparsers) -> None:
    """Registers ``summary``."""
    parser = subparsers.add_parser(
        "summary", help="show a saved model's layers and what it predicts",
        description="Print model.summary() for a saved model and, when it has a columns "
                    "file, its target, input columns and validation scores.")
    parser.add_argument("model", metavar="MODEL", help="a .keras or .h5 model file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet summary``."""
    model, info, notes = load_trained(args.model)
    model.summary()
    say_notes(notes)
    if info is None:
        return 0
    print(f"target: {info.target.describe()}")
    print(f"inputs: {', '.join(info.inputs.feature_names)}")
    for note in info.inputs.notes():
        print(note)
    if info.data:
        print(f"trained on: {info.data}")
    if info.scores:
        print(f"scores when trained: {format_scores(info.scores)}")
    return 0
