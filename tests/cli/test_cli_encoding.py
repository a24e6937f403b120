"""How the columns of a table become a model's inputs."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import write_csv

from glassnet.cli.encoding import InputColumn, InputEncoding
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
