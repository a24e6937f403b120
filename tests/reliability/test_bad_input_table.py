"""The rows of the bad-input table in docs/reliability.md that no other test covers.

Each test is one row: a bad (or merely unusual) input and glassnet's answer. Rows covered
elsewhere (``tests/test_bad_input.py``, ``tests/saving/test_saving_safety.py``) are named
in the table, not repeated here.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from glassnet.layers import Dense, Input, Reshape
from glassnet.models import DataError, Sequential, load_model
from glassnet.saving import ModelFileError

pd = pytest.importorskip("pandas")

X = np.arange(15.0).reshape(5, 3)
Y = np.arange(5.0).reshape(5, 1)


def compiled(units=1, activation=None, loss="mse"):
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)),
                        Dense(units, activation=activation)])
    model.compile(optimizer="sgd", loss=loss)
    return model


# --- data: types ------------------------------------------------------------------------------


def test_object_array_of_numbers_is_accepted():
    history = compiled().fit(np.array([[1, 2, 3], [4, 5, 6]], dtype=object), [1, 2], verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_object_array_holding_another_object_is_named():
    with pytest.raises(DataError, match="`x` must be numeric, but holds {} of type dict"):
        compiled().fit(np.array([[1, 2, {}], [4, 5, 6]], dtype=object), [1, 2], verbose=0)


@pytest.mark.parametrize("dtype", ["datetime64[D]", "timedelta64[s]"])
@pytest.mark.parametrize("argument", ["x", "y"])
def test_numpy_dates_and_durations_are_refused(dtype, argument):
    dates = np.zeros((5, 3) if argument == "x" else (5,), dtype=dtype)
    x, y = (dates, Y) if argument == "x" else (X, dates)
    message = rf"`{argument}` holds dates or times \({re.escape(dtype)}\)"
    with pytest.raises(DataError, match=message):
        compiled().fit(x, y, verbose=0)


def test_text_targets_are_named():
    with pytest.raises(DataError, match="`y` must be numeric, but holds 'a' at row 0"):
        compiled().fit(X, list("abcde"), verbose=0)


def test_pandas_missing_integer_is_named_with_its_column():
    frame = pd.DataFrame({"age": pd.array([30, None], dtype="Int64"), "b": [1.0, 2.0],
                          "c": [1.0, 2.0]})
    with pytest.raises(DataError, match="`x` contains NaN at row 1, column 'age'"):
        compiled().fit(frame, [1, 2], verbose=0)


def test_pandas_category_column_is_named():
    frame = pd.DataFrame({"port": pd.Categorical(["S", "C"]), "b": [1.0, 2.0], "c": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"column\(s\) 'port' \(category\) are not"):
        compiled().fit(frame, [1, 2], verbose=0)


def test_booleans_are_numbers():
    frame = pd.DataFrame({"alone": [True, False], "b": [1.0, 2.0], "c": [1.0, 2.0]})
    compiled().fit(frame, [1, 2], verbose=0)
    compiled().fit(np.ones((2, 3), dtype=bool), [1, 2], verbose=0)


def test_a_file_name_instead_of_data_is_named():
    """Once an internal IndexError (a 0-d text array), found while writing this table."""
    with pytest.raises(DataError, match="`x` must be an array of rows; received a single str "
                                        "value 'data.csv'. To train from a CSV file, read it"):
        compiled().fit("data.csv", [1], verbose=0)


def test_complex_numbers_are_refused():
    """Once accepted with the imaginary part dropped, found while writing this table."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy ComplexWarning on the way
        with pytest.raises(DataError, match=r"`x` holds complex numbers \(complex128\); "
                                            "glassnet needs real values"):
            compiled().fit(np.ones((2, 3), dtype=complex), [1, 2], verbose=0)


def test_a_scalar_is_named_as_a_single_value():
    with pytest.raises(DataError, match="`x` must be an array of rows; received a single "
                                        "float value 3.0"):
        compiled().predict(3.0, verbose=0)


# --- data: values -----------------------------------------------------------------------------


def test_float16_infinity_is_named():
    with pytest.raises(DataError, match="`x` contains infinity at row 0, column 0"):
        compiled().fit(np.full((5, 3), np.inf, dtype=np.float16), Y, verbose=0)


@pytest.mark.parametrize(("text", "match"), [
    ("1e39", "`x` has a value too large for float32 at row 0, column 0"),
    ("nan", "`x` contains NaN at row 0, column 0"),
])
def test_numbers_written_as_text_are_checked_like_numbers(text, match):
    with pytest.raises(DataError, match=match):
        compiled().fit([[text, "2", "3"]], [1], verbose=0)


def test_targets_beyond_float32_are_named():
    with pytest.raises(DataError, match="`y` has a value too large for float32 at row 0"):
        compiled().fit(X, np.full(5, 1e300), verbose=0)


def test_huge_but_finite_float32_inputs_give_inf_in_predict_as_in_keras():
    """Values within float32 that overflow inside the network are not refused by predict
    or evaluate (Keras returns inf too); fit stops, see test_long_runs.py."""
    huge = np.full((5, 3), 3e38, dtype=np.float32)
    model = compiled()
    model.set_weights([np.ones_like(w) for w in model.get_weights()])  # 3 * 3e38 overflows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isinf(model.predict(huge, verbose=0)).all()
        assert np.isinf(model.evaluate(huge, Y, verbose=0))


# --- data: sizes ------------------------------------------------------------------------------


def test_one_row_trains_and_predicts():
    model = compiled()
    model.fit(X[:1], Y[:1], epochs=2, verbose=0)
    assert model.predict(X[0], verbose=0).shape == (1, 1)  # one row given as a 1-D array


@pytest.mark.parametrize(("units", "activation", "loss", "y"), [
    (1, "sigmoid", "binary_crossentropy", np.zeros(5)),
    (3, "softmax", "sparse_categorical_crossentropy", np.zeros(5, dtype=int)),
])
def test_a_single_class_trains_without_error(units, activation, loss, y):
    """As in Keras: one class is not an error; the model learns to predict it."""
    model = compiled(units, activation, loss)
    history = model.fit(X, y, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert np.isfinite(model.predict(X, verbose=0)).all()


def test_empty_targets_for_real_inputs_are_named():
    with pytest.raises(DataError, match=r"`y` is empty \(shape \(0, 1\)\)"):
        compiled().fit(X, np.ones((0, 1)), verbose=0)


def test_rows_without_columns_are_empty():
    with pytest.raises(DataError, match=r"`x` is empty \(shape \(5, 0\)\)"):
        compiled().fit(np.ones((5, 0)), Y, verbose=0)


def test_validation_targets_of_another_length_are_named():
    with pytest.raises(DataError, match=r"`x` and `validation_data\[1\] \(y_val\)` must have "
                                        "the same number of rows; x has 5"):
        compiled().fit(X, Y, validation_data=(X, Y[:3]), verbose=0)


def test_a_generator_batch_with_nan_is_named():
    with pytest.raises(DataError, match="`x` contains NaN at row 0, column 0"):
        compiled().fit(iter([(np.full((2, 3), np.nan), Y[:2])]), steps_per_epoch=1, verbose=0)


def test_a_generator_batch_of_the_wrong_form_is_named():
    with pytest.raises(ValueError, match=r"must be a tuple \(x, y\) or \(x, y, sample_weight\)"
                                         ". Received: tuple of length 4"):
        compiled().fit(iter([(X, Y, None, None)]), steps_per_epoch=1, verbose=0)


# --- models -----------------------------------------------------------------------------------


def test_predict_before_build_builds_from_the_data_then_holds_to_it():
    model = Sequential([Dense(3), Dense(1)])
    assert model.predict(X, verbose=0).shape == (5, 1)
    with pytest.raises(DataError, match="`x` has 5 columns, but the model expects 3"):
        model.predict(np.ones((2, 5)), verbose=0)


def test_evaluate_before_build_builds_from_the_data():
    model = Sequential([Dense(3), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    assert np.isfinite(model.evaluate(X, Y, verbose=0))


def test_layers_whose_shapes_disagree_are_named():
    model = Sequential([Input(shape=(3,)), Reshape((2, 2)), Dense(1)])
    with pytest.raises(ValueError, match=r"Reshape 'reshape\w*' cannot turn rows of shape "
                                         r"\(3,\) into \(2, 2\)"):
        model.predict(X, verbose=0)


def test_set_weights_with_wrong_shapes_or_count_is_named():
    with pytest.raises(ValueError, match=r"kernel has shape \(3, 4\); received an array of "
                                         r"shape \(4, 3\)"):
        compiled().set_weights([np.ones((4, 3)), np.ones(4), np.ones((4, 1)), np.ones(1)])
    with pytest.raises(ValueError, match=r"The model has 4 weight arrays, received 1"):
        compiled().set_weights([np.ones((3, 4))])


def test_load_weights_needs_a_model_with_an_input_shape(tmp_path):
    compiled().save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match=r"load_weights\(\) needs a built model"):
        Sequential([Dense(4), Dense(1)]).load_weights(tmp_path / "w.weights.h5")


def test_load_weights_of_another_architecture_names_the_layer(tmp_path):
    other = Sequential([Dense(8, input_shape=(4,)), Dense(1)])
    other.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ModelFileError, match=r"kernel should have shape \(3, 4\); the file's "
                                             r".* has shape \(4, 8\)"):
        compiled().load_weights(tmp_path / "w.weights.h5")


def test_saving_a_model_without_an_input_shape_says_how_to_give_one(tmp_path):
    with pytest.raises(ValueError, match="does not know its input shape yet"):
        Sequential([Dense(3)]).save(tmp_path / "m.keras")


# --- files (the other cases of issue 4 are in tests/saving/test_saving_safety.py) -------------


@pytest.mark.parametrize(("name", "match"), [
    ("empty.keras", "not a valid .keras file"),
    ("empty.h5", "not an HDF5 file"),
])
def test_an_empty_file_is_refused(tmp_path, name, match):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(ModelFileError, match=match):
        load_model(tmp_path / name)


def test_a_folder_named_like_a_model_is_refused(tmp_path):
    (tmp_path / "model.keras").mkdir()
    with pytest.raises(ModelFileError, match="is a folder without config.json"):
        load_model(tmp_path / "model.keras")


@pytest.mark.parametrize("name", ["model.pb", "model.txt", "saved_model"])
def test_an_unknown_extension_is_refused(tmp_path, name):
    (tmp_path / name).write_bytes(b"anything")
    with pytest.raises(ModelFileError, match="File format not supported"):
        load_model(tmp_path / name)
