"""Sequential: the stack of layers, building, weights, summary and configs."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.layers import Dense, Dropout, Input
from glassnet.models import Sequential


def small_model():
    return Sequential(
        [
            Input(shape=(4,)),
            Dense(3, activation="relu"),
            Dropout(0.5),
            Dense(2, activation="softmax"),
        ]
    )


def test_glassnet_can_stand_in_for_keras():
    keras = glassnet
    model = keras.models.Sequential()
    model.add(keras.layers.Dense(2, input_shape=(3,)))
    assert keras.Sequential is Sequential
    assert model.count_params() == 3 * 2 + 2


def test_layers_exclude_the_input_layer_and_keep_order():
    model = small_model()
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "Dense"]
    assert model.input_shape == (4,)
    assert model.get_layer(index=1) is model.layers[1]
    assert model.get_layer(model.layers[2].name) is model.layers[2]


def test_count_params_counts_kernels_and_biases():
    assert small_model().count_params() == (4 * 3 + 3) + (3 * 2 + 2)


def test_weights_are_in_keras_order_with_names():
    model = small_model()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(4, 3), (3,), (3, 2), (2,)]
    first, _, last = model.layers
    assert model.weight_names == [
        f"{first.name}/kernel",
        f"{first.name}/bias",
        f"{last.name}/kernel",
        f"{last.name}/bias",
    ]


def test_set_weights_then_get_weights_round_trips(rng):
    model = small_model()
    new = [rng.normal(size=w.shape) for w in model.get_weights()]
    model.set_weights(new)
    for got, expected in zip(model.get_weights(), new, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_get_weights_returns_copies():
    model = small_model()
    weights = model.get_weights()
    weights[0][...] = 42.0
    assert not np.any(model.get_weights()[0] == 42.0)


def test_set_weights_with_a_wrong_count_lists_the_expected_shapes():
    with pytest.raises(
        ValueError, match=r"4 weight arrays, received 1. Expected shapes: \[\(4, 3\)"
    ):
        small_model().set_weights([np.zeros((4, 3))])


def test_set_weights_with_a_wrong_shape_names_the_weight():
    model = small_model()
    bad = [w for w in model.get_weights()]
    bad[2] = np.zeros((2, 3))
    with pytest.raises(
        ValueError, match=r"Weight dense\S*/kernel has shape \(3, 2\); received .* \(2, 3\)"
    ):
        model.set_weights(bad)


def test_pop_removes_the_last_layer_and_a_new_one_can_be_added():
    model = small_model()
    first_kernel = model.get_weights()[0]
    removed = model.pop()
    assert isinstance(removed, Dense)
    model.add(Dense(1))
    assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 1), (1,)]
    np.testing.assert_array_equal(model.get_weights()[0], first_kernel)  # kept through the rebuild


def test_pop_on_an_empty_model_is_an_error():
    with pytest.raises(ValueError, match="no layers in the model to pop"):
        Sequential().pop()


def test_add_rejects_what_is_not_a_layer():
    with pytest.raises(TypeError, match="expects a glassnet layer.*Received: 'dense' of type str"):
        Sequential().add("dense")


def test_input_layer_only_comes_first():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="InputLayer can only be the first"):
        model.add(Input(shape=(3,)))


def test_duplicate_layer_names_are_refused():
    with pytest.raises(ValueError, match="already has a layer named 'hidden'"):
        Sequential([Dense(2, input_shape=(3,), name="hidden"), Dense(2, name="hidden")])


def test_build_with_a_batch_axis():
    model = Sequential([Dense(2), Dense(1)])
    model.build((None, 5))
    assert model.input_shape == (5,)
    assert model.count_params() == (5 * 2 + 2) + (2 + 1)


def test_summary_shows_shapes_and_parameter_counts(capsys):
    model = Sequential()
    model.add(Dense(100, activation="relu", input_shape=(10,)))
    model.add(Dense(1))
    model.summary()
    text = capsys.readouterr().out
    first, second = model.layers
    assert f"{first.name} (Dense)" in text and f"{second.name} (Dense)" in text
    assert "(None, 100)" in text and "(None, 1)" in text
    assert "1,100" in text and "101" in text
    assert "Total params: 1,201" in text
    assert "Trainable params: 1,201" in text
    assert "Non-trainable params: 0" in text


def test_summary_can_go_to_another_printer():
    lines = []
    small_model().summary(print_fn=lines.append)
    assert "Total params: 23" in lines[0]


def test_summary_counts_batch_normalization_statistics_as_non_trainable(capsys):
    model = Sequential([Dense(2, input_shape=(3,)), glassnet.layers.BatchNormalization()])
    model.summary()
    text = capsys.readouterr().out
    assert "Trainable params: 12" in text  # 3*2+2 for Dense, gamma and beta
    assert "Non-trainable params: 4" in text  # moving mean and variance


def test_predict_builds_an_unbuilt_model_from_the_data():
    model = Sequential([Dense(3), Dense(1)])
    out = model.predict(np.ones((5, 7)), verbose=0)
    assert out.shape == (5, 1)
    assert model.input_shape == (7,)
    assert model.count_params() == (7 * 3 + 3) + (3 + 1)


def test_a_single_row_may_be_given_as_a_vector():
    model = Sequential([Dense(1, input_shape=(3,), use_bias=False)])
    model.set_weights([np.array([[1.0], [2.0], [3.0]])])
    np.testing.assert_allclose(model.predict(np.array([1.0, 1.0, 1.0]), verbose=0), [[6.0]])


def test_predict_batches_give_the_same_answer_as_one_pass(rng):
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(2)])
    x = rng.normal(size=(70, 3))
    np.testing.assert_allclose(
        model.predict(x, batch_size=8, verbose=0), model.predict_on_batch(x), rtol=1e-6
    )


def test_predictions_are_float32_by_default(rng):
    model = Sequential([Dense(2, input_shape=(3,))])
    assert model.predict(rng.normal(size=(2, 3)), verbose=0).dtype == np.float32


def test_config_round_trip_rebuilds_the_same_architecture():
    model = small_model()
    again = Sequential.from_config(model.get_config())
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in model.layers]
    assert again.count_params() == model.count_params()
    assert again.get_config() == model.get_config()


def test_from_config_refuses_unknown_layer_classes():
    config = {"name": "m", "layers": [{"class_name": "MyLayer", "config": {}}]}
    with pytest.raises(ValueError, match="Unknown layer class 'MyLayer'. glassnet knows: .*Dense"):
        Sequential.from_config(config)
    lambda_config = {
        "name": "m",
        "layers": [
            {
                "class_name": "Lambda",
                "config": {"function": {"class_name": "__lambda__", "config": {"code": "..."}}},
            }
        ],
    }
    with pytest.raises(ValueError, match="never runs code from a config"):
        Sequential.from_config(lambda_config)
