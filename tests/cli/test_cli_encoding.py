"""How columns become inputs, and how the target decides the output layer and the loss."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import write_csv

from glassnet.cli.encoding import InputColumn, InputEncoding, Target, canonical_loss
from glassnet.cli.errors import CommandError
from glassnet.cli.tabular import read_csv


def table_of(tmp_path, header, rows):
    return read_csv(write_csv(tmp_path / "t.csv", header, rows))


def test_text_columns_become_sorted_one_hot_columns(tmp_path):
    table = table_of(tmp_path, ["age", "sex", "y"], [[30, "male", 1], [40, "female", 0]])
    encoding = InputEncoding.fit(table, exclude=["y"])
    assert encoding.feature_names == ["age", "sex=female", "sex=male"]
    np.testing.assert_array_equal(encoding.transform(table), [[30, 0, 1], [40, 1, 0]])
    assert encoding.notes() == [
        "encoded text column 'sex' as 2 one-hot columns: sex=female, sex=male"]


def test_an_encoding_survives_json_and_matches_columns_by_name(tmp_path):
    train = table_of(tmp_path, ["age", "sex"], [[30, "male"], [40, "female"]])
    encoding = InputEncoding.from_dict(InputEncoding.fit(train, []).to_dict())
    reordered = read_csv(write_csv(tmp_path / "new.csv", ["sex", "extra", "age"],
                                   [["female", "z", 50]]))
    np.testing.assert_array_equal(encoding.transform(reordered), [[50, 1, 0]])


def test_a_category_never_seen_in_training_is_an_error(tmp_path):
    encoding = InputEncoding([InputColumn("sex", "categorical", ("female", "male"))])
    new = table_of(tmp_path, ["sex"], [["male"], ["other"]])
    with pytest.raises(CommandError, match="'other' at line 3, a category the model never "
                                           "saw; it knows: female, male"):
        encoding.transform(new)


def test_text_where_the_model_was_trained_on_numbers_is_an_error(tmp_path):
    encoding = InputEncoding([InputColumn("age", "numeric")])
    new = table_of(tmp_path, ["age"], [["old"], ["older"], ["3"]])
    with pytest.raises(CommandError, match="holds text .*'old' at line 2.* trained on numbers"):
        encoding.transform(new)


def test_missing_input_columns_are_listed(tmp_path):
    encoding = InputEncoding([InputColumn("a", "numeric"), InputColumn("b", "numeric")])
    with pytest.raises(CommandError, match="no input columns 'a', 'b'; its columns are: c"):
        encoding.transform(table_of(tmp_path, ["c"], [[1]]))


def test_a_text_column_with_too_many_values_is_refused(tmp_path):
    table = table_of(tmp_path, ["name"], [[f"person {i}"] for i in range(30)])
    with pytest.raises(CommandError, match="30 different values.*--drop name"):
        InputEncoding.fit(table, [])
    assert len(InputEncoding.fit(table, [], max_categories=30).feature_names) == 30


def test_missing_values_in_an_input_column_are_refused(tmp_path):
    table = table_of(tmp_path, ["a", "b"], [[1, 2], ["", 3], ["NA", 4]])
    with pytest.raises(CommandError, match="missing value at line 3 \\(and 1 more\\)"):
        InputEncoding.fit(table, ["b"])


# --- the target -----------------------------------------------------------------------------


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
