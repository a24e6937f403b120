"""glassnet.sklearn: scikit-learn's own estimator checks, and the estimators in sklearn's tools."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from glassnet.experiments import dense_network  # noqa: E402
from glassnet.layers import Dense  # noqa: E402
from glassnet.models import Sequential  # noqa: E402
from glassnet.sklearn import GlassClassifier, GlassRegressor, expected_failed_checks  # noqa: E402


@parametrize_with_checks([GlassRegressor(), GlassClassifier()],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_check(estimator, check):
    check(estimator)


def test_expected_failures_are_real_checks_with_reasons():
    from sklearn.utils.estimator_checks import check_estimator

    assert isinstance(expected_failed_checks, dict) and expected_failed_checks
    assert expected_failed_checks(GlassRegressor()) == dict(expected_failed_checks)
    assert all(isinstance(r, str) and len(r) > 40 for r in expected_failed_checks.values())
    results = check_estimator(GlassRegressor(epochs=5), on_fail=None,
                              expected_failed_checks=expected_failed_checks)
    assert set(expected_failed_checks) <= {r["check_name"] for r in results}
    assert {r["status"] for r in results} <= {"passed", "xfail", "skipped"}


@pytest.fixture
def wages():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(150, 4))
    y = 2.0 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] * x[:, 3] + 10.0
    return x * 5.0 + 3.0, y


def test_pipeline_cross_val_score_and_grid_search(wages):
    x, y = wages
    pipe = make_pipeline(StandardScaler(), GlassRegressor(hidden_layer_sizes=(16,), epochs=60,
                                                          learning_rate=0.03, random_state=0))
    scores = cross_val_score(pipe, x, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    grid = GridSearchCV(pipe, {"glassregressor__hidden_layer_sizes": [(2,), (32,)]}, cv=3)
    grid.fit(x, y)
    assert set(grid.cv_results_["param_glassregressor__hidden_layer_sizes"]) == {(2,), (32,)}
    assert grid.best_params_ == {"glassregressor__hidden_layer_sizes": (32,)}


def test_random_state_makes_fit_reproducible_and_leaves_global_state_alone(wages):
    x, y = wages
    before = np.random.get_state()[1].copy()
    a = GlassRegressor(hidden_layer_sizes=(8,), epochs=5, random_state=7).fit(x, y).predict(x)
    b = GlassRegressor(hidden_layer_sizes=(8,), epochs=5, random_state=7).fit(x, y).predict(x)
    c = GlassRegressor(hidden_layer_sizes=(8,), epochs=5, random_state=8).fit(x, y).predict(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_classifier_string_labels_and_probabilities():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    y = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    clf = GlassClassifier(hidden_layer_sizes=(8,), epochs=40, learning_rate=0.03,
                          random_state=0).fit(x, y)
    proba = clf.predict_proba(x)
    assert list(clf.classes_) == ["no", "yes"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(x, y) > 0.9
    assert clf.model_.layers[-1].units == 2
    assert clf.n_iter_ == 40 and len(clf.history_["loss"]) == 40


def test_patience_stops_early_and_keeps_history(wages):
    x, y = wages
    reg = GlassRegressor(hidden_layer_sizes=(4,), epochs=500, learning_rate=0.05,
                         validation_split=0.3, patience=1, random_state=0).fit(x, y)
    assert reg.n_iter_ < 500
    assert set(reg.history_) == {"loss", "val_loss"}


def test_multi_output_regression(wages):
    x, y = wages
    targets = np.column_stack([y, -y])
    reg = GlassRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(x, targets)
    assert reg.predict(x).shape == (150, 2) and reg.n_outputs_ == 2


def test_build_fn_receives_shapes_and_is_used(wages):
    x, y = wages
    seen = {}

    def build(n_features, n_outputs):
        seen.update(n_features=n_features, n_outputs=n_outputs)
        return dense_network(n_features, (3, 3), n_outputs, optimizer="sgd")

    reg = GlassRegressor(build_fn=build, epochs=2, random_state=0).fit(x, y)
    assert seen == {"n_features": 4, "n_outputs": 1}
    assert [layer.units for layer in reg.model_.layers] == [3, 3, 1]


def test_build_fn_that_returns_no_model_or_an_uncompiled_one(wages):
    x, y = wages
    with pytest.raises(TypeError, match="must return a glassnet model.*returned NoneType"):
        GlassRegressor(build_fn=lambda: None).fit(x, y)

    def uncompiled():
        return Sequential([Dense(1, input_shape=(4,))])

    with pytest.raises(ValueError, match="not compiled"):
        GlassRegressor(build_fn=uncompiled).fit(x, y)


@pytest.mark.parametrize(("params", "message"), [
    ({"epochs": 0}, "`epochs` must be a positive integer"),
    ({"batch_size": 1.5}, "`batch_size` must be a positive integer"),
    ({"validation_split": 1.0}, r"`validation_split` must be in \[0, 1\)"),
    ({"patience": -1}, "`patience` must be None or a non-negative integer"),
    ({"hidden_layer_sizes": (10, 0)}, "`hidden_layer_sizes` must hold positive integers"),
])
def test_bad_parameters_fail_at_fit_not_at_init(wages, params, message):
    x, y = wages
    reg = GlassRegressor(**params)  # scikit-learn: __init__ never validates
    with pytest.raises(ValueError, match=message):
        reg.fit(x, y)


def test_pickled_estimator_predicts_the_same(wages):
    x, y = wages
    reg = GlassRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(x, y)
    clone = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(clone.predict(x), reg.predict(x))
