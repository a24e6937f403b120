"""Seven options of ``glassnet train`` (docs/cli.md's table), each shown to take effect:
``--optimizer``, ``--learning-rate``, ``--batch-size``, ``--no-shuffle``, ``--task``,
``--max-categories`` and ``--verbose``."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, write_csv

from glassnet import optimizers
from glassnet.models import load_model

ONE_EPOCH = ("--epochs", "1", "--hidden", "4", "--patience", "none")


@pytest.fixture
def sorted_csv(tmp_path):
    """100 rows of x1, x2 and a target y = 3 x1 - x2 + noise, sorted by y: a split that
    takes the last rows validates on the largest targets only."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(100, 2))
    y = 3 * x[:, 0] - x[:, 1] + rng.normal(scale=0.1, size=100)
    order = np.argsort(y)
    rows = [
        [f"{a:.4f}", f"{b:.4f}", f"{t:.4f}"] for (a, b), t in zip(x[order], y[order], strict=True)
    ]
    return write_csv(tmp_path / "sorted.csv", ["x1", "x2", "y"], rows)


def read_back(tmp_path, stem):
    """The saved model, its columns file and its history."""
    model = load_model(tmp_path / f"{stem}.keras")
    columns = json.loads((tmp_path / f"{stem}.columns.json").read_text())
    history = json.loads((tmp_path / f"{stem}.history.json").read_text())
    return model, columns, history


# --- --optimizer and --learning-rate ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("adam", "Adam"),
        ("sgd", "SGD"),
        ("rmsprop", "RMSprop"),
        ("adagrad", "Adagrad"),
        ("adamw", "AdamW"),
    ],
)
def test_optimizer_is_the_saved_models_optimizer(cli, tmp_path, name, cls):
    run = cli("train", "wages", *ONE_EPOCH, "--optimizer", name)
    assert run.code == 0, run
    assert f"batch size 32, {name} (learning rate 0.001)" in run.out
    model, columns, _ = read_back(tmp_path, "wages")
    assert type(model.optimizer) is getattr(optimizers, cls)
    assert model.optimizer.iterations == math.ceil(427 / 32)  # it took the steps
    assert (columns["training"]["optimizer"], columns["training"]["learning_rate"]) == (
        name,
        0.001,
    )


def test_optimizer_changes_the_training(cli, tmp_path):
    losses = {}
    for name in ("adam", "sgd"):
        assert cli("train", "wages", *ONE_EPOCH, "--optimizer", name).code == 0
        losses[name] = read_back(tmp_path, "wages")[2]["loss"]
    assert losses["adam"] != losses["sgd"]


def test_an_unknown_optimizer_is_a_one_line_error(cli):
    assert_one_line_error(
        cli("train", "wages", *ONE_EPOCH, "--optimizer", "nadamm"), "Unknown optimizer: 'nadamm'"
    )


def test_learning_rate_is_saved_with_the_optimizer(cli, tmp_path):
    run = cli("train", "wages", *ONE_EPOCH, "--optimizer", "sgd", "--learning-rate", "0.0125")
    assert run.code == 0, run
    assert "sgd (learning rate 0.0125)" in run.out
    model, _, _ = read_back(tmp_path, "wages")
    assert model.optimizer.learning_rate == pytest.approx(0.0125)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.0125)


def test_learning_rate_is_the_step_size(cli, tmp_path):
    # One SGD step from the same seeded start (one batch holds all 427 training rows):
    # w = w0 - lr * g, so the weights move by equal amounts from lr to 2 lr to 3 lr.
    weights = []
    for rate in ("0.01", "0.02", "0.03"):
        run = cli(
            "train",
            "wages",
            *ONE_EPOCH,
            "--optimizer",
            "sgd",
            "--batch-size",
            "1000",
            "--learning-rate",
            rate,
        )
        assert run.code == 0, run
        model = read_back(tmp_path, "wages")[0]
        weights.append(np.concatenate([w.ravel() for w in model.get_weights()]))
    first, second = weights[1] - weights[0], weights[2] - weights[1]
    assert np.abs(first).max() > 1e-4  # the step did move the weights
    np.testing.assert_allclose(second, first, rtol=1e-3, atol=1e-6)


# --- --batch-size and --verbose --------------------------------------------------------


def steps_lines(out: str) -> list[str]:
    """The ``N/N ━━━...`` lines of fit's progress output."""
    return re.findall(r"^(\d+)/(\d+) [━─]+ ", out, flags=re.MULTILINE)


@pytest.mark.parametrize(("batch_size", "steps"), [("32", 14), ("100", 5), ("427", 1)])
def test_batch_size_sets_the_steps_per_epoch(cli, tmp_path, batch_size, steps):
    run = cli(
        "train",
        "wages",
        "--epochs",
        "2",
        "--hidden",
        "4",
        "--patience",
        "none",
        "--batch-size",
        batch_size,
        "--verbose",
        "2",
    )
    assert run.code == 0, run
    assert f"batch size {batch_size}," in run.out
    assert steps_lines(run.out) == [(str(steps), str(steps))] * 2  # 427 training rows
    model = read_back(tmp_path, "wages")[0]
    assert model.optimizer.iterations == 2 * steps


@pytest.mark.parametrize("verbose", ["1", "2"])
def test_verbose_1_and_2_print_fits_epochs(cli, verbose):
    run = cli(
        "train",
        "wages",
        "--epochs",
        "3",
        "--hidden",
        "4",
        "--patience",
        "none",
        "--verbose",
        verbose,
    )
    assert run.code == 0, run
    assert re.findall(r"^Epoch (\d)/3$", run.out, flags=re.MULTILINE) == ["1", "2", "3"]
    assert steps_lines(run.out) == [("14", "14")] * 3
    assert len(re.findall(r" - loss: [\d.]+ - mae: [\d.]+ - val_loss: ", run.out)) == 3


def test_verbose_0_and_the_default_print_no_epochs(cli):
    for extra in (("--verbose", "0"), ()):
        run = cli("train", "wages", "--epochs", "3", "--hidden", "4", *extra)
        assert run.code == 0, run
        assert "Epoch 1/3" not in run.out and not steps_lines(run.out)
        assert "Epoch 1/3" not in run.err
        assert "ran all 3 epochs" in run.out  # train's own summary is still there


# --- --no-shuffle ----------------------------------------------------------------------


def test_no_shuffle_validates_on_the_files_last_rows(cli, tmp_path, sorted_csv):
    table = np.loadtxt(sorted_csv, delimiter=",", skiprows=1)
    x, y = table[:, :2], table[:, 2]
    run = cli("train", sorted_csv, "--target", "y", *ONE_EPOCH, "--no-shuffle")
    assert run.code == 0, run
    assert "split: 80 rows for training, 20 for validation (the last rows)" in run.out
    # The baseline predicts the mean of the first 80 rows for the last 20.
    mae = np.mean(np.abs(y[80:] - y[:80].mean()))
    assert f"always predicting the training mean gives mae {mae:.4g}" in run.out
    model, columns, _ = read_back(tmp_path, "sorted")
    scores = model.evaluate(
        x[80:].astype(np.float32), y[80:].astype(np.float32), return_dict=True, verbose=0
    )
    assert columns["validation_scores"]["val_loss"] == pytest.approx(scores["loss"], rel=1e-5)


def test_no_shuffle_keeps_the_split_whatever_the_seed(cli, sorted_csv):
    def baseline(*extra):
        run = cli("train", sorted_csv, "--target", "y", *ONE_EPOCH, *extra)
        assert run.code == 0, run
        return next(line for line in run.out.splitlines() if line.startswith("baseline:"))

    assert baseline("--no-shuffle", "--seed", "1") == baseline("--no-shuffle", "--seed", "2")
    # Shuffled, each seed holds out other rows (and none is the sorted file's tail).
    shuffled = {baseline("--seed", "1"), baseline("--seed", "2")}
    assert len(shuffled) == 2
    assert baseline("--no-shuffle") not in shuffled


def test_no_shuffle_runs_give_identical_results(cli, tmp_path, sorted_csv):
    results = []
    for _ in range(2):
        assert cli("train", sorted_csv, "--target", "y", *ONE_EPOCH, "--no-shuffle").code == 0
        model, columns, history = read_back(tmp_path, "sorted")
        results.append((history, columns["validation_scores"], model.get_weights()))
    assert results[0][:2] == results[1][:2]
    for a, b in zip(results[0][2], results[1][2], strict=True):
        np.testing.assert_array_equal(a, b)


# --- --task ----------------------------------------------------------------------------


@pytest.fixture
def levels_csv(tmp_path):
    """x and a whole-number target with 3 levels (0, 1, 2), which auto reads as classes."""
    rows = [[i % 7, (i % 7) // 3] for i in range(60)]
    return write_csv(tmp_path / "levels.csv", ["x", "level"], rows)


def test_task_regression_overrules_whole_number_classes(cli, tmp_path, levels_csv):
    auto = cli("train", levels_csv, "--target", "level", *ONE_EPOCH, "--output", "auto.keras")
    assert auto.code == 0, auto
    assert "'level' has 3 classes" in auto.out
    assert load_model(tmp_path / "auto.keras").layers[-1].units == 3

    run = cli("train", levels_csv, "--target", "level", *ONE_EPOCH, "--task", "regression")
    assert run.code == 0, run
    assert "regression with a linear output and mean_squared_error" in run.out
    model, columns, history = read_back(tmp_path, "levels")
    output = model.layers[-1]
    assert (output.units, output.activation.name) == (1, "linear")
    assert columns["target"]["task"] == "regression"
    assert set(history) == {"loss", "mae", "val_loss", "val_mae"}


def test_task_classification_overrules_a_number(cli, tmp_path):
    # 30 whole-number values: more than 20, so auto reads the target as a regression.
    rows = [[i % 30 + 0.1 * (i % 7), i % 30] for i in range(90)]
    path = write_csv(tmp_path / "counts.csv", ["x", "y"], rows)
    auto = cli("train", path, "--target", "y", *ONE_EPOCH, "--output", "auto.keras")
    assert auto.code == 0, auto
    assert "'y' is a number: regression" in auto.out
    assert load_model(tmp_path / "auto.keras").layers[-1].units == 1

    run = cli("train", path, "--target", "y", *ONE_EPOCH, "--task", "classification")
    assert run.code == 0, run
    assert "'y' has 30 classes" in run.out
    model, columns, history = read_back(tmp_path, "counts")
    output = model.layers[-1]
    assert (output.units, output.activation.name) == (30, "softmax")
    assert columns["target"]["task"] == "classification"
    assert columns["target"]["loss"] == "sparse_categorical_crossentropy"
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


# --- --max-categories ------------------------------------------------------------------


def test_max_categories_decides_which_text_columns_are_one_hot(cli, tmp_path, people_csv):
    # city has 3 values: one-hot with the default (20) and with 3, an error with 2.
    run = cli("train", people_csv, "--target", "bought", *ONE_EPOCH, "--max-categories", "3")
    assert run.code == 0, run
    assert "encoded text column 'city' as 3 one-hot columns" in run.out
    columns = json.loads((tmp_path / "people.columns.json").read_text())
    assert columns["inputs"]["features"] == [
        "age",
        "city=Lyon",
        "city=Nice",
        "city=Paris",
        "income",
    ]

    assert_one_line_error(
        cli("train", people_csv, "--target", "bought", *ONE_EPOCH, "--max-categories", "2"),
        "column 'city'",
        "3 different values",
        "at most 2",
        "--drop city",
        "--max-categories",
    )


def test_max_categories_must_be_positive(cli, people_csv):
    run = cli("train", people_csv, "--target", "bought", "--max-categories", "0")
    assert run.code == 2, run  # argparse's usage error
    assert "--max-categories" in run.err
