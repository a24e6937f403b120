"""glassnet.experiments: cross-validation, compare, the learning-rate sweep, capacity search."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from glassnet.experiments import (
    Results,
    Run,
    Trial,
    capacity_search,
    compare,
    cross_validate,
    dense_network,
    fold_indices,
    learning_rate_sweep,
)
from glassnet.experiments import capacity as capacity_module
from glassnet.experiments._build import seeded
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.utils import set_random_seed


@pytest.fixture
def data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 3)).astype(np.float32)
    y = (x[:, 0] - 2 * x[:, 1] + np.sin(x[:, 2])).astype(np.float32)
    return x, y


def small(n_features):
    return dense_network(n_features, (6,), learning_rate=0.01)


# --- folds ---------------------------------------------------------------------------------


def test_folds_partition_the_rows():
    splits = fold_indices(23, 5, seed=1)
    held = np.concatenate([h for _, h in splits])
    assert sorted(held) == list(range(23))
    assert {len(h) for _, h in splits} == {4, 5}
    for train, h in splits:
        assert not set(train) & set(h) and len(train) + len(h) == 23


@pytest.mark.parametrize(("folds", "message"), [
    (11, r"`folds`=11 is larger than the number of rows \(10\).*folds <= 10"),
    (1, "`folds` must be an integer of at least 2"),
    (2.0, "`folds` must be an integer of at least 2"),
])
def test_bad_folds(data, folds, message):
    x, y = data
    with pytest.raises(ValueError, match=message):
        cross_validate(small, x[:10], y[:10], folds=folds, n_jobs=1)


# --- cross_validate ------------------------------------------------------------------------


def test_cross_validate_scores_each_held_out_fold(data):
    x, y = data
    result = cross_validate(small, x, y, folds=4, epochs=3, seed=0, n_jobs=1)
    assert isinstance(result, Trial) and len(result.runs) == 4
    assert [run.fold for run in result.runs] == [0, 1, 2, 3]
    # The score of a fold is the held-out loss of its final model.
    assert all(run.score == run.history["val_loss"][-1] for run in result.runs)
    assert result.score == pytest.approx(np.mean(result.scores))
    assert len({run.seed for run in result.runs}) == 4
    frame = result.to_frame()
    assert list(frame["fold"]) == [1, 2, 3, 4]
    assert "4-fold" in str(result) and "val_loss" in str(result)


def test_cross_validate_is_reproducible_and_leaves_random_state_alone(data):
    x, y = data
    set_random_seed(123)
    state = np.random.get_state()[1].copy()
    python_state = random.getstate()
    a = cross_validate(small, x, y, folds=3, epochs=2, seed=9, n_jobs=1)
    b = cross_validate(small, x, y, folds=3, epochs=2, seed=9, n_jobs=1)
    c = cross_validate(small, x, y, folds=3, epochs=2, seed=10, n_jobs=1)
    assert a.scores == b.scores and a.scores != c.scores
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert random.getstate() == python_state


def test_seeded_restores_the_callers_state():
    set_random_seed(1)
    with seeded(5):
        inside = Sequential([Dense(3, input_shape=(2,))]).get_weights()[0]
    after = Sequential([Dense(3, input_shape=(2,))]).get_weights()[0]
    set_random_seed(1)
    expected = Sequential([Dense(3, input_shape=(2,))]).get_weights()[0]
    np.testing.assert_array_equal(after, expected)  # as if the block had not run
    with seeded(5):
        np.testing.assert_array_equal(Sequential([Dense(3, input_shape=(2,))]).get_weights()[0],
                                      inside)


# --- bad build functions -------------------------------------------------------------------


def returns_none():
    return None


def returns_uncompiled(n_features):
    return Sequential([Dense(1, input_shape=(n_features,))])


@pytest.mark.parametrize("study", ["cross_validate", "compare", "capacity_search"])
def test_build_function_without_a_compiled_model(data, study):
    x, y = data

    def run(build):
        if study == "cross_validate":
            return cross_validate(build, x, y, folds=2, n_jobs=1)
        if study == "compare":
            return compare({"m": build}, x, y, n_jobs=1)
        return capacity_search(x, y, build_fn=build, n_jobs=1)

    with pytest.raises(TypeError, match=r"returns_none\) must return a glassnet model.*NoneType"
                                        r".*forget `return model`"):
        run(returns_none)
    with pytest.raises(ValueError, match=r"returns_uncompiled\) returned a model that is not "
                                         r"compiled.*model.compile"):
        run(returns_uncompiled)
    with pytest.raises(TypeError, match="must be a function that returns a compiled"):
        run("dense")


# --- compare and the learning-rate sweep ---------------------------------------------------


def test_compare_build_functions_and_a_model_object(data, tmp_path):
    x, y = data
    set_random_seed(0)
    model = dense_network(3, (4,))
    weights = model.get_weights()
    results = compare({"tiny": lambda: dense_network(3, (1,)), "given": model,
                       "wide": lambda n_features: dense_network(n_features, (32,),
                                                                learning_rate=0.01)},
                      x, y, epochs=8, repeats=2, seed=3, n_jobs=1)
    assert isinstance(results, Results) and [t.name for t in results] == ["tiny", "given", "wide"]
    assert results.best.name == "wide"
    assert all(len(t.runs) == 2 for t in results)
    assert results["given"].n_params == 3 * 4 + 4 + 4 + 1
    for a, b in zip(model.get_weights(), weights, strict=True):  # the object was not trained
        np.testing.assert_array_equal(a, b)
    table = str(results)
    assert "tiny" in table and "best: wide" in table and "val_loss" in table
    frame = results.to_frame()
    assert list(frame["model"]) == ["tiny", "given", "wide"]
    assert list(frame["best"]) == ["", "", "*"]
    picture = tmp_path / "curves.png"
    results.plot(picture)
    assert picture.stat().st_size > 1000
    with pytest.raises(KeyError, match="No trial named 'nope'"):
        results["nope"]


def test_monitor_needs_validation(data):
    x, y = data
    with pytest.raises(ValueError, match="needs validation data"):
        compare([small], x, y, validation_split=0.0, n_jobs=1)
    results = compare([small], x, y, validation_split=0.0, monitor="loss", epochs=2, n_jobs=1)
    assert results.best.monitor == "loss"


def test_learning_rate_sweep_is_the_courses_sgd_story():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (3 * x[:, 0] + 20).astype(np.float32)  # unscaled targets: lr=1 must blow up

    def get_new_model(n_features):  # uncompiled, as in the course
        return Sequential([Dense(20, activation="relu", input_shape=(n_features,)), Dense(1)])

    results = learning_rate_sweep(get_new_model, x, y, loss="mean_squared_error", epochs=5,
                                  seed=0, n_jobs=1)
    tiny, good, huge = results.trials
    assert [t.params["learning_rate"] for t in results] == [1e-6, 0.01, 1.0]
    curve = tiny.curve("loss")
    assert abs(curve[-1] - curve[0]) < 0.01 * curve[0]  # 1e-6 barely moves
    assert good.score < 0.5 * tiny.score
    assert math.isnan(huge.score) and "diverged" in huge.runs[0].error
    assert results.best is good
    assert "diverged" in str(results)


def test_learning_rate_sweep_passes_the_rate_to_a_build_function_that_asks():
    x = np.linspace(-1, 1, 40).reshape(-1, 1)
    rates = []

    def build(learning_rate):
        rates.append(learning_rate)
        return dense_network(1, (4,), optimizer="sgd", learning_rate=learning_rate)

    results = learning_rate_sweep(build, x, x[:, 0], learning_rates=(0.1, 0.2), epochs=1,
                                  seed=0, n_jobs=1)
    assert {0.1, 0.2} <= set(rates)
    assert [t.name for t in results] == ["lr=0.1", "lr=0.2"]


# --- capacity search -----------------------------------------------------------------------


def fake_scores(table):
    """Replaces training by a table of scores, to test the search's decisions alone."""

    def run_trials(plans, x, y, **kwargs):
        return [Trial(name=p["name"], params=p["params"], stage=p["stage"], n_params=1,
                      runs=(Run(seed=0, score=table[p["name"]], best_epoch=0, epochs=1,
                                seconds=0.0),))
                for p in plans]

    return run_trials


def test_capacity_search_follows_the_courses_steps(data, monkeypatch):
    # The course: 1x100, wider helps, 2x250 helps, 3x250 hurts, 3x200 is best.
    table = {"1x100": 5.4, "1x200": 5.0, "1x400": 5.1, "2x200": 4.8, "3x200": 4.9,
             "3x160": 4.7, "2x160": 4.85}
    monkeypatch.setattr(capacity_module, "run_trials", fake_scores(table))
    x, y = data
    found = capacity_search(x, y, seed=0, n_jobs=1)
    assert [(t.name, t.stage) for t in found] == [
        ("1x100", "start"), ("1x200", "wider"), ("1x400", "wider"), ("2x200", "deeper"),
        ("3x200", "deeper"), ("3x160", "step back"), ("2x160", "step back")]
    assert found.best.name == "3x160"


def test_capacity_search_respects_its_limits(data, monkeypatch):
    table = {"1x4": 3.0, "1x8": 2.0, "2x8": 1.0, "1x6": 2.5, "2x6": 0.5}
    monkeypatch.setattr(capacity_module, "run_trials", fake_scores(table))
    x, y = data
    found = capacity_search(x, y, start=(4,), max_units=8, max_layers=2, step_back=0.75,
                            n_jobs=1)
    assert [t.name for t in found] == ["1x4", "1x8", "2x8", "2x6"]
    assert found.best.name == "2x6"


def test_capacity_search_trains_and_reports_every_model(data, tmp_path):
    x, y = data
    found = capacity_search(x, y, start=(2,), max_units=8, max_layers=2, epochs=6, repeats=2,
                            learning_rate=0.02, seed=1, n_jobs=1)
    names = [t.name for t in found]
    assert names[0] == "1x2" and found.trials[0].stage == "start"
    assert len(names) == len(set(names))
    for trial in found:
        assert trial.n_params == Sequential.count_params(
            dense_network(3, tuple([trial.params["units"]] * trial.params["layers"])))
        assert trial.seconds > 0 and len(trial.runs) == 2
    assert found.best.score == min(t.score for t in found)
    assert {"model", "layers", "units", "val_loss", "params", "seconds", "stage"} <= set(
        found.to_frame().columns)
    found.plot(tmp_path / "capacity.png")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"width_factor": 1.0}, "`width_factor` must be above 1"),
    ({"step_back": 1.2}, "`step_back` must be between 0 and 1"),
    ({"start": ()}, "`start` must name at least one hidden layer"),
    ({"repeats": 0}, "`repeats` must be a positive integer"),
    ({"seed": -1}, "`seed` must be a non-negative integer"),
])
def test_capacity_search_bad_arguments(data, kwargs, message):
    x, y = data
    with pytest.raises(ValueError, match=message):
        capacity_search(x, y, n_jobs=1, **kwargs)


def test_mismatched_rows(data):
    x, y = data
    with pytest.raises(ValueError, match="same number of rows; x has 80, y has 79"):
        compare([small], x, y[:-1], n_jobs=1)
