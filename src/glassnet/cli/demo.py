"""``glassnet demo``: train on the course's wages and Titanic tables and show what came out.

Needs nothing but glassnet: both tables ship inside the package. Takes well under a second
on a laptop, and writes no file unless ``--output-dir`` is given.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from glassnet import datasets
from glassnet.cli.modelfiles import save_trained
from glassnet.cli.prepare import prediction_columns
from glassnet.cli.tabular import format_value, read_dataset
from glassnet.cli.train import Settings, add_training_options, train_table

#: (dataset, heading) for each part of the demo.
PARTS = (
    ("hourly_wages", "Hourly wages of 534 workers (1985): predict wage_per_hour, a number"),
    ("titanic", "Titanic, 1,309 passengers: predict survived, 0 or 1"),
)
SHOWN_ROWS = 5


def add_parser(subparsers) -> None:
    """Registers ``demo``."""
    parser = subparsers.add_parser(
        "demo", help="train on the bundled wages and Titanic tables and show the results",
        description="Train a regression network on the bundled hourly wages table and a "
                    "classifier on the bundled Titanic table, then show validation scores "
                    "and a few predictions next to the truth. Writes nothing unless "
                    "--output-dir is given.")
    add_training_options(parser)
    parser.add_argument("--output-dir", metavar="DIR",
                        help="also save both models (with columns and history files) here")
    parser.set_defaults(func=run)


def _show_rows(result, target: str) -> None:
    """Prints the first validation rows: truth, prediction and, for classes, the probability."""
    table = result.validation
    columns = prediction_columns(result.info.target, result.outputs[:SHOWN_ROWS])
    truth = [format_value(v) for v in table.values[target][:SHOWN_ROWS]]
    names = [target, *columns]
    cells = [truth] + [[_short(v) for v in values] for values in columns.values()]
    widths = [max(len(name), *(len(c) for c in col))
              for name, col in zip(names, cells, strict=True)]
    print("  " + "  ".join(name.rjust(w) for name, w in zip(names, widths, strict=True)))
    for row in zip(*cells, strict=True):
        print("  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return format_value(value)


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet demo``."""
    settings = Settings(epochs=args.epochs, seed=args.seed)
    started = time.perf_counter()
    print("glassnet demo: two networks trained on tables that ship with glassnet\n")
    for number, (name, heading) in enumerate(PARTS, start=1):
        print(f"{number}. {heading}")
        table = read_dataset(name)
        target = datasets.TARGETS[name]
        result = train_table(table, target, settings, quiet=True)
        print("a few validation rows, truth and prediction:")
        _show_rows(result, target)
        if args.output_dir:
            result.info.data = name
            path = Path(args.output_dir) / f"{name}.keras"
            paths = save_trained(result.model, path, result.info, result.history)
            print(f"saved: {', '.join(str(p) for p in paths)}")
        print()
    seconds = time.perf_counter() - started
    print(f"done in {seconds:.1f} s. Next: glassnet train wages --output wages.keras, then "
          "glassnet predict wages.keras wages (docs/cli.md has the rest)")
    return 0
