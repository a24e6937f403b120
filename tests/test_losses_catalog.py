"""The losses past the course's: categorical hinge, cosine similarity, the focal
cross-entropies, ``dtype=``/``axis=`` on every loss, ``serialize``/``deserialize``.

Values follow ``keras/src/losses/losses.py`` (hand-computed cases here; real Keras as the
oracle where installed) and every slope is checked by central differences in float64.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from glassnet import losses


def _one_hot(rng, shape):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[0])]


def hinge_case(rng, shape):
    return _one_hot(rng, shape), rng.normal(size=shape)


def cosine_case(rng, shape):
    return rng.normal(size=shape), rng.normal(size=shape)


def binary_case(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.uniform(0.02, 0.98, size=shape)


def binary_logits_case(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.normal(size=shape) * 2


def categorical_case(rng, shape):
    return _one_hot(rng, shape), rng.uniform(0.05, 1.0, size=shape)


def categorical_logits_case(rng, shape):
    return _one_hot(rng, shape), rng.normal(size=shape) * 2


CASES = [
    (losses.CategoricalHinge(), hinge_case),
    (losses.CosineSimilarity(), cosine_case),
    (losses.BinaryFocalCrossentropy(), binary_case),
    (losses.BinaryFocalCrossentropy(gamma=0.5, apply_class_balancing=True), binary_case),
    (losses.BinaryFocalCrossentropy(from_logits=True, label_smoothing=0.1), binary_logits_case),
    (losses.CategoricalFocalCrossentropy(), categorical_case),
    (losses.CategoricalFocalCrossentropy(gamma=1.5, label_smoothing=0.2), categorical_case),
    (losses.CategoricalFocalCrossentropy(from_logits=True), categorical_logits_case),
]
IDS = [f"{loss.name}-{i}" for i, (loss, _) in enumerate(CASES)]


@pytest.mark.parametrize(("loss", "draw"), CASES, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_slopes_match_finite_differences(loss, draw, seed, float64):
    rng = np.random.default_rng(seed)
    y_true, y_pred = draw(rng, (5, 4))
    values, grad = loss.values_and_gradient(y_true, y_pred)
    numeric = numerical_gradient(lambda: float(loss.values(y_true, y_pred).sum()), y_pred)
    assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-7, objective_terms=values)
    np.testing.assert_allclose(loss.gradient(y_true, y_pred), grad)
    weights = rng.uniform(0.5, 2.0, size=5)
    value, reduced_grad = loss.reduced(y_true, y_pred, weights)
    numeric = numerical_gradient(lambda: loss(y_true, y_pred, weights), y_pred)
    assert_gradient_close(reduced_grad, numeric, rtol=1e-5, atol=1e-7, objective_terms=[value])


def test_categorical_hinge_by_hand(float64):
    # rows: pos 0.6, neg 0.3 -> 0.7; pos 0.2, neg 0.9 -> 1.7; mean 1.2 (Keras gives 1.2)
    loss = losses.CategoricalHinge()
    assert loss([[0, 1.0], [1, 0]], [[0.3, 0.6], [0.2, 0.9]]) == pytest.approx(1.2)
    np.testing.assert_allclose(
        losses.categorical_hinge([[0, 1.0]], [[0.0, 3.0]]), [0.0]
    )  # margin met: no loss


def test_cosine_similarity_by_hand(float64):
    loss = losses.CosineSimilarity()
    assert loss([[1.0, 0.0]], [[2.0, 0.0]]) == pytest.approx(-1.0)
    assert loss([[1.0, 0.0]], [[0.0, 5.0]]) == pytest.approx(0.0)
    assert loss([[1.0, 1.0]], [[1.0, 0.0]]) == pytest.approx(-1 / math.sqrt(2))
    assert loss([[1.0, 1.0]], [[0.0, 0.0]]) == 0.0  # a zero vector: 0, as Keras


def test_binary_focal_by_hand(float64):
    # y=1, p=0.8: bce = -log 0.8, p_t = 0.8, factor 0.2**2
    loss = losses.BinaryFocalCrossentropy(gamma=2.0)
    assert loss([[1.0]], [[0.8]]) == pytest.approx(0.04 * -math.log(0.8))
    balanced = losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25)
    assert balanced([[0.0]], [[0.8]]) == pytest.approx(0.75 * 0.64 * -math.log(0.2))


def test_categorical_focal_by_hand(float64):
    # q = (0.25, 0.75), target class 1: 0.25 * 0.25**2 * -log 0.75
    loss = losses.CategoricalFocalCrossentropy()
    assert loss([[0.0, 1.0]], [[1.0, 3.0]]) == pytest.approx(0.25 * 0.0625 * -math.log(0.75))


def test_gamma_zero_focal_is_the_plain_crossentropy(float64):
    rng = np.random.default_rng(3)
    y_true, y_pred = categorical_case(rng, (4, 3))
    focal = losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=0.0)
    assert focal(y_true, y_pred) == pytest.approx(losses.CategoricalCrossentropy()(y_true, y_pred))
    y_true, y_pred = binary_case(rng, (4, 3))
    assert losses.BinaryFocalCrossentropy(gamma=0.0)(y_true, y_pred) == pytest.approx(
        losses.BinaryCrossentropy()(y_true, y_pred)
    )


def test_every_loss_accepts_dtype():
    for cls in (
        losses.MeanSquaredError,
        losses.Huber,
        losses.CategoricalCrossentropy,
        losses.Hinge,
        losses.CosineSimilarity,
        losses.BinaryFocalCrossentropy,
    ):
        assert cls(dtype="float64")([[1.0, 0.0]], [[0.5, 0.5]]).dtype == np.float64
        assert cls(dtype=np.float32)([[1.0, 0.0]], [[0.5, 0.5]]).dtype == np.float32
    assert losses.MeanSquaredError().dtype == "float32"
    with pytest.raises(ValueError, match="float type"):
        losses.MeanSquaredError(dtype="int32")


def test_crossentropies_accept_the_last_axis_and_refuse_others():
    for cls in (
        losses.BinaryCrossentropy,
        losses.CategoricalCrossentropy,
        losses.SparseCategoricalCrossentropy,
        losses.CategoricalFocalCrossentropy,
    ):
        assert cls(axis=-1).get_config()["name"]
        with pytest.raises(ValueError, match="last axis only"):
            cls(axis=0)
    with pytest.raises(ValueError, match="ignore_class"):
        losses.SparseCategoricalCrossentropy(ignore_class=0)


def test_function_forms_take_the_class_arguments(float64):
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[2.0, -1.0]])
    np.testing.assert_allclose(
        losses.categorical_crossentropy(y_true, y_pred, from_logits=True, label_smoothing=0.1),
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction=None)(
            y_true, y_pred
        ),
    )
    assert losses.binary_focal_crossentropy(y_true, [[0.8, 0.3]]).shape == (1,)


def test_serialize_and_deserialize_round_trip():
    loss = losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=1.0, name="focal")
    data = losses.serialize(loss)
    assert data["class_name"] == "CategoricalFocalCrossentropy"
    assert data["module"] == "keras.losses"
    again = losses.deserialize(data)
    assert type(again) is losses.CategoricalFocalCrossentropy
    assert again.get_config() == loss.get_config()
    assert losses.deserialize("mean_squared_error") is losses.mean_squared_error
    assert isinstance(losses.deserialize("MeanSquaredError"), losses.MeanSquaredError)
    assert losses.serialize(losses.mse)["config"] == "mean_squared_error"
    with pytest.raises(ValueError, match="Unknown loss"):
        losses.deserialize("nope")
    with pytest.raises(TypeError):
        losses.serialize(lambda a, b: a)


def test_new_losses_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(7)
    cases = [
        ("CategoricalHinge", {}, hinge_case),
        ("CosineSimilarity", {}, cosine_case),
        ("BinaryFocalCrossentropy", {"gamma": 1.5, "apply_class_balancing": True}, binary_case),
        (
            "BinaryFocalCrossentropy",
            {"from_logits": True, "label_smoothing": 0.1},
            binary_logits_case,
        ),
        ("CategoricalFocalCrossentropy", {"label_smoothing": 0.1}, categorical_case),
        ("CategoricalFocalCrossentropy", {"from_logits": True}, categorical_logits_case),
    ]
    for name, kwargs, draw in cases:
        y_true, y_pred = draw(rng, (6, 3))
        y_true, y_pred = y_true.astype(np.float32), y_pred.astype(np.float32)
        ours = getattr(losses, name)(**kwargs)(y_true, y_pred)
        theirs = getattr(keras.losses, name)(**kwargs)(y_true, y_pred)
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, err_msg=name)


def overlap_case(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.uniform(0.05, 0.95, size=shape)


OVERLAP = [
    losses.Dice(),
    losses.Dice(axis=-1),
    losses.Tversky(),
    losses.Tversky(alpha=0.3, beta=0.7, axis=-1),
]


@pytest.mark.parametrize("loss", OVERLAP, ids=lambda x: f"{x.name}-{x.axis}")
def test_dice_and_tversky_slopes(loss, float64):
    rng = np.random.default_rng(5)
    y_true, y_pred = overlap_case(rng, (4, 5))
    value, grad = loss.reduced(y_true, y_pred)
    numeric = numerical_gradient(lambda: float(loss(y_true, y_pred)), y_pred)
    assert_gradient_close(grad, numeric, rtol=1e-6, atol=1e-8, objective_terms=[value])
    assert value == pytest.approx(float(loss(y_true, y_pred)))


def test_dice_and_tversky_by_hand(float64):
    t, p = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.5, 0.5], [1.0, 0.0]])
    # whole batch: I = 0.5 + 1 = 1.5, sums 3 and 2: 1 - 3 / 5
    assert losses.Dice()(t, p) == pytest.approx(1 - 3 / (5 + 1e-7))
    np.testing.assert_allclose(losses.dice(t, p, axis=-1), [1 - 1 / 2, 1 - 2 / 3], rtol=1e-6)
    # alpha = beta = 0.5 is Dice without the epsilon's place changing much
    assert losses.Tversky()(t, p) == pytest.approx(losses.Dice()(t, p), rel=1e-6)
    with pytest.raises(ValueError, match="sample_weight"):
        losses.Dice()(t, p, sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="last axis only"):
        losses.Dice(axis=0)


def test_dice_and_tversky_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    y_true, y_pred = overlap_case(np.random.default_rng(8), (6, 4))
    y_true, y_pred = y_true.astype(np.float32), y_pred.astype(np.float32)
    for name, kwargs in [
        ("Dice", {}),
        ("Dice", {"axis": -1}),
        ("Tversky", {"alpha": 0.2}),
        ("Tversky", {"beta": 0.9, "axis": -1}),
    ]:
        ours = getattr(losses, name)(**kwargs)(y_true, y_pred)
        theirs = getattr(keras.losses, name)(**kwargs)(y_true, y_pred)
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, err_msg=name)
