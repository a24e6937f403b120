"""The recorded forward pass: one plan runs every entry point, and its tape is what backward
and the glass box read.

* Every entry point (``predict``, ``predict_on_batch``, ``model(x)``, ``forward``, the
  forward of a training step, ``explain.trace``) computes the same numbers, bit for bit, on
  the same weights and the same batch: they all run ``Plan.forward``.
* Runs of ``Dense`` layers become chains around any other layer, and the chains' slopes
  agree with every layer run on its own (``Plan(..., chains=False)``) and with finite
  differences.
* A compiled model's node slots are made once: a pass overwrites them, nothing grows.
* ``Tape.backward`` adds the slopes of a value used twice and of a layer called twice.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from glassnet.engine.dense_chain import DenseChain
from glassnet.engine.plan import Plan
from glassnet.explain import last_pass, trace
from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential
from glassnet.ops import Record, Tape, recording
from glassnet.utils import set_random_seed


def _classifier(inputs=5):
    set_random_seed(4)
    model = Sequential(
        [
            Dense(16, activation="relu", input_shape=(inputs,)),
            Dense(8, activation="tanh"),
            Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("inputs", [5, 300], ids=["narrow", "wide"])
def test_every_entry_point_computes_the_same_numbers(inputs):
    model = _classifier(inputs)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, inputs)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]

    predicted = model.predict(x, batch_size=32, verbose=0)
    logits = last_pass(model).layers[-1].record.z.copy()
    for other in (
        model.predict_on_batch(x),
        model(x),
        model.forward(x).copy(),
        trace(model, x).prediction,
    ):
        np.testing.assert_array_equal(other, predicted)
    # The forward of a training step (no dropout here, so training mode changes nothing):
    # the same logits, and the fused loss's prediction is the output layer's softmax.
    model.compute_gradients(x, y)
    recorded = last_pass(model).layers[-1].record
    np.testing.assert_array_equal(recorded.z, logits)
    np.testing.assert_array_equal(recorded.a, predicted)
    assert last_pass(model).fused and recorded.grad_a is None


def test_evaluate_reads_the_same_pass_as_predict():
    set_random_seed(1)
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = rng.normal(size=(20, 1)).astype(np.float32)
    predicted = model.predict(x, batch_size=20, verbose=0)
    loss = model.evaluate(x, y, batch_size=20, verbose=0)
    np.testing.assert_array_equal(last_pass(model).layers[-1].output, predicted)
    # The loss of those outputs, reduced by another sum order: float32 rounding apart.
    assert loss == pytest.approx(float(np.mean((predicted - y) ** 2)), rel=1e-6)


def test_dropout_splits_the_dense_layers_into_two_chains():
    model = Sequential(
        [
            Dense(6, activation="relu", input_shape=(4,)),
            Dense(5, activation="tanh"),
            Dropout(0.5),
            Dense(2),
        ]
    )
    model.build()
    steps = model.plan.steps
    assert [type(step) for step in steps] == [DenseChain, Dropout, DenseChain]
    assert [layer.name for layer in steps[0].layers] == [layer.name for layer in model.layers[:2]]
    assert steps[0].first and not steps[2].first
    frozen = Sequential([Dense(4, input_shape=(3,)), Dense(3), Dense(1, use_bias=False)])
    frozen.layers[1].trainable = False
    frozen.build()
    assert [type(step) for step in frozen.plan.steps] == [DenseChain, Dense, Dense]


@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_chains_around_a_layer_agree_with_every_layer_on_its_own(training, float64):
    rng = np.random.default_rng(2)
    model = Sequential(
        [
            Dense(6, activation="relu", input_shape=(4,)),
            Dense(5, activation="tanh"),
            Dropout(0.5, seed=3),
            Dense(4, activation="sigmoid"),
            Dense(3, activation="softmax"),
        ]
    )
    model.build()
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = rng.normal(size=(9, 4))
    y = np.eye(3)[rng.integers(0, 3, 9)]

    def gradients(plan):
        model._plan_cache = (model.storage, plan)
        model.layers[2].rng = np.random.default_rng(7)  # the same dropout mask every pass
        return model.compute_gradients(x, y, training=training)

    chained = gradients(Plan(model.layers, model.storage))
    alone = gradients(Plan(model.layers, model.storage, chains=False))
    assert chained[0] == pytest.approx(alone[0], rel=1e-12)
    for a, b in zip(chained[1], alone[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)

    def loss():
        return gradients(Plan(model.layers, model.storage))[0]

    _, grads = gradients(Plan(model.layers, model.storage))
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        assert_gradient_close(grad, numerical_gradient(loss, weight), rtol=1e-5, atol=1e-8)


def test_backward_stops_at_the_first_layer_with_weights():
    """Layers in front of the first one with weights (augmentation, rescaling) have no
    slopes to write and the slope at the input is never asked of a plan: backward leaves
    them out, and the weight slopes are the very ones it computes when it runs them."""
    from glassnet.layers import Conv2D, Flatten, Input, RandomFlip, Rescaling

    set_random_seed(3)
    model = Sequential(
        [
            Input(shape=(6, 6, 1)),
            RandomFlip(seed=1),
            Rescaling(0.5),
            Conv2D(2, 3, activation="relu"),
            Flatten(),
            Dense(3, activation="softmax"),
        ]
    )
    model.build()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 6, 6, 1)), np.eye(3)[rng.integers(0, 3, 5)]
    ran = []
    for layer in model.layers[:2]:
        layer.backward = lambda *args, _run=layer.backward, _name=layer.name: (
            ran.append(_name) or _run(*args)
        )

    def gradients(run_all: bool):
        plan = Plan(model.layers, model.storage)
        if run_all:
            plan._first_weighted = 0  # what backward did before: every step
        model._plan_cache = (model.storage, plan)
        model.layers[0].rng = np.random.default_rng(7)  # the same flips every pass
        return model.compute_gradients(x, y, training=True)

    loss, grads = gradients(run_all=False)
    assert ran == []
    all_loss, all_grads = gradients(run_all=True)
    assert ran == [model.layers[1].name, model.layers[0].name]
    assert loss == all_loss
    for a, b in zip(grads, all_grads, strict=True):
        np.testing.assert_array_equal(a, b)


def test_node_slots_are_made_once_and_nothing_grows():
    model = _classifier()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]
    model.train_on_batch(x, y)
    nodes = list(model.tape.nodes)
    assert len(nodes) == 2 and nodes[-1].op is model.loss  # one chain and the loss
    for _ in range(50):  # warm every cache
        model.train_on_batch(x, y)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(10_000):
        model.train_on_batch(x, y)
        model.predict_on_batch(x)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, f"{grown} bytes more after 10,000 steps"
    after_predict = model.tape.nodes
    assert len(after_predict) == 1 and after_predict[0] is nodes[0]  # no loss in a predict
    model.train_on_batch(x, y)
    assert all(a is b for a, b in zip(model.tape.nodes, nodes, strict=True))


class _Add:
    """A two-input op for the test: ``a + b``."""

    def forward(self, a, b):
        return a + b, None

    def backward(self, records, grad, need_grad_input=True):
        return grad, grad


def test_tape_adds_the_slopes_of_a_value_used_twice_and_of_a_layer_called_twice(float64):
    rng = np.random.default_rng(4)
    first, square = Dense(3, activation="tanh"), Dense(3, activation="sigmoid")
    first.build((2,))
    square.build((3,))
    for layer in (first, square):
        layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    x = rng.normal(size=(4, 2))
    grad = rng.normal(size=(4, 3))
    add = _Add()

    def run():
        with recording() as tape:
            h = first(x)
            o1 = square(h)
            o2 = square(o1)  # the same layer again, on a value that is also used below
            out, _ = add.forward(o1.numpy(), o2.numpy())  # computed outside the tape's ops
            tape.record(add, (o1, o2), out, None)
        return tape, out

    tape, out = run()
    assert [node.op for node in tape.nodes] == [first, square, square, add]
    assert isinstance(tape.nodes[1].records, Record)
    slopes_at_inputs = tape.backward(out, grad)
    analytic = {
        "first": first.grad_kernel.copy(),
        "square": square.grad_kernel.copy(),
        "x": slopes_at_inputs[id(x)],
    }

    def objective():
        return float(np.sum(grad * run()[1]))

    assert_gradient_close(analytic["first"], numerical_gradient(objective, first.kernel))
    assert_gradient_close(analytic["square"], numerical_gradient(objective, square.kernel))
    assert_gradient_close(analytic["x"], numerical_gradient(objective, x))


def test_a_layer_not_on_the_way_to_the_output_gets_zero_slopes(float64):
    rng = np.random.default_rng(5)
    used, unused = Dense(2), Dense(2)
    used.build((3,))
    unused.build((3,))
    unused.grads["kernel"][...] = 1.0
    x = rng.normal(size=(4, 3))
    with recording() as tape:
        out = used(x)
        unused(x)
    tape.backward(out, np.ones_like(out))
    assert not unused.grad_kernel.any() and used.grad_kernel.any()


def test_a_none_slope_and_integer_values_get_no_slope():
    """An op may answer ``None`` for an input (a constant); integers never get a slope."""

    class Scale:
        def backward(self, records, grad, need_grad_input):
            return grad * 2.0, None, grad  # the last slope is one integers must not get

    x = np.ones(3)
    constant = np.full(3, 5.0)
    labels = np.arange(3)
    out = x * 2.0
    tape = Tape()
    tape.record(Scale(), (x, constant, labels), out, None)
    slopes = tape.backward(out, np.ones(3))
    assert set(slopes) == {id(x)}
    np.testing.assert_array_equal(slopes[id(x)], [2.0, 2.0, 2.0])
