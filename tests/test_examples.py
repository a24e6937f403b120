"""Every script in examples/ runs (with few epochs) and produces sensible results."""

import importlib.util
import math
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regression_wages_learns(capsys):
    final_loss = load("regression_wages").main(epochs=15)
    # Wages have variance ~26; a model that learned something is well below that.
    assert final_loss < 26
    assert "predicted wage" in capsys.readouterr().out


def test_classification_titanic_saves_loads_and_predicts(tmp_path):
    accuracy = load("classification_titanic").main(epochs=5, out=str(tmp_path))
    assert (tmp_path / "model_file.h5").exists()
    assert accuracy > 0.6


def test_learning_rates_rank_like_the_course():
    losses = load("learning_rates").main(epochs=3)
    assert set(losses) == {0.000001, 0.01, 1}
    # A rate of 0.000001 barely moves the weights: its loss stays the highest.
    assert losses[0.000001] > losses[0.01]


def test_validation_and_early_stopping_stop_early():
    history = load("validation_early_stopping").main(epochs=30)
    assert "val_loss" in history.history
    assert len(history.epoch) < 30


def test_model_capacity_plots_the_validation_curves(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "capacity.png"
    histories = load("model_capacity").main(epochs=4, out=str(out))
    assert set(histories) == {"small", "wider", "deeper"}
    assert out.stat().st_size > 10_000
    assert all(math.isfinite(v) for h in histories.values() for v in h)


def test_digits_model_reaches_high_accuracy():
    assert load("digits_mnist").main(epochs=3) > 0.85
