"""Metric objects by hand: Keras 3's own test cases (``keras/src/metrics/*_test.py``, their
numbers worked out in the comments), the ``Metric`` protocol (callable, reset, configs,
custom subclasses with ``add_variable``), names in ``History``, and refusals of bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import activations, losses, metrics
from glassnet.layers import Dense
from glassnet.models import Sequential

# --- reduction metrics (reduction_metrics_test.py) ---------------------------------------


def test_sum_and_mean_of_values_with_and_without_weights():
    total = metrics.Sum()
    total.update_state([1, 3, 5, 7])
    assert total.result() == 16.0
    total.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert total.result() == 16.0 + 4.0
    mean = metrics.Mean()
    mean.update_state([1, 3, 5, 7])
    assert mean.result() == 4.0
    mean.reset_state()
    mean.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert mean.result() == 2.0  # (1 + 3) / 2
    mean.update_state(5.0)  # a scalar counts as one value
    assert mean.result() == pytest.approx((1 + 3 + 5) / 3)


def test_mean_of_rows_with_per_element_weights_averages_the_weights_per_row():
    mean = metrics.Mean()
    # rows [1, 3] and [5, 7], weights [1, 0] and [1, 1]: row values (1·1 + 3·0)/2 = 0.5 and
    # (5 + 7)/2 = 6, row weights 0.5 and 1.
    mean.update_state([[1.0, 3.0], [5.0, 7.0]], sample_weight=[[1.0, 0.0], [1.0, 1.0]])
    assert mean.result() == pytest.approx((0.5 + 6.0) / 1.5)


def test_mean_metric_wrapper_averages_a_function_and_keeps_its_arguments():
    metric = metrics.MeanMetricWrapper(metrics.binary_accuracy, threshold=0.8)
    assert metric.name == "mean_metric_wrapper" or metric.name.startswith("mean_metric_wrapper_")
    assert metric([[1], [1], [0]], [[0.9], [0.7], [0.1]]) == pytest.approx(2 / 3)
    again = metrics.deserialize(metrics.serialize(metric))
    assert again.fn is metrics.binary_accuracy
    assert again.get_config() == metric.get_config()


# --- accuracy (accuracy_metrics_test.py) ----------------------------------------------------


def test_accuracy_counts_exact_matches_over_calls():
    acc = metrics.Accuracy()
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert acc.result() == 0.75
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert acc.result() == pytest.approx((3 + 1) / 6)


def test_binary_accuracy_with_a_threshold():
    acc = metrics.BinaryAccuracy(threshold=0.7)
    assert acc([[1], [1], [0], [0]], [[0.98], [0.6], [0.2], [0.8]]) == 0.5


def test_categorical_and_sparse_categorical_accuracy_weighted():
    y_pred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    cat = metrics.CategoricalAccuracy()
    assert cat([[0, 0, 1], [0, 1, 0]], y_pred, sample_weight=[0.7, 0.3]) == pytest.approx(0.3)
    sparse = metrics.SparseCategoricalAccuracy()
    assert sparse([[2], [1]], y_pred, sample_weight=[0.7, 0.3]) == pytest.approx(0.3)


def test_top_k_accuracies_of_keras_tests():
    y_pred = np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]], dtype=np.float32)
    one_hot = np.array([[0, 0, 1], [0, 1, 0]])
    assert metrics.TopKCategoricalAccuracy(k=1)(one_hot, y_pred) == 0.5
    assert metrics.TopKCategoricalAccuracy(k=2)(one_hot, y_pred) == 1.0
    top = metrics.TopKCategoricalAccuracy(k=1)
    assert top(one_hot, y_pred, sample_weight=[0.7, 0.3]) == pytest.approx(0.3)
    assert metrics.SparseTopKCategoricalAccuracy(k=1)([2, 1], y_pred) == 0.5
    assert metrics.SparseTopKCategoricalAccuracy(k=2)([2, 1], y_pred) == 1.0
    # from_sorted_ids: y_pred holds class ids, best first.
    ids = np.array([[1, 2, 0], [1, 0, 2]])
    assert metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)([2, 1], ids) == 0.5


def test_top_k_names_and_strings():
    metric = metrics.TopKCategoricalAccuracy(k=3, name="top_3_accuracy")
    assert (metric.name, metric.get_config()["k"]) == ("top_3_accuracy", 3)
    assert type(metrics.get("top_k_categorical_accuracy")) is metrics.TopKCategoricalAccuracy
    sparse = metrics.get("sparse_top_k_categorical_accuracy")
    assert type(sparse) is metrics.SparseTopKCategoricalAccuracy
    assert sparse.get_config()["k"] == 5


# --- confusion metrics (confusion_metrics_test.py) ----------------------------------------

Y_TRUE = np.array(((0, 1, 0, 1, 0), (0, 0, 1, 1, 1), (1, 1, 1, 1, 0), (0, 0, 0, 0, 1)))
Y_PRED = np.array(((0, 0, 1, 1, 0), (1, 1, 1, 1, 1), (0, 1, 0, 1, 0), (1, 1, 1, 1, 1)))


@pytest.mark.parametrize(
    ("cls", "unweighted", "weighted"),
    [
        (metrics.FalsePositives, 7.0, 14.0),
        (metrics.FalseNegatives, 3.0, 5.0),
        (metrics.TrueNegatives, 3.0, 4.0),
        (metrics.TruePositives, 7.0, 12.0),
    ],
)
def test_confusion_counts(cls, unweighted, weighted):
    assert cls()(Y_TRUE, Y_PRED) == unweighted
    assert cls()(Y_TRUE, Y_PRED, sample_weight=[1.0, 1.5, 2.0, 2.5]) == weighted


def test_confusion_counts_at_several_thresholds():
    y_pred = np.array(
        ((0.9, 0.2, 0.8, 0.1), (0.2, 0.9, 0.7, 0.6), (0.1, 0.2, 0.4, 0.3), (0, 1, 0.7, 0.3))
    )
    y_true = np.array(((0, 1, 1, 0), (1, 0, 0, 0), (0, 0, 0, 0), (0, 1, 1, 1)))
    fp = metrics.FalsePositives(thresholds=[0.15, 0.5, 0.85])
    np.testing.assert_array_equal(fp(y_true, y_pred), [7.0, 4.0, 2.0])
    tp = metrics.TruePositives(thresholds=[0.15, 0.5, 0.85])
    np.testing.assert_array_equal(tp(y_true, y_pred), [6.0, 3.0, 1.0])


def test_precision_top_k_and_class_id_cases():
    assert metrics.Precision(top_k=3)([0, 1, 1, 0, 0], [0.2, 0.1, 0.5, 0, 0.2]) == pytest.approx(
        1 / 3
    )
    p = metrics.Precision(top_k=3)
    p([[0, 1, 1, 0, 1]], [[0.2, 0.1, 0.4, 0, 0.2]], sample_weight=[[1, 4, 2, 3, 5]])
    result = p([1, 0, 1, 1, 1], [0.2, 0.6, 0.4, 0.2, 0.2], sample_weight=3)
    assert result == pytest.approx(((2 + 5) + (3 + 3)) / ((1 + 2 + 5) + (3 + 3 + 3)))
    p = metrics.Precision(class_id=1)
    y_pred = [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.7, 0.2, 0.1]]
    y_true = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]]
    assert p(y_true, y_pred) == 1.0
    assert float(p.true_positives[0]) == 1.0 and float(p.false_positives[0]) == 0.0
    p = metrics.Precision(thresholds=0.7, top_k=2)
    assert p([0, 1, 1, 0, 1], [0.2, 0.8, 0.6, 0, 0.2]) == 1.0
    with pytest.raises(ValueError, match=r"When class_id is provided, y_pred must be a 2D"):
        metrics.Precision(class_id=2)([0, 1, 1, 0, 0], [0.2, 0.1, 0.6, 0, 0.2])


def test_recall_with_thresholds_and_over_updates():
    recall = metrics.Recall(thresholds=[0.5, 1.0])
    np.testing.assert_allclose(recall([[1, 0, 1, 0]], [[1, 0, 0.6, 0]]), [1.0, 0.0])
    recall = metrics.Recall(thresholds=[0.5, 1.0])
    y_true, y_pred = [[0, 1], [1, 0]], [[1, 0], [0.6, 0]]
    for _ in range(2):
        recall.update_state(y_true, y_pred, sample_weight=[[1, 4], [3, 2]])
    np.testing.assert_allclose(recall.result(), [3 / (3 + 4), 0.0], rtol=1e-6)


AUC_TRUE = np.array([0, 0, 1, 1])
AUC_PRED = np.array([0, 0.5, 0.3, 0.9], dtype=np.float32)
AUC_WEIGHTS = [1, 2, 3, 4]


def test_auc_of_keras_tests():
    # Thresholds (-1e-7, 0.5, 1 + 1e-7): tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2],
    # tn = [0, 2, 2]; recall [1, 0.5, 0], fp rate [1, 0, 0]; trapezoids (1 + 0.5)/2 · 1.
    assert metrics.AUC(num_thresholds=3)(AUC_TRUE, AUC_PRED) == pytest.approx(0.75)
    # Weighted: tp = [7, 4, 0], fp = [3, 0, 0]: recall [1, 4/7, 0].
    weighted = metrics.AUC(num_thresholds=3)(AUC_TRUE, AUC_PRED, sample_weight=AUC_WEIGHTS)
    assert weighted == pytest.approx((1 + 4 / 7) / 2, rel=1e-6)
    # PR with interpolation (Davis & Goadrich): Keras's comment works out 2.416/7 + 4/7.
    pr = metrics.AUC(num_thresholds=3, curve="PR")
    expected = (0.5 * (3 + 2 * math.log(2.5)) + 4) / 7
    assert pr(AUC_TRUE, AUC_PRED, sample_weight=AUC_WEIGHTS) == pytest.approx(expected, rel=1e-6)
    assert metrics.AUC()(AUC_TRUE, AUC_TRUE) == 1.0
    minoring = metrics.AUC(num_thresholds=3, summation_method="minoring")
    assert minoring(AUC_TRUE, AUC_PRED, sample_weight=AUC_WEIGHTS) == pytest.approx(4 / 7)


def test_auc_from_logits_equals_auc_of_probabilities():
    logits = np.log(AUC_PRED + 1e-7) - np.log1p(-AUC_PRED + 1e-7)
    ours = metrics.AUC(num_thresholds=3, from_logits=True)(AUC_TRUE, logits)
    assert ours == metrics.AUC(num_thresholds=3)(AUC_TRUE, AUC_PRED)


def test_auc_multi_label_is_the_mean_of_the_label_curves():
    y_true = np.array([[0, 0], [1, 1], [1, 1], [1, 0]])
    y_pred = np.array([[0, 0.5], [0.5, 0.3], [0.3, 0.3], [0.9, 0.9]], dtype=np.float32)
    multi = metrics.AUC(num_thresholds=3, multi_label=True)(y_true, y_pred)
    first = metrics.AUC(num_thresholds=3)(y_true[:, 0], y_pred[:, 0])
    second = metrics.AUC(num_thresholds=3)(y_true[:, 1], y_pred[:, 1])
    assert multi == pytest.approx((first + second) / 2)


def test_auc_refuses_bad_arguments():
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve value"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="Threshold values must be in \\[0, 1\\]"):
        metrics.Precision(thresholds=[0.5, 1.5])


# --- F-scores, regression ----------------------------------------------------------------


def test_f1_and_fbeta_scores():
    y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.float32)
    y_pred = np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.6, 0.2, 0.2], [0.3, 0.3, 0.4]])
    # argmax rows: 0, 1, 0, 2 -> class 0: tp 1, fp 1, fn 1; class 1: tp 1; class 2: fn 1, fp 1.
    f1 = metrics.F1Score()(y_true, y_pred)
    np.testing.assert_allclose(f1, [0.5, 1.0, 0.0], atol=1e-6)
    macro = metrics.F1Score(average="macro")(y_true, y_pred)
    assert macro == pytest.approx(0.5, abs=1e-6)
    with pytest.raises(ValueError, match="It should be a Python float"):
        metrics.FBetaScore(beta=1)
    with pytest.raises(ValueError, match="2D inputs"):
        metrics.F1Score()([1, 0], [0.3, 0.7])


def test_r2_score_and_rmse():
    r2 = metrics.R2Score()
    assert r2([[1], [4], [3]], [[2], [4], [4]]) == pytest.approx(0.57142854)
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state([[0.0]], [[3.0]])
    rmse.update_state([[0.0]], [[1.0]])
    assert rmse.result() == pytest.approx(math.sqrt(5))


def test_cosine_similarity_and_log_cosh_of_keras_docstrings():
    cos = metrics.CosineSimilarity(axis=1)
    assert cos([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]) == pytest.approx(0.5)
    log_cosh = metrics.LogCoshError()
    assert log_cosh([[0, 1], [0, 0]], [[1, 1], [0, 0]]) == pytest.approx(0.10844523)


# --- the Metric protocol -------------------------------------------------------------------


class CountPositives(metrics.Metric):
    """A user's metric: a running count of positive predictions, with a variable."""

    def __init__(self, name="count_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positives = self.add_variable(shape=(), initializer="zeros", name="positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = (np.asarray(y_pred) > 0.5).astype("float32")
        if sample_weight is not None:
            values = values * np.asarray(sample_weight, "float32").reshape(values.shape)
        self.positives.assign_add(np.sum(values))

    def result(self):
        return self.positives.value


def test_a_custom_metric_subclass_with_add_variable_trains_and_resets():
    metric = CountPositives()
    assert metric([[0], [1]], [[0.9], [0.7]]) == 2.0
    assert metric([[0]], [[0.1]]) == 2.0
    metric.reset_state()
    assert float(metric.positives) == 0.0 and metric.variables[0] is metric.positives
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[CountPositives()])
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.0]])
    history = model.fit(x, np.array([1, 0, 1]), epochs=2, batch_size=3, verbose=0)
    assert list(history.history) == ["count_positives", "loss"] or set(history.history) == {
        "loss",
        "count_positives",
    }
    assert all(0 <= v <= 3 for v in history.history["count_positives"])


def test_variables_assign_and_read_as_arrays():
    metric = metrics.Mean()
    metric.total.assign(6.0)
    metric.count.assign_add(3)
    assert metric.result() == 2.0
    assert np.asarray(metric.total) == 6.0 and metric.total / 2 == 3.0
    with pytest.raises(ValueError, match="has shape \\(\\)"):
        metric.total.assign([1.0, 2.0])


def test_compile_logs_metric_objects_under_their_names():
    model = Sequential([Dense(4, activation="softmax", input_shape=(3,))])
    model.compile(
        optimizer="sgd",
        loss="categorical_crossentropy",
        metrics=[
            metrics.TopKCategoricalAccuracy(k=3, name="top_3_accuracy"),
            "top_k_categorical_accuracy",
            metrics.categorical_accuracy,
            metrics.Precision(name="precision"),
        ],
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3))
    y = np.eye(4)[rng.integers(0, 4, 20)]
    history = model.fit(x, y, epochs=2, verbose=0)
    assert set(history.history) == {
        "loss",
        "top_3_accuracy",
        "top_k_categorical_accuracy",
        "categorical_accuracy",
        "precision",
    }
    assert history.history["top_k_categorical_accuracy"] == [1.0, 1.0]  # k=5 > 4 classes
    assert all(isinstance(v, float) for v in history.history["top_3_accuracy"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = metrics.TopKCategoricalAccuracy(k=3)(y, model.predict(x, verbose=0))
    assert logs["top_3_accuracy"] == pytest.approx(float(expected))


def test_get_serialize_deserialize_round_trip():
    auc = metrics.AUC(num_thresholds=50, curve="PR", name="pr_auc")
    config = metrics.serialize(auc)
    assert config["class_name"] == "AUC" and config["config"]["name"] == "pr_auc"
    again = metrics.deserialize(config)
    assert type(again) is metrics.AUC and again.get_config() == auc.get_config()
    assert metrics.get("mse").name == "mean_squared_error"
    assert metrics.get(None) is None
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    custom = metrics.deserialize(
        metrics.serialize(CountPositives()), custom_objects={"CountPositives": CountPositives}
    )
    assert type(custom) is CountPositives
    with pytest.raises(ValueError, match="Did you mean"):
        metrics.get("top_k_categorical_acuracy")


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "y_true", "y_pred"),
    [
        (metrics.CategoricalAccuracy(), np.zeros((4, 2)), np.zeros((4, 3))),
        (metrics.CategoricalAccuracy(), np.zeros((5, 3)), np.zeros((4, 3))),
        (metrics.SparseCategoricalAccuracy(), np.zeros((4, 3)), np.zeros((4, 3))),
        (metrics.TopKCategoricalAccuracy(k=2), np.zeros((4,)), np.zeros((4, 3))),
        (metrics.BinaryAccuracy(), np.zeros((4, 2)), np.zeros((4, 3))),
        (metrics.MeanSquaredError(), np.zeros((3, 2)), np.zeros((4, 2))),
        (metrics.Precision(), np.zeros((4, 2)), np.zeros((4, 3))),
        (metrics.AUC(), np.zeros((5,)), np.zeros((4,))),
        (metrics.RootMeanSquaredError(), np.zeros((4, 2)), np.zeros((4, 3))),
        (metrics.CategoricalCrossentropy(), np.zeros((4, 2)), np.full((4, 3), 1 / 3)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, metrics.Metric) else None,
)
def test_wrong_label_shapes_are_refused_naming_both_shapes_before_any_update(
    metric, y_true, y_pred
):
    metric.reset_state()
    before = [v.numpy().copy() for v in metric.variables]
    with pytest.raises(ValueError, match=r"shape.*\(.*\).*shape"):
        metric.update_state(y_true, y_pred)
    for variable, value in zip(metric.variables, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`k` must be a positive integer"):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match="`top_k`"):
        metrics.Recall(top_k=-1)
    with pytest.raises(TypeError, match="`name` must be a string"):
        metrics.Mean(name=3)


# --- losses and activations as Keras 3.15 --------------------------------------------------


def test_losses_without_reduction_return_the_weighted_sample_losses():
    y_true = np.array([[0.0, 1.0], [0.0, 0.0]])
    y_pred = np.array([[1.0, 1.0], [1.0, 0.0]])
    for reduction in (None, "none"):
        values = losses.MeanSquaredError(reduction=reduction)(y_true, y_pred, [1.0, 2.0])
        np.testing.assert_allclose(values, [0.5, 1.0])
    reduced = losses.MeanSquaredError()(y_true, y_pred)
    assert isinstance(reduced, np.ndarray) and reduced.shape == () and reduced == 0.5
    assert losses.MeanSquaredError(reduction="mean")(y_true, y_pred) == 0.5


def test_activations_get_returns_the_very_function():
    assert activations.get("relu") is activations.relu
    assert activations.get("softmax") is activations.softmax
    assert activations.get(None) is activations.linear
    assert activations.get(activations.tanh) is activations.tanh
