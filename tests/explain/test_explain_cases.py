"""The course's worked cases F1–F6, F4b and G1–G5, exactly, through the public explain API.

Numbers are those of ``shared/course-cases.md``; each comment says what the course computes
by hand. Whole numbers are compared with ``==``; the tanh cases against the course's own
float64 expression (and its printed digits).
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.explain import from_node_weights, slopes, step, trace

F1 = {"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]}
F2 = {"node_0": [2, 4], "node_1": [4, -5], "output": [2, 7]}
F4B = {"node_0": [3, 3], "node_1": [1, 5], "output": [2, -1]}
F6 = {"node_0_0": [2, 4], "node_0_1": [4, -5], "node_1_0": [-1, 2], "node_1_1": [1, 2],
      "output": [2, 7]}
# G4/G5: the course's deeper network, with inputs chosen so that the nodes take the values
# of its picture: first hidden layer [0, 1], second [1, 3], output weights [1, 2].
G45 = {"node_0_0": [1, -1], "node_0_1": [-1, 1], "node_1_0": [1, 1], "node_1_1": [2, 3],
       "output": [1, 2]}


# --- forward propagation --------------------------------------------------------------------


def test_f1_identity_network_hidden_5_1_prediction_9():
    t = trace(from_node_weights(F1), [2, 3])
    assert t.layer("hidden").outputs.tolist() == [[5, 1]]  # 2*1 + 3*1, 2*-1 + 3*1
    assert t["node_0"]["output"].tolist() == [5]
    assert t["node_1"]["output"].tolist() == [1]
    assert t.prediction.tolist() == [[9]]  # 5*2 + 1*-1


def test_f2_identity_network_predicts_minus_39():
    assert trace(from_node_weights(F2), [3, 5]).prediction.tolist() == [[-39]]


def test_f3_relu_hidden_layer_predicts_52():
    t = trace(from_node_weights(F2, hidden_activation="relu"), [3, 5])
    assert t["node_1"]["input"].tolist() == [-13]  # 3*4 + 5*-5, before ReLU
    assert t["node_1"]["output"].tolist() == [0]
    assert t.prediction.tolist() == [[52]]  # 26*2 + 0*7


def test_f4_tanh_on_f1_network_is_the_printed_value():
    t = trace(from_node_weights(F1, hidden_activation="tanh"), [2, 3])
    expected = (np.array([np.tanh(5), np.tanh(1)]) * np.array([2, -1])).sum()
    assert t.prediction[0, 0] == expected
    assert t.prediction[0, 0] == pytest.approx(1.2382242525694254, rel=0, abs=1e-15)


def test_f4b_tanh_listing_own_numbers():
    t = trace(from_node_weights(F4B, hidden_activation="tanh"), [-1, 2])
    assert t.layer("hidden").node_inputs.tolist() == [[3, 9]]
    expected = (np.array([np.tanh(3), np.tanh(9)]) * np.array([2, -1])).sum()
    assert t.prediction[0, 0] == expected
    assert t.prediction[0, 0] == pytest.approx(0.99010953783342, rel=0, abs=1e-14)


def test_f5_relu_network_on_four_rows():
    rows = [[3, 5], [1, -1], [0, 0], [8, 4]]
    t = trace(from_node_weights(F2, "relu", "relu"), rows)
    assert t.prediction.ravel().tolist() == [52, 63, 0, 148]
    assert t["output"]["output"].tolist() == [52, 63, 0, 148]


def test_f6_two_hidden_layers_first_layer_26_0_prediction_182():
    t = trace(from_node_weights(F6, hidden_activation="relu"), [3, 5])
    assert t.layer("hidden_0").outputs.tolist() == [[26, 0]]
    assert t.layer("hidden_0").node_inputs.tolist() == [[26, -13]]
    assert t.layer("hidden_1").outputs.tolist() == [[0, 26]]  # relu(-26), relu(26)
    assert t["node_1_1"]["output"].tolist() == [26]
    assert t.prediction.tolist() == [[182]]  # 0*2 + 26*7


# --- gradient descent and backpropagation ---------------------------------------------------


def test_g1_error_4_and_better_weights_predict_13():
    model = from_node_weights(F1)
    prediction = trace(model, [2, 3]).prediction[0, 0]
    assert prediction == 9
    assert 13 - prediction == 4  # the course's "13 minus 9"
    assert slopes(model, [2, 3], [13], loss="mse").error.tolist() == [[-4]]  # prediction - target
    better = from_node_weights({**F1, "output": [3, -2]})
    assert trace(better, [2, 3]).prediction.tolist() == [[13]]


def test_g2_slope_minus_8_weight_slope_minus_24_new_weight_2_24():
    model = from_node_weights({"output": [2]})  # one weight, 2, from a node of value 3
    s = slopes(model, [3], [10], loss="mean_squared_error")
    assert s.prediction.tolist() == [[6]]
    assert s.prediction_slope.tolist() == [[-8]]  # 2 * (6 - 10)
    assert s["output/kernel"].tolist() == [[-24]]  # -8 * 3
    layer = s.layer("output")
    assert layer.x.tolist() == [[3]] and layer.activation_slope.tolist() == [[1]]
    update = step(model, [3], [10], learning_rate=0.01, loss="mean_squared_error")
    assert update["output/kernel"][0, 0] == 2 - 0.01 * -24
    assert update["output/kernel"][0, 0] == pytest.approx(2.24, abs=1e-15)
    assert model.get_weights()[0][0, 0] == update["output/kernel"][0, 0]  # applied


def test_g3_two_weights_gradient_30_40_error_5_to_2_5():
    model = from_node_weights({"output": [1, 2]})
    update = step(model, [3, 4], [6], learning_rate=0.01, loss="mean_squared_error")
    assert update.before.prediction.tolist() == [[11]]
    assert update.before.error.tolist() == [[5]]
    assert update.before["output/kernel"].ravel().tolist() == [30, 40]  # 2 * 5 * [3, 4]
    new = update["output/kernel"].ravel()
    assert new.tolist() == (np.array([1.0, 2.0]) - 0.01 * np.array([30.0, 40.0])).tolist()
    assert new == pytest.approx([0.7, 1.6], abs=1e-15)
    assert update.after.prediction[0, 0] == pytest.approx(8.5, abs=1e-14)
    assert update.after.error[0, 0] == pytest.approx(2.5, abs=1e-14)
    assert update.loss_before == 25 and update.loss_after == pytest.approx(6.25, abs=1e-13)


def _g45_slopes():
    model = from_node_weights(G45, hidden_activation="relu", output_activation="relu")
    t = trace(model, [1, 2])
    assert t.layer("hidden_0").outputs.tolist() == [[0, 1]]
    assert t.layer("hidden_1").outputs.tolist() == [[1, 3]]
    assert t.prediction.tolist() == [[7]]  # 1*1 + 3*2; target 4, error 3
    return slopes(model, [1, 2], [4], loss="mean_squared_error")


def test_g4_last_layer_slopes_6_and_18():
    s = _g45_slopes()
    out = s.layer("output")
    assert s.prediction_slope.tolist() == [[6]]  # 2 x error 3
    assert out.activation_slope.tolist() == [[1]]  # output node positive: ReLU slope 1
    assert out.x.tolist() == [[1, 3]]
    assert s["output/kernel"].ravel().tolist() == [6, 18]  # 1*6*1, 3*6*1


def test_g5_one_layer_back_slopes_0_and_6():
    s = _g45_slopes()
    hidden = s.layer("hidden_1")
    assert hidden.grad_a[0, 0] == 6  # slope of the loss at the top node: weight 1 x 6
    assert hidden.activation_slope[0, 0] == 1  # positive input: ReLU slope 1
    assert hidden.x.tolist() == [[0, 1]]  # the nodes feeding it
    assert s["hidden_1/kernel"][:, 0].tolist() == [0, 6]  # 0*6*1, 1*6*1
    rows = [r for r in s.records() if r["layer"] == "hidden_1" and r["to"] == "node_1_0"]
    assert [(r["node_value"], r["loss_slope"], r["activation_slope"], r["product"])
            for r in rows] == [(0, 6, 1, 0), (1, 6, 1, 6)]


def test_slope_at_a_node_is_the_sum_over_the_weights_out_of_it():
    s = _g45_slopes()
    # node_1_1 (value 3) feeds the output by weight 2: 2 x 6 = 12
    assert s.layer("hidden_1").grad_a.tolist() == [[6, 12]]
    out = s.layer("output")
    assert np.array_equal(s.layer("hidden_1").grad_a, out.grad_z @ out.weights["kernel"].value.T)
