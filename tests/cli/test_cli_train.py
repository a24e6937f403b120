"""``glassnet train``: what it says, what it writes, and that the same seed gives the same model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glassnet.cli.target import Target
from glassnet.cli.train import Settings, build_model
from glassnet.layers import Dense, Normalization
from glassnet.models import load_model

FAST = ("--epochs", "3", "--hidden", "8")


def test_train_on_a_bundled_regression_table_reports_and_saves(cli, tmp_path):
    run = cli("train", "wages", *FAST)
    assert run.code == 0, run
    assert "target: 'wage_per_hour' is a number: regression" in run.out
    assert "split: 427 rows for training, 107 for validation" in run.out
    assert "standardised by a Normalization layer" in run.out
    assert "validation scores (107 rows): loss " in run.out and " · mae " in run.out
    assert "baseline: always predicting the training mean gives mae" in run.out
    for name in ("wages.keras", "wages.columns.json", "wages.history.json"):
        assert (tmp_path / name).is_file(), name
    history = json.loads((tmp_path / "wages.history.json").read_text())
    assert set(history) == {"loss", "mae", "val_loss", "val_mae"}
    assert len(history["loss"]) == 3


def test_the_saved_model_starts_with_its_normalization_and_has_course_names(cli, tmp_path):
    assert cli("train", "titanic", "--epochs", "2", "--hidden", "4,3",
               "--output", "t.keras").code == 0
    model = load_model(str(tmp_path / "t.keras"))
    assert isinstance(model.layers[0], Normalization)
    assert [layer.name for layer in model.layers[1:]] == ["hidden_0", "hidden_1", "output"]
    assert isinstance(model.layers[-1], Dense) and model.layers[-1].activation.name == "sigmoid"
    columns = json.loads((tmp_path / "t.columns.json").read_text())
    assert columns["target"] == {"name": "survived", "task": "classification",
                                 "loss": "binary_crossentropy", "classes": [0, 1]}
    assert columns["standardized"] is True
    assert set(columns["validation_scores"]) == {"val_loss", "val_accuracy"}


def test_text_columns_are_encoded_and_the_output_says_so(cli, people_csv, tmp_path):
    run = cli("train", people_csv, "--target", "bought", *FAST)
    assert run.code == 0, run
    assert ("encoded text column 'city' as 3 one-hot columns: city=Lyon, city=Nice, "
            "city=Paris") in run.out
    assert "'bought' has 2 classes (no, yes): one sigmoid output (the probability of yes)" \
        in run.out
    columns = json.loads((tmp_path / "people.columns.json").read_text())
    assert columns["inputs"]["features"] == ["age", "city=Lyon", "city=Nice", "city=Paris",
                                             "income"]


def test_an_h5_output_and_options_that_change_the_network(cli, tmp_path):
    run = cli("train", "wages", "--epochs", "2", "--hidden", "none", "--no-standardize",
              "--patience", "none", "--validation-split", "0", "--output", "m/lin.h5")
    assert run.code == 0, run
    assert "model: 9 inputs → Dense(1, linear), 10 parameters" in run.out
    assert "split: all 534 rows for training, none for validation" in run.out
    assert "training scores (534 rows)" in run.out
    assert "ran 2 epochs" in run.out
    assert (tmp_path / "m" / "lin.h5").is_file()
    assert (tmp_path / "m" / "lin.columns.json").is_file()


def test_dropout_and_drop_columns(cli, people_csv, tmp_path):
    run = cli("train", people_csv, "--target", "bought", "--drop", "income,city",
              "--dropout", "0.5", *FAST)
    assert run.code == 0, run
    assert "→ Dense(8, relu) → Dropout(0.5) → Dense(1, sigmoid)" in run.out
    assert "inputs: 1 columns" in run.out


def test_the_same_seed_gives_the_same_scores_and_another_seed_does_not(cli):
    def scores(*extra):
        run = cli("train", "wages", *FAST, *extra)
        assert run.code == 0, run
        return next(line for line in run.out.splitlines() if line.startswith("validation"))

    assert scores("--seed", "3") == scores("--seed", "3")
    assert scores("--seed", "3") != scores("--seed", "4")


def test_a_multiclass_target_gets_softmax_and_sparse_crossentropy(cli, people_csv):
    run = cli("train", people_csv, "--target", "city", *FAST)
    assert run.code == 0, run
    assert "3 softmax outputs and sparse_categorical_crossentropy" in run.out
    assert "accuracy" in run.out


@pytest.mark.parametrize(("argument", "message"), [
    (("--hidden", "3,x"), "expected layer sizes such as 50,32"),
    (("--validation-split", "1.5"), "expected a number from 0 up to"),
    (("--epochs", "0"), "at least 1"),
    (("--patience", "soon"), "expected a whole number or 'none'"),
])
def test_bad_option_values_are_usage_errors(cli, argument, message):
    run = cli("train", "wages", *argument)
    assert run.code == 2
    assert message in run.err


def test_a_column_constant_in_training_is_centred_not_divided_by_epsilon():
    x = np.array([[1.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    target = Target("y", "regression", "mean_squared_error")
    model = build_model(2, target, Settings(hidden=[]), x)
    norm = model.layers[0]
    assert isinstance(norm, Normalization)
    # column 0: (3 - 2) / 1; column 1, constant 5 in training: (6 - 5) / 1, not 1 / epsilon
    np.testing.assert_allclose(norm(np.array([[3.0, 6.0]])), [[1.0, 1.0]])
