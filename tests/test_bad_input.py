"""Bad input: each mistake a learner can make gets a ValueError or TypeError at the public
boundary, naming what was expected and what came (and where, for data)."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.layers import Dense
from glassnet.models import DataError, Sequential
from glassnet.utils import to_categorical

X = np.arange(15.0).reshape(5, 3)
Y = np.arange(5.0).reshape(5, 1)


def compiled_model(units=1, activation=None, loss="mse", inputs=3, metrics=None):
    model = Sequential(
        [Dense(4, activation="relu", input_shape=(inputs,)), Dense(units, activation=activation)]
    )
    model.compile(optimizer="sgd", loss=loss, metrics=metrics)
    return model


def test_data_errors_are_value_errors():
    assert issubclass(DataError, ValueError)


# --- shapes of the inputs -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_wrong_number_of_columns_names_both_counts(method):
    model = compiled_model()
    args = (np.ones((5, 4)),) if method == "predict" else (np.ones((5, 4)), Y)
    with pytest.raises(
        DataError, match=r"`x` has 4 columns, but the model expects 3 \(input_shape=\(3,\)\)"
    ):
        getattr(model, method)(*args, verbose=0)


def test_wrong_number_of_dataframe_columns_lists_the_columns():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.ones((5, 2)), columns=["age", "fare"])
    with pytest.raises(
        DataError, match=r"has 2 columns, but the model expects 3.*\['age', 'fare'\]"
    ):
        compiled_model().fit(frame, Y, verbose=0)


def test_rows_of_the_wrong_rank_are_named():
    with pytest.raises(DataError, match=r"`x` has \(3, 1\) row shape, but the model expects 3"):
        compiled_model().fit(np.ones((5, 3, 1)), Y, verbose=0)


def test_ragged_rows_are_named():
    with pytest.raises(DataError, match="`x` must be rectangular; rows have different lengths"):
        compiled_model().fit([[1, 2, 3], [1, 2]], [1, 2], verbose=0)


def test_validation_data_with_wrong_columns_names_the_argument():
    with pytest.raises(DataError, match=r"`validation_data\[0\] \(x_val\)` has 4 columns"):
        compiled_model().fit(X, Y, validation_data=(np.ones((2, 4)), np.ones(2)), verbose=0)


# --- text, None, NaN and infinity -------------------------------------------------------------


def test_text_in_a_list_is_named_with_its_position():
    with pytest.raises(
        DataError, match=r"`x` must be numeric, but holds 'male' at row 1, column 2"
    ):
        compiled_model().fit([[1, 2, 3], [1, 2, "male"]], [1, 2], verbose=0)


def test_none_in_a_list_is_named_with_its_position():
    with pytest.raises(DataError, match=r"`x` must be numeric, but holds None at row 0, column 1"):
        compiled_model().fit([[1, None, 3], [1, 2, 3]], [1, 2], verbose=0)


def test_numbers_written_as_text_are_accepted():
    compiled_model().fit([["1", "2", "3.5"], ["1", "2", "3"]], [1, 2], verbose=0)


def test_text_column_in_a_dataframe_is_named():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"age": [22.0, 38.0], "sex": ["male", "female"], "fare": [7.25, 71.3]})
    with pytest.raises(
        DataError, match=r"`x` must be numeric, but column\(s\) 'sex' \(.*\) are not"
    ):
        compiled_model().fit(frame, [0, 1], verbose=0)


def test_dates_are_refused():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"when": pd.date_range("2020-01-01", periods=2), "a": [1.0, 2.0], "b": 1.0}
    )
    with pytest.raises(DataError, match=r"column\(s\) 'when' \(datetime64"):
        compiled_model().fit(frame, [0, 1], verbose=0)


def test_missing_value_in_a_dataframe_names_row_and_column():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"age": [22.0, None, 30.0], "sibsp": [1.0, 0.0, 0.0], "fare": [7.2, 71.3, 8.0]}
    )
    with pytest.raises(DataError, match=r"`x` contains NaN at row 1, column 'age'"):
        compiled_model().fit(frame, [0, 1, 0], verbose=0)


@pytest.mark.parametrize(
    ("value", "name"), [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]
)
def test_non_finite_inputs_name_row_and_column(value, name):
    x = X.copy()
    x[3, 2] = value
    with pytest.raises(DataError, match=f"`x` contains {name} at row 3, column 2"):
        compiled_model().fit(x, Y, verbose=0)
    with pytest.raises(DataError, match=f"`x` contains {name} at row 3, column 2"):
        compiled_model().predict(x, verbose=0)


def test_non_finite_advice_names_no_command():
    """``predict`` said "fill or drop missing values before training" (issue 22)."""
    x = X.copy()
    x[1, 0] = np.inf
    with pytest.raises(DataError) as caught:
        compiled_model().predict(x, verbose=0)
    assert "training" not in str(caught.value)
    assert str(caught.value).endswith("replace it with a finite value or drop the row")
    x[1, 0] = np.nan
    with pytest.raises(DataError, match="fill or drop the missing values first$"):
        compiled_model().predict(x, verbose=0)


def test_non_finite_targets_name_row_and_column():
    y = Y.copy()
    y[4, 0] = np.nan
    with pytest.raises(DataError, match="`y` contains NaN at row 4, column 0"):
        compiled_model().fit(X, y, verbose=0)


def test_values_beyond_float32_are_named():
    x = X.copy()
    x[0, 1] = 1e300
    with pytest.raises(
        DataError, match=r"`x` has a value too large for float32 at row 0, column 1"
    ):
        compiled_model().fit(x, Y, verbose=0)


def test_empty_data_is_named():
    with pytest.raises(DataError, match=r"`x` is empty \(shape \(0, 3\)\)"):
        compiled_model().fit(np.ones((0, 3)), np.ones((0, 1)), verbose=0)


@pytest.mark.parametrize(("x", "y", "name"), [(None, Y, "x"), (X, None, "y")])
def test_missing_data_is_a_type_error(x, y, name):
    with pytest.raises(TypeError, match=f"`{name}` is required; received None"):
        compiled_model().fit(x, y, verbose=0)


# --- targets that do not fit the output layer or the loss ---------------------------------------


def test_targets_with_too_many_columns_name_both_shapes():
    with pytest.raises(
        DataError, match=r"`y` has shape \(2,\) per row, but the model's output has shape \(1,\)"
    ):
        compiled_model().fit(X, np.ones((5, 2)), verbose=0)


def test_labels_with_categorical_crossentropy_suggest_to_categorical():
    model = compiled_model(3, "softmax", "categorical_crossentropy")
    with pytest.raises(
        DataError,
        match=r"categorical_crossentropy needs one-hot targets: use .*to_categorical\(y\)",
    ):
        model.fit(X, np.array([0, 1, 2, 1, 0]), verbose=0)


def test_one_hot_targets_with_more_classes_than_output_units():
    model = compiled_model(3, "softmax", "categorical_crossentropy")
    with pytest.raises(
        DataError, match=r"`y` has shape \(4,\) per row.*the last layer has 3 units"
    ):
        model.fit(X, to_categorical([0, 1, 2, 3, 0]), verbose=0)


def test_sparse_labels_beyond_the_output_units():
    model = compiled_model(3, "softmax", "sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError, match=r"Class labels must lie in \[0, 2\] for an output of 3 units"
    ):
        model.fit(X, np.array([0, 1, 2, 3, 0]), verbose=0)


def test_sparse_labels_that_are_fractions():
    model = compiled_model(3, "softmax", "sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError, match="expects integer class labels. Received non-integer values such as 0.5"
    ):
        model.fit(X, np.array([0, 1, 0.5, 1, 0]), verbose=0)


def test_one_hot_targets_with_sparse_crossentropy_are_named():
    model = compiled_model(3, "softmax", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\(5, 3\)"):
        model.fit(X, to_categorical([0, 1, 2, 1, 0]), verbose=0)


def test_mismatched_lengths_name_both():
    with pytest.raises(
        DataError, match="`x` and `y` must have the same number of rows; x has 5, y has 4"
    ):
        compiled_model().fit(X, Y[:4], verbose=0)


def test_sample_weight_of_the_wrong_length():
    with pytest.raises(DataError, match="`sample_weight` has 3 values for 5 rows"):
        compiled_model().fit(X, Y, sample_weight=np.ones(3), verbose=0)


# --- order of calls and the model's own shape ---------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "compute_gradients"])
def test_training_before_compile_says_to_compile(method):
    model = Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(Exception, match=rf"You must compile the model before calling {method}\(\)"):
        getattr(model, method)(X, Y)


def test_fit_before_compile_is_a_value_error():
    with pytest.raises(ValueError, match="You must compile the model"):
        Sequential([Dense(1, input_shape=(3,))]).fit(X, Y, verbose=0)


def test_predict_needs_no_compile():
    assert Sequential([Dense(2, input_shape=(3,))]).predict(X, verbose=0).shape == (5, 2)


@pytest.mark.parametrize("method", ["summary", "get_weights", "count_params"])
def test_unbuilt_model_without_input_shape_says_how_to_give_one(method):
    model = Sequential([Dense(3), Dense(1)])
    with pytest.raises(ValueError, match=rf"{method}\(\) needs a built model.*input_shape="):
        getattr(model, method)()


def test_set_weights_on_an_unbuilt_model_says_how_to_give_an_input_shape():
    with pytest.raises(ValueError, match=r"set_weights\(\) needs a built model.*input_shape="):
        Sequential([Dense(3), Dense(1)]).set_weights([np.ones((2, 3))])


def test_build_without_any_input_shape_lists_the_ways_to_give_one():
    with pytest.raises(
        ValueError, match=r"does not know the shape of its input.*input_shape=\(columns,\)"
    ):
        Sequential([Dense(3)]).build()


def test_a_model_without_layers_says_so():
    with pytest.raises(ValueError, match="The model has no layers"):
        Sequential().predict(X, verbose=0)


@pytest.mark.parametrize("shape", [(0,), (-2,), ("3",), (2.5,)])
def test_bad_input_shape_is_named(shape):
    with pytest.raises(
        ValueError, match="`input_shape` must be a positive integer. Received: input_shape="
    ):
        Dense(3, input_shape=shape)


# --- unknown names --------------------------------------------------------------------------


def test_unknown_activation_lists_valid_names_and_the_closest():
    with pytest.raises(
        ValueError,
        match=r"Unknown activation: 'rleu'\. Did you mean 'relu'.*"
        r"Valid activation names are: .*sigmoid",
    ):
        Dense(3, activation="rleu")


def test_unknown_loss_lists_valid_names_and_the_closest():
    model = Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(
        ValueError,
        match=r"Unknown loss: 'mean_squared_eror'\. Did you mean 'mean_squared_error'.*"
        r"Valid loss names are: .*huber",
    ):
        model.compile(optimizer="sgd", loss="mean_squared_eror")


def test_unknown_optimizer_lists_valid_names_and_the_closest():
    model = Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(
        ValueError,
        match=r"Unknown optimizer: 'adamm'\. Did you mean 'Adam'.*Valid optimizer names are: .*SGD",
    ):
        model.compile(optimizer="adamm", loss="mse")


def test_unknown_metric_is_reported_at_compile_time():
    model = Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(
        ValueError, match=r"Unknown metric: 'mea'\. Did you mean .*'mae'.*Valid metric names are:"
    ):
        model.compile(optimizer="sgd", loss="mse", metrics=["mea"])


def test_missing_loss_lists_known_losses():
    model = Sequential([Dense(1, input_shape=(3,))])
    with pytest.raises(
        ValueError, match=r"compile\(\) needs a loss.*Known losses: .*mean_squared_error"
    ):
        model.compile(optimizer="adam")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"optimizer": 3, "loss": "mse"},
            "`optimizer` must be a name, an Optimizer or a config. Received: optimizer=3",
        ),
        (
            {"optimizer": "sgd", "loss": 3},
            "`loss` must be a name, a Loss or a function. Received: loss=3",
        ),
    ],
)
def test_objects_of_the_wrong_type_are_type_errors(kwargs, message):
    with pytest.raises(TypeError, match=message):
        Sequential([Dense(1, input_shape=(3,))]).compile(**kwargs)


# --- arguments of fit -----------------------------------------------------------------------


@pytest.mark.parametrize("split", [1, 1.5, -0.1, "0.2", True])
def test_validation_split_outside_zero_one(split):
    with pytest.raises(
        ValueError,
        match=r"`validation_split` must be a number in \[0, 1\). Received: validation_split=",
    ):
        compiled_model().fit(X, Y, validation_split=split, verbose=0)


def test_validation_split_that_leaves_no_training_rows():
    with pytest.raises(ValueError, match="contains 2 rows, which is not enough to split"):
        compiled_model().fit(X[:2], Y[:2], validation_split=0.9, verbose=0)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "32", True])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_bad_batch_size(batch_size, method):
    model = compiled_model()
    args = (X,) if method == "predict" else (X, Y)
    with pytest.raises(
        ValueError, match="`batch_size` must be a positive integer. Received: batch_size="
    ):
        getattr(model, method)(*args, batch_size=batch_size, verbose=0)


@pytest.mark.parametrize("epochs", [-1, "3", 2.5])
def test_bad_epochs(epochs):
    with pytest.raises(
        ValueError, match="`epochs` must be a non-negative integer. Received: epochs="
    ):
        compiled_model().fit(X, Y, epochs=epochs, verbose=0)


def test_bad_verbose():
    with pytest.raises(
        ValueError, match="`verbose` must be 0, 1, 2 or 'auto'. Received: verbose=5"
    ):
        compiled_model().fit(X, Y, verbose=5)


def test_misspelt_fit_argument_is_a_type_error():
    with pytest.raises(TypeError, match=r"fit\(\) got unexpected keyword argument\(s\): epoch"):
        compiled_model().fit(X, Y, epoch=5, verbose=0)


def test_validation_data_that_is_not_a_pair():
    with pytest.raises(
        ValueError, match=r"`validation_data` must be a tuple \(x_val, y_val\).*Received: ndarray"
    ):
        compiled_model().fit(X, Y, validation_data=X, verbose=0)
