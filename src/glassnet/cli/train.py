"""``glassnet train DATA --target COL``: fit a network to a table and save it.

The recipe is the course's: standardise the inputs (mean 0, deviation 1; here with a
``Normalization`` layer inside the model, so that prediction applies the same scaling),
hidden ``Dense`` layers with ReLU, an output layer and loss chosen from the target, Adam,
a validation split, early stopping, then the validation scores.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet import activations, optimizers
from glassnet.callbacks import EarlyStopping
from glassnet.cli._common import (
    add_data_argument,
    add_target_option,
    format_scores,
    non_negative_int,
    positive_int,
    read_data,
    say_notes,
    target_name,
)
from glassnet.cli.encoding import MAX_CATEGORIES, InputEncoding
from glassnet.cli.errors import CommandError
from glassnet.cli.modelfiles import ModelInfo, check_model_path, save_trained
from glassnet.cli.progress import EpochBar
from glassnet.cli.tabular import Table
from glassnet.cli.target import MAX_CLASSES, Target
from glassnet.layers import Dense, Dropout, Input, Normalization
from glassnet.models import Sequential
from glassnet.utils import set_random_seed


@dataclass
class Settings:
    """How to train; the defaults are those of ``glassnet train``."""

    hidden: list[int] = field(default_factory=lambda: [50, 32])
    activation: str = "relu"
    loss: str | None = None
    task: str = "auto"
    optimizer: str = "adam"
    learning_rate: float = 0.001
    epochs: int = 100
    batch_size: int = 32
    validation_split: float = 0.2
    patience: int | None = 5
    dropout: float = 0.0
    seed: int = 0
    standardize: bool = True
    shuffle: bool = True
    drop: list[str] = field(default_factory=list)
    max_categories: int = MAX_CATEGORIES
    max_classes: int = MAX_CLASSES
    verbose: int | None = None


@dataclass
class Result:
    """What :func:`train_table` produced."""

    model: Sequential
    info: ModelInfo
    history: dict
    scores: dict
    baseline: str
    validation: Table | None
    outputs: np.ndarray | None
    epochs_run: int
    seconds: float


def parse_hidden(text: str) -> list[int]:
    """``"50,32"`` → ``[50, 32]``; ``"none"`` or ``""`` → no hidden layer.

    Raises:
        argparse.ArgumentTypeError: for anything but positive whole numbers.
    """
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes such as 50,32, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {text!r}")
    return sizes


def _patience(text: str) -> int | None:
    if text.strip().lower() in ("none", "off"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number or 'none', got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"patience must be 0 or more, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number from 0 up to (not including) 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_training_options(parser) -> None:
    """The options that shape training, shared by ``train`` and ``demo``."""
    defaults = Settings()
    parser.add_argument("--epochs", type=positive_int, default=defaults.epochs,
                        help="most epochs to train (default %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=defaults.seed,
                        help="seed for the weights, the shuffling and the split "
                             "(default %(default)s)")


def add_parser(subparsers) -> None:
    """Registers ``train``."""
    parser = subparsers.add_parser(
        "train", help="train a network on a CSV file or bundled dataset and save it",
        description="Train a network to predict one column of a table from the others, "
                    "report validation scores, and save the model with its columns file "
                    "and training history.")
    add_options(parser)
    parser.add_argument("--output", "-o", metavar="MODEL",
                        help="where to save the model: .keras (default DATA-NAME.keras) or .h5")
    parser.set_defaults(func=run)


def add_options(parser) -> None:
    """DATA, the target and every option that shapes the data, the network and training;
    shared by ``train`` and ``watch``."""
    defaults = Settings()
    add_data_argument(parser)
    add_target_option(parser, "a bundled dataset's own target by default")

    data = parser.add_argument_group("reading the data")
    data.add_argument("--drop", default="", metavar="COLS",
                      help="columns to leave out of the inputs, comma separated")
    data.add_argument("--max-categories", type=positive_int, default=MAX_CATEGORIES,
                      metavar="N", help="most distinct values for a text column to be one-hot "
                                        "encoded (default %(default)s)")
    data.add_argument("--task", choices=("auto", "classification", "regression"),
                      default="auto", help="what to predict (default: decided by the target)")
    data.add_argument("--no-standardize", dest="standardize", action="store_false",
                      help="feed the inputs as they are, without a Normalization layer")

    network = parser.add_argument_group("the network")
    network.add_argument("--hidden", type=parse_hidden, default=defaults.hidden,
                         metavar="SIZES", help="hidden layer sizes, comma separated; 'none' "
                                               "for no hidden layer (default 50,32)")
    network.add_argument("--activation", default=defaults.activation, metavar="NAME",
                         help="activation of the hidden layers (default %(default)s)")
    network.add_argument("--dropout", type=_fraction, default=0.0, metavar="RATE",
                         help="dropout rate after each hidden layer (default 0: none)")
    network.add_argument("--loss", metavar="NAME",
                         help="loss name; chosen from the target when not given")

    training = parser.add_argument_group("training")
    add_training_options(training)
    training.add_argument("--optimizer", default=defaults.optimizer, metavar="NAME",
                          help="adam, sgd, rmsprop, ... (default %(default)s)")
    training.add_argument("--learning-rate", type=_positive_float, metavar="RATE",
                          default=defaults.learning_rate,
                          help="step size of the optimizer (default %(default)s)")
    training.add_argument("--batch-size", type=positive_int, default=defaults.batch_size,
                          metavar="N", help="rows per gradient step (default %(default)s)")
    training.add_argument("--validation-split", type=_fraction, metavar="FRACTION",
                          default=defaults.validation_split,
                          help="share of rows held out to validate (default %(default)s)")
    training.add_argument("--no-shuffle", dest="shuffle", action="store_false",
                          help="validate on the last rows, in the file's order, as Keras's "
                               "validation_split does (default: shuffle the rows first)")
    training.add_argument("--patience", type=_patience, default=defaults.patience,
                          metavar="N", help="stop after N epochs without a better validation "
                                            "loss; 'none' trains all epochs (default 5)")
    training.add_argument("--verbose", type=int, choices=(0, 1, 2),
                          help="fit's own output: 1 a progress bar per epoch, 2 a line per "
                               "epoch (default: a one-line bar on long runs only)")


def settings_from(args: argparse.Namespace) -> Settings:
    """The :class:`Settings` that the parsed arguments ask for."""
    try:
        activations.get(args.activation)
        optimizers.get(args.optimizer)
    except ValueError as error:
        raise CommandError(str(error)) from None
    return Settings(
        hidden=args.hidden, activation=args.activation, loss=args.loss, task=args.task,
        optimizer=args.optimizer, learning_rate=args.learning_rate, epochs=args.epochs,
        batch_size=args.batch_size, validation_split=args.validation_split,
        patience=args.patience, dropout=args.dropout, seed=args.seed,
        standardize=args.standardize, shuffle=args.shuffle,
        drop=[c.strip() for c in args.drop.split(",") if c.strip()],
        max_categories=args.max_categories, verbose=args.verbose,
    )


def build_model(
    features: int, target: Target, settings: Settings, x_train: np.ndarray
) -> Sequential:
    """The network: [Normalization], hidden ``Dense`` layers [each followed by ``Dropout``],
    and the output layer, named as the course names them (``hidden_0``, ..., ``output``)."""
    # Names given here, not numbered by how many models this process made before: a model
    # trained by `glassnet train` always holds "normalization", "hidden_0", ..., "output".
    model = Sequential([Input(shape=(features,))], name="sequential")
    if settings.standardize:
        norm = Normalization(name="normalization")
        norm.adapt(x_train)
        # A column constant in the training rows (a pixel that is always 0) has variance 0,
        # and Normalization would divide by epsilon: any other value in it later becomes
        # huge. Such a column is only centred, as scikit-learn's StandardScaler does.
        mean, variance = norm.get_weights()
        norm.set_weights([mean, np.where(variance > 0, variance, 1.0)])
        model.add(norm)
    for index, units in enumerate(settings.hidden):
        # The course's names, which glassnet.explain turns into node names: one hidden
        # layer holds node_0, node_1, ...; hidden layer l holds node_l_0, node_l_1, ...
        suffix = "" if len(settings.hidden) == 1 else f"_{index}"
        model.add(Dense(units, activation=settings.activation, name=f"hidden{suffix}"))
        if settings.dropout:
            model.add(Dropout(settings.dropout, name=f"dropout{suffix}"))
    model.add(Dense(target.units, activation=target.activation, name="output"))
    optimizer = optimizers.get({"class_name": settings.optimizer,
                                "config": {"learning_rate": settings.learning_rate}})
    model.compile(optimizer=optimizer, loss=target.loss, metrics=[target.metric])
    return model


def describe_model(model: Sequential) -> str:
    """``"9 inputs → Normalization → Dense(50, relu) → Dense(1, linear)"``."""
    parts = [f"{model.input_shape[-1]} inputs"]
    for layer in model.layers:
        if isinstance(layer, Dense):
            parts.append(f"Dense({layer.units}, {layer.activation.name})")
        elif isinstance(layer, Dropout):
            parts.append(f"Dropout({layer.rate:g})")
        else:
            parts.append(type(layer).__name__)
    return " → ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _split(rows: int, fraction: float) -> int:
    """Where training rows end: Keras's ``floor(rows * (1 - validation_split))``."""
    split_at = math.floor(rows * (1.0 - fraction))
    if fraction and (split_at == 0 or split_at == rows):
        raise CommandError(
            f"{rows} rows cannot be split into training and validation rows with "
            f"--validation-split {fraction}")
    return split_at


def _baseline(target: Target, train_labels: np.ndarray, val_labels: np.ndarray) -> str:
    """What a model that ignores its inputs would score, to compare with."""
    if target.task == "regression":
        mae = float(np.mean(np.abs(val_labels - train_labels.mean())))
        return f"always predicting the training mean gives mae {mae:.4g}"
    counts = np.bincount(train_labels, minlength=len(target.classes))
    common = int(np.argmax(counts))
    accuracy = float(np.mean(val_labels == common))
    return (f"always predicting the most common class ({target.classes[common]!r}) gives "
            f"accuracy {accuracy:.4g}")


def train_table(
    table: Table, target_column: str, settings: Settings, quiet: bool = False,
    more_callbacks: Callable[[np.ndarray, np.ndarray], list] | None = None,
) -> Result:
    """Trains a model on ``table`` to predict ``target_column``, reporting as it goes.

    Args:
        table: the data.
        target_column: the column to predict.
        settings: how to train.
        quiet: print only the most important lines (for ``demo``).
        more_callbacks: called with the training rows and targets (as the model takes
            them), returns callbacks to add to ``fit`` (``watch``'s live page).

    Returns:
        The trained model and what it takes to save and report it.

    Raises:
        CommandError: for data or settings that cannot be used.
    """
    def say(text: str, important: bool = False) -> None:
        if important or not quiet:
            print(text)

    for name in settings.drop:
        table.column(name, "column to drop")
    if target_column in settings.drop:
        raise CommandError(f"{target_column!r} is the target; it cannot also be dropped")
    say(f"data: {table.source}, {_count(table.rows, 'row')}, "
        f"{_count(len(table.columns), 'column')}")
    if not quiet:
        say_notes(table.notes)
    target = Target.infer(table, target_column, settings.task, settings.loss, settings.max_classes)
    say(f"target: {target.describe()}")
    labels = target.labels(table)
    encoding = InputEncoding.fit(table, [target_column, *settings.drop], settings.max_categories)
    for note in encoding.notes():
        say(note)
    x = encoding.transform(table)
    scaled = ", standardised by a Normalization layer" if settings.standardize else ""
    encoded = (f" ({len(encoding.categorical)} of them one-hot encoded)"
               if encoding.categorical else "")
    say(f"inputs: {len(encoding.columns)} columns{encoded} → {x.shape[1]} model "
        f"inputs{scaled}")

    order = np.arange(table.rows)
    if settings.shuffle:
        order = np.random.default_rng(settings.seed).permutation(table.rows)
    split_at = _split(table.rows, settings.validation_split)
    train_rows, val_rows = order[:split_at], order[split_at:]
    how = (f" (rows shuffled with seed {settings.seed} first)" if settings.shuffle
           else " (the last rows)")
    if len(val_rows):
        say(f"split: {len(train_rows)} rows for training, {len(val_rows)} for validation{how}")
    else:
        say(f"split: all {len(train_rows)} rows for training, none for validation")

    set_random_seed(settings.seed)
    model = build_model(x.shape[1], target, settings, x[train_rows])
    say(f"model: {describe_model(model)}, {model.count_params():,} parameters", important=True)
    stopping = None
    callbacks: list = []
    if settings.patience is not None:
        monitor = "val_loss" if len(val_rows) else "loss"
        stopping = EarlyStopping(monitor=monitor, patience=settings.patience,
                                 restore_best_weights=True)
        callbacks.append(stopping)
    if settings.verbose is None:
        callbacks.append(EpochBar())
    early = f", early stopping with patience {settings.patience}" if stopping else ""
    say(f"training: up to {settings.epochs} epochs, batch size {settings.batch_size}, "
        f"{settings.optimizer} (learning rate {settings.learning_rate:g}){early}")
    y = target.encode(labels)
    if more_callbacks is not None:
        callbacks.extend(more_callbacks(x[train_rows], y[train_rows]))
    validation = (x[val_rows], y[val_rows]) if len(val_rows) else None
    started = time.perf_counter()
    history = model.fit(x[train_rows], y[train_rows], epochs=settings.epochs,
                        batch_size=settings.batch_size, validation_data=validation,
                        callbacks=callbacks, verbose=settings.verbose or 0)
    seconds = time.perf_counter() - started
    epochs_run = len(history.epoch)
    if stopping is not None:
        how_far = (f"stopped after {epochs_run} of {settings.epochs} epochs"
                   if epochs_run < settings.epochs else f"ran all {epochs_run} epochs")
        say(f"{how_far} in {seconds:.1f} s; kept the weights of epoch {stopping.best_epoch + 1}, "
            f"the best {stopping.monitor}", important=True)
    else:
        say(f"ran {epochs_run} epochs in {seconds:.1f} s", important=True)

    rows = val_rows if len(val_rows) else train_rows
    scores = model.evaluate(x[rows], y[rows], return_dict=True, verbose=0)
    outputs = model.predict(x[rows], verbose=0)
    which = "validation" if len(val_rows) else "training"
    say(f"{which} scores ({len(rows)} rows): {format_scores(scores)}", important=True)
    baseline = _baseline(target, labels[train_rows], labels[rows])
    say(f"baseline: {baseline}", important=True)
    info = ModelInfo(
        target=target, inputs=encoding, standardized=settings.standardize,
        scores={f"{'val_' if len(val_rows) else ''}{k}": float(v) for k, v in scores.items()},
        notes={"rows": {"training": len(train_rows), "validation": len(val_rows)},
               "epochs_run": epochs_run, "seed": settings.seed,
               "kept_epoch": None if stopping is None else stopping.best_epoch + 1,
               "hidden": settings.hidden, "activation": settings.activation,
               "optimizer": settings.optimizer, "learning_rate": settings.learning_rate},
    )
    return Result(model=model, info=info, history=dict(history.history), scores=scores,
                  baseline=baseline, validation=table.take(rows), outputs=outputs,
                  epochs_run=epochs_run, seconds=seconds)


def default_output(data: str) -> Path:
    """``wages`` → ``wages.keras``; ``data/titanic.csv`` → ``titanic.keras``, in the current
    folder."""
    return Path(Path(data).stem + ".keras")


def run(args: argparse.Namespace) -> int:
    """Runs ``glassnet train``."""
    settings = settings_from(args)
    output = check_model_path(Path(args.output) if args.output else default_output(args.data))
    table = read_data(args)
    result = train_table(table, target_name(table, args.target), settings)
    result.info.data = args.data
    paths = save_trained(result.model, output, result.info, result.history)
    print(f"saved: {', '.join(str(p) for p in paths)}")
    print(f"next: glassnet predict {output} {args.data} --output predictions.csv")
    return 0
