"""``from_node_weights`` and ``trace``: building course networks, reading forward propagation,
and the errors a learner meets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassnet.explain import from_node_weights, trace
from glassnet.layers import Activation, BatchNormalization, Dense, Dropout
from glassnet.models import Sequential

F1 = {"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]}
F6 = {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2], "node_1_1": [1, 2],
      "output": [2, 7]}


# --- from_node_weights ------------------------------------------------------------------------


def test_node_weights_become_kernel_columns():
    model = from_node_weights(F6, hidden_activation="relu")
    kernels = model.get_weights()
    assert [k.shape for k in kernels] == [(2, 2), (2, 2), (2, 1)]
    assert kernels[0][:, 1].tolist() == [4, -5]  # node_0_1: the lines ending at it
    assert kernels[1][:, 0].tolist() == [-1, 2]
    assert [layer.name for layer in model.layers] == ["hidden_0", "hidden_1", "output"]
    assert [layer.activation.name for layer in model.layers] == ["relu", "relu", "linear"]
    assert not any(layer.use_bias for layer in model.layers)
    assert kernels[0].dtype == np.float64


def test_float32_models_are_possible():
    model = from_node_weights(F1, dtype="float32")
    assert model.get_weights()[0].dtype == np.float32
    assert trace(model, [2, 3]).prediction.tolist() == [[9]]


def test_output_only_dict_is_a_network_without_hidden_layer():
    model = from_node_weights({"output": [1, 2]})
    assert len(model.layers) == 1 and model.input_shape == (2,)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"node_0": [1, 1], "output": [1]}, None),  # valid: one hidden node
        ({"node_0": [1, 1], "node_2": [1, 1], "output": [1, 1, 1]}, "missing key 'node_1'"),
        ({"node_0_0": [1, 1], "node_2_0": [1], "output": [1]}, "no node in hidden layer 1"),
        ({"node_0": [1, 1], "node_1": [1, 1, 1], "output": [1, 1]},
         r"weights\['node_1'\] has 3 weights, but the nodes of layer 'hidden' need 2"),
        ({"node_0_0": [1, 1], "node_0_1": [1, 1], "node_1_0": [1, 1, 1], "output": [1]},
         r"weights\['node_1_0'\] has 3 weights.*need 2.*layer 'hidden_0', which has 2 nodes"),
        ({"node_0": [1, 1], "node_1": [1, 1], "output": [1, 1, 1]},
         r"weights\['output'\] has 3 weights, but it needs 2"),
        ({"node_0": [1, 1], "node_1": [1, 1]}, "no key 'output'"),
        ({"node_0": [1], "node_0_1": [1], "output": [1]}, "mix 'node_<i>' keys"),
        ({"node_0": [1, 1], "bias": [1], "output": [1]}, r"Unexpected key\(s\) \['bias'\]"),
        ({"node_0": [[1, 1]], "output": [1]}, r"weights\['node_0'\] must be a 1-D array"),
    ],
)
def test_incomplete_or_mismatched_weights_say_which_key(weights, message):
    if message is None:
        from_node_weights(weights)
        return
    with pytest.raises(ValueError, match=message):
        from_node_weights(weights)


def test_weights_must_be_a_dict_of_numbers():
    with pytest.raises(TypeError, match="must be a dict of node weights"):
        from_node_weights([[1, 1], [2, 2]])
    with pytest.raises(TypeError, match=r"weights\['node_0'\] must be a sequence of numbers"):
        from_node_weights({"node_0": ["a", "b"], "output": [1]})


def test_unknown_activation_is_reported():
    with pytest.raises(ValueError, match="relux"):
        from_node_weights(F1, hidden_activation="relux")


# --- trace --------------------------------------------------------------------------------


def test_trace_of_a_row_with_the_wrong_number_of_features():
    model = from_node_weights(F1)
    with pytest.raises(ValueError, match="a row of 3 values, but the model expects 2 features"):
        trace(model, [2, 3, 4])
    with pytest.raises(ValueError, match="rows of 3 values, but the model expects 2 features"):
        trace(model, [[2, 3, 4]])


def test_trace_rejects_something_that_is_not_a_model():
    with pytest.raises(TypeError, match="expects a glassnet model"):
        trace({"node_0": [1, 1]}, [2, 3])


def test_printed_table_shows_every_node():
    text = str(trace(from_node_weights(F6, hidden_activation="relu"), [3, 5]))
    lines = text.splitlines()
    assert any(line.split()[:5] == ["hidden_0", "node_0_0", "relu", "26", "26"] for line in lines)
    assert any(line.split() == ["node_0_1", "-13", "0"] for line in lines)
    assert lines[-1].strip() == "prediction: 182"


def test_frame_and_dicts_hold_the_same_numbers():
    t = trace(from_node_weights(F6, hidden_activation="relu"), [[3, 5], [1, -1]])
    frame = t.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["row", "layer", "node", "activation", "input", "output"]
    assert len(frame) == 2 * (2 + 2 + 2 + 1)
    hit = frame[(frame.row == 0) & (frame.node == "node_0_1")]
    assert hit.input.tolist() == [-13] and hit.output.tolist() == [0]
    data = t.to_dict()
    assert data["layers"][0]["nodes"]["node_0_0"] == {"input": [26.0, -2.0], "output": [26.0, 0.0]}
    assert data["prediction"][0] == [182.0]
    assert data["inputs"] == {"input_0": [3.0, 1.0], "input_1": [5.0, -1.0]}


def test_dataframe_columns_name_the_inputs():
    model = from_node_weights(F1)
    t = trace(model, pd.DataFrame({"children": [2], "accounts": [3]}))
    assert t.input_names == ["children", "accounts"]
    assert t["accounts"]["output"].tolist() == [3]


def test_unknown_node_and_layer_names_list_the_known_ones():
    t = trace(from_node_weights(F1), [2, 3])
    with pytest.raises(KeyError, match="node_0"):
        t["node_7"]
    with pytest.raises(KeyError, match="hidden"):
        t.layer("nope")


def test_large_layers_are_summarised_in_the_table():
    model = Sequential([Dense(100, activation="relu", input_shape=(3,)), Dense(1)])
    text = trace(model, [1, 2, 3]).format(max_nodes=6)
    assert "... 94 more" in text and "dense" in text
    assert len(text.splitlines()) < 25


def test_trace_matches_predict_for_mixed_layers_and_changes_nothing(rng):
    model = Sequential([
        Dense(6, input_shape=(4,)), BatchNormalization(), Activation("tanh"), Dropout(0.5),
        Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = rng.normal(size=(5, 4))
    model.fit(x, np.eye(3)[[0, 1, 2, 0, 1]], epochs=1, verbose=0)
    before = model.get_weights()
    t = trace(model, x)
    np.testing.assert_array_equal(t.prediction, model.predict(x))
    for layer in t.layers[1:]:
        assert layer.inputs is not None and layer.outputs is not None
    np.testing.assert_array_equal(t.layers[3].outputs, t.layers[2].outputs)  # no dropout
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
