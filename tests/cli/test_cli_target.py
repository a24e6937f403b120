"""How the target column decides the task, the output layer and the loss."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import write_csv

from glassnet.cli.errors import CommandError
from glassnet.cli.tabular import read_csv
from glassnet.cli.target import Target, canonical_loss


def table_of(tmp_path, header, rows):
    return read_csv(write_csv(tmp_path / "t.csv", header, rows))


@pytest.mark.parametrize(
    ("values", "task", "units", "activation", "loss"),
    [
        ([0, 1, 1, 0], "classification", 1, "sigmoid", "binary_crossentropy"),
        (["no", "yes", "no", "no"], "classification", 1, "sigmoid", "binary_crossentropy"),
        ([1.5, 2.5, 1.5, 2.5], "classification", 1, "sigmoid", "binary_crossentropy"),
        ([0, 1, 2, 3], "classification", 4, "softmax", "sparse_categorical_crossentropy"),
        (["a", "b", "c", "a"], "classification", 3, "softmax",
         "sparse_categorical_crossentropy"),
        ([1.5, 2.25, 3.0, 4.0], "regression", 1, "linear", "mean_squared_error"),
    ],
)
def test_the_target_chooses_the_output_layer_and_loss(tmp_path, values, task, units,
                                                      activation, loss):
    table = table_of(tmp_path, ["y"], [[v] for v in values])
    target = Target.infer(table, "y")
    assert (target.task, target.units, target.activation, target.loss) == (
        task, units, activation, loss)


def test_whole_numbers_with_many_values_are_regression(tmp_path):
    table = table_of(tmp_path, ["y"], [[v] for v in range(21)])
    assert Target.infer(table, "y").task == "regression"
    assert Target.infer(table, "y", max_classes=21).task == "classification"


def test_task_and_loss_override_the_choice(tmp_path):
    table = table_of(tmp_path, ["y"], [[v] for v in (0, 1, 2, 1)])
    assert Target.infer(table, "y", task="regression").loss == "mean_squared_error"
    assert Target.infer(table, "y", loss="mae").loss == "mean_absolute_error"
    two = table_of(tmp_path, ["y"], [["no"], ["yes"]])
    cce = Target.infer(two, "y", loss="categorical_crossentropy")
    assert (cce.units, cce.activation) == (2, "softmax")
    np.testing.assert_array_equal(cce.encode(cce.labels(two)), [[1, 0], [0, 1]])


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([1, 1, 1], {}, "only one class \\('1' in all 3 rows\\)"),
        (["yes", "yes"], {}, "only one class"),
        ([2.5, 2.5], {"task": "regression"}, "same value 2.5 in every row"),
        (["a", "b"], {"task": "regression"}, "holds text"),
        ([0, 1, 2], {"loss": "binary_crossentropy"}, "needs a target with two classes"),
        ([0, 1], {"loss": "hinge"}, "does not support loss 'hinge'"),
        ([0, 1], {"loss": "msee"}, "Unknown loss: 'msee'"),
        ([0, 1], {"loss": "mse", "task": "classification"}, "is for regression"),
    ],
)
def test_targets_that_cannot_be_learned_are_refused(tmp_path, values, kwargs, message):
    table = table_of(tmp_path, ["y"], [[v] for v in values])
    with pytest.raises(CommandError, match=message):
        Target.infer(table, "y", **kwargs)


def test_labels_encode_and_decode_round_trip(tmp_path):
    table = table_of(tmp_path, ["y"], [["b"], ["a"], ["c"]])
    target = Target.from_dict(Target.infer(table, "y").to_dict())
    labels = target.labels(table)
    assert labels.tolist() == [1, 0, 2]
    predicted, probabilities = target.decode(np.eye(3)[labels])
    assert predicted == ["b", "a", "c"]
    assert probabilities.shape == (3, 3)


def test_binary_decoding_uses_the_second_class_as_positive(tmp_path):
    target = Target("survived", "classification", "binary_crossentropy", [0, 1])
    predicted, probabilities = target.decode(np.array([[0.9], [0.2]]))
    assert predicted == [1, 0]
    np.testing.assert_allclose(probabilities, [[0.1, 0.9], [0.8, 0.2]])


def test_an_unknown_class_in_new_data_is_an_error(tmp_path):
    target = Target("y", "classification", "binary_crossentropy", ["no", "yes"])
    with pytest.raises(CommandError, match="'maybe' at line 3, a class the model does not know"):
        target.labels(table_of(tmp_path, ["y"], [["no"], ["maybe"]]))


def test_canonical_loss_names():
    assert canonical_loss("MSE") == "mean_squared_error"
    assert canonical_loss("scce") == "sparse_categorical_crossentropy"
