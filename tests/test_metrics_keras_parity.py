"""Metric objects against real Keras 3 on the same data: each metric is updated with three
batches (one weighted by ``sample_weight``, per row or per element), its result compared
after every update and after a reset, and its config compared.

Runs only where ``keras`` is installed (as ``tests/test_keras_parity.py``). Metric state is
float32 in both libraries, summed in a different order, so results agree to a relative
1e-5 (a sum of at most a few hundred float32 terms), not bit for bit.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from glassnet import metrics

keras = pytest.importorskip("keras")

pytestmark = pytest.mark.keras

RTOL = 1e-5
ATOL = 1e-6


def _data(kind: str, rows: int, rng: np.random.Generator, classes: int = 4):
    if kind == "binary":  # one sigmoid output
        y_true = rng.integers(0, 2, (rows, 1)).astype(np.float32)
        y_pred = rng.random((rows, 1)).astype(np.float32)
    elif kind == "multilabel":
        y_true = rng.integers(0, 2, (rows, classes)).astype(np.float32)
        y_pred = rng.random((rows, classes)).astype(np.float32)
    elif kind == "categorical":
        y_true = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, rows)]
        logits = rng.normal(size=(rows, classes))
        y_pred = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
    elif kind == "sparse":
        y_true = rng.integers(0, classes, rows).astype(np.float32)
        logits = rng.normal(size=(rows, classes))
        y_pred = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
    elif kind == "logits":
        y_true = rng.integers(0, 2, (rows, classes)).astype(np.float32)
        y_pred = rng.normal(size=(rows, classes)).astype(np.float32) * 3
    elif kind == "signed":
        y_true = rng.choice([-1.0, 1.0], (rows, classes)).astype(np.float32)
        y_pred = rng.normal(size=(rows, classes)).astype(np.float32)
    elif kind == "positive":
        y_true = rng.random((rows, classes)).astype(np.float32) + 0.1
        y_pred = rng.random((rows, classes)).astype(np.float32) + 0.1
    elif kind == "ties":  # predictions on a coarse grid: ties and thresholds hit exactly
        y_true = rng.integers(0, 2, (rows, classes)).astype(np.float32)
        y_pred = (rng.integers(0, 11, (rows, classes)) / 10).astype(np.float32)
    else:  # real-valued regression
        y_true = rng.normal(size=(rows, classes)).astype(np.float32)
        y_pred = (y_true + rng.normal(size=(rows, classes)) * 0.5).astype(np.float32)
    return y_true, y_pred


# (class name, keyword arguments, kind of data)
CASES = [
    ("Accuracy", {}, "ties"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "multilabel"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", {"k": 2}, "categorical"),
    ("TopKCategoricalAccuracy", {"k": 3, "name": "top_3_accuracy"}, "categorical"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("TruePositives", {}, "multilabel"),
    ("FalsePositives", {"thresholds": [0.15, 0.5, 0.85]}, "multilabel"),
    ("TrueNegatives", {}, "ties"),
    ("FalseNegatives", {"thresholds": [0.3, 0.5]}, "ties"),
    ("Precision", {}, "multilabel"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.8]}, "ties"),
    ("Precision", {"top_k": 2}, "multilabel"),
    ("Precision", {"class_id": 1}, "multilabel"),
    ("Precision", {"top_k": 2, "class_id": 3, "thresholds": 0.3}, "multilabel"),
    ("Recall", {}, "multilabel"),
    ("Recall", {"thresholds": [0.2, 0.5, 0.8]}, "ties"),
    ("Recall", {"top_k": 1}, "categorical"),
    ("Recall", {"class_id": 2}, "categorical"),
    ("AUC", {}, "multilabel"),
    ("AUC", {}, "ties"),
    ("AUC", {"num_thresholds": 11}, "ties"),
    ("AUC", {"curve": "PR"}, "multilabel"),
    ("AUC", {"curve": "PR", "num_thresholds": 11}, "ties"),
    ("AUC", {"summation_method": "minoring"}, "multilabel"),
    ("AUC", {"summation_method": "majoring", "curve": "PR"}, "multilabel"),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"multi_label": True, "curve": "PR", "label_weights": [1, 2, 0.5, 0]}, "ties"),
    ("AUC", {"label_weights": [1, 2, 0.5, 0]}, "multilabel"),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, "multilabel"),
    ("AUC", {"thresholds": [0.1, 0.3, 0.35, 0.9]}, "ties"),
    ("AUC", {"from_logits": True}, "logits"),
    ("F1Score", {}, "categorical"),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "multilabel"),
    ("F1Score", {"average": "macro"}, "categorical"),
    ("F1Score", {"average": "weighted", "threshold": 0.4}, "multilabel"),
    ("FBetaScore", {"beta": 2.0, "average": "macro", "threshold": 0.5}, "multilabel"),
    ("FBetaScore", {"beta": 0.5}, "categorical"),
    ("MeanSquaredError", {}, "real"),
    ("MeanAbsoluteError", {}, "real"),
    ("RootMeanSquaredError", {}, "real"),
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "real"),
    ("LogCoshError", {}, "real"),
    ("R2Score", {}, "real"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "real"),
    ("R2Score", {"class_aggregation": None}, "real"),
    ("R2Score", {"num_regressors": 2}, "real"),
    ("Hinge", {}, "signed"),
    ("Hinge", {}, "multilabel"),
    ("SquaredHinge", {}, "signed"),
    ("CategoricalHinge", {}, "categorical"),
    ("KLDivergence", {}, "positive"),
    ("Poisson", {}, "positive"),
    ("BinaryCrossentropy", {}, "multilabel"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("CategoricalCrossentropy", {}, "categorical"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "categorical"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
]


def _weights(kind: str, y_pred: np.ndarray, rng, per_element: bool) -> np.ndarray:
    if per_element and y_pred.ndim == 2 and kind not in ("sparse",):
        return rng.random(y_pred.shape).astype(np.float32)
    return rng.random(len(y_pred)).astype(np.float32)


def _close(ours, theirs, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(ours, dtype=np.float64),
        np.asarray(theirs, dtype=np.float64),
        rtol=RTOL,
        atol=ATOL,
        err_msg=what,
    )


def _stem(name: str) -> str:
    return re.sub(r"_\d+$", "", name)


_PER_ELEMENT_OK = {
    "Accuracy",
    "BinaryAccuracy",
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "R2Score",
}


@pytest.mark.parametrize(
    ("name", "kwargs", "kind"), CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]
)
def test_metric_equals_keras_over_batches_weights_and_reset(name, kwargs, kind):
    rng = np.random.default_rng(abs(hash((name, str(kwargs), kind))) % 2**32)
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    per_element = name in _PER_ELEMENT_OK and not (
        kwargs.get("multi_label") or "class_id" in kwargs  # Keras refuses these
    )
    for step, rows in enumerate((7, 16, 5)):
        y_true, y_pred = _data(kind, rows, rng)
        sw = None if step == 0 else _weights(kind, y_pred, rng, per_element and step == 2)
        ours.update_state(y_true, y_pred, sample_weight=sw)
        theirs.update_state(y_true, y_pred, sample_weight=sw)
        _close(ours.result(), keras.ops.convert_to_numpy(theirs.result()), f"{name} step {step}")
    ours.reset_state()
    theirs.reset_state()
    y_true, y_pred = _data(kind, 9, rng)
    _close(ours(y_true, y_pred), keras.ops.convert_to_numpy(theirs(y_true, y_pred)), "after reset")
    # Metrics named from their class are made unique by a counter (``auc``, ``auc_1``...)
    # that counts every such object the process made, in either library: compare the stem.
    assert _stem(ours.name) == _stem(theirs.name)
    ours_config = {**ours.get_config(), "name": _stem(ours.name)}
    theirs_config = {**theirs.get_config(), "name": _stem(theirs.name)}
    if theirs_config.get("label_weights") is not None:  # a tensor in Keras, a list here
        theirs_config["label_weights"] = keras.ops.convert_to_numpy(
            theirs_config["label_weights"]
        ).tolist()
    assert ours_config == theirs_config
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()


FUNCTIONS = [
    ("binary_accuracy", {}, "binary"),
    ("binary_accuracy", {"threshold": 0.3}, "multilabel"),
    ("categorical_accuracy", {}, "categorical"),
    ("sparse_categorical_accuracy", {}, "sparse"),
    ("top_k_categorical_accuracy", {"k": 2}, "categorical"),
    ("sparse_top_k_categorical_accuracy", {"k": 2}, "sparse"),
    ("mean_squared_error", {}, "real"),
    ("mean_absolute_error", {}, "real"),
    ("mean_absolute_percentage_error", {}, "positive"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("log_cosh", {}, "real"),
    ("hinge", {}, "signed"),
    ("squared_hinge", {}, "signed"),
    ("categorical_hinge", {}, "categorical"),
    ("kl_divergence", {}, "positive"),
    ("poisson", {}, "positive"),
    ("binary_crossentropy", {}, "multilabel"),
    ("categorical_crossentropy", {}, "categorical"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("huber", {}, "real"),
]


@pytest.mark.parametrize(("name", "kwargs", "kind"), FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_metric_function_equals_keras_in_value_and_shape(name, kwargs, kind):
    y_true, y_pred = _data(kind, 8, np.random.default_rng(3))
    ours = getattr(metrics, name)(y_true, y_pred, **kwargs)
    theirs = keras.ops.convert_to_numpy(getattr(keras.metrics, name)(y_true, y_pred, **kwargs))
    assert np.shape(ours) == theirs.shape
    _close(ours, theirs, name)


def test_ties_at_the_top_k_boundary_count_as_in_the_top_k_like_keras_on_tensorflow():
    y_true = np.array([[0, 0, 1, 0], [1, 0, 0, 0]], dtype=np.float32)
    y_pred = np.array([[0.3, 0.3, 0.3, 0.1], [0.2, 0.2, 0.2, 0.4]], dtype=np.float32)
    ours = metrics.top_k_categorical_accuracy(y_true, y_pred, k=1)
    theirs = keras.ops.convert_to_numpy(
        keras.metrics.top_k_categorical_accuracy(y_true, y_pred, k=1)
    )
    np.testing.assert_array_equal(ours, theirs)


def test_history_keys_and_values_equal_keras_for_metric_objects():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]

    def run(lib, layers_module):
        lib.utils.set_random_seed(1) if hasattr(lib.utils, "set_random_seed") else None
        model = lib.Sequential([lib.Input((5,)), layers_module.Dense(3, activation="softmax")])
        model.compile(
            optimizer="sgd",
            loss="categorical_crossentropy",
            metrics=[
                lib.metrics.TopKCategoricalAccuracy(k=2, name="top_2_accuracy"),
                lib.metrics.AUC(name="auc"),
                "mse",
            ],
        )
        return model

    import glassnet

    ours = run(glassnet, glassnet.layers)
    theirs = run(keras, keras.layers)
    ours.set_weights([w for w in theirs.get_weights()])
    history_ours = ours.fit(x, y, epochs=1, batch_size=64, verbose=0, shuffle=False).history
    history_theirs = theirs.fit(x, y, epochs=1, batch_size=64, verbose=0, shuffle=False).history
    assert sorted(history_ours) == sorted(history_theirs)
    # One batch of 64 rows: the metrics see the outputs before the step, in both libraries.
    for key in ("top_2_accuracy", "auc", "mse"):
        _close(history_ours[key][0], history_theirs[key][0], key)
