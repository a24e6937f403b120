"""``glassnet explain MODEL DATA --row N``: one row's trip through a saved model.

Prints the node trace (each node's input and output, the course's forward propagation) and
the slopes (each weight's slope as the product of the course's three factors), using
:func:`glassnet.explain.trace` and :func:`glassnet.explain.slopes`.
"""

from __future__ import annotations

import argparse

import numpy as np

from glassnet import datasets
from glassnet.cli._common import add_data_argument, add_target_option, positive_int, say_notes
from glassnet.cli.errors import CommandError
from glassnet.cli.modelfiles import ModelInfo, load_trained
from glassnet.cli.prepare import encoding_for, target_from_model
from glassnet.cli.tabular import Table, read_table
from glassnet.cli.target import Target


def add_parser(subparsers) -> None:
    """Registers ``explain``."""
    parser = subparsers.add_parser(
        "explain", help="show one row's node values and weight slopes in a saved model",
        description="Run one row of the data through a saved model and print every node's "
                    "input and output (forward propagation), then, when the data has the "
                    "target, every weight's slope for that row (backpropagation).")
    parser.add_argument("model", metavar="MODEL", help="a .keras or .h5 model file")
    add_data_argument(parser)
    parser.add_argument("--row", type=int, default=0,
                        help="which data row, counting from 0 (default 0; for a CSV file, "
                             "row 0 is the line after the header)")
    add_target_option(parser, "by default the one the model was trained on")
    parser.add_argument("--max-nodes", type=positive_int, default=12,
                        help="nodes shown per layer (default %(default)s)")
    parser.add_argument("--max-weights", type=positive_int, default=16,
                        help="weights shown per layer in the slopes (default %(default)s)")
    parser.add_argument("--no-slopes", dest="slopes", action="store_false",
                        help="show only the node trace")
    parser.set_defaults(func=run)


def _explain_functions():
    try:
        from glassnet.explain import slopes, trace
    except ImportError as error:
        raise CommandError(
            f"explain needs glassnet.explain.trace and slopes, which cannot be imported "
            f"here ({error})") from None
    return trace, slopes


def _named_rows(x, names: list[str]):
    """``x`` as a DataFrame with the model's input names, so the trace names its inputs."""
    try:
        import pandas as pd
    except ImportError:
        return x
    return pd.DataFrame(x, columns=names)


def model_row(model, info: ModelInfo | None, data: str, index: int, target_column: str | None
              ) -> tuple[object, Table, Target, str | None]:
    """One row of ``data`` as the model's input.

    Returns:
        ``(x, row, target, present)``: the input row (a DataFrame named by the model's
        inputs when pandas is installed), the row as a one-row table, what the model
        predicts, and the target column if the data has it (else ``None``).

    Raises:
        CommandError: for a row number out of range, or data that do not fit the model.
    """
    table = read_table(data)
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
    x = _named_rows(encoding.transform(row), encoding.feature_names)
    return x, row, target, present


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet explain``."""
    trace, slopes = _explain_functions()
    model, info, notes = load_trained(args.model)
    say_notes(notes)
    x, row, target, present = model_row(model, info, args.data, args.row, args.target)
    print(row.source)
    if isinstance(x, np.ndarray):  # no pandas to name the inputs in the trace: a legend
        names = encoding_for(model, info, row, present).feature_names
        print("inputs: " + ", ".join(f"input_{i} = {n}" for i, n in enumerate(names)))
    print(trace(model, x).format(max_nodes=args.max_nodes))
    if not args.slopes:
        return 0
    if present is None:
        print("\nno slopes: the data has no target column to compare the prediction with")
        return 0
    target.name = present
    y = target.encode(target.labels(row))
    print()
    print(slopes(model, x, y, loss=target.loss, training=False).format(
        max_weights=args.max_weights))
    return 0
