"""Metrics: per-row values, accumulation over batches, and Keras 3's resolution of "accuracy"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import metrics
from glassnet.layers import Dense
from glassnet.models import Sequential


@pytest.mark.parametrize(
    ("y_true_shape", "y_pred_shape", "expected"),
    [
        ((None, 1), (None, 1), metrics.binary_accuracy),  # one output unit
        ((None,), (None, 1), metrics.binary_accuracy),
        ((None,), (None, 3), metrics.sparse_categorical_accuracy),  # labels, fewer dims
        ((None, 1), (None, 3), metrics.sparse_categorical_accuracy),  # one label column
        ((None, 3), (None, 3), metrics.categorical_accuracy),  # one-hot rows
    ],
)
def test_accuracy_is_resolved_from_shapes_like_keras(y_true_shape, y_pred_shape, expected):
    for name in ("accuracy", "acc"):
        metric = metrics.resolve(name, y_true_shape, y_pred_shape)
        assert metric.fn is expected
        assert metric.name == name  # logged under the name the user gave


def test_binary_accuracy_thresholds_at_one_half():
    # One value per element, as Keras 3's function returns (shape (4, 1) here).
    values = metrics.binary_accuracy([[1], [0], [1], [0]], [[0.51], [0.49], [0.5], [0.9]])
    np.testing.assert_array_equal(values, [[1], [1], [0], [0]])  # 0.5 is not above 0.5


def test_categorical_and_sparse_accuracy_compare_the_largest_output():
    y_pred = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    np.testing.assert_array_equal(
        metrics.categorical_accuracy(np.eye(3)[[1, 1, 2]], y_pred), [1, 0, 1]
    )
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy([1, 1, 2], y_pred), [1, 0, 1])
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy([[1], [1], [2]], y_pred), [1, 0, 1]
    )


def test_metric_is_a_row_weighted_mean_over_batches():
    metric = metrics.get("mae")
    metric.update_state([[0.0]], [[3.0]])  # one row, error 3
    metric.update_state([[0.0], [0.0], [0.0]], [[1.0], [1.0], [1.0]])  # three rows, error 1
    assert metric.result() == pytest.approx((3 + 1 + 1 + 1) / 4)  # not (3 + 1) / 2
    metric.reset_state()
    assert metric.result() == 0.0


def test_sample_weights_weight_the_mean():
    metric = metrics.BinaryAccuracy()
    metric.update_state([[1], [1]], [[0.9], [0.1]], sample_weight=[3.0, 1.0])
    assert metric.result() == pytest.approx(0.75)


def test_root_mean_squared_error_is_the_root_of_the_running_mean():
    metric = metrics.get("rmse")
    metric.update_state([[0.0]], [[3.0]])
    metric.update_state([[0.0]], [[1.0]])
    assert metric.result() == pytest.approx(math.sqrt((9 + 1) / 2))


def test_get_accuracy_is_keras_exact_match_accuracy_but_compile_resolves_it_by_shapes():
    # keras.metrics.get("accuracy") is Accuracy() (exact equality); only compile() reads
    # "accuracy" from the shapes of targets and outputs.
    assert type(metrics.get("accuracy")) is metrics.Accuracy
    assert metrics.get("accuracy")([[1.0], [2.0]], [[1.0], [2.5]]) == pytest.approx(0.5)


def test_unknown_metric_name_suggests_the_closest():
    with pytest.raises(ValueError, match=r"Unknown metric: 'mea'.*Did you mean .*'mae'"):
        metrics.resolve("mea", (None, 1), (None, 1))


def test_a_plain_function_is_a_metric_named_after_it():
    def largest_error(y_true, y_pred):
        return np.max(np.abs(np.asarray(y_true) - y_pred), axis=-1)

    metric = metrics.resolve(largest_error, (None, 2), (None, 2))
    metric.update_state([[0.0, 0.0]], [[1.0, -4.0]])
    assert (metric.name, metric.result()) == ("largest_error", 4.0)


def _fit_and_report(y, units, activation, loss):
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = Sequential([Dense(units, activation=activation, input_shape=(1,))])
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    model.build()
    kernel = np.arange(units, dtype=float).reshape(1, units) - 1
    model.set_weights([kernel, np.zeros(units)])
    history = model.fit(x, y, epochs=1, verbose=0, shuffle=False, batch_size=4)
    return model, history


def test_model_reports_binary_accuracy_for_one_sigmoid_unit():
    # Kernel -1, bias 0: sigmoid(-x) is 0.5 at x=0 and below it after, so every row predicts 0.
    model, history = _fit_and_report(np.array([0, 0, 1, 1]), 1, "sigmoid", "binary_crossentropy")
    assert model.metrics[1].fn is metrics.binary_accuracy
    assert history.history["accuracy"] == [pytest.approx(0.5)]


def test_model_reports_sparse_accuracy_for_label_targets():
    model, history = _fit_and_report(
        np.array([0, 2, 2, 2]), 3, "softmax", "sparse_categorical_crossentropy"
    )
    assert model.metrics[1].fn is metrics.sparse_categorical_accuracy
    # Logits (-x, 0, x): row 0 ties (argmax 0), rows 1-3 pick class 2.
    assert history.history["accuracy"] == [pytest.approx(1.0)]


def test_model_reports_categorical_accuracy_for_one_hot_targets():
    y = np.eye(3)[[0, 1, 2, 2]]
    model, history = _fit_and_report(y, 3, "softmax", "categorical_crossentropy")
    assert model.metrics[1].fn is metrics.categorical_accuracy
    assert history.history["accuracy"] == [pytest.approx(0.75)]
