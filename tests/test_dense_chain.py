"""The fast paths of training and prediction compute what the plain layer-by-layer code does.

Runs of ``Dense`` layers run through ``glassnet.engine.dense_chain`` (bias folded into each
matrix product, reused buffers); a plan without chains (``Plan(..., chains=False)``) runs
each layer's own ``forward``/``backward`` and stays the reference. Also here: the one-hot
shortcut of the fused cross-entropy, the row reductions of ``glassnet._rowwise``, the
optimizers' threaded update of large arrays, copies of models and optimizers, and threads
sharing a model.
"""

from __future__ import annotations

import copy
import pickle
import threading

import numpy as np
import pytest
from numerics import assert_float32_close

from glassnet import _rowwise, losses
from glassnet.engine.dense_chain import DenseChain
from glassnet.engine.plan import Plan
from glassnet.errors import DataError
from glassnet.explain import last_pass
from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential
from glassnet.optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    Ftrl,
    Lion,
    Nadam,
    RMSprop,
    base,
)
from glassnet.trainers.batches import ArrayBatches, StreamBatches

HEADS = [
    ("linear", "mse"),
    ("softmax", "categorical_crossentropy"),
    ("sigmoid", "binary_crossentropy"),
    ("softmax", "mse"),  # not fused: softmax's own backward
]


def _model(inputs, hidden, head, loss, units=3):
    model = Sequential(
        [Dense(w, activation=a) for w, a in hidden] + [Dense(units, activation=head)]
    )
    model.build((inputs,))
    model.compile(optimizer="sgd", loss=loss)
    model._prepare_optimizer()
    return model


def _records(model):
    """Copies of every layer's record of the model's last pass."""
    names = ("x", "z", "a", "grad_a", "grad_z")
    return [
        {
            n: None if getattr(lp.record, n) is None else np.array(getattr(lp.record, n))
            for n in names
        }
        for lp in last_pass(model).layers
    ]


@pytest.mark.parametrize("head,loss", HEADS)
@pytest.mark.parametrize("inputs", [4, 300])  # first bias folded in training / kept apart
@pytest.mark.parametrize("hidden_activation", ["relu", "tanh", "linear"])
def test_chain_matches_the_layer_by_layer_pass(head, loss, inputs, hidden_activation, float64):
    rng = np.random.default_rng(0)
    model = _model(inputs, [(6, hidden_activation), (5, "relu")], head, loss)
    (chain,) = model.plan.steps
    assert isinstance(chain, DenseChain) and chain.fold_first == (inputs <= 256)
    x = rng.normal(size=(7, inputs))
    y = rng.random((7, 3)) if loss != "categorical_crossentropy" else np.eye(3)[[0, 1, 2] * 2 + [0]]
    if loss == "binary_crossentropy":
        y = (y > 0.5).astype(float)

    loss_fast, grads_fast = model.compute_gradients(x, y)
    fast = _records(model)
    # the layer-by-layer reference
    model._plan_cache = (model.storage, Plan(model.layers, model.storage, chains=False))
    loss_ref, grads_ref = model.compute_gradients(x, y)
    ref = _records(model)

    assert loss_fast == pytest.approx(loss_ref, rel=1e-12)
    for g_fast, g_ref in zip(grads_fast, grads_ref, strict=True):
        np.testing.assert_allclose(g_fast, g_ref, rtol=1e-10, atol=1e-13)
    for layer_fast, layer_ref in zip(fast, ref, strict=True):
        for name, value in layer_ref.items():
            if value is None:
                assert layer_fast[name] is None, name
            else:
                np.testing.assert_allclose(layer_fast[name], value, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("head,loss", HEADS)
def test_chain_predictions_match_the_layer_by_layer_pass(head, loss, float64):
    rng = np.random.default_rng(1)
    model = _model(4, [(6, "relu")], head, loss)
    x = rng.normal(size=(50, 4))
    fast = model.predict(x, batch_size=16, verbose=0)
    np.testing.assert_allclose(fast, model.forward(x), rtol=1e-12, atol=1e-14)
    single = model.predict(x[3], verbose=0)  # one row: a buffer of its own size
    np.testing.assert_allclose(single, fast[3:4], rtol=1e-12, atol=1e-14)


def test_predictions_are_owned_by_the_caller():
    model = _model(4, [(6, "relu")], "linear", "mse")
    x = np.ones((5, 4), dtype=np.float32)
    first = model.predict(x, verbose=0)
    kept = first.copy()
    model.predict(2 * x, verbose=0)  # the same batch size reuses the chain's buffers
    np.testing.assert_array_equal(first, kept)
    batch = model.predict_on_batch(x)
    model.predict_on_batch(3 * x)
    np.testing.assert_array_equal(batch, kept)


def test_only_trainable_dense_layers_with_a_bias_run_in_chains():
    def steps(model):
        return [type(step).__name__ for step in model.plan.steps]

    model = Sequential([Dense(4, activation="relu"), Dropout(0.5), Dense(1)])
    model.build((3,))
    assert steps(model) == ["DenseChain", "Dropout", "DenseChain"]
    frozen = Sequential([Dense(4, input_shape=(3,)), Dense(1)])
    frozen.layers[0].trainable = False
    frozen.compile(optimizer="sgd", loss="mse")
    assert steps(frozen) == ["Dense", "DenseChain"]
    no_bias = Sequential([Dense(4, use_bias=False, input_shape=(3,)), Dense(1)])
    no_bias.build()
    assert steps(no_bias) == ["Dense", "DenseChain"]


@pytest.mark.parametrize("columns", [3, 300])
def test_training_from_arrays_and_from_a_stream_is_bit_identical(columns):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, columns)).astype(np.float32)
    y = rng.normal(size=(40, 1)).astype(np.float32)
    models = []
    for _ in range(2):
        model = Sequential([Dense(5, activation="relu", input_shape=(columns,)), Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        models.append(model)
    models[0].build()
    models[1].build()
    models[1].set_weights(models[0].get_weights())
    models[0].fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    batches = [(x[s : s + 8], y[s : s + 8]) for s in range(0, 40, 8)]
    models[1].fit(iter(batches * 2), steps_per_epoch=5, epochs=2, verbose=0)
    for a, b in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_array_batches_add_a_column_of_ones_and_keep_the_shuffle():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.float32).reshape(10, 1)
    plain = ArrayBatches(x, y, None, 4, True, np.random.default_rng(3))
    ones = ArrayBatches(x, y, None, 4, True, np.random.default_rng(3), ones_column=True)
    assert ones.ones_column and not plain.ones_column
    for (xp, yp, _), (xo, yo, _) in zip(plain.epoch(), ones.epoch(), strict=True):
        np.testing.assert_array_equal(xo[:, :-1], xp)
        np.testing.assert_array_equal(xo[:, -1], 1)
        np.testing.assert_array_equal(yo, yp)
    in_order = ArrayBatches(x, y, None, 4, False, None, ones_column=True)
    np.testing.assert_array_equal(next(in_order.epoch())[0][:, :-1], x[:4])
    assert not StreamBatches([(x, y)], None, lambda b: b).ones_column


def test_targets_that_sum_to_one_are_recognised():
    y = np.eye(3, dtype=np.float32)[[0, 2, 1]]
    assert ArrayBatches(y, y, None, 2, False, None).targets_sum_to_one
    soft = np.array([[0.5, 0.25], [0.2, 0.3]], dtype=np.float32)
    assert not ArrayBatches(soft, soft, None, 2, False, None).targets_sum_to_one


@pytest.mark.parametrize("classes", [2, 3, 10, 40])
def test_fused_cross_entropy_shortcuts_match_the_general_formula(classes, float64):
    rng = np.random.default_rng(4)
    z = rng.normal(size=(9, classes)) * 4
    one_hot = np.eye(classes)[rng.integers(0, classes, 9)]
    soft = rng.random((9, classes))
    loss = losses.CategoricalCrossentropy()
    for y, sums_to_one in ((one_hot, True), (one_hot, False), (soft, False)):
        values, grad, p = loss._from_logits(y, z)
        got_loss, got_grad, got_p = loss.fused_step(y, z.copy(), None, sums_to_one)
        assert got_loss == pytest.approx(values.mean(), rel=1e-12)
        np.testing.assert_allclose(got_grad, grad / 9, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(got_p, p, rtol=1e-12)
    smoothed = losses.CategoricalCrossentropy(label_smoothing=0.1)
    values, grad, _ = smoothed._from_logits(smoothed._smooth(one_hot), z)
    got_loss, got_grad, _ = smoothed.fused_step(one_hot, z, None, True)
    assert got_loss == pytest.approx(values.mean(), rel=1e-12)
    np.testing.assert_allclose(got_grad, grad / 9, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("shape", [(1, 10), (32, 2), (1024, 10), (7, 40), (0, 3), (5,)])
def test_row_reductions_equal_numpys(shape):
    values = np.random.default_rng(5).normal(size=shape).astype(np.float32)
    np.testing.assert_array_equal(_rowwise.row_max(values), values.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(
        _rowwise.row_sum(values), values.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    "make",
    [
        Adam,
        lambda: Adam(amsgrad=True),
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        lambda: RMSprop(momentum=0.5, centered=True),
        Adagrad,
    ],
)
def test_threaded_update_of_a_large_array_equals_the_serial_one(make, monkeypatch):
    rng = np.random.default_rng(6)
    size = base._PARALLEL_MIN_WEIGHTS + 12_345
    start = rng.normal(size=size).astype(np.float32)
    results = []
    for threads in (1, 3):
        monkeypatch.setattr(base, "_update_threads", lambda threads=threads: threads)
        optimizer, params = make(), start.copy()
        for step in range(3):
            optimizer.apply(params, rng.normal(size=size).astype(np.float32) * (step + 1))
        assert len(optimizer._parts) == threads
        results.append((params, {k: v.copy() for k, v in optimizer.slots.items()}))
        rng = np.random.default_rng(6)
        rng.normal(size=size)
    (serial, serial_slots), (threaded, threaded_slots) = results
    np.testing.assert_array_equal(threaded, serial)
    for name in serial_slots:
        np.testing.assert_array_equal(threaded_slots[name], serial_slots[name])


@pytest.mark.parametrize(
    "make",
    [Adam, lambda: SGD(0.1, momentum=0.9, nesterov=True), lambda: RMSprop(centered=True),
     Adagrad, Nadam, Adamax, Adadelta, Ftrl, Lion],
)
def test_an_update_in_cache_sized_blocks_equals_one_over_the_whole_array(make, monkeypatch):
    """Large updates run block by block (``_CACHE_BLOCK``) so that their passes stay in
    cache; each number is computed by the same operations, so the result is bit-identical."""
    rng = np.random.default_rng(8)
    size = 3 * base._CACHE_BLOCK + 1_234
    start = rng.normal(size=size).astype(np.float32)
    gradients = [rng.normal(size=size).astype(np.float32) for _ in range(3)]
    monkeypatch.setattr(base, "_update_threads", lambda: 1)
    results = []
    for block in (base._CACHE_BLOCK, 10 * size):
        monkeypatch.setattr(base, "_CACHE_BLOCK", block)
        optimizer, params = make(), start.copy()
        for gradient in gradients:
            optimizer.apply(params, gradient.copy())
        results.append((params, optimizer.slots))
    assert len(optimizer._parts[0]) == 1  # the second run made one block
    (blocked, blocked_slots), (whole, whole_slots) = results
    np.testing.assert_array_equal(blocked, whole)
    for name in whole_slots:
        np.testing.assert_array_equal(blocked_slots[name], whole_slots[name])


def test_a_copied_optimizer_updates_its_own_state(monkeypatch):
    monkeypatch.setattr(base, "_update_threads", lambda: 2)
    params = np.ones(base._PARALLEL_MIN_WEIGHTS, dtype=np.float32)
    optimizer = Adam()
    optimizer.apply(params, params)
    clone = pickle.loads(pickle.dumps(optimizer))
    clone.apply(params, params)
    assert clone.iterations == 2
    assert np.all(clone.slots["momentum"] != optimizer.slots["momentum"])


@pytest.mark.parametrize("make_copy", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_a_copied_model_trains_its_layers(make_copy):
    rng = np.random.default_rng(7)
    x = rng.random((64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    twin, reference = make_copy(model), copy.deepcopy(model)
    assert np.shares_memory(twin.layers[0].kernel, twin.storage.parameters)
    before = twin.get_weights()
    twin.fit(x, y, epochs=3, shuffle=False, verbose=0)
    reference.fit(x, y, epochs=3, shuffle=False, verbose=0)
    assert all(np.any(a != b) for a, b in zip(twin.get_weights(), before, strict=True))
    for a, b in zip(twin.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_threads_predicting_at_once_get_their_own_answers():
    """Four threads predict their own inputs at once, 200 times each, with the batch split
    of a single-threaded ``predict``: same calls on the same shapes, so each answer must be
    that one bit for bit (another thread's buffers would give other rows entirely). The
    single-threaded answers agree with ``forward``, which multiplies all 64 rows at once and
    adds the bias separately, within float32 rounding (tests/numerics.py)."""
    model = _model(8, [(32, "relu"), (32, "relu")], "linear", "mse", units=2)
    inputs = [np.random.default_rng(i).normal(size=(64, 8)).astype(np.float32) for i in range(4)]
    expected = [model.predict(x, batch_size=16, verbose=0) for x in inputs]
    for x, alone in zip(inputs, expected, strict=True):
        assert_float32_close(alone, model.forward(x), depth=3, fan_in=32)
    wrong = []

    def work(i):
        for _ in range(200):
            if not np.array_equal(model.predict(inputs[i], batch_size=16, verbose=0), expected[i]):
                wrong.append(i)
                return

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_predict_names_the_row_of_a_nan_in_a_later_batch():
    model = _model(4, [(6, "relu")], "linear", "mse")
    x = np.ones((100, 4), dtype=np.float32)
    x[77, 2] = np.nan
    with pytest.raises(DataError, match="NaN at row 77, column 2"):
        model.predict(x, batch_size=32, verbose=0)
    x[77, 2] = -np.inf
    with pytest.raises(DataError, match="infinity at row 77, column 2"):
        model.predict(x, batch_size=256, verbose=0)


def test_evaluate_reports_an_overflow_as_its_loss_without_numpy_warnings():
    import warnings

    model = _model(2, [(3, "relu")], "linear", "mse", units=1)
    model.set_weights([np.full_like(w, 1e30) for w in model.get_weights()])
    x = np.full((4, 2), 1e30, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = model.evaluate(x, np.zeros((4, 1), dtype=np.float32), verbose=0)
    assert not np.isfinite(loss)
