"""``diagnose`` and the ``Diagnostics`` callback find planted problems and stay quiet on a
healthy network."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.callbacks import Diagnostics
from glassnet.explain import diagnose
from glassnet.layers import Dense
from glassnet.models import NotCompiledError, Sequential


@pytest.fixture
def data(rng):
    x = rng.normal(size=(256, 8))
    y = 2 * x[:, :1] - x[:, 1:2] + np.sin(x[:, 2:3])
    return x, y


def healthy(activation="relu", optimizer="adam"):
    model = Sequential([
        Dense(32, activation=activation, input_shape=(8,), kernel_initializer="he_normal"),
        Dense(32, activation=activation, kernel_initializer="he_normal"),
        Dense(1),
    ])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def with_dead_second_layer():
    model = healthy()
    model.build()
    weights = model.get_weights()
    weights[3][:] = -100.0  # bias of the second layer: its units can never be positive
    model.set_weights(weights)
    return model


def deep_sigmoid(layers=20):
    stack = [Dense(16, activation="sigmoid", input_shape=(8,))]
    stack += [Dense(16, activation="sigmoid") for _ in range(layers - 1)]
    model = Sequential([*stack, Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.parametrize(("activation", "optimizer"), [("relu", "adam"), ("tanh", "sgd"),
                                                       ("sigmoid", "adam"), ("elu", "sgd")])
def test_healthy_network_is_quiet(data, activation, optimizer):
    report = diagnose(healthy(activation, optimizer), *data)
    assert report.ok, str(report)
    assert report.findings == []
    assert "No problem found" in str(report)
    assert len(report.layers) == 3 and report.layers[0].gradient_ratio > 0


def test_planted_dead_layer_is_found_and_named(data):
    model = with_dead_second_layer()
    report = diagnose(model, *data)
    dead = [f for f in report.findings if f.kind == "dead"]
    assert len(dead) == 1
    name = model.layers[1].name
    assert dead[0].layer == name
    assert report.layer(name).dead_share == 1.0 and report.layer(name).dead_units == list(range(32))
    assert report.layer(model.layers[0].name).dead_share == 0.0
    message = dead[0].message
    assert f"Layer {name!r}: 32 of its 32 ReLU units (100%) are dead" in message
    assert "no slope reaches the layers before it" in message and "leaky_relu" in message
    # the zero slopes before it are explained by the dead layer, not called vanishing
    assert not [f for f in report.findings if f.kind == "vanishing"]


def test_partly_dead_layer_below_the_threshold_is_only_reported_in_numbers(data):
    model = healthy()
    model.build()
    weights = model.get_weights()
    weights[1][:8] = -100.0  # a quarter of the first layer
    model.set_weights(weights)
    report = diagnose(model, *data)
    assert report.layer(model.layers[0].name).dead_share == 0.25
    assert report.ok
    assert not diagnose(model, *data, dead_share=0.2).ok


def test_planted_vanishing_gradients_in_20_sigmoid_layers(data):
    model = deep_sigmoid()
    report = diagnose(model, *data)
    kinds = {f.kind for f in report.findings}
    assert kinds == {"vanishing"}, str(report)
    finding = report.findings[0]
    assert finding.layer == model.layers[0].name
    assert "Vanishing gradients" in finding.message and "relu" in finding.message
    ratios = [h.gradient_ratio for h in report.layers]
    assert ratios[0] < 1e-6 * ratios[-1]


def test_shallow_sigmoid_network_does_not_count_as_vanishing(data):
    assert diagnose(deep_sigmoid(layers=2), *data).ok


def test_saturated_tanh_units(data):
    model = Sequential([Dense(32, activation="tanh", input_shape=(8,), kernel_initializer="ones"),
                        Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    report = diagnose(model, data[0] * 20, data[1])
    assert [f.kind for f in report.findings] == ["saturated"]
    assert report.layers[0].saturated_share > 0.9
    assert "scale" in report.findings[0].message


def test_exploding_gradients_and_too_big_steps(data):
    model = Sequential([Dense(16, activation="relu", input_shape=(8,)), Dense(16), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.build()
    weights = model.get_weights()
    weights[2] *= 1e-4  # a tiny middle layer: the slopes into the first layer grow huge
    model.set_weights(weights)
    report = diagnose(model, data[0], data[1] * 1000)
    kinds = {f.kind for f in report.findings}
    assert "exploding" in kinds and "step" in kinds, str(report)
    assert "clipnorm" in next(f for f in report.findings if f.kind == "exploding").message


def test_diagnose_needs_a_loss_and_known_thresholds(data):
    model = Sequential([Dense(2, input_shape=(8,)), Dense(1)])
    with pytest.raises(NotCompiledError, match="diagnose"):
        diagnose(model, *data)
    assert diagnose(model, *data, loss="mse").ok
    with pytest.raises(TypeError, match="dead_shares"):
        diagnose(healthy(), *data, dead_shares=0.1)


def test_report_as_data(data):
    report = diagnose(with_dead_second_layer(), *data)
    as_dict = report.to_dict()
    assert as_dict["rows"] == 256 and as_dict["findings"][0]["kind"] == "dead"
    frame = report.to_frame()
    assert frame.dead_share.tolist()[:2] == [0.0, 1.0]


# --- the callback ------------------------------------------------------------------------------


def test_callback_reads_training_batches_and_stays_quiet_when_healthy(data):
    messages = []
    watch = Diagnostics(print_fn=messages.append)
    model = healthy()
    model.fit(*data, epochs=3, batch_size=32, verbose=0, callbacks=[watch])
    assert len(watch.reports) == 3 and watch.last.ok
    assert watch.last.rows == 256  # every row of the epoch was seen
    assert messages == []
    ratios = watch.history("gradient_ratio")
    assert set(ratios) == {layer.name for layer in model.layers}
    assert all(len(v) == 3 and all(r > 0 for r in v) for v in ratios.values())


def test_callback_warns_once_about_a_dead_layer(data):
    messages = []
    watch = Diagnostics(print_fn=messages.append)
    model = with_dead_second_layer()
    model.fit(*data, epochs=3, verbose=0, callbacks=[watch])
    assert all(not report.ok for _, report in watch.reports)
    assert len(messages) == 1 and messages[0].startswith("Epoch 1: [dead] Layer")


def test_callback_with_its_own_data_every_other_epoch(data):
    messages = []
    watch = Diagnostics(*data, every=2, verbose=2, print_fn=messages.append)
    deep_sigmoid().fit(*data, epochs=4, verbose=0, callbacks=[watch])
    assert [epoch for epoch, _ in watch.reports] == [1, 3]
    assert all("[vanishing]" in m for m in messages) and len(messages) == 2


def test_callback_arguments_are_checked():
    with pytest.raises(ValueError, match="both `x` and `y`"):
        Diagnostics(x=np.zeros((2, 8)))
    with pytest.raises(ValueError, match="every"):
        Diagnostics(every=0)
    with pytest.raises(ValueError, match="verbose"):
        Diagnostics(verbose=3)
    with pytest.raises(TypeError, match="Unknown threshold"):
        Diagnostics(nonsense=1)
    with pytest.raises(ValueError, match="gradient_ratio"):
        Diagnostics().history("loss")
