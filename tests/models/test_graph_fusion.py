"""A functional model's compiled plan joins sibling ``Dense`` layers and runs of ``Dense``
layers (``glassnet.engine.graph_plan``, ``DenseSiblings`` and ``DenseChain``).

The reference is ``GraphPlan``: every layer's own ``forward`` and ``backward`` on a tape,
one node per layer call. A fused plan must compute the same losses, weight slopes and
per-layer records (to float rounding, float64 here), its slopes must match central
differences, and graphs where fusion must not apply (siblings with different activations,
a sibling read elsewhere or called twice, a softmax) must still be right.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import glassnet as keras
from glassnet import explain, layers
from glassnet.engine.dense_chain import DenseChain, DenseSiblings
from glassnet.engine.graph_plan import CompiledGraphPlan, GraphPlan

RECORD_NAMES = ("x", "z", "a", "grad_a", "grad_z")


def two_branch(inputs=4, widths=(3, 3), activation="relu", head=1, depth=1):
    """``inputs`` -> (``depth - 1`` Dense) -> Dense branches -> Concatenate -> Dense -> Dense."""
    x = keras.Input(shape=(inputs,), name="features")
    feeding = x
    for i in range(depth - 1):
        feeding = layers.Dense(5, activation="tanh", name=f"before_{i}")(feeding)
    branches = [
        layers.Dense(w, activation=activation, name=f"branch_{i}")(feeding)
        for i, w in enumerate(widths)
    ]
    joined = layers.Concatenate(name="join")(branches)
    hidden = layers.Dense(4, activation="relu", name="hidden")(joined)
    return keras.Model(x, layers.Dense(head, name="out")(hidden))


def _members(model):
    """The kinds of the compiled plan's steps, chains opened up."""
    kinds = []
    for step in model.plan._steps:
        op = step[0]
        if isinstance(op, DenseChain):
            kinds.append([type(member).__name__ for member in op.members])
        else:
            kinds.append(type(op).__name__)
    return kinds


def _reading(model):
    """Copies of each layer's record (or output) from the model's last pass, by name."""
    out = {}
    for lp in explain.last_pass(model).layers:
        if lp.record is None:
            out[lp.layer.name] = {"output": np.array(lp.output)}
        else:
            out[lp.layer.name] = {
                n: None if getattr(lp.record, n) is None else np.array(getattr(lp.record, n))
                for n in RECORD_NAMES
            }
    return out


def _reference(model):
    """``model`` with its plan replaced by the layer-by-layer tape (the same weights)."""
    model._plan_cache = (model.storage, GraphPlan(model))
    return model


def _data(inputs, rows=7, head=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, inputs)), rng.normal(size=(rows, head))


def _assert_same_pass(model, x, y):
    """Fused and reference plans agree on the loss, every slope and every record."""
    loss_fast, grads_fast = model.compute_gradients(x, y)
    fast = _reading(model)
    _reference(model)
    loss_ref, grads_ref = model.compute_gradients(x, y)
    ref = _reading(model)
    assert loss_fast == pytest.approx(loss_ref, rel=1e-12)
    for g_fast, g_ref in zip(grads_fast, grads_ref, strict=True):
        np.testing.assert_allclose(g_fast, g_ref, rtol=1e-10, atol=1e-13)
    assert list(fast) == list(ref)  # the same layers, in the order they ran
    for name, values in ref.items():
        for key, value in values.items():
            if value is None:
                assert fast[name][key] is None, (name, key)
            else:
                np.testing.assert_allclose(fast[name][key], value, rtol=1e-10, atol=1e-13,
                                           err_msg=f"{name}.{key}")


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear", "sigmoid"])
@pytest.mark.parametrize("inputs", [4, 300])  # first bias folded in fit / kept apart
@pytest.mark.parametrize("widths", [(3, 3), (2, 5, 3)])  # one copy / one per layer
def test_siblings_join_into_one_chain_that_computes_the_layer_by_layer_pass(
    activation, inputs, widths, float64
):
    model = two_branch(inputs, widths, activation)
    model.compile(optimizer="sgd", loss="mse")
    assert _members(model) == [["DenseSiblings", "Dense", "Dense"]]
    assert model.plan.fold_first == (inputs <= 256)
    x, y = _data(inputs)
    _assert_same_pass(model, x, y)


def test_siblings_inside_a_chain_pass_the_slope_to_the_layer_below(float64):
    model = two_branch(widths=(3, 2), activation="tanh", depth=2)
    model.compile(optimizer="sgd", loss="mse")
    assert _members(model) == [["Dense", "DenseSiblings", "Dense", "Dense"]]
    x, y = _data(4)
    _assert_same_pass(model, x, y)


def test_joined_slopes_match_finite_differences(float64):
    model = two_branch(widths=(3, 2), activation="tanh", depth=2)
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(4)
    _, grads = model.compute_gradients(x, y)

    def loss():
        return model.compute_gradients(x, y)[0]

    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        assert_gradient_close(grad, numerical_gradient(loss, weight), rtol=1e-6, atol=1e-9)


def test_fit_on_a_joined_graph_makes_the_updates_of_the_layer_by_layer_pass(float64):
    fused = two_branch(inputs=4, widths=(3, 3))
    reference = two_branch(inputs=4, widths=(3, 3))
    reference.set_weights(fused.get_weights())
    _reference(reference)
    x, y = _data(4, rows=20)
    for model in (fused, reference):
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert isinstance(fused.plan, CompiledGraphPlan) and fused.plan.fold_first
    for ours, theirs in zip(fused.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)


def test_tape_slopes_of_a_joined_graph_equal_fits_bit_for_bit():
    model = two_branch(widths=(3, 2), activation="relu", depth=2)
    model.compile(optimizer="sgd", loss="mse")
    x, y = (a.astype("float32") for a in _data(4))
    loss_fn = keras.losses.MeanSquaredError()
    with keras.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    expected_loss, expected = model.compute_gradients(x, y)
    assert float(loss) == pytest.approx(expected_loss, rel=1e-6)
    for ours, reference in zip(grads, expected, strict=True):
        np.testing.assert_array_equal(ours, reference)


def test_the_input_of_a_folding_chain_still_gets_its_slope_on_a_tape(float64):
    model = two_branch(widths=(3, 3))
    assert model.plan.fold_first
    x, _ = _data(4)
    with keras.GradientTape() as tape:
        tape.watch(x)
        total = keras.ops.sum(model(x))
    slope = tape.gradient(total, x)
    numeric = numerical_gradient(lambda: float(np.sum(model.predict(x, verbose=0))), x)
    assert_gradient_close(np.asarray(slope), numeric, rtol=1e-6, atol=1e-9)


def test_new_weights_reach_the_joined_matrix():
    model = two_branch(widths=(3, 3))
    x, _ = _data(4)
    x = x.astype("float32")
    model.predict(x, verbose=0)
    weights = [w + 0.5 for w in model.get_weights()]
    model.set_weights(weights)
    fused = model.predict(x, verbose=0)
    np.testing.assert_allclose(fused, _reference(model).predict(x, verbose=0), rtol=1e-6)


def test_predictions_of_a_joined_graph_are_the_callers():
    model = two_branch(widths=(3, 3))
    x = np.ones((5, 4), dtype=np.float32)
    first = model.predict(x, verbose=0)
    kept = first.copy()
    model.predict(2 * x, verbose=0)
    np.testing.assert_array_equal(first, kept)
    batch = model.predict_on_batch(x)
    model.predict_on_batch(3 * x)
    np.testing.assert_array_equal(batch, kept)


def test_the_glass_box_reports_each_joined_layer_with_its_own_numbers(float64):
    model = two_branch(widths=(3, 2), activation="relu")
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(4, rows=3)
    report = explain.slopes(model, x, y)
    by_layer = {ls.name: ls for ls in report.layers}
    _, grads = model.compute_gradients(x, y)
    slopes = {w.path: g for w, g in zip(model.trainable_weights, grads, strict=True)}
    for name, units in (("branch_0", 3), ("branch_1", 2)):
        np.testing.assert_array_equal(by_layer[name].weights["kernel"].slope,
                                      slopes[f"{name}/kernel"])
        assert by_layer[name].z.shape == (3, units)
    traced = explain.trace(model, x[:1])
    assert [lt.name for lt in traced.layers] == ["branch_0", "branch_1", "join", "hidden", "out"]
    reference = explain.trace(_reference(model), x[:1])
    for ours, theirs in zip(traced.layers, reference.layers, strict=True):
        np.testing.assert_allclose(ours.outputs, theirs.outputs, rtol=1e-12)


def _joins(model) -> bool:
    return any(
        isinstance(member, DenseSiblings)
        for step in model.plan._steps
        for member in getattr(step[0], "members", ())
    )


def _not_joined(build):
    """A graph whose siblings must stay apart: no ``DenseSiblings`` in its plan, and its
    pass equal to the layer-by-layer one."""
    model = build()
    model.compile(optimizer="sgd", loss="mse")
    assert not _joins(model)
    rows = 6
    x, y = _data(4, rows=rows, head=int(np.prod(model.output_shape[-1:])))
    _assert_same_pass(model, x, y)


def test_siblings_with_different_activations_stay_apart(float64):
    def build():
        x = keras.Input(shape=(4,))
        joined = layers.Concatenate()([layers.Dense(3, activation="relu")(x),
                                       layers.Dense(3, activation="tanh")(x)])
        return keras.Model(x, layers.Dense(1)(joined))

    _not_joined(build)


def test_softmax_siblings_stay_apart(float64):
    def build():
        x = keras.Input(shape=(4,))
        joined = layers.Concatenate()([layers.Dense(3, activation="softmax")(x),
                                       layers.Dense(3, activation="softmax")(x)])
        return keras.Model(x, layers.Dense(1)(joined))

    _not_joined(build)


def test_a_sibling_read_elsewhere_stays_apart(float64):
    def build():
        x = keras.Input(shape=(4,))
        left = layers.Dense(3, activation="relu")(x)
        right = layers.Dense(3, activation="relu")(x)
        joined = layers.Concatenate()([left, right])
        return keras.Model(x, layers.Add()([layers.Dense(3)(joined), left]))

    _not_joined(build)


def test_a_sibling_called_twice_stays_apart(float64):
    def build():
        x = keras.Input(shape=(4,))
        shared = layers.Dense(4, activation="relu")
        other = layers.Dense(4, activation="relu")
        joined = layers.Concatenate()([shared(x), other(x)])
        return keras.Model(x, layers.Dense(1)(shared(layers.Dense(4)(joined))))

    _not_joined(build)


def test_siblings_of_different_inputs_or_a_lone_value_stay_apart(float64):
    def build():
        x = keras.Input(shape=(4,))
        hidden = layers.Dense(4, activation="relu")(x)
        joined = layers.Concatenate()([layers.Dense(3, activation="relu")(x),
                                       layers.Dense(3, activation="relu")(hidden), x])
        return keras.Model(x, layers.Dense(1)(joined))

    _not_joined(build)


def test_a_model_output_among_the_siblings_stays_apart(float64):
    x = keras.Input(shape=(4,))
    left = layers.Dense(3, activation="relu")(x)
    right = layers.Dense(3, activation="relu")(x)
    out = layers.Dense(1)(layers.Concatenate()([left, right]))
    model = keras.Model(x, [out, left])
    model.compile(optimizer="sgd", loss=["mse", "mse"])
    assert not _joins(model)
    x, y = _data(4, rows=6)
    _assert_same_pass(model, x, [y, np.ones((6, 3))])
