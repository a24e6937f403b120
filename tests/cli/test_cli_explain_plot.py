"""``explain`` (node trace and slopes of one row) and ``plot`` (curves and network pictures)."""

from __future__ import annotations

import json
import re
import sys

import pytest
from ci_tools import require_tool
from cli_helpers import assert_one_line_error

# glassnet's own modules are imported, never skipped: a missing one is a failure here.
from glassnet.explain import plot_network  # noqa: F401  (`plot --network` draws with it)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def needs_matplotlib() -> None:
    """matplotlib is an optional extra (``glassnet[plot]``): skipped locally without it,
    a failure in CI, which installs it."""
    require_tool("matplotlib", "plot draws with matplotlib: pip install matplotlib")


@pytest.fixture
def wages_model(cli, tmp_path):
    run = cli("train", "wages", "--epochs", "3", "--hidden", "3", "--output", "w.keras")
    assert run.code == 0, run
    return tmp_path / "w.keras"


def test_explain_prints_the_trace_and_the_slopes_of_one_row(cli, wages_model):
    run = cli("explain", wages_model, "wages", "--row", "5", "--all")
    assert run.code == 0, run
    assert "bundled dataset 'wages', row 5" in run.out
    assert "node_0" in run.out and "node_2" in run.out  # the hidden layer's nodes
    assert "Loss (mean_squared_error)" in run.out


def test_explain_without_the_target_prints_only_the_trace(cli, wages_model, tmp_path):
    header = "union,education_yrs,experience_yrs,age,female,marr,south,manufacturing,construction"
    (tmp_path / "one.csv").write_text(f"{header}\n0,12,5,23,1,0,0,0,0\n")
    run = cli("explain", wages_model, "one.csv", "--all")
    assert run.code == 0, run
    assert "line 2" in run.out
    assert "no slopes" in run.out
    run = cli("explain", wages_model, "one.csv")
    assert "truth: not in the data (no column 'wage_per_hour')" in run.out


def test_explain_checks_the_row_number(cli, wages_model):
    assert_one_line_error(
        cli("explain", wages_model, "wages", "--row", "534"), "--row must be from 0 to 533"
    )


def test_plot_draws_the_learning_curves_saved_by_train(cli, wages_model, tmp_path):
    needs_matplotlib()
    run = cli("plot", wages_model, "--output", "curves.png")
    assert run.code == 0, run
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG_MAGIC


def test_plot_compares_several_histories(cli, tmp_path):
    needs_matplotlib()
    (tmp_path / "a.json").write_text(json.dumps({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}))
    (tmp_path / "b.json").write_text(json.dumps({"loss": [4, 2], "val_loss": [4, 3]}))
    run = cli("plot", "a.json", "b.json", "--metric", "val_loss", "--output", "cmp.svg")
    assert run.code == 0, run
    assert "<svg" in (tmp_path / "cmp.svg").read_text()


def test_plot_refuses_what_is_not_a_history(cli, tmp_path):
    (tmp_path / "x.json").write_text(json.dumps([1, 2, 3]))
    assert_one_line_error(cli("plot", "x.json", "--output", "p.png"), "not a training history")
    (tmp_path / "bad.json").write_text("{")
    assert_one_line_error(cli("plot", "bad.json", "--output", "p.png"), "not a JSON")
    assert_one_line_error(cli("plot", "x.json", "--output", "p.txt"), "--output must end in")


def test_plot_network_draws_the_model(cli, wages_model, tmp_path):
    needs_matplotlib()
    run = cli("plot", wages_model, "--network", "--output", "net.png")
    assert run.code == 0, run
    assert (tmp_path / "net.png").read_bytes()[:8] == PNG_MAGIC


def test_plot_network_with_the_node_values_of_a_row(cli, tmp_path, people_csv):
    needs_matplotlib()
    trained = cli("train", people_csv, "--target", "bought", "--epochs", "2", "--hidden", "3")
    assert trained.code == 0, trained
    run = cli(
        "plot",
        "people.keras",
        "--network",
        "--data",
        people_csv,
        "--row",
        "1",
        "--output",
        "net.png",
    )
    assert run.code == 0, run
    assert (tmp_path / "net.png").read_bytes()[:8] == PNG_MAGIC
    assert_one_line_error(
        cli(
            "plot",
            "people.keras",
            "--network",
            "--data",
            people_csv,
            "--row",
            "999",
            "--output",
            "net.png",
        ),
        "--row must be from 0",
    )


def test_explain_without_pandas_names_the_inputs(cli, wages_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    run = cli("explain", wages_model, "wages", "--no-slopes", "--all")
    assert run.code == 0, run
    assert re.search(r"input +union", run.out) and "input_0" not in run.out
