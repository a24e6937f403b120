"""Reading CSV files and bundled datasets, and the rule that sorts columns into numbers and text."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import write_csv

from glassnet import datasets
from glassnet.cli.errors import CommandError
from glassnet.cli.tabular import column, dataset_columns, read_csv, read_table


def test_read_csv_keeps_cells_as_stripped_text_and_file_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a, b\n1, x\n\n2,  y\n", encoding="utf-8")
    table = read_csv(path)
    assert table.columns == ["a", "b"]
    assert table.values["b"].tolist() == ["x", "y"]
    assert table.where(1) == "line 4"  # the blank line 3 is skipped but still counted


def test_read_csv_accepts_a_byte_order_mark_and_quoted_commas(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('\ufeffname,n\n"Smith, John",1\n', encoding="utf-8")
    table = read_csv(path)
    assert table.columns == ["name", "n"]
    assert table.values["name"][0] == "Smith, John"


def test_an_unnamed_column_gets_a_name_and_a_note(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["", "a"], [[0, 5], [1, 6]])
    table = read_csv(path)
    assert table.columns == ["unnamed_0", "a"]
    assert "--drop unnamed_0" in table.notes[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("a,b\n", "header line but no data rows"),
        ("a,b\n1,2\n3\n", "line 3: 1 values, but the header has 2 columns"),
        ("a,a\n1,2\n", "more than one column named 'a'"),
    ],
)
def test_malformed_csv_files_are_refused_with_a_reason(tmp_path, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        read_csv(path)


def test_a_binary_file_is_not_read_as_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(CommandError, match="not"):
        read_csv(path)


def test_numeric_and_text_columns_and_missing_cells(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["n", "t", "m"],
                     [["1.5", "red", "1"], ["2", "blue", "NA"], ["-3e2", "red", ""]])
    table = read_csv(path)
    n = column(table, "n")
    assert n.is_numeric and n.numbers.tolist() == [1.5, 2.0, -300.0]
    t = column(table, "t")
    assert not t.is_numeric and t.texts.tolist() == ["red", "blue", "red"]
    m = column(table, "m")
    assert m.is_numeric and m.missing.tolist() == [False, True, True]


def test_text_in_a_mostly_numeric_column_is_an_error_naming_the_cell(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["x"], [["1"], ["2"], ["two"], ["4"]])
    with pytest.raises(CommandError, match=r"column 'x' .* line 4 has the text 'two'"):
        column(read_csv(path), "x")


def test_a_column_of_mostly_text_with_a_few_numbers_is_text(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["x"], [["a"], ["b"], ["3"]])
    assert not column(read_csv(path), "x").is_numeric


def test_an_infinite_number_is_an_error(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["x"], [["1"], ["inf"]])
    with pytest.raises(CommandError, match="infinite value at line 3"):
        column(read_csv(path), "x")


def test_a_missing_column_lists_the_columns_and_the_closest_name(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["survived", "age"], [[1, 2]])
    with pytest.raises(CommandError, match=r"no column 'survivd' \(did you mean 'survived'\?\); "
                                           r"its columns are: survived, age"):
        read_csv(path).column("survivd")


def test_a_bundled_dataset_name_reads_the_dataset():
    table = read_table("wages")
    assert table.dataset == "hourly_wages"
    assert table.rows == 534
    assert table.columns[0] == "wage_per_hour"
    assert column(table, "union").is_numeric


def test_an_existing_file_wins_over_a_dataset_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "wages", ["a", "b"], [[1, 2]])
    assert read_table("wages").columns == ["a", "b"]


def test_unknown_names_suggest_a_dataset_and_missing_paths_say_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match="Did you mean 'titanic'"):
        read_table("titanc")
    with pytest.raises(CommandError, match="no such file: data/x.csv"):
        read_table("data/x.csv")
    with pytest.raises(CommandError, match="is a directory"):
        read_table(str(tmp_path))


@pytest.mark.parametrize("name", datasets.names())
def test_dataset_columns_match_the_loaders_dataframes(name):
    pytest.importorskip("pandas")
    if name == "digits":
        pytest.importorskip("sklearn")
    frame = datasets.load(name)
    assert list(dataset_columns(name)) == list(frame.columns)
    table = read_table(name)
    for col in frame.columns[:5]:
        # as_frame=False gives float32 inputs: equal to float32 precision
        np.testing.assert_allclose(table.values[col], frame[col].to_numpy(dtype=float), rtol=1e-6)
