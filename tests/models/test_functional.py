"""The functional API: ``Input``, layers called on symbolic tensors, ``Model(inputs, outputs)``.

Keras's behaviour is the reference (``keras/src/models/functional.py``,
``keras/src/ops/function.py``); the Keras-oracle cases are in ``test_functional_keras.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient
from numerics import assert_float32_close

import glassnet as keras
from glassnet import layers
from glassnet.models import Functional


def two_input_two_output(shared: bool = False):
    """Inputs ``a`` (3 columns) and ``b`` (2), a shared or separate hidden layer, outputs
    ``out_reg`` (1 value) and ``out_cls`` (3 classes)."""
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(2,), name="b")
    to_hidden = layers.Dense(4, activation="tanh", name="hidden")
    ha = to_hidden(a)
    hb = to_hidden(layers.Dense(3, name="widen")(b)) if shared else layers.Dense(4)(b)
    reg = layers.Dense(1, name="out_reg")(ha)
    cls = layers.Dense(3, activation="softmax", name="out_cls")(hb)
    return keras.Model([a, b], [reg, cls], name="two_way")


def data(rows: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = [rng.normal(size=(rows, 3)), rng.normal(size=(rows, 2))]
    y = [rng.normal(size=(rows, 1)), rng.integers(0, 3, rows)]
    return x, y


def test_input_is_a_symbolic_tensor_and_a_layer_call_gives_another():
    x = keras.Input(shape=(3,), name="features")
    assert x.shape == (None, 3) and x.dtype == "float32" and x.name == "features"
    dense = layers.Dense(4)
    y = dense(x)
    assert y.shape == (None, 4)
    assert dense.input is x and dense.output is y
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(y)


def test_model_of_inputs_and_outputs_is_functional_and_computes_the_layers():
    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(4, activation="relu")(inputs)
    outputs = layers.Dense(2)(hidden)
    model = keras.Model(inputs, outputs)
    assert isinstance(model, Functional) and isinstance(model, keras.Model)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense"]
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    k1, b1, k2, b2 = model.get_weights()
    expected = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    assert_float32_close(model.predict(x, verbose=0), expected, depth=2, fan_in=4)
    assert_float32_close(np.asarray(model(x)), expected, depth=2, fan_in=4)


def test_shared_layer_shares_its_weights_and_sums_its_slopes(float64):
    model = two_input_two_output(shared=True)
    hidden = model.get_layer("hidden")
    assert sum(layer is hidden for layer in model.layers) == 1
    assert len(model.trainable_weights) == 2 * 4  # hidden, widen, out_reg, out_cls
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"],
                  loss_weights=[1.0, 0.5])
    x, y = data()

    def loss():
        return model.compute_gradients(x, y)[0]

    _, grads = model.compute_gradients(x, y)
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        assert_gradient_close(grad, numerical_gradient(loss, weight), rtol=1e-5, atol=1e-8)


def test_fit_names_each_outputs_loss_and_metrics_as_keras_3():
    model = two_input_two_output()
    model.compile(
        optimizer="adam",
        loss={"out_reg": "mse", "out_cls": "sparse_categorical_crossentropy"},
        loss_weights={"out_reg": 1.0, "out_cls": 0.5},
        metrics={"out_reg": ["mae"], "out_cls": ["accuracy"]},
    )
    x, y = data()
    history = model.fit({"a": x[0], "b": x[1]}, {"out_reg": y[0], "out_cls": y[1]}, epochs=2,
                        verbose=0, validation_split=0.25)
    # The keys Keras 3.15 logs for this model (run under TensorFlow).
    assert list(history.history) == [
        "loss", "out_cls_accuracy", "out_cls_loss", "out_reg_loss", "out_reg_mae",
        "val_loss", "val_out_cls_accuracy", "val_out_cls_loss", "val_out_reg_loss",
        "val_out_reg_mae",
    ]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["out_reg_loss"] + 0.5 * logs["out_cls_loss"],
                                         rel=1e-6)
    reg, cls = model.predict(x, verbose=0)
    assert reg.shape == (12, 1) and cls.shape == (12, 3)


def test_a_layer_built_for_one_shape_refuses_another_naming_both():
    dense = layers.Dense(2, name="d")
    dense(keras.Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"'d'.*\(None, 3\).*\(None, 5\)"):
        dense(keras.Input(shape=(5,)))


def test_an_output_not_computed_from_the_inputs_is_refused():
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(3,), name="b")
    out = layers.Dense(1)(b)
    with pytest.raises(ValueError, match="Graph disconnected.*'b'"):
        keras.Model(a, out)


def test_an_unused_input_is_refused():
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(3,), name="unused")
    with pytest.raises(ValueError, match="'unused' is not used"):
        keras.Model([a, b], layers.Dense(1)(a))


def test_a_data_key_that_names_no_input_is_refused_before_any_step():
    model = two_input_two_output()
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"])
    x, y = data()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"'c'.*\['a', 'b'\]"):
        model.fit({"a": x[0], "c": x[1]}, y, verbose=0)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_feature_extraction_model_reuses_the_trained_layers():
    model = two_input_two_output()
    features = keras.Model(model.inputs[0], model.get_layer("hidden").output)
    x, _ = data()
    k, b = model.get_layer("hidden").get_weights()
    assert_float32_close(features.predict(x[0], verbose=0), np.tanh(x[0] @ k + b), depth=1,
                         fan_in=3)


def test_a_model_used_as_a_layer_shares_its_weights_both_ways():
    encoder = keras.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                                layers.Dense(2)])
    encoder.build()
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    siamese = keras.Model([a, b], [encoder(a), encoder(b)])
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    siamese.compile(optimizer="sgd", loss="mse")
    siamese.fit([x1, x2], [x1[:, :2], x2[:, :2]], epochs=2, verbose=0)
    assert_float32_close(siamese.predict([x1, x2], verbose=0)[0], encoder.predict(x1, verbose=0),
                         depth=2, fan_in=4)
    encoder.compile(optimizer="sgd", loss="mse")
    encoder.fit(x1, x1[:, :2], epochs=2, verbose=0)
    assert_float32_close(siamese.predict([x1, x2], verbose=0)[1], encoder.predict(x2, verbose=0),
                         depth=2, fan_in=4)


def test_summary_shows_keras_connected_to_column(capsys):
    model = two_input_two_output(shared=True)
    model.summary()
    text = capsys.readouterr().out
    assert "Connected to" in text
    assert "a[0][0], widen[0][0]" in text  # the shared layer's two calls
    assert "out_cls (Dense)" in text


def test_layers_follow_keras_order_for_a_shared_layer():
    # keras.Model([a, b], [o, h]).layers under Keras 3.15 for this graph.
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    shared = layers.Dense(2, name="shared")
    h = shared(a)
    o = shared(layers.Dense(3, name="dense_x")(layers.Dense(2, name="dense_w")(b)))
    model = keras.Model([a, b], [o, h])
    assert [layer.name for layer in model.layers] == ["b", "dense_w", "dense_x", "a", "shared"]


def test_config_round_trip_rebuilds_the_same_graph():
    model = two_input_two_output(shared=True)
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x, _ = data()
    for ours, theirs in zip(model.predict(x, verbose=0), clone.predict(x, verbose=0),
                            strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_functional_models_save_and_load_the_same_numbers(tmp_path, suffix):
    model = two_input_two_output(shared=True)
    model.compile(optimizer="adam", loss=["mse", "sparse_categorical_crossentropy"])
    x, y = data()
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / f"model{suffix}"
    if suffix == ".weights.h5":
        model.save_weights(path)
        loaded = keras.Model.from_config(model.get_config())
        loaded.load_weights(path)
    else:
        model.save(path)
        loaded = keras.models.load_model(path)
    assert isinstance(loaded, Functional)
    for ours, theirs in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0),
                            strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_plot_model_draws_one_box_per_layer_and_one_arrow_per_connection(tmp_path):
    pytest.importorskip("matplotlib")
    from glassnet.utils.model_plot import _edges

    model = two_input_two_output(shared=True)
    path = tmp_path / "model.png"
    figure = keras.utils.plot_model(model, to_file=str(path), show_shapes=True, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    layers_drawn, edges = _edges(model)
    names = [layer.name for layer in layers_drawn]
    assert {(names[a], names[b]) for a, b in edges} == {
        ("a", "hidden"), ("b", "widen"), ("widen", "hidden"), ("hidden", "out_reg"),
        ("hidden", "out_cls"),
    }
    assert len(figure.axes[0].patches) == len(model.layers)


def test_the_glass_box_names_each_weight_by_the_node_that_feeds_it_in_a_graph():
    from glassnet import explain

    a = keras.Input(shape=(2,), name="a")
    left = layers.Dense(2, activation="relu", name="left")(a)
    right = layers.Dense(2, activation="tanh", name="right")(a)
    joined = layers.Concatenate(name="join")([left, right])
    model = keras.Model(a, layers.Dense(1, name="out")(joined))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((2, 2)), np.ones((2, 1))
    report = explain.slopes(model, x, y)
    by_layer = {ls.name: ls for ls in report.layers}
    assert by_layer["right"].input_names == ["input_0", "input_1"]
    assert by_layer["out"].input_names == ["join[0]", "join[1]", "join[2]", "join[3]"]
    _, grads = model.compute_gradients(x, y)
    slopes = {w.path: g for w, g in zip(model.trainable_weights, grads, strict=True)}
    np.testing.assert_array_equal(by_layer["right"].weights["kernel"].slope,
                                  slopes["right/kernel"])
    trace = explain.trace(model, x[:1])
    assert [lt.name for lt in trace.layers] == ["left", "right", "join", "out"]


def test_plot_network_draws_a_chain_graph_and_refuses_a_branching_one():
    pytest.importorskip("matplotlib")
    from glassnet import explain

    inputs = keras.Input(shape=(3,))
    chain = keras.Model(inputs, layers.Dense(1)(layers.Dense(2, activation="relu")(inputs)))
    assert explain.plot_network(chain, x=np.ones((1, 3))) is not None
    left = layers.Dense(2, name="left")(inputs)
    right = layers.Dense(2, name="right")(inputs)
    branching = keras.Model(inputs, layers.Dense(1)(layers.Concatenate()([left, right])))
    with pytest.raises(ValueError, match="'right' is fed by other nodes.*plot_model"):
        explain.plot_network(branching, x=np.ones((1, 3)))
