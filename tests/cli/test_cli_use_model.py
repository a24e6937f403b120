"""``predict``, ``evaluate`` and ``summary`` on models that ``train`` saved, or Python saved."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, write_csv

from glassnet import datasets
from glassnet.cli.tabular import read_table
from glassnet.layers import Dense
from glassnet.models import Sequential, load_model

FAST = ("--epochs", "3", "--hidden", "8")


def read_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def titanic_model(cli, tmp_path):
    assert cli("train", "titanic", *FAST, "--output", "t.keras").code == 0
    return tmp_path / "t.keras"


def test_predict_writes_truth_predictions_and_probabilities(cli, titanic_model, tmp_path):
    run = cli("predict", titanic_model, "titanic", "--output", "preds.csv")
    assert run.code == 0, run
    assert "wrote 1309 predictions to preds.csv" in run.out
    rows = read_rows((tmp_path / "preds.csv").read_text())
    assert len(rows) == 1309
    assert list(rows[0]) == ["survived", "predicted_survived", "probability_0", "probability_1"]
    first = rows[0]
    assert first["predicted_survived"] in ("0", "1")
    assert float(first["probability_0"]) + float(first["probability_1"]) == pytest.approx(1, 1e-5)


def test_predictions_equal_those_of_the_model_loaded_in_python(cli, titanic_model):
    run = cli("predict", titanic_model, "titanic")
    assert run.code == 0 and run.err == ""
    rows = read_rows(run.out)
    model = load_model(str(titanic_model))
    x, _ = datasets.titanic(as_frame=False)
    expected = model.predict(x, verbose=0)[:, 0]  # raw inputs: the model standardises them
    got = np.array([float(r["probability_1"]) for r in rows])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_predict_on_a_csv_encodes_text_as_in_training(cli, people_csv, tmp_path):
    assert cli("train", people_csv, "--target", "bought", *FAST).code == 0
    write_csv(tmp_path / "new.csv", ["income", "city", "age"],
              [[30.0, "Nice", 25], [31.0, "Paris", 60]])
    run = cli("predict", "people.keras", "new.csv")
    assert run.code == 0, run
    rows = read_rows(run.out)
    assert list(rows[0]) == ["predicted_bought", "probability_no", "probability_yes"]
    assert {r["predicted_bought"] for r in rows} <= {"yes", "no"}
    write_csv(tmp_path / "odd.csv", ["income", "city", "age"], [[30.0, "Rome", 25]])
    assert_one_line_error(cli("predict", "people.keras", "odd.csv"),
                          "'Rome' at line 2, a category the model never saw")
    write_csv(tmp_path / "short.csv", ["income", "age"], [[30.0, 25]])
    assert_one_line_error(cli("predict", "people.keras", "short.csv"), "no input column 'city'")


def test_evaluate_reports_the_loss_and_metric(cli, titanic_model):
    run = cli("evaluate", titanic_model, "titanic")
    assert run.code == 0, run
    assert run.out.startswith("bundled dataset 'titanic', 1309 rows, target 'survived': loss ")
    assert "accuracy" in run.out


def test_summary_shows_layers_target_and_encoding(cli, people_csv):
    assert cli("train", people_csv, "--target", "bought", *FAST).code == 0
    run = cli("summary", "people.keras")
    assert run.code == 0, run
    assert "normalization" in run.out.lower() and "hidden" in run.out
    assert "target: 'bought' has 2 classes" in run.out
    assert "inputs: age, city=Lyon, city=Nice, city=Paris, income" in run.out
    assert "scores when trained: val_loss" in run.out


def test_a_model_saved_in_python_without_a_columns_file(cli, tmp_path):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.array([[1.0], [2.0]]), np.array([0.5])])
    model.save(str(tmp_path / "plain.keras"))
    write_csv(tmp_path / "xy.csv", ["a", "b", "y"], [[1, 1, 3.5], [2, 0, 2.5]])
    run = cli("predict", "plain.keras", "xy.csv", "--target", "y")
    assert run.code == 0, run
    assert "no columns file plain.columns.json" in run.err
    assert read_rows(run.out) == [{"y": "3.5", "predicted_y": "3.5"},
                                  {"y": "2.5", "predicted_y": "2.5"}]
    evaluated = cli("evaluate", "plain.keras", "xy.csv", "--target", "y")
    assert evaluated.code == 0 and "loss 0 · mae 0" in evaluated.out
    assert_one_line_error(cli("predict", "plain.keras", "xy.csv"), "takes 2 inputs",
                          "--target")


def test_a_columns_file_for_another_model_is_refused(cli, titanic_model, tmp_path):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    model.save(str(tmp_path / "other.keras"))
    (tmp_path / "other.columns.json").write_text((tmp_path / "t.columns.json").read_text())
    assert_one_line_error(cli("summary", "other.keras"), "describes 6 model inputs",
                          "takes 2")


@pytest.mark.keras
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras_loads_the_model_that_train_saved(cli, tmp_path, suffix):
    keras = pytest.importorskip("keras")
    path = tmp_path / f"t{suffix}"
    assert cli("train", "titanic", *FAST, "--output", path).code == 0
    theirs = keras.models.load_model(str(path))
    ours = load_model(str(path))
    table = read_table("titanic")
    x = np.column_stack([table.values[c] for c in table.columns if c != "survived"])
    np.testing.assert_allclose(theirs.predict(x[:50], verbose=0), ours.predict(x[:50], verbose=0),
                               rtol=1e-4, atol=1e-5)
