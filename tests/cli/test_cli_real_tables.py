"""The command line on tables shaped like scikit-learn's bundled ones, exported to CSV.

Issue 21: a new user ran ``train``, ``explain`` and ``plot`` on breast cancer (30 numeric
columns, then the text target ``diagnosis``), iris and wine (whose first line is a
description, ``150,4,setosa,versicolor,virginica``). The tables are made here, in the same
shapes; nothing depends on scikit-learn's files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import stat

import numpy as np
import pytest
from ci_tools import require_tool
from cli_helpers import assert_one_line_error, write_csv

from glassnet.cli import plot

FEATURES = [f"{kind}_{name}" for kind in ("mean", "error", "worst")
            for name in ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
                         "concavity", "concave_points", "symmetry", "fractal_dimension")]


@pytest.fixture
def cancer_csv(tmp_path):
    """200 rows of 30 numeric columns, then ``diagnosis`` (benign or malignant), as
    scikit-learn's breast cancer table exported with its target names."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 30)) * np.linspace(0.1, 100, 30) + np.linspace(1, 600, 30)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    score = z[:, 0] + z[:, 27]
    rows = [[*(round(v, 4) for v in row), "malignant" if s > 0 else "benign"]
            for row, s in zip(x, score, strict=True)]
    return write_csv(tmp_path / "cancer.csv", [*FEATURES, "diagnosis"], rows)


@pytest.fixture
def cancer_model(cli, cancer_csv, tmp_path):
    run = cli("train", cancer_csv, "--target", "diagnosis", "--epochs", "30", "--hidden", "6,4",
              "--output", "cancer.keras")
    assert run.code == 0, run
    return tmp_path / "cancer.keras"


def _described(tmp_path, name: str, first: str, features: int, classes: int, rows: int = 60):
    """A table whose first line describes it (``150,4,setosa,...``), as scikit-learn's
    iris.csv and wine_data.csv do, then rows of numbers and a class number."""
    rng = np.random.default_rng(1)
    lines = [first]
    for i in range(rows):
        lines.append(",".join(f"{v:.1f}" for v in rng.normal(5, 1, features)) + f",{i % classes}")
    (tmp_path / name).write_text("\n".join(lines) + "\n")
    return name  # the commands run in tmp_path


# --- item 2: the column list names every column and the likely target ----------------------


def test_without_target_every_column_is_listed_and_the_likely_target_named(cli, cancer_csv):
    run = cli("train", cancer_csv)
    assert_one_line_error(run, "has 31 columns", "worst_fractal_dimension, diagnosis",
                          "Likely target: --target diagnosis (the last column; text, 2 values: "
                          "benign, malignant)")
    for name in FEATURES:
        assert f" {name}," in run.err


def test_a_misspelt_column_lists_every_column(cli, cancer_csv):
    run = cli("train", cancer_csv, "--target", "diagnosys")
    assert_one_line_error(run, "(did you mean 'diagnosis'?)", "worst_symmetry, "
                          "worst_fractal_dimension, diagnosis")


# --- item 3: a first line of numbers is not taken as the header without a word --------------


def test_a_numeric_first_line_gets_a_note_offering_header_none_and_skip_rows(cli, tmp_path):
    iris = _described(tmp_path, "iris.csv", "150,4,setosa,versicolor,virginica", 4, 3)
    run = cli("train", iris)
    assert_one_line_error(run, "iris.csv has 5 columns: 150, 4, setosa, versicolor, virginica",
                          "has numbers ('150', '4')", "--skip-rows 1 --header none")
    run = cli("train", iris, "--target", "virginica", "--epochs", "1")
    assert run.code == 0, run
    assert "note: line 1 of iris.csv, '150,4,setosa,versicolor,virginica', is read as the " \
           "column names but has numbers ('150', '4')" in run.out
    run = cli("train", iris, "--skip-rows", "1", "--header", "none", "--epochs", "1")
    assert_one_line_error(run, "column_1, column_2, column_3, column_4, column_5",
                          "Likely target: --target column_5 (the last column; whole numbers, "
                          "3 values: 0, 1, 2)")
    run = cli("train", iris, "--skip-rows", "1", "--header", "none", "--target", "column_5",
              "--epochs", "1", "--output", "iris.keras")
    assert run.code == 0, run
    assert "data: iris.csv, 60 rows, 5 columns" in run.out and "note:" not in run.out
    run = cli("predict", "iris.keras", iris, "--skip-rows", "1", "--header", "none")
    assert run.code == 0, run
    assert run.out.splitlines()[0] == "column_5,predicted_column_5,probability_0," \
                                      "probability_1,probability_2"


def test_a_header_shorter_than_the_rows_suggests_skipping_it(cli, tmp_path):
    wine = _described(tmp_path, "wine.csv", "178,13,class_0,class_1,class_2", 13, 3)
    assert_one_line_error(cli("train", wine), "wine.csv, line 2: 14 values, but the header has "
                          "5 columns", "skip it with --skip-rows 1")
    run = cli("train", wine, "--skip-rows", "1", "--header", "none", "--target", "column_14",
              "--epochs", "1")
    assert run.code == 0, run


def test_a_header_of_numbers_only_is_called_so(cli, tmp_path):
    write_csv(tmp_path / "plain.csv", ["1.5", "2", "0"], [[2.5, 3, 1], [3.5, 1, 0]])
    run = cli("train", "plain.csv", "--target", "0", "--epochs", "1", "--validation-split", "0")
    assert run.code == 0, run
    assert "holds only numbers; if it is data, add --header none" in run.out
    run = cli("train", "plain.csv", "--header", "none", "--target", "column_3", "--epochs", "1")
    assert run.code == 0, run
    assert "data: plain.csv, 3 rows, 3 columns" in run.out  # the first line is a row now
    assert "note:" not in run.out


# --- item 4: explain reads in one screen, in the data's names -------------------------------


def test_explain_prints_a_summary_in_the_datas_names(cli, cancer_model, cancer_csv):
    run = cli("explain", cancer_model, cancer_csv, "--row", "3")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert len(lines) <= 25, run.out
    assert lines[0] == f"{cancer_csv}, line 5"
    assert lines[1].startswith("prediction: ") and "P(diagnosis = " in lines[1]
    assert lines[2].startswith("truth: benign") or lines[2].startswith("truth: malignant")
    assert lines[3].startswith("loss for this row: ")
    assert "normalization[" not in run.out and "input_" not in run.out
    assert any(line.split()[:1] and line.split()[0] in FEATURES for line in lines)
    assert all(len(line) <= 100 for line in lines), run.out
    assert "--all" in lines[-1] and "--format csv" in lines[-1]


def test_explain_all_names_the_standardised_inputs_and_wraps_its_notes(cli, cancer_model,
                                                                      cancer_csv):
    run = cli("explain", cancer_model, cancer_csv, "--all")
    assert run.code == 0, run
    assert "normalization[" not in run.out and "see to_frame()" not in run.out
    assert "mean_radius -> node_0_0" in run.out
    prose = [line for line in run.out.splitlines() if "  " not in line.strip()]
    assert all(len(line) <= 100 for line in prose), [p for p in prose if len(p) > 100]
    assert "note: sigmoid and binary_crossentropy are fused" in run.out


def test_explain_writes_every_node_and_weight_as_csv_or_json(cli, cancer_model, cancer_csv):
    run = cli("explain", cancer_model, cancer_csv, "--format", "csv")
    assert run.code == 0, run
    rows = list(csv.DictReader(io.StringIO(run.out)))
    nodes = [r for r in rows if r["part"] == "node"]
    weights = [r for r in rows if r["part"] == "weight"]
    assert len(nodes) == 30 + 30 + 6 + 4 + 1  # inputs, standardised inputs, hidden, output
    assert len(weights) == 30 * 2 + 30 * 6 + 6 + 6 * 4 + 4 + 4 + 1  # mean/variance, kernels, biases
    assert nodes[0]["node"] == "mean_radius" and nodes[30]["node"] == "mean_radius"
    document = json.loads(cli("explain", cancer_model, cancer_csv, "--format", "json").out)
    assert document["target"] == "diagnosis"
    assert document["prediction"] in ("benign", "malignant")
    assert set(document["probabilities"]) == {"benign", "malignant"}
    assert len(document["records"]) == len(rows)


# --- item 5: the network picture speaks the data's language ----------------------------------


def _network(model, data=None, row=0):
    require_tool("matplotlib", "plot draws with matplotlib: pip install matplotlib")
    args = argparse.Namespace(inputs=[str(model)], data=data and str(data), row=row,
                              header="first", skip_rows=0)
    figure = plot._plot_network(args)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    return figure, texts


def test_plot_network_names_inputs_and_output_and_says_which_values(cli, cancer_model,
                                                                    cancer_csv, tmp_path):
    figure, texts = _network(cancer_model, cancer_csv, 3)
    assert "mean_radius" in texts and "worst_fractal_dimension" in texts
    assert not [t for t in texts if t.startswith("input_")]
    assert "P(diagnosis = malignant)" in texts
    title = figure.axes[0].get_title()
    assert "cancer.csv, line 5" in title and "standardised" in title
    assert "(value - training mean) / standard deviation" in title
    assert any(t.startswith("input\n(standardised)") for t in texts)
    run = cli("plot", cancer_model, "--network", "--data", cancer_csv, "--row", "3",
              "--output", "net.png")
    assert run.code == 0 and (tmp_path / "net.png").stat().st_size > 10_000


def test_plot_network_of_a_several_class_model_names_each_output(cli, tmp_path):
    iris = _described(tmp_path, "iris.csv", "150,4,setosa,versicolor,virginica", 4, 3)
    run = cli("train", iris, "--skip-rows", "1", "--header", "none", "--target", "column_5",
              "--epochs", "1", "--hidden", "3", "--output", "iris.keras")
    assert run.code == 0, run
    _, texts = _network(tmp_path / "iris.keras")
    assert {"P(column_5 = 0)", "P(column_5 = 1)", "P(column_5 = 2)", "column_1"} <= set(texts)


# --- item 6: the learning curves mark the kept epoch --------------------------------------------


def test_learning_curves_mark_the_epoch_whose_weights_were_kept(cli, cancer_csv, tmp_path):
    run = cli("train", cancer_csv, "--target", "diagnosis", "--epochs", "60", "--patience",
              "2", "--hidden", "4", "--output", "c.keras")
    assert run.code == 0, run
    kept = json.loads((tmp_path / "c.columns.json").read_text())["training"]["kept_epoch"]
    assert f"kept the weights of epoch {kept}," in run.out
    assert plot.kept_epoch(str(tmp_path / "c.keras")) == kept
    history = plot.read_history(str(tmp_path / "c.keras"))
    require_tool("matplotlib", "plot draws with matplotlib: pip install matplotlib")
    figure = plot.plot_curves({"c": history}, None, {"c": kept})
    for ax in figure.axes:
        labels = [line.get_label() for line in ax.lines]
        assert f"kept weights: epoch {kept}" in labels
        marker = [line for line in ax.lines if line.get_label() == labels[-1]][0]
        assert list(marker.get_xdata()) == [kept, kept]
    assert cli("plot", "c.keras", "--output", "curves.png").code == 0


# --- item 7: summary's first column and the files' permissions --------------------------------


def test_summary_keeps_long_layer_names_apart_from_their_shapes(cli, cancer_model):
    run = cli("summary", cancer_model)
    assert run.code == 0, run
    line = next(line for line in run.out.splitlines() if "(Normalization)" in line)
    assert re.match(r"normalization(_\d+)? \(Normalization\) +\(None, 30\) ", line), line


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_three_files_of_train_follow_the_umask(cli, cancer_csv, tmp_path):
    old = os.umask(0o022)
    try:
        run = cli("train", cancer_csv, "--target", "diagnosis", "--epochs", "1",
                  "--output", "m.keras")
    finally:
        os.umask(old)
    assert run.code == 0, run
    modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode)
             for name in ("m.keras", "m.columns.json", "m.history.json")}
    assert modes == dict.fromkeys(modes, 0o644), modes
